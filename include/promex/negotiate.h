/* HTTP helpers for serving a scrape from any web server: the exposition format an Accept header
 * asks for, its Content-Type, whether Accept-Encoding allows gzip, and gzip itself.
 *
 * These live in the server area (src/server/), not in the core: a program that links only the
 * core renders with expo.h and never needs them. The standalone server (server.h) and the
 * libmicrohttpd handler (mhd.h) use them; other servers call them and write the response
 * themselves. */
#ifndef PROMEX_NEGOTIATE_H
#define PROMEX_NEGOTIATE_H

#include <stdbool.h>
#include <stddef.h>

#include "promex/expo.h"
#include "promex/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The Content-Type header value for a format. Static storage. */
PMX_EXTERN const char *pmx_format_content_type(pmx_format_t fmt);

/* Picks the format for an HTTP Accept header: protobuf (PMX_FORMAT_PROTOBUF) when the header
 * names `application/vnd.google.protobuf` with proto=io.prometheus.client.MetricFamily and
 * encoding=delimited at a q-value higher than (or equal to, by order) the text formats', as
 * Prometheus does with --enable-feature=native-histograms; else OpenMetrics 1.0.0 when it is
 * acceptable with a q-value higher than (or equal to, by order) text 0.0.4, otherwise text.
 * A wildcard never selects protobuf. NULL/empty/unparsable:
 * text. Pure, thread-safe. */
PMX_EXTERN pmx_format_t pmx_format_negotiate(const char *accept);

/* True if an Accept-Encoding header value accepts gzip (q > 0). Pure, thread-safe. */
PMX_EXTERN bool pmx_accepts_gzip(const char *accept_encoding);

/* Compresses `in` as a gzip member into `out` (appended; library-owned or fixed, see pmx_buf_t in
 * expo.h). Returns PMX_OK, PMX_EINVAL (NULL argument), PMX_ENOMEM, PMX_ELIMIT (fixed buffer too
 * small), PMX_EIO (zlib failure). Thread-safe. */
PMX_EXTERN int pmx_gzip(const char *in, size_t len, pmx_buf_t *out);

#ifdef __cplusplus
}
#endif
#endif
