/* The demo's outbound HTTP workload: libcurl calls through the http_client adapter,
 * so that the http_client dashboard has data without any external server. */
#ifndef DEMO_HTTP_CLIENT_H
#define DEMO_HTTP_CLIENT_H

#include <stdatomic.h>
#include <pthread.h>

#include "promex/promex.h"

typedef struct demo_http_client {
  pmx_t *p;
  atomic_bool stop;
  pthread_t thread;
  bool running;
} demo_http_client_t;

/* Starts a thread that calls the demo's own metrics server (200), a path it does not serve
 * (404) and a closed loopback port (connection refused), a few times a second. Does nothing when
 * the metrics server is off. Returns 0, or -1 (the demo goes on without it). */
int demo_http_client_start(demo_http_client_t *c, pmx_t *p);
void demo_http_client_stop(demo_http_client_t *c);

#endif
