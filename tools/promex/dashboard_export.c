/* `promex dashboard export` (mix prom_ex.dashboard.export): renders one dashboard with the
 * assigns of a configuration (its app, plugins' metric prefixes and dashboard_assigns) plus
 * -a key=value overrides, and writes the JSON to stdout or a file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "export_args.h"
#include "promex/dashboard.h"

const char CLI_HELP_EXPORT[] =
    "Usage: promex dashboard export -d DASHBOARD (-s | -f PATH) [-c CONFIG] [-a KEY=VALUE]...\n"
    "\n"
    "Renders a promex dashboard either to stdout or to a file, with the assigns of your\n"
    "configuration (app name, plugins' metric prefixes, [dashboard_assigns]) and any extra\n"
    "assigns given on the command line.\n"
    "\n"
    "Options:\n"
    "  -d, --dashboard NAME  Required. The dashboard to export: a first-party name such as\n"
    "                        process.json (or process), or the path of your own template.\n"
    "  -c, --config FILE     The configuration whose assigns are used (PromEx's --module).\n"
    "                        Default: promex.ini when it exists; otherwise every first-party\n"
    "                        plugin with default prefixes and the app named after the current\n"
    "                        directory.\n"
    "  -s, --stdout          Write the rendered dashboard to stdout.\n"
    "  -f, --file PATH       Write the rendered dashboard to PATH (PromEx's --file_path).\n"
    "  -a, --assign K=V      An additional assign for rendering; repeat for several\n"
    "                        (e.g. --assign title=Shop --assign datasource_id=prom).\n"
    "  -h, --help            Show this help.\n"
    "\n"
    "Exactly one of -s and -f is required. First-party dashboards: ";

static void print_builtins(FILE *f) {
  size_t n = 0;
  const char *const *b = pmx_dashboard_builtins(&n);
  for (size_t i = 0; i < n; i++) fprintf(f, "%s%s", i ? ", " : "", b[i]);
  fputc('\n', f);
}

static void print_help(void) {
  fputs(CLI_HELP_EXPORT, stdout);
  print_builtins(stdout);
}

int cli_dashboard_export(int argc, char **argv) {
  cli_export_args_t a;
  int rc = cli_export_parse(&a, "dashboard export", "dashboard", argc, argv, print_help);
  if (rc != CLI_OK) {
    cli_export_args_free(&a);
    return rc == CLI_HELP_SHOWN ? CLI_OK : rc;
  }
  pmx_config_file_t *cf = NULL;
  const pmx_config_t *cfg = cli_export_config(&a, &cf);
  if (cfg == NULL) {
    cli_export_args_free(&a);
    return CLI_FAIL;
  }
  /* Per-dashboard assigns from the config's [dashboards] entry of the same name, then -a. */
  pmx_kv_t merged[2 * CLI_MAX_ASSIGNS];
  pmx_dashboard_use_t use = {a.name, merged, cli_export_assigns(&a, cfg, a.name, NULL, merged)};
  pmx_error_t err;
  memset(&err, 0, sizeof err);
  char *json = NULL;
  int r = pmx_dashboard_render_for(cfg, &use, a.name, &json, &err);
  if (r != PMX_OK) {
    fprintf(stderr, "promex dashboard export: %s\n", err.text[0] ? err.text : pmx_strerror(r));
    if (r == PMX_ENOENT) {
      fputs("First-party dashboards: ", stderr);
      print_builtins(stderr);
    }
    rc = CLI_FAIL;
  } else {
    rc = cli_export_write(&a, json);
  }
  free(json);
  pmx_config_file_free(cf);
  cli_export_args_free(&a);
  return rc;
}
