/* Helpers for the plugin live tests and the poll-cost bench: find a series in a rendered
 * exposition by metric name and label pairs. */
#ifndef PMX_PLUGIN_TEST_UTIL_H
#define PMX_PLUGIN_TEST_UTIL_H

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Value of the first sample line of `name` (exact metric name) whose label set contains every
 * `k="v"` string in labels[0..n) (NULL-free). NAN when none. Only the text format is handled. */
static inline double pt_value(const char *text, const char *name, const char *const *labels,
                              size_t n) {
  size_t nl = strlen(name);
  const char *p = text;
  while (p && *p) {
    const char *eol = strchr(p, '\n');
    size_t len = eol ? (size_t)(eol - p) : strlen(p);
    if (p[0] != '#' && len > nl && strncmp(p, name, nl) == 0 && (p[nl] == '{' || p[nl] == ' ')) {
      bool ok = true;
      const char *close = p[nl] == '{' ? memchr(p, '}', len) : p + nl;
      for (size_t i = 0; i < n && ok; i++) {
        /* a label must start right after '{' or ',' (so name="x" never matches hostname="x") */
        const char *hit = p;
        ok = false;
        while ((hit = strstr(hit, labels[i])) != NULL && close != NULL && hit < close) {
          if (hit[-1] == '{' || hit[-1] == ',') {
            ok = true;
            break;
          }
          hit++;
        }
      }
      if (ok && close) {
        const char *v = strchr(close, ' ');
        if (v) return strtod(v + 1, NULL);
      }
    }
    p = eol ? eol + 1 : NULL;
  }
  return NAN;
}

/* Number of sample lines of metric `name`. */
static inline size_t pt_count(const char *text, const char *name) {
  size_t nl = strlen(name), c = 0;
  const char *p = text;
  while (p && *p) {
    if (p[0] != '#' && strncmp(p, name, nl) == 0 && (p[nl] == '{' || p[nl] == ' ')) c++;
    const char *eol = strchr(p, '\n');
    p = eol ? eol + 1 : NULL;
  }
  return c;
}

#endif
