/* pmx_metrics_answer (include/promex/metrics_answer.h): the standalone server's request rules
 * made server-agnostic, built from the server area's own pieces (auth check and challenge,
 * format negotiation, gzip) so that every adapter's /metrics handler behaves exactly like the
 * standalone server and like promex/mhd.h. */
#include <string.h>

#include "internal.h"
#include "promex/metrics_answer.h"
#include "server/server_internal.h"

#define TEXT_PLAIN "text/plain; charset=utf-8"

bool pmx_metrics_path_matches(const pmx_metrics_endpoint_t *ep, const char *path) {
  if (ep == NULL || path == NULL) return false;
  return strcmp(path, ep->path ? ep->path : "/metrics") == 0;
}

static int plain(pmx_metrics_answer_t *out, unsigned status, const char *text, const char *hname,
                 const char *hvalue) {
  out->status = status;
  out->content_type = TEXT_PLAIN;
  out->header_name = hname;
  out->header_value = hvalue;
  if (pmx__buf_append(&out->body, text, strlen(text)) != PMX_OK) pmx_buf_free(&out->body);
  return PMX_OK;
}

int pmx_metrics_answer(const pmx_metrics_endpoint_t *ep, const char *method, bool has_body,
                       const char *authorization, const char *accept, const char *accept_encoding,
                       pmx_metrics_answer_t *out) {
  if (out == NULL) return PMX_EINVAL;
  memset(out, 0, sizeof *out);
  if (ep == NULL || method == NULL) return PMX_EINVAL;
  if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
    return plain(out, 405, "method not allowed\n", "Allow", "GET, HEAD");
  if (has_body) return plain(out, 413, "request body not allowed\n", NULL, NULL);
  if (!pmx__auth_check(ep->auth_strategy, ep->auth_token, ep->auth_user, ep->auth_password,
                       authorization))
    return plain(out, 401, "unauthorized\n", "WWW-Authenticate",
                 pmx__auth_challenge(ep->auth_strategy));
  if (ep->scrape == NULL) return plain(out, 500, "no scrape callback configured\n", NULL, NULL);
  pmx_format_t fmt = pmx_format_negotiate(accept);
  int rc = ep->scrape(ep->ctx, fmt, &out->body);
  if (rc != PMX_OK) {
    pmx_buf_free(&out->body);
    if (rc == PMX_ESTOPPED)
      return plain(out, 503, "metrics are not available: promex is not running\n", NULL, NULL);
    return plain(out, 500, "metrics could not be rendered\n", NULL, NULL);
  }
  out->status = 200;
  out->content_type = pmx_format_content_type(fmt);
  if (pmx_accepts_gzip(accept_encoding) && out->body.len > 0) {
    pmx_buf_t packed = {0};
    if (pmx_gzip(out->body.data, out->body.len, &packed) == PMX_OK) {
      pmx_buf_free(&out->body);
      out->body = packed;
      out->content_encoding = "gzip";
    } else {
      pmx_buf_free(&packed); /* compression is optional for the client: serve it plain */
    }
  }
  return PMX_OK;
}
