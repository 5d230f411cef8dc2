/* The table of first-party plugins this library is built with (pmx_first_party_plugins and
 * pmx_first_party_plugin, declared in promex.h). Later plugins are appended here; the order is
 * the order `promex gen config` lists them in. */
#include <string.h>

#include "promex/plugins/amqp.h"
#include "promex/plugins/application.h"
#include "promex/plugins/db.h"
#include "promex/plugins/http_client.h"
#include "promex/plugins/http_server.h"
#include "promex/plugins/jobs.h"
#include "promex/plugins/memcached.h"
#include "promex/plugins/os.h"
#include "promex/plugins/process.h"
#include "promex/plugins/redis.h"
#include "promex/promex.h"

static const pmx_plugin_t *const k_plugins[] = {&pmx_plugin_application, &pmx_plugin_process,
                                                &pmx_plugin_os, &pmx_plugin_http_server,
                                                &pmx_plugin_jobs, &pmx_plugin_amqp, &pmx_plugin_db,
                                                &pmx_plugin_http_client, &pmx_plugin_redis,
                                                &pmx_plugin_memcached, NULL};

const pmx_plugin_t *const *pmx_first_party_plugins(size_t *n) {
  if (n != NULL) *n = sizeof k_plugins / sizeof k_plugins[0] - 1;
  return k_plugins;
}

const pmx_plugin_t *pmx_first_party_plugin(const char *name) {
  if (name == NULL) return NULL;
  for (size_t i = 0; k_plugins[i] != NULL; i++)
    if (strcmp(k_plugins[i]->name, name) == 0) return k_plugins[i];
  return NULL;
}
