/* Running the configured plugins' callbacks into one set of groups (used by pmx_start and
 * pmx_describe_metrics), with the per-plugin checks: ABI version, reserved slots, name, and the
 * common options metric_prefix, poll_rate, poll_timeout and native_histograms (with
 * native_max_buckets: the plugin's distributions become native too). Also marks the groups named
 * in drop_metrics_groups; a drop entry that names no group is only a warning (as in PromEx, where
 * dropping an unknown group is harmless), logged through the instance when there is one. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"
#include "internal.h"
#include "runtime/runtime_internal.h"

static bool valid_plugin_name(const char *s) {
  if (s == NULL || s[0] == '\0') return false;
  for (const char *c = s; *c != '\0'; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_')) return false;
  return true;
}

/* Parses option poll_rate or poll_timeout: a positive integer number of milliseconds that fits
 * uint32_t. */
static int parse_ms(const char *plugin, const char *key, const char *v, uint32_t *out,
                    pmx_error_t *err) {
  char *end = NULL;
  errno = 0;
  unsigned long long n = (v[0] >= '0' && v[0] <= '9') ? strtoull(v, &end, 10) : 0;
  if (end == NULL || *end != '\0' || errno != 0 || n == 0 || n > UINT32_MAX)
    return pmx__fail(err, PMX_ECONFIG, plugin,
                     "plugin \"%s\": option %s = \"%s\" must be a positive integer "
                     "number of milliseconds", plugin, key, v);
  *out = (uint32_t)n;
  return PMX_OK;
}

/* Options native_histograms and native_max_buckets: every distribution of the groups the plugin
 * added from `first` on also keeps a native histogram at schema 3 (client_golang's usual factor
 * 1.1), its classic buckets kept for servers that scrape text. */
static int apply_native(const pmx_plugin_ctx_t *ctx, pmx_groups_t *g, size_t first, pmx_error_t *err) {
  const char *on = pmx_plugin_opt(ctx, "native_histograms");
  const char *max = pmx_plugin_opt(ctx, "native_max_buckets");
  bool native = false;
  uint64_t max_buckets = 0;
  char msg[200];
  if (on != NULL && pmx__config_parse_bool(on, &native, msg, sizeof msg) != PMX_OK)
    return pmx__fail(err, PMX_ECONFIG, ctx->plugin_name, "plugin \"%s\": option native_histograms: %s",
                     ctx->plugin_name, msg);
  if (max != NULL &&
      pmx__config_parse_uint(max, 1, PMX_NATIVE_MAX_BUCKETS, &max_buckets, msg, sizeof msg) != PMX_OK)
    return pmx__fail(err, PMX_ECONFIG, ctx->plugin_name, "plugin \"%s\": option native_max_buckets: %s",
                     ctx->plugin_name, msg);
  for (size_t i = first; native && i < g->n; i++) {
    for (size_t j = 0; j < g->items[i].n_metrics; j++) {
      pmx_metric_def_t *d = &g->items[i].metrics[j];
      if (d->kind != PMX_DISTRIBUTION || d->native) continue; /* the plugin's own choice stands */
      d->native = true;
      d->native_schema = 3;
      d->native_max_buckets = (size_t)max_buckets;
    }
  }
  return PMX_OK;
}

static int run_plugin(const pmx_config_t *cfg, const pmx_plugin_use_t *use, pmx_bus_t *bus,
                      pmx_groups_t *g, pmx_error_t *err) {
  const pmx_plugin_t *pl = use->plugin;
  if (pl == NULL)
    return pmx__fail(err, PMX_EINVAL, "", "plugin use without a plugin table");
  if (pl->abi_version != PMX_PLUGIN_ABI)
    return pmx__fail(err, PMX_EABI, pl->name != NULL ? pl->name : "",
                     "plugin \"%s\" was built for plugin ABI %u; this library supports %u",
                     pl->name != NULL ? pl->name : "?", (unsigned)pl->abi_version,
                     (unsigned)PMX_PLUGIN_ABI);
  if (!valid_plugin_name(pl->name))
    return pmx__fail(err, PMX_EINVAL, "", "plugin name \"%s\" must match [a-z0-9_]+",
                     pl->name != NULL ? pl->name : "(null)");
  for (size_t i = 0; i < sizeof pl->reserved / sizeof pl->reserved[0]; i++)
    if (pl->reserved[i] != NULL)
      return pmx__fail(err, PMX_EABI, pl->name,
                       "plugin \"%s\": reserved slot %zu is not NULL (built against another "
                       "promex?)", pl->name, i);

  pmx_plugin_ctx_t ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.app = cfg->app;
  ctx.app_version = cfg->app_version;
  ctx.plugin_name = pl->name;
  ctx.opts = use->opts;
  ctx.n_opts = use->opts != NULL ? use->n_opts : 0;
  ctx.user_data = use->user_data;
  ctx.bus = bus;
  ctx.err = err;
  ctx.poll_rate_ms = PMX_DEFAULT_POLL_RATE_MS;
  const char *rate = pmx_plugin_opt(&ctx, "poll_rate");
  if (rate != NULL) {
    int rc = parse_ms(pl->name, "poll_rate", rate, &ctx.poll_rate_ms, err);
    if (rc != PMX_OK) return rc;
  }
  uint32_t timeout_ms = 0; /* 0: each group's poll rate */
  const char *timeout = pmx_plugin_opt(&ctx, "poll_timeout");
  if (timeout != NULL) {
    int rc = parse_ms(pl->name, "poll_timeout", timeout, &timeout_ms, err);
    if (rc != PMX_OK) return rc;
  }
  const char *prefix_opt = pmx_plugin_opt(&ctx, "metric_prefix");
  char *prefix = NULL;
  if (prefix_opt != NULL) {
    if (prefix_opt[0] == '\0')
      return pmx__fail(err, PMX_ECONFIG, pl->name, "plugin \"%s\": option metric_prefix is empty",
                       pl->name);
    ctx.metric_prefix = prefix_opt;
  } else {
    prefix = pmx__default_prefix(cfg->app, pl->name);
    if (prefix == NULL) return pmx__fail(err, PMX_ENOMEM, pl->name, "out of memory");
    ctx.metric_prefix = prefix;
  }

  const pmx_plugin_cb cbs[3] = {pl->event_metrics, pl->polling_metrics, pl->manual_metrics};
  static const char *const cb_names[3] = {"event_metrics", "polling_metrics", "manual_metrics"};
  int rc = PMX_OK;
  size_t first_group = g->n;
  g->cur = &ctx;
  g->cur_poll_timeout_ms = timeout_ms;
  for (int i = 0; i < 3 && rc == PMX_OK; i++) {
    if (cbs[i] == NULL) continue;
    pmx_error_t before;
    if (err != NULL) before = *err;
    if (err != NULL) err->text[0] = '\0';
    rc = cbs[i](&ctx, g);
    if (rc == PMX_OK && g->sticky_code != PMX_OK) {
      /* The callback ignored a failed add: the first add error decides. */
      rc = g->sticky_code;
      if (err != NULL) *err = g->sticky_err;
    } else if (rc != PMX_OK && (err == NULL || err->text[0] == '\0')) {
      if (err != NULL) *err = before;
      pmx__fail(err, rc, pl->name, "plugin \"%s\": %s failed: %s", pl->name, cb_names[i],
                pmx_strerror(rc));
    } else if (rc != PMX_OK && err != NULL) {
      err->code = rc;
    }
  }
  g->cur = NULL;
  g->cur_poll_timeout_ms = 0;
  if (rc == PMX_OK) rc = apply_native(&ctx, g, first_group, err);
  pmx__free(prefix);
  return rc;
}

int pmx__rt_collect(const pmx_config_t *cfg, pmx_bus_t *bus, const pmx_t *p, pmx_groups_t **out,
                    pmx_error_t *err) {
  *out = NULL;
  pmx_groups_t *g = pmx__groups_new();
  if (g == NULL) return pmx__fail(err, PMX_ENOMEM, "", "out of memory");
  for (size_t i = 0; i < cfg->n_plugins; i++) {
    /* Duplicate plugins would register the same groups twice; name the plugin, not the group. */
    for (size_t j = 0; j < i; j++) {
      if (cfg->plugins[i].plugin != NULL && cfg->plugins[i].plugin == cfg->plugins[j].plugin) {
        pmx__fail(err, PMX_ECONFIG, cfg->plugins[i].plugin->name ? cfg->plugins[i].plugin->name : "",
                  "plugin \"%s\" is configured twice",
                  cfg->plugins[i].plugin->name ? cfg->plugins[i].plugin->name : "?");
        pmx__groups_free(g);
        return PMX_ECONFIG;
      }
    }
    int rc = run_plugin(cfg, &cfg->plugins[i], bus, g, err);
    if (rc != PMX_OK) {
      pmx__groups_free(g);
      return rc;
    }
  }
  for (size_t d = 0; d < cfg->n_drop_metrics_groups; d++) {
    const char *name = cfg->drop_metrics_groups[d];
    bool found = false;
    for (size_t i = 0; name != NULL && i < g->n; i++) {
      if (strcmp(g->items[i].name, name) == 0) {
        g->items[i].dropped = true;
        found = true;
      }
    }
    if (!found && p != NULL)
      pmx_log(p, PMX_LOG_WARN, "drop_metrics_groups: no plugin defines a group named \"%s\"",
              name != NULL ? name : "(null)");
  }
  *out = g;
  return PMX_OK;
}
