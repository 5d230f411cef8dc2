/* Rendering registries as Prometheus text 0.0.4 or OpenMetrics 1.0 text.
 *
 * Output is written straight into the pmx_buf_t: each sample line is assembled in a small stack
 * buffer where it fits and appended once, so a render costs one pass over the series. Numbers go
 * through number_format.c, which is independent of the host program's locale. */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "core/core_internal.h"
#include "core/grace.h"

typedef struct writer {
  pmx_buf_t *buf;
  int rc;
  bool om;
  bool overflow;  /* a fixed buffer is full: only count the bytes still to come */
  size_t needed;
  pmx_buf_t labels;            /* the current series' rendered label set (build_labels) */
  const pmx_metric_t *metric;  /* the metric being rendered */
} writer_t;

static inline void put(writer_t *w, const char *s, size_t n) {
  if (PMX_UNLIKELY(w->rc != PMX_OK)) return;
  if (PMX_UNLIKELY(w->overflow)) {
    w->needed += n;
    return;
  }
  pmx_buf_t *b = w->buf;
  if (PMX_LIKELY(b->len + n <= b->cap)) {
    memcpy(b->data + b->len, s, n);
    b->len += n;
    return;
  }
  int rc = pmx__buf_append(b, s, n);
  if (rc == PMX_ELIMIT) {
    w->overflow = true;
    w->needed = b->len + n;
  } else {
    w->rc = rc;
  }
}

static inline void puts_(writer_t *w, const char *s) { put(w, s, strlen(s)); }

/* Escapes a label value (\\, \", \n) or HELP text (\\, \n; and \" for OpenMetrics). */
static void put_escaped(writer_t *w, const char *s, bool quotes) {
  const char *run = s;
  for (const char *p = s; *p; p++) {
    const char *rep = NULL;
    if (*p == '\\') rep = "\\\\";
    else if (*p == '\n') rep = "\\n";
    else if (*p == '"' && quotes) rep = "\\\"";
    if (rep) {
      put(w, run, (size_t)(p - run));
      put(w, rep, 2);
      run = p + 1;
    }
  }
  put(w, run, strlen(run));
}

/* Writes `s` (n bytes) to `p` with the escapes of a label value (\\, \", \n); returns the end.
 * `p` has room for 2 * n bytes. */
static char *write_escaped(char *p, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (PMX_LIKELY(c != '\\' && c != '\n' && c != '"')) {
      *p++ = c;
      continue;
    }
    *p++ = '\\';
    *p++ = c == '\n' ? 'n' : c;
  }
  return p;
}

/* Renders a series' label set once into w->labels as `{a="x",b="y"` (no closing brace; empty
 * for an unlabelled series), for all the sample lines of the series to copy. */
static void build_labels(writer_t *w, const pmx_metric_t *m, const pmx_series_t *s) {
  pmx_buf_t *out = &w->labels;
  out->len = 0;
  if (m->n_tags == 0) return;
  size_t lens[PMX_MAX_TAGS], room = 0;
  const char *v = pmx__series_labels(s);
  for (size_t i = 0; i < m->n_tags; i++) {
    lens[i] = strlen(v);
    room += 1 + strlen(m->tags[i]) + 2 + 2 * lens[i] + 1; /* worst case: every byte escaped */
    v += lens[i] + 1;
  }
  int rc = pmx__buf_reserve(out, room);
  if (rc != PMX_OK) {
    if (w->rc == PMX_OK) w->rc = rc;
    return;
  }
  char *p = out->data;
  v = pmx__series_labels(s);
  for (size_t i = 0; i < m->n_tags; i++) {
    *p++ = i == 0 ? '{' : ',';
    size_t tl = strlen(m->tags[i]);
    memcpy(p, m->tags[i], tl);
    p += tl;
    *p++ = '=';
    *p++ = '"';
    p = write_escaped(p, v, lens[i]);
    *p++ = '"';
    v += lens[i] + 1;
  }
  out->len = (size_t)(p - out->data);
}

/* OpenMetrics exemplar: ` # {key="text"} value timestamp` (seconds, millisecond precision). */
static void put_exemplar(writer_t *w, const pmx_metric_t *m, const pmx__exemplar_t *slot) {
  pmx__exemplar_copy_t ex;
  if (!pmx__exemplar_read(slot, &ex)) return;
  char num[48];
  put(w, " # {", 4);
  puts_(w, m->exemplar_key);
  put(w, "=\"", 2);
  put_escaped(w, ex.text, true);
  put(w, "\"} ", 3);
  put(w, num, pmx__fmt_double(num, ex.value));
  put(w, " ", 1);
  put(w, num, pmx__fmt_i64(num, ex.ts_ms / 1000));
  char ms[4] = {'.', (char)('0' + ex.ts_ms % 1000 / 100), (char)('0' + ex.ts_ms % 100 / 10),
                (char)('0' + ex.ts_ms % 10)};
  put(w, ms, 4);
}

/* One sample line of the series whose labels build_labels() rendered: name, suffix, labels,
 * `le` (NULL: none), value; `ex` is the sample's exemplar slot (OpenMetrics only; NULL: none).
 * Where the line fits in the buffer it is copied in with no per-piece checks. */
static void put_sample(writer_t *w, const char *name, size_t name_len, const char *suffix,
                       size_t suffix_len, const char *le, size_t le_len, const char *value,
                       size_t vlen, const pmx__exemplar_t *ex) {
  const char *lab = w->labels.data;
  size_t lab_len = w->labels.len;
  /* After the labels: `,le="x"}` / `{le="x"}`, or `}` to close a label set, or nothing. */
  const char *le_open = lab_len ? ",le=\"" : "{le=\"";
  size_t close_len = le ? 5 + le_len + 2 : (lab_len ? 1 : 0);
  size_t total = name_len + suffix_len + lab_len + close_len + 1 + vlen + 1;
  pmx_buf_t *b = w->buf;
  if (PMX_LIKELY(ex == NULL && w->rc == PMX_OK && !w->overflow && b->len + total <= b->cap)) {
    char *p = b->data + b->len;
    memcpy(p, name, name_len);
    p += name_len;
    memcpy(p, suffix, suffix_len);
    p += suffix_len;
    if (lab_len) memcpy(p, lab, lab_len);
    p += lab_len;
    if (le) {
      memcpy(p, le_open, 5);
      memcpy(p + 5, le, le_len);
      memcpy(p + 5 + le_len, "\"}", 2);
    } else if (lab_len) {
      *p = '}';
    }
    p += close_len;
    *p++ = ' ';
    memcpy(p, value, vlen);
    p[vlen] = '\n';
    b->len += total;
    return;
  }
  put(w, name, name_len);
  put(w, suffix, suffix_len);
  if (lab_len) put(w, lab, lab_len);
  if (le) {
    put(w, le_open, 5);
    put(w, le, le_len);
    put(w, "\"}", 2);
  } else if (lab_len) {
    put(w, "}", 1);
  }
  put(w, " ", 1);
  put(w, value, vlen);
  if (ex != NULL) put_exemplar(w, w->metric, ex);
  put(w, "\n", 1);
}

static const char *type_name(const pmx_metric_t *m) { return pmx__type_name(m->kind, m->sum_as_gauge); }

/* OpenMetrics names a counter family without its _total suffix; samples carry it. */
static size_t family_len(const pmx_metric_t *m, bool om) {
  bool counter = strcmp(type_name(m), "counter") == 0;
  return om ? pmx__om_family_len(m->name, counter) : strlen(m->name);
}

static void put_meta(writer_t *w, const char *family, size_t flen, const char *type, const char *help) {
  if (w->om) {
    put(w, "# TYPE ", 7);
    put(w, family, flen);
    put(w, " ", 1);
    puts_(w, type);
    put(w, "\n# HELP ", 8);
    put(w, family, flen);
    put(w, " ", 1);
    put_escaped(w, help, true);
    put(w, "\n", 1);
  } else {
    put(w, "# HELP ", 7);
    put(w, family, flen);
    put(w, " ", 1);
    put_escaped(w, help, false);
    put(w, "\n# TYPE ", 8);
    put(w, family, flen);
    put(w, " ", 1);
    puts_(w, type);
    put(w, "\n", 1);
  }
}

static void render_metric(writer_t *w, const pmx_metric_t *m) {
  const char *type = type_name(m);
  size_t flen = family_len(m, w->om);
  size_t name_len = strlen(m->name);
  put_meta(w, m->name, flen, type, m->help);
  bool counter = strcmp(type, "counter") == 0;
  /* OpenMetrics counter samples must end in _total. */
  const char *suffix = (w->om && counter && flen == name_len) ? "_total" : "";
  size_t suffix_len = strlen(suffix);
  w->metric = m;
  char num[48];
  uint64_t cum[PMX_MAX_BUCKETS + 1];
  bool no_om_sum = m->negative_buckets || atomic_load_explicit(&m->negative_observed, memory_order_relaxed);
  for (const pmx_series_t *s = atomic_load_explicit(&((pmx_metric_t *)m)->head, memory_order_acquire); s != NULL;
       s = pmx__series_next(s)) {
    build_labels(w, m, s);
    if (m->kind != PMX_DISTRIBUTION) {
      size_t n = pmx__fmt_double(num, pmx__series_scalar(s));
      put_sample(w, m->name, name_len, suffix, suffix_len, NULL, 0, num, n, w->om ? pmx__exemplars(s) : NULL);
      continue;
    }
    uint64_t count;
    double sum;
    pmx__hist_snapshot(s, cum, &count, &sum);
    char *const *le = w->om ? m->le_om : m->le_text;
    const pmx__exemplar_t *ex = w->om ? pmx__exemplars(s) : NULL; /* one slot per bucket */
    for (size_t i = 0; i < m->n_buckets; i++) {
      size_t n = pmx__fmt_u64(num, cum[i]);
      put_sample(w, m->name, name_len, "_bucket", 7, le[i], strlen(le[i]), num, n, ex ? ex + i : NULL);
    }
    size_t n = pmx__fmt_u64(num, count);
    put_sample(w, m->name, name_len, "_bucket", 7, "+Inf", 4, num, n, ex ? ex + m->n_buckets : NULL);
    /* OpenMetrics: a histogram with a negative bucket bound MUST NOT have a sum (it would not be
     * a counter), and _count appears only with _sum. The same holds once a negative value was
     * observed into any histogram (its sum can go down). Text 0.0.4 has no such rule and
     * Prometheus expects both there. */
    if (w->om && no_om_sum) continue;
    put_sample(w, m->name, name_len, "_count", 6, NULL, 0, num, n, NULL);
    n = pmx__fmt_double(num, sum);
    put_sample(w, m->name, name_len, "_sum", 4, NULL, 0, num, n, NULL);
  }
}

/* The registry's own metrics: series per metric, series dropped at the limit, events skipped. */
static void put_own_line(writer_t *w, const char *prefix, const char *name, const char *metric,
                         const char *reason, uint64_t value) {
  char num[32];
  puts_(w, prefix);
  puts_(w, name);
  put(w, "{metric=\"", 9);
  put_escaped(w, metric, true);
  if (reason) {
    put(w, "\",reason=\"", 10);
    puts_(w, reason);
  }
  put(w, "\"} ", 3);
  size_t n = pmx__fmt_u64(num, value);
  put(w, num, n);
  put(w, "\n", 1);
}

/* Renders the three own-metric families once for every distinct own prefix among `regs`, with the
 * metrics of every registry that shares it (a family may appear only once in an exposition). */
static bool shares_prefix(const pmx_registry_t *a, const pmx_registry_t *b) {
  return !a->no_own_metrics && !b->no_own_metrics && strcmp(a->own_prefix, b->own_prefix) == 0;
}

const pmx__own_family_t pmx__own_families[3] = {
    {"_metric_series", "gauge", "Number of series stored per metric."},
    {"_series_dropped_total", "counter", "New series not stored because the metric was at its series limit."},
    {"_events_skipped_total", "counter",
     "Events not recorded by a metric, by reason (missing measurement or tag, bad label or value, series "
     "limit, out of memory)."},
};

static void render_own(writer_t *w, pmx_registry_t *const *regs, size_t n, size_t first) {
  const char *p = regs[first]->own_prefix;
  char fam[320];
  const pmx__own_family_t *fams = pmx__own_families;
  for (int f = 0; f < 3; f++) {
    snprintf(fam, sizeof fam, "%s%s", p, fams[f].suffix);
    size_t flen = strlen(fam) - (w->om && f > 0 ? 6 : 0);
    put_meta(w, fam, flen, fams[f].type, fams[f].help);
    for (size_t i = first; i < n; i++) {
      if (!shares_prefix(regs[first], regs[i])) continue;
      for (pmx_metric_t *m = atomic_load_explicit(&regs[i]->head, memory_order_acquire); m;
           m = atomic_load_explicit(&m->next, memory_order_acquire)) {
        if (f == 0) {
          put_own_line(w, p, fams[f].suffix, m->name, NULL, atomic_load(&m->n_series));
        } else if (f == 1) {
          put_own_line(w, p, fams[f].suffix, m->name, NULL, atomic_load(&m->dropped));
        } else {
          for (size_t r = 0; r < PMX__SKIP_N; r++) {
            uint64_t v = atomic_load(&m->skipped[r]);
            if (v) put_own_line(w, p, fams[f].suffix, m->name, pmx__skip_reason_names[r], v);
          }
        }
      }
    }
  }
}

static int render_into(pmx_registry_t *const *regs, size_t n, pmx_format_t fmt, pmx_buf_t *buf) {
  if (regs == NULL || buf == NULL ||
      (fmt != PMX_FORMAT_TEXT && fmt != PMX_FORMAT_OPENMETRICS && fmt != PMX_FORMAT_PROTOBUF)) {
    return PMX_EINVAL;
  }
  for (size_t i = 0; i < n; i++) {
    if (regs[i] == NULL) return PMX_EINVAL;
  }
  if (fmt == PMX_FORMAT_PROTOBUF) return pmx__render_protobuf(regs, n, buf);
  writer_t w = {buf, PMX_OK, fmt == PMX_FORMAT_OPENMETRICS, false, 0, {0}, NULL};
  if (n == 0) {
    if (w.om) puts_(&w, "# EOF\n");
    if (w.overflow) buf->len = w.needed;
    return w.overflow ? PMX_ELIMIT : w.rc;
  }
  /* A growable buffer is sized once for what the registries rendered last time (plus a
   * sixteenth), instead of doubling its way up and copying everything each time. A failure here
   * is left to the appends, which grow the buffer as before. */
  size_t hint = 0;
  for (size_t i = 0; i < n; i++) hint += atomic_load_explicit(&regs[i]->render_hint, memory_order_relaxed);
  if (!buf->fixed && hint != 0) (void)pmx__buf_reserve(buf, hint + hint / 16);
  /* Series removed meanwhile stay readable until the section ends (grace.h). */
  pmx__read_t rd = pmx__read_begin();
  for (size_t i = 0; i < n; i++) {
    size_t before = buf->len;
    for (pmx_metric_t *m = atomic_load_explicit(&regs[i]->head, memory_order_acquire); m != NULL;
         m = atomic_load_explicit(&m->next, memory_order_acquire)) {
      render_metric(&w, m);
    }
    if (w.rc == PMX_OK && !w.overflow) {
      atomic_store_explicit(&regs[i]->render_hint, buf->len - before, memory_order_relaxed);
    }
  }
  pmx__read_end(rd);
  pmx_buf_free(&w.labels);
  for (size_t i = 0; i < n; i++) {
    if (regs[i]->no_own_metrics) continue;
    bool seen = false; /* rendered already with an earlier registry of the same prefix */
    for (size_t j = 0; j < i; j++) seen |= shares_prefix(regs[j], regs[i]);
    if (!seen) render_own(&w, regs, n, i);
  }
  if (w.om) puts_(&w, "# EOF\n");
  if (w.rc == PMX_OK && w.overflow) {
    buf->len = w.needed;
    return PMX_ELIMIT;
  }
  return w.rc;
}

int pmx_render_many(pmx_registry_t *const *regs, size_t n, pmx_format_t fmt, pmx_buf_t *buf) {
  size_t start = buf ? buf->len : 0;
  int rc = render_into(regs, n, fmt, buf);
  /* Fixed buffer too small: buf->len reports the size needed. Other errors: nothing appended. */
  if (rc != PMX_OK && rc != PMX_ELIMIT && buf) buf->len = start;
  return rc;
}

int pmx_render(pmx_registry_t *reg, pmx_format_t fmt, pmx_buf_t *buf) {
  return pmx_render_many(&reg, 1, fmt, buf);
}
