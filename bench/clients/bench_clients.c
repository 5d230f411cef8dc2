/* Adapter overhead per call (issue 12): each client call made bare and through the promex
 * adapter, side by side, in alternating blocks so that drift hits both equally, with the three
 * plugins enabled (every event updates its metrics).
 *
 *   bench_clients [N]        (N calls per variant, default 20000)
 *
 * curl: transfers to an in-process libmicrohttpd server on 127.0.0.1 (kept-alive connection),
 * and pmx_curl_observe() alone on a finished handle (the adapter's own cost without the network
 * noise). redis / memcached: PING / get of a missing key, when PMX_TEST_REDIS_PORT /
 * PMX_TEST_MEMCACHED_PORT name a server on 127.0.0.1 (bench/clients/run.sh starts both).
 * Prints one line per adapter: bare ns/call, wrapped ns/call, overhead. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "promex/curl.h"
#include "promex/hiredis.h"
#include "promex/memcached.h"
#include "promex/plugins/http_client.h"
#include "promex/plugins/memcached.h"
#include "promex/plugins/redis.h"
#include "promex/promex.h"

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *data,
                              size_t *size, void **con_cls) {
  (void)cls, (void)url, (void)method, (void)version, (void)data, (void)size;
  static int seen;
  if (*con_cls == NULL) {
    *con_cls = &seen;
    return MHD_YES;
  }
  struct MHD_Response *r = MHD_create_response_from_buffer(2, (void *)"ok", MHD_RESPMEM_PERSISTENT);
  enum MHD_Result rc = MHD_queue_response(c, 200, r);
  MHD_destroy_response(r);
  return rc;
}

static size_t discard(char *p, size_t s, size_t n, void *u) {
  (void)p, (void)u;
  return s * n;
}

typedef struct pair {
  double bare, wrapped;
} pair_t;

static void report(const char *what, pair_t t, long n) {
  double b = t.bare / (double)n, w = t.wrapped / (double)n;
  printf("%-28s bare %9.0f ns/call  wrapped %9.0f ns/call  overhead %7.0f ns (%+.1f%%)\n", what,
         b, w, w - b, b > 0 ? 100.0 * (w - b) / b : 0.0);
}

int main(int argc, char **argv) {
  long n = argc > 1 ? strtol(argv[1], NULL, 10) : 20000;
  if (n < 100) n = 100;
  const long block = 100;
  pmx_config_t cfg;
  pmx_config_defaults(&cfg);
  cfg.app = "bench";
  pmx_plugin_use_t uses[] = {{.plugin = &pmx_plugin_http_client},
                             {.plugin = &pmx_plugin_redis},
                             {.plugin = &pmx_plugin_memcached}};
  cfg.plugins = uses;
  cfg.n_plugins = 3;
  pmx_t *p = NULL;
  pmx_error_t err;
  if (pmx_new(&cfg, &p, &err) != PMX_OK || pmx_start(p, &err) != PMX_OK) {
    fprintf(stderr, "bench_clients: %s\n", err.text);
    return 1;
  }
  pmx_bus_t *bus = pmx_bus(p);

  /* ---- libcurl */
  struct sockaddr_in sa = {.sin_family = AF_INET};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, answer,
                                          NULL, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_END);
  pmx_curl_t *pc = NULL;
  pmx_curl_new(bus, &pc);
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%u/x",
           MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port);
  CURL *e = curl_easy_init();
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
  long nc = n / 10; /* transfers are ~100x slower than the other calls */
  pair_t t = {0, 0};
  for (long i = 0; i < nc; i += block) {
    double t0 = now_ns();
    for (long j = 0; j < block; j++) curl_easy_perform(e);
    double t1 = now_ns();
    for (long j = 0; j < block; j++) pmx_curl_easy_perform(pc, e);
    t.bare += t1 - t0;
    t.wrapped += now_ns() - t1;
  }
  report("curl transfer (loopback)", t, nc);
  double t0 = now_ns();
  for (long i = 0; i < n; i++) pmx_curl_observe(pc, e, CURLE_OK);
  printf("%-28s %9.0f ns/call (getinfo, URL parse, 9 emits)\n", "pmx_curl_observe alone",
         (now_ns() - t0) / (double)n);
  curl_easy_cleanup(e);
  pmx_curl_free(pc);
  MHD_stop_daemon(d);

  /* ---- hiredis */
  const char *rp = getenv("PMX_TEST_REDIS_PORT");
  if (rp != NULL) {
    pmx_redis_t *pr = NULL;
    pmx_redis_new(bus, &pr);
    redisContext *c = redisConnect("127.0.0.1", atoi(rp));
    if (c == NULL || c->err) {
      fprintf(stderr, "bench_clients: redis on %s: no connection\n", rp);
      return 1;
    }
    t = (pair_t){0, 0};
    for (long i = 0; i < n; i += block) {
      double a = now_ns();
      for (long j = 0; j < block; j++) freeReplyObject(redisCommand(c, "PING"));
      double b = now_ns();
      for (long j = 0; j < block; j++) freeReplyObject(pmx_redis_command(pr, c, "PING"));
      t.bare += b - a;
      t.wrapped += now_ns() - b;
    }
    report("redis PING (loopback)", t, n);
    redisFree(c);
    pmx_redis_destroy(pr);
  }

  /* ---- libmemcached */
  const char *mp = getenv("PMX_TEST_MEMCACHED_PORT");
  if (mp != NULL) {
    pmx_memcached_t *pm = NULL;
    pmx_memcached_new(bus, &pm);
    memcached_st *mc = memcached_create(NULL);
    memcached_server_add(mc, "127.0.0.1", (in_port_t)atoi(mp));
    t = (pair_t){0, 0};
    size_t len;
    uint32_t flags;
    memcached_return_t rc;
    for (long i = 0; i < n; i += block) {
      double a = now_ns();
      for (long j = 0; j < block; j++) free(memcached_get(mc, "nokey", 5, &len, &flags, &rc));
      double b = now_ns();
      for (long j = 0; j < block; j++)
        free(pmx_memcached_get(pm, mc, "nokey", 5, &len, &flags, &rc));
      t.bare += b - a;
      t.wrapped += now_ns() - b;
    }
    report("memcached get miss (loopback)", t, n);
    memcached_free(mc);
    pmx_memcached_destroy(pm);
  }
  pmx_stop(p);
  pmx_destroy(p);
  return 0;
}
