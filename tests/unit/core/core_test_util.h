/* Small helpers shared by the core unit tests (tests/unit/core/test_*.c): rendering a registry to
 * a NUL-terminated string and looking for whole lines in it. Header-only (static inline) so each
 * test stays one translation unit; include after <cmocka.h>. */
#ifndef PMX_CORE_TEST_UTIL_H
#define PMX_CORE_TEST_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promex/promex.h"

#define PMX_TEST_PRINTF __attribute__((format(printf, 2, 3)))

/* Renders `reg` in `fmt` and returns a malloc'd NUL-terminated copy (fails the test on error). */
static inline char *ct_render(pmx_registry_t *reg, pmx_format_t fmt) {
  pmx_buf_t buf = {0};
  int rc = pmx_render(reg, fmt, &buf);
  assert_int_equal(rc, PMX_OK);
  char *s = malloc(buf.len + 1);
  assert_non_null(s);
  if (buf.len) memcpy(s, buf.data, buf.len);
  s[buf.len] = '\0';
  pmx_buf_free(&buf);
  return s;
}

/* True if `text` contains `line` as a complete line (between newlines). */
static inline bool ct_has_line(const char *text, const char *line) {
  size_t n = strlen(line);
  for (const char *p = text; (p = strstr(p, line)) != NULL; p++) {
    bool starts = p == text || p[-1] == '\n';
    bool ends = p[n] == '\n' || p[n] == '\0';
    if (starts && ends) return true;
  }
  return false;
}

/* Like ct_has_line with a printf-formatted line. */
static inline bool ct_has_linef(const char *text, const char *fmt, ...) PMX_TEST_PRINTF;
static inline bool ct_has_linef(const char *text, const char *fmt, ...) {
  char line[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  return ct_has_line(text, line);
}

/* Number of (possibly overlapping) occurrences of `needle` in `text`. */
static inline size_t ct_count(const char *text, const char *needle) {
  size_t n = 0;
  for (const char *p = text; (p = strstr(p, needle)) != NULL; p++) n++;
  return n;
}

/* Index of the line equal to `line` (0-based), or -1. */
static inline long ct_line_index(const char *text, const char *line) {
  size_t n = strlen(line);
  long idx = 0;
  for (const char *p = text; *p;) {
    const char *e = strchr(p, '\n');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (len == n && memcmp(p, line, n) == 0) return idx;
    if (!e) break;
    p = e + 1;
    idx++;
  }
  return -1;
}

/* The value after the last space of the first line starting with `prefix` followed by a space
 * (a sample line "name{labels} value"), parsed with strtod; fails the test when absent. */
static inline double ct_sample_value(const char *text, const char *prefix) {
  size_t n = strlen(prefix);
  for (const char *p = text; *p;) {
    const char *e = strchr(p, '\n');
    if (strncmp(p, prefix, n) == 0 && p[n] == ' ') return strtod(p + n + 1, NULL);
    if (!e) break;
    p = e + 1;
  }
  fail_msg("no sample line starting with \"%s \"", prefix);
  return 0;
}

/* A registry and a bus for one test (cmocka setup/teardown). */
typedef struct fixture {
  pmx_registry_t *reg;
  pmx_bus_t *bus;
} fixture_t;

static inline int ct_setup(void **state) {
  fixture_t *f = calloc(1, sizeof *f);
  if (f == NULL || pmx_registry_new(NULL, &f->reg) != PMX_OK || pmx_bus_new(&f->bus) != PMX_OK) return -1;
  *state = f;
  return 0;
}

static inline int ct_teardown(void **state) {
  fixture_t *f = *state;
  pmx_registry_destroy(f->reg); /* detaches metrics before the bus goes */
  pmx_bus_destroy(f->bus);
  free(f);
  return 0;
}

#endif
