/* Allocation failures while loading and checking a configuration (issue 9): pmx_config_load of a
 * file that sets every option, pmx_config_parse of a string with plugins, options, dashboards
 * and assigns, and pmx_config_validate of the result. With any one allocation failing each call
 * returns PMX_ENOMEM with *out NULL, and nothing leaks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "promex/promex.h"
#include "unit/alloc/fail_alloc.h"

static const pmx_plugin_t plug_process = {PMX_PLUGIN_ABI, "process", NULL, NULL, NULL, {0}};
static const pmx_plugin_t plug_http = {PMX_PLUGIN_ABI, "http_server", NULL, NULL, NULL, {0}};
static const pmx_plugin_t *const KNOWN[] = {&plug_process, &plug_http};

static const char TEXT[] =
    "[promex]\napp = shop\nversion = 1.2.3\ndrop_metrics_groups = a_polling_metrics, b\n"
    "[metrics_server]\nenabled = true\nport = 0\nbind_address = 127.0.0.1\n"
    "auth_strategy = bearer\nauth_token = ${PMX_FA_SECRET}\n"
    "[plugin.process]\npoll_rate = 2500\n"
    "[plugin.http_server]\nmetric_prefix = shop_http\nignore_routes = /health,/ready\n"
    "[dashboards]\napplication.json =\nmine = /srv/dash.json\n"
    "[dashboard_assigns]\ndatasource_id = prom\ntitle = Shop\n";

static int check(pmx_config_file_t *cf, const char *app) {
  const pmx_config_t *cfg = pmx_config_file_config(cf);
  pmx_error_t err;
  int rc = pmx_config_validate(cfg, &err);
  if (rc == PMX_OK && !fa_failed()) assert_string_equal(cfg->app, app);
  return rc;
}

static int parse_scenario(void *ctx) {
  (void)ctx;
  pmx_config_file_t *cf = (pmx_config_file_t *)(uintptr_t)1;
  pmx_error_t err;
  int rc = pmx_config_parse(TEXT, "fa.ini", KNOWN, 2, &cf, &err);
  if (rc != PMX_OK) {
    assert_null(cf);
    return rc;
  }
  assert_int_equal(pmx_config_file_config(cf)->n_plugins, 2);
  rc = check(cf, "shop");
  pmx_config_file_free(cf);
  return rc;
}

static int load_scenario(void *ctx) {
  (void)ctx;
  pmx_config_file_t *cf = (pmx_config_file_t *)(uintptr_t)1;
  pmx_error_t err;
  int rc = pmx_config_load(PMX_TEST_DATA "/config/full.ini", KNOWN, 2, &cf, &err);
  if (rc != PMX_OK) {
    assert_null(cf);
    return rc;
  }
  rc = check(cf, "shop_api");
  pmx_config_file_free(cf);
  return rc;
}

static void test_config_paths(void **state) {
  (void)state;
  setenv("PMX_FA_SECRET", "tok", 1);
  setenv("PMX_TEST_DATA_DIR", PMX_TEST_DATA, 1);
  setenv("PMX_TEST_SECRET", "s3cret", 1);
  fa_install();
  fa_run("config parse", parse_scenario, NULL, NULL);
  fa_run("config load", load_scenario, NULL, NULL);
  fa_uninstall();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_config_paths),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
