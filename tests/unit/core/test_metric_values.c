/* Unit tests for the direct (event-less) metric API (include/promex/metric.h): series updates per
 * kind (add/inc/set/observe and their PMX_EINVAL / PMX_ETYPE refusals, leaving the value
 * unchanged), histogram bucketing and snapshots, pmx_metric_labels argument checks and UTF-8
 * validation, series identity, the per-family series limit, and many series (table growth). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "core_test_util.h"
#include "promex/promex.h"

static int setup(void **state) {
  pmx_registry_t *reg;
  if (pmx_registry_new(NULL, &reg) != PMX_OK) return -1;
  *state = reg;
  return 0;
}

static int teardown(void **state) {
  pmx_registry_destroy(*state);
  return 0;
}

static pmx_series_t *series_of(pmx_registry_t *reg, const pmx_metric_def_t *def, pmx_metric_t **mout) {
  pmx_metric_t *m;
  pmx_error_t err = {0};
  int rc = pmx_metric_define(reg, def, &m, &err);
  if (rc != PMX_OK) fail_msg("define %s: %s", def->name, err.text);
  pmx_series_t *s = NULL;
  assert_int_equal(pmx_metric_labels(m, NULL, 0, &s), PMX_OK);
  assert_non_null(s);
  if (mout) *mout = m;
  return s;
}

/* ---- counters --------------------------------------------------------------------------------- */

static void test_counter(void **state) {
  pmx_registry_t *reg = *state;
  pmx_metric_def_t def = {.kind = PMX_COUNTER, .name = "c.total"};
  pmx_series_t *s = series_of(reg, &def, NULL);
  assert_true(pmx_series_value(s) == 0);
  assert_int_equal(pmx_series_inc(s), PMX_OK);
  assert_int_equal(pmx_series_inc(s), PMX_OK);
  assert_true(pmx_series_value(s) == 2);

  /* Integral and fractional adds, in an order where a double accumulator is exact, give exactly
   * what a double accumulator gives. */
  const double adds[] = {1, 0.5, 2, 0.25, 1024, 0.125, 0, 3.75};
  double expect = 2;
  for (size_t i = 0; i < sizeof adds / sizeof *adds; i++) {
    assert_int_equal(pmx_series_add(s, adds[i]), PMX_OK);
    expect += adds[i];
    assert_true(pmx_series_value(s) == expect);
  }

  /* Refusals leave the value unchanged. */
  assert_int_equal(pmx_series_add(s, -1), PMX_EINVAL);
  assert_int_equal(pmx_series_add(s, -0.5), PMX_EINVAL);
  assert_int_equal(pmx_series_add(s, NAN), PMX_EINVAL);
  assert_int_equal(pmx_series_set(s, 5), PMX_ETYPE);
  assert_int_equal(pmx_series_observe(s, 5), PMX_ETYPE);
  assert_true(pmx_series_value(s) == expect);
  uint64_t cum[2], count;
  double sum;
  assert_int_equal(pmx_series_histogram(s, cum, 2, &count, &sum), PMX_ETYPE);

  /* NULL series. */
  assert_int_equal(pmx_series_add(NULL, 1), PMX_EINVAL);
  assert_int_equal(pmx_series_inc(NULL), PMX_EINVAL);
  assert_int_equal(pmx_series_set(NULL, 1), PMX_EINVAL);
  assert_int_equal(pmx_series_observe(NULL, 1), PMX_EINVAL);
}

/* Fractional increments that are not exact in binary still accumulate like doubles do when
 * added in one order: 0.1 ten times. */
static void test_counter_fractional_accumulation(void **state) {
  pmx_registry_t *reg = *state;
  pmx_metric_def_t def = {.kind = PMX_SUM, .name = "frac.sum"};
  pmx_series_t *s = series_of(reg, &def, NULL);
  double expect = 0;
  for (int i = 0; i < 10; i++) {
    assert_int_equal(pmx_series_add(s, 0.1), PMX_OK);
    expect += 0.1;
  }
  assert_true(pmx_series_value(s) == expect);
  /* Large integral adds stay exact past 2^32. */
  pmx_metric_def_t big = {.kind = PMX_COUNTER, .name = "big.total"};
  pmx_series_t *b = series_of(reg, &big, NULL);
  assert_int_equal(pmx_series_add(b, 4294967296.0), PMX_OK);
  assert_int_equal(pmx_series_add(b, 4294967296.0), PMX_OK);
  assert_int_equal(pmx_series_inc(b), PMX_OK);
  assert_true(pmx_series_value(b) == 8589934593.0);
  /* +Inf is not NaN and not negative: accepted, and the counter reads +Inf. */
  assert_int_equal(pmx_series_add(b, INFINITY), PMX_OK);
  assert_true(isinf(pmx_series_value(b)) && pmx_series_value(b) > 0);
}

/* ---- sums ------------------------------------------------------------------------------------------ */

static void test_sum(void **state) {
  pmx_registry_t *reg = *state;
  pmx_metric_def_t def = {.kind = PMX_SUM, .name = "bytes.sum"};
  pmx_series_t *s = series_of(reg, &def, NULL);
  assert_int_equal(pmx_series_add(s, 10), PMX_OK);
  assert_int_equal(pmx_series_add(s, 2.5), PMX_OK);
  assert_int_equal(pmx_series_inc(s), PMX_OK);
  assert_true(pmx_series_value(s) == 13.5);
  assert_int_equal(pmx_series_add(s, -1), PMX_EINVAL);
  assert_int_equal(pmx_series_set(s, 1), PMX_ETYPE);
  assert_true(pmx_series_value(s) == 13.5);

  /* sum_as_gauge: may go down and may be set. */
  pmx_metric_def_t g = {.kind = PMX_SUM, .name = "inflight.sum", .sum_as_gauge = true};
  pmx_series_t *gs = series_of(reg, &g, NULL);
  assert_int_equal(pmx_series_add(gs, 5), PMX_OK);
  assert_int_equal(pmx_series_add(gs, -7.5), PMX_OK);
  assert_true(pmx_series_value(gs) == -2.5);
  assert_int_equal(pmx_series_set(gs, 40), PMX_OK);
  assert_true(pmx_series_value(gs) == 40);
  assert_int_equal(pmx_series_inc(gs), PMX_OK);
  assert_true(pmx_series_value(gs) == 41);
  assert_int_equal(pmx_series_add(gs, NAN), PMX_EINVAL);
  assert_true(pmx_series_value(gs) == 41);
  assert_int_equal(pmx_series_observe(gs, 1), PMX_ETYPE);
}

/* ---- gauges ---------------------------------------------------------------------------------------- */

static void test_gauge(void **state) {
  pmx_registry_t *reg = *state;
  pmx_metric_def_t def = {.kind = PMX_LAST_VALUE, .name = "temp.celsius"};
  pmx_series_t *s = series_of(reg, &def, NULL);
  assert_int_equal(pmx_series_set(s, 21.5), PMX_OK);
  assert_true(pmx_series_value(s) == 21.5);
  assert_int_equal(pmx_series_set(s, -3), PMX_OK);
  assert_true(pmx_series_value(s) == -3);
  assert_int_equal(pmx_series_add(s, 1.25), PMX_OK);
  assert_true(pmx_series_value(s) == -1.75);
  assert_int_equal(pmx_series_add(s, -10), PMX_OK);
  assert_true(pmx_series_value(s) == -11.75);
  assert_int_equal(pmx_series_inc(s), PMX_OK);
  assert_true(pmx_series_value(s) == -10.75);
  /* A set after integral adds replaces the whole value. */
  assert_int_equal(pmx_series_add(s, 100), PMX_OK);
  assert_int_equal(pmx_series_set(s, 7), PMX_OK);
  assert_true(pmx_series_value(s) == 7);
  assert_int_equal(pmx_series_add(s, NAN), PMX_EINVAL);
  assert_true(pmx_series_value(s) == 7);
  assert_int_equal(pmx_series_observe(s, 1), PMX_ETYPE);
  assert_true(pmx_series_value(s) == 7);
}

/* ---- histograms -------------------------------------------------------------------------------- */

static void check_histogram(pmx_registry_t *reg, const char *name, const double *bounds, size_t nb,
                            const double *obs, size_t no) {
  pmx_metric_def_t def = {.kind = PMX_DISTRIBUTION, .name = name, .buckets = bounds, .n_buckets = nb};
  pmx_series_t *s = series_of(reg, &def, NULL);
  double sum_expect = 0;
  for (size_t i = 0; i < no; i++) {
    assert_int_equal(pmx_series_observe(s, obs[i]), PMX_OK);
    sum_expect += obs[i];
  }
  uint64_t cum[PMX_MAX_BUCKETS + 2];
  uint64_t count = 0;
  double sum = 0;
  assert_int_equal(pmx_series_histogram(s, cum, nb + 1, &count, &sum), PMX_OK);
  /* Expected cumulative counts computed here: observation <= bound (a value equal to a bound
   * belongs to that bucket). */
  for (size_t b = 0; b < nb; b++) {
    uint64_t want = 0;
    for (size_t i = 0; i < no; i++) want += obs[i] <= bounds[b];
    if (cum[b] != want) fail_msg("%s: bucket le=%g has %llu, want %llu", name, bounds[b],
                                 (unsigned long long)cum[b], (unsigned long long)want);
  }
  assert_int_equal(cum[nb], no); /* +Inf */
  assert_int_equal(count, no);
  assert_true(sum == sum_expect);
  assert_true(pmx_series_value(s) == (double)no); /* the count of a histogram series */

  /* cap too small. */
  assert_int_equal(pmx_series_histogram(s, cum, nb, &count, &sum), PMX_EINVAL);
  assert_int_equal(pmx_series_histogram(s, NULL, nb + 1, &count, &sum), PMX_EINVAL);
  assert_int_equal(pmx_series_histogram(NULL, cum, nb + 1, &count, &sum), PMX_EINVAL);
  /* Distribution refuses counter/gauge operations. */
  assert_int_equal(pmx_series_add(s, 1), PMX_ETYPE);
  assert_int_equal(pmx_series_inc(s), PMX_ETYPE);
  assert_int_equal(pmx_series_set(s, 1), PMX_ETYPE);
  assert_int_equal(pmx_series_observe(s, NAN), PMX_EINVAL);
  assert_int_equal(pmx_series_histogram(s, cum, nb + 1, &count, &sum), PMX_OK);
  assert_int_equal(count, no); /* unchanged by the refusals */
}

static void test_histogram_small(void **state) {
  const double bounds[] = {0.005, 0.01, 0.1, 1, 10};
  const double obs[] = {0.001, 0.005, 0.0051, 0.01, 0.05, 0.1, 0.5, 1, 1, 9.99, 10, 10.01, 1e6, -3};
  check_histogram(*state, "lat.small", bounds, 5, obs, sizeof obs / sizeof *obs);
}

/* More than 16 bounds (the store may search them differently); values on and between bounds. */
static void test_histogram_many_buckets(void **state) {
  double bounds[40];
  for (int i = 0; i < 40; i++) bounds[i] = (double)(i * 5);
  double obs[200];
  for (int i = 0; i < 200; i++) obs[i] = (double)i - 0.5 * (i % 3); /* on bounds, below, and past 195 */
  check_histogram(*state, "lat.many", bounds, 40, obs, 200);
  double max[PMX_MAX_BUCKETS];
  for (int i = 0; i < PMX_MAX_BUCKETS; i++) max[i] = (double)i;
  double o2[] = {-1, 0, 0.5, 63, 63.5, 127, 127.5, 1000};
  check_histogram(*state, "lat.max", max, PMX_MAX_BUCKETS, o2, sizeof o2 / sizeof *o2);
}

/* Every bucket count, so that each shape of the search (the short count, the binary search with
 * odd and even halves) meets values on each bound, just either side of it, and beyond both ends. */
static void test_histogram_every_bucket_count(void **state) {
  static double bounds[PMX_MAX_BUCKETS], obs[3 * PMX_MAX_BUCKETS + 4];
  for (size_t nb = 1; nb <= PMX_MAX_BUCKETS; nb++) {
    size_t no = 0;
    for (size_t i = 0; i < nb; i++) {
      bounds[i] = (double)i * 1.5 - 7;
      obs[no++] = bounds[i];
      obs[no++] = nextafter(bounds[i], -INFINITY);
      obs[no++] = nextafter(bounds[i], INFINITY);
    }
    obs[no++] = -1e300;
    obs[no++] = 1e300;
    char name[32];
    snprintf(name, sizeof name, "lat.nb_%zu", nb);
    check_histogram(*state, name, bounds, nb, obs, no);
  }
}

static void test_histogram_infinities(void **state) {
  pmx_registry_t *reg = *state;
  const double bounds[] = {1};
  pmx_metric_def_t def = {.kind = PMX_DISTRIBUTION, .name = "lat.inf", .buckets = bounds, .n_buckets = 1};
  pmx_series_t *s = series_of(reg, &def, NULL);
  assert_int_equal(pmx_series_observe(s, -INFINITY), PMX_OK);
  assert_int_equal(pmx_series_observe(s, INFINITY), PMX_OK);
  uint64_t cum[2], count;
  double sum;
  assert_int_equal(pmx_series_histogram(s, cum, 2, &count, &sum), PMX_OK);
  assert_int_equal(cum[0], 1);
  assert_int_equal(cum[1], 2);
  assert_int_equal(count, 2);
  assert_true(isnan(sum)); /* -Inf + +Inf */
}

/* ---- labels ------------------------------------------------------------------------------------------ */

static pmx_metric_t *labelled(pmx_registry_t *reg, const char *name, size_t max_series) {
  const char *tags[] = {"method", "status"};
  pmx_metric_def_t def = {.kind = PMX_COUNTER, .name = name, .tags = tags, .n_tags = 2, .max_series = max_series};
  pmx_metric_t *m;
  assert_int_equal(pmx_metric_define(reg, &def, &m, NULL), PMX_OK);
  return m;
}

static void test_labels_args(void **state) {
  pmx_registry_t *reg = *state;
  pmx_metric_t *m = labelled(reg, "req.total", 0);
  pmx_series_t *s = (pmx_series_t *)(uintptr_t)1;
  const char *one[] = {"GET"};
  const char *three[] = {"GET", "200", "x"};
  const char *withnull[] = {"GET", NULL};
  assert_int_equal(pmx_metric_labels(m, one, 1, &s), PMX_EINVAL);
  assert_null(s);
  assert_int_equal(pmx_metric_labels(m, three, 3, &s), PMX_EINVAL);
  assert_int_equal(pmx_metric_labels(m, NULL, 0, &s), PMX_EINVAL);
  assert_int_equal(pmx_metric_labels(m, NULL, 2, &s), PMX_EINVAL);
  assert_int_equal(pmx_metric_labels(m, withnull, 2, &s), PMX_EINVAL);
  assert_int_equal(pmx_metric_labels(NULL, three, 2, &s), PMX_EINVAL);
  assert_int_equal(pmx_metric_labels(m, three, 2, NULL), PMX_EINVAL);

  /* Value length limit: exactly PMX_MAX_LABEL_VALUE bytes is fine, one more is not. */
  char *longv = malloc(PMX_MAX_LABEL_VALUE + 2);
  assert_non_null(longv);
  memset(longv, 'v', PMX_MAX_LABEL_VALUE + 1);
  longv[PMX_MAX_LABEL_VALUE + 1] = '\0';
  const char *too_long[] = {"GET", longv};
  assert_int_equal(pmx_metric_labels(m, too_long, 2, &s), PMX_EINVAL);
  longv[PMX_MAX_LABEL_VALUE] = '\0';
  assert_int_equal(pmx_metric_labels(m, too_long, 2, &s), PMX_OK);
  free(longv);

  /* Invalid UTF-8: lone continuation, truncated sequence, overlong, surrogate, > U+10FFFF, 0xFF. */
  const char *bad_utf8[] = {"\x80", "a\xc3", "\xe2\x82", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80",
                            "\xf4\x90\x80\x80", "\xff", "ok\xfe"};
  for (size_t i = 0; i < sizeof bad_utf8 / sizeof *bad_utf8; i++) {
    const char *v[] = {"GET", bad_utf8[i]};
    s = (pmx_series_t *)(uintptr_t)1;
    int rc = pmx_metric_labels(m, v, 2, &s);
    if (rc != PMX_EINVAL) fail_msg("invalid UTF-8 case %zu accepted (%s)", i, pmx_err_name(rc));
    assert_null(s);
  }
  /* Valid multi-byte UTF-8 of every length, and the empty string. */
  const char *good_utf8[] = {"caf\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf",
                             "\xc2\x80", "\xef\xbf\xbf", ""};
  for (size_t i = 0; i < sizeof good_utf8 / sizeof *good_utf8; i++) {
    const char *v[] = {"GET", good_utf8[i]};
    int rc = pmx_metric_labels(m, v, 2, &s);
    if (rc != PMX_OK) fail_msg("valid UTF-8 case %zu refused (%s)", i, pmx_err_name(rc));
  }
  /* The series count reflects only the accepted ones: 1 (max length) + 7. */
  assert_int_equal(pmx_metric_series_count(m), 8);
  assert_int_equal(pmx_metric_dropped_series(m), 0);
}

static void test_unlabelled_labels(void **state) {
  pmx_registry_t *reg = *state;
  pmx_metric_def_t def = {.kind = PMX_COUNTER, .name = "plain.total"};
  pmx_metric_t *m;
  assert_int_equal(pmx_metric_define(reg, &def, &m, NULL), PMX_OK);
  pmx_series_t *a, *b;
  assert_int_equal(pmx_metric_labels(m, NULL, 0, &a), PMX_OK);
  const char *one[] = {"x"};
  assert_int_equal(pmx_metric_labels(m, one, 1, &b), PMX_EINVAL);
  assert_int_equal(pmx_metric_labels(m, one, 0, &b), PMX_OK); /* n == 0: values ignored */
  assert_ptr_equal(a, b);
  assert_int_equal(pmx_metric_series_count(m), 1);
}

static void test_series_identity(void **state) {
  pmx_registry_t *reg = *state;
  pmx_metric_t *m = labelled(reg, "id.total", 0);
  pmx_series_t *a, *b, *c, *d, *e;
  const char *v1[] = {"GET", "200"};
  char buf1[8], buf2[8];
  strcpy(buf1, "GET");
  strcpy(buf2, "200");
  const char *v1copy[] = {buf1, buf2}; /* same values, other pointers */
  const char *v2[] = {"GET", "500"};
  const char *v3[] = {"200", "GET"}; /* swapped */
  const char *v4[] = {"GE", "T200"}; /* same concatenation, other split */
  assert_int_equal(pmx_metric_labels(m, v1, 2, &a), PMX_OK);
  assert_int_equal(pmx_metric_labels(m, v1copy, 2, &b), PMX_OK);
  assert_ptr_equal(a, b);
  assert_int_equal(pmx_metric_labels(m, v2, 2, &c), PMX_OK);
  assert_int_equal(pmx_metric_labels(m, v3, 2, &d), PMX_OK);
  assert_int_equal(pmx_metric_labels(m, v4, 2, &e), PMX_OK);
  assert_ptr_not_equal(a, c);
  assert_ptr_not_equal(a, d);
  assert_ptr_not_equal(a, e);
  assert_ptr_not_equal(c, d);
  assert_int_equal(pmx_metric_series_count(m), 4);
  /* Updates go to their own series. */
  assert_int_equal(pmx_series_add(a, 2), PMX_OK);
  assert_int_equal(pmx_series_inc(c), PMX_OK);
  assert_true(pmx_series_value(b) == 2);
  assert_true(pmx_series_value(c) == 1);
  assert_true(pmx_series_value(d) == 0);
  /* The caller's buffers are copied. */
  strcpy(buf1, "PUT");
  assert_int_equal(pmx_metric_labels(m, v1, 2, &b), PMX_OK);
  assert_ptr_equal(a, b);
  char *text = ct_render(reg, PMX_FORMAT_TEXT);
  assert_true(ct_has_line(text, "id_total{method=\"GET\",status=\"200\"} 2"));
  assert_true(ct_has_line(text, "id_total{method=\"GE\",status=\"T200\"} 0"));
  assert_null(strstr(text, "PUT"));
  free(text);
}

/* Series are told apart whatever the lengths of their values: the lookup hashes the last 0-8
 * bytes of a value differently from its leading 8-byte words, and combines values by position.
 * Every pair of these label sets differs (empty values, 1-3, 4-8, 9-16 and longer bytes, the
 * same bytes in another position or split, one byte changed at the start, middle or end); each
 * gets its own series and is found again after the table has grown. */
static void test_series_identity_lengths(void **state) {
  pmx_registry_t *reg = *state;
  const char *tags[] = {"a", "b", "c"};
  pmx_metric_def_t def = {.kind = PMX_COUNTER, .name = "len.total", .tags = tags, .n_tags = 3};
  pmx_metric_t *m;
  assert_int_equal(pmx_metric_define(reg, &def, &m, NULL), PMX_OK);
  static const char *const sets[][3] = {
      {"", "", ""},          {"x", "", ""},         {"", "x", ""},          {"", "", "x"},
      {"ab", "", ""},        {"a", "b", ""},        {"abc", "", ""},        {"abd", "", ""},
      {"bbc", "", ""},       {"abcd", "", ""},      {"abcde", "", ""},      {"abcdf", "", ""},
      {"bbcde", "", ""},     {"abXde", "", ""},     {"abcdefgh", "", ""},   {"abcdefgi", "", ""},
      {"abcdefghi", "", ""}, {"abcdefghj", "", ""}, {"abcdefgh", "i", ""},  {"bbcdefghi", "", ""},
      {"abcdefghijklmnop", "x", "y"}, {"abcdefghijklmnoq", "x", "y"}, {"x", "abcdefghijklmnop", "y"},
      {"abcdefghijklmnopqrstuvwxyz0123456789", "", ""}, {"abcdefghijklmnopqrstuvwxyz0123456788", "", ""},
      {"same", "same", "same"}, {"same", "same", ""}, {"", "same", "same"}, {"GET", "200", "/"},
      {"200", "GET", "/"},   {"/", "200", "GET"},
  };
  enum { N = sizeof sets / sizeof sets[0] };
  pmx_series_t *got[N];
  for (size_t i = 0; i < N; i++) {
    assert_int_equal(pmx_metric_labels(m, sets[i], 3, &got[i]), PMX_OK);
    assert_int_equal(pmx_series_add(got[i], (double)(i + 1)), PMX_OK);
  }
  assert_int_equal(pmx_metric_series_count(m), N);
  for (size_t i = 0; i < N; i++) {
    pmx_series_t *s;
    assert_int_equal(pmx_metric_labels(m, sets[i], 3, &s), PMX_OK);
    if (s != got[i]) fail_msg("label set %zu found as another series", i);
    if (pmx_series_value(s) != (double)(i + 1)) fail_msg("label set %zu has value %g", i, pmx_series_value(s));
  }
}

static void test_series_limit(void **state) {
  pmx_registry_t *reg = *state;
  pmx_metric_t *m = labelled(reg, "lim.total", 3);
  pmx_series_t *s[3], *x = (pmx_series_t *)(uintptr_t)1;
  const char *vals[4][2] = {{"a", "1"}, {"b", "1"}, {"c", "1"}, {"d", "1"}};
  for (int i = 0; i < 3; i++) assert_int_equal(pmx_metric_labels(m, vals[i], 2, &s[i]), PMX_OK);
  assert_int_equal(pmx_metric_labels(m, vals[3], 2, &x), PMX_ELIMIT);
  assert_null(x);
  assert_int_equal(pmx_metric_dropped_series(m), 1);
  assert_int_equal(pmx_metric_series_count(m), 3);
  /* Existing series still work and are still found. */
  for (int i = 0; i < 3; i++) {
    assert_int_equal(pmx_metric_labels(m, vals[i], 2, &x), PMX_OK);
    assert_ptr_equal(x, s[i]);
    assert_int_equal(pmx_series_inc(x), PMX_OK);
    assert_true(pmx_series_value(s[i]) == 1);
  }
  assert_int_equal(pmx_metric_labels(m, vals[3], 2, &x), PMX_ELIMIT);
  assert_int_equal(pmx_metric_dropped_series(m), 2);
  /* The drops are exposed in the registry's own metrics. */
  char *text = ct_render(reg, PMX_FORMAT_TEXT);
  assert_true(ct_has_line(text, "promex_series_dropped_total{metric=\"lim_total\"} 2"));
  assert_null(strstr(text, "method=\"d\""));
  free(text);
}

/* Many series, all found again afterwards with their own values (the table must grow and keep
 * every entry reachable). */
#define MANY 50000
static void test_many_series(void **state) {
  pmx_registry_t *reg = *state;
  const char *tags[] = {"id"};
  pmx_metric_def_t def = {.kind = PMX_SUM, .name = "many.sum", .tags = tags, .n_tags = 1, .max_series = MANY};
  pmx_metric_t *m;
  assert_int_equal(pmx_metric_define(reg, &def, &m, NULL), PMX_OK);
  pmx_series_t **all = calloc(MANY, sizeof *all);
  assert_non_null(all);
  char v[32];
  for (int i = 0; i < MANY; i++) {
    snprintf(v, sizeof v, "series-%d", i);
    const char *vals[] = {v};
    assert_int_equal(pmx_metric_labels(m, vals, 1, &all[i]), PMX_OK);
    assert_int_equal(pmx_series_add(all[i], (double)i), PMX_OK);
  }
  assert_int_equal(pmx_metric_series_count(m), MANY);
  for (int i = 0; i < MANY; i++) {
    snprintf(v, sizeof v, "series-%d", i);
    const char *vals[] = {v};
    pmx_series_t *s;
    assert_int_equal(pmx_metric_labels(m, vals, 1, &s), PMX_OK);
    if (s != all[i]) fail_msg("series %d found as another series", i);
    if (pmx_series_value(s) != (double)i) fail_msg("series %d has value %g", i, pmx_series_value(s));
  }
  assert_int_equal(pmx_metric_series_count(m), MANY);
  const char *extra[] = {"one-too-many"};
  pmx_series_t *s;
  assert_int_equal(pmx_metric_labels(m, extra, 1, &s), PMX_ELIMIT);
  free(all);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
int main(void) {
  const struct CMUnitTest tests[] = {
      T(test_counter),
      T(test_counter_fractional_accumulation),
      T(test_sum),
      T(test_gauge),
      T(test_histogram_small),
      T(test_histogram_many_buckets),
      T(test_histogram_every_bucket_count),
    T(test_histogram_infinities),
      T(test_labels_args),
      T(test_unlabelled_labels),
      T(test_series_identity),
      T(test_series_identity_lengths),
      T(test_series_limit),
      T(test_many_series),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
