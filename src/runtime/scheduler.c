/* The poller: runs polling groups on their own poll rates and the delayed first run of manual
 * groups, so that one slow or hung measurement callback delays no other group.
 *
 * Shape: one dispatcher thread and a small pool of worker threads.
 *  - The dispatcher keeps each polling group's next due time on CLOCK_MONOTONIC (first run at
 *    start, then every poll_rate, on a fixed grid) and sleeps in pthread_cond_timedwait on a
 *    CLOCK_MONOTONIC condition variable (wall-clock jumps neither delay nor hurry polls;
 *    pmx_stop() wakes it at once). When a group is due it queues it for the workers, unless the
 *    group's previous run is still queued or running: then that run is skipped and counted
 *    (poll_skips_total), so a slow group never piles up runs.
 *  - A run still going after the group's timeout (option poll_timeout, default its poll rate;
 *    the delayed first run of a manual group too) is counted once in poll_timeouts_total and
 *    logged once. The worker it occupies counts as lost:
 *    when work is queued and no worker is idle, the dispatcher starts another worker, up to one
 *    per runnable group (a group occupies at most one worker, so that bound is never short).
 *  - Workers take queued groups and run the callback without the lock; each run's duration goes
 *    into poll_duration_seconds.
 * The pool starts with min(2, runnable groups) workers: on a small machine a handful of sleeping
 * threads, however many groups and poll rates there are.
 *
 * Stopping: pmx_stop() wakes everything, joins the dispatcher and idle workers, and waits up to
 * PMX__RT_STOP_GRACE_MS for running callbacks. A callback still running then is abandoned: its
 * worker is detached and takes its group (ctx and ctx_free) out of the instance's set; when the
 * callback returns, the worker runs ctx_free and exits without touching anything else of the
 * stopped run. A callback that never returns keeps its thread and ctx forever. pmx_destroy()
 * with abandoned callbacks outstanding frees the instance (and the bus the callbacks were given)
 * only when the last of them returns.
 *
 * Locking: every field here, and the per-run slots a worker reads, are guarded by pmx_t.mu. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "runtime/runtime_internal.h"

typedef enum worker_state { W_IDLE = 0, W_CALLBACK, W_ACCOUNTING, W_EXITED } worker_state_t;

typedef struct worker {
  pthread_t thread;
  pmx_t *p;
  struct pmx__poller *pl; /* not p->poller: stop clears that before a new worker may run */
  worker_state_t state;
  size_t group;           /* valid in W_CALLBACK / W_ACCOUNTING */
  bool abandoned;         /* set by stop while in W_CALLBACK; the worker then owns `owned` */
  pmx__group_t owned;
} worker_t;

typedef struct slot {     /* one per group */
  bool runnable;          /* polling or manual, not dropped */
  bool busy;              /* queued or running */
  bool timed_out;         /* the current run passed its timeout (counted) */
  int64_t next_due_ns;    /* polling */
  int64_t started_ns;     /* when a worker took the current run; 0 while only queued */
} slot_t;

struct pmx__poller {
  bool stop;
  pthread_t dispatcher;
  pthread_cond_t work;    /* workers wait for queued runs */
  pthread_cond_t idle;    /* stop waits for workers to leave callbacks */
  slot_t *slots;
  size_t n_slots, n_runnable;
  size_t *queue;          /* ring of group indices; a group is in it at most once */
  size_t q_head, q_len;
  worker_t **workers;
  size_t n_workers, n_idle;
  int64_t manual_due_ns;  /* 0: no delayed manual run pending */
};

static void log_timeout(pmx_t *p, size_t i) {
  const pmx__group_t *g = &p->groups->items[i];
  pmx__rt_run_t *r = &p->runs[i];
  if (r->timeouts_series != NULL) pmx_series_inc(r->timeouts_series);
  if (!atomic_exchange(&r->timing_out, true))
    pmx_log(p, PMX_LOG_WARN,
            "group \"%s\" (plugin \"%s\"): measurement still running after its timeout of %u ms; "
            "its next runs are skipped until it returns; logged once, counted in "
            "poll_timeouts_total", g->name, g->plugin, (unsigned)g->poll_timeout_ms);
}

void pmx__rt_account(pmx_t *p, size_t i, int rc, int64_t dt) {
  const pmx__group_t *g = &p->groups->items[i];
  pmx__rt_run_t *r = &p->runs[i];
  if (r->duration_series != NULL) pmx_series_observe(r->duration_series, (double)dt / 1e9);
  if (rc != PMX_OK) {
    if (r->errors_series != NULL) pmx_series_inc(r->errors_series);
    if (!atomic_exchange(&r->failing, true))
      pmx_log(p, PMX_LOG_WARN,
              "group \"%s\" (plugin \"%s\"): measurement callback failed with %s; logged once "
              "until it succeeds again, counted in poll_errors_total",
              g->name, g->plugin, pmx_err_name(rc));
  } else if (atomic_exchange(&r->failing, false)) {
    pmx_log(p, PMX_LOG_INFO, "group \"%s\" (plugin \"%s\"): measurement callback succeeds again",
            g->name, g->plugin);
  }
  if (dt <= (int64_t)g->poll_timeout_ms * 1000000) atomic_store(&r->timing_out, false);
  if (g->kind != PMX__GROUP_POLLING) return;
  int64_t period = (int64_t)g->poll_rate_ms * 1000000;
  if (dt > period) {
    if (r->overruns_series != NULL) pmx_series_inc(r->overruns_series);
    if (!atomic_exchange(&r->overrunning, true))
      pmx_log(p, PMX_LOG_WARN,
              "group \"%s\" (plugin \"%s\"): measurement took %.3f s, longer than its poll "
              "rate of %u ms; logged once, counted in poll_overruns_total",
              g->name, g->plugin, (double)dt / 1e9, (unsigned)g->poll_rate_ms);
  } else {
    atomic_store(&r->overrunning, false);
  }
}

int pmx__rt_run_group(pmx_t *p, size_t i) {
  const pmx__group_t *g = &p->groups->items[i];
  int64_t t0 = pmx_monotonic_ns();
  int rc = g->measure(p->bus, g->ctx);
  pmx__rt_account(p, i, rc, pmx_monotonic_ns() - t0);
  return rc;
}

int pmx__rt_run_manual(pmx_t *p) {
  int first = PMX_OK;
  for (size_t i = 0; i < p->groups->n; i++) {
    const pmx__group_t *g = &p->groups->items[i];
    if (g->kind != PMX__GROUP_MANUAL || g->dropped) continue;
    int rc = pmx__rt_run_group(p, i);
    if (rc != PMX_OK && first == PMX_OK) first = rc;
  }
  return first;
}

static struct timespec to_timespec(int64_t ns) {
  struct timespec ts;
  ts.tv_sec = (time_t)(ns / 1000000000);
  ts.tv_nsec = (long)(ns % 1000000000);
  return ts;
}

static void enqueue(struct pmx__poller *pl, size_t i) {
  pl->queue[(pl->q_head + pl->q_len) % pl->n_slots] = i;
  pl->q_len++;
  pl->slots[i].busy = true;
  pl->slots[i].started_ns = 0;
  pl->slots[i].timed_out = false;
}

static void *worker_main(void *arg);

/* Starts one more worker (mu held). Returns PMX_OK, PMX_ENOMEM, or PMX_ESYS when the thread
 * cannot be created (so that pmx_start reports out of memory as PMX_ENOMEM, as everywhere). */
static int add_worker(pmx_t *p) {
  struct pmx__poller *pl = p->poller;
  worker_t *w = pmx__calloc(1, sizeof *w);
  if (w == NULL) return PMX_ENOMEM;
  w->p = p;
  w->pl = pl;
  w->state = W_IDLE;
  if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
    pmx__free(w);
    return PMX_ESYS;
  }
  pl->workers[pl->n_workers++] = w;
  return PMX_OK;
}

/* Worker: leaves p->mu held on return from the callback unless abandoned. */
static void abandoned_exit(worker_t *w) {
  pmx_t *p = w->p;
  pthread_mutex_unlock(&p->mu);
  pmx__group_free(&w->owned); /* ctx_free, on this thread */
  pthread_mutex_lock(&p->mu);
  p->n_hung--;
  bool last = p->destroy_pending && p->n_hung == 0;
  pthread_mutex_unlock(&p->mu);
  pmx__free(w);
  if (last) pmx__rt_free_instance(p);
}

static void *worker_main(void *arg) {
  worker_t *w = arg;
  pmx_t *p = w->p;
  struct pmx__poller *pl = w->pl;
  pthread_mutex_lock(&p->mu);
  for (;;) {
    while (!pl->stop && pl->q_len == 0) {
      pl->n_idle++;
      pthread_cond_wait(&pl->work, &p->mu);
      pl->n_idle--;
    }
    if (pl->stop) break;
    size_t i = pl->queue[pl->q_head];
    pl->q_head = (pl->q_head + 1) % pl->n_slots;
    pl->q_len--;
    const pmx__group_t *g = &p->groups->items[i];
    pmx_measure_cb measure = g->measure;
    void *ctx = g->ctx;
    pmx_bus_t *bus = p->bus;
    w->group = i;
    w->state = W_CALLBACK;
    int64_t t0 = pmx_monotonic_ns();
    pl->slots[i].started_ns = t0;
    pthread_cond_signal(&p->cond); /* the dispatcher now has a timeout to watch */
    pthread_mutex_unlock(&p->mu);

    int rc = measure(bus, ctx);
    int64_t dt = pmx_monotonic_ns() - t0;

    pthread_mutex_lock(&p->mu);
    if (w->abandoned) {
      abandoned_exit(w);
      return NULL;
    }
    w->state = W_ACCOUNTING;
    pthread_mutex_unlock(&p->mu);
    pmx__rt_account(p, i, rc, dt);
    pthread_mutex_lock(&p->mu);
    pl->slots[i].busy = false;
    w->state = W_IDLE;
    pthread_cond_broadcast(&pl->idle);
  }
  w->state = W_EXITED;
  pthread_cond_broadcast(&pl->idle);
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

/* One dispatcher pass (mu held): queues due groups, counts skips and timeouts; returns the time
 * of the next thing to do (INT64_MAX: nothing scheduled). */
static int64_t dispatch(pmx_t *p, int64_t now) {
  struct pmx__poller *pl = p->poller;
  int64_t next = INT64_MAX;
  if (pl->manual_due_ns > 0) {
    if (pl->manual_due_ns <= now) {
      pl->manual_due_ns = 0;
      for (size_t i = 0; i < pl->n_slots; i++)
        if (pl->slots[i].runnable && p->groups->items[i].kind == PMX__GROUP_MANUAL &&
            !pl->slots[i].busy)
          enqueue(pl, i);
    } else {
      next = pl->manual_due_ns;
    }
  }
  size_t lost = 0; /* workers held by runs past their timeout */
  for (size_t i = 0; i < pl->n_slots; i++) {
    slot_t *s = &pl->slots[i];
    const pmx__group_t *g = &p->groups->items[i];
    if (!s->runnable) continue;
    if (s->busy && s->started_ns > 0) { /* polling, or the delayed manual run */
      int64_t limit = s->started_ns + (int64_t)g->poll_timeout_ms * 1000000;
      if (!s->timed_out && limit <= now) {
        s->timed_out = true;
        log_timeout(p, i);
      }
      if (s->timed_out) lost++;
      else if (limit < next) next = limit;
    }
    if (g->kind != PMX__GROUP_POLLING) continue;
    int64_t period = (int64_t)g->poll_rate_ms * 1000000;
    if (s->next_due_ns <= now) {
      if (s->busy) {
        if (p->runs[i].skips_series != NULL) pmx_series_inc(p->runs[i].skips_series);
      } else {
        enqueue(pl, i);
      }
      s->next_due_ns += period;
      if (s->next_due_ns <= now) s->next_due_ns = now + period; /* no burst to catch up */
    }
    if (s->next_due_ns < next) next = s->next_due_ns;
  }
  /* Work waits and every worker is busy: when some are lost to timed-out runs, replace them
   * (bounded: each group holds at most one worker). */
  if (pl->q_len > pl->n_idle && lost > 0 && pl->n_workers < pl->n_runnable) {
    if (add_worker(p) != PMX_OK)
      pmx_log(p, PMX_LOG_WARN, "poller: cannot start another worker thread; queued groups wait");
  }
  if (pl->q_len > 0) pthread_cond_broadcast(&pl->work);
  return next;
}

static void *dispatcher_main(void *arg) {
  pmx_t *p = arg;
  pthread_mutex_lock(&p->mu);
  struct pmx__poller *pl = p->poller; /* set before this thread starts, cleared after its join */
  while (!pl->stop) {
    int64_t next = dispatch(p, pmx_monotonic_ns());
    if (pl->stop) break;
    if (next == INT64_MAX) {
      pthread_cond_wait(&p->cond, &p->mu);
    } else if (next > pmx_monotonic_ns()) {
      struct timespec ts = to_timespec(next);
      int rc;
      do {
        rc = pthread_cond_timedwait(&p->cond, &p->mu, &ts);
      } while (rc == EINTR);
    }
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

static void poller_free(struct pmx__poller *pl) {
  if (pl == NULL) return;
  pthread_cond_destroy(&pl->work);
  pthread_cond_destroy(&pl->idle);
  pmx__free(pl->slots);
  pmx__free(pl->queue);
  pmx__free(pl->workers);
  pmx__free(pl);
}

int pmx__rt_poller_start(pmx_t *p, int64_t manual_due_ns, pmx_error_t *err) {
  struct pmx__poller *pl = pmx__calloc(1, sizeof *pl);
  size_t n = p->groups->n;
  if (pl == NULL) return pmx__fail(err, PMX_ENOMEM, "", "out of memory");
  bool cv_ok = pthread_cond_init(&pl->work, NULL) == 0;
  if (cv_ok && pthread_cond_init(&pl->idle, NULL) != 0) {
    pthread_cond_destroy(&pl->work);
    cv_ok = false;
  }
  if (!cv_ok) {
    pmx__free(pl);
    return pmx__fail(err, PMX_ESYS, "", "cannot initialise the poller");
  }
  pl->n_slots = n;
  pl->slots = pmx__calloc(n > 0 ? n : 1, sizeof *pl->slots);
  pl->queue = pmx__calloc(n > 0 ? n : 1, sizeof *pl->queue);
  pl->workers = pmx__calloc(n > 0 ? n : 1, sizeof *pl->workers);
  if (pl->slots == NULL || pl->queue == NULL || pl->workers == NULL) {
    poller_free(pl);
    return pmx__fail(err, PMX_ENOMEM, "", "out of memory");
  }
  int64_t now = pmx_monotonic_ns();
  for (size_t i = 0; i < n; i++) {
    const pmx__group_t *g = &p->groups->items[i];
    pl->slots[i].runnable = !g->dropped && g->kind != PMX__GROUP_EVENT;
    pl->slots[i].next_due_ns = now; /* polling groups run once right away */
    if (pl->slots[i].runnable) pl->n_runnable++;
  }
  pl->manual_due_ns = manual_due_ns;

  pthread_mutex_lock(&p->mu);
  p->poller = pl;
  size_t want = pl->n_runnable < 2 ? pl->n_runnable : 2;
  int wrc = PMX_OK;
  for (size_t i = 0; i < want && wrc == PMX_OK; i++) wrc = add_worker(p);
  if (wrc == PMX_OK && pthread_create(&pl->dispatcher, NULL, dispatcher_main, p) != 0)
    wrc = PMX_ESYS;
  bool ok = wrc == PMX_OK;
  pthread_mutex_unlock(&p->mu);
  if (!ok) {
    pthread_mutex_lock(&p->mu);
    pl->stop = true;
    pthread_cond_broadcast(&pl->work);
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 0; i < pl->n_workers; i++) {
      pthread_join(pl->workers[i]->thread, NULL);
      pmx__free(pl->workers[i]);
    }
    pthread_mutex_lock(&p->mu);
    p->poller = NULL;
    pthread_mutex_unlock(&p->mu);
    poller_free(pl);
    if (wrc == PMX_ENOMEM) return pmx__fail(err, PMX_ENOMEM, "", "out of memory starting the poller");
    return pmx__fail(err, PMX_ESYS, "", "cannot start the poller threads");
  }
  return PMX_OK;
}

void pmx__rt_poller_stop(pmx_t *p) {
  struct pmx__poller *pl = p->poller;
  if (pl == NULL) return;
  pthread_mutex_lock(&p->mu);
  pl->stop = true;
  pthread_cond_broadcast(&p->cond);
  pthread_cond_broadcast(&pl->work);
  pthread_mutex_unlock(&p->mu);
  pthread_join(pl->dispatcher, NULL);

  /* Give running callbacks a moment, then abandon the ones still inside. */
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_nsec += (long)(PMX__RT_STOP_GRACE_MS % 1000) * 1000000;
  deadline.tv_sec += PMX__RT_STOP_GRACE_MS / 1000 + deadline.tv_nsec / 1000000000;
  deadline.tv_nsec %= 1000000000;
  pthread_mutex_lock(&p->mu);
  for (;;) {
    bool in_callback = false;
    for (size_t i = 0; i < pl->n_workers; i++) in_callback |= pl->workers[i]->state == W_CALLBACK;
    if (!in_callback) break;
    int rc = pthread_cond_timedwait(&pl->idle, &p->mu, &deadline);
    if (rc == ETIMEDOUT) break;
  }
  for (size_t i = 0; i < pl->n_workers; i++) {
    worker_t *w = pl->workers[i];
    if (w->state != W_CALLBACK) continue;
    w->abandoned = true;
    pmx__groups_take(p->groups, w->group, &w->owned);
    p->n_hung++;
    pmx_log(p, PMX_LOG_WARN,
            "group \"%s\" (plugin \"%s\"): measurement callback still running at stop; "
            "abandoned: its thread frees its context when it returns",
            w->owned.name, w->owned.plugin);
    /* Detached under the lock: the thread cannot free w (abandoned_exit) before we let go. */
    pthread_detach(w->thread);
    pl->workers[i] = NULL; /* w belongs to its thread now */
  }
  p->poller = NULL;
  pthread_mutex_unlock(&p->mu);
  for (size_t i = 0; i < pl->n_workers; i++) {
    if (pl->workers[i] == NULL) continue;
    pthread_join(pl->workers[i]->thread, NULL);
    pmx__free(pl->workers[i]);
  }
  poller_free(pl);
}
