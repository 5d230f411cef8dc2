/* The protobuf exposition: length-delimited io.prometheus.client.MetricFamily messages (the
 * format client_golang serves as application/vnd.google.protobuf; proto=...; encoding=delimited),
 * the one format that carries native histograms.
 *
 * Hand-encoded (pb_writer.c) rather than with protobuf-c: the messages are a handful, written
 * only, and a generated encoder would need its own object tree per scrape (allocation per series)
 * where this writes straight from the aggregates. tests/unit/core/test_protobuf.c checks every
 * message against protoc's decoder and the Debian .proto. Family order, series order and the
 * own metrics are as in the text formats (expo.c). */
#include <stdlib.h>
#include <string.h>

#include "core/core_internal.h"
#include "core/grace.h"
#include "core/native_hist.h"
#include "core/pb_writer.h"

/* MetricType values of metrics.proto. */
enum { PB_COUNTER = 0, PB_GAUGE = 1, PB_HISTOGRAM = 4 };

static void put_str(pmx__pb_t *w, unsigned field, const char *s) { pmx__pb_bytes(w, field, s, strlen(s)); }

static void put_label(pmx__pb_t *w, unsigned field, const char *name, const char *value) {
  size_t mark = pmx__pb_open(w, field);
  put_str(w, 1, name);
  put_str(w, 2, value);
  pmx__pb_close(w, mark);
}

static void put_series_labels(pmx__pb_t *w, const pmx_metric_t *m, const pmx_series_t *s) {
  const char *v = pmx__series_labels(s);
  for (size_t i = 0; i < m->n_tags; i++) {
    put_label(w, 1, m->tags[i], v); /* Metric.label */
    v += strlen(v) + 1;
  }
}

/* Exemplar {label, value, timestamp}; nothing if the slot is empty. */
static void put_exemplar(pmx__pb_t *w, unsigned field, const pmx_metric_t *m, const pmx__exemplar_t *slot) {
  pmx__exemplar_copy_t ex;
  if (slot == NULL || !pmx__exemplar_read(slot, &ex)) return;
  size_t mark = pmx__pb_open(w, field);
  put_label(w, 1, m->exemplar_key, ex.text);
  pmx__pb_double(w, 2, ex.value);
  size_t ts = pmx__pb_open(w, 3); /* google.protobuf.Timestamp {int64 seconds; int32 nanos} */
  pmx__pb_uint(w, 1, (uint64_t)(ex.ts_ms / 1000));
  pmx__pb_uint(w, 2, (uint64_t)(ex.ts_ms % 1000) * 1000000u);
  pmx__pb_close(w, ts);
  pmx__pb_close(w, mark);
}

/* Spans and deltas of one sign: a new span starts after a gap of more than two empty buckets
 * (shorter gaps cost less as zero deltas). `idx` and `deltas` are scratch of snap len. */
static void put_native_sign(pmx__pb_t *w, unsigned span_field, unsigned delta_field, int32_t base,
                            const uint64_t *counts, size_t len, int64_t *deltas) {
  size_t nd = 0;
  int64_t prev = 0;
  int32_t span_end = 0; /* index after the previous span */
  bool first = true;
  size_t j = 0;
  while (j < len) {
    if (counts[j] == 0) {
      j++;
      continue;
    }
    /* A span from j to the last bucket before a gap of three or more empty ones. */
    size_t end = j, zeros = 0;
    for (size_t k = j; k < len; k++) {
      if (counts[k] == 0) {
        if (++zeros > 2) break;
      } else {
        zeros = 0;
        end = k;
      }
    }
    int32_t start_idx = base + (int32_t)j;
    size_t mark = pmx__pb_open(w, span_field);
    pmx__pb_sint(w, 1, first ? start_idx : start_idx - span_end);
    pmx__pb_uint(w, 2, end - j + 1);
    pmx__pb_close(w, mark);
    for (size_t k = j; k <= end; k++) {
      deltas[nd++] = (int64_t)counts[k] - prev;
      prev = (int64_t)counts[k];
    }
    span_end = base + (int32_t)end + 1;
    first = false;
    j = end + 1;
  }
  pmx__pb_packed_sint(w, delta_field, deltas, nd);
}

typedef struct scratch {
  uint64_t cum[PMX_MAX_BUCKETS + 1];
  uint64_t *pos, *neg;
  int64_t *deltas;
  size_t cap;
} scratch_t;

static int scratch_fit(scratch_t *sc, size_t window) {
  if (sc->cap >= window) return PMX_OK;
  pmx__free(sc->pos);
  pmx__free(sc->neg);
  pmx__free(sc->deltas);
  sc->pos = pmx__malloc(window * sizeof *sc->pos);
  sc->neg = pmx__malloc(window * sizeof *sc->neg);
  sc->deltas = pmx__malloc(window * sizeof *sc->deltas);
  sc->cap = (sc->pos && sc->neg && sc->deltas) ? window : 0;
  return sc->cap ? PMX_OK : PMX_ENOMEM;
}

static void put_histogram(pmx__pb_t *w, const pmx_metric_t *m, const pmx_series_t *s, scratch_t *sc) {
  uint64_t count = 0;
  double sum = 0;
  if (m->n_buckets > 0 || m->native == NULL) pmx__hist_snapshot(s, sc->cum, &count, &sum);
  pmx_native_snapshot_t ns = {0};
  if (m->native) {
    /* After the classic snapshot: an observation reaches the native part first, so every
     * classic count taken above is <= the native count, and buckets stay <= sample_count. */
    ns.positive = sc->pos;
    ns.negative = sc->neg;
    ns.cap = sc->cap;
    pmx__native_snapshot(m->native, (const unsigned char *)s + m->native->offset, &ns);
    count = ns.count;
    sum = ns.sum;
  }
  size_t mark = pmx__pb_open(w, 7); /* Metric.histogram */
  pmx__pb_uint(w, 1, count);
  pmx__pb_double(w, 2, sum);
  const pmx__exemplar_t *ex = pmx__exemplars(s);
  for (size_t i = 0; i < m->n_buckets; i++) { /* +Inf is implied by sample_count */
    size_t b = pmx__pb_open(w, 3);
    pmx__pb_uint(w, 1, sc->cum[i]);
    pmx__pb_double(w, 2, m->buckets[i]);
    put_exemplar(w, 3, m, ex ? ex + i : NULL);
    pmx__pb_close(w, b);
  }
  if (m->native) {
    pmx__pb_sint(w, 5, ns.schema);
    pmx__pb_double(w, 6, ns.zero_threshold);
    pmx__pb_uint(w, 7, ns.zero_count);
    put_native_sign(w, 9, 10, ns.base[1], ns.negative, ns.len[1], sc->deltas);
    put_native_sign(w, 12, 13, ns.base[0], ns.positive, ns.len[0], sc->deltas);
    if (ns.len[0] == 0 && ns.len[1] == 0) {
      /* No bucket yet: an empty span still marks the histogram as native, as client_golang does. */
      size_t sp = pmx__pb_open(w, 12);
      pmx__pb_sint(w, 1, 0);
      pmx__pb_uint(w, 2, 0);
      pmx__pb_close(w, sp);
    }
  }
  pmx__pb_close(w, mark);
}

static int render_family(pmx__pb_t *w, const pmx_metric_t *m, scratch_t *sc) {
  if (m->native && scratch_fit(sc, m->native->window) != PMX_OK) return PMX_ENOMEM;
  const char *type = pmx__type_name(m->kind, m->sum_as_gauge);
  int pbtype = m->kind == PMX_DISTRIBUTION ? PB_HISTOGRAM : strcmp(type, "counter") == 0 ? PB_COUNTER : PB_GAUGE;
  size_t fam = pmx__pb_open(w, 0);
  put_str(w, 1, m->name);
  put_str(w, 2, m->help);
  pmx__pb_uint(w, 3, (uint64_t)pbtype);
  pmx_metric_t *mm = (pmx_metric_t *)(uintptr_t)m;
  for (pmx_series_t *s = atomic_load_explicit(&mm->head, memory_order_acquire); s != NULL;
       s = pmx__series_next(s)) {
    size_t met = pmx__pb_open(w, 4);
    put_series_labels(w, m, s);
    if (pbtype == PB_HISTOGRAM) {
      put_histogram(w, m, s, sc);
    } else {
      size_t v = pmx__pb_open(w, pbtype == PB_COUNTER ? 3 : 2);
      pmx__pb_double(w, 1, pmx__series_scalar(s));
      if (pbtype == PB_COUNTER) put_exemplar(w, 2, m, pmx__exemplars(s));
      pmx__pb_close(w, v);
    }
    pmx__pb_close(w, met);
  }
  pmx__pb_close(w, fam);
  return w->rc;
}

static bool shares_prefix(const pmx_registry_t *a, const pmx_registry_t *b) {
  return !a->no_own_metrics && !b->no_own_metrics && strcmp(a->own_prefix, b->own_prefix) == 0;
}

static void put_own_sample(pmx__pb_t *w, int pbtype, const char *metric, const char *reason, uint64_t v) {
  size_t met = pmx__pb_open(w, 4);
  put_label(w, 1, "metric", metric);
  if (reason) put_label(w, 1, "reason", reason);
  size_t val = pmx__pb_open(w, pbtype == PB_COUNTER ? 3 : 2);
  pmx__pb_double(w, 1, (double)v);
  pmx__pb_close(w, val);
  pmx__pb_close(w, met);
}

/* The registry's own families, once per own prefix (as expo.c's render_own). */
static void render_own(pmx__pb_t *w, pmx_registry_t *const *regs, size_t n, size_t first) {
  for (int f = 0; f < 3; f++) {
    const pmx__own_family_t *fam = &pmx__own_families[f];
    int pbtype = strcmp(fam->type, "counter") == 0 ? PB_COUNTER : PB_GAUGE;
    size_t mark = pmx__pb_open(w, 0);
    size_t plen = strlen(regs[first]->own_prefix), slen = strlen(fam->suffix);
    size_t name = pmx__pb_open(w, 1); /* prefix + suffix without a temporary string */
    if (w->rc == PMX_OK) w->rc = pmx__buf_append(w->buf, regs[first]->own_prefix, plen);
    if (w->rc == PMX_OK) w->rc = pmx__buf_append(w->buf, fam->suffix, slen);
    pmx__pb_close(w, name);
    put_str(w, 2, fam->help);
    pmx__pb_uint(w, 3, (uint64_t)pbtype);
    for (size_t i = first; i < n; i++) {
      if (!shares_prefix(regs[first], regs[i])) continue;
      for (pmx_metric_t *m = atomic_load_explicit(&regs[i]->head, memory_order_acquire); m;
           m = atomic_load_explicit(&m->next, memory_order_acquire)) {
        if (f == 0) {
          put_own_sample(w, pbtype, m->name, NULL, atomic_load(&m->n_series));
        } else if (f == 1) {
          put_own_sample(w, pbtype, m->name, NULL, atomic_load(&m->dropped));
        } else {
          for (size_t r = 0; r < PMX__SKIP_N; r++) {
            uint64_t v = atomic_load(&m->skipped[r]);
            if (v) put_own_sample(w, pbtype, m->name, pmx__skip_reason_names[r], v);
          }
        }
      }
    }
    pmx__pb_close(w, mark);
  }
}

int pmx__render_protobuf(pmx_registry_t *const *regs, size_t n, pmx_buf_t *out) {
  pmx_buf_t tmp = {0};
  pmx__pb_t w = {&tmp, PMX_OK};
  scratch_t sc = {0};
  /* Series removed meanwhile stay readable until the section ends (grace.h). */
  pmx__read_t rd = pmx__read_begin();
  for (size_t i = 0; i < n && w.rc == PMX_OK; i++) {
    for (pmx_metric_t *m = atomic_load_explicit(&regs[i]->head, memory_order_acquire); m != NULL && w.rc == PMX_OK;
         m = atomic_load_explicit(&m->next, memory_order_acquire)) {
      int rc = render_family(&w, m, &sc);
      if (rc != PMX_OK) w.rc = rc;
    }
  }
  pmx__read_end(rd);
  for (size_t i = 0; i < n && w.rc == PMX_OK; i++) {
    if (regs[i]->no_own_metrics) continue;
    bool seen = false;
    for (size_t j = 0; j < i; j++) seen |= shares_prefix(regs[j], regs[i]);
    if (!seen) render_own(&w, regs, n, i);
  }
  pmx__free(sc.pos);
  pmx__free(sc.neg);
  pmx__free(sc.deltas);
  int rc = w.rc;
  if (rc == PMX_OK) {
    size_t start = out->len;
    rc = pmx__buf_append(out, tmp.data, tmp.len);
    if (rc == PMX_ELIMIT) out->len = start + tmp.len; /* fixed buffer: the size needed */
  }
  pmx_buf_free(&tmp);
  return rc;
}
