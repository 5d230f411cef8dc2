/* How a metadata value becomes a label value: shared by the event handler that records series
 * (metric_events.c) and pmx_retire (metric_retire.c), so that a retire names a series exactly as
 * the events that created it did. Private to core. */
#ifndef PMX_CORE_META_LABEL_H
#define PMX_CORE_META_LABEL_H

#include <stdbool.h>
#include <string.h>

#include "core/core_internal.h"

/* Writes the label value of `md` to val and len, formatting numbers into `scratch` (32 bytes).
 * Returns false for values that cannot be a label (opaque pointers, NULL strings). */
static inline bool pmx__meta_label(const pmx_meta_t *md, char *scratch, const char **val,
                                   size_t *len) {
  switch (md->type) {
    case PMX_META_STR:
      if (md->v.s == NULL) return false;
      *val = md->v.s;
      *len = strlen(md->v.s);
      return true;
    case PMX_META_INT:
      *len = pmx__fmt_i64(scratch, md->v.i);
      *val = scratch;
      return true;
    case PMX_META_DOUBLE:
      *len = pmx__fmt_double(scratch, md->v.d);
      *val = scratch;
      return true;
    case PMX_META_BOOL:
      *val = md->v.b ? "true" : "false";
      *len = md->v.b ? 4 : 5;
      return true;
    default:
      return false;
  }
}

#endif
