/* Tests for the INI loader (pmx_config_load/parse): every option with its default and a set value,
 * every bad value (clear error naming file, line, section and key), unknown sections and keys,
 * ${VAR} expansion, plugin section resolution, dashboards and assigns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "promex/config.h"

static const pmx_plugin_t plug_process = {PMX_PLUGIN_ABI, "process", NULL, NULL, NULL, {0}};
static const pmx_plugin_t plug_http = {PMX_PLUGIN_ABI, "http_server", NULL, NULL, NULL, {0}};
static const pmx_plugin_t plug_future = {PMX_PLUGIN_ABI + 1, "future", NULL, NULL, NULL, {0}};
static const pmx_plugin_t *const KNOWN[] = {&plug_process, &plug_http, &plug_future};
#define N_KNOWN (sizeof KNOWN / sizeof KNOWN[0])

/* Parses `text` as "t.ini"; returns the status and fills *err. */
static int parse(const char *text, pmx_config_file_t **cf, pmx_error_t *err) {
  memset(err, 0, sizeof *err);
  return pmx_config_parse(text, "t.ini", KNOWN, N_KNOWN, cf, err);
}

/* Asserts that `text` fails with `code` at `line` and that the message contains every given
 * fragment (NULL-terminated). */
static void expect_fail(const char *text, int code, int line, ...) {
  pmx_config_file_t *cf = (pmx_config_file_t *)(uintptr_t)1;
  pmx_error_t err;
  int rc = parse(text, &cf, &err);
  if (rc != code) fprintf(stderr, "text:\n%s\ngot %d: %s\n", text, rc, err.text);
  assert_int_equal(rc, code);
  assert_null(cf);
  assert_int_equal(err.code, code);
  assert_int_equal(err.line, line);
  assert_string_equal(err.source, "t.ini");
  va_list ap;
  va_start(ap, line);
  for (const char *frag = va_arg(ap, const char *); frag != NULL; frag = va_arg(ap, const char *)) {
    if (strstr(err.text, frag) == NULL) fprintf(stderr, "missing \"%s\" in \"%s\"\n", frag, err.text);
    assert_non_null(strstr(err.text, frag));
  }
  va_end(ap);
}

static const pmx_config_t *parse_ok(const char *text, pmx_config_file_t **cf) {
  pmx_error_t err;
  int rc = parse(text, cf, &err);
  if (rc != PMX_OK) fprintf(stderr, "text:\n%s\nerror: %s\n", text, err.text);
  assert_int_equal(rc, PMX_OK);
  assert_non_null(*cf);
  const pmx_config_t *cfg = pmx_config_file_config(*cf);
  assert_non_null(cfg);
  return cfg;
}

static void defaults_from_minimal_file(void **state) {
  (void)state;
  pmx_config_file_t *cf = NULL;
  pmx_error_t err;
  assert_int_equal(pmx_config_load(PMX_TEST_DATA "/config/minimal.ini", NULL, 0, &cf, &err), PMX_OK);
  const pmx_config_t *c = pmx_config_file_config(cf);
  pmx_config_t d;
  pmx_config_defaults(&d);
  assert_string_equal(c->app, "my_app");
  assert_null(c->app_version);
  assert_int_equal(c->disabled, d.disabled);
  assert_int_equal(c->manual_metrics_start_delay_ms, 0);
  assert_int_equal(c->n_drop_metrics_groups, 0);
  assert_int_equal(c->n_plugins, 0);
  assert_int_equal(c->n_dashboards, 0);
  assert_int_equal(c->n_dashboard_assigns, 0);
  assert_int_equal(c->log_level, PMX_LOG_INFO);
  assert_null(c->log);
  /* grafana: disabled, upload_dashboards_on_start true, everything else 0/NULL = default */
  assert_false(c->grafana.enabled);
  assert_true(c->grafana.upload_dashboards_on_start);
  assert_false(c->grafana.annotate_app_lifecycle);
  assert_null(c->grafana.host);
  assert_null(c->grafana.folder_name);
  assert_int_equal(c->grafana.timeout_ms, 0);
  /* metrics_server: disabled, all zero/NULL */
  assert_false(c->metrics_server.enabled);
  assert_int_equal(c->metrics_server.port, 0);
  assert_null(c->metrics_server.path);
  assert_null(c->metrics_server.bind_address);
  assert_int_equal(c->metrics_server.protocol, PMX_PROTO_HTTP);
  assert_int_equal(c->metrics_server.auth_strategy, PMX_AUTH_NONE);
  assert_int_equal(c->metrics_server.pool_size, 0);
  assert_int_equal(c->metrics_server.timeout_s, 0);
  assert_int_equal(c->metrics_server.max_connections, 0);
  assert_int_equal(pmx_config_validate(c, &err), PMX_OK);
  pmx_config_file_free(cf);
}

static void full_file(void **state) {
  (void)state;
  setenv("PMX_TEST_DATA_DIR", PMX_TEST_DATA, 1);
  setenv("PMX_TEST_SECRET", "s3cret", 1);
  pmx_config_file_t *cf = NULL;
  pmx_error_t err = {0};
  int rc = pmx_config_load(PMX_TEST_DATA "/config/full.ini", KNOWN, N_KNOWN, &cf, &err);
  if (rc != PMX_OK) fprintf(stderr, "%s\n", err.text);
  assert_int_equal(rc, PMX_OK);
  const pmx_config_t *c = pmx_config_file_config(cf);
  assert_string_equal(c->app, "shop_api");
  assert_string_equal(c->app_version, "1.4.2");
  assert_true(c->disabled);
  assert_int_equal(c->manual_metrics_start_delay_ms, 2500);
  assert_int_equal(c->n_drop_metrics_groups, 3);
  assert_string_equal(c->drop_metrics_groups[0], "process_limits_manual_metrics");
  assert_string_equal(c->drop_metrics_groups[1], "os_network_polling_metrics");
  assert_string_equal(c->drop_metrics_groups[2], "x");
  assert_int_equal(c->log_level, PMX_LOG_WARN);

  const pmx_server_config_t *s = &c->metrics_server;
  assert_true(s->enabled);
  assert_int_equal(s->port, 4021);
  assert_string_equal(s->path, "/internal/metrics");
  assert_int_equal(s->protocol, PMX_PROTO_HTTPS);
  assert_string_equal(s->cert_file, PMX_TEST_DATA "/config/dummy_cert.pem");
  assert_string_equal(s->key_file, PMX_TEST_DATA "/config/dummy_key.pem");
  assert_int_equal(s->pool_size, 12);
  assert_int_equal(s->auth_strategy, PMX_AUTH_BASIC);
  assert_string_equal(s->auth_user, "scraper");
  assert_string_equal(s->auth_password, "s3cret$");
  assert_string_equal(s->bind_address, "127.0.0.1");
  assert_int_equal(s->timeout_s, 30);
  assert_int_equal(s->max_connections, 256);

  const pmx_grafana_config_t *g = &c->grafana;
  assert_true(g->enabled);
  assert_string_equal(g->host, "https://grafana.example.test:3000");
  assert_string_equal(g->username, "admin");
  assert_string_equal(g->password, "pw");
  assert_string_equal(g->auth_token, "s3cret");
  assert_false(g->upload_dashboards_on_start);
  assert_string_equal(g->folder_name, "Shop API Dashboards");
  assert_true(g->annotate_app_lifecycle);
  assert_int_equal(g->timeout_ms, 2500);

  assert_int_equal(c->n_plugins, 2);
  assert_ptr_equal(c->plugins[0].plugin, &plug_http);
  assert_int_equal(c->plugins[0].n_opts, 3);
  assert_string_equal(c->plugins[0].opts[0].key, "metric_prefix");
  assert_string_equal(c->plugins[0].opts[0].value, "shop_http");
  assert_string_equal(c->plugins[0].opts[1].key, "ignore_routes");
  assert_string_equal(c->plugins[0].opts[1].value, "/health,/ready");
  assert_string_equal(c->plugins[0].opts[2].key, "poll_rate");
  assert_string_equal(c->plugins[0].opts[2].value, "1000");
  assert_null(c->plugins[0].user_data);
  assert_ptr_equal(c->plugins[1].plugin, &plug_process);
  assert_int_equal(c->plugins[1].n_opts, 0);

  assert_int_equal(c->n_dashboards, 2);
  assert_string_equal(c->dashboards[0].name_or_path, "application.json");
  assert_int_equal(c->dashboards[0].n_assigns, 0);
  assert_string_equal(c->dashboards[1].name_or_path, "/srv/dashboards/shop.json");
  assert_int_equal(c->n_dashboard_assigns, 2);
  assert_string_equal(c->dashboard_assigns[0].key, "datasource_id");
  assert_string_equal(c->dashboard_assigns[0].value, "prometheus");
  assert_string_equal(c->dashboard_assigns[1].key, "default_selected_interval");
  assert_string_equal(c->dashboard_assigns[1].value, "30s");

  assert_int_equal(pmx_config_validate(c, &err), PMX_OK);
  pmx_config_file_free(cf);
}

/* Other spellings of the same options (the ones full.ini does not use). */
static void value_spellings(void **state) {
  (void)state;
  pmx_config_file_t *cf;
  const pmx_config_t *c = parse_ok(
      "[promex]\napp: colon_app ; ':' works as '='\nmanual_metrics_start_delay = no_delay\n"
      "disabled = FALSE\nlog_level = debug\ndrop_metrics_groups =\n"
      "[metrics_server]\nport = 0\nprotocol = http\nauth_strategy = bearer\nauth_token = t\n"
      "pool_size = 256\nmax_connections = 256\n"
      "[grafana]\nenabled = no\nhost = http://h:1\n",
      &cf);
  assert_string_equal(c->app, "colon_app");
  assert_int_equal(c->manual_metrics_start_delay_ms, 0);
  assert_false(c->disabled);
  assert_int_equal(c->log_level, PMX_LOG_DEBUG);
  assert_int_equal(c->n_drop_metrics_groups, 0);
  assert_true(c->metrics_server.enabled);
  assert_int_equal(c->metrics_server.port, 0);
  assert_int_equal(c->metrics_server.protocol, PMX_PROTO_HTTP);
  assert_int_equal(c->metrics_server.auth_strategy, PMX_AUTH_BEARER);
  assert_string_equal(c->metrics_server.auth_token, "t");
  assert_int_equal(c->metrics_server.pool_size, 256);
  assert_false(c->grafana.enabled); /* enabled = no wins over the section being present */
  pmx_config_file_free(cf);

  c = parse_ok("[promex]\napp=a\nlog_level=error\n[metrics_server]\nport=65535\nenabled=on\n"
               "auth_strategy = none\n[grafana]\nhost=http://g\nusername=u\npassword=p\n", &cf);
  assert_int_equal(c->log_level, PMX_LOG_ERROR);
  assert_int_equal(c->metrics_server.port, 65535);
  assert_int_equal(c->metrics_server.auth_strategy, PMX_AUTH_NONE);
  assert_true(c->grafana.enabled);
  pmx_config_file_free(cf);

  /* A disabled server needs no port. */
  c = parse_ok("[promex]\napp=a\n[metrics_server]\nenabled=false\n", &cf);
  assert_false(c->metrics_server.enabled);
  pmx_config_file_free(cf);
}

/* One bad value per case; the error must say file:line: [section] key: and what was expected. */
typedef struct bad_case {
  const char *section;
  const char *key;
  const char *value;
  const char *expect;
} bad_case_t;

static void bad_values(void **state) {
  (void)state;
  static const bad_case_t cases[] = {
      {"promex", "app", "My-App", "expected a name matching [a-z0-9_]+, got \"My-App\""},
      {"promex", "version", "", "expected a value, got an empty string"},
      {"promex", "disabled", "maybe", "expected a boolean (true/false/yes/no/on/off/1/0), got \"maybe\""},
      {"promex", "manual_metrics_start_delay", "-5",
       "expected no_delay or a number of milliseconds 0-31536000000, got \"-5\""},
      {"promex", "manual_metrics_start_delay", "soon", "got \"soon\""},
      {"promex", "drop_metrics_groups", "a,,b", "item 2 is empty"},
      {"promex", "drop_metrics_groups", "a, ", "item 2 is empty"},
      {"promex", "log_level", "loud", "expected debug, info, warn or error, got \"loud\""},
      {"metrics_server", "port", "abc", "expected an integer 0-65535, got \"abc\""},
      {"metrics_server", "port", "65536", "expected an integer 0-65535, got \"65536\""},
      {"metrics_server", "port", "-1", "got \"-1\""},
      {"metrics_server", "port", "80 80", "got \"80 80\""},
      {"metrics_server", "port", "99999999999999999999999", "expected an integer 0-65535"},
      {"metrics_server", "enabled", "2", "expected a boolean"},
      {"metrics_server", "path", "metrics", "expected a path starting with '/', got \"metrics\""},
      {"metrics_server", "protocol", "ftp", "expected http or https, got \"ftp\""},
      {"metrics_server", "protocol", "HTTP", "expected http or https"},
      {"metrics_server", "pool_size", "0", "expected an integer 1-256, got \"0\""},
      {"metrics_server", "pool_size", "257", "expected an integer 1-256, got \"257\""},
      {"metrics_server", "auth_strategy", "token", "expected none, bearer or basic, got \"token\""},
      {"metrics_server", "timeout_s", "0", "expected an integer 1-86400"},
      {"metrics_server", "max_connections", "x", "expected an integer 1-100000"},
      {"metrics_server", "auth_token", "", "expected a value"},
      {"grafana", "enabled", "?", "expected a boolean"},
      {"grafana", "host", "localhost:3000",
       "expected protocol://host:port starting with http:// or https://, got \"localhost:3000\""},
      {"grafana", "upload_dashboards_on_start", "nope", "expected a boolean"},
      {"grafana", "annotate_app_lifecycle", "yes please", "got \"yes please\""},
      {"grafana", "timeout_ms", "0", "expected an integer 1-3600000, got \"0\""},
      {"grafana", "folder_name", "", "expected a value"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const bad_case_t *bc = &cases[i];
    char text[512], where[128];
    int line;
    if (strcmp(bc->section, "promex") == 0) {
      snprintf(text, sizeof text, "[promex]\n%s = %s\n%s", bc->key, bc->value,
               strcmp(bc->key, "app") ? "app = a\n" : "");
      line = 2;
    } else {
      /* Line 4 is the bad key; a valid port follows so that "port required" cannot mask it. */
      snprintf(text, sizeof text, "[promex]\napp = a\n[%s]\n%s = %s\n%s", bc->section, bc->key,
               bc->value, strcmp(bc->key, "port") ? "port = 1\n" : "");
      line = 4;
    }
    snprintf(where, sizeof where, "t.ini:%d: [%s] %s: ", line, bc->section, bc->key);
    expect_fail(text, PMX_ECONFIG, line, where, bc->expect, NULL);
  }
}

static void bad_port_file_names_file_and_line(void **state) {
  (void)state;
  pmx_config_file_t *cf = NULL;
  pmx_error_t err;
  const char *path = PMX_TEST_DATA "/config/bad_port.ini";
  assert_int_equal(pmx_config_load(path, NULL, 0, &cf, &err), PMX_ECONFIG);
  assert_null(cf);
  char expect[512];
  snprintf(expect, sizeof expect,
           "%s:7: [metrics_server] port: expected an integer 0-65535, got \"abc\"", path);
  assert_string_equal(err.text, expect);
  assert_string_equal(err.source, path);
  assert_int_equal(err.line, 7);
}

static void unknown_and_malformed(void **state) {
  (void)state;
  expect_fail("[promex]\napp=a\n[metric_server]\nport=1\n", PMX_ECONFIG, 3,
              "t.ini:3: [metric_server] unknown section (expected promex, metrics_server", NULL);
  expect_fail("[promex]\napp=a\nfoo = 1\n", PMX_ECONFIG, 3,
              "t.ini:3: [promex] foo: unknown key (expected one of: app, version, disabled, "
              "manual_metrics_start_delay, drop_metrics_groups, log_level)", NULL);
  expect_fail("[promex]\napp=a\n[metrics_server]\nport=1\ncowboy_opts=x\n", PMX_ECONFIG, 5,
              "[metrics_server] cowboy_opts: unknown key (expected one of: enabled, port,", NULL);
  expect_fail("[promex]\napp=a\n[grafana]\nhost=http://x\nuser=u\n", PMX_ECONFIG, 5,
              "[grafana] user: unknown key", "username", NULL);
  expect_fail("app = a\n[promex]\n", PMX_ECONFIG, 1, "t.ini:1: app: key outside any section", NULL);
  expect_fail("[promex]\napp = a\napp = b\n", PMX_ECONFIG, 3,
              "t.ini:3: [promex] app: duplicate key (first set at line 2)", NULL);
  expect_fail("[promex]\napp = a\n\n[promex]\n", PMX_ECONFIG, 4,
              "t.ini:4: [promex] section appears twice (first at line 1)", NULL);
  expect_fail("[promex]\napp = a\njust some words\n", PMX_ECONFIG, 3,
              "t.ini:3: expected \"key = value\", \"[section]\" or a comment", NULL);
  expect_fail("[promex]\napp = a\nword ; x = 1\n", PMX_ECONFIG, 3, "expected \"key = value\"", NULL);
  expect_fail("[promex\napp = a\n", PMX_ECONFIG, 1, "t.ini:1: section header without a closing ']'", NULL);
  expect_fail("[promex] extra\napp = a\n", PMX_ECONFIG, 1, "unexpected text after ']'", NULL);
  expect_fail("[Promex]\napp = a\n", PMX_ECONFIG, 1, "invalid section name \"Promex\" (expected [a-z0-9_.]+)", NULL);
  expect_fail("[]\n", PMX_ECONFIG, 1, "invalid section name \"\"", NULL);
  expect_fail("[promex]\n= a\n", PMX_ECONFIG, 2, "t.ini:2: [promex] expected a key before '='", NULL);
  expect_fail("[plugin.]\n", PMX_ECONFIG, 1, "[plugin.] unknown section", NULL);

  char longline[1200];
  int n = snprintf(longline, sizeof longline, "[promex]\napp = a\nversion = ");
  memset(longline + n, 'v', 1000);
  longline[n + 1000] = '\0';
  expect_fail(longline, PMX_ECONFIG, 3, "t.ini:3: line longer than", NULL);
}

static void missing_required(void **state) {
  (void)state;
  expect_fail("", PMX_ECONFIG, 0, "t.ini: [promex] missing section", NULL);
  expect_fail("[dashboards]\nx.json =\n", PMX_ECONFIG, 0, "[promex] missing section", NULL);
  expect_fail("; nothing\n[promex]\nversion = 1\n", PMX_ECONFIG, 2,
              "t.ini:2: [promex] app: required", NULL);
  expect_fail("[promex]\napp = a\n[metrics_server]\npath = /m\n", PMX_ECONFIG, 3,
              "t.ini:3: [metrics_server] port: required when the metrics server is enabled", NULL);
}

/* Combinations that only validate() can judge still come back with file and line. */
static void cross_checks_in_file(void **state) {
  (void)state;
  expect_fail("[promex]\napp=a\n[metrics_server]\nport=1\nauth_strategy=bearer\n", PMX_ECONFIG, 3,
              "t.ini:3: [metrics_server] auth_token: required when auth_strategy is bearer", NULL);
  expect_fail("[promex]\napp=a\n[metrics_server]\nport=1\nauth_strategy=basic\nauth_user=u\n",
              PMX_ECONFIG, 3, "[metrics_server] auth_password: required when auth_strategy is basic", NULL);
  expect_fail("[promex]\napp=a\n[metrics_server]\nport=1\nprotocol=https\n"
              "cert_file=/nonexistent/c.pem\nkey_file=/nonexistent/k.pem\n",
              PMX_ECONFIG, 6, "t.ini:6: [metrics_server] cert_file: cannot read \"/nonexistent/c.pem\"", NULL);
  expect_fail("[promex]\napp=a\n[metrics_server]\nport=1\nprotocol=https\n", PMX_ECONFIG, 3,
              "[metrics_server] cert_file: required when protocol is https", NULL);
  expect_fail("[promex]\napp=a\n\n[grafana]\nhost=http://g:3000\n", PMX_ECONFIG, 4,
              "t.ini:4: [grafana] auth_token: grafana needs auth_token, or username and password", NULL);
  expect_fail("[promex]\napp=a\n[grafana]\nhost=http://g:3000\nusername=u\n", PMX_ECONFIG, 3,
              "[grafana] password: required with username", NULL);
  expect_fail("[promex]\napp=a\n[grafana]\nauth_token=t\n", PMX_ECONFIG, 3,
              "[grafana] host: required when grafana is enabled", NULL);
}

static void env_expansion(void **state) {
  (void)state;
  setenv("PMX_T_A", "alpha", 1);
  setenv("PMX_T_B", "beta", 1);
  setenv("PMX_T_PORT", "9100", 1);
  setenv("PMX_T_BADPORT", "ninety", 1);
  unsetenv("PMX_T_UNSET");
  pmx_config_file_t *cf;
  const pmx_config_t *c = parse_ok(
      "[promex]\napp = a\nversion = ${PMX_T_A}-${PMX_T_B}.$$x$$\n"
      "[metrics_server]\nport = ${PMX_T_PORT}\nauth_strategy=bearer\nauth_token = pre${PMX_T_A}post\n"
      "[plugin.process]\nsecret = ${PMX_T_B}\n[dashboards]\nd = /x/${PMX_T_A}.json\n"
      "[dashboard_assigns]\nk = $${NOT_EXPANDED}\n",
      &cf);
  assert_string_equal(c->app_version, "alpha-beta.$x$");
  assert_int_equal(c->metrics_server.port, 9100);
  assert_string_equal(c->metrics_server.auth_token, "prealphapost");
  assert_string_equal(c->plugins[0].opts[0].value, "beta");
  assert_string_equal(c->dashboards[0].name_or_path, "/x/alpha.json");
  assert_string_equal(c->dashboard_assigns[0].value, "${NOT_EXPANDED}");
  pmx_config_file_free(cf);

  expect_fail("[promex]\napp = a\n[grafana]\nhost = http://g\nauth_token = ${PMX_T_UNSET}\n",
              PMX_ECONFIG, 5, "t.ini:5: [grafana] auth_token: environment variable PMX_T_UNSET is not set",
              NULL);
  expect_fail("[promex]\napp = a\n[plugin.process]\nx = ${PMX_T_UNSET}\n", PMX_ECONFIG, 4,
              "[plugin.process] x: environment variable PMX_T_UNSET is not set", NULL);
  expect_fail("[promex]\napp = a\n[metrics_server]\nport = ${PMX_T_BADPORT}\n", PMX_ECONFIG, 4,
              "port: expected an integer 0-65535, got \"ninety\"", NULL);
  expect_fail("[promex]\napp = a\nversion = 5$\n", PMX_ECONFIG, 3,
              "[promex] version: '$' must start ${VAR} or be doubled ($$)", NULL);
  expect_fail("[promex]\napp = a\nversion = ${PMX_T_A\n", PMX_ECONFIG, 3, "malformed variable reference", NULL);
  expect_fail("[promex]\napp = a\nversion = ${1A}\n", PMX_ECONFIG, 3, "malformed variable reference", NULL);
  expect_fail("[promex]\napp = a\nversion = ${}\n", PMX_ECONFIG, 3, "malformed variable reference", NULL);
}

static void plugin_sections(void **state) {
  (void)state;
  pmx_config_file_t *cf;
  const pmx_config_t *c = parse_ok("[plugin.process]\n[promex]\napp=a\n[plugin.http_server]\n"
                                   "b = 2\na = 1\nc =\n",
                                   &cf);
  assert_int_equal(c->n_plugins, 2);
  assert_ptr_equal(c->plugins[0].plugin, &plug_process);
  assert_int_equal(c->plugins[0].n_opts, 0);
  assert_ptr_equal(c->plugins[1].plugin, &plug_http);
  assert_int_equal(c->plugins[1].n_opts, 3);
  assert_string_equal(c->plugins[1].opts[0].key, "b"); /* file order is kept */
  assert_string_equal(c->plugins[1].opts[1].key, "a");
  assert_string_equal(c->plugins[1].opts[2].value, "");
  pmx_config_file_free(cf);

  expect_fail("[promex]\napp=a\n[plugin.nope]\n", PMX_ECONFIG, 3,
              "t.ini:3: [plugin.nope] unknown plugin \"nope\" (known: process, http_server, future)", NULL);
  expect_fail("[promex]\napp=a\n[plugin.future]\n", PMX_EABI, 3,
              "[plugin.future] plugin \"future\" was built for plugin ABI 2, this library uses ABI 1", NULL);
  expect_fail("[promex]\napp=a\n[plugin.process]\n[plugin.process]\n", PMX_ECONFIG, 4,
              "section appears twice (first at line 3)", NULL);
  expect_fail("[promex]\napp=a\n[plugin.process]\nx=1\nx=2\n", PMX_ECONFIG, 5,
              "[plugin.process] x: duplicate key (first set at line 4)", NULL);

  /* No known plugins at all. */
  pmx_error_t err;
  assert_int_equal(pmx_config_parse("[promex]\napp=a\n[plugin.process]\n", "n.ini", NULL, 0, &cf, &err),
                   PMX_ECONFIG);
  assert_non_null(strstr(err.text, "n.ini:3: [plugin.process] unknown plugin \"process\" (known: none)"));
}

static void dashboards_and_assigns(void **state) {
  (void)state;
  pmx_config_file_t *cf;
  const pmx_config_t *c = parse_ok("[promex]\napp=a\n[dashboards]\napplication.json =\n"
                                   "/abs/path/mine.json =\nlabel = rel/other.json\n"
                                   "[dashboard_assigns]\nz = 1\na = two words\n",
                                   &cf);
  assert_int_equal(c->n_dashboards, 3);
  assert_string_equal(c->dashboards[0].name_or_path, "application.json");
  assert_string_equal(c->dashboards[1].name_or_path, "/abs/path/mine.json");
  assert_string_equal(c->dashboards[2].name_or_path, "rel/other.json");
  for (size_t i = 0; i < 3; i++) assert_int_equal(c->dashboards[i].n_assigns, 0);
  assert_int_equal(c->n_dashboard_assigns, 2);
  assert_string_equal(c->dashboard_assigns[0].key, "z");
  assert_string_equal(c->dashboard_assigns[1].value, "two words");
  pmx_config_file_free(cf);
  expect_fail("[promex]\napp=a\n[dashboards]\nx.json=\nx.json=\n", PMX_ECONFIG, 5,
              "[dashboards] x.json: duplicate key", NULL);
}

static void crlf_bom_and_comments(void **state) {
  (void)state;
  pmx_config_file_t *cf = NULL;
  pmx_error_t err;
  assert_int_equal(pmx_config_load(PMX_TEST_DATA "/config/crlf_bom.ini", NULL, 0, &cf, &err), PMX_OK);
  const pmx_config_t *c = pmx_config_file_config(cf);
  assert_string_equal(c->app, "crlf_app");
  assert_int_equal(c->metrics_server.port, 9100);
  pmx_config_file_free(cf);

  c = parse_ok("# hash comment\n[promex] ; trailing comment\n  app = a ; inline comment\n"
               "version = v#1;2\n",
               &cf);
  assert_string_equal(c->app, "a");
  assert_string_equal(c->app_version, "v#1;2");
  pmx_config_file_free(cf);
}

static void bad_arguments_and_io(void **state) {
  (void)state;
  pmx_config_file_t *cf = (pmx_config_file_t *)(uintptr_t)1;
  pmx_error_t err;
  assert_int_equal(pmx_config_parse(NULL, "x", NULL, 0, &cf, &err), PMX_EINVAL);
  assert_null(cf);
  assert_int_equal(err.code, PMX_EINVAL);
  assert_int_equal(pmx_config_parse("[promex]\napp=a\n", "x", NULL, 0, NULL, &err), PMX_EINVAL);
  assert_int_equal(pmx_config_parse("[promex]\napp=a\n", "x", NULL, 2, &cf, &err), PMX_EINVAL);
  assert_int_equal(pmx_config_load(NULL, NULL, 0, &cf, &err), PMX_EINVAL);
  /* err may be NULL; name may be NULL. */
  assert_int_equal(pmx_config_parse("[promex]\napp=Bad\n", NULL, NULL, 0, &cf, NULL), PMX_ECONFIG);
  assert_int_equal(pmx_config_parse("[promex]\napp=Bad\n", NULL, NULL, 0, &cf, &err), PMX_ECONFIG);
  assert_non_null(strstr(err.text, "<string>:2: [promex] app:"));
  assert_null(pmx_config_file_config(NULL));
  pmx_config_file_free(NULL);

  assert_int_equal(pmx_config_load(PMX_TEST_DATA "/config/does_not_exist.ini", NULL, 0, &cf, &err), PMX_EIO);
  assert_null(cf);
  assert_non_null(strstr(err.text, "does_not_exist.ini: cannot open: No such file or directory"));

  char path[] = "/tmp/pmx_config_nul_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  FILE *f = fdopen(fd, "wb");
  fwrite("[promex]\napp=a\n\0x", 1, 17, f);
  fclose(f);
  assert_int_equal(pmx_config_load(path, NULL, 0, &cf, &err), PMX_ECONFIG);
  assert_non_null(strstr(err.text, "contains a NUL byte at offset 15"));
  remove(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(defaults_from_minimal_file),
      cmocka_unit_test(full_file),
      cmocka_unit_test(value_spellings),
      cmocka_unit_test(bad_values),
      cmocka_unit_test(bad_port_file_names_file_and_line),
      cmocka_unit_test(unknown_and_malformed),
      cmocka_unit_test(missing_required),
      cmocka_unit_test(cross_checks_in_file),
      cmocka_unit_test(env_expansion),
      cmocka_unit_test(plugin_sections),
      cmocka_unit_test(dashboards_and_assigns),
      cmocka_unit_test(crlf_bom_and_comments),
      cmocka_unit_test(bad_arguments_and_io),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
