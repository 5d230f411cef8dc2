/* The compact series layout (core_internal.h, struct pmx_series): arena handles for the creation
 * chain, the free-list class recomputed from label bytes, and the integer-path, owned-cells and
 * one-cell flags kept in the top bits of the hash word. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/core_internal.h"
#include "core_test_util.h"
#include "promex/promex.h"

static const char *const one_tag[] = {"k"};

static pmx_registry_t *new_reg(void) {
  pmx_registry_t *reg = NULL;
  pmx_registry_opts_t o = {.no_own_metrics = true};
  assert_int_equal(pmx_registry_new(&o, &reg), PMX_OK);
  return reg;
}

static pmx_metric_t *define_counter(pmx_registry_t *reg, const char *name, size_t max_series) {
  pmx_metric_def_t def = {.kind = PMX_COUNTER, .name = name, .tags = one_tag, .n_tags = 1,
                          .max_series = max_series};
  pmx_metric_t *m = NULL;
  assert_int_equal(pmx_metric_define(reg, &def, &m, NULL), PMX_OK);
  return m;
}

static size_t chunk_count(const pmx__arena_t *a) {
  size_t n = 0;
  for (const pmx__arena_chunk_t *c = a->head; c != NULL; c = c->next) n++;
  return n;
}

/* Allocations across many chunks (and so across directory growth) round-trip through their
 * handles; an address outside the arena has none; a directory loaded before a chunk was added
 * answers NULL for handles into it (a lock-free reader's miss), never a wrong address. */
static void test_arena_handles(void **state) {
  (void)state;
  pmx__arena_t a = {0};
  enum { N = 4000 };
  static unsigned char *ptrs[N];
  static uint32_t handles[N];
  const pmx__chunk_dir_t *first_dir = NULL;
  size_t first_dir_cap = 0;
  for (size_t i = 0; i < N; i++) {
    ptrs[i] = pmx__arena_alloc(&a, 8 + (i % 7) * 40); /* mixed sizes: 8..248 bytes */
    assert_non_null(ptrs[i]);
    handles[i] = pmx__arena_handle(&a, ptrs[i]);
    assert_int_not_equal(handles[i], 0);
    if (i == 0) {
      first_dir = atomic_load(&a.dir);
      first_dir_cap = first_dir->cap;
    }
  }
  assert_true(chunk_count(&a) >= first_dir_cap); /* the directory had to grow */
  const pmx__chunk_dir_t *d = atomic_load(&a.dir);
  assert_ptr_not_equal(d, first_dir);
  assert_int_equal(d->n, chunk_count(&a));
  size_t stale_misses = 0;
  for (size_t i = 0; i < N; i++) {
    assert_ptr_equal(pmx__arena_at(d, handles[i]), ptrs[i]);
    unsigned char *old = pmx__arena_at(first_dir, handles[i]);
    if (old == NULL) {
      stale_misses++;
    } else {
      assert_ptr_equal(old, ptrs[i]); /* chunks it knows are still right */
    }
  }
  assert_true(stale_misses > 0);
  unsigned char outside[16];
  assert_int_equal(pmx__arena_handle(&a, outside), 0);
  pmx__arena_free(&a);
  assert_null(a.head);
}

/* A family of 20,000 series (a dozen arena chunks) is walked, found and partly removed through
 * the handle-linked chain; renders and counts agree after every step. */
static void test_chain_across_chunks(void **state) {
  (void)state;
  enum { N = 20000 };
  pmx_registry_t *reg = new_reg();
  pmx_metric_t *m = define_counter(reg, "many_total", N);
  static pmx_series_t *s[N];
  char v[16];
  const char *vals[1] = {v};
  for (int i = 0; i < N; i++) {
    snprintf(v, sizeof v, "%d", i);
    assert_int_equal(pmx_metric_labels(m, vals, 1, &s[i]), PMX_OK);
    assert_int_equal(pmx_series_add(s[i], i), PMX_OK);
  }
  assert_true(chunk_count(&m->arena) > 8);
  size_t n = 0;
  for (pmx_series_t *it = atomic_load(&m->head); it != NULL; it = pmx__series_next(it)) {
    assert_ptr_equal(it, s[n]); /* creation order */
    n++;
  }
  assert_int_equal(n, N);
  /* Remove the odd ones, from the tail end too (the predecessor walk), then check the rest. */
  for (int i = N - 1; i >= 0; i--) {
    if (i % 2 == 0) continue;
    snprintf(v, sizeof v, "%d", i);
    assert_int_equal(pmx_metric_remove(m, vals, 1), PMX_OK);
  }
  assert_int_equal(pmx_metric_series_count(m), N / 2);
  n = 0;
  for (pmx_series_t *it = atomic_load(&m->head); it != NULL; it = pmx__series_next(it)) {
    assert_ptr_equal(it, s[2 * n]);
    n++;
  }
  assert_int_equal(n, N / 2);
  assert_ptr_equal(m->tail, s[N - 2]);
  for (int i = 0; i < N; i += 2) {
    snprintf(v, sizeof v, "%d", i);
    pmx_series_t *got;
    assert_int_equal(pmx_metric_labels(m, vals, 1, &got), PMX_OK);
    assert_ptr_equal(got, s[i]);
    assert_true(pmx_series_value(got) == (double)i);
  }
  char *text = ct_render(reg, PMX_FORMAT_TEXT);
  assert_true(ct_has_line(text, "many_total{k=\"0\"} 0"));
  assert_true(ct_has_line(text, "many_total{k=\"19998\"} 19998"));
  assert_false(ct_has_line(text, "many_total{k=\"19999\"} 19999"));
  free(text);
  /* A new series after the removals goes to the end of the chain. */
  const char *fresh[1] = {"fresh"};
  pmx_series_t *f;
  assert_int_equal(pmx_metric_labels(m, fresh, 1, &f), PMX_OK);
  assert_ptr_equal(m->tail, f);
  assert_ptr_equal(pmx__series_next(s[N - 2]), f);
  pmx_registry_destroy(reg);
}

/* The free list of a removed series is chosen by its label bytes (no stored capacity): a short
 * label reuses a short one's memory and a long label a long one's. */
static void test_reuse_by_label_class(void **state) {
  (void)state;
  pmx_registry_t *reg = new_reg();
  pmx_metric_t *m = define_counter(reg, "classes_total", 0);
  const char *shrt[1] = {"s"}, *lng[1] = {"a-label-value-of-40-bytes-xxxxxxxxxxxxxx"};
  pmx_series_t *ss, *sl;
  assert_int_equal(pmx_metric_labels(m, shrt, 1, &ss), PMX_OK);
  assert_int_equal(pmx_metric_labels(m, lng, 1, &sl), PMX_OK);
  assert_int_equal(pmx_metric_remove(m, shrt, 1), PMX_OK);
  assert_int_equal(pmx_metric_remove(m, lng, 1), PMX_OK);
  const char *long2[1] = {"another-label-value-of-40-bytes-xxxxxxxx"}, *short2[1] = {"t"};
  pmx_series_t *l2, *s2;
  assert_int_equal(pmx_metric_labels(m, long2, 1, &l2), PMX_OK);
  assert_int_equal(pmx_metric_labels(m, short2, 1, &s2), PMX_OK);
  assert_ptr_equal(l2, sl);
  assert_ptr_equal(s2, ss);
  char *text = ct_render(reg, PMX_FORMAT_TEXT);
  assert_true(ct_has_line(text, "classes_total{k=\"another-label-value-of-40-bytes-xxxxxxxx\"} 0"));
  assert_true(ct_has_line(text, "classes_total{k=\"t\"} 0"));
  free(text);
  pmx_registry_destroy(reg);
}

/* A counter whose integer cell passed PMX__INT_SPILL_AT has the flag bit in its hash word: it is
 * still found by lookups (they compare the hash bits only) and keeps counting, and a series that
 * later reuses its memory starts with the flag clear. */
static void test_closed_flag_in_hash_word(void **state) {
  (void)state;
  pmx_registry_t *reg = new_reg();
  pmx_metric_t *m = define_counter(reg, "big_total", 0);
  const char *a[1] = {"a"};
  pmx_series_t *s;
  assert_int_equal(pmx_metric_labels(m, a, 1, &s), PMX_OK);
  uint32_t h = pmx__series_hash(s);
  const double step = (double)(PMX__INT_STEP_MAX - 1);
  size_t steps = (size_t)(PMX__INT_SPILL_AT / (PMX__INT_STEP_MAX - 1)) + 1;
  for (size_t i = 0; i < steps; i++) assert_int_equal(pmx_series_add(s, step), PMX_OK);
  assert_true(atomic_load(&s->hash) & PMX__INT_CLOSED);
  assert_int_equal(pmx__series_hash(s), h);
  assert_int_equal(pmx_series_inc(s), PMX_OK); /* on the double path now */
  pmx_series_t *again;
  assert_int_equal(pmx_metric_labels(m, a, 1, &again), PMX_OK);
  assert_ptr_equal(again, s);
  assert_true(pmx_series_value(s) >= (double)PMX__INT_SPILL_AT);
  assert_int_equal(pmx_metric_remove(m, a, 1), PMX_OK);
  const char *b[1] = {"b"};
  pmx_series_t *reused;
  assert_int_equal(pmx_metric_labels(m, b, 1, &reused), PMX_OK);
  assert_ptr_equal(reused, s);
  assert_false(atomic_load(&reused->hash) & PMX__INT_CLOSED);
  assert_int_equal(pmx_series_inc(reused), PMX_OK);
  assert_true(pmx_series_value(reused) == 1.0);
  pmx_registry_destroy(reg);
}

/* The owned-cells and one-cell bits of the hash word are set exactly on the series whose fast
 * path they open: owned cells on unlabelled counters and counter sums, one cell on labelled ones;
 * both fast paths count exactly, and every other kind stays on the general path (a gauge keeps its
 * value in the double part). */
static void test_fast_path_bits_in_hash_word(void **state) {
  (void)state;
  pmx_registry_t *reg = new_reg();
  static const double bounds[] = {1, 2};
  struct {
    pmx_metric_def_t def;
    bool owned, one_cell;
  } cases[] = {
      {{.kind = PMX_COUNTER, .name = "plain_total"}, true, false},
      {{.kind = PMX_SUM, .name = "bytes_total"}, true, false},
      {{.kind = PMX_SUM, .name = "level", .sum_as_gauge = true}, false, false},
      {{.kind = PMX_LAST_VALUE, .name = "temp"}, false, false},
      {{.kind = PMX_COUNTER, .name = "tagged_total", .tags = one_tag, .n_tags = 1}, false, true},
      {{.kind = PMX_SUM, .name = "tagged_bytes_total", .tags = one_tag, .n_tags = 1}, false, true},
      {{.kind = PMX_SUM, .name = "tagged_level", .tags = one_tag, .n_tags = 1, .sum_as_gauge = true}, false, false},
      {{.kind = PMX_DISTRIBUTION, .name = "tagged_seconds", .tags = one_tag, .n_tags = 1, .buckets = bounds, .n_buckets = 2},
       false, false},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    pmx_metric_t *m = NULL;
    assert_int_equal(pmx_metric_define(reg, &cases[i].def, &m, NULL), PMX_OK);
    const char *v[1] = {"x"};
    pmx_series_t *s;
    assert_int_equal(pmx_metric_labels(m, v, cases[i].def.n_tags, &s), PMX_OK);
    uint32_t word = atomic_load(&s->hash);
    bool owned = (word & PMX__OWNED_CELLS) != 0, one_cell = (word & PMX__ONE_CELL) != 0;
    if (owned != cases[i].owned) fail_msg("%s: owned bit %d, want %d", cases[i].def.name, owned, cases[i].owned);
    if (one_cell != cases[i].one_cell) fail_msg("%s: one-cell bit %d, want %d", cases[i].def.name, one_cell, cases[i].one_cell);
    if (cases[i].def.kind == PMX_DISTRIBUTION) {
      assert_int_equal(pmx_series_inc(s), PMX_ETYPE);
      continue;
    }
    for (int k = 0; k < 1000; k++) assert_int_equal(pmx_series_inc(s), PMX_OK);
    assert_true(pmx_series_value(s) == 1000.0);
  }
  pmx_registry_destroy(reg);
}

/* A labelled counter's one-cell fast path closes the integer path when its cell reaches the spill
 * point, like the general path: the value stays exact and later increments go to the double part. */
static void test_one_cell_spill(void **state) {
  (void)state;
  pmx_registry_t *reg = new_reg();
  pmx_metric_t *m = define_counter(reg, "spill_total", 0);
  const char *a[1] = {"a"};
  pmx_series_t *s;
  assert_int_equal(pmx_metric_labels(m, a, 1, &s), PMX_OK);
  atomic_store(&pmx__scalar(s)->ival, PMX__INT_SPILL_AT - 2);
  assert_int_equal(pmx_series_inc(s), PMX_OK);
  assert_false(atomic_load(&s->hash) & PMX__INT_CLOSED);
  assert_int_equal(pmx_series_inc(s), PMX_OK); /* reaches PMX__INT_SPILL_AT */
  assert_true(atomic_load(&s->hash) & PMX__INT_CLOSED);
  assert_int_equal(atomic_load(&pmx__scalar(s)->ival), PMX__INT_SPILL_AT);
  assert_int_equal(pmx_series_inc(s), PMX_OK); /* the double part from here */
  assert_int_equal(pmx_series_inc(s), PMX_OK);
  assert_int_equal(atomic_load(&pmx__scalar(s)->ival), PMX__INT_SPILL_AT);
  uint64_t bits = atomic_load(&pmx__scalar(s)->fbits);
  double part;
  memcpy(&part, &bits, sizeof part);
  assert_true(part == 2.0);
  pmx_registry_destroy(reg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_arena_handles),
      cmocka_unit_test(test_chain_across_chunks),
      cmocka_unit_test(test_reuse_by_label_class),
      cmocka_unit_test(test_closed_flag_in_hash_word),
      cmocka_unit_test(test_fast_path_bits_in_hash_word),
      cmocka_unit_test(test_one_cell_spill),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
