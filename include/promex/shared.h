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
#include <stdint.h>
#include <sys/types.h>

#include "promex/error.h"
#include "promex/export.h"
#include "promex/metric.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How long a histogram snapshot waits for observations in flight before it counts them as lost
 * (their process was probably killed between two steps of the observation). */
#define PMX_SHARED_STALL_MS 50
/* Most processes that can hold gauge cells at once (pmx_shared_opts_t.max_workers). */
#define PMX_SHARED_MAX_WORKERS 4096

/* Options of pmx_shared_enable. Zero-initialise for defaults. */
typedef struct pmx_shared_opts {
  /* Address space reserved for the mapping, and the most it can ever hold: 0 means 1 GiB. The
   * reservation costs no memory; only what series use is backed (see initial_bytes). */
  size_t max_bytes;
  /* Backed at once; 0 means 1 MiB. The backing grows in steps (doubling) as series are created,
   * by fallocate, which reports a full memory or disk limit as an error at creation time rather
   * than a crash at first touch. */
  size_t initial_bytes;
  /* Processes (master included) that may hold a cell of the per-process gauge modes at once;
   * 0 means 64, at most PMX_SHARED_MAX_WORKERS. Each gauge series of such a mode takes 16 bytes
   * per cell. */
  size_t max_workers;
} pmx_shared_opts_t;

/* How a gauge aggregates over the processes of the group (pmx_shared_gauge_mode). Counters and
 * histograms always add up, and keep a dead worker's contributions. */
typedef enum pmx_shared_gauge {
  /* One value for the whole group: every process sets and adds the same cell (a pool size the
   * master sets, a queue length every worker adds to). The default. */
  PMX_SHARED_GAUGE_ONE = 0,
  /* One series per process: the metric has a label named "pid", which each process fills with
   * its own pid (pmx_shared_pid_label); reaping a worker removes the series with its pid. */
  PMX_SHARED_GAUGE_PER_WORKER = 1,
  /* Each process has its own cell in every series; the exposed value is the sum, maximum or
   * minimum over the cells of live processes, or the most recently updated cell. Reaping a
   * worker (pmx_shared_worker_exited) removes its cells. A series no live process has updated
   * reads 0. */
  PMX_SHARED_GAUGE_SUM = 2,
  PMX_SHARED_GAUGE_MAX = 3,
  PMX_SHARED_GAUGE_MIN = 4,
  PMX_SHARED_GAUGE_MOST_RECENT = 5
} pmx_shared_gauge_t;

/* Puts `reg` in multi-process mode. `opts` may be NULL (defaults) and is copied.
 * Errors (nothing changed, `err` filled): PMX_EINVAL (reg NULL; initial_bytes > max_bytes),
 * PMX_EEXIST (a registry of this process is already in the mode: there is one mapping per
 * process group), PMX_ESTATE (reg already has metrics; the process already runs more than one
 * thread), PMX_ENOMEM (the initial backing cannot be allocated), PMX_ESYS (memfd/mmap failed). */
PMX_EXTERN int pmx_shared_enable(pmx_registry_t *reg, const pmx_shared_opts_t *opts, pmx_error_t *err);

/* Sets how gauge `m` (a PMX_LAST_VALUE or a sum_as_gauge sum of the shared registry) aggregates.
 * Before the first fork and before the metric has any series. Errors (`err` filled, nothing
 * changed): PMX_EINVAL (m NULL, unknown mode, PER_WORKER without a "pid" label), PMX_ETYPE (not a
 * gauge), PMX_ESTATE (not a shared metric, already has series, or the group has forked). */
PMX_EXTERN int pmx_shared_gauge_mode(pmx_metric_t *m, pmx_shared_gauge_t mode, pmx_error_t *err);

/* The gauge cell index of the calling process, taking a free one on first use (gauge updates take
 * it themselves; a worker may call this at start to learn early that none is left). A cell whose
 * process no longer exists is taken over, its values cleared. The index also gives one thread of
 * the process its own line of every unlabelled counter (plain stores instead of a locked add);
 * counters never take an index themselves, so a process forked without the runtime should call
 * this at start to get that line. Returns the index (>= 0), or
 * PMX_ELIMIT when max_workers live processes hold all cells (the process's updates of
 * per-process gauges are then dropped and counted, see pmx_shared_gauge_overflow), or PMX_ESTATE
 * without a mapping. */
PMX_EXTERN int pmx_shared_worker_slot(void);

/* To be called by the master after reaping worker `pid` (waitpid): removes its gauge
 * contributions (its cells, its PER_WORKER series) from every gauge of the shared registry and
 * frees its cell for another process. Its counter and histogram contributions stay. Returns
 * PMX_OK, PMX_ENOENT (pid holds no cell and has no PER_WORKER series), PMX_ESTATE (no mapping). */
PMX_EXTERN int pmx_shared_worker_exited(pid_t pid);

/* The pids of the group's processes that hold a cell (every process forked after
 * pmx_prepare_shared takes one at fork; others on their first per-process gauge update), as the
 * mapping's worker table records them: a worker that died and was not yet reported with
 * pmx_shared_worker_exited may still be listed. Writes at most `cap` pids to `out` (which may be
 * NULL when cap is 0) and the number listed in the table to *n. Returns PMX_OK, PMX_EINVAL (n
 * NULL, out NULL with cap > 0) or PMX_ESTATE (no mapping). */
PMX_EXTERN int pmx_shared_workers(pid_t *out, size_t cap, size_t *n);

/* Writes this process's pid as a label value (for PMX_SHARED_GAUGE_PER_WORKER) into buf (at
 * least 24 bytes) and returns buf. */
PMX_EXTERN const char *pmx_shared_pid_label(char *buf, size_t cap);

/* Gauge updates dropped because their process found no free cell. */
PMX_EXTERN uint64_t pmx_shared_gauge_overflow(void);

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
