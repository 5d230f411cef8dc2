/* The runtime in multi-process mode (promex/shared.h): pmx_prepare_shared builds the instance's
 * registry in a shared mapping before the first fork, so that the workers' event handlers update
 * the series the master's server renders, and the runtime's threads start later, in the master
 * only (pmx_start).
 *
 * Fork while the runtime runs (the master replaces dead workers while it serves): a child is a
 * copy of one thread of the master, and any lock another master thread held at that instant
 * stays held for ever in the child. The locks a worker takes are
 *  - its copy of the bus's event table lock (resolving an event name on first emit): held by
 *    the fork guard below across fork, so it is always free in the child;
 *  - the shared registry's process-shared robust mutexes: they live in the mapping, so the child
 *    shares them rather than copying them, and their holder releases them;
 *  - the cell-claim lock of shared_workers.c, re-initialised in the child by the core's own
 *    fork handler.
 * The instance's own locks (the start/stop lock, the poller's mutex) are never taken in a child:
 * every entry point checks the process first and answers with an error (pmx__rt_refuse_foreign). */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "promex/shared.h"
#include "runtime/runtime_internal.h"

/* The bus of the prepared instance of this process (one mapping per process, so at most one). */
static _Atomic(pmx_bus_t *) guarded_bus;
static pthread_once_t guard_once = PTHREAD_ONCE_INIT;

static void guard_prepare(void) {
  pmx_bus_t *bus = atomic_load(&guarded_bus);
  if (bus != NULL) pmx__bus_fork_lock(bus);
}
static void guard_parent(void) {
  pmx_bus_t *bus = atomic_load(&guarded_bus);
  if (bus != NULL) pmx__bus_fork_unlock(bus);
}
static void guard_child(void) {
  pmx_bus_t *bus = atomic_load(&guarded_bus);
  if (bus == NULL) return;
  pmx__bus_fork_unlock(bus);
  /* Joins the group's worker table at once, so the master's process plugin counts this process
   * (and sums its memory and CPU) even before it updates a per-process gauge. A full table
   * (PMX_ELIMIT) only leaves it uncounted. */
  (void)pmx_shared_worker_slot();
}
static void guard_register(void) { pthread_atfork(guard_prepare, guard_parent, guard_child); }

void pmx__rt_fork_guard_release(const pmx_t *p) {
  pmx_bus_t *expect = p->bus;
  atomic_compare_exchange_strong(&guarded_bus, &expect, NULL);
}

bool pmx__rt_foreign(const pmx_t *p) { return p->owner != getpid(); }

int pmx__rt_refuse_foreign(const pmx_t *p, const char *what, pmx_error_t *err) {
  if (!pmx__rt_foreign(p)) return PMX_OK;
  return pmx__fail(err, PMX_ESTATE, p->cfg.app,
                   "%s: promex \"%s\" belongs to process %ld and this is process %ld (a forked "
                   "child): the runtime runs in the process that created the instance only",
                   what, p->cfg.app, (long)p->owner, (long)getpid());
}

int pmx_prepare_shared(pmx_t *p, const pmx_shared_opts_t *opts, pmx_error_t *err) {
  pmx_error_t local;
  if (err == NULL) err = &local;
  memset(err, 0, sizeof *err);
  if (p == NULL) return pmx__fail(err, PMX_EINVAL, "", "pmx_prepare_shared: instance is NULL");
  int rc = pmx__rt_refuse_foreign(p, "pmx_prepare_shared", err);
  if (rc != PMX_OK) return rc;
  if (p->prepared)
    return pmx__fail(err, PMX_ESTATE, p->cfg.app, "promex \"%s\" is already prepared for "
                     "multi-process mode", p->cfg.app);
  if (atomic_load(&p->running) || p->groups != NULL)
    return pmx__fail(err, PMX_ESTATE, p->cfg.app, "pmx_prepare_shared: promex \"%s\" is already "
                     "running; prepare before pmx_start (and before the first fork)", p->cfg.app);
  if (p->cfg.disabled) return PMX_OK;
  if ((rc = pmx_config_validate(&p->cfg, err)) != PMX_OK) return rc;
  /* The mode first: plugins look at it while they describe their groups (the process plugin
   * adds its worker count), and every definition must land in the mapping. */
  if ((rc = pmx__rt_registry_for(&p->cfg, &p->reg, err)) != PMX_OK) return rc;
  if ((rc = pmx_shared_enable(p->reg, opts, err)) == PMX_OK) rc = pmx__rt_build(p, err);
  if (rc != PMX_OK) {
    pmx__rt_free_built(p);
    return rc;
  }
  p->prepared = true;
  pthread_once(&guard_once, guard_register);
  atomic_store(&guarded_bus, p->bus);
  /* The master is a member of the group too: its per-process gauge cells, its share of the
   * process plugin's sums. */
  (void)pmx_shared_worker_slot();
  return PMX_OK;
}
