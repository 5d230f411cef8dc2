/* Grafana dashboards: templates rendered with assigns (PromEx.DashboardRenderer), and lint
 * (PromEx.GrafanaClient.DashboardChecker). See docs/dashboards.md for the template syntax, the
 * default assigns and the lint rules.
 *
 * Template syntax, in short: the template is JSON text in which `<%= name %>` (or EEx's
 * `<%= @name %>`) is replaced by the value of assign `name`, and `<%%` stands for a literal `<%`.
 * There is no code, only substitution. A tag inside a JSON string inserts the value JSON-escaped
 * (so any value is safe there); a tag outside a string accepts only a JSON number, true, false or
 * null. Any other `<%` form, an unterminated tag, an unknown assign or a missing required assign
 * is PMX_EPARSE with the template's name, line and column.
 *
 * The first-party dashboards (one per first-party plugin, plus prom_ex.json for promex's own
 * metrics) are compiled into the library and installed under <datadir>/promex/dashboards.
 *
 * Threading: every function here is reentrant; a pmx_dashboard_linter_t must not be used from two
 * threads at once. */
#ifndef PROMEX_DASHBOARD_H
#define PROMEX_DASHBOARD_H

#include <stddef.h>

#include "promex/config.h"
#include "promex/error.h"
#include "promex/export.h"
#include "promex/metric.h"
#include "promex/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest dashboard uid Grafana accepts. */
#define PMX_DASHBOARD_UID_MAX 40

/* Largest dashboard template file read, in bytes (8 MiB; the first-party ones are under 64 KiB). */
#define PMX_DASHBOARD_MAX_BYTES (8u << 20)

/* Loads a dashboard template: a first-party name ("process.json" or "process") from the copy
 * compiled into the library, or else a file path of at most PMX_DASHBOARD_MAX_BYTES. On PMX_OK
 * *text (NUL-terminated, *len bytes) is owned by the caller (pmx_free(), promex/alloc.h).
 * PMX_ENOENT / PMX_EIO with err naming what was looked for (PMX_EIO also for a file over the
 * limit), PMX_EINVAL (NULL argument), PMX_ENOMEM. */
PMX_EXTERN int pmx_dashboard_load(const char *name_or_path, char **text, size_t *len,
                                  pmx_error_t *err);

/* The names of the compiled-in first-party dashboards ("application.json", ...), in a static
 * NULL-terminated array; *n (optional) receives the count. Thread-safe. */
PMX_EXTERN const char *const *pmx_dashboard_builtins(size_t *n);

/* The compiled-in text of first-party dashboard `name` ("os.json" or "os"), borrowed (static
 * storage, NUL-terminated); *len (optional) receives its length. NULL if there is none. */
PMX_EXTERN const char *pmx_dashboard_builtin(const char *name, size_t *len);

/* Renders a template with `assigns` (later entries override earlier ones). `source` names the
 * template in messages. The result is checked to be valid JSON (jansson, duplicate keys
 * rejected). On PMX_OK *json (NUL-terminated) is owned by the caller (pmx_free(),
 * promex/alloc.h). Errors: PMX_EINVAL (NULL template or json, assign with a NULL or malformed
 * key or a NULL value), PMX_EPARSE (bad
 * template syntax, unknown or missing assign, value not allowed at its place, invalid JSON result;
 * err names source, line and column), PMX_ENOMEM. On error *json is NULL. */
PMX_EXTERN int pmx_dashboard_render(const char *template_text, size_t len, const char *source,
                                    const pmx_kv_t *assigns, size_t n_assigns, char **json,
                                    pmx_error_t *err);

/* Builds the assigns for dashboard `d` of configuration `cfg`, in override order: defaults
 * (app, datasource_id "prometheus", <plugin>_metric_prefix "<app>_prom_ex_<plugin>" for every
 * first-party dashboard's plugin and, honouring its metric_prefix option, every configured
 * plugin, prom_ex_metric_prefix, title "<App> - PromEx <Plugin> Dashboard", uid
 * "<app>-<dashboard>" sanitized to [a-z0-9-] and at most 40 characters, with a stable hash suffix
 * when it had to be shortened), then cfg->dashboard_assigns, then d->assigns. Each key appears
 * once (the last value wins). On PMX_OK *out (*n entries, keys and values owned) is owned by the
 * caller: free with pmx_dashboard_assigns_free(). Errors: PMX_EINVAL (NULL cfg, d, app or
 * d->name_or_path, or an assign without key or value; err filled), PMX_ENOMEM. */
PMX_EXTERN int pmx_dashboard_assigns(const pmx_config_t *cfg, const pmx_dashboard_use_t *d,
                                     pmx_kv_t **out, size_t *n, pmx_error_t *err);
/* Frees what pmx_dashboard_assigns() returned. NULL is a no-op. */
PMX_EXTERN void pmx_dashboard_assigns_free(pmx_kv_t *assigns, size_t n);

/* The three steps above in one: loads d->name_or_path, builds its assigns for `cfg` and renders
 * it; `source` names it in messages (NULL: d->name_or_path). On PMX_OK *json is owned by the
 * caller (pmx_free(), promex/alloc.h). Errors as pmx_dashboard_load (PMX_ENOENT, PMX_EIO),
 * pmx_dashboard_assigns and pmx_dashboard_render (PMX_EPARSE: the template itself is at fault).
 * Thread-safe. */
PMX_EXTERN int pmx_dashboard_render_for(const pmx_config_t *cfg, const pmx_dashboard_use_t *d,
                                        const char *source, char **json, pmx_error_t *err);

/* ---- Lint (DashboardChecker) ----
 *
 * Rule ids (pmx_dashboard_finding_t.rule), see docs/dashboards.md:
 *   invalid_json, missing_uid, duplicate_uid (across the dashboards linted with one linter),
 *   uid_too_long, panel_without_datasource, unknown_metric, quantile_not_bucket, unknown_le,
 *   undefined_variable, deprecated_panel_type.
 * The metric rules (unknown_metric, unknown_le) need the known metrics: add them with
 * pmx_dashboard_linter_add_metric(); a linter that knows no metric skips those two rules. */

typedef struct pmx_dashboard_linter pmx_dashboard_linter_t;

/* One finding. Every pointer is borrowed and valid only during the callback. */
typedef struct pmx_dashboard_finding {
  const char *file;        /* the `file` given to pmx_dashboard_lint() */
  const char *rule;        /* rule id, e.g. "unknown_metric" */
  int panel_id;            /* the panel's "id", or 0 (dashboard-level or no id) */
  const char *panel_title; /* the panel's title, or NULL for dashboard-level findings */
  const char *message;     /* complete sentence naming the offending item */
  int line;                /* invalid_json: 1-based line and column; else 0 */
  int column;
} pmx_dashboard_finding_t;

typedef void (*pmx_dashboard_finding_cb)(void *ctx, const pmx_dashboard_finding_t *finding);

/* Creates a linter with no known metrics. On PMX_OK *out is owned by the caller
 * (pmx_dashboard_linter_free). Returns PMX_OK, PMX_EINVAL (out NULL) or PMX_ENOMEM. */
PMX_EXTERN int pmx_dashboard_linter_new(pmx_dashboard_linter_t **out);

/* Frees a linter. NULL is a no-op. */
PMX_EXTERN void pmx_dashboard_linter_free(pmx_dashboard_linter_t *l);

/* Adds a known metric: its full name (prefix applied), kind and, for PMX_DISTRIBUTION, its finite
 * bucket bounds (copied). Series names recognised: the name itself; for counters and sums also
 * name_total; for distributions name_bucket, name_sum and
 * name_count. The signature is pmx_describe_cb's, with the linter as ctx, so that
 * `pmx_describe_metrics(cfg, pmx_dashboard_linter_add_metric, linter, &err)` feeds it directly.
 * `group` is ignored. An allocation failure is remembered and reported by the next
 * pmx_dashboard_lint() (PMX_ENOMEM). */
PMX_EXTERN void pmx_dashboard_linter_add_metric(void *linter, const char *group,
                                                const char *full_name, pmx_metric_kind_t kind,
                                                const double *buckets, size_t n_buckets);

/* Lints one rendered dashboard (`json`, `len` bytes; `file` names it in findings and may be
 * NULL). Calls `cb` (may be NULL: just count) once per finding. Returns the number of findings (>= 0),
 * or PMX_EINVAL (NULL linter or json) / PMX_ENOMEM (err filled; findings may be incomplete).
 * Invalid JSON is a finding (invalid_json), not an error. The dashboard's uid is remembered for
 * duplicate_uid. */
PMX_EXTERN int pmx_dashboard_lint(pmx_dashboard_linter_t *l, const char *json, size_t len,
                                  const char *file, pmx_dashboard_finding_cb cb, void *ctx,
                                  pmx_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
