/* Scrapes per second over one client connection to the standalone metrics server, TLS or plain:
 * the cost keep-alive saves. Starts pmx_server on 127.0.0.1 (free port) with a 400-series text
 * exposition, then scrapes it N times with one libcurl handle, which reuses the connection when
 * the server keeps it open and otherwise pays a new TCP (and TLS) handshake per scrape.
 *
 *   bench_keepalive [-n N] [--tls CERT.pem KEY.pem]
 *
 * Prints scrapes/s and how many connections libcurl had to open. Not a test: timings depend on
 * the machine (see bench/README.md). */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "promex/server.h"

static int scrape(void *ctx, pmx_format_t fmt, pmx_buf_t *out) {
  (void)ctx;
  (void)fmt;
  size_t cap = 400 * 48;
  out->data = malloc(cap);
  if (out->data == NULL) return PMX_ENOMEM;
  out->cap = cap;
  out->len = 0;
  for (int i = 0; i < 400; i++)
    out->len += (size_t)snprintf(out->data + out->len, cap - out->len,
                                 "bench_series{i=\"%d\"} %d\n", i, i * 7);
  return PMX_OK;
}

static size_t discard(char *p, size_t size, size_t n, void *ud) {
  (void)p;
  (void)ud;
  return size * n;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  long n = 2000;
  const char *cert = NULL, *key = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
      n = strtol(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "--tls") == 0 && i + 2 < argc) {
      cert = argv[++i];
      key = argv[++i];
    } else {
      fprintf(stderr, "usage: %s [-n N] [--tls CERT.pem KEY.pem]\n", argv[0]);
      return 2;
    }
  }
  pmx_server_config_t cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.enabled = true;
  cfg.bind_address = "127.0.0.1";
  cfg.pool_size = 2;
  if (cert) {
    cfg.protocol = PMX_PROTO_HTTPS;
    cfg.cert_file = cert;
    cfg.key_file = key;
  }
  pmx_server_t *srv;
  pmx_error_t err = {0};
  if (pmx_server_start(&cfg, scrape, NULL, &srv, &err) != PMX_OK) {
    fprintf(stderr, "pmx_server_start: %s\n", err.text);
    return 1;
  }
  char url[64];
  snprintf(url, sizeof url, "%s://127.0.0.1:%u/metrics", cert ? "https" : "http",
           (unsigned)pmx_server_port(srv));
  curl_global_init(CURL_GLOBAL_ALL);
  CURL *c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  if (cert) curl_easy_setopt(c, CURLOPT_CAINFO, cert);
  long connects = 0, failed = 0;
  double t0 = now_s();
  for (long i = 0; i < n; i++) {
    long code = 0, nc = 0;
    if (curl_easy_perform(c) != CURLE_OK) failed++;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &nc);
    if (code != 200) failed++;
    connects += nc;
  }
  double dt = now_s() - t0;
  printf("%s: %ld scrapes in %.2f s = %.0f scrapes/s, %ld connections opened, %ld failed\n",
         cert ? "https" : "http", n, dt, (double)n / dt, connects, failed);
  curl_easy_cleanup(c);
  curl_global_cleanup();
  pmx_server_stop(srv);
  return failed != 0;
}
