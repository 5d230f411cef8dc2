/* Histogram bucket generators with PromEx.BucketGenerator's results and argument checks. */
#include <math.h>

#include "internal.h"
#include "promex/buckets.h"

int pmx_buckets_exponential(double start, double factor, size_t n, double *out) {
  if (out == NULL || n < 1 || !isfinite(start) || !isfinite(factor) || start <= 0 || factor <= 1) {
    return PMX_EINVAL;
  }
  /* Check every value before writing any, so a failure leaves `out` untouched. Each bucket is
   * computed as start * factor^i by repeated multiplication, which is exact for the integer
   * cases PromEx documents (1, 4, 16, ...). */
  double v = start;
  for (size_t i = 1; i < n; i++) {
    v *= factor;
    if (!isfinite(v)) return PMX_EINVAL;
  }
  v = start;
  for (size_t i = 0; i < n; i++) {
    out[i] = v;
    v *= factor;
  }
  return PMX_OK;
}

int pmx_buckets_linear(double start, double step, size_t n, double *out) {
  if (out == NULL || n < 1 || !isfinite(start) || !isfinite(step) || step <= 0) return PMX_EINVAL;
  if (!isfinite(start + step * (double)(n - 1))) return PMX_EINVAL;
  /* start + i*step rather than accumulation, so rounding does not drift along the series. */
  for (size_t i = 0; i < n; i++) out[i] = start + step * (double)i;
  return PMX_OK;
}
