/* Helpers shared by the first-party plugins' glue code; see plugin_common.h. */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "plugin_common.h"
#include "sysparse.h"

pmx_event_t *pmx__ev(pmx__evcache_t *c, pmx_bus_t *bus, const char *name) {
  if (c->bus != bus || c->ev == NULL) {
    pmx_event_t *e = NULL;
    if (bus == NULL || pmx_bus_event(bus, name, &e) != PMX_OK) return NULL;
    c->bus = bus;
    c->ev = e;
  }
  return c->ev;
}

uint64_t pmx__cum_delta(pmx__cum_t *c, uint64_t now) {
  uint64_t d = (!c->seen || now < c->prev) ? now : now - c->prev;
  c->prev = now;
  c->seen = true;
  return d;
}

double pmx__cumf_delta(pmx__cumf_t *c, double now) {
  if (!c->seen) {
    c->prev = now;
    c->seen = true;
    return now;
  }
  /* CPU times are never reset, but the kernel lets some dip slightly (iowait, idle on NO_HZ
   * kernels: see Documentation/filesystems/proc.rst). Treating a dip as a reset would add the
   * whole cumulative value again; instead add nothing and keep the high-water mark, so the
   * counter resumes once the source passes it. */
  if (now < c->prev) return 0;
  double d = now - c->prev;
  c->prev = now;
  return d;
}

int pmx__self_start_after_boot(double *out) {
  char buf[1024];
  pmx__text_t t = {buf, 0, sizeof buf};
  /* A fixed stack buffer: /proc/self/stat is one line of well under 1 KiB, so pmx__slurp never
   * needs to grow (and therefore never frees) it. */
  int rc = pmx__slurp("/proc/self/stat", &t, sizeof buf);
  if (rc != PMX_OK) return rc;
  pmx__pid_stat_t st;
  rc = pmx__parse_pid_stat(t.data, &st);
  if (rc != PMX_OK) return rc;
  long hz = sysconf(_SC_CLK_TCK);
  if (hz <= 0) hz = 100;
  *out = (double)st.starttime_ticks / (double)hz;
  return PMX_OK;
}

static double clock_s(clockid_t id) {
  struct timespec ts;
  if (clock_gettime(id, &ts) != 0) return 0;
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double pmx__uptime_since(double start_after_boot) {
  double up = clock_s(CLOCK_BOOTTIME) - start_after_boot;
  return up > 0 ? up : 0;
}

double pmx__start_epoch(double start_after_boot) {
  return clock_s(CLOCK_REALTIME) - pmx__uptime_since(start_after_boot);
}

bool pmx__opt_dup(const pmx_plugin_ctx_t *ctx, const char *key, char **out) {
  const char *v = pmx_plugin_opt(ctx, key);
  *out = NULL;
  if (v == NULL) return true;
  *out = pmx__strdup(v);
  return *out != NULL;
}

void pmx__retire_gone(const char *key, void *arg) {
  const pmx__retire_by_t *by = arg;
  pmx_meta_t md[] = {PMX_META_S(by->label, key)};
  pmx_retire(by->bus, by->ev, md, 1);
}
