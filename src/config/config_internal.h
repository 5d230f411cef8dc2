/* Private to the config area: value parsers shared by the INI loader and pmx_config_validate(),
 * and the validation core that both report through.
 *
 * The validation core returns the first problem as (code, section, key, message) rather than a
 * finished string, so that pmx_config_validate() can say "metrics_server.auth_token: ..." while
 * the INI loader can look up the line the key (or its section) was on and say
 * "app.ini:9: [metrics_server] auth_token: ...". */
#ifndef PMX_CONFIG_INTERNAL_H
#define PMX_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "promex/config.h"

/* The first problem found by pmx__config_check(). `key` is static storage or NULL (the problem is
 * about the whole section); `section` is "promex", "metrics_server", "grafana", "dashboards",
 * "dashboard_assigns", "plugin.NAME" or "plugins[i]". */
typedef struct pmx__config_problem {
  int code;
  char section[96];
  const char *key;
  char msg[384];
} pmx__config_problem_t;

/* Runs every rule documented at pmx_config_validate(). Returns PMX_OK, or PMX_ECONFIG/PMX_EABI
 * with `p` filled. */
int pmx__config_check(const pmx_config_t *cfg, pmx__config_problem_t *p);

/* True if `s` is non-empty and made only of [a-z0-9_]. */
bool pmx__config_is_ident(const char *s);

/* Value parsers: PMX_OK with the result, or PMX_ECONFIG with `msg` (cap bytes) saying what was
 * expected and what was given. `s` is the complete (already expanded) value. */
int pmx__config_parse_bool(const char *s, bool *out, char *msg, size_t cap);
int pmx__config_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out, char *msg,
                           size_t cap);
/* "no_delay" -> 0, otherwise a number of milliseconds 0-max. */
int pmx__config_parse_delay(const char *s, uint64_t max, int64_t *out, char *msg, size_t cap);

/* Replaces every ${VAR} in `in` with the value of environment variable VAR and every "$$" with
 * "$". On PMX_OK *out is a new malloc'd string owned by the caller. PMX_ECONFIG (unset variable,
 * malformed reference, lone '$') fills `msg`; PMX_ENOMEM. Reads the environment with getenv():
 * not safe against a concurrent setenv() in another thread. */
int pmx__config_expand_env(const char *in, char **out, char *msg, size_t cap);

#endif
