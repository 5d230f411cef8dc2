/* Exposition: rendering a registry as Prometheus text 0.0.4, OpenMetrics 1.0 text or the
 * delimited protobuf format (PMX_FORMAT_PROTOBUF).
 *
 * Rendering reads the aggregates without stopping writers. Histogram snapshots are exact while
 * other threads observe: buckets are cumulative, the +Inf bucket equals _count, and _sum is the
 * sum of exactly those observations (see pmx_series_histogram). A histogram with a negative
 * bucket bound has no _sum (and so no _count) in OpenMetrics, which forbids it there.
 * Families appear in definition order, series in creation order; the registry's own metrics last.
 * Floats use the shortest decimal form that reads back exactly, NaN/+Inf/-Inf spelled as
 * Prometheus wants, independent of the process locale. */
#ifndef PROMEX_EXPO_H
#define PROMEX_EXPO_H

#include <stdbool.h>
#include <stddef.h>

#include "promex/error.h"
#include "promex/export.h"
#include "promex/metric.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum pmx_format {
  PMX_FORMAT_TEXT = 0,    /* text/plain; version=0.0.4 */
  PMX_FORMAT_OPENMETRICS, /* application/openmetrics-text; version=1.0.0 */
  /* application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited:
   * varint-length-prefixed MetricFamily messages (client_model's metrics.proto). The only format
   * that carries native histogram buckets. Binary: not NUL-terminated, may contain NUL bytes. */
  PMX_FORMAT_PROTOBUF
} pmx_format_t;

/* The HTTP side of a format (Content-Type, Accept negotiation) and gzip are declared in
 * promex/negotiate.h: the server area implements them, so a program linking only the core
 * resolves everything this header declares. */

/* A growable output buffer. Zero-initialise for a library-owned buffer (free with
 * pmx_buf_free); or point `data`/`cap` at caller memory and set `fixed` to forbid growth, in which
 * case a render that does not fit returns PMX_ELIMIT with `len` = bytes that would be needed. */
typedef struct pmx_buf {
  char *data;
  size_t len;
  size_t cap;
  bool fixed;
} pmx_buf_t;

/* Frees a library-owned buffer and zeroes it. Does nothing to a fixed buffer's memory. */
PMX_EXTERN void pmx_buf_free(pmx_buf_t *buf);

/* Appends the exposition of `reg` to `buf` (buf->len grows). Returns PMX_OK, PMX_EINVAL,
 * PMX_ENOMEM, PMX_ELIMIT (fixed buffer too small; see pmx_buf_t). Thread-safe: any number of
 * renders may run alongside updates and each other. */
PMX_EXTERN int pmx_render(pmx_registry_t *reg, pmx_format_t fmt, pmx_buf_t *buf);

/* Like pmx_render() for several registries into one exposition (one # EOF for OpenMetrics). */
PMX_EXTERN int pmx_render_many(pmx_registry_t *const *regs, size_t n, pmx_format_t fmt,
                               pmx_buf_t *buf);

#ifdef __cplusplus
}
#endif
#endif
