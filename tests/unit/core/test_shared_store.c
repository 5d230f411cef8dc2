/* Multi-process mode (include/promex/shared.h): forked workers update one set of series, created
 * before or after fork, and the master renders their exact sums; workers SIGKILL'd after their
 * work keep their counts, workers SIGKILL'd in the middle of an update or while holding a
 * metric's creation lock leave a consistent store that nobody waits on; misuse gets clear
 * errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/counter_cells.h"
#include "core/shared_store.h"
#include "core_test_util.h"
#include "shared_test_util.h"
#include "promex/promex.h"
#include "promex/shared.h"

#define WORKERS 4
/* Work per worker, and rounds of random kills; less under valgrind, where every process of the
 * group runs some 50 times slower (main sets them). */
static int rounds = 2000;
static int churn_rounds = 12;
#define MAX_CHURN_ROUNDS 12
#define CHURN_LABELS 1000 /* new ones each round, so that workers die in creations too */

static const double BOUNDS[] = {1, 5, 10};
static const char *const WHO[] = {"who"};

typedef struct mp_fixture {
  pmx_registry_t *reg;
  pmx_metric_t *hits;   /* unlabelled counter */
  pmx_metric_t *req;    /* counter by "who" */
  pmx_metric_t *lat;    /* histogram by "who" */
} mp_fixture_t;

static int setup(void **state) {
  mp_fixture_t *f = calloc(1, sizeof *f);
  pmx_registry_opts_t o = {.no_own_metrics = true, .default_max_series = 100000};
  if (f == NULL || pmx_registry_new(&o, &f->reg) != PMX_OK) return -1;
  pmx_shared_opts_t so = mp_opts(getenv("PMX_UNDER_VALGRIND") ? 16u << 20 : 256u << 20);
  if (pmx_shared_enable(f->reg, &so, NULL) != PMX_OK) return -1;
  pmx_metric_def_t c = {.kind = PMX_COUNTER, .name = "mp_hits"};
  pmx_metric_def_t r = {.kind = PMX_COUNTER, .name = "mp_req", .tags = WHO, .n_tags = 1};
  pmx_metric_def_t h = {.kind = PMX_DISTRIBUTION, .name = "mp_lat", .tags = WHO, .n_tags = 1,
                        .buckets = BOUNDS, .n_buckets = 3};
  if (pmx_metric_define(f->reg, &c, &f->hits, NULL) != PMX_OK) return -1;
  if (pmx_metric_define(f->reg, &r, &f->req, NULL) != PMX_OK) return -1;
  if (pmx_metric_define(f->reg, &h, &f->lat, NULL) != PMX_OK) return -1;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  mp_fixture_t *f = *state;
  pmx_registry_destroy(f->reg);
  free(f);
  return 0;
}

/* The series of `m` for label value `who` (NULL: the unlabelled series), or NULL on error. */
static pmx_series_t *series(pmx_metric_t *m, const char *who) {
  pmx_series_t *s = NULL;
  const char *v[] = {who};
  return pmx_metric_labels(m, who ? v : NULL, who ? 1 : 0, &s) == PMX_OK ? s : NULL;
}

/* One worker's known work: rounds increments of the shared counter, rounds adds of 2 to its own
 * series (created after fork) and to the "all" series (created before), and rounds observations
 * cycling through 0.5, 3, 7, 20 into its own and the "all" histogram series. Even-numbered
 * workers first take a worker slot, as the runtime's workers do at fork, so that they increment
 * the counter's owned cell of that slot; odd ones hold none and take the shared cells. */
static int do_work(mp_fixture_t *f, int id) {
  if (id % 2 == 0 && pmx_shared_worker_slot() < 0) return 9;
  char who[16];
  snprintf(who, sizeof who, "w%d", id);
  pmx_series_t *hits = series(f->hits, NULL), *mine = series(f->req, who), *all = series(f->req, "all");
  pmx_series_t *hmine = series(f->lat, who), *hall = series(f->lat, "all");
  if (!hits || !mine || !all || !hmine || !hall) return 10;
  static const double obs[] = {0.5, 3, 7, 20};
  for (int i = 0; i < rounds; i++) {
    if (pmx_series_inc(hits) != PMX_OK) return 11;
    if (pmx_series_add(mine, 2) != PMX_OK || pmx_series_add(all, 2) != PMX_OK) return 12;
    if (pmx_series_observe(hmine, obs[i % 4]) != PMX_OK || pmx_series_observe(hall, obs[i % 4]) != PMX_OK) return 13;
  }
  return 0;
}

static int work_and_exit(void *ctx, int id, int done_fd) {
  mp_fixture_t *f = ctx;
  (void)done_fd;
  return do_work(f, id);
}

/* Works, reports done, then waits to be killed. */
static int work_and_wait(void *ctx, int id, int done_fd) {
  mp_fixture_t *f = ctx;
  int rc = do_work(f, id);
  char b = (char)rc;
  if (write(done_fd, &b, 1) != 1) return 20;
  for (;;) pause();
}

static void check_histogram(pmx_series_t *s, uint64_t per_bucket) {
  uint64_t cum[4], count;
  double sum;
  assert_int_equal(pmx_series_histogram(s, cum, 4, &count, &sum), PMX_OK);
  assert_int_equal(cum[0], per_bucket);      /* 0.5 */
  assert_int_equal(cum[1], 2 * per_bucket);  /* 3 */
  assert_int_equal(cum[2], 3 * per_bucket);  /* 7 */
  assert_int_equal(cum[3], 4 * per_bucket);  /* 20 (+Inf) */
  assert_int_equal(count, 4 * per_bucket);
  assert_true(sum == (double)per_bucket * (0.5 + 3 + 7 + 20));
}

/* 4 workers run to completion; 2 more are killed with SIGKILL after their work and replaced by 2
 * that also finish: every one of the 8 contributions is in the master's view, exactly. */
static void test_multiprocess_exact_sums_with_killed_workers(void **state) {
  mp_fixture_t *f = *state;
  /* One series of each created before fork, so workers share it. */
  assert_non_null(series(f->req, "all"));
  assert_non_null(series(f->lat, "all"));
  int p[2];
  assert_int_equal(pipe(p), 0);
  pid_t pids[WORKERS + 4];
  for (int i = 0; i < WORKERS; i++) pids[i] = mp_spawn(work_and_exit, f, i, -1);
  for (int i = WORKERS; i < WORKERS + 2; i++) pids[i] = mp_spawn(work_and_wait, f, i, p[1]);
  for (int i = WORKERS; i < WORKERS + 2; i++) {
    char b = 1;
    assert_int_equal(read(p[0], &b, 1), 1);
    assert_int_equal(b, 0);
  }
  for (int i = WORKERS; i < WORKERS + 2; i++) {
    assert_int_equal(kill(pids[i], SIGKILL), 0);
    assert_int_equal(mp_wait(pids[i]), 128 + SIGKILL);
  }
  for (int i = WORKERS + 2; i < WORKERS + 4; i++) pids[i] = mp_spawn(work_and_exit, f, i, -1);
  for (int i = 0; i < WORKERS; i++) assert_int_equal(mp_wait(pids[i]), 0);
  for (int i = WORKERS + 2; i < WORKERS + 4; i++) assert_int_equal(mp_wait(pids[i]), 0);
  close(p[0]);
  close(p[1]);

  const int n = WORKERS + 4;
  assert_true(pmx_series_value(series(f->hits, NULL)) == (double)n * rounds);
  assert_true(pmx_series_value(series(f->req, "all")) == 2.0 * n * rounds);
  assert_int_equal(pmx_metric_series_count(f->req), n + 1);
  assert_int_equal(pmx_metric_series_count(f->lat), n + 1);
  check_histogram(series(f->lat, "all"), (uint64_t)n * rounds / 4);
  for (int i = 0; i < n; i++) {
    char who[16];
    snprintf(who, sizeof who, "w%d", i);
    assert_true(pmx_series_value(series(f->req, who)) == 2.0 * rounds);
    check_histogram(series(f->lat, who), rounds / 4);
  }
  /* The exposition has each series once, with the exact totals. */
  char *text = ct_render(f->reg, PMX_FORMAT_TEXT);
  assert_true(ct_has_linef(text, "mp_hits %d", n * rounds));
  assert_true(ct_has_linef(text, "mp_req{who=\"all\"} %d", 2 * n * rounds));
  assert_true(ct_has_linef(text, "mp_lat_count{who=\"all\"} %d", n * rounds));
  assert_true(ct_has_linef(text, "mp_lat_bucket{who=\"all\",le=\"5\"} %d", n * rounds / 2));
  assert_int_equal(ct_count(text, "mp_req{who=\"w3\"}"), 1);
  free(text);
}

/* Counter cells owned per worker slot: a worker holding slot k increments line k's owned cell
 * (and no other process does), the next holder of slot k after its first holder was killed and
 * reaped continues that cell, and a worker without a slot uses the shared cells; the value stays
 * the exact total. */
static int count_rounds(void *ctx, int id, int done_fd) {
  mp_fixture_t *f = ctx;
  (void)done_fd;
  int slot = id >= 0 ? pmx_shared_worker_slot() : -1;
  if (id >= 0 && slot != id) return 50; /* slots are taken in order in this test */
  pmx_series_t *hits = series(f->hits, NULL);
  if (hits == NULL) return 51;
  for (int i = 0; i < rounds; i++) {
    if (pmx_series_inc(hits) != PMX_OK) return 52;
  }
  return 0;
}

static int64_t owned_cell(pmx_series_t *s, unsigned line) {
  return atomic_load((_Atomic int64_t *)(void *)(s->value + (size_t)line * PMX_CACHELINE + PMX__OWNED_CELL));
}

static void test_multiprocess_owned_cells_by_worker_slot(void **state) {
  mp_fixture_t *f = *state;
  pmx_series_t *hits = series(f->hits, NULL);
  assert_non_null(hits);
  assert_true(atomic_load(&hits->hash) & PMX__OWNED_CELLS);
  assert_true(pmx__counter_lines() >= 3);
  /* Slots 0 and 1 (the master holds none), then one more process without a slot. */
  pid_t a = mp_spawn(count_rounds, f, 0, -1);
  assert_int_equal(mp_wait(a), 0);
  pid_t b = mp_spawn(count_rounds, f, 1, -1);
  pid_t none = mp_spawn(count_rounds, f, -1, -1);
  assert_int_equal(mp_wait(b), 0);
  assert_int_equal(mp_wait(none), 0);
  assert_int_equal(owned_cell(hits, 0), rounds);
  assert_int_equal(owned_cell(hits, 1), rounds);
  /* Slot 0's process is gone and reported: the next one to take slot 0 continues its cell. */
  assert_int_equal(pmx_shared_worker_exited(a), PMX_OK);
  pid_t again = mp_spawn(count_rounds, f, 0, -1);
  assert_int_equal(mp_wait(again), 0);
  assert_int_equal(owned_cell(hits, 0), 2 * rounds);
  assert_int_equal(owned_cell(hits, 1), rounds);
  for (unsigned k = 2; k < pmx__counter_lines(); k++) assert_int_equal(owned_cell(hits, k), 0);
  assert_true(pmx_series_value(hits) == 4.0 * rounds); /* the slotless one's in the shared cells */
}

/* Workers that create series and update them without pause are killed at random moments, again
 * and again: every render still completes, each series shows once, histograms stay internally
 * consistent, and a worker started afterwards adds exactly what it adds. */
static int churn(void *ctx, int id, int done_fd) {
  mp_fixture_t *f = ctx;
  (void)done_fd;
  unsigned seed = (unsigned)getpid() ^ (unsigned)id;
  for (;;) {
    char who[16];
    snprintf(who, sizeof who, "c%d_%u", id / 10, rand_r(&seed) % CHURN_LABELS);
    pmx_series_t *s = series(f->req, who), *h = series(f->lat, who);
    if (s == NULL || h == NULL) return 30;
    pmx_series_inc(s);
    pmx_series_observe(h, (double)(rand_r(&seed) % 12));
    /* Removals hold the creation lock too, and leave more to repair when cut short. */
    if (rand_r(&seed) % 4 == 0) pmx_metric_remove(f->req, (const char *const[]){who}, 1);
  }
}

static int add_known(void *ctx, int id, int done_fd) {
  mp_fixture_t *f = ctx;
  (void)id;
  (void)done_fd;
  pmx_series_t *s = series(f->req, "c0_7"), *h = series(f->lat, "c0_7");
  if (s == NULL || h == NULL) return 40;
  for (int i = 0; i < 1000; i++) {
    pmx_series_add(s, 3);
    pmx_series_observe(h, 2);
  }
  return 0;
}

static void test_multiprocess_sigkill_at_random(void **state) {
  mp_fixture_t *f = *state;
  unsigned seed = 7;
  for (int round = 0; round < churn_rounds; round++) {
    pid_t pids[3];
    for (int i = 0; i < 3; i++) pids[i] = mp_spawn(churn, f, round * 10 + i, -1);
    for (int i = 0; i < 3; i++) {
      struct timespec ts = {0, (2000 + (long)(rand_r(&seed) % 8000)) * 1000};
      nanosleep(&ts, NULL);
      kill(pids[i], SIGKILL);
      assert_int_equal(mp_wait(pids[i]), 128 + SIGKILL);
    }
    char *text = ct_render(f->reg, PMX_FORMAT_TEXT); /* must not hang on a dead observer */
    free(text);
  }
  /* Each series once in the chain and findable (no duplicate created after a torn insert). */
  char *text = ct_render(f->reg, PMX_FORMAT_TEXT);
  size_t n = pmx_metric_series_count(f->req);
  assert_true(n > 0 && n <= (size_t)churn_rounds * CHURN_LABELS);
  assert_int_equal(ct_count(text, "\nmp_req{"), n);
  static unsigned char seen[MAX_CHURN_ROUNDS][CHURN_LABELS];
  memset(seen, 0, sizeof seen);
  for (const char *p = text; (p = strstr(p, "\nmp_req{who=\"c")) != NULL; p++) {
    char *end;
    unsigned r = (unsigned)strtoul(p + strlen("\nmp_req{who=\"c"), &end, 10);
    unsigned i = (unsigned)strtoul(end + 1, NULL, 10);
    assert_true(r < (unsigned)churn_rounds && i < CHURN_LABELS);
    assert_int_equal(seen[r][i]++, 0);
  }
  free(text);
  /* Histograms: cumulative buckets never decrease and +Inf == _count. */
  for (unsigned i = 0; i < (unsigned)churn_rounds * CHURN_LABELS; i++) {
    char who[16];
    snprintf(who, sizeof who, "c%u_%u", i / CHURN_LABELS, i % CHURN_LABELS);
    const char *v[] = {who};
    pmx_series_t *h = NULL;
    if (pmx_metric_labels(f->lat, v, 1, &h) != PMX_OK) continue;
    uint64_t cum[4], count;
    double sum;
    assert_int_equal(pmx_series_histogram(h, cum, 4, &count, &sum), PMX_OK);
    assert_true(cum[0] <= cum[1] && cum[1] <= cum[2] && cum[2] <= cum[3]);
    assert_int_equal(cum[3], count);
  }
  /* Exact deltas still. */
  pmx_series_t *s = series(f->req, "c0_7"), *h = series(f->lat, "c0_7");
  double before = pmx_series_value(s);
  uint64_t cum0[4], cum1[4], c0, c1;
  double s0, s1;
  assert_int_equal(pmx_series_histogram(h, cum0, 4, &c0, &s0), PMX_OK);
  assert_int_equal(mp_wait(mp_spawn(add_known, f, 0, -1)), 0);
  assert_true(pmx_series_value(s) == before + 3000);
  assert_int_equal(pmx_series_histogram(h, cum1, 4, &c1, &s1), PMX_OK);
  assert_int_equal(c1, c0 + 1000);
  assert_int_equal(cum1[0], cum0[0]);
  assert_int_equal(cum1[1], cum0[1] + 1000);
  assert_true(s1 == s0 + 2000);
}

/* A worker killed while holding a metric's creation lock, in the middle of an insert (its series
 * is chained but the table lost track of the others): the next process to create a series takes
 * the lock over, repairs the table from the chain, and finds the existing series again instead of
 * creating duplicates. */
static int die_holding_lock(void *ctx, int id, int done_fd) {
  mp_fixture_t *f = ctx;
  (void)id;
  (void)done_fd;
  pmx_metric_t *m = f->req;
  pmx__metric_lock(m, &m->mu);
  pmx__table_t *t = atomic_load(&m->table);
  for (size_t i = 0; i <= t->mask; i++) atomic_store(&t->slots[i], NULL);
  raise(SIGKILL);
  return 50;
}

static void test_shared_store_lock_holder_killed(void **state) {
  mp_fixture_t *f = *state;
  pmx_series_t *a = series(f->req, "a"), *b = series(f->req, "b");
  assert_non_null(a);
  assert_non_null(b);
  assert_int_equal(pmx_series_add(a, 5), PMX_OK);
  assert_int_equal(mp_wait(mp_spawn(die_holding_lock, f, 0, -1)), 128 + SIGKILL);
  /* The lock-free lookup misses (table emptied), the locked path inherits the dead lock. */
  assert_ptr_equal(series(f->req, "a"), a);
  assert_ptr_equal(series(f->req, "b"), b);
  assert_int_equal(pmx_metric_series_count(f->req), 2);
  assert_non_null(series(f->req, "c"));
  assert_int_equal(pmx_metric_series_count(f->req), 3);
  assert_true(pmx_series_value(a) == 5);
  char *text = ct_render(f->reg, PMX_FORMAT_TEXT);
  assert_int_equal(ct_count(text, "mp_req{who=\"a\"}"), 1);
  free(text);
}

/* A worker killed between the first and last step of an observation (it counted the observation
 * as begun, never completed it): the snapshot waits a bounded time, writes it off, and later
 * snapshots do not wait again. */
static int die_mid_observe(void *ctx, int id, int done_fd) {
  mp_fixture_t *f = ctx;
  (void)id;
  (void)done_fd;
  pmx_series_t *h = series(f->lat, "x");
  if (h == NULL) return 60;
  for (size_t k = 0; k < PMX__HIST_SHARDS; k++) atomic_fetch_add(&pmx__hist(h, k)->started, 1);
  raise(SIGKILL);
  return 61;
}

static void test_shared_store_observer_killed_mid_observe(void **state) {
  mp_fixture_t *f = *state;
  pmx_series_t *h = series(f->lat, "x");
  assert_int_equal(pmx_series_observe(h, 3), PMX_OK);
  assert_int_equal(mp_wait(mp_spawn(die_mid_observe, f, 0, -1)), 128 + SIGKILL);
  assert_true(pmx_series_value(h) == 1 + PMX__HIST_SHARDS); /* begun, incl. the dead ones */
  uint64_t cum[4], count;
  double sum;
  assert_int_equal(pmx_series_histogram(h, cum, 4, &count, &sum), PMX_OK);
  assert_int_equal(count, 1);
  assert_int_equal(cum[1], 1);
  assert_true(sum == 3);
  /* Written off: no longer counted as begun, so the next snapshot has nothing to wait for. */
  assert_true(pmx_series_value(h) == 1);
  assert_int_equal(pmx_series_observe(h, 20), PMX_OK);
  assert_int_equal(pmx_series_histogram(h, cum, 4, &count, &sum), PMX_OK);
  assert_int_equal(count, 2);
  assert_int_equal(cum[3], 2);
  assert_true(sum == 23);
}

/* Definitions after fork are refused, in the child and in the parent. */
static int define_in_child(void *ctx, int id, int done_fd) {
  mp_fixture_t *f = ctx;
  (void)id;
  (void)done_fd;
  pmx_metric_def_t d = {.kind = PMX_COUNTER, .name = "late_child"};
  pmx_error_t e;
  return pmx_metric_define(f->reg, &d, NULL, &e) == PMX_ESTATE && strstr(e.text, "before the first fork") ? 0 : 70;
}

static void test_shared_store_define_after_fork_refused(void **state) {
  mp_fixture_t *f = *state;
  assert_int_equal(mp_wait(mp_spawn(define_in_child, f, 0, -1)), 0);
  pmx_metric_def_t d = {.kind = PMX_COUNTER, .name = "late_parent"};
  pmx_error_t e;
  pmx_metric_t *m = (pmx_metric_t *)(uintptr_t)1;
  assert_int_equal(pmx_metric_define(f->reg, &d, &m, &e), PMX_ESTATE);
  assert_null(m);
  assert_non_null(strstr(e.text, "late_parent"));
  assert_null(pmx_registry_find(f->reg, "late_parent"));
}

/* A native histogram's snapshot would wait for an observer killed inside its gate: refused, with
 * a message that says what to use instead, and nothing defined. */
static void test_shared_store_native_histogram_refused(void **state) {
  mp_fixture_t *f = *state;
  pmx_metric_def_t d = {.kind = PMX_DISTRIBUTION, .name = "mp_native", .native = true, .native_schema = 3};
  pmx_error_t e;
  pmx_metric_t *m = (pmx_metric_t *)(uintptr_t)1;
  assert_int_equal(pmx_metric_define(f->reg, &d, &m, &e), PMX_EINVAL);
  assert_null(m);
  assert_non_null(strstr(e.text, "mp_native"));
  assert_non_null(strstr(e.text, "multi-process"));
  assert_null(pmx_registry_find(f->reg, "mp_native"));
}

/* max_series counts every process's series: two workers creating 8 each stop at 10 in all. */
static int create_eight(void *ctx, int id, int done_fd) {
  mp_fixture_t *f = ctx;
  (void)done_fd;
  pmx_metric_t *m = pmx_registry_find(f->reg, "mp_small");
  int ok = 0, limited = 0;
  for (int i = 0; i < 8; i++) {
    char who[16];
    snprintf(who, sizeof who, "p%d_%d", id, i);
    const char *v[] = {who};
    pmx_series_t *s;
    int rc = pmx_metric_labels(m, v, 1, &s);
    if (rc == PMX_OK) ok++;
    else if (rc == PMX_ELIMIT) limited++;
    else return 80;
  }
  return ok + limited == 8 ? 0 : 81;
}

static void test_shared_store_series_limit_spans_processes(void **state) {
  (void)state;
  pmx_registry_t *reg;
  pmx_registry_opts_t o = {.no_own_metrics = true};
  assert_int_equal(pmx_registry_new(&o, &reg), PMX_OK);
  pmx_shared_opts_t so = mp_opts(4u << 20);
  assert_int_equal(pmx_shared_enable(reg, &so, NULL), PMX_OK);
  pmx_metric_def_t d = {.kind = PMX_COUNTER, .name = "mp_small", .tags = WHO, .n_tags = 1, .max_series = 10};
  pmx_metric_t *m;
  assert_int_equal(pmx_metric_define(reg, &d, &m, NULL), PMX_OK);
  mp_fixture_t f = {.reg = reg};
  pid_t a = mp_spawn(create_eight, &f, 1, -1), b = mp_spawn(create_eight, &f, 2, -1);
  assert_int_equal(mp_wait(a), 0);
  assert_int_equal(mp_wait(b), 0);
  assert_int_equal(pmx_metric_series_count(m), 10);
  assert_int_equal(pmx_metric_dropped_series(m), 6);
  pmx_registry_destroy(reg);
}

/* A mapping that cannot grow any further: creation fails with PMX_ENOMEM, what exists keeps its
 * values and renders. */
static void test_shared_store_full_mapping(void **state) {
  (void)state;
  pmx_registry_t *reg;
  pmx_registry_opts_t o = {.no_own_metrics = true, .default_max_series = 1000000};
  assert_int_equal(pmx_registry_new(&o, &reg), PMX_OK);
  pmx_shared_opts_t so = {.max_bytes = 256u << 10, .initial_bytes = 16u << 10};
  assert_int_equal(pmx_shared_enable(reg, &so, NULL), PMX_OK);
  pmx_metric_def_t d = {.kind = PMX_COUNTER, .name = "mp_many", .tags = WHO, .n_tags = 1};
  pmx_metric_t *m;
  assert_int_equal(pmx_metric_define(reg, &d, &m, NULL), PMX_OK);
  int rc = PMX_OK;
  int made = 0;
  while (rc == PMX_OK && made < 100000) {
    char who[16];
    snprintf(who, sizeof who, "v%d", made);
    const char *v[] = {who};
    pmx_series_t *s;
    rc = pmx_metric_labels(m, v, 1, &s);
    if (rc == PMX_OK) {
      assert_int_equal(pmx_series_add(s, made), PMX_OK);
      made++;
    }
  }
  assert_int_equal(rc, PMX_ENOMEM);
  assert_true(made > 100);
  size_t used, backed, reserved;
  assert_int_equal(pmx_shared_usage(&used, &backed, &reserved), PMX_OK);
  assert_int_equal(reserved, 256u << 10);
  assert_true(used <= backed && backed <= reserved);
  assert_int_equal(pmx_metric_series_count(m), made);
  const char *v[] = {"v100"};
  pmx_series_t *s;
  assert_int_equal(pmx_metric_labels(m, v, 1, &s), PMX_OK);
  assert_true(pmx_series_value(s) == 100);
  char *text = ct_render(reg, PMX_FORMAT_TEXT);
  assert_true(ct_has_line(text, "mp_many{who=\"v100\"} 100"));
  free(text);
  pmx_registry_destroy(reg);
  assert_int_equal(pmx_shared_usage(NULL, NULL, NULL), PMX_ESTATE);
}

static void *idle_thread(void *arg) {
  pthread_barrier_t *b = arg;
  pthread_barrier_wait(b);
  pthread_barrier_wait(b);
  return NULL;
}

static void test_shared_store_enable_errors(void **state) {
  (void)state;
  pmx_error_t e;
  assert_int_equal(pmx_shared_enable(NULL, NULL, &e), PMX_EINVAL);
  pmx_registry_t *reg, *other;
  assert_int_equal(pmx_registry_new(NULL, &reg), PMX_OK);
  assert_int_equal(pmx_registry_new(NULL, &other), PMX_OK);
  pmx_shared_opts_t bad = {.max_bytes = 1u << 20, .initial_bytes = 2u << 20};
  assert_int_equal(pmx_shared_enable(reg, &bad, &e), PMX_EINVAL);
  assert_false(pmx_shared_enabled(reg));

  /* A thread already running. */
  pthread_barrier_t b;
  pthread_barrier_init(&b, NULL, 2);
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, idle_thread, &b), 0);
  pthread_barrier_wait(&b);
  assert_int_equal(pmx_shared_enable(reg, NULL, &e), PMX_ESTATE);
  assert_non_null(strstr(e.text, "before threads start"));
  pthread_barrier_wait(&b);
  pthread_join(t, NULL);
  pthread_barrier_destroy(&b);

  /* Metrics already defined. */
  pmx_metric_def_t d = {.kind = PMX_COUNTER, .name = "early"};
  assert_int_equal(pmx_metric_define(other, &d, NULL, NULL), PMX_OK);
  assert_int_equal(pmx_shared_enable(other, NULL, &e), PMX_ESTATE);
  assert_non_null(strstr(e.text, "before any metric is defined"));
  assert_false(pmx_shared_enabled(other));
  /* ... and unaffected: still an ordinary registry. */
  assert_int_equal(pmx_metric_define(other, &(pmx_metric_def_t){.kind = PMX_COUNTER, .name = "later"}, NULL, NULL),
                   PMX_OK);

  assert_int_equal(pmx_shared_enable(reg, NULL, &e), PMX_OK);
  assert_true(pmx_shared_enabled(reg));
  pmx_registry_t *third;
  assert_int_equal(pmx_registry_new(NULL, &third), PMX_OK);
  assert_int_equal(pmx_shared_enable(third, NULL, &e), PMX_EEXIST);
  pmx_registry_destroy(third);
  pmx_registry_destroy(other);
  pmx_registry_destroy(reg);
  /* The mapping went with its registry: another may take the mode. */
  assert_int_equal(pmx_registry_new(NULL, &reg), PMX_OK);
  assert_int_equal(pmx_shared_enable(reg, NULL, &e), PMX_OK);
  pmx_registry_destroy(reg);
}

int main(void) {
  if (getenv("PMX_UNDER_VALGRIND") != NULL) {
    rounds = 200;
    churn_rounds = 2;
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_shared_store_enable_errors),
      cmocka_unit_test_setup_teardown(test_multiprocess_exact_sums_with_killed_workers, setup, teardown),
      cmocka_unit_test_setup_teardown(test_multiprocess_owned_cells_by_worker_slot, setup, teardown),
      cmocka_unit_test_setup_teardown(test_multiprocess_sigkill_at_random, setup, teardown),
      cmocka_unit_test_setup_teardown(test_shared_store_lock_holder_killed, setup, teardown),
      cmocka_unit_test_setup_teardown(test_shared_store_observer_killed_mid_observe, setup, teardown),
      cmocka_unit_test_setup_teardown(test_shared_store_define_after_fork_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_shared_store_native_histogram_refused, setup, teardown),
      cmocka_unit_test(test_shared_store_series_limit_spans_processes),
      cmocka_unit_test(test_shared_store_full_mapping),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
