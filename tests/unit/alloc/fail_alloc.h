/* Fault injection through the allocator hook (promex/alloc.h): an allocator that fails exactly
 * the Nth allocation, and a driver that runs a scenario with N = 1, 2, ... until a run makes no
 * failed allocation. Each run must end with PMX_OK or PMX_ENOMEM (or a code the scenario allows),
 * never crash, and leave pmx_allocated_blocks() where it was: nothing leaked.
 *
 * The count is one atomic shared by all threads, not per thread: promex's background threads
 * (server pool, scheduler, plugins) allocate too, and a per-thread count would never fail them.
 * The price is that with background threads the Nth allocation may land on a different thread
 * from run to run; every outcome must be clean anyway, so that is more coverage, not flakiness.
 *
 * Under valgrind (PMX_UNDER_VALGRIND set) the driver samples about FA_VALGRIND_RUNS values of N
 * spread over the scenario instead of every N, so the valgrind pass stays short. */
#ifndef PMX_FAIL_ALLOC_H
#define PMX_FAIL_ALLOC_H

#include <stdbool.h>
#include <stddef.h>

#define FA_VALGRIND_RUNS 200

/* A scenario: does its work, frees everything, and returns PMX_OK or the first error it met. */
typedef int (*fa_scenario_fn)(void *ctx);

/* Installs the failing allocator (failing nothing yet) / restores the default. Both assert that
 * no promex memory is alive (pmx_replace_allocator returns PMX_OK). */
void fa_install(void);
void fa_uninstall(void);

/* Allocations made since the counter was last reset, and whether the injected failure happened. */
unsigned long fa_calls(void);
bool fa_failed(void);

/* The driver. `allowed` (may be NULL) lists extra codes a failed run may return besides
 * PMX_ENOMEM, terminated by PMX_OK. Returns the number of allocations of a run without failures.
 * Fails the cmocka test (naming `name` and N) on a crash-free but wrong outcome. */
unsigned long fa_run(const char *name, fa_scenario_fn fn, void *ctx, const int *allowed);

#endif
