/* The http_server plugin under a real runtime: contract events in, exposition out. Checks the
 * exact counts, sums and buckets of every metric for a known set of events, each option's effect
 * (routes, additional_routes, ignore_routes, unmatched_route, resolver, status_class, buckets,
 * event_prefix, metric_prefix), bounded cardinality under hostile paths, and that every bad option
 * fails pmx_start() with PMX_ECONFIG and a message naming it. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"
#include "unit/plugins/plugin_test_util.h"
#include "promex/plugins/http_server.h"
#include "promex/promex.h"

#define M "t_prom_ex_http_server_"

typedef struct fx {
  pmx_t *p;
  pmx_buf_t buf;
  pmx_span_events_t span;
} fx_t;

static void quiet(void *ctx, pmx_log_level_t level, const char *msg) {
  (void)ctx;
  (void)level;
  (void)msg;
}

static int start(fx_t *f, const pmx_kv_t *opts, size_t n, void *data, pmx_error_t *err) {
  memset(f, 0, sizeof *f);
  pmx_plugin_use_t use = {&pmx_plugin_http_server, opts, n, data};
  pmx_config_t cfg;
  pmx_config_defaults(&cfg);
  cfg.app = "t";
  cfg.plugins = &use;
  cfg.n_plugins = 1;
  cfg.log = quiet;
  int rc = pmx_new(&cfg, &f->p, err);
  if (rc != PMX_OK) return rc;
  rc = pmx_start(f->p, err);
  if (rc != PMX_OK) {
    pmx_destroy(f->p);
    f->p = NULL;
  }
  return rc;
}

static void start_ok(fx_t *f, const pmx_kv_t *opts, size_t n, void *data, const char *prefix) {
  pmx_error_t err = {0};
  int rc = start(f, opts, n, data, &err);
  if (rc != PMX_OK) fail_msg("start: %s: %s", pmx_err_name(rc), err.text);
  assert_int_equal(pmx_span_events(pmx_bus(f->p), prefix ? prefix : "http.server.request", &f->span),
                   PMX_OK);
}

static void stop(fx_t *f) {
  pmx_buf_free(&f->buf);
  pmx_destroy(f->p);
}

static const char *render(fx_t *f) {
  f->buf.len = 0;
  assert_int_equal(pmx_get_metrics(f->p, PMX_FORMAT_TEXT, &f->buf), PMX_OK);
  assert_int_equal(pmx__buf_append(&f->buf, "", 1), PMX_OK);
  return f->buf.data;
}

/* One request through the span API, as an application without an adapter would emit it. */
static void request(fx_t *f, const char *method, const char *path, const char *route, int status,
                    double req_size, double resp_size) {
  pmx_meta_t md[5];
  size_t n = 0;
  md[n++] = PMX_META_S("method", method);
  if (path) md[n++] = PMX_META_S("path", path);
  if (route) md[n++] = PMX_META_S("route", route);
  md[n++] = PMX_META_S("host", "api");
  pmx_span_t s;
  assert_int_equal(pmx_span_start(&s, &f->span, md, n), PMX_OK);
  pmx_measurement_t extra[2];
  size_t ne = 0;
  if (req_size >= 0) extra[ne++] = PMX_M("request_size", req_size);
  if (resp_size >= 0) extra[ne++] = PMX_M("response_size", resp_size);
  md[n++] = PMX_META_I("status", status);
  assert_int_equal(pmx_span_stop(&s, extra, ne, md, n), PMX_OK);
}

static double val(const char *t, const char *name, const char *l1, const char *l2, const char *l3) {
  const char *labels[3] = {NULL, NULL, NULL};
  size_t n = 0;
  if (l1) labels[n++] = l1;
  if (l2) labels[n++] = l2;
  if (l3) labels[n++] = l3;
  return pt_value(t, name, labels, n);
}

static void test_counts_and_sums(void **state) {
  (void)state;
  fx_t f;
  static const pmx_kv_t o[] = {{"routes", "/users/:id,/users"}};
  start_ok(&f, o, 1, NULL, NULL);
  request(&f, "GET", "/users/1", NULL, 200, -1, 100);
  request(&f, "GET", "/users/2?x=1", NULL, 200, -1, 300);
  request(&f, "POST", "/users", NULL, 201, 5000, 10);
  request(&f, "GET", "/users/3", NULL, 404, -1, -1);
  request(&f, "GET", "/nope", NULL, 404, -1, 9);
  const char *t = render(&f);
  assert_true(val(t, M "requests_total", "route=\"/users/:id\"", "status=\"200\"", "method=\"GET\"") == 2);
  assert_true(val(t, M "requests_total", "route=\"/users/:id\"", "status=\"404\"", "host=\"api\"") == 1);
  assert_true(val(t, M "requests_total", "route=\"/users\"", "method=\"POST\"", "status=\"201\"") == 1);
  assert_true(val(t, M "requests_total", "route=\"unmatched\"", "status=\"404\"", NULL) == 1);
  assert_true(val(t, M "request_duration_seconds_count", "route=\"/users/:id\"", "status=\"200\"", NULL) == 2);
  assert_true(val(t, M "request_duration_seconds_bucket", "route=\"/users/:id\"", "status=\"200\"", "le=\"+Inf\"") == 2);
  /* sizes: only the stops that carried them */
  assert_true(val(t, M "response_size_bytes_sum", "route=\"/users/:id\"", "status=\"200\"", NULL) == 400);
  assert_true(val(t, M "response_size_bytes_count", "route=\"/users/:id\"", "status=\"200\"", NULL) == 2);
  assert_true(val(t, M "response_size_bytes_bucket", "status=\"200\"", "le=\"100\"", NULL) == 1);
  assert_true(val(t, M "response_size_bytes_bucket", "status=\"200\"", "le=\"1000\"", NULL) == 2);
  assert_true(isnan(val(t, M "response_size_bytes_count", "route=\"/users/:id\"", "status=\"404\"", NULL)));
  assert_true(val(t, M "request_size_bytes_sum", "route=\"/users\"", NULL, NULL) == 5000);
  assert_int_equal(pt_count(t, M "request_size_bytes_count"), 1);
  /* no raw path ever becomes a label value */
  assert_null(strstr(t, "/nope"));
  assert_null(strstr(t, "/users/1"));
  /* in flight: back to 0 after every request finished; the config gauge says what is set */
  assert_true(val(t, M "requests_in_flight", NULL, NULL, NULL) == 0);
  assert_true(val(t, M "route_templates", "kind=\"route\"", NULL, NULL) == 2);
  assert_true(val(t, M "route_templates", "kind=\"ignore\"", NULL, NULL) == 0);
  /* the events skipped for missing sizes are not counted as problems */
  assert_null(strstr(t, "reason=\"missing_measurement\"} 1"));
  stop(&f);
}

static void test_in_flight_and_exceptions(void **state) {
  (void)state;
  fx_t f;
  start_ok(&f, NULL, 0, NULL, NULL);
  pmx_meta_t md[] = {PMX_META_S("method", "PUT"), PMX_META_S("route", "/r")};
  pmx_span_t a, b, c;
  pmx_span_start(&a, &f.span, md, 2);
  pmx_span_start(&b, &f.span, md, 2);
  pmx_span_start(&c, &f.span, md, 2);
  assert_true(val(render(&f), M "requests_in_flight", NULL, NULL, NULL) == 3);
  pmx_span_exception(&a, "client_abort", "reset by peer", md, 2);
  pmx_span_exception(&b, NULL, NULL, md, 2);
  const char *t = render(&f);
  assert_true(val(t, M "requests_in_flight", NULL, NULL, NULL) == 1);
  assert_true(val(t, M "exceptions_total", "kind=\"client_abort\"", "route=\"/r\"", "method=\"PUT\"") == 1);
  assert_true(val(t, M "exceptions_total", "kind=\"error\"", "host=\"default\"", NULL) == 1);
  assert_null(strstr(t, "reset by peer")); /* the reason is not a label */
  pmx_meta_t sd[] = {PMX_META_S("method", "PUT"), PMX_META_S("route", "/r"), PMX_META_I("status", 204)};
  pmx_span_stop(&c, NULL, 0, sd, 3);
  t = render(&f);
  assert_true(val(t, M "requests_in_flight", NULL, NULL, NULL) == 0);
  assert_true(val(t, M "requests_total", "status=\"204\"", "route=\"/r\"", NULL) == 1);
  stop(&f);
}

/* A flood of distinct hostile paths and methods leaves one route value and one method value. */
static void test_hostile_cardinality(void **state) {
  (void)state;
  fx_t f;
  static const pmx_kv_t o[] = {{"routes", "/users/:id"}, {"unmatched_route", "other"}};
  start_ok(&f, o, 2, NULL, NULL);
  char path[300];
  for (int i = 0; i < 2000; i++) {
    snprintf(path, sizeof path, "/%d/../%%2e%%2e/\xff\xfe/%0*d", i, (i % 200) + 1, i);
    char method[16];
    snprintf(method, sizeof method, "M%d", i);
    request(&f, method, path, NULL, 404, -1, -1);
  }
  const char *t = render(&f);
  assert_int_equal(pt_count(t, M "requests_total"), 1);
  assert_true(val(t, M "requests_total", "route=\"other\"", "method=\"OTHER\"", NULL) == 2000);
  stop(&f);
}

static void test_additional_and_ignore(void **state) {
  (void)state;
  fx_t f;
  static const pmx_kv_t o[] = {{"routes", "/users/:id"},
                               {"additional_routes", "health=/healthz,assets=/assets/*"},
                               {"ignore_routes", "/metrics,/users/:id/secret, /private/*"}};
  start_ok(&f, o, 3, NULL, NULL);
  request(&f, "GET", "/healthz", NULL, 200, -1, -1);
  request(&f, "GET", "/assets/a/b.css", NULL, 200, -1, -1);
  request(&f, "GET", "/metrics", NULL, 200, -1, -1);
  request(&f, "GET", "/private/x", NULL, 200, -1, -1);
  request(&f, "GET", "/users/7/secret", NULL, 200, -1, -1);
  request(&f, "GET", NULL, "/users/:id/secret", 200, -1, -1); /* ignored by its route label */
  request(&f, "GET", "/users/7", NULL, 200, -1, -1);
  const char *t = render(&f);
  assert_true(val(t, M "requests_total", "route=\"health\"", NULL, NULL) == 1);
  assert_true(val(t, M "requests_total", "route=\"assets\"", NULL, NULL) == 1);
  assert_true(val(t, M "requests_total", "route=\"/users/:id\"", NULL, NULL) == 1);
  assert_int_equal(pt_count(t, M "requests_total"), 3);
  assert_true(val(t, M "route_templates", "kind=\"additional\"", NULL, NULL) == 2);
  assert_true(val(t, M "route_templates", "kind=\"ignore\"", NULL, NULL) == 3);
  stop(&f);
}

static bool my_router(const char *method, const char *path, char *route, size_t cap, void *ctx) {
  int *calls = ctx;
  (*calls)++;
  if (method == NULL || strncmp(path, "/api/v1/orders/", 15) != 0) return false;
  snprintf(route, cap, "%s", "/api/v1/orders/{id}");
  return true;
}

static void test_resolver_and_route_metadata(void **state) {
  (void)state;
  fx_t f;
  static int calls;
  pmx_http_server_data_t data = {my_router, &calls};
  static const pmx_kv_t o[] = {{"routes", "/api/*"}};
  start_ok(&f, o, 1, &data, NULL);
  request(&f, "GET", "/api/v1/orders/99", NULL, 200, -1, -1);
  request(&f, "GET", "/api/v2/x", NULL, 200, -1, -1);                   /* falls to routes */
  request(&f, "GET", "/api/v1/orders/1", "/explicit/:route", 200, -1, -1); /* route meta wins */
  const char *t = render(&f);
  assert_true(val(t, M "requests_total", "route=\"/api/v1/orders/{id}\"", NULL, NULL) == 1);
  assert_true(val(t, M "requests_total", "route=\"/api/*\"", NULL, NULL) == 1);
  assert_true(val(t, M "requests_total", "route=\"/explicit/:route\"", NULL, NULL) == 1);
  /* Once per request whose route it is asked for: the four metrics of the stop event share their
   * labels (emit_keys.h); the third request's route came with the event. */
  assert_int_equal(calls, 2);
  stop(&f);
}

static void test_status_class_buckets_prefixes(void **state) {
  (void)state;
  fx_t f;
  static const pmx_kv_t o[] = {{"status_class", "true"},
                               {"duration_buckets", "0.5,60"},
                               {"size_buckets", "10,20"},
                               {"event_prefix", "my.web"},
                               {"metric_prefix", "web"}};
  start_ok(&f, o, 5, NULL, "my.web.request");
  request(&f, "GET", "/", NULL, 200, -1, 15);
  request(&f, "GET", "/", NULL, 204, -1, 15);
  request(&f, "GET", "/", NULL, 503, -1, 25);
  const char *t = render(&f);
  assert_true(val(t, "web_requests_total", "status=\"2xx\"", NULL, NULL) == 2);
  assert_true(val(t, "web_requests_total", "status=\"5xx\"", NULL, NULL) == 1);
  assert_null(strstr(t, "status=\"200\""));
  assert_true(val(t, "web_request_duration_seconds_bucket", "status=\"2xx\"", "le=\"0.5\"", NULL) == 2);
  assert_true(val(t, "web_request_duration_seconds_bucket", "status=\"2xx\"", "le=\"60\"", NULL) == 2);
  assert_true(isnan(val(t, "web_request_duration_seconds_bucket", "le=\"0.25\"", NULL, NULL)));
  assert_true(val(t, "web_response_size_bytes_bucket", "status=\"2xx\"", "le=\"20\"", NULL) == 2);
  assert_true(val(t, "web_response_size_bytes_bucket", "status=\"5xx\"", "le=\"20\"", NULL) == 0);
  assert_null(strstr(t, "t_prom_ex_http_server_requests_total"));
  stop(&f);
}

static void test_endpoint_and_socket_events(void **state) {
  (void)state;
  fx_t f;
  start_ok(&f, NULL, 0, NULL, NULL);
  pmx_bus_t *bus = pmx_bus(f.p);
  pmx_meta_t ep[] = {PMX_META_S("endpoint", "api"), PMX_META_S("url", "http://127.0.0.1:8080"),
                     PMX_META_I("port", 8080)};
  assert_true(pmx_emit_name(bus, "http.server.endpoint", NULL, 0, ep, 3) > 0);
  pmx_meta_t conn[] = {PMX_META_S("endpoint", "api"), PMX_META_S("transport", "websocket"),
                       PMX_META_S("result", "ok")};
  pmx_measurement_t d = PMX_M("duration", 2e6);
  assert_true(pmx_emit_name(bus, "http.server.socket.connected", &d, 1, conn, 3) > 0);
  assert_true(pmx_emit_name(bus, "http.server.channel.joined", NULL, 0, conn, 3) > 0);
  pmx_meta_t msg[] = {PMX_META_S("endpoint", "api"), PMX_META_S("handler", "chat"),
                      PMX_META_S("event", "say")};
  assert_true(pmx_emit_name(bus, "http.server.channel.handled_in", &d, 1, msg, 3) > 0);
  const char *t = render(&f);
  assert_true(val(t, M "endpoint_url_info", "endpoint=\"api\"", "url=\"http://127.0.0.1:8080\"", NULL) == 1);
  assert_true(val(t, M "endpoint_port_info", "endpoint=\"api\"", "port=\"8080\"", NULL) == 1);
  assert_true(val(t, M "socket_connected_duration_seconds_sum", "result=\"ok\"", NULL, NULL) == 0.002);
  assert_true(val(t, M "channel_joined_total", "transport=\"websocket\"", NULL, NULL) == 1);
  assert_true(val(t, M "channel_handled_in_duration_seconds_bucket", "handler=\"chat\"", "le=\"0.01\"", NULL) == 1);
  stop(&f);
}

static void expect_bad_option(const char *key, const char *value, const char *needle) {
  fx_t f;
  pmx_kv_t o[] = {{key, value}};
  pmx_error_t err = {0};
  int rc = start(&f, o, 1, NULL, &err);
  if (rc != PMX_ECONFIG) fail_msg("%s=%s: %s, want PMX_ECONFIG", key, value, pmx_err_name(rc));
  if (strstr(err.text, key) == NULL || strstr(err.text, needle) == NULL)
    fail_msg("%s=%s: message \"%s\" should name the option and say \"%s\"", key, value, err.text,
             needle);
  assert_null(f.p);
}

static void test_bad_options(void **state) {
  (void)state;
  expect_bad_option("routes", "users/:id", "must start with '/'");
  expect_bad_option("additional_routes", "/healthz", "label=pattern");
  expect_bad_option("ignore_routes", "/a/*/b", "last segment");
  expect_bad_option("unmatched_route", "", "1 to 128");
  expect_bad_option("duration_buckets", "1,0.5", "increasing");
  expect_bad_option("size_buckets", "x", "increasing");
  expect_bad_option("status_class", "sometimes", "true or false");
  expect_bad_option("event_prefix", "bad prefix!", "event_prefix");
  expect_bad_option("event_prefix", "", "event_prefix");
  expect_bad_option("routs", "/a", "routs"); /* a typo: unknown option */
}

/* Start, stop and start again on one instance: the in-flight forwarder is detached with the state
 * and re-attached, and nothing leaks (ASan). */
static void test_restart(void **state) {
  (void)state;
  fx_t f;
  start_ok(&f, NULL, 0, NULL, NULL);
  request(&f, "GET", "/", NULL, 200, -1, -1);
  pmx_stop(f.p);
  pmx_error_t err = {0};
  assert_int_equal(pmx_start(f.p, &err), PMX_OK);
  request(&f, "GET", "/", NULL, 200, -1, -1);
  const char *t = render(&f);
  assert_true(val(t, M "requests_total", NULL, NULL, NULL) == 1);
  assert_true(val(t, M "requests_in_flight", NULL, NULL, NULL) == 0);
  stop(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_counts_and_sums),
      cmocka_unit_test(test_in_flight_and_exceptions),
      cmocka_unit_test(test_hostile_cardinality),
      cmocka_unit_test(test_additional_and_ignore),
      cmocka_unit_test(test_resolver_and_route_metadata),
      cmocka_unit_test(test_status_class_buckets_prefixes),
      cmocka_unit_test(test_endpoint_and_socket_events),
      cmocka_unit_test(test_bad_options),
      cmocka_unit_test(test_restart),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
