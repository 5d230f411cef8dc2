/* Unit tests of postgres_stats' mapping from pg_stat_database rows to measurements, over
 * captured fixtures (fixtures/README.md): PostgreSQL 15, and the same rows in the 13 layout
 * (no active_time and session columns), whose missing columns must be left out, not read as 0;
 * and pg_stat_replication rows (a primary with one streaming replica, captured; the replica's own
 * empty view) through a real bus, with NULL lag columns and the replica cap.
 * Includes the plugin source to reach its statistics table (k_db). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "postgres_stats.c"

#ifndef FIXTURES
#error FIXTURES must name the fixtures directory
#endif

/* A CSV fixture (no quoted fields) as a pmx__ss_table_t: empty fields are SQL NULLs. */
typedef struct csv {
  char *text;
  char **cells; /* row-major, row 0 = header */
  size_t rows, cols;
} csv_t;

static const char *csv_name(const void *src, size_t col) {
  const csv_t *c = src;
  return c->cells[col];
}

static const char *csv_cell(const void *src, size_t row, size_t col) {
  const csv_t *c = src;
  const char *v = c->cells[(row + 1) * c->cols + col];
  return v[0] == '\0' ? NULL : v;
}

static void csv_load(csv_t *c, const char *name) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", FIXTURES, name);
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  c->text = calloc(1, 65536);
  size_t n = fread(c->text, 1, 65535, f);
  fclose(f);
  c->cells = calloc(4096, sizeof *c->cells);
  c->rows = c->cols = 0;
  size_t k = 0, cols = 0;
  char *p = c->text;
  c->cells[k++] = p;
  for (size_t i = 0; i < n; i++) {
    if (c->text[i] == ',' || c->text[i] == '\n') {
      bool eol = c->text[i] == '\n';
      c->text[i] = '\0';
      cols++;
      if (eol) {
        if (c->cols == 0) c->cols = cols;
        assert_int_equal(cols, c->cols);
        cols = 0;
        c->rows++;
      }
      if (i + 1 < n) c->cells[k++] = &c->text[i + 1];
    }
  }
}

static pmx__ss_table_t csv_table(const csv_t *c) {
  return (pmx__ss_table_t){.nrows = c->rows - 1, .ncols = c->cols, .name = csv_name,
                           .cell = csv_cell, .src = c};
}

static bool find(const pmx_measurement_t *m, size_t n, const char *key, double *v) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(m[i].key, key) == 0) {
      *v = m[i].value;
      return true;
    }
  return false;
}

static size_t row_of(const pmx__ss_table_t *t, const char *db) {
  int c = pmx__ss_col(t, "datname");
  assert_true(c >= 0);
  for (size_t r = 0; r < t->nrows; r++)
    if (strcmp(t->cell(t->src, r, (size_t)c), db) == 0) return r;
  fail_msg("no row %s", db);
  return 0;
}

static void test_pg15_row(void **state) {
  (void)state;
  csv_t c;
  csv_load(&c, "pg_stat_database_15.csv");
  pmx__ss_table_t t = csv_table(&c);
  assert_int_equal(t.nrows, 4);
  pmx__ss_keyed_t keyed[N_DB];
  for (size_t i = 0; i < N_DB; i++) assert_true(pmx__ss_keyed_init(&keyed[i], 8));
  pmx_measurement_t m[N_DB];
  size_t r = row_of(&t, "template1");
  size_t n = pmx__ss_row_measure(&t, r, k_db, N_DB, keyed, "template1", m);
  assert_int_equal(n, N_DB); /* every column present in 15 */
  double v;
  assert_true(find(m, n, "transactions.committed.total", &v) && v == 878);
  assert_true(find(m, n, "tuples.inserted.total", &v) && v == 17554);
  assert_true(find(m, n, "database.size.bytes", &v) && v == 7471619);
  r = row_of(&t, "postgres");
  n = pmx__ss_row_measure(&t, r, k_db, N_DB, keyed, "postgres", m);
  assert_true(find(m, n, "active.seconds.total", &v) && v > 0.0615 && v < 0.0616); /* ms -> s */
  /* Second poll of the same rows: counters add nothing, gauges repeat. */
  n = pmx__ss_row_measure(&t, r, k_db, N_DB, keyed, "postgres", m);
  assert_true(find(m, n, "transactions.committed.total", &v) && v == 0);
  assert_true(find(m, n, "database.size.bytes", &v) && v == 7634279);
  for (size_t i = 0; i < N_DB; i++) pmx__ss_keyed_free(&keyed[i]);
  free(c.cells);
  free(c.text);
}

static void test_pg13_lacks_active_time(void **state) {
  (void)state;
  csv_t c;
  csv_load(&c, "pg_stat_database_13.csv");
  pmx__ss_table_t t = csv_table(&c);
  assert_int_equal(pmx__ss_col(&t, "active_time"), -1);
  pmx__ss_keyed_t keyed[N_DB];
  for (size_t i = 0; i < N_DB; i++) assert_true(pmx__ss_keyed_init(&keyed[i], 8));
  pmx_measurement_t m[N_DB];
  size_t n = pmx__ss_row_measure(&t, row_of(&t, "postgres"), k_db, N_DB, keyed, "postgres", m);
  double v;
  assert_int_equal(n, N_DB - 1);
  assert_false(find(m, n, "active.seconds.total", &v));
  assert_true(find(m, n, "blocks.read.total", &v) && v == 73);
  for (size_t i = 0; i < N_DB; i++) pmx__ss_keyed_free(&keyed[i]);
  free(c.cells);
  free(c.text);
}

/* NULLs (a size we may not read) and garbage cells are left out; the database cap holds. */
static const char *const k_names[] = {"datname", "xact_commit", "size_bytes"};
static const char *const k_cells[3][3] = {{"a", "5", NULL}, {"b", "x1", "10"}, {"c", "7", "1"}};

static const char *arr_name(const void *src, size_t col) {
  (void)src;
  return k_names[col];
}

static const char *arr_cell(const void *src, size_t row, size_t col) {
  (void)src;
  return k_cells[row][col];
}

static void test_nulls_garbage_and_cap(void **state) {
  (void)state;
  pmx__ss_table_t t = {.nrows = 3, .ncols = 3, .name = arr_name, .cell = arr_cell, .src = NULL};
  pmx__ss_keyed_t keyed[N_DB];
  for (size_t i = 0; i < N_DB; i++) assert_true(pmx__ss_keyed_init(&keyed[i], 1));
  pmx_measurement_t m[N_DB];
  double v;
  size_t n = pmx__ss_row_measure(&t, 0, k_db, N_DB, keyed, "a", m);
  assert_int_equal(n, 1); /* xact_commit only: size is NULL */
  assert_true(find(m, n, "transactions.committed.total", &v) && v == 5);
  n = pmx__ss_row_measure(&t, 1, k_db, N_DB, keyed, "b", m);
  assert_int_equal(n, 1); /* "x1" is not a number */
  assert_true(find(m, n, "database.size.bytes", &v) && v == 10);
  n = pmx__ss_row_measure(&t, 2, k_db, N_DB, keyed, "c", m);
  /* Database c's counters are past the cap of 1 (taken by a) (bounded cardinality); gauges are not
   * tracked, and the metric's own max_series bounds them. */
  assert_false(find(m, n, "transactions.committed.total", &v));
  assert_true(find(m, n, "database.size.bytes", &v) && v == 1);
  for (size_t i = 0; i < N_DB; i++) pmx__ss_keyed_free(&keyed[i]);
}

/* What emit_replicas() sent, recorded by a handler on a real bus. */
static struct {
  size_t n_rows;
  double bytes, secs, replicas;
  bool has_bytes, has_secs;
  char app[64], addr[64];
} g_rec;

static void record(const pmx_event_data_t *ev, void *config) {
  pg_ctx_t *c = config;
  if (ev->event == c->ev_replicas) {
    assert_true(pmx_event_measurement(ev, "replicas", &g_rec.replicas));
    return;
  }
  g_rec.n_rows++;
  g_rec.has_bytes = pmx_event_measurement(ev, "replica.replay.lag.bytes", &g_rec.bytes);
  g_rec.has_secs = pmx_event_measurement(ev, "replica.replay.lag.seconds", &g_rec.secs);
  snprintf(g_rec.app, sizeof g_rec.app, "%s", pmx_event_meta(ev, "application_name")->v.s);
  snprintf(g_rec.addr, sizeof g_rec.addr, "%s", pmx_event_meta(ev, "client_addr")->v.s);
}

static pmx_bus_t *replica_bus(pg_ctx_t *c) {
  pmx_bus_t *bus = NULL;
  assert_int_equal(pmx_bus_new(&bus), PMX_OK);
  assert_int_equal(pmx_bus_event(bus, EV_REPLICA, &c->ev_replica), PMX_OK);
  assert_int_equal(pmx_bus_event(bus, EV_REPLICAS, &c->ev_replicas), PMX_OK);
  const char *const names[] = {EV_REPLICA, EV_REPLICAS};
  assert_int_equal(pmx_bus_attach_many(bus, "rec", names, 2, record, c), PMX_OK);
  memset(&g_rec, 0, sizeof g_rec);
  g_rec.replicas = -1;
  return bus;
}

static void test_replicas_of_a_primary(void **state) {
  (void)state;
  static pg_ctx_t c;
  pmx_bus_t *bus = replica_bus(&c);
  csv_t f;
  csv_load(&f, "pg_stat_replication_15.csv");
  pmx__ss_table_t t = csv_table(&f);
  assert_int_equal(emit_replicas(&c, &t), 1);
  assert_int_equal(g_rec.n_rows, 1);
  assert_true(g_rec.replicas == 1);
  assert_string_equal(g_rec.app, "replica1");
  assert_string_equal(g_rec.addr, "127.0.0.1");
  assert_true(g_rec.has_bytes && g_rec.bytes == 0);
  assert_true(g_rec.has_secs && g_rec.secs > 0.0221 && g_rec.secs < 0.0222);
  free(f.cells);
  free(f.text);

  /* The replica's own view: nobody streams from it. The count still reads 0. */
  memset(&g_rec, 0, sizeof g_rec);
  g_rec.replicas = -1;
  csv_load(&f, "pg_stat_replication_15_replica.csv");
  t = csv_table(&f);
  assert_int_equal(emit_replicas(&c, &t), 0);
  assert_int_equal(g_rec.n_rows, 0);
  assert_true(g_rec.replicas == 0);
  free(f.cells);
  free(f.text);
  pmx_bus_destroy(bus);
}

/* 40 replicas, the lag columns NULL for every odd one (another role's sender, no pg_monitor). */
static const char *const k_rep_names[] = {"application_name", "client_addr", "replay_lag_bytes",
                                          "replay_lag_seconds"};
static const char *rep_name(const void *src, size_t col) {
  (void)src;
  return k_rep_names[col];
}
static const char *rep_cell(const void *src, size_t row, size_t col) {
  (void)src;
  static char apps[40][16];
  snprintf(apps[row], sizeof apps[row], "r%zu", row);
  if (col == 0) return apps[row];
  if (col == 1) return "10.0.0.1";
  return row % 2 ? NULL : (col == 2 ? "4096" : "not a number");
}

static void test_replicas_nulls_and_cap(void **state) {
  (void)state;
  static pg_ctx_t c;
  pmx_bus_t *bus = replica_bus(&c);
  pmx__ss_table_t t = {.nrows = 40, .ncols = 4, .name = rep_name, .cell = rep_cell};
  assert_int_equal(emit_replicas(&c, &t), 40);
  assert_true(g_rec.replicas == 40); /* the count is exact */
  /* Rows past the cap are not reported; of the first 32 the odd ones had nothing to report. */
  assert_int_equal(g_rec.n_rows, PMX_POSTGRES_STATS_MAX_REPLICAS / 2);
  assert_string_equal(g_rec.app, "r30");
  assert_true(g_rec.has_bytes && g_rec.bytes == 4096);
  assert_false(g_rec.has_secs); /* garbage cell left out */
  t.ncols = 2; /* no lag columns at all (an answer we do not expect): nothing, no crash */
  memset(&g_rec, 0, sizeof g_rec);
  assert_int_equal(emit_replicas(&c, &t), 40);
  assert_int_equal(g_rec.n_rows, 0);
  pmx_bus_destroy(bus);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pg15_row),
      cmocka_unit_test(test_pg13_lacks_active_time),
      cmocka_unit_test(test_nulls_garbage_and_cap),
      cmocka_unit_test(test_replicas_of_a_primary),
      cmocka_unit_test(test_replicas_nulls_and_cap),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
