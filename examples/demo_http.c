/* The demo's HTTP API, instrumented with one call: the libmicrohttpd daemon is started with the
 * adapter's access handler and completion option (promex/http_mhd.h) instead of its own handler.
 *
 *   GET  /api/items          200, a short list
 *   GET  /api/items/:id      200 (id 1..100), 404 otherwise
 *   POST /api/items          201 (reads the body)
 *   GET  /api/slow           200 after 5..80 ms
 *   GET  /api/fail           500
 *   GET  /healthz            200 (additional route "health")
 *   anything else            404 (reported with the route "unmatched")
 *
 * A load thread calls it about 25 times a second over loopback (plain sockets, one request per
 * connection), including unknown paths and, now and then, an upload it abandons half-way (an
 * exception of kind client_abort). Another thread emits the plugin's WebSocket events as a
 * socket server without an adapter would. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "demo_http.h"
#include "promex/http_mhd.h"

const pmx_kv_t demo_http_plugin_opts[] = {
    {"routes", "/api/items/:id,/api/items,/api/slow,/api/fail"},
    {"additional_routes", "health=/healthz"}};
const size_t demo_http_plugin_n_opts = 2;

struct demo_http {
  pmx_t *p;
  pmx_http_mhd_t *ins;
  struct MHD_Daemon *daemon;
  uint16_t port;
  atomic_bool stop;
  pthread_t load, sockets;
  bool load_started, sockets_started;
};

static void nap_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *body) {
  size_t n = strlen(body);
  struct MHD_Response *r =
      MHD_create_response_from_buffer(n, (void *)(uintptr_t)body, MHD_RESPMEM_PERSISTENT);
  if (r == NULL) return MHD_NO;
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
  enum MHD_Result rc = pmx_http_mhd_queue_response(c, status, r, n);
  MHD_destroy_response(r);
  return rc;
}

static enum MHD_Result api(void *cls, struct MHD_Connection *c, const char *url,
                           const char *method, const char *version, const char *upload,
                           size_t *upload_size, void **req_cls) {
  (void)cls;
  (void)version;
  (void)upload;
  static int seen_headers;
  if (*req_cls == NULL) { /* first call: headers only; the body (if any) follows */
    *req_cls = &seen_headers;
    return MHD_YES;
  }
  if (*upload_size > 0) { /* consume the body */
    *upload_size = 0;
    return MHD_YES;
  }
  bool get = strcmp(method, "GET") == 0;
  if (strcmp(url, "/api/items") == 0) {
    if (strcmp(method, "POST") == 0) return reply(c, 201, "{\"id\": 101}\n");
    return reply(c, 200, "[{\"id\": 1}, {\"id\": 2}, {\"id\": 3}]\n");
  }
  if (strncmp(url, "/api/items/", 11) == 0 && get) {
    int id = atoi(url + 11);
    return id >= 1 && id <= 100 ? reply(c, 200, "{\"id\": 7, \"name\": \"widget\"}\n")
                                : reply(c, 404, "{\"error\": \"no such item\"}\n");
  }
  if (strcmp(url, "/api/slow") == 0) {
    nap_ms(5 + (long)(((uintptr_t)c >> 4) % 76));
    return reply(c, 200, "{\"slow\": true}\n");
  }
  if (strcmp(url, "/api/fail") == 0) return reply(c, 500, "{\"error\": \"internal\"}\n");
  if (strcmp(url, "/healthz") == 0) return reply(c, 200, "ok\n");
  return reply(c, 404, "{\"error\": \"not found\"}\n");
}

/* One request over a fresh connection; `abandon` sends half a body and resets the connection. */
static void call(uint16_t port, const char *method, const char *path, size_t body, bool abandon) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return;
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  struct timeval tv = {2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    close(fd);
    return;
  }
  char req[512];
  int n = snprintf(req, sizeof req,
                   "%s %s HTTP/1.1\r\nHost: demo\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n",
                   method, path, body);
  ssize_t w = send(fd, req, (size_t)n, MSG_NOSIGNAL);
  static const char pad[4096];
  size_t send_body = abandon ? body / 2 : body;
  while (w > 0 && send_body > 0) {
    size_t chunk = send_body < sizeof pad ? send_body : sizeof pad;
    w = send(fd, pad, chunk, MSG_NOSIGNAL);
    send_body -= chunk;
  }
  if (abandon) {
    nap_ms(50);
    struct linger lg = {1, 0}; /* close with RST: the client is gone */
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  } else {
    char buf[1024];
    while (recv(fd, buf, sizeof buf, 0) > 0) {
    }
  }
  close(fd);
}

static void *load(void *arg) {
  demo_http_t *h = arg;
  unsigned seed = (unsigned)time(NULL);
  char path[64];
  for (unsigned i = 0; !atomic_load(&h->stop); i++) {
    unsigned r = (unsigned)rand_r(&seed) % 100;
    if (r < 35) {
      snprintf(path, sizeof path, "/api/items/%u", 1 + (unsigned)rand_r(&seed) % 120);
      call(h->port, "GET", path, 0, false);
    } else if (r < 55) {
      call(h->port, "GET", "/api/items", 0, false);
    } else if (r < 65) {
      call(h->port, "POST", "/api/items", 200 + (unsigned)rand_r(&seed) % 3000, false);
    } else if (r < 80) {
      call(h->port, "GET", "/api/slow", 0, false);
    } else if (r < 85) {
      call(h->port, "GET", "/api/fail", 0, false);
    } else if (r < 92) {
      call(h->port, "GET", "/healthz", 0, false);
    } else {
      snprintf(path, sizeof path, "/wp-admin/%u.php?x=../../etc/passwd", (unsigned)rand_r(&seed));
      call(h->port, "GET", path, 0, false);
    }
    if (i % 50 == 7) call(h->port, "POST", "/api/items", 100000, true);
    nap_ms(40);
  }
  return NULL;
}

/* WebSocket traffic as a socket server without an adapter would report it. */
static void *sockets(void *arg) {
  demo_http_t *h = arg;
  pmx_bus_t *bus = pmx_bus(h->p);
  static const char *const handlers[] = {"chat", "presence"};
  static const char *const events[] = {"message", "typing"};
  unsigned seed = (unsigned)time(NULL) ^ 0x5a5a5a5au;
  for (unsigned i = 0; !atomic_load(&h->stop); i++) {
    const char *result = i % 10 == 9 ? "error" : "ok";
    pmx_meta_t conn[] = {PMX_META_S("endpoint", "api"), PMX_META_S("transport", "websocket"),
                         PMX_META_S("result", result)};
    pmx_measurement_t d = PMX_M("duration", 1e6 * (1 + rand_r(&seed) % 20));
    pmx_emit_name(bus, "http.server.socket.connected", &d, 1, conn, 3);
    pmx_emit_name(bus, "http.server.channel.joined", NULL, 0, conn, 3);
    for (int k = 0; k < 3; k++) {
      pmx_meta_t msg[] = {PMX_META_S("endpoint", "api"), PMX_META_S("handler", handlers[k % 2]),
                          PMX_META_S("event", events[(i + (unsigned)k) % 2])};
      pmx_measurement_t md = PMX_M("duration", 1e5 * (1 + rand_r(&seed) % 300));
      pmx_emit_name(bus, "http.server.channel.handled_in", &md, 1, msg, 3);
    }
    nap_ms(200);
  }
  return NULL;
}

int demo_http_start(pmx_t *p, const char *bind, demo_http_t **out) {
  *out = NULL;
  demo_http_t *h = calloc(1, sizeof *h);
  if (h == NULL) return -1;
  h->p = p;
  pmx_error_t err;
  pmx_http_mhd_config_t hc = {.bus = pmx_bus(p), .handler = api, .host = "api", .endpoint = "api"};
  if (pmx_http_mhd_new(&hc, &h->ins, &err) != PMX_OK) {
    fprintf(stderr, "demo: http adapter: %s\n", err.text);
    free(h);
    return -1;
  }
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
  if (inet_pton(AF_INET, bind, &sa.sin_addr) != 1) sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  h->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL,
                               pmx_http_mhd_access, h->ins, MHD_OPTION_SOCK_ADDR, &sa,
                               MHD_OPTION_THREAD_POOL_SIZE, 2u, MHD_OPTION_CONNECTION_TIMEOUT, 5u,
                               MHD_OPTION_ARRAY, pmx_http_mhd_options(h->ins), MHD_OPTION_END);
  if (h->daemon == NULL) {
    fprintf(stderr, "demo: cannot start the HTTP API\n");
    demo_http_stop(h);
    return -1;
  }
  const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
  h->port = di != NULL ? di->port : 0;
  pmx_http_mhd_announce(h->ins, h->daemon, bind);
  h->load_started = pthread_create(&h->load, NULL, load, h) == 0;
  h->sockets_started = pthread_create(&h->sockets, NULL, sockets, h) == 0;
  *out = h;
  return 0;
}

uint16_t demo_http_port(const demo_http_t *h) { return h != NULL ? h->port : 0; }

void demo_http_stop(demo_http_t *h) {
  if (h == NULL) return;
  atomic_store(&h->stop, true);
  if (h->load_started) pthread_join(h->load, NULL);
  if (h->sockets_started) pthread_join(h->sockets, NULL);
  if (h->daemon != NULL) MHD_stop_daemon(h->daemon);
  pmx_http_mhd_free(h->ins);
  free(h);
}
