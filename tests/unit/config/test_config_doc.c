/* docs/config.md's option tables are generated from the configuration rules table
 * (src/config/config_rules.c): this test renders each section's table from the rules and fails
 * when the doc's copy (between "<!-- rules:SECTION -->" and "<!-- /rules -->") differs, so a
 * limit or default changed in code cannot stay wrong in the docs.
 *
 * To regenerate after changing a rule: tests/unit/config/regen_config_doc.py <build dir> (it
 * runs test_config_doc --print SECTION for each table). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config_rules.h"
#include "internal.h"

static const char *const SECTIONS[] = {"promex", "metrics_server", "grafana", "remote_write", "push",
                                       "plugin.NAME"};

/* What values the rule takes, with its limits: "integer 1-256", "`http` or `https`", ... */
static void value_kind(const pmx__config_rule_t *r, pmx_buf_t *b) {
  switch (r->type) {
    case PMX__OPT_BOOL:
      pmx__buf_appendf(b, "boolean");
      return;
    case PMX__OPT_UINT:
      pmx__buf_appendf(b, "integer %llu-%llu", (unsigned long long)r->min, (unsigned long long)r->max);
      return;
    case PMX__OPT_DELAY:
      pmx__buf_appendf(b, "`no_delay` or milliseconds 0-%llu", (unsigned long long)r->max);
      return;
    case PMX__OPT_LIST:
      pmx__buf_appendf(b, "comma-separated names");
      return;
    case PMX__OPT_ENUM:
      for (size_t i = 0; r->words[i] != NULL; i++)
        pmx__buf_appendf(b, "%s`%s`", i == 0 ? "" : r->words[i + 1] == NULL ? " or " : ", ", r->words[i]);
      return;
    case PMX__OPT_STR:
      break;
  }
  static const struct {
    unsigned flag;
    const char *text;
  } shapes[] = {
      {PMX__STR_IDENT, "name `[a-z0-9_]+`"},
      {PMX__STR_URL_PATH, "path: `/`, then printable ASCII without spaces, `?`, `#` or `%`"},
      {PMX__STR_HTTP_URL, "`http://` or `https://` URL"},
      {PMX__STR_HEADER, "text without control characters or leading/trailing spaces"},
      {PMX__STR_NO_COLON, "text without `:` or control characters"},
      {PMX__STR_ADDRESS, "IP address or `localhost`"},
      {PMX__STR_UTF8, "UTF-8 text without control characters"},
      {PMX__STR_METRIC, "`[a-zA-Z_:][a-zA-Z0-9_:]*`, not starting with `__`"},
      {PMX__STR_PEM_FILE, "file name"},
      {PMX__STR_NO_CTL, "text without control characters"},
  };
  const char *shape = "text";
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
    if (r->flags & shapes[i].flag) {
      shape = shapes[i].text;
      break;
    }
  }
  pmx__buf_appendf(b, "%s", shape);
  if (r->max > 0) pmx__buf_appendf(b, ", at most %llu bytes", (unsigned long long)r->max);
}

/* The markdown table of `section`, as docs/config.md must hold it. Caller frees. */
static char *render(const char *section) {
  pmx_buf_t b = {0};
  pmx__buf_appendf(&b, "| key | default | value |\n| --- | --- | --- |\n");
  for (size_t i = 0; i < pmx__n_config_rules; i++) {
    const pmx__config_rule_t *r = &pmx__config_rules[i];
    if (strcmp(r->section, section) != 0) continue;
    pmx__buf_appendf(&b, "| `%s` | %s | ", r->key, r->def);
    value_kind(r, &b);
    pmx__buf_appendf(&b, ": %s |\n", r->doc);
  }
  pmx__buf_append(&b, "", 1);
  return b.data;
}

static char *read_doc(void) {
  FILE *f = fopen(PMX_SOURCE_DIR "/docs/config.md", "rb");
  if (f == NULL) return NULL;
  char *text = calloc(1, 1 << 20);
  if (text != NULL) fread(text, 1, (1 << 20) - 1, f);
  fclose(f);
  return text;
}

static void doc_tables_match_rules(void **state) {
  (void)state;
  char *doc = read_doc();
  assert_non_null(doc);
  for (size_t s = 0; s < sizeof SECTIONS / sizeof SECTIONS[0]; s++) {
    char open[64];
    snprintf(open, sizeof open, "<!-- rules:%s -->\n", SECTIONS[s]);
    const char *start = strstr(doc, open);
    if (start == NULL) fprintf(stderr, "docs/config.md lacks the marker %s", open);
    assert_non_null(start);
    start += strlen(open);
    const char *end = strstr(start, "<!-- /rules -->");
    assert_non_null(end);
    char *want = render(SECTIONS[s]);
    assert_non_null(want);
    size_t n = (size_t)(end - start);
    if (n != strlen(want) || memcmp(start, want, n) != 0)
      fprintf(stderr, "docs/config.md [%s] differs from the rules; it should read:\n%s\n(regenerate with "
              "tests/unit/config/regen_config_doc.py <build dir>)\n", SECTIONS[s], want);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(start, want, n);
    free(want);
  }
  free(doc);
}

/* Each rule's section is one the docs show, and every key appears once in its section. */
static void rules_are_well_formed(void **state) {
  (void)state;
  for (size_t i = 0; i < pmx__n_config_rules; i++) {
    const pmx__config_rule_t *r = &pmx__config_rules[i];
    bool known = false;
    for (size_t s = 0; s < sizeof SECTIONS / sizeof SECTIONS[0]; s++) known |= strcmp(r->section, SECTIONS[s]) == 0;
    assert_true(known);
    assert_non_null(r->def);
    assert_non_null(r->doc);
    if (r->type == PMX__OPT_UINT) assert_true(r->min <= r->max);
    if (r->type == PMX__OPT_ENUM) assert_non_null(r->words);
    for (size_t j = 0; j < i; j++)
      assert_false(strcmp(r->section, pmx__config_rules[j].section) == 0 && strcmp(r->key, pmx__config_rules[j].key) == 0);
    assert_ptr_equal(pmx__config_rule_find(strcmp(r->section, "plugin.NAME") == 0 ? "plugin.any" : r->section, r->key), r);
  }
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "--print") == 0) {
    char *t = render(argv[2]);
    if (t == NULL) return 1;
    fputs(t, stdout);
    free(t);
    return 0;
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(rules_are_well_formed),
      cmocka_unit_test(doc_tables_match_rules),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
