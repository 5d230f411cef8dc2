/* Runtime lifecycle: new/start/stop/restart/destroy, disabled, event groups end to end, manual
 * groups (no delay, delayed, refresh), drop_metrics_groups, a failing start leaving nothing
 * running, own metrics, get_metrics when stopped, and the metrics server wired to the registry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_test_util.h"

static atomic_int manual_runs;
static atomic_int frees;
static void count_free(void *ctx) {
  (void)ctx;
  atomic_fetch_add(&frees, 1);
}

static int manual_measure(pmx_bus_t *bus, void *ctx) {
  (void)ctx;
  int n = atomic_fetch_add(&manual_runs, 1) + 1;
  pmx_measurement_t m[] = {PMX_M("value", n)};
  pmx_emit_name(bus, "lc.build", m, 1, NULL, 0);
  return PMX_OK;
}

static int lc_event(const pmx_plugin_ctx_t *ctx, pmx_groups_t *out) {
  static const char *const tags[] = {"kind"};
  const pmx_metric_def_t m[] = {{.kind = PMX_COUNTER, .name = "jobs.total",
                                 .event_name = "lc.job.stop", .tags = tags, .n_tags = 1,
                                 .description = "Jobs done."}};
  return pmx_groups_add_event(out, "lc_event_metrics", m, 1);
}
static int lc_manual(const pmx_plugin_ctx_t *ctx, pmx_groups_t *out) {
  const pmx_metric_def_t m[] = {{.kind = PMX_LAST_VALUE, .name = "build.runs",
                                 .event_name = "lc.build", .measurement = "value"}};
  return pmx_groups_add_manual(out, "lc_manual_metrics", manual_measure, NULL, count_free, m, 1);
}
static const pmx_plugin_t lc_plugin = {PMX_PLUGIN_ABI, "lc", lc_event, NULL, lc_manual, {0}};

#define JOBS "t_prom_ex_lc_jobs_total{kind=\"a\"}"
#define RUNS "t_prom_ex_lc_build_runs"

static void emit_jobs(pmx_t *p, int n) {
  pmx_meta_t md[] = {PMX_META_S("kind", "a")};
  for (int i = 0; i < n; i++) pmx_emit_name(pmx_bus(p), "lc.job.stop", NULL, 0, md, 1);
}

static void test_start_stop_restart(void **state) {
  (void)state;
  pmx_plugin_use_t use = {.plugin = &lc_plugin};
  pmx_config_t cfg;
  rt_log_t log;
  rt_config(&cfg, &use, 1, &log);
  cfg.metrics_server.enabled = true;
  cfg.metrics_server.port = 0;
  cfg.metrics_server.bind_address = "127.0.0.1";
  pmx_t *p = NULL;
  pmx_error_t err;
  assert_int_equal(pmx_new(&cfg, &p, &err), PMX_OK);
  assert_false(pmx_running(p));
  assert_null(pmx_registry(p));
  assert_non_null(pmx_bus(p));
  assert_string_equal(pmx_config(p)->app, "t");
  pmx_buf_t b = {0};
  assert_int_equal(pmx_get_metrics(p, PMX_FORMAT_TEXT, &b), PMX_ESTOPPED);
  assert_null(b.data);
  assert_int_equal(pmx_stop(p), PMX_ESTATE);
  atomic_store(&frees, 0);

  for (int round = 0; round < 3; round++) {
    atomic_store(&manual_runs, 0);
    assert_int_equal(pmx_start(p, &err), PMX_OK);
    assert_true(pmx_running(p));
    assert_non_null(pmx_registry(p));
    assert_int_equal(pmx_start(p, &err), PMX_ESTATE);
    uint16_t port = pmx_metrics_port(p);
    assert_true(port != 0);
    assert_true(rt_port_open(port));
    emit_jobs(p, 7);
    assert_true(rt_value(p, JOBS) == 7); /* fresh registry each round */
    assert_true(rt_value(p, RUNS) == 1); /* manual ran once at start (no delay) */
    assert_true(rt_value(p, "t_prom_ex_prom_ex_status_info{app=\"t\",version=\"unknown\"}") == 1);
    /* The server serves the same registry. */
    static char body[65536];
    assert_int_equal(rt_http_get(port, "/metrics", body, sizeof body), 200);
    assert_non_null(strstr(body, JOBS " 7"));
    assert_int_equal(pmx_stop(p), PMX_OK);
    assert_false(pmx_running(p));
    assert_int_equal(pmx_metrics_port(p), 0);
    assert_false(rt_port_open(port));
    assert_int_equal(pmx_get_metrics(p, PMX_FORMAT_TEXT, &b), PMX_ESTOPPED);
    assert_int_equal(pmx_refresh_manual_metrics(p), PMX_ESTOPPED);
    assert_int_equal(atomic_load(&frees), round + 1); /* ctx_free ran at stop */
    /* Events while stopped reach no metric and do not crash. */
    emit_jobs(p, 3);
  }
  assert_int_equal(pmx_stop(p), PMX_ESTATE);
  pmx_destroy(p);
  pmx_destroy(NULL);
}

static void test_destroy_while_running(void **state) {
  (void)state;
  pmx_plugin_use_t use = {.plugin = &lc_plugin};
  pmx_config_t cfg;
  rt_config(&cfg, &use, 1, NULL);
  pmx_t *p = NULL;
  atomic_store(&frees, 0);
  assert_int_equal(pmx_new(&cfg, &p, NULL), PMX_OK);
  assert_int_equal(pmx_start(p, NULL), PMX_OK);
  pmx_destroy(p); /* stops first: ctx_free runs, nothing leaks (ASan) */
  assert_int_equal(atomic_load(&frees), 1);
}

/* pmx_stop from inside an event handler would wait for that handler (and free metrics under
 * it): it is refused with PMX_EBUSY and the instance keeps running. */
static int stop_rc_in_handler = 1;
static void stopping_handler(const pmx_event_data_t *ev, void *config) {
  (void)ev;
  stop_rc_in_handler = pmx_stop(config);
}

static void test_stop_from_handler_is_refused(void **state) {
  (void)state;
  pmx_plugin_use_t use = {.plugin = &lc_plugin};
  pmx_config_t cfg;
  rt_config(&cfg, &use, 1, NULL);
  pmx_t *p = NULL;
  assert_int_equal(pmx_new(&cfg, &p, NULL), PMX_OK);
  assert_int_equal(pmx_start(p, NULL), PMX_OK);
  assert_int_equal(pmx_bus_attach(pmx_bus(p), "stopper", "app.shutdown", stopping_handler, p), PMX_OK);
  assert_int_equal(pmx_emit_name(pmx_bus(p), "app.shutdown", NULL, 0, NULL, 0), 1);
  assert_int_equal(stop_rc_in_handler, PMX_EBUSY);
  assert_true(pmx_running(p));
  assert_int_equal(pmx_stop(p), PMX_OK);
  pmx_destroy(p);
}

static void test_disabled(void **state) {
  (void)state;
  pmx_plugin_use_t use = {.plugin = &lc_plugin};
  pmx_config_t cfg;
  rt_config(&cfg, &use, 1, NULL);
  cfg.disabled = true;
  cfg.metrics_server.enabled = true;
  uint16_t port = rt_free_port();
  cfg.metrics_server.port = port;
  pmx_t *p = NULL;
  atomic_store(&manual_runs, 0);
  assert_int_equal(pmx_new(&cfg, &p, NULL), PMX_OK);
  assert_int_equal(pmx_start(p, NULL), PMX_OK);
  assert_false(pmx_running(p));
  assert_int_equal(pmx_metrics_port(p), 0);
  assert_false(rt_port_open(port));
  assert_int_equal(atomic_load(&manual_runs), 0);
  pmx_buf_t b = {0};
  assert_int_equal(pmx_get_metrics(p, PMX_FORMAT_TEXT, &b), PMX_ESTOPPED);
  assert_int_equal(pmx_stop(p), PMX_ESTATE);
  pmx_destroy(p);
}

static void test_config_is_copied(void **state) {
  (void)state;
  pmx_plugin_use_t *use = calloc(1, sizeof *use);
  pmx_kv_t *opts = calloc(1, sizeof *opts);
  char *app = strdup("copied_app");
  char *key = strdup("metric_prefix");
  char *val = strdup("cp");
  char *drop = strdup("nothing_by_this_name");
  const char **drops = calloc(1, sizeof *drops);
  opts[0] = (pmx_kv_t){key, val};
  use[0] = (pmx_plugin_use_t){.plugin = &lc_plugin, .opts = opts, .n_opts = 1};
  drops[0] = drop;
  pmx_config_t cfg;
  rt_log_t log;
  rt_config(&cfg, use, 1, &log);
  cfg.app = app;
  cfg.app_version = "1.2.3";
  cfg.drop_metrics_groups = drops;
  cfg.n_drop_metrics_groups = 1;
  pmx_t *p = NULL;
  assert_int_equal(pmx_new(&cfg, &p, NULL), PMX_OK);
  free(use);
  free(opts);
  free(app);
  free(key);
  free(val);
  free(drop);
  free(drops);
  assert_int_equal(pmx_start(p, NULL), PMX_OK);
  emit_jobs(p, 2);
  assert_true(rt_value(p, "cp_jobs_total{kind=\"a\"}") == 2);
  assert_true(rt_value(p, "copied_app_prom_ex_prom_ex_status_info{app=\"copied_app\","
                          "version=\"1.2.3\"}") == 1);
  /* A drop entry naming no group is a warning, not an error. */
  assert_int_equal(rt_log_count(&log, "nothing_by_this_name"), 1);
  pmx_destroy(p);
}

static void test_new_bad_args(void **state) {
  (void)state;
  pmx_config_t cfg;
  rt_config(&cfg, NULL, 0, NULL);
  pmx_t *p = (pmx_t *)&cfg;
  pmx_error_t err;
  assert_int_equal(pmx_new(NULL, &p, &err), PMX_EINVAL);
  assert_null(p);
  assert_int_equal(pmx_new(&cfg, NULL, &err), PMX_EINVAL);
  cfg.app = "Not Valid";
  assert_int_not_equal(pmx_new(&cfg, &p, &err), PMX_OK);
  assert_null(p);
  assert_true(err.text[0] != '\0');
  assert_int_equal(pmx_start(NULL, &err), PMX_EINVAL);
  assert_int_equal(pmx_stop(NULL), PMX_EINVAL);
  assert_false(pmx_running(NULL));
  assert_int_equal(pmx_metrics_port(NULL), 0);
  pmx_log(NULL, PMX_LOG_ERROR, "ignored");
}

/* ---- manual delay and refresh ---- */
static void test_manual_delay_and_refresh(void **state) {
  (void)state;
  pmx_plugin_use_t use = {.plugin = &lc_plugin};
  pmx_config_t cfg;
  rt_config(&cfg, &use, 1, NULL);
  cfg.manual_metrics_start_delay_ms = 200;
  pmx_t *p = NULL;
  assert_int_equal(pmx_new(&cfg, &p, NULL), PMX_OK);
  atomic_store(&manual_runs, 0);
  int64_t t0 = pmx_monotonic_ns();
  assert_int_equal(pmx_start(p, NULL), PMX_OK);
  assert_true(isnan(rt_value(p, RUNS))); /* absent before the delay */
  assert_int_equal(atomic_load(&manual_runs), 0);
  while (atomic_load(&manual_runs) == 0 && pmx_monotonic_ns() - t0 < 3000000000LL) rt_sleep_ms(10);
  int64_t waited = pmx_monotonic_ns() - t0;
  assert_true(waited >= 200000000LL);
  assert_true(rt_value(p, RUNS) == 1);
  assert_int_equal(pmx_refresh_manual_metrics(p), PMX_OK);
  assert_true(rt_value(p, RUNS) == 2);
  assert_int_equal(pmx_refresh_manual_metrics(p), PMX_OK);
  assert_true(rt_value(p, RUNS) == 3);
  pmx_stop(p);

  /* Stopping before the delay elapsed: the delayed run never happens. */
  atomic_store(&manual_runs, 0);
  assert_int_equal(pmx_start(p, NULL), PMX_OK);
  pmx_stop(p);
  rt_sleep_ms(250);
  assert_int_equal(atomic_load(&manual_runs), 0);
  pmx_destroy(p);
}

/* ---- drop_metrics_groups at start ---- */
static void test_drop_group_at_start(void **state) {
  (void)state;
  pmx_plugin_use_t use = {.plugin = &lc_plugin};
  pmx_config_t cfg;
  rt_log_t log;
  rt_config(&cfg, &use, 1, &log);
  const char *drop[] = {"lc_manual_metrics"};
  cfg.drop_metrics_groups = drop;
  cfg.n_drop_metrics_groups = 1;
  pmx_t *p = NULL;
  atomic_store(&manual_runs, 0);
  atomic_store(&frees, 0);
  assert_int_equal(pmx_new(&cfg, &p, NULL), PMX_OK);
  assert_int_equal(pmx_start(p, NULL), PMX_OK);
  emit_jobs(p, 1);
  assert_true(rt_value(p, JOBS) == 1);
  assert_false(rt_contains(p, RUNS));
  assert_int_equal(pmx_refresh_manual_metrics(p), PMX_OK);
  assert_int_equal(atomic_load(&manual_runs), 0); /* dropped groups never run */
  assert_int_equal(log.n_warn, 0);
  pmx_destroy(p);
  assert_int_equal(atomic_load(&frees), 1); /* but their ctx is still freed */
}

/* ---- invalid metric definition: start fails, nothing left running ---- */
static int bad_event(const pmx_plugin_ctx_t *ctx, pmx_groups_t *out) {
  const pmx_metric_def_t m[] = {
      {.kind = PMX_COUNTER, .name = "good.total", .event_name = "bd.good"},
      {.kind = PMX_COUNTER, .name = "bad name!", .event_name = "bd.bad"}};
  return pmx_groups_add_event(out, "bd_event_metrics", m, 2);
}
static const pmx_plugin_t bad_def_plugin = {PMX_PLUGIN_ABI, "bd", bad_event, NULL, NULL, {0}};

static void test_invalid_metric_def(void **state) {
  (void)state;
  pmx_plugin_use_t uses[] = {{.plugin = &lc_plugin}, {.plugin = &bad_def_plugin}};
  pmx_config_t cfg;
  rt_config(&cfg, uses, 2, NULL);
  cfg.metrics_server.enabled = true;
  uint16_t port = rt_free_port();
  cfg.metrics_server.port = port;
  pmx_t *p = NULL;
  pmx_error_t err;
  atomic_store(&frees, 0);
  atomic_store(&manual_runs, 0);
  assert_int_equal(pmx_new(&cfg, &p, &err), PMX_OK);
  int rc = pmx_start(p, &err);
  assert_int_equal(rc, PMX_ENAME);
  assert_int_equal(err.code, PMX_ENAME);
  assert_non_null(strstr(err.text, "\"bd\""));
  assert_non_null(strstr(err.text, "bd_event_metrics"));
  assert_non_null(strstr(err.text, "bad name!"));
  assert_false(pmx_running(p));
  assert_int_equal(pmx_metrics_port(p), 0);
  assert_false(rt_port_open(port));
  assert_null(pmx_registry(p));
  assert_int_equal(atomic_load(&manual_runs), 0); /* nothing ran */
  assert_int_equal(atomic_load(&frees), 1);       /* lc's manual ctx was freed */
  /* Nothing attached stays on the bus. */
  size_t n_handlers = 99;
  assert_int_equal(pmx_bus_list_handlers(pmx_bus(p), NULL, NULL, 0, &n_handlers), PMX_OK);
  assert_int_equal(n_handlers, 0);
  pmx_buf_t b = {0};
  assert_int_equal(pmx_get_metrics(p, PMX_FORMAT_TEXT, &b), PMX_ESTOPPED);
  pmx_destroy(p);
}

/* ---- own metrics ---- */
static void test_own_metrics(void **state) {
  (void)state;
  pmx_plugin_use_t use = {.plugin = &lc_plugin};
  pmx_config_t cfg;
  rt_config(&cfg, &use, 1, NULL);
  pmx_t *p = NULL;
  assert_int_equal(pmx_new(&cfg, &p, NULL), PMX_OK);
  assert_int_equal(pmx_start(p, NULL), PMX_OK);
  double c0 = rt_value(p, "t_prom_ex_prom_ex_scrape_duration_seconds_count");
  double c1 = rt_value(p, "t_prom_ex_prom_ex_scrape_duration_seconds_count");
  assert_false(isnan(c0));
  assert_true(c1 == c0 + 1); /* each render is timed */
  assert_true(rt_contains(p, "# HELP t_prom_ex_prom_ex_poll_errors_total"));
  assert_true(rt_contains(p, "t_prom_ex_prom_ex_poll_errors_total{group=\"lc_manual_metrics\"} 0"));
  assert_true(rt_contains(p, "# TYPE t_prom_ex_prom_ex_grafana_uploads_total counter"));
  /* Grafana results arrive as events on the bus. */
  pmx_measurement_t m[] = {PMX_M("count", 1)};
  pmx_meta_t md[] = {PMX_META_S("dashboard", "lc.json"), PMX_META_S("result", "ok")};
  pmx_emit_name(pmx_bus(p), "promex.grafana.upload", m, 1, md, 2);
  assert_true(rt_value(p, "t_prom_ex_prom_ex_grafana_uploads_total{dashboard=\"lc.json\","
                          "result=\"ok\"}") == 1);
  pmx_destroy(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_start_stop_restart),
      cmocka_unit_test(test_destroy_while_running),
      cmocka_unit_test(test_stop_from_handler_is_refused),
      cmocka_unit_test(test_disabled),
      cmocka_unit_test(test_config_is_copied),
      cmocka_unit_test(test_new_bad_args),
      cmocka_unit_test(test_manual_delay_and_refresh),
      cmocka_unit_test(test_drop_group_at_start),
      cmocka_unit_test(test_invalid_metric_def),
      cmocka_unit_test(test_own_metrics),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
