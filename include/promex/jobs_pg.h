/* A PostgreSQL-backed job queue for the jobs plugin (library promex_jobs_pg, pkg-config
 * promex-jobs-pg; links libpq, so libpromex itself does not).
 *
 * Jobs live in one table with a queue and a state, as Oban's oban_jobs does:
 *   id bigserial, queue text, state text, worker text, args text, attempt int, max_attempts int,
 *   inserted_at/scheduled_at/attempted_at/completed_at timestamptz
 * with an index on (state, queue). States: available, executing, retryable (failed, will run
 * again), completed, discarded (failed on its last attempt).
 *
 * Queue lengths cost one query per poll: SELECT queue, state, count(*) ... WHERE state IN
 * ('available', 'executing', 'retryable') GROUP BY queue, state, which the (state, queue) index
 * answers by visiting only those rows (finished jobs, most of a busy table, are not read): 6 ms
 * on a 1M-row table with 4% live rows, against 86 ms to count every row (PostgreSQL 15, vacuumed,
 * 2-vCPU VM; see docs/plugins.md).
 * pmx_jobs_pg_count_finished(q, true) counts completed and discarded too (an index-only scan of
 * the whole index). Configure the plugin's `states` to match, so only counted states are zero-filled.
 * Feed them to the plugin with pmx_jobs_pg_queue_lengths as the callback:
 *
 *   pmx_jobs_pg_t *q;  char why[256];
 *   pmx_jobs_pg_open("host=127.0.0.1 dbname=app", NULL, &q, why, sizeof why);
 *   pmx_jobs_pg_create_schema(q);                         // once; idempotent
 *   pmx_jobs_opts_t jo = {pmx_jobs_pg_queue_lengths, q};
 *   pmx_plugin_use_t use = {&pmx_plugin_jobs, opts, n, &jo};  ... pmx_start ...
 *   pmx_jobs_pg_enqueue(q, "mailers", "send_email", "{\"to\":1}", 3);
 *   pmx_jobs_pg_run_one(q, &events, "mailers", handler, ctx);  // in your workers
 *
 * Threading: one handle holds one connection behind a mutex; every function may be called from
 * any thread (calls are serialised). Use one handle per worker thread for parallel work, and one
 * for polling. */
#ifndef PROMEX_JOBS_PG_H
#define PROMEX_JOBS_PG_H

#include <stdbool.h>
#include <stddef.h>

#include "promex/export.h"
#include "promex/plugins/jobs.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pmx_jobs_pg pmx_jobs_pg_t;

/* Connects with a libpq conninfo string. `table` is a plain identifier ([a-z_][a-z0-9_]*, at most
 * 63 bytes) or NULL for "promex_jobs". Returns PMX_OK, PMX_EINVAL (bad argument or table name),
 * PMX_EIO (connection failed; `why` holds libpq's message), PMX_ENOMEM. */
PMX_EXTERN int pmx_jobs_pg_open(const char *conninfo, const char *table, pmx_jobs_pg_t **out,
                                char *why, size_t why_cap);

/* Creates the table and its (queue, state) index if missing. PMX_OK or PMX_EIO. */
PMX_EXTERN int pmx_jobs_pg_create_schema(pmx_jobs_pg_t *q);

/* Inserts an available job. args may be NULL. max_attempts >= 1. PMX_OK, PMX_EINVAL, PMX_EIO. */
PMX_EXTERN int pmx_jobs_pg_enqueue(pmx_jobs_pg_t *q, const char *queue, const char *worker,
                                   const char *args, int max_attempts);

/* A job handler: returns 0 on success, non-zero on failure. `args` may be NULL. */
typedef int (*pmx_jobs_pg_handler)(const char *worker, const char *args, void *ctx);

/* Claims the oldest available or retryable job of `queue` (FOR UPDATE SKIP LOCKED, so several
 * workers never take the same job), runs it and records the outcome, emitting the contract on
 * `ev` (may be NULL: no events): producer, start, stop or exception (state "failure" while
 * attempts remain, then "discard"), with the queue time since the job was scheduled. Returns
 * 1 when a job ran, 0 when the queue had none, PMX_EINVAL, PMX_EIO. */
PMX_EXTERN int pmx_jobs_pg_run_one(pmx_jobs_pg_t *q, const pmx_jobs_events_t *ev,
                                   const char *queue, pmx_jobs_pg_handler fn, void *ctx);

/* The jobs plugin's queue-length callback (ctx = the handle): one GROUP BY query. Returns
 * PMX_OK, PMX_EIO (the query failed; the poll publishes nothing) or what pmx_jobs_lengths_set
 * returned. */
PMX_EXTERN int pmx_jobs_pg_queue_lengths(pmx_jobs_lengths_t *out, void *q);

/* Whether queue-length polls also count completed and discarded jobs (default false). */
PMX_EXTERN void pmx_jobs_pg_count_finished(pmx_jobs_pg_t *q, bool on);

/* Closes the connection. NULL is a no-op. */
PMX_EXTERN void pmx_jobs_pg_close(pmx_jobs_pg_t *q);

#ifdef __cplusplus
}
#endif
#endif
