/* The instance side of the push area (include/promex/push.h, docs/push.md): pmx_push() and
 * pmx_remote_write_start() on a running instance, and the [remote_write] / [push] options run
 * by pmx_start() / pmx_stop(). The push area itself only sees a render callback, so the area
 * graph stays runtime -> push -> core. */
#include "internal.h"
#include "push/push_internal.h"
#include "runtime/runtime_internal.h"

static int render_text(void *ctx, pmx_buf_t *out) {
  return pmx_get_metrics(ctx, PMX_FORMAT_TEXT, out);
}

int pmx_push(pmx_t *p, const pmx_push_target_t *t, pmx_push_method_t method, pmx_error_t *err) {
  if (!p) return pmx__fail(err, PMX_EINVAL, "push", "p must not be NULL");
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

int pmx_remote_write_start(pmx_t *p, const pmx_remote_write_config_t *cfg,
                           pmx_remote_writer_t **out, pmx_error_t *err) {
  if (!p) return pmx__fail(err, PMX_EINVAL, "remote_write", "p must not be NULL");
  if (!pmx_running(p)) {
    if (out) *out = NULL;
    return pmx__fail(err, PMX_ESTOPPED, "remote_write", "promex is not running");
  }
  return pmx__rw_start(cfg, render_text, p, out, err);
}

int pmx__rt_push_start(pmx_t *p, pmx_error_t *err) {
  const pmx_remote_write_options_t *o = &p->cfg.remote_write;
  if (o->url == NULL || o->url[0] == '\0') return PMX_OK;
  pmx_remote_write_config_t c = {.url = o->url, .username = o->username, .password = o->password,
                                 .bearer_token = o->bearer_token, .interval_ms = o->interval_ms,
                                 .queue_samples = o->queue_samples, .timeout_ms = o->timeout_ms};
  return pmx__rw_start(&c, render_text, p, &p->remote_writer, err);
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
