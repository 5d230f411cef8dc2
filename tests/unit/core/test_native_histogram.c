/* Unit tests for native histograms (include/promex/metric.h, "Native histograms";
 * src/core/native_hist.c): the bucket index of every schema against its definition, the zero
 * bucket and negative values, schema reduction at the bucket limit (the result equals bucketing
 * every value directly at the final schema), exact snapshots while threads observe and reduce,
 * the classic view of a native-only family, series reuse, and every bad definition. */
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/core_internal.h"
#include "core/native_hist.h"
#include "core_test_util.h"
#include "promex/promex.h"

#define CAP PMX_NATIVE_MAX_BUCKETS
static uint64_t g_pos[CAP], g_neg[CAP];

static pmx_metric_t *define_native(pmx_registry_t *reg, const char *name, int schema, size_t max_buckets,
                                   const double *buckets, size_t n_buckets) {
  pmx_metric_def_t def = {.kind = PMX_DISTRIBUTION, .name = name, .measurement = "v", .native = true,
                          .native_schema = schema, .native_max_buckets = max_buckets,
                          .buckets = buckets, .n_buckets = n_buckets};
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

static pmx_native_snapshot_t snap(const pmx_series_t *s) {
  pmx_native_snapshot_t ns = {.positive = g_pos, .negative = g_neg, .cap = CAP};
  assert_int_equal(pmx_series_native(s, &ns), PMX_OK);
  return ns;
}

/* The definition: the smallest i with v <= 2^(i / 2^schema), searched in long double. */
static int32_t index_by_definition(int schema, double v) {
  long double l = log2l((long double)v) * powl(2.0L, (long double)schema);
  int32_t i = (int32_t)ceill(l);
  /* ceil of the scaled log can be off by one right at a bound: settle it exactly. */
  while (powl(2.0L, (long double)(i - 1) / powl(2.0L, (long double)schema)) >= (long double)v) i--;
  while (powl(2.0L, (long double)i / powl(2.0L, (long double)schema)) < (long double)v) i++;
  return i;
}

static void test_native_index_matches_definition(void **state) {
  (void)state;
  for (int schema = -4; schema <= 8; schema++) {
    pmx_metric_def_t def = {.native = true, .native_schema = 8};
    pmx__native_def_t *nd = pmx__native_def_new(&def, 0);
    assert_non_null(nd);
    /* Bounds themselves (exactly representable powers of two) and values between them. */
    for (int e = -60; e <= 60; e++) {
      double v = ldexp(1.0, e);
      assert_int_equal(pmx__native_index(nd, schema, v), index_by_definition(schema, v));
      double w = v * 1.3;
      assert_int_equal(pmx__native_index(nd, schema, w), index_by_definition(schema, w));
    }
    uint64_t x = 88172645463325252ull;
    for (int k = 0; k < 2000; k++) { /* xorshift: values over 2^-40..2^40 */
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      double v = ldexp((double)(x >> 11) / 9007199254740992.0 + 0.5, (int)(x % 81) - 40);
      assert_int_equal(pmx__native_index(nd, schema, v), index_by_definition(schema, v));
    }
    pmx__native_def_free(nd);
  }
  /* Known values: schema 0 buckets are (2^(i-1), 2^i]. */
  pmx_metric_def_t def = {.native = true, .native_schema = 0};
  pmx__native_def_t *nd = pmx__native_def_new(&def, 0);
  assert_int_equal(pmx__native_index(nd, 0, 1.0), 0);
  assert_int_equal(pmx__native_index(nd, 0, 1.5), 1);
  assert_int_equal(pmx__native_index(nd, 0, 2.0), 1);
  assert_int_equal(pmx__native_index(nd, 0, 0.5), -1);
  assert_int_equal(pmx__native_index(nd, -1, 5.0), 2); /* (4, 16] */
  assert_int_equal(pmx__native_index(nd, 0, INFINITY), 1024); /* the highest finite bucket */
  pmx__native_def_free(nd);
}

static void test_native_histogram_buckets_zero_and_negative(void **state) {
  (void)state;
  pmx_registry_t *reg;
  assert_int_equal(pmx_registry_new(NULL, &reg), PMX_OK);
  pmx_metric_t *m = define_native(reg, "lat", 0, 16, NULL, 0);
  pmx_series_t *s = series(m);
  double values[] = {1, 2, 3, 4, 0, 1e-40, -1, -3, 0.75};
  for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) assert_int_equal(pmx_series_observe(s, values[i]), PMX_OK);
  assert_int_equal(pmx_series_observe(s, NAN), PMX_EINVAL);
  pmx_native_snapshot_t ns = snap(s);
  assert_int_equal(ns.schema, 0);
  assert_true(ns.zero_threshold == PMX_NATIVE_DEFAULT_ZERO_THRESHOLD);
  assert_int_equal(ns.count, 9);
  assert_int_equal(ns.zero_count, 2); /* 0 and 1e-40 <= 2^-128 */
  assert_true(ns.sum == 1 + 2 + 3 + 4 + 1e-40 - 1 - 3 + 0.75);
  /* Positive: 0.75 -> 0, 1 -> 0, 2 -> 1, 3 -> 2, 4 -> 2. */
  assert_int_equal(ns.base[0], 0);
  assert_int_equal(ns.len[0], 3);
  assert_int_equal(g_pos[0], 2);
  assert_int_equal(g_pos[1], 1);
  assert_int_equal(g_pos[2], 2);
  /* Negative (by |v|): 1 -> 0, 3 -> 2, with an empty bucket between. */
  assert_int_equal(ns.base[1], 0);
  assert_int_equal(ns.len[1], 3);
  assert_int_equal(g_neg[0], 1);
  assert_int_equal(g_neg[1], 0);
  assert_int_equal(g_neg[2], 1);
  /* A native-only family shows classic readers the +Inf bucket, _count and _sum. */
  uint64_t cum[1], count;
  double sum;
  assert_int_equal(pmx_series_histogram(s, cum, 1, &count, &sum), PMX_OK);
  assert_int_equal(count, 9);
  assert_int_equal(cum[0], 9);
  assert_true(pmx_series_value(s) == 9);
  char *text = ct_render(reg, PMX_FORMAT_TEXT);
  assert_true(ct_has_line(text, "lat_bucket{le=\"+Inf\"} 9"));
  assert_true(ct_has_line(text, "lat_count 9"));
  assert_int_equal(ct_count(text, "lat_bucket"), 1);
  free(text);
  /* Negative values were observed: OpenMetrics renders no _sum (nor _count), as for classic. */
  text = ct_render(reg, PMX_FORMAT_OPENMETRICS);
  assert_true(ct_has_line(text, "lat_bucket{le=\"+Inf\"} 9"));
  assert_null(strstr(text, "lat_sum"));
  free(text);
  pmx_registry_destroy(reg);
}

/* Observes `vals` into a series limited to `max` buckets per sign and checks that the result is
 * what bucketing every value directly at the final schema gives. */
static void check_reduction(int schema, size_t max, const double *vals, size_t n, int want_schema) {
  pmx_registry_t *reg;
  assert_int_equal(pmx_registry_new(NULL, &reg), PMX_OK);
  pmx_metric_t *m = define_native(reg, "r", schema, max, NULL, 0);
  pmx_series_t *s = series(m);
  for (size_t i = 0; i < n; i++) assert_int_equal(pmx_series_observe(s, vals[i]), PMX_OK);
  pmx_native_snapshot_t ns = snap(s);
  assert_int_equal(ns.schema, want_schema);
  assert_int_equal(ns.count, n);
  size_t limit = max ? max : PMX_NATIVE_DEFAULT_MAX_BUCKETS;
  assert_true(ns.len[0] <= limit && ns.len[1] <= limit);
  pmx_metric_def_t def = {.native = true, .native_schema = schema};
  pmx__native_def_t *nd = pmx__native_def_new(&def, 0);
  for (size_t i = 0; i < n; i++) {
    double a = fabs(vals[i]);
    int sign = vals[i] < 0;
    int32_t idx = pmx__native_index(nd, ns.schema, a);
    int64_t slot = (int64_t)idx - ns.base[sign];
    assert_true(slot >= 0 && slot < (int64_t)ns.len[sign]);
    uint64_t *b = sign ? g_neg : g_pos;
    assert_true(b[slot] > 0);
    b[slot]--; /* consume: at the end every bucket must be empty */
  }
  for (size_t j = 0; j < ns.len[0]; j++) assert_int_equal(g_pos[j], 0);
  for (size_t j = 0; j < ns.len[1]; j++) assert_int_equal(g_neg[j], 0);
  pmx__native_def_free(nd);
  pmx_registry_destroy(reg);
}

static void test_native_histogram_schema_reduction(void **state) {
  (void)state;
  /* Schema 3, four buckets per sign: 1 and 2 are 8 buckets apart at schema 3, 4 at 2, 2 at 1. */
  double a[] = {1.0, 2.0};
  check_reduction(3, 4, a, 2, 1);
  /* The window moves (no reduction) while the span fits: 1.1 .. 1.9 at schema 0 is one bucket. */
  double b[] = {100, 1.5, 1.9, 1.1};
  check_reduction(0, 8, b, 4, 0);
  /* Wide ranges on both signs, in an order that moves the window both ways: 2^-30..2^30 is 31
   * buckets at schema -1 (over 20), 16 at schema -2. */
  double c[64];
  for (int i = 0; i < 64; i++) c[i] = (i % 2 ? -1 : 1) * ldexp(1.37, (i * 37) % 61 - 30);
  check_reduction(8, 20, c, 64, -2);
  /* Latencies from 1 us to 100 s under the default limit (160): about 2^-20..2^7, 213 buckets at
   * schema 3, 107 at schema 2: one reduction. */
  double d[] = {1e-6, 100};
  check_reduction(3, 0, d, 2, 2);
}

static void test_native_histogram_clamps_at_lowest_schema(void **state) {
  (void)state;
  pmx_registry_t *reg;
  assert_int_equal(pmx_registry_new(NULL, &reg), PMX_OK);
  pmx_metric_t *m = define_native(reg, "c", -4, 2, NULL, 0);
  pmx_series_t *s = series(m);
  /* At schema -4 a bucket spans 2^16: 1, 2^40 and 2^-40 are five buckets apart, over a window
   * of two. Every observation is still counted. */
  assert_int_equal(pmx_series_observe(s, 1), PMX_OK);
  assert_int_equal(pmx_series_observe(s, ldexp(1, 40)), PMX_OK);
  assert_int_equal(pmx_series_observe(s, ldexp(1, -40)), PMX_OK);
  pmx_native_snapshot_t ns = snap(s);
  assert_int_equal(ns.schema, -4);
  assert_int_equal(ns.count, 3);
  assert_true(ns.len[0] <= 2);
  pmx_registry_destroy(reg);
}

typedef struct worker {
  pmx_series_t *s;
  int id;
  size_t n;
} worker_t;

static void *observe_ones(void *arg) {
  worker_t *w = arg;
  for (size_t i = 0; i < w->n; i++) pmx_series_observe(w->s, 1.0);
  return NULL;
}

static void *observe_wide(void *arg) {
  worker_t *w = arg;
  for (size_t i = 0; i < w->n; i++) pmx_series_observe(w->s, ldexp(1.0, (int)(i % 200) - 100) * 3);
  return NULL;
}

/* Snapshots taken while two threads observe 1.0 and one observes values over 2^-100..2^100
 * (forcing window moves and reductions) are exact: the 1.0s are sum - wide sum, and the total
 * count equals zero + every bucket. The final state equals direct bucketing. */
static void test_native_histogram_exact_under_concurrency(void **state) {
  (void)state;
  pmx_registry_t *reg;
  assert_int_equal(pmx_registry_new(NULL, &reg), PMX_OK);
  pmx_metric_t *m = define_native(reg, "conc", 8, 24, NULL, 0);
  pmx_series_t *s = series(m);
  enum { N = 200000, W = 20000 };
  worker_t w1 = {s, 1, N}, w2 = {s, 2, N}, w3 = {s, 3, W};
  pthread_t t1, t2, t3;
  pthread_create(&t1, NULL, observe_ones, &w1);
  pthread_create(&t2, NULL, observe_ones, &w2);
  pthread_create(&t3, NULL, observe_wide, &w3);
  uint64_t last = 0;
  for (int i = 0; i < 200; i++) {
    pmx_native_snapshot_t ns = snap(s);
    uint64_t total = ns.zero_count;
    for (size_t j = 0; j < ns.len[0]; j++) total += g_pos[j];
    for (size_t j = 0; j < ns.len[1]; j++) total += g_neg[j];
    assert_int_equal(total, ns.count);
    assert_true(ns.count >= last);
    last = ns.count;
    if (i % 20 == 0) { /* renders read the same series meanwhile */
      pmx_buf_t buf = {0};
      assert_int_equal(pmx_render(reg, PMX_FORMAT_PROTOBUF, &buf), PMX_OK);
      assert_int_equal(pmx_render(reg, PMX_FORMAT_TEXT, &buf), PMX_OK);
      pmx_buf_free(&buf);
    }
  }
  pthread_join(t1, NULL);
  pthread_join(t2, NULL);
  pthread_join(t3, NULL);
  pmx_native_snapshot_t ns = snap(s);
  assert_int_equal(ns.count, 2 * N + W);
  pmx_metric_def_t def = {.native = true, .native_schema = 8};
  pmx__native_def_t *nd = pmx__native_def_new(&def, 0);
  int64_t one = (int64_t)pmx__native_index(nd, ns.schema, 1.0) - ns.base[0];
  assert_true(one >= 0 && one < (int64_t)ns.len[0]);
  uint64_t wide_in_one = 0;
  for (size_t i = 0; i < W; i++) {
    if (pmx__native_index(nd, ns.schema, ldexp(1.0, (int)(i % 200) - 100) * 3) == ns.base[0] + one) wide_in_one++;
  }
  assert_int_equal(g_pos[one], 2 * N + wide_in_one);
  pmx__native_def_free(nd);
  pmx_registry_destroy(reg);
}

static void test_native_histogram_with_classic_buckets(void **state) {
  (void)state;
  pmx_registry_t *reg;
  assert_int_equal(pmx_registry_new(NULL, &reg), PMX_OK);
  const double bounds[] = {0.5, 1, 2};
  pmx_metric_t *m = define_native(reg, "both", 3, 0, bounds, 3);
  pmx_series_t *s = series(m);
  for (int i = 0; i < 10; i++) pmx_series_observe(s, 0.1 * (i + 1));
  uint64_t cum[4], count;
  double sum;
  assert_int_equal(pmx_series_histogram(s, cum, 4, &count, &sum), PMX_OK);
  assert_int_equal(cum[0], 5);
  assert_int_equal(cum[1], 10);
  assert_int_equal(count, 10);
  pmx_native_snapshot_t ns = snap(s);
  assert_int_equal(ns.count, 10);
  assert_true(fabs(ns.sum - sum) < 1e-12);
  /* Series reuse after removal starts both parts from zero. */
  assert_int_equal(pmx_metric_reset(m), PMX_OK);
  s = series(m);
  ns = snap(s);
  assert_int_equal(ns.count, 0);
  assert_int_equal(ns.len[0], 0);
  assert_int_equal(pmx_series_observe(s, 4), PMX_OK);
  ns = snap(s);
  assert_int_equal(ns.count, 1);
  assert_int_equal(ns.schema, 3);
  pmx_registry_destroy(reg);
}

static void expect_define_error(pmx_metric_def_t def, int want, const char *text) {
  pmx_registry_t *reg;
  assert_int_equal(pmx_registry_new(NULL, &reg), PMX_OK);
  pmx_metric_t *m = (pmx_metric_t *)1;
  pmx_error_t err;
  assert_int_equal(pmx_metric_define(reg, &def, &m, &err), want);
  assert_null(m);
  assert_non_null(strstr(err.text, text));
  assert_null(pmx_registry_find(reg, def.name)); /* nothing was defined */
  pmx_registry_destroy(reg);
}

static void test_native_histogram_bad_definitions(void **state) {
  (void)state;
  pmx_metric_def_t base = {.kind = PMX_DISTRIBUTION, .name = "h", .measurement = "v", .native = true};
  pmx_metric_def_t d = base;
  d.native_schema = 9;
  expect_define_error(d, PMX_EINVAL, "native_schema 9 is outside -4..8");
  d.native_schema = -5;
  expect_define_error(d, PMX_EINVAL, "native_schema -5");
  d = base;
  d.native_zero_threshold = -0.5;
  expect_define_error(d, PMX_EINVAL, "native_zero_threshold");
  d.native_zero_threshold = NAN;
  expect_define_error(d, PMX_EINVAL, "native_zero_threshold");
  d.native_zero_threshold = INFINITY;
  expect_define_error(d, PMX_EINVAL, "native_zero_threshold");
  d = base;
  d.native_max_buckets = PMX_NATIVE_MAX_BUCKETS + 1;
  expect_define_error(d, PMX_EINVAL, "native_max_buckets");
  d = base;
  d.kind = PMX_COUNTER;
  expect_define_error(d, PMX_EINVAL, "native is only valid for a distribution");
  d = base;
  d.native = false; /* a classic distribution still needs buckets */
  expect_define_error(d, PMX_EINVAL, "at least one bucket");

  /* pmx_series_native: wrong kind, too small a buffer, NULLs. */
  pmx_registry_t *reg;
  assert_int_equal(pmx_registry_new(NULL, &reg), PMX_OK);
  const double bounds[] = {1};
  pmx_metric_def_t classic = {.kind = PMX_DISTRIBUTION, .name = "classic", .measurement = "v", .buckets = bounds, .n_buckets = 1};
  pmx_metric_t *cm;
  assert_int_equal(pmx_metric_define(reg, &classic, &cm, NULL), PMX_OK);
  pmx_native_snapshot_t ns = {.positive = g_pos, .negative = g_neg, .cap = CAP};
  assert_int_equal(pmx_series_native(series(cm), &ns), PMX_ETYPE);
  pmx_metric_t *nm = define_native(reg, "native", 0, 8, NULL, 0);
  ns.cap = 7;
  assert_int_equal(pmx_series_native(series(nm), &ns), PMX_EINVAL);
  ns.cap = 8;
  ns.negative = NULL;
  assert_int_equal(pmx_series_native(series(nm), &ns), PMX_EINVAL);
  assert_int_equal(pmx_series_native(NULL, &ns), PMX_EINVAL);
  assert_int_equal(pmx_series_native(series(nm), NULL), PMX_EINVAL);
  /* Zero threshold "zero": only exact zeros go to the zero bucket. */
  pmx_metric_def_t z = {.kind = PMX_DISTRIBUTION, .name = "z", .measurement = "v", .native = true,
                        .native_zero_threshold = PMX_NATIVE_ZERO_THRESHOLD_ZERO};
  pmx_metric_t *zm;
  assert_int_equal(pmx_metric_define(reg, &z, &zm, NULL), PMX_OK);
  pmx_series_observe(series(zm), 0);
  pmx_series_observe(series(zm), 1e-300);
  ns = (pmx_native_snapshot_t){.positive = g_pos, .negative = g_neg, .cap = CAP};
  assert_int_equal(pmx_series_native(series(zm), &ns), PMX_OK);
  assert_true(ns.zero_threshold == 0);
  assert_int_equal(ns.zero_count, 1);
  assert_int_equal(ns.count, 2);
  pmx_registry_destroy(reg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_native_index_matches_definition),
      cmocka_unit_test(test_native_histogram_buckets_zero_and_negative),
      cmocka_unit_test(test_native_histogram_schema_reduction),
      cmocka_unit_test(test_native_histogram_clamps_at_lowest_schema),
      cmocka_unit_test(test_native_histogram_exact_under_concurrency),
      cmocka_unit_test(test_native_histogram_with_classic_buckets),
      cmocka_unit_test(test_native_histogram_bad_definitions),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
