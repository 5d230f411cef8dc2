/* pmx_metrics_answer: the server-agnostic /metrics rules the evhttp (and other) adapters use:
 * method, body, auth, scrape errors, negotiation and gzip, each answered like the standalone
 * server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "promex/metrics_answer.h"

static int scrape_ok(void *ctx, pmx_format_t f, pmx_buf_t *b) {
  (void)ctx;
  const char *s = f == PMX_FORMAT_OPENMETRICS ? "# openmetrics\nx 1\n# EOF\n" : "x 1\n";
  b->data = strdup(s);
  b->len = strlen(s);
  b->cap = b->len + 1;
  return 0;
}
static int scrape_stopped(void *ctx, pmx_format_t f, pmx_buf_t *b) {
  (void)ctx;
  (void)f;
  (void)b;
  return PMX_ESTOPPED;
}
static int scrape_err(void *ctx, pmx_format_t f, pmx_buf_t *b) {
  (void)ctx;
  (void)f;
  (void)b;
  return PMX_ENOMEM;
}

static pmx_metrics_answer_t ask(const pmx_metrics_endpoint_t *ep, const char *method, bool body,
                                const char *authz, const char *accept, const char *enc) {
  pmx_metrics_answer_t a;
  assert_int_equal(pmx_metrics_answer(ep, method, body, authz, accept, enc, &a), PMX_OK);
  assert_non_null(a.content_type);
  return a;
}

static void test_rules(void **state) {
  (void)state;
  pmx_metrics_endpoint_t ep = {.scrape = scrape_ok};
  pmx_metrics_answer_t a = ask(&ep, "POST", false, NULL, NULL, NULL);
  assert_int_equal(a.status, 405);
  assert_string_equal(a.header_name, "Allow");
  assert_string_equal(a.header_value, "GET, HEAD");
  pmx_buf_free(&a.body);
  a = ask(&ep, "get", false, NULL, NULL, NULL); /* methods are case-sensitive */
  assert_int_equal(a.status, 405);
  pmx_buf_free(&a.body);
  a = ask(&ep, "GET", true, NULL, NULL, NULL);
  assert_int_equal(a.status, 413);
  pmx_buf_free(&a.body);
  a = ask(&ep, "HEAD", false, NULL, NULL, NULL);
  assert_int_equal(a.status, 200);
  assert_null(a.content_encoding);
  assert_memory_equal(a.body.data, "x 1\n", 4);
  pmx_buf_free(&a.body);
  a = ask(&ep, "GET", false, NULL, "application/openmetrics-text; version=1.0.0", NULL);
  assert_int_equal(a.status, 200);
  assert_non_null(strstr(a.content_type, "openmetrics"));
  pmx_buf_free(&a.body);

  pmx_metrics_answer_t z;
  assert_int_equal(pmx_metrics_answer(NULL, "GET", false, NULL, NULL, NULL, &z), PMX_EINVAL);
  assert_int_equal(pmx_metrics_answer(&ep, NULL, false, NULL, NULL, NULL, &z), PMX_EINVAL);
  assert_int_equal(pmx_metrics_answer(&ep, "GET", false, NULL, NULL, NULL, NULL), PMX_EINVAL);
  assert_true(pmx_metrics_path_matches(&ep, "/metrics"));
  assert_false(pmx_metrics_path_matches(&ep, "/metrics/"));
  assert_false(pmx_metrics_path_matches(NULL, "/metrics"));
}

static void test_auth(void **state) {
  (void)state;
  pmx_metrics_endpoint_t ep = {.scrape = scrape_ok, .auth_strategy = PMX_AUTH_BEARER,
                               .auth_token = "s3cret"};
  pmx_metrics_answer_t a = ask(&ep, "GET", false, NULL, NULL, NULL);
  assert_int_equal(a.status, 401);
  assert_string_equal(a.header_name, "WWW-Authenticate");
  pmx_buf_free(&a.body);
  a = ask(&ep, "GET", false, "Bearer wrong", NULL, NULL);
  assert_int_equal(a.status, 401);
  pmx_buf_free(&a.body);
  a = ask(&ep, "GET", false, "Bearer s3cret", NULL, NULL);
  assert_int_equal(a.status, 200);
  pmx_buf_free(&a.body);
  pmx_metrics_endpoint_t basic = {.scrape = scrape_ok, .auth_strategy = PMX_AUTH_BASIC,
                                  .auth_user = "u", .auth_password = "p"};
  a = ask(&basic, "GET", false, "Basic dTpw", NULL, NULL); /* u:p */
  assert_int_equal(a.status, 200);
  pmx_buf_free(&a.body);
  a = ask(&basic, "GET", false, "Basic dTpx", NULL, NULL); /* u:q */
  assert_int_equal(a.status, 401);
  pmx_buf_free(&a.body);
}

static void test_scrape_errors_and_gzip(void **state) {
  (void)state;
  pmx_metrics_endpoint_t ep = {.scrape = scrape_stopped};
  pmx_metrics_answer_t a = ask(&ep, "GET", false, NULL, NULL, "gzip");
  assert_int_equal(a.status, 503);
  assert_null(a.content_encoding);
  pmx_buf_free(&a.body);
  ep.scrape = scrape_err;
  a = ask(&ep, "GET", false, NULL, NULL, NULL);
  assert_int_equal(a.status, 500);
  pmx_buf_free(&a.body);
  ep.scrape = NULL;
  a = ask(&ep, "GET", false, NULL, NULL, NULL);
  assert_int_equal(a.status, 500);
  pmx_buf_free(&a.body);
  ep.scrape = scrape_ok;
  a = ask(&ep, "GET", false, NULL, NULL, "br, gzip;q=0.5");
  assert_int_equal(a.status, 200);
  assert_string_equal(a.content_encoding, "gzip");
  char plain[64];
  uLongf n = sizeof plain;
  z_stream zs = {0};
  assert_int_equal(inflateInit2(&zs, 16 + MAX_WBITS), Z_OK);
  zs.next_in = (Bytef *)a.body.data;
  zs.avail_in = (uInt)a.body.len;
  zs.next_out = (Bytef *)plain;
  zs.avail_out = (uInt)n;
  assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
  assert_int_equal(zs.total_out, 4);
  assert_memory_equal(plain, "x 1\n", 4);
  inflateEnd(&zs);
  pmx_buf_free(&a.body);
  a = ask(&ep, "GET", false, NULL, NULL, "gzip;q=0");
  assert_null(a.content_encoding);
  pmx_buf_free(&a.body);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_rules), cmocka_unit_test(test_auth),
                                     cmocka_unit_test(test_scrape_errors_and_gzip)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
