/* The promex background thread: runs polling groups on their poll rate and the delayed first run
 * of manual groups, plus the failure/overrun accounting shared with pmx_refresh_manual_metrics().
 *
 * A deadline scheduler: each polling group has a next due time on CLOCK_MONOTONIC (first run at
 * start, then every period; a run that ends past its next deadline is rescheduled one period
 * after it ended instead of firing a burst to catch up). The thread sleeps in
 * pthread_cond_timedwait on a condition variable whose clock is CLOCK_MONOTONIC (so wall-clock
 * jumps neither delay nor hurry polls) and pmx_stop() signals it, so stopping never waits for a
 * poll period. Callbacks run without the mutex held. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "runtime/runtime_internal.h"

int pmx__rt_run_group(pmx_t *p, pmx__group_t *g, int64_t period_ns) {
  int64_t t0 = pmx_monotonic_ns();
  int rc = g->measure(p->bus, g->ctx);
  int64_t dt = pmx_monotonic_ns() - t0;
  if (rc != PMX_OK) {
    if (g->errors_series != NULL) pmx_series_inc(g->errors_series);
    if (!atomic_exchange(&g->failing, true))
      pmx_log(p, PMX_LOG_WARN,
              "group \"%s\" (plugin \"%s\"): measurement callback failed with %s; logged once "
              "until it succeeds again, counted in poll_errors_total",
              g->name, g->plugin, pmx_err_name(rc));
  } else if (atomic_exchange(&g->failing, false)) {
    pmx_log(p, PMX_LOG_INFO, "group \"%s\" (plugin \"%s\"): measurement callback succeeds again",
            g->name, g->plugin);
  }
  if (period_ns > 0) {
    if (dt > period_ns) {
      if (g->overruns_series != NULL) pmx_series_inc(g->overruns_series);
      if (!atomic_exchange(&g->overrunning, true))
        pmx_log(p, PMX_LOG_WARN,
                "group \"%s\" (plugin \"%s\"): measurement took %.3f s, longer than its poll "
                "rate of %u ms; logged once, counted in poll_overruns_total",
                g->name, g->plugin, (double)dt / 1e9, (unsigned)g->poll_rate_ms);
    } else {
      atomic_store(&g->overrunning, false);
    }
  }
  return rc;
}

int pmx__rt_run_manual(pmx_t *p) {
  int first = PMX_OK;
  for (size_t i = 0; i < p->groups->n; i++) {
    pmx__group_t *g = &p->groups->items[i];
    if (g->kind != PMX__GROUP_MANUAL || g->dropped) continue;
    int rc = pmx__rt_run_group(p, g, 0);
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

static void *thread_main(void *arg) {
  pmx_t *p = arg;
  pthread_mutex_lock(&p->mu);
  while (!p->stop_requested) {
    int64_t now = pmx_monotonic_ns();
    int64_t next = INT64_MAX;
    bool ran = false;
    if (p->manual_pending) {
      if (p->manual_due_ns <= now) {
        p->manual_pending = false;
        pthread_mutex_unlock(&p->mu);
        pmx__rt_run_manual(p);
        pthread_mutex_lock(&p->mu);
        ran = true;
      } else {
        next = p->manual_due_ns;
      }
    }
    for (size_t i = 0; i < p->groups->n && !p->stop_requested; i++) {
      pmx__group_t *g = &p->groups->items[i];
      if (g->kind != PMX__GROUP_POLLING || g->dropped) continue;
      if (g->next_due_ns <= now) {
        int64_t period = (int64_t)g->poll_rate_ms * 1000000;
        pthread_mutex_unlock(&p->mu);
        pmx__rt_run_group(p, g, period);
        int64_t after = pmx_monotonic_ns();
        g->next_due_ns += period;
        if (g->next_due_ns <= after) g->next_due_ns = after + period;
        pthread_mutex_lock(&p->mu);
        ran = true;
      }
      if (g->next_due_ns < next) next = g->next_due_ns;
    }
    if (ran || p->stop_requested) continue;
    if (next == INT64_MAX) {
      pthread_cond_wait(&p->cond, &p->mu);
    } else {
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

int pmx__rt_thread_start(pmx_t *p, pmx_error_t *err) {
  pthread_mutex_lock(&p->mu);
  p->stop_requested = false;
  pthread_mutex_unlock(&p->mu);
  int rc = pthread_create(&p->thread, NULL, thread_main, p);
  if (rc != 0)
    return pmx__fail(err, PMX_ESYS, "", "cannot start the promex thread: %s", strerror(rc));
  p->thread_started = true;
  return PMX_OK;
}

void pmx__rt_thread_stop(pmx_t *p) {
  if (!p->thread_started) return;
  pthread_mutex_lock(&p->mu);
  p->stop_requested = true;
  pthread_cond_broadcast(&p->cond);
  pthread_mutex_unlock(&p->mu);
  pthread_join(p->thread, NULL);
  p->thread_started = false;
}
