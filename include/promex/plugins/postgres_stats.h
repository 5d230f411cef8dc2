/* The `postgres_stats` plugin: a PostgreSQL server's health on the application's own /metrics,
 * polled from its statistics views over the plugin's own libpq connection (the seed's planned
 * Postgres cron plugin). Failure behaviour (timeouts, up, errors_total, reconnect backoff,
 * logging) is common to the server statistics plugins: see promex/plugins/server_stats.h.
 * PostgreSQL 10 or later (pg_stat_activity.backend_type).
 *
 * Library: libpromex_postgres_stats (CMake target promex::promex_postgres_stats, pkg-config
 * promex_postgres_stats); it links libpq, so libpromex itself does not.
 *
 * Enabling it in code:
 *   const pmx_kv_t opts[] = {{"conn", "host=127.0.0.1 port=5432 dbname=app user=promex"},
 *                            {"password", getenv("PG_PASSWORD")}};
 *   pmx_plugin_use_t use = {&pmx_plugin_postgres_stats, opts, 2, NULL};  // user_data: optional
 *                                                   // pmx_server_stats_hooks_t * (log sink)
 * In the config file:
 *   [plugin.postgres_stats]
 *   conn = ${PG_URL}
 * The config loader resolves plugin sections against the `known` list it is given: pass
 * pmx_first_party_plugins() plus &pmx_plugin_postgres_stats (see examples/demo.c).
 *
 * Options:
 *   conn               a libpq connection string, key=value or postgresql:// URI (checked at
 *                      start); default: libpq's defaults and PG* environment variables. Give an
 *                      address (host=127.0.0.1) where name resolution could hang: it happens
 *                      before our deadline applies.
 *   password           overrides the password of conn (password = ${PG_PASSWORD}).
 *   timeout            ms for connect and for each statement, on the client (poll with a
 *                      deadline) and on the server (statement_timeout); default 2000.
 *   databases          comma list of databases to report; default all.
 *   exclude_databases  comma list to leave out.
 *   max_databases      most databases tracked (default 64): bounds cardinality.
 *   statements         top N statements by total time from pg_stat_statements (default 20;
 *                      0 turns it off). Read only when the extension is installed in the
 *                      database we connect to; series of statements that left the top N stay
 *                      (each family is capped at 4 N + 1 series, see the registry's limit).
 *   metric_prefix      default "<app>_prom_ex_postgres_stats" (dashboard assign
 *                      postgres_stats_metric_prefix); poll_rate (ms, default 5000); poll_timeout.
 * Our session sets application_name=promex_postgres_stats and is left out of the connection
 * counts and ages.
 *
 * Least privilege: a role with LOGIN and pg_monitor (CREATE ROLE promex LOGIN PASSWORD '...';
 * GRANT pg_monitor TO promex). Without pg_monitor the poll still works but other sessions'
 * states and statement texts are hidden: logged once at connect, naming the GRANT to run. A
 * wrong password is reason="auth"; a failing statement (e.g. a grant revoked) reason="query".
 *
 * Metrics (P = <app>_prom_ex_postgres_stats), one polling group postgres_stats_polling_metrics,
 * six statements per poll (seven with pg_stat_statements; five before PostgreSQL 10). Source -> metric -> postgres_exporter.
 *   (own)                                  P_up                      pg_up
 *   (own)                                  P_errors_total{reason}
 *   server_version                         P_version_info{version}   pg_static{version}
 *   max_connections                        P_connections_max         pg_settings_max_connections
 *   pg_stat_activity (client backends)     P_connections{datname,state}   pg_stat_activity_count
 *       every state of every database, 0 included
 *   now() - min(xact_start)                P_oldest_transaction_seconds
 *                                          pg_stat_activity_max_tx_duration
 *   now() - query_start of active queries  P_longest_query_seconds
 *   pg_is_in_recovery()                    P_replication_is_replica  pg_replication_is_replica
 *   now() - pg_last_xact_replay_timestamp()  P_replication_lag_seconds (0 on a primary)
 *                                          pg_replication_lag_seconds
 *   pg_stat_replication (PostgreSQL 10+; the replicas streaming from this server, at most
 *   PMX_POSTGRES_STATS_MAX_REPLICAS, labels application_name, client_addr ("local" for a
 *   Unix socket); a replica that disconnects has its series removed at the next complete poll):
 *     row count                            P_replication_replicas (0 without replicas)
 *     pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)  P_replica_replay_lag_bytes
 *                                          pg_stat_replication_pg_wal_lsn_diff (which also
 *                                          labels state)
 *     replay_lag (interval; NULL when idle: absent)  P_replica_replay_lag_seconds
 *     Without pg_monitor the lsn/lag columns of other roles' senders are NULL: absent.
 *   pg_postmaster_start_time()             P_start_time_seconds      pg_postmaster_start_time_seconds
 *   pg_locks grouped by lower(mode)        P_locks{mode}             pg_locks_count{mode}
 *       all eight table lock modes, 0 included
 *   pg_stat_database, label datname (postgres_exporter pg_stat_database_<column>):
 *     numbackends    P_database_backends              xact_commit   P_transactions_committed_total
 *     xact_rollback  P_transactions_rolled_back_total blks_read     P_blocks_read_total
 *     blks_hit       P_blocks_hit_total               tup_returned  P_tuples_returned_total
 *     tup_fetched    P_tuples_fetched_total           tup_inserted  P_tuples_inserted_total
 *     tup_updated    P_tuples_updated_total           tup_deleted   P_tuples_deleted_total
 *     conflicts      P_conflicts_total                temp_files    P_temp_files_total
 *     temp_bytes     P_temp_bytes_total               deadlocks     P_deadlocks_total
 *     blk_read_time  P_block_read_seconds_total       blk_write_time P_block_write_seconds_total
 *     active_time (14+)  P_active_seconds_total       (pg_stat_database_active_time_seconds_total)
 *   pg_database_size(datid)                P_database_size_bytes{datname}  pg_database_size_bytes
 *   pg_stat_statements top N by total time, labels datname, queryid (pg_stat_statements_*):
 *     calls                                P_statements_calls_total        ..._calls_total
 *     total_exec_time (total_time < 13)    P_statements_seconds_total      ..._seconds_total
 *     rows                                 P_statements_rows_total         ..._rows_total
 *     left(query, 100)                     P_statements_info{datname,queryid,query} = 1
 * _total metrics are counters (cumulative on the server; pg_stat_reset() or a restart is a
 * counter reset), the rest gauges. Cache hit ratio: rate(blocks_hit) / (rate(blocks_hit) +
 * rate(blocks_read)).
 * A database that a complete poll no longer finds (dropped, or now excluded) has its series
 * removed from the database, connections and statements metrics; created again, it starts
 * fresh counters.
 *
 * Threading: the connection lives in the group's ctx and is used by one poll at a time. */
#ifndef PROMEX_PLUGINS_POSTGRES_STATS_H
#define PROMEX_PLUGINS_POSTGRES_STATS_H

#include "promex/export.h"
#include "promex/plugin.h"
#include "promex/plugins/server_stats.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PMX_POSTGRES_STATS_DEFAULT_TIMEOUT_MS 2000u
#define PMX_POSTGRES_STATS_DEFAULT_MAX_DATABASES 64u
#define PMX_POSTGRES_STATS_DEFAULT_STATEMENTS 20u
/* Most replicas reported per primary (bounded cardinality). */
#define PMX_POSTGRES_STATS_MAX_REPLICAS 32u

/* The plugin table. Name "postgres_stats". Since 0.1. */
PMX_EXTERN extern const pmx_plugin_t pmx_plugin_postgres_stats;

#ifdef __cplusplus
}
#endif
#endif
