/* The metrics server and the libmicrohttpd handler, driven over loopback by libcurl: status codes,
 * headers, negotiation, auth, gzip, TLS, start-up errors, concurrency and slow clients.
 *
 * The scrape callback renders a body computed here: a fixed block of lines plus the value of an
 * atomic scrape counter, so each test can check the exact body it received. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "server_test_util.h"

#include "internal.h"
#include "promex/mhd.h"
#include "promex/server.h"

/* ---- The fake scrape ---- */

#define FIXED_LINES 400

typedef struct fake {
  atomic_int mode; /* PMX_OK, PMX_ESTOPPED, or another code to return */
  atomic_uint scrapes;
} fake_t;

static fake_t g_fake;

/* The body for scrape number `n` in `fmt`, as the fake renders it. */
static void expected_body(unsigned n, pmx_format_t fmt, pmx_buf_t *b) {
  pmx__buf_appendf(b, "# TYPE test_scrapes counter\ntest_scrapes_total %u\n", n);
  for (unsigned i = 0; i < FIXED_LINES; i++)
    pmx__buf_appendf(b, "test_fixed{i=\"%u\"} %u\n", i, i * 31u % 977u);
  if (fmt == PMX_FORMAT_OPENMETRICS) pmx__buf_appendf(b, "# EOF\n");
}

static int fake_scrape(void *ctx, pmx_format_t fmt, pmx_buf_t *out) {
  fake_t *f = ctx;
  int mode = atomic_load(&f->mode);
  if (mode != PMX_OK) return mode;
  unsigned n = atomic_fetch_add(&f->scrapes, 1) + 1;
  expected_body(n, fmt, out);
  return PMX_OK;
}

/* Parses the counter from a body and checks the rest against what the fake renders. */
static unsigned check_body(const char *body, size_t len, pmx_format_t fmt) {
  unsigned n = 0;
  if (sscanf(body, "# TYPE test_scrapes counter\ntest_scrapes_total %u\n", &n) != 1)
    fail_msg("unexpected body start: %.60s", body);
  pmx_buf_t want = {0};
  expected_body(n, fmt, &want);
  assert_int_equal(len, want.len);
  assert_memory_equal(body, want.data, len);
  pmx_buf_free(&want);
  return n;
}

/* ---- HTTP client ---- */

typedef struct resp {
  long status;
  CURLcode curl_rc;
  pmx_buf_t body;
  pmx_buf_t headers;
} resp_t;

static size_t on_data(char *p, size_t size, size_t n, void *ud) {
  pmx__buf_append(ud, p, size * n);
  return size * n;
}

typedef struct req {
  const char *method;        /* NULL: GET */
  const char *path;          /* NULL: /metrics */
  const char *host;          /* NULL: 127.0.0.1 */
  const char *scheme;        /* NULL: http */
  const char *cainfo;        /* https */
  const char *post;          /* request body */
  const char *headers[4];    /* extra request headers */
} req_t;

static uint16_t g_port;

static void do_req(const req_t *q, resp_t *r) {
  memset(r, 0, sizeof *r);
  char url[256];
  snprintf(url, sizeof url, "%s://%s:%u%s", q->scheme ? q->scheme : "http",
           q->host ? q->host : "127.0.0.1", g_port, q->path ? q->path : "/metrics");
  CURL *c = curl_easy_init();
  assert_non_null(c);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &r->headers);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  if (q->cainfo) curl_easy_setopt(c, CURLOPT_CAINFO, q->cainfo);
  if (q->post) curl_easy_setopt(c, CURLOPT_POSTFIELDS, q->post);
  if (q->method && strcmp(q->method, "HEAD") == 0)
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  else if (q->method)
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, q->method);
  struct curl_slist *hl = NULL;
  for (size_t i = 0; i < 4 && q->headers[i]; i++) hl = curl_slist_append(hl, q->headers[i]);
  if (hl) curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
  r->curl_rc = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
  curl_slist_free_all(hl);
  curl_easy_cleanup(c);
  pmx__buf_append(&r->body, "", 1); /* NUL for sscanf; not counted below */
  r->body.len--;
  pmx__buf_append(&r->headers, "", 1);
}

static void resp_free(resp_t *r) {
  pmx_buf_free(&r->body);
  pmx_buf_free(&r->headers);
}

/* Value of response header `name` (first occurrence), copied into `out`; false if absent. */
static bool header(const resp_t *r, const char *name, char *out, size_t cap) {
  size_t n = strlen(name);
  for (const char *line = r->headers.data; line && *line;) {
    const char *eol = strstr(line, "\r\n");
    if (eol == NULL) break;
    if ((size_t)(eol - line) > n && strncasecmp(line, name, n) == 0 && line[n] == ':') {
      const char *v = line + n + 1;
      while (*v == ' ') v++;
      size_t l = (size_t)(eol - v);
      if (l >= cap) l = cap - 1;
      memcpy(out, v, l);
      out[l] = '\0';
      return true;
    }
    line = eol + 2;
  }
  return false;
}

static void assert_header(const resp_t *r, const char *name, const char *want) {
  char v[256];
  if (!header(r, name, v, sizeof v)) fail_msg("header %s missing in:\n%s", name, r->headers.data);
  assert_string_equal(v, want);
}

/* ---- Server fixture ---- */

static pmx_server_t *g_srv;

static void base_config(pmx_server_config_t *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->enabled = true;
  cfg->port = 0;
  cfg->bind_address = "127.0.0.1";
  cfg->pool_size = 4;
}

static void start(const pmx_server_config_t *cfg) {
  atomic_store(&g_fake.mode, PMX_OK);
  pmx_error_t err = {0};
  int rc = pmx_server_start(cfg, fake_scrape, &g_fake, &g_srv, &err);
  if (rc != PMX_OK) fail_msg("pmx_server_start: %s: %s", pmx_err_name(rc), err.text);
  g_port = pmx_server_port(g_srv);
  assert_true(g_port > 0);
}

static int teardown(void **state) {
  (void)state;
  pmx_server_stop(g_srv);
  g_srv = NULL;
  return 0;
}

/* ---- Tests ---- */

static void test_text_and_headers(void **state) {
  (void)state;
  pmx_server_config_t cfg;
  base_config(&cfg);
  start(&cfg);
  resp_t r;
  do_req(&(req_t){0}, &r);
  assert_int_equal(r.curl_rc, CURLE_OK);
  assert_int_equal(r.status, 200);
  assert_header(&r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  assert_header(&r, "Cache-Control", "no-store");
  assert_header(&r, "Vary", "Accept, Accept-Encoding");
  char v[64];
  assert_false(header(&r, "Content-Encoding", v, sizeof v));
  check_body(r.body.data, r.body.len, PMX_FORMAT_TEXT);
  resp_free(&r);

  /* The query string is not part of the path. */
  do_req(&(req_t){.path = "/metrics?debug=1"}, &r);
  assert_int_equal(r.status, 200);
  resp_free(&r);
}

static void test_openmetrics(void **state) {
  (void)state;
  pmx_server_config_t cfg;
  base_config(&cfg);
  start(&cfg);
  resp_t r;
  do_req(&(req_t){.headers = {"Accept: application/openmetrics-text;version=1.0.0,"
                              "application/openmetrics-text;version=0.0.1;q=0.75,"
                              "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"}},
         &r);
  assert_int_equal(r.status, 200);
  assert_header(&r, "Content-Type", "application/openmetrics-text; version=1.0.0; charset=utf-8");
  check_body(r.body.data, r.body.len, PMX_FORMAT_OPENMETRICS);
  resp_free(&r);
  do_req(&(req_t){.headers = {"Accept: text/plain;version=0.0.4"}}, &r);
  assert_header(&r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  check_body(r.body.data, r.body.len, PMX_FORMAT_TEXT);
  resp_free(&r);
}

static void test_head(void **state) {
  (void)state;
  pmx_server_config_t cfg;
  base_config(&cfg);
  start(&cfg);
  resp_t get, head;
  do_req(&(req_t){0}, &get);
  do_req(&(req_t){.method = "HEAD"}, &head);
  assert_int_equal(head.curl_rc, CURLE_OK);
  assert_int_equal(head.status, 200);
  assert_int_equal(head.body.len, 0);
  assert_header(&head, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  /* Same length as the GET body: the counter has the same number of digits here. */
  char len[32];
  snprintf(len, sizeof len, "%zu", get.body.len);
  assert_header(&head, "Content-Length", len);
  resp_free(&get);
  resp_free(&head);
}

static void test_not_found(void **state) {
  (void)state;
  pmx_server_config_t cfg;
  base_config(&cfg);
  cfg.path = "/custom/metrics";
  start(&cfg);
  const char *paths[] = {"/metrics", "/", "/custom/metrics/", "/custom/metricsx", "/custom"};
  for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
    resp_t r;
    do_req(&(req_t){.path = paths[i]}, &r);
    assert_int_equal(r.status, 404);
    assert_header(&r, "Cache-Control", "no-store");
    resp_free(&r);
  }
  resp_t r;
  do_req(&(req_t){.path = "/custom/metrics"}, &r);
  assert_int_equal(r.status, 200);
  resp_free(&r);
  assert_int_equal(atomic_load(&g_fake.scrapes) > 0, 1);
}

static void test_method_not_allowed(void **state) {
  (void)state;
  pmx_server_config_t cfg;
  base_config(&cfg);
  start(&cfg);
  unsigned before = atomic_load(&g_fake.scrapes);
  const char *methods[] = {"POST", "PUT", "DELETE", "OPTIONS", "get"};
  for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
    resp_t r;
    do_req(&(req_t){.method = methods[i]}, &r);
    if (r.status != 405) fail_msg("%s: status %ld", methods[i], r.status);
    assert_header(&r, "Allow", "GET, HEAD");
    resp_free(&r);
  }
  assert_int_equal(atomic_load(&g_fake.scrapes), before); /* no scrape ran */
}

static void test_request_body_refused(void **state) {
  (void)state;
  pmx_server_config_t cfg;
  base_config(&cfg);
  start(&cfg);
  unsigned before = atomic_load(&g_fake.scrapes);
  resp_t r;
  do_req(&(req_t){.method = "GET", .post = "a=1&b=2"}, &r);
  assert_int_equal(r.status, 413);
  resp_free(&r);
  do_req(&(req_t){.headers = {"Transfer-Encoding: chunked"}, .method = "GET", .post = "x"}, &r);
  assert_int_equal(r.status, 413);
  resp_free(&r);
  /* POST with a body is a method problem first. */
  do_req(&(req_t){.method = "POST", .post = "a=1"}, &r);
  assert_int_equal(r.status, 405);
  resp_free(&r);
  assert_int_equal(atomic_load(&g_fake.scrapes), before);
  /* The server still answers afterwards. */
  do_req(&(req_t){0}, &r);
  assert_int_equal(r.status, 200);
  resp_free(&r);
}

static void test_bearer(void **state) {
  (void)state;
  pmx_server_config_t cfg;
  base_config(&cfg);
  cfg.auth_strategy = PMX_AUTH_BEARER;
  cfg.auth_token = "t0ken-with-some-length";
  start(&cfg);
  resp_t r;
  do_req(&(req_t){.headers = {"Authorization: Bearer t0ken-with-some-length"}}, &r);
  assert_int_equal(r.status, 200);
  check_body(r.body.data, r.body.len, PMX_FORMAT_TEXT);
  resp_free(&r);
  const char *bad[] = {"Authorization: Bearer t0ken-with-some-lengtH",
                       "Authorization: Bearer t0ken-with-some-lengt",
                       "Authorization: Bearer t0ken-with-some-length2",
                       "Authorization: Basic dDBrZW4td2l0aC1zb21lLWxlbmd0aA==", NULL};
  unsigned before = atomic_load(&g_fake.scrapes);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    do_req(&(req_t){.headers = {bad[i]}}, &r);
    if (r.status != 401) fail_msg("%s: status %ld", bad[i] ? bad[i] : "(none)", r.status);
    assert_header(&r, "WWW-Authenticate", "Bearer realm=\"promex\"");
    resp_free(&r);
  }
  assert_int_equal(atomic_load(&g_fake.scrapes), before);
}

static void test_basic(void **state) {
  (void)state;
  pmx_server_config_t cfg;
  base_config(&cfg);
  cfg.auth_strategy = PMX_AUTH_BASIC;
  cfg.auth_user = "prom";
  cfg.auth_password = "p@ss:word";
  start(&cfg);
  resp_t r;
  /* base64("prom:p@ss:word") */
  do_req(&(req_t){.headers = {"Authorization: Basic cHJvbTpwQHNzOndvcmQ="}}, &r);
  assert_int_equal(r.status, 200);
  resp_free(&r);
  const char *bad[] = {
      "Authorization: Basic cHJvbXg6cEBzczp3b3Jk", /* promx:p@ss:word (wrong user) */
      "Authorization: Basic cHJvbTpwQHNzOndvcmQx", /* prom:p@ss:word1 (wrong password) */
      "Authorization: Basic cHJvbTo=",             /* prom: (empty password) */
      "Authorization: Basic cHJvbQ==",             /* prom (no colon) */
      "Authorization: Basic !!not-base64!!",       /* malformed */
      "Authorization: Basic cHJvbTpwQHNzOndvcmQ",  /* bad length */
      "Authorization: Bearer cHJvbTpwQHNzOndvcmQ=",
      NULL};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    do_req(&(req_t){.headers = {bad[i]}}, &r);
    if (r.status != 401) fail_msg("%s: status %ld", bad[i] ? bad[i] : "(none)", r.status);
    assert_header(&r, "WWW-Authenticate", "Basic realm=\"promex\", charset=\"UTF-8\"");
    resp_free(&r);
  }
  /* curl's own basic auth encoding agrees with ours. */
  memset(&r, 0, sizeof r);
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%u/metrics", g_port);
  CURL *c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_USERPWD, "prom:p@ss:word");
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
  assert_int_equal(curl_easy_perform(c), CURLE_OK);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  curl_easy_cleanup(c);
  assert_int_equal(r.status, 200);
  resp_free(&r);
}


static void test_gzip(void **state) {
  (void)state;
  pmx_server_config_t cfg;
  base_config(&cfg);
  start(&cfg);
  resp_t r;
  do_req(&(req_t){.headers = {"Accept-Encoding: gzip", "Accept: application/openmetrics-text"}}, &r);
  assert_int_equal(r.status, 200);
  assert_header(&r, "Content-Encoding", "gzip");
  assert_header(&r, "Vary", "Accept, Accept-Encoding");
  assert_header(&r, "Content-Type", "application/openmetrics-text; version=1.0.0; charset=utf-8");
  size_t plain_len = 0;
  char *plain = gunzip(r.body.data, r.body.len, &plain_len);
  assert_true(r.body.len < plain_len / 2);
  check_body(plain, plain_len, PMX_FORMAT_OPENMETRICS);
  free(plain);
  resp_free(&r);
  /* gzip;q=0: identity. */
  do_req(&(req_t){.headers = {"Accept-Encoding: gzip;q=0, identity"}}, &r);
  char v[32];
  assert_false(header(&r, "Content-Encoding", v, sizeof v));
  check_body(r.body.data, r.body.len, PMX_FORMAT_TEXT);
  resp_free(&r);
}

static void test_scrape_errors(void **state) {
  (void)state;
  pmx_server_config_t cfg;
  base_config(&cfg);
  start(&cfg);
  resp_t r;
  atomic_store(&g_fake.mode, PMX_ESTOPPED);
  do_req(&(req_t){0}, &r);
  assert_int_equal(r.status, 503);
  assert_header(&r, "Cache-Control", "no-store");
  resp_free(&r);
  atomic_store(&g_fake.mode, PMX_ENOMEM);
  do_req(&(req_t){0}, &r);
  assert_int_equal(r.status, 500);
  resp_free(&r);
  atomic_store(&g_fake.mode, PMX_OK);
  do_req(&(req_t){0}, &r);
  assert_int_equal(r.status, 200);
  resp_free(&r);
}

/* A body far larger than the per-connection memory limit (16 KiB) still goes out whole. */
#define BIG_LINES 100000

static void big_body(pmx_buf_t *b) {
  for (unsigned i = 0; i < BIG_LINES; i++)
    pmx__buf_appendf(b, "big_series{n=\"%u\"} %u\n", i, i * 2654435761u % 1000u);
}

static int big_scrape(void *ctx, pmx_format_t fmt, pmx_buf_t *out) {
  big_body(out);
  return PMX_OK;
}

static void test_large_body(void **state) {
  (void)state;
  pmx_server_config_t cfg;
  base_config(&cfg);
  pmx_error_t err;
  assert_int_equal(pmx_server_start(&cfg, big_scrape, NULL, &g_srv, &err), PMX_OK);
  g_port = pmx_server_port(g_srv);
  pmx_buf_t want = {0};
  big_body(&want);
  assert_true(want.len > 2000000);
  resp_t r;
  do_req(&(req_t){0}, &r);
  assert_int_equal(r.status, 200);
  assert_int_equal(r.body.len, want.len);
  assert_memory_equal(r.body.data, want.data, want.len);
  resp_free(&r);
  do_req(&(req_t){.headers = {"Accept-Encoding: gzip"}}, &r);
  assert_header(&r, "Content-Encoding", "gzip");
  size_t n = 0;
  char *plain = gunzip(r.body.data, r.body.len, &n);
  assert_int_equal(n, want.len);
  assert_memory_equal(plain, want.data, n);
  free(plain);
  resp_free(&r);
  pmx_buf_free(&want);
}

/* ---- TLS ---- */

static double now_s(void);

static char g_tmpdir[64];
static char g_cert[128], g_key[128];

static bool make_cert(void) {
  if (g_cert[0]) return true;
  strcpy(g_tmpdir, "/tmp/pmx_server_test_XXXXXX");
  if (mkdtemp(g_tmpdir) == NULL) return false;
  snprintf(g_cert, sizeof g_cert, "%s/cert.pem", g_tmpdir);
  snprintf(g_key, sizeof g_key, "%s/key.pem", g_tmpdir);
  char cmd[512];
  snprintf(cmd, sizeof cmd,
           "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 "
           "-addext subjectAltName=IP:127.0.0.1 -days 1 -keyout %s -out %s >/dev/null 2>&1",
           g_key, g_cert);
  return system(cmd) == 0;
}

static void test_https(void **state) {
  (void)state;
  if (!make_cert()) skip();
  pmx_server_config_t cfg;
  base_config(&cfg);
  cfg.protocol = PMX_PROTO_HTTPS;
  cfg.cert_file = g_cert;
  cfg.key_file = g_key;
  cfg.auth_strategy = PMX_AUTH_BEARER;
  cfg.auth_token = "tls-token";
  start(&cfg);
  resp_t r;
  do_req(&(req_t){.scheme = "https", .cainfo = g_cert, .headers = {"Authorization: Bearer tls-token"}}, &r);
  if (r.curl_rc != CURLE_OK) fail_msg("curl: %s", curl_easy_strerror(r.curl_rc));
  assert_int_equal(r.status, 200);
  check_body(r.body.data, r.body.len, PMX_FORMAT_TEXT);
  resp_free(&r);
  /* Plain HTTP to the TLS port does not get metrics. */
  do_req(&(req_t){.headers = {"Authorization: Bearer tls-token"}}, &r);
  assert_true(r.status != 200);
  resp_free(&r);
}

/* Keep-alive over TLS: several scrapes on one libcurl handle share one connection (one
 * handshake); before keep-alive every scrape paid a new one. */
static void test_https_keepalive(void **state) {
  (void)state;
  if (!make_cert()) skip();
  pmx_server_config_t cfg;
  base_config(&cfg);
  cfg.protocol = PMX_PROTO_HTTPS;
  cfg.cert_file = g_cert;
  cfg.key_file = g_key;
  start(&cfg);
  char url[64];
  snprintf(url, sizeof url, "https://127.0.0.1:%u/metrics", g_port);
  CURL *c = curl_easy_init();
  pmx_buf_t body = {0};
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CAINFO, g_cert);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
  long opened = 0;
  for (int i = 0; i < 5; i++) {
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    long code = 0, nc = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &nc);
    assert_int_equal(code, 200);
    opened += nc;
  }
  curl_easy_cleanup(c);
  pmx_buf_free(&body);
  assert_int_equal(opened, 1);
}

/* The header deadline covers the TLS handshake: a client trickling a ClientHello is cut after
 * header_timeout_s, without any plaintext written into the TLS stream. */
static void test_https_header_deadline(void **state) {
  (void)state;
  if (!make_cert()) skip();
  pmx_server_config_t cfg;
  base_config(&cfg);
  cfg.protocol = PMX_PROTO_HTTPS;
  cfg.cert_file = g_cert;
  cfg.key_file = g_key;
  cfg.header_timeout_s = 1;
  start(&cfg);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(g_port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
  /* A TLS record header announcing a 512-byte handshake message, then one byte per 100 ms. */
  static const unsigned char hello[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc};
  double t0 = now_s();
  bool closed = false;
  size_t sent = 0;
  pmx_buf_t got = {0};
  while (!closed && now_s() - t0 < 5.0) {
    unsigned char byte = sent < sizeof hello ? hello[sent] : 0x00;
    if (send(fd, &byte, 1, MSG_NOSIGNAL) == 1) sent++;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 100) == 1) {
      char buf[256];
      ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0)
        closed = true;
      else
        pmx__buf_append(&got, buf, (size_t)n);
    }
  }
  double took = now_s() - t0;
  close(fd);
  assert_true(closed);
  assert_true(took >= 0.8 && took < (getenv("PMX_UNDER_VALGRIND") ? 10.0 : 2.5));
  assert_true(got.len < 5 || memcmp(got.data, "HTTP/", 5) != 0);
  pmx_buf_free(&got);
}

static void test_bad_tls_files(void **state) {
  (void)state;
  if (!make_cert()) skip();
  pmx_server_config_t cfg;
  base_config(&cfg);
  cfg.protocol = PMX_PROTO_HTTPS;
  pmx_error_t err = {0};
  pmx_server_t *s = NULL;

  cfg.cert_file = "/nonexistent/cert.pem";
  cfg.key_file = g_key;
  assert_int_equal(pmx_server_start(&cfg, fake_scrape, &g_fake, &s, &err), PMX_ECONFIG);
  assert_null(s);
  assert_non_null(strstr(err.text, "/nonexistent/cert.pem"));

  cfg.cert_file = g_cert;
  cfg.key_file = "/nonexistent/key.pem";
  assert_int_equal(pmx_server_start(&cfg, fake_scrape, &g_fake, &s, &err), PMX_ECONFIG);
  assert_non_null(strstr(err.text, "/nonexistent/key.pem"));

  /* Readable but not a certificate. */
  char junk[160];
  snprintf(junk, sizeof junk, "%s/junk.pem", g_tmpdir);
  FILE *f = fopen(junk, "w");
  /* (A PEM block with a bad body would do too, but GnuTLS 3.7.9 leaks on that path.) */
  fputs("this is not a certificate\n", f);
  fclose(f);
  cfg.cert_file = junk;
  cfg.key_file = g_key;
  memset(&err, 0, sizeof err);
  assert_int_equal(pmx_server_start(&cfg, fake_scrape, &g_fake, &s, &err), PMX_ECONFIG);
  assert_non_null(strstr(err.text, junk));
  /* A key that does not belong to the certificate. */
  char other_key[160], other_cert[160], cmd[512];
  snprintf(other_key, sizeof other_key, "%s/other_key.pem", g_tmpdir);
  snprintf(other_cert, sizeof other_cert, "%s/other_cert.pem", g_tmpdir);
  snprintf(cmd, sizeof cmd,
           "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=other -days 1 -keyout %s -out %s "
           ">/dev/null 2>&1", other_key, other_cert);
  assert_int_equal(system(cmd), 0);
  cfg.cert_file = g_cert;
  cfg.key_file = other_key;
  memset(&err, 0, sizeof err);
  assert_int_equal(pmx_server_start(&cfg, fake_scrape, &g_fake, &s, &err), PMX_ECONFIG);
  assert_non_null(strstr(err.text, other_key));
  assert_null(s);
  /* Certificate and key swapped. */
  cfg.cert_file = g_key;
  cfg.key_file = g_cert;
  assert_int_equal(pmx_server_start(&cfg, fake_scrape, &g_fake, &s, &err), PMX_ECONFIG);
  /* https without files. */
  cfg.cert_file = NULL;
  assert_int_equal(pmx_server_start(&cfg, fake_scrape, &g_fake, &s, &err), PMX_ECONFIG);
  assert_null(s);
}

/* ---- Start-up errors ---- */

static void test_port_in_use(void **state) {
  (void)state;
  pmx_server_config_t cfg;
  base_config(&cfg);
  start(&cfg);
  pmx_server_config_t cfg2 = cfg;
  cfg2.port = g_port;
  pmx_error_t err = {0};
  pmx_server_t *s = NULL;
  assert_int_equal(pmx_server_start(&cfg2, fake_scrape, &g_fake, &s, &err), PMX_ESYS);
  assert_null(s);
  assert_int_equal(err.code, PMX_ESYS);
  char port[16];
  snprintf(port, sizeof port, "port %u", g_port);
  assert_non_null(strstr(err.text, port));
  assert_non_null(strstr(err.text, "127.0.0.1"));
  assert_non_null(strstr(err.text, strerror(EADDRINUSE)));
  /* The first server is unaffected. */
  resp_t r;
  do_req(&(req_t){0}, &r);
  assert_int_equal(r.status, 200);
  resp_free(&r);
}

static void test_bad_config(void **state) {
  (void)state;
  pmx_server_config_t cfg;
  pmx_error_t err;
  pmx_server_t *s = NULL;
  base_config(&cfg);
  assert_int_equal(pmx_server_start(NULL, fake_scrape, NULL, &s, &err), PMX_EINVAL);
  assert_int_equal(pmx_server_start(&cfg, NULL, NULL, &s, &err), PMX_EINVAL);
  assert_int_equal(pmx_server_start(&cfg, fake_scrape, NULL, NULL, &err), PMX_EINVAL);

  const char *addrs[] = {"127.0.0.256", "::g", "", "[127.0.0.1]x"};
  for (size_t i = 0; i < sizeof addrs / sizeof addrs[0]; i++) {
    base_config(&cfg);
    cfg.bind_address = addrs[i];
    memset(&err, 0, sizeof err);
    assert_int_equal(pmx_server_start(&cfg, fake_scrape, NULL, &s, &err), PMX_ECONFIG);
    assert_non_null(strstr(err.text, "bind_address"));
  }
  base_config(&cfg);
  cfg.auth_strategy = PMX_AUTH_BEARER;
  assert_int_equal(pmx_server_start(&cfg, fake_scrape, NULL, &s, &err), PMX_ECONFIG);
  assert_non_null(strstr(err.text, "auth_token"));
  base_config(&cfg);
  cfg.auth_strategy = PMX_AUTH_BASIC;
  cfg.auth_user = "u";
  assert_int_equal(pmx_server_start(&cfg, fake_scrape, NULL, &s, &err), PMX_ECONFIG);
  cfg.auth_user = "a:b";
  cfg.auth_password = "p";
  assert_int_equal(pmx_server_start(&cfg, fake_scrape, NULL, &s, &err), PMX_ECONFIG);
  base_config(&cfg);
  cfg.path = "metrics";
  assert_int_equal(pmx_server_start(&cfg, fake_scrape, NULL, &s, &err), PMX_ECONFIG);
  base_config(&cfg);
  cfg.pool_size = 8;
  cfg.max_connections = 4;
  assert_int_equal(pmx_server_start(&cfg, fake_scrape, NULL, &s, &err), PMX_ECONFIG);
  assert_non_null(strstr(err.text, "pool_size"));
  base_config(&cfg);
  cfg.auth_strategy = (pmx_auth_strategy_t)7;
  assert_int_equal(pmx_server_start(&cfg, fake_scrape, NULL, &s, &err), PMX_ECONFIG);
  assert_null(s);
  assert_int_equal(pmx_server_port(NULL), 0);
  pmx_server_stop(NULL);
}

static void test_bind_addresses(void **state) {
  (void)state;
  /* Default: all interfaces, dual stack when the host has IPv6. */
  pmx_server_config_t cfg;
  base_config(&cfg);
  cfg.bind_address = NULL;
  start(&cfg);
  resp_t r;
  do_req(&(req_t){0}, &r);
  assert_int_equal(r.status, 200);
  resp_free(&r);
  int probe = socket(AF_INET6, SOCK_STREAM, 0);
  struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(g_port), .sin6_addr = IN6ADDR_LOOPBACK_INIT};
  bool have_v6 = probe >= 0 && connect(probe, (struct sockaddr *)&a6, sizeof a6) == 0;
  if (probe >= 0) close(probe);
  if (have_v6) {
    do_req(&(req_t){.host = "[::1]"}, &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
  }
  pmx_server_stop(g_srv);
  g_srv = NULL;
  /* An explicit IPv6 literal, bracketed or not. */
  if (have_v6) {
    base_config(&cfg);
    cfg.bind_address = "[::1]";
    start(&cfg);
    do_req(&(req_t){.host = "[::1]"}, &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
  }
}

/* ---- Concurrency ---- */

#define THREADS 8
#define PER_THREAD 25

static atomic_int g_ok;
static unsigned g_seen[THREADS * PER_THREAD];

static void *scraper(void *arg) {
  size_t t = (size_t)(uintptr_t)arg;
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%u/metrics", g_port);
  CURL *c = curl_easy_init(); /* one handle per thread: keep-alive like Prometheus */
  for (int i = 0; i < PER_THREAD; i++) {
    pmx_buf_t body = {0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    pmx__buf_append(&body, "", 1);
    unsigned n = 0;
    if (status == 200 && sscanf(body.data, "# TYPE test_scrapes counter\ntest_scrapes_total %u\n", &n) == 1) {
      pmx_buf_t want = {0};
      expected_body(n, PMX_FORMAT_TEXT, &want);
      if (want.len == body.len - 1 && memcmp(want.data, body.data, want.len) == 0) {
        atomic_fetch_add(&g_ok, 1);
        g_seen[t * PER_THREAD + (size_t)i] = n;
      }
      pmx_buf_free(&want);
    }
    pmx_buf_free(&body);
  }
  curl_easy_cleanup(c);
  return NULL;
}

static int cmp_unsigned(const void *a, const void *b) {
  unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
  return (x > y) - (x < y);
}

static void test_concurrent(void **state) {
  (void)state;
  pmx_server_config_t cfg;
  base_config(&cfg);
  cfg.pool_size = 4;
  start(&cfg);
  atomic_store(&g_fake.scrapes, 0);
  atomic_store(&g_ok, 0);
  pthread_t th[THREADS];
  for (size_t t = 0; t < THREADS; t++)
    assert_int_equal(pthread_create(&th[t], NULL, scraper, (void *)(uintptr_t)t), 0);
  for (size_t t = 0; t < THREADS; t++) pthread_join(th[t], NULL);
  assert_int_equal(atomic_load(&g_ok), THREADS * PER_THREAD);
  /* Every scrape ran exactly once: the counters seen are 1..200, each once. */
  qsort(g_seen, THREADS * PER_THREAD, sizeof g_seen[0], cmp_unsigned);
  for (unsigned i = 0; i < THREADS * PER_THREAD; i++) assert_int_equal(g_seen[i], i + 1);
}

/* ---- Slow clients ---- */

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_slow_client(void **state) {
  (void)state;
  pmx_server_config_t cfg;
  base_config(&cfg);
  cfg.timeout_s = 1;
  cfg.pool_size = 1; /* one thread: the slow client shares it with every scrape */
  start(&cfg);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(g_port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
  const char *half = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAcc";
  assert_int_equal(send(fd, half, strlen(half), 0), (ssize_t)strlen(half));
  double t0 = now_s();
  for (int i = 0; i < 5; i++) {
    resp_t r;
    do_req(&(req_t){0}, &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
  }
  assert_true(now_s() - t0 < 0.9); /* not held up by the slow client */
  /* The server closes the idle half request after about timeout_s. */
  struct pollfd p = {.fd = fd, .events = POLLIN};
  int pr = poll(&p, 1, 5000);
  assert_int_equal(pr, 1);
  char buf[512];
  ssize_t n = recv(fd, buf, sizeof buf, 0);
  assert_true(n <= 0 || strncmp(buf, "HTTP/1.1 200", 12) != 0);
  double waited = now_s() - t0;
  assert_true(waited >= 0.9);
  assert_true(waited < 4.0);
  close(fd);
}

/* ---- The handler inside an application's own daemon ---- */

static pmx_mhd_handler_t g_app_metrics = {
    .path = "/internal/metrics", .auth_strategy = PMX_AUTH_BEARER, .auth_token = "app", .scrape = fake_scrape, .ctx = &g_fake};

static enum MHD_Result app_handler(void *cls, struct MHD_Connection *c, const char *url,
                                   const char *method, const char *version, const char *upload,
                                   size_t *upload_size, void **req_cls) {
  if (pmx_mhd_matches(&g_app_metrics, url)) return pmx_mhd_handle(c, url, method, &g_app_metrics);
  /* pmx_mhd_handle declines other paths without touching the connection. */
  if (pmx_mhd_handle(c, url, method, &g_app_metrics) != MHD_NO) return MHD_NO;
  static char hello[] = "hello from the app\n";
  struct MHD_Response *r = MHD_create_response_from_buffer(strlen(hello), hello, MHD_RESPMEM_PERSISTENT);
  enum MHD_Result rc = MHD_queue_response(c, 200, r);
  MHD_destroy_response(r);
  return rc;
}

static void test_mhd_handler(void **state) {
  (void)state;
  atomic_store(&g_fake.mode, PMX_OK);
  struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, 0, NULL, NULL,
                                          app_handler, NULL, MHD_OPTION_END);
  assert_non_null(d);
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
  g_port = info->port;
  resp_t r;
  do_req(&(req_t){.path = "/hello"}, &r);
  assert_int_equal(r.status, 200);
  assert_string_equal(r.body.data, "hello from the app\n");
  resp_free(&r);
  do_req(&(req_t){.path = "/internal/metrics", .headers = {"Authorization: Bearer app", "Accept-Encoding: gzip"}}, &r);
  assert_int_equal(r.status, 200);
  assert_header(&r, "Content-Encoding", "gzip");
  resp_free(&r);
  do_req(&(req_t){.path = "/internal/metrics"}, &r);
  assert_int_equal(r.status, 401);
  resp_free(&r);
  do_req(&(req_t){.path = "/internal/metrics", .method = "DELETE"}, &r);
  assert_int_equal(r.status, 405);
  resp_free(&r);
  MHD_stop_daemon(d);

  pmx_mhd_handler_t dflt = {.scrape = fake_scrape};
  assert_true(pmx_mhd_matches(&dflt, "/metrics"));
  assert_false(pmx_mhd_matches(&dflt, "/metrics/"));
  assert_false(pmx_mhd_matches(&dflt, NULL));
  assert_false(pmx_mhd_matches(NULL, "/metrics"));
  assert_int_equal(pmx_mhd_handle(NULL, "/metrics", "GET", &dflt), MHD_NO);
}

static int group_setup(void **state) {
  (void)state;
  return curl_global_init(CURL_GLOBAL_ALL) == CURLE_OK ? 0 : -1;
}

static int group_teardown(void **state) {
  (void)state;
  if (g_cert[0]) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_tmpdir);
    if (system(cmd) != 0) return -1;
  }
  curl_global_cleanup();
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_text_and_headers, teardown),
      cmocka_unit_test_teardown(test_openmetrics, teardown),
      cmocka_unit_test_teardown(test_head, teardown),
      cmocka_unit_test_teardown(test_not_found, teardown),
      cmocka_unit_test_teardown(test_method_not_allowed, teardown),
      cmocka_unit_test_teardown(test_request_body_refused, teardown),
      cmocka_unit_test_teardown(test_bearer, teardown),
      cmocka_unit_test_teardown(test_basic, teardown),
      cmocka_unit_test_teardown(test_gzip, teardown),
      cmocka_unit_test_teardown(test_scrape_errors, teardown),
      cmocka_unit_test_teardown(test_large_body, teardown),
      cmocka_unit_test_teardown(test_https, teardown),
      cmocka_unit_test_teardown(test_https_keepalive, teardown),
      cmocka_unit_test_teardown(test_https_header_deadline, teardown),
      cmocka_unit_test_teardown(test_bad_tls_files, teardown),
      cmocka_unit_test_teardown(test_port_in_use, teardown),
      cmocka_unit_test_teardown(test_bad_config, teardown),
      cmocka_unit_test_teardown(test_bind_addresses, teardown),
      cmocka_unit_test_teardown(test_concurrent, teardown),
      cmocka_unit_test_teardown(test_slow_client, teardown),
      cmocka_unit_test(test_mhd_handler),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
