/* The program under test for the push integration tests (run.py drives it on stdin).
 * It records known events into a counter and a histogram, then pushes them to a Pushgateway or
 * streams them with remote_write. Commands, one per line:
 *   emit <kind> <n> <ms>      n jobs of `kind`, each observed at <ms> milliseconds
 *   push <url> <put|post|delete> <job> [<name>=<value>...]   pmx_push; prints "ok" or the error
 *   rw_start <url> <interval_ms> <queue_samples>             pmx_remote_write_start
 *   rw_flush                  one round now
 *   rw_stats                  prints "sent=.. dropped_queue=.. failed=.. queued=.. rounds=.."
 *   sample <series>           prints the value of the exposition line "<series> <value>" (as
 *                             pmx_get_metrics renders it), or "none"
 *   rw_stop | quit
 * Each command answers with one line, so the driver can wait for it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promex/plugin.h"
#include "promex/push.h"
#include "promex/runtime.h"

static const double buckets[] = {10, 100, 1000};

static int pp_event(const pmx_plugin_ctx_t *ctx, pmx_groups_t *out) {
  static const char *const tags[] = {"kind"};
  const pmx_metric_def_t m[] = {
      {.kind = PMX_COUNTER, .name = "jobs.total", .event_name = "pp.job.stop", .tags = tags,
       .n_tags = 1, .description = "Jobs done."},
      {.kind = PMX_DISTRIBUTION, .name = "job.duration.milliseconds", .event_name = "pp.job.stop",
       .measurement = "ms", .tags = tags, .n_tags = 1, .buckets = buckets, .n_buckets = 3,
       .description = "Job durations."}};
  return pmx_groups_add_event(out, "pp_job_events", m, 2);
}
static const pmx_plugin_t pp_plugin = {PMX_PLUGIN_ABI, "pp", pp_event, NULL, NULL, {0}};

int main(void) {
  pmx_plugin_use_t use = {.plugin = &pp_plugin};
  pmx_config_t cfg;
  pmx_config_defaults(&cfg);
  cfg.app = "pt";
  cfg.plugins = &use;
  cfg.n_plugins = 1;
  cfg.metrics_server.enabled = false;
  pmx_t *p = NULL;
  pmx_error_t err;
  if (pmx_new(&cfg, &p, &err) != PMX_OK || pmx_start(p, &err) != PMX_OK) {
    fprintf(stderr, "start: %s\n", err.text);
    return 1;
  }
  pmx_remote_writer_t *w = NULL;
  char line[4096];
  setvbuf(stdout, NULL, _IOLBF, 0);
  while (fgets(line, sizeof line, stdin)) {
    char *argv[32];
    int argc = 0;
    for (char *t = strtok(line, " \t\r\n"); t && argc < 32; t = strtok(NULL, " \t\r\n"))
      argv[argc++] = t;
    if (argc == 0) continue;
    if (!strcmp(argv[0], "emit") && argc == 4) {
      pmx_meta_t md[] = {PMX_META_S("kind", argv[1])};
      pmx_measurement_t m[] = {PMX_M("ms", atof(argv[3]))};
      for (int i = atoi(argv[2]); i > 0; i--) pmx_emit_name(pmx_bus(p), "pp.job.stop", m, 1, md, 1);
      printf("ok\n");
    } else if (!strcmp(argv[0], "push") && argc >= 4) {
      pmx_push_label_t lbl[16];
      size_t n = 0;
      for (int i = 4; i < argc && n < 16; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq) continue;
        *eq = '\0';
        lbl[n++] = (pmx_push_label_t){argv[i], eq + 1};
      }
      pmx_push_target_t t = {.url = argv[1], .job = argv[3], .labels = lbl, .nlabels = n,
                             .timeout_ms = 5000};
      pmx_push_method_t m = !strcmp(argv[2], "post")     ? PMX_PUSH_POST
                            : !strcmp(argv[2], "delete") ? PMX_PUSH_DELETE
                                                         : PMX_PUSH_PUT;
      int rc = pmx_push(p, &t, m, &err);
      if (rc == PMX_OK) printf("ok\n");
      else printf("error %s %s\n", pmx_err_name(rc), err.text);
    } else if (!strcmp(argv[0], "rw_start") && argc == 4) {
      pmx_remote_write_config_t rc = {.url = argv[1], .interval_ms = (unsigned)atoi(argv[2]),
                                      .queue_samples = (size_t)atol(argv[3]), .timeout_ms = 2000,
                                      .max_backoff_ms = 200};
      int r = pmx_remote_write_start(p, &rc, &w, &err);
      if (r == PMX_OK) printf("ok\n");
      else printf("error %s %s\n", pmx_err_name(r), err.text);
    } else if (!strcmp(argv[0], "rw_flush")) {
      printf(pmx_remote_write_flush(w) == PMX_OK ? "ok\n" : "error\n");
    } else if (!strcmp(argv[0], "rw_stats")) {
      pmx_remote_write_stats_t s;
      if (pmx_remote_write_stats(w, &s) != PMX_OK) {
        printf("error\n");
        continue;
      }
      printf("taken=%llu sent=%llu dropped_queue=%llu rejected=%llu failed=%llu queued=%zu rounds=%llu "
             "last_status=%d stopped=%llu\n",
             (unsigned long long)s.samples_taken, (unsigned long long)s.samples_sent, (unsigned long long)s.samples_dropped_queue,
             (unsigned long long)s.samples_dropped_rejected, (unsigned long long)s.requests_failed,
             s.samples_queued, (unsigned long long)s.rounds, s.last_status,
             (unsigned long long)s.samples_dropped_stopped);
    } else if (!strcmp(argv[0], "sample") && argc == 2) {
      pmx_buf_t b = {0};
      char *text = NULL;
      const char *v = NULL;
      size_t n = strlen(argv[1]);
      if (pmx_get_metrics(p, PMX_FORMAT_TEXT, &b) == PMX_OK && (text = malloc(b.len + 1)) != NULL) {
        memcpy(text, b.data, b.len);
        text[b.len] = '\0';
        for (const char *l = text; l && !v; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
          if (strncmp(l, argv[1], n) == 0 && l[n] == ' ') v = l + n + 1;
      }
      if (v) printf("%.*s\n", (int)strcspn(v, "\n"), v);
      else printf("none\n");
      free(text);
      pmx_buf_free(&b);
    } else if (!strcmp(argv[0], "rw_stop")) {
      pmx_remote_write_stop(w);
      w = NULL;
      printf("ok\n");
    } else if (!strcmp(argv[0], "quit")) {
      break;
    } else {
      printf("error unknown command\n");
    }
  }
  pmx_remote_write_stop(w);
  pmx_stop(p);
  pmx_destroy(p);
  return 0;
}
