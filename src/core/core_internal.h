/* This file is private to promex's core: the layout of metrics and series, shared by the store
 * (metric_store.c), the event handler (metric_events.c) and the renderer (expo.c).
 *
 * Invariants:
 * - Series live in their metric's arena and their memory is never returned while the registry
 *   lives. A removed series (pmx_metric_remove/reset) is unlinked under the metric mutex, parked
 *   in the metric's `retired` array, and after a grace period (grace.h: every lookup, event update
 *   and render runs inside a reader section) moved to a free list by label capacity, from which
 *   a later series of the same metric takes it. So readers hold pointers without a lock, and
 *   label churn reuses memory instead of growing the arena.
 * - The series table is an open-addressing array of atomic pointers. Lookups are lock-free.
 *   Inserts and growth happen under the metric mutex; growth publishes a new table and keeps the
 *   old one until no reader can still be probing it (checked without waiting at each growth,
 *   grace.h: pmx__grace_quiescent_now; at the latest when the registry dies; the retired tables'
 *   total size is under the current one's). A reader that misses in an old table falls to the
 *   locked path.
 *   Removal deletes by backward shift (no tombstones): a reader racing with it may miss a live
 *   entry, and then finds it on the locked path.
 * - Series of a metric are also chained in creation order (`next`, written under the mutex with
 *   release stores) for rendering. Metrics are chained in definition order the same way. */
#ifndef PMX_CORE_INTERNAL_H
#define PMX_CORE_INTERNAL_H

#include <locale.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"
#include "promex/event.h"
#include "promex/expo.h"
#include "promex/metric.h"

bool pmx__valid_event_name(const char *name);

/* Why an event was skipped for a metric; index into pmx_metric.skipped. */
typedef enum skip_reason {
  PMX__SKIP_MISSING_MEASUREMENT = 0,
  PMX__SKIP_MISSING_TAG,
  PMX__SKIP_LABEL_TOO_LONG,
  PMX__SKIP_INVALID_LABEL,   /* not UTF-8 */
  PMX__SKIP_INVALID_VALUE,   /* NaN, or negative for a counter */
  PMX__SKIP_SERIES_LIMIT,    /* also counted in dropped */
  PMX__SKIP_OUT_OF_MEMORY,   /* the new series could not be allocated */
  PMX__SKIP_EXEMPLAR,        /* recorded, but its exemplar broke a rule (exemplar.c) */
  PMX__SKIP_N
} pmx__skip_reason_t;
extern const char *const pmx__skip_reason_names[PMX__SKIP_N];

/* A bump allocator: series and tables are allocated here and freed all at once (arena.c). Its
 * chunks are numbered (1, 2, ...) in a directory, so that an address inside one can be named by
 * a 32-bit handle: the chunk's number and the offset in 8-byte units. A series links the next
 * one in creation order by handle, 4 bytes where a pointer takes 8. */
typedef struct pmx__arena_chunk {
  struct pmx__arena_chunk *next;
  size_t used, cap;
  uint32_t id; /* its number in the directory */
  _Alignas(16) unsigned char data[];
} pmx__arena_chunk_t;
/* The chunks' data by number (base[id]; base[0] unused). Readers use it without a lock: an
 * entry is written before any handle into its chunk is published, and a full directory is
 * replaced by a larger copy, the old one kept until the arena dies (their total is under the
 * current one's). A reader holding an old directory may meet a handle past its `cap`:
 * pmx__arena_at then answers NULL. */
typedef struct pmx__chunk_dir {
  struct pmx__chunk_dir *retired_next;
  size_t n, cap; /* n: chunks numbered, under the owner's lock; cap (> n) never changes */
  unsigned char *base[];
} pmx__chunk_dir_t;
typedef struct pmx__arena {
  pmx__arena_chunk_t *head;
  size_t next_cap;
  _Atomic(pmx__chunk_dir_t *) dir;
  pmx__chunk_dir_t *retired_dirs;
} pmx__arena_t;
/* Handle layout: 14 bits of chunk number (0 is no handle), 18 bits of offset / 8 (2 MiB). The
 * arena starts no allocation past 1 MiB into a chunk, and a series starts at most a cache line
 * after its allocation, so every series has a handle; an arena has at most 16383 chunks (16 GiB
 * of 1 MiB chunks), past which allocation fails. */
#define PMX__HANDLE_OFFSET_BITS 18
#define PMX__HANDLE_MAX_CHUNKS ((1u << (32 - PMX__HANDLE_OFFSET_BITS)) - 1)
/* Every chunk keeps this many readable bytes past its capacity, so that each allocation is
 * followed by at least that many (the next allocation's or the tail's): a lookup's label
 * comparison reads up to 7 bytes past a series' label capacity (series_key.h). */
#define PMX__ARENA_TAIL 8
void *pmx__arena_alloc(pmx__arena_t *a, size_t size);
/* The handle of `p`, an 8-aligned address inside one of the arena's chunks (0 if it is in none).
 * Fast for the newest chunk, else linear in the number of chunks. Caller holds the owner's lock. */
uint32_t pmx__arena_handle(const pmx__arena_t *a, const void *p);
/* The address handle `h` names in directory `d`; NULL when `d` is older than the handle's chunk.
 * Lock-free; `h` must not be 0. */
static inline void *pmx__arena_at(const pmx__chunk_dir_t *d, uint32_t h) {
  uint32_t id = h >> PMX__HANDLE_OFFSET_BITS;
  if (PMX_UNLIKELY(id >= d->cap)) return NULL;
  return d->base[id] + ((size_t)(h & ((1u << PMX__HANDLE_OFFSET_BITS) - 1)) << 3);
}
void pmx__arena_free(pmx__arena_t *a);

/* Counter/sum/gauge value: small integral increments go to `ival` with one atomic add; everything
 * else (fractions, gauge sets, integral steps of PMX__INT_STEP_MAX or more) to `fbits` as double
 * bits via CAS. The value is ival + fbits. `ival` never wraps: once an integer cell reaches
 * PMX__INT_SPILL_AT the series' PMX__INT_CLOSED flag sends every later increment to `fbits` (see
 * pmx__counter_add), so the cells stop growing and the value only ever goes up. */
typedef struct pmx__scalar {
  _Atomic int64_t ival;
  _Atomic uint64_t fbits;
} pmx__scalar_t;

/* Integral counter steps below this take the integer fast path; larger ones the double path. */
#define PMX__INT_STEP_MAX ((int64_t)1 << 40)
/* An integer cell at or past this closes the integer path of its series: a cell never exceeds
 * 2^59 plus in-flight steps (< 2^40 each, one per thread), far below 2^63. Readers add the cells
 * of a sharded counter (up to 128) in 128-bit arithmetic, so their sum cannot overflow. */
#define PMX__INT_SPILL_AT ((int64_t)1 << 59)

/* One histogram shard, with two halves ("hot" and "cold"). `started` counts observations begun
 * in this shard (low 63 bits) and its top bit says which half is hot. An observation increments
 * `started` (learning the hot half), adds to that half's sum, then (release) to its bucket: the
 * half's bucket total is the number of observations completed in it.
 * A snapshot (readers serialised by the metric's snap_mu) flips the top bit, so new observations
 * go to the other half; waits until the old half's bucket total reaches the started count it
 * read (every observation that picked that half has finished); reads it (an exact state: count
 * == bucket total, sum of exactly those observations); then adds it into the new hot half and
 * zeroes it. Observers never wait and take no lock: still three atomic updates each.
 * Half h is cells[h * (n_buckets + 2) ...]: [0] sum as double bits, [1 + i] bucket i (not
 * cumulative), [1 + n_buckets] the +Inf bucket. */
typedef struct pmx__hist {
  _Atomic uint64_t started;
  _Atomic uint64_t cells[];
} pmx__hist_t;
#define PMX__HIST_HOT_BIT ((uint64_t)1 << 63)

/* 16 bytes before the value: this header is part of every series, so it is kept small (a
 * labelled counter series is this header, its 16-byte value and its label bytes; 40 bytes for
 * labels of up to 8 bytes). What a series needs beyond it is derived:
 * - no back link: removal finds a series' predecessor by walking the chain (metric_store.c:
 *   series_before), O(position) under the metric mutex;
 * - `next` is a 32-bit arena handle (pmx__arena_handle), decoded with one load from the arena's
 *   directory (pmx__series_next), which only chain walks (renders, removals) pay;
 * - the label capacity's class and the "integer path closed", "owned cells" and "one cell" flags
 *   are the top seven bits of the hash word. */
struct pmx_series {
  pmx_metric_t *metric;
  /* The next series in creation order while linked (readers walk it without a lock); 0 at the
   * end. A removed series keeps it until its grace period is over (a render standing on it walks
   * on to live series); on the metric's free list it then links the free series of its class
   * (under the metric mutex). */
  _Atomic uint32_t next;
  /* Low 25 bits: hash of the label values (PMX__HASH_MASK; table home slot and first comparison),
   * written when the series is created, like bits 25-30. Bits 25-28 (PMX__LABEL_CLASS_SHIFT): the
   * class of the label capacity, log2 of its bytes (0: no labels), which bounds how far a lookup
   * may read label bytes (series_key.h) and names the free list the series returns to. Bits 29
   * and 30 let the fast paths of an increment (pmx__counter_step_fast) decide from this word
   * alone, without loading the metric: bit 30 (PMX__OWNED_CELLS) is a copy of the metric's
   * owned_cells, bit 29 (PMX__ONE_CELL) marks a counter whose integer part is the one cell of its
   * pmx__scalar_t (labelled counters and sums, pmx_metric.one_cell). Top bit (PMX__INT_CLOSED), counters: set
   * once an integer cell reaches PMX__INT_SPILL_AT; read by every integral add (this header line
   * is read-mostly, unlike the value lines of a sharded counter). */
  _Atomic uint32_t hash;
  /* A pmx__scalar_t or (distributions) a pmx__hist_t; see pmx__scalar()/pmx__hist(). The label
   * values follow at the metric's labels_offset (pmx__series_labels()). */
  _Alignas(8) unsigned char value[];
};
#define PMX__HASH_MASK 0x01ffffffu
#define PMX__LABEL_CLASS_SHIFT 25
#define PMX__LABEL_CLASS_MASK 0x1e000000u
#define PMX__ONE_CELL 0x20000000u
#define PMX__OWNED_CELLS 0x40000000u
#define PMX__INT_CLOSED 0x80000000u
/* The header is two fifths of a labelled counter series (memory_per_series in bench/README.md). */
_Static_assert(offsetof(struct pmx_series, value) == 16, "series header is 16 bytes");
static inline uint32_t pmx__series_hash(const pmx_series_t *s) {
  return atomic_load_explicit(&s->hash, memory_order_relaxed) & PMX__HASH_MASK;
}


/* The latest exemplar of a counter series or histogram bucket (exemplar.c), a seqlock: `seq` is
 * odd while a writer fills the slot. Writers enter with a compare-and-swap from an even value and
 * skip when it fails (someone else is writing the same slot: their exemplar is as good); readers
 * copy and retry if `seq` moved. Every field is atomic, so a torn copy is discarded, never UB. */
#define PMX__EXEMPLAR_WORDS ((PMX_MAX_EXEMPLAR_VALUE + 7) / 8)
typedef struct pmx__exemplar {
  _Atomic uint32_t seq;
  _Atomic uint32_t len;        /* bytes of the value; 0: no exemplar yet */
  _Atomic uint64_t value;      /* double bits */
  _Atomic int64_t ts_ms;       /* wall clock, milliseconds since the epoch */
  _Atomic uint64_t text[PMX__EXEMPLAR_WORDS];
} pmx__exemplar_t;
/* A consistent copy of a slot, for rendering. */
typedef struct pmx__exemplar_copy {
  size_t len;
  double value;
  int64_t ts_ms;
  char text[PMX__EXEMPLAR_WORDS * 8 + 1]; /* NUL-terminated */
} pmx__exemplar_copy_t;
/* Slots of a series: one for a counter, n_buckets + 1 for a distribution; NULL without exemplars.
 * They follow the value part of the series (at m->ex_offset; see series_size). */
static inline pmx__exemplar_t *pmx__exemplars(const pmx_series_t *s);
/* Whether `text` (len bytes) may be the value of the family's exemplar label. */
bool pmx__exemplar_valid(const pmx_metric_t *m, const char *text, size_t len);
void pmx__exemplar_store(pmx__exemplar_t *slot, const char *text, size_t len, double value);
bool pmx__exemplar_read(const pmx__exemplar_t *slot, pmx__exemplar_copy_t *out);
/* Index of the bucket `v` falls in (n_buckets for +Inf). */
size_t pmx__bucket_index(const pmx_metric_t *m, double v);

static inline pmx__scalar_t *pmx__scalar(const pmx_series_t *s) { return (pmx__scalar_t *)(void *)s->value; }
/* Distribution series are cache-line aligned: the header line, then PMX__HIST_SHARDS aggregates
 * of m->hist_stride bytes each (line-aligned), then the labels. Lookups read header and labels,
 * which no observation writes; an observation goes to the shard of the CPU it runs on, so two
 * cores observing into one series rarely touch the same lines. Renders add the shards up. */
#define PMX__HIST_SHARDS 2

typedef struct pmx__table {
  struct pmx__table *retired_next; /* on the metric's retired_tables list once replaced */
  size_t mask;
  _Atomic(pmx_series_t *) slots[];
} pmx__table_t;

struct pmx_metric {
  pmx_registry_t *reg;
  _Atomic(pmx_metric_t *) next; /* definition order */
  pmx_metric_kind_t kind;
  bool sum_as_gauge;
  /* Unlabelled counters and sums: the single series is usually one hot counter bumped from every
   * thread, so its integral part is split over counter_lines cache lines, one per thread
   * (a thread always uses the same shard); reads add them up. */
  bool sharded;
  unsigned counter_lines; /* sharded: value lines (counter_cells.h) */
  /* Sharded series only: the first threads own a cell each and add with plain stores
   * (counter_cells.h); in multi-process mode one thread per process, by its worker slot. */
  bool owned_cells;
  bool one_cell; /* a counter (or counting sum) that is not sharded: its series set PMX__ONE_CELL */
  /* An unlabelled counter without keep, drop or exemplars: its event handler only increments
   * the single series (metric_events.c). */
  bool counts_events_only;
  char *name;          /* full Prometheus name */
  char *help;
  char *event_name;    /* NULL if unknown */
  char *measurement;   /* NULL with `measure` */
  pmx_measure_fn measure;
  void *measure_ctx;
  size_t n_tags;
  char *tags[PMX_MAX_TAGS];
  pmx_tag_values_fn tag_values;
  void *tag_values_ctx;
  /* Families of one registry with the same tags, tag_values and tag_values_ctx share a tag group,
   * named by its first family: within one emit they share label values (emit_keys.h). Families
   * are freed only with their registry, so a live family never names a freed one. NULL: no tags. */
  const pmx_metric_t *tag_group;
  pmx_predicate_fn keep, drop;
  void *predicate_ctx;
  double unit_mul;     /* unit conversion: value * unit_mul / unit_div (exact powers of ten, */
  double unit_div;     /* so ns -> s divides by 1e9 rather than multiplying by 1e-9) */
  size_t n_buckets;
  size_t hist_stride;  /* bytes per histogram shard, a multiple of PMX_CACHELINE */
  double *buckets;
  bool negative_buckets; /* a bound below 0: OpenMetrics renders no _sum (nor _count) */
  /* Set once a negative value is observed into a histogram without a negative bound: its sum may
   * then go down, so OpenMetrics renders no _sum (nor _count) for the family from then on. */
  atomic_bool negative_observed;
  char **le_text;      /* per bucket, 0.0.4 form */
  char **le_om;        /* per bucket, OpenMetrics canonical form */
  char *exemplar_key;  /* metadata key and exemplar label name; NULL: no exemplars */
  size_t ex_offset;    /* where a series' exemplar slots start (bytes from the series) */
  size_t ex_key_runes; /* characters of exemplar_key */
  size_t max_series;
  /* Native histogram settings (native_hist.h); NULL unless defined with `native`. A native-only
   * family has n_buckets 0 and its classic part is never written. */
  struct pmx__native_def *native;
  size_t labels_offset; /* where a series' label values start (bytes from the series) */
  /* Multi-process mode (shared_store.c): a pmx_shared_gauge_t. Modes from
   * PMX_SHARED_GAUGE_SUM on give each process its own cell in every series of the metric
   * (pmx__gauge_cell), aggregated when read. 0 everywhere else. */
  unsigned char gauge_mode;

  pthread_mutex_t mu;  /* series creation */
  pthread_mutex_t snap_mu; /* histogram snapshots (readers only; observers never take it) */
  pmx__arena_t arena;
  _Atomic(pmx__table_t *) table;
  /* Tables replaced by growth (under mu): a reader may still probe them until a grace period
   * has passed; freed then (metric_store.c: free_retired_tables). */
  pmx__table_t *retired_tables;
  _Atomic(pmx_series_t *) head; /* first series; readers load it with acquire */
  pmx_series_t *tail;
  _Atomic(pmx_series_t *) single; /* the only series of an unlabelled metric, once created */
  atomic_size_t n_series;
  /* Removed series (under mu): waiting for a grace period in `retired` (an array from the heap,
   * since their own `next` must stay intact meanwhile), then on a free list by label capacity
   * class linked through `next`. Never used in multi-process mode (removed series are not reused). */
  pmx_series_t **retired;
  size_t n_retired, retired_cap;
  pmx_series_t *free_series[16];
  _Atomic uint64_t dropped;
  _Atomic uint64_t skipped[PMX__SKIP_N];

  pthread_mutex_t attach_mu; /* guards bus and handler_id; never taken on the emit path */
  pmx_bus_t *bus;      /* attached to, or NULL */
  char *handler_id;
};

/* A set of rendered names (name_set.c). `owner` is the family that occupies the name (a metric's
 * name, or a registry-owned string for the registry's own families), `owner_type` its exposed
 * type; both live as long as the registry. */
typedef struct pmx__name_entry {
  char *name;
  const char *owner;
  const char *owner_type;
} pmx__name_entry_t;
typedef struct pmx__name_set {
  pmx__name_entry_t *slots;
  size_t cap, n;
} pmx__name_set_t;
const pmx__name_entry_t *pmx__names_find(const pmx__name_set_t *set, const char *name, size_t len);
int pmx__names_add(pmx__name_set_t *set, const char *name, size_t len, const char *owner,
                   const char *owner_type);
void pmx__names_free(pmx__name_set_t *set);

struct pmx_registry {
  pthread_mutex_t mu;  /* definitions */
  _Atomic(pmx_metric_t *) head;
  pmx_metric_t *tail;
  size_t default_max_series;
  char *own_prefix;
  bool no_own_metrics;
  pmx__name_set_t names; /* every rendered name, under mu (see pmx__family_names) */
  char *own_names[3];    /* names of the own families, the owners of their entries in `names` */
  _Atomic size_t render_hint; /* bytes its metrics rendered last time (expo.c sizes buffers) */
};
/* The families the registry renders itself (expo.c: render_own), by suffix of the own prefix. */
typedef struct pmx__own_family {
  const char *suffix, *type, *help;
} pmx__own_family_t;
extern const pmx__own_family_t pmx__own_families[3];

/* The exposed type of a family: "counter", "gauge" or "histogram". */
static inline const char *pmx__type_name(pmx_metric_kind_t kind, bool sum_as_gauge) {
  switch (kind) {
    case PMX_COUNTER:
      return "counter";
    case PMX_SUM:
      return sum_as_gauge ? "gauge" : "counter";
    case PMX_LAST_VALUE:
      return "gauge";
    default:
      return "histogram";
  }
}

/* Multi-process mode: this process's cell of a gauge series with per-process cells. */
pmx__scalar_t *pmx__shm_gauge_cell(const pmx_series_t *s);
#define PMX__GAUGE_CELLS_FROM 2 /* PMX_SHARED_GAUGE_SUM (include/promex/shared.h) */
/* The cell a gauge update writes: the series' value, or (multi-process mode) this process's. */
static inline pmx__scalar_t *pmx__gauge_cell(const pmx_series_t *s) {
  if (PMX_UNLIKELY(s->metric->gauge_mode >= PMX__GAUGE_CELLS_FROM)) return pmx__shm_gauge_cell(s);
  return pmx__scalar(s);
}

static inline pmx__hist_t *pmx__hist(const pmx_series_t *s, size_t shard) {
  return (pmx__hist_t *)(void *)((unsigned char *)(uintptr_t)s + PMX_CACHELINE +
                                 shard * s->metric->hist_stride);
}

/* The series' n_tags NUL-terminated label values, back to back. */
static inline const char *pmx__series_labels(const pmx_series_t *s) {
  return (const char *)s + s->metric->labels_offset;
}

/* The series after `s` in creation order, NULL at the end. The handle is loaded with acquire
 * ordering, which makes the next series' contents visible and also the arena directory entry
 * that was written before it was linked, so the directory loaded after it always knows it. */
static inline pmx_series_t *pmx__series_next(const pmx_series_t *s) {
  uint32_t e = atomic_load_explicit(&s->next, memory_order_acquire);
  if (e == 0) return NULL;
  return pmx__arena_at(atomic_load_explicit(&s->metric->arena.dir, memory_order_acquire), e);
}

static inline pmx__exemplar_t *pmx__exemplars(const pmx_series_t *s) {
  const pmx_metric_t *m = s->metric;
  if (m->exemplar_key == NULL) return NULL;
  return (pmx__exemplar_t *)(void *)((unsigned char *)(uintptr_t)s + m->ex_offset);
}

/* Outcome of a series lookup/creation: found or created, or why not (one value per cause, so a
 * caller can neither mistake a refusal for success nor lose one uncounted). */
typedef enum pmx__series_result {
  PMX__SERIES_OK = 0,
  PMX__SERIES_LABEL_TOO_LONG,  /* a value is longer than PMX_MAX_LABEL_VALUE */
  PMX__SERIES_INVALID_LABEL,   /* a value is not valid UTF-8 */
  PMX__SERIES_AT_LIMIT,        /* the family is at max_series (counted in dropped) */
  PMX__SERIES_NO_MEMORY
} pmx__series_result_t;
/* The skip reason an event handler counts for a result other than PMX__SERIES_OK. */
pmx__skip_reason_t pmx__series_skip_reason(pmx__series_result_t r);

/* Counter/sum (not gauge) updates and reads, aware of sharded series (see pmx_metric.sharded). */
void pmx__counter_add(pmx_series_t *s, double v);
void pmx__counter_inc(pmx_series_t *s);
double pmx__series_scalar(const pmx_series_t *s);
void pmx__scalar_set(pmx__scalar_t *s, double v);
void pmx__gauge_add(pmx__scalar_t *s, double v);
void pmx__hist_observe(pmx_series_t *s, double v);
/* Exact snapshot: cumulative[0..n_buckets] (last = +Inf = count). Takes the metric's snap_mu. */
void pmx__hist_snapshot(const pmx_series_t *s, uint64_t *cumulative, uint64_t *count, double *sum);
/* The protobuf exposition (expo_proto.c); regs validated by the caller. */
int pmx__render_protobuf(pmx_registry_t *const *regs, size_t n, pmx_buf_t *out);
void pmx__metric_event_handler(const pmx_event_data_t *ev, void *config);

/* Number formatting, independent of the process locale. Writes at most 32 bytes + NUL; returns
 * the length. */
size_t pmx__fmt_double(char *buf, double v);
/* The non-integral doubles with 1e-3 <= |v| < 2^53, exactly and without printf (shortest_double.c);
 * returns 0 for any other value. */
size_t pmx__fmt_shortest(char *buf, double v);
/* The printf-and-strtod search pmx__fmt_double falls back to, for every value. */
size_t pmx__fmt_double_printf(char *buf, double v);
size_t pmx__fmt_u64(char *buf, uint64_t v);
size_t pmx__fmt_i64(char *buf, int64_t v);

/* Name rules. Returns NULL if valid, else a static description of the rule broken. */
const char *pmx__metric_name_rule(const char *name);
const char *pmx__label_name_rule(const char *name);
bool pmx__valid_utf8(const char *s, size_t len);
/* HELP text rule (UTF-8, no control characters but tab and newline, at most PMX_MAX_HELP bytes).
 * NULL if valid, else the rule broken. */
const char *pmx__help_rule(const char *help);
/* Length of the OpenMetrics family name of a metric of this name and exposed type ("counter"
 * families drop a trailing "_total"). */
size_t pmx__om_family_len(const char *name, bool counter);

/* The names a family occupies in either format (family names, every sample name and the ones
 * OpenMetrics reserves, such as _created); two families may not share any. Calls fn for each;
 * stops and returns fn's first non-zero result. */
typedef int (*pmx__name_fn)(void *ctx, const char *name, size_t len);
int pmx__family_names(const char *name, const char *type, pmx__name_fn fn, void *ctx);

#endif
