/* Unit tests of mysql_stats' reading of the server's answers, over output captured from MariaDB
 * 10.11 (tests/data/mysql_stats/README.md) and over shapes of other servers: an older one that
 * reports Innodb_rows_* but no row-lock counters, and MySQL 8.0.22+'s renamed replica columns.
 * What a server lacks must be left out (never read as 0); bad cells must be skipped, not crash.
 * Includes the plugin source to reach its statistics table (k_stats, k_row_ops). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mysql_stats.c"

#ifndef FIXTURES
#error FIXTURES must name the fixtures directory
#endif

/* A tab-separated fixture (the mariadb client's -B output): cells split in place; the literal
 * NULL is SQL NULL. `header`: row 0 names the columns. */
typedef struct tsv {
  char *text;
  char *cells[8192];
  size_t rows, cols;
} tsv_t;

static tsv_t *tsv_load(const char *name) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", FIXTURES, name);
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  tsv_t *t = calloc(1, sizeof *t);
  t->text = calloc(1, 1 << 16);
  size_t n = fread(t->text, 1, (1 << 16) - 1, f);
  fclose(f);
  size_t k = 0, cols = 0;
  char *start = t->text;
  for (size_t i = 0; i < n; i++) {
    if (t->text[i] != '\t' && t->text[i] != '\n') continue;
    bool eol = t->text[i] == '\n';
    t->text[i] = '\0';
    assert_true(k < sizeof t->cells / sizeof t->cells[0]);
    t->cells[k++] = strcmp(start, "NULL") == 0 ? NULL : start;
    start = &t->text[i + 1];
    cols++;
    if (eol) {
      if (t->cols == 0) t->cols = cols;
      assert_int_equal(cols, t->cols);
      cols = 0;
      t->rows++;
    }
  }
  return t;
}

static void tsv_free(tsv_t *t) {
  free(t->text);
  free(t);
}

static const char *tsv_name(const void *src, size_t col) {
  return ((const tsv_t *)src)->cells[col];
}

static const char *tsv_cell(const void *src, size_t row, size_t col) {
  const tsv_t *t = src;
  return t->cells[(row + 1) * t->cols + col];
}

/* A fixture with a header row as the plugin's table. */
static pmx__ss_table_t tsv_table(const tsv_t *t) {
  return (pmx__ss_table_t){.nrows = t->rows ? t->rows - 1 : 0, .ncols = t->cols,
                           .name = tsv_name, .cell = tsv_cell, .src = t};
}

/* Status rows then variable rows into pairs, as a poll collects them; returns the status count. */
static size_t load_pairs(pmx__my_pairs_t *p, const tsv_t *status, const tsv_t *vars) {
  memset(p, 0, sizeof *p);
  for (size_t r = 0; r < status->rows; r++)
    pmx__my_pairs_add(p, status->cells[r * 2], status->cells[r * 2 + 1], ""); /* NULLs dropped */
  size_t n_status = p->n;
  for (size_t r = 0; vars != NULL && r < vars->rows; r++)
    assert_true(pmx__my_pairs_add(p, vars->cells[r * 2], vars->cells[r * 2 + 1], "v:"));
  return n_status;
}

static bool find(const pmx_measurement_t *m, size_t n, const char *key, double *v) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(m[i].key, key) == 0) {
      *v = m[i].value;
      return true;
    }
  return false;
}

static void test_mariadb_status_and_variables(void **state) {
  (void)state;
  tsv_t *st = tsv_load("mariadb_10.11_global_status.tsv");
  tsv_t *vars = tsv_load("mariadb_10.11_global_variables.tsv");
  assert_int_equal(st->cols, 2);
  static pmx__my_pairs_t p;
  size_t n_status = load_pairs(&p, st, vars);
  assert_int_equal(st->rows, 562);
  assert_int_equal(n_status, 561); /* Max_memory_used is NULL on this server: dropped */
  pmx__ss_cum_t cums[N_STATS] = {{0}};
  pmx_measurement_t m[N_STATS];
  size_t n = pmx__ss_stat_measure(k_stats, N_STATS, cums, pmx__my_pairs_lookup, &p, m);
  assert_int_equal(n, N_STATS); /* MariaDB 10.11 has every statistic of the table */
  double v;
  assert_true(find(m, n, "connections.max", &v) && v == 151);                 /* a variable */
  assert_true(find(m, n, "innodb.buffer.pool.size.bytes", &v) && v == 134217728);
  assert_true(find(m, n, "threads.connected", &v) && v == 1);
  assert_true(find(m, n, "innodb.buffer.pool.pages.total", &v) && v == 8112);
  assert_string_equal(pmx__my_pairs_get(&p, "v:version"), "10.11.19-MariaDB-0+deb12u1");
  assert_null(pmx__my_pairs_get(&p, "version")); /* variables only under their prefix */
  /* A second poll of the same answer: counters add nothing, gauges repeat. */
  n = pmx__ss_stat_measure(k_stats, N_STATS, cums, pmx__my_pairs_lookup, &p, m);
  assert_true(find(m, n, "questions.total", &v) && v == 0);
  assert_true(find(m, n, "connections.max", &v) && v == 151);

  /* Com_<command>: every one the server lists, none from the variables. */
  size_t i = 0, n_com = 0;
  const char *name;
  bool insert_seen = false;
  while (pmx__my_prefixed_next(&p, n_status, "Com_", &i, &name, &v)) {
    n_com++;
    if (strcmp(name, "insert") == 0) insert_seen = v == 1;
  }
  assert_int_equal(n_com, 168);
  assert_true(insert_seen);
  /* MariaDB 10.6+ has no Innodb_rows_*: the family is left out, not reported as 0. */
  for (size_t k = 0; k < 4; k++) {
    char src[48];
    snprintf(src, sizeof src, "Innodb_rows_%s", k_row_ops[k]);
    assert_false(pmx__my_pairs_lookup(&p, src, &v));
  }
  tsv_free(st);
  tsv_free(vars);
}

static void test_older_server_lacks_row_lock_counters(void **state) {
  (void)state;
  tsv_t *st = tsv_load("older_global_status.tsv");
  static pmx__my_pairs_t p;
  load_pairs(&p, st, NULL);
  pmx__ss_cum_t cums[N_STATS] = {{0}};
  pmx_measurement_t m[N_STATS];
  size_t n = pmx__ss_stat_measure(k_stats, N_STATS, cums, pmx__my_pairs_lookup, &p, m);
  double v;
  /* Three row-lock statistics and the two variables are missing: left out. */
  assert_int_equal(n, N_STATS - 5);
  assert_false(find(m, n, "innodb.row.lock.waits.total", &v));
  assert_false(find(m, n, "connections.max", &v));
  assert_true(find(m, n, "threads.connected", &v) && v == 1);
  double want[4] = {12, 3, 1, 1}; /* read, inserted, updated, deleted */
  for (size_t k = 0; k < 4; k++) {
    char src[48];
    snprintf(src, sizeof src, "Innodb_rows_%s", k_row_ops[k]);
    assert_true(pmx__my_pairs_lookup(&p, src, &v));
    assert_true(v == want[k]);
  }
  tsv_free(st);
}

static void test_replica_rows(void **state) {
  (void)state;
  pmx__my_replica_t r;
  tsv_t *t = tsv_load("mariadb_10.11_slave_status_replica.tsv");
  pmx__ss_table_t tab = tsv_table(t);
  assert_int_equal(tab.nrows, 1);
  assert_true(pmx__my_replica_row(&tab, 0, &r));
  assert_true(r.running && r.has_lag && r.lag_seconds == 0);
  assert_string_equal(r.connection, ""); /* SHOW SLAVE STATUS: the default connection */
  assert_false(pmx__my_replica_row(&tab, 1, &r)); /* past the rows */
  tsv_free(t);

  t = tsv_load("mariadb_10.11_slave_status_sql_stopped.tsv");
  tab = tsv_table(t);
  assert_true(pmx__my_replica_row(&tab, 0, &r));
  assert_false(r.running);  /* SQL thread stopped */
  assert_false(r.has_lag);  /* Seconds_Behind_Master NULL: no lag reported, not 0 */
  tsv_free(t);

  t = tsv_load("mysql_8.0_replica_status.tsv");
  tab = tsv_table(t);
  assert_int_equal(tab.nrows, 2);
  assert_true(pmx__my_replica_row(&tab, 0, &r));
  assert_true(r.running && r.has_lag && r.lag_seconds == 0);
  assert_true(pmx__my_replica_row(&tab, 1, &r));
  assert_false(r.running); /* Replica_IO_Running: Connecting */
  assert_true(r.has_lag && r.lag_seconds == 42);
  assert_string_equal(r.connection, "eu");
  tsv_free(t);
}

/* The primary's answer is empty; a result without the thread columns is not a replica row. */
static const char *const k_names[] = {"Slave_IO_Running", "Seconds_Behind_Master", "x"};
static const char *const k_cells[2][3] = {{"Yes", "-3", NULL}, {NULL, "1e400", "y"}};
static const char *arr_name(const void *src, size_t col) {
  (void)src;
  return k_names[col];
}
static const char *arr_cell(const void *src, size_t row, size_t col) {
  (void)src;
  return k_cells[row][col];
}

static void test_bad_replica_and_pairs_input(void **state) {
  (void)state;
  tsv_t *t = tsv_load("mariadb_10.11_slave_status_primary.tsv");
  assert_int_equal(t->rows, 0);
  tsv_free(t);
  pmx__my_replica_t r;
  pmx__ss_table_t tab = {.nrows = 2, .ncols = 3, .name = arr_name, .cell = arr_cell};
  assert_false(pmx__my_replica_row(&tab, 0, &r)); /* no SQL thread column */
  tab.ncols = 2;
  assert_false(pmx__my_replica_row(&tab, 0, &r));

  static pmx__my_pairs_t p;
  memset(&p, 0, sizeof p);
  double v;
  assert_false(pmx__my_pairs_add(&p, "Uptime", NULL, ""));   /* SQL NULL */
  assert_false(pmx__my_pairs_add(&p, NULL, "1", ""));
  assert_true(pmx__my_pairs_add(&p, "Uptime", "12abc", "")); /* kept, but not a number */
  assert_false(pmx__my_pairs_lookup(&p, "uptime", &v));
  assert_true(pmx__my_pairs_add(&p, "Questions", "-5", ""));
  pmx__ss_cum_t cums[N_STATS] = {{0}};
  pmx_measurement_t m[N_STATS];
  assert_int_equal(pmx__ss_stat_measure(k_stats, N_STATS, cums, pmx__my_pairs_lookup, &p, m), 0);
  char longname[200];
  memset(longname, 'a', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  assert_false(pmx__my_pairs_add(&p, longname, "1", "v:")); /* does not fit: dropped */
  for (size_t i = 0; i < PMX__MY_MAX_PREFIXED; i++) assert_true(pmx__my_pairs_add(&p, "x", "1", "v:"));
  assert_false(pmx__my_pairs_add(&p, "x", "1", "v:")); /* prefixed cap */
  while (p.n < PMX__MY_MAX_VARS) assert_true(pmx__my_pairs_add(&p, "Com_x", "1", ""));
  assert_false(pmx__my_pairs_add(&p, "Com_y", "1", "")); /* row cap: bounded */
  size_t i = 0, n = 0;
  const char *name;
  while (pmx__my_prefixed_next(&p, p.n, "Com_", &i, &name, &v)) n++;
  assert_int_equal(n, PMX__MY_MAX_VARS - 2 - PMX__MY_MAX_PREFIXED); /* all the Com_x rows */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_mariadb_status_and_variables),
      cmocka_unit_test(test_older_server_lacks_row_lock_counters),
      cmocka_unit_test(test_replica_rows),
      cmocka_unit_test(test_bad_replica_and_pairs_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
