/* PostgreSQL (libpq) adapter for the db plugin (library promex_pq, pkg-config promex-pq; links
 * libpq so that libpromex does not have to).
 *
 * libpq has no query hook, so these are thin wrappers, one per libpq call, with the same
 * arguments after the handle and the same return value:
 *
 *   PGconn *conn = PQconnectdb("host=127.0.0.1 dbname=shop");
 *   pmx_pq_t *c;  pmx_pq_attach(pmx_bus(p), "shop", conn, &c);   // one call per connection
 *   PGresult *r = pmx_pq_exec(c, "SELECT * FROM users");          // instead of PQexec(conn, ...)
 *   ...  pmx_pq_detach(c);  PQfinish(conn);
 *
 * Each statement is one db.query event (include/promex/plugins/db.h): query_time from the call
 * (sync) or from the send to the PQgetResult that returns NULL (async) with CLOCK_MONOTONIC;
 * rows = PQntuples (SELECT, summed over single-row-mode rows) or PQcmdTuples (DML); command
 * from the command tag (PQcmdStatus "INSERT 0 1" -> insert) or, on error, from the SQL; source
 * from the SQL (for PQexecPrepared/PQsendQueryPrepared, the SQL given to pmx_pq_prepare /
 * pmx_pq_send_prepare under that name); error_class = the SQLSTATE ("42P01", "23505"), or
 * "connection" when no server error came back (lost connection, NULL result).
 * A string of several statements sent at once (PQexec, PQsendQuery) is one event, classified by
 * its first statement, with the first error.
 * A successful prepare is not a query event (as Ecto); a failed one is an error event.
 *
 * A PGEventProc registered on the connection handles its lifetime: on PGEVT_CONNRESET the
 * prepared-statement names are forgotten (the new session has none) and an async query in
 * flight is dropped unreported; on PGEVT_CONNDESTROY (PQfinish before pmx_pq_detach) the handle
 * stops touching the connection.
 *
 * Pipeline mode is not measured: while PQpipelineStatus() is not PQ_PIPELINE_OFF the wrappers
 * only forward the call, so nothing is miscounted (no event at all for pipelined queries).
 *
 * Threading: a PGconn must not be used by two threads at once, and neither may its handle.
 * The repo may be shared (pmx_pq_attach_repo) by the connections of a pool on any threads. */
#ifndef PROMEX_DB_PQ_H
#define PROMEX_DB_PQ_H

#include <libpq-fe.h>
#include <stdint.h>

#include "promex/export.h"
#include "promex/plugins/db.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pmx_pq pmx_pq_t;

/* Attaches `conn` (borrowed) to a new repo `repo_name` on `bus`, reporting database_name =
 * PQdb(conn), database_host = PQhost(conn), pool size 1. Returns PMX_OK, PMX_EINVAL (NULL
 * argument, bad name), PMX_ENOMEM, or PMX_EEXIST when the connection was attached before (libpq
 * cannot unregister an event proc, so a connection is attached once in its life; after
 * pmx_pq_detach a small handle stays with the connection until PQfinish). */
PMX_EXTERN int pmx_pq_attach(pmx_bus_t *bus, const char *repo_name, PGconn *conn,
                             pmx_pq_t **out);

/* Same, into an existing repo (borrowed; a pool's connections share one). */
PMX_EXTERN int pmx_pq_attach_repo(pmx_db_repo_t *repo, PGconn *conn, pmx_pq_t **out);

/* Frees the handle (and the repo pmx_pq_attach created). The connection stays open. NULL is a
 * no-op. */
PMX_EXTERN void pmx_pq_detach(pmx_pq_t *c);

/* The repo the handle reports into. */
PMX_EXTERN pmx_db_repo_t *pmx_pq_repo(pmx_pq_t *c);

/* For programs with a pool: the next statement reports these as queue_time / idle_time (ns). */
PMX_EXTERN void pmx_pq_checkout(pmx_pq_t *c, int64_t queue_ns, int64_t idle_ns);

/* Synchronous calls. */
PMX_EXTERN PGresult *pmx_pq_exec(pmx_pq_t *c, const char *sql);
PMX_EXTERN PGresult *pmx_pq_exec_params(pmx_pq_t *c, const char *sql, int n_params,
                                        const Oid *types, const char *const *values,
                                        const int *lengths, const int *formats, int result_format);
PMX_EXTERN PGresult *pmx_pq_prepare(pmx_pq_t *c, const char *name, const char *sql,
                                    int n_params, const Oid *types);
PMX_EXTERN PGresult *pmx_pq_exec_prepared(pmx_pq_t *c, const char *name, int n_params,
                                          const char *const *values, const int *lengths,
                                          const int *formats, int result_format);

/* Asynchronous calls: a send starts the measurement, pmx_pq_get_result (in place of
 * PQgetResult) ends it when it returns NULL. */
PMX_EXTERN int pmx_pq_send_query(pmx_pq_t *c, const char *sql);
PMX_EXTERN int pmx_pq_send_query_params(pmx_pq_t *c, const char *sql, int n_params,
                                        const Oid *types, const char *const *values,
                                        const int *lengths, const int *formats, int result_format);
PMX_EXTERN int pmx_pq_send_prepare(pmx_pq_t *c, const char *name, const char *sql, int n_params,
                                   const Oid *types);
PMX_EXTERN int pmx_pq_send_query_prepared(pmx_pq_t *c, const char *name, int n_params,
                                          const char *const *values, const int *lengths,
                                          const int *formats, int result_format);
PMX_EXTERN PGresult *pmx_pq_get_result(pmx_pq_t *c);

#ifdef __cplusplus
}
#endif
#endif
