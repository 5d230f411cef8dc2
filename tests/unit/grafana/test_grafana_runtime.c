/* Grafana through the real runtime: pmx_start()/pmx_stop() with cfg.grafana.enabled, the
 * production hooks (pmx__grafana_start: the dashboard renderer, the event bus, the default 1 s
 * doubling backoff), promex's own counters read back with pmx_get_metrics, against
 * mock_grafana.py on loopback (see mock.h). test_grafana_lifecycle.c tests the engine with stub
 * hooks; this file proves the wiring: which dashboards the runtime uploads, what the requests
 * carry, that the bus events reach grafana_uploads_total / grafana_annotations_total, and that
 * neither an unreachable nor a refusing Grafana blocks, crashes or storms.
 *
 * Timing bounds are generous (valgrind, sanitizers) but each still fails if the code waited for
 * the network on the caller's thread or retried a 401. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "internal.h"
#include "mock.h"
#include "promex/plugins/os.h"
#include "promex/plugins/process.h"
#include "promex/promex.h"

#define TOKEN "tok"
#define OWN "shop_prom_ex_prom_ex_"

static mock_t M;

static int setup(void **state) {
  static const char *const args[] = {"--token", TOKEN, NULL};
  return mock_start(&M, args);
}
static int teardown(void **state) {
  mock_stop(&M);
  return 0;
}

/* ---- log capture (the sink is called from promex threads) ---- */

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char log_text[32768];

static void logger(void *ctx, pmx_log_level_t level, const char *msg) {
  pthread_mutex_lock(&log_mu);
  size_t l = strlen(log_text);
  snprintf(log_text + l, sizeof log_text - l, "%d %s\n", (int)level, msg);
  pthread_mutex_unlock(&log_mu);
}

static bool log_has(const char *needle) {
  pthread_mutex_lock(&log_mu);
  bool found = strstr(log_text, needle) != NULL;
  pthread_mutex_unlock(&log_mu);
  return found;
}

static int clear(void **state) {
  json_decref(mock_call(&M, "POST", "/__reset"));
  pthread_mutex_lock(&log_mu);
  log_text[0] = '\0';
  pthread_mutex_unlock(&log_mu);
  return 0;
}

/* ---- configuration ---- */

static const pmx_plugin_use_t PLUGINS[] = {{.plugin = &pmx_plugin_process},
                                           {.plugin = &pmx_plugin_os}};

/* What the runtime must upload with no cfg.dashboards: the dashboard of each configured
 * first-party plugin, then prom_ex.json (src/grafana/source_default.c, docs/grafana.md), with the
 * uid the template gets from pmx_dashboard_assigns ("<app>-<dashboard>", [a-z0-9-]) and the
 * metric prefix its queries must use. */
typedef struct expected {
  const char *name, *uid, *prefix;
} expected_t;
static const expected_t DASHES[] = {
    {"process.json", "shop-process", "shop_prom_ex_process_"},
    {"os.json", "shop-os", "shop_prom_ex_os_"},
    {"prom_ex.json", "shop-prom-ex", "shop_prom_ex_prom_ex_"},
};
#define N_DASHES (sizeof DASHES / sizeof DASHES[0])

static pmx_config_t config(const char *host, const char *token) {
  pmx_config_t c;
  pmx_config_defaults(&c);
  c.app = "shop";
  c.app_version = "2.0.1";
  c.plugins = PLUGINS;
  c.n_plugins = sizeof PLUGINS / sizeof PLUGINS[0];
  c.grafana.enabled = true;
  c.grafana.host = host;
  c.grafana.auth_token = token;
  c.grafana.folder_name = "Shop Dashboards";
  c.grafana.annotate_app_lifecycle = true;
  c.grafana.upload_dashboards_on_start = true;
  c.grafana.timeout_ms = 2000;
  c.log = logger;
  c.log_level = PMX_LOG_DEBUG;
  return c;
}

static pmx_t *start(const pmx_config_t *cfg, long *elapsed_ms) {
  pmx_t *p = NULL;
  pmx_error_t err;
  memset(&err, 0, sizeof err);
  assert_int_equal(pmx_new(cfg, &p, &err), PMX_OK);
  long t0 = mock_now_ms();
  int rc = pmx_start(p, &err);
  if (elapsed_ms) *elapsed_ms = mock_now_ms() - t0;
  if (rc != PMX_OK) fail_msg("pmx_start: %s: %s", pmx_err_name(rc), err.text);
  return p;
}

static long stop_timed(pmx_t *p) {
  long t0 = mock_now_ms();
  assert_int_equal(pmx_stop(p), PMX_OK);
  return mock_now_ms() - t0;
}

/* ---- reading the exposition ---- */

/* The value of the series whose line starts with `series` ("name{labels}"), or -1 if absent. */
static double series_value(pmx_t *p, const char *series) {
  pmx_buf_t b;
  memset(&b, 0, sizeof b);
  assert_int_equal(pmx_get_metrics(p, PMX_FORMAT_TEXT, &b), PMX_OK);
  assert_int_equal(pmx__buf_append(&b, "", 1), PMX_OK); /* a pmx_buf_t is not NUL-terminated */
  double v = -1;
  size_t n = strlen(series);
  for (const char *line = b.data; line && *line;) {
    if (strncmp(line, series, n) == 0 && line[n] == ' ') {
      v = strtod(line + n + 1, NULL);
      break;
    }
    const char *nl = strchr(line, '\n');
    line = nl ? nl + 1 : NULL;
  }
  pmx_buf_free(&b);
  return v;
}

static double uploads(pmx_t *p, const char *dashboard, const char *result) {
  char s[256];
  snprintf(s, sizeof s, OWN "grafana_uploads_total{dashboard=\"%s\",result=\"%s\"}", dashboard,
           result);
  return series_value(p, s);
}

static double annotations(pmx_t *p, const char *kind, const char *result) {
  char s[256];
  snprintf(s, sizeof s, OWN "grafana_annotations_total{kind=\"%s\",result=\"%s\"}", kind, result);
  return series_value(p, s);
}

/* Polls (10 ms steps, up to `ms`) until the series reaches `want`. */
static bool wait_series(pmx_t *p, double (*get)(pmx_t *, const char *, const char *),
                        const char *a, const char *result, double want, long ms) {
  long deadline = mock_now_ms() + ms;
  do {
    if (get(p, a, result) >= want) return true;
    usleep(10000);
  } while (mock_now_ms() < deadline);
  return get(p, a, result) >= want;
}

/* ---- reading the mock's request log ---- */

static json_t *requests(void) {
  json_t *r = mock_call(&M, "GET", "/__requests");
  assert_non_null(r);
  assert_true(json_is_array(r));
  return r;
}

static size_t count_requests(const json_t *reqs, const char *method, const char *path) {
  size_t i, c = 0;
  json_t *r;
  json_array_foreach(reqs, i, r) {
    if (strcmp(json_string_value(json_object_get(r, "method")), method) == 0 &&
        strcmp(json_string_value(json_object_get(r, "path")), path) == 0)
      c++;
  }
  return c;
}

/* The parsed body of the request at index i (new reference). */
static json_t *body_of(const json_t *reqs, size_t i) {
  const char *b = json_string_value(json_object_get(json_array_get(reqs, i), "body"));
  assert_non_null(b);
  json_t *j = json_loads(b, 0, NULL);
  assert_non_null(j);
  return j;
}

/* The annotation POSTs carrying tag `kind`, as parsed bodies (new reference, an array). */
static json_t *annotations_posted(const json_t *reqs, const char *kind) {
  json_t *out = json_array();
  size_t i;
  json_t *r;
  json_array_foreach(reqs, i, r) {
    if (strcmp(json_string_value(json_object_get(r, "path")), "/api/annotations") != 0) continue;
    json_t *b = body_of(reqs, i);
    json_t *tags = json_object_get(b, "tags");
    if (json_array_size(tags) == 3 && strcmp(json_string_value(json_array_get(tags, 2)), kind) == 0)
      json_array_append(out, b);
    json_decref(b);
  }
  return out;
}

/* Waits up to `ms` until the mock has seen at least `want` requests of METHOD path. */
static bool wait_requests(const char *method, const char *path, size_t want, long ms) {
  long deadline = mock_now_ms() + ms;
  for (;;) {
    json_t *r = requests();
    size_t c = count_requests(r, method, path);
    json_decref(r);
    if (c >= want) return true;
    if (mock_now_ms() >= deadline) return false;
    usleep(20000);
  }
}

static void assert_lifecycle_annotation(json_t *a, const char *kind) {
  json_t *tags = json_object_get(a, "tags");
  assert_int_equal(json_array_size(tags), 3);
  assert_string_equal(json_string_value(json_array_get(tags, 0)), "promex");
  assert_string_equal(json_string_value(json_array_get(tags, 1)), "shop");
  assert_string_equal(json_string_value(json_array_get(tags, 2)), kind);
  const char *text = json_string_value(json_object_get(a, "text"));
  assert_non_null(text);
  char host[256] = "";
  gethostname(host, sizeof host - 1);
  char line[300];
  snprintf(line, sizeof line, "Hostname: %s", host);
  assert_non_null(strstr(text, line));
  assert_non_null(strstr(text, "App: shop"));
  assert_non_null(strstr(text, "Version: 2.0.1"));
  assert_non_null(strstr(text, "GIT_SHA: 9f8e7d6"));
  assert_non_null(strstr(text, "GIT_AUTHOR: Grace Hopper"));
  assert_true(json_integer_value(json_object_get(a, "time")) > 1600000000000LL);
}

/* ---- 1. everything works ---- */

static void test_uploads_and_annotates_through_runtime(void **state) {
  /* Set before pmx_start and cleared after pmx_stop: nothing reads them concurrently. */
  setenv("GIT_SHA", "9f8e7d6", 1);
  setenv("GIT_AUTHOR", "Grace Hopper", 1);
  pmx_config_t cfg = config(M.url, TOKEN);
  long start_ms = 0;
  int64_t wall0 = (int64_t)time(NULL) * 1000;
  pmx_t *p = start(&cfg, &start_ms);
  assert_true(start_ms < 1000);

  /* The job's requests, then the counters it feeds through the bus (emitted after each answer). */
  assert_true(wait_requests("POST", "/api/dashboards/db", N_DASHES, 10000));
  assert_true(wait_requests("POST", "/api/annotations", 1, 10000));
  for (size_t i = 0; i < N_DASHES; i++)
    assert_true(wait_series(p, uploads, DASHES[i].name, "ok", 1, 5000));
  assert_true(wait_series(p, annotations, "start", "ok", 1, 5000));

  json_t *reqs = requests();
  size_t i;
  json_t *r;
  /* Every request carries the bearer token. */
  json_array_foreach(reqs, i, r) {
    assert_string_equal(json_string_value(json_object_get(r, "auth")), "Bearer " TOKEN);
  }
  /* The folder: looked up by its derived uid, then created once with the configured title. */
  assert_int_equal(count_requests(reqs, "GET", "/api/folders/promex-shop"), 1);
  assert_int_equal(count_requests(reqs, "POST", "/api/folders"), 1);
  const char *folder_uid = NULL;
  json_t *folder_body = NULL;
  json_array_foreach(reqs, i, r) {
    if (strcmp(json_string_value(json_object_get(r, "path")), "/api/folders") == 0) {
      folder_body = body_of(reqs, i);
      folder_uid = json_string_value(json_object_get(folder_body, "uid"));
    }
  }
  assert_non_null(folder_uid);
  assert_string_equal(folder_uid, "promex-shop");
  assert_string_equal(json_string_value(json_object_get(folder_body, "title")), "Shop Dashboards");

  /* Exactly the expected dashboards, once each, into that folder, as idempotent upserts. */
  assert_int_equal(count_requests(reqs, "POST", "/api/dashboards/db"), N_DASHES);
  bool seen[N_DASHES] = {false};
  json_array_foreach(reqs, i, r) {
    if (strcmp(json_string_value(json_object_get(r, "path")), "/api/dashboards/db") != 0) continue;
    json_t *b = body_of(reqs, i);
    assert_string_equal(json_string_value(json_object_get(b, "folderUid")), folder_uid);
    assert_true(json_is_true(json_object_get(b, "overwrite")));
    json_t *d = json_object_get(b, "dashboard");
    assert_true(json_is_object(d));
    assert_true(json_is_null(json_object_get(d, "id")));
    const char *uid = json_string_value(json_object_get(d, "uid"));
    assert_non_null(uid);
    assert_true(strlen(uid) > 0 && strlen(uid) <= 40);
    size_t k = 0;
    while (k < N_DASHES && strcmp(DASHES[k].uid, uid) != 0) k++;
    if (k == N_DASHES) fail_msg("unexpected dashboard uid \"%s\"", uid);
    assert_false(seen[k]);
    seen[k] = true;
    /* Rendered for this app: its metric prefix appears, no template tag is left. */
    const char *raw = json_string_value(json_object_get(r, "body"));
    assert_non_null(strstr(raw, DASHES[k].prefix));
    assert_null(strstr(raw, "<%"));
    json_decref(b);
  }
  for (size_t k = 0; k < N_DASHES; k++) assert_true(seen[k]);
  json_decref(folder_body);

  /* One start annotation, stamped with the time of pmx_start. */
  json_t *starts = annotations_posted(reqs, "start");
  assert_int_equal(json_array_size(starts), 1);
  assert_lifecycle_annotation(json_array_get(starts, 0), "start");
  json_int_t t = json_integer_value(json_object_get(json_array_get(starts, 0), "time"));
  assert_true(t >= wall0 - 1000 && t <= (int64_t)time(NULL) * 1000 + 1000);
  json_decref(starts);
  json_decref(reqs);

  /* The bus events reached promex's own counters: one ok per dashboard, no errors. */
  for (size_t k = 0; k < N_DASHES; k++) {
    assert_true(uploads(p, DASHES[k].name, "ok") == 1);
    assert_true(uploads(p, DASHES[k].name, "error") < 0);
  }
  assert_true(annotations(p, "start", "ok") == 1);
  assert_true(annotations(p, "start", "error") < 0);
  assert_true(log_has("grafana: dashboard process.json uploaded into folder promex-shop"));
  assert_true(log_has("grafana: start annotation posted"));

  /* Stop: prompt, and the stop annotation has been posted when it returns. */
  assert_true(stop_timed(p) < 3000);
  reqs = requests();
  json_t *stops = annotations_posted(reqs, "stop");
  assert_int_equal(json_array_size(stops), 1);
  assert_lifecycle_annotation(json_array_get(stops, 0), "stop");
  json_decref(stops);
  /* Nothing was uploaded twice. */
  assert_int_equal(count_requests(reqs, "POST", "/api/dashboards/db"), N_DASHES);
  assert_int_equal(count_requests(reqs, "POST", "/api/annotations"), 2);
  json_decref(reqs);
  assert_true(log_has("grafana: stop annotation posted"));
  pmx_destroy(p);
  unsetenv("GIT_SHA");
  unsetenv("GIT_AUTHOR");
}

/* ---- 2. Grafana unreachable ---- */

static size_t collect_body(char *ptr, size_t s, size_t n, void *ud) {
  pmx_buf_t *b = ud;
  return pmx__buf_append(b, ptr, s * n) == PMX_OK ? s * n : 0;
}

static void test_unreachable_grafana_does_not_block(void **state) {
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%d", mock_dead_port());
  pmx_config_t cfg = config(url, TOKEN);
  cfg.metrics_server.enabled = true;
  cfg.metrics_server.port = 0;
  cfg.metrics_server.bind_address = "127.0.0.1";
  long start_ms = 0;
  pmx_t *p = start(&cfg, &start_ms);
  assert_true(start_ms < 1000); /* the upload never blocks start */

  /* Metrics are served over HTTP while Grafana is down. */
  uint16_t port = pmx_metrics_port(p);
  assert_true(port > 0);
  char murl[64];
  snprintf(murl, sizeof murl, "http://127.0.0.1:%u/metrics", (unsigned)port);
  pmx_buf_t body;
  memset(&body, 0, sizeof body);
  CURL *c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, murl);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  assert_int_equal(curl_easy_perform(c), CURLE_OK);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(c);
  assert_int_equal(status, 200);
  assert_int_equal(pmx__buf_append(&body, "", 1), PMX_OK);
  assert_non_null(strstr(body.data, OWN "status_info{app=\"shop\",version=\"2.0.1\"} 1"));
  pmx_buf_free(&body);

  /* The first round failed at once (connection refused): the start annotation is counted as an
   * error per attempt; the folder step (which gates every upload) is logged as a warning with a
   * retry pending. Upload errors are only counted when the folder is given up (after the whole
   * backoff schedule), so within this test they must not appear as ok either. */
  assert_true(wait_series(p, annotations, "start", "error", 1, 3000));
  long deadline = mock_now_ms() + 3000;
  while (!log_has("grafana: folder \"Shop Dashboards\" (attempt 1)") && mock_now_ms() < deadline)
    usleep(10000);
  assert_true(log_has("2 grafana: folder \"Shop Dashboards\" (attempt 1)"));
  assert_true(log_has("will retry"));
  assert_true(log_has("grafana: start annotation failed (attempt 1)"));
  for (size_t k = 0; k < N_DASHES; k++) assert_true(uploads(p, DASHES[k].name, "ok") < 0);
  assert_true(annotations(p, "start", "ok") < 0);

  /* Stop while the job sleeps in its backoff with retries pending: prompt. */
  assert_true(stop_timed(p) < 3000);
  assert_true(log_has("grafana: stop annotation failed"));
  assert_false(pmx_running(p));
  pmx_destroy(p);
}

/* ---- 3. Grafana refuses the token ---- */

static void test_unauthorized_is_counted_not_retried(void **state) {
  pmx_config_t cfg = config(M.url, "wrong");
  pmx_t *p = start(&cfg, NULL);

  /* Both first requests are refused with 401 and given up at once: every dashboard counts one
   * error, the start annotation one error. */
  for (size_t k = 0; k < N_DASHES; k++)
    assert_true(wait_series(p, uploads, DASHES[k].name, "error", 1, 5000));
  assert_true(wait_series(p, annotations, "start", "error", 1, 5000));

  /* Longer than the first backoff (1 s): a retry would show up as another request. */
  json_t *reqs = requests();
  size_t before = json_array_size(reqs);
  json_decref(reqs);
  usleep(1600000);
  reqs = requests();
  assert_int_equal(json_array_size(reqs), before);
  assert_int_equal(before, 2); /* the start annotation and the folder lookup, once each */
  assert_int_equal(count_requests(reqs, "POST", "/api/annotations"), 1);
  assert_int_equal(count_requests(reqs, "GET", "/api/folders/promex-shop"), 1);
  assert_int_equal(count_requests(reqs, "POST", "/api/dashboards/db"), 0);
  json_decref(reqs);
  for (size_t k = 0; k < N_DASHES; k++) {
    assert_true(uploads(p, DASHES[k].name, "error") == 1);
    assert_true(uploads(p, DASHES[k].name, "ok") < 0);
  }
  assert_true(annotations(p, "start", "error") == 1);

  /* Logged as errors with the HTTP status and Grafana's message, and that nothing is retried. */
  assert_true(log_has("3 grafana: start annotation failed (attempt 1): HTTP 401: Unauthorized; giving up"));
  assert_true(log_has("3 grafana: folder \"Shop Dashboards\" (attempt 1): HTTP 401: Unauthorized; "
                      "dashboards not uploaded"));
  assert_false(log_has("will retry"));

  /* Stop: one stop annotation attempt, refused the same way, then nothing more. */
  assert_true(stop_timed(p) < 3000);
  reqs = requests();
  assert_int_equal(json_array_size(reqs), 3);
  assert_int_equal(count_requests(reqs, "POST", "/api/annotations"), 2);
  json_decref(reqs);
  assert_true(log_has("grafana: stop annotation failed: HTTP 401: Unauthorized"));
  pmx_destroy(p);
}

/* ---- 4. a start that fails after the Grafana job could have begun ---- */

static void test_failed_start_leaves_grafana_alone(void **state) {
  /* The metrics server cannot bind (the port is taken), so pmx_start fails after everything else
   * was built. A failed start is not an application start: Grafana must see no stop annotation
   * (nor a start one or uploads), and pmx_start must not wait on Grafana (made slow here). */
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t l = sizeof a;
  assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
  assert_int_equal(listen(s, 1), 0);
  assert_int_equal(getsockname(s, (struct sockaddr *)&a, &l), 0);
  json_decref(mock_call(&M, "POST", "/__slow?ms=1500"));

  pmx_config_t cfg = config(M.url, TOKEN);
  cfg.metrics_server.enabled = true;
  cfg.metrics_server.port = ntohs(a.sin_port);
  cfg.metrics_server.bind_address = "127.0.0.1";
  pmx_t *p = NULL;
  pmx_error_t err;
  memset(&err, 0, sizeof err);
  assert_int_equal(pmx_new(&cfg, &p, &err), PMX_OK);
  long t0 = mock_now_ms();
  int rc = pmx_start(p, &err);
  long took = mock_now_ms() - t0;
  assert_int_not_equal(rc, PMX_OK);
  assert_true(err.text[0] != '\0');
  assert_false(pmx_running(p));
  assert_true(took < 1000);
  usleep(300000); /* a job that had been started would have sent something by now */
  json_decref(mock_call(&M, "POST", "/__slow?ms=0"));
  json_t *reqs = requests();
  json_t *stops = annotations_posted(reqs, "stop");
  assert_int_equal(json_array_size(stops), 0);
  json_decref(stops);
  assert_int_equal(json_array_size(reqs), 0);
  json_decref(reqs);
  assert_int_equal(pmx_stop(p), PMX_ESTATE);
  pmx_destroy(p);
  close(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_uploads_and_annotates_through_runtime, clear),
      cmocka_unit_test_setup(test_unreachable_grafana_does_not_block, clear),
      cmocka_unit_test_setup(test_unauthorized_is_counted_not_retried, clear),
      cmocka_unit_test_setup(test_failed_start_leaves_grafana_alone, clear),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
