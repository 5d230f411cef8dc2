/* The lookup key (src/core/series_key.h): values packed into words for hashing and comparison,
 * and the word-wise comparison against stored label bytes, which may read a few bytes past a
 * stored value (never past the series' label capacity and the arena's tail behind it) and never a
 * caller's value past its length. Every buffer here is allocated to its exact size (a series'
 * labels to their capacity and the tail), so an ASan build catches any read beyond what the
 * comparison may touch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/series_key.h"

#define MAX_LEN 40

/* Non-zero pseudo-random bytes, so that no NUL appears inside a value. */
static unsigned char byte_at(unsigned seed, size_t i) {
  uint32_t x = seed * 2654435761u + (uint32_t)i * 40503u + 17u;
  x ^= x >> 13;
  x *= 0x5bd1e995u;
  x ^= x >> 15;
  return (unsigned char)(1 + x % 255);
}

/* A caller's value: exactly `len` bytes, no NUL terminator, so that reading past it is an
 * error under ASan. Not inlined: GCC's -Wstringop-overflow misreads the unrolled fill loop of a
 * Release build. */
__attribute__((noinline)) static char *caller_value(unsigned seed, size_t len) {
  char *v = malloc(len ? len : 1);
  assert_non_null(v);
  for (size_t i = 0; i < len; i++) v[i] = (char)byte_at(seed, i);
  return v;
}

/* Label bytes as a series stores them ("v0\0v1\0...", zeros after) in the capacity a series
 * reserves for them (which *cap receives), followed by the arena's tail and nothing else. */
static char *stored_labels(const char *const *values, size_t n, size_t *cap) {
  size_t lens[8], need = 0;
  for (size_t i = 0; i < n; i++) need += (lens[i] = strlen(values[i])) + 1;
  *cap = pmx__label_cap_for(need);
  char *labels = calloc(1, *cap + PMX__ARENA_TAIL);
  assert_non_null(labels);
  char *p = labels;
  for (size_t i = 0; i < n; i++) {
    memcpy(p, values[i], lens[i] + 1);
    p += lens[i] + 1;
  }
  return labels;
}

/* One stored value of `len` pseudo-random bytes from `seed`, as stored_labels lays it out. */
static char *stored_single(unsigned seed, size_t len, size_t *cap) {
  char value[MAX_LEN + 1];
  assert_true(len <= MAX_LEN);
  for (size_t i = 0; i < len; i++) value[i] = (char)byte_at(seed, i);
  value[len] = '\0';
  const char *sv[1] = {value};
  return stored_labels(sv, 1, cap);
}

static bool labels_match(const char *labels, size_t cap, const pmx__key_t *k, size_t n) {
  const pmx_series_t *as_series = (const pmx_series_t *)(const void *)labels; /* labels at offset 0 */
  return pmx__key_labels_equal(as_series, 0, k, n, cap);
}

static pmx__key_t key_of(const char *const *values, const size_t *lens, size_t n) {
  pmx__key_t k;
  pmx__key_hash(&k, values, lens, n);
  return k;
}

/* The packed word holds exactly the first len bytes, p[0] lowest, zeros above. */
static void test_prefix_word_every_length(void **state) {
  (void)state;
  for (size_t len = 0; len <= 8; len++) {
    for (unsigned seed = 0; seed < 50; seed++) {
      char *v = caller_value(seed, len);
      uint64_t want = 0;
      for (size_t i = 0; i < len; i++) want |= (uint64_t)(unsigned char)v[i] << (8 * i);
      uint64_t got = pmx__key_prefix_word((const unsigned char *)v, len);
      if (got != want) fail_msg("len %zu seed %u: %016llx, want %016llx", len, seed, (unsigned long long)got, (unsigned long long)want);
      free(v);
    }
  }
}

/* For every pair of lengths up to MAX_LEN: equal exactly when length and bytes are equal. Keys
 * needing more bytes than the stored value's capacity take the byte-wise comparison. */
static void test_value_equal_every_length_pair(void **state) {
  (void)state;
  for (size_t sl = 0; sl <= MAX_LEN; sl++) {
    size_t cap;
    char *labels = stored_single(7, sl, &cap);
    for (size_t kl = 0; kl <= MAX_LEN; kl++) {
      char *same = caller_value(7, kl);  /* a prefix or extension of the stored bytes */
      char *other = caller_value(8, kl); /* different bytes */
      const char *v_same[1] = {same}, *v_other[1] = {other};
      size_t lens[1] = {kl};
      pmx__key_t k_same = key_of(v_same, lens, 1), k_other = key_of(v_other, lens, 1);
      bool want = sl == kl;
      if (labels_match(labels, cap, &k_same, 1) != want) fail_msg("stored %zu, key %zu: equal should be %d", sl, kl, want);
      if (kl > 0 && labels_match(labels, cap, &k_other, 1)) fail_msg("stored %zu, key %zu: other bytes compared equal", sl, kl);
      free(same);
      free(other);
    }
    free(labels);
  }
}

/* A single differing byte anywhere, including the first and last, makes values unequal. */
static void test_value_equal_one_byte_differs(void **state) {
  (void)state;
  for (size_t len = 1; len <= MAX_LEN; len++) {
    size_t cap;
    char *labels = stored_single(3, len, &cap);
    for (size_t pos = 0; pos < len; pos++) {
      char *v = caller_value(3, len);
      v[pos] = (char)(v[pos] == 'x' ? 'y' : 'x');
      const char *values[1] = {v};
      size_t lens[1] = {len};
      pmx__key_t k = key_of(values, lens, 1);
      if (labels_match(labels, cap, &k, 1)) fail_msg("len %zu: byte %zu differs, compared equal", len, pos);
      free(v);
    }
    free(labels);
  }
}

/* Several values against label bytes laid out as a series stores them, in just their capacity
 * and the arena's tail. */
static void test_labels_equal_layout(void **state) {
  (void)state;
  const char *const sets[][3] = {{"GET", "/r0", "200"}, {"DELETE", "/api/v1/items/long", ""},
                                 {"", "", ""},          {"abcdefgh", "12345678", "x"},
                                 {"a", "bc", "defg"},   {"0123456789abcdef0", "q", "xyz"}};
  for (size_t t = 0; t < sizeof sets / sizeof *sets; t++) {
    size_t cap, lens[3];
    char *labels = stored_labels(sets[t], 3, &cap);
    for (size_t i = 0; i < 3; i++) lens[i] = strlen(sets[t][i]);
    pmx__key_t k = key_of(sets[t], lens, 3);
    assert_true(labels_match(labels, cap, &k, 3));
    /* Each value one byte longer or shorter, or the first two values swapped: not equal. */
    for (size_t i = 0; i < 3; i++) {
      char longer[64];
      snprintf(longer, sizeof longer, "%sz", sets[t][i]);
      const char *changed[3] = {sets[t][0], sets[t][1], sets[t][2]};
      size_t changed_lens[3] = {lens[0], lens[1], lens[2]};
      changed[i] = longer;
      changed_lens[i] = lens[i] + 1;
      pmx__key_t kl = key_of(changed, changed_lens, 3);
      if (labels_match(labels, cap, &kl, 3)) fail_msg("set %zu: value %zu longer, compared equal", t, i);
      if (lens[i] == 0) continue;
      changed_lens[i] = lens[i] - 1; /* the same bytes, one shorter */
      char *shorter = caller_value(0, lens[i] - 1);
      memcpy(shorter, sets[t][i], lens[i] - 1);
      changed[i] = shorter;
      pmx__key_t ks = key_of(changed, changed_lens, 3);
      if (labels_match(labels, cap, &ks, 3)) fail_msg("set %zu: value %zu shorter, compared equal", t, i);
      free(shorter);
    }
    if (strcmp(sets[t][0], sets[t][1]) != 0) {
      const char *swapped[3] = {sets[t][1], sets[t][0], sets[t][2]};
      size_t swapped_lens[3] = {lens[1], lens[0], lens[2]};
      pmx__key_t ks = key_of(swapped, swapped_lens, 3);
      assert_false(labels_match(labels, cap, &ks, 3));
    }
    free(labels);
  }
}

/* The hash depends on the bytes, not on where they are, and on how they split into values. */
static void test_hash_by_content_and_split(void **state) {
  (void)state;
  char a1[] = "alpha", a2[] = "alpha";
  const char *v1[1] = {a1}, *v2[1] = {a2};
  size_t l1[1] = {5};
  assert_int_equal(key_of(v1, l1, 1).hash, key_of(v2, l1, 1).hash);
  const char *ab_c[2] = {"ab", "c"}, *a_bc[2] = {"a", "bc"};
  size_t l_ab_c[2] = {2, 1}, l_a_bc[2] = {1, 2};
  assert_int_not_equal(key_of(ab_c, l_ab_c, 2).hash, key_of(a_bc, l_a_bc, 2).hash);
  assert_int_equal(key_of(v1, l1, 1).hash & ~PMX__HASH_MASK, 0); /* the flag bits stay free */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_prefix_word_every_length),
      cmocka_unit_test(test_value_equal_every_length_pair),
      cmocka_unit_test(test_value_equal_one_byte_differs),
      cmocka_unit_test(test_labels_equal_layout),
      cmocka_unit_test(test_hash_by_content_and_split),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
