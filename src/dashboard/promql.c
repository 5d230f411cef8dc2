/* A small PromQL scanner for the dashboard linter: finds metric names, Grafana variables, `le`
 * matchers and the series under histogram_quantile(). It is not a parser: it never rejects input
 * and only has to classify identifiers correctly:
 *   - an identifier followed by "(" is a function or aggregation, not a metric;
 *   - keywords (and, or, unless, bool, offset, by, without, on, ignoring, group_left,
 *     group_right) and aggregation operators (sum, count, topk, ...) are never metrics, and the
 *     label lists after by/without/on/ignoring/group_left/group_right are skipped;
 *   - label matchers {...}, strings and durations/numbers are skipped (variables inside strings
 *     are still reported, le="x" matchers are reported with the metric they follow).
 * Grafana variables ($x, ${x}, ${x:fmt}, [[x]]) are reported and otherwise ignored, so
 * `rate(m[$__rate_interval])` yields metric `m` and variable `__rate_interval`. */
#include <stdbool.h>
#include <string.h>

#include "dashboard/dashboard_internal.h"

static bool id_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}
static bool id_char(char c) { return id_start(c) || (c >= '0' && c <= '9'); }
static bool var_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (c >= '0' && c <= '9');
}
static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static bool word_is(const char *s, size_t n, const char *const *list) {
  for (; *list; list++)
    if (strlen(*list) == n && memcmp(*list, s, n) == 0) return true;
  return false;
}

static const char *const keywords[] = {"and", "or", "unless", "bool", "offset", "inf", "nan",
                                       "Inf", "NaN", NULL};
static const char *const label_list_kw[] = {"by", "without", "on", "ignoring", "group_left",
                                            "group_right", NULL};
static const char *const aggregators[] = {"sum", "min", "max", "avg", "group", "stddev", "stdvar",
                                          "count", "count_values", "bottomk", "topk", "quantile",
                                          "limitk", "limit_ratio", NULL};

static size_t skip_space(const char *s, size_t len, size_t i) {
  while (i < len && is_space(s[i])) i++;
  return i;
}

/* Reads a variable reference at s[i] ('$' or "[["). Returns the index after it, or i when there
 * is none; fills name/name_len. */
static size_t read_variable(const char *s, size_t len, size_t i, const char **name,
                            size_t *name_len) {
  if (s[i] == '$') {
    if (i + 1 < len && s[i + 1] == '{') {
      size_t st = i + 2, p = st;
      while (p < len && var_char(s[p])) p++;
      if (p == st) return i;
      size_t end = p;
      while (p < len && s[p] != '}' && s[p] != '"') p++; /* ${name:fmt} / ${name.field} */
      if (p >= len || s[p] != '}') return i;
      *name = s + st;
      *name_len = end - st;
      return p + 1;
    }
    size_t st = i + 1, p = st;
    if (p < len && s[p] >= '0' && s[p] <= '9') return i; /* $1: a regex back-reference */
    while (p < len && var_char(s[p])) p++;
    if (p == st) return i;
    *name = s + st;
    *name_len = p - st;
    return p;
  }
  if (s[i] == '[' && i + 1 < len && s[i + 1] == '[') {
    size_t st = i + 2, p = st;
    while (p < len && var_char(s[p])) p++;
    if (p == st || p + 1 >= len || s[p] != ']' || s[p + 1] != ']') return i;
    *name = s + st;
    *name_len = p - st;
    return p + 2;
  }
  return i;
}

static int report(pmx__promql_cb cb, void *ctx, pmx__promql_item_kind_t kind, const char *t,
                  size_t n, const char *metric, size_t metric_len) {
  pmx__promql_item_t it = {kind, t, n, metric, metric_len};
  return cb(ctx, &it);
}

int pmx__scan_variables(const char *text, size_t len, pmx__promql_cb cb, void *ctx) {
  size_t i = 0;
  while (i < len) {
    const char *name;
    size_t nl;
    size_t next = read_variable(text, len, i, &name, &nl);
    if (next != i) {
      int rc = report(cb, ctx, PMX__PQ_VARIABLE, name, nl, NULL, 0);
      if (rc != 0) return rc;
      i = next;
    } else {
      i++;
    }
  }
  return 0;
}

/* Skips a quoted string starting at s[i] (quote char s[i]); reports variables inside it. Returns
 * the index after the closing quote (or len). Backtick strings have no escapes. */
static size_t skip_string(const char *s, size_t len, size_t i, pmx__promql_cb cb, void *ctx,
                          int *rc) {
  char q = s[i];
  size_t st = ++i;
  while (i < len && s[i] != q) {
    if (q != '`' && s[i] == '\\' && i + 1 < len) i++;
    i++;
  }
  if (*rc == 0) *rc = pmx__scan_variables(s + st, i - st, cb, ctx);
  return i < len ? i + 1 : len;
}

/* Skips a label matcher block starting at s[i] == '{', reporting le="..." (with `metric`) and
 * variables inside values. */
static size_t skip_matchers(const char *s, size_t len, size_t i, const char *metric,
                            size_t metric_len, pmx__promql_cb cb, void *ctx, int *rc) {
  i++;
  while (i < len && s[i] != '}' && *rc == 0) {
    i = skip_space(s, len, i);
    if (i >= len) break;
    if (id_start(s[i])) {
      size_t st = i;
      while (i < len && id_char(s[i])) i++;
      bool is_le = (i - st == 2 && memcmp(s + st, "le", 2) == 0);
      i = skip_space(s, len, i);
      bool eq = (i < len && s[i] == '=' && (i + 1 >= len || (s[i + 1] != '~')));
      while (i < len && (s[i] == '=' || s[i] == '!' || s[i] == '~')) i++;
      i = skip_space(s, len, i);
      if (i < len && (s[i] == '"' || s[i] == '\'' || s[i] == '`')) {
        size_t vst = i + 1;
        i = skip_string(s, len, i, cb, ctx, rc);
        size_t vend = (i > vst) ? i - 1 : vst;
        if (is_le && eq && *rc == 0)
          *rc = report(cb, ctx, PMX__PQ_LE, s + vst, vend - vst, metric, metric_len);
      }
      continue;
    }
    if (s[i] == '"' || s[i] == '\'' || s[i] == '`') {
      i = skip_string(s, len, i, cb, ctx, rc);
      continue;
    }
    i++;
  }
  return i < len ? i + 1 : len;
}

/* Skips a parenthesised label list after by/without/... starting at s[i] == '('. */
static size_t skip_label_list(const char *s, size_t len, size_t i) {
  while (i < len && s[i] != ')') i++;
  return i < len ? i + 1 : len;
}

int pmx__promql_scan(const char *s, size_t len, pmx__promql_cb cb, void *ctx) {
  int rc = 0;
  size_t i = 0;
  int depth = 0;
  int hq_depth = -1;      /* depth inside histogram_quantile( ... ), or -1 */
  bool hq_second = false; /* past its first top-level comma */
  const char *last_metric = NULL; /* metric token right before the current position */
  size_t last_metric_len = 0;
  int brackets = 0; /* inside a range or subquery selector: "[5m]", "[1h:1m]" */
  while (i < len && rc == 0) {
    char c = s[i];
    if (is_space(c)) {
      i++;
      continue;
    }
    if (c == '#') { /* comment to end of line */
      while (i < len && s[i] != '\n') i++;
      continue;
    }
    const char *vname;
    size_t vlen;
    size_t vnext = read_variable(s, len, i, &vname, &vlen);
    if (vnext != i) {
      rc = report(cb, ctx, PMX__PQ_VARIABLE, vname, vlen, NULL, 0);
      i = vnext;
      last_metric = NULL;
      continue;
    }
    if (c == '"' || c == '\'' || c == '`') {
      i = skip_string(s, len, i, cb, ctx, &rc);
      last_metric = NULL;
      continue;
    }
    /* Range and subquery selectors hold durations (and variables, reported above), never
     * metric names; without this, "[1h:1m]" would read ":1m" as a metric. */
    if (c == '[' || c == ']') {
      brackets += c == '[' ? 1 : (brackets > 0 ? -1 : 0);
      i++;
      last_metric = NULL;
      continue;
    }
    if (brackets > 0) {
      i++;
      continue;
    }
    if (c == '{') {
      i = skip_matchers(s, len, i, last_metric, last_metric_len, cb, ctx, &rc);
      last_metric = NULL;
      continue;
    }
    if ((c >= '0' && c <= '9') || (c == '.' && i + 1 < len && s[i + 1] >= '0' && s[i + 1] <= '9')) {
      /* numbers and durations: 0.95, 1e3, 0x1f, 5m, 1h30m */
      while (i < len && (id_char(s[i]) || s[i] == '.') && s[i] != ':') i++;
      last_metric = NULL;
      continue;
    }
    if (id_start(c)) {
      size_t st = i;
      while (i < len && id_char(s[i])) i++;
      size_t n = i - st;
      size_t after = skip_space(s, len, i);
      bool call = after < len && s[after] == '(';
      if (word_is(s + st, n, label_list_kw)) {
        if (call) i = skip_label_list(s, len, after);
        last_metric = NULL;
        continue;
      }
      if (call) {
        if (n == 18 && memcmp(s + st, "histogram_quantile", 18) == 0 && hq_depth < 0) {
          hq_depth = depth + 1;
          hq_second = false;
        }
        last_metric = NULL;
        continue;
      }
      if (word_is(s + st, n, keywords) || word_is(s + st, n, aggregators)) {
        last_metric = NULL;
        continue;
      }
      rc = report(cb, ctx, PMX__PQ_METRIC, s + st, n, NULL, 0);
      if (rc == 0 && hq_depth >= 0 && hq_second && depth >= hq_depth)
        rc = report(cb, ctx, PMX__PQ_QUANTILE_ARG, s + st, n, NULL, 0);
      last_metric = s + st;
      last_metric_len = n;
      continue;
    }
    if (c == '(') {
      depth++;
    } else if (c == ')') {
      if (hq_depth >= 0 && depth == hq_depth) hq_depth = -1;
      if (depth > 0) depth--;
    } else if (c == ',' && hq_depth >= 0 && depth == hq_depth) {
      hq_second = true;
    }
    last_metric = NULL;
    i++;
  }
  return rc;
}
