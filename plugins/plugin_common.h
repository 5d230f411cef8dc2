/* Private to the first-party plugins: small helpers shared by the plugin glue (event handle
 * caching, counters fed from cumulative /proc values, process start time).
 *
 * Event handles: a measurement callback gets the bus on every call. Resolving an event name takes
 * the bus mutex, so each group resolves its events on the first poll and keeps the handles in
 * its ctx (the bus outlives every group: it lives from pmx_new() to pmx_destroy()). */
#ifndef PMX_PLUGINS_COMMON_H
#define PMX_PLUGINS_COMMON_H

#include <stdbool.h>
#include <stdint.h>

#include "promex/event.h"
#include "promex/plugin.h"

typedef struct pmx__evcache {
  pmx_bus_t *bus;
  pmx_event_t *ev;
} pmx__evcache_t;

/* The handle of event `name` on `bus`, resolved once per bus. NULL on failure. */
pmx_event_t *pmx__ev(pmx__evcache_t *c, pmx_bus_t *bus, const char *name);

/* A counter fed from an absolute cumulative value: returns what to add to the PMX_SUM so that it
 * follows the source. The first call returns the full value (the counter then equals the source);
 * later calls return the increase. If the source went backwards (a counter reset, e.g. an
 * interface re-created) the new value is returned, as Prometheus' rate() expects after a reset. */
typedef struct pmx__cum {
  uint64_t prev;
  bool seen;
} pmx__cum_t;
uint64_t pmx__cum_delta(pmx__cum_t *c, uint64_t now);

/* Same for a floating-point cumulative value (CPU seconds from /proc/stat and getrusage), except
 * that a value going backwards is a dip, not a reset: CPU times are never reset, but the kernel
 * lets iowait (and idle on NO_HZ kernels) decrease slightly. A dip adds 0 and keeps the previous
 * high-water mark, so the counter resumes once the source passes it. */
typedef struct pmx__cumf {
  double prev;
  bool seen;
} pmx__cumf_t;
double pmx__cumf_delta(pmx__cumf_t *c, double now);

/* This process's start, in seconds after boot (from /proc/self/stat field 22). PMX_OK, PMX_ESYS,
 * PMX_EPARSE. */
int pmx__self_start_after_boot(double *out);

/* Seconds since this process started (CLOCK_BOOTTIME now minus the start above). */
double pmx__uptime_since(double start_after_boot);

/* The same start as seconds since the Unix epoch. */
double pmx__start_epoch(double start_after_boot);

/* Retiring the series of things a poll no longer finds: a pmx_seen_sweep() `gone` callback
 * (arg: a pmx__retire_by_t) that calls pmx_retire(bus, ev, {label = key}). */
typedef struct pmx__retire_by {
  pmx_bus_t *bus;
  pmx_event_t *ev;
  const char *label;
} pmx__retire_by_t;
void pmx__retire_gone(const char *key, void *arg);

/* Copies an option value (NULL stays NULL). Returns false on allocation failure. */
bool pmx__opt_dup(const pmx_plugin_ctx_t *ctx, const char *key, char **out);

#endif
