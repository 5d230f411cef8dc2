/* Unit tests for the protobuf exposition (src/core/expo_proto.c, pb_writer.c), decoded by an
 * independent decoder: protoc --decode with client_model's metrics.proto as Debian ships it.
 * Every kind is checked field by field (counter, counter sum, gauge, gauge sum, classic
 * histogram, native-only and native-with-classic histograms, exemplars on counters and buckets,
 * labels with characters text escapes, the registry's own families); a round trip of random native
 * histograms rebuilds the buckets from spans and deltas; a fixed buffer too small reports the
 * size needed. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "core_test_util.h"
#include "promex/promex.h"

#define PROTO_DIR "/usr/share/gocode/src/github.com/prometheus/client_model/io/prometheus/client"

/* Splits a delimited stream into records and decodes each with protoc; returns the decoded text
 * of all records, each followed by "----\n" (malloc'd). */
static char *decode_all(const char *data, size_t len, size_t *n_records) {
  char dir[] = "/tmp/pmx_pb_XXXXXX";
  assert_non_null(mkdtemp(dir));
  size_t cap = 1 << 20, used = 0;
  char *out = malloc(cap);
  assert_non_null(out);
  size_t pos = 0, n = 0;
  while (pos < len) {
    uint64_t rl = 0;
    int shift = 0;
    for (;;) {
      assert_true(pos < len);
      unsigned char c = (unsigned char)data[pos++];
      rl |= (uint64_t)(c & 0x7f) << shift;
      shift += 7;
      if (!(c & 0x80)) break;
    }
    assert_true(pos + rl <= len);
    char path[64], cmd[512];
    snprintf(path, sizeof path, "%s/rec", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data + pos, 1, rl, f), rl);
    fclose(f);
    snprintf(cmd, sizeof cmd,
             "protoc -I" PROTO_DIR " -I/usr/include --decode=io.prometheus.client.MetricFamily metrics.proto < %s 2>&1",
             path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t got;
    while ((got = fread(out + used, 1, cap - used - 8, p)) > 0) {
      used += got;
      if (cap - used < 4096) {
        cap *= 2;
        out = realloc(out, cap);
        assert_non_null(out);
      }
    }
    assert_int_equal(pclose(p), 0);
    memcpy(out + used, "----\n", 6);
    used += 5;
    pos += rl;
    n++;
    unlink(path);
  }
  rmdir(dir);
  out[used] = '\0';
  *n_records = n;
  return out;
}

static char *render_decoded(pmx_registry_t *reg, size_t *n_records) {
  pmx_buf_t buf = {0};
  assert_int_equal(pmx_render(reg, PMX_FORMAT_PROTOBUF, &buf), PMX_OK);
  char *text = decode_all(buf.data, buf.len, n_records);
  pmx_buf_free(&buf);
  return text;
}

/* The decoded record of family `name` (between separators); NULL if absent. */
static char *family(const char *all, const char *name) {
  char key[300];
  snprintf(key, sizeof key, "name: \"%s\"\n", name);
  const char *p = strstr(all, key);
  if (p == NULL) return NULL;
  while (p > all && strncmp(p - 5, "----\n", 5) != 0) p--;
  const char *e = strstr(p, "----\n");
  char *r = strndup(p, (size_t)(e - p));
  assert_non_null(r);
  return r;
}

/* Whether `text` contains the lines of `block` in order (indentation ignored). */
static bool has_seq(const char *text, const char *block) {
  const char *at = text;
  char *copy = strdup(block);
  bool ok = true;
  for (char *line = strtok(copy, "\n"); line && ok; line = strtok(NULL, "\n")) {
    while (*line == ' ') line++;
    const char *f = strstr(at, line);
    if (f == NULL) ok = false; else at = f + strlen(line);
  }
  free(copy);
  return ok;
}

static void test_protobuf_every_kind(void **state) {
  (void)state;
  pmx_registry_t *reg;
  assert_int_equal(pmx_registry_new(NULL, &reg), PMX_OK);
  const char *tags[] = {"path"};
  const double bounds[] = {0.5, 1};
  pmx_metric_def_t defs[] = {
      {.kind = PMX_COUNTER, .name = "req_total", .description = "Requests.", .tags = tags, .n_tags = 1, .exemplar_key = "trace_id"},
      {.kind = PMX_SUM, .name = "bytes_total", .measurement = "b"},
      {.kind = PMX_LAST_VALUE, .name = "temp", .measurement = "t"},
      {.kind = PMX_SUM, .name = "level", .measurement = "l", .sum_as_gauge = true},
      {.kind = PMX_DISTRIBUTION, .name = "classic", .measurement = "d", .buckets = bounds, .n_buckets = 2, .exemplar_key = "trace_id"},
      {.kind = PMX_DISTRIBUTION, .name = "native_only", .measurement = "d", .native = true, .native_schema = 0},
      {.kind = PMX_DISTRIBUTION, .name = "both", .measurement = "d", .native = true, .native_schema = 1, .buckets = bounds, .n_buckets = 2},
  };
  pmx_metric_t *m[7];
  for (int i = 0; i < 7; i++) assert_int_equal(pmx_metric_define(reg, &defs[i], &m[i], NULL), PMX_OK);
  pmx_series_t *s;
  const char *path[] = {"/a \"q\"\n\\"};
  assert_int_equal(pmx_metric_labels(m[0], path, 1, &s), PMX_OK);
  assert_int_equal(pmx_series_add_exemplar(s, 3, "abc123"), PMX_OK);
  assert_int_equal(pmx_metric_labels(m[1], NULL, 0, &s), PMX_OK);
  pmx_series_add(s, 1.5);
  assert_int_equal(pmx_metric_labels(m[2], NULL, 0, &s), PMX_OK);
  pmx_series_set(s, -2.25);
  assert_int_equal(pmx_metric_labels(m[3], NULL, 0, &s), PMX_OK);
  pmx_series_set(s, 7);
  assert_int_equal(pmx_metric_labels(m[4], NULL, 0, &s), PMX_OK);
  pmx_series_observe(s, 0.25);
  assert_int_equal(pmx_series_observe_exemplar(s, 0.75, "t2"), PMX_OK);
  pmx_series_observe(s, 5);
  assert_int_equal(pmx_metric_labels(m[5], NULL, 0, &s), PMX_OK);
  pmx_series_observe(s, 1);
  pmx_series_observe(s, 2);
  pmx_series_observe(s, 64); /* bucket 6: a gap of three empty buckets starts a new span */
  pmx_series_observe(s, -0.75);
  pmx_series_observe(s, 0);
  pmx_metric_labels(m[6], NULL, 0, &s);
  pmx_metric_t *empty = m[6]; /* "both" stays empty: still a native histogram */
  (void)empty;

  size_t n;
  char *all = render_decoded(reg, &n);
  assert_int_equal(n, 7 + 3); /* the families, then the three own ones */
  char *f = family(all, "req_total");
  assert_non_null(f);
  assert_true(has_seq(f, "help: \"Requests.\"\ntype: COUNTER\nmetric {\nlabel {\nname: \"path\"\n"
                         "value: \"/a \\\"q\\\"\\n\\\\\"\n}\ncounter {\nvalue: 3\nexemplar {\nlabel {\n"
                         "name: \"trace_id\"\nvalue: \"abc123\"\n}\nvalue: 3\ntimestamp {\nseconds: "));
  free(f);
  f = family(all, "bytes_total");
  assert_true(has_seq(f, "type: COUNTER\nmetric {\ncounter {\nvalue: 1.5"));
  free(f);
  f = family(all, "temp");
  assert_true(has_seq(f, "type: GAUGE\nmetric {\ngauge {\nvalue: -2.25"));
  free(f);
  f = family(all, "level");
  assert_true(has_seq(f, "type: GAUGE\nmetric {\ngauge {\nvalue: 7"));
  free(f);
  f = family(all, "classic");
  assert_true(has_seq(f, "type: HISTOGRAM\nhistogram {\nsample_count: 3\nsample_sum: 6\nbucket {\n"
                         "cumulative_count: 1\nupper_bound: 0.5\n}\nbucket {\ncumulative_count: 2\n"
                         "upper_bound: 1\nexemplar {\nlabel {\nname: \"trace_id\"\nvalue: \"t2\"\n}\nvalue: 0.75"));
  assert_null(strstr(f, "schema"));
  free(f);
  f = family(all, "native_only");
  /* Positive: 1 -> 0, 2 -> 1, then 64 -> 6 after three empty buckets; negative 0.75 -> 0. */
  assert_true(has_seq(f, "histogram {\nsample_count: 5\nsample_sum: 66.25\nschema: 0\n"
                         "zero_threshold: 2.9387358770557188e-39\nzero_count: 1\n"
                         "negative_span {\noffset: 0\nlength: 1\n}\nnegative_delta: 1\n"
                         "positive_span {\noffset: 0\nlength: 2\n}\npositive_span {\noffset: 4\nlength: 1\n}\n"
                         "positive_delta: 1\npositive_delta: 0\npositive_delta: 0"));
  assert_null(strstr(f, "bucket {"));
  free(f);
  f = family(all, "both");
  assert_true(has_seq(f, "sample_count: 0\nsample_sum: 0\nbucket {\ncumulative_count: 0\nupper_bound: 0.5\n}\n"
                         "bucket {\ncumulative_count: 0\nupper_bound: 1\n}\nschema: 1\nzero_threshold:"));
  assert_true(has_seq(f, "positive_span {\noffset: 0\nlength: 0\n}"));
  free(f);
  f = family(all, "promex_metric_series");
  assert_true(has_seq(f, "type: GAUGE\nmetric {\nlabel {\nname: \"metric\"\nvalue: \"req_total\"\n}\ngauge {\nvalue: 1"));
  free(f);
  assert_non_null((f = family(all, "promex_series_dropped_total")));
  assert_true(has_seq(f, "type: COUNTER"));
  free(f);
  assert_non_null((f = family(all, "promex_events_skipped_total")));
  free(f);
  free(all);
  pmx_registry_destroy(reg);
}

/* Random native histograms survive encode + protoc decode: the buckets rebuilt from spans and
 * deltas are the snapshot's. */
static void test_protobuf_native_round_trip(void **state) {
  (void)state;
  uint64_t x = 0x2545F4914F6CDD1Dull;
  for (int round = 0; round < 12; round++) {
    pmx_registry_t *reg;
    pmx_registry_opts_t o = {.no_own_metrics = true};
    assert_int_equal(pmx_registry_new(&o, &reg), PMX_OK);
    pmx_metric_def_t def = {.kind = PMX_DISTRIBUTION, .name = "rt", .measurement = "v", .native = true,
                            .native_schema = round % 13 - 4, .native_max_buckets = 8 + (size_t)round * 5};
    pmx_metric_t *m;
    assert_int_equal(pmx_metric_define(reg, &def, &m, NULL), PMX_OK);
    pmx_series_t *s;
    pmx_metric_labels(m, NULL, 0, &s);
    for (int i = 0; i < 300; i++) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      double v = ldexp(1.0 + (double)(x & 1023) / 1024.0, (int)((x >> 10) % 24) - 12);
      pmx_series_observe(s, (x >> 40) % 4 == 0 ? -v : v);
    }
    static uint64_t pos[PMX_NATIVE_MAX_BUCKETS], neg[PMX_NATIVE_MAX_BUCKETS];
    pmx_native_snapshot_t ns = {.positive = pos, .negative = neg, .cap = PMX_NATIVE_MAX_BUCKETS};
    assert_int_equal(pmx_series_native(s, &ns), PMX_OK);
    size_t n;
    char *all = render_decoded(reg, &n);
    assert_int_equal(n, 1);
    for (int sign = 0; sign < 2; sign++) {
      const char *pfx = sign ? "negative" : "positive";
      const uint64_t *want = sign ? neg : pos;
      uint64_t rebuilt[PMX_NATIVE_MAX_BUCKETS * 2] = {0};
      /* protoc prints every span, then every delta: first the bucket indexes the spans cover, in
       * order, then the deltas fill them. */
      static int64_t where[PMX_NATIVE_MAX_BUCKETS * 2];
      size_t n_where = 0, filled = 0;
      int64_t idx = 0, count = 0;
      bool first = true;
      char span_key[64], delta_key[64];
      snprintf(span_key, sizeof span_key, "%s_span {", pfx);
      snprintf(delta_key, sizeof delta_key, "%s_delta: ", pfx);
      for (char *line = all; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        while (*line == ' ') line++;
        if (strncmp(line, span_key, strlen(span_key)) == 0) {
          int64_t offset = strtoll(strstr(line, "offset: ") + 8, NULL, 10);
          size_t length = strtoull(strstr(line, "length: ") + 8, NULL, 10);
          idx = first ? offset : idx + offset;
          first = false;
          for (size_t k = 0; k < length; k++) where[n_where++] = idx++;
        } else if (strncmp(line, delta_key, strlen(delta_key)) == 0) {
          assert_true(filled < n_where);
          count += strtoll(line + strlen(delta_key), NULL, 10);
          int64_t slot = where[filled++] - ns.base[sign];
          assert_true(slot >= 0 && slot < (int64_t)ns.len[sign]);
          rebuilt[slot] = (uint64_t)count;
        }
      }
      assert_int_equal(filled, n_where);
      for (size_t j = 0; j < ns.len[sign]; j++) assert_int_equal(rebuilt[j], want[j]);
    }
    char line[64];
    snprintf(line, sizeof line, "schema: %d", ns.schema);
    assert_non_null(strstr(all, line));
    snprintf(line, sizeof line, "sample_count: %llu", (unsigned long long)ns.count);
    assert_non_null(strstr(all, line));
    free(all);
    pmx_registry_destroy(reg);
  }
}

static void test_protobuf_fixed_buffer_and_bad_input(void **state) {
  (void)state;
  pmx_registry_t *reg;
  assert_int_equal(pmx_registry_new(NULL, &reg), PMX_OK);
  pmx_metric_def_t def = {.kind = PMX_DISTRIBUTION, .name = "h", .measurement = "v", .native = true};
  pmx_metric_t *m;
  assert_int_equal(pmx_metric_define(reg, &def, &m, NULL), PMX_OK);
  pmx_series_t *s;
  pmx_metric_labels(m, NULL, 0, &s);
  pmx_series_observe(s, 3);
  pmx_buf_t full = {0};
  assert_int_equal(pmx_render(reg, PMX_FORMAT_PROTOBUF, &full), PMX_OK);
  char small[16];
  pmx_buf_t fixed = {small, 0, sizeof small, true};
  assert_int_equal(pmx_render(reg, PMX_FORMAT_PROTOBUF, &fixed), PMX_ELIMIT);
  assert_int_equal(fixed.len, full.len); /* the size needed */
  char *big = malloc(full.len);
  pmx_buf_t fits = {big, 0, full.len, true};
  assert_int_equal(pmx_render(reg, PMX_FORMAT_PROTOBUF, &fits), PMX_OK);
  assert_memory_equal(big, full.data, full.len);
  free(big);
  assert_int_equal(pmx_render(reg, (pmx_format_t)7, &full), PMX_EINVAL);
  assert_int_equal(pmx_render(NULL, PMX_FORMAT_PROTOBUF, &full), PMX_EINVAL);
  pmx_buf_free(&full);
  pmx_registry_destroy(reg);
}

int main(void) {
  if (system("protoc --version > /dev/null 2>&1") != 0) {
    fprintf(stderr, "protoc not found (package protobuf-compiler): skipping\n");
    return 77;
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_protobuf_every_kind),
      cmocka_unit_test(test_protobuf_native_round_trip),
      cmocka_unit_test(test_protobuf_fixed_buffer_and_bad_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
