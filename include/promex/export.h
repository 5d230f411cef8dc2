/* Symbol visibility for the public API: the library is built with -fvisibility=hidden and only
 * PMX_EXTERN declarations are exported from the shared object. */
#ifndef PROMEX_EXPORT_H
#define PROMEX_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define PMX_EXTERN __attribute__((visibility("default")))
#else
#define PMX_EXTERN
#endif

#endif
