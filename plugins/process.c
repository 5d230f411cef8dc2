/* The process plugin: what PromEx's Beam plugin reports about the Erlang VM, reported about the
 * running C process (see include/promex/plugins/process.h for the metric list and costs).
 *
 * Polling groups keep their state (cached event handles, previous cumulative values for the
 * counters, a reusable read buffer) in their ctx; they only ever run on the promex thread, so the
 * ctx needs no lock. Manual groups keep no mutable state because pmx_refresh_manual_metrics()
 * may run them on another thread at the same time. */
#include <dirent.h>
#include <math.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <gnu/libc-version.h>
#endif

#include "internal.h"
#include "plugin_common.h"
#include "process_group.h"
#include "promex/plugins/process.h"
#include "promex/promex.h"
#include "sysparse.h"

#define EV_MEMORY "promex.plugin.process.memory"
#define EV_CPU "promex.plugin.process.cpu"
#define EV_CSW "promex.plugin.process.context_switches"
#define EV_FAULTS "promex.plugin.process.page_faults"
#define EV_INTERNAL "promex.plugin.process.internal"
#define EV_TOPOLOGY "promex.plugin.process.cpu_topology"
#define EV_LIMITS "promex.plugin.process.limits"
#define EV_SYSINFO "promex.plugin.process.system_info"
#define EV_THREADS "promex.plugin.process.threads"
#define EV_IO_BYTES "promex.plugin.process.io.bytes"
#define EV_IO_SYSCALLS "promex.plugin.process.io.syscalls"
#define EV_IO_STORAGE "promex.plugin.process.io.storage"
#define EV_THREAD_STATES "promex.plugin.process.thread_states"
#define EV_RUNQ "promex.plugin.process.run_queue_wait"

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
#define HAVE_MALLINFO2 1
#endif

/* ---- process_memory_polling_metrics ------------------------------------------------------- */

/* `group`: multi-process mode, where resident and virtual cover the master and its live
 * workers and the worker count is reported (process_group.c). */
typedef struct memory_ctx {
  pmx__evcache_t ev;
  long page_size;
  bool group;
  pmx__proc_group_t members;
} memory_ctx_t;

static void memory_free(void *p) {
  memory_ctx_t *c = p;
  pmx__proc_group_free(&c->members);
  pmx__free(c);
}

static int memory_measure(pmx_bus_t *bus, void *p) {
  memory_ctx_t *c = p;
  pmx_event_t *ev = pmx__ev(&c->ev, bus, EV_MEMORY);
  if (ev == NULL) return PMX_ENOMEM;
  char buf[256];
  pmx__text_t t = {buf, 0, sizeof buf}; /* statm is one short line: never grows */
  if (pmx__slurp("/proc/self/statm", &t, sizeof buf) != PMX_OK) return PMX_ESYS;
  uint64_t size_pages, rss_pages;
  if (pmx__parse_statm(t.data, &size_pages, &rss_pages) != PMX_OK) return PMX_EPARSE;
  struct rusage ru;
  double peak = 0;
  if (getrusage(RUSAGE_SELF, &ru) == 0) peak = (double)ru.ru_maxrss * 1024.0; /* kB on Linux */
  pmx_measurement_t m[12];
  size_t n = 0;
  if (c->group) {
    pmx__group_totals_t g;
    int rc = pmx__proc_group_sample(&c->members, &g);
    if (rc != PMX_OK) return rc;
    rss_pages += g.rss_pages;
    size_pages += g.size_pages;
    m[n++] = PMX_M("workers", (double)g.workers);
  }
  m[n++] = PMX_M("resident", (double)rss_pages * (double)c->page_size);
  m[n++] = PMX_M("virtual", (double)size_pages * (double)c->page_size);
  m[n++] = PMX_M("resident_peak", peak);
#ifdef HAVE_MALLINFO2
  struct mallinfo2 mi = mallinfo2();
  m[n++] = PMX_M("heap_arena", (double)mi.arena);
  m[n++] = PMX_M("heap_mmap", (double)mi.hblkhd);
  m[n++] = PMX_M("heap_in_use", (double)(mi.uordblks + mi.hblkhd));
  m[n++] = PMX_M("heap_free", (double)mi.fordblks);
  m[n++] = PMX_M("heap_releasable", (double)mi.keepcost);
  /* Fragmentation: many free chunks holding little memory each cannot serve large requests. */
  m[n++] = PMX_M("heap_free_chunks", (double)mi.ordblks);
  m[n++] = PMX_M("heap_fastbin_free", (double)mi.fsmblks);
  m[n++] = PMX_M("heap_mmap_blocks", (double)mi.hblks);
#endif
  pmx_emit(ev, m, n, NULL, 0);
  return PMX_OK;
}

/* ---- process_internal_polling_metrics ----------------------------------------------------- */

/* `group`: multi-process mode, where the CPU counter adds the workers' CPU (process_group.c). */
typedef struct internal_ctx {
  pmx__evcache_t ev_cpu, ev_csw, ev_faults, ev_internal;
  pmx__cumf_t cpu_user, cpu_system;
  pmx__cum_t nvcsw, nivcsw, minflt, majflt;
  double start_after_boot;
  bool group;
  pmx__proc_group_t members;
} internal_ctx_t;

static void internal_free(void *p) {
  internal_ctx_t *c = p;
  pmx__proc_group_free(&c->members);
  pmx__free(c);
}

/* Number of open descriptors: entries of /proc/self/fd, minus the one opendir() itself holds. */
static int count_fds(int64_t *out) {
  DIR *d = opendir("/proc/self/fd");
  if (d == NULL) return PMX_ESYS;
  int64_t n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (e->d_name[0] != '.') n++;
  closedir(d);
  *out = n > 0 ? n - 1 : 0;
  return PMX_OK;
}

static double tv_s(struct timeval tv) { return (double)tv.tv_sec + (double)tv.tv_usec / 1e6; }

/* An unlimited limit is +Inf, so ratios against it are 0 and "near the limit" alerts stay quiet
 * (-1, which earlier versions reported, turned open_fds / max_fds negative). */
static double rlim_value(rlim_t v) { return v == RLIM_INFINITY ? INFINITY : (double)v; }

static int internal_measure(pmx_bus_t *bus, void *p) {
  internal_ctx_t *c = p;
  pmx_event_t *cpu = pmx__ev(&c->ev_cpu, bus, EV_CPU);
  pmx_event_t *csw = pmx__ev(&c->ev_csw, bus, EV_CSW);
  pmx_event_t *faults = pmx__ev(&c->ev_faults, bus, EV_FAULTS);
  pmx_event_t *internal = pmx__ev(&c->ev_internal, bus, EV_INTERNAL);
  if (!cpu || !csw || !faults || !internal) return PMX_ENOMEM;

  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return PMX_ESYS;
  double user = tv_s(ru.ru_utime), system = tv_s(ru.ru_stime);
  if (c->group) {
    pmx__group_totals_t g;
    int rc = pmx__proc_group_sample(&c->members, &g);
    if (rc != PMX_OK) return rc;
    user += g.user_seconds;
    system += g.system_seconds;
  }
  pmx_measurement_t m[1];
  pmx_meta_t md[1];
  m[0] = PMX_M("seconds", pmx__cumf_delta(&c->cpu_user, user));
  md[0] = PMX_META_S("mode", "user");
  pmx_emit(cpu, m, 1, md, 1);
  m[0] = PMX_M("seconds", pmx__cumf_delta(&c->cpu_system, system));
  md[0] = PMX_META_S("mode", "system");
  pmx_emit(cpu, m, 1, md, 1);
  m[0] = PMX_M("count", (double)pmx__cum_delta(&c->nvcsw, (uint64_t)ru.ru_nvcsw));
  md[0] = PMX_META_S("type", "voluntary");
  pmx_emit(csw, m, 1, md, 1);
  m[0] = PMX_M("count", (double)pmx__cum_delta(&c->nivcsw, (uint64_t)ru.ru_nivcsw));
  md[0] = PMX_META_S("type", "involuntary");
  pmx_emit(csw, m, 1, md, 1);
  m[0] = PMX_M("count", (double)pmx__cum_delta(&c->minflt, (uint64_t)ru.ru_minflt));
  md[0] = PMX_META_S("type", "minor");
  pmx_emit(faults, m, 1, md, 1);
  m[0] = PMX_M("count", (double)pmx__cum_delta(&c->majflt, (uint64_t)ru.ru_majflt));
  md[0] = PMX_META_S("type", "major");
  pmx_emit(faults, m, 1, md, 1);

  char buf[1024];
  pmx__text_t t = {buf, 0, sizeof buf};
  pmx__pid_stat_t st;
  if (pmx__slurp("/proc/self/stat", &t, sizeof buf) != PMX_OK) return PMX_ESYS;
  if (pmx__parse_pid_stat(t.data, &st) != PMX_OK) return PMX_EPARSE;
  int64_t fds = 0;
  if (count_fds(&fds) != PMX_OK) return PMX_ESYS;
  struct rlimit rl;
  double max_fds = INFINITY;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) max_fds = rlim_value(rl.rlim_cur);
  pmx_measurement_t im[] = {
      PMX_M("threads", st.num_threads), PMX_M("open_fds", fds), PMX_M("max_fds", max_fds),
      PMX_M("start_time", pmx__start_epoch(c->start_after_boot)),
      PMX_M("uptime", pmx__uptime_since(c->start_after_boot))};
  pmx_emit(internal, im, sizeof im / sizeof im[0], NULL, 0);
  return PMX_OK;
}

/* ---- process_io_polling_metrics ---------------------------------------------------------- */

typedef struct io_ctx {
  pmx__evcache_t ev_bytes, ev_syscalls, ev_storage;
  pmx__cum_t rchar, wchar, syscr, syscw, read_bytes, write_bytes;
} io_ctx_t;

static void emit_dir(pmx_event_t *ev, pmx__cum_t *cum, uint64_t now, const char *dir) {
  pmx_measurement_t m[] = {PMX_M("count", (double)pmx__cum_delta(cum, now))};
  pmx_meta_t md[] = {PMX_META_S("direction", dir)};
  pmx_emit(ev, m, 1, md, 1);
}

static int io_measure(pmx_bus_t *bus, void *p) {
  io_ctx_t *c = p;
  pmx_event_t *bytes = pmx__ev(&c->ev_bytes, bus, EV_IO_BYTES);
  pmx_event_t *sys = pmx__ev(&c->ev_syscalls, bus, EV_IO_SYSCALLS);
  pmx_event_t *storage = pmx__ev(&c->ev_storage, bus, EV_IO_STORAGE);
  if (!bytes || !sys || !storage) return PMX_ENOMEM;
  char buf[512];
  pmx__text_t t = {buf, 0, sizeof buf}; /* seven short lines: never grows */
  pmx__pid_io_t io;
  /* /proc/self/io needs ptrace-read access to oneself, which some sandboxes deny: ESYS. */
  if (pmx__slurp("/proc/self/io", &t, sizeof buf) != PMX_OK) return PMX_ESYS;
  if (pmx__parse_pid_io(t.data, &io) != PMX_OK) return PMX_EPARSE;
  emit_dir(bytes, &c->rchar, io.rchar, "read");
  emit_dir(bytes, &c->wchar, io.wchar, "write");
  emit_dir(sys, &c->syscr, io.syscr, "read");
  emit_dir(sys, &c->syscw, io.syscw, "write");
  if (io.have & PMX__IO_READ_BYTES) emit_dir(storage, &c->read_bytes, io.read_bytes, "read");
  if (io.have & PMX__IO_WRITE_BYTES) emit_dir(storage, &c->write_bytes, io.write_bytes, "write");
  return PMX_OK;
}

/* ---- process_thread_states_polling_metrics ------------------------------------------------ */

typedef struct thread_states_ctx {
  pmx__evcache_t ev_states, ev_runq;
  pmx__task_sum_t wait; /* run-queue wait per thread id */
  bool have_schedstat;  /* false once a kernel without schedstat (no CONFIG_SCHED_INFO) is seen */
} thread_states_ctx_t;

static void thread_states_free(void *p) {
  thread_states_ctx_t *c = p;
  pmx__task_sum_free(&c->wait);
  pmx__free(c);
}

/* Reads task/<tid>/<file> into buf (small per-task files: stat and schedstat). */
static int read_task_file(const char *tid, const char *file, char *buf, size_t cap) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%.20s/%s", tid, file);
  pmx__text_t t = {buf, 0, cap};
  return pmx__slurp(path, &t, cap);
}

static int thread_states_measure(pmx_bus_t *bus, void *p) {
  thread_states_ctx_t *c = p;
  pmx_event_t *states = pmx__ev(&c->ev_states, bus, EV_THREAD_STATES);
  pmx_event_t *runq = pmx__ev(&c->ev_runq, bus, EV_RUNQ);
  if (!states || !runq) return PMX_ENOMEM;
  DIR *d = opendir("/proc/self/task");
  if (d == NULL) return PMX_ESYS;
  int64_t count[PMX__TS_COUNT] = {0};
  size_t scanned = 0;
  bool wait_ok = true;
  pmx__task_sum_begin(&c->wait);
  struct dirent *e;
  char buf[1024];
  /* Bounded: a process with more than PMX__TASKS_MAX threads gets the first ones counted. */
  while ((e = readdir(d)) != NULL && scanned < PMX__TASKS_MAX) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    pmx__pid_stat_t st;
    /* a thread that exits between readdir and open is simply not counted */
    if (read_task_file(e->d_name, "stat", buf, sizeof buf) != PMX_OK ||
        pmx__parse_pid_stat(buf, &st) != PMX_OK)
      continue;
    scanned++;
    count[pmx__thread_state_index(st.state)]++;
    uint64_t run_ns, wait_ns, slices;
    if (c->have_schedstat && wait_ok &&
        read_task_file(e->d_name, "schedstat", buf, sizeof buf) == PMX_OK &&
        pmx__parse_schedstat(buf, &run_ns, &wait_ns, &slices) == PMX_OK)
      wait_ok = pmx__task_sum_add(&c->wait, strtoll(e->d_name, NULL, 10), wait_ns) == PMX_OK;
  }
  closedir(d);
  uint64_t wait_inc = 0;
  if (wait_ok)
    wait_inc = pmx__task_sum_end(&c->wait);
  else
    pmx__task_sum_abort(&c->wait); /* out of memory: this poll adds nothing, the next catches up */
  /* Every state is emitted, zeros included, so a state's series does not go stale. */
  for (int i = 0; i < PMX__TS_COUNT; i++) {
    pmx_measurement_t m[] = {PMX_M("count", (double)count[i])};
    pmx_meta_t md[] = {PMX_META_S("state", pmx__thread_state_names[i])};
    pmx_emit(states, m, 1, md, 1);
  }
  if (c->have_schedstat) {
    pmx_measurement_t m[] = {PMX_M("seconds", (double)wait_inc / 1e9)};
    pmx_emit(runq, m, 1, NULL, 0);
  }
  return scanned > 0 ? PMX_OK : PMX_ESYS;
}

/* ---- manual groups ------------------------------------------------------------------------ */

static int topology_measure(pmx_bus_t *bus, void *p) {
  (void)p;
  long conf = sysconf(_SC_NPROCESSORS_CONF), onln = sysconf(_SC_NPROCESSORS_ONLN);
  cpu_set_t set;
  double avail = -1;
  if (sched_getaffinity(0, sizeof set, &set) == 0) avail = CPU_COUNT(&set);
  pmx_measurement_t m[] = {PMX_M("configured", conf), PMX_M("online", onln),
                           PMX_M("available", avail)};
  return pmx_emit_name(bus, EV_TOPOLOGY, m, 3, NULL, 0) < 0 ? PMX_ENOMEM : PMX_OK;
}

static int limits_measure(pmx_bus_t *bus, void *p) {
  (void)p;
  static const struct {
    int res;
    const char *key;
  } lim[] = {{RLIMIT_NOFILE, "open_files"},  {RLIMIT_NPROC, "processes"},
             {RLIMIT_STACK, "stack"},        {RLIMIT_AS, "address_space"},
             {RLIMIT_CORE, "core"}};
  pmx_measurement_t m[5];
  size_t n = 0;
  for (size_t i = 0; i < 5; i++) {
    struct rlimit rl;
    if (getrlimit(lim[i].res, &rl) == 0) m[n++] = PMX_M(lim[i].key, rlim_value(rl.rlim_cur));
  }
  return pmx_emit_name(bus, EV_LIMITS, m, n, NULL, 0) < 0 ? PMX_ENOMEM : PMX_OK;
}

static int sysinfo_measure(pmx_bus_t *bus, void *p) {
  (void)p;
  struct utsname u;
  if (uname(&u) != 0) {
    memset(&u, 0, sizeof u);
    strcpy(u.release, "unknown");
    strcpy(u.machine, "unknown");
  }
#if defined(__GLIBC__)
  const char *libc = "glibc", *libc_version = gnu_get_libc_version();
  const char *allocator = "glibc malloc";
#else
  const char *libc = "unknown", *libc_version = "unknown", *allocator = "unknown";
#endif
#if defined(__clang__)
  const char *compiler = "clang " __clang_version__;
#elif defined(__GNUC__)
  const char *compiler = "gcc " __VERSION__;
#else
  const char *compiler = "unknown";
#endif
  pmx_measurement_t one[] = {PMX_M("status", 1)};
  pmx_meta_t md[] = {PMX_META_S("kernel_release", u.release), PMX_META_S("machine", u.machine),
                     PMX_META_S("libc", libc), PMX_META_S("libc_version", libc_version),
                     PMX_META_S("allocator", allocator), PMX_META_S("compiler", compiler),
                     PMX_META_S("promex_version", pmx_version_string())};
  if (pmx_emit_name(bus, EV_SYSINFO, one, 1, md, sizeof md / sizeof md[0]) < 0) return PMX_ENOMEM;
  pmx_measurement_t m[] = {PMX_M("word_size", sizeof(void *)),
                           PMX_M("page_size", sysconf(_SC_PAGESIZE))};
  return pmx_emit_name(bus, EV_SYSINFO ".sizes", m, 2, NULL, 0) < 0 ? PMX_ENOMEM : PMX_OK;
}

static int threads_measure(pmx_bus_t *bus, void *p) {
  (void)p;
  pmx_measurement_t m[2];
  size_t n = 0;
  char buf[64];
  pmx__text_t t = {buf, 0, sizeof buf};
  uint64_t max;
  if (pmx__slurp("/proc/sys/kernel/threads-max", &t, sizeof buf) == PMX_OK &&
      pmx__parse_u64(t.data, &max) == PMX_OK)
    m[n++] = PMX_M("max", (double)max);
  pthread_attr_t a;
  size_t stack = 0;
  if (pthread_getattr_default_np(&a) == 0) {
    if (pthread_attr_getstacksize(&a, &stack) == 0) m[n++] = PMX_M("stack_default", stack);
    pthread_attr_destroy(&a);
  }
  if (n == 0) return PMX_ESYS;
  return pmx_emit_name(bus, EV_THREADS, m, n, NULL, 0) < 0 ? PMX_ENOMEM : PMX_OK;
}

/* ---- plugin callbacks --------------------------------------------------------------------- */

#define GAUGE(n, ev, meas, desc) \
  {.kind = PMX_LAST_VALUE, .name = (n), .event_name = (ev), .measurement = (meas), .description = (desc)}

static int process_polling(const pmx_plugin_ctx_t *ctx, pmx_groups_t *out) {
  int rc = pmx_plugin_check_opts(ctx, NULL, 0);
  if (rc != PMX_OK) return rc;
  /* Multi-process mode (the runtime enables it before plugins describe their groups). */
  bool group = pmx_shared_usage(NULL, NULL, NULL) == PMX_OK;
  memory_ctx_t *mc = pmx__calloc(1, sizeof *mc);
  if (mc == NULL) return PMX_ENOMEM;
  mc->page_size = sysconf(_SC_PAGESIZE);
  mc->group = group;
  const pmx_metric_def_t mem[] = {
      GAUGE("workers", EV_MEMORY, "workers",
            "Live worker processes of the group (multi-process mode; the master not counted)."),
      GAUGE("memory.resident.bytes", EV_MEMORY, "resident",
            "Resident set size (/proc/self/statm); in multi-process mode, of the master and its "
            "live workers."),
      GAUGE("memory.virtual.bytes", EV_MEMORY, "virtual",
            "Virtual memory size (/proc/self/statm); in multi-process mode, of the master and its "
            "live workers."),
      GAUGE("memory.resident_peak.bytes", EV_MEMORY, "resident_peak",
            "Peak resident set size (getrusage ru_maxrss)."),
#ifdef HAVE_MALLINFO2
      GAUGE("memory.heap_arena.bytes", EV_MEMORY, "heap_arena",
            "Heap obtained with brk/sbrk by malloc (mallinfo2 arena)."),
      GAUGE("memory.heap_mmap.bytes", EV_MEMORY, "heap_mmap",
            "Heap in blocks allocated with mmap by malloc (mallinfo2 hblkhd)."),
      GAUGE("memory.heap_in_use.bytes", EV_MEMORY, "heap_in_use",
            "Heap in use by the program (mallinfo2 uordblks + hblkhd)."),
      GAUGE("memory.heap_free.bytes", EV_MEMORY, "heap_free",
            "Free heap held by malloc (mallinfo2 fordblks)."),
      GAUGE("memory.heap_releasable.bytes", EV_MEMORY, "heap_releasable",
            "Top-most releasable heap (mallinfo2 keepcost)."),
      GAUGE("memory.heap_free_chunks", EV_MEMORY, "heap_free_chunks",
            "Free chunks in malloc's ordinary bins (mallinfo2 ordblks); many means fragmented."),
      GAUGE("memory.heap_fastbin_free.bytes", EV_MEMORY, "heap_fastbin_free",
            "Free memory held in malloc's fastbins (mallinfo2 fsmblks)."),
      GAUGE("memory.heap_mmap_blocks", EV_MEMORY, "heap_mmap_blocks",
            "Blocks malloc allocated with mmap (mallinfo2 hblks)."),
#endif
  };
  /* The worker count (first) exists in multi-process mode only. */
  rc = pmx_groups_add_polling(out, "process_memory_polling_metrics", 0, memory_measure, mc,
                              memory_free, group ? mem : mem + 1,
                              sizeof mem / sizeof mem[0] - (group ? 0 : 1));
  if (rc != PMX_OK) return rc;

  internal_ctx_t *ic = pmx__calloc(1, sizeof *ic);
  if (ic == NULL) return PMX_ENOMEM;
  ic->group = group;
  if (pmx__self_start_after_boot(&ic->start_after_boot) != PMX_OK) {
    pmx__free(ic);
    return pmx_plugin_fail(ctx, PMX_ESYS, "plugin process: cannot read /proc/self/stat");
  }
  static const char *const mode[] = {"mode"};
  static const char *const type[] = {"type"};
  const pmx_metric_def_t in[] = {
      {.kind = PMX_SUM, .name = "cpu.seconds.total", .event_name = EV_CPU, .measurement = "seconds",
       .tags = mode, .n_tags = 1,
       .description = "CPU time used by the process (getrusage); in multi-process mode, by the "
                      "master and every worker (live ones and, up to their last poll, dead ones)."},
      {.kind = PMX_SUM, .name = "context_switches.total", .event_name = EV_CSW,
       .measurement = "count", .tags = type, .n_tags = 1,
       .description = "Context switches of the process (getrusage ru_nvcsw, ru_nivcsw)."},
      {.kind = PMX_SUM, .name = "page_faults.total", .event_name = EV_FAULTS,
       .measurement = "count", .tags = type, .n_tags = 1,
       .description = "Page faults of the process (getrusage ru_minflt, ru_majflt)."},
      GAUGE("threads", EV_INTERNAL, "threads", "Threads in the process (/proc/self/stat)."),
      GAUGE("open_fds", EV_INTERNAL, "open_fds", "Open file descriptors (/proc/self/fd)."),
      GAUGE("max_fds", EV_INTERNAL, "max_fds",
            "Soft limit on open file descriptors (RLIMIT_NOFILE; +Inf if unlimited)."),
      GAUGE("start_time.seconds", EV_INTERNAL, "start_time",
            "Start time of the process since the Unix epoch."),
      GAUGE("uptime.seconds", EV_INTERNAL, "uptime", "Time since the process started."),
  };
  rc = pmx_groups_add_polling(out, "process_internal_polling_metrics", 0, internal_measure, ic,
                              internal_free, in, sizeof in / sizeof in[0]);
  if (rc != PMX_OK) return rc;

  io_ctx_t *ioc = pmx__calloc(1, sizeof *ioc);
  if (ioc == NULL) return PMX_ENOMEM;
  static const char *const direction[] = {"direction"};
  const pmx_metric_def_t io[] = {
      {.kind = PMX_SUM, .name = "io.bytes.total", .event_name = EV_IO_BYTES, .measurement = "count",
       .tags = direction, .n_tags = 1,
       .description = "Bytes read and written through syscalls: files, sockets, pipes, terminals "
                      "(/proc/self/io rchar, wchar)."},
      {.kind = PMX_SUM, .name = "io.syscalls.total", .event_name = EV_IO_SYSCALLS,
       .measurement = "count", .tags = direction, .n_tags = 1,
       .description = "Read and write syscalls (/proc/self/io syscr, syscw)."},
      {.kind = PMX_SUM, .name = "io.storage.bytes.total", .event_name = EV_IO_STORAGE,
       .measurement = "count", .tags = direction, .n_tags = 1,
       .description = "Bytes the process made the storage layer read or write: page-ins and "
                      "write-back (/proc/self/io read_bytes, write_bytes)."},
  };
  rc = pmx_groups_add_polling(out, "process_io_polling_metrics", 0, io_measure, ioc, pmx__free, io,
                              sizeof io / sizeof io[0]);
  if (rc != PMX_OK) return rc;

  thread_states_ctx_t *tc = pmx__calloc(1, sizeof *tc);
  if (tc == NULL) return PMX_ENOMEM;
  tc->have_schedstat = access("/proc/self/schedstat", R_OK) == 0;
  static const char *const state[] = {"state"};
  const pmx_metric_def_t ts[] = {
      {.kind = PMX_LAST_VALUE, .name = "threads.state", .event_name = EV_THREAD_STATES,
       .measurement = "count", .tags = state, .n_tags = 1,
       .description = "Threads of the process by scheduler state (/proc/self/task/*/stat)."},
      {.kind = PMX_SUM, .name = "cpu.run_queue_wait.seconds.total", .event_name = EV_RUNQ,
       .measurement = "seconds",
       .description = "Time the process's threads spent runnable but waiting for a CPU "
                      "(/proc/self/task/*/schedstat)."},
  };
  return pmx_groups_add_polling(out, "process_thread_states_polling_metrics", 0,
                                thread_states_measure, tc, thread_states_free, ts,
                                tc->have_schedstat ? 2 : 1);
}

static int process_manual(const pmx_plugin_ctx_t *ctx, pmx_groups_t *out) {
  int rc = pmx_plugin_check_opts(ctx, NULL, 0);
  if (rc != PMX_OK) return rc;
  const pmx_metric_def_t topo[] = {
      GAUGE("system.logical_processors", EV_TOPOLOGY, "configured",
            "Logical processors configured (sysconf _SC_NPROCESSORS_CONF)."),
      GAUGE("system.logical_processors_online", EV_TOPOLOGY, "online",
            "Logical processors online (sysconf _SC_NPROCESSORS_ONLN)."),
      GAUGE("system.logical_processors_available", EV_TOPOLOGY, "available",
            "Logical processors this process may run on (sched_getaffinity)."),
  };
  rc = pmx_groups_add_manual(out, "process_cpu_topology_manual_metrics", topology_measure, NULL,
                             NULL, topo, 3);
  if (rc != PMX_OK) return rc;
  const pmx_metric_def_t lim[] = {
      GAUGE("system.limit.open_files", EV_LIMITS, "open_files",
            "Soft limit RLIMIT_NOFILE (+Inf: unlimited)."),
      GAUGE("system.limit.processes", EV_LIMITS, "processes",
            "Soft limit RLIMIT_NPROC (+Inf: unlimited)."),
      GAUGE("system.limit.stack.bytes", EV_LIMITS, "stack",
            "Soft limit RLIMIT_STACK (+Inf: unlimited)."),
      GAUGE("system.limit.address_space.bytes", EV_LIMITS, "address_space",
            "Soft limit RLIMIT_AS (+Inf: unlimited)."),
      GAUGE("system.limit.core.bytes", EV_LIMITS, "core", "Soft limit RLIMIT_CORE (+Inf: unlimited)."),
  };
  rc = pmx_groups_add_manual(out, "process_system_limits_manual_metrics", limits_measure, NULL,
                             NULL, lim, 5);
  if (rc != PMX_OK) return rc;
  static const char *const info_tags[] = {"kernel_release", "machine",  "libc",
                                          "libc_version",   "allocator", "compiler",
                                          "promex_version"};
  const pmx_metric_def_t info[] = {
      {.kind = PMX_LAST_VALUE, .name = "system.info", .event_name = EV_SYSINFO,
       .measurement = "status", .tags = info_tags, .n_tags = 7,
       .description = "The system the process runs on and what it was built with."},
      GAUGE("system.word_size.bytes", EV_SYSINFO ".sizes", "word_size",
            "Size of a pointer, in bytes."),
      GAUGE("system.page_size.bytes", EV_SYSINFO ".sizes", "page_size",
            "Memory page size (sysconf _SC_PAGESIZE)."),
  };
  rc = pmx_groups_add_manual(out, "process_system_info_manual_metrics", sysinfo_measure, NULL,
                             NULL, info, 3);
  if (rc != PMX_OK) return rc;
  const pmx_metric_def_t thr[] = {
      GAUGE("system.threads_max", EV_THREADS, "max",
            "System-wide limit on threads (/proc/sys/kernel/threads-max)."),
      GAUGE("system.thread_stack_default.bytes", EV_THREADS, "stack_default",
            "Default stack size of new threads (pthread_getattr_default_np)."),
  };
  return pmx_groups_add_manual(out, "process_threads_manual_metrics", threads_measure, NULL, NULL,
                               thr, 2);
}

const pmx_plugin_t pmx_plugin_process = {PMX_PLUGIN_ABI, "process", NULL, process_polling,
                                         process_manual, {0}};
