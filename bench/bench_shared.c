/* The multi-process store (include/promex/shared.h) against the in-process store, on the update
 * workloads of bench_promex (counter_inc, counter_labels, histogram_labels) run by 4 workers at
 * once, and on scrape_10k (10,000 counters and 1,000 histograms rendered).
 *
 *   peer=promex         4 threads of one process on an ordinary registry;
 *   peer=promex-shared  4 forked processes on a registry in multi-process mode, its series
 *                       created before fork (as bench_promex pre-creates them).
 * Each run is N ops in total (BENCH_OPS, default 10,000,000), split in 4 contiguous slices; wall
 * time from the first worker's start to the last one's end (thread creation or fork included),
 * REPS repetitions, median reported in bench_promex's result-line format. After each workload the
 * totals are checked (every increment and observation of every worker counted: REPS * N), so a
 * lost update is never reported as a fast one: "VERIFY FAILED" and exit status 1.
 * On a machine with fewer than 4 cores both peers share them; compare the ratio within a run. */
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "promex/expo.h"
#include "promex/metric.h"
#include "promex/shared.h"

#define WORKERS 4
#define REPS 5
#define SCRAPE_RENDERS 30
#define N_VALUES 4096
#define N_BUCKETS 12
#define LABELS_SERIES 20 /* 4 methods x 5 statuses */
#define HIST_SERIES 200  /* 4 methods x 10 routes x 5 statuses */

static const char *const METHODS[4] = {"GET", "POST", "PUT", "DELETE"};
static const char *const STATUSES[5] = {"200", "201", "400", "404", "500"};
static const char *const ROUTES[10] = {"/r0", "/r1", "/r2", "/r3", "/r4", "/r5", "/r6", "/r7", "/r8", "/r9"};
static const char *const LABELS_TAGS[2] = {"method", "status"};
static const char *const HIST_TAGS[3] = {"method", "route", "status"};
static double VALUES[N_VALUES];
static double BUCKETS[N_BUCKETS];
static long g_ops = 10000000;
static int g_failed;

typedef enum workload { COUNTER_INC, COUNTER_LABELS, HISTOGRAM_LABELS } workload_t;
static const char *const WORKLOAD_NAMES[3] = {"counter_inc", "counter_labels", "histogram_labels"};

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, size_t n) {
  qsort(v, n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void die(const char *what, int rc, const pmx_error_t *err) {
  fprintf(stderr, "bench_shared: %s failed: %s%s%s\n", what, pmx_err_name(rc), err && err->text[0] ? ": " : "",
          err && err->text[0] ? err->text : "");
  exit(2);
}

static void report(const char *peer, const char *workload, double value, const char *unit, int prec) {
  printf("peer=%s workload=%s threads=%d value=%.*f unit=%s\n", peer, workload, WORKERS, prec, value, unit);
  fflush(stdout);
}

static bool verify_fail(const char *peer, const char *workload, const char *what) {
  fprintf(stderr, "bench_shared: VERIFY FAILED peer=%s workload=%s: %s\n", peer, workload, what);
  g_failed = 1;
  return false;
}

/* A registry with the workload's family, its series created; in multi-process mode if shared. */
typedef struct setup {
  pmx_registry_t *reg;
  pmx_metric_t *m;
  pmx_series_t *single; /* counter_inc: the handle taken once, as bench_promex */
} setup_t;

static pmx_series_t *series(pmx_metric_t *m, const char *const *values, size_t n) {
  pmx_series_t *s = NULL;
  int rc = pmx_metric_labels(m, values, n, &s);
  if (rc != PMX_OK) die("pmx_metric_labels (setup)", rc, NULL);
  return s;
}

static setup_t make(workload_t w, bool shared) {
  setup_t st = {0};
  pmx_registry_opts_t o = {.no_own_metrics = true, .default_max_series = 20000};
  int rc = pmx_registry_new(&o, &st.reg);
  if (rc != PMX_OK) die("pmx_registry_new", rc, NULL);
  pmx_error_t err = {0};
  if (shared && (rc = pmx_shared_enable(st.reg, NULL, &err)) != PMX_OK) die("pmx_shared_enable", rc, &err);
  pmx_metric_def_t d = {.name = WORKLOAD_NAMES[w], .event_name = "bench.shared", .measurement = "value"};
  d.kind = w == HISTOGRAM_LABELS ? PMX_DISTRIBUTION : PMX_COUNTER;
  d.tags = w == COUNTER_LABELS ? LABELS_TAGS : w == HISTOGRAM_LABELS ? HIST_TAGS : NULL;
  d.n_tags = w == COUNTER_LABELS ? 2 : w == HISTOGRAM_LABELS ? 3 : 0;
  d.buckets = BUCKETS;
  d.n_buckets = w == HISTOGRAM_LABELS ? N_BUCKETS : 0;
  if (w != HISTOGRAM_LABELS) d.buckets = NULL;
  if ((rc = pmx_metric_define(st.reg, &d, &st.m, &err)) != PMX_OK) die("pmx_metric_define", rc, &err);
  if (w == COUNTER_INC) st.single = series(st.m, NULL, 0);
  for (int c = 0; w == COUNTER_LABELS && c < LABELS_SERIES; c++) {
    const char *v[2] = {METHODS[c % 4], STATUSES[c / 4]};
    series(st.m, v, 2);
  }
  for (int c = 0; w == HISTOGRAM_LABELS && c < HIST_SERIES; c++) {
    const char *v[3] = {METHODS[c % 4], ROUTES[(c / 4) % 10], STATUSES[c / 40]};
    series(st.m, v, 3);
  }
  return st;
}

/* The ops [lo, hi) of workload w; returns how many returned a non-OK status. */
static long run_ops(const setup_t *st, workload_t w, long lo, long hi) {
  long bad = 0;
  for (long i = lo; i < hi; i++) {
    pmx_series_t *s;
    if (w == COUNTER_INC) {
      bad += pmx_series_inc(st->single) != PMX_OK;
    } else if (w == COUNTER_LABELS) {
      int c = (int)(i % LABELS_SERIES);
      const char *v[2] = {METHODS[c % 4], STATUSES[c / 4]};
      bad += pmx_metric_labels(st->m, v, 2, &s) != PMX_OK || pmx_series_inc(s) != PMX_OK;
    } else {
      int c = (int)(i % HIST_SERIES);
      const char *v[3] = {METHODS[c % 4], ROUTES[(c / 4) % 10], STATUSES[c / 40]};
      bad += pmx_metric_labels(st->m, v, 3, &s) != PMX_OK || pmx_series_observe(s, VALUES[i % N_VALUES]) != PMX_OK;
    }
  }
  return bad;
}

typedef struct thread_arg {
  const setup_t *st;
  workload_t w;
  long lo, hi, bad;
  pthread_t tid;
} thread_arg_t;

static void *thread_main(void *p) {
  thread_arg_t *a = p;
  a->bad = run_ops(a->st, a->w, a->lo, a->hi);
  return NULL;
}

/* One repetition by WORKERS threads or processes; ns per op. Non-OK statuses add to *bad (a
 * process reports its count through its exit status: non-zero means some). */
static double time_once(const setup_t *st, workload_t w, bool shared, long *bad) {
  double t0 = now_ns();
  if (!shared) {
    thread_arg_t a[WORKERS];
    for (int k = 0; k < WORKERS; k++) {
      a[k] = (thread_arg_t){.st = st, .w = w, .lo = g_ops * k / WORKERS, .hi = g_ops * (k + 1) / WORKERS};
      if (pthread_create(&a[k].tid, NULL, thread_main, &a[k]) != 0) die("pthread_create", PMX_ESYS, NULL);
    }
    for (int k = 0; k < WORKERS; k++) {
      pthread_join(a[k].tid, NULL);
      *bad += a[k].bad;
    }
  } else {
    pid_t pid[WORKERS];
    for (int k = 0; k < WORKERS; k++) {
      pid[k] = fork();
      if (pid[k] < 0) die("fork", PMX_ESYS, NULL);
      if (pid[k] == 0) {
        /* As the runtime's workers do at fork (pmx_prepare_shared): a worker slot, which also
         * gives the process its own counter line (src/core/counter_cells.h). */
        (void)pmx_shared_worker_slot();
        _exit(run_ops(st, w, g_ops * k / WORKERS, g_ops * (k + 1) / WORKERS) != 0);
      }
    }
    for (int k = 0; k < WORKERS; k++) {
      int status = 0;
      waitpid(pid[k], &status, 0);
      *bad += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
      (void)pmx_shared_worker_exited(pid[k]); /* as a master does after reaping: frees its slot */
    }
  }
  return (now_ns() - t0) / (double)g_ops;
}

/* Every op of every repetition counted: REPS * N increments or observations in all. */
static bool verify(const char *peer, const setup_t *st, workload_t w, long bad) {
  const char *wl = WORKLOAD_NAMES[w];
  if (bad) return verify_fail(peer, wl, "some ops returned a non-OK status");
  double want = (double)REPS * (double)g_ops, got = 0;
  if (w == COUNTER_INC) got = pmx_series_value(st->single);
  for (int c = 0; w == COUNTER_LABELS && c < LABELS_SERIES; c++) {
    const char *v[2] = {METHODS[c % 4], STATUSES[c / 4]};
    got += pmx_series_value(series(st->m, v, 2));
  }
  for (int c = 0; w == HISTOGRAM_LABELS && c < HIST_SERIES; c++) {
    const char *v[3] = {METHODS[c % 4], ROUTES[(c / 4) % 10], STATUSES[c / 40]};
    uint64_t cum[N_BUCKETS + 1], count;
    double sum;
    if (pmx_series_histogram(series(st->m, v, 3), cum, N_BUCKETS + 1, &count, &sum) != PMX_OK || cum[N_BUCKETS] != count)
      return verify_fail(peer, wl, "inconsistent histogram");
    got += (double)count;
  }
  if (got == want) return true;
  char msg[128];
  snprintf(msg, sizeof msg, "total %.0f, expected %.0f", got, want);
  return verify_fail(peer, wl, msg);
}

static void update_workload(workload_t w, bool shared) {
  const char *peer = shared ? "promex-shared" : "promex";
  setup_t st = make(w, shared);
  double r[REPS];
  long bad = 0;
  for (int i = 0; i < REPS; i++) r[i] = time_once(&st, w, shared, &bad);
  if (verify(peer, &st, w, bad)) report(peer, WORKLOAD_NAMES[w], median(r, REPS), "ns/op", 2);
  pmx_registry_destroy(st.reg);
}

/* bench_promex's scrape_10k families; in multi-process mode half the series are created by a
 * forked worker, as a pre-forking server would. */
static void scrape_10k(bool shared) {
  const char *peer = shared ? "promex-shared" : "promex";
  pmx_registry_t *reg;
  pmx_registry_opts_t o = {.no_own_metrics = true, .default_max_series = 20000};
  int rc = pmx_registry_new(&o, &reg);
  if (rc == PMX_OK && shared) rc = pmx_shared_enable(reg, NULL, NULL);
  static const char *const ID[1] = {"id"};
  pmx_metric_def_t cd = {.kind = PMX_COUNTER, .name = "bench_scrape_requests_total", .description = "Scrape counter.",
                         .event_name = "bench.scrape", .measurement = "value", .tags = ID, .n_tags = 1};
  pmx_metric_def_t hd = {.kind = PMX_DISTRIBUTION, .name = "bench_scrape_duration", .description = "Scrape histogram.",
                         .event_name = "bench.scrape", .measurement = "value", .tags = ID, .n_tags = 1,
                         .buckets = BUCKETS, .n_buckets = N_BUCKETS};
  pmx_metric_t *cf = NULL, *hf = NULL;
  if (rc == PMX_OK) rc = pmx_metric_define(reg, &cd, &cf, NULL);
  if (rc == PMX_OK) rc = pmx_metric_define(reg, &hd, &hf, NULL);
  if (rc != PMX_OK) die("scrape_10k setup", rc, NULL);
  for (int half = 0; half < 2; half++) {
    pid_t pid = shared && half == 1 ? fork() : -1;
    if (pid > 0) {
      waitpid(pid, NULL, 0);
      continue;
    }
    char id[16];
    const char *v[1] = {id};
    for (int i = half * 5000; i < (half + 1) * 5000; i++) {
      snprintf(id, sizeof id, "%d", i);
      pmx_series_inc(series(cf, v, 1));
    }
    for (int i = half * 500; i < (half + 1) * 500; i++) {
      snprintf(id, sizeof id, "%d", i);
      pmx_series_observe(series(hf, v, 1), VALUES[i % N_VALUES]);
    }
    if (pid == 0) _exit(0);
  }
  if (pmx_metric_series_count(cf) != 10000 || pmx_metric_series_count(hf) != 1000) {
    verify_fail(peer, "scrape_10k", "series created by the worker are missing");
  } else {
    double ms[SCRAPE_RENDERS];
    size_t bytes = 0;
    for (int r = 0; r < SCRAPE_RENDERS; r++) {
      pmx_buf_t buf = {0};
      double t0 = now_ns();
      rc = pmx_render(reg, PMX_FORMAT_TEXT, &buf);
      ms[r] = (now_ns() - t0) / 1e6;
      bytes = buf.len;
      pmx_buf_free(&buf);
      if (rc != PMX_OK) die("pmx_render", rc, NULL);
    }
    printf("peer=%s workload=scrape_10k threads=1 value=%.3f unit=ms\n", peer, median(ms, SCRAPE_RENDERS));
    printf("peer=%s workload=scrape_10k threads=1 value=%zu unit=bytes\n", peer, bytes);
    fflush(stdout);
  }
  pmx_registry_destroy(reg);
}

int main(void) {
  const char *ops = getenv("BENCH_OPS");
  if (ops && *ops) {
    g_ops = strtol(ops, NULL, 10);
    if (g_ops < HIST_SERIES) {
      fprintf(stderr, "bench_shared: BENCH_OPS must be an integer >= %d\n", HIST_SERIES);
      return 2;
    }
  }
  uint64_t x = 42; /* bench_promex's values and buckets */
  for (int i = 0; i < N_VALUES; i++) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    VALUES[i] = (double)(x >> 11) * 0x1p-53 * 3000.0;
  }
  for (int i = 0; i < N_BUCKETS; i++) BUCKETS[i] = (double)(1u << i);
  /* Alternating, so that drift of a shared machine's load hits both peers alike. */
  for (int w = COUNTER_INC; w <= HISTOGRAM_LABELS; w++) {
    update_workload((workload_t)w, false);
    update_workload((workload_t)w, true);
  }
  scrape_10k(false);
  scrape_10k(true);
  return g_failed;
}
