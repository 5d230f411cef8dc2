/* The demo plugin (see demo_plugin.h): a custom promex plugin with one group of each kind, in
 * base units so `promtool check metrics` is clean (seconds, counters ending in _total). */
#include "demo_plugin.h"

#include <stddef.h>

/* Event metrics: fed by the span events that workers emit; nothing runs on the poller. */
static int demo_event_metrics(const pmx_plugin_ctx_t *ctx, pmx_groups_t *out) {
  static const char *const stop_tags[] = {"queue", "result"};
  static const char *const exc_tags[] = {"queue", "kind"};
  double buckets[10];
  /* 1 ms .. ~0.5 s, doubling: the demo's jobs take 1-50 ms. */
  int rc = pmx_buckets_exponential(0.001, 2, 10, buckets);
  if (rc != PMX_OK) return pmx_plugin_fail(ctx, rc, "cannot build buckets");
  const pmx_metric_def_t metrics[] = {
      {.kind = PMX_DISTRIBUTION, .name = "job.duration.seconds", .event_name = "demo.job.stop",
       .measurement = "duration", .unit_from = PMX_UNIT_NATIVE, .unit_to = PMX_UNIT_SECOND,
       .tags = stop_tags, .n_tags = 2, .buckets = buckets, .n_buckets = 10,
       .description = "Time taken by demo jobs.",
       .exemplar_key = "trace_id", /* each job's trace id links its bucket to the trace */
       /* Also a native histogram (schema 3: buckets ~9% wide), for Prometheus scraping protobuf
        * with --enable-feature=native-histograms; the classic buckets stay for everyone else. */
       .native = true, .native_schema = 3},
      {.kind = PMX_COUNTER, .name = "jobs.total", .event_name = "demo.job.stop",
       .measurement = "duration", .tags = stop_tags, .n_tags = 2,
       .description = "Demo jobs finished."},
      {.kind = PMX_COUNTER, .name = "job.exceptions.total", .event_name = "demo.job.exception",
       .measurement = "duration", .tags = exc_tags, .n_tags = 2,
       .description = "Demo jobs that failed."},
  };
  return pmx_groups_add_event(out, "demo_job_event_metrics", metrics,
                              sizeof metrics / sizeof metrics[0]);
}

/* Polling: reads the work queue's counters every poll_rate and emits one event. */
static int poll_queue(pmx_bus_t *bus, void *ctx) {
  demo_state_t *st = ctx;
  long started = atomic_load(&st->started);
  long delta = started - atomic_exchange(&st->polled_started, started);
  pmx_measurement_t m[] = {PMX_M("in_flight", atomic_load(&st->in_flight)),
                           PMX_M("started", delta)};
  return pmx_emit_name(bus, "demo.queue.poll", m, 2, NULL, 0) < 0 ? PMX_EINVAL : PMX_OK;
}

static int demo_polling_metrics(const pmx_plugin_ctx_t *ctx, pmx_groups_t *out) {
  if (ctx->user_data == NULL)
    return pmx_plugin_fail(ctx, PMX_ECONFIG, "plugin \"demo\" needs its demo_state_t as user_data");
  const pmx_metric_def_t metrics[] = {
      {.kind = PMX_LAST_VALUE, .name = "queue.jobs_in_flight", .event_name = "demo.queue.poll",
       .measurement = "in_flight", .description = "Demo jobs running at the last poll."},
      {.kind = PMX_SUM, .name = "queue.jobs_started_total", .event_name = "demo.queue.poll",
       .measurement = "started", .description = "Demo jobs started, summed at each poll."},
  };
  return pmx_groups_add_polling(out, "demo_queue_polling_metrics", 0, poll_queue, ctx->user_data,
                                NULL, metrics, 2);
}

/* Manual: the configuration, measured once at start and on pmx_refresh_manual_metrics(). */
static int measure_config(pmx_bus_t *bus, void *ctx) {
  demo_state_t *st = ctx;
  pmx_measurement_t m[] = {PMX_M("workers", st->workers)};
  return pmx_emit_name(bus, "demo.config", m, 1, NULL, 0) < 0 ? PMX_EINVAL : PMX_OK;
}

static int demo_manual_metrics(const pmx_plugin_ctx_t *ctx, pmx_groups_t *out) {
  if (ctx->user_data == NULL)
    return pmx_plugin_fail(ctx, PMX_ECONFIG, "plugin \"demo\" needs its demo_state_t as user_data");
  const pmx_metric_def_t metrics[] = {
      {.kind = PMX_LAST_VALUE, .name = "workers", .event_name = "demo.config",
       .measurement = "workers", .description = "Worker threads configured."},
  };
  return pmx_groups_add_manual(out, "demo_config_manual_metrics", measure_config, ctx->user_data,
                               NULL, metrics, 1);
}

const pmx_plugin_t demo_plugin = {PMX_PLUGIN_ABI, "demo", demo_event_metrics,
                                  demo_polling_metrics, demo_manual_metrics, {0}};
