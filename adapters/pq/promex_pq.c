/* PostgreSQL adapter of the db plugin (include/promex/db_pq.h): thin libpq wrappers that time
 * each statement and report one db.query event, plus a PGEventProc for the connection's
 * lifetime (reset, destroy). */
#include <libpq-events.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promex/db_pq.h"

/* A prepared statement's classification, by name (the SQL itself is not kept). */
typedef struct prepared {
  char *name;
  pmx_db_class_t cls;
} prepared_t;

/* The async query in flight (between a send and the NULL from PQgetResult). */
typedef struct pending {
  bool active;
  bool is_prepare; /* PQsendPrepare: only a failure is reported */
  char *prepare_name; /* is_prepare: forgotten if the prepare fails */
  int64_t t0, queue_ns, idle_ns;
  pmx_db_class_t cls;
  char command[PMX_DB_COMMAND_MAX]; /* from the first command tag, "" until then */
  int64_t rows;
  bool error;
  char error_class[16]; /* SQLSTATE or "connection" */
} pending_t;

struct pmx_pq {
  PGconn *conn; /* NULL once PQfinish ran (PGEVT_CONNDESTROY) */
  pmx_db_repo_t *repo;
  bool own_repo;
  bool detached; /* pmx_pq_detach ran while the connection lived: freed at CONNDESTROY */
  int64_t next_queue_ns, next_idle_ns;
  prepared_t *prepared;
  size_t n_prepared, cap_prepared;
  pending_t pend;
};

static void forget_prepared(pmx_pq_t *c) {
  for (size_t i = 0; i < c->n_prepared; i++) free(c->prepared[i].name);
  c->n_prepared = 0;
}

static const prepared_t *find_prepared(const pmx_pq_t *c, const char *name) {
  if (name == NULL) name = "";
  for (size_t i = 0; i < c->n_prepared; i++)
    if (strcmp(c->prepared[i].name, name) == 0) return &c->prepared[i];
  return NULL;
}

/* Remembers name -> class of sql (replacing an earlier statement of that name; "" is the
 * unnamed statement). Out of memory only loses the source label of later executions. */
static void remember_prepared(pmx_pq_t *c, const char *name, const char *sql) {
  if (name == NULL) name = "";
  prepared_t *p = (prepared_t *)find_prepared(c, name);
  if (p == NULL) {
    if (c->n_prepared == c->cap_prepared) {
      size_t cap = c->cap_prepared ? 2 * c->cap_prepared : 8;
      prepared_t *np = realloc(c->prepared, cap * sizeof *np);
      if (np == NULL) return;
      c->prepared = np;
      c->cap_prepared = cap;
    }
    char *n = strdup(name);
    if (n == NULL) return;
    p = &c->prepared[c->n_prepared++];
    p->name = n;
  }
  pmx_db_classify(sql, sql != NULL ? strlen(sql) : 0, &p->cls);
}

static void drop_prepared(pmx_pq_t *c, const char *name) {
  prepared_t *p = (prepared_t *)find_prepared(c, name);
  if (p == NULL) return;
  free(p->name);
  *p = c->prepared[--c->n_prepared];
}

static void end_pending(pmx_pq_t *c) {
  free(c->pend.prepare_name);
  memset(&c->pend, 0, sizeof c->pend);
}

static int event_proc(PGEventId id, void *info, void *pass) {
  pmx_pq_t *c = pass;
  (void)info;
  if (id == PGEVT_CONNRESET) {
    forget_prepared(c); /* a new session: the server has no prepared statements */
    end_pending(c);
  } else if (id == PGEVT_CONNDESTROY) {
    c->conn = NULL;
    end_pending(c);
    if (c->detached) free(c);
  }
  return 1;
}

static int attach(pmx_db_repo_t *repo, bool own, PGconn *conn, pmx_pq_t **out) {
  pmx_pq_t *c = calloc(1, sizeof *c);
  if (c == NULL) return PMX_ENOMEM;
  c->conn = conn;
  c->repo = repo;
  c->own_repo = own;
  c->next_queue_ns = c->next_idle_ns = -1;
  /* Fails when this proc is already registered: the connection was attached before (libpq
   * cannot unregister an event proc). */
  if (!PQregisterEventProc(conn, event_proc, "promex_pq", c)) {
    free(c);
    return PMX_EEXIST;
  }
  *out = c;
  return PMX_OK;
}

int pmx_pq_attach_repo(pmx_db_repo_t *repo, PGconn *conn, pmx_pq_t **out) {
  if (out != NULL) *out = NULL;
  if (repo == NULL || conn == NULL || out == NULL) return PMX_EINVAL;
  return attach(repo, false, conn, out);
}

int pmx_pq_attach(pmx_bus_t *bus, const char *repo_name, PGconn *conn, pmx_pq_t **out) {
  if (out != NULL) *out = NULL;
  if (bus == NULL || repo_name == NULL || conn == NULL || out == NULL) return PMX_EINVAL;
  const char *host = PQhost(conn);
  if (host != NULL && host[0] == '/') host = "localhost"; /* a socket directory: not a label */
  pmx_db_repo_info_t info = {PQdb(conn), host, 1, 0};
  pmx_db_repo_t *repo = NULL;
  int rc = pmx_db_repo_new(bus, repo_name, &info, &repo);
  if (rc != PMX_OK) return rc;
  rc = attach(repo, true, conn, out);
  if (rc != PMX_OK) pmx_db_repo_free(repo);
  return rc;
}

void pmx_pq_detach(pmx_pq_t *c) {
  if (c == NULL) return;
  /* The event proc cannot be unregistered and keeps a pointer to the handle, so while the
   * connection lives the (emptied) handle stays, and the proc frees it at PQfinish. */
  forget_prepared(c);
  free(c->prepared);
  c->prepared = NULL;
  c->cap_prepared = 0;
  end_pending(c);
  if (c->own_repo) pmx_db_repo_free(c->repo);
  c->repo = NULL;
  c->own_repo = false;
  if (c->conn == NULL) free(c);
  else c->detached = true;
}

pmx_db_repo_t *pmx_pq_repo(pmx_pq_t *c) { return c != NULL ? c->repo : NULL; }

void pmx_pq_checkout(pmx_pq_t *c, int64_t queue_ns, int64_t idle_ns) {
  if (c == NULL) return;
  c->next_queue_ns = queue_ns;
  c->next_idle_ns = idle_ns;
}

static bool measuring(const pmx_pq_t *c) {
  return c->repo != NULL && c->conn != NULL && PQpipelineStatus(c->conn) == PQ_PIPELINE_OFF;
}

static bool is_error(ExecStatusType st) {
  return st == PGRES_FATAL_ERROR || st == PGRES_BAD_RESPONSE || st == PGRES_NONFATAL_ERROR;
}

/* Folds one result into a measurement in progress. */
static void fold_result(pending_t *p, const PGresult *r) {
  ExecStatusType st = PQresultStatus(r);
  if (is_error(st)) {
    if (!p->error) {
      p->error = true;
      const char *code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
      snprintf(p->error_class, sizeof p->error_class, "%s",
               code != NULL && strlen(code) == 5 ? code : "connection");
    }
    return;
  }
  if (st == PGRES_TUPLES_OK || st == PGRES_SINGLE_TUPLE) p->rows += PQntuples(r);
  else if (st == PGRES_COMMAND_OK) {
    const char *t = PQcmdTuples((PGresult *)r);
    if (t != NULL && t[0] != '\0') p->rows += strtoll(t, NULL, 10);
  }
  if (p->command[0] == '\0' && st != PGRES_SINGLE_TUPLE)
    pmx_db_command_from_tag(PQcmdStatus((PGresult *)r), p->command, sizeof p->command);
}

static void start(pmx_pq_t *c, pending_t *p, const char *sql, const pmx_db_class_t *cls) {
  memset(p, 0, sizeof *p);
  p->active = true;
  p->queue_ns = c->next_queue_ns;
  p->idle_ns = c->next_idle_ns;
  c->next_queue_ns = c->next_idle_ns = -1;
  if (cls != NULL) p->cls = *cls;
  else pmx_db_classify(sql, sql != NULL ? strlen(sql) : 0, &p->cls);
  p->t0 = pmx_monotonic_ns();
}

static void finish(pmx_pq_t *c, pending_t *p) {
  int64_t dt = pmx_monotonic_ns() - p->t0;
  if (!p->is_prepare || p->error) {
    pmx_db_query_t q = PMX_DB_QUERY_INIT;
    q.command = p->command[0] != '\0' && !p->error ? p->command : p->cls.command;
    q.source = p->cls.source;
    q.query_ns = dt;
    q.queue_ns = p->queue_ns;
    q.idle_ns = p->idle_ns;
    if (!p->error && !p->is_prepare) q.rows = p->rows;
    q.error = p->error;
    q.error_class = p->error_class;
    pmx_db_repo_query(c->repo, &q);
  }
}

/* A synchronous call's result: NULL means no server answer (out of memory, lost connection). */
static PGresult *sync_done(pmx_pq_t *c, pending_t *p, PGresult *r) {
  if (r == NULL) {
    p->error = true;
    snprintf(p->error_class, sizeof p->error_class, "connection");
  } else {
    fold_result(p, r);
  }
  finish(c, p);
  return r;
}

PGresult *pmx_pq_exec(pmx_pq_t *c, const char *sql) {
  if (c == NULL || !measuring(c)) return PQexec(c ? c->conn : NULL, sql);
  pending_t p;
  start(c, &p, sql, NULL);
  return sync_done(c, &p, PQexec(c->conn, sql));
}

PGresult *pmx_pq_exec_params(pmx_pq_t *c, const char *sql, int n_params, const Oid *types,
                             const char *const *values, const int *lengths, const int *formats,
                             int result_format) {
  if (c == NULL || !measuring(c))
    return PQexecParams(c ? c->conn : NULL, sql, n_params, types, values, lengths, formats,
                        result_format);
  pending_t p;
  start(c, &p, sql, NULL);
  return sync_done(c, &p, PQexecParams(c->conn, sql, n_params, types, values, lengths, formats,
                                       result_format));
}

PGresult *pmx_pq_prepare(pmx_pq_t *c, const char *name, const char *sql, int n_params,
                         const Oid *types) {
  if (c == NULL || !measuring(c)) return PQprepare(c ? c->conn : NULL, name, sql, n_params, types);
  pending_t p;
  start(c, &p, sql, NULL);
  p.is_prepare = true;
  PGresult *r = sync_done(c, &p, PQprepare(c->conn, name, sql, n_params, types));
  if (!p.error) remember_prepared(c, name, sql);
  return r;
}

PGresult *pmx_pq_exec_prepared(pmx_pq_t *c, const char *name, int n_params,
                               const char *const *values, const int *lengths, const int *formats,
                               int result_format) {
  if (c == NULL || !measuring(c))
    return PQexecPrepared(c ? c->conn : NULL, name, n_params, values, lengths, formats,
                          result_format);
  const prepared_t *pr = find_prepared(c, name);
  pending_t p;
  start(c, &p, NULL, pr != NULL ? &pr->cls : NULL);
  return sync_done(c, &p, PQexecPrepared(c->conn, name, n_params, values, lengths, formats,
                                         result_format));
}

/* Async: a send that the server accepted starts the pending measurement. */
static int sent(pmx_pq_t *c, int ok, const char *sql, const pmx_db_class_t *cls,
                const char *prepare_name) {
  if (!ok) return ok;
  start(c, &c->pend, sql, cls);
  if (prepare_name != NULL) {
    c->pend.is_prepare = true;
    c->pend.prepare_name = strdup(prepare_name);
    remember_prepared(c, prepare_name, sql);
  }
  return ok;
}

int pmx_pq_send_query(pmx_pq_t *c, const char *sql) {
  if (c == NULL || !measuring(c)) return PQsendQuery(c ? c->conn : NULL, sql);
  return sent(c, PQsendQuery(c->conn, sql), sql, NULL, NULL);
}

int pmx_pq_send_query_params(pmx_pq_t *c, const char *sql, int n_params, const Oid *types,
                             const char *const *values, const int *lengths, const int *formats,
                             int result_format) {
  if (c == NULL || !measuring(c))
    return PQsendQueryParams(c ? c->conn : NULL, sql, n_params, types, values, lengths, formats,
                             result_format);
  return sent(c, PQsendQueryParams(c->conn, sql, n_params, types, values, lengths, formats,
                                   result_format), sql, NULL, NULL);
}

int pmx_pq_send_prepare(pmx_pq_t *c, const char *name, const char *sql, int n_params,
                        const Oid *types) {
  if (c == NULL || !measuring(c))
    return PQsendPrepare(c ? c->conn : NULL, name, sql, n_params, types);
  return sent(c, PQsendPrepare(c->conn, name, sql, n_params, types), sql, NULL,
              name != NULL ? name : "");
}

int pmx_pq_send_query_prepared(pmx_pq_t *c, const char *name, int n_params,
                               const char *const *values, const int *lengths, const int *formats,
                               int result_format) {
  if (c == NULL || !measuring(c))
    return PQsendQueryPrepared(c ? c->conn : NULL, name, n_params, values, lengths, formats,
                               result_format);
  const prepared_t *pr = find_prepared(c, name);
  pmx_db_class_t cls;
  if (pr != NULL) cls = pr->cls;
  return sent(c, PQsendQueryPrepared(c->conn, name, n_params, values, lengths, formats,
                                     result_format), NULL, pr != NULL ? &cls : NULL, NULL);
}

PGresult *pmx_pq_get_result(pmx_pq_t *c) {
  if (c == NULL) return PQgetResult(NULL);
  PGresult *r = PQgetResult(c->conn);
  if (!c->pend.active) return r;
  if (r != NULL) {
    fold_result(&c->pend, r);
    return r;
  }
  /* NULL: the query is complete */
  if (c->pend.is_prepare && c->pend.error && c->pend.prepare_name != NULL)
    drop_prepared(c, c->pend.prepare_name);
  if (c->repo != NULL) finish(c, &c->pend);
  end_pending(c);
  return NULL;
}
