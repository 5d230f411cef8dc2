/* A consumer of one installed db adapter (check_adapter_install.sh): compiled with
 * -DADAPTER_<name> against the installed headers and libraries only. The SQLite one runs a query
 * through the adapter and checks the event reached the repo; the others only link. */
#include <stdio.h>

#include <promex/promex.h>
#if defined(ADAPTER_sqlite)
#include <promex/db_sqlite.h>
#elif defined(ADAPTER_pq)
#include <promex/db_pq.h>
#else
#include <promex/db_mariadb.h>
#endif

static int queries;
static void on_query(const pmx_event_data_t *ev, void *cfg) {
  (void)ev;
  (void)cfg;
  queries++;
}

int main(void) {
  pmx_bus_t *bus = NULL;
  if (pmx_bus_new(&bus) != PMX_OK) return 1;
  pmx_bus_attach(bus, "count", PMX_DB_EV_QUERY, on_query, NULL);
  int rc = 0;
#if defined(ADAPTER_sqlite)
  sqlite3 *db = NULL;
  pmx_sqlite_t *c = NULL;
  sqlite3_open(":memory:", &db);
  rc |= pmx_sqlite_attach(bus, "consumer", db, &c);
  rc |= pmx_sqlite_exec(c, "SELECT 1; SELECT 2", NULL, NULL, NULL);
  pmx_sqlite_detach(c);
  sqlite3_close(db);
  if (queries != 2) rc = 1;
#elif defined(ADAPTER_pq)
  pmx_pq_t *c = NULL;
  rc = pmx_pq_attach(bus, "consumer", NULL, &c) == PMX_EINVAL ? 0 : 1;
#else
  pmx_mysql_t *c = NULL;
  rc = pmx_mysql_attach(bus, "consumer", NULL, &c) == PMX_EINVAL ? 0 : 1;
#endif
  pmx_bus_destroy(bus);
  if (rc != 0) fprintf(stderr, "adapter consumer failed\n");
  return rc;
}
