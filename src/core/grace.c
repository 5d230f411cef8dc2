/* Grace periods for the metric store; see grace.h. The slot scheme follows event_bus.c (whose
 * comments explain the two-phase epoch flip and the membarrier pairing). */
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/grace.h"

#define SLOTS (PMX__GRACE_OWNED + PMX__GRACE_SHARED)

pmx__grace_slot_t pmx__grace_slots[SLOTS];
atomic_uint pmx__grace_epoch;
_Thread_local pmx__grace_thread_t pmx__grace_me PMX_TLS_FAST = {NULL, UINT32_MAX, false, 0};

static _Atomic uint64_t owned_taken; /* bitmap of owned slots */
static atomic_uint next_shared;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static pthread_key_t slot_key;
static bool key_ok, use_membarrier;

static unsigned shared_slot(void) {
  return PMX__GRACE_OWNED + atomic_fetch_add_explicit(&next_shared, 1, memory_order_relaxed) % PMX__GRACE_SHARED;
}

/* Runs on an exiting thread: later sections of its teardown use a shared slot, since another
 * thread may claim the owned one now. */
static void release_slot(void *p) {
  unsigned slot = (unsigned)(uintptr_t)p - 1;
  pmx__grace_me.owned = false;
  pmx__grace_me.slot = shared_slot();
  atomic_fetch_and(&owned_taken, ~(UINT64_C(1) << slot));
}

static void init(void) {
  key_ok = pthread_key_create(&slot_key, release_slot) == 0;
  long cmds = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
  use_membarrier = cmds >= 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
                   syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
}

void pmx__grace_claim(void) {
  pthread_once(&init_once, init);
  if (key_ok && use_membarrier) {
    uint64_t taken = atomic_load(&owned_taken);
    while (~taken != 0) {
      unsigned slot = (unsigned)__builtin_ctzll(~taken);
      if (atomic_compare_exchange_weak(&owned_taken, &taken, taken | (UINT64_C(1) << slot))) {
        if (pthread_setspecific(slot_key, (void *)(uintptr_t)(slot + 1)) == 0) {
          pmx__grace_me.slot = slot;
          pmx__grace_me.owned = true;
          return;
        }
        atomic_fetch_and(&owned_taken, ~(UINT64_C(1) << slot));
        break;
      }
    }
  }
  pmx__grace_me.owned = false;
  pmx__grace_me.slot = shared_slot();
}

static void barrier_everywhere(void) {
  if (use_membarrier) {
    syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
  } else {
    atomic_thread_fence(memory_order_seq_cst);
  }
}

/* What the caller's own open section contributes to a counter: it does not wait for itself. */
static long own_count(const atomic_long *counter) {
  return pmx__grace_me.depth != 0 && pmx__grace_me.active == counter ? 1 : 0;
}

void pmx__synchronize(void) {
  pthread_once(&init_once, init);
  barrier_everywhere();
  for (int phase = 0; phase < 2; phase++) {
    unsigned parity = atomic_fetch_add_explicit(&pmx__grace_epoch, 1, memory_order_seq_cst) & 1u;
    barrier_everywhere();
    for (size_t i = 0; i < SLOTS; i++) {
      atomic_long *counter = &pmx__grace_slots[i].active[parity];
      long mine = own_count(counter);
      unsigned spins = 0;
      while (atomic_load_explicit(counter, memory_order_acquire) != mine) {
        if (++spins < 64) {
          sched_yield();
        } else {
          struct timespec ts = {0, 50000};
          nanosleep(&ts, NULL);
        }
      }
    }
  }
  barrier_everywhere();
}

bool pmx__grace_quiescent_now(void) {
  pthread_once(&init_once, init);
  /* After this barrier every section that began before it has its counter update visible, and
   * every section that begins after it sees what the caller published before the call. */
  barrier_everywhere();
  for (size_t i = 0; i < SLOTS; i++) {
    for (unsigned parity = 0; parity < 2; parity++) {
      atomic_long *counter = &pmx__grace_slots[i].active[parity];
      if (atomic_load_explicit(counter, memory_order_acquire) != own_count(counter)) return false;
    }
  }
  return true;
}
