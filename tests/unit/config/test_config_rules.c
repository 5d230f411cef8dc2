/* The configuration rules are checked in one place: every value the metrics server's start
 * refuses is refused, with the same key, by pmx_config_validate() and by the INI loader (with
 * file, line and key), and what they accept starts. Each case below is a value that used to load
 * and then fail at pmx_start (issue 8 items 10 and 11), or one of its class.
 *
 * Values the INI syntax cannot hold (over-long, leading spaces, control characters) come in
 * through ${VAR}, as a real secret would. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "promex/config.h"
#include "promex/server.h"

static const pmx_plugin_t plug_x = {PMX_PLUGIN_ABI, "x", NULL, NULL, NULL, {0}};
static const pmx_plugin_t *const KNOWN[] = {&plug_x};

static int scrape(void *ctx, pmx_format_t fmt, pmx_buf_t *out) {
  (void)ctx, (void)fmt, (void)out;
  return PMX_OK;
}

/* A string of n copies of c (static storage, one at a time per slot). */
static const char *repeat(int slot, char c, size_t n) {
  static char bufs[3][4096];
  memset(bufs[slot], c, n);
  bufs[slot][n] = '\0';
  return bufs[slot];
}

typedef struct srv_case {
  const char *name;
  const char *lines;   /* [metrics_server] lines after "port = 0"; the bad key is the last line */
  const char *key;     /* the option every checker must name */
  const char *frag;    /* part of the message */
  void (*apply)(pmx_server_config_t *s);
} srv_case_t;

static void pool_300(pmx_server_config_t *s) { s->pool_size = 300; }
static void pool_over_conn(pmx_server_config_t *s) { s->pool_size = 100; }
static void user_colon(pmx_server_config_t *s) {
  s->auth_strategy = PMX_AUTH_BASIC, s->auth_user = "a:b", s->auth_password = "p";
}
static void cert_dir(pmx_server_config_t *s) {
  s->protocol = PMX_PROTO_HTTPS, s->cert_file = "/tmp", s->key_file = "/tmp";
}
static void cert_junk(pmx_server_config_t *s) {
  s->protocol = PMX_PROTO_HTTPS, s->cert_file = getenv("PMX_T_JUNK"), s->key_file = getenv("PMX_T_KEY");
}
static void key_is_cert(pmx_server_config_t *s) {
  s->protocol = PMX_PROTO_HTTPS, s->cert_file = getenv("PMX_T_CERT"), s->key_file = getenv("PMX_T_CERT");
}
static void path_query(pmx_server_config_t *s) { s->path = "/metrics?x=1"; }
static void path_pct(pmx_server_config_t *s) { s->path = "/m%65trics"; }
static void bind_name(pmx_server_config_t *s) { s->bind_address = "example.com"; }
static void token_long(pmx_server_config_t *s) {
  s->auth_strategy = PMX_AUTH_BEARER, s->auth_token = repeat(0, 't', 1025);
}
static void token_space(pmx_server_config_t *s) { s->auth_strategy = PMX_AUTH_BEARER, s->auth_token = " tok"; }
static void token_tail(pmx_server_config_t *s) { s->auth_strategy = PMX_AUTH_BEARER, s->auth_token = "tok "; }
static void token_ctl(pmx_server_config_t *s) { s->auth_strategy = PMX_AUTH_BEARER, s->auth_token = "to\tk"; }
static void basic_long(pmx_server_config_t *s) {
  s->auth_strategy = PMX_AUTH_BASIC, s->auth_user = "u", s->auth_password = repeat(1, 'p', 767);
}
static void header_timeout(pmx_server_config_t *s) { s->header_timeout_s = 3601; }
static void timeout_big(pmx_server_config_t *s) { s->timeout_s = 86401; }

static const srv_case_t SRV_CASES[] = {
    {"pool_size over the limit", "pool_size = 300", "pool_size", "1-256", pool_300},
    {"pool_size over max_connections", "pool_size = 100", "pool_size", "exceed max_connections (64)",
     pool_over_conn},
    {"user name with ':'", "auth_strategy = basic\nauth_password = p\nauth_user = a:b", "auth_user",
     "must not contain ':'", user_colon},
    {"directory as cert_file", "protocol = https\nkey_file = /tmp\ncert_file = /tmp", "cert_file",
     "\"/tmp\" is not a regular file", cert_dir},
    {"a file that is not a certificate", "protocol = https\nkey_file = ${PMX_T_KEY}\ncert_file = ${PMX_T_JUNK}",
     "cert_file", "not a usable PEM certificate and key", cert_junk},
    {"the certificate as its own key", "protocol = https\nkey_file = ${PMX_T_CERT}\ncert_file = ${PMX_T_CERT}",
     "cert_file", "not a usable PEM certificate and key", key_is_cert},
    {"path with '?'", "path = /metrics?x=1", "path", "'?'", path_query},
    {"path with '%'", "path = /m%65trics", "path", "'%'", path_pct},
    {"host name as bind_address", "bind_address = example.com", "bind_address", "host names are not resolved",
     bind_name},
    {"bearer token over 1024 bytes", "auth_strategy = bearer\nauth_token = ${PMX_T_LONG}", "auth_token",
     "at most 1024 bytes", token_long},
    {"bearer token with a leading space", "auth_strategy = bearer\nauth_token = ${PMX_T_SPACE}", "auth_token",
     "leading or trailing spaces", token_space},
    {"bearer token with a trailing space", "auth_strategy = bearer\nauth_token = ${PMX_T_TAIL}", "auth_token",
     "leading or trailing spaces", token_tail},
    {"bearer token with a tab", "auth_strategy = bearer\nauth_token = ${PMX_T_CTL}", "auth_token",
     "control character", token_ctl},
    {"basic credentials over the limit", "auth_strategy = basic\nauth_user = u\nauth_password = ${PMX_T_PW}",
     "auth_password", "could never match", basic_long},
    {"header_timeout_s over 3600", "header_timeout_s = 3601", "header_timeout_s", "3600", header_timeout},
    {"timeout_s over a day", "timeout_s = 86401", "timeout_s", "86400", timeout_big},
};
#define N_SRV_CASES (sizeof SRV_CASES / sizeof SRV_CASES[0])

static int setup_env(void **state) {
  (void)state;
  setenv("PMX_T_LONG", repeat(0, 't', 1025), 1);
  setenv("PMX_T_SPACE", " tok", 1);
  setenv("PMX_T_TAIL", "tok ", 1);
  setenv("PMX_T_CTL", "to\tk", 1);
  setenv("PMX_T_PW", repeat(1, 'p', 767), 1);
  setenv("PMX_T_CERT", PMX_TEST_DATA "/config/dummy_cert.pem", 1);
  setenv("PMX_T_KEY", PMX_TEST_DATA "/config/dummy_key.pem", 1);
  static char junk[] = "/tmp/pmx_rules_junk_XXXXXX";
  int fd = mkstemp(junk);
  if (fd < 0) return -1;
  /* Not PEM at all (a PEM block with a bad body would do too, but GnuTLS 3.7.9 leaks on it). */
  if (write(fd, "this is not a certificate\n", 26) != 26) return -1;
  close(fd);
  setenv("PMX_T_JUNK", junk, 1);
  return 0;
}

static int teardown_env(void **state) {
  (void)state;
  if (getenv("PMX_T_JUNK") != NULL) unlink(getenv("PMX_T_JUNK"));
  return 0;
}

static void check_msg(const char *who, const char *text, const char *want1, const char *want2) {
  if (strstr(text, want1) == NULL || strstr(text, want2) == NULL)
    fprintf(stderr, "%s: \"%s\" lacks \"%s\" or \"%s\"\n", who, text, want1, want2);
  assert_non_null(strstr(text, want1));
  assert_non_null(strstr(text, want2));
}

/* Each case: refused by the server's start, by pmx_config_validate and by the loader, all naming
 * the same key (the loader with the line of the key). */
static void server_cases_refused_everywhere(void **state) {
  (void)state;
  for (size_t i = 0; i < N_SRV_CASES; i++) {
    const srv_case_t *c = &SRV_CASES[i];
    fprintf(stderr, "case: %s\n", c->name);
    char want[96];
    snprintf(want, sizeof want, "metrics_server.%s: ", c->key);

    pmx_server_config_t s;
    memset(&s, 0, sizeof s);
    s.enabled = true;
    s.bind_address = "127.0.0.1";
    c->apply(&s);
    pmx_error_t err;
    memset(&err, 0, sizeof err);
    pmx_server_t *srv = NULL;
    assert_int_equal(pmx_server_start(&s, scrape, NULL, &srv, &err), PMX_ECONFIG);
    assert_null(srv);
    check_msg("server", err.text, want, c->frag);

    pmx_config_t cfg;
    pmx_config_defaults(&cfg);
    cfg.app = "a";
    cfg.metrics_server = s;
    memset(&err, 0, sizeof err);
    assert_int_equal(pmx_config_validate(&cfg, &err), PMX_ECONFIG);
    check_msg("validate", err.text, want, c->frag);

    char text[2048];
    snprintf(text, sizeof text, "[promex]\napp = a\n[metrics_server]\nport = 0\n%s\n", c->lines);
    int line = 4;
    for (const char *p = c->lines; *p; p++) line += *p == '\n';
    line++; /* the last line of c->lines holds the bad key */
    pmx_config_file_t *cf = NULL;
    memset(&err, 0, sizeof err);
    assert_int_equal(pmx_config_parse(text, "t.ini", KNOWN, 1, &cf, &err), PMX_ECONFIG);
    assert_null(cf);
    char where[96];
    snprintf(where, sizeof where, "t.ini:%d: [metrics_server] %s: ", line, c->key);
    check_msg("loader", err.text, where, c->frag);
    assert_int_equal(err.line, line);
  }
}

/* The same values one step inside the limits are accepted by all three, and the server starts. */
static void limits_accepted_everywhere(void **state) {
  (void)state;
  setenv("PMX_T_OK_TOKEN", repeat(0, 't', 1024), 1);
  setenv("PMX_T_OK_PW", repeat(1, 'p', 766), 1);
  const char *text =
      "[promex]\napp = a\n[metrics_server]\nport = 0\nbind_address = 127.0.0.1\npool_size = 64\n"
      "header_timeout_s = 3600\ntimeout_s = 86400\npath = /metrics/x-y_z.1\n"
      "auth_strategy = bearer\nauth_token = ${PMX_T_OK_TOKEN}\n";
  pmx_config_file_t *cf = NULL;
  pmx_error_t err;
  memset(&err, 0, sizeof err);
  int rc = pmx_config_parse(text, "t.ini", KNOWN, 1, &cf, &err);
  if (rc != PMX_OK) fprintf(stderr, "%s\n", err.text);
  assert_int_equal(rc, PMX_OK);
  const pmx_config_t *cfg = pmx_config_file_config(cf);
  assert_int_equal(cfg->metrics_server.header_timeout_s, 3600);
  assert_int_equal(pmx_config_validate(cfg, &err), PMX_OK);
  pmx_server_t *srv = NULL;
  rc = pmx_server_start(&cfg->metrics_server, scrape, NULL, &srv, &err);
  if (rc != PMX_OK) fprintf(stderr, "%s\n", err.text);
  assert_int_equal(rc, PMX_OK);
  pmx_server_stop(srv);
  pmx_config_file_free(cf);

  /* Basic credentials of exactly 1024 bytes of base64 (user + ':' + password = 768 bytes). */
  pmx_server_config_t s;
  memset(&s, 0, sizeof s);
  s.enabled = true;
  s.bind_address = "127.0.0.1";
  s.auth_strategy = PMX_AUTH_BASIC;
  s.auth_user = "u";
  s.auth_password = getenv("PMX_T_OK_PW");
  pmx_config_t whole;
  pmx_config_defaults(&whole);
  whole.app = "a";
  whole.metrics_server = s;
  assert_int_equal(pmx_config_validate(&whole, &err), PMX_OK);
  assert_int_equal(pmx_server_start(&s, scrape, NULL, &srv, &err), PMX_OK);
  pmx_server_stop(srv);

  /* A real certificate and key pass all three. */
  const char *https = "[promex]\napp = a\n[metrics_server]\nport = 0\nbind_address = 127.0.0.1\n"
                      "protocol = https\ncert_file = ${PMX_T_CERT}\nkey_file = ${PMX_T_KEY}\n";
  rc = pmx_config_parse(https, "t.ini", KNOWN, 1, &cf, &err);
  if (rc != PMX_OK) fprintf(stderr, "%s\n", err.text);
  assert_int_equal(rc, PMX_OK);
  assert_int_equal(pmx_config_validate(pmx_config_file_config(cf), &err), PMX_OK);
  rc = pmx_server_start(&pmx_config_file_config(cf)->metrics_server, scrape, NULL, &srv, &err);
  if (rc != PMX_OK) fprintf(stderr, "%s\n", err.text);
  assert_int_equal(rc, PMX_OK);
  pmx_server_stop(srv);
  pmx_config_file_free(cf);
}

/* bind_address = localhost loads, validates, and the server listens on 127.0.0.1. */
static void localhost_binds_loopback(void **state) {
  (void)state;
  pmx_config_file_t *cf = NULL;
  pmx_error_t err;
  memset(&err, 0, sizeof err);
  assert_int_equal(pmx_config_parse("[promex]\napp = a\n[metrics_server]\nport = 0\nbind_address = localhost\n",
                                    "t.ini", KNOWN, 1, &cf, &err),
                   PMX_OK);
  const pmx_config_t *cfg = pmx_config_file_config(cf);
  assert_int_equal(pmx_config_validate(cfg, &err), PMX_OK);
  pmx_server_t *srv = NULL;
  assert_int_equal(pmx_server_start(&cfg->metrics_server, scrape, NULL, &srv, &err), PMX_OK);
  uint16_t port = pmx_server_port(srv);
  assert_true(port != 0);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(fd >= 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
  close(fd);
  pmx_server_stop(srv);
  pmx_config_file_free(cf);
}

/* [promex] and [grafana] and the plugin options: the loader names file, line and key, validate
 * names the option, for the values that failed later (at start or at the first upload). */
typedef struct ini_case {
  const char *text;
  int line;
  const char *where; /* loader: "[section] key: " */
  const char *frag;
} ini_case_t;

static void other_sections(void **state) {
  (void)state;
  setenv("PMX_T_VERSION", repeat(2, 'v', 1025), 1);
  setenv("PMX_T_BAD_UTF8", "1.0\xff", 1);
  setenv("PMX_T_GF_TOKEN", "tok\r\nX-Injected: 1", 1);
  static const ini_case_t cases[] = {
      {"[promex]\napp = a\nversion = ${PMX_T_VERSION}\n", 3, "[promex] version: ", "at most 1024 bytes"},
      {"[promex]\napp = a\nversion = ${PMX_T_BAD_UTF8}\n", 3, "[promex] version: ", "UTF-8"},
      {"[promex]\napp = a\n[grafana]\nhost = http://g\nauth_token = ${PMX_T_GF_TOKEN}\n", 5,
       "[grafana] auth_token: ", "control character"},
      {"[promex]\napp = a\n[grafana]\nhost = http://g\npassword = p\nusername = a:b\n", 6,
       "[grafana] username: ", "':'"},
      {"[promex]\napp = a\n[plugin.x]\npoll_rate = 0\n", 4, "[plugin.x] poll_rate: ", "1-4294967295"},
      {"[promex]\napp = a\n[plugin.x]\npoll_rate = 4294967296\n", 4, "[plugin.x] poll_rate: ", "1-4294967295"},
      {"[promex]\napp = a\n[plugin.x]\nmetric_prefix = my-app\n", 4, "[plugin.x] metric_prefix: ",
       "[a-zA-Z_:]"},
      {"[promex]\napp = a\n[plugin.x]\nmetric_prefix = __x\n", 4, "[plugin.x] metric_prefix: ", "\"__\""},
      {"[promex]\napp = a\n[plugin.x]\nnative_histograms = maybe\n", 4, "[plugin.x] native_histograms: ",
       "expected a boolean"},
      {"[promex]\napp = a\n[plugin.x]\nnative_max_buckets = 0\n", 4, "[plugin.x] native_max_buckets: ", "1-4096"},
      {"[promex]\napp = a\n[plugin.x]\nnative_histograms = on\nnative_max_buckets = 4097\n", 5,
       "[plugin.x] native_max_buckets: ", "1-4096"},
      /* The runtime adds the delay in nanoseconds to a monotonic clock: bounded to a year. */
      {"[promex]\napp = a\nmanual_metrics_start_delay = 31536000001\n", 3,
       "[promex] manual_metrics_start_delay: ", "0-31536000000"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    pmx_config_file_t *cf = NULL;
    pmx_error_t err;
    memset(&err, 0, sizeof err);
    assert_int_equal(pmx_config_parse(cases[i].text, "t.ini", KNOWN, 1, &cf, &err), PMX_ECONFIG);
    char where[128];
    snprintf(where, sizeof where, "t.ini:%d: %s", cases[i].line, cases[i].where);
    check_msg("loader", err.text, where, cases[i].frag);
  }

  pmx_config_t c;
  pmx_config_defaults(&c);
  c.app = "a";
  c.app_version = getenv("PMX_T_VERSION");
  assert_int_equal(pmx_config_validate(&c, NULL), PMX_ECONFIG);
  c.app_version = "1.0\xff";
  assert_int_equal(pmx_config_validate(&c, NULL), PMX_ECONFIG);
  c.app_version = "1.0.0-rc.1+build.5";
  assert_int_equal(pmx_config_validate(&c, NULL), PMX_OK);
  c.manual_metrics_start_delay_ms = INT64_MAX;
  assert_int_equal(pmx_config_validate(&c, NULL), PMX_ECONFIG);
  c.manual_metrics_start_delay_ms = 31536000000;
  assert_int_equal(pmx_config_validate(&c, NULL), PMX_OK);
  c.manual_metrics_start_delay_ms = -1; /* no delay */
  assert_int_equal(pmx_config_validate(&c, NULL), PMX_OK);
  c.grafana.enabled = true;
  c.grafana.host = "http://g";
  c.grafana.auth_token = "tok\r\nX-Injected: 1";
  pmx_error_t err;
  assert_int_equal(pmx_config_validate(&c, &err), PMX_ECONFIG);
  check_msg("validate", err.text, "grafana.auth_token: ", "control character");
  c.grafana.auth_token = "tok";
  c.grafana.timeout_ms = 3600001;
  assert_int_equal(pmx_config_validate(&c, &err), PMX_ECONFIG);
  check_msg("validate", err.text, "grafana.timeout_ms: ", "1-3600000");
  c.grafana.timeout_ms = 0;
  assert_int_equal(pmx_config_validate(&c, &err), PMX_OK);
  pmx_kv_t opts[] = {{"poll_rate", "-5"}};
  pmx_plugin_use_t use = {&plug_x, opts, 1, NULL};
  c.plugins = &use;
  c.n_plugins = 1;
  assert_int_equal(pmx_config_validate(&c, &err), PMX_ECONFIG);
  check_msg("validate", err.text, "plugin.x.poll_rate: ", "expected an integer");
  opts[0] = (pmx_kv_t){"poll_rate", "250"};
  assert_int_equal(pmx_config_validate(&c, &err), PMX_OK);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(server_cases_refused_everywhere),
      cmocka_unit_test(limits_accepted_everywhere),
      cmocka_unit_test(localhost_binds_loopback),
      cmocka_unit_test(other_sections),
  };
  return cmocka_run_group_tests(tests, setup_env, teardown_env);
}
