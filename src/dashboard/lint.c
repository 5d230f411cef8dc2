/* Dashboard lint (DashboardChecker): checks a rendered dashboard for what breaks dashboards in
 * practice. Each rule has a stable id (see dashboard.h and docs/dashboards.md); each finding names
 * the file, the panel (id and title) and the rule.
 *
 * Passes over one dashboard: JSON validity; uid (missing, too long, duplicate across the
 * dashboards linted with the same linter); templating variables (their queries are checked for
 * metrics like panel queries); panels, recursing into rows (deprecated types, datasource, and
 * every target's PromQL: unknown metrics, histogram_quantile over non-_bucket series, le values
 * that are not buckets); finally every string of the document for undefined variables. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dashboard/dashboard_internal.h"
#include "internal.h"
#include "promex/dashboard.h"

typedef struct known_metric {
  char *name;
  pmx_metric_kind_t kind;
  double *buckets;
  size_t n_buckets;
} known_metric_t;

typedef struct seen_uid {
  char *uid;
  char *file;
} seen_uid_t;

struct pmx_dashboard_linter {
  known_metric_t *metrics;
  size_t n_metrics, cap_metrics;
  seen_uid_t *uids;
  size_t n_uids, cap_uids;
  bool oom; /* an add_metric allocation failed: the next lint reports PMX_ENOMEM */
};

int pmx_dashboard_linter_new(pmx_dashboard_linter_t **out) {
  if (out == NULL) return PMX_EINVAL;
  *out = pmx__calloc(1, sizeof **out);
  return *out ? PMX_OK : PMX_ENOMEM;
}

void pmx_dashboard_linter_free(pmx_dashboard_linter_t *l) {
  if (l == NULL) return;
  for (size_t i = 0; i < l->n_metrics; i++) {
    pmx__free(l->metrics[i].name);
    pmx__free(l->metrics[i].buckets);
  }
  pmx__free(l->metrics);
  for (size_t i = 0; i < l->n_uids; i++) {
    pmx__free(l->uids[i].uid);
    pmx__free(l->uids[i].file);
  }
  pmx__free(l->uids);
  pmx__free(l);
}

void pmx_dashboard_linter_add_metric(void *linter, const char *group, const char *full_name,
                                     pmx_metric_kind_t kind, const double *buckets,
                                     size_t n_buckets) {
  pmx_dashboard_linter_t *l = linter;
  if (l == NULL || full_name == NULL) return;
  if (l->n_metrics == l->cap_metrics) {
    size_t cap = l->cap_metrics ? l->cap_metrics * 2 : 32;
    known_metric_t *m = pmx__realloc(l->metrics, cap * sizeof *m);
    if (m == NULL) {
      l->oom = true;
      return;
    }
    l->metrics = m;
    l->cap_metrics = cap;
  }
  known_metric_t km = {pmx__strdup(full_name), kind, NULL, 0};
  if (buckets != NULL && n_buckets > 0) {
    km.buckets = pmx__malloc(n_buckets * sizeof *km.buckets);
    if (km.buckets != NULL) {
      memcpy(km.buckets, buckets, n_buckets * sizeof *km.buckets);
      km.n_buckets = n_buckets;
    }
  }
  if (km.name == NULL || (n_buckets > 0 && buckets != NULL && km.buckets == NULL)) {
    pmx__free(km.name);
    pmx__free(km.buckets);
    l->oom = true;
    return;
  }
  l->metrics[l->n_metrics++] = km;
}

/* ---- one lint run ---- */

typedef struct lint_run {
  pmx_dashboard_linter_t *l;
  const char *file;
  pmx_dashboard_finding_cb cb;
  void *ctx;
  int count;
  bool oom;
  /* variables defined in templating.list (borrowed from the JSON document) */
  const char **vars;
  size_t n_vars;
  /* variables already reported as undefined (borrowed) */
  const char **bad_vars;
  size_t n_bad_vars;
  /* current panel for scan callbacks */
  json_t *panel;
} lint_run_t;

static void finding(lint_run_t *r, json_t *panel, const char *rule, int line, int col,
                    const char *fmt, ...) PMX_PRINTF(6, 7);

static void finding(lint_run_t *r, json_t *panel, const char *rule, int line, int col,
                    const char *fmt, ...) {
  char msg[600], where[300];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  pmx_dashboard_finding_t f = {r->file, rule, 0, NULL, NULL, line, col};
  if (panel != NULL) {
    f.panel_id = (int)json_integer_value(json_object_get(panel, "id"));
    f.panel_title = json_string_value(json_object_get(panel, "title"));
    if (f.panel_title == NULL) f.panel_title = "";
    snprintf(where, sizeof where, "panel %d \"%.200s\"", f.panel_id, f.panel_title);
  } else {
    snprintf(where, sizeof where, "dashboard");
  }
  char full[1000];
  snprintf(full, sizeof full, "%s: %s: [%s] %s", r->file, where, rule, msg);
  f.message = full;
  r->count++;
  if (r->cb != NULL) r->cb(r->ctx, &f);
}

static bool ends_with(const char *s, size_t n, const char *suffix) {
  size_t sl = strlen(suffix);
  return n >= sl && memcmp(s + n - sl, suffix, sl) == 0;
}

static bool name_is(const char *a, const char *s, size_t n) {
  return strlen(a) == n && memcmp(a, s, n) == 0;
}

/* The known metric a series name belongs to, or NULL. */
static const known_metric_t *lookup_series(const pmx_dashboard_linter_t *l, const char *s,
                                           size_t n) {
  for (size_t i = 0; i < l->n_metrics; i++) {
    const known_metric_t *m = &l->metrics[i];
    size_t ml = strlen(m->name);
    if (n < ml || memcmp(m->name, s, ml) != 0) continue;
    const char *rest = s + ml;
    size_t rl = n - ml;
    switch (m->kind) {
      case PMX_DISTRIBUTION:
      case PMX_SUMMARY:
        if (name_is("_bucket", rest, rl) || name_is("_sum", rest, rl) ||
            name_is("_count", rest, rl))
          return m;
        break;
      case PMX_COUNTER:
      case PMX_SUM:
        if (rl == 0 || (name_is("_total", rest, rl) && !ends_with(m->name, ml, "_total")))
          return m;
        break;
      default:
        if (rl == 0) return m;
    }
  }
  return NULL;
}

static bool le_is_bucket(const known_metric_t *m, const char *v, size_t n) {
  char buf[64];
  if (n == 0 || n >= sizeof buf) return false;
  memcpy(buf, v, n);
  buf[n] = '\0';
  if (strcmp(buf, "+Inf") == 0 || strcmp(buf, "Inf") == 0 || strcmp(buf, "+inf") == 0)
    return true;
  char *end;
  double d = strtod(buf, &end);
  if (*end != '\0' || end == buf) return false;
  for (size_t i = 0; i < m->n_buckets; i++) {
    /* Relative comparison: "0.1" written in a dashboard vs 0.1 computed by a generator. */
    double b = m->buckets[i];
    if (d == b || fabs(d - b) <= 1e-9 * fmax(fabs(d), fabs(b))) return true;
  }
  return false;
}

static int promql_item(void *ctx, const pmx__promql_item_t *it) {
  lint_run_t *r = ctx;
  pmx_dashboard_linter_t *l = r->l;
  int tl = (int)(it->len > 200 ? 200 : it->len);
  switch (it->kind) {
    case PMX__PQ_METRIC:
      if (l->n_metrics > 0 && lookup_series(l, it->text, it->len) == NULL)
        finding(r, r->panel, "unknown_metric", 0, 0,
                "query references metric \"%.*s\", which no enabled plugin defines", tl,
                it->text);
      break;
    case PMX__PQ_QUANTILE_ARG:
      if (!ends_with(it->text, it->len, "_bucket"))
        finding(r, r->panel, "quantile_not_bucket", 0, 0,
                "histogram_quantile() over \"%.*s\", which is not a _bucket series", tl,
                it->text);
      break;
    case PMX__PQ_LE: {
      if (it->metric == NULL || memchr(it->text, '$', it->len) != NULL) break;
      const known_metric_t *m = lookup_series(l, it->metric, it->metric_len);
      /* Without known buckets (a describer that does not pass them) there is nothing to check. */
      if (m == NULL || m->kind != PMX_DISTRIBUTION || m->n_buckets == 0) break;
      if (!le_is_bucket(m, it->text, it->len))
        finding(r, r->panel, "unknown_le", 0, 0,
                "le=\"%.*s\" on \"%.*s\" is not one of the metric's buckets", tl, it->text,
                (int)(it->metric_len > 200 ? 200 : it->metric_len), it->metric);
      break;
    }
    case PMX__PQ_VARIABLE:
      break; /* checked by the document-wide variable pass */
  }
  return 0;
}

static void check_expr(lint_run_t *r, json_t *panel, const char *expr) {
  r->panel = panel;
  pmx__promql_scan(expr, strlen(expr), promql_item, r);
  r->panel = NULL;
}

/* A query variable's query: label_values(expr, label) and query_result(expr) hold PromQL;
 * label_values(label), label_names() and metrics(regex) hold none. */
static void check_variable_query(lint_run_t *r, const char *q) {
  while (*q == ' ') q++;
  const char *open = strchr(q, '(');
  size_t qlen = strlen(q);
  if (strncmp(q, "label_values", 12) == 0 && open != NULL) {
    int depth = 0;
    const char *comma = NULL;
    for (const char *p = open; *p; p++) {
      if (*p == '(' || *p == '{') depth++;
      if (*p == ')' || *p == '}') depth--;
      if (*p == ',' && depth == 1) comma = p;
      if (*p == '"') { /* skip strings inside matchers */
        for (p++; *p && *p != '"'; p++)
          if (*p == '\\' && p[1]) p++;
        if (!*p) break;
      }
    }
    if (comma != NULL) {
      r->panel = NULL;
      pmx__promql_scan(open + 1, (size_t)(comma - open - 1), promql_item, r);
    }
    return;
  }
  if (strncmp(q, "query_result", 12) == 0 && open != NULL) {
    const char *close = strrchr(q, ')');
    if (close != NULL && close > open) pmx__promql_scan(open + 1, (size_t)(close - open - 1),
                                                        promql_item, r);
    return;
  }
  if (strncmp(q, "label_names", 11) == 0 || strncmp(q, "metrics", 7) == 0) return;
  pmx__promql_scan(q, qlen, promql_item, r);
}

static void check_templating(lint_run_t *r, json_t *root) {
  json_t *list = json_object_get(json_object_get(root, "templating"), "list");
  if (!json_is_array(list)) return;
  size_t n = json_array_size(list);
  r->vars = pmx__calloc(n ? n : 1, sizeof *r->vars);
  if (r->vars == NULL) {
    r->oom = true;
    return;
  }
  size_t i;
  json_t *v;
  json_array_foreach(list, i, v) {
    const char *name = json_string_value(json_object_get(v, "name"));
    if (name != NULL) r->vars[r->n_vars++] = name;
    const char *type = json_string_value(json_object_get(v, "type"));
    if (type == NULL || strcmp(type, "query") != 0) continue;
    json_t *q = json_object_get(v, "query");
    const char *qs = json_is_string(q) ? json_string_value(q)
                                       : json_string_value(json_object_get(q, "query"));
    if (qs != NULL) check_variable_query(r, qs);
  }
}

static bool has_datasource(json_t *obj) {
  json_t *ds = json_object_get(obj, "datasource");
  if (ds == NULL || json_is_null(ds)) return false;
  if (json_is_string(ds)) return json_string_length(ds) > 0;
  if (json_is_object(ds)) {
    const char *uid = json_string_value(json_object_get(ds, "uid"));
    return uid != NULL && uid[0] != '\0';
  }
  return false;
}

static void check_panels(lint_run_t *r, json_t *panels, int depth) {
  if (!json_is_array(panels) || depth > 8) return;
  size_t i;
  json_t *p;
  json_array_foreach(panels, i, p) {
    if (!json_is_object(p)) continue;
    const char *type = json_string_value(json_object_get(p, "type"));
    if (type != NULL && (strcmp(type, "graph") == 0 || strcmp(type, "singlestat") == 0 ||
                         strcmp(type, "table-old") == 0))
      finding(r, p, "deprecated_panel_type", 0, 0,
              "panel type \"%s\" is a deprecated Angular panel (removed in Grafana 12); use "
              "timeseries, stat, gauge or table",
              type);
    if (type != NULL && strcmp(type, "row") == 0) {
      check_panels(r, json_object_get(p, "panels"), depth + 1);
      continue;
    }
    json_t *targets = json_object_get(p, "targets");
    if (!json_is_array(targets) || json_array_size(targets) == 0) continue;
    bool panel_ds = has_datasource(p);
    bool reported = false;
    size_t k;
    json_t *t;
    json_array_foreach(targets, k, t) {
      if (!panel_ds && !reported && !has_datasource(t)) {
        finding(r, p, "panel_without_datasource", 0, 0,
                "panel has queries but neither the panel nor target %zu sets a datasource", k);
        reported = true;
      }
      const char *expr = json_string_value(json_object_get(t, "expr"));
      if (expr != NULL) check_expr(r, p, expr);
    }
  }
}

static bool var_defined(lint_run_t *r, const char *name, size_t n) {
  if (n >= 2 && name[0] == '_' && name[1] == '_') return true; /* Grafana's global variables */
  for (size_t i = 0; i < r->n_vars; i++)
    if (name_is(r->vars[i], name, n)) return true;
  for (size_t i = 0; i < r->n_bad_vars; i++)
    if (name_is(r->bad_vars[i], name, n)) return true; /* reported once per dashboard */
  return false;
}

typedef struct var_scan {
  lint_run_t *r;
  json_t *panel;
} var_scan_t;

static int variable_item(void *ctx, const pmx__promql_item_t *it) {
  var_scan_t *vs = ctx;
  lint_run_t *r = vs->r;
  if (it->kind != PMX__PQ_VARIABLE || var_defined(r, it->text, it->len)) return 0;
  finding(r, vs->panel, "undefined_variable",
          0, 0, "variable \"$%.*s\" is used but not defined in templating.list",
          (int)(it->len > 200 ? 200 : it->len), it->text);
  const char **bv = pmx__realloc(r->bad_vars, (r->n_bad_vars + 1) * sizeof *bv);
  if (bv == NULL) {
    r->oom = true;
    return 1;
  }
  r->bad_vars = bv;
  /* The scanned name is not NUL-terminated inside the JSON string: keep a copy. */
  char *copy = pmx__malloc(it->len + 1);
  if (copy == NULL) {
    r->oom = true;
    return 1;
  }
  memcpy(copy, it->text, it->len);
  copy[it->len] = '\0';
  r->bad_vars[r->n_bad_vars++] = copy;
  return 0;
}

static void check_variables(lint_run_t *r, json_t *v, json_t *panel, int depth) {
  if (depth > 64 || r->oom) return;
  if (json_is_string(v)) {
    var_scan_t vs = {r, panel};
    pmx__scan_variables(json_string_value(v), json_string_length(v), variable_item, &vs);
  } else if (json_is_object(v)) {
    const char *key;
    json_t *val;
    json_object_foreach(v, key, val) {
      if (strcmp(key, "panels") == 0 && json_is_array(val)) {
        size_t i;
        json_t *p;
        json_array_foreach(val, i, p) check_variables(r, p, p, depth + 1);
      } else {
        check_variables(r, val, panel, depth + 1);
      }
    }
  } else if (json_is_array(v)) {
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) check_variables(r, e, panel, depth + 1);
  }
}

static void check_uid(lint_run_t *r, json_t *root) {
  json_t *u = json_object_get(root, "uid");
  const char *uid = json_string_value(u);
  if (uid == NULL || uid[0] == '\0') {
    finding(r, NULL, "missing_uid", 0, 0,
            "the dashboard has no uid; Grafana would create a new dashboard on every upload");
    return;
  }
  if (strlen(uid) > PMX_DASHBOARD_UID_MAX)
    finding(r, NULL, "uid_too_long", 0, 0, "uid \"%.100s\" has %zu characters; Grafana allows %d",
            uid, strlen(uid), PMX_DASHBOARD_UID_MAX);
  pmx_dashboard_linter_t *l = r->l;
  for (size_t i = 0; i < l->n_uids; i++) {
    if (strcmp(l->uids[i].uid, uid) == 0) {
      finding(r, NULL, "duplicate_uid", 0, 0, "uid \"%.100s\" is also used by %.200s", uid,
              l->uids[i].file);
      return;
    }
  }
  if (l->n_uids == l->cap_uids) {
    size_t cap = l->cap_uids ? l->cap_uids * 2 : 16;
    seen_uid_t *s = pmx__realloc(l->uids, cap * sizeof *s);
    if (s == NULL) {
      r->oom = true;
      return;
    }
    l->uids = s;
    l->cap_uids = cap;
  }
  seen_uid_t s = {pmx__strdup(uid), pmx__strdup(r->file)};
  if (s.uid == NULL || s.file == NULL) {
    pmx__free(s.uid);
    pmx__free(s.file);
    r->oom = true;
    return;
  }
  l->uids[l->n_uids++] = s;
}

int pmx_dashboard_lint(pmx_dashboard_linter_t *l, const char *json, size_t len, const char *file,
                       pmx_dashboard_finding_cb cb, void *ctx, pmx_error_t *err) {
  const char *f = file != NULL ? file : "<dashboard>";
  if (l == NULL || json == NULL)
    return pmx__fail(err, PMX_EINVAL, f, "pmx_dashboard_lint: NULL linter or JSON");
  if (l->oom) return pmx__fail(err, PMX_ENOMEM, f, "out of memory while adding metrics");
  lint_run_t r = {.l = l, .file = f, .cb = cb, .ctx = ctx};
  json_error_t jerr;
  json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
  if (root == NULL) {
    finding(&r, NULL, "invalid_json", jerr.line, jerr.column, "line %d, column %d: %s",
            jerr.line, jerr.column, jerr.text);
    return r.count;
  }
  if (!json_is_object(root)) {
    finding(&r, NULL, "invalid_json", 1, 1, "the top level is not a JSON object");
    json_decref(root);
    return r.count;
  }
  check_uid(&r, root);
  check_templating(&r, root);
  check_panels(&r, json_object_get(root, "panels"), 0);
  check_variables(&r, root, NULL, 0);
  pmx__free(r.vars);
  for (size_t i = 0; i < r.n_bad_vars; i++) pmx__free((char *)r.bad_vars[i]);
  pmx__free(r.bad_vars);
  json_decref(root);
  if (r.oom) return pmx__fail(err, PMX_ENOMEM, f, "out of memory while linting");
  return r.count;
}
