/* A small thread-pool work queue instrumented with the jobs event contract
 * (promex/plugins/jobs.h): every job run emits jobs.job.start and jobs.job.stop or
 * jobs.job.exception with its queue time, each fetch emits jobs.producer.stop, creation emits
 * jobs.queue.init with the concurrency, and pmx_pool_report_lengths() feeds the jobs plugin's
 * queue-length callback. Part of libpromex (no extra dependency).
 *
 *   pmx_pool_opts_t o = {.queue = "mailers", .concurrency = 4, .max_attempts = 3,
 *                        .bus = pmx_bus(p)};
 *   pmx_pool_t *pool;  pmx_pool_new(&o, &pool);      // after pmx_start(): the init event counts
 *   pmx_pool_submit(pool, "send_welcome", send_welcome, user);
 *   ...  pmx_pool_destroy(pool);
 *
 * A job function returns 0 on success and non-zero on failure; a failed job is put back at the
 * end of the queue (state "retryable" until it starts again) until it has run max_attempts times,
 * then dropped ("discard"). Jobs run in FIFO order on `concurrency` threads.
 *
 * Threading: every function is safe from any thread, except pmx_pool_destroy(), which must be the
 * last call and must not be called from a job. */
#ifndef PROMEX_JOBS_POOL_H
#define PROMEX_JOBS_POOL_H

#include <stddef.h>

#include "promex/event.h"
#include "promex/export.h"
#include "promex/plugins/jobs.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pmx_pool pmx_pool_t;

/* A job: returns 0 on success, non-zero on failure. `arg` is the pointer given to submit; the
 * pool never frees it. Called on a pool thread; it may be called again (a retry) after failing. */
typedef int (*pmx_pool_job_fn)(void *arg);

typedef struct pmx_pool_opts {
  const char *queue;      /* required; the queue label (copied) */
  unsigned concurrency;   /* threads, 1..256 */
  size_t capacity;        /* most jobs waiting; 0: 10000 */
  unsigned max_attempts;  /* runs per job before it is discarded; 0: 1 (no retry) */
  pmx_bus_t *bus;         /* required; the instance's bus (pmx_bus(p)); must outlive the pool */
} pmx_pool_opts_t;

/* Starts the threads and emits jobs.queue.init. Returns PMX_OK, PMX_EINVAL (NULL or out of range
 * option; *out is NULL), PMX_ENOMEM, PMX_ESYS (a thread could not start; nothing is left
 * running). */
PMX_EXTERN int pmx_pool_new(const pmx_pool_opts_t *opts, pmx_pool_t **out);

/* Queues one job. `worker` names the kind of job (the worker label; copied). Returns PMX_OK,
 * PMX_EINVAL (NULL pool, worker or fn), PMX_ELIMIT (capacity reached: not queued),
 * PMX_ESTATE (the pool is being destroyed), PMX_ENOMEM. */
PMX_EXTERN int pmx_pool_submit(pmx_pool_t *pool, const char *worker, pmx_pool_job_fn fn,
                               void *arg);

/* Waits until no job is waiting or running, at most timeout_ms. PMX_OK, PMX_ETIMEDOUT,
 * PMX_EINVAL. */
PMX_EXTERN int pmx_pool_wait_idle(pmx_pool_t *pool, unsigned timeout_ms);

/* Adds this pool's lengths (states available, retryable, executing) to a jobs-plugin poll; call
 * it from your pmx_jobs_opts_t.queue_lengths callback (once per pool). Returns as
 * pmx_jobs_lengths_set. pmx_pool_queue_lengths is a ready callback for one pool (ctx = pool). */
PMX_EXTERN int pmx_pool_report_lengths(pmx_pool_t *pool, pmx_jobs_lengths_t *out);
PMX_EXTERN int pmx_pool_queue_lengths(pmx_jobs_lengths_t *out, void *pool);

/* Stops the threads after the jobs now running return; jobs still waiting are dropped without
 * running (their count is returned through *dropped when not NULL). NULL is a no-op. */
PMX_EXTERN void pmx_pool_destroy(pmx_pool_t *pool, size_t *dropped);

#ifdef __cplusplus
}
#endif
#endif
