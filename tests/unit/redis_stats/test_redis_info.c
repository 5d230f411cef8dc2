/* Unit tests of redis_stats' parsers (plugins/redis_stats/redis_info.c) over captured and
 * hand-made INFO replies (fixtures/README.md), and of the helpers the server statistics plugins
 * share (plugins/server_stats/stats_common.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "redis_info.h"
#include "stats_common.h"

#ifndef FIXTURES
#error FIXTURES must name the fixtures directory
#endif

/* Reads a fixture into a buffer with one spare byte (the parser writes text[len]). */
static char *load(const char *name, size_t *len) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", FIXTURES, name);
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  *len = (size_t)n;
  return buf;
}

static const pmx__redis_field_t *field(const pmx__redis_info_t *info, const char *key) {
  for (size_t i = 0; i < info->n; i++)
    if (strcmp(info->f[i].key, key) == 0) return &info->f[i];
  return NULL;
}

static double num(const pmx__redis_info_t *info, const char *key) {
  double v = -1;
  assert_true(pmx__redis_number(pmx__redis_info_get(info, key), &v));
  return v;
}

static void test_info_7_0_capture(void **state) {
  (void)state;
  size_t len;
  char *text = load("info_all_7.0.txt", &len);
  pmx__redis_info_t info = {0};
  assert_int_equal(pmx__redis_info_parse(text, len, &info), 0);
  assert_true(info.n > 150);
  assert_int_equal(info.skipped, 0);
  assert_string_equal(pmx__redis_info_get(&info, "redis_version"), "7.0.15");
  assert_string_equal(field(&info, "used_memory")->section, "Memory");
  assert_string_equal(field(&info, "keyspace_hits")->section, "Stats");
  assert_true(num(&info, "keyspace_hits") == 1);   /* GET a */
  assert_true(num(&info, "keyspace_misses") == 1); /* GET zz */
  assert_true(num(&info, "maxclients") == 10000);
  assert_string_equal(pmx__redis_info_get(&info, "rdb_last_bgsave_status"), "ok");
  double v;
  const char *db0 = pmx__redis_info_get(&info, "db0");
  assert_true(pmx__redis_sub_number(db0, "keys", &v) && v == 2);
  assert_true(pmx__redis_sub_number(db0, "expires", &v) && v == 1);
  assert_true(pmx__redis_sub_number(pmx__redis_info_get(&info, "db2"), "keys", &v) && v == 1);
  const char *get = pmx__redis_info_get(&info, "cmdstat_get");
  assert_true(pmx__redis_sub_number(get, "calls", &v) && v == 2);
  assert_true(pmx__redis_sub_number(get, "usec", &v) && v >= 0);
  /* Values are exact strings: no CR left at the end. */
  assert_null(strchr(pmx__redis_info_get(&info, "redis_mode"), '\r'));
  pmx__redis_info_free(&info);
  free(text);
}

static void test_info_5_0_replica_lacks_fields(void **state) {
  (void)state;
  size_t len;
  char *text = load("info_5.0_replica.txt", &len);
  pmx__redis_info_t info = {0};
  assert_int_equal(pmx__redis_info_parse(text, len, &info), 0);
  assert_null(pmx__redis_info_get(&info, "maxclients")); /* 7.0+ only: left out, not 0 */
  assert_string_equal(pmx__redis_info_get(&info, "role"), "slave");
  assert_string_equal(pmx__redis_info_get(&info, "master_link_status"), "down");
  assert_true(num(&info, "master_last_io_seconds_ago") == -1);
  assert_true(num(&info, "used_cpu_user") == 2.5);
  assert_null(pmx__redis_info_get(&info, "db0"));
  pmx__redis_info_free(&info);
  free(text);
}

static void test_info_master_replicas(void **state) {
  (void)state;
  size_t len;
  char *text = load("info_master_two_replicas.txt", &len);
  pmx__redis_info_t info = {0};
  assert_int_equal(pmx__redis_info_parse(text, len, &info), 0);
  char ip[64];
  double lag;
  const char *s1 = pmx__redis_info_get(&info, "slave1");
  assert_true(pmx__redis_sub_str(s1, "ip", ip, sizeof ip));
  assert_string_equal(ip, "10.0.0.3");
  assert_true(pmx__redis_sub_number(s1, "lag", &lag) && lag == 3);
  assert_true(pmx__redis_sub_str(s1, "state", ip, sizeof ip));
  assert_string_equal(ip, "wait_bgsave");
  pmx__redis_info_free(&info);
  free(text);
}

static void test_info_truncated_keeps_complete_lines(void **state) {
  (void)state;
  size_t len;
  char *text = load("info_truncated.txt", &len);
  pmx__redis_info_t info = {0};
  assert_int_equal(pmx__redis_info_parse(text, len, &info), 0);
  assert_string_equal(pmx__redis_info_get(&info, "redis_version"), "7.0.15");
  assert_non_null(pmx__redis_info_get(&info, "used_memory"));
  assert_null(pmx__redis_info_get(&info, "used_memory_rss"));
  assert_int_equal(info.skipped, 1); /* the cut line "used_m" has no colon */
  pmx__redis_info_free(&info);
  free(text);
}

static void test_info_odd_lines(void **state) {
  (void)state;
  size_t len;
  char *text = load("info_odd.txt", &len);
  pmx__redis_info_t info = {0};
  assert_int_equal(pmx__redis_info_parse(text, len, &info), 0);
  assert_string_equal(pmx__redis_info_get(&info, "redis_version"), "7.0.15"); /* bare LF */
  assert_string_equal(pmx__redis_info_get(&info, "empty_value"), "");
  assert_string_equal(pmx__redis_info_get(&info, "config_file"), "C:\\redis\\redis.conf");
  assert_string_equal(field(&info, "after_empty_section")->section, "");
  assert_string_equal(pmx__redis_info_get(&info, "embedded"), "a"); /* NUL ends the value */
  assert_int_equal(strlen(pmx__redis_info_get(&info, "long_line")), 70000);
  assert_string_equal(pmx__redis_info_get(&info, "last_no_newline"), "42");
  assert_int_equal(info.skipped, 2); /* "no colon here" and ":empty_key" */
  for (size_t i = 0; i < info.n; i++) assert_true(info.f[i].key[0] != '\0');
  pmx__redis_info_free(&info);
  free(text);
}

static void test_info_field_cap(void **state) {
  (void)state;
  size_t cap = (PMX__REDIS_MAX_FIELDS + 100) * 8 + 1, len = 0;
  char *text = malloc(cap);
  assert_non_null(text);
  for (int i = 0; i < PMX__REDIS_MAX_FIELDS + 100; i++) len += (size_t)sprintf(text + len, "k%d:1\n", i % 10);
  pmx__redis_info_t info = {0};
  assert_int_equal(pmx__redis_info_parse(text, len, &info), 0);
  assert_int_equal(info.n, PMX__REDIS_MAX_FIELDS);
  assert_int_equal(info.skipped, 100);
  /* Reuse: a second parse resets the counts. */
  char small[] = "a:1\r\n";
  assert_int_equal(pmx__redis_info_parse(small, 5, &info), 0);
  assert_int_equal(info.n, 1);
  assert_int_equal(info.skipped, 0);
  pmx__redis_info_free(&info);
  free(text);
}

static void test_numbers(void **state) {
  (void)state;
  double v = 0;
  assert_true(pmx__redis_number("1.5", &v) && v == 1.5);
  assert_true(pmx__redis_number("-1", &v) && v == -1);
  assert_true(pmx__redis_number("1e3", &v) && v == 1000);
  const char *bad[] = {"", "nan", "inf", "-inf", "0x10", " 1", "12abc", "1e999", "ok", "1 "};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) assert_false(pmx__redis_number(bad[i], &v));
  assert_false(pmx__redis_number(NULL, &v));
}

static void test_sub_fields(void **state) {
  (void)state;
  double v;
  char buf[4];
  assert_false(pmx__redis_sub_number("keysx=1,keys=2", "key", &v));
  assert_true(pmx__redis_sub_number("keysx=1,keys=2", "keys", &v) && v == 2);
  assert_false(pmx__redis_sub_number("keys=", "keys", &v));
  assert_false(pmx__redis_sub_number("keys", "keys", &v));
  assert_false(pmx__redis_sub_str("ip=10.0.0.1", "ip", buf, sizeof buf)); /* too long */
  assert_true(pmx__redis_sub_str("a=1,,b=xy", "b", buf, sizeof buf));
  assert_string_equal(buf, "xy");
  assert_false(pmx__redis_sub_str(NULL, "b", buf, sizeof buf));
}

static void test_url(void **state) {
  (void)state;
  pmx__redis_target_t t;
  char err[128];
  assert_int_equal(pmx__redis_url_parse("redis://127.0.0.1:6380/2", &t, err, sizeof err), 0);
  assert_string_equal(t.host, "127.0.0.1");
  assert_int_equal(t.port, 6380);
  assert_int_equal(t.db, 2);
  assert_int_equal(pmx__redis_url_parse("redis://:p%40ss@localhost", &t, err, sizeof err), 0);
  assert_string_equal(t.password, "p@ss");
  assert_string_equal(t.user, "");
  assert_int_equal(t.port, 6379);
  assert_int_equal(pmx__redis_url_parse("redis://promex:s3cret@[::1]:7000", &t, err, sizeof err), 0);
  assert_string_equal(t.user, "promex");
  assert_string_equal(t.password, "s3cret");
  assert_string_equal(t.host, "::1");
  assert_int_equal(t.port, 7000);
  assert_int_equal(pmx__redis_url_parse("unix:///run/redis.sock", &t, err, sizeof err), 0);
  assert_string_equal(t.unix_path, "/run/redis.sock");
  assert_int_equal(pmx__redis_url_parse("localhost:1", &t, err, sizeof err), 0);
  assert_int_equal(t.port, 1);
  const char *bad[] = {"", "rediss://h", "redis://h:0", "redis://h:65536", "redis://h:x",
                       "redis://:6379", "redis://[::1", "redis://h/x", "unix://rel",
                       "redis://:%4@h", "redis://:%00@h"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    err[0] = '\0';
    assert_int_equal(pmx__redis_url_parse(bad[i], &t, err, sizeof err), -1);
    assert_true(err[0] != '\0');
  }
}

static void test_cum_delta(void **state) {
  (void)state;
  pmx__ss_cum_t c = {0};
  assert_true(pmx__ss_cum_delta(&c, 10) == 10); /* first: the whole value */
  assert_true(pmx__ss_cum_delta(&c, 15) == 5);
  assert_true(pmx__ss_cum_delta(&c, 15) == 0);
  assert_true(pmx__ss_cum_delta(&c, 3) == 3); /* server restart: a reset */
  assert_true(pmx__ss_cum_delta(&c, 4) == 1);
}

static void test_keyed_bounded(void **state) {
  (void)state;
  pmx__ss_keyed_t k;
  assert_true(pmx__ss_keyed_init(&k, 2));
  double d;
  assert_true(pmx__ss_keyed_delta(&k, "get", 5, &d) && d == 5);
  assert_true(pmx__ss_keyed_delta(&k, "set", 1, &d) && d == 1);
  assert_false(pmx__ss_keyed_delta(&k, "del", 1, &d)); /* past the cap */
  assert_true(pmx__ss_keyed_delta(&k, "get", 7, &d) && d == 2);
  char longkey[PMX__SS_KEY_MAX + 1];
  memset(longkey, 'a', sizeof longkey - 1);
  longkey[sizeof longkey - 1] = '\0';
  assert_false(pmx__ss_keyed_delta(&k, longkey, 1, &d));
  pmx__ss_keyed_free(&k);
  assert_true(pmx__ss_keyed_init(&k, 0));
  assert_false(pmx__ss_keyed_delta(&k, "get", 1, &d));
  pmx__ss_keyed_free(&k);
}

static void test_list_and_backoff(void **state) {
  (void)state;
  assert_true(pmx__ss_list_has("db0, db1 ,db2", "db1"));
  assert_true(pmx__ss_list_has("db0,db1", "db0"));
  assert_false(pmx__ss_list_has("db0,db10", "db1"));
  assert_false(pmx__ss_list_has(NULL, "db1"));
  assert_false(pmx__ss_list_has("", "db1"));
  pmx__ss_backoff_t b = {.min_ms = 500, .max_ms = 3000};
  assert_true(pmx__ss_backoff_ready(&b, 0));
  pmx__ss_backoff_failed(&b, 1000);
  assert_int_equal(b.delay_ms, 500);
  assert_false(pmx__ss_backoff_ready(&b, 1499));
  assert_true(pmx__ss_backoff_ready(&b, 1500));
  pmx__ss_backoff_failed(&b, 2000);
  assert_int_equal(b.delay_ms, 1000);
  pmx__ss_backoff_failed(&b, 3000);
  pmx__ss_backoff_failed(&b, 4000);
  assert_int_equal(b.delay_ms, 3000); /* capped */
  pmx__ss_backoff_reset(&b);
  assert_true(pmx__ss_backoff_ready(&b, 0));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_info_7_0_capture),
      cmocka_unit_test(test_info_5_0_replica_lacks_fields),
      cmocka_unit_test(test_info_master_replicas),
      cmocka_unit_test(test_info_truncated_keeps_complete_lines),
      cmocka_unit_test(test_info_odd_lines),
      cmocka_unit_test(test_info_field_cap),
      cmocka_unit_test(test_numbers),
      cmocka_unit_test(test_sub_fields),
      cmocka_unit_test(test_url),
      cmocka_unit_test(test_cum_delta),
      cmocka_unit_test(test_keyed_bounded),
      cmocka_unit_test(test_list_and_backoff),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
