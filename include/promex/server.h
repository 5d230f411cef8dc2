/* The standalone metrics server (PromEx's metrics_server) on libmicrohttpd.
 *
 * GET and HEAD on the configured path only (the decoded path must equal it exactly): 404 for
 * other paths, 400 for a malformed request target (%00, bad escapes), 405 (with Allow) for other
 * methods, 401 with WWW-Authenticate when auth fails (tokens and passwords compared in constant
 * time), 503 when the scrape callback reports PMX_ESTOPPED. The body format is negotiated from
 * Accept (text 0.0.4, OpenMetrics 1.0 or protobuf; see negotiate.h) and gzip-compressed when
 * Accept-Encoding allows it.
 * Connections are served by a pool of `pool_size` threads and kept alive as HTTP/1.1 expects (up
 * to 100 requests each, pipelining included). Limits: max_connections (half of them per client
 * address), a deadline for each whole request header (header_timeout_s: trickling does not extend
 * it; 408), an idle timeout (timeout_s), 16 KiB of memory per connection for the request line and
 * headers (414/431), no request bodies (413); so slow or hostile clients cannot keep scrapes out
 * for longer than the header deadline. docs/server.md states each limit and its answer. */
#ifndef PROMEX_SERVER_H
#define PROMEX_SERVER_H

#include <stdint.h>

#include "promex/config.h"
#include "promex/error.h"
#include "promex/expo.h"
#include "promex/export.h"
#include "promex/negotiate.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pmx_server pmx_server_t;

/* Produces the exposition in `fmt`, appended to `out` (library-owned buffer). Return PMX_OK, or
 * PMX_ESTOPPED to answer 503, or another code to answer 500. Called from server threads,
 * concurrently. */
typedef int (*pmx_scrape_fn)(void *ctx, pmx_format_t fmt, pmx_buf_t *out);

/* Starts a server for `cfg` (copied; cfg->enabled is ignored). `ctx` is borrowed until
 * pmx_server_stop(). On PMX_OK *out is owned by the caller. Errors: PMX_ECONFIG (bad options,
 * unreadable certificate; err filled), PMX_ESYS (cannot bind: err says address and port),
 * PMX_ENOMEM. */
PMX_EXTERN int pmx_server_start(const pmx_server_config_t *cfg, pmx_scrape_fn scrape, void *ctx,
                                pmx_server_t **out, pmx_error_t *err);

/* The port the server listens on (useful when cfg->port was 0). */
PMX_EXTERN uint16_t pmx_server_port(const pmx_server_t *srv);

/* Stops accepting, waits for in-flight requests, joins the pool and frees the server. NULL is a
 * no-op. */
PMX_EXTERN void pmx_server_stop(pmx_server_t *srv);

#ifdef __cplusplus
}
#endif
#endif
