/* What `promex dashboard export` and `promex alerts export` share: the same flags (-d NAME, -c,
 * -s | -f, -a KEY=VALUE...), the same choice of configuration (promex.ini when present, else every
 * first-party plugin with the app named after the directory), the same assigns (the config's
 * [dashboards] entry of the plugin, then -a), and the same output handling. */
#ifndef PMX_CLI_EXPORT_ARGS_H
#define PMX_CLI_EXPORT_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#include "promex/promex.h"

#define CLI_MAX_ASSIGNS 128
/* cli_export_parse() printed the help: exit 0 without doing anything else. */
#define CLI_HELP_SHOWN (-1)

typedef struct cli_export_args {
  const char *cmd;     /* "dashboard export": prefixes every message */
  const char *name;    /* -d: what to export */
  const char *config;  /* -c, or promex.ini when it exists, or NULL */
  const char *file;    /* -f, or NULL with -s */
  bool to_stdout;
  pmx_kv_t extra[CLI_MAX_ASSIGNS]; /* -a, in command-line order */
  char *extra_keys[CLI_MAX_ASSIGNS]; /* owned copies of the keys extra[] points to */
  size_t n_extra;
} cli_export_args_t;

/* Parses argv into `a`. `name_opt` is the long name of -d ("dashboard" or "rules"; the other is
 * accepted too). `help` prints the command's help to stdout. Returns CLI_OK, CLI_HELP_SHOWN,
 * CLI_USAGE (message printed) or CLI_FAIL (out of memory). Free with cli_export_args_free()
 * whatever it returns. */
int cli_export_parse(cli_export_args_t *a, const char *cmd, const char *name_opt, int argc,
                     char **argv, void (*help)(void));
void cli_export_args_free(cli_export_args_t *a);

/* The configuration the export uses: -c (or promex.ini) loaded into *cf, or the all-plugins
 * default. NULL (error printed) when the file does not load. */
const pmx_config_t *cli_export_config(const cli_export_args_t *a, pmx_config_file_t **cf);

/* Fills `out` (room for 2 * CLI_MAX_ASSIGNS) with the assigns of the config's [dashboards] entries
 * named `entry` or `alias` (alias may be NULL), then the -a assigns. Returns how many. */
size_t cli_export_assigns(const cli_export_args_t *a, const pmx_config_t *cfg, const char *entry,
                          const char *alias, pmx_kv_t *out);

/* Writes `text` and a final newline to stdout or a.file ("wrote PATH" on stderr). CLI_OK or
 * CLI_FAIL with the reason printed. */
int cli_export_write(const cli_export_args_t *a, const char *text);

#endif
