/* The hiredis adapter (promex/hiredis.h): wrappers that time hiredis calls and emit the redis.*
 * events of promex/plugins/redis.h.
 *
 * The command name is the first bulk string of the formatted command (hiredis formats every
 * command into RESP before sending it: "*<n>\r\n$<len>\r\n<NAME>\r\n..."), so the name is right
 * even when the format string starts with "%s"; nothing after it (keys, values) is read. The
 * plugin maps the name onto its table of Redis commands, so labels stay bounded. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "promex/hiredis.h"
#include "promex/plugins/redis.h"

struct pmx_redis {
  pmx_event_t *command, *pipeline, *connection;
};

int pmx_redis_new(pmx_bus_t *bus, pmx_redis_t **out) {
  if (out != NULL) *out = NULL;
  if (bus == NULL || out == NULL) return PMX_EINVAL;
  pmx_redis_t *pr = calloc(1, sizeof *pr);
  if (pr == NULL) return PMX_ENOMEM;
  int rc = pmx_bus_event(bus, PMX_REDIS_EVENT_COMMAND, &pr->command);
  if (rc == PMX_OK) rc = pmx_bus_event(bus, PMX_REDIS_EVENT_PIPELINE, &pr->pipeline);
  if (rc == PMX_OK) rc = pmx_bus_event(bus, PMX_REDIS_EVENT_CONNECTION, &pr->connection);
  if (rc != PMX_OK) {
    free(pr);
    return rc;
  }
  *out = pr;
  return PMX_OK;
}

void pmx_redis_destroy(pmx_redis_t *pr) { free(pr); }

/* ---- names and classes ---------------------------------------------------------------------- */

/* Copies at most cap-1 bytes of [s, s+len) into out. */
static void copy_word(char *out, size_t cap, const char *s, size_t len) {
  if (len >= cap) len = cap - 1;
  memcpy(out, s, len);
  out[len] = '\0';
}

/* The first bulk string of a RESP-formatted command, or "" when it does not parse. */
static void name_from_resp(const char *cmd, size_t len, char *out, size_t cap) {
  out[0] = '\0';
  const char *end = cmd + len;
  const char *p = memchr(cmd, '\n', len);
  if (p == NULL || p + 1 >= end || p[1] != '$') return;
  char *num_end = NULL;
  long n = strtol(p + 2, &num_end, 10);
  if (num_end == NULL || n < 0 || num_end + 2 > end || num_end[0] != '\r') return;
  const char *word = num_end + 2;
  if ((size_t)(end - word) < (size_t)n) return;
  copy_word(out, cap, word, (size_t)n);
}

/* The error class of a finished command: NULL when it succeeded. */
static const char *error_class(const redisReply *r, int ctx_err, char *buf, size_t cap) {
  if (r == NULL) {
    switch (ctx_err) {
      case REDIS_ERR_IO: return "io";
      case REDIS_ERR_EOF: return "eof";
      case REDIS_ERR_PROTOCOL: return "protocol";
      case REDIS_ERR_OOM: return "oom";
      default: return "client";
    }
  }
  if (r->type != REDIS_REPLY_ERROR) return NULL;
  size_t n = 0;
  while (r->str != NULL && n < r->len && r->str[n] != ' ' && n + 1 < cap) n++;
  copy_word(buf, cap, r->str != NULL ? r->str : "", n);
  return buf;
}

static void emit_command(const pmx_redis_t *pr, const char *name, int64_t start_ns,
                         const redisReply *reply, int ctx_err) {
  char cls_buf[32];
  const char *cls = error_class(reply, ctx_err, cls_buf, sizeof cls_buf);
  pmx_meta_t md[3] = {PMX_META_S("command", name),
                      PMX_META_S("result", cls == NULL ? "ok" : "error"),
                      PMX_META_S("class", cls)};
  pmx_measurement_t m[] = {PMX_M("duration", (double)(pmx_monotonic_ns() - start_ns))};
  pmx_emit(pr->command, m, 1, md, cls == NULL ? 2 : 3);
}

static void emit_connection(const pmx_redis_t *pr, const char *event, double delta) {
  pmx_meta_t md[] = {PMX_META_S("event", event)};
  pmx_measurement_t m[] = {PMX_M("delta", delta)};
  pmx_emit(pr->connection, m, 1, md, 1);
}

/* ---- connections -------------------------------------------------------------------------- */

int pmx_redis_connected(pmx_redis_t *pr, const redisContext *c) {
  if (pr == NULL) return PMX_EINVAL;
  bool ok = c != NULL && c->err == 0;
  emit_connection(pr, ok ? "connect" : "connect_error", ok ? 1 : 0);
  return PMX_OK;
}

void pmx_redis_close(pmx_redis_t *pr, redisContext *c) {
  if (c == NULL) return;
  /* A context that never connected was counted as connect_error, not as an open connection. */
  bool was_open = (c->flags & REDIS_CONNECTED) != 0;
  if (pr != NULL && was_open) emit_connection(pr, c->err ? "disconnect_error" : "disconnect", -1);
  redisFree(c);
}

void pmx_redis_async_connected(pmx_redis_t *pr, const redisAsyncContext *ac, int status) {
  (void)ac;
  if (pr == NULL) return;
  emit_connection(pr, status == REDIS_OK ? "connect" : "connect_error", status == REDIS_OK);
}

void pmx_redis_async_disconnected(pmx_redis_t *pr, const redisAsyncContext *ac, int status) {
  (void)ac;
  if (pr == NULL) return;
  emit_connection(pr, status == REDIS_OK ? "disconnect" : "disconnect_error", -1);
}

/* ---- synchronous commands ------------------------------------------------------------------- */

/* Sends the formatted command and reads its reply, as redisCommand does internally. */
static void *send_and_read(pmx_redis_t *pr, redisContext *c, const char *cmd, size_t len,
                           const char *name) {
  int64_t t0 = pmx_monotonic_ns();
  void *reply = NULL;
  if (redisAppendFormattedCommand(c, cmd, len) != REDIS_OK) return NULL;
  if (c->flags & REDIS_BLOCK) {
    if (redisGetReply(c, &reply) != REDIS_OK) reply = NULL;
    emit_command(pr, name, t0, reply, c->err);
  }
  return reply;
}

void *pmx_redis_vcommand(pmx_redis_t *pr, redisContext *c, const char *format, va_list ap) {
  if (pr == NULL || c == NULL) return c != NULL ? redisvCommand(c, format, ap) : NULL;
  va_list copy;
  va_copy(copy, ap);
  char *cmd = NULL;
  int len = redisvFormatCommand(&cmd, format, ap);
  if (len < 0) {
    /* Let hiredis report the bad format on the context, exactly as redisCommand would. */
    void *r = redisvCommand(c, format, copy);
    va_end(copy);
    return r;
  }
  va_end(copy);
  char name[24];
  name_from_resp(cmd, (size_t)len, name, sizeof name);
  void *reply = send_and_read(pr, c, cmd, (size_t)len, name);
  redisFreeCommand(cmd);
  return reply;
}

void *pmx_redis_command(pmx_redis_t *pr, redisContext *c, const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  void *r = pmx_redis_vcommand(pr, c, format, ap);
  va_end(ap);
  return r;
}

static void argv_name(int argc, const char **argv, const size_t *argvlen, char *out,
                      size_t cap) {
  out[0] = '\0';
  if (argc > 0 && argv != NULL && argv[0] != NULL)
    copy_word(out, cap, argv[0], argvlen != NULL ? argvlen[0] : strlen(argv[0]));
}

void *pmx_redis_command_argv(pmx_redis_t *pr, redisContext *c, int argc, const char **argv,
                             const size_t *argvlen) {
  if (pr == NULL || c == NULL) return c != NULL ? redisCommandArgv(c, argc, argv, argvlen) : NULL;
  char name[24];
  argv_name(argc, argv, argvlen, name, sizeof name);
  int64_t t0 = pmx_monotonic_ns();
  void *reply = redisCommandArgv(c, argc, argv, argvlen);
  if (c->flags & REDIS_BLOCK) emit_command(pr, name, t0, reply, c->err);
  return reply;
}

/* ---- pipelines ------------------------------------------------------------------------------ */

int pmx_redis_pipeline_begin(pmx_redis_pipeline_t *pl, pmx_redis_t *pr, redisContext *c) {
  if (pl == NULL || c == NULL) return PMX_EINVAL;
  memset(pl, 0, sizeof *pl);
  pl->_pr = pr;
  pl->_c = c;
  return PMX_OK;
}

static void record(pmx_redis_pipeline_t *pl, const char *name) {
  if (pl->_appended < PMX_REDIS_PIPELINE_NAMES)
    copy_word(pl->_names[pl->_appended], sizeof pl->_names[0], name, strlen(name));
  pl->_appended++;
}

int pmx_redis_pipeline_append(pmx_redis_pipeline_t *pl, const char *format, ...) {
  if (pl == NULL || pl->_c == NULL) return REDIS_ERR;
  va_list ap;
  va_start(ap, format);
  char *cmd = NULL;
  int len = redisvFormatCommand(&cmd, format, ap);
  va_end(ap);
  if (len < 0) {
    va_start(ap, format);
    int rc = redisvAppendCommand(pl->_c, format, ap); /* sets the context's error as hiredis does */
    va_end(ap);
    return rc;
  }
  int rc = redisAppendFormattedCommand(pl->_c, cmd, (size_t)len);
  if (rc == REDIS_OK) {
    char name[24];
    name_from_resp(cmd, (size_t)len, name, sizeof name);
    record(pl, name);
  }
  redisFreeCommand(cmd);
  return rc;
}

int pmx_redis_pipeline_append_argv(pmx_redis_pipeline_t *pl, int argc, const char **argv,
                                   const size_t *argvlen) {
  if (pl == NULL || pl->_c == NULL) return REDIS_ERR;
  int rc = redisAppendCommandArgv(pl->_c, argc, argv, argvlen);
  if (rc == REDIS_OK) {
    char name[24];
    argv_name(argc, argv, argvlen, name, sizeof name);
    record(pl, name);
  }
  return rc;
}

int pmx_redis_pipeline_get_reply(pmx_redis_pipeline_t *pl, void **reply) {
  if (pl == NULL || pl->_c == NULL) return REDIS_ERR;
  /* Appended commands sit in the output buffer until the first read sends them. */
  if (pl->_read == 0) pl->_start_ns = pmx_monotonic_ns();
  int rc = redisGetReply(pl->_c, reply);
  if (pl->_pr != NULL && pl->_read < pl->_appended) {
    const char *name = pl->_read < PMX_REDIS_PIPELINE_NAMES ? pl->_names[pl->_read] : "other";
    emit_command(pl->_pr, name, pl->_start_ns, rc == REDIS_OK && reply ? *reply : NULL,
                 pl->_c->err);
  }
  pl->_read++;
  return rc;
}

void pmx_redis_pipeline_end(pmx_redis_pipeline_t *pl) {
  if (pl == NULL || pl->_pr == NULL || pl->_appended == 0) return;
  int64_t start = pl->_read > 0 ? pl->_start_ns : pmx_monotonic_ns();
  pmx_measurement_t m[] = {PMX_M("commands", (double)pl->_appended),
                           PMX_M("duration", (double)(pmx_monotonic_ns() - start))};
  pmx_emit(pl->_pr->pipeline, m, 2, NULL, 0);
  pl->_appended = 0;
}

/* ---- asynchronous commands ------------------------------------------------------------------ */

typedef struct trampoline {
  pmx_redis_t *pr;
  redisCallbackFn *fn;
  void *privdata;
  int64_t start_ns;
  char name[24];
} trampoline_t;

static void trampoline_cb(redisAsyncContext *ac, void *reply, void *privdata) {
  trampoline_t *t = privdata;
  emit_command(t->pr, t->name, t->start_ns, reply, ac->err);
  redisCallbackFn *fn = t->fn;
  void *user = t->privdata;
  free(t);
  if (fn != NULL) fn(ac, reply, user);
}

/* Commands whose callback hiredis keeps and calls for every message: not wrapped. */
static bool repeating(const char *name) {
  static const char *const k[] = {"subscribe", "psubscribe", "ssubscribe", "monitor"};
  for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
    if (strcasecmp(name, k[i]) == 0) return true;
  return false;
}

static int async_formatted(pmx_redis_t *pr, redisAsyncContext *ac, redisCallbackFn *fn,
                           void *privdata, const char *cmd, size_t len, const char *name) {
  if (pr == NULL || repeating(name)) return redisAsyncFormattedCommand(ac, fn, privdata, cmd, len);
  trampoline_t *t = malloc(sizeof *t);
  if (t == NULL) return REDIS_ERR;
  t->pr = pr;
  t->fn = fn;
  t->privdata = privdata;
  t->start_ns = pmx_monotonic_ns();
  copy_word(t->name, sizeof t->name, name, strlen(name));
  int rc = redisAsyncFormattedCommand(ac, trampoline_cb, t, cmd, len);
  if (rc != REDIS_OK) free(t); /* hiredis did not take the callback */
  return rc;
}

int pmx_redis_async_command(pmx_redis_t *pr, redisAsyncContext *ac, redisCallbackFn *fn,
                            void *privdata, const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  char *cmd = NULL;
  int len = redisvFormatCommand(&cmd, format, ap);
  va_end(ap);
  if (len < 0) return REDIS_ERR; /* as redisvAsyncCommand: a bad format sends nothing */
  char name[24];
  name_from_resp(cmd, (size_t)len, name, sizeof name);
  int rc = async_formatted(pr, ac, fn, privdata, cmd, (size_t)len, name);
  redisFreeCommand(cmd);
  return rc;
}

int pmx_redis_async_command_argv(pmx_redis_t *pr, redisAsyncContext *ac, redisCallbackFn *fn,
                                 void *privdata, int argc, const char **argv,
                                 const size_t *argvlen) {
  char *cmd = NULL;
  long long len = redisFormatCommandArgv(&cmd, argc, argv, argvlen);
  if (len < 0) return REDIS_ERR;
  char name[24];
  argv_name(argc, argv, argvlen, name, sizeof name);
  int rc = async_formatted(pr, ac, fn, privdata, cmd, (size_t)len, name);
  redisFreeCommand(cmd);
  return rc;
}
