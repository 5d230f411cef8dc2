/* Dashboard template rendering (PromEx.DashboardRenderer without EEx code): `<%= name %>` tags are
 * replaced by assign values, `<%%` is a literal `<%`, nothing else is interpreted.
 *
 * Invariant that keeps the output valid and injection-free: while copying the template we track
 * whether we are inside a JSON string (the template is JSON text). A tag inside a string gets its
 * value JSON-escaped, so no value can close the string; a tag outside a string accepts only a JSON
 * number / true / false / null, so no value can add keys or structure. Escaped values never
 * contain a raw newline, so line numbers of the rendered text match the template's. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "internal.h"
#include "promex/dashboard.h"

typedef struct render_state {
  const char *src;  /* template name for messages */
  pmx_error_t *err;
  int line, col;    /* position of the current byte, 1-based */
} render_state_t;

static bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

static bool valid_key(const char *k) {
  if (k == NULL || !is_name_start(k[0])) return false;
  for (const char *p = k + 1; *p; p++)
    if (!is_name_char(*p)) return false;
  return true;
}

/* The assigns every first-party dashboard relies on: a template naming one of these without it
 * being given is "missing a required assign" rather than using an unknown one. */
static bool is_standard_assign(const char *name, size_t n) {
  static const char *const std[] = {"app", "datasource_id", "title", "uid"};
  for (size_t i = 0; i < sizeof std / sizeof std[0]; i++)
    if (strlen(std[i]) == n && memcmp(std[i], name, n) == 0) return true;
  static const char suffix[] = "_metric_prefix";
  size_t sl = sizeof suffix - 1;
  return n > sl && memcmp(name + n - sl, suffix, sl) == 0;
}

/* JSON number per RFC 8259, or a literal. */
static bool is_json_scalar(const char *v) {
  if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0 || strcmp(v, "null") == 0) return true;
  const char *p = v;
  if (*p == '-') p++;
  if (*p == '0') {
    p++;
  } else if (*p >= '1' && *p <= '9') {
    while (*p >= '0' && *p <= '9') p++;
  } else {
    return false;
  }
  if (*p == '.') {
    p++;
    if (!(*p >= '0' && *p <= '9')) return false;
    while (*p >= '0' && *p <= '9') p++;
  }
  if (*p == 'e' || *p == 'E') {
    p++;
    if (*p == '+' || *p == '-') p++;
    if (!(*p >= '0' && *p <= '9')) return false;
    while (*p >= '0' && *p <= '9') p++;
  }
  return *p == '\0';
}

static int fail_at(render_state_t *st, int line, int col, const char *fmt, const char *a,
                   size_t alen) {
  char msg[300];
  snprintf(msg, sizeof msg, fmt, (int)(alen > 120 ? 120 : alen), a);
  pmx__fail(st->err, PMX_EPARSE, st->src, "%s:%d:%d: %s", st->src, line, col, msg);
  if (st->err != NULL) {
    st->err->line = line;
    st->err->column = col;
  }
  return PMX_EPARSE;
}

static int append_escaped(pmx_buf_t *out, const char *v) {
  int rc = PMX_OK;
  for (const unsigned char *p = (const unsigned char *)v; *p && rc == PMX_OK; p++) {
    switch (*p) {
      case '"': rc = pmx__buf_append(out, "\\\"", 2); break;
      case '\\': rc = pmx__buf_append(out, "\\\\", 2); break;
      case '\n': rc = pmx__buf_append(out, "\\n", 2); break;
      case '\r': rc = pmx__buf_append(out, "\\r", 2); break;
      case '\t': rc = pmx__buf_append(out, "\\t", 2); break;
      default:
        if (*p < 0x20 || *p == 0x7f) {
          rc = pmx__buf_appendf(out, "\\u%04x", (unsigned)*p);
        } else {
          rc = pmx__buf_append(out, p, 1);
        }
    }
  }
  return rc;
}

static const char *find_assign(const pmx_kv_t *a, size_t n, const char *name, size_t len) {
  for (size_t i = n; i-- > 0;)
    if (strlen(a[i].key) == len && memcmp(a[i].key, name, len) == 0) return a[i].value;
  return NULL;
}

/* Parses the tag starting at t[*i] == '<' (with "<%=" there) and appends its value. */
static int render_tag(render_state_t *st, const char *t, size_t len, size_t *i, bool in_string,
                      const pmx_kv_t *assigns, size_t n_assigns, pmx_buf_t *out) {
  int line = st->line, col = st->col;
  size_t p = *i + 3;
  while (p < len && (t[p] == ' ' || t[p] == '\t')) p++;
  if (p < len && t[p] == '@') p++;  /* EEx templates write <%= @name %> */
  size_t name_at = p;
  if (p < len && is_name_start(t[p])) {
    while (p < len && is_name_char(t[p])) p++;
  }
  size_t name_len = p - name_at;
  while (p < len && (t[p] == ' ' || t[p] == '\t')) p++;
  if (name_len == 0) {
    return fail_at(st, line, col, "malformed tag: expected an assign name after \"<%%=\"%.*s",
                   "", 0);
  }
  if (p + 1 >= len || t[p] != '%' || t[p + 1] != '>') {
    return fail_at(st, line, col,
                   "unterminated or malformed tag for \"%.*s\": expected \"%%>\" after the name",
                   t + name_at, name_len);
  }
  p += 2;
  const char *value = find_assign(assigns, n_assigns, t + name_at, name_len);
  if (value == NULL) {
    if (is_standard_assign(t + name_at, name_len))
      return fail_at(st, line, col, "missing required assign \"%.*s\"", t + name_at, name_len);
    return fail_at(st, line, col, "unknown assign \"%.*s\"", t + name_at, name_len);
  }
  int rc;
  if (in_string) {
    rc = append_escaped(out, value);
  } else {
    if (!is_json_scalar(value)) {
      return fail_at(st, line, col,
                     "assign \"%.*s\" is used outside a JSON string, where only a JSON number, "
                     "true, false or null is allowed",
                     t + name_at, name_len);
    }
    rc = pmx__buf_append(out, value, strlen(value));
  }
  if (rc != PMX_OK) return pmx__fail(st->err, PMX_ENOMEM, st->src, "out of memory rendering");
  st->col += (int)(p - *i);
  *i = p;
  return PMX_OK;
}

int pmx_dashboard_render(const char *template_text, size_t len, const char *source,
                         const pmx_kv_t *assigns, size_t n_assigns, char **json,
                         pmx_error_t *err) {
  if (json != NULL) *json = NULL;
  const char *src = source != NULL ? source : "<template>";
  if (template_text == NULL || json == NULL || (assigns == NULL && n_assigns > 0))
    return pmx__fail(err, PMX_EINVAL, src, "%s: template text and result pointer are required",
                     src);
  for (size_t k = 0; k < n_assigns; k++) {
    if (!valid_key(assigns[k].key) || assigns[k].value == NULL)
      return pmx__fail(err, PMX_EINVAL, src,
                       "%s: assign #%zu: key must match [A-Za-z_][A-Za-z0-9_]* and value be set",
                       src, k + 1);
  }
  render_state_t st = {src, err, 1, 1};
  pmx_buf_t out = {0};
  bool in_string = false, escaped = false;
  int rc = PMX_OK;
  size_t i = 0;
  while (i < len && rc == PMX_OK) {
    char c = template_text[i];
    if (c == '<' && i + 1 < len && template_text[i + 1] == '%') {
      if (i + 2 < len && template_text[i + 2] == '%') {
        rc = pmx__buf_append(&out, "<%", 2);
        i += 3;
        st.col += 3;
        continue;
      }
      if (i + 2 < len && template_text[i + 2] == '=') {
        rc = render_tag(&st, template_text, len, &i, in_string, assigns, n_assigns, &out);
        escaped = false;
        continue;
      }
      rc = fail_at(&st, st.line, st.col,
                   "unsupported tag \"<%%%.*s\": only <%%= name %%> substitution and <%%%% are "
                   "allowed",
                   template_text + i + 2, (i + 2 < len) ? 1 : 0);
      break;
    }
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    }
    if (pmx__buf_append(&out, &c, 1) != PMX_OK) {
      rc = pmx__fail(err, PMX_ENOMEM, src, "out of memory rendering");
      break;
    }
    if (c == '\n') {
      st.line++;
      st.col = 1;
    } else {
      st.col++;
    }
    i++;
  }
  if (rc == PMX_OK && pmx__buf_append(&out, "", 1) != PMX_OK)
    rc = pmx__fail(err, PMX_ENOMEM, src, "out of memory rendering");
  if (rc != PMX_OK) {
    pmx_buf_free(&out);
    return rc == PMX_ELIMIT ? PMX_ENOMEM : rc;
  }
  json_error_t jerr;
  json_t *root = json_loadb(out.data, out.len - 1, JSON_REJECT_DUPLICATES, &jerr);
  if (root == NULL) {
    pmx__fail(err, PMX_EPARSE, src, "%s:%d:%d: rendered dashboard is not valid JSON: %s", src,
              jerr.line, jerr.column, jerr.text);
    if (err != NULL) {
      err->line = jerr.line;
      err->column = jerr.column;
    }
    pmx_buf_free(&out);
    return PMX_EPARSE;
  }
  bool is_object = json_is_object(root);
  json_decref(root);
  if (!is_object) {
    pmx_buf_free(&out);
    return pmx__fail(err, PMX_EPARSE, src, "%s: rendered dashboard is not a JSON object", src);
  }
  *json = out.data; /* library-owned buffer from the allocator hook: the caller pmx_free()s it */
  return PMX_OK;
}
