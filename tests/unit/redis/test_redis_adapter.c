/* The hiredis adapter against an in-process fake Redis (a loopback socket answering canned RESP
 * replies), so that it runs in every build, sanitizers included: command names taken from the
 * formatted command (a "%s" format, lower case, argv, an unknown command), error classes from
 * error replies, pipelines, a refused connection and a server that hangs up mid-session. The
 * real redis-server is tests/integration/redis. */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal.h"
#include "promex/hiredis.h"
#include "promex/plugins/redis.h"
#include "promex/promex.h"
#include "unit/plugins/plugin_test_util.h"

#define P "ra_prom_ex_redis_"

/* Replies, in order; the server answers one per command received and hangs up after the last. */
static const char *const k_replies[] = {
    "+OK\r\n",                                   /* SET */
    "-WRONGTYPE Operation against a key\r\n",    /* lpush via "%s %s" */
    "-ERR unknown command 'FROB'\r\n",           /* FROB via argv */
    "$1\r\nx\r\n",                               /* pipeline GET */
    "$-1\r\n",                                   /* pipeline GET */
    "-NOSCRIPT No matching script\r\n",          /* pipeline EVALSHA */
};

typedef struct fake {
  int listen_fd;
  int port;
  pthread_t thread;
} fake_t;

/* Counts the commands in a chunk: RESP arrays start with '*' at the start of a line. */
static int count_commands(const char *buf, ssize_t n) {
  int c = 0;
  for (ssize_t i = 0; i < n; i++)
    if (buf[i] == '*' && (i == 0 || buf[i - 1] == '\n')) c++;
  return c;
}

static void *serve(void *arg) {
  fake_t *f = arg;
  int fd = accept(f->listen_fd, NULL, NULL);
  if (fd < 0) return NULL;
  size_t next = 0, n_replies = sizeof k_replies / sizeof k_replies[0];
  char buf[4096];
  while (next < n_replies) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    for (int c = count_commands(buf, n); c > 0 && next < n_replies; c--, next++)
      if (write(fd, k_replies[next], strlen(k_replies[next])) < 0) break;
  }
  close(fd); /* the next command sees the connection closed */
  return NULL;
}

static void fake_start(fake_t *f) {
  f->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  assert_int_equal(bind(f->listen_fd, (struct sockaddr *)&sa, sizeof sa), 0);
  assert_int_equal(listen(f->listen_fd, 1), 0);
  getsockname(f->listen_fd, (struct sockaddr *)&sa, &len);
  f->port = ntohs(sa.sin_port);
  assert_int_equal(pthread_create(&f->thread, NULL, serve, f), 0);
}

static void quiet(void *c, pmx_log_level_t l, const char *m) { (void)c, (void)l, (void)m; }

static double val(const char *t, const char *name, const char *l1, const char *l2) {
  const char *l[2] = {l1, l2};
  double v = pt_value(t, name, l, l2 ? 2 : l1 ? 1 : 0);
  return isnan(v) ? 0 : v;
}

static void test_adapter_against_fake_server(void **state) {
  (void)state;
  pmx_config_t cfg;
  pmx_config_defaults(&cfg);
  cfg.app = "ra";
  cfg.log = quiet;
  pmx_plugin_use_t use = {.plugin = &pmx_plugin_redis};
  cfg.plugins = &use;
  cfg.n_plugins = 1;
  pmx_t *p = NULL;
  pmx_error_t err;
  assert_int_equal(pmx_new(&cfg, &p, &err), PMX_OK);
  assert_int_equal(pmx_start(p, &err), PMX_OK);
  pmx_redis_t *pr = NULL;
  assert_int_equal(pmx_redis_new(pmx_bus(p), &pr), PMX_OK);

  /* A refused connection: a port that was just closed. */
  fake_t closed;
  closed.listen_fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t slen = sizeof sa;
  bind(closed.listen_fd, (struct sockaddr *)&sa, sizeof sa);
  getsockname(closed.listen_fd, (struct sockaddr *)&sa, &slen);
  close(closed.listen_fd);
  redisContext *bad = redisConnect("127.0.0.1", ntohs(sa.sin_port));
  assert_int_equal(pmx_redis_connected(pr, bad), PMX_OK);
  pmx_redis_close(pr, bad); /* never connected: no disconnect event */

  fake_t f;
  fake_start(&f);
  redisContext *c = redisConnect("127.0.0.1", f.port);
  assert_non_null(c);
  assert_int_equal(c->err, 0);
  pmx_redis_connected(pr, c);
  redisReply *r = pmx_redis_command(pr, c, "SET %s %s", "key", "v4lue-s3cret");
  assert_non_null(r);
  assert_int_equal(r->type, REDIS_REPLY_STATUS); /* the reply is hiredis' own, unchanged */
  freeReplyObject(r);
  r = pmx_redis_command(pr, c, "%s %s", "lpush", "key");
  assert_int_equal(r->type, REDIS_REPLY_ERROR);
  freeReplyObject(r);
  const char *argv[] = {"FROB", "secret-key"};
  r = pmx_redis_command_argv(pr, c, 2, argv, NULL);
  assert_int_equal(r->type, REDIS_REPLY_ERROR);
  freeReplyObject(r);
  pmx_redis_pipeline_t pl;
  assert_int_equal(pmx_redis_pipeline_begin(&pl, pr, c), PMX_OK);
  assert_int_equal(pmx_redis_pipeline_append(&pl, "GET %s", "a"), REDIS_OK);
  assert_int_equal(pmx_redis_pipeline_append(&pl, "get b"), REDIS_OK);
  const char *ev[] = {"EVALSHA", "abc", "0"};
  assert_int_equal(pmx_redis_pipeline_append_argv(&pl, 3, ev, NULL), REDIS_OK);
  for (int i = 0; i < 3; i++) {
    void *reply = NULL;
    assert_int_equal(pmx_redis_pipeline_get_reply(&pl, &reply), REDIS_OK);
    freeReplyObject(reply);
  }
  pmx_redis_pipeline_end(&pl);
  /* The server hangs up: the next command fails on the connection. */
  r = pmx_redis_command(pr, c, "PING");
  assert_null(r);
  assert_int_not_equal(c->err, 0);
  pmx_redis_close(pr, c);
  pthread_join(f.thread, NULL);
  close(f.listen_fd);

  pmx_buf_t buf = {0};
  assert_int_equal(pmx_get_metrics(p, PMX_FORMAT_TEXT, &buf), PMX_OK);
  assert_int_equal(pmx__buf_append(&buf, "", 1), PMX_OK);
  const char *t = buf.data;
  const char *d = P "command_duration_seconds_count";
  assert_true(val(t, d, "command=\"SET\"", NULL) == 1);
  assert_true(val(t, d, "command=\"LPUSH\"", NULL) == 1);
  assert_true(val(t, d, "command=\"other\"", NULL) == 1);
  assert_true(val(t, d, "command=\"GET\"", NULL) == 2);
  assert_true(val(t, d, "command=\"EVALSHA\"", NULL) == 1);
  assert_true(val(t, d, "command=\"PING\"", NULL) == 1);
  const char *e = P "command_errors_total";
  assert_true(val(t, e, "command=\"LPUSH\"", "class=\"WRONGTYPE\"") == 1);
  assert_true(val(t, e, "command=\"other\"", "class=\"ERR\"") == 1);
  assert_true(val(t, e, "command=\"EVALSHA\"", "class=\"NOSCRIPT\"") == 1);
  /* hiredis 0.14 reports a peer that closed as EOF (or IO if the write failed first). */
  assert_true(val(t, e, "command=\"PING\"", "class=\"eof\"") +
                  val(t, e, "command=\"PING\"", "class=\"io\"") == 1);
  assert_int_equal(pt_count(t, e), 4);
  assert_true(val(t, P "pipeline_commands_count", NULL, NULL) == 1);
  assert_true(val(t, P "pipeline_commands_sum", NULL, NULL) == 3);
  const char *ce = P "connection_events_total";
  assert_true(val(t, ce, "event=\"connect_error\"", NULL) == 1);
  assert_true(val(t, ce, "event=\"connect\"", NULL) == 1);
  assert_true(val(t, ce, "event=\"disconnect_error\"", NULL) == 1);
  assert_true(val(t, P "connections", NULL, NULL) == 0);
  assert_null(strstr(t, "secret-key")); /* keys never reach a label */
  assert_null(strstr(t, "v4lue-s3cret"));
  pmx_buf_free(&buf);
  pmx_redis_destroy(pr);
  pmx_destroy(p);
}

static void test_null_arguments(void **state) {
  (void)state;
  pmx_redis_t *pr = (pmx_redis_t *)1;
  assert_int_equal(pmx_redis_new(NULL, &pr), PMX_EINVAL);
  assert_null(pr);
  assert_int_equal(pmx_redis_connected(NULL, NULL), PMX_EINVAL);
  assert_null(pmx_redis_command(NULL, NULL, "PING"));
  assert_int_equal(pmx_redis_pipeline_begin(NULL, NULL, NULL), PMX_EINVAL);
  assert_int_equal(pmx_redis_pipeline_append(NULL, "PING"), REDIS_ERR);
  pmx_redis_pipeline_end(NULL);
  pmx_redis_close(NULL, NULL);
  pmx_redis_destroy(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_adapter_against_fake_server),
      cmocka_unit_test(test_null_arguments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
