/* Background upload and lifecycle annotation tests (src/grafana/lifecycle.h).
 *
 * Grafana is not packaged for Debian 12, so the job runs against mock_grafana.py on loopback
 * (see mock.h). The engine is driven through pmx__grafana_start_with() with a test dashboard
 * source and an event sink that records what the job reports, so these tests need neither the
 * dashboard renderer nor the event bus; backoff is shortened to keep them fast. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "grafana/grafana_internal.h"
#include "mock.h"

static mock_t M;

static int setup(void **state) {
  static const char *const args[] = {"--token", "tok", NULL};
  return mock_start(&M, args);
}
static int teardown(void **state) {
  mock_stop(&M);
  return 0;
}
static int reset(void **state) {
  json_decref(mock_call(&M, "POST", "/__reset"));
  return 0;
}

/* ---- test dashboard source: index 0 and 1 are valid, a name "broken" fails to render ---- */

static const char *DASH_NAMES[] = {"process.json", "os.json", "broken.json"};
static size_t n_dash = 2;

static size_t src_count(void *ctx, const pmx_config_t *cfg) { return n_dash; }

static int src_render(void *ctx, const pmx_config_t *cfg, size_t i, char **name, char **json,
                      pmx_error_t *err) {
  *name = strdup(DASH_NAMES[i]);
  *json = NULL;
  if (strcmp(DASH_NAMES[i], "broken.json") == 0) {
    snprintf(err->text, sizeof err->text, "broken.json:3:1: unknown assign");
    return PMX_EPARSE;
  }
  char buf[128];
  /* process.json has no uid: the uploader must derive one; os.json brings its own. */
  if (i == 0)
    snprintf(buf, sizeof buf, "{\"title\":\"%s\",\"panels\":[]}", DASH_NAMES[i]);
  else
    snprintf(buf, sizeof buf, "{\"uid\":\"own-os\",\"title\":\"%s\",\"panels\":[]}", DASH_NAMES[i]);
  *json = strdup(buf);
  return PMX_OK;
}

/* ---- event sink ---- */

typedef struct ev {
  char event[64], a[64], result[16];
} ev_t;
static pthread_mutex_t ev_mu = PTHREAD_MUTEX_INITIALIZER;
static ev_t evs[256];
static size_t n_evs;

static void sink(void *ctx, pmx_bus_t *bus, const char *event, const pmx_meta_t *md, size_t n) {
  pthread_mutex_lock(&ev_mu);
  if (n_evs < 256) {
    ev_t *e = &evs[n_evs++];
    snprintf(e->event, sizeof e->event, "%s", event);
    snprintf(e->a, sizeof e->a, "%s", md[0].v.s);
    snprintf(e->result, sizeof e->result, "%s", md[1].v.s);
  }
  pthread_mutex_unlock(&ev_mu);
}

static size_t count_events(const char *event, const char *result) {
  size_t c = 0;
  pthread_mutex_lock(&ev_mu);
  for (size_t i = 0; i < n_evs; i++)
    if (strcmp(evs[i].event, event) == 0 && (!result || strcmp(evs[i].result, result) == 0)) c++;
  pthread_mutex_unlock(&ev_mu);
  return c;
}

/* Waits up to 5 s for `want` events of a kind. */
static bool wait_events(const char *event, const char *result, size_t want) {
  for (int i = 0; i < 500; i++) {
    if (count_events(event, result) >= want) return true;
    usleep(10000);
  }
  return false;
}

/* ---- log sink ---- */
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char log_text[8192];
static void logger(void *ctx, pmx_log_level_t level, const char *msg) {
  pthread_mutex_lock(&log_mu);
  size_t l = strlen(log_text);
  snprintf(log_text + l, sizeof log_text - l, "%d %s\n", (int)level, msg);
  pthread_mutex_unlock(&log_mu);
}

static pmx__gf_hooks_t hooks(void) {
  pmx__gf_hooks_t h = {.source = {src_count, src_render, NULL}, .emit = sink,
                       .backoff_base_ms = 50, .backoff_cap_ms = 200, .max_attempts = 5};
  return h;
}

static pmx_config_t config(void) {
  pmx_config_t c;
  memset(&c, 0, sizeof c);
  c.app = "shop";
  c.app_version = "1.4.2";
  c.grafana.enabled = true;
  c.grafana.host = M.url;
  c.grafana.auth_token = "tok";
  c.grafana.upload_dashboards_on_start = true;
  c.grafana.folder_name = "Shop";
  c.grafana.timeout_ms = 2000;
  c.log = logger;
  c.log_level = PMX_LOG_DEBUG;
  return c;
}

static int clear(void **state) {
  reset(state);
  pthread_mutex_lock(&ev_mu);
  n_evs = 0;
  pthread_mutex_unlock(&ev_mu);
  log_text[0] = '\0';
  n_dash = 2;
  return 0;
}

static json_t *mock_state(void) {
  json_t *s = mock_call(&M, "GET", "/__state");
  assert_non_null(s);
  return s;
}

static void test_uploads_into_folder_and_annotates(void **state) {
  setenv("GIT_SHA", "abc123", 1);
  setenv("GIT_AUTHOR", "Ada Lovelace", 1);
  pmx_config_t cfg = config();
  cfg.grafana.annotate_app_lifecycle = true;
  pmx__gf_hooks_t h = hooks();
  pmx__grafana_job_t *job = NULL;
  assert_int_equal(pmx__grafana_start_with(&cfg, NULL, &h, &job), PMX_OK);
  assert_true(wait_events(PMX__GRAFANA_UPLOAD_EVENT, "ok", 2));
  assert_true(wait_events(PMX__GRAFANA_ANNOTATION_EVENT, "ok", 1));
  pmx__grafana_stop(job);
  assert_int_equal(count_events(PMX__GRAFANA_ANNOTATION_EVENT, "ok"), 2);

  json_t *s = mock_state();
  json_t *folder = json_object_get(json_object_get(s, "folders"), "promex-shop");
  assert_non_null(folder);
  assert_string_equal(json_string_value(json_object_get(folder, "title")), "Shop");
  json_t *dashes = json_object_get(s, "dashboards");
  json_t *p = json_object_get(dashes, "shop-process"); /* derived uid */
  json_t *o = json_object_get(dashes, "own-os");
  assert_non_null(p);
  assert_non_null(o);
  assert_string_equal(json_string_value(json_object_get(p, "folderUid")), "promex-shop");
  assert_string_equal(json_string_value(json_object_get(o, "folderUid")), "promex-shop");
  assert_non_null(strstr(json_string_value(json_object_get(p, "message")), "uploaded by promex"));

  json_t *anns = json_object_get(s, "annotations");
  assert_int_equal(json_array_size(anns), 2);
  char host[256];
  gethostname(host, sizeof host);
  const char *kinds[] = {"start", "stop"};
  for (size_t i = 0; i < 2; i++) {
    json_t *a = json_array_get(anns, i);
    json_t *tags = json_object_get(a, "tags");
    assert_int_equal(json_array_size(tags), 3);
    assert_string_equal(json_string_value(json_array_get(tags, 0)), "promex");
    assert_string_equal(json_string_value(json_array_get(tags, 1)), "shop");
    assert_string_equal(json_string_value(json_array_get(tags, 2)), kinds[i]);
    const char *text = json_string_value(json_object_get(a, "text"));
    assert_non_null(strstr(text, host));
    assert_non_null(strstr(text, "App: shop"));
    assert_non_null(strstr(text, "Version: 1.4.2"));
    assert_non_null(strstr(text, "GIT_SHA: abc123"));
    assert_non_null(strstr(text, "GIT_AUTHOR: Ada Lovelace"));
    assert_true(json_integer_value(json_object_get(a, "time")) > 1600000000000LL);
  }
  json_decref(s);
  assert_non_null(strstr(log_text, "dashboard process.json uploaded"));
  unsetenv("GIT_SHA");
  unsetenv("GIT_AUTHOR");
}

static void test_annotation_without_git_env(void **state) {
  unsetenv("GIT_SHA");
  unsetenv("GIT_AUTHOR");
  pmx_config_t cfg = config();
  char *t = pmx__grafana_annotation_text(&cfg, "start");
  assert_non_null(strstr(t, "shop started on"));
  assert_null(strstr(t, "GIT_SHA"));
  assert_null(strstr(t, "GIT_AUTHOR"));
  free(t);
  cfg.app_version = NULL;
  t = pmx__grafana_annotation_text(&cfg, "stop");
  assert_non_null(strstr(t, "shop stopped on"));
  assert_non_null(strstr(t, "Version: unknown"));
  free(t);
}

static void test_retries_after_failures(void **state) {
  /* The first three requests fail with 503: folder GET on rounds 1-3, success on round 4. */
  json_decref(mock_call(&M, "POST", "/__fail?count=3&status=503"));
  pmx_config_t cfg = config();
  pmx__gf_hooks_t h = hooks();
  pmx__grafana_job_t *job = NULL;
  assert_int_equal(pmx__grafana_start_with(&cfg, NULL, &h, &job), PMX_OK);
  assert_true(wait_events(PMX__GRAFANA_UPLOAD_EVENT, "ok", 2));
  pmx__grafana_stop(job);
  assert_int_equal(count_events(PMX__GRAFANA_UPLOAD_EVENT, "error"), 0);
  json_t *s = mock_state();
  assert_int_equal(json_object_size(json_object_get(s, "dashboards")), 2);
  json_decref(s);
  /* Logged once as a warning with "will retry", not once per attempt. */
  char *w = strstr(log_text, "2 grafana: folder");
  assert_non_null(w);
  assert_non_null(strstr(w, "will retry"));
  assert_null(strstr(w + 1, "2 grafana: folder"));
}

static void test_retries_dashboard_upload(void **state) {
  pmx_config_t cfg = config();
  cfg.grafana.folder_name = NULL; /* General folder: the first request is the first upload */
  json_decref(mock_call(&M, "POST", "/__fail?count=1&status=502"));
  pmx__gf_hooks_t h = hooks();
  pmx__grafana_job_t *job = NULL;
  assert_int_equal(pmx__grafana_start_with(&cfg, NULL, &h, &job), PMX_OK);
  assert_true(wait_events(PMX__GRAFANA_UPLOAD_EVENT, "ok", 2));
  pmx__grafana_stop(job);
  /* Every attempt is reported: one error for process.json, then two successes. */
  assert_int_equal(count_events(PMX__GRAFANA_UPLOAD_EVENT, "error"), 1);
  json_t *s = mock_state();
  json_t *p = json_object_get(json_object_get(s, "dashboards"), "shop-process");
  assert_non_null(p);
  assert_string_equal(json_string_value(json_object_get(p, "folderUid")), "");
  json_decref(s);
}

static void test_gives_up_on_auth_failure(void **state) {
  pmx_config_t cfg = config();
  cfg.grafana.auth_token = "wrong";
  pmx__gf_hooks_t h = hooks();
  pmx__grafana_job_t *job = NULL;
  assert_int_equal(pmx__grafana_start_with(&cfg, NULL, &h, &job), PMX_OK);
  assert_true(wait_events(PMX__GRAFANA_UPLOAD_EVENT, "error", 2));
  usleep(300000); /* longer than the whole backoff schedule: nothing else may be sent */
  json_t *reqs = mock_call(&M, "GET", "/__requests");
  assert_int_equal(json_array_size(reqs), 1); /* the folder GET, refused with 401, not retried */
  json_decref(reqs);
  pmx__grafana_stop(job);
  assert_non_null(strstr(log_text, "HTTP 401: Unauthorized"));
  assert_non_null(strstr(log_text, "dashboards not uploaded"));
}

static void test_render_failure_does_not_stop_others(void **state) {
  DASH_NAMES[1] = "broken.json";
  DASH_NAMES[2] = "os.json";
  n_dash = 2;
  pmx_config_t cfg = config();
  pmx__gf_hooks_t h = hooks();
  pmx__grafana_job_t *job = NULL;
  assert_int_equal(pmx__grafana_start_with(&cfg, NULL, &h, &job), PMX_OK);
  assert_true(wait_events(PMX__GRAFANA_UPLOAD_EVENT, NULL, 2));
  pmx__grafana_stop(job);
  DASH_NAMES[1] = "os.json";
  DASH_NAMES[2] = "broken.json";
  assert_int_equal(count_events(PMX__GRAFANA_UPLOAD_EVENT, "ok"), 1);
  assert_int_equal(count_events(PMX__GRAFANA_UPLOAD_EVENT, "error"), 1);
  assert_non_null(strstr(log_text, "broken.json not uploaded: broken.json:3:1: unknown assign"));
}

static void test_stop_cancels_promptly(void **state) {
  /* Every answer takes 5 s and the timeout is 10 s: stop must not wait for either. */
  json_decref(mock_call(&M, "POST", "/__slow?ms=5000"));
  pmx_config_t cfg = config();
  cfg.grafana.timeout_ms = 10000;
  pmx__gf_hooks_t h = hooks();
  pmx__grafana_job_t *job = NULL;
  assert_int_equal(pmx__grafana_start_with(&cfg, NULL, &h, &job), PMX_OK);
  usleep(200000);
  long t0 = mock_now_ms();
  pmx__grafana_stop(job);
  assert_true(mock_now_ms() - t0 < 1500);
  json_decref(mock_call(&M, "POST", "/__slow?ms=0"));

  /* Stop during a backoff sleep (a long one) is prompt too. */
  json_decref(mock_call(&M, "POST", "/__fail?count=100&status=503"));
  h.backoff_base_ms = 60000;
  h.backoff_cap_ms = 60000;
  assert_int_equal(pmx__grafana_start_with(&cfg, NULL, &h, &job), PMX_OK);
  usleep(300000); /* the first round has failed; the job is sleeping for 60 s */
  t0 = mock_now_ms();
  pmx__grafana_stop(job);
  assert_true(mock_now_ms() - t0 < 1000);
}

static void test_unreachable_grafana_never_blocks(void **state) {
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%d", mock_dead_port());
  pmx_config_t cfg = config();
  cfg.grafana.host = url;
  cfg.grafana.annotate_app_lifecycle = true;
  pmx__gf_hooks_t h = hooks();
  h.max_attempts = 2;
  pmx__grafana_job_t *job = NULL;
  long t0 = mock_now_ms();
  assert_int_equal(pmx__grafana_start_with(&cfg, NULL, &h, &job), PMX_OK);
  assert_true(mock_now_ms() - t0 < 200); /* start returns at once */
  assert_true(wait_events(PMX__GRAFANA_ANNOTATION_EVENT, "error", 2));
  pmx__grafana_stop(job); /* the stop annotation fails fast: connection refused */
  assert_int_equal(count_events(PMX__GRAFANA_ANNOTATION_EVENT, "error"), 3);
  assert_int_equal(count_events(PMX__GRAFANA_ANNOTATION_EVENT, "ok"), 0);
  assert_non_null(strstr(log_text, "giving up"));
}

static void test_nothing_to_do_and_bad_host(void **state) {
  pmx_config_t cfg = config();
  cfg.grafana.upload_dashboards_on_start = false;
  pmx__gf_hooks_t h = hooks();
  pmx__grafana_job_t *job = NULL;
  assert_int_equal(pmx__grafana_start_with(&cfg, NULL, &h, &job), PMX_OK);
  pmx__grafana_stop(job);
  json_t *reqs = mock_call(&M, "GET", "/__requests");
  assert_int_equal(json_array_size(reqs), 0);
  json_decref(reqs);
  pmx__grafana_stop(NULL); /* no-op */
  assert_int_equal(pmx__grafana_start_with(NULL, NULL, &h, &job), PMX_EINVAL);

  cfg = config();
  cfg.grafana.host = "grafana:3000"; /* no scheme: logged, nothing crashes */
  assert_int_equal(pmx__grafana_start_with(&cfg, NULL, &h, &job), PMX_OK);
  pmx__grafana_stop(job);
  assert_non_null(strstr(log_text, "must start with http://"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_uploads_into_folder_and_annotates, clear),
      cmocka_unit_test_setup(test_annotation_without_git_env, clear),
      cmocka_unit_test_setup(test_retries_after_failures, clear),
      cmocka_unit_test_setup(test_retries_dashboard_upload, clear),
      cmocka_unit_test_setup(test_gives_up_on_auth_failure, clear),
      cmocka_unit_test_setup(test_render_failure_does_not_stop_others, clear),
      cmocka_unit_test_setup(test_stop_cancels_promptly, clear),
      cmocka_unit_test_setup(test_unreachable_grafana_never_blocks, clear),
      cmocka_unit_test_setup(test_nothing_to_do_and_bad_host, clear),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
