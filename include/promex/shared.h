/* Multi-process mode: one set of metrics for a program that forks workers (a master process and
 * N worker processes, as pre-forking servers do).
 *
 * pmx_shared_enable() gives a registry a shared mapping (an anonymous memory file mapped once, at
 * one address that every forked child inherits). Every metric defined in that registry afterwards
 * keeps its series state there: series created in any process, before or after fork, are seen by
 * every other, and the process that renders the registry (pmx_render, or a server over it) exposes
 * the sums of all workers. Updates stay lock-free atomics on the shared memory; only series
 * creation takes the metric's process-shared mutex, which is robust: a process killed while
 * holding it hands it to the next taker, which repairs the series table and chain first.
 *
 * Rules (each enforced with a clear error, see the functions):
 * - enable before any metric is defined in the registry, and before the process starts threads
 *   (so in particular before pmx_start or a metrics server): the mapping must exist before fork;
 * - define every metric of the registry before the first fork: the definition (name, labels,
 *   buckets) is inherited copy-on-write, so a metric defined later would exist in one process only
 *   and pmx_metric_define refuses it (PMX_ESTATE);
 * - attach metrics to the event bus before fork too; each process then emits on its own copy of
 *   the bus, and the handlers update the shared series.
 *
 * What a SIGKILL'd worker leaves behind (docs/multiprocess.md states it in full): counter and
 * histogram contributions stay (counters never go backwards); an update in flight is either done
 * or not, except that an observation killed between its _sum and its bucket keeps its value in
 * _sum only; a renderer never waits for a dead worker for more than PMX_SHARED_STALL_MS once.
 * pmx_metric_remove/reset work, but a removed series' memory is never reused in this mode (no
 * process can know what another still holds), so churning label sets grow the mapping.
 *
 * Thread safety: pmx_shared_enable is called once, single-threaded. The other functions may be
 * called from any thread of any process of the group. */
#ifndef PROMEX_SHARED_H
#define PROMEX_SHARED_H

#include <stdbool.h>
#include <stddef.h>

#include "promex/error.h"
#include "promex/export.h"
#include "promex/metric.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How long a histogram snapshot waits for observations in flight before it counts them as lost
 * (their process was probably killed between two steps of the observation). */
#define PMX_SHARED_STALL_MS 50

/* Options of pmx_shared_enable. Zero-initialise for defaults. */
typedef struct pmx_shared_opts {
  /* Address space reserved for the mapping, and the most it can ever hold: 0 means 1 GiB. The
   * reservation costs no memory; only what series use is backed (see initial_bytes). */
  size_t max_bytes;
  /* Backed at once; 0 means 1 MiB. The backing grows in steps (doubling) as series are created,
   * by fallocate, which reports a full memory or disk limit as an error at creation time rather
   * than a crash at first touch. */
  size_t initial_bytes;
} pmx_shared_opts_t;

/* Puts `reg` in multi-process mode. `opts` may be NULL (defaults) and is copied.
 * Errors (nothing changed, `err` filled): PMX_EINVAL (reg NULL; initial_bytes > max_bytes),
 * PMX_EEXIST (a registry of this process is already in the mode: there is one mapping per
 * process group), PMX_ESTATE (reg already has metrics; the process already runs more than one
 * thread), PMX_ENOMEM (the initial backing cannot be allocated), PMX_ESYS (memfd/mmap failed). */
PMX_EXTERN int pmx_shared_enable(pmx_registry_t *reg, const pmx_shared_opts_t *opts, pmx_error_t *err);

/* Whether `reg` is in multi-process mode. */
PMX_EXTERN bool pmx_shared_enabled(const pmx_registry_t *reg);

/* Usage of the mapping, for monitoring its growth: bytes handed out, bytes backed, bytes
 * reserved. Returns PMX_OK, or PMX_ESTATE when no registry of this process is in the mode. Any
 * pointer may be NULL. */
PMX_EXTERN int pmx_shared_usage(size_t *used, size_t *backed, size_t *reserved);

#ifdef __cplusplus
}
#endif
#endif
