/* Tests of the first-party plugins' pure parsers (plugins/sysparse*.c, plugins/sysutil.c) over
 * captured /proc fixtures in tests/data/proc/, including odd ones (a command name with spaces and
 * parentheses, mount points with octal escapes, long and old-style interface lines, kernels
 * without steal/guest or MemAvailable). Expected values are worked out by hand from the fixture
 * text (the arithmetic is written next to each assertion). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"
#include "plugin_common.h"
#include "sysparse.h"

static pmx__text_t g_text;

static const char *fixture(const char *name) {
  char path[1024];
  snprintf(path, sizeof path, "%s/proc/%s", PMX_TEST_DATA, name);
  assert_int_equal(pmx__slurp(path, &g_text, 1 << 20), PMX_OK);
  return g_text.data;
}

static int teardown(void **state) {
  (void)state;
  pmx__text_free(&g_text);
  return 0;
}

static void test_pid_stat_odd_comm(void **state) {
  (void)state;
  pmx__pid_stat_t st;
  assert_int_equal(pmx__parse_pid_stat(fixture("self_stat_odd_comm"), &st), PMX_OK);
  assert_int_equal(st.state, 'S');
  assert_int_equal(st.minflt, 1500); /* field 10 */
  assert_int_equal(st.majflt, 7);    /* field 12 */
  assert_int_equal(st.utime_ticks, 250);
  assert_int_equal(st.stime_ticks, 120);
  assert_int_equal(st.num_threads, 5);
  assert_int_equal(st.starttime_ticks, 98765);
  assert_int_equal(st.vsize, 123456789);
  assert_int_equal(st.rss_pages, 3000);
}

static void test_pid_stat_bad(void **state) {
  (void)state;
  pmx__pid_stat_t st;
  assert_int_equal(pmx__parse_pid_stat("", &st), PMX_EPARSE);
  assert_int_equal(pmx__parse_pid_stat("12 (x) S 1 2 3", &st), PMX_EPARSE); /* truncated */
  assert_int_equal(pmx__parse_pid_stat("no parens at all", &st), PMX_EPARSE);
  assert_int_equal(pmx__parse_pid_stat(NULL, &st), PMX_EINVAL);
  /* an overflowing number is refused, not wrapped */
  assert_int_equal(pmx__parse_pid_stat("1 (a) S 1 1 1 0 -1 0 99999999999999999999999 0 0 0 1 1 0 "
                                       "0 20 0 1 0 1 1 1",
                                       &st),
                   PMX_EPARSE);
}

static void test_statm_status(void **state) {
  (void)state;
  uint64_t size, rss, v;
  assert_int_equal(pmx__parse_statm(fixture("self_statm"), &size, &rss), PMX_OK);
  assert_int_equal(size, 52000);
  assert_int_equal(rss, 3000);
  assert_int_equal(pmx__parse_statm("", &size, &rss), PMX_EPARSE);
  const char *status = fixture("self_status");
  assert_int_equal(pmx__parse_kv_kb(status, "VmHWM", &v), PMX_OK);
  assert_int_equal(v, 12345ull * 1024);
  assert_int_equal(pmx__parse_kv_kb(status, "Threads", &v), PMX_OK);
  assert_int_equal(v, 5); /* no kB suffix: as is */
  assert_int_equal(pmx__parse_kv_kb(status, "VmSwap", &v), PMX_ENOENT);
  /* "Vm" is a prefix of keys but not a key */
  assert_int_equal(pmx__parse_kv_kb(status, "Vm", &v), PMX_ENOENT);
  assert_int_equal(pmx__parse_u64("4096\n", &v), PMX_OK);
  assert_int_equal(v, 4096);
  assert_int_equal(pmx__parse_u64("x", &v), PMX_EPARSE);
}

static void lib(const char *path, const char *real, const char *ename, const char *ever) {
  char name[64], ver[32];
  assert_int_equal(pmx__parse_lib_name(path, real, name, sizeof name, ver, sizeof ver), PMX_OK);
  assert_string_equal(name, ename);
  assert_string_equal(ver, ever);
}

static void test_lib_names(void **state) {
  (void)state;
  lib("/lib/x86_64-linux-gnu/libcurl.so.4", "/usr/lib/x86_64-linux-gnu/libcurl.so.4.8.0",
      "libcurl", "4.8.0");
  lib("/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libc.so.6", "libc", "6");
  lib("/lib/x86_64-linux-gnu/libc.so.6", NULL, "libc", "6");
  lib("/usr/lib/libLLVM-15.so", "/usr/lib/libLLVM-15.so", "libLLVM", "15");
  lib("/opt/app/libplugin.so", NULL, "libplugin", "undefined");
  lib("/lib64/ld-linux-x86-64.so.2", "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
      "ld-linux-x86-64", "2");
  lib("/usr/lib/libpython3.11.so.1.0", NULL, "libpython3.11", "1.0");
  char name[8], ver[4];
  /* truncation keeps NUL termination */
  assert_int_equal(pmx__parse_lib_name("/x/libverylongname.so.1.2.3", NULL, name, sizeof name, ver,
                                       sizeof ver),
                   PMX_OK);
  assert_string_equal(name, "libvery");
  assert_string_equal(ver, "1.2");
  assert_int_equal(pmx__parse_lib_name("/usr/bin/prog", NULL, name, sizeof name, ver, sizeof ver),
                   PMX_EPARSE);
  assert_int_equal(pmx__parse_lib_name("/x/libso.something", NULL, name, sizeof name, ver,
                                       sizeof ver),
                   PMX_EPARSE);
  assert_int_equal(pmx__parse_lib_name(NULL, NULL, name, sizeof name, ver, sizeof ver),
                   PMX_EINVAL);
}

static void test_loadavg(void **state) {
  (void)state;
  pmx__loadavg_t la;
  assert_int_equal(pmx__parse_loadavg(fixture("loadavg"), &la), PMX_OK);
  assert_true(fabs((la.load1) - (0.52)) < 1e-12);
  assert_true(fabs((la.load5) - (1.08)) < 1e-12);
  assert_true(fabs((la.load15) - (12.50)) < 1e-12);
  assert_int_equal(la.running, 3);
  assert_int_equal(la.total, 412);
  assert_int_equal(pmx__parse_loadavg("0.1 0.2", &la), PMX_EPARSE);
  assert_int_equal(pmx__parse_loadavg("-1 0 0 1/2 3", &la), PMX_EPARSE);
  /* running/total absent: loads still parse, the counts say "unknown" */
  assert_int_equal(pmx__parse_loadavg("1 2 3", &la), PMX_OK);
  assert_int_equal(la.total, -1);
}

static void test_proc_stat(void **state) {
  (void)state;
  pmx__proc_stat_t st;
  assert_int_equal(pmx__parse_proc_stat(fixture("stat_modern"), &st), PMX_OK);
  assert_int_equal(st.n_modes, 10);
  assert_int_equal(st.ticks[PMX__CPU_USER], 3268);
  assert_int_equal(st.ticks[PMX__CPU_NICE], 10);
  assert_int_equal(st.ticks[PMX__CPU_IDLE], 132539);
  assert_int_equal(st.ticks[PMX__CPU_STEAL], 8);
  assert_int_equal(st.ticks[PMX__CPU_GUEST_NICE], 1);
  assert_int_equal(st.n_cpus, 2);
  assert_true(st.have_btime);
  assert_int_equal(st.btime, 1700000000);
  assert_string_equal(pmx__cpu_mode_names[PMX__CPU_GUEST_NICE], "guest_nice");

  /* Linux 2.6.9: 7 modes (no steal, guest, guest_nice). */
  assert_int_equal(pmx__parse_proc_stat(fixture("stat_linux_2_6_9"), &st), PMX_OK);
  assert_int_equal(st.n_modes, 7);
  assert_int_equal(st.ticks[PMX__CPU_SOFTIRQ], 7);
  assert_int_equal(st.ticks[PMX__CPU_STEAL], 0);
  assert_int_equal(st.n_cpus, 1);
  assert_int_equal(st.btime, 1100000000);

  assert_int_equal(pmx__parse_proc_stat("intr 1 2\n", &st), PMX_EPARSE); /* no cpu line */
  assert_int_equal(pmx__parse_proc_stat("cpu  1 2 3\n", &st), PMX_EPARSE); /* < 4 modes */
}

static void test_meminfo(void **state) {
  (void)state;
  pmx__meminfo_t mi;
  assert_int_equal(pmx__parse_meminfo(fixture("meminfo_modern"), &mi), PMX_OK);
  assert_int_equal(mi.have, PMX__MEM_TOTAL | PMX__MEM_FREE | PMX__MEM_AVAILABLE |
                                PMX__MEM_BUFFERS | PMX__MEM_CACHED | PMX__MEM_SWAP_TOTAL |
                                PMX__MEM_SWAP_FREE);
  assert_int_equal(mi.total, 24684084ull * 1024);
  assert_int_equal(mi.available, 22000000ull * 1024);
  assert_int_equal(mi.cached, 1500000ull * 1024); /* not SwapCached */
  assert_int_equal(mi.swap_free, 2097000ull * 1024);

  assert_int_equal(pmx__parse_meminfo(fixture("meminfo_linux_3_10"), &mi), PMX_OK);
  assert_false(mi.have & PMX__MEM_AVAILABLE);
  assert_int_equal(mi.available, 0);
  assert_int_equal(mi.buffers, 20000ull * 1024);

  assert_int_equal(pmx__parse_meminfo("Buffers: 1 kB\n", &mi), PMX_EPARSE);
  assert_int_equal(pmx__parse_meminfo("MemTotal: x kB\nMemFree: 1 kB\n", &mi), PMX_EPARSE);
}

static void test_unescape(void **state) {
  (void)state;
  char out[32];
  assert_int_equal(pmx__unescape_octal("a\\040b", 6, out, sizeof out), 3);
  assert_string_equal(out, "a b");
  assert_int_equal(pmx__unescape_octal("\\134", 4, out, sizeof out), 1);
  assert_string_equal(out, "\\");
  /* incomplete or non-octal escapes are kept */
  assert_int_equal(pmx__unescape_octal("x\\04", 4, out, sizeof out), 4);
  assert_string_equal(out, "x\\04");
  assert_int_equal(pmx__unescape_octal("\\999", 4, out, sizeof out), 4);
  /* truncation */
  assert_int_equal(pmx__unescape_octal("abcdef", 6, out, 4), 3);
  assert_string_equal(out, "abc");
}

static void test_mounts(void **state) {
  (void)state;
  const char *t = fixture("mounts_escapes");
  size_t len = strlen(t), pos = 0, ln;
  const char *line;
  pmx__mount_t m[16];
  size_t n = 0;
  int bad = 0;
  while (pmx__next_line(t, len, &pos, &line, &ln) && n < 16) {
    int rc = pmx__parse_mount_line(line, ln, &m[n]);
    if (rc == PMX_OK)
      n++;
    else
      bad++;
  }
  assert_int_equal(n, 10);
  assert_int_equal(bad, 1); /* "garbage_line_with_two_fields /x" */
  assert_string_equal(m[1].mountpoint, "/");
  assert_string_equal(m[1].fstype, "ext4");
  assert_string_equal(m[2].mountpoint, "/mnt/My Drive");
  assert_string_equal(m[3].mountpoint, "/mnt/tab\tand\\backslash");
  assert_string_equal(m[4].device, "//server/share name");
  assert_string_equal(m[4].fstype, "cifs");
  assert_string_equal(m[5].mountpoint, "/mnt/new\nline");
  assert_string_equal(m[6].mountpoint, "/mnt/not\\08escape");

  /* a field longer than its buffer is refused, not truncated */
  char longline[2000];
  memset(longline, 'a', sizeof longline);
  memcpy(longline, "dev /", 5);
  memcpy(longline + 1500, " ext4 rw 0 0", 12);
  assert_int_equal(pmx__parse_mount_line(longline, 1512, &m[0]), PMX_EPARSE);
}

static void test_fs_filters(void **state) {
  (void)state;
  pmx__mount_t m;
  memset(&m, 0, sizeof m);
  strcpy(m.fstype, "ext4");
  strcpy(m.mountpoint, "/mnt/My Drive");
  assert_true(pmx__os_fs_selected(NULL, NULL, NULL, NULL, &m));
  assert_false(pmx__os_fs_selected(NULL, NULL, NULL, "tmpfs, ext4", &m));
  assert_true(pmx__os_fs_selected(NULL, NULL, "xfs,ext4", NULL, &m));
  assert_false(pmx__os_fs_selected(NULL, NULL, "xfs", NULL, &m));
  assert_false(pmx__os_fs_selected(NULL, "/mnt/", NULL, NULL, &m));
  assert_true(pmx__os_fs_selected(NULL, "/mnt", NULL, NULL, &m)); /* exact only */
  assert_true(pmx__os_fs_selected("/mnt/My Drive", NULL, NULL, NULL, &m));
  assert_false(pmx__os_fs_selected("/", NULL, NULL, NULL, &m));

  assert_true(pmx__mount_list_match("/proc/", "/proc/sys"));
  assert_false(pmx__mount_list_match("/proc/", "/proc"));
  assert_false(pmx__mount_list_match("/proc/", "/procfoo"));
  assert_true(pmx__mount_list_match("/", "/"));
  assert_false(pmx__mount_list_match("/", "/home"));
  assert_true(pmx__mount_list_match(" /a , /b ", "/b"));
  assert_false(pmx__mount_list_match(",,", "/"));
  assert_false(pmx__mount_list_match(NULL, "/"));

  assert_true(pmx__list_has("lo, docker0", "docker0", 7));
  assert_false(pmx__list_has("lo, docker0", "docker", 6));
  assert_false(pmx__list_has("", "lo", 2));
}

static void test_netdev(void **state) {
  (void)state;
  const char *t = fixture("net_dev_odd");
  size_t len = strlen(t), pos = 0, ln;
  const char *line;
  pmx__netdev_t d[8];
  int rcs[8];
  size_t n = 0;
  while (pmx__next_line(t, len, &pos, &line, &ln) && n < 8) rcs[n] = pmx__parse_netdev_line(line, ln, &d[n]), n++;
  assert_int_equal(n, 6);
  assert_int_equal(rcs[0], PMX_ENOENT); /* headers */
  assert_int_equal(rcs[1], PMX_ENOENT);
  assert_int_equal(rcs[2], PMX_OK);
  assert_string_equal(d[2].name, "lo");
  assert_int_equal(d[2].rx_bytes, 3267);
  assert_int_equal(d[2].tx_packets, 29);
  assert_int_equal(rcs[3], PMX_OK);
  assert_string_equal(d[3].name, "enp0s31f6-longname");
  assert_int_equal(d[3].rx_bytes, 59304127);
  assert_int_equal(d[3].rx_packets, 1289);
  assert_int_equal(d[3].rx_errs, 3);
  assert_int_equal(d[3].tx_bytes, 60314);
  assert_int_equal(d[3].tx_packets, 680);
  assert_int_equal(d[3].tx_errs, 2);
  assert_int_equal(rcs[4], PMX_OK); /* "eth0:4294967296 ...": no space after the colon */
  assert_string_equal(d[4].name, "eth0");
  assert_int_equal(d[4].rx_bytes, 4294967296ull);
  assert_int_equal(d[4].tx_bytes, 123);
  assert_int_equal(d[4].tx_errs, 5);
  assert_int_equal(rcs[5], PMX_EPARSE); /* "bad0: 1 2 3": too few counters */
}

static void test_slurp_errors(void **state) {
  (void)state;
  pmx__text_t t = {0};
  assert_int_equal(pmx__slurp("/nonexistent/promex/file", &t, 4096), PMX_ESYS);
  assert_int_equal(pmx__slurp(NULL, &t, 4096), PMX_EINVAL);
  /* truncation drops the partial last line */
  char path[1024];
  snprintf(path, sizeof path, "%s/proc/stat_modern", PMX_TEST_DATA);
  /* the first line is 40 bytes; 59 fit in a 60-byte buffer */
  assert_int_equal(pmx__slurp(path, &t, 60), PMX_OK);
  assert_int_equal(t.len, 40);
  assert_int_equal(t.data[t.len - 1], '\n');
  assert_int_equal(t.data[t.len], '\0');
  pmx__text_free(&t);
}

/* Robustness: every parser over every prefix of every fixture and over seeded random mutations
 * must return one of its documented codes (and, under ASan, touch nothing out of bounds). */
static void run_all_parsers(const char *t) {
  pmx__pid_stat_t ps;
  pmx__loadavg_t la;
  pmx__proc_stat_t st;
  pmx__meminfo_t mi;
  uint64_t a, b;
  int rc = pmx__parse_pid_stat(t, &ps);
  assert_true(rc == PMX_OK || rc == PMX_EPARSE);
  rc = pmx__parse_statm(t, &a, &b);
  assert_true(rc == PMX_OK || rc == PMX_EPARSE);
  rc = pmx__parse_kv_kb(t, "MemTotal", &a);
  assert_true(rc == PMX_OK || rc == PMX_EPARSE || rc == PMX_ENOENT);
  rc = pmx__parse_loadavg(t, &la);
  assert_true(rc == PMX_OK || rc == PMX_EPARSE);
  rc = pmx__parse_proc_stat(t, &st);
  assert_true(rc == PMX_OK || rc == PMX_EPARSE);
  if (rc == PMX_OK) assert_true(st.n_modes >= 4 && st.n_modes <= PMX__CPU_MODES);
  rc = pmx__parse_meminfo(t, &mi);
  assert_true(rc == PMX_OK || rc == PMX_EPARSE);
  pmx__pid_io_t io;
  rc = pmx__parse_pid_io(t, &io);
  assert_true(rc == PMX_OK || rc == PMX_EPARSE);
  uint64_t c;
  rc = pmx__parse_schedstat(t, &a, &b, &c);
  assert_true(rc == PMX_OK || rc == PMX_EPARSE);
  size_t len = strlen(t), pos = 0, ln;
  const char *line;
  while (pmx__next_line(t, len, &pos, &line, &ln)) {
    pmx__mount_t m;
    rc = pmx__parse_mount_line(line, ln, &m);
    assert_true(rc == PMX_OK || rc == PMX_EPARSE);
    if (rc == PMX_OK) assert_true(strlen(m.mountpoint) < sizeof m.mountpoint);
    pmx__netdev_t d;
    rc = pmx__parse_netdev_line(line, ln, &d);
    assert_true(rc == PMX_OK || rc == PMX_EPARSE || rc == PMX_ENOENT);
    char name[32], ver[16];
    rc = pmx__parse_lib_name(line, NULL, name, sizeof name, ver, sizeof ver);
    assert_true(rc == PMX_OK || rc == PMX_EPARSE);
  }
}

static void test_parsers_robust(void **state) {
  (void)state;
  static const char *const names[] = {"self_stat_odd_comm", "self_statm", "self_status",
                                      "loadavg", "stat_modern", "stat_linux_2_6_9",
                                      "meminfo_modern", "meminfo_linux_3_10", "mounts_escapes",
                                      "net_dev_odd", "self_io", "self_io_reordered",
                                      "self_schedstat"};
  unsigned seed = 12345;
  for (size_t f = 0; f < sizeof names / sizeof names[0]; f++) {
    const char *t = fixture(names[f]);
    size_t len = strlen(t);
    char *copy = malloc(len + 1);
    assert_non_null(copy);
    for (size_t cut = 0; cut <= len; cut++) { /* every prefix */
      memcpy(copy, t, cut);
      copy[cut] = '\0';
      run_all_parsers(copy);
    }
    static const char alphabet[] = " \t\n:()\\/0123456789.-kBx|";
    for (int round = 0; round < 300; round++) { /* seeded byte mutations */
      memcpy(copy, t, len + 1);
      for (int k = 0; k < 4 && len > 0; k++) {
        seed = seed * 1103515245u + 12345u;
        size_t at = (seed >> 8) % len;
        copy[at] = alphabet[(seed >> 20) % (sizeof alphabet - 1)];
      }
      run_all_parsers(copy);
    }
    free(copy);
  }
}

static void test_pid_io(void **state) {
  (void)state;
  pmx__pid_io_t io;
  assert_int_equal(pmx__parse_pid_io(fixture("self_io"), &io), PMX_OK);
  assert_int_equal(io.rchar, 123456789);
  assert_int_equal(io.wchar, 987654);
  assert_int_equal(io.syscr, 4321);
  assert_int_equal(io.syscw, 1234);
  assert_int_equal(io.read_bytes, 8192);
  assert_int_equal(io.write_bytes, 40960);
  assert_int_equal(io.cancelled_write_bytes, 4096);
  assert_int_equal(io.have, 0x7f); /* all seven PMX__IO_* bits */
  /* A kernel without CONFIG_TASK_IO_ACCOUNTING prints only the syscall-level four. */
  assert_int_equal(pmx__parse_pid_io(fixture("self_io_no_task_accounting"), &io), PMX_OK);
  assert_int_equal(io.rchar, 100);
  assert_int_equal(io.syscw, 4);
  assert_int_equal(io.have, PMX__IO_RCHAR | PMX__IO_WCHAR | PMX__IO_SYSCR | PMX__IO_SYSCW);
  assert_int_equal(io.read_bytes, 0);
  /* Any order, unknown keys skipped, the largest 64-bit value kept exactly. */
  assert_int_equal(pmx__parse_pid_io(fixture("self_io_reordered"), &io), PMX_OK);
  assert_true(io.rchar == UINT64_MAX);
  assert_int_equal(io.syscr, 3);
  assert_false(io.have & PMX__IO_READ_BYTES);
  /* Cut in the middle of "syscr": the required fields are not all there. */
  assert_int_equal(pmx__parse_pid_io(fixture("self_io_truncated"), &io), PMX_EPARSE);
  assert_int_equal(pmx__parse_pid_io("", &io), PMX_EPARSE);
  assert_int_equal(pmx__parse_pid_io("rchar: 1\nwchar: 2\nsyscr: 3\nsyscw: x\n", &io), PMX_EPARSE);
  assert_int_equal(pmx__parse_pid_io("rchar: 1\nwchar: 2\nsyscr: 3\nsyscw: 4z\n", &io), PMX_EPARSE);
  assert_int_equal(pmx__parse_pid_io("rchar: 18446744073709551616\nwchar: 2\nsyscr: 3\nsyscw: 4\n",
                                     &io),
                   PMX_EPARSE); /* 2^64 overflows */
  assert_int_equal(pmx__parse_pid_io(NULL, &io), PMX_EINVAL);
}

static void test_schedstat(void **state) {
  (void)state;
  uint64_t run, wait, slices;
  assert_int_equal(pmx__parse_schedstat(fixture("self_schedstat"), &run, &wait, &slices), PMX_OK);
  assert_int_equal(run, 2537817640);
  assert_int_equal(wait, 123456789);
  assert_int_equal(slices, 4242);
  assert_int_equal(pmx__parse_schedstat(fixture("self_schedstat_two_fields"), &run, &wait, &slices),
                   PMX_OK);
  assert_int_equal(wait, 123456789);
  assert_int_equal(slices, 0);
  assert_int_equal(pmx__parse_schedstat("", &run, &wait, &slices), PMX_EPARSE);
  assert_int_equal(pmx__parse_schedstat("12\n", &run, &wait, &slices), PMX_EPARSE); /* truncated */
  assert_int_equal(pmx__parse_schedstat("1 2 zz\n", &run, &wait, &slices), PMX_EPARSE);
  assert_int_equal(pmx__parse_schedstat("-1 2 3\n", &run, &wait, &slices), PMX_EPARSE);
  assert_int_equal(pmx__parse_schedstat(NULL, &run, &wait, &slices), PMX_EINVAL);
}

static void test_thread_states(void **state) {
  (void)state;
  assert_int_equal(pmx__thread_state_index('R'), PMX__TS_RUNNING);
  assert_int_equal(pmx__thread_state_index('S'), PMX__TS_SLEEPING);
  assert_int_equal(pmx__thread_state_index('D'), PMX__TS_DISK_SLEEP);
  assert_int_equal(pmx__thread_state_index('t'), PMX__TS_STOPPED);
  assert_int_equal(pmx__thread_state_index('Z'), PMX__TS_ZOMBIE);
  assert_int_equal(pmx__thread_state_index('I'), PMX__TS_IDLE);
  assert_int_equal(pmx__thread_state_index('W'), PMX__TS_OTHER);
  assert_int_equal(pmx__thread_state_index('\0'), PMX__TS_OTHER);
  assert_string_equal(pmx__thread_state_names[PMX__TS_DISK_SLEEP], "disk_sleep");
  /* a task's stat line with a state letter the parser hands through */
  pmx__pid_stat_t st;
  assert_int_equal(pmx__parse_pid_stat("77 (worker) D 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 3 0 5 6 7",
                                       &st),
                   PMX_OK);
  assert_int_equal(pmx__thread_state_index(st.state), PMX__TS_DISK_SLEEP);
}

/* Per-thread run-queue wait summed into one counter: exited threads keep what they contributed,
 * a reused id with a smaller value counts as a new thread, order of ids does not matter. */
static void test_task_sum(void **state) {
  (void)state;
  pmx__task_sum_t s = {0};
  pmx__task_sum_begin(&s);
  assert_int_equal(pmx__task_sum_add(&s, 20, 50), PMX_OK);
  assert_int_equal(pmx__task_sum_add(&s, 10, 100), PMX_OK);
  assert_int_equal(pmx__task_sum_end(&s), 150); /* first poll: everything */
  pmx__task_sum_begin(&s);
  pmx__task_sum_add(&s, 10, 130); /* +30; thread 20 exited */
  pmx__task_sum_add(&s, 30, 5);   /* new: +5 */
  assert_int_equal(pmx__task_sum_end(&s), 35);
  pmx__task_sum_begin(&s);
  pmx__task_sum_add(&s, 30, 9);  /* +4 */
  pmx__task_sum_add(&s, 10, 1);  /* id 10 reused by a new thread: +1 */
  pmx__task_sum_add(&s, 20, 70); /* id 20 back: not seen last poll, so +70 */
  assert_int_equal(pmx__task_sum_end(&s), 75);
  /* a poll aborted half-way (out of memory) changes nothing: the next poll's increase is
   * measured from the last complete one (30: 9 -> 12 = +3; 10: 1 -> 2 = +1; 20: 70 -> 70) */
  pmx__task_sum_begin(&s);
  pmx__task_sum_add(&s, 30, 11);
  pmx__task_sum_abort(&s);
  pmx__task_sum_begin(&s);
  pmx__task_sum_add(&s, 30, 12);
  pmx__task_sum_add(&s, 10, 2);
  pmx__task_sum_add(&s, 20, 70);
  assert_int_equal(pmx__task_sum_end(&s), 4);
  pmx__task_sum_begin(&s);
  assert_int_equal(pmx__task_sum_end(&s), 0); /* no threads read */
  /* the bound */
  pmx__task_sum_begin(&s);
  for (int64_t i = 0; i < PMX__TASKS_MAX; i++) assert_int_equal(pmx__task_sum_add(&s, i, 1), PMX_OK);
  assert_int_equal(pmx__task_sum_add(&s, PMX__TASKS_MAX, 1), PMX_ELIMIT);
  assert_int_equal(pmx__task_sum_end(&s), PMX__TASKS_MAX);
  pmx__task_sum_free(&s);
}

/* Counters fed from cumulative sources: the integer form treats a drop as a reset (interfaces
 * re-created); the CPU-time form treats it as a dip and adds nothing until the source passes its
 * high-water mark again. */
static void test_cumulative_deltas(void **state) {
  (void)state;
  pmx__cum_t c = {0};
  assert_int_equal(pmx__cum_delta(&c, 5), 5);
  assert_int_equal(pmx__cum_delta(&c, 7), 2);
  assert_int_equal(pmx__cum_delta(&c, 3), 3); /* reset */
  assert_int_equal(pmx__cum_delta(&c, 4), 1);
  pmx__cumf_t f = {0};
  assert_true(pmx__cumf_delta(&f, 10.0) == 10.0);
  assert_true(pmx__cumf_delta(&f, 9.99) == 0.0);  /* iowait dip */
  assert_true(pmx__cumf_delta(&f, 9.995) == 0.0); /* still below the mark */
  assert_true(pmx__cumf_delta(&f, 10.5) == 0.5);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_pid_stat_odd_comm, teardown),
      cmocka_unit_test_teardown(test_pid_stat_bad, teardown),
      cmocka_unit_test_teardown(test_statm_status, teardown),
      cmocka_unit_test(test_lib_names),
      cmocka_unit_test(test_cumulative_deltas),
      cmocka_unit_test_teardown(test_loadavg, teardown),
      cmocka_unit_test_teardown(test_proc_stat, teardown),
      cmocka_unit_test_teardown(test_meminfo, teardown),
      cmocka_unit_test(test_unescape),
      cmocka_unit_test_teardown(test_mounts, teardown),
      cmocka_unit_test(test_fs_filters),
      cmocka_unit_test_teardown(test_netdev, teardown),
      cmocka_unit_test(test_slurp_errors),
      cmocka_unit_test_teardown(test_pid_io, teardown),
      cmocka_unit_test_teardown(test_schedstat, teardown),
      cmocka_unit_test(test_thread_states),
      cmocka_unit_test(test_task_sum),
      cmocka_unit_test_teardown(test_parsers_robust, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
