/* The CivetWeb adapter of the http_server plugin (library promex_civetweb, pkg-config
 * promex-civetweb; CivetWeb >= 1.15): CivetWeb's own begin_request / end_request callbacks emit
 * the http_server event contract (promex/plugins/http_server.h) for every request of a server
 * started through the adapter, and a ready request handler serves /metrics.
 *
 *   pmx_http_civetweb_config_t hc = {.bus = pmx_bus(p), .host = "api"};
 *   pmx_http_civetweb_t *ins;
 *   pmx_http_civetweb_new(&hc, &ins, &err);
 *   struct mg_context *ctx = pmx_http_civetweb_start(ins, &app_callbacks, app, options);
 *   mg_set_request_handler(ctx, "/metrics", pmx_http_civetweb_metrics, &endpoint);  // optional
 *   pmx_http_civetweb_announce(ins, ctx, "127.0.0.1");
 *   ... mg_stop(ctx); pmx_http_civetweb_free(ins);
 *
 * pmx_http_civetweb_start() is mg_start() with the adapter's begin_request, end_request and
 * connection_close merged into the application's callbacks (its own are still called, in the same
 * order and with the same results), and the application's user data unchanged.
 *
 * Per request: P.request.start in begin_request (method, raw path, host, scheme; request_size is
 * the announced Content-Length), P.request.stop in end_request with the status CivetWeb sent;
 * response sizes are not reported (CivetWeb exposes no byte count). A request whose connection
 * closes before end_request is an exception of kind "client_abort". Routes come from the
 * plugin's `routes` option or pmx_http_civetweb_set_route() in a handler.
 *
 * Costs and threading: no lock and no allocation per request: CivetWeb runs begin_request,
 * the handler and end_request of a request on one worker thread, so the request's state is a
 * thread-local slot. */
#ifndef PROMEX_HTTP_CIVETWEB_H
#define PROMEX_HTTP_CIVETWEB_H

#include <civetweb.h>

#include "promex/error.h"
#include "promex/event.h"
#include "promex/export.h"
#include "promex/metrics_answer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pmx_http_civetweb pmx_http_civetweb_t;

/* Copied by pmx_http_civetweb_new(). Fields as pmx_http_mhd_config_t (promex/http_mhd.h). */
typedef struct pmx_http_civetweb_config {
  pmx_bus_t *bus;           /* required; must outlive the adapter */
  const char *event_prefix; /* NULL: "http.server" */
  const char *host;         /* host label; NULL: "default" */
  const char *endpoint;     /* NULL: "http" */
  const char *scheme;       /* NULL: "http" */
} pmx_http_civetweb_config_t;

/* Returns PMX_OK, PMX_EINVAL (err says why) or PMX_ENOMEM. */
PMX_EXTERN int pmx_http_civetweb_new(const pmx_http_civetweb_config_t *cfg,
                                     pmx_http_civetweb_t **out, pmx_error_t *err);
/* Frees the adapter; call after mg_stop() of the server it started. NULL is a no-op. */
PMX_EXTERN void pmx_http_civetweb_free(pmx_http_civetweb_t *ins);

/* mg_start(callbacks, user_data, options) with the adapter's callbacks merged in (callbacks may
 * be NULL). One server per adapter. Returns the context, or NULL as mg_start does (or when this
 * adapter already started one, or more than 16 adapters run at once). */
PMX_EXTERN struct mg_context *pmx_http_civetweb_start(pmx_http_civetweb_t *ins,
                                                      const struct mg_callbacks *callbacks,
                                                      void *user_data, const char **options);

/* Sets the route template of the request handled on this thread (long-lived string from a
 * bounded set). Only from a handler running for `conn`. */
PMX_EXTERN void pmx_http_civetweb_set_route(const struct mg_connection *conn, const char *route);

/* Emits P.endpoint for each port of `ctx` (mg_get_server_ports). Returns PMX_OK or PMX_EINVAL. */
PMX_EXTERN int pmx_http_civetweb_announce(pmx_http_civetweb_t *ins, struct mg_context *ctx,
                                          const char *url_host);

/* A ready CivetWeb request handler (mg_set_request_handler) serving metrics: cbdata is a const
 * pmx_metrics_endpoint_t *. Same answers as the standalone server. Returns the status sent. */
PMX_EXTERN int pmx_http_civetweb_metrics(struct mg_connection *conn, void *cbdata);

#ifdef __cplusplus
}
#endif
#endif
