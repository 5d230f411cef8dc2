/* Private to redis_stats: the parser of Redis' INFO reply and of the connection string. No I/O,
 * no hiredis: unit-tested over captured fixtures (tests/unit/redis_stats) and fuzzed.
 *
 * INFO format (redis.io/commands/info): CRLF-separated lines; "# Name" opens a section; other
 * non-empty lines are "field:value" (split at the first ':'; values may contain ':'); some values
 * are comma lists of name=value ("db0:keys=3,expires=0,avg_ttl=0",
 * "cmdstat_get:calls=2,usec=10,...", "slave0:ip=...,port=...,state=online,offset=..,lag=0").
 * Anything else (a line with no ':', an empty field name) is skipped and counted, never fatal:
 * the plugin reports what it could read. */
#ifndef PMX_REDIS_INFO_H
#define PMX_REDIS_INFO_H

#include <stdbool.h>
#include <stddef.h>

/* A field: pointers into the parsed buffer (valid while it lives and is not parsed again). */
typedef struct pmx__redis_field {
  const char *section; /* "" before the first "# Section" line */
  const char *key;
  const char *value;
} pmx__redis_field_t;

#define PMX__REDIS_MAX_FIELDS 4096 /* more lines are ignored (INFO ALL has ~500) */

typedef struct pmx__redis_info {
  pmx__redis_field_t *f;
  size_t n, cap;
  size_t skipped; /* malformed lines, and lines past PMX__REDIS_MAX_FIELDS */
} pmx__redis_info_t;

/* Parses text[0..len) in place: line ends and the first ':' of each line become NULs (text[len]
 * must be writable; it becomes a NUL). `info` is reset first and its array reused (grown with
 * realloc). Returns 0, or -1 when the array could not grow (the fields parsed so far remain). */
int pmx__redis_info_parse(char *text, size_t len, pmx__redis_info_t *info);
void pmx__redis_info_free(pmx__redis_info_t *info);

/* The value of the first field named `key`, or NULL. */
const char *pmx__redis_info_get(const pmx__redis_info_t *info, const char *key);

/* Strict number: the whole string is a finite decimal number. */
bool pmx__redis_number(const char *s, double *out);

/* In a comma list of name=value, the value of `name`: copied into buf (NUL-terminated; false if
 * absent or longer than cap-1), or parsed as a number. */
bool pmx__redis_sub_str(const char *list, const char *name, char *buf, size_t cap);
bool pmx__redis_sub_number(const char *list, const char *name, double *out);

/* A connection string: "redis://[[user]:password@]host[:port][/db]", "unix:///path/to/sock" or
 * "host[:port]". Percent-escapes (%40 for '@') are decoded in user and password. db is parsed but
 * only 0..15 style integers are accepted. Returns 0, or -1 with err (cap errcap) describing the
 * problem. */
typedef struct pmx__redis_target {
  char host[256];
  int port;        /* default 6379 */
  char unix_path[108];
  char user[128];
  char password[256];
  int db;          /* -1 when not given */
} pmx__redis_target_t;
int pmx__redis_url_parse(const char *url, pmx__redis_target_t *t, char *err, size_t errcap);

#endif
