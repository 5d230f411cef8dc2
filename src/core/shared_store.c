/* The shared mapping of the multi-process mode (include/promex/shared.h): an anonymous memory
 * file (memfd) whose whole maximum size is reserved once in the address space, before fork, so
 * every process of the group sees it at the same address and pointers into it mean the same
 * thing everywhere. Only a prefix is backed: allocation is a bump pointer under a robust
 * process-shared mutex, and when it passes the backed size the file is grown with fallocate,
 * which fails cleanly (ENOSPC/ENOMEM) where touching unbacked pages would raise SIGBUS. Growing
 * never moves the mapping, so no pointer held by any process is ever invalidated. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "core/counter_cells.h"
#include "core/shared_store.h"
#include "promex/shared.h"

#define DEFAULT_MAX ((size_t)1 << 30)
#define DEFAULT_INITIAL ((size_t)1 << 20)
#define GROW_STEP_MAX ((size_t)64 << 20) /* backing grows by doubling, at most this at once */
#define ALIGN 64
#define DEFAULT_WORKERS 64

/* At the start of the mapping, shared by every process. `used` and `backed` only ever grow, and
 * each is written after the step it records succeeded, so a process killed inside pmx__shm_alloc
 * leaves them consistent (at worst a backed but unused tail). */
typedef struct shm_header {
  pthread_mutex_t grow_mu;
  _Atomic size_t used;
  _Atomic size_t backed;
  size_t reserved;
  size_t max_workers;
  _Atomic uint64_t gauge_overflow; /* gauge updates of processes that found no free cell */
  _Atomic uint64_t write_offs;     /* histogram observations written off as dead (ever) */
  _Atomic pid_t workers[];         /* cell owners (shared_workers.c); 0: free */
} shm_header_t;

/* This process's view; a forked child inherits it with the mapping. */
static struct {
  unsigned char *base;
  size_t reserved;
  int fd;
  const pmx_registry_t *reg;
} view = {NULL, 0, -1, NULL};

/* Set by fork (in parent and child): definitions are then refused. */
static atomic_bool forked;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void note_fork(void) { atomic_store(&forked, true); }
static void note_fork_child(void) {
  atomic_store(&forked, true);
  pmx__shm_worker_forked(); /* the parent's gauge cell is not the child's */
  if (view.base != NULL) pmx__shards_reseed((unsigned)getpid());
}
static void register_atfork(void) { pthread_atfork(NULL, note_fork, note_fork_child); }

static size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

/* Threads that may run before the mode is enabled: the main one, and under ThreadSanitizer the
 * sanitizer's background thread, which it starts with the program's first thread. */
#define THREADS_ALLOWED (PMX_TSAN ? 2 : 1)

/* Threads of this process, from /proc (0 if unknown). */
static long thread_count(void) {
  FILE *f = fopen("/proc/self/status", "r");
  if (f == NULL) return 0;
  char line[256];
  long n = 0;
  while (fgets(line, sizeof line, f) != NULL) {
    if (strncmp(line, "Threads:", 8) == 0) {
      n = strtol(line + 8, NULL, 10);
      break;
    }
  }
  fclose(f);
  return n;
}

int pmx__shm_mutex_init(pthread_mutex_t *mu, bool robust) {
  pthread_mutexattr_t a;
  int rc = pthread_mutexattr_init(&a);
  if (rc != 0) return rc;
  rc = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
  if (rc == 0 && robust) rc = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
  if (rc == 0) rc = pthread_mutex_init(mu, &a);
  pthread_mutexattr_destroy(&a);
  return rc;
}

int pmx_shared_enable(pmx_registry_t *reg, const pmx_shared_opts_t *opts, pmx_error_t *err) {
  if (reg == NULL) return pmx__fail(err, PMX_EINVAL, "", "pmx_shared_enable: registry is NULL");
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t max = opts && opts->max_bytes ? opts->max_bytes : DEFAULT_MAX;
  size_t initial = opts && opts->initial_bytes ? opts->initial_bytes : DEFAULT_INITIAL;
  if (opts && !opts->initial_bytes && initial > max) initial = max;
  if (initial > max) {
    return pmx__fail(err, PMX_EINVAL, "", "pmx_shared_enable: initial_bytes (%zu) exceeds max_bytes (%zu)",
                     initial, max);
  }
  size_t workers = opts && opts->max_workers ? opts->max_workers : DEFAULT_WORKERS;
  if (workers > PMX_SHARED_MAX_WORKERS) {
    return pmx__fail(err, PMX_EINVAL, "", "pmx_shared_enable: max_workers (%zu) exceeds %d", workers,
                     PMX_SHARED_MAX_WORKERS);
  }
  size_t header = round_up(sizeof(shm_header_t) + workers * sizeof(pid_t), ALIGN);
  max = round_up(max, page);
  initial = round_up(initial < header + ALIGN ? header + ALIGN : initial, page);
  if (initial > max) max = initial;
  if (view.base != NULL) {
    return pmx__fail(err, PMX_EEXIST, "",
                     "multi-process mode is already enabled for another registry of this process");
  }
  if (atomic_load_explicit(&reg->head, memory_order_acquire) != NULL) {
    return pmx__fail(err, PMX_ESTATE, "",
                     "multi-process mode must be enabled before any metric is defined in the registry");
  }
  /* A thread that was just joined still counts until the kernel has reaped it, a moment after
   * pthread_join returns (longer on a loaded machine: a CI run saw it). Look again for up to
   * about a second before refusing, so that a program that has joined its threads is not. */
  long threads = thread_count();
  for (int i = 0; threads > THREADS_ALLOWED && i < 100; i++) {
    nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    threads = thread_count();
  }
  if (threads > THREADS_ALLOWED) {
    return pmx__fail(err, PMX_ESTATE, "",
                     "multi-process mode must be enabled before threads start (this process runs %ld): "
                     "enable it before pmx_start, a metrics server or any worker thread",
                     threads - THREADS_ALLOWED + 1);
  }
  int fd = memfd_create("promex-shared", MFD_CLOEXEC);
  if (fd < 0) return pmx__fail(err, PMX_ESYS, "", "memfd_create: %s", strerror(errno));
  int frc = fallocate(fd, 0, 0, (off_t)initial);
  if (frc != 0) {
    int e = errno;
    close(fd);
    return pmx__fail(err, e == ENOSPC || e == ENOMEM ? PMX_ENOMEM : PMX_ESYS, "",
                     "cannot back %zu bytes of shared memory: %s", initial, strerror(e));
  }
  void *base = mmap(NULL, max, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
  if (base == MAP_FAILED) {
    int e = errno;
    close(fd);
    return pmx__fail(err, PMX_ESYS, "", "cannot reserve %zu bytes for the shared mapping: %s", max, strerror(e));
  }
  shm_header_t *h = base;
  if (pmx__shm_mutex_init(&h->grow_mu, true) != 0) {
    munmap(base, max);
    close(fd);
    return pmx__fail(err, PMX_ESYS, "", "cannot create a process-shared mutex");
  }
  atomic_init(&h->used, header);
  atomic_init(&h->backed, initial);
  h->reserved = max;
  h->max_workers = workers;
  atomic_init(&h->gauge_overflow, 0);
  atomic_init(&h->write_offs, 0);
  for (size_t i = 0; i < workers; i++) atomic_init(&h->workers[i], 0);
  pmx__shm_worker_forget();
  pthread_once(&atfork_once, register_atfork);
  atomic_store(&forked, false);
  view.base = base;
  view.reserved = max;
  view.fd = fd;
  view.reg = reg;
  pmx__cells_by_worker_slot(); /* counter lines: owned per worker slot from now on */
  return PMX_OK;
}

bool pmx_shared_enabled(const pmx_registry_t *reg) { return reg != NULL && reg == view.reg; }

int pmx_shared_usage(size_t *used, size_t *backed, size_t *reserved) {
  if (view.base == NULL) return PMX_ESTATE;
  shm_header_t *h = (shm_header_t *)(void *)view.base;
  if (used) *used = atomic_load(&h->used);
  if (backed) *backed = atomic_load(&h->backed);
  if (reserved) *reserved = h->reserved;
  return PMX_OK;
}

bool pmx__shm_registry(const pmx_registry_t *reg) { return reg != NULL && reg == view.reg; }

bool pmx__shm_owns(const void *p) {
  uintptr_t a = (uintptr_t)p, b = (uintptr_t)view.base;
  return view.base != NULL && a >= b && a - b < view.reserved;
}

int pmx__shm_define_allowed(const char *name, pmx_error_t *err) {
  if (!atomic_load(&forked)) return PMX_OK;
  return pmx__fail(err, PMX_ESTATE, name,
                   "metric \"%s\": a registry in multi-process mode takes definitions only before the "
                   "first fork (a later one would exist in one process only)",
                   name);
}

/* Takes the allocator's lock. Its state needs no repair after a holder's death (see
 * shm_header_t), so an orphaned lock is simply marked consistent. */
static void grow_lock(shm_header_t *h) {
  if (pthread_mutex_lock(&h->grow_mu) == EOWNERDEAD) pthread_mutex_consistent(&h->grow_mu);
}

void *pmx__shm_alloc(size_t size) {
  if (view.base == NULL) return NULL;
  shm_header_t *h = (shm_header_t *)(void *)view.base;
  size = round_up(size ? size : 1, ALIGN);
  void *p = NULL;
  grow_lock(h);
  size_t used = atomic_load_explicit(&h->used, memory_order_relaxed);
  size_t backed = atomic_load_explicit(&h->backed, memory_order_relaxed);
  if (size <= h->reserved - used) {
    size_t need = used + size;
    if (need > backed) {
      size_t step = backed < GROW_STEP_MAX ? backed : GROW_STEP_MAX;
      size_t want = round_up(need > backed + step ? need : backed + step, (size_t)sysconf(_SC_PAGESIZE));
      if (want > h->reserved) want = h->reserved;
      /* Past a limit the full step may fail where the bare need fits. */
      if (fallocate(view.fd, 0, (off_t)backed, (off_t)(want - backed)) == 0 ||
          (want = round_up(need, (size_t)sysconf(_SC_PAGESIZE)),
           fallocate(view.fd, 0, (off_t)backed, (off_t)(want - backed)) == 0)) {
        atomic_store_explicit(&h->backed, want, memory_order_relaxed);
        backed = want;
      }
    }
    if (need <= backed) {
      p = view.base + used;
      atomic_store_explicit(&h->used, need, memory_order_relaxed);
    }
  }
  pthread_mutex_unlock(&h->grow_mu);
  return p;
}

_Atomic pid_t *pmx__shm_workers(size_t *n) {
  if (view.base == NULL) {
    *n = 0;
    return NULL;
  }
  shm_header_t *h = (shm_header_t *)(void *)view.base;
  *n = h->max_workers;
  return h->workers;
}

size_t pmx__shm_gauge_cells(void) {
  size_t n;
  pmx__shm_workers(&n);
  return n;
}

void pmx__shm_count_overflow(void) {
  if (view.base != NULL) atomic_fetch_add(&((shm_header_t *)(void *)view.base)->gauge_overflow, 1);
}

uint64_t pmx_shared_gauge_overflow(void) {
  return view.base ? atomic_load(&((shm_header_t *)(void *)view.base)->gauge_overflow) : 0;
}

pmx_registry_t *pmx__shm_reg(void) { return (pmx_registry_t *)(uintptr_t)view.reg; }

void pmx__shm_forget(const pmx_registry_t *reg) {
  if (reg == NULL || reg != view.reg) return;
  munmap(view.base, view.reserved);
  close(view.fd);
  view.base = NULL;
  view.reserved = 0;
  view.fd = -1;
  view.reg = NULL;
  pmx__shm_worker_forget();
}

void pmx__shm_lock_failed(pmx_metric_t *m, pthread_mutex_t *mu, int rc) {
  if (rc != EOWNERDEAD) {
    /* Unreachable: only a robust mutex fails to lock, with EOWNERDEAD, and every such lock is
     * made consistent below before anything else runs under it (so never ENOTRECOVERABLE). */
    return;
  }
  if (mu == &m->mu) {
    pmx__shm_repair_series(m);
  } else if (mu == &m->snap_mu) {
    pmx__shm_repair_snapshots(m);
  }
  pthread_mutex_consistent(mu);
}

bool pmx__shm_stalled(const pmx_metric_t *m, uint64_t *since) {
  if (!pmx__shm_owns(m)) return false;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  uint64_t now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
  if (*since == 0) {
    *since = now;
    return false;
  }
  if (now - *since < (uint64_t)PMX_SHARED_STALL_MS * 1000000u) return false;
  atomic_fetch_add(&((shm_header_t *)(void *)view.base)->write_offs, 1);
  return true;
}

bool pmx__shm_wrote_off(const pmx_metric_t *m) {
  return pmx__shm_owns(m) && atomic_load_explicit(&((shm_header_t *)(void *)view.base)->write_offs,
                                                  memory_order_acquire) != 0;
}
