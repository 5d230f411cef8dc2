/* Poll cost of every group of the application, process and os plugins: starts a real instance
 * (metrics attached, so each emit also updates the series) with a one-hour poll rate so that the
 * promex thread stays out of the way after its first run, then calls each group's measurement
 * callback 1000 times on this thread and prints the mean time per poll.
 *
 * Not a test (nothing is asserted): run build-<dir>/tests/unit/plugins/plugin_poll_cost.
 * Reaches the runtime's internals (src/runtime/runtime_internal.h) to find the groups. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "promex/plugins/application.h"
#include "promex/plugins/os.h"
#include "promex/plugins/process.h"
#include "promex/promex.h"
#include "runtime/runtime_internal.h"

#define N 1000

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(void) {
  static const pmx_kv_t slow[] = {{"poll_rate", "3600000"}};
  pmx_plugin_use_t uses[] = {{&pmx_plugin_application, slow, 1, NULL},
                             {&pmx_plugin_process, slow, 1, NULL},
                             {&pmx_plugin_os, slow, 1, NULL}};
  pmx_config_t cfg;
  pmx_config_defaults(&cfg);
  cfg.app = "bench";
  cfg.plugins = uses;
  cfg.n_plugins = 3;
  pmx_t *p = NULL;
  pmx_error_t err = {0};
  if (pmx_new(&cfg, &p, &err) != PMX_OK || pmx_start(p, &err) != PMX_OK) {
    fprintf(stderr, "plugin_poll_cost: %s\n", err.text);
    pmx_destroy(p);
    return 1;
  }
  usleep(300 * 1000); /* let the first (background) run of every group finish */
  printf("%-42s %-8s %12s\n", "group", "kind", "ns/poll");
  for (size_t i = 0; i < p->groups->n; i++) {
    pmx__group_t *g = &p->groups->items[i];
    if (g->kind != PMX__GROUP_POLLING && g->kind != PMX__GROUP_MANUAL) continue;
    for (int w = 0; w < 10; w++) g->measure(p->bus, g->ctx); /* warm buffers and caches */
    double t0 = now_ns();
    for (int k = 0; k < N; k++) g->measure(p->bus, g->ctx);
    double dt = (now_ns() - t0) / N;
    printf("%-42s %-8s %12.0f\n", g->name, g->kind == PMX__GROUP_POLLING ? "polling" : "manual",
           dt);
  }
  pmx_destroy(p);
  return 0;
}
