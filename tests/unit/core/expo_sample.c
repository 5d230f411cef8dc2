/* Prints an exposition that uses every metric type, label values with quotes, backslashes,
 * newlines and UTF-8, and NaN/+Inf/-Inf values, in the format given as argv[1] ("text" or
 * "openmetrics"). check_promtool.sh feeds it to `promtool check metrics`. Every metric name follows
 * Prometheus conventions, so promtool must find nothing to say. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "promex/promex.h"

static int check(int rc, const char *what) {
  if (rc != PMX_OK) fprintf(stderr, "expo_sample: %s: %s\n", what, pmx_strerror(rc));
  return rc;
}

int main(int argc, char **argv) {
  pmx_format_t fmt = argc > 1 && strcmp(argv[1], "openmetrics") == 0 ? PMX_FORMAT_OPENMETRICS : PMX_FORMAT_TEXT;
  pmx_registry_t *reg;
  pmx_bus_t *bus;
  if (check(pmx_registry_new(NULL, &reg), "registry") || check(pmx_bus_new(&bus), "bus")) return 1;

  static const char *const http_tags[] = {"method", "path"};
  static const double buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  const pmx_metric_def_t defs[] = {
      {.kind = PMX_COUNTER, .name = "sample.http.requests_total", .event_name = "sample.http.stop",
       .tags = http_tags, .n_tags = 2, .description = "HTTP requests handled.\nSecond line with a \\ backslash."},
      {.kind = PMX_SUM, .name = "sample.http.response_size_bytes_total", .event_name = "sample.http.stop",
       .measurement = "size", .tags = http_tags, .n_tags = 2, .description = "Bytes sent in responses."},
      {.kind = PMX_LAST_VALUE, .name = "sample.queue.depth", .event_name = "sample.queue",
       .measurement = "depth", .description = "Jobs waiting \"right now\"."},
      {.kind = PMX_DISTRIBUTION, .name = "sample.http.request.duration.seconds", .event_name = "sample.http.stop",
       .measurement = "duration", .unit_from = PMX_UNIT_NATIVE, .unit_to = PMX_UNIT_SECOND,
       .tags = http_tags, .n_tags = 2, .buckets = buckets, .n_buckets = 11,
       .description = "Time to answer HTTP requests."},
  };
  for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++) {
    pmx_metric_t *m;
    pmx_error_t err;
    if (pmx_metric_define(reg, &defs[i], &m, &err) != PMX_OK) {
      fprintf(stderr, "expo_sample: %s\n", err.text);
      return 1;
    }
    if (check(pmx_metric_attach(m, bus, &err), "attach")) return 1;
  }
  static const char *const paths[] = {"/plain", "/with \"quotes\"", "/back\\slash", "/new\nline",
                                      "/utf8/\xc3\xa9t\xc3\xa9/\xe2\x82\xac/\xf0\x9f\x9a\x80", ""};
  pmx_event_t *stop;
  if (check(pmx_bus_event(bus, "sample.http.stop", &stop), "event")) return 1;
  for (int i = 0; i < 600; i++) {
    pmx_meta_t md[] = {PMX_META_S("method", i % 2 ? "GET" : "POST"), PMX_META_S("path", paths[i % 6])};
    pmx_measurement_t ms[] = {{"duration", 1e5 * (i % 100)}, {"size", (double)(i * 7)}};
    pmx_emit(stop, ms, 2, md, 2);
  }
  /* Gauges: a NaN and the infinities in their own families. */
  static const char *const which_tag[] = {"which"};
  pmx_metric_def_t special = {.kind = PMX_LAST_VALUE, .name = "sample_special_values", .tags = which_tag,
                              .n_tags = 1, .description = "NaN and infinities."};
  pmx_metric_t *sm;
  if (check(pmx_metric_define(reg, &special, &sm, NULL), "special")) return 1;
  const char *names[] = {"nan", "pos_inf", "neg_inf", "tiny", "huge"};
  double vals[] = {NAN, INFINITY, -INFINITY, 1e-300, 1.7976931348623157e308};
  for (int i = 0; i < 5; i++) {
    pmx_series_t *s;
    const char *v[] = {names[i]};
    if (check(pmx_metric_labels(sm, v, 1, &s), "labels") || check(pmx_series_set(s, vals[i]), "set")) return 1;
  }
  pmx_emit_name(bus, "sample.queue", (pmx_measurement_t[]){{"depth", 3}}, 1, NULL, 0);
  /* Issue 8 edges: a histogram with negative bounds (no _sum/_count in OpenMetrics) and a counter
   * whose total passes 2^63 (must not wrap negative). */
  static const double delta_b[] = {-1, 0, 1};
  pmx_metric_def_t delta = {.kind = PMX_DISTRIBUTION, .name = "sample_temperature_delta_celsius",
                            .buckets = delta_b, .n_buckets = 3, .description = "Temperature changes."};
  pmx_metric_def_t big = {.kind = PMX_SUM, .name = "sample_big_bytes_total", .description = "1101 adds of 9e15."};
  pmx_metric_t *dm, *bm;
  pmx_series_t *ds, *bs;
  if (check(pmx_metric_define(reg, &delta, &dm, NULL), "delta") || check(pmx_metric_labels(dm, NULL, 0, &ds), "labels") ||
      check(pmx_metric_define(reg, &big, &bm, NULL), "big") || check(pmx_metric_labels(bm, NULL, 0, &bs), "labels")) {
    return 1;
  }
  pmx_series_observe(ds, -2.5);
  pmx_series_observe(ds, 0.5);
  for (int i = 0; i < 1101; i++) pmx_series_add(bs, 9e15);

  pmx_buf_t buf = {0};
  if (check(pmx_render(reg, fmt, &buf), "render")) return 1;
  fwrite(buf.data, 1, buf.len, stdout);
  pmx_buf_free(&buf);
  pmx_registry_destroy(reg);
  pmx_bus_destroy(bus);
  return 0;
}
