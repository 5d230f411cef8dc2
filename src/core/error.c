/* Status code names and messages, generated from PMX_STATUS_MAP so they cannot drift apart; and
 * the small string helpers of internal.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "promex/promex.h"

const char *pmx_strerror(int status) {
  switch (status) {
    case PMX_OK:
      return "success";
#define PMX__STATUS_MSG(name, val, msg) \
  case PMX_##name:                      \
    return msg;
      PMX_STATUS_MAP(PMX__STATUS_MSG)
#undef PMX__STATUS_MSG
    default:
      return "unknown promex status";
  }
}

const char *pmx_err_name(int status) {
  switch (status) {
    case PMX_OK:
      return "PMX_OK";
#define PMX__STATUS_NAME(name, val, msg) \
  case PMX_##name:                       \
    return "PMX_" #name;
      PMX_STATUS_MAP(PMX__STATUS_NAME)
#undef PMX__STATUS_NAME
    default:
      return "PMX_UNKNOWN";
  }
}

int pmx__vfail(pmx_error_t *err, int code, const char *source, const char *fmt, va_list ap) {
  if (err == NULL) return code;
  memset(err, 0, sizeof *err);
  err->code = code;
  if (source != NULL) pmx__strlcpy(err->source, source, sizeof err->source);
  vsnprintf(err->text, sizeof err->text, fmt, ap);
  return code;
}

int pmx__fail(pmx_error_t *err, int code, const char *source, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  pmx__vfail(err, code, source, fmt, ap);
  va_end(ap);
  return code;
}

uint32_t pmx__fnv1a32(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 16777619u;
  }
  return h;
}

void pmx__strlcpy(char *dst, const char *src, size_t cap) {
  if (cap == 0) return;
  size_t n = strlen(src);
  if (n >= cap) n = cap - 1;
  memcpy(dst, src, n);
  dst[n] = '\0';
}

unsigned pmx_version_num(void) { return PMX_VERSION_NUM; }
const char *pmx_version_string(void) { return PMX_VERSION_STRING; }
