/* Unit tests of mysql_stats' connection string parser (plugins/mysql_stats/mysql_conf.c): every
 * key, defaults, extra spaces, and each kind of bad input refused with a message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mysql_conf.h"

static void test_all_keys(void **state) {
  (void)state;
  pmx__my_target_t t;
  char err[128];
  assert_int_equal(pmx__my_conf_parse("  host=db.local port=3307\tuser=promex password=s3c "
                                      "database=app socket=/run/mysqld.sock ",
                                      &t, err, sizeof err), 0);
  assert_string_equal(t.host, "db.local");
  assert_int_equal(t.port, 3307);
  assert_string_equal(t.user, "promex");
  assert_string_equal(t.password, "s3c");
  assert_string_equal(t.database, "app");
  assert_string_equal(t.socket, "/run/mysqld.sock");
  assert_int_equal(pmx__my_conf_parse("", &t, err, sizeof err), 0);
  assert_int_equal(t.port, 0); /* the client's default */
  assert_string_equal(t.host, "");
  /* A value may contain '=' (after the first one). */
  assert_int_equal(pmx__my_conf_parse("password=a=b", &t, err, sizeof err), 0);
  assert_string_equal(t.password, "a=b");
}

static void test_bad(void **state) {
  (void)state;
  pmx__my_target_t t;
  char err[128];
  char longv[400];
  memset(longv, 'h', sizeof longv);
  memcpy(longv, "host=", 5);
  longv[sizeof longv - 1] = '\0';
  const char *bad[] = {"host", "=x", "port=0", "port=65536", "port=12a", "port=", "colour=red",
                       "port=123456", longv};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    err[0] = '\0';
    assert_int_equal(pmx__my_conf_parse(bad[i], &t, err, sizeof err), -1);
    assert_true(err[0] != '\0');
  }
  assert_int_equal(pmx__my_conf_parse("colour=red", &t, err, sizeof err), -1);
  assert_non_null(strstr(err, "colour"));
  assert_int_equal(pmx__my_conf_parse(NULL, &t, err, sizeof err), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_all_keys),
      cmocka_unit_test(test_bad),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
