/* Metric and label name rules (Prometheus legacy character set) and UTF-8 validation of label
 * values: a single invalid byte sequence would make Prometheus reject the whole scrape, so values
 * are checked once, when their series is created. */
#include <string.h>

#include "core/core_internal.h"

static bool is_alpha_(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }

const char *pmx__metric_name_rule(const char *name) {
  if (name == NULL || *name == '\0') return "a metric name must not be empty";
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
