/* Unit tests for exemplars (include/promex/metric.h, "Exemplars"): where OpenMetrics renders
 * them, that text 0.0.4 never does, the 128-character and UTF-8 rules (rejected and counted, never
 * truncated), the event path (trace id from metadata), and consistent slots under concurrent
 * writers and renders. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "core_test_util.h"
#include "promex/promex.h"

static const double k_bounds[] = {0.1, 1, 10};

static pmx_metric_t *define(pmx_registry_t *reg, pmx_metric_kind_t kind, const char *name, const char *key,
                            const char *const *tags, size_t n_tags) {
  pmx_metric_def_t def = {.kind = kind, .name = name, .exemplar_key = key, .tags = tags, .n_tags = n_tags};
  if (kind == PMX_DISTRIBUTION) {
    def.buckets = k_bounds;
    def.n_buckets = 3;
    def.measurement = "duration";
  }
  pmx_metric_t *m = NULL;
  pmx_error_t err;
  assert_int_equal(pmx_metric_define(reg, &def, &m, &err), PMX_OK);
  return m;
}

static pmx_series_t *series(pmx_metric_t *m) {
  pmx_series_t *s = NULL;
  assert_int_equal(pmx_metric_labels(m, NULL, 0, &s), PMX_OK);
  return s;
}

/* The exemplar part of the line starting with `prefix`: checks " # {<label set>} <value> <ts>"
 * with ts within a few seconds of now; returns the text after "# " up to the timestamp. */
static bool exemplar_of(const char *text, const char *prefix, char *out, size_t cap) {
  for (const char *p = text; (p = strstr(p, prefix)) != NULL; p++) {
    if (p != text && p[-1] != '\n') continue;
    const char *eol = strchr(p, '\n');
    const char *hash = strstr(p, " # {");
    if (hash == NULL || hash > eol) return false;
    const char *last_space = eol;
    while (last_space > hash && *last_space != ' ') last_space--;
    double ts = strtod(last_space + 1, NULL);
    double now = (double)time(NULL);
    assert_true(ts > now - 5 && ts < now + 5);
    size_t n = (size_t)(last_space - (hash + 3));
    assert_true(n < cap);
    memcpy(out, hash + 3, n);
    out[n] = '\0';
    return true;
  }
  return false;
}

static void test_counter_exemplar_rendered_in_openmetrics_only(void **state) {
  (void)state;
  pmx_registry_t *reg;
  assert_int_equal(pmx_registry_new(NULL, &reg), PMX_OK);
  pmx_series_t *s = series(define(reg, PMX_SUM, "bytes.total", "trace_id", NULL, 0));
  assert_int_equal(pmx_series_add_exemplar(s, 3, "4bf92f3577b34da6"), PMX_OK);
  assert_int_equal(pmx_series_add(s, 2), PMX_OK); /* no exemplar: the last one stays */
  char *om = ct_render(reg, PMX_FORMAT_OPENMETRICS);
  char ex[256];
  assert_true(exemplar_of(om, "bytes_total 5 # ", ex, sizeof ex));
  assert_string_equal(ex, "{trace_id=\"4bf92f3577b34da6\"} 3");
  char *text = ct_render(reg, PMX_FORMAT_TEXT);
  assert_true(ct_has_line(text, "bytes_total 5"));
  assert_null(strstr(text, "trace_id"));
  free(om);
  free(text);
  pmx_registry_destroy(reg);
}

static void test_histogram_exemplar_goes_to_its_bucket(void **state) {
  (void)state;
  pmx_registry_t *reg;
  assert_int_equal(pmx_registry_new(NULL, &reg), PMX_OK);
  const char *tags[] = {"route"};
  pmx_metric_t *m = define(reg, PMX_DISTRIBUTION, "req.duration", "trace_id", tags, 1);
  pmx_series_t *s;
  const char *v[] = {"/a\"b"};
  assert_int_equal(pmx_metric_labels(m, v, 1, &s), PMX_OK);
  assert_int_equal(pmx_series_observe_exemplar(s, 0.5, "t-half"), PMX_OK);
  assert_int_equal(pmx_series_observe_exemplar(s, 0.7, "t-seven"), PMX_OK); /* same bucket: latest */
  assert_int_equal(pmx_series_observe_exemplar(s, 42, "t\"inf"), PMX_OK);
  assert_int_equal(pmx_series_observe(s, 0.05), PMX_OK);
  char *om = ct_render(reg, PMX_FORMAT_OPENMETRICS);
  char ex[256];
  assert_false(exemplar_of(om, "req_duration_bucket{route=\"/a\\\"b\",le=\"0.1\"} 1", ex, sizeof ex));
  assert_true(exemplar_of(om, "req_duration_bucket{route=\"/a\\\"b\",le=\"1.0\"} 3", ex, sizeof ex));
  assert_string_equal(ex, "{trace_id=\"t-seven\"} 0.7");
  assert_false(exemplar_of(om, "req_duration_bucket{route=\"/a\\\"b\",le=\"10.0\"} 3", ex, sizeof ex));
  assert_true(exemplar_of(om, "req_duration_bucket{route=\"/a\\\"b\",le=\"+Inf\"} 4", ex, sizeof ex));
  assert_string_equal(ex, "{trace_id=\"t\\\"inf\"} 42");
  assert_true(ct_has_line(om, "req_duration_count{route=\"/a\\\"b\"} 4"));
  char *text = ct_render(reg, PMX_FORMAT_TEXT);
  assert_null(strstr(text, " # "));
  free(om);
  free(text);
  pmx_registry_destroy(reg);
}

static void test_label_set_limit_and_utf8(void **state) {
  (void)state;
  pmx_registry_t *reg;
  assert_int_equal(pmx_registry_new(NULL, &reg), PMX_OK);
  /* A 20-character label name leaves 108 characters for the value. */
  pmx_series_t *s = series(define(reg, PMX_COUNTER, "hits", "trace_id_long_name_x", NULL, 0));
  char id[200];
  memset(id, 'a', 108);
  id[108] = '\0';
  assert_int_equal(pmx_series_add_exemplar(s, 1, id), PMX_OK);
  id[108] = 'b';
  id[109] = '\0';
  assert_int_equal(pmx_series_add_exemplar(s, 1, id), PMX_EINVAL); /* 129 characters */
  /* 2-byte characters: 60 of them (120 bytes) fit, 61 exceed the stored value size. */
  char wide[200] = "";
  for (int i = 0; i < 60; i++) strcat(wide, "\xc3\xa9");
  assert_int_equal(pmx_series_add_exemplar(s, 1, wide), PMX_OK);
  strcat(wide, "\xc3\xa9");
  assert_int_equal(pmx_series_add_exemplar(s, 1, wide), PMX_EINVAL);
  assert_int_equal(pmx_series_add_exemplar(s, 1, "abc\xc3"), PMX_EINVAL); /* cut character */
  assert_int_equal(pmx_series_add_exemplar(s, 1, "\xff"), PMX_EINVAL);
  assert_int_equal(pmx_series_add_exemplar(s, NAN, "x"), PMX_EINVAL);
  assert_int_equal(pmx_series_add_exemplar(s, -1, "x"), PMX_EINVAL);
  assert_int_equal(pmx_series_add_exemplar(s, 1, NULL), PMX_EINVAL);
  assert_int_equal(pmx_series_observe_exemplar(s, 1, "x"), PMX_ETYPE);
  /* Rejections record nothing: two accepted adds. */
  assert_true(pmx_series_value(s) == 2);
  char *om = ct_render(reg, PMX_FORMAT_OPENMETRICS);
  char ex[512], want[512];
  assert_true(exemplar_of(om, "hits_total 2 # ", ex, sizeof ex));
  snprintf(want, sizeof want, "{trace_id_long_name_x=\"%.120s\"} 1", wide); /* the 60-character id */
  assert_string_equal(ex, want);
  free(om);
  pmx_registry_destroy(reg);
}

static void test_definition_rules(void **state) {
  (void)state;
  pmx_registry_t *reg;
  assert_int_equal(pmx_registry_new(NULL, &reg), PMX_OK);
  pmx_error_t err;
  pmx_metric_def_t def = {.kind = PMX_COUNTER, .name = "c1", .exemplar_key = "trace-id"};
  assert_int_equal(pmx_metric_define(reg, &def, NULL, &err), PMX_ENAME);
  def.exemplar_key = "__trace";
  assert_int_equal(pmx_metric_define(reg, &def, NULL, &err), PMX_ENAME);
  def = (pmx_metric_def_t){.kind = PMX_LAST_VALUE, .name = "g1", .exemplar_key = "trace_id"};
  assert_int_equal(pmx_metric_define(reg, &def, NULL, &err), PMX_EINVAL);
  def = (pmx_metric_def_t){.kind = PMX_SUM, .name = "g2", .exemplar_key = "trace_id", .sum_as_gauge = true};
  assert_int_equal(pmx_metric_define(reg, &def, NULL, &err), PMX_EINVAL);
  /* Without exemplar_key the exemplar calls are refused and change nothing. */
  pmx_series_t *plain = series(define(reg, PMX_COUNTER, "plain", NULL, NULL, 0));
  assert_int_equal(pmx_series_add_exemplar(plain, 1, "x"), PMX_ENOTSUP);
  assert_true(pmx_series_value(plain) == 0);
  pmx_series_t *h = series(define(reg, PMX_DISTRIBUTION, "plain.h", NULL, NULL, 0));
  assert_int_equal(pmx_series_observe_exemplar(h, 1, "x"), PMX_ENOTSUP);
  assert_true(pmx_series_value(h) == 0);
  char *om = ct_render(reg, PMX_FORMAT_OPENMETRICS);
  assert_null(strstr(om, " # {"));
  free(om);
  pmx_registry_destroy(reg);
}

static void test_events_carry_trace_ids(void **state) {
  (void)state;
  pmx_registry_t *reg;
  pmx_bus_t *bus;
  assert_int_equal(pmx_registry_new(NULL, &reg), PMX_OK);
  assert_int_equal(pmx_bus_new(&bus), PMX_OK);
  pmx_metric_def_t def = {.kind = PMX_DISTRIBUTION, .name = "job.duration", .buckets = k_bounds,
                          .n_buckets = 3, .exemplar_key = "trace_id"};
  pmx_metric_t *h, *c;
  pmx_error_t err;
  assert_int_equal(pmx_metric_define(reg, &def, &h, &err), PMX_OK);
  def = (pmx_metric_def_t){.kind = PMX_COUNTER, .name = "job.count", .event_name = "job",
                           .exemplar_key = "trace_id"};
  assert_int_equal(pmx_metric_define(reg, &def, &c, &err), PMX_OK);
  assert_int_equal(pmx_metric_attach(h, bus, &err), PMX_OK);
  assert_int_equal(pmx_metric_attach(c, bus, &err), PMX_OK);
  pmx_measurement_t ms[] = {PMX_M("duration", 0.05)};
  pmx_meta_t md[] = {PMX_META_S("trace_id", "abc123")};
  assert_int_equal(pmx_emit_name(bus, "job", ms, 1, md, 1), 2); /* both handlers ran */
  assert_int_equal(pmx_emit_name(bus, "job", ms, 1, NULL, 0), 2); /* no trace id: none */
  char long_id[300];
  memset(long_id, 'z', 200);
  long_id[200] = '\0';
  pmx_meta_t bad[] = {PMX_META_S("trace_id", long_id)};
  assert_int_equal(pmx_emit_name(bus, "job", ms, 1, bad, 1), 2); /* recorded, exemplar refused */
  pmx_meta_t num[] = {PMX_META_I("trace_id", 77)};
  ms[0] = PMX_M("duration", 5);
  assert_int_equal(pmx_emit_name(bus, "job", ms, 1, num, 1), 2); /* both handlers ran */
  char *om = ct_render(reg, PMX_FORMAT_OPENMETRICS);
  char ex[256];
  assert_true(exemplar_of(om, "job_duration_bucket{le=\"0.1\"} 3 # ", ex, sizeof ex));
  assert_string_equal(ex, "{trace_id=\"abc123\"} 0.05");
  assert_true(exemplar_of(om, "job_duration_bucket{le=\"10.0\"} 4 # ", ex, sizeof ex));
  assert_string_equal(ex, "{trace_id=\"77\"} 5");
  assert_true(exemplar_of(om, "job_count_total 4 # ", ex, sizeof ex));
  assert_string_equal(ex, "{trace_id=\"77\"} 1");
  /* Each metric counted the one refused exemplar. */
  assert_true(ct_has_line(om, "promex_events_skipped_total{metric=\"job_duration\",reason=\"exemplar_rejected\"} 1"));
  assert_true(ct_has_line(om, "promex_events_skipped_total{metric=\"job_count\",reason=\"exemplar_rejected\"} 1"));
  free(om);
  pmx_metric_detach(h);
  pmx_metric_detach(c);
  pmx_bus_destroy(bus);
  pmx_registry_destroy(reg);
}

/* Writers store ids "w<k>-<n>" with value n into one slot while a reader renders: every exemplar
 * rendered is whole (its id's number equals its value), never a mix of two writes. */
typedef struct race {
  pmx_series_t *s;
  int writer;
  atomic_int *done;
} race_t;

static void *race_writer(void *arg) {
  race_t *r = arg;
  char id[64];
  for (int n = 1; n <= 200000; n++) {
    snprintf(id, sizeof id, "w%d-%d-padding-to-cross-several-words-of-the-slot", r->writer, n);
    assert_int_equal(pmx_series_add_exemplar(r->s, n, id), PMX_OK);
  }
  atomic_fetch_add(r->done, 1);
  return NULL;
}

static void test_concurrent_writers_and_renders(void **state) {
  (void)state;
  pmx_registry_t *reg;
  assert_int_equal(pmx_registry_new(NULL, &reg), PMX_OK);
  pmx_series_t *s = series(define(reg, PMX_SUM, "raced", "trace_id", NULL, 0));
  race_t r[3];
  pthread_t t[3];
  atomic_int done = 0;
  for (int i = 0; i < 3; i++) {
    r[i] = (race_t){.s = s, .writer = i, .done = &done};
    assert_int_equal(pthread_create(&t[i], NULL, race_writer, &r[i]), 0);
  }
  int seen = 0;
  for (int k = 0; k < 300 || atomic_load(&done) < 3; k++) { /* renders while writers run, and after */
    char *om = ct_render(reg, PMX_FORMAT_OPENMETRICS);
    const char *p = strstr(om, " # {trace_id=\"w");
    if (p != NULL) {
      int w, n;
      double v;
      char tail[64];
      assert_int_equal(sscanf(p, " # {trace_id=\"w%d-%d-%63[^\"]\"} %lf", &w, &n, tail, &v), 4);
      assert_string_equal(tail, "padding-to-cross-several-words-of-the-slot");
      assert_true(v == n);
      seen++;
    }
    free(om);
  }
  for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
  assert_true(seen > 0);
  pmx_registry_destroy(reg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_counter_exemplar_rendered_in_openmetrics_only),
      cmocka_unit_test(test_histogram_exemplar_goes_to_its_bucket),
      cmocka_unit_test(test_label_set_limit_and_utf8),
      cmocka_unit_test(test_definition_rules),
      cmocka_unit_test(test_events_carry_trace_ids),
      cmocka_unit_test(test_concurrent_writers_and_renders),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
