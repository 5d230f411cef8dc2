/* The mysql_stats plugin: polls a MariaDB / MySQL server's SHOW GLOBAL STATUS and VARIABLES over
 * its own libmariadb connection (see include/promex/plugins/mysql_stats.h for the metrics, their
 * sources and the mysqld_exporter names; include/promex/plugins/server_stats.h for the failure
 * behaviour).
 *
 * One polling group; its ctx owns the connection (a group's runs never overlap: no lock).
 * Connect, read and write are bounded by the client's timeouts (whole seconds: the `timeout`
 * option rounded up). SIGPIPE is blocked and drained around the client's I/O. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>

#include "mysql_conf.h"
#include "mysql_rows.h"
#include "promex/plugins/mysql_stats.h"
#include "stats_common.h"

#define EV_UP "promex.plugin.mysql_stats.up"
#define EV_ERR "promex.plugin.mysql_stats.error"
#define EV_STATUS "promex.plugin.mysql_stats.status"
#define EV_VERSION "promex.plugin.mysql_stats.version"
#define EV_CMD "promex.plugin.mysql_stats.command"
#define EV_ROWS "promex.plugin.mysql_stats.rows"
#define EV_HANDLER "promex.plugin.mysql_stats.handler"
#define EV_SCHEMA "promex.plugin.mysql_stats.schema"
#define EV_REPL "promex.plugin.mysql_stats.replication"
#define EV_REPL_N "promex.plugin.mysql_stats.replication_sources"

/* Sources are SHOW GLOBAL STATUS variables, or "v:" + a SHOW GLOBAL VARIABLES name. */
static const pmx__ss_stat_t k_stats[] = {
    {"uptime.seconds", "Uptime", false, 0, "Seconds since the server started (status Uptime)."},
    {"threads.connected", "Threads_connected", false, 0, "Open connections (status Threads_connected)."},
    {"threads.running", "Threads_running", false, 0, "Threads not sleeping (status Threads_running)."},
    {"connections.max", "v:max_connections", false, 0, "The max_connections setting."},
    {"connections.max_used", "Max_used_connections", false, 0, "Most connections open at once since start (status Max_used_connections)."},
    {"connections.total", "Connections", true, 0, "Connection attempts (status Connections)."},
    {"aborted.connects.total", "Aborted_connects", true, 0, "Failed connection attempts (status Aborted_connects)."},
    {"aborted.clients.total", "Aborted_clients", true, 0, "Connections dropped without a proper close (status Aborted_clients)."},
    {"questions.total", "Questions", true, 0, "Statements sent by clients (status Questions)."},
    {"queries.total", "Queries", true, 0, "Statements run, including inside stored programs (status Queries)."},
    {"slow.queries.total", "Slow_queries", true, 0, "Statements slower than long_query_time (status Slow_queries)."},
    {"received.bytes.total", "Bytes_received", true, 0, "Bytes received from clients (status Bytes_received)."},
    {"sent.bytes.total", "Bytes_sent", true, 0, "Bytes sent to clients (status Bytes_sent)."},
    {"tmp.disk.tables.total", "Created_tmp_disk_tables", true, 0, "Internal temporary tables written to disk (status Created_tmp_disk_tables)."},
    {"table.locks.waited.total", "Table_locks_waited", true, 0, "Table lock requests that had to wait (status Table_locks_waited)."},
    {"open.tables", "Open_tables", false, 0, "Tables open (status Open_tables)."},
    {"innodb.buffer.pool.size.bytes", "v:innodb_buffer_pool_size", false, 0, "The innodb_buffer_pool_size setting."},
    {"innodb.buffer.pool.data.bytes", "Innodb_buffer_pool_bytes_data", false, 0, "Bytes of data in the buffer pool (status Innodb_buffer_pool_bytes_data)."},
    {"innodb.buffer.pool.dirty.bytes", "Innodb_buffer_pool_bytes_dirty", false, 0, "Dirty bytes in the buffer pool (status Innodb_buffer_pool_bytes_dirty)."},
    {"innodb.buffer.pool.pages.total", "Innodb_buffer_pool_pages_total", false, 0, "Buffer pool size in pages (status Innodb_buffer_pool_pages_total)."},
    {"innodb.buffer.pool.pages.free", "Innodb_buffer_pool_pages_free", false, 0, "Free buffer pool pages (status Innodb_buffer_pool_pages_free)."},
    {"innodb.buffer.pool.read.requests.total", "Innodb_buffer_pool_read_requests", true, 0, "Logical reads (status Innodb_buffer_pool_read_requests)."},
    {"innodb.buffer.pool.reads.total", "Innodb_buffer_pool_reads", true, 0, "Logical reads that had to read from disk (status Innodb_buffer_pool_reads)."},
    {"innodb.row.lock.waits.total", "Innodb_row_lock_waits", true, 0, "Row lock waits (status Innodb_row_lock_waits)."},
    {"innodb.row.lock.seconds.total", "Innodb_row_lock_time", true, 0.001, "Time spent waiting for row locks (status Innodb_row_lock_time, ms)."},
    {"innodb.row.lock.current.waits", "Innodb_row_lock_current_waits", false, 0, "Row lock waits in progress (status Innodb_row_lock_current_waits)."},
};
#define N_STATS (sizeof k_stats / sizeof k_stats[0])

static const char *const k_row_ops[] = {"read", "inserted", "updated", "deleted"};

typedef struct my_ctx {
  pmx__my_target_t target;
  char where[300];
  uint32_t timeout_ms, max_databases;
  char *db_include, *db_exclude;
  MYSQL *db;
  pmx__ss_backoff_t backoff;
  pmx__ss_log_t log;
  bool seeded;
  pmx__ss_cum_t cums[N_STATS], row_cums[4];
  pmx__ss_keyed_t cmd_keyed, handler_keyed;
  /* The last SHOW GLOBAL STATUS / VARIABLES, as name/value pairs (strings owned by the
   * MYSQL_RES objects kept until the next poll). */
  MYSQL_RES *status_res, *vars_res;
  pmx__my_pairs_t pairs;
  pmx_event_t *ev_up, *ev_err, *ev_status, *ev_version, *ev_cmd, *ev_rows, *ev_schema, *ev_repl,
      *ev_handler, *ev_repl_n;
  pmx_seen_t *schemas_seen; /* schemas reported by the last complete poll */
  pmx_bus_t *bus;           /* for schema_gone, during a sweep */
  pmx_measurement_t scratch[N_STATS];
} my_ctx_t;

static void drop_results(my_ctx_t *c) {
  if (c->status_res != NULL) mysql_free_result(c->status_res);
  if (c->vars_res != NULL) mysql_free_result(c->vars_res);
  c->status_res = c->vars_res = NULL;
  c->pairs.n = c->pairs.n_prefixed = 0;
}

static void my_close(my_ctx_t *c) {
  drop_results(c);
  if (c->db != NULL) mysql_close(c->db);
  c->db = NULL;
}

static void my_free(void *p) {
  my_ctx_t *c = p;
  if (c == NULL) return;
  my_close(c);
  pmx__ss_keyed_free(&c->cmd_keyed);
  pmx__ss_keyed_free(&c->handler_keyed);
  pmx_seen_free(c->schemas_seen);
  free(c->db_include);
  free(c->db_exclude);
  memset(c->target.password, 0, sizeof c->target.password);
  free(c);
}

/* Error reason from the client's error number (errmsg.h / mysqld_error.h). */
static pmx__ss_reason_t reason_of(unsigned err, uint64_t elapsed_ms, uint32_t timeout_ms) {
  if (err == 1045 || err == 1044 || err == 1698) return PMX__SS_AUTH;     /* access denied */
  if (err == 1227 || err == 1142 || err == 1143) return PMX__SS_QUERY;    /* missing grant */
  if (elapsed_ms + 50 >= timeout_ms && (err == 2013 || err == 2006 || err == 2003 || err == 2002))
    return PMX__SS_TIMEOUT;
  return PMX__SS_CONNECT;
}

static int my_fail(my_ctx_t *c, const char *what, uint64_t t0) {
  unsigned err = c->db != NULL ? mysql_errno(c->db) : 0;
  char msg[512];
  snprintf(msg, sizeof msg, "%s", c->db != NULL ? mysql_error(c->db) : "out of memory");
  pmx__ss_reason_t reason = reason_of(err, pmx__ss_now_ms() - t0, c->timeout_ms);
  if (reason == PMX__SS_TIMEOUT)
    pmx__ss_log_fail(&c->log, reason, "mysql_stats: %s: %s: no answer within %u ms (%s)",
                     c->where, what, (unsigned)c->timeout_ms, msg);
  else
    pmx__ss_log_fail(&c->log, reason, "mysql_stats: %s: %s: %s", c->where, what, msg);
  my_close(c);
  pmx__ss_backoff_failed(&c->backoff, pmx__ss_now_ms());
  pmx__ss_health_emit(c->ev_up, c->ev_err, false, reason, &c->seeded);
  return reason == PMX__SS_TIMEOUT ? PMX_ETIMEDOUT : PMX_EIO;
}

static int my_connect(my_ctx_t *c) {
  uint64_t t0 = pmx__ss_now_ms();
  c->db = mysql_init(NULL);
  if (c->db == NULL) return my_fail(c, "connect", t0);
  unsigned secs = (c->timeout_ms + 999) / 1000;
  mysql_options(c->db, MYSQL_OPT_CONNECT_TIMEOUT, &secs);
  mysql_options(c->db, MYSQL_OPT_READ_TIMEOUT, &secs);
  mysql_options(c->db, MYSQL_OPT_WRITE_TIMEOUT, &secs);
  mysql_options(c->db, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  const pmx__my_target_t *t = &c->target;
  if (mysql_real_connect(c->db, t->host[0] ? t->host : NULL, t->user[0] ? t->user : NULL,
                         t->password[0] ? t->password : NULL, t->database[0] ? t->database : NULL,
                         t->port, t->socket[0] ? t->socket : NULL, 0) == NULL)
    return my_fail(c, "connect", t0);
  return PMX_OK;
}

/* Runs a statement; returns its stored result or NULL (then the caller fails the poll). */
static MYSQL_RES *my_query(my_ctx_t *c, const char *sql) {
  if (mysql_query(c->db, sql) != 0) return NULL;
  return mysql_store_result(c->db);
}

/* Appends the name/value rows of a SHOW result; names get `prefix` ("v:" for variables) so
 * one lookup serves both. */
static void collect_pairs(my_ctx_t *c, MYSQL_RES *res, const char *prefix) {
  MYSQL_ROW row;
  while ((row = mysql_fetch_row(res)) != NULL && c->pairs.n < PMX__MY_MAX_VARS)
    pmx__my_pairs_add(&c->pairs, row[0], row[1], prefix);
}

static void emit_prefixed(my_ctx_t *c, size_t n_status, const char *prefix,
                          pmx__ss_keyed_t *keyed, const pmx_event_t *ev, const char *label) {
  size_t i = 0;
  const char *name;
  double v, d;
  while (pmx__my_prefixed_next(&c->pairs, n_status, prefix, &i, &name, &v)) {
    if (!pmx__ss_keyed_delta(keyed, name, v, &d)) continue;
    const pmx_measurement_t m[] = {PMX_M("count", d)};
    const pmx_meta_t md[] = {PMX_META_S(label, name)};
    pmx_emit(ev, m, 1, md, 1);
  }
}

/* One fetched row of a MYSQL_RES as a one-row pmx__ss_table_t. */
typedef struct my_row {
  MYSQL_FIELD *fields;
  MYSQL_ROW row;
} my_row_t;

static const char *my_row_name(const void *src, size_t col) {
  return ((const my_row_t *)src)->fields[col].name;
}

static const char *my_row_cell(const void *src, size_t row, size_t col) {
  (void)row;
  return ((const my_row_t *)src)->row[col];
}

static bool db_wanted(const my_ctx_t *c, const char *db) {
  if (c->db_include != NULL && !pmx__ss_list_has(c->db_include, db)) return false;
  return !pmx__ss_list_has(c->db_exclude, db);
}

/* A schema dropped (or left without tables, or now excluded): its size series goes. */
static void schema_gone(const char *schema, void *p) {
  my_ctx_t *c = p;
  const pmx_meta_t md[] = {PMX_META_S("schema", schema)};
  pmx_retire(c->bus, c->ev_schema, md, 1);
}

static int my_poll(my_ctx_t *c) {
  if (c->db == NULL) {
    if (!pmx__ss_backoff_ready(&c->backoff, pmx__ss_now_ms())) {
      pmx__ss_health_emit(c->ev_up, c->ev_err, false, PMX__SS_N_REASONS, &c->seeded);
      return PMX_EIO;
    }
    int rc = my_connect(c);
    if (rc != PMX_OK) return rc;
  }
  uint64_t t0 = pmx__ss_now_ms();
  drop_results(c);
  if ((c->status_res = my_query(c, "SHOW GLOBAL STATUS")) == NULL)
    return my_fail(c, "SHOW GLOBAL STATUS", t0);
  collect_pairs(c, c->status_res, "");
  size_t n_status = c->pairs.n;
  t0 = pmx__ss_now_ms();
  if ((c->vars_res = my_query(c, "SHOW GLOBAL VARIABLES WHERE Variable_name IN "
                                 "('max_connections', 'innodb_buffer_pool_size', 'version', "
                                 "'version_comment')")) == NULL)
    return my_fail(c, "SHOW GLOBAL VARIABLES", t0);
  collect_pairs(c, c->vars_res, "v:");
  pmx__ss_stat_emit(k_stats, N_STATS, c->cums, pmx__my_pairs_lookup, &c->pairs, c->ev_status,
                    c->scratch);

  const char *version = pmx__my_pairs_get(&c->pairs, "v:version");
  const char *comment = pmx__my_pairs_get(&c->pairs, "v:version_comment");
  const pmx_measurement_t one[] = {PMX_M("info", 1)};
  const pmx_meta_t vmd[] = {PMX_META_S("version", version ? version : ""),
                            PMX_META_S("comment", comment ? comment : "")};
  pmx_emit(c->ev_version, one, 1, vmd, 2);

  /* Com_<command> and Handler_<op> counters: the server's fixed sets, bounded by the keyed
   * caps too. */
  emit_prefixed(c, n_status, "Com_", &c->cmd_keyed, c->ev_cmd, "command");
  emit_prefixed(c, n_status, "Handler_", &c->handler_keyed, c->ev_handler, "handler");
  /* Innodb_rows_<op>: MySQL and MariaDB before 10.6 (left out when absent). */
  for (size_t k = 0; k < 4; k++) {
    char name[48];
    double v;
    snprintf(name, sizeof name, "Innodb_rows_%s", k_row_ops[k]);
    if (!pmx__my_pairs_lookup(&c->pairs, name, &v)) continue;
    const pmx_measurement_t m[] = {PMX_M("count", pmx__ss_cum_delta(&c->row_cums[k], v))};
    const pmx_meta_t md[] = {PMX_META_S("operation", k_row_ops[k])};
    pmx_emit(c->ev_rows, m, 1, md, 1);
  }

  t0 = pmx__ss_now_ms();
  MYSQL_RES *res = my_query(c, "SELECT table_schema, SUM(data_length + index_length) FROM "
                               "information_schema.tables WHERE table_schema NOT IN "
                               "('mysql', 'information_schema', 'performance_schema', 'sys') "
                               "GROUP BY table_schema");
  if (res == NULL) return my_fail(c, "schema sizes", t0);
  MYSQL_ROW row;
  size_t n_schemas = 0;
  while ((row = mysql_fetch_row(res)) != NULL) {
    double v;
    if (row[0] == NULL || !db_wanted(c, row[0]) || !pmx__ss_number(row[1], &v)) continue;
    if (n_schemas++ >= c->max_databases) break;
    const pmx_measurement_t m[] = {PMX_M("bytes", v)};
    const pmx_meta_t md[] = {PMX_META_S("schema", row[0])};
    pmx_emit(c->ev_schema, m, 1, md, 1);
    pmx_seen_mark(c->schemas_seen, row[0]);
  }
  mysql_free_result(res);

  t0 = pmx__ss_now_ms();
  if (mysql_query(c->db, "SHOW SLAVE STATUS") != 0) {
    /* Needs REPLICATION CLIENT (or SLAVE MONITOR): not fatal, reported as a query error. */
    if (mysql_errno(c->db) >= 2000) return my_fail(c, "SHOW SLAVE STATUS", t0);
  } else if ((res = mysql_store_result(c->db)) != NULL) {
    my_row_t src = {mysql_fetch_fields(res), NULL};
    pmx__ss_table_t t = {.nrows = 1, .ncols = mysql_num_fields(res), .name = my_row_name,
                         .cell = my_row_cell, .src = &src};
    size_t n_replicas = 0;
    pmx__my_replica_t rep;
    while ((src.row = mysql_fetch_row(res)) != NULL) {
      if (!pmx__my_replica_row(&t, 0, &rep)) break;
      n_replicas++;
      pmx_measurement_t m[2] = {PMX_M("running", rep.running)};
      size_t n = 1;
      if (rep.has_lag) m[n++] = PMX_M("lag", rep.lag_seconds);
      const pmx_meta_t md[] = {PMX_META_S("connection", rep.connection)};
      pmx_emit(c->ev_repl, m, n, md, 1);
    }
    const pmx_measurement_t cm[] = {PMX_M("configured", (double)n_replicas)};
    pmx_emit(c->ev_repl_n, cm, 1, NULL, 0);
    mysql_free_result(res);
  }
  pmx_seen_sweep(c->schemas_seen, schema_gone, c); /* every query answered */
  pmx__ss_backoff_reset(&c->backoff);
  pmx__ss_log_ok(&c->log, "mysql_stats");
  pmx__ss_health_emit(c->ev_up, c->ev_err, true, PMX__SS_N_REASONS, &c->seeded);
  return PMX_OK;
}

static int my_measure(pmx_bus_t *bus, void *p) {
  my_ctx_t *c = p;
  if (c->ev_up == NULL) {
    if (pmx_bus_event(bus, EV_UP, &c->ev_up) != PMX_OK ||
        pmx_bus_event(bus, EV_ERR, &c->ev_err) != PMX_OK ||
        pmx_bus_event(bus, EV_STATUS, &c->ev_status) != PMX_OK ||
        pmx_bus_event(bus, EV_VERSION, &c->ev_version) != PMX_OK ||
        pmx_bus_event(bus, EV_CMD, &c->ev_cmd) != PMX_OK ||
        pmx_bus_event(bus, EV_ROWS, &c->ev_rows) != PMX_OK ||
        pmx_bus_event(bus, EV_SCHEMA, &c->ev_schema) != PMX_OK ||
        pmx_bus_event(bus, EV_REPL, &c->ev_repl) != PMX_OK ||
        pmx_bus_event(bus, EV_HANDLER, &c->ev_handler) != PMX_OK ||
        pmx_bus_event(bus, EV_REPL_N, &c->ev_repl_n) != PMX_OK) {
      c->ev_up = NULL;
      return PMX_ENOMEM;
    }
  }
  c->bus = bus;
  pmx__ss_sigpipe_block();
  int rc = my_poll(c);
  pmx__ss_sigpipe_drain();
  return rc;
}

static const char *const k_allowed[] = {"conn", "password", "timeout", "databases",
                                        "exclude_databases", "max_databases"};


static int my_polling(const pmx_plugin_ctx_t *ctx, pmx_groups_t *out) {
  int rc = pmx_plugin_check_opts(ctx, k_allowed, sizeof k_allowed / sizeof k_allowed[0]);
  if (rc != PMX_OK) return rc;
  my_ctx_t *c = calloc(1, sizeof *c);
  if (c == NULL) return PMX_ENOMEM;
  char err[200];
  const char *conn = pmx_plugin_opt(ctx, "conn");
  if (pmx__my_conf_parse(conn != NULL ? conn : "host=127.0.0.1", &c->target, err, sizeof err) != 0) {
    my_free(c);
    return pmx_plugin_fail(ctx, PMX_ECONFIG, "plugin \"%s\": option conn: %s", ctx->plugin_name, err);
  }
  const char *pw = pmx_plugin_opt(ctx, "password");
  if (pw != NULL) {
    if (strlen(pw) >= sizeof c->target.password) {
      my_free(c);
      return pmx_plugin_fail(ctx, PMX_ECONFIG, "plugin \"%s\": option password is too long",
                             ctx->plugin_name);
    }
    snprintf(c->target.password, sizeof c->target.password, "%s", pw);
  }
  if ((rc = pmx__ss_opt_ms(ctx, "timeout", PMX_MYSQL_STATS_DEFAULT_TIMEOUT_MS, &c->timeout_ms)) != PMX_OK ||
      (rc = pmx__ss_opt_count(ctx, "max_databases", PMX_MYSQL_STATS_DEFAULT_MAX_DATABASES, 10000,
                              &c->max_databases)) != PMX_OK) {
    my_free(c);
    return rc;
  }
  if (!pmx__ss_dup_opt(ctx, "databases", &c->db_include) || !pmx__ss_dup_opt(ctx, "exclude_databases", &c->db_exclude) ||
      !pmx__ss_keyed_init(&c->cmd_keyed, 512) || !pmx__ss_keyed_init(&c->handler_keyed, 64) ||
      pmx_seen_new(&c->schemas_seen) != PMX_OK) {
    my_free(c);
    return PMX_ENOMEM;
  }
  /* Not thread-safe the first time: do it here, in pmx_start, rather than on a poller thread. */
  mysql_library_init(0, NULL, NULL);
  if (c->target.socket[0] != '\0')
    snprintf(c->where, sizeof c->where, "%s", c->target.socket);
  else
    snprintf(c->where, sizeof c->where, "%s:%u", c->target.host[0] ? c->target.host : "localhost",
             c->target.port ? c->target.port : 3306u);
  c->backoff = (pmx__ss_backoff_t){.min_ms = 500, .max_ms = 30000};
  c->log.hooks = ctx->user_data;

  static const char *const version[] = {"version", "comment"};
  static const char *const command[] = {"command"};
  static const char *const op[] = {"operation"};
  static const char *const handler[] = {"handler"};
  static const char *const schema[] = {"schema"};
  static const char *const connection[] = {"connection"};
  pmx_metric_def_t defs[2 + N_STATS + 9];
  size_t n = 0;
  pmx__ss_health_defs(EV_UP, EV_ERR, "MariaDB", defs);
  n += 2;
  pmx__ss_stat_defs(k_stats, N_STATS, EV_STATUS, defs + n);
  n += N_STATS;
  const pmx_metric_def_t more[] = {
      PMX__SS_GAUGE("version.info", EV_VERSION, "info", version, 2, 0,
              "Always 1: the server version (variables version, version_comment)."),
      PMX__SS_COUNTER("commands.total", EV_CMD, "count", command, 1, 513,
                "Statements by command (status Com_<command>)."),
      PMX__SS_COUNTER("innodb.row.ops.total", EV_ROWS, "count", op, 1, 0,
                "InnoDB rows read, inserted, updated, deleted (status Innodb_rows_<op>; MySQL "
                "and MariaDB before 10.6)."),
      PMX__SS_COUNTER("handlers.total", EV_HANDLER, "count", handler, 1, 65,
                "Storage engine handler calls by operation (status Handler_<op>): write, "
                "update, delete, read_*, commit, rollback, ..."),
      PMX__SS_GAUGE("schema.size.bytes", EV_SCHEMA, "bytes", schema, 1, (size_t)c->max_databases + 1,
              "Data and index bytes per schema (information_schema.tables)."),
      PMX__SS_GAUGE("replication.running", EV_REPL, "running", connection, 1, 0,
              "On a replica: 1 when both replication threads run (SHOW SLAVE STATUS)."),
      PMX__SS_GAUGE("replication.lag.seconds", EV_REPL, "lag", connection, 1, 0,
              "On a replica: Seconds_Behind_Master (SHOW SLAVE STATUS)."),
      PMX__SS_GAUGE("replication.configured", EV_REPL_N, "configured", NULL, 0, 0,
              "Replication sources configured on this server (rows of SHOW SLAVE STATUS): 0 "
              "on a primary; absent without the REPLICATION CLIENT grant."),
  };
  for (size_t i = 0; i < sizeof more / sizeof more[0]; i++) defs[n++] = more[i];
  return pmx_groups_add_polling(out, "mysql_stats_polling_metrics", 0, my_measure, c, my_free,
                                defs, n);
}

const pmx_plugin_t pmx_plugin_mysql_stats = {PMX_PLUGIN_ABI, "mysql_stats", NULL, my_polling,
                                             NULL, {0}};
