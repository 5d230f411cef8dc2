/* The jobs plugin against a real in-process instance: known events give exact histogram counts
 * and sums in base units; the queue-length poll zero-fills every configured and every seen
 * (queue, state) and never keeps a stale value; bad options fail pmx_start() with a message
 * naming the option; the thread-pool work queue reports exact job, retry and discard counts. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "unit/plugins/plugin_test_util.h"
#include "promex/jobs_pool.h"
#include "promex/plugins/jobs.h"
#include "promex/promex.h"

/* cmocka 1.1 has no assert_double_equal; NaN (series missing) never passes. */
#define assert_double_equal(a, b, eps) \
  assert_true_msg_((double)(a), (double)(b), (double)(eps), #a, __LINE__)
static void assert_true_msg_(double a, double b, double eps, const char *expr, int line) {
  if (!(fabs(a - b) <= eps)) fail_msg("line %d: %s is %g, expected %g", line, expr, a, b);
}

#define APP "jt"
#define P APP "_prom_ex_jobs_"

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static void quiet_log(void *ctx, pmx_log_level_t level, const char *msg) {
  (void)ctx, (void)level, (void)msg;
}

/* The queue-length callback: reports what the test put in `report` (n pairs). */
typedef struct report {
  atomic_int n;
  const char *queue[4];
  const char *state[4];
  double len[4];
  atomic_int calls;
  int fail; /* return this instead when non-zero */
} report_t;

static int report_cb(pmx_jobs_lengths_t *out, void *ctx) {
  report_t *r = ctx;
  atomic_fetch_add(&r->calls, 1);
  if (r->fail) return r->fail;
  int n = atomic_load(&r->n);
  for (int i = 0; i < n; i++) {
    int rc = pmx_jobs_lengths_set(out, r->queue[i], r->state[i], r->len[i]);
    if (rc != PMX_OK) return rc;
  }
  return PMX_OK;
}

static int start(pmx_t **p, const pmx_kv_t *opts, size_t n_opts, void *user_data,
                 pmx_error_t *err) {
  pmx_plugin_use_t use = {.plugin = &pmx_plugin_jobs, .opts = opts, .n_opts = n_opts,
                          .user_data = user_data};
  pmx_config_t cfg;
  pmx_config_defaults(&cfg);
  cfg.app = APP;
  cfg.plugins = &use;
  cfg.n_plugins = 1;
  cfg.log = quiet_log;
  *p = NULL;
  int rc = pmx_new(&cfg, p, err);
  if (rc == PMX_OK) rc = pmx_start(*p, err);
  if (rc != PMX_OK) {
    pmx_destroy(*p);
    *p = NULL;
  }
  return rc;
}

static char *scrape(pmx_t *p) {
  pmx_buf_t buf = {0};
  assert_int_equal(pmx_get_metrics(p, PMX_FORMAT_TEXT, &buf), PMX_OK);
  char *s = strndup(buf.data, buf.len);
  pmx_buf_free(&buf);
  return s;
}

static double val(const char *text, const char *name, const char *l1, const char *l2,
                  const char *l3) {
  const char *ls[3];
  size_t n = 0;
  if (l1) ls[n++] = l1;
  if (l2) ls[n++] = l2;
  if (l3) ls[n++] = l3;
  return pt_value(text, name, ls, n);
}

static void test_events_exact_counts(void **state) {
  (void)state;
  pmx_t *p;
  pmx_error_t err;
  assert_int_equal(start(&p, NULL, 0, NULL, &err), PMX_OK);
  pmx_jobs_events_t ev;
  assert_int_equal(pmx_jobs_events_init(pmx_bus(p), &ev), PMX_OK);
  assert_int_equal(pmx_jobs_emit_queue_init(&ev, "mail", 8), 1);
  pmx_job_info_t ok = {"mail", "send", 1, "success"};
  for (int i = 0; i < 3; i++) assert_true(pmx_jobs_emit_stop(&ev, &ok, 2000000, 30000000) > 0);
  ok.attempt = 2;
  assert_true(pmx_jobs_emit_stop(&ev, &ok, 2000000, 30000000) > 0);
  pmx_job_info_t bad = {"mail", "send", 1, "failure"};
  assert_true(pmx_jobs_emit_exception(&ev, &bad, 7000000000ull, 0, "error", "timeout") > 0);
  bad.state = "discard";
  bad.attempt = 6;
  assert_true(pmx_jobs_emit_exception(&ev, &bad, 7000000000ull, 0, "error", "timeout") > 0);
  assert_true(pmx_jobs_emit_producer(&ev, "mail", 1000000, 7, 0) > 0);
  assert_true(pmx_jobs_emit_producer(&ev, "mail", 1000000, 0, 1) > 0);
  assert_true(pmx_jobs_emit_batch_message(&ev, "ingest", "default", 5000000, NULL) > 0);
  assert_true(pmx_jobs_emit_batch_message(&ev, "ingest", "default", 5000000, "error") > 0);
  assert_true(pmx_jobs_emit_batch(&ev, "ingest", "s3", 40000000, 12, 3) > 0);
  /* NULL inputs are refused, nothing emitted */
  assert_int_equal(pmx_jobs_emit_stop(&ev, NULL, 1, 1), PMX_EINVAL);
  pmx_job_info_t noq = {NULL, "send", 1, NULL};
  assert_int_equal(pmx_jobs_emit_start(&ev, &noq), PMX_EINVAL);

  char *t = scrape(p);
  const char *q = "queue=\"mail\"", *w = "worker=\"send\"", *ok_s = "state=\"success\"";
  assert_double_equal(val(t, P "init_queue_concurrency_limit", q, NULL, NULL), 8, 0);
  assert_double_equal(val(t, P "job_processing_duration_seconds_count", q, w, ok_s), 4, 0);
  assert_double_equal(val(t, P "job_processing_duration_seconds_sum", q, w, ok_s), 0.008, 1e-12);
  /* 2 ms falls in le=0.01 but not le=0.001 */
  assert_double_equal(val(t, P "job_processing_duration_seconds_bucket", q, ok_s, "le=\"0.001\""),
                      0, 0);
  assert_double_equal(val(t, P "job_processing_duration_seconds_bucket", q, ok_s, "le=\"0.01\""),
                      4, 0);
  assert_double_equal(val(t, P "job_queue_time_seconds_sum", q, w, ok_s), 0.12, 1e-12);
  assert_double_equal(val(t, P "job_complete_attempts_sum", q, w, ok_s), 5, 0);
  assert_double_equal(val(t, P "job_complete_attempts_bucket", q, ok_s, "le=\"1\""), 3, 0);
  const char *fail = "state=\"failure\"", *disc = "state=\"discard\"";
  assert_double_equal(val(t, P "job_exception_duration_seconds_count", fail, "error=\"timeout\"",
                          "kind=\"error\""), 1, 0);
  assert_double_equal(val(t, P "job_exception_duration_seconds_count", disc, NULL, NULL), 1, 0);
  assert_double_equal(val(t, P "job_exception_duration_seconds_bucket", disc, "le=\"5\"", NULL),
                      0, 0);
  assert_double_equal(val(t, P "job_exception_attempts_sum", disc, NULL, NULL), 6, 0);
  assert_double_equal(val(t, P "producer_dispatched_jobs_sum", q, NULL, NULL), 7, 0);
  assert_double_equal(val(t, P "producer_duration_seconds_count", q, NULL, NULL), 1, 0);
  assert_double_equal(val(t, P "producer_exception_duration_seconds_count", q, NULL, NULL), 1, 0);
  const char *pl = "pipeline=\"ingest\"";
  assert_double_equal(val(t, P "batch_message_duration_seconds_count", pl, NULL, NULL), 1, 0);
  assert_double_equal(
      val(t, P "batch_message_exception_duration_seconds_count", pl, "kind=\"error\"", NULL), 1,
      0);
  assert_double_equal(val(t, P "batch_success_size_sum", pl, "batcher=\"s3\"", NULL), 12, 0);
  assert_double_equal(val(t, P "batch_failure_size_sum", pl, "batcher=\"s3\"", NULL), 3, 0);
  assert_double_equal(val(t, P "batch_duration_seconds_sum", pl, NULL, NULL), 0.04, 1e-12);
  /* no callback: the queue_length family has no series (no invented zeros) */
  assert_int_equal(pt_count(t, P "queue_length"), 0);
  free(t);
  pmx_stop(p);
  pmx_destroy(p);
}

/* Polls until `name{labels}` has `want`, at most 3 s. Returns the scrape (caller frees). */
static char *wait_for(pmx_t *p, const char *name, const char *l1, const char *l2, double want) {
  for (int i = 0; i < 150; i++) {
    char *t = scrape(p);
    if (val(t, name, l1, l2, NULL) == want) return t;
    free(t);
    sleep_ms(20);
  }
  return scrape(p);
}

static void test_queue_length_zero_fill(void **state) {
  (void)state;
  static report_t r = {.queue = {"default", "reports"}, .state = {"available", "executing"},
                       .len = {3, 1}};
  atomic_store(&r.n, 2);
  pmx_jobs_opts_t o = {report_cb, &r};
  const pmx_kv_t opts[] = {{"queues", " default , mailers"}, {"poll_rate", "20"}};
  pmx_t *p;
  pmx_error_t err;
  assert_int_equal(start(&p, opts, 2, &o, &err), PMX_OK);
  const char *name = P "queue_length";
  char *t = wait_for(p, name, "queue=\"reports\"", "state=\"executing\"", 1);
  /* 3 queues (two configured, one reported) x Oban's 7 states, every one present */
  assert_int_equal(pt_count(t, name), 21);
  assert_double_equal(val(t, name, "queue=\"default\"", "state=\"available\"", NULL), 3, 0);
  static const char *const states[] = {"available", "scheduled", "executing", "retryable",
                                       "completed", "discarded", "cancelled"};
  char sl[64];
  for (size_t i = 0; i < 7; i++) {
    snprintf(sl, sizeof sl, "state=\"%s\"", states[i]);
    assert_double_equal(val(t, name, "queue=\"mailers\"", sl, NULL), 0, 0);
  }
  free(t);
  /* the queues empty: every value goes back to 0, nothing stale */
  atomic_store(&r.n, 0);
  t = wait_for(p, name, "queue=\"default\"", "state=\"available\"", 0);
  assert_double_equal(val(t, name, "queue=\"default\"", "state=\"available\"", NULL), 0, 0);
  assert_double_equal(val(t, name, "queue=\"reports\"", "state=\"executing\"", NULL), 0, 0);
  assert_int_equal(pt_count(t, name), 21);
  free(t);
  pmx_stop(p);
  pmx_destroy(p);
  assert_true(atomic_load(&r.calls) >= 2);
}

static void test_lengths_set_refuses_bad_values(void **state) {
  (void)state;
  static report_t r = {.queue = {"q"}, .state = {"available"}, .len = {-1}};
  atomic_store(&r.n, 1);
  pmx_jobs_opts_t o = {report_cb, &r};
  const pmx_kv_t opts[] = {{"queues", "q"}, {"states", "available"}, {"poll_rate", "20"}};
  pmx_t *p;
  pmx_error_t err;
  assert_int_equal(start(&p, opts, 3, &o, &err), PMX_OK);
  while (atomic_load(&r.calls) < 2) sleep_ms(10);
  char *t = scrape(p);
  /* the failing poll published nothing: no negative value, and the error was counted */
  assert_int_equal(pt_count(t, P "queue_length"), 0);
  assert_true(val(t, APP "_prom_ex_prom_ex_poll_errors_total", "group=\"jobs_queue_polling_metrics\"",
                  NULL, NULL) >= 1);
  free(t);
  pmx_stop(p);
  pmx_destroy(p);
  assert_int_equal(pmx_jobs_lengths_set(NULL, "q", "s", 1), PMX_EINVAL);
}

static void expect_config_error(const pmx_kv_t *opts, size_t n, const char *needle) {
  pmx_jobs_opts_t o = {report_cb, NULL};
  pmx_t *p;
  pmx_error_t err;
  memset(&err, 0, sizeof err);
  assert_int_equal(start(&p, opts, n, &o, &err), PMX_ECONFIG);
  assert_null(p);
  if (strstr(err.text, needle) == NULL) fail_msg("error \"%s\" lacks \"%s\"", err.text, needle);
}

static void test_bad_options(void **state) {
  (void)state;
  const pmx_kv_t unknown[] = {{"queue", "a"}};
  expect_config_error(unknown, 1, "unknown option \"queue\"");
  const pmx_kv_t empty[] = {{"queues", "a,,b"}};
  expect_config_error(empty, 1, "queues has an empty item");
  const pmx_kv_t blank[] = {{"states", ""}};
  expect_config_error(blank, 1, "states has an empty item");
  const pmx_kv_t twice[] = {{"queues", "a, b, a"}};
  expect_config_error(twice, 1, "lists \"a\" twice");
  const pmx_kv_t many[] = {{"states", "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q"}};
  expect_config_error(many, 1, "more than 16 items");
}

/* Pool jobs: arg points at a counter of remaining failures (negative: always fail). */
static int flaky_job(void *arg) {
  atomic_int *fails = arg;
  sleep_ms(2);
  if (atomic_load(fails) < 0) return 1;
  return atomic_fetch_sub(fails, 1) > 0 ? 1 : 0;
}

static int blocking_job(void *arg) {
  while (!atomic_load((atomic_bool *)arg)) sleep_ms(5);
  return 0;
}

static void test_pool_exact_counts(void **state) {
  (void)state;
  pmx_t *p;
  pmx_error_t err;
  pmx_pool_t *pool = NULL;
  assert_int_equal(start(&p, NULL, 0, NULL, &err), PMX_OK); /* events only */
  pmx_pool_opts_t po = {.queue = "work", .concurrency = 2, .max_attempts = 2, .bus = pmx_bus(p)};
  assert_int_equal(pmx_pool_new(&po, &pool), PMX_OK);
  static atomic_int ok[7], once, always[2];
  for (int i = 0; i < 7; i++) assert_int_equal(pmx_pool_submit(pool, "ok", flaky_job, &ok[i]), 0);
  atomic_store(&once, 1);
  assert_int_equal(pmx_pool_submit(pool, "flaky", flaky_job, &once), PMX_OK);
  for (int i = 0; i < 2; i++) {
    atomic_store(&always[i], -1);
    assert_int_equal(pmx_pool_submit(pool, "broken", flaky_job, &always[i]), PMX_OK);
  }
  assert_int_equal(pmx_pool_submit(pool, NULL, flaky_job, NULL), PMX_EINVAL);
  assert_int_equal(pmx_pool_wait_idle(pool, 10000), PMX_OK);

  char *t = scrape(p);
  const char *q = "queue=\"work\"";
  assert_double_equal(val(t, P "init_queue_concurrency_limit", q, NULL, NULL), 2, 0);
  assert_double_equal(val(t, P "job_processing_duration_seconds_count", "worker=\"ok\"", NULL,
                          NULL), 7, 0);
  assert_double_equal(val(t, P "job_complete_attempts_sum", "worker=\"flaky\"", NULL, NULL), 2, 0);
  assert_double_equal(val(t, P "job_exception_duration_seconds_count", "worker=\"flaky\"",
                          "state=\"failure\"", NULL), 1, 0);
  assert_double_equal(val(t, P "job_exception_duration_seconds_count", "worker=\"broken\"",
                          "state=\"failure\"", NULL), 2, 0);
  assert_double_equal(val(t, P "job_exception_duration_seconds_count", "worker=\"broken\"",
                          "state=\"discard\"", NULL), 2, 0);
  assert_double_equal(val(t, P "job_exception_attempts_sum", "worker=\"broken\"",
                          "state=\"discard\"", NULL), 4, 0);
  /* 7 + 1 successes and 5 failed runs: 13 fetches */
  assert_double_equal(val(t, P "producer_dispatched_jobs_sum", q, NULL, NULL), 13, 0);
  assert_int_equal(pt_count(t, P "job_exception_duration_seconds_count"), 3);
  free(t);

  /* capacity: one thread blocked, one job waiting fills a capacity-1 pool */
  pmx_pool_t *small = NULL;
  pmx_pool_opts_t so = {.queue = "tiny", .concurrency = 1, .capacity = 1, .bus = pmx_bus(p)};
  assert_int_equal(pmx_pool_new(&so, &small), PMX_OK);
  static atomic_bool release;
  assert_int_equal(pmx_pool_submit(small, "block", blocking_job, &release), PMX_OK);
  sleep_ms(50); /* the blocking job is now executing: the queue itself is empty */
  assert_int_equal(pmx_pool_wait_idle(small, 1), PMX_ETIMEDOUT);
  assert_int_equal(pmx_pool_submit(small, "block", blocking_job, &release), PMX_OK);
  assert_int_equal(pmx_pool_submit(small, "block", blocking_job, &release), PMX_ELIMIT);
  atomic_store(&release, true);
  assert_int_equal(pmx_pool_wait_idle(small, 10000), PMX_OK);
  size_t dropped = 99;
  pmx_pool_destroy(small, &dropped);
  assert_int_equal(dropped, 0);

  pmx_pool_destroy(pool, NULL);
  pmx_stop(p);
  pmx_destroy(p);

  /* bad pool options */
  pmx_pool_t *bad = (pmx_pool_t *)1;
  pmx_pool_opts_t bo = {.queue = "x", .concurrency = 0, .bus = NULL};
  assert_int_equal(pmx_pool_new(&bo, &bad), PMX_EINVAL);
  assert_null(bad);
  assert_int_equal(pmx_pool_new(NULL, &bad), PMX_EINVAL);
}

/* The pool's lengths through the plugin: jobs held in the pool show as executing and available,
 * every other state of the queue as 0. */
static _Atomic(pmx_pool_t *) g_pool; /* published to the poller thread */
static int pool_lengths(pmx_jobs_lengths_t *out, void *ctx) {
  (void)ctx;
  pmx_pool_t *pool = atomic_load(&g_pool);
  return pool ? pmx_pool_report_lengths(pool, out) : PMX_OK;
}

static void test_pool_queue_lengths(void **state) {
  (void)state;
  pmx_jobs_opts_t o = {pool_lengths, NULL};
  const pmx_kv_t opts[] = {{"queues", "held"}, {"poll_rate", "20"}};
  pmx_t *p;
  pmx_error_t err;
  assert_int_equal(start(&p, opts, 2, &o, &err), PMX_OK);
  pmx_pool_t *pool = NULL;
  pmx_pool_opts_t po = {.queue = "held", .concurrency = 1, .bus = pmx_bus(p)};
  assert_int_equal(pmx_pool_new(&po, &pool), PMX_OK);
  static atomic_bool release;
  for (int i = 0; i < 4; i++)
    assert_int_equal(pmx_pool_submit(pool, "block", blocking_job, &release), PMX_OK);
  atomic_store(&g_pool, pool);
  const char *name = P "queue_length";
  char *t = wait_for(p, name, "queue=\"held\"", "state=\"available\"", 3);
  assert_double_equal(val(t, name, "queue=\"held\"", "state=\"available\"", NULL), 3, 0);
  assert_double_equal(val(t, name, "queue=\"held\"", "state=\"executing\"", NULL), 1, 0);
  assert_double_equal(val(t, name, "queue=\"held\"", "state=\"completed\"", NULL), 0, 0);
  free(t);
  atomic_store(&release, true);
  assert_int_equal(pmx_pool_wait_idle(pool, 10000), PMX_OK);
  t = wait_for(p, name, "queue=\"held\"", "state=\"available\"", 0);
  assert_double_equal(val(t, name, "queue=\"held\"", "state=\"executing\"", NULL), 0, 0);
  free(t);
  pmx_stop(p); /* no poll runs after stop: the pool can go */
  atomic_store(&g_pool, NULL);
  pmx_pool_destroy(pool, NULL);
  pmx_destroy(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_events_exact_counts),
      cmocka_unit_test(test_queue_length_zero_fill),
      cmocka_unit_test(test_lengths_set_refuses_bad_values),
      cmocka_unit_test(test_bad_options),
      cmocka_unit_test(test_pool_exact_counts),
      cmocka_unit_test(test_pool_queue_lengths),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
