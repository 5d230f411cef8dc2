/* Test stand-in for the Grafana job (src/grafana/lifecycle.h) so runtime tests link without the
 * Grafana and dashboard areas. The runtime only calls it when grafana.enabled; a test that enables
 * Grafana gets PMX_ENOTSUP, and start must then fail cleanly. */
#include "grafana/lifecycle.h"

int pmx__grafana_start(const pmx_config_t *cfg, pmx_bus_t *bus,
                       const pmx_plugin_t *const *first_party, pmx__grafana_job_t **out) {
  (void)cfg;
  (void)bus;
  (void)first_party;
  *out = NULL;
  return PMX_ENOTSUP;
}

void pmx__grafana_stop(pmx__grafana_job_t *job) { (void)job; }
