/* Every first-party dashboard, rendered with the default assigns, lints clean against the metrics
 * the first-party plugins and the runtime really define (pmx_describe_metrics), so a renamed
 * metric breaks this test instead of a panel. Also: a configured metric_prefix flows into the
 * assigns and the rendered queries still match the renamed metrics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "promex/dashboard.h"
#include "promex/promex.h"

static void print_finding(void *ctx, const pmx_dashboard_finding_t *f) {
  (void)ctx;
  print_message("  %s\n", f->message);
}

/* The registry's own series (rendered by the metric store, not defined through plugins, so
 * pmx_describe_metrics does not list them). */
static void add_registry_metrics(pmx_dashboard_linter_t *l, const char *app) {
  const struct {
    const char *suffix;
    pmx_metric_kind_t kind;
  } own[] = {{"metric_series", PMX_LAST_VALUE},
             {"series_dropped_total", PMX_COUNTER},
             {"events_skipped_total", PMX_COUNTER}};
  char name[256];
  for (size_t i = 0; i < 3; i++) {
    snprintf(name, sizeof name, "%s_prom_ex_prom_ex_%s", app, own[i].suffix);
    pmx_dashboard_linter_add_metric(l, NULL, name, own[i].kind, NULL, 0);
  }
}

static void lint_all(const pmx_config_t *cfg, int expect_clean) {
  pmx_dashboard_linter_t *l = NULL;
  assert_int_equal(pmx_dashboard_linter_new(&l), PMX_OK);
  pmx_error_t err = {0};
  if (pmx_describe_metrics(cfg, pmx_dashboard_linter_add_metric, l, &err) != PMX_OK)
    fail_msg("describe: %s", err.text);
  add_registry_metrics(l, cfg->app);
  int total = 0;
  size_t n = 0;
  const char *const *names = pmx_dashboard_builtins(&n);
  for (size_t i = 0; i < n; i++) {
    pmx_dashboard_use_t d = {names[i], NULL, 0};
    pmx_kv_t *a = NULL;
    size_t na = 0;
    assert_int_equal(pmx_dashboard_assigns(cfg, &d, &a, &na, NULL), PMX_OK);
    size_t len = 0;
    const char *tmpl = pmx_dashboard_builtin(names[i], &len);
    char *json = NULL;
    assert_int_equal(pmx_dashboard_render(tmpl, len, names[i], a, na, &json, &err), PMX_OK);
    int rc = pmx_dashboard_lint(l, json, strlen(json), names[i], print_finding, NULL, &err);
    assert_true(rc >= 0);
    if (expect_clean && rc != 0) fail_msg("%s: %d findings against the plugins' metrics", names[i], rc);
    total += rc;
    free(json);
    pmx_dashboard_assigns_free(a, na);
  }
  if (!expect_clean && total == 0) fail_msg("expected findings");
  pmx_dashboard_linter_free(l);
}

static pmx_config_t first_party_config(pmx_plugin_use_t *uses, size_t cap) {
  pmx_config_t cfg;
  pmx_config_defaults(&cfg);
  cfg.app = "demo";
  size_t n = 0;
  const pmx_plugin_t *const *pl = pmx_first_party_plugins(&n);
  assert_true(n >= 3 && n <= cap);
  for (size_t i = 0; i < n; i++) uses[i] = (pmx_plugin_use_t){pl[i], NULL, 0, NULL};
  cfg.plugins = uses;
  cfg.n_plugins = n;
  return cfg;
}

static void test_first_party_dashboards_match_plugins(void **state) {
  (void)state;
  pmx_plugin_use_t uses[32];
  pmx_config_t cfg = first_party_config(uses, 32);
  /* Every first-party plugin has a dashboard of its name. */
  for (size_t i = 0; i < cfg.n_plugins; i++)
    if (pmx_dashboard_builtin(cfg.plugins[i].plugin->name, NULL) == NULL)
      fail_msg("plugin %s has no dashboard", cfg.plugins[i].plugin->name);
  lint_all(&cfg, 1);
}

static void test_metric_prefix_option_flows_into_dashboard(void **state) {
  (void)state;
  pmx_plugin_use_t uses[32];
  pmx_config_t cfg = first_party_config(uses, 32);
  static const pmx_kv_t opts[] = {{"metric_prefix", "custom_proc"}};
  for (size_t i = 0; i < cfg.n_plugins; i++)
    if (strcmp(uses[i].plugin->name, "process") == 0) {
      uses[i].opts = opts;
      uses[i].n_opts = 1;
    }
  lint_all(&cfg, 1);
  /* A dashboard assign that contradicts the plugin's prefix is caught by the linter. */
  static const pmx_kv_t wrong[] = {{"process_metric_prefix", "wrong_prefix"}};
  cfg.dashboard_assigns = wrong;
  cfg.n_dashboard_assigns = 1;
  lint_all(&cfg, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_first_party_dashboards_match_plugins),
      cmocka_unit_test(test_metric_prefix_option_flows_into_dashboard),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
