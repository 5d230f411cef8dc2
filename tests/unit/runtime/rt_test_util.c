/* Helpers shared by the runtime tests (see rt_test_util.h). */
#include "rt_test_util.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

void rt_log_sink(void *ctx, pmx_log_level_t level, const char *msg) {
  rt_log_t *log = ctx;
  pthread_mutex_lock(&log_mu);
  log->n++;
  if (level >= PMX_LOG_WARN) log->n_warn++;
  snprintf(log->last, sizeof log->last, "%s", msg);
  size_t len = strlen(log->all);
  if (len + strlen(msg) + 2 < sizeof log->all) {
    memcpy(log->all + len, msg, strlen(msg));
    log->all[len + strlen(msg)] = '\n';
    log->all[len + strlen(msg) + 1] = '\0';
  }
  pthread_mutex_unlock(&log_mu);
}

int rt_log_count(rt_log_t *log, const char *needle) {
  pthread_mutex_lock(&log_mu);
  int n = 0;
  for (const char *s = log->all; (s = strstr(s, needle)) != NULL; s += strlen(needle)) n++;
  pthread_mutex_unlock(&log_mu);
  return n;
}

void rt_config(pmx_config_t *cfg, const pmx_plugin_use_t *uses, size_t n, rt_log_t *log) {
  pmx_config_defaults(cfg);
  cfg->app = "t";
  cfg->plugins = uses;
  cfg->n_plugins = n;
  if (log != NULL) {
    memset(log, 0, sizeof *log);
    cfg->log = rt_log_sink;
    cfg->log_ctx = log;
    cfg->log_level = PMX_LOG_DEBUG;
  }
}

double rt_value(pmx_t *p, const char *series) {
  pmx_buf_t b = {0};
  double v = NAN;
  if (pmx_get_metrics(p, PMX_FORMAT_TEXT, &b) == PMX_OK && b.data != NULL) {
    size_t n = strlen(series);
    const char *line = b.data;
    const char *end = b.data + b.len;
    while (line < end) {
      const char *nl = memchr(line, '\n', (size_t)(end - line));
      if (nl == NULL) nl = end;
      if ((size_t)(nl - line) > n && strncmp(line, series, n) == 0 && line[n] == ' ') {
        v = strtod(line + n + 1, NULL);
        break;
      }
      line = nl + 1;
    }
  }
  pmx_buf_free(&b);
  return v;
}

bool rt_contains(pmx_t *p, const char *needle) {
  pmx_buf_t b = {0};
  bool found = false;
  if (pmx_get_metrics(p, PMX_FORMAT_TEXT, &b) == PMX_OK && b.data != NULL) {
    char *s = malloc(b.len + 1);
    if (s != NULL) {
      memcpy(s, b.data, b.len);
      s[b.len] = '\0';
      found = strstr(s, needle) != NULL;
      free(s);
    }
  }
  pmx_buf_free(&b);
  return found;
}

static int connect_to(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

uint16_t rt_free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  uint16_t port = 0;
  if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
      getsockname(fd, (struct sockaddr *)&a, &len) == 0)
    port = ntohs(a.sin_port);
  if (fd >= 0) close(fd);
  return port;
}

bool rt_port_open(uint16_t port) {
  int fd = connect_to(port);
  if (fd < 0) return false;
  close(fd);
  return true;
}

int rt_http_get(uint16_t port, const char *path, char *body, size_t cap) {
  int fd = connect_to(port);
  if (fd < 0) return -1;
  char req[512];
  int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
                   path);
  if (write(fd, req, (size_t)n) != n) {
    close(fd);
    return -1;
  }
  size_t len = 0, rcap = 1 << 16;
  char *resp = malloc(rcap + 1);
  ssize_t r;
  while (resp != NULL && len < rcap && (r = read(fd, resp + len, rcap - len)) > 0) len += (size_t)r;
  close(fd);
  if (resp == NULL) return -1;
  resp[len] = '\0';
  int status = -1;
  if (sscanf(resp, "HTTP/1.%*d %d", &status) != 1) status = -1;
  const char *b = strstr(resp, "\r\n\r\n");
  if (body != NULL && cap > 0) snprintf(body, cap, "%s", b != NULL ? b + 4 : "");
  free(resp);
  return status;
}

void rt_sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}
