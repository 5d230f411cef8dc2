/* The key of a series lookup (private to core): label values measured, hashed and packed once,
 * then compared against the label bytes stored in a series. metric_store.c uses it; it is a
 * header so that the unit tests can reach the comparison directly. */
#ifndef PMX_CORE_SERIES_KEY_H
#define PMX_CORE_SERIES_KEY_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/core_internal.h"

#define PMX__KEY_MUL 0x9fb21c651e98df25ull
#define PMX__KEY_FINAL_MUL 0xd6e8feb86659fd93ull

/* Like the comparison that uses it, hidden from ThreadSanitizer (pmx__key_labels_equal). */
PMX_NO_SANITIZE_THREAD static inline uint64_t pmx__key_load_word(const void *p) {
  uint64_t w;
  memcpy(&w, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  w = __builtin_bswap64(w);
#endif
  return w; /* p[0] in the low byte */
}

static inline uint32_t pmx__key_load_half_le(const unsigned char *p) {
  uint32_t w;
  memcpy(&w, p, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  w = __builtin_bswap32(w);
#endif
  return w;
}

/* The first `len` (at most 8) bytes at p as one word, p[0] in the low byte and zeros above, read
 * without a byte loop and never past p + len: two overlapping 4-byte reads (the overlap holds the
 * same bytes, so or-ing them is exact), or the first, middle and last byte for 1-3 bytes. */
static inline uint64_t pmx__key_prefix_word(const unsigned char *p, size_t len) {
  if (len >= 4) {
    const uint32_t lo = pmx__key_load_half_le(p), hi = pmx__key_load_half_le(p + len - 4);
    return (uint64_t)lo | (uint64_t)hi << ((len - 4) * 8);
  }
  if (len > 0) {
    return (uint64_t)p[0] | (uint64_t)p[len >> 1] << ((len >> 1) * 8) | (uint64_t)p[len - 1] << ((len - 1) * 8);
  }
  return 0;
}

/* A lookup's label values, measured and hashed once (pmx_metric_labels, pmx__series_get_key). */
typedef struct pmx__key {
  const char *const *values;
  const size_t *lens;
  uint64_t words[PMX_MAX_TAGS]; /* values of up to 8 bytes: pmx__key_prefix_word, for pmx__key_value_equal */
  uint32_t hash;
  uint32_t need; /* the values' label bytes: each value and its NUL */
} pmx__key_t;

/* The comparison of values needing `need` label bytes reads at most this many bytes past them
 * (an empty last value is read as a whole word: its NUL and 7 more bytes): for the values a
 * series holds, at most that far past its label capacity, which the arena keeps readable
 * (PMX__ARENA_TAIL). A lookup for values that need more than a series' capacity compares byte by
 * byte instead (pmx__key_labels_equal). */
#define PMX__KEY_OVERREAD 7
_Static_assert(PMX__KEY_OVERREAD <= PMX__ARENA_TAIL, "the arena's tail covers the comparison's reads");

/* Label bytes a series reserves for values of `need` bytes: a power of two, so that a freed series
 * serves any later one of its class (churn of similar values reuses memory instead of growing the
 * arena). */
static inline uint16_t pmx__label_cap_for(size_t need) {
  _Static_assert(PMX_MAX_TAGS * (PMX_MAX_LABEL_VALUE + 1) <= 32768, "label_cap fits in 16 bits");
  if (need == 0) return 0;
  uint32_t cap = 8;
  while (cap < need) cap *= 2;
  return (uint16_t)cap;
}

/* Hash of label values (lengths known). It only spreads series over a table whose entries are
 * then compared in full, so it needs to be fast, not cryptographic. Each value is hashed on its
 * own (one multiply per 8 bytes, seeded by its position and length) and the results are xored:
 * the values' multiplies do not wait for each other, so a lookup pays the latency of one value
 * and one final multiply instead of a chain through every value. The final multiply's high half
 * depends on every bit, which the table's low-bit mask needs. Returns value i's part and sets
 * k->words[i]. */
static inline uint64_t pmx__key_hash_value(pmx__key_t *k, size_t i, const char *value, size_t len) {
  const unsigned char *p = (const unsigned char *)value;
  uint64_t v = 0x9e3779b97f4a7c15ull * (i + 1) + len;
  while (len > 8) {
    v = (v ^ pmx__key_load_word(p)) * PMX__KEY_MUL;
    v ^= v >> 29;
    p += 8;
    len -= 8;
  }
  const uint64_t w = pmx__key_prefix_word(p, len);
  k->words[i] = w; /* the whole value when it has at most 8 bytes */
  return (v ^ w) * PMX__KEY_MUL;
}

/* `acc`: n xor the pmx__key_hash_value of every value. */
static inline uint32_t pmx__key_hash_finish(uint64_t acc) {
  acc ^= acc >> 32;
  /* 25 bits: the series' hash word keeps its label class and three flags above (core_internal.h). */
  return (uint32_t)((acc * PMX__KEY_FINAL_MUL) >> 32) & PMX__HASH_MASK;
}

/* Building a key value by value (pmx_metric_labels measures each value as it goes):
 * pmx__key_begin, pmx__key_add for values 0..n-1 in order, pmx__key_finish. `acc` and `at` are
 * the caller's running hash and label offset. */
static inline void pmx__key_begin(pmx__key_t *k, const char *const *values, const size_t *lens, size_t n,
                                  uint64_t *acc, size_t *at) {
  k->values = values;
  k->lens = lens;
  *acc = n;
  *at = 0;
}
static inline void pmx__key_add(pmx__key_t *k, size_t i, size_t len, uint64_t *acc, size_t *at) {
  *acc ^= pmx__key_hash_value(k, i, k->values[i], len);
  *at += len + 1;
}
static inline void pmx__key_finish(pmx__key_t *k, uint64_t acc, size_t at) {
  k->hash = pmx__key_hash_finish(acc);
  k->need = (uint32_t)at;
}

/* Fills k from values of known lengths. */
static inline void pmx__key_hash(pmx__key_t *k, const char *const *values, const size_t *lens, size_t n) {
  uint64_t acc;
  size_t at;
  pmx__key_begin(k, values, lens, n, &acc, &at);
  for (size_t i = 0; i < n; i++) pmx__key_add(k, i, lens[i], &acc, &at);
  pmx__key_finish(k, acc, at);
}

/* The same comparison byte by byte, which never reads past the stored NUL. */
static inline bool pmx__key_value_equal_bytes(const char *stored, const char *v, size_t n) {
  return strncmp(stored, v, n) == 0 && stored[n] == '\0';
}

/* Compares a stored NUL-terminated value with value i of the key (n bytes, no NUL inside) in
 * whole words, reading 8 bytes of the stored side for values under 8 bytes, else n + 1 (the
 * caller has checked that they lie inside the series' label capacity and the arena's tail). Bytes past the stored
 * NUL cannot change the result: if the stored value is shorter, its NUL meets a key byte that is
 * not NUL. The key's value is never read past its length. */
PMX_NO_SANITIZE_THREAD static inline bool pmx__key_value_equal(const char *stored, const pmx__key_t *k, size_t i) {
  const size_t n = k->lens[i];
  const unsigned char *a = (const unsigned char *)stored, *b = (const unsigned char *)k->values[i];
  /* Up to 7 bytes: the value and the stored NUL in one masked word (the key's word is 0 above
   * its n bytes). */
  if (PMX_LIKELY(n < 8)) return (pmx__key_load_word(a) & (~0ull >> (56 - 8 * n))) == k->words[i];
  if (n == 8) return pmx__key_load_word(a) == k->words[i] && stored[8] == '\0';
  if (n <= 16) {
    return pmx__key_load_word(a) == pmx__key_load_word(b) &&
           pmx__key_load_word(a + n - 8) == pmx__key_load_word(b + n - 8) && stored[n] == '\0';
  }
  return pmx__key_value_equal_bytes(stored, k->values[i], n);
}

/* Compares a series' label bytes (at labels_offset, `cap` bytes reserved) with the key's values.
 * `labels_offset` comes from the metric the caller already holds: reading it through s->metric
 * would add a third dependent load (slot, series, metric) before the first label byte.
 * The word-wise reads may touch the first bytes of the next arena allocation, which another
 * thread may be initialising under the metric mutex: a race on bytes whose value never decides
 * the result (pmx__key_value_equal), hidden from ThreadSanitizer. */
PMX_NO_SANITIZE_THREAD static inline bool pmx__key_labels_equal(const pmx_series_t *s, size_t labels_offset,
                                                                const pmx__key_t *k, size_t n, size_t cap) {
  const char *p = (const char *)s + labels_offset;
  if (PMX_LIKELY(k->need + PMX__KEY_OVERREAD <= cap + PMX__ARENA_TAIL)) {
    for (size_t i = 0; i < n; i++) {
      if (!pmx__key_value_equal(p, k, i)) return false;
      p += k->lens[i] + 1;
    }
    return true;
  }
  for (size_t i = 0; i < n; i++) { /* more label bytes than this series holds: a hash collision */
    if (!pmx__key_value_equal_bytes(p, k->values[i], k->lens[i])) return false;
    p += k->lens[i] + 1;
  }
  return true;
}

/* Series lookup, and creation when absent, by a key built for m's labels (metric_store.c). The
 * caller is inside a reader section (grace.h). */
pmx__series_result_t pmx__series_get_key(pmx_metric_t *m, const pmx__key_t *k, pmx_series_t **out);

/* The label capacity a series' hash word records (0: none). */
static inline size_t pmx__series_label_cap(uint32_t word) {
  const unsigned cls = (word & PMX__LABEL_CLASS_MASK) >> PMX__LABEL_CLASS_SHIFT;
  return cls ? (size_t)1 << cls : 0;
}

#endif
