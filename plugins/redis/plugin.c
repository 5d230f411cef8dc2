/* The redis plugin (metric list and event contract in promex/plugins/redis.h). One event group;
 * labels() bounds every label value: commands through the Redis command table (commands.c),
 * error classes through a short list of server error prefixes and client failure classes. */
#include <string.h>

#include "promex/plugins/redis.h"
#include "redis/commands.h"

/* Error reply prefixes Redis 7 sends (the first word of "-ERR ...", "-WRONGTYPE ..."), and the
 * adapter's client-side classes. */
static const char *const k_classes[] = {
    "ASK",      "BUSY",      "BUSYKEY",     "CLUSTERDOWN", "CROSSSLOT", "ERR",        "EXECABORT",
    "LOADING",  "MASTERDOWN", "MISCONF",    "MOVED",       "NOAUTH",    "NOGOODSLAVE", "NOPERM",
    "NOPROTO",  "NOREPLICAS", "NOSCRIPT",   "OOM",         "READONLY",  "TRYAGAIN",   "UNBLOCKED",
    "UNKILLABLE", "WRONGPASS", "WRONGTYPE", "io",          "eof",       "protocol",   "oom",
    "timeout",  "client"};

static const char *class_label(const char *s) {
  if (s == NULL) return "OTHER";
  for (size_t i = 0; i < sizeof k_classes / sizeof k_classes[0]; i++)
    if (strcmp(s, k_classes[i]) == 0) return k_classes[i];
  return "OTHER";
}

static const char *meta_str(const pmx_event_data_t *ev, const char *key) {
  const pmx_meta_t *m = pmx_event_meta(ev, key);
  return m != NULL && m->type == PMX_META_STR ? m->v.s : NULL;
}

static bool labels(const pmx_event_data_t *ev, pmx_tag_source_t *out, void *ctx) {
  (void)ctx;
  out->items[out->n++] = PMX_META_S("command", pmx__redis_command_label(meta_str(ev, "command")));
  out->items[out->n++] = PMX_META_S("class", class_label(meta_str(ev, "class")));
  const char *e = meta_str(ev, "event");
  static const char *const k_events[] = {"connect", "connect_error", "disconnect",
                                         "disconnect_error"};
  const char *event = "other";
  for (size_t i = 0; e != NULL && i < 4; i++)
    if (strcmp(e, k_events[i]) == 0) event = k_events[i];
  out->items[out->n++] = PMX_META_S("event", event);
  return true;
}

static bool is_error(const pmx_event_data_t *ev, void *ctx) {
  (void)ctx;
  const char *r = meta_str(ev, "result");
  return r != NULL && strcmp(r, "error") == 0;
}

static const double k_duration_buckets[] = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                            0.005,   0.01,   0.025,   0.05,   0.1,   0.25,
                                            0.5,     1,      5};
static const double k_pipeline_buckets[] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000};

static int redis_events(const pmx_plugin_ctx_t *ctx, pmx_groups_t *out) {
  int rc = pmx_plugin_check_opts(ctx, NULL, 0);
  if (rc != PMX_OK) return rc;
  static const char *const t_cmd[] = {"command"};
  static const char *const t_err[] = {"command", "class"};
  static const char *const t_event[] = {"event"};
  const pmx_metric_def_t m[] = {
      {.kind = PMX_DISTRIBUTION, .name = "command.duration.seconds",
       .event_name = PMX_REDIS_EVENT_COMMAND, .measurement = "duration",
       .unit_from = PMX_UNIT_NATIVE, .unit_to = PMX_UNIT_SECOND, .tags = t_cmd, .n_tags = 1,
       .tag_values = labels, .buckets = k_duration_buckets,
       .n_buckets = sizeof k_duration_buckets / sizeof k_duration_buckets[0],
       .description = "Redis commands by command name: time from send to reply."},
      {.kind = PMX_COUNTER, .name = "command.errors.total", .event_name = PMX_REDIS_EVENT_COMMAND,
       .tags = t_err, .n_tags = 2, .tag_values = labels, .keep = is_error,
       .description = "Redis commands answered with an error reply, or failed on the connection."},
      {.kind = PMX_DISTRIBUTION, .name = "pipeline.commands",
       .event_name = PMX_REDIS_EVENT_PIPELINE, .measurement = "commands",
       .buckets = k_pipeline_buckets,
       .n_buckets = sizeof k_pipeline_buckets / sizeof k_pipeline_buckets[0],
       .description = "Commands sent per pipeline."},
      {.kind = PMX_COUNTER, .name = "connection.events.total",
       .event_name = PMX_REDIS_EVENT_CONNECTION, .tags = t_event, .n_tags = 1,
       .tag_values = labels, .description = "Connects, failed connects and disconnects."},
      {.kind = PMX_SUM, .name = "connections", .event_name = PMX_REDIS_EVENT_CONNECTION,
       .measurement = "delta", .sum_as_gauge = true,
       .description = "Redis connections open."},
  };
  return pmx_groups_add_event(out, "redis_command_event_metrics", m, sizeof m / sizeof m[0]);
}

const pmx_plugin_t pmx_plugin_redis = {PMX_PLUGIN_ABI, "redis", redis_events, NULL, NULL, {0}};
