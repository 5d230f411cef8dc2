/* Inline counter increments for the hottest counters: opt-in, tied to one promex version.
 *
 * pmx_series_inc_inline(s) does exactly what pmx_series_inc(s) does (metric.h), with the same
 * return values and guarantees (lock-free, allocation-free, exact: a render never misses an
 * increment that returned before it began). The common steps are compiled into the caller
 * instead of behind a call:
 *   - an unlabelled counter (or counting sum) whose cell the calling thread owns: a thread-local
 *     load, the series' flag word, and a plain load, add and store on the thread's own cache line;
 *   - a labelled counter: one atomic add on its cell.
 * Everything else (other kinds, NULL, a thread that owns no cell, a counter past 2^59) calls
 * pmx_series_inc. On the benchmark machine (bench/README.md) this is about 0.5-1 ns per increment
 * against 1.7 ns for the call: the call itself is cheap, but a load and store through a call chain
 * through the counter's cell from one increment to the next.
 *
 * The price is an ABI promise: code compiled from this header knows where a series keeps its flag
 * word and cells. A program using it must run with the promex it was compiled against. Every
 * layout this header depends on is named by the version in PMX_INLINE_LAYOUT and in the
 * thread-local it reads (pmx_inline_cell_v1): a library with another layout does not define that
 * symbol, so the program fails to link or load instead of writing to the wrong place. Link
 * promex statically, or ship the exact shared library with the program. Programs that do not
 * include this header are not affected.
 *
 * Requirements: GCC or Clang (thread-local and atomic builtins; C and C++ alike). With another
 * compiler pmx_series_inc_inline is pmx_series_inc. The thread-local uses the initial-exec model,
 * as libpromex's own do: a shared object using this header cannot be loaded with dlopen() late
 * into a process that has no static TLS space left.
 *
 * Thread safety: as pmx_series_inc: any thread, any number of threads at once. */
#ifndef PROMEX_INLINE_H
#define PROMEX_INLINE_H

#include <stdint.h>

#include "promex/error.h"
#include "promex/export.h"
#include "promex/metric.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)

/* The layout below; bumped with the symbol name whenever any of it changes. */
#define PMX_INLINE_LAYOUT 1

/* A series, as far as an increment needs it: the 32-bit flag word at byte 12, the value cells from
 * byte 16 (the first 8 bytes are the integer cell of a labelled counter; an unlabelled counter
 * has one 64-byte line per cell owner, its integer cell at the start of the line). */
#define PMX_INLINE_FLAGS_OFFSET 12
#define PMX_INLINE_VALUE_OFFSET 16
#define PMX_INLINE_LINE 64
#define PMX_INLINE_ONE_CELL 0x20000000u   /* a labelled counter: one integer cell */
#define PMX_INLINE_OWNED_CELLS 0x40000000u /* an unlabelled counter with owned cells */
#define PMX_INLINE_INT_CLOSED 0x80000000u  /* integer cells closed: the library takes over */
#define PMX_INLINE_SPILL_AT ((int64_t)1 << 59)

/* The calling thread's counter cell (one per thread, set by promex). owned_end is (line + 1) *
 * PMX_INLINE_LINE while the thread owns line `line` of every unlabelled counter, else 0. */
typedef struct pmx_inline_cell {
  unsigned line;
  unsigned owned_end;
  unsigned char owned;
  unsigned char claimed;
} pmx_inline_cell_t;

PMX_EXTERN extern __thread pmx_inline_cell_t pmx_inline_cell_v1 __attribute__((tls_model("initial-exec")));

/* The two steps, for an integral v >= 0 below 2^40 on a non-NULL series: 1 when done, 0 (nothing
 * done) when the library's general path must take it. The library's own increments run this very
 * code (src/core/counter_cells.h), so the two cannot drift apart. */
static inline int pmx__inline_counter_step(pmx_series_t *s, int64_t v) {
  unsigned char *base = (unsigned char *)s;
  uint32_t *flags = (uint32_t *)(void *)(base + PMX_INLINE_FLAGS_OFFSET);
  const uint32_t word = __atomic_load_n(flags, __ATOMIC_RELAXED);
  if ((word & (PMX_INLINE_ONE_CELL | PMX_INLINE_INT_CLOSED)) == PMX_INLINE_ONE_CELL) {
    int64_t *cell = (int64_t *)(void *)(base + PMX_INLINE_VALUE_OFFSET);
    if (__builtin_expect(__atomic_fetch_add(cell, v, __ATOMIC_RELAXED) + v >= PMX_INLINE_SPILL_AT, 0)) {
      __atomic_fetch_or(flags, PMX_INLINE_INT_CLOSED, __ATOMIC_RELAXED);
    }
    return 1;
  }
  const unsigned end = pmx_inline_cell_v1.owned_end;
  if (__builtin_expect(end == 0 || (word & (PMX_INLINE_OWNED_CELLS | PMX_INLINE_INT_CLOSED)) !=
                                       PMX_INLINE_OWNED_CELLS, 0)) {
    return 0;
  }
  /* Only this thread writes its owned cell; readers load it atomically, so they see every add
   * that returned before they began. */
  int64_t *cell = (int64_t *)(void *)(base + PMX_INLINE_VALUE_OFFSET + end - PMX_INLINE_LINE);
  const int64_t now = __atomic_load_n(cell, __ATOMIC_RELAXED) + v;
  __atomic_store_n(cell, now, __ATOMIC_RELAXED);
  if (__builtin_expect(now >= PMX_INLINE_SPILL_AT, 0)) {
    __atomic_fetch_or(flags, PMX_INLINE_INT_CLOSED, __ATOMIC_RELAXED);
  }
  return 1;
}

static inline int pmx_series_inc_inline(pmx_series_t *s) {
  if (__builtin_expect(s != NULL && pmx__inline_counter_step(s, 1), 1)) return PMX_OK;
  return pmx_series_inc(s);
}

#else

static inline int pmx_series_inc_inline(pmx_series_t *s) { return pmx_series_inc(s); }

#endif

#ifdef __cplusplus
}
#endif

#endif
