/* pmx_start / pmx_stop and what runs only while an instance is running: rendering
 * (pmx_get_metrics and the server's scrape callback), refreshing manual metrics, and
 * pmx_describe_metrics (the same plugin pass without starting).
 *
 * Start builds everything before making anything visible: plugins -> groups -> registry with
 * every metric defined and attached -> manual groups -> poller (scheduler.c) -> `running` ->
 * metrics server -> Grafana job (last: it talks to Grafana, and a start that fails must not).
 * Any failure tears down what exists in the reverse order (teardown()), so a failed start
 * leaves nothing running or allocated and err says which plugin, group or metric was at fault. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grafana/lifecycle.h"
#include "promex/push.h"
#include "internal.h"
#include "promex/promex.h"
#include "runtime/runtime_internal.h"

/* Stops the threads a (possibly partial) start created: push, server, poller, Grafana job.
 * `running` is already false. */
static void stop_threads(pmx_t *p) {
  pmx_remote_write_stop(p->remote_writer); /* after a failed start; pmx_stop did it already */
  p->remote_writer = NULL;
  pmx_server_stop(p->server);
  p->server = NULL;
  atomic_store(&p->port, 0);
  pmx__rt_poller_stop(p); /* may take abandoned groups out of p->groups */
  if (p->grafana != NULL) {
    pmx__grafana_stop(p->grafana);
    p->grafana = NULL;
  }
}

void pmx__rt_free_built(pmx_t *p) {
  pmx_registry_destroy(p->reg); /* detaches every metric from the bus first */
  p->reg = NULL;
  memset(&p->own, 0, sizeof p->own);
  pmx__groups_free(p->groups); /* runs every remaining group's ctx_free */
  p->groups = NULL;
  pmx__free(p->runs);
  p->runs = NULL;
}

/* Undoes a start. A prepared instance (multi-process mode) keeps its registry and groups: the
 * workers go on updating the shared series, and a later pmx_start serves them again. */
static void teardown(pmx_t *p) {
  stop_threads(p);
  if (!p->prepared) pmx__rt_free_built(p);
}

/* Renders under the shared lock, timing the render into scrape_duration_seconds. */
static int render(pmx_t *p, pmx_format_t fmt, pmx_buf_t *buf) {
  if (pmx__rt_foreign(p)) return PMX_ESTOPPED; /* the runtime runs in another process */
  pthread_rwlock_rdlock(&p->lock);
  if (!atomic_load(&p->running)) {
    pthread_rwlock_unlock(&p->lock);
    return PMX_ESTOPPED;
  }
  int64_t t0 = pmx_monotonic_ns();
  int rc = pmx_render(p->reg, fmt, buf);
  if (p->own.scrape_series != NULL)
    pmx_series_observe(p->own.scrape_series, (double)(pmx_monotonic_ns() - t0) / 1e9);
  pthread_rwlock_unlock(&p->lock);
  return rc;
}

static int scrape_cb(void *ctx, pmx_format_t fmt, pmx_buf_t *out) { return render(ctx, fmt, out); }

int pmx_get_metrics(pmx_t *p, pmx_format_t fmt, pmx_buf_t *buf) {
  if (p == NULL || buf == NULL) return PMX_EINVAL;
  return render(p, fmt, buf);
}

int pmx_refresh_manual_metrics(pmx_t *p) {
  if (p == NULL) return PMX_EINVAL;
  if (pmx__rt_foreign(p)) return PMX_ESTOPPED;
  pthread_rwlock_rdlock(&p->lock);
  int rc = atomic_load(&p->running) ? pmx__rt_run_manual(p) : PMX_ESTOPPED;
  pthread_rwlock_unlock(&p->lock);
  return rc;
}

/* Defines (and attaches, when `bus` is not NULL) every metric of the non-dropped groups. */
static int define_groups(pmx_registry_t *reg, pmx_groups_t *groups, pmx_bus_t *bus,
                         pmx_describe_cb cb, void *cb_ctx, pmx_error_t *err) {
  for (size_t i = 0; i < groups->n; i++) {
    pmx__group_t *g = &groups->items[i];
    if (g->dropped) continue;
    for (size_t j = 0; j < g->n_metrics; j++) {
      const pmx_metric_def_t *d = &g->metrics[j];
      pmx_metric_t *m = NULL;
      pmx_error_t e;
      memset(&e, 0, sizeof e);
      int rc = pmx_metric_define(reg, d, &m, &e);
      if (rc == PMX_OK && bus != NULL) rc = pmx_metric_attach(m, bus, &e);
      if (rc != PMX_OK)
        return pmx__fail(err, rc, d->name, "plugin \"%s\" group \"%s\" metric \"%s\": %s",
                         g->plugin, g->name, d->name,
                         e.text[0] != '\0' ? e.text : pmx_strerror(rc));
      if (cb != NULL)
        cb(cb_ctx, g->name, pmx_metric_name(m), d->kind, d->buckets, d->n_buckets);
    }
  }
  return PMX_OK;
}

int pmx__rt_registry_for(const pmx_config_t *cfg, pmx_registry_t **reg, pmx_error_t *err) {
  char own_prefix[256];
  snprintf(own_prefix, sizeof own_prefix, "%s_prom_ex_prom_ex", cfg->app);
  pmx_registry_opts_t opts;
  memset(&opts, 0, sizeof opts);
  opts.own_metrics_prefix = own_prefix;
  int rc = pmx_registry_new(&opts, reg);
  if (rc != PMX_OK) return pmx__fail(err, rc, "", "cannot create the registry: %s", pmx_strerror(rc));
  return PMX_OK;
}

int pmx__rt_build(pmx_t *p, pmx_error_t *err) {
  int rc = PMX_OK;
  if (p->groups == NULL) rc = pmx__rt_collect(&p->cfg, p->bus, p, &p->groups, err);
  if (rc != PMX_OK) return rc;
  if (p->reg == NULL && (rc = pmx__rt_registry_for(&p->cfg, &p->reg, err)) != PMX_OK) return rc;
  if ((rc = pmx__rt_own_define(p->reg, p->bus, &p->cfg, &p->own, err)) != PMX_OK) return rc;
  if ((rc = define_groups(p->reg, p->groups, p->bus, NULL, NULL, err)) != PMX_OK) return rc;

  p->runs = pmx__calloc(p->groups->n > 0 ? p->groups->n : 1, sizeof *p->runs);
  if (p->runs == NULL) return pmx__fail(err, PMX_ENOMEM, "", "out of memory");
  for (size_t i = 0; i < p->groups->n; i++) {
    const pmx__group_t *g = &p->groups->items[i];
    pmx__rt_run_t *r = &p->runs[i];
    atomic_init(&r->failing, false);
    atomic_init(&r->overrunning, false);
    atomic_init(&r->timing_out, false);
    if (g->dropped || g->kind == PMX__GROUP_EVENT) continue;
    const char *v[] = {g->name};
    /* Series created up front so the counters read 0, not absent, until something happens. */
    rc = pmx_metric_labels(p->own.poll_errors, v, 1, &r->errors_series);
    if (rc == PMX_OK) rc = pmx_metric_labels(p->own.poll_duration, v, 1, &r->duration_series);
    if (rc == PMX_OK) rc = pmx_metric_labels(p->own.poll_timeouts, v, 1, &r->timeouts_series);
    if (rc == PMX_OK && g->kind == PMX__GROUP_POLLING) {
      rc = pmx_metric_labels(p->own.poll_overruns, v, 1, &r->overruns_series);
      if (rc == PMX_OK) rc = pmx_metric_labels(p->own.poll_skips, v, 1, &r->skips_series);
    }
    if (rc != PMX_OK)
      return pmx__fail(err, rc, g->name, "group \"%s\": cannot create own series: %s", g->name,
                       pmx_strerror(rc));
  }
  return PMX_OK;
}

int pmx_start(pmx_t *p, pmx_error_t *err) {
  pmx_error_t local;
  if (err == NULL) err = &local;
  memset(err, 0, sizeof *err);
  if (p == NULL) return pmx__fail(err, PMX_EINVAL, "", "pmx_start: instance is NULL");
  int rc = pmx__rt_refuse_foreign(p, "pmx_start", err);
  if (rc != PMX_OK) return rc;
  if (atomic_load(&p->running) || (p->groups != NULL && !p->prepared))
    return pmx__fail(err, PMX_ESTATE, p->cfg.app, "promex \"%s\" is already running", p->cfg.app);
  if (p->cfg.disabled) return PMX_OK;
  if (!p->prepared) {
    if ((rc = pmx_config_validate(&p->cfg, err)) != PMX_OK) return rc;
    if ((rc = pmx__rt_build(p, err)) != PMX_OK) goto fail;
  }
  bool have_manual = false;
  for (size_t i = 0; i < p->groups->n; i++) {
    const pmx__group_t *g = &p->groups->items[i];
    if (!g->dropped && g->kind == PMX__GROUP_MANUAL) have_manual = true;
  }
  int64_t manual_due = 0;
  if (have_manual) {
    if (p->cfg.manual_metrics_start_delay_ms <= 0)
      pmx__rt_run_manual(p);
    else
      manual_due = pmx_monotonic_ns() + p->cfg.manual_metrics_start_delay_ms * 1000000;
  }
  if ((rc = pmx__rt_poller_start(p, manual_due, err)) != PMX_OK) goto fail;
  pthread_rwlock_wrlock(&p->lock);
  atomic_store(&p->running, true);
  pthread_rwlock_unlock(&p->lock);
  if (p->cfg.metrics_server.enabled) {
    rc = pmx_server_start(&p->cfg.metrics_server, scrape_cb, p, &p->server, err);
    if (rc != PMX_OK) {
      pthread_rwlock_wrlock(&p->lock);
      atomic_store(&p->running, false);
      pthread_rwlock_unlock(&p->lock);
      goto fail;
    }
    atomic_store(&p->port, pmx_server_port(p->server));
  }
  if ((rc = pmx__rt_push_start(p, err)) != PMX_OK) {
    pthread_rwlock_wrlock(&p->lock);
    atomic_store(&p->running, false);
    pthread_rwlock_unlock(&p->lock);
    goto fail;
  }
  /* Last, once nothing else can fail: a failed start must not have told Grafana anything, and
   * undoing a started job posts the stop annotation on this thread (a network call). */
  if (p->cfg.grafana.enabled) {
    /* Which dashboards are first-party is data handed to the Grafana area (it does not call
     * the plugins). */
    rc = pmx__grafana_start(&p->cfg, p->bus, pmx_first_party_plugins(NULL), &p->grafana);
    if (rc != PMX_OK) {
      pmx__fail(err, rc, "grafana", "cannot start the Grafana job: %s", pmx_strerror(rc));
      pthread_rwlock_wrlock(&p->lock);
      atomic_store(&p->running, false);
      pthread_rwlock_unlock(&p->lock);
      goto fail;
    }
  }
  pmx_log(p, PMX_LOG_INFO, "promex started: %zu groups, metrics server %s", p->groups->n,
          p->server != NULL ? "listening" : "disabled");
  return PMX_OK;

fail:
  teardown(p);
  return rc;
}

int pmx_stop(pmx_t *p) {
  if (p == NULL) return PMX_EINVAL;
  if (pmx__rt_foreign(p)) return PMX_ESTATE; /* the runtime and its threads are another process's */
  /* Stopping detaches every metric, which waits for running handlers: from inside one it would
   * wait for itself (and freeing the metric under it would be worse). */
  if (pmx__inside_handler(p->bus)) return PMX_EBUSY;
  if (atomic_load(&p->running)) pmx__rt_push_on_stop(p); /* [remote_write], [push]: last data */
  /* Taking the lock exclusively waits for in-flight renders and refreshes; after the flip, new
   * ones answer PMX_ESTOPPED, so the registry can go. */
  pthread_rwlock_wrlock(&p->lock);
  bool was = atomic_exchange(&p->running, false);
  pthread_rwlock_unlock(&p->lock);
  if (!was) return PMX_ESTATE;
  teardown(p);
  pmx_log(p, PMX_LOG_INFO, "promex stopped");
  return PMX_OK;
}

static void own_describe(const pmx_config_t *cfg, pmx_describe_cb cb, void *ctx) {
  /* The runtime's own metrics, as pmx_start() defines them (see own_metrics.c). */
  pmx_registry_t *reg = NULL;
  pmx_bus_t *bus = NULL;
  pmx__own_metrics_t own;
  if (pmx_bus_new(&bus) != PMX_OK) return;
  if (pmx__rt_registry_for(cfg, &reg, NULL) == PMX_OK &&
      pmx__rt_own_define(reg, bus, cfg, &own, NULL) == PMX_OK) {
    pmx_metric_t *ms[] = {own.status_info,     own.scrape_duration, own.poll_errors,
                          own.poll_overruns,   own.poll_timeouts,   own.poll_skips,
                          own.poll_duration,   own.grafana_uploads, own.grafana_annotations,
                          own.rw_sent,         own.rw_dropped,      own.rw_failed,
                          own.rw_queue,        own.rw_last_success, own.push_requests};
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) {
      pmx_metric_kind_t k = pmx_metric_kind(ms[i]);
      const double *b = NULL;
      size_t nb = 0;
      if (ms[i] == own.scrape_duration) {
        b = pmx__rt_scrape_buckets;
        nb = PMX__RT_N_SCRAPE_BUCKETS;
      } else if (ms[i] == own.poll_duration) {
        b = pmx__rt_poll_buckets;
        nb = PMX__RT_N_POLL_BUCKETS;
      }
      cb(ctx, "prom_ex", pmx_metric_name(ms[i]), k, b, nb);
    }
    /* And the families the registry itself renders (see expo.c: render_own). */
    static const struct {
      const char *suffix;
      pmx_metric_kind_t kind;
    } registry_own[] = {{"_metric_series", PMX_LAST_VALUE},
                        {"_series_dropped_total", PMX_COUNTER},
                        {"_events_skipped_total", PMX_COUNTER}};
    char name[300];
    for (size_t i = 0; i < sizeof registry_own / sizeof registry_own[0]; i++) {
      snprintf(name, sizeof name, "%s_prom_ex_prom_ex%s", cfg->app, registry_own[i].suffix);
      cb(ctx, "prom_ex", name, registry_own[i].kind, NULL, 0);
    }
  }
  pmx_registry_destroy(reg);
  pmx_bus_destroy(bus);
}

int pmx_describe_metrics(const pmx_config_t *cfg, pmx_describe_cb cb, void *ctx,
                         pmx_error_t *err) {
  if (cfg == NULL || cb == NULL)
    return pmx__fail(err, PMX_EINVAL, "", "pmx_describe_metrics: cfg and cb must not be NULL");
  if (cfg->app == NULL || cfg->app[0] == '\0')
    return pmx__fail(err, PMX_ECONFIG, "app", "the application name (app) is required");
  pmx_error_t local;
  if (err == NULL) err = &local;
  pmx_bus_t *bus = NULL;
  int rc = pmx_bus_new(&bus);
  if (rc != PMX_OK) return pmx__fail(err, rc, "", "cannot create a bus: %s", pmx_strerror(rc));
  pmx_groups_t *groups = NULL;
  pmx_registry_t *reg = NULL;
  rc = pmx__rt_collect(cfg, bus, NULL, &groups, err);
  if (rc == PMX_OK) rc = pmx__rt_registry_for(cfg, &reg, err);
  if (rc == PMX_OK) rc = define_groups(reg, groups, NULL, cb, ctx, err);
  pmx_registry_destroy(reg);
  pmx__groups_free(groups);
  pmx_bus_destroy(bus);
  if (rc == PMX_OK) own_describe(cfg, cb, ctx);
  return rc;
}
