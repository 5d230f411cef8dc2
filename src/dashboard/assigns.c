/* Default dashboard assigns (PromEx.DashboardRenderer defaults + what the uploader adds) and
 * their merge with the configuration's and the dashboard's own assigns.
 *
 * The first-party <plugin>_metric_prefix defaults are derived from the compiled-in dashboard
 * table (every first-party plugin ships exactly one dashboard named after it, and prom_ex.json
 * yields prom_ex_metric_prefix), so this area does not need to link the plugins. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dashboard/dashboard_internal.h"
#include "internal.h"
#include "promex/dashboard.h"

typedef struct kv_list {
  pmx_kv_t *items;
  size_t n, cap;
} kv_list_t;

/* Sets key to value (both copied), replacing an earlier value: the last one wins. */
static int kv_set(kv_list_t *l, const char *key, const char *value) {
  char *v = pmx__strdup(value);
  if (v == NULL) return PMX_ENOMEM;
  for (size_t i = 0; i < l->n; i++) {
    if (strcmp(l->items[i].key, key) == 0) {
      pmx__free((char *)l->items[i].value);
      l->items[i].value = v;
      return PMX_OK;
    }
  }
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    pmx_kv_t *it = pmx__realloc(l->items, cap * sizeof *it);
    if (it == NULL) {
      pmx__free(v);
      return PMX_ENOMEM;
    }
    l->items = it;
    l->cap = cap;
  }
  char *k = pmx__strdup(key);
  if (k == NULL) {
    pmx__free(v);
    return PMX_ENOMEM;
  }
  l->items[l->n].key = k;
  l->items[l->n].value = v;
  l->n++;
  return PMX_OK;
}

void pmx_dashboard_assigns_free(pmx_kv_t *assigns, size_t n) {
  if (assigns == NULL) return;
  for (size_t i = 0; i < n; i++) {
    pmx__free((char *)assigns[i].key);
    pmx__free((char *)assigns[i].value);
  }
  pmx__free(assigns);
}

/* "my_app" -> "MyApp", "prom_ex" -> "PromEx" (Macro.camelize, as PromEx titles). */
static void camelize(const char *in, char *out, size_t cap) {
  size_t o = 0;
  int upper = 1;
  for (const char *p = in; *p && o + 1 < cap; p++) {
    if (*p == '_' || *p == '-' || *p == ' ') {
      upper = 1;
      continue;
    }
    char c = *p;
    if (upper && c >= 'a' && c <= 'z') c = (char)(c - 'a' + 'A');
    upper = 0;
    out[o++] = c;
  }
  out[o] = '\0';
}

/* The dashboard's basename without directory and ".json": "/x/my_dash.json" -> "my_dash". */
static void dashboard_base(const char *name_or_path, char *out, size_t cap) {
  const char *b = strrchr(name_or_path, '/');
  b = b ? b + 1 : name_or_path;
  pmx__strlcpy(out, b, cap);
  size_t n = strlen(out);
  if (n > 5 && strcmp(out + n - 5, ".json") == 0) out[n - 5] = '\0';
}

/* uid "<app>-<dashboard>": lowercase [a-z0-9-], at most PMX_DASHBOARD_UID_MAX characters. When
 * longer, it is cut and suffixed with a hash of the full uid, so it stays stable and distinct. */
static void make_uid(const char *app, const char *dash, char *out, size_t cap) {
  char full[600];
  snprintf(full, sizeof full, "%s-%s", app, dash);
  size_t n = 0;
  for (const char *p = full; *p && n + 1 < sizeof full; p++) {
    char c = *p;
    if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) c = '-';
    full[n++] = c;
  }
  full[n] = '\0';
  if (n <= PMX_DASHBOARD_UID_MAX) {
    pmx__strlcpy(out, full, cap);
    return;
  }
  char hash[16];
  snprintf(hash, sizeof hash, "-%08x", (unsigned)pmx__fnv1a32(full));
  size_t keep = PMX_DASHBOARD_UID_MAX - strlen(hash);
  snprintf(out, cap, "%.*s%s", (int)keep, full, hash);
}

int pmx_dashboard_assigns(const pmx_config_t *cfg, const pmx_dashboard_use_t *d, pmx_kv_t **out,
                          size_t *n, pmx_error_t *err) {
  if (out != NULL) *out = NULL;
  if (n != NULL) *n = 0;
  if (cfg == NULL || d == NULL || out == NULL || n == NULL || cfg->app == NULL ||
      cfg->app[0] == '\0' || d->name_or_path == NULL)
    return pmx__fail(err, PMX_EINVAL, NULL,
                     "pmx_dashboard_assigns: config with app name and dashboard name required");
  if ((cfg->n_dashboard_assigns > 0 && cfg->dashboard_assigns == NULL) ||
      (d->n_assigns > 0 && d->assigns == NULL) || (cfg->n_plugins > 0 && cfg->plugins == NULL))
    return pmx__fail(err, PMX_EINVAL, d->name_or_path, "pmx_dashboard_assigns: NULL array");
  for (size_t i = 0; i < cfg->n_dashboard_assigns + d->n_assigns; i++) {
    const pmx_kv_t *kv = i < cfg->n_dashboard_assigns ? &cfg->dashboard_assigns[i]
                                                      : &d->assigns[i - cfg->n_dashboard_assigns];
    if (kv->key == NULL || kv->key[0] == '\0' || kv->value == NULL)
      return pmx__fail(err, PMX_EINVAL, d->name_or_path,
                       "%s: assign #%zu has no key or no value", d->name_or_path, i + 1);
  }
  /* An "app" assign (the dashboard's own, else the configuration's) renames the application for
   * this dashboard; the defaults below are derived from it, so that -a app=X also moves the
   * <plugin>_metric_prefix, title and uid defaults to X. */
  const char *app = cfg->app;
  for (size_t i = 0; i < cfg->n_dashboard_assigns + d->n_assigns; i++) {
    const pmx_kv_t *kv = i < cfg->n_dashboard_assigns ? &cfg->dashboard_assigns[i]
                                                      : &d->assigns[i - cfg->n_dashboard_assigns];
    if (strcmp(kv->key, "app") == 0) app = kv->value; /* the last one wins, as in the merge */
  }
  kv_list_t l = {0};
  int rc = PMX_OK;
  char key[300], val[600], base[256], camel_app[256], camel_dash[256];
#define SET(k, v)                                 \
  do {                                            \
    if (rc == PMX_OK) rc = kv_set(&l, (k), (v));  \
  } while (0)
  SET("app", app);
  SET("datasource_id", "prometheus");
  for (size_t i = 0; i < pmx__n_builtin_dashboards; i++) {
    dashboard_base(pmx__builtin_dashboards[i].name, base, sizeof base);
    snprintf(key, sizeof key, "%s_metric_prefix", base);
    snprintf(val, sizeof val, "%s_prom_ex_%s", app, base);
    SET(key, val);
  }
  for (size_t i = 0; i < cfg->n_plugins; i++) {
    const pmx_plugin_t *pl = cfg->plugins[i].plugin;
    if (pl == NULL || pl->name == NULL) continue;
    const char *prefix = NULL;
    for (size_t k = 0; k < cfg->plugins[i].n_opts; k++) {
      const pmx_kv_t *o = &cfg->plugins[i].opts[k];
      if (o->key != NULL && o->value != NULL && strcmp(o->key, "metric_prefix") == 0)
        prefix = o->value; /* last one wins, as pmx_plugin_opt */
    }
    snprintf(key, sizeof key, "%s_metric_prefix", pl->name);
    snprintf(val, sizeof val, "%s_prom_ex_%s", app, pl->name);
    SET(key, prefix != NULL ? prefix : val);
  }
  dashboard_base(d->name_or_path, base, sizeof base);
  camelize(app, camel_app, sizeof camel_app);
  camelize(base, camel_dash, sizeof camel_dash);
  snprintf(val, sizeof val, "%s - PromEx %s Dashboard", camel_app, camel_dash);
  SET("title", val);
  make_uid(app, base, val, sizeof val);
  SET("uid", val);
  for (size_t i = 0; i < cfg->n_dashboard_assigns; i++) {
    SET(cfg->dashboard_assigns[i].key, cfg->dashboard_assigns[i].value);
  }
  for (size_t i = 0; i < d->n_assigns; i++) {
    SET(d->assigns[i].key, d->assigns[i].value);
  }
#undef SET
  if (rc != PMX_OK) {
    pmx_dashboard_assigns_free(l.items, l.n);
    return pmx__fail(err, PMX_ENOMEM, d->name_or_path, "out of memory building assigns");
  }
  *out = l.items;
  *n = l.n;
  return PMX_OK;
}

int pmx_dashboard_render_for(const pmx_config_t *cfg, const pmx_dashboard_use_t *d,
                             const char *source, char **json, pmx_error_t *err) {
  if (json != NULL) *json = NULL;
  if (cfg == NULL || d == NULL || d->name_or_path == NULL || json == NULL)
    return pmx__fail(err, PMX_EINVAL, "", "pmx_dashboard_render_for: cfg, d, its name and json are required");
  char *text = NULL;
  size_t len = 0;
  int rc = pmx_dashboard_load(d->name_or_path, &text, &len, err);
  if (rc != PMX_OK) return rc;
  pmx_kv_t *assigns = NULL;
  size_t n_assigns = 0;
  rc = pmx_dashboard_assigns(cfg, d, &assigns, &n_assigns, err);
  if (rc == PMX_OK) {
    rc = pmx_dashboard_render(text, len, source ? source : d->name_or_path, assigns, n_assigns, json, err);
    pmx_dashboard_assigns_free(assigns, n_assigns);
  }
  pmx__free(text);
  return rc;
}
