/* The `http_server` plugin: what PromEx's Phoenix, PlugCowboy and PlugRouter plugins report about
 * the HTTP requests a service answers, for C services on any HTTP server library.
 *
 * Two halves, as every library plugin (docs/plugins.md):
 *   - an event contract (below) that any code may emit: a program that uses no adapter emits
 *     these events itself; the plugin does not care where they come from;
 *   - adapters that make a server library emit the contract without timing code in the
 *     application: libmicrohttpd (promex/http_mhd.h, part of libpromex), libevent evhttp
 *     (promex/http_evhttp.h, library promex_evhttp), CivetWeb (promex/http_civetweb.h, library
 *     promex_civetweb), libwebsockets for the socket events (promex/http_lws.h, library
 *     promex_lws). docs/http_server.md shows them and the mapping to PromEx's metrics.
 *
 * Enabling it: pmx_plugin_use_t use = {&pmx_plugin_http_server, opts, n_opts, &data}; where
 * `data` is an optional pmx_http_server_data_t (a route resolver), or in the INI file a
 * [plugin.http_server] section. Only one http_server plugin per pmx_t (its group names are
 * fixed).
 *
 * ---- Event contract (P = the event_prefix option, default "http.server") --------------------
 *
 * P.request.start       one request begins (after the request line and headers were read)
 *   measurements  monotonic_time, system_time (ns; pmx_span_start adds them; unused by metrics)
 *   metadata      method  str  the request method as sent ("GET"); normalised for labels
 *                 path    str  the raw request path, query string allowed; used ONLY to find the
 *                              route (never a label value); optional
 *                 route   str  the route template if the emitter knows it ("/users/:id");
 *                              optional, wins over `path`; must come from a bounded set
 *                 host    str  the server's own name for the listener or virtual host (NOT the
 *                              client's Host header, which a client can set to anything);
 *                              optional, label value "default" when absent
 *                 scheme  str  "http" or "https"; optional, not a label
 * P.request.stop        the response was sent (or queued: adapters say which)
 *   measurements  duration       ns   start to end (pmx_span_stop computes it)
 *                 request_size   bytes of request body received; optional
 *                 response_size  bytes of response body; optional (adapters that cannot know it
 *                                leave it out, and the size histogram then skips the request)
 *   metadata      as start, plus status  int  the HTTP status sent (100..599)
 * P.request.exception   the request ended without a complete response (client abort, timeout,
 *                       handler failure); exactly one of stop/exception follows each start
 *   measurements  duration (ns)
 *   metadata      as start, plus kind  str  a small fixed vocabulary: adapters use
 *                 "client_abort", "timeout", "error", "shutdown"; reason  str  free text (not a
 *                 label)
 * P.endpoint            a listener the service serves on (Phoenix endpoint_url_info and
 *                       endpoint_port_info); emit it after pmx_start (adapters do it when asked,
 *                       see pmx_http_mhd_announce())
 *   measurements  (none needed)
 *   metadata      endpoint str  a name for the listener ("api"); url str  "http://127.0.0.1:8080";
 *                 port int
 * P.socket.connected    a WebSocket (or other long-lived socket) connection was accepted or
 *                       refused (Phoenix socket_connected)
 *   measurements  duration (ns: time to establish)
 *   metadata      endpoint str, transport str ("websocket"), result str ("ok" / "error")
 * P.channel.joined      a client joined a channel / subscribed to a topic (Phoenix
 *                       channel_joined); metadata endpoint, transport, result
 * P.channel.handled_in  one message handled on a socket (Phoenix channel_handled_in, LiveView
 *                       handle_event): measurements duration (ns); metadata endpoint,
 *                       handler str (the code that handled it), event str (message type)
 *
 * Every string is borrowed for the duration of the emit. The plugin never stores raw paths, query
 * strings or header values: label values come from the route table, from a bounded vocabulary,
 * or from the emitter's own `route`/`host`/`endpoint`/`handler`/`event` values, which must
 * come from bounded sets (they are the application's names, not the client's input).
 *
 * ---- Labels ----------------------------------------------------------------------------------
 *   method   GET HEAD POST PUT DELETE PATCH OPTIONS CONNECT TRACE as sent (case-sensitive,
 *            RFC 9110), anything else "OTHER"
 *   route    (1) the event's `route`; else (2) the resolver callback's answer (data->resolve);
 *            else (3) the first `routes` template that matches `path`; else (4) the label of the
 *            first `additional_routes` pattern that matches; else (5) the `unmatched_route`
 *            value (default "unmatched"). So hostile URLs add at most one value.
 *   status   the code as text ("404"), or with status_class=true its class ("4xx"); a code
 *            outside 100..599 or absent is "invalid"
 *   host     the event's `host`, or "default"
 *   kind     the exception's `kind`, or "error"
 *
 * ---- Metrics (prefix M = option metric_prefix, default "<app>_prom_ex_http_server") ----------
 *
 * http_server_request_event_metrics (group):
 *   M_requests_total{method,route,status,host}            counter  one per P.request.stop.
 *       PromEx: phoenix_http_requests_total, plug_cowboy_/plug_router_http_requests_total
 *       (PromEx's label `path` is our `route`).
 *   M_request_duration_seconds{method,route,status,host}  histogram, seconds (duration_buckets).
 *       PromEx: *_http_request_duration_milliseconds (ms there; base unit seconds here).
 *   M_request_size_bytes{method,route,status,host}        histogram, bytes (size_buckets); only
 *       stops that carry request_size. PromEx: none (Cowboy's req_body_length was not exported).
 *   M_response_size_bytes{method,route,status,host}       histogram, bytes (size_buckets); only
 *       stops that carry response_size. PromEx: *_http_response_size_bytes.
 *   M_exceptions_total{method,route,host,kind}            counter  one per P.request.exception.
 *       PromEx: PlugRouter counted router exceptions as status 500; they are separate here.
 *   M_requests_in_flight                                  gauge    starts minus stops and
 *       exceptions seen since pmx_start (the plugin forwards start/stop/exception to the
 *       internal event P.request.in_flight); ignore_routes does not apply to it, so a scrape
 *       served by the same server sees itself in flight. PromEx: none.
 * http_server_endpoint_event_metrics:
 *   M_endpoint_url_info{endpoint,url}    gauge 1 per announced listener. PromEx:
 *       phoenix_endpoint_url_info.
 *   M_endpoint_port_info{endpoint,port}  gauge 1. PromEx: phoenix_endpoint_port_info.
 * http_server_socket_event_metrics:
 *   M_socket_connected_duration_seconds{endpoint,transport,result}  histogram, seconds (buckets
 *       0.01 0.1 0.5 1 5 10). PromEx: phoenix_socket_connected_duration_milliseconds.
 *   M_channel_joined_total{endpoint,transport,result}  counter. PromEx:
 *       phoenix_channel_joined_total.
 *   M_channel_handled_in_duration_seconds{endpoint,handler,event}  histogram, seconds (same
 *       buckets). PromEx: phoenix_channel_handled_in_duration_milliseconds; LiveView's
 *       handle_event_duration maps here too.
 * http_server_config_manual_metrics (start and pmx_refresh_manual_metrics()):
 *   M_route_templates{kind}  gauge  number of configured patterns, kind = "route", "additional"
 *       or "ignore" (so a dashboard can tell "no traffic" from "no routes configured").
 *
 * ---- Options (all optional; each error names the option) ------------------------------------
 *   routes             comma-separated route templates, tried in order. A template starts with
 *                      '/'; segments are separated by '/'; a segment ":name" matches any one
 *                      non-empty path segment; a last segment "*" (or "*name") matches the rest
 *                      of the path, zero or more segments (a prefix match); any other segment
 *                      matches itself exactly. A trailing '/' on the path is ignored, and so is
 *                      its query string. Example: "/users/:id,/users,/static/STAR" with STAR
 *                      written as '*' (a slash-star cannot appear in this C comment). The
 *                      template is the label value. At most 256 templates of 256 bytes.
 *   additional_routes  comma-separated label=pattern pairs (PromEx's additional_routes), tried
 *                      after `routes`: "health=/healthz,assets=/assets/STAR".
 *   ignore_routes      comma-separated patterns; a request whose route label equals one, or
 *                      whose path matches one, is not recorded at all ("/healthz,/metrics").
 *   unmatched_route    the route label of requests no rule matched; default "unmatched".
 *   duration_buckets   comma-separated upper bounds in seconds, strictly increasing, finite,
 *                      > 0, at most 128; default 0.005,0.01,0.025,0.05,0.1,0.25,0.5,1,2.5,5,10
 *                      (the dashboard's Apdex uses le="0.25" and le="1": keep those two bounds,
 *                      or its Apdex panel shows no data).
 *   size_buckets       the same for the size histograms, in bytes; default
 *                      100,1000,10000,100000,1000000,10000000,100000000.
 *   status_class       true|false (default false): status label "2xx" instead of "200".
 *   event_prefix       the dotted event prefix P (default "http.server"), as PlugRouter's
 *                      event_prefix: adapters must be given the same prefix.
 *   metric_prefix      as every plugin; the dashboard assign http_server_metric_prefix must match.
 * A bad value fails pmx_start() with PMX_ECONFIG and an error naming the plugin and option.
 *
 * Cost per request: a route lookup (linear in the number of templates, no allocation), the
 * metric updates (lock-free once the series exists) and one extra emit for the in-flight gauge.
 *
 * Threading: events may be emitted from any number of threads at once. The resolver callback runs
 * on the emitting thread, concurrently: once per request event for the labels (the request metrics
 * share them), and with ignore_routes set once more per metric, for the ignore check. */
#ifndef PROMEX_PLUGINS_HTTP_SERVER_H
#define PROMEX_PLUGINS_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "promex/export.h"
#include "promex/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The default event prefix. */
#define PMX_HTTP_SERVER_EVENT_PREFIX "http.server"

/* A route resolver for programs that have their own router: given the request's method and raw
 * path, writes the route template (NUL-terminated, at most cap - 1 bytes) to `route` and returns
 * true, or returns false when the path is not one of its routes (the plugin then tries the
 * `routes` option, additional_routes, and finally reports the unmatched value). It must return
 * values from a bounded set, must not block, and may run on many threads at once. */
typedef bool (*pmx_http_route_resolver_fn)(const char *method, const char *path, char *route,
                                           size_t cap, void *ctx);

/* Optional user_data of the plugin (pmx_plugin_use_t.user_data). Borrowed: it must stay valid
 * from pmx_start() to pmx_stop(). */
typedef struct pmx_http_server_data {
  pmx_http_route_resolver_fn resolve; /* NULL: none */
  void *resolve_ctx;
} pmx_http_server_data_t;

/* The plugin table. Name "http_server". */
PMX_EXTERN extern const pmx_plugin_t pmx_plugin_http_server;

#ifdef __cplusplus
}
#endif
#endif
