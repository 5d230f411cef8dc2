/* Fuzz target for the INI config loader: pmx_config_parse() on arbitrary bytes must either succeed
 * or fail with a PMX_E* code and a NUL-terminated message, without crashing or leaking.
 *
 * Built two ways:
 *   -DPMX_LIBFUZZER  libFuzzer entry point only (clang -fsanitize=fuzzer,address);
 *   otherwise        also a main() that replays the files named on argv, so that CTest runs the
 *                    seed corpus on every build (tests/unit/config/CMakeLists.txt). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promex/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const pmx_plugin_t fuzz_process = {PMX_PLUGIN_ABI, "process", NULL, NULL, NULL, {0}};
static const pmx_plugin_t fuzz_http = {PMX_PLUGIN_ABI, "http_server", NULL, NULL, NULL, {0}};
static const pmx_plugin_t fuzz_old = {PMX_PLUGIN_ABI + 1, "old", NULL, NULL, NULL, {0}};
static const pmx_plugin_t *const fuzz_known[] = {&fuzz_process, &fuzz_http, &fuzz_old};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* The parser takes a C string: give it a NUL-terminated copy (embedded NULs end it early). */
  char *text = malloc(size + 1);
  if (text == NULL) return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  pmx_config_file_t *cf = NULL;
  pmx_error_t err;
  int rc = pmx_config_parse(text, "fuzz.ini", fuzz_known, 3, &cf, &err);
  if (rc == PMX_OK) {
    const pmx_config_t *cfg = pmx_config_file_config(cf);
    /* A loaded config has passed validation; validating it again must agree. */
    if (cfg == NULL || pmx_config_validate(cfg, &err) != PMX_OK) abort();
    pmx_config_file_free(cf);
  } else if (cf != NULL || err.code != rc || memchr(err.text, '\0', sizeof err.text) == NULL) {
    abort();
  }
  free(text);
  return 0;
}

#ifndef PMX_LIBFUZZER
#include "replay_main.h"
#endif
