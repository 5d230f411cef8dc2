/* The process group of the multi-process mode, sampled by the process plugin in the master (see
 * process_group.h). A pid in the worker table whose process has died but was not yet reported
 * (pmx_shared_worker_exited) reads as a zombie or not at all, and is left out. The CPU a worker
 * used between its last sample and its death is not seen (at most one poll interval of it). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "process_group.h"
#include "promex/shared.h"
#include "sysparse.h"

static int grow(void **p, size_t *cap, size_t want, size_t elem) {
  if (want <= *cap) return PMX_OK;
  size_t n = want < 16 ? 16 : want;
  void *q = pmx__realloc(*p, n * elem);
  if (q == NULL) return PMX_ENOMEM;
  *p = q;
  *cap = n;
  return PMX_OK;
}

static const pmx__group_member_t *find(const pmx__group_member_t *m, size_t n, pid_t pid) {
  for (size_t i = 0; i < n; i++)
    if (m[i].pid == pid) return &m[i];
  return NULL;
}

int pmx__proc_group_sample(pmx__proc_group_t *g, pmx__group_totals_t *out) {
  memset(out, 0, sizeof *out);
  size_t n = 0;
  if (pmx_shared_workers(NULL, 0, &n) != PMX_OK) return PMX_ESTATE;
  /* Room for a few more: workers forked between the two reads are seen next time. */
  if (grow((void **)&g->pids, &g->cap_pids, n + 8, sizeof *g->pids) != PMX_OK) return PMX_ENOMEM;
  size_t cap_members = g->cap;
  if (grow((void **)&g->now, &cap_members, g->cap_pids, sizeof *g->now) != PMX_OK)
    return PMX_ENOMEM;
  size_t cap_prev = g->cap;
  if (grow((void **)&g->prev, &cap_prev, g->cap_pids, sizeof *g->prev) != PMX_OK) return PMX_ENOMEM;
  g->cap = cap_members < cap_prev ? cap_members : cap_prev;
  if (pmx_shared_workers(g->pids, g->cap_pids, &n) != PMX_OK) return PMX_ESTATE;
  if (n > g->cap_pids) n = g->cap_pids;
  if (n > g->cap) n = g->cap;

  pid_t self = getpid();
  g->n_now = 0;
  char buf[1024];
  for (size_t i = 0; i < n; i++) {
    if (g->pids[i] == self) continue;
    char path[48];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)g->pids[i]);
    pmx__text_t t = {buf, 0, sizeof buf};
    pmx__pid_stat_t st;
    if (pmx__slurp(path, &t, sizeof buf) != PMX_OK || pmx__parse_pid_stat(t.data, &st) != PMX_OK)
      continue; /* gone between the table and /proc */
    if (st.state == 'Z' || st.state == 'X') continue; /* dead, not yet reaped */
    /* Memory from statm, as the master measures itself: stat's rss field can lag statm's by a
     * few dozen pages (per-thread counters not yet folded in), and the sum must add like terms. */
    snprintf(path, sizeof path, "/proc/%ld/statm", (long)g->pids[i]);
    t = (pmx__text_t){buf, 0, sizeof buf};
    uint64_t size_pages, rss_pages;
    if (pmx__slurp(path, &t, sizeof buf) != PMX_OK ||
        pmx__parse_statm(t.data, &size_pages, &rss_pages) != PMX_OK)
      continue;
    g->now[g->n_now++] = (pmx__group_member_t){g->pids[i], st.utime_ticks, st.stime_ticks};
    out->rss_pages += rss_pages;
    out->size_pages += size_pages;
  }
  /* A member of the last sample that is gone, or whose pid now names a younger process (its
   * times went back), leaves its last times to the group. */
  for (size_t i = 0; i < g->n_prev; i++) {
    const pmx__group_member_t *old = &g->prev[i];
    const pmx__group_member_t *cur = find(g->now, g->n_now, old->pid);
    if (cur == NULL || cur->utime_ticks < old->utime_ticks || cur->stime_ticks < old->stime_ticks) {
      g->gone_utime_ticks += old->utime_ticks;
      g->gone_stime_ticks += old->stime_ticks;
    }
  }
  uint64_t user = g->gone_utime_ticks, sys = g->gone_stime_ticks;
  for (size_t i = 0; i < g->n_now; i++) {
    user += g->now[i].utime_ticks;
    sys += g->now[i].stime_ticks;
  }
  pmx__group_member_t *swap = g->prev;
  g->prev = g->now;
  g->now = swap;
  g->n_prev = g->n_now;
  g->n_now = 0;

  double hz = (double)sysconf(_SC_CLK_TCK);
  if (hz <= 0) hz = 100;
  out->workers = g->n_prev;
  out->user_seconds = (double)user / hz;
  out->system_seconds = (double)sys / hz;
  return PMX_OK;
}

void pmx__proc_group_free(pmx__proc_group_t *g) {
  pmx__free(g->pids);
  pmx__free(g->now);
  pmx__free(g->prev);
  memset(g, 0, sizeof *g);
}
