/* The promex demo: a program instrumented with promex, serving its metrics for Prometheus.
 *
 *   demo [--port N] [--bind ADDR] [--config FILE] [--workers N] [--jobs N] [--auth-token T]
 *
 * Worker threads run synthetic jobs (1-50 ms sleeps) inside spans ("demo.job"); every tenth job
 * fails. The demo plugin (demo_plugin.c) turns the span events into a histogram and counters,
 * polls the queue and reports the worker count; the first-party plugins (application, process,
 * os, http_server) are enabled too. A small HTTP API (demo_http.c) on another free port is
 * instrumented through the http_server plugin's libmicrohttpd adapter and kept under load. With --jobs N the workers run exactly N jobs (N - N/10 succeed, N/10
 * fail) and then idle, so tests can check the counts Prometheus scraped. The program runs until
 * SIGINT or SIGTERM (taken by a handler that wakes the main thread) and then stops cleanly.
 *
 * --config FILE loads a promex INI file (see config.h); its plugins are resolved against the
 * first-party plugins and "demo", and the demo plugin is added when the file does not list it.
 * --port/--bind/--auth-token given on the command line override the file (even when they repeat
 * a default value), and --port turns the file's metrics server on. */
#include "demo_http_client.h" /* the demo's outbound HTTP calls */

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "demo_http.h"
#include "demo_plugin.h"
#ifdef PMX_DEMO_DB
#include "demo_db.h" /* SQLite workload for the db plugin */
#endif
#include "promex/promex.h"
#include "promex/jobs_pool.h" /* the jobs workload below */
#include "demo_batch.h" /* a batch pipeline for the jobs dashboard */

typedef struct demo {
  pmx_t *p;
  demo_state_t state;
  pmx_span_events_t span;
  atomic_bool stop;
  atomic_long next_job;
  long max_jobs; /* 0: unlimited */
} demo_t;

static const char *const k_queues[] = {"default", "mailers", "reports"};

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static void *worker(void *arg) {
  demo_t *d = arg;
  unsigned seed = (unsigned)(uintptr_t)pthread_self() ^ (unsigned)time(NULL);
  while (!atomic_load(&d->stop)) {
    long job = atomic_fetch_add(&d->next_job, 1);
    if (d->max_jobs > 0 && job >= d->max_jobs) {
      sleep_ms(100); /* done: idle until stopped */
      continue;
    }
    const char *queue = k_queues[job % 3];
    /* A W3C-style trace id per job (as a tracing library would put in the span's metadata):
     * the duration histogram keeps it as the exemplar of the job's bucket. */
    char trace_id[33];
    snprintf(trace_id, sizeof trace_id, "%032lx", (unsigned long)job + 1); /* job n: n + 1 */
    pmx_meta_t md[] = {PMX_META_S("queue", queue), PMX_META_S("result", "ok"), PMX_META_S("trace_id", trace_id)};
    pmx_span_t span;
    atomic_fetch_add(&d->state.started, 1);
    atomic_fetch_add(&d->state.in_flight, 1);
    pmx_span_start(&span, &d->span, md, 1);
    sleep_ms(1 + (long)(rand_r(&seed) % 50));
    if (job % 10 == 9)
      pmx_span_exception(&span, "error", "synthetic failure", md, 1);
    else
      pmx_span_stop(&span, NULL, 0, md, 3);
    atomic_fetch_sub(&d->state.in_flight, 1);
  }
  return NULL;
}

/* ---- The jobs workload: two instrumented work queues (promex/jobs_pool.h) fed by a
 * thread, so the jobs dashboard has data. Jobs sleep 1-30 ms; every 7th fails once and succeeds
 * on its retry, every 25th fails on each of its 3 attempts and is discarded. The queue lengths
 * reach the jobs plugin through its callback; the pools are swapped out under a lock before they
 * are destroyed, so a poll never sees a freed pool. */
static struct {
  pthread_mutex_t mu;
  pmx_pool_t *pools[2];
  pthread_t feeder;
  bool feeding;
  atomic_bool stop;
  atomic_long seq;
} g_jobs = {.mu = PTHREAD_MUTEX_INITIALIZER};

static int demo_queue_lengths(pmx_jobs_lengths_t *out, void *ctx) {
  (void)ctx;
  int rc = PMX_OK;
  pthread_mutex_lock(&g_jobs.mu);
  for (int i = 0; i < 2 && rc == PMX_OK; i++)
    if (g_jobs.pools[i] != NULL) rc = pmx_pool_report_lengths(g_jobs.pools[i], out);
  pthread_mutex_unlock(&g_jobs.mu);
  return rc;
}
static const pmx_jobs_opts_t k_demo_jobs_opts = {demo_queue_lengths, NULL};

/* Each job's argument is its sequence number; a retry of a fail-once job succeeds. */
static _Atomic unsigned char g_job_failed_once[1024];
static int demo_job(void *arg) {
  long n = (long)(intptr_t)arg;
  sleep_ms(1 + n % 30);
  if (n % 25 == 24) return 1;
  if (n % 7 == 6) return atomic_exchange(&g_job_failed_once[n % 1024], 1) == 0 ? 1 : 0;
  return 0;
}

static void *demo_jobs_feeder(void *arg) {
  (void)arg;
  static const char *const workers[] = {"resize_image", "send_email", "build_report"};
  while (!atomic_load(&g_jobs.stop)) {
    long n = atomic_fetch_add(&g_jobs.seq, 1);
    atomic_store(&g_job_failed_once[n % 1024], 0);
    pmx_pool_submit(g_jobs.pools[n % 2], workers[n % 3], demo_job, (void *)(intptr_t)n);
    sleep_ms(15);
  }
  return NULL;
}

/* Gives the jobs plugin its callback (whether it came from the first-party list or a file). */
static void demo_jobs_attach(pmx_plugin_use_t *uses, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (uses[i].plugin == &pmx_plugin_jobs && uses[i].user_data == NULL)
      uses[i].user_data = (void *)&k_demo_jobs_opts;
}

static void demo_jobs_start(pmx_t *p) {
  static const char *const queues[] = {"default", "mailers"};
  for (int i = 0; i < 2; i++) {
    pmx_pool_opts_t o = {.queue = queues[i], .concurrency = 2, .max_attempts = 3,
                         .bus = pmx_bus(p)};
    pmx_pool_t *pool = NULL;
    if (pmx_pool_new(&o, &pool) != PMX_OK) {
      fprintf(stderr, "demo: cannot start the %s work queue\n", queues[i]);
      return;
    }
    pthread_mutex_lock(&g_jobs.mu); /* the poller reads the slots */
    g_jobs.pools[i] = pool;
    pthread_mutex_unlock(&g_jobs.mu);
  }
  g_jobs.feeding = pthread_create(&g_jobs.feeder, NULL, demo_jobs_feeder, NULL) == 0;
}

static void demo_jobs_stop(void) {
  atomic_store(&g_jobs.stop, true);
  if (g_jobs.feeding) pthread_join(g_jobs.feeder, NULL);
  pthread_mutex_lock(&g_jobs.mu);
  pmx_pool_t *pools[2] = {g_jobs.pools[0], g_jobs.pools[1]};
  g_jobs.pools[0] = g_jobs.pools[1] = NULL;
  pthread_mutex_unlock(&g_jobs.mu);
  for (int i = 0; i < 2; i++) pmx_pool_destroy(pools[i], NULL);
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: demo [--port N] [--bind ADDR] [--config FILE] [--workers N] [--jobs N]\n"
          "            [--auth-token TOKEN]\n"
          "  --port N        metrics server port (default 4021; 0 picks a free one)\n"
          "  --bind ADDR     address to listen on (default 127.0.0.1)\n"
          "  --config FILE   promex INI configuration\n"
          "  --workers N     worker threads (default 4)\n"
          "  --jobs N        run exactly N jobs, then idle (default: run forever)\n"
          "  --auth-token T  require 'Authorization: Bearer T' on scrapes\n");
}

static bool parse_long(const char *s, long lo, long hi, long *out) {
  char *end = NULL;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) return false;
  *out = v;
  return true;
}

static void log_to_stderr(void *ctx, pmx_log_level_t level, const char *msg) {
  (void)ctx;
  static const char *const names[] = {"debug", "info", "warning", "error"};
  fprintf(stderr, "demo: promex %s: %s\n", names[level <= PMX_LOG_ERROR ? level : PMX_LOG_ERROR],
          msg);
}

/* Posted by the SIGINT/SIGTERM handler (sem_post is async-signal-safe); main waits on it. */
static sem_t g_stop;
static volatile sig_atomic_t g_stop_signal;

static void on_stop_signal(int sig) {
  g_stop_signal = sig;
  sem_post(&g_stop);
}

int main(int argc, char **argv) {
  long port = 4021, workers = 4, jobs = 0;
  const char *bind = "127.0.0.1", *config_path = NULL, *token = NULL;
  /* Flags given explicitly win over the config file, whatever their value. */
  bool port_given = false, bind_given = false;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    bool ok = true;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      return 0;
    } else if (v == NULL) {
      ok = false;
    } else if (strcmp(a, "--port") == 0) {
      ok = parse_long(v, 0, 65535, &port);
      port_given = true;
    } else if (strcmp(a, "--workers") == 0) {
      ok = parse_long(v, 1, 256, &workers);
    } else if (strcmp(a, "--jobs") == 0) {
      ok = parse_long(v, 0, 1000000000L, &jobs);
    } else if (strcmp(a, "--bind") == 0) {
      bind = v;
      bind_given = true;
    } else if (strcmp(a, "--config") == 0) {
      config_path = v;
    } else if (strcmp(a, "--auth-token") == 0) {
      token = v;
    } else {
      ok = false;
    }
    if (!ok) {
      fprintf(stderr, "demo: bad argument %s%s%s\n", a, v ? " " : "", v ? v : "");
      usage(stderr);
      return 2;
    }
    i++;
  }

  /* SIGINT/SIGTERM stop the demo. A handler (not only sigwait) takes them, because a thread that
   * a linked library starts may not keep our signal mask, and a signal delivered to such a thread
   * with the default action would kill the demo before it stops cleanly; the handler works on
   * whichever thread the kernel picks. The signals stay blocked while threads start (they
   * inherit the mask), and the main thread unblocks them once it waits. Installing the handler
   * also undoes the SIG_IGN that a shell gives the background jobs it starts. */
  if (sem_init(&g_stop, 0, 0) != 0) {
    perror("demo: sem_init");
    return 1;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);

  static demo_t d;
  d.state.workers = (int)workers;
  d.max_jobs = jobs;

  /* Plugins the program links: the first-party ones and our own. */
  size_t n_fp = 0;
  const pmx_plugin_t *const *fp = pmx_first_party_plugins(&n_fp);
  const pmx_plugin_t *known[32];
  size_t n_known = 0;
  for (size_t i = 0; i < n_fp && n_known < 31; i++) known[n_known++] = fp[i];
  known[n_known++] = &demo_plugin;

  pmx_config_t cfg;
  pmx_config_file_t *file = NULL;
  pmx_plugin_use_t uses[33];
  size_t n_uses = 0;
  pmx_error_t err;
  static const pmx_kv_t app_opts[] = {{"version", PMX_VERSION_STRING}};
  if (config_path != NULL) {
    if (pmx_config_load(config_path, known, n_known, &file, &err) != PMX_OK) {
      fprintf(stderr, "demo: %s\n", err.text);
      return 1;
    }
    cfg = *pmx_config_file_config(file);
    for (size_t i = 0; i < cfg.n_plugins && n_uses < 32; i++) {
      uses[n_uses] = cfg.plugins[i];
      if (uses[n_uses].plugin == &demo_plugin) uses[n_uses].user_data = &d.state;
      n_uses++;
    }
  } else {
    pmx_config_defaults(&cfg);
    cfg.app = "demo";
    cfg.app_version = PMX_VERSION_STRING;
    for (size_t i = 0; i < n_fp && n_uses < 32; i++) {
      uses[n_uses] = (pmx_plugin_use_t){.plugin = fp[i]};
      if (strcmp(fp[i]->name, "application") == 0) {
        uses[n_uses].opts = app_opts;
        uses[n_uses].n_opts = 1;
      } else if (strcmp(fp[i]->name, "http_server") == 0) {
        uses[n_uses].opts = demo_http_plugin_opts;
        uses[n_uses].n_opts = demo_http_plugin_n_opts;
      }
      n_uses++;
    }
    cfg.metrics_server.enabled = true;
  }
  bool have_demo = false;
  for (size_t i = 0; i < n_uses; i++) have_demo |= uses[i].plugin == &demo_plugin;
  if (!have_demo) uses[n_uses++] = (pmx_plugin_use_t){.plugin = &demo_plugin, .user_data = &d.state};
  cfg.plugins = uses;
  cfg.n_plugins = n_uses;
  demo_jobs_attach(uses, n_uses);
  if (config_path == NULL || port_given) cfg.metrics_server.port = (uint16_t)port;
  if (port_given) cfg.metrics_server.enabled = true;
  if (config_path == NULL || bind_given) cfg.metrics_server.bind_address = bind;
  if (token != NULL) {
    cfg.metrics_server.auth_strategy = PMX_AUTH_BEARER;
    cfg.metrics_server.auth_token = token;
  }
  cfg.log = log_to_stderr;

  int rc = pmx_new(&cfg, &d.p, &err);
  pmx_config_file_free(file); /* pmx_new copied everything */
  if (rc != PMX_OK) {
    fprintf(stderr, "demo: %s: %s\n", pmx_err_name(rc), err.text);
    return 1;
  }
  if ((rc = pmx_span_events(pmx_bus(d.p), "demo.job", &d.span)) != PMX_OK ||
      (rc = pmx_start(d.p, &err)) != PMX_OK) {
    fprintf(stderr, "demo: cannot start: %s: %s\n", pmx_err_name(rc), err.text);
    pmx_destroy(d.p);
    return 1;
  }

  demo_jobs_start(d.p);
  demo_batch_t *batch = demo_batch_start(d.p); /* NULL: logged, the demo goes on */
#ifdef PMX_DEMO_DB
  demo_db_t *dbw = demo_db_start(d.p); /* the db plugin's workload (NULL: logged, demo goes on) */
#endif
  pthread_t threads[256];
  long started = 0;
  for (; started < workers; started++)
    if (pthread_create(&threads[started], NULL, worker, &d) != 0) break;

  demo_http_t *http = NULL;
  if (demo_http_start(d.p, bind, &http) != 0) fprintf(stderr, "demo: continuing without the HTTP API\n");

  const pmx_config_t *c = pmx_config(d.p);
  printf("demo: %ld workers%s; metrics at http://%s:%u%s\n", started,
         jobs > 0 ? " (fixed number of jobs)" : "",
         c->metrics_server.bind_address ? c->metrics_server.bind_address : "127.0.0.1",
         (unsigned)pmx_metrics_port(d.p), c->metrics_server.path ? c->metrics_server.path : "/metrics");
  if (http != NULL)
    printf("demo: HTTP API at http://%s:%u/api/items (under load)\n", bind, (unsigned)demo_http_port(http));
  fflush(stdout);
  /* Outbound HTTP calls for the http_client dashboard. */
  static demo_http_client_t http_client;
  demo_http_client_start(&http_client, d.p);

  pthread_sigmask(SIG_UNBLOCK, &sigs, NULL); /* a signal that came while blocked arrives now */
  while (sem_wait(&g_stop) != 0 && errno == EINTR) {
  }
  fprintf(stderr, "demo: got signal %d, stopping\n", (int)g_stop_signal);
  demo_http_client_stop(&http_client);
  atomic_store(&d.stop, true);
  demo_jobs_stop();
  demo_batch_stop(batch);
  for (long i = 0; i < started; i++) pthread_join(threads[i], NULL);
  demo_http_stop(http);
#ifdef PMX_DEMO_DB
  demo_db_stop(dbw);
#endif
  pmx_stop(d.p);
  pmx_destroy(d.p);
  return 0;
}
