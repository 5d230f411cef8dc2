/* The event bus: the :telemetry of promex.
 *
 * Code that does work emits named events carrying measurements (named numbers) and metadata
 * (named strings, integers, doubles, booleans, opaque pointers). Handlers attached to an event
 * run synchronously, on the emitting thread, in attach order.
 *
 * Event names are dotted strings ("http.server.request.stop"). pmx_bus_event() resolves a name
 * once to a pmx_event_t handle; emitting through the handle never compares or hashes the name.
 *
 * Threading: every function here is safe from any thread. pmx_emit() takes no lock, allocates
 * nothing and makes no system call: it reads an immutable snapshot of the event's handler list.
 * Attach and detach take the bus's writer mutex and publish a new snapshot; detach waits until
 * every emit that could still see the old snapshot has finished, so a handler is never called
 * after pmx_bus_detach() returns. (The wait is process-wide: it also lets emits on other buses
 * and metric renders already running at the call finish, so it lasts as long as the longest of
 * them.) Because of that wait, attach/detach must not be called from inside a handler of the
 * same bus (they return PMX_EBUSY); from a handler of another bus they work. pmx_emit() is not async-signal-safe:
 * do not emit from a signal handler (a thread's reader counter is updated with plain stores). */
#ifndef PROMEX_EVENT_H
#define PROMEX_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "promex/error.h"
#include "promex/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pmx_bus pmx_bus_t;
typedef struct pmx_event pmx_event_t;

/* A named number. `key` is borrowed for the duration of the emit. */
typedef struct pmx_measurement {
  const char *key;
  double value;
} pmx_measurement_t;

typedef enum pmx_meta_type {
  PMX_META_STR = 0,
  PMX_META_INT,
  PMX_META_DOUBLE,
  PMX_META_BOOL,
  PMX_META_PTR
} pmx_meta_type_t;

/* A named metadata value. Strings and pointers are borrowed for the duration of the emit. */
typedef struct pmx_meta {
  const char *key;
  pmx_meta_type_t type;
  union {
    const char *s;
    int64_t i;
    double d;
    bool b;
    const void *p;
  } v;
} pmx_meta_t;

/* Initializers for literal arrays: pmx_meta_t md[] = {PMX_META_S("method", "GET")}; */
#define PMX_M(k, val) ((pmx_measurement_t){(k), (double)(val)})
#define PMX_META_S(k, val) ((pmx_meta_t){.key = (k), .type = PMX_META_STR, .v.s = (val)})
#define PMX_META_I(k, val) ((pmx_meta_t){.key = (k), .type = PMX_META_INT, .v.i = (val)})
#define PMX_META_D(k, val) ((pmx_meta_t){.key = (k), .type = PMX_META_DOUBLE, .v.d = (val)})
#define PMX_META_B(k, val) ((pmx_meta_t){.key = (k), .type = PMX_META_BOOL, .v.b = (val)})
#define PMX_META_P(k, val) ((pmx_meta_t){.key = (k), .type = PMX_META_PTR, .v.p = (val)})

/* What a handler receives. Everything is borrowed for the duration of the call. */
typedef struct pmx_event_data {
  const pmx_event_t *event;
  const pmx_measurement_t *measurements;
  size_t n_measurements;
  const pmx_meta_t *metadata;
  size_t n_metadata;
} pmx_event_data_t;

/* A handler. `config` is the pointer given at attach time. Handlers must not block for long:
 * they run on the emitting thread, inside the caller's work. */
typedef void (*pmx_handler_fn)(const pmx_event_data_t *ev, void *config);

/* Creates an empty bus. *out is owned by the caller (pmx_bus_destroy). Returns PMX_OK,
 * PMX_EINVAL (out is NULL) or PMX_ENOMEM. */
PMX_EXTERN int pmx_bus_new(pmx_bus_t **out);

/* Detaches every handler and frees the bus and all its event handles. NULL is a no-op. Must not
 * race with any other use of the bus (no emit may be running). */
PMX_EXTERN void pmx_bus_destroy(pmx_bus_t *bus);

/* Resolves `name` to its event handle, creating it on first use. The name is validated: one or
 * more segments of [A-Za-z0-9_-] separated by single dots, at most 255 bytes. The handle is owned
 * by the bus and valid until pmx_bus_destroy(). Takes the bus mutex: resolve once, not per event.
 * Returns PMX_OK, PMX_EINVAL (NULL argument or bad name; *out set to NULL) or PMX_ENOMEM. */
PMX_EXTERN int pmx_bus_event(pmx_bus_t *bus, const char *name, pmx_event_t **out);

/* The event's dotted name (owned by the bus). */
PMX_EXTERN const char *pmx_event_name(const pmx_event_t *ev);

/* Attaches handler `id` to one event. Equivalent to pmx_bus_attach_many() with one name. */
PMX_EXTERN int pmx_bus_attach(pmx_bus_t *bus, const char *id, const char *event_name,
                              pmx_handler_fn fn, void *config);

/* Attaches handler `id` (copied; unique within the bus) to every event in `event_names` (each
 * resolved as by pmx_bus_event()). `config` is borrowed and passed to every call.
 * Returns PMX_OK; PMX_EEXIST if `id` is already attached (nothing changed); PMX_EINVAL for a NULL
 * or empty id, NULL fn, n == 0 or a bad event name (nothing changed); PMX_EBUSY when called from a
 * handler of this bus; PMX_ENOMEM. All-or-nothing: on error no event gained the handler. */
PMX_EXTERN int pmx_bus_attach_many(pmx_bus_t *bus, const char *id, const char *const *event_names,
                                   size_t n, pmx_handler_fn fn, void *config);

/* Detaches handler `id` from every event it is attached to. When this returns PMX_OK no thread is
 * running the handler and none will call it again. Returns PMX_OK, PMX_ENOENT (no such id),
 * PMX_EINVAL, PMX_EBUSY (called from a handler of this bus). */
PMX_EXTERN int pmx_bus_detach(pmx_bus_t *bus, const char *id);

/* Runs every handler attached to `ev`, in attach order, on this thread. Lock-free, no allocation,
 * no system call. Returns the number of handlers run (>= 0), or PMX_EINVAL for a NULL event or
 * a NULL array with a non-zero count. */
PMX_EXTERN int pmx_emit(const pmx_event_t *ev, const pmx_measurement_t *measurements,
                        size_t n_measurements, const pmx_meta_t *metadata, size_t n_metadata);

/* Convenience for code that emits rarely: resolves `name` (taking the bus mutex) then emits. */
PMX_EXTERN int pmx_emit_name(pmx_bus_t *bus, const char *name,
                             const pmx_measurement_t *measurements, size_t n_measurements,
                             const pmx_meta_t *metadata, size_t n_metadata);

/* One attached handler, as reported by pmx_bus_list_handlers(). Strings are owned by the bus and
 * valid until the handler is detached. */
typedef struct pmx_handler_info {
  const char *id;
  const char *event_name;
  pmx_handler_fn fn;
  void *config;
} pmx_handler_info_t;

/* Lists (handler, event) pairs whose event name starts with `prefix` (segment-wise, as
 * :telemetry.list_handlers/1: "http" matches "http.request" but not "https"; "" or NULL matches
 * all). Writes up to `cap` entries to `out` and the total number of matches to *n_total, so a
 * caller can size a second call. Takes the bus mutex. Returns PMX_OK or PMX_EINVAL. */
PMX_EXTERN int pmx_bus_list_handlers(pmx_bus_t *bus, const char *prefix, pmx_handler_info_t *out,
                                     size_t cap, size_t *n_total);

/* ---- Spans (:telemetry.span) ------------------------------------------------------------------
 * A span is three events "<prefix>.start", "<prefix>.stop" and "<prefix>.exception".
 *   start:     measurements monotonic_time, system_time          + the caller's metadata
 *   stop:      measurements duration, monotonic_time (+ extra)   + the caller's metadata
 *   exception: measurements duration, monotonic_time             + metadata kind, reason, + caller's
 * Times are in the native time unit, nanoseconds: monotonic_time from CLOCK_MONOTONIC,
 * system_time since the Unix epoch (CLOCK_REALTIME), duration = stop - start monotonic time.
 * (Doubles carry nanoseconds exactly up to 2^53 ns, about 104 days; system_time is rounded to
 * about 256 ns.) */
typedef struct pmx_span_events {
  pmx_event_t *start;
  pmx_event_t *stop;
  pmx_event_t *exception;
} pmx_span_events_t;

/* A span in progress; caller-owned, usually on the stack. */
typedef struct pmx_span {
  const pmx_span_events_t *events;
  int64_t start_monotonic_ns;
} pmx_span_t;

/* Resolves the three events of a span prefix. Returns as pmx_bus_event(). */
PMX_EXTERN int pmx_span_events(pmx_bus_t *bus, const char *prefix, pmx_span_events_t *out);

/* Records the start time and emits "<prefix>.start". At most 14 metadata entries are forwarded to
 * start/stop/exception beyond those the span adds. Returns PMX_OK or PMX_EINVAL. */
PMX_EXTERN int pmx_span_start(pmx_span_t *span, const pmx_span_events_t *events,
                              const pmx_meta_t *metadata, size_t n_metadata);
/* Emits "<prefix>.stop" with duration and monotonic_time, then `extra` measurements (at most 14).
 * Returns PMX_OK or PMX_EINVAL. */
PMX_EXTERN int pmx_span_stop(pmx_span_t *span, const pmx_measurement_t *extra, size_t n_extra,
                             const pmx_meta_t *metadata, size_t n_metadata);
/* Emits "<prefix>.exception" with duration, monotonic_time and metadata kind/reason (copied
 * borrowed pointers; may be NULL). Returns PMX_OK or PMX_EINVAL. */
PMX_EXTERN int pmx_span_exception(pmx_span_t *span, const char *kind, const char *reason,
                                  const pmx_meta_t *metadata, size_t n_metadata);

/* Nanoseconds from CLOCK_MONOTONIC: the native time unit. */
PMX_EXTERN int64_t pmx_monotonic_ns(void);

/* ---- Lookup helpers for handler and callback authors (linear search; arrays are small) ---- */

/* Finds measurement `key`; returns true and sets *value if present. */
PMX_EXTERN bool pmx_event_measurement(const pmx_event_data_t *ev, const char *key, double *value);
/* Finds metadata `key`; returns NULL if absent. */
PMX_EXTERN const pmx_meta_t *pmx_event_meta(const pmx_event_data_t *ev, const char *key);

/* ---- Debugging (PromEx.Debug) ----------------------------------------------------------------
 * Attaches a handler with id `id` to `event_names` that prints each event (name, measurements,
 * metadata) as one line to `out` (a FILE *, borrowed; stderr when NULL). Lines are written with a
 * single fputs so concurrent events do not interleave mid-line. Returns as pmx_bus_attach_many. */
PMX_EXTERN int pmx_debug_attach(pmx_bus_t *bus, const char *id, const char *const *event_names,
                                size_t n, void *out);

#ifdef __cplusplus
}
#endif
#endif
