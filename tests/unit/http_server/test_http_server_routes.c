/* The http_server plugin's route patterns and option values: matching rules (exact, parameter,
 * prefix, trailing slash, query string), hostile paths, and every malformed option value
 * rejected with a message naming the option. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http_server/http_server_internal.h"
#include "promex/error.h"

static char g_err[512];

static pmx__route_list_t parse_ok(const char *spec, bool labels) {
  pmx__route_list_t l;
  g_err[0] = '\0';
  int rc = pmx__routes_parse(spec, labels, "routes", &l, g_err, sizeof g_err);
  if (rc != PMX_OK) fail_msg("parse \"%s\": %s", spec ? spec : "(null)", g_err);
  return l;
}

static const char *find(const pmx__route_list_t *l, const char *path) {
  const pmx__route_t *r = pmx__routes_find(l, path);
  return r ? r->label : NULL;
}

static void test_exact_param_prefix(void **state) {
  (void)state;
  pmx__route_list_t l = parse_ok(" /users/:id , /users,/static/*,/,/a/:x/b/:y ", false);
  assert_int_equal(l.n, 5);
  assert_string_equal(find(&l, "/users/42"), "/users/:id");
  assert_string_equal(find(&l, "/users/42/"), "/users/:id");
  assert_string_equal(find(&l, "/users/42?x=1/2"), "/users/:id");
  assert_string_equal(find(&l, "/users"), "/users");
  assert_string_equal(find(&l, "/users/"), "/users");
  assert_string_equal(find(&l, "/static"), "/static/*");
  assert_string_equal(find(&l, "/static/css/site.css"), "/static/*");
  assert_string_equal(find(&l, "/"), "/");
  assert_string_equal(find(&l, "/?q"), "/");
  assert_string_equal(find(&l, "/a/1/b/2"), "/a/:x/b/:y");
  assert_null(find(&l, "/users/42/posts"));  /* exact: no extra segments */
  assert_null(find(&l, "/users//"));         /* an empty segment is not a parameter */
  assert_null(find(&l, "/Users/1"));         /* case-sensitive */
  assert_null(find(&l, "/a/1/b"));
  assert_null(find(&l, "/usersX"));
  assert_null(find(&l, "users/1"));          /* not absolute */
  assert_null(find(&l, ""));
  assert_null(find(&l, NULL));
  pmx__routes_free(&l);
}

static void test_first_match_wins(void **state) {
  (void)state;
  pmx__route_list_t l = parse_ok("/users/me,/users/:id", false);
  assert_string_equal(find(&l, "/users/me"), "/users/me");
  assert_string_equal(find(&l, "/users/you"), "/users/:id");
  pmx__routes_free(&l);
}

static void test_additional_labels(void **state) {
  (void)state;
  pmx__route_list_t l = parse_ok("health=/healthz, assets = /assets/*", true);
  assert_int_equal(l.n, 2);
  assert_string_equal(find(&l, "/healthz"), "health");
  assert_string_equal(find(&l, "/assets/app.js"), "assets");
  assert_string_equal(l.items[1].text, "/assets/*");
  assert_null(find(&l, "/other"));
  pmx__routes_free(&l);
}

static void test_empty_spec(void **state) {
  (void)state;
  pmx__route_list_t l = parse_ok("  ", false);
  assert_int_equal(l.n, 0);
  assert_null(find(&l, "/x"));
  pmx__routes_free(&l);
  l = parse_ok(NULL, false);
  assert_int_equal(l.n, 0);
}

/* Hostile paths: long, percent-encoded, dot segments, control bytes, invalid UTF-8. They match
 * nothing and the lookup neither crashes nor reads past the string (ASan run). */
static void test_hostile_paths(void **state) {
  (void)state;
  pmx__route_list_t l = parse_ok("/users/:id,/static/*", false);
  size_t n = 100000;
  char *big = malloc(n + 1);
  memset(big, 'a', n);
  big[0] = '/';
  big[n] = '\0';
  assert_null(find(&l, big));
  for (size_t i = 0; i < n; i += 2) big[i] = '/';
  assert_null(find(&l, big));
  free(big);
  const char *bad[] = {"/users/1/../../etc/passwd", "/%2e%2e/%2e%2e",
                       "/\xff\xfe", "//users/1", "?/users/1"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) assert_null(find(&l, bad[i]));
  /* Control bytes in a parameter still give the template, never the bytes themselves. */
  assert_string_equal(find(&l, "/users/\x01\x02"), "/users/:id");
  pmx__routes_free(&l);
}

static void expect_bad(const char *spec, bool labels, const char *option, const char *needle) {
  pmx__route_list_t l;
  g_err[0] = '\0';
  assert_int_equal(pmx__routes_parse(spec, labels, option, &l, g_err, sizeof g_err), PMX_ECONFIG);
  assert_non_null(strstr(g_err, option));
  if (strstr(g_err, needle) == NULL) fail_msg("\"%s\": message \"%s\" lacks \"%s\"", spec, g_err, needle);
  assert_int_equal(l.n, 0);
  assert_null(l.items);
}

static void test_bad_patterns(void **state) {
  (void)state;
  expect_bad("users/:id", false, "routes", "must start with '/'");
  expect_bad("/a,,/b", false, "routes", "empty entry");
  expect_bad("/a//b", false, "routes", "empty segment");
  expect_bad("/a/:", false, "routes", "needs a name");
  expect_bad("/a/*/b", false, "ignore_routes", "last segment");
  expect_bad("/a\"b", false, "routes", "not allowed");
  expect_bad("/healthz", true, "additional_routes", "label=pattern");
  expect_bad("=/healthz", true, "additional_routes", "label");
  expect_bad("he\"y=/healthz", true, "additional_routes", "not allowed");
  char many[2000] = "";
  for (int i = 0; i < 300; i++) strcat(many, "/a,");
  strcat(many, "/b");
  expect_bad(many, false, "routes", "more than 256");
  char longp[400];
  memset(longp, 'a', sizeof longp - 1);
  longp[0] = '/';
  longp[sizeof longp - 1] = '\0';
  expect_bad(longp, false, "routes", "longer than");
}

static void test_buckets(void **state) {
  (void)state;
  double *b = NULL;
  size_t n = 0;
  assert_int_equal(pmx__buckets_parse(" 0.1, 0.5,1 ,10", "duration_buckets", &b, &n, g_err,
                                      sizeof g_err), PMX_OK);
  assert_int_equal(n, 4);
  assert_true(b[0] == 0.1 && b[1] == 0.5 && b[2] == 1 && b[3] == 10);
  free(b);
  const char *bad[] = {"", "1,1", "2,1", "0,1", "-1", "1,,2", "1,", "abc", "1e999", "nan",
                       "inf", "1 2", "0.1;0.2"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    g_err[0] = '\0';
    if (pmx__buckets_parse(bad[i], "size_buckets", &b, &n, g_err, sizeof g_err) != PMX_ECONFIG)
      fail_msg("buckets \"%s\" accepted", bad[i]);
    assert_null(b);
    assert_non_null(strstr(g_err, "size_buckets"));
  }
  char many[1200] = "1";
  for (int i = 2; i <= 130; i++) snprintf(many + strlen(many), sizeof many - strlen(many), ",%d", i);
  assert_int_equal(pmx__buckets_parse(many, "size_buckets", &b, &n, g_err, sizeof g_err),
                   PMX_ECONFIG);
  assert_non_null(strstr(g_err, "more than 128"));
}

static void test_bool_method_status(void **state) {
  (void)state;
  bool v = false;
  assert_int_equal(pmx__bool_parse("true", "status_class", &v, g_err, sizeof g_err), PMX_OK);
  assert_true(v);
  assert_int_equal(pmx__bool_parse("off", "status_class", &v, g_err, sizeof g_err), PMX_OK);
  assert_false(v);
  assert_int_equal(pmx__bool_parse("maybe", "status_class", &v, g_err, sizeof g_err), PMX_ECONFIG);
  assert_non_null(strstr(g_err, "status_class"));

  assert_string_equal(pmx__http_method_label("GET"), "GET");
  assert_string_equal(pmx__http_method_label("PATCH"), "PATCH");
  assert_string_equal(pmx__http_method_label("get"), "OTHER");
  assert_string_equal(pmx__http_method_label("BREW"), "OTHER");
  assert_string_equal(pmx__http_method_label(NULL), "OTHER");

  char buf[8];
  assert_string_equal(pmx__http_status_label(404, false, buf), "404");
  assert_string_equal(pmx__http_status_label(404, true, buf), "4xx");
  assert_string_equal(pmx__http_status_label(200, true, buf), "2xx");
  assert_string_equal(pmx__http_status_label(599, true, buf), "5xx");
  assert_string_equal(pmx__http_status_label(99, false, buf), "invalid");
  assert_string_equal(pmx__http_status_label(600, true, buf), "invalid");
  assert_string_equal(pmx__http_status_label(-1, false, buf), "invalid");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_exact_param_prefix), cmocka_unit_test(test_first_match_wins),
      cmocka_unit_test(test_additional_labels),  cmocka_unit_test(test_empty_spec),
      cmocka_unit_test(test_hostile_paths),      cmocka_unit_test(test_bad_patterns),
      cmocka_unit_test(test_buckets),            cmocka_unit_test(test_bool_method_status),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
