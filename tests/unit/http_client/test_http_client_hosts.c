/* Host grouping of the http_client plugin (plugins/http_client/hosts.c): patterns, the "*"
 * learning limit, sanitising of hostile host names, and refused patterns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>

#include <cmocka.h>

#include "http_client/hosts.h"

static void test_exact_and_suffix_patterns(void **state) {
  (void)state;
  const char *why = NULL;
  pmx__hc_hosts_t *h = pmx__hc_hosts_new("api.example.com, *.cdn.net", 10, &why);
  assert_non_null(h);
  assert_string_equal(pmx__hc_hosts_group(h, "api.example.com"), "api.example.com");
  assert_string_equal(pmx__hc_hosts_group(h, "API.Example.COM"), "api.example.com");
  assert_string_equal(pmx__hc_hosts_group(h, "a.cdn.net"), "*.cdn.net");
  assert_string_equal(pmx__hc_hosts_group(h, "x.y.cdn.net"), "*.cdn.net");
  /* The suffix must be a whole label: "evilcdn.net" is not under "cdn.net". */
  assert_string_equal(pmx__hc_hosts_group(h, "evilcdn.net"), "other");
  assert_string_equal(pmx__hc_hosts_group(h, "cdn.net"), "other");
  assert_string_equal(pmx__hc_hosts_group(h, "www.example.com"), "other");
  assert_string_equal(pmx__hc_hosts_group(h, NULL), "other");
  pmx__hc_hosts_free(h);
}

static void test_star_learns_up_to_max(void **state) {
  (void)state;
  pmx__hc_hosts_t *h = pmx__hc_hosts_new(NULL, 3, NULL);
  assert_non_null(h);
  assert_string_equal(pmx__hc_hosts_group(h, "a"), "a");
  assert_string_equal(pmx__hc_hosts_group(h, "b"), "b");
  assert_string_equal(pmx__hc_hosts_group(h, "a"), "a");
  assert_string_equal(pmx__hc_hosts_group(h, "c"), "c");
  assert_string_equal(pmx__hc_hosts_group(h, "d"), "other"); /* the fourth distinct name */
  assert_string_equal(pmx__hc_hosts_group(h, "b"), "b");     /* known names keep their label */
  /* 10000 random hosts add nothing once the table is full. */
  char name[32];
  for (int i = 0; i < 10000; i++) {
    snprintf(name, sizeof name, "h%d.example", i);
    assert_string_equal(pmx__hc_hosts_group(h, name), "other");
  }
  pmx__hc_hosts_free(h);
}

static void test_patterns_before_star(void **state) {
  (void)state;
  pmx__hc_hosts_t *h = pmx__hc_hosts_new("*.internal, *", 1, NULL);
  assert_non_null(h);
  assert_string_equal(pmx__hc_hosts_group(h, "db.internal"), "*.internal");
  assert_string_equal(pmx__hc_hosts_group(h, "one.com"), "one.com");
  assert_string_equal(pmx__hc_hosts_group(h, "two.com"), "other");
  assert_string_equal(pmx__hc_hosts_group(h, "q.internal"), "*.internal");
  pmx__hc_hosts_free(h);
}

static bool valid_label(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > PMX_HC_HOST_MAX) return false;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
      return false;
  return true;
}

static void test_hostile_hosts_are_sanitised(void **state) {
  (void)state;
  pmx__hc_hosts_t *h = pmx__hc_hosts_new("*", 100, NULL);
  assert_non_null(h);
  const char *hostile[] = {"bad\xff\xfehost", "quote\"\\host", "new\nline", "\xc3\x28",
                           "UPPER.Case", "[::1]", "", " "};
  for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
    const char *g = pmx__hc_hosts_group(h, hostile[i]);
    assert_true(valid_label(g));
  }
  assert_string_equal(pmx__hc_hosts_group(h, "UPPER.Case"), "upper.case");
  assert_string_equal(pmx__hc_hosts_group(h, "[::1]"), "[::1]");
  assert_string_equal(pmx__hc_hosts_group(h, "bad\xff\xfehost"), "bad__host");
  assert_string_equal(pmx__hc_hosts_group(h, ""), "unknown");
  char longhost[5000];
  memset(longhost, 'a', sizeof longhost - 1);
  longhost[sizeof longhost - 1] = '\0';
  const char *g = pmx__hc_hosts_group(h, longhost);
  assert_int_equal(strlen(g), PMX_HC_HOST_MAX);
  assert_true(valid_label(g));
  char buf[8];
  assert_string_equal(pmx__hc_sanitize_host("abcdefghijk", buf, sizeof buf), "abcdefg");
  pmx__hc_hosts_free(h);
}

static void test_bad_patterns_are_refused(void **state) {
  (void)state;
  const char *bad[] = {"", "a,,b", "a*b", "*.", "**.x", "*x.com", "ho st", "*.a*", ",",
                       "h\xff"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    const char *why = NULL;
    pmx__hc_hosts_t *h = pmx__hc_hosts_new(bad[i], 10, &why);
    if (h != NULL) fail_msg("pattern list \"%s\" was accepted", bad[i]);
    assert_non_null(why);
  }
  const char *why = NULL;
  assert_null(pmx__hc_hosts_new("*", 0, &why));
  assert_non_null(why);
  assert_null(pmx__hc_hosts_new("*", PMX_HC_MAX_HOSTS_LIMIT + 1, &why));
  char longp[300];
  memset(longp, 'a', sizeof longp - 1);
  longp[sizeof longp - 1] = '\0';
  assert_null(pmx__hc_hosts_new(longp, 10, &why));
}

/* Four threads learning overlapping host names at once: every answer is the name itself or
 * "other", a name once learned is always answered the same, and no more than max_hosts names are
 * learned (TSan runs this too). */
typedef struct worker_arg {
  pmx__hc_hosts_t *h;
  int seed;
  int learned;
} worker_arg_t;

static void *worker(void *p) {
  worker_arg_t *a = p;
  char name[32];
  for (int i = 0; i < 20000; i++) {
    snprintf(name, sizeof name, "h%d.test", (i * 7 + a->seed) % 200);
    const char *g = pmx__hc_hosts_group(a->h, name);
    if (strcmp(g, name) == 0) a->learned++;
    else if (strcmp(g, "other") != 0) return (void *)1;
  }
  return NULL;
}

static void test_concurrent_learning(void **state) {
  (void)state;
  pmx__hc_hosts_t *h = pmx__hc_hosts_new("*", 50, NULL);
  assert_non_null(h);
  pthread_t t[4];
  worker_arg_t args[4];
  for (int i = 0; i < 4; i++) {
    args[i] = (worker_arg_t){h, i * 13, 0};
    assert_int_equal(pthread_create(&t[i], NULL, worker, &args[i]), 0);
  }
  for (int i = 0; i < 4; i++) {
    void *rc = NULL;
    pthread_join(t[i], &rc);
    assert_null(rc);
    assert_true(args[i].learned > 0);
  }
  /* Exactly 50 of the 200 names are known now, the same ones for everybody. */
  int known = 0;
  char name[32];
  for (int i = 0; i < 200; i++) {
    snprintf(name, sizeof name, "h%d.test", i);
    known += strcmp(pmx__hc_hosts_group(h, name), "other") != 0;
  }
  assert_int_equal(known, 50);
  pmx__hc_hosts_free(h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_exact_and_suffix_patterns),
      cmocka_unit_test(test_star_learns_up_to_max),
      cmocka_unit_test(test_patterns_before_star),
      cmocka_unit_test(test_hostile_hosts_are_sanitised),
      cmocka_unit_test(test_bad_patterns_are_refused),
      cmocka_unit_test(test_concurrent_learning),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
