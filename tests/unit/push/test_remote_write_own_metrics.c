/* remote_write's and push's counts in promex's own metrics, against a scripted loopback
 * receiver: through an outage (503s, a queue too small for a round) the exposition shows
 * exactly what pmx_remote_write_stats() reports (sent, dropped by reason, failed requests, queue
 * length, last success time), under a url label without the URL's credentials; a writer stopped
 * after its instance touches nothing freed; Pushgateway pushes are counted by method and result. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fake_receiver.h"
#include "internal.h"
#include "promex/promex.h"
#include "promex/push.h"

#define OWN "rw_prom_ex_prom_ex_"

static pmx_t *start_instance(void) {
  pmx_config_t cfg;
  pmx_config_defaults(&cfg);
  cfg.app = "rw";
  cfg.metrics_server.enabled = false;
  pmx_t *p = NULL;
  pmx_error_t err;
  assert_int_equal(pmx_new(&cfg, &p, &err), PMX_OK);
  assert_int_equal(pmx_start(p, &err), PMX_OK);
  return p;
}

/* The value of the sample line starting with `series` ("name{labels}"), NAN if absent. */
static double sample(pmx_t *p, const char *series) {
  pmx_buf_t b = {0};
  assert_int_equal(pmx_get_metrics(p, PMX_FORMAT_TEXT, &b), PMX_OK);
  assert_int_equal(pmx__buf_append(&b, "", 1), PMX_OK);
  double v = NAN;
  size_t n = strlen(series);
  for (const char *line = b.data; line != NULL && *line; line = strchr(line, '\n')) {
    if (*line == '\n') line++;
    if (strncmp(line, series, n) == 0 && line[n] == ' ') {
      v = strtod(line + n + 1, NULL);
      break;
    }
  }
  pmx_buf_free(&b);
  return v;
}

static bool exposition_has(pmx_t *p, const char *needle) {
  pmx_buf_t b = {0};
  assert_int_equal(pmx_get_metrics(p, PMX_FORMAT_TEXT, &b), PMX_OK);
  assert_int_equal(pmx__buf_append(&b, "", 1), PMX_OK);
  bool has = strstr(b.data, needle) != NULL;
  pmx_buf_free(&b);
  return has;
}

static void test_remote_write_outage_in_own_metrics(void **state) {
  (void)state;
  int st[] = {503, 503, 503, 200};
  fake_rx_t rx;
  fake_rx_start(&rx, st, 4);
  pmx_t *p = start_instance();
  char url[128], label[96], s_sent[256], s_dq[256], s_rej[256], s_failed[256], s_queue[256],
      s_last[256];
  snprintf(url, sizeof url, "http://user:secret@127.0.0.1:%u/api/v1/write?tenant=a", rx.port);
  snprintf(label, sizeof label, "url=\"http://127.0.0.1:%u/api/v1/write\"", rx.port);
  snprintf(s_sent, sizeof s_sent, OWN "remote_write_samples_sent_total{%s}", label);
  snprintf(s_dq, sizeof s_dq, OWN "remote_write_samples_dropped_total{%s,reason=\"queue_full\"}", label);
  snprintf(s_rej, sizeof s_rej, OWN "remote_write_samples_dropped_total{%s,reason=\"rejected\"}", label);
  snprintf(s_failed, sizeof s_failed, OWN "remote_write_requests_failed_total{%s}", label);
  snprintf(s_queue, sizeof s_queue, OWN "remote_write_queue_samples{%s}", label);
  snprintf(s_last, sizeof s_last, OWN "remote_write_last_success_timestamp_seconds{%s}", label);
  time_t t0 = time(NULL);
  /* A queue of 5 samples: every round (dozens of own samples) overflows it. */
  pmx_remote_write_config_t cfg = {.url = url, .interval_ms = 60000, .queue_samples = 5,
                                   .max_backoff_ms = 50};
  pmx_remote_writer_t *w;
  pmx_error_t err;
  assert_int_equal(pmx_remote_write_start(p, &cfg, &w, &err), PMX_OK);
  pmx_remote_write_stats_t s;
  for (int i = 0; i < 500; i++) {
    assert_int_equal(pmx_remote_write_stats(w, &s), PMX_OK);
    if (s.samples_sent > 0) break;
    usleep(10000);
  }
  assert_true(s.samples_sent > 0);
  /* Quiet now (one round per minute): the exposition catches up with the stats and equals them. */
  bool equal = false;
  for (int i = 0; i < 200 && !equal; i++) {
    assert_int_equal(pmx_remote_write_stats(w, &s), PMX_OK);
    equal = sample(p, s_dq) == (double)s.samples_dropped_queue &&
            sample(p, s_sent) == (double)s.samples_sent &&
            sample(p, s_failed) == (double)s.requests_failed &&
            sample(p, s_queue) == (double)s.samples_queued;
    if (!equal) usleep(10000);
  }
  assert_true(equal);
  assert_int_equal(s.requests_failed, 3);
  assert_true(s.samples_dropped_queue > 0);
  assert_int_equal(s.samples_sent, 5); /* the queue's worth, once accepted */
  assert_true(sample(p, s_rej) == 0);  /* series exist from the start, at 0 */
  double last = sample(p, s_last);
  assert_true(last >= (double)t0 && last <= (double)time(NULL) + 1);
  assert_false(exposition_has(p, "secret"));
  assert_false(exposition_has(p, "tenant"));
  pmx_remote_write_stop(w);
  pmx_stop(p);
  pmx_destroy(p);
  fake_rx_stop(&rx);
}

/* Against the documented order (the writer first), the instance stops while the writer runs:
 * the writer's last reports find it stopped and touch nothing (ASan would see a freed registry). */
static void test_remote_write_outliving_instance(void **state) {
  (void)state;
  int st[] = {200};
  fake_rx_t rx;
  fake_rx_start(&rx, st, 1);
  pmx_t *p = start_instance();
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%u/w", rx.port);
  pmx_remote_write_config_t cfg = {.url = url, .interval_ms = 20};
  pmx_remote_writer_t *w;
  pmx_error_t err;
  assert_int_equal(pmx_remote_write_start(p, &cfg, &w, &err), PMX_OK);
  for (int i = 0; i < 300 && fake_rx_requests(&rx) < 2; i++) usleep(10000);
  assert_int_equal(pmx_stop(p), PMX_OK);
  usleep(100000); /* rounds fail to render (stopped) and report */
  assert_int_equal(pmx_start(p, &err), PMX_OK); /* a new registry: a stale report must not count */
  pmx_remote_write_stop(w);
  pmx_stop(p);
  pmx_destroy(p);
  fake_rx_stop(&rx);
}

static void test_push_counted_in_own_metrics(void **state) {
  (void)state;
  int st[] = {200, 500};
  fake_rx_t rx;
  fake_rx_start(&rx, st, 2);
  pmx_t *p = start_instance();
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%u", rx.port);
  pmx_push_target_t t = {.url = url, .job = "j", .timeout_ms = 2000};
  pmx_error_t err;
  assert_int_equal(pmx_push(p, &t, PMX_PUSH_PUT, &err), PMX_OK);
  assert_int_equal(pmx_push(p, &t, PMX_PUSH_POST, &err), PMX_EHTTP);
  pmx_push_target_t bad = {.url = url, .job = ""};
  assert_int_equal(pmx_push(p, &bad, PMX_PUSH_POST, &err), PMX_EINVAL);
  assert_true(sample(p, OWN "push_requests_total{method=\"put\",result=\"ok\"}") == 1);
  assert_true(sample(p, OWN "push_requests_total{method=\"post\",result=\"error\"}") == 2);
  assert_true(isnan(sample(p, OWN "push_requests_total{method=\"put\",result=\"error\"}")));
  pmx_stop(p);
  pmx_destroy(p);
  fake_rx_stop(&rx);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_remote_write_outage_in_own_metrics),
      cmocka_unit_test(test_remote_write_outliving_instance),
      cmocka_unit_test(test_push_counted_in_own_metrics),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
