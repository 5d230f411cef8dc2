/* Fuzz target for the scrape negotiation parsers: pmx_format_negotiate() (Accept) and
 * pmx_accepts_gzip() (Accept-Encoding) on arbitrary bytes must return a valid answer without
 * crashing or reading out of bounds, and must respect two monotonicity properties that follow
 * from "the most specific range decides, the higher q wins among equals":
 *   - appending ",application/openmetrics-text;version=1.0.0;q=0" never turns text into OpenMetrics;
 *   - appending the protobuf range with q=0 never turns a text format into protobuf;
 *   - appending ",gzip;q=0" never turns "no gzip" into gzip.
 *
 * Built two ways:
 *   -DPMX_LIBFUZZER  libFuzzer entry point only (clang -fsanitize=fuzzer,address);
 *   otherwise        also a main() that replays the files named on argv, so that CTest runs the
 *                    seed corpus tests/fuzz/corpus/accept on every build
 *                    (tests/unit/server/CMakeLists.txt). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promex/negotiate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char OM_Q0[] = ",application/openmetrics-text;version=1.0.0;q=0";
static const char GZIP_Q0[] = ",gzip;q=0";
static const char PB_Q0[] = ",application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* Header values are C strings: a NUL-terminated copy with room for the suffixes. */
  size_t extra = sizeof PB_Q0; /* the longest suffix */
  char *text = malloc(size + extra);
  if (text == NULL) return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  size_t len = strlen(text); /* embedded NULs end the header early, as in HTTP parsers */

  pmx_format_t fmt = pmx_format_negotiate(text);
  if (fmt != PMX_FORMAT_TEXT && fmt != PMX_FORMAT_OPENMETRICS && fmt != PMX_FORMAT_PROTOBUF) abort();
  bool gz = pmx_accepts_gzip(text);
  if (pmx_format_content_type(fmt) == NULL) abort();

  memcpy(text + len, OM_Q0, sizeof OM_Q0);
  if (fmt == PMX_FORMAT_TEXT && pmx_format_negotiate(text) != PMX_FORMAT_TEXT) abort();
  memcpy(text + len, PB_Q0, sizeof PB_Q0);
  if (fmt != PMX_FORMAT_PROTOBUF && pmx_format_negotiate(text) == PMX_FORMAT_PROTOBUF) abort();
  memcpy(text + len, GZIP_Q0, sizeof GZIP_Q0);
  if (!gz && pmx_accepts_gzip(text)) abort();
  free(text);
  return 0;
}

#ifndef PMX_LIBFUZZER
#include "replay_main.h"
#endif
