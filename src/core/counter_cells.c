/* Owned and shared integer cells of sharded counters; see counter_cells.h. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

#include "core/core_internal.h"
#include "core/counter_cells.h"

_Thread_local pmx__cell_ref_t pmx__cell PMX_TLS_FAST;

static _Atomic uint64_t owned_taken; /* bitmap of owned line indices */
static atomic_uint next_shared;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t owner_key;
static bool key_ok;
static unsigned n_lines = PMX__COUNTER_LINES_MIN;

static void release_owned(void *p);

/* One line per CPU the machine can have, so that every core's thread can own a cell: the value
 * of a sharded counter is n_lines cache lines (512 bytes on up to 8 CPUs, 4 KiB at 64). */
static void init(void) {
  key_ok = pthread_key_create(&owner_key, release_owned) == 0;
  long cpus = sysconf(_SC_NPROCESSORS_CONF);
  unsigned lines = PMX__COUNTER_LINES_MIN;
  while (lines < PMX__COUNTER_LINES_MAX && (long)lines < cpus) lines *= 2;
  n_lines = lines;
}

unsigned pmx__counter_lines(void) {
  pthread_once(&key_once, init);
  return n_lines;
}

static unsigned shared_line(void) {
  return atomic_fetch_add_explicit(&next_shared, 1, memory_order_relaxed) % n_lines;
}

/* Runs on an exiting thread: increments later in its teardown (another key's destructor) go to
 * a shared cell, since another thread may own this index from now on. */
static void release_owned(void *p) {
  unsigned line = (unsigned)(uintptr_t)p - 1;
  pmx__cell.owned = false;
  pmx__cell.owned_end = 0;
  atomic_fetch_and_explicit(&owned_taken, ~(UINT64_C(1) << line), memory_order_release);
}

void pmx__cell_claim(void) {
  _Static_assert(PMX__COUNTER_LINES_MAX <= 64, "owned_taken is a 64-bit bitmap");
  _Static_assert(PMX__SHARED_CELL + 8 <= PMX_CACHELINE, "both cells fit on one line");
  pthread_once(&key_once, init);
  pmx__cell.claimed = true;
  pmx__cell.owned = false;
  pmx__cell.owned_end = 0;
  pmx__cell.line = shared_line();
  if (!key_ok) return;
  const uint64_t all = n_lines == 64 ? ~UINT64_C(0) : (UINT64_C(1) << n_lines) - 1;
  uint64_t taken = atomic_load_explicit(&owned_taken, memory_order_relaxed);
  while ((taken & all) != all) {
    unsigned line = (unsigned)__builtin_ctzll(~taken);
    if (atomic_compare_exchange_weak_explicit(&owned_taken, &taken, taken | (UINT64_C(1) << line),
                                              memory_order_acquire, memory_order_relaxed)) {
      if (pthread_setspecific(owner_key, (void *)(uintptr_t)(line + 1)) != 0) {
        atomic_fetch_and_explicit(&owned_taken, ~(UINT64_C(1) << line), memory_order_release);
        return; /* no destructor could release it: stay on the shared cells */
      }
      pmx__cell.line = line;
      pmx__cell.owned = true;
      pmx__cell.owned_end = (line + 1) * PMX_CACHELINE;
      return;
    }
  }
}

/* Multi-process mode, in a forked child (its only thread): the child gives up the line its
 * parent's thread owned (in the child nobody else holds it, so the index is free again) and
 * starts its shared cells at `seed`, so that single-threaded workers spread over the lines of a
 * shared counter (whose owned cells are off) instead of all adding to the same one. */
void pmx__shards_reseed(unsigned seed) {
  unsigned lines = pmx__counter_lines();
  if (pmx__cell.claimed && pmx__cell.owned) {
    atomic_fetch_and_explicit(&owned_taken, ~(UINT64_C(1) << pmx__cell.line), memory_order_relaxed);
    if (key_ok) (void)pthread_setspecific(owner_key, NULL);
  }
  atomic_store_explicit(&next_shared, seed + 1, memory_order_relaxed);
  pmx__cell.claimed = true;
  pmx__cell.owned = false;
  pmx__cell.owned_end = 0;
  pmx__cell.line = seed % lines;
}
