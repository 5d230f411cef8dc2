/* Benchmark of the promex core engine on the peer workload contract
 * (../shared/bench/peers/README.md, relative to the repository root).
 *
 *   bench_promex timing   -> counter_inc, counter_labels, histogram_labels, scrape_10k
 *                            (then promex's own: exemplar_observe, histogram_labels with a trace
 *                            id on every observation, families defined with exemplar_key;
 *                            native_observe, histogram_labels on native-only families)
 *   bench_promex memory   -> memory_per_series (run it in a fresh process)
 *
 * Three "peers" live in this one binary:
 *   peer=promex         the direct metric API: pmx_metric_labels() + pmx_series_inc/observe;
 *   peer=promex-events  the telemetry path: metrics defined on events and attached to a bus,
 *                       fed by pmx_emit() with metadata built inside each op (workloads 1-3);
 *   peer=promex-inline  counter_inc only, through the opt-in pmx_series_inc_inline
 *                       (promex/inline.h), printed right after promex's counter_inc lines.
 * Result lines go to stdout in exactly the peers' format and order; everything else to stderr.
 *
 * Invariants that keep the numbers honest:
 *   - every op passes label value strings (from arrays built before timing) to the library;
 *     nothing derived from a previous op (series handle, hash, key) is reused;
 *   - after each workload the aggregates are checked against values computed here from the same
 *     op sequence (counts, bucket counts, sums, scrape line counts). A mismatch, or any non-OK
 *     status inside a timed loop, prints "VERIFY FAILED" to stderr, suppresses that result line
 *     and makes the process exit 1, so a broken path is never reported as a fast one.
 *
 * BENCH_DUMP=/path writes the first scrape_10k render to a file (like the peers).
 * BENCH_OPS=n overrides N (default 10,000,000) for quick or sanitizer runs; published numbers
 * must use the default. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "promex/event.h"
#include "promex/expo.h"
#include "promex/inline.h"
#include "promex/metric.h"

#define REPS 5             /* timed repetitions per (workload, threads); median reported */
#define SCRAPE_RENDERS 50  /* renders in scrape_10k; median reported */
#define N_VALUES 4096
#define N_BUCKETS 12
#define SCRAPE_COUNTERS 10000
#define SCRAPE_HISTOGRAMS 1000
#define MEM_SERIES 100000
#define LABELS_SERIES 20     /* 4 methods x 5 statuses */
#define HIST_SERIES 200      /* 4 methods x 10 routes x 5 statuses */

static const char *const METHODS[4] = {"GET", "POST", "PUT", "DELETE"};
static const char *const STATUSES[5] = {"200", "201", "400", "404", "500"};
static const char *const ROUTES[10] = {"/r0", "/r1", "/r2", "/r3", "/r4",
                                       "/r5", "/r6", "/r7", "/r8", "/r9"};
static double VALUES[N_VALUES];
static double BUCKETS[N_BUCKETS];

static long g_ops = 10000000; /* N: ops per timed repetition */
static const char *g_exemplar_key; /* define(): families with exemplars (exemplar_observe) */
static bool g_native;              /* define(): native-only distributions (native_observe) */
#define N_TRACE_IDS 1024
static char TRACE_IDS[N_TRACE_IDS][33]; /* 32 hex digits, as W3C trace ids */
static int g_failed;          /* set by any verification failure; exit status 1 */

/* ---- contract constants ------------------------------------------------------------------ */

static void init_constants(void) {
  uint64_t x = 42;
  for (int i = 0; i < N_VALUES; i++) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    VALUES[i] = (double)(x >> 11) * 0x1p-53 * 3000.0;
  }
  for (int i = 0; i < N_BUCKETS; i++) BUCKETS[i] = (double)(1u << i);
  for (int i = 0; i < N_TRACE_IDS; i++) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    snprintf(TRACE_IDS[i], sizeof TRACE_IDS[i], "%016llx%016llx", (unsigned long long)x,
             (unsigned long long)(x * 0x9E3779B97F4A7C15ULL));
  }
}

/* ---- reporting and failure --------------------------------------------------------------- */

static void report(const char *peer, const char *workload, int threads, double value,
                   const char *unit, int prec) {
  printf("peer=%s workload=%s threads=%d value=%.*f unit=%s\n", peer, workload, threads, prec,
         value, unit);
  fflush(stdout);
}

/* A verification failure: the workload's result is not printed and the exit status becomes 1. */
static bool verify_fail(const char *peer, const char *workload, int threads, const char *what) {
  fprintf(stderr, "bench_promex: VERIFY FAILED peer=%s workload=%s threads=%d: %s\n", peer,
          workload, threads, what);
  g_failed = 1;
  return false;
}

/* Setup failures (define, registry, bus) leave nothing meaningful to measure. */
static void die(const char *what, int rc, const pmx_error_t *err) {
  fprintf(stderr, "bench_promex: %s failed: %s (%s)%s%s\n", what, pmx_err_name(rc),
          pmx_strerror(rc), err && err->text[0] ? ": " : "", err && err->text[0] ? err->text : "");
  exit(2);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Median; the mean of the two middle values for an even count (as the peers). Sorts `v`. */
static double median(double *v, size_t n) {
  qsort(v, n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* ---- registry / family helpers ----------------------------------------------------------- */

static pmx_registry_t *new_registry(void) {
  pmx_registry_opts_t opts = {0};
  opts.no_own_metrics = true; /* only the contract's families appear in the exposition */
  pmx_registry_t *reg = NULL;
  int rc = pmx_registry_new(&opts, &reg);
  if (rc != PMX_OK) die("pmx_registry_new", rc, NULL);
  return reg;
}

/* Defines one family. `event` is always given explicitly: the direct-API families are never
 * attached, but an explicit event keeps undotted names independent of the default-event rule. */
static pmx_metric_t *define(pmx_registry_t *reg, pmx_metric_kind_t kind, const char *name,
                            const char *help, const char *event, const char *const *tags,
                            size_t n_tags, size_t max_series) {
  pmx_metric_def_t def = {0};
  def.exemplar_key = g_exemplar_key;
  def.kind = kind;
  def.name = name;
  def.description = help;
  def.event_name = event;
  def.measurement = "value";
  def.tags = tags;
  def.n_tags = n_tags;
  def.max_series = max_series;
  if (kind == PMX_DISTRIBUTION && g_native) {
    def.native = true;
    def.native_schema = 3; /* client_golang's usual factor 1.1 */
  } else if (kind == PMX_DISTRIBUTION) {
    def.buckets = BUCKETS;
    def.n_buckets = N_BUCKETS;
  }
  pmx_metric_t *m = NULL;
  pmx_error_t err = {0};
  int rc = pmx_metric_define(reg, &def, &m, &err);
  if (rc != PMX_OK) die(name, rc, &err);
  return m;
}

static pmx_series_t *series(pmx_metric_t *m, const char *const *values, size_t n) {
  pmx_series_t *s = NULL;
  int rc = pmx_metric_labels(m, values, n, &s);
  if (rc != PMX_OK) die("pmx_metric_labels (setup)", rc, NULL);
  return s;
}

static pmx_event_t *attach(pmx_metric_t *m, pmx_bus_t *bus, const char *event) {
  pmx_error_t err = {0};
  int rc = pmx_metric_attach(m, bus, &err);
  if (rc != PMX_OK) die("pmx_metric_attach", rc, &err);
  pmx_event_t *ev = NULL;
  rc = pmx_bus_event(bus, event, &ev);
  if (rc != PMX_OK) die("pmx_bus_event", rc, NULL);
  return ev;
}

/* ---- timing harness ---------------------------------------------------------------------- */

/* What a timed workload operates on. Fields unused by a workload stay NULL. */
typedef struct workload {
  void (*ops)(const struct workload *w, long lo, long hi, long *errors);
  pmx_series_t *series; /* counter_inc (direct): the handle obtained once before timing */
  pmx_metric_t *metric;
  pmx_event_t *event;
} workload_t;

typedef struct worker {
  const workload_t *w;
  long lo, hi;
  long errors;
  pthread_t tid;
} worker_t; /* lo/hi are read once and errors written once per thread: no false sharing to fear */

static void *worker_main(void *arg) {
  worker_t *k = arg;
  k->w->ops(k->w, k->lo, k->hi, &k->errors);
  return NULL;
}

/* One repetition: `threads` threads over [0, N) in contiguous slices; returns wall ns / N with
 * thread start and join inside the timed region. Non-OK statuses are added to *errors. */
static double time_ops(const workload_t *w, int threads, long *errors) {
  worker_t k[2];
  double t0 = now_ns();
  for (int t = 0; t < threads; t++) {
    k[t] = (worker_t){.w = w, .lo = g_ops * t / threads, .hi = g_ops * (t + 1) / threads};
    int rc = pthread_create(&k[t].tid, NULL, worker_main, &k[t]);
    if (rc != 0) {
      fprintf(stderr, "bench_promex: pthread_create: %s\n", strerror(rc));
      exit(2);
    }
  }
  for (int t = 0; t < threads; t++) pthread_join(k[t].tid, NULL);
  double dt = now_ns() - t0;
  for (int t = 0; t < threads; t++) *errors += k[t].errors;
  return dt / (double)g_ops;
}

/* REPS repetitions back to back on the same family; returns the median ns/op. */
static double bench(const workload_t *w, int threads, long *errors) {
  double r[REPS];
  for (int i = 0; i < REPS; i++) r[i] = time_ops(w, threads, errors);
  return median(r, REPS);
}

/* ---- per-op bodies ----------------------------------------------------------------------- */
/* Each body counts non-OK statuses in a local and stores the count once, so the check costs a
 * compare and an add, not a shared-memory write per op. */

static void ops_counter_inc(const workload_t *w, long lo, long hi, long *errors) {
  pmx_series_t *s = w->series;
  long bad = 0;
  for (long i = lo; i < hi; i++) bad += pmx_series_inc(s) != PMX_OK;
  *errors = bad;
}

/* counter_inc through the opt-in inline increment (promex/inline.h), reported as promex-inline. */
static void ops_counter_inc_inline(const workload_t *w, long lo, long hi, long *errors) {
  pmx_series_t *s = w->series;
  long bad = 0;
  for (long i = lo; i < hi; i++) bad += pmx_series_inc_inline(s) != PMX_OK;
  *errors = bad;
}

static void ops_counter_labels(const workload_t *w, long lo, long hi, long *errors) {
  pmx_metric_t *m = w->metric;
  long bad = 0;
  for (long i = lo; i < hi; i++) {
    int c = (int)(i % LABELS_SERIES);
    const char *values[2] = {METHODS[c % 4], STATUSES[c / 4]};
    pmx_series_t *s;
    if (pmx_metric_labels(m, values, 2, &s) != PMX_OK || pmx_series_inc(s) != PMX_OK) bad++;
  }
  *errors = bad;
}

static void ops_histogram_labels(const workload_t *w, long lo, long hi, long *errors) {
  pmx_metric_t *m = w->metric;
  long bad = 0;
  for (long i = lo; i < hi; i++) {
    int c = (int)(i % HIST_SERIES);
    const char *values[3] = {METHODS[c % 4], ROUTES[(c / 4) % 10], STATUSES[c / 40]};
    pmx_series_t *s;
    if (pmx_metric_labels(m, values, 3, &s) != PMX_OK ||
        pmx_series_observe(s, VALUES[i % N_VALUES]) != PMX_OK)
      bad++;
  }
  *errors = bad;
}

/* histogram_labels with a trace id per observation (exemplar_observe). */
static void ops_exemplar_observe(const workload_t *w, long lo, long hi, long *errors) {
  pmx_metric_t *m = w->metric;
  long bad = 0;
  for (long i = lo; i < hi; i++) {
    int c = (int)(i % HIST_SERIES);
    const char *values[3] = {METHODS[c % 4], ROUTES[(c / 4) % 10], STATUSES[c / 40]};
    pmx_series_t *s;
    if (pmx_metric_labels(m, values, 3, &s) != PMX_OK ||
        pmx_series_observe_exemplar(s, VALUES[i % N_VALUES], TRACE_IDS[i % N_TRACE_IDS]) != PMX_OK)
      bad++;
  }
  *errors = bad;
}

/* Event bodies: pmx_emit() returns the number of handlers run; exactly one is attached. */
static void ops_event_counter_inc(const workload_t *w, long lo, long hi, long *errors) {
  const pmx_event_t *ev = w->event;
  long bad = 0;
  for (long i = lo; i < hi; i++) {
    pmx_measurement_t ms[] = {PMX_M("value", 1)};
    bad += pmx_emit(ev, ms, 1, NULL, 0) != 1;
  }
  *errors = bad;
}

static void ops_event_counter_labels(const workload_t *w, long lo, long hi, long *errors) {
  const pmx_event_t *ev = w->event;
  long bad = 0;
  for (long i = lo; i < hi; i++) {
    int c = (int)(i % LABELS_SERIES);
    pmx_meta_t md[] = {PMX_META_S("method", METHODS[c % 4]), PMX_META_S("status", STATUSES[c / 4])};
    pmx_measurement_t ms[] = {PMX_M("value", 1)};
    bad += pmx_emit(ev, ms, 1, md, 2) != 1;
  }
  *errors = bad;
}

static void ops_event_histogram_labels(const workload_t *w, long lo, long hi, long *errors) {
  const pmx_event_t *ev = w->event;
  long bad = 0;
  for (long i = lo; i < hi; i++) {
    int c = (int)(i % HIST_SERIES);
    pmx_meta_t md[] = {PMX_META_S("method", METHODS[c % 4]),
                       PMX_META_S("route", ROUTES[(c / 4) % 10]),
                       PMX_META_S("status", STATUSES[c / 40])};
    pmx_measurement_t ms[] = {PMX_M("value", VALUES[i % N_VALUES])};
    bad += pmx_emit(ev, ms, 1, md, 3) != 1;
  }
  *errors = bad;
}

/* ---- verification ------------------------------------------------------------------------ */

/* Number of i in [0, N) with i mod period == c. */
static long count_residue(long period, long c) {
  return c < g_ops ? (g_ops - c + period - 1) / period : 0;
}

static bool check_status(const char *peer, const char *wl, int threads, long errors) {
  if (errors == 0) return true;
  char msg[128];
  snprintf(msg, sizeof msg, "%ld ops returned a non-OK status", errors);
  return verify_fail(peer, wl, threads, msg);
}

static bool check_counter(const char *peer, const char *wl, int threads, pmx_series_t *s,
                          double expected) {
  double got = pmx_series_value(s);
  if (got == expected) return true;
  char msg[160];
  snprintf(msg, sizeof msg, "counter value %.17g, expected %.17g", got, expected);
  return verify_fail(peer, wl, threads, msg);
}

static bool verify_counter_inc(const char *peer, int threads, pmx_metric_t *m, long errors) {
  const char *wl = "counter_inc";
  if (!check_status(peer, wl, threads, errors)) return false;
  if (pmx_metric_series_count(m) != 1) return verify_fail(peer, wl, threads, "series count != 1");
  return check_counter(peer, wl, threads, series(m, NULL, 0), (double)REPS * (double)g_ops);
}

static bool verify_counter_labels(const char *peer, int threads, pmx_metric_t *m, long errors) {
  const char *wl = "counter_labels";
  if (!check_status(peer, wl, threads, errors)) return false;
  if (pmx_metric_series_count(m) != LABELS_SERIES)
    return verify_fail(peer, wl, threads, "series count != 20");
  for (int c = 0; c < LABELS_SERIES; c++) {
    const char *values[2] = {METHODS[c % 4], STATUSES[c / 4]};
    double expected = (double)REPS * (double)count_residue(LABELS_SERIES, c);
    if (!check_counter(peer, wl, threads, series(m, values, 2), expected)) return false;
  }
  return true;
}

/* Expected per-series histogram state after one repetition, computed from the op sequence. */
typedef struct hist_expect {
  uint64_t cumulative[N_BUCKETS + 1];
  uint64_t count;
  double sum;
} hist_expect_t;

static hist_expect_t g_hist_expect[HIST_SERIES];

static void compute_hist_expect(void) {
  uint64_t per_bucket[HIST_SERIES][N_BUCKETS + 1];
  memset(per_bucket, 0, sizeof per_bucket);
  memset(g_hist_expect, 0, sizeof g_hist_expect);
  for (long i = 0; i < g_ops; i++) {
    int c = (int)(i % HIST_SERIES);
    double v = VALUES[i % N_VALUES];
    int b = 0;
    while (b < N_BUCKETS && v > BUCKETS[b]) b++; /* le: v <= bound counts in the bucket */
    per_bucket[c][b]++;
    g_hist_expect[c].count++;
    g_hist_expect[c].sum += v;
  }
  for (int c = 0; c < HIST_SERIES; c++) {
    uint64_t acc = 0;
    for (int b = 0; b <= N_BUCKETS; b++) g_hist_expect[c].cumulative[b] = acc += per_bucket[c][b];
  }
}

static bool verify_histogram_labels(const char *peer, int threads, pmx_metric_t *m, long errors) {
  const char *wl = "histogram_labels";
  if (!check_status(peer, wl, threads, errors)) return false;
  if (pmx_metric_series_count(m) != HIST_SERIES)
    return verify_fail(peer, wl, threads, "series count != 200");
  for (int c = 0; c < HIST_SERIES; c++) {
    const char *values[3] = {METHODS[c % 4], ROUTES[(c / 4) % 10], STATUSES[c / 40]};
    uint64_t cum[N_BUCKETS + 1], count = 0;
    double sum = 0;
    int rc = pmx_series_histogram(series(m, values, 3), cum, N_BUCKETS + 1, &count, &sum);
    const hist_expect_t *e = &g_hist_expect[c];
    char msg[200];
    if (rc != PMX_OK) {
      snprintf(msg, sizeof msg, "series %d: pmx_series_histogram: %s", c, pmx_err_name(rc));
      return verify_fail(peer, wl, threads, msg);
    }
    if (count != REPS * e->count) {
      snprintf(msg, sizeof msg, "series %d: count %llu, expected %llu", c,
               (unsigned long long)count, (unsigned long long)(REPS * e->count));
      return verify_fail(peer, wl, threads, msg);
    }
    for (int b = 0; b <= N_BUCKETS; b++) {
      if (cum[b] != REPS * e->cumulative[b]) {
        snprintf(msg, sizeof msg, "series %d bucket %d: %llu, expected %llu", c, b,
                 (unsigned long long)cum[b], (unsigned long long)(REPS * e->cumulative[b]));
        return verify_fail(peer, wl, threads, msg);
      }
    }
    /* Summation order differs between threads and repetitions: compare with a tolerance far
     * below anything a lost or duplicated observation (>= 0 and < 3000 each) could hide in. */
    double want = REPS * e->sum;
    if (fabs(sum - want) > 1e-9 * want + 1e-6) {
      snprintf(msg, sizeof msg, "series %d: sum %.17g, expected %.17g", c, sum, want);
      return verify_fail(peer, wl, threads, msg);
    }
  }
  return true;
}

/* Native-only families: count and sum as histogram_labels expects, and the native snapshot's
 * buckets add up to the count (nothing lost in a bucket). */
static bool verify_native(const char *peer, int threads, pmx_metric_t *m, long errors) {
  const char *wl = "native_observe";
  if (!check_status(peer, wl, threads, errors)) return false;
  if (pmx_metric_series_count(m) != HIST_SERIES) return verify_fail(peer, wl, threads, "series count != 200");
  static uint64_t pos[PMX_NATIVE_MAX_BUCKETS], neg[PMX_NATIVE_MAX_BUCKETS];
  for (int c = 0; c < HIST_SERIES; c++) {
    const char *values[3] = {METHODS[c % 4], ROUTES[(c / 4) % 10], STATUSES[c / 40]};
    pmx_native_snapshot_t ns = {.positive = pos, .negative = neg, .cap = PMX_NATIVE_MAX_BUCKETS};
    int rc = pmx_series_native(series(m, values, 3), &ns);
    const hist_expect_t *e = &g_hist_expect[c];
    uint64_t total = ns.zero_count;
    for (size_t j = 0; j < ns.len[0]; j++) total += pos[j];
    for (size_t j = 0; j < ns.len[1]; j++) total += neg[j];
    char msg[200];
    double want = REPS * e->sum;
    if (rc != PMX_OK || ns.count != REPS * e->count || total != ns.count ||
        fabs(ns.sum - want) > 1e-9 * want + 1e-6) {
      snprintf(msg, sizeof msg, "series %d: rc %d, count %llu (buckets %llu), expected %llu; sum %.17g, expected %.17g",
               c, rc, (unsigned long long)ns.count, (unsigned long long)total,
               (unsigned long long)(REPS * e->count), ns.sum, want);
      return verify_fail(peer, wl, threads, msg);
    }
  }
  return true;
}

/* ---- workloads 1-3, direct API ----------------------------------------------------------- */

/* peer "promex": pmx_series_inc; "promex-inline": pmx_series_inc_inline, the same workload and
 * checks. */
typedef void (*ops_fn)(const workload_t *w, long lo, long hi, long *errors);

static void counter_inc_with(const char *peer, ops_fn ops, int threads) {
  pmx_registry_t *reg = new_registry();
  pmx_metric_t *m =
      define(reg, PMX_COUNTER, "bench_counter_total", "Counter.", "bench.counter", NULL, 0, 1);
  workload_t w = {.ops = ops, .series = series(m, NULL, 0)};
  long errors = 0;
  double ns = bench(&w, threads, &errors);
  if (verify_counter_inc(peer, threads, m, errors)) report(peer, "counter_inc", threads, ns, "ns/op", 2);
  pmx_registry_destroy(reg);
}

static void counter_inc(int threads) { counter_inc_with("promex", ops_counter_inc, threads); }
static void counter_inc_inline(int threads) {
  counter_inc_with("promex-inline", ops_counter_inc_inline, threads);
}

static const char *const LABELS_TAGS[2] = {"method", "status"};
static const char *const HIST_TAGS[3] = {"method", "route", "status"};

static void counter_labels(int threads) {
  pmx_registry_t *reg = new_registry();
  pmx_metric_t *m = define(reg, PMX_COUNTER, "bench_requests_total", "Requests.", "bench.request",
                           LABELS_TAGS, 2, LABELS_SERIES);
  for (int c = 0; c < LABELS_SERIES; c++) { /* pre-create all series (untimed, no increment) */
    const char *values[2] = {METHODS[c % 4], STATUSES[c / 4]};
    (void)series(m, values, 2);
  }
  workload_t w = {.ops = ops_counter_labels, .metric = m};
  long errors = 0;
  double ns = bench(&w, threads, &errors);
  if (verify_counter_labels("promex", threads, m, errors))
    report("promex", "counter_labels", threads, ns, "ns/op", 2);
  pmx_registry_destroy(reg);
}

static void precreate_hist(pmx_metric_t *m) {
  for (int c = 0; c < HIST_SERIES; c++) { /* pre-create all series (untimed, no observation) */
    const char *values[3] = {METHODS[c % 4], ROUTES[(c / 4) % 10], STATUSES[c / 40]};
    (void)series(m, values, 3);
  }
}

static void histogram_labels(int threads) {
  pmx_registry_t *reg = new_registry();
  pmx_metric_t *m = define(reg, PMX_DISTRIBUTION, "bench_request_duration", "Latency.",
                           "bench.request", HIST_TAGS, 3, HIST_SERIES);
  precreate_hist(m);
  workload_t w = {.ops = ops_histogram_labels, .metric = m};
  long errors = 0;
  double ns = bench(&w, threads, &errors);
  if (verify_histogram_labels("promex", threads, m, errors))
    report("promex", "histogram_labels", threads, ns, "ns/op", 2);
  pmx_registry_destroy(reg);
}

/* The same workload on a family with exemplars, each observation carrying a trace id: the cost of
 * exemplars is the difference to histogram_labels. */
static void exemplar_observe(int threads) {
  pmx_registry_t *reg = new_registry();
  g_exemplar_key = "trace_id";
  pmx_metric_t *m = define(reg, PMX_DISTRIBUTION, "bench_request_duration", "Latency.",
                           "bench.request", HIST_TAGS, 3, HIST_SERIES);
  g_exemplar_key = NULL;
  precreate_hist(m);
  workload_t w = {.ops = ops_exemplar_observe, .metric = m};
  long errors = 0;
  double ns = bench(&w, threads, &errors);
  if (verify_histogram_labels("promex", threads, m, errors))
    report("promex", "exemplar_observe", threads, ns, "ns/op", 2);
  pmx_registry_destroy(reg);
}

/* histogram_labels on a native-only family (schema 3, default bucket limit): what a native
 * observe costs next to a classic one. */
static void native_observe(int threads) {
  pmx_registry_t *reg = new_registry();
  g_native = true;
  pmx_metric_t *m = define(reg, PMX_DISTRIBUTION, "bench_request_duration", "Latency.",
                           "bench.request", HIST_TAGS, 3, HIST_SERIES);
  g_native = false;
  precreate_hist(m);
  workload_t w = {.ops = ops_histogram_labels, .metric = m};
  long errors = 0;
  double ns = bench(&w, threads, &errors);
  if (verify_native("promex", threads, m, errors)) report("promex", "native_observe", threads, ns, "ns/op", 2);
  pmx_registry_destroy(reg);
}

/* ---- workloads 1-3 through events -------------------------------------------------------- */

static pmx_bus_t *new_bus(void) {
  pmx_bus_t *bus = NULL;
  int rc = pmx_bus_new(&bus);
  if (rc != PMX_OK) die("pmx_bus_new", rc, NULL);
  return bus;
}

static bool check_skipped(const char *wl, int threads, pmx_metric_t *m) {
  if (pmx_metric_skipped_events(m) == 0) return true;
  return verify_fail("promex-events", wl, threads, "events were skipped");
}

static void event_counter_inc(int threads) {
  pmx_bus_t *bus = new_bus();
  pmx_registry_t *reg = new_registry();
  pmx_metric_t *m =
      define(reg, PMX_COUNTER, "bench_counter_total", "Counter.", "bench.counter", NULL, 0, 1);
  (void)series(m, NULL, 0);
  workload_t w = {.ops = ops_event_counter_inc, .event = attach(m, bus, "bench.counter")};
  long errors = 0;
  double ns = bench(&w, threads, &errors);
  if (check_skipped("counter_inc", threads, m) &&
      verify_counter_inc("promex-events", threads, m, errors))
    report("promex-events", "counter_inc", threads, ns, "ns/op", 2);
  pmx_registry_destroy(reg); /* detaches the metric before the bus goes away */
  pmx_bus_destroy(bus);
}

static void event_counter_labels(int threads) {
  pmx_bus_t *bus = new_bus();
  pmx_registry_t *reg = new_registry();
  pmx_metric_t *m = define(reg, PMX_COUNTER, "bench_requests_total", "Requests.", "bench.request",
                           LABELS_TAGS, 2, LABELS_SERIES);
  for (int c = 0; c < LABELS_SERIES; c++) {
    const char *values[2] = {METHODS[c % 4], STATUSES[c / 4]};
    (void)series(m, values, 2);
  }
  workload_t w = {.ops = ops_event_counter_labels, .event = attach(m, bus, "bench.request")};
  long errors = 0;
  double ns = bench(&w, threads, &errors);
  if (check_skipped("counter_labels", threads, m) &&
      verify_counter_labels("promex-events", threads, m, errors))
    report("promex-events", "counter_labels", threads, ns, "ns/op", 2);
  pmx_registry_destroy(reg);
  pmx_bus_destroy(bus);
}

static void event_histogram_labels(int threads) {
  pmx_bus_t *bus = new_bus();
  pmx_registry_t *reg = new_registry();
  pmx_metric_t *m = define(reg, PMX_DISTRIBUTION, "bench_request_duration", "Latency.",
                           "bench.request", HIST_TAGS, 3, HIST_SERIES);
  precreate_hist(m);
  workload_t w = {.ops = ops_event_histogram_labels, .event = attach(m, bus, "bench.request")};
  long errors = 0;
  double ns = bench(&w, threads, &errors);
  if (check_skipped("histogram_labels", threads, m) &&
      verify_histogram_labels("promex-events", threads, m, errors))
    report("promex-events", "histogram_labels", threads, ns, "ns/op", 2);
  pmx_registry_destroy(reg);
  pmx_bus_destroy(bus);
}

/* ---- workload 4: scrape_10k -------------------------------------------------------------- */

static size_t count_prefix_lines(const char *text, size_t len, const char *prefix) {
  size_t n = 0, plen = strlen(prefix);
  const char *p = text, *end = text + len;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t line = nl ? (size_t)(nl - p) : (size_t)(end - p);
    if (line >= plen && memcmp(p, prefix, plen) == 0) n++;
    p += line + 1;
  }
  return n;
}

/* The render holds exactly the contract's families: 10,000 counter samples, 1,000 histograms
 * of 13 buckets + _sum + _count, their HELP/TYPE lines, and nothing else. */
static bool verify_scrape(const pmx_buf_t *b) {
  struct {
    const char *prefix;
    size_t want;
  } expect[] = {
      {"# HELP bench_scrape_requests_total Scrape counter.", 1},
      {"# TYPE bench_scrape_requests_total counter", 1},
      {"# HELP bench_scrape_duration Scrape histogram.", 1},
      {"# TYPE bench_scrape_duration histogram", 1},
      {"bench_scrape_requests_total{", SCRAPE_COUNTERS},
      {"bench_scrape_duration_bucket{", SCRAPE_HISTOGRAMS * (N_BUCKETS + 1)},
      {"bench_scrape_duration_sum{", SCRAPE_HISTOGRAMS},
      {"bench_scrape_duration_count{", SCRAPE_HISTOGRAMS},
      {"bench_scrape_duration_bucket{id=\"999\",le=\"+Inf\"} 1", 1},
      {"bench_scrape_requests_total{id=\"9999\"} 1", 1},
  };
  size_t total = 0;
  for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
    size_t got = count_prefix_lines(b->data, b->len, expect[i].prefix);
    if (got != expect[i].want) {
      char msg[200];
      snprintf(msg, sizeof msg, "%zu lines starting \"%s\", expected %zu", got, expect[i].prefix,
               expect[i].want);
      return verify_fail("promex", "scrape_10k", 1, msg);
    }
    if (i < 8) total += got;
  }
  size_t lines = count_prefix_lines(b->data, b->len, "");
  if (lines != total) {
    char msg[160];
    snprintf(msg, sizeof msg, "%zu lines in the render, expected %zu (extra families?)", lines,
             total);
    return verify_fail("promex", "scrape_10k", 1, msg);
  }
  return true;
}

static void write_dump(const pmx_buf_t *b) {
  const char *path = getenv("BENCH_DUMP");
  if (!path || !*path) return;
  FILE *f = fopen(path, "w");
  if (!f || fwrite(b->data, 1, b->len, f) != b->len) {
    fprintf(stderr, "bench_promex: BENCH_DUMP %s: %s\n", path, strerror(errno));
  }
  if (f) fclose(f);
}

static void scrape_10k(void) {
  pmx_registry_t *reg = new_registry();
  static const char *const ID[1] = {"id"};
  pmx_metric_t *cf = define(reg, PMX_COUNTER, "bench_scrape_requests_total", "Scrape counter.",
                            "bench.scrape", ID, 1, SCRAPE_COUNTERS);
  pmx_metric_t *hf = define(reg, PMX_DISTRIBUTION, "bench_scrape_duration", "Scrape histogram.",
                            "bench.scrape", ID, 1, SCRAPE_HISTOGRAMS);
  char id[16];
  const char *v[1] = {id};
  for (int i = 0; i < SCRAPE_COUNTERS; i++) {
    snprintf(id, sizeof id, "%d", i);
    if (pmx_series_inc(series(cf, v, 1)) != PMX_OK) die("pmx_series_inc (setup)", -1, NULL);
  }
  for (int i = 0; i < SCRAPE_HISTOGRAMS; i++) {
    snprintf(id, sizeof id, "%d", i);
    if (pmx_series_observe(series(hf, v, 1), VALUES[i % N_VALUES]) != PMX_OK)
      die("pmx_series_observe (setup)", -1, NULL);
  }

  double ms[SCRAPE_RENDERS];
  size_t bytes = 0;
  bool ok = true;
  for (int r = 0; r < SCRAPE_RENDERS; r++) {
    pmx_buf_t buf = {0};
    double t0 = now_ns();
    int rc = pmx_render(reg, PMX_FORMAT_TEXT, &buf);
    ms[r] = (now_ns() - t0) / 1e6;
    if (rc != PMX_OK) {
      char msg[96];
      snprintf(msg, sizeof msg, "pmx_render returned %s", pmx_err_name(rc));
      ok = verify_fail("promex", "scrape_10k", 1, msg);
      pmx_buf_free(&buf);
      break;
    }
    if (r == 0) {
      write_dump(&buf);
      ok = verify_scrape(&buf);
      bytes = buf.len;
    } else if (buf.len != bytes) {
      ok = verify_fail("promex", "scrape_10k", 1, "render length changed without updates");
    }
    pmx_buf_free(&buf);
    if (!ok) break;
  }
  if (ok) {
    report("promex", "scrape_10k", 1, median(ms, SCRAPE_RENDERS), "ms", 3);
    report("promex", "scrape_10k", 1, (double)bytes, "bytes", 0);
  }
  pmx_registry_destroy(reg);
}

/* ---- workload 5: memory_per_series ------------------------------------------------------- */

static long rss_bytes(void) {
  long size = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (!f || fscanf(f, "%ld %ld", &size, &resident) != 2) {
    fprintf(stderr, "bench_promex: cannot read /proc/self/statm\n");
    exit(2);
  }
  fclose(f);
  return resident * sysconf(_SC_PAGESIZE);
}

static void memory_per_series(void) {
  pmx_registry_t *reg = new_registry();
  static const char *const ID[1] = {"id"};
  pmx_metric_t *m =
      define(reg, PMX_COUNTER, "bench_mem_total", "Memory.", "bench.mem", ID, 1, MEM_SERIES);
  long before = rss_bytes();
  long errors = 0;
  for (int k = 0; k < MEM_SERIES; k++) {
    char id[16]; /* transient: the library must copy what it keeps */
    snprintf(id, sizeof id, "%d", k);
    const char *v[1] = {id};
    pmx_series_t *s;
    if (pmx_metric_labels(m, v, 1, &s) != PMX_OK || pmx_series_inc(s) != PMX_OK) errors++;
  }
  long after = rss_bytes(); /* the registry is still alive here */
  bool ok = check_status("promex", "memory_per_series", 1, errors);
  if (ok && pmx_metric_series_count(m) != MEM_SERIES)
    ok = verify_fail("promex", "memory_per_series", 1, "series count != 100000");
  if (ok) {
    const char *v[1] = {"99999"};
    ok = check_counter("promex", "memory_per_series", 1, series(m, v, 1), 1.0);
  }
  if (ok)
    report("promex", "memory_per_series", 1, (double)(after - before) / MEM_SERIES,
           "bytes/series", 1);
  pmx_registry_destroy(reg);
}

/* ---- main -------------------------------------------------------------------------------- */

int main(int argc, char **argv) {
  init_constants();
  const char *ops = getenv("BENCH_OPS");
  if (ops && *ops) {
    char *end;
    long n = strtol(ops, &end, 10);
    if (*end || n < HIST_SERIES) {
      fprintf(stderr, "bench_promex: BENCH_OPS must be an integer >= %d\n", HIST_SERIES);
      return 2;
    }
    g_ops = n;
  }
  const char *mode = argc > 1 ? argv[1] : "timing";
  if (strcmp(mode, "memory") == 0) {
    memory_per_series();
    return g_failed;
  }
  if (strcmp(mode, "timing") != 0) {
    fprintf(stderr, "usage: %s timing|memory\n", argv[0]);
    return 2;
  }
  compute_hist_expect();
  /* BENCH_ONLY=<name>: run just that group (e.g. event_counter_inc), for profiling one path. */
  const char *only = getenv("BENCH_ONLY");
#define RUN(name, call) \
  if (only == NULL || *only == '\0' || strcmp(only, #name) == 0) call
  RUN(counter_inc, for (int t = 1; t <= 2; t++) counter_inc(t));
  RUN(counter_inc_inline, for (int t = 1; t <= 2; t++) counter_inc_inline(t));
  RUN(counter_labels, for (int t = 1; t <= 2; t++) counter_labels(t));
  RUN(histogram_labels, for (int t = 1; t <= 2; t++) histogram_labels(t));
  RUN(scrape_10k, scrape_10k());
  RUN(event_counter_inc, for (int t = 1; t <= 2; t++) event_counter_inc(t));
  RUN(event_counter_labels, for (int t = 1; t <= 2; t++) event_counter_labels(t));
  RUN(event_histogram_labels, for (int t = 1; t <= 2; t++) event_histogram_labels(t));
  RUN(exemplar_observe, for (int t = 1; t <= 2; t++) exemplar_observe(t));
  RUN(native_observe, for (int t = 1; t <= 2; t++) native_observe(t));
#undef RUN
  return g_failed;
}
