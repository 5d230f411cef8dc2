/* The libevent evhttp adapter (include/promex/http_evhttp.h). Built as its own library,
 * promex_evhttp, so that libpromex does not depend on libevent.
 *
 * A wrapper object per registered callback (allocated at registration, not per request) carries
 * the application's callback, its argument and the route. Per request, state comes from a
 * per-thread free list and is handed back by whichever of the two endings comes first: the
 * request's on-complete callback (reply written: stop) or the connection's close callback
 * (connection gone before that: exception). The other ending is then disarmed, so each start has
 * exactly one end. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>

#include "promex/http_evhttp.h"
#include "promex/plugins/http_server.h"

#define PATH_CAP 512
#define NAME_CAP 256
#define FREE_LIST_MAX 64

typedef struct wrap {
  struct wrap *next;
  pmx_http_evhttp_t *ins;
  pmx_evhttp_cb cb;
  void *arg;
  char *route; /* NULL for the generic callback */
} wrap_t;

struct pmx_http_evhttp {
  pmx_span_events_t span;
  pmx_event_t *endpoint_ev;
  char host[NAME_CAP], endpoint[NAME_CAP], scheme[16];
  wrap_t *wraps;
};

typedef struct req {
  struct req *next;
  const pmx_http_evhttp_t *ins;
  struct evhttp_request *req;
  struct evhttp_connection *evcon;
  pmx_span_t span;
  const char *method;
  const char *route;
  double request_bytes;
  bool path_ok;
  char path[PATH_CAP];
} req_t;

/* ---- per-thread free list (see mhd_adapter.c for the same scheme) ----------------------- */

typedef struct req_cache {
  req_t *head;
  unsigned n;
  bool registered;
} req_cache_t;

static _Thread_local req_cache_t tl_cache;
static _Thread_local req_t *tl_current;
static pthread_key_t g_key;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static bool g_key_ok;

static void cache_drain(void *p) {
  req_cache_t *c = p;
  while (c->head != NULL) {
    req_t *r = c->head;
    c->head = r->next;
    free(r);
  }
  c->n = 0;
}

static void key_init(void) { g_key_ok = pthread_key_create(&g_key, cache_drain) == 0; }

static req_t *req_get(void) {
  req_t *r = tl_cache.head;
  if (r != NULL) {
    tl_cache.head = r->next;
    tl_cache.n--;
    return r;
  }
  return malloc(sizeof *r);
}

static void req_put(req_t *r) {
  req_cache_t *c = &tl_cache;
  if (!c->registered) {
    pthread_once(&g_once, key_init);
    c->registered = g_key_ok && pthread_setspecific(g_key, c) == 0;
  }
  if (!c->registered || c->n >= FREE_LIST_MAX) {
    free(r);
    return;
  }
  r->next = c->head;
  c->head = r;
  c->n++;
}

/* ---- lifecycle --------------------------------------------------------------------------- */

static int fail(pmx_error_t *err, int code, const char *msg) {
  if (err != NULL) {
    memset(err, 0, sizeof *err);
    err->code = code;
    snprintf(err->text, sizeof err->text, "pmx_http_evhttp_new: %s", msg);
  }
  return code;
}

static bool copy_name(char *dst, size_t cap, const char *src, const char *dflt) {
  const char *v = src ? src : dflt;
  if (strlen(v) >= cap) return false;
  memcpy(dst, v, strlen(v) + 1);
  return true;
}

int pmx_http_evhttp_new(const pmx_http_evhttp_config_t *cfg, pmx_http_evhttp_t **out,
                        pmx_error_t *err) {
  if (out != NULL) *out = NULL;
  if (cfg == NULL || out == NULL || cfg->bus == NULL)
    return fail(err, PMX_EINVAL, "cfg, out and cfg->bus are required");
  pmx_http_evhttp_t *ins = calloc(1, sizeof *ins);
  if (ins == NULL) return fail(err, PMX_ENOMEM, "out of memory");
  if (!copy_name(ins->host, sizeof ins->host, cfg->host, "default") ||
      !copy_name(ins->endpoint, sizeof ins->endpoint, cfg->endpoint, "http") ||
      !copy_name(ins->scheme, sizeof ins->scheme, cfg->scheme, "http")) {
    free(ins);
    return fail(err, PMX_EINVAL, "host, endpoint or scheme too long");
  }
  const char *prefix = cfg->event_prefix ? cfg->event_prefix : PMX_HTTP_SERVER_EVENT_PREFIX;
  char name[NAME_CAP + 32];
  if (strlen(prefix) > NAME_CAP) {
    free(ins);
    return fail(err, PMX_EINVAL, "event_prefix too long");
  }
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

void pmx_http_evhttp_free(pmx_http_evhttp_t *ins) {
  if (ins == NULL) return;
  while (ins->wraps != NULL) {
    wrap_t *w = ins->wraps;
    ins->wraps = w->next;
    free(w->route);
    free(w);
  }
  free(ins);
}

/* ---- per request ------------------------------------------------------------------------- */

static const char *method_name(enum evhttp_cmd_type c) {
  switch (c) {
    case EVHTTP_REQ_GET: return "GET";
    case EVHTTP_REQ_POST: return "POST";
    case EVHTTP_REQ_HEAD: return "HEAD";
    case EVHTTP_REQ_PUT: return "PUT";
    case EVHTTP_REQ_DELETE: return "DELETE";
    case EVHTTP_REQ_OPTIONS: return "OPTIONS";
    case EVHTTP_REQ_TRACE: return "TRACE";
    case EVHTTP_REQ_CONNECT: return "CONNECT";
    case EVHTTP_REQ_PATCH: return "PATCH";
  }
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

static void on_complete(struct evhttp_request *req, void *arg) {
  req_t *r = arg;
  if (r->evcon != NULL) evhttp_connection_set_closecb(r->evcon, NULL, NULL);
  pmx_meta_t md[8];
  size_t n = req_meta(r, md);
  md[n++] = PMX_META_I("status", evhttp_request_get_response_code(req));
  pmx_measurement_t extra[2];
  size_t ne = 0;
  extra[ne++] = PMX_M("request_size", r->request_bytes);
  const char *cl = evhttp_find_header(evhttp_request_get_output_headers(req), "Content-Length");
  if (cl != NULL) {
    char *end = NULL;
    unsigned long long v = strtoull(cl, &end, 10);
    if (end != cl && *end == '\0') extra[ne++] = PMX_M("response_size", (double)v);
  }
  pmx_span_stop(&r->span, extra, ne, md, n);
  req_put(r);
}

static void on_close(struct evhttp_connection *evcon, void *arg) {
  req_t *r = arg;
  (void)evcon;
  /* Do not touch r->req here: libevent may already have freed it. It never calls the
   * on-complete callback of a request whose connection failed, so this is the only end. */
  pmx_meta_t md[8];
  size_t n = req_meta(r, md);
  pmx_span_exception(&r->span, "client_abort", "connection closed before the reply was sent", md,
                     n);
  req_put(r);
}

static void trampoline(struct evhttp_request *req, void *p) {
  wrap_t *w = p;
  req_t *r = req_get();
  if (r == NULL) { /* out of memory: serve the request unmeasured */
    w->cb(req, w->arg);
    return;
  }
  r->ins = w->ins;
  r->req = req;
  r->evcon = evhttp_request_get_connection(req);
  r->method = method_name(evhttp_request_get_command(req));
  r->route = w->route;
  struct evbuffer *in = evhttp_request_get_input_buffer(req);
  r->request_bytes = in != NULL ? (double)evbuffer_get_length(in) : 0;
  const char *uri = evhttp_request_get_uri(req);
  size_t len = uri != NULL ? strcspn(uri, "?#") : 0;
  r->path_ok = uri != NULL && len < PATH_CAP;
  if (r->path_ok) {
    memcpy(r->path, uri, len);
    r->path[len] = '\0';
  }
  pmx_meta_t md[8];
  pmx_span_start(&r->span, &w->ins->span, md, req_meta(r, md));
  evhttp_request_set_on_complete_cb(req, on_complete, r);
  if (r->evcon != NULL) evhttp_connection_set_closecb(r->evcon, on_close, r);
  req_t *outer = tl_current;
  tl_current = r;
  w->cb(req, w->arg);
  tl_current = outer;
}

static wrap_t *wrap_new(pmx_http_evhttp_t *ins, pmx_evhttp_cb cb, void *arg, const char *route) {
  wrap_t *w = calloc(1, sizeof *w);
  if (w == NULL) return NULL;
  if (route != NULL && (w->route = strdup(route)) == NULL) {
    free(w);
    return NULL;
  }
  w->ins = ins;
  w->cb = cb;
  w->arg = arg;
  w->next = ins->wraps;
  ins->wraps = w;
  return w;
}

int pmx_http_evhttp_set_cb(pmx_http_evhttp_t *ins, struct evhttp *http, const char *path,
                           pmx_evhttp_cb cb, void *arg) {
  if (ins == NULL || http == NULL || path == NULL || cb == NULL) return PMX_EINVAL;
  wrap_t *w = wrap_new(ins, cb, arg, path);
  if (w == NULL) return PMX_ENOMEM;
  int rc = evhttp_set_cb(http, path, trampoline, w);
  return rc == 0 ? PMX_OK : rc == -1 ? PMX_EEXIST : PMX_ENOMEM;
}

int pmx_http_evhttp_set_gencb(pmx_http_evhttp_t *ins, struct evhttp *http, pmx_evhttp_cb cb,
                              void *arg) {
  if (ins == NULL || http == NULL || cb == NULL) return PMX_EINVAL;
  wrap_t *w = wrap_new(ins, cb, arg, NULL);
  if (w == NULL) return PMX_ENOMEM;
  evhttp_set_gencb(http, trampoline, w);
  return PMX_OK;
}

void pmx_http_evhttp_set_route(struct evhttp_request *req, const char *route) {
  req_t *r = tl_current;
  if (r != NULL && r->req == req) r->route = route;
}

int pmx_http_evhttp_announce(pmx_http_evhttp_t *ins, struct evhttp_bound_socket *s,
                             const char *url_host) {
  if (ins == NULL || s == NULL || url_host == NULL) return PMX_EINVAL;
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  if (getsockname(evhttp_bound_socket_get_fd(s), (struct sockaddr *)&ss, &sl) != 0)
    return PMX_EINVAL;
  unsigned port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                           : ntohs(((struct sockaddr_in *)&ss)->sin_port);
  char url[NAME_CAP + 64];
  snprintf(url, sizeof url, "%s://%s:%u", ins->scheme, url_host, port);
  pmx_meta_t md[] = {PMX_META_S("endpoint", ins->endpoint), PMX_META_S("url", url),
                     PMX_META_I("port", port)};
  int rc = pmx_emit(ins->endpoint_ev, NULL, 0, md, 3);
  return rc < 0 ? rc : PMX_OK;
}

/* ---- /metrics ---------------------------------------------------------------------------- */

static const char *reason(unsigned status) {
  switch (status) {
    case 200: return "OK";
    case 401: return "Unauthorized";
    case 405: return "Method Not Allowed";
    case 413: return "Content Too Large";
    case 503: return "Service Unavailable";
    default: return "Internal Server Error";
  }
}

void pmx_http_evhttp_metrics(struct evhttp_request *req, void *arg) {
  const pmx_metrics_endpoint_t *ep = arg;
  struct evkeyvalq *in = evhttp_request_get_input_headers(req);
  const char *cl = evhttp_find_header(in, "Content-Length");
  struct evbuffer *body_in = evhttp_request_get_input_buffer(req);
  bool has_body = evhttp_find_header(in, "Transfer-Encoding") != NULL ||
                  (cl != NULL && strspn(cl, "0") != strlen(cl)) ||
                  (body_in != NULL && evbuffer_get_length(body_in) > 0);
  pmx_metrics_answer_t a;
  if (pmx_metrics_answer(ep, method_name(evhttp_request_get_command(req)), has_body,
                         evhttp_find_header(in, "Authorization"), evhttp_find_header(in, "Accept"),
                         evhttp_find_header(in, "Accept-Encoding"), &a) != PMX_OK) {
    evhttp_send_error(req, 500, NULL);
    return;
  }
  struct evkeyvalq *out = evhttp_request_get_output_headers(req);
  evhttp_add_header(out, "Content-Type", a.content_type);
  evhttp_add_header(out, "Cache-Control", "no-store");
  if (a.status == 200) evhttp_add_header(out, "Vary", "Accept, Accept-Encoding");
  if (a.content_encoding != NULL) evhttp_add_header(out, "Content-Encoding", a.content_encoding);
  if (a.header_name != NULL) evhttp_add_header(out, a.header_name, a.header_value);
  struct evbuffer *b = evbuffer_new();
  if (b == NULL) {
    pmx_buf_free(&a.body);
    evhttp_send_error(req, 500, NULL);
    return;
  }
  if (a.body.len > 0) evbuffer_add(b, a.body.data, a.body.len);
  pmx_buf_free(&a.body);
  evhttp_send_reply(req, (int)a.status, reason(a.status), b);
  evbuffer_free(b);
}
