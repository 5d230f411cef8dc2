/* The memcached plugin without a server: a live instance fed memcached.command.stop events with
 * hostile metadata keeps its labels within the bounded sets, counts hits, misses and errors by
 * result, and refuses unknown options. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "promex/plugins/memcached.h"
#include "internal.h"
#include "promex/promex.h"
#include "unit/plugins/plugin_test_util.h"

#define P "mt_prom_ex_memcached_"

static void quiet(void *c, pmx_log_level_t l, const char *m) { (void)c, (void)l, (void)m; }

static int start(pmx_t **p, const pmx_kv_t *opts, size_t n, pmx_error_t *err) {
  pmx_config_t cfg;
  pmx_config_defaults(&cfg);
  cfg.app = "mt";
  cfg.log = quiet;
  pmx_plugin_use_t use = {.plugin = &pmx_plugin_memcached, .opts = opts, .n_opts = n};
  cfg.plugins = &use;
  cfg.n_plugins = 1;
  int rc = pmx_new(&cfg, p, err);
  if (rc == PMX_OK && (rc = pmx_start(*p, err)) != PMX_OK) {
    pmx_destroy(*p);
    *p = NULL;
  }
  return rc;
}

static double val(const char *t, const char *name, const char *l1, const char *l2) {
  const char *l[2] = {l1, l2};
  double v = pt_value(t, name, l, l2 ? 2 : l1 ? 1 : 0);
  return isnan(v) ? 0 : v;
}

static void emit(pmx_bus_t *bus, const char *cmd, const char *result, const char *code) {
  const pmx_measurement_t m[] = {PMX_M("duration", 2000)};
  pmx_meta_t md[] = {PMX_META_S("command", cmd), PMX_META_S("result", result),
                     PMX_META_S("code", code)};
  assert_true(pmx_emit_name(bus, PMX_MEMCACHED_EVENT_COMMAND, m, 1, md, 3) >= 1);
}

static void test_results_and_hostile_labels(void **state) {
  (void)state;
  pmx_t *p = NULL;
  pmx_error_t err;
  assert_int_equal(start(&p, NULL, 0, &err), PMX_OK);
  pmx_bus_t *bus = pmx_bus(p);
  emit(bus, "get", "hit", "SUCCESS");
  emit(bus, "get", "hit", "SUCCESS");
  emit(bus, "get", "miss", "NOTFOUND");
  emit(bus, "set", "error", "TIMEOUT");
  emit(bus, "add", "not_stored", "NOTSTORED");
  for (int i = 0; i < 300; i++) {
    char junk[32];
    snprintf(junk, sizeof junk, "k%d\xff", i);
    emit(bus, junk, junk, junk);
  }
  pmx_buf_t buf = {0};
  assert_int_equal(pmx_get_metrics(p, PMX_FORMAT_TEXT, &buf), PMX_OK);
  assert_int_equal(pmx__buf_append(&buf, "", 1), PMX_OK); /* NUL for the string helpers */
  const char *t = buf.data;
  assert_true(val(t, P "cache_hits_total", "command=\"get\"", NULL) == 2);
  assert_true(val(t, P "cache_misses_total", "command=\"get\"", NULL) == 1);
  assert_true(val(t, P "command_errors_total", "command=\"set\"", "code=\"TIMEOUT\"") == 1);
  assert_int_equal(pt_count(t, P "command_errors_total"), 1); /* junk results are not errors */
  assert_true(val(t, P "command_duration_seconds_count", "command=\"other\"",
                  "result=\"other\"") == 300);
  assert_true(val(t, P "command_duration_seconds_count", "command=\"add\"",
                  "result=\"not_stored\"") == 1);
  assert_int_equal(pt_count(t, P "command_duration_seconds_count"), 5);
  assert_null(strstr(t, "\xff"));
  pmx_buf_free(&buf);
  pmx_destroy(p);
}

static void test_bad_option(void **state) {
  (void)state;
  pmx_t *p = NULL;
  pmx_error_t err;
  const pmx_kv_t bad[] = {{"servers", "x"}};
  assert_int_equal(start(&p, bad, 1, &err), PMX_ECONFIG);
  assert_null(p);
  assert_non_null(strstr(err.text, "servers"));
  assert_ptr_equal(pmx_first_party_plugin("memcached"), &pmx_plugin_memcached);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_results_and_hostile_labels),
      cmocka_unit_test(test_bad_option),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
