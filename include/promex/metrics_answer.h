/* Serving /metrics from any HTTP server library (PromEx.Plug's counterpart for servers other than
 * libmicrohttpd, which has promex/mhd.h): one call decides the whole answer with exactly the
 * standalone server's rules (server.h), and the caller's server only writes it out. The server
 * adapters' ready handlers (promex/http_evhttp.h, promex/http_civetweb.h) are built on it.
 *
 * Rules, in order: GET/HEAD only (405 with Allow: GET, HEAD); a request that announces a body is
 * refused (413); bearer/basic auth compared in constant time (401 with WWW-Authenticate); the
 * scrape callback renders the format negotiated from Accept (text 0.0.4 or OpenMetrics 1.0), 503
 * when it returns PMX_ESTOPPED and 500 on its other errors; gzip when Accept-Encoding allows it.
 * The caller adds Cache-Control: no-store to every answer, and Vary: Accept, Accept-Encoding to a
 * 200 (they do not depend on the request). */
#ifndef PROMEX_METRICS_ANSWER_H
#define PROMEX_METRICS_ANSWER_H

#include <stdbool.h>

#include "promex/config.h"
#include "promex/export.h"
#include "promex/expo.h"
#include "promex/server.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What to serve. Caller-owned; pointers borrowed while requests can reach it. Zero-initialise. */
typedef struct pmx_metrics_endpoint {
  const char *path;                  /* exact path, NULL: "/metrics" (for the adapters' matching) */
  pmx_auth_strategy_t auth_strategy; /* PMX_AUTH_NONE, _BEARER or _BASIC */
  const char *auth_token;            /* bearer: required token; NULL rejects every request */
  const char *auth_user;             /* basic: user; NULL rejects every request */
  const char *auth_password;         /* basic: password; NULL rejects every request */
  pmx_scrape_fn scrape;              /* required (a NULL scrape answers 500) */
  void *ctx;                         /* passed to scrape */
} pmx_metrics_endpoint_t;

/* The answer to write. Strings are static storage; `body` is owned by the caller after the call
 * (pmx_buf_free), and empty except for a 200 and the short text of the errors. */
typedef struct pmx_metrics_answer {
  unsigned status;
  const char *content_type;     /* always set */
  const char *content_encoding; /* "gzip" or NULL */
  const char *header_name;      /* "Allow" (405), "WWW-Authenticate" (401) or NULL */
  const char *header_value;
  pmx_buf_t body;
} pmx_metrics_answer_t;

/* True if `path` (without query string) is the endpoint's path. Pure. */
PMX_EXTERN bool pmx_metrics_path_matches(const pmx_metrics_endpoint_t *ep, const char *path);

/* Decides the answer to a request with `method` (case-sensitive), whether it announces a body
 * (`has_body`: any Transfer-Encoding, or a Content-Length other than 0), and its Authorization,
 * Accept and Accept-Encoding header values (NULL when absent). Fills *out (zeroed first). Returns
 * PMX_OK (out holds an answer, whatever its status) or PMX_EINVAL (NULL ep, method or out). A
 * failure to allocate the body answers 500. Thread-safe; calls ep->scrape on the calling thread. */
PMX_EXTERN int pmx_metrics_answer(const pmx_metrics_endpoint_t *ep, const char *method,
                                  bool has_body, const char *authorization, const char *accept,
                                  const char *accept_encoding, pmx_metrics_answer_t *out);

#ifdef __cplusplus
}
#endif
#endif
