/* Emitting the jobs event contract (see include/promex/plugins/jobs.h): one resolved handle per
 * event, and helpers that build the measurement and metadata arrays on the stack, so an emit
 * allocates nothing and takes no lock. */
#include <time.h>

#include "promex/plugins/jobs.h"

int pmx_jobs_events_init(pmx_bus_t *bus, pmx_jobs_events_t *ev) {
  if (bus == NULL || ev == NULL) return PMX_EINVAL;
  struct {
    const char *name;
    pmx_event_t **slot;
  } const k[] = {
      {"jobs.queue.init", &ev->queue_init},
      {"jobs.job.start", &ev->job_start},
      {"jobs.job.stop", &ev->job_stop},
      {"jobs.job.exception", &ev->job_exception},
      {"jobs.producer.stop", &ev->producer_stop},
      {"jobs.producer.exception", &ev->producer_exception},
      {"jobs.batch.message.stop", &ev->batch_message_stop},
      {"jobs.batch.message.exception", &ev->batch_message_exception},
      {"jobs.batch.stop", &ev->batch_stop},
  };
  for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
    int rc = pmx_bus_event(bus, k[i].name, k[i].slot);
    if (rc != PMX_OK) return rc;
  }
  return PMX_OK;
}

static bool job_ok(const pmx_jobs_events_t *ev, const pmx_job_info_t *job) {
  return ev != NULL && job != NULL && job->queue != NULL && job->worker != NULL;
}

int pmx_jobs_emit_queue_init(const pmx_jobs_events_t *ev, const char *queue, double limit) {
  if (ev == NULL || queue == NULL) return PMX_EINVAL;
  const pmx_measurement_t m[] = {PMX_M("limit", limit)};
  const pmx_meta_t md[] = {PMX_META_S("queue", queue)};
  return pmx_emit(ev->queue_init, m, 1, md, 1);
}

int pmx_jobs_emit_start(const pmx_jobs_events_t *ev, const pmx_job_info_t *job) {
  if (!job_ok(ev, job)) return PMX_EINVAL;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  const pmx_measurement_t m[] = {
      PMX_M("system_time", (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec)};
  const pmx_meta_t md[] = {PMX_META_S("queue", job->queue), PMX_META_S("worker", job->worker),
                           PMX_META_I("attempt", job->attempt)};
  return pmx_emit(ev->job_start, m, 1, md, 3);
}

int pmx_jobs_emit_stop(const pmx_jobs_events_t *ev, const pmx_job_info_t *job,
                       uint64_t duration_ns, uint64_t queue_time_ns) {
  if (!job_ok(ev, job)) return PMX_EINVAL;
  const pmx_measurement_t m[] = {PMX_M("duration", duration_ns),
                                 PMX_M("queue_time", queue_time_ns)};
  const pmx_meta_t md[] = {PMX_META_S("queue", job->queue), PMX_META_S("worker", job->worker),
                           PMX_META_S("state", job->state ? job->state : "success"),
                           PMX_META_I("attempt", job->attempt)};
  return pmx_emit(ev->job_stop, m, 2, md, 4);
}

int pmx_jobs_emit_exception(const pmx_jobs_events_t *ev, const pmx_job_info_t *job,
                            uint64_t duration_ns, uint64_t queue_time_ns, const char *kind,
                            const char *error) {
  if (!job_ok(ev, job)) return PMX_EINVAL;
  const pmx_measurement_t m[] = {PMX_M("duration", duration_ns),
                                 PMX_M("queue_time", queue_time_ns)};
  const pmx_meta_t md[] = {PMX_META_S("queue", job->queue),
                           PMX_META_S("worker", job->worker),
                           PMX_META_S("state", job->state ? job->state : "failure"),
                           PMX_META_I("attempt", job->attempt),
                           PMX_META_S("kind", kind ? kind : "error"),
                           PMX_META_S("error", error ? error : "unknown")};
  return pmx_emit(ev->job_exception, m, 2, md, 6);
}

int pmx_jobs_emit_producer(const pmx_jobs_events_t *ev, const char *queue, uint64_t duration_ns,
                           double dispatched, int failed) {
  if (ev == NULL || queue == NULL) return PMX_EINVAL;
  const pmx_measurement_t m[] = {PMX_M("duration", duration_ns), PMX_M("dispatched", dispatched)};
  const pmx_meta_t md[] = {PMX_META_S("queue", queue)};
  if (failed) return pmx_emit(ev->producer_exception, m, 1, md, 1);
  return pmx_emit(ev->producer_stop, m, 2, md, 1);
}

int pmx_jobs_emit_batch_message(const pmx_jobs_events_t *ev, const char *pipeline,
                                const char *processor, uint64_t duration_ns, const char *kind) {
  if (ev == NULL || pipeline == NULL || processor == NULL) return PMX_EINVAL;
  const pmx_measurement_t m[] = {PMX_M("duration", duration_ns)};
  const pmx_meta_t md[] = {PMX_META_S("pipeline", pipeline), PMX_META_S("processor", processor),
                           PMX_META_S("kind", kind ? kind : "")};
  if (kind != NULL) return pmx_emit(ev->batch_message_exception, m, 1, md, 3);
  return pmx_emit(ev->batch_message_stop, m, 1, md, 2);
}

int pmx_jobs_emit_batch(const pmx_jobs_events_t *ev, const char *pipeline, const char *batcher,
                        uint64_t duration_ns, double successful, double failed) {
  if (ev == NULL || pipeline == NULL || batcher == NULL) return PMX_EINVAL;
  const pmx_measurement_t m[] = {PMX_M("duration", duration_ns), PMX_M("successful", successful),
                                 PMX_M("failed", failed)};
  const pmx_meta_t md[] = {PMX_META_S("pipeline", pipeline), PMX_META_S("batcher", batcher)};
  return pmx_emit(ev->batch_stop, m, 3, md, 2);
}
