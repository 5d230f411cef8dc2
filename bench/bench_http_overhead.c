/* The http_server adapter's overhead per request (issue 10), in the peers' line format:
 *
 *   peer=promex workload=http_event_overhead     the plugin's cost per request in process: one
 *       request span (start + stop with method, path, host, status, sizes) through a running
 *       promex with the http_server plugin (route lookup over 10 templates, 4 metric updates,
 *       the in-flight gauge), ns per request, 1 thread.
 *   peer=promex workload=http_request_baseline   one keep-alive HTTP/1.1 request over loopback
 *       to a libmicrohttpd daemon with a plain handler, ns per request.
 *   peer=promex workload=http_request_overhead   the same daemon and handler instrumented
 *       through promex/http_mhd.h, minus the baseline: the median over REPS alternating
 *       side-by-side runs, ns per request.
 *
 *   bench_http_overhead            BENCH_OPS (default 1000000 events, 20000 requests per rep)
 * Loopback round trips dominate the end-to-end numbers and vary by a few percent between runs,
 * so the in-process number is the precise one; the end-to-end difference shows it in context. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "promex/http_mhd.h"
#include "promex/plugins/http_server.h"
#include "promex/promex.h"

#define REPS 5

static long g_ops = 1000000;

static enum MHD_Result plain(void *cls, struct MHD_Connection *c, const char *url,
                             const char *method, const char *version, const char *upload,
                             size_t *upload_size, void **req_cls) {
  (void)cls, (void)url, (void)method, (void)version, (void)upload, (void)upload_size;
  static int seen;
  if (*req_cls == NULL) {
    *req_cls = &seen;
    return MHD_YES;
  }
  struct MHD_Response *r = MHD_create_response_from_buffer(3, (void *)"ok\n", MHD_RESPMEM_PERSISTENT);
  enum MHD_Result rc = MHD_queue_response(c, 200, r);
  MHD_destroy_response(r);
  return rc;
}

static struct MHD_Daemon *start(MHD_AccessHandlerCallback h, void *cls,
                                const struct MHD_OptionItem *extra) {
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  static const struct MHD_OptionItem none[] = {{MHD_OPTION_END, 0, NULL}};
  return MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL, h, cls,
                          MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_ARRAY, extra ? extra : none,
                          MHD_OPTION_END);
}

/* n keep-alive requests on one connection; returns ns per request, or -1. */
static double client(struct MHD_Daemon *d, long n) {
  const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(di->port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) return -1;
  static const char req[] = "GET /r3 HTTP/1.1\r\nHost: bench\r\n\r\n";
  char buf[4096];
  int64_t t0 = pmx_monotonic_ns();
  for (long i = 0; i < n; i++) {
    if (send(fd, req, sizeof req - 1, 0) < 0) return -1;
    size_t got = 0;
    for (;;) { /* the answer ends with the 3-byte body after the header block */
      ssize_t k = recv(fd, buf + got, sizeof buf - got, 0);
      if (k <= 0) return -1;
      got += (size_t)k;
      char *end = memmem(buf, got, "\r\n\r\n", 4);
      if (end != NULL && got >= (size_t)(end - buf) + 4 + 3) break;
    }
  }
  int64_t t1 = pmx_monotonic_ns();
  close(fd);
  return (double)(t1 - t0) / (double)n;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(void) {
  const char *ops = getenv("BENCH_OPS");
  if (ops != NULL && atol(ops) > 0) g_ops = atol(ops);
  static const pmx_kv_t opts[] = {{"routes", "/r0,/r1,/r2,/r3,/r4,/r5,/r6,/r7,/r8,/r9"}};
  pmx_plugin_use_t use = {&pmx_plugin_http_server, opts, 1, NULL};
  pmx_config_t cfg;
  pmx_config_defaults(&cfg);
  cfg.app = "bench";
  cfg.plugins = &use;
  cfg.n_plugins = 1;
  pmx_t *p = NULL;
  pmx_error_t err;
  if (pmx_new(&cfg, &p, &err) != PMX_OK || pmx_start(p, &err) != PMX_OK) {
    fprintf(stderr, "bench_http_overhead: %s\n", err.text);
    return 1;
  }

  /* In process: the contract as an adapter emits it. */
  pmx_span_events_t ev;
  pmx_span_events(pmx_bus(p), "http.server.request", &ev);
  static const char *const paths[] = {"/r0", "/r1", "/r2", "/r3", "/r4",
                                      "/r5", "/r6", "/r7", "/r8", "/r9"};
  int64_t t0 = pmx_monotonic_ns();
  for (long i = 0; i < g_ops; i++) {
    pmx_meta_t md[] = {PMX_META_S("method", "GET"), PMX_META_S("host", "api"),
                       PMX_META_S("scheme", "http"), PMX_META_S("path", paths[i % 10]),
                       PMX_META_I("status", 200)};
    pmx_span_t s;
    pmx_span_start(&s, &ev, md, 4);
    pmx_measurement_t extra[] = {PMX_M("request_size", 0), PMX_M("response_size", 3)};
    pmx_span_stop(&s, extra, 2, md, 5);
  }
  double per_event = (double)(pmx_monotonic_ns() - t0) / (double)g_ops;
  printf("peer=promex workload=http_event_overhead threads=1 value=%.2f unit=ns/op\n", per_event);

  /* End to end, side by side: plain and instrumented daemons, alternating. */
  pmx_http_mhd_config_t hc = {.bus = pmx_bus(p), .handler = plain, .host = "api"};
  pmx_http_mhd_t *ins = NULL;
  if (pmx_http_mhd_new(&hc, &ins, &err) != PMX_OK) return 1;
  struct MHD_Daemon *dp = start(plain, NULL, NULL);
  struct MHD_Daemon *di = start(pmx_http_mhd_access, ins, pmx_http_mhd_options(ins));
  if (dp == NULL || di == NULL) {
    fprintf(stderr, "bench_http_overhead: cannot start the daemons\n");
    return 1;
  }
  long n = g_ops / 50 > 100 ? g_ops / 50 : 100;
  client(dp, n / 10); /* warm-up */
  client(di, n / 10);
  double base[REPS], diff[REPS];
  for (int r = 0; r < REPS; r++) {
    double a = client(dp, n), b = client(di, n);
    if (a < 0 || b < 0) {
      fprintf(stderr, "bench_http_overhead: client failed\n");
      return 1;
    }
    base[r] = a;
    diff[r] = b - a;
  }
  qsort(base, REPS, sizeof base[0], cmp);
  qsort(diff, REPS, sizeof diff[0], cmp);
  printf("peer=promex workload=http_request_baseline threads=1 value=%.2f unit=ns/op\n", base[REPS / 2]);
  printf("peer=promex workload=http_request_overhead threads=1 value=%.2f unit=ns/op\n", diff[REPS / 2]);
  MHD_stop_daemon(dp);
  MHD_stop_daemon(di);
  pmx_http_mhd_free(ins);
  pmx_stop(p);
  pmx_destroy(p);
  return 0;
}
