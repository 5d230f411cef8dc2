/* Repo handles of the db plugin (pmx_db_repo_*, include/promex/plugins/db.h): the emitting side
 * of the event contract, used by the adapters and by programs with their own driver.
 *
 * Every live handle is also on a process-wide list, so that the plugin's manual group can
 * re-announce repos created before pmx_start() (their first db.repo.init found no metric
 * attached yet). The list is only walked at manual runs and changed at repo create/free; the
 * query path never touches it. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_internal.h"
#include "internal.h"
#include "promex/plugins/db.h"

struct pmx_db_repo {
  pmx_bus_t *bus;
  pmx_event_t *ev_query, *ev_init, *ev_pool;
  char *name, *database, *host;
  uint32_t pool_size;
  double timeout_s;
  struct pmx_db_repo *next; /* the live list */
};

static pthread_mutex_t g_live_mu = PTHREAD_MUTEX_INITIALIZER;
static pmx_db_repo_t *g_live;

static bool valid_name(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 128) return false;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f) return false;
  return true;
}

/* Label values must be valid, bounded text; anything else from a driver becomes "unknown". */
static char *dup_label(const char *s) {
  return pmx__strdup(s != NULL && valid_name(s) ? s : "unknown");
}

int pmx_db_repo_new(pmx_bus_t *bus, const char *name, const pmx_db_repo_info_t *info,
                    pmx_db_repo_t **out) {
  if (out != NULL) *out = NULL;
  if (bus == NULL || name == NULL || out == NULL || !valid_name(name)) return PMX_EINVAL;
  pmx_db_repo_t *r = pmx__calloc(1, sizeof *r);
  if (r == NULL) return PMX_ENOMEM;
  r->bus = bus;
  r->name = pmx__strdup(name);
  r->database = dup_label(info ? info->database_name : NULL);
  r->host = dup_label(info ? info->database_host : NULL);
  r->pool_size = info != NULL && info->pool_size > 0 ? info->pool_size : 1;
  r->timeout_s = info != NULL && info->timeout_s > 0 ? info->timeout_s : 0;
  int rc = PMX_OK;
  if (r->name == NULL || r->database == NULL || r->host == NULL) rc = PMX_ENOMEM;
  if (rc == PMX_OK) rc = pmx_bus_event(bus, PMX_DB_EV_QUERY, &r->ev_query);
  if (rc == PMX_OK) rc = pmx_bus_event(bus, PMX_DB_EV_INIT, &r->ev_init);
  if (rc == PMX_OK) rc = pmx_bus_event(bus, PMX_DB_EV_POOL, &r->ev_pool);
  if (rc != PMX_OK) {
    pmx_db_repo_free(r);
    return rc;
  }
  pthread_mutex_lock(&g_live_mu);
  r->next = g_live;
  g_live = r;
  pthread_mutex_unlock(&g_live_mu);
  pmx_db_repo_announce(r);
  *out = r;
  return PMX_OK;
}

void pmx_db_repo_free(pmx_db_repo_t *r) {
  if (r == NULL) return;
  pthread_mutex_lock(&g_live_mu);
  for (pmx_db_repo_t **p = &g_live; *p != NULL; p = &(*p)->next) {
    if (*p == r) {
      *p = r->next;
      break;
    }
  }
  pthread_mutex_unlock(&g_live_mu);
  pmx__free(r->name);
  pmx__free(r->database);
  pmx__free(r->host);
  pmx__free(r);
}

const char *pmx_db_repo_name(const pmx_db_repo_t *r) { return r != NULL ? r->name : NULL; }

int pmx_db_repo_announce(const pmx_db_repo_t *r) {
  if (r == NULL) return PMX_EINVAL;
  const pmx_measurement_t m[] = {PMX_M("status", 1), PMX_M("pool_size", r->pool_size),
                                 PMX_M("timeout", r->timeout_s)};
  const pmx_meta_t md[] = {PMX_META_S("repo", r->name), PMX_META_S("database_name", r->database),
                           PMX_META_S("database_host", r->host)};
  return pmx_emit(r->ev_init, m, 3, md, 3) < 0 ? PMX_EINVAL : PMX_OK;
}

void pmx__db_announce_all(pmx_bus_t *bus) {
  pthread_mutex_lock(&g_live_mu);
  for (pmx_db_repo_t *r = g_live; r != NULL; r = r->next)
    if (r->bus == bus) pmx_db_repo_announce(r);
  pthread_mutex_unlock(&g_live_mu);
}

int pmx_db_repo_query(const pmx_db_repo_t *r, const pmx_db_query_t *q) {
  if (r == NULL || q == NULL) return PMX_EINVAL;
  pmx_db_class_t cls;
  const char *command = q->command, *source = q->source;
  if (command == NULL || source == NULL) {
    pmx_db_classify(q->sql, q->sql != NULL && q->sql_len == 0 ? strlen(q->sql) : q->sql_len, &cls);
    if (command == NULL) command = cls.command;
    if (source == NULL) source = cls.source;
  }
  pmx_measurement_t m[6];
  size_t n = 0;
  int64_t total = 0;
  bool any = false;
  const struct {
    const char *key;
    int64_t v;
  } times[] = {{"queue_time", q->queue_ns}, {"query_time", q->query_ns},
               {"decode_time", q->decode_ns}, {"idle_time", q->idle_ns}};
  for (size_t i = 0; i < 4; i++) {
    if (times[i].v < 0) continue;
    m[n++] = PMX_M(times[i].key, times[i].v);
    if (i != 3) { /* idle time is before the checkout: not part of the query's total */
      total += times[i].v;
      any = true;
    }
  }
  if (q->total_ns >= 0) m[n++] = PMX_M("total_time", q->total_ns);
  else if (any) m[n++] = PMX_M("total_time", total);
  if (q->rows >= 0) m[n++] = PMX_M("rows", q->rows);
  const char *cls_name = "";
  if (q->error) cls_name = q->error_class != NULL && q->error_class[0] != '\0' ? q->error_class
                                                                              : "unknown";
  const pmx_meta_t md[] = {PMX_META_S("repo", r->name), PMX_META_S("source", source),
                           PMX_META_S("command", command),
                           PMX_META_S("result", q->error ? "error" : "ok"),
                           PMX_META_S("error_class", cls_name)};
  return pmx_emit(r->ev_query, m, n, md, 5) < 0 ? PMX_EINVAL : PMX_OK;
}

int pmx_db_repo_pool(const pmx_db_repo_t *r, uint32_t in_use, uint32_t size) {
  if (r == NULL) return PMX_EINVAL;
  pmx_measurement_t m[3] = {PMX_M("in_use", in_use), PMX_M("size", size)};
  size_t n = 2;
  if (size > 0) m[n++] = PMX_M("saturation", (double)in_use / (double)size);
  const pmx_meta_t md[] = {PMX_META_S("repo", r->name)};
  return pmx_emit(r->ev_pool, m, n, md, 1) < 0 ? PMX_EINVAL : PMX_OK;
}
