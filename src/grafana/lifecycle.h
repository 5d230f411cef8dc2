/* Private contract between the runtime (src/runtime) and the Grafana area (src/grafana): the
 * background dashboard upload (PromEx.DashboardUploader) and lifecycle annotations
 * (PromEx.LifecycleAnnotator). */
#ifndef PMX_GRAFANA_LIFECYCLE_H
#define PMX_GRAFANA_LIFECYCLE_H

#include "promex/config.h"
#include "promex/event.h"
#include "promex/plugin.h"

typedef struct pmx__grafana_job pmx__grafana_job_t;

/* Event emitted on the runtime's bus after each dashboard upload attempt: measurement
 * "count" = 1, metadata "dashboard" (name), "result" ("ok" | "error"). And after each
 * annotation attempt "promex.grafana.annotation" with "kind" ("start" | "stop") and "result". */
#define PMX__GRAFANA_UPLOAD_EVENT "promex.grafana.upload"
#define PMX__GRAFANA_ANNOTATION_EVENT "promex.grafana.annotation"

/* Called by pmx_start() when cfg->grafana.enabled. Starts a background thread that, when
 * cfg->grafana.upload_dashboards_on_start, renders and uploads every dashboard of the
 * configuration (cfg->dashboards, or when none are listed the built-in dashboard of each
 * configured plugin found in `first_party`, a NULL-terminated table borrowed until
 * pmx__grafana_stop(), plus prom_ex's) into the folder (created/updated with a uid derived stably from
 * the app name), with retries and exponential backoff; and when annotate_app_lifecycle posts the
 * start annotation. Never blocks the caller on the network. `cfg` and `bus` are borrowed until
 * pmx__grafana_stop(). Returns PMX_OK or PMX_ENOMEM / PMX_ESYS (thread). */
int pmx__grafana_start(const pmx_config_t *cfg, pmx_bus_t *bus,
                       const pmx_plugin_t *const *first_party, pmx__grafana_job_t **out);

/* Called by pmx_stop(): cancels pending retries, posts the stop annotation when configured
 * (bounded by the Grafana timeout), joins the thread and frees the job. NULL is a no-op. */
void pmx__grafana_stop(pmx__grafana_job_t *job);

#endif
