/* Regression tests for issue 8 items 1-5 and issue 9 (core): nothing a definition or an update
 * can do may make the exposition lose or misstate a series.
 *   - every string that is rendered is checked when its metric or series is created (HELP text,
 *     name length, label values on the direct and event paths, with and without tag_values);
 *   - two families can never render the same name in either format (PMX_EEXIST naming both),
 *     including the registry's own families;
 *   - counters and sums never wrap nor go backwards (edges 2^40, 2^53, 2^59, 2^63; sharded and
 *     labelled series; concurrent adds across the spill point);
 *   - OpenMetrics gets no _sum (and so no _count) for a histogram with a negative bound;
 *   - histogram snapshots are exact under concurrent observers (stress test);
 *   - series-creation failures map to their skip reasons, out of memory included. */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/core_internal.h"
#include "core_test_util.h"
#include "promex/promex.h"

static pmx_error_t define_fail(pmx_registry_t *reg, const pmx_metric_def_t *def, int code) {
  pmx_error_t err;
  memset(&err, 0, sizeof err);
  pmx_metric_t *m = (pmx_metric_t *)(uintptr_t)1;
  int rc = pmx_metric_define(reg, def, &m, &err);
  if (rc != code) fail_msg("define \"%s\": got %s (%s), want %s", def->name, pmx_err_name(rc), err.text, pmx_err_name(code));
  assert_null(m);
  assert_int_equal(err.code, code);
  return err;
}

/* ---- item 1: strings ------------------------------------------------------------------------- */

static void test_help_text_rules(void **state) {
  fixture_t *f = *state;
  char *before = ct_render(f->reg, PMX_FORMAT_TEXT);
  static const char *const bad[] = {
      "bad \xff byte",          /* not UTF-8: Prometheus drops the whole scrape */
      "truncated \xc3",         /* a sequence cut short */
      "overlong \xc0\xaf",      /* overlong '/' */
      "surrogate \xed\xa0\x80", /* U+D800 */
      "carriage\rreturn",       /* a control character with no escape */
      "bell\a",
      "del\x7f",
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    pmx_metric_def_t d = {.kind = PMX_LAST_VALUE, .name = "help.checked", .description = bad[i]};
    pmx_error_t err = define_fail(f->reg, &d, PMX_EINVAL);
    assert_non_null(strstr(err.text, "help_checked"));
    assert_non_null(strstr(err.text, "HELP"));
  }
  char *longhelp = malloc(PMX_MAX_HELP + 2);
  assert_non_null(longhelp);
  memset(longhelp, 'h', PMX_MAX_HELP + 1);
  longhelp[PMX_MAX_HELP + 1] = '\0';
  pmx_metric_def_t dl = {.kind = PMX_LAST_VALUE, .name = "help.long", .description = longhelp};
  pmx_error_t err = define_fail(f->reg, &dl, PMX_EINVAL);
  assert_non_null(strstr(err.text, "PMX_MAX_HELP"));
  char *after = ct_render(f->reg, PMX_FORMAT_TEXT);
  assert_string_equal(before, after); /* nothing was defined */
  /* At the limit, and UTF-8 with tab, newline, quote and backslash: accepted and escaped. */
  longhelp[PMX_MAX_HELP] = '\0';
  dl.description = longhelp;
  assert_int_equal(pmx_metric_define(f->reg, &dl, NULL, NULL), PMX_OK);
  pmx_metric_def_t ok = {.kind = PMX_LAST_VALUE, .name = "help.ok", .description = "caf\xc3\xa9\t\"q\" \\ l1\nl2 \xf0\x9f\x98\x80"};
  assert_int_equal(pmx_metric_define(f->reg, &ok, NULL, NULL), PMX_OK);
  char *text = ct_render(f->reg, PMX_FORMAT_TEXT);
  assert_true(ct_has_line(text, "# HELP help_ok caf\xc3\xa9\t\"q\" \\\\ l1\\nl2 \xf0\x9f\x98\x80"));
  char *om = ct_render(f->reg, PMX_FORMAT_OPENMETRICS);
  assert_true(ct_has_line(om, "# HELP help_ok caf\xc3\xa9\t\\\"q\\\" \\\\ l1\\nl2 \xf0\x9f\x98\x80"));
  free(om);
  free(text);
  free(before);
  free(after);
  free(longhelp);
}

static void test_name_length_limit(void **state) {
  fixture_t *f = *state;
  char name[PMX_MAX_METRIC_NAME + 2];
  memset(name, 'n', sizeof name - 1);
  name[PMX_MAX_METRIC_NAME + 1] = '\0';
  pmx_metric_def_t d = {.kind = PMX_LAST_VALUE, .name = name};
  pmx_error_t err = define_fail(f->reg, &d, PMX_ENAME);
  assert_non_null(strstr(err.text, "PMX_MAX_METRIC_NAME"));
  /* The prefix counts: 250 + '_' + 6 = 257. */
  pmx_metric_def_t dp = {.kind = PMX_LAST_VALUE, .prefix = name + (PMX_MAX_METRIC_NAME + 1 - 250), .name = "suffix"};
  (void)define_fail(f->reg, &dp, PMX_ENAME);
  name[PMX_MAX_METRIC_NAME] = '\0';
  assert_int_equal(pmx_metric_define(f->reg, &d, NULL, NULL), PMX_OK);
  /* The longest counter still gets its _total/_created names checked without truncation. */
  name[0] = 'c';
  pmx_metric_def_t dc = {.kind = PMX_COUNTER, .name = name};
  assert_int_equal(pmx_metric_define(f->reg, &dc, NULL, NULL), PMX_OK);
}

typedef struct bad_tag_ctx {
  const char *value;
} bad_tag_ctx_t;

static bool tag_from_scratch(const pmx_event_data_t *ev, pmx_tag_source_t *out, void *ctx) {
  (void)ev;
  bad_tag_ctx_t *c = ctx;
  snprintf(out->scratch, sizeof out->scratch, "%s", c->value);
  out->items[0] = PMX_META_S("who", out->scratch);
  out->n = 1;
  return true;
}

/* Label values are UTF-8-checked on every path that creates a series. */
static void test_label_values_checked_on_every_path(void **state) {
  fixture_t *f = *state;
  static const char *const tags[] = {"who"};
  pmx_metric_def_t direct = {.kind = PMX_COUNTER, .name = "direct.calls", .tags = tags, .n_tags = 1};
  pmx_metric_t *m;
  assert_int_equal(pmx_metric_define(f->reg, &direct, &m, NULL), PMX_OK);
  pmx_series_t *s = (pmx_series_t *)(uintptr_t)1;
  const char *bad[] = {"x\xff"};
  assert_int_equal(pmx_metric_labels(m, bad, 1, &s), PMX_EINVAL);
  assert_null(s);
  const char *lone_cont[] = {"\x80"};
  assert_int_equal(pmx_metric_labels(m, lone_cont, 1, &s), PMX_EINVAL);
  assert_int_equal(pmx_metric_series_count(m), 0);

  bad_tag_ctx_t ctx = {"y\xc3("};
  pmx_metric_def_t via = {.kind = PMX_COUNTER, .name = "via.tags.count", .tags = tags, .n_tags = 1,
                          .tag_values = tag_from_scratch, .tag_values_ctx = &ctx};
  pmx_metric_t *mv;
  assert_int_equal(pmx_metric_define(f->reg, &via, &mv, NULL), PMX_OK);
  assert_int_equal(pmx_metric_attach(mv, f->bus, NULL), PMX_OK);
  assert_int_equal(pmx_emit_name(f->bus, "via.tags", NULL, 0, NULL, 0), 1);
  ctx.value = "fine";
  assert_int_equal(pmx_emit_name(f->bus, "via.tags", NULL, 0, NULL, 0), 1);
  assert_int_equal(pmx_metric_series_count(mv), 1);
  char *text = ct_render(f->reg, PMX_FORMAT_TEXT);
  assert_true(ct_has_line(text, "via_tags_count{who=\"fine\"} 1"));
  assert_true(ct_has_line(text, "promex_events_skipped_total{metric=\"via_tags_count\",reason=\"invalid_label\"} 1"));
  assert_null(strstr(text, "\xc3("));
  free(text);
}

/* ---- item 2: rendered-name collisions -------------------------------------------------------- */

typedef struct pair {
  pmx_metric_kind_t k1;
  const char *n1;
  pmx_metric_kind_t k2;
  const char *n2;
  const char *shared; /* the name both would render */
} pair_t;

static void test_rendered_name_collisions(void **state) {
  (void)state;
  static const double b[] = {1, 2};
  const pair_t pairs[] = {
      {PMX_COUNTER, "reqs", PMX_COUNTER, "reqs_total", "reqs_total"},
      {PMX_COUNTER, "reqs_total", PMX_COUNTER, "reqs", "reqs"},
      {PMX_COUNTER, "reqs", PMX_LAST_VALUE, "reqs_total", "reqs_total"},
      {PMX_COUNTER, "reqs", PMX_LAST_VALUE, "reqs_created", "reqs_created"},
      {PMX_COUNTER, "reqs_total", PMX_LAST_VALUE, "reqs", "reqs"},
      {PMX_SUM, "bytes", PMX_COUNTER, "bytes_total", "bytes_total"},
      {PMX_DISTRIBUTION, "lat", PMX_LAST_VALUE, "lat_count", "lat_count"},
      {PMX_DISTRIBUTION, "lat", PMX_LAST_VALUE, "lat_sum", "lat_sum"},
      {PMX_DISTRIBUTION, "lat", PMX_LAST_VALUE, "lat_bucket", "lat_bucket"},
      {PMX_DISTRIBUTION, "lat", PMX_LAST_VALUE, "lat_created", "lat_created"},
      {PMX_DISTRIBUTION, "lat", PMX_COUNTER, "lat_count", "lat_count"},
      {PMX_LAST_VALUE, "lat_sum", PMX_DISTRIBUTION, "lat", "lat_sum"},
      {PMX_COUNTER, "lat_count_total", PMX_DISTRIBUTION, "lat", "lat_count"},
      {PMX_DISTRIBUTION, "h", PMX_DISTRIBUTION, "h_bucket", "h_bucket"},
      {PMX_COUNTER, "x", PMX_COUNTER, "x_created", "x_created"},
  };
  for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++) {
    pmx_registry_t *reg;
    assert_int_equal(pmx_registry_new(NULL, &reg), PMX_OK);
    pmx_metric_def_t d1 = {.kind = pairs[i].k1, .name = pairs[i].n1};
    pmx_metric_def_t d2 = {.kind = pairs[i].k2, .name = pairs[i].n2};
    if (d1.kind == PMX_DISTRIBUTION) d1.buckets = b, d1.n_buckets = 2;
    if (d2.kind == PMX_DISTRIBUTION) d2.buckets = b, d2.n_buckets = 2;
    assert_int_equal(pmx_metric_define(reg, &d1, NULL, NULL), PMX_OK);
    char *before = ct_render(reg, PMX_FORMAT_OPENMETRICS);
    pmx_error_t err = define_fail(reg, &d2, PMX_EEXIST);
    char want1[300], want2[300], want3[300];
    snprintf(want1, sizeof want1, "\"%s\"", pairs[i].n1);
    snprintf(want2, sizeof want2, "\"%s\"", pairs[i].n2);
    snprintf(want3, sizeof want3, "\"%s\"", pairs[i].shared);
    if (!strstr(err.text, want1) || !strstr(err.text, want2) || !strstr(err.text, want3)) {
      fail_msg("pair %zu: message \"%s\" must name %s, %s and %s", i, err.text, want1, want2, want3);
    }
    char *after = ct_render(reg, PMX_FORMAT_OPENMETRICS);
    assert_string_equal(before, after);
    assert_null(pmx_registry_find(reg, pairs[i].n2));
    free(before);
    free(after);
    pmx_registry_destroy(reg);
  }
  /* Near misses are fine: the rendered names differ. */
  pmx_registry_t *reg;
  assert_int_equal(pmx_registry_new(NULL, &reg), PMX_OK);
  const pmx_metric_def_t fine[] = {
      {.kind = PMX_LAST_VALUE, .name = "g"},
      {.kind = PMX_LAST_VALUE, .name = "g_sum"},       /* gauges render only their name */
      {.kind = PMX_LAST_VALUE, .name = "g_total"},
      {.kind = PMX_COUNTER, .name = "c_totals"},
      {.kind = PMX_COUNTER, .name = "c_total_x"},
      {.kind = PMX_SUM, .name = "s", .sum_as_gauge = true}, /* a gauge */
      {.kind = PMX_LAST_VALUE, .name = "s_total"},
      {.kind = PMX_COUNTER, .name = "_total"},         /* too short to lose its suffix */
      {.kind = PMX_LAST_VALUE, .name = "promex_metric_series_x"},
  };
  for (size_t i = 0; i < sizeof fine / sizeof *fine; i++) {
    pmx_error_t err;
    if (pmx_metric_define(reg, &fine[i], NULL, &err) != PMX_OK) fail_msg("%s: %s", fine[i].name, err.text);
  }
  /* A counter "_total": OpenMetrics family "_total", sample "_total_total"; both reserved. */
  pmx_metric_def_t tt = {.kind = PMX_LAST_VALUE, .name = "_total_total"};
  (void)define_fail(reg, &tt, PMX_EEXIST);
  pmx_registry_destroy(reg);
}

static void test_own_family_names_reserved(void **state) {
  (void)state;
  pmx_registry_t *reg;
  assert_int_equal(pmx_registry_new(NULL, &reg), PMX_OK);
  const pmx_metric_def_t bad[] = {
      {.kind = PMX_COUNTER, .name = "promex_series_dropped_total"},
      {.kind = PMX_COUNTER, .name = "promex_series_dropped"},      /* its _total sample */
      {.kind = PMX_LAST_VALUE, .name = "promex_events_skipped"},   /* OpenMetrics family name */
      {.kind = PMX_LAST_VALUE, .name = "promex_events_skipped_created"},
      {.kind = PMX_LAST_VALUE, .name = "promex_metric_series"},
      {.kind = PMX_COUNTER, .name = "series_dropped_total", .prefix = "promex"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    pmx_error_t err = define_fail(reg, &bad[i], PMX_EEXIST);
    assert_non_null(strstr(err.text, "promex's own family"));
  }
  pmx_registry_destroy(reg);

  /* A custom own prefix moves the reservation; no_own_metrics lifts it. */
  pmx_registry_opts_t o = {.own_metrics_prefix = "app_prom_ex_prom_ex"};
  assert_int_equal(pmx_registry_new(&o, &reg), PMX_OK);
  pmx_metric_def_t own = {.kind = PMX_COUNTER, .prefix = "app_prom_ex_prom_ex", .name = "events_skipped_total"};
  pmx_error_t err = define_fail(reg, &own, PMX_EEXIST);
  assert_non_null(strstr(err.text, "app_prom_ex_prom_ex_events_skipped_total"));
  assert_int_equal(pmx_metric_define(reg, &bad[0], NULL, NULL), PMX_OK);
  pmx_registry_destroy(reg);
  pmx_registry_opts_t none = {.no_own_metrics = true};
  assert_int_equal(pmx_registry_new(&none, &reg), PMX_OK);
  assert_int_equal(pmx_metric_define(reg, &bad[0], NULL, NULL), PMX_OK);
  pmx_registry_destroy(reg);
}

/* Many families: the name set grows and still finds every name. */
static void test_many_families(void **state) {
  fixture_t *f = *state;
  char name[64];
  for (int i = 0; i < 2000; i++) {
    snprintf(name, sizeof name, "fam_%d", i);
    pmx_metric_def_t d = {.kind = i % 2 ? PMX_COUNTER : PMX_LAST_VALUE, .name = name};
    assert_int_equal(pmx_metric_define(f->reg, &d, NULL, NULL), PMX_OK);
  }
  for (int i = 0; i < 2000; i += 2) { /* the gauges: a counter over them would render fam_i */
    snprintf(name, sizeof name, "fam_%d_total", i);
    pmx_metric_def_t d = {.kind = PMX_COUNTER, .name = name};
    (void)define_fail(f->reg, &d, PMX_EEXIST);
  }
}

/* ---- item 3: counters never wrap ------------------------------------------------------------- */

static pmx_series_t *scalar_series(pmx_registry_t *reg, pmx_metric_kind_t kind, const char *name, bool labelled) {
  static const char *const tags[] = {"k"};
  pmx_metric_def_t d = {.kind = kind, .name = name, .tags = labelled ? tags : NULL, .n_tags = labelled ? 1 : 0};
  pmx_metric_t *m;
  assert_int_equal(pmx_metric_define(reg, &d, &m, NULL), PMX_OK);
  const char *v[] = {"v"};
  pmx_series_t *s;
  assert_int_equal(pmx_metric_labels(m, labelled ? v : NULL, labelled ? 1 : 0, &s), PMX_OK);
  return s;
}

static void test_counter_never_wraps(void **state) {
  fixture_t *f = *state;
  for (int labelled = 0; labelled < 2; labelled++) {
    char name[32];
    /* The case: 1101 additions of 9e15 (past 2^63 in total). */
    snprintf(name, sizeof name, "big_%d", labelled);
    pmx_series_t *s = scalar_series(f->reg, PMX_SUM, name, labelled);
    double prev = 0;
    for (int i = 0; i < 1101; i++) {
      assert_int_equal(pmx_series_add(s, 9e15), PMX_OK);
      double v = pmx_series_value(s);
      assert_true(v >= prev);
      prev = v;
    }
    assert_true(fabs(prev - 1101 * 9e15) <= 1101 * 9e15 * 1e-12);
    char *text = ct_render(f->reg, PMX_FORMAT_TEXT);
    char line[128];
    snprintf(line, sizeof line, labelled ? "%s{k=\"v\"} 9.909e+18" : "%s 9.909e+18", name);
    if (!ct_has_line(text, line)) fail_msg("missing \"%s\" in:\n%s", line, text);
    free(text);

    /* Edges: 2^40 - 1 stays exact on the integer path; 2^40, 2^53 and 2^63 take the double path. */
    snprintf(name, sizeof name, "edge_%d", labelled);
    s = scalar_series(f->reg, PMX_COUNTER, name, labelled);
    double want = 0;
    const double steps[] = {1099511627775.0, 1099511627776.0, 9007199254740992.0, 9223372036854775808.0, 0.5, 3};
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
      assert_int_equal(pmx_series_add(s, steps[i]), PMX_OK);
      want += steps[i];
      double got = pmx_series_value(s);
      if (!(fabs(got - want) <= want * 1e-15)) fail_msg("step %zu: %.17g, want %.17g", i, got, want);
    }
    assert_int_equal(pmx_series_add(s, INFINITY), PMX_OK); /* a counter may reach +Inf, never wrap */
    assert_true(isinf(pmx_series_value(s)) && pmx_series_value(s) > 0);

    /* Crossing the spill point (2^59) with integral steps, then +1s: exact until the spill,
     * never decreasing after it. */
    snprintf(name, sizeof name, "spill_%d", labelled);
    s = scalar_series(f->reg, PMX_COUNTER, name, labelled);
    const double step = 1099511627775.0; /* 2^40 - 1 */
    int64_t exact = 0; /* the integer cells count exactly: one rounding, when read as a double */
    while (exact + (int64_t)step < ((int64_t)1 << 59)) {
      pmx_series_add(s, step);
      exact += (int64_t)step;
    }
    assert_true(pmx_series_value(s) == (double)exact);
    /* Up to one below the spill point, then an increment crosses it (on the unlabelled counter,
     * through pmx_series_inc's owned-cell fast path). */
    const int64_t spill = (int64_t)1 << 59;
    assert_int_equal(pmx_series_add(s, (double)(spill - 1 - exact)), PMX_OK);
    exact = spill - 1;
    assert_true(pmx_series_value(s) == (double)exact);
    assert_int_equal(pmx_series_inc(s), PMX_OK);
    exact = spill;
    assert_true(pmx_series_value(s) == (double)exact);
    prev = (double)exact;
    for (int i = 0; i < 2000; i++) {
      assert_int_equal(i % 2 ? pmx_series_inc(s) : pmx_series_add(s, step), PMX_OK);
      double v = pmx_series_value(s);
      assert_true(v >= prev);
      prev = v;
    }
    assert_true(prev >= (double)exact + 1000 * step);
    assert_true(prev < 576460752303423488.0 * 2);
  }
}

typedef struct adder {
  pmx_series_t *s;
  int n;
} adder_t;

static void *add_big(void *arg) {
  adder_t *a = arg;
  for (int i = 0; i < a->n; i++) pmx_series_add(a->s, 1099511627775.0); /* 2^40 - 1 */
  return NULL;
}

static void *inc_many(void *arg) {
  adder_t *a = arg;
  for (int i = 0; i < a->n; i++) pmx_series_inc(a->s);
  return NULL;
}

/* Several threads drive a sharded and a labelled counter across the spill point; a reader checks
 * that the value never goes down or negative, and the final value accounts for every step. */
static void test_counter_concurrent_near_limit(void **state) {
  fixture_t *f = *state;
  enum { THREADS = 4, PER = 150000 }; /* 4 * 150000 * 2^40 ~ 6.6e17 > 2^59 */
  for (int labelled = 0; labelled < 2; labelled++) {
    char name[32];
    snprintf(name, sizeof name, "conc_%d", labelled);
    pmx_series_t *s = scalar_series(f->reg, PMX_COUNTER, name, labelled);
    pthread_t th[THREADS + 1];
    adder_t a = {s, PER};
    adder_t inc = {s, 200000};
    for (int i = 0; i < THREADS; i++) assert_int_equal(pthread_create(&th[i], NULL, add_big, &a), 0);
    assert_int_equal(pthread_create(&th[THREADS], NULL, inc_many, &inc), 0);
    double prev = 0;
    for (int r = 0; r < 20000; r++) {
      double v = pmx_series_value(s);
      if (v < prev) fail_msg("counter went from %.17g to %.17g", prev, v);
      prev = v;
    }
    for (int i = 0; i <= THREADS; i++) pthread_join(th[i], NULL);
    double want = (double)THREADS * PER * 1099511627775.0 + 200000;
    double got = pmx_series_value(s);
    assert_true(got >= prev);
    /* Past the spill each step into the double part rounds to its precision (ulp/2 of ~2^56:
     * up to 8 per step, either way; a +1 may vanish), so allow that, and nothing like a wrap. */
    if (!(fabs(got - want) <= want * 1e-12 + 200000)) {
      fail_msg("final %.17g, want %.17g", got, want);
    }
  }
}

/* ---- item 4: negative bucket bounds ---------------------------------------------------------- */

static void test_negative_buckets_no_om_sum(void **state) {
  fixture_t *f = *state;
  static const double neg[] = {-1, 0, 1};
  static const double pos[] = {0, 1};
  pmx_metric_def_t dn = {.kind = PMX_DISTRIBUTION, .name = "temp.delta", .buckets = neg, .n_buckets = 3};
  pmx_metric_def_t dp = {.kind = PMX_DISTRIBUTION, .name = "wait.time", .buckets = pos, .n_buckets = 2};
  pmx_metric_t *mn, *mp;
  assert_int_equal(pmx_metric_define(f->reg, &dn, &mn, NULL), PMX_OK);
  assert_int_equal(pmx_metric_define(f->reg, &dp, &mp, NULL), PMX_OK);
  pmx_series_t *sn, *sp;
  assert_int_equal(pmx_metric_labels(mn, NULL, 0, &sn), PMX_OK);
  assert_int_equal(pmx_metric_labels(mp, NULL, 0, &sp), PMX_OK);
  pmx_series_observe(sn, -3);
  pmx_series_observe(sn, 0.5);
  pmx_series_observe(sp, 0.5);
  char *om = ct_render(f->reg, PMX_FORMAT_OPENMETRICS);
  assert_true(ct_has_line(om, "temp_delta_bucket{le=\"-1.0\"} 1"));
  assert_true(ct_has_line(om, "temp_delta_bucket{le=\"+Inf\"} 2"));
  assert_null(strstr(om, "temp_delta_sum"));
  assert_null(strstr(om, "temp_delta_count"));
  assert_true(ct_has_line(om, "wait_time_sum 0.5"));
  assert_true(ct_has_line(om, "wait_time_count 1"));
  char *text = ct_render(f->reg, PMX_FORMAT_TEXT);
  assert_true(ct_has_line(text, "temp_delta_sum -2.5"));
  assert_true(ct_has_line(text, "temp_delta_count 2"));
  free(om);
  free(text);
  /* A histogram without a negative bound that is given a negative value loses its OpenMetrics
   * _sum from then on (for every series of the family), and keeps it in text 0.0.4. */
  static const char *const tag[] = {"k"};
  pmx_metric_def_t dl = {.kind = PMX_DISTRIBUTION, .name = "lag.seconds", .buckets = pos,
                         .n_buckets = 2, .tags = tag, .n_tags = 1};
  pmx_metric_t *ml;
  assert_int_equal(pmx_metric_define(f->reg, &dl, &ml, NULL), PMX_OK);
  pmx_series_t *sa, *sb;
  const char *va[] = {"a"}, *vb[] = {"b"};
  assert_int_equal(pmx_metric_labels(ml, va, 1, &sa), PMX_OK);
  assert_int_equal(pmx_metric_labels(ml, vb, 1, &sb), PMX_OK);
  pmx_series_observe(sa, 0.25);
  pmx_series_observe(sb, 0.5);
  om = ct_render(f->reg, PMX_FORMAT_OPENMETRICS);
  assert_true(ct_has_line(om, "lag_seconds_sum{k=\"a\"} 0.25"));
  free(om);
  pmx_series_observe(sa, -2);
  om = ct_render(f->reg, PMX_FORMAT_OPENMETRICS);
  assert_null(strstr(om, "lag_seconds_sum"));
  assert_null(strstr(om, "lag_seconds_count"));
  assert_true(ct_has_line(om, "lag_seconds_bucket{k=\"a\",le=\"+Inf\"} 2"));
  assert_true(ct_has_line(om, "wait_time_sum 0.5")); /* other families keep theirs */
  text = ct_render(f->reg, PMX_FORMAT_TEXT);
  assert_true(ct_has_line(text, "lag_seconds_sum{k=\"a\"} -1.75"));
  assert_true(ct_has_line(text, "lag_seconds_count{k=\"b\"} 1"));
  free(om);
  free(text);
}

/* ---- item 5: exact histogram snapshots ------------------------------------------------------- */

typedef struct observer {
  pmx_series_t *s;
  _Atomic int *stop;
  uint64_t done;
} observer_t;

static void *observe_loop(void *arg) {
  observer_t *o = arg;
  /* 0.5 lands in le=1, 4.0 in +Inf; both exact in binary, so the sum is exact too. */
  while (!atomic_load_explicit(o->stop, memory_order_relaxed)) {
    pmx_series_observe(o->s, (o->done & 1) ? 4.0 : 0.5);
    o->done++;
  }
  return NULL;
}

static void test_histogram_snapshot_exact_under_writers(void **state) {
  fixture_t *f = *state;
  static const double b[] = {1, 2};
  pmx_metric_def_t d = {.kind = PMX_DISTRIBUTION, .name = "stress.hist", .buckets = b, .n_buckets = 2};
  pmx_metric_t *m;
  assert_int_equal(pmx_metric_define(f->reg, &d, &m, NULL), PMX_OK);
  pmx_series_t *s;
  assert_int_equal(pmx_metric_labels(m, NULL, 0, &s), PMX_OK);
  enum { THREADS = 4 };
  _Atomic int stop = 0;
  observer_t o[THREADS];
  pthread_t th[THREADS];
  for (int i = 0; i < THREADS; i++) {
    o[i] = (observer_t){s, &stop, 0};
    assert_int_equal(pthread_create(&th[i], NULL, observe_loop, &o[i]), 0);
  }
  uint64_t cum[3], count, prev = 0;
  double sum;
  unsigned grew = 0;
  /* Until the reader has seen the count grow many times (writers interleaved), or a bound.
   * Valgrind runs one thread at a time and each snapshot that meets an observation in flight
   * waits out a whole time slice, so there it gets a smaller goal and fewer rounds. */
  const bool vg = getenv("PMX_UNDER_VALGRIND") != NULL;
  const unsigned goal = vg ? 5 : 200;
  const int min_rounds = vg ? 200 : 20000, max_rounds = vg ? 100000 : 5000000;
  for (int r = 0; r < min_rounds || (grew < goal && r < max_rounds); r++) {
    assert_int_equal(pmx_series_histogram(s, cum, 3, &count, &sum), PMX_OK);
    uint64_t small = cum[0], big = count - cum[1];
    if (cum[2] != count || cum[1] != cum[0] || sum != 0.5 * (double)small + 4.0 * (double)big || count < prev) {
      fail_msg("snapshot %d inconsistent: le1=%llu le2=%llu inf=%llu count=%llu sum=%.17g (prev count %llu)", r,
               (unsigned long long)cum[0], (unsigned long long)cum[1], (unsigned long long)cum[2],
               (unsigned long long)count, sum, (unsigned long long)prev);
    }
    grew += count > prev;
    prev = count;
  }
  atomic_store(&stop, 1);
  uint64_t total = 0;
  for (int i = 0; i < THREADS; i++) {
    pthread_join(th[i], NULL);
    total += o[i].done;
  }
  assert_true(grew >= goal); /* the reader really ran alongside the writers */
  assert_int_equal(pmx_series_histogram(s, cum, 3, &count, &sum), PMX_OK);
  assert_int_equal(count, total);
  uint64_t want_small = 0;
  for (int i = 0; i < THREADS; i++) want_small += (o[i].done + 1) / 2;
  assert_int_equal(cum[0], want_small);
  assert_true(sum == 0.5 * (double)want_small + 4.0 * (double)(total - want_small));
  assert_true(pmx_series_value(s) == (double)total);
  /* And the rendering agrees with the snapshot (both formats). */
  char *text = ct_render(f->reg, PMX_FORMAT_TEXT);
  assert_true(ct_has_linef(text, "stress_hist_count %llu", (unsigned long long)total));
  assert_true(ct_has_linef(text, "stress_hist_bucket{le=\"+Inf\"} %llu", (unsigned long long)total));
  free(text);
}

/* Several readers at once (serialised among themselves) with writers: still exact. */
typedef struct reader {
  pmx_series_t *s;
  int bad;
} reader_t;

static void *read_loop(void *arg) {
  reader_t *r = arg;
  uint64_t cum[2], count;
  double sum;
  for (int i = 0; i < 5000; i++) {
    pmx_series_histogram(r->s, cum, 2, &count, &sum);
    if (cum[1] != count || sum != (double)count) r->bad++;
  }
  return NULL;
}

static void *observe_ones(void *arg) {
  observer_t *o = arg;
  while (!atomic_load_explicit(o->stop, memory_order_relaxed)) {
    pmx_series_observe(o->s, 1.0);
    o->done++;
  }
  return NULL;
}

static void test_histogram_concurrent_readers(void **state) {
  fixture_t *f = *state;
  static const double b[] = {10};
  pmx_metric_def_t d = {.kind = PMX_DISTRIBUTION, .name = "stress.ones", .buckets = b, .n_buckets = 1};
  pmx_metric_t *m;
  assert_int_equal(pmx_metric_define(f->reg, &d, &m, NULL), PMX_OK);
  pmx_series_t *s;
  assert_int_equal(pmx_metric_labels(m, NULL, 0, &s), PMX_OK);
  _Atomic int stop = 0;
  observer_t o[2] = {{s, &stop, 0}, {s, &stop, 0}};
  reader_t rd[2] = {{s, 0}, {s, 0}};
  pthread_t th[4];
  for (int i = 0; i < 2; i++) assert_int_equal(pthread_create(&th[i], NULL, observe_ones, &o[i]), 0);
  for (int i = 0; i < 2; i++) assert_int_equal(pthread_create(&th[2 + i], NULL, read_loop, &rd[i]), 0);
  pthread_join(th[2], NULL);
  pthread_join(th[3], NULL);
  atomic_store(&stop, 1);
  pthread_join(th[0], NULL);
  pthread_join(th[1], NULL);
  assert_int_equal(rd[0].bad + rd[1].bad, 0);
  uint64_t cum[2], count;
  double sum;
  pmx_series_histogram(s, cum, 2, &count, &sum);
  assert_int_equal(count, o[0].done + o[1].done);
  assert_true(sum == (double)count);
}

/* ---- issue 9: series results ----------------------------------------------------------------- */

static void test_series_results_map_to_skip_reasons(void **state) {
  (void)state;
  assert_int_equal(pmx__series_skip_reason(PMX__SERIES_LABEL_TOO_LONG), PMX__SKIP_LABEL_TOO_LONG);
  assert_int_equal(pmx__series_skip_reason(PMX__SERIES_INVALID_LABEL), PMX__SKIP_INVALID_LABEL);
  assert_int_equal(pmx__series_skip_reason(PMX__SERIES_AT_LIMIT), PMX__SKIP_SERIES_LIMIT);
  assert_int_equal(pmx__series_skip_reason(PMX__SERIES_NO_MEMORY), PMX__SKIP_OUT_OF_MEMORY);
  assert_string_equal(pmx__skip_reason_names[PMX__SKIP_OUT_OF_MEMORY], "out_of_memory");
  /* Every reason has a distinct, rendered name. */
  for (size_t i = 0; i < PMX__SKIP_N; i++) {
    assert_non_null(pmx__skip_reason_names[i]);
    for (size_t j = 0; j < i; j++) assert_true(strcmp(pmx__skip_reason_names[i], pmx__skip_reason_names[j]) != 0);
  }
}

/* The limit is counted through the typed result on the event path, the error on the direct one. */
static void test_series_limit_both_paths(void **state) {
  fixture_t *f = *state;
  static const char *const tags[] = {"id"};
  pmx_metric_def_t d = {.kind = PMX_COUNTER, .name = "lim.hits", .tags = tags, .n_tags = 1, .max_series = 1};
  pmx_metric_t *m;
  assert_int_equal(pmx_metric_define(f->reg, &d, &m, NULL), PMX_OK);
  assert_int_equal(pmx_metric_attach(m, f->bus, NULL), PMX_OK);
  pmx_meta_t a[] = {PMX_META_S("id", "a")}, b[] = {PMX_META_S("id", "b")};
  pmx_emit_name(f->bus, "lim", NULL, 0, a, 1);
  pmx_emit_name(f->bus, "lim", NULL, 0, b, 1);
  const char *c[] = {"c"};
  pmx_series_t *s;
  assert_int_equal(pmx_metric_labels(m, c, 1, &s), PMX_ELIMIT);
  assert_int_equal(pmx_metric_dropped_series(m), 2);
  char *text = ct_render(f->reg, PMX_FORMAT_TEXT);
  assert_true(ct_has_line(text, "promex_events_skipped_total{metric=\"lim_hits\",reason=\"series_limit\"} 1"));
  free(text);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, ct_setup, ct_teardown)
int main(void) {
  const struct CMUnitTest tests[] = {
      T(test_help_text_rules),
      T(test_name_length_limit),
      T(test_label_values_checked_on_every_path),
      cmocka_unit_test(test_rendered_name_collisions),
      cmocka_unit_test(test_own_family_names_reserved),
      T(test_many_families),
      T(test_counter_never_wraps),
      T(test_counter_concurrent_near_limit),
      T(test_negative_buckets_no_om_sum),
      T(test_histogram_snapshot_exact_under_writers),
      T(test_histogram_concurrent_readers),
      cmocka_unit_test(test_series_results_map_to_skip_reasons),
      T(test_series_limit_both_paths),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
