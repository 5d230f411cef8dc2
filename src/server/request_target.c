/* Matching a request-target (RFC 9112 section 3.2) against the configured metrics path.
 *
 * The server decides from the raw target, before libmicrohttpd decodes it: libmicrohttpd's own
 * decoding turns "/metrics%00foo" into a C string that ends at the NUL, so comparing its result
 * would serve the scrape for a path that is not ours. Here the decoded path must equal the
 * configured path byte for byte over its whole length, and a %00 refuses the request.
 *
 * Accepted forms: origin-form ("/metrics?x") and absolute-form ("http://host/metrics"), which
 * RFC 9112 section 3.2.2 says a server must accept. The query is ignored; a '#' (fragments are
 * never sent) and raw controls or spaces make the target malformed. Pure and thread-safe. */
#include <stddef.h>
#include <string.h>

#include "server/server_internal.h"

static int hex_value(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static bool starts_with_ci(const char *s, const char *lit) {
  for (; *lit; s++, lit++) {
    char c = *s;
    if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
    if (c != *lit) return false;
  }
  return true;
}

/* The start of the path in an absolute-form target, or `t` itself for origin-form. NULL when the
 * target is neither (e.g. "*" or "metrics"). */
static const char *path_start(const char *t) {
  if (t[0] == '/') return t;
  size_t skip = starts_with_ci(t, "http://") ? 7 : starts_with_ci(t, "https://") ? 8 : 0;
  if (skip == 0) return NULL;
  const char *p = t + skip;
  while (*p != '\0' && *p != '/' && *p != '?' && *p != '#') p++;
  if (p == t + skip) return NULL; /* no authority */
  /* "http://host" and "http://host?q" have the empty path, which means "/". */
  return p;
}

pmx__target_t pmx__target_check(const char *target, const char *path) {
  if (target == NULL || path == NULL) return PMX__TARGET_BAD;
  for (const unsigned char *p = (const unsigned char *)target; *p; p++)
    if (*p <= ' ' || *p == 0x7f) return PMX__TARGET_BAD;
  const char *p = path_start(target);
  if (p == NULL) return PMX__TARGET_BAD;
  bool empty_abs = *p != '/'; /* absolute-form without a path: "/" */
  const char *want = path;
  if (empty_abs) {
    if (*want == '/') want++;
  }
  bool same = true;
  for (; *p != '\0' && *p != '?'; p++) {
    unsigned char c = (unsigned char)*p;
    if (c == '#') return PMX__TARGET_BAD;
    if (c == '%') {
      int hi = hex_value((unsigned char)p[1]);
      int lo = hi < 0 ? -1 : hex_value((unsigned char)p[2]);
      if (lo < 0) return PMX__TARGET_BAD;
      c = (unsigned char)(hi * 16 + lo);
      if (c == 0) return PMX__TARGET_BAD;
      p += 2;
    }
    /* Keep scanning after a mismatch: a bad escape later in the path is still a 400. */
    if (same && (unsigned char)*want == c)
      want++;
    else
      same = false;
  }
  return same && *want == '\0' ? PMX__TARGET_MATCH : PMX__TARGET_OTHER;
}
