/* The debug handler (PromEx.Debug.attach_debugger): prints each event as one line. The line is
 * built in a stack buffer and written with one fputs, so lines from concurrent emits do not
 * interleave; an overlong line is cut and ends in "...". */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/core_internal.h"

typedef struct line {
  char buf[2048];
  size_t len;
} line_t;

static void addf(line_t *l, const char *fmt, ...) PMX_PRINTF(2, 3);
static void addf(line_t *l, const char *fmt, ...) {
  if (l->len >= sizeof l->buf - 1) return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(l->buf + l->len, sizeof l->buf - l->len, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  l->len += (size_t)n;
  if (l->len >= sizeof l->buf - 1) l->len = sizeof l->buf - 1;
}

static void debug_handler(const pmx_event_data_t *ev, void *config) {
  FILE *out = config ? config : stderr;
  line_t l = {.len = 0};
  addf(&l, "[promex] %s measurements={", pmx_event_name(ev->event));
  for (size_t i = 0; i < ev->n_measurements; i++) {
    addf(&l, "%s%s=%.17g", i ? ", " : "", ev->measurements[i].key ? ev->measurements[i].key : "?",
         ev->measurements[i].value);
  }
  addf(&l, "} metadata={");
  for (size_t i = 0; i < ev->n_metadata; i++) {
    const pmx_meta_t *m = &ev->metadata[i];
    const char *k = m->key ? m->key : "?";
    const char *sep = i ? ", " : "";
    switch (m->type) {
      case PMX_META_STR:
        addf(&l, "%s%s=\"%s\"", sep, k, m->v.s ? m->v.s : "(null)");
        break;
      case PMX_META_INT:
        addf(&l, "%s%s=%" PRId64, sep, k, m->v.i);
        break;
      case PMX_META_DOUBLE:
        addf(&l, "%s%s=%.17g", sep, k, m->v.d);
        break;
      case PMX_META_BOOL:
        addf(&l, "%s%s=%s", sep, k, m->v.b ? "true" : "false");
        break;
      default:
        addf(&l, "%s%s=<ptr %p>", sep, k, m->v.p);
        break;
    }
  }
  addf(&l, "}");
  if (l.len >= sizeof l.buf - 1) memcpy(l.buf + sizeof l.buf - 5, "...", 4), l.len = sizeof l.buf - 2;
  l.buf[l.len++] = '\n';
  l.buf[l.len] = '\0';
  fputs(l.buf, out);
}

int pmx_debug_attach(pmx_bus_t *bus, const char *id, const char *const *event_names, size_t n, void *out) {
  return pmx_bus_attach_many(bus, id, event_names, n, debug_handler, out);
}
