/* Allocation failures in the runtime (issue 9): pmx_new, pmx_start with the metrics server on a
 * free loopback port (plain, and HTTPS with bearer auth) and every first-party plugin,
 * pmx_refresh_manual_metrics, pmx_get_metrics in both formats, a scrape over HTTP, pmx_stop and
 * pmx_destroy. With any one allocation failing (on the caller's thread
 * or on a background thread: the count is shared, fail_alloc.h) each call returns PMX_ENOMEM or
 * succeeds, a failure on a background thread is logged or counted, nothing crashes and nothing
 * leaks. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "promex/promex.h"
#include "unit/alloc/fail_alloc.h"

static void quiet_log(void *ctx, pmx_log_level_t level, const char *msg) {
  (void)ctx;
  (void)level;
  (void)msg;
}

/* GET /metrics on 127.0.0.1:port; the HTTP status, or -1. A failed allocation in the server may
 * answer 500 or close the connection: both are clean. */
static int scrape(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  struct timeval tv = {5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int status = -1;
  static const char req[] = "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
      write(fd, req, sizeof req - 1) == (ssize_t)(sizeof req - 1)) {
    char buf[64] = {0};
    if (read(fd, buf, sizeof buf - 1) > 12) sscanf(buf, "HTTP/1.1 %d", &status);
    while (read(fd, buf, sizeof buf) > 0) {
    }
  }
  close(fd);
  return status;
}

/* ctx: NULL for plain HTTP, non-NULL for HTTPS with bearer auth (the TLS and auth set-up paths;
 * no scrape then, the test speaks plain HTTP). */
static int runtime_scenario(void *ctx) {
  bool https = ctx != NULL;
  size_t n = 0;
  const pmx_plugin_t *const *fp = pmx_first_party_plugins(&n);
  pmx_plugin_use_t uses[16];
  assert_true(n <= 16);
  memset(uses, 0, sizeof uses);
  for (size_t i = 0; i < n; i++) uses[i].plugin = fp[i];
  pmx_config_t cfg;
  pmx_config_defaults(&cfg);
  cfg.app = "fa";
  cfg.plugins = uses;
  cfg.n_plugins = n;
  cfg.metrics_server.enabled = true;
  cfg.metrics_server.port = 0;
  cfg.metrics_server.bind_address = "127.0.0.1";
  cfg.metrics_server.pool_size = 2;
  cfg.log = quiet_log;
  if (https) {
    cfg.metrics_server.protocol = PMX_PROTO_HTTPS;
    cfg.metrics_server.cert_file = PMX_TEST_DATA "/config/dummy_cert.pem";
    cfg.metrics_server.key_file = PMX_TEST_DATA "/config/dummy_key.pem";
    cfg.metrics_server.auth_strategy = PMX_AUTH_BEARER;
    cfg.metrics_server.auth_token = "t0ken";
  }

  pmx_t *p = NULL;
  pmx_error_t err;
  int rc = pmx_new(&cfg, &p, &err);
  if (rc != PMX_OK) {
    assert_null(p);
    return rc;
  }
  rc = pmx_start(p, &err);
  if (rc == PMX_OK) {
    assert_true(pmx_running(p));
    rc = pmx_refresh_manual_metrics(p); /* the manual groups, on this thread */
    pmx_buf_t b = {0};
    if (rc == PMX_OK) rc = pmx_get_metrics(p, PMX_FORMAT_TEXT, &b);
    if (rc == PMX_OK && !fa_failed()) assert_non_null(strstr(b.data, "fa_prom_ex_"));
    pmx_buf_free(&b);
    if (rc == PMX_OK) rc = pmx_get_metrics(p, PMX_FORMAT_OPENMETRICS, &b);
    pmx_buf_free(&b);
    if (!https) {
      int status = scrape(pmx_metrics_port(p));
      if (!fa_failed()) assert_int_equal(status, 200);
      else assert_true(status == 200 || status == 500 || status == -1);
    }
    int src = pmx_stop(p);
    if (rc == PMX_OK) rc = src;
  } else {
    assert_false(pmx_running(p));
  }
  pmx_destroy(p);
  return rc;
}

static void test_runtime_paths(void **state) {
  (void)state;
  fa_install();
  fa_run("runtime", runtime_scenario, NULL, NULL);
  fa_run("runtime https", runtime_scenario, (void *)(uintptr_t)1, NULL);
  fa_uninstall();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_runtime_paths),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
