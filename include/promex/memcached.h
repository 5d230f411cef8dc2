/* The libmemcached adapter of the memcached plugin (promex/plugins/memcached.h), in its own
 * library promex_memcached (pkg-config promex-memcached) so that libpromex does not depend on
 * libmemcached. Each wrapper takes the arguments of the libmemcached function it names (after
 * the adapter handle), calls it, returns its result unchanged (the value of pmx_memcached_get
 * is malloc'd by libmemcached, free it as usual) and emits one memcached.command.stop event.
 *
 *   pmx_memcached_t *pm;
 *   pmx_memcached_new(pmx_bus(p), &pm);                    // once, after pmx_new()
 *   rc = pmx_memcached_set(pm, memc, "k", 1, "v", 1, 0, 0);
 *   char *v = pmx_memcached_get(pm, memc, "k", 1, &len, &flags, &rc);   // hit or miss
 *
 * Keys and values are never read by promex. libmemcached's own callbacks
 * (MEMCACHED_CALLBACK_GET_FAILURE) stay the program's: the wrappers need none.
 *
 * Threading: a pmx_memcached_t is immutable after creation and may be shared by any number of
 * threads; a memcached_st is used by one thread at a time, as libmemcached requires (use
 * memcached_pool for more). */
#ifndef PROMEX_MEMCACHED_H
#define PROMEX_MEMCACHED_H

#include <libmemcached/memcached.h>
#include <stdint.h>
#include <time.h>

#include "promex/event.h"
#include "promex/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pmx_memcached pmx_memcached_t;

/* Resolves the event on `bus` (borrowed; must outlive the handle). *out is owned by the caller
 * (pmx_memcached_destroy). Returns PMX_OK, PMX_EINVAL, PMX_ENOMEM. */
PMX_EXTERN int pmx_memcached_new(pmx_bus_t *bus, pmx_memcached_t **out);
/* Frees the handle; NULL is a no-op. */
PMX_EXTERN void pmx_memcached_destroy(pmx_memcached_t *pm);

/* The wrappers. With a NULL pm they only call libmemcached. */
PMX_EXTERN char *pmx_memcached_get(pmx_memcached_t *pm, memcached_st *memc, const char *key,
                                   size_t key_length, size_t *value_length, uint32_t *flags,
                                   memcached_return_t *error);
PMX_EXTERN memcached_return_t pmx_memcached_set(pmx_memcached_t *pm, memcached_st *memc,
                                                const char *key, size_t key_length,
                                                const char *value, size_t value_length,
                                                time_t expiration, uint32_t flags);
PMX_EXTERN memcached_return_t pmx_memcached_add(pmx_memcached_t *pm, memcached_st *memc,
                                                const char *key, size_t key_length,
                                                const char *value, size_t value_length,
                                                time_t expiration, uint32_t flags);
PMX_EXTERN memcached_return_t pmx_memcached_replace(pmx_memcached_t *pm, memcached_st *memc,
                                                    const char *key, size_t key_length,
                                                    const char *value, size_t value_length,
                                                    time_t expiration, uint32_t flags);
PMX_EXTERN memcached_return_t pmx_memcached_append(pmx_memcached_t *pm, memcached_st *memc,
                                                   const char *key, size_t key_length,
                                                   const char *value, size_t value_length,
                                                   time_t expiration, uint32_t flags);
PMX_EXTERN memcached_return_t pmx_memcached_prepend(pmx_memcached_t *pm, memcached_st *memc,
                                                    const char *key, size_t key_length,
                                                    const char *value, size_t value_length,
                                                    time_t expiration, uint32_t flags);
PMX_EXTERN memcached_return_t pmx_memcached_cas(pmx_memcached_t *pm, memcached_st *memc,
                                                const char *key, size_t key_length,
                                                const char *value, size_t value_length,
                                                time_t expiration, uint32_t flags, uint64_t cas);
PMX_EXTERN memcached_return_t pmx_memcached_delete(pmx_memcached_t *pm, memcached_st *memc,
                                                   const char *key, size_t key_length,
                                                   time_t expiration);
PMX_EXTERN memcached_return_t pmx_memcached_increment(pmx_memcached_t *pm, memcached_st *memc,
                                                      const char *key, size_t key_length,
                                                      uint32_t offset, uint64_t *value);
PMX_EXTERN memcached_return_t pmx_memcached_decrement(pmx_memcached_t *pm, memcached_st *memc,
                                                      const char *key, size_t key_length,
                                                      uint32_t offset, uint64_t *value);
PMX_EXTERN memcached_return_t pmx_memcached_touch(pmx_memcached_t *pm, memcached_st *memc,
                                                  const char *key, size_t key_length,
                                                  time_t expiration);
PMX_EXTERN memcached_return_t pmx_memcached_exist(pmx_memcached_t *pm, memcached_st *memc,
                                                  const char *key, size_t key_length);

/* The memcached_return_t name without MEMCACHED_ ("NOTFOUND"); "OTHER" for an unknown code.
 * Static storage. */
PMX_EXTERN const char *pmx_memcached_code_name(memcached_return_t rc);

#ifdef __cplusplus
}
#endif
#endif
