/* The printf-free shortest formatter (src/core/shortest_double.c) against the printf-and-strtod
 * search it replaces: on many random doubles of its range, its output reads back to the same
 * double (strtod) and is byte for byte what the printf search prints; values outside its range
 * are refused (0) and still formatted correctly by pmx__fmt_double through the fallback. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/core_internal.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next_u64(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static double bits_double(uint64_t b) {
  double d;
  memcpy(&d, &b, sizeof d);
  return d;
}

/* In range: the shortest form round-trips and equals the printf search. */
static void check_same(double v) {
  char fast[48], slow[48];
  size_t nf = pmx__fmt_shortest(fast, v);
  if (nf == 0) fail_msg("refused %.17g", v);
  size_t ns = pmx__fmt_double_printf(slow, v);
  if (strtod(fast, NULL) != v) fail_msg("%s does not read back as %.17g", fast, v);
  if (nf != strlen(fast) || nf != ns || strcmp(fast, slow) != 0) {
    fail_msg("%.17g: shortest \"%s\", printf search \"%s\"", v, fast, slow);
  }
}

static void test_random_bit_patterns(void **state) {
  (void)state;
  size_t checked = 0;
  while (checked < 300000) {
    double v = bits_double(next_u64());
    double a = fabs(v);
    if (!(a >= 1e-3 && a < 9007199254740992.0) || a == trunc(a)) continue;
    check_same(v);
    checked++;
  }
}

/* Decimal-looking values (what metrics mostly hold): short outputs, many ties near the edges. */
static void test_short_decimals(void **state) {
  (void)state;
  for (int i = 0; i < 200000; i++) {
    uint64_t digits = next_u64() % 10000000;
    int scale = (int)(next_u64() % 10) + 1;
    double v = (double)digits / pow(10, scale);
    if (next_u64() & 1) v = -v;
    double a = fabs(v);
    if (!(a >= 1e-3 && a < 9007199254740992.0) || a == trunc(a)) continue;
    check_same(v);
  }
  char buf[48];
  pmx__fmt_shortest(buf, 0.1);
  assert_string_equal(buf, "0.1");
  pmx__fmt_shortest(buf, -1.5);
  assert_string_equal(buf, "-1.5");
  pmx__fmt_shortest(buf, 0.001);
  assert_string_equal(buf, "0.001");
  pmx__fmt_shortest(buf, 1704.6909799317227);
  assert_string_equal(buf, "1704.6909799317227");
}

/* Powers of two (the asymmetric interval), the range's edges and their neighbours. */
static void test_edges(void **state) {
  (void)state;
  for (int e = -9; e < 53; e++) {
    double p = ldexp(1.0, e);
    double near[3] = {p, nextafter(p, 0), nextafter(p, INFINITY)};
    for (int i = 0; i < 3; i++) {
      double a = near[i];
      if (a >= 1e-3 && a < 9007199254740992.0 && a != trunc(a)) check_same(a);
    }
  }
  check_same(nextafter(1e-3, 1));
  check_same(1e-3);
  check_same(9007199254740991.0 / 2); /* 2^52 - 0.5 */
  check_same(0.30000000000000004);
}

/* Out of range: refused, and pmx__fmt_double still round-trips through the fallback. */
static void test_out_of_range(void **state) {
  (void)state;
  const double outside[] = {1e-4, 9.99e-4, 5e-324, 1e300, -1e20, 9007199254740993.0 * 4, 42.0, -7.0, 0.0};
  char buf[48];
  for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++) {
    assert_int_equal(pmx__fmt_shortest(buf, outside[i]), 0);
    size_t n = pmx__fmt_double(buf, outside[i]);
    assert_int_equal(n, strlen(buf));
    assert_true(strtod(buf, NULL) == outside[i]);
  }
  assert_int_equal(pmx__fmt_shortest(buf, NAN), 0);
  assert_int_equal(pmx__fmt_shortest(buf, INFINITY), 0);
  pmx__fmt_double(buf, NAN);
  assert_string_equal(buf, "NaN");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_random_bit_patterns),
      cmocka_unit_test(test_short_decimals),
      cmocka_unit_test(test_edges),
      cmocka_unit_test(test_out_of_range),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
