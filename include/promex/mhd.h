/* Serving metrics from a libmicrohttpd daemon the application already runs (PromEx.Plug's
 * counterpart): one call from the application's access handler answers the scrape with exactly
 * the behaviour of the standalone server (server.h): GET/HEAD only (405 with Allow otherwise),
 * request bodies refused (413), bearer/basic auth with constant-time comparison (401 with
 * WWW-Authenticate), format negotiated from Accept, gzip when Accept-Encoding allows it, 503 when
 * the scrape callback returns PMX_ESTOPPED and 500 on its other errors, Cache-Control: no-store.
 *
 *   static int scrape(void *ctx, pmx_format_t f, pmx_buf_t *b) { return pmx_get_metrics(ctx, f, b); }
 *   static const pmx_mhd_handler_t metrics = {.path = "/metrics", .scrape = scrape, ...};
 *
 *   static enum MHD_Result app_handler(void *cls, struct MHD_Connection *c, const char *url,
 *       const char *method, const char *version, const char *upload, size_t *upload_size,
 *       void **req_cls) {
 *     if (pmx_mhd_matches(&metrics, url)) return pmx_mhd_handle(c, url, method, &metrics);
 *     ... the application's own routes ...
 *   }
 *
 * Keep-alive: libmicrohttpd 0.9.75 closes a connection whose response was queued on the first
 * access-handler call. To keep connections alive, return MHD_YES once for a request without a body
 * (mark *req_cls) and call pmx_mhd_handle() on the second call. `url` is libmicrohttpd's decoding
 * of the path, which ends at a %00; judge the raw target in an MHD_OPTION_URI_LOG_CALLBACK if that
 * matters (the standalone server does, see docs/server.md).
 *
 * Including this header requires <microhttpd.h> (libmicrohttpd >= 0.9.71, for enum MHD_Result). */
#ifndef PROMEX_MHD_H
#define PROMEX_MHD_H

#include <stdbool.h>

#include <microhttpd.h>

#include "promex/config.h"
#include "promex/export.h"
#include "promex/server.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What pmx_mhd_handle() serves. Caller-owned; every pointer is borrowed and must stay valid (and
 * unchanged) while requests can reach the handler. Zero-initialise and set what you need. */
typedef struct pmx_mhd_handler {
  const char *path;                  /* exact URL path, NULL: "/metrics" (query strings ignored) */
  pmx_auth_strategy_t auth_strategy; /* PMX_AUTH_NONE, _BEARER or _BASIC */
  const char *auth_token;            /* bearer: required token; NULL rejects every request */
  const char *auth_user;             /* basic: required user; NULL rejects every request */
  const char *auth_password;         /* basic: required password; NULL rejects every request */
  pmx_scrape_fn scrape;              /* renders the metrics; required */
  void *ctx;                         /* passed to scrape */
} pmx_mhd_handler_t;

/* True if `url` (the access handler's url argument: the path, without query string) is exactly
 * h->path. Pure; thread-safe. False for NULL arguments. */
PMX_EXTERN bool pmx_mhd_matches(const pmx_mhd_handler_t *h, const char *url);

/* Answers a request for h->path on connection `c`. Call it from the access handler with its
 * `connection`, `url` and `method` arguments, on the first call for the request (or any later call
 * where *upload_data_size == 0), and return its result to libmicrohttpd. The response is queued
 * before any request body is read (a request that announces a body is answered 413 at once).
 *
 * Returns MHD_YES when a response was queued. Returns MHD_NO in two cases: (1) `url` is not
 * h->path (or an argument is NULL): nothing was queued and nothing was read, so the caller should
 * route the request elsewhere; check with pmx_mhd_matches() first to tell this case apart; (2)
 * libmicrohttpd could not create or queue the response (out of memory): return MHD_NO to
 * libmicrohttpd so that it closes the connection.
 *
 * Thread-safe: may run concurrently on any number of libmicrohttpd threads; h->scrape is then
 * called concurrently too. Never blocks other than in h->scrape. */
PMX_EXTERN enum MHD_Result pmx_mhd_handle(struct MHD_Connection *c, const char *url,
                                          const char *method, const pmx_mhd_handler_t *h);

#ifdef __cplusplus
}
#endif
#endif
