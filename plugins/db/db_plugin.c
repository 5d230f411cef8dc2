/* The db plugin glue (see include/promex/plugins/db.h for the contract and the metric list):
 * options, and the metric definitions of its three groups.
 *
 * The `repos` filter is a keep predicate. Event groups have no ctx to own it, so filters are
 * interned for the life of the process (one small entry per distinct `repos` value ever
 * configured): the predicate may then run until its metric is detached, whatever the order in
 * which the runtime frees things at stop. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_internal.h"
#include "internal.h"
#include "plugin_common.h"
#include "promex/plugins/db.h"

typedef struct filter {
  char *repos; /* comma list, or NULL for all */
  struct filter *next;
} filter_t;

static filter_t g_all = {NULL, NULL};
static pthread_mutex_t g_filters_mu = PTHREAD_MUTEX_INITIALIZER;
static filter_t *g_filters;

static const filter_t *intern_filter(const char *repos) {
  if (repos == NULL || strcmp(repos, "all") == 0) return &g_all;
  pthread_mutex_lock(&g_filters_mu);
  filter_t *f = g_filters;
  while (f != NULL && strcmp(f->repos, repos) != 0) f = f->next;
  if (f == NULL && (f = pmx__calloc(1, sizeof *f)) != NULL) {
    if ((f->repos = pmx__strdup(repos)) == NULL) {
      pmx__free(f);
      f = NULL;
    } else {
      f->next = g_filters;
      g_filters = f;
    }
  }
  pthread_mutex_unlock(&g_filters_mu);
  return f;
}

/* Is `name` an item of the comma list (items trimmed of blanks)? */
static bool in_list(const char *list, const char *name) {
  size_t nl = strlen(name);
  const char *p = list;
  while (*p) {
    while (*p == ' ' || *p == ',') p++;
    const char *e = p;
    while (*e && *e != ',') e++;
    const char *t = e;
    while (t > p && t[-1] == ' ') t--;
    if ((size_t)(t - p) == nl && nl > 0 && memcmp(p, name, nl) == 0) return true;
    p = e;
  }
  return false;
}

static bool repo_ok(const pmx_event_data_t *ev, const filter_t *f) {
  if (f->repos == NULL) return true;
  const pmx_meta_t *m = pmx_event_meta(ev, "repo");
  return m != NULL && m->type == PMX_META_STR && m->v.s != NULL && in_list(f->repos, m->v.s);
}

/* Absent measurements stay absent: a keep predicate (not counted as skipped) rather than a
 * missing_measurement skip on every query that has no queue time. */
#define KEEP_IF_PRESENT(fn, key)                               \
  static bool fn(const pmx_event_data_t *ev, void *ctx) {      \
    double v;                                                  \
    return pmx_event_measurement(ev, key, &v) && repo_ok(ev, ctx); \
  }
KEEP_IF_PRESENT(keep_queue, "queue_time")
KEEP_IF_PRESENT(keep_query, "query_time")
KEEP_IF_PRESENT(keep_decode, "decode_time")
KEEP_IF_PRESENT(keep_idle, "idle_time")
KEEP_IF_PRESENT(keep_total, "total_time")
KEEP_IF_PRESENT(keep_rows, "rows")
KEEP_IF_PRESENT(keep_in_use, "in_use")
KEEP_IF_PRESENT(keep_saturation, "saturation")
KEEP_IF_PRESENT(keep_status, "status")

static bool keep_error(const pmx_event_data_t *ev, void *ctx) {
  const pmx_meta_t *m = pmx_event_meta(ev, "result");
  return m != NULL && m->type == PMX_META_STR && m->v.s != NULL && strcmp(m->v.s, "error") == 0 &&
         repo_ok(ev, ctx);
}

static const double k_duration_buckets[] = {0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1,
                                            0.25,   0.5,    1,     2.5,   5,    10,   30};
static const double k_rows_buckets[] = {1, 5, 10, 50, 100, 500, 1000, 10000};

/* Parses a comma list of strictly increasing finite numbers (>= 0) into out. */
static int parse_buckets(const pmx_plugin_ctx_t *ctx, const char *key, const char *v, double *out,
                         size_t *n) {
  *n = 0;
  const char *p = v;
  if (*p == '\0')
    return pmx_plugin_fail(ctx, PMX_ECONFIG, "plugin db: option %s is empty; want a comma list of "
                           "increasing numbers", key);
  while (*p) {
    while (*p == ' ') p++;
    char *end = NULL;
    double d = strtod(p, &end);
    if (end == p || !isfinite(d) || d < 0)
      return pmx_plugin_fail(ctx, PMX_ECONFIG, "plugin db: option %s: \"%s\" is not a comma list "
                             "of finite non-negative numbers", key, v);
    if (*n == PMX_MAX_BUCKETS)
      return pmx_plugin_fail(ctx, PMX_ECONFIG, "plugin db: option %s has more than %d buckets",
                             key, PMX_MAX_BUCKETS);
    if (*n > 0 && !(d > out[*n - 1]))
      return pmx_plugin_fail(ctx, PMX_ECONFIG, "plugin db: option %s must be strictly increasing "
                             "(got \"%s\")", key, v);
    out[(*n)++] = d;
    p = end;
    while (*p == ' ') p++;
    if (*p == ',') {
      p++;
      if (*p == '\0')
        return pmx_plugin_fail(ctx, PMX_ECONFIG, "plugin db: option %s ends with a comma", key);
    } else if (*p != '\0') {
      return pmx_plugin_fail(ctx, PMX_ECONFIG, "plugin db: option %s: \"%s\" is not a comma list "
                             "of finite non-negative numbers", key, v);
    }
  }
  return PMX_OK;
}

static const char *const k_allowed[] = {"repos", "duration_buckets", "rows_buckets"};

/* Checks the options (every group callback does, so a bad one fails start whichever runs first)
 * and resolves the filter. */
static int read_opts(const pmx_plugin_ctx_t *ctx, const filter_t **filter) {
  int rc = pmx_plugin_check_opts(ctx, k_allowed, sizeof k_allowed / sizeof k_allowed[0]);
  if (rc != PMX_OK) return rc;
  const char *repos = pmx_plugin_opt(ctx, "repos");
  if (repos != NULL) {
    bool any = false;
    for (const char *p = repos; *p; p++) any |= *p != ',' && *p != ' ';
    if (!any)
      return pmx_plugin_fail(ctx, PMX_ECONFIG, "plugin db: option repos must be \"all\" or a "
                             "comma list of repo names, got \"%s\"", repos);
  }
  *filter = intern_filter(repos);
  return *filter != NULL ? PMX_OK : PMX_ENOMEM;
}

static int db_measure_init(pmx_bus_t *bus, void *ctx) {
  (void)ctx;
  pmx__db_announce_all(bus);
  return PMX_OK;
}

static int db_manual(const pmx_plugin_ctx_t *ctx, pmx_groups_t *out) {
  const filter_t *f;
  int rc = read_opts(ctx, &f);
  if (rc != PMX_OK) return rc;
  void *fc = (void *)f;
  static const char *const init_tags[] = {"repo", "database_name", "database_host"};
  static const char *const repo_tag[] = {"repo"};
  const pmx_metric_def_t m[] = {
      {.kind = PMX_LAST_VALUE, .name = "repo.init.status.info", .event_name = PMX_DB_EV_INIT,
       .measurement = "status", .tags = init_tags, .n_tags = 3, .keep = keep_status,
       .predicate_ctx = fc, .description = "Information regarding the initialized repo."},
      {.kind = PMX_LAST_VALUE, .name = "repo.init.pool.size", .event_name = PMX_DB_EV_INIT,
       .measurement = "pool_size", .tags = repo_tag, .n_tags = 1, .keep = keep_status,
       .predicate_ctx = fc, .description = "The configured pool size for the repo."},
      {.kind = PMX_LAST_VALUE, .name = "repo.init.timeout.seconds", .event_name = PMX_DB_EV_INIT,
       .measurement = "timeout", .tags = repo_tag, .n_tags = 1, .keep = keep_status,
       .predicate_ctx = fc, .description = "The configured query timeout for the repo."},
  };
  return pmx_groups_add_manual(out, "db_init_manual_metrics", db_measure_init, NULL, NULL, m,
                               sizeof m / sizeof m[0]);
}

static int db_events(const pmx_plugin_ctx_t *ctx, pmx_groups_t *out) {
  const filter_t *f;
  int rc = read_opts(ctx, &f);
  if (rc != PMX_OK) return rc;
  double dur[PMX_MAX_BUCKETS], rows[PMX_MAX_BUCKETS];
  size_t n_dur = sizeof k_duration_buckets / sizeof k_duration_buckets[0];
  size_t n_rows = sizeof k_rows_buckets / sizeof k_rows_buckets[0];
  memcpy(dur, k_duration_buckets, sizeof k_duration_buckets);
  memcpy(rows, k_rows_buckets, sizeof k_rows_buckets);
  const char *v;
  if ((v = pmx_plugin_opt(ctx, "duration_buckets")) != NULL &&
      (rc = parse_buckets(ctx, "duration_buckets", v, dur, &n_dur)) != PMX_OK)
    return rc;
  if ((v = pmx_plugin_opt(ctx, "rows_buckets")) != NULL &&
      (rc = parse_buckets(ctx, "rows_buckets", v, rows, &n_rows)) != PMX_OK)
    return rc;

  void *fc = (void *)f;
  static const char *const repo_tag[] = {"repo"};
  static const char *const q_tags[] = {"repo", "source", "command"};
  static const char *const e_tags[] = {"repo", "source", "command", "error_class"};
#define DUR(nm, meas, keepfn, tg, ntg, desc)                                                  \
  {.kind = PMX_DISTRIBUTION, .name = nm, .event_name = PMX_DB_EV_QUERY, .measurement = meas,  \
   .tags = tg, .n_tags = ntg, .keep = keepfn, .predicate_ctx = fc, .unit_from = PMX_UNIT_NATIVE, \
   .unit_to = PMX_UNIT_SECOND, .buckets = dur, .n_buckets = n_dur, .description = desc}
  const pmx_metric_def_t q[] = {
      DUR("repo.query.idle_time.seconds", "idle_time", keep_idle, repo_tag, 1,
          "The time the connection spent waiting before being checked out for the query."),
      DUR("repo.query.queue_time.seconds", "queue_time", keep_queue, repo_tag, 1,
          "The time spent waiting to check out a database connection."),
      DUR("repo.query.decode_time.seconds", "decode_time", keep_decode, repo_tag, 1,
          "The time spent decoding the data received from the database."),
      DUR("repo.query.execution_time.seconds", "query_time", keep_query, q_tags, 3,
          "The time spent executing the query."),
      DUR("repo.query.total_time.seconds", "total_time", keep_total, q_tags, 3,
          "The sum of the other time measurements."),
      {.kind = PMX_DISTRIBUTION, .name = "repo.query.results_returned",
       .event_name = PMX_DB_EV_QUERY, .measurement = "rows", .tags = q_tags, .n_tags = 3,
       .keep = keep_rows, .predicate_ctx = fc, .buckets = rows, .n_buckets = n_rows,
       .description = "The number of result rows returned (or affected) by the query."},
      {.kind = PMX_COUNTER, .name = "repo.query.errors.total", .event_name = PMX_DB_EV_QUERY,
       .tags = e_tags, .n_tags = 4, .keep = keep_error, .predicate_ctx = fc,
       .description = "Queries that failed, by error class (SQLSTATE or SQLite result code)."},
  };
#undef DUR
  rc = pmx_groups_add_event(out, "db_query_event_metrics", q, sizeof q / sizeof q[0]);
  if (rc != PMX_OK) return rc;
  const pmx_metric_def_t p[] = {
      {.kind = PMX_LAST_VALUE, .name = "repo.pool.connections_in_use", .event_name = PMX_DB_EV_POOL,
       .measurement = "in_use", .tags = repo_tag, .n_tags = 1, .keep = keep_in_use,
       .predicate_ctx = fc, .description = "Connections checked out of the repo's pool."},
      {.kind = PMX_LAST_VALUE, .name = "repo.pool.saturation.ratio", .event_name = PMX_DB_EV_POOL,
       .measurement = "saturation", .tags = repo_tag, .n_tags = 1, .keep = keep_saturation,
       .predicate_ctx = fc, .description = "Connections in use over the pool size (0..1)."},
  };
  return pmx_groups_add_event(out, "db_pool_event_metrics", p, sizeof p / sizeof p[0]);
}

const pmx_plugin_t pmx_plugin_db = {PMX_PLUGIN_ABI, "db", db_events, NULL, db_manual, {0}};
