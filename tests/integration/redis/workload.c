/* The redis plugin's integration program: a fixed mix of hiredis calls through the promex
 * adapter against the redis-server on 127.0.0.1:$PMX_TEST_REDIS_PORT, with promex serving the
 * metrics on loopback.
 *
 *   redis_workload [--port N] [--bind 127.0.0.1] [--once]
 *
 * One round (run.sh checks these counts; kept in sync):
 *   connect (sync)                    connect +1; a connect to a closed port: connect_error +1
 *   SET k%d v x10, GET x10 (5 hits, 5 misses)          SET 10, GET 10, all ok
 *   INCR on a string key x2                            INCR 2, errors{class="ERR"} 2
 *   LPUSH on a string key x1                           LPUSH 1, errors{class="WRONGTYPE"} 1
 *   "NOSUCHCMD" x1                                     command "other" 1, errors{class="ERR"} 1
 *   DEL via argv x3                                    DEL 3
 *   2 pipelines: SET, SET, SET, GET, GET               SET 6, GET 4; pipeline_commands 2 x 5
 *   async context: connect, PING x4, disconnect        PING 4; connect +1, disconnect -1
 *   close (sync)                                       disconnect -1
 * With --once the round runs once and the program idles (counts stay exact); without it, a
 * round runs every 200 ms until SIGTERM (for the dashboard data test). Prints
 * "metrics at http://127.0.0.1:PORT/metrics" after the first round. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "promex/hiredis.h"
#include "promex/plugins/redis.h"
#include "promex/promex.h"

static int port_redis;

static unsigned closed_port(void) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  bind(s, (struct sockaddr *)&sa, sizeof sa);
  getsockname(s, (struct sockaddr *)&sa, &len);
  close(s);
  return ntohs(sa.sin_port);
}

static int check(redisReply *r, int type, const char *what) {
  int ok = r != NULL && r->type == type;
  if (!ok) fprintf(stderr, "redis_workload: %s: unexpected reply\n", what);
  freeReplyObject(r);
  return ok ? 0 : -1;
}

static int pings_left;
static void on_ping(redisAsyncContext *ac, void *reply, void *privdata) {
  (void)privdata;
  redisReply *r = reply;
  if (r == NULL || r->type != REDIS_REPLY_STATUS) fprintf(stderr, "redis_workload: bad PING\n");
  if (--pings_left == 0) redisAsyncDisconnect(ac);
}
static pmx_redis_t *g_pr;
static int async_done;
static void on_connect(const redisAsyncContext *ac, int status) {
  pmx_redis_async_connected(g_pr, ac, status);
}
static void on_disconnect(const redisAsyncContext *ac, int status) {
  pmx_redis_async_disconnected(g_pr, ac, status);
  async_done = 1;
}

/* Drives an async context without an event library: poll its socket and hand readiness to
 * hiredis until the disconnect callback ran. */
static int run_async(pmx_redis_t *pr) {
  redisAsyncContext *ac = redisAsyncConnect("127.0.0.1", port_redis);
  if (ac == NULL || ac->err) {
    fprintf(stderr, "redis_workload: async connect: %s\n", ac ? ac->errstr : "no memory");
    return -1;
  }
  async_done = 0;
  pings_left = 4;
  redisAsyncSetConnectCallback(ac, on_connect);
  redisAsyncSetDisconnectCallback(ac, on_disconnect);
  for (int i = 0; i < 4; i++)
    if (pmx_redis_async_command(pr, ac, on_ping, NULL, "PING") != REDIS_OK) {
      fprintf(stderr, "redis_workload: async PING not queued: %s\n", ac->errstr);
      return -1;
    }
  struct timespec t0, now;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (;;) {
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (async_done || now.tv_sec - t0.tv_sec > 10) break;
    /* Ask for writability only while connecting or while output is pending; a socket is
     * almost always writable, and polling for it otherwise would spin. */
    bool want_write = !(ac->c.flags & REDIS_CONNECTED) || (ac->c.obuf && ac->c.obuf[0]);
    struct pollfd pfd = {.fd = ac->c.fd, .events = POLLIN | (want_write ? POLLOUT : 0)};
    if (poll(&pfd, 1, 100) < 0) return -1;
    if (pfd.revents & POLLOUT) redisAsyncHandleWrite(ac);
    if (async_done) break;
    if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) redisAsyncHandleRead(ac);
  }
  if (!async_done) fprintf(stderr, "redis_workload: the async context did not finish\n");
  return async_done ? 0 : -1;
}

static int round_once(pmx_redis_t *pr) {
  int bad = 0;
  redisContext *refused = redisConnect("127.0.0.1", (int)closed_port());
  pmx_redis_connected(pr, refused);
  redisFree(refused);
  redisContext *c = redisConnect("127.0.0.1", port_redis);
  pmx_redis_connected(pr, c);
  if (c == NULL || c->err) {
    fprintf(stderr, "redis_workload: connect: %s\n", c ? c->errstr : "no memory");
    return -1;
  }
  char key[32];
  for (int i = 0; i < 10; i++) {
    snprintf(key, sizeof key, "k%d", i);
    bad |= check(pmx_redis_command(pr, c, "SET %s %s", key, "v"), REDIS_REPLY_STATUS, "SET");
  }
  for (int i = 0; i < 10; i++) {
    snprintf(key, sizeof key, "%s%d", i < 5 ? "k" : "missing", i);
    bad |= check(pmx_redis_command(pr, c, "%s %s", "GET", key),
                 i < 5 ? REDIS_REPLY_STRING : REDIS_REPLY_NIL, "GET");
  }
  for (int i = 0; i < 2; i++)
    bad |= check(pmx_redis_command(pr, c, "INCR k0"), REDIS_REPLY_ERROR, "INCR");
  bad |= check(pmx_redis_command(pr, c, "LPUSH k1 x"), REDIS_REPLY_ERROR, "LPUSH");
  bad |= check(pmx_redis_command(pr, c, "NOSUCHCMD a b"), REDIS_REPLY_ERROR, "NOSUCHCMD");
  for (int i = 0; i < 3; i++) {
    snprintf(key, sizeof key, "k%d", 7 + i);
    const char *argv[] = {"del", key};
    bad |= check(pmx_redis_command_argv(pr, c, 2, argv, NULL), REDIS_REPLY_INTEGER, "DEL");
  }
  for (int p = 0; p < 2; p++) {
    pmx_redis_pipeline_t pl;
    pmx_redis_pipeline_begin(&pl, pr, c);
    for (int i = 0; i < 3; i++) pmx_redis_pipeline_append(&pl, "SET p%d %d", i, p);
    for (int i = 0; i < 2; i++) pmx_redis_pipeline_append(&pl, "GET p%d", i);
    for (int i = 0; i < 5; i++) {
      void *r = NULL;
      if (pmx_redis_pipeline_get_reply(&pl, &r) != REDIS_OK) {
        fprintf(stderr, "redis_workload: pipeline reply: %s\n", c->errstr);
        bad = -1;
      }
      freeReplyObject(r);
    }
    pmx_redis_pipeline_end(&pl);
  }
  bad |= run_async(pr);
  pmx_redis_close(pr, c);
  return bad;
}

static volatile sig_atomic_t stop;
static void on_term(int s) {
  (void)s;
  stop = 1;
}

int main(int argc, char **argv) {
  long port = 0;
  const char *bind = "127.0.0.1";
  int once = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) port = strtol(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "--bind") == 0 && i + 1 < argc) bind = argv[++i];
    else if (strcmp(argv[i], "--once") == 0) once = 1;
    else {
      fprintf(stderr, "usage: redis_workload [--port N] [--bind ADDR] [--once]\n");
      return 2;
    }
  }
  const char *rp = getenv("PMX_TEST_REDIS_PORT");
  if (rp == NULL || (port_redis = atoi(rp)) <= 0) {
    fprintf(stderr, "redis_workload: set PMX_TEST_REDIS_PORT\n");
    return 2;
  }
  signal(SIGTERM, on_term);
  signal(SIGINT, on_term);
  pmx_config_t cfg;
  pmx_config_defaults(&cfg);
  cfg.app = "redisit";
  pmx_plugin_use_t use = {.plugin = &pmx_plugin_redis};
  cfg.plugins = &use;
  cfg.n_plugins = 1;
  cfg.metrics_server.enabled = true;
  cfg.metrics_server.port = (uint16_t)port;
  cfg.metrics_server.bind_address = bind;
  pmx_t *p = NULL;
  pmx_error_t err;
  if (pmx_new(&cfg, &p, &err) != PMX_OK || pmx_start(p, &err) != PMX_OK ||
      pmx_redis_new(pmx_bus(p), &g_pr) != PMX_OK) {
    fprintf(stderr, "redis_workload: promex: %s\n", err.text);
    return 1;
  }
  if (round_once(g_pr) != 0) {
    fprintf(stderr, "redis_workload: the workload failed\n");
    return 1;
  }
  printf("redis workload%s; metrics at http://127.0.0.1:%u/metrics\n", once ? " done" : "",
         (unsigned)pmx_metrics_port(p));
  fflush(stdout);
  while (!stop) {
    struct timespec ts = {0, 200 * 1000000L};
    nanosleep(&ts, NULL);
    if (!once && !stop) round_once(g_pr);
  }
  pmx_redis_destroy(g_pr);
  pmx_stop(p);
  pmx_destroy(p);
  return 0;
}
