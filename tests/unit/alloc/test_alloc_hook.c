/* pmx_replace_allocator's contract (promex/alloc.h): the replacement sees promex's allocations
 * and frees, a half-NULL set is refused, a switch while promex memory is alive is refused (it
 * would free blocks with the wrong function), all-NULL restores the C library's functions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "promex/dashboard.h"
#include "promex/promex.h"

static int n_malloc, n_free;
static void *count_malloc(size_t n) {
  n_malloc++;
  return malloc(n);
}
static void *count_realloc(void *p, size_t n) {
  n_malloc += p == NULL;
  return realloc(p, n);
}
static void *count_calloc(size_t c, size_t n) {
  n_malloc++;
  return calloc(c, n);
}
static void count_free(void *p) {
  n_free += p != NULL;
  free(p);
}

static void test_replacement_sees_every_block(void **state) {
  (void)state;
  n_malloc = n_free = 0;
  long base = pmx_allocated_blocks();
  assert_int_equal(pmx_replace_allocator(count_malloc, count_realloc, count_calloc, count_free),
                   PMX_OK);
  pmx_registry_t *reg = NULL;
  assert_int_equal(pmx_registry_new(NULL, &reg), PMX_OK);
  pmx_metric_def_t d = {.kind = PMX_COUNTER, .name = "hook.hits"};
  pmx_metric_t *m;
  assert_int_equal(pmx_metric_define(reg, &d, &m, NULL), PMX_OK);
  assert_true(n_malloc > 0);
  assert_true(pmx_allocated_blocks() > base);
  /* Alive blocks: a switch now would hand them to the wrong free. */
  assert_int_equal(pmx_replace_allocator(NULL, NULL, NULL, NULL), PMX_EBUSY);
  pmx_buf_t b = {0};
  assert_int_equal(pmx_render(reg, PMX_FORMAT_TEXT, &b), PMX_OK);
  assert_non_null(strstr(b.data, "# TYPE hook_hits counter"));
  pmx_buf_free(&b);
  pmx_registry_destroy(reg);
  /* Every block went back through the replacement's free. */
  assert_int_equal(pmx_allocated_blocks(), base);
  assert_int_equal(n_free, n_malloc);
  assert_int_equal(pmx_replace_allocator(NULL, NULL, NULL, NULL), PMX_OK);
  int seen = n_malloc;
  assert_int_equal(pmx_registry_new(NULL, &reg), PMX_OK);
  pmx_registry_destroy(reg);
  assert_int_equal(n_malloc, seen); /* the defaults are back */
}

static void test_half_null_refused(void **state) {
  (void)state;
  assert_int_equal(pmx_replace_allocator(count_malloc, NULL, count_calloc, count_free), PMX_EINVAL);
  assert_int_equal(pmx_replace_allocator(NULL, NULL, NULL, count_free), PMX_EINVAL);
  /* Nothing changed: the defaults are still in place. */
  n_malloc = 0;
  pmx_registry_t *reg = NULL;
  assert_int_equal(pmx_registry_new(NULL, &reg), PMX_OK);
  pmx_registry_destroy(reg);
  assert_int_equal(n_malloc, 0);
}

/* A caller-owned result is freed with pmx_free, through the replacement. */
static void test_pmx_free(void **state) {
  (void)state;
  assert_int_equal(pmx_replace_allocator(count_malloc, count_realloc, count_calloc, count_free),
                   PMX_OK);
  n_free = 0;
  char *text = NULL;
  size_t len = 0;
  assert_int_equal(pmx_dashboard_load("application.json", &text, &len, NULL), PMX_OK);
  assert_true(len > 0);
  assert_int_equal(pmx_replace_allocator(NULL, NULL, NULL, NULL), PMX_EBUSY);
  pmx_free(text);
  pmx_free(NULL);
  assert_int_equal(n_free, 1);
  assert_int_equal(pmx_replace_allocator(NULL, NULL, NULL, NULL), PMX_OK);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_replacement_sees_every_block),
      cmocka_unit_test(test_half_null_refused),
      cmocka_unit_test(test_pmx_free),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
