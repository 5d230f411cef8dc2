/* `promex alerts export`: renders one plugin's Prometheus alerting rules (alerts/<plugin>.rules.yml,
 * compiled into the CLI) with the same assigns and flags as `promex dashboard export`, and writes
 * them to stdout or a file for Prometheus' rule_files.
 *
 * The templates are written in YAML's JSON-compatible flow style, so the dashboard renderer, which
 * escapes every value inside a string and checks that its output is valid JSON, renders them
 * unchanged: an assign can never add a rule or break the file, and the result is valid YAML. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts_builtin.h"
#include "cli.h"
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
#define MAX_ASSIGNS 128

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
 * else a file path. *owned is set when the text was read from a file and must be freed. */
static const char *load_rules(const char *name, size_t *len, char **owned) {
  *owned = NULL;
  for (size_t i = 0; i < cli_n_builtin_alerts; i++) {
    char plugin[128];
    plugin_of(cli_builtin_alerts[i].name, plugin, sizeof plugin);
    if (strcmp(name, cli_builtin_alerts[i].name) == 0 || strcmp(name, plugin) == 0) {
      *len = cli_builtin_alerts[i].len;
      return cli_builtin_alerts[i].text;
    }
  }
  FILE *f = fopen(name, "rb");
  if (f == NULL) return NULL;
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap);
  while (buf != NULL) {
    if (cap - n < 2) {
      char *b = cap > (64u << 20) ? NULL : realloc(buf, cap * 2); /* rules files are small */
      if (b == NULL) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = b;
      cap *= 2;
    }
    size_t got = fread(buf + n, 1, cap - n - 1, f);
    n += got;
    if (got == 0) break;
  }
  bool failed = ferror(f) != 0;
  fclose(f);
  if (buf == NULL || failed) {
    free(buf);
    errno = buf == NULL ? ENOMEM : EIO;
    return NULL;
  }
  buf[n] = '\0';
  *len = n;
  *owned = buf;
  return buf;
}

static int write_out(const char *text, bool to_stdout, const char *file) {
  if (to_stdout) {
    fputs(text, stdout);
    return fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
  }
  FILE *f = fopen(file, "w");
  int rc = CLI_OK;
  if (!f || fputs(text, f) < 0) rc = CLI_FAIL;
  if (f && fclose(f) != 0) rc = CLI_FAIL;
  if (rc != CLI_OK)
    fprintf(stderr, "promex " CMD ": cannot write %s: %s\n", file, strerror(errno));
  else
    fprintf(stderr, "wrote %s\n", file);
  return rc;
}

/* Renders `text` with the assigns of `cfg` for `plugin` plus `extra`, and writes it. */
static int render_and_write(const pmx_config_t *cfg, const char *name, const char *plugin,
                            const char *text, size_t len, const pmx_kv_t *extra, size_t n_extra,
                            bool to_stdout, const char *file) {
  /* The plugin's [dashboards] entry (process.json or process) lends its assigns, then -a. */
  char dash_json[160];
  snprintf(dash_json, sizeof dash_json, "%s.json", plugin);
  pmx_kv_t merged[2 * MAX_ASSIGNS];
  size_t n_merged = 0;
  for (size_t i = 0; i < cfg->n_dashboards; i++) {
    const pmx_dashboard_use_t *d = &cfg->dashboards[i];
    if (!d->name_or_path ||
        (strcmp(d->name_or_path, dash_json) != 0 && strcmp(d->name_or_path, plugin) != 0))
      continue;
    for (size_t j = 0; j < d->n_assigns && n_merged < MAX_ASSIGNS; j++)
      merged[n_merged++] = d->assigns[j];
  }
  for (size_t i = 0; i < n_extra; i++) merged[n_merged++] = extra[i];
  pmx_dashboard_use_t use = {dash_json, merged, n_merged};
  pmx_error_t err;
  memset(&err, 0, sizeof err);
  pmx_kv_t *assigns = NULL;
  size_t n_assigns = 0;
  char *out = NULL;
  int r = pmx_dashboard_assigns(cfg, &use, &assigns, &n_assigns, &err);
  if (r == PMX_OK) r = pmx_dashboard_render(text, len, name, assigns, n_assigns, &out, &err);
  pmx_dashboard_assigns_free(assigns, n_assigns);
  if (r != PMX_OK) {
    fprintf(stderr, "promex " CMD ": %s\n", err.text[0] ? err.text : pmx_strerror(r));
    return CLI_FAIL;
  }
  int rc = write_out(out, to_stdout, file);
  free(out);
  return rc;
}

int cli_alerts_export(int argc, char **argv) {
  static const struct option longopts[] = {
      {"rules", required_argument, NULL, 'd'},     {"dashboard", required_argument, NULL, 'd'},
      {"config", required_argument, NULL, 'c'},    {"stdout", no_argument, NULL, 's'},
      {"file", required_argument, NULL, 'f'},      {"file_path", required_argument, NULL, 'f'},
      {"assign", required_argument, NULL, 'a'},    {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *rules = NULL, *config = NULL, *file = NULL;
  bool to_stdout = false;
  pmx_kv_t extra[MAX_ASSIGNS];
  char *extra_keys[MAX_ASSIGNS];
  size_t n_extra = 0;
  int c, rc = CLI_OK;
  optind = 0;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "+:d:c:sf:a:h", longopts, NULL)) != -1) {
    switch (c) {
      case 'd': rules = optarg; break;
      case 'c': config = optarg; break;
      case 's': to_stdout = true; break;
      case 'f': file = optarg; break;
      case 'a': {
        const char *eq = strchr(optarg, '=');
        if (!eq || eq == optarg) {
          rc = cli_usage_error(CMD, "assign '%s' must be KEY=VALUE (e.g. -a app=shop)", optarg);
          goto out;
        }
        if (n_extra == MAX_ASSIGNS) {
          rc = cli_usage_error(CMD, "at most %d assigns", MAX_ASSIGNS);
          goto out;
        }
        extra_keys[n_extra] = strndup(optarg, (size_t)(eq - optarg));
        if (extra_keys[n_extra] == NULL) {
          fprintf(stderr, "promex " CMD ": out of memory\n");
          rc = CLI_FAIL;
          goto out;
        }
        extra[n_extra] = (pmx_kv_t){extra_keys[n_extra], eq + 1};
        n_extra++;
        break;
      }
      case 'h':
        fputs(CLI_HELP_ALERTS_EXPORT, stdout);
        print_builtins(stdout);
        goto out;
      case ':': rc = cli_bad_option(CMD, argv, optind, optopt, true); goto out;
      default: rc = cli_bad_option(CMD, argv, optind, optopt, false); goto out;
    }
  }
  if (optind < argc) {
    rc = cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
    goto out;
  }
  if (!rules) {
    rc = cli_usage_error(CMD, "missing -d/--rules (e.g. -d process.rules.yml)");
    goto out;
  }
  if (to_stdout == (file != NULL)) {
    rc = cli_usage_error(CMD, "give exactly one of -s/--stdout and -f/--file PATH");
    goto out;
  }
  size_t len = 0;
  char *owned = NULL;
  const char *text = load_rules(rules, &len, &owned);
  if (text == NULL) {
    fprintf(stderr, "promex " CMD ": no first-party rules named '%s' and cannot read it as a file: "
                    "%s\nFirst-party rules: ",
            rules, strerror(errno));
    print_builtins(stderr);
    rc = CLI_FAIL;
    goto out;
  }
  pmx_config_file_t *cf = NULL;
  const pmx_config_t *cfg;
  if (!config && cli_file_exists("promex.ini")) config = "promex.ini";
  if (config) {
    cf = cli_load_config(config);
    cfg = cf ? pmx_config_file_config(cf) : NULL;
  } else {
    char app[128];
    cli_default_app(app, sizeof app);
    cfg = cli_all_plugins_config(app);
  }
  if (cfg == NULL) {
    rc = CLI_FAIL;
  } else {
    char plugin[128];
    plugin_of(rules, plugin, sizeof plugin);
    rc = render_and_write(cfg, rules, plugin, text, len, extra, n_extra, to_stdout, file);
  }
  pmx_config_file_free(cf);
  free(owned);
out:
  for (size_t i = 0; i < n_extra; i++) free(extra_keys[i]);
  return rc;
}
