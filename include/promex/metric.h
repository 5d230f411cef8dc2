/* Metric definitions and the aggregation store (Telemetry.Metrics + the Prometheus core store).
 *
 * A registry holds metric families. A family is defined from a pmx_metric_def_t; it can be fed
 * directly (pmx_metric_labels() + pmx_series_*) or from events (pmx_metric_attach(), which attaches
 * a handler to the family's event on a bus). Each distinct set of label values is a series.
 *
 * Cost: once a series exists, an update is a lock-free lookup plus atomic adds: no malloc, no
 * lock, no system call. Creating a series takes the family's mutex and allocates from the
 * family's arena. A series can be removed (pmx_metric_remove/pmx_metric_reset); its memory is
 * reused by later series of the same family, never returned while the registry lives (scrapes
 * and emitters read series without a lock); memory is O(series), bounded by the per-family series
 * limit, never O(events) nor O(series ever created).
 *
 * Kinds (Telemetry.Metrics -> Prometheus):
 *   PMX_COUNTER       counter: +1 per event (it reads no measurement, as Telemetry.Metrics'
 *                     counter); direct API: pmx_series_inc() / pmx_series_add() with a value >= 0.
 *   PMX_SUM           counter of the summed measurement (a gauge if `sum_as_gauge`, for sums
 *                     that may go down).
 *   PMX_LAST_VALUE    gauge: the latest measurement.
 *   PMX_DISTRIBUTION  histogram: cumulative buckets (+Inf implicit), _sum, _count; and/or a
 *                     native histogram (see "Native histograms" below).
 *   PMX_SUMMARY       refused at definition time with PMX_ENOTSUP: quantiles computed in-process
 *                     are not aggregatable; use a distribution and histogram_quantile().
 *
 * Names: `name` is split into segments on '.' and joined with '_' (Telemetry.Metrics style:
 * "http.request.duration.seconds" -> http_request_duration_seconds); `prefix`, when given, is
 * prepended the same way. The result must match [a-zA-Z_:][a-zA-Z0-9_:]*, not start with "__"
 * and be at most PMX_MAX_METRIC_NAME bytes; label names must match [a-zA-Z_][a-zA-Z0-9_]*, not start with "__",
 * not be "le" (reserved for histograms) and be unique. A bad name is PMX_ENAME with err->text
 * naming the metric and rule. The description (HELP) must be valid UTF-8 without control
 * characters other than tab and newline, at most PMX_MAX_HELP bytes (else PMX_EINVAL). Label
 * values must be valid UTF-8 (checked when their series is created, on every path).
 *
 * Rendered names: a family occupies its name and every name it renders in either format: a
 * counter "x" (or "x_total") occupies x, x_total and x_created (OpenMetrics family x, samples
 * x_total, reserved x_created); a histogram "h" occupies h, h_bucket, h_count, h_sum and
 * h_created; a gauge only its name. The registry's own families (<own prefix>_metric_series,
 * _series_dropped_total, _events_skipped_total) occupy theirs from the start. A definition that
 * would share any of these names with another family of the registry is PMX_EEXIST, with
 * err->text naming both families and the name they share.
 *
 * Values: counters and sums never go backwards and never wrap. Integral steps below 2^40 are
 * counted exactly in 64-bit integers; once those reach 2^59 (and for larger or fractional steps)
 * the value continues in a double, which saturates gracefully (steps below its precision, about
 * value / 2^53, are lost rather than wrapping).
 *
 * Defaults as in Telemetry.Metrics: if `event_name` is NULL the event is the name without its last
 * segment and the measurement is the last segment (so "http.request.duration" listens to
 * "http.request" and reads "duration").
 *
 * Threading: every function is safe from any thread unless it says otherwise. */
#ifndef PROMEX_METRIC_H
#define PROMEX_METRIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "promex/error.h"
#include "promex/event.h"
#include "promex/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Limits of a definition and its series; docs/metrics.md lists each with the error it gets. */
#define PMX_MAX_TAGS 16               /* labels per metric */
#define PMX_MAX_BUCKETS 128           /* finite buckets per histogram */
#define PMX_MAX_LABEL_VALUE 1024      /* bytes; longer values skip the event (counted) */
#define PMX_MAX_METRIC_NAME 256       /* bytes of the full name (prefix included) */
#define PMX_MAX_HELP 4096             /* bytes of the description (HELP text) */
#define PMX_DEFAULT_MAX_SERIES 10000  /* per family, unless the definition or registry says */

typedef struct pmx_registry pmx_registry_t;
typedef struct pmx_metric pmx_metric_t;
typedef struct pmx_series pmx_series_t;

typedef enum pmx_metric_kind {
  PMX_COUNTER = 0,
  PMX_SUM,
  PMX_LAST_VALUE,
  PMX_DISTRIBUTION,
  PMX_SUMMARY
} pmx_metric_kind_t;

/* Unit conversion of the measurement: from `unit_from` to `unit_to`. Time pairs convert from
 * PMX_UNIT_NATIVE (nanoseconds, as spans measure) or between any two time units; byte pairs from
 * bytes to kilobytes/megabytes (1000-based, as Telemetry.Metrics). Any other pair is PMX_EUNIT. */
typedef enum pmx_unit {
  PMX_UNIT_NONE = 0,
  PMX_UNIT_NATIVE,
  PMX_UNIT_SECOND,
  PMX_UNIT_MILLISECOND,
  PMX_UNIT_MICROSECOND,
  PMX_UNIT_NANOSECOND,
  PMX_UNIT_BYTE,
  PMX_UNIT_KILOBYTE,
  PMX_UNIT_MEGABYTE
} pmx_unit_t;

/* Measurement callback: computes the value from the event. Returns false when the value is not
 * available (the event is then skipped for this metric and counted as missing_measurement). */
typedef bool (*pmx_measure_fn)(const pmx_event_data_t *ev, double *value, void *ctx);

/* Tag source: what tag_values returns. `items` may point into the event, to static strings or
 * into `scratch` (for values formatted on the fly). */
typedef struct pmx_tag_source {
  pmx_meta_t items[2 * PMX_MAX_TAGS];
  size_t n;
  char scratch[512];
} pmx_tag_source_t;

/* tag_values callback: fills `out` from the event's metadata (out->n is 0 on entry). Tags are then
 * looked up by key in `out` instead of the event's metadata. Return false to skip the event
 * (counted as missing_tag).
 * How often it runs: families of one registry with the same tags (same names, same order), the
 * same tag_values and the same tag_values_ctx share its answer within one emit: when their handlers
 * run one after another, it runs once for all of them; a family of another group in between makes
 * it run again. So it must answer alike for the same event, whatever family asks. A false answer is
 * not shared: the next family asks again and counts its own skip. */
typedef bool (*pmx_tag_values_fn)(const pmx_event_data_t *ev, pmx_tag_source_t *out, void *ctx);

/* keep/drop predicate over the event. */
typedef bool (*pmx_predicate_fn)(const pmx_event_data_t *ev, void *ctx);

/* A metric definition. Everything is copied by pmx_metric_define(); the caller keeps ownership of
 * its strings and arrays. Function pointers and their ctx are stored and must stay valid while the
 * metric is attached. Zero-initialise and set what you need. */
typedef struct pmx_metric_def {
  pmx_metric_kind_t kind;
  const char *prefix;            /* optional; e.g. "myapp_prom_ex_http" */
  const char *name;              /* required; dotted or underscored */
  const char *description;       /* HELP text; defaults to the metric name */
  const char *event_name;        /* event to listen to; see defaults above */
  const char *measurement;       /* measurement key; see defaults above */
  pmx_measure_fn measure;        /* alternative to `measurement` */
  void *measure_ctx;
  const char *const *tags;       /* label names, in output order */
  size_t n_tags;
  pmx_tag_values_fn tag_values;  /* optional */
  void *tag_values_ctx;
  pmx_predicate_fn keep;         /* optional: record only if keep() is true */
  pmx_predicate_fn drop;         /* optional: skip if drop() is true */
  void *predicate_ctx;
  pmx_unit_t unit_from;          /* PMX_UNIT_NONE for no conversion */
  pmx_unit_t unit_to;
  const double *buckets;         /* distribution: strictly increasing finite upper bounds */
  size_t n_buckets;
  size_t max_series;             /* 0: the registry's default */
  bool sum_as_gauge;             /* PMX_SUM only: expose as gauge (sum may decrease) */
  /* Exemplars (counters, sums and distributions; see "Exemplars" below). When set, the family
   * keeps the latest exemplar per series (per bucket for a distribution): an event carrying
   * metadata under this key (a trace id) attaches {<exemplar_key>="<value>"} to its update. The
   * key is also the exemplar's label name, so it must be a valid label name. NULL: no exemplars,
   * and no cost. */
  const char *exemplar_key;
  /* Native histogram (distributions only; see "Native histograms" below). With `native` set the
   * family also keeps a native (sparse, exponential-bucket) histogram per series, or only that
   * when `buckets` is NULL. */
  bool native;
  int native_schema;             /* -4..8: bucket bounds grow by 2^(2^-schema); 3 is ~9% */
  double native_zero_threshold;  /* 0: PMX_NATIVE_DEFAULT_ZERO_THRESHOLD; PMX_NATIVE_ZERO_THRESHOLD_ZERO: none */
  size_t native_max_buckets;     /* 0: PMX_NATIVE_DEFAULT_MAX_BUCKETS; at most PMX_NATIVE_MAX_BUCKETS */
} pmx_metric_def_t;

/* Registry options. Zero-initialise for defaults. */
typedef struct pmx_registry_opts {
  size_t default_max_series;     /* 0: PMX_DEFAULT_MAX_SERIES */
  /* Prefix of the registry's own metrics (series dropped at the limit, events skipped);
   * NULL: "promex". The runtime sets "<app>_prom_ex_prom_ex". A valid metric name of at most
   * 200 characters, else pmx_registry_new returns PMX_EINVAL. */
  const char *own_metrics_prefix;
  bool no_own_metrics;           /* do not expose them (benchmarks) */
} pmx_registry_opts_t;

/* Creates an empty registry. `opts` may be NULL (defaults) and is copied. *out is owned by the
 * caller (pmx_registry_destroy). Unless no_own_metrics, the names of the own families are
 * reserved at once (no metric can be defined over them). Returns PMX_OK, PMX_EINVAL or
 * PMX_ENOMEM. */
PMX_EXTERN int pmx_registry_new(const pmx_registry_opts_t *opts, pmx_registry_t **out);

/* Detaches every attached metric and frees the registry, its metrics and series. NULL is a no-op.
 * Must not race with any other use of the registry or its metrics, and must not be called from
 * inside a handler of a bus its metrics are attached to (such a metric could not be detached; it
 * is then leaked rather than freed under a running handler). */
PMX_EXTERN void pmx_registry_destroy(pmx_registry_t *reg);

/* Validates `def` and adds a family to `reg`. On PMX_OK *out (optional) is a handle owned by the
 * registry, valid until pmx_registry_destroy(). Errors (reg unchanged, *out NULL, `err` filled):
 * PMX_EINVAL (missing name, bad buckets, too many tags, bad HELP text, ...), PMX_ENAME (bad
 * metric or label name, name too long), PMX_EUNIT, PMX_ENOTSUP (PMX_SUMMARY), PMX_EEXIST (a name
 * the family would render is already rendered by another family, the registry's own included;
 * see "Rendered names" above), PMX_ENOMEM. docs/metrics.md lists every limit. */
PMX_EXTERN int pmx_metric_define(pmx_registry_t *reg, const pmx_metric_def_t *def,
                                 pmx_metric_t **out, pmx_error_t *err);

/* Attaches the family to its event on `bus` (handler id "pmx.metric.<name>"). Every event then
 * updates the family. An event the family cannot record is skipped for this metric and counted in
 * <own prefix>_events_skipped_total{metric,reason}, where reason is one of:
 *   missing_measurement  the measurement key is absent (or the measure callback returned false)
 *   missing_tag          a tag is absent from the tag source, is an opaque pointer or NULL string,
 *                        or tag_values returned false
 *   label_too_long       a label value is longer than PMX_MAX_LABEL_VALUE bytes
 *   invalid_label        a label value is not valid UTF-8
 *   invalid_value        NaN (except for last_value), or a negative value for a counter sum
 *   series_limit         a new series past max_series (also in <own>_series_dropped_total)
 *   out_of_memory        the new series could not be allocated
 *   exemplar_rejected    the update was recorded but its exemplar was not (see Exemplars)
 * Events rejected by keep/drop are not counted: that is what the predicates are for.
 * Returns PMX_OK, PMX_EEXIST (already attached), PMX_EBUSY, PMX_EINVAL, PMX_ENOMEM. The metric
 * must be detached (or the registry destroyed) before `bus` is destroyed. Attach and detach of one
 * metric are serialised by a per-metric mutex that handlers never take. */
PMX_EXTERN int pmx_metric_attach(pmx_metric_t *m, pmx_bus_t *bus, pmx_error_t *err);

/* Detaches the family from its bus; after return no event updates it. Returns PMX_OK, PMX_ENOENT
 * (not attached), PMX_EBUSY. */
PMX_EXTERN int pmx_metric_detach(pmx_metric_t *m);

/* Full Prometheus name of the family (owned by the registry). */
PMX_EXTERN const char *pmx_metric_name(const pmx_metric_t *m);
PMX_EXTERN pmx_metric_kind_t pmx_metric_kind(const pmx_metric_t *m);
/* Number of series stored. */
PMX_EXTERN size_t pmx_metric_series_count(const pmx_metric_t *m);
/* Finds a family by full name; NULL if absent. Lock-free (families are never removed before
 * pmx_registry_destroy). */
PMX_EXTERN pmx_metric_t *pmx_registry_find(pmx_registry_t *reg, const char *name);

/* ---- Direct API (no events) ------------------------------------------------------------------
 * pmx_metric_labels() finds or creates the series for `values` (one string per label, in the
 * definition's order; n must equal the number of labels; NULL values means none for an unlabelled
 * family). The series handle is owned by the registry and valid until pmx_registry_destroy() or
 * the removal of its series (pmx_metric_remove/reset), so it may be cached until then. Returns PMX_OK; PMX_EINVAL (wrong count, NULL value, value longer than
 * PMX_MAX_LABEL_VALUE); PMX_ELIMIT when the family is at its series limit (the attempt is counted
 * in <own prefix>_series_dropped_total); PMX_ENOMEM. Lock-free when the series exists. */
PMX_EXTERN int pmx_metric_labels(pmx_metric_t *m, const char *const *values, size_t n,
                                 pmx_series_t **out);

/* Series removal (client_golang's DeleteLabelValues/Reset, prometheus-cpp's Remove).
 * pmx_metric_remove() removes the series whose label values are `values` (as for
 * pmx_metric_labels()); pmx_metric_reset() removes every series of the family. A removed series
 * disappears from the next exposition, no longer counts against max_series, and its memory is
 * reused by a later series of the family. If the same label values are recorded again, a new
 * series starts from zero.
 * Concurrency: safe against concurrent events, direct updates and renders of the family. An
 * event recorded concurrently with the removal lands either in the removed series (and is lost)
 * or in a new one. The removal waits for a grace period (renders and event updates already
 * running on other threads finish) before the memory may be reused; called from inside a
 * handler or render, that wait is deferred to a later removal.
 * Handles: a pmx_series_t * obtained before the removal is invalid once it returns. Do not use
 * it: fetch a new one with pmx_metric_labels(). Using it is undefined: the memory stays mapped
 * (no crash from the update itself), but the update may land in a later series of the family
 * that reuses the memory, and on a histogram it may stall renders. Code that caches handles and
 * removes series must not race the two on the same series.
 * Returns PMX_OK; PMX_ENOENT (no such series: never created, or removed already); PMX_EINVAL
 * (m NULL, n not the number of labels, NULL values or a NULL value). Neither allocates. */
PMX_EXTERN int pmx_metric_remove(pmx_metric_t *m, const char *const *values, size_t n);
PMX_EXTERN int pmx_metric_reset(pmx_metric_t *m);

/* Removes every series whose labels equal `values` where a value is given; a NULL entry of
 * `values` matches any value of that label (client_golang's DeletePartialMatch). `n` must be the
 * number of labels. All NULL removes every series, as pmx_metric_reset(). Concurrency, handles
 * and reuse as pmx_metric_remove(). Returns the number of series removed (>= 0, 0 when none
 * matched) or PMX_EINVAL (m NULL, n not the number of labels, values NULL with n > 0). */
PMX_EXTERN int pmx_metric_remove_matching(pmx_metric_t *m, const char *const *values, size_t n);

/* Retiring series through an event: for code that feeds metrics by emitting events and cannot
 * reach the metrics themselves (a plugin's measurement callback), the way to say "this thing is
 * gone". pmx_retire() finds every metric attached (pmx_metric_attach) to `ev` on `bus` and, in
 * each, removes the series matching the label values that `metadata` gives: each of the metric's
 * tags found in `metadata` (through the metric's tag_values callback, if it has one, called with
 * this metadata and no measurements) must be equal, tags not given match any value. So
 * {mountpoint="/mnt"} removes the mount's series in every metric of the event, whatever their
 * device and fstype labels. Values are formatted as events format them (integers, doubles,
 * booleans). A metric left untouched: one whose tags `metadata` names none of (an unlabelled
 * total on the same event keeps counting), one whose tag_values callback returns false, or one
 * for which a named tag's value cannot be a label (NULL string, opaque pointer). Metadata keys
 * that are not tags of a metric are ignored for it. If the thing comes back, its next event
 * starts a new series from zero.
 * Not on the hot path: takes the bus mutex to list the event's handlers (allocating when there
 * are more than 16), each matching metric's series mutex, and waits for a grace period as
 * pmx_metric_remove() does. Safe from any thread, from a handler or measurement callback too,
 * and against concurrent events and renders (an event racing with the retire may land in the
 * removed series or in a new one). Returns the number of series removed (>= 0), PMX_EINVAL (bus
 * or ev NULL, n == 0, metadata NULL, a NULL key) or PMX_ENOMEM. */
PMX_EXTERN int pmx_retire(pmx_bus_t *bus, const pmx_event_t *ev, const pmx_meta_t *metadata,
                          size_t n);

/* Series updates. Lock-free, allocation-free. They return PMX_OK, PMX_EINVAL (NaN or negative
 * counter increment; nothing changed) or PMX_ETYPE (operation not valid for the kind):
 *   add:     PMX_COUNTER/PMX_SUM (value >= 0 unless sum_as_gauge), PMX_LAST_VALUE (adds)
 *   set:     PMX_LAST_VALUE, and PMX_SUM with sum_as_gauge
 *   observe: PMX_DISTRIBUTION (NaN is rejected)
 * Integral increments use a single atomic integer add; fractional ones a CAS loop on a double.
 * promex/inline.h has an opt-in inline form of pmx_series_inc for the hottest counters. */
PMX_EXTERN int pmx_series_add(pmx_series_t *s, double value);
PMX_EXTERN int pmx_series_inc(pmx_series_t *s);
PMX_EXTERN int pmx_series_set(pmx_series_t *s, double value);
PMX_EXTERN int pmx_series_observe(pmx_series_t *s, double value);

/* Current value of a counter/sum/gauge series, or the number of observations begun on a
 * histogram series (those still completing included). */
PMX_EXTERN double pmx_series_value(const pmx_series_t *s);

/* An exact snapshot of a histogram series, even under concurrent observers: `cumulative`
 * receives n_buckets + 1 counts (the last is +Inf and equals *count) and *sum is the sum of
 * exactly the *count observations counted (per CPU shard, the state at one instant). Snapshots
 * of one family are serialised by a mutex that observers never take. Returns PMX_OK, PMX_ETYPE,
 * PMX_EINVAL (cap too small).
 * Rendering: OpenMetrics forbids _sum on a histogram with a negative bucket bound, so such a
 * family is rendered there with its buckets only (no _sum, and so no _count); so is a family
 * without one once a negative value was observed into it (its sum could go down). Text 0.0.4
 * keeps both. */
/* A native-only distribution (no classic buckets) has n_buckets 0 here: cumulative[0] is +Inf,
 * and the snapshot holds the series as pmx_series_native() does (see "Native histograms"). */
PMX_EXTERN int pmx_series_histogram(const pmx_series_t *s, uint64_t *cumulative, size_t cap,
                                    uint64_t *count, double *sum);

/* ---- Exemplars ----------------------------------------------------------------------------
 * A family defined with `exemplar_key` keeps, per counter series and per histogram bucket, the
 * latest exemplar: one label (exemplar_key="trace id"), the observed value and the wall-clock
 * time of the update. Only the OpenMetrics exposition carries them (on _total and _bucket lines,
 * `# {trace_id="..."} value timestamp`); text 0.0.4 has no syntax for them.
 * The label set must be valid UTF-8 of at most PMX_MAX_EXEMPLAR_RUNES characters, label name
 * included (the OpenMetrics limit), and the value at most PMX_MAX_EXEMPLAR_VALUE bytes. From
 * events, an exemplar that breaks a rule is dropped (the update itself is recorded) and counted
 * in <own prefix>_events_skipped_total{reason="exemplar_rejected"}; a value is never truncated.
 * Writing an exemplar takes no lock: a writer that finds its slot being written by another
 * thread leaves the other's exemplar in place. Families without exemplar_key pay nothing.
 *
 * pmx_series_add_exemplar: as pmx_series_add on a counter or counter sum, with exemplar
 * `trace_id` (NUL-terminated). pmx_series_observe_exemplar: as pmx_series_observe, the exemplar
 * going to the value's bucket. Return PMX_OK; PMX_EINVAL (NULL argument, NaN or negative value,
 * or an exemplar that breaks the rules above: nothing is recorded); PMX_ETYPE (wrong kind);
 * PMX_ENOTSUP (the family was defined without exemplar_key). Lock-free, allocation-free. */
#define PMX_MAX_EXEMPLAR_RUNES 128 /* characters of the label set: name and value */
#define PMX_MAX_EXEMPLAR_VALUE 120 /* bytes of the value as stored */
PMX_EXTERN int pmx_series_add_exemplar(pmx_series_t *s, double value, const char *trace_id);
PMX_EXTERN int pmx_series_observe_exemplar(pmx_series_t *s, double value, const char *trace_id);

/* ---- Native histograms -----------------------------------------------------------------------
 * A distribution defined with `native` keeps, per series, a native histogram as Prometheus 2.40+
 * ingests it (with --enable-feature=native-histograms): bucket i of schema s holds the values in
 * (2^((i-1)/2^s), 2^(i/2^s)] (and the same, mirrored, for negative values); values with
 * |v| <= zero threshold go to the zero bucket. Only the protobuf exposition carries native
 * buckets; text and OpenMetrics show the classic buckets (`buckets`), or, for a native-only
 * family, just the +Inf bucket, _count and _sum, as client_golang does.
 * Memory is fixed at series creation: per sign, a window of `native_max_buckets` consecutive
 * bucket counters. When an observation falls outside its sign's window and the populated
 * buckets plus the new one span more than the window, the series' schema is reduced by one
 * (pairs of buckets merge, halving the resolution) until they fit, as Prometheus clients do at
 * their bucket limit. At schema -4 a value that still does not fit is counted in the window's
 * outermost bucket (a bucket limit of 80 or more never reaches that for |values| in 2^-128..2^1024).
 * Observe is allocation-free and lock-free while the value lands in the window (atomic adds
 * inside a reader count). Moving the window or reducing the schema, and every snapshot, holds
 * the series exclusively for the few microseconds they take; observers arriving then spin until
 * it ends. pmx_series_native() gives an exact snapshot (count == zero bucket + all buckets). */
#define PMX_NATIVE_DEFAULT_ZERO_THRESHOLD 2.938735877055719e-39 /* 2^-128, as client_golang */
#define PMX_NATIVE_ZERO_THRESHOLD_ZERO (-1.0)                   /* no zero bucket width */
#define PMX_NATIVE_DEFAULT_MAX_BUCKETS 160                      /* per sign */
#define PMX_NATIVE_MAX_BUCKETS 4096                             /* per sign */

/* An exact snapshot of a series' native histogram. `positive`/`negative` are caller arrays of
 * `cap` counters each; bucket index base[k] + j is in positive[j] (k = 0) or negative[j] (k = 1),
 * for j < len[k] (len[k] <= cap: leading and trailing empty buckets are left out). */
typedef struct pmx_native_snapshot {
  int schema;
  double zero_threshold;
  uint64_t count, zero_count;
  double sum;
  int32_t base[2];
  size_t len[2];
  uint64_t *positive, *negative;
  size_t cap;
} pmx_native_snapshot_t;

/* Fills `out` (its positive, negative and cap set by the caller; cap >= the family's
 * native_max_buckets). Returns PMX_OK; PMX_EINVAL (NULL argument, cap too small); PMX_ETYPE (not
 * a native distribution). Holds the series exclusively for the copy (see above); no allocation. */
PMX_EXTERN int pmx_series_native(const pmx_series_t *s, pmx_native_snapshot_t *out);

/* Events skipped by this family since it was defined (all reasons), and series dropped at the
 * limit. */
PMX_EXTERN uint64_t pmx_metric_skipped_events(const pmx_metric_t *m);
PMX_EXTERN uint64_t pmx_metric_dropped_series(const pmx_metric_t *m);

#ifdef __cplusplus
}
#endif
#endif
