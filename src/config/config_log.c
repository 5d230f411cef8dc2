/* The one log formatter (config_log.h). */
#include "config/config_log.h"

#include <stdio.h>

static const char *level_name(pmx_log_level_t l) {
  switch (l) {
    case PMX_LOG_DEBUG: return "debug";
    case PMX_LOG_INFO: return "info";
    case PMX_LOG_WARN: return "warning";
    default: return "error";
  }
}

void pmx__config_vlog(const pmx_config_t *cfg, pmx_log_level_t level, const char *fmt,
                      va_list ap) {
  if (cfg == NULL || fmt == NULL || level < cfg->log_level) return;
  /* Without a sink, only warnings and errors reach stderr (config.h); that is the one place the
   * library writes to a stream on its own. */
  if (cfg->log == NULL && level < PMX_LOG_WARN) return;
  char msg[1024];
  vsnprintf(msg, sizeof msg, fmt, ap);
  if (cfg->log != NULL)
    cfg->log(cfg->log_ctx, level, msg);
  else /* one fprintf per line, so concurrent lines do not interleave */
    fprintf(stderr, "promex[%s] %s: %s\n", cfg->app != NULL ? cfg->app : "?", level_name(level),
            msg);
}

void pmx__config_log(const pmx_config_t *cfg, pmx_log_level_t level, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  pmx__config_vlog(cfg, level, fmt, ap);
  va_end(ap);
}
