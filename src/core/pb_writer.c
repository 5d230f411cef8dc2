/* Protobuf wire-format writer (see pb_writer.h). A nested message reserves the five bytes a
 * 32-bit length can take, is written in place, and on close gets its length written and its body
 * moved down over the unused reserve: one buffer, no size pre-pass, and a body is moved once per
 * level of nesting (exposition messages are at most five deep). */
#include <string.h>

#include "core/pb_writer.h"
#include "internal.h"

#define LEN_RESERVE 5

static size_t varint_encode(unsigned char *out, uint64_t v) {
  size_t n = 0;
  do {
    out[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
    v >>= 7;
  } while (v);
  return n;
}

static void put(pmx__pb_t *w, const void *data, size_t len) {
  if (w->rc != PMX_OK) return;
  w->rc = pmx__buf_append(w->buf, data, len);
}

static void put_varint(pmx__pb_t *w, uint64_t v) {
  unsigned char tmp[10];
  put(w, tmp, varint_encode(tmp, v));
}

static void put_tag(pmx__pb_t *w, unsigned field, unsigned wire) { put_varint(w, ((uint64_t)field << 3) | wire); }

static uint64_t zigzag(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }

void pmx__pb_uint(pmx__pb_t *w, unsigned field, uint64_t v) {
  put_tag(w, field, 0);
  put_varint(w, v);
}

void pmx__pb_sint(pmx__pb_t *w, unsigned field, int64_t v) {
  put_tag(w, field, 0);
  put_varint(w, zigzag(v));
}

void pmx__pb_double(pmx__pb_t *w, unsigned field, double v) {
  uint64_t bits;
  memcpy(&bits, &v, sizeof bits);
  unsigned char le[8];
  for (int i = 0; i < 8; i++) le[i] = (unsigned char)(bits >> (8 * i)); /* little-endian on the wire */
  put_tag(w, field, 1);
  put(w, le, 8);
}

void pmx__pb_bytes(pmx__pb_t *w, unsigned field, const void *data, size_t len) {
  put_tag(w, field, 2);
  put_varint(w, len);
  put(w, data, len);
}

void pmx__pb_packed_sint(pmx__pb_t *w, unsigned field, const int64_t *v, size_t n) {
  if (n == 0) return;
  size_t mark = pmx__pb_open(w, field);
  for (size_t i = 0; i < n; i++) put_varint(w, zigzag(v[i]));
  pmx__pb_close(w, mark);
}

size_t pmx__pb_open(pmx__pb_t *w, unsigned field) {
  if (field != 0) put_tag(w, field, 2);
  static const unsigned char reserve[LEN_RESERVE] = {0};
  put(w, reserve, LEN_RESERVE);
  return w->rc == PMX_OK ? w->buf->len : 0; /* the body starts here */
}

void pmx__pb_close(pmx__pb_t *w, size_t mark) {
  if (w->rc != PMX_OK) return;
  size_t body = w->buf->len - mark;
  if (body > UINT32_MAX) {
    w->rc = PMX_ELIMIT;
    return;
  }
  unsigned char len[LEN_RESERVE];
  size_t n = varint_encode(len, body);
  char *start = w->buf->data + mark - LEN_RESERVE;
  memcpy(start, len, n);
  memmove(start + n, w->buf->data + mark, body);
  w->buf->len -= LEN_RESERVE - n;
}
