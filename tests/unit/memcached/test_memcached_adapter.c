/* The libmemcached adapter against an in-process fake memcached (a loopback socket answering
 * canned ASCII-protocol replies, one per request line), so that it runs in every build,
 * sanitizers included: hit, miss, stored, not stored, not found and a server error each become
 * the right result and code, the wrappers return libmemcached's results unchanged, and a
 * refused server is an error. The real memcached is tests/integration/memcached. */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal.h"
#include "promex/memcached.h"
#include "promex/plugins/memcached.h"
#include "promex/promex.h"
#include "unit/plugins/plugin_test_util.h"

#define P "ma_prom_ex_memcached_"

/* One reply per request, in the order the test sends them. Storage commands carry a data line
 * after the command line; the server skips it (it knows which requests have one). */
static const struct {
  const char *reply;
  int data_line;
} k_script[] = {
    {"STORED\r\n", 1},                         /* set */
    {"VALUE k 0 1\r\nx\r\nEND\r\n", 0},        /* get: hit */
    {"END\r\n", 0},                            /* get: miss */
    {"NOT_STORED\r\n", 1},                     /* add */
    {"NOT_FOUND\r\n", 0},                      /* delete */
    {"SERVER_ERROR out of memory\r\n", 1},     /* set */
};

typedef struct fake {
  int fd;
  int port;
  pthread_t thread;
} fake_t;

/* Reads one line (up to \n) byte by byte; returns false at EOF. */
static bool read_line(int fd) {
  char ch;
  for (;;) {
    if (read(fd, &ch, 1) != 1) return false;
    if (ch == '\n') return true;
  }
}

static void *serve(void *arg) {
  fake_t *f = arg;
  int fd = accept(f->fd, NULL, NULL);
  if (fd < 0) return NULL;
  for (size_t i = 0; i < sizeof k_script / sizeof k_script[0]; i++) {
    if (!read_line(fd)) break;
    if (k_script[i].data_line && !read_line(fd)) break;
    if (write(fd, k_script[i].reply, strlen(k_script[i].reply)) < 0) break;
  }
  close(fd);
  return NULL;
}

static int listen_loopback(int *port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  bind(fd, (struct sockaddr *)&sa, sizeof sa);
  listen(fd, 1);
  getsockname(fd, (struct sockaddr *)&sa, &len);
  *port = ntohs(sa.sin_port);
  return fd;
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
  cfg.app = "ma";
  cfg.log = quiet;
  pmx_plugin_use_t use = {.plugin = &pmx_plugin_memcached};
  cfg.plugins = &use;
  cfg.n_plugins = 1;
  pmx_t *p = NULL;
  pmx_error_t err;
  assert_int_equal(pmx_new(&cfg, &p, &err), PMX_OK);
  assert_int_equal(pmx_start(p, &err), PMX_OK);
  pmx_memcached_t *pm = NULL;
  assert_int_equal(pmx_memcached_new(pmx_bus(p), &pm), PMX_OK);

  fake_t f;
  f.fd = listen_loopback(&f.port);
  assert_int_equal(pthread_create(&f.thread, NULL, serve, &f), 0);
  memcached_st *mc = memcached_create(NULL);
  memcached_server_add(mc, "127.0.0.1", (in_port_t)f.port);
  size_t len = 0;
  uint32_t flags = 0;
  memcached_return_t rc;
  assert_int_equal(pmx_memcached_set(pm, mc, "k", 1, "x", 1, 0, 0), MEMCACHED_SUCCESS);
  char *v = pmx_memcached_get(pm, mc, "k", 1, &len, &flags, &rc);
  assert_int_equal(rc, MEMCACHED_SUCCESS);
  assert_non_null(v);
  assert_int_equal(len, 1);
  assert_memory_equal(v, "x", 1);
  free(v);
  v = pmx_memcached_get(pm, mc, "m", 1, &len, &flags, &rc);
  assert_null(v);
  assert_int_equal(rc, MEMCACHED_NOTFOUND);
  assert_int_equal(pmx_memcached_add(pm, mc, "k", 1, "y", 1, 0, 0), MEMCACHED_NOTSTORED);
  assert_int_equal(pmx_memcached_delete(pm, mc, "m", 1, 0), MEMCACHED_NOTFOUND);
  rc = pmx_memcached_set(pm, mc, "k", 1, "z", 1, 0, 0);
  assert_int_not_equal(rc, MEMCACHED_SUCCESS);
  memcached_free(mc);
  pthread_join(f.thread, NULL);
  close(f.fd);

  /* A server that refuses. */
  int dead_port;
  close(listen_loopback(&dead_port));
  memcached_st *dead = memcached_create(NULL);
  memcached_server_add(dead, "127.0.0.1", (in_port_t)dead_port);
  free(pmx_memcached_get(pm, dead, "k", 1, &len, &flags, &rc));
  assert_int_not_equal(rc, MEMCACHED_SUCCESS);
  memcached_free(dead);

  pmx_buf_t buf = {0};
  assert_int_equal(pmx_get_metrics(p, PMX_FORMAT_TEXT, &buf), PMX_OK);
  assert_int_equal(pmx__buf_append(&buf, "", 1), PMX_OK);
  const char *t = buf.data;
  const char *d = P "command_duration_seconds_count";
  assert_true(val(t, d, "command=\"set\"", "result=\"ok\"") == 1);
  assert_true(val(t, d, "command=\"set\"", "result=\"error\"") == 1);
  assert_true(val(t, d, "command=\"add\"", "result=\"not_stored\"") == 1);
  assert_true(val(t, P "cache_hits_total", "command=\"get\"", NULL) == 1);
  assert_true(val(t, P "cache_misses_total", "command=\"get\"", NULL) == 1);
  assert_true(val(t, P "cache_misses_total", "command=\"delete\"", NULL) == 1);
  const char *e = P "command_errors_total";
  /* libmemcached turns "SERVER_ERROR out of memory" into its own code */
  assert_true(val(t, e, "command=\"set\"", "code=\"SERVER_MEMORY_ALLOCATION_FAILURE\"") == 1);
  assert_true(val(t, e, "command=\"get\"", "code=\"CONNECTION_FAILURE\"") == 1);
  assert_int_equal(pt_count(t, e), 2);
  pmx_buf_free(&buf);
  pmx_memcached_destroy(pm);
  pmx_destroy(p);
}

static void test_names_and_nulls(void **state) {
  (void)state;
  assert_string_equal(pmx_memcached_code_name(MEMCACHED_NOTFOUND), "NOTFOUND");
  assert_string_equal(pmx_memcached_code_name(MEMCACHED_CONNECTION_FAILURE),
                      "CONNECTION_FAILURE");
  assert_string_equal(pmx_memcached_code_name((memcached_return_t)9999), "OTHER");
  pmx_memcached_t *pm = (pmx_memcached_t *)1;
  assert_int_equal(pmx_memcached_new(NULL, &pm), PMX_EINVAL);
  assert_null(pm);
  pmx_memcached_destroy(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_adapter_against_fake_server),
      cmocka_unit_test(test_names_and_nulls),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
