/* Grace periods for the metric store (private to core): what lets a removed series be reused
 * while lock-free lookups, event handlers and renders may still be reading it.
 *
 * A reader brackets its use of series pointers with pmx__read_begin()/pmx__read_end(); a writer
 * that has unlinked series calls pmx__synchronize(), which returns once every reader section that
 * began before the call has ended. The scheme is the event bus's (event_bus.c): two counters per
 * reader slot (one per epoch parity), cache-line padded; where membarrier(PRIVATE_EXPEDITED)
 * exists, the first PMX__GRACE_OWNED threads own a slot and update it with plain (relaxed) stores
 * and a compiler barrier, and the writer pays with membarrier(). Other threads share the
 * remaining slots with atomic adds. One domain serves the whole process: removal is rare, and
 * its wait (a render in progress at most) is short.
 * Sections nest. pmx__synchronize() must not be called inside a section (it would wait for
 * itself): pmx__in_read_section() tells. */
#ifndef PMX_CORE_GRACE_H
#define PMX_CORE_GRACE_H

#include <stdatomic.h>
#include <stdbool.h>

#include "internal.h"

#define PMX__GRACE_OWNED 64
#define PMX__GRACE_SHARED 8

typedef struct pmx__grace_slot {
  _Alignas(PMX_CACHELINE) atomic_long active[2];
} pmx__grace_slot_t;

extern pmx__grace_slot_t pmx__grace_slots[PMX__GRACE_OWNED + PMX__GRACE_SHARED];
extern atomic_uint pmx__grace_epoch;
extern _Thread_local unsigned pmx__grace_my_slot;  /* UINT32_MAX until claimed */
extern _Thread_local bool pmx__grace_owned;        /* plain stores allowed */
extern _Thread_local unsigned pmx__grace_depth;    /* nesting of this thread's sections */

void pmx__grace_claim(void); /* sets pmx__grace_my_slot / pmx__grace_owned */

/* What pmx__read_end needs: the counter incremented by pmx__read_begin. */
typedef atomic_long *pmx__read_t;

static inline pmx__read_t pmx__read_begin(void) {
  if (PMX_UNLIKELY(pmx__grace_my_slot == UINT32_MAX)) pmx__grace_claim();
  pmx__grace_depth++;
  atomic_long *a = &pmx__grace_slots[pmx__grace_my_slot]
                        .active[atomic_load_explicit(&pmx__grace_epoch, memory_order_relaxed) & 1u];
  if (PMX_LIKELY(pmx__grace_owned)) {
    /* Only this thread writes it; pmx__synchronize()'s membarrier orders it for the writer. */
    atomic_store_explicit(a, atomic_load_explicit(a, memory_order_relaxed) + 1, memory_order_relaxed);
    atomic_signal_fence(memory_order_seq_cst);
  } else {
    atomic_fetch_add_explicit(a, 1, memory_order_seq_cst);
  }
  return a;
}

static inline void pmx__read_end(pmx__read_t a) {
  if (PMX_LIKELY(pmx__grace_owned)) {
    atomic_store_explicit(a, atomic_load_explicit(a, memory_order_relaxed) - 1, memory_order_release);
  } else {
    atomic_fetch_sub_explicit(a, 1, memory_order_release);
  }
  pmx__grace_depth--;
}

static inline bool pmx__in_read_section(void) { return pmx__grace_depth != 0; }

/* Waits until every reader section that began before the call has ended. */
void pmx__synchronize(void);

#endif
