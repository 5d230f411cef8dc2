/* `promex dashboard lint` (mix prom_ex.dashboard.lint, a no-op in PromEx): renders dashboards with
 * a configuration's assigns and checks them with pmx_dashboard_lint(), knowing the metrics that
 * configuration defines (pmx_describe_metrics). Prints one line per finding,
 *   file: panel N "title": [rule] message     (or "file: dashboard: [rule] ..." / "file:line:col")
 * and exits 1 when there was any. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "promex/dashboard.h"

const char CLI_HELP_LINT[] =
    "Usage: promex dashboard lint [-c CONFIG] [FILE...]\n"
    "\n"
    "Lints Grafana dashboards to ensure that they meet promex's requirements: valid JSON, a uid\n"
    "Grafana accepts (unique, at most 40 characters), a datasource on every panel, no\n"
    "deprecated (Angular) panel types, only defined template variables, and queries that use\n"
    "metrics the configured plugins define (histogram le values that exist, quantiles over\n"
    "_bucket series). Templates are rendered with the configuration's assigns first.\n"
    "\n"
    "Arguments:\n"
    "  FILE...             Dashboard templates or JSON files to lint. Default: every first-party\n"
    "                      dashboard.\n"
    "Options:\n"
    "  -c, --config FILE   The configuration whose plugins define the known metrics and whose\n"
    "                      assigns render the templates. Default: every first-party plugin with\n"
    "                      default options.\n"
    "  -h, --help          Show this help.\n"
    "\n"
    "Output: one line per finding, 'file: panel N \"title\": [rule] message'. Exit status 0 when\n"
    "clean, 1 on findings or errors, 2 on usage errors.\n";

typedef struct lint_ctx {
  size_t findings;
} lint_ctx_t;

static void on_finding(void *ctx, const pmx_dashboard_finding_t *f) {
  lint_ctx_t *l = ctx;
  l->findings++;
  /* The linter's message already names the file, the place (panel or line) and the rule. */
  printf("%s\n", f->message);
}

/* Renders and lints one dashboard; returns false on an error that is not a finding. */
static bool lint_one(pmx_dashboard_linter_t *linter, const pmx_config_t *cfg, const char *name,
                     lint_ctx_t *lc) {
  pmx_error_t err;
  memset(&err, 0, sizeof err);
  char *json = NULL;
  pmx_dashboard_use_t use = {name, NULL, 0};
  int r = pmx_dashboard_render_for(cfg, &use, name, &json, &err);
  bool ok = true;
  if (r == PMX_EPARSE) {
    /* A template that does not render is a finding about the file, not a tool failure. */
    lc->findings++;
    printf("%s: render: %s\n", name, err.text);
  } else if (r != PMX_OK) {
    fprintf(stderr, "promex dashboard lint: %s: %s\n", name, err.text[0] ? err.text : pmx_strerror(r));
    ok = false;
  } else {
    r = pmx_dashboard_lint(linter, json, strlen(json), name, on_finding, lc, &err);
    if (r < 0) {
      fprintf(stderr, "promex dashboard lint: %s: %s\n", name, err.text[0] ? err.text : pmx_strerror(r));
      ok = false;
    }
  }
  free(json);
  return ok;
}

int cli_dashboard_lint(int argc, char **argv) {
  static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
  const char *config = NULL;
  int c;
  optind = 0;
  opterr = 0;
  /* No '+': options may follow the file names. */
  while ((c = getopt_long(argc, argv, ":c:h", longopts, NULL)) != -1) {
    switch (c) {
      case 'c': config = optarg; break;
      case 'h': fputs(CLI_HELP_LINT, stdout); return CLI_OK;
      case ':': return cli_bad_option("dashboard lint", argv, optind, optopt, true);
      default: return cli_bad_option("dashboard lint", argv, optind, optopt, false);
    }
  }
  pmx_config_file_t *cf = NULL;
  const pmx_config_t *cfg;
  if (config) {
    cf = cli_load_config(config);
    if (!cf) return CLI_FAIL;
    cfg = pmx_config_file_config(cf);
  } else {
    char app[128];
    cli_default_app(app, sizeof app);
    cfg = cli_all_plugins_config(app);
  }
  pmx_dashboard_linter_t *linter = NULL;
  if (pmx_dashboard_linter_new(&linter) != PMX_OK) {
    fprintf(stderr, "promex dashboard lint: out of memory\n");
    pmx_config_file_free(cf);
    return CLI_FAIL;
  }
  pmx_error_t err;
  memset(&err, 0, sizeof err);
  int rc = pmx_describe_metrics(cfg, pmx_dashboard_linter_add_metric, linter, &err);
  if (rc != PMX_OK) {
    fprintf(stderr, "promex dashboard lint: cannot list the metrics of the configuration: %s\n",
            err.text[0] ? err.text : pmx_strerror(rc));
    pmx_dashboard_linter_free(linter);
    pmx_config_file_free(cf);
    return CLI_FAIL;
  }
  lint_ctx_t lc = {0};
  bool ok = true;
  size_t linted = 0;
  if (optind < argc) {
    for (int i = optind; i < argc; i++, linted++) ok = lint_one(linter, cfg, argv[i], &lc) && ok;
  } else {
    size_t n = 0;
    const char *const *b = pmx_dashboard_builtins(&n);
    for (size_t i = 0; i < n; i++, linted++) ok = lint_one(linter, cfg, b[i], &lc) && ok;
  }
  pmx_dashboard_linter_free(linter);
  pmx_config_file_free(cf);
  fflush(stdout); /* findings (stdout) before the summary (stderr), whole lines */
  fprintf(stderr, "%zu dashboard%s linted, %zu finding%s\n", linted, linted == 1 ? "" : "s",
          lc.findings, lc.findings == 1 ? "" : "s");
  return (ok && lc.findings == 0) ? CLI_OK : CLI_FAIL;
}
