/* URL-safe base64 (RFC 4648 section 5) for Pushgateway grouping-key values that contain '/'. */
#include "internal.h"
#include "push/push_internal.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int pmx__base64url(pmx_buf_t *out, const char *s, size_t n) {
  const unsigned char *u = (const unsigned char *)s;
  char quad[4];
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)u[i] << 16;
    size_t left = n - i;
    if (left > 1) v |= (uint32_t)u[i + 1] << 8;
    if (left > 2) v |= u[i + 2];
    quad[0] = alphabet[(v >> 18) & 63];
    quad[1] = alphabet[(v >> 12) & 63];
    quad[2] = alphabet[(v >> 6) & 63];
    quad[3] = alphabet[v & 63];
    /* no padding: the Pushgateway accepts it either way and '=' would need escaping */
    size_t emit = left >= 3 ? 4 : left + 1;
    int rc = pmx__buf_append(out, quad, emit);
    if (rc != PMX_OK) return rc;
  }
  return PMX_OK;
}
