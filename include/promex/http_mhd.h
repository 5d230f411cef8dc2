/* The libmicrohttpd adapter of the http_server plugin: instruments an application's own
 * MHD_Daemon so that every request emits the http_server event contract
 * (promex/plugins/http_server.h), with no timing code in the application.
 *
 *   pmx_http_mhd_config_t hc = {.bus = pmx_bus(p), .handler = app_handler, .handler_cls = app,
 *                               .host = "api"};
 *   pmx_http_mhd_t *ins;
 *   if (pmx_http_mhd_new(&hc, &ins, &err) != PMX_OK) ...
 *   struct MHD_Daemon *d = MHD_start_daemon(flags, port, NULL, NULL,
 *       pmx_http_mhd_access, ins,                              // instead of app_handler, app
 *       MHD_OPTION_ARRAY, pmx_http_mhd_options(ins),           // the completion callback
 *       ... the application's other options ..., MHD_OPTION_END);
 *   pmx_http_mhd_announce(ins, d, "127.0.0.1");               // endpoint info (after pmx_start)
 *   ...
 *   MHD_stop_daemon(d);
 *   pmx_http_mhd_free(ins);
 *
 * What it reports, per request: P.request.start at the first access-handler call (method, path,
 * host, scheme); then, from libmicrohttpd's completion callback, P.request.stop when the
 * response was sent completely (status as queued, request body bytes the handler consumed,
 * response body bytes when known) or P.request.exception when the request ended otherwise (kind
 * "client_abort" for a client that closed or reset the connection, "timeout", "shutdown" for a
 * daemon stop, "error" for anything else; reason names libmicrohttpd's termination code).
 * Suspended connections stay one request in flight until they are resumed and finish. The
 * application's answers are unchanged: its handler sees the same arguments and its return value
 * is passed through.
 *
 * Response sizes: libmicrohttpd has no getter for a queued response's size, so the adapter knows
 * it only when the application queues through pmx_http_mhd_queue_response() (a drop-in for
 * MHD_queue_response() taking the body size as well); otherwise the stop event carries no
 * response_size and the size histogram leaves the request out.
 *
 * Routes: the adapter passes the raw path (without query string, at most 511 bytes; longer paths
 * are reported unmatched) for the plugin's `routes` option to resolve; a handler that knows its
 * route template may call pmx_http_mhd_set_route() instead.
 *
 * Costs and threading: no lock; per-request state comes from a small per-thread free list, so
 * after warm-up a request allocates nothing (libmicrohttpd threads each keep up to 64 idle
 * states, freed when the thread exits). Works with every threading mode. The adapter takes the
 * req_cls slot of the access handler; the application's handler gets its own slot (a different
 * pointer, with the same lifetime and meaning), and its own completion callback is given in
 * pmx_http_mhd_config_t.completed. An application that sets MHD_OPTION_URI_LOG_CALLBACK must
 * have it return NULL (its return value would land in the adapter's slot).
 *
 * Serving /metrics from the same daemon: promex/mhd.h (pmx_mhd_handle), with the standalone
 * server's negotiation, gzip and auth. Including this header requires <microhttpd.h>. */
#ifndef PROMEX_HTTP_MHD_H
#define PROMEX_HTTP_MHD_H

#include <stdint.h>

#include <microhttpd.h>

#include "promex/error.h"
#include "promex/event.h"
#include "promex/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pmx_http_mhd pmx_http_mhd_t;

/* Copied by pmx_http_mhd_new() (strings too). */
typedef struct pmx_http_mhd_config {
  pmx_bus_t *bus;                          /* required: pmx_bus(p); must outlive the adapter */
  MHD_AccessHandlerCallback handler;       /* required: the application's access handler */
  void *handler_cls;
  MHD_RequestCompletedCallback completed;  /* optional: the application's completion callback */
  void *completed_cls;
  const char *event_prefix;  /* NULL: "http.server" (the plugin's event_prefix must match) */
  const char *host;          /* host label value: the server's name for this listener, NULL:
                              * "default" (never the client's Host header) */
  const char *endpoint;      /* endpoint name for pmx_http_mhd_announce(), NULL: "http" */
  const char *scheme;        /* "http" or "https", NULL: "http" */
} pmx_http_mhd_config_t;

/* Creates an adapter. *out is owned by the caller (pmx_http_mhd_free). Returns PMX_OK,
 * PMX_EINVAL (NULL bus or handler, bad event_prefix, strings longer than 255 bytes; err says
 * which) or PMX_ENOMEM. */
PMX_EXTERN int pmx_http_mhd_new(const pmx_http_mhd_config_t *cfg, pmx_http_mhd_t **out,
                                pmx_error_t *err);

/* Frees the adapter. Call it after MHD_stop_daemon() of every daemon using it. NULL is a no-op. */
PMX_EXTERN void pmx_http_mhd_free(pmx_http_mhd_t *ins);

/* The access handler to give MHD_start_daemon(), with the adapter as its cls. */
PMX_EXTERN enum MHD_Result pmx_http_mhd_access(void *cls, struct MHD_Connection *connection,
                                               const char *url, const char *method,
                                               const char *version, const char *upload_data,
                                               size_t *upload_data_size, void **req_cls);

/* Options to pass with MHD_OPTION_ARRAY: MHD_OPTION_NOTIFY_COMPLETED with the adapter's
 * completion callback, then MHD_OPTION_END. Owned by the adapter. Do not also pass the
 * application's own MHD_OPTION_NOTIFY_COMPLETED (give it in the config instead). */
PMX_EXTERN const struct MHD_OptionItem *pmx_http_mhd_options(const pmx_http_mhd_t *ins);

/* Emits P.endpoint for daemon `d`: endpoint name, url "<scheme>://<url_host>:<port>" and port
 * (from MHD_DAEMON_INFO_BIND_PORT). Call after pmx_start() (events before it are not recorded).
 * Returns PMX_OK, PMX_EINVAL (NULL argument, port unknown) or what the emit returned. */
PMX_EXTERN int pmx_http_mhd_announce(pmx_http_mhd_t *ins, struct MHD_Daemon *d,
                                     const char *url_host);

/* MHD_queue_response() that also records the body size for the response_size histogram. Call it
 * from the access handler (on the thread running it). */
PMX_EXTERN enum MHD_Result pmx_http_mhd_queue_response(struct MHD_Connection *connection,
                                                       unsigned int status,
                                                       struct MHD_Response *response,
                                                       uint64_t body_size);

/* Sets the route template of the request being handled on `connection` (static or otherwise
 * long-lived string, from a bounded set). Call it from the access handler. No effect elsewhere. */
PMX_EXTERN void pmx_http_mhd_set_route(struct MHD_Connection *connection, const char *route);

#ifdef __cplusplus
}
#endif
#endif
