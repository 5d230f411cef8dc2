/* Out of memory while creating a series (issue 9): the direct API returns PMX_ENOMEM and the event
 * path counts the event as skipped with reason "out_of_memory", so no event is ever lost
 * uncounted. The test binary is linked with -Wl,--wrap=malloc: the library's allocations go
 * through __wrap_malloc below, which fails while `fail_malloc` is set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core_test_util.h"
#include "promex/promex.h"

void *__real_malloc(size_t n);
void *__wrap_malloc(size_t n);
static int fail_malloc;
void *__wrap_malloc(size_t n) { return fail_malloc ? NULL : __real_malloc(n); }

static void test_series_oom_is_counted(void **state) {
  fixture_t *f = *state;
  static const char *const tags[] = {"who"};
  pmx_metric_def_t d = {.kind = PMX_COUNTER, .name = "oom.hits", .tags = tags, .n_tags = 1};
  pmx_metric_t *m;
  assert_int_equal(pmx_metric_define(f->reg, &d, &m, NULL), PMX_OK);
  assert_int_equal(pmx_metric_attach(m, f->bus, NULL), PMX_OK);
  /* A value big enough that its series needs a new arena chunk (the first one is 1 KiB). */
  char big[1001];
  memset(big, 'b', 1000);
  big[1000] = '\0';
  pmx_meta_t md[] = {PMX_META_S("who", big)};
  const char *vals[] = {big};
  pmx_series_t *s = (pmx_series_t *)(uintptr_t)1;

  fail_malloc = 1;
  int handled = pmx_emit_name(f->bus, "oom", NULL, 0, md, 1);
  int rc = pmx_metric_labels(m, vals, 1, &s);
  fail_malloc = 0;
  assert_int_equal(handled, 1);
  assert_int_equal(rc, PMX_ENOMEM);
  assert_null(s);
  assert_int_equal(pmx_metric_series_count(m), 0);
  assert_int_equal(pmx_metric_skipped_events(m), 1);

  char *text = ct_render(f->reg, PMX_FORMAT_TEXT);
  assert_true(ct_has_line(text, "promex_events_skipped_total{metric=\"oom_hits\",reason=\"out_of_memory\"} 1"));
  free(text);
  /* With memory back, the same values make their series. */
  assert_int_equal(pmx_emit_name(f->bus, "oom", NULL, 0, md, 1), 1);
  assert_int_equal(pmx_metric_series_count(m), 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_series_oom_is_counted, ct_setup, ct_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
