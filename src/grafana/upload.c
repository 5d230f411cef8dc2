/* Uploading rendered dashboards and building lifecycle annotation text: the steps shared by the
 * synchronous publisher (pmx_grafana_publish, the CLI's `dashboard publish`) and the background
 * lifecycle job. Dashboards always carry a uid (one is derived when the template has none)
 * because since Grafana 11.3 titles are not unique and a POST without uid creates duplicates. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "grafana/grafana_internal.h"
#include "internal.h"
#include "promex/version.h"

int pmx__grafana_upload_rendered(pmx_grafana_t *g, const pmx_config_t *cfg, const char *name,
                                 const char *json, const char *folder_uid, char **url,
                                 pmx_grafana_result_t *res) {
  if (url) *url = NULL;
  json_error_t je;
  json_t *dash = json_loads(json ? json : "", 0, &je);
  if (!json_is_object(dash)) {
    if (res) {
      memset(res, 0, sizeof *res);
      snprintf(res->message, sizeof res->message, "%s: rendered dashboard is not a JSON object",
               name ? name : "dashboard");
    }
    json_decref(dash);
    return PMX_EPARSE;
  }
  const char *uid = json_string_value(json_object_get(dash, "uid"));
  int rc = PMX_OK;
  if (!uid || !*uid) {
    char derived[41];
    pmx__grafana_dashboard_uid(cfg->app, name, derived, sizeof derived);
    if (json_object_set_new(dash, "uid", json_string(derived)) != 0) rc = PMX_ENOMEM;
  }
  char *text = rc == PMX_OK ? json_dumps(dash, JSON_COMPACT) : NULL;
  json_decref(dash);
  if (!text) return PMX_ENOMEM;
  json_t *resp = NULL;
  rc = pmx_grafana_dashboard_upsert(g, text, folder_uid, true,
                                    "uploaded by promex " PMX_VERSION_STRING, &resp, res);
  pmx__grafana_json_text_free(text); /* json_dumps memory */
  if (rc == PMX_OK && url) {
    const char *u = json_string_value(json_object_get(resp, "url"));
    *url = u ? pmx__strdup(u) : NULL;
  }
  json_decref(resp);
  return rc;
}

int pmx__grafana_publish_with(const pmx_config_t *cfg, unsigned timeout_ms,
                              const pmx__gf_source_t *src, pmx_grafana_publish_cb cb, void *ctx,
                              pmx_error_t *err) {
  if (!cfg || !src) return pmx__fail(err, PMX_EINVAL, "grafana", "cfg must not be NULL");
  if (!cfg->app || !*cfg->app)
    return pmx__fail(err, PMX_ECONFIG, "grafana", "the configuration has no app name");
  pmx_grafana_config_t gc = cfg->grafana;
  if (timeout_ms) gc.timeout_ms = timeout_ms;
  pmx_grafana_t *g = NULL;
  int rc = pmx_grafana_new(&gc, &g, err);
  if (rc != PMX_OK) return rc;
  pmx_grafana_result_t res;
  char folder[41];
  rc = pmx_grafana_ensure_folder(g, cfg, folder, sizeof folder, &res);
  if (rc != PMX_OK) {
    if (rc == PMX_EHTTP)
      pmx__fail(err, rc, "grafana", "folder \"%s\": HTTP %ld: %s", cfg->grafana.folder_name,
                res.http_status, res.message);
    else
      pmx__fail(err, rc, "grafana", "folder \"%s\": %s", cfg->grafana.folder_name,
                res.message[0] ? res.message : pmx_strerror(rc));
    pmx_grafana_free(g);
    return rc;
  }
  int first = PMX_OK;
  size_t n = src->count(src->ctx, cfg);
  for (size_t i = 0; i < n; i++) {
    char *name = NULL, *json = NULL, *url = NULL;
    pmx_error_t rerr = {0};
    int r = src->render(src->ctx, cfg, i, &name, &json, &rerr);
    char msg[600];
    msg[0] = '\0';
    if (r != PMX_OK) {
      snprintf(msg, sizeof msg, "render failed: %s", rerr.text[0] ? rerr.text : pmx_strerror(r));
    } else {
      r = pmx__grafana_upload_rendered(g, cfg, name, json, folder, &url, &res);
      if (r == PMX_EHTTP)
        snprintf(msg, sizeof msg, "HTTP %ld: %s", res.http_status, res.message);
      else if (r != PMX_OK)
        snprintf(msg, sizeof msg, "%s", res.message[0] ? res.message : pmx_strerror(r));
    }
    if (cb) cb(ctx, name ? name : "?", r, url, r == PMX_OK ? NULL : msg);
    if (r != PMX_OK && first == PMX_OK) {
      first = r;
      pmx__fail(err, r, name ? name : "dashboard", "%s", msg);
    }
    pmx__free(name);
    pmx__free(json);
    pmx__free(url);
  }
  pmx_grafana_free(g);
  return first;
}

char *pmx__grafana_annotation_text(const pmx_config_t *cfg, const char *kind) {
  char host[256];
  if (gethostname(host, sizeof host) != 0) pmx__strlcpy(host, "unknown", sizeof host);
  host[sizeof host - 1] = '\0';
  const char *sha = getenv("GIT_SHA");
  const char *author = getenv("GIT_AUTHOR");
  pmx_buf_t b = {0};
  int rc = pmx__buf_appendf(&b, "%s %s on %s\nHostname: %s\nApp: %s\nVersion: %s",
                            cfg->app ? cfg->app : "app",
                            strcmp(kind, "start") == 0 ? "started" : "stopped", host, host,
                            cfg->app ? cfg->app : "", cfg->app_version ? cfg->app_version : "unknown");
  if (rc == PMX_OK && sha && *sha) rc = pmx__buf_appendf(&b, "\nGIT_SHA: %s", sha);
  if (rc == PMX_OK && author && *author) rc = pmx__buf_appendf(&b, "\nGIT_AUTHOR: %s", author);
  if (rc != PMX_OK) {
    pmx_buf_free(&b);
    return NULL;
  }
  return b.data; /* a library-owned pmx_buf comes from the allocator hook (pmx__free) */
}
