/* Deep copy of a pmx_config_t, so that pmx_new() callers may free their configuration at once.
 * Copied: every string, the drop list, plugin uses with their options, dashboards with their
 * assigns, dashboard assigns, and the strings of the Grafana and server sections. Borrowed:
 * plugin tables, plugin user_data and the log sink with its ctx (documented in runtime.h). */
#include <stdlib.h>
#include <string.h>

#include "config/config_rules.h"
#include "internal.h"
#include "runtime/runtime_internal.h"

/* The string options of [promex], [metrics_server] and [grafana] come from the configuration
 * rules table, so a new option is copied (and freed) without an edit here. */
static const char **string_field(pmx_config_t *c, size_t rule) {
  const pmx__config_rule_t *r = &pmx__config_rules[rule];
  if (r->type != PMX__OPT_STR || strncmp(r->section, "plugin.", 7) == 0) return NULL;
  return (const char **)(void *)((char *)c + r->off);
}

/* Copies a string field in place; returns false on ENOMEM. */
static bool dup_field(const char **field) {
  if (*field == NULL) return true;
  char *c = pmx__strdup(*field);
  *field = c;
  return c != NULL;
}

static bool dup_kvs(const pmx_kv_t **kvs, size_t n) {
  if (*kvs == NULL || n == 0) {
    *kvs = NULL;
    return true;
  }
  pmx_kv_t *c = pmx__calloc(n, sizeof *c);
  const pmx_kv_t *src = *kvs;
  *kvs = c;
  if (c == NULL) return false;
  for (size_t i = 0; i < n; i++) {
    c[i] = src[i];
    if (!dup_field(&c[i].key) || !dup_field(&c[i].value)) {
      /* Leave the rest NULL so the free routine sees a consistent array. */
      for (size_t j = i + 1; j < n; j++) c[j].key = c[j].value = NULL;
      if (c[i].key == NULL) c[i].value = NULL;
      return false;
    }
  }
  return true;
}

static void free_kvs(const pmx_kv_t *kvs, size_t n) {
  if (kvs == NULL) return;
  for (size_t i = 0; i < n; i++) {
    pmx__free((char *)kvs[i].key);
    pmx__free((char *)kvs[i].value);
  }
  pmx__free((void *)kvs);
}

void pmx__rt_config_free(pmx_config_t *c) {
  for (size_t i = 0; i < pmx__n_config_rules; i++) {
    const char **f = string_field(c, i);
    if (f != NULL) pmx__free((char *)*f);
  }
  if (c->drop_metrics_groups != NULL) {
    for (size_t i = 0; i < c->n_drop_metrics_groups; i++) pmx__free((char *)c->drop_metrics_groups[i]);
    pmx__free((void *)c->drop_metrics_groups);
  }
  if (c->plugins != NULL) {
    for (size_t i = 0; i < c->n_plugins; i++) free_kvs(c->plugins[i].opts, c->plugins[i].n_opts);
    pmx__free((void *)c->plugins);
  }
  if (c->dashboards != NULL) {
    for (size_t i = 0; i < c->n_dashboards; i++) {
      pmx__free((char *)c->dashboards[i].name_or_path);
      free_kvs(c->dashboards[i].assigns, c->dashboards[i].n_assigns);
    }
    pmx__free((void *)c->dashboards);
  }
  free_kvs(c->dashboard_assigns, c->n_dashboard_assigns);
  memset(c, 0, sizeof *c);
}

int pmx__rt_config_copy(const pmx_config_t *src, pmx_config_t *c) {
  *c = *src;
  /* Null every owned pointer first, so a partial copy can always be freed. */
  for (size_t i = 0; i < pmx__n_config_rules; i++) {
    const char **f = string_field(c, i);
    if (f != NULL) *f = NULL;
  }
  c->drop_metrics_groups = NULL;
  c->plugins = NULL;
  c->dashboards = NULL;
  c->dashboard_assigns = NULL;
  size_t nd = 0, np = 0, nb = 0;
  c->n_drop_metrics_groups = c->n_plugins = c->n_dashboards = 0;

  bool ok = true;
  /* Each dup_field leaves NULL on failure; fields not reached stay NULL from above, so a partial
   * copy never points into src. */
  for (size_t i = 0; ok && i < pmx__n_config_rules; i++) {
    const char **f = string_field(c, i);
    if (f == NULL) continue;
    *f = pmx__config_rule_get_str(&pmx__config_rules[i], src);
    ok = dup_field(f);
  }
  if (ok && src->drop_metrics_groups != NULL && src->n_drop_metrics_groups > 0) {
    const char **d = pmx__calloc(src->n_drop_metrics_groups, sizeof *d);
    c->drop_metrics_groups = d;
    ok = d != NULL;
    for (; ok && nd < src->n_drop_metrics_groups; nd++) {
      d[nd] = src->drop_metrics_groups[nd];
      ok = dup_field(&d[nd]);
    }
    c->n_drop_metrics_groups = nd;
  }
  if (ok && src->plugins != NULL && src->n_plugins > 0) {
    pmx_plugin_use_t *u = pmx__calloc(src->n_plugins, sizeof *u);
    c->plugins = u;
    ok = u != NULL;
    for (; ok && np < src->n_plugins; np++) {
      u[np] = src->plugins[np];
      ok = dup_kvs(&u[np].opts, u[np].n_opts);
      if (u[np].opts == NULL) u[np].n_opts = 0;
    }
    c->n_plugins = np;
  }
  if (ok && src->dashboards != NULL && src->n_dashboards > 0) {
    pmx_dashboard_use_t *d = pmx__calloc(src->n_dashboards, sizeof *d);
    c->dashboards = d;
    ok = d != NULL;
    for (; ok && nb < src->n_dashboards; nb++) {
      d[nb] = src->dashboards[nb];
      d[nb].assigns = NULL;
      ok = dup_field(&d[nb].name_or_path);
      if (ok) {
        d[nb].assigns = src->dashboards[nb].assigns;
        ok = dup_kvs(&d[nb].assigns, d[nb].n_assigns);
      }
      if (d[nb].assigns == NULL) d[nb].n_assigns = 0;
    }
    c->n_dashboards = nb;
  }
  if (ok) {
    c->dashboard_assigns = src->dashboard_assigns;
    ok = dup_kvs(&c->dashboard_assigns, c->n_dashboard_assigns);
    if (c->dashboard_assigns == NULL) c->n_dashboard_assigns = 0;
  }
  if (!ok) {
    pmx__rt_config_free(c);
    return PMX_ENOMEM;
  }
  return PMX_OK;
}
