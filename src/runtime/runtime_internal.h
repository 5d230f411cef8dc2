/* Private to src/runtime: the layout of metric groups, of a promex instance and the functions the
 * runtime's files share (pmx__rt_ prefix). Nothing here is API.
 *
 * Invariants:
 *  - A pmx_groups_t owns deep copies of every metric definition added to it (strings, tag arrays,
 *    buckets); function pointers and their ctx are borrowed from the plugin.
 *  - Every group's ctx_free runs exactly once: in pmx__rt_groups_free().
 *  - pmx_t.lock (rwlock) guards `running` against pmx_stop(): readers (get_metrics, refresh,
 *    scrapes) hold it shared while they use the registry; stop takes it exclusive to flip
 *    `running` before tearing anything down, so no reader ever sees a freed registry. */
#ifndef PMX_RUNTIME_INTERNAL_H
#define PMX_RUNTIME_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "promex/config.h"
#include "promex/plugin.h"
#include "promex/runtime.h"
#include "promex/server.h"

struct pmx__grafana_job;

typedef enum pmx__group_kind { PMX__GROUP_EVENT = 0, PMX__GROUP_POLLING, PMX__GROUP_MANUAL } pmx__group_kind_t;

typedef struct pmx__group {
  char *name;
  char *plugin;                   /* name of the plugin that added it */
  pmx__group_kind_t kind;
  uint32_t poll_rate_ms;          /* polling: resolved (never 0) */
  pmx_measure_cb measure;         /* polling, manual */
  void *ctx;
  void (*ctx_free)(void *);
  pmx_metric_def_t *metrics;      /* deep copies */
  size_t n_metrics;
  bool dropped;                   /* named in drop_metrics_groups */
  /* Scheduler state (background thread only, except `failing`, see lifecycle.c). */
  int64_t next_due_ns;
  atomic_bool failing;            /* last run failed: logged once until it succeeds again */
  atomic_bool overrunning;        /* last run overran: logged once until one does not */
  pmx_series_t *errors_series;    /* own metrics, NULL when not running */
  pmx_series_t *overruns_series;
} pmx__group_t;

struct pmx_groups {
  pmx__group_t *items;
  size_t n, cap;
  /* The plugin whose callback is running, and its context (for prefix, poll rate, err). */
  const pmx_plugin_ctx_t *cur;
  /* First error recorded by an add (kept even if the plugin ignores the return code). */
  int sticky_code;
  pmx_error_t sticky_err;
};

/* Runs every configured plugin's callbacks into a new groups set and marks dropped groups
 * (warning through `p` for drop entries that name no group; p may be NULL). On PMX_OK *out is
 * owned by the caller (pmx__rt_groups_free). On error nothing is left allocated and every ctx_free
 * of groups added so far has run. `bus` is what plugins see as ctx->bus. */
int pmx__rt_collect(const pmx_config_t *cfg, pmx_bus_t *bus, const pmx_t *p, pmx_groups_t **out,
                    pmx_error_t *err);

/* Frees the set: runs every group's ctx_free, frees the copies. NULL is a no-op. */
void pmx__rt_groups_free(pmx_groups_t *g);

/* Deep copy / free of a configuration (owned strings and arrays). */
int pmx__rt_config_copy(const pmx_config_t *src, pmx_config_t *dst);
void pmx__rt_config_free(pmx_config_t *cfg);

/* The default metric prefix of a plugin: "<app>_prom_ex_<plugin>" (malloc'd, NULL on ENOMEM). */
char *pmx__rt_default_prefix(const char *app, const char *plugin);

/* promex's own metrics (own_metrics.c). */
typedef struct pmx__own_metrics {
  pmx_metric_t *status_info;
  pmx_metric_t *scrape_duration;
  pmx_series_t *scrape_series;
  pmx_metric_t *poll_errors;
  pmx_metric_t *poll_overruns;
  pmx_metric_t *grafana_uploads;
  pmx_metric_t *grafana_annotations;
} pmx__own_metrics_t;

#define PMX__RT_N_SCRAPE_BUCKETS 12
extern const double pmx__rt_scrape_buckets[PMX__RT_N_SCRAPE_BUCKETS];

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

  /* Background thread (scheduler.c). */
  pthread_t thread;
  bool thread_started;
  pthread_mutex_t mu;
  pthread_cond_t cond;            /* CLOCK_MONOTONIC */
  bool stop_requested;            /* guarded by mu */
  bool manual_pending;            /* delayed manual run not yet done; guarded by mu */
  int64_t manual_due_ns;
};

/* Runs one group's measurement callback with failure / overrun accounting. `period_ns` is 0 for
 * manual groups (no overrun check). Returns the callback's result. */
int pmx__rt_run_group(pmx_t *p, pmx__group_t *g, int64_t period_ns);

/* Runs every non-dropped manual group (all run even if one fails); returns the first error. */
int pmx__rt_run_manual(pmx_t *p);

/* Starts / stops the background thread. */
int pmx__rt_thread_start(pmx_t *p, pmx_error_t *err);
void pmx__rt_thread_stop(pmx_t *p);

#endif
