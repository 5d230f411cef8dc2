/* The runtime: a promex instance (the `use PromEx` supervisor).
 *
 *   pmx_config_t cfg; pmx_config_defaults(&cfg);
 *   cfg.app = "my_app"; cfg.plugins = uses; cfg.n_plugins = n;
 *   cfg.metrics_server.enabled = true; cfg.metrics_server.port = 4021;
 *   pmx_t *p; pmx_new(&cfg, &p, &err);   // copies cfg; creates the event bus
 *   pmx_start(p, &err);                   // validates everything, then starts
 *   ... emit events on pmx_bus(p) ...
 *   pmx_stop(p); pmx_destroy(p);
 *
 * pmx_start() validates the whole configuration and every plugin's groups and metric definitions
 * before starting anything: an invalid configuration starts nothing and `err` says why. Then it
 * attaches event groups, runs manual groups (now, or after manual_metrics_start_delay on the
 * poller), starts the poller (one dispatcher thread and a small pool of workers: each polling
 * group on its own schedule, with a timeout, so a slow group delays no other; docs/runtime.md),
 * the metrics server and, when enabled, the Grafana job (one thread). pmx_stop() stops the
 * server, joins the poller (a measurement callback still running after a short grace is
 * abandoned: its thread frees the group's ctx when it returns), detaches every handler and frees
 * every metric. The bus (and event handles resolved on
 * it) lives from pmx_new() to pmx_destroy(), so instrumented code can keep its handles across
 * restarts; events emitted while stopped reach no metric.
 *
 * promex's own metrics (prefix "<app>_prom_ex_prom_ex"): status_info (1, labels app, version =
 * cfg.app_version or "unknown"; dashboards build their job and instance variables on it),
 * scrape_duration_seconds (histogram), metric_series{metric}, series_dropped_total{metric},
 * events_skipped_total{metric,reason}, poll_errors_total{group}, poll_overruns_total{group},
 * poll_timeouts_total{group}, poll_skips_total{group}, poll_duration_seconds{group} (histogram),
 * and the Grafana upload results.
 *
 * Threading: pmx_start/pmx_stop/pmx_destroy must not run concurrently with each other on the same
 * instance; everything else is safe from any thread. */
#ifndef PROMEX_RUNTIME_H
#define PROMEX_RUNTIME_H

#include "promex/config.h"
#include "promex/error.h"
#include "promex/event.h"
#include "promex/expo.h"
#include "promex/export.h"
#include "promex/metric.h"
#include "promex/shared.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pmx pmx_t;

/* Creates an instance from `cfg` (deep-copied: the caller may free its config afterwards; plugin
 * tables, user_data and log ctx are borrowed). Checks the config as pmx_config_validate() does.
 * On PMX_OK *out is owned by the caller (pmx_destroy). Errors: PMX_ECONFIG, PMX_EINVAL,
 * PMX_ENOMEM, with err filled. */
PMX_EXTERN int pmx_new(const pmx_config_t *cfg, pmx_t **out, pmx_error_t *err);

/* Starts the instance (see above). Returns PMX_OK (also when cfg.disabled: nothing is started and
 * pmx_get_metrics answers PMX_ESTOPPED), PMX_ESTATE (already running), PMX_ECONFIG / PMX_EABI /
 * PMX_ENAME / ... (nothing started; err says which plugin, group or metric), PMX_ESYS (server
 * could not bind), PMX_ENOMEM; PMX_ESTATE with err filled in a forked child of the process that
 * created the instance (see pmx_prepare_shared). */
PMX_EXTERN int pmx_start(pmx_t *p, pmx_error_t *err);

/* Multi-process mode (promex/shared.h, docs/multiprocess.md): builds the instance's registry in
 * a shared mapping (pmx_shared_enable with `opts`, which may be NULL), runs the plugins'
 * callbacks and defines and attaches every metric (the plugins' and promex's own), all without
 * starting a thread. Call it in the master before its first fork() and before it starts any
 * thread; then fork the workers, then pmx_start() in the master: pollers, the metrics server and
 * the push and Grafana jobs run there only. Each worker emits on its inherited copy of
 * pmx_bus(p) (the plugins' event emitters included), and those handlers update the shared
 * series the master's server renders. The registry lives until pmx_destroy() (pmx_stop() keeps
 * it, so a restart serves the same series); pmx_registry() returns it in every process.
 *
 * The master may fork replacement workers while the runtime runs: fork handlers make sure no
 * child inherits a promex lock held by a runtime thread (do not fork from inside an event
 * handler or a measurement callback), and each child joins the group's worker table (so the
 * process plugin counts it). In a forked child, pmx_start, pmx_stop and pmx_prepare_shared
 * return PMX_ESTATE, pmx_get_metrics and pmx_refresh_manual_metrics PMX_ESTOPPED, pmx_running()
 * false and pmx_destroy() frees nothing: the instance is the master's.
 * Errors: PMX_EINVAL (p NULL), PMX_ESTATE (in a forked child; already prepared; already started;
 * from pmx_shared_enable: the process runs threads already), PMX_EEXIST (another registry of the
 * process is shared), the configuration and plugin errors of pmx_start(), PMX_ENOMEM, PMX_ESYS;
 * on error nothing is left prepared. PMX_OK without doing anything when cfg.disabled. */
PMX_EXTERN int pmx_prepare_shared(pmx_t *p, const pmx_shared_opts_t *opts, pmx_error_t *err);

/* Stops everything started by pmx_start() (posting the stop annotation when configured). Returns
 * PMX_OK, PMX_ESTATE (not running, or called in a forked child: nothing is touched) or
 * PMX_EBUSY (called from inside an event handler of this instance's bus, which would wait for
 * itself; nothing is stopped). The instance can be started
 * again. */
PMX_EXTERN int pmx_stop(pmx_t *p);

/* Stops if running and frees the instance. NULL is a no-op. Must not be called from inside an
 * event handler of the instance's bus (it logs an error and frees nothing). When measurement
 * callbacks abandoned by pmx_stop() are still running, it returns at once and the instance (with
 * the bus those callbacks were given) is freed when the last of them returns. */
PMX_EXTERN void pmx_destroy(pmx_t *p);

/* The instance's event bus (owned by the instance; valid until pmx_destroy). */
PMX_EXTERN pmx_bus_t *pmx_bus(pmx_t *p);

/* The instance's registry while running, else NULL. Owned by the instance and freed by
 * pmx_stop(): do not use it after the instance stops. */
PMX_EXTERN pmx_registry_t *pmx_registry(pmx_t *p);

/* True between a successful pmx_start() (not disabled) and pmx_stop(). */
PMX_EXTERN bool pmx_running(const pmx_t *p);

/* Renders all metrics (PromEx.get_metrics): PMX_OK, or PMX_ESTOPPED when not running (the
 * :prom_ex_down analog; buf untouched), or as pmx_render(). */
PMX_EXTERN int pmx_get_metrics(pmx_t *p, pmx_format_t fmt, pmx_buf_t *buf);

/* Runs every manual group's measurement callback again, on the calling thread. Returns PMX_OK,
 * PMX_ESTOPPED, or the first callback's error (all callbacks still run). */
PMX_EXTERN int pmx_refresh_manual_metrics(pmx_t *p);

/* The application name and configuration the instance was created with (owned by it). */
PMX_EXTERN const pmx_config_t *pmx_config(const pmx_t *p);

/* The port the metrics server listens on, or 0 if it is not running. */
PMX_EXTERN uint16_t pmx_metrics_port(const pmx_t *p);

/* Describes every metric a configuration would define, without starting anything: runs the
 * plugins' callbacks (skipping dropped groups) and calls `cb` once per metric with its full name
 * (prefix applied), kind and buckets (distributions); then promex's own metrics (status_info,
 * scrape_duration_seconds, poll_errors_total, ...) with group "prom_ex". The registry's own
 * metric_series / series_dropped_total / events_skipped_total are not reported. Every group's
 * ctx_free has run when it returns. Used by the dashboard linter and the CLI.
 * Returns PMX_OK or the error pmx_start() would report for the plugins (err filled). */
typedef void (*pmx_describe_cb)(void *ctx, const char *group, const char *full_name,
                                pmx_metric_kind_t kind, const double *buckets, size_t n_buckets);
PMX_EXTERN int pmx_describe_metrics(const pmx_config_t *cfg, pmx_describe_cb cb, void *ctx,
                                    pmx_error_t *err);

/* Logs through the instance's log sink (plugins use this). printf-style. */
PMX_EXTERN void pmx_log(const pmx_t *p, pmx_log_level_t level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#ifdef __cplusplus
}
#endif
#endif
