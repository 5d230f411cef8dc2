/* Private to the http_server plugin and its adapters: the route table (routes.c) and option
 * parsing (options.c), kept apart from the plugin glue so that unit tests can drive them
 * directly. Nothing here is API. */
#ifndef PMX_HTTP_SERVER_INTERNAL_H
#define PMX_HTTP_SERVER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "promex/metric.h"
#include "promex/plugins/http_server.h"

#define PMX__HTTP_MAX_PATTERNS 256
#define PMX__HTTP_MAX_PATTERN_LEN 256
#define PMX__HTTP_MAX_LABEL_LEN 128

typedef enum pmx__seg_kind { PMX__SEG_LIT, PMX__SEG_PARAM, PMX__SEG_REST } pmx__seg_kind_t;

typedef struct pmx__seg {
  pmx__seg_kind_t kind;
  const char *s; /* literal text (points into the pattern's own copy) */
  size_t len;
} pmx__seg_t;

/* One compiled pattern: its text (the route label, or the additional route's label) and
 * segments. */
typedef struct pmx__route {
  char *text;    /* the pattern as written */
  char *label;   /* the label value reported when it matches (text, or additional's label) */
  pmx__seg_t *segs;
  size_t n_segs;
} pmx__route_t;

typedef struct pmx__route_list {
  pmx__route_t *items;
  size_t n;
} pmx__route_list_t;

/* Parses a comma-separated list of patterns (with_labels: "label=pattern" pairs) into `out`.
 * Empty or NULL `spec` gives an empty list. On error returns PMX_ECONFIG and writes a message
 * naming `option` into err (cap bytes); PMX_ENOMEM on allocation failure. */
int pmx__routes_parse(const char *spec, bool with_labels, const char *option,
                      pmx__route_list_t *out, char *err, size_t cap);
void pmx__routes_free(pmx__route_list_t *l);

/* True if `path` (length len; a query string or fragment after '?'/'#' is ignored, as is one
 * trailing '/') matches the compiled pattern. No allocation. */
bool pmx__route_match(const pmx__route_t *r, const char *path, size_t len);

/* The first route of `l` matching `path`, or NULL. */
const pmx__route_t *pmx__routes_find(const pmx__route_list_t *l, const char *path);

/* Parses a comma-separated list of bucket bounds: finite, > 0, strictly increasing, at most
 * PMX_MAX_BUCKETS. Returns the count (>= 1) in *n and a malloc'd array in *out, or PMX_ECONFIG with
 * a message naming `option` in err. */
int pmx__buckets_parse(const char *spec, const char *option, double **out, size_t *n, char *err,
                       size_t cap);

/* Parses "true"/"false" (also 1/0, yes/no, on/off). PMX_OK or PMX_ECONFIG. */
int pmx__bool_parse(const char *spec, const char *option, bool *out, char *err, size_t cap);

/* The method as a bounded label value: the standard method names (case-sensitive) or "OTHER". */
const char *pmx__http_method_label(const char *method);

/* Formats a status label into buf (>= 8 bytes): "404", "4xx" with `cls`, or "invalid". */
const char *pmx__http_status_label(long long status, bool cls, char *buf);

#endif
