/* Process helpers of the multi-process tests (test_shared_*.c): fork a worker running a function,
 * and collect its exit status. Workers report failures through that status (a cmocka assert in a
 * child would not reach the runner). Include after <cmocka.h>. */
#ifndef PMX_SHARED_TEST_UTIL_H
#define PMX_SHARED_TEST_UTIL_H

#include <errno.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* A worker's body: returns 0 when all its checks passed, else a code naming the failed one. */
typedef int (*mp_child_fn)(void *ctx, int id, int fd);

/* Forks a process that runs fn(ctx, id, fd) and exits with its result. */
static inline pid_t mp_spawn(mp_child_fn fn, void *ctx, int id, int fd) {
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) _exit(fn(ctx, id, fd));
  return pid;
}

/* Reaps `pid`: its exit code, or 128 + the signal that killed it. */
static inline int mp_wait(pid_t pid) {
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return WEXITSTATUS(st);
}

#endif
