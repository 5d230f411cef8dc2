/* The instance side of the push area (include/promex/push.h, docs/push.md): pmx_push() and
 * pmx_remote_write_start() on a running instance, and the [remote_write] / [push] options run
 * by pmx_start() / pmx_stop(). The push area itself only sees a render callback, so the area
 * graph stays runtime -> push -> core. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "push/push_internal.h"
#include "runtime/runtime_internal.h"

static int render_text(void *ctx, pmx_buf_t *out) {
  return pmx_get_metrics(ctx, PMX_FORMAT_TEXT, out);
}

/* Counts a push in push_requests_total{method,result}, when the instance runs (its registry
 * lives as long as it runs; a push on a stopped instance only happens for DELETE). */
static int count_push(pmx_t *p, pmx_push_method_t method, int rc) {
  static const char *const methods[] = {"put", "post", "delete"};
  const char *v[] = {methods[(unsigned)method <= PMX_PUSH_DELETE ? method : 0],
                     rc == PMX_OK ? "ok" : "error"};
  pthread_rwlock_rdlock(&p->lock);
  pmx_series_t *s;
  if (atomic_load(&p->running) && pmx_metric_labels(p->own.push_requests, v, 2, &s) == PMX_OK)
    pmx_series_inc(s);
  pthread_rwlock_unlock(&p->lock);
  return rc;
}

static int push_uncounted(pmx_t *p, const pmx_push_target_t *t, pmx_push_method_t method,
                          pmx_error_t *err) {
  if (method == PMX_PUSH_DELETE) return pmx_push_text(NULL, 0, t, method, err);
  int rc = pmx__push_check_target(t, err);
  if (rc != PMX_OK) return rc;
  pmx_buf_t body = {0};
  rc = render_text(p, &body);
  if (rc != PMX_OK) {
    pmx_buf_free(&body);
    return pmx__fail(err, rc, "push", "cannot render the metrics: %s", pmx_strerror(rc));
  }
  rc = pmx_push_text(body.data, body.len, t, method, err);
  pmx_buf_free(&body);
  return rc;
}

int pmx_push(pmx_t *p, const pmx_push_target_t *t, pmx_push_method_t method, pmx_error_t *err) {
  if (!p) return pmx__fail(err, PMX_EINVAL, "push", "p must not be NULL");
  return count_push(p, method, push_uncounted(p, t, method, err));
}

/* The url label of a writer's own metrics: its URL without user:password@ (credentials stay out
 * of the exposition) and without the query string. */
static void url_label(const char *url, char *out, size_t cap) {
  const char *host = strstr(url, "://");
  host = host ? host + 3 : url;
  size_t scheme = (size_t)(host - url);
  size_t path_at = strcspn(host, "/?#");
  const char *at = memchr(host, '@', path_at);
  const char *rest = at ? at + 1 : host;
  snprintf(out, cap, "%.*s%.*s", (int)scheme, url, (int)strcspn(rest, "?#"), rest);
}

/* What a writer's reports need: the instance and the writer's url label. */
typedef struct rw_report_ctx {
  pmx_t *p;
  char url[512];
} rw_report_ctx_t;

/* Adds `by`, creating the series at 0 on the first report so that every count shows (and
 * rate() works) before it first moves. */
static void count(pmx_metric_t *m, const char *const *values, size_t n, uint64_t by) {
  pmx_series_t *s;
  if (pmx_metric_labels(m, values, n, &s) == PMX_OK && by > 0) pmx_series_add(s, (double)by);
}

static void gauge(pmx_metric_t *m, const char *url, double v) {
  pmx_series_t *s;
  if (pmx_metric_labels(m, &url, 1, &s) == PMX_OK) pmx_series_set(s, v);
}

/* A writer's progress into the own metrics. Looked up through the instance each time, under its
 * lock and only while it runs: a writer that outlives pmx_stop() (or runs across a restart)
 * never touches a freed registry. */
static void rw_report(void *ctx, const pmx_remote_write_stats_t *inc, size_t queued,
                      bool accepted) {
  rw_report_ctx_t *c = ctx;
  pmx_t *p = c->p;
  pthread_rwlock_rdlock(&p->lock);
  if (atomic_load(&p->running)) {
    const pmx__own_metrics_t *o = &p->own;
    const char *u[] = {c->url};
    const char *queue_full[] = {c->url, "queue_full"}, *rejected[] = {c->url, "rejected"},
               *stopped[] = {c->url, "stopped"};
    count(o->rw_sent, u, 1, inc->samples_sent);
    count(o->rw_dropped, queue_full, 2, inc->samples_dropped_queue);
    count(o->rw_dropped, rejected, 2, inc->samples_dropped_rejected);
    count(o->rw_dropped, stopped, 2, inc->samples_dropped_stopped);
    count(o->rw_failed, u, 1, inc->requests_failed);
    gauge(o->rw_queue, c->url, (double)queued);
    if (accepted) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      gauge(o->rw_last_success, c->url, (double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
    }
  }
  pthread_rwlock_unlock(&p->lock);
}

/* Starts a writer that reports into the instance's own metrics. */
static int rw_start(pmx_t *p, const pmx_remote_write_config_t *cfg, pmx_remote_writer_t **out,
                    pmx_error_t *err) {
  rw_report_ctx_t *c = pmx__calloc(1, sizeof *c);
  if (c == NULL) {
    if (out) *out = NULL;
    return pmx__fail(err, PMX_ENOMEM, "remote_write", "out of memory");
  }
  c->p = p;
  url_label(cfg != NULL && cfg->url != NULL ? cfg->url : "", c->url, sizeof c->url);
  pmx__rw_reporter_t r = {rw_report, pmx__free, c};
  return pmx__rw_start(cfg, render_text, p, &r, out, err);
}

int pmx_remote_write_start(pmx_t *p, const pmx_remote_write_config_t *cfg,
                           pmx_remote_writer_t **out, pmx_error_t *err) {
  if (!p) return pmx__fail(err, PMX_EINVAL, "remote_write", "p must not be NULL");
  if (!pmx_running(p)) {
    if (out) *out = NULL;
    return pmx__fail(err, PMX_ESTOPPED, "remote_write", "promex is not running");
  }
  return rw_start(p, cfg, out, err);
}

int pmx__rt_push_start(pmx_t *p, pmx_error_t *err) {
  const pmx_remote_write_options_t *o = &p->cfg.remote_write;
  if (o->url == NULL || o->url[0] == '\0') return PMX_OK;
  pmx_remote_write_config_t c = {.url = o->url, .username = o->username, .password = o->password,
                                 .bearer_token = o->bearer_token, .interval_ms = o->interval_ms,
                                 .queue_samples = o->queue_samples, .timeout_ms = o->timeout_ms};
  return rw_start(p, &c, &p->remote_writer, err);
}

void pmx__rt_push_on_stop(pmx_t *p) {
  /* Still running: the writer's last round and the push both render the live registry. */
  pmx_remote_write_stop(p->remote_writer);
  p->remote_writer = NULL;
  const pmx_push_options_t *o = &p->cfg.push;
  if (o->url == NULL || o->url[0] == '\0') return;
  pmx_push_target_t t = {.url = o->url, .job = o->job ? o->job : p->cfg.app,
                         .username = o->username, .password = o->password,
                         .bearer_token = o->bearer_token, .timeout_ms = o->timeout_ms};
  pmx_error_t err;
  if (pmx_push(p, &t, PMX_PUSH_PUT, &err) != PMX_OK)
    pmx_log(p, PMX_LOG_WARN, "push on stop failed: %s", err.text);
  else
    pmx_log(p, PMX_LOG_INFO, "pushed the metrics to %s (job %s)", t.url, t.job);
}
