/* The libevent evhttp adapter of the http_server plugin (library promex_evhttp, pkg-config
 * promex-evhttp; libevent >= 2.1): every request served through a wrapped callback emits the
 * http_server event contract (promex/plugins/http_server.h), and a ready /metrics callback serves
 * promex's metrics from the same evhttp server.
 *
 *   pmx_http_evhttp_config_t hc = {.bus = pmx_bus(p), .host = "api"};
 *   pmx_http_evhttp_t *ins;
 *   pmx_http_evhttp_new(&hc, &ins, &err);
 *   pmx_http_evhttp_set_cb(ins, http, "/users", users_cb, app);     // instead of evhttp_set_cb
 *   pmx_http_evhttp_set_gencb(ins, http, other_cb, app);            // instead of evhttp_set_gencb
 *   evhttp_set_cb(http, "/metrics", pmx_http_evhttp_metrics, &endpoint);  // optional
 *   pmx_http_evhttp_announce(ins, bound_socket, "127.0.0.1");
 *   ... event_base_dispatch ...; evhttp_free(http); pmx_http_evhttp_free(ins);
 *
 * Per request: P.request.start when the callback is called (libevent has read the whole request
 * by then: request_size is the body received); P.request.stop from
 * evhttp_request_set_on_complete_cb once the reply was written (status as sent, response_size from
 * the reply's Content-Length; chunked replies have none); P.request.exception of kind
 * "client_abort" when the connection closes before the reply was written (a deferred reply the
 * client did not wait for). Routes: a callback set with pmx_http_evhttp_set_cb() reports its path
 * as the route; the generic callback reports the raw path for the plugin's `routes` option, or
 * what pmx_http_evhttp_set_route() sets. Requests libevent refuses before any callback (methods
 * not allowed by evhttp_set_allowed_methods, oversized headers or bodies) are not reported.
 *
 * The adapter uses two per-request/per-connection slots of libevent: the request's on-complete
 * callback and the connection's close callback (evhttp_connection_set_closecb); an application
 * that sets either itself on served requests must not use the adapter for them.
 *
 * Costs and threading: no lock; per-request state comes from a per-thread free list (no
 * allocation after warm-up). Callbacks run on the event loop thread; several loops on several
 * threads may share one adapter. */
#ifndef PROMEX_HTTP_EVHTTP_H
#define PROMEX_HTTP_EVHTTP_H

#include <event2/http.h>

#include "promex/error.h"
#include "promex/event.h"
#include "promex/export.h"
#include "promex/metrics_answer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pmx_http_evhttp pmx_http_evhttp_t;

typedef void (*pmx_evhttp_cb)(struct evhttp_request *req, void *arg);

/* Copied by pmx_http_evhttp_new(). Fields as pmx_http_mhd_config_t (promex/http_mhd.h). */
typedef struct pmx_http_evhttp_config {
  pmx_bus_t *bus;           /* required; must outlive the adapter */
  const char *event_prefix; /* NULL: "http.server" */
  const char *host;         /* host label (the server's name, not the Host header); NULL: "default" */
  const char *endpoint;     /* NULL: "http" */
  const char *scheme;       /* NULL: "http" */
} pmx_http_evhttp_config_t;

/* Returns PMX_OK, PMX_EINVAL (err says why) or PMX_ENOMEM. *out owned by the caller. */
PMX_EXTERN int pmx_http_evhttp_new(const pmx_http_evhttp_config_t *cfg, pmx_http_evhttp_t **out,
                                   pmx_error_t *err);
/* Frees the adapter and its wrappers: call after evhttp_free() of every server using it. */
PMX_EXTERN void pmx_http_evhttp_free(pmx_http_evhttp_t *ins);

/* evhttp_set_cb(http, path, cb, arg), instrumented; the route label is `path`. Returns
 * PMX_OK, PMX_EINVAL, PMX_EEXIST (libevent already has a callback for path), PMX_ENOMEM. */
PMX_EXTERN int pmx_http_evhttp_set_cb(pmx_http_evhttp_t *ins, struct evhttp *http,
                                      const char *path, pmx_evhttp_cb cb, void *arg);
/* evhttp_set_gencb(http, cb, arg), instrumented; routes come from the plugin's options or
 * pmx_http_evhttp_set_route(). Returns PMX_OK, PMX_EINVAL, PMX_ENOMEM. */
PMX_EXTERN int pmx_http_evhttp_set_gencb(pmx_http_evhttp_t *ins, struct evhttp *http,
                                         pmx_evhttp_cb cb, void *arg);

/* Sets the route template of `req` (long-lived string from a bounded set). Only from inside the
 * callback handling req; no effect elsewhere. */
PMX_EXTERN void pmx_http_evhttp_set_route(struct evhttp_request *req, const char *route);

/* Emits P.endpoint for a bound socket (port from its fd): url "<scheme>://<url_host>:<port>".
 * Call after pmx_start(). Returns PMX_OK or PMX_EINVAL. */
PMX_EXTERN int pmx_http_evhttp_announce(pmx_http_evhttp_t *ins, struct evhttp_bound_socket *s,
                                        const char *url_host);

/* A ready evhttp callback serving metrics: arg is a const pmx_metrics_endpoint_t * (borrowed; it
 * must outlive the server). Same answers as the standalone server (promex/metrics_answer.h). */
PMX_EXTERN void pmx_http_evhttp_metrics(struct evhttp_request *req, void *arg);

#ifdef __cplusplus
}
#endif
#endif
