/* This file is private to the server area (src/server/): helpers shared between the standalone
 * server, the libmicrohttpd handler and their tests. Nothing here is API. */
#ifndef PMX_SERVER_INTERNAL_H
#define PMX_SERVER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "promex/config.h"

/* Largest Authorization credential we look at, in bytes after the scheme. Requests are already
 * bounded by the connection memory limit; this bounds our stack buffers. */
#define PMX__AUTH_MAX 1024

/* Decodes standard base64 (RFC 4648 section 4; padding required, no whitespace) of `in[0..len)`
 * into `out` (capacity `cap`). Returns the decoded length, or -1 if the input is malformed or
 * does not fit. */
long pmx__base64_decode(const char *in, size_t len, unsigned char *out, size_t cap);

/* Checks an Authorization header value (NULL when absent) against the strategy's secrets.
 * PMX_AUTH_NONE always passes. Secrets are compared through their SHA-256 digests with a
 * constant-time comparison, so neither a common prefix nor a length difference shows in the
 * timing. A NULL configured secret never matches. Thread-safe. */
bool pmx__auth_check(pmx_auth_strategy_t strategy, const char *token, const char *user,
                     const char *password, const char *authorization);

/* The WWW-Authenticate challenge for a 401, or NULL for PMX_AUTH_NONE. Static storage. */
const char *pmx__auth_challenge(pmx_auth_strategy_t strategy);

/* ---- Request targets (src/server/request_target.c) ---- */

typedef enum pmx__target {
  PMX__TARGET_MATCH, /* the decoded path is exactly the configured path: serve it */
  PMX__TARGET_OTHER, /* a well-formed target for another path: 404 */
  PMX__TARGET_BAD    /* malformed: not origin- or absolute-form, bad %-escape, %00, '#', controls: 400 */
} pmx__target_t;

/* Classifies the raw request-target `target` (as sent, NUL-terminated, not yet decoded) against
 * `path` (the configured path, plain bytes). The query string is ignored. Pure; thread-safe. */
pmx__target_t pmx__target_check(const char *target, const char *path);

/* ---- Connection guard: header deadline, requests per connection (src/server/conn_guard.c) ---- */

typedef struct pmx__guard pmx__guard_t;
typedef struct pmx__conn pmx__conn_t;

/* Starts the watchdog thread. Every tracked connection must deliver each request header within
 * `header_timeout_s` of being accepted (or of the previous response being complete); past that it
 * gets 408 (plain HTTP) and is shut down. Returns 0 or an errno value. */
int pmx__guard_start(unsigned header_timeout_s, unsigned max_requests, bool tls,
                     pmx__guard_t **out);
/* Stops and joins the watchdog; call after libmicrohttpd has closed every connection. */
void pmx__guard_stop(pmx__guard_t *g);
/* A new connection on socket `fd` (from MHD_CONNECTION_NOTIFY_STARTED). NULL when out of memory,
 * in which case the socket has been shut down. */
pmx__conn_t *pmx__guard_open(pmx__guard_t *g, int fd);
/* The connection is closing (MHD_CONNECTION_NOTIFY_CLOSED): forget it. NULL is a no-op. */
void pmx__guard_close(pmx__guard_t *g, pmx__conn_t *c);
/* The request header on `c` is complete (first access-handler call). Returns false when the
 * deadline has already closed the connection (do not answer). *last: this is the last request the
 * connection may carry (answer with Connection: close). Repeated calls for one request are fine. */
bool pmx__guard_begin(pmx__guard_t *g, pmx__conn_t *c, bool *last);
/* The request on `c` is over (MHD_OPTION_NOTIFY_COMPLETED): the next header's deadline starts. */
void pmx__guard_end(pmx__guard_t *g, pmx__conn_t *c);
/* The length of the current request's raw target as a C string, noted by the URI callback (only
 * the connection's own thread uses it). NULL `c`: set is a no-op, get returns SIZE_MAX. */
void pmx__guard_set_target_len(pmx__conn_t *c, size_t len);
size_t pmx__guard_target_len(const pmx__conn_t *c);

/* ---- Responses (src/server/handler.c) ---- */
#include <microhttpd.h>

#include "promex/mhd.h"

/* Queues a short text/plain response with `status` and `body` (static storage), Cache-Control:
 * no-store, when `hname` is not NULL the extra header hname: hvalue, and when `close` is set
 * Connection: close (libmicrohttpd then closes the connection after it). Returns
 * MHD_queue_response's result, or MHD_NO if the response could not be created. */
enum MHD_Result pmx__mhd_simple(struct MHD_Connection *c, unsigned status, const char *body,
                                const char *hname, const char *hvalue, bool close);

/* pmx_mhd_handle() after the path matched: method, body, auth, scrape; `close` as above. */
enum MHD_Result pmx__mhd_answer(struct MHD_Connection *c, const char *method,
                                const pmx_mhd_handler_t *h, bool close);

/* True if the request announces a body: any Transfer-Encoding, or a Content-Length other than 0.
 * libmicrohttpd has parsed the headers but not read the body when the handler first runs. */
bool pmx__mhd_has_body(struct MHD_Connection *c);
#endif
