/* Adapter overhead of the db plugin (issue 11): the same statement run bare and through the
 * adapter on the same engine, side by side, in one process.
 *
 *   bench_db [N]       (default N = 200000 runs per mode; BENCH_OPS overrides)
 *
 * Engine: SQLite, in memory (no server needed): a prepared `SELECT v FROM kv WHERE k = ?` on a
 * 1000-row table, stepped to SQLITE_DONE and reset, bare (sqlite3_step/sqlite3_reset) and wrapped
 * (pmx_sqlite_step/pmx_sqlite_reset with the db plugin running, so each run classifies the SQL,
 * reads the clock twice per step and updates three histograms). Modes alternate in five rounds
 * and the median of each is printed, as bench_promex does:
 *   peer=sqlite-bare workload=db_query_overhead threads=1 value=... unit=ns/query
 *   peer=promex workload=db_query_overhead threads=1 value=... unit=ns/query
 *   peer=promex-overhead workload=db_query_overhead threads=1 value=... unit=ns/query
 * The last run verifies that the plugin counted every wrapped run (exit 1 otherwise). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "promex/db_sqlite.h"
#include "promex/promex.h"

#define ROUNDS 5

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double run(sqlite3_stmt *st, pmx_sqlite_t *c, long n) {
  double t0 = now_s();
  for (long i = 0; i < n; i++) {
    sqlite3_bind_int(st, 1, (int)(i % 1000));
    if (c == NULL) {
      while (sqlite3_step(st) == SQLITE_ROW) {
      }
      sqlite3_reset(st);
    } else {
      while (pmx_sqlite_step(c, st) == SQLITE_ROW) {
      }
      pmx_sqlite_reset(c, st);
    }
  }
  return (now_s() - t0) * 1e9 / (double)n;
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 200000;
  if (getenv("BENCH_OPS") != NULL) n = atol(getenv("BENCH_OPS"));
  if (n <= 0) {
    fprintf(stderr, "usage: bench_db [N > 0]\n");
    return 2;
  }
  pmx_plugin_use_t use = {&pmx_plugin_db, NULL, 0, NULL};
  pmx_config_t cfg;
  pmx_config_defaults(&cfg);
  cfg.app = "bench";
  cfg.plugins = &use;
  cfg.n_plugins = 1;
  pmx_t *p = NULL;
  pmx_error_t err;
  sqlite3 *db = NULL;
  pmx_sqlite_t *c = NULL;
  sqlite3_stmt *st = NULL;
  if (pmx_new(&cfg, &p, &err) != PMX_OK || pmx_start(p, &err) != PMX_OK ||
      sqlite3_open(":memory:", &db) != SQLITE_OK ||
      pmx_sqlite_attach(pmx_bus(p), "bench", db, &c) != PMX_OK ||
      sqlite3_exec(db,
                   "CREATE TABLE kv (k INTEGER PRIMARY KEY, v TEXT);"
                   "WITH RECURSIVE s(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM s WHERE x < 999)"
                   " INSERT INTO kv SELECT x, 'value' FROM s",
                   NULL, NULL, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "SELECT v FROM kv WHERE k = ?", -1, &st, NULL) != SQLITE_OK) {
    fprintf(stderr, "bench_db: setup failed\n");
    return 1;
  }
  double bare[ROUNDS], wrapped[ROUNDS], over[ROUNDS];
  run(st, NULL, n / 10); /* warm up */
  run(st, c, n / 10);
  for (int r = 0; r < ROUNDS; r++) {
    bare[r] = run(st, NULL, n);
    wrapped[r] = run(st, c, n);
    over[r] = wrapped[r] - bare[r];
  }
  qsort(bare, ROUNDS, sizeof bare[0], cmp);
  qsort(wrapped, ROUNDS, sizeof wrapped[0], cmp);
  qsort(over, ROUNDS, sizeof over[0], cmp);
  printf("peer=sqlite-bare workload=db_query_overhead threads=1 value=%.1f unit=ns/query\n",
         bare[ROUNDS / 2]);
  printf("peer=promex workload=db_query_overhead threads=1 value=%.1f unit=ns/query\n",
         wrapped[ROUNDS / 2]);
  printf("peer=promex-overhead workload=db_query_overhead threads=1 value=%.1f unit=ns/query\n",
         over[ROUNDS / 2]);

  /* verify: every wrapped run (warm-up + rounds) is in the execution-time count */
  pmx_buf_t b = {0};
  pmx_get_metrics(p, PMX_FORMAT_TEXT, &b);
  char want[64];
  snprintf(want, sizeof want, "} %ld\n", n / 10 + (long)ROUNDS * n);
  const char *line =
      b.data ? strstr(b.data, "bench_prom_ex_db_repo_query_execution_time_seconds_count{") : NULL;
  const char *eol = line ? strchr(line, '\n') : NULL;
  int ok = line != NULL && eol != NULL && strncmp(strchr(line, '}'), want, strlen(want)) == 0;
  if (!ok)
    fprintf(stderr, "bench_db: VERIFY FAILED: execution count is not %ld\n",
            n / 10 + (long)ROUNDS * n);
  pmx_buf_free(&b);
  sqlite3_finalize(st);
  pmx_sqlite_detach(c);
  sqlite3_close(db);
  pmx_destroy(p);
  return ok ? 0 : 1;
}
