/* The amqp plugin against a real in-process instance, with events emitted by hand (as any AMQP
 * client may) and a fake queue-stats callback. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "promex/plugins/amqp.h"
#include "promex/promex.h"
#include "unit/plugins/plugin_test_util.h"

#define assert_value(a, b) assert_value_((a), (b), #a, __LINE__)
static void assert_value_(double a, double b, const char *expr, int line) {
  if (!(fabs(a - b) <= 1e-9)) fail_msg("line %d: %s is %g, expected %g", line, expr, a, b);
}

#define APP "at"
#define P APP "_prom_ex_amqp_"

static void quiet_log(void *ctx, pmx_log_level_t level, const char *msg) {
  (void)ctx, (void)level, (void)msg;
}

static int start(pmx_t **p, const pmx_kv_t *opts, size_t n, void *ud, pmx_error_t *err) {
  pmx_plugin_use_t use = {&pmx_plugin_amqp, opts, n, ud};
  pmx_config_t cfg;
  pmx_config_defaults(&cfg);
  cfg.app = APP;
  cfg.plugins = &use;
  cfg.n_plugins = 1;
  cfg.log = quiet_log;
  *p = NULL;
  int rc = pmx_new(&cfg, p, err);
  if (rc == PMX_OK) rc = pmx_start(*p, err);
  if (rc != PMX_OK) {
    pmx_destroy(*p);
    *p = NULL;
  }
  return rc;
}

static char *scrape(pmx_t *p) {
  pmx_buf_t buf = {0};
  assert_int_equal(pmx_get_metrics(p, PMX_FORMAT_TEXT, &buf), PMX_OK);
  char *s = strndup(buf.data, buf.len);
  pmx_buf_free(&buf);
  return s;
}

static double v(const char *t, const char *name, const char *l1, const char *l2) {
  const char *ls[2] = {l1, l2};
  return pt_value(t, name, ls, l2 ? 2 : l1 ? 1 : 0);
}

static void consume(pmx_bus_t *bus, const char *queue, const char *outcome, bool redelivered) {
  const pmx_measurement_t m[] = {PMX_M("duration", 2000000), PMX_M("bytes", 10)};
  const pmx_meta_t md[] = {PMX_META_S("queue", queue), PMX_META_S("outcome", outcome),
                           PMX_META_B("redelivered", redelivered)};
  assert_true(pmx_emit_name(bus, "amqp.consume.stop", m, 2, md, 3) > 0);
}

static void test_events_exact_counts(void **state) {
  (void)state;
  pmx_t *p;
  pmx_error_t err;
  assert_int_equal(start(&p, NULL, 0, NULL, &err), PMX_OK);
  pmx_bus_t *bus = pmx_bus(p);
  for (int i = 0; i < 3; i++) {
    const pmx_measurement_t m[] = {PMX_M("duration", 1000000), PMX_M("bytes", 100)};
    const pmx_meta_t md[] = {PMX_META_S("exchange", "orders"), PMX_META_S("result", "ok")};
    assert_true(pmx_emit_name(bus, "amqp.publish.stop", m, 2, md, 2) > 0);
  }
  const pmx_meta_t nack[] = {PMX_META_S("exchange", "orders"), PMX_META_S("result", "nack")};
  pmx_emit_name(bus, "amqp.publish.confirm", NULL, 0, nack, 2);
  pmx_emit_name(bus, "amqp.publish.return", NULL, 0, nack, 1);
  consume(bus, "work", "ack", false);
  consume(bus, "work", "ack", true);
  consume(bus, "work", "reject", false);
  const pmx_meta_t ce[] = {PMX_META_S("broker", "b"), PMX_META_S("event", "reconnected")};
  pmx_emit_name(bus, "amqp.connection.event", NULL, 0, ce, 2);
  const pmx_measurement_t up[] = {PMX_M("up", 0)};
  pmx_emit_name(bus, "amqp.connection.state", up, 1, ce, 1);

  char *t = scrape(p);
  assert_value(v(t, P "published_messages_total", "exchange=\"orders\"", "result=\"ok\""), 3);
  assert_value(v(t, P "published_bytes_total", "exchange=\"orders\"", NULL), 300);
  assert_value(v(t, P "publish_duration_seconds_sum", "exchange=\"orders\"", NULL), 0.003);
  assert_value(v(t, P "publish_confirms_total", "result=\"nack\"", NULL), 1);
  assert_value(v(t, P "publish_returns_total", "exchange=\"orders\"", NULL), 1);
  assert_value(v(t, P "consumed_messages_total", "queue=\"work\"", "outcome=\"ack\""), 2);
  assert_value(v(t, P "consumed_messages_total", "queue=\"work\"", "outcome=\"reject\""), 1);
  assert_value(v(t, P "consumed_bytes_total", "queue=\"work\"", NULL), 30);
  /* only the delivery flagged redelivered counts */
  assert_value(v(t, P "redelivered_messages_total", "queue=\"work\"", NULL), 1);
  assert_value(v(t, P "handling_duration_seconds_count", "outcome=\"ack\"", NULL), 2);
  assert_value(v(t, P "connection_events_total", "broker=\"b\"", "event=\"reconnected\""), 1);
  assert_value(v(t, P "connection_up", "broker=\"b\"", NULL), 0);
  free(t);
  pmx_stop(p);
  pmx_destroy(p);
}

/* Fake broker: "a" has 7 messages and 2 consumers, "gone" does not exist, "broken" fails. */
static atomic_int g_calls;
static int fake_stats(const char *queue, double *messages, double *consumers, void *ctx) {
  (void)ctx;
  atomic_fetch_add(&g_calls, 1);
  if (strcmp(queue, "gone") == 0) return PMX_ENOENT;
  if (strcmp(queue, "broken") == 0) return PMX_EIO;
  *messages = 7;
  *consumers = 2;
  return PMX_OK;
}

static void test_queue_poll(void **state) {
  (void)state;
  pmx_amqp_opts_t o = {fake_stats, NULL};
  const pmx_kv_t opts[] = {{"queues", "broken, a, gone"}, {"poll_rate", "20"}};
  pmx_t *p;
  pmx_error_t err;
  atomic_store(&g_calls, 0);
  assert_int_equal(start(&p, opts, 2, &o, &err), PMX_OK);
  while (atomic_load(&g_calls) < 6) {
    struct timespec ts = {0, 10 * 1000000L};
    nanosleep(&ts, NULL);
  }
  char *t = scrape(p);
  assert_value(v(t, P "queue_messages", "queue=\"a\"", NULL), 7);
  assert_value(v(t, P "queue_consumers", "queue=\"a\"", NULL), 2);
  assert_value(v(t, P "queue_messages", "queue=\"gone\"", NULL), 0);
  assert_value(v(t, P "queue_consumers", "queue=\"gone\"", NULL), 0);
  assert_true(isnan(v(t, P "queue_messages", "queue=\"broken\"", NULL)));
  assert_true(v(t, APP "_prom_ex_prom_ex_poll_errors_total",
                "group=\"amqp_queue_polling_metrics\"", NULL) >= 1);
  free(t);
  pmx_stop(p);
  pmx_destroy(p);
}

static void expect_config_error(const char *key, const char *value, const char *needle) {
  const pmx_kv_t opts[] = {{key, value}};
  pmx_t *p;
  pmx_error_t err;
  memset(&err, 0, sizeof err);
  assert_int_equal(start(&p, opts, 1, NULL, &err), PMX_ECONFIG);
  if (strstr(err.text, needle) == NULL) fail_msg("error \"%s\" lacks \"%s\"", err.text, needle);
}

static void test_bad_options(void **state) {
  (void)state;
  expect_config_error("queue", "a", "unknown option \"queue\"");
  expect_config_error("queues", "a,", "empty item");
  expect_config_error("queues", "a, a", "lists \"a\" twice");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_events_exact_counts),
      cmocka_unit_test(test_queue_poll),
      cmocka_unit_test(test_bad_options),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
