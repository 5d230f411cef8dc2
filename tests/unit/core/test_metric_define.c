/* Unit tests for metric definitions (include/promex/metric.h): name building (prefix + dotted
 * name joined with '_'), metric and label name rules (PMX_ENAME with the name and the rule in the
 * message), summaries refused, bucket checks, unit pairs, duplicates (registry unchanged), tag
 * limits, Telemetry.Metrics event/measurement defaults (checked by emitting), attach/detach, and
 * registry creation options. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core_test_util.h"
#include "promex/promex.h"


/* Defines `def` expecting failure `code`; checks *out is NULL, err filled and the registry has no
 * family of `full` afterwards. Returns err for further checks. */
static pmx_error_t expect_fail(pmx_registry_t *reg, const pmx_metric_def_t *def, int code) {
  pmx_error_t err;
  memset(&err, 0, sizeof err);
  pmx_metric_t *m = (pmx_metric_t *)(uintptr_t)1;
  int rc = pmx_metric_define(reg, def, &m, &err);
  if (rc != code) {
    fail_msg("define \"%s\": got %s (%s), want %s", def && def->name ? def->name : "(null)",
             pmx_err_name(rc), err.text, pmx_err_name(code));
  }
  assert_null(m);
  assert_int_equal(err.code, code);
  assert_true(strlen(err.text) > 0);
  return err;
}

/* ---- names -------------------------------------------------------------------------------------- */

static void test_name_building(void **state) {
  fixture_t *f = *state;
  pmx_metric_t *m = NULL;
  pmx_metric_def_t d1 = {.kind = PMX_COUNTER, .name = "http.request.count.total"};
  assert_int_equal(pmx_metric_define(f->reg, &d1, &m, NULL), PMX_OK);
  assert_non_null(m);
  assert_string_equal(pmx_metric_name(m), "http_request_count_total");
  assert_int_equal(pmx_metric_kind(m), PMX_COUNTER);
  assert_int_equal(pmx_metric_series_count(m), 0);

  pmx_metric_def_t d2 = {.kind = PMX_SUM, .prefix = "myapp_prom_ex_http", .name = "http.request.bytes"};
  assert_int_equal(pmx_metric_define(f->reg, &d2, &m, NULL), PMX_OK);
  assert_string_equal(pmx_metric_name(m), "myapp_prom_ex_http_http_request_bytes");
  assert_int_equal(pmx_metric_kind(m), PMX_SUM);

  /* A prefix is prepended "the same way": dots become '_'. */
  pmx_metric_def_t d3 = {.kind = PMX_LAST_VALUE, .prefix = "my.app", .name = "queue.depth"};
  pmx_metric_t *m3 = NULL;
  assert_int_equal(pmx_metric_define(f->reg, &d3, &m3, NULL), PMX_OK);
  assert_string_equal(pmx_metric_name(m3), "my_app_queue_depth");

  /* Underscored names and the allowed extra characters pass through. */
  pmx_metric_def_t d4 = {.kind = PMX_LAST_VALUE, .name = "_private:ratio_2"};
  assert_int_equal(pmx_metric_define(f->reg, &d4, &m, NULL), PMX_OK);
  assert_string_equal(pmx_metric_name(m), "_private:ratio_2");
  pmx_metric_def_t d5 = {.kind = PMX_LAST_VALUE, .name = ":colon_first"};
  assert_int_equal(pmx_metric_define(f->reg, &d5, NULL, NULL), PMX_OK); /* out is optional */

  /* Find by full name. */
  assert_ptr_equal(pmx_registry_find(f->reg, "my_app_queue_depth"), m3);
  pmx_metric_t *found = pmx_registry_find(f->reg, "myapp_prom_ex_http_http_request_bytes");
  assert_non_null(found);
  assert_string_equal(pmx_metric_name(found), "myapp_prom_ex_http_http_request_bytes");
  assert_non_null(pmx_registry_find(f->reg, ":colon_first"));
  assert_null(pmx_registry_find(f->reg, "http.request.count.total")); /* the dotted spelling is not the name */
  assert_null(pmx_registry_find(f->reg, "nope"));
  assert_null(pmx_registry_find(f->reg, NULL));
  assert_null(pmx_registry_find(NULL, "nope"));
}

static void test_metric_name_rules(void **state) {
  fixture_t *f = *state;
  struct {
    const char *name;
    const char *rule_hint; /* what the message must mention */
  } bad[] = {
      {"9lives", "[a-zA-Z_:]"},     /* bad first character */
      {"-dash", "[a-zA-Z_:]"},
      {"has-dash", "[a-zA-Z_:]"},   /* bad character inside */
      {"has space", "[a-zA-Z_:]"},
      {"caf\xc3\xa9", "[a-zA-Z_:]"},
      {"slash/x", "[a-zA-Z_:]"},
      {"__reserved", "__"},         /* reserved prefix */
      {"__", "__"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    pmx_metric_def_t def = {.kind = PMX_COUNTER, .name = bad[i].name};
    pmx_error_t err = expect_fail(f->reg, &def, PMX_ENAME);
    if (strstr(err.text, bad[i].name) == NULL || strstr(err.text, bad[i].rule_hint) == NULL) {
      fail_msg("name \"%s\": message \"%s\" lacks the name or the rule \"%s\"", bad[i].name, err.text,
               bad[i].rule_hint);
    }
  }
  /* A dotted name whose joined form breaks a rule: "9.x" -> "9_x". */
  pmx_metric_def_t dotted = {.kind = PMX_COUNTER, .name = "9.x"};
  pmx_error_t err = expect_fail(f->reg, &dotted, PMX_ENAME);
  assert_non_null(strstr(err.text, "9_x"));
  /* A prefix with a bad character. */
  pmx_metric_def_t pre = {.kind = PMX_COUNTER, .prefix = "my-app", .name = "x"};
  err = expect_fail(f->reg, &pre, PMX_ENAME);
  assert_non_null(strstr(err.text, "my-app_x"));
  /* Empty name. */
  pmx_metric_def_t empty = {.kind = PMX_COUNTER, .name = ""};
  err = expect_fail(f->reg, &empty, PMX_ENAME);
  assert_non_null(strstr(err.text, "empty"));
  /* Nothing was defined by any of these. */
  char *text = ct_render(f->reg, PMX_FORMAT_TEXT);
  assert_null(strstr(text, "# TYPE 9"));
  assert_null(strstr(text, "has"));
  free(text);
}

/* `name` is required: an empty name with a prefix must not silently define "<prefix>_". */
static void test_empty_name_with_prefix(void **state) {
  fixture_t *f = *state;
  pmx_metric_def_t def = {.kind = PMX_COUNTER, .prefix = "app", .name = ""};
  pmx_error_t err;
  memset(&err, 0, sizeof err);
  pmx_metric_t *m = NULL;
  int rc = pmx_metric_define(f->reg, &def, &m, &err);
  if (rc == PMX_OK) fail_msg("empty name with prefix defined \"%s\"", pmx_metric_name(m));
  assert_true(rc == PMX_EINVAL || rc == PMX_ENAME);
  assert_null(pmx_registry_find(f->reg, "app_"));
}

static void test_missing_args(void **state) {
  fixture_t *f = *state;
  pmx_error_t err;
  pmx_metric_t *m = (pmx_metric_t *)(uintptr_t)1;
  pmx_metric_def_t def = {.kind = PMX_COUNTER, .name = "ok"};
  assert_int_equal(pmx_metric_define(NULL, &def, &m, &err), PMX_EINVAL);
  assert_null(m);
  assert_int_equal(err.code, PMX_EINVAL);
  assert_int_equal(pmx_metric_define(f->reg, NULL, &m, &err), PMX_EINVAL);
  pmx_metric_def_t noname = {.kind = PMX_COUNTER};
  assert_int_equal(pmx_metric_define(f->reg, &noname, &m, &err), PMX_EINVAL);
  assert_null(m);
  /* err may be NULL. */
  assert_int_equal(pmx_metric_define(f->reg, &noname, NULL, NULL), PMX_EINVAL);
  /* On success err is left untouched. */
  memset(&err, 0x5a, sizeof err);
  pmx_error_t copy = err;
  assert_int_equal(pmx_metric_define(f->reg, &def, &m, &err), PMX_OK);
  assert_memory_equal(&err, &copy, sizeof err);
}

static void test_label_rules(void **state) {
  fixture_t *f = *state;
  const char *bad[] = {"le", "__x", "__", "9a", "a-b", "a:b", "a b", "", "caf\xc3\xa9"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    const char *tags[] = {"method", bad[i]};
    pmx_metric_def_t def = {.kind = PMX_COUNTER, .name = "lbl.test", .tags = tags, .n_tags = 2};
    pmx_error_t err = expect_fail(f->reg, &def, PMX_ENAME);
    assert_non_null(strstr(err.text, "lbl_test"));
    if (bad[i][0] && strstr(err.text, bad[i]) == NULL) {
      fail_msg("label \"%s\": message \"%s\" does not name it", bad[i], err.text);
    }
  }
  /* "le" is reserved on every kind, including distributions. */
  const char *le[] = {"le"};
  double b[] = {1};
  pmx_metric_def_t hist = {.kind = PMX_DISTRIBUTION, .name = "h.x", .tags = le, .n_tags = 1,
                           .buckets = b, .n_buckets = 1};
  (void)expect_fail(f->reg, &hist, PMX_ENAME);
  /* Duplicates. */
  const char *dup[] = {"method", "status", "method"};
  pmx_metric_def_t d = {.kind = PMX_COUNTER, .name = "dup.labels", .tags = dup, .n_tags = 3};
  pmx_error_t err = expect_fail(f->reg, &d, PMX_ENAME);
  assert_non_null(strstr(err.text, "method"));
  /* NULL label name. */
  const char *nul[] = {"a", NULL};
  pmx_metric_def_t dn = {.kind = PMX_COUNTER, .name = "null.label", .tags = nul, .n_tags = 2};
  pmx_metric_t *m = (pmx_metric_t *)(uintptr_t)1;
  int rc = pmx_metric_define(f->reg, &dn, &m, NULL);
  assert_true(rc == PMX_ENAME || rc == PMX_EINVAL);
  assert_null(m);
  /* n_tags with a NULL array. */
  pmx_metric_def_t dna = {.kind = PMX_COUNTER, .name = "null.tags", .n_tags = 2};
  (void)expect_fail(f->reg, &dna, PMX_EINVAL);
  /* Valid label names. */
  const char *good[] = {"_a", "A9", "method", "l", "lee", "x_le"};
  pmx_metric_def_t g = {.kind = PMX_COUNTER, .name = "good.labels", .tags = good, .n_tags = 6};
  assert_int_equal(pmx_metric_define(f->reg, &g, NULL, NULL), PMX_OK);
}

static void test_summary_not_supported(void **state) {
  fixture_t *f = *state;
  pmx_metric_def_t def = {.kind = PMX_SUMMARY, .name = "rpc.duration"};
  pmx_error_t err = expect_fail(f->reg, &def, PMX_ENOTSUP);
  assert_non_null(strstr(err.text, "rpc_duration"));
  /* The message points to the alternative the header documents. */
  assert_non_null(strstr(err.text, "distribution"));
  assert_null(pmx_registry_find(f->reg, "rpc_duration"));
  /* An out-of-range kind is not silently accepted. */
  pmx_metric_def_t weird = {.kind = (pmx_metric_kind_t)42, .name = "weird"};
  pmx_metric_t *m = (pmx_metric_t *)(uintptr_t)1;
  assert_int_not_equal(pmx_metric_define(f->reg, &weird, &m, NULL), PMX_OK);
  assert_null(m);
}

/* ---- buckets -------------------------------------------------------------------------------------- */

static void test_buckets_rules(void **state) {
  fixture_t *f = *state;
  pmx_metric_def_t def = {.kind = PMX_DISTRIBUTION, .name = "h.none"};
  (void)expect_fail(f->reg, &def, PMX_EINVAL); /* no buckets */
  double one[] = {1};
  def.buckets = one; /* n_buckets still 0 */
  (void)expect_fail(f->reg, &def, PMX_EINVAL);

  struct {
    double b[3];
    size_t n;
  } bad[] = {
      {{1, 1, 2}, 3},          /* not strictly increasing */
      {{2, 1, 3}, 3},          /* decreasing */
      {{1, NAN, 3}, 3},        /* NaN */
      {{1, 2, INFINITY}, 3},   /* +Inf is implicit */
      {{-INFINITY, 0, 1}, 3},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    pmx_metric_def_t d = {.kind = PMX_DISTRIBUTION, .name = "h.bad", .buckets = bad[i].b, .n_buckets = bad[i].n};
    pmx_error_t err = expect_fail(f->reg, &d, PMX_EINVAL);
    assert_non_null(strstr(err.text, "h_bad"));
  }
  /* Too many: PMX_MAX_BUCKETS is the limit. */
  double many[PMX_MAX_BUCKETS + 1];
  for (size_t i = 0; i < PMX_MAX_BUCKETS + 1; i++) many[i] = (double)i;
  pmx_metric_def_t toomany = {.kind = PMX_DISTRIBUTION, .name = "h.many", .buckets = many,
                              .n_buckets = PMX_MAX_BUCKETS + 1};
  (void)expect_fail(f->reg, &toomany, PMX_EINVAL);
  toomany.n_buckets = PMX_MAX_BUCKETS;
  assert_int_equal(pmx_metric_define(f->reg, &toomany, NULL, NULL), PMX_OK);

  /* Buckets on anything but a distribution. */
  pmx_metric_kind_t kinds[] = {PMX_COUNTER, PMX_SUM, PMX_LAST_VALUE};
  for (size_t i = 0; i < 3; i++) {
    pmx_metric_def_t c = {.kind = kinds[i], .name = "not.hist", .buckets = one, .n_buckets = 1};
    (void)expect_fail(f->reg, &c, PMX_EINVAL);
  }
  /* Negative and fractional bounds are fine. */
  double neg[] = {-10, -0.5, 0, 0.005};
  pmx_metric_def_t ok = {.kind = PMX_DISTRIBUTION, .name = "h.neg", .buckets = neg, .n_buckets = 4};
  assert_int_equal(pmx_metric_define(f->reg, &ok, NULL, NULL), PMX_OK);
}

/* The definition's arrays and strings are copied: changing them afterwards changes nothing. */
static void test_definition_is_copied(void **state) {
  fixture_t *f = *state;
  double b[] = {1, 2};
  char name[] = "copy.me";
  char tag[] = "kind";
  const char *tags[] = {tag};
  pmx_metric_def_t def = {.kind = PMX_DISTRIBUTION, .name = name, .buckets = b, .n_buckets = 2,
                          .tags = tags, .n_tags = 1};
  pmx_metric_t *m;
  assert_int_equal(pmx_metric_define(f->reg, &def, &m, NULL), PMX_OK);
  b[0] = 100;
  b[1] = 200;
  strcpy(name, "XXXX.XX");
  strcpy(tag, "ZZZZ");
  assert_string_equal(pmx_metric_name(m), "copy_me");
  pmx_series_t *s;
  const char *v[] = {"a"};
  assert_int_equal(pmx_metric_labels(m, v, 1, &s), PMX_OK);
  assert_int_equal(pmx_series_observe(s, 1.5), PMX_OK);
  uint64_t cum[3], count;
  double sum;
  assert_int_equal(pmx_series_histogram(s, cum, 3, &count, &sum), PMX_OK);
  assert_int_equal(cum[0], 0); /* 1.5 > 1 */
  assert_int_equal(cum[1], 1); /* 1.5 <= 2 */
  char *text = ct_render(f->reg, PMX_FORMAT_TEXT);
  assert_true(ct_has_line(text, "copy_me_bucket{kind=\"a\",le=\"2\"} 1"));
  free(text);
}

/* ---- units ------------------------------------------------------------------------------------------- */

static void test_unit_pairs(void **state) {
  fixture_t *f = *state;
  struct {
    pmx_unit_t from, to;
  } good[] = {
      {PMX_UNIT_NONE, PMX_UNIT_NONE},
      {PMX_UNIT_NATIVE, PMX_UNIT_SECOND},
      {PMX_UNIT_NATIVE, PMX_UNIT_MILLISECOND},
      {PMX_UNIT_NATIVE, PMX_UNIT_MICROSECOND},
      {PMX_UNIT_NATIVE, PMX_UNIT_NANOSECOND},
      {PMX_UNIT_SECOND, PMX_UNIT_MILLISECOND},
      {PMX_UNIT_MILLISECOND, PMX_UNIT_SECOND},
      {PMX_UNIT_MICROSECOND, PMX_UNIT_MILLISECOND},
      {PMX_UNIT_NANOSECOND, PMX_UNIT_SECOND},
      {PMX_UNIT_SECOND, PMX_UNIT_SECOND},
      {PMX_UNIT_BYTE, PMX_UNIT_KILOBYTE},
      {PMX_UNIT_BYTE, PMX_UNIT_MEGABYTE},
  };
  char name[32];
  for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
    snprintf(name, sizeof name, "unit.good%zu", i);
    pmx_metric_def_t def = {.kind = PMX_SUM, .name = name, .unit_from = good[i].from, .unit_to = good[i].to};
    pmx_error_t err = {0};
    int rc = pmx_metric_define(f->reg, &def, NULL, &err);
    if (rc != PMX_OK) fail_msg("unit pair %d->%d: %s (%s)", good[i].from, good[i].to, pmx_err_name(rc), err.text);
  }
  struct {
    pmx_unit_t from, to;
  } bad[] = {
      {PMX_UNIT_BYTE, PMX_UNIT_SECOND},
      {PMX_UNIT_SECOND, PMX_UNIT_NATIVE},
      {PMX_UNIT_MILLISECOND, PMX_UNIT_NATIVE},
      {PMX_UNIT_SECOND, PMX_UNIT_BYTE},
      {PMX_UNIT_NATIVE, PMX_UNIT_KILOBYTE},
      {PMX_UNIT_KILOBYTE, PMX_UNIT_BYTE},     /* only from bytes */
      {PMX_UNIT_MEGABYTE, PMX_UNIT_KILOBYTE},
      {PMX_UNIT_NONE, PMX_UNIT_SECOND},
      {PMX_UNIT_SECOND, PMX_UNIT_NONE},
      {PMX_UNIT_BYTE, PMX_UNIT_NONE},
      {(pmx_unit_t)99, PMX_UNIT_SECOND},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    snprintf(name, sizeof name, "unit.bad%zu", i);
    pmx_metric_def_t def = {.kind = PMX_SUM, .name = name, .unit_from = bad[i].from, .unit_to = bad[i].to};
    pmx_error_t err = expect_fail(f->reg, &def, PMX_EUNIT);
    assert_non_null(strstr(err.text, "unit_bad"));
  }
}

/* ---- duplicates, tag limits, event names --------------------------------------------------------- */

static void test_duplicate_name(void **state) {
  fixture_t *f = *state;
  pmx_metric_def_t d1 = {.kind = PMX_SUM, .name = "jobs.done", .description = "first"};
  pmx_metric_t *m1;
  assert_int_equal(pmx_metric_define(f->reg, &d1, &m1, NULL), PMX_OK);
  pmx_series_t *s;
  assert_int_equal(pmx_metric_labels(m1, NULL, 0, &s), PMX_OK);
  assert_int_equal(pmx_series_add(s, 3), PMX_OK);
  char *before = ct_render(f->reg, PMX_FORMAT_TEXT);

  /* Same full name, other kind / spelling ("jobs_done"): refused, registry unchanged. */
  pmx_metric_def_t d2 = {.kind = PMX_LAST_VALUE, .name = "jobs_done", .description = "second"};
  pmx_error_t err = expect_fail(f->reg, &d2, PMX_EEXIST);
  assert_non_null(strstr(err.text, "jobs_done"));
  pmx_metric_def_t d3 = {.kind = PMX_SUM, .name = "done", .prefix = "jobs", .description = "third"};
  (void)expect_fail(f->reg, &d3, PMX_EEXIST);

  char *after = ct_render(f->reg, PMX_FORMAT_TEXT);
  assert_string_equal(before, after);
  assert_true(ct_has_line(after, "# HELP jobs_done first"));
  assert_true(ct_has_line(after, "jobs_done 3"));
  assert_ptr_equal(pmx_registry_find(f->reg, "jobs_done"), m1);
  assert_int_equal(pmx_metric_kind(m1), PMX_SUM);
  free(before);
  free(after);
}

static void test_too_many_tags(void **state) {
  fixture_t *f = *state;
  char names[PMX_MAX_TAGS + 1][8];
  const char *tags[PMX_MAX_TAGS + 1];
  for (int i = 0; i < PMX_MAX_TAGS + 1; i++) {
    snprintf(names[i], sizeof names[i], "t%d", i);
    tags[i] = names[i];
  }
  pmx_metric_def_t def = {.kind = PMX_COUNTER, .name = "tags.many", .tags = tags, .n_tags = PMX_MAX_TAGS + 1};
  pmx_error_t err = expect_fail(f->reg, &def, PMX_EINVAL);
  assert_non_null(strstr(err.text, "tags_many"));
  def.n_tags = PMX_MAX_TAGS;
  pmx_metric_t *m;
  assert_int_equal(pmx_metric_define(f->reg, &def, &m, NULL), PMX_OK);
  const char *vals[PMX_MAX_TAGS];
  for (int i = 0; i < PMX_MAX_TAGS; i++) vals[i] = names[i];
  pmx_series_t *s;
  assert_int_equal(pmx_metric_labels(m, vals, PMX_MAX_TAGS, &s), PMX_OK);
}

static void test_bad_event_name_in_def(void **state) {
  fixture_t *f = *state;
  pmx_metric_def_t def = {.kind = PMX_COUNTER, .name = "ev.bad", .event_name = "a..b"};
  (void)expect_fail(f->reg, &def, PMX_EINVAL);
  def.event_name = "a b";
  (void)expect_fail(f->reg, &def, PMX_EINVAL);
}

/* "http.request.duration" listens to "http.request" and reads "duration". */
static void test_event_defaults(void **state) {
  fixture_t *f = *state;
  pmx_metric_t *m;
  pmx_metric_def_t def = {.kind = PMX_SUM, .name = "a.b.c"};
  assert_int_equal(pmx_metric_define(f->reg, &def, &m, NULL), PMX_OK);
  assert_string_equal(pmx_metric_name(m), "a_b_c");
  assert_int_equal(pmx_metric_attach(m, f->bus, NULL), PMX_OK);

  pmx_measurement_t right[] = {PMX_M("c", 5)};
  pmx_measurement_t wrong[] = {PMX_M("x", 7)};
  assert_int_equal(pmx_emit_name(f->bus, "a.b", right, 1, NULL, 0), 1);
  assert_int_equal(pmx_emit_name(f->bus, "a.b", wrong, 1, NULL, 0), 1);      /* skipped: no "c" */
  assert_int_equal(pmx_emit_name(f->bus, "a.b.c", right, 1, NULL, 0), 0);    /* not the event */
  assert_int_equal(pmx_emit_name(f->bus, "a", right, 1, NULL, 0), 0);
  pmx_series_t *s;
  assert_int_equal(pmx_metric_labels(m, NULL, 0, &s), PMX_OK);
  assert_true(pmx_series_value(s) == 5);
  assert_int_equal(pmx_metric_skipped_events(m), 1);

  /* Explicit event_name and measurement override the defaults. */
  pmx_metric_def_t ex = {.kind = PMX_SUM, .name = "x.y.z", .event_name = "other.event", .measurement = "size"};
  pmx_metric_t *m2;
  assert_int_equal(pmx_metric_define(f->reg, &ex, &m2, NULL), PMX_OK);
  assert_int_equal(pmx_metric_attach(m2, f->bus, NULL), PMX_OK);
  pmx_measurement_t size[] = {PMX_M("size", 11), PMX_M("z", 1000)};
  assert_int_equal(pmx_emit_name(f->bus, "x.y", size, 2, NULL, 0), 0);
  assert_int_equal(pmx_emit_name(f->bus, "other.event", size, 2, NULL, 0), 1);
  assert_int_equal(pmx_metric_labels(m2, NULL, 0, &s), PMX_OK);
  assert_true(pmx_series_value(s) == 11);

  /* An explicit event_name with the default measurement (the last segment). */
  pmx_metric_def_t ev_only = {.kind = PMX_LAST_VALUE, .name = "q.depth", .event_name = "queue.poll"};
  pmx_metric_t *m3;
  assert_int_equal(pmx_metric_define(f->reg, &ev_only, &m3, NULL), PMX_OK);
  assert_int_equal(pmx_metric_attach(m3, f->bus, NULL), PMX_OK);
  pmx_measurement_t depth[] = {PMX_M("depth", 4)};
  assert_int_equal(pmx_emit_name(f->bus, "queue.poll", depth, 1, NULL, 0), 1);
  assert_int_equal(pmx_metric_labels(m3, NULL, 0, &s), PMX_OK);
  assert_true(pmx_series_value(s) == 4);
}

static void test_attach_detach(void **state) {
  fixture_t *f = *state;
  pmx_metric_t *m;
  pmx_error_t err;
  /* No dot and no event_name: nothing to listen to. */
  pmx_metric_def_t flat = {.kind = PMX_COUNTER, .name = "flat_name"};
  assert_int_equal(pmx_metric_define(f->reg, &flat, &m, NULL), PMX_OK);
  memset(&err, 0, sizeof err);
  assert_int_equal(pmx_metric_attach(m, f->bus, &err), PMX_EINVAL);
  assert_int_equal(err.code, PMX_EINVAL);
  assert_non_null(strstr(err.text, "flat_name"));
  assert_int_equal(pmx_metric_detach(m), PMX_ENOENT);

  pmx_metric_def_t def = {.kind = PMX_COUNTER, .name = "att.count"};
  assert_int_equal(pmx_metric_define(f->reg, &def, &m, NULL), PMX_OK);
  assert_int_equal(pmx_metric_attach(NULL, f->bus, NULL), PMX_EINVAL);
  assert_int_equal(pmx_metric_attach(m, NULL, NULL), PMX_EINVAL);
  assert_int_equal(pmx_metric_attach(m, f->bus, NULL), PMX_OK);
  memset(&err, 0, sizeof err);
  assert_int_equal(pmx_metric_attach(m, f->bus, &err), PMX_EEXIST);
  assert_int_equal(err.code, PMX_EEXIST);
  /* The handler id is "pmx.metric.<name>" and shows in the bus's handler list once. */
  pmx_handler_info_t info[4];
  size_t total = 0;
  assert_int_equal(pmx_bus_list_handlers(f->bus, "att", info, 4, &total), PMX_OK);
  assert_int_equal(total, 1);
  assert_string_equal(info[0].id, "pmx.metric.att_count");
  assert_string_equal(info[0].event_name, "att");

  assert_int_equal(pmx_emit_name(f->bus, "att", NULL, 0, NULL, 0), 1);
  assert_int_equal(pmx_metric_detach(m), PMX_OK);
  assert_int_equal(pmx_emit_name(f->bus, "att", NULL, 0, NULL, 0), 0);
  assert_int_equal(pmx_metric_detach(m), PMX_ENOENT);
  assert_int_equal(pmx_metric_detach(NULL), PMX_EINVAL);
  pmx_series_t *s;
  assert_int_equal(pmx_metric_labels(m, NULL, 0, &s), PMX_OK);
  assert_true(pmx_series_value(s) == 1); /* only the event before detach */
  /* Re-attach after detach works. */
  assert_int_equal(pmx_metric_attach(m, f->bus, NULL), PMX_OK);
  assert_int_equal(pmx_emit_name(f->bus, "att", NULL, 0, NULL, 0), 1);
  assert_true(pmx_series_value(s) == 2);
}

/* ---- registry options ------------------------------------------------------------------------------ */

static void test_registry_new(void **state) {
  (void)state;
  pmx_registry_t *reg = (pmx_registry_t *)(uintptr_t)1;
  assert_int_equal(pmx_registry_new(NULL, NULL), PMX_EINVAL);
  const char *bad[] = {"bad name", "1abc", "__x", "", "a-b", "a.b"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    pmx_registry_opts_t o = {.own_metrics_prefix = bad[i]};
    reg = (pmx_registry_t *)(uintptr_t)1;
    int rc = pmx_registry_new(&o, &reg);
    if (rc != PMX_EINVAL) fail_msg("own prefix \"%s\": got %s", bad[i], pmx_err_name(rc));
    assert_null(reg);
  }
  pmx_registry_opts_t ok = {.own_metrics_prefix = "my_app:own"};
  assert_int_equal(pmx_registry_new(&ok, &reg), PMX_OK);
  assert_non_null(reg);
  pmx_registry_destroy(reg);
  pmx_registry_destroy(NULL); /* documented no-op */

  /* default_max_series applies to definitions that do not set their own. */
  pmx_registry_opts_t lim = {.default_max_series = 2};
  assert_int_equal(pmx_registry_new(&lim, &reg), PMX_OK);
  pmx_metric_t *m;
  const char *tags[] = {"k"};
  pmx_metric_def_t def = {.kind = PMX_COUNTER, .name = "lim.c", .tags = tags, .n_tags = 1};
  assert_int_equal(pmx_metric_define(reg, &def, &m, NULL), PMX_OK);
  pmx_series_t *s;
  const char *a[] = {"a"}, *b[] = {"b"}, *c[] = {"c"};
  assert_int_equal(pmx_metric_labels(m, a, 1, &s), PMX_OK);
  assert_int_equal(pmx_metric_labels(m, b, 1, &s), PMX_OK);
  assert_int_equal(pmx_metric_labels(m, c, 1, &s), PMX_ELIMIT);
  def.name = "lim.d";
  def.max_series = 3; /* the definition wins */
  assert_int_equal(pmx_metric_define(reg, &def, &m, NULL), PMX_OK);
  assert_int_equal(pmx_metric_labels(m, a, 1, &s), PMX_OK);
  assert_int_equal(pmx_metric_labels(m, b, 1, &s), PMX_OK);
  assert_int_equal(pmx_metric_labels(m, c, 1, &s), PMX_OK);
  pmx_registry_destroy(reg);
}

/* The registry can be destroyed while metrics are still attached (it detaches them); the bus then
 * has no handler left. */
static void test_destroy_detaches(void **state) {
  (void)state;
  pmx_bus_t *bus;
  pmx_registry_t *reg;
  assert_int_equal(pmx_bus_new(&bus), PMX_OK);
  assert_int_equal(pmx_registry_new(NULL, &reg), PMX_OK);
  pmx_metric_def_t def = {.kind = PMX_COUNTER, .name = "d.count"};
  pmx_metric_t *m;
  assert_int_equal(pmx_metric_define(reg, &def, &m, NULL), PMX_OK);
  assert_int_equal(pmx_metric_attach(m, bus, NULL), PMX_OK);
  pmx_registry_destroy(reg);
  size_t total = 1;
  assert_int_equal(pmx_bus_list_handlers(bus, NULL, NULL, 0, &total), PMX_OK);
  assert_int_equal(total, 0);
  assert_int_equal(pmx_emit_name(bus, "d", NULL, 0, NULL, 0), 0);
  pmx_bus_destroy(bus);
}

/* Default HELP is the metric name; a description replaces it. */
static void test_description_default(void **state) {
  fixture_t *f = *state;
  pmx_metric_def_t d1 = {.kind = PMX_LAST_VALUE, .name = "no.desc"};
  pmx_metric_def_t d2 = {.kind = PMX_LAST_VALUE, .name = "with.desc", .description = "Queue depth."};
  assert_int_equal(pmx_metric_define(f->reg, &d1, NULL, NULL), PMX_OK);
  assert_int_equal(pmx_metric_define(f->reg, &d2, NULL, NULL), PMX_OK);
  char *text = ct_render(f->reg, PMX_FORMAT_TEXT);
  assert_true(ct_has_line(text, "# HELP no_desc no_desc"));
  assert_true(ct_has_line(text, "# HELP with_desc Queue depth."));
  free(text);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, ct_setup, ct_teardown)
int main(void) {
  const struct CMUnitTest tests[] = {
      T(test_name_building),
      T(test_metric_name_rules),
      T(test_empty_name_with_prefix),
      T(test_missing_args),
      T(test_label_rules),
      T(test_summary_not_supported),
      T(test_buckets_rules),
      T(test_definition_is_copied),
      T(test_unit_pairs),
      T(test_duplicate_name),
      T(test_too_many_tags),
      T(test_bad_event_name_in_def),
      T(test_event_defaults),
      T(test_attach_detach),
      cmocka_unit_test(test_registry_new),
      cmocka_unit_test(test_destroy_detaches),
      T(test_description_default),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
