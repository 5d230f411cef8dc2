/* Live tests of the application, process and os plugins: a real instance runs all three, and the
 * values they report are checked against independent sources on this machine: RSS against `ps`,
 * threads and descriptors against what the test creates, loaded libraries against
 * /proc/self/maps, filesystems against statvfs, network counters against /proc/net/dev read
 * separately; the whole exposition must pass `promtool check metrics` when promtool is present.
 * Bad options must fail pmx_start() with PMX_ECONFIG and a message naming the option. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <dlfcn.h>

#include "plugin_test_util.h"
#include "promex/plugins/application.h"
#include "promex/plugins/jobs.h"
#include "promex/plugins/amqp.h"
#include "promex/plugins/os.h"
#include "promex/plugins/process.h"
#include "promex/promex.h"
#include "internal.h"
#include "sysparse.h"

#define APP "plug_test"
#define PP APP "_prom_ex_process_"
#define PO APP "_prom_ex_os_"
#define PA APP "_prom_ex_application_"

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static int sha_cb(char *buf, size_t cap, void *ctx) {
  snprintf(buf, cap, "%s", (const char *)ctx);
  return 0;
}

typedef struct fixture {
  pmx_t *p;
  pmx_buf_t buf;
} fixture_t;

static const pmx_kv_t k_app_opts[] = {{"version", "1.2.3"}, {"poll_rate", "50"}};
static const pmx_kv_t k_fast[] = {{"poll_rate", "50"}};
static const pmx_application_opts_t k_app_cbs = {sha_cb, NULL, (void *)"cafe0001"};

static void quiet_log(void *ctx, pmx_log_level_t level, const char *msg) {
  (void)ctx;
  (void)level;
  (void)msg;
}

static int start_all(pmx_t **out, const pmx_plugin_use_t *uses, size_t n, pmx_error_t *err) {
  pmx_config_t cfg;
  pmx_config_defaults(&cfg);
  cfg.app = APP;
  cfg.plugins = uses;
  cfg.n_plugins = n;
  cfg.log = quiet_log;
  int rc = pmx_new(&cfg, out, err);
  if (rc != PMX_OK) return rc;
  rc = pmx_start(*out, err);
  if (rc != PMX_OK) {
    pmx_destroy(*out);
    *out = NULL;
  }
  return rc;
}

static int setup(void **state) {
  fixture_t *f = calloc(1, sizeof *f);
  setenv("GIT_AUTHOR", "Ada Lovelace", 1);
  pmx_plugin_use_t uses[] = {{&pmx_plugin_application, k_app_opts, 2, (void *)&k_app_cbs},
                             {&pmx_plugin_process, k_fast, 1, NULL},
                             {&pmx_plugin_os, k_fast, 1, NULL}};
  pmx_error_t err = {0};
  int rc = start_all(&f->p, uses, 3, &err);
  if (rc != PMX_OK) {
    fprintf(stderr, "start failed: %s: %s\n", pmx_err_name(rc), err.text);
    free(f);
    return -1;
  }
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture_t *f = *state;
  pmx_buf_free(&f->buf);
  pmx_destroy(f->p);
  free(f);
  return 0;
}

static const char *render(fixture_t *f) {
  f->buf.len = 0;
  assert_int_equal(pmx_get_metrics(f->p, PMX_FORMAT_TEXT, &f->buf), PMX_OK);
  /* NUL-terminate for the string helpers */
  assert_int_equal(pmx__buf_append(&f->buf, "", 1), PMX_OK);
  return f->buf.data;
}

/* Render-and-sleep rounds a wait allows: 3 s, five times that under valgrind, where a poll can
 * take longer than its 50 ms period (scripts/valgrind-unit.sh sets PMX_UNDER_VALGRIND). */
static int wait_rounds(void) { return getenv("PMX_UNDER_VALGRIND") != NULL ? 1500 : 300; }

/* Waits until metric `name` {labels} satisfies value == want; returns the last value. */
static double wait_value(fixture_t *f, const char *name, const char *const *labels, size_t n,
                         double want) {
  double v = NAN;
  for (int i = 0; i < wait_rounds(); i++) {
    v = pt_value(render(f), name, labels, n);
    if (v == want) return v;
    sleep_ms(10);
  }
  return v;
}

static double wait_present(fixture_t *f, const char *name) {
  double v = NAN;
  for (int i = 0; i < wait_rounds() && isnan(v); i++) {
    v = pt_value(render(f), name, NULL, 0);
    if (isnan(v)) sleep_ms(10);
  }
  return v;
}

static void test_application(void **state) {
  fixture_t *f = *state;
  const char *t = render(f);
  const char *primary[] = {"name=\"" APP "\"", "version=\"1.2.3\""};
  assert_true(pt_value(t, PA "primary_info", primary, 2) == 1);
  const char *sha[] = {"sha=\"cafe0001\""}; /* from the callback */
  assert_true(pt_value(t, PA "git_sha_info", sha, 1) == 1);
  const char *author[] = {"author=\"Ada Lovelace\""}; /* from GIT_AUTHOR */
  assert_true(pt_value(t, PA "git_author_info", author, 1) == 1);
  assert_true(wait_present(f, PA "uptime_seconds") >= 0);
}

/* Every shared object mapped executable in /proc/self/maps must appear as a dependency, and
 * there must be no dependency that is not mapped. */
static void test_dependencies_vs_maps(void **state) {
  fixture_t *f = *state;
  const char *t = render(f);
  pmx__text_t maps = {0};
  assert_int_equal(pmx__slurp("/proc/self/maps", &maps, 16 << 20), PMX_OK);
  size_t pos = 0, ln, n_libs = 0;
  const char *line;
  char seen[64][128];
  while (pmx__next_line(maps.data, maps.len, &pos, &line, &ln)) {
    char buf[1024];
    if (ln >= sizeof buf) continue;
    memcpy(buf, line, ln);
    buf[ln] = '\0';
    const char *path = strchr(buf, '/');
    char *perm = strchr(buf, ' ');
    if (path == NULL || perm == NULL || perm[3] != 'x') continue;
    const char *base = strrchr(path, '/') + 1;
    if (strstr(base, ".so") == NULL) continue;
    char name[128], ver[64];
    if (pmx__parse_lib_name(path, path, name, sizeof name, ver, sizeof ver) != PMX_OK) continue;
    bool dup = false;
    for (size_t i = 0; i < n_libs; i++) dup = dup || strcmp(seen[i], name) == 0;
    if (dup || n_libs == 64) continue;
    snprintf(seen[n_libs++], sizeof seen[0], "%s", name);
    char label[160];
    snprintf(label, sizeof label, "name=\"%s\"", name);
    const char *labels[] = {label};
    if (pt_value(t, PA "dependency_info", labels, 1) != 1) fail_msg("library %s (%s) missing", name, path);
  }
  pmx__text_free(&maps);
  assert_true(n_libs >= 3); /* libc, libcmocka, ld-linux at least */
  assert_int_equal(pt_count(t, PA "dependency_info"), n_libs);
}

static double ps_rss_bytes(void) {
  char cmd[64];
  snprintf(cmd, sizeof cmd, "ps -o rss= -p %d", (int)getpid());
  FILE *fp = popen(cmd, "r");
  if (fp == NULL) return NAN;
  double kb = NAN;
  if (fscanf(fp, "%lf", &kb) != 1) kb = NAN;
  pclose(fp);
  return kb * 1024;
}

static void test_rss_vs_ps(void **state) {
  fixture_t *f = *state;
  /* Touch 64 MiB so that RSS is dominated by something stable, then compare. */
  size_t big = 64u << 20;
  char *mem = malloc(big);
  assert_non_null(mem);
  memset(mem, 1, big);
  sleep_ms(250); /* so that the value compared comes from a poll taken after the memset */
  double ps = ps_rss_bytes();
  double v = NAN;
  for (int i = 0; i < wait_rounds(); i++) {
    v = pt_value(render(f), PP "memory_resident_bytes", NULL, 0);
    if (fabs(v - ps) < 0.1 * ps) break;
    sleep_ms(10);
  }
  free(mem);
  assert_false(isnan(ps));
  if (!(fabs(v - ps) < 0.1 * ps)) fail_msg("rss %.0f vs ps %.0f", v, ps);
  assert_true(v > (double)big);
  assert_true(pt_value(render(f), PP "memory_virtual_bytes", NULL, 0) >= v);
  assert_true(pt_value(render(f), PP "memory_heap_in_use_bytes", NULL, 0) >= 0);
}

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static bool g_release;

static void *parked(void *arg) {
  (void)arg;
  pthread_mutex_lock(&g_mu);
  while (!g_release) pthread_cond_wait(&g_cv, &g_mu);
  pthread_mutex_unlock(&g_mu);
  return NULL;
}

/* The process's thread count now, from the kernel (an independent source for the plugin's). */
static double live_threads(void) {
  FILE *fp = fopen("/proc/self/status", "r");
  char line[256];
  double n = NAN;
  while (fp != NULL && fgets(line, sizeof line, fp) != NULL)
    if (strncmp(line, "Threads:", 8) == 0) n = strtod(line + 8, NULL);
  if (fp != NULL) fclose(fp);
  return n;
}

/* Waits until the plugin's thread count equals the kernel's at the same moment and holds at least
 * `at_least` threads. A baseline taken earlier may include a short-lived thread (a library's or a
 * previous test's, slow to exit under valgrind), so the count is checked against the kernel's. */
static bool threads_match_kernel(fixture_t *f, double at_least) {
  for (int i = 0; i < 1000; i++) {
    double live = live_threads();
    double v = pt_value(render(f), PP "threads", NULL, 0);
    if (v == live && v >= at_least) return true;
    sleep_ms(10);
  }
  return false;
}

/* The process's descriptor count without the transient ones. The poll groups of all three
 * plugins run on a pool of workers, so while the process plugin counts /proc/self/fd another
 * worker may hold a /proc file open: a count can exceed the steady one, never fall below it.
 * Under valgrind on a loaded machine, polls outlast their period and the pool grows to a dozen
 * workers: samples were up to 8 above the steady count. The least of 1 s of samples is it. */
static double open_fds_floor(fixture_t *f) {
  double least = wait_present(f, PP "open_fds");
  for (int i = 0; i < 100; i++) {
    double v = pt_value(render(f), PP "open_fds", NULL, 0);
    if (v < least) least = v;
    sleep_ms(10);
  }
  return least;
}

static void test_threads_and_fds(void **state) {
  fixture_t *f = *state;
  /* The baseline must come from a poll taken after the previous test closed its popen() pipe:
   * wait several poll periods (50 ms) first. */
  sleep_ms(250);
  assert_false(isnan(wait_present(f, PP "threads")));
  double fds0 = open_fds_floor(f);
  pthread_t th[4];
  g_release = false;
  for (int i = 0; i < 4; i++) assert_int_equal(pthread_create(&th[i], NULL, parked, NULL), 0);
  int fds[10];
  for (int i = 0; i < 10; i++) assert_true((fds[i] = open("/dev/null", O_RDONLY)) >= 0);
  /* The four parked threads plus this one, counted as the kernel counts them. */
  assert_true(threads_match_kernel(f, 5));
  assert_true(wait_value(f, PP "open_fds", NULL, 0, fds0 + 10) == fds0 + 10);
  /* Threads by state: the four parked threads sleep, and the states add up to the thread count
   * of the same moment (both come from polls of the same period; retry until they agree). */
  static const char *const states[] = {"running", "sleeping", "disk_sleep", "stopped",
                                       "zombie",  "idle",     "other"};
  double sum = NAN, sleeping = NAN, threads = NAN;
  for (int i = 0; i < wait_rounds(); i++) {
    const char *t = render(f);
    sum = 0;
    for (size_t k = 0; k < 7; k++) {
      char lab[32];
      snprintf(lab, sizeof lab, "state=\"%s\"", states[k]);
      const char *l[] = {lab};
      sum += pt_value(t, PP "threads_state", l, 1);
    }
    const char *sl[] = {"state=\"sleeping\""};
    sleeping = pt_value(t, PP "threads_state", sl, 1);
    threads = pt_value(t, PP "threads", NULL, 0);
    if (sum == threads && sleeping >= 4) break;
    sleep_ms(10);
  }
  if (!(sum == threads && sleeping >= 4))
    fail_msg("states sum %.0f, threads %.0f, sleeping %.0f", sum, threads, sleeping);
  pthread_mutex_lock(&g_mu);
  g_release = true;
  pthread_cond_broadcast(&g_cv);
  pthread_mutex_unlock(&g_mu);
  for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
  for (int i = 0; i < 10; i++) close(fds[i]);
  assert_true(wait_value(f, PP "open_fds", NULL, 0, fds0) == fds0);
  struct rlimit rl;
  assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
  assert_true(pt_value(render(f), PP "max_fds", NULL, 0) == (double)rl.rlim_cur);
}

/* I/O counters follow /proc/self/io: writing 1 MiB to /dev/null in 16 writes adds at least that
 * many bytes and syscalls (other threads may add more, never less). */
static void test_io_and_run_queue(void **state) {
  fixture_t *f = *state;
  const char *wr[] = {"direction=\"write\""};
  sleep_ms(120);
  double bytes0 = wait_present(f, PP "io_bytes_total");
  bytes0 = pt_value(render(f), PP "io_bytes_total", wr, 1);
  double calls0 = pt_value(render(f), PP "io_syscalls_total", wr, 1);
  assert_false(isnan(bytes0));
  assert_false(isnan(calls0));
  int fd = open("/dev/null", O_WRONLY);
  assert_true(fd >= 0);
  static char block[65536];
  for (int i = 0; i < 16; i++) assert_int_equal(write(fd, block, sizeof block), (ssize_t)sizeof block);
  close(fd);
  double bytes = NAN, calls = NAN;
  for (int i = 0; i < wait_rounds(); i++) {
    bytes = pt_value(render(f), PP "io_bytes_total", wr, 1);
    calls = pt_value(render(f), PP "io_syscalls_total", wr, 1);
    if (bytes >= bytes0 + 16 * 65536.0 && calls >= calls0 + 16) break;
    sleep_ms(10);
  }
  if (!(bytes >= bytes0 + 16 * 65536.0 && calls >= calls0 + 16))
    fail_msg("io bytes %.0f -> %.0f, syscalls %.0f -> %.0f", bytes0, bytes, calls0, calls);
  /* The counter never exceeds what the kernel reports now. */
  FILE *io = fopen("/proc/self/io", "r");
  assert_non_null(io);
  unsigned long long wchar = 0;
  char line[128];
  while (fgets(line, sizeof line, io)) sscanf(line, "wchar: %llu", &wchar);
  fclose(io);
  assert_true(pt_value(render(f), PP "io_bytes_total", wr, 1) <= (double)wchar);
  /* Run-queue wait: present (on kernels with schedstat) and never negative. */
  if (access("/proc/self/schedstat", R_OK) == 0)
    assert_true(wait_present(f, PP "cpu_run_queue_wait_seconds_total") >= 0);
  assert_true(wait_present(f, PP "memory_heap_free_chunks") >= 0);
}

static void test_cpu_counters(void **state) {
  fixture_t *f = *state;
  /* burn some CPU, then the counter (a sum of deltas) must track getrusage */
  volatile double x = 0;
  for (long i = 0; i < 20000000; i++) x += (double)i * 1e-9;
  struct rusage before;
  getrusage(RUSAGE_SELF, &before);
  const char *user[] = {"mode=\"user\""};
  double want = (double)before.ru_utime.tv_sec + (double)before.ru_utime.tv_usec / 1e6;
  double v = NAN;
  for (int i = 0; i < wait_rounds(); i++) {
    v = pt_value(render(f), PP "cpu_seconds_total", user, 1);
    if (v >= want - 1e-6) break;
    sleep_ms(10);
  }
  assert_true(v >= want - 1e-6);
  struct rusage after;
  getrusage(RUSAGE_SELF, &after);
  assert_true(v <= (double)after.ru_utime.tv_sec + (double)after.ru_utime.tv_usec / 1e6 + 1e-6);
  const char *vol[] = {"type=\"voluntary\""};
  assert_true(pt_value(render(f), PP "context_switches_total", vol, 1) >= 0);
}

static void test_topology_limits_info(void **state) {
  fixture_t *f = *state;
  const char *t = render(f);
  assert_true(pt_value(t, PP "system_logical_processors_online", NULL, 0) ==
              (double)sysconf(_SC_NPROCESSORS_ONLN));
  assert_true(pt_value(t, PP "system_logical_processors_available", NULL, 0) >= 1);
  assert_true(pt_value(t, PP "system_word_size_bytes", NULL, 0) == (double)sizeof(void *));
  assert_true(pt_value(t, PP "system_page_size_bytes", NULL, 0) == (double)sysconf(_SC_PAGESIZE));
  const char *ver[] = {"promex_version=\"" PMX_VERSION_STRING "\""};
  assert_true(pt_value(t, PP "system_info", ver, 1) == 1);
  struct rlimit rl;
  getrlimit(RLIMIT_STACK, &rl);
  double want = rl.rlim_cur == RLIM_INFINITY ? INFINITY : (double)rl.rlim_cur;
  assert_true(pt_value(t, PP "system_limit_stack_bytes", NULL, 0) == want);
  assert_true(pt_value(t, PP "system_thread_stack_default_bytes", NULL, 0) > 0);
  /* An unlimited limit is +Inf in the exposition (it was -1, which drove ratios negative). */
  struct rlimit core;
  assert_int_equal(getrlimit(RLIMIT_CORE, &core), 0);
  if (core.rlim_max == RLIM_INFINITY) {
    struct rlimit unl = {RLIM_INFINITY, RLIM_INFINITY};
    assert_int_equal(setrlimit(RLIMIT_CORE, &unl), 0);
    assert_int_equal(pmx_refresh_manual_metrics(f->p), PMX_OK);
    t = render(f);
    double v = pt_value(t, PP "system_limit_core_bytes", NULL, 0);
    assert_int_equal(setrlimit(RLIMIT_CORE, &core), 0);
    assert_true(isinf(v) && v > 0);
    assert_non_null(strstr(t, PP "system_limit_core_bytes +Inf\n"));
    assert_int_equal(pmx_refresh_manual_metrics(f->p), PMX_OK);
  } else {
    print_message("RLIMIT_CORE hard limit is finite: +Inf rendering not exercised\n");
  }
}

static void test_filesystem_vs_statvfs(void **state) {
  fixture_t *f = *state;
  struct statvfs sv;
  assert_int_equal(statvfs("/", &sv), 0);
  double size = (double)sv.f_blocks * (double)sv.f_frsize;
  const char *root[] = {"mountpoint=\"/\""};
  assert_true(wait_value(f, PO "filesystem_size_bytes", root, 1, size) == size);
  assert_true(pt_value(render(f), PO "filesystem_files", root, 1) == (double)sv.f_files);
  /* pseudo filesystems are excluded by default */
  const char *proc[] = {"mountpoint=\"/proc\""};
  assert_true(isnan(pt_value(render(f), PO "filesystem_size_bytes", proc, 1)));
  const char *tmpfs[] = {"fstype=\"tmpfs\""};
  assert_true(isnan(pt_value(render(f), PO "filesystem_size_bytes", tmpfs, 1)));
}

static void test_os_memory_net_load(void **state) {
  fixture_t *f = *state;
  pmx__text_t t = {0};
  assert_int_equal(pmx__slurp("/proc/meminfo", &t, 1 << 20), PMX_OK);
  pmx__meminfo_t mi;
  assert_int_equal(pmx__parse_meminfo(t.data, &mi), PMX_OK);
  assert_true(wait_value(f, PO "memory_total_bytes", NULL, 0, (double)mi.total) == (double)mi.total);
  /* network: a counter equals the source, so it is >= what we read before and <= after */
  assert_int_equal(pmx__slurp("/proc/net/dev", &t, 1 << 20), PMX_OK);
  size_t pos = 0, ln;
  const char *line;
  int checked = 0;
  while (pmx__next_line(t.data, t.len, &pos, &line, &ln)) {
    pmx__netdev_t d;
    if (pmx__parse_netdev_line(line, ln, &d) != PMX_OK) continue;
    char label[96];
    snprintf(label, sizeof label, "device=\"%s\"", d.name);
    const char *labels[] = {label};
    if (strcmp(d.name, "lo") == 0) {
      assert_true(isnan(pt_value(render(f), PO "network_receive_bytes_total", labels, 1)));
      continue;
    }
    double v = NAN;
    for (int i = 0; i < wait_rounds(); i++) {
      v = pt_value(render(f), PO "network_receive_bytes_total", labels, 1);
      if (v >= (double)d.rx_bytes) break;
      sleep_ms(10);
    }
    assert_true(v >= (double)d.rx_bytes);
    checked++;
  }
  pmx__text_free(&t);
  assert_true(checked >= 1);
  assert_true(wait_present(f, PO "load1") >= 0);
  double util = wait_present(f, PO "cpu_utilization_ratio");
  assert_true(util >= 0 && util <= 1);
  const char *idle[] = {"mode=\"idle\""};
  assert_true(pt_value(render(f), PO "cpu_seconds_total", idle, 1) > 0);
}

static void test_promtool(void **state) {
  fixture_t *f = *state;
  if (system("command -v promtool >/dev/null 2>&1") != 0) skip();
  wait_present(f, PO "load1");
  wait_present(f, PP "threads");
  const char *t = render(f);
  char path[] = "/tmp/pmx_plugins_promtool_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  size_t len = strlen(t);
  assert_int_equal(write(fd, t, len), (ssize_t)len);
  close(fd);
  char cmd[256];
  snprintf(cmd, sizeof cmd, "promtool check metrics < %s > %s.out 2>&1", path, path);
  int rc = system(cmd);
  if (rc != 0) {
    snprintf(cmd, sizeof cmd, "cat %s.out >&2", path);
    if (system(cmd) != 0) { /* best effort */
    }
  }
  snprintf(cmd, sizeof cmd, "%s.out", path);
  unlink(cmd);
  unlink(path);
  assert_int_equal(rc, 0);
}

/* ---- bad options ---- */

static void expect_config_error(const pmx_plugin_t *pl, const pmx_kv_t *opts, size_t n,
                                const char *needle) {
  pmx_plugin_use_t use = {pl, opts, n, NULL};
  pmx_t *p = NULL;
  pmx_error_t err = {0};
  int rc = start_all(&p, &use, 1, &err);
  assert_int_equal(rc, PMX_ECONFIG);
  assert_null(p);
  if (strstr(err.text, needle) == NULL) fail_msg("error text \"%s\" lacks \"%s\"", err.text, needle);
}

static void test_bad_options(void **state) {
  (void)state;
  const pmx_kv_t bogus[] = {{"bogus", "1"}};
  expect_config_error(&pmx_plugin_process, bogus, 1, "bogus");
  expect_config_error(&pmx_plugin_os, bogus, 1, "bogus");
  expect_config_error(&pmx_plugin_application, bogus, 1, "bogus");
  const pmx_kv_t empty_deps[] = {{"deps", ""}};
  expect_config_error(&pmx_plugin_application, empty_deps, 1, "deps");
}

static void test_options_filters(void **state) {
  (void)state;
  const pmx_kv_t os_opts[] = {{"poll_rate", "50"}, {"fs_include_mounts", "/"},
                              {"net_exclude", ""}};
  const pmx_kv_t app_opts[] = {{"deps", "libc"}, {"git_sha", "opt_sha"}};
  pmx_plugin_use_t uses[] = {{&pmx_plugin_os, os_opts, 3, NULL},
                             {&pmx_plugin_application, app_opts, 2, (void *)&k_app_cbs}};
  fixture_t f = {0};
  pmx_error_t err = {0};
  assert_int_equal(start_all(&f.p, uses, 2, &err), PMX_OK);
  wait_present(&f, PO "filesystem_size_bytes");
  const char *t = render(&f);
  assert_int_equal(pt_count(t, PO "filesystem_size_bytes"), 1);
  const char *lo[] = {"device=\"lo\""};
  for (int i = 0; i < wait_rounds() && isnan(pt_value(t, PO "network_receive_bytes_total", lo, 1)); i++) {
    sleep_ms(10);
    t = render(&f);
  }
  assert_false(isnan(pt_value(t, PO "network_receive_bytes_total", lo, 1)));
  assert_int_equal(pt_count(t, PA "dependency_info"), 1); /* only libc */
  const char *sha[] = {"sha=\"opt_sha\""}; /* the option beats the callback */
  assert_true(pt_value(t, PA "git_sha_info", sha, 1) == 1);
  const char *def[] = {"version=\"undefined\""};
  assert_true(pt_value(t, PA "primary_info", def, 1) == 1);
  pmx_buf_free(&f.buf);
  pmx_destroy(f.p);
}

/* Without a `version` option the application plugin reports the configuration's app_version. */
static void test_app_version_from_config(void **state) {
  (void)state;
  pmx_plugin_use_t uses[] = {{&pmx_plugin_application, NULL, 0, NULL}};
  pmx_config_t cfg;
  pmx_config_defaults(&cfg);
  cfg.app = APP;
  cfg.app_version = "9.8.7";
  cfg.plugins = uses;
  cfg.n_plugins = 1;
  cfg.log = quiet_log;
  fixture_t f = {0};
  pmx_error_t err = {0};
  assert_int_equal(pmx_new(&cfg, &f.p, &err), PMX_OK);
  assert_int_equal(pmx_start(f.p, &err), PMX_OK);
  wait_present(&f, PA "primary_info");
  const char *t = render(&f);
  const char *ver[] = {"version=\"9.8.7\""};
  assert_true(pt_value(t, PA "primary_info", ver, 1) == 1);
  pmx_buf_free(&f.buf);
  pmx_destroy(f.p);
}

/* A library loaded after start shows up as a new dependency on refresh, while primary_info stays
 * one series (its modules label is fixed at the first run). */
static void test_refresh_after_dlopen(void **state) {
  (void)state;
  pmx_plugin_use_t uses[] = {{&pmx_plugin_application, NULL, 0, NULL}};
  fixture_t f = {0};
  pmx_error_t err = {0};
  assert_int_equal(start_all(&f.p, uses, 1, &err), PMX_OK);
  wait_present(&f, PA "primary_info");
  void *h = dlopen("libanl.so.1", RTLD_NOW);
  assert_non_null(h);
  assert_int_equal(pmx_refresh_manual_metrics(f.p), PMX_OK);
  const char *t = render(&f);
  assert_int_equal(pt_count(t, PA "primary_info"), 1);
  const char *anl[] = {"name=\"libanl\""};
  assert_true(pt_value(t, PA "dependency_info", anl, 1) == 1);
  pmx_buf_free(&f.buf);
  pmx_destroy(f.p);
  dlclose(h);
}

static void test_registry(void **state) {
  (void)state;
  size_t n = 0;
  const pmx_plugin_t *const *all = pmx_first_party_plugins(&n);
  assert_true(n >= 3); /* later issues append plugins */
  assert_null(all[n]);
  assert_ptr_equal(pmx_first_party_plugin("jobs"), &pmx_plugin_jobs);
  assert_ptr_equal(pmx_first_party_plugin("amqp"), &pmx_plugin_amqp);
  assert_ptr_equal(pmx_first_party_plugin("os"), &pmx_plugin_os);
  assert_ptr_equal(pmx_first_party_plugin("process"), &pmx_plugin_process);
  assert_ptr_equal(pmx_first_party_plugin("application"), &pmx_plugin_application);
  assert_null(pmx_first_party_plugin("nope"));
  assert_null(pmx_first_party_plugin(NULL));
  assert_ptr_equal(pmx_first_party_plugins(NULL), all);
}

int main(void) {
  const struct CMUnitTest live[] = {
      cmocka_unit_test(test_application),
      cmocka_unit_test(test_dependencies_vs_maps),
      cmocka_unit_test(test_rss_vs_ps),
      cmocka_unit_test(test_threads_and_fds),
      cmocka_unit_test(test_io_and_run_queue),
      cmocka_unit_test(test_cpu_counters),
      cmocka_unit_test(test_topology_limits_info),
      cmocka_unit_test(test_filesystem_vs_statvfs),
      cmocka_unit_test(test_os_memory_net_load),
      cmocka_unit_test(test_promtool),
  };
  const struct CMUnitTest other[] = {
      cmocka_unit_test(test_bad_options),
      cmocka_unit_test(test_options_filters),
      cmocka_unit_test(test_registry),
      cmocka_unit_test(test_app_version_from_config),
      cmocka_unit_test(test_refresh_after_dlopen),
  };
  int rc = cmocka_run_group_tests_name("live", live, setup, teardown);
  rc += cmocka_run_group_tests_name("options", other, NULL, NULL);
  return rc;
}
