/* Authentication of scrape requests: PromEx's auth_strategy none | bearer | basic.
 *
 * Bearer: `Authorization: Bearer <token>` must carry exactly the configured token. Basic:
 * `Authorization: Basic base64(user ":" password)` (RFC 7617) must carry exactly the configured
 * user and password. Scheme names are case-insensitive (RFC 9110 section 11.1).
 *
 * Timing: each presented secret and each configured secret is hashed with SHA-256 (GnuTLS, which
 * libmicrohttpd already links) and the digests are compared with an OR-accumulating loop over all
 * 32 bytes. The work done therefore does not depend on where the secrets first differ nor on
 * their lengths, and for basic auth user and password are both always checked. */
#include <gnutls/crypto.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"
#include "server/server_internal.h"

#define DIGEST_LEN 32

static int b64_value(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

long pmx__base64_decode(const char *in, size_t len, unsigned char *out, size_t cap) {
  /* Up to two '=' may end the input, and only where they complete a quantum. */
  size_t pad = 0;
  while (len > 0 && in[len - 1] == '=' && pad < 2) {
    len--;
    pad++;
  }
  /* Padding is required (RFC 4648 section 3.2; RFC 7617 uses it), so one credential has exactly
   * one accepted spelling. */
  if ((len + pad) % 4 != 0) return -1;
  size_t n = 0;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < len; i++) {
    int v = b64_value((unsigned char)in[i]);
    if (v < 0) return -1;
    acc = (acc << 6) | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (n >= cap) return -1;
      out[n++] = (unsigned char)(acc >> bits);
      acc &= (1u << bits) - 1;
    }
  }
  /* Leftover bits must be zero in canonical base64; reject the rest so one credential has one
   * spelling. */
  if (acc != 0) return -1;
  return (long)n;
}

static bool digest(const void *data, size_t len, unsigned char out[DIGEST_LEN]) {
  return gnutls_hash_fast(GNUTLS_DIG_SHA256, data, len, out) == 0;
}

/* 1 when the digests of a and b are equal; constant time in the digests. A hashing failure
 * (never seen with a working GnuTLS) counts as a mismatch: it must not let a request in. */
static int digest_eq(const void *a, size_t alen, const char *b) {
  unsigned char da[DIGEST_LEN], db[DIGEST_LEN];
  bool ok = digest(a, alen, da);
  ok &= digest(b ? b : "", b ? strlen(b) : 0, db);
  unsigned diff = 0;
  for (size_t i = 0; i < DIGEST_LEN; i++) diff |= (unsigned)(da[i] ^ db[i]);
  return (int)(1 & ((diff - 1) >> 8)) & (int)ok; /* diff in 0..255: 1 iff diff == 0 */
}

static char lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }

/* If `hdr` starts with `scheme` (case-insensitive) followed by one or more spaces, returns the
 * credentials after them with trailing whitespace cut (length in *len); otherwise NULL. */
static const char *credentials(const char *hdr, const char *scheme, size_t *len) {
  size_t n = strlen(scheme);
  for (size_t i = 0; i < n; i++)
    if (hdr[i] == '\0' || lower(hdr[i]) != lower(scheme[i])) return NULL;
  const char *p = hdr + n;
  if (*p != ' ') return NULL;
  while (*p == ' ') p++;
  size_t l = strlen(p);
  while (l > 0 && (p[l - 1] == ' ' || p[l - 1] == '\t')) l--;
  if (l == 0 || l > PMX__AUTH_MAX) return NULL;
  *len = l;
  return p;
}

bool pmx__auth_check(pmx_auth_strategy_t strategy, const char *token, const char *user,
                     const char *password, const char *authorization) {
  if (strategy == PMX_AUTH_NONE) return true;
  if (authorization == NULL) return false;
  size_t len = 0;
  if (strategy == PMX_AUTH_BEARER) {
    const char *cred = credentials(authorization, "Bearer", &len);
    if (cred == NULL || token == NULL) return false;
    return digest_eq(cred, len, token) == 1;
  }
  if (strategy == PMX_AUTH_BASIC) {
    const char *cred = credentials(authorization, "Basic", &len);
    if (cred == NULL || user == NULL || password == NULL) return false;
    unsigned char plain[PMX__AUTH_MAX];
    long n = pmx__base64_decode(cred, len, plain, sizeof plain);
    if (n < 0) return false;
    unsigned char *colon = memchr(plain, ':', (size_t)n);
    if (colon == NULL) return false;
    size_t ulen = (size_t)(colon - plain);
    int ok = digest_eq(plain, ulen, user);
    ok &= digest_eq(colon + 1, (size_t)n - ulen - 1, password);
    explicit_bzero(plain, sizeof plain); /* do not leave the password on the stack */
    return ok == 1;
  }
  return false;
}

const char *pmx__auth_challenge(pmx_auth_strategy_t strategy) {
  switch (strategy) {
    case PMX_AUTH_BEARER:
      return "Bearer realm=\"promex\"";
    case PMX_AUTH_BASIC:
      return "Basic realm=\"promex\", charset=\"UTF-8\"";
    default:
      return NULL;
  }
}
