/* The runtime in multi-process mode: pmx_prepare_shared's refusals (wrong order, twice), and a
 * forked child's calls into the master's instance (clear errors, never a hang), while the events
 * it emits reach the series the master's runtime renders. The forking test runs last: after a
 * fork, this process can define no shared metric any more. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rt_test_util.h"

static int mp_event(const pmx_plugin_ctx_t *ctx, pmx_groups_t *out) {
  (void)ctx;
  const pmx_metric_def_t m[] = {{.kind = PMX_COUNTER, .name = "requests.total",
                                 .event_name = "mp.request", .description = "Requests."}};
  return pmx_groups_add_event(out, "mp_event_metrics", m, 1);
}
static const pmx_plugin_t mp_plugin = {PMX_PLUGIN_ABI, "mp", mp_event, NULL, NULL, {0}};

#define REQUESTS "t_prom_ex_mp_requests_total"

static pmx_t *new_instance(rt_log_t *log) {
  static pmx_plugin_use_t use = {.plugin = &mp_plugin};
  pmx_config_t cfg;
  rt_config(&cfg, &use, 1, log);
  cfg.metrics_server.enabled = true;
  cfg.metrics_server.port = 0;
  pmx_t *p = NULL;
  pmx_error_t err;
  assert_int_equal(pmx_new(&cfg, &p, &err), PMX_OK);
  return p;
}

static pmx_shared_opts_t small_mapping(void) {
  pmx_shared_opts_t o = {.max_bytes = 8u << 20, .initial_bytes = 0};
  if (getenv("PMX_UNDER_VALGRIND") != NULL) o.initial_bytes = o.max_bytes;
  return o;
}

static void test_prepare_after_start_is_refused(void **state) {
  (void)state;
  rt_log_t log;
  pmx_t *p = new_instance(&log);
  pmx_error_t err;
  assert_int_equal(pmx_start(p, &err), PMX_OK);
  pmx_shared_opts_t o = small_mapping();
  assert_int_equal(pmx_prepare_shared(p, &o, &err), PMX_ESTATE);
  assert_non_null(strstr(err.text, "before pmx_start"));
  assert_true(pmx_running(p)); /* the refusal changed nothing */
  assert_int_equal(pmx_stop(p), PMX_OK);
  assert_int_equal(pmx_prepare_shared(NULL, &o, &err), PMX_EINVAL);
  pmx_destroy(p);
  /* The worker table's listing: bad arguments, and no mapping in this process yet. */
  size_t n = 99;
  pid_t pids[4];
  assert_int_equal(pmx_shared_workers(pids, 4, NULL), PMX_EINVAL);
  assert_int_equal(pmx_shared_workers(NULL, 4, &n), PMX_EINVAL);
  assert_int_equal(pmx_shared_workers(pids, 4, &n), PMX_ESTATE);
  assert_int_equal(n, 99); /* untouched on error */
}

static void *wait_on_pipe(void *arg) {
  char c;
  if (read(*(int *)arg, &c, 1) < 0) return NULL;
  return NULL;
}

static void test_prepare_with_threads_running_is_refused(void **state) {
  (void)state;
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, wait_on_pipe, &fds[0]), 0);
  rt_log_t log;
  pmx_t *p = new_instance(&log);
  pmx_error_t err;
  pmx_shared_opts_t o = small_mapping();
  assert_int_equal(pmx_prepare_shared(p, &o, &err), PMX_ESTATE);
  assert_non_null(strstr(err.text, "before threads start"));
  assert_null(pmx_registry(p)); /* nothing left prepared */
  assert_int_equal(write(fds[1], "x", 1), 1);
  pthread_join(th, NULL);
  close(fds[0]);
  close(fds[1]);
  /* The same instance prepares once the thread is gone. */
  assert_int_equal(pmx_prepare_shared(p, &o, &err), PMX_OK);
  pmx_destroy(p);
}

static void test_prepare_twice_is_refused(void **state) {
  (void)state;
  rt_log_t log;
  pmx_t *p = new_instance(&log);
  pmx_error_t err;
  pmx_shared_opts_t o = small_mapping();
  assert_int_equal(pmx_prepare_shared(p, &o, &err), PMX_OK);
  assert_true(pmx_shared_enabled(pmx_registry(p)));
  assert_int_equal(pmx_prepare_shared(p, &o, &err), PMX_ESTATE);
  assert_non_null(strstr(err.text, "already prepared"));
  /* The master joined the worker table when it prepared. */
  size_t n = 0;
  pid_t pids[4];
  assert_int_equal(pmx_shared_workers(pids, 4, &n), PMX_OK);
  assert_int_equal(n, 1);
  assert_int_equal(pids[0], getpid());
  /* A second instance cannot share a second mapping in the same process. */
  rt_log_t log2;
  pmx_t *q = new_instance(&log2);
  assert_int_equal(pmx_prepare_shared(q, &o, &err), PMX_EEXIST);
  assert_null(pmx_registry(q)); /* nothing left prepared */
  pmx_destroy(q);
  /* Start, stop and start again serve the same registry, which stop keeps. */
  assert_int_equal(pmx_start(p, &err), PMX_OK);
  pmx_emit_name(pmx_bus(p), "mp.request", NULL, 0, NULL, 0);
  assert_int_equal(pmx_stop(p), PMX_OK);
  pmx_emit_name(pmx_bus(p), "mp.request", NULL, 0, NULL, 0); /* still counted: shared series */
  assert_int_equal(pmx_start(p, &err), PMX_OK);
  assert_true(rt_value(p, REQUESTS) == 2.0);
  assert_int_equal(pmx_start(p, &err), PMX_ESTATE);
  pmx_destroy(p); /* stops, then frees the registry and drops the mapping */
  /* With the mapping gone, the process may prepare again (it has not forked yet). */
  pmx_t *r = new_instance(&log);
  assert_int_equal(pmx_prepare_shared(r, &o, &err), PMX_OK);
  pmx_destroy(r);
}

/* The child's checks; its exit status names the first that failed. */
static int child_body(pmx_t *p, int n_events) {
  alarm(20); /* a hang becomes a SIGALRM exit status, not a stuck test */
  pmx_error_t err;
  if (pmx_running(p)) return 2;
  if (pmx_metrics_port(p) != 0) return 3;
  if (pmx_start(p, &err) != PMX_ESTATE || strstr(err.text, "forked child") == NULL) return 4;
  if (pmx_stop(p) != PMX_ESTATE) return 5;
  pmx_buf_t buf;
  memset(&buf, 0, sizeof buf);
  if (pmx_get_metrics(p, PMX_FORMAT_TEXT, &buf) != PMX_ESTOPPED) return 6;
  if (pmx_refresh_manual_metrics(p) != PMX_ESTOPPED) return 7;
  if (pmx_prepare_shared(p, NULL, &err) != PMX_ESTATE) return 8;
  if (pmx_registry(p) == NULL) return 9; /* the shared registry is every process's */
  for (int i = 0; i < n_events; i++) pmx_emit_name(pmx_bus(p), "mp.request", NULL, 0, NULL, 0);
  pmx_destroy(p); /* frees nothing: the master's instance */
  return 0;
}

static int reap(pid_t pid) {
  int st = 0;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
}

static void test_child_gets_errors_and_its_events_count(void **state) {
  (void)state;
  rt_log_t log;
  pmx_t *p = new_instance(&log);
  pmx_error_t err;
  pmx_shared_opts_t o = small_mapping();
  assert_int_equal(pmx_prepare_shared(p, &o, &err), PMX_OK);
  /* A worker forked before the runtime starts, and one forked while it serves. */
  pid_t a = fork();
  assert_true(a >= 0);
  if (a == 0) _exit(child_body(p, 30));
  assert_int_equal(reap(a), 0);
  assert_int_equal(pmx_start(p, &err), PMX_OK);
  /* Forked from a threaded master, this one reports through a pipe and is SIGKILL'd: it must
   * not run exit-time checks (valgrind's leak check would count what the master's threads held
   * at the fork as its own losses). */
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  pid_t b = fork();
  assert_true(b >= 0);
  if (b == 0) {
    char rc = (char)child_body(p, 12);
    if (write(fds[1], &rc, 1) != 1) _exit(1);
    for (;;) pause();
  }
  char rc = -1;
  assert_int_equal(read(fds[0], &rc, 1), 1);
  close(fds[0]);
  close(fds[1]);
  kill(b, SIGKILL);
  assert_int_equal(reap(b), 128 + SIGKILL);
  assert_int_equal(rc, 0);
  pmx_shared_worker_exited(a);
  pmx_shared_worker_exited(b);
  assert_true(rt_value(p, REQUESTS) == 42.0);
  char body[65536];
  assert_int_equal(rt_http_get(pmx_metrics_port(p), "/metrics", body, sizeof body), 200);
  assert_non_null(strstr(body, REQUESTS " 42\n"));
  assert_int_equal(pmx_stop(p), PMX_OK);
  pmx_destroy(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_prepare_after_start_is_refused),
      cmocka_unit_test(test_prepare_with_threads_running_is_refused),
      cmocka_unit_test(test_prepare_twice_is_refused),
      cmocka_unit_test(test_child_gets_errors_and_its_events_count),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
