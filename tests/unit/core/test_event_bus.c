/* Unit tests for the event bus (include/promex/event.h) and status codes (error.h): bus
 * lifecycle, event name validation, attach/attach_many/detach semantics (all-or-nothing,
 * attach order, EBUSY from inside handlers), emit, list_handlers, spans, lookup helpers, the
 * debug handler, and pmx_strerror/pmx_err_name. Each test states the header contract it checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "core_test_util.h"
#include "promex/promex.h"

/* ---- a recording handler -------------------------------------------------------------------- */

#define MAX_CALLS 64
typedef struct call_log {
  int n;
  int order[MAX_CALLS];    /* tag of the handler, in call order */
  void *config[MAX_CALLS];
  size_t n_meas[MAX_CALLS];
  size_t n_meta[MAX_CALLS];
  const char *event[MAX_CALLS];
} call_log_t;

static call_log_t g_log;

typedef struct tagged {
  int tag;
} tagged_t;

static void rec_handler(const pmx_event_data_t *ev, void *config) {
  if (g_log.n >= MAX_CALLS) return;
  int i = g_log.n++;
  g_log.order[i] = config ? ((tagged_t *)config)->tag : -1;
  g_log.config[i] = config;
  g_log.n_meas[i] = ev->n_measurements;
  g_log.n_meta[i] = ev->n_metadata;
  g_log.event[i] = pmx_event_name(ev->event);
}

static void other_handler(const pmx_event_data_t *ev, void *config) {
  (void)ev;
  (void)config;
}

static int setup_bus(void **state) {
  pmx_bus_t *bus = NULL;
  if (pmx_bus_new(&bus) != PMX_OK) return -1;
  *state = bus;
  memset(&g_log, 0, sizeof g_log);
  return 0;
}

static int teardown_bus(void **state) {
  pmx_bus_destroy(*state);
  return 0;
}

/* ---- lifecycle -------------------------------------------------------------------------------- */

static void test_bus_new_destroy(void **state) {
  (void)state;
  assert_int_equal(pmx_bus_new(NULL), PMX_EINVAL);
  pmx_bus_t *bus = (pmx_bus_t *)(uintptr_t)1;
  assert_int_equal(pmx_bus_new(&bus), PMX_OK);
  assert_non_null(bus);
  pmx_bus_destroy(bus);
  pmx_bus_destroy(NULL); /* documented no-op */

  /* Destroying a bus with handlers still attached frees them (valgrind/ASan check the leak). */
  assert_int_equal(pmx_bus_new(&bus), PMX_OK);
  assert_int_equal(pmx_bus_attach(bus, "h", "a.b", other_handler, NULL), PMX_OK);
  pmx_bus_destroy(bus);
}

static void test_event_name_validation(void **state) {
  pmx_bus_t *bus = *state;
  pmx_event_t *ev = NULL;
  const char *good[] = {"a", "a.b-c_d.E9", "A", "0", "-", "x.y.z.w", "__.--"};
  for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
    ev = NULL;
    assert_int_equal(pmx_bus_event(bus, good[i], &ev), PMX_OK);
    assert_non_null(ev);
    assert_string_equal(pmx_event_name(ev), good[i]);
  }
  char long255[256], long256[257];
  memset(long255, 'a', 255);
  long255[255] = '\0';
  memset(long256, 'a', 256);
  long256[256] = '\0';
  assert_int_equal(pmx_bus_event(bus, long255, &ev), PMX_OK); /* "at most 255 bytes" */

  const char *bad[] = {"", ".a", "a.", "a..b", "a b", "a/b", "a:b", "é", ".", long256};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    ev = (pmx_event_t *)(uintptr_t)1;
    assert_int_equal(pmx_bus_event(bus, bad[i], &ev), PMX_EINVAL);
    assert_null(ev); /* "*out set to NULL" */
  }
  ev = (pmx_event_t *)(uintptr_t)1;
  assert_int_equal(pmx_bus_event(bus, NULL, &ev), PMX_EINVAL);
  assert_null(ev);
  assert_int_equal(pmx_bus_event(NULL, "a", &ev), PMX_EINVAL);
  assert_null(ev);
  assert_int_equal(pmx_bus_event(bus, "a", NULL), PMX_EINVAL);
}

static void test_event_resolve_same_handle(void **state) {
  pmx_bus_t *bus = *state;
  pmx_event_t *a = NULL, *b = NULL, *c = NULL;
  assert_int_equal(pmx_bus_event(bus, "http.request.stop", &a), PMX_OK);
  assert_int_equal(pmx_bus_event(bus, "http.request.stop", &b), PMX_OK);
  assert_int_equal(pmx_bus_event(bus, "http.request.start", &c), PMX_OK);
  assert_ptr_equal(a, b);
  assert_ptr_not_equal(a, c);
  /* Many events (more than any hash bucket count) all resolve back to their own handle. */
  pmx_event_t *evs[600];
  char name[32];
  for (int i = 0; i < 600; i++) {
    snprintf(name, sizeof name, "ev.n%d", i);
    assert_int_equal(pmx_bus_event(bus, name, &evs[i]), PMX_OK);
  }
  for (int i = 0; i < 600; i++) {
    snprintf(name, sizeof name, "ev.n%d", i);
    pmx_event_t *again = NULL;
    assert_int_equal(pmx_bus_event(bus, name, &again), PMX_OK);
    assert_ptr_equal(again, evs[i]);
    assert_string_equal(pmx_event_name(again), name);
  }
}

/* ---- attach / detach / emit ----------------------------------------------------------------- */

static void test_attach_order_and_config(void **state) {
  pmx_bus_t *bus = *state;
  tagged_t t1 = {1}, t2 = {2}, t3 = {3};
  assert_int_equal(pmx_bus_attach(bus, "second-id", "a.b", rec_handler, &t1), PMX_OK);
  assert_int_equal(pmx_bus_attach(bus, "first-id", "a.b", rec_handler, &t2), PMX_OK);
  assert_int_equal(pmx_bus_attach(bus, "third", "a.b", rec_handler, &t3), PMX_OK);
  pmx_event_t *ev;
  assert_int_equal(pmx_bus_event(bus, "a.b", &ev), PMX_OK);
  pmx_measurement_t m[] = {PMX_M("x", 1), PMX_M("y", 2)};
  pmx_meta_t md[] = {PMX_META_S("k", "v")};
  assert_int_equal(pmx_emit(ev, m, 2, md, 1), 3);
  assert_int_equal(g_log.n, 3);
  /* Attach order, not id order. */
  assert_int_equal(g_log.order[0], 1);
  assert_int_equal(g_log.order[1], 2);
  assert_int_equal(g_log.order[2], 3);
  assert_ptr_equal(g_log.config[0], &t1);
  assert_ptr_equal(g_log.config[2], &t3);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(g_log.n_meas[i], 2);
    assert_int_equal(g_log.n_meta[i], 1);
    assert_string_equal(g_log.event[i], "a.b");
  }
  /* No handler: emit runs nothing and returns 0. */
  pmx_event_t *quiet;
  assert_int_equal(pmx_bus_event(bus, "quiet", &quiet), PMX_OK);
  assert_int_equal(pmx_emit(quiet, NULL, 0, NULL, 0), 0);
}

static void test_attach_bad_args(void **state) {
  pmx_bus_t *bus = *state;
  const char *names[] = {"a.b"};
  assert_int_equal(pmx_bus_attach(NULL, "h", "a.b", rec_handler, NULL), PMX_EINVAL);
  assert_int_equal(pmx_bus_attach(bus, NULL, "a.b", rec_handler, NULL), PMX_EINVAL);
  assert_int_equal(pmx_bus_attach(bus, "", "a.b", rec_handler, NULL), PMX_EINVAL);
  assert_int_equal(pmx_bus_attach(bus, "h", "a.b", NULL, NULL), PMX_EINVAL);
  assert_int_equal(pmx_bus_attach(bus, "h", "a..b", rec_handler, NULL), PMX_EINVAL);
  assert_int_equal(pmx_bus_attach(bus, "h", NULL, rec_handler, NULL), PMX_EINVAL);
  assert_int_equal(pmx_bus_attach_many(bus, "h", names, 0, rec_handler, NULL), PMX_EINVAL);
  assert_int_equal(pmx_bus_attach_many(bus, "h", NULL, 1, rec_handler, NULL), PMX_EINVAL);
  size_t total = 99;
  assert_int_equal(pmx_bus_list_handlers(bus, NULL, NULL, 0, &total), PMX_OK);
  assert_int_equal(total, 0);
}

static void test_attach_duplicate_id(void **state) {
  pmx_bus_t *bus = *state;
  tagged_t t1 = {1}, t2 = {2};
  assert_int_equal(pmx_bus_attach(bus, "dup", "a.b", rec_handler, &t1), PMX_OK);
  /* Same id, other event: PMX_EEXIST and nothing changed. */
  assert_int_equal(pmx_bus_attach(bus, "dup", "c.d", rec_handler, &t2), PMX_EEXIST);
  const char *two[] = {"a.b", "e.f"};
  assert_int_equal(pmx_bus_attach_many(bus, "dup", two, 2, rec_handler, &t2), PMX_EEXIST);
  assert_int_equal(pmx_emit_name(bus, "c.d", NULL, 0, NULL, 0), 0);
  assert_int_equal(pmx_emit_name(bus, "e.f", NULL, 0, NULL, 0), 0);
  assert_int_equal(pmx_emit_name(bus, "a.b", NULL, 0, NULL, 0), 1);
  assert_int_equal(g_log.n, 1);
  assert_int_equal(g_log.order[0], 1); /* the original config */
  size_t total = 0;
  pmx_handler_info_t info[4];
  assert_int_equal(pmx_bus_list_handlers(bus, "", info, 4, &total), PMX_OK);
  assert_int_equal(total, 1);
  assert_string_equal(info[0].event_name, "a.b");
}

static void test_attach_many_all_or_nothing(void **state) {
  pmx_bus_t *bus = *state;
  const char *names[] = {"x.one", "x.two", "bad..name", "x.three"};
  assert_int_equal(pmx_bus_attach_many(bus, "multi", names, 4, rec_handler, NULL), PMX_EINVAL);
  /* No event gained the handler. */
  assert_int_equal(pmx_emit_name(bus, "x.one", NULL, 0, NULL, 0), 0);
  assert_int_equal(pmx_emit_name(bus, "x.two", NULL, 0, NULL, 0), 0);
  assert_int_equal(pmx_emit_name(bus, "x.three", NULL, 0, NULL, 0), 0);
  size_t total = 7;
  assert_int_equal(pmx_bus_list_handlers(bus, NULL, NULL, 0, &total), PMX_OK);
  assert_int_equal(total, 0);
  /* The id is still free. */
  const char *ok[] = {"x.one", "x.two", "x.three"};
  assert_int_equal(pmx_bus_attach_many(bus, "multi", ok, 3, rec_handler, NULL), PMX_OK);
  for (int i = 0; i < 3; i++) assert_int_equal(pmx_emit_name(bus, ok[i], NULL, 0, NULL, 0), 1);
  assert_int_equal(g_log.n, 3);
  assert_string_equal(g_log.event[0], "x.one");
  assert_string_equal(g_log.event[2], "x.three");
}

static void test_detach(void **state) {
  pmx_bus_t *bus = *state;
  tagged_t t1 = {1}, t2 = {2};
  const char *names[] = {"d.one", "d.two"};
  assert_int_equal(pmx_bus_attach_many(bus, "gone", names, 2, rec_handler, &t1), PMX_OK);
  assert_int_equal(pmx_bus_attach(bus, "stays", "d.one", rec_handler, &t2), PMX_OK);
  assert_int_equal(pmx_emit_name(bus, "d.one", NULL, 0, NULL, 0), 2);
  g_log.n = 0;

  assert_int_equal(pmx_bus_detach(bus, "gone"), PMX_OK);
  /* Detached from every event; the other handler keeps running. */
  assert_int_equal(pmx_emit_name(bus, "d.one", NULL, 0, NULL, 0), 1);
  assert_int_equal(pmx_emit_name(bus, "d.two", NULL, 0, NULL, 0), 0);
  assert_int_equal(g_log.n, 1);
  assert_int_equal(g_log.order[0], 2);

  assert_int_equal(pmx_bus_detach(bus, "gone"), PMX_ENOENT);
  assert_int_equal(pmx_bus_detach(bus, "never"), PMX_ENOENT);
  assert_int_equal(pmx_bus_detach(bus, NULL), PMX_EINVAL);
  assert_int_equal(pmx_bus_detach(NULL, "stays"), PMX_EINVAL);
  /* The id can be reused after detach, and goes to the end of the attach order. */
  assert_int_equal(pmx_bus_attach(bus, "gone", "d.one", rec_handler, &t1), PMX_OK);
  g_log.n = 0;
  assert_int_equal(pmx_emit_name(bus, "d.one", NULL, 0, NULL, 0), 2);
  assert_int_equal(g_log.order[0], 2);
  assert_int_equal(g_log.order[1], 1);
}

static void test_list_handlers(void **state) {
  pmx_bus_t *bus = *state;
  tagged_t cfg = {5};
  assert_int_equal(pmx_bus_attach(bus, "h1", "http.req", rec_handler, &cfg), PMX_OK);
  assert_int_equal(pmx_bus_attach(bus, "h2", "https.x", other_handler, NULL), PMX_OK);
  const char *two[] = {"http", "db.query"};
  assert_int_equal(pmx_bus_attach_many(bus, "h3", two, 2, other_handler, NULL), PMX_OK);

  pmx_handler_info_t info[8];
  size_t total = 0;
  assert_int_equal(pmx_bus_list_handlers(bus, "http", info, 8, &total), PMX_OK);
  assert_int_equal(total, 2); /* http.req and http itself, not https.x */
  bool saw_req = false, saw_http = false;
  for (size_t i = 0; i < total; i++) {
    assert_string_not_equal(info[i].event_name, "https.x");
    if (strcmp(info[i].event_name, "http.req") == 0) {
      saw_req = true;
      assert_string_equal(info[i].id, "h1");
      assert_ptr_equal(info[i].fn, rec_handler);
      assert_ptr_equal(info[i].config, &cfg);
    }
    if (strcmp(info[i].event_name, "http") == 0) {
      saw_http = true;
      assert_string_equal(info[i].id, "h3");
    }
  }
  assert_true(saw_req && saw_http);

  assert_int_equal(pmx_bus_list_handlers(bus, "", info, 8, &total), PMX_OK);
  assert_int_equal(total, 4);
  assert_int_equal(pmx_bus_list_handlers(bus, NULL, info, 8, &total), PMX_OK);
  assert_int_equal(total, 4);
  assert_int_equal(pmx_bus_list_handlers(bus, "https", info, 8, &total), PMX_OK);
  assert_int_equal(total, 1);
  assert_string_equal(info[0].id, "h2");
  assert_int_equal(pmx_bus_list_handlers(bus, "http.req", info, 8, &total), PMX_OK);
  assert_int_equal(total, 1);
  assert_int_equal(pmx_bus_list_handlers(bus, "htt", info, 8, &total), PMX_OK);
  assert_int_equal(total, 0);

  /* cap smaller than the total: only cap entries written, n_total is the full count. */
  pmx_handler_info_t small[2];
  pmx_handler_info_t guard = {"guard", "guard", NULL, NULL};
  pmx_handler_info_t two_and_guard[3] = {guard, guard, guard};
  assert_int_equal(pmx_bus_list_handlers(bus, "", two_and_guard, 2, &total), PMX_OK);
  assert_int_equal(total, 4);
  assert_string_equal(two_and_guard[2].id, "guard");
  assert_string_not_equal(two_and_guard[0].id, "guard");
  assert_int_equal(pmx_bus_list_handlers(bus, "", small, 0, &total), PMX_OK);
  assert_int_equal(total, 4);

  assert_int_equal(pmx_bus_list_handlers(NULL, "", info, 8, &total), PMX_EINVAL);
  assert_int_equal(pmx_bus_list_handlers(bus, "", info, 8, NULL), PMX_EINVAL);
  assert_int_equal(pmx_bus_list_handlers(bus, "", NULL, 3, &total), PMX_EINVAL);
}

/* A handler that tries to attach/detach on its own bus; records the return codes. */
typedef struct reentrant {
  pmx_bus_t *bus;
  int attach_rc, detach_rc, detach_other_rc, attach_many_rc;
  int calls;
} reentrant_t;

static void reentrant_handler(const pmx_event_data_t *ev, void *config) {
  (void)ev;
  reentrant_t *r = config;
  r->calls++;
  r->attach_rc = pmx_bus_attach(r->bus, "inner", "r.other", other_handler, NULL);
  const char *names[] = {"r.x", "r.y"};
  r->attach_many_rc = pmx_bus_attach_many(r->bus, "inner2", names, 2, other_handler, NULL);
  r->detach_rc = pmx_bus_detach(r->bus, "self");
  r->detach_other_rc = pmx_bus_detach(r->bus, "victim");
}

static void test_reentrant_attach_detach_busy(void **state) {
  pmx_bus_t *bus = *state;
  reentrant_t r = {bus, 0, 0, 0, 0, 0};
  assert_int_equal(pmx_bus_attach(bus, "victim", "r.other", rec_handler, NULL), PMX_OK);
  assert_int_equal(pmx_bus_attach(bus, "self", "r.ev", reentrant_handler, &r), PMX_OK);
  assert_int_equal(pmx_emit_name(bus, "r.ev", NULL, 0, NULL, 0), 1);
  assert_int_equal(r.calls, 1);
  assert_int_equal(r.attach_rc, PMX_EBUSY);
  assert_int_equal(r.attach_many_rc, PMX_EBUSY);
  assert_int_equal(r.detach_rc, PMX_EBUSY);
  assert_int_equal(r.detach_other_rc, PMX_EBUSY);
  /* Nothing changed: both handlers still attached, "inner" does not exist. */
  assert_int_equal(pmx_emit_name(bus, "r.other", NULL, 0, NULL, 0), 1);
  assert_int_equal(pmx_emit_name(bus, "r.x", NULL, 0, NULL, 0), 0);
  assert_int_equal(pmx_bus_detach(bus, "inner"), PMX_ENOENT);
  /* Outside a handler the same calls work. */
  assert_int_equal(pmx_bus_detach(bus, "self"), PMX_OK);
  assert_int_equal(pmx_bus_detach(bus, "victim"), PMX_OK);
}

/* Attaching to another bus from inside a handler is allowed (only the same bus would deadlock). */
typedef struct cross {
  pmx_bus_t *other;
  int rc;
} cross_t;
static void cross_handler(const pmx_event_data_t *ev, void *config) {
  (void)ev;
  cross_t *c = config;
  c->rc = pmx_bus_attach(c->other, "from-other-bus", "o.ev", other_handler, NULL);
}

static void test_attach_other_bus_from_handler(void **state) {
  pmx_bus_t *bus = *state;
  pmx_bus_t *other;
  assert_int_equal(pmx_bus_new(&other), PMX_OK);
  cross_t c = {other, 1};
  assert_int_equal(pmx_bus_attach(bus, "x", "c.ev", cross_handler, &c), PMX_OK);
  assert_int_equal(pmx_emit_name(bus, "c.ev", NULL, 0, NULL, 0), 1);
  assert_int_equal(c.rc, PMX_OK);
  assert_int_equal(pmx_emit_name(other, "o.ev", NULL, 0, NULL, 0), 1);
  pmx_bus_destroy(other);
}

static void test_emit_bad_args(void **state) {
  pmx_bus_t *bus = *state;
  assert_int_equal(pmx_bus_attach(bus, "h", "e.x", rec_handler, NULL), PMX_OK);
  pmx_event_t *ev;
  assert_int_equal(pmx_bus_event(bus, "e.x", &ev), PMX_OK);
  pmx_measurement_t m[] = {PMX_M("a", 1)};
  pmx_meta_t md[] = {PMX_META_I("b", 2)};
  assert_int_equal(pmx_emit(NULL, m, 1, md, 1), PMX_EINVAL);
  assert_int_equal(pmx_emit(ev, NULL, 1, md, 1), PMX_EINVAL);
  assert_int_equal(pmx_emit(ev, m, 1, NULL, 1), PMX_EINVAL);
  assert_int_equal(g_log.n, 0); /* no handler ran on a rejected emit */
  /* A bus without handlers for the event still validates. */
  pmx_event_t *quiet;
  assert_int_equal(pmx_bus_event(bus, "e.quiet", &quiet), PMX_OK);
  assert_int_equal(pmx_emit(quiet, NULL, 3, NULL, 0), PMX_EINVAL);
  /* NULL arrays with zero counts are fine. */
  assert_int_equal(pmx_emit(ev, NULL, 0, NULL, 0), 1);
  assert_int_equal(g_log.n, 1);
}

static void test_emit_name(void **state) {
  pmx_bus_t *bus = *state;
  tagged_t t = {9};
  assert_int_equal(pmx_bus_attach(bus, "h", "n.ev", rec_handler, &t), PMX_OK);
  pmx_measurement_t m[] = {PMX_M("a", 1)};
  assert_int_equal(pmx_emit_name(bus, "n.ev", m, 1, NULL, 0), 1);
  assert_int_equal(g_log.n, 1);
  assert_int_equal(g_log.order[0], 9);
  assert_int_equal(g_log.n_meas[0], 1);
  assert_int_equal(pmx_emit_name(bus, "n..ev", m, 1, NULL, 0), PMX_EINVAL);
  assert_int_equal(pmx_emit_name(NULL, "n.ev", m, 1, NULL, 0), PMX_EINVAL);
  assert_int_equal(pmx_emit_name(bus, NULL, m, 1, NULL, 0), PMX_EINVAL);
  assert_int_equal(pmx_emit_name(bus, "n.ev", NULL, 1, NULL, 0), PMX_EINVAL);
  assert_int_equal(g_log.n, 1);
  /* An unknown (valid) name is created on the fly and has no handlers. */
  assert_int_equal(pmx_emit_name(bus, "n.other", m, 1, NULL, 0), 0);
}

/* ---- lookup helpers --------------------------------------------------------------------------- */

static void test_event_lookup_helpers(void **state) {
  (void)state;
  pmx_measurement_t m[] = {PMX_M("duration", 12.5), PMX_M("size", 3)};
  pmx_meta_t md[] = {PMX_META_S("method", "GET"), PMX_META_I("status", 404),
                     PMX_META_B("ok", false)};
  pmx_event_data_t ev = {NULL, m, 2, md, 3};
  double v = -1;
  assert_true(pmx_event_measurement(&ev, "duration", &v));
  assert_true(v == 12.5);
  assert_true(pmx_event_measurement(&ev, "size", &v));
  assert_true(v == 3);
  v = -1;
  assert_false(pmx_event_measurement(&ev, "missing", &v));
  assert_true(v == -1); /* untouched */
  assert_false(pmx_event_measurement(NULL, "size", &v));
  assert_false(pmx_event_measurement(&ev, NULL, &v));

  const pmx_meta_t *p = pmx_event_meta(&ev, "status");
  assert_non_null(p);
  assert_int_equal(p->type, PMX_META_INT);
  assert_int_equal(p->v.i, 404);
  p = pmx_event_meta(&ev, "method");
  assert_non_null(p);
  assert_string_equal(p->v.s, "GET");
  assert_null(pmx_event_meta(&ev, "nope"));
  assert_null(pmx_event_meta(NULL, "ok"));
  assert_null(pmx_event_meta(&ev, NULL));
}

/* ---- spans -------------------------------------------------------------------------------------- */

typedef struct span_rec {
  int starts, stops, exceptions;
  double start_mono, start_sys, stop_duration, stop_mono, exc_duration;
  double extra_bytes;
  bool stop_has_bytes;
  char kind[32], reason[64], caller_meta[32];
  size_t start_n_meta, stop_n_meta, exc_n_meta;
  bool start_has_sys;
} span_rec_t;

static void span_handler(const pmx_event_data_t *ev, void *config) {
  span_rec_t *r = config;
  const char *name = pmx_event_name(ev->event);
  const pmx_meta_t *route = pmx_event_meta(ev, "route");
  size_t len = strlen(name);
  if (len >= 6 && strcmp(name + len - 6, ".start") == 0) {
    r->starts++;
    assert_true(pmx_event_measurement(ev, "monotonic_time", &r->start_mono));
    r->start_has_sys = pmx_event_measurement(ev, "system_time", &r->start_sys);
    r->start_n_meta = ev->n_metadata;
  } else if (len >= 5 && strcmp(name + len - 5, ".stop") == 0) {
    r->stops++;
    assert_true(pmx_event_measurement(ev, "duration", &r->stop_duration));
    assert_true(pmx_event_measurement(ev, "monotonic_time", &r->stop_mono));
    r->stop_has_bytes = pmx_event_measurement(ev, "bytes", &r->extra_bytes);
    r->stop_n_meta = ev->n_metadata;
  } else {
    r->exceptions++;
    assert_true(pmx_event_measurement(ev, "duration", &r->exc_duration));
    const pmx_meta_t *k = pmx_event_meta(ev, "kind");
    const pmx_meta_t *re = pmx_event_meta(ev, "reason");
    if (k && k->type == PMX_META_STR && k->v.s) snprintf(r->kind, sizeof r->kind, "%s", k->v.s);
    if (re && re->type == PMX_META_STR && re->v.s) snprintf(r->reason, sizeof r->reason, "%s", re->v.s);
    r->exc_n_meta = ev->n_metadata;
  }
  if (route && route->type == PMX_META_STR) snprintf(r->caller_meta, sizeof r->caller_meta, "%s", route->v.s);
}

static void test_span_events(void **state) {
  pmx_bus_t *bus = *state;
  span_rec_t r;
  memset(&r, 0, sizeof r);
  pmx_span_events_t se;
  assert_int_equal(pmx_span_events(bus, "app.job", &se), PMX_OK);
  assert_string_equal(pmx_event_name(se.start), "app.job.start");
  assert_string_equal(pmx_event_name(se.stop), "app.job.stop");
  assert_string_equal(pmx_event_name(se.exception), "app.job.exception");
  const char *names[] = {"app.job.start", "app.job.stop", "app.job.exception"};
  assert_int_equal(pmx_bus_attach_many(bus, "span", names, 3, span_handler, &r), PMX_OK);

  pmx_meta_t md[] = {PMX_META_S("route", "/users")};
  pmx_span_t span;
  int64_t before = pmx_monotonic_ns();
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  double wall = (double)now.tv_sec * 1e9 + (double)now.tv_nsec;
  assert_int_equal(pmx_span_start(&span, &se, md, 1), PMX_OK);
  assert_int_equal(r.starts, 1);
  assert_true(r.start_mono >= (double)before);
  assert_true(r.start_has_sys);
  /* system_time is Unix-epoch nanoseconds: within a minute of the wall clock read just before. */
  assert_true(r.start_sys >= wall - 1e6 && r.start_sys < wall + 60e9);
  assert_int_equal(r.start_n_meta, 1);
  assert_string_equal(r.caller_meta, "/users");

  struct timespec ts = {0, 2000000};
  nanosleep(&ts, NULL);
  pmx_measurement_t extra[] = {PMX_M("bytes", 512)};
  r.caller_meta[0] = '\0';
  assert_int_equal(pmx_span_stop(&span, extra, 1, md, 1), PMX_OK);
  assert_int_equal(r.stops, 1);
  assert_true(r.stop_duration >= 2e6); /* slept 2 ms between start and stop */
  assert_true(r.stop_mono >= r.start_mono);
  assert_true(r.stop_duration == r.stop_mono - r.start_mono);
  assert_true(r.stop_has_bytes);
  assert_true(r.extra_bytes == 512);
  assert_string_equal(r.caller_meta, "/users");

  r.caller_meta[0] = '\0';
  assert_int_equal(pmx_span_exception(&span, "error", "timeout", md, 1), PMX_OK);
  assert_int_equal(r.exceptions, 1);
  assert_true(r.exc_duration >= 0);
  assert_string_equal(r.kind, "error");
  assert_string_equal(r.reason, "timeout");
  assert_string_equal(r.caller_meta, "/users");
  assert_int_equal(r.exc_n_meta, 3); /* kind, reason and the caller's */
}

static void test_span_bad_args(void **state) {
  pmx_bus_t *bus = *state;
  pmx_span_events_t se;
  pmx_span_t span;
  assert_int_equal(pmx_span_events(bus, "a..b", &se), PMX_EINVAL);
  assert_int_equal(pmx_span_events(NULL, "a", &se), PMX_EINVAL);
  assert_int_equal(pmx_span_events(bus, NULL, &se), PMX_EINVAL);
  assert_int_equal(pmx_span_events(bus, "a", NULL), PMX_EINVAL);
  char longp[300];
  memset(longp, 'p', 250);
  longp[250] = '\0'; /* fits alone, but "<prefix>.exception" exceeds 255 bytes */
  assert_int_equal(pmx_span_events(bus, longp, &se), PMX_EINVAL);

  assert_int_equal(pmx_span_events(bus, "s", &se), PMX_OK);
  assert_int_equal(pmx_span_start(NULL, &se, NULL, 0), PMX_EINVAL);
  assert_int_equal(pmx_span_start(&span, NULL, NULL, 0), PMX_EINVAL);
  assert_int_equal(pmx_span_start(&span, &se, NULL, 2), PMX_EINVAL);
  assert_int_equal(pmx_span_start(&span, &se, NULL, 0), PMX_OK);

  pmx_measurement_t extra[15];
  for (int i = 0; i < 15; i++) extra[i] = PMX_M("x", i);
  assert_int_equal(pmx_span_stop(&span, extra, 15, NULL, 0), PMX_EINVAL); /* > 14 extras */
  assert_int_equal(pmx_span_stop(&span, NULL, 1, NULL, 0), PMX_EINVAL);
  assert_int_equal(pmx_span_stop(NULL, extra, 1, NULL, 0), PMX_EINVAL);
  assert_int_equal(pmx_span_stop(&span, extra, 14, NULL, 0), PMX_OK);
  assert_int_equal(pmx_span_exception(NULL, "k", "r", NULL, 0), PMX_EINVAL);
  assert_int_equal(pmx_span_exception(&span, "k", "r", NULL, 1), PMX_EINVAL);
}

/* "At most 14 metadata entries are forwarded to start/stop/exception beyond those the span adds"
 * and each returns PMX_OK or PMX_EINVAL: with 15 caller entries, either the call is refused or
 * the handler sees at most 14 of them. */
typedef struct meta_count {
  size_t n_meta;
  int calls;
} meta_count_t;
static void meta_count_handler(const pmx_event_data_t *ev, void *config) {
  meta_count_t *c = config;
  c->calls++;
  size_t n = ev->n_metadata;
  /* Subtract what the span itself adds (kind, reason on exception). */
  if (pmx_event_meta(ev, "kind") && pmx_event_meta(ev, "reason")) n -= 2;
  c->n_meta = n;
}

/* kind: 0 start, 1 stop, 2 exception. */
static void span_metadata_limit(pmx_bus_t *bus, int kind) {
  pmx_span_events_t se;
  assert_int_equal(pmx_span_events(bus, "lim", &se), PMX_OK);
  meta_count_t c = {0, 0};
  const char *names[] = {"lim.start", "lim.stop", "lim.exception"};
  assert_int_equal(pmx_bus_attach_many(bus, "cnt", names, 3, meta_count_handler, &c), PMX_OK);
  pmx_meta_t md[15];
  for (int i = 0; i < 15; i++) md[i] = PMX_META_I("m", i);
  pmx_span_t span;
  assert_int_equal(pmx_span_start(&span, &se, NULL, 0), PMX_OK);
  c.calls = 0;
  c.n_meta = 0;
  int rc = kind == 0   ? pmx_span_start(&span, &se, md, 15)
           : kind == 1 ? pmx_span_stop(&span, NULL, 0, md, 15)
                       : pmx_span_exception(&span, "k", "r", md, 15);
  if (rc == PMX_EINVAL) {
    assert_int_equal(c.calls, 0);
  } else {
    assert_int_equal(rc, PMX_OK);
    assert_int_equal(c.calls, 1);
    assert_true(c.n_meta <= 14);
  }
  /* 14 is always accepted and forwarded whole. */
  c.calls = 0;
  rc = kind == 0   ? pmx_span_start(&span, &se, md, 14)
       : kind == 1 ? pmx_span_stop(&span, NULL, 0, md, 14)
                   : pmx_span_exception(&span, "k", "r", md, 14);
  assert_int_equal(rc, PMX_OK);
  assert_int_equal(c.calls, 1);
  assert_int_equal(c.n_meta, 14);
}

static void test_span_metadata_limit_start(void **state) { span_metadata_limit(*state, 0); }
static void test_span_metadata_limit_stop(void **state) { span_metadata_limit(*state, 1); }
static void test_span_metadata_limit_exception(void **state) { span_metadata_limit(*state, 2); }

static void test_monotonic(void **state) {
  (void)state;
  int64_t a = pmx_monotonic_ns();
  int64_t b = pmx_monotonic_ns();
  assert_true(a > 0);
  assert_true(b >= a);
}

/* ---- debug handler ---------------------------------------------------------------------------- */

static void test_debug_attach(void **state) {
  pmx_bus_t *bus = *state;
  FILE *f = tmpfile();
  assert_non_null(f);
  const char *names[] = {"dbg.ev", "dbg.other"};
  assert_int_equal(pmx_debug_attach(bus, "debugger", names, 2, f), PMX_OK);
  int marker = 0;
  pmx_measurement_t m[] = {PMX_M("duration", 1.5), PMX_M("count", 200)};
  pmx_meta_t md[] = {PMX_META_S("method", "GET"), PMX_META_I("status", -404),
                     PMX_META_D("ratio", 0.25), PMX_META_B("cached", true), PMX_META_B("slow", false),
                     PMX_META_P("conn", &marker)};
  assert_int_equal(pmx_emit_name(bus, "dbg.ev", m, 2, md, 6), 1);
  assert_int_equal(pmx_emit_name(bus, "dbg.other", NULL, 0, NULL, 0), 1);
  assert_int_equal(pmx_emit_name(bus, "dbg.unwatched", m, 2, NULL, 0), 0);
  fflush(f);
  rewind(f);
  char line1[4096], line2[4096], line3[16];
  assert_non_null(fgets(line1, sizeof line1, f));
  assert_non_null(fgets(line2, sizeof line2, f));
  assert_null(fgets(line3, sizeof line3, f)); /* exactly two lines, one per event */
  fclose(f);

  assert_non_null(strchr(line1, '\n'));
  assert_non_null(strstr(line1, "dbg.ev"));
  assert_non_null(strstr(line1, "duration"));
  assert_non_null(strstr(line1, "1.5"));
  assert_non_null(strstr(line1, "count"));
  assert_non_null(strstr(line1, "200"));
  assert_non_null(strstr(line1, "method"));
  assert_non_null(strstr(line1, "GET"));
  assert_non_null(strstr(line1, "status"));
  assert_non_null(strstr(line1, "-404"));
  assert_non_null(strstr(line1, "ratio"));
  assert_non_null(strstr(line1, "0.25"));
  assert_non_null(strstr(line1, "cached"));
  assert_non_null(strstr(line1, "true"));
  assert_non_null(strstr(line1, "false"));
  assert_non_null(strstr(line1, "conn"));
  assert_non_null(strstr(line2, "dbg.other"));
  assert_null(strstr(line2, "GET"));

  /* Same contract as attach_many: duplicate id refused; detach by id works. */
  assert_int_equal(pmx_debug_attach(bus, "debugger", names, 1, NULL), PMX_EEXIST);
  assert_int_equal(pmx_debug_attach(bus, "d2", names, 0, NULL), PMX_EINVAL);
  assert_int_equal(pmx_bus_detach(bus, "debugger"), PMX_OK);
  assert_int_equal(pmx_emit_name(bus, "dbg.ev", NULL, 0, NULL, 0), 0);
}

/* ---- status codes ------------------------------------------------------------------------------- */

static void test_strerror_and_names(void **state) {
  (void)state;
  assert_string_equal(pmx_err_name(PMX_OK), "PMX_OK");
  assert_non_null(pmx_strerror(PMX_OK));
  assert_true(strlen(pmx_strerror(PMX_OK)) > 0);
  struct {
    int code;
    const char *name;
    const char *msg;
  } codes[] = {
#define XX(name, val, msg) {PMX_##name, "PMX_" #name, msg},
      PMX_STATUS_MAP(XX)
#undef XX
  };
  size_t n = sizeof codes / sizeof *codes;
  assert_true(n >= 19);
  for (size_t i = 0; i < n; i++) {
    assert_true(codes[i].code < 0);
    assert_string_equal(pmx_err_name(codes[i].code), codes[i].name);
    assert_string_equal(pmx_strerror(codes[i].code), codes[i].msg);
    for (size_t j = 0; j < i; j++) assert_int_not_equal(codes[i].code, codes[j].code);
  }
  /* Codes are never renumbered: spot-check the documented values. */
  assert_int_equal(PMX_EINVAL, -1);
  assert_int_equal(PMX_EBUSY, -12);
  assert_int_equal(PMX_ESYS, -19);
  /* Unknown codes: never NULL, and not mistaken for a known one. */
  int unknown[] = {-1000, 1, 42, -20, INT32_MIN};
  for (size_t k = 0; k < sizeof unknown / sizeof *unknown; k++) {
    const char *name = pmx_err_name(unknown[k]);
    const char *msg = pmx_strerror(unknown[k]);
    assert_non_null(name);
    assert_non_null(msg);
    assert_string_not_equal(name, "PMX_OK");
    for (size_t i = 0; i < n; i++) {
      assert_string_not_equal(name, codes[i].name);
      assert_string_not_equal(msg, codes[i].msg);
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bus_new_destroy),
      cmocka_unit_test_setup_teardown(test_event_name_validation, setup_bus, teardown_bus),
      cmocka_unit_test_setup_teardown(test_event_resolve_same_handle, setup_bus, teardown_bus),
      cmocka_unit_test_setup_teardown(test_attach_order_and_config, setup_bus, teardown_bus),
      cmocka_unit_test_setup_teardown(test_attach_bad_args, setup_bus, teardown_bus),
      cmocka_unit_test_setup_teardown(test_attach_duplicate_id, setup_bus, teardown_bus),
      cmocka_unit_test_setup_teardown(test_attach_many_all_or_nothing, setup_bus, teardown_bus),
      cmocka_unit_test_setup_teardown(test_detach, setup_bus, teardown_bus),
      cmocka_unit_test_setup_teardown(test_list_handlers, setup_bus, teardown_bus),
      cmocka_unit_test_setup_teardown(test_reentrant_attach_detach_busy, setup_bus, teardown_bus),
      cmocka_unit_test_setup_teardown(test_attach_other_bus_from_handler, setup_bus, teardown_bus),
      cmocka_unit_test_setup_teardown(test_emit_bad_args, setup_bus, teardown_bus),
      cmocka_unit_test_setup_teardown(test_emit_name, setup_bus, teardown_bus),
      cmocka_unit_test(test_event_lookup_helpers),
      cmocka_unit_test_setup_teardown(test_span_events, setup_bus, teardown_bus),
      cmocka_unit_test_setup_teardown(test_span_bad_args, setup_bus, teardown_bus),
      cmocka_unit_test_setup_teardown(test_span_metadata_limit_start, setup_bus, teardown_bus),
      cmocka_unit_test_setup_teardown(test_span_metadata_limit_stop, setup_bus, teardown_bus),
      cmocka_unit_test_setup_teardown(test_span_metadata_limit_exception, setup_bus, teardown_bus),
      cmocka_unit_test(test_monotonic),
      cmocka_unit_test_setup_teardown(test_debug_attach, setup_bus, teardown_bus),
      cmocka_unit_test(test_strerror_and_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
