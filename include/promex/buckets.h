/* Histogram bucket generators (PromEx.BucketGenerator). */
#ifndef PROMEX_BUCKETS_H
#define PROMEX_BUCKETS_H

#include <stddef.h>

#include "promex/error.h"
#include "promex/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Writes `n` buckets start, start*factor, start*factor^2, ... to `out` (caller-owned, at least n
 * entries). exponential(1, 4, 10) = 1, 4, 16, ..., 262144. Returns PMX_OK, or PMX_EINVAL with
 * `out` untouched when out is NULL, n < 1, start <= 0, factor <= 1, or any value is not finite
 * or not above the one before (a factor too close to 1 for a double, e.g. a denormal start).
 * Thread-safe (pure). */
PMX_EXTERN int pmx_buckets_exponential(double start, double factor, size_t n, double *out);

/* Writes `n` buckets start, start+step, ... to `out`. linear(0, 250, 11) = 0, 250, ..., 2500.
 * Returns PMX_OK, or PMX_EINVAL with `out` untouched when out is NULL, n < 1, step <= 0, or any
 * value is not finite or not above the one before (a step too small for the magnitude of start:
 * linear(1e17, 1, 3) would repeat 1e17). Thread-safe (pure). */
PMX_EXTERN int pmx_buckets_linear(double start, double step, size_t n, double *out);

#ifdef __cplusplus
}
#endif
#endif
