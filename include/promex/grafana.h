/* Grafana HTTP API client (PromEx.GrafanaClient) and synchronous dashboard publishing
 * (mix prom_ex.dashboard.publish). See docs/grafana.md.
 *
 * The client speaks Grafana's HTTP API (9.x to 11.x) over libcurl: health, folders, dashboards
 * and annotations. Authentication is a bearer token (service account; preferred) or basic
 * user/password. Every request has a total timeout and a connect timeout (the config's
 * timeout_ms, default 10000) and uses CURLOPT_NOSIGNAL, so it never touches the host program's
 * signal handlers.
 *
 * Results: every call returns PMX_OK (HTTP 2xx), PMX_EHTTP (Grafana answered with another status;
 * `res->http_status` and `res->message`, Grafana's own "message" field, say why), PMX_ETIMEDOUT
 * (no complete answer within the timeout), PMX_EIO (connection refused, DNS, TLS, a malformed
 * response, ...: `res->message` has curl's explanation), PMX_EINVAL (bad arguments) or
 * PMX_ENOMEM. `res` (caller-owned, may be NULL) is always overwritten.
 *
 * Response bodies are handed out as jansson values: a `json_t **` out-argument receives a new
 * reference that the caller releases with json_decref(); pass NULL when the body is not wanted.
 * On failure *out is set to NULL.
 *
 * Global state: the first pmx_grafana_new() calls curl_global_init() once (pthread_once); the
 * library never calls curl_global_cleanup(), so it can coexist with a host that uses libcurl.
 *
 * Threading: a client keeps one curl handle (for connection reuse) and must not be used by two
 * threads at the same time; different clients are independent. */
#ifndef PROMEX_GRAFANA_H
#define PROMEX_GRAFANA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "promex/config.h"
#include "promex/error.h"
#include "promex/export.h"
#include "promex/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pmx_grafana pmx_grafana_t;

/* What happened on the wire during one call. Caller-owned; overwritten by every call. */
typedef struct pmx_grafana_result {
  long http_status;   /* HTTP status of the answer, 0 when there was none */
  char status[64];    /* Grafana's "status" field when present ("version-mismatch", ...) */
  char message[512];  /* Grafana's "message" field, or curl's error text, or "" */
} pmx_grafana_result_t;

/* Creates a client for `cfg->host` ("http://host:port", optionally with a sub-path; https works
 * with the system CA store). Credentials: auth_token (bearer) takes precedence over
 * username/password (basic); with neither, requests are anonymous. `cfg` is copied (`enabled` and
 * the upload/annotation switches are ignored here). On PMX_OK *out is owned by the caller
 * (pmx_grafana_free). Errors: PMX_EINVAL (NULL argument; host missing or not http(s)://; err
 * says which), PMX_ENOMEM, PMX_EIO (curl could not be initialised). Thread-safe. */
PMX_EXTERN int pmx_grafana_new(const pmx_grafana_config_t *cfg, pmx_grafana_t **out,
                               pmx_error_t *err);

/* Frees a client. NULL is a no-op. */
PMX_EXTERN void pmx_grafana_free(pmx_grafana_t *g);

/* GET /api/health (no auth needed). PMX_OK with *body {"database":"ok","version":...}; a 503
 * ("database":"failing") is PMX_EHTTP. */
PMX_EXTERN int pmx_grafana_health(pmx_grafana_t *g, json_t **body, pmx_grafana_result_t *res);

/* GET /api/folders?limit=1000: *folders is an array of {id,uid,title}. */
PMX_EXTERN int pmx_grafana_folders_list(pmx_grafana_t *g, json_t **folders,
                                        pmx_grafana_result_t *res);

/* GET /api/folders/:uid: *folder is {id,uid,title,version,...}. A missing folder is PMX_EHTTP
 * with http_status 404. `uid` is URL-escaped by the client. */
PMX_EXTERN int pmx_grafana_folder_get(pmx_grafana_t *g, const char *uid, json_t **folder,
                                      pmx_grafana_result_t *res);

/* POST /api/folders {"uid":uid,"title":title}. `uid` may be NULL (Grafana picks one). An existing
 * uid is PMX_EHTTP with http_status 409. *folder is the created folder. */
PMX_EXTERN int pmx_grafana_folder_create(pmx_grafana_t *g, const char *uid, const char *title,
                                         json_t **folder, pmx_grafana_result_t *res);

/* PUT /api/folders/:uid {"title":title, ...}: with version < 0 sends "overwrite":true, otherwise
 * "version":version, and a stale version is PMX_EHTTP with http_status 412 and status
 * "version-mismatch". *folder is the updated folder. */
PMX_EXTERN int pmx_grafana_folder_update(pmx_grafana_t *g, const char *uid, const char *title,
                                         int64_t version, json_t **folder,
                                         pmx_grafana_result_t *res);

/* GET /api/dashboards/uid/:uid: *dashboard is {"dashboard":{...},"meta":{...}}. Missing is
 * PMX_EHTTP / 404. */
PMX_EXTERN int pmx_grafana_dashboard_get(pmx_grafana_t *g, const char *uid, json_t **dashboard,
                                         pmx_grafana_result_t *res);

/* POST /api/dashboards/db: uploads the dashboard model `dashboard_json` (a JSON object, e.g. a
 * rendered template; borrowed) with "id" forced to null, into `folder_uid` (NULL: the General
 * folder), with `overwrite` and commit `message` (may be NULL). With overwrite false a stale
 * "version" is PMX_EHTTP / 412 "version-mismatch". *response is {"id","uid","url","status",
 * "version"}. PMX_EPARSE when dashboard_json is not a JSON object (res->message says where). */
PMX_EXTERN int pmx_grafana_dashboard_upsert(pmx_grafana_t *g, const char *dashboard_json,
                                            const char *folder_uid, bool overwrite,
                                            const char *message, json_t **response,
                                            pmx_grafana_result_t *res);

/* POST /api/annotations {"time":time_ms,"tags":[...],"text":text}: an organisation-wide
 * annotation that dashboards show through tag filters. `tags` (n_tags entries, borrowed) may be
 * NULL when n_tags is 0. time_ms <= 0 means now. *response is {"message":..,"id":N}. */
PMX_EXTERN int pmx_grafana_annotation_create(pmx_grafana_t *g, int64_t time_ms,
                                             const char *const *tags, size_t n_tags,
                                             const char *text, json_t **response,
                                             pmx_grafana_result_t *res);

/* Writes the folder uid promex uses for application `app` to `out` (cap >= 41 bytes):
 * "promex-<app>" with characters outside [A-Za-z0-9_-] replaced by '-', and when that would exceed
 * 40 characters a prefix of it plus an 8-digit hex hash of the whole name, so the uid is stable,
 * valid for Grafana (<= 40 chars) and distinct per app. Returns PMX_OK or PMX_EINVAL (NULL or
 * empty app, cap < 41). Pure, thread-safe. */
PMX_EXTERN int pmx_grafana_folder_uid(const char *app, char *out, size_t cap);

/* Makes sure the folder for `cfg` exists (cfg->grafana.folder_name; nothing to do when NULL:
 * dashboards go to the General folder): GET by pmx_grafana_folder_uid(cfg->app); 404 -> create;
 * title differs -> update with overwrite. When Grafana refuses the create because another folder
 * already has that title (409 on Grafana < 11.3), that folder's uid is adopted. On PMX_OK
 * `folder_uid` (cap >= 41) holds the uid to upload into, or "" for General. Errors as the calls
 * above. Not thread-safe for one client. */
PMX_EXTERN int pmx_grafana_ensure_folder(pmx_grafana_t *g, const pmx_config_t *cfg,
                                         char *folder_uid, size_t cap,
                                         pmx_grafana_result_t *res);

/* Called by pmx_grafana_publish() once per dashboard: its name (as configured, e.g.
 * "process.json"), the status code of the upload and, when it failed, a message; on success
 * `url` is the dashboard's URL path in Grafana ("/d/uid/slug"). Strings are borrowed for the call. */
typedef void (*pmx_grafana_publish_cb)(void *ctx, const char *dashboard, int status,
                                       const char *url, const char *message);

/* Uploads every dashboard of `cfg` now, on the calling thread (mix prom_ex.dashboard.publish):
 * cfg->dashboards, or when none are listed the built-in dashboard of each configured plugin that
 * appears in `first_party` (a NULL-terminated table, borrowed: pass pmx_first_party_plugins();
 * NULL means none) plus "prom_ex". Each is rendered with pmx_dashboard_assigns(), given a uid
 * when the template has none ("<app>-<name>"), and POSTed with overwrite into the folder from
 * pmx_grafana_ensure_folder(). `timeout_ms` (0: cfg->grafana.timeout_ms) bounds each request.
 * cfg->grafana.host is required; `enabled` is not looked at. `cb` (may be NULL) reports each
 * dashboard. Returns PMX_OK when all uploads succeeded, else the first failure's code with `err`
 * naming the dashboard (all dashboards are still attempted; a folder failure stops early). */
PMX_EXTERN int pmx_grafana_publish(const pmx_config_t *cfg,
                                   const pmx_plugin_t *const *first_party, unsigned timeout_ms,
                                   pmx_grafana_publish_cb cb, void *ctx, pmx_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
