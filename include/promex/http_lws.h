/* The libwebsockets adapter of the http_server plugin (library promex_lws, pkg-config promex-lws;
 * libwebsockets >= 4.1): the application's WebSocket protocols, instrumented, emit the plugin's
 * socket events (promex/plugins/http_server.h): P.socket.connected and P.channel.joined when a
 * connection is established or refused, P.channel.handled_in around each message handler call.
 *
 *   pmx_http_lws_config_t lc = {.bus = pmx_bus(p), .endpoint = "ws"};
 *   pmx_http_lws_t *ins;
 *   pmx_http_lws_new(&lc, app_protocols, &ins, &err);   // NULL-name-terminated array
 *   info.protocols = pmx_http_lws_protocols(ins);        // instead of app_protocols
 *   ctx = lws_create_context(&info); ... lws_context_destroy(ctx); pmx_http_lws_free(ins);
 *
 * What is measured, per protocol of the application (its name is the `handler` label):
 *   socket.connected   duration from LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION (the handshake) to
 *                      LWS_CALLBACK_ESTABLISHED; result "ok", or "error" when the application's
 *                      callback refused the connection in either; transport "websocket"
 *   channel.joined     the same moment and labels (a protocol is the channel a client joins)
 *   channel.handled_in the time the application's LWS_CALLBACK_RECEIVE took; event "text" or
 *                      "binary" (lws_frame_is_binary)
 * The application's callbacks get exactly the same arguments (`user` is its own per-session data:
 * the adapter's few bytes live after it) and their return values are passed through.
 *
 * Limits: at most 32 instrumented protocols per process (one trampoline each). Costs: no lock,
 * no allocation per message or connection beyond libwebsockets' own per-session allocation. */
#ifndef PROMEX_HTTP_LWS_H
#define PROMEX_HTTP_LWS_H

#include <libwebsockets.h>

#include "promex/error.h"
#include "promex/event.h"
#include "promex/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pmx_http_lws pmx_http_lws_t;

/* Copied by pmx_http_lws_new(). */
typedef struct pmx_http_lws_config {
  pmx_bus_t *bus;           /* required; must outlive the adapter */
  const char *event_prefix; /* NULL: "http.server" */
  const char *endpoint;     /* endpoint label, NULL: "ws" */
} pmx_http_lws_config_t;

/* Instruments `protocols` (borrowed: it must outlive the adapter; terminated by an entry whose
 * name is NULL). Returns PMX_OK, PMX_EINVAL (err says why), PMX_ELIMIT (no trampoline left) or
 * PMX_ENOMEM. */
PMX_EXTERN int pmx_http_lws_new(const pmx_http_lws_config_t *cfg,
                                const struct lws_protocols *protocols, pmx_http_lws_t **out,
                                pmx_error_t *err);

/* The instrumented protocol array to give lws_context_creation_info.protocols (or a vhost).
 * Owned by the adapter. */
PMX_EXTERN const struct lws_protocols *pmx_http_lws_protocols(const pmx_http_lws_t *ins);

/* Frees the adapter and releases its trampolines: call after lws_context_destroy(). */
PMX_EXTERN void pmx_http_lws_free(pmx_http_lws_t *ins);

#ifdef __cplusplus
}
#endif
#endif
