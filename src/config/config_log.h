/* Private to promex: the one log formatter. Every area that logs for an instance (the runtime's
 * pmx_log, the Grafana job) goes through it, so that every line has the same filter and format:
 * below cfg->log_level nothing; with a sink (cfg->log) the message as is; without one, only
 * warnings and errors, to stderr as "promex[<app>] <level>: <message>" (config.h). */
#ifndef PMX_CONFIG_LOG_H
#define PMX_CONFIG_LOG_H

#include <stdarg.h>

#include "internal.h"
#include "promex/config.h"

void pmx__config_vlog(const pmx_config_t *cfg, pmx_log_level_t level, const char *fmt, va_list ap)
    PMX_PRINTF(3, 0);
void pmx__config_log(const pmx_config_t *cfg, pmx_log_level_t level, const char *fmt, ...)
    PMX_PRINTF(3, 4);

#endif
