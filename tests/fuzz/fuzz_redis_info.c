/* Fuzz harness for redis_stats' INFO and connection-string parsers
 * (plugins/redis_stats/redis_info.c): arbitrary bytes as an INFO reply and as a conn option.
 * Invariants checked: no crash or out-of-bounds access (ASan), every field has a non-empty key
 * without ':' or line ends, the field count stays within PMX__REDIS_MAX_FIELDS, and a parsed
 * connection string has a host or a socket path and a valid port. Built as a libFuzzer target
 * with -DPMX_BUILD_FUZZ=ON and clang (tests/unit/redis_stats/CMakeLists.txt), and as a replay
 * program over tests/fuzz/corpus/redis_info and the unit fixtures in ctest
 * (fuzz_redis_info_replay). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "redis_info.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  if (text == NULL) return 0;
  memcpy(text, data, size);
  pmx__redis_info_t info = {0};
  if (pmx__redis_info_parse(text, size, &info) == 0) {
    if (info.n > PMX__REDIS_MAX_FIELDS) abort();
    for (size_t i = 0; i < info.n; i++) {
      const pmx__redis_field_t *f = &info.f[i];
      if (f->key[0] == '\0' || strpbrk(f->key, ":\r\n") != NULL) abort();
      if (strchr(f->value, '\n') != NULL) abort();
      double v;
      char buf[64];
      (void)pmx__redis_number(f->value, &v);
      (void)pmx__redis_sub_number(f->value, "keys", &v);
      (void)pmx__redis_sub_str(f->value, "ip", buf, sizeof buf);
    }
    if (info.n > 0 && pmx__redis_info_get(&info, info.f[0].key) != info.f[0].value) abort();
  }
  pmx__redis_info_free(&info);
  /* The same bytes as a connection string (up to the first NUL). */
  memcpy(text, data, size);
  text[size] = '\0';
  pmx__redis_target_t t;
  char err[128];
  if (pmx__redis_url_parse(text, &t, err, sizeof err) == 0) {
    if (t.host[0] == '\0' && t.unix_path[0] == '\0') abort();
    if (t.port < 1 || t.port > 65535) abort();
  }
  free(text);
  return 0;
}

#ifndef PMX_LIBFUZZER
#include "replay_main.h"
#endif
