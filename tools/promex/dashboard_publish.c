/* `promex dashboard publish` (mix prom_ex.dashboard.publish): uploads every dashboard of a
 * configuration to its Grafana now, synchronously, and reports each one. The same upload that
 * the library does in the background on start (pmx_grafana_publish). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "promex/grafana.h"
#include "promex/promex.h"

const char CLI_HELP_PUBLISH[] =
    "Usage: promex dashboard publish [-c CONFIG] [-t MS]\n"
    "\n"
    "Publishes the dashboards of a configuration to Grafana: the folder named by folder_name is\n"
    "created or renamed (its uid is derived from the app name), then every dashboard is rendered\n"
    "and uploaded with overwrite. It is recommended to let promex upload the dashboards when\n"
    "your program starts (upload_dashboards_on_start); this command is a convenience for testing\n"
    "and validating dashboards without starting the program.\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE   The configuration with the [grafana] settings, plugins and\n"
    "                      [dashboards] (PromEx's --module). Default: promex.ini.\n"
    "  -t, --timeout MS    How long each request to Grafana may take, in milliseconds\n"
    "                      (default: 10000).\n"
    "  -h, --help          Show this help.\n"
    "\n"
    "The [grafana] section needs a host; it does not need enabled = true. Exit status 0 when\n"
    "every dashboard was uploaded, 1 otherwise.\n";

typedef struct report {
  const char *host;
  size_t ok, failed;
} report_t;

static void on_result(void *ctx, const char *dashboard, int status, const char *url,
                      const char *message) {
  report_t *r = ctx;
  if (status == PMX_OK) {
    r->ok++;
    printf("published %s%s%s%s\n", dashboard, url ? " -> " : "", url ? r->host : "", url ? url : "");
  } else {
    r->failed++;
    printf("FAILED    %s: %s\n", dashboard, message ? message : pmx_strerror(status));
  }
  fflush(stdout);
}

int cli_dashboard_publish(int argc, char **argv) {
  static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
                                           {"timeout", required_argument, NULL, 't'},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
  const char *config = "promex.ini";
  unsigned long timeout = 10000;
  int c;
  optind = 0;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "+:c:t:h", longopts, NULL)) != -1) {
    switch (c) {
      case 'c': config = optarg; break;
      case 't': {
        char *end = NULL;
        timeout = strtoul(optarg, &end, 10);
        if (!*optarg || *end || optarg[0] == '-' || timeout == 0 || timeout > 3600000)
          return cli_usage_error("dashboard publish",
                                 "timeout '%s' must be a number of milliseconds from 1 to 3600000",
                                 optarg);
        break;
      }
      case 'h': fputs(CLI_HELP_PUBLISH, stdout); return CLI_OK;
      case ':': return cli_bad_option("dashboard publish", argv, optind, optopt, true);
      default: return cli_bad_option("dashboard publish", argv, optind, optopt, false);
    }
  }
  if (optind < argc)
    return cli_usage_error("dashboard publish", "unexpected argument '%s'", argv[optind]);
  if (!cli_file_exists(config)) {
    fprintf(stderr, "promex dashboard publish: config %s not found; create one with 'promex gen "
                    "config' or pass -c FILE.\n", config);
    return CLI_FAIL;
  }
  pmx_config_file_t *cf = cli_load_config(config);
  if (!cf) return CLI_FAIL;
  const pmx_config_t *cfg = pmx_config_file_config(cf);
  if (!cfg->grafana.host || !*cfg->grafana.host) {
    fprintf(stderr, "promex dashboard publish: %s has no Grafana host; add a [grafana] section "
                    "with host = http://your-grafana:3000 and credentials.\n", config);
    pmx_config_file_free(cf);
    return CLI_FAIL;
  }
  report_t r = {cfg->grafana.host, 0, 0};
  pmx_error_t err;
  memset(&err, 0, sizeof err);
  int rc = pmx_grafana_publish(cfg, pmx_first_party_plugins(NULL), (unsigned)timeout, on_result,
                               &r, &err);
  if (rc != PMX_OK && r.ok + r.failed == 0)
    fprintf(stderr, "promex dashboard publish: %s\n", err.text[0] ? err.text : pmx_strerror(rc));
  else
    printf("%zu published, %zu failed\n", r.ok, r.failed);
  pmx_config_file_free(cf);
  return rc == PMX_OK ? CLI_OK : CLI_FAIL;
}
