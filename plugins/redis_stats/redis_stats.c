/* The redis_stats plugin: polls a Redis server's INFO ALL over its own hiredis connection (see
 * include/promex/plugins/redis_stats.h for the metrics, their INFO sources and redis_exporter
 * names, and include/promex/plugins/server_stats.h for the failure behaviour).
 *
 * One polling group. Its ctx owns the connection: a group's runs never overlap, so no lock. A
 * run abandoned at its poll_timeout is never re-entered while it is still running, and hiredis'
 * own socket timeout (option timeout) ends it first in any case. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "promex/plugins/redis_stats.h"
#include "redis_info.h"
#include "stats_common.h"

#define EV_UP "promex.plugin.redis_stats.up"
#define EV_ERR "promex.plugin.redis_stats.error"
#define EV_INFO "promex.plugin.redis_stats.info"
#define EV_VERSION "promex.plugin.redis_stats.version"
#define EV_DB "promex.plugin.redis_stats.keyspace"
#define EV_CMD "promex.plugin.redis_stats.command"
#define EV_REPLICA "promex.plugin.redis_stats.replica"

#define MAX_DBS 64

/* "ok:<field>": 1 when the field reads "ok" or "up", else 0 (status strings). */
static const pmx__ss_stat_t k_stats[] = {
    {"uptime.seconds", "uptime_in_seconds", false, 0, "Seconds since the server started (INFO uptime_in_seconds)."},
    {"connected.clients", "connected_clients", false, 0, "Client connections, replicas excluded (INFO connected_clients)."},
    {"blocked.clients", "blocked_clients", false, 0, "Clients in a blocking call (INFO blocked_clients)."},
    {"clients.max", "maxclients", false, 0, "The maxclients limit (INFO maxclients, Redis 7+)."},
    {"connections.received.total", "total_connections_received", true, 0, "Connections accepted (INFO total_connections_received)."},
    {"rejected.connections.total", "rejected_connections", true, 0, "Connections rejected by maxclients (INFO rejected_connections)."},
    {"memory.used.bytes", "used_memory", false, 0, "Bytes allocated by Redis (INFO used_memory)."},
    {"memory.used.rss.bytes", "used_memory_rss", false, 0, "Resident set size of the server (INFO used_memory_rss)."},
    {"memory.used.peak.bytes", "used_memory_peak", false, 0, "Peak of used_memory (INFO used_memory_peak)."},
    {"memory.max.bytes", "maxmemory", false, 0, "The maxmemory limit, 0 for none (INFO maxmemory)."},
    {"memory.fragmentation.ratio", "mem_fragmentation_ratio", false, 0, "used_memory_rss / used_memory (INFO mem_fragmentation_ratio)."},
    {"commands.processed.total", "total_commands_processed", true, 0, "Commands processed (INFO total_commands_processed)."},
    {"net.input.bytes.total", "total_net_input_bytes", true, 0, "Bytes read from the network (INFO total_net_input_bytes)."},
    {"net.output.bytes.total", "total_net_output_bytes", true, 0, "Bytes written to the network (INFO total_net_output_bytes)."},
    {"keyspace.hits.total", "keyspace_hits", true, 0, "Key lookups that found the key (INFO keyspace_hits)."},
    {"keyspace.misses.total", "keyspace_misses", true, 0, "Key lookups that did not (INFO keyspace_misses)."},
    {"evicted.keys.total", "evicted_keys", true, 0, "Keys evicted by maxmemory (INFO evicted_keys)."},
    {"expired.keys.total", "expired_keys", true, 0, "Keys expired (INFO expired_keys)."},
    {"cpu.sys.seconds.total", "used_cpu_sys", true, 0, "System CPU time of the server (INFO used_cpu_sys)."},
    {"cpu.user.seconds.total", "used_cpu_user", true, 0, "User CPU time of the server (INFO used_cpu_user)."},
    {"connected.replicas", "connected_slaves", false, 0, "Replicas connected to this server (INFO connected_slaves)."},
    {"replication.offset.bytes", "master_repl_offset", false, 0, "Replication offset (INFO master_repl_offset)."},
    {"master.link.up", "ok:master_link_status", false, 0, "On a replica: 1 when the link to the master is up (INFO master_link_status)."},
    {"master.last.io.seconds.ago", "master_last_io_seconds_ago", false, 0, "On a replica: seconds since the last interaction with the master (INFO master_last_io_seconds_ago)."},
    {"rdb.changes.since.last.save", "rdb_changes_since_last_save", false, 0, "Writes since the last RDB save (INFO rdb_changes_since_last_save)."},
    {"rdb.last.save.timestamp.seconds", "rdb_last_save_time", false, 0, "Unix time of the last successful RDB save (INFO rdb_last_save_time)."},
    {"rdb.bgsave.in.progress", "rdb_bgsave_in_progress", false, 0, "1 while an RDB save runs (INFO rdb_bgsave_in_progress)."},
    {"rdb.last.bgsave.ok", "ok:rdb_last_bgsave_status", false, 0, "1 when the last RDB save succeeded (INFO rdb_last_bgsave_status)."},
    {"aof.enabled", "aof_enabled", false, 0, "1 when the append-only file is on (INFO aof_enabled)."},
    {"aof.rewrite.in.progress", "aof_rewrite_in_progress", false, 0, "1 while an AOF rewrite runs (INFO aof_rewrite_in_progress)."},
    {"aof.last.write.ok", "ok:aof_last_write_status", false, 0, "1 when the last AOF write succeeded (INFO aof_last_write_status)."},
};
#define N_STATS (sizeof k_stats / sizeof k_stats[0])

typedef struct rs_ctx {
  pmx__redis_target_t target;
  char where[300]; /* host:port or socket path, for messages */
  uint32_t timeout_ms;
  char *db_include, *db_exclude;
  redisContext *rc;
  pmx__ss_backoff_t backoff;
  pmx__ss_log_t log;
  bool seeded; /* errors_total series created */
  pmx__redis_info_t info;
  pmx__ss_cum_t cums[N_STATS];
  pmx__ss_keyed_t cmd_calls, cmd_usec;
  char dbs[MAX_DBS][16]; /* databases reported so far: a vanished one reads 0 keys */
  size_t n_dbs;
  pmx_event_t *ev_up, *ev_err, *ev_info, *ev_version, *ev_db, *ev_cmd, *ev_replica;
  pmx_seen_t *replicas_seen; /* "ip:port" of the replicas listed by the last complete poll */
  pmx_bus_t *bus;            /* for replica_gone, during a sweep */
  pmx_measurement_t scratch[N_STATS];
} rs_ctx_t;

static void rs_free(void *p) {
  rs_ctx_t *c = p;
  if (c == NULL) return;
  if (c->rc != NULL) redisFree(c->rc);
  pmx__redis_info_free(&c->info);
  pmx__ss_keyed_free(&c->cmd_calls);
  pmx__ss_keyed_free(&c->cmd_usec);
  pmx_seen_free(c->replicas_seen);
  free(c->db_include);
  free(c->db_exclude);
  /* The password lived in target: leave no copy behind in freed memory. */
  memset(c->target.password, 0, sizeof c->target.password);
  free(c);
}

static bool lookup(void *src, const char *source, double *v) {
  const pmx__redis_info_t *info = src;
  if (strncmp(source, "ok:", 3) == 0) {
    const char *s = pmx__redis_info_get(info, source + 3);
    if (s == NULL) return false;
    *v = strcmp(s, "ok") == 0 || strcmp(s, "up") == 0;
    return true;
  }
  return pmx__redis_number(pmx__redis_info_get(info, source), v);
}

static struct timeval tv_ms(uint32_t ms) {
  return (struct timeval){.tv_sec = ms / 1000, .tv_usec = (suseconds_t)(ms % 1000) * 1000};
}

/* I/O failure of a context: timeout or connection. hiredis 0.14 reports a socket timeout as an
 * I/O error with errno EAGAIN ("Resource temporarily unavailable"). */
static pmx__ss_reason_t io_reason(const redisContext *rc) {
  if (rc->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINPROGRESS))
    return PMX__SS_TIMEOUT;
  if (strstr(rc->errstr, "timed out") != NULL) return PMX__SS_TIMEOUT;
  return PMX__SS_CONNECT;
}

/* `detail` may point into the context (errstr): log before the context is freed. */
static int fail(rs_ctx_t *c, pmx__ss_reason_t reason, const char *what, const char *detail) {
  if (reason == PMX__SS_TIMEOUT)
    pmx__ss_log_fail(&c->log, reason, "redis_stats: %s: %s: no answer within %u ms (%s)",
                     c->where, what, (unsigned)c->timeout_ms, detail);
  else
    pmx__ss_log_fail(&c->log, reason, "redis_stats: %s: %s: %s", c->where, what, detail);
  if (c->rc != NULL) {
    redisFree(c->rc);
    c->rc = NULL;
  }
  pmx__ss_backoff_failed(&c->backoff, pmx__ss_now_ms());
  pmx__ss_health_emit(c->ev_up, c->ev_err, false, reason, &c->seeded);
  return reason == PMX__SS_TIMEOUT ? PMX_ETIMEDOUT : PMX_EIO;
}

static int rs_connect(rs_ctx_t *c) {
  struct timeval tv = tv_ms(c->timeout_ms);
  c->rc = c->target.unix_path[0] != '\0' ? redisConnectUnixWithTimeout(c->target.unix_path, tv)
                                         : redisConnectWithTimeout(c->target.host, c->target.port, tv);
  if (c->rc == NULL) return fail(c, PMX__SS_CONNECT, "connect", "out of memory");
  if (c->rc->err != 0) return fail(c, io_reason(c->rc), "connect", c->rc->errstr);
  if (redisSetTimeout(c->rc, tv) != REDIS_OK)
    return fail(c, PMX__SS_CONNECT, "connect", "cannot set the socket timeout");
  if (c->target.password[0] != '\0') {
    redisReply *r = c->target.user[0] != '\0'
                        ? redisCommand(c->rc, "AUTH %s %s", c->target.user, c->target.password)
                        : redisCommand(c->rc, "AUTH %s", c->target.password);
    if (r == NULL) return fail(c, io_reason(c->rc), "AUTH", c->rc->errstr);
    if (r->type == REDIS_REPLY_ERROR) {
      char detail[256];
      snprintf(detail, sizeof detail, "%s", r->str != NULL ? r->str : "error");
      freeReplyObject(r);
      return fail(c, PMX__SS_AUTH, "AUTH failed", detail);
    }
    freeReplyObject(r);
  }
  return PMX_OK;
}

static bool db_wanted(const rs_ctx_t *c, const char *db) {
  if (c->db_include != NULL && !pmx__ss_list_has(c->db_include, db)) return false;
  return !pmx__ss_list_has(c->db_exclude, db);
}

static void emit_keyspace(rs_ctx_t *c) {
  bool present[MAX_DBS] = {false};
  for (size_t i = 0; i < c->info.n; i++) {
    const pmx__redis_field_t *f = &c->info.f[i];
    if (strncmp(f->key, "db", 2) != 0 || f->key[2] < '0' || f->key[2] > '9') continue;
    if (strlen(f->key) >= sizeof c->dbs[0] || !db_wanted(c, f->key)) continue;
    size_t k = 0;
    while (k < c->n_dbs && strcmp(c->dbs[k], f->key) != 0) k++;
    if (k == c->n_dbs) {
      if (c->n_dbs == MAX_DBS) continue; /* bounded cardinality */
      snprintf(c->dbs[c->n_dbs++], sizeof c->dbs[0], "%s", f->key);
    }
    present[k] = true;
    double keys = 0, expires = 0;
    pmx_measurement_t m[2];
    size_t n = 0;
    if (pmx__redis_sub_number(f->value, "keys", &keys)) m[n++] = PMX_M("keys", keys);
    if (pmx__redis_sub_number(f->value, "expires", &expires)) m[n++] = PMX_M("expires", expires);
    const pmx_meta_t md[] = {PMX_META_S("db", c->dbs[k])};
    if (n > 0) pmx_emit(c->ev_db, m, n, md, 1);
  }
  /* INFO lists only non-empty databases: one emptied (FLUSHDB) is reported as 0, not left at its
   * last count. */
  for (size_t k = 0; k < c->n_dbs; k++) {
    if (present[k]) continue;
    const pmx_measurement_t m[] = {PMX_M("keys", 0), PMX_M("expires", 0)};
    const pmx_meta_t md[] = {PMX_META_S("db", c->dbs[k])};
    pmx_emit(c->ev_db, m, 2, md, 1);
  }
}

static void emit_commands(rs_ctx_t *c) {
  for (size_t i = 0; i < c->info.n; i++) {
    const pmx__redis_field_t *f = &c->info.f[i];
    if (strncmp(f->key, "cmdstat_", 8) != 0 || f->key[8] == '\0') continue;
    const char *cmd = f->key + 8;
    double calls, usec, dc, du;
    pmx_measurement_t m[2];
    size_t n = 0;
    if (pmx__redis_sub_number(f->value, "calls", &calls) &&
        pmx__ss_keyed_delta(&c->cmd_calls, cmd, calls, &dc))
      m[n++] = PMX_M("calls", dc);
    if (pmx__redis_sub_number(f->value, "usec", &usec) &&
        pmx__ss_keyed_delta(&c->cmd_usec, cmd, usec / 1e6, &du))
      m[n++] = PMX_M("seconds", du);
    const pmx_meta_t md[] = {PMX_META_S("cmd", cmd)};
    if (n > 0) pmx_emit(c->ev_cmd, m, n, md, 1);
  }
}

static void emit_replicas(rs_ctx_t *c) {
  for (size_t i = 0; i < c->info.n; i++) {
    const pmx__redis_field_t *f = &c->info.f[i];
    if (strncmp(f->key, "slave", 5) != 0 || f->key[5] < '0' || f->key[5] > '9') continue;
    char ip[64], port[16], name[96];
    double lag, offset;
    if (!pmx__redis_sub_str(f->value, "ip", ip, sizeof ip) ||
        !pmx__redis_sub_str(f->value, "port", port, sizeof port))
      continue;
    snprintf(name, sizeof name, "%s:%s", ip, port);
    pmx_measurement_t m[2];
    size_t n = 0;
    if (pmx__redis_sub_number(f->value, "lag", &lag)) m[n++] = PMX_M("lag", lag);
    if (pmx__redis_sub_number(f->value, "offset", &offset)) m[n++] = PMX_M("offset", offset);
    const pmx_meta_t md[] = {PMX_META_S("replica", name)};
    if (n > 0) pmx_emit(c->ev_replica, m, n, md, 1);
    pmx_seen_mark(c->replicas_seen, name);
  }
}

/* A replica no longer listed (disconnected): its lag and offset series go rather than freeze. */
static void replica_gone(const char *name, void *p) {
  rs_ctx_t *c = p;
  const pmx_meta_t md[] = {PMX_META_S("replica", name)};
  pmx_retire(c->bus, c->ev_replica, md, 1);
}

static int rs_poll(rs_ctx_t *c, pmx_bus_t *bus);

static int rs_measure(pmx_bus_t *bus, void *p) {
  pmx__ss_sigpipe_block();
  int rc = rs_poll(p, bus);
  pmx__ss_sigpipe_drain();
  return rc;
}

static int rs_poll(rs_ctx_t *c, pmx_bus_t *bus) {
  if (c->ev_up == NULL) {
    if (pmx_bus_event(bus, EV_UP, &c->ev_up) != PMX_OK ||
        pmx_bus_event(bus, EV_ERR, &c->ev_err) != PMX_OK ||
        pmx_bus_event(bus, EV_INFO, &c->ev_info) != PMX_OK ||
        pmx_bus_event(bus, EV_VERSION, &c->ev_version) != PMX_OK ||
        pmx_bus_event(bus, EV_DB, &c->ev_db) != PMX_OK ||
        pmx_bus_event(bus, EV_CMD, &c->ev_cmd) != PMX_OK ||
        pmx_bus_event(bus, EV_REPLICA, &c->ev_replica) != PMX_OK) {
      c->ev_up = NULL;
      return PMX_ENOMEM;
    }
  }
  if (c->rc == NULL) {
    if (!pmx__ss_backoff_ready(&c->backoff, pmx__ss_now_ms())) {
      /* Waiting to reconnect: still down, but this is not a new failure. */
      pmx__ss_health_emit(c->ev_up, c->ev_err, false, PMX__SS_N_REASONS, &c->seeded);
      return PMX_EIO;
    }
    int rc = rs_connect(c);
    if (rc != PMX_OK) return rc;
  }
  redisReply *r = redisCommand(c->rc, "INFO ALL");
  if (r == NULL) return fail(c, io_reason(c->rc), "INFO", c->rc->errstr);
  if (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS) {
    char detail[256];
    snprintf(detail, sizeof detail, "%s",
             r->type == REDIS_REPLY_ERROR && r->str != NULL ? r->str : "unexpected reply type");
    /* NOAUTH (a password is needed) is an auth problem; NOPERM (ACL without +info) a grant. */
    pmx__ss_reason_t reason = strncmp(detail, "NOAUTH", 6) == 0 ? PMX__SS_AUTH : PMX__SS_QUERY;
    freeReplyObject(r);
    return fail(c, reason, "INFO ALL", detail);
  }
  /* hiredis keeps a NUL after the reply text (str[len]), which the parser needs. */
  int prc = pmx__redis_info_parse(r->str, (size_t)r->len, &c->info);
  if (prc != 0) {
    freeReplyObject(r);
    return fail(c, PMX__SS_PARSE, "INFO ALL", "out of memory");
  }
  if (pmx__ss_stat_emit(k_stats, N_STATS, c->cums, lookup, &c->info, c->ev_info, c->scratch) ==
      0) {
    freeReplyObject(r);
    return fail(c, PMX__SS_PARSE, "INFO ALL", "no statistics in the reply");
  }
  const char *version = pmx__redis_info_get(&c->info, "redis_version");
  const char *mode = pmx__redis_info_get(&c->info, "redis_mode");
  const char *role = pmx__redis_info_get(&c->info, "role");
  const pmx_measurement_t one[] = {PMX_M("info", 1)};
  const pmx_meta_t vmd[] = {PMX_META_S("version", version ? version : ""),
                            PMX_META_S("mode", mode ? mode : ""),
                            PMX_META_S("role", role ? role : "")};
  pmx_emit(c->ev_version, one, 1, vmd, 3);
  emit_keyspace(c);
  emit_commands(c);
  emit_replicas(c);
  c->bus = bus;
  pmx_seen_sweep(c->replicas_seen, replica_gone, c);
  freeReplyObject(r);
  pmx__ss_backoff_reset(&c->backoff);
  pmx__ss_log_ok(&c->log, "redis_stats");
  pmx__ss_health_emit(c->ev_up, c->ev_err, true, PMX__SS_N_REASONS, &c->seeded);
  return PMX_OK;
}

#define GAUGE_T(n, ev, meas, tg, nt, desc)                                                     \
  {.kind = PMX_LAST_VALUE, .name = (n), .event_name = (ev), .measurement = (meas), .tags = (tg), \
   .n_tags = (nt), .description = (desc)}
#define COUNTER_T(n, ev, meas, tg, nt, max, desc)                                          \
  {.kind = PMX_SUM, .name = (n), .event_name = (ev), .measurement = (meas), .tags = (tg), \
   .n_tags = (nt), .max_series = (max), .description = (desc)}

static const char *const k_allowed[] = {"conn", "password", "timeout", "databases",
                                        "exclude_databases", "max_commands"};

static int rs_polling(const pmx_plugin_ctx_t *ctx, pmx_groups_t *out) {
  int rc = pmx_plugin_check_opts(ctx, k_allowed, sizeof k_allowed / sizeof k_allowed[0]);
  if (rc != PMX_OK) return rc;
  rs_ctx_t *c = calloc(1, sizeof *c);
  if (c == NULL) return PMX_ENOMEM;
  const char *conn = pmx_plugin_opt(ctx, "conn");
  char err[200];
  uint32_t max_commands = 0;
  if (pmx__redis_url_parse(conn != NULL ? conn : "redis://127.0.0.1:6379", &c->target, err,
                           sizeof err) != 0) {
    rs_free(c);
    return pmx_plugin_fail(ctx, PMX_ECONFIG, "plugin \"%s\": option conn: %s", ctx->plugin_name,
                           err);
  }
  const char *pw = pmx_plugin_opt(ctx, "password");
  if (pw != NULL) {
    if (strlen(pw) >= sizeof c->target.password) {
      rs_free(c);
      return pmx_plugin_fail(ctx, PMX_ECONFIG, "plugin \"%s\": option password is too long",
                             ctx->plugin_name);
    }
    snprintf(c->target.password, sizeof c->target.password, "%s", pw);
  }
  if ((rc = pmx__ss_opt_ms(ctx, "timeout", PMX_REDIS_STATS_DEFAULT_TIMEOUT_MS, &c->timeout_ms)) !=
          PMX_OK ||
      (rc = pmx__ss_opt_count(ctx, "max_commands", PMX_REDIS_STATS_DEFAULT_MAX_COMMANDS, 10000,
                              &max_commands)) != PMX_OK) {
    rs_free(c);
    return rc;
  }
  if (!pmx__ss_dup_opt(ctx, "databases", &c->db_include) ||
      !pmx__ss_dup_opt(ctx, "exclude_databases", &c->db_exclude) ||
      !pmx__ss_keyed_init(&c->cmd_calls, max_commands) ||
      !pmx__ss_keyed_init(&c->cmd_usec, max_commands) ||
      pmx_seen_new(&c->replicas_seen) != PMX_OK) {
    rs_free(c);
    return PMX_ENOMEM;
  }
  if (c->target.unix_path[0] != '\0')
    snprintf(c->where, sizeof c->where, "%s", c->target.unix_path);
  else
    snprintf(c->where, sizeof c->where, "%s:%d", c->target.host, c->target.port);
  c->backoff = (pmx__ss_backoff_t){.min_ms = 500, .max_ms = 30000};
  c->log.hooks = ctx->user_data;

  static const char *const db[] = {"db"};
  static const char *const cmd[] = {"cmd"};
  static const char *const replica[] = {"replica"};
  static const char *const version[] = {"version", "mode", "role"};
  pmx_metric_def_t defs[N_STATS + 12];
  size_t n = 0;
  pmx__ss_health_defs(EV_UP, EV_ERR, "Redis", defs);
  n += 2;
  pmx__ss_stat_defs(k_stats, N_STATS, EV_INFO, defs + n);
  n += N_STATS;
  const pmx_metric_def_t more[] = {
      GAUGE_T("instance.info", EV_VERSION, "info", version, 3,
              "Always 1: the server's version, mode and role (INFO redis_version, redis_mode, role)."),
      GAUGE_T("db.keys", EV_DB, "keys", db, 1, "Keys per database (INFO keyspace dbN:keys)."),
      GAUGE_T("db.keys.expiring", EV_DB, "expires", db, 1,
              "Keys with an expiry per database (INFO keyspace dbN:expires)."),
      COUNTER_T("commands.total", EV_CMD, "calls", cmd, 1, max_commands,
                "Calls per command (INFO commandstats cmdstat_<cmd>:calls)."),
      COUNTER_T("commands.duration.seconds.total", EV_CMD, "seconds", cmd, 1, max_commands,
                "Time spent per command (INFO commandstats cmdstat_<cmd>:usec)."),
      GAUGE_T("replica.lag.seconds", EV_REPLICA, "lag", replica, 1,
              "Per connected replica: seconds since its last ack (INFO slaveN:lag)."),
      GAUGE_T("replica.offset.bytes", EV_REPLICA, "offset", replica, 1,
              "Per connected replica: its acknowledged replication offset (INFO slaveN:offset)."),
  };
  for (size_t i = 0; i < sizeof more / sizeof more[0]; i++) defs[n++] = more[i];
  return pmx_groups_add_polling(out, "redis_stats_polling_metrics", 0, rs_measure, c, rs_free,
                                defs, n);
}

const pmx_plugin_t pmx_plugin_redis_stats = {PMX_PLUGIN_ABI, "redis_stats", NULL, rs_polling, NULL,
                                             {0}};
