/* Fork while serving, in multi-process mode: the master's runtime runs (a polling group emitting
 * every few milliseconds, a scraper thread on the metrics server) while the master forks worker
 * after worker; each worker emits a known number of events (resolving the event by name each
 * time, which takes the bus's table lock a poller may hold at the fork), reports, and is
 * SIGKILL'd. No worker may hang (each has an alarm) and the counter must be exact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rt_test_util.h"

/* Under valgrind every forked worker runs in the emulator too: fewer rounds keep the run short. */
#define ROUNDS 300
#define ROUNDS_UNDER_VALGRIND 12
#define EVENTS_PER_WORKER 200

static atomic_int polls;

static int poll_measure(pmx_bus_t *bus, void *ctx) {
  (void)ctx;
  pmx_measurement_t m[] = {PMX_M("value", atomic_fetch_add(&polls, 1) + 1)};
  pmx_emit_name(bus, "st.poll", m, 1, NULL, 0);
  return PMX_OK;
}

static int st_event(const pmx_plugin_ctx_t *ctx, pmx_groups_t *out) {
  (void)ctx;
  const pmx_metric_def_t m[] = {{.kind = PMX_COUNTER, .name = "requests.total",
                                 .event_name = "st.request", .description = "Requests."}};
  return pmx_groups_add_event(out, "st_event_metrics", m, 1);
}
static int st_polling(const pmx_plugin_ctx_t *ctx, pmx_groups_t *out) {
  (void)ctx;
  const pmx_metric_def_t m[] = {{.kind = PMX_LAST_VALUE, .name = "polls", .event_name = "st.poll",
                                 .measurement = "value", .description = "Polls so far."}};
  return pmx_groups_add_polling(out, "st_polling", 2, poll_measure, NULL, NULL, m, 1);
}
static const pmx_plugin_t st_plugin = {PMX_PLUGIN_ABI, "st", st_event, st_polling, NULL, {0}};

#define REQUESTS "t_prom_ex_st_requests_total"

typedef struct scraper {
  uint16_t port;
  pmx_bus_t *bus;
  atomic_bool stop;
  atomic_int ok;
} scraper_t;

/* Resolves event names in a loop, so the bus's table lock is held at many of the forks: without
 * the runtime's fork handlers, a worker would inherit it held and hang on its first emit. */
static void *resolve_loop(void *arg) {
  scraper_t *s = arg;
  while (!atomic_load(&s->stop)) pmx_emit_name(s->bus, "st.unattached", NULL, 0, NULL, 0);
  return NULL;
}

static void *scrape_loop(void *arg) {
  scraper_t *s = arg;
  static char body[1 << 16];
  while (!atomic_load(&s->stop))
    if (rt_http_get(s->port, "/metrics", body, sizeof body) == 200) atomic_fetch_add(&s->ok, 1);
  return NULL;
}

/* Emits, reports '0' (or the failed check's code) and waits for the master's SIGKILL: a worker
 * forked from a threaded process must not run exit-time checks (valgrind's leak check would
 * count what the parent's other threads held at the fork as lost). */
static void worker(pmx_t *p, int report_fd) {
  /* A hang becomes SIGALRM, which the master sees instead of its SIGKILL. Under valgrind a
   * worker of a busy threaded parent may take seconds just to run. */
  alarm(getenv("PMX_UNDER_VALGRIND") != NULL ? 60 : 5);
  char rc = '0';
  for (int i = 0; i < EVENTS_PER_WORKER && rc == '0'; i++)
    if (pmx_emit_name(pmx_bus(p), "st.request", NULL, 0, NULL, 0) < 0) rc = '2';
  if (write(report_fd, &rc, 1) != 1) _exit(3);
  for (;;) pause();
}

static void test_fork_while_serving(void **state) {
  (void)state;
  static pmx_plugin_use_t use = {.plugin = &st_plugin};
  pmx_config_t cfg;
  rt_log_t log;
  rt_config(&cfg, &use, 1, &log);
  cfg.metrics_server.enabled = true;
  cfg.metrics_server.port = 0;
  pmx_t *p = NULL;
  pmx_error_t err;
  assert_int_equal(pmx_new(&cfg, &p, &err), PMX_OK);
  pmx_shared_opts_t o = {.max_bytes = 8u << 20};
  if (getenv("PMX_UNDER_VALGRIND") != NULL) o.initial_bytes = o.max_bytes;
  assert_int_equal(pmx_prepare_shared(p, &o, &err), PMX_OK);
  assert_int_equal(pmx_start(p, &err), PMX_OK);

  scraper_t sc = {.port = pmx_metrics_port(p), .bus = pmx_bus(p)};
  atomic_init(&sc.stop, false);
  atomic_init(&sc.ok, 0);
  pthread_t th, resolver;
  assert_int_equal(pthread_create(&th, NULL, scrape_loop, &sc), 0);
  assert_int_equal(pthread_create(&resolver, NULL, resolve_loop, &sc), 0);

  const int rounds = getenv("PMX_UNDER_VALGRIND") != NULL ? ROUNDS_UNDER_VALGRIND : ROUNDS;
  int reported = 0, killed = 0;
  for (int r = 0; r < rounds; r++) {
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
      close(fds[0]);
      worker(p, fds[1]);
    }
    close(fds[1]);
    char c = 0;
    if (read(fds[0], &c, 1) == 1 && c == '0') reported++;
    close(fds[0]);
    kill(pid, SIGKILL);
    int st = 0;
    if (waitpid(pid, &st, 0) == pid && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) killed++;
    pmx_shared_worker_exited(pid);
  }
  /* The scraper reads `sc` on this stack: stopped before any assertion can leave the test. */
  atomic_store(&sc.stop, true);
  pthread_join(th, NULL);
  pthread_join(resolver, NULL);

  assert_int_equal(reported, rounds);
  assert_int_equal(killed, rounds); /* none died of its alarm (a hang) or of a crash */
  assert_true(atomic_load(&sc.ok) > 0);
  assert_true(atomic_load(&polls) > 0);
  assert_true(rt_value(p, REQUESTS) == (double)rounds * EVENTS_PER_WORKER);
  assert_int_equal(pmx_stop(p), PMX_OK);
  pmx_destroy(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_fork_while_serving)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
