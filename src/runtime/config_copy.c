/* Deep copy of a pmx_config_t, so that pmx_new() callers may free their configuration at once.
 * Copied: every string, the drop list, plugin uses with their options, dashboards with their
 * assigns, dashboard assigns, and the strings of the Grafana and server sections. Borrowed:
 * plugin tables, plugin user_data and the log sink with its ctx (documented in runtime.h). */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "runtime/runtime_internal.h"

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
  pmx_kv_t *c = calloc(n, sizeof *c);
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
    free((char *)kvs[i].key);
    free((char *)kvs[i].value);
  }
  free((void *)kvs);
}

void pmx__rt_config_free(pmx_config_t *c) {
  free((char *)c->app);
  free((char *)c->app_version);
  if (c->drop_metrics_groups != NULL) {
    for (size_t i = 0; i < c->n_drop_metrics_groups; i++) free((char *)c->drop_metrics_groups[i]);
    free((void *)c->drop_metrics_groups);
  }
  if (c->plugins != NULL) {
    for (size_t i = 0; i < c->n_plugins; i++) free_kvs(c->plugins[i].opts, c->plugins[i].n_opts);
    free((void *)c->plugins);
  }
  if (c->dashboards != NULL) {
    for (size_t i = 0; i < c->n_dashboards; i++) {
      free((char *)c->dashboards[i].name_or_path);
      free_kvs(c->dashboards[i].assigns, c->dashboards[i].n_assigns);
    }
    free((void *)c->dashboards);
  }
  free_kvs(c->dashboard_assigns, c->n_dashboard_assigns);
  pmx_grafana_config_t *g = &c->grafana;
  free((char *)g->host);
  free((char *)g->username);
  free((char *)g->password);
  free((char *)g->auth_token);
  free((char *)g->folder_name);
  pmx_server_config_t *s = &c->metrics_server;
  free((char *)s->bind_address);
  free((char *)s->path);
  free((char *)s->cert_file);
  free((char *)s->key_file);
  free((char *)s->auth_token);
  free((char *)s->auth_user);
  free((char *)s->auth_password);
  memset(c, 0, sizeof *c);
}

int pmx__rt_config_copy(const pmx_config_t *src, pmx_config_t *c) {
  *c = *src;
  /* Null every owned pointer first, so a partial copy can always be freed. */
  c->app = c->app_version = NULL;
  c->drop_metrics_groups = NULL;
  c->plugins = NULL;
  c->dashboards = NULL;
  c->dashboard_assigns = NULL;
  c->grafana.host = c->grafana.username = c->grafana.password = NULL;
  c->grafana.auth_token = c->grafana.folder_name = NULL;
  pmx_server_config_t *s = &c->metrics_server;
  s->bind_address = s->path = s->cert_file = s->key_file = NULL;
  s->auth_token = s->auth_user = s->auth_password = NULL;
  size_t nd = 0, np = 0, nb = 0;
  c->n_drop_metrics_groups = c->n_plugins = c->n_dashboards = 0;

  bool ok = true;
  c->app = src->app;
  c->app_version = src->app_version;
  ok = dup_field(&c->app) && dup_field(&c->app_version);
  if (ok && src->drop_metrics_groups != NULL && src->n_drop_metrics_groups > 0) {
    const char **d = calloc(src->n_drop_metrics_groups, sizeof *d);
    c->drop_metrics_groups = d;
    ok = d != NULL;
    for (; ok && nd < src->n_drop_metrics_groups; nd++) {
      d[nd] = src->drop_metrics_groups[nd];
      ok = dup_field(&d[nd]);
    }
    c->n_drop_metrics_groups = nd;
  }
  if (ok && src->plugins != NULL && src->n_plugins > 0) {
    pmx_plugin_use_t *u = calloc(src->n_plugins, sizeof *u);
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
    pmx_dashboard_use_t *d = calloc(src->n_dashboards, sizeof *d);
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
  if (ok) {
    const pmx_grafana_config_t *g = &src->grafana;
    const pmx_server_config_t *ss = &src->metrics_server;
    c->grafana.host = g->host;
    c->grafana.username = g->username;
    c->grafana.password = g->password;
    c->grafana.auth_token = g->auth_token;
    c->grafana.folder_name = g->folder_name;
    s->bind_address = ss->bind_address;
    s->path = ss->path;
    s->cert_file = ss->cert_file;
    s->key_file = ss->key_file;
    s->auth_token = ss->auth_token;
    s->auth_user = ss->auth_user;
    s->auth_password = ss->auth_password;
    /* Each dup_field leaves NULL on failure; later fields still point at src and must not be
     * freed, so stop at the first failure and clear the rest. */
    const char **fields[] = {&c->grafana.host, &c->grafana.username, &c->grafana.password,
                             &c->grafana.auth_token, &c->grafana.folder_name, &s->bind_address,
                             &s->path, &s->cert_file, &s->key_file, &s->auth_token,
                             &s->auth_user, &s->auth_password};
    size_t nf = sizeof fields / sizeof fields[0];
    for (size_t i = 0; i < nf; i++) {
      if (ok) {
        ok = dup_field(fields[i]);
      } else {
        *fields[i] = NULL;
      }
    }
  }
  if (!ok) {
    pmx__rt_config_free(c);
    return PMX_ENOMEM;
  }
  return PMX_OK;
}
