/* MariaDB/MySQL adapter of the db plugin (include/promex/db_mariadb.h): Connector/C wrappers
 * that time each statement and report one db.query event.
 *
 * A statement with a result set is reported when its result is stored, so the measurement in
 * flight is kept: one for the text protocol (per connection), one per prepared statement (in a
 * small table keyed by MYSQL_STMT pointer, which also holds the statement's classification). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promex/db_mariadb.h"

typedef struct meas {
  bool active;
  int64_t t0, queue_ns, idle_ns;
  pmx_db_class_t cls;
} meas_t;

typedef struct stmt_entry {
  MYSQL_STMT *st;
  pmx_db_class_t cls;
  meas_t pend;
} stmt_entry_t;

struct pmx_mysql {
  MYSQL *m;
  pmx_db_repo_t *repo;
  bool own_repo;
  int64_t next_queue_ns, next_idle_ns;
  meas_t text; /* text query awaiting its stored result */
  stmt_entry_t *stmts;
  size_t n_stmts, cap_stmts;
};

static int attach(pmx_db_repo_t *repo, bool own, MYSQL *m, pmx_mysql_t **out) {
  pmx_mysql_t *c = calloc(1, sizeof *c);
  if (c == NULL) return PMX_ENOMEM;
  c->m = m;
  c->repo = repo;
  c->own_repo = own;
  c->next_queue_ns = c->next_idle_ns = -1;
  *out = c;
  return PMX_OK;
}

int pmx_mysql_attach_repo(pmx_db_repo_t *repo, MYSQL *m, pmx_mysql_t **out) {
  if (out != NULL) *out = NULL;
  if (repo == NULL || m == NULL || out == NULL) return PMX_EINVAL;
  return attach(repo, false, m, out);
}

int pmx_mysql_attach(pmx_bus_t *bus, const char *repo_name, MYSQL *m, pmx_mysql_t **out) {
  if (out != NULL) *out = NULL;
  if (bus == NULL || repo_name == NULL || m == NULL || out == NULL) return PMX_EINVAL;
  const char *host = NULL, *schema = NULL;
  mariadb_get_infov(m, MARIADB_CONNECTION_HOST, &host);
  mariadb_get_infov(m, MARIADB_CONNECTION_SCHEMA, &schema);
  pmx_db_repo_info_t info = {schema, host, 1, 0};
  pmx_db_repo_t *repo = NULL;
  int rc = pmx_db_repo_new(bus, repo_name, &info, &repo);
  if (rc != PMX_OK) return rc;
  rc = attach(repo, true, m, out);
  if (rc != PMX_OK) pmx_db_repo_free(repo);
  return rc;
}

pmx_db_repo_t *pmx_mysql_repo(pmx_mysql_t *c) { return c != NULL ? c->repo : NULL; }

void pmx_mysql_checkout(pmx_mysql_t *c, int64_t queue_ns, int64_t idle_ns) {
  if (c == NULL) return;
  c->next_queue_ns = queue_ns;
  c->next_idle_ns = idle_ns;
}

static void begin(pmx_mysql_t *c, meas_t *me, const pmx_db_class_t *cls) {
  me->active = true;
  me->queue_ns = c->next_queue_ns;
  me->idle_ns = c->next_idle_ns;
  c->next_queue_ns = c->next_idle_ns = -1;
  me->cls = *cls;
  me->t0 = pmx_monotonic_ns();
}

/* Reports a measurement: rows < 0 absent; sqlstate NULL for success. */
static void report(pmx_mysql_t *c, meas_t *me, int64_t rows, const char *sqlstate) {
  if (!me->active) return;
  pmx_db_query_t q = PMX_DB_QUERY_INIT;
  q.command = me->cls.command;
  q.source = me->cls.source;
  q.query_ns = pmx_monotonic_ns() - me->t0;
  q.queue_ns = me->queue_ns;
  q.idle_ns = me->idle_ns;
  q.rows = rows;
  if (sqlstate != NULL) {
    q.error = true;
    /* "00000" or "HY000" with no server error code: the connection, not the statement */
    q.error_class = sqlstate[0] != '\0' && strcmp(sqlstate, "00000") != 0 ? sqlstate
                                                                          : "connection";
  }
  pmx_db_repo_query(c->repo, &q);
  me->active = false;
}

static int64_t affected(my_ulonglong n) {
  return n == (my_ulonglong)~0ULL ? -1 : (int64_t)n;
}

int pmx_mysql_real_query(pmx_mysql_t *c, const char *sql, unsigned long len) {
  if (c == NULL) return 1;
  report(c, &c->text, -1, NULL); /* a result the program never stored */
  pmx_db_class_t cls;
  pmx_db_classify(sql, sql != NULL ? len : 0, &cls);
  begin(c, &c->text, &cls);
  int rc = mysql_real_query(c->m, sql, len);
  if (rc != 0) report(c, &c->text, -1, mysql_sqlstate(c->m));
  else if (mysql_field_count(c->m) == 0)
    report(c, &c->text, affected(mysql_affected_rows(c->m)), NULL);
  return rc;
}

MYSQL_RES *pmx_mysql_store_result(pmx_mysql_t *c) {
  if (c == NULL) return NULL;
  MYSQL_RES *res = mysql_store_result(c->m);
  if (res != NULL) report(c, &c->text, (int64_t)mysql_num_rows(res), NULL);
  else if (mysql_errno(c->m) != 0) report(c, &c->text, -1, mysql_sqlstate(c->m));
  return res;
}

static stmt_entry_t *find_stmt(pmx_mysql_t *c, MYSQL_STMT *st) {
  for (size_t i = 0; i < c->n_stmts; i++)
    if (c->stmts[i].st == st) return &c->stmts[i];
  return NULL;
}

int pmx_mysql_stmt_prepare(pmx_mysql_t *c, MYSQL_STMT *st, const char *sql, unsigned long len) {
  if (c == NULL) return 1;
  pmx_db_class_t cls;
  pmx_db_classify(sql, sql != NULL ? len : 0, &cls);
  meas_t me = {0};
  begin(c, &me, &cls);
  int rc = mysql_stmt_prepare(st, sql, len);
  if (rc != 0) {
    report(c, &me, -1, mysql_stmt_sqlstate(st));
    return rc;
  }
  stmt_entry_t *e = find_stmt(c, st);
  if (e == NULL) {
    if (c->n_stmts == c->cap_stmts) {
      size_t cap = c->cap_stmts ? 2 * c->cap_stmts : 8;
      stmt_entry_t *ns = realloc(c->stmts, cap * sizeof *ns);
      if (ns == NULL) return rc; /* executions then report command/source unavailable */
      c->stmts = ns;
      c->cap_stmts = cap;
    }
    e = &c->stmts[c->n_stmts++];
  }
  memset(e, 0, sizeof *e);
  e->st = st;
  e->cls = cls;
  return rc;
}

int pmx_mysql_stmt_execute(pmx_mysql_t *c, MYSQL_STMT *st) {
  if (c == NULL) return mysql_stmt_execute(st);
  stmt_entry_t *e = find_stmt(c, st);
  meas_t tmp = {0};
  meas_t *me = e != NULL ? &e->pend : &tmp;
  report(c, me, -1, NULL); /* the previous execution's result was never stored */
  pmx_db_class_t cls;
  if (e != NULL) cls = e->cls;
  else pmx_db_classify(NULL, 0, &cls);
  begin(c, me, &cls);
  int rc = mysql_stmt_execute(st);
  if (rc != 0) report(c, me, -1, mysql_stmt_sqlstate(st));
  else if (mysql_stmt_field_count(st) == 0)
    report(c, me, affected(mysql_stmt_affected_rows(st)), NULL);
  else if (e == NULL) report(c, me, -1, NULL); /* nowhere to keep it: report now */
  return rc;
}

int pmx_mysql_stmt_store_result(pmx_mysql_t *c, MYSQL_STMT *st) {
  if (c == NULL) return mysql_stmt_store_result(st);
  int rc = mysql_stmt_store_result(st);
  stmt_entry_t *e = find_stmt(c, st);
  if (e != NULL) {
    if (rc != 0) report(c, &e->pend, -1, mysql_stmt_sqlstate(st));
    else report(c, &e->pend, (int64_t)mysql_stmt_num_rows(st), NULL);
  }
  return rc;
}

my_bool pmx_mysql_stmt_close(pmx_mysql_t *c, MYSQL_STMT *st) {
  if (c != NULL) {
    stmt_entry_t *e = find_stmt(c, st);
    if (e != NULL) {
      report(c, &e->pend, -1, NULL);
      *e = c->stmts[--c->n_stmts];
    }
  }
  return mysql_stmt_close(st);
}

void pmx_mysql_detach(pmx_mysql_t *c) {
  if (c == NULL) return;
  report(c, &c->text, -1, NULL);
  for (size_t i = 0; i < c->n_stmts; i++) report(c, &c->stmts[i].pend, -1, NULL);
  free(c->stmts);
  if (c->own_repo) pmx_db_repo_free(c->repo);
  free(c);
}
