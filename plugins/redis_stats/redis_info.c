/* The INFO and connection string parsers of redis_stats; see redis_info.h. */
#include "redis_info.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int push(pmx__redis_info_t *info, const char *section, const char *key, const char *value) {
  if (info->n >= PMX__REDIS_MAX_FIELDS) {
    info->skipped++;
    return 0;
  }
  if (info->n == info->cap) {
    size_t cap = info->cap ? info->cap * 2 : 256;
    pmx__redis_field_t *f = realloc(info->f, cap * sizeof *f);
    if (f == NULL) return -1;
    info->f = f;
    info->cap = cap;
  }
  info->f[info->n++] = (pmx__redis_field_t){section, key, value};
  return 0;
}

int pmx__redis_info_parse(char *text, size_t len, pmx__redis_info_t *info) {
  info->n = 0;
  info->skipped = 0;
  text[len] = '\0';
  const char *section = "";
  size_t i = 0;
  while (i < len) {
    char *line = text + i;
    size_t e = i;
    while (e < len && text[e] != '\n') e++;
    size_t next = e < len ? e + 1 : len;
    /* Trim the line end: CRLF in INFO, but accept bare LF too. */
    size_t end = e;
    if (end > i && text[end - 1] == '\r') end--;
    text[end] = '\0';
    if (e < len) text[e] = '\0';
    size_t llen = end - i;
    i = next;
    if (llen == 0) continue;
    /* An embedded NUL ends the line early: what follows it is ignored. */
    if (line[0] == '#') {
      char *s = line + 1;
      while (*s == ' ') s++;
      section = s;
      continue;
    }
    char *colon = strchr(line, ':');
    if (colon == NULL || colon == line) {
      info->skipped++;
      continue;
    }
    *colon = '\0';
    /* A field name is printable ASCII; a control byte (a stray CR) makes the line malformed. */
    bool bad = false;
    for (const char *k = line; *k; k++) bad |= (unsigned char)*k < 0x20 || *k == 0x7f;
    if (bad) {
      info->skipped++;
      continue;
    }
    if (push(info, section, line, colon + 1) != 0) return -1;
  }
  return 0;
}

void pmx__redis_info_free(pmx__redis_info_t *info) {
  free(info->f);
  memset(info, 0, sizeof *info);
}

const char *pmx__redis_info_get(const pmx__redis_info_t *info, const char *key) {
  for (size_t i = 0; i < info->n; i++)
    if (strcmp(info->f[i].key, key) == 0) return info->f[i].value;
  return NULL;
}

bool pmx__redis_number(const char *s, double *out) {
  if (s == NULL || *s == '\0') return false;
  /* strtod accepts leading spaces, "inf", "nan" and hex: INFO never sends them, so refuse. */
  if (!(*s == '-' || *s == '+' || *s == '.' || (*s >= '0' && *s <= '9'))) return false;
  for (const char *p = s; *p; p++)
    if (*p == 'x' || *p == 'X' || *p == 'n' || *p == 'N' || *p == 'i' || *p == 'I') return false;
  char *end = NULL;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || *end != '\0' || errno == ERANGE || !isfinite(v)) return false;
  *out = v;
  return true;
}

/* Finds name=value in a comma list; returns the value's start and sets *vlen. */
static const char *sub_find(const char *list, const char *name, size_t *vlen) {
  if (list == NULL) return NULL;
  size_t nl = strlen(name);
  const char *p = list;
  while (*p) {
    const char *e = strchr(p, ',');
    if (e == NULL) e = p + strlen(p);
    if ((size_t)(e - p) > nl && memcmp(p, name, nl) == 0 && p[nl] == '=') {
      *vlen = (size_t)(e - (p + nl + 1));
      return p + nl + 1;
    }
    p = *e ? e + 1 : e;
  }
  return NULL;
}

bool pmx__redis_sub_str(const char *list, const char *name, char *buf, size_t cap) {
  size_t vl = 0;
  const char *v = sub_find(list, name, &vl);
  if (v == NULL || cap == 0 || vl >= cap) return false;
  memcpy(buf, v, vl);
  buf[vl] = '\0';
  return true;
}

bool pmx__redis_sub_number(const char *list, const char *name, double *out) {
  char buf[64];
  return pmx__redis_sub_str(list, name, buf, sizeof buf) && pmx__redis_number(buf, out);
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Copies s[0..n) into dst (cap), decoding %XX. Returns false if it does not fit or an escape is
 * bad. */
static bool decode(const char *s, size_t n, char *dst, size_t cap) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= n) return false;
      int a = hexval(s[i + 1]), b = hexval(s[i + 2]);
      if (a < 0 || b < 0) return false;
      c = (char)(a * 16 + b);
      if (c == '\0') return false;
      i += 2;
    }
    if (o + 1 >= cap) return false;
    dst[o++] = c;
  }
  dst[o] = '\0';
  return true;
}

static int fail(char *err, size_t errcap, const char *msg) {
  if (err != NULL && errcap > 0) snprintf(err, errcap, "%s", msg);
  return -1;
}

static bool parse_int(const char *s, size_t n, long lo, long hi, long *out) {
  if (n == 0 || n > 9) return false;
  long v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  if (v < lo || v > hi) return false;
  *out = v;
  return true;
}

int pmx__redis_url_parse(const char *url, pmx__redis_target_t *t, char *err, size_t errcap) {
  memset(t, 0, sizeof *t);
  t->port = 6379;
  t->db = -1;
  if (url == NULL || *url == '\0') return fail(err, errcap, "empty connection string");
  if (strncmp(url, "unix://", 7) == 0) {
    const char *path = url + 7;
    if (path[0] != '/') return fail(err, errcap, "unix:// needs an absolute socket path");
    if (strlen(path) >= sizeof t->unix_path) return fail(err, errcap, "socket path too long");
    snprintf(t->unix_path, sizeof t->unix_path, "%s", path);
    return 0;
  }
  const char *p = url;
  if (strncmp(p, "redis://", 8) == 0) p += 8;
  else if (strstr(p, "://") != NULL)
    return fail(err, errcap, "unsupported scheme (use redis:// or unix://; TLS is not supported)");
  /* userinfo: up to the last '@' (a password may contain '@' only percent-encoded, but be
   * lenient: the last '@' before the host wins). */
  const char *at = strrchr(p, '@');
  if (at != NULL) {
    const char *colon = memchr(p, ':', (size_t)(at - p));
    const char *uend = colon != NULL ? colon : at;
    if (!decode(p, (size_t)(uend - p), t->user, sizeof t->user))
      return fail(err, errcap, "bad or too long user name");
    if (colon != NULL &&
        !decode(colon + 1, (size_t)(at - colon - 1), t->password, sizeof t->password))
      return fail(err, errcap, "bad or too long password");
    p = at + 1;
  }
  const char *slash = strchr(p, '/');
  const char *hend = slash != NULL ? slash : p + strlen(p);
  const char *hstart = p, *hstop = hend, *port = NULL;
  if (*p == '[') { /* [::1]:6379 */
    const char *rb = memchr(p, ']', (size_t)(hend - p));
    if (rb == NULL) return fail(err, errcap, "unterminated [ in host");
    hstart = p + 1;
    hstop = rb;
    if (rb + 1 < hend) {
      if (rb[1] != ':') return fail(err, errcap, "garbage after ] in host");
      port = rb + 2;
    }
  } else {
    const char *colon = memchr(p, ':', (size_t)(hend - p));
    if (colon != NULL) {
      hstop = colon;
      port = colon + 1;
    }
  }
  size_t hl = (size_t)(hstop - hstart);
  if (hl == 0) return fail(err, errcap, "missing host");
  if (hl >= sizeof t->host) return fail(err, errcap, "host too long");
  memcpy(t->host, hstart, hl);
  t->host[hl] = '\0';
  if (port != NULL) {
    long v;
    if (!parse_int(port, (size_t)(hend - port), 1, 65535, &v))
      return fail(err, errcap, "port must be 1..65535");
    t->port = (int)v;
  }
  if (slash != NULL && slash[1] != '\0') {
    long v;
    if (!parse_int(slash + 1, strlen(slash + 1), 0, 1000000, &v))
      return fail(err, errcap, "database after / must be a number");
    t->db = (int)v;
  }
  return 0;
}
