/* A promex instance's life outside start/stop: pmx_new (validated deep copy of the configuration,
 * the event bus, locks and the monotonic condition variable), pmx_destroy, the accessors and the
 * log sink. The bus lives as long as the instance so instrumented code may cache event handles
 * across restarts. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config_log.h"
#include "internal.h"
#include "runtime/runtime_internal.h"

int pmx_new(const pmx_config_t *cfg, pmx_t **out, pmx_error_t *err) {
  if (out != NULL) *out = NULL;
  if (cfg == NULL || out == NULL)
    return pmx__fail(err, PMX_EINVAL, "", "pmx_new: cfg and out must not be NULL");
  int rc = pmx_config_validate(cfg, err);
  if (rc != PMX_OK) return rc;
  pmx_t *p = pmx__calloc(1, sizeof *p);
  if (p == NULL) return pmx__fail(err, PMX_ENOMEM, "", "out of memory");
  if (pmx__rt_config_copy(cfg, &p->cfg) != PMX_OK) {
    pmx__free(p);
    return pmx__fail(err, PMX_ENOMEM, "", "out of memory copying the configuration");
  }
  rc = pmx_bus_new(&p->bus);
  if (rc != PMX_OK) {
    pmx__rt_config_free(&p->cfg);
    pmx__free(p);
    return pmx__fail(err, rc, "", "cannot create the event bus: %s", pmx_strerror(rc));
  }
  pthread_condattr_t ca;
  bool ok = pthread_condattr_init(&ca) == 0;
  if (ok) {
    ok = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
         pthread_cond_init(&p->cond, &ca) == 0;
    pthread_condattr_destroy(&ca);
  }
  if (ok && pthread_mutex_init(&p->mu, NULL) != 0) {
    pthread_cond_destroy(&p->cond);
    ok = false;
  }
  if (ok && pthread_rwlock_init(&p->lock, NULL) != 0) {
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->mu);
    ok = false;
  }
  if (!ok) {
    pmx_bus_destroy(p->bus);
    pmx__rt_config_free(&p->cfg);
    pmx__free(p);
    return pmx__fail(err, PMX_ESYS, "", "cannot initialise synchronisation objects");
  }
  atomic_init(&p->running, false);
  atomic_init(&p->port, 0);
  p->owner = getpid();
  *out = p;
  return PMX_OK;
}

void pmx_destroy(pmx_t *p) {
  if (p == NULL) return;
  /* A forked child's copy: its locks may have been held by threads that do not exist here, and
   * freeing the shared registry's metrics would pull them from under the owner. The child's copy
   * goes with the child. */
  if (pmx__rt_foreign(p)) return;
  if (pmx__inside_handler(p->bus)) { /* forbidden (runtime.h); freeing the bus here would crash */
    pmx_log(p, PMX_LOG_ERROR, "pmx_destroy called from inside an event handler; instance not freed");
    return;
  }
  if (atomic_load(&p->running)) pmx_stop(p);
  if (p->prepared) {
    pmx__rt_fork_guard_release(p);
    pmx__rt_free_built(p);
    p->prepared = false;
  }
  /* Callbacks abandoned by pmx_stop (scheduler.c) still hold the bus: the last one to return
   * frees the instance instead. */
  pthread_mutex_lock(&p->mu);
  if (p->n_hung > 0) {
    /* Logged before letting go of the lock: after that, p may be freed at any moment. */
    pmx_log(p, PMX_LOG_WARN, "pmx_destroy: %zu measurement callback(s) still running; the "
            "instance is freed when the last one returns", p->n_hung);
    p->destroy_pending = true;
    pthread_mutex_unlock(&p->mu);
    return;
  }
  pthread_mutex_unlock(&p->mu);
  pmx__rt_free_instance(p);
}

void pmx__rt_free_instance(pmx_t *p) {
  pmx_bus_destroy(p->bus);
  pthread_rwlock_destroy(&p->lock);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->cond);
  pmx__rt_config_free(&p->cfg);
  pmx__free(p);
}

pmx_bus_t *pmx_bus(pmx_t *p) { return p != NULL ? p->bus : NULL; }

pmx_registry_t *pmx_registry(pmx_t *p) {
  if (p == NULL) return NULL;
  if (p->prepared) return p->reg; /* shared: lives until pmx_destroy, in every process */
  return atomic_load(&p->running) && !pmx__rt_foreign(p) ? p->reg : NULL;
}

bool pmx_running(const pmx_t *p) {
  return p != NULL && !pmx__rt_foreign(p) && atomic_load(&((pmx_t *)p)->running);
}

const pmx_config_t *pmx_config(const pmx_t *p) { return p != NULL ? &p->cfg : NULL; }

uint16_t pmx_metrics_port(const pmx_t *p) {
  return p != NULL && !pmx__rt_foreign(p) ? (uint16_t)atomic_load(&((pmx_t *)p)->port) : 0;
}

void pmx_log(const pmx_t *p, pmx_log_level_t level, const char *fmt, ...) {
  if (p == NULL) return;
  va_list ap;
  va_start(ap, fmt);
  pmx__config_vlog(&p->cfg, level, fmt, ap);
  va_end(ap);
}
