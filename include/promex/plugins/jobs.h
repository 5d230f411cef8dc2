/* The `jobs` plugin: PromEx.Plugins.Oban (and Broadway's pipeline metrics) for C work queues.
 *
 * Any work queue can report through this contract: it emits the events below on the instance's
 * bus (pmx_bus(p)), with the pmx_jobs_emit_* helpers or by hand, and the plugin turns them into
 * Oban's metric set in base units. A ready thread-pool work queue that does so is in
 * promex/jobs_pool.h; a PostgreSQL jobs table adapter is in promex/jobs_pg.h (library
 * promex_jobs_pg).
 *
 * ---- Event contract (names are fixed; times are nanoseconds, the native unit) ----------------
 *   jobs.queue.init          measurements limit                    metadata queue
 *       a queue was set up with `limit` concurrent jobs (Oban's init_queue_concurrency_limit).
 *   jobs.job.start           measurements system_time              metadata queue, worker, attempt
 *   jobs.job.stop            measurements duration, queue_time     metadata queue, worker, state,
 *                                                                           attempt
 *       state is the job's state after the run: "success", "cancelled", "snoozed", "discard"
 *       (Oban's values). queue_time = start of the run - time the job became runnable.
 *   jobs.job.exception       measurements duration, queue_time     metadata queue, worker, state,
 *                                                                           attempt, kind, error
 *       state "failure" (will be retried) or "discard" (attempts exhausted); kind is a small
 *       fixed word ("error", "exit", "timeout"), error a class of error (never a message with ids:
 *       it becomes a label).
 *   jobs.producer.stop       measurements duration, dispatched     metadata queue
 *   jobs.producer.exception  measurements duration                 metadata queue
 *       one fetch of runnable jobs by a queue's producer (Oban's producer events).
 *   jobs.batch.message.stop       measurements duration  metadata pipeline, processor
 *   jobs.batch.message.exception  measurements duration  metadata pipeline, processor, kind
 *   jobs.batch.stop               measurements duration, successful, failed
 *                                                        metadata pipeline, batcher
 *       Broadway's processor and batch processor events for message pipelines.
 * `attempt` is an integer (PMX_META_I) starting at 1; everything else is a string.
 * Optional on every event: metadata `trace_id` (a tracing library's id); every duration and queue
 * time histogram keeps it as the OpenMetrics exemplar of the bucket the value fell into, so the
 * dashboard's latency panels link to the trace (docs/metrics.md, "Exemplars").
 *
 * ---- Options ([plugin.jobs] in the INI file) ---------------------------------------------------
 *   queues         comma list of queue names to zero-fill (default: none; queues reported by the
 *                  callback are added as they appear and zero-filled from then on).
 *   states         comma list of states to zero-fill (default Oban's: available, scheduled,
 *                  executing, retryable, completed, discarded, cancelled).
 *   metric_prefix  default "<app>_prom_ex_jobs" (dashboard assign jobs_metric_prefix).
 *   poll_rate      ms between queue-length polls (default 5000); poll_timeout as for any plugin.
 * user_data: an optional pmx_jobs_opts_t with the queue-length callback; without it the
 * polling group publishes nothing (the event metrics still work).
 *
 * ---- Metrics (P = <app>_prom_ex_jobs; duration buckets in s 0.001 0.01 0.05 0.1 0.5 1 5 20) ----
 *   P_init_queue_concurrency_limit{queue}          gauge   jobs.queue.init limit
 *       group jobs_init_event_metrics. Oban: oban_init_queue_concurrency_limit{name,queue}.
 *   P_job_processing_duration_seconds{queue,state,worker}      histogram, jobs.job.stop duration
 *       Oban: oban_job_processing_duration_milliseconds.
 *   P_job_queue_time_seconds{queue,state,worker}               histogram, jobs.job.stop queue_time
 *       (buckets 0.001 0.01 0.1 0.5 1 5 20 60 300 1800 s, as the exception queue time below)
 *       Oban: oban_job_queue_time_milliseconds.
 *   P_job_complete_attempts{queue,state,worker}     histogram 1 5 10, jobs.job.stop attempt
 *       Oban: oban_job_complete_attempts.
 *   P_job_exception_duration_seconds{queue,state,worker,kind,error}   histogram, exception
 *       duration. Oban: oban_job_exception_duration_milliseconds.
 *   P_job_exception_queue_time_seconds{queue,state,worker,kind,error} histogram. Oban: same name
 *       in ms.
 *   P_job_exception_attempts{queue,state,worker}    histogram 1 5 10. Oban: same name.
 *     (group jobs_job_event_metrics for the six above)
 *   P_producer_duration_seconds{queue}             histogram. Oban: oban_producer_duration_ms.
 *   P_producer_dispatched_jobs{queue}              histogram 5 10 50 100 (jobs per fetch).
 *       Oban: oban_producer_dispatched_count (renamed: a _count suffix reads as a histogram's).
 *   P_producer_exception_duration_seconds{queue}   histogram. Oban: same name in ms.
 *     (group jobs_producer_event_metrics)
 *   P_batch_message_duration_seconds{pipeline,processor}            histogram. Broadway:
 *       broadway_process_message_duration_milliseconds{name,processor_key}.
 *   P_batch_message_exception_duration_seconds{pipeline,processor,kind}  histogram. Broadway:
 *       process_message_exception_duration_milliseconds (reason dropped: unbounded).
 *   P_batch_duration_seconds{pipeline,batcher}     histogram. Broadway: process_batch_duration.
 *   P_batch_success_size{pipeline,batcher}, P_batch_failure_size{pipeline,batcher}
 *       histograms 1 5 10 20 50 100 of messages per batch. Broadway: process_batch_{success,
 *       failure}_size.  (group jobs_batch_event_metrics)
 *   P_queue_length{queue,state}                    gauge, group jobs_queue_polling_metrics: what
 *       the callback reported at the last poll, 0 for every known (queue, state) it did not
 *       report. Oban: oban_queue_length_count, which kept stale values for emptied states.
 * Not carried over (docs/plugins.md gives the reason row by row): Oban's `name` label (one jobs
 * plugin per promex instance; queues are told apart by `queue`), init_status_info,
 * init_shutdown_grace_period and init_dispatch_cooldown (settings of an Oban instance that a C
 * queue does not have), the circuit breaker counters (Oban internals), and Broadway's init_*
 * topology gauges (its `name` label becomes `pipeline`).
 *
 * Threading: the pmx_jobs_emit_* helpers may be called from any thread; the queue-length
 * callback runs on a promex poller thread, never twice at once. */
#ifndef PROMEX_PLUGINS_JOBS_H
#define PROMEX_PLUGINS_JOBS_H

#include <stddef.h>
#include <stdint.h>

#include "promex/event.h"
#include "promex/export.h"
#include "promex/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The plugin table. Name "jobs". */
PMX_EXTERN extern const pmx_plugin_t pmx_plugin_jobs;

/* What a queue-length callback fills: one call of pmx_jobs_lengths_set per (queue, state) it
 * knows. Owned by the plugin; valid only during the callback. */
typedef struct pmx_jobs_lengths pmx_jobs_lengths_t;

/* Sets the length of (queue, state) for this poll (a repeated pair adds up). A queue or state
 * not seen before is added (strings copied) and zero-filled in every later poll, with every
 * state of every queue. Returns PMX_OK, PMX_EINVAL (NULL or empty name, NaN or negative length),
 * PMX_ELIMIT (more than PMX_JOBS_MAX_QUEUES queues or PMX_JOBS_MAX_STATES states: the value is
 * dropped), PMX_ENOMEM. */
#define PMX_JOBS_MAX_QUEUES 128
#define PMX_JOBS_MAX_STATES 16
PMX_EXTERN int pmx_jobs_lengths_set(pmx_jobs_lengths_t *out, const char *queue, const char *state,
                                    double length);

/* user_data of the jobs plugin. `queue_lengths` runs once per poll on a poller thread and returns
 * PMX_OK or an error code (then nothing is published for that poll: the previous values stay and
 * the failure is counted in poll_errors_total). The struct is borrowed: it must outlive the
 * running instance. */
typedef struct pmx_jobs_opts {
  int (*queue_lengths)(pmx_jobs_lengths_t *out, void *ctx);
  void *ctx;
} pmx_jobs_opts_t;

/* ---- Emitting the contract -------------------------------------------------------------------
 * Resolved event handles for one bus; fill once with pmx_jobs_events_init (takes the bus mutex)
 * and share between threads (read-only). */
typedef struct pmx_jobs_events {
  pmx_event_t *queue_init, *job_start, *job_stop, *job_exception, *producer_stop,
      *producer_exception, *batch_message_stop, *batch_message_exception, *batch_stop;
} pmx_jobs_events_t;

/* Returns PMX_OK, PMX_EINVAL (NULL argument), PMX_ENOMEM. */
PMX_EXTERN int pmx_jobs_events_init(pmx_bus_t *bus, pmx_jobs_events_t *ev);

/* A job as the events describe it. Strings are borrowed for the call. */
typedef struct pmx_job_info {
  const char *queue;
  const char *worker;   /* what kind of job: a function or class name, never an id */
  int64_t attempt;      /* 1 for the first run */
  const char *state;    /* stop: "success" etc.; exception: "failure" or "discard" */
} pmx_job_info_t;

/* Each returns the number of handlers run (>= 0) or PMX_EINVAL (NULL ev/job/queue/worker). */
PMX_EXTERN int pmx_jobs_emit_queue_init(const pmx_jobs_events_t *ev, const char *queue,
                                        double limit);
PMX_EXTERN int pmx_jobs_emit_start(const pmx_jobs_events_t *ev, const pmx_job_info_t *job);
PMX_EXTERN int pmx_jobs_emit_stop(const pmx_jobs_events_t *ev, const pmx_job_info_t *job,
                                  uint64_t duration_ns, uint64_t queue_time_ns);
PMX_EXTERN int pmx_jobs_emit_exception(const pmx_jobs_events_t *ev, const pmx_job_info_t *job,
                                       uint64_t duration_ns, uint64_t queue_time_ns,
                                       const char *kind, const char *error);
/* failed: the fetch failed (jobs.producer.exception; dispatched is ignored). */
PMX_EXTERN int pmx_jobs_emit_producer(const pmx_jobs_events_t *ev, const char *queue,
                                      uint64_t duration_ns, double dispatched, int failed);
/* kind NULL: the message was processed (stop); else it failed (exception). */
PMX_EXTERN int pmx_jobs_emit_batch_message(const pmx_jobs_events_t *ev, const char *pipeline,
                                           const char *processor, uint64_t duration_ns,
                                           const char *kind);
PMX_EXTERN int pmx_jobs_emit_batch(const pmx_jobs_events_t *ev, const char *pipeline,
                                   const char *batcher, uint64_t duration_ns, double successful,
                                   double failed);

#ifdef __cplusplus
}
#endif
#endif
