/* The demo's batch pipeline: see demo_batch.h. One thread plays a Broadway pipeline "orders":
 * it takes 1-12 messages at a time (every tenth time 30, so the batch sizes spread over the
 * buckets), runs each through the processor "default" (about 1 ms; every 17th message raises:
 * jobs.batch.message.exception, and the message never reaches a batcher) and hands the rest as
 * one batch to the batcher "db" or "s3" in turn (2-9 ms; in every fifth batch one message fails,
 * as a rejected row would). Each step is timed for real and reported with the jobs plugin's
 * emit helpers. Failures start within the first few batches, so the failure panels fill at once;
 * a round every 40 ms keeps the CPU cost negligible. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "demo_batch.h"
#include "promex/plugins/jobs.h"

struct demo_batch {
  pmx_jobs_events_t ev;
  atomic_bool stop;
  pthread_t thread;
};

static void nap_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *pipeline(void *arg) {
  demo_batch_t *b = arg;
  static const char *const batchers[] = {"db", "s3"};
  unsigned long message = 0, batch = 0;
  while (!atomic_load(&b->stop)) {
    unsigned long taken = batch % 10 == 9 ? 30 : 1 + batch % 12, forwarded = 0;
    for (unsigned long i = 0; i < taken; i++, message++) {
      uint64_t t0 = now_ns();
      nap_ms(1);
      bool raises = message % 17 == 16;
      pmx_jobs_emit_batch_message(&b->ev, "orders", "default", now_ns() - t0,
                                  raises ? "error" : NULL);
      if (!raises) forwarded++;
    }
    if (forwarded > 0) { /* Broadway runs no batch for messages that all failed */
      uint64_t t0 = now_ns();
      nap_ms(2 + (long)(batch % 8));
      double failed = batch % 5 == 3 ? 1 : 0;
      pmx_jobs_emit_batch(&b->ev, "orders", batchers[batch % 2], now_ns() - t0,
                          (double)forwarded - failed, failed);
    }
    batch++;
    nap_ms(40);
  }
  return NULL;
}

demo_batch_t *demo_batch_start(pmx_t *p) {
  demo_batch_t *b = calloc(1, sizeof *b);
  if (b == NULL) {
    fprintf(stderr, "demo: no memory for the batch pipeline\n");
    return NULL;
  }
  int rc = pmx_jobs_events_init(pmx_bus(p), &b->ev);
  if (rc != PMX_OK) {
    fprintf(stderr, "demo: batch pipeline events: %s\n", pmx_err_name(rc));
    free(b);
    return NULL;
  }
  atomic_init(&b->stop, false);
  if (pthread_create(&b->thread, NULL, pipeline, b) != 0) {
    fprintf(stderr, "demo: cannot start the batch pipeline thread\n");
    free(b);
    return NULL;
  }
  return b;
}

void demo_batch_stop(demo_batch_t *b) {
  if (b == NULL) return;
  atomic_store(&b->stop, true);
  pthread_join(b->thread, NULL);
  free(b);
}
