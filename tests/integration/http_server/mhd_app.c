/* A small libmicrohttpd service instrumented with the http_server plugin's MHD adapter, for the
 * integration test (run_mhd.sh). It serves:
 *   GET  /users/:id   200 "user <id>\n"            (other methods: 405)
 *   POST /users       201 "created <n>\n"          (n = request body bytes)
 *   POST /upload      200 "got <n>\n"              (any body size)
 *   GET  /slow        200 "slow\n" after the connection was suspended for 60 ms and resumed
 *   GET  /boom        500 "boom\n"
 *   GET  /metrics     promex's ready handler (promex/mhd.h), same daemon
 *   anything else     404 "not found\n"
 * and runs promex's standalone metrics server on another port, both on 127.0.0.1 (ports chosen
 * by the system). It prints "app_port=N metrics_port=M" once ready and stops on SIGTERM/SIGINT. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "promex/http_mhd.h"
#include "promex/mhd.h"
#include "promex/plugins/http_server.h"
#include "promex/promex.h"

typedef struct app {
  pmx_t *p;
  pmx_mhd_handler_t metrics;
} app_t;

typedef struct body_state {
  size_t bytes;
  int phase; /* /slow: 0 new, 1 suspended */
} body_state_t;

static int scrape(void *ctx, pmx_format_t f, pmx_buf_t *b) { return pmx_get_metrics(ctx, f, b); }

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *fmt, ...) {
  char body[128];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(body, sizeof body, fmt, ap);
  va_end(ap);
  struct MHD_Response *r = MHD_create_response_from_buffer((size_t)n, body, MHD_RESPMEM_MUST_COPY);
  if (r == NULL) return MHD_NO;
  enum MHD_Result rc = pmx_http_mhd_queue_response(c, status, r, (uint64_t)n);
  MHD_destroy_response(r);
  return rc;
}

static void *resume_later(void *arg) {
  struct timespec ts = {0, 60 * 1000000L};
  nanosleep(&ts, NULL);
  MHD_resume_connection(arg);
  return NULL;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **req_cls) {
  app_t *app = cls;
  (void)version;
  (void)upload;
  if (pmx_mhd_matches(&app->metrics, url)) return pmx_mhd_handle(c, url, method, &app->metrics);
  body_state_t *st = *req_cls;
  if (st == NULL) {
    st = calloc(1, sizeof *st);
    if (st == NULL) return MHD_NO;
    *req_cls = st;
    if (strcmp(url, "/slow") != 0) return MHD_YES; /* headers only: wait for the body */
  }
  if (*upload_size > 0) {
    st->bytes += *upload_size;
    *upload_size = 0;
    return MHD_YES;
  }
  if (strncmp(url, "/users/", 7) == 0 && url[7] != '\0' && strchr(url + 7, '/') == NULL) {
    if (strcmp(method, "GET") != 0) return reply(c, 405, "method not allowed\n");
    return reply(c, 200, "user %s\n", url + 7);
  }
  if (strcmp(url, "/users") == 0 && strcmp(method, "POST") == 0)
    return reply(c, 201, "created %zu\n", st->bytes);
  if (strcmp(url, "/upload") == 0 && strcmp(method, "POST") == 0)
    return reply(c, 200, "got %zu\n", st->bytes);
  if (strcmp(url, "/boom") == 0) return reply(c, 500, "boom\n");
  if (strcmp(url, "/slow") == 0) {
    if (st->phase == 0) {
      st->phase = 1;
      MHD_suspend_connection(c);
      pthread_t t;
      if (pthread_create(&t, NULL, resume_later, c) != 0) {
        MHD_resume_connection(c);
        return MHD_NO;
      }
      pthread_detach(t);
      return MHD_YES;
    }
    return reply(c, 200, "slow\n");
  }
  return reply(c, 404, "not found\n");
}

static void completed(void *cls, struct MHD_Connection *c, void **req_cls,
                      enum MHD_RequestTerminationCode toe) {
  (void)cls;
  (void)c;
  (void)toe;
  free(*req_cls);
  *req_cls = NULL;
}

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
  cfg.app = "mhdapp";
  cfg.plugins = &use;
  cfg.n_plugins = 1;
  cfg.metrics_server.enabled = true;
  cfg.metrics_server.port = 0;
  cfg.metrics_server.bind_address = "127.0.0.1";
  static app_t app;
  pmx_error_t err;
  if (pmx_new(&cfg, &app.p, &err) != PMX_OK || pmx_start(app.p, &err) != PMX_OK) {
    fprintf(stderr, "mhd_app: %s\n", err.text);
    return 1;
  }
  app.metrics = (pmx_mhd_handler_t){.path = "/metrics", .scrape = scrape, .ctx = app.p};

  pmx_http_mhd_config_t hc = {.bus = pmx_bus(app.p), .handler = handler, .handler_cls = &app,
                              .completed = completed, .host = "api", .endpoint = "api"};
  pmx_http_mhd_t *ins = NULL;
  if (pmx_http_mhd_new(&hc, &ins, &err) != PMX_OK) {
    fprintf(stderr, "mhd_app: %s\n", err.text);
    return 1;
  }
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  struct MHD_Daemon *d = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME, 0, NULL, NULL,
      pmx_http_mhd_access, ins, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_THREAD_POOL_SIZE, 2,
      MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_ARRAY, pmx_http_mhd_options(ins),
      MHD_OPTION_END);
  if (d == NULL) {
    fprintf(stderr, "mhd_app: cannot start the daemon\n");
    return 1;
  }
  if (pmx_http_mhd_announce(ins, d, "127.0.0.1") != PMX_OK) fprintf(stderr, "mhd_app: no announce\n");
  const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
  printf("app_port=%u metrics_port=%u\n", (unsigned)di->port, (unsigned)pmx_metrics_port(app.p));
  fflush(stdout);
  int sig;
  sigwait(&sigs, &sig);
  MHD_stop_daemon(d);
  pmx_http_mhd_free(ins);
  pmx_stop(app.p);
  pmx_destroy(app.p);
  return 0;
}
