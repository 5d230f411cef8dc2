/* The `memcached` plugin: what a program's memcached calls cost, for C programs using
 * libmemcached. It answers the Memcachex item of PromEx's plugin backlog.
 *
 * Two halves: the event contract below, and the libmemcached adapter (promex/memcached.h,
 * library promex_memcached, so libpromex does not depend on libmemcached), which wraps
 * memcached_get/set/add/replace/append/prepend/cas/delete/increment/decrement/touch/exist.
 *
 * Enabling it: pmx_plugin_use_t use = {&pmx_plugin_memcached, NULL, 0, NULL}; or
 * [plugin.memcached] in the INI file. Options: metric_prefix (default
 * "<app>_prom_ex_memcached"; dashboard assign memcached_metric_prefix must match).
 *
 * Event contract:
 *   memcached.command.stop  one per operation
 *       measurements duration (native unit, ns)
 *       metadata     command: "get", "set", "add", "replace", "append", "prepend", "cas",
 *                    "delete", "increment", "decrement", "touch", "exist";
 *                    result: "hit" / "miss" (lookups: get, exist, delete, increment, decrement,
 *                    touch found the key or not), "ok" (stored), "not_stored" (add of an
 *                    existing key, replace/append/prepend of a missing one), "exists" (cas
 *                    conflict), "error" (anything else);
 *                    code: the memcached_return_t name without MEMCACHED_ ("NOTFOUND",
 *                    "CONNECTION_FAILURE", "TIMEOUT", ...).
 *
 * Metrics (prefix P = <app>_prom_ex_memcached; group memcached_command_event_metrics):
 *   P_command_duration_seconds{command,result}  histogram, buckets 50 us .. 5 s.
 *   P_cache_hits_total{command}                 counter of result "hit".
 *   P_cache_misses_total{command}               counter of result "miss".
 *   P_command_errors_total{command,code}        counter of result "error".
 *   memcached_exporter's memcached_commands_total{command,status="hit|miss"} is the server-side
 *   view of the same hits and misses.
 * Labels are bounded: command and result from the lists above (else "other"), code from
 * libmemcached 1.1's return codes (else "OTHER").
 *
 * Threading: metrics update lock-free on the calling thread. */
#ifndef PROMEX_PLUGINS_MEMCACHED_H
#define PROMEX_PLUGINS_MEMCACHED_H

#include "promex/export.h"
#include "promex/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PMX_MEMCACHED_EVENT_COMMAND "memcached.command.stop"

/* The plugin table. Name "memcached". */
PMX_EXTERN extern const pmx_plugin_t pmx_plugin_memcached;

#ifdef __cplusplus
}
#endif
#endif
