/* Route templates and option values of the http_server plugin (see http_server.h for the syntax).
 *
 * Patterns are compiled once, at start, into segment arrays; matching walks the request path and
 * the segments side by side, so a lookup neither allocates nor copies the path, and its cost does
 * not depend on what a client puts in the URL beyond its length. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_server_internal.h"
#include "internal.h"

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* Label values are the application's own names: printable ASCII without quotes, commas or '='
 * keeps them readable in PromQL and unambiguous in the option syntax. */
static bool valid_label_char(unsigned char c) {
  return c > 0x20 && c < 0x7f && c != '"' && c != '\\' && c != ',' && c != '=';
}

static int compile(pmx__route_t *r, const char *option, char *err, size_t cap) {
  const char *t = r->text;
  if (t[0] != '/') {
    snprintf(err, cap, "option %s: pattern \"%s\" must start with '/'", option, t);
    return PMX_ECONFIG;
  }
  size_t n = 0;
  for (const char *p = t; *p; p++) {
    if (*p == '/') n++;
    if (!valid_label_char((unsigned char)*p)) {
      snprintf(err, cap, "option %s: pattern \"%s\" has a character that is not allowed", option,
               t);
      return PMX_ECONFIG;
    }
  }
  r->segs = pmx__calloc(n, sizeof *r->segs);
  if (r->segs == NULL) return PMX_ENOMEM;
  const char *p = t + 1;
  if (*p == '\0') return PMX_OK; /* "/" : no segments */
  for (;;) {
    const char *q = strchr(p, '/');
    size_t len = q ? (size_t)(q - p) : strlen(p);
    if (len == 0) {
      if (q == NULL) break; /* trailing '/' in the template: ignored like on paths */
      snprintf(err, cap, "option %s: pattern \"%s\" has an empty segment", option, t);
      return PMX_ECONFIG;
    }
    pmx__seg_t *s = &r->segs[r->n_segs++];
    s->s = p;
    s->len = len;
    if (p[0] == ':') {
      if (len == 1) {
        snprintf(err, cap, "option %s: pattern \"%s\": a parameter needs a name (\":id\")", option,
                 t);
        return PMX_ECONFIG;
      }
      s->kind = PMX__SEG_PARAM;
    } else if (p[0] == '*') {
      if (q != NULL) {
        snprintf(err, cap, "option %s: pattern \"%s\": '*' is only allowed in the last segment",
                 option, t);
        return PMX_ECONFIG;
      }
      s->kind = PMX__SEG_REST;
    } else {
      s->kind = PMX__SEG_LIT;
    }
    if (q == NULL) break;
    p = q + 1;
  }
  return PMX_OK;
}

void pmx__routes_free(pmx__route_list_t *l) {
  if (l == NULL) return;
  for (size_t i = 0; i < l->n; i++) {
    if (l->items[i].label != l->items[i].text) pmx__free(l->items[i].label);
    pmx__free(l->items[i].text);
    pmx__free(l->items[i].segs);
  }
  pmx__free(l->items);
  l->items = NULL;
  l->n = 0;
}

/* Copies [b, e) trimmed of surrounding whitespace; NULL on allocation failure. */
static char *dup_trim(const char *b, const char *e) {
  while (b < e && is_space(*b)) b++;
  while (e > b && is_space(e[-1])) e--;
  char *s = pmx__malloc((size_t)(e - b) + 1);
  if (s == NULL) return NULL;
  memcpy(s, b, (size_t)(e - b));
  s[e - b] = '\0';
  return s;
}

static int parse_item(const char *b, const char *e, bool with_labels, const char *option,
                      pmx__route_t *r, char *err, size_t cap) {
  char *item = dup_trim(b, e);
  if (item == NULL) return PMX_ENOMEM;
  if (item[0] == '\0') {
    snprintf(err, cap, "option %s: empty entry in the list", option);
    pmx__free(item);
    return PMX_ECONFIG;
  }
  if (strlen(item) > PMX__HTTP_MAX_PATTERN_LEN) {
    snprintf(err, cap, "option %s: entry longer than %d bytes", option, PMX__HTTP_MAX_PATTERN_LEN);
    pmx__free(item);
    return PMX_ECONFIG;
  }
  if (!with_labels) {
    r->text = r->label = item;
    return compile(r, option, err, cap);
  }
  char *eq = strchr(item, '=');
  if (eq == NULL) {
    snprintf(err, cap, "option %s: entry \"%s\" must be label=pattern", option, item);
    pmx__free(item);
    return PMX_ECONFIG;
  }
  r->label = dup_trim(item, eq);
  r->text = dup_trim(eq + 1, eq + strlen(eq));
  pmx__free(item);
  if (r->label == NULL || r->text == NULL) return PMX_ENOMEM;
  if (r->label[0] == '\0' || strlen(r->label) > PMX__HTTP_MAX_LABEL_LEN) {
    snprintf(err, cap, "option %s: label of \"%s\" must be 1 to %d bytes", option, r->text,
             PMX__HTTP_MAX_LABEL_LEN);
    return PMX_ECONFIG;
  }
  for (const char *p = r->label; *p; p++)
    if (!valid_label_char((unsigned char)*p)) {
      snprintf(err, cap, "option %s: label \"%s\" has a character that is not allowed", option,
               r->label);
      return PMX_ECONFIG;
    }
  return compile(r, option, err, cap);
}

int pmx__routes_parse(const char *spec, bool with_labels, const char *option,
                      pmx__route_list_t *out, char *err, size_t cap) {
  memset(out, 0, sizeof *out);
  if (spec == NULL) return PMX_OK;
  const char *p = spec;
  while (is_space(*p)) p++;
  if (*p == '\0') return PMX_OK;
  size_t n = 1;
  for (const char *c = spec; *c; c++) n += *c == ',';
  if (n > PMX__HTTP_MAX_PATTERNS) {
    snprintf(err, cap, "option %s: more than %d entries", option, PMX__HTTP_MAX_PATTERNS);
    return PMX_ECONFIG;
  }
  out->items = pmx__calloc(n, sizeof *out->items);
  if (out->items == NULL) return PMX_ENOMEM;
  int rc = PMX_OK;
  for (const char *b = spec;; ) {
    const char *e = strchr(b, ',');
    if (e == NULL) e = b + strlen(b);
    rc = parse_item(b, e, with_labels, option, &out->items[out->n++], err, cap);
    if (rc != PMX_OK || *e == '\0') break;
    b = e + 1;
  }
  if (rc != PMX_OK) pmx__routes_free(out);
  return rc;
}

bool pmx__route_match(const pmx__route_t *r, const char *path, size_t len) {
  if (len == 0 || path[0] != '/') return false;
  const char *end = path;
  while (end < path + len && *end != '?' && *end != '#') end++;
  if (end - path > 1 && end[-1] == '/') end--; /* one trailing '/' is not a segment */
  const char *p = path + 1;
  bool more = p < end; /* is there a (possibly empty) segment at p? */
  for (size_t i = 0; i < r->n_segs; i++) {
    const pmx__seg_t *s = &r->segs[i];
    if (s->kind == PMX__SEG_REST) return true;
    if (!more) return false;
    const char *q = memchr(p, '/', (size_t)(end - p));
    size_t seg_len = q ? (size_t)(q - p) : (size_t)(end - p);
    if (s->kind == PMX__SEG_LIT) {
      if (seg_len != s->len || memcmp(p, s->s, seg_len) != 0) return false;
    } else if (seg_len == 0) {
      return false; /* a parameter needs a value */
    }
    if (q != NULL) {
      p = q + 1; /* another segment follows, even if empty ("//") */
    } else {
      more = false;
    }
  }
  return !more;
}

const pmx__route_t *pmx__routes_find(const pmx__route_list_t *l, const char *path) {
  if (path == NULL) return NULL;
  size_t len = strlen(path);
  for (size_t i = 0; i < l->n; i++)
    if (pmx__route_match(&l->items[i], path, len)) return &l->items[i];
  return NULL;
}

int pmx__buckets_parse(const char *spec, const char *option, double **out, size_t *n, char *err,
                       size_t cap) {
  *out = NULL;
  *n = 0;
  if (spec == NULL) {
    snprintf(err, cap, "option %s: no value", option);
    return PMX_ECONFIG;
  }
  size_t count = 1;
  for (const char *c = spec; *c; c++) count += *c == ',';
  if (count > PMX_MAX_BUCKETS) {
    snprintf(err, cap, "option %s: more than %d buckets", option, PMX_MAX_BUCKETS);
    return PMX_ECONFIG;
  }
  double *b = pmx__calloc(count, sizeof *b);
  if (b == NULL) return PMX_ENOMEM;
  const char *p = spec;
  for (size_t i = 0; i < count; i++) {
    while (is_space(*p)) p++;
    char *e = NULL;
    errno = 0;
    double v = strtod(p, &e);
    const char *after = e;
    while (after && is_space(*after)) after++;
    if (e == p || errno == ERANGE || !isfinite(v) || v <= 0 ||
        (*after != ',' && *after != '\0') || (*after == ',' && i + 1 == count) ||
        (i > 0 && !(v > b[i - 1]))) {
      snprintf(err, cap,
               "option %s: \"%s\" must be a comma-separated list of finite numbers > 0 in "
               "strictly increasing order", option, spec);
      pmx__free(b);
      return PMX_ECONFIG;
    }
    b[i] = v;
    p = after + 1;
  }
  *out = b;
  *n = count;
  return PMX_OK;
}

int pmx__bool_parse(const char *spec, const char *option, bool *out, char *err, size_t cap) {
  static const char *const yes[] = {"true", "1", "yes", "on"};
  static const char *const no[] = {"false", "0", "no", "off"};
  for (size_t i = 0; spec != NULL && i < 4; i++) {
    if (strcmp(spec, yes[i]) == 0) return *out = true, PMX_OK;
    if (strcmp(spec, no[i]) == 0) return *out = false, PMX_OK;
  }
  snprintf(err, cap, "option %s: \"%s\" must be true or false", option, spec ? spec : "(null)");
  return PMX_ECONFIG;
}

const char *pmx__http_method_label(const char *method) {
  static const char *const known[] = {"GET",     "HEAD",    "POST",  "PUT",  "DELETE",
                                      "PATCH",   "OPTIONS", "CONNECT", "TRACE"};
  if (method != NULL)
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
      if (strcmp(method, known[i]) == 0) return known[i];
  return "OTHER";
}

const char *pmx__http_status_label(long long status, bool cls, char *buf) {
  if (status < 100 || status > 599) return "invalid";
  if (cls) {
    buf[0] = (char)('0' + status / 100);
    memcpy(buf + 1, "xx", 3);
  } else {
    snprintf(buf, 8, "%lld", status);
  }
  return buf;
}
