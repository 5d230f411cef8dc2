/* Internals of the push area: HTTP transport, text-to-series parsing, remote_write encoding. */
#ifndef PMX_PUSH_INTERNAL_H
#define PMX_PUSH_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "promex/push.h"

/* One HTTP request to a push endpoint. */
typedef struct pmx__push_req {
  const char *url;
  const char *method;       /* "PUT", "POST", "DELETE" */
  const char *const *headers; /* NULL-terminated extra headers, may be NULL */
  const void *body;
  size_t len;
  const char *username, *password, *bearer_token;
  unsigned timeout_ms;
} pmx__push_req_t;

/* Performs the request. Returns PMX_OK for 2xx; PMX_EHTTP (err has status and body excerpt),
 * PMX_ETIMEDOUT, PMX_EIO (connection), PMX_ENOMEM. *status gets the HTTP status (0 if none). */
int pmx__push_http(const pmx__push_req_t *req, long *status, pmx_error_t *err);

/* Checks a Pushgateway target (err says which field is wrong): PMX_OK or PMX_EINVAL. */
int pmx__push_check_target(const pmx_push_target_t *t, pmx_error_t *err);

/* Appends RFC 4648 section 5 (URL-safe) base64 of s[0..n) without padding. */
int pmx__base64url(pmx_buf_t *out, const char *s, size_t n);

/* A set of samples taken in one round: each sample's labels pre-encoded as the repeated
 * `Label labels = 1` fields of a prometheus.TimeSeries, sorted by name. */
typedef struct pmx__rw_batch {
  pmx_buf_t labels;   /* concatenated encoded labels */
  size_t *off;        /* n+1 offsets into labels */
  double *val;
  size_t n, cap;
  size_t start;       /* samples before start were dropped (queue full) */
  int64_t ts_ms;
  struct pmx__rw_batch *next;
} pmx__rw_batch_t;

/* Parses a text 0.0.4 exposition (as rendered by promex) into `b` (appending). Lines it cannot
 * parse are skipped and counted in *skipped. Returns PMX_OK or PMX_ENOMEM. */
int pmx__rw_parse_text(const char *text, size_t len, pmx__rw_batch_t *b, size_t *skipped);
void pmx__rw_batch_free(pmx__rw_batch_t *b);

/* Appends a prometheus.WriteRequest with samples [from, to) of `b` to `out`. */
int pmx__rw_encode(const pmx__rw_batch_t *b, size_t from, size_t to, pmx_buf_t *out);

/* Renders the exposition (text 0.0.4) to append to `out`; PMX_ESTOPPED once stopped. */
typedef int (*pmx__rw_render_fn)(void *ctx, pmx_buf_t *out);

/* Reports a writer's progress (the runtime turns it into its own metrics). Called on the
 * writer's thread, with no lock held, after its counters changed: `increase` holds how much each
 * counter of pmx_remote_write_stats_t grew since the previous report, `queued` the queue length
 * now, `accepted` whether a request was just accepted (2xx). */
typedef struct pmx__rw_reporter {
  void (*report)(void *ctx, const pmx_remote_write_stats_t *increase, size_t queued,
                 bool accepted);
  void (*free)(void *ctx); /* called once, when the writer is freed (or its start fails) */
  void *ctx;
} pmx__rw_reporter_t;

/* pmx_remote_write_start() without the instance: the runtime passes its renderer and a
 * reporter (`reporter` may be NULL: none; copied). */
int pmx__rw_start(const pmx_remote_write_config_t *cfg, pmx__rw_render_fn render, void *ctx,
                  const pmx__rw_reporter_t *reporter, pmx_remote_writer_t **out,
                  pmx_error_t *err);

/* Snappy block compression of in[0..n) into out (replacing its contents). */
int pmx__rw_snappy(const void *in, size_t n, pmx_buf_t *out);

#endif
