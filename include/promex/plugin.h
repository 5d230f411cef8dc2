/* Plugins and metric groups (PromEx.Plugin, PromEx.MetricTypes.Event/Polling/Manual). This
 * header is all a plugin needs (with promex/event.h and promex/metric.h, which it includes);
 * examples/poll_plugin.c is a complete, runnable polling plugin, examples/demo_plugin.c has one
 * group of each kind, docs/runtime.md has the details.
 *
 * A plugin is a const table with a name and three optional callbacks. Each callback runs once
 * inside pmx_start() (and pmx_describe_metrics()), receives the plugin's context (app name,
 * resolved metric prefix and poll rate, key/value options, user_data) and adds zero or more
 * groups to `out`:
 *   event groups    metrics fed by events that instrumented code emits;
 *   polling groups  a measurement callback run every poll_rate ms on a promex poller thread,
 *                   which emits events that the group's metrics listen to;
 *   manual groups   a measurement callback run once at start (after manual_metrics_start_delay)
 *                   and again on pmx_refresh_manual_metrics().
 * Group names match [A-Za-z0-9_]{1,128} and are unique across a program; a duplicate is an error
 * naming both plugins.
 *
 * A polling plugin, complete (the measurement emits one event; the metric listens to it):
 *
 *   typedef struct { pmx_event_t *ev; } q_ctx_t;
 *   static int q_measure(pmx_bus_t *bus, void *ctx) {           // on a poller thread
 *     q_ctx_t *c = ctx;
 *     if (c->ev == NULL && pmx_bus_event(bus, "my_app.queue.poll", &c->ev) != PMX_OK)
 *       return PMX_ENOMEM;
 *     const pmx_measurement_t m[] = {PMX_M("depth", (double)queue_depth())};
 *     return pmx_emit(c->ev, m, 1, NULL, 0) < 0 ? PMX_EINVAL : PMX_OK;
 *   }
 *   static int q_polling(const pmx_plugin_ctx_t *ctx, pmx_groups_t *out) {  // in pmx_start
 *     q_ctx_t *c = calloc(1, sizeof *c);
 *     if (c == NULL) return PMX_ENOMEM;
 *     const pmx_metric_def_t m[] = {{.kind = PMX_LAST_VALUE, .name = "queue.depth",
 *         .event_name = "my_app.queue.poll", .measurement = "depth",
 *         .description = "Jobs waiting."}};
 *     return pmx_groups_add_polling(out, "my_app_queue_polling_metrics", 0, q_measure, c, free,
 *                                   m, 1);    // -> <app>_prom_ex_my_app_queue_depth
 *   }
 *   const pmx_plugin_t my_plugin = {PMX_PLUGIN_ABI, "my_app", NULL, q_polling, NULL, {0}};
 *
 *   // enable it:  pmx_plugin_use_t use = {.plugin = &my_plugin};
 *   //             cfg.plugins = &use; cfg.n_plugins = 1;   (then pmx_new, pmx_start)
 *
 * An event group is the same without the callback: pmx_groups_add_event(out, "my_app_job_events",
 * m, n) with definitions whose event_name is what your code emits (distributions take buckets,
 * unit_from/unit_to convert, tags name metadata keys).
 *
 * Metric definitions with a NULL `prefix` get the plugin's metric prefix (option metric_prefix,
 * default "<app>_prom_ex_<plugin>"); set prefix to "" for none. Dots in names become '_'.
 * Definitions are copied when added, so they may live on the stack.
 *
 * Options every plugin accepts (handled by the runtime): metric_prefix; poll_rate (ms, default
 * PMX_DEFAULT_POLL_RATE_MS), seen as ctx->poll_rate_ms; poll_timeout (ms, default each group's
 * poll rate). Read your own with pmx_plugin_opt() and refuse unknown ones with
 * pmx_plugin_check_opts().
 *
 * Scheduling: each polling group has its own schedule (first run right after start, then every
 * poll rate) and runs on a small pool of poller threads, so groups may run concurrently with each
 * other but one group's runs never overlap: a run still going when the next is due makes that
 * one skipped (counted in <app>_prom_ex_prom_ex_poll_skips_total{group}); a run past its timeout
 * is counted in poll_timeouts_total and occupies only its own thread. A callback still running
 * at pmx_stop() is abandoned after a short grace: its thread calls ctx_free when it returns.
 *
 * Threading: plugin callbacks run inside pmx_start(); measurement callbacks run on a poller
 * thread (polling, delayed manual) or the thread calling pmx_refresh_manual_metrics(). One
 * polling group's runs may land on different poller threads but never overlap and are ordered
 * (each happens before the next), so state kept in its ctx needs no lock; a manual group's ctx
 * does when pmx_refresh_manual_metrics() may race its delayed first run. Keep callbacks quick;
 * resolve event handles once (pmx_bus_event) and keep them in ctx. */
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
 * runtime stops (for a callback abandoned at stop: by its thread, when it returns), when start
 * fails after this call, when this call itself fails, or after pmx_describe_metrics(). The first
 * poll runs right after start, then every period; a dropped group never runs. Returns as
 * pmx_groups_add_event. */
PMX_EXTERN int pmx_groups_add_polling(pmx_groups_t *out, const char *group_name,
                                      uint32_t poll_rate_ms, pmx_measure_cb measure, void *ctx,
                                      void (*ctx_free)(void *), const pmx_metric_def_t *metrics,
                                      size_t n);

/* Adds a manual group: `measure` runs once at start (or after manual_metrics_start_delay, on a
 * poller thread) and on pmx_refresh_manual_metrics() (on the calling thread, so it may run
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

/* ---- Things that vanish: retiring their series ----------------------------------------------
 * A polling plugin that reports per-thing series (mounts, interfaces, queues, connections) must
 * say when a thing is gone, or its series stay in the exposition frozen at their last value.
 * The measurement callback cannot reach its metrics, so it retires through its event:
 * pmx_retire(bus, ev, {key="value"}) (promex/metric.h) removes, in every metric attached to the
 * event, the series carrying that label value. If the thing comes back, it starts fresh series.
 *
 * A seen set tells which things vanished: mark each thing a poll reports, then sweep at the end
 * of the poll; the sweep calls `gone` for every key marked by an earlier poll but not by this
 * one, and forgets it:
 *
 *   for each mount m:  pmx_emit(ev, ..., md with mountpoint=m, ...);  pmx_seen_mark(c->seen, m);
 *   pmx_seen_sweep(c->seen, mount_gone, &(gone_ctx){bus, ev});
 *   static void mount_gone(const char *m, void *arg) {      // retire its series
 *     pmx_meta_t md[] = {PMX_META_S("mountpoint", m)};
 *     pmx_retire(((gone_ctx *)arg)->bus, ((gone_ctx *)arg)->ev, md, 1);
 *   }
 *
 * Sweep only after a complete poll (a poll that failed half-way would retire what it did not
 * reach). If a mark fails (PMX_ENOMEM), the next sweep retires nothing, since the key it could
 * not record may still exist. A key is any non-NULL string, copied. Cost: a poll that lists the
 * same things in the same order as the last costs one string comparison per mark; memory is
 * O(things seen by the last poll). Not thread-safe: one set per polling group (whose runs never
 * overlap); a manual group's runs may, so guard its set with a mutex. */
typedef struct pmx_seen pmx_seen_t;

/* Creates an empty set (*out owned by the caller, pmx_seen_free). PMX_OK, PMX_EINVAL, PMX_ENOMEM. */
PMX_EXTERN int pmx_seen_new(pmx_seen_t **out);
/* Frees the set and its keys. NULL is a no-op. */
PMX_EXTERN void pmx_seen_free(pmx_seen_t *s);
/* Marks `key` as present in the current poll. PMX_OK, PMX_EINVAL (NULL argument), PMX_ENOMEM. */
PMX_EXTERN int pmx_seen_mark(pmx_seen_t *s, const char *key);
/* Ends the current poll: calls gone(key, arg) (if gone is not NULL) for each key gone since the
 * previous poll, then forgets those keys. Returns the number of keys gone, or PMX_EINVAL. */
PMX_EXTERN int pmx_seen_sweep(pmx_seen_t *s, void (*gone)(const char *key, void *arg), void *arg);

#ifdef __cplusplus
}
#endif
#endif
