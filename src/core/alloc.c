/* The allocator hook (promex/alloc.h): the only place in libpromex that calls the C library's
 * allocation functions. Every other file uses pmx__malloc and friends (internal.h); the ctest
 * `no_direct_allocation` checks the objects' symbols so that none slips past the hook.
 *
 * The function pointers are relaxed atomics: replacing is documented as not concurrent with
 * other calls, so no ordering is needed, but plain loads racing a (misused) store would be
 * undefined behaviour. The live-block counter lets pmx_replace_allocator refuse a switch that
 * would free blocks with the wrong function; it costs one relaxed atomic add per allocation,
 * and allocations are never on the observe/emit hot path (a series exists after its first use). */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "promex/alloc.h"

static _Atomic(pmx_malloc_func) a_malloc = malloc;
static _Atomic(pmx_realloc_func) a_realloc = realloc;
static _Atomic(pmx_calloc_func) a_calloc = calloc;
static _Atomic(pmx_free_func) a_free = free;
static atomic_long live_blocks;

int pmx_replace_allocator(pmx_malloc_func malloc_fn, pmx_realloc_func realloc_fn,
                          pmx_calloc_func calloc_fn, pmx_free_func free_fn) {
  int nulls = (malloc_fn == NULL) + (realloc_fn == NULL) + (calloc_fn == NULL) + (free_fn == NULL);
  if (nulls != 0 && nulls != 4) return PMX_EINVAL;
  if (atomic_load(&live_blocks) != 0) return PMX_EBUSY;
  atomic_store_explicit(&a_malloc, malloc_fn ? malloc_fn : malloc, memory_order_relaxed);
  atomic_store_explicit(&a_realloc, realloc_fn ? realloc_fn : realloc, memory_order_relaxed);
  atomic_store_explicit(&a_calloc, calloc_fn ? calloc_fn : calloc, memory_order_relaxed);
  atomic_store_explicit(&a_free, free_fn ? free_fn : free, memory_order_relaxed);
  return PMX_OK;
}

long pmx_allocated_blocks(void) { return atomic_load_explicit(&live_blocks, memory_order_relaxed); }

void pmx_free(void *ptr) { pmx__free(ptr); }

static void *counted(void *p) {
  if (p != NULL) atomic_fetch_add_explicit(&live_blocks, 1, memory_order_relaxed);
  return p;
}

void *pmx__malloc(size_t n) {
  return counted(atomic_load_explicit(&a_malloc, memory_order_relaxed)(n ? n : 1));
}

void *pmx__calloc(size_t count, size_t size) {
  if (count == 0 || size == 0) count = size = 1;
  return counted(atomic_load_explicit(&a_calloc, memory_order_relaxed)(count, size));
}

void *pmx__realloc(void *p, size_t n) {
  if (p == NULL) return pmx__malloc(n);
  return atomic_load_explicit(&a_realloc, memory_order_relaxed)(p, n ? n : 1);
}

void pmx__free(void *p) {
  if (p == NULL) return;
  atomic_fetch_sub_explicit(&live_blocks, 1, memory_order_relaxed);
  atomic_load_explicit(&a_free, memory_order_relaxed)(p);
}

char *pmx__strdup(const char *s) {
  if (s == NULL) return NULL;
  size_t n = strlen(s) + 1;
  char *d = pmx__malloc(n);
  if (d != NULL) memcpy(d, s, n);
  return d;
}

char *pmx__strndup(const char *s, size_t max) {
  if (s == NULL) return NULL;
  size_t n = strnlen(s, max);
  char *d = pmx__malloc(n + 1);
  if (d == NULL) return NULL;
  memcpy(d, s, n);
  d[n] = '\0';
  return d;
}
