/* This file is private to promex: declarations shared between source files (pmx__ prefix).
 * Nothing here is API. */
#ifndef PMX_INTERNAL_H
#define PMX_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "promex/error.h"

#if defined(__GNUC__)
#define PMX_LIKELY(x) __builtin_expect(!!(x), 1)
#define PMX_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define PMX_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define PMX_LIKELY(x) (x)
#define PMX_UNLIKELY(x) (x)
#define PMX_PRINTF(a, b)
#endif

#define PMX_CACHELINE 64

/* Built with ThreadSanitizer (GCC defines __SANITIZE_THREAD__, clang answers __has_feature):
 * PMX_TSAN is 1, and PMX_NO_SANITIZE_THREAD keeps a function's memory accesses out of its
 * reports (for reads whose racing bytes never decide a result). */
#if defined(__SANITIZE_THREAD__)
#define PMX_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define PMX_TSAN 1
#endif
#endif
#ifdef PMX_TSAN
#define PMX_NO_SANITIZE_THREAD __attribute__((no_sanitize_thread))
#else
#define PMX_TSAN 0
#define PMX_NO_SANITIZE_THREAD
#endif

/* Thread-locals read on update paths: the initial-exec model makes each read one %fs-relative
 * load instead of a __tls_get_addr call in the shared library (glibc keeps spare static TLS for
 * libraries loaded later with dlopen, and promex's few bytes fit in it). */
#if defined(__GNUC__) && defined(__ELF__)
#define PMX_TLS_FAST __attribute__((tls_model("initial-exec")))
#else
#define PMX_TLS_FAST
#endif

/* Fills `err` (may be NULL) with code, source and a printf-style message; returns `code` so that
 * callers can write `return pmx__fail(err, PMX_EINVAL, name, "...")`. */
int pmx__fail(pmx_error_t *err, int code, const char *source, const char *fmt, ...) PMX_PRINTF(4, 5);
int pmx__vfail(pmx_error_t *err, int code, const char *source, const char *fmt, va_list ap);

/* True when the calling thread is inside a handler run by an emit on `bus` (src/core/event_bus.c):
 * operations that wait for handlers to finish must refuse (PMX_EBUSY) rather than deadlock. */
struct pmx_bus;
bool pmx__inside_handler(const struct pmx_bus *bus);
/* Holds / releases the bus's event table lock across fork (the runtime's fork handlers), so a
 * forked child never inherits it held by a thread that does not exist in the child. The table
 * lock is never held while waiting, so holding it here delays other threads briefly only. */
void pmx__bus_fork_lock(struct pmx_bus *bus);
void pmx__bus_fork_unlock(struct pmx_bus *bus);

/* 32-bit FNV-1a of a string: stable across runs and builds, used to shorten derived uids. */
uint32_t pmx__fnv1a32(const char *s);

/* The allocator hook (src/core/alloc.c, promex/alloc.h). Every allocation in src/ and plugins/
 * goes through these, never through malloc & co directly (the ctest no_direct_allocation checks
 * it). pmx__realloc(NULL, n) is pmx__malloc(n); pmx__free(NULL) is a no-op. */
void *pmx__malloc(size_t n);
void *pmx__calloc(size_t count, size_t size);
void *pmx__realloc(void *p, size_t n);
void pmx__free(void *p);
/* strdup / strndup through the hook; NULL for NULL. */
char *pmx__strdup(const char *s);
char *pmx__strndup(const char *s, size_t max);

/* snprintf into a fixed buffer, always NUL-terminated, truncating. */
void pmx__strlcpy(char *dst, const char *src, size_t cap);

#endif

/* ---- Output buffers (src/core/buf.c) ---- */
#include <stdbool.h>
#include "promex/expo.h"
/* Makes room for `extra` more bytes. PMX_OK, PMX_ENOMEM, or PMX_ELIMIT for a fixed buffer (which
 * then records the overflow so pmx_buf reports the needed size). */
int pmx__buf_reserve(pmx_buf_t *b, size_t extra);
int pmx__buf_append(pmx_buf_t *b, const void *data, size_t len);
int pmx__buf_appendf(pmx_buf_t *b, const char *fmt, ...) PMX_PRINTF(2, 3);
/* Appends a NUL without counting it in len (for callers that want a C string). */
int pmx__buf_append_nul(pmx_buf_t *b);
