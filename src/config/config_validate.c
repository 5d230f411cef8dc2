/* pmx_config_defaults() and pmx_config_validate(): the rules a pmx_config_t must meet before
 * anything starts, whether it was built in code or loaded from a file.
 *
 * Zero/NULL fields mean "the default" (see config.h), so they always pass; only values that are
 * set and wrong, or combinations that cannot work (bearer auth without a token), fail. The first
 * problem wins: one clear message is more useful than a list the caller has to untangle. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config/config_internal.h"
#include "config/config_rules.h"
#include "internal.h"

void pmx_config_defaults(pmx_config_t *cfg) {
  if (cfg == NULL) return;
  memset(cfg, 0, sizeof *cfg);
  cfg->grafana.upload_dashboards_on_start = true;
  cfg->log_level = PMX_LOG_INFO;
}

static int problem(pmx__config_problem_t *p, int code, const char *section, const char *key,
                   const char *fmt, ...) PMX_PRINTF(5, 6);
static int problem(pmx__config_problem_t *p, int code, const char *section, const char *key,
                   const char *fmt, ...) {
  p->code = code;
  pmx__strlcpy(p->section, section, sizeof p->section);
  p->key = key;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(p->msg, sizeof p->msg, fmt, ap);
  va_end(ap);
  return code;
}

static bool empty(const char *s) { return s == NULL || *s == '\0'; }

/* The per-field rules of the table for one section ("promex" or "grafana"): string shapes and
 * lengths, numeric ranges (0 is the default and passes), enum values. */
static int check_fields(const pmx_config_t *cfg, const char *section, pmx__config_problem_t *p) {
  char msg[sizeof p->msg];
  for (size_t i = 0; i < pmx__n_config_rules; i++) {
    const pmx__config_rule_t *r = &pmx__config_rules[i];
    if (strcmp(r->section, section) != 0) continue;
    bool ok = true;
    if (r->type == PMX__OPT_STR) {
      const char *v = pmx__config_rule_get_str(r, cfg);
      ok = v == NULL || pmx__config_rule_check_str(r, v, msg, sizeof msg);
    } else if (r->type == PMX__OPT_UINT) {
      ok = pmx__config_rule_check_uint(r, pmx__config_rule_get_uint(r, cfg), true, msg, sizeof msg);
    } else if (r->type == PMX__OPT_ENUM) {
      ok = pmx__config_rule_check_enum(r, pmx__config_rule_get_uint(r, cfg), msg, sizeof msg);
    } else if (r->type == PMX__OPT_DELAY && cfg->manual_metrics_start_delay_ms > 0 &&
               (uint64_t)cfg->manual_metrics_start_delay_ms > r->max) {
      ok = false;
      snprintf(msg, sizeof msg, "expected at most %llu ms (<= 0: no delay), got %lld", (unsigned long long)r->max,
               (long long)cfg->manual_metrics_start_delay_ms);
    }
    if (!ok) return problem(p, PMX_ECONFIG, section, r->key, "%s", msg);
  }
  return PMX_OK;
}

static int check_server(const pmx_server_config_t *s, pmx__config_problem_t *p) {
  if (!s->enabled) return PMX_OK;
  const char *key = NULL;
  char msg[sizeof p->msg];
  int rc = pmx__config_check_server(s, &key, msg, sizeof msg);
  if (rc != PMX_OK) return problem(p, rc, "metrics_server", key, "%s", msg);
  return PMX_OK;
}

static int check_grafana(const pmx_grafana_config_t *g, const pmx_config_t *cfg, pmx__config_problem_t *p) {
  static const char sec[] = "grafana";
  if (!g->enabled) return PMX_OK;
  if (empty(g->host)) return problem(p, PMX_ECONFIG, sec, "host", "required when grafana is enabled");
  int rc = check_fields(cfg, sec, p);
  if (rc != PMX_OK) return rc;
  if (!empty(g->auth_token)) return PMX_OK;
  if (empty(g->username) && empty(g->password))
    return problem(p, PMX_ECONFIG, sec, "auth_token",
                   "grafana needs auth_token, or username and password");
  if (empty(g->username)) return problem(p, PMX_ECONFIG, sec, "username", "required with password");
  if (empty(g->password)) return problem(p, PMX_ECONFIG, sec, "password", "required with username");
  return PMX_OK;
}

/* The options every plugin accepts (poll_rate, metric_prefix, native_histograms, ...), checked as the runtime reads
 * them at start, so a bad one fails here rather than in pmx_start(). */
static int check_plugin_common(const pmx_plugin_use_t *u, const char *label, pmx__config_problem_t *p) {
  char msg[sizeof p->msg];
  for (size_t k = 0; k < u->n_opts; k++) {
    const pmx__config_rule_t *r = pmx__config_rule_find(label, u->opts[k].key);
    if (r == NULL) continue;
    const char *v = u->opts[k].value;
    bool ok = true;
    if (r->type == PMX__OPT_UINT) {
      uint64_t n;
      ok = pmx__config_parse_uint(v, r->min, r->max, &n, msg, sizeof msg) == PMX_OK;
    } else if (r->type == PMX__OPT_BOOL) {
      bool b;
      ok = pmx__config_parse_bool(v, &b, msg, sizeof msg) == PMX_OK;
    } else {
      ok = pmx__config_rule_check_str(r, v, msg, sizeof msg);
    }
    if (!ok) return problem(p, PMX_ECONFIG, label, r->key, "%s", msg);
  }
  return PMX_OK;
}

static int check_kvs(const pmx_kv_t *kv, size_t n, const char *section, const char *what,
                     pmx__config_problem_t *p) {
  if (n > 0 && kv == NULL)
    return problem(p, PMX_ECONFIG, section, NULL, "%s: count is %zu but the array is NULL", what, n);
  for (size_t i = 0; i < n; i++) {
    if (empty(kv[i].key)) return problem(p, PMX_ECONFIG, section, NULL, "%s[%zu]: empty key", what, i);
    if (kv[i].value == NULL)
      return problem(p, PMX_ECONFIG, section, NULL, "%s \"%s\": value is NULL", what, kv[i].key);
  }
  return PMX_OK;
}

/* Section label for plugin i: "plugin.NAME" when the name is usable, else "plugins[i]". */
static void plugin_label(const pmx_plugin_use_t *u, size_t i, char *buf, size_t cap) {
  if (u->plugin != NULL && pmx__config_is_ident(u->plugin->name))
    snprintf(buf, cap, "plugin.%s", u->plugin->name);
  else
    snprintf(buf, cap, "plugins[%zu]", i);
}

static int check_plugins(const pmx_config_t *cfg, pmx__config_problem_t *p) {
  if (cfg->n_plugins > 0 && cfg->plugins == NULL)
    return problem(p, PMX_ECONFIG, "plugins", NULL, "n_plugins is %zu but plugins is NULL", cfg->n_plugins);
  char label[96];
  for (size_t i = 0; i < cfg->n_plugins; i++) {
    const pmx_plugin_use_t *u = &cfg->plugins[i];
    const pmx_plugin_t *pl = u->plugin;
    plugin_label(u, i, label, sizeof label);
    if (pl == NULL) return problem(p, PMX_ECONFIG, label, NULL, "plugin table is NULL");
    if (pl->abi_version != PMX_PLUGIN_ABI)
      return problem(p, PMX_EABI, label, NULL, "built for plugin ABI %u, this library uses ABI %u",
                     (unsigned)pl->abi_version, PMX_PLUGIN_ABI);
    for (size_t r = 0; r < sizeof pl->reserved / sizeof pl->reserved[0]; r++) {
      if (pl->reserved[r] != NULL)
        return problem(p, PMX_EABI, label, NULL, "reserved[%zu] is not NULL (plugin from a newer ABI?)", r);
    }
    if (!pmx__config_is_ident(pl->name))
      return problem(p, PMX_ECONFIG, label, NULL, "plugin name must match [a-z0-9_]+, got \"%s\"",
                     pl->name ? pl->name : "(null)");
    for (size_t j = 0; j < i; j++) {
      const pmx_plugin_t *o = cfg->plugins[j].plugin;
      if (o != NULL && o->name != NULL && strcmp(o->name, pl->name) == 0)
        return problem(p, PMX_ECONFIG, label, NULL, "plugin \"%s\" is listed twice (plugins[%zu] and [%zu])",
                       pl->name, j, i);
    }
    int rc = check_kvs(u->opts, u->n_opts, label, "option", p);
    if (rc == PMX_OK) rc = check_plugin_common(u, label, p);
    if (rc != PMX_OK) return rc;
  }
  return PMX_OK;
}

static int check_dashboards(const pmx_config_t *cfg, pmx__config_problem_t *p) {
  if (cfg->n_dashboards > 0 && cfg->dashboards == NULL)
    return problem(p, PMX_ECONFIG, "dashboards", NULL, "n_dashboards is %zu but dashboards is NULL",
                   cfg->n_dashboards);
  for (size_t i = 0; i < cfg->n_dashboards; i++) {
    const pmx_dashboard_use_t *d = &cfg->dashboards[i];
    if (empty(d->name_or_path))
      return problem(p, PMX_ECONFIG, "dashboards", NULL, "dashboards[%zu]: empty name or path", i);
    int rc = check_kvs(d->assigns, d->n_assigns, "dashboards", "assign", p);
    if (rc != PMX_OK) return rc;
  }
  return check_kvs(cfg->dashboard_assigns, cfg->n_dashboard_assigns, "dashboard_assigns", "assign", p);
}

int pmx__config_check(const pmx_config_t *cfg, pmx__config_problem_t *p) {
  static const char sec[] = "promex";
  if (empty(cfg->app)) return problem(p, PMX_ECONFIG, sec, "app", "required (the application name)");
  int rc = check_fields(cfg, sec, p);
  if (rc != PMX_OK) return rc;
  if (cfg->n_drop_metrics_groups > 0 && cfg->drop_metrics_groups == NULL)
    return problem(p, PMX_ECONFIG, sec, "drop_metrics_groups", "count is %zu but the array is NULL",
                   cfg->n_drop_metrics_groups);
  for (size_t i = 0; i < cfg->n_drop_metrics_groups; i++) {
    if (empty(cfg->drop_metrics_groups[i]))
      return problem(p, PMX_ECONFIG, sec, "drop_metrics_groups", "group name %zu is empty", i);
  }
  rc = check_server(&cfg->metrics_server, p);
  if (rc == PMX_OK) rc = check_grafana(&cfg->grafana, cfg, p);
  if (rc == PMX_OK) rc = check_plugins(cfg, p);
  if (rc == PMX_OK) rc = check_dashboards(cfg, p);
  return rc;
}

int pmx_config_validate(const pmx_config_t *cfg, pmx_error_t *err) {
  if (cfg == NULL) return pmx__fail(err, PMX_EINVAL, "config", "pmx_config_validate: cfg is NULL");
  pmx__config_problem_t p;
  int rc = pmx__config_check(cfg, &p);
  if (rc == PMX_OK) return PMX_OK;
  /* Options of the top level ([promex] in a file) are named bare, the others as section.key. */
  if (p.key == NULL)
    return pmx__fail(err, rc, "config", "%s: %s", p.section, p.msg);
  if (strcmp(p.section, "promex") == 0) return pmx__fail(err, rc, "config", "%s: %s", p.key, p.msg);
  return pmx__fail(err, rc, "config", "%s.%s: %s", p.section, p.key, p.msg);
}
