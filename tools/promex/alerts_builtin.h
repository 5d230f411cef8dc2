/* The first-party alert rule templates (alerts/<plugin>.rules.yml) compiled into the CLI by
 * cmake/embed_files.cmake. */
#ifndef PMX_CLI_ALERTS_BUILTIN_H
#define PMX_CLI_ALERTS_BUILTIN_H

#include <stddef.h>

typedef struct cli_builtin_alerts {
  const char *name; /* "process.rules.yml" */
  const char *text; /* NUL-terminated template */
  size_t len;       /* bytes, without the NUL */
} cli_builtin_alerts_t;

/* Sorted by name; cli_n_builtin_alerts entries followed by a {NULL, NULL, 0} sentinel. */
extern const cli_builtin_alerts_t cli_builtin_alerts[];
extern const size_t cli_n_builtin_alerts;

#endif
