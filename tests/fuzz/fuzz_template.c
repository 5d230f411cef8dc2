/* Fuzz target for the dashboard template renderer, the linter and its PromQL scanner.
 *
 * Each input is used three ways: rendered as a template with a fixed set of assigns (and, when
 * that succeeds, the rendered JSON is linted); linted as a dashboard directly; and scanned as a
 * PromQL expression. Nothing may crash, leak or read out of bounds (run under ASan+UBSan), and a
 * successful render must be valid JSON that the linter does not call invalid_json.
 *
 * Built as a libFuzzer target with -DPMX_LIBFUZZER (tests/fuzz/CMakeLists.txt, PMX_BUILD_FUZZ);
 * otherwise a replay main runs every file of the directories or files given as arguments, or of
 * $PMX_FUZZ_CORPUS, so the seed corpus (tests/fuzz/corpus/template) runs in ctest. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dashboard/dashboard_internal.h"
#include "promex/dashboard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int ignore_item(void *ctx, const pmx__promql_item_t *it) {
  size_t *n = ctx;
  /* Touch every reported byte so ASan sees an out-of-bounds span. */
  for (size_t i = 0; i < it->len; i++) *n += (unsigned char)it->text[i];
  for (size_t i = 0; it->metric != NULL && i < it->metric_len; i++) *n += (unsigned char)it->metric[i];
  return 0;
}

typedef struct finding_check {
  int invalid_json;
} finding_check_t;

static void on_finding(void *ctx, const pmx_dashboard_finding_t *f) {
  finding_check_t *c = ctx;
  if (strcmp(f->rule, "invalid_json") == 0) c->invalid_json++;
  if (f->message == NULL || f->file == NULL) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const pmx_kv_t assigns[] = {
      {"app", "fz"},        {"uid", "fz-uid"},        {"title", "Fuzz \"title\"\n"},
      {"datasource_id", "p"}, {"n", "12.5e3"},        {"t", "true"},
      {"x_metric_prefix", "fz_prom_ex_x"}};
  const char *text = (const char *)data;
  pmx_dashboard_linter_t *l = NULL;
  if (pmx_dashboard_linter_new(&l) != PMX_OK) return 0;
  static const double buckets[] = {0.1, 1};
  pmx_dashboard_linter_add_metric(l, NULL, "fz_prom_ex_x_h", PMX_DISTRIBUTION, buckets, 2);
  pmx_dashboard_linter_add_metric(l, NULL, "fz_prom_ex_x_c", PMX_COUNTER, NULL, 0);

  char *json = NULL;
  pmx_error_t err;
  int rc = pmx_dashboard_render(text, size, "fuzz", assigns, sizeof assigns / sizeof assigns[0],
                                &json, &err);
  if (rc == PMX_OK) {
    finding_check_t c = {0};
    pmx_dashboard_lint(l, json, strlen(json), "rendered", on_finding, &c, NULL);
    if (c.invalid_json != 0) abort(); /* render promised valid JSON */
    free(json);
  } else if (json != NULL || err.code != rc) {
    abort();
  }
  finding_check_t c = {0};
  pmx_dashboard_lint(l, text, size, "raw", on_finding, &c, NULL);
  size_t sum = 0;
  pmx__promql_scan(text, size, ignore_item, &sum);
  pmx__scan_variables(text, size, ignore_item, &sum);
  pmx_dashboard_linter_free(l);
  return 0;
}

#ifndef PMX_LIBFUZZER
#include "replay_main.h"
#endif
