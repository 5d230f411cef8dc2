/* Gauges of the multi-process mode (include/promex/shared.h): which process owns which gauge
 * cell, the per-process cells of the aggregating gauge modes, and what reaping a worker removes.
 *
 * The mapping's worker table (shared_store.c) maps a cell index to the pid that owns it. A
 * process takes an index on its first update of such a gauge (a compare-and-swap of a free
 * entry: no lock is shared between processes) and then writes only its own cell of every series,
 * so a cell has one writer at a time. A cell's `ival` says whether (and, for MOST_RECENT, when)
 * its process has written it; `fbits` is the value. Reading aggregates the written cells. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/shared_store.h"
#include "promex/shared.h"

#define NO_SLOT (-1)
#define SLOTS_FULL (-2) /* none was free: updates are dropped until pmx_shared_worker_slot() */

static _Atomic int my_slot = NO_SLOT;
static pthread_mutex_t claim_mu = PTHREAD_MUTEX_INITIALIZER;
static pmx__scalar_t overflow_cell; /* where dropped updates go: written, never read */

void pmx__shm_worker_forget(void) { atomic_store(&my_slot, NO_SLOT); }

int pmx__shm_my_slot(void) {
  int i = atomic_load_explicit(&my_slot, memory_order_acquire);
  return i >= 0 ? i : -1;
}

void pmx__shm_worker_forked(void) {
  /* The child is one thread: nothing else can hold the lock here, but a thread of the parent
   * may have held it at the fork, and that copy would never be released. */
  pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
  memcpy(&claim_mu, &fresh, sizeof claim_mu);
  pmx__shm_worker_forget();
}

static bool has_cells(const pmx_metric_t *m) { return m->gauge_mode >= PMX__GAUGE_CELLS_FROM; }

static pmx__scalar_t *cell(const pmx_series_t *s, size_t i) {
  return (pmx__scalar_t *)(void *)((unsigned char *)(uintptr_t)s + offsetof(pmx_series_t, value)) + i;
}

/* Clears cell `i` of every series of every gauge with cells (its owner is gone). */
static void clear_cells(size_t i) {
  pmx_registry_t *reg = pmx__shm_reg();
  if (reg == NULL) return;
  for (pmx_metric_t *m = atomic_load(&reg->head); m != NULL; m = atomic_load(&m->next)) {
    if (!has_cells(m)) continue;
    for (pmx_series_t *s = atomic_load(&m->head); s != NULL; s = pmx__series_next(s)) {
      atomic_store_explicit(&cell(s, i)->ival, 0, memory_order_relaxed);
      atomic_store_explicit(&cell(s, i)->fbits, 0, memory_order_release);
    }
  }
}

/* Takes a cell index for this process: a free one, else one whose process no longer exists. */
static int claim(void) {
  pthread_mutex_lock(&claim_mu);
  int got = atomic_load(&my_slot);
  size_t n;
  _Atomic pid_t *w = pmx__shm_workers(&n);
  if (got >= 0) goto out;
  got = PMX_ESTATE;
  if (w == NULL) goto out;
  pid_t me = getpid();
  for (size_t k = 0; k < n && got < 0; k++) {
    pid_t seen = 0;
    if (atomic_compare_exchange_strong(&w[k], &seen, me)) {
      got = (int)k;
    } else if (seen == me) { /* a reused pid of a worker never reported as reaped */
      clear_cells(k);
      got = (int)k;
    }
  }
  for (size_t k = 0; k < n && got < 0; k++) {
    pid_t owner = atomic_load(&w[k]);
    if (owner != 0 && kill(owner, 0) != 0 && errno == ESRCH && atomic_compare_exchange_strong(&w[k], &owner, me)) {
      clear_cells(k);
      got = (int)k;
    }
  }
  if (got < 0) got = PMX_ELIMIT;
  atomic_store(&my_slot, got >= 0 ? got : SLOTS_FULL);
out:
  pthread_mutex_unlock(&claim_mu);
  return got;
}

pmx__scalar_t *pmx__shm_gauge_cell(const pmx_series_t *s) {
  int i = atomic_load_explicit(&my_slot, memory_order_relaxed);
  if (PMX_UNLIKELY(i < 0)) {
    if (i == NO_SLOT) i = claim();
    if (i < 0) {
      pmx__shm_count_overflow();
      return &overflow_cell;
    }
  }
  pmx__scalar_t *c = cell(s, (size_t)i);
  if (s->metric->gauge_mode == PMX_SHARED_GAUGE_MOST_RECENT) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts); /* one clock for every process of the machine */
    atomic_store_explicit(&c->ival, (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec, memory_order_relaxed);
  } else if (atomic_load_explicit(&c->ival, memory_order_relaxed) == 0) {
    atomic_store_explicit(&c->ival, 1, memory_order_relaxed);
  }
  return c;
}

static double bits_double(uint64_t b) {
  double d;
  memcpy(&d, &b, sizeof d);
  return d;
}

double pmx__shm_gauge_value(const pmx_series_t *s) {
  size_t n;
  pmx__shm_workers(&n);
  int mode = s->metric->gauge_mode;
  bool any = false;
  double acc = 0;
  int64_t latest = 0;
  for (size_t i = 0; i < n; i++) {
    pmx__scalar_t *c = cell(s, i);
    int64_t mark = atomic_load_explicit(&c->ival, memory_order_acquire);
    if (mark == 0) continue; /* never written by a live process */
    double v = bits_double(atomic_load_explicit(&c->fbits, memory_order_relaxed));
    switch (mode) {
      case PMX_SHARED_GAUGE_SUM:
        acc += v;
        break;
      case PMX_SHARED_GAUGE_MAX:
        if (!any || v > acc) acc = v;
        break;
      case PMX_SHARED_GAUGE_MIN:
        if (!any || v < acc) acc = v;
        break;
      default: /* MOST_RECENT */
        if (mark > latest) {
          latest = mark;
          acc = v;
        }
        break;
    }
    any = true;
  }
  return acc;
}

int pmx_shared_gauge_mode(pmx_metric_t *m, pmx_shared_gauge_t mode, pmx_error_t *err) {
  if (m == NULL) return pmx__fail(err, PMX_EINVAL, "", "pmx_shared_gauge_mode: metric is NULL");
  if ((int)mode < PMX_SHARED_GAUGE_ONE || mode > PMX_SHARED_GAUGE_MOST_RECENT) {
    return pmx__fail(err, PMX_EINVAL, m->name, "metric \"%s\": unknown gauge mode %d", m->name, (int)mode);
  }
  if (!(m->kind == PMX_LAST_VALUE || (m->kind == PMX_SUM && m->sum_as_gauge))) {
    return pmx__fail(err, PMX_ETYPE, m->name, "metric \"%s\": a gauge mode applies to gauges only", m->name);
  }
  if (!pmx__shm_owns(m)) {
    return pmx__fail(err, PMX_ESTATE, m->name, "metric \"%s\": its registry is not in multi-process mode", m->name);
  }
  int rc = pmx__shm_define_allowed(m->name, err);
  if (rc != PMX_OK) return rc;
  if (atomic_load(&m->head) != NULL) {
    return pmx__fail(err, PMX_ESTATE, m->name, "metric \"%s\": set the gauge mode before the first series", m->name);
  }
  if (mode == PMX_SHARED_GAUGE_PER_WORKER) {
    bool has_pid = false;
    for (size_t i = 0; i < m->n_tags; i++) has_pid |= strcmp(m->tags[i], "pid") == 0;
    if (!has_pid) {
      return pmx__fail(err, PMX_EINVAL, m->name,
                       "metric \"%s\": the per-worker gauge mode needs a label named \"pid\"", m->name);
    }
  }
  m->gauge_mode = (unsigned char)mode;
  return PMX_OK;
}

int pmx_shared_worker_slot(void) {
  int expect = SLOTS_FULL;
  atomic_compare_exchange_strong(&my_slot, &expect, NO_SLOT); /* try again */
  int i = atomic_load(&my_slot);
  return i >= 0 ? i : claim();
}

/* Removes the series of PER_WORKER gauge `m` whose "pid" label is `pid`; returns how many. */
static int remove_worker_series(pmx_metric_t *m, const char *pid) {
  size_t at = 0;
  while (strcmp(m->tags[at], "pid") != 0) at++;
  int removed = 0;
  /* A removed series keeps its `next`, so the walk goes on from it. */
  for (pmx_series_t *s = atomic_load(&m->head); s != NULL; s = pmx__series_next(s)) {
    const char *values[PMX_MAX_TAGS];
    const char *p = pmx__series_labels(s);
    for (size_t i = 0; i < m->n_tags; i++, p += strlen(p) + 1) values[i] = p;
    if (strcmp(values[at], pid) == 0 && pmx_metric_remove(m, values, m->n_tags) == PMX_OK) removed++;
  }
  return removed;
}

int pmx_shared_worker_exited(pid_t pid) {
  size_t n;
  _Atomic pid_t *w = pmx__shm_workers(&n);
  if (w == NULL) return PMX_ESTATE;
  if (pid <= 0) return PMX_ENOENT;
  bool found = false;
  for (size_t k = 0; k < n; k++) {
    if (atomic_load(&w[k]) != pid) continue;
    clear_cells(k); /* before the index is free for another process */
    atomic_store(&w[k], 0);
    found = true;
  }
  char label[24];
  snprintf(label, sizeof label, "%ld", (long)pid);
  for (pmx_metric_t *m = atomic_load(&pmx__shm_reg()->head); m != NULL; m = atomic_load(&m->next)) {
    if (m->gauge_mode == PMX_SHARED_GAUGE_PER_WORKER && remove_worker_series(m, label) > 0) found = true;
  }
  return found ? PMX_OK : PMX_ENOENT;
}

int pmx_shared_workers(pid_t *out, size_t cap, size_t *n) {
  if (n == NULL || (out == NULL && cap > 0)) return PMX_EINVAL;
  size_t slots;
  _Atomic pid_t *w = pmx__shm_workers(&slots);
  if (w == NULL) return PMX_ESTATE;
  size_t found = 0;
  for (size_t k = 0; k < slots; k++) {
    pid_t pid = atomic_load(&w[k]);
    if (pid == 0) continue;
    if (found < cap) out[found] = pid;
    found++;
  }
  *n = found;
  return PMX_OK;
}

const char *pmx_shared_pid_label(char *buf, size_t cap) {
  if (buf != NULL && cap > 0) snprintf(buf, cap, "%ld", (long)getpid());
  return buf;
}
