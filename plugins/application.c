/* The application plugin (see include/promex/plugins/application.h for the metric list).
 *
 * Two groups: application_versions_manual_metrics (primary, dependency, git info; emitted from
 * dl_iterate_phdr() on every manual run) and application_time_polling_metrics (uptime).
 * Group contexts own copies of the options, because ctx->opts is only borrowed for the duration
 * of the plugin callback. The manual group's ctx is read-only after creation except for the set
 * of libraries seen by the last run (so that an unloaded library's series are retired): two runs
 * at once (promex thread and pmx_refresh_manual_metrics()) take turns on it under a mutex. */
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "plugin_common.h"
#include "promex/plugins/application.h"
#include "sysparse.h"

#define EV_PRIMARY "promex.plugin.application.primary"
#define EV_DEP "promex.plugin.application.dependency"
#define EV_SHA "promex.plugin.application.git_sha"
#define EV_AUTHOR "promex.plugin.application.git_author"
#define EV_UPTIME "promex.plugin.application.uptime"

typedef struct versions_ctx {
  char *app;
  char *version;    /* option `version` or NULL */
  char *deps;       /* option `deps` or NULL (all) */
  char *git_sha;    /* option or NULL */
  char *git_author; /* option or NULL */
  const pmx_application_opts_t *cbs; /* borrowed user_data, may be NULL */
  /* primary_info's `modules` label, fixed at the first run: the count of loaded objects changes
   * with every dlopen, and a label that changes on refresh would leave a stale duplicate series
   * (last_value series are kept). New libraries still show up as new dependency_info series. */
  atomic_size_t modules;
  pthread_mutex_t seen_mu; /* one run's walk and sweep at a time */
  pmx_seen_t *seen;        /* library paths reported by the last run */
} versions_ctx_t;

static void versions_free(void *p) {
  versions_ctx_t *c = p;
  if (c == NULL) return;
  pmx__free(c->app);
  pmx__free(c->version);
  pmx__free(c->deps);
  pmx__free(c->git_sha);
  pmx__free(c->git_author);
  pmx_seen_free(c->seen);
  pthread_mutex_destroy(&c->seen_mu);
  pmx__free(c);
}

typedef struct dep_walk {
  pmx_bus_t *bus;
  pmx_event_t *ev;
  const char *deps; /* NULL or "all": every library */
  size_t n_objects;
  pmx_seen_t *seen;
} dep_walk_t;

static int dep_cb(struct dl_phdr_info *info, size_t size, void *arg) {
  (void)size;
  dep_walk_t *w = arg;
  w->n_objects++;
  const char *path = info->dlpi_name;
  /* The main program has an empty name; the vDSO has a bare name with no file behind it. */
  if (path == NULL || path[0] == '\0' || strchr(path, '/') == NULL) return 0;
  if (w->ev == NULL) return 0; /* counting only */
  char name[256], version[64];
  char real[PATH_MAX];
  const char *rp = realpath(path, real);
  if (pmx__parse_lib_name(path, rp, name, sizeof name, version, sizeof version) != PMX_OK)
    return 0; /* not a .so name (e.g. a plugin loaded from "foo.bin"): not a dependency */
  if (w->deps != NULL && strcmp(w->deps, "all") != 0 &&
      !pmx__list_has(w->deps, name, strlen(name)))
    return 0;
  pmx_measurement_t m[] = {PMX_M("status", 1)};
  pmx_meta_t md[] = {PMX_META_S("name", name), PMX_META_S("version", version),
                     PMX_META_S("path", path)};
  pmx_emit(w->ev, m, 1, md, 3);
  pmx_seen_mark(w->seen, path);
  return 0;
}

/* Resolves a git value: option, callback, environment, default. */
static const char *git_value(const char *opt, int (*cb)(char *, size_t, void *), void *cb_ctx,
                             const char *env, const char *dflt, char *buf, size_t cap) {
  if (opt != NULL) return opt;
  if (cb != NULL && cb(buf, cap, cb_ctx) == 0) {
    buf[cap - 1] = '\0';
    return buf;
  }
  const char *e = getenv(env);
  if (e != NULL && e[0] != '\0') return e;
  return dflt;
}

static int versions_measure(pmx_bus_t *bus, void *p) {
  versions_ctx_t *c = p;
  pmx_event_t *primary = NULL, *dep = NULL, *sha = NULL, *author = NULL;
  /* Manual groups may run on two threads at once, so nothing is cached in the shared ctx:
   * resolving four names per manual run is cheap. */
  if (pmx_bus_event(bus, EV_PRIMARY, &primary) != PMX_OK ||
      pmx_bus_event(bus, EV_DEP, &dep) != PMX_OK || pmx_bus_event(bus, EV_SHA, &sha) != PMX_OK ||
      pmx_bus_event(bus, EV_AUTHOR, &author) != PMX_OK)
    return PMX_ENOMEM;

  /* A library dlclose()d since the last run has its dependency_info series retired. */
  pthread_mutex_lock(&c->seen_mu);
  dep_walk_t w = {bus, dep, c->deps, 0, c->seen};
  dl_iterate_phdr(dep_cb, &w);
  pmx__retire_by_t by = {bus, dep, "path"};
  pmx_seen_sweep(c->seen, pmx__retire_gone, &by);
  pthread_mutex_unlock(&c->seen_mu);

  size_t first = 0;
  atomic_compare_exchange_strong(&c->modules, &first, w.n_objects); /* only the first run sets it */
  char modules[32];
  snprintf(modules, sizeof modules, "%zu", atomic_load(&c->modules));
  pmx_measurement_t one[] = {PMX_M("status", 1)};
  pmx_meta_t pm[] = {PMX_META_S("name", c->app),
                     PMX_META_S("version", c->version ? c->version : "undefined"),
                     PMX_META_S("modules", modules)};
  pmx_emit(primary, one, 1, pm, 3);

  char buf[256];
  const pmx_application_opts_t *cb = c->cbs;
  const char *s = git_value(c->git_sha, cb ? cb->git_sha : NULL, cb ? cb->ctx : NULL, "GIT_SHA",
                            "Git SHA not available", buf, sizeof buf);
  pmx_meta_t sm[] = {PMX_META_S("sha", s)};
  pmx_emit(sha, one, 1, sm, 1);
  s = git_value(c->git_author, cb ? cb->git_author : NULL, cb ? cb->ctx : NULL, "GIT_AUTHOR",
                "Git author not available", buf, sizeof buf);
  pmx_meta_t am[] = {PMX_META_S("author", s)};
  pmx_emit(author, one, 1, am, 1);
  return PMX_OK;
}

static const char *const k_allowed[] = {"version", "deps", "git_sha", "git_author"};

static int app_manual(const pmx_plugin_ctx_t *ctx, pmx_groups_t *out) {
  int rc = pmx_plugin_check_opts(ctx, k_allowed, sizeof k_allowed / sizeof k_allowed[0]);
  if (rc != PMX_OK) return rc;
  const char *deps = pmx_plugin_opt(ctx, "deps");
  if (deps != NULL && deps[0] == '\0')
    return pmx_plugin_fail(ctx, PMX_ECONFIG,
                           "plugin application: option deps must be \"all\" or a comma list of "
                           "library names, got an empty value");
  versions_ctx_t *c = pmx__calloc(1, sizeof *c);
  if (c == NULL) return PMX_ENOMEM;
  pthread_mutex_init(&c->seen_mu, NULL);
  c->app = pmx__strdup(ctx->app ? ctx->app : "undefined");
  c->cbs = ctx->user_data;
  if (c->app == NULL || pmx_seen_new(&c->seen) != PMX_OK || !pmx__opt_dup(ctx, "version", &c->version) ||
      !pmx__opt_dup(ctx, "deps", &c->deps) || !pmx__opt_dup(ctx, "git_sha", &c->git_sha) ||
      !pmx__opt_dup(ctx, "git_author", &c->git_author)) {
    versions_free(c);
    return PMX_ENOMEM;
  }
  /* The option wins; otherwise the configuration's app_version. */
  if (c->version == NULL && ctx->app_version != NULL && (c->version = pmx__strdup(ctx->app_version)) == NULL) {
    versions_free(c);
    return PMX_ENOMEM;
  }
  static const char *const primary_tags[] = {"name", "version", "modules"};
  static const char *const dep_tags[] = {"name", "version", "path"};
  static const char *const sha_tags[] = {"sha"};
  static const char *const author_tags[] = {"author"};
  const pmx_metric_def_t m[] = {
      {.kind = PMX_LAST_VALUE, .name = "primary.info", .event_name = EV_PRIMARY,
       .measurement = "status", .tags = primary_tags, .n_tags = 3,
       .description = "Information regarding the primary application."},
      {.kind = PMX_LAST_VALUE, .name = "dependency.info", .event_name = EV_DEP,
       .measurement = "status", .tags = dep_tags, .n_tags = 3,
       .description = "Information regarding the application's dependencies (loaded shared "
                      "libraries)."},
      {.kind = PMX_LAST_VALUE, .name = "git_sha.info", .event_name = EV_SHA,
       .measurement = "status", .tags = sha_tags, .n_tags = 1,
       .description = "The application's Git SHA at the time of deployment."},
      {.kind = PMX_LAST_VALUE, .name = "git_author.info", .event_name = EV_AUTHOR,
       .measurement = "status", .tags = author_tags, .n_tags = 1,
       .description = "The application's last Git commit author at the time of deployment."},
  };
  return pmx_groups_add_manual(out, "application_versions_manual_metrics", versions_measure, c,
                               versions_free, m, sizeof m / sizeof m[0]);
}

typedef struct uptime_ctx {
  double start_after_boot;
  pmx__evcache_t ev;
} uptime_ctx_t;

static int uptime_measure(pmx_bus_t *bus, void *p) {
  uptime_ctx_t *c = p;
  pmx_event_t *ev = pmx__ev(&c->ev, bus, EV_UPTIME);
  if (ev == NULL) return PMX_ENOMEM;
  pmx_measurement_t m[] = {PMX_M("seconds", pmx__uptime_since(c->start_after_boot))};
  pmx_emit(ev, m, 1, NULL, 0);
  return PMX_OK;
}

static int app_polling(const pmx_plugin_ctx_t *ctx, pmx_groups_t *out) {
  int rc = pmx_plugin_check_opts(ctx, k_allowed, sizeof k_allowed / sizeof k_allowed[0]);
  if (rc != PMX_OK) return rc;
  uptime_ctx_t *c = pmx__calloc(1, sizeof *c);
  if (c == NULL) return PMX_ENOMEM;
  rc = pmx__self_start_after_boot(&c->start_after_boot);
  if (rc != PMX_OK) {
    pmx__free(c);
    return pmx_plugin_fail(ctx, PMX_ESYS, "plugin application: cannot read /proc/self/stat");
  }
  const pmx_metric_def_t m[] = {
      {.kind = PMX_LAST_VALUE, .name = "uptime.seconds", .event_name = EV_UPTIME,
       .measurement = "seconds", .description = "The amount of time the application has been running."},
  };
  return pmx_groups_add_polling(out, "application_time_polling_metrics", 0, uptime_measure, c,
                                pmx__free, m, 1);
}

const pmx_plugin_t pmx_plugin_application = {PMX_PLUGIN_ABI, "application", NULL, app_polling,
                                             app_manual, {0}};
