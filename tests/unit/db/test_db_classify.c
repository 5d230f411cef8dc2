/* The db plugin's SQL classifier (pmx_db_classify): command and main table over a corpus of the
 * shapes programs send, plus the hostile ones (comments, quoted identifiers, strings holding
 * keywords, CTEs, schemas, several statements, garbage, truncated input). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "promex/plugins/db.h"

typedef struct row {
  const char *sql, *command, *source;
} row_t;

#define NA PMX_DB_SOURCE_UNAVAILABLE
#define UN PMX_DB_COMMAND_UNAVAILABLE

static const row_t k_rows[] = {
    {"SELECT id FROM users WHERE id = $1", "select", "users"},
    {"  select * from Users", "select", "Users"},
    {"SELECT 1", "select", NA},
    {"SELECT count(*) FROM (SELECT * FROM inner_t) AS sub", "select", NA},
    {"SELECT (SELECT max(id) FROM a) FROM b", "select", "b"},
    {"SELECT * FROM public.orders o JOIN users u ON u.id = o.uid", "select", "orders"},
    {"SELECT * FROM \"public\".\"Order Items\"", "select", "Order Items"},
    {"SELECT * FROM `shop`.`items`", "select", "items"},
    {"SELECT * FROM [dbo].[logs]", "select", "logs"},
    {"SELECT * FROM cat.sch.tbl", "select", "tbl"},
    {"SELECT * FROM \"we\"\"ird\"", "select", NA}, /* escaped quote: not a plain name */
    {"SELECT 'FROM nope' AS x FROM yes", "select", "yes"},
    {"SELECT $$ FROM nope $$ FROM yes", "select", "yes"},
    {"SELECT $tag$ FROM a $ FROM b $tag$ FROM yes", "select", "yes"},
    {"SELECT E'it\\'s FROM nope' FROM yes", "select", "yes"},
    {"-- FROM nope\nSELECT a FROM yes", "select", "yes"},
    {"/* SELECT * FROM nope */ DELETE FROM yes", "delete", "yes"},
    {"/* outer /* nested */ still comment */ UPDATE yes SET a=1", "update", "yes"},
    {"INSERT INTO posts (title) VALUES ('a; DROP TABLE x')", "insert", "posts"},
    {"insert or replace into kv(k, v) values (?, ?)", "insert", "kv"},
    {"INSERT IGNORE INTO t1 VALUES (1)", "insert", "t1"},
    {"REPLACE INTO t2 VALUES (1)", "replace", "t2"},
    {"UPDATE OR IGNORE `tbl` SET v = 1; SELECT 1 FROM other", "update", "tbl"},
    {"UPDATE ONLY accounts SET x = 1", "update", "accounts"},
    {"DELETE FROM ONLY public.sessions WHERE expires < now()", "delete", "sessions"},
    {"WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM t) SELECT n FROM t", "select",
     "t"},
    {"WITH a AS (SELECT * FROM x), b AS MATERIALIZED (SELECT 1) DELETE FROM z", "delete", "z"},
    {"WITH a AS NOT MATERIALIZED (SELECT 1) INSERT INTO log SELECT * FROM a", "insert", "log"},
    {"WITH broken", UN, NA},
    {"BEGIN", "begin", NA},
    {"START TRANSACTION", "begin", NA},
    {"COMMIT; BEGIN", "commit", NA},
    {"END", "commit", NA},
    {"ROLLBACK TO SAVEPOINT s1", "rollback", NA},
    {"CREATE TABLE IF NOT EXISTS items (id int)", "create", "items"},
    {"CREATE TEMP TABLE scratch (id int)", "create", "scratch"},
    {"CREATE INDEX i ON items(id)", "create", NA},
    {"DROP TABLE IF EXISTS main.items", "drop", "items"},
    {"ALTER TABLE ONLY items ADD COLUMN x int", "alter", "items"},
    {"TRUNCATE TABLE items", "truncate", "items"},
    {"COPY items FROM STDIN", "copy", "items"},
    {"PRAGMA journal_mode=WAL", "pragma", NA},
    {"((SELECT 1 FROM a) UNION (SELECT 2 FROM b))", "select", "a"},
    {"(SELECT 1 FROM a)", "select", "a"},
    {"frobnicate the database", UN, NA},
    {"", UN, NA},
    {";;;", UN, NA},
    {"'unterminated FROM users", UN, NA},
    {"/* unterminated SELECT * FROM t", UN, NA},
    {"SELECT * FROM", "select", NA},
    {"SELECT * FROM 'str'", "select", NA},
    {"SELECT * FROM \"\"", "select", NA},
    {"SELECT * FROM a_table_name_that_is_far_too_long_to_be_a_label_value_0123456789abcdef",
     "select", NA},
    {"select * from \xc3\xa9t\xc3\xa9", "select", NA}, /* non-ASCII: never a label */
    {"SELECT * FROM \"tab\nle\"", "select", NA},
};

static void test_corpus(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof k_rows / sizeof k_rows[0]; i++) {
    pmx_db_class_t c;
    pmx_db_classify(k_rows[i].sql, strlen(k_rows[i].sql), &c);
    if (strcmp(c.command, k_rows[i].command) != 0 || strcmp(c.source, k_rows[i].source) != 0) {
      fprintf(stderr, "row %zu \"%s\": got %s/%s, want %s/%s\n", i, k_rows[i].sql, c.command,
              c.source, k_rows[i].command, k_rows[i].source);
      fail();
    }
  }
}

/* len bounds the read: a statement cut in the middle of the table name sees only the prefix,
 * and bytes after len (here a different table) are never looked at. */
static void test_len_is_respected(void **state) {
  (void)state;
  const char *sql = "SELECT * FROM users_archive";
  pmx_db_class_t c;
  pmx_db_classify(sql, strlen("SELECT * FROM users"), &c);
  assert_string_equal(c.source, "users");
  pmx_db_classify(sql, 6, &c);
  assert_string_equal(c.command, "select");
  assert_string_equal(c.source, NA);
  pmx_db_classify(NULL, 10, &c);
  assert_string_equal(c.command, UN);
  pmx_db_classify("SELECT\0 * FROM t", 16, &c); /* embedded NUL: treated as a byte */
  assert_string_equal(c.command, "select");
}

static void test_command_from_tag(void **state) {
  (void)state;
  char out[PMX_DB_COMMAND_MAX];
  assert_true(pmx_db_command_from_tag("INSERT 0 1", out, sizeof out));
  assert_string_equal(out, "insert");
  assert_true(pmx_db_command_from_tag("SELECT 3", out, sizeof out));
  assert_string_equal(out, "select");
  assert_false(pmx_db_command_from_tag("", out, sizeof out));
  assert_false(pmx_db_command_from_tag("WITH", out, sizeof out));
  assert_false(pmx_db_command_from_tag("BOGUS 1", out, sizeof out));
  assert_false(pmx_db_command_from_tag(NULL, out, sizeof out));
  assert_false(pmx_db_command_from_tag("SELECT", out, 3)); /* does not fit */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_corpus),
      cmocka_unit_test(test_len_is_respected),
      cmocka_unit_test(test_command_from_tag),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
