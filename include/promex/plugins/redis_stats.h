/* The `redis_stats` plugin: a Redis server's health on the application's own /metrics, polled
 * from INFO ALL over the plugin's own hiredis connection (the seed's planned Redis cron plugin).
 * Failure behaviour (timeouts, up, errors_total, reconnect backoff, logging) is common to the
 * server statistics plugins: see promex/plugins/server_stats.h.
 *
 * Library: libpromex_redis_stats (CMake target promex::promex_redis_stats, pkg-config
 * promex_redis_stats); it links hiredis, so libpromex itself does not.
 *
 * Enabling it in code:
 *   const pmx_kv_t opts[] = {{"conn", "redis://:secret@127.0.0.1:6379"}, {"poll_rate", "5000"}};
 *   pmx_plugin_use_t use = {&pmx_plugin_redis_stats, opts, 2, NULL};  // user_data: optional
 *                                                     // pmx_server_stats_hooks_t * (log sink)
 * In the config file:
 *   [plugin.redis_stats]
 *   conn = ${REDIS_URL}
 * The config loader resolves plugin sections against the `known` list it is given: pass
 * pmx_first_party_plugins() plus &pmx_plugin_redis_stats (see examples/demo.c for the pattern).
 *
 * Options:
 *   conn               "redis://[[user]:password@]host[:port][/db]", "unix:///path/redis.sock"
 *                      or "host[:port]"; default redis://127.0.0.1:6379. %XX escapes are decoded
 *                      in user and password. TLS (rediss://) is not supported.
 *   password           overrides the password of conn (keep it out of the URL: password =
 *                      ${REDIS_PASSWORD}).
 *   timeout            ms for connect and for each command (default 2000).
 *   databases          comma list of keyspace entries to report ("db0,db3"); default all.
 *   exclude_databases  comma list to leave out.
 *   max_commands       most commands tracked in commands_total (default 100): bounds cardinality.
 *   metric_prefix      default "<app>_prom_ex_redis_stats" (dashboard assign
 *                      redis_stats_metric_prefix); poll_rate (ms, default 5000); poll_timeout.
 *
 * Least privilege: INFO only. With ACLs: `ACL SETUSER promex on >secret +info +auth` (plus
 * +hello on clients that send it). A missing grant is reported once as reason="query" with the
 * server's NOPERM text; a missing/wrong password as reason="auth".
 *
 * Metrics (P = <app>_prom_ex_redis_stats). One polling group, redis_stats_polling_metrics, one
 * INFO ALL per poll. Source INFO field -> metric -> redis_exporter (namespace redis) name.
 *   (own)                        P_up                          redis_up
 *   (own)                        P_errors_total{reason}        redis_exporter_scrapes_total-ish
 *   redis_version, redis_mode, role  P_instance_info{version,mode,role} = 1   redis_instance_info
 *   uptime_in_seconds            P_uptime_seconds              redis_uptime_in_seconds
 *   connected_clients            P_connected_clients           redis_connected_clients
 *   blocked_clients              P_blocked_clients             redis_blocked_clients
 *   maxclients (Redis 7+)        P_clients_max                 redis_config_maxclients
 *   total_connections_received   P_connections_received_total  redis_connections_received_total
 *   rejected_connections         P_rejected_connections_total  redis_rejected_connections_total
 *   used_memory                  P_memory_used_bytes           redis_memory_used_bytes
 *   used_memory_rss              P_memory_used_rss_bytes       redis_memory_used_rss_bytes
 *   used_memory_peak             P_memory_used_peak_bytes      redis_memory_used_peak_bytes
 *   maxmemory                    P_memory_max_bytes            redis_memory_max_bytes
 *   mem_fragmentation_ratio      P_memory_fragmentation_ratio  redis_mem_fragmentation_ratio
 *   total_commands_processed     P_commands_processed_total    redis_commands_processed_total
 *   total_net_input_bytes        P_net_input_bytes_total       redis_net_input_bytes_total
 *   total_net_output_bytes       P_net_output_bytes_total      redis_net_output_bytes_total
 *   keyspace_hits / _misses      P_keyspace_hits_total, P_keyspace_misses_total   (same names)
 *   evicted_keys, expired_keys   P_evicted_keys_total, P_expired_keys_total       (same names)
 *   used_cpu_sys / used_cpu_user P_cpu_sys_seconds_total, P_cpu_user_seconds_total (same names)
 *   connected_slaves             P_connected_replicas          redis_connected_slaves
 *   master_repl_offset           P_replication_offset_bytes    redis_master_repl_offset
 *   master_link_status (replica) P_master_link_up              redis_master_link_up
 *   master_last_io_seconds_ago   P_master_last_io_seconds_ago  redis_master_last_io_seconds_ago
 *   rdb_changes_since_last_save  P_rdb_changes_since_last_save redis_rdb_changes_since_last_save
 *   rdb_last_save_time           P_rdb_last_save_timestamp_seconds  (same name)
 *   rdb_bgsave_in_progress       P_rdb_bgsave_in_progress      redis_rdb_bgsave_in_progress
 *   rdb_last_bgsave_status       P_rdb_last_bgsave_ok          redis_rdb_last_bgsave_status
 *   aof_enabled                  P_aof_enabled                 redis_aof_enabled
 *   aof_rewrite_in_progress      P_aof_rewrite_in_progress     redis_aof_rewrite_in_progress
 *   aof_last_write_status        P_aof_last_write_ok           redis_aof_last_write_status
 *   dbN:keys / dbN:expires       P_db_keys{db}, P_db_keys_expiring{db}   redis_db_keys{db},
 *                                redis_db_keys_expiring{db}; a database emptied reads 0
 *   cmdstat_<cmd>:calls / usec   P_commands_total{cmd}, P_commands_duration_seconds_total{cmd}
 *                                redis_commands_total, redis_commands_duration_seconds_total
 *   slaveN:ip,port,lag,offset    P_replica_lag_seconds{replica="ip:port"},
 *                                P_replica_offset_bytes{replica}   redis_connected_slave_lag_seconds,
 *                                redis_connected_slave_offset_bytes; a replica no longer
 *                                listed (disconnected) has both series removed
 * _total metrics are counters (cumulative on the server), the rest gauges. A field an older
 * server lacks (maxclients before 7.0) is left out. instance_info keeps a series per version
 * seen (an upgrade leaves the old one at 1 until restart: use max by (version) with care).
 *
 * Threading: the connection lives in the group's ctx and is used by one poll at a time. */
#ifndef PROMEX_PLUGINS_REDIS_STATS_H
#define PROMEX_PLUGINS_REDIS_STATS_H

#include "promex/export.h"
#include "promex/plugin.h"
#include "promex/plugins/server_stats.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PMX_REDIS_STATS_DEFAULT_TIMEOUT_MS 2000u
#define PMX_REDIS_STATS_DEFAULT_MAX_COMMANDS 100u

/* The plugin table. Name "redis_stats". Since 0.1. */
PMX_EXTERN extern const pmx_plugin_t pmx_plugin_redis_stats;

#ifdef __cplusplus
}
#endif
#endif
