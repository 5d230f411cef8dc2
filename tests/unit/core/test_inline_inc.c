/* pmx_series_inc_inline (include/promex/inline.h): the same results as pmx_series_inc on every
 * kind and input, exact counts from more threads than there are owned cells (so that some take
 * the library's shared cells), mixed with pmx_series_inc, across thread exits, and the integer
 * path closed at the spill point on both inline paths. Runs under TSan too (label "cmocka"). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/core_internal.h"
#include "core/counter_cells.h"
#include "core_test_util.h"
#include "promex/inline.h"
#include "promex/promex.h"

#define THREADS 12 /* more than the 8 owned lines of a small machine */
#define PER_THREAD 200000

static pmx_metric_t *define(pmx_registry_t *reg, pmx_metric_kind_t kind, const char *name,
                            const char *const *tags, size_t n_tags) {
  static const double bounds[] = {1};
  pmx_metric_def_t def = {.kind = kind, .name = name, .tags = tags, .n_tags = n_tags};
  if (kind == PMX_DISTRIBUTION) {
    def.buckets = bounds;
    def.n_buckets = 1;
  }
  pmx_metric_t *m = NULL;
  pmx_error_t err = {0};
  if (pmx_metric_define(reg, &def, &m, &err) != PMX_OK) fail_msg("define %s: %s", name, err.text);
  return m;
}

static pmx_series_t *series(pmx_metric_t *m, const char *const *values, size_t n) {
  pmx_series_t *s = NULL;
  assert_int_equal(pmx_metric_labels(m, values, n, &s), PMX_OK);
  return s;
}

/* Every kind and NULL: the codes and effects of pmx_series_inc (a histogram refuses and keeps
 * its count). */
static void test_same_results_as_the_call(void **state) {
  (void)state;
  pmx_registry_t *reg = NULL;
  assert_int_equal(pmx_registry_new(NULL, &reg), PMX_OK);
  const char *tag[] = {"k"}, *v[] = {"x"};
  pmx_series_t *plain = series(define(reg, PMX_COUNTER, "plain_total", NULL, 0), NULL, 0);
  pmx_series_t *labelled = series(define(reg, PMX_COUNTER, "labelled_total", tag, 1), v, 1);
  pmx_series_t *sum = series(define(reg, PMX_SUM, "bytes_total", NULL, 0), NULL, 0);
  pmx_series_t *gauge = series(define(reg, PMX_LAST_VALUE, "level", NULL, 0), NULL, 0);
  pmx_series_t *hist = series(define(reg, PMX_DISTRIBUTION, "latency", NULL, 0), NULL, 0);
  assert_int_equal(pmx_series_set(gauge, 7), PMX_OK);
  for (int i = 0; i < 5; i++) {
    assert_int_equal(pmx_series_inc_inline(plain), pmx_series_inc(plain));
    assert_int_equal(pmx_series_inc_inline(labelled), pmx_series_inc(labelled));
    assert_int_equal(pmx_series_inc_inline(sum), pmx_series_inc(sum));
    assert_int_equal(pmx_series_inc_inline(gauge), pmx_series_inc(gauge));
    assert_int_equal(pmx_series_inc_inline(hist), pmx_series_inc(hist));
  }
  assert_int_equal(pmx_series_inc_inline(NULL), PMX_EINVAL);
  assert_true(pmx_series_value(plain) == 10);
  assert_true(pmx_series_value(labelled) == 10);
  assert_true(pmx_series_value(sum) == 10);
  assert_true(pmx_series_value(gauge) == 17); /* a gauge adds, through the call */
  assert_int_equal(pmx_series_inc_inline(hist), PMX_ETYPE);
  assert_true(pmx_series_value(hist) == 0);
  char *text = ct_render(reg, PMX_FORMAT_TEXT);
  assert_true(ct_has_line(text, "plain_total 10"));
  assert_true(ct_has_line(text, "labelled_total{k=\"x\"} 10"));
  free(text);
  pmx_registry_destroy(reg);
}

typedef struct hammer_arg {
  pmx_series_t *plain, *labelled;
  int id;
} hammer_arg_t;

/* Threads with an even id mix in the library call; every thread exits at the end, handing its
 * owned line to a later thread of the next round. */
static void *hammer(void *p) {
  hammer_arg_t *a = p;
  for (int i = 0; i < PER_THREAD; i++) {
    int rc = (a->id % 2 == 0 && i % 3 == 0) ? pmx_series_inc(a->plain) : pmx_series_inc_inline(a->plain);
    if (rc != PMX_OK) return (void *)1;
    if (pmx_series_inc_inline(a->labelled) != PMX_OK) return (void *)1;
  }
  return NULL;
}

static void test_exact_from_many_threads(void **state) {
  (void)state;
  pmx_registry_t *reg = NULL;
  assert_int_equal(pmx_registry_new(NULL, &reg), PMX_OK);
  const char *tag[] = {"k"}, *v[] = {"x"};
  pmx_series_t *plain = series(define(reg, PMX_COUNTER, "hits_total", NULL, 0), NULL, 0);
  pmx_series_t *labelled = series(define(reg, PMX_COUNTER, "hits_by_k_total", tag, 1), v, 1);
  for (int round = 0; round < 2; round++) {
    pthread_t t[THREADS];
    hammer_arg_t args[THREADS];
    for (int i = 0; i < THREADS; i++) {
      args[i] = (hammer_arg_t){plain, labelled, i};
      assert_int_equal(pthread_create(&t[i], NULL, hammer, &args[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
      void *ret = NULL;
      pthread_join(t[i], &ret);
      assert_null(ret);
    }
    const double want = (double)(round + 1) * THREADS * PER_THREAD;
    assert_true(pmx_series_value(plain) == want);
    assert_true(pmx_series_value(labelled) == want);
  }
  pmx_registry_destroy(reg);
}

/* Both inline paths close the integer path at the spill point, as the library's do: the flag is
 * set, the cell stops there, and later increments (through the call) go to the double part. */
static void test_spill_closes_the_integer_path(void **state) {
  (void)state;
  pmx_registry_t *reg = NULL;
  assert_int_equal(pmx_registry_new(NULL, &reg), PMX_OK);
  const char *tag[] = {"k"}, *v[] = {"x"};
  pmx_series_t *labelled = series(define(reg, PMX_COUNTER, "big_by_k_total", tag, 1), v, 1);
  atomic_store(&pmx__scalar(labelled)->ival, PMX__INT_SPILL_AT - 2);
  assert_int_equal(pmx_series_inc_inline(labelled), PMX_OK);
  assert_false(atomic_load(&labelled->hash) & PMX__INT_CLOSED);
  assert_int_equal(pmx_series_inc_inline(labelled), PMX_OK);
  assert_true(atomic_load(&labelled->hash) & PMX__INT_CLOSED);
  assert_int_equal(pmx_series_inc_inline(labelled), PMX_OK);
  assert_int_equal(atomic_load(&pmx__scalar(labelled)->ival), PMX__INT_SPILL_AT);

  pmx_series_t *plain = series(define(reg, PMX_COUNTER, "big_total", NULL, 0), NULL, 0);
  assert_int_equal(pmx_series_inc_inline(plain), PMX_OK); /* this thread claims its cell */
  if (pmx__cell.owned_end == 0) skip(); /* no owned cell left for this thread */
  _Atomic int64_t *cell = (_Atomic int64_t *)(void *)(plain->value + pmx__cell.owned_end - PMX_CACHELINE);
  assert_int_equal(atomic_load(cell), 1);
  atomic_store(cell, PMX__INT_SPILL_AT - 2);
  assert_int_equal(pmx_series_inc_inline(plain), PMX_OK);
  assert_false(atomic_load(&plain->hash) & PMX__INT_CLOSED);
  assert_int_equal(pmx_series_inc_inline(plain), PMX_OK);
  assert_true(atomic_load(&plain->hash) & PMX__INT_CLOSED);
  assert_int_equal(pmx_series_inc_inline(plain), PMX_OK);
  assert_int_equal(atomic_load(cell), PMX__INT_SPILL_AT);
  pmx_registry_destroy(reg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_same_results_as_the_call),
      cmocka_unit_test(test_exact_from_many_threads),
      cmocka_unit_test(test_spill_closes_the_integer_path),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
