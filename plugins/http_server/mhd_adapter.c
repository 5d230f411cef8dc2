/* The libmicrohttpd adapter (include/promex/http_mhd.h): wraps the application's access handler
 * to start a span on the first call of each request, and ends the span from libmicrohttpd's
 * completion callback.
 *
 * Per-request state lives in the access handler's req_cls slot. It is taken from a per-thread
 * free list (no lock, no allocation after warm-up) and given back on completion. A state may be
 * returned on another thread than the one that took it (a daemon stopped from the main thread
 * completes its connections there); that only moves it between lists. Nothing is allocated on the
 * URI-log path: libmicrohttpd calls the completion callback only for requests that reached the
 * access handler, so state taken earlier could leak. */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_server_internal.h"
#include "internal.h"
#include "promex/http_mhd.h"

#define PATH_CAP 512
#define FREE_LIST_MAX 64
#define NAME_CAP 256

struct pmx_http_mhd {
  pmx_bus_t *bus;
  MHD_AccessHandlerCallback handler;
  void *handler_cls;
  MHD_RequestCompletedCallback completed;
  void *completed_cls;
  pmx_span_events_t span;
  pmx_event_t *endpoint_ev;
  char host[NAME_CAP], endpoint[NAME_CAP], scheme[16];
  struct MHD_OptionItem options[2];
};

typedef struct req {
  struct req *next; /* free list */
  struct MHD_Connection *conn;
  pmx_span_t span;
  const char *method;   /* bounded label (static string) */
  const char *route;    /* from pmx_http_mhd_set_route, or NULL */
  uint64_t request_bytes;
  int64_t response_bytes; /* -1: unknown */
  unsigned status;
  bool path_ok;
  void *app_req_cls;      /* the application's own req_cls slot */
  char path[PATH_CAP];
} req_t;

/* ---- per-thread free list ---------------------------------------------------------------- */

typedef struct req_cache {
  req_t *head;
  unsigned n;
  bool registered;
} req_cache_t;

static _Thread_local req_cache_t tl_cache;
static _Thread_local req_t *tl_current; /* the request whose handler runs on this thread */
static pthread_key_t g_key;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static bool g_key_ok;

static void cache_drain(void *p) {
  req_cache_t *c = p;
  while (c->head != NULL) {
    req_t *r = c->head;
    c->head = r->next;
    pmx__free(r);
  }
  c->n = 0;
}

static void key_init(void) { g_key_ok = pthread_key_create(&g_key, cache_drain) == 0; }

static req_t *req_get(void) {
  req_cache_t *c = &tl_cache;
  req_t *r = c->head;
  if (r != NULL) {
    c->head = r->next;
    c->n--;
    return r;
  }
  return pmx__malloc(sizeof *r);
}

static void req_put(req_t *r) {
  req_cache_t *c = &tl_cache;
  if (!c->registered) {
    /* Registers the destructor that frees this thread's list when the thread exits. */
    pthread_once(&g_once, key_init);
    c->registered = g_key_ok && pthread_setspecific(g_key, c) == 0;
  }
  if (!c->registered || c->n >= FREE_LIST_MAX) {
    pmx__free(r);
    return;
  }
  r->next = c->head;
  c->head = r;
  c->n++;
}

/* ---- lifecycle --------------------------------------------------------------------------- */

static void completed_cb(void *cls, struct MHD_Connection *c, void **req_cls,
                         enum MHD_RequestTerminationCode toe);

static int copy_name(char *dst, size_t cap, const char *src, const char *dflt, const char *what,
                     pmx_error_t *err) {
  const char *v = src != NULL ? src : dflt;
  if (strlen(v) >= cap)
    return pmx__fail(err, PMX_EINVAL, "http_mhd", "pmx_http_mhd_new: %s longer than %zu bytes",
                     what, cap - 1);
  memcpy(dst, v, strlen(v) + 1);
  return PMX_OK;
}

int pmx_http_mhd_new(const pmx_http_mhd_config_t *cfg, pmx_http_mhd_t **out, pmx_error_t *err) {
  if (out != NULL) *out = NULL;
  if (cfg == NULL || out == NULL || cfg->bus == NULL || cfg->handler == NULL)
    return pmx__fail(err, PMX_EINVAL, "http_mhd",
                     "pmx_http_mhd_new: cfg, out, cfg->bus and cfg->handler are required");
  pmx_http_mhd_t *ins = pmx__calloc(1, sizeof *ins);
  if (ins == NULL) return pmx__fail(err, PMX_ENOMEM, "http_mhd", "out of memory");
  int rc;
  if ((rc = copy_name(ins->host, sizeof ins->host, cfg->host, "default", "host", err)) ||
      (rc = copy_name(ins->endpoint, sizeof ins->endpoint, cfg->endpoint, "http", "endpoint",
                      err)) ||
      (rc = copy_name(ins->scheme, sizeof ins->scheme, cfg->scheme, "http", "scheme", err))) {
    pmx__free(ins);
    return rc;
  }
  const char *prefix = cfg->event_prefix ? cfg->event_prefix : PMX_HTTP_SERVER_EVENT_PREFIX;
  char name[NAME_CAP + 32];
  int n1 = snprintf(name, sizeof name, "%s.request", prefix);
  if (n1 < 0 || (size_t)n1 >= sizeof name || strlen(prefix) > NAME_CAP ||
      pmx_span_events(cfg->bus, name, &ins->span) != PMX_OK) {
    pmx__free(ins);
    return pmx__fail(err, PMX_EINVAL, "http_mhd",
                     "pmx_http_mhd_new: event_prefix \"%s\" is not a valid event name prefix",
                     prefix);
  }
  snprintf(name, sizeof name, "%s.endpoint", prefix);
  if ((rc = pmx_bus_event(cfg->bus, name, &ins->endpoint_ev)) != PMX_OK) {
    pmx__free(ins);
    return pmx__fail(err, rc, "http_mhd", "pmx_http_mhd_new: %s", pmx_strerror(rc));
  }
  ins->bus = cfg->bus;
  ins->handler = cfg->handler;
  ins->handler_cls = cfg->handler_cls;
  ins->completed = cfg->completed;
  ins->completed_cls = cfg->completed_cls;
  ins->options[0] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED,
                                            (intptr_t)(void (*)(void))completed_cb, ins};
  ins->options[1] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
  *out = ins;
  return PMX_OK;
}

void pmx_http_mhd_free(pmx_http_mhd_t *ins) { pmx__free(ins); }

const struct MHD_OptionItem *pmx_http_mhd_options(const pmx_http_mhd_t *ins) {
  return ins != NULL ? ins->options : NULL;
}

/* ---- per request ------------------------------------------------------------------------- */

/* Request metadata for start/stop/exception: method, host, scheme, then path and route when
 * known. Returns the count written to md (capacity 6). */
static size_t req_meta(const pmx_http_mhd_t *ins, const req_t *r, pmx_meta_t *md) {
  size_t n = 0;
  md[n++] = PMX_META_S("method", r->method);
  md[n++] = PMX_META_S("host", ins->host);
  md[n++] = PMX_META_S("scheme", ins->scheme);
  if (r->path_ok) md[n++] = PMX_META_S("path", r->path);
  if (r->route != NULL) md[n++] = PMX_META_S("route", r->route);
  return n;
}

static void req_begin(const pmx_http_mhd_t *ins, req_t *r, struct MHD_Connection *c,
                      const char *url, const char *method) {
  memset(r, 0, offsetof(req_t, path));
  r->conn = c;
  r->method = pmx__http_method_label(method);
  r->response_bytes = -1;
  size_t len = url ? strcspn(url, "?#") : 0;
  r->path_ok = url != NULL && len < PATH_CAP;
  if (r->path_ok) {
    memcpy(r->path, url, len);
    r->path[len] = '\0';
  }
  pmx_meta_t md[6];
  pmx_span_start(&r->span, &ins->span, md, req_meta(ins, r, md));
}

enum MHD_Result pmx_http_mhd_access(void *cls, struct MHD_Connection *connection, const char *url,
                                    const char *method, const char *version,
                                    const char *upload_data, size_t *upload_data_size,
                                    void **req_cls) {
  pmx_http_mhd_t *ins = cls;
  req_t *r = *req_cls;
  if (r == NULL) {
    r = req_get();
    if (r == NULL) return MHD_NO; /* out of memory: libmicrohttpd closes the connection */
    req_begin(ins, r, connection, url, method);
    *req_cls = r;
  }
  size_t before = upload_data_size ? *upload_data_size : 0;
  req_t *outer = tl_current;
  tl_current = r;
  enum MHD_Result rc = ins->handler(ins->handler_cls, connection, url, method, version,
                                    upload_data, upload_data_size, &r->app_req_cls);
  tl_current = outer;
  if (upload_data_size != NULL && *upload_data_size <= before)
    r->request_bytes += before - *upload_data_size;
  if (r->status == 0) {
    /* Read the status right after the handler queued it: the completion callback may run when
     * the connection was already prepared for its next request. */
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_HTTP_STATUS);
    if (ci != NULL) r->status = ci->http_status;
  }
  return rc;
}

static const char *termination_kind(enum MHD_RequestTerminationCode toe, const char **reason) {
  switch (toe) {
    case MHD_REQUEST_TERMINATED_CLIENT_ABORT:
      *reason = "client aborted";
      return "client_abort";
    case MHD_REQUEST_TERMINATED_READ_ERROR:
      *reason = "read error: the client closed the connection early";
      return "client_abort";
    case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED:
      *reason = "connection timeout";
      return "timeout";
    case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN:
      *reason = "daemon shutdown";
      return "shutdown";
    default:
      *reason = "error while handling the request";
      return "error";
  }
}

static void completed_cb(void *cls, struct MHD_Connection *c, void **req_cls,
                         enum MHD_RequestTerminationCode toe) {
  pmx_http_mhd_t *ins = cls;
  req_t *r = req_cls ? *req_cls : NULL;
  if (ins->completed != NULL)
    ins->completed(ins->completed_cls, c, r != NULL ? &r->app_req_cls : req_cls, toe);
  if (r == NULL) return;
  if (r->status == 0) {
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_HTTP_STATUS);
    if (ci != NULL) r->status = ci->http_status;
  }
  pmx_meta_t md[8];
  size_t n = req_meta(ins, r, md);
  if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK) {
    md[n++] = PMX_META_I("status", (int64_t)r->status);
    pmx_measurement_t extra[2];
    size_t ne = 0;
    extra[ne++] = PMX_M("request_size", (double)r->request_bytes);
    if (r->response_bytes >= 0) extra[ne++] = PMX_M("response_size", (double)r->response_bytes);
    pmx_span_stop(&r->span, extra, ne, md, n);
  } else {
    if (r->status != 0) md[n++] = PMX_META_I("status", (int64_t)r->status);
    const char *reason = NULL;
    const char *kind = termination_kind(toe, &reason);
    pmx_span_exception(&r->span, kind, reason, md, n);
  }
  *req_cls = NULL;
  req_put(r);
}

/* ---- helpers for handlers ----------------------------------------------------------------- */

enum MHD_Result pmx_http_mhd_queue_response(struct MHD_Connection *connection, unsigned int status,
                                            struct MHD_Response *response, uint64_t body_size) {
  enum MHD_Result rc = MHD_queue_response(connection, status, response);
  req_t *r = tl_current;
  if (rc == MHD_YES && r != NULL && r->conn == connection) {
    r->response_bytes = (int64_t)body_size;
    r->status = status;
  }
  return rc;
}

void pmx_http_mhd_set_route(struct MHD_Connection *connection, const char *route) {
  req_t *r = tl_current;
  if (r != NULL && r->conn == connection) r->route = route;
}

int pmx_http_mhd_announce(pmx_http_mhd_t *ins, struct MHD_Daemon *d, const char *url_host) {
  if (ins == NULL || d == NULL || url_host == NULL) return PMX_EINVAL;
  const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
  if (di == NULL || di->port == 0) return PMX_EINVAL;
  char url[NAME_CAP + 64];
  snprintf(url, sizeof url, "%s://%s:%u", ins->scheme, url_host, (unsigned)di->port);
  pmx_meta_t md[] = {PMX_META_S("endpoint", ins->endpoint), PMX_META_S("url", url),
                     PMX_META_I("port", di->port)};
  int rc = pmx_emit(ins->endpoint_ev, NULL, 0, md, 3);
  return rc < 0 ? rc : PMX_OK;
}
