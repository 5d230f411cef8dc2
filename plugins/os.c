/* The os plugin: the os_mon counterpart (see include/promex/plugins/os.h for the metric list,
 * options, defaults and costs).
 *
 * Every group is a polling group running on the promex thread only, so each ctx (cached event
 * handles, previous cumulative values for counters, reusable read buffers) is used by one thread
 * and needs no lock. Counters are fed with deltas of the cumulative /proc values (see
 * pmx__cum_delta); the first poll adds the full value so that a counter equals its source.
 * Mounts and interfaces come and go: each poll marks what it reports in a seen set, and what a
 * poll no longer finds has its series retired (pmx_retire), rather than left frozen. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "internal.h"
#include "plugin_common.h"
#include "promex/plugins/os.h"
#include "sysparse.h"

#define EV_LOAD "promex.plugin.os.load"
#define EV_CPU "promex.plugin.os.cpu"
#define EV_CPU_UTIL "promex.plugin.os.cpu_utilization"
#define EV_MEMORY "promex.plugin.os.memory"
#define EV_FS "promex.plugin.os.filesystem"
#define EV_NET "promex.plugin.os.network"

/* /proc/stat on a many-core machine with many interrupts can be hundreds of KiB. */
#define MAX_PROC_FILE (4u << 20)

/* ---- os_load_polling_metrics -------------------------------------------------------------- */

typedef struct load_ctx {
  pmx__evcache_t ev;
  char *path; /* <proc_root>/loadavg */
} load_ctx_t;

static void load_free(void *p) {
  load_ctx_t *c = p;
  if (c == NULL) return;
  pmx__free(c->path);
  pmx__free(c);
}

static int load_measure(pmx_bus_t *bus, void *p) {
  load_ctx_t *c = p;
  pmx_event_t *ev = pmx__ev(&c->ev, bus, EV_LOAD);
  if (ev == NULL) return PMX_ENOMEM;
  char buf[256];
  pmx__text_t t = {buf, 0, sizeof buf}; /* one short line: never grows */
  if (pmx__slurp(c->path, &t, sizeof buf) != PMX_OK) return PMX_ESYS;
  pmx__loadavg_t la;
  if (pmx__parse_loadavg(t.data, &la) != PMX_OK) return PMX_EPARSE;
  pmx_measurement_t m[5] = {PMX_M("load1", la.load1), PMX_M("load5", la.load5),
                            PMX_M("load15", la.load15)};
  size_t n = 3;
  if (la.total >= 0) {
    m[n++] = PMX_M("running", la.running);
    m[n++] = PMX_M("total", la.total);
  }
  pmx_emit(ev, m, n, NULL, 0);
  return PMX_OK;
}

/* ---- os_cpu_polling_metrics --------------------------------------------------------------- */

typedef struct cpu_ctx {
  pmx__evcache_t ev, ev_util;
  pmx__text_t text;
  /* Previous seconds per mode. Deltas are taken on seconds, not ticks: d = cur - prev is exact
   * whenever prev/2 <= cur <= 2*prev (Sterbenz), so the counter's running sum prev + d lands
   * exactly on cur and prints as /proc's value (e.g. 406.67, not 406.6699999999999). */
  pmx__cumf_t modes[PMX__CPU_MODES];
  uint64_t prev_busy, prev_total;
  double hz;
  char *path; /* <proc_root>/stat */
} cpu_ctx_t;

static void cpu_free(void *p) {
  cpu_ctx_t *c = p;
  if (c == NULL) return;
  pmx__text_free(&c->text);
  pmx__free(c->path);
  pmx__free(c);
}

static int cpu_measure(pmx_bus_t *bus, void *p) {
  cpu_ctx_t *c = p;
  pmx_event_t *ev = pmx__ev(&c->ev, bus, EV_CPU);
  pmx_event_t *util = pmx__ev(&c->ev_util, bus, EV_CPU_UTIL);
  if (ev == NULL || util == NULL) return PMX_ENOMEM;
  int rc = pmx__slurp(c->path, &c->text, MAX_PROC_FILE);
  if (rc != PMX_OK) return rc;
  pmx__proc_stat_t st;
  if (pmx__parse_proc_stat(c->text.data, &st) != PMX_OK) return PMX_EPARSE;
  uint64_t total = 0, idle = 0;
  for (unsigned i = 0; i < st.n_modes; i++) {
    double d = pmx__cumf_delta(&c->modes[i], (double)st.ticks[i] / c->hz);
    pmx_measurement_t m[] = {PMX_M("seconds", d)};
    pmx_meta_t md[] = {PMX_META_S("mode", pmx__cpu_mode_names[i])};
    pmx_emit(ev, m, 1, md, 1);
    /* guest and guest_nice are already included in user and nice. */
    if (i < PMX__CPU_GUEST) total += st.ticks[i];
    if (i == PMX__CPU_IDLE || i == PMX__CPU_IOWAIT) idle += st.ticks[i];
  }
  uint64_t busy = total - idle;
  /* Utilisation over the last poll interval; on the first poll, since boot. */
  uint64_t dt = total >= c->prev_total ? total - c->prev_total : 0;
  uint64_t db = busy >= c->prev_busy ? busy - c->prev_busy : 0;
  c->prev_total = total;
  c->prev_busy = busy;
  pmx_measurement_t um[2];
  size_t n = 0;
  if (dt > 0) um[n++] = PMX_M("ratio", db > dt ? 1.0 : (double)db / (double)dt);
  um[n++] = PMX_M("cpus", st.n_cpus);
  pmx_emit(util, um, n, NULL, 0);
  return PMX_OK;
}

/* ---- os_memory_polling_metrics ------------------------------------------------------------ */

typedef struct mem_ctx {
  pmx__evcache_t ev;
  pmx__text_t text;
  char *path; /* <proc_root>/meminfo */
} mem_ctx_t;

static void mem_free(void *p) {
  mem_ctx_t *c = p;
  if (c == NULL) return;
  pmx__text_free(&c->text);
  pmx__free(c->path);
  pmx__free(c);
}

static int mem_measure(pmx_bus_t *bus, void *p) {
  mem_ctx_t *c = p;
  pmx_event_t *ev = pmx__ev(&c->ev, bus, EV_MEMORY);
  if (ev == NULL) return PMX_ENOMEM;
  int rc = pmx__slurp(c->path, &c->text, MAX_PROC_FILE);
  if (rc != PMX_OK) return rc;
  pmx__meminfo_t mi;
  if (pmx__parse_meminfo(c->text.data, &mi) != PMX_OK) return PMX_EPARSE;
  pmx_measurement_t m[7];
  size_t n = 0;
  /* Fields an old kernel lacks (MemAvailable before 3.14) are left out of the event, so their
   * metric is skipped rather than reported as 0. */
  if (mi.have & PMX__MEM_TOTAL) m[n++] = PMX_M("total", (double)mi.total);
  if (mi.have & PMX__MEM_FREE) m[n++] = PMX_M("free", (double)mi.free);
  if (mi.have & PMX__MEM_AVAILABLE) m[n++] = PMX_M("available", (double)mi.available);
  if (mi.have & PMX__MEM_BUFFERS) m[n++] = PMX_M("buffers", (double)mi.buffers);
  if (mi.have & PMX__MEM_CACHED) m[n++] = PMX_M("cached", (double)mi.cached);
  if (mi.have & PMX__MEM_SWAP_TOTAL) m[n++] = PMX_M("swap_total", (double)mi.swap_total);
  if (mi.have & PMX__MEM_SWAP_FREE) m[n++] = PMX_M("swap_free", (double)mi.swap_free);
  pmx_emit(ev, m, n, NULL, 0);
  return PMX_OK;
}

/* ---- os_filesystem_polling_metrics -------------------------------------------------------- */

typedef struct fs_ctx {
  pmx__evcache_t ev;
  pmx__text_t text;
  char *include_mounts, *exclude_mounts, *include_types, *exclude_types; /* NULL: no filter */
  pmx__mount_t *mounts; /* reusable: mounts kept by the filters in this poll */
  size_t n_mounts, cap_mounts;
  char *path;           /* <proc_root>/self/mounts */
  pmx_seen_t *seen;     /* mount points reported by the last poll */
} fs_ctx_t;

static void fs_free(void *p) {
  fs_ctx_t *c = p;
  if (c == NULL) return;
  pmx__text_free(&c->text);
  pmx__free(c->include_mounts);
  pmx__free(c->exclude_mounts);
  pmx__free(c->include_types);
  pmx__free(c->exclude_types);
  pmx__free(c->mounts);
  pmx__free(c->path);
  pmx_seen_free(c->seen);
  pmx__free(c);
}

static int fs_measure(pmx_bus_t *bus, void *p) {
  fs_ctx_t *c = p;
  pmx_event_t *ev = pmx__ev(&c->ev, bus, EV_FS);
  if (ev == NULL) return PMX_ENOMEM;
  int rc = pmx__slurp(c->path, &c->text, MAX_PROC_FILE);
  if (rc != PMX_OK) return rc;
  c->n_mounts = 0;
  size_t pos = 0, ln;
  const char *line;
  while (pmx__next_line(c->text.data, c->text.len, &pos, &line, &ln)) {
    pmx__mount_t mt;
    if (pmx__parse_mount_line(line, ln, &mt) != PMX_OK) continue; /* odd line: skip it */
    if (!pmx__os_fs_selected(c->include_mounts, c->exclude_mounts, c->include_types,
                             c->exclude_types, &mt))
      continue;
    /* A mount point mounted over keeps only its last (visible) entry. */
    size_t i;
    for (i = 0; i < c->n_mounts; i++)
      if (strcmp(c->mounts[i].mountpoint, mt.mountpoint) == 0) break;
    if (i == c->n_mounts) {
      if (c->n_mounts == c->cap_mounts) {
        size_t ncap = c->cap_mounts ? c->cap_mounts * 2 : 16;
        pmx__mount_t *nm = pmx__realloc(c->mounts, ncap * sizeof *nm);
        if (nm == NULL) return PMX_ENOMEM;
        c->mounts = nm;
        c->cap_mounts = ncap;
      }
      c->n_mounts++;
    }
    c->mounts[i] = mt;
  }
  for (size_t i = 0; i < c->n_mounts; i++) {
    const pmx__mount_t *mt = &c->mounts[i];
    struct statvfs sv;
    if (statvfs(mt->mountpoint, &sv) != 0 || sv.f_blocks == 0) continue; /* gone, or pseudo */
    double frsize = (double)(sv.f_frsize ? sv.f_frsize : sv.f_bsize);
    pmx_measurement_t m[] = {PMX_M("size", (double)sv.f_blocks * frsize),
                             PMX_M("free", (double)sv.f_bfree * frsize),
                             PMX_M("available", (double)sv.f_bavail * frsize),
                             PMX_M("files", (double)sv.f_files),
                             PMX_M("files_free", (double)sv.f_ffree)};
    pmx_meta_t md[] = {PMX_META_S("device", mt->device), PMX_META_S("mountpoint", mt->mountpoint),
                       PMX_META_S("fstype", mt->fstype)};
    pmx_emit(ev, m, 5, md, 3);
    pmx_seen_mark(c->seen, mt->mountpoint); /* on failure, the sweep retires nothing */
  }
  /* Unmounted (or now filtered out, or statvfs failing): its series go. */
  pmx__retire_by_t by = {bus, ev, "mountpoint"};
  pmx_seen_sweep(c->seen, pmx__retire_gone, &by);
  return PMX_OK;
}

/* ---- os_network_polling_metrics ----------------------------------------------------------- */

typedef struct net_prev {
  char name[64];
  pmx__cum_t v[6];
} net_prev_t;

typedef struct net_ctx {
  pmx__evcache_t ev;
  pmx__text_t text;
  char *exclude;
  net_prev_t *prev; /* one per interface present at the last poll */
  size_t n_prev, cap_prev;
  char *path;       /* <proc_root>/net/dev */
  pmx_seen_t *seen; /* interfaces reported by the last poll */
  pmx_bus_t *bus;   /* for net_gone, during a sweep */
} net_ctx_t;

static void net_free(void *p) {
  net_ctx_t *c = p;
  if (c == NULL) return;
  pmx__text_free(&c->text);
  pmx__free(c->exclude);
  pmx__free(c->prev);
  pmx__free(c->path);
  pmx_seen_free(c->seen);
  pmx__free(c);
}

static net_prev_t *net_slot(net_ctx_t *c, const char *name) {
  for (size_t i = 0; i < c->n_prev; i++)
    if (strcmp(c->prev[i].name, name) == 0) return &c->prev[i];
  if (c->n_prev == c->cap_prev) {
    size_t ncap = c->cap_prev ? c->cap_prev * 2 : 8;
    net_prev_t *np = pmx__realloc(c->prev, ncap * sizeof *np);
    if (np == NULL) return NULL;
    c->prev = np;
    c->cap_prev = ncap;
  }
  net_prev_t *s = &c->prev[c->n_prev++];
  memset(s, 0, sizeof *s);
  pmx__strlcpy(s->name, name, sizeof s->name);
  return s;
}

/* An interface gone: its series are retired and its previous values forgotten, so that an
 * interface re-created under the same name starts fresh counters from its own values. */
static void net_gone(const char *name, void *p) {
  net_ctx_t *c = p;
  pmx_meta_t md[] = {PMX_META_S("device", name)};
  pmx_retire(c->bus, c->ev.ev, md, 1);
  for (size_t i = 0; i < c->n_prev; i++) {
    if (strcmp(c->prev[i].name, name) == 0) {
      c->prev[i] = c->prev[--c->n_prev];
      break;
    }
  }
}

static int net_measure(pmx_bus_t *bus, void *p) {
  net_ctx_t *c = p;
  pmx_event_t *ev = pmx__ev(&c->ev, bus, EV_NET);
  if (ev == NULL) return PMX_ENOMEM;
  int rc = pmx__slurp(c->path, &c->text, MAX_PROC_FILE);
  if (rc != PMX_OK) return rc;
  size_t pos = 0, ln;
  const char *line;
  while (pmx__next_line(c->text.data, c->text.len, &pos, &line, &ln)) {
    pmx__netdev_t d;
    if (pmx__parse_netdev_line(line, ln, &d) != PMX_OK) continue;
    if (c->exclude && pmx__list_has(c->exclude, d.name, strlen(d.name))) continue;
    net_prev_t *s = net_slot(c, d.name);
    if (s == NULL) return PMX_ENOMEM;
    pmx_measurement_t m[] = {
        PMX_M("receive_bytes", pmx__cum_delta(&s->v[0], d.rx_bytes)),
        PMX_M("receive_packets", pmx__cum_delta(&s->v[1], d.rx_packets)),
        PMX_M("receive_errors", pmx__cum_delta(&s->v[2], d.rx_errs)),
        PMX_M("transmit_bytes", pmx__cum_delta(&s->v[3], d.tx_bytes)),
        PMX_M("transmit_packets", pmx__cum_delta(&s->v[4], d.tx_packets)),
        PMX_M("transmit_errors", pmx__cum_delta(&s->v[5], d.tx_errs))};
    pmx_meta_t md[] = {PMX_META_S("device", d.name)};
    pmx_emit(ev, m, 6, md, 1);
    pmx_seen_mark(c->seen, s->name); /* the name as kept, so net_gone finds its slot */
  }
  c->bus = bus;
  pmx_seen_sweep(c->seen, net_gone, c);
  return PMX_OK;
}

/* ---- plugin callback ---------------------------------------------------------------------- */

#define GAUGE(n, ev, meas, desc) \
  {.kind = PMX_LAST_VALUE, .name = (n), .event_name = (ev), .measurement = (meas), .description = (desc)}
#define GAUGE_T(n, ev, meas, tg, nt, desc)                                                     \
  {.kind = PMX_LAST_VALUE, .name = (n), .event_name = (ev), .measurement = (meas), .tags = (tg), \
   .n_tags = (nt), .description = (desc)}
#define COUNTER_T(n, ev, meas, tg, nt, desc)                                          \
  {.kind = PMX_SUM, .name = (n), .event_name = (ev), .measurement = (meas), .tags = (tg), \
   .n_tags = (nt), .description = (desc)}

static const char *const k_allowed[] = {"fs_include_mounts", "fs_exclude_mounts",
                                        "fs_include_types", "fs_exclude_types", "net_exclude",
                                        "proc_root"};

/* "<proc_root>/<rel>" (proc_root defaults to /proc); NULL when out of memory. */
static char *proc_path(const pmx_plugin_ctx_t *ctx, const char *rel) {
  const char *root = pmx_plugin_opt(ctx, "proc_root");
  if (root == NULL || root[0] == '\0') root = "/proc";
  size_t n = strlen(root) + 1 + strlen(rel) + 1;
  char *p = pmx__malloc(n);
  if (p != NULL) snprintf(p, n, "%s/%s", root, rel);
  return p;
}

/* Copies an option, or the default when it is absent. An empty value means "no filter". */
static bool opt_or(const pmx_plugin_ctx_t *ctx, const char *key, const char *dflt, char **out) {
  const char *v = pmx_plugin_opt(ctx, key);
  if (v == NULL) v = dflt;
  *out = NULL;
  if (v == NULL || v[0] == '\0') return true;
  *out = pmx__strdup(v);
  return *out != NULL;
}

static int os_polling(const pmx_plugin_ctx_t *ctx, pmx_groups_t *out) {
  int rc = pmx_plugin_check_opts(ctx, k_allowed, sizeof k_allowed / sizeof k_allowed[0]);
  if (rc != PMX_OK) return rc;

  load_ctx_t *lc = pmx__calloc(1, sizeof *lc);
  if (lc == NULL) return PMX_ENOMEM;
  if ((lc->path = proc_path(ctx, "loadavg")) == NULL) {
    load_free(lc);
    return PMX_ENOMEM;
  }
  const pmx_metric_def_t load[] = {
      GAUGE("load1", EV_LOAD, "load1", "1-minute load average (/proc/loadavg)."),
      GAUGE("load5", EV_LOAD, "load5", "5-minute load average (/proc/loadavg)."),
      GAUGE("load15", EV_LOAD, "load15", "15-minute load average (/proc/loadavg)."),
      GAUGE("processes_running", EV_LOAD, "running",
            "Runnable scheduling entities (/proc/loadavg)."),
      GAUGE("processes", EV_LOAD, "total", "Existing scheduling entities (/proc/loadavg)."),
  };
  rc = pmx_groups_add_polling(out, "os_load_polling_metrics", 0, load_measure, lc, load_free, load,
                              5);
  if (rc != PMX_OK) return rc;

  cpu_ctx_t *cc = pmx__calloc(1, sizeof *cc);
  if (cc == NULL) return PMX_ENOMEM;
  if ((cc->path = proc_path(ctx, "stat")) == NULL) {
    cpu_free(cc);
    return PMX_ENOMEM;
  }
  long hz = sysconf(_SC_CLK_TCK);
  cc->hz = hz > 0 ? (double)hz : 100.0;
  static const char *const mode[] = {"mode"};
  const pmx_metric_def_t cpu[] = {
      COUNTER_T("cpu.seconds.total", EV_CPU, "seconds", mode, 1,
                "CPU time spent in each mode, all CPUs together (/proc/stat)."),
      GAUGE("cpu.utilization.ratio", EV_CPU_UTIL, "ratio",
            "Share of CPU time not idle or iowait during the last poll interval (0-1)."),
      GAUGE("cpus", EV_CPU_UTIL, "cpus", "CPUs listed in /proc/stat."),
  };
  rc = pmx_groups_add_polling(out, "os_cpu_polling_metrics", 0, cpu_measure, cc, cpu_free, cpu, 3);
  if (rc != PMX_OK) return rc;

  mem_ctx_t *mc = pmx__calloc(1, sizeof *mc);
  if (mc == NULL) return PMX_ENOMEM;
  if ((mc->path = proc_path(ctx, "meminfo")) == NULL) {
    mem_free(mc);
    return PMX_ENOMEM;
  }
  const pmx_metric_def_t mem[] = {
      GAUGE("memory.total.bytes", EV_MEMORY, "total", "MemTotal (/proc/meminfo)."),
      GAUGE("memory.free.bytes", EV_MEMORY, "free", "MemFree (/proc/meminfo)."),
      GAUGE("memory.available.bytes", EV_MEMORY, "available",
            "MemAvailable (/proc/meminfo; Linux 3.14+)."),
      GAUGE("memory.buffers.bytes", EV_MEMORY, "buffers", "Buffers (/proc/meminfo)."),
      GAUGE("memory.cached.bytes", EV_MEMORY, "cached", "Cached (/proc/meminfo)."),
      GAUGE("swap.total.bytes", EV_MEMORY, "swap_total", "SwapTotal (/proc/meminfo)."),
      GAUGE("swap.free.bytes", EV_MEMORY, "swap_free", "SwapFree (/proc/meminfo)."),
  };
  rc = pmx_groups_add_polling(out, "os_memory_polling_metrics", 0, mem_measure, mc, mem_free, mem,
                              7);
  if (rc != PMX_OK) return rc;

  fs_ctx_t *fc = pmx__calloc(1, sizeof *fc);
  if (fc == NULL) return PMX_ENOMEM;
  if (!opt_or(ctx, "fs_include_mounts", NULL, &fc->include_mounts) ||
      !opt_or(ctx, "fs_exclude_mounts", PMX_OS_DEFAULT_FS_EXCLUDE_MOUNTS, &fc->exclude_mounts) ||
      !opt_or(ctx, "fs_include_types", NULL, &fc->include_types) ||
      !opt_or(ctx, "fs_exclude_types", PMX_OS_DEFAULT_FS_EXCLUDE_TYPES, &fc->exclude_types) ||
      (fc->path = proc_path(ctx, "self/mounts")) == NULL || pmx_seen_new(&fc->seen) != PMX_OK) {
    fs_free(fc);
    return PMX_ENOMEM;
  }
  static const char *const fs_tags[] = {"device", "mountpoint", "fstype"};
  const pmx_metric_def_t fs[] = {
      GAUGE_T("filesystem.size.bytes", EV_FS, "size", fs_tags, 3, "Filesystem size (statvfs)."),
      GAUGE_T("filesystem.free.bytes", EV_FS, "free", fs_tags, 3,
              "Free space, including space reserved for root (statvfs f_bfree)."),
      GAUGE_T("filesystem.available.bytes", EV_FS, "available", fs_tags, 3,
              "Space available to unprivileged users (statvfs f_bavail)."),
      GAUGE_T("filesystem.files", EV_FS, "files", fs_tags, 3, "Inodes (statvfs f_files)."),
      GAUGE_T("filesystem.files_free", EV_FS, "files_free", fs_tags, 3,
              "Free inodes (statvfs f_ffree)."),
  };
  rc = pmx_groups_add_polling(out, "os_filesystem_polling_metrics", 0, fs_measure, fc, fs_free, fs,
                              5);
  if (rc != PMX_OK) return rc;

  net_ctx_t *nc = pmx__calloc(1, sizeof *nc);
  if (nc == NULL) return PMX_ENOMEM;
  if (!opt_or(ctx, "net_exclude", PMX_OS_DEFAULT_NET_EXCLUDE, &nc->exclude) ||
      (nc->path = proc_path(ctx, "net/dev")) == NULL || pmx_seen_new(&nc->seen) != PMX_OK) {
    net_free(nc);
    return PMX_ENOMEM;
  }
  static const char *const dev[] = {"device"};
  const pmx_metric_def_t net[] = {
      COUNTER_T("network.receive.bytes.total", EV_NET, "receive_bytes", dev, 1,
                "Bytes received (/proc/net/dev)."),
      COUNTER_T("network.transmit.bytes.total", EV_NET, "transmit_bytes", dev, 1,
                "Bytes sent (/proc/net/dev)."),
      COUNTER_T("network.receive.packets.total", EV_NET, "receive_packets", dev, 1,
                "Packets received (/proc/net/dev)."),
      COUNTER_T("network.transmit.packets.total", EV_NET, "transmit_packets", dev, 1,
                "Packets sent (/proc/net/dev)."),
      COUNTER_T("network.receive.errors.total", EV_NET, "receive_errors", dev, 1,
                "Receive errors (/proc/net/dev)."),
      COUNTER_T("network.transmit.errors.total", EV_NET, "transmit_errors", dev, 1,
                "Transmit errors (/proc/net/dev)."),
  };
  return pmx_groups_add_polling(out, "os_network_polling_metrics", 0, net_measure, nc, net_free,
                                net, 6);
}

const pmx_plugin_t pmx_plugin_os = {PMX_PLUGIN_ABI, "os", NULL, os_polling, NULL, {0}};
