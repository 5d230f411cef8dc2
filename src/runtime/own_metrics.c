/* promex's own metrics (the counterpart of PromEx.Plugins.PromEx), defined by the runtime through
 * the public metric API with prefix "<app>_prom_ex_prom_ex":
 *   status_info{app,version}                 gauge = 1 (dashboards' job/instance variables)
 *   scrape_duration_seconds                  histogram of each render (server or get_metrics)
 *   poll_errors_total{group}                 measurement callbacks that returned an error
 *   poll_overruns_total{group}               polling callbacks that took longer than their period
 *   poll_timeouts_total{group}               runs on the poller still going after their timeout
 *   poll_skips_total{group}                  polling runs skipped: the previous one still ran
 *   poll_duration_seconds{group}             histogram of each measurement callback's time
 *   grafana_uploads_total{dashboard,result}  fed by PMX__GRAFANA_UPLOAD_EVENT
 *   grafana_annotations_total{kind,result}   fed by PMX__GRAFANA_ANNOTATION_EVENT
 *   remote_write_samples_sent_total{url}     remote_write writers' counters, kept up to date
 *   remote_write_samples_dropped_total{url,reason}     by the writers themselves (push_glue.c)
 *   remote_write_requests_failed_total{url}
 *   remote_write_queue_samples{url}
 *   remote_write_last_success_timestamp_seconds{url}
 *   push_requests_total{method,result}       pmx_push() calls on the instance
 * The registry adds metric_series, series_dropped_total and events_skipped_total itself.
 * Metrics fed directly still need an event name in their definition; they use "promex.runtime.*"
 * names that nothing emits and are never attached. */
#include <stdio.h>
#include <string.h>

#include "grafana/lifecycle.h"
#include "internal.h"
#include "runtime/runtime_internal.h"

/* Renders take from well under a millisecond (small registries) to a second (huge ones). */
const double pmx__rt_scrape_buckets[PMX__RT_N_SCRAPE_BUCKETS] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1};

/* Measurement callbacks: from microseconds (a /proc read) to seconds (a slow database). */
const double pmx__rt_poll_buckets[PMX__RT_N_POLL_BUCKETS] = {0.0001, 0.0005, 0.001, 0.005, 0.01,
                                                            0.05,   0.1,    0.5,   1,     5};

int pmx__rt_own_define(pmx_registry_t *reg, pmx_bus_t *bus, const pmx_config_t *cfg,
                       pmx__own_metrics_t *own, pmx_error_t *err) {
  memset(own, 0, sizeof *own);
  char prefix[256];
  snprintf(prefix, sizeof prefix, "%s_prom_ex_prom_ex", cfg->app);
  static const char *const status_tags[] = {"app", "version"};
  static const char *const group_tags[] = {"group"};
  static const char *const upload_tags[] = {"dashboard", "result"};
  static const char *const annot_tags[] = {"kind", "result"};
  static const char *const url_tags[] = {"url"};
  static const char *const dropped_tags[] = {"url", "reason"};
  static const char *const push_tags[] = {"method", "result"};
  const pmx_metric_def_t defs[] = {
      {.kind = PMX_LAST_VALUE, .prefix = prefix, .name = "status_info",
       .event_name = "promex.runtime.status", .measurement = "value", .tags = status_tags,
       .n_tags = 2, .description = "Always 1 while promex runs; labels name the application."},
      {.kind = PMX_DISTRIBUTION, .prefix = prefix, .name = "scrape_duration_seconds",
       .event_name = "promex.runtime.scrape", .measurement = "duration",
       .buckets = pmx__rt_scrape_buckets, .n_buckets = PMX__RT_N_SCRAPE_BUCKETS,
       .description = "Time taken to render the metrics exposition."},
      {.kind = PMX_COUNTER, .prefix = prefix, .name = "poll_errors_total",
       .event_name = "promex.runtime.poll_error", .measurement = "count", .tags = group_tags,
       .n_tags = 1, .description = "Polling or manual measurement callbacks that failed."},
      {.kind = PMX_COUNTER, .prefix = prefix, .name = "poll_overruns_total",
       .event_name = "promex.runtime.poll_overrun", .measurement = "count", .tags = group_tags,
       .n_tags = 1, .description = "Polling callbacks that took longer than their poll rate."},
      {.kind = PMX_COUNTER, .prefix = prefix, .name = "poll_timeouts_total",
       .event_name = "promex.runtime.poll_timeout", .measurement = "count", .tags = group_tags,
       .n_tags = 1, .description = "Polling (or delayed manual) runs still going after their "
                                   "timeout."},
      {.kind = PMX_COUNTER, .prefix = prefix, .name = "poll_skips_total",
       .event_name = "promex.runtime.poll_skip", .measurement = "count", .tags = group_tags,
       .n_tags = 1,
       .description = "Scheduled polling runs skipped because the previous run still went on."},
      {.kind = PMX_DISTRIBUTION, .prefix = prefix, .name = "poll_duration_seconds",
       .event_name = "promex.runtime.poll", .measurement = "duration", .tags = group_tags,
       .n_tags = 1, .buckets = pmx__rt_poll_buckets, .n_buckets = PMX__RT_N_POLL_BUCKETS,
       .description = "Time taken by each polling or manual measurement callback."},
      {.kind = PMX_COUNTER, .prefix = prefix, .name = "grafana_uploads_total",
       .event_name = PMX__GRAFANA_UPLOAD_EVENT, .measurement = "count", .tags = upload_tags,
       .n_tags = 2, .description = "Grafana dashboard upload attempts by dashboard and result."},
      {.kind = PMX_COUNTER, .prefix = prefix, .name = "grafana_annotations_total",
       .event_name = PMX__GRAFANA_ANNOTATION_EVENT, .measurement = "count", .tags = annot_tags,
       .n_tags = 2, .description = "Grafana lifecycle annotation attempts by kind and result."},
      {.kind = PMX_COUNTER, .prefix = prefix, .name = "remote_write_samples_sent_total",
       .event_name = "promex.runtime.remote_write", .tags = url_tags, .n_tags = 1,
       .description = "Samples remote_write sent and the receiver accepted (2xx)."},
      {.kind = PMX_COUNTER, .prefix = prefix, .name = "remote_write_samples_dropped_total",
       .event_name = "promex.runtime.remote_write", .tags = dropped_tags, .n_tags = 2,
       .description = "Samples remote_write dropped: queue_full (oldest dropped while the "
                      "receiver was unreachable), rejected (4xx answer), stopped (still queued "
                      "at stop)."},
      {.kind = PMX_COUNTER, .prefix = prefix, .name = "remote_write_requests_failed_total",
       .event_name = "promex.runtime.remote_write", .tags = url_tags, .n_tags = 1,
       .description = "remote_write requests that failed with a network error, 5xx or 429 "
                      "(each retried with backoff)."},
      {.kind = PMX_LAST_VALUE, .prefix = prefix, .name = "remote_write_queue_samples",
       .event_name = "promex.runtime.remote_write", .measurement = "value", .tags = url_tags,
       .n_tags = 1, .description = "Samples waiting in the remote_write queue."},
      {.kind = PMX_LAST_VALUE, .prefix = prefix,
       .name = "remote_write_last_success_timestamp_seconds",
       .event_name = "promex.runtime.remote_write", .measurement = "value", .tags = url_tags,
       .n_tags = 1,
       .description = "Unix time of the last remote_write request the receiver accepted."},
      {.kind = PMX_COUNTER, .prefix = prefix, .name = "push_requests_total",
       .event_name = "promex.runtime.push", .tags = push_tags, .n_tags = 2,
       .description = "Pushgateway pushes (pmx_push, [push] at stop) by method and result "
                      "(ok/error)."},
  };
  pmx_metric_t **slots[] = {&own->status_info,     &own->scrape_duration, &own->poll_errors,
                            &own->poll_overruns,   &own->poll_timeouts,   &own->poll_skips,
                            &own->poll_duration,   &own->grafana_uploads, &own->grafana_annotations,
                            &own->rw_sent,         &own->rw_dropped,      &own->rw_failed,
                            &own->rw_queue,        &own->rw_last_success, &own->push_requests};
  for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++) {
    int rc = pmx_metric_define(reg, &defs[i], slots[i], err);
    if (rc != PMX_OK) return rc;
  }
  int rc = pmx_metric_attach(own->grafana_uploads, bus, err);
  if (rc == PMX_OK) rc = pmx_metric_attach(own->grafana_annotations, bus, err);
  if (rc != PMX_OK) return rc;

  const char *status_values[] = {cfg->app, cfg->app_version != NULL ? cfg->app_version : "unknown"};
  pmx_series_t *s = NULL;
  rc = pmx_metric_labels(own->status_info, status_values, 2, &s);
  if (rc == PMX_OK) rc = pmx_series_set(s, 1);
  if (rc == PMX_OK) rc = pmx_metric_labels(own->scrape_duration, NULL, 0, &own->scrape_series);
  if (rc != PMX_OK) return pmx__fail(err, rc, "status_info", "cannot create own series: %s",
                                     pmx_strerror(rc));
  return PMX_OK;
}
