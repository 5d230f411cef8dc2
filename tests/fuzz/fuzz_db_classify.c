/* Fuzz target for the db plugin's SQL classifier: pmx_db_classify() on arbitrary bytes (not
 * NUL-terminated, exact-size buffer) must never crash or read past the input, and its answer must
 * always be a usable label: a non-empty NUL-terminated command from the known set or
 * "unavailable", and a source of 1-63 printable ASCII bytes without quotes or backslashes.
 *
 * Built as a libFuzzer target (tests/fuzz/CMakeLists.txt, -DPMX_BUILD_FUZZ=ON with clang) and as a
 * replay program run by CTest over tests/fuzz/corpus/db_classify (tests/unit/db). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promex/plugins/db.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_label(const char *s, size_t cap, const char *what) {
  size_t n = strnlen(s, cap);
  if (n == 0 || n == cap) {
    fprintf(stderr, "%s is empty or not terminated\n", what);
    abort();
  }
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '`') {
      fprintf(stderr, "%s has a forbidden byte 0x%02x\n", what, c);
      abort();
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  pmx_db_class_t c;
  memset(&c, 0x5a, sizeof c); /* garbage in: the classifier must overwrite it */
  pmx_db_classify((const char *)data, size, &c);
  check_label(c.command, sizeof c.command, "command");
  check_label(c.source, sizeof c.source, "source");
  for (const char *p = c.command; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || *p == '_')) abort(); /* commands are lower-case words */
  /* Classifying a prefix must not crash either (statements cut at a buffer boundary). */
  pmx_db_classify((const char *)data, size / 2, &c);
  return 0;
}

#ifndef PMX_LIBFUZZER
#include "replay_main.h"
#endif
