/* The allocator hook: every allocation libpromex makes goes through four functions the host
 * program may replace (as libuv's uv_replace_allocator), so that it can account promex's memory
 * or, in tests, fail the Nth allocation.
 *
 * What goes through the hook: all memory promex itself allocates (registries, metrics, series
 * arenas, buses, configs, servers, output buffers, dashboards, plugin state). What does not:
 * memory the libraries promex uses allocate for themselves (libmicrohttpd, libcurl, jansson,
 * zlib, GnuTLS, inih, the C library). promex does not call json_set_alloc_funcs nor
 * curl_global_init_mem: both replace a process-wide setting that the host program (or another
 * library in it) may own, and changing them while objects of those libraries exist frees memory
 * with the wrong function. A host that wants those counted too can set them itself, once, at
 * start-up. (zlib's stream allocations are local to promex and go through the hook.)
 *
 * Ownership: memory that a promex function documents as "owned by the caller" as a raw buffer
 * (e.g. pmx_dashboard_render's text) was allocated through the hook: free it with pmx_free().
 * (free() is equivalent while the default allocator is in use.)
 *
 * Thread safety: pmx_replace_allocator is not thread-safe with any other promex call. */
#ifndef PROMEX_ALLOC_H
#define PROMEX_ALLOC_H

#include <stddef.h>

#include "promex/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The four functions have the C library's contracts: malloc/calloc return NULL on failure;
 * realloc returns NULL on failure and leaves the block untouched; free accepts NULL. promex never
 * asks for 0 bytes (it rounds a 0 request up to 1) nor calls realloc with a NULL block (it calls
 * malloc instead), so simple test allocators need not handle those cases. The functions may be
 * called from any thread, including promex's own background threads, concurrently. */
typedef void *(*pmx_malloc_func)(size_t size);
typedef void *(*pmx_realloc_func)(void *ptr, size_t size);
typedef void *(*pmx_calloc_func)(size_t count, size_t size);
typedef void (*pmx_free_func)(void *ptr);

/* Replaces the allocator. Call it before any other promex call, or when no memory promex
 * allocated is alive any more (every promex object destroyed, every buffer freed): switching
 * while blocks from the previous allocator exist would free them with the wrong function.
 * promex counts the blocks alive and refuses such a switch.
 *
 * All four NULL restores the C library's functions. Returns PMX_OK; PMX_EINVAL if some but not
 * all of the four are NULL (nothing changed); PMX_EBUSY if blocks allocated through the current
 * allocator are still alive (nothing changed). Not thread-safe: no other thread may be calling
 * promex, and the caller must make the change visible to threads it starts afterwards (creating a
 * thread does). */
PMX_EXTERN int pmx_replace_allocator(pmx_malloc_func malloc_fn, pmx_realloc_func realloc_fn,
                                     pmx_calloc_func calloc_fn, pmx_free_func free_fn);

/* Frees a block promex returned as caller-owned (through the current allocator's free). NULL is a
 * no-op. Thread-safe. */
PMX_EXTERN void pmx_free(void *ptr);

/* How many blocks allocated through the hook are alive now (a leak check for tests: after every
 * promex object is destroyed it is back to what it was before they were created). Thread-safe. */
PMX_EXTERN long pmx_allocated_blocks(void);

#ifdef __cplusplus
}
#endif
#endif
