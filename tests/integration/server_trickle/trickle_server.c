/* The metrics server under a slow-client attack, for the Prometheus test (run.sh): serves 50
 * gauges trickle_series{i="k"} = 3k on 127.0.0.1 (port 0: a free one, printed on stdout) with a
 * 1 s header deadline and 8 connection slots, while 8 threads, each from its own loopback address
 * 127.0.0.2..9, hold every slot by sending one header byte every 100 ms and reconnecting at once
 * whenever the server cuts them. Runs until SIGTERM/SIGINT, then prints "cut <n>" (connections
 * the server closed on the tricklers) on stderr. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "promex/server.h"

#define SERIES 50
#define TRICKLERS 8

static volatile sig_atomic_t g_stop;
static atomic_uint g_cut;
static uint16_t g_port;

static void on_signal(int sig) {
  (void)sig;
  g_stop = 1;
}

static int append(pmx_buf_t *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = (b->len + n + 1) * 2;
    char *d = realloc(b->data, cap);
    if (d == NULL) return PMX_ENOMEM;
    b->data = d;
    b->cap = cap;
  }
  memcpy(b->data + b->len, s, n);
  b->len += n;
  return PMX_OK;
}

static int scrape(void *ctx, pmx_format_t fmt, pmx_buf_t *out) {
  (void)ctx;
  char line[128];
  int n = snprintf(line, sizeof line, "# TYPE trickle_series gauge\n");
  if (append(out, line, (size_t)n) != PMX_OK) return PMX_ENOMEM;
  for (int i = 0; i < SERIES; i++) {
    n = snprintf(line, sizeof line, "trickle_series{i=\"%d\"} %d\n", i, 3 * i);
    if (append(out, line, (size_t)n) != PMX_OK) return PMX_ENOMEM;
  }
  if (fmt == PMX_FORMAT_OPENMETRICS && append(out, "# EOF\n", 6) != PMX_OK) return PMX_ENOMEM;
  return PMX_OK;
}

static void *trickle(void *arg) {
  const char *src = arg;
  while (!g_stop) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, src, &a.sin_addr);
    struct sockaddr_in d = {.sin_family = AF_INET, .sin_port = htons(g_port)};
    d.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        connect(fd, (struct sockaddr *)&d, sizeof d) != 0) {
      if (fd >= 0) close(fd);
      usleep(10000);
      continue;
    }
    const char *part = "GET /metrics HTTP/1.1\r\nHost: x\r\n";
    int alive = send(fd, part, strlen(part), MSG_NOSIGNAL) > 0;
    while (alive && !g_stop) {
      struct pollfd p = {.fd = fd, .events = POLLIN};
      if (poll(&p, 1, 100) == 1) {
        char buf[256];
        if (recv(fd, buf, sizeof buf, 0) <= 0) alive = 0;
        continue;
      }
      alive = send(fd, "X", 1, MSG_NOSIGNAL) == 1;
    }
    if (!alive) atomic_fetch_add(&g_cut, 1);
    close(fd);
  }
  return NULL;
}

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  pmx_server_config_t cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.enabled = true;
  cfg.bind_address = "127.0.0.1";
  cfg.pool_size = 2;
  cfg.max_connections = TRICKLERS;
  cfg.header_timeout_s = 1;
  pmx_server_t *srv;
  pmx_error_t err = {0};
  if (pmx_server_start(&cfg, scrape, NULL, &srv, &err) != PMX_OK) {
    fprintf(stderr, "pmx_server_start: %s\n", err.text);
    return 1;
  }
  g_port = pmx_server_port(srv);
  printf("%u\n", (unsigned)g_port);
  fflush(stdout);
  static char addrs[TRICKLERS][16];
  pthread_t th[TRICKLERS];
  for (int i = 0; i < TRICKLERS; i++) {
    snprintf(addrs[i], sizeof addrs[i], "127.0.0.%d", i + 2);
    pthread_create(&th[i], NULL, trickle, addrs[i]);
  }
  while (!g_stop) pause();
  for (int i = 0; i < TRICKLERS; i++) pthread_join(th[i], NULL);
  pmx_server_stop(srv);
  fprintf(stderr, "cut %u\n", atomic_load(&g_cut));
  return 0;
}
