/* `promex alerts export`: renders one plugin's Prometheus alerting rules (alerts/<plugin>.rules.yml,
 * compiled into the CLI) with the same assigns and flags as `promex dashboard export`, and writes
 * them to stdout or a file for Prometheus' rule_files.
 *
 * The templates are written in YAML's JSON-compatible flow style, so the dashboard renderer, which
 * escapes every value inside a string and checks that its output is valid JSON, renders them
 * unchanged: an assign can never add a rule or break the file, and the result is valid YAML. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts_builtin.h"
#include "cli.h"
#include "export_args.h"
#include "promex/dashboard.h"

const char CLI_HELP_ALERTS_EXPORT[] =
    "Usage: promex alerts export -d RULES (-s | -f PATH) [-c CONFIG] [-a KEY=VALUE]...\n"
    "\n"
    "Renders a plugin's Prometheus alerting rules either to stdout or to a file, with the same\n"
    "assigns as its dashboard: your configuration's app name, plugins' metric prefixes and\n"
    "[dashboard_assigns], and any extra assigns given on the command line. Add the file to\n"
    "rule_files in prometheus.yml; `promtool check rules FILE` checks it.\n"
    "\n"
    "Options:\n"
    "  -d, --rules NAME      Required. The rules to export: a first-party name such as\n"
    "                        process.rules.yml (or process), or the path of your own template.\n"
    "                        (--dashboard is accepted too, as in dashboard export.)\n"
    "  -c, --config FILE     The configuration whose assigns are used. Default: promex.ini when\n"
    "                        it exists; otherwise every first-party plugin with default prefixes\n"
    "                        and the app named after the current directory.\n"
    "  -s, --stdout          Write the rendered rules to stdout.\n"
    "  -f, --file PATH       Write the rendered rules to PATH.\n"
    "  -a, --assign K=V      An additional assign for rendering; repeat for several\n"
    "                        (e.g. --assign process_metric_prefix=shop_process).\n"
    "  -h, --help            Show this help.\n"
    "\n"
    "Exactly one of -s and -f is required. First-party rules: ";

#define CMD "alerts export"

static void print_builtins(FILE *f) {
  for (size_t i = 0; i < cli_n_builtin_alerts; i++)
    fprintf(f, "%s%s", i ? ", " : "", cli_builtin_alerts[i].name);
  fputc('\n', f);
}

/* The plugin a rules name stands for: "process.rules.yml", "process" and "dir/process.rules.yml"
 * all give "process" (used to find the plugin's [dashboards] assigns and in messages). */
static void plugin_of(const char *name, char *out, size_t cap) {
  const char *base = strrchr(name, '/');
  base = base ? base + 1 : name;
  size_t n = strlen(base);
  static const char suffix[] = ".rules.yml";
  if (n > sizeof suffix - 1 && strcmp(base + n - (sizeof suffix - 1), suffix) == 0)
    n -= sizeof suffix - 1;
  snprintf(out, cap, "%.*s", (int)n, base);
}

/* The template text of `name`: a compiled-in first-party file ("process" or "process.rules.yml"),
 * else a file path, read with the dashboard loader's size limit (PMX_DASHBOARD_MAX_BYTES). *owned
 * is set when the text was read from a file and must be freed. NULL with `err` filled on failure. */
static const char *load_rules(const char *name, size_t *len, char **owned, pmx_error_t *err) {
  *owned = NULL;
  for (size_t i = 0; i < cli_n_builtin_alerts; i++) {
    char plugin[128];
    plugin_of(cli_builtin_alerts[i].name, plugin, sizeof plugin);
    if (strcmp(name, cli_builtin_alerts[i].name) == 0 || strcmp(name, plugin) == 0) {
      *len = cli_builtin_alerts[i].len;
      return cli_builtin_alerts[i].text;
    }
  }
  if (pmx_dashboard_load(name, owned, len, err) != PMX_OK) return NULL;
  return *owned;
}

/* Renders `text` with the assigns of `cfg` for `plugin` plus -a, and writes it. */
static int render_and_write(const cli_export_args_t *a, const pmx_config_t *cfg, const char *plugin,
                            const char *text, size_t len) {
  /* The plugin's [dashboards] entry (process.json or process) lends its assigns, then -a. */
  char dash_json[160];
  snprintf(dash_json, sizeof dash_json, "%s.json", plugin);
  pmx_kv_t merged[2 * CLI_MAX_ASSIGNS];
  pmx_dashboard_use_t use = {dash_json, merged, cli_export_assigns(a, cfg, dash_json, plugin, merged)};
  pmx_error_t err;
  memset(&err, 0, sizeof err);
  pmx_kv_t *assigns = NULL;
  size_t n_assigns = 0;
  char *out = NULL;
  int r = pmx_dashboard_assigns(cfg, &use, &assigns, &n_assigns, &err);
  if (r == PMX_OK) r = pmx_dashboard_render(text, len, a->name, assigns, n_assigns, &out, &err);
  pmx_dashboard_assigns_free(assigns, n_assigns);
  if (r != PMX_OK) {
    fprintf(stderr, "promex " CMD ": %s\n", err.text[0] ? err.text : pmx_strerror(r));
    return CLI_FAIL;
  }
  int rc = cli_export_write(a, out);
  free(out);
  return rc;
}

static void print_help(void) {
  fputs(CLI_HELP_ALERTS_EXPORT, stdout);
  print_builtins(stdout);
}

int cli_alerts_export(int argc, char **argv) {
  cli_export_args_t a;
  int rc = cli_export_parse(&a, CMD, "rules", argc, argv, print_help);
  if (rc != CLI_OK) {
    cli_export_args_free(&a);
    return rc == CLI_HELP_SHOWN ? CLI_OK : rc;
  }
  size_t len = 0;
  char *owned = NULL;
  pmx_error_t err;
  memset(&err, 0, sizeof err);
  const char *text = load_rules(a.name, &len, &owned, &err);
  if (text == NULL) {
    if (err.code == PMX_ENOENT) {
      fprintf(stderr, "promex " CMD ": no first-party rules named '%s', and no such file\n", a.name);
    } else {
      fprintf(stderr, "promex " CMD ": cannot read rules file '%s': %s\n", a.name, err.text);
    }
    fputs("First-party rules: ", stderr);
    print_builtins(stderr);
    cli_export_args_free(&a);
    return CLI_FAIL;
  }
  pmx_config_file_t *cf = NULL;
  const pmx_config_t *cfg = cli_export_config(&a, &cf);
  if (cfg == NULL) {
    rc = CLI_FAIL;
  } else {
    char plugin[128];
    plugin_of(a.name, plugin, sizeof plugin);
    rc = render_and_write(&a, cfg, plugin, text, len);
  }
  pmx_config_file_free(cf);
  free(owned);
  cli_export_args_free(&a);
  return rc;
}
