/* The metrics server's limits, driven over raw loopback sockets (libcurl would normalise the very
 * requests these tests need): the request-target rules, oversized request lines and headers,
 * keep-alive and pipelining, requests per connection, and the header deadline against trickling
 * clients from many addresses.
 *
 * The scrape callback numbers its scrapes, so pipelined answers can be checked for order. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal.h"
#include "promex/server.h"
#include "server/server_internal.h"

/* ---- The fake scrape: "scrape <n>\n" ---- */

static atomic_uint g_scrapes;

static int fake_scrape(void *ctx, pmx_format_t fmt, pmx_buf_t *out) {
  (void)ctx;
  (void)fmt;
  unsigned n = atomic_fetch_add(&g_scrapes, 1) + 1;
  return pmx__buf_appendf(out, "scrape %u\n", n);
}

/* ---- Server fixture ---- */

static pmx_server_t *g_srv;
static uint16_t g_port;

static void start_with(unsigned header_timeout_s, unsigned max_connections, unsigned pool) {
  pmx_server_config_t cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.enabled = true;
  cfg.bind_address = "127.0.0.1";
  cfg.pool_size = pool;
  cfg.max_connections = max_connections;
  cfg.header_timeout_s = header_timeout_s;
  pmx_error_t err = {0};
  int rc = pmx_server_start(&cfg, fake_scrape, NULL, &g_srv, &err);
  if (rc != PMX_OK) fail_msg("pmx_server_start: %s: %s", pmx_err_name(rc), err.text);
  g_port = pmx_server_port(g_srv);
}

static int teardown(void **state) {
  (void)state;
  pmx_server_stop(g_srv);
  g_srv = NULL;
  return 0;
}

/* Upper time bounds widen under valgrind (scripts/valgrind-unit.sh sets PMX_UNDER_VALGRIND). */
static double slack(void) { return getenv("PMX_UNDER_VALGRIND") ? 5.0 : 1.0; }

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- Raw HTTP client ---- */

/* A connection from `src` (a 127.0.0.x address, so tests can look like many clients), or -1. */
static int connect_from(const char *src) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  struct sockaddr_in a = {.sin_family = AF_INET};
  inet_pton(AF_INET, src, &a.sin_addr);
  struct sockaddr_in d = {.sin_family = AF_INET, .sin_port = htons(g_port)};
  d.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
      connect(fd, (struct sockaddr *)&d, sizeof d) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static void send_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w <= 0) fail_msg("send: %s", strerror(errno));
    p += w;
    n -= (size_t)w;
  }
}

/* Reads until the peer closes or `timeout_s` passes; returns what arrived (NUL-terminated,
 * caller frees) and sets *closed when the peer closed. */
static char *read_all(int fd, double timeout_s, size_t *len, bool *closed) {
  pmx_buf_t b = {0};
  double end = now_s() + timeout_s;
  *closed = false;
  for (;;) {
    int ms = (int)((end - now_s()) * 1000);
    if (ms <= 0) break;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, ms) <= 0) break;
    char chunk[65536];
    ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) {
      *closed = true;
      break;
    }
    pmx__buf_append(&b, chunk, (size_t)n);
  }
  pmx__buf_append(&b, "", 1);
  *len = b.len - 1;
  return b.data;
}

typedef struct answer {
  int status;
  bool close;      /* Connection: close */
  char body[64];   /* first bytes of the body */
  size_t body_len; /* Content-Length */
} answer_t;

/* Splits a byte stream of responses. `head[i]` says whether request i was HEAD (no body). Returns
 * how many complete responses were found. */
static size_t parse_answers(const char *s, size_t len, const bool *head, answer_t *out, size_t max) {
  size_t n = 0;
  const char *p = s, *end = s + len;
  while (n < max && p < end) {
    const char *hdr_end = strstr(p, "\r\n\r\n");
    if (hdr_end == NULL || strncmp(p, "HTTP/1.1 ", 9) != 0) break;
    answer_t *a = &out[n];
    memset(a, 0, sizeof *a);
    a->status = atoi(p + 9);
    for (const char *l = strstr(p, "\r\n") + 2; l < hdr_end; l = strstr(l, "\r\n") + 2) {
      if (strncasecmp(l, "Content-Length:", 15) == 0) a->body_len = strtoul(l + 15, NULL, 10);
      if (strncasecmp(l, "Connection: close", 17) == 0) a->close = true;
    }
    p = hdr_end + 4;
    size_t blen = (head && head[n]) ? 0 : a->body_len;
    if ((size_t)(end - p) < blen) break;
    size_t copy = blen < sizeof a->body - 1 ? blen : sizeof a->body - 1;
    memcpy(a->body, p, copy);
    a->body[copy] = '\0';
    p += blen;
    n++;
  }
  return n;
}

/* One request on a fresh connection; the status of the answer, 0 if none came within 3 s. Also
 * asserts that the answer and the close came at once (not after a timeout). */
static int status_of(const char *raw, size_t raw_len) {
  int fd = connect_from("127.0.0.1");
  assert_true(fd >= 0);
  double t0 = now_s();
  send_all(fd, raw, raw_len);
  size_t len;
  bool closed;
  char *got = read_all(fd, 3.0 * slack(), &len, &closed);
  close(fd);
  answer_t a;
  int st = parse_answers(got, len, NULL, &a, 1) == 1 ? a.status : 0;
  /* Each request asks for Connection: close, so the answer ends with the close, at once. */
  if (st != 0) assert_true(closed);
  assert_true(now_s() - t0 < 2.0 * slack());
  free(got);
  return st;
}

static int status_of_str(const char *raw) { return status_of(raw, strlen(raw)); }

/* ---- Request targets ---- */

static void test_target_check(void **state) {
  (void)state;
  static const struct {
    const char *target;
    pmx__target_t want;
  } cases[] = {
      {"/metrics", PMX__TARGET_MATCH},
      {"/metrics?x=1&y", PMX__TARGET_MATCH},
      {"/metrics?", PMX__TARGET_MATCH},
      {"/%6detrics", PMX__TARGET_MATCH},         /* an escaped unreserved byte is the same path */
      {"/metric%73", PMX__TARGET_MATCH},
      {"http://127.0.0.1:9/metrics", PMX__TARGET_MATCH}, /* absolute-form (RFC 9112 3.2.2) */
      {"HTTPS://h/metrics?q", PMX__TARGET_MATCH},
      {"/metrics%00foo", PMX__TARGET_BAD},        /* NUL: refused, not cut */
      {"/metrics%00", PMX__TARGET_BAD},
      {"/other%00", PMX__TARGET_BAD},
      {"/metrics%", PMX__TARGET_BAD},             /* truncated escape */
      {"/metrics%4", PMX__TARGET_BAD},
      {"/metrics%zz", PMX__TARGET_BAD},
      {"/metrics#frag", PMX__TARGET_BAD},         /* fragments are never sent */
      {"/met rics", PMX__TARGET_BAD},
      {"/metrics\t", PMX__TARGET_BAD},
      {"/metrics\x7f", PMX__TARGET_BAD},
      {"metrics", PMX__TARGET_BAD},
      {"*", PMX__TARGET_BAD},
      {"", PMX__TARGET_BAD},
      {"http://", PMX__TARGET_BAD},
      {"ftp://h/metrics", PMX__TARGET_BAD},
      {"/metrics/", PMX__TARGET_OTHER},
      {"//metrics", PMX__TARGET_OTHER},
      {"/metrics;x", PMX__TARGET_OTHER},
      {"/METRICS", PMX__TARGET_OTHER},           /* paths are case-sensitive */
      {"/metrics%2500", PMX__TARGET_OTHER},      /* decoded once: "/metrics%00", a literal */
      {"/metrics%2F", PMX__TARGET_OTHER},
      {"/metric", PMX__TARGET_OTHER},
      {"/metricsx", PMX__TARGET_OTHER},
      {"/", PMX__TARGET_OTHER},
      {"http://h", PMX__TARGET_OTHER},            /* empty path means "/" */
      {"/x%00/metrics", PMX__TARGET_BAD},         /* a NUL anywhere, even after a mismatch */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    pmx__target_t got = pmx__target_check(cases[i].target, "/metrics");
    if (got != cases[i].want)
      fail_msg("target \"%s\": got %d, want %d", cases[i].target, (int)got, (int)cases[i].want);
  }
  assert_int_equal(pmx__target_check("http://h", "/"), PMX__TARGET_MATCH);
  assert_int_equal(pmx__target_check("/a%2Fb", "/a/b"), PMX__TARGET_MATCH);
  assert_int_equal(pmx__target_check(NULL, "/metrics"), PMX__TARGET_BAD);
  assert_int_equal(pmx__target_check("/metrics", NULL), PMX__TARGET_BAD);
}

static void test_targets_over_http(void **state) {
  (void)state;
  start_with(0, 0, 2);
  static const struct {
    const char *target;
    int status;
  } cases[] = {
      {"/metrics", 200},   {"/metrics%00foo", 400}, {"/metrics%zz", 400}, {"/metrics/", 404},
      {"//metrics", 404},  {"/metrics;x", 404},     {"/METRICS", 404},    {"/metrics%2500", 404},
      {"/metrics?x", 200}, {"/%6detrics", 200},     {"http://h/metrics", 200},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char req[256];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
             cases[i].target);
    int st = status_of_str(req);
    if (st != cases[i].status) fail_msg("%s: got %d, want %d", cases[i].target, st, cases[i].status);
  }
  /* A raw NUL byte in the target (not %00) is refused too, wherever it sits, even followed by
   * something that looks like the HTTP version. */
#define RAW(lit) {lit, sizeof(lit) - 1}
  static const struct {
    const char *line;
    size_t len;
  } raw_nul[] = {RAW("GET /metrics\0foo HTTP/1.1\r\n"), RAW("GET /metrics\0 HTTP/1.1\r\n"),
                 RAW("GET /metrics\0HTTP/1.1\0 HTTP/1.1\r\n"), RAW("GET /metrics?a\0b HTTP/1.1\r\n")};
#undef RAW
  for (size_t i = 0; i < sizeof raw_nul / sizeof raw_nul[0]; i++) {
    pmx_buf_t b = {0};
    pmx__buf_append(&b, raw_nul[i].line, raw_nul[i].len);
    pmx__buf_appendf(&b, "Host: x\r\nConnection: close\r\n\r\n");
    int st = status_of(b.data, b.len);
    if (st != 400) fail_msg("raw NUL case %zu: got %d, want 400", i, st);
    pmx_buf_free(&b);
  }
}

/* ---- Oversized request lines and headers: an answer at once, never silence ---- */

/* "GET <target> HTTP/1.1\r\nHost: x\r\n<extra>\r\n" */
static int big_request(const char *target_head, size_t fill, char fill_c, const char *extra_head,
                       size_t extra_fill, char extra_c) {
  pmx_buf_t b = {0};
  pmx__buf_appendf(&b, "GET %s", target_head);
  for (size_t i = 0; i < fill; i++) pmx__buf_append(&b, &fill_c, 1);
  pmx__buf_appendf(&b, " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s", extra_head ? extra_head : "");
  for (size_t i = 0; i < extra_fill; i++) pmx__buf_append(&b, &extra_c, 1);
  pmx__buf_appendf(&b, "%s\r\n", extra_head ? "\r\n" : "");
  int st = status_of(b.data, b.len);
  pmx_buf_free(&b);
  return st;
}

static void test_oversized_requests(void **state) {
  (void)state;
  start_with(0, 0, 2);
  /* 250 and 2000 query arguments (1.6 KB and 15 KB URLs): once, no answer at all. */
  for (unsigned n = 250; n <= 2000; n = n == 250 ? 2000 : 4000) {
    pmx_buf_t t = {0};
    pmx__buf_appendf(&t, "/metrics?");
    for (unsigned i = 0; i < n; i++) pmx__buf_appendf(&t, "%sp%u=v", i ? "&" : "", i);
    assert_int_equal(big_request(t.data, 0, 0, NULL, 0, 0), 200);
    pmx_buf_free(&t);
  }
  assert_int_equal(big_request("/metrics?", 5000, '&', NULL, 0, 0), 200); /* an argument per byte */
  assert_int_equal(big_request("/metrics?a=", 12000, 'b', NULL, 0, 0), 200);
  /* Beyond the connection's memory: libmicrohttpd's own 414 / 431. */
  assert_int_equal(big_request("/metrics?", 40000, '&', NULL, 0, 0), 414);
  assert_int_equal(big_request("/", 40000, 'a', NULL, 0, 0), 414);
  assert_int_equal(big_request("/", 8000, 'a', NULL, 0, 0), 404);
  assert_int_equal(big_request("/metrics", 0, 0, "X-Long: ", 12000, 'v'), 200);
  assert_int_equal(big_request("/metrics", 0, 0, "X-Long: ", 40000, 'v'), 431);
  assert_int_equal(big_request("/metrics", 0, 0, "Authorization: Bearer ", 12000, 'v'), 200);
  /* libmicrohttpd parses cookies into a copy of the header, so a Cookie header counts twice. */
  assert_int_equal(big_request("/metrics", 0, 0, "Cookie: a=", 4000, 'b'), 200);
  assert_int_equal(big_request("/metrics", 0, 0, "Cookie: a=", 12000, 'b'), 431);
  /* Many headers: each takes a record in the connection's memory. */
  pmx_buf_t h = {0};
  for (unsigned i = 0; i < 1000; i++) pmx__buf_appendf(&h, "%sX-H%u: v", i ? "\r\n" : "", i);
  assert_int_equal(big_request("/metrics", 0, 0, h.data, 0, 0), 431);
  pmx_buf_free(&h);
  pmx_buf_t ck = {0};
  pmx__buf_appendf(&ck, "Cookie: ");
  for (unsigned i = 0; i < 1500; i++) pmx__buf_appendf(&ck, "%sc%u=1", i ? ";" : "", i);
  assert_int_equal(big_request("/metrics", 0, 0, ck.data, 0, 0), 431);
  pmx_buf_free(&ck);
  /* The server still serves after all that. */
  assert_int_equal(status_of_str("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 200);
}

/* ---- Keep-alive ---- */

static void test_pipelined(void **state) {
  (void)state;
  start_with(0, 0, 2);
  atomic_store(&g_scrapes, 0);
  int fd = connect_from("127.0.0.1");
  assert_true(fd >= 0);
  const char *reqs = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
                     "GET /other HTTP/1.1\r\nHost: x\r\n\r\n"
                     "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
                     "GET /metrics?a=1 HTTP/1.1\r\nHost: x\r\n\r\n"
                     "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  send_all(fd, reqs, strlen(reqs));
  size_t len;
  bool closed;
  char *got = read_all(fd, 5.0, &len, &closed);
  close(fd);
  bool head[5] = {false, false, true, false, false};
  answer_t a[6];
  size_t n = parse_answers(got, len, head, a, 6);
  free(got);
  assert_int_equal(n, 5);
  assert_true(closed); /* after the request that asked for it */
  int want_status[5] = {200, 404, 200, 200, 200};
  for (size_t i = 0; i < 5; i++) assert_int_equal(a[i].status, want_status[i]);
  /* In order: the scrapes are numbered 1 (GET), 2 (HEAD renders too), 3, 4. */
  assert_string_equal(a[0].body, "scrape 1\n");
  assert_string_equal(a[3].body, "scrape 3\n");
  assert_string_equal(a[4].body, "scrape 4\n");
  for (size_t i = 0; i < 4; i++) assert_false(a[i].close);
  assert_true(a[4].close);
}

static void test_keepalive_http10(void **state) {
  (void)state;
  start_with(0, 0, 2);
  /* HTTP/1.0 keeps the connection only when asked to. */
  const char *two = "GET /metrics HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
                    "GET /metrics HTTP/1.0\r\n\r\n"
                    "GET /metrics HTTP/1.0\r\n\r\n";
  int fd = connect_from("127.0.0.1");
  send_all(fd, two, strlen(two));
  size_t len;
  bool closed;
  char *got = read_all(fd, 5.0, &len, &closed);
  close(fd);
  answer_t a[3];
  assert_int_equal(parse_answers(got, len, NULL, a, 3), 2);
  assert_true(closed);
  free(got);
}

static void test_requests_per_connection(void **state) {
  (void)state;
  start_with(0, 0, 2);
  pmx_buf_t reqs = {0};
  for (int i = 0; i < 105; i++) pmx__buf_appendf(&reqs, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  int fd = connect_from("127.0.0.1");
  send_all(fd, reqs.data, reqs.len);
  pmx_buf_free(&reqs);
  size_t len;
  bool closed;
  char *got = read_all(fd, 10.0, &len, &closed);
  close(fd);
  answer_t *a = calloc(110, sizeof *a);
  size_t n = parse_answers(got, len, NULL, a, 110);
  free(got);
  assert_int_equal(n, 100);
  assert_true(closed);
  for (size_t i = 0; i < 99; i++) assert_false(a[i].close);
  assert_true(a[99].close);
  free(a);
}

/* ---- Header deadline ---- */

static void test_header_deadline_not_extended(void **state) {
  (void)state;
  start_with(1, 0, 2);
  int fd = connect_from("127.0.0.1");
  const char *part = "GET /metrics HTTP/1.1\r\nHost: x\r\n";
  send_all(fd, part, strlen(part));
  double t0 = now_s();
  /* Trickle a header byte every 100 ms: the idle timeout (10 s) never fires, the deadline does. */
  bool closed = false;
  pmx_buf_t got = {0};
  while (!closed && now_s() - t0 < 4.0) {
    (void)send(fd, "X", 1, MSG_NOSIGNAL);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 100) == 1) {
      char buf[512];
      ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0)
        closed = true;
      else
        pmx__buf_append(&got, buf, (size_t)n);
    }
  }
  double took = now_s() - t0;
  close(fd);
  assert_true(closed);
  assert_true(took >= 0.8 && took < 2.0 * slack());
  answer_t a;
  assert_int_equal(parse_answers(got.data, got.len, NULL, &a, 1), 1);
  assert_int_equal(a.status, 408);
  assert_true(a.close);
  assert_int_equal(a.body_len, strlen(a.body)); /* Content-Length matches the body sent */
  pmx_buf_free(&got);
}

/* A kept-alive connection gets a fresh deadline per request: two requests 0.6 s apart on one
 * connection with a 1 s deadline both succeed; then silence is cut after about 1 s. */
static void test_header_deadline_per_request(void **state) {
  (void)state;
  start_with(1, 0, 2);
  int fd = connect_from("127.0.0.1");
  const char *req = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
  for (int i = 0; i < 3; i++) {
    usleep(600000);
    send_all(fd, req, strlen(req));
    char buf[1024];
    struct pollfd p = {.fd = fd, .events = POLLIN};
    assert_int_equal(poll(&p, 1, 2000), 1);
    ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
    assert_true(n > 12);
    assert_memory_equal(buf, "HTTP/1.1 200", 12);
  }
  double t0 = now_s();
  size_t len;
  bool closed;
  char *got = read_all(fd, 3.0, &len, &closed);
  assert_true(closed);
  assert_true(now_s() - t0 < 2.0 * slack());
  free(got);
  close(fd);
}

typedef struct trickler {
  char addr[16];
  atomic_bool *stop;
  atomic_uint cut; /* connections the server closed */
} trickler_t;

/* Holds one connection from its own address, one header byte every 100 ms, reconnecting at once
 * whenever the server cuts it: the worst a slow client can do. */
static void *trickle(void *arg) {
  trickler_t *t = arg;
  while (!atomic_load(t->stop)) {
    int fd = connect_from(t->addr);
    if (fd < 0) {
      usleep(10000);
      continue;
    }
    const char *part = "GET /metrics HTTP/1.1\r\nHost: x\r\n";
    bool alive = send(fd, part, strlen(part), MSG_NOSIGNAL) > 0;
    while (alive && !atomic_load(t->stop)) {
      struct pollfd p = {.fd = fd, .events = POLLIN};
      if (poll(&p, 1, 100) == 1) {
        char buf[256];
        if (recv(fd, buf, sizeof buf, 0) <= 0) alive = false;
        continue;
      }
      alive = send(fd, "X", 1, MSG_NOSIGNAL) == 1;
    }
    if (!alive) atomic_fetch_add(&t->cut, 1);
    close(fd);
  }
  return NULL;
}

static void test_trickling_clients_cannot_keep_scrapes_out(void **state) {
  (void)state;
  enum { SLOTS = 8 };
  start_with(1, SLOTS, 2); /* 8 connections; at most 4 per address */
  atomic_bool stop = false;
  trickler_t t[SLOTS];
  pthread_t th[SLOTS];
  for (int i = 0; i < SLOTS; i++) {
    snprintf(t[i].addr, sizeof t[i].addr, "127.0.0.%d", i + 2);
    t[i].stop = &stop;
    atomic_init(&t[i].cut, 0);
    assert_int_equal(pthread_create(&th[i], NULL, trickle, &t[i]), 0);
  }
  usleep(300000); /* every slot is held by now */
  /* Five scrapes 0.3 s apart, so they land at different points of the tricklers' cycle (over two
   * header deadlines): each must get through within about one deadline (1 s, plus the watchdog's
   * 0.25 s tick), and the first must have had to wait, which shows the slots were really held. */
  double first = 0;
  for (int k = 0; k < 5; k++) {
    double t0 = now_s();
    int st = status_of_str("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    double took = now_s() - t0;
    print_message("scrape %d: %.2f s\n", k, took);
    if (st != 200 || took > 2.5 * slack()) fail_msg("scrape %d: status %d after %.2f s", k, st, took);
    if (k == 0) first = took;
    usleep(300000);
  }
  assert_true(first > 0.2);
  atomic_store(&stop, true);
  unsigned cut = 0;
  for (int i = 0; i < SLOTS; i++) {
    pthread_join(th[i], NULL);
    cut += atomic_load(&t[i].cut);
  }
  assert_true(cut >= SLOTS); /* the deadline, not luck, made room */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_target_check),
      cmocka_unit_test_teardown(test_targets_over_http, teardown),
      cmocka_unit_test_teardown(test_oversized_requests, teardown),
      cmocka_unit_test_teardown(test_pipelined, teardown),
      cmocka_unit_test_teardown(test_keepalive_http10, teardown),
      cmocka_unit_test_teardown(test_requests_per_connection, teardown),
      cmocka_unit_test_teardown(test_header_deadline_not_extended, teardown),
      cmocka_unit_test_teardown(test_header_deadline_per_request, teardown),
      cmocka_unit_test_teardown(test_trickling_clients_cannot_keep_scrapes_out, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
