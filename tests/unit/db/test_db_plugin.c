/* The db plugin in a real promex instance: repo handles emit the event contract and the plugin
 * turns it into the documented families with exact counts; absent measurements stay absent;
 * the repos filter, custom buckets, the init re-announcement of repos created before start, pool
 * gauges; bad options fail start with PMX_ECONFIG naming the option; bad handles are refused. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"
#include "unit/plugins/plugin_test_util.h"
#include "promex/plugins/db.h"
#include "promex/promex.h"

#define P "t_prom_ex_db_"

static void quiet_log(void *ctx, pmx_log_level_t level, const char *msg) {
  (void)ctx;
  (void)level;
  (void)msg;
}

/* Creates (not started) an instance with the db plugin and `opts`. */
static pmx_t *make(const pmx_kv_t *opts, size_t n) {
  static pmx_plugin_use_t use;
  use = (pmx_plugin_use_t){&pmx_plugin_db, opts, n, NULL};
  pmx_config_t cfg;
  pmx_config_defaults(&cfg);
  cfg.app = "t";
  cfg.plugins = &use;
  cfg.n_plugins = 1;
  cfg.log = quiet_log;
  pmx_t *p = NULL;
  pmx_error_t err;
  assert_int_equal(pmx_new(&cfg, &p, &err), PMX_OK);
  return p;
}

static char *render(pmx_t *p) {
  pmx_buf_t b = {0};
  assert_int_equal(pmx_get_metrics(p, PMX_FORMAT_TEXT, &b), PMX_OK);
  char *s = strndup(b.data, b.len);
  pmx_buf_free(&b);
  return s;
}

static double val(const char *text, const char *name, const char *l1, const char *l2,
                  const char *l3) {
  const char *labels[3];
  size_t n = 0;
  if (l1) labels[n++] = l1;
  if (l2) labels[n++] = l2;
  if (l3) labels[n++] = l3;
  return pt_value(text, name, labels, n);
}

static void test_queries_to_metrics(void **state) {
  (void)state;
  pmx_t *p = make(NULL, 0);
  pmx_db_repo_t *early = NULL, *r = NULL;
  /* Created before start: its first init event finds no metric; the manual run re-announces. */
  pmx_db_repo_info_t info = {"shop", "127.0.0.1", 10, 15};
  assert_int_equal(pmx_db_repo_new(pmx_bus(p), "early", &info, &early), PMX_OK);
  pmx_error_t err;
  assert_int_equal(pmx_start(p, &err), PMX_OK);
  assert_int_equal(pmx_db_repo_new(pmx_bus(p), "main", NULL, &r), PMX_OK);

  for (int i = 0; i < 3; i++) {
    pmx_db_query_t q = PMX_DB_QUERY_INIT;
    q.sql = "SELECT * FROM users WHERE id = 'secret-value'";
    q.query_ns = 2000000; /* 2 ms */
    q.rows = 7;
    assert_int_equal(pmx_db_repo_query(r, &q), PMX_OK);
  }
  pmx_db_query_t e = PMX_DB_QUERY_INIT;
  e.sql = "INSERT INTO users VALUES (1)";
  e.query_ns = 1000;
  e.queue_ns = 3000;
  e.error = true;
  e.error_class = "23505";
  assert_int_equal(pmx_db_repo_query(r, &e), PMX_OK);
  assert_int_equal(pmx_db_repo_pool(r, 3, 4), PMX_OK);

  char *t = render(p);
  assert_false(strstr(t, "secret-value")); /* never SQL or parameters in a label */
  const char *repo = "repo=\"main\"", *sel = "command=\"select\"", *users = "source=\"users\"";
  assert_true(val(t, P "repo_query_execution_time_seconds_count", repo, sel, users) == 3);
  assert_true(fabs(val(t, P "repo_query_execution_time_seconds_sum", repo, sel, users) - 0.006) <
              1e-9);
  assert_true(val(t, P "repo_query_execution_time_seconds_bucket", repo, sel, "le=\"0.001\"") == 0);
  assert_true(val(t, P "repo_query_execution_time_seconds_bucket", repo, sel, "le=\"0.005\"") == 3);
  assert_true(val(t, P "repo_query_results_returned_bucket", repo, sel, "le=\"5\"") == 0);
  assert_true(val(t, P "repo_query_results_returned_bucket", repo, sel, "le=\"10\"") == 3);
  assert_true(val(t, P "repo_query_total_time_seconds_count", repo, sel, NULL) == 3);
  /* The errored insert: counted once, in errors_total by SQLSTATE, with its queue time; the
   * selects had no queue time and do not appear in that histogram. */
  assert_true(val(t, P "repo_query_errors_total", repo, "command=\"insert\"",
                  "error_class=\"23505\"") == 1);
  assert_true(val(t, P "repo_query_queue_time_seconds_count", repo, NULL, NULL) == 1);
  assert_true(fabs(val(t, P "repo_query_total_time_seconds_sum", repo, "command=\"insert\"", NULL) -
                   4e-6) < 1e-12);
  assert_true(isnan(val(t, P "repo_query_decode_time_seconds_count", repo, NULL, NULL)));
  assert_true(
      isnan(val(t, P "repo_query_results_returned_count", repo, "command=\"insert\"", NULL)));
  assert_true(val(t, P "repo_pool_connections_in_use", repo, NULL, NULL) == 3);
  assert_true(val(t, P "repo_pool_saturation_ratio", repo, NULL, NULL) == 0.75);
  /* init info of both repos, the early one through the manual run at start */
  assert_true(val(t, P "repo_init_status_info", "repo=\"early\"", "database_name=\"shop\"",
                  "database_host=\"127.0.0.1\"") == 1);
  assert_true(val(t, P "repo_init_pool_size", "repo=\"early\"", NULL, NULL) == 10);
  assert_true(val(t, P "repo_init_timeout_seconds", "repo=\"early\"", NULL, NULL) == 15);
  assert_true(val(t, P "repo_init_status_info", repo, "database_name=\"unknown\"", NULL) == 1);
  assert_true(val(t, P "repo_init_pool_size", repo, NULL, NULL) == 1);
  /* no event was skipped: absent measurements are filtered, not counted as missing */
  assert_null(strstr(t, "events_skipped_total{"));
  free(t);
  pmx_db_repo_free(r);
  pmx_db_repo_free(early);
  pmx_destroy(p);
}

static void test_repos_filter_and_buckets(void **state) {
  (void)state;
  static const pmx_kv_t opts[] = {{"repos", "a, c"},
                                  {"duration_buckets", "0.5, 1"},
                                  {"rows_buckets", "2"}};
  pmx_t *p = make(opts, 3);
  pmx_error_t err;
  assert_int_equal(pmx_start(p, &err), PMX_OK);
  pmx_db_repo_t *a = NULL, *b = NULL;
  assert_int_equal(pmx_db_repo_new(pmx_bus(p), "a", NULL, &a), PMX_OK);
  assert_int_equal(pmx_db_repo_new(pmx_bus(p), "b", NULL, &b), PMX_OK);
  pmx_db_query_t q = PMX_DB_QUERY_INIT;
  q.sql = "DELETE FROM t";
  q.query_ns = 1;
  q.rows = 3;
  pmx_db_repo_query(a, &q);
  pmx_db_repo_query(b, &q);
  char *t = render(p);
  assert_true(val(t, P "repo_query_execution_time_seconds_count", "repo=\"a\"", NULL, NULL) == 1);
  assert_true(isnan(val(t, P "repo_query_execution_time_seconds_count", "repo=\"b\"", NULL, NULL)));
  assert_true(isnan(val(t, P "repo_init_status_info", "repo=\"b\"", NULL, NULL)));
  assert_true(val(t, P "repo_query_execution_time_seconds_bucket", "repo=\"a\"", "le=\"0.5\"",
                  NULL) == 1);
  assert_true(val(t, P "repo_query_results_returned_bucket", "repo=\"a\"", "le=\"2\"", NULL) == 0);
  assert_true(val(t, P "repo_query_results_returned_bucket", "repo=\"a\"", "le=\"+Inf\"", NULL) ==
              1);
  assert_true(isnan(val(t, P "repo_query_execution_time_seconds_bucket", "repo=\"a\"",
                        "le=\"0.0001\"", NULL))); /* the default buckets are gone */
  free(t);
  pmx_db_repo_free(a);
  pmx_db_repo_free(b);
  pmx_destroy(p);
}

static void expect_bad(const char *key, const char *value) {
  pmx_kv_t opts[] = {{key, value}};
  pmx_t *p = make(opts, 1);
  pmx_error_t err = {0};
  assert_int_equal(pmx_start(p, &err), PMX_ECONFIG);
  if (strstr(err.text, key) == NULL) {
    fprintf(stderr, "error for %s=%s does not name the option: %s\n", key, value, err.text);
    fail();
  }
  pmx_destroy(p);
}

static void test_bad_options(void **state) {
  (void)state;
  expect_bad("duration_buckets", "");
  expect_bad("duration_buckets", "1,0.5");
  expect_bad("duration_buckets", "1,1");
  expect_bad("duration_buckets", "0.1,abc");
  expect_bad("duration_buckets", "0.1,");
  expect_bad("duration_buckets", "nan");
  expect_bad("duration_buckets", "-1");
  expect_bad("rows_buckets", "1 2");
  expect_bad("rows_buckets", "inf");
  expect_bad("repos", " , ");
  expect_bad("no_such_option", "1");
}

static void test_bad_handles(void **state) {
  (void)state;
  pmx_bus_t *bus = NULL;
  assert_int_equal(pmx_bus_new(&bus), PMX_OK);
  pmx_db_repo_t *r = (pmx_db_repo_t *)1;
  assert_int_equal(pmx_db_repo_new(bus, "", NULL, &r), PMX_EINVAL);
  assert_null(r);
  assert_int_equal(pmx_db_repo_new(bus, "bad\nname", NULL, &r), PMX_EINVAL);
  assert_int_equal(pmx_db_repo_new(NULL, "x", NULL, &r), PMX_EINVAL);
  assert_int_equal(pmx_db_repo_new(bus, "x", NULL, NULL), PMX_EINVAL);
  assert_int_equal(pmx_db_repo_query(NULL, NULL), PMX_EINVAL);
  assert_int_equal(pmx_db_repo_pool(NULL, 1, 1), PMX_EINVAL);
  assert_int_equal(pmx_db_repo_announce(NULL), PMX_EINVAL);
  pmx_db_repo_info_t info = {"db\x01name", NULL, 0, -1};
  assert_int_equal(pmx_db_repo_new(bus, "x", &info, &r), PMX_OK);
  pmx_db_query_t q = PMX_DB_QUERY_INIT; /* no SQL, no times: still a valid (empty) event */
  assert_int_equal(pmx_db_repo_query(r, &q), PMX_OK);
  pmx_db_repo_free(r);
  pmx_db_repo_free(NULL);
  pmx_bus_destroy(bus);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_queries_to_metrics),
      cmocka_unit_test(test_repos_filter_and_buckets),
      cmocka_unit_test(test_bad_options),
      cmocka_unit_test(test_bad_handles),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
