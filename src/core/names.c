/* Metric and label name rules (Prometheus legacy character set), HELP text rules, the names a
 * family occupies once rendered, and UTF-8 validation of label values: a single invalid byte
 * sequence would make Prometheus reject the whole scrape, so every string is checked once, when
 * its metric or series is created, never while rendering. */
#include <string.h>

#include "core/core_internal.h"

static bool is_alpha_(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }

const char *pmx__metric_name_rule(const char *name) {
  if (name == NULL || *name == '\0') return "a metric name must not be empty";
  if (strlen(name) > PMX_MAX_METRIC_NAME) return "a metric name may be at most PMX_MAX_METRIC_NAME (256) bytes long";
  if (!(is_alpha_(name[0]) || name[0] == ':')) {
    return "a metric name must start with a letter, '_' or ':' ([a-zA-Z_:][a-zA-Z0-9_:]*)";
  }
  for (const char *p = name; *p; p++) {
    if (!(is_alpha_(*p) || is_digit(*p) || *p == ':')) {
      return "a metric name may only contain letters, digits, '_' and ':' ([a-zA-Z_:][a-zA-Z0-9_:]*)";
    }
  }
  if (strncmp(name, "__", 2) == 0) return "names starting with \"__\" are reserved for Prometheus";
  return NULL;
}

const char *pmx__label_name_rule(const char *name) {
  if (name == NULL || *name == '\0') return "a label name must not be empty";
  if (!is_alpha_(name[0])) return "a label name must start with a letter or '_' ([a-zA-Z_][a-zA-Z0-9_]*)";
  for (const char *p = name; *p; p++) {
    if (!(is_alpha_(*p) || is_digit(*p))) {
      return "a label name may only contain letters, digits and '_' ([a-zA-Z_][a-zA-Z0-9_]*)";
    }
  }
  if (strncmp(name, "__", 2) == 0) return "label names starting with \"__\" are reserved for Prometheus";
  if (strcmp(name, "le") == 0) return "label \"le\" is reserved for histogram buckets";
  return NULL;
}

bool pmx__valid_utf8(const char *str, size_t len) {
  const unsigned char *s = (const unsigned char *)str;
  size_t i = 0;
  while (i < len) {
    unsigned char c = s[i];
    if (c < 0x80) {
      if (c == 0) return false;
      i++;
      continue;
    }
    size_t n;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= len) return false; /* truncated sequence */
    for (size_t k = 1; k <= n; k++) {
      if ((s[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    /* Overlong forms, surrogates and values past U+10FFFF are invalid. */
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000)) return false;
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

/* HELP text: Prometheus rejects a whole scrape whose HELP is not UTF-8, and a control character
 * (other than the tab, kept as is, and the newline, escaped) has no escape in either format. */
const char *pmx__help_rule(const char *help) {
  size_t len = strlen(help);
  if (len > PMX_MAX_HELP) return "the description (HELP) is longer than PMX_MAX_HELP (4096) bytes";
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)help[i];
    if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7F) {
      return "the description (HELP) contains a control character (only tab and newline are allowed)";
    }
  }
  if (!pmx__valid_utf8(help, len)) return "the description (HELP) is not valid UTF-8";
  return NULL;
}

size_t pmx__om_family_len(const char *name, bool counter) {
  size_t n = strlen(name);
  if (counter && n > 6 && strcmp(name + n - 6, "_total") == 0) return n - 6;
  return n;
}

/* Calls fn for `base` (len bytes) followed by `suffix`. */
static int emit(pmx__name_fn fn, void *ctx, char *buf, const char *base, size_t len, const char *suffix) {
  size_t sl = strlen(suffix);
  memmove(buf, base, len);
  memcpy(buf + len, suffix, sl + 1);
  return fn(ctx, buf, len + sl);
}

int pmx__family_names(const char *name, const char *type, pmx__name_fn fn, void *ctx) {
  size_t n = strlen(name);
  if (n > PMX_MAX_METRIC_NAME) return -1;
  char buf[PMX_MAX_METRIC_NAME + 16];
  int rc = emit(fn, ctx, buf, name, n, ""); /* the 0.0.4 family and, but for counters, samples */
  if (rc) return rc;
  if (strcmp(type, "counter") == 0) {
    /* OpenMetrics: family without _total; samples <family>_total and <family>_created. */
    size_t f = pmx__om_family_len(name, true);
    if (f != n && (rc = emit(fn, ctx, buf, name, f, ""))) return rc;
    if (f == n && (rc = emit(fn, ctx, buf, name, f, "_total"))) return rc;
    return emit(fn, ctx, buf, name, f, "_created");
  }
  if (strcmp(type, "histogram") == 0) {
    static const char *const suffixes[] = {"_bucket", "_count", "_sum", "_created"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
      if ((rc = emit(fn, ctx, buf, name, n, suffixes[i]))) return rc;
    }
  }
  return 0;
}
