/* Per-connection limits the standalone server enforces itself, beside libmicrohttpd's own:
 *
 * - The header deadline. libmicrohttpd's MHD_OPTION_CONNECTION_TIMEOUT is an idle timeout: every
 *   byte restarts it, so a client sending one byte a second holds its connection for ever, and a
 *   few dozen such clients hold every slot. Here each connection gets a deadline when it is
 *   accepted (and again when a response on a kept-alive connection is complete); if the access
 *   handler has not seen the whole request header by then, a watchdog thread answers 408 (plain
 *   HTTP only: a TLS stream is not ours to write) and shuts the socket down, which libmicrohttpd
 *   sees as the client closing. No amount of trickling moves the deadline. The deadline covers the
 *   TLS handshake too.
 * - Requests per connection: the response to the last allowed request carries Connection: close,
 *   so one client cannot keep a slot for ever by always having a next request ready.
 *
 * libmicrohttpd tells us about connections through MHD_OPTION_NOTIFY_CONNECTION (opened/closed,
 * with a per-connection socket_context that holds our record) and about finished requests through
 * MHD_OPTION_NOTIFY_COMPLETED. Records sit in one list under one mutex: the watchdog only calls
 * shutdown()/send() on a descriptor while holding the mutex, and libmicrohttpd notifies "closed"
 * (which removes the record under the same mutex) before it closes the descriptor, so the
 * watchdog never touches a descriptor that may have been reused. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "internal.h"
#include "server/server_internal.h"

/* How often the watchdog looks at least, when no deadline is nearer. */
#define WATCH_TICK_NS 250000000L

struct pmx__conn {
  int fd;
  struct timespec deadline; /* for the current request header */
  bool in_request;          /* the header is complete; the deadline does not apply */
  bool expired;             /* the watchdog closed it: never answer on it */
  unsigned requests;        /* requests begun on this connection */
  size_t target_len;        /* strlen of the current raw request-target (server.c) */
  pmx__conn_t *prev, *next;
};

struct pmx__guard {
  pthread_mutex_t mu;
  pthread_cond_t wake;
  pthread_t thread;
  bool stop;
  bool tls;
  unsigned header_timeout_s;
  unsigned max_requests;
  pmx__conn_t *head;
};

/* The body is 36 bytes; the unit test checks Content-Length against what arrives. */
static const char REQUEST_TIMEOUT[] =
    "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Type: text/plain; "
    "charset=utf-8\r\nContent-Length: 36\r\n\r\nrequest header not complete in time\n";

static struct timespec deadline_after(unsigned s) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  t.tv_sec += (time_t)s;
  return t;
}

static bool before(const struct timespec *a, const struct timespec *b) {
  return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* Called with the mutex held. */
static void expire(pmx__guard_t *g, pmx__conn_t *c) {
  c->expired = true;
  if (!g->tls) {
    /* Best effort and never blocking: the client is slow by definition. The text above is
     * shorter than any socket buffer, so it either goes whole or not at all in practice. */
    ssize_t n = send(c->fd, REQUEST_TIMEOUT, sizeof REQUEST_TIMEOUT - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)n;
  }
  (void)shutdown(c->fd, SHUT_RDWR);
}

static void *watchdog(void *arg) {
  pmx__guard_t *g = arg;
  pthread_mutex_lock(&g->mu);
  while (!g->stop) {
    struct timespec now, next;
    clock_gettime(CLOCK_MONOTONIC, &now);
    next = now;
    next.tv_nsec += WATCH_TICK_NS;
    if (next.tv_nsec >= 1000000000L) {
      next.tv_sec++;
      next.tv_nsec -= 1000000000L;
    }
    for (pmx__conn_t *c = g->head; c != NULL; c = c->next) {
      if (c->in_request || c->expired) continue;
      if (!before(&now, &c->deadline))
        expire(g, c);
      else if (before(&c->deadline, &next))
        next = c->deadline;
    }
    (void)pthread_cond_timedwait(&g->wake, &g->mu, &next);
  }
  pthread_mutex_unlock(&g->mu);
  return NULL;
}

int pmx__guard_start(unsigned header_timeout_s, unsigned max_requests, bool tls,
                     pmx__guard_t **out) {
  pmx__guard_t *g = pmx__calloc(1, sizeof *g);
  if (g == NULL) return ENOMEM;
  g->header_timeout_s = header_timeout_s;
  g->max_requests = max_requests;
  g->tls = tls;
  pthread_condattr_t ca;
  int e = pthread_condattr_init(&ca);
  if (e == 0) {
    e = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (e == 0) e = pthread_cond_init(&g->wake, &ca);
    pthread_condattr_destroy(&ca);
  }
  if (e != 0) {
    pmx__free(g);
    return e;
  }
  e = pthread_mutex_init(&g->mu, NULL);
  if (e == 0) {
    e = pthread_create(&g->thread, NULL, watchdog, g);
    if (e != 0) pthread_mutex_destroy(&g->mu);
  }
  if (e != 0) {
    pthread_cond_destroy(&g->wake);
    pmx__free(g);
    return e;
  }
  *out = g;
  return 0;
}

void pmx__guard_stop(pmx__guard_t *g) {
  if (g == NULL) return;
  pthread_mutex_lock(&g->mu);
  g->stop = true;
  pthread_cond_signal(&g->wake);
  pthread_mutex_unlock(&g->mu);
  pthread_join(g->thread, NULL);
  /* libmicrohttpd has closed every connection (and told us) before this is called. */
  while (g->head != NULL) {
    pmx__conn_t *c = g->head;
    g->head = c->next;
    pmx__free(c);
  }
  pthread_cond_destroy(&g->wake);
  pthread_mutex_destroy(&g->mu);
  pmx__free(g);
}

pmx__conn_t *pmx__guard_open(pmx__guard_t *g, int fd) {
  pmx__conn_t *c = pmx__calloc(1, sizeof *c);
  if (c == NULL) {
    /* Untracked, the connection would have no header deadline: refuse it instead. */
    (void)shutdown(fd, SHUT_RDWR);
    return NULL;
  }
  c->fd = fd;
  c->deadline = deadline_after(g->header_timeout_s);
  pthread_mutex_lock(&g->mu);
  c->next = g->head;
  if (g->head) g->head->prev = c;
  g->head = c;
  pthread_mutex_unlock(&g->mu);
  return c;
}

void pmx__guard_close(pmx__guard_t *g, pmx__conn_t *c) {
  if (c == NULL) return;
  pthread_mutex_lock(&g->mu);
  if (c->prev)
    c->prev->next = c->next;
  else
    g->head = c->next;
  if (c->next) c->next->prev = c->prev;
  pthread_mutex_unlock(&g->mu);
  pmx__free(c);
}

bool pmx__guard_begin(pmx__guard_t *g, pmx__conn_t *c, bool *last) {
  *last = true; /* an untracked connection serves one request */
  if (c == NULL) return true;
  pthread_mutex_lock(&g->mu);
  bool ok = !c->expired;
  if (ok && !c->in_request) {
    c->in_request = true;
    c->requests++;
  }
  *last = c->requests >= g->max_requests;
  pthread_mutex_unlock(&g->mu);
  return ok;
}

void pmx__guard_end(pmx__guard_t *g, pmx__conn_t *c) {
  if (c == NULL) return;
  pthread_mutex_lock(&g->mu);
  if (c->in_request) {
    c->in_request = false;
    c->deadline = deadline_after(g->header_timeout_s);
  }
  pthread_mutex_unlock(&g->mu);
}

void pmx__guard_set_target_len(pmx__conn_t *c, size_t len) {
  if (c != NULL) c->target_len = len;
}

size_t pmx__guard_target_len(const pmx__conn_t *c) { return c ? c->target_len : SIZE_MAX; }
