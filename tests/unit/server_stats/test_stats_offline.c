/* postgres_stats and mysql_stats without a server (so they run in every build, sanitizers
 * included): `stats_offline <plugin>`. A closed port gives up 0 and exactly one connect error in
 * the first 350 ms of 100 ms polls (the backoff holds further attempts); a listener that accepts
 * but never answers gives a timeout error rather than a hang, and pmx_stop() returns promptly;
 * failures are logged once; bad options are refused at start naming the option. (redis_stats
 * has the same checks in tests/unit/redis_stats/test_redis_stats_offline.c.) */
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

#include "promex/promex.h"
#ifdef PMX_HAVE_POSTGRES_STATS
#include "promex/plugins/postgres_stats.h"
#endif
#ifdef PMX_HAVE_MYSQL_STATS
#include "promex/plugins/mysql_stats.h"
#endif

static const pmx_plugin_t *g_plugin;
static const char *g_conn_fmt; /* printf format taking the port */
static const char *g_timeout;  /* ms */
static long g_silent_wait_ms;

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

static double value_of(const char *text, const char *series) {
  size_t n = strlen(series);
  for (const char *p = text; p != NULL && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
    if (strncmp(p, series, n) == 0 && p[n] == ' ') return strtod(p + n + 1, NULL);
  return -1;
}

static char *run(const char *conn, long wait_ms, log_rec_t *log, double *stop_s) {
  const pmx_kv_t opts[] = {{"conn", conn}, {"poll_rate", "100"}, {"timeout", g_timeout}};
  pmx_server_stats_hooks_t hooks = {on_log, log};
  const pmx_plugin_use_t use[] = {{g_plugin, opts, 3, &hooks}};
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
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  assert_int_equal(pmx_stop(p), PMX_OK);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  pmx_destroy(p);
  *stop_s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  return text;
}

static void series(char *out, size_t cap, const char *suffix) {
  snprintf(out, cap, "t_prom_ex_%s_%s", g_plugin->name, suffix);
}

static void test_closed_port_is_down_once(void **state) {
  (void)state;
  int port;
  close(listener(&port));
  char conn[128], s[160];
  snprintf(conn, sizeof conn, g_conn_fmt, port);
  log_rec_t log = {0};
  double stop_s;
  char *text = run(conn, 350, &log, &stop_s);
  series(s, sizeof s, "up");
  assert_true(value_of(text, s) == 0);
  series(s, sizeof s, "errors_total{reason=\"connect\"}");
  assert_true(value_of(text, s) == 1);
  assert_int_equal(log.n_warn, 1);
  assert_non_null(strstr(log.last, g_plugin->name));
  free(text);
}

static void test_silent_server_times_out(void **state) {
  (void)state;
  int port;
  int fd = listener(&port);
  char conn[128], s[160];
  snprintf(conn, sizeof conn, g_conn_fmt, port);
  log_rec_t log = {0};
  double stop_s;
  char *text = run(conn, g_silent_wait_ms, &log, &stop_s);
  close(fd);
  series(s, sizeof s, "up");
  assert_true(value_of(text, s) == 0);
  series(s, sizeof s, "errors_total{reason=\"timeout\"}");
  if (value_of(text, s) < 1) fail_msg("no timeout error:\n%s\nlog: %s", text, log.last);
  assert_true(stop_s < 3.0);
  free(text);
}

static void expect_config_error(const pmx_kv_t *opts, size_t n, const char *needle) {
  const pmx_plugin_use_t use[] = {{g_plugin, opts, n, NULL}};
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
  const pmx_kv_t a[] = {{"conn", "nosuchkey=1"}};
  expect_config_error(a, 1, "conn");
  const pmx_kv_t b[] = {{"timeout", "-5"}};
  expect_config_error(b, 1, "timeout");
  const pmx_kv_t c[] = {{"max_databases", "lots"}};
  expect_config_error(c, 1, "max_databases");
  const pmx_kv_t d[] = {{"hostname", "x"}};
  expect_config_error(d, 1, "hostname");
}

int main(int argc, char **argv) {
  const char *which = argc > 1 ? argv[1] : "";
#ifdef PMX_HAVE_POSTGRES_STATS
  if (strcmp(which, "postgres_stats") == 0) {
    g_plugin = &pmx_plugin_postgres_stats;
    g_conn_fmt = "host=127.0.0.1 port=%d dbname=x user=x connect_timeout=10";
    g_timeout = "200";
    g_silent_wait_ms = 450;
  }
#endif
#ifdef PMX_HAVE_MYSQL_STATS
  if (strcmp(which, "mysql_stats") == 0) {
    g_plugin = &pmx_plugin_mysql_stats;
    g_conn_fmt = "host=127.0.0.1 port=%d user=x";
    g_timeout = "1000"; /* the client counts whole seconds */
    g_silent_wait_ms = 1400;
  }
#endif
  if (g_plugin == NULL) {
    fprintf(stderr, "usage: stats_offline postgres_stats|mysql_stats (as built)\n");
    return 2;
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_closed_port_is_down_once),
      cmocka_unit_test(test_silent_server_times_out),
      cmocka_unit_test(test_bad_options),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
