/* The `db` plugin: PromEx.Plugins.Ecto for C programs (SQLite, PostgreSQL, MariaDB/MySQL).
 *
 * How it fits together: a program creates one repo handle per connection or pool
 * (pmx_db_repo_new, or an adapter's one-call constructor: promex/db_sqlite.h, promex/db_pq.h),
 * runs its queries through the adapter's thin wrappers, and each query becomes one `db.query`
 * event; the plugin turns those events into the metrics below. Programs with their own driver
 * emit the same events with pmx_db_repo_query().
 *
 * Enabling it: {&pmx_plugin_db, opts, n, NULL} in pmx_config_t.plugins, or [plugin.db] in the INI
 * file. It is a first-party plugin, so `promex gen config` lists it.
 *
 * ---- Event contract (modelled on Ecto's [:repo, :query] and [:ecto, :repo, :init]) ----------
 *
 * "db.query"      one per executed statement.
 *   measurements (nanoseconds; an absent one stays absent, never zero):
 *     queue_time   waiting for a connection from the pool
 *     query_time   executing on the server / engine (always present from the adapters)
 *     decode_time  decoding the result
 *     idle_time    how long the connection sat idle in the pool before this checkout
 *     total_time   the sum of the ones present (set by pmx_db_repo_query when not given)
 *     rows         rows returned (SELECT) or affected (DML)
 *   metadata (strings):
 *     repo         the name given to the repo handle
 *     source       main table, from pmx_db_classify(); "source_unavailable" when unknown
 *     command      select, insert, update, delete, begin, commit, rollback, ... (lower case);
 *                  "unavailable" when unknown
 *     result       "ok" or "error"
 *     error_class  "" when ok; else the SQLSTATE (PostgreSQL, MariaDB: "23505", "42P01"), the
 *                  SQLite primary result code name ("SQLITE_CONSTRAINT"), or "connection" when
 *                  no server answer came back
 * "db.repo.init"  when a repo handle is created, and again at every manual metrics run (so repos
 *                 created before pmx_start() still show up: PromEx's init-ordering pitfall).
 *   measurements: status (1), pool_size, timeout (seconds)
 *   metadata: repo, database_name, database_host
 * "db.pool"       from pmx_db_repo_pool() (programs that keep a pool).
 *   measurements: in_use, size, saturation (in_use / size, when size > 0)
 *   metadata: repo
 *
 * SQL text and parameter values never reach an event or a label: only the classifier's command
 * and table name (a bounded identifier) do.
 *
 * ---- Metrics (prefix P = <app>_prom_ex_db; times in seconds) --------------------------------
 * group db_init_manual_metrics (re-announces every live repo of this bus at each manual run):
 *   P_repo_init_status_info{repo,database_name,database_host}   gauge 1
 *       PromEx: <app>_prom_ex_ecto_repo_init_status_info
 *   P_repo_init_pool_size{repo}                                  gauge
 *       PromEx: ..._ecto_repo_init_pool_size
 *   P_repo_init_timeout_seconds{repo}                            gauge
 *       PromEx: ..._ecto_repo_init_timeout_duration (milliseconds there)
 * group db_query_event_metrics:
 *   P_repo_query_idle_time_seconds{repo}                         histogram, duration_buckets
 *       PromEx: ..._ecto_repo_query_idle_time_milliseconds
 *   P_repo_query_queue_time_seconds{repo}                        histogram
 *       PromEx: ..._ecto_repo_query_queue_time_milliseconds
 *   P_repo_query_decode_time_seconds{repo}                       histogram
 *       PromEx: ..._ecto_repo_query_decode_time_milliseconds
 *   P_repo_query_execution_time_seconds{repo,source,command}     histogram
 *       PromEx: ..._ecto_repo_query_execution_time_milliseconds
 *   P_repo_query_total_time_seconds{repo,source,command}         histogram
 *       PromEx: ..._ecto_repo_query_total_time_milliseconds
 *   P_repo_query_results_returned{repo,source,command}           histogram, rows_buckets
 *       PromEx: ..._ecto_repo_query_results_returned
 *   P_repo_query_errors_total{repo,source,command,error_class}   counter (not in PromEx)
 * group db_pool_event_metrics (not in PromEx):
 *   P_repo_pool_connections_in_use{repo}                         gauge
 *   P_repo_pool_saturation_ratio{repo}                           gauge, in_use / size
 * Every query (ok or error) is in execution_time's _count, so the query rate is
 * rate(..._execution_time_seconds_count) and the error ratio errors_total over it.
 *
 * ---- Options ---------------------------------------------------------------------------------
 *   repos             "all" (default) or a comma list of repo names: only those are reported.
 *   duration_buckets  comma list of strictly increasing upper bounds in seconds (default
 *                     0.0001,0.0005,0.001,0.005,0.01,0.05,0.1,0.25,0.5,1,2.5,5,10,30).
 *   rows_buckets      same for rows (default 1,5,10,50,100,500,1000,10000).
 *   metric_prefix     default "<app>_prom_ex_db" (dashboard assign db_metric_prefix must match).
 * A bad value fails pmx_start() with PMX_ECONFIG and a message naming the option.
 *
 * Threading: every function here is safe from any thread. A repo handle may be shared by
 * threads (it is read-only after creation); pmx_db_repo_free() must not race with its use. */
#ifndef PROMEX_PLUGINS_DB_H
#define PROMEX_PLUGINS_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "promex/event.h"
#include "promex/export.h"
#include "promex/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PMX_DB_EV_QUERY "db.query"
#define PMX_DB_EV_INIT "db.repo.init"
#define PMX_DB_EV_POOL "db.pool"

#define PMX_DB_SOURCE_UNAVAILABLE "source_unavailable"
#define PMX_DB_COMMAND_UNAVAILABLE "unavailable"

/* Longest command and source the classifier reports (longer table names are unavailable). */
#define PMX_DB_COMMAND_MAX 24
#define PMX_DB_SOURCE_MAX 64

/* The classifier's answer: NUL-terminated, never empty (the fallbacks above). */
typedef struct pmx_db_class {
  char command[PMX_DB_COMMAND_MAX];
  char source[PMX_DB_SOURCE_MAX];
} pmx_db_class_t;

/* Classifies the first statement of `sql` (len bytes, need not be NUL-terminated; NULL is
 * treated as empty): its command and main table.
 *   command: the leading keyword in lower case (START TRANSACTION -> begin, END -> commit,
 *            WITH ... -> the command of the statement after the CTEs); "unavailable" for
 *            anything not a known SQL verb.
 *   source:  SELECT: the first table after the top-level FROM; INSERT/REPLACE: INTO table;
 *            UPDATE: the table; DELETE: FROM table; CREATE/DROP/ALTER/TRUNCATE TABLE name;
 *            COPY name. A schema qualification is dropped ("public.users" -> users), as Ecto's
 *            source excludes the prefix; quoted identifiers ("x", `x`, [x]) are unquoted. A name
 *            that is not 1-63 printable ASCII characters, a subquery, or any other statement
 *            gives "source_unavailable".
 * Comments (-- to end of line, and block comments), string literals ('...', E'...',
 * $tag$...$tag$) and quoted
 * identifiers are skipped, so a keyword inside them is never taken. Reads at most the first
 * 64 KiB. Never fails, never allocates, never reads past len. */
PMX_EXTERN void pmx_db_classify(const char *sql, size_t len, pmx_db_class_t *out);

/* ---- Repos -------------------------------------------------------------------------------- */

typedef struct pmx_db_repo pmx_db_repo_t;

/* What db.repo.init reports. Strings are copied; NULL, or a value that is not 1-128 printable
 * ASCII bytes (a file name with other characters), is reported as "unknown"; numbers may be 0
 * (pool_size 0 is reported as 1: a single connection; timeout 0: none). */
typedef struct pmx_db_repo_info {
  const char *database_name;
  const char *database_host;
  uint32_t pool_size;
  double timeout_s;
} pmx_db_repo_info_t;

/* Creates a repo handle named `name` (1-128 bytes of printable ASCII; it becomes the `repo`
 * label) emitting on `bus` (borrowed: it must outlive the handle; pmx_bus(p)), and emits
 * db.repo.init. `info` may be NULL. *out is owned by the caller (pmx_db_repo_free). Returns
 * PMX_OK, PMX_EINVAL (NULL argument or bad name; *out NULL) or PMX_ENOMEM. */
PMX_EXTERN int pmx_db_repo_new(pmx_bus_t *bus, const char *name, const pmx_db_repo_info_t *info,
                               pmx_db_repo_t **out);

/* Frees the handle (NULL is a no-op). Its metrics stay (gauges keep their last value). */
PMX_EXTERN void pmx_db_repo_free(pmx_db_repo_t *repo);

/* The repo's name (owned by the handle). */
PMX_EXTERN const char *pmx_db_repo_name(const pmx_db_repo_t *repo);

/* Emits db.repo.init again (e.g. after pmx_start() when the repo was created before it; the
 * plugin's manual group also does this for every live repo). Returns PMX_OK or PMX_EINVAL. */
PMX_EXTERN int pmx_db_repo_announce(const pmx_db_repo_t *repo);

/* One executed statement, for pmx_db_repo_query(). Times in nanoseconds; a negative time or
 * row count means absent. Zero-initialise with PMX_DB_QUERY_INIT. */
typedef struct pmx_db_query {
  const char *sql;          /* classified when command/source are NULL; never emitted */
  size_t sql_len;           /* bytes of sql; 0 means strlen(sql) */
  const char *command;      /* optional override (e.g. from PostgreSQL's command tag) */
  const char *source;       /* optional override */
  int64_t queue_ns, query_ns, decode_ns, idle_ns, total_ns;
  int64_t rows;
  bool error;
  const char *error_class;  /* with error: SQLSTATE / result code name; NULL -> "unknown" */
} pmx_db_query_t;

#define PMX_DB_QUERY_INIT \
  {NULL, 0, NULL, NULL, -1, -1, -1, -1, -1, -1, false, NULL}

/* Emits one db.query event for `q`: classifies q->sql unless both overrides are given, and sets
 * total_time to the sum of the present times when q->total_ns is absent. Lock-free and
 * allocation-free (pmx_emit). Returns PMX_OK or PMX_EINVAL. */
PMX_EXTERN int pmx_db_repo_query(const pmx_db_repo_t *repo, const pmx_db_query_t *q);

/* Emits db.pool: `in_use` connections checked out of `size`. Returns PMX_OK or PMX_EINVAL. */
PMX_EXTERN int pmx_db_repo_pool(const pmx_db_repo_t *repo, uint32_t in_use, uint32_t size);

/* Helper for wrappers: copies the first word of a command tag (PostgreSQL's PQcmdStatus
 * "INSERT 0 1" -> "insert") into out (cap >= 2) if it is a known SQL verb; returns false (out
 * untouched) otherwise. */
PMX_EXTERN bool pmx_db_command_from_tag(const char *tag, char *out, size_t cap);

/* The plugin table. Name "db". */
PMX_EXTERN extern const pmx_plugin_t pmx_plugin_db;

#ifdef __cplusplus
}
#endif
#endif
