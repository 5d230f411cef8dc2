/* The instrumented thread-pool work queue (include/promex/jobs_pool.h). One mutex guards a FIFO
 * list of pending jobs and the counters; events are emitted outside the lock so a slow handler
 * never holds up submitters. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "promex/jobs_pool.h"

typedef struct pool_job {
  struct pool_job *next;
  pmx_pool_job_fn fn;
  void *arg;
  uint64_t runnable_ns; /* when it was queued (or re-queued for a retry) */
  unsigned attempt;     /* runs so far */
  char worker[];
} pool_job_t;

struct pmx_pool {
  pthread_mutex_t mu;
  pthread_cond_t work;  /* a job was queued, or stopping */
  pthread_cond_t idle;  /* a job finished */
  pool_job_t *head, *tail;
  size_t pending, retryable, executing, capacity;
  unsigned max_attempts, n_threads;
  bool stopping;
  pmx_jobs_events_t ev;
  pthread_t threads[256];
  char queue[];
};

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void push(pmx_pool_t *p, pool_job_t *j) {
  j->next = NULL;
  if (p->tail) p->tail->next = j;
  else p->head = j;
  p->tail = j;
  p->pending++;
  if (j->attempt > 0) p->retryable++;
}

static void run_one(pmx_pool_t *p, pool_job_t *j) {
  j->attempt++;
  uint64_t start = now_ns();
  uint64_t waited = start - j->runnable_ns;
  pmx_job_info_t info = {p->queue, j->worker, j->attempt, NULL};
  pmx_jobs_emit_start(&p->ev, &info);
  int rc = j->fn(j->arg);
  uint64_t took = now_ns() - start;
  bool retry = rc != 0 && j->attempt < p->max_attempts;
  if (rc == 0) {
    info.state = "success";
    pmx_jobs_emit_stop(&p->ev, &info, took, waited);
  } else {
    info.state = retry ? "failure" : "discard";
    pmx_jobs_emit_exception(&p->ev, &info, took, waited, "error", "job_failed");
  }
  pthread_mutex_lock(&p->mu);
  p->executing--;
  if (retry) {
    j->runnable_ns = now_ns();
    push(p, j);
    pthread_cond_signal(&p->work);
  }
  pthread_cond_broadcast(&p->idle);
  pthread_mutex_unlock(&p->mu);
  if (!retry) pmx__free(j);
}

static void *pool_thread(void *arg) {
  pmx_pool_t *p = arg;
  pthread_mutex_lock(&p->mu);
  for (;;) {
    while (p->head == NULL && !p->stopping) pthread_cond_wait(&p->work, &p->mu);
    if (p->stopping) break;
    uint64_t t0 = now_ns();
    pool_job_t *j = p->head;
    p->head = j->next;
    if (p->head == NULL) p->tail = NULL;
    p->pending--;
    if (j->attempt > 0) p->retryable--;
    p->executing++;
    pthread_mutex_unlock(&p->mu);
    /* The producer event: one fetch that dispatched one job (its cost is the dequeue). */
    pmx_jobs_emit_producer(&p->ev, p->queue, now_ns() - t0, 1, 0);
    run_one(p, j);
    pthread_mutex_lock(&p->mu);
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

static void stop_threads(pmx_pool_t *p, unsigned n) {
  pthread_mutex_lock(&p->mu);
  p->stopping = true;
  pthread_cond_broadcast(&p->work);
  pthread_mutex_unlock(&p->mu);
  for (unsigned i = 0; i < n; i++) pthread_join(p->threads[i], NULL);
}

int pmx_pool_new(const pmx_pool_opts_t *o, pmx_pool_t **out) {
  if (out != NULL) *out = NULL;
  if (o == NULL || out == NULL || o->queue == NULL || o->queue[0] == '\0' || o->bus == NULL ||
      o->concurrency < 1 || o->concurrency > 256)
    return PMX_EINVAL;
  size_t qlen = strlen(o->queue);
  pmx_pool_t *p = pmx__calloc(1, sizeof *p + qlen + 1);
  if (p == NULL) return PMX_ENOMEM;
  memcpy(p->queue, o->queue, qlen + 1);
  p->capacity = o->capacity ? o->capacity : 10000;
  p->max_attempts = o->max_attempts ? o->max_attempts : 1;
  int rc = pmx_jobs_events_init(o->bus, &p->ev);
  if (rc != PMX_OK) {
    pmx__free(p);
    return rc;
  }
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->work, NULL);
  pthread_cond_init(&p->idle, NULL);
  for (; p->n_threads < o->concurrency; p->n_threads++) {
    if (pthread_create(&p->threads[p->n_threads], NULL, pool_thread, p) != 0) {
      stop_threads(p, p->n_threads);
      pthread_cond_destroy(&p->idle);
      pthread_cond_destroy(&p->work);
      pthread_mutex_destroy(&p->mu);
      pmx__free(p);
      return PMX_ESYS;
    }
  }
  pmx_jobs_emit_queue_init(&p->ev, p->queue, o->concurrency);
  *out = p;
  return PMX_OK;
}

int pmx_pool_submit(pmx_pool_t *p, const char *worker, pmx_pool_job_fn fn, void *arg) {
  if (p == NULL || worker == NULL || fn == NULL) return PMX_EINVAL;
  size_t wlen = strlen(worker);
  pool_job_t *j = pmx__malloc(sizeof *j + wlen + 1);
  if (j == NULL) return PMX_ENOMEM;
  j->fn = fn;
  j->arg = arg;
  j->attempt = 0;
  memcpy(j->worker, worker, wlen + 1);
  pthread_mutex_lock(&p->mu);
  int rc = p->stopping ? PMX_ESTATE : p->pending >= p->capacity ? PMX_ELIMIT : PMX_OK;
  if (rc == PMX_OK) {
    j->runnable_ns = now_ns();
    push(p, j);
    pthread_cond_signal(&p->work);
  }
  pthread_mutex_unlock(&p->mu);
  if (rc != PMX_OK) pmx__free(j);
  return rc;
}

int pmx_pool_wait_idle(pmx_pool_t *p, unsigned timeout_ms) {
  if (p == NULL) return PMX_EINVAL;
  struct timespec dl;
  clock_gettime(CLOCK_REALTIME, &dl);
  dl.tv_sec += timeout_ms / 1000;
  dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
  if (dl.tv_nsec >= 1000000000L) {
    dl.tv_sec++;
    dl.tv_nsec -= 1000000000L;
  }
  int rc = PMX_OK;
  pthread_mutex_lock(&p->mu);
  while (p->pending + p->executing > 0) {
    if (pthread_cond_timedwait(&p->idle, &p->mu, &dl) == ETIMEDOUT) {
      rc = p->pending + p->executing > 0 ? PMX_ETIMEDOUT : PMX_OK;
      break;
    }
  }
  pthread_mutex_unlock(&p->mu);
  return rc;
}

int pmx_pool_report_lengths(pmx_pool_t *p, pmx_jobs_lengths_t *out) {
  if (p == NULL || out == NULL) return PMX_EINVAL;
  pthread_mutex_lock(&p->mu);
  size_t available = p->pending - p->retryable, retryable = p->retryable, executing = p->executing;
  pthread_mutex_unlock(&p->mu);
  int rc = pmx_jobs_lengths_set(out, p->queue, "available", (double)available);
  if (rc == PMX_OK) rc = pmx_jobs_lengths_set(out, p->queue, "retryable", (double)retryable);
  if (rc == PMX_OK) rc = pmx_jobs_lengths_set(out, p->queue, "executing", (double)executing);
  return rc;
}

int pmx_pool_queue_lengths(pmx_jobs_lengths_t *out, void *pool) {
  return pmx_pool_report_lengths(pool, out);
}

void pmx_pool_destroy(pmx_pool_t *p, size_t *dropped) {
  if (dropped != NULL) *dropped = 0;
  if (p == NULL) return;
  stop_threads(p, p->n_threads);
  size_t n = 0;
  for (pool_job_t *j = p->head, *next; j != NULL; j = next) {
    next = j->next;
    pmx__free(j);
    n++;
  }
  if (dropped != NULL) *dropped = n;
  pthread_cond_destroy(&p->idle);
  pthread_cond_destroy(&p->work);
  pthread_mutex_destroy(&p->mu);
  pmx__free(p);
}
