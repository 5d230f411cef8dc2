/* Private to the first-party plugins: pure parsers over the text of /proc files, plus the small
 * helpers the plugins share (reading a /proc file into a reusable buffer, comma-list matching).
 *
 * Why pure functions: each parser takes the text of one file (or one line) and fills a struct,
 * with no I/O and no global state, so tests can feed captured fixtures from tests/data/proc/ and
 * compare with values worked out by hand, and fuzzers can drive them. The plugin glue
 * (plugins/application.c, process.c, os.c) only reads files and emits events.
 *
 * Conventions: every parser returns PMX_OK, PMX_EINVAL (NULL argument) or PMX_EPARSE (the text
 * does not have the expected shape; *out is then unspecified). Fields that older kernels do not
 * print are reported through `have_*` flags or counts rather than guessed. Nothing here
 * allocates except pmx__slurp(), which grows the caller's buffer. Nothing is API. */
#ifndef PMX_PLUGINS_SYSPARSE_H
#define PMX_PLUGINS_SYSPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Text input ------------------------------------------------------------------------------ */

/* A reusable, growable read buffer (kept in a polling group's ctx so that steady-state polls do
 * not allocate). Zero-initialise; free with pmx__text_free. */
typedef struct pmx__text {
  char *data;
  size_t len;
  size_t cap;
} pmx__text_t;

/* Reads the whole file at `path` into `t` (NUL-terminated; t->len excludes the NUL), growing the
 * buffer as needed up to `max` bytes (larger files are truncated at a line boundary when
 * possible). Returns PMX_OK, PMX_ESYS (open/read failed; errno kept), PMX_ENOMEM. */
int pmx__slurp(const char *path, pmx__text_t *t, size_t max);
void pmx__text_free(pmx__text_t *t);

/* Line iteration over a text: *pos is the cursor (start at 0). Returns false at the end;
 * otherwise *line and *len describe the next line without its '\n'. */
bool pmx__next_line(const char *text, size_t text_len, size_t *pos, const char **line,
                    size_t *len);

/* ---- Comma lists (plugin options) ------------------------------------------------------------ */

/* True if `item` (item_len bytes) equals one of the comma-separated entries of `list` (spaces
 * around entries are ignored). NULL or empty list: false. */
bool pmx__list_has(const char *list, const char *item, size_t item_len);

/* Mount point matching for fs_include_mounts / fs_exclude_mounts: an entry matches a mount point
 * equal to it; an entry ending in '/' (other than "/" itself) matches every mount point strictly
 * below that directory ("/proc/" matches "/proc/sys" but not "/proc"). */
bool pmx__mount_list_match(const char *list, const char *mountpoint);

/* ---- /proc/self/stat, statm, status (process) ------------------------------------------------ */

typedef struct pmx__pid_stat {
  char state;               /* field 3 */
  uint64_t minflt;          /* field 10 */
  uint64_t majflt;          /* field 12 */
  uint64_t utime_ticks;     /* field 14 (clock ticks) */
  uint64_t stime_ticks;     /* field 15 */
  int64_t num_threads;      /* field 20 */
  uint64_t starttime_ticks; /* field 22: clock ticks after boot */
  uint64_t vsize;           /* field 23: bytes */
  int64_t rss_pages;        /* field 24 */
} pmx__pid_stat_t;

/* Parses /proc/<pid>/stat. The command name (field 2) may contain spaces and parentheses, so
 * fields are counted from the LAST ')' in the text. */
int pmx__parse_pid_stat(const char *text, pmx__pid_stat_t *out);

/* Parses /proc/<pid>/statm: total program size and resident set, in pages. */
int pmx__parse_statm(const char *text, uint64_t *size_pages, uint64_t *resident_pages);

/* Parses a file holding one unsigned decimal (e.g. /proc/sys/kernel/threads-max). */
int pmx__parse_u64(const char *text, uint64_t *out);

/* Finds "<key>:  <n> kB" in /proc/<pid>/status or /proc/meminfo style text and returns the value
 * in bytes (a value without the kB suffix is returned as is). PMX_ENOENT if the key is absent. */
int pmx__parse_kv_kb(const char *text, const char *key, uint64_t *out);

/* ---- /proc/self/io, /proc/<pid>/task/<tid>/schedstat, thread states ----------------------------- */

enum {
  PMX__IO_RCHAR = 1u << 0,       /* bytes passed to read()-like syscalls (any file, socket, tty) */
  PMX__IO_WCHAR = 1u << 1,       /* bytes passed to write()-like syscalls */
  PMX__IO_SYSCR = 1u << 2,       /* read()-like syscalls */
  PMX__IO_SYSCW = 1u << 3,       /* write()-like syscalls */
  PMX__IO_READ_BYTES = 1u << 4,  /* bytes fetched from the storage layer (block I/O) */
  PMX__IO_WRITE_BYTES = 1u << 5, /* bytes sent to the storage layer */
  PMX__IO_CANCELLED = 1u << 6    /* cancelled_write_bytes: dirty pages truncated before writeback */
};

typedef struct pmx__pid_io {
  uint64_t rchar, wchar, syscr, syscw, read_bytes, write_bytes, cancelled_write_bytes;
  unsigned have; /* PMX__IO_* bits of the fields found */
} pmx__pid_io_t;

/* Parses /proc/<pid>/io ("key: value" lines, in any order; unknown keys are skipped). The four
 * syscall-level fields are always printed by the kernel (task_io_accounting); read_bytes,
 * write_bytes and cancelled_write_bytes need CONFIG_TASK_IO_ACCOUNTING. PMX_EPARSE unless rchar,
 * wchar, syscr and syscw are all present, or if a known key has no valid number. */
int pmx__parse_pid_io(const char *text, pmx__pid_io_t *out);

/* Parses /proc/<pid>/schedstat (or a task's): "<on-cpu ns> <run-queue wait ns> <timeslices>".
 * The third field is optional (*timeslices 0 when absent). NULL outputs may not be passed. */
int pmx__parse_schedstat(const char *text, uint64_t *run_ns, uint64_t *wait_ns,
                         uint64_t *timeslices);

/* Thread states of /proc/<pid>/task/<tid>/stat field 3, grouped as the dashboards show them. */
enum {
  PMX__TS_RUNNING = 0, /* R: running or runnable (on a run queue) */
  PMX__TS_SLEEPING,    /* S: interruptible sleep (waiting for an event) */
  PMX__TS_DISK_SLEEP,  /* D: uninterruptible sleep (usually I/O) */
  PMX__TS_STOPPED,     /* T, t: stopped by a signal or by a tracer */
  PMX__TS_ZOMBIE,      /* Z, X: exited, not yet reaped / dead */
  PMX__TS_IDLE,        /* I: idle kernel thread (Linux 4.14+) */
  PMX__TS_OTHER,       /* anything else (W paging, P parked, K wakekill of old kernels, ...) */
  PMX__TS_COUNT
};
/* Label values for the states above ("running", "sleeping", ...). */
extern const char *const pmx__thread_state_names[PMX__TS_COUNT];
/* The PMX__TS_* index of a state letter. */
int pmx__thread_state_index(char state);

/* ---- Per-thread cumulative values summed into one process counter ----------------------------- */

/* Sums a cumulative per-thread value (run-queue wait from task/<tid>/schedstat) into a process
 * counter without the drop a plain sum shows when a thread exits: each poll reports, per thread
 * id, only the increase since that thread was last seen, so what exited threads had accumulated
 * stays counted (only their time since the previous poll is lost). Usage per poll: begin, one
 * add per thread, end (returns the increase to feed a PMX_SUM). A thread id seen with a smaller
 * value than before is a new thread reusing the id: its whole value is its increase.
 * At most PMX__TASKS_MAX threads are tracked; add() returns PMX_ELIMIT beyond that (the caller
 * stops scanning). Allocates while the thread count grows, never in steady state. Not
 * thread-safe (one per polling group). Zero-initialise; release with pmx__task_sum_free(). */
#define PMX__TASKS_MAX 4096
typedef struct pmx__tid_value {
  int64_t tid;
  uint64_t value;
} pmx__tid_value_t;
typedef struct pmx__task_sum {
  pmx__tid_value_t *prev, *cur; /* prev sorted by tid */
  size_t n_prev, n_cur, cap_prev, cap_cur;
} pmx__task_sum_t;
void pmx__task_sum_begin(pmx__task_sum_t *s);
int pmx__task_sum_add(pmx__task_sum_t *s, int64_t tid, uint64_t value); /* PMX_OK, ELIMIT, ENOMEM */
uint64_t pmx__task_sum_end(pmx__task_sum_t *s);
/* Ends a poll whose scan failed part-way (an add() returned PMX_ENOMEM): forgets this poll's
 * values and keeps the previous poll's, so the next poll's increase is measured from there
 * (a thread missing from a half-read poll would otherwise be counted twice). */
void pmx__task_sum_abort(pmx__task_sum_t *s);
void pmx__task_sum_free(pmx__task_sum_t *s);

/* ---- Shared libraries (application dependencies) --------------------------------------------- */

/* Derives a dependency's name and version from the path the loader used (`path`, normally the
 * soname as found, e.g. "/lib/x86_64-linux-gnu/libcurl.so.4") and, when known, the file it
 * resolves to (`real_path`, e.g. ".../libcurl.so.4.8.0"; may be NULL):
 *   name    the basename up to ".so" ("libcurl"); a trailing "-<digits...>" in that stem is a
 *           version too ("libLLVM-15.so" -> name "libLLVM", version "15") unless a digit precedes
 *           the dash ("ld-linux-x86-64.so.2" keeps its name);
 *   version the longest dotted version after ".so." in real_path, else in path, else the stem's
 *           "-<version>", else "undefined".
 * Returns PMX_OK, PMX_EINVAL, PMX_EPARSE (no ".so" in the basename). Outputs are truncated to
 * their capacity and always NUL-terminated. */
int pmx__parse_lib_name(const char *path, const char *real_path, char *name, size_t name_cap,
                        char *version, size_t version_cap);

/* ---- /proc/loadavg ---------------------------------------------------------------------------- */

typedef struct pmx__loadavg {
  double load1, load5, load15;
  int64_t running;  /* runnable scheduling entities */
  int64_t total;    /* existing scheduling entities */
} pmx__loadavg_t;

int pmx__parse_loadavg(const char *text, pmx__loadavg_t *out);

/* ---- /proc/stat ------------------------------------------------------------------------------ */

/* CPU modes in the order of the "cpu" line. Kernels before 2.6.11 lack steal, before 2.6.24 guest,
 * before 2.6.33 guest_nice; n_modes says how many were present (at least 4). */
enum {
  PMX__CPU_USER = 0,
  PMX__CPU_NICE,
  PMX__CPU_SYSTEM,
  PMX__CPU_IDLE,
  PMX__CPU_IOWAIT,
  PMX__CPU_IRQ,
  PMX__CPU_SOFTIRQ,
  PMX__CPU_STEAL,
  PMX__CPU_GUEST,
  PMX__CPU_GUEST_NICE,
  PMX__CPU_MODES
};
/* Label values for the modes above ("user", "nice", ...). */
extern const char *const pmx__cpu_mode_names[PMX__CPU_MODES];

typedef struct pmx__proc_stat {
  uint64_t ticks[PMX__CPU_MODES]; /* aggregate "cpu" line, clock ticks (USER_HZ) */
  unsigned n_modes;               /* how many of ticks[] the kernel printed */
  unsigned n_cpus;                /* number of "cpuN" lines */
  uint64_t btime;                 /* boot time, seconds since the epoch */
  bool have_btime;
} pmx__proc_stat_t;

int pmx__parse_proc_stat(const char *text, pmx__proc_stat_t *out);

/* ---- /proc/meminfo --------------------------------------------------------------------------- */

enum {
  PMX__MEM_TOTAL = 1u << 0,
  PMX__MEM_FREE = 1u << 1,
  PMX__MEM_AVAILABLE = 1u << 2, /* MemAvailable: Linux 3.14+ */
  PMX__MEM_BUFFERS = 1u << 3,
  PMX__MEM_CACHED = 1u << 4,
  PMX__MEM_SWAP_TOTAL = 1u << 5,
  PMX__MEM_SWAP_FREE = 1u << 6
};

typedef struct pmx__meminfo {
  uint64_t total, free, available, buffers, cached, swap_total, swap_free; /* bytes */
  unsigned have; /* PMX__MEM_* bits of the fields found */
} pmx__meminfo_t;

/* PMX_EPARSE unless at least MemTotal and MemFree are present. */
int pmx__parse_meminfo(const char *text, pmx__meminfo_t *out);

/* ---- /proc/self/mounts ----------------------------------------------------------------------- */

typedef struct pmx__mount {
  char device[256];
  char mountpoint[1024];
  char fstype[64];
} pmx__mount_t;

/* Decodes the octal escapes the kernel writes in mount fields ("\040" space, "\011" tab, "\012"
 * newline, "\134" backslash; any "\ooo"). A backslash not followed by three octal digits is kept.
 * Returns the decoded length (truncated to cap - 1; always NUL-terminated when cap > 0). */
size_t pmx__unescape_octal(const char *src, size_t len, char *dst, size_t cap);

/* Parses one line of /proc/mounts ("device mountpoint fstype options 0 0"), decoding escapes.
 * Returns PMX_OK, PMX_EPARSE (fewer than 3 fields, or a field longer than its buffer). */
int pmx__parse_mount_line(const char *line, size_t len, pmx__mount_t *out);

/* The os plugin's filesystem filter: true if mount `m` passes the include/exclude lists (each
 * NULL for "no filter"). Types are compared exactly; mount points as pmx__mount_list_match(). A
 * mount must match an include list when one is given, and no exclude list. */
bool pmx__os_fs_selected(const char *include_mounts, const char *exclude_mounts,
                         const char *include_types, const char *exclude_types,
                         const pmx__mount_t *m);

/* ---- /proc/net/dev --------------------------------------------------------------------------- */

typedef struct pmx__netdev {
  char name[64];
  uint64_t rx_bytes, rx_packets, rx_errs;
  uint64_t tx_bytes, tx_packets, tx_errs;
} pmx__netdev_t;

/* Parses one interface line of /proc/net/dev ("  eth0: 1 2 3 ..." or, on old kernels with long
 * counters, "eth0:123 ..."). Header lines give PMX_ENOENT. Needs at least 11 numbers (rx 8 +
 * tx bytes, packets, errs); anything shorter is PMX_EPARSE. */
int pmx__parse_netdev_line(const char *line, size_t len, pmx__netdev_t *out);

#endif
