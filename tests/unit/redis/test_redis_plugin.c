/* The redis plugin without a server: the command table (sorted for bsearch, case-insensitive,
 * unknown and hostile words become "other"), and a live instance fed hostile redis.* events
 * directly, whose labels must stay within the bounded sets; bad options are refused. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "promex/plugins/redis.h"
#include "internal.h"
#include "promex/promex.h"
#include "redis/commands.h"
#include "unit/plugins/plugin_test_util.h"

#define P "rt_prom_ex_redis_"

static void test_command_labels(void **state) {
  (void)state;
  assert_string_equal(pmx__redis_command_label("get"), "GET");
  assert_string_equal(pmx__redis_command_label("GeT"), "GET");
  assert_string_equal(pmx__redis_command_label("ZUNIONSTORE"), "ZUNIONSTORE");
  assert_string_equal(pmx__redis_command_label("ACL"), "ACL");
  assert_string_equal(pmx__redis_command_label("BITFIELD_RO"), "BITFIELD_RO");
  assert_string_equal(pmx__redis_command_label("user:1234"), "other");
  assert_string_equal(pmx__redis_command_label(""), "other");
  assert_string_equal(pmx__redis_command_label(NULL), "other");
  assert_string_equal(pmx__redis_command_label("G\xff" "ET"), "other");
  char longw[100];
  memset(longw, 'A', sizeof longw - 1);
  longw[sizeof longw - 1] = '\0';
  assert_string_equal(pmx__redis_command_label(longw), "other");
}

static void quiet(void *c, pmx_log_level_t l, const char *m) { (void)c, (void)l, (void)m; }

static int start(pmx_t **p, const pmx_kv_t *opts, size_t n, pmx_error_t *err) {
  pmx_config_t cfg;
  pmx_config_defaults(&cfg);
  cfg.app = "rt";
  cfg.log = quiet;
  pmx_plugin_use_t use = {.plugin = &pmx_plugin_redis, .opts = opts, .n_opts = n};
  cfg.plugins = &use;
  cfg.n_plugins = 1;
  int rc = pmx_new(&cfg, p, err);
  if (rc == PMX_OK && (rc = pmx_start(*p, err)) != PMX_OK) {
    pmx_destroy(*p);
    *p = NULL;
  }
  return rc;
}

static double val(const char *text, const char *name, const char *label) {
  const char *l[1] = {label};
  double v = pt_value(text, name, l, label ? 1 : 0);
  return isnan(v) ? 0 : v;
}

static void test_hostile_events_bounded(void **state) {
  (void)state;
  pmx_t *p = NULL;
  pmx_error_t err;
  assert_int_equal(start(&p, NULL, 0, &err), PMX_OK);
  pmx_bus_t *bus = pmx_bus(p);
  const pmx_measurement_t m[] = {PMX_M("duration", 1000)};
  /* 500 distinct junk command names and error classes: two series, not 1000. */
  for (int i = 0; i < 500; i++) {
    char cmd[32], cls[32];
    snprintf(cmd, sizeof cmd, "key:%d\xff", i);
    snprintf(cls, sizeof cls, "E%d\"\n", i);
    pmx_meta_t md[] = {PMX_META_S("command", cmd), PMX_META_S("result", "error"),
                       PMX_META_S("class", cls)};
    assert_true(pmx_emit_name(bus, PMX_REDIS_EVENT_COMMAND, m, 1, md, 3) >= 1);
  }
  pmx_meta_t ok[] = {PMX_META_S("command", "get"), PMX_META_S("result", "ok")};
  pmx_emit_name(bus, PMX_REDIS_EVENT_COMMAND, m, 1, ok, 2);
  pmx_meta_t ev[] = {PMX_META_S("event", "connect\xfe")};
  const pmx_measurement_t d[] = {PMX_M("delta", 0)};
  pmx_emit_name(bus, PMX_REDIS_EVENT_CONNECTION, d, 1, ev, 1);
  pmx_buf_t buf = {0};
  assert_int_equal(pmx_get_metrics(p, PMX_FORMAT_TEXT, &buf), PMX_OK);
  assert_int_equal(pmx__buf_append(&buf, "", 1), PMX_OK); /* NUL for the string helpers */
  const char *t = buf.data;
  assert_int_equal(pt_count(t, P "command_duration_seconds_count"), 2);
  assert_true(val(t, P "command_duration_seconds_count", "command=\"other\"") == 500);
  assert_true(val(t, P "command_duration_seconds_count", "command=\"GET\"") == 1);
  assert_int_equal(pt_count(t, P "command_errors_total"), 1);
  assert_true(val(t, P "command_errors_total", "class=\"OTHER\"") == 500);
  assert_true(val(t, P "connection_events_total", "event=\"other\"") == 1);
  assert_null(strstr(t, "\xff"));
  pmx_buf_free(&buf);
  pmx_destroy(p);
}

static void test_bad_option(void **state) {
  (void)state;
  pmx_t *p = NULL;
  pmx_error_t err;
  const pmx_kv_t bad[] = {{"hosts", "x"}};
  assert_int_equal(start(&p, bad, 1, &err), PMX_ECONFIG);
  assert_null(p);
  assert_non_null(strstr(err.text, "hosts"));
  assert_ptr_equal(pmx_first_party_plugin("redis"), &pmx_plugin_redis);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_command_labels),
      cmocka_unit_test(test_hostile_events_bounded),
      cmocka_unit_test(test_bad_option),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
