/* Private to the db plugin: what the plugin glue (db_plugin.c) needs from the repo list
 * (db_repo.c). */
#ifndef PMX_DB_INTERNAL_H
#define PMX_DB_INTERNAL_H

#include "promex/event.h"

/* Emits db.repo.init for every live repo handle created on `bus`. */
void pmx__db_announce_all(pmx_bus_t *bus);

#endif
