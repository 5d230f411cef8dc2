/* Serves a registry holding every metric kind over promex's standalone server, for the native
 * histogram integration test (run.sh): a native-only histogram (schema 3) and a classic one whose
 * buckets are exactly the schema-3 bounds over the observed range, fed the same values, so
 * PromQL's histogram_quantile over each must agree within the schema's bucket width; a histogram
 * with both parts; exemplars on classic buckets; a counter with an exemplar, a gauge, a counter
 * sum and a gauge sum.
 * Prints the port, then the exact 0.5/0.9/0.99 quantiles of the values, and serves until SIGTERM
 * or SIGINT. Usage: native_serve (binds 127.0.0.1 on a free port). */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "promex/promex.h"
#include "promex/server.h"

static volatile sig_atomic_t g_stop;
static void on_signal(int sig) {
  (void)sig;
  g_stop = 1;
}

static int scrape(void *ctx, pmx_format_t fmt, pmx_buf_t *out) { return pmx_render(ctx, fmt, out); }

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

#define N 20000
#define LO (-80) /* schema-3 bucket indexes of the classic twin: 2^(-80/8) .. 2^(8/8) */
#define HI 8

static int define(pmx_registry_t *reg, const pmx_metric_def_t *def, pmx_series_t **s) {
  pmx_metric_t *m;
  pmx_error_t err;
  int rc = pmx_metric_define(reg, def, &m, &err);
  if (rc != PMX_OK) {
    fprintf(stderr, "define %s: %s\n", def->name, err.text);
    return rc;
  }
  const char *v[] = {"a"};
  return pmx_metric_labels(m, def->n_tags ? v : NULL, def->n_tags, s);
}

int main(void) {
  pmx_registry_t *reg;
  if (pmx_registry_new(NULL, &reg) != PMX_OK) return 1;
  static double bounds[HI - LO + 1];
  for (int i = LO; i <= HI; i++) bounds[i - LO] = exp2(i / 8.0);
  static const double coarse[] = {0.01, 0.1, 1};
  const char *tags[] = {"kind"};
  pmx_metric_def_t defs[] = {
      {.kind = PMX_DISTRIBUTION, .name = "nh_native_seconds", .measurement = "v", .native = true, .native_schema = 3,
       .description = "Native only."},
      {.kind = PMX_DISTRIBUTION, .name = "nh_classic_seconds", .measurement = "v", .buckets = bounds,
       .n_buckets = HI - LO + 1, .exemplar_key = "trace_id", .description = "Classic, on the schema-3 bounds."},
      {.kind = PMX_DISTRIBUTION, .name = "nh_both_seconds", .measurement = "v", .native = true, .native_schema = 3,
       .buckets = coarse, .n_buckets = 3, .tags = tags, .n_tags = 1, .exemplar_key = "trace_id",
       .description = "Native and classic."},
      {.kind = PMX_COUNTER, .name = "nh_requests_total", .measurement = "v", .tags = tags, .n_tags = 1,
       .exemplar_key = "trace_id", .description = "A counter."},
      {.kind = PMX_LAST_VALUE, .name = "nh_temperature", .measurement = "v", .description = "A gauge."},
      {.kind = PMX_SUM, .name = "nh_bytes_total", .measurement = "v", .description = "A counter sum."},
      {.kind = PMX_SUM, .name = "nh_level", .measurement = "v", .sum_as_gauge = true, .description = "A gauge sum."},
  };
  pmx_series_t *s[7];
  for (int i = 0; i < 7; i++) {
    if (define(reg, &defs[i], &s[i]) != PMX_OK) return 1;
  }
  static double vals[N];
  uint64_t x = 0x9E3779B97F4A7C15ull;
  for (int i = 0; i < N; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    /* log-uniform over 1 ms .. 1 s, inside the classic twin's range */
    vals[i] = exp2(-10.0 + 10.0 * (double)(x >> 11) / 9007199254740992.0);
    pmx_series_observe(s[0], vals[i]);
    if (i % 100 == 0) {
      pmx_series_observe_exemplar(s[1], vals[i], "0af7651916cd43dd8448eb211c80319c");
      pmx_series_observe_exemplar(s[2], vals[i], "0af7651916cd43dd8448eb211c80319c");
    } else {
      pmx_series_observe(s[1], vals[i]);
      pmx_series_observe(s[2], vals[i]);
    }
  }
  pmx_series_add_exemplar(s[3], 5, "4bf92f3577b34da6a3ce929d0e0e4736");
  pmx_series_set(s[4], 21.5);
  pmx_series_add(s[5], 1024);
  pmx_series_set(s[6], -3);
  qsort(vals, N, sizeof vals[0], cmp);

  pmx_server_config_t cfg = {.enabled = true, .port = 0, .bind_address = "127.0.0.1"};
  pmx_server_t *srv;
  pmx_error_t err;
  if (pmx_server_start(&cfg, scrape, reg, &srv, &err) != PMX_OK) {
    fprintf(stderr, "server: %s\n", err.text);
    return 1;
  }
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  /* Exact quantiles by Prometheus' rank definition: the value at rank q * N. */
  printf("%u\n%.17g %.17g %.17g\n", pmx_server_port(srv), vals[(size_t)(0.5 * N) - 1], vals[(size_t)(0.9 * N) - 1],
         vals[(size_t)(0.99 * N) - 1]);
  fflush(stdout);
  while (!g_stop) pause();
  pmx_server_stop(srv);
  pmx_registry_destroy(reg);
  return 0;
}
