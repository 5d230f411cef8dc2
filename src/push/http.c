/* The HTTP transport of the push area (Pushgateway and remote_write) on libcurl.
 * One easy handle per request: pushes are rare (batch end, one per interval), so reuse would buy
 * little and sharing a handle would need a lock. Response bodies are read only for error
 * messages and capped. */
#include <curl/curl.h>
#include <pthread.h>
#include <string.h>

#include "internal.h"
#include "promex/version.h"
#include "push/push_internal.h"

#define PMX__PUSH_BODY_CAP 4096u
#define PMX__PUSH_EXCERPT 200u
#define PMX__PUSH_DEFAULT_TIMEOUT_MS 10000u

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_OK;
static void curl_init_once(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

typedef struct excerpt {
  char data[PMX__PUSH_BODY_CAP + 1];
  size_t len;
} excerpt_t;

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *ud) {
  excerpt_t *e = ud;
  size_t n = size * nmemb;
  size_t room = PMX__PUSH_BODY_CAP - e->len;
  size_t take = n < room ? n : room;
  memcpy(e->data + e->len, ptr, take);
  e->len += take;
  e->data[e->len] = '\0';
  return n; /* keep reading (and discarding): the status is what matters */
}

/* A printable one-line excerpt of the answer for error messages. */
static void sanitize(char *s, size_t max) {
  size_t i = 0;
  for (; s[i] && i < max; i++)
    if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f) s[i] = ' ';
  s[i] = '\0';
  while (i > 0 && s[i - 1] == ' ') s[--i] = '\0';
}

int pmx__push_http(const pmx__push_req_t *req, long *status, pmx_error_t *err) {
  *status = 0;
  pthread_once(&curl_once, curl_init_once);
  if (curl_init_rc != CURLE_OK)
    return pmx__fail(err, PMX_EIO, "push", "curl_global_init failed: %s",
                     curl_easy_strerror(curl_init_rc));
  CURL *c = curl_easy_init();
  if (!c) return pmx__fail(err, PMX_ENOMEM, "push", "curl_easy_init failed");
  struct curl_slist *hdrs = NULL, *tmp;
  int rc = PMX_OK;
  excerpt_t *resp = pmx__calloc(1, sizeof *resp);
  if (!resp) {
    rc = pmx__fail(err, PMX_ENOMEM, "push", "out of memory");
    goto out;
  }
  for (const char *const *h = req->headers; h && *h; h++) {
    tmp = curl_slist_append(hdrs, *h);
    if (!tmp) {
      rc = pmx__fail(err, PMX_ENOMEM, "push", "out of memory");
      goto out;
    }
    hdrs = tmp;
  }
  if (req->bearer_token && *req->bearer_token) {
    pmx_buf_t b = {0};
    if (pmx__buf_appendf(&b, "Authorization: Bearer %s", req->bearer_token) != PMX_OK ||
        pmx__buf_append_nul(&b) != PMX_OK || !(tmp = curl_slist_append(hdrs, b.data))) {
      pmx_buf_free(&b);
      rc = pmx__fail(err, PMX_ENOMEM, "push", "out of memory");
      goto out;
    }
    hdrs = tmp;
    pmx_buf_free(&b);
  } else if (req->username && *req->username) {
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    curl_easy_setopt(c, CURLOPT_USERNAME, req->username);
    curl_easy_setopt(c, CURLOPT_PASSWORD, req->password ? req->password : "");
  }
  curl_easy_setopt(c, CURLOPT_URL, req->url);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
  if (strcmp(req->method, "DELETE") != 0) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? (const char *)req->body : "");
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->len);
  }
  if (hdrs) curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "promex/" PMX_VERSION_STRING);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
                   (long)(req->timeout_ms ? req->timeout_ms : PMX__PUSH_DEFAULT_TIMEOUT_MS));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  CURLcode cc = curl_easy_perform(c);
  if (cc == CURLE_OPERATION_TIMEDOUT) {
    rc = pmx__fail(err, PMX_ETIMEDOUT, "push", "%s %s: timed out: %s", req->method, req->url,
                   errbuf[0] ? errbuf : curl_easy_strerror(cc));
    goto out;
  }
  if (cc == CURLE_OUT_OF_MEMORY) {
    rc = pmx__fail(err, PMX_ENOMEM, "push", "out of memory in libcurl");
    goto out;
  }
  if (cc != CURLE_OK) {
    rc = pmx__fail(err, PMX_EIO, "push", "%s %s: %s", req->method, req->url,
                   errbuf[0] ? errbuf : curl_easy_strerror(cc));
    goto out;
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
  if (*status < 200 || *status > 299) {
    sanitize(resp->data, PMX__PUSH_EXCERPT);
    rc = pmx__fail(err, PMX_EHTTP, "push", "%s %s: HTTP %ld: %s", req->method, req->url, *status,
                   resp->data[0] ? resp->data : "(empty body)");
  }
out:
  pmx__free(resp);
  curl_slist_free_all(hdrs);
  curl_easy_cleanup(c);
  return rc;
}
