/* The libcurl adapter of the http_client plugin (promex/plugins/http_client.h): makes libcurl
 * transfers emit the http.client.request.* events, read from curl_easy_getinfo() once a transfer
 * is done. libcurl has no global "transfer done" hook, so the program hands each finished
 * transfer over with one call; nothing about the transfer itself changes (no option is set on the
 * handle, no callback replaced).
 *
 *   pmx_curl_t *pc;
 *   pmx_curl_new(pmx_bus(p), &pc);                      // once, after pmx_new()
 *
 *   res = pmx_curl_easy_perform(pc, easy);              // easy: instead of curl_easy_perform
 *   // or: res = curl_easy_perform(easy); pmx_curl_observe(pc, easy, res);
 *
 *   while ((msg = pmx_curl_multi_info_read(pc, multi, &left)))   // multi: instead of
 *     ...                                                        // curl_multi_info_read
 *   // or call pmx_curl_observe(pc, msg->easy_handle, msg->data.result) on each CURLMSG_DONE.
 *
 * Cost: 13 curl_easy_getinfo() calls, one URL parse (curl_url) and up to nine lock-free emits
 * per transfer: about 5 us (bench/clients/bench_clients.c; docs/clients.md has the numbers).
 *
 * Threading: a pmx_curl_t is immutable after creation and may be used from any number of threads
 * at once; a CURL handle is used only by the thread that passes it (libcurl's own rule). */
#ifndef PROMEX_CURL_H
#define PROMEX_CURL_H

#include <curl/curl.h>

#include "promex/event.h"
#include "promex/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pmx_curl pmx_curl_t;

/* Resolves the events on `bus` (borrowed; it must outlive the handle: pmx_bus(p) lives until
 * pmx_destroy(p)). *out is owned by the caller (pmx_curl_free). Returns PMX_OK, PMX_EINVAL (NULL
 * argument), PMX_ENOMEM. */
PMX_EXTERN int pmx_curl_new(pmx_bus_t *bus, pmx_curl_t **out);

/* Frees the handle. NULL is a no-op. No call may be using it. */
PMX_EXTERN void pmx_curl_free(pmx_curl_t *pc);

/* Emits the events of one finished transfer: start (with its monotonic_time set back by the
 * transfer's duration), then stop and the phase events when a response arrived (`result`
 * CURLE_OK, or CURLE_HTTP_RETURNED_ERROR with a status), exception otherwise. Returns PMX_OK, or
 * PMX_EINVAL (NULL handle or easy). */
PMX_EXTERN int pmx_curl_observe(pmx_curl_t *pc, CURL *easy, CURLcode result);

/* curl_easy_perform(easy) followed by pmx_curl_observe(); returns what curl_easy_perform
 * returned. With a NULL `pc` it only performs. */
PMX_EXTERN CURLcode pmx_curl_easy_perform(pmx_curl_t *pc, CURL *easy);

/* curl_multi_info_read(multi, msgs_in_queue); each CURLMSG_DONE message it returns is observed
 * first. The message is returned unchanged (same pointer, same lifetime rules). */
PMX_EXTERN CURLMsg *pmx_curl_multi_info_read(pmx_curl_t *pc, CURLM *multi, int *msgs_in_queue);

/* The name of a CURLcode without the CURLE_ prefix ("COULDNT_CONNECT"); "UNKNOWN" for a code
 * this promex does not know. Static storage. */
PMX_EXTERN const char *pmx_curl_code_name(CURLcode code);

#ifdef __cplusplus
}
#endif
#endif
