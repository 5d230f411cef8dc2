/* The event bus: named events, handler attach/detach, lock-free emit.
 *
 * Invariants:
 * - Each event holds an immutable snapshot (array of fn/config) of its handlers. Emit reads the
 *   snapshot without a lock; attach/detach build a new snapshot under the bus mutex, publish it,
 *   then wait for a grace period before freeing the old one. That wait is also what guarantees
 *   that a detached handler is never called after detach returns.
 * - Grace periods are the metric store's (grace.h): pmx_emit runs its handlers inside one reader
 *   section of that process-wide domain, which also covers the series lookups and updates of
 *   the metric handlers it calls (theirs nest for the cost of a counter), so an emit enters one
 *   section, not two. Emitting threads update their own cache-line padded counter with a plain
 *   store where the kernel offers membarrier(PRIVATE_EXPEDITED); writers pay with membarrier().
 *   Consequence: pmx_emit is not async-signal-safe.
 * - Event handles are never freed before the bus: instrumented code may cache them forever. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_internal.h"
#include "core/emit_keys.h"
#include "core/grace.h"
#include "internal.h"
#include "promex/event.h"

#define EVENT_BUCKETS 256
#define MAX_EVENT_NAME 255
#define MAX_NESTED_EMITS 8

typedef struct snapshot {
  size_t n;
  struct {
    /* Atomic only so that a detach that cannot allocate a new snapshot can disable its handler's
     * items in place (disable_in_place()); a relaxed load is the same plain load on every target,
     * so emit pays nothing for it. */
    _Atomic(pmx_handler_fn) fn;
    void *config;
  } items[];
} snapshot_t;

struct pmx_event {
  _Atomic(snapshot_t *) snap; /* NULL while no handler is attached */
  pmx_bus_t *bus;
  struct pmx_event *hash_next;
  char name[];
};

typedef struct handler {
  char *id;
  pmx_handler_fn fn;
  void *config;
  size_t n_events;
  pmx_event_t **events;
  struct handler *next; /* attach order */
} handler_t;

struct pmx_bus {
  /* writer_mu orders attach/detach and is held across their grace period; mu guards the event
   * table and handler list and is never held while waiting, so handlers may resolve events. */
  pthread_mutex_t writer_mu;
  pthread_mutex_t mu;
  pmx_event_t *buckets[EVENT_BUCKETS];
  handler_t *handlers;
};

/* Which buses this thread is currently emitting on (to refuse attach/detach from inside a
 * handler, which would wait for itself forever). */
static _Thread_local const pmx_bus_t *emitting[MAX_NESTED_EMITS] PMX_TLS_FAST;
static _Thread_local unsigned emit_depth PMX_TLS_FAST;

static bool inside_handler_of(const pmx_bus_t *bus) {
  unsigned n = emit_depth < MAX_NESTED_EMITS ? emit_depth : MAX_NESTED_EMITS;
  for (unsigned i = 0; i < n; i++) {
    if (emitting[i] == bus) return true;
  }
  return false;
}

bool pmx__inside_handler(const pmx_bus_t *bus) { return inside_handler_of(bus); }

void pmx__bus_fork_lock(pmx_bus_t *bus) { pthread_mutex_lock(&bus->mu); }
void pmx__bus_fork_unlock(pmx_bus_t *bus) { pthread_mutex_unlock(&bus->mu); }

static uint64_t name_hash(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

bool pmx__valid_event_name(const char *name) {
  if (name == NULL || *name == '\0') return false;
  size_t len = 0;
  bool seg_start = true;
  for (const char *p = name; *p; p++, len++) {
    char c = *p;
    if (c == '.') {
      if (seg_start) return false; /* empty segment */
      seg_start = true;
      continue;
    }
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
    seg_start = false;
  }
  return !seg_start && len <= MAX_EVENT_NAME;
}

int pmx_bus_new(pmx_bus_t **out) {
  if (out == NULL) return PMX_EINVAL;
  *out = NULL;
  pmx_bus_t *bus = pmx__calloc(1, sizeof *bus);
  if (bus == NULL) return PMX_ENOMEM;
  if (pthread_mutex_init(&bus->mu, NULL) != 0) {
    pmx__free(bus);
    return PMX_ENOMEM;
  }
  if (pthread_mutex_init(&bus->writer_mu, NULL) != 0) {
    pthread_mutex_destroy(&bus->mu);
    pmx__free(bus);
    return PMX_ENOMEM;
  }
  *out = bus;
  return PMX_OK;
}

static void handler_free(handler_t *h) {
  if (h == NULL) return;
  pmx__free(h->id);
  pmx__free(h->events);
  pmx__free(h);
}

void pmx_bus_destroy(pmx_bus_t *bus) {
  if (bus == NULL) return;
  for (size_t i = 0; i < EVENT_BUCKETS; i++) {
    pmx_event_t *ev = bus->buckets[i];
    while (ev != NULL) {
      pmx_event_t *next = ev->hash_next;
      pmx__free(atomic_load(&ev->snap));
      pmx__free(ev);
      ev = next;
    }
  }
  for (handler_t *h = bus->handlers; h != NULL;) {
    handler_t *next = h->next;
    handler_free(h);
    h = next;
  }
  pthread_mutex_destroy(&bus->writer_mu);
  pthread_mutex_destroy(&bus->mu);
  pmx__free(bus);
}

/* Finds or creates an event; bus->mu must be held. */
static int event_get_locked(pmx_bus_t *bus, const char *name, pmx_event_t **out) {
  size_t b = name_hash(name) % EVENT_BUCKETS;
  for (pmx_event_t *ev = bus->buckets[b]; ev != NULL; ev = ev->hash_next) {
    if (strcmp(ev->name, name) == 0) {
      *out = ev;
      return PMX_OK;
    }
  }
  size_t len = strlen(name);
  pmx_event_t *ev = pmx__calloc(1, sizeof *ev + len + 1);
  if (ev == NULL) return PMX_ENOMEM;
  memcpy(ev->name, name, len + 1);
  ev->bus = bus;
  atomic_init(&ev->snap, NULL);
  ev->hash_next = bus->buckets[b];
  bus->buckets[b] = ev;
  *out = ev;
  return PMX_OK;
}

int pmx_bus_event(pmx_bus_t *bus, const char *name, pmx_event_t **out) {
  if (out != NULL) *out = NULL;
  if (bus == NULL || out == NULL || !pmx__valid_event_name(name)) return PMX_EINVAL;
  pthread_mutex_lock(&bus->mu);
  int rc = event_get_locked(bus, name, out);
  pthread_mutex_unlock(&bus->mu);
  return rc;
}

const char *pmx_event_name(const pmx_event_t *ev) { return ev ? ev->name : NULL; }

/* Builds the snapshot `ev` would have with the handlers in bus->handlers, skipping `skip`. */
static snapshot_t *build_snapshot(pmx_bus_t *bus, pmx_event_t *ev, const handler_t *skip) {
  size_t n = 0;
  for (handler_t *h = bus->handlers; h != NULL; h = h->next) {
    if (h == skip) continue;
    for (size_t i = 0; i < h->n_events; i++) n += h->events[i] == ev;
  }
  snapshot_t *s = pmx__malloc(sizeof *s + n * sizeof s->items[0]);
  if (s == NULL) return NULL;
  s->n = 0;
  for (handler_t *h = bus->handlers; h != NULL; h = h->next) {
    if (h == skip) continue;
    for (size_t i = 0; i < h->n_events; i++) {
      if (h->events[i] == ev) {
        atomic_init(&s->items[s->n].fn, h->fn);
        s->items[s->n].config = h->config;
        s->n++;
      }
    }
  }
  return s;
}

/* Publishes new snapshots for `h`'s events (h linked in, or being removed when `removing`) and
 * returns the replaced ones in *old (free them after a grace period: see retire()). bus->mu
 * held. All-or-nothing: every new snapshot is built before any is published. */
static int publish(pmx_bus_t *bus, handler_t *h, bool removing, snapshot_t ***old_out) {
  snapshot_t **fresh = pmx__calloc(h->n_events, sizeof *fresh);
  if (fresh == NULL) return PMX_ENOMEM;
  for (size_t i = 0; i < h->n_events; i++) {
    bool dup = false; /* the same event listed twice: build it once */
    for (size_t j = 0; j < i; j++) dup |= h->events[j] == h->events[i];
    if (dup) continue;
    fresh[i] = build_snapshot(bus, h->events[i], removing ? h : NULL);
    if (fresh[i] == NULL) {
      for (size_t j = 0; j < i; j++) pmx__free(fresh[j]);
      pmx__free(fresh);
      return PMX_ENOMEM;
    }
  }
  snapshot_t **old = fresh; /* reuse the array to remember the old snapshots */
  for (size_t i = 0; i < h->n_events; i++) {
    if (fresh[i] == NULL) continue;
    snapshot_t *s = fresh[i];
    if (s->n == 0) {
      pmx__free(s);
      s = NULL;
    }
    old[i] = atomic_exchange_explicit(&h->events[i]->snap, s, memory_order_seq_cst);
  }
  *old_out = old;
  return PMX_OK;
}

/* Waits out the grace period (every emit that may have loaded one of the snapshots has ended;
 * the caller's own section aside: attach and detach refuse to run inside a handler of this
 * bus, so the caller holds none of its snapshots), then frees the snapshots publish() replaced.
 * Called WITHOUT bus->mu: a handler running on another thread may need that mutex
 * (pmx_bus_event, pmx_emit_name) to finish, and the grace period waits for it to finish. */
static void retire(snapshot_t **old, size_t n) {
  pmx__synchronize();
  for (size_t i = 0; i < n; i++) pmx__free(old[i]);
  pmx__free(old);
}

static handler_t *find_handler(pmx_bus_t *bus, const char *id, handler_t ***link) {
  handler_t **pp = &bus->handlers;
  for (; *pp != NULL; pp = &(*pp)->next) {
    if (strcmp((*pp)->id, id) == 0) {
      if (link) *link = pp;
      return *pp;
    }
  }
  if (link) *link = pp;
  return NULL;
}

int pmx_bus_attach_many(pmx_bus_t *bus, const char *id, const char *const *event_names, size_t n,
                        pmx_handler_fn fn, void *config) {
  if (bus == NULL || id == NULL || *id == '\0' || fn == NULL || n == 0 || event_names == NULL) {
    return PMX_EINVAL;
  }
  for (size_t i = 0; i < n; i++) {
    if (!pmx__valid_event_name(event_names[i])) return PMX_EINVAL;
  }
  if (inside_handler_of(bus)) return PMX_EBUSY;

  handler_t *h = pmx__calloc(1, sizeof *h);
  if (h == NULL) return PMX_ENOMEM;
  h->id = pmx__strdup(id);
  h->events = pmx__calloc(n, sizeof *h->events);
  if (h->id == NULL || h->events == NULL) {
    handler_free(h);
    return PMX_ENOMEM;
  }
  h->fn = fn;
  h->config = config;
  h->n_events = n;

  pthread_mutex_lock(&bus->writer_mu);
  pthread_mutex_lock(&bus->mu);
  handler_t **tail;
  snapshot_t **old = NULL;
  int rc = PMX_OK;
  if (find_handler(bus, id, &tail) != NULL) rc = PMX_EEXIST;
  /* Resolving may create events; an event created here and left without handlers is harmless. */
  for (size_t i = 0; rc == PMX_OK && i < n; i++) rc = event_get_locked(bus, event_names[i], &h->events[i]);
  if (rc == PMX_OK) {
    *tail = h; /* appended: attach order is call order */
    rc = publish(bus, h, false, &old);
    if (rc != PMX_OK) *tail = NULL;
  }
  pthread_mutex_unlock(&bus->mu);
  if (rc == PMX_OK) retire(old, n);
  pthread_mutex_unlock(&bus->writer_mu);
  if (rc != PMX_OK) handler_free(h);
  return rc;
}

int pmx_bus_attach(pmx_bus_t *bus, const char *id, const char *event_name, pmx_handler_fn fn,
                   void *config) {
  return pmx_bus_attach_many(bus, id, &event_name, 1, fn, config);
}

static void disabled_handler(const pmx_event_data_t *ev, void *config) {
  (void)ev;
  (void)config;
}

/* Detach without allocating (out of memory for new snapshots): h's items in the published
 * snapshots call a no-op from now on; the next attach or detach on those events rebuilds them
 * without h. Items with the same fn and config are interchangeable, so disabling the first ones
 * that match is exact. bus->mu held. */
static void disable_in_place(handler_t *h) {
  for (size_t i = 0; i < h->n_events; i++) {
    snapshot_t *s = atomic_load_explicit(&h->events[i]->snap, memory_order_relaxed);
    for (size_t j = 0; s != NULL && j < s->n; j++) {
      if (atomic_load_explicit(&s->items[j].fn, memory_order_relaxed) == h->fn &&
          s->items[j].config == h->config) {
        atomic_store_explicit(&s->items[j].fn, disabled_handler, memory_order_seq_cst);
        break; /* one item per listing of the event in h */
      }
    }
  }
}

int pmx_bus_detach(pmx_bus_t *bus, const char *id) {
  if (bus == NULL || id == NULL) return PMX_EINVAL;
  if (inside_handler_of(bus)) return PMX_EBUSY;
  pthread_mutex_lock(&bus->writer_mu);
  pthread_mutex_lock(&bus->mu);
  handler_t **link;
  handler_t *h = find_handler(bus, id, &link);
  snapshot_t **old = NULL;
  int rc = PMX_ENOENT;
  bool in_place = false;
  if (h != NULL) {
    rc = publish(bus, h, true, &old);
    /* A detach must not fail for want of memory (destroy paths rely on it). */
    if (rc == PMX_ENOMEM) {
      disable_in_place(h);
      in_place = true;
      rc = PMX_OK;
    }
    if (rc == PMX_OK) *link = h->next;
  }
  pthread_mutex_unlock(&bus->mu);
  if (rc == PMX_OK) {
    if (in_place) pmx__synchronize(); /* the grace period, without snapshots to free */
    else retire(old, h->n_events); /* after this, no thread is running h */
    handler_free(h);
  }
  pthread_mutex_unlock(&bus->writer_mu);
  return rc;
}

_Thread_local pmx__emit_keys_t *pmx__emit_keys PMX_TLS_FAST;

/* Several handlers: metric handlers with the same tags share their label values through `keys`
 * (emit_keys.h). Out of line, so that the emit of an event with one handler keeps a small frame. */
__attribute__((noinline)) static void run_handlers_sharing_keys(const snapshot_t *s,
                                                                const pmx_event_data_t *data) {
  pmx__emit_keys_t keys;
  keys.data = data;
  keys.group = NULL;
  pmx__emit_keys_t *outer = pmx__emit_keys;
  pmx__emit_keys = &keys;
  for (size_t i = 0; i < s->n; i++) {
    atomic_load_explicit(&s->items[i].fn, memory_order_relaxed)(data, s->items[i].config);
  }
  pmx__emit_keys = outer;
}

int pmx_emit(const pmx_event_t *ev, const pmx_measurement_t *measurements, size_t n_measurements,
             const pmx_meta_t *metadata, size_t n_metadata) {
  if (PMX_UNLIKELY(ev == NULL || (measurements == NULL && n_measurements != 0) ||
                   (metadata == NULL && n_metadata != 0))) {
    return PMX_EINVAL;
  }
  /* Fast path: nobody listens. Reading NULL needs no protection. */
  if (atomic_load_explicit(&ev->snap, memory_order_relaxed) == NULL) return 0;

  pmx_bus_t *bus = ev->bus;
  pmx__read_t rd = pmx__read_begin();
  /* seq_cst: ordered after the section's counter update on the shared-slot path too (a plain
   * load on x86). */
  const snapshot_t *s = atomic_load_explicit(&ev->snap, memory_order_seq_cst);
  int ran = 0;
  if (s != NULL) {
    pmx_event_data_t data = {ev, measurements, n_measurements, metadata, n_metadata};
    unsigned depth = emit_depth;
    if (depth < MAX_NESTED_EMITS) emitting[depth] = bus;
    emit_depth = depth + 1;
    if (PMX_LIKELY(s->n == 1)) {
      atomic_load_explicit(&s->items[0].fn, memory_order_relaxed)(&data, s->items[0].config);
    } else {
      run_handlers_sharing_keys(s, &data);
    }
    emit_depth = depth;
    ran = (int)s->n;
  }
  pmx__read_end(rd);
  return ran;
}

int pmx_emit_name(pmx_bus_t *bus, const char *name, const pmx_measurement_t *measurements,
                  size_t n_measurements, const pmx_meta_t *metadata, size_t n_metadata) {
  pmx_event_t *ev;
  int rc = pmx_bus_event(bus, name, &ev);
  if (rc != PMX_OK) return rc;
  return pmx_emit(ev, measurements, n_measurements, metadata, n_metadata);
}

/* Segment-wise prefix match: "http" matches "http" and "http.x", not "https". */
static bool prefix_matches(const char *prefix, const char *name) {
  if (prefix == NULL || *prefix == '\0') return true;
  size_t n = strlen(prefix);
  return strncmp(prefix, name, n) == 0 && (name[n] == '\0' || name[n] == '.');
}

int pmx_bus_list_handlers(pmx_bus_t *bus, const char *prefix, pmx_handler_info_t *out, size_t cap,
                          size_t *n_total) {
  if (bus == NULL || n_total == NULL || (out == NULL && cap != 0)) return PMX_EINVAL;
  size_t n = 0;
  pthread_mutex_lock(&bus->mu);
  for (handler_t *h = bus->handlers; h != NULL; h = h->next) {
    for (size_t i = 0; i < h->n_events; i++) {
      if (!prefix_matches(prefix, h->events[i]->name)) continue;
      if (n < cap) out[n] = (pmx_handler_info_t){h->id, h->events[i]->name, h->fn, h->config};
      n++;
    }
  }
  pthread_mutex_unlock(&bus->mu);
  *n_total = n;
  return PMX_OK;
}
