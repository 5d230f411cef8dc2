/* Fuzz target for metric definitions and what they render.
 *
 * An input is a list of definitions, one per line, with '|'-separated fields:
 *   kind|prefix|name|description|tag,tag,...|bound,bound,...|value,value,...
 * kind is a digit (PMX_COUNTER..PMX_SUMMARY, anything else passes through as an invalid kind);
 * a field "-" is NULL; "\n", "\\", "\|", "\," and "\xHH" escape bytes inside fields. The values
 * are label values for one series (also used, as numbers, for an update).
 * All definitions go to one registry, so names meet each other and the registry's own families.
 * Properties checked (abort on violation):
 *   - a refused definition returns an error with err->code == rc and a message, and leaves the
 *     registry's output unchanged;
 *   - the output of both formats is valid UTF-8, has every family's TYPE line once, and no sample
 *     name belongs to two families (no collision after rendering);
 *   - OpenMetrics output ends with "# EOF".
 * Built as a libFuzzer target with -DPMX_LIBFUZZER (tests/fuzz/CMakeLists.txt, PMX_BUILD_FUZZ);
 * otherwise the replay main (replay_main.h) runs the seed corpus tests/fuzz/corpus/metric_def. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promex/promex.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FIELDS 7
#define MAX_ITEMS 24

/* Splits `s` (unescaped in place) on `sep`; returns the number of parts (at most max). */
static size_t split(char *s, char sep, char **parts, size_t max) {
  size_t n = 0;
  parts[n++] = s;
  char *w = s;
  for (char *r = s; *r; r++) {
    if (*r == '\\' && r[1] != '\0') {
      r++;
      if (*r == 'n') {
        *w++ = '\n';
      } else if (*r == 'x' && r[1] && r[2]) {
        char hex[3] = {r[1], r[2], 0};
        *w++ = (char)strtol(hex, NULL, 16);
        r += 2;
      } else {
        *w++ = *r;
      }
      continue;
    }
    if (*r == sep && n < max) {
      *w++ = '\0';
      parts[n++] = w;
      continue;
    }
    *w++ = *r;
  }
  *w = '\0';
  return n;
}

static bool valid_utf8(const unsigned char *s, size_t len) {
  size_t i = 0;
  while (i < len) {
    unsigned char c = s[i];
    size_t n = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : 9;
    if (n == 9 || i + n >= len + (n == 0)) return false;
    uint32_t cp = n == 0 ? c : n == 1 ? (c & 0x1Fu) : n == 2 ? (c & 0x0Fu) : (c & 0x07u);
    for (size_t k = 1; k <= n; k++) {
      if ((s[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3Fu);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000)) return false;
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

static char *render(pmx_registry_t *reg, pmx_format_t fmt, size_t *len) {
  pmx_buf_t buf = {0};
  if (pmx_render(reg, fmt, &buf) != PMX_OK) abort();
  char *s = malloc(buf.len + 1);
  if (s == NULL) abort();
  if (buf.len) memcpy(s, buf.data, buf.len);
  s[buf.len] = '\0';
  *len = buf.len;
  pmx_buf_free(&buf);
  return s;
}

/* Checks the rendered-name properties of one output (see the file comment). */
static void check_output(char *text, size_t len, bool om) {
  if (!valid_utf8((const unsigned char *)text, len)) abort();
  if (om && (len < 6 || strcmp(text + len - 6, "# EOF\n") != 0)) abort();
  /* Family of each TYPE line, and the family every sample name was seen under. */
  size_t cap = 64, nf = 0, ns = 0;
  char **fams = malloc(cap * sizeof *fams), **samples = malloc(cap * sizeof *samples);
  size_t *owner = malloc(cap * sizeof *owner);
  if (!fams || !samples || !owner) abort();
  for (char *line = text; *line;) {
    char *nl = strchr(line, '\n');
    if (nl == NULL) abort(); /* every line ends in a newline */
    *nl = '\0';
    if (nf + 1 >= cap || ns + 1 >= cap) {
      cap *= 2;
      fams = realloc(fams, cap * sizeof *fams);
      samples = realloc(samples, cap * sizeof *samples);
      owner = realloc(owner, cap * sizeof *owner);
      if (!fams || !samples || !owner) abort();
    }
    if (strncmp(line, "# TYPE ", 7) == 0) {
      char *name = line + 7;
      *strchr(name, ' ') = '\0';
      for (size_t i = 0; i < nf; i++) {
        if (strcmp(fams[i], name) == 0) abort(); /* a family twice */
      }
      fams[nf++] = name;
    } else if (line[0] != '#') {
      if (nf == 0) abort(); /* a sample before any TYPE */
      size_t n = strcspn(line, "{ ");
      line[n] = '\0';
      bool seen = false;
      for (size_t i = 0; i < ns; i++) {
        if (strcmp(samples[i], line) == 0) {
          if (owner[i] != nf - 1) abort(); /* one sample name under two families */
          seen = true;
        }
      }
      if (!seen) {
        samples[ns] = line;
        owner[ns++] = nf - 1;
      }
    }
    line = nl + 1;
  }
  free(fams);
  free(samples);
  free(owner);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 65536) return 0;
  char *in = malloc(size + 1);
  if (in == NULL) return 0;
  memcpy(in, data, size);
  in[size] = '\0'; /* an embedded NUL just ends the input early */
  pmx_registry_t *reg;
  if (pmx_registry_new(NULL, &reg) != PMX_OK) {
    free(in);
    return 0;
  }
  for (char *line = in; line != NULL && *line;) {
    char *nl = strchr(line, '\n');
    if (nl) *nl = '\0';
    char *f[MAX_FIELDS] = {0};
    size_t nfield = split(line, '|', f, MAX_FIELDS);
    for (size_t i = 0; i < nfield; i++) {
      if (strcmp(f[i], "-") == 0) f[i] = NULL;
    }
    pmx_metric_def_t d;
    memset(&d, 0, sizeof d);
    d.kind = (pmx_metric_kind_t)(f[0] && f[0][0] >= '0' && f[0][0] <= '9' ? f[0][0] - '0' : 0);
    d.prefix = nfield > 1 ? f[1] : NULL;
    d.name = nfield > 2 ? f[2] : NULL;
    d.description = nfield > 3 ? f[3] : NULL;
    d.measurement = "v";
    char *tags[MAX_ITEMS], *bounds_s[MAX_ITEMS], *values[MAX_ITEMS];
    double bounds[MAX_ITEMS];
    if (nfield > 4 && f[4]) {
      d.n_tags = split(f[4], ',', tags, MAX_ITEMS);
      d.tags = (const char *const *)tags;
    }
    if (nfield > 5 && f[5]) {
      d.n_buckets = split(f[5], ',', bounds_s, MAX_ITEMS);
      for (size_t i = 0; i < d.n_buckets; i++) bounds[i] = strtod(bounds_s[i], NULL);
      d.buckets = bounds;
    }
    size_t nvalues = nfield > 6 && f[6] ? split(f[6], ',', values, MAX_ITEMS) : 0;

    size_t before_len, after_len;
    char *before = render(reg, PMX_FORMAT_OPENMETRICS, &before_len);
    pmx_metric_t *m = NULL;
    pmx_error_t err;
    memset(&err, 0, sizeof err);
    int rc = pmx_metric_define(reg, &d, &m, &err);
    if (rc != PMX_OK) {
      if (m != NULL || err.code != rc || err.text[0] == '\0') abort();
      char *after = render(reg, PMX_FORMAT_OPENMETRICS, &after_len);
      if (after_len != before_len || memcmp(before, after, before_len) != 0) abort();
      free(after);
    } else {
      if (m == NULL) abort();
      pmx_series_t *s = NULL;
      if (pmx_metric_labels(m, (const char *const *)values, nvalues, &s) == PMX_OK) {
        double v = nvalues ? strtod(values[0], NULL) : 1;
        pmx_series_add(s, v);
        pmx_series_inc(s);
        pmx_series_set(s, v);
        pmx_series_observe(s, v);
      }
    }
    free(before);
    line = nl ? nl + 1 : NULL;
  }
  for (int fmt = 0; fmt < 2; fmt++) {
    size_t len;
    char *text = render(reg, (pmx_format_t)fmt, &len);
    check_output(text, len, fmt == PMX_FORMAT_OPENMETRICS);
    free(text);
  }
  pmx_registry_destroy(reg);
  free(in);
  return 0;
}

#ifndef PMX_LIBFUZZER
#include "replay_main.h"
#endif
