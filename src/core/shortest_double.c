/* Shortest round-trip decimal for the doubles metrics usually hold, without printf.
 *
 * A finite double v = m * 2^-k (m a 53-bit integer) is read back as v by every decimal strictly
 * inside its rounding interval (v - ulp/2, v + ulp/2), and by the interval's ends too when m is
 * even (round-half-to-even). With d fractional digits, the decimals are N / 10^d; the shortest
 * representation uses the smallest d for which an integer N falls in
 * [(2m - 1) * 10^d / 2^(k+1), (2m + 1) * 10^d / 2^(k+1)]  (a power of two: the lower neighbour
 * is half as far, so the interval is [(4m - 1), (4m + 2)] * 10^d / 2^(k+2)).
 * Among the N that fit, the one nearest to v (ties to even) is what "%.{p}g" prints for the
 * smallest precision p that round-trips, so the output is the same as that search, bit for bit.
 *
 * For 1e-3 <= |v| < 2^53, k <= 62 and d <= 20, so every product fits in 128 bits and every
 * division by 2^(k+1) is a shift: the result is exact. Other values (tiny, huge, integral) are
 * left to the caller (number_format.c). */
#include <math.h>
#include <string.h>

#include "core/core_internal.h"

__extension__ typedef unsigned __int128 u128; /* GCC and Clang on 64-bit targets */

/* Digits of n (n < 10^20) into out; returns their number. */
static size_t u128_digits(u128 n, char *out) {
  char tmp[24];
  size_t len = 0;
  do {
    tmp[len++] = (char)('0' + (unsigned)(n % 10));
    n /= 10;
  } while (n != 0);
  for (size_t i = 0; i < len; i++) out[i] = tmp[len - 1 - i];
  return len;
}

size_t pmx__fmt_shortest(char *buf, double v) {
  double a = fabs(v);
  if (!(a >= 1e-3 && a < 9007199254740992.0) || a == trunc(a)) return 0;
  int e2;
  double f = frexp(a, &e2);                 /* a = f * 2^e2, 0.5 <= f < 1 */
  uint64_t m = (uint64_t)ldexp(f, 53);       /* exact: 53 significant bits */
  unsigned k = (unsigned)(53 - e2);          /* a = m * 2^-k, 1 <= k <= 62 */
  /* Interval [lo, hi] * 10^d / 2^shift around 2 * m (or 4 * m at a power of two). */
  bool pow2 = m == (UINT64_C(1) << 52);
  unsigned shift = pow2 ? k + 2 : k + 1;
  u128 center = pow2 ? (u128)m * 4 : (u128)m * 2;
  u128 lo = center - 1, hi = pow2 ? center + 2 : center + 1;
  bool inclusive = (m & 1) == 0;
  u128 scale = 1;                            /* 10^d */
  for (unsigned d = 1; d <= 20; d++) {
    scale *= 10;
    u128 low = lo * scale, high = hi * scale, mid = center * scale;
    u128 unit = (u128)1 << shift;
    /* Smallest and largest N with N * 2^shift inside [low, high] (strictly when exclusive). */
    u128 n_min = (low >> shift) + 1;        /* > low / 2^shift */
    if (inclusive && (low & (unit - 1)) == 0) n_min = low >> shift;
    u128 n_max = high >> shift;             /* <= high / 2^shift */
    if (!inclusive && (high & (unit - 1)) == 0) n_max--;
    if (n_min > n_max) continue;
    /* Nearest to v: mid / 2^shift rounded half to even, then kept inside [n_min, n_max]. */
    u128 n = mid >> shift, rem = mid & (unit - 1), half = unit >> 1;
    if (rem > half || (rem == half && (n & 1))) n++;
    if (n < n_min) n = n_min;
    if (n > n_max) n = n_max;
    char digits[24];
    size_t nd = u128_digits(n, digits);
    size_t len = 0;
    if (v < 0) buf[len++] = '-';
    if (nd > d) {
      memcpy(buf + len, digits, nd - d);
      len += nd - d;
      buf[len++] = '.';
      memcpy(buf + len, digits + nd - d, d);
      len += d;
    } else {
      buf[len++] = '0';
      buf[len++] = '.';
      memset(buf + len, '0', d - nd);
      len += d - nd;
      memcpy(buf + len, digits, nd);
      len += nd;
    }
    /* The smallest d never leaves a trailing zero (d - 1 would have fitted), but a clamped N
     * might; strip them as %g does. */
    while (buf[len - 1] == '0') len--;
    buf[len] = '\0';
    return len;
  }
  return 0; /* not reached for the range above; the caller falls back */
}
