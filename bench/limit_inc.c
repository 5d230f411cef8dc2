/* The floor under counter_inc: what one exact in-memory increment costs on this machine when it
 * sits behind a function call, as pmx_series_inc does (the library is not inlined into its
 * caller). ../shared/bench/limit.c measures the operations in a loop the compiler sees whole;
 * here each increment is a call, and successive increments of one cell form a chain through
 * memory (load, add, store; the next call's load waits for that store to be forwarded), so the
 * figure is that chain's latency plus the call, not the add's throughput.
 *
 *   build/bench/limit_inc      prints one line per probe: <probe> <ns per increment, median of 5>
 *
 * Probes (one thread, one cell, N calls each):
 *   inline_plain      load + add + store in the caller's loop, no call (limit.c's plain add)
 *   call_plain_fixed  a call doing load + add + store at a fixed offset from its argument
 *   call_plain_tls    the same at an offset read from thread-local storage, as the owned-cell
 *                     fast path does (src/core/counter_cells.h)
 *   call_lock_add     a call doing one `lock xadd` (what a shared counter cell costs, and what
 *                     client_golang's Counter.Inc does through its own call)
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define N 100000000L
#define REPS 5
#define LINE 64

static _Thread_local unsigned cell_end __attribute__((tls_model("initial-exec")));
static _Alignas(LINE) unsigned char cells[4 * LINE];

typedef int (*inc_fn)(unsigned char *base);

__attribute__((noinline)) static int call_plain_fixed(unsigned char *base) {
  _Atomic int64_t *c = (_Atomic int64_t *)(void *)(base + LINE);
  atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1, memory_order_relaxed);
  return 0;
}

__attribute__((noinline)) static int call_plain_tls(unsigned char *base) {
  const unsigned end = cell_end;
  if (end == 0) return 1;
  _Atomic int64_t *c = (_Atomic int64_t *)(void *)(base + end - LINE);
  atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1, memory_order_relaxed);
  return 0;
}

__attribute__((noinline)) static int call_lock_add(unsigned char *base) {
  atomic_fetch_add_explicit((_Atomic int64_t *)(void *)(base + 2 * LINE), 1, memory_order_relaxed);
  return 0;
}

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Median ns per call of `fn` over REPS runs of N calls; `bad` collects return codes so that the
 * calls cannot be dropped. Inlined at each use, so that `fn` is a direct call there, as a call
 * into the library is. */
__attribute__((always_inline)) static inline double time_calls(inc_fn fn, unsigned char *base, long *bad) {
  double r[REPS];
  for (int k = 0; k < REPS; k++) {
    double t0 = now_ns();
    for (long i = 0; i < N; i++) *bad += fn(base);
    r[k] = (now_ns() - t0) / N;
  }
  qsort(r, REPS, sizeof *r, cmp_double);
  return r[REPS / 2];
}

static double time_inline(unsigned char *base) {
  _Atomic int64_t *c = (_Atomic int64_t *)(void *)(base + 3 * LINE);
  double r[REPS];
  for (int k = 0; k < REPS; k++) {
    double t0 = now_ns();
    for (long i = 0; i < N; i++) {
      atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1, memory_order_relaxed);
    }
    r[k] = (now_ns() - t0) / N;
  }
  qsort(r, REPS, sizeof *r, cmp_double);
  return r[REPS / 2];
}

int main(void) {
  /* Through a volatile pointer, so the compiler cannot treat the cells as known memory. */
  unsigned char *volatile base_v = cells;
  unsigned char *base = base_v;
  cell_end = 2 * LINE; /* the second line, as a thread owning line index 1 */
  long bad = 0;
  printf("inline_plain %.2f\n", time_inline(base));
  printf("call_plain_fixed %.2f\n", time_calls(call_plain_fixed, base, &bad));
  printf("call_plain_tls %.2f\n", time_calls(call_plain_tls, base, &bad));
  printf("call_lock_add %.2f\n", time_calls(call_lock_add, base, &bad));
  /* Every call must have counted: REPS * N per cell. */
  const int64_t want = (int64_t)REPS * N;
  int64_t got[3];
  for (int i = 0; i < 3; i++) got[i] = atomic_load((_Atomic int64_t *)(void *)(cells + (size_t)(i + 1) * LINE));
  if (bad != 0 || got[0] != 2 * want || got[1] != want || got[2] != want) {
    fprintf(stderr, "limit_inc: VERIFY FAILED (bad %ld, cells %lld %lld %lld)\n", bad, (long long)got[0],
            (long long)got[1], (long long)got[2]);
    return 1;
  }
  return 0;
}
