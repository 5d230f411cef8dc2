/* Runtime scheduler: polling groups run on their poll rate; a failing callback is counted in
 * poll_errors_total and logged once (until it succeeds again) while other groups go on; a slow
 * one is counted in poll_overruns_total and logged once; stop wakes the thread at once; groups
 * that block neither delay the others nor stop, and are counted in poll_timeouts_total and
 * poll_skips_total. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "rt_test_util.h"

static atomic_int good_runs, bad_runs, slow_runs;
static atomic_bool bad_should_fail;

static int good_measure(pmx_bus_t *bus, void *ctx) {
  (void)ctx;
  atomic_fetch_add(&good_runs, 1);
  pmx_measurement_t m[] = {PMX_M("n", 1)};
  pmx_emit_name(bus, "pl.good", m, 1, NULL, 0);
  return PMX_OK;
}
static int bad_measure(pmx_bus_t *bus, void *ctx) {
  (void)bus;
  (void)ctx;
  atomic_fetch_add(&bad_runs, 1);
  return atomic_load(&bad_should_fail) ? PMX_EIO : PMX_OK;
}
static int slow_measure(pmx_bus_t *bus, void *ctx) {
  (void)bus;
  (void)ctx;
  atomic_fetch_add(&slow_runs, 1);
  rt_sleep_ms(60);
  return PMX_OK;
}

static int pl_polling(const pmx_plugin_ctx_t *ctx, pmx_groups_t *out) {
  const pmx_metric_def_t good[] = {{.kind = PMX_COUNTER, .name = "good.polls.total",
                                    .event_name = "pl.good", .measurement = "n"}};
  const pmx_metric_def_t bad[] = {{.kind = PMX_LAST_VALUE, .name = "bad.value",
                                   .event_name = "pl.bad", .measurement = "v"}};
  int rc = pmx_groups_add_polling(out, "pl_good_polling", 20, good_measure, NULL, NULL, good, 1);
  if (rc == PMX_OK)
    rc = pmx_groups_add_polling(out, "pl_bad_polling", 0, bad_measure, NULL, NULL, bad, 1);
  return rc;
}
static const pmx_plugin_t pl_plugin = {PMX_PLUGIN_ABI, "pl", NULL, pl_polling, NULL, {0}};

static int slow_polling(const pmx_plugin_ctx_t *ctx, pmx_groups_t *out) {
  const pmx_metric_def_t m[] = {{.kind = PMX_LAST_VALUE, .name = "slow.value",
                                 .event_name = "sl.slow", .measurement = "v"}};
  return pmx_groups_add_polling(out, "sl_slow_polling", 20, slow_measure, NULL, NULL, m, 1);
}
static const pmx_plugin_t slow_plugin = {PMX_PLUGIN_ABI, "sl", NULL, slow_polling, NULL, {0}};

static int wait_for(atomic_int *v, int target, int timeout_ms) {
  for (int waited = 0; atomic_load(v) < target && waited < timeout_ms; waited += 5) rt_sleep_ms(5);
  return atomic_load(v);
}

#define ERRS "t_prom_ex_prom_ex_poll_errors_total{group=\"pl_bad_polling\"}"
#define GOOD_ERRS "t_prom_ex_prom_ex_poll_errors_total{group=\"pl_good_polling\"}"

static void test_failing_poll(void **state) {
  (void)state;
  const pmx_kv_t opts[] = {{"poll_rate", "20"}};
  pmx_plugin_use_t use = {.plugin = &pl_plugin, .opts = opts, .n_opts = 1};
  pmx_config_t cfg;
  rt_log_t log;
  rt_config(&cfg, &use, 1, &log);
  pmx_t *p = NULL;
  atomic_store(&good_runs, 0);
  atomic_store(&bad_runs, 0);
  atomic_store(&bad_should_fail, true);
  assert_int_equal(pmx_new(&cfg, &p, NULL), PMX_OK);
  assert_int_equal(pmx_start(p, NULL), PMX_OK);
  assert_true(wait_for(&bad_runs, 5, 3000) >= 5);
  assert_true(wait_for(&good_runs, 5, 3000) >= 5); /* the other group goes on */
  double errs = rt_value(p, ERRS);
  assert_true(errs >= 4);
  assert_true(rt_value(p, GOOD_ERRS) == 0);
  assert_true(rt_value(p, "t_prom_ex_pl_good_polls_total") >= 5);
  /* Logged once although it failed several times. */
  assert_int_equal(rt_log_count(&log, "\"pl_bad_polling\" (plugin \"pl\"): measurement callback failed"), 1);
  assert_int_equal(rt_log_count(&log, "PMX_EIO"), 1);
  /* Recovery is logged; a new failure is logged again. */
  atomic_store(&bad_should_fail, false);
  int n = atomic_load(&bad_runs);
  wait_for(&bad_runs, n + 3, 3000);
  assert_int_equal(rt_log_count(&log, "\"pl_bad_polling\" (plugin \"pl\"): measurement callback succeeds again"), 1);
  double errs_after = rt_value(p, ERRS);
  atomic_store(&bad_should_fail, true);
  n = atomic_load(&bad_runs);
  wait_for(&bad_runs, n + 3, 3000);
  assert_int_equal(rt_log_count(&log, "measurement callback failed"), 2);
  assert_true(rt_value(p, ERRS) > errs_after);
  pmx_destroy(p);
}

static void test_poll_rate_respected(void **state) {
  (void)state;
  const pmx_kv_t opts[] = {{"poll_rate", "100"}};
  pmx_plugin_use_t use = {.plugin = &pl_plugin, .opts = opts, .n_opts = 1};
  pmx_config_t cfg;
  rt_config(&cfg, &use, 1, NULL);
  pmx_t *p = NULL;
  atomic_store(&good_runs, 0);
  atomic_store(&bad_runs, 0);
  atomic_store(&bad_should_fail, false);
  assert_int_equal(pmx_new(&cfg, &p, NULL), PMX_OK);
  assert_int_equal(pmx_start(p, NULL), PMX_OK);
  rt_sleep_ms(450);
  pmx_stop(p);
  /* pl_bad_polling runs every 100 ms (plugin option): at t=0,100,200,300,400 -> about 5; the
   * 20 ms group about 23. Generous bounds for loaded machines. */
  int bad = atomic_load(&bad_runs), good = atomic_load(&good_runs);
  assert_true(bad >= 3 && bad <= 6);
  assert_true(good >= 10 && good <= 25);
  assert_true(good > 2 * bad);
  pmx_destroy(p);
}

static void test_overrun(void **state) {
  (void)state;
  pmx_plugin_use_t use = {.plugin = &slow_plugin};
  pmx_config_t cfg;
  rt_log_t log;
  rt_config(&cfg, &use, 1, &log);
  pmx_t *p = NULL;
  atomic_store(&slow_runs, 0);
  assert_int_equal(pmx_new(&cfg, &p, NULL), PMX_OK);
  assert_int_equal(pmx_start(p, NULL), PMX_OK);
  assert_true(wait_for(&slow_runs, 4, 3000) >= 4);
  rt_sleep_ms(70);
  double overruns = rt_value(p, "t_prom_ex_prom_ex_poll_overruns_total{group=\"sl_slow_polling\"}");
  assert_true(overruns >= 3);
  assert_true(rt_value(p, "t_prom_ex_prom_ex_poll_errors_total{group=\"sl_slow_polling\"}") == 0);
  assert_int_equal(rt_log_count(&log, "longer than its poll rate"), 1);
  pmx_destroy(p);
}

static int slow_wake(const pmx_plugin_ctx_t *ctx, pmx_groups_t *out) {
  const pmx_metric_def_t m[] = {{.kind = PMX_COUNTER, .name = "good.polls.total",
                                 .event_name = "pl.good", .measurement = "n"}};
  return pmx_groups_add_polling(out, "hour_polling", 3600000, good_measure, NULL, NULL, m, 1);
}
static const pmx_plugin_t hour_plugin = {PMX_PLUGIN_ABI, "hour", NULL, slow_wake, NULL, {0}};

static void test_stop_is_prompt(void **state) {
  (void)state;
  pmx_plugin_use_t use = {.plugin = &hour_plugin};
  pmx_config_t cfg;
  rt_config(&cfg, &use, 1, NULL);
  cfg.manual_metrics_start_delay_ms = 3600000;
  pmx_t *p = NULL;
  atomic_store(&good_runs, 0);
  assert_int_equal(pmx_new(&cfg, &p, NULL), PMX_OK);
  assert_int_equal(pmx_start(p, NULL), PMX_OK);
  assert_int_equal(wait_for(&good_runs, 1, 3000), 1); /* first poll right away */
  rt_sleep_ms(50);
  int64_t t0 = pmx_monotonic_ns();
  assert_int_equal(pmx_stop(p), PMX_OK);
  assert_true(pmx_monotonic_ns() - t0 < 500000000LL);
  assert_int_equal(atomic_load(&good_runs), 1);
  pmx_destroy(p);
}

/* Two groups whose callbacks block until the test releases them (a hung statvfs, a dead
 * database): both base workers of the poller are taken. */
static pthread_mutex_t block_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t block_cv = PTHREAD_COND_INITIALIZER;
static bool block_released;
static atomic_int blocked_runs, block_frees;

static int blocking_measure(pmx_bus_t *bus, void *ctx) {
  (void)bus;
  (void)ctx;
  atomic_fetch_add(&blocked_runs, 1);
  pthread_mutex_lock(&block_mu);
  while (!block_released) pthread_cond_wait(&block_cv, &block_mu);
  pthread_mutex_unlock(&block_mu);
  return PMX_OK;
}
static void block_free(void *ctx) {
  (void)ctx;
  atomic_fetch_add(&block_frees, 1);
}
static int blocking_polling(const pmx_plugin_ctx_t *ctx, pmx_groups_t *out) {
  const pmx_metric_def_t a[] = {{.kind = PMX_LAST_VALUE, .name = "hung.a",
                                 .event_name = "hu.hung", .measurement = "v"}};
  const pmx_metric_def_t b[] = {{.kind = PMX_LAST_VALUE, .name = "hung.b",
                                 .event_name = "hu.hung", .measurement = "v"}};
  int rc = pmx_groups_add_polling(out, "hu_a_polling", 0, blocking_measure, NULL, block_free, a, 1);
  if (rc == PMX_OK)
    rc = pmx_groups_add_polling(out, "hu_b_polling", 0, blocking_measure, NULL, block_free, b, 1);
  return rc;
}
static const pmx_plugin_t blocking_plugin = {PMX_PLUGIN_ABI, "hu", NULL, blocking_polling, NULL,
                                             {0}};

static void release_blocked(void) {
  pthread_mutex_lock(&block_mu);
  block_released = true;
  pthread_cond_broadcast(&block_cv);
  pthread_mutex_unlock(&block_mu);
}

#define HUNG_TIMEOUTS "t_prom_ex_prom_ex_poll_timeouts_total{group=\"hu_a_polling\"}"
#define HUNG_SKIPS "t_prom_ex_prom_ex_poll_skips_total{group=\"hu_a_polling\"}"
#define GOOD_POLLS \
  "t_prom_ex_prom_ex_poll_duration_seconds_count{group=\"pl_good_polling\"}"

static void test_blocking_group(void **state) {
  (void)state;
  const pmx_kv_t hung_opts[] = {{"poll_rate", "20"}, {"poll_timeout", "50"}};
  const pmx_kv_t pl_opts[] = {{"poll_rate", "20"}};
  pmx_plugin_use_t uses[] = {{.plugin = &blocking_plugin, .opts = hung_opts, .n_opts = 2},
                             {.plugin = &pl_plugin, .opts = pl_opts, .n_opts = 1}};
  pmx_config_t cfg;
  rt_log_t log;
  rt_config(&cfg, uses, 2, &log);
  pmx_t *p = NULL;
  block_released = false;
  atomic_store(&blocked_runs, 0);
  atomic_store(&block_frees, 0);
  atomic_store(&good_runs, 0);
  atomic_store(&bad_should_fail, false);
  assert_int_equal(pmx_new(&cfg, &p, NULL), PMX_OK);
  assert_int_equal(pmx_start(p, NULL), PMX_OK);
  assert_int_equal(wait_for(&blocked_runs, 2, 3000), 2);
  /* Both hung groups hold a worker; the 20 ms groups keep their rate regardless. */
  int g0 = atomic_load(&good_runs);
  rt_sleep_ms(500);
  int good = atomic_load(&good_runs) - g0;
  assert_true(good >= 10); /* 25 expected; generous for a loaded machine */
  assert_int_equal(atomic_load(&blocked_runs), 2); /* never re-run while still running */
  assert_true(rt_value(p, HUNG_TIMEOUTS) == 1); /* one run, counted once */
  assert_true(rt_value(p, HUNG_SKIPS) >= 10);
  assert_true(rt_value(p, GOOD_POLLS) >= good);
  assert_true(rt_value(p, "t_prom_ex_prom_ex_poll_timeouts_total{group=\"pl_good_polling\"}") == 0);
  assert_int_equal(rt_log_count(&log, "\"hu_a_polling\" (plugin \"hu\"): measurement still running "
                                      "after its timeout of 50 ms"), 1);
  /* Stop returns promptly although two callbacks never return; their ctx stays theirs. */
  int64_t t0 = pmx_monotonic_ns();
  assert_int_equal(pmx_stop(p), PMX_OK);
  assert_true(pmx_monotonic_ns() - t0 < 2000000000LL);
  assert_int_equal(rt_log_count(&log, "abandoned"), 2);
  assert_int_equal(atomic_load(&block_frees), 0);
  /* A restart is unaffected by the abandoned runs (new groups, new ctx). */
  assert_int_equal(pmx_start(p, NULL), PMX_OK);
  assert_int_equal(wait_for(&blocked_runs, 4, 3000), 4);
  assert_int_equal(pmx_stop(p), PMX_OK);
  /* Destroy while four callbacks still hang: the last one to return frees the instance (ASan
   * reports a leak or a use after free otherwise). */
  pmx_destroy(p);
  release_blocked();
  for (int waited = 0; atomic_load(&block_frees) < 4 && waited < 3000; waited += 5) rt_sleep_ms(5);
  assert_int_equal(atomic_load(&block_frees), 4);
  rt_sleep_ms(100); /* let the detached workers finish freeing */
}

static int blocking_manual(const pmx_plugin_ctx_t *ctx, pmx_groups_t *out) {
  const pmx_metric_def_t m[] = {{.kind = PMX_LAST_VALUE, .name = "hung.manual",
                                 .event_name = "hm.hung", .measurement = "v"}};
  return pmx_groups_add_manual(out, "hm_manual", blocking_measure, NULL, block_free, m, 1);
}
static const pmx_plugin_t blocking_manual_plugin = {PMX_PLUGIN_ABI, "hm", NULL, NULL,
                                                    blocking_manual, {0}};

/* The delayed first run of a manual group goes through the poller: hung, it is counted as a
 * timeout and delays no polling group; stop and destroy do not wait for it. */
static void test_blocking_manual_group(void **state) {
  (void)state;
  const pmx_kv_t hm_opts[] = {{"poll_timeout", "30"}};
  const pmx_kv_t pl_opts[] = {{"poll_rate", "20"}};
  pmx_plugin_use_t uses[] = {{.plugin = &blocking_manual_plugin, .opts = hm_opts, .n_opts = 1},
                             {.plugin = &pl_plugin, .opts = pl_opts, .n_opts = 1}};
  pmx_config_t cfg;
  rt_config(&cfg, uses, 2, NULL);
  cfg.manual_metrics_start_delay_ms = 10;
  pmx_t *p = NULL;
  block_released = false;
  atomic_store(&blocked_runs, 0);
  atomic_store(&block_frees, 0);
  atomic_store(&good_runs, 0);
  atomic_store(&bad_should_fail, false);
  assert_int_equal(pmx_new(&cfg, &p, NULL), PMX_OK);
  assert_int_equal(pmx_start(p, NULL), PMX_OK);
  assert_int_equal(wait_for(&blocked_runs, 1, 3000), 1);
  int g0 = atomic_load(&good_runs);
  rt_sleep_ms(300);
  assert_true(atomic_load(&good_runs) - g0 >= 6); /* 15 expected */
  assert_true(rt_value(p, "t_prom_ex_prom_ex_poll_timeouts_total{group=\"hm_manual\"}") == 1);
  assert_int_equal(pmx_stop(p), PMX_OK);
  pmx_destroy(p);
  release_blocked();
  for (int waited = 0; atomic_load(&block_frees) < 1 && waited < 3000; waited += 5) rt_sleep_ms(5);
  assert_int_equal(atomic_load(&block_frees), 1);
  rt_sleep_ms(100); /* let the detached worker finish freeing */
}

static void test_bad_poll_timeout(void **state) {
  (void)state;
  static const char *const bad[] = {"0", "-5", "10ms", "", "99999999999"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    const pmx_kv_t opts[] = {{"poll_timeout", bad[i]}};
    pmx_plugin_use_t use = {.plugin = &pl_plugin, .opts = opts, .n_opts = 1};
    pmx_config_t cfg;
    rt_config(&cfg, &use, 1, NULL);
    pmx_t *p = NULL;
    pmx_error_t err;
    assert_int_equal(pmx_new(&cfg, &p, NULL), PMX_OK);
    assert_int_equal(pmx_start(p, &err), PMX_ECONFIG);
    assert_non_null(strstr(err.text, "option poll_timeout"));
    assert_false(pmx_running(p));
    pmx_destroy(p);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_failing_poll),
      cmocka_unit_test(test_poll_rate_respected),
      cmocka_unit_test(test_overrun),
      cmocka_unit_test(test_stop_is_prompt),
      cmocka_unit_test(test_blocking_group),
      cmocka_unit_test(test_blocking_manual_group),
      cmocka_unit_test(test_bad_poll_timeout),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
