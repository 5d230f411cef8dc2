/* Which integer cell of a sharded counter (an unlabelled counter or sum, pmx_metric.sharded) the
 * calling thread adds to. Private to core.
 *
 * Each of the pmx__counter_lines() value lines of a sharded series (one per possible CPU, at least
 * 8 and at most 64) holds two integer cells: an OWNED one at PMX__OWNED_CELL and a SHARED one at
 * PMX__SHARED_CELL. The first pmx__counter_lines() threads of the
 * process to increment a sharded counter each own one line index for as long as they live: they
 * are the only writer of the owned cell at that index in every sharded series, so an increment is
 * a plain load and store on a line no other core writes (no locked instruction). Later threads
 * share the shared cells, spread over the lines, with atomic adds. A thread's index is released
 * at thread exit (a thread-specific key's destructor) with a release store, and the next owner
 * claims it with an acquire, so it continues the cell where the last owner left it.
 *
 * In multi-process mode the owned cells of a series in the shared mapping are written by several
 * processes, so ownership is per process: line i is owned by one thread of the process holding
 * worker slot i (the worker table is shared: no two live processes hold one slot, and a slot is
 * reused only once its process is gone, so the next owner continues the cell). Processes without
 * a slot, slots past the line count and every other thread take the shared cells. */
#ifndef PMX_CORE_COUNTER_CELLS_H
#define PMX_CORE_COUNTER_CELLS_H

#include <stdbool.h>

#include "core/core_internal.h"
#include "internal.h"
#include "promex/inline.h"

#define PMX__COUNTER_LINES_MIN 8
#define PMX__COUNTER_LINES_MAX 64
#define PMX__OWNED_CELL 0
#define PMX__SHARED_CELL 16 /* byte 8 of line 0 is the double part (pmx__scalar_t.fbits) */

/* The calling thread's cell: pmx_inline_cell_t of promex/inline.h, whose inline increment reads
 * owned_end (the library's own fast path below reads the same word). Its fields:
 *   line       value line index, < pmx__counter_lines()
 *   owned_end  (line + 1) * PMX_CACHELINE while this thread owns its line, else 0: what the owned
 *              fast path (pmx__counter_step_fast) reads, one load for "owned?" and "where?"
 *   owned      this thread owns the line's owned cell
 *   claimed    line/owned are set
 * The variable's exported name carries the layout version of promex/inline.h. */
typedef pmx_inline_cell_t pmx__cell_ref_t;
#define pmx__cell pmx_inline_cell_v1

extern _Thread_local pmx__cell_ref_t pmx__cell PMX_TLS_FAST;
/* Value lines of every sharded counter of the process (fixed once computed). */
unsigned pmx__counter_lines(void);
void pmx__cell_claim(void);
/* In a forked child of a multi-process registry (shared_store.c): see counter_cells.c. */
void pmx__shards_reseed(unsigned seed);
/* Multi-process mode, from pmx_shared_enable (the process's only thread): from now on a thread
 * owns a line only as the owner of its process's worker slot (see counter_cells.c). */
void pmx__cells_by_worker_slot(void);

static inline pmx__cell_ref_t pmx__my_cell(void) {
  if (PMX_UNLIKELY(!pmx__cell.claimed)) pmx__cell_claim();
  return pmx__cell;
}

/* The common integral steps of a counter, inlined where counters are incremented, decided from
 * the series' hash word and thread-local storage alone (never the metric), while the series'
 * integer path is open:
 * - a labelled counter (PMX__ONE_CELL): one atomic add on its one integer cell;
 * - a sharded counter whose cells this thread may own (PMX__OWNED_CELLS), when the thread owns a
 *   line: a plain load and store on the thread's own line (readers load the cell atomically, so
 *   they see every add that returned before).
 * Returns false, having done nothing, in every other case: the caller takes the general path
 * (which also claims a line on a thread's first increment). */
static inline bool pmx__counter_step_fast(pmx_series_t *s, int64_t v) {
  return pmx__inline_counter_step(s, v) != 0; /* promex/inline.h: the same code for programs */
}

#endif
