/* Unit tests for the server area's pure helpers: Accept / Accept-Encoding negotiation (table
 * driven, malformed headers included), content types, pmx_gzip (round trip through zlib's
 * inflate, fixed buffers), base64 decoding and the auth check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <cmocka.h>

#include "server_test_util.h"

#include "internal.h"
#include "promex/negotiate.h"
#include "server/server_internal.h"

#define OM PMX_FORMAT_OPENMETRICS
#define TEXT PMX_FORMAT_TEXT
#define PB PMX_FORMAT_PROTOBUF

static const struct {
  const char *accept;
  pmx_format_t want;
} accept_cases[] = {
    /* What Prometheus 2.42 sends, default and with native histograms. */
    {"application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
     "text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
     OM},
    {"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,"
     "application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;"
     "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
     PB},
    /* Protobuf: only the delimited MetricFamily stream, only when named, by q then order. */
    {"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,"
     "text/plain;version=0.0.4;q=0.3,*/*;q=0.2",
     PB},
    {"application/vnd.google.protobuf; proto=\"io.prometheus.client.MetricFamily\"; encoding=delimited", PB},
    {"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.4,"
     "application/openmetrics-text;q=0.5",
     OM},
    {"text/plain;q=0.5,application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
     "encoding=delimited;q=0.5",
     TEXT},
    {"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.5,"
     "text/plain;q=0.5",
     PB},
    {"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0", TEXT},
    {"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text", TEXT},
    {"application/vnd.google.protobuf;proto=io.prometheus.client.Metric;encoding=delimited", TEXT},
    {"application/vnd.google.protobuf;encoding=delimited", TEXT},
    {"application/vnd.google.protobuf", TEXT},
    {"application/*;q=1,application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
     "encoding=delimited;q=0.9",
     OM},
    {"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=\"delimited", TEXT},
    {"text/plain", TEXT},
    {"text/plain;version=0.0.4", TEXT},
    {"application/openmetrics-text", OM},
    {"APPLICATION/OpenMetrics-Text; Version=1.0.0", OM},
    {"application/openmetrics-text; version=\"1.0.0\"", OM},
    /* Only OpenMetrics 1.0.0 is offered: another version is not acceptable. */
    {"application/openmetrics-text;version=0.0.1", TEXT},
    {"application/openmetrics-text;version=0.0.1,*/*;q=0.1", TEXT},
    {"application/openmetrics-text;version=2.0.0;q=1,text/plain;q=0.1", TEXT},
    /* q-values decide; equal q: first listed wins; a lone wildcard means text. */
    {"text/plain;q=0.5,application/openmetrics-text;q=0.6", OM},
    {"text/plain;q=0.7,application/openmetrics-text;q=0.6", TEXT},
    {"application/openmetrics-text;q=0.5,text/plain;q=0.5", OM},
    {"text/plain;q=0.5,application/openmetrics-text;q=0.5", TEXT},
    {"*/*", TEXT},
    {"application/*", OM},
    {"application/*;q=0.9,text/*;q=0.8", OM},
    {"text/*;q=0.9,application/*;q=0.8", TEXT},
    /* The most specific range decides: q=0 excludes OpenMetrics despite the wildcard. */
    {"application/openmetrics-text;q=0,*/*", TEXT},
    {"application/openmetrics-text;version=1.0.0;q=0,application/openmetrics-text;q=1", TEXT},
    {"text/plain;q=0,application/openmetrics-text;q=0.001", OM},
    {"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", TEXT},
    {"application/json", TEXT},
    /* Empty, whitespace, malformed: text, or the well-formed elements count. */
    {"", TEXT},
    {"   ", TEXT},
    {",,,", TEXT},
    {"garbage", TEXT},
    {"application/", TEXT},
    {"/openmetrics-text", TEXT},
    {"*/openmetrics-text", TEXT},
    {"application/openmetrics-text;q=abc", TEXT},
    {"application/openmetrics-text;q=1.5", TEXT},
    {"application/openmetrics-text;q=0.0001", TEXT},
    {"application/openmetrics-text;q=", TEXT},
    {"application/openmetrics-text;=1", TEXT},
    {"application/openmetrics-text;version=\"1.0.0", TEXT},
    {"application/openmetrics-text;q=abc,text/plain;q=0.1", TEXT},
    {"junk junk, application/openmetrics-text", OM},
    {"application/openmetrics-text;version=\"1,0\", text/plain;q=0.2", TEXT},
    {" application/openmetrics-text ; version = 1.0.0 ; q = 1 ", OM},
    {"application/openmetrics-text;", OM},
    {"application/openmetrics-text\x01", TEXT},
};

static void test_negotiate_table(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof accept_cases / sizeof accept_cases[0]; i++) {
    pmx_format_t got = pmx_format_negotiate(accept_cases[i].accept);
    if (got != accept_cases[i].want) fail_msg("Accept \"%s\": got %d, want %d", accept_cases[i].accept, got, accept_cases[i].want);
  }
  assert_int_equal(pmx_format_negotiate(NULL), TEXT);
}

static const struct {
  const char *ae;
  bool want;
} ae_cases[] = {
    {"gzip", true},
    {"GZIP", true},
    {"x-gzip", true},
    {"gzip, deflate, br", true},
    {"deflate, gzip;q=0.5", true},
    {"gzip;q=0", false},
    {"gzip;q=0.000", false},
    {"gzip;q=0.001", true},
    {"*", true},
    {"*;q=0", false},
    {"*, gzip;q=0", false},
    {"gzip;q=0, *", false},
    {"identity", false},
    {"deflate, br", false},
    {"", false},
    {",,", false},
    {"gzipx", false},
    {"gzip;q=abc", false},
    {"gzip;q=abc, *;q=0.2", true},
    {"gzip;q=2", false},
    {"\"gzip\"", false},
    {" gzip ; q=1 ", true},
};

static void test_accepts_gzip_table(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof ae_cases / sizeof ae_cases[0]; i++) {
    bool got = pmx_accepts_gzip(ae_cases[i].ae);
    if (got != ae_cases[i].want) fail_msg("Accept-Encoding \"%s\": got %d", ae_cases[i].ae, got);
  }
  assert_false(pmx_accepts_gzip(NULL));
}

static void test_content_types(void **state) {
  (void)state;
  assert_string_equal(pmx_format_content_type(TEXT), "text/plain; version=0.0.4; charset=utf-8");
  assert_string_equal(pmx_format_content_type(OM),
                      "application/openmetrics-text; version=1.0.0; charset=utf-8");
  assert_string_equal(pmx_format_content_type(PB),
                      "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited");
}


/* A body shaped like an exposition, generated here so the test does not depend on a renderer. */
static char *make_body(size_t lines, size_t *len) {
  pmx_buf_t b = {0};
  for (size_t i = 0; i < lines; i++)
    assert_int_equal(pmx__buf_appendf(&b, "app_requests_total{route=\"/r%zu\"} %zu\n", i % 97, i * 7919 % 1000003), PMX_OK);
  *len = b.len;
  return b.data;
}

static void test_gzip_roundtrip(void **state) {
  (void)state;
  size_t sizes[] = {0, 1, 100, 20000, 200000};
  for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
    size_t len = 0;
    char *body = sizes[k] ? make_body(sizes[k], &len) : NULL;
    pmx_buf_t z = {0};
    /* Appending keeps what was there. */
    assert_int_equal(pmx__buf_append(&z, "XY", 2), PMX_OK);
    assert_int_equal(pmx_gzip(body, len, &z), PMX_OK);
    assert_true(z.len > 2 + 18); /* gzip header + trailer at least */
    assert_memory_equal(z.data, "XY", 2);
    assert_int_equal((unsigned char)z.data[2], 0x1f);
    assert_int_equal((unsigned char)z.data[3], 0x8b);
    size_t plain_len = 0;
    char *plain = gunzip(z.data + 2, z.len - 2, &plain_len);
    assert_int_equal(plain_len, len);
    if (len) assert_memory_equal(plain, body, len);
    if (len > 10000) assert_true(z.len < len / 3); /* repetitive text compresses */
    free(plain);
    pmx_buf_free(&z);
    free(body);
  }
}

static void test_gzip_fixed_buffer(void **state) {
  (void)state;
  size_t len = 0;
  char *body = make_body(5000, &len);
  pmx_buf_t owned = {0};
  assert_int_equal(pmx_gzip(body, len, &owned), PMX_OK);

  /* Too small: PMX_ELIMIT and len says exactly how much would be needed. */
  char small[64];
  pmx_buf_t fixed = {.data = small, .cap = sizeof small, .fixed = true};
  assert_int_equal(pmx_gzip(body, len, &fixed), PMX_ELIMIT);
  assert_int_equal(fixed.len, owned.len);

  /* Exactly big enough: PMX_OK and the same bytes. */
  char *exact = malloc(owned.len);
  pmx_buf_t fixed2 = {.data = exact, .cap = owned.len, .fixed = true};
  assert_int_equal(pmx_gzip(body, len, &fixed2), PMX_OK);
  assert_int_equal(fixed2.len, owned.len);
  assert_memory_equal(exact, owned.data, owned.len);
  free(exact);
  pmx_buf_free(&owned);
  free(body);
}

static void test_gzip_bad_args(void **state) {
  (void)state;
  pmx_buf_t z = {0};
  assert_int_equal(pmx_gzip(NULL, 5, &z), PMX_EINVAL);
  assert_int_equal(pmx_gzip("abc", 3, NULL), PMX_EINVAL);
  assert_int_equal(z.len, 0);
  assert_null(z.data);
}

static void test_base64(void **state) {
  (void)state;
  unsigned char out[64];
  assert_int_equal(pmx__base64_decode("dXNlcjpwYXNz", 12, out, sizeof out), 9);
  assert_memory_equal(out, "user:pass", 9);
  assert_int_equal(pmx__base64_decode("YQ==", 4, out, sizeof out), 1);
  assert_int_equal(out[0], 'a');
  assert_int_equal(pmx__base64_decode("YQ", 2, out, sizeof out), -1); /* padding is required */
  assert_int_equal(pmx__base64_decode("YWI=", 4, out, sizeof out), 2);
  assert_int_equal(pmx__base64_decode("", 0, out, sizeof out), 0);
  assert_int_equal(pmx__base64_decode("+/+/", 4, out, sizeof out), 3);
  assert_int_equal(out[0], 0xfb);
  /* Malformed. */
  assert_int_equal(pmx__base64_decode("Y", 1, out, sizeof out), -1);
  assert_int_equal(pmx__base64_decode("YQ=", 3, out, sizeof out), -1);
  assert_int_equal(pmx__base64_decode("Y===", 4, out, sizeof out), -1);
  assert_int_equal(pmx__base64_decode("YR==", 4, out, sizeof out), -1); /* non-zero spare bits */
  assert_int_equal(pmx__base64_decode("dXN!cjpw", 8, out, sizeof out), -1);
  assert_int_equal(pmx__base64_decode("YQ==YQ==", 8, out, sizeof out), -1);
  assert_int_equal(pmx__base64_decode("dXNl cjpw", 9, out, sizeof out), -1);
  /* Does not fit. */
  assert_int_equal(pmx__base64_decode("dXNlcjpwYXNz", 12, out, 8), -1);
}

static void test_auth_check(void **state) {
  (void)state;
  assert_true(pmx__auth_check(PMX_AUTH_NONE, NULL, NULL, NULL, NULL));
  assert_true(pmx__auth_check(PMX_AUTH_BEARER, "s3cret", NULL, NULL, "Bearer s3cret"));
  assert_true(pmx__auth_check(PMX_AUTH_BEARER, "s3cret", NULL, NULL, "bearer   s3cret  "));
  assert_false(pmx__auth_check(PMX_AUTH_BEARER, "s3cret", NULL, NULL, "Bearer s3cre"));
  assert_false(pmx__auth_check(PMX_AUTH_BEARER, "s3cret", NULL, NULL, "Bearer s3cretX"));
  assert_false(pmx__auth_check(PMX_AUTH_BEARER, "s3cret", NULL, NULL, "Bearers3cret"));
  assert_false(pmx__auth_check(PMX_AUTH_BEARER, "s3cret", NULL, NULL, "Basic s3cret"));
  assert_false(pmx__auth_check(PMX_AUTH_BEARER, "s3cret", NULL, NULL, "Bearer "));
  assert_false(pmx__auth_check(PMX_AUTH_BEARER, "s3cret", NULL, NULL, ""));
  assert_false(pmx__auth_check(PMX_AUTH_BEARER, "s3cret", NULL, NULL, NULL));
  assert_false(pmx__auth_check(PMX_AUTH_BEARER, NULL, NULL, NULL, "Bearer x"));
  /* "user:pa:ss" -> user "user", password "pa:ss" (split at the first colon). */
  assert_true(pmx__auth_check(PMX_AUTH_BASIC, NULL, "user", "pa:ss", "Basic dXNlcjpwYTpzcw=="));
  assert_true(pmx__auth_check(PMX_AUTH_BASIC, NULL, "user", "pass", "basic dXNlcjpwYXNz"));
  assert_false(pmx__auth_check(PMX_AUTH_BASIC, NULL, "user", "pasS", "Basic dXNlcjpwYXNz"));
  assert_false(pmx__auth_check(PMX_AUTH_BASIC, NULL, "usr", "pass", "Basic dXNlcjpwYXNz"));
  assert_false(pmx__auth_check(PMX_AUTH_BASIC, NULL, "user", "pass", "Basic dXNlcnBhc3M=")); /* no ':' */
  assert_false(pmx__auth_check(PMX_AUTH_BASIC, NULL, "user", "pass", "Basic !!!!"));
  assert_false(pmx__auth_check(PMX_AUTH_BASIC, NULL, "user", "pass", "Bearer dXNlcjpwYXNz"));
  /* An over-long credential is rejected without reading past our buffer. */
  char big[PMX__AUTH_MAX * 2];
  memcpy(big, "Basic ", 6);
  memset(big + 6, 'A', sizeof big - 7);
  big[sizeof big - 1] = '\0';
  assert_false(pmx__auth_check(PMX_AUTH_BASIC, NULL, "user", "pass", big));
  assert_string_equal(pmx__auth_challenge(PMX_AUTH_BEARER), "Bearer realm=\"promex\"");
  assert_string_equal(pmx__auth_challenge(PMX_AUTH_BASIC), "Basic realm=\"promex\", charset=\"UTF-8\"");
  assert_null(pmx__auth_challenge(PMX_AUTH_NONE));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_negotiate_table),  cmocka_unit_test(test_accepts_gzip_table),
      cmocka_unit_test(test_content_types),    cmocka_unit_test(test_gzip_roundtrip),
      cmocka_unit_test(test_gzip_fixed_buffer), cmocka_unit_test(test_gzip_bad_args),
      cmocka_unit_test(test_base64),           cmocka_unit_test(test_auth_check),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
