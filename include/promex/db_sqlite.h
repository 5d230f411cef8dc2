/* SQLite adapter for the db plugin (library promex_sqlite, pkg-config promex-sqlite; links
 * libsqlite3 so that libpromex does not have to).
 *
 * One call per connection, then the wrappers in place of the sqlite3 calls they name:
 *
 *   sqlite3 *db;  sqlite3_open("shop.db", &db);
 *   pmx_sqlite_t *c;  pmx_sqlite_attach(pmx_bus(p), "shop", db, &c);   // repo "shop"
 *   pmx_sqlite_exec(c, "CREATE TABLE IF NOT EXISTS t(x)", NULL, NULL, NULL);
 *   sqlite3_stmt *st;  pmx_sqlite_prepare(c, "SELECT x FROM t", -1, &st, NULL);
 *   while (pmx_sqlite_step(c, st) == SQLITE_ROW) { ... }
 *   pmx_sqlite_finalize(c, st);
 *   ...  pmx_sqlite_detach(c);  sqlite3_close(db);
 *
 * Each statement run (prepare error, or first step to SQLITE_DONE / an error / reset / finalize)
 * is one db.query event (include/promex/plugins/db.h): query_time = the time spent inside
 * sqlite3_step for that run, rows = SQLITE_ROW results (SELECT) or sqlite3_changes() (DML),
 * command and source from the statement's SQL, error_class = the primary result code name
 * ("SQLITE_CONSTRAINT", "SQLITE_ERROR", "SQLITE_BUSY"). A failed prepare ("no such table") is an
 * error event whose query_time is the prepare time.
 *
 * Why wrappers and not sqlite3_trace_v2: its PROFILE event has millisecond resolution (the VFS
 * clock; fast statements report 0), carries no success or failure (sqlite3_errcode() is not yet
 * set inside it), and a prepare error produces no trace at all; the connection also has a single
 * trace slot the program may own. The wrappers time with CLOCK_MONOTONIC (nanosecond
 * resolution; the cost is two clock reads per step) and see every return code. The trace slot
 * stays free for the program.
 *
 * A run is tracked by statement pointer until it ends: finalize and reset statements through
 * pmx_sqlite_finalize / pmx_sqlite_reset. A statement finalized with the bare call while a run
 * was open leaves that run open until the handle needs its slot (16 per handle, oldest first) or
 * is detached; it is then reported as it stood (ok, rows seen so far).
 *
 * Threading: a pmx_sqlite_t may be used from several threads if the connection may (SQLite's
 * serialized mode): its run table has its own mutex. Errors: functions returning an SQLite code
 * return exactly what the wrapped call returned; instrumentation failures never change it. */
#ifndef PROMEX_DB_SQLITE_H
#define PROMEX_DB_SQLITE_H

#include <sqlite3.h>
#include <stdint.h>

#include "promex/export.h"
#include "promex/plugins/db.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pmx_sqlite pmx_sqlite_t;

/* Attaches `db` (borrowed; detach before sqlite3_close) to a new repo named `repo_name` on `bus`,
 * reporting database_name = the main database file's base name (":memory:" when none), host
 * "localhost", pool size 1. Returns PMX_OK, PMX_EINVAL (NULL argument, bad repo name) or
 * PMX_ENOMEM; *out is owned by the caller (pmx_sqlite_detach). */
PMX_EXTERN int pmx_sqlite_attach(pmx_bus_t *bus, const char *repo_name, sqlite3 *db,
                                 pmx_sqlite_t **out);

/* Same, reporting into an existing repo (a pool of connections sharing one repo; `repo` is
 * borrowed and must outlive the handle). */
PMX_EXTERN int pmx_sqlite_attach_repo(pmx_db_repo_t *repo, sqlite3 *db, pmx_sqlite_t **out);

/* Frees the handle (and the repo pmx_sqlite_attach created). Open runs are reported first.
 * NULL is a no-op. */
PMX_EXTERN void pmx_sqlite_detach(pmx_sqlite_t *c);

/* The repo the handle reports into. */
PMX_EXTERN pmx_db_repo_t *pmx_sqlite_repo(pmx_sqlite_t *c);

/* For programs with a pool: the next statement run on this connection reports `queue_ns` as
 * its queue_time (the wait to check the connection out) and `idle_ns` (>= 0) as idle_time. */
PMX_EXTERN void pmx_sqlite_checkout(pmx_sqlite_t *c, int64_t queue_ns, int64_t idle_ns);

/* sqlite3_exec: runs every statement of `sql` in turn (one event each), calling `cb` per row
 * with the column texts and names as sqlite3_exec does; stops at the first error. *errmsg (if
 * not NULL) gets an sqlite3_malloc'd message on error, to free with sqlite3_free. */
PMX_EXTERN int pmx_sqlite_exec(pmx_sqlite_t *c, const char *sql,
                               int (*cb)(void *, int, char **, char **), void *arg, char **errmsg);

/* sqlite3_prepare_v2. A failure is reported as an error event. */
PMX_EXTERN int pmx_sqlite_prepare(pmx_sqlite_t *c, const char *sql, int nbyte, sqlite3_stmt **stmt,
                       const char **tail);

/* sqlite3_step: times the call; the run is reported when it ends (anything but SQLITE_ROW). */
PMX_EXTERN int pmx_sqlite_step(pmx_sqlite_t *c, sqlite3_stmt *stmt);

/* sqlite3_reset / sqlite3_finalize: a run stopped before SQLITE_DONE is reported (ok, with the
 * rows seen so far) first. */
PMX_EXTERN int pmx_sqlite_reset(pmx_sqlite_t *c, sqlite3_stmt *stmt);
PMX_EXTERN int pmx_sqlite_finalize(pmx_sqlite_t *c, sqlite3_stmt *stmt);

/* "SQLITE_CONSTRAINT" for any code whose primary code (rc & 0xff) is SQLITE_CONSTRAINT, and so
 * on; "SQLITE_UNKNOWN" for codes not in sqlite3.h. Static strings. */
PMX_EXTERN const char *pmx_sqlite_code_name(int rc);

#ifdef __cplusplus
}
#endif
#endif
