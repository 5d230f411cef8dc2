/* pmx_push(): the Pushgateway client (docs/push.md, protocols.md section 4).
 * The grouping key goes in the path; a value that contains '/' cannot be percent-encoded (the
 * Pushgateway decodes %2F before splitting the path), so it travels as name@base64/<base64url>,
 * and so does an empty value ("=" is the Pushgateway's spelling of empty). */
#include <string.h>

#include "internal.h"
#include "push/push_internal.h"

static bool is_label_name(const char *s) {
  if (!s || !*s) return false;
  for (const char *c = s; *c; c++) {
    bool alpha = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || *c == '_';
    bool digit = *c >= '0' && *c <= '9';
    if (!alpha && !(digit && c != s)) return false;
  }
  return true;
}

static int append_escaped(pmx_buf_t *out, const char *s) {
  static const char hex[] = "0123456789ABCDEF";
  for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
    bool plain = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                 (*c >= '0' && *c <= '9') || *c == '-' || *c == '.' || *c == '_' || *c == '~';
    char enc[3] = {'%', hex[*c >> 4], hex[*c & 15]};
    int rc = plain ? pmx__buf_append(out, c, 1) : pmx__buf_append(out, enc, 3);
    if (rc != PMX_OK) return rc;
  }
  return PMX_OK;
}

/* "/<name>/<value>" or "/<name>@base64/<b64>" */
static int append_pair(pmx_buf_t *out, const char *name, const char *value) {
  int rc = pmx__buf_append(out, "/", 1);
  if (rc == PMX_OK) rc = pmx__buf_append(out, name, strlen(name));
  if (rc != PMX_OK) return rc;
  if (!*value) return pmx__buf_append(out, "@base64/=", 9);
  if (strchr(value, '/')) {
    rc = pmx__buf_append(out, "@base64/", 8);
    return rc == PMX_OK ? pmx__base64url(out, value, strlen(value)) : rc;
  }
  rc = pmx__buf_append(out, "/", 1);
  return rc == PMX_OK ? append_escaped(out, value) : rc;
}

int pmx__push_check_target(const pmx_push_target_t *t, pmx_error_t *err) {
  if (!t) return pmx__fail(err, PMX_EINVAL, "push", "target must not be NULL");
  if (!t->url || (strncmp(t->url, "http://", 7) != 0 && strncmp(t->url, "https://", 8) != 0))
    return pmx__fail(err, PMX_EINVAL, "push", "url \"%s\" must start with http:// or https://",
                     t->url ? t->url : "(null)");
  if (!t->job || !*t->job)
    return pmx__fail(err, PMX_EINVAL, "push", "job is required and must not be empty");
  if (t->nlabels && !t->labels)
    return pmx__fail(err, PMX_EINVAL, "push", "nlabels is %zu but labels is NULL", t->nlabels);
  for (size_t i = 0; i < t->nlabels; i++) {
    const char *n = t->labels[i].name;
    if (!is_label_name(n) || strncmp(n, "__", 2) == 0 || strcmp(n, "job") == 0)
      return pmx__fail(err, PMX_EINVAL, "push",
                       "grouping label %zu: \"%s\" is not a valid label name (legacy charset, "
                       "not \"job\", not starting with \"__\")", i, n ? n : "(null)");
    if (!t->labels[i].value)
      return pmx__fail(err, PMX_EINVAL, "push", "grouping label \"%s\" has a NULL value", n);
    for (size_t j = 0; j < i; j++)
      if (strcmp(t->labels[j].name, n) == 0)
        return pmx__fail(err, PMX_EINVAL, "push", "grouping label \"%s\" appears twice", n);
  }
  return PMX_OK;
}

int pmx_push_grouping_path(const pmx_push_target_t *t, pmx_buf_t *out, pmx_error_t *err) {
  if (!out) return pmx__fail(err, PMX_EINVAL, "push", "out must not be NULL");
  int rc = pmx__push_check_target(t, err);
  if (rc != PMX_OK) return rc;
  size_t mark = out->len;
  /* "/metrics" + "/job/<job>" (or "/job@base64/<b64>"): the job follows the value rules */
  rc = pmx__buf_append(out, "/metrics", 8);
  if (rc == PMX_OK) rc = append_pair(out, "job", t->job);
  for (size_t i = 0; rc == PMX_OK && i < t->nlabels; i++)
    rc = append_pair(out, t->labels[i].name, t->labels[i].value);
  if (rc == PMX_OK) rc = pmx__buf_append_nul(out);
  if (rc != PMX_OK) {
    out->len = mark;
    return pmx__fail(err, PMX_ENOMEM, "push", "out of memory");
  }
  return PMX_OK;
}

static const char *method_name(pmx_push_method_t m) {
  switch (m) {
    case PMX_PUSH_PUT: return "PUT";
    case PMX_PUSH_POST: return "POST";
    case PMX_PUSH_DELETE: return "DELETE";
  }
  return NULL;
}

int pmx_push_text(const char *body, size_t len, const pmx_push_target_t *t,
                  pmx_push_method_t method, pmx_error_t *err) {
  const char *m = method_name(method);
  if (!m) return pmx__fail(err, PMX_EINVAL, "push", "unknown push method %d", (int)method);
  if (!body && len) return pmx__fail(err, PMX_EINVAL, "push", "body is NULL but len is %zu", len);
  if (method == PMX_PUSH_DELETE && len)
    return pmx__fail(err, PMX_EINVAL, "push", "DELETE takes no body");
  pmx_buf_t url = {0};
  int rc = pmx__push_check_target(t, err);
  if (rc != PMX_OK) return rc;
  size_t ul = strlen(t->url);
  while (ul > 0 && t->url[ul - 1] == '/') ul--;
  if (pmx__buf_append(&url, t->url, ul) != PMX_OK) {
    pmx_buf_free(&url);
    return pmx__fail(err, PMX_ENOMEM, "push", "out of memory");
  }
  rc = pmx_push_grouping_path(t, &url, err);
  if (rc == PMX_OK) {
    static const char *const hdrs[] = {"Content-Type: text/plain; version=0.0.4; charset=utf-8",
                                       NULL};
    pmx__push_req_t req = {.url = url.data, .method = m, .headers = hdrs, .body = body,
                           .len = len, .username = t->username, .password = t->password,
                           .bearer_token = t->bearer_token, .timeout_ms = t->timeout_ms};
    long status;
    rc = pmx__push_http(&req, &status, err);
  }
  pmx_buf_free(&url);
  return rc;
}
