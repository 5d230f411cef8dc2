/* The SQLite adapter against the real engine (a database file in a temp dir): every statement
 * run is one event with the right command, source, rows and result code name, times in
 * nanoseconds; prepare errors, constraint errors, exec callbacks that abort, runs cut short by
 * reset/finalize, more open runs than the table holds, and the pool checkout times. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "promex/db_sqlite.h"
#include "promex/promex.h"
#include "unit/plugins/plugin_test_util.h"

#define P "t_prom_ex_db_"

typedef struct fx {
  pmx_t *p;
  sqlite3 *db;
  pmx_sqlite_t *c;
  char dir[64], path[96];
} fx_t;

static void quiet_log(void *ctx, pmx_log_level_t level, const char *msg) {
  (void)ctx, (void)level, (void)msg;
}

static int setup(void **state) {
  fx_t *f = calloc(1, sizeof *f);
  snprintf(f->dir, sizeof f->dir, "/tmp/pmx_db_sqlite_XXXXXX");
  if (mkdtemp(f->dir) == NULL) return -1;
  snprintf(f->path, sizeof f->path, "%s/shop.db", f->dir);
  static pmx_plugin_use_t use = {&pmx_plugin_db, NULL, 0, NULL};
  pmx_config_t cfg;
  pmx_config_defaults(&cfg);
  cfg.app = "t";
  cfg.plugins = &use;
  cfg.n_plugins = 1;
  cfg.log = quiet_log;
  pmx_error_t err;
  if (pmx_new(&cfg, &f->p, &err) != PMX_OK || pmx_start(f->p, &err) != PMX_OK) return -1;
  if (sqlite3_open(f->path, &f->db) != SQLITE_OK) return -1;
  if (pmx_sqlite_attach(pmx_bus(f->p), "shop", f->db, &f->c) != PMX_OK) return -1;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fx_t *f = *state;
  pmx_sqlite_detach(f->c);
  sqlite3_close(f->db);
  pmx_destroy(f->p);
  unlink(f->path);
  rmdir(f->dir);
  free(f);
  return 0;
}

static char *render(fx_t *f) {
  pmx_buf_t b = {0};
  assert_int_equal(pmx_get_metrics(f->p, PMX_FORMAT_TEXT, &b), PMX_OK);
  char *s = strndup(b.data, b.len);
  pmx_buf_free(&b);
  return s;
}

static double v(const char *t, const char *name, const char *cmd, const char *src,
                const char *extra) {
  char c[64], s[96];
  snprintf(c, sizeof c, "command=\"%s\"", cmd);
  snprintf(s, sizeof s, "source=\"%s\"", src);
  const char *l[4] = {"repo=\"shop\"", c, s, extra};
  return pt_value(t, name, l, extra ? 4 : 3);
}

static int count_rows(void *arg, int n, char **vals, char **names) {
  (void)vals;
  assert_string_equal(names[0], "id");
  (*(int *)arg) += n > 0;
  return 0;
}
static int abort_cb(void *arg, int n, char **vals, char **names) {
  (void)arg, (void)n, (void)vals, (void)names;
  return 1;
}

static void test_workload(void **state) {
  fx_t *f = *state;
  pmx_sqlite_t *c = f->c;
  char *msg = NULL;
  assert_int_equal(pmx_sqlite_exec(c, "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT);"
                                      " -- trailing comment", NULL, NULL, &msg), SQLITE_OK);
  for (int i = 1; i <= 10; i++) {
    char sql[96];
    snprintf(sql, sizeof sql, "INSERT INTO items VALUES (%d, 'n%d')", i, i);
    assert_int_equal(pmx_sqlite_exec(c, sql, NULL, NULL, NULL), SQLITE_OK);
  }
  /* two constraint violations (step fails), one prepare failure */
  assert_int_equal(pmx_sqlite_exec(c, "INSERT INTO items VALUES (1, 'dup')", NULL, NULL, &msg),
                   SQLITE_CONSTRAINT);
  assert_non_null(strstr(msg, "UNIQUE"));
  sqlite3_free(msg);
  assert_int_equal(pmx_sqlite_exec(c, "INSERT INTO items VALUES (2, 'dup')", NULL, NULL, NULL),
                   SQLITE_CONSTRAINT);
  assert_int_equal(pmx_sqlite_exec(c, "SELECT * FROM missing_table", NULL, NULL, &msg),
                   SQLITE_ERROR);
  assert_non_null(strstr(msg, "no such table"));
  sqlite3_free(msg);
  /* a prepared SELECT stepped to the end, 3 times (reset between) */
  sqlite3_stmt *st = NULL;
  assert_int_equal(pmx_sqlite_prepare(c, "SELECT id FROM items WHERE id <= ?", -1, &st, NULL),
                   SQLITE_OK);
  for (int k = 0; k < 3; k++) {
    sqlite3_bind_int(st, 1, 4);
    int rows = 0;
    while (pmx_sqlite_step(c, st) == SQLITE_ROW) rows++;
    assert_int_equal(rows, 4);
    pmx_sqlite_reset(c, st);
  }
  /* a run cut short: one row read, then finalize (reported with the 1 row seen) */
  assert_int_equal(pmx_sqlite_step(c, st), SQLITE_ROW);
  assert_int_equal(pmx_sqlite_finalize(c, st), SQLITE_OK);
  /* exec with a callback: two statements, one event each; then a callback that aborts */
  int n = 0;
  assert_int_equal(pmx_sqlite_exec(c, "UPDATE items SET name = 'x' WHERE id <= 3; "
                                      "SELECT id FROM items", count_rows, &n, NULL), SQLITE_OK);
  assert_int_equal(n, 10);
  assert_int_equal(pmx_sqlite_exec(c, "SELECT id FROM items", abort_cb, NULL, &msg), SQLITE_ABORT);
  sqlite3_free(msg);
  pmx_sqlite_checkout(c, 5000000, 7000000); /* 5 ms wait for the connection, 7 ms idle */
  assert_int_equal(pmx_sqlite_exec(c, "DELETE FROM items WHERE id = 10", NULL, NULL, NULL),
                   SQLITE_OK);

  char *t = render(f);
  const char *ex = P "repo_query_execution_time_seconds_count";
  assert_true(v(t, ex, "create", "items", NULL) == 1);
  assert_true(v(t, ex, "insert", "items", NULL) == 12);
  assert_true(v(t, P "repo_query_results_returned_sum", "insert", "items", NULL) == 10);
  assert_true(v(t, P "repo_query_errors_total", "insert", "items",
                "error_class=\"SQLITE_CONSTRAINT\"") == 2);
  assert_true(v(t, P "repo_query_errors_total", "select", "missing_table",
                "error_class=\"SQLITE_ERROR\"") == 1);
  /* selects on items: 3 full prepared runs (4 rows), 1 cut short (1 row), exec (10 rows),
   * aborted exec (1 row) */
  assert_true(v(t, ex, "select", "items", NULL) == 6);
  assert_true(v(t, P "repo_query_results_returned_sum", "select", "items", NULL) ==
              12 + 1 + 10 + 1);
  assert_true(v(t, P "repo_query_results_returned_sum", "update", "items", NULL) == 3);
  assert_true(v(t, P "repo_query_results_returned_sum", "delete", "items", NULL) == 1);
  assert_true(pt_value(t, P "repo_query_queue_time_seconds_sum", (const char *[]){"repo=\"shop\""},
                       1) == 0.005);
  assert_true(pt_value(t, P "repo_query_idle_time_seconds_count", (const char *[]){"repo=\"shop\""},
                       1) == 1);
  assert_true(v(t, P "repo_query_total_time_seconds_sum", "delete", "items", NULL) >= 0.005);
  const char *info[] = {"repo=\"shop\"", "database_name=\"shop.db\"",
                        "database_host=\"localhost\""};
  assert_true(pt_value(t, P "repo_init_status_info", info, 3) == 1);
  assert_null(strstr(t, "'n1'"));
  free(t);
}

/* More interleaved open runs than the table holds: the oldest is reported as it stands, every
 * run is reported exactly once, and statements finalized afterwards are fine. */
static void test_many_open_runs(void **state) {
  fx_t *f = *state;
  assert_int_equal(pmx_sqlite_exec(f->c, "CREATE TABLE r (x); INSERT INTO r VALUES (1), (2)",
                                   NULL, NULL, NULL), SQLITE_OK);
  enum { N = 40 };
  sqlite3_stmt *st[N];
  for (int i = 0; i < N; i++) {
    assert_int_equal(pmx_sqlite_prepare(f->c, "SELECT x FROM r", -1, &st[i], NULL), SQLITE_OK);
    assert_int_equal(pmx_sqlite_step(f->c, st[i]), SQLITE_ROW);
  }
  for (int i = 0; i < N; i++) pmx_sqlite_finalize(f->c, st[i]);
  char *t = render(f);
  assert_true(v(t, P "repo_query_execution_time_seconds_count", "select", "r", NULL) == N);
  assert_true(v(t, P "repo_query_results_returned_sum", "select", "r", NULL) == N);
  free(t);
}

static void test_bad_arguments(void **state) {
  fx_t *f = *state;
  pmx_sqlite_t *c = (pmx_sqlite_t *)1;
  assert_int_equal(pmx_sqlite_attach(NULL, "x", f->db, &c), PMX_EINVAL);
  assert_null(c);
  assert_int_equal(pmx_sqlite_attach(pmx_bus(f->p), "", f->db, &c), PMX_EINVAL);
  assert_int_equal(pmx_sqlite_attach(pmx_bus(f->p), "x", NULL, &c), PMX_EINVAL);
  assert_int_equal(pmx_sqlite_attach_repo(NULL, f->db, &c), PMX_EINVAL);
  assert_int_equal(pmx_sqlite_exec(NULL, "SELECT 1", NULL, NULL, NULL), SQLITE_MISUSE);
  assert_int_equal(pmx_sqlite_exec(f->c, NULL, NULL, NULL, NULL), SQLITE_OK);
  assert_int_equal(pmx_sqlite_exec(f->c, "  -- only a comment", NULL, NULL, NULL), SQLITE_OK);
  assert_int_equal(pmx_sqlite_exec(f->c, "garbage ((", NULL, NULL, NULL), SQLITE_ERROR);
  sqlite3_stmt *st = NULL;
  assert_int_equal(pmx_sqlite_prepare(f->c, "SELECT 1 FROM nowhere", 8, &st, NULL), SQLITE_OK);
  pmx_sqlite_finalize(f->c, st); /* "SELECT 1" (nbyte bounds the read) */
  assert_int_equal(pmx_sqlite_step(f->c, NULL), SQLITE_MISUSE);
  pmx_sqlite_detach(NULL);
  assert_string_equal(pmx_sqlite_code_name(SQLITE_CONSTRAINT_UNIQUE), "SQLITE_CONSTRAINT");
  assert_string_equal(pmx_sqlite_code_name(SQLITE_BUSY), "SQLITE_BUSY");
  assert_string_equal(pmx_sqlite_code_name(999), "SQLITE_UNKNOWN");
  assert_string_equal(pmx_sqlite_code_name(-1), "SQLITE_UNKNOWN");
  char *t = render(f);
  assert_true(v(t, P "repo_query_errors_total", PMX_DB_COMMAND_UNAVAILABLE,
                PMX_DB_SOURCE_UNAVAILABLE, "error_class=\"SQLITE_ERROR\"") == 1);
  free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_workload, setup, teardown),
      cmocka_unit_test_setup_teardown(test_many_open_runs, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
