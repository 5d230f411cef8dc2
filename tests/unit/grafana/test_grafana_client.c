/* Grafana client tests (include/promex/grafana.h).
 *
 * Grafana is not packaged for Debian 12 (this machine's distribution), so these tests run the
 * client against mock_grafana.py, started here on loopback, which implements the endpoints as
 * Grafana documents them: health, folders (list/get/create with 409/update with 412), dashboards
 * (upsert with 400/404/412, get by uid), annotations (400 on empty text), bearer and basic auth
 * (401 otherwise), plus switches for slow responses and injected failures. Each test asserts
 * both what the client returned and what it sent (the mock records every request). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "grafana/grafana_internal.h"
#include "mock.h"
#include "promex/grafana.h"

static mock_t M;

static int setup(void **state) {
  static const char *const args[] = {"--token", "s3cret", NULL};
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

static pmx_grafana_t *client(const char *host, const char *token, unsigned timeout_ms) {
  pmx_grafana_config_t gc = {.host = host, .auth_token = token, .timeout_ms = timeout_ms};
  pmx_grafana_t *g = NULL;
  pmx_error_t err;
  assert_int_equal(pmx_grafana_new(&gc, &g, &err), PMX_OK);
  return g;
}

/* The last recorded /api request. */
static json_t *last_request(void) {
  json_t *all = mock_call(&M, "GET", "/__requests");
  assert_non_null(all);
  size_t n = json_array_size(all);
  assert_true(n > 0);
  json_t *last = json_incref(json_array_get(all, n - 1));
  json_decref(all);
  return last;
}

static json_t *last_body(void) {
  json_t *r = last_request();
  json_t *b = json_loads(json_string_value(json_object_get(r, "body")), 0, NULL);
  json_decref(r);
  assert_non_null(b);
  return b;
}

static void test_new_rejects_bad_config(void **state) {
  pmx_grafana_t *g = (pmx_grafana_t *)1;
  pmx_error_t err;
  pmx_grafana_config_t gc = {0};
  assert_int_equal(pmx_grafana_new(&gc, &g, &err), PMX_EINVAL);
  assert_null(g);
  assert_non_null(strstr(err.text, "host is not set"));
  gc.host = "ftp://example";
  assert_int_equal(pmx_grafana_new(&gc, &g, &err), PMX_EINVAL);
  assert_non_null(strstr(err.text, "http:// or https://"));
  assert_int_equal(pmx_grafana_new(NULL, &g, &err), PMX_EINVAL);
  pmx_grafana_free(NULL); /* no-op */
}

static void test_health(void **state) {
  pmx_grafana_t *g = client(M.url, NULL, 2000);
  json_t *body = NULL;
  pmx_grafana_result_t res;
  assert_int_equal(pmx_grafana_health(g, &body, &res), PMX_OK);
  assert_int_equal(res.http_status, 200);
  assert_string_equal(json_string_value(json_object_get(body, "database")), "ok");
  json_decref(body);
  /* The anonymous health check must not carry credentials it does not have. */
  json_t *r = last_request();
  assert_true(json_is_null(json_object_get(r, "auth")));
  assert_string_equal(json_string_value(json_object_get(r, "path")), "/api/health");
  json_decref(r);
  pmx_grafana_free(g);
}

static void test_bearer_auth(void **state) {
  pmx_grafana_t *g = client(M.url, "s3cret", 2000);
  json_t *list = NULL;
  pmx_grafana_result_t res;
  assert_int_equal(pmx_grafana_folders_list(g, &list, &res), PMX_OK);
  assert_true(json_is_array(list));
  json_decref(list);
  json_t *r = last_request();
  assert_string_equal(json_string_value(json_object_get(r, "auth")), "Bearer s3cret");
  json_decref(r);
  pmx_grafana_free(g);

  g = client(M.url, "wrong", 2000);
  assert_int_equal(pmx_grafana_folders_list(g, &list, &res), PMX_EHTTP);
  assert_null(list);
  assert_int_equal(res.http_status, 401);
  assert_string_equal(res.message, "Unauthorized");
  pmx_grafana_free(g);

  g = client(M.url, NULL, 2000); /* no credentials at all */
  assert_int_equal(pmx_grafana_folders_list(g, NULL, &res), PMX_EHTTP);
  assert_int_equal(res.http_status, 401);
  pmx_grafana_free(g);
}

static void test_basic_auth(void **state) {
  mock_t b;
  static const char *const args[] = {"--user", "admin", "--password", "pa:ss", NULL};
  assert_int_equal(mock_start(&b, args), 0);
  pmx_grafana_config_t gc = {.host = b.url, .username = "admin", .password = "pa:ss",
                             .timeout_ms = 2000};
  pmx_grafana_t *g = NULL;
  assert_int_equal(pmx_grafana_new(&gc, &g, NULL), PMX_OK);
  pmx_grafana_result_t res;
  assert_int_equal(pmx_grafana_folders_list(g, NULL, &res), PMX_OK);
  pmx_grafana_free(g);
  gc.password = "nope";
  assert_int_equal(pmx_grafana_new(&gc, &g, NULL), PMX_OK);
  assert_int_equal(pmx_grafana_folders_list(g, NULL, &res), PMX_EHTTP);
  assert_int_equal(res.http_status, 401);
  assert_string_equal(res.message, "Unauthorized");
  pmx_grafana_free(g);
  mock_stop(&b);
}

static void test_folders(void **state) {
  pmx_grafana_t *g = client(M.url, "s3cret", 2000);
  pmx_grafana_result_t res;
  json_t *f = NULL;
  assert_int_equal(pmx_grafana_folder_get(g, "myapp", &f, &res), PMX_EHTTP);
  assert_int_equal(res.http_status, 404);
  assert_string_equal(res.message, "folder not found");
  assert_null(f);

  assert_int_equal(pmx_grafana_folder_create(g, "myapp", "My App", &f, &res), PMX_OK);
  assert_string_equal(json_string_value(json_object_get(f, "uid")), "myapp");
  json_decref(f);
  json_t *body = last_body();
  assert_string_equal(json_string_value(json_object_get(body, "uid")), "myapp");
  assert_string_equal(json_string_value(json_object_get(body, "title")), "My App");
  json_decref(body);

  /* Duplicate uid: 409 with Grafana's message. */
  assert_int_equal(pmx_grafana_folder_create(g, "myapp", "Other", NULL, &res), PMX_EHTTP);
  assert_int_equal(res.http_status, 409);
  assert_non_null(strstr(res.message, "same uid"));

  assert_int_equal(pmx_grafana_folder_get(g, "myapp", &f, &res), PMX_OK);
  assert_string_equal(json_string_value(json_object_get(f, "title")), "My App");
  json_int_t version = json_integer_value(json_object_get(f, "version"));
  json_decref(f);

  /* Update with the current version, then again with the now stale one: 412. */
  assert_int_equal(pmx_grafana_folder_update(g, "myapp", "Renamed", version, &f, &res), PMX_OK);
  assert_string_equal(json_string_value(json_object_get(f, "title")), "Renamed");
  json_decref(f);
  assert_int_equal(pmx_grafana_folder_update(g, "myapp", "Again", version, NULL, &res), PMX_EHTTP);
  assert_int_equal(res.http_status, 412);
  assert_string_equal(res.status, "version-mismatch");
  /* Overwrite skips the version check. */
  assert_int_equal(pmx_grafana_folder_update(g, "myapp", "Again", -1, NULL, &res), PMX_OK);
  body = last_body();
  assert_true(json_is_true(json_object_get(body, "overwrite")));
  assert_null(json_object_get(body, "version"));
  json_decref(body);

  json_t *list = NULL;
  assert_int_equal(pmx_grafana_folders_list(g, &list, &res), PMX_OK);
  assert_int_equal(json_array_size(list), 1);
  assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "title")), "Again");
  json_decref(list);

  /* Bad arguments: a clear code, nothing sent. */
  assert_int_equal(pmx_grafana_folder_create(g, "x", "", NULL, &res), PMX_EINVAL);
  assert_true(res.message[0] != '\0');
  assert_int_equal(pmx_grafana_folder_get(g, NULL, NULL, &res), PMX_EINVAL);
  pmx_grafana_free(g);
}

static void test_dashboards(void **state) {
  pmx_grafana_t *g = client(M.url, "s3cret", 2000);
  pmx_grafana_result_t res;
  assert_int_equal(pmx_grafana_folder_create(g, "fold", "Fold", NULL, &res), PMX_OK);
  json_t *resp = NULL;
  const char *dash = "{\"id\":7,\"uid\":\"app-proc\",\"title\":\"Process\",\"panels\":[]}";
  assert_int_equal(pmx_grafana_dashboard_upsert(g, dash, "fold", true, "by test", &resp, &res),
                   PMX_OK);
  assert_string_equal(json_string_value(json_object_get(resp, "uid")), "app-proc");
  assert_string_equal(json_string_value(json_object_get(resp, "url")), "/d/app-proc/process");
  json_decref(resp);
  json_t *body = last_body();
  json_t *d = json_object_get(body, "dashboard");
  assert_true(json_is_null(json_object_get(d, "id"))); /* id forced to null */
  assert_string_equal(json_string_value(json_object_get(body, "folderUid")), "fold");
  assert_true(json_is_true(json_object_get(body, "overwrite")));
  assert_string_equal(json_string_value(json_object_get(body, "message")), "by test");
  json_decref(body);
  json_t *r = last_request();
  assert_string_equal(json_string_value(json_object_get(r, "content_type")), "application/json");
  json_decref(r);

  json_t *got = NULL;
  assert_int_equal(pmx_grafana_dashboard_get(g, "app-proc", &got, &res), PMX_OK);
  assert_string_equal(
      json_string_value(json_object_get(json_object_get(got, "dashboard"), "title")), "Process");
  assert_string_equal(
      json_string_value(json_object_get(json_object_get(got, "meta"), "folderUid")), "fold");
  json_decref(got);

  /* overwrite=false with a stale version: 412 version-mismatch. */
  const char *stale = "{\"uid\":\"app-proc\",\"title\":\"Process\",\"version\":0}";
  assert_int_equal(pmx_grafana_dashboard_upsert(g, stale, "fold", false, NULL, NULL, &res),
                   PMX_EHTTP);
  assert_int_equal(res.http_status, 412);
  assert_string_equal(res.status, "version-mismatch");

  /* Missing title: 400 with Grafana's message. */
  assert_int_equal(pmx_grafana_dashboard_upsert(g, "{\"uid\":\"x\"}", NULL, true, NULL, NULL, &res),
                   PMX_EHTTP);
  assert_int_equal(res.http_status, 400);
  assert_string_equal(res.message, "Dashboard title cannot be empty");

  /* Unknown folder: 404. */
  assert_int_equal(pmx_grafana_dashboard_upsert(g, dash, "nope", true, NULL, NULL, &res), PMX_EHTTP);
  assert_int_equal(res.http_status, 404);

  /* Not JSON / not an object: refused before sending. */
  assert_int_equal(pmx_grafana_dashboard_upsert(g, "{nope", NULL, true, NULL, NULL, &res), PMX_EPARSE);
  assert_non_null(strstr(res.message, "line 1"));
  assert_int_equal(pmx_grafana_dashboard_upsert(g, "[1]", NULL, true, NULL, NULL, &res), PMX_EPARSE);

  assert_int_equal(pmx_grafana_dashboard_get(g, "missing", NULL, &res), PMX_EHTTP);
  assert_int_equal(res.http_status, 404);
  assert_string_equal(res.message, "Dashboard not found");
  pmx_grafana_free(g);
}

static void test_annotations(void **state) {
  pmx_grafana_t *g = client(M.url, "s3cret", 2000);
  pmx_grafana_result_t res;
  const char *tags[] = {"promex", "myapp", "start"};
  json_t *resp = NULL;
  assert_int_equal(pmx_grafana_annotation_create(g, 1700000000123, tags, 3, "hello", &resp, &res),
                   PMX_OK);
  assert_string_equal(json_string_value(json_object_get(resp, "message")), "Annotation added");
  assert_true(json_integer_value(json_object_get(resp, "id")) > 0);
  json_decref(resp);
  json_t *body = last_body();
  assert_int_equal(json_integer_value(json_object_get(body, "time")), 1700000000123);
  json_t *t = json_object_get(body, "tags");
  assert_int_equal(json_array_size(t), 3);
  assert_string_equal(json_string_value(json_array_get(t, 0)), "promex");
  assert_string_equal(json_string_value(json_array_get(t, 2)), "start");
  assert_string_equal(json_string_value(json_object_get(body, "text")), "hello");
  json_decref(body);

  /* time <= 0: now. */
  assert_int_equal(pmx_grafana_annotation_create(g, 0, NULL, 0, "x", NULL, &res), PMX_OK);
  body = last_body();
  assert_true(json_integer_value(json_object_get(body, "time")) > 1600000000000LL);
  json_decref(body);

  assert_int_equal(pmx_grafana_annotation_create(g, 0, tags, 3, "", NULL, &res), PMX_EHTTP);
  assert_int_equal(res.http_status, 400);
  assert_string_equal(res.message, "Failed to save annotation");
  assert_int_equal(pmx_grafana_annotation_create(g, 0, tags, 3, NULL, NULL, &res), PMX_EINVAL);
  pmx_grafana_free(g);
}

static void test_timeout(void **state) {
  json_decref(mock_call(&M, "POST", "/__slow?ms=3000"));
  pmx_grafana_t *g = client(M.url, "s3cret", 300);
  pmx_grafana_result_t res;
  long t0 = mock_now_ms();
  assert_int_equal(pmx_grafana_folders_list(g, NULL, &res), PMX_ETIMEDOUT);
  long took = mock_now_ms() - t0;
  assert_true(took >= 250 && took < 2000);
  assert_non_null(strstr(res.message, "300 ms"));
  pmx_grafana_free(g);
  json_decref(mock_call(&M, "POST", "/__slow?ms=0"));
}

static void test_connection_refused(void **state) {
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%d", mock_dead_port());
  pmx_grafana_t *g = client(url, "s3cret", 2000);
  pmx_grafana_result_t res;
  json_t *body = (json_t *)1;
  assert_int_equal(pmx_grafana_health(g, &body, &res), PMX_EIO);
  assert_null(body);
  assert_int_equal(res.http_status, 0);
  assert_non_null(strstr(res.message, url));
  assert_true(pmx__grafana_retryable(PMX_EIO, 0));
  pmx_grafana_free(g);
}

static void test_server_error_is_retryable(void **state) {
  json_decref(mock_call(&M, "POST", "/__fail?count=1&status=503"));
  pmx_grafana_t *g = client(M.url, "s3cret", 2000);
  pmx_grafana_result_t res;
  assert_int_equal(pmx_grafana_folders_list(g, NULL, &res), PMX_EHTTP);
  assert_int_equal(res.http_status, 503);
  assert_string_equal(res.message, "injected failure");
  assert_true(pmx__grafana_retryable(PMX_EHTTP, res.http_status));
  assert_false(pmx__grafana_retryable(PMX_EHTTP, 401));
  assert_false(pmx__grafana_retryable(PMX_EHTTP, 412));
  assert_int_equal(pmx_grafana_folders_list(g, NULL, &res), PMX_OK); /* only one failure */
  pmx_grafana_free(g);
}

static void test_folder_uid(void **state) {
  char a[41], b[41];
  assert_int_equal(pmx_grafana_folder_uid("my_app", a, sizeof a), PMX_OK);
  assert_string_equal(a, "promex-my_app");
  const char *long1 = "a_very_long_application_name_that_goes_on_and_on_1";
  const char *long2 = "a_very_long_application_name_that_goes_on_and_on_2";
  assert_int_equal(pmx_grafana_folder_uid(long1, a, sizeof a), PMX_OK);
  assert_int_equal(pmx_grafana_folder_uid(long2, b, sizeof b), PMX_OK);
  assert_true(strlen(a) <= 40 && strlen(b) <= 40);
  assert_string_not_equal(a, b);
  char again[41];
  pmx_grafana_folder_uid(long1, again, sizeof again);
  assert_string_equal(a, again); /* stable */
  assert_int_equal(pmx_grafana_folder_uid("we ird!", a, sizeof a), PMX_OK);
  assert_string_equal(a, "promex-we-ird-");
  assert_int_equal(pmx_grafana_folder_uid("", a, sizeof a), PMX_EINVAL);
  assert_int_equal(pmx_grafana_folder_uid("x", a, 10), PMX_EINVAL);
  char d[41];
  pmx__grafana_dashboard_uid("app", "process.json", d, sizeof d);
  assert_string_equal(d, "app-process");
  pmx__grafana_dashboard_uid("app", "/tmp/my dash.json", d, sizeof d);
  assert_string_equal(d, "app-my-dash");
}

static void test_ensure_folder(void **state) {
  pmx_grafana_t *g = client(M.url, "s3cret", 2000);
  pmx_grafana_result_t res;
  pmx_config_t cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.app = "shop";
  char uid[41];
  /* No folder_name: the General folder, nothing sent. */
  assert_int_equal(pmx_grafana_ensure_folder(g, &cfg, uid, sizeof uid, &res), PMX_OK);
  assert_string_equal(uid, "");
  cfg.grafana.folder_name = "Shop";
  assert_int_equal(pmx_grafana_ensure_folder(g, &cfg, uid, sizeof uid, &res), PMX_OK);
  assert_string_equal(uid, "promex-shop");
  json_t *f = NULL;
  assert_int_equal(pmx_grafana_folder_get(g, "promex-shop", &f, &res), PMX_OK);
  assert_string_equal(json_string_value(json_object_get(f, "title")), "Shop");
  json_decref(f);
  /* Renamed in the config: the folder's title follows. */
  cfg.grafana.folder_name = "Shop Dashboards";
  assert_int_equal(pmx_grafana_ensure_folder(g, &cfg, uid, sizeof uid, &res), PMX_OK);
  assert_int_equal(pmx_grafana_folder_get(g, "promex-shop", &f, &res), PMX_OK);
  assert_string_equal(json_string_value(json_object_get(f, "title")), "Shop Dashboards");
  json_decref(f);
  /* Another app whose folder title is already taken by a folder with a foreign uid: adopted. */
  assert_int_equal(pmx_grafana_folder_create(g, "handmade", "Billing", NULL, &res), PMX_OK);
  cfg.app = "billing";
  cfg.grafana.folder_name = "Billing";
  assert_int_equal(pmx_grafana_ensure_folder(g, &cfg, uid, sizeof uid, &res), PMX_OK);
  assert_string_equal(uid, "handmade");
  pmx_grafana_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_new_rejects_bad_config),
      cmocka_unit_test_setup(test_health, reset),
      cmocka_unit_test_setup(test_bearer_auth, reset),
      cmocka_unit_test(test_basic_auth),
      cmocka_unit_test_setup(test_folders, reset),
      cmocka_unit_test_setup(test_dashboards, reset),
      cmocka_unit_test_setup(test_annotations, reset),
      cmocka_unit_test_setup(test_timeout, reset),
      cmocka_unit_test(test_connection_refused),
      cmocka_unit_test_setup(test_server_error_is_retryable, reset),
      cmocka_unit_test(test_folder_uid),
      cmocka_unit_test_setup(test_ensure_folder, reset),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
