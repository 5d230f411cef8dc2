/* Histogram bucket generators with PromEx.BucketGenerator's results and argument checks.
 *
 * Both check every bound before writing any, so a failure leaves `out` untouched, and refuse any
 * result that is not finite and strictly increasing: with a step or factor too small for the
 * magnitude (linear(1e17, 1, 3): 1e17 + 1 == 1e17 in a double) the bounds would repeat, and a
 * histogram with two equal `le` bounds is not one Prometheus accepts. */
#include <math.h>

#include "internal.h"
#include "promex/buckets.h"

int pmx_buckets_exponential(double start, double factor, size_t n, double *out) {
  if (out == NULL || n < 1 || !isfinite(start) || !isfinite(factor) || start <= 0 || factor <= 1) {
    return PMX_EINVAL;
  }
  double prev = start;
  for (size_t i = 1; i < n; i++) {
    double v = prev * factor;
    if (!isfinite(v) || !(v > prev)) return PMX_EINVAL;
    prev = v;
  }
  /* Repeated multiplication, as checked above; exact for the integer cases PromEx documents
   * (1, 4, 16, ...). */
  double v = start;
  for (size_t i = 0; i < n; i++) {
    out[i] = v;
    v *= factor;
  }
  return PMX_OK;
}

int pmx_buckets_linear(double start, double step, size_t n, double *out) {
  if (out == NULL || n < 1 || !isfinite(start) || !isfinite(step) || step <= 0) return PMX_EINVAL;
  /* start + i*step rather than accumulation, so rounding does not drift along the series. */
  double prev = start;
  for (size_t i = 1; i < n; i++) {
    double v = start + step * (double)i;
    if (!isfinite(v) || !(v > prev)) return PMX_EINVAL;
    prev = v;
  }
  for (size_t i = 0; i < n; i++) out[i] = start + step * (double)i;
  return PMX_OK;
}
