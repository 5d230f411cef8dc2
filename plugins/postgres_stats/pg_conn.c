/* Deadline-bounded libpq connect and query; see pg_conn.h. */
#include "pg_conn.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

/* One line: libpq messages end with a newline and may hold several lines (DETAIL, HINT). */
static void set_err(pmx__pg_t *pg, pmx__ss_reason_t reason, const char *what, const char *msg) {
  pg->reason = reason;
  snprintf(pg->err, sizeof pg->err, "%s: %s", what, msg != NULL && *msg ? msg : "failed");
  for (char *p = pg->err; *p; p++)
    if (*p == '\n' || *p == '\r') *p = (p[1] == '\0') ? '\0' : ' ';
  size_t n = strlen(pg->err);
  while (n > 0 && pg->err[n - 1] == ' ') pg->err[--n] = '\0';
}

void pmx__pg_close(pmx__pg_t *pg) {
  if (pg->conn != NULL) PQfinish(pg->conn);
  pg->conn = NULL;
}

/* Waits for the socket; returns 1 ready, 0 timed out, -1 error. */
static int wait_fd(PGconn *conn, bool for_write, uint64_t deadline_ms) {
  int fd = PQsocket(conn);
  if (fd < 0) return -1;
  for (;;) {
    uint64_t now = pmx__ss_now_ms();
    if (now >= deadline_ms) return 0;
    struct pollfd p = {.fd = fd, .events = for_write ? POLLOUT : POLLIN};
    int r = poll(&p, 1, (int)(deadline_ms - now));
    if (r > 0) return 1;
    if (r == 0) return 0;
    if (errno != EINTR) return -1;
  }
}

static pmx__ss_reason_t connect_reason(const char *msg) {
  if (msg == NULL) return PMX__SS_CONNECT;
  if (strstr(msg, "password authentication failed") != NULL ||
      strstr(msg, "no password supplied") != NULL ||
      strstr(msg, "authentication failed") != NULL || strstr(msg, "no pg_hba.conf entry") != NULL)
    return PMX__SS_AUTH;
  if (strstr(msg, "timeout expired") != NULL) return PMX__SS_TIMEOUT;
  return PMX__SS_CONNECT;
}

int pmx__pg_connect(pmx__pg_t *pg, const char *const *keys, const char *const *vals) {
  pmx__pg_close(pg);
  uint64_t deadline = pmx__ss_now_ms() + pg->timeout_ms;
  PGconn *conn = PQconnectStartParams(keys, vals, 1);
  if (conn == NULL) {
    set_err(pg, PMX__SS_CONNECT, "connect", "out of memory");
    return -1;
  }
  if (PQstatus(conn) == CONNECTION_BAD) {
    set_err(pg, connect_reason(PQerrorMessage(conn)), "connect", PQerrorMessage(conn));
    PQfinish(conn);
    return -1;
  }
  PostgresPollingStatusType st = PGRES_POLLING_WRITING;
  for (;;) {
    if (st == PGRES_POLLING_OK) break;
    if (st == PGRES_POLLING_FAILED) {
      set_err(pg, connect_reason(PQerrorMessage(conn)), "connect", PQerrorMessage(conn));
      PQfinish(conn);
      return -1;
    }
    int w = wait_fd(conn, st == PGRES_POLLING_WRITING, deadline);
    if (w <= 0) {
      char msg[96];
      snprintf(msg, sizeof msg, "no answer within %u ms", (unsigned)pg->timeout_ms);
      set_err(pg, w == 0 ? PMX__SS_TIMEOUT : PMX__SS_CONNECT, "connect", w == 0 ? msg : strerror(errno));
      PQfinish(conn);
      return -1;
    }
    st = PQconnectPoll(conn);
  }
  if (PQsetnonblocking(conn, 1) != 0) {
    set_err(pg, PMX__SS_CONNECT, "connect", PQerrorMessage(conn));
    PQfinish(conn);
    return -1;
  }
  pg->conn = conn;
  return 0;
}

PGresult *pmx__pg_query(pmx__pg_t *pg, const char *sql) {
  if (pg->conn == NULL) {
    set_err(pg, PMX__SS_CONNECT, "query", "not connected");
    return NULL;
  }
  uint64_t deadline = pmx__ss_now_ms() + pg->timeout_ms;
  char msg[96];
  snprintf(msg, sizeof msg, "no answer within %u ms", (unsigned)pg->timeout_ms);
  if (PQsendQuery(pg->conn, sql) != 1) {
    set_err(pg, PMX__SS_CONNECT, "query", PQerrorMessage(pg->conn));
    pmx__pg_close(pg);
    return NULL;
  }
  int f;
  while ((f = PQflush(pg->conn)) == 1) {
    int w = wait_fd(pg->conn, true, deadline);
    if (w <= 0) {
      set_err(pg, w == 0 ? PMX__SS_TIMEOUT : PMX__SS_CONNECT, "query", w == 0 ? msg : strerror(errno));
      pmx__pg_close(pg);
      return NULL;
    }
  }
  if (f < 0) {
    set_err(pg, PMX__SS_CONNECT, "query", PQerrorMessage(pg->conn));
    pmx__pg_close(pg);
    return NULL;
  }
  PGresult *first = NULL;
  for (;;) {
    while (PQisBusy(pg->conn)) {
      int w = wait_fd(pg->conn, false, deadline);
      if (w <= 0 || PQconsumeInput(pg->conn) != 1) {
        set_err(pg, w == 0 ? PMX__SS_TIMEOUT : PMX__SS_CONNECT, "query",
                w == 0 ? msg : PQerrorMessage(pg->conn));
        PQclear(first);
        pmx__pg_close(pg);
        return NULL;
      }
    }
    PGresult *r = PQgetResult(pg->conn);
    if (r == NULL) break;
    if (first == NULL) first = r;
    else PQclear(r);
  }
  if (first == NULL) {
    set_err(pg, PMX__SS_CONNECT, "query", PQerrorMessage(pg->conn));
    pmx__pg_close(pg);
    return NULL;
  }
  if (PQresultStatus(first) != PGRES_TUPLES_OK) {
    const char *state = PQresultErrorField(first, PG_DIAG_SQLSTATE);
    pmx__ss_reason_t reason = PMX__SS_QUERY;
    if (state != NULL && strcmp(state, "57014") == 0) reason = PMX__SS_TIMEOUT; /* statement_timeout */
    set_err(pg, reason, "query", PQresultErrorMessage(first));
    PQclear(first);
    if (PQstatus(pg->conn) == CONNECTION_BAD) {
      pg->reason = PMX__SS_CONNECT;
      pmx__pg_close(pg);
    }
    return NULL;
  }
  return first;
}

static const char *res_name(const void *src, size_t col) {
  return PQfname((const PGresult *)src, (int)col);
}

static const char *res_cell(const void *src, size_t row, size_t col) {
  const PGresult *r = src;
  if (PQgetisnull(r, (int)row, (int)col)) return NULL;
  return PQgetvalue(r, (int)row, (int)col);
}

pmx__ss_table_t pmx__pg_table(const PGresult *res) {
  return (pmx__ss_table_t){.nrows = (size_t)PQntuples(res), .ncols = (size_t)PQnfields(res),
                           .name = res_name, .cell = res_cell, .src = res};
}
