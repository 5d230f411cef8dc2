/* remote_write throughput on one core: the work the sender thread does per round, from the
 * rendered exposition to the bytes on the wire (parse into sorted, pre-encoded label sets,
 * encode the prometheus.WriteRequest, snappy-compress), in samples per second.
 *
 * The input is an exposition of the peers' scrape_10k shape (10,000 counter series with three
 * labels, 1,000 histograms with 12 buckets: 10,000 + 1,000 x 15 = 25,000 samples per round).
 * Each repetition is checked: the sample count, and a snappy round trip to the encoded size.
 * A mismatch prints "VERIFY FAILED" to stderr and exits 1 without a result line.
 *
 *   bench_remote_write  ->  peer=promex workload=remote_write_encode threads=1 value=... unit=samples/s
 *                           peer=promex workload=remote_write_bytes_per_sample ... unit=bytes
 * BENCH_ROUNDS=n overrides the number of timed rounds (default 200). */
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "push/push_internal.h"

#define REPS 5
#define COUNTERS 10000
#define HISTOGRAMS 1000
#define BUCKETS 12

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(void) {
  long rounds = getenv("BENCH_ROUNDS") ? atol(getenv("BENCH_ROUNDS")) : 200;
  pmx_buf_t text = {0};
  size_t want = 0;
  pmx__buf_appendf(&text, "# TYPE app_requests_total counter\n");
  for (int i = 0; i < COUNTERS; i++, want++)
    pmx__buf_appendf(&text, "app_requests_total{method=\"m%d\",route=\"/r%d\",status=\"%d\"} %d\n",
                     i % 4, i / 20, 200 + i % 5, i * 7);
  pmx__buf_appendf(&text, "# TYPE app_latency_seconds histogram\n");
  for (int h = 0; h < HISTOGRAMS; h++) {
    for (int b = 0; b <= BUCKETS; b++, want++) {
      if (b < BUCKETS)
        pmx__buf_appendf(&text, "app_latency_seconds_bucket{route=\"/r%d\",le=\"%g\"} %d\n", h,
                         0.001 * (1 << b), h + b);
      else
        pmx__buf_appendf(&text, "app_latency_seconds_bucket{route=\"/r%d\",le=\"+Inf\"} %d\n", h,
                         h + b);
    }
    pmx__buf_appendf(&text, "app_latency_seconds_sum{route=\"/r%d\"} %d.5\n", h, h);
    pmx__buf_appendf(&text, "app_latency_seconds_count{route=\"/r%d\"} %d\n", h, h + BUCKETS);
    want += 2;
  }
  double rate[REPS];
  size_t zbytes = 0;
  for (int r = 0; r < REPS; r++) {
    double t0 = now_s();
    for (long i = 0; i < rounds; i++) {
      pmx__rw_batch_t b = {0};
      pmx_buf_t raw = {0}, z = {0};
      size_t skipped = 0;
      b.ts_ms = 1733011200000LL + i;
      int rc = pmx__rw_parse_text(text.data, text.len, &b, &skipped);
      if (rc == PMX_OK) rc = pmx__rw_encode(&b, 0, b.n, &raw);
      if (rc == PMX_OK) rc = pmx__rw_snappy(raw.data, raw.len, &z);
      size_t ulen = 0;
      if (rc != PMX_OK || b.n != want || skipped ||
          snappy_uncompressed_length(z.data, z.len, &ulen) != SNAPPY_OK || ulen != raw.len) {
        fprintf(stderr, "VERIFY FAILED: rc=%d samples=%zu want=%zu skipped=%zu\n", rc, b.n, want,
                skipped);
        return 1;
      }
      zbytes = z.len;
      pmx_buf_free(&raw);
      pmx_buf_free(&z);
      pmx__rw_batch_free(&b);
    }
    rate[r] = (double)want * (double)rounds / (now_s() - t0);
  }
  qsort(rate, REPS, sizeof rate[0], cmp);
  fprintf(stderr, "remote_write: %zu samples per round, %zu bytes compressed per round\n", want,
          zbytes);
  printf("peer=promex workload=remote_write_encode threads=1 value=%.0f unit=samples/s\n",
         rate[REPS / 2]);
  printf("peer=promex workload=remote_write_bytes_per_sample threads=1 value=%.2f unit=bytes\n",
         (double)zbytes / (double)want);
  pmx_buf_free(&text);
  return 0;
}
