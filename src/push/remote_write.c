/* The remote_write sender: one thread that takes a round of samples every interval, keeps them
 * in a bounded in-memory queue of rounds (oldest samples dropped first when it is full), and
 * sends the oldest round as one WriteRequest, retrying 5xx/429/network failures with
 * exponential backoff and dropping rounds the receiver refuses with another 4xx.
 * One round per request keeps every series' samples in timestamp order across requests, which
 * the receivers need (an older sample after a newer one is rejected as out of order). */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "push/push_internal.h"

#define PMX__RW_DEFAULT_INTERVAL_MS 15000u
#define PMX__RW_DEFAULT_QUEUE 100000u
#define PMX__RW_MIN_BACKOFF_MS 50u
#define PMX__RW_DEFAULT_MAX_BACKOFF_MS 5000u

struct pmx_remote_writer {
  pmx__rw_render_fn render; /* the instance's exposition (runtime/push_glue.c) */
  void *render_ctx;
  char *url, *username, *password, *bearer_token;
  unsigned interval_ms, timeout_ms, max_backoff_ms;
  size_t queue_cap;
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool stopping, flush_now;
  pmx__rw_batch_t *head, *tail; /* guarded by mu */
  size_t queued;                /* samples in the queue, guarded by mu */
  pmx_remote_write_stats_t st;  /* guarded by mu */
  pmx__rw_reporter_t reporter;  /* report NULL: none */
  pmx_remote_write_stats_t reported; /* st as of the last report; the writer's thread only */
};

static int64_t now_ms(clockid_t clk) {
  struct timespec ts;
  clock_gettime(clk, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* On the writer's thread, without mu (only this thread changes the counters): reports what
 * changed since the last report. */
static void report(pmx_remote_writer_t *w, bool accepted) {
  if (w->reporter.report == NULL) return;
  pthread_mutex_lock(&w->mu);
  pmx_remote_write_stats_t now = w->st;
  size_t queued = w->queued;
  pthread_mutex_unlock(&w->mu);
  pmx_remote_write_stats_t *was = &w->reported;
  pmx_remote_write_stats_t inc = {
      .samples_taken = now.samples_taken - was->samples_taken,
      .samples_sent = now.samples_sent - was->samples_sent,
      .samples_dropped_queue = now.samples_dropped_queue - was->samples_dropped_queue,
      .samples_dropped_rejected = now.samples_dropped_rejected - was->samples_dropped_rejected,
      .samples_dropped_stopped = now.samples_dropped_stopped - was->samples_dropped_stopped,
      .requests_failed = now.requests_failed - was->requests_failed,
      .rounds = now.rounds - was->rounds,
      .last_status = now.last_status};
  *was = now;
  w->reporter.report(w->reporter.ctx, &inc, queued, accepted);
}

static void free_batch(pmx__rw_batch_t *b) {
  pmx__rw_batch_free(b);
  pmx__free(b);
}

/* Called with mu held: drops the oldest samples until `incoming` more fit. */
static void make_room(pmx_remote_writer_t *w, size_t incoming) {
  while (w->head && w->queued + incoming > w->queue_cap) {
    pmx__rw_batch_t *b = w->head;
    size_t excess = w->queued + incoming - w->queue_cap;
    size_t left = b->n - b->start;
    size_t drop = excess < left ? excess : left;
    b->start += drop;
    w->queued -= drop;
    w->st.samples_dropped_queue += drop;
    if (b->start == b->n) {
      w->head = b->next;
      if (!w->head) w->tail = NULL;
      free_batch(b);
    }
  }
}

static void take_round(pmx_remote_writer_t *w) {
  pmx_buf_t text = {0};
  pmx__rw_batch_t *b = pmx__calloc(1, sizeof *b);
  int rc = b ? w->render(w->render_ctx, &text) : PMX_ENOMEM;
  if (rc == PMX_OK) {
    b->ts_ms = now_ms(CLOCK_REALTIME);
    size_t skipped = 0;
    rc = pmx__rw_parse_text(text.data, text.len, b, &skipped);
  }
  pmx_buf_free(&text);
  pthread_mutex_lock(&w->mu);
  w->st.rounds++;
  if (b && rc == PMX_OK) w->st.samples_taken += b->n;
  if (rc != PMX_OK || b->n == 0) {
    pthread_mutex_unlock(&w->mu);
    if (b) free_batch(b);
    return;
  }
  if (b->n > w->queue_cap) { /* a round larger than the queue keeps its newest part */
    w->st.samples_dropped_queue += b->n - w->queue_cap;
    b->start = b->n - w->queue_cap;
  }
  make_room(w, b->n - b->start);
  if (w->tail) w->tail->next = b;
  else w->head = b;
  w->tail = b;
  w->queued += b->n - b->start;
  pthread_mutex_unlock(&w->mu);
  report(w, false);
}

typedef enum { SENT, RETRY, REJECTED, EMPTY } send_result_t;

/* Sends the oldest round. The round stays in the queue while the request runs with mu released:
 * only this thread takes rounds (take_round) and frees them, so the pointer stays valid; mu
 * guards the counters that pmx_remote_write_stats() reads from other threads. */
static send_result_t send_head(pmx_remote_writer_t *w) {
  pthread_mutex_lock(&w->mu);
  pmx__rw_batch_t *b = w->head;
  size_t from = b ? b->start : 0, to = b ? b->n : 0;
  pthread_mutex_unlock(&w->mu);
  if (!b) return EMPTY;
  pmx_buf_t raw = {0}, body = {0};
  long status = 0;
  int rc = pmx__rw_encode(b, from, to, &raw);
  if (rc == PMX_OK) rc = pmx__rw_snappy(raw.data, raw.len, &body);
  if (rc == PMX_OK) {
    static const char *const hdrs[] = {"Content-Encoding: snappy",
                                       "Content-Type: application/x-protobuf",
                                       "X-Prometheus-Remote-Write-Version: 0.1.0", NULL};
    pmx__push_req_t req = {.url = w->url, .method = "POST", .headers = hdrs,
                           .body = body.data, .len = body.len, .username = w->username,
                           .password = w->password, .bearer_token = w->bearer_token,
                           .timeout_ms = w->timeout_ms};
    rc = pmx__push_http(&req, &status, NULL);
  }
  pmx_buf_free(&raw);
  pmx_buf_free(&body);
  bool rejected = rc == PMX_EHTTP && status >= 400 && status < 500 && status != 429;
  send_result_t res = rc == PMX_OK ? SENT : rejected ? REJECTED : RETRY;
  pthread_mutex_lock(&w->mu);
  w->st.last_status = (int)status;
  if (res == RETRY) {
    w->st.requests_failed++;
  } else {
    size_t n = b->n - b->start; /* what is still counted as queued */
    if (res == SENT) w->st.samples_sent += n;
    else w->st.samples_dropped_rejected += n;
    w->queued -= n;
    w->head = b->next;
    if (!w->head) w->tail = NULL;
    free_batch(b);
  }
  pthread_mutex_unlock(&w->mu);
  report(w, res == SENT);
  return res;
}

static void *run(void *arg) {
  pmx_remote_writer_t *w = arg;
  int64_t next_round = now_ms(CLOCK_MONOTONIC) + w->interval_ms;
  int64_t next_send = 0;
  unsigned backoff = PMX__RW_MIN_BACKOFF_MS;
  take_round(w);
  for (;;) {
    int64_t now = now_ms(CLOCK_MONOTONIC);
    if (now >= next_send) {
      send_result_t r = send_head(w);
      if (r == RETRY) {
        next_send = now_ms(CLOCK_MONOTONIC) + backoff;
        backoff = backoff * 2 > w->max_backoff_ms ? w->max_backoff_ms : backoff * 2;
      } else {
        backoff = PMX__RW_MIN_BACKOFF_MS;
        if (r != EMPTY) continue; /* more rounds may be waiting */
        next_send = next_round;
      }
    }
    pthread_mutex_lock(&w->mu);
    bool round_now = w->flush_now;
    w->flush_now = false;
    now = now_ms(CLOCK_MONOTONIC);
    int64_t wake = next_round < next_send ? next_round : next_send;
    while (!w->stopping && !w->flush_now && !round_now && now < wake) {
      struct timespec ts;
      clock_gettime(CLOCK_MONOTONIC, &ts);
      int64_t left = wake - now;
      ts.tv_sec += left / 1000;
      ts.tv_nsec += (left % 1000) * 1000000;
      if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
      }
      pthread_cond_timedwait(&w->cv, &w->mu, &ts);
      now = now_ms(CLOCK_MONOTONIC);
    }
    bool stopping = w->stopping;
    round_now = round_now || w->flush_now;
    w->flush_now = false;
    pthread_mutex_unlock(&w->mu);
    if (stopping) break;
    if (round_now || now >= next_round) {
      take_round(w);
      if (!round_now) next_round += w->interval_ms;
      if (next_round <= now) next_round = now + w->interval_ms;
      if (next_send > now + (int64_t)backoff) next_send = now; /* a fresh round: try at once */
    }
  }
  /* Last round, one attempt per queued round, then whatever is left counts as dropped. */
  take_round(w);
  while (send_head(w) == SENT) {
  }
  pthread_mutex_lock(&w->mu);
  w->st.samples_dropped_stopped += w->queued;
  w->queued = 0; /* what was left is dropped: nothing waits any more */
  pthread_mutex_unlock(&w->mu);
  report(w, false);
  return NULL;
}

static void writer_free(pmx_remote_writer_t *w) {
  while (w->head) {
    pmx__rw_batch_t *n = w->head->next;
    free_batch(w->head);
    w->head = n;
  }
  pmx__free(w->url);
  pmx__free(w->username);
  pmx__free(w->password);
  pmx__free(w->bearer_token);
  if (w->reporter.free != NULL) w->reporter.free(w->reporter.ctx);
  pmx__free(w);
}

static bool dup_opt(char **dst, const char *src) {
  if (!src || !*src) return true;
  *dst = pmx__strdup(src);
  return *dst != NULL;
}

/* Frees a reporter's ctx when no writer took it. */
static int drop_reporter(const pmx__rw_reporter_t *r, int rc) {
  if (r != NULL && r->free != NULL) r->free(r->ctx);
  return rc;
}

int pmx__rw_start(const pmx_remote_write_config_t *cfg, pmx__rw_render_fn render, void *ctx,
                  const pmx__rw_reporter_t *reporter, pmx_remote_writer_t **out,
                  pmx_error_t *err) {
  if (!render || !cfg || !out)
    return drop_reporter(reporter, pmx__fail(err, PMX_EINVAL, "remote_write",
                                             "p, cfg and out must not be NULL"));
  *out = NULL;
  if (!cfg->url || (strncmp(cfg->url, "http://", 7) != 0 && strncmp(cfg->url, "https://", 8) != 0))
    return drop_reporter(reporter, pmx__fail(err, PMX_EINVAL, "remote_write",
                                             "url \"%s\" must start with http:// or https://",
                                             cfg->url ? cfg->url : ""));
  pmx_remote_writer_t *w = pmx__calloc(1, sizeof *w);
  if (!w) return drop_reporter(reporter, pmx__fail(err, PMX_ENOMEM, "remote_write", "out of memory"));
  w->render = render;
  w->render_ctx = ctx;
  if (reporter != NULL) w->reporter = *reporter; /* from here on writer_free frees its ctx */
  w->interval_ms = cfg->interval_ms ? cfg->interval_ms : PMX__RW_DEFAULT_INTERVAL_MS;
  w->queue_cap = cfg->queue_samples ? cfg->queue_samples : PMX__RW_DEFAULT_QUEUE;
  w->timeout_ms = cfg->timeout_ms;
  w->max_backoff_ms = cfg->max_backoff_ms ? cfg->max_backoff_ms : PMX__RW_DEFAULT_MAX_BACKOFF_MS;
  if (w->max_backoff_ms < PMX__RW_MIN_BACKOFF_MS) w->max_backoff_ms = PMX__RW_MIN_BACKOFF_MS;
  if (!dup_opt(&w->url, cfg->url) || !dup_opt(&w->username, cfg->username) ||
      !dup_opt(&w->password, cfg->password) || !dup_opt(&w->bearer_token, cfg->bearer_token)) {
    writer_free(w);
    return pmx__fail(err, PMX_ENOMEM, "remote_write", "out of memory");
  }
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&w->cv, &ca);
  pthread_condattr_destroy(&ca);
  pthread_mutex_init(&w->mu, NULL);
  int e = pthread_create(&w->thread, NULL, run, w);
  if (e != 0) {
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    writer_free(w);
    return pmx__fail(err, PMX_ESYS, "remote_write", "pthread_create: %s", strerror(e));
  }
  *out = w;
  return PMX_OK;
}

int pmx_remote_write_flush(pmx_remote_writer_t *w) {
  if (!w) return PMX_EINVAL;
  pthread_mutex_lock(&w->mu);
  w->flush_now = true;
  pthread_cond_signal(&w->cv);
  pthread_mutex_unlock(&w->mu);
  return PMX_OK;
}

int pmx_remote_write_stats(pmx_remote_writer_t *w, pmx_remote_write_stats_t *out) {
  if (!w || !out) return PMX_EINVAL;
  pthread_mutex_lock(&w->mu);
  *out = w->st;
  out->samples_queued = w->queued;
  pthread_mutex_unlock(&w->mu);
  return PMX_OK;
}

void pmx_remote_write_stop(pmx_remote_writer_t *w) {
  if (!w) return;
  pthread_mutex_lock(&w->mu);
  w->stopping = true;
  pthread_cond_signal(&w->cv);
  pthread_mutex_unlock(&w->mu);
  pthread_join(w->thread, NULL);
  pthread_cond_destroy(&w->cv);
  pthread_mutex_destroy(&w->mu);
  writer_free(w);
}
