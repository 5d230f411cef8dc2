/* Writes an exposition with metrics at every definition and value edge, in both formats, and what
 * Prometheus must store from each: edges OUTDIR writes
 *   OUTDIR/metrics.txt, OUTDIR/metrics.om          the text 0.0.4 and OpenMetrics renders
 *   OUTDIR/expected.txt, OUTDIR/expected.om        one series per record: name, labels, value
 * (records end in \x1e, fields in \x1d; labels are name=value pairs joined by \x1f, since values
 * may hold tabs and newlines; values printed with %.17g). run.py serves the renders to a
 * real Prometheus and checks every expected series is stored with exactly that value.
 *
 * The expected values are computed here from the operations performed (in the order performed,
 * with the same double arithmetic), not copied from the output; the expected names follow the
 * format rules (a counter's OpenMetrics samples end in _total; an OpenMetrics histogram with a
 * negative bound has no _sum/_count). */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promex/promex.h"

static FILE *exp_text, *exp_om;
static pmx_registry_t *reg;

static void die(const char *what, int rc, const pmx_error_t *err) {
  fprintf(stderr, "edges: %s: %s %s\n", what, pmx_err_name(rc), err ? err->text : "");
  exit(1);
}

static pmx_metric_t *define(pmx_metric_def_t d) {
  pmx_metric_t *m;
  pmx_error_t err;
  int rc = pmx_metric_define(reg, &d, &m, &err);
  if (rc != PMX_OK) die(d.name, rc, &err);
  return m;
}

static pmx_series_t *series(pmx_metric_t *m, const char *const *values, size_t n) {
  pmx_series_t *s;
  int rc = pmx_metric_labels(m, values, n, &s);
  if (rc != PMX_OK) die(pmx_metric_name(m), rc, NULL);
  return s;
}

/* One expected line; `labels` are "k=v" strings already joined by \x1f (may be ""). */
static void expect_line(FILE *f, const char *name, const char *suffix, const char *labels, double v) {
  fprintf(f, "%s%s\x1d%s\x1d%.17g\x1e", name, suffix, labels, v);
}

static void join_labels(char *out, size_t cap, pmx_metric_t *m, const char *const *tags,
                        const char *const *values, size_t n) {
  (void)m;
  size_t len = 0;
  out[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    len += (size_t)snprintf(out + len, cap - len, "%s%s=%s", i ? "\x1f" : "", tags[i], values[i]);
  }
}

static void expect_scalar(pmx_metric_t *m, bool counter, const char *labels, double v) {
  const char *name = pmx_metric_name(m);
  size_t n = strlen(name);
  bool has_total = n > 6 && strcmp(name + n - 6, "_total") == 0;
  expect_line(exp_text, name, "", labels, v);
  expect_line(exp_om, name, counter && !has_total ? "_total" : "", labels, v);
}

static void expect_hist(pmx_metric_t *m, const char *labels, const double *bounds, size_t nb,
                        const uint64_t *cum, uint64_t count, double sum) {
  const char *name = pmx_metric_name(m);
  char lab[4096];
  for (int om = 0; om < 2; om++) {
    FILE *f = om ? exp_om : exp_text;
    for (size_t i = 0; i <= nb; i++) {
      char le[64];
      if (i < nb) {
        snprintf(le, sizeof le, "%.17g", bounds[i]);
      } else {
        snprintf(le, sizeof le, "+Inf");
      }
      snprintf(lab, sizeof lab, "%s%sle=%s", labels, *labels ? "\x1f" : "", le);
      expect_line(f, name, "_bucket", lab, (double)(i < nb ? cum[i] : count));
    }
    if (om && bounds[0] < 0) continue; /* OpenMetrics: no _sum (nor _count) */
    expect_line(f, name, "_count", labels, (double)count);
    expect_line(f, name, "_sum", labels, sum);
  }
}

static void write_render(const char *dir, const char *file, pmx_format_t fmt) {
  pmx_buf_t buf = {0};
  int rc = pmx_render(reg, fmt, &buf);
  if (rc != PMX_OK) die("render", rc, NULL);
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  FILE *f = fopen(path, "wb");
  if (f == NULL || fwrite(buf.data, 1, buf.len, f) != buf.len || fclose(f) != 0) die(path, PMX_EIO, NULL);
  pmx_buf_free(&buf);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: edges OUTDIR\n");
    return 2;
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/expected.txt", argv[1]);
  exp_text = fopen(path, "w");
  snprintf(path, sizeof path, "%s/expected.om", argv[1]);
  exp_om = fopen(path, "w");
  if (exp_text == NULL || exp_om == NULL || pmx_registry_new(NULL, &reg) != PMX_OK) die("setup", PMX_EIO, NULL);

  /* Item 3: counters past 2^53, 2^59 and 2^63, sharded (unlabelled) and labelled. */
  static const char *const k_tag[] = {"k"};
  const char *const k_v[] = {"v"};
  pmx_metric_t *big = define((pmx_metric_def_t){.kind = PMX_SUM, .name = "edge.big.bytes.total",
                                                .measurement = "x", .description = "1101 adds of 9e15."});
  pmx_series_t *s = series(big, NULL, 0);
  double want = 0;
  for (int i = 0; i < 1101; i++) {
    pmx_series_add(s, 9e15);
    want += 9e15;
  }
  expect_scalar(big, true, "", want);

  pmx_metric_t *big_l = define((pmx_metric_def_t){.kind = PMX_SUM, .name = "edge.big.labelled.total",
                                                  .measurement = "x", .tags = k_tag, .n_tags = 1});
  s = series(big_l, k_v, 1);
  want = 0;
  for (int i = 0; i < 1101; i++) {
    pmx_series_add(s, 9e15);
    want += 9e15;
  }
  expect_scalar(big_l, true, "k=v", want);

  /* Integral steps of 2^40 - 1 up to just below the integer spill point, then over it. */
  pmx_metric_t *spill = define((pmx_metric_def_t){.kind = PMX_COUNTER, .name = "edge.spill.total",
                                                  .tags = k_tag, .n_tags = 1});
  s = series(spill, k_v, 1);
  int64_t exact = 0;
  const int64_t step = ((int64_t)1 << 40) - 1;
  while (exact + step < ((int64_t)1 << 59)) {
    pmx_series_add(s, (double)step);
    exact += step;
  }
  expect_scalar(spill, true, "k=v", (double)exact); /* exact on the integer path */
  pmx_metric_t *spill2 = define((pmx_metric_def_t){.kind = PMX_COUNTER, .name = "edge.spilled.total"});
  s = series(spill2, NULL, 0);
  /* Unlabelled (sharded): one thread, one cell; past 2^59 the rest goes to the double part. */
  exact = 0;
  while (exact < ((int64_t)1 << 59)) {
    pmx_series_add(s, (double)step);
    exact += step;
  }
  pmx_series_add(s, (double)step);
  double spilled = (double)exact + (double)step;
  expect_scalar(spill2, true, "", spilled);

  pmx_metric_t *mixed = define((pmx_metric_def_t){.kind = PMX_SUM, .name = "edge.mixed.seconds.total",
                                                  .measurement = "x"});
  s = series(mixed, NULL, 0);
  double ints = 0, fracs = 0;
  const double adds[] = {9007199254740992.0, 0.25, 3, 0.5, 1099511627776.0, 7};
  for (size_t i = 0; i < sizeof adds / sizeof *adds; i++) {
    pmx_series_add(s, adds[i]);
    /* The store keeps small integral steps apart from the rest and adds them up on reading. */
    if (adds[i] < 1099511627776.0 && adds[i] == floor(adds[i])) {
      ints += adds[i];
    } else {
      fracs += adds[i];
    }
  }
  expect_scalar(mixed, true, "", ints + fracs);

  /* Item 1: strings at their limits. HELP with multi-byte UTF-8, quotes, backslash, newline, tab. */
  pmx_metric_t *g = define((pmx_metric_def_t){.kind = PMX_LAST_VALUE, .name = "edge.help.info", .measurement = "x",
                                              .description = "Caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \"q\" \\b\\ line1\nline2\ttab"});
  pmx_series_set(series(g, NULL, 0), 1);
  expect_scalar(g, false, "", 1);

  /* 16 labels; values with UTF-8, escapes, and one of exactly PMX_MAX_LABEL_VALUE bytes. */
  static const char *const many_tags[PMX_MAX_TAGS] = {"l0", "l1", "l2", "l3", "l4", "l5", "l6", "l7",
                                                      "l8", "l9", "l10", "l11", "l12", "l13", "l14", "l15"};
  pmx_metric_t *wide = define((pmx_metric_def_t){.kind = PMX_LAST_VALUE, .name = "edge.wide", .measurement = "x",
                                                 .tags = many_tags, .n_tags = PMX_MAX_TAGS});
  char *longest = malloc(PMX_MAX_LABEL_VALUE + 1);
  if (longest == NULL) die("malloc", PMX_ENOMEM, NULL);
  for (size_t i = 0; i < PMX_MAX_LABEL_VALUE; i++) longest[i] = (char)('a' + i % 26);
  longest[PMX_MAX_LABEL_VALUE] = '\0';
  const char *vals[PMX_MAX_TAGS] = {"caf\xc3\xa9", "\"quoted\"", "back\\slash", "new\nline", "tab\there",
                                    "\xf0\x9f\x98\x80", "", "x", longest, "{}", "a=b,c", "#", " lead", "trail ",
                                    "\xe2\x80\xa8", "ctl\x01\r\x7f"};
  pmx_series_set(series(wide, vals, PMX_MAX_TAGS), 42.5);
  char lab[PMX_MAX_TAGS * (PMX_MAX_LABEL_VALUE + 16)];
  join_labels(lab, sizeof lab, wide, many_tags, vals, PMX_MAX_TAGS);
  expect_scalar(wide, false, lab, 42.5);

  /* The longest name. */
  char name[PMX_MAX_METRIC_NAME + 1];
  memset(name, 'n', PMX_MAX_METRIC_NAME);
  memcpy(name, "edge_", 5);
  name[PMX_MAX_METRIC_NAME] = '\0';
  pmx_metric_t *longname = define((pmx_metric_def_t){.kind = PMX_LAST_VALUE, .name = name, .measurement = "x"});
  pmx_series_set(series(longname, NULL, 0), -0.5);
  expect_scalar(longname, false, "", -0.5);

  /* Item 4 (and 5): histograms, one with negative bounds, one with PMX_MAX_BUCKETS bounds. */
  static const double neg[] = {-10, -1, 0, 1};
  pmx_metric_t *hn = define((pmx_metric_def_t){.kind = PMX_DISTRIBUTION, .name = "edge.delta.celsius",
                                               .measurement = "x", .buckets = neg, .n_buckets = 4});
  s = series(hn, NULL, 0);
  const double obs[] = {-20, -5, -0.5, 0.75, 3};
  for (size_t i = 0; i < sizeof obs / sizeof *obs; i++) pmx_series_observe(s, obs[i]);
  uint64_t cum[PMX_MAX_BUCKETS + 1], count;
  double sum;
  pmx_series_histogram(s, cum, PMX_MAX_BUCKETS + 1, &count, &sum);
  uint64_t want_cum[4] = {0};
  double want_sum = 0;
  for (size_t i = 0; i < sizeof obs / sizeof *obs; i++) {
    want_sum += obs[i];
    for (size_t b = 0; b < 4; b++) want_cum[b] += obs[i] <= neg[b];
  }
  if (count != 5 || memcmp(cum, want_cum, sizeof want_cum) != 0 || sum != want_sum) die("histogram snapshot", PMX_EINVAL, NULL);
  expect_hist(hn, "", neg, 4, want_cum, 5, want_sum);

  double wide_b[PMX_MAX_BUCKETS];
  for (size_t i = 0; i < PMX_MAX_BUCKETS; i++) wide_b[i] = 0.001 * (double)(i + 1);
  pmx_metric_t *hw = define((pmx_metric_def_t){.kind = PMX_DISTRIBUTION, .name = "edge.latency.seconds",
                                               .measurement = "x", .buckets = wide_b, .n_buckets = PMX_MAX_BUCKETS,
                                               .tags = k_tag, .n_tags = 1});
  s = series(hw, k_v, 1);
  uint64_t wcum[PMX_MAX_BUCKETS] = {0};
  double wsum = 0;
  for (int i = 0; i < 300; i++) {
    double v = 0.0005 * i;
    pmx_series_observe(s, v);
    wsum += v;
    for (size_t b = 0; b < PMX_MAX_BUCKETS; b++) wcum[b] += v <= wide_b[b];
  }
  expect_hist(hw, "k=v", wide_b, PMX_MAX_BUCKETS, wcum, 300, wsum);

  /* Names next to each other that must all survive (none collides after rendering). */
  pmx_metric_t *c1 = define((pmx_metric_def_t){.kind = PMX_COUNTER, .name = "edge.reqs.total"});
  pmx_metric_t *c2 = define((pmx_metric_def_t){.kind = PMX_COUNTER, .name = "edge.reqs.totals.total"});
  pmx_metric_t *g2 = define((pmx_metric_def_t){.kind = PMX_LAST_VALUE, .name = "edge.reqs.created.info", .measurement = "x"});
  pmx_series_inc(series(c1, NULL, 0));
  pmx_series_add(series(c2, NULL, 0), 2);
  pmx_series_set(series(g2, NULL, 0), 3);
  expect_scalar(c1, true, "", 1);
  expect_scalar(c2, true, "", 2);
  expect_scalar(g2, false, "", 3);

  write_render(argv[1], "metrics.txt", PMX_FORMAT_TEXT);
  write_render(argv[1], "metrics.om", PMX_FORMAT_OPENMETRICS);
  fclose(exp_text);
  fclose(exp_om);
  free(longest);
  pmx_registry_destroy(reg);
  return 0;
}
