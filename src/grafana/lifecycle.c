/* The background Grafana job (src/grafana/lifecycle.h): PromEx.DashboardUploader and
 * PromEx.LifecycleAnnotator in one thread.
 *
 * Work items: the start annotation, the folder, and each dashboard. Every round tries the items
 * still pending; an item is finished when it succeeds or fails for good (a render error, a 4xx
 * other than 408/429); otherwise the round ends and the thread sleeps with exponential backoff
 * (base, 2*base, ... capped) on a condition variable, so pmx__grafana_stop() wakes it at once.
 * A request in flight is aborted by the client's cancel flag. After max_attempts rounds the
 * remaining items are given up and logged. Nothing here can block the host program: the only
 * network call on the caller's thread is the stop annotation, bounded by the Grafana timeout. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config_log.h"
#include "grafana/grafana_internal.h"
#include "internal.h"

struct pmx__grafana_job {
  const pmx_config_t *cfg;
  pmx_bus_t *bus;
  pmx__gf_hooks_t hooks;
  int64_t start_ms;  /* wall-clock time of pmx_start: the start annotation's time */
  pthread_mutex_t mu;
  pthread_cond_t cv; /* CLOCK_MONOTONIC */
  atomic_bool stop;
  bool have_thread;
  pthread_t thread;
};

static int64_t now_ms(clockid_t clk) {
  struct timespec ts;
  clock_gettime(clk, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void emit_upload(pmx__grafana_job_t *job, const char *dashboard, bool ok) {
  if (!job->hooks.emit) return;
  const pmx_meta_t md[] = {PMX_META_S("dashboard", dashboard), PMX_META_S("result", ok ? "ok" : "error")};
  job->hooks.emit(job->hooks.emit_ctx, job->bus, PMX__GRAFANA_UPLOAD_EVENT, md, 2);
}

static void emit_annotation(pmx__grafana_job_t *job, const char *kind, bool ok) {
  if (!job->hooks.emit) return;
  const pmx_meta_t md[] = {PMX_META_S("kind", kind), PMX_META_S("result", ok ? "ok" : "error")};
  job->hooks.emit(job->hooks.emit_ctx, job->bus, PMX__GRAFANA_ANNOTATION_EVENT, md, 2);
}

/* Posts a lifecycle annotation; returns the call's status. */
static int annotate(pmx__grafana_job_t *job, pmx_grafana_t *g, const char *kind, int64_t time_ms,
                    pmx_grafana_result_t *res) {
  const char *tags[] = {"promex", job->cfg->app, kind};
  char *text = pmx__grafana_annotation_text(job->cfg, kind);
  if (!text) return PMX_ENOMEM;
  int rc = pmx_grafana_annotation_create(g, time_ms, tags, 3, text, NULL, res);
  pmx__free(text);
  return rc;
}

typedef struct item {
  char *name;
  char *json;
  bool done;
  bool warned;
} item_t;

/* Sleeps `ms` or until stop; returns true when stopping. */
static bool backoff_wait(pmx__grafana_job_t *job, unsigned ms) {
  int64_t deadline = now_ms(CLOCK_MONOTONIC) + ms;
  struct timespec ts = {.tv_sec = deadline / 1000, .tv_nsec = (long)(deadline % 1000) * 1000000};
  pthread_mutex_lock(&job->mu);
  while (!atomic_load(&job->stop)) {
    if (pthread_cond_timedwait(&job->cv, &job->mu, &ts) == ETIMEDOUT) break;
  }
  bool stop = atomic_load(&job->stop);
  pthread_mutex_unlock(&job->mu);
  return stop;
}

static void describe(char *out, size_t cap, int rc, const pmx_grafana_result_t *res) {
  if (rc == PMX_EHTTP)
    snprintf(out, cap, "HTTP %ld: %s", res->http_status, res->message);
  else
    snprintf(out, cap, "%s: %s", pmx_err_name(rc), res->message[0] ? res->message : pmx_strerror(rc));
}

/* One failed attempt at a work item: logs it (a warning the first time, debug for later retries,
 * an error when giving up, with `give_up` saying what that means) and returns whether to try it
 * again next round. */
static bool retry_after(pmx__grafana_job_t *job, const char *what, bool *warned, int rc,
                        const pmx_grafana_result_t *res, unsigned attempt, unsigned attempts,
                        const char *give_up) {
  char why[700];
  describe(why, sizeof why, rc, res);
  bool again = pmx__grafana_retryable(rc, res->http_status) && attempt < attempts;
  pmx__config_log(job->cfg, again ? (*warned ? PMX_LOG_DEBUG : PMX_LOG_WARN) : PMX_LOG_ERROR,
                  "grafana: %s (attempt %u): %s%s", what, attempt, why,
                  again ? "; will retry" : give_up);
  *warned = true;
  return again;
}

static void *job_main(void *arg) {
  pmx__grafana_job_t *job = arg;
  const pmx_config_t *cfg = job->cfg;
  pmx_grafana_t *g = NULL;
  pmx_error_t err = {0};
  if (pmx_grafana_new(&cfg->grafana, &g, &err) != PMX_OK) {
    pmx__config_log(cfg, PMX_LOG_ERROR, "grafana: %s; dashboards not uploaded, no annotations",
                    err.text);
    return NULL;
  }
  pmx__grafana_set_cancel(g, &job->stop);

  bool annotation_pending = cfg->grafana.annotate_app_lifecycle;
  bool annotation_warned = false;
  bool uploading = cfg->grafana.upload_dashboards_on_start;
  bool folder_done = false, folder_warned = false;
  size_t n = uploading ? job->hooks.source.count(job->hooks.source.ctx, cfg) : 0;
  item_t *items = n ? pmx__calloc(n, sizeof *items) : NULL;
  if (n && !items) {
    pmx__config_log(cfg, PMX_LOG_ERROR, "grafana: out of memory; dashboards not uploaded");
    uploading = false;
    n = 0;
  }
  char folder[41] = "";
  char what[400];
  pmx_grafana_result_t res;
  unsigned attempts = job->hooks.max_attempts ? job->hooks.max_attempts : 1;
  unsigned delay = job->hooks.backoff_base_ms;

  for (unsigned attempt = 1; attempt <= attempts && !atomic_load(&job->stop); attempt++) {
    bool pending = false;
    if (annotation_pending) {
      int rc = annotate(job, g, "start", job->start_ms, &res);
      if (rc == PMX_ESTOPPED) break;
      emit_annotation(job, "start", rc == PMX_OK);
      if (rc == PMX_OK) {
        annotation_pending = false;
        pmx__config_log(cfg, PMX_LOG_INFO, "grafana: start annotation posted");
      } else {
        bool again = retry_after(job, "start annotation failed", &annotation_warned, rc, &res,
                                 attempt, attempts, "; giving up");
        annotation_pending = again;
        pending = pending || again;
      }
    }
    if (uploading && !folder_done) {
      int rc = pmx_grafana_ensure_folder(g, cfg, folder, sizeof folder, &res);
      if (rc == PMX_ESTOPPED) break;
      if (rc == PMX_OK) {
        folder_done = true;
      } else {
        snprintf(what, sizeof what, "folder \"%s\"", cfg->grafana.folder_name);
        bool again = retry_after(job, what, &folder_warned, rc, &res, attempt, attempts,
                                 "; dashboards not uploaded");
        if (!again) {
          for (size_t i = 0; i < n; i++) {
            if (items[i].done) continue;
            if (!items[i].name) {
              pmx_error_t rerr;
              job->hooks.source.render(job->hooks.source.ctx, cfg, i, &items[i].name, &items[i].json, &rerr);
            }
            emit_upload(job, items[i].name ? items[i].name : "?", false);
            items[i].done = true;
          }
          uploading = false;
        }
        pending = pending || again;
      }
    }
    for (size_t i = 0; uploading && folder_done && i < n; i++) {
      item_t *it = &items[i];
      if (it->done) continue;
      if (!it->json) {
        pmx_error_t rerr = {0};
        pmx__free(it->name);
        it->name = NULL;
        int rc = job->hooks.source.render(job->hooks.source.ctx, cfg, i, &it->name, &it->json, &rerr);
        if (rc != PMX_OK) {
          pmx__config_log(cfg, PMX_LOG_ERROR, "grafana: dashboard %s not uploaded: %s",
                          it->name ? it->name : "?", rerr.text[0] ? rerr.text : pmx_strerror(rc));
          emit_upload(job, it->name ? it->name : "?", false);
          it->done = true;
          continue;
        }
      }
      int rc = pmx__grafana_upload_rendered(g, cfg, it->name, it->json, folder, NULL, &res);
      if (rc == PMX_ESTOPPED) break;
      emit_upload(job, it->name, rc == PMX_OK);
      if (rc == PMX_OK) {
        it->done = true;
        pmx__config_log(cfg, PMX_LOG_INFO, "grafana: dashboard %s uploaded%s%s", it->name,
                        folder[0] ? " into folder " : "", folder);
        continue;
      }
      snprintf(what, sizeof what, "dashboard %s", it->name);
      bool again = retry_after(job, what, &it->warned, rc, &res, attempt, attempts, "; giving up");
      if (!again) it->done = true;
      pending = pending || again;
    }
    if (uploading && folder_done) {
      for (size_t i = 0; i < n; i++) pending = pending || !items[i].done;
    }
    if (!pending || attempt == attempts) break;
    if (backoff_wait(job, delay)) break;
    unsigned cap = job->hooks.backoff_cap_ms ? job->hooks.backoff_cap_ms : delay;
    delay = delay > cap / 2 ? cap : delay * 2;
  }
  for (size_t i = 0; i < n; i++) {
    pmx__free(items[i].name);
    pmx__free(items[i].json);
  }
  pmx__free(items);
  pmx_grafana_free(g);
  return NULL;
}

int pmx__grafana_start_with(const pmx_config_t *cfg, pmx_bus_t *bus, const pmx__gf_hooks_t *hooks,
                            pmx__grafana_job_t **out) {
  if (!cfg || !hooks || !out) return PMX_EINVAL;
  *out = NULL;
  pmx__grafana_job_t *job = pmx__calloc(1, sizeof *job);
  if (!job) return PMX_ENOMEM;
  job->cfg = cfg;
  job->bus = bus;
  job->hooks = *hooks;
  job->start_ms = now_ms(CLOCK_REALTIME);
  atomic_init(&job->stop, false);
  pthread_condattr_t ca;
  if (pthread_condattr_init(&ca) != 0) {
    pmx__free(job);
    return PMX_ESYS;
  }
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  int e = pthread_cond_init(&job->cv, &ca);
  pthread_condattr_destroy(&ca);
  if (e != 0) {
    pmx__free(job);
    return PMX_ESYS;
  }
  if (pthread_mutex_init(&job->mu, NULL) != 0) {
    pthread_cond_destroy(&job->cv);
    pmx__free(job);
    return PMX_ESYS;
  }
  bool work = cfg->grafana.annotate_app_lifecycle || cfg->grafana.upload_dashboards_on_start;
  if (work) {
    if (pthread_create(&job->thread, NULL, job_main, job) != 0) {
      pthread_mutex_destroy(&job->mu);
      pthread_cond_destroy(&job->cv);
      pmx__free(job);
      return PMX_ESYS;
    }
    job->have_thread = true;
  }
  *out = job;
  return PMX_OK;
}

void pmx__grafana_stop(pmx__grafana_job_t *job) {
  if (!job) return;
  pthread_mutex_lock(&job->mu);
  atomic_store(&job->stop, true);
  pthread_cond_broadcast(&job->cv);
  pthread_mutex_unlock(&job->mu);
  if (job->have_thread) pthread_join(job->thread, NULL);
  if (job->cfg->grafana.annotate_app_lifecycle) {
    pmx_grafana_t *g = NULL;
    pmx_error_t err = {0};
    if (pmx_grafana_new(&job->cfg->grafana, &g, &err) == PMX_OK) {
      pmx_grafana_result_t res;
      int rc = annotate(job, g, "stop", now_ms(CLOCK_REALTIME), &res);
      emit_annotation(job, "stop", rc == PMX_OK);
      if (rc == PMX_OK) {
        pmx__config_log(job->cfg, PMX_LOG_INFO, "grafana: stop annotation posted");
      } else {
        char why[700];
        describe(why, sizeof why, rc, &res);
        pmx__config_log(job->cfg, PMX_LOG_WARN, "grafana: stop annotation failed: %s", why);
      }
      pmx_grafana_free(g);
    } else {
      emit_annotation(job, "stop", false);
      pmx__config_log(job->cfg, PMX_LOG_WARN, "grafana: stop annotation not posted: %s", err.text);
    }
  }
  pthread_mutex_destroy(&job->mu);
  pthread_cond_destroy(&job->cv);
  pmx__free(job);
}
