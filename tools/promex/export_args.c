/* Flags, configuration, assigns and output shared by the export commands (export_args.h). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "export_args.h"

static int add_assign(cli_export_args_t *a, const char *kv) {
  const char *eq = strchr(kv, '=');
  if (!eq || eq == kv) return cli_usage_error(a->cmd, "assign '%s' must be KEY=VALUE (e.g. -a app=shop)", kv);
  if (a->n_extra == CLI_MAX_ASSIGNS) return cli_usage_error(a->cmd, "at most %d assigns", CLI_MAX_ASSIGNS);
  char *key = strndup(kv, (size_t)(eq - kv));
  if (key == NULL) {
    fprintf(stderr, "promex %s: out of memory\n", a->cmd);
    return CLI_FAIL;
  }
  a->extra_keys[a->n_extra] = key;
  a->extra[a->n_extra++] = (pmx_kv_t){key, eq + 1};
  return CLI_OK;
}

int cli_export_parse(cli_export_args_t *a, const char *cmd, const char *name_opt, int argc,
                     char **argv, void (*help)(void)) {
  memset(a, 0, sizeof *a);
  a->cmd = cmd;
  static const struct option longopts[] = {
      {"dashboard", required_argument, NULL, 'd'}, {"rules", required_argument, NULL, 'd'},
      {"config", required_argument, NULL, 'c'},    {"stdout", no_argument, NULL, 's'},
      {"file", required_argument, NULL, 'f'},      {"file_path", required_argument, NULL, 'f'},
      {"assign", required_argument, NULL, 'a'},    {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  int c, rc = CLI_OK;
  optind = 0;
  opterr = 0;
  while (rc == CLI_OK && (c = getopt_long(argc, argv, "+:d:c:sf:a:h", longopts, NULL)) != -1) {
    switch (c) {
      case 'd': a->name = optarg; break;
      case 'c': a->config = optarg; break;
      case 's': a->to_stdout = true; break;
      case 'f': a->file = optarg; break;
      case 'a': rc = add_assign(a, optarg); break;
      case 'h': help(); return CLI_HELP_SHOWN;
      case ':': return cli_bad_option(cmd, argv, optind, optopt, true);
      default: return cli_bad_option(cmd, argv, optind, optopt, false);
    }
  }
  if (rc != CLI_OK) return rc;
  if (optind < argc) return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
  if (!a->name) return cli_usage_error(cmd, "missing -d/--%s", name_opt);
  if (a->to_stdout == (a->file != NULL)) {
    return cli_usage_error(cmd, "give exactly one of -s/--stdout and -f/--file PATH");
  }
  if (!a->config && cli_file_exists("promex.ini")) a->config = "promex.ini";
  return CLI_OK;
}

void cli_export_args_free(cli_export_args_t *a) {
  for (size_t i = 0; i < a->n_extra; i++) free(a->extra_keys[i]);
  a->n_extra = 0;
}

const pmx_config_t *cli_export_config(const cli_export_args_t *a, pmx_config_file_t **cf) {
  *cf = NULL;
  if (a->config) {
    *cf = cli_load_config(a->config);
    return *cf ? pmx_config_file_config(*cf) : NULL;
  }
  char app[128];
  cli_default_app(app, sizeof app);
  return cli_all_plugins_config(app);
}

size_t cli_export_assigns(const cli_export_args_t *a, const pmx_config_t *cfg, const char *entry,
                          const char *alias, pmx_kv_t *out) {
  size_t n = 0;
  for (size_t i = 0; i < cfg->n_dashboards; i++) {
    const pmx_dashboard_use_t *d = &cfg->dashboards[i];
    if (!d->name_or_path ||
        (strcmp(d->name_or_path, entry) != 0 && (!alias || strcmp(d->name_or_path, alias) != 0)))
      continue;
    for (size_t j = 0; j < d->n_assigns && n < CLI_MAX_ASSIGNS; j++) out[n++] = d->assigns[j];
  }
  for (size_t i = 0; i < a->n_extra; i++) out[n++] = a->extra[i];
  return n;
}

int cli_export_write(const cli_export_args_t *a, const char *text) {
  size_t len = strlen(text);
  bool newline = len == 0 || text[len - 1] != '\n';
  if (a->to_stdout) {
    if (fputs(text, stdout) < 0 || (newline && fputc('\n', stdout) == EOF) || fflush(stdout) != 0)
      return CLI_FAIL;
    return CLI_OK;
  }
  FILE *f = fopen(a->file, "w");
  int rc = CLI_OK;
  if (!f || fputs(text, f) < 0 || (newline && fputc('\n', f) == EOF)) rc = CLI_FAIL;
  if (f && fclose(f) != 0) rc = CLI_FAIL;
  if (rc != CLI_OK) {
    fprintf(stderr, "promex %s: cannot write %s: %s\n", a->cmd, a->file, strerror(errno));
  } else {
    fprintf(stderr, "wrote %s\n", a->file);
  }
  return rc;
}
