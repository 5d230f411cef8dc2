/* Allocation failures while publishing dashboards to Grafana (issue 9): pmx_grafana_publish of
 * the implicit dashboards of a configuration (a plugin's and prom_ex's) into a folder, against
 * tests/unit/grafana/mock_grafana.py on loopback. With any one of promex's allocations failing (libcurl's and jansson's own are not
 * hooked: promex/alloc.h) the call returns PMX_ENOMEM, or the upload that lost its memory is
 * reported through the callback and the call returns its code; nothing crashes, nothing leaks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "promex/grafana.h"
#include "promex/promex.h"
#include "unit/alloc/fail_alloc.h"
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function" /* the mock's helpers this test does not use */
#include "unit/grafana/mock.h"
#pragma GCC diagnostic pop

static mock_t M;

static int setup(void **state) {
  (void)state;
  static const char *const args[] = {"--token", "tok", NULL};
  return mock_start(&M, args);
}
static int teardown(void **state) {
  (void)state;
  mock_stop(&M);
  return 0;
}

static void count_upload(void *ctx, const char *dashboard, int status, const char *url,
                         const char *message) {
  (void)dashboard;
  (void)url;
  (void)message;
  int *ok = ctx;
  if (status == PMX_OK) (*ok)++;
}

static int publish_scenario(void *ctx) {
  (void)ctx;
  /* One plugin keeps each run short (the mock answers in milliseconds, a run makes a dozen
   * requests): its dashboard and prom_ex's, found the implicit way. */
  const pmx_plugin_t *const *fp = pmx_first_party_plugins(NULL);
  pmx_plugin_use_t uses[1] = {{.plugin = pmx_first_party_plugin("application")}};
  assert_non_null(uses[0].plugin);
  size_t n = 1;
  pmx_config_t cfg;
  pmx_config_defaults(&cfg);
  cfg.app = "fa";
  cfg.plugins = uses;
  cfg.n_plugins = n;
  cfg.grafana.host = M.url;
  cfg.grafana.auth_token = "tok";
  cfg.grafana.folder_name = "FA Dashboards";
  int ok = 0;
  pmx_error_t err;
  int rc = pmx_grafana_publish(&cfg, fp, 5000, count_upload, &ok, &err);
  if (!fa_failed()) {
    assert_int_equal(rc, PMX_OK);
    assert_int_equal(ok, (int)n + 1); /* each plugin's dashboard and prom_ex's */
  }
  return rc;
}

static void test_grafana_publish(void **state) {
  (void)state;
  fa_install();
  fa_run("grafana publish", publish_scenario, NULL, NULL);
  fa_uninstall();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_grafana_publish, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
