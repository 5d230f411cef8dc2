/* The process plugin in multi-process mode, run by the master's runtime: the worker count, the
 * group's resident memory against the sum read from /proc here, and a CPU counter that covers
 * the workers and does not go back when one is killed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "promex/plugins/process.h"
#include "rt_test_util.h"

#define WORKERS "t_prom_ex_process_workers"
#define RESIDENT "t_prom_ex_process_memory_resident_bytes"
#define CPU_USER "t_prom_ex_process_cpu_seconds_total{mode=\"user\"}"
#define CPU_SYSTEM "t_prom_ex_process_cpu_seconds_total{mode=\"system\"}"
#define TOUCH_BYTES (16u << 20)

/* Uses CPU and memory, reports, then waits to be killed. */
static void worker(int report_fd) {
  alarm(30);
  /* volatile: the compiler may not drop writes to memory nobody reads */
  volatile char *mem = malloc(TOUCH_BYTES);
  if (mem == NULL) _exit(2);
  for (size_t i = 0; i < TOUCH_BYTES; i += 512) mem[i] = 1;
  struct timespec t0, t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
  volatile unsigned long x = 0;
  do {
    for (int i = 0; i < 100000; i++) x += (unsigned long)i;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  } while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < 300000000L);
  if (write(report_fd, "x", 1) != 1) _exit(3);
  for (;;) pause();
}

/* Resident bytes of `pid` from /proc/<pid>/statm. */
static double rss_of(pid_t pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%ld/statm", (long)pid);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  unsigned long size = 0, res = 0;
  assert_int_equal(fscanf(f, "%lu %lu", &size, &res), 2);
  fclose(f);
  return (double)res * (double)sysconf(_SC_PAGESIZE);
}

/* Waits (up to 10 s) until the exposed value of `series` is `want`. */
static bool wait_value(pmx_t *p, const char *series, double want) {
  for (int i = 0; i < 1000; i++) {
    if (rt_value(p, series) == want) return true;
    rt_sleep_ms(10);
  }
  return false;
}

static void test_group_metrics(void **state) {
  (void)state;
  static const pmx_kv_t opts[] = {{"poll_rate", "20"}};
  static pmx_plugin_use_t use = {.plugin = &pmx_plugin_process, .opts = opts, .n_opts = 1};
  pmx_config_t cfg;
  rt_log_t log;
  rt_config(&cfg, &use, 1, &log);
  pmx_t *p = NULL;
  pmx_error_t err;
  assert_int_equal(pmx_new(&cfg, &p, &err), PMX_OK);
  pmx_shared_opts_t o = {.max_bytes = 8u << 20};
  if (getenv("PMX_UNDER_VALGRIND") != NULL) o.initial_bytes = o.max_bytes;
  assert_int_equal(pmx_prepare_shared(p, &o, &err), PMX_OK);

  int fds[2];
  assert_int_equal(pipe(fds), 0);
  pid_t w[2];
  for (int i = 0; i < 2; i++) {
    w[i] = fork();
    assert_true(w[i] >= 0);
    if (w[i] == 0) {
      close(fds[0]);
      worker(fds[1]);
    }
  }
  close(fds[1]);
  char c[2];
  assert_int_equal(read(fds[0], &c[0], 1), 1);
  assert_int_equal(read(fds[0], &c[1], 1), 1);
  close(fds[0]);
  assert_int_equal(pmx_start(p, &err), PMX_OK);

  assert_true(wait_value(p, WORKERS, 2.0));
  /* The workers' resident sets are stable now (they wait); the master's may move a little. */
  double workers_rss = rss_of(w[0]) + rss_of(w[1]);
  assert_true(workers_rss >= 2.0 * TOUCH_BYTES);
  double exposed = rt_value(p, RESIDENT), master = rss_of(getpid());
  assert_true(exposed >= workers_rss);
  assert_true(exposed <= workers_rss + 2.0 * master);
  /* 2 x 0.3 s of CPU. The worker count comes from the memory poller and the CPU from another
   * one, so the CPU may show the workers a poll later: wait for it. Checked on the total: the
   * kernel splits a process's time into user and system by sampling. */
  double cpu = 0, cpu_total = 0;
  for (int i = 0; i < 1000 && !(cpu_total >= 0.55); i++) { /* NaN until the series exists */
    if (i) rt_sleep_ms(10);
    cpu = rt_value(p, CPU_USER);
    cpu_total = cpu + rt_value(p, CPU_SYSTEM);
  }
  if (!(cpu_total >= 0.55)) fail_msg("group CPU %.3f s (user %.3f s), want >= 0.55", cpu_total, cpu);

  double before = rt_value(p, RESIDENT), dead_rss = rss_of(w[0]);
  kill(w[0], SIGKILL);
  assert_int_equal(waitpid(w[0], NULL, 0), w[0]);
  pmx_shared_worker_exited(w[0]);
  assert_true(wait_value(p, WORKERS, 1.0));
  rt_sleep_ms(60);
  assert_true(rt_value(p, CPU_USER) >= cpu); /* the dead worker's CPU stays */
  /* The dead worker's memory left the sum (the master's own may have grown a little). */
  double after = rt_value(p, RESIDENT);
  assert_true(after >= rss_of(w[1]));
  assert_true(after <= before - dead_rss / 2);

  kill(w[1], SIGKILL);
  assert_int_equal(waitpid(w[1], NULL, 0), w[1]);
  pmx_shared_worker_exited(w[1]);
  assert_true(wait_value(p, WORKERS, 0.0));
  assert_int_equal(pmx_stop(p), PMX_OK);
  pmx_destroy(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_group_metrics)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
