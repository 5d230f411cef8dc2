/* Growable output buffers (pmx_buf_t): library-owned (grown with realloc, doubling) or fixed
 * caller memory (never grown; an overflow is reported with PMX_ELIMIT). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void pmx_buf_free(pmx_buf_t *buf) {
  if (buf == NULL) return;
  if (!buf->fixed) pmx__free(buf->data);
  memset(buf, 0, sizeof *buf);
}

int pmx__buf_reserve(pmx_buf_t *b, size_t extra) {
  if (b->len + extra <= b->cap) return PMX_OK;
  if (b->fixed) return PMX_ELIMIT;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < b->len + extra) {
    if (cap > SIZE_MAX / 2) return PMX_ENOMEM;
    cap *= 2;
  }
  char *d = pmx__realloc(b->data, cap);
  if (d == NULL) return PMX_ENOMEM;
  b->data = d;
  b->cap = cap;
  return PMX_OK;
}

int pmx__buf_append(pmx_buf_t *b, const void *data, size_t len) {
  if (len == 0) return PMX_OK; /* also keeps memcpy away from a NULL data pointer */
  int rc = pmx__buf_reserve(b, len);
  if (rc != PMX_OK) return rc;
  memcpy(b->data + b->len, data, len);
  b->len += len;
  return PMX_OK;
}

int pmx__buf_appendf(pmx_buf_t *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) return PMX_EINVAL;
  /* +1 for vsnprintf's terminator, which is not counted in len. */
  int rc = pmx__buf_reserve(b, (size_t)n + 1);
  if (rc != PMX_OK) return rc;
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
  return PMX_OK;
}

int pmx__buf_append_nul(pmx_buf_t *b) {
  int rc = pmx__buf_reserve(b, 1);
  if (rc != PMX_OK) return rc;
  b->data[b->len] = '\0';
  return PMX_OK;
}
