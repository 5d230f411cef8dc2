/* Allocation failures while rendering dashboards (issue 9): load, assigns and render of every
 * first-party dashboard and of a template with user assigns. With any one of promex's
 * allocations failing (jansson's own are not hooked: promex/alloc.h) each call returns
 * PMX_ENOMEM with *json NULL, and nothing leaks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "promex/dashboard.h"
#include "promex/promex.h"
#include "unit/alloc/fail_alloc.h"

static int render_one(void *ctx) {
  const char *name = ctx;
  pmx_config_t cfg;
  pmx_config_defaults(&cfg);
  cfg.app = "shop";
  pmx_kv_t assigns[] = {{"datasource_id", "prom"}, {"title", "Shop \"quoted\""}};
  pmx_dashboard_use_t d = {name, assigns, 2};
  char *json = (char *)(uintptr_t)1;
  pmx_error_t err;
  int rc = pmx_dashboard_render_for(&cfg, &d, NULL, &json, &err);
  if (rc != PMX_OK) {
    assert_null(json);
    return rc;
  }
  if (!fa_failed()) assert_non_null(strstr(json, "Shop \\\"quoted\\\""));
  pmx_free(json);
  return PMX_OK;
}

static void test_dashboard_paths(void **state) {
  (void)state;
  size_t n = 0;
  const char *const *names = pmx_dashboard_builtins(&n);
  assert_true(n > 0);
  fa_install();
  for (size_t i = 0; i < n; i++) fa_run(names[i], render_one, (void *)(uintptr_t)names[i], NULL);
  fa_uninstall();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dashboard_paths),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
