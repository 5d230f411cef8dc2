/* Process helpers of the multi-process tests (test_shared_*.c): fork a worker running a function,
 * and collect its exit status. Workers report failures through that status (a cmocka assert in a
 * child would not reach the runner). Include after <cmocka.h>. */
#ifndef PMX_SHARED_TEST_UTIL_H
#define PMX_SHARED_TEST_UTIL_H

#include <errno.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "promex/shared.h"

/* Options for a test's mapping of `max` bytes. Under valgrind it is backed in full at once:
 * memcheck's leak check at each process's exit reads the whole mapping, and every page past the
 * backed part costs it a fault (minutes for a large reservation). */
static inline pmx_shared_opts_t mp_opts(size_t max) {
  pmx_shared_opts_t o = {.max_bytes = max, .initial_bytes = 0};
  if (getenv("PMX_UNDER_VALGRIND") != NULL) o.initial_bytes = max;
  return o;
}

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
