/* Every first-party plugin (and promex's own metrics, "prom_ex") ships alerting rules: a template
 * alerts/<plugin>.rules.yml and its promtool unit tests tests/unit/alerts/<plugin>.test.yml
 * (run by check_alerts.py). The list comes from the library itself, so a plugin added to the
 * first-party table without rules fails here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "promex/dashboard.h"
#include "promex/promex.h"

static void expect_rules(const char *plugin) {
  char path[1024];
  struct stat st;
  snprintf(path, sizeof path, "%s/alerts/%s.rules.yml", PMX_SOURCE_DIR, plugin);
  if (stat(path, &st) != 0 || st.st_size == 0) fail_msg("plugin %s has no rules file %s", plugin, path);
  snprintf(path, sizeof path, "%s/tests/unit/alerts/%s.test.yml", PMX_SOURCE_DIR, plugin);
  if (stat(path, &st) != 0 || st.st_size == 0) fail_msg("plugin %s has no rule tests %s", plugin, path);
}

static void test_every_first_party_plugin_has_rules(void **state) {
  (void)state;
  size_t n = 0;
  const pmx_plugin_t *const *all = pmx_first_party_plugins(&n);
  assert_true(n >= 3); /* application, process, os at least */
  for (size_t i = 0; i < n; i++) expect_rules(all[i]->name);
  expect_rules("prom_ex");
}

/* Rules sit beside dashboards: every first-party dashboard's plugin has rules too. */
static void test_every_dashboard_has_rules(void **state) {
  (void)state;
  size_t n = 0;
  const char *const *dash = pmx_dashboard_builtins(&n);
  assert_true(n >= 4);
  for (size_t i = 0; i < n; i++) {
    char plugin[128];
    snprintf(plugin, sizeof plugin, "%s", dash[i]);
    char *dot = strstr(plugin, ".json");
    assert_non_null(dot);
    *dot = '\0';
    expect_rules(plugin);
  }
}

/* The check itself can fail: a plugin name without rules is reported. */
static void test_missing_rules_detected(void **state) {
  (void)state;
  char path[1024];
  struct stat st;
  snprintf(path, sizeof path, "%s/alerts/%s.rules.yml", PMX_SOURCE_DIR, "no_such_plugin");
  assert_int_not_equal(stat(path, &st), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_first_party_plugin_has_rules),
      cmocka_unit_test(test_every_dashboard_has_rules),
      cmocka_unit_test(test_missing_rules_detected),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
