/* The http_client plugin end to end in one process: a real promex instance with the plugin, a
 * libmicrohttpd server on 127.0.0.1 (random port) answering 200, 404, 500 and a redirect, and
 * libcurl transfers through the adapter (easy wrapper, observe after perform, multi interface)
 * plus one to a refused port. The rendered exposition must hold exactly the counts the test
 * produced. Hostile event metadata must end up as bounded, valid labels; bad options must fail
 * pmx_start() with PMX_ECONFIG naming the option. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <microhttpd.h>

#include "unit/plugins/plugin_test_util.h"
#include "promex/curl.h"
#include "promex/plugins/http_client.h"
#include "internal.h"
#include "promex/promex.h"

#define P "hc_test_prom_ex_http_client_"

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *data,
                              size_t *size, void **con_cls) {
  (void)cls, (void)method, (void)version, (void)data, (void)size;
  /* Answer on the second call, once the request is complete: MHD closes connections whose
   * response was queued before the request was fully read. */
  static int seen;
  if (*con_cls == NULL) {
    *con_cls = &seen;
    return MHD_YES;
  }
  unsigned status = MHD_HTTP_OK;
  const char *body = "hello";
  if (strcmp(url, "/missing") == 0) status = MHD_HTTP_NOT_FOUND, body = "nope";
  else if (strcmp(url, "/fail") == 0) status = MHD_HTTP_INTERNAL_SERVER_ERROR, body = "boom";
  else if (strcmp(url, "/redirect") == 0) status = MHD_HTTP_FOUND, body = "";
  struct MHD_Response *r =
      MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
  if (status == MHD_HTTP_FOUND) MHD_add_response_header(r, "Location", "/ok");
  enum MHD_Result rc = MHD_queue_response(c, status, r);
  MHD_destroy_response(r);
  return rc;
}

typedef struct fixture {
  struct MHD_Daemon *d;
  unsigned port;
  pmx_t *p;
  pmx_curl_t *pc;
  pmx_buf_t buf;
  char base[64];
} fixture_t;

static void quiet_log(void *ctx, pmx_log_level_t level, const char *msg) {
  (void)ctx, (void)level, (void)msg;
}

static int start_instance(pmx_t **out, const pmx_kv_t *opts, size_t n, pmx_error_t *err) {
  pmx_config_t cfg;
  pmx_config_defaults(&cfg);
  cfg.app = "hc_test";
  pmx_plugin_use_t use = {.plugin = &pmx_plugin_http_client, .opts = opts, .n_opts = n};
  cfg.plugins = &use;
  cfg.n_plugins = 1;
  cfg.log = quiet_log;
  int rc = pmx_new(&cfg, out, err);
  if (rc != PMX_OK) return rc;
  rc = pmx_start(*out, err);
  if (rc != PMX_OK) {
    pmx_destroy(*out);
    *out = NULL;
  }
  return rc;
}

static int setup_opts(void **state, const pmx_kv_t *opts, size_t n) {
  fixture_t *f = calloc(1, sizeof *f);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  f->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, answer, NULL,
                          MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_END);
  if (f->d == NULL) return -1;
  f->port = MHD_get_daemon_info(f->d, MHD_DAEMON_INFO_BIND_PORT)->port;
  snprintf(f->base, sizeof f->base, "http://127.0.0.1:%u", f->port);
  pmx_error_t err;
  if (start_instance(&f->p, opts, n, &err) != PMX_OK) {
    fprintf(stderr, "start: %s\n", err.text);
    return -1;
  }
  if (pmx_curl_new(pmx_bus(f->p), &f->pc) != PMX_OK) return -1;
  *state = f;
  return 0;
}

static int setup(void **state) { return setup_opts(state, NULL, 0); }

static int setup_allow_list(void **state) {
  static const pmx_kv_t opts[] = {{"hosts", "api.example.com"}};
  return setup_opts(state, opts, 1);
}

static int teardown(void **state) {
  fixture_t *f = *state;
  pmx_curl_free(f->pc);
  pmx_destroy(f->p);
  MHD_stop_daemon(f->d);
  pmx_buf_free(&f->buf);
  free(f);
  return 0;
}

static const char *scrape(fixture_t *f) {
  f->buf.len = 0;
  assert_int_equal(pmx_get_metrics(f->p, PMX_FORMAT_TEXT, &f->buf), PMX_OK);
  /* The exposition is not NUL-terminated; the string helpers need it to be. */
  assert_int_equal(pmx__buf_append(&f->buf, "", 1), PMX_OK);
  return f->buf.data;
}

static double val(fixture_t *f, const char *name, const char *l1, const char *l2) {
  const char *labels[2] = {l1, l2};
  size_t n = l1 == NULL ? 0 : l2 == NULL ? 1 : 2;
  double v = pt_value(scrape(f), name, labels, n);
  return isnan(v) ? 0 : v;
}

/* A port nothing listens on: bound, then closed. */
static unsigned refused_port(void) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  bind(s, (struct sockaddr *)&sa, sizeof sa);
  getsockname(s, (struct sockaddr *)&sa, &len);
  close(s);
  return ntohs(sa.sin_port);
}

static CURLcode get(fixture_t *f, CURL *e, const char *path, bool wrapper) {
  char url[128];
  snprintf(url, sizeof url, "%s%s", f->base, path);
  curl_easy_setopt(e, CURLOPT_URL, url);
  if (wrapper) return pmx_curl_easy_perform(f->pc, e);
  CURLcode rc = curl_easy_perform(e);
  assert_int_equal(pmx_curl_observe(f->pc, e, rc), PMX_OK);
  return rc;
}

static size_t discard(char *p, size_t s, size_t n, void *u) {
  (void)p, (void)u;
  return s * n;
}

static void test_easy_transfers_counted_exactly(void **state) {
  fixture_t *f = *state;
  CURL *e = curl_easy_init();
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
  assert_int_equal(get(f, e, "/ok", true), CURLE_OK);
  assert_int_equal(get(f, e, "/missing", false), CURLE_OK);
  assert_int_equal(get(f, e, "/fail", true), CURLE_OK);
  assert_int_equal(get(f, e, "/redirect", true), CURLE_OK);
  long code = 0;
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
  assert_int_equal(code, 200); /* the adapter did not change the transfer */
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%u/ok", refused_port());
  curl_easy_setopt(e, CURLOPT_URL, url);
  assert_int_equal(pmx_curl_easy_perform(f->pc, e), CURLE_COULDNT_CONNECT);
  curl_easy_cleanup(e);

  const char *d = P "request_duration_seconds_count";
  assert_true(val(f, d, "status=\"200\"", "host=\"127.0.0.1\"") == 2);
  assert_true(val(f, d, "status=\"404\"", "method=\"GET\"") == 1);
  assert_true(val(f, d, "status=\"500\"", "scheme=\"http\"") == 1);
  char port[32];
  snprintf(port, sizeof port, "port=\"%u\"", f->port);
  assert_true(val(f, d, "status=\"200\"", port) == 2);
  assert_true(val(f, P "request_exceptions_total", "reason=\"COULDNT_CONNECT\"", NULL) == 1);
  assert_true(val(f, P "request_connections_total", "connection=\"new\"", NULL) == 1);
  assert_true(val(f, P "request_connections_total", "connection=\"reused\"", NULL) == 3);
  assert_true(val(f, P "request_redirects_total", NULL, NULL) == 1);
  const char *ph = P "request_phase_duration_seconds_count";
  assert_true(val(f, ph, "phase=\"dns\"", NULL) == 1);
  assert_true(val(f, ph, "phase=\"connect\"", NULL) == 1);
  assert_true(val(f, ph, "phase=\"tls\"", NULL) == 0);
  assert_true(val(f, ph, "phase=\"wait\"", NULL) == 4);
  assert_true(val(f, ph, "phase=\"receive\"", NULL) == 4);
  assert_true(val(f, ph, "phase=\"redirect\"", NULL) == 1);
  assert_true(val(f, P "response_size_bytes_sum", "status=\"200\"", NULL) > 10);
  assert_true(val(f, P "request_size_bytes_count", NULL, NULL) == 4);
  assert_true(val(f, P "library_info", NULL, NULL) == 1);
  /* Nothing was skipped: every event fitted every metric. */
  assert_true(isnan(pt_value(scrape(f), "hc_test_prom_ex_prom_ex_events_skipped_total", NULL, 0)) ||
              val(f, "hc_test_prom_ex_prom_ex_events_skipped_total", NULL, NULL) == 0);
}

static void test_multi_interface(void **state) {
  fixture_t *f = *state;
  CURLM *m = curl_multi_init();
  CURL *e[3];
  const char *paths[3] = {"/ok", "/missing", "/ok"};
  for (int i = 0; i < 3; i++) {
    char url[128];
    snprintf(url, sizeof url, "%s%s", f->base, paths[i]);
    e[i] = curl_easy_init();
    curl_easy_setopt(e[i], CURLOPT_URL, url);
    curl_easy_setopt(e[i], CURLOPT_WRITEFUNCTION, discard);
    curl_multi_add_handle(m, e[i]);
  }
  int running = 1, done = 0, left = 0;
  while (running > 0 || done < 3) {
    curl_multi_perform(m, &running);
    CURLMsg *msg;
    while ((msg = pmx_curl_multi_info_read(f->pc, m, &left)) != NULL) {
      assert_int_equal(msg->msg, CURLMSG_DONE); /* the message comes back unchanged */
      assert_int_equal(msg->data.result, CURLE_OK);
      done++;
    }
    if (running > 0) curl_multi_poll(m, NULL, 0, 100, NULL);
  }
  for (int i = 0; i < 3; i++) {
    curl_multi_remove_handle(m, e[i]);
    curl_easy_cleanup(e[i]);
  }
  curl_multi_cleanup(m);
  const char *d = P "request_duration_seconds_count";
  assert_true(val(f, d, "status=\"200\"", NULL) == 2);
  assert_true(val(f, d, "status=\"404\"", NULL) == 1);
}

static void test_hostile_metadata_bounded(void **state) {
  fixture_t *f = *state;
  pmx_bus_t *bus = pmx_bus(f->p);
  const pmx_measurement_t m[] = {PMX_M("duration", 1e6), PMX_M("request_size", 10),
                                 PMX_M("response_size", 20), PMX_M("redirects", 0)};
  char longhost[3000];
  memset(longhost, 'x', sizeof longhost - 1);
  longhost[sizeof longhost - 1] = '\0';
  const pmx_meta_t md[] = {PMX_META_S("method", "DROP\xff TABLE"),
                           PMX_META_S("scheme", "gopher\n"), PMX_META_S("host", longhost),
                           PMX_META_I("port", -7), PMX_META_I("status", 99999),
                           PMX_META_S("connection", "\xc3\x28")};
  assert_true(pmx_emit_name(bus, PMX_HTTP_CLIENT_EVENT_STOP, m, 4, md, 6) >= 1);
  const pmx_meta_t mx[] = {PMX_META_S("method", "GET"), PMX_META_S("scheme", "https"),
                           PMX_META_S("host", "evil\"host\\"), PMX_META_S("port", "443"),
                           PMX_META_S("reason", "no\nway\xff")};
  assert_true(pmx_emit_name(bus, PMX_HTTP_CLIENT_EVENT_EXCEPTION, m, 1, mx, 5) >= 1);
  const char *d = P "request_duration_seconds_count";
  assert_true(val(f, d, "method=\"other\"", "scheme=\"other\"") == 1);
  assert_true(val(f, d, "status=\"0\"", "port=\"0\"") == 1);
  assert_true(val(f, P "request_connections_total", "connection=\"new\"", NULL) == 1);
  assert_true(val(f, P "request_exceptions_total", "reason=\"no_way_\"", "host=\"evil_host_\"") ==
              1);
  const char *text = scrape(f);
  /* The 3000-byte host became a 128-byte label. */
  char want[160] = "host=\"";
  memset(want + 6, 'x', 128);
  strcpy(want + 134, "\"");
  assert_non_null(strstr(text, want));
  assert_null(strstr(text, "\xff"));
}

static void test_allow_list_groups_other_hosts(void **state) {
  fixture_t *f = *state;
  CURL *e = curl_easy_init();
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
  assert_int_equal(get(f, e, "/ok", true), CURLE_OK);
  curl_easy_cleanup(e);
  pmx_bus_t *bus = pmx_bus(f->p);
  const pmx_measurement_t m[] = {PMX_M("duration", 1e6), PMX_M("request_size", 10),
                                 PMX_M("response_size", 20), PMX_M("redirects", 0)};
  const pmx_meta_t md[] = {PMX_META_S("method", "GET"), PMX_META_S("scheme", "https"),
                           PMX_META_S("host", "API.example.com"), PMX_META_I("port", 443),
                           PMX_META_I("status", 201), PMX_META_S("connection", "reused")};
  pmx_emit_name(bus, PMX_HTTP_CLIENT_EVENT_STOP, m, 4, md, 6);
  const char *d = P "request_duration_seconds_count";
  assert_true(val(f, d, "host=\"other\"", "port=\"other\"") == 1);  /* 127.0.0.1 */
  assert_true(val(f, d, "host=\"api.example.com\"", "port=\"443\"") == 1);
  assert_int_equal(pt_count(scrape(f), d), 2);
}

static void test_bad_options(void **state) {
  (void)state;
  const pmx_kv_t cases[][1] = {{{"hosts", "a*b"}}, {{"hosts", ""}}, {{"max_hosts", "0"}},
                               {{"max_hosts", "12x"}}, {{"bogus", "1"}}};
  const char *mention[] = {"hosts", "hosts", "max_hosts", "max_hosts", "bogus"};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    pmx_t *p = NULL;
    pmx_error_t err;
    memset(&err, 0, sizeof err);
    assert_int_equal(start_instance(&p, cases[i], 1, &err), PMX_ECONFIG);
    assert_null(p);
    if (strstr(err.text, mention[i]) == NULL) fail_msg("error \"%s\" does not name %s", err.text,
                                                      mention[i]);
  }
}

static void test_null_arguments(void **state) {
  (void)state;
  pmx_curl_t *pc = (pmx_curl_t *)1;
  assert_int_equal(pmx_curl_new(NULL, &pc), PMX_EINVAL);
  assert_null(pc);
  assert_int_equal(pmx_curl_observe(NULL, NULL, CURLE_OK), PMX_EINVAL);
  pmx_curl_free(NULL);
  assert_string_equal(pmx_curl_code_name(CURLE_OPERATION_TIMEDOUT), "OPERATION_TIMEDOUT");
  assert_string_equal(pmx_curl_code_name((CURLcode)9999), "UNKNOWN");
  assert_ptr_equal(pmx_first_party_plugin("http_client"), &pmx_plugin_http_client);
}

int main(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_easy_transfers_counted_exactly, setup, teardown),
      cmocka_unit_test_setup_teardown(test_multi_interface, setup, teardown),
      cmocka_unit_test_setup_teardown(test_hostile_metadata_bounded, setup, teardown),
      cmocka_unit_test_setup_teardown(test_allow_list_groups_other_hosts, setup_allow_list,
                                      teardown),
      cmocka_unit_test(test_bad_options),
      cmocka_unit_test(test_null_arguments),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  curl_global_cleanup();
  return rc;
}
