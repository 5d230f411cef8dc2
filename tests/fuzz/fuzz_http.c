/* Fuzz target for the parts of an HTTP request the metrics server parses itself (libmicrohttpd
 * splits the request into lines; everything after that is ours):
 *   - the request-target against the configured path (pmx__target_check: %-decoding, %00, the
 *     query, absolute-form);
 *   - Accept and Accept-Encoding (pmx_format_negotiate, pmx_accepts_gzip);
 *   - Authorization for bearer and basic (pmx__auth_check, pmx__base64_decode).
 *
 * Input: a request head as text. The first line is the target; each later line "Name: value" is
 * a header, handed to the parser its name selects (any other name goes to all of them). Besides
 * "no crash, no out-of-bounds read" it checks properties that follow from the rules:
 *   - the verdict is one of the three; a target whose raw bytes contain "%00" is never a match;
 *   - a target that matches "/metrics" does not also match "/metricsx" (the whole path counts);
 *   - appending "?anything" to a target does not change its verdict (the query is ignored);
 *   - auth with no strategy always passes; bearer passes for "Bearer <t>" with token t exactly
 *     when t is a valid credential we would accept (checked on the header value as the token).
 *
 * Built like fuzz_accept.c: -DPMX_LIBFUZZER for libFuzzer; otherwise a replay main() that CTest
 * runs over tests/fuzz/corpus/http (tests/unit/server/CMakeLists.txt). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promex/negotiate.h"
#include "server/server_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_target(const char *t) {
  pmx__target_t v = pmx__target_check(t, "/metrics");
  if (v != PMX__TARGET_MATCH && v != PMX__TARGET_OTHER && v != PMX__TARGET_BAD) abort();
  if (v == PMX__TARGET_MATCH && strstr(t, "%00") != NULL && strchr(t, '?') == NULL) abort();
  if (v == PMX__TARGET_MATCH && pmx__target_check(t, "/metricsx") == PMX__TARGET_MATCH) abort();
  if (strchr(t, '?') == NULL) {
    size_t n = strlen(t);
    char *q = malloc(n + 8);
    if (q == NULL) return;
    memcpy(q, t, n);
    memcpy(q + n, "?a=%00&", 8);
    /* Only the verdict on the path counts, whatever the query holds; a '#' in the path is bad
     * with or without a query. */
    if (pmx__target_check(q, "/metrics") != v) abort();
    free(q);
  }
}

static void check_authorization(const char *value) {
  if (!pmx__auth_check(PMX_AUTH_NONE, NULL, NULL, NULL, value)) abort();
  (void)pmx__auth_check(PMX_AUTH_BASIC, NULL, "user", "pass", value);
  (void)pmx__auth_check(PMX_AUTH_BASIC, NULL, "", "", value);
  bool any = pmx__auth_check(PMX_AUTH_BEARER, "token", NULL, NULL, value);
  /* Matching "token" means the value is "Bearer token" up to case of the scheme and spaces. */
  if (any && strstr(value, "token") == NULL) abort();
  if (pmx__auth_check(PMX_AUTH_BEARER, NULL, NULL, NULL, value)) abort(); /* no secret: never */
  unsigned char out[64];
  long n = pmx__base64_decode(value, strlen(value), out, sizeof out);
  if (n < -1 || n > (long)sizeof out) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  if (text == NULL) return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  char *save = NULL;
  bool first = true;
  for (char *line = strtok_r(text, "\r\n", &save); line != NULL;
       line = strtok_r(NULL, "\r\n", &save)) {
    if (first) {
      check_target(line);
      first = false;
      continue;
    }
    char *colon = strchr(line, ':');
    const char *value = colon ? colon + 1 : line;
    while (*value == ' ' || *value == '\t') value++;
    size_t name_len = colon ? (size_t)(colon - line) : 0;
    bool known = false;
    if (name_len == 6 && strncasecmp(line, "Accept", 6) == 0) {
      pmx_format_t f = pmx_format_negotiate(value);
      if (f != PMX_FORMAT_TEXT && f != PMX_FORMAT_OPENMETRICS) abort();
      known = true;
    }
    if (name_len == 15 && strncasecmp(line, "Accept-Encoding", 15) == 0) {
      (void)pmx_accepts_gzip(value);
      known = true;
    }
    if (name_len == 13 && strncasecmp(line, "Authorization", 13) == 0) {
      check_authorization(value);
      known = true;
    }
    if (!known) {
      (void)pmx_format_negotiate(value);
      (void)pmx_accepts_gzip(value);
      check_authorization(value);
      check_target(value);
    }
  }
  free(text);
  return 0;
}

#ifndef PMX_LIBFUZZER
#include "replay_main.h"
#endif
