/* Push unit tests: the Pushgateway grouping-key path, URL-safe base64, the remote_write
 * WriteRequest encoding (decoded here by an independent reader and after a snappy round trip),
 * hostile exposition lines, and the sender's HTTP behaviour against a scripted receiver
 * (no retry on 4xx, retries with backoff on 5xx, headers, auth, error texts, timeouts). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_receiver.h"
#include "internal.h"
#include "promex/push.h"
#include "push/push_internal.h"

/* ---- grouping key ---------------------------------------------------------------------------- */

static char *path_of(const pmx_push_target_t *t, int *rc, pmx_error_t *err) {
  static char out[1024];
  pmx_buf_t b = {0};
  *rc = pmx_push_grouping_path(t, &b, err);
  snprintf(out, sizeof out, "%s", b.data ? b.data : "");
  pmx_buf_free(&b);
  return out;
}

static void test_grouping_path(void **state) {
  (void)state;
  int rc;
  pmx_error_t err;
  pmx_push_target_t t = {.url = "http://127.0.0.1:1", .job = "nightly"};
  assert_string_equal(path_of(&t, &rc, &err), "/metrics/job/nightly");
  pmx_push_label_t l[] = {{"instance", "x/y"}, {"team", "a b%c"}, {"empty", ""}, {"v", "1.2-_~"}};
  t.labels = l;
  t.nlabels = 4;
  assert_string_equal(path_of(&t, &rc, &err),
                      "/metrics/job/nightly/instance@base64/eC95/team/a%20b%25c/empty@base64/="
                      "/v/1.2-_~");
  assert_int_equal(rc, PMX_OK);
  t.job = "a/b"; /* the job follows the value rules too */
  t.nlabels = 0;
  assert_string_equal(path_of(&t, &rc, &err), "/metrics/job@base64/YS9i");
}

static void test_grouping_path_rejects(void **state) {
  (void)state;
  int rc;
  pmx_error_t err;
  pmx_push_label_t dup[] = {{"a", "1"}, {"a", "2"}};
  pmx_push_label_t bad[][1] = {{{"job", "x"}}, {{"__x", "x"}}, {{"1a", "x"}}, {{"a-b", "x"}},
                               {{"", "x"}}, {{"a", NULL}}};
  pmx_push_target_t t = {.url = "http://127.0.0.1:1", .job = ""};
  path_of(&t, &rc, &err);
  assert_int_equal(rc, PMX_EINVAL);
  assert_non_null(strstr(err.text, "job is required"));
  t.job = "j";
  t.url = "ftp://x";
  path_of(&t, &rc, &err);
  assert_int_equal(rc, PMX_EINVAL);
  assert_non_null(strstr(err.text, "http://"));
  t.url = "http://127.0.0.1:1";
  t.labels = dup;
  t.nlabels = 2;
  path_of(&t, &rc, &err);
  assert_int_equal(rc, PMX_EINVAL);
  assert_non_null(strstr(err.text, "twice"));
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    t.labels = bad[i];
    t.nlabels = 1;
    pmx_buf_t b = {0};
    assert_int_equal(pmx_push_grouping_path(&t, &b, &err), PMX_EINVAL);
    assert_int_equal(b.len, 0); /* nothing half-written */
    pmx_buf_free(&b);
  }
  t.labels = NULL;
  t.nlabels = 1;
  path_of(&t, &rc, &err);
  assert_int_equal(rc, PMX_EINVAL);
  assert_int_equal(pmx_push_text("x", 1, &t, PMX_PUSH_DELETE, &err), PMX_EINVAL);
}

static void test_base64url(void **state) {
  (void)state;
  /* RFC 4648 section 10 vectors (unpadded), plus the two URL-safe characters. */
  const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar", "/var/tmp", "\xfb\xff"};
  const char *want[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy", "L3Zhci90bXA",
                        "-_8"};
  for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
    pmx_buf_t b = {0};
    assert_int_equal(pmx__base64url(&b, in[i], strlen(in[i])), PMX_OK);
    assert_int_equal(pmx__buf_append_nul(&b), PMX_OK);
    assert_string_equal(b.data ? b.data : "", want[i]);
    pmx_buf_free(&b);
  }
}

/* ---- WriteRequest: an independent protobuf reader ------------------------------------------- */

typedef struct rd {
  const unsigned char *p, *end;
} rd_t;

static uint64_t rd_varint(rd_t *r) {
  uint64_t v = 0;
  for (int shift = 0; r->p < r->end && shift < 64; shift += 7) {
    unsigned char c = *r->p++;
    v |= (uint64_t)(c & 0x7f) << shift;
    if (!(c & 0x80)) return v;
  }
  fail_msg("truncated varint");
  return 0;
}

static rd_t rd_sub(rd_t *r) {
  uint64_t n = rd_varint(r);
  assert_true(n <= (uint64_t)(r->end - r->p));
  rd_t s = {r->p, r->p + n};
  r->p += n;
  return s;
}

/* Renders one decoded series as "name{a=\"1\",...} value @ts" (labels in wire order). */
static void decode_series(rd_t ts, char *out, size_t cap) {
  char labels[1024] = "";
  char sample[128] = "";
  while (ts.p < ts.end) {
    uint64_t tag = rd_varint(&ts);
    rd_t sub = rd_sub(&ts);
    if (tag == 0x0a) { /* Label */
      char nv[2][256] = {"", ""};
      while (sub.p < sub.end) {
        uint64_t t2 = rd_varint(&sub);
        rd_t s = rd_sub(&sub);
        assert_true(t2 == 0x0a || t2 == 0x12);
        snprintf(nv[t2 == 0x12], 256, "%.*s", (int)(s.end - s.p), (const char *)s.p);
      }
      size_t l = strlen(labels);
      snprintf(labels + l, sizeof labels - l, "%s%s=\"%s\"", l ? "," : "", nv[0], nv[1]);
    } else {
      assert_int_equal(tag, 0x12); /* Sample */
      double v = NAN;
      int64_t t = -1;
      while (sub.p < sub.end) {
        uint64_t t2 = rd_varint(&sub);
        if (t2 == 0x09) {
          uint64_t bits = 0;
          for (int k = 0; k < 8; k++) bits |= (uint64_t)sub.p[k] << (8 * k);
          memcpy(&v, &bits, 8);
          sub.p += 8;
        } else {
          assert_int_equal(t2, 0x10);
          t = (int64_t)rd_varint(&sub);
        }
      }
      snprintf(sample, sizeof sample, " %g @%lld", v, (long long)t);
    }
  }
  snprintf(out, cap, "{%s}%s", labels, sample);
}

static size_t decode_request(const unsigned char *p, size_t n, char out[][1024], size_t max) {
  rd_t r = {p, p + n};
  size_t k = 0;
  while (r.p < r.end) {
    assert_int_equal(rd_varint(&r), 0x0a); /* WriteRequest.timeseries */
    rd_t ts = rd_sub(&r);
    assert_true(k < max);
    decode_series(ts, out[k++], 1024);
  }
  return k;
}

static void test_encode_round_trip(void **state) {
  (void)state;
  const char text[] =
      "# HELP x_total Jobs.\n"
      "# TYPE x_total counter\n"
      "x_total{zone=\"b\",kind=\"a\\\"q\\\\\\n\",Upper=\"u\",empty=\"\"} 7\n"
      "\n"
      "h_bucket{le=\"+Inf\"} 3\n"
      "g -Inf\n"
      "n NaN\n"
      "bad{unterminated=\"x} 1\n"
      "bad2{a=\"1\"} notanumber\n"
      "bad3{a=\"1\",a=\"2\"} 1\n"
      "{a=\"1\"} 1\n"
      "ts_line 4 1700000000000\n";
  pmx__rw_batch_t b = {0};
  size_t skipped = 0;
  assert_int_equal(pmx__rw_parse_text(text, strlen(text), &b, &skipped), PMX_OK);
  assert_int_equal(b.n, 5);
  assert_int_equal(skipped, 4);
  b.ts_ms = 1733011200123LL;
  pmx_buf_t raw = {0}, z = {0};
  assert_int_equal(pmx__rw_encode(&b, 0, b.n, &raw), PMX_OK);
  assert_int_equal(pmx__rw_snappy(raw.data, raw.len, &z), PMX_OK);
  size_t ulen = 0;
  assert_int_equal(snappy_uncompressed_length(z.data, z.len, &ulen), SNAPPY_OK);
  assert_int_equal(ulen, raw.len);
  char *u = malloc(ulen);
  assert_int_equal(snappy_uncompress(z.data, z.len, u, &ulen), SNAPPY_OK);
  assert_memory_equal(u, raw.data, raw.len);
  char got[8][1024];
  size_t n = decode_request((const unsigned char *)u, ulen, got, 8);
  assert_int_equal(n, 5);
  /* Sorted by byte order (upper case before "__name__"), the empty label left out, escapes
   * undone, the exposition's own timestamp ignored in favour of the round's. */
  assert_string_equal(got[0], "{Upper=\"u\",__name__=\"x_total\",kind=\"a\"q\\\n\",zone=\"b\"} 7 "
                              "@1733011200123");
  assert_string_equal(got[1], "{__name__=\"h_bucket\",le=\"+Inf\"} 3 @1733011200123");
  assert_string_equal(got[2], "{__name__=\"g\"} -inf @1733011200123");
  assert_string_equal(got[3], "{__name__=\"n\"} nan @1733011200123");
  assert_string_equal(got[4], "{__name__=\"ts_line\"} 4 @1733011200123");
  /* A range encodes just those samples. */
  pmx_buf_t part = {0};
  assert_int_equal(pmx__rw_encode(&b, 1, 2, &part), PMX_OK);
  assert_int_equal(decode_request((const unsigned char *)part.data, part.len, got, 8), 1);
  assert_string_equal(got[0], "{__name__=\"h_bucket\",le=\"+Inf\"} 3 @1733011200123");
  free(u);
  pmx_buf_free(&part);
  pmx_buf_free(&raw);
  pmx_buf_free(&z);
  pmx__rw_batch_free(&b);
}

static void test_hostile_text(void **state) {
  (void)state;
  /* Truncations of a valid line and garbage never crash and never add a half-parsed sample. */
  const char line[] = "m{a=\"x\\\"y\",b=\"2\"} 1.5";
  for (size_t cut = 0; cut < sizeof line - 1; cut++) {
    pmx__rw_batch_t b = {0};
    size_t skipped = 0;
    assert_int_equal(pmx__rw_parse_text(line, cut, &b, &skipped), PMX_OK);
    assert_int_equal(b.n + skipped, cut ? 1 : 0);
    pmx__rw_batch_free(&b);
  }
  char noise[4096];
  srand(15);
  for (int round = 0; round < 200; round++) {
    for (size_t i = 0; i < sizeof noise; i++) noise[i] = "m{}=\",\\ 1\n#aZ_"[rand() % 15];
    pmx__rw_batch_t b = {0};
    size_t skipped = 0;
    assert_int_equal(pmx__rw_parse_text(noise, sizeof noise, &b, &skipped), PMX_OK);
    pmx_buf_t raw = {0};
    b.ts_ms = 1;
    assert_int_equal(pmx__rw_encode(&b, 0, b.n, &raw), PMX_OK);
    char got[1][1024];
    for (size_t i = 0; i < b.n; i++) { /* each sample decodes on its own */
      pmx_buf_t one = {0};
      assert_int_equal(pmx__rw_encode(&b, i, i + 1, &one), PMX_OK);
      assert_int_equal(decode_request((const unsigned char *)one.data, one.len, got, 1), 1);
      pmx_buf_free(&one);
    }
    pmx_buf_free(&raw);
    pmx__rw_batch_free(&b);
  }
}

/* ---- HTTP behaviour against a scripted receiver --------------------------------------------- */

static pmx_t *start_instance(void) {
  pmx_config_t cfg;
  pmx_config_defaults(&cfg);
  cfg.app = "u";
  cfg.metrics_server.enabled = false;
  pmx_t *p = NULL;
  pmx_error_t err;
  assert_int_equal(pmx_new(&cfg, &p, &err), PMX_OK);
  assert_int_equal(pmx_start(p, &err), PMX_OK);
  return p;
}

static pmx_remote_write_stats_t wait_stats(pmx_remote_writer_t *w, bool (*done)(const pmx_remote_write_stats_t *)) {
  pmx_remote_write_stats_t s;
  for (int i = 0; i < 500; i++) {
    assert_int_equal(pmx_remote_write_stats(w, &s), PMX_OK);
    if (done(&s)) return s;
    usleep(10000);
  }
  fail_msg("timed out");
  return s;
}

static bool one_rejected(const pmx_remote_write_stats_t *s) { return s->samples_dropped_rejected > 0; }
static bool some_sent(const pmx_remote_write_stats_t *s) { return s->samples_sent > 0; }

static void test_rw_4xx_not_retried(void **state) {
  (void)state;
  int st[] = {400};
  fake_rx_t rx;
  fake_rx_start(&rx, st, 1);
  pmx_t *p = start_instance();
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%u/api/v1/write", rx.port);
  pmx_remote_write_config_t cfg = {.url = url, .interval_ms = 60000, .bearer_token = "tok"};
  pmx_remote_writer_t *w;
  pmx_error_t err;
  assert_int_equal(pmx_remote_write_start(p, &cfg, &w, &err), PMX_OK);
  pmx_remote_write_stats_t s = wait_stats(w, one_rejected);
  usleep(300000); /* a retry would come within 50 ms */
  assert_int_equal(fake_rx_requests(&rx), 1);
  assert_int_equal(pmx_remote_write_stats(w, &s), PMX_OK);
  assert_int_equal(s.samples_sent, 0);
  assert_int_equal(s.requests_failed, 0);
  assert_int_equal(s.last_status, 400);
  assert_int_equal(s.samples_dropped_rejected, s.samples_taken);
  pthread_mutex_lock(&rx.mu);
  assert_non_null(strstr(rx.head, "POST /api/v1/write HTTP/1.1\r\n"));
  assert_non_null(strstr(rx.head, "Content-Encoding: snappy\r\n"));
  assert_non_null(strstr(rx.head, "Content-Type: application/x-protobuf\r\n"));
  assert_non_null(strstr(rx.head, "X-Prometheus-Remote-Write-Version: 0.1.0\r\n"));
  assert_non_null(strstr(rx.head, "Authorization: Bearer tok\r\n"));
  assert_non_null(strstr(rx.head, "User-Agent: promex/"));
  size_t ulen = 0;
  assert_int_equal(snappy_uncompressed_length(rx.body, rx.body_len, &ulen), SNAPPY_OK);
  pthread_mutex_unlock(&rx.mu);
  pmx_remote_write_stop(w);
  pmx_stop(p);
  pmx_destroy(p);
  fake_rx_stop(&rx);
}

static void test_rw_5xx_retried(void **state) {
  (void)state;
  int st[] = {503, 500, 429, 200};
  fake_rx_t rx;
  fake_rx_start(&rx, st, 4);
  pmx_t *p = start_instance();
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%u/w", rx.port);
  pmx_remote_write_config_t cfg = {.url = url, .interval_ms = 60000, .username = "u",
                                   .password = "p", .max_backoff_ms = 100};
  pmx_remote_writer_t *w;
  pmx_error_t err;
  assert_int_equal(pmx_remote_write_start(p, &cfg, &w, &err), PMX_OK);
  pmx_remote_write_stats_t s = wait_stats(w, some_sent);
  assert_int_equal(fake_rx_requests(&rx), 4);
  assert_int_equal(s.requests_failed, 3);
  assert_int_equal(s.samples_sent, s.samples_taken); /* the same round, sent once accepted */
  assert_int_equal(s.samples_queued, 0);
  pthread_mutex_lock(&rx.mu);
  assert_non_null(strstr(rx.head, "Authorization: Basic dTpw\r\n")); /* base64("u:p") */
  pthread_mutex_unlock(&rx.mu);
  pmx_remote_write_stop(w);
  pmx_stop(p);
  pmx_destroy(p);
  fake_rx_stop(&rx);
}

static void test_rw_bad_config(void **state) {
  (void)state;
  pmx_t *p = start_instance();
  pmx_remote_writer_t *w = (pmx_remote_writer_t *)1;
  pmx_error_t err;
  pmx_remote_write_config_t cfg = {.url = "localhost:9090"};
  assert_int_equal(pmx_remote_write_start(p, &cfg, &w, &err), PMX_EINVAL);
  assert_null(w);
  assert_int_equal(pmx_remote_write_start(p, NULL, &w, &err), PMX_EINVAL);
  pmx_stop(p);
  cfg.url = "http://127.0.0.1:1/w";
  assert_int_equal(pmx_remote_write_start(p, &cfg, &w, &err), PMX_ESTOPPED);
  pmx_destroy(p);
  pmx_remote_write_stop(NULL);
}

static void test_push_errors(void **state) {
  (void)state;
  int st[] = {500};
  fake_rx_t rx;
  fake_rx_start(&rx, st, 1);
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%u/", rx.port);
  pmx_push_target_t t = {.url = url, .job = "j", .timeout_ms = 2000};
  pmx_error_t err;
  assert_int_equal(pmx_push_text("a 1\n", 4, &t, PMX_PUSH_POST, &err), PMX_EHTTP);
  assert_non_null(strstr(err.text, "HTTP 500: fake receiver says no"));
  pthread_mutex_lock(&rx.mu);
  assert_non_null(strstr(rx.head, "POST /metrics/job/j HTTP/1.1\r\n")); /* one '/' only */
  assert_memory_equal(rx.body, "a 1\n", 4);
  rx.silent_ms = 1500;
  pthread_mutex_unlock(&rx.mu);
  t.timeout_ms = 200;
  assert_int_equal(pmx_push_text(NULL, 0, &t, PMX_PUSH_DELETE, &err), PMX_ETIMEDOUT);
  fake_rx_stop(&rx);
  assert_int_equal(pmx_push_text(NULL, 0, &t, 7, &err), PMX_EINVAL);
  assert_int_equal(pmx_push(NULL, &t, PMX_PUSH_PUT, &err), PMX_EINVAL);
}

/* [remote_write] and [push] from an INI file drive pmx_start/pmx_stop: the sender posts its
 * rounds, and pmx_stop PUTs the metrics to /metrics/job/<job>. */
static void test_config_sections(void **state) {
  (void)state;
  int st[] = {200};
  fake_rx_t rx;
  fake_rx_start(&rx, st, 1);
  char ini[512];
  snprintf(ini, sizeof ini,
           "[promex]\napp = u\n[remote_write]\nurl = http://127.0.0.1:%u/rw\ninterval_ms = 100\n"
           "queue_samples = 5000\n[push]\nurl = http://127.0.0.1:%u\njob = nightly\n",
           rx.port, rx.port);
  pmx_config_file_t *cf = NULL;
  pmx_error_t err;
  assert_int_equal(pmx_config_parse(ini, "t.ini", NULL, 0, &cf, &err), PMX_OK);
  const pmx_config_t *cfg = pmx_config_file_config(cf);
  assert_int_equal(cfg->remote_write.interval_ms, 100);
  assert_int_equal(cfg->remote_write.queue_samples, 5000);
  assert_string_equal(cfg->push.job, "nightly");
  pmx_t *p = NULL;
  assert_int_equal(pmx_new(cfg, &p, &err), PMX_OK);
  pmx_config_file_free(cf); /* pmx_new copied the strings */
  assert_int_equal(pmx_start(p, &err), PMX_OK);
  for (int i = 0; i < 300 && fake_rx_requests(&rx) < 2; i++) usleep(10000);
  assert_true(fake_rx_requests(&rx) >= 2); /* the start round and at least one interval */
  pthread_mutex_lock(&rx.mu);
  assert_non_null(strstr(rx.head, "POST /rw HTTP/1.1"));
  pthread_mutex_unlock(&rx.mu);
  assert_int_equal(pmx_stop(p), PMX_OK);
  pthread_mutex_lock(&rx.mu);
  assert_non_null(strstr(rx.head, "PUT /metrics/job/nightly HTTP/1.1")); /* the last request */
  assert_non_null(strstr(rx.body, "# TYPE u_prom_ex_prom_ex_status_info"));
  pthread_mutex_unlock(&rx.mu);
  pmx_destroy(p);
  fake_rx_stop(&rx);

  const char *bad[] = {"[promex]\napp = u\n[remote_write]\nurl = ftp://x\n",
                       "[promex]\napp = u\n[remote_write]\nurl = http://x\ninterval_ms = 5\n",
                       "[promex]\napp = u\n[push]\nurl = http://x\nnope = 1\n"};
  for (size_t i = 0; i < 3; i++) {
    cf = NULL;
    assert_int_equal(pmx_config_parse(bad[i], "bad.ini", NULL, 0, &cf, &err), PMX_ECONFIG);
    assert_null(cf);
    assert_non_null(strstr(err.text, i < 2 ? "[remote_write]" : "[push]"));
  }
  /* A section without its url would do nothing: refused at the section's line, naming the key. */
  const char *no_url[] = {"[promex]\napp = u\n[remote_write]\ninterval_ms = 1000\n",
                          "[promex]\napp = u\n\n[push]\njob = nightly\n"};
  for (size_t i = 0; i < 2; i++) {
    cf = NULL;
    memset(&err, 0, sizeof err);
    assert_int_equal(pmx_config_parse(no_url[i], "nourl.ini", NULL, 0, &cf, &err), PMX_ECONFIG);
    assert_null(cf);
    assert_non_null(strstr(err.text, "url"));
    assert_non_null(strstr(err.text, i == 0 ? "[remote_write]" : "[push]"));
    assert_int_equal(err.line, i == 0 ? 3 : 4);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_grouping_path),      cmocka_unit_test(test_grouping_path_rejects),
      cmocka_unit_test(test_base64url),          cmocka_unit_test(test_encode_round_trip),
      cmocka_unit_test(test_hostile_text),       cmocka_unit_test(test_rw_4xx_not_retried),
      cmocka_unit_test(test_rw_5xx_retried),     cmocka_unit_test(test_rw_bad_config),
      cmocka_unit_test(test_push_errors),        cmocka_unit_test(test_config_sections),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
