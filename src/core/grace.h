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
 * The event bus (event_bus.c) uses the same domain, so an event handler's store accesses are
 * covered by pmx_emit's section. Sections nest. */
#ifndef PMX_CORE_GRACE_H
#define PMX_CORE_GRACE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "internal.h"

#define PMX__GRACE_OWNED 64
#define PMX__GRACE_SHARED 8

typedef struct pmx__grace_slot {
  _Alignas(PMX_CACHELINE) atomic_long active[2];
} pmx__grace_slot_t;

extern pmx__grace_slot_t pmx__grace_slots[PMX__GRACE_OWNED + PMX__GRACE_SHARED];
extern atomic_uint pmx__grace_epoch;

/* The calling thread's side of the domain, in one thread-local so that a section costs one TLS
 * base. */
typedef struct pmx__grace_thread {
  atomic_long *active;  /* the counter the outermost open section incremented */
  unsigned slot;        /* UINT32_MAX until claimed */
  bool owned;           /* plain stores allowed */
  unsigned depth;       /* nesting of this thread's sections */
} pmx__grace_thread_t;
extern _Thread_local pmx__grace_thread_t pmx__grace_me PMX_TLS_FAST;

void pmx__grace_claim(void); /* sets pmx__grace_me.slot / .owned */

/* Kept so that callers read as a bracket; what pmx__read_end needs is in pmx__grace_me. */
typedef unsigned char pmx__read_t;

/* Only the outermost section of a thread touches a counter: an inner one (an event handler's
 * lookup inside pmx_emit's section) is already covered and costs an increment of `depth`. */
static inline pmx__read_t pmx__read_begin(void) {
  pmx__grace_thread_t *me = &pmx__grace_me;
  if (me->depth++ != 0) return 0;
  if (PMX_UNLIKELY(me->slot == UINT32_MAX)) pmx__grace_claim();
  atomic_long *a = &pmx__grace_slots[me->slot].active[atomic_load_explicit(&pmx__grace_epoch, memory_order_relaxed) & 1u];
  me->active = a;
  if (PMX_LIKELY(me->owned)) {
    /* Only this thread writes it, and only its outermost section, so it is 0 here: a plain
     * store with no load before it (no read-modify-write chain from one section to the next).
     * pmx__synchronize()'s membarrier orders it for the writer. */
    atomic_store_explicit(a, 1, memory_order_relaxed);
    atomic_signal_fence(memory_order_seq_cst);
  } else {
    atomic_fetch_add_explicit(a, 1, memory_order_seq_cst);
  }
  return 0;
}

static inline void pmx__read_end(pmx__read_t token) {
  (void)token;
  pmx__grace_thread_t *me = &pmx__grace_me;
  if (--me->depth != 0) return;
  atomic_long *a = me->active;
  if (PMX_LIKELY(me->owned)) {
    atomic_store_explicit(a, 0, memory_order_release);
  } else {
    atomic_fetch_sub_explicit(a, 1, memory_order_release);
  }
}

static inline bool pmx__in_read_section(void) { return pmx__grace_me.depth != 0; }

/* Waits until every reader section that began before the call has ended, except the caller's
 * own: a caller inside a section must itself hold no pointer that the wait is meant to protect
 * (the event bus checks this with pmx__inside_handler; the store never reclaims from inside). */
void pmx__synchronize(void);

/* Without waiting: true when no reader section other than the caller's is open at some moment
 * after the call began, so that whatever the caller unpublished before the call may be freed.
 * Costs one membarrier and a scan of the slots; false means "try again later". */
bool pmx__grace_quiescent_now(void);

#endif
