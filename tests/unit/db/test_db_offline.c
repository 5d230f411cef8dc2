/* The PostgreSQL and MariaDB adapters without a server: refused arguments, a connection that
 * never came up (every statement is an error event of class "connection" or the client's
 * SQLSTATE, never a crash), a second attach of one PGconn (PMX_EEXIST: libpq cannot unregister
 * an event proc), and the handle life cycle around PQfinish in both orders (ASan checks that
 * nothing leaks or is used after free). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "promex/db_mariadb.h"
#include "promex/db_pq.h"

typedef struct seen {
  int n;
  char command[32], result[16], error_class[32];
} seen_t;

static void on_query(const pmx_event_data_t *ev, void *cfg) {
  seen_t *s = cfg;
  s->n++;
  const pmx_meta_t *m;
  if ((m = pmx_event_meta(ev, "command")) != NULL)
    snprintf(s->command, sizeof s->command, "%s", m->v.s);
  if ((m = pmx_event_meta(ev, "result")) != NULL)
    snprintf(s->result, sizeof s->result, "%s", m->v.s);
  if ((m = pmx_event_meta(ev, "error_class")) != NULL)
    snprintf(s->error_class, sizeof s->error_class, "%s", m->v.s);
}

/* A libpq connection that cannot come up: a socket directory that does not exist. */
static PGconn *bad_pg(void) {
  PGconn *conn = PQconnectdb("host=/nonexistent/promex-test port=1 dbname=x connect_timeout=1");
  assert_non_null(conn);
  assert_int_equal(PQstatus(conn), CONNECTION_BAD);
  return conn;
}

static void test_pq_offline(void **state) {
  (void)state;
  pmx_bus_t *bus = NULL;
  assert_int_equal(pmx_bus_new(&bus), PMX_OK);
  seen_t s = {0};
  assert_int_equal(pmx_bus_attach(bus, "t", PMX_DB_EV_QUERY, on_query, &s), PMX_OK);
  pmx_pq_t *c = (pmx_pq_t *)1;
  assert_int_equal(pmx_pq_attach(NULL, "r", NULL, &c), PMX_EINVAL);
  assert_null(c);
  PGconn *conn = bad_pg();
  assert_int_equal(pmx_pq_attach(bus, "bad name\n", conn, &c), PMX_EINVAL);
  assert_int_equal(pmx_pq_attach(bus, "r", conn, &c), PMX_OK);
  pmx_pq_t *again = NULL;
  assert_int_equal(pmx_pq_attach(bus, "r2", conn, &again), PMX_EEXIST);
  assert_null(again);

  PGresult *r = pmx_pq_exec(c, "INSERT INTO t VALUES (1)");
  assert_int_equal(s.n, 1);
  assert_string_equal(s.result, "error");
  assert_string_equal(s.command, "insert");
  assert_string_equal(s.error_class, "connection");
  PQclear(r);
  assert_int_equal(pmx_pq_send_query(c, "SELECT 1"), 0); /* refused by libpq: no event */
  assert_null(pmx_pq_get_result(c));
  assert_int_equal(s.n, 1);
  PQclear(pmx_pq_exec_prepared(c, "never_prepared", 0, NULL, NULL, NULL, 0));
  assert_int_equal(s.n, 2);
  assert_string_equal(s.command, PMX_DB_COMMAND_UNAVAILABLE);
  /* NULL handle: the bare call, no event */
  PQclear(pmx_pq_exec(NULL, "SELECT 1"));
  assert_int_equal(s.n, 2);

  /* detach first, PQfinish later: the handle is freed by the event proc at PQfinish */
  pmx_pq_detach(c);
  PQfinish(conn);
  /* PQfinish first, detach later */
  conn = bad_pg();
  assert_int_equal(pmx_pq_attach(bus, "r", conn, &c), PMX_OK);
  PQfinish(conn);
  pmx_pq_detach(c);
  pmx_pq_detach(NULL);
  pmx_bus_destroy(bus);
}

static void test_mariadb_offline(void **state) {
  (void)state;
  pmx_bus_t *bus = NULL;
  assert_int_equal(pmx_bus_new(&bus), PMX_OK);
  seen_t s = {0};
  assert_int_equal(pmx_bus_attach(bus, "t", PMX_DB_EV_QUERY, on_query, &s), PMX_OK);
  pmx_mysql_t *c = (pmx_mysql_t *)1;
  assert_int_equal(pmx_mysql_attach(bus, "r", NULL, &c), PMX_EINVAL);
  assert_null(c);
  MYSQL *m = mysql_init(NULL); /* never connected */
  assert_non_null(m);
  assert_int_equal(pmx_mysql_attach(bus, "r", m, &c), PMX_OK);
  const char *sql = "DELETE FROM t";
  assert_int_not_equal(pmx_mysql_real_query(c, sql, (unsigned long)strlen(sql)), 0);
  assert_int_equal(s.n, 1);
  assert_string_equal(s.result, "error");
  assert_string_equal(s.command, "delete");
  assert_true(strlen(s.error_class) > 0);
  assert_null(pmx_mysql_store_result(c)); /* nothing pending: no second event */
  assert_int_equal(s.n, 1);
  assert_int_not_equal(pmx_mysql_real_query(NULL, sql, 3), 0);
  pmx_mysql_detach(c);
  pmx_mysql_detach(NULL);
  mysql_close(m);
  pmx_bus_destroy(bus);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pq_offline),
      cmocka_unit_test(test_mariadb_offline),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
