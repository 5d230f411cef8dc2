/* promex: the command-line tool (the counterpart of PromEx's mix tasks prom_ex.gen.config,
 * prom_ex.dashboard.export, prom_ex.dashboard.publish and prom_ex.dashboard.lint). This file
 * dispatches "promex <group> <command>" to the subcommands and holds the shared helpers. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

const char CLI_HELP_MAIN[] =
    "Usage: promex <command> [options]\n"
    "\n"
    "Commands:\n"
    "  gen config          Write a starter promex.ini and a C file wiring the default plugins\n"
    "  dashboard export    Render a dashboard to stdout or a file\n"
    "  dashboard publish   Upload the configured dashboards to Grafana now\n"
    "  dashboard lint      Check dashboards for broken queries and Grafana pitfalls\n"
    "  alerts export       Render a plugin's Prometheus alerting rules to stdout or a file\n"
    "  help <command>      Show the help of a command (e.g. promex help dashboard export)\n"
    "\n"
    "Options:\n"
    "  -h, --help          Show this help\n"
    "  -V, --version       Show the promex version\n"
    "\n"
    "Run 'promex <command> --help' for the options of a command. Exit status: 0 success,\n"
    "1 failure (or lint findings), 2 usage error.\n";

int cli_usage_error(const char *cmd, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "promex %s: ", cmd);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\nRun 'promex %s --help' for usage.\n", cmd);
  return CLI_USAGE;
}

int cli_bad_option(const char *cmd, char **argv, int opt_index, int optopt_value, bool missing_arg) {
  const char *arg = opt_index > 0 ? argv[opt_index - 1] : "?";
  if (missing_arg) return cli_usage_error(cmd, "option '%s' needs a value", arg);
  if (optopt_value && !(arg[0] == '-' && arg[1] == '-'))
    return cli_usage_error(cmd, "unknown option '-%c'", optopt_value);
  return cli_usage_error(cmd, "unknown option '%s'", arg);
}

void cli_default_app(char *out, size_t cap) {
  char cwd[4096];
  const char *base = "app";
  if (getcwd(cwd, sizeof cwd)) {
    const char *s = strrchr(cwd, '/');
    base = s && s[1] ? s + 1 : cwd;
  }
  size_t n = 0;
  bool last_us = true; /* no leading '_' */
  for (const char *p = base; *p && n + 1 < cap; p++) {
    unsigned char c = (unsigned char)*p;
    if (isalnum(c)) {
      out[n++] = (char)tolower(c);
      last_us = false;
    } else if (!last_us) {
      out[n++] = '_';
      last_us = true;
    }
  }
  while (n > 0 && out[n - 1] == '_') n--;
  out[n] = '\0';
  if (n == 0) snprintf(out, cap, "app");
}

pmx_config_file_t *cli_load_config(const char *path) {
  size_t n = 0;
  const pmx_plugin_t *const *known = cli_known_plugins(&n);
  pmx_config_file_t *cf = NULL;
  pmx_error_t err;
  memset(&err, 0, sizeof err);
  int rc = pmx_config_load(path, known, n, &cf, &err);
  if (rc != PMX_OK) {
    fprintf(stderr, "promex: cannot load config %s: %s\n", path,
            err.text[0] ? err.text : pmx_strerror(rc));
    return NULL;
  }
  return cf;
}

const pmx_config_t *cli_all_plugins_config(const char *app) {
  static pmx_config_t cfg;
  static pmx_plugin_use_t uses[64];
  static char app_copy[128];
  size_t n = 0;
  const pmx_plugin_t *const *all = cli_known_plugins(&n);
  if (n > 64) n = 64;
  for (size_t i = 0; i < n; i++) uses[i] = (pmx_plugin_use_t){all[i], NULL, 0, NULL};
  snprintf(app_copy, sizeof app_copy, "%s", app);
  pmx_config_defaults(&cfg);
  cfg.app = app_copy;
  cfg.plugins = uses;
  cfg.n_plugins = n;
  return &cfg;
}

bool cli_file_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

/* "promex help <cmd...>" and "promex <group> --help" resolution. */
static const char *help_for(int argc, char **argv) {
  if (argc < 1) return CLI_HELP_MAIN;
  if (strcmp(argv[0], "gen") == 0) {
    if (argc < 2 || strcmp(argv[1], "config") == 0) return CLI_HELP_GEN_CONFIG;
    return NULL;
  }
  if (strcmp(argv[0], "dashboard") == 0) {
    if (argc < 2) return CLI_HELP_MAIN;
    if (strcmp(argv[1], "export") == 0) return CLI_HELP_EXPORT;
    if (strcmp(argv[1], "publish") == 0) return CLI_HELP_PUBLISH;
    if (strcmp(argv[1], "lint") == 0) return CLI_HELP_LINT;
  }
  if (strcmp(argv[0], "alerts") == 0) {
    if (argc < 2 || strcmp(argv[1], "export") == 0) return CLI_HELP_ALERTS_EXPORT;
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fputs(CLI_HELP_MAIN, stderr);
    return CLI_USAGE;
  }
  const char *a = argv[1];
  if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
    fputs(CLI_HELP_MAIN, stdout);
    return CLI_OK;
  }
  if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
    printf("promex %s\n", pmx_version_string());
    return CLI_OK;
  }
  if (strcmp(a, "help") == 0) {
    const char *h = help_for(argc - 2, argv + 2);
    if (!h) {
      fprintf(stderr, "promex help: no command '%s'. Run 'promex --help' for the commands.\n",
              argc > 2 ? argv[2] : "");
      return CLI_USAGE;
    }
    fputs(h, stdout);
    return CLI_OK;
  }
  if (strcmp(a, "gen") == 0) {
    if (argc < 3 || argv[2][0] == '-') {
      if (argc >= 3 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
        fputs(CLI_HELP_GEN_CONFIG, stdout);
        return CLI_OK;
      }
      fprintf(stderr, "promex gen: missing what to generate; the only generator is 'config'.\n"
                      "Run 'promex gen config --help'.\n");
      return CLI_USAGE;
    }
    if (strcmp(argv[2], "config") == 0) return cli_gen_config(argc - 2, argv + 2);
    fprintf(stderr, "promex gen: unknown generator '%s'; the only generator is 'config'.\n"
                    "Run 'promex gen config --help'.\n", argv[2]);
    return CLI_USAGE;
  }
  if (strcmp(a, "dashboard") == 0) {
    if (argc < 3 || argv[2][0] == '-') {
      if (argc >= 3 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
        fputs(CLI_HELP_MAIN, stdout);
        return CLI_OK;
      }
      fprintf(stderr, "promex dashboard: missing command; use export, publish or lint.\n"
                      "Run 'promex --help' for the commands.\n");
      return CLI_USAGE;
    }
    const char *c = argv[2];
    if (strcmp(c, "export") == 0) return cli_dashboard_export(argc - 2, argv + 2);
    if (strcmp(c, "publish") == 0) return cli_dashboard_publish(argc - 2, argv + 2);
    if (strcmp(c, "lint") == 0) return cli_dashboard_lint(argc - 2, argv + 2);
    fprintf(stderr, "promex dashboard: unknown command '%s'; use export, publish or lint.\n"
                    "Run 'promex --help' for the commands.\n", c);
    return CLI_USAGE;
  }
  if (strcmp(a, "alerts") == 0) {
    if (argc >= 3 && strcmp(argv[2], "export") == 0) return cli_alerts_export(argc - 2, argv + 2);
    if (argc >= 3 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
      fputs(CLI_HELP_ALERTS_EXPORT, stdout);
      return CLI_OK;
    }
    fprintf(stderr, "promex alerts: %s%s; the only command is 'export'.\n"
                    "Run 'promex alerts export --help'.\n",
            argc < 3 ? "missing command" : "unknown command ", argc < 3 ? "" : argv[2]);
    return CLI_USAGE;
  }
  fprintf(stderr, "promex: unknown command '%s'. Run 'promex --help' for the commands.\n", a);
  return CLI_USAGE;
}
