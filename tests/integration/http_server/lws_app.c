/* The integration test's WebSocket service on libwebsockets, its protocol "echo" instrumented
 * through promex/http_lws.h: it takes text and binary messages (and answers nothing), and
 * refuses handshakes for the URI /reject in LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION. Prints
 * "app_port=N metrics_port=M" once ready; stops on SIGTERM/SIGINT. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "promex/http_lws.h"
#include "promex/plugins/http_server.h"
#include "promex/promex.h"

static atomic_bool g_stop;
static sigset_t g_sigs;

/* lws_service() waits as long as it likes (its timeout is ignored since lws 4), so the signal is
 * taken on a thread that wakes the loop with lws_cancel_service(). */
static void *signal_thread(void *ctx) {
  int sig;
  sigwait(&g_sigs, &sig);
  atomic_store(&g_stop, true);
  lws_cancel_service(ctx);
  return NULL;
}

static int echo_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len) {
  switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
      char uri[64] = "";
      lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI);
      return strcmp(uri, "/reject") == 0 ? -1 : 0;
    }
    case LWS_CALLBACK_RECEIVE:
      if (user != NULL) *(long *)user += (long)len; /* the app's own per-session data */
      return 0;
    default:
      return lws_callback_http_dummy(wsi, reason, user, in, len);
  }
}

static const struct lws_protocols k_protocols[] = {
    {"echo", echo_cb, sizeof(long), 4096, 0, NULL, 0}, {NULL, NULL, 0, 0, 0, NULL, 0}};

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  sigemptyset(&g_sigs);
  sigaddset(&g_sigs, SIGINT);
  sigaddset(&g_sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &g_sigs, NULL);
  pmx_plugin_use_t use = {&pmx_plugin_http_server, NULL, 0, NULL};
  pmx_config_t cfg;
  pmx_config_defaults(&cfg);
  cfg.app = "wsapp";
  cfg.plugins = &use;
  cfg.n_plugins = 1;
  cfg.metrics_server.enabled = true;
  cfg.metrics_server.port = 0;
  cfg.metrics_server.bind_address = "127.0.0.1";
  pmx_t *p = NULL;
  pmx_error_t err;
  if (pmx_new(&cfg, &p, &err) != PMX_OK || pmx_start(p, &err) != PMX_OK) {
    fprintf(stderr, "lws_app: %s\n", err.text);
    return 1;
  }
  pmx_http_lws_config_t lc = {.bus = pmx_bus(p), .endpoint = "ws"};
  pmx_http_lws_t *ins = NULL;
  if (pmx_http_lws_new(&lc, k_protocols, &ins, &err) != PMX_OK) {
    fprintf(stderr, "lws_app: %s\n", err.text);
    return 1;
  }
  lws_set_log_level(LLL_ERR, NULL);
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.port = 0;
  info.iface = "127.0.0.1";
  info.protocols = pmx_http_lws_protocols(ins);
  struct lws_context *ctx = lws_create_context(&info);
  if (ctx == NULL) {
    fprintf(stderr, "lws_app: cannot create the context\n");
    return 1;
  }
  struct lws_vhost *vh = lws_get_vhost_by_name(ctx, "default");
  int port = vh != NULL ? lws_get_vhost_listen_port(vh) : 0;
  printf("app_port=%d metrics_port=%u\n", port, (unsigned)pmx_metrics_port(p));
  fflush(stdout);
  pthread_t sig_thread;
  if (pthread_create(&sig_thread, NULL, signal_thread, ctx) != 0) return 1;
  while (!atomic_load(&g_stop)) lws_service(ctx, 0);
  pthread_join(sig_thread, NULL);
  lws_context_destroy(ctx);
  pmx_http_lws_free(ins);
  pmx_stop(p);
  pmx_destroy(p);
  return 0;
}
