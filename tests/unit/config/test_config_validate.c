/* Tests for pmx_config_defaults() and pmx_config_validate() on configurations built in code:
 * one test per rule, each checking the code and that the message names the option. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "promex/config.h"

static const pmx_plugin_t plug_a = {PMX_PLUGIN_ABI, "alpha", NULL, NULL, NULL, {0}};
static const pmx_plugin_t plug_b = {PMX_PLUGIN_ABI, "beta", NULL, NULL, NULL, {0}};
static const pmx_plugin_t plug_a2 = {PMX_PLUGIN_ABI, "alpha", NULL, NULL, NULL, {0}};
static const pmx_plugin_t plug_old = {0, "old", NULL, NULL, NULL, {0}};
static const pmx_plugin_t plug_reserved = {PMX_PLUGIN_ABI, "resv", NULL, NULL, NULL, {(void *)&plug_a, 0, 0, 0}};
static const pmx_plugin_t plug_badname = {PMX_PLUGIN_ABI, "Bad Name", NULL, NULL, NULL, {0}};

static pmx_config_t base(void) {
  pmx_config_t c;
  pmx_config_defaults(&c);
  c.app = "my_app";
  return c;
}

/* Asserts validate(c) == code and that the message contains `frag`. */
static void expect(const pmx_config_t *c, int code, const char *frag) {
  pmx_error_t err;
  memset(&err, 0, sizeof err);
  int rc = pmx_config_validate(c, &err);
  if (rc != code || (frag && !strstr(err.text, frag)))
    fprintf(stderr, "rc %d, text \"%s\", wanted \"%s\"\n", rc, err.text, frag ? frag : "");
  assert_int_equal(rc, code);
  if (code != PMX_OK) {
    assert_int_equal(err.code, code);
    assert_non_null(strstr(err.text, frag));
  }
}

static void defaults(void **state) {
  (void)state;
  pmx_config_t c;
  memset(&c, 0xA5, sizeof c);
  pmx_config_defaults(&c);
  assert_null(c.app);
  assert_false(c.disabled);
  assert_int_equal(c.manual_metrics_start_delay_ms, 0);
  assert_int_equal(c.n_plugins, 0);
  assert_null(c.plugins);
  assert_false(c.metrics_server.enabled);
  assert_false(c.grafana.enabled);
  assert_true(c.grafana.upload_dashboards_on_start);
  assert_false(c.grafana.annotate_app_lifecycle);
  assert_int_equal(c.log_level, PMX_LOG_INFO);
  assert_null(c.log);
  pmx_config_defaults(NULL); /* no-op, no crash */
}

static void app_rules(void **state) {
  (void)state;
  pmx_config_t c = base();
  expect(&c, PMX_OK, NULL);
  c.app = NULL;
  expect(&c, PMX_ECONFIG, "app: required");
  c.app = "";
  expect(&c, PMX_ECONFIG, "app: required");
  c.app = "My App";
  expect(&c, PMX_ECONFIG, "app: expected a name matching [a-z0-9_]+, got \"My App\"");
  c.app = "ok_1";
  c.log_level = (pmx_log_level_t)9;
  expect(&c, PMX_ECONFIG, "log_level: expected debug, info, warn or error");
}

static void drop_groups(void **state) {
  (void)state;
  pmx_config_t c = base();
  const char *groups[] = {"a", ""};
  c.drop_metrics_groups = groups;
  c.n_drop_metrics_groups = 1;
  expect(&c, PMX_OK, NULL);
  c.n_drop_metrics_groups = 2;
  expect(&c, PMX_ECONFIG, "drop_metrics_groups: group name 1 is empty");
  groups[1] = NULL;
  expect(&c, PMX_ECONFIG, "drop_metrics_groups: group name 1 is empty");
  c.drop_metrics_groups = NULL;
  expect(&c, PMX_ECONFIG, "drop_metrics_groups: count is 2 but the array is NULL");
}

static void server_rules(void **state) {
  (void)state;
  pmx_config_t c = base();
  c.metrics_server.path = "no_slash"; /* ignored while the server is disabled */
  expect(&c, PMX_OK, NULL);
  c.metrics_server.enabled = true;
  expect(&c, PMX_ECONFIG, "metrics_server.path: expected a path starting with '/', got \"no_slash\"");
  c.metrics_server.path = "/metrics";
  expect(&c, PMX_OK, NULL);
  c.metrics_server.pool_size = 257;
  expect(&c, PMX_ECONFIG, "metrics_server.pool_size: expected 1-256 (0: default 5), got 257");
  c.metrics_server.pool_size = 256;
  expect(&c, PMX_ECONFIG, "metrics_server.pool_size: 256 threads exceed max_connections (64)");
  c.metrics_server.max_connections = 256;
  expect(&c, PMX_OK, NULL);
  c.metrics_server.max_connections = 0;
  c.metrics_server.pool_size = 0; /* the default, 5 */
  expect(&c, PMX_OK, NULL);
  c.metrics_server.bind_address = "";
  expect(&c, PMX_ECONFIG, "metrics_server.bind_address: expected a value, got an empty string");
  c.metrics_server.bind_address = "127.0.0.1";

  c.metrics_server.auth_strategy = PMX_AUTH_BEARER;
  expect(&c, PMX_ECONFIG, "metrics_server.auth_token: required when auth_strategy is bearer");
  c.metrics_server.auth_token = "";
  expect(&c, PMX_ECONFIG, "metrics_server.auth_token: required");
  c.metrics_server.auth_token = "tok";
  expect(&c, PMX_OK, NULL);

  c.metrics_server.auth_strategy = PMX_AUTH_BASIC;
  expect(&c, PMX_ECONFIG, "metrics_server.auth_user: required when auth_strategy is basic");
  c.metrics_server.auth_user = "u";
  expect(&c, PMX_ECONFIG, "metrics_server.auth_password: required when auth_strategy is basic");
  c.metrics_server.auth_password = "p";
  expect(&c, PMX_OK, NULL);
  c.metrics_server.auth_strategy = (pmx_auth_strategy_t)7;
  expect(&c, PMX_ECONFIG, "metrics_server.auth_strategy: expected none, bearer or basic, got 7");
  c.metrics_server.auth_strategy = PMX_AUTH_NONE;

  c.metrics_server.protocol = PMX_PROTO_HTTPS;
  expect(&c, PMX_ECONFIG, "metrics_server.cert_file: required when protocol is https");
  c.metrics_server.cert_file = "/nonexistent/cert.pem";
  expect(&c, PMX_ECONFIG, "metrics_server.cert_file: cannot read \"/nonexistent/cert.pem\": No such file");
  c.metrics_server.cert_file = PMX_TEST_DATA "/config/dummy_cert.pem";
  expect(&c, PMX_ECONFIG, "metrics_server.key_file: required when protocol is https");
  c.metrics_server.key_file = PMX_TEST_DATA "/config/nope.pem";
  expect(&c, PMX_ECONFIG, "metrics_server.key_file: cannot read");
  c.metrics_server.key_file = PMX_TEST_DATA "/config/dummy_key.pem";
  expect(&c, PMX_OK, NULL);
  c.metrics_server.protocol = (pmx_protocol_t)3;
  expect(&c, PMX_ECONFIG, "metrics_server.protocol: expected http or https, got 3");
}

static void grafana_rules(void **state) {
  (void)state;
  pmx_config_t c = base();
  c.grafana.host = "ftp://x"; /* ignored while grafana is disabled */
  expect(&c, PMX_OK, NULL);
  c.grafana.enabled = true;
  c.grafana.host = NULL;
  expect(&c, PMX_ECONFIG, "grafana.host: required when grafana is enabled");
  c.grafana.host = "localhost:3000";
  expect(&c, PMX_ECONFIG, "grafana.host: expected protocol://host:port starting with http:// or https://");
  c.grafana.host = "https://grafana:3000";
  expect(&c, PMX_ECONFIG, "grafana.auth_token: grafana needs auth_token, or username and password");
  c.grafana.username = "admin";
  expect(&c, PMX_ECONFIG, "grafana.password: required with username");
  c.grafana.username = NULL;
  c.grafana.password = "pw";
  expect(&c, PMX_ECONFIG, "grafana.username: required with password");
  c.grafana.username = "admin";
  expect(&c, PMX_OK, NULL);
  c.grafana.username = c.grafana.password = NULL;
  c.grafana.auth_token = "tok";
  c.grafana.host = "http://localhost:3000";
  expect(&c, PMX_OK, NULL);
}

static void plugin_rules(void **state) {
  (void)state;
  pmx_config_t c = base();
  const pmx_kv_t opts[] = {{"poll_rate", "1000"}, {NULL, "x"}};
  pmx_plugin_use_t uses[3] = {{&plug_a, opts, 1, NULL}, {&plug_b, NULL, 0, NULL}, {NULL, NULL, 0, NULL}};
  c.plugins = uses;
  c.n_plugins = 2;
  expect(&c, PMX_OK, NULL);

  uses[0].n_opts = 2;
  expect(&c, PMX_ECONFIG, "plugin.alpha: option[1]: empty key");
  uses[0].n_opts = 1;
  uses[0].opts = NULL;
  expect(&c, PMX_ECONFIG, "plugin.alpha: option: count is 1 but the array is NULL");
  uses[0].opts = opts;

  c.n_plugins = 3;
  expect(&c, PMX_ECONFIG, "plugins[2]: plugin table is NULL");
  uses[2].plugin = &plug_a2;
  expect(&c, PMX_ECONFIG, "plugin.alpha: plugin \"alpha\" is listed twice (plugins[0] and [2])");
  uses[2].plugin = &plug_old;
  expect(&c, PMX_EABI, "plugin.old: built for plugin ABI 0, this library uses ABI 1");
  uses[2].plugin = &plug_reserved;
  expect(&c, PMX_EABI, "plugin.resv: reserved[0] is not NULL");
  uses[2].plugin = &plug_badname;
  expect(&c, PMX_ECONFIG, "plugins[2]: plugin name must match [a-z0-9_]+, got \"Bad Name\"");

  c.plugins = NULL;
  expect(&c, PMX_ECONFIG, "plugins: n_plugins is 3 but plugins is NULL");
}

static void dashboard_rules(void **state) {
  (void)state;
  pmx_config_t c = base();
  const pmx_kv_t assigns[] = {{"datasource_id", "prom"}, {"", "x"}, {"k", NULL}};
  pmx_dashboard_use_t d[2] = {{"application.json", assigns, 1}, {"", NULL, 0}};
  c.dashboards = d;
  c.n_dashboards = 1;
  c.dashboard_assigns = assigns;
  c.n_dashboard_assigns = 1;
  expect(&c, PMX_OK, NULL);
  c.n_dashboards = 2;
  expect(&c, PMX_ECONFIG, "dashboards: dashboards[1]: empty name or path");
  c.n_dashboards = 1;
  d[0].n_assigns = 2;
  expect(&c, PMX_ECONFIG, "dashboards: assign[1]: empty key");
  d[0].n_assigns = 1;
  c.dashboard_assigns = assigns + 2;
  expect(&c, PMX_ECONFIG, "dashboard_assigns: assign \"k\": value is NULL");
  c.dashboard_assigns = NULL;
  expect(&c, PMX_ECONFIG, "dashboard_assigns: assign: count is 1 but the array is NULL");
  c.dashboard_assigns = assigns;
  c.dashboards = NULL;
  expect(&c, PMX_ECONFIG, "dashboards: n_dashboards is 1 but dashboards is NULL");
}

static void null_arguments(void **state) {
  (void)state;
  pmx_error_t err;
  assert_int_equal(pmx_config_validate(NULL, &err), PMX_EINVAL);
  assert_int_equal(err.code, PMX_EINVAL);
  pmx_config_t c = base();
  c.app = "Bad";
  assert_int_equal(pmx_config_validate(&c, NULL), PMX_ECONFIG); /* err may be NULL */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(defaults),      cmocka_unit_test(app_rules),       cmocka_unit_test(drop_groups),
      cmocka_unit_test(server_rules),  cmocka_unit_test(grafana_rules),   cmocka_unit_test(plugin_rules),
      cmocka_unit_test(dashboard_rules), cmocka_unit_test(null_arguments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
