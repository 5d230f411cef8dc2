/* The demo's own plugin, written the way PromEx's "Writing PromEx Plugins" guide describes: one
 * plugin table with an event group (job spans), a polling group (work queue state) and a manual
 * group (worker configuration). See examples/demo_plugin.c and docs/runtime.md.
 *
 * Event contract (emitted by the demo's workers with pmx_span_*):
 *   demo.job.start / demo.job.stop / demo.job.exception   span events, prefix "demo.job"
 *     stop metadata:      queue (string), result ("ok"), trace_id (32 hex digits: the
 *                         exemplar of the job's duration bucket)
 *     exception metadata: queue, kind, reason (added by pmx_span_exception)
 *
 * Metrics (prefix P = <app>_prom_ex_demo, or the metric_prefix option):
 *   P_job_duration_seconds{queue,result}    histogram of job time (span duration)
 *   P_jobs_total{queue,result}              counter of finished jobs
 *   P_job_exceptions_total{queue,kind}      counter of failed jobs
 *   P_queue_jobs_in_flight                  gauge, polled
 *   P_queue_jobs_started_total              counter (sum of started jobs), polled
 *   P_workers                               gauge, manual (configured worker threads) */
#ifndef PMX_DEMO_PLUGIN_H
#define PMX_DEMO_PLUGIN_H

#include <stdatomic.h>

#include "promex/promex.h"

/* Shared with the plugin through pmx_plugin_use_t.user_data. */
typedef struct demo_state {
  atomic_long in_flight;       /* jobs currently running */
  atomic_long started;         /* jobs started since the program began */
  atomic_long polled_started;  /* value of `started` at the previous poll */
  int workers;
} demo_state_t;

extern const pmx_plugin_t demo_plugin;

#endif
