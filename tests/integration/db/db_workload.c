/* The known workload of the db plugin's integration tests (run_db.sh): one engine, one repo,
 * a fixed set of statements whose counts the script then reads back from a real Prometheus.
 *
 *   db_workload sqlite PORT FILE         SQLite database file FILE
 *   db_workload pq PORT CONNINFO         PostgreSQL (libpq conninfo)
 *   db_workload mariadb PORT SERVER_PORT MariaDB on 127.0.0.1:SERVER_PORT, user root
 *
 * Serves /metrics on 127.0.0.1:PORT, runs the workload once, prints "workload done" and waits for
 * SIGTERM. Per engine (repo = engine name), the counts are the same:
 *   create items 1 | insert items 12 (2 duplicate-key errors) | select items 5 (10 rows each)
 *   update items 1 (3 rows) | delete items 1 (1 row) | select missing_table 1 (error)
 *   one slow select (> 0.1 s) | begin 1, commit 1 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promex/promex.h"
#ifdef PMX_HAVE_SQLITE
#include "promex/db_sqlite.h"
#endif
#ifdef PMX_HAVE_PQ
#include "promex/db_pq.h"
#endif
#ifdef PMX_HAVE_MARIADB
#include "promex/db_mariadb.h"
#endif

static int failures;
#define EXPECT(cond, what)                                  \
  do {                                                      \
    if (!(cond)) {                                          \
      fprintf(stderr, "db_workload: unexpected: %s\n", what); \
      failures++;                                           \
    }                                                       \
  } while (0)

#ifdef PMX_HAVE_SQLITE
static void run_sqlite(pmx_t *p, const char *file) {
  sqlite3 *db = NULL;
  pmx_sqlite_t *c = NULL;
  if (sqlite3_open(file, &db) != SQLITE_OK ||
      pmx_sqlite_attach(pmx_bus(p), "sqlite", db, &c) != PMX_OK) {
    fprintf(stderr, "db_workload: cannot open %s\n", file);
    exit(1);
  }
  EXPECT(pmx_sqlite_exec(c, "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)", NULL, NULL,
                         NULL) == SQLITE_OK, "create");
  EXPECT(pmx_sqlite_exec(c, "BEGIN", NULL, NULL, NULL) == SQLITE_OK, "begin");
  sqlite3_stmt *ins = NULL;
  pmx_sqlite_prepare(c, "INSERT INTO items (id, name) VALUES (?, 'n')", -1, &ins, NULL);
  for (int i = 1; i <= 12; i++) { /* 11 and 12 repeat ids 1 and 2 */
    sqlite3_bind_int(ins, 1, i <= 10 ? i : i - 10);
    int rc = pmx_sqlite_step(c, ins);
    EXPECT(rc == (i <= 10 ? SQLITE_DONE : SQLITE_CONSTRAINT), "insert result");
    pmx_sqlite_reset(c, ins);
  }
  pmx_sqlite_finalize(c, ins);
  EXPECT(pmx_sqlite_exec(c, "COMMIT", NULL, NULL, NULL) == SQLITE_OK, "commit");
  for (int i = 0; i < 5; i++)
    EXPECT(pmx_sqlite_exec(c, "SELECT id, name FROM items", NULL, NULL, NULL) == SQLITE_OK,
           "select");
  EXPECT(pmx_sqlite_exec(c, "UPDATE items SET name = 'x' WHERE id <= 3", NULL, NULL, NULL) ==
             SQLITE_OK, "update");
  EXPECT(pmx_sqlite_exec(c, "DELETE FROM items WHERE id = 10", NULL, NULL, NULL) == SQLITE_OK,
         "delete");
  EXPECT(pmx_sqlite_exec(c, "SELECT * FROM missing_table", NULL, NULL, NULL) == SQLITE_ERROR,
         "missing table");
  EXPECT(pmx_sqlite_exec(c, "WITH RECURSIVE slow(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM slow "
                            "WHERE x < 3000000) SELECT count(*) FROM slow", NULL, NULL, NULL) ==
             SQLITE_OK, "slow");
  pmx_sqlite_detach(c);
  sqlite3_close(db);
}
#endif

#ifdef PMX_HAVE_PQ
static void pq_ok(PGresult *r, ExecStatusType want, const char *what) {
  if (PQresultStatus(r) != want) {
    fprintf(stderr, "db_workload: %s: %s %s\n", what, PQresStatus(PQresultStatus(r)),
            PQresultErrorMessage(r));
    failures++;
  }
  PQclear(r);
}

static void run_pq(pmx_t *p, const char *conninfo) {
  PGconn *conn = PQconnectdb(conninfo);
  pmx_pq_t *c = NULL;
  if (PQstatus(conn) != CONNECTION_OK || pmx_pq_attach(pmx_bus(p), "pq", conn, &c) != PMX_OK) {
    fprintf(stderr, "db_workload: cannot connect: %s\n", PQerrorMessage(conn));
    exit(1);
  }
  pq_ok(pmx_pq_exec(c, "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)"), PGRES_COMMAND_OK,
        "create");
  pq_ok(pmx_pq_exec(c, "BEGIN"), PGRES_COMMAND_OK, "begin");
  pq_ok(pmx_pq_exec(c, "COMMIT"), PGRES_COMMAND_OK, "commit");
  for (int i = 1; i <= 12; i++) { /* 11 and 12 repeat ids 1 and 2 */
    char id[16];
    snprintf(id, sizeof id, "%d", i <= 10 ? i : i - 10);
    const char *v[] = {id};
    pq_ok(pmx_pq_exec_params(c, "INSERT INTO items (id, name) VALUES ($1, 'n')", 1, NULL, v, NULL,
                             NULL, 0),
          i <= 10 ? PGRES_COMMAND_OK : PGRES_FATAL_ERROR, "insert");
  }
  /* five selects: two plain, two prepared, one async */
  pq_ok(pmx_pq_exec(c, "SELECT id, name FROM items"), PGRES_TUPLES_OK, "select");
  pq_ok(pmx_pq_exec(c, "SELECT id, name FROM items"), PGRES_TUPLES_OK, "select");
  pq_ok(pmx_pq_prepare(c, "sel", "SELECT id, name FROM public.items", 0, NULL), PGRES_COMMAND_OK,
        "prepare");
  for (int i = 0; i < 2; i++)
    pq_ok(pmx_pq_exec_prepared(c, "sel", 0, NULL, NULL, NULL, 0), PGRES_TUPLES_OK, "prepared");
  /* the async one in single-row mode: 10 PGRES_SINGLE_TUPLE results and a final empty
   * PGRES_TUPLES_OK, one event with 10 rows */
  EXPECT(pmx_pq_send_query(c, "SELECT id, name FROM items") == 1, "send");
  EXPECT(PQsetSingleRowMode(conn) == 1, "single-row mode");
  PGresult *r;
  int n_results = 0;
  while ((r = pmx_pq_get_result(c)) != NULL) {
    n_results++;
    PQclear(r);
  }
  EXPECT(n_results == 11, "ten single rows and the final result");
  /* pipeline mode is not measured: this select must not be counted */
  EXPECT(PQenterPipelineMode(conn) == 1, "pipeline on");
  EXPECT(pmx_pq_send_query_params(c, "SELECT id FROM items", 0, NULL, NULL, NULL, NULL, 0) == 1,
         "pipelined send");
  EXPECT(PQpipelineSync(conn) == 1, "pipeline sync");
  for (int i = 0; i < 100; i++) { /* the result(s), NULL, then PGRES_PIPELINE_SYNC */
    r = pmx_pq_get_result(c);
    bool sync = r != NULL && PQresultStatus(r) == PGRES_PIPELINE_SYNC;
    PQclear(r);
    if (sync) break;
  }
  if (PQexitPipelineMode(conn) != 1) {
    fprintf(stderr, "db_workload: pipeline off: %s\n", PQerrorMessage(conn));
    failures++;
  }
  pq_ok(pmx_pq_exec(c, "UPDATE items SET name = 'x' WHERE id <= 3"), PGRES_COMMAND_OK, "update");
  pq_ok(pmx_pq_exec(c, "DELETE FROM items WHERE id = 10"), PGRES_COMMAND_OK, "delete");
  pq_ok(pmx_pq_exec(c, "SELECT * FROM missing_table"), PGRES_FATAL_ERROR, "missing table");
  pq_ok(pmx_pq_exec(c, "SELECT pg_sleep(0.3)"), PGRES_TUPLES_OK, "slow");
  /* a failed prepare is an error event too (not part of the select counts: source nope) */
  pq_ok(pmx_pq_prepare(c, "bad", "SELECT * FROM nope", 0, NULL), PGRES_FATAL_ERROR, "bad prepare");
  /* after a reset the session has no prepared statements: the event proc forgot "sel", so the
   * failing execution (26000) is not attributed to items */
  PQreset(conn);
  EXPECT(PQstatus(conn) == CONNECTION_OK, "reset");
  pq_ok(pmx_pq_exec_prepared(c, "sel", 0, NULL, NULL, NULL, 0), PGRES_FATAL_ERROR, "after reset");
  pmx_pq_detach(c);
  PQfinish(conn);
}
#endif

#ifdef PMX_HAVE_MARIADB
static void my_q(pmx_mysql_t *c, MYSQL *m, const char *sql, bool ok, const char *what) {
  int rc = pmx_mysql_real_query(c, sql, (unsigned long)strlen(sql));
  if ((rc == 0) != ok) {
    fprintf(stderr, "db_workload: %s: rc %d %s\n", what, rc, mysql_error(m));
    failures++;
  }
  if (rc == 0 && mysql_field_count(m) > 0) mysql_free_result(pmx_mysql_store_result(c));
}

static void run_mariadb(pmx_t *p, const char *port) {
  MYSQL *m = mysql_init(NULL);
  pmx_mysql_t *c = NULL;
  if (mysql_real_connect(m, "127.0.0.1", "root", "", NULL, (unsigned)atoi(port), NULL, 0) == NULL ||
      mysql_query(m, "CREATE DATABASE shop") != 0 || mysql_select_db(m, "shop") != 0 ||
      pmx_mysql_attach(pmx_bus(p), "mariadb", m, &c) != PMX_OK) {
    fprintf(stderr, "db_workload: cannot connect: %s\n", mysql_error(m));
    exit(1);
  }
  my_q(c, m, "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)", true, "create");
  my_q(c, m, "BEGIN", true, "begin");
  MYSQL_STMT *ins = mysql_stmt_init(m);
  const char *isql = "INSERT INTO items (id, name) VALUES (?, 'n')";
  EXPECT(pmx_mysql_stmt_prepare(c, ins, isql, (unsigned long)strlen(isql)) == 0, "prepare insert");
  for (int i = 1; i <= 12; i++) { /* 11 and 12 repeat ids 1 and 2 */
    int id = i <= 10 ? i : i - 10;
    MYSQL_BIND b;
    memset(&b, 0, sizeof b);
    b.buffer_type = MYSQL_TYPE_LONG;
    b.buffer = &id;
    mysql_stmt_bind_param(ins, &b);
    EXPECT((pmx_mysql_stmt_execute(c, ins) == 0) == (i <= 10), "insert result");
  }
  pmx_mysql_stmt_close(c, ins);
  my_q(c, m, "COMMIT", true, "commit");
  /* five selects: three text, two prepared */
  for (int i = 0; i < 3; i++) my_q(c, m, "SELECT id, name FROM items", true, "select");
  MYSQL_STMT *sel = mysql_stmt_init(m);
  const char *ssql = "SELECT id, name FROM shop.items";
  EXPECT(pmx_mysql_stmt_prepare(c, sel, ssql, (unsigned long)strlen(ssql)) == 0, "prepare select");
  for (int i = 0; i < 2; i++) {
    EXPECT(pmx_mysql_stmt_execute(c, sel) == 0, "execute select");
    EXPECT(pmx_mysql_stmt_store_result(c, sel) == 0, "store select");
    EXPECT(mysql_stmt_num_rows(sel) == 10, "ten rows");
    mysql_stmt_free_result(sel);
  }
  pmx_mysql_stmt_close(c, sel);
  my_q(c, m, "UPDATE items SET name = 'x' WHERE id <= 3", true, "update");
  my_q(c, m, "DELETE FROM items WHERE id = 10", true, "delete");
  my_q(c, m, "SELECT * FROM missing_table", false, "missing table");
  my_q(c, m, "SELECT SLEEP(0.3)", true, "slow");
  pmx_mysql_detach(c);
  mysql_close(m);
}
#endif

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: db_workload sqlite|pq PORT TARGET\n");
    return 2;
  }
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);
  pmx_plugin_use_t use = {&pmx_plugin_db, NULL, 0, NULL};
  pmx_config_t cfg;
  pmx_config_defaults(&cfg);
  cfg.app = "dbt";
  cfg.plugins = &use;
  cfg.n_plugins = 1;
  cfg.metrics_server.enabled = true;
  cfg.metrics_server.bind_address = "127.0.0.1";
  cfg.metrics_server.port = (uint16_t)atoi(argv[2]);
  pmx_t *p = NULL;
  pmx_error_t err;
  if (pmx_new(&cfg, &p, &err) != PMX_OK || pmx_start(p, &err) != PMX_OK) {
    fprintf(stderr, "db_workload: %s\n", err.text);
    return 1;
  }
  const char *engine = argv[1];
  bool known = false;
#ifdef PMX_HAVE_SQLITE
  if (strcmp(engine, "sqlite") == 0) run_sqlite(p, argv[3]), known = true;
#endif
#ifdef PMX_HAVE_PQ
  if (strcmp(engine, "pq") == 0) run_pq(p, argv[3]), known = true;
#endif
#ifdef PMX_HAVE_MARIADB
  if (strcmp(engine, "mariadb") == 0) run_mariadb(p, argv[3]), known = true;
#endif
  if (!known) {
    fprintf(stderr, "db_workload: engine %s not built\n", engine);
    return 2;
  }
  printf("workload done, %d unexpected results\n", failures);
  fflush(stdout);
  int sig;
  sigwait(&sigs, &sig);
  pmx_stop(p);
  pmx_destroy(p);
  return failures == 0 ? 0 : 1;
}
