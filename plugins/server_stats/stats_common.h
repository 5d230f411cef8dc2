/* Private to the server statistics plugins (redis_stats, postgres_stats, mysql_stats): what they
 * share beyond the client library each one wraps. Compiled into each plugin's own library
 * (promex_redis_stats, ...), never into libpromex, so these symbols stay hidden in each.
 *
 *   - counters fed from a server's cumulative values (delta since the previous poll, keyed by a
 *     label value for per-database / per-command families, with a bounded number of keys);
 *   - a "scalar table": a static list of unlabelled statistics (source field -> metric), turned
 *     into metric definitions at start and into one event per poll;
 *   - reconnect backoff, and the `up` / `errors_total{reason}` bookkeeping every plugin reports.
 *
 * Threading: everything here lives in one polling group's ctx; a group's runs never overlap
 * (include/promex/plugin.h), so nothing needs a lock. */
#ifndef PMX_SERVER_STATS_COMMON_H
#define PMX_SERVER_STATS_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "promex/plugin.h"
#include "promex/plugins/server_stats.h"

/* ---- cumulative values -> counter increments ---------------------------------------------- */

/* What to add to a PMX_SUM so that it follows a cumulative source value: the whole value on the
 * first poll (the counter then equals the source), then the increase; a value that went
 * backwards is a server restart or a stats reset: the new value is added, as rate() expects. */
typedef struct pmx__ss_cum {
  double prev;
  bool seen;
} pmx__ss_cum_t;
double pmx__ss_cum_delta(pmx__ss_cum_t *c, double now);

/* The same per key (a database or command name). At most `cap` keys are tracked: a key past the
 * cap returns false and is not reported (bounded cardinality). Key length is bounded too. */
#define PMX__SS_KEY_MAX 128
typedef struct pmx__ss_keyed {
  struct pmx__ss_keyed_entry {
    char key[PMX__SS_KEY_MAX];
    pmx__ss_cum_t cum;
  } *e;
  size_t n, cap;
} pmx__ss_keyed_t;
/* cap == 0 frees nothing and tracks nothing. Returns false on allocation failure. */
bool pmx__ss_keyed_init(pmx__ss_keyed_t *k, size_t cap);
void pmx__ss_keyed_free(pmx__ss_keyed_t *k);
bool pmx__ss_keyed_delta(pmx__ss_keyed_t *k, const char *key, double now, double *delta);
/* Forgets `key` (a thing that is gone): its slot is free for another key, and if it comes back
 * its counter starts again from the whole value. */
void pmx__ss_keyed_forget(pmx__ss_keyed_t *k, const char *key);

/* ---- scalar statistics table -------------------------------------------------------------- */

typedef struct pmx__ss_stat {
  const char *name;    /* metric name after the plugin prefix, dotted ("memory.used.bytes") */
  const char *source;  /* field name in the server's output ("used_memory") */
  bool counter;        /* cumulative on the server: PMX_SUM fed with deltas */
  double scale;        /* multiplier applied to the source value (0 means 1) */
  const char *help;
} pmx__ss_stat_t;

/* Fills defs[i] (n entries) from the table: event `event_name`, measurement = stat name. */
void pmx__ss_stat_defs(const pmx__ss_stat_t *stats, size_t n, const char *event_name,
                       pmx_metric_def_t *defs);

/* Looks a source field up; returns false when the server did not report it. */
typedef bool (*pmx__ss_lookup_fn)(void *src, const char *source, double *value);

/* Emits one event with every stat the lookup finds (counters as deltas, tracked in cums[n]);
 * stats the server lacks (older versions) are left out of the event, so their metric keeps its
 * last value rather than reading 0. `scratch` holds n measurements. Returns how many were found. */
size_t pmx__ss_stat_emit(const pmx__ss_stat_t *stats, size_t n, pmx__ss_cum_t *cums,
                         pmx__ss_lookup_fn lookup, void *src, const pmx_event_t *ev,
                         pmx_measurement_t *scratch);
/* pmx__ss_stat_emit without the emit: fills scratch and returns the count (unit tests use it). */
size_t pmx__ss_stat_measure(const pmx__ss_stat_t *stats, size_t n, pmx__ss_cum_t *cums,
                            pmx__ss_lookup_fn lookup, void *src, pmx_measurement_t *scratch);

/* ---- result sets ------------------------------------------------------------------------ */

/* A query result as the plugins see it, whatever the client library: named columns, string
 * cells (NULL for SQL NULL). Tests build one from captured CSV fixtures. */
typedef struct pmx__ss_table {
  size_t nrows, ncols;
  const char *(*name)(const void *src, size_t col);
  const char *(*cell)(const void *src, size_t row, size_t col);
  const void *src;
} pmx__ss_table_t;

/* Column index of `name`, or -1 when the server's version lacks it. */
int pmx__ss_col(const pmx__ss_table_t *t, const char *name);

/* Row `row` as measurements: stats[i].source names the column; columns absent from the result,
 * SQL NULLs and non-numbers are left out; counters become deltas tracked per `key` (a database
 * name) in keyed[i]. Returns the number of measurements written to out (room for n). */
size_t pmx__ss_row_measure(const pmx__ss_table_t *t, size_t row, const pmx__ss_stat_t *stats,
                           size_t n, pmx__ss_keyed_t *keyed, const char *key,
                           pmx_measurement_t *out);

/* Strict decimal number (the whole string; finite). */
bool pmx__ss_number(const char *s, double *out);

/* ---- connection state --------------------------------------------------------------------- */

/* Reconnect backoff: after a failure the next connect waits delay ms (doubling from `min_ms` to
 * `max_ms`); polls in between report up 0 without touching the network. */
typedef struct pmx__ss_backoff {
  uint64_t next_ms;
  uint32_t delay_ms, min_ms, max_ms;
} pmx__ss_backoff_t;
uint64_t pmx__ss_now_ms(void);
bool pmx__ss_backoff_ready(const pmx__ss_backoff_t *b, uint64_t now_ms);
void pmx__ss_backoff_failed(pmx__ss_backoff_t *b, uint64_t now_ms);
void pmx__ss_backoff_reset(pmx__ss_backoff_t *b);

/* Failure reasons, the `reason` label of <prefix>_errors_total. */
typedef enum pmx__ss_reason {
  PMX__SS_CONNECT = 0, /* the server could not be reached or refused the connection */
  PMX__SS_AUTH,        /* wrong credentials */
  PMX__SS_TIMEOUT,     /* connect or statement timed out */
  PMX__SS_QUERY,       /* a statistics query failed (e.g. a missing grant) */
  PMX__SS_PARSE,       /* the server's answer could not be read */
  PMX__SS_N_REASONS
} pmx__ss_reason_t;
extern const char *const pmx__ss_reason_names[PMX__SS_N_REASONS];

/* The definitions of <prefix>_up (event `ev_up`, measurement "up") and
 * <prefix>_errors_total{reason} (event `ev_err`, one per failure). `server` names the server in
 * the help text. */
void pmx__ss_health_defs(const char *ev_up, const char *ev_err, const char *server,
                         pmx_metric_def_t defs[2]);
/* Emits up (0/1) on `up_ev`, and when !up one error of `reason` on `err_ev` (PMX__SS_N_REASONS:
 * none). The first call also creates every reason's series at 0 (*seeded, false initially). */
void pmx__ss_health_emit(const pmx_event_t *up_ev, const pmx_event_t *err_ev, bool up,
                         pmx__ss_reason_t reason, bool *seeded);

/* Logs failures once per change of state: the first failure, a failure of another reason, and
 * the recovery. Through hooks->log when given, else to stderr. */
typedef struct pmx__ss_log {
  const pmx_server_stats_hooks_t *hooks; /* borrowed; may be NULL */
  bool failing;
  pmx__ss_reason_t reason;
} pmx__ss_log_t;
void pmx__ss_log_fail(pmx__ss_log_t *l, pmx__ss_reason_t reason, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
void pmx__ss_log_ok(pmx__ss_log_t *l, const char *what);
/* A warning that does not fail the poll (a missing grant, an extension not loaded), logged only
 * when *once is false (then set). */
void pmx__ss_log_note(pmx__ss_log_t *l, bool *once, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* hiredis writes with write(): a server that closed the connection would raise SIGPIPE, whose
 * default action kills the process. pmx__ss_sigpipe_block() blocks it in the calling (poller)
 * thread, so the write fails with EPIPE instead; pmx__ss_sigpipe_drain() consumes a SIGPIPE left
 * pending by such a write, so it is never delivered later. */
void pmx__ss_sigpipe_block(void);
void pmx__ss_sigpipe_drain(void);

/* Parses a duration option in ms (1..3600000); absent: dflt. Returns PMX_OK or PMX_ECONFIG with
 * ctx->err naming the option. */
int pmx__ss_opt_ms(const pmx_plugin_ctx_t *ctx, const char *key, uint32_t dflt, uint32_t *out);
/* Parses a count option (0..max); absent: dflt. */
int pmx__ss_opt_count(const pmx_plugin_ctx_t *ctx, const char *key, uint32_t dflt, uint32_t max,
                      uint32_t *out);

/* A comma-separated name list (databases include/exclude); entries trimmed. NULL list: matches
 * when `empty_means` says so. */
bool pmx__ss_list_has(const char *list, const char *name);

/* Copies option `key` into *out (malloc'd; NULL when unset or empty). False on out of memory. */
bool pmx__ss_dup_opt(const pmx_plugin_ctx_t *ctx, const char *key, char **out);

/* Metric definitions of the plugins' polling groups: a gauge, or a counter (a sum of the
 * measurement, as the servers report running totals). */
#define PMX__SS_GAUGE(n, ev, meas, tg, nt, max, desc)                                          \
  {.kind = PMX_LAST_VALUE, .name = (n), .event_name = (ev), .measurement = (meas), .tags = (tg), \
   .n_tags = (nt), .max_series = (max), .description = (desc)}
#define PMX__SS_COUNTER(n, ev, meas, tg, nt, max, desc)                                   \
  {.kind = PMX_SUM, .name = (n), .event_name = (ev), .measurement = (meas), .tags = (tg), \
   .n_tags = (nt), .max_series = (max), .description = (desc)}

#endif
