/* Private to mysql_stats: reading the server's answers, apart from the connection, so the
 * mapping is unit-tested over captured output (tests/unit/mysql_stats, fixtures in
 * tests/data/mysql_stats) without a server.
 *
 *   - SHOW GLOBAL STATUS / VARIABLES rows as one name -> value list (variables carry a "v:"
 *     prefix), looked up case-insensitively by the statistics table;
 *   - SHOW SLAVE STATUS (MariaDB, MySQL < 8.0.22) or SHOW REPLICA STATUS (MySQL 8.0.22+) rows,
 *     whatever the version names the columns.
 *
 * Strings are borrowed: they must outlive the list (the plugin keeps its MYSQL_RES until the
 * next poll). Nothing here allocates. */
#ifndef PMX_MYSQL_ROWS_H
#define PMX_MYSQL_ROWS_H

#include <stdbool.h>
#include <stddef.h>

#include "stats_common.h"

#define PMX__MY_MAX_VARS 2048 /* rows kept; SHOW GLOBAL STATUS has ~560 on MariaDB 10.11 */
#define PMX__MY_MAX_PREFIXED 8 /* prefixed (variable) rows kept: the plugin asks for 4 */

typedef struct pmx__my_pairs {
  const char *names[PMX__MY_MAX_VARS], *values[PMX__MY_MAX_VARS];
  size_t n, n_prefixed;
  char vnames[PMX__MY_MAX_PREFIXED][96];
} pmx__my_pairs_t;

/* Appends one row (`prefix` "" for status rows, "v:" for variables). Rows with a NULL cell, and
 * rows past the caps (or a prefixed name that does not fit) are dropped: returns false then. */
bool pmx__my_pairs_add(pmx__my_pairs_t *p, const char *name, const char *value, const char *prefix);

/* A pmx__ss_lookup_fn over a pmx__my_pairs_t: false when absent or not a number. */
bool pmx__my_pairs_lookup(void *pairs, const char *source, double *v);

/* The raw value of `name` (exact case), or NULL. */
const char *pmx__my_pairs_get(const pmx__my_pairs_t *p, const char *name);

/* Next row among the first `n` whose name starts with `prefix` (case-insensitive) and goes on,
 * with a numeric value, from index *i on; returns false at the end. *suffix is the rest of the
 * name (Com_insert -> "insert"). */
bool pmx__my_prefixed_next(const pmx__my_pairs_t *p, size_t n, const char *prefix, size_t *i,
                           const char **suffix, double *v);

/* One row of SHOW SLAVE / REPLICA STATUS. */
typedef struct pmx__my_replica {
  bool running;        /* both the I/O and the SQL threads run */
  bool has_lag;        /* Seconds_Behind_Master / _Source was a number (NULL when stopped) */
  double lag_seconds;
  const char *connection; /* MariaDB Connection_name / MySQL Channel_Name; "" when absent */
} pmx__my_replica_t;

/* Reads row `row`. Returns false when the result has neither naming of the thread columns
 * (not a replica status answer). */
bool pmx__my_replica_row(const pmx__ss_table_t *t, size_t row, pmx__my_replica_t *out);

#endif
