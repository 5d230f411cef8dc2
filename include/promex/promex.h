/* promex: PromEx for C. The umbrella header.
 *
 * Only the headers under include/promex/ are API; everything in src/ is private and may change.
 * Conventions: functions return PMX_OK (0) or a negative PMX_E* code (error.h) and never abort the
 * host program; constructors write an owned object to *out; destroy functions accept NULL; every
 * function's comment states ownership of its arguments and results and its thread-safety. */
#ifndef PROMEX_PROMEX_H
#define PROMEX_PROMEX_H

#include "promex/alloc.h"
#include "promex/buckets.h"
#include "promex/config.h"
#include "promex/error.h"
#include "promex/event.h"
#include "promex/expo.h"
#include "promex/export.h"
#include "promex/metric.h"
#include "promex/plugin.h"
#include "promex/runtime.h"
#include "promex/server.h"
#include "promex/shared.h"
#include "promex/version.h"

#ifdef __cplusplus
extern "C" {
#endif

/* PMX_VERSION_NUM of the library actually linked (compare with the header's). */
PMX_EXTERN unsigned pmx_version_num(void);
/* PMX_VERSION_STRING of the linked library. Static storage. */
PMX_EXTERN const char *pmx_version_string(void);

/* The first-party plugins this library was built with (application, process, os, ...), in a
 * static NULL-terminated array; *n (optional) receives the count. */
PMX_EXTERN const pmx_plugin_t *const *pmx_first_party_plugins(size_t *n);

/* Finds a first-party plugin by name; NULL if none. */
PMX_EXTERN const pmx_plugin_t *pmx_first_party_plugin(const char *name);

#ifdef __cplusplus
}
#endif
#endif
