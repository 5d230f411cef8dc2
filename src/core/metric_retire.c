/* pmx_retire (include/promex/metric.h): series removal addressed through an event. The metrics
 * to act on are found among the event's handlers on the bus: a metric attaches
 * pmx__metric_event_handler with itself as config, so the bus already is the index from an
 * event to its metrics, and a retire costs nothing until it is called. */
#include <limits.h>
#include <string.h>

#include "core/core_internal.h"
#include "core/meta_label.h"

#define RETIRE_STACK_HANDLERS 16

/* Finds `key` in md[0..n); NULL if absent. */
static const pmx_meta_t *meta_find(const pmx_meta_t *md, size_t n, const char *key) {
  for (size_t i = 0; i < n; i++) {
    if (md[i].key != NULL && strcmp(md[i].key, key) == 0) return &md[i];
  }
  return NULL;
}

/* Removes the series of `m` that `md` names; returns how many, 0 when the metric is untouched. */
static int retire_in_metric(pmx_metric_t *m, const pmx_event_t *ev, const pmx_meta_t *md,
                            size_t n) {
  if (m->n_tags == 0) return 0;
  pmx_tag_source_t ts; /* values may point into its scratch */
  if (m->tag_values != NULL) {
    const pmx_event_data_t data = {ev, NULL, 0, md, n};
    ts.n = 0;
    if (!m->tag_values(&data, &ts, m->tag_values_ctx) || ts.n > 2 * PMX_MAX_TAGS) return 0;
    md = ts.items;
    n = ts.n;
  }
  const char *values[PMX_MAX_TAGS];
  char scratch[PMX_MAX_TAGS][40];
  size_t given = 0;
  for (size_t i = 0; i < m->n_tags; i++) {
    const pmx_meta_t *v = meta_find(md, n, m->tags[i]);
    values[i] = NULL;
    if (v == NULL) continue;
    size_t len;
    if (!pmx__meta_label(v, scratch[i], &values[i], &len)) return 0;
    given++;
  }
  if (given == 0) return 0;
  int removed = pmx_metric_remove_matching(m, values, m->n_tags);
  return removed > 0 ? removed : 0;
}

int pmx_retire(pmx_bus_t *bus, const pmx_event_t *ev, const pmx_meta_t *metadata, size_t n) {
  if (bus == NULL || ev == NULL || n == 0 || metadata == NULL) return PMX_EINVAL;
  for (size_t i = 0; i < n; i++) {
    if (metadata[i].key == NULL) return PMX_EINVAL;
  }
  const char *name = pmx_event_name(ev);
  pmx_handler_info_t stack[RETIRE_STACK_HANDLERS];
  pmx_handler_info_t *hs = stack;
  size_t cap = RETIRE_STACK_HANDLERS, total = 0;
  for (;;) { /* the list may grow between two calls: list again until it fits */
    int rc = pmx_bus_list_handlers(bus, name, hs, cap, &total);
    if (rc != PMX_OK) {
      if (hs != stack) pmx__free(hs);
      return rc;
    }
    if (total <= cap) break;
    if (hs != stack) pmx__free(hs);
    cap = total + RETIRE_STACK_HANDLERS;
    hs = pmx__malloc(cap * sizeof *hs);
    if (hs == NULL) return PMX_ENOMEM;
  }
  /* Metrics are never freed before their registry, so a metric detached since the listing is
   * still safe to look at (and removing its series is harmless). */
  long removed = 0;
  for (size_t i = 0; i < total; i++) {
    if (hs[i].fn != pmx__metric_event_handler || strcmp(hs[i].event_name, name) != 0) continue;
    removed += retire_in_metric(hs[i].config, ev, metadata, n);
  }
  if (hs != stack) pmx__free(hs);
  return removed > INT_MAX ? INT_MAX : (int)removed;
}
