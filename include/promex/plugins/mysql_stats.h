/* The `mysql_stats` plugin: a MariaDB / MySQL server's health on the application's own /metrics,
 * polled from SHOW GLOBAL STATUS and VARIABLES over the plugin's own libmariadb connection (the
 * seed's planned MySQL cron plugin). Failure behaviour (timeouts, up, errors_total, reconnect
 * backoff, logging) is common to the server statistics plugins: promex/plugins/server_stats.h.
 *
 * Library: libpromex_mysql_stats (CMake target promex::promex_mysql_stats, pkg-config
 * promex_mysql_stats); it links libmariadb, so libpromex itself does not.
 *
 * Enabling it in code:
 *   const pmx_kv_t opts[] = {{"conn", "host=127.0.0.1 port=3306 user=promex"},
 *                            {"password", getenv("MYSQL_PASSWORD")}};
 *   pmx_plugin_use_t use = {&pmx_plugin_mysql_stats, opts, 2, NULL};  // user_data: optional
 *                                                   // pmx_server_stats_hooks_t * (log sink)
 * In the config file:
 *   [plugin.mysql_stats]
 *   conn = host=127.0.0.1 port=3306 user=promex
 *   password = ${MYSQL_PASSWORD}
 * The config loader resolves plugin sections against its `known` list: pass
 * pmx_first_party_plugins() plus &pmx_plugin_mysql_stats.
 *
 * Options:
 *   conn               space-separated key=value: host, port, user, password, database, socket
 *                      (no quoting); default "host=127.0.0.1".
 *   password           overrides the password of conn.
 *   timeout            ms for connect, reads and writes (default 2000); the client counts whole
 *                      seconds, so it is rounded up to a second.
 *   databases, exclude_databases  comma lists of schemas for schema_size_bytes.
 *   max_databases      most schemas reported (default 64).
 *   metric_prefix      default "<app>_prom_ex_mysql_stats" (dashboard assign
 *                      mysql_stats_metric_prefix); poll_rate (ms, default 5000); poll_timeout.
 *
 * Least privilege: CREATE USER promex IDENTIFIED BY '...'; GRANT PROCESS, REPLICATION CLIENT ON
 * *.* TO promex (SLAVE MONITOR on MariaDB 10.5+ for the replica status). Without REPLICATION
 * CLIENT the replication metrics are simply absent; a wrong password is reason="auth".
 * schema_size_bytes covers the tables the user holds some privilege on (information_schema
 * shows no others): GRANT SELECT ON app.* TO promex for the schemas to size. A schema a
 * complete poll no longer finds (dropped, left without tables, excluded) has its series removed.
 *
 * Metrics (P = <app>_prom_ex_mysql_stats), one group mysql_stats_polling_metrics, four
 * statements per poll. Source -> metric -> mysqld_exporter (mysql_global_status_<var> unless
 * said):
 *   (own)                        P_up                          mysql_up
 *   (own)                        P_errors_total{reason}
 *   version, version_comment     P_version_info{version,comment}  mysql_version_info
 *   Uptime                       P_uptime_seconds              ..._uptime
 *   Threads_connected / running  P_threads_connected, P_threads_running  ..._threads_connected/running
 *   max_connections (variable)   P_connections_max             mysql_global_variables_max_connections
 *   Max_used_connections         P_connections_max_used        ..._max_used_connections
 *   Connections                  P_connections_total           ..._connections
 *   Aborted_connects / _clients  P_aborted_connects_total, P_aborted_clients_total
 *   Questions, Queries           P_questions_total, P_queries_total
 *   Slow_queries                 P_slow_queries_total          ..._slow_queries
 *   Bytes_received / _sent       P_received_bytes_total, P_sent_bytes_total  ..._bytes_received/sent
 *   Created_tmp_disk_tables      P_tmp_disk_tables_total
 *   Table_locks_waited           P_table_locks_waited_total
 *   Open_tables                  P_open_tables
 *   innodb_buffer_pool_size      P_innodb_buffer_pool_size_bytes  mysql_global_variables_innodb_buffer_pool_size
 *   Innodb_buffer_pool_bytes_data / _dirty  P_innodb_buffer_pool_data_bytes, ..._dirty_bytes
 *   Innodb_buffer_pool_pages_total / _free  P_innodb_buffer_pool_pages_total, ..._pages_free
 *                                          (..._buffer_pool_pages{state})
 *   Innodb_buffer_pool_read_requests / _reads  P_innodb_buffer_pool_read_requests_total,
 *                                P_innodb_buffer_pool_reads_total (hit ratio: 1 - reads/requests)
 *   Innodb_row_lock_waits, _time (ms), _current_waits  P_innodb_row_lock_waits_total,
 *                                P_innodb_row_lock_seconds_total, P_innodb_row_lock_current_waits
 *   Com_<command>                P_commands_total{command}     ..._commands_total{command}
 *   Innodb_rows_<op>             P_innodb_row_ops_total{operation}  ..._innodb_row_ops_total
 *                                (MySQL, MariaDB < 10.6; absent on later MariaDB)
 *   Handler_<op>                 P_handlers_total{handler}     ..._handlers_total{handler}
 *                                (MariaDB counts temporary tables apart, in Handler_tmp_*)
 *   information_schema.tables    P_schema_size_bytes{schema}   (mysql_info_schema_table_size summed)
 *   SHOW SLAVE STATUS            P_replication_running{connection}, P_replication_lag_seconds
 *                                {connection}   mysql_slave_status_slave_{io,sql}_running,
 *                                mysql_slave_status_seconds_behind_master
 *                                (MySQL 8.0.22+ column names Replica_*_Running,
 *                                Seconds_Behind_Source, Channel_Name are read as well; the lag is
 *                                absent while Seconds_Behind_* is NULL, e.g. SQL thread stopped)
 *   SHOW SLAVE STATUS row count  P_replication_configured: replication sources configured, 0 on
 *                                a primary (absent without REPLICATION CLIENT / SLAVE MONITOR)
 *
 * Threading: the connection lives in the group's ctx and is used by one poll at a time;
 * mysql_library_init runs once in pmx_start. */
#ifndef PROMEX_PLUGINS_MYSQL_STATS_H
#define PROMEX_PLUGINS_MYSQL_STATS_H

#include "promex/export.h"
#include "promex/plugin.h"
#include "promex/plugins/server_stats.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PMX_MYSQL_STATS_DEFAULT_TIMEOUT_MS 2000u
#define PMX_MYSQL_STATS_DEFAULT_MAX_DATABASES 64u

/* The plugin table. Name "mysql_stats". Since 0.1. */
PMX_EXTERN extern const pmx_plugin_t pmx_plugin_mysql_stats;

#ifdef __cplusplus
}
#endif
#endif
