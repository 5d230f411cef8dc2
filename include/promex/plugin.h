/* Plugins and metric groups (PromEx.Plugin, PromEx.MetricTypes.Event/Polling/Manual).
 *
 * A plugin is a const table with a name and three optional callbacks. Each callback receives the
 * plugin's context (app name, resolved metric prefix and poll rate, key/value options) and adds
 * zero or more groups to `out`:
 *   event groups    metrics fed by events that instrumented code emits;
 *   polling groups  a measurement callback run every poll_rate ms on the promex thread, which
 *                   emits events that the group's metrics listen to;
 *   manual groups   a measurement callback run once at start (after manual_metrics_start_delay)
 *                   and again on pmx_refresh_manual_metrics().
 * Group names are unique across a program; a duplicate is an error naming both plugins.
 *
 * Writing a plugin (see examples/demo_plugin.c and docs/runtime.md):
 *
 *   static int my_events(const pmx_plugin_ctx_t *ctx, pmx_groups_t *out) {
 *     static const char *const tags[] = {"route"};
 *     static const double buckets[] = {0.005, 0.05, 0.5, 5};
 *     const pmx_metric_def_t m[] = {{.kind = PMX_DISTRIBUTION, .name = "job.duration.seconds",
 *         .event_name = "my_app.job.stop", .measurement = "duration", .tags = tags, .n_tags = 1,
 *         .unit_from = PMX_UNIT_NATIVE, .unit_to = PMX_UNIT_SECOND,
 *         .buckets = buckets, .n_buckets = 4, .description = "Job time."}};
 *     return pmx_groups_add_event(out, "my_app_job_event_metrics", m, 1);
 *   }
 *   const pmx_plugin_t my_plugin = {PMX_PLUGIN_ABI, "my_app", my_events, NULL, NULL, {0}};
 *
 * Metric definitions with a NULL `prefix` get the plugin's metric prefix (option metric_prefix,
 * default "<app>_prom_ex_<plugin>"); set prefix to "" for none. Definitions are copied when added.
 *
 * Threading: plugin callbacks run inside pmx_start(); measurement callbacks run on the promex
 * background thread (polling, manual) or the thread calling pmx_refresh_manual_metrics(). */
#ifndef PROMEX_PLUGIN_H
#define PROMEX_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include "promex/error.h"
#include "promex/event.h"
#include "promex/export.h"
#include "promex/metric.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PMX_PLUGIN_ABI 1u
#define PMX_DEFAULT_POLL_RATE_MS 5000u

/* A key/value pair (plugin options, dashboard assigns). Borrowed unless a function says. */
typedef struct pmx_kv {
  const char *key;
  const char *value;
} pmx_kv_t;

typedef struct pmx_groups pmx_groups_t;

/* What a plugin callback sees. Everything is borrowed for the duration of the callback. */
typedef struct pmx_plugin_ctx {
  const char *app;            /* the application name */
  const char *plugin_name;
  const char *metric_prefix;  /* option metric_prefix, or "<app>_prom_ex_<plugin>" */
  uint32_t poll_rate_ms;      /* option poll_rate, or PMX_DEFAULT_POLL_RATE_MS */
  const pmx_kv_t *opts;       /* every option given for this plugin, in order */
  size_t n_opts;
  void *user_data;            /* from pmx_plugin_use_t: callbacks, handles, ... */
  pmx_bus_t *bus;             /* the bus event groups listen on */
  pmx_error_t *err;           /* fill (pmx_plugin_fail) when returning an error */
  const char *app_version;    /* pmx_config_t.app_version, or NULL */
} pmx_plugin_ctx_t;

/* A group's measurement callback: emits events on `bus`. Returns PMX_OK or a PMX_E* code; a
 * failure is logged once (until the callback succeeds again) and counted; other groups go on. */
typedef int (*pmx_measure_cb)(pmx_bus_t *bus, void *ctx);

typedef int (*pmx_plugin_cb)(const pmx_plugin_ctx_t *ctx, pmx_groups_t *out);

typedef struct pmx_plugin {
  uint32_t abi_version;       /* PMX_PLUGIN_ABI; anything else is refused with PMX_EABI */
  const char *name;           /* [a-z0-9_]+: default prefix and dashboard basename */
  pmx_plugin_cb event_metrics;    /* optional */
  pmx_plugin_cb polling_metrics;  /* optional */
  pmx_plugin_cb manual_metrics;   /* optional */
  void *reserved[4];          /* must be NULL */
} pmx_plugin_t;

/* Adds an event group. `metrics` (n >= 1) is copied. Returns PMX_OK, PMX_EINVAL (bad name or
 * metric definition; ctx->err filled), PMX_EEXIST (group name already used), PMX_ENOMEM. Metric
 * definitions are fully validated later, at start. */
PMX_EXTERN int pmx_groups_add_event(pmx_groups_t *out, const char *group_name,
                                    const pmx_metric_def_t *metrics, size_t n);

/* Adds a polling group: `measure(bus, ctx)` runs every `poll_rate_ms` (0: the plugin's poll_rate).
 * `ctx` is borrowed; if `ctx_free` is not NULL it is called with ctx exactly once: when the
 * runtime stops, when start fails after this call, when this call itself fails, or after
 * pmx_describe_metrics(). The first poll runs right after start, then every period; a dropped
 * group never runs. Returns as pmx_groups_add_event. */
PMX_EXTERN int pmx_groups_add_polling(pmx_groups_t *out, const char *group_name,
                                      uint32_t poll_rate_ms, pmx_measure_cb measure, void *ctx,
                                      void (*ctx_free)(void *), const pmx_metric_def_t *metrics,
                                      size_t n);

/* Adds a manual group: `measure` runs once at start (or after manual_metrics_start_delay, on the
 * promex thread) and on pmx_refresh_manual_metrics() (on the calling thread, so it may run
 * concurrently with the delayed first run). `ctx`/`ctx_free` as for polling groups. */
PMX_EXTERN int pmx_groups_add_manual(pmx_groups_t *out, const char *group_name,
                                     pmx_measure_cb measure, void *ctx, void (*ctx_free)(void *),
                                     const pmx_metric_def_t *metrics, size_t n);

/* Option lookup: the value of `key` (last one wins), or NULL. */
PMX_EXTERN const char *pmx_plugin_opt(const pmx_plugin_ctx_t *ctx, const char *key);

/* Fails when the plugin was given an option not in `allowed` (metric_prefix and poll_rate are
 * always allowed): returns PMX_ECONFIG with ctx->err naming the plugin and option. */
PMX_EXTERN int pmx_plugin_check_opts(const pmx_plugin_ctx_t *ctx, const char *const *allowed,
                                     size_t n_allowed);

/* Records a printf-style failure message in ctx->err and returns `code` (for `return
 * pmx_plugin_fail(ctx, PMX_ECONFIG, "...", ...)`). */
PMX_EXTERN int pmx_plugin_fail(const pmx_plugin_ctx_t *ctx, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#ifdef __cplusplus
}
#endif
#endif
