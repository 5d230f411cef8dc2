/* Parsing of single configuration values (booleans, bounded integers, the manual metrics delay)
 * and ${VAR} expansion from the environment. Pure functions: no state, messages go to a
 * caller-provided buffer so the loader can prefix them with file, line and key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config_internal.h"
#include "internal.h"

bool pmx__config_is_ident(const char *s) {
  if (s == NULL || *s == '\0') return false;
  for (; *s != '\0'; s++) {
    char c = *s;
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

int pmx__config_parse_bool(const char *s, bool *out, char *msg, size_t cap) {
  static const char *const yes[] = {"true", "yes", "on", "1"};
  static const char *const no[] = {"false", "no", "off", "0"};
  for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
    if (strcasecmp(s, yes[i]) == 0) {
      *out = true;
      return PMX_OK;
    }
    if (strcasecmp(s, no[i]) == 0) {
      *out = false;
      return PMX_OK;
    }
  }
  snprintf(msg, cap, "expected a boolean (true/false/yes/no/on/off/1/0), got \"%s\"", s);
  return PMX_ECONFIG;
}

/* Decimal digits only: no sign, no spaces, no hex, so "08" is 8 and "-1" or "1e3" are refused
 * instead of being silently misread as strtoul would. */
static bool parse_digits(const char *s, uint64_t *out) {
  if (*s == '\0') return false;
  uint64_t v = 0;
  for (; *s != '\0'; s++) {
    if (*s < '0' || *s > '9') return false;
    unsigned d = (unsigned)(*s - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

int pmx__config_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out, char *msg,
                           size_t cap) {
  uint64_t v;
  if (!parse_digits(s, &v) || v < min || v > max) {
    snprintf(msg, cap, "expected an integer %llu-%llu, got \"%s\"", (unsigned long long)min,
             (unsigned long long)max, s);
    return PMX_ECONFIG;
  }
  *out = v;
  return PMX_OK;
}

int pmx__config_parse_delay(const char *s, uint64_t max, int64_t *out, char *msg, size_t cap) {
  if (strcmp(s, "no_delay") == 0) {
    *out = 0;
    return PMX_OK;
  }
  uint64_t v;
  if (!parse_digits(s, &v) || v > max) {
    snprintf(msg, cap, "expected no_delay or a number of milliseconds 0-%llu, got \"%s\"",
             (unsigned long long)max, s);
    return PMX_ECONFIG;
  }
  *out = (int64_t)v;
  return PMX_OK;
}

static bool var_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
static bool var_char(char c) { return var_start(c) || (c >= '0' && c <= '9'); }

int pmx__config_expand_env(const char *in, char **out, char *msg, size_t cap) {
  pmx_buf_t b = {0};
  int rc = PMX_OK;
  const char *p = in;
  while (rc == PMX_OK && *p != '\0') {
    const char *dollar = strchr(p, '$');
    size_t lit = dollar ? (size_t)(dollar - p) : strlen(p);
    /* Zero-length appends are skipped: pmx__buf_append would memcpy into a still-NULL buffer. */
    if (lit > 0) rc = pmx__buf_append(&b, p, lit);
    if (rc != PMX_OK || dollar == NULL) break;
    p = dollar + 1;
    if (*p == '$') {
      rc = pmx__buf_append(&b, "$", 1);
      p++;
      continue;
    }
    if (*p != '{') {
      snprintf(msg, cap, "'$' must start ${VAR} or be doubled ($$) for a literal '$'");
      rc = PMX_ECONFIG;
      break;
    }
    const char *name = p + 1;
    const char *q = name;
    while (var_char(*q)) q++;
    if (q == name || !var_start(*name) || *q != '}') {
      snprintf(msg, cap, "malformed variable reference: expected ${NAME} with NAME [A-Za-z_][A-Za-z0-9_]*");
      rc = PMX_ECONFIG;
      break;
    }
    char var[128];
    size_t n = (size_t)(q - name);
    if (n >= sizeof var) {
      snprintf(msg, cap, "environment variable name longer than %zu characters", sizeof var - 1);
      rc = PMX_ECONFIG;
      break;
    }
    memcpy(var, name, n);
    var[n] = '\0';
    const char *val = getenv(var);
    if (val == NULL) {
      snprintf(msg, cap, "environment variable %s is not set", var);
      rc = PMX_ECONFIG;
      break;
    }
    if (*val != '\0') rc = pmx__buf_append(&b, val, strlen(val));
    p = q + 1;
  }
  if (rc == PMX_OK) rc = pmx__buf_append(&b, "", 1); /* NUL terminator */
  if (rc != PMX_OK) {
    if (rc == PMX_ENOMEM || rc == PMX_ELIMIT) {
      snprintf(msg, cap, "out of memory");
      rc = PMX_ENOMEM;
    }
    pmx__free(b.data);
    *out = NULL;
    return rc;
  }
  /* The buffer grows in 4 KiB steps; give the slack back since loaded values live long. */
  char *shrunk = pmx__realloc(b.data, b.len);
  *out = shrunk != NULL ? shrunk : b.data;
  return PMX_OK;
}
