/* Private to postgres_stats: a libpq connection whose connect and every statement end by a
 * deadline (libpq's own connect_timeout has a 2 s floor and a statement has none on the client
 * side), so a server that is down, frozen or slow costs at most `timeout_ms` per step.
 *
 * Connect uses PQconnectStartParams + PQconnectPoll, statements PQsendQuery + PQconsumeInput,
 * both waiting with poll() on the socket. Host names are resolved by libpq with a blocking
 * getaddrinfo inside PQconnectStartParams: give an address (host=127.0.0.1 or hostaddr) where
 * DNS may hang. On a timeout the connection is closed (never PQcancel, which opens a second,
 * blocking connection to a server that is already not answering); statement_timeout bounds the
 * query on the server side as well. */
#ifndef PMX_PG_CONN_H
#define PMX_PG_CONN_H

#include <libpq-fe.h>
#include <stdint.h>

#include "stats_common.h"

typedef struct pmx__pg {
  PGconn *conn;
  uint32_t timeout_ms;
  pmx__ss_reason_t reason; /* of the last failure */
  char err[512];           /* its message, one line */
} pmx__pg_t;

/* Connects with the given keyword/value arrays (NULL-terminated; expand_dbname = 1, so a
 * "dbname" entry may hold a whole connection string). Returns 0, or -1 with reason/err set and
 * no connection. */
int pmx__pg_connect(pmx__pg_t *pg, const char *const *keys, const char *const *vals);

/* Runs one statement. Returns a PGRES_TUPLES_OK result (PQclear it), or NULL with reason/err set;
 * when the connection is unusable afterwards (I/O error, timeout) it is closed (pg->conn NULL). */
PGresult *pmx__pg_query(pmx__pg_t *pg, const char *sql);

void pmx__pg_close(pmx__pg_t *pg);

/* A result as a pmx__ss_table_t. */
pmx__ss_table_t pmx__pg_table(const PGresult *res);

#endif
