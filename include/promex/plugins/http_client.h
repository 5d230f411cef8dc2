/* The `http_client` plugin: what a program's outbound HTTP calls cost, in the shape of PromEx's
 * Finch plugin (finch_request/queue/connect/send metrics, PR #273) and of Tesla's
 * request events, for C programs that call HTTP services with libcurl.
 *
 * Two halves: the event contract below (any HTTP client can emit it) and the libcurl adapter
 * (promex/curl.h: one call per finished transfer, easy or multi interface), which emits it from
 * curl_easy_getinfo().
 *
 * Enabling it: pmx_plugin_use_t use = {&pmx_plugin_http_client, opts, n, NULL}; or in the INI
 * file a [plugin.http_client] section. Then create one pmx_curl_t per program with
 * pmx_curl_new(pmx_bus(p), &pc) and pass each transfer through it (promex/curl.h).
 *
 * Options:
 *   hosts          comma list of host patterns that get their own `host` label; anything else
 *                  is "other" (bounded cardinality when a program calls arbitrary URLs):
 *                    api.example.com   that host (case-insensitive)
 *                    *.example.com     any host under example.com, labelled "*.example.com"
 *                    *                 any host by name, up to max_hosts distinct names
 *                  Default "*". Patterns are tried in order; the first match wins.
 *   max_hosts      distinct names "*" may learn (1..1000, default 50); later ones are "other".
 *   metric_prefix  default "<app>_prom_ex_http_client" (dashboard assign
 *                  http_client_metric_prefix must match).
 *
 * Event contract (times in the native unit, nanoseconds, as spans; sizes in bytes):
 *   http.client.request.start      measurements monotonic_time, system_time
 *                                  metadata method, scheme, host, port
 *   http.client.request.stop       a response was received (any status)
 *       measurements duration (whole transfer, redirects included), monotonic_time,
 *                    request_size (headers + body sent), response_size (headers + body
 *                    received), redirects, new_connections (0 = the connection was reused)
 *       metadata     method, scheme, host, port (int), status (int), connection
 *                    ("new" | "reused"), http_version ("1.0", "1.1", "2", "3", "unknown")
 *   http.client.request.exception  the transfer failed (no response)
 *       measurements duration, monotonic_time
 *       metadata     method, scheme, host, port, kind ("curl"), reason (the CURLcode name
 *                    without CURLE_, e.g. "COULDNT_CONNECT", "OPERATION_TIMEDOUT"),
 *                    code (int CURLcode), os_errno (int)
 *   http.client.request.phase      one per measured phase, after stop (a failed transfer has
 *                                  no phases: its timers stop wherever it failed)
 *       measurements duration
 *       metadata     phase, method, scheme, host, port. Phases (libcurl's cumulative timers
 *                    turned into intervals): dns (name lookup), connect (TCP), tls (TLS
 *                    handshake), wait (request sent until the first response byte: upload and
 *                    server time), receive (first byte until done), redirect (all earlier
 *                    redirect legs). dns/connect/tls are emitted only for transfers that opened
 *                    a new connection (a reused one has none); tls only for TLS.
 *   `host` is the URL's host as the client saw it (metadata is raw; the plugin groups it).
 *
 * Metrics (prefix P = <app>_prom_ex_http_client; group http_client_request_event_metrics;
 * labels: method (GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, CONNECT, TRACE, else "other"),
 * scheme, host (grouped as above), port, status):
 *   P_request_duration_seconds{method,scheme,host,port,status}  histogram, from stop.
 *       Finch: finch_request_duration_milliseconds; its _count is Finch's request_count_total
 *       and Tesla's request count. Buckets 5 ms .. 30 s.
 *   P_request_exceptions_total{method,scheme,host,port,reason}  counter, from exception.
 *       Finch: finch_request_exception (count); Tesla: {:error, reason} results.
 *   P_request_phase_duration_seconds{scheme,host,port,phase}    histogram, from phase events.
 *       Finch: finch_connect_duration (= dns + connect + tls), finch_send_duration and
 *       finch_recv_duration (wait, receive). Finch's queue (pool checkout) has no libcurl 7.88
 *       counterpart (CURLINFO_QUEUE_TIME_T is 8.6+). Buckets 100 us .. 10 s.
 *   P_request_size_bytes{method,scheme,host,port}    histogram of request_size, from stop.
 *   P_response_size_bytes{method,scheme,host,port,status} histogram of response_size.
 *       Buckets 64 B .. 16 MiB (PromEx's size buckets).
 *   P_request_connections_total{scheme,host,port,connection} counter: requests on a new vs. a
 *       reused connection (connection reuse ratio; Finch's pool metrics' closest relative).
 *   P_request_redirects_total{scheme,host,port}      counter of redirects followed.
 * Group http_client_library_manual_metrics:
 *   P_library_info{curl_version,ssl_version}        gauge 1: the libcurl in use.
 *
 * Label values are bounded and valid: host is grouped and sanitised (lower case,
 * [a-z0-9.-_:[]] only, at most 128 bytes), method is one of a fixed set, status is a number or
 * "0", reason a CURLcode name.
 *
 * Threading: the metrics update lock-free on the thread that finished the transfer. */
#ifndef PROMEX_PLUGINS_HTTP_CLIENT_H
#define PROMEX_PLUGINS_HTTP_CLIENT_H

#include "promex/export.h"
#include "promex/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PMX_HTTP_CLIENT_EVENT_START "http.client.request.start"
#define PMX_HTTP_CLIENT_EVENT_STOP "http.client.request.stop"
#define PMX_HTTP_CLIENT_EVENT_EXCEPTION "http.client.request.exception"
#define PMX_HTTP_CLIENT_EVENT_PHASE "http.client.request.phase"

/* The plugin table. Name "http_client". */
PMX_EXTERN extern const pmx_plugin_t pmx_plugin_http_client;

#ifdef __cplusplus
}
#endif
#endif
