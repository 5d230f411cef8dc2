/* The program the server statistics integration tests scrape (issue 13): a service that loads
 * its INI configuration, as a user's would, with the first-party plugins plus every server
 * statistics plugin this build has, serves /metrics and runs until SIGTERM/SIGINT.
 *
 *   stats_app [--config FILE] [--port N] [--bind ADDR]
 *
 * The config path may also come from PMX_STATS_CONFIG (check_panels.py starts "demo" programs
 * with --port 0 --bind 127.0.0.1 only). Prints "stats_app: metrics at http://ADDR:PORT/metrics"
 * once serving. Log lines go to stderr, one per line, so tests can count them. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promex/plugins/server_stats.h"
#include "promex/promex.h"
#ifdef PMX_HAVE_REDIS_STATS
#include "promex/plugins/redis_stats.h"
#endif
#ifdef PMX_HAVE_POSTGRES_STATS
#include "promex/plugins/postgres_stats.h"
#endif
#ifdef PMX_HAVE_MYSQL_STATS
#include "promex/plugins/mysql_stats.h"
#endif

static void log_to_stderr(void *ctx, pmx_log_level_t level, const char *msg) {
  (void)ctx;
  static const char *const names[] = {"debug", "info", "warn", "error"};
  fprintf(stderr, "stats_app: %s: %s\n", names[level <= PMX_LOG_ERROR ? level : 0], msg);
  fflush(stderr);
}

int main(int argc, char **argv) {
  const char *config = getenv("PMX_STATS_CONFIG"), *bind = NULL;
  long port = -1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--config") == 0) config = argv[i + 1];
    else if (strcmp(argv[i], "--port") == 0) port = strtol(argv[i + 1], NULL, 10);
    else if (strcmp(argv[i], "--bind") == 0) bind = argv[i + 1];
    else {
      fprintf(stderr, "usage: stats_app [--config FILE] [--port N] [--bind ADDR]\n");
      return 2;
    }
  }
  if (config == NULL) {
    fprintf(stderr, "stats_app: no --config and no PMX_STATS_CONFIG\n");
    return 2;
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, NULL); /* before any promex thread starts */

  size_t n_fp = 0;
  const pmx_plugin_t *const *fp = pmx_first_party_plugins(&n_fp);
  const pmx_plugin_t *known[40];
  size_t n_known = 0;
  for (size_t i = 0; i < n_fp && n_known < 36; i++) known[n_known++] = fp[i];
#ifdef PMX_HAVE_REDIS_STATS
  known[n_known++] = &pmx_plugin_redis_stats;
#endif
#ifdef PMX_HAVE_POSTGRES_STATS
  known[n_known++] = &pmx_plugin_postgres_stats;
#endif
#ifdef PMX_HAVE_MYSQL_STATS
  known[n_known++] = &pmx_plugin_mysql_stats;
#endif
  pmx_error_t err;
  pmx_config_file_t *file = NULL;
  if (pmx_config_load(config, known, n_known, &file, &err) != PMX_OK) {
    fprintf(stderr, "stats_app: %s\n", err.text);
    return 1;
  }
  pmx_config_t cfg = *pmx_config_file_config(file);
  /* The server statistics plugins log through their hooks (user_data): same sink. */
  static pmx_server_stats_hooks_t hooks = {log_to_stderr, NULL};
  pmx_plugin_use_t uses[40];
  size_t n_uses = 0;
  for (size_t i = 0; i < cfg.n_plugins && n_uses < 40; i++) {
    uses[n_uses] = cfg.plugins[i];
    /* Only the server statistics plugins (the tables after the first-party ones). */
    for (size_t k = n_fp; k < n_known; k++)
      if (uses[n_uses].plugin == known[k]) uses[n_uses].user_data = &hooks;
    n_uses++;
  }
  cfg.plugins = uses;
  cfg.n_plugins = n_uses;
  if (port >= 0) {
    cfg.metrics_server.enabled = true;
    cfg.metrics_server.port = (uint16_t)port;
  }
  if (bind != NULL) cfg.metrics_server.bind_address = bind;
  cfg.log = log_to_stderr;
  pmx_t *p = NULL;
  int rc = pmx_new(&cfg, &p, &err);
  pmx_config_file_free(file);
  if (rc != PMX_OK || (rc = pmx_start(p, &err)) != PMX_OK) {
    fprintf(stderr, "stats_app: %s: %s\n", pmx_err_name(rc), err.text);
    pmx_destroy(p);
    return 1;
  }
  const pmx_config_t *c = pmx_config(p);
  printf("stats_app: metrics at http://%s:%u%s\n",
         c->metrics_server.bind_address ? c->metrics_server.bind_address : "127.0.0.1",
         (unsigned)pmx_metrics_port(p), c->metrics_server.path ? c->metrics_server.path : "/metrics");
  fflush(stdout);
  int sig = 0;
  sigwait(&set, &sig);
  pmx_stop(p);
  pmx_destroy(p);
  return 0;
}
