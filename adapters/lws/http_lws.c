/* The libwebsockets adapter (include/promex/http_lws.h), its own library promex_lws.
 *
 * libwebsockets calls a protocol's callback with no argument of ours, and C has no closures, so
 * the adapter owns a fixed set of trampolines, one per instrumented protocol: trampoline k reads
 * slot k (the adapter and the application's protocol) and calls through. Per-connection state
 * (the handshake time) lives in the per-session allocation libwebsockets already makes: the
 * adapter asks for a few more bytes after the application's. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promex/http_lws.h"
#include "promex/plugins/http_server.h"

#define MAX_SLOTS 32
#define NAME_CAP 256
#define ALIGN 16

struct pmx_http_lws {
  pmx_event_t *connected, *joined, *handled_in;
  char endpoint[NAME_CAP];
  struct lws_protocols *protocols; /* instrumented copy, NULL-name-terminated */
  size_t n;
  int slots[MAX_SLOTS];
};

typedef struct slot {
  _Atomic(const pmx_http_lws_t *) ins;
  const struct lws_protocols *app; /* the application's entry */
  size_t app_session;              /* its per_session_data_size, rounded up to ALIGN */
} slot_t;

typedef struct session {
  int64_t handshake_ns;
  bool counted;
} session_t;

static slot_t g_slots[MAX_SLOTS];
static pthread_mutex_t g_slot_lock = PTHREAD_MUTEX_INITIALIZER;

static void emit_connected(const pmx_http_lws_t *ins, const char *result, double duration_ns) {
  pmx_meta_t md[] = {PMX_META_S("endpoint", ins->endpoint), PMX_META_S("transport", "websocket"),
                     PMX_META_S("result", result)};
  pmx_measurement_t d = PMX_M("duration", duration_ns);
  pmx_emit(ins->connected, &d, 1, md, 3);
  pmx_emit(ins->joined, NULL, 0, md, 3);
}

static int dispatch(int k, struct lws *wsi, enum lws_callback_reasons reason, void *user,
                    void *in, size_t len) {
  slot_t *s = &g_slots[k];
  const pmx_http_lws_t *ins = atomic_load(&s->ins);
  const struct lws_protocols *app = s->app;
  if (ins == NULL || app == NULL || app->callback == NULL) return 0;
  session_t *ses = user != NULL ? (session_t *)((char *)user + s->app_session) : NULL;
  switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
      int64_t t0 = pmx_monotonic_ns();
      if (ses != NULL) ses->handshake_ns = t0;
      int rc = app->callback(wsi, reason, user, in, len);
      if (rc != 0) {
        if (ses != NULL) ses->counted = true;
        emit_connected(ins, "error", (double)(pmx_monotonic_ns() - t0));
      }
      return rc;
    }
    case LWS_CALLBACK_ESTABLISHED: {
      int rc = app->callback(wsi, reason, user, in, len);
      if (ses == NULL || !ses->counted) {
        int64_t now = pmx_monotonic_ns();
        double d = ses != NULL && ses->handshake_ns > 0 ? (double)(now - ses->handshake_ns) : 0;
        if (ses != NULL) ses->counted = true;
        emit_connected(ins, rc == 0 ? "ok" : "error", d);
      }
      return rc;
    }
    case LWS_CALLBACK_RECEIVE: {
      bool binary = lws_frame_is_binary(wsi) != 0;
      int64_t t0 = pmx_monotonic_ns();
      int rc = app->callback(wsi, reason, user, in, len);
      pmx_meta_t md[] = {PMX_META_S("endpoint", ins->endpoint), PMX_META_S("handler", app->name),
                         PMX_META_S("event", binary ? "binary" : "text")};
      pmx_measurement_t d = PMX_M("duration", (double)(pmx_monotonic_ns() - t0));
      pmx_emit(ins->handled_in, &d, 1, md, 3);
      return rc;
    }
    default:
      return app->callback(wsi, reason, user, in, len);
  }
}

#define TRAMPOLINE(k)                                                                     \
  static int trampoline_##k(struct lws *wsi, enum lws_callback_reasons reason, void *user, \
                            void *in, size_t len) {                                       \
    return dispatch(k, wsi, reason, user, in, len);                                       \
  }
TRAMPOLINE(0) TRAMPOLINE(1) TRAMPOLINE(2) TRAMPOLINE(3) TRAMPOLINE(4) TRAMPOLINE(5)
TRAMPOLINE(6) TRAMPOLINE(7) TRAMPOLINE(8) TRAMPOLINE(9) TRAMPOLINE(10) TRAMPOLINE(11)
TRAMPOLINE(12) TRAMPOLINE(13) TRAMPOLINE(14) TRAMPOLINE(15) TRAMPOLINE(16) TRAMPOLINE(17)
TRAMPOLINE(18) TRAMPOLINE(19) TRAMPOLINE(20) TRAMPOLINE(21) TRAMPOLINE(22) TRAMPOLINE(23)
TRAMPOLINE(24) TRAMPOLINE(25) TRAMPOLINE(26) TRAMPOLINE(27) TRAMPOLINE(28) TRAMPOLINE(29)
TRAMPOLINE(30) TRAMPOLINE(31)

static lws_callback_function *const k_trampolines[MAX_SLOTS] = {
    trampoline_0,  trampoline_1,  trampoline_2,  trampoline_3,  trampoline_4,  trampoline_5,
    trampoline_6,  trampoline_7,  trampoline_8,  trampoline_9,  trampoline_10, trampoline_11,
    trampoline_12, trampoline_13, trampoline_14, trampoline_15, trampoline_16, trampoline_17,
    trampoline_18, trampoline_19, trampoline_20, trampoline_21, trampoline_22, trampoline_23,
    trampoline_24, trampoline_25, trampoline_26, trampoline_27, trampoline_28, trampoline_29,
    trampoline_30, trampoline_31};

static int fail(pmx_error_t *err, int code, const char *msg) {
  if (err != NULL) {
    memset(err, 0, sizeof *err);
    err->code = code;
    snprintf(err->text, sizeof err->text, "pmx_http_lws_new: %s", msg);
  }
  return code;
}

static void release_slots(pmx_http_lws_t *ins, size_t n) {
  pthread_mutex_lock(&g_slot_lock);
  for (size_t i = 0; i < n; i++) {
    atomic_store(&g_slots[ins->slots[i]].ins, NULL);
    g_slots[ins->slots[i]].app = NULL;
  }
  pthread_mutex_unlock(&g_slot_lock);
}

int pmx_http_lws_new(const pmx_http_lws_config_t *cfg, const struct lws_protocols *protocols,
                     pmx_http_lws_t **out, pmx_error_t *err) {
  if (out != NULL) *out = NULL;
  if (cfg == NULL || cfg->bus == NULL || protocols == NULL || out == NULL)
    return fail(err, PMX_EINVAL, "cfg, cfg->bus, protocols and out are required");
  size_t n = 0;
  while (protocols[n].name != NULL) n++;
  if (n == 0) return fail(err, PMX_EINVAL, "protocols is empty");
  if (n > MAX_SLOTS) return fail(err, PMX_ELIMIT, "more than 32 protocols");
  pmx_http_lws_t *ins = calloc(1, sizeof *ins);
  if (ins == NULL) return fail(err, PMX_ENOMEM, "out of memory");
  ins->protocols = calloc(n + 1, sizeof *ins->protocols);
  const char *prefix = cfg->event_prefix ? cfg->event_prefix : PMX_HTTP_SERVER_EVENT_PREFIX;
  const char *ep = cfg->endpoint ? cfg->endpoint : "ws";
  char name[NAME_CAP + 32];
  int rc = PMX_OK;
  if (ins->protocols == NULL) rc = PMX_ENOMEM;
  if (rc == PMX_OK && (strlen(prefix) > NAME_CAP || strlen(ep) >= NAME_CAP)) rc = PMX_EINVAL;
  if (rc == PMX_OK) {
    memcpy(ins->endpoint, ep, strlen(ep) + 1);
    snprintf(name, sizeof name, "%s.socket.connected", prefix);
    rc = pmx_bus_event(cfg->bus, name, &ins->connected);
  }
  if (rc == PMX_OK) {
    snprintf(name, sizeof name, "%s.channel.joined", prefix);
    rc = pmx_bus_event(cfg->bus, name, &ins->joined);
  }
  if (rc == PMX_OK) {
    snprintf(name, sizeof name, "%s.channel.handled_in", prefix);
    rc = pmx_bus_event(cfg->bus, name, &ins->handled_in);
  }
  if (rc != PMX_OK) {
    free(ins->protocols);
    free(ins);
    return fail(err, rc, rc == PMX_ENOMEM ? "out of memory" : "bad event_prefix or endpoint");
  }
  pthread_mutex_lock(&g_slot_lock);
  size_t got = 0;
  for (int k = 0; k < MAX_SLOTS && got < n; k++) {
    if (atomic_load(&g_slots[k].ins) != NULL) continue;
    ins->slots[got++] = k;
  }
  if (got == n) {
    for (size_t i = 0; i < n; i++) {
      slot_t *s = &g_slots[ins->slots[i]];
      s->app = &protocols[i];
      s->app_session = (protocols[i].per_session_data_size + ALIGN - 1) / ALIGN * ALIGN;
      atomic_store(&s->ins, ins);
      ins->protocols[i] = protocols[i];
      ins->protocols[i].callback = k_trampolines[ins->slots[i]];
      ins->protocols[i].per_session_data_size = s->app_session + sizeof(session_t);
    }
    ins->n = n;
  }
  pthread_mutex_unlock(&g_slot_lock);
  if (got < n) {
    free(ins->protocols);
    free(ins);
    return fail(err, PMX_ELIMIT, "no free trampoline: more than 32 protocols instrumented");
  }
  *out = ins;
  return PMX_OK;
}

const struct lws_protocols *pmx_http_lws_protocols(const pmx_http_lws_t *ins) {
  return ins != NULL ? ins->protocols : NULL;
}

void pmx_http_lws_free(pmx_http_lws_t *ins) {
  if (ins == NULL) return;
  release_slots(ins, ins->n);
  free(ins->protocols);
  free(ins);
}
