/* Allocation failures in the push area (issue 15): the grouping-key path, parsing the exposition
 * into remote_write samples, encoding and snappy, and a remote writer started and stopped (its
 * thread takes rounds and fails to send to a closed port). Every N must end in PMX_OK or
 * PMX_ENOMEM and leak nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "fail_alloc.h"
#include "internal.h"
#include "push/push_internal.h"

static const char TEXT[] =
    "# TYPE a_total counter\n"
    "a_total{k=\"v\",z=\"q\\\"\"} 3\n"
    "h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 1.5\nh_count 2\n";

static int path_scenario(void *ctx) {
  (void)ctx;
  pmx_push_label_t l[] = {{"instance", "a/b"}, {"x", "y z"}};
  pmx_push_target_t t = {.url = "http://127.0.0.1:1", .job = "j", .labels = l, .nlabels = 2};
  pmx_buf_t b = {0};
  int rc = pmx_push_grouping_path(&t, &b, NULL);
  pmx_buf_free(&b);
  return rc;
}

static int encode_scenario(void *ctx) {
  (void)ctx;
  pmx__rw_batch_t b = {0};
  pmx_buf_t raw = {0}, z = {0};
  int rc = pmx__rw_parse_text(TEXT, sizeof TEXT - 1, &b, NULL);
  if (rc == PMX_OK) rc = pmx__rw_encode(&b, 0, b.n, &raw);
  if (rc == PMX_OK) rc = pmx__rw_snappy(raw.data, raw.len, &z);
  pmx_buf_free(&raw);
  pmx_buf_free(&z);
  pmx__rw_batch_free(&b);
  return rc;
}

static int render_fixed(void *ctx, pmx_buf_t *out) {
  (void)ctx;
  return pmx__buf_append(out, TEXT, sizeof TEXT - 1);
}

static int writer_scenario(void *ctx) {
  (void)ctx;
  pmx_remote_write_config_t cfg = {.url = "http://127.0.0.1:1/w", .interval_ms = 1000,
                                   .timeout_ms = 200};
  pmx_remote_writer_t *w = NULL;
  int rc = pmx__rw_start(&cfg, render_fixed, NULL, NULL, &w, NULL);
  if (rc != PMX_OK) return rc;
  pmx_remote_write_flush(w);
  pmx_remote_write_stop(w);
  return PMX_OK;
}

static void test_alloc_fail_push(void **state) {
  (void)state;
  fa_install();
  assert_true(fa_run("grouping path", path_scenario, NULL, NULL) > 0);
  assert_true(fa_run("parse+encode+snappy", encode_scenario, NULL, NULL) > 0);
  assert_true(fa_run("remote writer", writer_scenario, NULL, NULL) > 0);
  fa_uninstall();
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_alloc_fail_push)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
