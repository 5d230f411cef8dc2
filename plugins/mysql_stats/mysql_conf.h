/* Private to mysql_stats: the connection string, "key=value" pairs separated by spaces (no
 * quoting; a password with spaces goes in the `password` option): host, port, user, password,
 * database, socket. Unknown keys and malformed pairs are errors. Tested in
 * tests/unit/mysql_stats. */
#ifndef PMX_MYSQL_CONF_H
#define PMX_MYSQL_CONF_H

#include <stddef.h>

typedef struct pmx__my_target {
  char host[256];
  unsigned port; /* 0: the client's default (3306) */
  char user[128];
  char password[256];
  char database[128];
  char socket[108];
} pmx__my_target_t;

/* Returns 0, or -1 with err (cap errcap) saying what is wrong. */
int pmx__my_conf_parse(const char *conn, pmx__my_target_t *t, char *err, size_t errcap);

#endif
