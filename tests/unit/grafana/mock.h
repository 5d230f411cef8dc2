/* Test helper: starts tests/unit/grafana/mock_grafana.py (a stand-in for Grafana, which is not
 * packaged for Debian 12) on loopback with posix_spawn, reads its port, talks to its /__ control
 * endpoints, and kills it. Header-only so each test program includes it once. */
#ifndef PMX_TEST_GRAFANA_MOCK_H
#define PMX_TEST_GRAFANA_MOCK_H

#include <curl/curl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

typedef struct mock {
  pid_t pid;
  int port;
  char url[64];
} mock_t;

/* Starts the mock with extra arguments (NULL-terminated list, may be NULL). Returns 0 or -1. */
static int mock_start(mock_t *m, const char *const *extra) {
  memset(m, 0, sizeof *m);
  int fds[2];
  if (pipe(fds) != 0) return -1;
  const char *argv[16] = {"python3", PMX_SOURCE_DIR "/tests/unit/grafana/mock_grafana.py"};
  int n = 2;
  for (int i = 0; extra && extra[i] && n < 15; i++) argv[n++] = extra[i];
  argv[n] = NULL;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_addclose(&fa, fds[0]);
  int rc = posix_spawnp(&m->pid, "python3", &fa, NULL, (char *const *)argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    return -1;
  }
  char line[32] = {0};
  size_t len = 0;
  while (len < sizeof line - 1) {
    ssize_t r = read(fds[0], line + len, 1);
    if (r <= 0 || line[len] == '\n') break;
    len++;
  }
  close(fds[0]);
  m->port = atoi(line);
  if (m->port <= 0) return -1;
  snprintf(m->url, sizeof m->url, "http://127.0.0.1:%d", m->port);
  return 0;
}

static void mock_stop(mock_t *m) {
  if (m->pid > 0) {
    kill(m->pid, SIGTERM);
    waitpid(m->pid, NULL, 0);
    m->pid = 0;
  }
}

static size_t mock__collect(char *p, size_t s, size_t n, void *ud) {
  FILE *f = ud;
  return fwrite(p, s, n, f);
}

/* Calls a control endpoint ("POST", "/__slow?ms=100") and returns its JSON (caller decrefs). */
static json_t *mock_call(const mock_t *m, const char *method, const char *path) {
  char url[256];
  snprintf(url, sizeof url, "%s%s", m->url, path);
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  CURL *c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, mock__collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  CURLcode cc = curl_easy_perform(c);
  curl_easy_cleanup(c);
  fclose(f);
  json_t *j = cc == CURLE_OK ? json_loadb(buf, len, 0, NULL) : NULL;
  free(buf);
  return j;
}

/* A loopback port with nothing listening (bound, then closed). */
static int mock_dead_port(void) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t l = sizeof a;
  bind(s, (struct sockaddr *)&a, sizeof a);
  getsockname(s, (struct sockaddr *)&a, &l);
  close(s);
  return ntohs(a.sin_port);
}

static long mock_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

#endif
