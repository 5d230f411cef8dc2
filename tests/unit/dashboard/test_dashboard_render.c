/* Dashboard templates: loading (compiled-in and files), rendering (substitution, escaping,
 * errors with file:line:col), default assigns and their override order, and the content rules
 * every first-party dashboard must follow (checked on the rendered JSON). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "promex/dashboard.h"

static const char *assign_of(const pmx_kv_t *a, size_t n, const char *key) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(a[i].key, key) == 0) return a[i].value;
  return NULL;
}

static char *render_ok(const char *tmpl, const pmx_kv_t *a, size_t n) {
  char *json = NULL;
  pmx_error_t err = {0};
  int rc = pmx_dashboard_render(tmpl, strlen(tmpl), "t.json", a, n, &json, &err);
  if (rc != PMX_OK) fail_msg("render failed: %s", err.text);
  assert_non_null(json);
  return json;
}

static void render_err(const char *tmpl, const pmx_kv_t *a, size_t n, int code, int line, int col,
                       const char *needle) {
  char *json = (char *)1;
  pmx_error_t err = {0};
  int rc = pmx_dashboard_render(tmpl, strlen(tmpl), "t.json", a, n, &json, &err);
  assert_int_equal(rc, code);
  assert_null(json);
  assert_int_equal(err.code, code);
  if (line) {
    assert_int_equal(err.line, line);
    assert_int_equal(err.column, col);
  }
  if (strstr(err.text, needle) == NULL) fail_msg("message \"%s\" lacks \"%s\"", err.text, needle);
}

static void test_substitution_and_escaping(void **state) {
  (void)state;
  const char *evil = "he said \"hi\" \\ and\nleft\x01";
  pmx_kv_t a[] = {{"x", evil}, {"n", "-1.5e3"}, {"b", "true"}};
  char *json = render_ok("{\"a\": \"pre <%= x %> post\", \"n\": <%= n %>, \"b\": <%=@b%>}", a, 3);
  json_error_t je;
  json_t *root = json_loads(json, 0, &je);
  assert_non_null(root);
  char expect[128];
  snprintf(expect, sizeof expect, "pre %s post", evil);
  assert_string_equal(json_string_value(json_object_get(root, "a")), expect);
  assert_true(json_real_value(json_object_get(root, "n")) == -1500.0);
  assert_true(json_is_true(json_object_get(root, "b")));
  json_decref(root);
  free(json);
}

static void test_literal_and_escaped_quotes(void **state) {
  (void)state;
  /* <%% is a literal "<%"; an escaped quote does not end the string, so the tag after it is still
   * inside the string and gets escaped. */
  pmx_kv_t a[] = {{"x", "\"q\""}};
  char *json = render_ok("{\"a\": \"<%%= x %>\", \"b\": \"\\\" <%= x %>\"}", a, 1);
  json_t *root = json_loads(json, 0, NULL);
  assert_non_null(root);
  assert_string_equal(json_string_value(json_object_get(root, "a")), "<%= x %>");
  assert_string_equal(json_string_value(json_object_get(root, "b")), "\" \"q\"");
  json_decref(root);
  free(json);
}

static void test_later_assigns_override(void **state) {
  (void)state;
  pmx_kv_t a[] = {{"x", "first"}, {"x", "second"}};
  char *json = render_ok("{\"a\": \"<%= x %>\"}", a, 2);
  assert_non_null(strstr(json, "second"));
  assert_null(strstr(json, "first"));
  free(json);
}

static void test_unknown_assign_position(void **state) {
  (void)state;
  pmx_kv_t a[] = {{"uid", "u"}};
  render_err("{\n  \"a\": \"<%= nope %>\"\n}", a, 1, PMX_EPARSE, 2, 9, "unknown assign \"nope\"");
  render_err("{\n  \"a\": \"<%= nope %>\"\n}", a, 1, PMX_EPARSE, 2, 9, "t.json:2:9");
}

static void test_missing_required_assign(void **state) {
  (void)state;
  render_err("{\"uid\": \"<%= uid %>\"}", NULL, 0, PMX_EPARSE, 1, 10, "missing required assign \"uid\"");
  render_err("{\"e\": \"<%= process_metric_prefix %>_x\"}", NULL, 0, PMX_EPARSE, 1, 8,
             "missing required assign \"process_metric_prefix\"");
}

static void test_value_outside_string_must_be_scalar(void **state) {
  (void)state;
  pmx_kv_t a[] = {{"n", "1, \"injected\": 2"}};
  render_err("{\"n\": <%= n %>}", a, 1, PMX_EPARSE, 1, 7, "outside a JSON string");
  pmx_kv_t b[] = {{"n", "01"}};
  render_err("{\"n\": <%= n %>}", b, 1, PMX_EPARSE, 1, 7, "outside a JSON string");
}

static void test_bad_syntax(void **state) {
  (void)state;
  pmx_kv_t a[] = {{"x", "v"}};
  render_err("{\"a\": \"<% x %>\"}", a, 1, PMX_EPARSE, 1, 8, "unsupported tag");
  render_err("{\"a\": \"<%= x\"}", a, 1, PMX_EPARSE, 1, 8, "expected \"%>\"");
  render_err("{\"a\": \"<%= %>\"}", a, 1, PMX_EPARSE, 1, 8, "expected an assign name");
  render_err("{\"a\": \"x\"}\n<%", a, 1, PMX_EPARSE, 2, 1, "unsupported tag");
}

static void test_invalid_json_result(void **state) {
  (void)state;
  pmx_kv_t a[] = {{"x", "v"}};
  render_err("{\n\"a\": \"<%= x %>\",\n}", a, 1, PMX_EPARSE, 3, 1, "not valid JSON");
  render_err("[1, 2]", NULL, 0, PMX_EPARSE, 0, 0, "not a JSON object");
  render_err("{\"a\": 1, \"a\": 2}", NULL, 0, PMX_EPARSE, 0, 0, "not valid JSON");
}

static void test_bad_arguments(void **state) {
  (void)state;
  char *json = NULL;
  pmx_error_t err = {0};
  assert_int_equal(pmx_dashboard_render(NULL, 0, "x", NULL, 0, &json, &err), PMX_EINVAL);
  assert_int_equal(pmx_dashboard_render("{}", 2, "x", NULL, 0, NULL, &err), PMX_EINVAL);
  pmx_kv_t bad[] = {{"bad key", "v"}};
  assert_int_equal(pmx_dashboard_render("{}", 2, "x", bad, 1, &json, &err), PMX_EINVAL);
  assert_null(json);
  assert_non_null(strstr(err.text, "assign #1"));
  pmx_kv_t nullv[] = {{"k", NULL}};
  assert_int_equal(pmx_dashboard_render("{}", 2, "x", nullv, 1, &json, NULL), PMX_EINVAL);
}

static void test_load(void **state) {
  (void)state;
  size_t n = 0;
  const char *const *names = pmx_dashboard_builtins(&n);
  assert_true(n >= 4);
  assert_null(names[n]);
  const char *want[] = {"application.json", "process.json", "os.json", "prom_ex.json"};
  for (size_t w = 0; w < 4; w++) {
    int found = 0;
    for (size_t i = 0; i < n; i++) found |= strcmp(names[i], want[w]) == 0;
    if (!found) fail_msg("builtin %s missing", want[w]);
  }
  char *a = NULL, *b = NULL;
  size_t la = 0, lb = 0;
  assert_int_equal(pmx_dashboard_load("process", &a, &la, NULL), PMX_OK);
  assert_int_equal(pmx_dashboard_load("process.json", &b, &lb, NULL), PMX_OK);
  assert_int_equal(la, lb);
  assert_memory_equal(a, b, la);
  assert_int_equal(strlen(a), la);
  /* The compiled-in copy is the source file's content. */
  char *f = NULL;
  size_t lf = 0;
  assert_int_equal(pmx_dashboard_load(PMX_SOURCE_DIR "/dashboards/process.json", &f, &lf, NULL),
                   PMX_OK);
  assert_int_equal(lf, la);
  assert_memory_equal(f, a, la);
  free(a);
  free(b);
  free(f);
  pmx_error_t err = {0};
  char *t = (char *)1;
  assert_int_equal(pmx_dashboard_load("no_such_dashboard", &t, &la, &err), PMX_ENOENT);
  assert_null(t);
  assert_non_null(strstr(err.text, "no_such_dashboard"));
  assert_int_equal(pmx_dashboard_load("./process.json", &t, &la, &err), PMX_ENOENT);
  assert_int_equal(pmx_dashboard_load(NULL, &t, &la, &err), PMX_EINVAL);
  assert_null(pmx_dashboard_builtin("nope", NULL));
  assert_non_null(pmx_dashboard_builtin("os", NULL));
}

static void test_default_assigns(void **state) {
  (void)state;
  pmx_config_t cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.app = "my_app";
  static const pmx_plugin_t custom = {PMX_PLUGIN_ABI, "custom", NULL, NULL, NULL, {0}};
  static const pmx_plugin_t other = {PMX_PLUGIN_ABI, "other", NULL, NULL, NULL, {0}};
  pmx_kv_t opts[] = {{"metric_prefix", "ignored"}, {"metric_prefix", "shop_custom"}};
  pmx_plugin_use_t uses[] = {{&custom, opts, 2, NULL}, {&other, NULL, 0, NULL}};
  cfg.plugins = uses;
  cfg.n_plugins = 2;
  pmx_dashboard_use_t d = {"process.json", NULL, 0};
  pmx_kv_t *a = NULL;
  size_t n = 0;
  assert_int_equal(pmx_dashboard_assigns(&cfg, &d, &a, &n, NULL), PMX_OK);
  assert_string_equal(assign_of(a, n, "app"), "my_app");
  assert_string_equal(assign_of(a, n, "datasource_id"), "prometheus");
  assert_string_equal(assign_of(a, n, "process_metric_prefix"), "my_app_prom_ex_process");
  assert_string_equal(assign_of(a, n, "application_metric_prefix"), "my_app_prom_ex_application");
  assert_string_equal(assign_of(a, n, "os_metric_prefix"), "my_app_prom_ex_os");
  assert_string_equal(assign_of(a, n, "prom_ex_metric_prefix"), "my_app_prom_ex_prom_ex");
  assert_string_equal(assign_of(a, n, "custom_metric_prefix"), "shop_custom");
  assert_string_equal(assign_of(a, n, "other_metric_prefix"), "my_app_prom_ex_other");
  assert_string_equal(assign_of(a, n, "title"), "MyApp - PromEx Process Dashboard");
  assert_string_equal(assign_of(a, n, "uid"), "my-app-process");
  /* Each key once. */
  for (size_t i = 0; i < n; i++)
    for (size_t j = i + 1; j < n; j++) assert_string_not_equal(a[i].key, a[j].key);
  pmx_dashboard_assigns_free(a, n);
}

/* load + assigns + render in one call: the result is the configuration's dashboard; a missing
 * dashboard is PMX_ENOENT with *json NULL. */
static void test_render_for(void **state) {
  (void)state;
  pmx_config_t cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.app = "shop";
  pmx_dashboard_use_t d = {"process.json", NULL, 0};
  char *json = NULL;
  pmx_error_t err;
  assert_int_equal(pmx_dashboard_render_for(&cfg, &d, NULL, &json, &err), PMX_OK);
  assert_non_null(strstr(json, "shop_prom_ex_process_"));
  assert_null(strstr(json, "<%"));
  free(json);
  pmx_dashboard_use_t missing = {"no_such_dashboard", NULL, 0};
  json = (char *)"untouched";
  assert_int_equal(pmx_dashboard_render_for(&cfg, &missing, NULL, &json, &err), PMX_ENOENT);
  assert_null(json);
  assert_int_equal(pmx_dashboard_render_for(NULL, &d, NULL, &json, &err), PMX_EINVAL);
}

static void test_assign_override_order(void **state) {
  (void)state;
  pmx_config_t cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.app = "shop";
  pmx_kv_t global[] = {{"datasource_id", "thanos"}, {"title", "Global title"}, {"team", "a"}};
  cfg.dashboard_assigns = global;
  cfg.n_dashboard_assigns = 3;
  pmx_kv_t mine[] = {{"datasource_id", "mimir"}};
  pmx_dashboard_use_t d = {"/somewhere/My Dash.json", mine, 1};
  pmx_kv_t *a = NULL;
  size_t n = 0;
  assert_int_equal(pmx_dashboard_assigns(&cfg, &d, &a, &n, NULL), PMX_OK);
  assert_string_equal(assign_of(a, n, "datasource_id"), "mimir");
  assert_string_equal(assign_of(a, n, "title"), "Global title");
  assert_string_equal(assign_of(a, n, "team"), "a");
  assert_string_equal(assign_of(a, n, "uid"), "shop-my-dash");
  pmx_dashboard_assigns_free(a, n);
}

static void test_uid_truncated_stably(void **state) {
  (void)state;
  pmx_config_t cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.app = "a_really_long_application_name_for_testing";
  pmx_dashboard_use_t d1 = {"process.json", NULL, 0}, d2 = {"prom_ex.json", NULL, 0};
  pmx_kv_t *a = NULL, *b = NULL, *c = NULL;
  size_t na, nb, nc;
  assert_int_equal(pmx_dashboard_assigns(&cfg, &d1, &a, &na, NULL), PMX_OK);
  assert_int_equal(pmx_dashboard_assigns(&cfg, &d1, &b, &nb, NULL), PMX_OK);
  assert_int_equal(pmx_dashboard_assigns(&cfg, &d2, &c, &nc, NULL), PMX_OK);
  const char *u1 = assign_of(a, na, "uid"), *u2 = assign_of(c, nc, "uid");
  assert_int_equal(strlen(u1), PMX_DASHBOARD_UID_MAX);
  assert_int_equal(strlen(u2), PMX_DASHBOARD_UID_MAX);
  assert_string_equal(u1, assign_of(b, nb, "uid"));
  assert_string_not_equal(u1, u2);
  for (const char *p = u1; *p; p++)
    assert_true((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-');
  assert_memory_equal(u1, "a-really-long-application-name-", 31);
  pmx_dashboard_assigns_free(a, na);
  pmx_dashboard_assigns_free(b, nb);
  pmx_dashboard_assigns_free(c, nc);
}

static void test_assigns_bad_input(void **state) {
  (void)state;
  pmx_config_t cfg;
  memset(&cfg, 0, sizeof cfg);
  pmx_dashboard_use_t d = {"process.json", NULL, 0};
  pmx_kv_t *a = (pmx_kv_t *)1;
  size_t n = 9;
  pmx_error_t err = {0};
  assert_int_equal(pmx_dashboard_assigns(&cfg, &d, &a, &n, &err), PMX_EINVAL);
  assert_null(a);
  assert_int_equal(n, 0);
  assert_int_equal(pmx_dashboard_assigns(NULL, &d, &a, &n, &err), PMX_EINVAL);
  cfg.app = "x";
  cfg.n_dashboard_assigns = 1; /* with a NULL array */
  assert_int_equal(pmx_dashboard_assigns(&cfg, &d, &a, &n, &err), PMX_EINVAL);
  pmx_dashboard_assigns_free(NULL, 0);
}

static void test_user_template_file(void **state) {
  (void)state;
  char *t = NULL;
  size_t len = 0;
  const char *path = PMX_TEST_DATA "/dashboards/user_template.json";
  assert_int_equal(pmx_dashboard_load(path, &t, &len, NULL), PMX_OK);
  pmx_kv_t a[] = {{"uid", "u1"}, {"title", "T"}, {"team", "payments"}, {"refresh", "30"}};
  char *json = NULL;
  assert_int_equal(pmx_dashboard_render(t, len, path, a, 4, &json, NULL), PMX_OK);
  json_t *root = json_loads(json, 0, NULL);
  assert_string_equal(json_string_value(json_object_get(root, "title")), "T for payments");
  assert_int_equal(json_integer_value(json_object_get(root, "refresh_seconds")), 30);
  json_decref(root);
  free(json);
  free(t);

  const char *bad = PMX_TEST_DATA "/dashboards/template_unknown_assign.json";
  assert_int_equal(pmx_dashboard_load(bad, &t, &len, NULL), PMX_OK);
  pmx_error_t err = {0};
  assert_int_equal(pmx_dashboard_render(t, len, bad, a, 4, &json, &err), PMX_EPARSE);
  assert_int_equal(err.line, 3);
  assert_int_equal(err.column, 13);
  assert_non_null(strstr(err.text, "template_unknown_assign.json:3:13"));
  assert_non_null(strstr(err.text, "\"titel\""));
  free(t);
}

/* ---- the first-party dashboards, rendered with the default assigns ---- */

static void check_datasource_ref(json_t *ds, const char *where) {
  if (!json_is_object(ds)) fail_msg("%s: datasource is not an object ref", where);
  const char *type = json_string_value(json_object_get(ds, "type"));
  const char *uid = json_string_value(json_object_get(ds, "uid"));
  if (type == NULL || uid == NULL) fail_msg("%s: datasource ref lacks type/uid", where);
  if (strcmp(type, "prometheus") != 0 || strcmp(uid, "${datasource}") != 0)
    fail_msg("%s: datasource must be {prometheus, ${datasource}}, is {%s, %s}", where, type, uid);
}

/* Every rate()/irate()/increase() window is $__rate_interval. */
static void check_rates(const char *expr, const char *where) {
  const char *fns[] = {"rate(", "increase("};
  for (size_t f = 0; f < 2; f++) {
    for (const char *p = strstr(expr, fns[f]); p; p = strstr(p + 1, fns[f])) {
      const char *open = strchr(p, '[');
      if (open == NULL || strncmp(open, "[$__rate_interval]", 18) != 0) {
        /* A fixed window is allowed only for ratios inside stat panels; first-party dashboards
         * do not use any. */
        fail_msg("%s: %s without [$__rate_interval]: %s", where, fns[f], expr);
      }
    }
  }
}

static void check_panels(json_t *panels, const char *file, int *n_panels) {
  size_t i;
  json_t *p;
  json_array_foreach(panels, i, p) {
    const char *type = json_string_value(json_object_get(p, "type"));
    const char *title = json_string_value(json_object_get(p, "title"));
    char where[256];
    snprintf(where, sizeof where, "%s panel \"%s\"", file, title ? title : "?");
    assert_non_null(type);
    if (strcmp(type, "row") == 0) {
      check_panels(json_object_get(p, "panels"), file, n_panels);
      continue;
    }
    const char *ok[] = {"timeseries", "stat", "gauge", "heatmap", "table"};
    int good = 0;
    for (size_t k = 0; k < 5; k++) good |= strcmp(type, ok[k]) == 0;
    if (!good) fail_msg("%s: panel type %s is not a current Grafana type", where, type);
    (*n_panels)++;
    check_datasource_ref(json_object_get(p, "datasource"), where);
    json_t *targets = json_object_get(p, "targets");
    if (json_array_size(targets) == 0) fail_msg("%s: no queries", where);
    size_t k;
    json_t *t;
    json_array_foreach(targets, k, t) {
      const char *expr = json_string_value(json_object_get(t, "expr"));
      if (expr == NULL) fail_msg("%s: target without expr", where);
      if (!strstr(expr, "job=\"$job\"") || !strstr(expr, "instance=\"$instance\""))
        fail_msg("%s: query not filtered by job and instance: %s", where, expr);
      if (strstr(expr, "my_app_prom_ex_") == NULL)
        fail_msg("%s: query does not use the prefix assign: %s", where, expr);
      check_rates(expr, where);
      if (strcmp(type, "heatmap") == 0) {
        assert_string_equal(json_string_value(json_object_get(t, "format")), "heatmap");
        if (!strstr(expr, "sum by (le) (rate(") || !strstr(expr, "_bucket{"))
          fail_msg("%s: heatmap must be sum by (le) (rate(..._bucket[...])): %s", where, expr);
      }
    }
  }
}

static void test_first_party_dashboards(void **state) {
  (void)state;
  pmx_config_t cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.app = "my_app";
  size_t n = 0;
  const char *const *names = pmx_dashboard_builtins(&n);
  for (size_t i = 0; i < n; i++) {
    pmx_dashboard_use_t d = {names[i], NULL, 0};
    pmx_kv_t *a = NULL;
    size_t na = 0;
    assert_int_equal(pmx_dashboard_assigns(&cfg, &d, &a, &na, NULL), PMX_OK);
    char *tmpl = NULL, *json = NULL;
    size_t len = 0;
    assert_int_equal(pmx_dashboard_load(names[i], &tmpl, &len, NULL), PMX_OK);
    pmx_error_t err = {0};
    if (pmx_dashboard_render(tmpl, len, names[i], a, na, &json, &err) != PMX_OK)
      fail_msg("%s: %s", names[i], err.text);
    json_t *root = json_loads(json, 0, NULL);
    assert_non_null(root);
    char plugin[64];
    snprintf(plugin, sizeof plugin, "%.*s", (int)(strlen(names[i]) - 5), names[i]);
    assert_string_equal(json_string_value(json_object_get(root, "uid")),
                        assign_of(a, na, "uid"));
    assert_string_equal(json_string_value(json_object_get(root, "title")),
                        assign_of(a, na, "title"));
    assert_true(json_integer_value(json_object_get(root, "schemaVersion")) >= 36);
    json_t *tags = json_object_get(root, "tags");
    assert_int_equal(json_array_size(tags), 3);
    assert_string_equal(json_string_value(json_array_get(tags, 0)), "promex");
    assert_string_equal(json_string_value(json_array_get(tags, 1)), plugin);
    assert_string_equal(json_string_value(json_array_get(tags, 2)), "my_app");
    /* Variables: datasource (preset from datasource_id), job and instance on status_info. */
    json_t *vars = json_object_get(json_object_get(root, "templating"), "list");
    json_t *dsv = json_array_get(vars, 0), *job = json_array_get(vars, 1),
           *inst = json_array_get(vars, 2);
    assert_string_equal(json_string_value(json_object_get(dsv, "name")), "datasource");
    assert_string_equal(json_string_value(json_object_get(dsv, "type")), "datasource");
    assert_string_equal(json_string_value(json_object_get(dsv, "query")), "prometheus");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(dsv, "current"), "value")),
        "prometheus");
    assert_string_equal(json_string_value(json_object_get(job, "query")),
                        "label_values(my_app_prom_ex_prom_ex_status_info, job)");
    assert_string_equal(json_string_value(json_object_get(inst, "query")),
                        "label_values(my_app_prom_ex_prom_ex_status_info{job=\"$job\"}, instance)");
    check_datasource_ref(json_object_get(job, "datasource"), "job variable");
    /* Annotations: built-in plus start/stop filtered by tags. */
    json_t *ann = json_object_get(json_object_get(root, "annotations"), "list");
    assert_int_equal(json_array_size(ann), 3);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(ann, 0), "builtIn")), 1);
    const char *kinds[] = {"start", "stop"};
    for (size_t k = 0; k < 2; k++) {
      json_t *an = json_array_get(ann, k + 1);
      json_t *ds = json_object_get(an, "datasource");
      assert_string_equal(json_string_value(json_object_get(ds, "uid")), "-- Grafana --");
      json_t *t = json_object_get(json_object_get(an, "target"), "tags");
      assert_string_equal(json_string_value(json_array_get(t, 0)), "promex");
      assert_string_equal(json_string_value(json_array_get(t, 1)), "my_app");
      assert_string_equal(json_string_value(json_array_get(t, 2)), kinds[k]);
    }
    int n_panels = 0;
    check_panels(json_object_get(root, "panels"), names[i], &n_panels);
    assert_true(n_panels >= 4);
    json_decref(root);
    free(json);
    free(tmpl);
    pmx_dashboard_assigns_free(a, na);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_substitution_and_escaping),
      cmocka_unit_test(test_literal_and_escaped_quotes),
      cmocka_unit_test(test_later_assigns_override),
      cmocka_unit_test(test_unknown_assign_position),
      cmocka_unit_test(test_missing_required_assign),
      cmocka_unit_test(test_value_outside_string_must_be_scalar),
      cmocka_unit_test(test_bad_syntax),
      cmocka_unit_test(test_invalid_json_result),
      cmocka_unit_test(test_bad_arguments),
      cmocka_unit_test(test_load),
      cmocka_unit_test(test_default_assigns),
      cmocka_unit_test(test_render_for),
      cmocka_unit_test(test_assign_override_order),
      cmocka_unit_test(test_uid_truncated_stably),
      cmocka_unit_test(test_assigns_bad_input),
      cmocka_unit_test(test_user_template_file),
      cmocka_unit_test(test_first_party_dashboards),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
