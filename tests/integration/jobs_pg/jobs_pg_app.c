/* The program under test of the jobs_pg integration test (run.sh): a promex instance with the
 * jobs plugin fed by the PostgreSQL queue adapter, and one worker that runs a known set of jobs.
 *
 *   jobs_pg_app CONNINFO PORT TABLE active|finished
 *
 * active: the adapter counts live states only and the plugin zero-fills available, scheduled,
 * executing, retryable; finished: it also counts completed and discarded, and the plugin
 * zero-fills Oban's seven states.
 * Enqueues into a fresh table: queue "default": 4 "ok" jobs, 1 "flaky" job (fails its first
 * attempt, max 3), 1 "broken" job (always fails, max 2); queue "mailers": 3 "send_email" jobs
 * that nobody runs. Runs "default" until it is empty, prints "ready", then serves /metrics on
 * 127.0.0.1:PORT until SIGTERM. Exit 0 on a clean stop, 1 on any failure (message on stderr). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promex/jobs_pg.h"
#include "promex/promex.h"

static int handler(const char *worker, const char *args, void *ctx) {
  (void)args;
  int *flaky_runs = ctx;
  if (strcmp(worker, "broken") == 0) return 1;
  if (strcmp(worker, "flaky") == 0) return (*flaky_runs)++ == 0;
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 5 || (strcmp(argv[4], "active") != 0 && strcmp(argv[4], "finished") != 0)) {
    fprintf(stderr, "usage: jobs_pg_app CONNINFO PORT TABLE active|finished\n");
    return 2;
  }
  bool finished = strcmp(argv[4], "finished") == 0;
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);

  char why[512];
  pmx_jobs_pg_t *poll_conn = NULL, *work_conn = NULL;
  if (pmx_jobs_pg_open(argv[1], argv[3], &poll_conn, why, sizeof why) != PMX_OK ||
      pmx_jobs_pg_open(argv[1], argv[3], &work_conn, why, sizeof why) != PMX_OK) {
    fprintf(stderr, "jobs_pg_app: connect: %s\n", why);
    return 1;
  }
  pmx_jobs_pg_t *bad = NULL;
  if (pmx_jobs_pg_open(argv[1], "Robert'); DROP TABLE x;--", &bad, why, sizeof why) !=
          PMX_EINVAL ||
      bad != NULL) {
    fprintf(stderr, "jobs_pg_app: a bad table name was accepted\n");
    return 1;
  }
  if (pmx_jobs_pg_create_schema(work_conn) != PMX_OK) {
    fprintf(stderr, "jobs_pg_app: create schema failed\n");
    return 1;
  }
  static const pmx_jobs_opts_t jo_tmpl = {pmx_jobs_pg_queue_lengths, NULL};
  pmx_jobs_opts_t jo = jo_tmpl;
  jo.ctx = poll_conn;
  pmx_jobs_pg_count_finished(poll_conn, finished);
  const pmx_kv_t opts[] = {{"queues", "default, mailers"},
                           {"poll_rate", "200"},
                           {"states", "available, scheduled, executing, retryable"}};
  pmx_plugin_use_t use = {&pmx_plugin_jobs, opts, finished ? 2 : 3, &jo};
  pmx_config_t cfg;
  pmx_config_defaults(&cfg);
  cfg.app = "jpg";
  cfg.plugins = &use;
  cfg.n_plugins = 1;
  cfg.metrics_server.enabled = true;
  cfg.metrics_server.bind_address = "127.0.0.1";
  cfg.metrics_server.port = (uint16_t)atoi(argv[2]);
  pmx_t *p = NULL;
  pmx_error_t err;
  if (pmx_new(&cfg, &p, &err) != PMX_OK || pmx_start(p, &err) != PMX_OK) {
    fprintf(stderr, "jobs_pg_app: promex: %s\n", err.text);
    return 1;
  }
  pmx_jobs_events_t ev;
  pmx_jobs_events_init(pmx_bus(p), &ev);
  pmx_jobs_emit_queue_init(&ev, "default", 1);

  int rc = 0;
  for (int i = 0; i < 4; i++) rc |= pmx_jobs_pg_enqueue(work_conn, "default", "ok", NULL, 1);
  rc |= pmx_jobs_pg_enqueue(work_conn, "default", "flaky", "{\"n\":1}", 3);
  rc |= pmx_jobs_pg_enqueue(work_conn, "default", "broken", NULL, 2);
  for (int i = 0; i < 3; i++) rc |= pmx_jobs_pg_enqueue(work_conn, "mailers", "send_email", NULL, 1);
  if (rc != PMX_OK || pmx_jobs_pg_enqueue(work_conn, "", "x", NULL, 1) != PMX_EINVAL) {
    fprintf(stderr, "jobs_pg_app: enqueue failed\n");
    return 1;
  }
  int flaky_runs = 0, ran = 0, r;
  while ((r = pmx_jobs_pg_run_one(work_conn, &ev, "default", handler, &flaky_runs)) == 1) ran++;
  if (r != 0 || ran != 8) {
    fprintf(stderr, "jobs_pg_app: ran %d jobs (want 8), last rc %d\n", ran, r);
    return 1;
  }
  printf("ready\n");
  fflush(stdout);
  int sig = 0;
  sigwait(&sigs, &sig);
  pmx_stop(p); /* no poll after this: the connections can go */
  pmx_destroy(p);
  pmx_jobs_pg_close(poll_conn);
  pmx_jobs_pg_close(work_conn);
  return 0;
}
