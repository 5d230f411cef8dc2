/* What the server statistics plugins (redis_stats, postgres_stats, mysql_stats) share: the
 * optional hooks passed as pmx_plugin_use_t.user_data, and the behaviour common to all three.
 *
 * Each plugin opens its own connection to the server (never the application's), polls the
 * server's statistics every poll_rate and reports them under the plugin's metric prefix. A
 * server that is down, slow or refuses us never blocks the program or other pollers:
 *   - connect and every statement have a timeout (option `timeout`, ms, default 2000; keep it
 *     below poll_rate and below `poll_timeout`);
 *   - a failed poll sets <prefix>_up to 0, counts <prefix>_errors_total{reason} (connect, auth,
 *     timeout, query, parse) and closes the connection; the runtime also counts it in
 *     <app>_prom_ex_prom_ex_poll_errors_total{group};
 *   - the next connect waits 0.5 s, then doubles up to 30 s while the server stays unreachable
 *     (polls in between report up 0 without touching the network); the first success resets it;
 *   - the reason of a failure is logged once per change of state (and once more on recovery),
 *     through `log` below when given, else to stderr (as the runtime's default logger);
 *   - values the server reports as cumulative are counters (<name>_total, fed with increases; a
 *     restarted server is a counter reset), the rest are gauges; a statistic an older server
 *     lacks is left out (its series is simply absent), never reported as 0.
 * Metrics of a poll that failed keep their last values (up says whether they are fresh).
 *
 * Since 0.1. */
#ifndef PROMEX_PLUGINS_SERVER_STATS_H
#define PROMEX_PLUGINS_SERVER_STATS_H

#include "promex/config.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Optional: pass a pointer to one as pmx_plugin_use_t.user_data (borrowed; it must outlive
 * pmx_stop()). `log` is called from the poller thread with a complete message such as
 * "redis_stats: 127.0.0.1:6379: AUTH failed: WRONGPASS invalid username-password pair". */
typedef struct pmx_server_stats_hooks {
  pmx_log_fn log;
  void *log_ctx;
} pmx_server_stats_hooks_t;

#ifdef __cplusplus
}
#endif
#endif
