/* The PostgreSQL job queue (include/promex/jobs_pg.h). Statements are built once per handle
 * with the validated table name and sent with PQexecParams, so job data never reaches the SQL
 * text. */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "promex/jobs_pg.h"

struct pmx_jobs_pg {
  pthread_mutex_t mu;
  PGconn *conn;
  char table[64];
  char sql_insert[256], sql_claim[640], sql_done[256], sql_failed[320], sql_lengths[160],
      sql_active_lengths[256];
  bool count_finished; /* also count completed and discarded rows (O(table)) */
};

static bool valid_table(const char *t) {
  size_t n = strlen(t);
  if (n == 0 || n > 63 || !(islower((unsigned char)t[0]) || t[0] == '_')) return false;
  for (size_t i = 0; i < n; i++)
    if (!(islower((unsigned char)t[i]) || isdigit((unsigned char)t[i]) || t[i] == '_'))
      return false;
  return true;
}

int pmx_jobs_pg_open(const char *conninfo, const char *table, pmx_jobs_pg_t **out, char *why,
                     size_t why_cap) {
  if (out != NULL) *out = NULL;
  if (why != NULL && why_cap > 0) why[0] = '\0';
  if (conninfo == NULL || out == NULL) return PMX_EINVAL;
  if (table == NULL) table = "promex_jobs";
  if (!valid_table(table)) {
    if (why != NULL) snprintf(why, why_cap, "table name \"%s\" is not [a-z_][a-z0-9_]{0,62}", table);
    return PMX_EINVAL;
  }
  pmx_jobs_pg_t *q = calloc(1, sizeof *q);
  if (q == NULL) return PMX_ENOMEM;
  q->conn = PQconnectdb(conninfo);
  if (q->conn == NULL || PQstatus(q->conn) != CONNECTION_OK) {
    if (why != NULL)
      snprintf(why, why_cap, "%s", q->conn ? PQerrorMessage(q->conn) : "out of memory");
    PQfinish(q->conn);
    free(q);
    return PMX_EIO;
  }
  snprintf(q->table, sizeof q->table, "%s", table);
  snprintf(q->sql_insert, sizeof q->sql_insert,
           "INSERT INTO %s (queue, worker, args, max_attempts) VALUES ($1, $2, $3, $4)", table);
  /* Claim: the oldest runnable job of the queue, skipping rows other workers hold. Returns the
   * queue time in ns (scheduled -> now). */
  snprintf(q->sql_claim, sizeof q->sql_claim,
           "UPDATE %s SET state = 'executing', attempt = attempt + 1, attempted_at = now() "
           "WHERE id = (SELECT id FROM %s WHERE queue = $1 AND state IN ('available', "
           "'retryable') ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1) "
           "RETURNING id, worker, args, attempt, max_attempts, "
           "(extract(epoch FROM now() - scheduled_at) * 1e9)::bigint",
           table, table);
  snprintf(q->sql_done, sizeof q->sql_done,
           "UPDATE %s SET state = 'completed', completed_at = now() WHERE id = $1", table);
  snprintf(q->sql_failed, sizeof q->sql_failed,
           "UPDATE %s SET state = CASE WHEN attempt >= max_attempts THEN 'discarded' ELSE "
           "'retryable' END, scheduled_at = now() WHERE id = $1",
           table);
  snprintf(q->sql_lengths, sizeof q->sql_lengths,
           "SELECT queue, state, count(*) FROM %s GROUP BY queue, state", table);
  /* Finished rows pile up until pruned (95% of a busy table): leaving them out lets the
   * (state, queue) index visit only the live states' ranges (state leads, so state IN (...) is an
   * index condition, not a filter over the whole index). */
  snprintf(q->sql_active_lengths, sizeof q->sql_active_lengths,
           "SELECT queue, state, count(*) FROM %s WHERE state IN ('available', 'executing', "
           "'retryable') GROUP BY queue, state",
           table);
  pthread_mutex_init(&q->mu, NULL);
  *out = q;
  return PMX_OK;
}

static int exec_ok(pmx_jobs_pg_t *q, const char *sql, int n, const char *const *params) {
  PGresult *r = PQexecParams(q->conn, sql, n, NULL, params, NULL, NULL, 0);
  int st = PQresultStatus(r);
  PQclear(r);
  return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? PMX_OK : PMX_EIO;
}

int pmx_jobs_pg_create_schema(pmx_jobs_pg_t *q) {
  if (q == NULL) return PMX_EINVAL;
  char sql[1024];
  snprintf(sql, sizeof sql,
           "CREATE TABLE IF NOT EXISTS %s (id bigserial PRIMARY KEY, queue text NOT NULL, "
           "state text NOT NULL DEFAULT 'available', worker text NOT NULL, args text, "
           "attempt int NOT NULL DEFAULT 0, max_attempts int NOT NULL DEFAULT 1, "
           "inserted_at timestamptz NOT NULL DEFAULT now(), "
           "scheduled_at timestamptz NOT NULL DEFAULT now(), attempted_at timestamptz, "
           "completed_at timestamptz); "
           "CREATE INDEX IF NOT EXISTS %s_state_queue ON %s (state, queue)",
           q->table, q->table, q->table);
  pthread_mutex_lock(&q->mu);
  PGresult *r = PQexec(q->conn, sql);
  int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? PMX_OK : PMX_EIO;
  PQclear(r);
  pthread_mutex_unlock(&q->mu);
  return rc;
}

int pmx_jobs_pg_enqueue(pmx_jobs_pg_t *q, const char *queue, const char *worker,
                        const char *args, int max_attempts) {
  if (q == NULL || queue == NULL || worker == NULL || queue[0] == '\0' || worker[0] == '\0' ||
      max_attempts < 1)
    return PMX_EINVAL;
  char attempts[16];
  snprintf(attempts, sizeof attempts, "%d", max_attempts);
  const char *params[] = {queue, worker, args, attempts};
  pthread_mutex_lock(&q->mu);
  int rc = exec_ok(q, q->sql_insert, 4, params);
  pthread_mutex_unlock(&q->mu);
  return rc;
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int pmx_jobs_pg_run_one(pmx_jobs_pg_t *q, const pmx_jobs_events_t *ev, const char *queue,
                        pmx_jobs_pg_handler fn, void *ctx) {
  if (q == NULL || queue == NULL || fn == NULL) return PMX_EINVAL;
  const char *params[] = {queue};
  uint64_t t0 = now_ns();
  pthread_mutex_lock(&q->mu);
  PGresult *r = PQexecParams(q->conn, q->sql_claim, 1, NULL, params, NULL, NULL, 0);
  pthread_mutex_unlock(&q->mu);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    PQclear(r);
    if (ev != NULL) pmx_jobs_emit_producer(ev, queue, now_ns() - t0, 0, 1);
    return PMX_EIO;
  }
  int n = PQntuples(r);
  if (ev != NULL) pmx_jobs_emit_producer(ev, queue, now_ns() - t0, n, 0);
  if (n == 0) {
    PQclear(r);
    return 0;
  }
  char id[32];
  snprintf(id, sizeof id, "%s", PQgetvalue(r, 0, 0));
  const char *worker = PQgetvalue(r, 0, 1);
  const char *args = PQgetisnull(r, 0, 2) ? NULL : PQgetvalue(r, 0, 2);
  long attempt = strtol(PQgetvalue(r, 0, 3), NULL, 10);
  long max_attempts = strtol(PQgetvalue(r, 0, 4), NULL, 10);
  long long waited = strtoll(PQgetvalue(r, 0, 5), NULL, 10);
  pmx_job_info_t info = {queue, worker, attempt, NULL};
  if (ev != NULL) pmx_jobs_emit_start(ev, &info);
  uint64_t start = now_ns();
  int failed = fn(worker, args, ctx);
  uint64_t took = now_ns() - start;
  const char *idp[] = {id};
  pthread_mutex_lock(&q->mu);
  int rc = exec_ok(q, failed ? q->sql_failed : q->sql_done, 1, idp);
  pthread_mutex_unlock(&q->mu);
  if (ev != NULL) {
    uint64_t qt = waited > 0 ? (uint64_t)waited : 0;
    if (!failed) {
      info.state = "success";
      pmx_jobs_emit_stop(ev, &info, took, qt);
    } else {
      info.state = attempt >= max_attempts ? "discard" : "failure";
      pmx_jobs_emit_exception(ev, &info, took, qt, "error", "job_failed");
    }
  }
  PQclear(r);
  return rc == PMX_OK ? 1 : rc;
}

int pmx_jobs_pg_queue_lengths(pmx_jobs_lengths_t *out, void *ctx) {
  pmx_jobs_pg_t *q = ctx;
  if (q == NULL || out == NULL) return PMX_EINVAL;
  pthread_mutex_lock(&q->mu);
  PGresult *r = PQexec(q->conn, q->count_finished ? q->sql_lengths : q->sql_active_lengths);
  pthread_mutex_unlock(&q->mu);
  int rc = PQresultStatus(r) == PGRES_TUPLES_OK ? PMX_OK : PMX_EIO;
  for (int i = 0; rc == PMX_OK && i < PQntuples(r); i++)
    rc = pmx_jobs_lengths_set(out, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
                              strtod(PQgetvalue(r, i, 2), NULL));
  PQclear(r);
  return rc;
}

void pmx_jobs_pg_count_finished(pmx_jobs_pg_t *q, bool on) {
  if (q == NULL) return;
  pthread_mutex_lock(&q->mu);
  q->count_finished = on;
  pthread_mutex_unlock(&q->mu);
}

void pmx_jobs_pg_close(pmx_jobs_pg_t *q) {
  if (q == NULL) return;
  PQfinish(q->conn);
  pthread_mutex_destroy(&q->mu);
  free(q);
}
