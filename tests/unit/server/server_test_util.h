/* Helpers shared by the server tests. Header-only: each test is its own program. */
#ifndef PMX_SERVER_TEST_UTIL_H
#define PMX_SERVER_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

/* Inflates one gzip member into a fresh malloc'd, NUL-terminated buffer (so bodies can be parsed
 * as strings); *out_len excludes the terminator. */
static inline char *gunzip(const char *in, size_t len, size_t *out_len) {
  z_stream zs;
  memset(&zs, 0, sizeof zs);
  assert_int_equal(inflateInit2(&zs, 15 + 16), Z_OK);
  size_t cap = len * 8 + 1024, n = 0;
  char *out = malloc(cap);
  zs.next_in = (Bytef *)(uintptr_t)in;
  zs.avail_in = (uInt)len;
  int rc;
  do {
    if (n == cap) {
      cap *= 2;
      out = realloc(out, cap);
    }
    zs.next_out = (Bytef *)out + n;
    zs.avail_out = (uInt)(cap - n);
    rc = inflate(&zs, Z_NO_FLUSH);
    n = cap - zs.avail_out;
  } while (rc == Z_OK);
  assert_int_equal(rc, Z_STREAM_END);
  assert_int_equal(zs.avail_in, 0);
  inflateEnd(&zs);
  *out_len = n;
  out = realloc(out, n + 1);
  out[n] = '\0';
  return out;
}

#endif
