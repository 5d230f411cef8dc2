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



/* ---- Responses (src/server/handler.c) ---- */
#include <microhttpd.h>

/* Queues a short text/plain response with `status` and `body` (static storage), Cache-Control:
 * no-store and, when `hname` is not NULL, the extra header hname: hvalue. Returns MHD_queue_response's
 * result, or MHD_NO if the response could not be created. */
enum MHD_Result pmx__mhd_simple(struct MHD_Connection *c, unsigned status, const char *body,
                                const char *hname, const char *hvalue);
#endif
