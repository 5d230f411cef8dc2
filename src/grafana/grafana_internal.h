/* Private to src/grafana: the pieces shared by the client, the publisher and the background
 * lifecycle job. The dashboard source and the event sink are reached through small tables so
 * that the engine can be tested without the dashboard renderer or the event bus (the defaults,
 * wired to pmx_dashboard_* and pmx_emit_name, live in source_default.c). */
#ifndef PMX_GRAFANA_INTERNAL_H
#define PMX_GRAFANA_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "grafana/lifecycle.h"
#include "promex/config.h"
#include "promex/event.h"
#include "promex/grafana.h"

/* Frees a json_dumps result (jansson's allocator, not the hook). NULL is a no-op. */
void pmx__grafana_json_text_free(char *text);

/* Makes every later request of `g` abort (PMX_ESTOPPED) soon after *cancel becomes true; the
 * flag is polled by curl's progress callback. NULL detaches. `cancel` is borrowed. */
void pmx__grafana_set_cancel(pmx_grafana_t *g, const atomic_bool *cancel);

/* Where dashboards come from. */
typedef struct pmx__gf_source {
  /* Number of dashboards `cfg` uploads. */
  size_t (*count)(void *ctx, const pmx_config_t *cfg);
  /* Renders dashboard `i`: *name (its configured name) and *json (the rendered model) are owned
   * by the caller (pmx__free) on PMX_OK; on error *name may still be set (for messages), and err
   * says why. */
  int (*render)(void *ctx, const pmx_config_t *cfg, size_t i, char **name, char **json,
                pmx_error_t *err);
  void *ctx;
} pmx__gf_source_t;

/* Everything the lifecycle engine needs besides the config. */
typedef struct pmx__gf_hooks {
  pmx__gf_source_t source;
  /* Emits `event` on `bus` with measurement count=1 and the given metadata. */
  void (*emit)(void *ctx, pmx_bus_t *bus, const char *event, const pmx_meta_t *md, size_t n);
  void *emit_ctx;
  unsigned backoff_base_ms;  /* first retry delay; doubles per attempt */
  unsigned backoff_cap_ms;   /* largest delay */
  unsigned max_attempts;     /* attempts per item, >= 1 */
} pmx__gf_hooks_t;

/* The default hooks: pmx_dashboard_* renderer, pmx_emit_name, 1 s doubling to 30 s, 6 attempts.
 * `first_party` (NULL-terminated, borrowed; NULL: none) says which configured plugins are
 * first-party, i.e. have a built-in dashboard uploaded when the configuration lists none. */
void pmx__grafana_default_hooks(pmx__gf_hooks_t *hooks, const pmx_plugin_t *const *first_party);

/* pmx__grafana_start() with explicit hooks (copied). */
int pmx__grafana_start_with(const pmx_config_t *cfg, pmx_bus_t *bus, const pmx__gf_hooks_t *hooks,
                            pmx__grafana_job_t **out);

/* Uploads one rendered dashboard `json` (borrowed) named `name` into `folder_uid` ("" or NULL:
 * General) with overwrite. Gives it the uid "<app>-<name>" (sanitized, <= 40 chars) when it has
 * none. On PMX_OK and url != NULL, *url is the dashboard's URL (caller frees; may be NULL). */
int pmx__grafana_upload_rendered(pmx_grafana_t *g, const pmx_config_t *cfg, const char *name,
                                 const char *json, const char *folder_uid, char **url,
                                 pmx_grafana_result_t *res);

/* pmx_grafana_publish() with an explicit dashboard source. */
int pmx__grafana_publish_with(const pmx_config_t *cfg, unsigned timeout_ms,
                              const pmx__gf_source_t *src, pmx_grafana_publish_cb cb, void *ctx,
                              pmx_error_t *err);

/* The lifecycle annotation text for `kind` ("start" | "stop"): hostname, app, version and, when
 * the environment has them, GIT_SHA and GIT_AUTHOR. Caller frees; NULL on ENOMEM. */
char *pmx__grafana_annotation_text(const pmx_config_t *cfg, const char *kind);

/* Writes "<app>-<name without .json>" sanitized to a Grafana uid (<= 40 chars) into out. */
void pmx__grafana_dashboard_uid(const char *app, const char *name, char *out, size_t cap);

/* Whether a failed call is worth retrying: timeouts, I/O errors, HTTP 408/429/5xx. */
bool pmx__grafana_retryable(int status, long http_status);

#endif
