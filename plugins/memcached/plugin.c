/* The memcached plugin (metric list and event contract in promex/plugins/memcached.h). One event
 * group; labels() maps command, result and code onto fixed lists so label sets stay bounded. */
#include <string.h>

#include "promex/plugins/memcached.h"

static const char *const k_commands[] = {"get",       "set",       "add",   "replace",
                                         "append",    "prepend",   "cas",   "delete",
                                         "increment", "decrement", "touch", "exist"};
static const char *const k_results[] = {"hit", "miss", "ok", "not_stored", "exists", "error"};
/* libmemcached 1.1 memcached_return_t names, without MEMCACHED_. */
static const char *const k_codes[] = {
    "SUCCESS",
    "FAILURE",
    "HOST_LOOKUP_FAILURE",
    "CONNECTION_FAILURE",
    "CONNECTION_BIND_FAILURE",
    "WRITE_FAILURE",
    "READ_FAILURE",
    "UNKNOWN_READ_FAILURE",
    "PROTOCOL_ERROR",
    "CLIENT_ERROR",
    "SERVER_ERROR",
    "ERROR",
    "DATA_EXISTS",
    "DATA_DOES_NOT_EXIST",
    "NOTSTORED",
    "STORED",
    "NOTFOUND",
    "MEMORY_ALLOCATION_FAILURE",
    "PARTIAL_READ",
    "SOME_ERRORS",
    "NO_SERVERS",
    "END",
    "DELETED",
    "VALUE",
    "STAT",
    "ITEM",
    "ERRNO",
    "FAIL_UNIX_SOCKET",
    "NOT_SUPPORTED",
    "NO_KEY_PROVIDED",
    "FETCH_NOTFINISHED",
    "TIMEOUT",
    "BUFFERED",
    "BAD_KEY_PROVIDED",
    "INVALID_HOST_PROTOCOL",
    "SERVER_MARKED_DEAD",
    "UNKNOWN_STAT_KEY",
    "E2BIG",
    "INVALID_ARGUMENTS",
    "KEY_TOO_BIG",
    "AUTH_PROBLEM",
    "AUTH_FAILURE",
    "AUTH_CONTINUE",
    "PARSE_ERROR",
    "PARSE_USER_ERROR",
    "DEPRECATED",
    "IN_PROGRESS",
    "SERVER_TEMPORARILY_DISABLED",
    "SERVER_MEMORY_ALLOCATION_FAILURE",
};

static const char *pick(const char *s, const char *const *list, size_t n, const char *other) {
  for (size_t i = 0; s != NULL && i < n; i++)
    if (strcmp(s, list[i]) == 0) return list[i];
  return other;
}

static const char *meta_str(const pmx_event_data_t *ev, const char *key) {
  const pmx_meta_t *m = pmx_event_meta(ev, key);
  return m != NULL && m->type == PMX_META_STR ? m->v.s : NULL;
}

#define PICK(key, list, other) \
  pick(meta_str(ev, key), list, sizeof list / sizeof list[0], other)

static bool labels(const pmx_event_data_t *ev, pmx_tag_source_t *out, void *ctx) {
  (void)ctx;
  out->items[out->n++] = PMX_META_S("command", PICK("command", k_commands, "other"));
  out->items[out->n++] = PMX_META_S("result", PICK("result", k_results, "other"));
  out->items[out->n++] = PMX_META_S("code", PICK("code", k_codes, "OTHER"));
  return true;
}

static bool result_is(const pmx_event_data_t *ev, const char *want) {
  const char *r = meta_str(ev, "result");
  return r != NULL && strcmp(r, want) == 0;
}
static bool is_hit(const pmx_event_data_t *ev, void *ctx) { (void)ctx; return result_is(ev, "hit"); }
static bool is_miss(const pmx_event_data_t *ev, void *ctx) { (void)ctx; return result_is(ev, "miss"); }
static bool is_error(const pmx_event_data_t *ev, void *ctx) {
  (void)ctx;
  return result_is(ev, "error");
}

static const double k_buckets[] = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                   0.025,   0.05,   0.1,     0.25,   0.5,   1,      5};

static int memcached_events(const pmx_plugin_ctx_t *ctx, pmx_groups_t *out) {
  int rc = pmx_plugin_check_opts(ctx, NULL, 0);
  if (rc != PMX_OK) return rc;
  static const char *const t_dur[] = {"command", "result"};
  static const char *const t_cmd[] = {"command"};
  static const char *const t_err[] = {"command", "code"};
  const pmx_metric_def_t m[] = {
      {.kind = PMX_DISTRIBUTION, .name = "command.duration.seconds",
       .event_name = PMX_MEMCACHED_EVENT_COMMAND, .measurement = "duration",
       .unit_from = PMX_UNIT_NATIVE, .unit_to = PMX_UNIT_SECOND, .tags = t_dur, .n_tags = 2,
       .tag_values = labels, .buckets = k_buckets,
       .n_buckets = sizeof k_buckets / sizeof k_buckets[0],
       .description = "memcached operations by command and result."},
      {.kind = PMX_COUNTER, .name = "cache.hits.total", .event_name = PMX_MEMCACHED_EVENT_COMMAND,
       .tags = t_cmd, .n_tags = 1, .tag_values = labels, .keep = is_hit,
       .description = "Lookups that found the key."},
      {.kind = PMX_COUNTER, .name = "cache.misses.total",
       .event_name = PMX_MEMCACHED_EVENT_COMMAND, .tags = t_cmd, .n_tags = 1,
       .tag_values = labels, .keep = is_miss, .description = "Lookups that did not find the key."},
      {.kind = PMX_COUNTER, .name = "command.errors.total",
       .event_name = PMX_MEMCACHED_EVENT_COMMAND, .tags = t_err, .n_tags = 2,
       .tag_values = labels, .keep = is_error,
       .description = "memcached operations that failed, by libmemcached return code."},
  };
  return pmx_groups_add_event(out, "memcached_command_event_metrics", m, sizeof m / sizeof m[0]);
}

const pmx_plugin_t pmx_plugin_memcached = {PMX_PLUGIN_ABI, "memcached", memcached_events, NULL,
                                           NULL, {0}};
