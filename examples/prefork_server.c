/* A pre-forking HTTP server with one set of metrics for all its processes (multi-process mode,
 * include/promex/shared.h; docs/multiprocess.md), served by the promex runtime.
 *
 *   prefork_server [workers [app_port [metrics_port]]]     (defaults 4, 0, 0; port 0: any free)
 *
 * Prints "app at http://127.0.0.1:P/" and "metrics at http://127.0.0.1:Q/metrics", then runs
 * until SIGINT/SIGTERM. The master prepares the runtime in multi-process mode (pmx_prepare_shared:
 * every metric defined, nothing started), forks the workers, which accept on the shared app
 * socket (prefork, as Apache's MPM), then starts the runtime (pmx_start: the metrics server and
 * the process plugin's poller run in the master only). It reaps dead workers, reports them
 * (pmx_shared_worker_exited) and forks replacements while the runtime serves.
 *
 * Workers answer GET / ("hello"), GET /slow (after 50 ms) and 404 for anything else; GET /crash
 * kills the worker with SIGKILL in the middle of its request, to show that the counts survive.
 * They report each request with the http_server plugin's event contract (a span on
 * "http.server.request"), so the plugin's metrics count every worker's requests:
 *   prefork_prom_ex_http_server_requests_total{method,route,status,host}    all workers added up
 *   prefork_prom_ex_http_server_request_duration_seconds{...}               histogram, likewise
 *   prefork_prom_ex_http_server_requests_in_flight   sum over live workers (set to
 *                                                    PMX_SHARED_GAUGE_SUM here: a dead one's goes)
 *   prefork_worker_requests{pid}     the example's own gauge, one series per live worker
 * and the process plugin, polled by the master every second, reports the group:
 *   prefork_prom_ex_process_workers                  live workers
 *   prefork_prom_ex_process_memory_resident_bytes    master + live workers
 *   prefork_prom_ex_process_cpu_seconds_total{mode}  master + every worker */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "promex/promex.h"
#include "promex/plugins/http_server.h"
#include "promex/plugins/process.h"
#include "promex/shared.h"

#define MAX_WORKERS 64

static const char *const PID_TAG[] = {"pid"};

typedef struct app {
  pmx_t *promex;
  pmx_span_events_t span;
  pmx_metric_t *per_worker;
  int app_fd;
} app_t;

static volatile sig_atomic_t stopping;
static void on_stop(int sig) {
  (void)sig;
  stopping = 1;
}

static int fail(const char *what, int rc, const pmx_error_t *err) {
  fprintf(stderr, "prefork_server: %s: %s%s%s\n", what, pmx_strerror(rc), err ? " - " : "", err ? err->text : "");
  return 1;
}

/* A loopback listening socket on `port` (0: any); writes the port chosen. */
static int listen_on(int *port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)*port),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 128) != 0 ||
      getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
    perror("prefork_server: listen");
    exit(1);
  }
  *port = ntohs(a.sin_port);
  return fd;
}

static void respond(int fd, int status, const char *type, const char *body, size_t len) {
  char head[256];
  int n = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                   status, status == 200 ? "OK" : "Not Found", type, len);
  if (write(fd, head, (size_t)n) != n || write(fd, body, len) != (ssize_t)len) { /* client gone */
  }
}

/* Reads the request line: method and path (truncated to the buffers). */
static void read_request(int fd, char *method, size_t mcap, char *path, size_t pcap) {
  char buf[2048];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  buf[n > 0 ? n : 0] = '\0';
  method[0] = path[0] = '\0';
  char *sp = strchr(buf, ' ');
  if (sp == NULL) return;
  snprintf(method, mcap, "%.*s", (int)(sp - buf), buf);
  char *end = strchr(sp + 1, ' ');
  if (end) snprintf(path, pcap, "%.*s", (int)(end - sp - 1), sp + 1);
}

static void worker_main(app_t *a) {
  char pid[24];
  const char *pid_v[] = {pmx_shared_pid_label(pid, sizeof pid)};
  pmx_series_t *mine = NULL;
  pmx_metric_labels(a->per_worker, pid_v, 1, &mine);
  signal(SIGTERM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  for (;;) {
    int c = accept4(a->app_fd, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) continue;
    char method[16], path[256];
    read_request(c, method, sizeof method, path, sizeof path);
    pmx_span_t span;
    /* `path` picks the route from the plugin's route table (unknown paths: "unmatched"); it is
     * never a label value itself. */
    pmx_meta_t md[4] = {PMX_META_S("method", method), PMX_META_S("path", path)};
    pmx_span_start(&span, &a->span, md, 2);
    int status = 200;
    if (strcmp(path, "/crash") == 0) raise(SIGKILL); /* mid-request, in flight, never stopped */
    if (strcmp(path, "/slow") == 0) nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
    if (strcmp(path, "/") != 0 && strcmp(path, "/slow") != 0) {
      status = 404;
      respond(c, 404, "text/plain", "not found\n", 10);
    } else {
      respond(c, 200, "text/plain", "hello\n", 6);
    }
    md[2] = PMX_META_I("status", status);
    pmx_span_stop(&span, NULL, 0, md, 3);
    pmx_series_inc(mine);
    close(c);
  }
}

static pid_t spawn_worker(app_t *a) {
  pid_t pid = fork();
  if (pid == 0) {
    worker_main(a);
    _exit(0);
  }
  return pid;
}

/* Everything before the first fork: the runtime prepared in multi-process mode (the plugins'
 * metrics defined in the shared registry), the example's own gauge, the gauges' modes. */
static int setup(app_t *a, int metrics_port) {
  static const pmx_kv_t http_opts[] = {{"routes", "/,/slow"}};
  static const pmx_kv_t process_opts[] = {{"poll_rate", "1000"}};
  static pmx_plugin_use_t uses[2];
  uses[0] = (pmx_plugin_use_t){&pmx_plugin_http_server, http_opts, 1, NULL};
  uses[1] = (pmx_plugin_use_t){&pmx_plugin_process, process_opts, 1, NULL};
  pmx_config_t cfg;
  pmx_config_defaults(&cfg);
  cfg.app = "prefork";
  cfg.plugins = uses;
  cfg.n_plugins = 2;
  cfg.metrics_server.enabled = true;
  cfg.metrics_server.port = (uint16_t)metrics_port;
  pmx_error_t err = {0};
  int rc = pmx_new(&cfg, &a->promex, &err);
  if (rc != PMX_OK) return fail("pmx_new", rc, &err);
  if ((rc = pmx_prepare_shared(a->promex, NULL, &err)) != PMX_OK) return fail("pmx_prepare_shared", rc, &err);
  pmx_registry_t *reg = pmx_registry(a->promex);
  /* Requests in flight: each worker's own cell, summed over the live ones, so a worker killed
   * mid-request takes its +1 with it when the master reports it. */
  pmx_metric_t *in_flight = pmx_registry_find(reg, "prefork_prom_ex_http_server_requests_in_flight");
  if (in_flight == NULL) return fail("in-flight gauge", PMX_ENOENT, NULL);
  if ((rc = pmx_shared_gauge_mode(in_flight, PMX_SHARED_GAUGE_SUM, &err)) != PMX_OK) return fail("mode", rc, &err);
  pmx_metric_def_t def = {.kind = PMX_LAST_VALUE, .name = "prefork_worker_requests",
                          .description = "Requests served by each live worker.", .tags = PID_TAG, .n_tags = 1};
  if ((rc = pmx_metric_define(reg, &def, &a->per_worker, &err)) != PMX_OK) return fail("define", rc, &err);
  if ((rc = pmx_shared_gauge_mode(a->per_worker, PMX_SHARED_GAUGE_PER_WORKER, &err)) != PMX_OK) return fail("mode", rc, &err);
  if ((rc = pmx_span_events(pmx_bus(a->promex), "http.server.request", &a->span)) != PMX_OK) return fail("span", rc, NULL);
  return 0;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 4;
  int app_port = argc > 2 ? atoi(argv[2]) : 0, metrics_port = argc > 3 ? atoi(argv[3]) : 0;
  if (n < 1 || n > MAX_WORKERS) {
    fprintf(stderr, "usage: prefork_server [workers (1..%d) [app_port [metrics_port]]]\n", MAX_WORKERS);
    return 2;
  }
  app_t a = {0};
  if (setup(&a, metrics_port) != 0) return 1;
  a.app_fd = listen_on(&app_port);
  struct sigaction sa = {.sa_handler = on_stop};
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  pid_t pids[MAX_WORKERS];
  for (int i = 0; i < n; i++) pids[i] = spawn_worker(&a);
  /* The runtime's threads start after the first workers; replacements are forked while they run
   * (the runtime's fork handlers keep its locks out of the children). */
  pmx_error_t err = {0};
  int rc = pmx_start(a.promex, &err);
  if (rc != PMX_OK) {
    for (int i = 0; i < n; i++) kill(pids[i], SIGKILL);
    return fail("pmx_start", rc, &err);
  }
  printf("app at http://127.0.0.1:%d/\nmetrics at http://127.0.0.1:%d/metrics\n", app_port,
         pmx_metrics_port(a.promex));
  fflush(stdout);

  while (!stopping) {
    nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
    /* Reap, report (its gauges go; its counts stay), replace. */
    int status;
    pid_t dead;
    while ((dead = waitpid(-1, &status, WNOHANG)) > 0) {
      pmx_shared_worker_exited(dead);
      for (int i = 0; i < n; i++) {
        if (pids[i] == dead) pids[i] = stopping ? -1 : spawn_worker(&a);
      }
    }
  }
  for (int i = 0; i < n; i++) {
    if (pids[i] > 0) kill(pids[i], SIGTERM);
  }
  for (int i = 0; i < n; i++) {
    if (pids[i] > 0) waitpid(pids[i], NULL, 0);
  }
  pmx_destroy(a.promex); /* stops the runtime, frees the shared registry */
  close(a.app_fd);
  return 0;
}
