/* Exemplars: the latest trace id per counter series or histogram bucket, kept in seqlock slots
 * (see pmx__exemplar_t in core_internal.h) so that neither observers nor renders take a lock. */
#include <math.h>
#include <string.h>
#include <time.h>

#include "core/core_internal.h"

/* Characters (code points) of valid UTF-8. */
static size_t utf8_runes(const char *s, size_t len) {
  size_t n = 0;
  for (size_t i = 0; i < len; i++) n += ((unsigned char)s[i] & 0xC0) != 0x80;
  return n;
}

bool pmx__exemplar_valid(const pmx_metric_t *m, const char *text, size_t len) {
  if (len > PMX_MAX_EXEMPLAR_VALUE || !pmx__valid_utf8(text, len)) return false;
  return m->ex_key_runes + utf8_runes(text, len) <= PMX_MAX_EXEMPLAR_RUNES;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts); /* vDSO: no system call */
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void pmx__exemplar_store(pmx__exemplar_t *slot, const char *text, size_t len, double value) {
  uint32_t seq = atomic_load_explicit(&slot->seq, memory_order_relaxed);
  /* Odd: another writer is in the slot. A failed swap: one just entered. Either way theirs is
   * as recent as ours, so skip rather than wait. */
  if ((seq & 1) || !atomic_compare_exchange_strong_explicit(&slot->seq, &seq, seq + 1, memory_order_acquire,
                                                            memory_order_relaxed)) {
    return;
  }
  /* The stores below must not become visible before the odd seq: a release fence orders them
   * (the acquire above only orders later loads). */
  atomic_thread_fence(memory_order_release);
  uint64_t words[PMX__EXEMPLAR_WORDS] = {0};
  memcpy(words, text, len);
  for (size_t i = 0; i < (len + 7) / 8; i++) atomic_store_explicit(&slot->text[i], words[i], memory_order_relaxed);
  uint64_t bits;
  memcpy(&bits, &value, sizeof bits);
  atomic_store_explicit(&slot->value, bits, memory_order_relaxed);
  atomic_store_explicit(&slot->ts_ms, now_ms(), memory_order_relaxed);
  atomic_store_explicit(&slot->len, (uint32_t)len, memory_order_relaxed);
  atomic_store_explicit(&slot->seq, seq + 2, memory_order_release);
}

bool pmx__exemplar_read(const pmx__exemplar_t *slot, pmx__exemplar_copy_t *out) {
  pmx__exemplar_t *sl = (pmx__exemplar_t *)(uintptr_t)slot;
  for (int attempt = 0; attempt < 64; attempt++) {
    uint32_t before = atomic_load_explicit(&sl->seq, memory_order_acquire);
    if (before & 1) continue;
    if (before == 0) return false; /* never written */
    size_t len = atomic_load_explicit(&sl->len, memory_order_relaxed);
    if (len > PMX_MAX_EXEMPLAR_VALUE) continue;
    uint64_t words[PMX__EXEMPLAR_WORDS];
    for (size_t i = 0; i < (len + 7) / 8; i++) words[i] = atomic_load_explicit(&sl->text[i], memory_order_relaxed);
    uint64_t bits = atomic_load_explicit(&sl->value, memory_order_relaxed);
    int64_t ts = atomic_load_explicit(&sl->ts_ms, memory_order_relaxed);
    atomic_thread_fence(memory_order_acquire);
    if (atomic_load_explicit(&sl->seq, memory_order_relaxed) != before) continue;
    out->len = len;
    memcpy(out->text, words, len);
    out->text[len] = '\0';
    memcpy(&out->value, &bits, sizeof bits);
    out->ts_ms = ts;
    return true;
  }
  return false; /* writers kept it busy: render this one without its exemplar */
}

/* Validation shared by the direct API. */
static int check_exemplar(const pmx_series_t *s, const char *trace_id, size_t *len) {
  if (s->metric->exemplar_key == NULL) return PMX_ENOTSUP;
  *len = strlen(trace_id);
  return pmx__exemplar_valid(s->metric, trace_id, *len) ? PMX_OK : PMX_EINVAL;
}

int pmx_series_add_exemplar(pmx_series_t *s, double value, const char *trace_id) {
  if (s == NULL || trace_id == NULL || isnan(value) || value < 0) return PMX_EINVAL;
  const pmx_metric_t *m = s->metric;
  if (!(m->kind == PMX_COUNTER || (m->kind == PMX_SUM && !m->sum_as_gauge))) return PMX_ETYPE;
  size_t len;
  int rc = check_exemplar(s, trace_id, &len);
  if (rc != PMX_OK) return rc;
  pmx__counter_add(s, value);
  pmx__exemplar_store(pmx__exemplars(s), trace_id, len, value);
  return PMX_OK;
}

int pmx_series_observe_exemplar(pmx_series_t *s, double value, const char *trace_id) {
  if (s == NULL || trace_id == NULL || isnan(value)) return PMX_EINVAL;
  if (s->metric->kind != PMX_DISTRIBUTION) return PMX_ETYPE;
  size_t len;
  int rc = check_exemplar(s, trace_id, &len);
  if (rc != PMX_OK) return rc;
  pmx__hist_observe(s, value);
  pmx__exemplar_store(pmx__exemplars(s) + pmx__bucket_index(s->metric, value), trace_id, len, value);
  return PMX_OK;
}
