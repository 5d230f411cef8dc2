/* The application plugin retires the dependency_info series of a library that is unloaded:
 * dlopen a test library, refresh the manual metrics (it appears), dlclose it, refresh (it is
 * gone), dlopen again (it is back). */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"
#include "plugin_test_util.h"
#include "promex/plugins/application.h"
#include "promex/promex.h"

#define APP "app_retire"
#define PA APP "_prom_ex_application_"

static void quiet_log(void *ctx, pmx_log_level_t level, const char *msg) {
  (void)ctx;
  (void)level;
  (void)msg;
}

static size_t lines_with(pmx_t *p, const char *label) {
  pmx_buf_t buf = {0};
  assert_int_equal(pmx_get_metrics(p, PMX_FORMAT_TEXT, &buf), PMX_OK);
  assert_int_equal(pmx__buf_append(&buf, "", 1), PMX_OK);
  size_t n = 0;
  for (const char *q = buf.data; (q = strstr(q, label)) != NULL; q++) n++;
  pmx_buf_free(&buf);
  return n;
}

static void test_application_unloaded_library_is_retired(void **state) {
  (void)state;
  pmx_plugin_use_t use = {&pmx_plugin_application, NULL, 0, NULL};
  pmx_config_t cfg;
  pmx_config_defaults(&cfg);
  cfg.app = APP;
  cfg.plugins = &use;
  cfg.n_plugins = 1;
  cfg.log = quiet_log;
  pmx_t *p = NULL;
  pmx_error_t err = {0};
  assert_int_equal(pmx_new(&cfg, &p, &err), PMX_OK);
  assert_int_equal(pmx_start(p, &err), PMX_OK);

  char label[600];
  snprintf(label, sizeof label, "path=\"%s\"", PMX_TEST_DSO);
  assert_int_equal(lines_with(p, label), 0);
  for (int round = 0; round < 2; round++) {
    void *h = dlopen(PMX_TEST_DSO, RTLD_NOW | RTLD_LOCAL);
    assert_non_null(h);
    assert_int_equal(pmx_refresh_manual_metrics(p), PMX_OK);
    assert_int_equal(lines_with(p, label), 1);
    assert_true(lines_with(p, "name=\"libc\"") >= 1);
    assert_int_equal(dlclose(h), 0);
    assert_int_equal(pmx_refresh_manual_metrics(p), PMX_OK);
    assert_int_equal(lines_with(p, label), 0);             /* unloaded: gone */
    assert_true(lines_with(p, "name=\"libc\"") >= 1); /* the others stay */
  }
  pmx_destroy(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_application_unloaded_library_is_retired)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
