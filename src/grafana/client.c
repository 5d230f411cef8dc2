/* The Grafana HTTP API client on libcurl (include/promex/grafana.h).
 *
 * One request = reset the client's easy handle, set URL/method/headers/auth/timeouts, perform,
 * then map the outcome: curl failure -> PMX_ETIMEDOUT / PMX_ESTOPPED (cancelled) / PMX_EIO;
 * non-2xx -> PMX_EHTTP with Grafana's "message" and "status" copied into the result; 2xx -> the
 * body parsed as JSON. Response bodies are capped (PMX__GF_MAX_BODY) so a misbehaving server
 * cannot make us allocate without bound. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "grafana/grafana_internal.h"
#include "internal.h"
#include "promex/version.h"

#define PMX__GF_MAX_BODY (16u * 1024u * 1024u)
#define PMX__GF_DEFAULT_TIMEOUT_MS 10000u

struct pmx_grafana {
  CURL *curl;
  char *base;          /* host without trailing '/' */
  char *token;         /* bearer, or NULL */
  char *user;          /* basic, or NULL */
  char *password;
  unsigned timeout_ms;
  const atomic_bool *cancel;
  char errbuf[CURL_ERROR_SIZE];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_OK;

static void curl_init_once(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

static void result_reset(pmx_grafana_result_t *res) {
  if (res) memset(res, 0, sizeof *res);
}

int pmx_grafana_new(const pmx_grafana_config_t *cfg, pmx_grafana_t **out, pmx_error_t *err) {
  if (!cfg || !out) return pmx__fail(err, PMX_EINVAL, "grafana", "cfg and out must not be NULL");
  *out = NULL;
  const char *host = cfg->host;
  if (!host || !*host)
    return pmx__fail(err, PMX_EINVAL, "grafana", "grafana host is not set (e.g. http://localhost:3000)");
  if (strncmp(host, "http://", 7) != 0 && strncmp(host, "https://", 8) != 0)
    return pmx__fail(err, PMX_EINVAL, "grafana",
                     "grafana host \"%s\" must start with http:// or https://", host);
  pthread_once(&curl_once, curl_init_once);
  if (curl_init_rc != CURLE_OK)
    return pmx__fail(err, PMX_EIO, "grafana", "curl_global_init failed: %s",
                     curl_easy_strerror(curl_init_rc));
  pmx_grafana_t *g = pmx__calloc(1, sizeof *g);
  if (!g) return pmx__fail(err, PMX_ENOMEM, "grafana", "out of memory");
  g->base = pmx__strdup(host);
  if (g->base) {
    size_t n = strlen(g->base);
    while (n > 0 && g->base[n - 1] == '/') g->base[--n] = '\0';
  }
  bool ok = g->base != NULL;
  if (cfg->auth_token && *cfg->auth_token) {
    g->token = pmx__strdup(cfg->auth_token);
    ok = ok && g->token;
  } else if (cfg->username && *cfg->username) {
    g->user = pmx__strdup(cfg->username);
    g->password = pmx__strdup(cfg->password ? cfg->password : "");
    ok = ok && g->user && g->password;
  }
  g->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : PMX__GF_DEFAULT_TIMEOUT_MS;
  if (!ok) {
    pmx_grafana_free(g);
    return pmx__fail(err, PMX_ENOMEM, "grafana", "out of memory");
  }
  g->curl = curl_easy_init();
  if (!g->curl) {
    pmx_grafana_free(g);
    return pmx__fail(err, PMX_EIO, "grafana", "curl_easy_init failed");
  }
  *out = g;
  return PMX_OK;
}

void pmx_grafana_free(pmx_grafana_t *g) {
  if (!g) return;
  if (g->curl) curl_easy_cleanup(g->curl);
  pmx__free(g->base);
  pmx__free(g->token);
  pmx__free(g->user);
  if (g->password) {
    /* Do not leave the secret in freed memory. */
    volatile char *p = g->password;
    while (*p) *p++ = 0;
    pmx__free(g->password);
  }
  pmx__free(g);
}

void pmx__grafana_set_cancel(pmx_grafana_t *g, const atomic_bool *cancel) {
  if (g) g->cancel = cancel;
}

/* ---- transport ------------------------------------------------------------------------------ */

typedef struct body {
  char *data;
  size_t len, cap;
  bool overflow;
  bool oom; /* the body could not grow: PMX_ENOMEM, not an I/O error */
} body_t;

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *ud) {
  body_t *b = ud;
  size_t n = size * nmemb;
  if (b->len + n > PMX__GF_MAX_BODY) {
    b->overflow = true;
    return 0; /* makes curl fail with CURLE_WRITE_ERROR */
  }
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->len + n + 1) cap *= 2;
    char *d = pmx__realloc(b->data, cap);
    if (!d) {
      b->oom = true;
      return 0; /* CURLE_WRITE_ERROR */
    }
    b->data = d;
    b->cap = cap;
  }
  memcpy(b->data + b->len, ptr, n);
  b->len += n;
  b->data[b->len] = '\0';
  return n;
}

static int on_progress(void *ud, curl_off_t dlt, curl_off_t dln, curl_off_t ult, curl_off_t uln) {
  const pmx_grafana_t *g = ud;
  return (g->cancel && atomic_load(g->cancel)) ? 1 : 0;
}

/* Copies Grafana's "message"/"status" from an error body, or a snippet of a non-JSON body. */
static void fill_error(pmx_grafana_result_t *res, const body_t *b) {
  if (!res) return;
  json_t *j = b->data ? json_loadb(b->data, b->len, 0, NULL) : NULL;
  if (json_is_object(j)) {
    const char *m = json_string_value(json_object_get(j, "message"));
    const char *s = json_string_value(json_object_get(j, "status"));
    if (m) pmx__strlcpy(res->message, m, sizeof res->message);
    if (s) pmx__strlcpy(res->status, s, sizeof res->status);
  } else if (b->data) {
    pmx__strlcpy(res->message, b->data, sizeof res->message);
  }
  json_decref(j);
  if (!res->message[0])
    snprintf(res->message, sizeof res->message, "Grafana answered HTTP %ld", res->http_status);
}

/* json_dumps output comes from jansson's allocator, not promex's hook (promex/alloc.h: promex
 * never replaces jansson's process-wide functions), so it goes back through jansson's free. */
void pmx__grafana_json_text_free(char *text) {
  json_free_t jfree = NULL;
  json_get_alloc_funcs(NULL, &jfree);
  if (text != NULL) jfree(text);
}

/* Performs METHOD base+path with an optional JSON request body. On PMX_OK and out != NULL,
 * *out is the parsed response (an empty body gives a JSON null). */
static int request(pmx_grafana_t *g, const char *method, const char *path, const json_t *req,
                   json_t **out, pmx_grafana_result_t *res) {
  pmx_grafana_result_t scratch;
  if (!res) res = &scratch;
  result_reset(res);
  if (out) *out = NULL;
  char *payload = NULL;
  if (req) {
    payload = json_dumps(req, JSON_COMPACT);
    if (!payload) return PMX_ENOMEM;
  }
  size_t url_len = strlen(g->base) + strlen(path) + 1;
  char *url = pmx__malloc(url_len);
  if (!url) {
    pmx__grafana_json_text_free(payload);
    return PMX_ENOMEM;
  }
  snprintf(url, url_len, "%s%s", g->base, path);

  struct curl_slist *hdrs = NULL, *h;
  int rc = PMX_OK;
  h = curl_slist_append(hdrs, "Accept: application/json");
  if (h) hdrs = h; else rc = PMX_ENOMEM;
  if (rc == PMX_OK && payload) {
    h = curl_slist_append(hdrs, "Content-Type: application/json");
    if (h) hdrs = h; else rc = PMX_ENOMEM;
  }
  char *auth = NULL;
  if (rc == PMX_OK && g->token) {
    size_t n = strlen(g->token) + 32;
    auth = pmx__malloc(n);
    if (auth) {
      snprintf(auth, n, "Authorization: Bearer %s", g->token);
      h = curl_slist_append(hdrs, auth);
      if (h) hdrs = h; else rc = PMX_ENOMEM;
    } else {
      rc = PMX_ENOMEM;
    }
  }
  body_t body = {0};
  if (rc == PMX_OK) {
    CURL *c = g->curl;
    curl_easy_reset(c);
    g->errbuf[0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)g->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)g->timeout_ms);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, g->errbuf);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "promex/" PMX_VERSION_STRING);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, g);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    /* Redirects are not followed: credentials must not be replayed to another host. */
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
    if (g->user) {
      curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
      curl_easy_setopt(c, CURLOPT_USERNAME, g->user);
      curl_easy_setopt(c, CURLOPT_PASSWORD, g->password);
    }
    if (strcmp(method, "GET") != 0) curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (payload) {
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload);
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(payload));
    }
    CURLcode cc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    res->http_status = status;
    if (cc == CURLE_OPERATION_TIMEDOUT) {
      rc = PMX_ETIMEDOUT;
      snprintf(res->message, sizeof res->message, "%s %s: no answer within %u ms", method, url,
               g->timeout_ms);
    } else if (cc == CURLE_ABORTED_BY_CALLBACK) {
      rc = PMX_ESTOPPED;
      snprintf(res->message, sizeof res->message, "%s %s: cancelled", method, url);
    } else if (cc != CURLE_OK) {
      rc = body.overflow ? PMX_EIO : (cc == CURLE_OUT_OF_MEMORY || body.oom ? PMX_ENOMEM : PMX_EIO);
      snprintf(res->message, sizeof res->message, "%s %s: %s", method, url,
               body.overflow ? "response larger than 16 MiB"
                             : (g->errbuf[0] ? g->errbuf : curl_easy_strerror(cc)));
    } else if (status < 200 || status > 299) {
      rc = PMX_EHTTP;
      fill_error(res, &body);
    } else if (out) {
      if (body.len == 0) {
        *out = json_null();
      } else {
        json_error_t je;
        *out = json_loadb(body.data, body.len, 0, &je);
        if (!*out) {
          rc = PMX_EIO;
          snprintf(res->message, sizeof res->message,
                   "%s %s: response is not JSON: %s (line %d)", method, url, je.text, je.line);
        }
      }
    }
    /* Drop borrowed pointers from the handle before they are freed. */
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
  }
  pmx__free(body.data);
  curl_slist_free_all(hdrs);
  if (auth) {
    volatile char *p = auth;
    while (*p) *p++ = 0;
    pmx__free(auth);
  }
  pmx__grafana_json_text_free(payload);
  pmx__free(url);
  return rc;
}

/* "/prefix/<escaped uid>" into a fresh string. */
static char *path_with_uid(pmx_grafana_t *g, const char *prefix, const char *uid) {
  char *esc = curl_easy_escape(g->curl, uid, 0);
  if (!esc) return NULL;
  size_t n = strlen(prefix) + strlen(esc) + 1;
  char *p = pmx__malloc(n);
  if (p) snprintf(p, n, "%s%s", prefix, esc);
  curl_free(esc);
  return p;
}

static int bad_arg(pmx_grafana_result_t *res, const char *what) {
  result_reset(res);
  if (res) pmx__strlcpy(res->message, what, sizeof res->message);
  return PMX_EINVAL;
}

/* PMX_ENOMEM before any request was made: `res` must still be filled (callers read it). */
static int no_memory(pmx_grafana_result_t *res) {
  result_reset(res);
  if (res) pmx__strlcpy(res->message, "out of memory", sizeof res->message);
  return PMX_ENOMEM;
}

/* ---- API calls ------------------------------------------------------------------------------ */

int pmx_grafana_health(pmx_grafana_t *g, json_t **body, pmx_grafana_result_t *res) {
  if (body) *body = NULL;
  if (!g) return bad_arg(res, "client is NULL");
  return request(g, "GET", "/api/health", NULL, body, res);
}

int pmx_grafana_folders_list(pmx_grafana_t *g, json_t **folders, pmx_grafana_result_t *res) {
  if (folders) *folders = NULL;
  if (!g) return bad_arg(res, "client is NULL");
  return request(g, "GET", "/api/folders?limit=1000", NULL, folders, res);
}

static int get_by_uid(pmx_grafana_t *g, const char *prefix, const char *uid, json_t **out,
                      pmx_grafana_result_t *res) {
  if (out) *out = NULL;
  if (!g || !uid || !*uid) return bad_arg(res, "client and uid are required");
  char *path = path_with_uid(g, prefix, uid);
  if (!path) return no_memory(res);
  int rc = request(g, "GET", path, NULL, out, res);
  pmx__free(path);
  return rc;
}

int pmx_grafana_folder_get(pmx_grafana_t *g, const char *uid, json_t **folder,
                           pmx_grafana_result_t *res) {
  return get_by_uid(g, "/api/folders/", uid, folder, res);
}

int pmx_grafana_dashboard_get(pmx_grafana_t *g, const char *uid, json_t **dashboard,
                              pmx_grafana_result_t *res) {
  return get_by_uid(g, "/api/dashboards/uid/", uid, dashboard, res);
}

int pmx_grafana_folder_create(pmx_grafana_t *g, const char *uid, const char *title,
                              json_t **folder, pmx_grafana_result_t *res) {
  if (folder) *folder = NULL;
  if (!g || !title || !*title) return bad_arg(res, "client and a non-empty title are required");
  json_t *req = json_object();
  if (!req) return no_memory(res);
  int rc = PMX_OK;
  if (json_object_set_new(req, "title", json_string(title)) != 0) rc = PMX_ENOMEM;
  if (rc == PMX_OK && uid && *uid && json_object_set_new(req, "uid", json_string(uid)) != 0)
    rc = PMX_ENOMEM;
  if (rc == PMX_OK) rc = request(g, "POST", "/api/folders", req, folder, res);
  json_decref(req);
  return rc;
}

int pmx_grafana_folder_update(pmx_grafana_t *g, const char *uid, const char *title,
                              int64_t version, json_t **folder, pmx_grafana_result_t *res) {
  if (folder) *folder = NULL;
  if (!g || !uid || !*uid || !title || !*title)
    return bad_arg(res, "client, uid and a non-empty title are required");
  json_t *req = json_object();
  if (!req) return no_memory(res);
  int rc = PMX_OK;
  if (json_object_set_new(req, "title", json_string(title)) != 0) rc = PMX_ENOMEM;
  if (rc == PMX_OK) {
    int e = version < 0 ? json_object_set_new(req, "overwrite", json_true())
                        : json_object_set_new(req, "version", json_integer(version));
    if (e != 0) rc = PMX_ENOMEM;
  }
  char *path = rc == PMX_OK ? path_with_uid(g, "/api/folders/", uid) : NULL;
  if (rc == PMX_OK && !path) rc = PMX_ENOMEM;
  if (rc == PMX_OK) rc = request(g, "PUT", path, req, folder, res);
  pmx__free(path);
  json_decref(req);
  return rc;
}

int pmx_grafana_dashboard_upsert(pmx_grafana_t *g, const char *dashboard_json,
                                 const char *folder_uid, bool overwrite, const char *message,
                                 json_t **response, pmx_grafana_result_t *res) {
  if (response) *response = NULL;
  if (!g || !dashboard_json) return bad_arg(res, "client and dashboard_json are required");
  json_error_t je;
  json_t *dash = json_loads(dashboard_json, 0, &je);
  if (!json_is_object(dash)) {
    result_reset(res);
    if (res) {
      if (dash)
        pmx__strlcpy(res->message, "dashboard JSON is not an object", sizeof res->message);
      else
        snprintf(res->message, sizeof res->message, "dashboard JSON: %s (line %d, column %d)",
                 je.text, je.line, je.column);
    }
    json_decref(dash);
    return PMX_EPARSE;
  }
  json_t *req = json_object();
  int rc = req ? PMX_OK : PMX_ENOMEM;
  /* id:null with a fixed uid and overwrite makes the POST an idempotent upsert. */
  if (rc == PMX_OK && json_object_set_new(dash, "id", json_null()) != 0) rc = PMX_ENOMEM;
  if (rc == PMX_OK && json_object_set(req, "dashboard", dash) != 0) rc = PMX_ENOMEM;
  if (rc == PMX_OK && folder_uid && *folder_uid &&
      json_object_set_new(req, "folderUid", json_string(folder_uid)) != 0)
    rc = PMX_ENOMEM;
  if (rc == PMX_OK && json_object_set_new(req, "overwrite", json_boolean(overwrite)) != 0)
    rc = PMX_ENOMEM;
  if (rc == PMX_OK && message && json_object_set_new(req, "message", json_string(message)) != 0)
    rc = PMX_ENOMEM;
  if (rc == PMX_OK) rc = request(g, "POST", "/api/dashboards/db", req, response, res);
  json_decref(req);
  json_decref(dash);
  return rc;
}

int pmx_grafana_annotation_create(pmx_grafana_t *g, int64_t time_ms, const char *const *tags,
                                  size_t n_tags, const char *text, json_t **response,
                                  pmx_grafana_result_t *res) {
  if (response) *response = NULL;
  if (!g || !text || (n_tags && !tags)) return bad_arg(res, "client and text are required");
  if (time_ms <= 0) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    time_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
  }
  json_t *req = json_object();
  json_t *arr = json_array();
  int rc = (req && arr) ? PMX_OK : PMX_ENOMEM;
  for (size_t i = 0; rc == PMX_OK && i < n_tags; i++) {
    if (!tags[i]) {
      json_decref(arr);
      json_decref(req);
      return bad_arg(res, "tags must not contain NULL");
    }
    if (json_array_append_new(arr, json_string(tags[i])) != 0) rc = PMX_ENOMEM;
  }
  if (rc == PMX_OK && json_object_set_new(req, "time", json_integer(time_ms)) != 0) rc = PMX_ENOMEM;
  if (rc == PMX_OK && json_object_set(req, "tags", arr) != 0) rc = PMX_ENOMEM;
  if (rc == PMX_OK && json_object_set_new(req, "text", json_string(text)) != 0) rc = PMX_ENOMEM;
  if (rc == PMX_OK) rc = request(g, "POST", "/api/annotations", req, response, res);
  json_decref(arr);
  json_decref(req);
  return rc;
}

/* ---- uids ----------------------------------------------------------------------------------- */

/* Sanitizes `name` into a uid of at most 40 chars; an over-long name keeps a 31-char prefix and
 * gains "-" + 8 hex digits of its hash, so distinct long names stay distinct and stable. */
static void make_uid(const char *name, char *out) {
  size_t n = strlen(name);
  char tmp[41];
  size_t keep = n <= 40 ? n : 31;
  for (size_t i = 0; i < keep; i++) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    tmp[i] = ok ? c : '-';
  }
  tmp[keep] = '\0';
  memcpy(out, tmp, keep + 1);
  if (n > 40) {
    char hex[10];
    snprintf(hex, sizeof hex, "-%08x", (unsigned)pmx__fnv1a32(name));
    memcpy(out + keep, hex, 10); /* 31 + 9 chars + NUL = 41 bytes */
  }
}

int pmx_grafana_folder_uid(const char *app, char *out, size_t cap) {
  if (!app || !*app || !out || cap < 41) return PMX_EINVAL;
  size_t n = strlen(app) + 8;
  char *name = pmx__malloc(n);
  if (!name) return PMX_ENOMEM;
  snprintf(name, n, "promex-%s", app);
  make_uid(name, out);
  pmx__free(name);
  return PMX_OK;
}

void pmx__grafana_dashboard_uid(const char *app, const char *name, char *out, size_t cap) {
  char base[256];
  pmx__strlcpy(base, name ? name : "dashboard", sizeof base);
  size_t bl = strlen(base);
  if (bl > 5 && strcmp(base + bl - 5, ".json") == 0) base[bl - 5] = '\0';
  /* A path: keep the file name only. */
  const char *slash = strrchr(base, '/');
  const char *leaf = slash ? slash + 1 : base;
  size_t n = strlen(app ? app : "") + strlen(leaf) + 2;
  char *full = pmx__malloc(n);
  char uid[41];
  if (!full) {
    pmx__strlcpy(out, "promex-dashboard", cap);
    return;
  }
  snprintf(full, n, "%s-%s", app ? app : "", leaf);
  make_uid(full, uid);
  pmx__free(full);
  pmx__strlcpy(out, uid, cap);
}

bool pmx__grafana_retryable(int status, long http_status) {
  if (status == PMX_ETIMEDOUT || status == PMX_EIO) return true;
  if (status == PMX_EHTTP)
    return http_status == 408 || http_status == 429 || http_status >= 500 || http_status == 0;
  return false;
}
