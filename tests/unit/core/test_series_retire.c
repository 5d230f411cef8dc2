/* Partial removal and retiring through events (pmx_metric_remove_matching, pmx_retire): which
 * series go, which stay, what comes back fresh, and every bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core_test_util.h"
#include "promex/promex.h"

#define EV "app.fs"

static const char *const fs_tags[] = {"device", "mountpoint"};

typedef struct retire_fx {
  pmx_registry_t *reg;
  pmx_bus_t *bus;
  pmx_event_t *ev;
  pmx_metric_t *size, *events, *by_id;
} retire_fx_t;

static pmx_metric_t *define(retire_fx_t *f, pmx_metric_def_t def) {
  pmx_metric_t *m = NULL;
  def.event_name = EV;
  assert_int_equal(pmx_metric_define(f->reg, &def, &m, NULL), PMX_OK);
  assert_int_equal(pmx_metric_attach(m, f->bus, NULL), PMX_OK);
  return m;
}

static int setup(void **state) {
  retire_fx_t *f = calloc(1, sizeof *f);
  pmx_registry_opts_t o = {.no_own_metrics = true};
  assert_int_equal(pmx_registry_new(&o, &f->reg), PMX_OK);
  assert_int_equal(pmx_bus_new(&f->bus), PMX_OK);
  assert_int_equal(pmx_bus_event(f->bus, EV, &f->ev), PMX_OK);
  static const char *const id_tag[] = {"id"};
  f->size = define(f, (pmx_metric_def_t){.kind = PMX_LAST_VALUE, .name = "fs_size_bytes",
                                         .measurement = "size", .tags = fs_tags, .n_tags = 2});
  /* No labels: a total over every mount, which no retire may touch. */
  f->events = define(f, (pmx_metric_def_t){.kind = PMX_COUNTER, .name = "fs_polls_total"});
  f->by_id = define(f, (pmx_metric_def_t){.kind = PMX_SUM, .name = "fs_by_id_total",
                                          .measurement = "size", .tags = id_tag, .n_tags = 1});
  *state = f;
  return 0;
}

static int teardown(void **state) {
  retire_fx_t *f = *state;
  pmx_registry_destroy(f->reg);
  pmx_bus_destroy(f->bus);
  free(f);
  return 0;
}

static void emit(retire_fx_t *f, const char *dev, const char *mp, int64_t id, double size) {
  pmx_measurement_t m[] = {PMX_M("size", size)};
  pmx_meta_t md[] = {PMX_META_S("device", dev), PMX_META_S("mountpoint", mp), PMX_META_I("id", id)};
  assert_true(pmx_emit(f->ev, m, 1, md, 3) >= 3); /* every metric of the event ran */
}

static void test_remove_matching(void **state) {
  retire_fx_t *f = *state;
  emit(f, "sda1", "/", 1, 10);
  emit(f, "sda2", "/mnt", 2, 20);
  emit(f, "sdb1", "/mnt", 3, 30); /* mounted over /mnt: two series share the mount point */
  const char *mnt[] = {NULL, "/mnt"};
  assert_int_equal(pmx_metric_remove_matching(f->size, mnt, 2), 2);
  assert_int_equal(pmx_metric_series_count(f->size), 1);
  assert_int_equal(pmx_metric_remove_matching(f->size, mnt, 2), 0);
  const char *exact[] = {"sda1", "/"};
  const char *other[] = {"sda1", "/mnt"};
  assert_int_equal(pmx_metric_remove_matching(f->size, other, 2), 0);
  assert_int_equal(pmx_metric_remove_matching(f->size, exact, 2), 1);
  emit(f, "sda1", "/", 1, 10);
  emit(f, "sda2", "/mnt", 2, 20);
  const char *all[] = {NULL, NULL};
  assert_int_equal(pmx_metric_remove_matching(f->size, all, 2), 2);
  assert_int_equal(pmx_metric_series_count(f->size), 0);
  /* Bad input: nothing removed. */
  emit(f, "sda1", "/", 1, 10);
  assert_int_equal(pmx_metric_remove_matching(NULL, all, 2), PMX_EINVAL);
  assert_int_equal(pmx_metric_remove_matching(f->size, all, 1), PMX_EINVAL);
  assert_int_equal(pmx_metric_remove_matching(f->size, NULL, 2), PMX_EINVAL);
  assert_int_equal(pmx_metric_remove_matching(f->events, NULL, 0), 1); /* unlabelled: its one */
  assert_int_equal(pmx_metric_series_count(f->size), 1);
}

static void test_retire_by_one_label(void **state) {
  retire_fx_t *f = *state;
  emit(f, "sda1", "/", 1, 10);
  emit(f, "sda2", "/mnt", 2, 20);
  emit(f, "sdb1", "/mnt", 3, 30);
  pmx_meta_t gone[] = {PMX_META_S("mountpoint", "/mnt")};
  /* Two series of fs_size_bytes; fs_by_id_total has no mountpoint label: untouched, as is the
   * unlabelled counter. */
  assert_int_equal(pmx_retire(f->bus, f->ev, gone, 1), 2);
  char *text = ct_render(f->reg, PMX_FORMAT_TEXT);
  assert_true(ct_has_line(text, "fs_size_bytes{device=\"sda1\",mountpoint=\"/\"} 10"));
  assert_int_equal(ct_count(text, "mountpoint=\"/mnt\""), 0);
  assert_true(ct_has_line(text, "fs_polls_total 3"));
  assert_true(ct_has_line(text, "fs_by_id_total{id=\"2\"} 20"));
  free(text);
  /* The mount comes back: a fresh series (a sum restarts from the new events only). */
  emit(f, "sda2", "/mnt", 2, 25);
  text = ct_render(f->reg, PMX_FORMAT_TEXT);
  assert_true(ct_has_line(text, "fs_size_bytes{device=\"sda2\",mountpoint=\"/mnt\"} 25"));
  free(text);
  /* Retiring again what is not there removes nothing. */
  pmx_meta_t absent[] = {PMX_META_S("mountpoint", "/nowhere")};
  assert_int_equal(pmx_retire(f->bus, f->ev, absent, 1), 0);
}

static void test_retire_formats_like_events(void **state) {
  retire_fx_t *f = *state;
  emit(f, "sda1", "/", 7, 10);
  emit(f, "sda2", "/b", -3, 10);
  /* The id label was made from an integer: an integer retires it, whatever other keys say. */
  pmx_meta_t gone[] = {PMX_META_I("id", -3), PMX_META_S("unrelated", "x")};
  assert_int_equal(pmx_retire(f->bus, f->ev, gone, 2), 1);
  assert_int_equal(pmx_metric_series_count(f->by_id), 1);
  /* Keys with both labels: exact match only. */
  pmx_meta_t both[] = {PMX_META_S("device", "sda1"), PMX_META_S("mountpoint", "/b")};
  assert_int_equal(pmx_retire(f->bus, f->ev, both, 2), 0);
  assert_int_equal(pmx_metric_series_count(f->size), 2);
}

static void test_retire_leaves_unnamed_and_detached(void **state) {
  retire_fx_t *f = *state;
  emit(f, "sda1", "/", 1, 10);
  /* A key no metric has: nothing removed, the unlabelled counter included. */
  pmx_meta_t none[] = {PMX_META_S("queue", "q1")};
  assert_int_equal(pmx_retire(f->bus, f->ev, none, 1), 0);
  assert_int_equal(pmx_metric_series_count(f->events), 1);
  /* A value that cannot be a label (NULL string, pointer) leaves the metric alone, rather than
   * widening the match to every value. */
  pmx_meta_t bad[] = {PMX_META_S("mountpoint", NULL), PMX_META_S("device", "sda1")};
  assert_int_equal(pmx_retire(f->bus, f->ev, bad, 2), 0);
  pmx_meta_t ptr[] = {PMX_META_P("device", f)};
  assert_int_equal(pmx_retire(f->bus, f->ev, ptr, 1), 0);
  assert_int_equal(pmx_metric_series_count(f->size), 1);
  /* Another event of the same bus: its metrics only. An event with no metric: 0. */
  pmx_event_t *other = NULL;
  assert_int_equal(pmx_bus_event(f->bus, EV ".child", &other), PMX_OK);
  pmx_meta_t dev[] = {PMX_META_S("device", "sda1")};
  assert_int_equal(pmx_retire(f->bus, other, dev, 1), 0);
  /* A detached metric is no longer reached through the event. */
  assert_int_equal(pmx_metric_detach(f->size), PMX_OK);
  assert_int_equal(pmx_retire(f->bus, f->ev, dev, 1), 0);
  assert_int_equal(pmx_metric_series_count(f->size), 1);
}

static void test_retire_bad_input(void **state) {
  retire_fx_t *f = *state;
  emit(f, "sda1", "/", 1, 10);
  pmx_meta_t md[] = {PMX_META_S("device", "sda1")};
  pmx_meta_t nokey[] = {{.key = NULL, .type = PMX_META_STR, .v.s = "sda1"}};
  assert_int_equal(pmx_retire(NULL, f->ev, md, 1), PMX_EINVAL);
  assert_int_equal(pmx_retire(f->bus, NULL, md, 1), PMX_EINVAL);
  assert_int_equal(pmx_retire(f->bus, f->ev, NULL, 1), PMX_EINVAL);
  assert_int_equal(pmx_retire(f->bus, f->ev, md, 0), PMX_EINVAL);
  assert_int_equal(pmx_retire(f->bus, f->ev, nokey, 1), PMX_EINVAL);
  assert_int_equal(pmx_metric_series_count(f->size), 1); /* nothing lost */
}

/* More metrics on the event than the retire's stack listing holds: the heap path. */
static void test_retire_many_metrics(void **state) {
  retire_fx_t *f = *state;
  enum { N = 40 };
  for (int i = 0; i < N; i++) {
    char name[32];
    snprintf(name, sizeof name, "fs_extra_%d", i);
    define(f, (pmx_metric_def_t){.kind = PMX_LAST_VALUE, .name = name, .measurement = "size",
                                 .tags = fs_tags, .n_tags = 2});
  }
  emit(f, "sda1", "/", 1, 10);
  emit(f, "sda2", "/x", 2, 10);
  pmx_meta_t gone[] = {PMX_META_S("device", "sda2")};
  assert_int_equal(pmx_retire(f->bus, f->ev, gone, 1), N + 1);
  char *text = ct_render(f->reg, PMX_FORMAT_TEXT);
  assert_int_equal(ct_count(text, "sda2"), 0);
  assert_int_equal(ct_count(text, "sda1"), N + 1);
  free(text);
}

/* tag_values: the retire goes through it, so the label it computes is the one matched. */
static bool upper_dev(const pmx_event_data_t *ev, pmx_tag_source_t *out, void *ctx) {
  (void)ctx;
  const pmx_meta_t *d = pmx_event_meta(ev, "device");
  if (d == NULL || d->type != PMX_META_STR) return false;
  size_t n = strlen(d->v.s);
  if (n >= sizeof out->scratch) return false;
  for (size_t i = 0; i <= n; i++) out->scratch[i] = (char)(d->v.s[i] >= 'a' && d->v.s[i] <= 'z' ? d->v.s[i] - 32 : d->v.s[i]);
  out->items[out->n++] = PMX_META_S("disk", out->scratch);
  return true;
}

static void test_retire_through_tag_values(void **state) {
  retire_fx_t *f = *state;
  static const char *const disk[] = {"disk"};
  pmx_metric_t *m = define(f, (pmx_metric_def_t){.kind = PMX_LAST_VALUE, .name = "fs_disk",
                                                 .measurement = "size", .tags = disk, .n_tags = 1,
                                                 .tag_values = upper_dev});
  emit(f, "sda1", "/", 1, 10);
  emit(f, "sdb1", "/b", 2, 10);
  pmx_meta_t gone[] = {PMX_META_S("device", "sdb1")};
  assert_int_equal(pmx_retire(f->bus, f->ev, gone, 1), 2); /* fs_size_bytes and fs_disk */
  char *text = ct_render(f->reg, PMX_FORMAT_TEXT);
  assert_true(ct_has_line(text, "fs_disk{disk=\"SDA1\"} 10"));
  assert_int_equal(ct_count(text, "SDB1"), 0);
  free(text);
  /* tag_values refuses (no device given): the metric is left alone. */
  pmx_meta_t mp[] = {PMX_META_S("mountpoint", "/")};
  assert_int_equal(pmx_retire(f->bus, f->ev, mp, 1), 1); /* fs_size_bytes only */
  assert_int_equal(pmx_metric_series_count(m), 1);
}

/* ---- the seen set ---- */

typedef struct gone_log {
  char keys[8][16];
  int n;
} gone_log_t;

static void log_gone(const char *key, void *arg) {
  gone_log_t *g = arg;
  if (g->n < 8) snprintf(g->keys[g->n++], sizeof g->keys[0], "%s", key);
}

static void test_seen_set(void **state) {
  (void)state;
  pmx_seen_t *s = NULL;
  assert_int_equal(pmx_seen_new(&s), PMX_OK);
  gone_log_t g = {0};
  assert_int_equal(pmx_seen_mark(s, "eth0"), PMX_OK);
  assert_int_equal(pmx_seen_mark(s, "eth1"), PMX_OK);
  assert_int_equal(pmx_seen_mark(s, "eth0"), PMX_OK); /* twice in one poll: once */
  assert_int_equal(pmx_seen_sweep(s, log_gone, &g), 0);
  /* Next poll: reordered, eth1 gone, veth9 new. */
  assert_int_equal(pmx_seen_mark(s, "veth9"), PMX_OK);
  assert_int_equal(pmx_seen_mark(s, "eth0"), PMX_OK);
  assert_int_equal(pmx_seen_sweep(s, log_gone, &g), 1);
  assert_int_equal(g.n, 1);
  assert_string_equal(g.keys[0], "eth1");
  /* A poll that marks nothing: all gone, once. */
  assert_int_equal(pmx_seen_sweep(s, log_gone, &g), 2);
  assert_int_equal(pmx_seen_sweep(s, log_gone, &g), 0);
  assert_int_equal(g.n, 3);
  /* Back again: seen as new, not gone. */
  assert_int_equal(pmx_seen_mark(s, "eth1"), PMX_OK);
  assert_int_equal(pmx_seen_sweep(s, NULL, NULL), 0);
  assert_int_equal(pmx_seen_sweep(s, NULL, NULL), 1);
  /* Bad input. */
  assert_int_equal(pmx_seen_new(NULL), PMX_EINVAL);
  assert_int_equal(pmx_seen_mark(NULL, "x"), PMX_EINVAL);
  assert_int_equal(pmx_seen_mark(s, NULL), PMX_EINVAL);
  assert_int_equal(pmx_seen_sweep(NULL, NULL, NULL), PMX_EINVAL);
  pmx_seen_free(s);
  pmx_seen_free(NULL);
}

/* A failed mark: the sweep that follows retires nothing (the key may still exist). */
static int g_fail_after = -1;
static void *failing_malloc(size_t n) {
  if (g_fail_after == 0) return NULL;
  if (g_fail_after > 0) g_fail_after--;
  return malloc(n);
}
static void *failing_realloc(void *p, size_t n) {
  if (g_fail_after == 0) return NULL;
  if (g_fail_after > 0) g_fail_after--;
  return realloc(p, n);
}
static void *plain_calloc(size_t a, size_t b) { return calloc(a, b); }

static void test_seen_set_out_of_memory(void **state) {
  (void)state;
  assert_int_equal(pmx_replace_allocator(failing_malloc, failing_realloc, plain_calloc, free), PMX_OK);
  pmx_seen_t *s = NULL;
  assert_int_equal(pmx_seen_new(&s), PMX_OK);
  assert_int_equal(pmx_seen_mark(s, "a"), PMX_OK);
  assert_int_equal(pmx_seen_mark(s, "b"), PMX_OK);
  assert_int_equal(pmx_seen_sweep(s, NULL, NULL), 0);
  g_fail_after = 0;
  assert_int_equal(pmx_seen_mark(s, "c"), PMX_ENOMEM);
  g_fail_after = -1;
  assert_int_equal(pmx_seen_sweep(s, NULL, NULL), 0); /* a and b unmarked, but kept */
  assert_int_equal(pmx_seen_mark(s, "a"), PMX_OK);
  assert_int_equal(pmx_seen_sweep(s, NULL, NULL), 1); /* now b is gone */
  pmx_seen_free(s);
  assert_int_equal(pmx_replace_allocator(NULL, NULL, NULL, NULL), PMX_OK);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_remove_matching, setup, teardown),
      cmocka_unit_test_setup_teardown(test_retire_by_one_label, setup, teardown),
      cmocka_unit_test_setup_teardown(test_retire_formats_like_events, setup, teardown),
      cmocka_unit_test_setup_teardown(test_retire_leaves_unnamed_and_detached, setup, teardown),
      cmocka_unit_test_setup_teardown(test_retire_bad_input, setup, teardown),
      cmocka_unit_test_setup_teardown(test_retire_many_metrics, setup, teardown),
      cmocka_unit_test_setup_teardown(test_retire_through_tag_values, setup, teardown),
      cmocka_unit_test(test_seen_set),
      cmocka_unit_test(test_seen_set_out_of_memory),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
