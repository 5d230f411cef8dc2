/* SQLite adapter of the db plugin (include/promex/db_sqlite.h): wrappers that time sqlite3_step
 * and report one db.query event per statement run.
 *
 * A run spans several step calls, and SQLite has no per-statement user data, so each handle
 * keeps a small table of open runs keyed by statement pointer (RUNS_MAX; statements stepped in
 * an interleaved way on one connection are rare beyond a few). When the table is full the
 * oldest open run is reported as it stands, so nothing is kept unbounded and nothing is lost
 * silently. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "promex/db_sqlite.h"

#define RUNS_MAX 16

typedef struct run {
  sqlite3_stmt *stmt; /* NULL: free slot */
  int64_t busy_ns;    /* time inside sqlite3_step */
  int64_t rows;
  int64_t queue_ns, idle_ns;
  uint64_t seq; /* age, for eviction */
  /* classified when the run starts: the statement may be finalized (by a program mixing
   * wrapped and bare calls) before the run is reported, so it is never read afterwards */
  pmx_db_class_t cls;
} run_t;

struct pmx_sqlite {
  sqlite3 *db;
  pmx_db_repo_t *repo;
  bool own_repo;
  pthread_mutex_t mu;
  run_t runs[RUNS_MAX];
  uint64_t seq;
  int64_t next_queue_ns, next_idle_ns; /* from pmx_sqlite_checkout, for the next run */
};

const char *pmx_sqlite_code_name(int rc) {
  static const char *const names[] = {
      [SQLITE_OK] = "SQLITE_OK",         [SQLITE_ERROR] = "SQLITE_ERROR",
      [SQLITE_INTERNAL] = "SQLITE_INTERNAL", [SQLITE_PERM] = "SQLITE_PERM",
      [SQLITE_ABORT] = "SQLITE_ABORT",   [SQLITE_BUSY] = "SQLITE_BUSY",
      [SQLITE_LOCKED] = "SQLITE_LOCKED", [SQLITE_NOMEM] = "SQLITE_NOMEM",
      [SQLITE_READONLY] = "SQLITE_READONLY", [SQLITE_INTERRUPT] = "SQLITE_INTERRUPT",
      [SQLITE_IOERR] = "SQLITE_IOERR",   [SQLITE_CORRUPT] = "SQLITE_CORRUPT",
      [SQLITE_NOTFOUND] = "SQLITE_NOTFOUND", [SQLITE_FULL] = "SQLITE_FULL",
      [SQLITE_CANTOPEN] = "SQLITE_CANTOPEN", [SQLITE_PROTOCOL] = "SQLITE_PROTOCOL",
      [SQLITE_EMPTY] = "SQLITE_EMPTY",   [SQLITE_SCHEMA] = "SQLITE_SCHEMA",
      [SQLITE_TOOBIG] = "SQLITE_TOOBIG", [SQLITE_CONSTRAINT] = "SQLITE_CONSTRAINT",
      [SQLITE_MISMATCH] = "SQLITE_MISMATCH", [SQLITE_MISUSE] = "SQLITE_MISUSE",
      [SQLITE_NOLFS] = "SQLITE_NOLFS",   [SQLITE_AUTH] = "SQLITE_AUTH",
      [SQLITE_FORMAT] = "SQLITE_FORMAT", [SQLITE_RANGE] = "SQLITE_RANGE",
      [SQLITE_NOTADB] = "SQLITE_NOTADB", [SQLITE_NOTICE] = "SQLITE_NOTICE",
      [SQLITE_WARNING] = "SQLITE_WARNING", [SQLITE_ROW] = "SQLITE_ROW",
      [SQLITE_DONE] = "SQLITE_DONE"};
  int primary = rc & 0xff;
  if (primary < 0 || (size_t)primary >= sizeof names / sizeof names[0] || names[primary] == NULL)
    return "SQLITE_UNKNOWN";
  return names[primary];
}

static int64_t now_ns(void) { return pmx_monotonic_ns(); }

static int attach(pmx_db_repo_t *repo, bool own, sqlite3 *db, pmx_sqlite_t **out) {
  pmx_sqlite_t *c = calloc(1, sizeof *c);
  if (c == NULL) return PMX_ENOMEM;
  if (pthread_mutex_init(&c->mu, NULL) != 0) {
    free(c);
    return PMX_ENOMEM;
  }
  c->db = db;
  c->repo = repo;
  c->own_repo = own;
  c->next_queue_ns = c->next_idle_ns = -1;
  *out = c;
  return PMX_OK;
}

int pmx_sqlite_attach_repo(pmx_db_repo_t *repo, sqlite3 *db, pmx_sqlite_t **out) {
  if (out != NULL) *out = NULL;
  if (repo == NULL || db == NULL || out == NULL) return PMX_EINVAL;
  return attach(repo, false, db, out);
}

int pmx_sqlite_attach(pmx_bus_t *bus, const char *repo_name, sqlite3 *db, pmx_sqlite_t **out) {
  if (out != NULL) *out = NULL;
  if (bus == NULL || repo_name == NULL || db == NULL || out == NULL) return PMX_EINVAL;
  const char *file = sqlite3_db_filename(db, "main");
  const char *base = ":memory:";
  if (file != NULL && file[0] != '\0') {
    const char *slash = strrchr(file, '/');
    base = slash != NULL ? slash + 1 : file;
  }
  pmx_db_repo_info_t info = {base, "localhost", 1, 0};
  pmx_db_repo_t *repo = NULL;
  int rc = pmx_db_repo_new(bus, repo_name, &info, &repo);
  if (rc != PMX_OK) return rc;
  rc = attach(repo, true, db, out);
  if (rc != PMX_OK) pmx_db_repo_free(repo);
  return rc;
}

pmx_db_repo_t *pmx_sqlite_repo(pmx_sqlite_t *c) { return c != NULL ? c->repo : NULL; }

void pmx_sqlite_checkout(pmx_sqlite_t *c, int64_t queue_ns, int64_t idle_ns) {
  if (c == NULL) return;
  pthread_mutex_lock(&c->mu);
  c->next_queue_ns = queue_ns;
  c->next_idle_ns = idle_ns;
  pthread_mutex_unlock(&c->mu);
}

/* Emits one event for a finished run (called without the lock: emitting runs metric handlers). */
static void report(pmx_sqlite_t *c, const run_t *r, int rc) {
  pmx_db_query_t q = PMX_DB_QUERY_INIT;
  q.command = r->cls.command;
  q.source = r->cls.source;
  q.query_ns = r->busy_ns;
  q.queue_ns = r->queue_ns;
  q.idle_ns = r->idle_ns;
  q.rows = r->rows;
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    q.error = true;
    q.error_class = pmx_sqlite_code_name(rc);
  }
  pmx_db_repo_query(c->repo, &q);
}

/* The open run of stmt, or NULL. Caller holds the lock. */
static run_t *find_run(pmx_sqlite_t *c, sqlite3_stmt *stmt) {
  for (size_t i = 0; i < RUNS_MAX; i++)
    if (c->runs[i].stmt == stmt) return &c->runs[i];
  return NULL;
}

/* Takes the open run of stmt out of the table into *out; false if there is none. */
static bool take_run(pmx_sqlite_t *c, sqlite3_stmt *stmt, run_t *out) {
  pthread_mutex_lock(&c->mu);
  run_t *r = find_run(c, stmt);
  if (r != NULL) {
    *out = *r;
    memset(r, 0, sizeof *r);
  }
  pthread_mutex_unlock(&c->mu);
  return r != NULL;
}

static void new_run(pmx_sqlite_t *c, run_t *r, sqlite3_stmt *stmt) {
  memset(r, 0, sizeof *r);
  r->stmt = stmt;
  const char *sql = sqlite3_sql(stmt);
  pmx_db_classify(sql, sql != NULL ? strlen(sql) : 0, &r->cls);
  r->queue_ns = c->next_queue_ns;
  r->idle_ns = c->next_idle_ns;
  c->next_queue_ns = c->next_idle_ns = -1;
  r->seq = ++c->seq;
}

int pmx_sqlite_step(pmx_sqlite_t *c, sqlite3_stmt *stmt) {
  if (c == NULL) return sqlite3_step(stmt);
  int64_t t0 = now_ns();
  int rc = sqlite3_step(stmt);
  int64_t dt = now_ns() - t0;
  if (stmt == NULL) return rc;
  run_t done;
  bool finished = false, evicted = false;
  run_t old;
  pthread_mutex_lock(&c->mu);
  run_t *r = find_run(c, stmt);
  if (r == NULL) {
    r = find_run(c, NULL);
    if (r == NULL) { /* table full: report the oldest open run as it stands */
      r = &c->runs[0];
      for (size_t i = 1; i < RUNS_MAX; i++)
        if (c->runs[i].seq < r->seq) r = &c->runs[i];
      old = *r;
      evicted = true;
    }
    new_run(c, r, stmt);
  }
  r->busy_ns += dt;
  if (rc == SQLITE_ROW) r->rows++;
  if (rc != SQLITE_ROW) {
    /* INSERT/UPDATE/DELETE report rows changed (sqlite3_changes64 counts only those; for any
     * other statement it would be a stale count); a SELECT reports rows returned */
    const char *cmd = r->cls.command;
    if (rc == SQLITE_DONE && r->rows == 0 &&
        (strcmp(cmd, "insert") == 0 || strcmp(cmd, "update") == 0 ||
         strcmp(cmd, "delete") == 0 || strcmp(cmd, "replace") == 0))
      r->rows = sqlite3_changes64(c->db);
    done = *r;
    memset(r, 0, sizeof *r);
    finished = true;
  }
  pthread_mutex_unlock(&c->mu);
  if (evicted) report(c, &old, SQLITE_OK);
  if (finished) report(c, &done, rc);
  return rc;
}

int pmx_sqlite_reset(pmx_sqlite_t *c, sqlite3_stmt *stmt) {
  run_t r;
  if (c != NULL && stmt != NULL && take_run(c, stmt, &r)) report(c, &r, SQLITE_OK);
  return sqlite3_reset(stmt);
}

int pmx_sqlite_finalize(pmx_sqlite_t *c, sqlite3_stmt *stmt) {
  run_t r;
  if (c != NULL && stmt != NULL && take_run(c, stmt, &r)) report(c, &r, SQLITE_OK);
  return sqlite3_finalize(stmt);
}

int pmx_sqlite_prepare(pmx_sqlite_t *c, const char *sql, int nbyte, sqlite3_stmt **stmt,
                       const char **tail) {
  if (c == NULL) return sqlite3_prepare_v2(NULL, sql, nbyte, stmt, tail);
  int64_t t0 = now_ns();
  int rc = sqlite3_prepare_v2(c->db, sql, nbyte, stmt, tail);
  int64_t dt = now_ns() - t0;
  if (rc != SQLITE_OK && sql != NULL) {
    pmx_db_query_t q = PMX_DB_QUERY_INIT;
    /* nbyte < 0: up to the NUL; else at most nbyte bytes, stopping at a NUL as SQLite does */
    q.sql = nbyte == 0 ? "" : sql;
    q.sql_len = nbyte > 0 ? strnlen(sql, (size_t)nbyte) : 0;
    if (nbyte > 0 && q.sql_len == 0) q.sql = "";
    q.query_ns = dt;
    q.error = true;
    q.error_class = pmx_sqlite_code_name(rc);
    pthread_mutex_lock(&c->mu);
    q.queue_ns = c->next_queue_ns;
    q.idle_ns = c->next_idle_ns;
    c->next_queue_ns = c->next_idle_ns = -1;
    pthread_mutex_unlock(&c->mu);
    pmx_db_repo_query(c->repo, &q);
  }
  return rc;
}

int pmx_sqlite_exec(pmx_sqlite_t *c, const char *sql, int (*cb)(void *, int, char **, char **),
                    void *arg, char **errmsg) {
  if (errmsg != NULL) *errmsg = NULL;
  if (c == NULL) return SQLITE_MISUSE;
  if (sql == NULL) sql = "";
  int rc = SQLITE_OK;
  while (rc == SQLITE_OK && sql[0] != '\0') {
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    rc = pmx_sqlite_prepare(c, sql, -1, &st, &tail);
    if (rc != SQLITE_OK) break;
    sql = tail != NULL ? tail : "";
    if (st == NULL) continue; /* only whitespace or a comment */
    int ncol = sqlite3_column_count(st);
    char **cols = NULL;
    if (cb != NULL && ncol > 0 &&
        (cols = sqlite3_malloc64(2 * (sqlite3_uint64)ncol * sizeof *cols)) == NULL) {
      pmx_sqlite_finalize(c, st);
      rc = SQLITE_NOMEM;
      break;
    }
    for (;;) {
      int s = pmx_sqlite_step(c, st);
      if (s == SQLITE_ROW) {
        if (cb == NULL) continue;
        for (int i = 0; i < ncol; i++) {
          cols[i] = (char *)sqlite3_column_name(st, i);
          cols[ncol + i] = (char *)sqlite3_column_text(st, i);
        }
        if (cb(arg, ncol, cols + ncol, cols) != 0) {
          rc = SQLITE_ABORT;
          break;
        }
        continue;
      }
      if (s != SQLITE_DONE) rc = s;
      break;
    }
    sqlite3_free(cols);
    int frc = pmx_sqlite_finalize(c, st); /* reports a run the callback aborted */
    if (rc == SQLITE_OK && frc != SQLITE_OK) rc = frc;
  }
  if (rc != SQLITE_OK && errmsg != NULL)
    *errmsg = sqlite3_mprintf("%s", rc == SQLITE_ABORT ? "query aborted" : sqlite3_errmsg(c->db));
  return rc;
}

void pmx_sqlite_detach(pmx_sqlite_t *c) {
  if (c == NULL) return;
  for (size_t i = 0; i < RUNS_MAX; i++)
    if (c->runs[i].stmt != NULL) report(c, &c->runs[i], SQLITE_OK);
  if (c->own_repo) pmx_db_repo_free(c->repo);
  pthread_mutex_destroy(&c->mu);
  free(c);
}
