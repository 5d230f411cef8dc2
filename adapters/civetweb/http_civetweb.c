/* The CivetWeb adapter (include/promex/http_civetweb.h), its own library promex_civetweb.
 *
 * CivetWeb's callbacks carry no argument of ours, so the adapter finds its instance from the
 * connection's context in a small table (written when a server starts, read without a lock). A
 * request's begin_request, handler and end_request run on one worker thread, which handles one
 * connection at a time: the request state is a thread-local slot, and nothing is allocated. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promex/http_civetweb.h"
#include "promex/plugins/http_server.h"

#define PATH_CAP 512
#define NAME_CAP 256
#define MAX_SERVERS 16

struct pmx_http_civetweb {
  pmx_span_events_t span;
  pmx_event_t *endpoint_ev;
  char host[NAME_CAP], endpoint[NAME_CAP], scheme[16];
  struct mg_callbacks app; /* the application's callbacks */
  struct mg_context *ctx;
  int slot;
};

typedef struct req {
  bool active;
  const pmx_http_civetweb_t *ins;
  const struct mg_connection *conn;
  pmx_span_t span;
  const char *method;
  const char *route;
  double request_bytes;
  bool has_request_bytes;
  bool path_ok;
  char path[PATH_CAP];
} req_t;

static _Thread_local req_t tl_req;

/* Servers started through an adapter: context -> instance. g_starting is the instance whose
 * mg_start() is running (its context is not known yet), serialised by g_start_lock. */
static _Atomic(struct mg_context *) g_ctx[MAX_SERVERS];
static _Atomic(pmx_http_civetweb_t *) g_ins[MAX_SERVERS];
static _Atomic(pmx_http_civetweb_t *) g_starting;
static pthread_mutex_t g_start_lock = PTHREAD_MUTEX_INITIALIZER;

static pmx_http_civetweb_t *lookup(const struct mg_connection *conn) {
  struct mg_context *ctx = mg_get_context(conn);
  for (int i = 0; i < MAX_SERVERS; i++)
    if (atomic_load(&g_ctx[i]) == ctx) return atomic_load(&g_ins[i]);
  return atomic_load(&g_starting);
}

static const char *method_label(const char *m) {
  static const char *const known[] = {"GET", "HEAD", "POST", "PUT", "DELETE",
                                      "PATCH", "OPTIONS", "CONNECT", "TRACE"};
  for (size_t i = 0; m != NULL && i < sizeof known / sizeof known[0]; i++)
    if (strcmp(m, known[i]) == 0) return known[i];
  return "OTHER";
}

static size_t req_meta(const req_t *r, pmx_meta_t *md) {
  size_t n = 0;
  md[n++] = PMX_META_S("method", r->method);
  md[n++] = PMX_META_S("host", r->ins->host);
  md[n++] = PMX_META_S("scheme", r->ins->scheme);
  if (r->path_ok) md[n++] = PMX_META_S("path", r->path);
  if (r->route != NULL) md[n++] = PMX_META_S("route", r->route);
  return n;
}

static int begin_request(struct mg_connection *conn) {
  pmx_http_civetweb_t *ins = lookup(conn);
  if (ins == NULL) return 0;
  req_t *r = &tl_req;
  const struct mg_request_info *ri = mg_get_request_info(conn);
  memset(r, 0, offsetof(req_t, path));
  r->ins = ins;
  r->conn = conn;
  r->method = method_label(ri ? ri->request_method : NULL);
  const char *uri = ri ? (ri->local_uri_raw ? ri->local_uri_raw : ri->request_uri) : NULL;
  size_t len = uri != NULL ? strcspn(uri, "?#") : 0;
  r->path_ok = uri != NULL && len < PATH_CAP;
  if (r->path_ok) {
    memcpy(r->path, uri, len);
    r->path[len] = '\0';
  }
  if (ri != NULL && ri->content_length >= 0) {
    r->request_bytes = (double)ri->content_length;
    r->has_request_bytes = true;
  }
  pmx_meta_t md[8];
  pmx_span_start(&r->span, &ins->span, md, req_meta(r, md));
  r->active = true;
  return ins->app.begin_request != NULL ? ins->app.begin_request(conn) : 0;
}

static void end_request(const struct mg_connection *conn, int status) {
  pmx_http_civetweb_t *ins = lookup(conn);
  if (ins == NULL) return;
  if (ins->app.end_request != NULL) ins->app.end_request(conn, status);
  req_t *r = &tl_req;
  if (!r->active || r->conn != conn) return;
  r->active = false;
  pmx_meta_t md[8];
  size_t n = req_meta(r, md);
  md[n++] = PMX_META_I("status", status);
  pmx_measurement_t extra[1];
  size_t ne = 0;
  if (r->has_request_bytes) extra[ne++] = PMX_M("request_size", r->request_bytes);
  pmx_span_stop(&r->span, extra, ne, md, n);
}

static void connection_close(const struct mg_connection *conn) {
  pmx_http_civetweb_t *ins = lookup(conn);
  if (ins == NULL) return;
  req_t *r = &tl_req;
  if (r->active && r->conn == conn) { /* closed between begin_request and end_request */
    r->active = false;
    pmx_meta_t md[8];
    pmx_span_exception(&r->span, "client_abort", "connection closed before the request ended", md,
                       req_meta(r, md));
  }
  if (ins->app.connection_close != NULL) ins->app.connection_close(conn);
}

/* ---- lifecycle --------------------------------------------------------------------------- */

static int fail(pmx_error_t *err, int code, const char *msg) {
  if (err != NULL) {
    memset(err, 0, sizeof *err);
    err->code = code;
    snprintf(err->text, sizeof err->text, "pmx_http_civetweb_new: %s", msg);
  }
  return code;
}

static bool copy_name(char *dst, size_t cap, const char *src, const char *dflt) {
  const char *v = src ? src : dflt;
  if (strlen(v) >= cap) return false;
  memcpy(dst, v, strlen(v) + 1);
  return true;
}

int pmx_http_civetweb_new(const pmx_http_civetweb_config_t *cfg, pmx_http_civetweb_t **out,
                          pmx_error_t *err) {
  if (out != NULL) *out = NULL;
  if (cfg == NULL || out == NULL || cfg->bus == NULL)
    return fail(err, PMX_EINVAL, "cfg, out and cfg->bus are required");
  pmx_http_civetweb_t *ins = calloc(1, sizeof *ins);
  if (ins == NULL) return fail(err, PMX_ENOMEM, "out of memory");
  ins->slot = -1;
  const char *prefix = cfg->event_prefix ? cfg->event_prefix : PMX_HTTP_SERVER_EVENT_PREFIX;
  if (!copy_name(ins->host, sizeof ins->host, cfg->host, "default") ||
      !copy_name(ins->endpoint, sizeof ins->endpoint, cfg->endpoint, "http") ||
      !copy_name(ins->scheme, sizeof ins->scheme, cfg->scheme, "http") ||
      strlen(prefix) > NAME_CAP) {
    free(ins);
    return fail(err, PMX_EINVAL, "host, endpoint, scheme or event_prefix too long");
  }
  char name[NAME_CAP + 32];
  snprintf(name, sizeof name, "%s.request", prefix);
  int rc = pmx_span_events(cfg->bus, name, &ins->span);
  if (rc == PMX_OK) {
    snprintf(name, sizeof name, "%s.endpoint", prefix);
    rc = pmx_bus_event(cfg->bus, name, &ins->endpoint_ev);
  }
  if (rc != PMX_OK) {
    free(ins);
    return fail(err, rc, "event_prefix is not a valid event name prefix");
  }
  *out = ins;
  return PMX_OK;
}

void pmx_http_civetweb_free(pmx_http_civetweb_t *ins) {
  if (ins == NULL) return;
  if (ins->slot >= 0) {
    atomic_store(&g_ctx[ins->slot], NULL);
    atomic_store(&g_ins[ins->slot], NULL);
  }
  free(ins);
}

struct mg_context *pmx_http_civetweb_start(pmx_http_civetweb_t *ins,
                                           const struct mg_callbacks *callbacks, void *user_data,
                                           const char **options) {
  if (ins == NULL || ins->ctx != NULL) return NULL;
  pthread_mutex_lock(&g_start_lock);
  int slot = -1;
  for (int i = 0; i < MAX_SERVERS && slot < 0; i++)
    if (atomic_load(&g_ins[i]) == NULL) slot = i;
  struct mg_context *ctx = NULL;
  if (slot >= 0) {
    if (callbacks != NULL) ins->app = *callbacks;
    struct mg_callbacks cb = ins->app;
    cb.begin_request = begin_request;
    cb.end_request = end_request;
    cb.connection_close = connection_close;
    atomic_store(&g_starting, ins);
    ctx = mg_start(&cb, user_data, options);
    if (ctx != NULL) {
      atomic_store(&g_ins[slot], ins);
      atomic_store(&g_ctx[slot], ctx);
      ins->slot = slot;
      ins->ctx = ctx;
    }
    atomic_store(&g_starting, NULL);
  }
  pthread_mutex_unlock(&g_start_lock);
  return ctx;
}

void pmx_http_civetweb_set_route(const struct mg_connection *conn, const char *route) {
  if (tl_req.active && tl_req.conn == conn) tl_req.route = route;
}

int pmx_http_civetweb_announce(pmx_http_civetweb_t *ins, struct mg_context *ctx,
                               const char *url_host) {
  if (ins == NULL || ctx == NULL || url_host == NULL) return PMX_EINVAL;
  struct mg_server_port ports[8];
  int n = mg_get_server_ports(ctx, 8, ports);
  if (n <= 0) return PMX_EINVAL;
  for (int i = 0; i < n; i++) {
    char url[NAME_CAP + 64];
    snprintf(url, sizeof url, "%s://%s:%d", ports[i].is_ssl ? "https" : ins->scheme, url_host,
             ports[i].port);
    pmx_meta_t md[] = {PMX_META_S("endpoint", ins->endpoint), PMX_META_S("url", url),
                       PMX_META_I("port", ports[i].port)};
    pmx_emit(ins->endpoint_ev, NULL, 0, md, 3);
  }
  return PMX_OK;
}

/* ---- /metrics ---------------------------------------------------------------------------- */

int pmx_http_civetweb_metrics(struct mg_connection *conn, void *cbdata) {
  const pmx_metrics_endpoint_t *ep = cbdata;
  const struct mg_request_info *ri = mg_get_request_info(conn);
  const char *cl = mg_get_header(conn, "Content-Length");
  bool has_body = mg_get_header(conn, "Transfer-Encoding") != NULL ||
                  (cl != NULL && strspn(cl, "0") != strlen(cl));
  pmx_metrics_answer_t a;
  if (ri == NULL ||
      pmx_metrics_answer(ep, ri->request_method, has_body, mg_get_header(conn, "Authorization"),
                         mg_get_header(conn, "Accept"), mg_get_header(conn, "Accept-Encoding"),
                         &a) != PMX_OK) {
    mg_send_http_error(conn, 500, "%s", "metrics could not be rendered\n");
    return 500;
  }
  mg_response_header_start(conn, (int)a.status);
  mg_response_header_add(conn, "Content-Type", a.content_type, -1);
  mg_response_header_add(conn, "Cache-Control", "no-store", -1);
  if (a.status == 200) mg_response_header_add(conn, "Vary", "Accept, Accept-Encoding", -1);
  if (a.content_encoding != NULL)
    mg_response_header_add(conn, "Content-Encoding", a.content_encoding, -1);
  if (a.header_name != NULL) mg_response_header_add(conn, a.header_name, a.header_value, -1);
  char len[32];
  snprintf(len, sizeof len, "%zu", a.body.len);
  mg_response_header_add(conn, "Content-Length", len, -1);
  mg_response_header_send(conn);
  if (strcmp(ri->request_method, "HEAD") != 0 && a.body.len > 0)
    mg_write(conn, a.body.data, a.body.len);
  pmx_buf_free(&a.body);
  return (int)a.status;
}
