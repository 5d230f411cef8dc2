/* Number formatting for the exposition: integers by hand (most samples are counts), other
 * doubles in the shortest form that reads back to the same double (shortest_double.c for the
 * usual magnitudes, printf and strtod for the rest), and the spellings Prometheus wants for NaN
 * and infinities. printf and strtod follow LC_NUMERIC, so the printf path switches the calling
 * thread to the C locale (uselocale is per thread: the host program's own locale is left alone)
 * around them. */
#include <float.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_internal.h"

static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static locale_t c_locale; /* created once, never freed: read-only, shared by every registry */

static void make_c_locale(void) { c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0); }

size_t pmx__fmt_u64(char *buf, uint64_t v) {
  char tmp[24];
  size_t n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v != 0);
  for (size_t i = 0; i < n; i++) buf[i] = tmp[n - 1 - i];
  buf[n] = '\0';
  return n;
}

size_t pmx__fmt_i64(char *buf, int64_t v) {
  if (v < 0) {
    buf[0] = '-';
    return 1 + pmx__fmt_u64(buf + 1, (uint64_t)0 - (uint64_t)v);
  }
  return pmx__fmt_u64(buf, (uint64_t)v);
}

size_t pmx__fmt_double(char *buf, double v) {
  if (isnan(v)) {
    memcpy(buf, "NaN", 4);
    return 3;
  }
  if (isinf(v)) {
    memcpy(buf, v > 0 ? "+Inf" : "-Inf", 5);
    return 4;
  }
  /* Integral values below 2^53 print exactly as integers. */
  if (v == trunc(v) && fabs(v) < 9007199254740992.0) {
    if (v == 0) {
      buf[0] = '0';
      buf[1] = '\0';
      return 1;
    }
    return pmx__fmt_i64(buf, (int64_t)v);
  }
  size_t n_short = pmx__fmt_shortest(buf, v);
  if (PMX_LIKELY(n_short != 0)) return n_short;
  return pmx__fmt_double_printf(buf, v);
}

size_t pmx__fmt_double_printf(char *buf, double v) {
  pthread_once(&c_locale_once, make_c_locale);
  /* uselocale((locale_t)0) only queries, so a failed newlocale degrades to the thread's locale. */
  locale_t prev = uselocale(c_locale);
  int n = 0;
  int prec = 15;
  for (; prec <= 17; prec++) {
    n = snprintf(buf, 33, "%.*g", prec, v);
    if (prec == 17 || strtod(buf, NULL) == v) break;
  }
  /* Subnormals carry fewer significant digits: 15 may still be more than the shortest form. */
  if (fabs(v) < DBL_MIN) {
    char shorter[40];
    for (int p = prec - 1; p >= 1; p--) {
      int m = snprintf(shorter, sizeof shorter, "%.*g", p, v);
      if (strtod(shorter, NULL) != v) break;
      memcpy(buf, shorter, (size_t)m + 1);
      n = m;
    }
  }
  uselocale(prev);
  return (size_t)n;
}
