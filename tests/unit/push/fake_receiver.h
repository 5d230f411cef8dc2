/* A one-thread HTTP/1.1 server on 127.0.0.1 for push unit tests: answers each request with the
 * next status of a script (the last one repeats), records the last request's headers and body. */
#ifndef PMX_TEST_FAKE_RECEIVER_H
#define PMX_TEST_FAKE_RECEIVER_H
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stddef.h>

typedef struct fake_rx {
  int fd;
  unsigned short port;
  pthread_t thread;
  pthread_mutex_t mu;
  int statuses[16];
  size_t nstatuses;
  int silent_ms;     /* > 0: read the request, then wait this long before answering */
  int requests;      /* guarded by mu */
  char head[8192];   /* last request line + headers, guarded by mu */
  char *body;        /* last body, guarded by mu */
  size_t body_len;
  atomic_bool stop;
} fake_rx_t;

void fake_rx_start(fake_rx_t *rx, const int *statuses, size_t n);
void fake_rx_stop(fake_rx_t *rx);
int fake_rx_requests(fake_rx_t *rx);
#endif
