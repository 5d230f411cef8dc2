/* The integration test's service (see mhd_app.c for the routes and output) on libevent's evhttp,
 * instrumented through promex/http_evhttp.h. /slow is a deferred reply (a 60 ms timer), which is
 * what a client can abandon here: libevent reads whole requests before any callback, so an
 * abandoned upload never reaches the application. /metrics is pmx_http_evhttp_metrics. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/util.h>

#include "promex/http_evhttp.h"
#include "promex/plugins/http_server.h"
#include "promex/promex.h"

static void reply(struct evhttp_request *req, int status, const char *body) {
  struct evbuffer *b = evbuffer_new();
  evbuffer_add(b, body, strlen(body));
  evhttp_send_reply(req, status, status < 300 ? "OK" : "Error", b);
  evbuffer_free(b);
}

static void users_post(struct evhttp_request *req, void *arg) {
  (void)arg;
  if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) { reply(req, 405, "method not allowed\n"); return; }
  char body[64];
  snprintf(body, sizeof body, "created %zu\n", evbuffer_get_length(evhttp_request_get_input_buffer(req)));
  struct evbuffer *b = evbuffer_new();
  evbuffer_add(b, body, strlen(body));
  evhttp_send_reply(req, 201, "Created", b);
  evbuffer_free(b);
}

static void upload_cb(struct evhttp_request *req, void *arg) {
  (void)arg;
  char body[64];
  snprintf(body, sizeof body, "got %zu\n", evbuffer_get_length(evhttp_request_get_input_buffer(req)));
  reply(req, 200, body);
}

static void boom_cb(struct evhttp_request *req, void *arg) {
  (void)arg;
  reply(req, 500, "boom\n");
}

static void slow_done(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  reply(arg, 200, "slow\n"); /* frees the request if its client is gone */
}

static void slow_cb(struct evhttp_request *req, void *arg) {
  struct timeval tv = {0, 60000};
  event_base_once(arg, -1, EV_TIMEOUT, slow_done, req, &tv);
}

static void other_cb(struct evhttp_request *req, void *arg) {
  (void)arg;
  const char *uri = evhttp_request_get_uri(req);
  size_t len = strcspn(uri, "?#");
  if (len > 7 && strncmp(uri, "/users/", 7) == 0 && memchr(uri + 7, '/', len - 7) == NULL) {
    if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) { reply(req, 405, "method not allowed\n"); return; }
    char body[600];
    snprintf(body, sizeof body, "user %.*s\n", (int)(len - 7), uri + 7);
    { reply(req, 200, body); return; }
  }
  reply(req, 404, "not found\n");
}

static int scrape(void *ctx, pmx_format_t f, pmx_buf_t *b) { return pmx_get_metrics(ctx, f, b); }

static void on_signal(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  event_base_loopexit(arg, NULL);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  static const pmx_kv_t opts[] = {{"routes", "/users/:id,/users,/upload,/slow,/boom"},
                                  {"ignore_routes", "/metrics"}};
  pmx_plugin_use_t use = {&pmx_plugin_http_server, opts, 2, NULL};
  pmx_config_t cfg;
  pmx_config_defaults(&cfg);
  cfg.app = "evapp";
  cfg.plugins = &use;
  cfg.n_plugins = 1;
  cfg.metrics_server.enabled = true;
  cfg.metrics_server.port = 0;
  cfg.metrics_server.bind_address = "127.0.0.1";
  pmx_t *p = NULL;
  pmx_error_t err;
  if (pmx_new(&cfg, &p, &err) != PMX_OK || pmx_start(p, &err) != PMX_OK) {
    fprintf(stderr, "evhttp_app: %s\n", err.text);
    return 1;
  }
  struct event_base *base = event_base_new();
  struct evhttp *http = evhttp_new(base);
  pmx_http_evhttp_config_t hc = {.bus = pmx_bus(p), .host = "api", .endpoint = "api"};
  pmx_http_evhttp_t *ins = NULL;
  if (base == NULL || http == NULL || pmx_http_evhttp_new(&hc, &ins, &err) != PMX_OK) {
    fprintf(stderr, "evhttp_app: setup failed\n");
    return 1;
  }
  pmx_metrics_endpoint_t ep = {.scrape = scrape, .ctx = p};
  if (pmx_http_evhttp_set_cb(ins, http, "/users", users_post, NULL) != PMX_OK ||
      pmx_http_evhttp_set_cb(ins, http, "/upload", upload_cb, NULL) != PMX_OK ||
      pmx_http_evhttp_set_cb(ins, http, "/boom", boom_cb, NULL) != PMX_OK ||
      pmx_http_evhttp_set_cb(ins, http, "/slow", slow_cb, base) != PMX_OK ||
      pmx_http_evhttp_set_gencb(ins, http, other_cb, NULL) != PMX_OK ||
      evhttp_set_cb(http, "/metrics", pmx_http_evhttp_metrics, &ep) != 0) {
    fprintf(stderr, "evhttp_app: cannot register callbacks\n");
    return 1;
  }
  struct evhttp_bound_socket *s = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0);
  if (s == NULL) {
    fprintf(stderr, "evhttp_app: cannot bind\n");
    return 1;
  }
  pmx_http_evhttp_announce(ins, s, "127.0.0.1");
  struct sockaddr_in sa;
  socklen_t sl = sizeof sa;
  getsockname(evhttp_bound_socket_get_fd(s), (struct sockaddr *)&sa, &sl);
  printf("app_port=%u metrics_port=%u\n", (unsigned)ntohs(sa.sin_port), (unsigned)pmx_metrics_port(p));
  fflush(stdout);
  struct event *sig_term = evsignal_new(base, SIGTERM, on_signal, base);
  struct event *sig_int = evsignal_new(base, SIGINT, on_signal, base);
  event_add(sig_term, NULL);
  event_add(sig_int, NULL);
  event_base_dispatch(base);
  event_free(sig_term);
  event_free(sig_int);
  evhttp_free(http);
  pmx_http_evhttp_free(ins);
  event_base_free(base);
  pmx_stop(p);
  pmx_destroy(p);
  return 0;
}
