/* Native histograms: per series, a zero bucket and, per sign, a fixed window of exponential
 * bucket counters, sized at definition and preallocated with the series (no allocation on
 * observe, memory bounded by the bucket limit).
 *
 * Invariants:
 * - An all-zero part is an empty histogram at the family's schema: `reduced` counts the
 *   reductions (schema = def schema - reduced) and `used` says whether a sign's window is placed.
 *   So a fresh or reused series needs no initialisation beyond zeroing.
 * - `gate` is a reader count (observers inside) plus GATE_EXCL. Observers enter shared: they only
 *   add to counters and the sum with atomics, and never change the layout. Whatever changes the
 *   layout (placing or moving a window, reducing the schema) or must see every counter at one
 *   instant (a snapshot) holds the gate exclusively: it sets GATE_EXCL, then waits for the
 *   observers inside to leave. Observers arriving meanwhile step back out and spin until it is
 *   released. So a snapshot is exact (count == zero + buckets, and sum is of exactly those) and a
 *   layout change never loses an increment.
 * - Bucket index i of schema s holds (2^((i-1)/2^s), 2^(i/2^s)]; at schema s-1 it becomes
 *   ceil(i/2), which is how a reduction merges pairs of buckets. */
#include <float.h>
#include <math.h>
#include <sched.h>
#include <string.h>

#include "core/core_internal.h"
#include "core/native_hist.h"

#define GATE_EXCL ((uint64_t)1 << 63)
#define MIN_SCHEMA (-4)
#define MAX_SCHEMA 8

typedef struct native_part {
  _Atomic uint64_t gate;
  _Atomic int32_t reduced;     /* schema = def schema - reduced */
  _Atomic int32_t base[2];     /* bucket index of window slot 0, per sign (0 positive) */
  _Atomic uint32_t used[2];    /* window placed */
  _Atomic uint64_t zero;       /* zero bucket */
  _Atomic uint64_t sum_bits;   /* double bits */
  _Alignas(PMX_CACHELINE) _Atomic uint64_t buckets[]; /* window positive, then window negative */
} native_part_t;

static size_t header_size(void) {
  return (offsetof(native_part_t, buckets) + PMX_CACHELINE - 1) & ~(size_t)(PMX_CACHELINE - 1);
}

int pmx__native_check(const pmx_metric_def_t *def, const char *full, pmx_error_t *err) {
  if (!def->native) return PMX_OK;
  if (def->kind != PMX_DISTRIBUTION) {
    return pmx__fail(err, PMX_EINVAL, full, "metric \"%s\": native is only valid for a distribution", full);
  }
  if (def->native_schema < MIN_SCHEMA || def->native_schema > MAX_SCHEMA) {
    return pmx__fail(err, PMX_EINVAL, full, "metric \"%s\": native_schema %d is outside -4..8", full,
                     def->native_schema);
  }
  double zt = def->native_zero_threshold;
  if (!(zt == PMX_NATIVE_ZERO_THRESHOLD_ZERO || (zt >= 0 && isfinite(zt)))) {
    return pmx__fail(err, PMX_EINVAL, full,
                     "metric \"%s\": native_zero_threshold must be finite and >= 0 (or "
                     "PMX_NATIVE_ZERO_THRESHOLD_ZERO)", full);
  }
  if (def->native_max_buckets > PMX_NATIVE_MAX_BUCKETS) {
    return pmx__fail(err, PMX_EINVAL, full, "metric \"%s\": native_max_buckets %zu, at most %d allowed",
                     full, def->native_max_buckets, PMX_NATIVE_MAX_BUCKETS);
  }
  return PMX_OK;
}

pmx__native_def_t *pmx__native_def_new(const pmx_metric_def_t *def, size_t offset) {
  pmx__native_def_t *nd = pmx__calloc(1, sizeof *nd);
  if (nd == NULL) return NULL;
  nd->schema = def->native_schema;
  double zt = def->native_zero_threshold;
  nd->zero_threshold = zt == 0 ? PMX_NATIVE_DEFAULT_ZERO_THRESHOLD : zt < 0 ? 0 : zt;
  nd->window = def->native_max_buckets ? def->native_max_buckets : PMX_NATIVE_DEFAULT_MAX_BUCKETS;
  nd->offset = offset;
  nd->size = header_size() + ((2 * nd->window * sizeof(uint64_t) + PMX_CACHELINE - 1) &
                              ~(size_t)(PMX_CACHELINE - 1));
  if (nd->schema > 0) {
    size_t n = (size_t)1 << nd->schema;
    nd->bounds = pmx__malloc((n + 1) * sizeof *nd->bounds);
    if (nd->bounds == NULL) {
      pmx__free(nd);
      return NULL;
    }
    for (size_t j = 0; j <= n; j++) nd->bounds[j] = exp2((double)j / (double)n - 1.0);
    nd->bounds[0] = 0.5; /* exact ends, whatever exp2's last bit does */
    nd->bounds[n] = 1.0;
  }
  return nd;
}

void pmx__native_def_free(pmx__native_def_t *nd) {
  if (nd == NULL) return;
  pmx__free(nd->bounds);
  pmx__free(nd);
}

/* floor(x / 2^k) without relying on the implementation-defined shift of negative numbers. */
static int32_t floor_shift(int32_t x, int k) {
  if (x >= 0) return x >> k;
  return -(int32_t)(((uint32_t)(-(int64_t)x) + ((uint32_t)1 << k) - 1) >> k);
}

int32_t pmx__native_index(const pmx__native_def_t *nd, int schema, double v) {
  if (v > DBL_MAX) v = DBL_MAX; /* +Inf counts in the highest finite bucket */
  /* v = frac * 2^exp with frac in [0.5, 1): frexp, read straight from the bits for normal
   * numbers (the observe path; a libm call costs more than the rest of the index). */
  uint64_t bits;
  memcpy(&bits, &v, sizeof bits);
  int biased = (int)(bits >> 52) & 0x7ff, exp;
  double frac;
  if (PMX_LIKELY(biased != 0)) {
    exp = biased - 1022;
    bits = (bits & ~((uint64_t)0x7ff << 52)) | ((uint64_t)1022 << 52);
    memcpy(&frac, &bits, sizeof frac);
  } else {
    frac = frexp(v, &exp); /* subnormal */
  }
  if (schema > 0) {
    /* Smallest j with frac <= 2^(j/2^schema - 1): the index is (exp - 1) * 2^schema + j. */
    int step = nd->schema - schema; /* this schema's bounds are every 2^step-th table entry */
    size_t lo = 0, hi = (size_t)1 << schema;
    while (lo < hi) {
      size_t mid = (lo + hi) / 2;
      if (frac <= nd->bounds[mid << step]) hi = mid; else lo = mid + 1;
    }
    return (int32_t)(exp - 1) * ((int32_t)1 << schema) + (int32_t)lo;
  }
  int32_t i = frac == 0.5 ? exp - 1 : exp; /* schema 0: (2^(i-1), 2^i] */
  if (schema == 0) return i;
  return floor_shift(i + ((int32_t)1 << -schema) - 1, -schema); /* ceil(i / 2^-schema) */
}

static inline uint64_t dbits(double v) {
  uint64_t b;
  memcpy(&b, &v, sizeof b);
  return b;
}
static inline double bitsd(uint64_t b) {
  double v;
  memcpy(&v, &b, sizeof v);
  return v;
}

static void add_sum(native_part_t *p, double v) {
  uint64_t old = atomic_load_explicit(&p->sum_bits, memory_order_relaxed);
  while (!atomic_compare_exchange_weak_explicit(&p->sum_bits, &old, dbits(bitsd(old) + v), memory_order_relaxed,
                                                memory_order_relaxed)) {
  }
}

static inline void pause_(unsigned *spin) {
  if (++*spin > 64) sched_yield();
}

static inline void enter_shared(native_part_t *p) {
  for (unsigned spin = 0;;) {
    uint64_t g = atomic_fetch_add_explicit(&p->gate, 1, memory_order_acquire);
    if (PMX_LIKELY(!(g & GATE_EXCL))) return;
    atomic_fetch_sub_explicit(&p->gate, 1, memory_order_release);
    while (atomic_load_explicit(&p->gate, memory_order_relaxed) & GATE_EXCL) pause_(&spin);
  }
}

static inline void leave_shared(native_part_t *p) { atomic_fetch_sub_explicit(&p->gate, 1, memory_order_release); }

static void enter_exclusive(native_part_t *p) {
  unsigned spin = 0;
  for (;;) {
    uint64_t g = atomic_load_explicit(&p->gate, memory_order_relaxed);
    if (!(g & GATE_EXCL) &&
        atomic_compare_exchange_weak_explicit(&p->gate, &g, g | GATE_EXCL, memory_order_acquire, memory_order_relaxed)) {
      break;
    }
    pause_(&spin);
  }
  /* Observers inside finish their few atomic adds; those arriving now step back out. */
  while (atomic_load_explicit(&p->gate, memory_order_acquire) & ~GATE_EXCL) pause_(&spin);
}

static void leave_exclusive(native_part_t *p) {
  atomic_fetch_and_explicit(&p->gate, ~GATE_EXCL, memory_order_release);
}

static inline _Atomic uint64_t *window(const pmx__native_def_t *nd, native_part_t *p, int sign) {
  return p->buckets + (size_t)sign * nd->window;
}

/* Populated span of a sign's window as slot numbers; false if empty. Exclusive held. */
static bool populated(const pmx__native_def_t *nd, native_part_t *p, int sign, size_t *first, size_t *last) {
  _Atomic uint64_t *w = window(nd, p, sign);
  bool any = false;
  for (size_t j = 0; j < nd->window; j++) {
    if (atomic_load_explicit(&w[j], memory_order_relaxed) == 0) continue;
    if (!any) *first = j;
    *last = j;
    any = true;
  }
  return any;
}

/* Moves a sign's window to start at bucket `nbase`; every populated bucket stays inside.
 * Exclusive held. */
static void rebase(const pmx__native_def_t *nd, native_part_t *p, int sign, int32_t nbase) {
  _Atomic uint64_t *w = window(nd, p, sign);
  int64_t shift = (int64_t)nbase - atomic_load_explicit(&p->base[sign], memory_order_relaxed);
  int64_t n = (int64_t)nd->window;
  if (shift > 0) {
    for (int64_t j = 0; j < n; j++) {
      uint64_t c = j + shift < n ? atomic_load_explicit(&w[j + shift], memory_order_relaxed) : 0;
      atomic_store_explicit(&w[j], c, memory_order_relaxed);
    }
  } else if (shift < 0) {
    for (int64_t j = n - 1; j >= 0; j--) {
      uint64_t c = j + shift >= 0 ? atomic_load_explicit(&w[j + shift], memory_order_relaxed) : 0;
      atomic_store_explicit(&w[j], c, memory_order_relaxed);
    }
  }
  atomic_store_explicit(&p->base[sign], nbase, memory_order_relaxed);
}

/* Halves the resolution: bucket i becomes ceil(i/2), in place (a bucket's new slot is never
 * after its old one, so one ascending pass reads every slot before anything lands on it).
 * Exclusive held. */
static void reduce(const pmx__native_def_t *nd, native_part_t *p) {
  for (int sign = 0; sign < 2; sign++) {
    if (!atomic_load_explicit(&p->used[sign], memory_order_relaxed)) continue;
    _Atomic uint64_t *w = window(nd, p, sign);
    int32_t base = atomic_load_explicit(&p->base[sign], memory_order_relaxed);
    int32_t nbase = floor_shift(base + 1, 1);
    for (size_t j = 0; j < nd->window; j++) {
      uint64_t c = atomic_load_explicit(&w[j], memory_order_relaxed);
      atomic_store_explicit(&w[j], 0, memory_order_relaxed);
      size_t k = (size_t)(floor_shift(base + (int32_t)j + 1, 1) - nbase);
      atomic_store_explicit(&w[k], atomic_load_explicit(&w[k], memory_order_relaxed) + c, memory_order_relaxed);
    }
    atomic_store_explicit(&p->base[sign], nbase, memory_order_relaxed);
  }
  atomic_fetch_add_explicit(&p->reduced, 1, memory_order_relaxed);
}

/* The rare path: |v| falls outside its sign's window (or the window is not placed yet). Place or
 * move the window, reducing the schema until the populated buckets and the new one fit. */
static void observe_slow(const pmx__native_def_t *nd, native_part_t *p, int sign, double a, double v) {
  enter_exclusive(p);
  int64_t n = (int64_t)nd->window;
  for (;;) {
    int schema = nd->schema - atomic_load_explicit(&p->reduced, memory_order_relaxed);
    int32_t idx = pmx__native_index(nd, schema, a);
    int32_t base = atomic_load_explicit(&p->base[sign], memory_order_relaxed);
    _Atomic uint64_t *w = window(nd, p, sign);
    if (!atomic_load_explicit(&p->used[sign], memory_order_relaxed)) {
      /* Centred on the first value: later ones usually lie on both sides of it. */
      base = (int32_t)(idx - n / 2);
      atomic_store_explicit(&p->base[sign], base, memory_order_relaxed);
      atomic_store_explicit(&p->used[sign], 1, memory_order_relaxed);
    }
    int64_t slot = (int64_t)idx - base;
    size_t first = 0, last = 0;
    if (slot < 0 || slot >= n) {
      if (populated(nd, p, sign, &first, &last)) {
        int64_t lo = (int64_t)base + (int64_t)first, hi = (int64_t)base + (int64_t)last;
        if (idx < lo) lo = idx;
        if (idx > hi) hi = idx;
        if (hi - lo + 1 <= n) {
          rebase(nd, p, sign, (int32_t)(lo - (n - (hi - lo + 1)) / 2)); /* centre the span */
          continue;
        }
        if (schema > MIN_SCHEMA) {
          reduce(nd, p);
          continue;
        }
        slot = slot < 0 ? 0 : n - 1; /* at the lowest schema: clamp (documented in metric.h) */
      } else {
        rebase(nd, p, sign, (int32_t)(idx - n / 2));
        continue;
      }
    }
    atomic_fetch_add_explicit(&w[slot], 1, memory_order_relaxed);
    break;
  }
  add_sum(p, v);
  leave_exclusive(p);
}

void pmx__native_init(const pmx__native_def_t *nd, void *part) {
  native_part_t *p = part;
  /* The gate is left alone: it is balanced (0) once the removed series' grace period ended, and
   * a stale handle still inside must not see it reset under it. */
  atomic_store_explicit(&p->reduced, 0, memory_order_relaxed);
  for (int k = 0; k < 2; k++) {
    atomic_store_explicit(&p->base[k], 0, memory_order_relaxed);
    atomic_store_explicit(&p->used[k], 0, memory_order_relaxed);
  }
  atomic_store_explicit(&p->zero, 0, memory_order_relaxed);
  atomic_store_explicit(&p->sum_bits, 0, memory_order_relaxed);
  for (size_t j = 0; j < 2 * nd->window; j++) atomic_store_explicit(&p->buckets[j], 0, memory_order_relaxed);
}

void pmx__native_observe(const pmx__native_def_t *nd, void *part, double v) {
  native_part_t *p = part;
  int sign = v < 0;
  double a = sign ? -v : v;
  enter_shared(p);
  if (a <= nd->zero_threshold) {
    atomic_fetch_add_explicit(&p->zero, 1, memory_order_relaxed);
  } else {
    int schema = nd->schema - atomic_load_explicit(&p->reduced, memory_order_relaxed);
    int64_t slot = (int64_t)pmx__native_index(nd, schema, a) -
                   atomic_load_explicit(&p->base[sign], memory_order_relaxed);
    if (PMX_UNLIKELY(!atomic_load_explicit(&p->used[sign], memory_order_relaxed) || slot < 0 ||
                     slot >= (int64_t)nd->window)) {
      leave_shared(p); /* the slow path takes the gate exclusively */
      observe_slow(nd, p, sign, a, v);
      return;
    }
    atomic_fetch_add_explicit(&window(nd, p, sign)[slot], 1, memory_order_relaxed);
  }
  add_sum(p, v);
  leave_shared(p);
}

void pmx__native_snapshot(const pmx__native_def_t *nd, const void *part, pmx_native_snapshot_t *out) {
  native_part_t *p = (native_part_t *)(uintptr_t)part;
  enter_exclusive(p);
  out->schema = nd->schema - atomic_load_explicit(&p->reduced, memory_order_relaxed);
  out->zero_threshold = nd->zero_threshold;
  out->zero_count = atomic_load_explicit(&p->zero, memory_order_relaxed);
  out->sum = bitsd(atomic_load_explicit(&p->sum_bits, memory_order_relaxed));
  out->count = out->zero_count;
  for (int sign = 0; sign < 2; sign++) {
    uint64_t *dst = sign ? out->negative : out->positive;
    size_t first = 0, last = 0;
    out->len[sign] = 0;
    out->base[sign] = 0;
    if (!populated(nd, p, sign, &first, &last)) continue;
    _Atomic uint64_t *w = window(nd, p, sign);
    out->base[sign] = atomic_load_explicit(&p->base[sign], memory_order_relaxed) + (int32_t)first;
    out->len[sign] = last - first + 1;
    for (size_t j = first; j <= last; j++) {
      dst[j - first] = atomic_load_explicit(&w[j], memory_order_relaxed);
      out->count += dst[j - first];
    }
  }
  leave_exclusive(p);
}

uint64_t pmx__native_count(const pmx__native_def_t *nd, const void *part) {
  native_part_t *p = (native_part_t *)(uintptr_t)part;
  /* Without the gate: a total of relaxed loads, which a concurrent observation may or may not be
   * in (like the classic histogram's count of observations begun). */
  uint64_t n = atomic_load_explicit(&p->zero, memory_order_relaxed);
  for (size_t j = 0; j < 2 * nd->window; j++) n += atomic_load_explicit(&p->buckets[j], memory_order_relaxed);
  return n;
}

void pmx__native_totals(const pmx__native_def_t *nd, const void *part, uint64_t *count, double *sum) {
  native_part_t *p = (native_part_t *)(uintptr_t)part;
  enter_exclusive(p);
  *count = atomic_load_explicit(&p->zero, memory_order_relaxed);
  for (size_t j = 0; j < 2 * nd->window; j++) *count += atomic_load_explicit(&p->buckets[j], memory_order_relaxed);
  *sum = bitsd(atomic_load_explicit(&p->sum_bits, memory_order_relaxed));
  leave_exclusive(p);
}

int pmx_series_native(const pmx_series_t *s, pmx_native_snapshot_t *out) {
  if (s == NULL || out == NULL) return PMX_EINVAL;
  const pmx_metric_t *m = s->metric;
  if (m->kind != PMX_DISTRIBUTION || m->native == NULL) return PMX_ETYPE;
  if (out->positive == NULL || out->negative == NULL || out->cap < m->native->window) return PMX_EINVAL;
  pmx__native_snapshot(m->native, (const unsigned char *)s + m->native->offset, out);
  return PMX_OK;
}
