/* See fail_alloc.h. */
#include "fail_alloc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <execinfo.h>

#include <cmocka.h>

#include "promex/promex.h"

static atomic_ulong calls;
static atomic_ulong fail_at; /* 0: fail nothing */
static atomic_bool failed;

static bool fail_this_one(void) {
  unsigned long n = atomic_fetch_add(&calls, 1) + 1;
  if (n != atomic_load(&fail_at)) return false;
  atomic_store(&failed, true);
  /* FA_BACKTRACE=1 shows where the failed allocation was made (to find the path that leaked). */
  if (getenv("FA_BACKTRACE") != NULL) {
    void *frames[32];
    fprintf(stderr, "allocation %lu fails here:\n", n);
    backtrace_symbols_fd(frames, backtrace(frames, 32), 2);
  }
  return true;
}

static void *fa_malloc(size_t n) { return fail_this_one() ? NULL : malloc(n); }
static void *fa_realloc(void *p, size_t n) { return fail_this_one() ? NULL : realloc(p, n); }
static void *fa_calloc(size_t c, size_t n) { return fail_this_one() ? NULL : calloc(c, n); }

void fa_install(void) {
  atomic_store(&fail_at, 0);
  assert_int_equal(pmx_replace_allocator(fa_malloc, fa_realloc, fa_calloc, free), PMX_OK);
}

void fa_uninstall(void) {
  atomic_store(&fail_at, 0);
  assert_int_equal(pmx_replace_allocator(NULL, NULL, NULL, NULL), PMX_OK);
}

unsigned long fa_calls(void) { return atomic_load(&calls); }
bool fa_failed(void) { return atomic_load(&failed); }

static void arm(unsigned long n) {
  atomic_store(&fail_at, 0);
  atomic_store(&calls, 0);
  atomic_store(&failed, false);
  atomic_store(&fail_at, n);
}

static bool allowed_code(int rc, const int *allowed) {
  if (rc == PMX_ENOMEM) return true;
  for (; allowed != NULL && *allowed != PMX_OK; allowed++)
    if (rc == *allowed) return true;
  return false;
}

/* One run with the Nth allocation failing (0: none); checks the outcome and the leak count.
 * Returns true when the failure was injected. */
static bool run_once(const char *name, fa_scenario_fn fn, void *ctx, const int *allowed,
                     unsigned long n) {
  long before = pmx_allocated_blocks();
  arm(n);
  int rc = fn(ctx);
  bool hit = fa_failed();
  atomic_store(&fail_at, 0);
  long after = pmx_allocated_blocks();
  if (after != before)
    fail_msg("%s: allocation %lu failed (%s): %ld block(s) leaked", name, n, hit ? "yes" : "no",
             after - before);
  if (rc != PMX_OK && (!hit || !allowed_code(rc, allowed)))
    fail_msg("%s: allocation %lu failed (%s) and the scenario returned %s", name, n,
             hit ? "yes" : "no", pmx_err_name(rc));
  return hit;
}

unsigned long fa_run(const char *name, fa_scenario_fn fn, void *ctx, const int *allowed) {
  /* A run without failures first: it must succeed, and its count sets the valgrind sample step. */
  run_once(name, fn, ctx, allowed, 0);
  unsigned long total = fa_calls();
  assert_true(total > 0);
  unsigned long step = 1;
  if (getenv("PMX_UNDER_VALGRIND") != NULL && total > FA_VALGRIND_RUNS)
    step = total / FA_VALGRIND_RUNS;
  unsigned long failures = 0;
  /* Past the last allocation no failure is injected and the loop ends. The bound only guards
   * against a scenario that allocates more and more. */
  for (unsigned long n = 1; n <= 100 * total + 1000; n += step) {
    /* Background threads may make a run a little shorter than the first: go on to `total`. */
    if (run_once(name, fn, ctx, allowed, n)) failures++;
    else if (n > total) break;
  }
  print_message("%s: %lu allocations, %lu runs with one failing\n", name, total, failures);
  return total;
}
