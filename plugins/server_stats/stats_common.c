/* Helpers shared by the server statistics plugins; see stats_common.h. */
#include "stats_common.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <time.h>

double pmx__ss_cum_delta(pmx__ss_cum_t *c, double now) {
  double d = (!c->seen || now < c->prev) ? now : now - c->prev;
  c->prev = now;
  c->seen = true;
  return d;
}

bool pmx__ss_keyed_init(pmx__ss_keyed_t *k, size_t cap) {
  memset(k, 0, sizeof *k);
  if (cap == 0) return true;
  k->e = calloc(cap, sizeof *k->e);
  if (k->e == NULL) return false;
  k->cap = cap;
  return true;
}

void pmx__ss_keyed_free(pmx__ss_keyed_t *k) {
  free(k->e);
  memset(k, 0, sizeof *k);
}

bool pmx__ss_keyed_delta(pmx__ss_keyed_t *k, const char *key, double now, double *delta) {
  size_t len = strlen(key);
  if (len >= PMX__SS_KEY_MAX) return false;
  /* Linear: the key sets are small (databases, commands) and bounded by cap. */
  for (size_t i = 0; i < k->n; i++) {
    if (strcmp(k->e[i].key, key) == 0) {
      *delta = pmx__ss_cum_delta(&k->e[i].cum, now);
      return true;
    }
  }
  if (k->n >= k->cap) return false;
  struct pmx__ss_keyed_entry *e = &k->e[k->n++];
  memcpy(e->key, key, len + 1);
  *delta = pmx__ss_cum_delta(&e->cum, now);
  return true;
}

void pmx__ss_keyed_forget(pmx__ss_keyed_t *k, const char *key) {
  for (size_t i = 0; i < k->n; i++) {
    if (strcmp(k->e[i].key, key) == 0) {
      k->e[i] = k->e[--k->n];
      return;
    }
  }
}

void pmx__ss_stat_defs(const pmx__ss_stat_t *stats, size_t n, const char *event_name,
                       pmx_metric_def_t *defs) {
  for (size_t i = 0; i < n; i++) {
    defs[i] = (pmx_metric_def_t){.kind = stats[i].counter ? PMX_SUM : PMX_LAST_VALUE,
                                 .name = stats[i].name,
                                 .event_name = event_name,
                                 .measurement = stats[i].name,
                                 .description = stats[i].help};
  }
}

size_t pmx__ss_stat_measure(const pmx__ss_stat_t *stats, size_t n, pmx__ss_cum_t *cums,
                            pmx__ss_lookup_fn lookup, void *src, pmx_measurement_t *scratch) {
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    double v;
    if (!lookup(src, stats[i].source, &v)) continue;
    if (stats[i].scale != 0) v *= stats[i].scale;
    if (stats[i].counter) {
      if (v < 0) continue; /* a counter never reads negative: a broken answer, not a reset */
      v = pmx__ss_cum_delta(&cums[i], v);
    }
    scratch[m++] = (pmx_measurement_t){stats[i].name, v};
  }
  return m;
}

size_t pmx__ss_stat_emit(const pmx__ss_stat_t *stats, size_t n, pmx__ss_cum_t *cums,
                         pmx__ss_lookup_fn lookup, void *src, const pmx_event_t *ev,
                         pmx_measurement_t *scratch) {
  size_t m = pmx__ss_stat_measure(stats, n, cums, lookup, src, scratch);
  if (m > 0) pmx_emit(ev, scratch, m, NULL, 0);
  return m;
}

uint64_t pmx__ss_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

bool pmx__ss_backoff_ready(const pmx__ss_backoff_t *b, uint64_t now_ms) {
  return now_ms >= b->next_ms;
}

void pmx__ss_backoff_failed(pmx__ss_backoff_t *b, uint64_t now_ms) {
  if (b->delay_ms == 0) {
    b->delay_ms = b->min_ms;
  } else {
    uint64_t d = (uint64_t)b->delay_ms * 2u;
    b->delay_ms = d > b->max_ms ? b->max_ms : (uint32_t)d;
  }
  b->next_ms = now_ms + b->delay_ms;
}

void pmx__ss_backoff_reset(pmx__ss_backoff_t *b) {
  b->delay_ms = 0;
  b->next_ms = 0;
}

const char *const pmx__ss_reason_names[PMX__SS_N_REASONS] = {"connect", "auth", "timeout",
                                                             "query", "parse"};

void pmx__ss_health_defs(const char *ev_up, const char *ev_err, const char *server,
                         pmx_metric_def_t defs[2]) {
  static const char *const reason[] = {"reason"};
  (void)server;
  defs[0] = (pmx_metric_def_t){.kind = PMX_LAST_VALUE, .name = "up", .event_name = ev_up,
                               .measurement = "up",
                               .description = "1 when the last poll of the server succeeded, "
                                              "0 when it was down, slow or refused us."};
  defs[1] = (pmx_metric_def_t){.kind = PMX_SUM, .name = "errors.total", .event_name = ev_err,
                               .measurement = "count", .tags = reason, .n_tags = 1,
                               .description = "Failed polls by reason (connect, auth, timeout, "
                                              "query, parse)."};
}

void pmx__ss_health_emit(const pmx_event_t *up_ev, const pmx_event_t *err_ev, bool up,
                         pmx__ss_reason_t reason, bool *seeded) {
  /* Every reason's series exists from the first poll (at 0), so rate() and alerts see a 0
   * rather than no data before the first failure. */
  if (!*seeded) {
    for (int i = 0; i < PMX__SS_N_REASONS; i++) {
      const pmx_measurement_t z[] = {PMX_M("count", 0)};
      const pmx_meta_t md[] = {PMX_META_S("reason", pmx__ss_reason_names[i])};
      pmx_emit(err_ev, z, 1, md, 1);
    }
    *seeded = true;
  }
  const pmx_measurement_t m[] = {PMX_M("up", up ? 1 : 0)};
  pmx_emit(up_ev, m, 1, NULL, 0);
  if (!up && reason < PMX__SS_N_REASONS) {
    const pmx_measurement_t one[] = {PMX_M("count", 1)};
    const pmx_meta_t md[] = {PMX_META_S("reason", pmx__ss_reason_names[reason])};
    pmx_emit(err_ev, one, 1, md, 1);
  }
}

static int parse_u32(const pmx_plugin_ctx_t *ctx, const char *key, uint32_t lo, uint32_t hi,
                     uint32_t dflt, uint32_t *out) {
  const char *v = pmx_plugin_opt(ctx, key);
  if (v == NULL) {
    *out = dflt;
    return PMX_OK;
  }
  char *end = NULL;
  errno = 0;
  unsigned long long x = strtoull(v, &end, 10);
  if (v[0] < '0' || v[0] > '9' || errno != 0 || end == v || *end != '\0' || x < lo || x > hi)
    return pmx_plugin_fail(ctx, PMX_ECONFIG, "plugin \"%s\": option %s must be an integer in %u..%u, got \"%s\"",
                           ctx->plugin_name, key, (unsigned)lo, (unsigned)hi, v);
  *out = (uint32_t)x;
  return PMX_OK;
}

int pmx__ss_opt_ms(const pmx_plugin_ctx_t *ctx, const char *key, uint32_t dflt, uint32_t *out) {
  return parse_u32(ctx, key, 1, 3600000u, dflt, out);
}

int pmx__ss_opt_count(const pmx_plugin_ctx_t *ctx, const char *key, uint32_t dflt, uint32_t max,
                      uint32_t *out) {
  return parse_u32(ctx, key, 0, max, dflt, out);
}

bool pmx__ss_list_has(const char *list, const char *name) {
  if (list == NULL) return false;
  size_t nl = strlen(name);
  const char *p = list;
  while (*p != '\0') {
    while (*p == ' ' || *p == '\t') p++;
    const char *e = p;
    while (*e != '\0' && *e != ',') e++;
    const char *t = e;
    while (t > p && (t[-1] == ' ' || t[-1] == '\t')) t--;
    if ((size_t)(t - p) == nl && memcmp(p, name, nl) == 0) return true;
    p = *e == ',' ? e + 1 : e;
  }
  return false;
}

static void emit_log(const pmx__ss_log_t *l, pmx_log_level_t level, const char *msg) {
  if (l->hooks != NULL && l->hooks->log != NULL)
    l->hooks->log(l->hooks->log_ctx, level, msg);
  else
    fprintf(stderr, "promex: %s\n", msg);
}

void pmx__ss_log_fail(pmx__ss_log_t *l, pmx__ss_reason_t reason, const char *fmt, ...) {
  if (l->failing && l->reason == reason) return;
  l->failing = true;
  l->reason = reason;
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  emit_log(l, PMX_LOG_WARN, msg);
}

void pmx__ss_log_ok(pmx__ss_log_t *l, const char *what) {
  if (!l->failing) return;
  l->failing = false;
  char msg[512];
  snprintf(msg, sizeof msg, "%s: polling succeeds again", what);
  emit_log(l, PMX_LOG_INFO, msg);
}

int pmx__ss_col(const pmx__ss_table_t *t, const char *name) {
  for (size_t c = 0; c < t->ncols; c++) {
    const char *n = t->name(t->src, c);
    if (n != NULL && strcmp(n, name) == 0) return (int)c;
  }
  return -1;
}

bool pmx__ss_number(const char *s, double *out) {
  if (s == NULL || *s == '\0') return false;
  if (!(*s == '-' || *s == '+' || *s == '.' || (*s >= '0' && *s <= '9'))) return false;
  for (const char *p = s; *p; p++)
    if (*p == 'x' || *p == 'X' || *p == 'n' || *p == 'N' || *p == 'i' || *p == 'I') return false;
  char *end = NULL;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || *end != '\0' || errno == ERANGE || !isfinite(v)) return false;
  *out = v;
  return true;
}

size_t pmx__ss_row_measure(const pmx__ss_table_t *t, size_t row, const pmx__ss_stat_t *stats,
                           size_t n, pmx__ss_keyed_t *keyed, const char *key,
                           pmx_measurement_t *out) {
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    int c = pmx__ss_col(t, stats[i].source);
    double v;
    if (c < 0 || !pmx__ss_number(t->cell(t->src, row, (size_t)c), &v)) continue;
    if (stats[i].scale != 0) v *= stats[i].scale;
    if (stats[i].counter) {
      if (v < 0 || !pmx__ss_keyed_delta(&keyed[i], key, v, &v)) continue;
    }
    out[m++] = (pmx_measurement_t){stats[i].name, v};
  }
  return m;
}

void pmx__ss_sigpipe_block(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
}

void pmx__ss_sigpipe_drain(void) {
  sigset_t pending, set;
  if (sigpending(&pending) != 0 || !sigismember(&pending, SIGPIPE)) return;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  const struct timespec zero = {0, 0};
  /* Pending for the process rather than this thread: another thread may take it; either way
   * nothing waits long. */
  while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR) {
  }
}

void pmx__ss_log_note(pmx__ss_log_t *l, bool *once, const char *fmt, ...) {
  if (*once) return;
  *once = true;
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  emit_log(l, PMX_LOG_WARN, msg);
}

bool pmx__ss_dup_opt(const pmx_plugin_ctx_t *ctx, const char *key, char **out) {
  const char *v = pmx_plugin_opt(ctx, key);
  *out = NULL;
  if (v == NULL || v[0] == '\0') return true;
  *out = strdup(v);
  return *out != NULL;
}
