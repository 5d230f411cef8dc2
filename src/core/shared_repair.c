/* Repairs after a process of the multi-process mode died holding a shared metric's mutex (its
 * robust mutex then hands the lock over with EOWNERDEAD; shared_store.c).
 *
 * Series creation and removal (metric_store.c) change several structures one after the other:
 * the `next` chain (one atomic store each), the tail, the count, the table (a
 * removal's backward shift moves several entries). A process killed between two of those steps
 * leaves them disagreeing. The chain is the one that is valid after every single store, so it is
 * taken as the truth and everything else is derived from it again: a series created but not yet
 * in the table becomes findable (instead of being created twice), one half-removed stays. */
#include <string.h>

#include "core/shared_store.h"

static void put(pmx__table_t *t, pmx_series_t *s) {
  size_t i = pmx__series_hash(s) & t->mask;
  for (;; i = (i + 1) & t->mask) {
    pmx_series_t *e = atomic_load_explicit(&t->slots[i], memory_order_relaxed);
    if (e == s) return;
    if (e == NULL) break;
  }
  atomic_store_explicit(&t->slots[i], s, memory_order_release);
}

void pmx__shm_repair_series(pmx_metric_t *m) {
  size_t n = 0;
  pmx_series_t *prev = NULL;
  for (pmx_series_t *s = atomic_load_explicit(&m->head, memory_order_acquire); s != NULL;
       s = pmx__series_next(s)) {
    prev = s;
    n++;
  }
  m->tail = prev;
  atomic_store_explicit(&m->n_series, n, memory_order_release);
  if (m->n_tags == 0) atomic_store_explicit(&m->single, atomic_load(&m->head), memory_order_release);

  /* A fresh table holds exactly the chain (a half-done backward shift may have left duplicates
   * or holes in the old one). Old tables stay valid for readers still probing them. */
  size_t cap = 16;
  while (n * 4 > cap * 3) cap *= 2;
  pmx__table_t *t = pmx__arena_alloc(&m->arena, sizeof *t + cap * sizeof t->slots[0]);
  if (t != NULL) {
    t->mask = cap - 1;
    t->retired_next = NULL;
    for (size_t i = 0; i < cap; i++) atomic_init(&t->slots[i], NULL);
  } else {
    t = atomic_load_explicit(&m->table, memory_order_relaxed); /* mapping full: patch the old one */
  }
  for (pmx_series_t *s = atomic_load_explicit(&m->head, memory_order_relaxed); s != NULL;
       s = pmx__series_next(s)) {
    put(t, s);
  }
  atomic_store_explicit(&m->table, t, memory_order_release);
}

static double bits_double(uint64_t b) {
  double d;
  memcpy(&d, &b, sizeof d);
  return d;
}
static uint64_t double_bits(double d) {
  uint64_t b;
  memcpy(&b, &d, sizeof b);
  return b;
}

void pmx__shm_hist_merge(_Atomic uint64_t *cold, _Atomic uint64_t *hot, size_t nb) {
  /* Exchanges, not stores of 0: whatever lands in `cold` meanwhile moves too, never lost. */
  for (size_t i = 0; i <= nb; i++) {
    uint64_t c = atomic_exchange_explicit(&cold[1 + i], 0, memory_order_acq_rel);
    if (c) atomic_fetch_add_explicit(&hot[1 + i], c, memory_order_release);
  }
  double sum = bits_double(atomic_exchange_explicit(&cold[0], 0, memory_order_acq_rel));
  uint64_t old = atomic_load_explicit(&hot[0], memory_order_relaxed);
  while (sum != 0 && !atomic_compare_exchange_weak_explicit(&hot[0], &old, double_bits(bits_double(old) + sum),
                                                            memory_order_release, memory_order_relaxed)) {
  }
}

/* A snapshot flips a shard's hot half, then merges the old one into it. A snapshot killed in
 * between leaves counts in the cold half, where the next snapshot (which reads only the half it
 * flips away from) would not see them: merge them now, as the dead one would have. */
void pmx__shm_repair_snapshots(pmx_metric_t *m) {
  if (m->kind != PMX_DISTRIBUTION) return;
  size_t nb = m->n_buckets;
  for (pmx_series_t *s = atomic_load_explicit(&m->head, memory_order_acquire); s != NULL;
       s = pmx__series_next(s)) {
    for (size_t k = 0; k < PMX__HIST_SHARDS; k++) {
      pmx__hist_t *h = pmx__hist(s, k);
      bool hot_upper = atomic_load_explicit(&h->started, memory_order_acquire) & PMX__HIST_HOT_BIT;
      _Atomic uint64_t *hot = h->cells + (hot_upper ? nb + 2 : 0);
      _Atomic uint64_t *cold = h->cells + (hot_upper ? 0 : nb + 2);
      pmx__shm_hist_merge(cold, hot, nb);
    }
  }
}
