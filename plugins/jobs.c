/* The jobs plugin (see include/promex/plugins/jobs.h for the contract and the metric list).
 *
 * Four event groups turn the contract's events into Oban's and Broadway's metric set; one polling
 * group asks the user's callback for queue lengths and publishes a full queues x states matrix,
 * zero-filled, so an emptied state reads 0 instead of keeping its last value. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "plugin_common.h"
#include "promex/plugins/jobs.h"

#define EV_LENGTH "promex.plugin.jobs.queue_length"

static const char *const k_allowed[] = {"queues", "states"};
static const char *const k_default_states[] = {"available", "scheduled", "executing", "retryable",
                                               "completed", "discarded", "cancelled"};

/* The known queues and states and this poll's value of each pair: vals[q][s]. */
struct pmx_jobs_lengths {
  char *queues[PMX_JOBS_MAX_QUEUES];
  size_t nq;
  char *states[PMX_JOBS_MAX_STATES];
  size_t ns;
  double vals[PMX_JOBS_MAX_QUEUES][PMX_JOBS_MAX_STATES];
};

typedef struct length_ctx {
  pmx_jobs_lengths_t table;
  const pmx_jobs_opts_t *opts; /* borrowed user_data */
  pmx__evcache_t ev;
} length_ctx_t;

static void length_ctx_free(void *p) {
  length_ctx_t *c = p;
  if (c == NULL) return;
  for (size_t i = 0; i < c->table.nq; i++) pmx__free(c->table.queues[i]);
  for (size_t i = 0; i < c->table.ns; i++) pmx__free(c->table.states[i]);
  pmx__free(c);
}

/* Index of `name` in names[0..*n), appending it when absent. -1: list full (PMX_ELIMIT) or no
 * memory (*rc says which). */
static long find_or_add(char **names, size_t *n, size_t cap, const char *name, size_t len,
                        int *rc) {
  for (size_t i = 0; i < *n; i++)
    if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0) return (long)i;
  if (*n >= cap) {
    *rc = PMX_ELIMIT;
    return -1;
  }
  char *copy = pmx__malloc(len + 1);
  if (copy == NULL) {
    *rc = PMX_ENOMEM;
    return -1;
  }
  memcpy(copy, name, len);
  copy[len] = '\0';
  names[*n] = copy;
  return (long)(*n)++;
}

int pmx_jobs_lengths_set(pmx_jobs_lengths_t *t, const char *queue, const char *state,
                         double length) {
  if (t == NULL || queue == NULL || state == NULL || queue[0] == '\0' || state[0] == '\0' ||
      isnan(length) || length < 0)
    return PMX_EINVAL;
  int rc = PMX_OK;
  long q = find_or_add(t->queues, &t->nq, PMX_JOBS_MAX_QUEUES, queue, strlen(queue), &rc);
  if (q < 0) return rc;
  long s = find_or_add(t->states, &t->ns, PMX_JOBS_MAX_STATES, state, strlen(state), &rc);
  if (s < 0) return rc;
  t->vals[q][s] += length;
  return PMX_OK;
}

/* Adds every item of a comma list ("a, b") to names; refuses empty and repeated items. */
static int add_list(const pmx_plugin_ctx_t *ctx, const char *opt, const char *list, char **names,
                    size_t *n, size_t cap) {
  const char *p = list;
  for (;;) {
    while (*p == ' ' || *p == '\t') p++;
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t')) len--;
    if (len == 0)
      return pmx_plugin_fail(ctx, PMX_ECONFIG,
                             "plugin jobs: option %s has an empty item in \"%s\"", opt, list);
    for (size_t i = 0; i < *n; i++)
      if (strlen(names[i]) == len && memcmp(names[i], p, len) == 0)
        return pmx_plugin_fail(ctx, PMX_ECONFIG, "plugin jobs: option %s lists \"%.*s\" twice",
                               opt, (int)len, p);
    int rc = PMX_OK;
    if (find_or_add(names, n, cap, p, len, &rc) < 0)
      return rc == PMX_ELIMIT ? pmx_plugin_fail(ctx, PMX_ECONFIG,
                                                "plugin jobs: option %s has more than %zu items",
                                                opt, cap)
                              : rc;
    if (end == NULL) return PMX_OK;
    p = end + 1;
  }
}

static int length_measure(pmx_bus_t *bus, void *p) {
  length_ctx_t *c = p;
  pmx_event_t *ev = pmx__ev(&c->ev, bus, EV_LENGTH);
  if (ev == NULL) return PMX_ENOMEM;
  if (c->opts == NULL || c->opts->queue_lengths == NULL) return PMX_OK;
  pmx_jobs_lengths_t *t = &c->table;
  for (size_t q = 0; q < t->nq; q++)
    for (size_t s = 0; s < t->ns; s++) t->vals[q][s] = 0;
  int rc = c->opts->queue_lengths(t, c->opts->ctx);
  if (rc != PMX_OK) return rc;
  for (size_t q = 0; q < t->nq; q++)
    for (size_t s = 0; s < t->ns; s++) {
      const pmx_measurement_t m[] = {PMX_M("length", t->vals[q][s])};
      const pmx_meta_t md[] = {PMX_META_S("queue", t->queues[q]),
                               PMX_META_S("state", t->states[s])};
      pmx_emit(ev, m, 1, md, 2);
    }
  return PMX_OK;
}

/* Parses the options into a fresh table (also used by the event callback, to refuse bad options
 * even when no callback is given). */
static int parse_opts(const pmx_plugin_ctx_t *ctx, length_ctx_t **out) {
  *out = NULL;
  int rc = pmx_plugin_check_opts(ctx, k_allowed, sizeof k_allowed / sizeof k_allowed[0]);
  if (rc != PMX_OK) return rc;
  length_ctx_t *c = pmx__calloc(1, sizeof *c);
  if (c == NULL) return PMX_ENOMEM;
  const char *queues = pmx_plugin_opt(ctx, "queues");
  const char *states = pmx_plugin_opt(ctx, "states");
  if (queues != NULL)
    rc = add_list(ctx, "queues", queues, c->table.queues, &c->table.nq, PMX_JOBS_MAX_QUEUES);
  if (rc == PMX_OK && states != NULL)
    rc = add_list(ctx, "states", states, c->table.states, &c->table.ns, PMX_JOBS_MAX_STATES);
  for (size_t i = 0; rc == PMX_OK && states == NULL && i < 7; i++) {
    const char *s = k_default_states[i];
    if (find_or_add(c->table.states, &c->table.ns, PMX_JOBS_MAX_STATES, s, strlen(s), &rc) < 0)
      break;
  }
  if (rc != PMX_OK) {
    length_ctx_free(c);
    return rc;
  }
  *out = c;
  return PMX_OK;
}

static int jobs_polling(const pmx_plugin_ctx_t *ctx, pmx_groups_t *out) {
  length_ctx_t *c = NULL;
  int rc = parse_opts(ctx, &c);
  if (rc != PMX_OK) return rc;
  /* Without a callback the group is still defined (so dashboards lint and describe the same
   * metric set) but publishes nothing: zeros for queues nobody measured would be a lie. */
  c->opts = ctx->user_data;
  static const char *const tags[] = {"queue", "state"};
  const pmx_metric_def_t m[] = {
      {.kind = PMX_LAST_VALUE, .name = "queue.length", .event_name = EV_LENGTH,
       .measurement = "length", .tags = tags, .n_tags = 2,
       .description = "Jobs in each queue and state at the last poll (0 for a known queue and "
                      "state with none)."},
  };
  return pmx_groups_add_polling(out, "jobs_queue_polling_metrics", 0, length_measure, c,
                                length_ctx_free, m, 1);
}

static const double k_duration_s[] = {0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 20};
/* Queue time reaches minutes when a queue falls behind: the range goes on to 30 min. */
static const double k_queue_time_s[] = {0.001, 0.01, 0.1, 0.5, 1, 5, 20, 60, 300, 1800};
static const double k_attempts[] = {1, 5, 10};
static const double k_dispatched[] = {5, 10, 50, 100};
static const double k_batch_size[] = {1, 5, 10, 20, 50, 100};
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A histogram of a nanosecond measurement, in seconds. */
#define DURATION(nm, ev, meas, tg, desc)                                                     \
  {.kind = PMX_DISTRIBUTION, .name = (nm), .event_name = (ev), .measurement = (meas),        \
   .tags = (tg), .n_tags = N(tg), .unit_from = PMX_UNIT_NATIVE, .unit_to = PMX_UNIT_SECOND,  \
   .buckets = k_duration_s, .n_buckets = N(k_duration_s), .description = (desc),            \
   .exemplar_key = "trace_id"} /* an event's trace_id: the exemplar of its bucket */
/* The attempt is metadata (it labels the job), so the attempts histograms read it with a
 * measure callback, as Oban's metric reads job.attempt from the event's metadata. */
static bool attempt_of(const pmx_event_data_t *ev, double *value, void *ctx) {
  (void)ctx;
  for (size_t i = 0; i < ev->n_metadata; i++) {
    const pmx_meta_t *m = &ev->metadata[i];
    if (strcmp(m->key, "attempt") != 0) continue;
    if (m->type == PMX_META_INT) *value = (double)m->v.i;
    else if (m->type == PMX_META_DOUBLE) *value = m->v.d;
    else return false;
    return true;
  }
  return false;
}
#define ATTEMPTS(nm, ev, tg, desc)                                                           \
  {.kind = PMX_DISTRIBUTION, .name = (nm), .event_name = (ev), .measure = attempt_of,        \
   .tags = (tg), .n_tags = N(tg), .buckets = k_attempts, .n_buckets = N(k_attempts),         \
   .description = (desc)}
#define QUEUE_TIME(nm, ev, tg, desc)                                                         \
  {.kind = PMX_DISTRIBUTION, .name = (nm), .event_name = (ev), .measurement = "queue_time",  \
   .tags = (tg), .n_tags = N(tg), .unit_from = PMX_UNIT_NATIVE, .unit_to = PMX_UNIT_SECOND,  \
   .buckets = k_queue_time_s, .n_buckets = N(k_queue_time_s), .description = (desc),        \
   .exemplar_key = "trace_id"}
#define COUNT_HIST(nm, ev, meas, tg, b, desc)                                                \
  {.kind = PMX_DISTRIBUTION, .name = (nm), .event_name = (ev), .measurement = (meas),        \
   .tags = (tg), .n_tags = N(tg), .buckets = (b), .n_buckets = N(b), .description = (desc)}

static int jobs_events(const pmx_plugin_ctx_t *ctx, pmx_groups_t *out) {
  length_ctx_t *check = NULL;
  int rc = parse_opts(ctx, &check); /* bad options fail start even without a callback */
  length_ctx_free(check);
  if (rc != PMX_OK) return rc;

  static const char *const queue[] = {"queue"};
  const pmx_metric_def_t init[] = {
      {.kind = PMX_LAST_VALUE, .name = "init.queue.concurrency.limit",
       .event_name = "jobs.queue.init", .measurement = "limit", .tags = queue, .n_tags = 1,
       .description = "How many jobs of the queue may run at once."},
  };
  static const char *const job[] = {"queue", "state", "worker"};
  static const char *const jobx[] = {"queue", "state", "worker", "kind", "error"};
  const pmx_metric_def_t jobs[] = {
      DURATION("job.processing.duration.seconds", "jobs.job.stop", "duration", job,
               "How long jobs ran, by the state they ended in."),
      QUEUE_TIME("job.queue_time.seconds", "jobs.job.stop", job,
               "How long jobs waited between becoming runnable and starting."),
      ATTEMPTS("job.complete.attempts", "jobs.job.stop", job,
               "The attempt on which jobs completed."),
      DURATION("job.exception.duration.seconds", "jobs.job.exception", "duration", jobx,
               "How long failed job runs took."),
      QUEUE_TIME("job.exception.queue_time.seconds", "jobs.job.exception", jobx,
               "How long failed jobs waited before the failed run."),
      ATTEMPTS("job.exception.attempts", "jobs.job.exception", job,
               "The attempt on which job runs failed."),
  };
  const pmx_metric_def_t producer[] = {
      DURATION("producer.duration.seconds", "jobs.producer.stop", "duration", queue,
               "How long a queue's producer took to fetch runnable jobs."),
      COUNT_HIST("producer.dispatched.jobs", "jobs.producer.stop", "dispatched", queue,
                 k_dispatched, "Jobs dispatched per producer fetch."),
      DURATION("producer.exception.duration.seconds", "jobs.producer.exception", "duration",
               queue, "How long failed producer fetches took."),
  };
  static const char *const proc[] = {"pipeline", "processor"};
  static const char *const procx[] = {"pipeline", "processor", "kind"};
  static const char *const batcher[] = {"pipeline", "batcher"};
  const pmx_metric_def_t batch[] = {
      DURATION("batch.message.duration.seconds", "jobs.batch.message.stop", "duration", proc,
               "How long pipeline processors took per message."),
      DURATION("batch.message.exception.duration.seconds", "jobs.batch.message.exception",
               "duration", procx, "How long pipeline processors took on messages that failed."),
      DURATION("batch.duration.seconds", "jobs.batch.stop", "duration", batcher,
               "How long batch processors took per batch."),
      COUNT_HIST("batch.success.size", "jobs.batch.stop", "successful", batcher, k_batch_size,
                 "Messages per batch that succeeded."),
      COUNT_HIST("batch.failure.size", "jobs.batch.stop", "failed", batcher, k_batch_size,
                 "Messages per batch that failed."),
  };
  if ((rc = pmx_groups_add_event(out, "jobs_init_event_metrics", init, N(init))) != PMX_OK ||
      (rc = pmx_groups_add_event(out, "jobs_job_event_metrics", jobs, N(jobs))) != PMX_OK ||
      (rc = pmx_groups_add_event(out, "jobs_producer_event_metrics", producer, N(producer))) !=
          PMX_OK)
    return rc;
  return pmx_groups_add_event(out, "jobs_batch_event_metrics", batch, N(batch));
}

const pmx_plugin_t pmx_plugin_jobs = {PMX_PLUGIN_ABI, "jobs", jobs_events, jobs_polling, NULL,
                                      {0}};
