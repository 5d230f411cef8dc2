/* Snappy block compression (not the framed format) for remote_write bodies. */
#include <snappy-c.h>

#include "internal.h"
#include "push/push_internal.h"

int pmx__rw_snappy(const void *in, size_t n, pmx_buf_t *out) {
  out->len = 0;
  size_t max = snappy_max_compressed_length(n);
  int rc = pmx__buf_reserve(out, max);
  if (rc != PMX_OK) return rc;
  size_t got = max;
  if (snappy_compress(in, n, out->data, &got) != SNAPPY_OK) return PMX_EIO;
  out->len = got;
  return PMX_OK;
}
