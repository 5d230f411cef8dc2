/* MariaDB / MySQL (Connector/C, libmariadb) adapter for the db plugin (library promex_mariadb,
 * pkg-config promex-mariadb; links libmariadb so that libpromex does not have to).
 *
 * Connector/C has no query hook (its status callback fires only on status changes), so these
 * are thin wrappers with the wrapped call's arguments after the handle and its return value:
 *
 *   MYSQL *m = mysql_init(NULL);  mysql_real_connect(m, "127.0.0.1", ...);
 *   pmx_mysql_t *c;  pmx_mysql_attach(pmx_bus(p), "shop", m, &c);   // one call per connection
 *   pmx_mysql_real_query(c, sql, strlen(sql));  MYSQL_RES *res = pmx_mysql_store_result(c);
 *   MYSQL_STMT *st = mysql_stmt_init(m);  pmx_mysql_stmt_prepare(c, st, sql, len);
 *   pmx_mysql_stmt_execute(c, st);  pmx_mysql_stmt_store_result(c, st);  ...
 *   pmx_mysql_stmt_close(c, st);  pmx_mysql_detach(c);  mysql_close(m);
 *
 * Each statement is one db.query event (include/promex/plugins/db.h), timed with
 * CLOCK_MONOTONIC: a statement without a result set (DML, DDL) when the query/execute call
 * returns, with rows = affected rows; one with a result set when its result is stored
 * (pmx_mysql_store_result / pmx_mysql_stmt_store_result: query_time then includes the
 * transfer, rows = rows returned), or, if the program never stores it, at the next statement on
 * the connection or statement (no rows). Command and source come from the SQL (the prepared
 * statement's SQL for executions), error_class is the SQLSTATE ("23000" duplicate key, "42S02"
 * unknown table), or "connection" when the server gave none.
 * A failed prepare is an error event; a successful one is not a query (as Ecto).
 *
 * Threading: a MYSQL connection (and its statements) must not be used by two threads at once,
 * nor may its handle; the repo may be shared by a pool's connections (pmx_mysql_attach_repo). */
#ifndef PROMEX_DB_MARIADB_H
#define PROMEX_DB_MARIADB_H

#include <mysql.h>
#include <stdint.h>

#include "promex/export.h"
#include "promex/plugins/db.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pmx_mysql pmx_mysql_t;

/* Attaches the connected `m` (borrowed; detach before mysql_close) to a new repo `repo_name` on
 * `bus`, reporting the current schema and host, pool size 1. Returns PMX_OK, PMX_EINVAL (NULL
 * argument, bad name) or PMX_ENOMEM. */
PMX_EXTERN int pmx_mysql_attach(pmx_bus_t *bus, const char *repo_name, MYSQL *m,
                                pmx_mysql_t **out);
/* Same, into an existing repo (borrowed). */
PMX_EXTERN int pmx_mysql_attach_repo(pmx_db_repo_t *repo, MYSQL *m, pmx_mysql_t **out);
/* Reports what is pending, frees the handle (and the repo pmx_mysql_attach created). NULL: no-op.
 */
PMX_EXTERN void pmx_mysql_detach(pmx_mysql_t *c);
PMX_EXTERN pmx_db_repo_t *pmx_mysql_repo(pmx_mysql_t *c);
/* For programs with a pool: the next statement reports these as queue_time / idle_time (ns). */
PMX_EXTERN void pmx_mysql_checkout(pmx_mysql_t *c, int64_t queue_ns, int64_t idle_ns);

/* Text protocol. */
PMX_EXTERN int pmx_mysql_real_query(pmx_mysql_t *c, const char *sql, unsigned long len);
PMX_EXTERN MYSQL_RES *pmx_mysql_store_result(pmx_mysql_t *c);

/* Prepared statements (`st` from mysql_stmt_init on the same connection). */
PMX_EXTERN int pmx_mysql_stmt_prepare(pmx_mysql_t *c, MYSQL_STMT *st, const char *sql,
                                      unsigned long len);
PMX_EXTERN int pmx_mysql_stmt_execute(pmx_mysql_t *c, MYSQL_STMT *st);
PMX_EXTERN int pmx_mysql_stmt_store_result(pmx_mysql_t *c, MYSQL_STMT *st);
/* mysql_stmt_close, after reporting a pending execution and forgetting the statement. */
PMX_EXTERN my_bool pmx_mysql_stmt_close(pmx_mysql_t *c, MYSQL_STMT *st);

#ifdef __cplusplus
}
#endif
#endif
