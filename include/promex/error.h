/* Status codes and error details shared by every promex function.
 *
 * Every public function that can fail returns an int: PMX_OK (0) on success or a negative
 * PMX_E* code. Codes are never renumbered; new ones are only appended. Functions that can say
 * more than a code (definitions, parsers, renderers) also fill a caller-owned pmx_error_t. */
#ifndef PROMEX_ERROR_H
#define PROMEX_ERROR_H

#include <stddef.h>

#include "promex/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* X-macro: name, value, default message. */
#define PMX_STATUS_MAP(XX)                                                              \
  XX(EINVAL, -1, "invalid argument; nothing was changed")                               \
  XX(ENOMEM, -2, "out of memory; state is unchanged")                                   \
  XX(ELIMIT, -3, "a configured limit was reached; the sample was counted, not stored")  \
  XX(ESTOPPED, -4, "promex is not running")                                             \
  XX(EABI, -5, "plugin built for another plugin ABI")                                   \
  XX(EEXIST, -6, "an object with that identifier already exists")                       \
  XX(ENOENT, -7, "no such object")                                                      \
  XX(ENAME, -8, "invalid metric or label name")                                         \
  XX(EUNIT, -9, "invalid unit conversion")                                              \
  XX(ETYPE, -10, "operation does not match the metric type")                            \
  XX(ENOTSUP, -11, "not supported")                                                     \
  XX(EBUSY, -12, "not allowed from inside an event handler")                            \
  XX(EIO, -13, "input/output error")                                                    \
  XX(ECONFIG, -14, "invalid configuration")                                             \
  XX(ESTATE, -15, "operation not valid in the current state")                           \
  XX(EHTTP, -16, "HTTP request failed")                                                 \
  XX(ETIMEDOUT, -17, "operation timed out")                                             \
  XX(EPARSE, -18, "parse error")                                                        \
  XX(ESYS, -19, "system call failed")

typedef enum pmx_status {
  PMX_OK = 0,
#define PMX__STATUS_ENUM(name, val, msg) PMX_##name = (val),
  PMX_STATUS_MAP(PMX__STATUS_ENUM)
#undef PMX__STATUS_ENUM
} pmx_status_t;

/* Human-readable description of a status code. Never NULL; static storage; thread-safe. */
PMX_EXTERN const char *pmx_strerror(int status);
/* Symbolic name ("PMX_EINVAL") of a status code. Never NULL; static storage; thread-safe. */
PMX_EXTERN const char *pmx_err_name(int status);

/* Details of a failure, filled by functions that take a `pmx_error_t *err` argument (which may
 * always be NULL). Caller-owned, normally on the stack. On success it is left untouched. */
typedef struct pmx_error {
  int code;          /* the PMX_E* code also returned */
  int line;          /* 1-based line in `source`, 0 if not applicable */
  int column;        /* 1-based column, 0 if not applicable */
  char source[256];  /* file, metric or object the error is about; may be empty */
  char text[512];    /* complete message, NUL-terminated, e.g. "metric \"a b\": name ..." */
} pmx_error_t;

#ifdef __cplusplus
}
#endif
#endif
