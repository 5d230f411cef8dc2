/* The option helpers plugin callbacks use (pmx_plugin_opt / pmx_plugin_check_opts /
 * pmx_plugin_fail, include/promex/plugin.h). */
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

#include "internal.h"
#include "promex/plugin.h"

const char *pmx_plugin_opt(const pmx_plugin_ctx_t *ctx, const char *key) {
  if (ctx == NULL || key == NULL) return NULL;
  const char *v = NULL;
  for (size_t i = 0; i < ctx->n_opts; i++)
    if (ctx->opts[i].key != NULL && strcmp(ctx->opts[i].key, key) == 0) v = ctx->opts[i].value;
  return v;
}

int pmx_plugin_check_opts(const pmx_plugin_ctx_t *ctx, const char *const *allowed,
                          size_t n_allowed) {
  if (ctx == NULL || (allowed == NULL && n_allowed > 0)) return PMX_EINVAL;
  for (size_t i = 0; i < ctx->n_opts; i++) {
    const char *k = ctx->opts[i].key;
    if (k == NULL)
      return pmx__fail(ctx->err, PMX_ECONFIG, ctx->plugin_name,
                       "plugin \"%s\": option with no name", ctx->plugin_name);
    bool ok = strcmp(k, "metric_prefix") == 0 || strcmp(k, "poll_rate") == 0 ||
              strcmp(k, "poll_timeout") == 0 || strcmp(k, "native_histograms") == 0 ||
              strcmp(k, "native_max_buckets") == 0;
    for (size_t j = 0; !ok && j < n_allowed; j++) ok = allowed[j] != NULL && strcmp(k, allowed[j]) == 0;
    if (!ok)
      return pmx__fail(ctx->err, PMX_ECONFIG, ctx->plugin_name, "plugin \"%s\": unknown option \"%s\"",
                       ctx->plugin_name, k);
  }
  return PMX_OK;
}

int pmx_plugin_fail(const pmx_plugin_ctx_t *ctx, int code, const char *fmt, ...) {
  if (ctx == NULL || fmt == NULL) return code;
  va_list ap;
  va_start(ap, fmt);
  pmx__vfail(ctx->err, code, ctx->plugin_name, fmt, ap);
  va_end(ap);
  return code;
}
