/* redis_stats without a Redis server (so it runs in every build, sanitizers included): a closed
 * port gives up 0 and exactly one connect error (the backoff holds further attempts), a server
 * that accepts but never answers gives a timeout instead of a hang, failures are logged once,
 * and bad options are refused at start with a message naming the option. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "promex/plugins/redis_stats.h"
#include "promex/promex.h"

typedef struct log_rec {
  int n_warn;
  char last[512];
} log_rec_t;

static void on_log(void *ctx, pmx_log_level_t level, const char *msg) {
  log_rec_t *r = ctx;
  if (level >= PMX_LOG_WARN) r->n_warn++;
  snprintf(r->last, sizeof r->last, "%s", msg);
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* A listening loopback socket on a free port; *port set. backlog accepts connections that are
 * then never served. */
static int listener(int *port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(fd >= 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
  socklen_t l = sizeof a;
  assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &l), 0);
  assert_int_equal(listen(fd, 8), 0);
  *port = ntohs(a.sin_port);
  return fd;
}

/* Value of the exposition line starting with `series ` (exact series text), or -1. */
static double value_of(const char *text, const char *series) {
  size_t n = strlen(series);
  for (const char *p = text; p != NULL && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
    if (strncmp(p, series, n) == 0 && p[n] == ' ') return strtod(p + n + 1, NULL);
  }
  return -1;
}

static char *run(const char *conn, long wait_ms, log_rec_t *log) {
  char pr[] = "100";
  const pmx_kv_t opts[] = {{"conn", conn}, {"poll_rate", pr}, {"timeout", "200"}};
  pmx_server_stats_hooks_t hooks = {on_log, log};
  const pmx_plugin_use_t use[] = {{&pmx_plugin_redis_stats, opts, 3, &hooks}};
  pmx_config_t cfg;
  pmx_config_defaults(&cfg);
  cfg.app = "t";
  cfg.plugins = use;
  cfg.n_plugins = 1;
  pmx_t *p = NULL;
  pmx_error_t err;
  assert_int_equal(pmx_new(&cfg, &p, &err), PMX_OK);
  assert_int_equal(pmx_start(p, &err), PMX_OK);
  sleep_ms(wait_ms);
  pmx_buf_t buf = {0};
  assert_int_equal(pmx_get_metrics(p, PMX_FORMAT_TEXT, &buf), PMX_OK);
  char *text = strndup(buf.data, buf.len);
  pmx_buf_free(&buf);
  assert_int_equal(pmx_stop(p), PMX_OK);
  pmx_destroy(p);
  return text;
}

static void test_closed_port_is_down_once(void **state) {
  (void)state;
  int port;
  int fd = listener(&port);
  close(fd); /* now nothing listens there */
  char conn[64];
  snprintf(conn, sizeof conn, "redis://127.0.0.1:%d", port);
  log_rec_t log = {0};
  char *text = run(conn, 350, &log);
  assert_true(value_of(text, "t_prom_ex_redis_stats_up") == 0);
  /* Polls at 0, 100, 200, 300 ms, but the backoff (500 ms) allows a single connect attempt. */
  assert_true(value_of(text, "t_prom_ex_redis_stats_errors_total{reason=\"connect\"}") == 1);
  assert_int_equal(log.n_warn, 1);
  assert_non_null(strstr(log.last, "redis_stats: 127.0.0.1:"));
  assert_non_null(strstr(log.last, "connect"));
  free(text);
}

static void test_silent_server_times_out(void **state) {
  (void)state;
  int port;
  int fd = listener(&port);
  char conn[64];
  snprintf(conn, sizeof conn, "127.0.0.1:%d", port);
  log_rec_t log = {0};
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  char *text = run(conn, 450, &log);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  close(fd);
  assert_true(value_of(text, "t_prom_ex_redis_stats_up") == 0);
  assert_true(value_of(text, "t_prom_ex_redis_stats_errors_total{reason=\"timeout\"}") == 1);
  assert_non_null(strstr(log.last, "INFO"));
  /* pmx_stop did not wait for a hung poll. */
  double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  assert_true(s < 3.0);
  free(text);
}

static void expect_config_error(const pmx_kv_t *opts, size_t n, const char *needle) {
  const pmx_plugin_use_t use[] = {{&pmx_plugin_redis_stats, opts, n, NULL}};
  pmx_config_t cfg;
  pmx_config_defaults(&cfg);
  cfg.app = "t";
  cfg.plugins = use;
  cfg.n_plugins = 1;
  pmx_t *p = NULL;
  pmx_error_t err;
  memset(&err, 0, sizeof err);
  int rc = pmx_new(&cfg, &p, &err);
  if (rc == PMX_OK) rc = pmx_start(p, &err);
  assert_int_not_equal(rc, PMX_OK);
  if (strstr(err.text, needle) == NULL) fail_msg("error \"%s\" lacks \"%s\"", err.text, needle);
  pmx_destroy(p);
}

static void test_bad_options(void **state) {
  (void)state;
  const pmx_kv_t a[] = {{"conn", "rediss://h"}};
  expect_config_error(a, 1, "conn");
  const pmx_kv_t b[] = {{"timeout", "0"}};
  expect_config_error(b, 1, "timeout");
  const pmx_kv_t c[] = {{"max_commands", "-1"}};
  expect_config_error(c, 1, "max_commands");
  const pmx_kv_t d[] = {{"passwd", "x"}};
  expect_config_error(d, 1, "passwd");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_closed_port_is_down_once),
      cmocka_unit_test(test_silent_server_times_out),
      cmocka_unit_test(test_bad_options),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
