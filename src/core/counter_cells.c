/* Owned and shared integer cells of sharded counters; see counter_cells.h. */
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include "core/core_internal.h"
#include "core/counter_cells.h"
#include "core/shared_store.h"

_Thread_local pmx__cell_ref_t pmx__cell PMX_TLS_FAST;

/* promex/inline.h compiles pmx__counter_step_fast's two paths into programs: what it assumes of
 * the layout must hold here, or PMX_INLINE_LAYOUT and the cell's versioned name must change. */
_Static_assert(offsetof(pmx_series_t, hash) == PMX_INLINE_FLAGS_OFFSET, "inline.h: flag word");
_Static_assert(offsetof(pmx_series_t, value) == PMX_INLINE_VALUE_OFFSET, "inline.h: value cells");
_Static_assert(offsetof(pmx__scalar_t, ival) == 0, "inline.h: a labelled counter's integer cell");
_Static_assert(PMX__OWNED_CELL == 0 && PMX_CACHELINE == PMX_INLINE_LINE, "inline.h: owned cells");
_Static_assert(PMX__ONE_CELL == PMX_INLINE_ONE_CELL && PMX__OWNED_CELLS == PMX_INLINE_OWNED_CELLS &&
               PMX__INT_CLOSED == PMX_INLINE_INT_CLOSED, "inline.h: flag bits");
_Static_assert(PMX__INT_SPILL_AT == PMX_INLINE_SPILL_AT, "inline.h: spill point");
_Static_assert(PMX_INLINE_LAYOUT == 1, "inline.h: the cell's name carries the layout version");

static _Atomic uint64_t owned_taken; /* bitmap of owned line indices */
/* Multi-process mode (set by pmx__cells_by_worker_slot, for the rest of the process's life): a
 * line is owned by one thread of the process that holds the worker slot of the same index, so
 * that no two processes ever own one line; slot_line_taken says whether a thread of this process
 * owns its slot's line. */
static atomic_bool by_slot;
static atomic_bool slot_line_taken;
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

/* Hands line back for another thread to own (release: it continues the cell where this thread
 * left it). */
static void give_up_line(unsigned line) {
  if (atomic_load_explicit(&by_slot, memory_order_relaxed)) {
    atomic_store_explicit(&slot_line_taken, false, memory_order_release);
  } else {
    atomic_fetch_and_explicit(&owned_taken, ~(UINT64_C(1) << line), memory_order_release);
  }
}

/* Runs on an exiting thread: increments later in its teardown (another key's destructor) go to
 * a shared cell, since another thread may own this index from now on. */
static void release_owned(void *p) {
  pmx__cell.owned = false;
  pmx__cell.owned_end = 0;
  give_up_line((unsigned)(uintptr_t)p - 1);
}

/* Makes the calling thread the owner of `line`, which it has just reserved; false (the line given
 * up again) when no destructor could release it at thread exit. */
static bool own_line(unsigned line) {
  if (pthread_setspecific(owner_key, (void *)(uintptr_t)(line + 1)) != 0) {
    give_up_line(line);
    return false; /* stay on the shared cells */
  }
  pmx__cell.line = line;
  pmx__cell.owned = true;
  pmx__cell.owned_end = (line + 1) * PMX_CACHELINE;
  return true;
}

/* Multi-process mode: the line of this process's worker slot, if the process holds one (the
 * runtime takes one in the master and in every forked worker; a counter never takes one itself,
 * so that counting does not make a process a member of the group) and no other thread of the
 * process owns that line (acquire: continues the cell where a previous owner thread left it). */
static void claim_slot_line(void) {
  int slot = pmx__shm_my_slot();
  bool free_line = false;
  if (slot >= 0 && (unsigned)slot < n_lines &&
      atomic_compare_exchange_strong_explicit(&slot_line_taken, &free_line, true, memory_order_acquire,
                                              memory_order_relaxed)) {
    (void)own_line((unsigned)slot);
  }
}

/* Gives up whatever line the calling thread owns and forgets its claim. */
static void drop_claim(void) {
  if (pmx__cell.claimed && pmx__cell.owned) {
    give_up_line(pmx__cell.line);
    if (key_ok) (void)pthread_setspecific(owner_key, NULL);
  }
  pmx__cell.claimed = false;
  pmx__cell.owned = false;
  pmx__cell.owned_end = 0;
}

void pmx__cells_by_worker_slot(void) {
  pthread_once(&key_once, init);
  drop_claim();
  atomic_store(&by_slot, true);
  atomic_store(&slot_line_taken, false);
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
  if (atomic_load_explicit(&by_slot, memory_order_relaxed)) {
    claim_slot_line();
    return;
  }
  const uint64_t all = n_lines == 64 ? ~UINT64_C(0) : (UINT64_C(1) << n_lines) - 1;
  uint64_t taken = atomic_load_explicit(&owned_taken, memory_order_relaxed);
  while ((taken & all) != all) {
    unsigned line = (unsigned)__builtin_ctzll(~taken);
    if (atomic_compare_exchange_weak_explicit(&owned_taken, &taken, taken | (UINT64_C(1) << line),
                                              memory_order_acquire, memory_order_relaxed)) {
      (void)own_line(line);
      return;
    }
  }
}

/* Multi-process mode, in a forked child (its only thread): the child gives up the line its
 * parent's thread owned (another process owns it now, or will) and starts its shared cells at
 * `seed`, so that workers spread over the lines of a shared counter. Its first increment then
 * claims the line of the child's own worker slot (claim_slot_line). */
void pmx__shards_reseed(unsigned seed) {
  (void)pmx__counter_lines();
  drop_claim();
  atomic_store_explicit(&slot_line_taken, false, memory_order_relaxed);
  atomic_store_explicit(&next_shared, seed + 1, memory_order_relaxed);
}
