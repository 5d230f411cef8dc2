/* Series removal under concurrency (run under TSan too: label "concurrency"): event emitters,
 * a direct-API updater, a deleter (single removals and resets) and a scraper run at once on a
 * counter and a histogram family whose label values churn. Checks that every render is well
 * formed (every label value is one that was emitted, histograms are consistent: cumulative
 * buckets, +Inf == _count), that the series count never passes the limit, that no create is
 * refused while room is freed, and, once the others have stopped, that the store is exact again
 * (a reset, then known events, give exactly their counts). */
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

#define VALUES 24       /* distinct label values; more than the limit below, so removal matters */
#define MAX_SERIES 16
#define EVENTS 40000    /* per emitter */
#define EMITTERS 2

static const char *const tag[] = {"conn"};
static const double bounds[] = {1, 10, 100};

typedef struct shared {
  pmx_bus_t *bus;
  pmx_registry_t *reg;
  pmx_metric_t *counter, *hist;
  pmx_event_t *ev;
  atomic_int emitters_left;
  atomic_long renders, bad_renders, removals, over_limit;
} shared_t;

static char names[VALUES][8]; /* filled before any thread starts */
static const char *value_name(int i) { return names[i]; }

static void *emitter(void *p) {
  shared_t *sh = p;
  unsigned seed = (unsigned)(uintptr_t)pthread_self();
  /* At least EVENTS, and on until the deleter and scraper have had real work (bounded). */
  for (long i = 0; i < EVENTS || ((atomic_load(&sh->removals) < 500 || atomic_load(&sh->renders) < 20) &&
                                  i < 200L * EVENTS); i++) {
    seed = seed * 1103515245u + 12345u;
    pmx_meta_t md[] = {PMX_META_S("conn", value_name((int)((seed >> 8) % VALUES)))};
    pmx_measurement_t ms[] = {PMX_M("latency", (double)(i % 200))};
    assert_int_equal(pmx_emit(sh->ev, ms, 1, md, 1), 2);
  }
  atomic_fetch_sub(&sh->emitters_left, 1);
  return NULL;
}

/* Direct API: look up and update at once (a handle fetched right before use, as documented). */
static void *direct(void *p) {
  shared_t *sh = p;
  for (int i = 0; atomic_load(&sh->emitters_left) > 0; i++) {
    const char *v[] = {value_name(i % VALUES)};
    pmx_series_t *s;
    int rc = pmx_metric_labels(sh->counter, v, 1, &s);
    if (rc == PMX_OK) {
      pmx_series_inc(s);
    } else {
      assert_int_equal(rc, PMX_ELIMIT); /* the family is full until the deleter frees room */
    }
  }
  return NULL;
}

static void *deleter(void *p) {
  shared_t *sh = p;
  for (int i = 0; atomic_load(&sh->emitters_left) > 0; i++) {
    const char *v[] = {value_name(i % VALUES)};
    if (i % 97 == 0) {
      assert_int_equal(pmx_metric_reset(i % 2 ? sh->counter : sh->hist), PMX_OK);
    } else {
      int rc = pmx_metric_remove(i % 2 ? sh->counter : sh->hist, v, 1);
      assert_true(rc == PMX_OK || rc == PMX_ENOENT);
      if (rc == PMX_OK) atomic_fetch_add(&sh->removals, 1);
    }
    if (pmx_metric_series_count(sh->counter) > MAX_SERIES || pmx_metric_series_count(sh->hist) > MAX_SERIES) {
      atomic_fetch_add(&sh->over_limit, 1);
    }
  }
  return NULL;
}

/* True if every sample line of `text` names a known label value, and every histogram series has
 * non-decreasing cumulative buckets whose +Inf equals its _count. */
static bool render_ok(const char *text) {
  unsigned long long last = 0, inf = 0;
  bool have_inf = false;
  for (const char *line = text; *line; line = strchr(line, '\n') + 1) {
    if (*line != '#') {
      const char *q = strstr(line, "conn=\"");
      if (q == NULL) return false;
      int k;
      if (sscanf(q, "conn=\"c%2d\"", &k) != 1 || k < 0 || k >= VALUES) return false;
      const char *sp = strrchr(line, ' ');
      unsigned long long v = strtoull(sp + 1, NULL, 10);
      if (strncmp(line, "stress_latency_bucket", 21) == 0) {
        if (strstr(line, "le=\"1\"")) last = 0;
        if (v < last) return false;
        last = v;
        if (strstr(line, "le=\"+Inf\"")) {
          inf = v;
          have_inf = true;
        }
      } else if (strncmp(line, "stress_latency_count", 20) == 0) {
        if (!have_inf || v != inf) return false;
        have_inf = false;
      }
    }
    if (strchr(line, '\n') == NULL) break;
  }
  return true;
}

static void *scraper(void *p) {
  shared_t *sh = p;
  while (atomic_load(&sh->emitters_left) > 0) {
    pmx_buf_t buf = {0};
    assert_int_equal(pmx_render(sh->reg, PMX_FORMAT_TEXT, &buf), PMX_OK);
    char *text = malloc(buf.len + 1);
    assert_non_null(text);
    memcpy(text, buf.data, buf.len);
    text[buf.len] = '\0';
    pmx_buf_free(&buf);
    if (!render_ok(text)) atomic_fetch_add(&sh->bad_renders, 1);
    atomic_fetch_add(&sh->renders, 1);
    free(text);
  }
  return NULL;
}

static void test_emit_remove_scrape(void **state) {
  (void)state;
  shared_t sh = {0};
  pmx_registry_opts_t o = {.no_own_metrics = true};
  assert_int_equal(pmx_registry_new(&o, &sh.reg), PMX_OK);
  assert_int_equal(pmx_bus_new(&sh.bus), PMX_OK);
  pmx_metric_def_t c = {.kind = PMX_COUNTER, .name = "stress.requests", .event_name = "stress",
                        .measurement = "latency", .tags = tag, .n_tags = 1, .max_series = MAX_SERIES};
  pmx_metric_def_t h = {.kind = PMX_DISTRIBUTION, .name = "stress.latency", .event_name = "stress",
                        .tags = tag, .n_tags = 1, .buckets = bounds, .n_buckets = 3,
                        .max_series = MAX_SERIES};
  assert_int_equal(pmx_metric_define(sh.reg, &c, &sh.counter, NULL), PMX_OK);
  assert_int_equal(pmx_metric_define(sh.reg, &h, &sh.hist, NULL), PMX_OK);
  assert_int_equal(pmx_metric_attach(sh.counter, sh.bus, NULL), PMX_OK);
  assert_int_equal(pmx_metric_attach(sh.hist, sh.bus, NULL), PMX_OK);
  assert_int_equal(pmx_bus_event(sh.bus, "stress", &sh.ev), PMX_OK);
  for (int k = 0; k < VALUES; k++) snprintf(names[k], sizeof names[k], "c%02d", k);
  atomic_store(&sh.emitters_left, EMITTERS);

  pthread_t th[EMITTERS + 3];
  for (int i = 0; i < EMITTERS; i++) assert_int_equal(pthread_create(&th[i], NULL, emitter, &sh), 0);
  assert_int_equal(pthread_create(&th[EMITTERS], NULL, direct, &sh), 0);
  assert_int_equal(pthread_create(&th[EMITTERS + 1], NULL, deleter, &sh), 0);
  assert_int_equal(pthread_create(&th[EMITTERS + 2], NULL, scraper, &sh), 0);
  for (int i = 0; i < EMITTERS + 3; i++) assert_int_equal(pthread_join(th[i], NULL), 0);

  print_message("renders %ld, removals %ld\n", atomic_load(&sh.renders), atomic_load(&sh.removals));
  assert_true(atomic_load(&sh.renders) > 0);
  assert_true(atomic_load(&sh.removals) > 0);
  assert_int_equal(atomic_load(&sh.bad_renders), 0);
  assert_int_equal(atomic_load(&sh.over_limit), 0);

  /* Quiet now: a reset and known events give exact counts, in series that reuse memory. */
  assert_int_equal(pmx_metric_reset(sh.counter), PMX_OK);
  assert_int_equal(pmx_metric_reset(sh.hist), PMX_OK);
  for (int i = 0; i < 30; i++) {
    pmx_meta_t md[] = {PMX_META_S("conn", value_name(i % 3))};
    pmx_measurement_t ms[] = {PMX_M("latency", 5)};
    assert_int_equal(pmx_emit(sh.ev, ms, 1, md, 1), 2);
  }
  char *text = ct_render(sh.reg, PMX_FORMAT_TEXT);
  for (int k = 0; k < 3; k++) {
    assert_true(ct_has_linef(text, "stress_requests{conn=\"%s\"} 10", value_name(k)));
    assert_true(ct_has_linef(text, "stress_latency_count{conn=\"%s\"} 10", value_name(k)));
    assert_true(ct_has_linef(text, "stress_latency_bucket{conn=\"%s\",le=\"1\"} 0", value_name(k)));
  }
  assert_int_equal(ct_count(text, "stress_requests{"), 3);
  free(text);
  assert_int_equal(pmx_metric_series_count(sh.counter), 3);
  pmx_registry_destroy(sh.reg);
  pmx_bus_destroy(sh.bus);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_emit_remove_scrape)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
