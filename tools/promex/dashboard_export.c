/* `promex dashboard export` (mix prom_ex.dashboard.export): renders one dashboard with the
 * assigns of a configuration (its app, plugins' metric prefixes and dashboard_assigns) plus
 * -a key=value overrides, and writes the JSON to stdout or a file. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
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

#define MAX_ASSIGNS 128

static void print_builtins(FILE *f) {
  size_t n = 0;
  const char *const *b = pmx_dashboard_builtins(&n);
  for (size_t i = 0; i < n; i++) fprintf(f, "%s%s", i ? ", " : "", b[i]);
  fputc('\n', f);
}

int cli_dashboard_export(int argc, char **argv) {
  static const struct option longopts[] = {
      {"dashboard", required_argument, NULL, 'd'}, {"config", required_argument, NULL, 'c'},
      {"stdout", no_argument, NULL, 's'},          {"file", required_argument, NULL, 'f'},
      {"file_path", required_argument, NULL, 'f'}, {"assign", required_argument, NULL, 'a'},
      {"help", no_argument, NULL, 'h'},            {NULL, 0, NULL, 0}};
  const char *dash = NULL, *config = NULL, *file = NULL;
  bool to_stdout = false;
  pmx_kv_t extra[MAX_ASSIGNS];
  char *extra_keys[MAX_ASSIGNS];
  size_t n_extra = 0;
  int c, rc = CLI_OK;
  optind = 0;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "+:d:c:sf:a:h", longopts, NULL)) != -1) {
    switch (c) {
      case 'd': dash = optarg; break;
      case 'c': config = optarg; break;
      case 's': to_stdout = true; break;
      case 'f': file = optarg; break;
      case 'a': {
        const char *eq = strchr(optarg, '=');
        if (!eq || eq == optarg) {
          rc = cli_usage_error("dashboard export",
                               "assign '%s' must be KEY=VALUE (e.g. -a datasource_id=prometheus)",
                               optarg);
          goto out;
        }
        if (n_extra == MAX_ASSIGNS) {
          rc = cli_usage_error("dashboard export", "at most %d assigns", MAX_ASSIGNS);
          goto out;
        }
        extra_keys[n_extra] = strndup(optarg, (size_t)(eq - optarg));
        if (extra_keys[n_extra] == NULL) {
          fprintf(stderr, "promex dashboard export: out of memory\n");
          rc = 1;
          goto out;
        }
        extra[n_extra] = (pmx_kv_t){extra_keys[n_extra], eq + 1};
        n_extra++;
        break;
      }
      case 'h':
        fputs(CLI_HELP_EXPORT, stdout);
        print_builtins(stdout);
        goto out;
      case ':': rc = cli_bad_option("dashboard export", argv, optind, optopt, true); goto out;
      default: rc = cli_bad_option("dashboard export", argv, optind, optopt, false); goto out;
    }
  }
  if (optind < argc) {
    rc = cli_usage_error("dashboard export", "unexpected argument '%s'", argv[optind]);
    goto out;
  }
  if (!dash) {
    rc = cli_usage_error("dashboard export", "missing -d/--dashboard (e.g. -d process.json)");
    goto out;
  }
  if (to_stdout == (file != NULL)) {
    rc = cli_usage_error("dashboard export", "give exactly one of -s/--stdout and -f/--file PATH");
    goto out;
  }
  pmx_config_file_t *cf = NULL;
  const pmx_config_t *cfg;
  if (!config && cli_file_exists("promex.ini")) config = "promex.ini";
  if (config) {
    cf = cli_load_config(config);
    if (!cf) {
      rc = CLI_FAIL;
      goto out;
    }
    cfg = pmx_config_file_config(cf);
  } else {
    char app[128];
    cli_default_app(app, sizeof app);
    cfg = cli_all_plugins_config(app);
  }
  /* Per-dashboard assigns from the config's [dashboards] entry of the same name, then -a. */
  pmx_kv_t merged[2 * MAX_ASSIGNS];
  size_t n_merged = 0;
  for (size_t i = 0; i < cfg->n_dashboards; i++) {
    const pmx_dashboard_use_t *d = &cfg->dashboards[i];
    if (!d->name_or_path || strcmp(d->name_or_path, dash) != 0) continue;
    for (size_t j = 0; j < d->n_assigns && n_merged < MAX_ASSIGNS; j++) merged[n_merged++] = d->assigns[j];
  }
  for (size_t i = 0; i < n_extra; i++) merged[n_merged++] = extra[i];
  pmx_dashboard_use_t use = {dash, merged, n_merged};
  pmx_error_t err;
  memset(&err, 0, sizeof err);
  char *json = NULL;
  int r = pmx_dashboard_render_for(cfg, &use, dash, &json, &err);
  if (r != PMX_OK) {
    fprintf(stderr, "promex dashboard export: %s\n", err.text[0] ? err.text : pmx_strerror(r));
    if (r == PMX_ENOENT) {
      fputs("First-party dashboards: ", stderr);
      print_builtins(stderr);
    }
    rc = CLI_FAIL;
  } else if (to_stdout) {
    fputs(json, stdout);
    fputc('\n', stdout);
  } else {
    FILE *f = fopen(file, "w");
    if (!f || fputs(json, f) < 0 || fputc('\n', f) == EOF) {
      fprintf(stderr, "promex dashboard export: cannot write %s: %s\n", file, strerror(errno));
      rc = CLI_FAIL;
    }
    if (f && fclose(f) != 0) rc = CLI_FAIL;
    if (rc == CLI_OK) fprintf(stderr, "wrote %s\n", file);
  }
  free(json);
  pmx_config_file_free(cf);
out:
  for (size_t i = 0; i < n_extra; i++) free(extra_keys[i]);
  return rc;
}
