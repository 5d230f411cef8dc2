/* The demo's small HTTP API (demo_http.c): a libmicrohttpd service instrumented through the
 * http_server plugin's MHD adapter, a load generator that calls it, and a simulated WebSocket
 * layer that emits the plugin's socket events. */
#ifndef DEMO_HTTP_H
#define DEMO_HTTP_H

#include <stdint.h>

#include "promex/promex.h"

typedef struct demo_http demo_http_t;

/* The http_server plugin options the demo API needs (its route templates). */
extern const pmx_kv_t demo_http_plugin_opts[];
extern const size_t demo_http_plugin_n_opts;

/* Starts the API on `bind` (a free port) and the load threads. Call after pmx_start(). Returns 0
 * or -1 (message on stderr). */
int demo_http_start(pmx_t *p, const char *bind, demo_http_t **out);
uint16_t demo_http_port(const demo_http_t *h);
/* Stops the load, then the daemon, and frees everything. NULL is a no-op. */
void demo_http_stop(demo_http_t *h);

#endif
