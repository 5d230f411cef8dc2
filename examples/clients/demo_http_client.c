/* The demo's outbound HTTP workload (see demo_http_client.h). One easy handle is reused, so the
 * connection-reuse panel shows both new and reused connections; the multi interface is not
 * needed for a demo (tests/unit/http_client covers it). */
#include "demo_http_client.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "promex/curl.h"

static size_t discard(char *ptr, size_t size, size_t n, void *ud) {
  (void)ptr, (void)ud;
  return size * n;
}

/* A loopback port nothing listens on (bound, then closed). */
static unsigned closed_port(void) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0) return 9;
  struct sockaddr_in sa = {.sin_family = AF_INET};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  unsigned port = 9;
  if (bind(s, (struct sockaddr *)&sa, sizeof sa) == 0 &&
      getsockname(s, (struct sockaddr *)&sa, &len) == 0)
    port = ntohs(sa.sin_port);
  close(s);
  return port;
}

static void *run(void *arg) {
  demo_http_client_t *c = arg;
  pmx_curl_t *pc = NULL;
  if (pmx_curl_new(pmx_bus(c->p), &pc) != PMX_OK) return NULL;
  const pmx_config_t *cfg = pmx_config(c->p);
  unsigned port = pmx_metrics_port(c->p);
  char ok[128], missing[128], refused[64];
  snprintf(ok, sizeof ok, "http://127.0.0.1:%u%s", port,
           cfg->metrics_server.path ? cfg->metrics_server.path : "/metrics");
  snprintf(missing, sizeof missing, "http://127.0.0.1:%u/no-such-page", port);
  snprintf(refused, sizeof refused, "http://127.0.0.1:%u/", closed_port());
  CURL *e = curl_easy_init();
  for (unsigned i = 0; e != NULL && !atomic_load(&c->stop); i++) {
    const char *url = i % 10 == 9 ? refused : i % 5 == 4 ? missing : ok;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 2000L);
    if (cfg->metrics_server.auth_token != NULL) {
      char h[300];
      snprintf(h, sizeof h, "Authorization: Bearer %s", cfg->metrics_server.auth_token);
      struct curl_slist *hdr = curl_slist_append(NULL, h);
      curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdr);
      pmx_curl_easy_perform(pc, e);
      curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
      curl_slist_free_all(hdr);
    } else {
      pmx_curl_easy_perform(pc, e);
    }
    struct timespec ts = {0, 250 * 1000000L};
    while (!atomic_load(&c->stop) && nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
  }
  curl_easy_cleanup(e);
  pmx_curl_free(pc);
  return NULL;
}

int demo_http_client_start(demo_http_client_t *c, pmx_t *p) {
  c->p = p;
  atomic_store(&c->stop, false);
  c->running = false;
  if (pmx_metrics_port(p) == 0) return 0;
  if (pthread_create(&c->thread, NULL, run, c) != 0) return -1;
  c->running = true;
  return 0;
}

void demo_http_client_stop(demo_http_client_t *c) {
  if (!c->running) return;
  atomic_store(&c->stop, true);
  pthread_join(c->thread, NULL);
  c->running = false;
}
