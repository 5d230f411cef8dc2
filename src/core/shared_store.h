/* Private interface of the multi-process mode (include/promex/shared.h) to the rest of the core.
 *
 * In that mode a metric's struct (pmx_metric_t: its mutexes, series table, chain, counts) and its
 * arena chunks are allocated from one shared mapping that every forked process has at the same
 * address, so the in-process store's pointers, tables and lock-free readers work unchanged across
 * processes. The metric's immutable definition (name, labels, buckets: strings it points to) stays
 * in the defining process's heap, inherited copy-on-write at the same addresses, which is why
 * definitions must precede the first fork. Everything here is a no-op or `false` for registries
 * that are not in the mode, and none of it runs on the update path. */
#ifndef PMX_CORE_SHARED_STORE_H
#define PMX_CORE_SHARED_STORE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/core_internal.h"

/* Whether `reg` is the registry of this process's shared mapping. */
bool pmx__shm_registry(const pmx_registry_t *reg);
/* Whether `p` points into the shared mapping (a metric or arena of a shared registry). */
bool pmx__shm_owns(const void *p);
/* PMX_OK if a metric may be defined in the shared registry now; else PMX_ESTATE with `err` filled
 * (the process group has already forked). */
int pmx__shm_define_allowed(const char *name, pmx_error_t *err);
/* `size` zeroed bytes of the mapping, 64-byte aligned, never freed; NULL when the mapping is full
 * or its backing cannot grow. Safe from any process and thread. */
void *pmx__shm_alloc(size_t size);
/* Initialises a mutex in the mapping: process-shared, and robust if `robust`. 0 or an errno. */
int pmx__shm_mutex_init(pthread_mutex_t *mu, bool robust);
/* Called by pmx_registry_destroy: drops this process's view of the mapping if `reg` owns it. */
void pmx__shm_forget(const pmx_registry_t *reg);

/* Handles a failed lock of a shared metric's mutex: EOWNERDEAD (the holder died) repairs what the
 * mutex guards (shared_repair.c) and marks it consistent. The lock is held on return. */
void pmx__shm_lock_failed(pmx_metric_t *m, pthread_mutex_t *mu, int rc);

/* Takes m->mu (series creation) or m->snap_mu (histogram snapshots). For in-process metrics this
 * is pthread_mutex_lock; a shared metric's robust mutex may report its holder's death. */
static inline void pmx__metric_lock(pmx_metric_t *m, pthread_mutex_t *mu) {
  int rc = pthread_mutex_lock(mu);
  if (PMX_UNLIKELY(rc != 0)) pmx__shm_lock_failed(m, mu, rc);
}

/* In a histogram snapshot waiting for observations in flight: true once a shared metric has
 * waited PMX_SHARED_STALL_MS (`*since` starts at 0 and keeps the start of the wait), meaning the
 * observer is presumably dead and its observation must be written off. Always false in-process. */
bool pmx__shm_stalled(const pmx_metric_t *m, uint64_t *since);

/* The worker table of the mapping (n entries: the pid owning each gauge cell index, 0 if free),
 * or NULL when there is no mapping. */
_Atomic pid_t *pmx__shm_workers(size_t *n);
/* The shared registry of this process, or NULL. */
pmx_registry_t *pmx__shm_reg(void);
/* Forgets this process's gauge cell (after fork, or when the mapping goes). */
void pmx__shm_worker_forget(void);
/* This process's worker slot (its gauge cell index) if it holds one, else -1; takes none. */
int pmx__shm_my_slot(void);
/* In a forked child: forgets the parent's cell and re-initialises the cell-claim lock, which a
 * thread of the parent may have held at the fork. */
void pmx__shm_worker_forked(void);
/* Counts a gauge update that found no free cell. */
void pmx__shm_count_overflow(void);

/* Gauges with per-process cells (pmx_metric.gauge_mode >= PMX__GAUGE_CELLS_FROM): the number of
 * cells per series (max_workers), and the value of a series aggregated over its live cells. */
size_t pmx__shm_gauge_cells(void);
double pmx__shm_gauge_value(const pmx_series_t *s);

/* Whether `m` is shared and some observation of the group was ever written off (a late one may
 * then still complete in a cold half, see pmx__shm_hist_merge). */
bool pmx__shm_wrote_off(const pmx_metric_t *m);
/* Moves histogram half `cold` (sum cell, then nb + 1 bucket cells) into `hot` and empties it. */
void pmx__shm_hist_merge(_Atomic uint64_t *cold, _Atomic uint64_t *hot, size_t nb);

/* Repairs of shared_repair.c, with the metric's mutex held after its holder died. */
/* Rebuilds the series chain's back links, tail and count, and the series table, from the chain
 * (the one structure every step of creation and removal keeps valid). */
void pmx__shm_repair_series(pmx_metric_t *m);
/* Merges every histogram half that a dead snapshot left unmerged back into the hot half. */
void pmx__shm_repair_snapshots(pmx_metric_t *m);

#endif
