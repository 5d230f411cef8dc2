/* Allocation failures in the core (issue 9): registry, every metric kind with labels and
 * buckets, handlers, events and spans, series made by events and directly, both renders, a
 * combined render of two registries and gzip. With any one allocation failing, each step returns
 * PMX_ENOMEM (or, on the event path, counts the event as skipped), nothing crashes and nothing
 * leaks (fail_alloc.h checks the block count; ASan and valgrind check the rest). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "promex/negotiate.h"
#include "promex/promex.h"
#include "unit/alloc/fail_alloc.h"

static int handler_calls;
static void count_handler(const pmx_event_data_t *ev, void *config) {
  (void)ev;
  (void)config;
  handler_calls++;
}

/* Defines and attaches one metric of each kind (summaries are refused: PMX_ENOTSUP), a sum
 * exposed as a gauge too; returns the first error. */
static int define_all(pmx_registry_t *reg, pmx_bus_t *bus, pmx_metric_t **ms) {
  static const char *const tags[] = {"method", "status"};
  static const double buckets[] = {0.01, 0.1, 1, 10};
  const pmx_metric_def_t defs[] = {
      {.kind = PMX_COUNTER, .prefix = "fa", .name = "req.count", .event_name = "fa.req.stop",
       .tags = tags, .n_tags = 2, .description = "Requests."},
      {.kind = PMX_SUM, .prefix = "fa", .name = "req.bytes", .event_name = "fa.req.stop",
       .measurement = "bytes", .tags = tags, .n_tags = 1},
      {.kind = PMX_LAST_VALUE, .prefix = "fa", .name = "queue.depth", .event_name = "fa.req.stop",
       .measurement = "depth"},
      {.kind = PMX_DISTRIBUTION, .prefix = "fa", .name = "req.duration.seconds",
       .event_name = "fa.req.stop", .measurement = "duration", .tags = tags, .n_tags = 2,
       .buckets = buckets, .n_buckets = 4, .unit_from = PMX_UNIT_NATIVE,
       .unit_to = PMX_UNIT_SECOND, .exemplar_key = "trace_id"}, /* slots in its series */
      {.kind = PMX_SUM, .prefix = "fa", .name = "queue.level", .event_name = "fa.req.stop",
       .measurement = "depth", .sum_as_gauge = true},
  };
  for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++) {
    int rc = pmx_metric_define(reg, &defs[i], &ms[i], NULL);
    if (rc != PMX_OK) return rc;
    rc = pmx_metric_attach(ms[i], bus, NULL);
    if (rc != PMX_OK) return rc;
  }
  return PMX_OK;
}

static int render_both(pmx_registry_t *reg, pmx_registry_t *reg2, bool check) {
  pmx_buf_t text = {0}, om = {0}, gz = {0};
  int rc = pmx_render(reg, PMX_FORMAT_TEXT, &text);
  if (rc == PMX_OK) rc = pmx_render(reg, PMX_FORMAT_OPENMETRICS, &om);
  if (rc == PMX_OK) rc = pmx_gzip(text.data, text.len, &gz);
  pmx_buf_t many = {0};
  pmx_registry_t *const regs[] = {reg, reg2};
  if (rc == PMX_OK) rc = pmx_render_many(regs, 2, PMX_FORMAT_OPENMETRICS, &many);
  pmx_buf_free(&many);
  if (rc == PMX_OK && check) {
    /* Computed by the library from the events below: 2 GETs and 1 POST. */
    assert_non_null(strstr(text.data, "fa_req_count{method=\"GET\",status=\"200\"} 2"));
    assert_non_null(strstr(om.data, "fa_req_count_total{method=\"POST\",status=\"500\"} 1"));
    assert_non_null(
        strstr(text.data, "fa_req_duration_seconds_count{method=\"GET\",status=\"200\"} 2"));
    assert_non_null(strstr(om.data, "# {trace_id=\"0af7651916cd43dd8448eb211c80319c\"} 0.002 "));
    assert_true(gz.len > 18 && (unsigned char)gz.data[0] == 0x1f); /* a gzip member */
  }
  pmx_buf_free(&text);
  pmx_buf_free(&om);
  pmx_buf_free(&gz);
  return rc;
}

static int core_scenario(void *ctx) {
  (void)ctx;
  pmx_registry_t *reg = NULL;
  pmx_bus_t *bus = NULL;
  pmx_metric_t *ms[5] = {0};
  int rc = pmx_registry_new(NULL, &reg);
  if (rc == PMX_OK) rc = pmx_bus_new(&bus);
  if (rc == PMX_OK) rc = define_all(reg, bus, ms);
  if (rc == PMX_OK) rc = pmx_bus_attach(bus, "fa.counter", "fa.req.start", count_handler, NULL);
  pmx_event_t *ev = NULL;
  if (rc == PMX_OK) rc = pmx_bus_event(bus, "fa.req.stop", &ev);
  /* A span's three events, emitted once (they resolve "fa.job.*": new events on the bus). */
  pmx_span_events_t se;
  if (rc == PMX_OK) rc = pmx_span_events(bus, "fa.job", &se);
  if (rc == PMX_OK) {
    pmx_span_t span;
    assert_int_equal(pmx_span_start(&span, &se, NULL, 0), PMX_OK);
    assert_int_equal(pmx_span_stop(&span, NULL, 0, NULL, 0), PMX_OK);
  }
  if (rc == PMX_OK) {
    handler_calls = 0;
    pmx_emit_name(bus, "fa.req.start", NULL, 0, NULL, 0);
    assert_int_equal(handler_calls, 1);
    const pmx_measurement_t m[] = {PMX_M("duration", 2e6), PMX_M("bytes", 512), PMX_M("depth", 3)};
    const pmx_meta_t get[] = {PMX_META_S("method", "GET"), PMX_META_S("status", "200"),
                              PMX_META_S("trace_id", "0af7651916cd43dd8448eb211c80319c")};
    const pmx_meta_t post[] = {PMX_META_S("method", "POST"), PMX_META_S("status", "500")};
    /* An out-of-memory series creation inside an emit is counted as a skipped event, never
     * returned: the emit path has no error to give. */
    pmx_emit(ev, m, 3, get, 3);
    pmx_emit(ev, m, 3, get, 3);
    pmx_emit(ev, m, 3, post, 2);
    /* A series made directly reports the failure. */
    const char *vals[] = {"PUT", "201"};
    pmx_series_t *s = NULL;
    rc = pmx_metric_labels(ms[0], vals, 2, &s);
    if (rc == PMX_OK) rc = pmx_series_inc(s);
    else assert_null(s);
  }
  /* A second registry (own metrics under another prefix) rendered together with the first. */
  pmx_registry_t *reg2 = NULL;
  pmx_registry_opts_t o2 = {.own_metrics_prefix = "fa_two"};
  if (rc == PMX_OK) rc = pmx_registry_new(&o2, &reg2);
  if (rc == PMX_OK) rc = render_both(reg, reg2, !fa_failed());
  pmx_registry_destroy(reg2);
  pmx_registry_destroy(reg); /* detaches the metrics */
  pmx_bus_destroy(bus);
  return rc;
}

/* A failed series creation on the event path is counted (reason out_of_memory), not lost. */
static int skipped_scenario(void *ctx) {
  (void)ctx;
  pmx_registry_t *reg = NULL;
  pmx_bus_t *bus = NULL;
  pmx_metric_t *ms[5] = {0};
  int rc = pmx_registry_new(NULL, &reg);
  if (rc == PMX_OK) rc = pmx_bus_new(&bus);
  if (rc == PMX_OK) rc = define_all(reg, bus, ms);
  if (rc == PMX_OK) {
    unsigned long before = fa_calls();
    const pmx_measurement_t m[] = {PMX_M("duration", 1), PMX_M("bytes", 1), PMX_M("depth", 1)};
    const pmx_meta_t md[] = {PMX_META_S("method", "GET"), PMX_META_S("status", "200")};
    pmx_emit_name(bus, "fa.req.stop", m, 3, md, 2);
    /* The failure landed inside this emit's series creation: exactly one metric lost its
     * sample, and says so. */
    if (fa_failed() && fa_calls() > before) {
      uint64_t skipped = 0;
      for (int i = 0; i < 5; i++) skipped += pmx_metric_skipped_events(ms[i]);
      size_t made = 0;
      for (int i = 0; i < 5; i++) made += pmx_metric_series_count(ms[i]);
      assert_true(skipped <= 1);
      assert_int_equal(made + skipped, 5);
    }
  }
  pmx_registry_destroy(reg);
  pmx_bus_destroy(bus);
  return rc;
}

static int calls_a, calls_b, calls_c;
static void handler_a(const pmx_event_data_t *ev, void *config) {
  (void)ev;
  (void)config;
  calls_a++;
}
static void handler_b(const pmx_event_data_t *ev, void *config) {
  (void)ev;
  (void)config;
  calls_b++;
}
static void handler_c(const pmx_event_data_t *ev, void *config) {
  (void)ev;
  (void)config;
  calls_c++;
}

/* A detach never fails for want of memory (destroy paths depend on it): when the new snapshots
 * cannot be allocated the handler is disabled in place. Either way it is never called again and
 * the other handlers still are, also after the next attach rebuilds the snapshots. */
static int detach_scenario(void *ctx) {
  (void)ctx;
  pmx_bus_t *bus = NULL;
  int rc = pmx_bus_new(&bus);
  if (rc == PMX_OK) rc = pmx_bus_attach(bus, "a", "fa.e", handler_a, NULL);
  if (rc == PMX_OK) rc = pmx_bus_attach(bus, "b", "fa.e", handler_b, NULL);
  pmx_event_t *ev = NULL;
  if (rc == PMX_OK) rc = pmx_bus_event(bus, "fa.e", &ev);
  if (rc == PMX_OK) {
    calls_a = calls_b = calls_c = 0;
    assert_int_equal(pmx_bus_detach(bus, "a"), PMX_OK);
    assert_int_equal(pmx_bus_detach(bus, "a"), PMX_ENOENT);
    pmx_emit(ev, NULL, 0, NULL, 0);
    assert_int_equal(calls_a, 0);
    assert_int_equal(calls_b, 1);
    rc = pmx_bus_attach(bus, "c", "fa.e", handler_c, NULL);
    pmx_emit(ev, NULL, 0, NULL, 0);
    assert_int_equal(calls_a, 0);
    assert_int_equal(calls_b, 2);
    assert_int_equal(calls_c, rc == PMX_OK ? 1 : 0);
  }
  pmx_bus_destroy(bus);
  return rc;
}

static void test_detach_without_memory(void **state) {
  (void)state;
  fa_install();
  fa_run("bus detach", detach_scenario, NULL, NULL);
  fa_uninstall();
}

static void test_core_paths(void **state) {
  (void)state;
  fa_install();
  fa_run("core", core_scenario, NULL, NULL);
  fa_run("core event skipped", skipped_scenario, NULL, NULL);
  fa_uninstall();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_core_paths),
      cmocka_unit_test(test_detach_without_memory),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
