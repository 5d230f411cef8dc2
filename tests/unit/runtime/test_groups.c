/* Runtime: the groups builder, plugin options, ABI checks, group name uniqueness, prefixes,
 * drop_metrics_groups, checked through pmx_describe_metrics and pmx_start. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "rt_test_util.h"

/* ---- collecting describe output ---- */
typedef struct described {
  int n;
  char names[32][160];
  char groups[32][64];
  pmx_metric_kind_t kinds[32];
  size_t n_buckets[32];
  double bucket0[32];
} described_t;

static void describe_cb(void *ctx, const char *group, const char *full_name,
                        pmx_metric_kind_t kind, const double *buckets, size_t n_buckets) {
  described_t *d = ctx;
  if (d->n >= 32) return;
  snprintf(d->names[d->n], sizeof d->names[0], "%s", full_name);
  snprintf(d->groups[d->n], sizeof d->groups[0], "%s", group);
  d->kinds[d->n] = kind;
  d->n_buckets[d->n] = n_buckets;
  d->bucket0[d->n] = n_buckets > 0 ? buckets[0] : -1;
  d->n++;
}

static int find_name(const described_t *d, const char *name) {
  for (int i = 0; i < d->n; i++)
    if (strcmp(d->names[i], name) == 0) return i;
  return -1;
}

/* ---- a plugin with one group of each kind, built from mutable stack buffers ---- */
static int ctx_frees;
static void count_free(void *ctx) {
  (void)ctx;
  ctx_frees++;
}
static int measure_noop(pmx_bus_t *bus, void *ctx) {
  (void)bus;
  (void)ctx;
  return PMX_OK;
}

static int kinds_event(const pmx_plugin_ctx_t *ctx, pmx_groups_t *out) {
  /* Everything lives in buffers that are scribbled over after the add: the copy must hold. */
  char name[64], ev[64], tag[16];
  double buckets[3] = {0.1, 1, 10};
  snprintf(name, sizeof name, "job.duration.seconds");
  snprintf(ev, sizeof ev, "tp.job.stop");
  snprintf(tag, sizeof tag, "queue");
  const char *tags[1] = {tag};
  pmx_metric_def_t m[2];
  memset(m, 0, sizeof m);
  m[0] = (pmx_metric_def_t){.kind = PMX_DISTRIBUTION, .name = name, .event_name = ev,
                            .measurement = "duration", .tags = tags, .n_tags = 1,
                            .unit_from = PMX_UNIT_NATIVE, .unit_to = PMX_UNIT_SECOND,
                            .buckets = buckets, .n_buckets = 3, .description = "Job time."};
  m[1] = (pmx_metric_def_t){.kind = PMX_COUNTER, .prefix = "", .name = "raw.jobs.total",
                            .event_name = ev, .description = "Jobs."};
  int rc = pmx_groups_add_event(out, "tp_event_metrics", m, 2);
  memset(name, 'x', sizeof name - 1);
  memset(ev, 'y', sizeof ev - 1);
  memset(tag, 'z', sizeof tag - 1);
  buckets[0] = 99;
  return rc;
}
static int kinds_polling(const pmx_plugin_ctx_t *ctx, pmx_groups_t *out) {
  const pmx_metric_def_t m[] = {{.kind = PMX_LAST_VALUE, .name = "queue.depth",
                                 .event_name = "tp.queue", .measurement = "depth"}};
  return pmx_groups_add_polling(out, "tp_polling_metrics", 0, measure_noop, NULL, count_free, m, 1);
}
static int kinds_manual(const pmx_plugin_ctx_t *ctx, pmx_groups_t *out) {
  const pmx_metric_def_t m[] = {{.kind = PMX_LAST_VALUE, .name = "build.info",
                                 .event_name = "tp.build", .measurement = "value"}};
  return pmx_groups_add_manual(out, "tp_manual_metrics", measure_noop, NULL, count_free, m, 1);
}
static const pmx_plugin_t kinds_plugin = {PMX_PLUGIN_ABI, "tp", kinds_event, kinds_polling,
                                          kinds_manual, {0}};

static void test_each_group_kind_and_prefixes(void **state) {
  (void)state;
  pmx_plugin_use_t use = {.plugin = &kinds_plugin};
  pmx_config_t cfg;
  rt_config(&cfg, &use, 1, NULL);
  described_t d = {0};
  pmx_error_t err;
  ctx_frees = 0;
  assert_int_equal(pmx_describe_metrics(&cfg, describe_cb, &d, &err), PMX_OK);
  int i = find_name(&d, "t_prom_ex_tp_job_duration_seconds");
  assert_true(i >= 0);
  assert_int_equal(d.kinds[i], PMX_DISTRIBUTION);
  assert_int_equal(d.n_buckets[i], 3);
  assert_true(d.bucket0[i] == 0.1);
  assert_string_equal(d.groups[i], "tp_event_metrics");
  assert_true(find_name(&d, "raw_jobs_total") >= 0); /* prefix "" means none */
  assert_true(find_name(&d, "t_prom_ex_tp_queue_depth") >= 0);
  assert_true(find_name(&d, "t_prom_ex_tp_build_info") >= 0);
  /* Own metrics are described too. */
  assert_true(find_name(&d, "t_prom_ex_prom_ex_status_info") >= 0);
  i = find_name(&d, "t_prom_ex_prom_ex_scrape_duration_seconds");
  assert_true(i >= 0);
  assert_int_equal(d.kinds[i], PMX_DISTRIBUTION);
  assert_true(d.n_buckets[i] > 0);
  assert_string_equal(d.groups[i], "prom_ex");
  assert_int_equal(ctx_frees, 2); /* describe frees every group's ctx */

  /* metric_prefix option replaces the default prefix. */
  const pmx_kv_t opts[] = {{"metric_prefix", "custom"}};
  use.opts = opts;
  use.n_opts = 1;
  memset(&d, 0, sizeof d);
  assert_int_equal(pmx_describe_metrics(&cfg, describe_cb, &d, &err), PMX_OK);
  assert_true(find_name(&d, "custom_job_duration_seconds") >= 0);
  assert_true(find_name(&d, "t_prom_ex_tp_job_duration_seconds") < 0);
}

static void test_drop_metrics_groups_describe(void **state) {
  (void)state;
  pmx_plugin_use_t use = {.plugin = &kinds_plugin};
  pmx_config_t cfg;
  rt_config(&cfg, &use, 1, NULL);
  const char *drop[] = {"tp_polling_metrics"};
  cfg.drop_metrics_groups = drop;
  cfg.n_drop_metrics_groups = 1;
  described_t d = {0};
  assert_int_equal(pmx_describe_metrics(&cfg, describe_cb, &d, NULL), PMX_OK);
  assert_true(find_name(&d, "t_prom_ex_tp_queue_depth") < 0);
  assert_true(find_name(&d, "t_prom_ex_tp_build_info") >= 0);
}

/* ---- options ---- */
static int opts_seen_rc;
static char opts_seen_value[64];
static uint32_t opts_seen_rate;
static int opts_event(const pmx_plugin_ctx_t *ctx, pmx_groups_t *out) {
  static const char *const allowed[] = {"color"};
  opts_seen_rc = pmx_plugin_check_opts(ctx, allowed, 1);
  const char *v = pmx_plugin_opt(ctx, "color");
  snprintf(opts_seen_value, sizeof opts_seen_value, "%s", v != NULL ? v : "(none)");
  opts_seen_rate = ctx->poll_rate_ms;
  assert_null(pmx_plugin_opt(ctx, "missing"));
  if (opts_seen_rc != PMX_OK) return opts_seen_rc;
  const pmx_metric_def_t m[] = {{.kind = PMX_COUNTER, .name = "a.total", .event_name = "o.a"}};
  return pmx_groups_add_event(out, "opts_event_metrics", m, 1);
}
static const pmx_plugin_t opts_plugin = {PMX_PLUGIN_ABI, "opts", opts_event, NULL, NULL, {0}};

static void test_options(void **state) {
  (void)state;
  const pmx_kv_t opts[] = {{"color", "red"}, {"poll_rate", "250"}, {"color", "blue"}};
  pmx_plugin_use_t use = {.plugin = &opts_plugin, .opts = opts, .n_opts = 3};
  pmx_config_t cfg;
  rt_config(&cfg, &use, 1, NULL);
  described_t d = {0};
  pmx_error_t err;
  assert_int_equal(pmx_describe_metrics(&cfg, describe_cb, &d, &err), PMX_OK);
  assert_int_equal(opts_seen_rc, PMX_OK);
  assert_string_equal(opts_seen_value, "blue"); /* last one wins */
  assert_int_equal(opts_seen_rate, 250);

  /* Default poll rate. */
  use.n_opts = 1;
  assert_int_equal(pmx_describe_metrics(&cfg, describe_cb, &d, &err), PMX_OK);
  assert_int_equal(opts_seen_rate, PMX_DEFAULT_POLL_RATE_MS);

  /* Unknown option: ECONFIG naming plugin and option. */
  const pmx_kv_t bad[] = {{"colour", "red"}};
  use.opts = bad;
  use.n_opts = 1;
  assert_int_equal(pmx_describe_metrics(&cfg, describe_cb, &d, &err), PMX_ECONFIG);
  assert_int_equal(err.code, PMX_ECONFIG);
  assert_non_null(strstr(err.text, "opts"));
  assert_non_null(strstr(err.text, "colour"));

  /* poll_rate must be a positive integer. */
  const char *bad_rates[] = {"0", "-5", "abc", "10ms", "", "99999999999"};
  for (size_t i = 0; i < sizeof bad_rates / sizeof bad_rates[0]; i++) {
    pmx_kv_t r[] = {{"poll_rate", bad_rates[i]}};
    use.opts = r;
    use.n_opts = 1;
    memset(&err, 0, sizeof err);
    assert_int_equal(pmx_describe_metrics(&cfg, describe_cb, &d, &err), PMX_ECONFIG);
    assert_non_null(strstr(err.text, "poll_rate"));
    assert_non_null(strstr(err.text, "opts"));
  }
}

/* native_histograms / native_max_buckets: the plugin's distributions become native too (classic
 * buckets kept); other kinds are untouched; bad values fail naming the option. */
static int native_series(const pmx_kv_t *opts, size_t n, size_t cap) {
  pmx_plugin_use_t use = {.plugin = &kinds_plugin, .opts = opts, .n_opts = n};
  pmx_config_t cfg;
  rt_config(&cfg, &use, 1, NULL);
  pmx_t *p = NULL;
  pmx_error_t err;
  assert_int_equal(pmx_new(&cfg, &p, &err), PMX_OK);
  assert_int_equal(pmx_start(p, &err), PMX_OK);
  pmx_metric_t *m = pmx_registry_find(pmx_registry(p), "t_prom_ex_tp_job_duration_seconds");
  assert_non_null(m);
  const char *q[] = {"default"};
  pmx_series_t *s;
  assert_int_equal(pmx_metric_labels(m, q, 1, &s), PMX_OK);
  assert_int_equal(pmx_series_observe(s, 0.5), PMX_OK);
  uint64_t cum[4], count;
  double sum;
  assert_int_equal(pmx_series_histogram(s, cum, 4, &count, &sum), PMX_OK); /* classic kept */
  assert_int_equal(cum[1], 1);
  static uint64_t pos[PMX_NATIVE_MAX_BUCKETS], neg[PMX_NATIVE_MAX_BUCKETS];
  pmx_native_snapshot_t ns = {.positive = pos, .negative = neg, .cap = cap};
  int rc = pmx_series_native(s, &ns);
  if (rc == PMX_OK) {
    assert_int_equal(ns.schema, 3);
    assert_int_equal(ns.count, 1);
  }
  pmx_stop(p);
  pmx_destroy(p);
  return rc;
}

static void test_native_histograms_option(void **state) {
  (void)state;
  const pmx_kv_t on[] = {{"native_histograms", "true"}, {"native_max_buckets", "40"}};
  assert_int_equal(native_series(on, 2, 40), PMX_OK);
  assert_int_equal(native_series(on, 2, 39), PMX_EINVAL); /* the window is 40 */
  assert_int_equal(native_series(on, 1, PMX_NATIVE_DEFAULT_MAX_BUCKETS), PMX_OK);
  const pmx_kv_t off[] = {{"native_histograms", "off"}};
  assert_int_equal(native_series(off, 1, 40), PMX_ETYPE);
  assert_int_equal(native_series(NULL, 0, 40), PMX_ETYPE);

  const pmx_kv_t bad[][1] = {{{"native_histograms", "maybe"}}, {{"native_max_buckets", "0"}},
                             {{"native_max_buckets", "4097"}}, {{"native_max_buckets", "x"}}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    pmx_plugin_use_t use = {.plugin = &kinds_plugin, .opts = bad[i], .n_opts = 1};
    pmx_config_t cfg;
    rt_config(&cfg, &use, 1, NULL);
    described_t d = {0};
    pmx_error_t err;
    memset(&err, 0, sizeof err);
    assert_int_equal(pmx_describe_metrics(&cfg, describe_cb, &d, &err), PMX_ECONFIG);
    assert_non_null(strstr(err.text, bad[i][0].key));
    pmx_t *p = NULL;
    assert_int_equal(pmx_new(&cfg, &p, &err), PMX_ECONFIG); /* refused by validation already */
    assert_null(p);
    assert_non_null(strstr(err.text, bad[i][0].key));
  }
}

/* ---- ABI ---- */
static int never_called;
static int abi_event(const pmx_plugin_ctx_t *ctx, pmx_groups_t *out) {
  never_called++;
  return PMX_OK;
}
static const pmx_plugin_t abi_plugin = {PMX_PLUGIN_ABI + 1, "future", abi_event, NULL, NULL, {0}};
static int reserved_dummy;
static const pmx_plugin_t reserved_plugin = {PMX_PLUGIN_ABI, "reserved", abi_event, NULL, NULL,
                                             {&reserved_dummy, NULL, NULL, NULL}};
static const pmx_plugin_t badname_plugin = {PMX_PLUGIN_ABI, "Bad Name", abi_event, NULL, NULL, {0}};

static void test_bad_abi(void **state) {
  (void)state;
  pmx_plugin_use_t use = {.plugin = &abi_plugin};
  pmx_config_t cfg;
  rt_config(&cfg, &use, 1, NULL);
  pmx_error_t err;
  described_t d = {0};
  never_called = 0;
  assert_int_equal(pmx_describe_metrics(&cfg, describe_cb, &d, &err), PMX_EABI);
  assert_non_null(strstr(err.text, "future"));
  use.plugin = &reserved_plugin;
  assert_int_equal(pmx_describe_metrics(&cfg, describe_cb, &d, &err), PMX_EABI);
  assert_non_null(strstr(err.text, "reserved"));
  use.plugin = &badname_plugin;
  assert_int_equal(pmx_describe_metrics(&cfg, describe_cb, &d, &err), PMX_EINVAL);
  assert_int_equal(never_called, 0);

  /* pmx_new validates the configuration (pmx_config_validate) and refuses it already. */
  use.plugin = &abi_plugin;
  pmx_t *p = (pmx_t *)&cfg;
  memset(&err, 0, sizeof err);
  assert_int_equal(pmx_new(&cfg, &p, &err), PMX_EABI);
  assert_null(p);
  assert_non_null(strstr(err.text, "ABI"));
  assert_int_equal(never_called, 0);
}

/* ---- duplicate group names across plugins ---- */
static int dup_event(const pmx_plugin_ctx_t *ctx, pmx_groups_t *out) {
  const pmx_metric_def_t m[] = {{.kind = PMX_COUNTER, .name = "x.total", .event_name = "d.x"}};
  return pmx_groups_add_event(out, "shared_group", m, 1);
}
static int dup_event_ignoring(const pmx_plugin_ctx_t *ctx, pmx_groups_t *out) {
  dup_event(ctx, out); /* ignores the error on purpose */
  return PMX_OK;
}
static const pmx_plugin_t dup_a = {PMX_PLUGIN_ABI, "alpha", dup_event, NULL, NULL, {0}};
static const pmx_plugin_t dup_b = {PMX_PLUGIN_ABI, "beta", dup_event, NULL, NULL, {0}};
static const pmx_plugin_t dup_c = {PMX_PLUGIN_ABI, "gamma", dup_event_ignoring, NULL, NULL, {0}};

static void test_duplicate_group_names(void **state) {
  (void)state;
  pmx_plugin_use_t uses[] = {{.plugin = &dup_a}, {.plugin = &dup_b}};
  pmx_config_t cfg;
  rt_config(&cfg, uses, 2, NULL);
  pmx_error_t err;
  described_t d = {0};
  assert_int_equal(pmx_describe_metrics(&cfg, describe_cb, &d, &err), PMX_EEXIST);
  assert_non_null(strstr(err.text, "alpha"));
  assert_non_null(strstr(err.text, "beta"));
  assert_non_null(strstr(err.text, "shared_group"));
  /* A plugin that ignores the failed add still fails the start. */
  uses[1].plugin = &dup_c;
  pmx_t *p = NULL;
  assert_int_equal(pmx_new(&cfg, &p, &err), PMX_OK);
  assert_int_equal(pmx_start(p, &err), PMX_EEXIST);
  assert_non_null(strstr(err.text, "gamma"));
  assert_false(pmx_running(p));
  pmx_destroy(p);
  /* The same plugin configured twice. */
  uses[1].plugin = &dup_a;
  assert_int_equal(pmx_describe_metrics(&cfg, describe_cb, &d, &err), PMX_ECONFIG);
  assert_non_null(strstr(err.text, "alpha"));
}

/* ---- bad adds ---- */
static int add_rc[8];
static int bad_adds(const pmx_plugin_ctx_t *ctx, pmx_groups_t *out) {
  const pmx_metric_def_t ok[] = {{.kind = PMX_COUNTER, .name = "x.total", .event_name = "b.x"}};
  const pmx_metric_def_t noname[] = {{.kind = PMX_COUNTER, .event_name = "b.x"}};
  const pmx_metric_def_t badtags[] = {{.kind = PMX_COUNTER, .name = "y", .n_tags = 2}};
  add_rc[0] = pmx_groups_add_event(out, "bad name!", ok, 1);
  add_rc[1] = pmx_groups_add_event(out, "", ok, 1);
  add_rc[2] = pmx_groups_add_event(out, "g_nometrics", ok, 0);
  add_rc[3] = pmx_groups_add_event(out, "g_noname", noname, 1);
  add_rc[4] = pmx_groups_add_event(out, "g_badtags", badtags, 1);
  add_rc[5] = pmx_groups_add_polling(out, "g_nomeasure", 0, NULL, NULL, count_free, ok, 1);
  add_rc[6] = pmx_groups_add_manual(out, NULL, measure_noop, NULL, count_free, ok, 1);
  return pmx_plugin_fail(ctx, PMX_EINVAL, "custom failure %d", 42);
}
static const pmx_plugin_t bad_plugin = {PMX_PLUGIN_ABI, "bad", bad_adds, NULL, NULL, {0}};

static void test_bad_adds(void **state) {
  (void)state;
  pmx_plugin_use_t use = {.plugin = &bad_plugin};
  pmx_config_t cfg;
  rt_config(&cfg, &use, 1, NULL);
  pmx_error_t err;
  described_t d = {0};
  ctx_frees = 0;
  assert_int_equal(pmx_describe_metrics(&cfg, describe_cb, &d, &err), PMX_EINVAL);
  for (int i = 0; i < 7; i++) assert_int_equal(add_rc[i], PMX_EINVAL);
  /* The plugin's own failure message is what err reports. */
  assert_string_equal(err.text, "custom failure 42");
  assert_string_equal(err.source, "bad");
  /* ctx handed to a failing add is freed. */
  assert_int_equal(ctx_frees, 2);
  /* Adding outside a plugin callback is refused. */
  const pmx_metric_def_t ok[] = {{.kind = PMX_COUNTER, .name = "x.total", .event_name = "b.x"}};
  assert_int_equal(pmx_groups_add_event(NULL, "g", ok, 1), PMX_EINVAL);
  assert_int_equal(pmx_plugin_fail(NULL, PMX_EIO, "x"), PMX_EIO);
  assert_null(pmx_plugin_opt(NULL, "x"));
  assert_int_equal(pmx_plugin_check_opts(NULL, NULL, 0), PMX_EINVAL);
}

static void test_describe_bad_args(void **state) {
  (void)state;
  pmx_config_t cfg;
  rt_config(&cfg, NULL, 0, NULL);
  pmx_error_t err;
  assert_int_equal(pmx_describe_metrics(NULL, describe_cb, NULL, &err), PMX_EINVAL);
  assert_int_equal(pmx_describe_metrics(&cfg, NULL, NULL, &err), PMX_EINVAL);
  cfg.app = NULL;
  assert_int_equal(pmx_describe_metrics(&cfg, describe_cb, NULL, &err), PMX_ECONFIG);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_each_group_kind_and_prefixes),
      cmocka_unit_test(test_drop_metrics_groups_describe),
      cmocka_unit_test(test_options),
      cmocka_unit_test(test_native_histograms_option),
      cmocka_unit_test(test_bad_abi),
      cmocka_unit_test(test_duplicate_group_names),
      cmocka_unit_test(test_bad_adds),
      cmocka_unit_test(test_describe_bad_args),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
