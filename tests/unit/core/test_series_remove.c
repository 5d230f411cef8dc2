/* Series removal (pmx_metric_remove / pmx_metric_reset): every error case, removal from the
 * exposition, room freed under max_series, memory reused under label churn, and the series table
 * staying correct after deletions (backward-shift deletion under collisions). */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/core_internal.h"
#include "core/grace.h"
#include "core_test_util.h"
#include "promex/promex.h"

static const char *const one_tag[] = {"k"};
static const char *const two_tags[] = {"a", "b"};
static const double bounds[] = {1, 10};

static pmx_metric_t *define(pmx_registry_t *reg, pmx_metric_kind_t kind, const char *name,
                            size_t n_tags, size_t max_series) {
  pmx_metric_def_t def = {.kind = kind, .name = name, .tags = n_tags == 2 ? two_tags : one_tag,
                          .n_tags = n_tags, .max_series = max_series};
  if (kind == PMX_DISTRIBUTION) {
    def.buckets = bounds;
    def.n_buckets = 2;
  }
  pmx_metric_t *m = NULL;
  assert_int_equal(pmx_metric_define(reg, &def, &m, NULL), PMX_OK);
  return m;
}

static pmx_registry_t *new_reg(void) {
  pmx_registry_t *reg = NULL;
  pmx_registry_opts_t o = {.no_own_metrics = true};
  assert_int_equal(pmx_registry_new(&o, &reg), PMX_OK);
  return reg;
}

static void test_errors(void **state) {
  (void)state;
  pmx_registry_t *reg = new_reg();
  pmx_metric_t *m = define(reg, PMX_COUNTER, "req_total", 2, 0);
  const char *v[] = {"x", "y"};
  const char *with_null[] = {"x", NULL};
  pmx_series_t *s;
  assert_int_equal(pmx_metric_labels(m, v, 2, &s), PMX_OK);
  assert_int_equal(pmx_metric_remove(NULL, v, 2), PMX_EINVAL);
  assert_int_equal(pmx_metric_remove(m, v, 1), PMX_EINVAL);     /* wrong count */
  assert_int_equal(pmx_metric_remove(m, v, 3), PMX_EINVAL);
  assert_int_equal(pmx_metric_remove(m, NULL, 2), PMX_EINVAL);  /* no values */
  assert_int_equal(pmx_metric_remove(m, with_null, 2), PMX_EINVAL);
  const char *other[] = {"x", "z"};
  assert_int_equal(pmx_metric_remove(m, other, 2), PMX_ENOENT); /* never created */
  assert_int_equal(pmx_metric_reset(NULL), PMX_EINVAL);
  /* Nothing above changed the family. */
  assert_int_equal(pmx_metric_series_count(m), 1);
  assert_int_equal(pmx_metric_remove(m, v, 2), PMX_OK);
  assert_int_equal(pmx_metric_remove(m, v, 2), PMX_ENOENT);     /* removed already */
  assert_int_equal(pmx_metric_series_count(m), 0);
  assert_int_equal(pmx_metric_reset(m), PMX_OK);                /* empty: nothing to do */
  pmx_registry_destroy(reg);
}

static void test_remove_leaves_exposition(void **state) {
  (void)state;
  pmx_registry_t *reg = new_reg();
  pmx_metric_t *m = define(reg, PMX_COUNTER, "mounts_total", 1, 0);
  const char *a[] = {"/a"}, *b[] = {"/b"};
  pmx_series_t *sa, *sb;
  assert_int_equal(pmx_metric_labels(m, a, 1, &sa), PMX_OK);
  assert_int_equal(pmx_metric_labels(m, b, 1, &sb), PMX_OK);
  assert_int_equal(pmx_series_add(sa, 5), PMX_OK);
  assert_int_equal(pmx_series_add(sb, 7), PMX_OK);
  assert_int_equal(pmx_metric_remove(m, a, 1), PMX_OK);
  char *text = ct_render(reg, PMX_FORMAT_TEXT);
  assert_false(strstr(text, "k=\"/a\""));
  assert_true(ct_has_line(text, "mounts_total{k=\"/b\"} 7"));
  free(text);
  /* The same labels again: a new series from zero. */
  assert_int_equal(pmx_metric_labels(m, a, 1, &sa), PMX_OK);
  assert_true(pmx_series_value(sa) == 0);
  assert_int_equal(pmx_series_inc(sa), PMX_OK);
  text = ct_render(reg, PMX_FORMAT_TEXT);
  assert_true(ct_has_line(text, "mounts_total{k=\"/a\"} 1"));
  assert_true(ct_has_line(text, "mounts_total{k=\"/b\"} 7"));
  free(text);
  pmx_registry_destroy(reg);
}

static void test_unlabelled(void **state) {
  (void)state;
  pmx_registry_t *reg = new_reg();
  pmx_metric_t *m = define(reg, PMX_COUNTER, "solo_total", 0, 0);
  pmx_series_t *s;
  assert_int_equal(pmx_metric_labels(m, NULL, 0, &s), PMX_OK);
  assert_int_equal(pmx_series_add(s, 3), PMX_OK);
  assert_int_equal(pmx_metric_remove(m, NULL, 0), PMX_OK);
  assert_int_equal(pmx_metric_remove(m, NULL, 0), PMX_ENOENT);
  char *text = ct_render(reg, PMX_FORMAT_TEXT);
  assert_int_equal(ct_count(text, "\nsolo_total "), 0); /* no sample line */
  free(text);
  assert_int_equal(pmx_metric_labels(m, NULL, 0, &s), PMX_OK);
  assert_int_equal(pmx_series_inc(s), PMX_OK);
  text = ct_render(reg, PMX_FORMAT_TEXT);
  assert_true(ct_has_line(text, "solo_total 1"));
  free(text);
  pmx_registry_destroy(reg);
}

static void test_reset_histogram(void **state) {
  (void)state;
  pmx_registry_t *reg = new_reg();
  pmx_metric_t *m = define(reg, PMX_DISTRIBUTION, "lat_seconds", 1, 0);
  char val[16];
  for (int i = 0; i < 3; i++) {
    snprintf(val, sizeof val, "q%d", i);
    const char *v[] = {val};
    pmx_series_t *s;
    assert_int_equal(pmx_metric_labels(m, v, 1, &s), PMX_OK);
    assert_int_equal(pmx_series_observe(s, 5), PMX_OK);
  }
  assert_int_equal(pmx_metric_reset(m), PMX_OK);
  assert_int_equal(pmx_metric_series_count(m), 0);
  char *text = ct_render(reg, PMX_FORMAT_TEXT);
  assert_int_equal(ct_count(text, "lat_seconds_bucket"), 0);
  free(text);
  /* A reused series starts empty: its buckets, count and sum are those of the new observation. */
  const char *v[] = {"q9"};
  pmx_series_t *s;
  assert_int_equal(pmx_metric_labels(m, v, 1, &s), PMX_OK);
  assert_int_equal(pmx_series_observe(s, 0.5), PMX_OK);
  uint64_t cum[3], count;
  double sum;
  assert_int_equal(pmx_series_histogram(s, cum, 3, &count, &sum), PMX_OK);
  assert_int_equal(count, 1);
  assert_int_equal(cum[0], 1);
  assert_true(sum == 0.5);
  pmx_registry_destroy(reg);
}

static void test_room_under_limit(void **state) {
  (void)state;
  pmx_registry_t *reg = new_reg();
  pmx_metric_t *m = define(reg, PMX_COUNTER, "lim_total", 1, 2);
  const char *a[] = {"a"}, *b[] = {"b"}, *c[] = {"c"};
  pmx_series_t *s;
  assert_int_equal(pmx_metric_labels(m, a, 1, &s), PMX_OK);
  assert_int_equal(pmx_metric_labels(m, b, 1, &s), PMX_OK);
  assert_int_equal(pmx_metric_labels(m, c, 1, &s), PMX_ELIMIT);
  assert_int_equal(pmx_metric_remove(m, a, 1), PMX_OK);
  assert_int_equal(pmx_metric_labels(m, c, 1, &s), PMX_OK);
  assert_int_equal(pmx_metric_series_count(m), 2);
  pmx_registry_destroy(reg);
}

static size_t arena_bytes(const pmx_metric_t *m) {
  size_t n = 0;
  for (const pmx__arena_chunk_t *c = m->arena.head; c != NULL; c = c->next) n += c->cap;
  return n;
}

/* 1e5 distinct label values created and removed under max_series 100, with 50 kept alive at any
 * time (so removals shift entries in a populated table): the arena and the number of live
 * allocations stop growing after warm-up, and never is a create refused. */
static void churn(pmx_metric_kind_t kind, const char *name) {
  pmx_registry_t *reg = new_reg();
  pmx_metric_t *m = define(reg, kind, name, 1, 100);
  enum { TOTAL = 100000, LIVE = 50, WARM = 1000 };
  size_t warm_bytes = 0;
  long warm_blocks = 0;
  char val[32];
  for (int i = 0; i < TOTAL; i++) {
    snprintf(val, sizeof val, "conn-%d", i);
    const char *v[] = {val};
    pmx_series_t *s;
    assert_int_equal(pmx_metric_labels(m, v, 1, &s), PMX_OK);
    if (kind == PMX_DISTRIBUTION) {
      assert_int_equal(pmx_series_observe(s, 2), PMX_OK);
    } else {
      assert_int_equal(pmx_series_inc(s), PMX_OK);
    }
    if (i >= LIVE) {
      snprintf(val, sizeof val, "conn-%d", i - LIVE);
      assert_int_equal(pmx_metric_remove(m, v, 1), PMX_OK);
    }
    if (i == WARM) {
      warm_bytes = arena_bytes(m);
      warm_blocks = pmx_allocated_blocks();
    }
  }
  assert_int_equal(pmx_metric_series_count(m), LIVE);
  assert_int_equal(pmx_metric_dropped_series(m), 0);
  assert_int_equal(arena_bytes(m), warm_bytes);
  assert_int_equal(pmx_allocated_blocks(), warm_blocks);
  /* The live ones are exactly the last LIVE, each found (not recreated) with its one update. */
  for (int i = TOTAL - LIVE; i < TOTAL; i++) {
    snprintf(val, sizeof val, "conn-%d", i);
    const char *v[] = {val};
    pmx_series_t *s;
    assert_int_equal(pmx_metric_labels(m, v, 1, &s), PMX_OK);
    assert_true(pmx_series_value(s) == 1);
  }
  assert_int_equal(pmx_metric_series_count(m), LIVE);
  pmx_registry_destroy(reg);
}

static void test_churn_counter(void **state) {
  (void)state;
  churn(PMX_COUNTER, "churn_total");
}
static void test_churn_histogram(void **state) {
  (void)state;
  churn(PMX_DISTRIBUTION, "churn_seconds");
}

/* Removes series in a scrambled order from a table where probe runs overlap; after each removal
 * every remaining series is still found by lookup (same handle, its own value) and no lookup
 * creates a series. */
static void test_table_after_deletions(void **state) {
  (void)state;
  pmx_registry_t *reg = new_reg();
  pmx_metric_t *m = define(reg, PMX_SUM, "tbl_total", 2, 0);
  enum { N = 300 };
  pmx_series_t *handles[N];
  bool gone[N] = {false};
  char a[N][8], b[N][8];
  for (int i = 0; i < N; i++) {
    snprintf(a[i], sizeof a[i], "%d", i % 17);
    snprintf(b[i], sizeof b[i], "%d", i);
    const char *v[] = {a[i], b[i]};
    assert_int_equal(pmx_metric_labels(m, v, 2, &handles[i]), PMX_OK);
    assert_int_equal(pmx_series_add(handles[i], i), PMX_OK);
  }
  for (int k = 0; k < N; k++) {
    int r = (k * 113) % N; /* 113 is prime to 300: every index once */
    const char *v[] = {a[r], b[r]};
    assert_int_equal(pmx_metric_remove(m, v, 2), PMX_OK);
    gone[r] = true;
    if (k % 7 != 0 && k != N - 1) continue;
    for (int i = 0; i < N; i++) {
      if (gone[i]) continue;
      const char *w[] = {a[i], b[i]};
      pmx_series_t *s;
      assert_int_equal(pmx_metric_labels(m, w, 2, &s), PMX_OK);
      assert_ptr_equal(s, handles[i]);
      assert_true(pmx_series_value(s) == i);
    }
    assert_int_equal(pmx_metric_series_count(m), N - k - 1);
  }
  pmx_registry_destroy(reg);
}

/* Removal through events: a series removed while attached is recreated from zero by the next
 * event. */
static void test_event_path(void **state) {
  (void)state;
  pmx_registry_t *reg = new_reg();
  pmx_bus_t *bus;
  assert_int_equal(pmx_bus_new(&bus), PMX_OK);
  pmx_metric_def_t def = {.kind = PMX_COUNTER, .name = "ifc.up.count", .tags = one_tag, .n_tags = 1};
  pmx_metric_t *m;
  assert_int_equal(pmx_metric_define(reg, &def, &m, NULL), PMX_OK);
  assert_int_equal(pmx_metric_attach(m, bus, NULL), PMX_OK);
  pmx_meta_t md[] = {PMX_META_S("k", "eth0")};
  pmx_measurement_t ms[] = {PMX_M("count", 1)};
  for (int i = 0; i < 3; i++) assert_int_equal(pmx_emit_name(bus, "ifc.up", ms, 1, md, 1), 1);
  const char *v[] = {"eth0"};
  assert_int_equal(pmx_metric_remove(m, v, 1), PMX_OK);
  assert_int_equal(pmx_emit_name(bus, "ifc.up", ms, 1, md, 1), 1);
  char *text = ct_render(reg, PMX_FORMAT_TEXT);
  assert_true(ct_has_line(text, "ifc_up_count{k=\"eth0\"} 1"));
  free(text);
  pmx_registry_destroy(reg);
  pmx_bus_destroy(bus);
}

/* A removal from inside a reader section (as from a render or handler path) cannot wait for the
 * grace period: the series stays retired, not reused, until a later removal outside one. */
static void test_removal_inside_reader_section(void **state) {
  (void)state;
  pmx_registry_t *reg = new_reg();
  pmx_metric_t *m = define(reg, PMX_COUNTER, "nested_total", 1, 0);
  const char *a[] = {"a"}, *b[] = {"b"}, *c[] = {"c"};
  pmx_series_t *sa, *sb, *sc;
  assert_int_equal(pmx_metric_labels(m, a, 1, &sa), PMX_OK);
  assert_int_equal(pmx_metric_labels(m, b, 1, &sb), PMX_OK);
  pmx__read_t rd = pmx__read_begin();
  assert_int_equal(pmx_metric_remove(m, a, 1), PMX_OK);
  assert_int_equal(m->n_retired, 1);
  assert_ptr_equal(m->retired[0], sa);
  /* Not reusable yet: a new series gets fresh memory. */
  assert_int_equal(pmx_metric_labels(m, c, 1, &sc), PMX_OK);
  assert_ptr_not_equal(sc, sa);
  pmx__read_end(rd);
  assert_int_equal(pmx_metric_remove(m, b, 1), PMX_OK); /* reclaims both */
  assert_int_equal(m->n_retired, 0);
  assert_null(m->retired);
  const char *d[] = {"d"}, *e[] = {"e"};
  pmx_series_t *sd, *se;
  assert_int_equal(pmx_metric_labels(m, d, 1, &sd), PMX_OK);
  assert_int_equal(pmx_metric_labels(m, e, 1, &se), PMX_OK);
  assert_true((sd == sa || sd == sb) && (se == sa || se == sb) && sd != se);
  pmx_registry_destroy(reg);
}

/* A series that reuses a removed one's memory starts without its exemplars, for counters and for
 * every histogram bucket. */
static void test_reuse_drops_exemplars(void **state) {
  (void)state;
  pmx_registry_t *reg = new_reg();
  static const char *const tags[] = {"k"};
  static const double bnds[] = {1, 2};
  pmx_metric_def_t dc = {.kind = PMX_COUNTER, .name = "hits", .exemplar_key = "trace_id",
                         .tags = tags, .n_tags = 1};
  pmx_metric_def_t dh = {.kind = PMX_DISTRIBUTION, .name = "wait_seconds", .exemplar_key = "trace_id",
                         .tags = tags, .n_tags = 1, .buckets = bnds, .n_buckets = 2};
  pmx_metric_t *mc, *mh;
  assert_int_equal(pmx_metric_define(reg, &dc, &mc, NULL), PMX_OK);
  assert_int_equal(pmx_metric_define(reg, &dh, &mh, NULL), PMX_OK);
  const char *a[] = {"a"}, *b[] = {"b"};
  pmx_series_t *sc, *sh;
  assert_int_equal(pmx_metric_labels(mc, a, 1, &sc), PMX_OK);
  assert_int_equal(pmx_metric_labels(mh, a, 1, &sh), PMX_OK);
  assert_int_equal(pmx_series_add_exemplar(sc, 1, "feedface"), PMX_OK);
  assert_int_equal(pmx_series_observe_exemplar(sh, 0.5, "feedface"), PMX_OK);
  assert_int_equal(pmx_series_observe_exemplar(sh, 9, "feedface"), PMX_OK);
  char *om = ct_render(reg, PMX_FORMAT_OPENMETRICS);
  assert_int_equal(ct_count(om, "feedface"), 3);
  free(om);
  assert_int_equal(pmx_metric_remove(mc, a, 1), PMX_OK);
  assert_int_equal(pmx_metric_remove(mh, a, 1), PMX_OK);
  pmx_series_t *sc2, *sh2;
  assert_int_equal(pmx_metric_labels(mc, b, 1, &sc2), PMX_OK);
  assert_int_equal(pmx_metric_labels(mh, b, 1, &sh2), PMX_OK);
  assert_ptr_equal(sc2, sc); /* the memory was reused: the case this test is about */
  assert_ptr_equal(sh2, sh);
  assert_int_equal(pmx_series_inc(sc2), PMX_OK);
  assert_int_equal(pmx_series_observe(sh2, 0.5), PMX_OK);
  om = ct_render(reg, PMX_FORMAT_OPENMETRICS);
  assert_int_equal(ct_count(om, "feedface"), 0);
  assert_true(ct_has_line(om, "hits_total{k=\"b\"} 1"));
  free(om);
  pmx_registry_destroy(reg);
}

/* Tables replaced by growth are freed at a later growth once no other thread is inside a reader
 * section, and kept while one is (it may still be probing them). */
static atomic_int holder_state; /* 0 start, 1 inside its section, 2 asked to leave */
static void *section_holder(void *p) {
  (void)p;
  pmx__read_t rd = pmx__read_begin();
  atomic_store(&holder_state, 1);
  while (atomic_load(&holder_state) != 2) {
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
  pmx__read_end(rd);
  return NULL;
}

static void create_up_to(pmx_metric_t *m, int from, int to) {
  for (int i = from; i < to; i++) {
    char id[16];
    snprintf(id, sizeof id, "%d", i);
    const char *v[] = {id};
    pmx_series_t *s;
    assert_int_equal(pmx_metric_labels(m, v, 1, &s), PMX_OK);
  }
}

static void test_growth_frees_replaced_tables(void **state) {
  (void)state;
  pmx_registry_t *reg = new_reg();
  pmx_metric_t *m = define(reg, PMX_COUNTER, "grown_total", 1, 0);
  create_up_to(m, 0, 200); /* grows 16 -> 512 slots, nobody else reading */
  assert_null(m->retired_tables);
  assert_int_equal(atomic_load(&m->table)->mask + 1, 512);

  atomic_store(&holder_state, 0);
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, section_holder, NULL), 0);
  while (atomic_load(&holder_state) != 1) sched_yield();
  create_up_to(m, 200, 400); /* grows to 1024 while another thread is inside a section */
  assert_int_equal(atomic_load(&m->table)->mask + 1, 1024);
  assert_non_null(m->retired_tables);
  assert_int_equal(m->retired_tables->mask + 1, 512);

  atomic_store(&holder_state, 2);
  pthread_join(t, NULL);
  create_up_to(m, 400, 800); /* grows to 2048: the parked tables go now */
  assert_int_equal(atomic_load(&m->table)->mask + 1, 2048);
  assert_null(m->retired_tables);
  for (int i = 0; i < 800; i += 97) { /* every series still found */
    char id[16];
    snprintf(id, sizeof id, "%d", i);
    const char *v[] = {id};
    pmx_series_t *s;
    assert_int_equal(pmx_metric_labels(m, v, 1, &s), PMX_OK);
  }
  assert_int_equal(pmx_metric_series_count(m), 800);
  pmx_registry_destroy(reg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_remove_leaves_exposition),
      cmocka_unit_test(test_unlabelled),
      cmocka_unit_test(test_reset_histogram),
      cmocka_unit_test(test_room_under_limit),
      cmocka_unit_test(test_churn_counter),
      cmocka_unit_test(test_churn_histogram),
      cmocka_unit_test(test_table_after_deletions),
      cmocka_unit_test(test_event_path),
      cmocka_unit_test(test_removal_inside_reader_section),
      cmocka_unit_test(test_reuse_drops_exemplars),
      cmocka_unit_test(test_growth_frees_replaced_tables),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
