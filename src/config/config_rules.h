/* The configuration rules: one table naming every option of [promex], [metrics_server],
 * [grafana] and the options every plugin accepts, with its type, limits and default. It is the
 * single source of truth for
 *   - the INI loader (config_file.c): which keys exist, how each value is parsed and checked;
 *   - pmx_config_validate() (config_validate.c): the same checks on a pmx_config_t built in code;
 *   - the metrics server's start (server.c, check_config): the same checks again, through
 *     pmx__config_check_server(), for programs that call pmx_server_start() directly;
 *   - the deep copy of pmx_new() (runtime/config_copy.c): which fields are strings to copy;
 *   - the option tables of docs/config.md (test_config_doc compares them with this table).
 * So a limit is written once, here, and the places that enforce it cannot disagree.
 *
 * Private to the library (the server and runtime areas include it); nothing here is API. */
#ifndef PMX_CONFIG_RULES_H
#define PMX_CONFIG_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "promex/config.h"

/* Limits referenced outside the table (the server keeps buffers of these sizes and asserts at
 * compile time that its own constants agree). */
#define PMX__CONFIG_APP_MAX 64u              /* bytes of app */
#define PMX__CONFIG_POOL_MAX 256u            /* metrics_server.pool_size */
#define PMX__CONFIG_SECRET_MAX 1024u         /* bytes of a bearer token, and of base64(user:password) */
#define PMX__CONFIG_PEM_MAX ((size_t)1 << 20) /* bytes of cert_file / key_file */
#define PMX__CONFIG_PATH_MAX 256u            /* bytes of metrics_server.path */
#define PMX__CONFIG_FILE_NAME_MAX 4096u      /* bytes of a file name (PATH_MAX) */

/* Defaults of the numeric options whose 0 means "default". */
#define PMX__CONFIG_DEFAULT_POOL_SIZE 5u
#define PMX__CONFIG_DEFAULT_TIMEOUT_S 10u
#define PMX__CONFIG_DEFAULT_HEADER_TIMEOUT_S 5u
#define PMX__CONFIG_DEFAULT_MAX_CONNECTIONS 64u
#define PMX__CONFIG_DEFAULT_GRAFANA_TIMEOUT_MS 10000u

typedef enum pmx__opt_type {
  PMX__OPT_STR,   /* const char *; NULL = unset */
  PMX__OPT_BOOL,  /* bool */
  PMX__OPT_UINT,  /* uint16_t or unsigned (size), in [min, max]; 0 in code means the default */
  PMX__OPT_ENUM,  /* an enum, one of `words` in order */
  PMX__OPT_DELAY, /* int64_t ms, "no_delay" in a file */
  PMX__OPT_LIST   /* drop_metrics_groups: const char *const * with a count */
} pmx__opt_type_t;

/* Shape of a string value (PMX__OPT_STR), checked wherever the value comes from. */
enum {
  PMX__STR_NONEMPTY = 1u << 0,   /* "" is an error, not "unset" */
  PMX__STR_IDENT = 1u << 1,      /* [a-z0-9_]+ */
  PMX__STR_URL_PATH = 1u << 2,   /* '/' then printable ASCII without space, '?', '#', '%' */
  PMX__STR_HTTP_URL = 1u << 3,   /* http:// or https://, no whitespace or control characters */
  PMX__STR_HEADER = 1u << 4,     /* sent as an HTTP header value: no control characters and no
                                    leading or trailing whitespace (a request loses them) */
  PMX__STR_NO_COLON = 1u << 5,   /* a basic-auth user name (RFC 7617) */
  PMX__STR_NO_CTL = 1u << 6,     /* no control characters */
  PMX__STR_ADDRESS = 1u << 7,    /* IPv4 or IPv6 literal ([::1] too) or "localhost" */
  PMX__STR_UTF8 = 1u << 8,       /* valid UTF-8 (it becomes a label value) */
  PMX__STR_METRIC = 1u << 9,     /* a metric name prefix: [a-zA-Z_:][a-zA-Z0-9_:]* */
  PMX__STR_PEM_FILE = 1u << 10   /* a file read when protocol is https (checked then) */
};

typedef struct pmx__config_rule {
  const char *section;   /* "promex", "metrics_server", "grafana" or "plugin.NAME" (any plugin) */
  const char *key;       /* the INI key, also the name in messages ("metrics_server.port") */
  pmx__opt_type_t type;
  size_t off;            /* offset in pmx_config_t (not for plugin options) */
  size_t size;           /* field size (PMX__OPT_UINT) */
  uint64_t min, max;     /* UINT: the accepted range; STR: max = most bytes (0: no limit) */
  unsigned flags;        /* PMX__STR_* */
  const char *const *words; /* ENUM: the names, in enum order, NULL-terminated */
  const char *def;       /* the default, as the docs show it */
  const char *doc;       /* what the option does, for the docs */
} pmx__config_rule_t;

extern const pmx__config_rule_t pmx__config_rules[];
extern const size_t pmx__n_config_rules;

/* The rule for `key` in section `section` ("plugin.x" matches the plugin rules), or NULL. */
const pmx__config_rule_t *pmx__config_rule_find(const char *section, const char *key);

/* Checks the shape and length of string value `s` against rule `r` (PMX__OPT_STR). Returns true,
 * or false with `msg` saying what was expected and what was given. */
bool pmx__config_rule_check_str(const pmx__config_rule_t *r, const char *s, char *msg, size_t cap);

/* Checks a decoded number against rule `r` (PMX__OPT_UINT): `allow_zero` for values set in code,
 * where 0 means the default. Returns true, or false with `msg`. */
bool pmx__config_rule_check_uint(const pmx__config_rule_t *r, uint64_t v, bool allow_zero, char *msg,
                                 size_t cap);

/* Checks an enum value against rule `r` (PMX__OPT_ENUM). Returns true, or false with `msg`. */
bool pmx__config_rule_check_enum(const pmx__config_rule_t *r, uint64_t v, char *msg, size_t cap);

/* Writes the names of enum rule `r` as "a, b or c". */
void pmx__config_rule_words(const pmx__config_rule_t *r, char *buf, size_t cap);

/* Reads field `r` of `cfg` as a number (UINT, ENUM, BOOL) or string (STR). */
uint64_t pmx__config_rule_get_uint(const pmx__config_rule_t *r, const pmx_config_t *cfg);
const char *pmx__config_rule_get_str(const pmx__config_rule_t *r, const pmx_config_t *cfg);

/* Every rule of the metrics server section (per field and across fields: auth needs its
 * secrets, https readable PEM files that GnuTLS accepts as a pair, pool_size <= max_connections, ...), on the server
 * section alone; `enabled` is not looked at. Used by pmx_config_validate() and by the server's
 * own start. Returns PMX_OK, or PMX_ECONFIG with `key` (static storage) and `msg` filled. */
int pmx__config_check_server(const pmx_server_config_t *s, const char **key, char *msg, size_t cap);

#endif
