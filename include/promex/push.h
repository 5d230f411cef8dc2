/* Push: the Prometheus Pushgateway and remote_write 1.0 (docs/push.md).
 *
 * Pushgateway: pmx_push() sends the instance's exposition (text 0.0.4) to
 *   <url>/metrics/job/<job>{/<label>/<value>}
 * with PUT (replace the whole group), POST (replace only the pushed metric names) or DELETE
 * (remove the group). For batch jobs and CLIs that end before any scrape.
 *
 * remote_write: pmx_remote_write_start() starts one background thread that, every interval_ms,
 * renders the instance's metrics into samples (one timestamp per round), queues them (bounded:
 * the oldest samples are dropped when full, and counted), and POSTs them as a snappy-compressed
 * prometheus.WriteRequest. 5xx, 429 and network errors are retried with exponential backoff;
 * other 4xx answers drop the request (counted). Nothing is written to disk.
 *
 * Thread safety: pmx_push() and the pmx_push_* helpers are reentrant (each call uses its own
 * HTTP handle). A pmx_remote_writer_t is driven by its own thread; pmx_remote_write_stats() may
 * be called from any thread; pmx_remote_write_stop() from one thread, once.
 * Strings in the option structs are copied; the caller keeps ownership. */
#ifndef PROMEX_PUSH_H
#define PROMEX_PUSH_H

#include <stddef.h>
#include <stdint.h>

#include "promex/error.h"
#include "promex/export.h"
#include "promex/expo.h"
#include "promex/runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum pmx_push_method {
  PMX_PUSH_PUT = 0, /* replace every metric of the group */
  PMX_PUSH_POST,    /* replace only the metric names that are pushed */
  PMX_PUSH_DELETE   /* delete the group (empty body; the Pushgateway answers 202) */
} pmx_push_method_t;

typedef struct pmx_push_label {
  const char *name;  /* a legacy label name, [a-zA-Z_][a-zA-Z0-9_]*, not "job" nor "__*" */
  const char *value; /* any UTF-8, may contain '/' (sent in the @base64 form) */
} pmx_push_label_t;

typedef struct pmx_push_target {
  const char *url;                /* Pushgateway base URL, http:// or https://, e.g.
                                     "http://127.0.0.1:9091" (a trailing '/' is ignored) */
  const char *job;                /* required, non-empty; may contain '/' */
  const pmx_push_label_t *labels; /* further grouping-key labels, may be NULL */
  size_t nlabels;
  const char *username;     /* basic auth when set (with password) */
  const char *password;
  const char *bearer_token; /* bearer auth when set; wins over basic */
  unsigned timeout_ms;      /* whole request; 0 = 10000 */
} pmx_push_target_t;

/* Pushes the running instance's metrics (pmx_get_metrics, text 0.0.4) to the Pushgateway.
 * Returns PMX_OK on a 2xx answer; PMX_EINVAL for a bad target (err says which field);
 * PMX_ESTOPPED if `p` is not running (except for DELETE, which needs no metrics);
 * PMX_EHTTP for a non-2xx answer (err->text has the status and the start of the body);
 * PMX_ETIMEDOUT; PMX_EIO for connection errors; PMX_ENOMEM. */
PMX_EXTERN int pmx_push(pmx_t *p, const pmx_push_target_t *target, pmx_push_method_t method,
                        pmx_error_t *err);

/* Same for an arbitrary text-0.0.4 body (e.g. pmx_render() of a registry). `body` may be NULL
 * for DELETE or an empty PUT. */
PMX_EXTERN int pmx_push_text(const char *body, size_t len, const pmx_push_target_t *target,
                             pmx_push_method_t method, pmx_error_t *err);

/* Appends the grouping-key path "/metrics/job/<job>{/<name>/<value>}" for `target` to `out`
 * (path segments percent-encoded, values containing '/' or empty in the name@base64 form).
 * Returns PMX_OK, PMX_EINVAL (err says why) or PMX_ENOMEM. */
PMX_EXTERN int pmx_push_grouping_path(const pmx_push_target_t *target, pmx_buf_t *out,
                                      pmx_error_t *err);

typedef struct pmx_remote_write_config {
  const char *url;          /* receiver, e.g. "http://127.0.0.1:9090/api/v1/write" */
  const char *username;     /* basic auth when set */
  const char *password;
  const char *bearer_token; /* bearer auth when set; wins over basic */
  unsigned interval_ms;     /* how often samples are taken; 0 = 15000 */
  size_t queue_samples;     /* queue bound in samples; 0 = 100000 */
  unsigned timeout_ms;      /* per request; 0 = 10000 */
  unsigned max_backoff_ms;  /* retry backoff cap; 0 = 5000 (starts at 50 ms, doubles) */
} pmx_remote_write_config_t;

typedef struct pmx_remote_write_stats {
  uint64_t samples_taken;         /* every sample of every round; once the writer has stopped,
                                     taken == sent + dropped_queue + dropped_rejected +
                                     dropped_stopped, and while running the rest is queued */
  uint64_t samples_sent;          /* accepted with a 2xx */
  uint64_t samples_dropped_queue; /* oldest samples dropped because the queue was full */
  uint64_t samples_dropped_rejected; /* dropped after a 4xx (other than 429) answer */
  uint64_t samples_dropped_stopped;  /* still queued when the writer stopped */
  uint64_t requests_failed;       /* attempts that got a 5xx/429/network error (retried) */
  uint64_t rounds;                /* collection rounds taken */
  size_t samples_queued;          /* in the queue now */
  int last_status;                /* HTTP status of the last attempt, 0 for a network error */
} pmx_remote_write_stats_t;

typedef struct pmx_remote_writer pmx_remote_writer_t;

/* Starts the remote_write thread for the running instance `p` (which must outlive the writer:
 * stop the writer before pmx_stop()). Returns PMX_OK, PMX_EINVAL (bad config, err says which
 * field), PMX_ESTOPPED, PMX_ENOMEM or PMX_ESYS (thread creation). */
PMX_EXTERN int pmx_remote_write_start(pmx_t *p, const pmx_remote_write_config_t *cfg,
                                      pmx_remote_writer_t **out, pmx_error_t *err);

/* Takes one round now (in addition to the interval) and wakes the sender. */
PMX_EXTERN int pmx_remote_write_flush(pmx_remote_writer_t *w);

/* Copies the counters. Thread-safe. */
PMX_EXTERN int pmx_remote_write_stats(pmx_remote_writer_t *w, pmx_remote_write_stats_t *out);

/* Stops the thread after one last attempt to send what is queued (bounded by timeout_ms), then
 * frees the writer. NULL is a no-op. */
PMX_EXTERN void pmx_remote_write_stop(pmx_remote_writer_t *w);

#ifdef __cplusplus
}
#endif
#endif
