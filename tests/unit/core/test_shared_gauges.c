/* Gauges in multi-process mode (include/promex/shared.h): each aggregation mode gives the exact
 * value over the live workers; reaping a worker (pmx_shared_worker_exited) removes its gauge
 * contributions while its counter contributions stay; cells are limited by max_workers, with a
 * clear error and a count of dropped updates past it, and a dead worker's cell is taken over. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>

#include "core_test_util.h"
#include "promex/promex.h"
#include "promex/shared.h"
#include "shared_test_util.h"

static const char *const PID[] = {"pid"};

typedef struct gauges {
  pmx_registry_t *reg;
  pmx_metric_t *sum, *max, *min, *recent, *one, *per_worker, *done;
} gauges_t;

static pmx_metric_t *define_gauge(pmx_registry_t *reg, const char *name, pmx_shared_gauge_t mode, bool pid) {
  pmx_metric_def_t d = {.kind = PMX_LAST_VALUE, .name = name, .tags = pid ? PID : NULL, .n_tags = pid ? 1 : 0};
  pmx_metric_t *m = NULL;
  assert_int_equal(pmx_metric_define(reg, &d, &m, NULL), PMX_OK);
  assert_int_equal(pmx_shared_gauge_mode(m, mode, NULL), PMX_OK);
  return m;
}

static int setup(void **state) {
  gauges_t *g = calloc(1, sizeof *g);
  pmx_registry_opts_t o = {.no_own_metrics = true};
  if (g == NULL || pmx_registry_new(&o, &g->reg) != PMX_OK) return -1;
  pmx_shared_opts_t so = mp_opts(16u << 20);
  so.max_workers = 8;
  if (pmx_shared_enable(g->reg, &so, NULL) != PMX_OK) return -1;
  g->sum = define_gauge(g->reg, "g_sum", PMX_SHARED_GAUGE_SUM, false);
  g->max = define_gauge(g->reg, "g_max", PMX_SHARED_GAUGE_MAX, false);
  g->min = define_gauge(g->reg, "g_min", PMX_SHARED_GAUGE_MIN, false);
  g->recent = define_gauge(g->reg, "g_recent", PMX_SHARED_GAUGE_MOST_RECENT, false);
  g->one = define_gauge(g->reg, "g_one", PMX_SHARED_GAUGE_ONE, false);
  g->per_worker = define_gauge(g->reg, "g_pw", PMX_SHARED_GAUGE_PER_WORKER, true);
  pmx_metric_def_t c = {.kind = PMX_COUNTER, .name = "g_done"};
  if (pmx_metric_define(g->reg, &c, &g->done, NULL) != PMX_OK) return -1;
  *state = g;
  return 0;
}

static int teardown(void **state) {
  gauges_t *g = *state;
  pmx_registry_destroy(g->reg);
  free(g);
  return 0;
}

static pmx_series_t *only(pmx_metric_t *m) {
  pmx_series_t *s = NULL;
  return pmx_metric_labels(m, NULL, 0, &s) == PMX_OK ? s : NULL;
}

static double value(pmx_metric_t *m) { return pmx_series_value(only(m)); }

/* Worker `id` (1..n): sets its values, reports, and waits to be killed. */
static int set_and_wait(void *ctx, int id, int fd) {
  gauges_t *g = ctx;
  char pid[24];
  const char *v[] = {pmx_shared_pid_label(pid, sizeof pid)};
  pmx_series_t *pw = NULL;
  if (pmx_metric_labels(g->per_worker, v, 1, &pw) != PMX_OK) return 10;
  if (pmx_series_set(only(g->sum), 10.0 * id) != PMX_OK) return 11;
  if (pmx_series_set(only(g->max), id) != PMX_OK || pmx_series_set(only(g->min), id) != PMX_OK) return 12;
  if (pmx_series_set(only(g->recent), id) != PMX_OK) return 13;
  if (pmx_series_add(only(g->one), 1) != PMX_OK) return 14;
  if (pmx_series_set(pw, id) != PMX_OK) return 15;
  if (pmx_series_add(only(g->done), 5) != PMX_OK) return 16;
  /* Its own cell: a later set replaces, an add accumulates. */
  if (pmx_series_add(only(g->sum), 0.5) != PMX_OK || pmx_series_add(only(g->sum), -0.5) != PMX_OK) return 17;
  char b = 0;
  if (write(fd, &b, 1) != 1) return 18;
  for (;;) pause();
}

static void test_shared_gauge_modes_and_reaping(void **state) {
  gauges_t *g = *state;
  int p[2];
  assert_int_equal(pipe(p), 0);
  pid_t pids[6];
  /* One at a time, so that "most recent" is the highest id. */
  for (int id = 1; id <= 4; id++) {
    pids[id] = mp_spawn(set_and_wait, g, id, p[1]);
    char b;
    assert_int_equal(read(p[0], &b, 1), 1);
  }
  assert_true(value(g->sum) == 100);
  assert_true(value(g->max) == 4);
  assert_true(value(g->min) == 1);
  assert_true(value(g->recent) == 4);
  assert_true(value(g->one) == 4);
  assert_true(value(g->done) == 20);
  assert_int_equal(pmx_metric_series_count(g->per_worker), 4);
  char *text = ct_render(g->reg, PMX_FORMAT_TEXT);
  assert_true(ct_has_line(text, "g_sum 100"));
  assert_true(ct_has_linef(text, "g_pw{pid=\"%ld\"} 2", (long)pids[2]));
  free(text);

  /* Worker 4 dies and is reaped: its gauge contributions go, its counter contribution stays. */
  assert_int_equal(kill(pids[4], SIGKILL), 0);
  assert_int_equal(mp_wait(pids[4]), 128 + SIGKILL);
  assert_int_equal(pmx_shared_worker_exited(pids[4]), PMX_OK);
  assert_int_equal(pmx_shared_worker_exited(pids[4]), PMX_ENOENT);
  assert_true(value(g->sum) == 60);
  assert_true(value(g->max) == 3);
  assert_true(value(g->min) == 1);
  assert_true(value(g->recent) == 3);
  assert_true(value(g->one) == 4); /* one value for the group: nobody's in particular */
  assert_true(value(g->done) == 20);
  assert_int_equal(pmx_metric_series_count(g->per_worker), 3);
  text = ct_render(g->reg, PMX_FORMAT_TEXT);
  assert_false(ct_has_linef(text, "g_pw{pid=\"%ld\"} 4", (long)pids[4]));
  assert_true(ct_has_linef(text, "g_pw{pid=\"%ld\"} 3", (long)pids[3]));
  free(text);

  /* A replacement takes a free cell and counts from there. */
  pids[5] = mp_spawn(set_and_wait, g, 5, p[1]);
  char b;
  assert_int_equal(read(p[0], &b, 1), 1);
  assert_true(value(g->sum) == 110);
  assert_true(value(g->max) == 5);
  assert_true(value(g->recent) == 5);

  /* The master's own updates have a cell too. */
  assert_int_equal(pmx_series_set(only(g->min), -1), PMX_OK);
  assert_true(value(g->min) == -1);

  for (int id = 1; id <= 5; id++) {
    if (id == 4) continue;
    kill(pids[id], SIGKILL);
    assert_int_equal(mp_wait(pids[id]), 128 + SIGKILL);
    assert_int_equal(pmx_shared_worker_exited(pids[id]), PMX_OK);
  }
  assert_true(value(g->sum) == 0); /* nobody left but the master, which never set it */
  assert_true(value(g->max) == 0);
  assert_true(value(g->min) == -1);
  assert_true(value(g->done) == 25);
  assert_int_equal(pmx_metric_series_count(g->per_worker), 0);
  close(p[0]);
  close(p[1]);
}

/* With max_workers cells all held by live workers, another process gets PMX_ELIMIT and its updates
 * are counted as dropped, not mixed into someone else's cell; a cell whose worker died (reaped
 * with waitpid but never reported) is taken over with its old value cleared. */
static int hold_cell(void *ctx, int id, int fd) {
  gauges_t *g = ctx;
  if (pmx_shared_worker_slot() < 0) return 20;
  if (pmx_series_set(only(g->sum), id) != PMX_OK) return 21;
  char b = 0;
  if (write(fd, &b, 1) != 1) return 22;
  for (;;) pause();
}

static int find_no_cell(void *ctx, int id, int fd) {
  (void)fd;
  gauges_t *g = ctx;
  if (pmx_shared_worker_slot() != PMX_ELIMIT) return 30;
  uint64_t before = pmx_shared_gauge_overflow();
  if (pmx_series_set(only(g->sum), id) != PMX_OK) return 31;
  return pmx_shared_gauge_overflow() == before + 1 ? 0 : 32;
}

static int take_over(void *ctx, int id, int fd) {
  (void)fd;
  gauges_t *g = ctx;
  if (pmx_shared_worker_slot() < 0) return 40;
  return pmx_series_add(only(g->sum), id) == PMX_OK ? 0 : 41; /* add: on a cleared cell */
}

static void test_shared_gauge_cell_limit(void **state) {
  gauges_t *g = *state;
  int p[2];
  assert_int_equal(pipe(p), 0);
  pid_t pids[8];
  for (int i = 0; i < 8; i++) { /* max_workers is 8 */
    pids[i] = mp_spawn(hold_cell, g, 1, p[1]);
    char b;
    assert_int_equal(read(p[0], &b, 1), 1);
  }
  assert_true(value(g->sum) == 8);
  assert_int_equal(pmx_shared_worker_slot(), PMX_ELIMIT); /* the master too */
  assert_int_equal(mp_wait(mp_spawn(find_no_cell, g, 1000, -1)), 0);
  assert_true(value(g->sum) == 8);

  kill(pids[0], SIGKILL);
  assert_int_equal(mp_wait(pids[0]), 128 + SIGKILL); /* reaped, not reported */
  assert_int_equal(mp_wait(mp_spawn(take_over, g, 100, -1)), 0);
  assert_true(value(g->sum) == 107); /* 7 holders, and the newcomer's 100 on a cleared cell */
  for (int i = 1; i < 8; i++) {
    kill(pids[i], SIGKILL);
    mp_wait(pids[i]);
  }
  close(p[0]);
  close(p[1]);
}

static void test_shared_gauge_mode_errors(void **state) {
  gauges_t *g = *state;
  pmx_error_t e;
  assert_int_equal(pmx_shared_gauge_mode(NULL, PMX_SHARED_GAUGE_SUM, &e), PMX_EINVAL);
  assert_int_equal(pmx_shared_gauge_mode(g->done, PMX_SHARED_GAUGE_SUM, &e), PMX_ETYPE);
  assert_int_equal(pmx_shared_gauge_mode(g->sum, (pmx_shared_gauge_t)42, &e), PMX_EINVAL);
  assert_int_equal(pmx_shared_gauge_mode(g->sum, PMX_SHARED_GAUGE_PER_WORKER, &e), PMX_EINVAL);
  assert_non_null(strstr(e.text, "\"pid\""));
  assert_int_equal(pmx_series_set(only(g->max), 1), PMX_OK);
  assert_int_equal(pmx_shared_gauge_mode(g->max, PMX_SHARED_GAUGE_MIN, &e), PMX_ESTATE);
  assert_non_null(strstr(e.text, "before the first series"));
  /* A registry not in the mode. */
  pmx_registry_t *plain;
  assert_int_equal(pmx_registry_new(NULL, &plain), PMX_OK);
  pmx_metric_def_t d = {.kind = PMX_LAST_VALUE, .name = "plain_gauge"};
  pmx_metric_t *m;
  assert_int_equal(pmx_metric_define(plain, &d, &m, NULL), PMX_OK);
  assert_int_equal(pmx_shared_gauge_mode(m, PMX_SHARED_GAUGE_SUM, &e), PMX_ESTATE);
  pmx_registry_destroy(plain);
  assert_int_equal(pmx_shared_worker_exited(999999), PMX_ENOENT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_shared_gauge_modes_and_reaping, setup, teardown),
      cmocka_unit_test_setup_teardown(test_shared_gauge_cell_limit, setup, teardown),
      cmocka_unit_test_setup_teardown(test_shared_gauge_mode_errors, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
