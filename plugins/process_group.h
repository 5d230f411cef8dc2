/* Private to the process plugin: the process group of the multi-process mode (promex/shared.h)
 * as the master sees it. The members are the live workers in the mapping's worker table (not the
 * calling process, which measures itself as in single-process mode); their memory comes from
 * /proc/<pid>/statm, their state and CPU from /proc/<pid>/stat, and their CPU time is kept
 * cumulative across their deaths. */
#ifndef PMX_PLUGINS_PROCESS_GROUP_H
#define PMX_PLUGINS_PROCESS_GROUP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct pmx__group_member {
  pid_t pid;
  uint64_t utime_ticks, stime_ticks;
} pmx__group_member_t;

/* Sampling state (zero-initialised to start; pmx__proc_group_free). One per polling group: it
 * is only used from that group's callback. */
typedef struct pmx__proc_group {
  pid_t *pids;
  size_t cap_pids;
  pmx__group_member_t *now, *prev;
  size_t n_now, n_prev, cap;
  /* CPU of members seen at an earlier sample and gone since (exited, killed): it stays in the
   * totals, so the group's CPU counter never goes back when a worker dies. */
  uint64_t gone_utime_ticks, gone_stime_ticks;
} pmx__proc_group_t;

typedef struct pmx__group_totals {
  size_t workers;           /* live workers (zombies and unreadable pids left out) */
  uint64_t rss_pages;       /* their resident sets (/proc/<pid>/statm) */
  uint64_t size_pages;      /* their virtual sizes */
  double user_seconds;      /* CPU of every worker ever sampled: live ones' plus gone ones' */
  double system_seconds;
} pmx__group_totals_t;

/* Reads the worker table and /proc/<pid>/stat of each member. PMX_OK, PMX_ESTATE (no shared
 * mapping in this process), PMX_ENOMEM (nothing changed). */
int pmx__proc_group_sample(pmx__proc_group_t *g, pmx__group_totals_t *out);
void pmx__proc_group_free(pmx__proc_group_t *g);

#endif
