/* The libmemcached adapter (promex/memcached.h): wrappers that time libmemcached calls and emit
 * memcached.command.stop (promex/plugins/memcached.h). The result classification is the one
 * thing to get right: a miss is a normal answer of a lookup, NOTSTORED a normal answer of add,
 * DATA_EXISTS of cas; only the rest counts as an error. */
#include <stdlib.h>

#include "promex/memcached.h"
#include "promex/plugins/memcached.h"

struct pmx_memcached {
  pmx_event_t *command;
};

int pmx_memcached_new(pmx_bus_t *bus, pmx_memcached_t **out) {
  if (out != NULL) *out = NULL;
  if (bus == NULL || out == NULL) return PMX_EINVAL;
  pmx_memcached_t *pm = calloc(1, sizeof *pm);
  if (pm == NULL) return PMX_ENOMEM;
  int rc = pmx_bus_event(bus, PMX_MEMCACHED_EVENT_COMMAND, &pm->command);
  if (rc != PMX_OK) {
    free(pm);
    return rc;
  }
  *out = pm;
  return PMX_OK;
}

void pmx_memcached_destroy(pmx_memcached_t *pm) { free(pm); }

const char *pmx_memcached_code_name(memcached_return_t rc) {
  switch (rc) {
#define NAME(x) \
  case MEMCACHED_##x: \
    return #x;
    NAME(SUCCESS)
    NAME(FAILURE)
    NAME(HOST_LOOKUP_FAILURE)
    NAME(CONNECTION_FAILURE)
    NAME(CONNECTION_BIND_FAILURE)
    NAME(WRITE_FAILURE)
    NAME(READ_FAILURE)
    NAME(UNKNOWN_READ_FAILURE)
    NAME(PROTOCOL_ERROR)
    NAME(CLIENT_ERROR)
    NAME(SERVER_ERROR)
    NAME(ERROR)
    NAME(DATA_EXISTS)
    NAME(DATA_DOES_NOT_EXIST)
    NAME(NOTSTORED)
    NAME(STORED)
    NAME(NOTFOUND)
    NAME(MEMORY_ALLOCATION_FAILURE)
    NAME(PARTIAL_READ)
    NAME(SOME_ERRORS)
    NAME(NO_SERVERS)
    NAME(END)
    NAME(DELETED)
    NAME(VALUE)
    NAME(STAT)
    NAME(ITEM)
    NAME(ERRNO)
    NAME(FAIL_UNIX_SOCKET)
    NAME(NOT_SUPPORTED)
    NAME(NO_KEY_PROVIDED)
    NAME(FETCH_NOTFINISHED)
    NAME(TIMEOUT)
    NAME(BUFFERED)
    NAME(BAD_KEY_PROVIDED)
    NAME(INVALID_HOST_PROTOCOL)
    NAME(SERVER_MARKED_DEAD)
    NAME(UNKNOWN_STAT_KEY)
    NAME(E2BIG)
    NAME(INVALID_ARGUMENTS)
    NAME(KEY_TOO_BIG)
    NAME(AUTH_PROBLEM)
    NAME(AUTH_FAILURE)
    NAME(AUTH_CONTINUE)
    NAME(PARSE_ERROR)
    NAME(PARSE_USER_ERROR)
    NAME(DEPRECATED)
    NAME(IN_PROGRESS)
    NAME(SERVER_TEMPORARILY_DISABLED)
    NAME(SERVER_MEMORY_ALLOCATION_FAILURE)
#undef NAME
    default:
      return "OTHER";
  }
}

typedef enum kind { LOOKUP, STORE } kind_t;

static const char *result_of(kind_t kind, memcached_return_t rc) {
  switch (rc) {
    case MEMCACHED_SUCCESS:
    case MEMCACHED_STORED:
    case MEMCACHED_DELETED:
      return kind == LOOKUP ? "hit" : "ok";
    case MEMCACHED_NOTFOUND: return "miss";
    case MEMCACHED_NOTSTORED: return "not_stored";
    case MEMCACHED_DATA_EXISTS: return "exists";
    default: return "error";
  }
}

static void emit(const pmx_memcached_t *pm, const char *command, kind_t kind, int64_t t0,
                 memcached_return_t rc) {
  pmx_measurement_t m[] = {PMX_M("duration", (double)(pmx_monotonic_ns() - t0))};
  pmx_meta_t md[] = {PMX_META_S("command", command), PMX_META_S("result", result_of(kind, rc)),
                     PMX_META_S("code", pmx_memcached_code_name(rc))};
  pmx_emit(pm->command, m, 1, md, 3);
}

char *pmx_memcached_get(pmx_memcached_t *pm, memcached_st *memc, const char *key,
                        size_t key_length, size_t *value_length, uint32_t *flags,
                        memcached_return_t *error) {
  int64_t t0 = pmx_monotonic_ns();
  memcached_return_t rc = MEMCACHED_FAILURE;
  char *v = memcached_get(memc, key, key_length, value_length, flags, &rc);
  if (error != NULL) *error = rc;
  if (pm != NULL) emit(pm, "get", LOOKUP, t0, rc);
  return v;
}

/* The five storage commands share one signature. */
#define STORE_WRAPPER(cmd)                                                                      \
  memcached_return_t pmx_memcached_##cmd(pmx_memcached_t *pm, memcached_st *memc,               \
                                         const char *key, size_t key_length, const char *value, \
                                         size_t value_length, time_t expiration,                \
                                         uint32_t flags) {                                      \
    int64_t t0 = pmx_monotonic_ns();                                                            \
    memcached_return_t rc =                                                                     \
        memcached_##cmd(memc, key, key_length, value, value_length, expiration, flags);         \
    if (pm != NULL) emit(pm, #cmd, STORE, t0, rc);                                              \
    return rc;                                                                                  \
  }
STORE_WRAPPER(set)
STORE_WRAPPER(add)
STORE_WRAPPER(replace)
STORE_WRAPPER(append)
STORE_WRAPPER(prepend)
#undef STORE_WRAPPER

memcached_return_t pmx_memcached_cas(pmx_memcached_t *pm, memcached_st *memc, const char *key,
                                     size_t key_length, const char *value, size_t value_length,
                                     time_t expiration, uint32_t flags, uint64_t cas) {
  int64_t t0 = pmx_monotonic_ns();
  memcached_return_t rc =
      memcached_cas(memc, key, key_length, value, value_length, expiration, flags, cas);
  if (pm != NULL) emit(pm, "cas", STORE, t0, rc);
  return rc;
}

memcached_return_t pmx_memcached_delete(pmx_memcached_t *pm, memcached_st *memc,
                                        const char *key, size_t key_length, time_t expiration) {
  int64_t t0 = pmx_monotonic_ns();
  memcached_return_t rc = memcached_delete(memc, key, key_length, expiration);
  if (pm != NULL) emit(pm, "delete", LOOKUP, t0, rc);
  return rc;
}

memcached_return_t pmx_memcached_increment(pmx_memcached_t *pm, memcached_st *memc,
                                           const char *key, size_t key_length, uint32_t offset,
                                           uint64_t *value) {
  int64_t t0 = pmx_monotonic_ns();
  memcached_return_t rc = memcached_increment(memc, key, key_length, offset, value);
  if (pm != NULL) emit(pm, "increment", LOOKUP, t0, rc);
  return rc;
}

memcached_return_t pmx_memcached_decrement(pmx_memcached_t *pm, memcached_st *memc,
                                           const char *key, size_t key_length, uint32_t offset,
                                           uint64_t *value) {
  int64_t t0 = pmx_monotonic_ns();
  memcached_return_t rc = memcached_decrement(memc, key, key_length, offset, value);
  if (pm != NULL) emit(pm, "decrement", LOOKUP, t0, rc);
  return rc;
}

memcached_return_t pmx_memcached_touch(pmx_memcached_t *pm, memcached_st *memc, const char *key,
                                       size_t key_length, time_t expiration) {
  int64_t t0 = pmx_monotonic_ns();
  memcached_return_t rc = memcached_touch(memc, key, key_length, expiration);
  if (pm != NULL) emit(pm, "touch", LOOKUP, t0, rc);
  return rc;
}

memcached_return_t pmx_memcached_exist(pmx_memcached_t *pm, memcached_st *memc, const char *key,
                                       size_t key_length) {
  int64_t t0 = pmx_monotonic_ns();
  memcached_return_t rc = memcached_exist(memc, key, key_length);
  if (pm != NULL) emit(pm, "exist", LOOKUP, t0, rc);
  return rc;
}
