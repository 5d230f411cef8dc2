/* Native (sparse, exponential-bucket) histograms: the per-family settings, the per-series
 * aggregate and its exact snapshot. Private to the core; see native_hist.c for the invariants. */
#ifndef PMX_NATIVE_HIST_H
#define PMX_NATIVE_HIST_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "promex/error.h"
#include "promex/metric.h"

/* The family's settings, fixed at definition. */
typedef struct pmx__native_def {
  int schema;            /* the schema every series starts at */
  double zero_threshold; /* >= 0 */
  size_t window;         /* bucket counters per sign in each series */
  size_t offset;         /* where a series' native part starts (bytes from the series) */
  size_t size;           /* bytes of that part, a multiple of PMX_CACHELINE */
  /* Schema > 0: bounds[j] = 2^(j/2^schema - 1) for j = 0..2^schema; the bounds of every lower
   * schema are a subset (every 2^k-th entry), so one table serves all reductions. */
  double *bounds;
} pmx__native_def_t;

/* Validates the native options of `def` (full: the metric's name, for messages). */
int pmx__native_check(const pmx_metric_def_t *def, const char *full, pmx_error_t *err);
/* Builds the settings; the series' native part goes at `offset`. NULL on out of memory. */
pmx__native_def_t *pmx__native_def_new(const pmx_metric_def_t *def, size_t offset);
void pmx__native_def_free(pmx__native_def_t *nd);

/* The series' native part (m->native set). */
void pmx__native_init(const pmx__native_def_t *nd, void *part);
/* Observe `v` (not NaN). Lock-free unless the window must move or the schema shrink. */
void pmx__native_observe(const pmx__native_def_t *nd, void *part, double v);
/* Exact snapshot into out (arrays sized by the caller, cap >= nd->window). */
void pmx__native_snapshot(const pmx__native_def_t *nd, const void *part, pmx_native_snapshot_t *out);
/* Exact count and sum (the gate held for the loads). */
void pmx__native_totals(const pmx__native_def_t *nd, const void *part, uint64_t *count, double *sum);
/* Observations begun (those still completing included). */
uint64_t pmx__native_count(const pmx__native_def_t *nd, const void *part);

/* Bucket index of |v| > 0 at `schema` (exposed for tests). */
int32_t pmx__native_index(const pmx__native_def_t *nd, int schema, double v);

#endif
