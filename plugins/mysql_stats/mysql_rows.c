/* Reading mysql_stats' statement answers; see mysql_rows.h. */
#include "mysql_rows.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

bool pmx__my_pairs_add(pmx__my_pairs_t *p, const char *name, const char *value, const char *prefix) {
  if (name == NULL || value == NULL || p->n >= PMX__MY_MAX_VARS) return false;
  if (prefix[0] != '\0') {
    if (p->n_prefixed >= PMX__MY_MAX_PREFIXED) return false;
    char *dst = p->vnames[p->n_prefixed];
    int len = snprintf(dst, sizeof p->vnames[0], "%s%s", prefix, name);
    if (len < 0 || (size_t)len >= sizeof p->vnames[0]) return false;
    p->n_prefixed++;
    name = dst;
  }
  p->names[p->n] = name;
  p->values[p->n] = value;
  p->n++;
  return true;
}

bool pmx__my_pairs_lookup(void *pairs, const char *source, double *v) {
  const pmx__my_pairs_t *p = pairs;
  for (size_t i = 0; i < p->n; i++)
    if (strcasecmp(p->names[i], source) == 0) return pmx__ss_number(p->values[i], v);
  return false;
}

const char *pmx__my_pairs_get(const pmx__my_pairs_t *p, const char *name) {
  for (size_t i = 0; i < p->n; i++)
    if (strcmp(p->names[i], name) == 0) return p->values[i];
  return NULL;
}

bool pmx__my_prefixed_next(const pmx__my_pairs_t *p, size_t n, const char *prefix, size_t *i,
                           const char **suffix, double *v) {
  size_t pl = strlen(prefix);
  for (; *i < n && *i < p->n; (*i)++) {
    const char *name = p->names[*i];
    if (strncasecmp(name, prefix, pl) != 0 || name[pl] == '\0') continue;
    if (!pmx__ss_number(p->values[*i], v)) continue;
    *suffix = name + pl;
    (*i)++;
    return true;
  }
  return false;
}

/* The cell of the first of the column names the result has, or NULL. */
static const char *cell_of(const pmx__ss_table_t *t, size_t row, const char *a, const char *b,
                           bool *has_col) {
  int c = pmx__ss_col(t, a);
  if (c < 0) c = pmx__ss_col(t, b);
  if (has_col != NULL) *has_col = c >= 0;
  return c >= 0 ? t->cell(t->src, row, (size_t)c) : NULL;
}

bool pmx__my_replica_row(const pmx__ss_table_t *t, size_t row, pmx__my_replica_t *out) {
  bool has_io, has_sql;
  if (row >= t->nrows) return false;
  /* MySQL 8.0.22 renamed the columns (Replica_*, *_Source) in SHOW REPLICA STATUS. */
  const char *io = cell_of(t, row, "Slave_IO_Running", "Replica_IO_Running", &has_io);
  const char *sql = cell_of(t, row, "Slave_SQL_Running", "Replica_SQL_Running", &has_sql);
  if (!has_io || !has_sql) return false;
  const char *lag = cell_of(t, row, "Seconds_Behind_Master", "Seconds_Behind_Source", NULL);
  const char *conn = cell_of(t, row, "Connection_name", "Channel_Name", NULL);
  out->running = io != NULL && sql != NULL && strcmp(io, "Yes") == 0 && strcmp(sql, "Yes") == 0;
  out->has_lag = lag != NULL && pmx__ss_number(lag, &out->lag_seconds) && out->lag_seconds >= 0;
  if (!out->has_lag) out->lag_seconds = 0;
  out->connection = conn != NULL ? conn : "";
  return true;
}
