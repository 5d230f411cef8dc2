/* The http_client integration test's program: runs a fixed mix of libcurl transfers through the
 * promex adapter against the loopback server of server.py, then serves its metrics until
 * SIGTERM, so that a real Prometheus can scrape the counts (run.sh checks them exactly).
 *
 *   http_client_workload HTTP_PORT HTTPS_PORT CA_FILE REFUSED_PORT
 *
 * The mix (kept in sync with run.sh):
 *   easy handle A, http, kept alive: /ok x5, /notfound x2, /error x3, /redirect x2 (followed)
 *   multi interface, 4 handles: /ok x4
 *   easy handle B, https (self-signed CA): /ok x3
 *   easy handle C: /slow with a 300 ms timeout x1 (OPERATION_TIMEDOUT)
 *   easy handle D: a closed port x2 (COULDNT_CONNECT)
 * Prints "metrics at http://127.0.0.1:PORT/metrics" once the workload is done. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "promex/curl.h"
#include "promex/plugins/http_client.h"
#include "promex/promex.h"

static size_t discard(char *p, size_t s, size_t n, void *u) {
  (void)p, (void)u;
  return s * n;
}

static CURL *handle(void) {
  CURL *e = curl_easy_init();
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
  return e;
}

static int get(pmx_curl_t *pc, CURL *e, const char *base, const char *path, CURLcode want) {
  char url[256];
  snprintf(url, sizeof url, "%s%s", base, path);
  curl_easy_setopt(e, CURLOPT_URL, url);
  CURLcode rc = pmx_curl_easy_perform(pc, e);
  if (rc != want) {
    fprintf(stderr, "workload: %s: %s, want %s\n", url, pmx_curl_code_name(rc),
            pmx_curl_code_name(want));
    return -1;
  }
  return 0;
}

static int multi(pmx_curl_t *pc, const char *base) {
  CURLM *m = curl_multi_init();
  CURL *e[4];
  char url[256];
  snprintf(url, sizeof url, "%s/ok", base);
  for (int i = 0; i < 4; i++) {
    e[i] = handle();
    curl_easy_setopt(e[i], CURLOPT_URL, url);
    curl_multi_add_handle(m, e[i]);
  }
  int running = 1, done = 0, left = 0, bad = 0;
  while (done < 4) {
    curl_multi_perform(m, &running);
    CURLMsg *msg;
    while ((msg = pmx_curl_multi_info_read(pc, m, &left)) != NULL)
      if (msg->msg == CURLMSG_DONE) {
        done++;
        bad += msg->data.result != CURLE_OK;
      }
    if (done < 4) curl_multi_poll(m, NULL, 0, 100, NULL);
  }
  for (int i = 0; i < 4; i++) {
    curl_multi_remove_handle(m, e[i]);
    curl_easy_cleanup(e[i]);
  }
  curl_multi_cleanup(m);
  return bad ? -1 : 0;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: http_client_workload HTTP_PORT HTTPS_PORT CA_FILE REFUSED_PORT\n");
    return 2;
  }
  char http[64], https[64], refused[64];
  snprintf(http, sizeof http, "http://127.0.0.1:%s", argv[1]);
  snprintf(https, sizeof https, "https://127.0.0.1:%s", argv[2]);
  snprintf(refused, sizeof refused, "http://127.0.0.1:%s", argv[4]);
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);
  curl_global_init(CURL_GLOBAL_DEFAULT);

  pmx_config_t cfg;
  pmx_config_defaults(&cfg);
  cfg.app = "hcit";
  pmx_plugin_use_t use = {.plugin = &pmx_plugin_http_client};
  cfg.plugins = &use;
  cfg.n_plugins = 1;
  cfg.metrics_server.enabled = true;
  cfg.metrics_server.port = 0;
  cfg.metrics_server.bind_address = "127.0.0.1";
  pmx_t *p = NULL;
  pmx_error_t err;
  pmx_curl_t *pc = NULL;
  if (pmx_new(&cfg, &p, &err) != PMX_OK || pmx_start(p, &err) != PMX_OK ||
      pmx_curl_new(pmx_bus(p), &pc) != PMX_OK) {
    fprintf(stderr, "workload: promex: %s\n", err.text);
    return 1;
  }

  int bad = 0;
  CURL *a = handle();
  for (int i = 0; i < 5; i++) bad |= get(pc, a, http, "/ok", CURLE_OK);
  for (int i = 0; i < 2; i++) bad |= get(pc, a, http, "/notfound", CURLE_OK);
  for (int i = 0; i < 3; i++) bad |= get(pc, a, http, "/error", CURLE_OK);
  for (int i = 0; i < 2; i++) bad |= get(pc, a, http, "/redirect", CURLE_OK);
  curl_easy_cleanup(a);
  bad |= multi(pc, http);
  CURL *b = handle();
  curl_easy_setopt(b, CURLOPT_CAINFO, argv[3]);
  for (int i = 0; i < 3; i++) bad |= get(pc, b, https, "/ok", CURLE_OK);
  curl_easy_cleanup(b);
  CURL *c = handle();
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 300L);
  bad |= get(pc, c, http, "/slow", CURLE_OPERATION_TIMEDOUT);
  curl_easy_cleanup(c);
  CURL *d = handle();
  for (int i = 0; i < 2; i++) bad |= get(pc, d, refused, "/", CURLE_COULDNT_CONNECT);
  curl_easy_cleanup(d);
  if (bad) return 1;

  printf("workload done; metrics at http://127.0.0.1:%u/metrics\n", (unsigned)pmx_metrics_port(p));
  fflush(stdout);
  int sig = 0;
  sigwait(&sigs, &sig);
  pmx_curl_free(pc);
  pmx_stop(p);
  pmx_destroy(p);
  curl_global_cleanup();
  return 0;
}
