/* One emit's label values, shared by the metrics of the event that take the same tags.
 *
 * Several metrics often listen to one event with the same tags (http_server's request.stop feeds
 * four with method, route, status and host, through one tag_values resolver). Each used to run
 * the resolver, match its tags in the metadata and hash the values on its own. Metrics defined in
 * one registry with the same tag names (same order), the same tag_values and the same
 * tag_values_ctx share a tag group (pmx_metric.tag_group, set by pmx_metric_define), and within
 * one emit the first handler of a group leaves its lookup key here for the others.
 *
 * pmx_emit keeps one pmx__emit_keys_t on its stack when the event has more than one handler and
 * points pmx__emit_keys at it for the duration (restored after, so nested emits keep their own).
 * A handler called by anything but that emit sees a `data` that is not its own and ignores it.
 * The values point into the event's metadata, static strings, or the scratch in here, all valid
 * until the emit returns. */
#ifndef PMX_CORE_EMIT_KEYS_H
#define PMX_CORE_EMIT_KEYS_H

#include "core/series_key.h"
#include "internal.h"
#include "promex/event.h"
#include "promex/metric.h"

/* A metric's label values for one event and the key built from them. */
typedef struct pmx__tag_key {
  const char *values[PMX_MAX_TAGS];
  size_t lens[PMX_MAX_TAGS];
  char scratch[PMX_MAX_TAGS][40]; /* numbers formatted as label values */
  pmx_tag_source_t tag_source;    /* the resolver's output; values may point into its scratch */
  pmx__key_t key;
} pmx__tag_key_t;

typedef struct pmx__emit_keys {
  const pmx_event_data_t *data; /* the emit's event data: identifies the emit */
  const struct pmx_metric *group; /* tag group whose key `k` holds; NULL: none yet */
  pmx__tag_key_t k;
} pmx__emit_keys_t;

extern _Thread_local pmx__emit_keys_t *pmx__emit_keys PMX_TLS_FAST;

#endif
