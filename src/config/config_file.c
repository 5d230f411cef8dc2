/* Loading a pmx_config_t from an INI file (pmx_config_load/parse), with inih doing the syntax.
 *
 * inih is driven through ini_parse_stream() with our own line reader rather than
 * ini_parse_string(), because the reader is where we (a) know the line number of every key
 * (inih's handler does not get it unless inih was built with INI_HANDLER_LINENO), (b) see section
 * headers, including those of empty sections that inih never reports ([plugin.process] with no
 * options still enables the plugin), (c) refuse lines longer than inih's buffer instead of letting
 * inih split them, and (d) drop leading whitespace so that inih's multi-line continuation cannot
 * silently glue an indented "key = value" onto the previous key.
 *
 * Invariants: the first error wins and stops the reader; every string and array reachable from
 * cf->cfg is owned by cf (strings in cf->owned, arrays in their own fields) and freed by
 * pmx_config_file_free(), also on every error path. */
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"
#include "config/config_rules.h"
#include "internal.h"

#define PMX_CONFIG_MAX_BYTES (1u << 20) /* a config file is small; this bounds a mistaken path */
#define PMX_CONFIG_MAX_KEYS 4096u       /* keeps the duplicate-key scan cheap */

typedef struct kvvec {
  pmx_kv_t *v;
  size_t n, cap;
} kvvec_t;

struct pmx_config_file {
  pmx_config_t cfg;
  char **owned; /* every string reachable from cfg */
  size_t n_owned, cap_owned;
  const char **drop;
  size_t n_drop, cap_drop;
  pmx_plugin_use_t *plugins;
  size_t n_plugins, cap_plugins;
  kvvec_t *plugin_opts; /* parallel to plugins; cap_plugin_opts >= n_plugins */
  size_t cap_plugin_opts;
  pmx_dashboard_use_t *dashboards;
  size_t n_dashboards, cap_dashboards;
  kvvec_t assigns;
};

typedef enum sect { S_NONE, S_PROMEX, S_SERVER, S_GRAFANA, S_DASHBOARDS, S_ASSIGNS, S_PLUGIN } sect_t;

typedef struct seen_section {
  char *name;
  int line;
} seen_section_t;

typedef struct seen_key {
  size_t section;
  char *key;
  int line;
} seen_key_t;

typedef struct parser {
  const char *file;
  const char *pos; /* next unread byte of the text */
  int line;
  const pmx_plugin_t *const *known;
  size_t n_known;
  pmx_config_file_t *cf;
  sect_t cur;
  size_t cur_section; /* index into sections */
  size_t cur_plugin;  /* index into cf->plugins when cur == S_PLUGIN */
  seen_section_t *sections;
  size_t n_sections, cap_sections;
  seen_key_t *keys;
  size_t n_keys, cap_keys;
  int code; /* first error, PMX_OK while none */
  pmx_error_t err;
} parser_t;

/* ---- storage ---- */

/* Returns `arr` grown to hold `need` elements (or `arr` itself if it already does), NULL if out of
 * memory (then `arr` is untouched and still owned by the caller). */
static void *grow(void *arr, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return arr;
  size_t nc = *cap ? *cap : 8;
  while (nc < need) nc *= 2;
  void *n = pmx__realloc(arr, nc * elem);
  if (n != NULL) *cap = nc;
  return n;
}

/* Hands `s` to cf; on failure frees it. */
static int own(pmx_config_file_t *cf, char *s) {
  if (s == NULL) return PMX_ENOMEM;
  char **n = grow(cf->owned, &cf->cap_owned, cf->n_owned + 1, sizeof *n);
  if (n == NULL) {
    pmx__free(s);
    return PMX_ENOMEM;
  }
  cf->owned = n;
  cf->owned[cf->n_owned++] = s;
  return PMX_OK;
}

/* Appends key (copied) = value (taken) to v. */
static int kv_push(pmx_config_file_t *cf, kvvec_t *v, const char *key, char *value) {
  int rc = own(cf, value);
  if (rc != PMX_OK) return rc;
  char *k = pmx__strdup(key);
  rc = own(cf, k);
  if (rc != PMX_OK) return rc;
  pmx_kv_t *n = grow(v->v, &v->cap, v->n + 1, sizeof *n);
  if (n == NULL) return PMX_ENOMEM;
  v->v = n;
  v->v[v->n++] = (pmx_kv_t){k, value};
  return PMX_OK;
}

void pmx_config_file_free(pmx_config_file_t *cf) {
  if (cf == NULL) return;
  for (size_t i = 0; i < cf->n_owned; i++) pmx__free(cf->owned[i]);
  pmx__free(cf->owned);
  pmx__free(cf->drop);
  for (size_t i = 0; i < cf->n_plugins; i++) pmx__free(cf->plugin_opts[i].v);
  pmx__free(cf->plugin_opts);
  pmx__free(cf->plugins);
  pmx__free(cf->dashboards);
  pmx__free(cf->assigns.v);
  pmx__free(cf);
}

const pmx_config_t *pmx_config_file_config(const pmx_config_file_t *cf) {
  return cf == NULL ? NULL : &cf->cfg;
}

/* ---- errors ---- */

/* Records the first error as "file:line: [section] key: message" (parts omitted when 0/NULL).
 * Returns 0 so that inih handlers can `return fail_at(...)`. */
static int fail_at(parser_t *ps, int code, int line, const char *section, const char *key,
                   const char *fmt, ...) PMX_PRINTF(6, 7);
static int fail_at(parser_t *ps, int code, int line, const char *section, const char *key,
                   const char *fmt, ...) {
  if (ps->code != PMX_OK) return 0;
  char msg[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  char where[300];
  size_t w = 0;
  if (line > 0)
    w = (size_t)snprintf(where, sizeof where, "%s:%d: ", ps->file, line);
  else
    w = (size_t)snprintf(where, sizeof where, "%s: ", ps->file);
  if (section != NULL && w < sizeof where) w += (size_t)snprintf(where + w, sizeof where - w, "[%s] ", section);
  if (key != NULL && w < sizeof where) snprintf(where + w, sizeof where - w, "%s: ", key);
  pmx__fail(&ps->err, code, ps->file, "%s%s", where, msg);
  ps->err.line = line;
  ps->code = code;
  return 0;
}

static int fail_nomem(parser_t *ps) { return fail_at(ps, PMX_ENOMEM, ps->line, NULL, NULL, "out of memory"); }

/* ---- options of [promex], [metrics_server], [grafana] ---- */

/* Matches `s` against a NULL-terminated list of words; returns the index or -1. */
static int word_index(const char *s, const char *const *words) {
  for (int i = 0; words[i] != NULL; i++) {
    if (strcmp(s, words[i]) == 0) return i;
  }
  return -1;
}

/* Parses drop_metrics_groups: comma-separated, items trimmed, no empty item; "" is no groups. */
static int set_list(parser_t *ps, const char *sec, const char *key, const char *val) {
  pmx_config_file_t *cf = ps->cf;
  const char *p = val;
  while (*p == ' ' || *p == '\t') p++;
  if (*p == '\0') return 1;
  for (size_t item = 1;; item++) {
    const char *comma = strchr(p, ',');
    const char *end = comma ? comma : p + strlen(p);
    const char *a = p, *b = end;
    while (a < b && (*a == ' ' || *a == '\t')) a++;
    while (b > a && (b[-1] == ' ' || b[-1] == '\t')) b--;
    if (a == b)
      return fail_at(ps, PMX_ECONFIG, ps->line, sec, key,
                     "expected comma-separated metrics group names, item %zu is empty", item);
    char *name = pmx__malloc((size_t)(b - a) + 1);
    if (name == NULL) return fail_nomem(ps);
    memcpy(name, a, (size_t)(b - a));
    name[b - a] = '\0';
    if (own(cf, name) != PMX_OK) return fail_nomem(ps);
    const char **n = grow(cf->drop, &cf->cap_drop, cf->n_drop + 1, sizeof *n);
    if (n == NULL) return fail_nomem(ps);
    cf->drop = n;
    cf->drop[cf->n_drop++] = name;
    if (comma == NULL) return 1;
    p = comma + 1;
  }
}

/* Stores one option value, parsed and checked by its rule. Takes ownership of `val`. Returns 1
 * or 0 (error recorded). */
static int set_option(parser_t *ps, const pmx__config_rule_t *r, const char *sec, char *val) {
  pmx_config_t *cfg = &ps->cf->cfg;
  char *field = (char *)cfg + r->off;
  char msg[300];
  int line = ps->line;
  int ok = 1;
  if (r->type != PMX__OPT_LIST && val[0] == '\0') {
    pmx__free(val);
    return fail_at(ps, PMX_ECONFIG, line, sec, r->key, "expected a value, got an empty string");
  }
  switch (r->type) {
    case PMX__OPT_STR:
      if (!pmx__config_rule_check_str(r, val, msg, sizeof msg)) {
        ok = fail_at(ps, PMX_ECONFIG, line, sec, r->key, "%s", msg);
        break;
      }
      if (own(ps->cf, val) != PMX_OK) return fail_nomem(ps);
      *(const char **)(void *)field = val;
      return 1;
    case PMX__OPT_BOOL: {
      bool b;
      if (pmx__config_parse_bool(val, &b, msg, sizeof msg) != PMX_OK)
        ok = fail_at(ps, PMX_ECONFIG, line, sec, r->key, "%s", msg);
      else
        *(bool *)(void *)field = b;
      break;
    }
    case PMX__OPT_UINT: {
      uint64_t v;
      if (pmx__config_parse_uint(val, r->min, r->max, &v, msg, sizeof msg) != PMX_OK)
        ok = fail_at(ps, PMX_ECONFIG, line, sec, r->key, "%s", msg);
      else if (r->size == sizeof(uint16_t))
        *(uint16_t *)(void *)field = (uint16_t)v;
      else
        *(unsigned *)(void *)field = (unsigned)v;
      break;
    }
    case PMX__OPT_DELAY:
      if (pmx__config_parse_delay(val, r->max, &cfg->manual_metrics_start_delay_ms, msg, sizeof msg) != PMX_OK)
        ok = fail_at(ps, PMX_ECONFIG, line, sec, r->key, "%s", msg);
      break;
    case PMX__OPT_LIST:
      ok = set_list(ps, sec, r->key, val);
      break;
    case PMX__OPT_ENUM: {
      int idx = word_index(val, r->words);
      if (idx < 0) {
        char list[128];
        pmx__config_rule_words(r, list, sizeof list);
        ok = fail_at(ps, PMX_ECONFIG, line, sec, r->key, "expected %s, got \"%s\"", list, val);
      } else {
        memcpy(field, &idx, sizeof idx); /* every enum of config.h has int's size */
      }
      break;
    }
  }
  pmx__free(val);
  return ok;
}

static int unknown_key(parser_t *ps, const char *sec, const char *key) {
  char list[600];
  size_t w = 0;
  list[0] = '\0';
  for (size_t i = 0; i < pmx__n_config_rules; i++) {
    if (strcmp(pmx__config_rules[i].section, sec) != 0 || w >= sizeof list) continue;
    w += (size_t)snprintf(list + w, sizeof list - w, "%s%s", w ? ", " : "", pmx__config_rules[i].key);
  }
  return fail_at(ps, PMX_ECONFIG, ps->line, sec, key, "unknown key (expected one of: %s)", list);
}

/* ---- sections ---- */

static int find_section(const parser_t *ps, const char *name) {
  for (size_t i = 0; i < ps->n_sections; i++) {
    if (strcmp(ps->sections[i].name, name) == 0) return (int)i;
  }
  return -1;
}

static int enter_plugin(parser_t *ps, const char *sec, const char *pname) {
  pmx_config_file_t *cf = ps->cf;
  const pmx_plugin_t *pl = NULL;
  for (size_t i = 0; i < ps->n_known && pl == NULL; i++) {
    if (ps->known[i] != NULL && ps->known[i]->name != NULL && strcmp(ps->known[i]->name, pname) == 0)
      pl = ps->known[i];
  }
  if (pl == NULL) {
    char list[300];
    size_t w = 0;
    list[0] = '\0';
    for (size_t i = 0; i < ps->n_known && w < sizeof list; i++) {
      if (ps->known[i] == NULL || ps->known[i]->name == NULL) continue;
      w += (size_t)snprintf(list + w, sizeof list - w, "%s%s", w ? ", " : "", ps->known[i]->name);
    }
    return fail_at(ps, PMX_ECONFIG, ps->line, sec, NULL, "unknown plugin \"%s\" (known: %s)", pname,
                   w ? list : "none");
  }
  if (pl->abi_version != PMX_PLUGIN_ABI)
    return fail_at(ps, PMX_EABI, ps->line, sec, NULL,
                   "plugin \"%s\" was built for plugin ABI %u, this library uses ABI %u", pname,
                   (unsigned)pl->abi_version, PMX_PLUGIN_ABI);
  pmx_plugin_use_t *np = grow(cf->plugins, &cf->cap_plugins, cf->n_plugins + 1, sizeof *np);
  if (np == NULL) return fail_nomem(ps);
  cf->plugins = np;
  kvvec_t *no = grow(cf->plugin_opts, &cf->cap_plugin_opts, cf->n_plugins + 1, sizeof *no);
  if (no == NULL) return fail_nomem(ps);
  cf->plugin_opts = no;
  cf->plugins[cf->n_plugins] = (pmx_plugin_use_t){pl, NULL, 0, NULL};
  cf->plugin_opts[cf->n_plugins] = (kvvec_t){NULL, 0, 0};
  ps->cur_plugin = cf->n_plugins++;
  return 1;
}

/* Where a value or section name ends, by inih's rules: at one of `chars`, or at an inline ';'
 * comment (a ';' preceded by whitespace). */
static const char *find_end(const char *s, const char *end, const char *chars) {
  bool was_space = false;
  for (; s < end; s++) {
    if (strchr(chars, *s) != NULL) return s;
    if (was_space && *s == ';') return s;
    was_space = *s == ' ' || *s == '\t' || *s == '\f' || *s == '\v' || *s == '\r';
  }
  return end;
}

/* Handles a "[name]" line (s .. end, s[0] == '['). Returns 1 or 0 (error recorded). */
static int enter_section(parser_t *ps, const char *s, const char *end) {
  const char *close = find_end(s + 1, end, "]");
  if (close == end || *close != ']')
    return fail_at(ps, PMX_ECONFIG, ps->line, NULL, NULL, "section header without a closing ']'");
  const char *rest = close + 1;
  while (rest < end && (*rest == ' ' || *rest == '\t')) rest++;
  if (rest < end && *rest != ';' && *rest != '#')
    return fail_at(ps, PMX_ECONFIG, ps->line, NULL, NULL, "unexpected text after ']'");
  size_t n = (size_t)(close - (s + 1));
  bool valid = n > 0;
  for (size_t i = 0; i < n && valid; i++) {
    char c = s[1 + i];
    valid = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
  }
  if (!valid)
    return fail_at(ps, PMX_ECONFIG, ps->line, NULL, NULL,
                   "invalid section name \"%.*s\" (expected [a-z0-9_.]+)", (int)n, s + 1);
  char *name = pmx__malloc(n + 1);
  if (name == NULL) return fail_nomem(ps);
  memcpy(name, s + 1, n);
  name[n] = '\0';
  int dup = find_section(ps, name);
  if (dup >= 0) {
    fail_at(ps, PMX_ECONFIG, ps->line, name, NULL, "section appears twice (first at line %d)",
            ps->sections[dup].line);
    pmx__free(name);
    return 0;
  }
  seen_section_t *ns = grow(ps->sections, &ps->cap_sections, ps->n_sections + 1, sizeof *ns);
  if (ns == NULL) {
    pmx__free(name);
    return fail_nomem(ps);
  }
  ps->sections = ns;
  ps->sections[ps->n_sections] = (seen_section_t){name, ps->line};
  ps->cur_section = ps->n_sections++;

  if (strcmp(name, "promex") == 0) {
    ps->cur = S_PROMEX;
  } else if (strcmp(name, "metrics_server") == 0) {
    ps->cur = S_SERVER;
    ps->cf->cfg.metrics_server.enabled = true; /* the section enables it, as PromEx's keyword list */
  } else if (strcmp(name, "grafana") == 0) {
    ps->cur = S_GRAFANA;
    ps->cf->cfg.grafana.enabled = true;
  } else if (strcmp(name, "remote_write") == 0 || strcmp(name, "push") == 0) {
    ps->cur = S_PROMEX; /* options straight from the rules table, like [promex] */
  } else if (strcmp(name, "dashboards") == 0) {
    ps->cur = S_DASHBOARDS;
  } else if (strcmp(name, "dashboard_assigns") == 0) {
    ps->cur = S_ASSIGNS;
  } else if (strncmp(name, "plugin.", 7) == 0 && pmx__config_is_ident(name + 7)) {
    ps->cur = S_PLUGIN;
    return enter_plugin(ps, name, name + 7);
  } else {
    ps->cur = S_NONE;
    return fail_at(ps, PMX_ECONFIG, ps->line, name, NULL,
                   "unknown section (expected promex, metrics_server, grafana, dashboards, "
                   "dashboard_assigns, remote_write, push or plugin.NAME with NAME [a-z0-9_]+)");
  }
  return 1;
}

/* ---- inih callbacks ---- */

static bool hspace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

static char *read_line(char *str, int num, void *stream) {
  parser_t *ps = stream;
  if (ps->code != PMX_OK || *ps->pos == '\0') return NULL;
  const char *start = ps->pos;
  const char *nl = strchr(start, '\n');
  const char *end = nl != NULL ? nl : start + strlen(start);
  ps->pos = nl != NULL ? nl + 1 : end;
  ps->line++;
  while (start < end && hspace(*start)) start++;
  while (end > start && hspace(end[-1])) end--;
  size_t n = (size_t)(end - start);
  /* Room for the line, a '\n' and the NUL; a longer line would be split by inih. */
  if (num < 3 || n > (size_t)num - 2) {
    fail_at(ps, PMX_ECONFIG, ps->line, NULL, NULL, "line longer than %d characters", num - 2);
    return NULL;
  }
  memcpy(str, start, n);
  str[n] = '\n';
  str[n + 1] = '\0';
  if (n == 0 || *start == ';' || *start == '#') return str;
  if (*start == '[') return enter_section(ps, start, end) ? str : NULL;
  const char *d = find_end(start, end, "=:");
  if (d == end || *d == ';') {
    fail_at(ps, PMX_ECONFIG, ps->line, NULL, NULL,
            "expected \"key = value\", \"[section]\" or a comment");
    return NULL;
  }
  return str;
}

static int on_dashboard(parser_t *ps, const char *key, char *val) {
  pmx_config_file_t *cf = ps->cf;
  /* "name =" uses the key itself (a first-party name or a path); "label = /path" the value. */
  char *target = val;
  if (val[0] == '\0') {
    pmx__free(val);
    target = pmx__strdup(key);
  }
  if (own(cf, target) != PMX_OK) return fail_nomem(ps);
  pmx_dashboard_use_t *n = grow(cf->dashboards, &cf->cap_dashboards, cf->n_dashboards + 1, sizeof *n);
  if (n == NULL) return fail_nomem(ps);
  cf->dashboards = n;
  cf->dashboards[cf->n_dashboards++] = (pmx_dashboard_use_t){target, NULL, 0};
  return 1;
}

static int on_key(void *user, const char *section, const char *name, const char *value) {
  (void)section; /* the reader tracked it already, without inih's 50-byte truncation */
  parser_t *ps = user;
  if (ps->code != PMX_OK) return 0;
  if (ps->cur == S_NONE)
    return fail_at(ps, PMX_ECONFIG, ps->line, NULL, name, "key outside any section (start with [promex])");
  const char *sec = ps->sections[ps->cur_section].name;
  if (name[0] == '\0') return fail_at(ps, PMX_ECONFIG, ps->line, sec, NULL, "expected a key before '='");
  for (size_t i = 0; i < ps->n_keys; i++) {
    if (ps->keys[i].section == ps->cur_section && strcmp(ps->keys[i].key, name) == 0)
      return fail_at(ps, PMX_ECONFIG, ps->line, sec, name, "duplicate key (first set at line %d)",
                     ps->keys[i].line);
  }
  if (ps->n_keys >= PMX_CONFIG_MAX_KEYS)
    return fail_at(ps, PMX_ECONFIG, ps->line, sec, name, "more than %u keys in one file", PMX_CONFIG_MAX_KEYS);
  seen_key_t *nk = grow(ps->keys, &ps->cap_keys, ps->n_keys + 1, sizeof *nk);
  if (nk == NULL) return fail_nomem(ps);
  ps->keys = nk;
  char *kcopy = pmx__strdup(name);
  if (kcopy == NULL) return fail_nomem(ps);
  ps->keys[ps->n_keys++] = (seen_key_t){ps->cur_section, kcopy, ps->line};

  char msg[300];
  char *val = NULL;
  int rc = pmx__config_expand_env(value, &val, msg, sizeof msg);
  if (rc != PMX_OK) return fail_at(ps, rc, ps->line, sec, name, "%s", msg);

  switch (ps->cur) {
    case S_PLUGIN:
      if (kv_push(ps->cf, &ps->cf->plugin_opts[ps->cur_plugin], name, val) != PMX_OK) return fail_nomem(ps);
      return 1;
    case S_ASSIGNS:
      if (kv_push(ps->cf, &ps->cf->assigns, name, val) != PMX_OK) return fail_nomem(ps);
      return 1;
    case S_DASHBOARDS:
      return on_dashboard(ps, name, val);
    default:
      break;
  }
  const pmx__config_rule_t *r = pmx__config_rule_find(sec, name);
  if (r != NULL) return set_option(ps, r, sec, val);
  pmx__free(val);
  return unknown_key(ps, sec, name);
}

/* ---- after the last line ---- */

/* Line of `key` in `section`, else of the section header, else 0. */
static int line_of(const parser_t *ps, const char *section, const char *key) {
  int s = find_section(ps, section);
  if (s < 0) return 0;
  for (size_t i = 0; key != NULL && i < ps->n_keys; i++) {
    if (ps->keys[i].section == (size_t)s && strcmp(ps->keys[i].key, key) == 0) return ps->keys[i].line;
  }
  return ps->sections[s].line;
}

static bool has_key(const parser_t *ps, const char *section, const char *key) {
  int s = find_section(ps, section);
  for (size_t i = 0; s >= 0 && i < ps->n_keys; i++) {
    if (ps->keys[i].section == (size_t)s && strcmp(ps->keys[i].key, key) == 0) return true;
  }
  return false;
}

static void finish(parser_t *ps) {
  pmx_config_file_t *cf = ps->cf;
  pmx_config_t *cfg = &cf->cfg;
  if (find_section(ps, "promex") < 0) {
    fail_at(ps, PMX_ECONFIG, 0, "promex", NULL, "missing section (it must at least set app = NAME)");
    return;
  }
  if (cfg->app == NULL) {
    fail_at(ps, PMX_ECONFIG, line_of(ps, "promex", NULL), "promex", "app",
            "required (the application name, [a-z0-9_]+)");
    return;
  }
  if (cfg->metrics_server.enabled && !has_key(ps, "metrics_server", "port")) {
    fail_at(ps, PMX_ECONFIG, line_of(ps, "metrics_server", NULL), "metrics_server", "port",
            "required when the metrics server is enabled (0 picks a free port)");
    return;
  }
  /* A [remote_write] or [push] section without a url would do nothing at all: say so. */
  static const char *const need_url[] = {"remote_write", "push"};
  for (size_t i = 0; i < sizeof need_url / sizeof need_url[0]; i++) {
    if (find_section(ps, need_url[i]) >= 0 && !has_key(ps, need_url[i], "url")) {
      fail_at(ps, PMX_ECONFIG, line_of(ps, need_url[i], NULL), need_url[i], "url",
              "required in this section (the receiver's http:// or https:// URL)");
      return;
    }
  }
  cfg->drop_metrics_groups = cf->drop;
  cfg->n_drop_metrics_groups = cf->n_drop;
  for (size_t i = 0; i < cf->n_plugins; i++) {
    cf->plugins[i].opts = cf->plugin_opts[i].v;
    cf->plugins[i].n_opts = cf->plugin_opts[i].n;
  }
  cfg->plugins = cf->plugins;
  cfg->n_plugins = cf->n_plugins;
  cfg->dashboards = cf->dashboards;
  cfg->n_dashboards = cf->n_dashboards;
  cfg->dashboard_assigns = cf->assigns.v;
  cfg->n_dashboard_assigns = cf->assigns.n;
  pmx__config_problem_t p;
  if (pmx__config_check(cfg, &p) != PMX_OK)
    fail_at(ps, p.code, line_of(ps, p.section, p.key), p.section, p.key, "%s", p.msg);
}

int pmx_config_parse(const char *text, const char *name, const pmx_plugin_t *const *known,
                     size_t n_known, pmx_config_file_t **out, pmx_error_t *err) {
  if (out != NULL) *out = NULL;
  if (name == NULL) name = "<string>";
  if (text == NULL || out == NULL || (known == NULL && n_known > 0))
    return pmx__fail(err, PMX_EINVAL, name, "pmx_config_parse: text, out and known (when n_known > 0) must not be NULL");
  pmx_config_file_t *cf = pmx__calloc(1, sizeof *cf);
  if (cf == NULL) return pmx__fail(err, PMX_ENOMEM, name, "%s: out of memory", name);
  pmx_config_defaults(&cf->cfg);

  parser_t ps = {.file = name, .pos = text, .known = known, .n_known = n_known, .cf = cf};
  /* A UTF-8 byte order mark is skipped here, as the reader strips before inih could. */
  if ((unsigned char)text[0] == 0xEF && (unsigned char)text[1] == 0xBB && (unsigned char)text[2] == 0xBF)
    ps.pos += 3;
  int r = ini_parse_stream(read_line, &ps, on_key, &ps);
  if (r != 0 && (ps.code == PMX_OK || (r > 0 && r < ps.err.line))) {
    /* inih found a problem the reader did not (should not happen; kept as a safety net). */
    ps.code = PMX_OK;
    if (r == -1 || r == -2)
      fail_at(&ps, PMX_ENOMEM, 0, NULL, NULL, "out of memory");
    else
      fail_at(&ps, PMX_ECONFIG, r, NULL, NULL, "syntax error");
  }
  if (ps.code == PMX_OK) finish(&ps);

  for (size_t i = 0; i < ps.n_sections; i++) pmx__free(ps.sections[i].name);
  pmx__free(ps.sections);
  for (size_t i = 0; i < ps.n_keys; i++) pmx__free(ps.keys[i].key);
  pmx__free(ps.keys);
  if (ps.code != PMX_OK) {
    if (err != NULL) *err = ps.err;
    pmx_config_file_free(cf);
    return ps.code;
  }
  *out = cf;
  return PMX_OK;
}

int pmx_config_load(const char *path, const pmx_plugin_t *const *known, size_t n_known,
                    pmx_config_file_t **out, pmx_error_t *err) {
  if (out != NULL) *out = NULL;
  if (path == NULL || out == NULL)
    return pmx__fail(err, PMX_EINVAL, "config", "pmx_config_load: path and out must not be NULL");
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    int e = errno;
    return pmx__fail(err, PMX_EIO, path, "%s: cannot open: %s", path, strerror(e));
  }
  char *text = pmx__malloc(PMX_CONFIG_MAX_BYTES + 1);
  if (text == NULL) {
    fclose(f);
    return pmx__fail(err, PMX_ENOMEM, path, "%s: out of memory", path);
  }
  size_t n = fread(text, 1, PMX_CONFIG_MAX_BYTES + 1, f);
  int read_error = ferror(f);
  fclose(f);
  int rc = PMX_OK;
  if (read_error)
    rc = pmx__fail(err, PMX_EIO, path, "%s: read error", path);
  else if (n > PMX_CONFIG_MAX_BYTES)
    rc = pmx__fail(err, PMX_ECONFIG, path, "%s: larger than %u bytes; not a promex config file?", path,
                   PMX_CONFIG_MAX_BYTES);
  else if (memchr(text, '\0', n) != NULL)
    rc = pmx__fail(err, PMX_ECONFIG, path, "%s: contains a NUL byte at offset %zu; not a text file",
                   path, (size_t)((char *)memchr(text, '\0', n) - text));
  if (rc == PMX_OK) {
    text[n] = '\0';
    rc = pmx_config_parse(text, path, known, n_known, out, err);
  }
  pmx__free(text);
  return rc;
}
