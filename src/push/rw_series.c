/* Turns promex's own text 0.0.4 exposition into remote_write samples: one sample per line, its
 * labels (with __name__) sorted by name as remote_write 1.0 requires, empty values left out
 * (an empty label value means "absent"), each label pre-encoded as a protobuf
 * `Label labels = 1` field of prometheus.TimeSeries. Histograms arrive as their _bucket{le},
 * _sum and _count lines, which is the classic remote_write form. Going through the exposition
 * keeps this area on the public API: whatever a scrape would see is what gets written. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "push/push_internal.h"

#define PMX__RW_MAX_LABELS 64

typedef struct lbl {
  const char *name, *value; /* value unescaped into scratch */
  size_t nlen, vlen;
} lbl_t;

static int put_varint(pmx_buf_t *b, uint64_t v) {
  unsigned char tmp[10];
  size_t n = 0;
  do {
    tmp[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
    v >>= 7;
  } while (v);
  return pmx__buf_append(b, tmp, n);
}

static size_t varint_len(uint64_t v) {
  size_t n = 1;
  while (v > 0x7f) {
    v >>= 7;
    n++;
  }
  return n;
}

/* Label { string name = 1; string value = 2; } as field 1 of TimeSeries */
static int put_label(pmx_buf_t *b, const lbl_t *l) {
  size_t inner = 1 + varint_len(l->nlen) + l->nlen + 1 + varint_len(l->vlen) + l->vlen;
  int rc = pmx__buf_append(b, "\x0a", 1);
  if (rc == PMX_OK) rc = put_varint(b, inner);
  if (rc == PMX_OK) rc = pmx__buf_append(b, "\x0a", 1);
  if (rc == PMX_OK) rc = put_varint(b, l->nlen);
  if (rc == PMX_OK) rc = pmx__buf_append(b, l->name, l->nlen);
  if (rc == PMX_OK) rc = pmx__buf_append(b, "\x12", 1);
  if (rc == PMX_OK) rc = put_varint(b, l->vlen);
  if (rc == PMX_OK) rc = pmx__buf_append(b, l->value, l->vlen);
  return rc;
}

static int cmp_lbl(const void *a, const void *b) {
  const lbl_t *x = a, *y = b;
  size_t n = x->nlen < y->nlen ? x->nlen : y->nlen;
  int c = memcmp(x->name, y->name, n);
  if (c) return c;
  return (x->nlen > y->nlen) - (x->nlen < y->nlen);
}

static bool name_char(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
         (!first && c >= '0' && c <= '9');
}

static int grow(pmx__rw_batch_t *b) {
  if (b->n + 1 < b->cap) return PMX_OK;
  size_t cap = b->cap ? b->cap * 2 : 256;
  size_t *off = pmx__realloc(b->off, cap * sizeof *off);
  if (!off) return PMX_ENOMEM;
  b->off = off;
  double *val = pmx__realloc(b->val, cap * sizeof *val);
  if (!val) return PMX_ENOMEM;
  b->val = val;
  b->cap = cap;
  return PMX_OK;
}

/* Parses one sample line [s, e). Returns 1 if a sample was added, 0 if skipped, <0 on error. */
static int parse_line(const char *s, const char *e, pmx__rw_batch_t *b, char *scratch) {
  lbl_t l[PMX__RW_MAX_LABELS];
  size_t nl = 0;
  const char *p = s;
  if (!name_char(*p, true)) return 0;
  while (p < e && name_char(*p, false)) p++;
  l[nl++] = (lbl_t){"__name__", s, 8, (size_t)(p - s)};
  char *sc = scratch;
  if (p < e && *p == '{') {
    p++;
    while (p < e && *p != '}') {
      const char *n = p;
      while (p < e && name_char(*p, p == n) && *p != ':') p++;
      if (p == n || p + 1 >= e || *p != '=' || p[1] != '"') return 0;
      size_t nlen = (size_t)(p - n);
      p += 2;
      char *v = sc;
      while (p < e && *p != '"') {
        if (*p == '\\' && p + 1 < e) {
          p++;
          *sc++ = *p == 'n' ? '\n' : *p;
        } else {
          *sc++ = *p;
        }
        p++;
      }
      if (p >= e) return 0;
      p++; /* closing quote */
      if (nl == PMX__RW_MAX_LABELS) return 0;
      if (sc > v) l[nl++] = (lbl_t){n, v, nlen, (size_t)(sc - v)};
      if (p < e && *p == ',') p++;
    }
    if (p >= e) return 0;
    p++; /* '}' */
  }
  while (p < e && (*p == ' ' || *p == '\t')) p++;
  char num[64];
  size_t k = 0;
  while (p < e && *p != ' ' && *p != '\t' && k + 1 < sizeof num) num[k++] = *p++;
  num[k] = '\0';
  char *end;
  double v = strtod(num, &end);
  if (k == 0 || *end) return 0;
  /* __name__ sorts before every lower-case name but after upper-case ones: sort all */
  qsort(l, nl, sizeof *l, cmp_lbl);
  for (size_t i = 1; i < nl; i++)
    if (cmp_lbl(&l[i - 1], &l[i]) == 0) return 0; /* duplicate label name */
  if (grow(b) != PMX_OK) return PMX_ENOMEM;
  if (b->n == 0) b->off[0] = b->labels.len;
  for (size_t i = 0; i < nl; i++)
    if (put_label(&b->labels, &l[i]) != PMX_OK) return PMX_ENOMEM;
  b->val[b->n] = v;
  b->off[++b->n] = b->labels.len;
  return 1;
}

int pmx__rw_parse_text(const char *text, size_t len, pmx__rw_batch_t *b, size_t *skipped) {
  char *scratch = NULL;
  size_t scap = 0;
  const char *p = text, *end = text + len;
  int rc = PMX_OK;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *e = nl ? nl : end;
    if (e > p && *p != '#') {
      if ((size_t)(e - p) + 1 > scap) {
        scap = (size_t)(e - p) + 1;
        char *ns = pmx__realloc(scratch, scap);
        if (!ns) {
          rc = PMX_ENOMEM;
          break;
        }
        scratch = ns;
      }
      int r = parse_line(p, e, b, scratch);
      if (r < 0) {
        rc = r;
        break;
      }
      if (r == 0 && skipped) (*skipped)++;
    }
    p = nl ? nl + 1 : end;
  }
  pmx__free(scratch);
  return rc;
}

void pmx__rw_batch_free(pmx__rw_batch_t *b) {
  if (!b) return;
  pmx_buf_free(&b->labels);
  pmx__free(b->off);
  pmx__free(b->val);
  memset(b, 0, sizeof *b);
}

/* Sample { double value = 1; int64 timestamp = 2; } */
static size_t sample_len(int64_t ts) { return 1 + 8 + 1 + varint_len((uint64_t)ts); }

int pmx__rw_encode(const pmx__rw_batch_t *b, size_t from, size_t to, pmx_buf_t *out) {
  size_t slen = sample_len(b->ts_ms);
  for (size_t i = from; i < to; i++) {
    size_t llen = b->off[i + 1] - b->off[i];
    size_t ts_len = llen + 1 + varint_len(slen) + slen;
    unsigned char f64[8];
    uint64_t bits;
    memcpy(&bits, &b->val[i], 8);
    for (int k = 0; k < 8; k++) f64[k] = (unsigned char)(bits >> (8 * k)); /* little-endian */
    int rc = pmx__buf_reserve(out, 1 + 10 + ts_len);
    if (rc == PMX_OK) rc = pmx__buf_append(out, "\x0a", 1); /* WriteRequest.timeseries = 1 */
    if (rc == PMX_OK) rc = put_varint(out, ts_len);
    if (rc == PMX_OK) rc = pmx__buf_append(out, b->labels.data + b->off[i], llen);
    if (rc == PMX_OK) rc = pmx__buf_append(out, "\x12", 1); /* TimeSeries.samples = 2 */
    if (rc == PMX_OK) rc = put_varint(out, slen);
    if (rc == PMX_OK) rc = pmx__buf_append(out, "\x09", 1); /* value: fixed64 */
    if (rc == PMX_OK) rc = pmx__buf_append(out, f64, 8);
    if (rc == PMX_OK) rc = pmx__buf_append(out, "\x10", 1); /* timestamp: varint */
    if (rc == PMX_OK) rc = put_varint(out, (uint64_t)b->ts_ms);
    if (rc != PMX_OK) return rc;
  }
  return PMX_OK;
}
