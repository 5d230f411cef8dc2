/* The os plugin over a /proc fixture (option proc_root): a mount point or network interface
 * that disappears between two polls disappears from the exposition (every metric of its
 * group), the others go on; when it comes back, its series start fresh (an interface re-created
 * with counters above the old ones reports its own values, not the difference). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal.h"
#include "plugin_test_util.h"
#include "promex/plugins/os.h"
#include "promex/promex.h"

#define APP "os_retire"
#define PO APP "_prom_ex_os_"

typedef struct os_fx {
  char dir[64];
  char mnt_a[96], mnt_b[96];
  pmx_t *p;
  pmx_buf_t buf;
} os_fx_t;

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Replaces <dir>/<rel> at once (write then rename), so a poll never reads half a file. */
static void put(const os_fx_t *f, const char *rel, const char *text) {
  char path[160], tmp[170];
  snprintf(path, sizeof path, "%s/%s", f->dir, rel);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *fp = fopen(tmp, "w");
  assert_non_null(fp);
  assert_int_equal(fputs(text, fp) >= 0, 1);
  assert_int_equal(fclose(fp), 0);
  assert_int_equal(rename(tmp, path), 0);
}

static void put_mounts(const os_fx_t *f, bool with_b) {
  char text[512];
  int n = snprintf(text, sizeof text, "/dev/fixa %s ext4 rw 0 0\n", f->mnt_a);
  if (with_b) snprintf(text + n, sizeof text - (size_t)n, "/dev/fixb %s xfs rw 0 0\n", f->mnt_b);
  put(f, "self/mounts", text);
}

static void put_netdev(const os_fx_t *f, long eth_rx, long veth_rx) {
  char text[1024];
  int n = snprintf(text, sizeof text,
                   "Inter-|   Receive                                                |  Transmit\n"
                   " face |bytes    packets errs drop fifo frame compressed multicast|bytes    "
                   "packets errs drop fifo colls carrier compressed\n"
                   "  eth7: %ld 10 0 0 0 0 0 0 2000 20 0 0 0 0 0 0\n", eth_rx);
  if (veth_rx >= 0)
    snprintf(text + n, sizeof text - (size_t)n, " veth1: %ld 5 0 0 0 0 0 0 600 6 0 0 0 0 0 0\n",
             veth_rx);
  put(f, "net/dev", text);
}

static void quiet_log(void *ctx, pmx_log_level_t level, const char *msg) {
  (void)ctx;
  (void)level;
  (void)msg;
}

static int setup(void **state) {
  os_fx_t *f = calloc(1, sizeof *f);
  snprintf(f->dir, sizeof f->dir, "/tmp/pmx-os-retire-XXXXXX");
  assert_non_null(mkdtemp(f->dir));
  char sub[128];
  snprintf(sub, sizeof sub, "%s/self", f->dir);
  assert_int_equal(mkdir(sub, 0700), 0);
  snprintf(sub, sizeof sub, "%s/net", f->dir);
  assert_int_equal(mkdir(sub, 0700), 0);
  /* Mount points are real directories: the plugin statvfs()es them. */
  snprintf(f->mnt_a, sizeof f->mnt_a, "%s/mnt_a", f->dir);
  snprintf(f->mnt_b, sizeof f->mnt_b, "%s/mnt_b", f->dir);
  assert_int_equal(mkdir(f->mnt_a, 0700), 0);
  assert_int_equal(mkdir(f->mnt_b, 0700), 0);
  put(f, "loadavg", "1.50 2.00 3.25 2/300 12345\n");
  put(f, "stat", "cpu  100 0 50 1000 0 0 0 0 0 0\ncpu0 100 0 50 1000 0 0 0 0 0 0\n");
  put(f, "meminfo", "MemTotal:       1000 kB\nMemFree:         500 kB\n");
  put_mounts(f, true);
  put_netdev(f, 1000, 500);

  const pmx_kv_t opts[] = {{"poll_rate", "50"}, {"proc_root", f->dir}};
  pmx_plugin_use_t use = {&pmx_plugin_os, opts, 2, NULL};
  pmx_config_t cfg;
  pmx_config_defaults(&cfg);
  cfg.app = APP;
  cfg.plugins = &use;
  cfg.n_plugins = 1;
  cfg.log = quiet_log;
  pmx_error_t err = {0};
  int rc = pmx_new(&cfg, &f->p, &err);
  if (rc == PMX_OK) rc = pmx_start(f->p, &err);
  if (rc != PMX_OK) {
    fprintf(stderr, "start failed: %s: %s\n", pmx_err_name(rc), err.text);
    return -1;
  }
  *state = f;
  return 0;
}

static int teardown(void **state) {
  os_fx_t *f = *state;
  pmx_buf_free(&f->buf);
  pmx_destroy(f->p);
  const char *rel[] = {"loadavg", "stat", "meminfo", "self/mounts", "net/dev", "mnt_a", "mnt_b",
                       "self", "net"};
  for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
    char path[160];
    snprintf(path, sizeof path, "%s/%s", f->dir, rel[i]);
    remove(path);
  }
  rmdir(f->dir);
  free(f);
  return 0;
}

static const char *render(os_fx_t *f) {
  f->buf.len = 0;
  assert_int_equal(pmx_get_metrics(f->p, PMX_FORMAT_TEXT, &f->buf), PMX_OK);
  assert_int_equal(pmx__buf_append(&f->buf, "", 1), PMX_OK);
  return f->buf.data;
}

/* Waits (up to 5 s) until `name`{label} (label NULL: any) has value `want`; NAN: until it is
 * absent; PRESENT: until it has any value. */
#define PRESENT INFINITY
static bool wait_for(os_fx_t *f, const char *name, const char *label, double want) {
  for (int i = 0; i < 500; i++) {
    double v = pt_value(render(f), name, &label, label != NULL);
    if (isnan(want) ? isnan(v) : want == PRESENT ? !isnan(v) : v == want) return true;
    sleep_ms(10);
  }
  return false;
}

static size_t occurrences(const char *text, const char *needle) {
  size_t n = 0;
  for (const char *p = text; (p = strstr(p, needle)) != NULL; p++) n++;
  return n;
}

/* Waits (up to 5 s) until the exposition holds `needle` exactly n times. A poll retires a gone
 * device's series metric by metric, so a render right after the first one disappeared may still
 * show the others. */
static bool wait_occurrences(os_fx_t *f, const char *needle, size_t n) {
  for (int i = 0; i < 500; i++) {
    if (occurrences(render(f), needle) == n) return true;
    sleep_ms(10);
  }
  return false;
}

static void test_os_fixture_is_read(void **state) {
  os_fx_t *f = *state;
  /* proc_root applies to every group: the load average is the fixture's. */
  assert_true(wait_for(f, PO "load1", NULL, 1.5));
  assert_true(wait_for(f, PO "memory_total_bytes", NULL, 1000.0 * 1024));
}

static void test_os_unmounted_filesystem_is_retired(void **state) {
  os_fx_t *f = *state;
  char a[128], b[128];
  snprintf(a, sizeof a, "mountpoint=\"%s\"", f->mnt_a);
  snprintf(b, sizeof b, "mountpoint=\"%s\"", f->mnt_b);
  assert_true(wait_occurrences(f, b, 5)); /* size, free, available, files, files_free */
  assert_true(wait_occurrences(f, a, 5));

  put_mounts(f, false); /* umount b */
  assert_true(wait_for(f, PO "filesystem_size_bytes", b, NAN));
  assert_true(wait_occurrences(f, b, 0)); /* gone from every metric of the group */
  assert_int_equal(occurrences(render(f), a), 5); /* a stays */

  put_mounts(f, true); /* mounted again: back, fresh */
  assert_true(wait_for(f, PO "filesystem_size_bytes", b, PRESENT));
  assert_true(wait_occurrences(f, b, 5));
  const char *text = render(f);
  const char *b_xfs[] = {b, "fstype=\"xfs\"", "device=\"/dev/fixb\""};
  assert_true(pt_value(text, PO "filesystem_size_bytes", b_xfs, 3) > 0);
}

static void test_os_removed_interface_is_retired(void **state) {
  os_fx_t *f = *state;
  const char *veth = "device=\"veth1\"", *eth = "device=\"eth7\"";
  assert_true(wait_for(f, PO "network_receive_bytes_total", veth, 500));
  assert_true(wait_for(f, PO "network_transmit_packets_total", veth, 6));

  put_netdev(f, 1500, -1); /* veth1 deleted; eth7 goes on */
  assert_true(wait_for(f, PO "network_receive_bytes_total", veth, NAN));
  assert_true(wait_for(f, PO "network_receive_bytes_total", eth, 1500));
  assert_true(wait_occurrences(f, veth, 0)); /* all six counters */

  /* Re-created with higher counters than before: its own values, not 800 - 500. */
  put_netdev(f, 1600, 800);
  assert_true(wait_for(f, PO "network_receive_bytes_total", veth, 800));
  assert_true(wait_for(f, PO "network_receive_bytes_total", eth, 1600));
  assert_true(wait_occurrences(f, veth, 6));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_os_fixture_is_read, setup, teardown),
      cmocka_unit_test_setup_teardown(test_os_unmounted_filesystem_is_retired, setup, teardown),
      cmocka_unit_test_setup_teardown(test_os_removed_interface_is_retired, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
