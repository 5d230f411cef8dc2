/* The integration test's service (see mhd_app.c for the routes and output) on CivetWeb,
 * instrumented through promex/http_civetweb.h. CivetWeb handlers block their worker, so /slow
 * sleeps 60 ms; /metrics is pmx_http_civetweb_metrics. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <civetweb.h>

#include "promex/http_civetweb.h"
#include "promex/plugins/http_server.h"
#include "promex/promex.h"

static int reply(struct mg_connection *c, int status, const char *body) {
  size_t n = strlen(body);
  mg_response_header_start(c, status);
  mg_response_header_add(c, "Content-Type", "text/plain", -1);
  char len[32];
  snprintf(len, sizeof len, "%zu", n);
  mg_response_header_add(c, "Content-Length", len, -1);
  mg_response_header_send(c);
  mg_write(c, body, n);
  return status;
}

static size_t read_body(struct mg_connection *c) {
  char buf[8192];
  size_t total = 0;
  int n;
  while ((n = mg_read(c, buf, sizeof buf)) > 0) total += (size_t)n;
  return total;
}

static int handler(struct mg_connection *c, void *cbdata) {
  (void)cbdata;
  const struct mg_request_info *ri = mg_get_request_info(c);
  const char *url = ri->local_uri_raw ? ri->local_uri_raw : ri->local_uri;
  const char *m = ri->request_method;
  char body[600];
  size_t bytes = read_body(c);
  size_t len = strcspn(url, "?#");
  if (len > 7 && strncmp(url, "/users/", 7) == 0 && memchr(url + 7, '/', len - 7) == NULL) {
    if (strcmp(m, "GET") != 0) return reply(c, 405, "method not allowed\n");
    snprintf(body, sizeof body, "user %.*s\n", (int)(len - 7), url + 7);
    return reply(c, 200, body);
  }
  if (strcmp(url, "/users") == 0 && strcmp(m, "POST") == 0) {
    snprintf(body, sizeof body, "created %zu\n", bytes);
    return reply(c, 201, body);
  }
  if (strcmp(url, "/upload") == 0 && strcmp(m, "POST") == 0) {
    snprintf(body, sizeof body, "got %zu\n", bytes);
    return reply(c, 200, body);
  }
  if (strcmp(url, "/boom") == 0) return reply(c, 500, "boom\n");
  if (strcmp(url, "/slow") == 0) {
    struct timespec ts = {0, 60 * 1000000L};
    nanosleep(&ts, NULL);
    return reply(c, 200, "slow\n");
  }
  return reply(c, 404, "not found\n");
}

static int scrape(void *ctx, pmx_format_t f, pmx_buf_t *b) { return pmx_get_metrics(ctx, f, b); }

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);
  static const pmx_kv_t opts[] = {{"routes", "/users/:id,/users,/upload,/slow,/boom"},
                                  {"ignore_routes", "/metrics"}};
  pmx_plugin_use_t use = {&pmx_plugin_http_server, opts, 2, NULL};
  pmx_config_t cfg;
  pmx_config_defaults(&cfg);
  cfg.app = "cwapp";
  cfg.plugins = &use;
  cfg.n_plugins = 1;
  cfg.metrics_server.enabled = true;
  cfg.metrics_server.port = 0;
  cfg.metrics_server.bind_address = "127.0.0.1";
  pmx_t *p = NULL;
  pmx_error_t err;
  if (pmx_new(&cfg, &p, &err) != PMX_OK || pmx_start(p, &err) != PMX_OK) {
    fprintf(stderr, "civetweb_app: %s\n", err.text);
    return 1;
  }
  mg_init_library(0);
  pmx_http_civetweb_config_t hc = {.bus = pmx_bus(p), .host = "api", .endpoint = "api"};
  pmx_http_civetweb_t *ins = NULL;
  if (pmx_http_civetweb_new(&hc, &ins, &err) != PMX_OK) {
    fprintf(stderr, "civetweb_app: %s\n", err.text);
    return 1;
  }
  const char *options[] = {"listening_ports", "127.0.0.1:0", "num_threads", "4", NULL};
  struct mg_callbacks cb;
  memset(&cb, 0, sizeof cb);
  struct mg_context *ctx = pmx_http_civetweb_start(ins, &cb, NULL, options);
  if (ctx == NULL) {
    fprintf(stderr, "civetweb_app: cannot start\n");
    return 1;
  }
  pmx_metrics_endpoint_t ep = {.scrape = scrape, .ctx = p};
  mg_set_request_handler(ctx, "/metrics", pmx_http_civetweb_metrics, &ep);
  mg_set_request_handler(ctx, "/", handler, NULL);
  pmx_http_civetweb_announce(ins, ctx, "127.0.0.1");
  struct mg_server_port ports[4];
  int n = mg_get_server_ports(ctx, 4, ports);
  printf("app_port=%d metrics_port=%u\n", n > 0 ? ports[0].port : 0, (unsigned)pmx_metrics_port(p));
  fflush(stdout);
  int sig;
  sigwait(&sigs, &sig);
  mg_stop(ctx);
  pmx_http_civetweb_free(ins);
  mg_exit_library();
  pmx_stop(p);
  pmx_destroy(p);
  return 0;
}
