/* Spans (:telemetry.span): start/stop/exception events with monotonic_time, system_time and
 * duration in the native time unit (nanoseconds); plus measurement/metadata lookups for handler
 * and callback authors. */
#include <string.h>
#include <time.h>

#include "core/core_internal.h"

#define SPAN_MAX_EXTRA 14

int64_t pmx_monotonic_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t system_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int pmx_span_events(pmx_bus_t *bus, const char *prefix, pmx_span_events_t *out) {
  if (bus == NULL || prefix == NULL || out == NULL) return PMX_EINVAL;
  char name[300];
  static const char *const suffixes[3] = {".start", ".stop", ".exception"};
  pmx_event_t *evs[3];
  for (int i = 0; i < 3; i++) {
    if (strlen(prefix) + strlen(suffixes[i]) >= sizeof name) return PMX_EINVAL;
    strcpy(name, prefix);
    strcat(name, suffixes[i]);
    int rc = pmx_bus_event(bus, name, &evs[i]);
    if (rc != PMX_OK) return rc;
  }
  *out = (pmx_span_events_t){evs[0], evs[1], evs[2]};
  return PMX_OK;
}

int pmx_span_start(pmx_span_t *span, const pmx_span_events_t *events, const pmx_meta_t *metadata,
                   size_t n_metadata) {
  if (span == NULL || events == NULL || events->start == NULL || n_metadata > SPAN_MAX_EXTRA ||
      (metadata == NULL && n_metadata)) {
    return PMX_EINVAL;
  }
  span->events = events;
  span->start_monotonic_ns = pmx_monotonic_ns();
  pmx_measurement_t m[2] = {{"monotonic_time", (double)span->start_monotonic_ns},
                            {"system_time", (double)system_ns()}};
  int rc = pmx_emit(events->start, m, 2, metadata, n_metadata);
  return rc < 0 ? rc : PMX_OK;
}

int pmx_span_stop(pmx_span_t *span, const pmx_measurement_t *extra, size_t n_extra,
                  const pmx_meta_t *metadata, size_t n_metadata) {
  if (span == NULL || span->events == NULL || n_extra > SPAN_MAX_EXTRA || n_metadata > SPAN_MAX_EXTRA ||
      (extra == NULL && n_extra) || (metadata == NULL && n_metadata)) {
    return PMX_EINVAL;
  }
  int64_t now = pmx_monotonic_ns();
  pmx_measurement_t m[2 + SPAN_MAX_EXTRA] = {{"duration", (double)(now - span->start_monotonic_ns)},
                                             {"monotonic_time", (double)now}};
  for (size_t i = 0; i < n_extra; i++) m[2 + i] = extra[i];
  int rc = pmx_emit(span->events->stop, m, 2 + n_extra, metadata, n_metadata);
  return rc < 0 ? rc : PMX_OK;
}

int pmx_span_exception(pmx_span_t *span, const char *kind, const char *reason,
                       const pmx_meta_t *metadata, size_t n_metadata) {
  if (span == NULL || span->events == NULL || n_metadata > SPAN_MAX_EXTRA ||
      (metadata == NULL && n_metadata)) {
    return PMX_EINVAL;
  }
  int64_t now = pmx_monotonic_ns();
  pmx_measurement_t m[2] = {{"duration", (double)(now - span->start_monotonic_ns)},
                            {"monotonic_time", (double)now}};
  pmx_meta_t md[2 + SPAN_MAX_EXTRA];
  size_t n = 0;
  md[n++] = PMX_META_S("kind", kind ? kind : "error");
  md[n++] = PMX_META_S("reason", reason ? reason : "unknown");
  for (size_t i = 0; i < n_metadata; i++) md[n++] = metadata[i];
  int rc = pmx_emit(span->events->exception, m, 2, md, n);
  return rc < 0 ? rc : PMX_OK;
}

bool pmx_event_measurement(const pmx_event_data_t *ev, const char *key, double *value) {
  if (ev == NULL || key == NULL) return false;
  for (size_t i = 0; i < ev->n_measurements; i++) {
    if (ev->measurements[i].key && strcmp(ev->measurements[i].key, key) == 0) {
      if (value) *value = ev->measurements[i].value;
      return true;
    }
  }
  return false;
}

const pmx_meta_t *pmx_event_meta(const pmx_event_data_t *ev, const char *key) {
  if (ev == NULL || key == NULL) return NULL;
  for (size_t i = 0; i < ev->n_metadata; i++) {
    if (ev->metadata[i].key && strcmp(ev->metadata[i].key, key) == 0) return &ev->metadata[i];
  }
  return NULL;
}
