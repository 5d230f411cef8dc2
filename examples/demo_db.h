/* The demo's database workload: a two-connection SQLite "pool" running a small mix
 * of statements through the promex SQLite adapter, so the db dashboard shows data without a
 * database server. */
#ifndef PMX_DEMO_DB_H
#define PMX_DEMO_DB_H

#include "promex/promex.h"

typedef struct demo_db demo_db_t;

/* Starts the workload thread on p's bus (after pmx_start). NULL on failure (logged). */
demo_db_t *demo_db_start(pmx_t *p);
/* Stops and joins the thread, closes the connections. NULL is a no-op. */
void demo_db_stop(demo_db_t *d);

#endif
