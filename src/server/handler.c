/* The request logic shared by the standalone server (server.c) and applications that run their
 * own libmicrohttpd daemon (include/promex/mhd.h): method, body, auth, negotiation, scrape,
 * compression, response headers.
 *
 * Answers are queued before libmicrohttpd reads any request body: a scrape never needs one, and
 * refusing early means a client cannot make us buffer data. (The standalone server defers bodiless
 * requests to the access handler's second call, for keep-alive; see server.c.)
 * Order of checks: method (405), announced body (413), credentials (401), then the scrape. The
 * caller has already matched the path. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "promex/mhd.h"
#include "server/server_internal.h"

#define DEFAULT_PATH "/metrics"

enum MHD_Result pmx__mhd_simple(struct MHD_Connection *c, unsigned status, const char *body,
                                const char *hname, const char *hvalue, bool close) {
  struct MHD_Response *r =
      MHD_create_response_from_buffer(strlen(body), (void *)(uintptr_t)body, MHD_RESPMEM_PERSISTENT);
  if (r == NULL) return MHD_NO;
  bool ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8") &&
            MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
  if (ok && hname != NULL && hvalue != NULL) ok = MHD_add_response_header(r, hname, hvalue);
  if (ok && close) ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
  enum MHD_Result rc = ok ? MHD_queue_response(c, status, r) : MHD_NO;
  MHD_destroy_response(r);
  return rc;
}

bool pmx_mhd_matches(const pmx_mhd_handler_t *h, const char *url) {
  if (h == NULL || url == NULL) return false;
  return strcmp(url, h->path ? h->path : DEFAULT_PATH) == 0;
}

bool pmx__mhd_has_body(struct MHD_Connection *c) {
  if (MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL)
    return true;
  const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
  if (cl == NULL) return false;
  if (*cl == '\0') return true; /* malformed: refuse rather than guess */
  for (const char *p = cl; *p; p++)
    if (*p != '0') return true;
  return false;
}

static enum MHD_Result send_metrics(struct MHD_Connection *c, pmx_format_t fmt, bool gzip,
                                    pmx_buf_t *body, bool close) {
  pmx_buf_t packed = {0};
  if (gzip && body->len > 0) {
    if (pmx_gzip(body->data, body->len, &packed) == PMX_OK) {
      pmx_buf_free(body);
      *body = packed;
    } else {
      /* Compression is optional for the client; serve the plain body rather than fail. */
      pmx_buf_free(&packed);
      gzip = false;
    }
  }
  struct MHD_Response *r;
  if (body->len == 0) {
    pmx_buf_free(body);
    r = MHD_create_response_from_buffer(0, (void *)(uintptr_t)"", MHD_RESPMEM_PERSISTENT);
  } else {
    r = MHD_create_response_from_buffer_with_free_callback(body->len, body->data, pmx__free);
    if (r == NULL) pmx_buf_free(body);
  }
  if (r == NULL) return MHD_NO;
  /* From here the response owns the body memory. */
  bool ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, pmx_format_content_type(fmt)) &&
            MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") &&
            MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept, Accept-Encoding");
  if (ok && gzip) ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
  if (ok && close) ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
  enum MHD_Result rc = ok ? MHD_queue_response(c, MHD_HTTP_OK, r) : MHD_NO;
  MHD_destroy_response(r);
  return rc;
}

enum MHD_Result pmx_mhd_handle(struct MHD_Connection *c, const char *url, const char *method,
                               const pmx_mhd_handler_t *h) {
  if (c == NULL || method == NULL || !pmx_mhd_matches(h, url)) return MHD_NO;
  return pmx__mhd_answer(c, method, h, false);
}

enum MHD_Result pmx__mhd_answer(struct MHD_Connection *c, const char *method,
                                const pmx_mhd_handler_t *h, bool close) {
  /* Methods are case-sensitive (RFC 9110 section 9.1). */
  if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
    return pmx__mhd_simple(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n",
                           MHD_HTTP_HEADER_ALLOW, "GET, HEAD", close);
  if (pmx__mhd_has_body(c))
    return pmx__mhd_simple(c, MHD_HTTP_CONTENT_TOO_LARGE, "request body not allowed\n", NULL, NULL, close);
  const char *authz = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
  if (!pmx__auth_check(h->auth_strategy, h->auth_token, h->auth_user, h->auth_password, authz))
    return pmx__mhd_simple(c, MHD_HTTP_UNAUTHORIZED, "unauthorized\n",
                           MHD_HTTP_HEADER_WWW_AUTHENTICATE, pmx__auth_challenge(h->auth_strategy), close);
  if (h->scrape == NULL)
    return pmx__mhd_simple(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "no scrape callback configured\n",
                           NULL, NULL, close);

  pmx_format_t fmt =
      pmx_format_negotiate(MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT));
  bool gzip = pmx_accepts_gzip(
      MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING));
  pmx_buf_t body = {0};
  int rc = h->scrape(h->ctx, fmt, &body);
  if (rc != PMX_OK) {
    pmx_buf_free(&body);
    if (rc == PMX_ESTOPPED)
      return pmx__mhd_simple(c, MHD_HTTP_SERVICE_UNAVAILABLE, "metrics are not available: promex is not running\n",
                             NULL, NULL, close);
    return pmx__mhd_simple(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "metrics could not be rendered\n",
                           NULL, NULL, close);
  }
  return send_metrics(c, fmt, gzip, &body, close);
}
