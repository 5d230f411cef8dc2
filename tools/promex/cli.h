/* Shared declarations of the promex CLI: subcommand entry points, their help texts, and small
 * helpers (config loading, the default app name, option-error reporting). Exit codes: 0 success,
 * 1 the operation failed or (lint) found problems, 2 usage error. */
#ifndef PMX_CLI_H
#define PMX_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "promex/promex.h"

#define CLI_OK 0
#define CLI_FAIL 1
#define CLI_USAGE 2

int cli_gen_config(int argc, char **argv);
int cli_dashboard_export(int argc, char **argv);
int cli_dashboard_publish(int argc, char **argv);
int cli_dashboard_lint(int argc, char **argv);
int cli_alerts_export(int argc, char **argv);

extern const char CLI_HELP_MAIN[];
extern const char CLI_HELP_GEN_CONFIG[];
extern const char CLI_HELP_EXPORT[];
extern const char CLI_HELP_PUBLISH[];
extern const char CLI_HELP_LINT[];
extern const char CLI_HELP_ALERTS_EXPORT[];

/* Prints "promex <cmd>: <message>" and the hint to run --help; returns CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Reports the option getopt_long() rejected (argv[optind - 1] / optopt). Returns CLI_USAGE. */
int cli_bad_option(const char *cmd, char **argv, int opt_index, int optopt_value, bool missing_arg);

/* The current directory's name sanitized to [a-z0-9_]+ ("app" if nothing is left), as the default
 * application name (C has no mix.exs). Writes into out (cap bytes). */
void cli_default_app(char *out, size_t cap);

/* Loads `path` with the first-party plugins as the known plugins. Prints the error and returns
 * NULL on failure. */
pmx_config_file_t *cli_load_config(const char *path);

/* The plugins the CLI knows: the first-party ones, then the server statistics plugins this
 * build has (tools/promex/known_plugins.c). Static storage; *n set. */
const pmx_plugin_t *const *cli_known_plugins(size_t *n);

/* A configuration with every first-party plugin enabled and no options, for app `app`: the
 * default when no config file is given. The arrays live in static storage (one at a time). */
const pmx_config_t *cli_all_plugins_config(const char *app);

/* True if `path` exists. */
bool cli_file_exists(const char *path);

#endif
