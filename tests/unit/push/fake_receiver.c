#include "fake_receiver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static void serve(fake_rx_t *rx, int c) {
  char buf[1 << 16];
  size_t len = 0;
  char *end = NULL;
  while (!end && len < sizeof buf - 1) {
    ssize_t r = recv(c, buf + len, sizeof buf - 1 - len, 0);
    if (r <= 0) return;
    len += (size_t)r;
    buf[len] = '\0';
    end = strstr(buf, "\r\n\r\n");
  }
  if (!end) return;
  size_t hlen = (size_t)(end - buf) + 4;
  size_t clen = 0;
  for (char *h = buf; h < end; h = strstr(h, "\r\n") + 2)
    if (strncasecmp(h, "Content-Length:", 15) == 0) clen = strtoul(h + 15, NULL, 10);
  char *body = malloc(clen + 1);
  size_t have = len - hlen < clen ? len - hlen : clen;
  memcpy(body, buf + hlen, have);
  while (have < clen) {
    ssize_t r = recv(c, body + have, clen - have, 0);
    if (r <= 0) break;
    have += (size_t)r;
  }
  pthread_mutex_lock(&rx->mu);
  size_t i = (size_t)rx->requests < rx->nstatuses ? (size_t)rx->requests : rx->nstatuses - 1;
  int status = rx->statuses[i];
  rx->requests++;
  size_t copy = hlen < sizeof rx->head - 1 ? hlen : sizeof rx->head - 1;
  memcpy(rx->head, buf, copy);
  rx->head[copy] = '\0';
  free(rx->body);
  rx->body = body;
  rx->body_len = have;
  int silent = rx->silent_ms;
  pthread_mutex_unlock(&rx->mu);
  if (silent > 0) usleep((useconds_t)silent * 1000);
  char resp[256];
  const char *msg = "fake receiver says no";
  int n = snprintf(resp, sizeof resp,
                   "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s", status,
                   strlen(msg), msg);
  (void)!write(c, resp, (size_t)n);
}

static void *run(void *arg) {
  fake_rx_t *rx = arg;
  while (!rx->stop) {
    struct pollfd p = {rx->fd, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    int c = accept(rx->fd, NULL, NULL);
    if (c < 0) continue;
    serve(rx, c);
    close(c);
  }
  return NULL;
}

void fake_rx_start(fake_rx_t *rx, const int *statuses, size_t n) {
  memset(rx, 0, sizeof *rx);
  memcpy(rx->statuses, statuses, n * sizeof *statuses);
  rx->nstatuses = n;
  pthread_mutex_init(&rx->mu, NULL);
  rx->fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  bind(rx->fd, (struct sockaddr *)&a, sizeof a);
  socklen_t al = sizeof a;
  getsockname(rx->fd, (struct sockaddr *)&a, &al);
  rx->port = ntohs(a.sin_port);
  listen(rx->fd, 16);
  pthread_create(&rx->thread, NULL, run, rx);
}

void fake_rx_stop(fake_rx_t *rx) {
  rx->stop = true;
  pthread_join(rx->thread, NULL);
  close(rx->fd);
  free(rx->body);
  pthread_mutex_destroy(&rx->mu);
}

int fake_rx_requests(fake_rx_t *rx) {
  pthread_mutex_lock(&rx->mu);
  int n = rx->requests;
  pthread_mutex_unlock(&rx->mu);
  return n;
}
