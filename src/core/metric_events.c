/* Feeding metrics from events: the handler a metric attaches to its event, which applies
 * keep/drop, reads the measurement, converts units, builds the label values from metadata and
 * updates the series. Every event that cannot be recorded is counted by reason, never dropped
 * silently. The path allocates nothing: label values that need formatting use a stack buffer. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_internal.h"
#include "core/counter_cells.h"
#include "core/emit_keys.h"
#include "core/grace.h"
#include "core/meta_label.h"
#include "core/series_key.h"

static inline void skip(pmx_metric_t *m, pmx__skip_reason_t why) {
  atomic_fetch_add_explicit(&m->skipped[why], 1, memory_order_relaxed);
}

/* Metadata and measurement keys are short names ("method", "status") that are usually not the
 * pointers the metric stored: an inline loop that stops at the first differing byte decides most
 * pairs on the first byte, where a strcmp call would pay its call and setup for every pair. */
static inline bool key_equal(const char *k, const char *key) {
  if (k == key) return true;
  if (k == NULL) return false;
  while (*k != '\0' && *k == *key) {
    k++;
    key++;
  }
  return *k == *key;
}

static inline const pmx_meta_t *find_meta(const pmx_meta_t *md, size_t n, const char *key) {
  for (size_t i = 0; i < n; i++) {
    if (key_equal(md[i].key, key)) return &md[i];
  }
  return NULL;
}

static inline bool find_measurement(const pmx_event_data_t *ev, const char *key, double *v) {
  for (size_t i = 0; i < ev->n_measurements; i++) {
    if (key_equal(ev->measurements[i].key, key)) {
      *v = ev->measurements[i].value;
      return true;
    }
  }
  return false;
}

/* The event's trace id (metadata under exemplar_key) becomes the exemplar of the update just
 * made; an event without one simply has none. Out of line: families without exemplars never
 * enter it. */
static void record_exemplar(pmx_metric_t *m, pmx_series_t *s, const pmx_event_data_t *ev, double v) {
  const pmx_meta_t *md = find_meta(ev->metadata, ev->n_metadata, m->exemplar_key);
  char scratch[40];
  const char *text;
  size_t len;
  if (md == NULL || !pmx__meta_label(md, scratch, &text, &len)) return;
  if (!pmx__exemplar_valid(m, text, len)) {
    skip(m, PMX__SKIP_EXEMPLAR);
    return;
  }
  pmx__exemplar_t *slot = pmx__exemplars(s);
  if (m->kind == PMX_DISTRIBUTION) slot += pmx__bucket_index(m, v);
  pmx__exemplar_store(slot, text, len, v);
}

/* The update of a family with exemplars (a counter, counter sum or distribution: definitions
 * refuse exemplar_key on gauges), then its exemplar. */
static void update_with_exemplar(pmx_metric_t *m, pmx_series_t *s, const pmx_event_data_t *ev, double v) {
  if (m->kind == PMX_COUNTER) {
    pmx__counter_inc(s);
  } else if (m->kind == PMX_SUM) {
    pmx__counter_add(s, v);
  } else if (PMX_UNLIKELY(isnan(v))) {
    skip(m, PMX__SKIP_INVALID_VALUE);
    return;
  } else {
    pmx__hist_observe(s, v);
  }
  record_exemplar(m, s, ev, v);
}

/* Finds the metric's tags in the event (or in what its tag_values resolver makes of it) and adds
 * each value to the lookup key as it is found (series_key.h). Counts a skip and returns false when
 * a tag is missing or unusable. Inlined: the handler's one call site, where a call would cost
 * more than the matching of two or three tags. */
__attribute__((always_inline)) static inline bool build_key(pmx_metric_t *m, const pmx_event_data_t *ev,
                                                           pmx__tag_key_t *tk) {
  uint64_t acc;
  size_t at;
  pmx__key_begin(&tk->key, tk->values, tk->lens, m->n_tags, &acc, &at);
  if (m->n_tags) {
    const pmx_meta_t *src = ev->metadata;
    size_t n_src = ev->n_metadata;
    if (m->tag_values) {
      pmx_tag_source_t *ts = &tk->tag_source;
      ts->n = 0;
      if (!m->tag_values(ev, ts, m->tag_values_ctx) || ts->n > 2 * PMX_MAX_TAGS) {
        skip(m, PMX__SKIP_MISSING_TAG);
        return false;
      }
      src = ts->items;
      n_src = ts->n;
    }
    for (size_t i = 0; i < m->n_tags; i++) {
      const pmx_meta_t *md = find_meta(src, n_src, m->tags[i]);
      if (PMX_UNLIKELY(md == NULL || !pmx__meta_label(md, tk->scratch[i], &tk->values[i], &tk->lens[i]))) {
        skip(m, PMX__SKIP_MISSING_TAG);
        return false;
      }
      pmx__key_add(&tk->key, i, tk->lens[i], &acc, &at);
    }
  }
  pmx__key_finish(&tk->key, acc, at);
  return true;
}

void pmx__metric_event_handler(const pmx_event_data_t *ev, void *config) {
  pmx_metric_t *m = config;
  /* An unlabelled counter without keep/drop/exemplars counts the event and reads nothing from
   * it: one load of its series and the increment, inside pmx_emit's reader section. */
  if (m->counts_events_only && PMX_LIKELY(pmx__in_read_section())) {
    pmx_series_t *only = atomic_load_explicit(&m->single, memory_order_acquire);
    if (PMX_LIKELY(only != NULL)) {
      if (!pmx__counter_step_fast(only, 1)) pmx__counter_inc(only);
      return;
    }
  }
  if (m->keep && !m->keep(ev, m->predicate_ctx)) return;
  if (m->drop && m->drop(ev, m->predicate_ctx)) return;

  double v = 1;
  if (m->kind != PMX_COUNTER) { /* a counter counts events; it reads no measurement */
    bool have = m->measure ? m->measure(ev, &v, m->measure_ctx)
                           : find_measurement(ev, m->measurement, &v);
    if (PMX_UNLIKELY(!have)) {
      skip(m, PMX__SKIP_MISSING_MEASUREMENT);
      return;
    }
    v = v * m->unit_mul / m->unit_div;
    if (PMX_UNLIKELY(isnan(v) && m->kind != PMX_LAST_VALUE) ||
        (v < 0 && m->kind == PMX_SUM && !m->sum_as_gauge)) {
      skip(m, PMX__SKIP_INVALID_VALUE);
      return;
    }
  }

  /* The label values and their key: built here, or taken from an earlier handler of the same
   * emit whose metric shares this one's tags (emit_keys.h). */
  pmx__tag_key_t own;
  pmx__tag_key_t *tk = &own;
  pmx__emit_keys_t *shared = NULL;
  if (m->tag_group != NULL) {
    pmx__emit_keys_t *ek = pmx__emit_keys;
    if (ek != NULL && ek->data == ev) {
      shared = ek;
      tk = &ek->k;
    }
  }
  if (shared == NULL || shared->group != m->tag_group) {
    if (shared != NULL) shared->group = NULL; /* rebuilt below; not valid until that succeeds */
    if (!build_key(m, ev, tk)) return;
    if (shared != NULL) shared->group = m->tag_group;
  }
  const pmx__key_t *key = &tk->key;

  pmx_series_t *s;
  /* The series may be removed concurrently: a reader section keeps its memory from being reused
   * until this update is done (grace.h). Called from pmx_emit, the emit's section does; a
   * handler called some other way opens its own. */
  bool own_section = !pmx__in_read_section();
  pmx__read_t rd = 0;
  if (PMX_UNLIKELY(own_section)) rd = pmx__read_begin();
  pmx__series_result_t got = pmx__series_get_key(m, key, &s);
  if (PMX_UNLIKELY(got != PMX__SERIES_OK)) {
    if (own_section) pmx__read_end(rd);
    skip(m, pmx__series_skip_reason(got));
    return;
  }
  /* Checked before the update, so that for every other family the update stays the last call. */
  if (PMX_UNLIKELY(m->exemplar_key != NULL)) {
    update_with_exemplar(m, s, ev, v);
    if (own_section) pmx__read_end(rd);
    return;
  }
  switch (m->kind) {
    case PMX_COUNTER:
      if (!pmx__counter_step_fast(s, 1)) pmx__counter_inc(s);
      break;
    case PMX_SUM:
      if (m->sum_as_gauge) {
        pmx__gauge_add(pmx__gauge_cell(s), v);
      } else {
        pmx__counter_add(s, v);
      }
      break;
    case PMX_LAST_VALUE:
      pmx__scalar_set(pmx__gauge_cell(s), v);
      break;
    case PMX_DISTRIBUTION:
      if (PMX_UNLIKELY(isnan(v))) {
        skip(m, PMX__SKIP_INVALID_VALUE);
        break;
      }
      pmx__hist_observe(s, v);
      break;
    default:
      break;
  }
  if (PMX_UNLIKELY(own_section)) pmx__read_end(rd);
}

int pmx_metric_attach(pmx_metric_t *m, pmx_bus_t *bus, pmx_error_t *err) {
  if (m == NULL || bus == NULL) return pmx__fail(err, PMX_EINVAL, NULL, "pmx_metric_attach: metric and bus are required");
  if (m->event_name == NULL) {
    return pmx__fail(err, PMX_EINVAL, m->name,
                     "metric \"%s\": no event to attach to (set event_name, or use a dotted name "
                     "whose last segment is the measurement)", m->name);
  }
  size_t len = strlen("pmx.metric.") + strlen(m->name) + 1;
  char *id = pmx__malloc(len);
  if (id == NULL) return pmx__fail(err, PMX_ENOMEM, m->name, "out of memory");
  snprintf(id, len, "pmx.metric.%s", m->name);
  pthread_mutex_lock(&m->attach_mu);
  int rc = PMX_EEXIST;
  if (m->bus == NULL) rc = pmx_bus_attach(bus, id, m->event_name, pmx__metric_event_handler, m);
  if (rc == PMX_OK) {
    m->bus = bus;
    m->handler_id = id;
  }
  pthread_mutex_unlock(&m->attach_mu);
  if (rc == PMX_OK) return PMX_OK;
  pmx__free(id);
  if (rc == PMX_EEXIST) return pmx__fail(err, PMX_EEXIST, m->name, "metric \"%s\" is already attached", m->name);
  return pmx__fail(err, rc, m->name, "metric \"%s\": attaching to event \"%s\" failed: %s", m->name,
                   m->event_name, pmx_strerror(rc));
}

int pmx_metric_detach(pmx_metric_t *m) {
  if (m == NULL) return PMX_EINVAL;
  pthread_mutex_lock(&m->attach_mu);
  int rc = m->bus == NULL ? PMX_ENOENT : pmx_bus_detach(m->bus, m->handler_id);
  if (rc == PMX_OK) {
    m->bus = NULL;
    pmx__free(m->handler_id);
    m->handler_id = NULL;
  }
  pthread_mutex_unlock(&m->attach_mu);
  return rc;
}
