/* Unit tests for the exposition (include/promex/expo.h): Prometheus text 0.0.4 and OpenMetrics 1.0
 * output for every metric kind, with expected lines computed here from the values fed in (never a
 * pasted blob): HELP/TYPE order and escaping, label escaping, UTF-8, histogram consistency, float
 * spellings and round-trips, fixed buffers (PMX_ELIMIT with the needed size), appending, several
 * registries, own metrics, locale independence and argument checks. */
#include <locale.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core_test_util.h"
#include "promex/promex.h"

/* Expected spelling of a sample value: NaN/+Inf/-Inf; integral values below 2^53 as integers;
 * otherwise the shortest %g form that reads back to the same double. */
static void fmt_num(char *out, size_t cap, double v) {
  if (isnan(v)) {
    snprintf(out, cap, "NaN");
  } else if (isinf(v)) {
    snprintf(out, cap, v > 0 ? "+Inf" : "-Inf");
  } else if (v == 0) {
    snprintf(out, cap, "0");
  } else if (v == trunc(v) && fabs(v) < 9007199254740992.0) {
    snprintf(out, cap, "%.0f", v);
  } else {
    for (int prec = 1; prec <= 17; prec++) {
      snprintf(out, cap, "%.*g", prec, v);
      if (strtod(out, NULL) == v) break;
    }
  }
}

static pmx_registry_t *new_reg(bool own) {
  pmx_registry_t *reg;
  pmx_registry_opts_t o = {.no_own_metrics = !own};
  assert_int_equal(pmx_registry_new(&o, &reg), PMX_OK);
  return reg;
}

static pmx_metric_t *define(pmx_registry_t *reg, const pmx_metric_def_t *def) {
  pmx_metric_t *m;
  pmx_error_t err = {0};
  int rc = pmx_metric_define(reg, def, &m, &err);
  if (rc != PMX_OK) fail_msg("define %s: %s", def->name, err.text);
  return m;
}

static pmx_series_t *series(pmx_metric_t *m, const char *const *v, size_t n) {
  pmx_series_t *s;
  assert_int_equal(pmx_metric_labels(m, v, n, &s), PMX_OK);
  return s;
}

/* Appends printf output to a growing expected string. */
static void cat(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void cat(char *dst, size_t cap, const char *fmt, ...) {
  size_t len = strlen(dst);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(dst + len, cap - len, fmt, ap);
  va_end(ap);
}

/* ---- text 0.0.4 ------------------------------------------------------------------------------------- */

static void test_text_counter_gauge_exact(void **state) {
  (void)state;
  pmx_registry_t *reg = new_reg(false);
  const char *tags[] = {"method"};
  pmx_metric_def_t c = {.kind = PMX_COUNTER, .name = "app.requests.total", .description = "Total requests.",
                        .tags = tags, .n_tags = 1};
  pmx_metric_def_t g = {.kind = PMX_LAST_VALUE, .name = "app.temperature", .description = "Temp."};
  pmx_metric_def_t sg = {.kind = PMX_SUM, .name = "app.inflight", .sum_as_gauge = true};
  pmx_metric_def_t sc = {.kind = PMX_SUM, .name = "app.bytes"};
  pmx_metric_t *mc = define(reg, &c), *mg = define(reg, &g), *msg = define(reg, &sg), *msc = define(reg, &sc);
  const char *get[] = {"GET"}, *post[] = {"POST"};
  double vget = 3, vpost = 1.5, vtemp = -12.25, vin = -2, vbytes = 1234.5;
  assert_int_equal(pmx_series_add(series(mc, get, 1), vget), PMX_OK);
  assert_int_equal(pmx_series_add(series(mc, post, 1), vpost), PMX_OK);
  assert_int_equal(pmx_series_set(series(mg, NULL, 0), vtemp), PMX_OK);
  assert_int_equal(pmx_series_add(series(msg, NULL, 0), vin), PMX_OK);
  assert_int_equal(pmx_series_add(series(msc, NULL, 0), vbytes), PMX_OK);

  char n1[40], n2[40], n3[40], n4[40], n5[40];
  fmt_num(n1, sizeof n1, vget);
  fmt_num(n2, sizeof n2, vpost);
  fmt_num(n3, sizeof n3, vtemp);
  fmt_num(n4, sizeof n4, vin);
  fmt_num(n5, sizeof n5, vbytes);
  char want[2048] = "";
  cat(want, sizeof want, "# HELP app_requests_total Total requests.\n# TYPE app_requests_total counter\n");
  cat(want, sizeof want, "app_requests_total{method=\"GET\"} %s\napp_requests_total{method=\"POST\"} %s\n", n1, n2);
  cat(want, sizeof want, "# HELP app_temperature Temp.\n# TYPE app_temperature gauge\napp_temperature %s\n", n3);
  cat(want, sizeof want, "# HELP app_inflight app_inflight\n# TYPE app_inflight gauge\napp_inflight %s\n", n4);
  cat(want, sizeof want, "# HELP app_bytes app_bytes\n# TYPE app_bytes counter\napp_bytes %s\n", n5);
  char *text = ct_render(reg, PMX_FORMAT_TEXT);
  assert_string_equal(text, want);
  free(text);
  pmx_registry_destroy(reg);
}

static void test_text_help_and_label_escaping(void **state) {
  (void)state;
  pmx_registry_t *reg = new_reg(false);
  const char *tags[] = {"path"};
  pmx_metric_def_t def = {.kind = PMX_LAST_VALUE, .name = "esc.value",
                          .description = "Line one\nback\\slash \"quoted\"", .tags = tags, .n_tags = 1};
  pmx_metric_t *m = define(reg, &def);
  const char *weird[] = {"a\\b\"c\nd"};
  const char *utf8[] = {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"};
  assert_int_equal(pmx_series_set(series(m, weird, 1), 1), PMX_OK);
  assert_int_equal(pmx_series_set(series(m, utf8, 1), 2), PMX_OK);
  char *text = ct_render(reg, PMX_FORMAT_TEXT);
  /* 0.0.4: HELP escapes \ and newline only; quotes stay as they are. */
  assert_true(ct_has_line(text, "# HELP esc_value Line one\\nback\\\\slash \"quoted\""));
  /* Label values escape \, " and newline. */
  assert_true(ct_has_line(text, "esc_value{path=\"a\\\\b\\\"c\\nd\"} 1"));
  /* UTF-8 passes through untouched. */
  assert_true(ct_has_line(text, "esc_value{path=\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"} 2"));
  free(text);

  text = ct_render(reg, PMX_FORMAT_OPENMETRICS);
  /* OpenMetrics HELP escapes quotes too. */
  assert_true(ct_has_line(text, "# HELP esc_value Line one\\nback\\\\slash \\\"quoted\\\""));
  assert_true(ct_has_line(text, "esc_value{path=\"a\\\\b\\\"c\\nd\"} 1"));
  free(text);
  pmx_registry_destroy(reg);
}

/* Parses the histogram lines of family `name` (with optional label prefix `lbl`, e.g.
 * "method=\"GET\","), checking them against bounds and observations computed here. */
static void check_hist_lines(const char *text, const char *name, const char *lbl, const double *bounds,
                             size_t nb, const double *obs, size_t no, bool om) {
  char prefix[256];
  for (size_t b = 0; b < nb; b++) {
    uint64_t want = 0;
    for (size_t i = 0; i < no; i++) want += obs[i] <= bounds[b];
    /* Find the b-th bucket line and parse its le. */
    snprintf(prefix, sizeof prefix, "%s_bucket{%sle=\"", name, lbl);
    const char *p = text;
    for (size_t k = 0; k <= b; k++) {
      p = strstr(p, prefix);
      if (p == NULL) fail_msg("bucket line %zu of %s missing", b, name);
      if (k < b) p++;
    }
    p += strlen(prefix);
    char *end;
    double le = strtod(p, &end);
    assert_true(le == bounds[b]);
    assert_true(end[0] == '"' && end[1] == '}' && end[2] == ' ');
    if (om) {
      /* OpenMetrics: canonical float, always with a '.' or exponent ("1.0", not "1"). */
      size_t le_len = (size_t)(end - p);
      bool has_dot = memchr(p, '.', le_len) || memchr(p, 'e', le_len);
      if (!has_dot) fail_msg("OpenMetrics le \"%.*s\" is not canonical", (int)le_len, p);
    }
    unsigned long long got = strtoull(end + 3, NULL, 10);
    if (got != want) fail_msg("%s le=%g: %llu, want %llu", name, bounds[b], got, (unsigned long long)want);
  }
  double sum = 0;
  for (size_t i = 0; i < no; i++) sum += obs[i];
  snprintf(prefix, sizeof prefix, "%s_bucket{%sle=\"+Inf\"}", name, lbl);
  assert_true(ct_sample_value(text, prefix) == (double)no);
  char plain[128];
  size_t ll = strlen(lbl);
  if (ll) {
    snprintf(plain, sizeof plain, "{%.*s}", (int)(ll - 1), lbl); /* drop the trailing comma */
  } else {
    plain[0] = '\0';
  }
  snprintf(prefix, sizeof prefix, "%s_count%s", name, plain);
  assert_true(ct_sample_value(text, prefix) == (double)no);
  snprintf(prefix, sizeof prefix, "%s_sum%s", name, plain);
  assert_true(ct_sample_value(text, prefix) == sum);
}

static void test_histogram_text_and_om(void **state) {
  (void)state;
  pmx_registry_t *reg = new_reg(false);
  const double bounds[] = {0.005, 0.5, 1, 2.5, 100};
  const char *tags[] = {"method"};
  pmx_metric_def_t def = {.kind = PMX_DISTRIBUTION, .name = "http.duration.seconds", .description = "Latency.",
                          .buckets = bounds, .n_buckets = 5, .tags = tags, .n_tags = 1};
  pmx_metric_def_t plain = {.kind = PMX_DISTRIBUTION, .name = "plain.size", .buckets = bounds, .n_buckets = 5};
  pmx_metric_t *m = define(reg, &def), *mp = define(reg, &plain);
  const double obs[] = {0.001, 0.005, 0.3, 0.5, 0.75, 1, 3, 99.5, 250};
  const double obs2[] = {1, 2, 2.5};
  const char *get[] = {"GET"};
  pmx_series_t *s = series(m, get, 1), *sp = series(mp, NULL, 0);
  for (size_t i = 0; i < 9; i++) assert_int_equal(pmx_series_observe(s, obs[i]), PMX_OK);
  for (size_t i = 0; i < 3; i++) assert_int_equal(pmx_series_observe(sp, obs2[i]), PMX_OK);

  char *text = ct_render(reg, PMX_FORMAT_TEXT);
  assert_true(ct_has_line(text, "# HELP http_duration_seconds Latency."));
  assert_true(ct_has_line(text, "# TYPE http_duration_seconds histogram"));
  check_hist_lines(text, "http_duration_seconds", "method=\"GET\",", bounds, 5, obs, 9, false);
  check_hist_lines(text, "plain_size", "", bounds, 5, obs2, 3, false);
  free(text);

  text = ct_render(reg, PMX_FORMAT_OPENMETRICS);
  assert_true(ct_has_line(text, "# TYPE http_duration_seconds histogram"));
  check_hist_lines(text, "http_duration_seconds", "method=\"GET\",", bounds, 5, obs, 9, true);
  check_hist_lines(text, "plain_size", "", bounds, 5, obs2, 3, true);
  /* The canonical spellings the task names. */
  assert_non_null(strstr(text, "plain_size_bucket{le=\"1.0\"} "));
  assert_non_null(strstr(text, "plain_size_bucket{le=\"0.005\"} "));
  assert_non_null(strstr(text, "plain_size_bucket{le=\"100.0\"} "));
  assert_non_null(strstr(text, "plain_size_bucket{le=\"+Inf\"} "));
  free(text);
  pmx_registry_destroy(reg);
}

/* A histogram series with no observations still shows all buckets at 0. */
static void test_histogram_empty_series(void **state) {
  (void)state;
  pmx_registry_t *reg = new_reg(false);
  const double bounds[] = {1, 2};
  pmx_metric_def_t def = {.kind = PMX_DISTRIBUTION, .name = "empty.h", .buckets = bounds, .n_buckets = 2};
  pmx_metric_t *m = define(reg, &def);
  (void)series(m, NULL, 0);
  char *text = ct_render(reg, PMX_FORMAT_TEXT);
  const double none[1] = {0};
  check_hist_lines(text, "empty_h", "", bounds, 2, none, 0, false);
  free(text);
  pmx_registry_destroy(reg);
}

/* A family with no series shows its HELP/TYPE and no samples. */
static void test_family_without_series(void **state) {
  (void)state;
  pmx_registry_t *reg = new_reg(false);
  pmx_metric_def_t def = {.kind = PMX_COUNTER, .name = "nothing.yet"};
  (void)define(reg, &def);
  char *text = ct_render(reg, PMX_FORMAT_TEXT);
  assert_string_equal(text, "# HELP nothing_yet nothing_yet\n# TYPE nothing_yet counter\n");
  free(text);
  pmx_registry_destroy(reg);
}

static void test_special_values(void **state) {
  (void)state;
  pmx_registry_t *reg = new_reg(false);
  pmx_bus_t *bus;
  assert_int_equal(pmx_bus_new(&bus), PMX_OK);
  const char *tags[] = {"k"};
  pmx_metric_def_t def = {.kind = PMX_LAST_VALUE, .name = "sp.value", .tags = tags, .n_tags = 1};
  pmx_metric_t *m = define(reg, &def);
  assert_int_equal(pmx_metric_attach(m, bus, NULL), PMX_OK);
  const char *pinf[] = {"pinf"}, *ninf[] = {"ninf"};
  assert_int_equal(pmx_series_set(series(m, pinf, 1), INFINITY), PMX_OK);
  assert_int_equal(pmx_series_set(series(m, ninf, 1), -INFINITY), PMX_OK);
  /* NaN through an event: a last_value records the latest measurement as it is. */
  pmx_measurement_t nan[] = {PMX_M("value", NAN)};
  pmx_meta_t md[] = {PMX_META_S("k", "nan")};
  assert_int_equal(pmx_emit_name(bus, "sp", nan, 1, md, 1), 1);
  for (int fmt = 0; fmt < 2; fmt++) {
    char *text = ct_render(reg, (pmx_format_t)fmt);
    assert_true(ct_has_line(text, "sp_value{k=\"pinf\"} +Inf"));
    assert_true(ct_has_line(text, "sp_value{k=\"ninf\"} -Inf"));
    assert_true(ct_has_line(text, "sp_value{k=\"nan\"} NaN"));
    free(text);
  }
  pmx_registry_destroy(reg);
  pmx_bus_destroy(bus);
}

/* Large integers and awkward doubles read back exactly. */
static void test_number_round_trip(void **state) {
  (void)state;
  pmx_registry_t *reg = new_reg(false);
  const char *tags[] = {"i"};
  pmx_metric_def_t def = {.kind = PMX_LAST_VALUE, .name = "rt.value", .tags = tags, .n_tags = 1};
  pmx_metric_t *m = define(reg, &def);
  const double vals[] = {1e15, 9007199254740992.0, 9007199254740994.0, 1e20, -1e20, 1.7976931348623157e308,
                         123456789012345.0, -42, 0.1, 1.0 / 3.0, 0.30000000000000004, 2.2250738585072014e-308,
                         1e-300, 4.9406564584124654e-324, -0.000001234, 3.141592653589793, 1e-5, 123.456,
                         6.02214076e23, 0.5};
  size_t n = sizeof vals / sizeof *vals;
  char idx[16];
  for (size_t i = 0; i < n; i++) {
    snprintf(idx, sizeof idx, "%zu", i);
    const char *v[] = {idx};
    assert_int_equal(pmx_series_set(series(m, v, 1), vals[i]), PMX_OK);
  }
  pmx_metric_def_t cdef = {.kind = PMX_COUNTER, .name = "rt.count"};
  pmx_metric_t *mc = define(reg, &cdef);
  pmx_series_t *cs = series(mc, NULL, 0);
  assert_int_equal(pmx_series_add(cs, 4503599627370496.0), PMX_OK); /* 2^52 */
  assert_int_equal(pmx_series_add(cs, 4503599627370496.0), PMX_OK); /* 2^53 in total */
  assert_int_equal(pmx_series_add(cs, 1e6), PMX_OK);
  double ctotal = 4503599627370496.0 * 2 + 1e6;

  for (int fmt = 0; fmt < 2; fmt++) {
    char *text = ct_render(reg, (pmx_format_t)fmt);
    char prefix[64];
    for (size_t i = 0; i < n; i++) {
      snprintf(prefix, sizeof prefix, "rt_value{i=\"%zu\"}", i);
      double got = ct_sample_value(text, prefix);
      if (got != vals[i]) fail_msg("value %.17g rendered as %.17g", vals[i], got);
    }
    double got = ct_sample_value(text, fmt == 0 ? "rt_count" : "rt_count_total");
    assert_true(got == ctotal);
    /* No sample line carries a decimal comma or a lowercase inf/nan. */
    assert_null(strstr(text, "inf"));
    assert_null(strstr(text, "nan"));
    free(text);
  }
  pmx_registry_destroy(reg);
}

/* "Floats use the shortest decimal form that reads back exactly." */
static void test_shortest_float_form(void **state) {
  (void)state;
  pmx_registry_t *reg = new_reg(false);
  const char *tags[] = {"i"};
  pmx_metric_def_t def = {.kind = PMX_LAST_VALUE, .name = "sf.value", .tags = tags, .n_tags = 1};
  pmx_metric_t *m = define(reg, &def);
  const double vals[] = {0.1, 1.5, 1e-5, 0.30000000000000004, 2.5e-7, 4.9406564584124654e-324, 1e-310};
  size_t n = sizeof vals / sizeof *vals;
  char idx[16];
  for (size_t i = 0; i < n; i++) {
    snprintf(idx, sizeof idx, "%zu", i);
    const char *v[] = {idx};
    assert_int_equal(pmx_series_set(series(m, v, 1), vals[i]), PMX_OK);
  }
  char *text = ct_render(reg, PMX_FORMAT_TEXT);
  char prefix[64], shortest[64], failure[1024] = "";
  for (size_t i = 0; i < n; i++) {
    snprintf(prefix, sizeof prefix, "sf_value{i=\"%zu\"} ", i);
    const char *p = strstr(text, prefix);
    assert_non_null(p);
    p += strlen(prefix);
    size_t len = strcspn(p, "\n");
    fmt_num(shortest, sizeof shortest, vals[i]);
    if (len > strlen(shortest)) {
      cat(failure, sizeof failure, "%.17g rendered as \"%.*s\", shortest round-trip form is \"%s\"; ",
          vals[i], (int)len, p, shortest);
    }
  }
  free(text);
  pmx_registry_destroy(reg); /* clean up before failing so valgrind reports only real leaks */
  if (failure[0]) fail_msg("%s", failure);
}

/* ---- OpenMetrics ------------------------------------------------------------------------------------ */

static void test_openmetrics_structure(void **state) {
  (void)state;
  pmx_registry_t *reg = new_reg(false);
  pmx_metric_def_t c1 = {.kind = PMX_COUNTER, .name = "jobs.done.total", .description = "Jobs."};
  pmx_metric_def_t c2 = {.kind = PMX_SUM, .name = "bytes.sent", .description = "Bytes."};
  pmx_metric_def_t g = {.kind = PMX_LAST_VALUE, .name = "queue.depth", .description = "Depth."};
  pmx_metric_t *m1 = define(reg, &c1), *m2 = define(reg, &c2), *m3 = define(reg, &g);
  double v1 = 7, v2 = 1024.5, v3 = 3;
  assert_int_equal(pmx_series_add(series(m1, NULL, 0), v1), PMX_OK);
  assert_int_equal(pmx_series_add(series(m2, NULL, 0), v2), PMX_OK);
  assert_int_equal(pmx_series_set(series(m3, NULL, 0), v3), PMX_OK);
  char n1[40], n2[40], n3[40];
  fmt_num(n1, sizeof n1, v1);
  fmt_num(n2, sizeof n2, v2);
  fmt_num(n3, sizeof n3, v3);
  char want[1024] = "";
  /* TYPE before HELP; counter family without _total, samples with it (added when missing). */
  cat(want, sizeof want, "# TYPE jobs_done counter\n# HELP jobs_done Jobs.\njobs_done_total %s\n", n1);
  cat(want, sizeof want, "# TYPE bytes_sent counter\n# HELP bytes_sent Bytes.\nbytes_sent_total %s\n", n2);
  cat(want, sizeof want, "# TYPE queue_depth gauge\n# HELP queue_depth Depth.\nqueue_depth %s\n", n3);
  cat(want, sizeof want, "# EOF\n");
  char *text = ct_render(reg, PMX_FORMAT_OPENMETRICS);
  assert_string_equal(text, want);
  free(text);

  /* Text 0.0.4 keeps the names as defined. */
  text = ct_render(reg, PMX_FORMAT_TEXT);
  assert_true(ct_has_line(text, "# TYPE jobs_done_total counter"));
  assert_true(ct_has_linef(text, "jobs_done_total %s", n1));
  assert_true(ct_has_linef(text, "bytes_sent %s", n2));
  assert_null(strstr(text, "# EOF"));
  free(text);
  pmx_registry_destroy(reg);
}

static void test_openmetrics_own_metrics(void **state) {
  (void)state;
  pmx_registry_t *reg = new_reg(true);
  pmx_metric_def_t c = {.kind = PMX_COUNTER, .name = "x.total"};
  (void)define(reg, &c);
  char *text = ct_render(reg, PMX_FORMAT_OPENMETRICS);
  assert_true(ct_has_line(text, "# TYPE promex_series_dropped counter"));
  assert_true(ct_has_line(text, "promex_series_dropped_total{metric=\"x_total\"} 0"));
  assert_true(ct_has_line(text, "# TYPE promex_events_skipped counter"));
  assert_true(ct_has_line(text, "promex_metric_series{metric=\"x_total\"} 0"));
  /* The exposition ends with exactly one # EOF. */
  size_t len = strlen(text);
  assert_true(len >= 6 && strcmp(text + len - 6, "# EOF\n") == 0);
  assert_int_equal(ct_count(text, "# EOF"), 1);
  free(text);
  pmx_registry_destroy(reg);
}

/* ---- ordering, own metrics, prefixes ----------------------------------------------------------------- */

static void test_order(void **state) {
  (void)state;
  pmx_registry_t *reg = new_reg(true);
  const char *tags[] = {"k"};
  pmx_metric_def_t b = {.kind = PMX_COUNTER, .name = "b.second", .tags = tags, .n_tags = 1};
  pmx_metric_def_t a = {.kind = PMX_COUNTER, .name = "a.first"};
  pmx_metric_t *mb = define(reg, &b);
  pmx_metric_t *ma = define(reg, &a);
  const char *z[] = {"z"}, *y[] = {"y"};
  (void)series(mb, z, 1);
  (void)series(mb, y, 1);
  (void)series(ma, NULL, 0);
  char *text = ct_render(reg, PMX_FORMAT_TEXT);
  long ib = ct_line_index(text, "# HELP b_second b_second");
  long ia = ct_line_index(text, "# HELP a_first a_first");
  long iz = ct_line_index(text, "b_second{k=\"z\"} 0");
  long iy = ct_line_index(text, "b_second{k=\"y\"} 0");
  long iown = ct_line_index(text, "# TYPE promex_metric_series gauge");
  assert_true(ib >= 0 && ia >= 0 && iz >= 0 && iy >= 0 && iown >= 0);
  assert_true(ib < ia);          /* definition order */
  assert_true(iz < iy);          /* creation order */
  assert_true(iy < ia);          /* a family's samples are grouped under it */
  assert_true(ia < iown);        /* own metrics last */
  assert_true(ct_has_line(text, "promex_metric_series{metric=\"b_second\"} 2"));
  assert_true(ct_has_line(text, "promex_metric_series{metric=\"a_first\"} 1"));
  free(text);
  pmx_registry_destroy(reg);
}

static void test_no_own_metrics_and_prefix(void **state) {
  (void)state;
  pmx_registry_t *reg = new_reg(false);
  pmx_metric_def_t c = {.kind = PMX_COUNTER, .name = "x.total"};
  (void)define(reg, &c);
  char *text = ct_render(reg, PMX_FORMAT_TEXT);
  assert_null(strstr(text, "promex"));
  assert_null(strstr(text, "series_dropped"));
  free(text);
  pmx_registry_destroy(reg);

  pmx_registry_opts_t o = {.own_metrics_prefix = "myapp_prom_ex_prom_ex"};
  assert_int_equal(pmx_registry_new(&o, &reg), PMX_OK);
  (void)define(reg, &c);
  text = ct_render(reg, PMX_FORMAT_TEXT);
  assert_true(ct_has_line(text, "# TYPE myapp_prom_ex_prom_ex_metric_series gauge"));
  assert_true(ct_has_line(text, "# TYPE myapp_prom_ex_prom_ex_series_dropped_total counter"));
  assert_true(ct_has_line(text, "# TYPE myapp_prom_ex_prom_ex_events_skipped_total counter"));
  assert_true(ct_has_line(text, "myapp_prom_ex_prom_ex_metric_series{metric=\"x_total\"} 0"));
  assert_null(strstr(text, "\npromex_"));
  free(text);
  pmx_registry_destroy(reg);
}

/* ---- buffers ------------------------------------------------------------------------------------------ */

static pmx_registry_t *sample_registry(void) {
  pmx_registry_t *reg = new_reg(true);
  const char *tags[] = {"method", "status"};
  const double bounds[] = {0.1, 1, 10};
  pmx_metric_def_t c = {.kind = PMX_COUNTER, .name = "buf.requests.total", .tags = tags, .n_tags = 2};
  pmx_metric_def_t h = {.kind = PMX_DISTRIBUTION, .name = "buf.latency", .buckets = bounds, .n_buckets = 3,
                        .tags = tags, .n_tags = 2};
  pmx_metric_t *mc = define(reg, &c), *mh = define(reg, &h);
  char st[8];
  for (int i = 0; i < 20; i++) {
    snprintf(st, sizeof st, "%d", 200 + i);
    const char *v[] = {i % 2 ? "GET" : "POST", st};
    assert_int_equal(pmx_series_add(series(mc, v, 2), i), PMX_OK);
    assert_int_equal(pmx_series_observe(series(mh, v, 2), i * 0.7), PMX_OK);
  }
  return reg;
}

static void test_fixed_buffer(void **state) {
  (void)state;
  pmx_registry_t *reg = sample_registry();
  for (int fmt = 0; fmt < 2; fmt++) {
    pmx_buf_t grow = {0};
    assert_int_equal(pmx_render(reg, (pmx_format_t)fmt, &grow), PMX_OK);
    size_t full = grow.len;
    assert_true(full > 100);

    /* Too small (including far too small and off by one): PMX_ELIMIT, len = needed. */
    size_t caps[] = {0, 10, full / 2, full - 1};
    for (size_t k = 0; k < 4; k++) {
      char *mem = caps[k] ? malloc(caps[k]) : NULL;
      pmx_buf_t fixed = {.data = mem, .len = 0, .cap = caps[k], .fixed = true};
      assert_int_equal(pmx_render(reg, (pmx_format_t)fmt, &fixed), PMX_ELIMIT);
      if (fixed.len != full) fail_msg("cap %zu: len %zu, needed %zu", caps[k], fixed.len, full);
      assert_ptr_equal(fixed.data, mem); /* never reallocated */
      assert_int_equal(fixed.cap, caps[k]);
      free(mem);
    }
    /* Exactly the needed size: identical bytes. */
    char *mem = malloc(full);
    pmx_buf_t fixed = {.data = mem, .len = 0, .cap = full, .fixed = true};
    assert_int_equal(pmx_render(reg, (pmx_format_t)fmt, &fixed), PMX_OK);
    assert_int_equal(fixed.len, full);
    assert_memory_equal(fixed.data, grow.data, full);
    pmx_buf_free(&fixed); /* does nothing to caller memory */
    free(mem);

    /* A fixed buffer with content already in it: the needed size counts that content. */
    size_t cap = 8 + full;
    mem = malloc(cap);
    memcpy(mem, "HEADER\n", 7);
    pmx_buf_t pre = {.data = mem, .len = 7, .cap = 7 + full - 1, .fixed = true};
    assert_int_equal(pmx_render(reg, (pmx_format_t)fmt, &pre), PMX_ELIMIT);
    assert_int_equal(pre.len, 7 + full);
    assert_memory_equal(mem, "HEADER\n", 7);
    pre.len = 7;
    pre.cap = cap;
    assert_int_equal(pmx_render(reg, (pmx_format_t)fmt, &pre), PMX_OK);
    assert_int_equal(pre.len, 7 + full);
    assert_memory_equal(mem, "HEADER\n", 7);
    assert_memory_equal(mem + 7, grow.data, full);
    free(mem);
    pmx_buf_free(&grow);
  }
  pmx_registry_destroy(reg);
}

static void test_render_appends(void **state) {
  (void)state;
  pmx_registry_t *reg = sample_registry();
  pmx_buf_t alone = {0};
  assert_int_equal(pmx_render(reg, PMX_FORMAT_TEXT, &alone), PMX_OK);
  pmx_buf_t buf = {0};
  assert_int_equal(pmx_render(reg, PMX_FORMAT_TEXT, &buf), PMX_OK);
  assert_int_equal(pmx_render(reg, PMX_FORMAT_TEXT, &buf), PMX_OK);
  assert_int_equal(buf.len, 2 * alone.len);
  assert_memory_equal(buf.data, alone.data, alone.len);
  assert_memory_equal(buf.data + alone.len, alone.data, alone.len);
  pmx_buf_free(&buf);
  assert_null(buf.data);
  assert_int_equal(buf.len, 0);
  pmx_buf_free(&alone);
  pmx_buf_free(NULL);
  pmx_registry_destroy(reg);
}

/* ---- several registries -------------------------------------------------------------------------------- */

static void test_render_many(void **state) {
  (void)state;
  pmx_registry_t *r1 = new_reg(false), *r2 = new_reg(false);
  pmx_metric_def_t a = {.kind = PMX_COUNTER, .name = "one.total"};
  pmx_metric_def_t b = {.kind = PMX_LAST_VALUE, .name = "two.value"};
  assert_int_equal(pmx_series_add(series(define(r1, &a), NULL, 0), 5), PMX_OK);
  assert_int_equal(pmx_series_set(series(define(r2, &b), NULL, 0), 6), PMX_OK);
  pmx_registry_t *both[] = {r1, r2};

  pmx_buf_t buf = {0};
  assert_int_equal(pmx_render_many(both, 2, PMX_FORMAT_OPENMETRICS, &buf), PMX_OK);
  char *text = strndup(buf.data, buf.len);
  assert_true(ct_has_line(text, "one_total 5"));
  assert_true(ct_has_line(text, "two_value 6"));
  assert_int_equal(ct_count(text, "# EOF"), 1);
  assert_true(strcmp(text + strlen(text) - 6, "# EOF\n") == 0);
  free(text);
  pmx_buf_free(&buf);

  /* Text: the concatenation of the two separate renders. */
  char *t1 = ct_render(r1, PMX_FORMAT_TEXT), *t2 = ct_render(r2, PMX_FORMAT_TEXT);
  assert_int_equal(pmx_render_many(both, 2, PMX_FORMAT_TEXT, &buf), PMX_OK);
  assert_int_equal(buf.len, strlen(t1) + strlen(t2));
  assert_memory_equal(buf.data, t1, strlen(t1));
  assert_memory_equal(buf.data + strlen(t1), t2, strlen(t2));
  pmx_buf_free(&buf);
  free(t1);
  free(t2);

  /* No registries: an empty exposition (just # EOF for OpenMetrics). */
  assert_int_equal(pmx_render_many(both, 0, PMX_FORMAT_TEXT, &buf), PMX_OK);
  assert_int_equal(buf.len, 0);
  assert_int_equal(pmx_render_many(both, 0, PMX_FORMAT_OPENMETRICS, &buf), PMX_OK);
  assert_int_equal(buf.len, 6);
  assert_memory_equal(buf.data, "# EOF\n", 6);
  pmx_buf_free(&buf);

  pmx_registry_t *withnull[] = {r1, NULL};
  assert_int_equal(pmx_render_many(withnull, 2, PMX_FORMAT_TEXT, &buf), PMX_EINVAL);
  assert_int_equal(buf.len, 0);
  assert_int_equal(pmx_render_many(NULL, 1, PMX_FORMAT_TEXT, &buf), PMX_EINVAL);
  pmx_buf_free(&buf);
  pmx_registry_destroy(r1);
  pmx_registry_destroy(r2);
}

/* Two registries with their own metrics on (the default) rendered together must still be one valid
 * exposition: every metric family (TYPE line) appears once. */
static void test_render_many_own_metrics_unique(void **state) {
  (void)state;
  pmx_registry_t *r1 = new_reg(true), *r2 = new_reg(true);
  pmx_metric_def_t a = {.kind = PMX_COUNTER, .name = "one.total"};
  pmx_metric_def_t b = {.kind = PMX_LAST_VALUE, .name = "two.value"};
  (void)define(r1, &a);
  (void)define(r2, &b);
  pmx_registry_t *both[] = {r1, r2};
  char failure[1024] = "";
  for (int fmt = 0; fmt < 2; fmt++) {
    pmx_buf_t buf = {0};
    assert_int_equal(pmx_render_many(both, 2, (pmx_format_t)fmt, &buf), PMX_OK);
    char *text = strndup(buf.data, buf.len);
    for (const char *p = text; (p = strstr(p, "# TYPE ")) != NULL; p++) {
      const char *e = strchr(p, '\n');
      char line[256];
      snprintf(line, sizeof line, "%.*s", (int)(e - p), p);
      size_t times = ct_count(text, line);
      if (times != 1 && strstr(failure, line) == NULL) {
        cat(failure, sizeof failure, "format %d: \"%s\" appears %zu times; ", fmt, line, times);
      }
    }
    free(text);
    pmx_buf_free(&buf);
  }
  pmx_registry_destroy(r1);
  pmx_registry_destroy(r2);
  if (failure[0]) fail_msg("%s", failure);
}

/* ---- locale ------------------------------------------------------------------------------------------------ */

static void test_locale_independence(void **state) {
  (void)state;
  const char *candidates[] = {"de_DE.UTF-8", "de_DE.utf8", "de_DE", "fr_FR.UTF-8", "fr_FR.utf8", "nl_NL.UTF-8",
                              "es_ES.UTF-8", "it_IT.UTF-8", "ru_RU.UTF-8", "pt_BR.UTF-8", "de_AT.UTF-8"};
  const char *found = NULL;
  for (size_t i = 0; i < sizeof candidates / sizeof *candidates && !found; i++) {
    if (setlocale(LC_ALL, candidates[i]) != NULL && strcmp(localeconv()->decimal_point, ",") == 0) {
      found = candidates[i];
    }
  }
  if (found == NULL) {
    setlocale(LC_ALL, "C");
    skip(); /* no installed locale with a decimal comma (see `locale -a`) */
  }
  char probe[16];
  snprintf(probe, sizeof probe, "%.1f", 1.5);
  assert_string_equal(probe, "1,5"); /* the locale really is in effect */

  pmx_registry_t *reg = new_reg(false);
  pmx_bus_t *bus;
  assert_int_equal(pmx_bus_new(&bus), PMX_OK);
  const double bounds[] = {0.25, 2.5};
  const char *tags[] = {"ratio"};
  pmx_metric_def_t g = {.kind = PMX_LAST_VALUE, .name = "loc.value"};
  pmx_metric_def_t h = {.kind = PMX_DISTRIBUTION, .name = "loc.hist", .buckets = bounds, .n_buckets = 2};
  pmx_metric_def_t t = {.kind = PMX_COUNTER, .name = "loc.tagged", .event_name = "loc", .tags = tags, .n_tags = 1};
  assert_int_equal(pmx_series_set(series(define(reg, &g), NULL, 0), 0.125), PMX_OK);
  assert_int_equal(pmx_series_observe(series(define(reg, &h), NULL, 0), 1.75), PMX_OK);
  pmx_metric_t *mt = define(reg, &t);
  assert_int_equal(pmx_metric_attach(mt, bus, NULL), PMX_OK);
  pmx_meta_t md[] = {PMX_META_D("ratio", 1.5)};
  assert_int_equal(pmx_emit_name(bus, "loc", NULL, 0, md, 1), 1);
  for (int fmt = 0; fmt < 2; fmt++) {
    char *text = ct_render(reg, (pmx_format_t)fmt);
    assert_true(ct_has_line(text, "loc_value 0.125"));
    assert_true(ct_has_line(text, "loc_hist_sum 1.75"));
    assert_non_null(strstr(text, "le=\"0.25\""));
    assert_non_null(strstr(text, "le=\"2.5\""));
    /* Tags formatted from double metadata are locale-independent too. */
    assert_non_null(strstr(text, "loc_tagged{ratio=\"1.5\"}"));
    assert_null(strstr(text, "1,5"));
    free(text);
  }
  /* The host's locale is left as it was. */
  snprintf(probe, sizeof probe, "%.1f", 1.5);
  assert_string_equal(probe, "1,5");
  setlocale(LC_ALL, "C");
  pmx_registry_destroy(reg);
  pmx_bus_destroy(bus);
}

/* ---- arguments ------------------------------------------------------------------------------------------------ */

static void test_render_bad_args(void **state) {
  (void)state;
  pmx_registry_t *reg = sample_registry();
  pmx_buf_t buf = {0};
  assert_int_equal(pmx_render(NULL, PMX_FORMAT_TEXT, &buf), PMX_EINVAL);
  assert_int_equal(buf.len, 0);
  assert_int_equal(pmx_render(reg, PMX_FORMAT_TEXT, NULL), PMX_EINVAL);
  assert_int_equal(pmx_render(reg, (pmx_format_t)7, &buf), PMX_EINVAL);
  assert_int_equal(buf.len, 0);
  /* A rejected render leaves existing content alone. */
  assert_int_equal(pmx_render(reg, PMX_FORMAT_TEXT, &buf), PMX_OK);
  size_t len = buf.len;
  assert_int_equal(pmx_render(reg, (pmx_format_t)-1, &buf), PMX_EINVAL);
  assert_int_equal(buf.len, len);
  pmx_buf_free(&buf);
  pmx_registry_destroy(reg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_text_counter_gauge_exact),
      cmocka_unit_test(test_text_help_and_label_escaping),
      cmocka_unit_test(test_histogram_text_and_om),
      cmocka_unit_test(test_histogram_empty_series),
      cmocka_unit_test(test_family_without_series),
      cmocka_unit_test(test_special_values),
      cmocka_unit_test(test_number_round_trip),
      cmocka_unit_test(test_shortest_float_form),
      cmocka_unit_test(test_openmetrics_structure),
      cmocka_unit_test(test_openmetrics_own_metrics),
      cmocka_unit_test(test_order),
      cmocka_unit_test(test_no_own_metrics_and_prefix),
      cmocka_unit_test(test_fixed_buffer),
      cmocka_unit_test(test_render_appends),
      cmocka_unit_test(test_render_many),
      cmocka_unit_test(test_render_many_own_metrics_unique),
      cmocka_unit_test(test_locale_independence),
      cmocka_unit_test(test_render_bad_args),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
