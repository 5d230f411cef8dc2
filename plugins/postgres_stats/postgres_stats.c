/* The postgres_stats plugin: polls a PostgreSQL server's statistics views over its own libpq
 * connection (see include/promex/plugins/postgres_stats.h for the metrics, their sources and the
 * postgres_exporter names; include/promex/plugins/server_stats.h for the failure behaviour).
 *
 * One polling group; its ctx owns the connection (a group's runs never overlap: no lock). Every
 * statement is bounded by the `timeout` option on both sides (pg_conn.c and statement_timeout).
 * Queries read `SELECT *`-style column sets where versions differ, and look columns up by name,
 * so a column an older server lacks is simply left out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_conn.h"
#include "promex/plugins/postgres_stats.h"
#include "stats_common.h"

#define EV_UP "promex.plugin.postgres_stats.up"
#define EV_ERR "promex.plugin.postgres_stats.error"
#define EV_SERVER "promex.plugin.postgres_stats.server"
#define EV_VERSION "promex.plugin.postgres_stats.version"
#define EV_CONN "promex.plugin.postgres_stats.connections"
#define EV_DB "promex.plugin.postgres_stats.database"
#define EV_LOCKS "promex.plugin.postgres_stats.locks"
#define EV_STMT "promex.plugin.postgres_stats.statement"
#define EV_REPLICA "promex.plugin.postgres_stats.replica"
#define EV_REPLICAS "promex.plugin.postgres_stats.replicas"

static const char k_q_server[] =
    "SELECT current_setting('server_version') AS version,"
    " current_setting('max_connections')::int AS max_connections,"
    " CASE WHEN pg_is_in_recovery() THEN 1 ELSE 0 END AS is_replica,"
    " CASE WHEN pg_is_in_recovery() THEN GREATEST(0, EXTRACT(EPOCH FROM now() -"
    "  pg_last_xact_replay_timestamp())) ELSE 0 END AS replication_lag,"
    " (SELECT COALESCE(max(EXTRACT(EPOCH FROM clock_timestamp() - xact_start)), 0)"
    "  FROM pg_stat_activity WHERE backend_type = 'client backend'"
    "  AND pid <> pg_backend_pid()) AS oldest_xact,"
    " (SELECT COALESCE(max(EXTRACT(EPOCH FROM clock_timestamp() - query_start)), 0)"
    "  FROM pg_stat_activity WHERE backend_type = 'client backend' AND state = 'active'"
    "  AND pid <> pg_backend_pid()) AS longest_query,"
    " EXTRACT(EPOCH FROM pg_postmaster_start_time()) AS start_time";

/* Every (database, state) pair, 0 included, so a state nobody is in reads 0 instead of keeping
 * its last count. Our own connection is not counted. */
static const char k_q_conn[] =
    "SELECT d.datname, s.state, count(a.pid) AS connections FROM pg_database d"
    " CROSS JOIN (VALUES ('active'), ('idle'), ('idle in transaction'),"
    "  ('idle in transaction (aborted)'), ('fastpath function call'), ('disabled')) s(state)"
    " LEFT JOIN pg_stat_activity a ON a.datname = d.datname AND a.state = s.state"
    "  AND a.backend_type = 'client backend' AND a.pid <> pg_backend_pid()"
    " WHERE d.datallowconn AND NOT d.datistemplate GROUP BY 1, 2";

static const char k_q_db[] =
    "SELECT s.*, CASE WHEN has_database_privilege(s.datid, 'CONNECT')"
    " OR pg_has_role('pg_read_all_stats', 'MEMBER') THEN pg_database_size(s.datid) END"
    " AS size_bytes FROM pg_stat_database s WHERE s.datname IS NOT NULL";

static const char k_q_locks[] =
    "SELECT m.mode, count(l.mode) AS locks FROM (VALUES ('accesssharelock'),"
    " ('rowsharelock'), ('rowexclusivelock'), ('shareupdateexclusivelock'), ('sharelock'),"
    " ('sharerowexclusivelock'), ('exclusivelock'), ('accessexclusivelock')) m(mode)"
    " LEFT JOIN pg_locks l ON lower(l.mode) = m.mode GROUP BY 1";

static const char k_q_grants[] =
    "SELECT current_user AS usr, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)"
    " OR pg_has_role('pg_monitor', 'MEMBER') AS monitor,"
    " EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements') AS pgss,"
    " current_setting('server_version_num')::int AS version_num";

/* The replicas streaming from this server (PostgreSQL 10+ names), at most
 * PMX_POSTGRES_STATS_MAX_REPLICAS. The lag is measured from our current WAL position: the
 * primary's write position, or the replay position on a cascading replica (where
 * pg_current_wal_lsn() would fail). */
static const char k_q_replicas[] =
    "SELECT application_name, COALESCE(host(client_addr), 'local') AS client_addr,"
    " pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()"
    "  ELSE pg_current_wal_lsn() END, replay_lsn) AS replay_lag_bytes,"
    " EXTRACT(EPOCH FROM replay_lag) AS replay_lag_seconds"
    " FROM pg_stat_replication ORDER BY application_name, client_addr LIMIT %u";

static const pmx__ss_stat_t k_replica[] = {
    {"replica.replay.lag.bytes", "replay_lag_bytes", false, 0, "Per replica: WAL bytes it has not replayed yet (pg_wal_lsn_diff(pg_current_wal_lsn(), pg_stat_replication.replay_lsn))."},
    {"replica.replay.lag.seconds", "replay_lag_seconds", false, 0, "Per replica: time between a local flush and its replay on the replica (pg_stat_replication.replay_lag); absent while the replica is idle."},
};
#define N_REPLICA (sizeof k_replica / sizeof k_replica[0])

static const pmx__ss_stat_t k_server[] = {
    {"connections.max", "max_connections", false, 0, "The max_connections setting."},
    {"replication.is_replica", "is_replica", false, 0, "1 when the server is a replica in recovery (pg_is_in_recovery())."},
    {"replication.lag.seconds", "replication_lag", false, 0, "On a replica: seconds since the last replayed transaction (now() - pg_last_xact_replay_timestamp()); 0 on a primary."},
    {"oldest.transaction.seconds", "oldest_xact", false, 0, "Age of the oldest open transaction of a client backend (pg_stat_activity.xact_start)."},
    {"longest.query.seconds", "longest_query", false, 0, "Run time of the longest active query (pg_stat_activity.query_start, state active)."},
    {"start.time.seconds", "start_time", false, 0, "Unix time the server started (pg_postmaster_start_time())."},
};
#define N_SERVER (sizeof k_server / sizeof k_server[0])

static const pmx__ss_stat_t k_db[] = {
    {"database.backends", "numbackends", false, 0, "Backends connected to the database (pg_stat_database.numbackends)."},
    {"transactions.committed.total", "xact_commit", true, 0, "Transactions committed (pg_stat_database.xact_commit)."},
    {"transactions.rolled_back.total", "xact_rollback", true, 0, "Transactions rolled back (pg_stat_database.xact_rollback)."},
    {"blocks.read.total", "blks_read", true, 0, "Disk blocks read, i.e. not found in shared buffers (pg_stat_database.blks_read)."},
    {"blocks.hit.total", "blks_hit", true, 0, "Blocks found in shared buffers (pg_stat_database.blks_hit)."},
    {"tuples.returned.total", "tup_returned", true, 0, "Rows returned by queries (pg_stat_database.tup_returned)."},
    {"tuples.fetched.total", "tup_fetched", true, 0, "Rows fetched by queries (pg_stat_database.tup_fetched)."},
    {"tuples.inserted.total", "tup_inserted", true, 0, "Rows inserted (pg_stat_database.tup_inserted)."},
    {"tuples.updated.total", "tup_updated", true, 0, "Rows updated (pg_stat_database.tup_updated)."},
    {"tuples.deleted.total", "tup_deleted", true, 0, "Rows deleted (pg_stat_database.tup_deleted)."},
    {"conflicts.total", "conflicts", true, 0, "Queries cancelled by recovery conflicts (pg_stat_database.conflicts)."},
    {"temp.files.total", "temp_files", true, 0, "Temporary files created (pg_stat_database.temp_files)."},
    {"temp.bytes.total", "temp_bytes", true, 0, "Bytes written to temporary files (pg_stat_database.temp_bytes)."},
    {"deadlocks.total", "deadlocks", true, 0, "Deadlocks detected (pg_stat_database.deadlocks)."},
    {"block.read.seconds.total", "blk_read_time", true, 0.001, "Time reading blocks, with track_io_timing (pg_stat_database.blk_read_time)."},
    {"block.write.seconds.total", "blk_write_time", true, 0.001, "Time writing blocks, with track_io_timing (pg_stat_database.blk_write_time)."},
    {"active.seconds.total", "active_time", true, 0.001, "Time backends spent executing statements (pg_stat_database.active_time, PostgreSQL 14+)."},
    {"database.size.bytes", "size_bytes", false, 0, "Disk space used by the database (pg_database_size())."},
};
#define N_DB (sizeof k_db / sizeof k_db[0])

static const pmx__ss_stat_t k_stmt[] = {
    {"statements.calls.total", "calls", true, 0, "Calls of the statement (pg_stat_statements.calls)."},
    {"statements.seconds.total", "total_time_ms", true, 0.001, "Execution time of the statement (pg_stat_statements.total_exec_time; total_time before 13)."},
    {"statements.rows.total", "rows", true, 0, "Rows retrieved or affected (pg_stat_statements.rows)."},
};
#define N_STMT (sizeof k_stmt / sizeof k_stmt[0])

typedef struct pg_ctx {
  pmx__pg_t pg;
  char *conn, *password, *db_include, *db_exclude;
  char app_name[64], opts[64], connect_timeout[16];
  char where[160];
  uint32_t max_databases, statements;
  pmx__ss_backoff_t backoff;
  pmx__ss_log_t log;
  bool seeded, grant_noted, pgss_noted;
  /* Per connection: learnt by the grants query. */
  bool checked, pgss;
  int version_num;
  pmx__ss_cum_t server_cums[N_SERVER];
  pmx__ss_keyed_t db_keyed[N_DB], stmt_keyed[N_STMT];
  pmx_seen_t *dbs_seen; /* databases reported by the last complete poll */
  pmx_seen_t *replicas_seen; /* "<application_name>\x1f<client_addr>" of the replicas, same */
  pmx_bus_t *bus;       /* for the gone callbacks, during a sweep */
  pmx_event_t *ev_up, *ev_err, *ev_server, *ev_version, *ev_conn, *ev_db, *ev_locks, *ev_stmt,
      *ev_replica, *ev_replicas;
  pmx_measurement_t scratch[N_DB + N_SERVER];
} pg_ctx_t;

static void pg_free(void *p) {
  pg_ctx_t *c = p;
  if (c == NULL) return;
  pmx__pg_close(&c->pg);
  for (size_t i = 0; i < N_DB; i++) pmx__ss_keyed_free(&c->db_keyed[i]);
  for (size_t i = 0; i < N_STMT; i++) pmx__ss_keyed_free(&c->stmt_keyed[i]);
  pmx_seen_free(c->dbs_seen);
  pmx_seen_free(c->replicas_seen);
  if (c->password != NULL) memset(c->password, 0, strlen(c->password));
  free(c->conn);
  free(c->password);
  free(c->db_include);
  free(c->db_exclude);
  free(c);
}

static int pg_fail(pg_ctx_t *c) {
  pmx__ss_log_fail(&c->log, c->pg.reason, "postgres_stats: %s: %s", c->where, c->pg.err);
  pmx__pg_close(&c->pg);
  c->checked = false;
  pmx__ss_backoff_failed(&c->backoff, pmx__ss_now_ms());
  pmx__ss_health_emit(c->ev_up, c->ev_err, false, c->pg.reason, &c->seeded);
  return c->pg.reason == PMX__SS_TIMEOUT ? PMX_ETIMEDOUT : PMX_EIO;
}

static bool db_wanted(const pg_ctx_t *c, const char *db) {
  if (c->db_include != NULL && !pmx__ss_list_has(c->db_include, db)) return false;
  return !pmx__ss_list_has(c->db_exclude, db);
}

static int pg_connect(pg_ctx_t *c) {
  const char *keys[8], *vals[8];
  size_t n = 0;
  if (c->conn != NULL) {
    keys[n] = "dbname";
    vals[n++] = c->conn;
  }
  keys[n] = "application_name";
  vals[n++] = c->app_name;
  keys[n] = "options";
  vals[n++] = c->opts;
  keys[n] = "connect_timeout";
  vals[n++] = c->connect_timeout;
  if (c->password != NULL) {
    keys[n] = "password";
    vals[n++] = c->password;
  }
  keys[n] = NULL;
  vals[n] = NULL;
  if (pmx__pg_connect(&c->pg, keys, vals) != 0) return pg_fail(c);
  snprintf(c->where, sizeof c->where, "%s:%s", PQhost(c->pg.conn) ? PQhost(c->pg.conn) : "?",
           PQport(c->pg.conn) ? PQport(c->pg.conn) : "?");
  /* Once per connection: the grants we have and whether pg_stat_statements is there. */
  PGresult *r = pmx__pg_query(&c->pg, k_q_grants);
  if (r == NULL) return pg_fail(c);
  pmx__ss_table_t t = pmx__pg_table(r);
  const char *usr = PQgetvalue(r, 0, 0);
  bool monitor = strcmp(PQgetvalue(r, 0, 1), "t") == 0;
  c->pgss = strcmp(PQgetvalue(r, 0, 2), "t") == 0;
  double v = 0;
  c->version_num = pmx__ss_number(t.cell(t.src, 0, 3), &v) ? (int)v : 0;
  if (!monitor)
    pmx__ss_log_note(&c->log, &c->grant_noted,
                     "postgres_stats: %s: role \"%s\" is not a member of pg_monitor: other "
                     "sessions' states and statements are hidden and some database sizes are "
                     "missing; GRANT pg_monitor TO \"%s\"",
                     c->where, usr, usr);
  PQclear(r);
  c->checked = true;
  return PMX_OK;
}

static void emit_rows(pg_ctx_t *c, const PGresult *r, const pmx_event_t *ev, const char *label_col,
                      const char *label, const pmx__ss_stat_t *stats, size_t n,
                      pmx__ss_keyed_t *keyed, bool filter_db) {
  pmx__ss_table_t t = pmx__pg_table(r);
  int lc = pmx__ss_col(&t, label_col);
  if (lc < 0) return;
  for (size_t row = 0; row < t.nrows; row++) {
    const char *key = t.cell(t.src, row, (size_t)lc);
    if (key == NULL || (filter_db && !db_wanted(c, key))) continue;
    size_t m = pmx__ss_row_measure(&t, row, stats, n, keyed, key, c->scratch);
    const pmx_meta_t md[] = {PMX_META_S(label, key)};
    if (m > 0) pmx_emit(ev, c->scratch, m, md, 1);
    if (filter_db) pmx_seen_mark(c->dbs_seen, key);
  }
}

/* A database dropped (or now filtered out): its series go from the database, connection and
 * statement metrics, and its counters' previous values are forgotten (their slots freed). */
static void db_gone(const char *db, void *p) {
  pg_ctx_t *c = p;
  const pmx_meta_t md[] = {PMX_META_S("datname", db)};
  pmx_retire(c->bus, c->ev_db, md, 1);
  pmx_retire(c->bus, c->ev_conn, md, 1);
  pmx_retire(c->bus, c->ev_stmt, md, 1);
  for (size_t i = 0; i < N_DB; i++) pmx__ss_keyed_forget(&c->db_keyed[i], db);
}

/* A replica disconnected: its lag series go (they would otherwise freeze at the last lag). */
static void replica_gone(const char *key, void *p) {
  pg_ctx_t *c = p;
  const char *sep = strchr(key, '\x1f');
  if (sep == NULL) return;
  char app[PMX__SS_KEY_MAX];
  snprintf(app, sizeof app, "%.*s", (int)(sep - key), key);
  const pmx_meta_t md[] = {PMX_META_S("application_name", app),
                           PMX_META_S("client_addr", sep + 1)};
  pmx_retire(c->bus, c->ev_replica, md, 2);
}

/* Emits each row of a k_q_replicas answer (labels application_name, client_addr) and the row
 * count; returns the count. Rows beyond the cap are not read (the query has the same LIMIT). */
static size_t emit_replicas(pg_ctx_t *c, const pmx__ss_table_t *t) {
  int ca = pmx__ss_col(t, "application_name"), cc = pmx__ss_col(t, "client_addr");
  size_t n_rows = t->nrows < PMX_POSTGRES_STATS_MAX_REPLICAS ? t->nrows : PMX_POSTGRES_STATS_MAX_REPLICAS;
  for (size_t row = 0; ca >= 0 && cc >= 0 && row < n_rows; row++) {
    const char *app = t->cell(t->src, row, (size_t)ca), *addr = t->cell(t->src, row, (size_t)cc);
    size_t m = pmx__ss_row_measure(t, row, k_replica, N_REPLICA, NULL, "", c->scratch);
    const pmx_meta_t md[] = {PMX_META_S("application_name", app != NULL ? app : ""),
                             PMX_META_S("client_addr", addr != NULL ? addr : "")};
    if (m > 0) pmx_emit(c->ev_replica, c->scratch, m, md, 2);
    char key[2 * PMX__SS_KEY_MAX];
    snprintf(key, sizeof key, "%s\x1f%s", md[0].v.s, md[1].v.s);
    pmx_seen_mark(c->replicas_seen, key);
  }
  const pmx_measurement_t cm[] = {PMX_M("replicas", (double)t->nrows)};
  pmx_emit(c->ev_replicas, cm, 1, NULL, 0);
  return t->nrows;
}

static int poll_statements(pg_ctx_t *c) {
  char sql[640];
  /* total_exec_time since 13 (total_time before); top N by time. */
  snprintf(sql, sizeof sql,
           "SELECT d.datname, s.queryid::text AS queryid, s.calls, s.%s AS total_time_ms, s.rows,"
           " left(regexp_replace(s.query, '\\s+', ' ', 'g'), 100) AS query"
           " FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid"
           " WHERE s.queryid IS NOT NULL ORDER BY s.%s DESC LIMIT %u",
           c->version_num >= 130000 ? "total_exec_time" : "total_time",
           c->version_num >= 130000 ? "total_exec_time" : "total_time", (unsigned)c->statements);
  PGresult *r = pmx__pg_query(&c->pg, sql);
  if (r == NULL) {
    if (c->pg.conn == NULL) return pg_fail(c);
    /* Installed but not loaded (shared_preload_libraries), or not granted: not fatal. */
    pmx__ss_log_note(&c->log, &c->pgss_noted,
                     "postgres_stats: %s: pg_stat_statements unavailable, statements not "
                     "reported: %s", c->where, c->pg.err);
    c->pgss = false;
    return PMX_OK;
  }
  pmx__ss_table_t t = pmx__pg_table(r);
  int cd = pmx__ss_col(&t, "datname"), cq = pmx__ss_col(&t, "queryid"), cx = pmx__ss_col(&t, "query");
  for (size_t row = 0; row < t.nrows; row++) {
    const char *db = t.cell(t.src, row, (size_t)cd), *qid = t.cell(t.src, row, (size_t)cq);
    const char *q = t.cell(t.src, row, (size_t)cx);
    if (db == NULL || qid == NULL || !db_wanted(c, db)) continue;
    char key[PMX__SS_KEY_MAX];
    snprintf(key, sizeof key, "%s/%s", db, qid);
    pmx_measurement_t m[N_STMT + 1];
    size_t n = pmx__ss_row_measure(&t, row, k_stmt, N_STMT, c->stmt_keyed, key, m);
    m[n++] = PMX_M("info", 1);
    const pmx_meta_t md[] = {PMX_META_S("datname", db), PMX_META_S("queryid", qid),
                             PMX_META_S("query", q != NULL ? q : "")};
    pmx_emit(c->ev_stmt, m, n, md, 3);
  }
  PQclear(r);
  return PMX_OK;
}

static int pg_measure(pmx_bus_t *bus, void *p) {
  pg_ctx_t *c = p;
  if (c->ev_up == NULL) {
    if (pmx_bus_event(bus, EV_UP, &c->ev_up) != PMX_OK ||
        pmx_bus_event(bus, EV_ERR, &c->ev_err) != PMX_OK ||
        pmx_bus_event(bus, EV_SERVER, &c->ev_server) != PMX_OK ||
        pmx_bus_event(bus, EV_VERSION, &c->ev_version) != PMX_OK ||
        pmx_bus_event(bus, EV_CONN, &c->ev_conn) != PMX_OK ||
        pmx_bus_event(bus, EV_DB, &c->ev_db) != PMX_OK ||
        pmx_bus_event(bus, EV_LOCKS, &c->ev_locks) != PMX_OK ||
        pmx_bus_event(bus, EV_STMT, &c->ev_stmt) != PMX_OK ||
        pmx_bus_event(bus, EV_REPLICA, &c->ev_replica) != PMX_OK ||
        pmx_bus_event(bus, EV_REPLICAS, &c->ev_replicas) != PMX_OK) {
      c->ev_up = NULL;
      return PMX_ENOMEM;
    }
  }
  if (c->pg.conn == NULL || !c->checked) {
    if (!pmx__ss_backoff_ready(&c->backoff, pmx__ss_now_ms())) {
      pmx__ss_health_emit(c->ev_up, c->ev_err, false, PMX__SS_N_REASONS, &c->seeded);
      return PMX_EIO;
    }
    int rc = pg_connect(c);
    if (rc != PMX_OK) return rc;
  }
  PGresult *r = pmx__pg_query(&c->pg, k_q_server);
  if (r == NULL) return pg_fail(c);
  pmx__ss_table_t t = pmx__pg_table(r);
  size_t m = pmx__ss_row_measure(&t, 0, k_server, N_SERVER, NULL, "", c->scratch);
  if (m > 0) pmx_emit(c->ev_server, c->scratch, m, NULL, 0);
  int vc = pmx__ss_col(&t, "version");
  const char *version = vc >= 0 ? t.cell(t.src, 0, (size_t)vc) : NULL;
  const pmx_measurement_t one[] = {PMX_M("info", 1)};
  const pmx_meta_t vmd[] = {PMX_META_S("version", version != NULL ? version : "")};
  pmx_emit(c->ev_version, one, 1, vmd, 1);
  PQclear(r);

  if ((r = pmx__pg_query(&c->pg, k_q_conn)) == NULL) return pg_fail(c);
  t = pmx__pg_table(r);
  int cd = pmx__ss_col(&t, "datname"), cs = pmx__ss_col(&t, "state"), cn = pmx__ss_col(&t, "connections");
  for (size_t row = 0; cd >= 0 && cs >= 0 && cn >= 0 && row < t.nrows; row++) {
    const char *db = t.cell(t.src, row, (size_t)cd), *st = t.cell(t.src, row, (size_t)cs);
    double v;
    if (db == NULL || st == NULL || !db_wanted(c, db) ||
        !pmx__ss_number(t.cell(t.src, row, (size_t)cn), &v))
      continue;
    const pmx_measurement_t cm[] = {PMX_M("connections", v)};
    const pmx_meta_t md[] = {PMX_META_S("datname", db), PMX_META_S("state", st)};
    pmx_emit(c->ev_conn, cm, 1, md, 2);
  }
  PQclear(r);

  if ((r = pmx__pg_query(&c->pg, k_q_db)) == NULL) return pg_fail(c);
  emit_rows(c, r, c->ev_db, "datname", "datname", k_db, N_DB, c->db_keyed, true);
  PQclear(r);

  if ((r = pmx__pg_query(&c->pg, k_q_locks)) == NULL) return pg_fail(c);
  t = pmx__pg_table(r);
  int cm_ = pmx__ss_col(&t, "mode"), cl = pmx__ss_col(&t, "locks");
  for (size_t row = 0; cm_ >= 0 && cl >= 0 && row < t.nrows; row++) {
    const char *mode = t.cell(t.src, row, (size_t)cm_);
    double v;
    if (mode == NULL || !pmx__ss_number(t.cell(t.src, row, (size_t)cl), &v)) continue;
    const pmx_measurement_t lm[] = {PMX_M("locks", v)};
    const pmx_meta_t md[] = {PMX_META_S("mode", mode)};
    pmx_emit(c->ev_locks, lm, 1, md, 1);
  }
  PQclear(r);

  if (c->version_num >= 100000) { /* pg_stat_replication's *_lsn and *_lag columns */
    char sql[sizeof k_q_replicas + 16];
    snprintf(sql, sizeof sql, k_q_replicas, (unsigned)PMX_POSTGRES_STATS_MAX_REPLICAS);
    if ((r = pmx__pg_query(&c->pg, sql)) == NULL) return pg_fail(c);
    t = pmx__pg_table(r);
    emit_replicas(c, &t);
    PQclear(r);
  }

  if (c->pgss && c->statements > 0) {
    int rc = poll_statements(c);
    if (rc != PMX_OK) return rc;
  }
  c->bus = bus;
  pmx_seen_sweep(c->dbs_seen, db_gone, c); /* every query answered: what is missing is gone */
  pmx_seen_sweep(c->replicas_seen, replica_gone, c);
  pmx__ss_backoff_reset(&c->backoff);
  pmx__ss_log_ok(&c->log, "postgres_stats");
  pmx__ss_health_emit(c->ev_up, c->ev_err, true, PMX__SS_N_REASONS, &c->seeded);
  return PMX_OK;
}

static const char *const k_allowed[] = {"conn", "password", "timeout", "databases",
                                        "exclude_databases", "max_databases", "statements"};


static int pg_polling(const pmx_plugin_ctx_t *ctx, pmx_groups_t *out) {
  int rc = pmx_plugin_check_opts(ctx, k_allowed, sizeof k_allowed / sizeof k_allowed[0]);
  if (rc != PMX_OK) return rc;
  pg_ctx_t *c = calloc(1, sizeof *c);
  if (c == NULL) return PMX_ENOMEM;
  if ((rc = pmx__ss_opt_ms(ctx, "timeout", PMX_POSTGRES_STATS_DEFAULT_TIMEOUT_MS,
                           &c->pg.timeout_ms)) != PMX_OK ||
      (rc = pmx__ss_opt_count(ctx, "max_databases", PMX_POSTGRES_STATS_DEFAULT_MAX_DATABASES,
                              10000, &c->max_databases)) != PMX_OK ||
      (rc = pmx__ss_opt_count(ctx, "statements", PMX_POSTGRES_STATS_DEFAULT_STATEMENTS, 1000,
                              &c->statements)) != PMX_OK) {
    pg_free(c);
    return rc;
  }
  const char *conn = pmx_plugin_opt(ctx, "conn");
  if (conn != NULL && conn[0] != '\0') {
    /* Refuse a malformed conninfo at start, with libpq's own words. */
    char *perr = NULL;
    PQconninfoOption *o = PQconninfoParse(conn, &perr);
    if (o == NULL) {
      rc = pmx_plugin_fail(ctx, PMX_ECONFIG, "plugin \"%s\": option conn: %s", ctx->plugin_name,
                           perr != NULL ? perr : "out of memory");
      PQfreemem(perr);
      pg_free(c);
      return rc;
    }
    /* Messages name the server before the first connect too. */
    const char *host = NULL, *port = NULL;
    for (PQconninfoOption *i = o; i->keyword != NULL; i++) {
      if (i->val == NULL) continue;
      if (strcmp(i->keyword, "host") == 0 || (host == NULL && strcmp(i->keyword, "hostaddr") == 0))
        host = i->val;
      if (strcmp(i->keyword, "port") == 0) port = i->val;
    }
    snprintf(c->where, sizeof c->where, "%s:%s", host != NULL ? host : "(default host)",
             port != NULL ? port : "5432");
    PQconninfoFree(o);
  } else {
    snprintf(c->where, sizeof c->where, "%s", "(libpq defaults)");
  }
  bool ok = pmx__ss_dup_opt(ctx, "conn", &c->conn) && pmx__ss_dup_opt(ctx, "password", &c->password) &&
            pmx__ss_dup_opt(ctx, "databases", &c->db_include) &&
            pmx__ss_dup_opt(ctx, "exclude_databases", &c->db_exclude);
  ok = ok && pmx_seen_new(&c->dbs_seen) == PMX_OK && pmx_seen_new(&c->replicas_seen) == PMX_OK;
  for (size_t i = 0; ok && i < N_DB; i++) ok = pmx__ss_keyed_init(&c->db_keyed[i], c->max_databases);
  for (size_t i = 0; ok && i < N_STMT; i++)
    ok = pmx__ss_keyed_init(&c->stmt_keyed[i], (size_t)c->statements * 4);
  if (!ok) {
    pg_free(c);
    return PMX_ENOMEM;
  }
  snprintf(c->app_name, sizeof c->app_name, "promex_postgres_stats");
  snprintf(c->opts, sizeof c->opts, "-c statement_timeout=%u", (unsigned)c->pg.timeout_ms);
  /* Our deadline is the real bound; libpq's (whole seconds, 2 s floor) is only a backstop. */
  snprintf(c->connect_timeout, sizeof c->connect_timeout, "%u",
           (unsigned)(c->pg.timeout_ms / 1000 + 2));
  c->backoff = (pmx__ss_backoff_t){.min_ms = 500, .max_ms = 30000};
  c->log.hooks = ctx->user_data;

  static const char *const db[] = {"datname"};
  static const char *const conn_tags[] = {"datname", "state"};
  static const char *const mode[] = {"mode"};
  static const char *const version[] = {"version"};
  static const char *const stmt[] = {"datname", "queryid"};
  static const char *const stmt_info[] = {"datname", "queryid", "query"};
  size_t max_db = c->max_databases, max_st = (size_t)c->statements * 4 + 1;
  pmx_metric_def_t defs[2 + N_SERVER + N_DB + N_STMT + N_REPLICA + 5];
  size_t n = 0;
  pmx__ss_health_defs(EV_UP, EV_ERR, "PostgreSQL", defs);
  n += 2;
  pmx__ss_stat_defs(k_server, N_SERVER, EV_SERVER, defs + n);
  n += N_SERVER;
  pmx__ss_stat_defs(k_db, N_DB, EV_DB, defs + n);
  for (size_t i = 0; i < N_DB; i++) {
    defs[n + i].tags = db;
    defs[n + i].n_tags = 1;
    defs[n + i].max_series = max_db + 1;
  }
  n += N_DB;
  pmx__ss_stat_defs(k_stmt, N_STMT, EV_STMT, defs + n);
  for (size_t i = 0; i < N_STMT; i++) {
    defs[n + i].tags = stmt;
    defs[n + i].n_tags = 2;
    defs[n + i].max_series = max_st;
  }
  n += N_STMT;
  static const char *const replica[] = {"application_name", "client_addr"};
  pmx__ss_stat_defs(k_replica, N_REPLICA, EV_REPLICA, defs + n);
  for (size_t i = 0; i < N_REPLICA; i++) {
    defs[n + i].tags = replica;
    defs[n + i].n_tags = 2;
    defs[n + i].max_series = PMX_POSTGRES_STATS_MAX_REPLICAS + 1;
  }
  n += N_REPLICA;
  const pmx_metric_def_t more[] = {
      PMX__SS_GAUGE("version.info", EV_VERSION, "info", version, 1, 0,
              "Always 1: the server version (server_version)."),
      PMX__SS_GAUGE("connections", EV_CONN, "connections", conn_tags, 2, (max_db + 1) * 6,
              "Client backends per database and state (pg_stat_activity), ours excluded."),
      PMX__SS_GAUGE("replication.replicas", EV_REPLICAS, "replicas", NULL, 0, 0,
              "Replicas (WAL senders) streaming from this server (rows of pg_stat_replication); "
              "0 without replicas."),
      PMX__SS_GAUGE("locks", EV_LOCKS, "locks", mode, 1, 0, "Locks held or awaited by mode (pg_locks)."),
      PMX__SS_GAUGE("statements.info", EV_STMT, "info", stmt_info, 3, max_st,
              "Always 1: the start of the text of a top statement (pg_stat_statements.query)."),
  };
  for (size_t i = 0; i < sizeof more / sizeof more[0]; i++) defs[n++] = more[i];
  return pmx_groups_add_polling(out, "postgres_stats_polling_metrics", 0, pg_measure, c, pg_free,
                                defs, n);
}

const pmx_plugin_t pmx_plugin_postgres_stats = {PMX_PLUGIN_ABI, "postgres_stats", NULL,
                                                pg_polling, NULL, {0}};
