/* counter_labels' op sequence alone, for A/B of the labelled lookup: a labelled counter with the
 * contract's 20 series (method x status), op i looks up series i % 20 by its label values and
 * increments it. No threads, no verification pass, no other workload in the process: it moves
 * less between runs than bench_promex, which makes steps of a nanosecond or two visible when
 * two builds are run alternately. Its counts are checked at the end (every series 1/20 of the
 * ops), so a broken build does not pass for a fast one.
 *
 *   build/bench/lookup_loop [ops]   prints "lookup_loop <ns per op, best of 3 repetitions>"
 *
 * ops defaults to 20,000,000 per repetition. Under callgrind give a small count (100000): the
 * instructions per op are the total divided by 3 * ops. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "promex/promex.h"

#define SERIES 20
#define REPS 3

static const char *const METHODS[] = {"GET", "POST", "PUT", "DELETE"};
static const char *const STATUSES[] = {"200", "201", "400", "404", "500"};

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static void label_values(long i, const char *values[2]) {
  int c = (int)(i % SERIES);
  values[0] = METHODS[c % 4];
  values[1] = STATUSES[c / 4];
}

int main(int argc, char **argv) {
  long ops = argc > 1 ? atol(argv[1]) : 20000000L;
  if (ops < SERIES) {
    fprintf(stderr, "lookup_loop: ops must be at least %d\n", SERIES);
    return 2;
  }
  pmx_registry_opts_t opts = {.no_own_metrics = true};
  pmx_registry_t *reg = NULL;
  pmx_metric_t *m = NULL;
  pmx_error_t err;
  static const char *const tags[] = {"method", "status"};
  pmx_metric_def_t def = {.kind = PMX_COUNTER, .name = "lookup_total", .tags = tags, .n_tags = 2};
  if (pmx_registry_new(&opts, &reg) != PMX_OK || pmx_metric_define(reg, &def, &m, &err) != PMX_OK) {
    fprintf(stderr, "lookup_loop: setup failed\n");
    return 2;
  }
  double best = 0;
  for (int r = 0; r < REPS; r++) {
    double t0 = now_ns();
    for (long i = 0; i < ops; i++) {
      const char *values[2];
      label_values(i, values);
      pmx_series_t *s;
      if (pmx_metric_labels(m, values, 2, &s) != PMX_OK || pmx_series_inc(s) != PMX_OK) {
        fprintf(stderr, "lookup_loop: op %ld failed\n", i);
        return 1;
      }
    }
    double ns = (now_ns() - t0) / (double)ops;
    if (r == 0 || ns < best) best = ns;
  }
  for (long c = 0; c < SERIES; c++) {
    const char *values[2];
    label_values(c, values);
    pmx_series_t *s;
    long want = REPS * (ops / SERIES + (c < ops % SERIES ? 1 : 0));
    if (pmx_metric_labels(m, values, 2, &s) != PMX_OK || pmx_series_value(s) != (double)want) {
      fprintf(stderr, "lookup_loop: series %ld counted %.0f, want %ld\n", c, pmx_series_value(s), want);
      return 1;
    }
  }
  pmx_registry_destroy(reg);
  printf("lookup_loop %.2f\n", best);
  return 0;
}
