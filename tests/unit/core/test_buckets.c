/* Unit tests for the bucket generators (include/promex/buckets.h): the examples from PromEx's
 * BucketGenerator documentation reproduced exactly, and every documented invalid argument
 * rejected with PMX_EINVAL while leaving the output array untouched. */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "promex/promex.h"

#define SENTINEL (-12345.678)
#define OUT_CAP 32

static void fill_sentinel(double *out) {
  for (size_t i = 0; i < OUT_CAP; i++) out[i] = SENTINEL;
}

static void assert_untouched(const double *out) {
  for (size_t i = 0; i < OUT_CAP; i++) assert_true(out[i] == SENTINEL);
}

static void assert_buckets(const double *got, const double *want, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (got[i] != want[i]) fail_msg("bucket %zu: got %.17g, want %.17g", i, got[i], want[i]);
  }
  /* Nothing past n is written. */
  for (size_t i = n; i < OUT_CAP; i++) assert_true(got[i] == SENTINEL);
}

static void test_exponential_seed_examples(void **state) {
  (void)state;
  double out[OUT_CAP];
  /* PromEx.BucketGenerator.exponential!(1, 4, 10) */
  const double e1[] = {1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144};
  fill_sentinel(out);
  assert_int_equal(pmx_buckets_exponential(1, 4, 10, out), PMX_OK);
  assert_buckets(out, e1, 10);
  /* exponential!(1, 2, 10) */
  const double e2[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};
  fill_sentinel(out);
  assert_int_equal(pmx_buckets_exponential(1, 2, 10, out), PMX_OK);
  assert_buckets(out, e2, 10);
  /* A single bucket is just start; fractional factors work. */
  fill_sentinel(out);
  assert_int_equal(pmx_buckets_exponential(0.5, 1.5, 1, out), PMX_OK);
  assert_buckets(out, (const double[]){0.5}, 1);
  fill_sentinel(out);
  assert_int_equal(pmx_buckets_exponential(0.001, 10, 4, out), PMX_OK);
  /* start * factor^i within rounding of repeated multiplication; strictly increasing. */
  for (size_t i = 0; i < 4; i++) assert_true(fabs(out[i] - 0.001 * pow(10, (double)i)) < 1e-15);
  for (size_t i = 1; i < 4; i++) assert_true(out[i] > out[i - 1]);
}

static void test_linear_seed_examples(void **state) {
  (void)state;
  double out[OUT_CAP];
  /* PromEx.BucketGenerator.linear!(10, 10, 10) */
  const double l1[] = {10, 20, 30, 40, 50, 60, 70, 80, 90, 100};
  fill_sentinel(out);
  assert_int_equal(pmx_buckets_linear(10, 10, 10, out), PMX_OK);
  assert_buckets(out, l1, 10);
  /* linear!(0, 250, 11) */
  const double l2[] = {0, 250, 500, 750, 1000, 1250, 1500, 1750, 2000, 2250, 2500};
  fill_sentinel(out);
  assert_int_equal(pmx_buckets_linear(0, 250, 11, out), PMX_OK);
  assert_buckets(out, l2, 11);
  /* Negative starts are allowed for linear; steps do not drift (start + i*step). */
  fill_sentinel(out);
  assert_int_equal(pmx_buckets_linear(-1, 0.1, 21, out), PMX_OK);
  for (size_t i = 0; i < 21; i++) assert_true(out[i] == -1 + 0.1 * (double)i);
}

static void test_exponential_invalid(void **state) {
  (void)state;
  double out[OUT_CAP];
  struct {
    double start, factor;
    size_t n;
  } bad[] = {
      {1, 2, 0},               /* n = 0 */
      {0, 2, 5},               /* start <= 0 */
      {-1, 2, 5},              /* start <= 0 */
      {1, 1, 5},               /* factor <= 1 */
      {1, 0.5, 5},             /* factor <= 1 */
      {1, -2, 5},              /* factor <= 1 */
      {NAN, 2, 5},             /* not finite */
      {1, NAN, 5},             /* not finite */
      {INFINITY, 2, 5},        /* not finite */
      {1, INFINITY, 5},        /* not finite */
      {1e300, 1e10, 5},        /* overflows to Inf at the second bucket */
      {DBL_MAX / 2, 2.5, 2},   /* the last value overflows */
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    fill_sentinel(out);
    int rc = pmx_buckets_exponential(bad[i].start, bad[i].factor, bad[i].n, out);
    if (rc != PMX_EINVAL) fail_msg("case %zu: got %d, want PMX_EINVAL", i, rc);
    assert_untouched(out);
  }
  assert_int_equal(pmx_buckets_exponential(1, 2, 3, NULL), PMX_EINVAL);
}

static void test_exponential_overflow_untouched(void **state) {
  (void)state;
  /* 10^i overflows past i = 308: the whole array must stay untouched, not just its tail. */
  static double big[400];
  for (size_t i = 0; i < 400; i++) big[i] = SENTINEL;
  assert_int_equal(pmx_buckets_exponential(1, 10, 400, big), PMX_EINVAL);
  for (size_t i = 0; i < 400; i++) assert_true(big[i] == SENTINEL);
}

static void test_linear_invalid(void **state) {
  (void)state;
  double out[OUT_CAP];
  struct {
    double start, step;
    size_t n;
  } bad[] = {
      {0, 1, 0},              /* n = 0 */
      {0, 0, 5},              /* step <= 0 */
      {0, -1, 5},             /* step <= 0 */
      {NAN, 1, 5},            /* not finite */
      {0, NAN, 5},            /* not finite */
      {INFINITY, 1, 5},       /* not finite */
      {-INFINITY, 1, 5},      /* not finite */
      {0, INFINITY, 5},       /* not finite */
      {DBL_MAX, DBL_MAX, 3},  /* overflows to Inf */
      {0, DBL_MAX, 3},        /* 2 * DBL_MAX overflows */
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    fill_sentinel(out);
    int rc = pmx_buckets_linear(bad[i].start, bad[i].step, bad[i].n, out);
    if (rc != PMX_EINVAL) fail_msg("case %zu: got %d, want PMX_EINVAL", i, rc);
    assert_untouched(out);
  }
  assert_int_equal(pmx_buckets_linear(0, 1, 3, NULL), PMX_EINVAL);
}

/* Generated buckets are accepted by a distribution definition (strictly increasing, finite). */
static void test_generated_buckets_define(void **state) {
  (void)state;
  double b[10];
  assert_int_equal(pmx_buckets_exponential(1, 4, 10, b), PMX_OK);
  pmx_registry_t *reg;
  assert_int_equal(pmx_registry_new(NULL, &reg), PMX_OK);
  pmx_metric_def_t def = {.kind = PMX_DISTRIBUTION, .name = "gen.size", .buckets = b, .n_buckets = 10};
  assert_int_equal(pmx_metric_define(reg, &def, NULL, NULL), PMX_OK);
  pmx_registry_destroy(reg);
}

/* Issue 8 item 15: a step or factor too small for the magnitude would give equal bounds (1e17 + 1
 * is 1e17 in a double). Both generators refuse any result that is not strictly increasing, and
 * leave the output untouched; the boundary cases that still increase are accepted. */
static void test_not_increasing_refused(void **state) {
  (void)state;
  double out[OUT_CAP];
  fill_sentinel(out);
  assert_int_equal(pmx_buckets_linear(1e17, 1, 3, out), PMX_EINVAL);
  assert_untouched(out);
  /* 2^53 + 1 rounds back to 2^53: equal bounds. */
  assert_int_equal(pmx_buckets_linear(9007199254740992.0, 1, 2, out), PMX_EINVAL);
  assert_untouched(out);
  /* One bucket cannot repeat: fine at any magnitude. */
  assert_int_equal(pmx_buckets_linear(1e17, 1, 1, out), PMX_OK);
  assert_true(out[0] == 1e17);
  /* 16 is the smallest step that moves 1e17 (the spacing of doubles there). */
  fill_sentinel(out);
  assert_int_equal(pmx_buckets_linear(1e17, 16, 3, out), PMX_OK);
  assert_true(out[0] < out[1] && out[1] < out[2]);

  fill_sentinel(out);
  /* The smallest denormal times 1.1 rounds back to itself. */
  assert_int_equal(pmx_buckets_exponential(4.9406564584124654e-324, 1.1, 3, out), PMX_EINVAL);
  assert_untouched(out);
  /* A factor whose product rounds back to the start. */
  assert_int_equal(pmx_buckets_exponential(1.0, 1.0 + DBL_EPSILON / 4, 2, out), PMX_EINVAL);
  assert_untouched(out);
  assert_int_equal(pmx_buckets_exponential(1.0, 1.0 + DBL_EPSILON, 4, out), PMX_OK);
  for (size_t i = 1; i < 4; i++) assert_true(out[i - 1] < out[i]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_exponential_seed_examples),
      cmocka_unit_test(test_linear_seed_examples),
      cmocka_unit_test(test_exponential_invalid),
      cmocka_unit_test(test_exponential_overflow_untouched),
      cmocka_unit_test(test_linear_invalid),
      cmocka_unit_test(test_generated_buckets_define),
      cmocka_unit_test(test_not_increasing_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
