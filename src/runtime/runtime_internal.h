/* Private to src/runtime: the layout of a promex instance and the functions the runtime's files
 * share (pmx__rt_ prefix). Nothing here is API. The groups themselves (what plugins add) are the
 * plugin API's (src/plugin_api/plugin_api_internal.h); the runtime keeps its per-group run state
 * beside them, index for index.
 *
 * Invariants:
 *  - pmx_t.lock (rwlock) guards `running` against pmx_stop(): readers (get_metrics, refresh,
 *    scrapes) hold it shared while they use the registry; stop takes it exclusive to flip
 *    `running` before tearing anything down, so no reader ever sees a freed registry.
 *  - pmx_t.mu guards the poller (scheduler.c) and the count of abandoned callbacks; it is the
 *    one lock an abandoned poll worker takes after its callback returns, which is why it lives
 *    in the instance (which outlives such workers) and not in the poller. */
#ifndef PMX_RUNTIME_INTERNAL_H
#define PMX_RUNTIME_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "plugin_api/plugin_api_internal.h"
#include "promex/config.h"
#include "promex/plugin.h"
#include "promex/runtime.h"
#include "promex/server.h"

struct pmx__grafana_job;

/* The runtime's state of group i of a running instance (pmx_t.runs[i]). The series are NULL
 * for event and dropped groups. `failing` / `overrunning` / `timing_out` make each condition
 * logged once until it clears; they are atomic because a manual group may run on the poller and
 * in pmx_refresh_manual_metrics() at the same time. */
typedef struct pmx__rt_run {
  atomic_bool failing;
  atomic_bool overrunning;
  atomic_bool timing_out;
  pmx_series_t *errors_series;
  pmx_series_t *overruns_series;
  pmx_series_t *timeouts_series;
  pmx_series_t *skips_series;
  pmx_series_t *duration_series;
} pmx__rt_run_t;

/* Runs every configured plugin's callbacks into a new groups set and marks dropped groups
 * (warning through `p` for drop entries that name no group; p may be NULL). On PMX_OK *out is
 * owned by the caller (pmx__groups_free). On error nothing is left allocated and every ctx_free
 * of groups added so far has run. `bus` is what plugins see as ctx->bus. */
int pmx__rt_collect(const pmx_config_t *cfg, pmx_bus_t *bus, const pmx_t *p, pmx_groups_t **out,
                    pmx_error_t *err);

/* Deep copy / free of a configuration (owned strings and arrays). */
int pmx__rt_config_copy(const pmx_config_t *src, pmx_config_t *dst);
void pmx__rt_config_free(pmx_config_t *cfg);

/* promex's own metrics (own_metrics.c). */
typedef struct pmx__own_metrics {
  pmx_metric_t *status_info;
  pmx_metric_t *scrape_duration;
  pmx_series_t *scrape_series;
  pmx_metric_t *poll_errors;
  pmx_metric_t *poll_overruns;
  pmx_metric_t *poll_timeouts;
  pmx_metric_t *poll_skips;
  pmx_metric_t *poll_duration;
  pmx_metric_t *grafana_uploads;
  pmx_metric_t *grafana_annotations;
  /* Push (push_glue.c): remote_write writers' counters, labelled by url; Pushgateway pushes. */
  pmx_metric_t *rw_sent, *rw_dropped, *rw_failed, *rw_queue, *rw_last_success;
  pmx_metric_t *push_requests;
} pmx__own_metrics_t;

#define PMX__RT_N_SCRAPE_BUCKETS 12
extern const double pmx__rt_scrape_buckets[PMX__RT_N_SCRAPE_BUCKETS];
#define PMX__RT_N_POLL_BUCKETS 10
extern const double pmx__rt_poll_buckets[PMX__RT_N_POLL_BUCKETS];

/* Defines the own metrics in `reg` (prefix "<app>_prom_ex_prom_ex") and attaches the Grafana
 * result metrics to `bus`. */
int pmx__rt_own_define(pmx_registry_t *reg, pmx_bus_t *bus, const pmx_config_t *cfg,
                       pmx__own_metrics_t *own, pmx_error_t *err);

struct pmx {
  pmx_config_t cfg;               /* deep copy */
  pmx_bus_t *bus;                 /* pmx_new .. pmx_destroy */

  pthread_rwlock_t lock;          /* see invariants above */
  atomic_bool running;
  atomic_uint_least16_t port;

  /* Valid while running: */
  pmx_registry_t *reg;
  pmx_groups_t *groups;
  pmx__own_metrics_t own;
  pmx_server_t *server;
  struct pmx__grafana_job *grafana;
  struct pmx_remote_writer *remote_writer; /* [remote_write] (push_glue.c), or NULL */

  pmx__rt_run_t *runs;            /* one per group, index-parallel to groups->items */

  /* Multi-process mode (shared_runtime.c). `owner` is the process that created the instance: a
   * forked child holds a copy whose threads, locks and server are not its own. `prepared`: the
   * registry is shared and reg, groups, own and runs were built by pmx_prepare_shared(); they
   * then live until pmx_destroy(), across stops and starts. */
  pid_t owner;
  bool prepared;

  /* Polling (scheduler.c). */
  pthread_mutex_t mu;             /* see invariants above */
  pthread_cond_t cond;            /* CLOCK_MONOTONIC; the poller's dispatcher waits on it */
  struct pmx__poller *poller;     /* NULL when not running */
  size_t n_hung;                  /* abandoned callbacks that have not returned; guarded by mu */
  bool destroy_pending;           /* pmx_destroy() ran while n_hung > 0; guarded by mu */
};

/* [remote_write] and [push] (push_glue.c): starts the sender if configured; on stop (while
 * still running) stops it and pushes to the Pushgateway if configured. */
int pmx__rt_push_start(pmx_t *p, pmx_error_t *err);
void pmx__rt_push_on_stop(pmx_t *p);

/* Builds what a start needs before any thread: the plugins' groups (unless already collected),
 * the registry (unless already created), own and plugin metrics defined and attached, and the
 * per-group run state with its own series. On error, what exists stays for pmx__rt_free_built. */
int pmx__rt_build(pmx_t *p, pmx_error_t *err);
/* Frees what pmx__rt_build created (registry, groups, runs). */
void pmx__rt_free_built(pmx_t *p);
/* A registry with the runtime's own-metrics prefix ("<app>_prom_ex_prom_ex"). */
int pmx__rt_registry_for(const pmx_config_t *cfg, pmx_registry_t **reg, pmx_error_t *err);

/* Whether the calling process is not the one that created `p` (a forked child). */
bool pmx__rt_foreign(const pmx_t *p);
/* PMX_OK in the instance's own process; else PMX_ESTATE with err saying that `what` belongs to
 * the process that created the instance. */
int pmx__rt_refuse_foreign(const pmx_t *p, const char *what, pmx_error_t *err);
/* pmx_destroy of a prepared instance: stops guarding its bus across fork. */
void pmx__rt_fork_guard_release(const pmx_t *p);

/* Frees what pmx_new() created. Called by pmx_destroy(), or by the last abandoned poll worker
 * when pmx_destroy() ran before its callback returned. */
void pmx__rt_free_instance(pmx_t *p);

/* Runs group i's measurement callback on the calling thread with failure / duration / overrun
 * accounting. Returns the callback's result. */
int pmx__rt_run_group(pmx_t *p, size_t i);

/* The accounting half of pmx__rt_run_group(), for a callback that returned `rc` after `dt_ns`. */
void pmx__rt_account(pmx_t *p, size_t i, int rc, int64_t dt_ns);

/* Runs every non-dropped manual group (all run even if one fails); returns the first error. */
int pmx__rt_run_manual(pmx_t *p);

/* Starts the poller (scheduler.c): polling groups on their poll rates and the delayed first run
 * of manual groups (when manual_due_ns > 0). */
int pmx__rt_poller_start(pmx_t *p, int64_t manual_due_ns, pmx_error_t *err);

/* Stops the poller: wakes and joins its threads; a worker still inside a callback after a grace
 * period is abandoned (detached; it takes its group out of p->groups and frees it when the
 * callback returns). NULL poller is a no-op. */
void pmx__rt_poller_stop(pmx_t *p);

/* How long pmx_stop() waits for running measurement callbacks before abandoning them. */
#define PMX__RT_STOP_GRACE_MS 300

#endif
