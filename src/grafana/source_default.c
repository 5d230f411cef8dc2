/* The production wiring of the Grafana area: dashboards come from the dashboard renderer
 * (pmx_dashboard_load/assigns/render), events go to the runtime's bus (pmx_emit_name), and the
 * public entry points pmx_grafana_publish() and pmx__grafana_start() use them. Kept apart from
 * the engine so that the engine's tests do not need the other areas.
 *
 * Which configured plugins are first-party (and so have a built-in dashboard to upload when none
 * are configured) is data the caller passes in: the source's ctx is a NULL-terminated table of
 * plugins (the runtime and the CLI pass pmx_first_party_plugins()). The Grafana area never calls
 * the plugins area, so it stays below it in the dependency graph. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grafana/grafana_internal.h"
#include "internal.h"
#include "promex/dashboard.h"
#include "promex/plugin.h"

#define MAX_IMPLICIT 64

static bool in_table(const pmx_plugin_t *const *table, const pmx_plugin_t *p) {
  for (size_t i = 0; table != NULL && table[i] != NULL; i++)
    if (table[i] == p) return true;
  return false;
}

/* With no dashboards configured: the dashboard of each configured first-party plugin (one in
 * `first_party`) that has one, then prom_ex's own. Names are borrowed from the plugin tables /
 * static storage. */
static size_t implicit_names(const pmx_config_t *cfg, const pmx_plugin_t *const *first_party,
                             const char **names, size_t cap) {
  size_t n = 0;
  bool have_prom_ex = false;
  for (size_t i = 0; i < cfg->n_plugins && n < cap - 1; i++) {
    const pmx_plugin_t *p = cfg->plugins[i].plugin;
    if (!p || !p->name || !in_table(first_party, p)) continue;
    bool dup = false;
    for (size_t j = 0; j < n; j++) dup = dup || strcmp(names[j], p->name) == 0;
    if (dup) continue;
    /* Only the compiled-in dashboard counts (the header's contract), looked up without a copy:
     * an allocation failure here would drop a dashboard and shift the indexes. */
    if (pmx_dashboard_builtin(p->name, NULL) == NULL) continue; /* no dashboard */
    if (strcmp(p->name, "prom_ex") == 0) have_prom_ex = true;
    names[n++] = p->name;
  }
  if (!have_prom_ex) names[n++] = "prom_ex";
  return n;
}

static size_t default_count(void *ctx, const pmx_config_t *cfg) {
  if (cfg->n_dashboards) return cfg->n_dashboards;
  const char *names[MAX_IMPLICIT];
  return implicit_names(cfg, ctx, names, MAX_IMPLICIT);
}

static int default_render(void *ctx, const pmx_config_t *cfg, size_t i, char **name, char **json,
                          pmx_error_t *err) {
  *name = NULL;
  *json = NULL;
  pmx_dashboard_use_t implicit = {0};
  const pmx_dashboard_use_t *use;
  char label[300];
  if (cfg->n_dashboards) {
    if (i >= cfg->n_dashboards) return pmx__fail(err, PMX_EINVAL, "grafana", "no dashboard %zu", i);
    use = &cfg->dashboards[i];
    pmx__strlcpy(label, use->name_or_path ? use->name_or_path : "", sizeof label);
  } else {
    const char *names[MAX_IMPLICIT];
    size_t n = implicit_names(cfg, ctx, names, MAX_IMPLICIT);
    if (i >= n) return pmx__fail(err, PMX_EINVAL, "grafana", "no dashboard %zu", i);
    implicit.name_or_path = names[i];
    use = &implicit;
    snprintf(label, sizeof label, "%s.json", names[i]);
  }
  *name = pmx__strdup(label);
  if (!*name) return pmx__fail(err, PMX_ENOMEM, "grafana", "out of memory");
  return pmx_dashboard_render_for(cfg, use, label, json, err);
}

static void default_emit(void *ctx, pmx_bus_t *bus, const char *event, const pmx_meta_t *md,
                         size_t n) {
  if (!bus) return;
  const pmx_measurement_t m[] = {PMX_M("count", 1)};
  pmx_emit_name(bus, event, m, 1, md, n);
}

void pmx__grafana_default_hooks(pmx__gf_hooks_t *hooks, const pmx_plugin_t *const *first_party) {
  memset(hooks, 0, sizeof *hooks);
  hooks->source.count = default_count;
  hooks->source.render = default_render;
  hooks->source.ctx = (void *)first_party;
  hooks->emit = default_emit;
  hooks->backoff_base_ms = 1000;
  hooks->backoff_cap_ms = 30000;
  hooks->max_attempts = 6;
}

int pmx__grafana_start(const pmx_config_t *cfg, pmx_bus_t *bus,
                       const pmx_plugin_t *const *first_party, pmx__grafana_job_t **out) {
  pmx__gf_hooks_t hooks;
  pmx__grafana_default_hooks(&hooks, first_party);
  return pmx__grafana_start_with(cfg, bus, &hooks, out);
}

int pmx_grafana_publish(const pmx_config_t *cfg, const pmx_plugin_t *const *first_party,
                        unsigned timeout_ms, pmx_grafana_publish_cb cb, void *ctx,
                        pmx_error_t *err) {
  pmx__gf_hooks_t hooks;
  pmx__grafana_default_hooks(&hooks, first_party);
  return pmx__grafana_publish_with(cfg, timeout_ms, &hooks.source, cb, ctx, err);
}
