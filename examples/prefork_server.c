/* A pre-forking HTTP server with one set of metrics for all its processes (multi-process mode,
 * include/promex/shared.h; docs/multiprocess.md).
 *
 *   prefork_server [workers [app_port [metrics_port]]]     (defaults 4, 0, 0; port 0: any free)
 *
 * Prints "app at http://127.0.0.1:P/" and "metrics at http://127.0.0.1:Q/metrics", then runs
 * until SIGINT/SIGTERM. The master forks the workers, which accept on the shared app socket
 * (prefork, as Apache's MPM); the master serves /metrics, reaps dead workers, reports them
 * (pmx_shared_worker_exited) and forks replacements.
 *
 * Workers answer GET / ("hello"), GET /slow (after 50 ms) and 404 for anything else; GET /crash
 * kills the worker with SIGKILL in the middle of its request, to show that the counts survive.
 * They report each request with the http_server plugin's event contract (a span on
 * "http.server.request": start, then stop with method, route, status and duration), on which
 * the metrics below are defined as the plugin defines its request metrics:
 *   prefork_http_requests_total{method,route,status}          counter, all workers added up
 *   prefork_http_request_duration_seconds{method,route,status} histogram, likewise
 *   prefork_http_requests_in_flight    gauge, sum over live workers (a dead one's in-flight goes)
 *   prefork_worker_requests{pid}       gauge, one series per live worker: requests it served
 *   prefork_workers                    gauge, live workers (the master sets it) */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "promex/promex.h"
#include "promex/shared.h"

#define MAX_WORKERS 64

static const char *const REQUEST_TAGS[] = {"method", "route", "status"};
static const char *const PID_TAG[] = {"pid"};
static const double DURATION_BUCKETS[] = {0.001, 0.005, 0.025, 0.1, 0.5, 1};

typedef struct app {
  pmx_registry_t *reg;
  pmx_bus_t *bus;
  pmx_span_events_t span;
  pmx_metric_t *in_flight, *per_worker, *workers;
  int app_fd, metrics_fd;
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
  pmx_series_t *mine = NULL, *in_flight = NULL;
  pmx_metric_labels(a->per_worker, pid_v, 1, &mine);
  pmx_metric_labels(a->in_flight, NULL, 0, &in_flight);
  signal(SIGTERM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  for (;;) {
    int c = accept4(a->app_fd, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) continue;
    char method[16], path[256];
    read_request(c, method, sizeof method, path, sizeof path);
    pmx_series_add(in_flight, 1);
    pmx_span_t span;
    pmx_meta_t md[4] = {PMX_META_S("method", method), PMX_META_S("route", path)};
    pmx_span_start(&span, &a->span, md, 2);
    int status = 200;
    if (strcmp(path, "/crash") == 0) raise(SIGKILL); /* mid-request, in flight, never stopped */
    if (strcmp(path, "/slow") == 0) nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
    if (strcmp(path, "/") != 0 && strcmp(path, "/slow") != 0) {
      status = 404;
      md[1] = PMX_META_S("route", "unmatched"); /* label values from a bounded set only */
      respond(c, 404, "text/plain", "not found\n", 10);
    } else {
      respond(c, 200, "text/plain", "hello\n", 6);
    }
    md[2] = PMX_META_I("status", status);
    pmx_span_stop(&span, NULL, 0, md, 3);
    pmx_series_add(in_flight, -1);
    pmx_series_inc(mine);
    close(c);
  }
}

static pid_t spawn_worker(app_t *a) {
  pid_t pid = fork();
  if (pid == 0) {
    close(a->metrics_fd);
    worker_main(a);
    _exit(0);
  }
  return pid;
}

/* Serves one /metrics request on the master: the whole group's exposition. */
static void serve_metrics(app_t *a) {
  int c = accept4(a->metrics_fd, NULL, NULL, SOCK_CLOEXEC);
  if (c < 0) return;
  char method[16], path[256];
  read_request(c, method, sizeof method, path, sizeof path);
  pmx_buf_t buf = {0};
  if (strcmp(path, "/metrics") == 0 && pmx_render(a->reg, PMX_FORMAT_TEXT, &buf) == PMX_OK) {
    respond(c, 200, "text/plain; version=0.0.4", buf.data, buf.len);
  } else {
    respond(c, 404, "text/plain", "not found\n", 10);
  }
  pmx_buf_free(&buf);
  close(c);
}

/* Everything before the first fork: the mode, every definition, the bus. */
static int setup(app_t *a) {
  pmx_error_t err = {0};
  int rc = pmx_registry_new(NULL, &a->reg);
  if (rc != PMX_OK) return fail("pmx_registry_new", rc, NULL);
  if ((rc = pmx_shared_enable(a->reg, NULL, &err)) != PMX_OK) return fail("pmx_shared_enable", rc, &err);
  if ((rc = pmx_bus_new(&a->bus)) != PMX_OK) return fail("pmx_bus_new", rc, NULL);
  pmx_metric_def_t defs[] = {
      {.kind = PMX_COUNTER, .name = "prefork_http_requests_total", .description = "Requests answered.",
       .event_name = "http.server.request.stop", .tags = REQUEST_TAGS, .n_tags = 3},
      {.kind = PMX_DISTRIBUTION, .name = "prefork_http_request_duration_seconds",
       .description = "Request duration.", .event_name = "http.server.request.stop", .measurement = "duration",
       .tags = REQUEST_TAGS, .n_tags = 3, .unit_from = PMX_UNIT_NATIVE, .unit_to = PMX_UNIT_SECOND,
       .buckets = DURATION_BUCKETS, .n_buckets = sizeof DURATION_BUCKETS / sizeof DURATION_BUCKETS[0]},
  };
  for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++) {
    pmx_metric_t *m;
    if ((rc = pmx_metric_define(a->reg, &defs[i], &m, &err)) != PMX_OK) return fail("define", rc, &err);
    if ((rc = pmx_metric_attach(m, a->bus, &err)) != PMX_OK) return fail("attach", rc, &err);
  }
  struct {
    pmx_metric_t **out;
    pmx_metric_def_t def;
    pmx_shared_gauge_t mode;
  } gauges[] = {
      {&a->in_flight, {.kind = PMX_LAST_VALUE, .name = "prefork_http_requests_in_flight",
                       .description = "Requests being answered."}, PMX_SHARED_GAUGE_SUM},
      {&a->per_worker, {.kind = PMX_LAST_VALUE, .name = "prefork_worker_requests",
                        .description = "Requests served by each live worker.", .tags = PID_TAG, .n_tags = 1},
       PMX_SHARED_GAUGE_PER_WORKER},
      {&a->workers, {.kind = PMX_LAST_VALUE, .name = "prefork_workers", .description = "Live workers."},
       PMX_SHARED_GAUGE_ONE},
  };
  for (size_t i = 0; i < sizeof gauges / sizeof gauges[0]; i++) {
    if ((rc = pmx_metric_define(a->reg, &gauges[i].def, gauges[i].out, &err)) != PMX_OK) return fail("define", rc, &err);
    if ((rc = pmx_shared_gauge_mode(*gauges[i].out, gauges[i].mode, &err)) != PMX_OK) return fail("mode", rc, &err);
  }
  if ((rc = pmx_span_events(a->bus, "http.server.request", &a->span)) != PMX_OK) return fail("span", rc, NULL);
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
  if (setup(&a) != 0) return 1;
  a.app_fd = listen_on(&app_port);
  a.metrics_fd = listen_on(&metrics_port);
  struct sigaction sa = {.sa_handler = on_stop};
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  pid_t pids[MAX_WORKERS];
  for (int i = 0; i < n; i++) pids[i] = spawn_worker(&a);
  pmx_series_t *workers;
  pmx_metric_labels(a.workers, NULL, 0, &workers);
  pmx_series_set(workers, n);
  printf("app at http://127.0.0.1:%d/\nmetrics at http://127.0.0.1:%d/metrics\n", app_port, metrics_port);
  fflush(stdout);

  while (!stopping) {
    struct pollfd p = {.fd = a.metrics_fd, .events = POLLIN};
    if (poll(&p, 1, 100) > 0) serve_metrics(&a);
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
  pmx_registry_destroy(a.reg); /* before the bus: it detaches the metrics */
  pmx_bus_destroy(a.bus);
  close(a.app_fd);
  close(a.metrics_fd);
  return 0;
}
