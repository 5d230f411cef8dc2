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
static int run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return -1;
  char *buf = NULL;
  size_t len = 0, cap = 0;
  char chunk[4096];
  size_t got;
  while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
    if (len + got > cap) {
      cap = (len + got) * 2;
      char *nb = realloc(buf, cap);
      if (nb == NULL) {
        free(buf);
        fclose(f);
        return -1;
      }
      buf = nb;
    }
    memcpy(buf + len, chunk, got);
    len += got;
  }
  fclose(f);
  /* Exact-size copy so ASan catches reads past the input. */
  uint8_t *exact = malloc(len ? len : 1);
  if (exact == NULL) {
    free(buf);
    return -1;
  }
  if (len) memcpy(exact, buf, len);
  free(buf);
  LLVMFuzzerTestOneInput(exact, len);
  free(exact);
  return 0;
}

static int run_path(const char *path, int *count) {
  struct stat st;
  if (stat(path, &st) != 0) {
    fprintf(stderr, "cannot stat %s\n", path);
    return 1;
  }
  if (!S_ISDIR(st.st_mode)) {
    if (run_file(path) != 0) return 1;
    (*count)++;
    return 0;
  }
  DIR *d = opendir(path);
  if (d == NULL) return 1;
  struct dirent *e;
  int rc = 0;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", path, e->d_name);
    rc |= run_path(p, count);
  }
  closedir(d);
  return rc;
}

int main(int argc, char **argv) {
  int count = 0, rc = 0;
  if (argc > 1) {
    for (int i = 1; i < argc; i++) rc |= run_path(argv[i], &count);
  } else {
    const char *dir = getenv("PMX_FUZZ_CORPUS");
    if (dir == NULL) {
      fprintf(stderr, "usage: %s <corpus dir or files> (or set PMX_FUZZ_CORPUS)\n", argv[0]);
      return 2;
    }
    rc = run_path(dir, &count);
  }
  printf("replayed %d inputs\n", count);
  return rc != 0 || count == 0;
}
#endif
