/* HTTP content negotiation for scrapes: which exposition format an Accept header asks for, and
 * whether an Accept-Encoding header allows gzip.
 *
 * Both parsers are pure functions over a NUL-terminated string: no allocation, no locale, no
 * state, so they are thread-safe and cannot fail. They are deliberately lenient per element: a
 * malformed list element (bad token, bad q-value, unterminated quoted string) is ignored and the
 * rest of the header still counts, so one odd entry from a proxy cannot flip a scrape into an
 * error. A header from which nothing usable remains means "no preference": text 0.0.4 and no gzip.
 *
 * Matching follows RFC 9110 section 12.5.1: for each format we offer, the most specific matching
 * media range decides its q-value (type/subtype with parameters > type/subtype > type/x > x/x),
 * so `application/openmetrics-text;q=0` excludes OpenMetrics even when `x/x` is present. We offer
 * three representations: `application/openmetrics-text; version=1.0.0`, `text/plain;
 * version=0.0.4` and `application/vnd.google.protobuf`, the last only when named with
 * proto=io.prometheus.client.MetricFamily and encoding=delimited (never through a wildcard: it is
 * binary). A range naming another version (OpenMetrics 0.0.1, text 1.0.0) does not match ours. */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "internal.h"
#include "promex/negotiate.h"

const char *pmx_format_content_type(pmx_format_t fmt) {
  if (fmt == PMX_FORMAT_OPENMETRICS) return "application/openmetrics-text; version=1.0.0; charset=utf-8";
  if (fmt == PMX_FORMAT_PROTOBUF) {
    return "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";
  }
  return "text/plain; version=0.0.4; charset=utf-8";
}

/* ---- Lexing helpers (RFC 9110 tokens, OWS, quoted strings) ---- */

static bool is_tchar(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_ows(char c) { return c == ' ' || c == '\t'; }

static char lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }

/* Case-insensitive comparison of the span [s, s+n) with the NUL-terminated `lit`. */
static bool span_ieq(const char *s, size_t n, const char *lit) {
  size_t m = strlen(lit);
  if (n != m) return false;
  for (size_t i = 0; i < n; i++)
    if (lower(s[i]) != lower(lit[i])) return false;
  return true;
}

static const char *skip_ows(const char *p) {
  while (is_ows(*p)) p++;
  return p;
}

/* Reads a token at *p; returns its length (0 if none) and advances *p. */
static size_t read_token(const char **p) {
  const char *s = *p;
  while (is_tchar((unsigned char)*s)) s++;
  size_t n = (size_t)(s - *p);
  *p = s;
  return n;
}

/* A parameter value: a token or a quoted string. The unescaped value is copied into `val`
 * (truncated to cap-1; values we care about are short). Returns false if malformed. */
static bool read_value(const char **p, char *val, size_t cap) {
  const char *s = *p;
  size_t n = 0;
  if (*s == '"') {
    s++;
    for (;;) {
      char c = *s;
      if (c == '\0') return false; /* unterminated */
      if (c == '"') {
        s++;
        break;
      }
      if (c == '\\') {
        s++;
        if (*s == '\0') return false;
        c = *s;
      }
      if (n + 1 < cap) val[n++] = c;
      s++;
    }
  } else {
    const char *t = s;
    size_t len = read_token(&t);
    if (len == 0) return false;
    for (size_t i = 0; i < len; i++)
      if (n + 1 < cap) val[n++] = s[i];
    s = t;
  }
  val[n] = '\0';
  *p = s;
  return true;
}

/* RFC 9110 qvalue into thousandths: "0", "0.5", "1", "1.000". Returns -1 if malformed. */
static int parse_q(const char *v) {
  if (v[0] == '0') {
    if (v[1] == '\0') return 0;
    if (v[1] != '.') return -1;
    int q = 0, digits = 0;
    for (const char *d = v + 2; *d; d++) {
      if (*d < '0' || *d > '9' || ++digits > 3) return -1;
      q = q * 10 + (*d - '0');
    }
    for (; digits < 3; digits++) q *= 10;
    return q;
  }
  if (v[0] == '1') {
    if (v[1] == '\0') return 1000;
    if (v[1] != '.') return -1;
    int digits = 0;
    for (const char *d = v + 2; *d; d++)
      if (*d != '0' || ++digits > 3) return -1;
    return 1000;
  }
  return -1;
}

/* Skips to just after the next top-level ',' (or to the end), honouring quoted strings, so that a
 * malformed element is dropped without desynchronising the rest of the list. */
static const char *skip_element(const char *p) {
  bool quoted = false;
  for (; *p; p++) {
    if (quoted) {
      if (*p == '\\' && p[1] != '\0') p++;
      else if (*p == '"') quoted = false;
    } else if (*p == '"') {
      quoted = true;
    } else if (*p == ',') {
      return p + 1;
    }
  }
  return p;
}

/* The protobuf exposition's parameters: which message, and how they are framed. */
typedef struct pb_params {
  char proto[64];
  char encoding[32];
} pb_params_t;

/* Parameters after a media range or coding: ";name=value" repeated. Extracts q (thousandths,
 * default 1000), `version` (empty if absent) and, if `pb` is not NULL, proto and encoding.
 * Returns false if malformed. *p is left at the element's end (',' or NUL). */
static bool read_params(const char **p, int *q, char *version, size_t vcap, bool *has_version,
                        pb_params_t *pb) {
  const char *s = *p;
  *q = 1000;
  *has_version = false;
  version[0] = '\0';
  if (pb) pb->proto[0] = pb->encoding[0] = '\0';
  for (;;) {
    s = skip_ows(s);
    if (*s == ',' || *s == '\0') break;
    if (*s != ';') return false;
    s = skip_ows(s + 1);
    if (*s == ',' || *s == '\0') break; /* a trailing ';' is harmless */
    const char *name = s;
    size_t nlen = read_token(&s);
    if (nlen == 0) return false;
    s = skip_ows(s);
    if (*s != '=') return false;
    s = skip_ows(s + 1);
    char val[64];
    if (!read_value(&s, val, sizeof val)) return false;
    if (span_ieq(name, nlen, "q")) {
      int qv = parse_q(val);
      if (qv < 0) return false;
      *q = qv;
    } else if (span_ieq(name, nlen, "version")) {
      pmx__strlcpy(version, val, vcap);
      *has_version = true;
    } else if (pb && span_ieq(name, nlen, "proto")) {
      pmx__strlcpy(pb->proto, val, sizeof pb->proto);
    } else if (pb && span_ieq(name, nlen, "encoding")) {
      pmx__strlcpy(pb->encoding, val, sizeof pb->encoding);
    }
  }
  *p = s;
  return true;
}

/* ---- Accept ---- */

/* What one format we offer got from the header: the q of the most specific matching range, and
 * where that range was (for ties). specificity -1 = no range matched. */
typedef struct offer_match {
  int specificity;
  int q;
  int position;
} offer_match_t;

static void consider(offer_match_t *m, int specificity, int q, int position) {
  /* A more specific range wins outright; among equally specific ranges the higher q wins (RFC
   * 9110 leaves duplicates undefined; preferring acceptance is the forgiving choice). */
  if (specificity > m->specificity || (specificity == m->specificity && q > m->q)) {
    m->specificity = specificity;
    m->q = q;
    m->position = position;
  }
}

pmx_format_t pmx_format_negotiate(const char *accept) {
  offer_match_t om = {-1, 0, 0}, text = {-1, 0, 0}, pbm = {-1, 0, 0};
  pb_params_t pb;
  if (accept == NULL) return PMX_FORMAT_TEXT;
  const char *p = accept;
  int position = 0;
  while (*p) {
    const char *elem = p;
    p = skip_ows(p);
    if (*p == ',') { /* empty list element, allowed by the list syntax */
      p++;
      continue;
    }
    const char *type = p;
    size_t tlen = read_token(&p);
    const char *sub = NULL;
    size_t slen = 0;
    bool ok = tlen > 0 && *p == '/';
    if (ok) {
      p++;
      sub = p;
      slen = read_token(&p);
      ok = slen > 0;
    }
    int q = 1000;
    char version[32];
    bool has_version = false;
    if (ok) ok = read_params(&p, &q, version, sizeof version, &has_version, &pb);
    if (!ok) {
      p = skip_element(elem);
      position++;
      continue;
    }
    bool type_any = span_ieq(type, tlen, "*");
    bool sub_any = span_ieq(sub, slen, "*");
    if (type_any && sub_any) {
      consider(&om, 0, q, position);
      consider(&text, 0, q, position);
    } else if (type_any) {
      /* "*\/subtype" is not a valid media range; ignore it. */
    } else if (sub_any) {
      if (span_ieq(type, tlen, "application")) consider(&om, 1, q, position);
      if (span_ieq(type, tlen, "text")) consider(&text, 1, q, position);
    } else if (span_ieq(type, tlen, "application") && span_ieq(sub, slen, "openmetrics-text")) {
      if (!has_version) consider(&om, 2, q, position);
      else if (strcmp(version, "1.0.0") == 0) consider(&om, 3, q, position);
    } else if (span_ieq(type, tlen, "application") && span_ieq(sub, slen, "vnd.google.protobuf")) {
      /* Only the delimited MetricFamily stream is ours; wildcards never select a binary format. */
      bool ours = strcmp(pb.proto, "io.prometheus.client.MetricFamily") == 0 &&
                  strcmp(pb.encoding, "delimited") == 0;
      if (ours) consider(&pbm, 3, q, position);
    } else if (span_ieq(type, tlen, "text") && span_ieq(sub, slen, "plain")) {
      if (!has_version) consider(&text, 2, q, position);
      else if (strcmp(version, "0.0.4") == 0) consider(&text, 3, q, position);
    }
    if (*p == ',') p++;
    position++;
  }
  /* Protobuf when named with the highest q (ties: listed first). */
  if (pbm.specificity >= 0 && pbm.q > 0) {
    bool beats_om = om.specificity < 0 || pbm.q > om.q ||
                    (pbm.q == om.q && pbm.position < om.position);
    bool beats_text = text.specificity < 0 || pbm.q > text.q ||
                      (pbm.q == text.q && pbm.position < text.position);
    if (beats_om && beats_text) return PMX_FORMAT_PROTOBUF;
  }
  if (om.specificity < 0 || om.q == 0) return PMX_FORMAT_TEXT;
  if (text.specificity < 0 || om.q > text.q) return PMX_FORMAT_OPENMETRICS;
  /* Equal q: the range listed first wins. When one wildcard range decides both, the client
   * expressed no preference and text, the format every scraper reads, is the answer. */
  if (om.q == text.q && om.position < text.position) return PMX_FORMAT_OPENMETRICS;
  return PMX_FORMAT_TEXT;
}

/* ---- Accept-Encoding ---- */

bool pmx_accepts_gzip(const char *accept_encoding) {
  if (accept_encoding == NULL) return false;
  int gzip_q = -1, star_q = -1; /* -1: not mentioned */
  const char *p = accept_encoding;
  while (*p) {
    const char *elem = p;
    p = skip_ows(p);
    if (*p == ',') {
      p++;
      continue;
    }
    const char *coding = p;
    size_t clen = read_token(&p);
    int q = 1000;
    char version[32];
    bool has_version = false;
    bool ok = clen > 0 && read_params(&p, &q, version, sizeof version, &has_version, NULL);
    if (!ok) {
      p = skip_element(elem);
      continue;
    }
    /* "x-gzip" is the historical alias that RFC 9110 says to treat as gzip. */
    if (span_ieq(coding, clen, "gzip") || span_ieq(coding, clen, "x-gzip")) {
      if (q > gzip_q) gzip_q = q;
    } else if (span_ieq(coding, clen, "*")) {
      if (q > star_q) star_q = q;
    }
    if (*p == ',') p++;
  }
  if (gzip_q >= 0) return gzip_q > 0;
  return star_q > 0;
}
