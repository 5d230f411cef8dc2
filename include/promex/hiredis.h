/* The hiredis adapter of the redis plugin (promex/plugins/redis.h), in its own library
 * promex_hiredis (pkg-config promex-hiredis) so that libpromex does not depend on hiredis.
 * hiredis (0.14 in Debian 12) has no command hooks, so the adapter wraps the calls; each wrapper
 * behaves exactly like the hiredis function it names (same arguments, same result, same
 * ownership of the reply) and emits the redis.* events around it.
 *
 *   pmx_redis_t *pr;
 *   pmx_redis_new(pmx_bus(p), &pr);                        // once, after pmx_new()
 *   redisContext *c = redisConnect("127.0.0.1", 6379);
 *   pmx_redis_connected(pr, c);                            // connection event
 *   redisReply *r = pmx_redis_command(pr, c, "SET %s %s", key, value);   // redisCommand
 *   ...
 *   pmx_redis_close(pr, c);                                // redisFree + disconnect event
 *
 * Pipelines (redisAppendCommand ... redisGetReply): a caller-owned pmx_redis_pipeline_t records
 * the commands appended and times each reply from the first read; the pipeline event is emitted
 * by pmx_redis_pipeline_end().
 *
 * Async (redisAsyncContext): pmx_redis_async_command*() wrap redisAsyncCommand*() with a
 * trampoline callback that emits the command event and then calls yours with your privdata.
 * SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE and MONITOR (whose callback runs many times) are passed
 * through unmeasured. Connection events: call pmx_redis_async_connected() and
 * pmx_redis_async_disconnected() from your connect and disconnect callbacks (hiredis keeps one
 * slot each, and they are yours).
 *
 * Only the command's first word is read (from argv[0], or from the formatted command), never
 * keys or values. Durations: from the send (for redisCommand, the call) to the reply.
 *
 * Threading: a pmx_redis_t is immutable after creation and may be shared by any number of
 * threads; a redisContext stays single-threaded, as hiredis requires. */
#ifndef PROMEX_HIREDIS_H
#define PROMEX_HIREDIS_H

#include <stdarg.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdint.h>

#include "promex/event.h"
#include "promex/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pmx_redis pmx_redis_t;

/* Resolves the events on `bus` (borrowed; must outlive the handle). *out is owned by the caller
 * (pmx_redis_destroy). Returns PMX_OK, PMX_EINVAL, PMX_ENOMEM. */
PMX_EXTERN int pmx_redis_new(pmx_bus_t *bus, pmx_redis_t **out);
/* Frees the handle; NULL is a no-op. No call may be using it, nor any async command pending. */
PMX_EXTERN void pmx_redis_destroy(pmx_redis_t *pr);

/* Emits "connect" when `c` is connected (not NULL, c->err == 0), else "connect_error". Call it
 * once after redisConnect*(). Returns PMX_OK or PMX_EINVAL (NULL pr). */
PMX_EXTERN int pmx_redis_connected(pmx_redis_t *pr, const redisContext *c);
/* Emits "disconnect" (or "disconnect_error" when c->err is set), then redisFree(c). Emits
 * nothing for a NULL or never-connected context. */
PMX_EXTERN void pmx_redis_close(pmx_redis_t *pr, redisContext *c);

/* redisCommand / redisvCommand / redisCommandArgv, measured. Blocking contexts only (on a
 * non-blocking context hiredis returns NULL without a reply; use the async API). With a NULL pr
 * they only call hiredis. */
PMX_EXTERN void *pmx_redis_command(pmx_redis_t *pr, redisContext *c, const char *format, ...);
PMX_EXTERN void *pmx_redis_vcommand(pmx_redis_t *pr, redisContext *c, const char *format,
                                    va_list ap);
PMX_EXTERN void *pmx_redis_command_argv(pmx_redis_t *pr, redisContext *c, int argc,
                                        const char **argv, const size_t *argvlen);

/* A pipeline in progress. Caller-owned (usually on the stack); fields are private. Commands
 * past PMX_REDIS_PIPELINE_NAMES are still counted and timed, with command "other". */
#define PMX_REDIS_PIPELINE_NAMES 64
typedef struct pmx_redis_pipeline {
  pmx_redis_t *_pr;
  redisContext *_c;
  size_t _appended, _read;
  int64_t _start_ns;
  char _names[PMX_REDIS_PIPELINE_NAMES][24];
} pmx_redis_pipeline_t;

/* Starts a pipeline on `c`. Returns PMX_OK or PMX_EINVAL (NULL pl or c). */
PMX_EXTERN int pmx_redis_pipeline_begin(pmx_redis_pipeline_t *pl, pmx_redis_t *pr,
                                        redisContext *c);
/* redisAppendCommand / redisAppendCommandArgv: returns what hiredis returns (REDIS_OK or
 * REDIS_ERR; a failed append is not counted). */
PMX_EXTERN int pmx_redis_pipeline_append(pmx_redis_pipeline_t *pl, const char *format, ...);
PMX_EXTERN int pmx_redis_pipeline_append_argv(pmx_redis_pipeline_t *pl, int argc,
                                              const char **argv, const size_t *argvlen);
/* redisGetReply for the next appended command: returns what hiredis returns and emits that
 * command's event. */
PMX_EXTERN int pmx_redis_pipeline_get_reply(pmx_redis_pipeline_t *pl, void **reply);
/* Emits the pipeline event (commands = appended count). Replies not read are not measured. */
PMX_EXTERN void pmx_redis_pipeline_end(pmx_redis_pipeline_t *pl);

/* redisAsyncCommand / redisAsyncCommandArgv with a measuring trampoline: `fn(ac, reply,
 * privdata)` is called as hiredis would call it (fn may be NULL). Returns what hiredis returns;
 * REDIS_ERR also when the trampoline cannot be allocated (nothing sent). */
PMX_EXTERN int pmx_redis_async_command(pmx_redis_t *pr, redisAsyncContext *ac,
                                       redisCallbackFn *fn, void *privdata, const char *format,
                                       ...);
PMX_EXTERN int pmx_redis_async_command_argv(pmx_redis_t *pr, redisAsyncContext *ac,
                                            redisCallbackFn *fn, void *privdata, int argc,
                                            const char **argv, const size_t *argvlen);
/* Connection events for async contexts: call from your redisConnectCallback /
 * redisDisconnectCallback with the status hiredis gave you. */
PMX_EXTERN void pmx_redis_async_connected(pmx_redis_t *pr, const redisAsyncContext *ac,
                                          int status);
PMX_EXTERN void pmx_redis_async_disconnected(pmx_redis_t *pr, const redisAsyncContext *ac,
                                             int status);

#ifdef __cplusplus
}
#endif
#endif
