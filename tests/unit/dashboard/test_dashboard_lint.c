/* Dashboard lint: one bad dashboard per rule (tests/data/dashboards/lint_<rule>.json) must raise
 * exactly that rule; the clean base and every first-party dashboard (rendered with the default
 * assigns) must raise nothing against the metrics the plugins define. The metric lists here are
 * hand-written copies of the plugins' definitions; test_dashboard_plugins.c checks the same
 * dashboards against pmx_describe_metrics() when the plugins are built. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dashboard/dashboard_internal.h"
#include "promex/dashboard.h"

#define MAX_FINDINGS 64

typedef struct collected {
  int n;
  char rule[MAX_FINDINGS][32];
  char message[MAX_FINDINGS][600];
  int panel_id[MAX_FINDINGS];
  char file[MAX_FINDINGS][256];
  int line[MAX_FINDINGS];
} collected_t;

static void collect(void *ctx, const pmx_dashboard_finding_t *f) {
  collected_t *c = ctx;
  if (c->n >= MAX_FINDINGS) return;
  snprintf(c->rule[c->n], sizeof c->rule[0], "%s", f->rule);
  snprintf(c->message[c->n], sizeof c->message[0], "%s", f->message);
  snprintf(c->file[c->n], sizeof c->file[0], "%s", f->file);
  c->panel_id[c->n] = f->panel_id;
  c->line[c->n] = f->line;
  c->n++;
}

static char *read_all(const char *path, size_t *len) {
  char *t = NULL;
  pmx_error_t err = {0};
  if (pmx_dashboard_load(path, &t, len, &err) != PMX_OK) fail_msg("%s", err.text);
  return t;
}

static const double test_buckets[] = {0.05, 0.1, 0.5, 1};

static void add_test_metrics(pmx_dashboard_linter_t *l) {
  pmx_dashboard_linter_add_metric(l, "g", "lint_app_prom_ex_test_status_info", PMX_LAST_VALUE,
                                  NULL, 0);
  pmx_dashboard_linter_add_metric(l, "g", "lint_app_prom_ex_test_requests_total", PMX_COUNTER,
                                  NULL, 0);
  pmx_dashboard_linter_add_metric(l, "g", "lint_app_prom_ex_test_duration_seconds",
                                  PMX_DISTRIBUTION, test_buckets, 4);
  pmx_dashboard_linter_add_metric(l, "g", "lint_app_prom_ex_test_memory_bytes", PMX_LAST_VALUE,
                                  NULL, 0);
}

static int lint_file(pmx_dashboard_linter_t *l, const char *name, collected_t *c) {
  char path[512];
  snprintf(path, sizeof path, "%s/dashboards/%s.json", PMX_TEST_DATA, name);
  size_t len = 0;
  char *t = read_all(path, &len);
  memset(c, 0, sizeof *c);
  pmx_error_t err = {0};
  int rc = pmx_dashboard_lint(l, t, len, path, collect, c, &err);
  free(t);
  return rc;
}

static void print_findings(const collected_t *c) {
  for (int i = 0; i < c->n; i++) print_message("  %s\n", c->message[i]);
}

/* Lints tests/data/dashboards/lint_<rule>.json and asserts that only `rule` fires. */
static void expect_only(const char *rule, const char *file, int panel_id) {
  pmx_dashboard_linter_t *l = NULL;
  assert_int_equal(pmx_dashboard_linter_new(&l), PMX_OK);
  add_test_metrics(l);
  collected_t c;
  int rc = lint_file(l, file, &c);
  if (rc < 1) {
    print_findings(&c);
    fail_msg("%s: expected a finding, got %d", file, rc);
  }
  assert_int_equal(rc, c.n);
  for (int i = 0; i < c.n; i++) {
    if (strcmp(c.rule[i], rule) != 0) {
      print_findings(&c);
      fail_msg("%s: unexpected rule %s (wanted only %s)", file, c.rule[i], rule);
    }
    assert_non_null(strstr(c.file[i], file));
    /* The message names file, place and rule. */
    assert_non_null(strstr(c.message[i], file));
    assert_non_null(strstr(c.message[i], rule));
    if (panel_id > 0) {
      assert_int_equal(c.panel_id[i], panel_id);
      assert_non_null(strstr(c.message[i], "panel"));
    }
  }
  pmx_dashboard_linter_free(l);
}

static void test_clean_base(void **state) {
  (void)state;
  pmx_dashboard_linter_t *l = NULL;
  assert_int_equal(pmx_dashboard_linter_new(&l), PMX_OK);
  add_test_metrics(l);
  collected_t c;
  int rc = lint_file(l, "lint_clean", &c);
  if (rc != 0) print_findings(&c);
  assert_int_equal(rc, 0);
  /* Same uid again: duplicate; another uid: clean. */
  rc = lint_file(l, "lint_clean_other_uid", &c);
  assert_int_equal(rc, 0);
  rc = lint_file(l, "lint_clean", &c);
  assert_int_equal(rc, 1);
  assert_string_equal(c.rule[0], "duplicate_uid");
  pmx_dashboard_linter_free(l);
}

static void test_rule_invalid_json(void **state) {
  (void)state;
  expect_only("invalid_json", "lint_invalid_json", 0);
  pmx_dashboard_linter_t *l = NULL;
  assert_int_equal(pmx_dashboard_linter_new(&l), PMX_OK);
  collected_t c;
  assert_int_equal(lint_file(l, "lint_invalid_json", &c), 1);
  assert_true(c.line[0] > 1);
  memset(&c, 0, sizeof c);
  assert_int_equal(pmx_dashboard_lint(l, "[1]", 3, "arr.json", collect, &c, NULL), 1);
  assert_string_equal(c.rule[0], "invalid_json");
  pmx_dashboard_linter_free(l);
}

static void test_rule_missing_uid(void **state) {
  (void)state;
  expect_only("missing_uid", "lint_missing_uid", 0);
}

static void test_rule_duplicate_uid(void **state) {
  (void)state;
  pmx_dashboard_linter_t *l = NULL;
  assert_int_equal(pmx_dashboard_linter_new(&l), PMX_OK);
  add_test_metrics(l);
  collected_t c;
  assert_int_equal(lint_file(l, "lint_duplicate_uid_a", &c), 0);
  assert_int_equal(lint_file(l, "lint_duplicate_uid_b", &c), 1);
  assert_string_equal(c.rule[0], "duplicate_uid");
  /* The message names the other file too. */
  assert_non_null(strstr(c.message[0], "lint_duplicate_uid_a.json"));
  assert_non_null(strstr(c.message[0], "lint_duplicate_uid_b.json"));
  pmx_dashboard_linter_free(l);
}

static void test_rule_uid_too_long(void **state) {
  (void)state;
  expect_only("uid_too_long", "lint_uid_too_long", 0);
}

static void test_rule_panel_without_datasource(void **state) {
  (void)state;
  expect_only("panel_without_datasource", "lint_panel_without_datasource", 2);
}

static void test_rule_unknown_metric(void **state) {
  (void)state;
  expect_only("unknown_metric", "lint_unknown_metric", 5);
}

static void test_rule_quantile_not_bucket(void **state) {
  (void)state;
  expect_only("quantile_not_bucket", "lint_quantile_not_bucket", 5);
}

static void test_rule_unknown_le(void **state) {
  (void)state;
  expect_only("unknown_le", "lint_unknown_le", 4);
}

static void test_rule_undefined_variable(void **state) {
  (void)state;
  expect_only("undefined_variable", "lint_undefined_variable", 3);
}

static void test_rule_deprecated_panel_type(void **state) {
  (void)state;
  expect_only("deprecated_panel_type", "lint_deprecated_panel_type", 2);
}

static void test_without_metrics_skips_metric_rules(void **state) {
  (void)state;
  pmx_dashboard_linter_t *l = NULL;
  assert_int_equal(pmx_dashboard_linter_new(&l), PMX_OK);
  collected_t c;
  assert_int_equal(lint_file(l, "lint_unknown_metric", &c), 0);
  pmx_dashboard_linter_free(l);
  /* quantile_not_bucket needs no metric list (a fresh linter: the files share a uid). */
  assert_int_equal(pmx_dashboard_linter_new(&l), PMX_OK);
  assert_int_equal(lint_file(l, "lint_quantile_not_bucket", &c), 1);
  assert_string_equal(c.rule[0], "quantile_not_bucket");
  pmx_dashboard_linter_free(l);
}

static void test_series_names(void **state) {
  (void)state;
  pmx_dashboard_linter_t *l = NULL;
  assert_int_equal(pmx_dashboard_linter_new(&l), PMX_OK);
  pmx_dashboard_linter_add_metric(l, NULL, "c", PMX_COUNTER, NULL, 0);
  pmx_dashboard_linter_add_metric(l, NULL, "s_total", PMX_SUM, NULL, 0);
  pmx_dashboard_linter_add_metric(l, NULL, "h", PMX_DISTRIBUTION, test_buckets, 4);
  pmx_dashboard_linter_add_metric(l, NULL, "g", PMX_LAST_VALUE, NULL, 0);
  struct {
    const char *expr;
    int findings;
  } cases[] = {
      {"c + c_total + s_total + h_bucket + h_sum + h_count + g", 0},
      {"h", 1},               /* a histogram has no series of its bare name */
      {"s_total_total", 1},
      {"g_total", 1},
      {"c_bucket", 1},
      {"h_bucket{le=\"0.10\"} + h_bucket{le=\"+Inf\"} + h_bucket{le=\"$le\"}", 0},
      {"h_bucket{le=\"0.25\"}", 1},
      {"h_bucket{le=~\"0.25\"}", 0}, /* regex matchers are not checked */
      {"sum by (le, job) (rate(h_bucket[5m])) / ignoring(le) group_left sum(g)", 0},
      {"histogram_quantile(0.9, rate(h_bucket[$__rate_interval]))", 0},
      {"histogram_quantile(0.9, rate(h_sum[$__rate_interval]))", 1},
      {"count_values(\"v\", g) or vector(0) and on(job) g offset 5m", 0},
      {"label_replace(g, \"dst\", \"$1\", \"src\", \"(.*)\")", 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char doc[1024];
    collected_t c;
    memset(&c, 0, sizeof c);
    size_t o = 0;
    /* The expression sits in a JSON string: escape its quotes. */
    char expr_esc[512];
    for (const char *p = cases[i].expr; *p && o + 3 < sizeof expr_esc; p++) {
      if (*p == '"' || *p == '\\') expr_esc[o++] = '\\';
      expr_esc[o++] = *p;
    }
    expr_esc[o] = '\0';
    snprintf(doc, sizeof doc,
             "{\"uid\":\"u%zu\",\"templating\":{\"list\":[{\"name\":\"le\",\"type\":\"custom\"}]},"
             "\"panels\":[{\"id\":1,\"type\":\"stat\",\"datasource\":{\"uid\":\"x\"},"
             "\"targets\":[{\"expr\":\"%s\"}]}]}",
             i, expr_esc);
    int rc = pmx_dashboard_lint(l, doc, strlen(doc), "series.json", collect, &c, NULL);
    if (rc != cases[i].findings) {
      print_findings(&c);
      fail_msg("case %zu \"%s\": %d findings, wanted %d", i, cases[i].expr, rc, cases[i].findings);
    }
  }
  pmx_dashboard_linter_free(l);
}

typedef struct scan_log {
  char text[1024];
} scan_log_t;

static int log_item(void *ctx, const pmx__promql_item_t *it) {
  scan_log_t *s = ctx;
  static const char *kinds[] = {"M", "V", "LE", "Q"};
  char one[200];
  if (it->kind == PMX__PQ_LE)
    snprintf(one, sizeof one, "%s:%.*s@%.*s ", kinds[it->kind], (int)it->len, it->text,
             (int)it->metric_len, it->metric ? it->metric : "");
  else
    snprintf(one, sizeof one, "%s:%.*s ", kinds[it->kind], (int)it->len, it->text);
  strncat(s->text, one, sizeof s->text - strlen(s->text) - 1);
  return 0;
}

static void test_promql_scanner(void **state) {
  (void)state;
  struct {
    const char *expr, *want;
  } cases[] = {
      {"rate(a_total{job=\"$job\"}[$__rate_interval])", "M:a_total V:job V:__rate_interval "},
      {"sum by (le) (rate(x_bucket{le=\"0.5\", i=~\"${inst:regex}\"}[5m]))",
       "M:x_bucket LE:0.5@x_bucket V:inst "},
      {"histogram_quantile(0.9, sum without (a, b) (rate(y_bucket[1h30m]))) * on (c) group_left "
       "(d) z",
       "M:y_bucket Q:y_bucket M:z "},
      {"max(m1) by (k) > bool 3 unless m2 # comment m3\n + [[old]]", "M:m1 M:m2 V:old "},
      {"{__name__=\"x\"} + 'str $v' + `raw`", "V:v "},
      {"ns:rule:rate5m offset 1d @ start()", "M:ns:rule:rate5m "},
      {"sum(rate(q[5m])) by (le)", "M:q "},
      {"", ""},
      {"((((", ""},
      {"x{le=\"1\"", "M:x LE:1@x "},
      /* subqueries: steps and ranges are not metrics; variables inside still count */
      {"max_over_time(rate(m_total[5m])[1h:1m])", "M:m_total "},
      {"avg_over_time(g[10m:])", "M:g "},
      {"max_over_time(up[1h:$__interval])", "M:up V:__interval "},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    scan_log_t s = {{0}};
    pmx__promql_scan(cases[i].expr, strlen(cases[i].expr), log_item, &s);
    if (strcmp(s.text, cases[i].want) != 0)
      fail_msg("scan \"%s\": got \"%s\", want \"%s\"", cases[i].expr, s.text, cases[i].want);
  }
}

static void test_bad_arguments(void **state) {
  (void)state;
  pmx_error_t err = {0};
  assert_int_equal(pmx_dashboard_lint(NULL, "{}", 2, "f", NULL, NULL, &err), PMX_EINVAL);
  pmx_dashboard_linter_t *l = NULL;
  assert_int_equal(pmx_dashboard_linter_new(NULL), PMX_EINVAL);
  assert_int_equal(pmx_dashboard_linter_new(&l), PMX_OK);
  assert_int_equal(pmx_dashboard_lint(l, NULL, 0, "f", NULL, NULL, &err), PMX_EINVAL);
  /* No callback: findings are still counted. */
  assert_int_equal(pmx_dashboard_lint(l, "{}", 2, NULL, NULL, NULL, &err), 1);
  pmx_dashboard_linter_add_metric(NULL, NULL, "x", PMX_COUNTER, NULL, 0);
  pmx_dashboard_linter_add_metric(l, NULL, NULL, PMX_COUNTER, NULL, 0);
  pmx_dashboard_linter_free(l);
  pmx_dashboard_linter_free(NULL);
}

/* ---- first-party dashboards against hand-written copies of the plugins' metrics ---- */

typedef struct m {
  const char *name;
  pmx_metric_kind_t kind;
} m_t;

static const double scrape_buckets[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                        0.01,   0.025,   0.05,   0.1,   0.25,   1};

/* The outbound client plugins (issue 12): http_client, redis, memcached. */
static void add_client_plugin_metrics(pmx_dashboard_linter_t *l, const char *app) {
  static const struct {
    const char *plugin;
    m_t m;
  } k[] = {{"http_client", {"request_duration_seconds", PMX_DISTRIBUTION}},
           {"http_client", {"request_exceptions_total", PMX_COUNTER}},
           {"http_client", {"request_phase_duration_seconds", PMX_DISTRIBUTION}},
           {"http_client", {"request_size_bytes", PMX_DISTRIBUTION}},
           {"http_client", {"response_size_bytes", PMX_DISTRIBUTION}},
           {"http_client", {"request_connections_total", PMX_COUNTER}},
           {"http_client", {"request_redirects_total", PMX_SUM}},
           {"http_client", {"library_info", PMX_LAST_VALUE}},
           {"redis", {"command_duration_seconds", PMX_DISTRIBUTION}},
           {"redis", {"command_errors_total", PMX_COUNTER}},
           {"redis", {"pipeline_commands", PMX_DISTRIBUTION}},
           {"redis", {"connection_events_total", PMX_COUNTER}},
           {"redis", {"connections", PMX_SUM}},
           {"memcached", {"command_duration_seconds", PMX_DISTRIBUTION}},
           {"memcached", {"cache_hits_total", PMX_COUNTER}},
           {"memcached", {"cache_misses_total", PMX_COUNTER}},
           {"memcached", {"command_errors_total", PMX_COUNTER}}};
  char name[256];
  for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
    snprintf(name, sizeof name, "%s_prom_ex_%s_%s", app, k[i].plugin, k[i].m.name);
    pmx_dashboard_linter_add_metric(l, NULL, name, k[i].m.kind, NULL, 0);
  }
}

static void add_plugin_metrics(pmx_dashboard_linter_t *l, const char *app) {
  add_client_plugin_metrics(l, app);
  static const m_t application[] = {{"primary_info", PMX_LAST_VALUE},
                                    {"dependency_info", PMX_LAST_VALUE},
                                    {"git_sha_info", PMX_LAST_VALUE},
                                    {"git_author_info", PMX_LAST_VALUE},
                                    {"uptime_seconds", PMX_LAST_VALUE}};
  static const m_t process[] = {
      {"memory_resident_bytes", PMX_LAST_VALUE}, {"memory_virtual_bytes", PMX_LAST_VALUE},
      {"memory_resident_peak_bytes", PMX_LAST_VALUE}, {"memory_heap_arena_bytes", PMX_LAST_VALUE},
      {"memory_heap_mmap_bytes", PMX_LAST_VALUE}, {"memory_heap_in_use_bytes", PMX_LAST_VALUE},
      {"memory_heap_free_bytes", PMX_LAST_VALUE}, {"memory_heap_releasable_bytes", PMX_LAST_VALUE},
      {"cpu_seconds_total", PMX_SUM}, {"context_switches_total", PMX_SUM},
      {"page_faults_total", PMX_SUM}, {"threads", PMX_LAST_VALUE}, {"open_fds", PMX_LAST_VALUE},
      {"max_fds", PMX_LAST_VALUE}, {"start_time_seconds", PMX_LAST_VALUE},
      {"uptime_seconds", PMX_LAST_VALUE}, {"system_logical_processors", PMX_LAST_VALUE},
      {"system_logical_processors_online", PMX_LAST_VALUE},
      {"system_logical_processors_available", PMX_LAST_VALUE},
      {"system_limit_open_files", PMX_LAST_VALUE}, {"system_limit_processes", PMX_LAST_VALUE},
      {"system_limit_stack_bytes", PMX_LAST_VALUE},
      {"system_limit_address_space_bytes", PMX_LAST_VALUE},
      {"system_limit_core_bytes", PMX_LAST_VALUE}, {"system_info", PMX_LAST_VALUE},
      {"system_word_size_bytes", PMX_LAST_VALUE}, {"system_page_size_bytes", PMX_LAST_VALUE},
      {"system_threads_max", PMX_LAST_VALUE}, {"system_thread_stack_default_bytes", PMX_LAST_VALUE},
      {"memory_heap_free_chunks", PMX_LAST_VALUE}, {"memory_heap_fastbin_free_bytes", PMX_LAST_VALUE},
      {"memory_heap_mmap_blocks", PMX_LAST_VALUE}, {"io_bytes_total", PMX_SUM},
      {"io_syscalls_total", PMX_SUM}, {"io_storage_bytes_total", PMX_SUM},
      {"threads_state", PMX_LAST_VALUE}, {"cpu_run_queue_wait_seconds_total", PMX_SUM}};
  static const m_t os[] = {
      {"load1", PMX_LAST_VALUE}, {"load5", PMX_LAST_VALUE}, {"load15", PMX_LAST_VALUE},
      {"processes_running", PMX_LAST_VALUE}, {"processes", PMX_LAST_VALUE},
      {"cpu_seconds_total", PMX_SUM}, {"cpu_utilization_ratio", PMX_LAST_VALUE},
      {"cpus", PMX_LAST_VALUE}, {"memory_total_bytes", PMX_LAST_VALUE},
      {"memory_available_bytes", PMX_LAST_VALUE}, {"memory_free_bytes", PMX_LAST_VALUE},
      {"memory_buffers_bytes", PMX_LAST_VALUE}, {"memory_cached_bytes", PMX_LAST_VALUE},
      {"swap_total_bytes", PMX_LAST_VALUE}, {"swap_free_bytes", PMX_LAST_VALUE},
      {"filesystem_size_bytes", PMX_LAST_VALUE}, {"filesystem_free_bytes", PMX_LAST_VALUE},
      {"filesystem_available_bytes", PMX_LAST_VALUE}, {"filesystem_files", PMX_LAST_VALUE},
      {"filesystem_files_free", PMX_LAST_VALUE}, {"network_receive_bytes_total", PMX_SUM},
      {"network_transmit_bytes_total", PMX_SUM}, {"network_receive_packets_total", PMX_SUM},
      {"network_transmit_packets_total", PMX_SUM}, {"network_receive_errors_total", PMX_SUM},
      {"network_transmit_errors_total", PMX_SUM}};
  /* promex's own: the runtime's definitions plus the registry's built-in series. */
  static const m_t own[] = {{"status_info", PMX_LAST_VALUE},  {"poll_errors_total", PMX_COUNTER},
                            {"poll_overruns_total", PMX_COUNTER},
                            {"metric_series", PMX_LAST_VALUE},
                            {"series_dropped_total", PMX_COUNTER},
                            {"events_skipped_total", PMX_COUNTER},
                            {"remote_write_samples_sent_total", PMX_COUNTER},
                            {"remote_write_samples_dropped_total", PMX_COUNTER},
                            {"remote_write_requests_failed_total", PMX_COUNTER},
                            {"remote_write_queue_samples", PMX_LAST_VALUE},
                            {"push_requests_total", PMX_COUNTER}};
  /* the db plugin (issue 11) */
  static const m_t db[] = {{"repo_init_status_info", PMX_LAST_VALUE},
                           {"repo_init_pool_size", PMX_LAST_VALUE},
                           {"repo_init_timeout_seconds", PMX_LAST_VALUE},
                           {"repo_query_idle_time_seconds", PMX_DISTRIBUTION},
                           {"repo_query_queue_time_seconds", PMX_DISTRIBUTION},
                           {"repo_query_decode_time_seconds", PMX_DISTRIBUTION},
                           {"repo_query_execution_time_seconds", PMX_DISTRIBUTION},
                           {"repo_query_total_time_seconds", PMX_DISTRIBUTION},
                           {"repo_query_results_returned", PMX_DISTRIBUTION},
                           {"repo_query_errors_total", PMX_COUNTER},
                           {"repo_pool_connections_in_use", PMX_LAST_VALUE},
                           {"repo_pool_saturation_ratio", PMX_LAST_VALUE}};
  struct {
    const char *plugin;
    const m_t *list;
    size_t n;
  } sets[] = {{"db", db, sizeof db / sizeof db[0]},
              {"application", application, sizeof application / sizeof application[0]},
              {"process", process, sizeof process / sizeof process[0]},
              {"os", os, sizeof os / sizeof os[0]},
              {"prom_ex", own, sizeof own / sizeof own[0]}};
  char name[256];
  for (size_t s = 0; s < sizeof sets / sizeof sets[0]; s++) {
    for (size_t i = 0; i < sets[s].n; i++) {
      snprintf(name, sizeof name, "%s_prom_ex_%s_%s", app, sets[s].plugin, sets[s].list[i].name);
      pmx_dashboard_linter_add_metric(l, NULL, name, sets[s].list[i].kind, NULL, 0);
    }
  }
  /* jobs plugin (issue 14) */
  static const m_t jobs[] = {{"init_queue_concurrency_limit", PMX_LAST_VALUE},
                             {"job_processing_duration_seconds", PMX_DISTRIBUTION},
                             {"job_queue_time_seconds", PMX_DISTRIBUTION},
                             {"job_complete_attempts", PMX_DISTRIBUTION},
                             {"job_exception_duration_seconds", PMX_DISTRIBUTION},
                             {"job_exception_queue_time_seconds", PMX_DISTRIBUTION},
                             {"job_exception_attempts", PMX_DISTRIBUTION},
                             {"producer_duration_seconds", PMX_DISTRIBUTION},
                             {"producer_dispatched_jobs", PMX_DISTRIBUTION},
                             {"producer_exception_duration_seconds", PMX_DISTRIBUTION},
                             {"queue_length", PMX_LAST_VALUE},
                             /* the batch group (Broadway) */
                             {"batch_message_duration_seconds", PMX_DISTRIBUTION},
                             {"batch_message_exception_duration_seconds", PMX_DISTRIBUTION},
                             {"batch_duration_seconds", PMX_DISTRIBUTION},
                             {"batch_success_size", PMX_DISTRIBUTION},
                             {"batch_failure_size", PMX_DISTRIBUTION}};
  for (size_t i = 0; i < sizeof jobs / sizeof jobs[0]; i++) {
    snprintf(name, sizeof name, "%s_prom_ex_jobs_%s", app, jobs[i].name);
    pmx_dashboard_linter_add_metric(l, NULL, name, jobs[i].kind, NULL, 0); /* no le= queries */
  }
  /* amqp plugin (issue 14) */
  static const m_t amqp[] = {{"published_messages_total", PMX_COUNTER},
                             {"published_bytes_total", PMX_SUM},
                             {"publish_duration_seconds", PMX_DISTRIBUTION},
                             {"publish_confirms_total", PMX_COUNTER},
                             {"publish_returns_total", PMX_COUNTER},
                             {"consumed_messages_total", PMX_COUNTER},
                             {"consumed_bytes_total", PMX_SUM},
                             {"handling_duration_seconds", PMX_DISTRIBUTION},
                             {"redelivered_messages_total", PMX_COUNTER},
                             {"connection_up", PMX_LAST_VALUE},
                             {"connection_events_total", PMX_COUNTER},
                             {"queue_messages", PMX_LAST_VALUE},
                             {"queue_consumers", PMX_LAST_VALUE}};
  for (size_t i = 0; i < sizeof amqp / sizeof amqp[0]; i++) {
    snprintf(name, sizeof name, "%s_prom_ex_amqp_%s", app, amqp[i].name);
    pmx_dashboard_linter_add_metric(l, NULL, name, amqp[i].kind, NULL, 0);
  }
  snprintf(name, sizeof name, "%s_prom_ex_prom_ex_scrape_duration_seconds", app);
  pmx_dashboard_linter_add_metric(l, NULL, name, PMX_DISTRIBUTION, scrape_buckets,
                                  sizeof scrape_buckets / sizeof scrape_buckets[0]);
  /* http_server (issue 10): histograms with the plugin's default buckets. */
  static const double http_duration[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  static const double http_size[] = {100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8};
  static const double http_socket[] = {0.01, 0.1, 0.5, 1, 5, 10};
  static const struct {
    const char *name;
    pmx_metric_kind_t kind;
    const double *b;
    size_t nb;
  } http[] = {{"requests_total", PMX_COUNTER, NULL, 0},
              {"request_duration_seconds", PMX_DISTRIBUTION, http_duration, 11},
              {"request_size_bytes", PMX_DISTRIBUTION, http_size, 7},
              {"response_size_bytes", PMX_DISTRIBUTION, http_size, 7},
              {"exceptions_total", PMX_COUNTER, NULL, 0},
              {"requests_in_flight", PMX_LAST_VALUE, NULL, 0},
              {"endpoint_url_info", PMX_LAST_VALUE, NULL, 0},
              {"endpoint_port_info", PMX_LAST_VALUE, NULL, 0},
              {"socket_connected_duration_seconds", PMX_DISTRIBUTION, http_socket, 6},
              {"channel_joined_total", PMX_COUNTER, NULL, 0},
              {"channel_handled_in_duration_seconds", PMX_DISTRIBUTION, http_socket, 6},
              {"route_templates", PMX_LAST_VALUE, NULL, 0}};
  for (size_t i = 0; i < sizeof http / sizeof http[0]; i++) {
    snprintf(name, sizeof name, "%s_prom_ex_http_server_%s", app, http[i].name);
    pmx_dashboard_linter_add_metric(l, NULL, name, http[i].kind, http[i].b, http[i].nb);
  }
}

static void test_first_party_lint_clean(void **state) {
  (void)state;
  pmx_config_t cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.app = "demo";
  pmx_dashboard_linter_t *l = NULL;
  assert_int_equal(pmx_dashboard_linter_new(&l), PMX_OK);
  add_plugin_metrics(l, "demo");
  size_t n = 0;
  const char *const *names = pmx_dashboard_builtins(&n);
  for (size_t i = 0; i < n; i++) {
    pmx_dashboard_use_t d = {names[i], NULL, 0};
    pmx_kv_t *a = NULL;
    size_t na = 0;
    assert_int_equal(pmx_dashboard_assigns(&cfg, &d, &a, &na, NULL), PMX_OK);
    size_t len = 0;
    const char *tmpl = pmx_dashboard_builtin(names[i], &len);
    char *json = NULL;
    assert_int_equal(pmx_dashboard_render(tmpl, len, names[i], a, na, &json, NULL), PMX_OK);
    collected_t c;
    memset(&c, 0, sizeof c);
    int rc = pmx_dashboard_lint(l, json, strlen(json), names[i], collect, &c, NULL);
    if (rc != 0) {
      print_findings(&c);
      fail_msg("%s: %d lint findings", names[i], rc);
    }
    free(json);
    pmx_dashboard_assigns_free(a, na);
  }
  pmx_dashboard_linter_free(l);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_clean_base),
      cmocka_unit_test(test_rule_invalid_json),
      cmocka_unit_test(test_rule_missing_uid),
      cmocka_unit_test(test_rule_duplicate_uid),
      cmocka_unit_test(test_rule_uid_too_long),
      cmocka_unit_test(test_rule_panel_without_datasource),
      cmocka_unit_test(test_rule_unknown_metric),
      cmocka_unit_test(test_rule_quantile_not_bucket),
      cmocka_unit_test(test_rule_unknown_le),
      cmocka_unit_test(test_rule_undefined_variable),
      cmocka_unit_test(test_rule_deprecated_panel_type),
      cmocka_unit_test(test_without_metrics_skips_metric_rules),
      cmocka_unit_test(test_series_names),
      cmocka_unit_test(test_promql_scanner),
      cmocka_unit_test(test_bad_arguments),
      cmocka_unit_test(test_first_party_lint_clean),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
