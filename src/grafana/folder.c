/* Folder reconciliation (PromEx.DashboardUploader's folder step): the app's folder has a uid
 * derived from the app name, so every instance of the app finds the same folder and different
 * apps never collide. GET -> 404: create; title differs: update with overwrite. If the create is
 * refused with 409 while the uid is still absent, another folder holds the title (Grafana before
 * 11.3 keeps titles unique): that folder is adopted instead of failing forever (PromEx #176). */
#include <string.h>

#include "grafana/grafana_internal.h"
#include "internal.h"

static int adopt_by_title(pmx_grafana_t *g, const char *title, char *folder_uid, size_t cap,
                          pmx_grafana_result_t *res) {
  json_t *list = NULL;
  int rc = pmx_grafana_folders_list(g, &list, res);
  if (rc != PMX_OK) return rc;
  size_t i;
  json_t *f;
  rc = PMX_EHTTP;
  json_array_foreach(list, i, f) {
    const char *t = json_string_value(json_object_get(f, "title"));
    const char *u = json_string_value(json_object_get(f, "uid"));
    if (t && u && strcmp(t, title) == 0) {
      pmx__strlcpy(folder_uid, u, cap);
      rc = PMX_OK;
      break;
    }
  }
  json_decref(list);
  if (rc != PMX_OK && res)
    pmx__strlcpy(res->message, "folder create refused (409) but no folder has that uid or title",
                 sizeof res->message);
  return rc;
}

int pmx_grafana_ensure_folder(pmx_grafana_t *g, const pmx_config_t *cfg, char *folder_uid,
                              size_t cap, pmx_grafana_result_t *res) {
  pmx_grafana_result_t scratch;
  if (!res) res = &scratch;
  if (!g || !cfg || !folder_uid || cap < 41) {
    memset(res, 0, sizeof *res);
    pmx__strlcpy(res->message, "client, cfg and a 41-byte folder_uid are required",
                          sizeof res->message);
    return PMX_EINVAL;
  }
  folder_uid[0] = '\0';
  const char *title = cfg->grafana.folder_name;
  if (!title || !*title) return PMX_OK; /* General folder */
  char uid[41];
  int rc = pmx_grafana_folder_uid(cfg->app, uid, sizeof uid);
  if (rc != PMX_OK) {
    memset(res, 0, sizeof *res);
    pmx__strlcpy(res->message, rc == PMX_ENOMEM ? "out of memory"
                                                : "app name is required to derive the folder uid",
                 sizeof res->message);
    return rc;
  }
  json_t *folder = NULL;
  rc = pmx_grafana_folder_get(g, uid, &folder, res);
  if (rc == PMX_EHTTP && res->http_status == 404) {
    rc = pmx_grafana_folder_create(g, uid, title, NULL, res);
    if (rc == PMX_EHTTP && res->http_status == 409) {
      /* Either a concurrent instance created it (fine) or the title is taken elsewhere. */
      json_t *again = NULL;
      rc = pmx_grafana_folder_get(g, uid, &again, res);
      json_decref(again);
      if (rc == PMX_EHTTP && res->http_status == 404)
        return adopt_by_title(g, title, folder_uid, cap, res);
    }
    if (rc == PMX_OK) pmx__strlcpy(folder_uid, uid, cap);
    return rc;
  }
  if (rc != PMX_OK) return rc;
  const char *have = json_string_value(json_object_get(folder, "title"));
  if (!have || strcmp(have, title) != 0) rc = pmx_grafana_folder_update(g, uid, title, -1, NULL, res);
  json_decref(folder);
  if (rc == PMX_OK) pmx__strlcpy(folder_uid, uid, cap);
  return rc;
}
