/* Concurrency: two threads emit events while a third attaches and detaches a handler and renders.
 * Checks that final counts are exact, that a detached handler is never called after detach
 * returns, and that every render shows consistent histograms (cumulative buckets, +Inf ==
 * _count). The counter and the histogram take the same tag, so within each emit they share one
 * key (src/core/emit_keys.h), on each emitting thread's own stack. Meant to run under TSan too
 * (label "concurrency"). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <stdio.h>

#include "internal.h"

#include "promex/promex.h"

#define EVENTS_PER_THREAD 100000
#define EMITTERS 2

typedef struct shared {
  pmx_bus_t *bus;
  pmx_registry_t *reg;
  pmx_event_t *ev;
  atomic_bool stop;
  atomic_bool detached;       /* set right after detach returns; any call then is a violation */
  atomic_long late_calls;
  atomic_long probe_calls;
  atomic_long renders;
  atomic_long inconsistent;
} shared_t;

static void probe_handler(const pmx_event_data_t *ev, void *config) {
  (void)ev;
  shared_t *sh = config;
  if (atomic_load(&sh->detached)) atomic_fetch_add(&sh->late_calls, 1);
  atomic_fetch_add(&sh->probe_calls, 1);
}

typedef struct emitter_arg {
  shared_t *sh;
  const char *worker;
} emitter_arg_t;

static void *emitter(void *p) {
  emitter_arg_t *a = p;
  for (int i = 0; i < EVENTS_PER_THREAD; i++) {
    pmx_meta_t md[] = {PMX_META_S("worker", a->worker), PMX_META_I("bucket", i % 3)};
    pmx_measurement_t m[] = {{"duration", (double)(i % 1000)}};
    assert_true(pmx_emit(a->sh->ev, m, 1, md, 2) >= 2);
  }
  return NULL;
}

/* Checks one text render: for every histogram series, buckets are non-decreasing and the +Inf
 * bucket equals _count. The format is the one pmx_render writes: one sample per line. */
static bool render_consistent(const char *text) {
  uint64_t prev = 0, inf = 0;
  const char *line = text;
  while (*line) {
    const char *end = strchr(line, '\n');
    if (end == NULL) return false;
    if (strncmp(line, "work_duration_bucket{", 21) == 0) {
      const char *sp = memrchr(line, ' ', (size_t)(end - line));
      uint64_t v = strtoull(sp + 1, NULL, 10);
      bool is_inf = strstr(line, "le=\"+Inf\"") != NULL && strstr(line, "le=\"+Inf\"") < end;
      if (v < prev) return false;
      prev = v;
      if (is_inf) inf = v;
    } else if (strncmp(line, "work_duration_count{", 20) == 0) {
      const char *sp = memrchr(line, ' ', (size_t)(end - line));
      if (strtoull(sp + 1, NULL, 10) != inf) return false;
      prev = 0;
    }
    line = end + 1;
  }
  return true;
}

static void *controller(void *p) {
  shared_t *sh = p;
  pmx_buf_t buf = {0};
  while (!atomic_load(&sh->stop)) {
    atomic_store(&sh->detached, false);
    assert_int_equal(pmx_bus_attach(sh->bus, "probe", "work.done", probe_handler, sh), PMX_OK);
    buf.len = 0;
    assert_int_equal(pmx_render(sh->reg, PMX_FORMAT_TEXT, &buf), PMX_OK);
    assert_int_equal(pmx__buf_append_nul(&buf), PMX_OK);
    if (!render_consistent(buf.data)) atomic_fetch_add(&sh->inconsistent, 1);
    atomic_fetch_add(&sh->renders, 1);
    assert_int_equal(pmx_bus_detach(sh->bus, "probe"), PMX_OK);
    atomic_store(&sh->detached, true);
  }
  pmx_buf_free(&buf);
  return NULL;
}

static void test_emit_attach_detach_render(void **state) {
  (void)state;
  shared_t sh;
  memset(&sh, 0, sizeof sh);
  assert_int_equal(pmx_bus_new(&sh.bus), PMX_OK);
  assert_int_equal(pmx_registry_new(NULL, &sh.reg), PMX_OK);
  static const char *const tags[] = {"worker"};
  static const double buckets[] = {10, 100, 500};
  pmx_metric_def_t defs[] = {
      {.kind = PMX_COUNTER, .name = "work_total", .event_name = "work.done", .tags = tags, .n_tags = 1},
      {.kind = PMX_DISTRIBUTION, .name = "work.duration", .event_name = "work.done", .tags = tags,
       .n_tags = 1, .buckets = buckets, .n_buckets = 3},
  };
  pmx_metric_t *m[2];
  for (int i = 0; i < 2; i++) {
    assert_int_equal(pmx_metric_define(sh.reg, &defs[i], &m[i], NULL), PMX_OK);
    assert_int_equal(pmx_metric_attach(m[i], sh.bus, NULL), PMX_OK);
  }
  assert_int_equal(pmx_bus_event(sh.bus, "work.done", &sh.ev), PMX_OK);

  pthread_t ctl, em[EMITTERS];
  emitter_arg_t args[EMITTERS] = {{&sh, "a"}, {&sh, "b"}};
  assert_int_equal(pthread_create(&ctl, NULL, controller, &sh), 0);
  for (int i = 0; i < EMITTERS; i++) assert_int_equal(pthread_create(&em[i], NULL, emitter, &args[i]), 0);
  for (int i = 0; i < EMITTERS; i++) pthread_join(em[i], NULL);
  atomic_store(&sh.stop, true);
  pthread_join(ctl, NULL);

  assert_int_equal(atomic_load(&sh.late_calls), 0);
  assert_int_equal(atomic_load(&sh.inconsistent), 0);
  assert_true(atomic_load(&sh.renders) > 0);
  for (int i = 0; i < EMITTERS; i++) {
    const char *v[] = {args[i].worker};
    pmx_series_t *s;
    assert_int_equal(pmx_metric_labels(m[0], v, 1, &s), PMX_OK);
    assert_true(pmx_series_value(s) == EVENTS_PER_THREAD);
    assert_int_equal(pmx_metric_labels(m[1], v, 1, &s), PMX_OK);
    uint64_t cum[4], count;
    double sum;
    assert_int_equal(pmx_series_histogram(s, cum, 4, &count, &sum), PMX_OK);
    assert_int_equal(count, EVENTS_PER_THREAD);
    assert_int_equal(cum[3], count);
    /* durations are i % 1000: each of 100 full cycles sums to 499500 */
    assert_true(sum == 499500.0 * (EVENTS_PER_THREAD / 1000));
  }
  pmx_registry_destroy(sh.reg);
  pmx_bus_destroy(sh.bus);
}

/* Many threads creating the same and different series at once through the direct API: every
 * increment lands, no series is created twice. */
typedef struct creator_arg {
  pmx_metric_t *m;
  int id;
} creator_arg_t;

static void *creator(void *p) {
  creator_arg_t *a = p;
  char buf[16];
  for (int i = 0; i < 20000; i++) {
    snprintf(buf, sizeof buf, "%d", i % 5000);
    const char *v[] = {buf};
    pmx_series_t *s;
    assert_int_equal(pmx_metric_labels(a->m, v, 1, &s), PMX_OK);
    assert_int_equal(pmx_series_inc(s), PMX_OK);
  }
  return NULL;
}

static void test_concurrent_series_creation(void **state) {
  (void)state;
  pmx_registry_t *reg;
  assert_int_equal(pmx_registry_new(NULL, &reg), PMX_OK);
  static const char *const tags[] = {"id"};
  pmx_metric_def_t def = {.kind = PMX_COUNTER, .name = "created_total", .tags = tags, .n_tags = 1};
  pmx_metric_t *m;
  assert_int_equal(pmx_metric_define(reg, &def, &m, NULL), PMX_OK);
  pthread_t t[4];
  creator_arg_t a[4];
  for (int i = 0; i < 4; i++) {
    a[i] = (creator_arg_t){m, i};
    pthread_create(&t[i], NULL, creator, &a[i]);
  }
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  assert_int_equal(pmx_metric_series_count(m), 5000);
  for (int k = 0; k < 5000; k++) {
    char buf[16];
    snprintf(buf, sizeof buf, "%d", k);
    const char *v[] = {buf};
    pmx_series_t *s;
    assert_int_equal(pmx_metric_labels(m, v, 1, &s), PMX_OK);
    assert_true(pmx_series_value(s) == 16); /* 4 threads x 20000 / 5000 */
  }
  pmx_registry_destroy(reg);
}

/* An unlabelled counter is sharded across cache lines by thread: increments from several threads
 * (integral and fractional) must still add up exactly, through the direct API and events. */
static void *hammer(void *p) {
  pmx_series_t *s = p;
  for (int i = 0; i < 50000; i++) {
    assert_int_equal(pmx_series_inc(s), PMX_OK);
    assert_int_equal(pmx_series_add(s, 0.5), PMX_OK);
  }
  return NULL;
}

static void test_unlabelled_counter_from_many_threads(void **state) {
  (void)state;
  pmx_registry_t *reg;
  assert_int_equal(pmx_registry_new(NULL, &reg), PMX_OK);
  pmx_metric_def_t def = {.kind = PMX_SUM, .name = "hammered_total"};
  pmx_metric_t *m;
  pmx_series_t *s;
  assert_int_equal(pmx_metric_define(reg, &def, &m, NULL), PMX_OK);
  assert_int_equal(pmx_metric_labels(m, NULL, 0, &s), PMX_OK);
  pthread_t t[12];
  for (int i = 0; i < 12; i++) pthread_create(&t[i], NULL, hammer, s);
  for (int i = 0; i < 12; i++) pthread_join(t[i], NULL);
  assert_true(pmx_series_value(s) == 12 * 50000 * 1.5);
  pmx_buf_t buf = {0};
  assert_int_equal(pmx_render(reg, PMX_FORMAT_TEXT, &buf), PMX_OK);
  assert_int_equal(pmx__buf_append_nul(&buf), PMX_OK);
  assert_non_null(strstr(buf.data, "\nhammered_total 900000\n"));
  pmx_buf_free(&buf);
  pmx_registry_destroy(reg);
}

/* A handler that resolves an event (takes the bus's table mutex) while another thread attaches
 * and detaches (waits for running handlers): the writer must not hold that mutex while waiting. */
static pmx_bus_t *g_bus;
static atomic_bool g_stop;
static void resolving_handler(const pmx_event_data_t *ev, void *config) {
  (void)ev;
  (void)config;
  struct timespec ts = {0, 200000};
  nanosleep(&ts, NULL); /* be inside the handler while the writer waits */
  assert_true(pmx_emit_name(g_bus, "derived.event", NULL, 0, NULL, 0) >= 0);
}
static void noop_handler(const pmx_event_data_t *ev, void *config) {
  (void)ev;
  (void)config;
}
static void *resolving_emitter(void *p) {
  (void)p;
  pmx_event_t *ev;
  assert_int_equal(pmx_bus_event(g_bus, "source.event", &ev), PMX_OK);
  while (!atomic_load(&g_stop)) pmx_emit(ev, NULL, 0, NULL, 0);
  return NULL;
}

static void test_handler_resolves_while_writer_waits(void **state) {
  (void)state;
  assert_int_equal(pmx_bus_new(&g_bus), PMX_OK);
  atomic_store(&g_stop, false);
  assert_int_equal(pmx_bus_attach(g_bus, "resolver", "source.event", resolving_handler, NULL), PMX_OK);
  pthread_t t;
  pthread_create(&t, NULL, resolving_emitter, NULL);
  for (int i = 0; i < 50; i++) {
    assert_int_equal(pmx_bus_attach(g_bus, "other", "other.event", noop_handler, NULL), PMX_OK);
    assert_int_equal(pmx_bus_detach(g_bus, "other"), PMX_OK);
  }
  atomic_store(&g_stop, true);
  pthread_join(t, NULL);
  pmx_bus_destroy(g_bus);
}

/* The first threads own a counter cell each and add to it with plain stores; an exiting thread
 * hands its cell to the next one. Waves of short-lived threads (more per wave than there are
 * owned cells, so some share) must add up exactly after every wave: nothing an exited owner
 * wrote is lost or counted twice by its successor. */
static void *short_lived(void *p) {
  pmx_series_t *s = p;
  for (int i = 0; i < 10000; i++) assert_int_equal(pmx_series_inc(s), PMX_OK);
  return NULL;
}

static void test_counter_cells_survive_thread_exits(void **state) {
  (void)state;
  pmx_registry_t *reg;
  assert_int_equal(pmx_registry_new(NULL, &reg), PMX_OK);
  pmx_metric_def_t def = {.kind = PMX_COUNTER, .name = "waves_total"};
  pmx_metric_t *m;
  pmx_series_t *s;
  assert_int_equal(pmx_metric_define(reg, &def, &m, NULL), PMX_OK);
  assert_int_equal(pmx_metric_labels(m, NULL, 0, &s), PMX_OK);
  for (int wave = 1; wave <= 4; wave++) {
    pthread_t t[11];
    for (int i = 0; i < 11; i++) assert_int_equal(pthread_create(&t[i], NULL, short_lived, s), 0);
    for (int i = 0; i < 11; i++) pthread_join(t[i], NULL);
    assert_true(pmx_series_value(s) == (double)wave * 11 * 10000);
  }
  pmx_registry_destroy(reg);
}

/* Buses share one grace-period domain with the store. A handler on one bus may still attach to
 * and detach from another bus: the wait must not count the caller's own emit section (it would
 * wait for itself forever). */
static pmx_bus_t *g_other_bus;
static int g_cross_rc = -1;
static void cross_bus_handler(const pmx_event_data_t *ev, void *config) {
  (void)ev;
  (void)config;
  int rc = pmx_bus_attach(g_other_bus, "cross", "other.event", noop_handler, NULL);
  if (rc == PMX_OK) rc = pmx_bus_detach(g_other_bus, "cross");
  g_cross_rc = rc;
}

static void test_handler_detaches_on_another_bus(void **state) {
  (void)state;
  pmx_bus_t *bus;
  assert_int_equal(pmx_bus_new(&bus), PMX_OK);
  assert_int_equal(pmx_bus_new(&g_other_bus), PMX_OK);
  assert_int_equal(pmx_bus_attach(bus, "h", "this.event", cross_bus_handler, NULL), PMX_OK);
  assert_int_equal(pmx_emit_name(bus, "this.event", NULL, 0, NULL, 0), 1);
  assert_int_equal(g_cross_rc, PMX_OK);
  /* The handler's detach took effect: nothing is left to detach. */
  assert_int_equal(pmx_bus_detach(g_other_bus, "cross"), PMX_ENOENT);
  pmx_bus_destroy(g_other_bus);
  pmx_bus_destroy(bus);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_emit_attach_detach_render),
      cmocka_unit_test(test_concurrent_series_creation),
      cmocka_unit_test(test_unlabelled_counter_from_many_threads),
      cmocka_unit_test(test_handler_resolves_while_writer_waits),
      cmocka_unit_test(test_counter_cells_survive_thread_exits),
      cmocka_unit_test(test_handler_detaches_on_another_bus),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
