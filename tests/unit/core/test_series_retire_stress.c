/* Retiring under concurrency (run under TSan too: label "concurrency"): emitters feed a counter
 * and a histogram labelled {conn, dir} while a retirer retires connections through the event
 * (pmx_retire by conn, from its own thread and from inside a handler of another event), a
 * toggler detaches and re-attaches a third metric of the event (the retire's handler listing
 * races with it), and a scraper renders. Every render must be well formed (known label values,
 * consistent histograms); once quiet, a retire leaves exactly the other connections, and new
 * events land in fresh series with exact counts. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core_test_util.h"
#include "promex/promex.h"

#define CONNS 12
#define EVENTS 30000 /* per emitter */
#define EMITTERS 2

static const char *const tags[] = {"conn", "dir"};
static const double bounds[] = {1, 10, 100};
static char conns[CONNS][8];

typedef struct rt_shared {
  pmx_bus_t *bus;
  pmx_registry_t *reg;
  pmx_metric_t *counter, *hist, *toggled;
  pmx_event_t *ev, *close_ev;
  atomic_int emitters_left;
  atomic_long renders, bad_renders, retired, toggles;
} rt_shared_t;

static void *emitter(void *p) {
  rt_shared_t *sh = p;
  unsigned seed = (unsigned)(uintptr_t)pthread_self();
  for (long i = 0; i < EVENTS || ((atomic_load(&sh->retired) < 200 || atomic_load(&sh->renders) < 20) &&
                                  i < 100L * EVENTS); i++) {
    seed = seed * 1103515245u + 12345u;
    pmx_meta_t md[] = {PMX_META_S("conn", conns[(seed >> 8) % CONNS]),
                       PMX_META_S("dir", (seed >> 20) & 1 ? "in" : "out")};
    pmx_measurement_t ms[] = {PMX_M("latency", (double)(i % 200))};
    assert_true(pmx_emit(sh->ev, ms, 1, md, 2) >= 2);
  }
  atomic_fetch_sub(&sh->emitters_left, 1);
  return NULL;
}

/* A handler of "rt.close" retires the closed connection: the retire runs inside an emit. */
static void on_close(const pmx_event_data_t *ev, void *config) {
  rt_shared_t *sh = config;
  const pmx_meta_t *c = pmx_event_meta(ev, "conn");
  pmx_meta_t md[] = {PMX_META_S("conn", c->v.s)};
  int n = pmx_retire(sh->bus, sh->ev, md, 1);
  assert_true(n >= 0);
  atomic_fetch_add(&sh->retired, n);
}

static void *retirer(void *p) {
  rt_shared_t *sh = p;
  for (int i = 0; atomic_load(&sh->emitters_left) > 0; i++) {
    pmx_meta_t md[] = {PMX_META_S("conn", conns[i % CONNS])};
    if (i % 2) {
      int n = pmx_retire(sh->bus, sh->ev, md, 1);
      assert_true(n >= 0);
      atomic_fetch_add(&sh->retired, n);
    } else {
      assert_true(pmx_emit(sh->close_ev, NULL, 0, md, 1) == 1);
    }
  }
  return NULL;
}

static void *toggler(void *p) {
  rt_shared_t *sh = p;
  while (atomic_load(&sh->emitters_left) > 0) {
    assert_int_equal(pmx_metric_detach(sh->toggled), PMX_OK);
    assert_int_equal(pmx_metric_attach(sh->toggled, sh->bus, NULL), PMX_OK);
    atomic_fetch_add(&sh->toggles, 1);
  }
  return NULL;
}

/* Every sample names a known connection and direction; histogram buckets are cumulative and
 * +Inf equals _count. */
static bool render_ok(const char *text) {
  unsigned long long last = 0, inf = 0;
  bool have_inf = false;
  for (const char *line = text; *line; line = strchr(line, '\n') + 1) {
    if (*line != '#') {
      int k;
      char dir[4];
      const char *q = strstr(line, "conn=\"");
      if (q == NULL || sscanf(q, "conn=\"c%2d\",dir=\"%3[a-z]\"", &k, dir) != 2 || k < 0 ||
          k >= CONNS || (strcmp(dir, "in") != 0 && strcmp(dir, "out") != 0))
        return false;
      unsigned long long v = strtoull(strrchr(line, ' ') + 1, NULL, 10);
      if (strncmp(line, "rt_latency_bucket", 17) == 0) {
        if (strstr(line, "le=\"1\"")) last = 0;
        if (v < last) return false;
        last = v;
        if (strstr(line, "le=\"+Inf\"")) {
          inf = v;
          have_inf = true;
        }
      } else if (strncmp(line, "rt_latency_count", 16) == 0) {
        if (!have_inf || v != inf) return false;
        have_inf = false;
      }
    }
    if (strchr(line, '\n') == NULL) break;
  }
  return true;
}

static void *scraper(void *p) {
  rt_shared_t *sh = p;
  while (atomic_load(&sh->emitters_left) > 0) {
    char *text = ct_render(sh->reg, PMX_FORMAT_TEXT);
    if (!render_ok(text)) atomic_fetch_add(&sh->bad_renders, 1);
    atomic_fetch_add(&sh->renders, 1);
    free(text);
  }
  return NULL;
}

static pmx_metric_t *define(rt_shared_t *sh, pmx_metric_def_t def) {
  pmx_metric_t *m = NULL;
  def.event_name = "rt";
  def.measurement = "latency";
  def.tags = tags;
  def.n_tags = 2;
  assert_int_equal(pmx_metric_define(sh->reg, &def, &m, NULL), PMX_OK);
  assert_int_equal(pmx_metric_attach(m, sh->bus, NULL), PMX_OK);
  return m;
}

static void test_emit_retire_scrape(void **state) {
  (void)state;
  rt_shared_t sh = {0};
  pmx_registry_opts_t o = {.no_own_metrics = true};
  assert_int_equal(pmx_registry_new(&o, &sh.reg), PMX_OK);
  assert_int_equal(pmx_bus_new(&sh.bus), PMX_OK);
  sh.counter = define(&sh, (pmx_metric_def_t){.kind = PMX_COUNTER, .name = "rt.requests"});
  sh.hist = define(&sh, (pmx_metric_def_t){.kind = PMX_DISTRIBUTION, .name = "rt.latency",
                                           .buckets = bounds, .n_buckets = 3});
  sh.toggled = define(&sh, (pmx_metric_def_t){.kind = PMX_LAST_VALUE, .name = "rt.last"});
  assert_int_equal(pmx_bus_event(sh.bus, "rt", &sh.ev), PMX_OK);
  assert_int_equal(pmx_bus_event(sh.bus, "rt.close", &sh.close_ev), PMX_OK);
  assert_int_equal(pmx_bus_attach(sh.bus, "test.on_close", "rt.close", on_close, &sh), PMX_OK);
  for (int k = 0; k < CONNS; k++) snprintf(conns[k], sizeof conns[k], "c%02d", k);
  atomic_store(&sh.emitters_left, EMITTERS);

  pthread_t th[EMITTERS + 3];
  for (int i = 0; i < EMITTERS; i++) assert_int_equal(pthread_create(&th[i], NULL, emitter, &sh), 0);
  assert_int_equal(pthread_create(&th[EMITTERS], NULL, retirer, &sh), 0);
  assert_int_equal(pthread_create(&th[EMITTERS + 1], NULL, toggler, &sh), 0);
  assert_int_equal(pthread_create(&th[EMITTERS + 2], NULL, scraper, &sh), 0);
  for (int i = 0; i < EMITTERS + 3; i++) assert_int_equal(pthread_join(th[i], NULL), 0);

  print_message("renders %ld, series retired %ld, toggles %ld\n", atomic_load(&sh.renders),
                atomic_load(&sh.retired), atomic_load(&sh.toggles));
  assert_true(atomic_load(&sh.renders) > 0);
  assert_true(atomic_load(&sh.retired) > 0);
  assert_int_equal(atomic_load(&sh.bad_renders), 0);

  /* Quiet: fill every connection, retire one, and it alone is gone from all three metrics. */
  for (int k = 0; k < CONNS; k++) {
    pmx_meta_t md[] = {PMX_META_S("conn", conns[k]), PMX_META_S("dir", "in")};
    pmx_measurement_t ms[] = {PMX_M("latency", 5)};
    assert_int_equal(pmx_emit(sh.ev, ms, 1, md, 2), 3);
  }
  size_t before = pmx_metric_series_count(sh.counter);
  pmx_meta_t gone[] = {PMX_META_S("conn", conns[3])};
  int n = pmx_retire(sh.bus, sh.ev, gone, 1);
  assert_true(n >= 3); /* "in" in each metric, plus "out" where it still existed */
  assert_true(pmx_metric_series_count(sh.counter) < before);
  char *text = ct_render(sh.reg, PMX_FORMAT_TEXT);
  assert_int_equal(ct_count(text, "conn=\"c03\""), 0);
  assert_true(ct_count(text, "conn=\"c04\",dir=\"in\"") > 0);
  free(text);
  /* Back: fresh series with exact counts. */
  for (int i = 0; i < 7; i++) {
    pmx_meta_t md[] = {PMX_META_S("conn", conns[3]), PMX_META_S("dir", "out")};
    pmx_measurement_t ms[] = {PMX_M("latency", 50)};
    assert_int_equal(pmx_emit(sh.ev, ms, 1, md, 2), 3);
  }
  text = ct_render(sh.reg, PMX_FORMAT_TEXT);
  assert_true(ct_has_line(text, "rt_requests{conn=\"c03\",dir=\"out\"} 7"));
  assert_true(ct_has_line(text, "rt_latency_count{conn=\"c03\",dir=\"out\"} 7"));
  assert_true(ct_has_line(text, "rt_latency_bucket{conn=\"c03\",dir=\"out\",le=\"10\"} 0"));
  assert_int_equal(ct_count(text, "rt_requests{conn=\"c03\""), 1);
  free(text);
  pmx_registry_destroy(sh.reg);
  pmx_bus_destroy(sh.bus);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_emit_retire_scrape)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
