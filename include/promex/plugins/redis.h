/* The `redis` plugin: what a program's Redis calls cost, for C programs using hiredis. It answers
 * the Redix item of PromEx's plugin backlog (Redix emits [:redix, :pipeline, :start|:stop],
 * [:redix, :connection], [:redix, :disconnection], [:redix, :failed_connection]).
 *
 * Two halves: the event contract below, and the hiredis adapter (promex/hiredis.h, library
 * promex_hiredis, so libpromex does not depend on hiredis), which wraps redisCommand*,
 * redisAppendCommand/redisGetReply pipelines and redisAsyncCommand*.
 *
 * Enabling it: pmx_plugin_use_t use = {&pmx_plugin_redis, NULL, 0, NULL}; or [plugin.redis] in
 * the INI file. Options: metric_prefix (default "<app>_prom_ex_redis"; dashboard assign
 * redis_metric_prefix must match); nothing else.
 *
 * Event contract:
 *   redis.command.stop     one per command that completed (a reply, an error reply, or a failure
 *                          of the connection)
 *       measurements duration (native unit, ns)
 *       metadata     command: the command's first word only (never keys or values), any case;
 *                    result: "ok" | "error"; class (errors only): the first word of the error
 *                    reply ("ERR", "WRONGTYPE", "NOSCRIPT", ...) or, when the connection failed,
 *                    "io", "eof", "protocol", "oom", "timeout" or "client".
 *   redis.pipeline.stop    one per pipeline (commands sent together, replies read after)
 *       measurements commands (count), duration (ns, first send to last reply)
 *   redis.connection       connection lifecycle
 *       measurements delta (+1 connect, -1 disconnect, 0 failures)
 *       metadata     event: "connect" | "connect_error" | "disconnect" | "disconnect_error"
 *
 * Metrics (prefix P = <app>_prom_ex_redis; group redis_command_event_metrics):
 *   P_command_duration_seconds{command}        histogram, buckets 50 us .. 5 s. Redix:
 *       pipeline duration (a command is a pipeline of one there).
 *   P_command_errors_total{command,class}      counter of commands whose result is "error".
 *   P_pipeline_commands                        histogram of commands per pipeline (1 .. 1000).
 *       Redix: the pipeline event's command list length.
 *   P_connection_events_total{event}           counter. Redix: connection, disconnection,
 *       failed_connection.
 *   P_connections                              gauge: connections open (sum of delta).
 * `command` is upper-cased and must be a Redis 7 command name (240 of them); anything else is
 * "other". `class` is upper-cased letters for server errors (a known prefix, else "OTHER") or one
 * of the client classes above; so every label set is bounded whatever the program sends.
 *
 * Threading: metrics update lock-free on the thread that completed the command. */
#ifndef PROMEX_PLUGINS_REDIS_H
#define PROMEX_PLUGINS_REDIS_H

#include "promex/export.h"
#include "promex/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PMX_REDIS_EVENT_COMMAND "redis.command.stop"
#define PMX_REDIS_EVENT_PIPELINE "redis.pipeline.stop"
#define PMX_REDIS_EVENT_CONNECTION "redis.connection"

/* The plugin table. Name "redis". */
PMX_EXTERN extern const pmx_plugin_t pmx_plugin_redis;

#ifdef __cplusplus
}
#endif
#endif
