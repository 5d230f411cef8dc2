/* Configuration (PromEx.Config): set in code through pmx_config_t, or loaded from an INI file.
 *
 * Every option of PromEx.Config is here with the same meaning and default:
 *   disabled                    false    start nothing (tests)
 *   manual_metrics_start_delay  no_delay  or N ms before manual groups first run
 *   drop_metrics_groups         []       group names not to set up
 *   grafana                     disabled  host, username/password or auth_token,
 *                                        upload_dashboards_on_start (true), folder_name,
 *                                        annotate_app_lifecycle (false), timeout_ms (10000)
 *   metrics_server              disabled  port (4021 in the examples; required when enabled),
 *                                        path (/metrics), protocol http|https (+cert_file,
 *                                        key_file), pool_size (5), auth_strategy none|bearer|basic
 *                                        (+auth_token | auth_user, auth_password), bind_address
 *                                        (default all interfaces, as PromEx's server),
 *                                        timeout_s (10), header_timeout_s (5),
 *                                        max_connections (64)
 *
 * The INI file (read with inih; also read by the `promex` CLI; full reference: docs/config.md):
 *
 *   [promex]
 *   app = my_app                      ; required: the otp_app counterpart, [a-z0-9_]+
 *   version = 1.4.2                   ; optional application version (annotations, app plugin)
 *   disabled = false
 *   manual_metrics_start_delay = no_delay   ; or a number of milliseconds
 *   drop_metrics_groups = process_limits_manual_metrics, os_network_polling_metrics
 *   log_level = info                  ; debug|info|warn|error (pmx_config_t.log_level)
 *
 *   [metrics_server]                  ; present = enabled (enabled = false turns it off again)
 *   port = 4021                       ; required while enabled; 0 picks a free port
 *   auth_strategy = bearer
 *   auth_token = ${METRICS_TOKEN}     ; ${VAR} is replaced by the environment variable VAR
 *
 *   [grafana]                         ; present = enabled (enabled = false turns it off again)
 *   host = http://localhost:3000
 *   auth_token = ${GRAFANA_TOKEN}
 *   folder_name = My App Dashboards
 *
 *   [plugin.process]                  ; enables plugin "process" (even with no keys); keys are
 *   poll_rate = 5000                  ; its options, passed through verbatim and in file order
 *
 *   [dashboards]                      ; dashboards to upload/export, in file order:
 *   application.json =                ;   empty value: the key is the name or path
 *   my_own = /path/to/dashboard.json  ;   otherwise the key is a label and the value the path
 *
 *   [dashboard_assigns]               ; assigns passed to every dashboard
 *   datasource_id = prometheus
 *
 * Per-dashboard assigns (pmx_dashboard_use_t.assigns) can only be set in code. Booleans are
 * true/false/yes/no/on/off/1/0 (any case). "key: value" works like "key = value". Comments start
 * a line with ';' or '#', or follow a value after whitespace and ';' (so a value cannot contain
 * " ;"). Leading whitespace is ignored; there are no multi-line values; a line holds at most 198
 * characters (put longer values in an environment variable). In values "$$" is a literal '$'
 * and any other '$' must start ${VAR}. Unknown sections and keys are errors, as are duplicate
 * keys or sections, bad values, an unset ${VAR} and a missing required key: pmx_error_t names the
 * file (source), line and key and what was expected, e.g.
 *   app.ini:7: [metrics_server] port: expected an integer 0-65535, got "abc"
 * The loaded configuration has passed pmx_config_validate(). */
#ifndef PROMEX_CONFIG_H
#define PROMEX_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "promex/error.h"
#include "promex/export.h"
#include "promex/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum pmx_auth_strategy { PMX_AUTH_NONE = 0, PMX_AUTH_BEARER, PMX_AUTH_BASIC } pmx_auth_strategy_t;
typedef enum pmx_protocol { PMX_PROTO_HTTP = 0, PMX_PROTO_HTTPS } pmx_protocol_t;

typedef struct pmx_server_config {
  bool enabled;                 /* metrics_server: disabled unless true */
  uint16_t port;                /* 0 with enabled: pick a free port (tests); see pmx_server_port */
  const char *bind_address;     /* NULL: all interfaces (0.0.0.0 and ::) */
  const char *path;             /* NULL: "/metrics" */
  pmx_protocol_t protocol;
  const char *cert_file;        /* https: PEM certificate chain file */
  const char *key_file;         /* https: PEM private key file */
  unsigned pool_size;           /* 0: 5 threads */
  pmx_auth_strategy_t auth_strategy;
  const char *auth_token;       /* bearer */
  const char *auth_user;        /* basic */
  const char *auth_password;    /* basic */
  unsigned timeout_s;           /* 0: 10 s per connection */
  unsigned max_connections;     /* 0: 64 */
  /* Deadline for receiving a whole request header, from the connection's first byte (or the end
   * of the previous request on a kept-alive connection); a trickling client cannot extend it.
   * 0: 5 s. timeout_s stays the idle timeout between reads. */
  unsigned header_timeout_s;
} pmx_server_config_t;

typedef struct pmx_grafana_config {
  bool enabled;                     /* grafana: disabled unless true */
  const char *host;                 /* "http://localhost:3000" */
  const char *username;             /* basic auth, with password */
  const char *password;
  const char *auth_token;           /* bearer; takes precedence over username/password */
  bool upload_dashboards_on_start;  /* pmx_config_defaults(): true */
  const char *folder_name;          /* NULL: the General folder */
  bool annotate_app_lifecycle;      /* false */
  unsigned timeout_ms;              /* 0: 10000 */
} pmx_grafana_config_t;

/* [remote_write] (docs/push.md): on when url is set; pmx_start() starts the sender and
 * pmx_stop() stops it after a last attempt. Zero numbers take the defaults of push.h. */
typedef struct pmx_remote_write_options {
  const char *url;          /* e.g. "http://127.0.0.1:9090/api/v1/write" */
  const char *username;     /* basic auth, with password */
  const char *password;
  const char *bearer_token; /* takes precedence over username/password */
  unsigned interval_ms;     /* 0: 15000 */
  unsigned queue_samples;   /* 0: 100000 */
  unsigned timeout_ms;      /* 0: 10000 */
} pmx_remote_write_options_t;

/* [push] (docs/push.md): on when url is set; pmx_stop() PUTs the metrics to the Pushgateway
 * group /metrics/job/<job> before stopping (for batch jobs and CLIs). A failed push is logged. */
typedef struct pmx_push_options {
  const char *url;          /* Pushgateway base URL, e.g. "http://127.0.0.1:9091" */
  const char *job;          /* NULL: the app name */
  const char *username;
  const char *password;
  const char *bearer_token;
  unsigned timeout_ms;      /* 0: 10000 */
} pmx_push_options_t;

/* One enabled plugin with its options. */
typedef struct pmx_plugin_use {
  const pmx_plugin_t *plugin;
  const pmx_kv_t *opts;
  size_t n_opts;
  void *user_data;              /* handed to the plugin as ctx->user_data */
} pmx_plugin_use_t;

/* One dashboard: a first-party name ("process.json") or a path to a user template, with assigns
 * for this dashboard only (merged over the config's dashboard_assigns). */
typedef struct pmx_dashboard_use {
  const char *name_or_path;
  const pmx_kv_t *assigns;
  size_t n_assigns;
} pmx_dashboard_use_t;

typedef enum pmx_log_level { PMX_LOG_DEBUG = 0, PMX_LOG_INFO, PMX_LOG_WARN, PMX_LOG_ERROR } pmx_log_level_t;
/* Log sink. Called from any promex thread; must be thread-safe. */
typedef void (*pmx_log_fn)(void *ctx, pmx_log_level_t level, const char *message);

typedef struct pmx_config {
  const char *app;                       /* required, [a-z0-9_]+, at most 64 characters */
  const char *app_version;               /* optional */
  bool disabled;
  int64_t manual_metrics_start_delay_ms; /* <= 0: no_delay */
  const char *const *drop_metrics_groups;
  size_t n_drop_metrics_groups;
  const pmx_plugin_use_t *plugins;
  size_t n_plugins;
  const pmx_dashboard_use_t *dashboards;
  size_t n_dashboards;
  const pmx_kv_t *dashboard_assigns;
  size_t n_dashboard_assigns;
  pmx_grafana_config_t grafana;
  pmx_server_config_t metrics_server;
  pmx_log_fn log;                        /* NULL: warnings and errors to stderr */
  void *log_ctx;
  pmx_log_level_t log_level;             /* least level passed to `log`; default PMX_LOG_DEBUG(0) */
  pmx_remote_write_options_t remote_write;
  pmx_push_options_t push;
} pmx_config_t;

/* Fills `cfg` with the defaults above (everything zero/NULL except
 * grafana.upload_dashboards_on_start = true and log_level = PMX_LOG_INFO). NULL is a no-op.
 * Thread-safe (touches only `cfg`). Since 0.1. */
PMX_EXTERN void pmx_config_defaults(pmx_config_t *cfg);

/* A configuration loaded from a file; owns every string and array of its pmx_config_t. */
typedef struct pmx_config_file pmx_config_file_t;

/* Loads an INI file (at most 1 MiB, no NUL bytes). Plugin sections ([plugin.NAME]) are resolved
 * against `known` (the plugins the program links; pass pmx_first_party_plugins() and/or your
 * own) by pmx_plugin_t.name; an unknown plugin is an error. `known` itself is borrowed only for
 * the call, but the pmx_plugin_t tables it points to are referenced by the result and must
 * outlive it (normally they are static). After parsing, the result is checked with
 * pmx_config_validate() (so https cert/key files must be readable) and failures report the line
 * of the offending key, or of its section when the key is missing.
 * On PMX_OK *out is owned by the caller (pmx_config_file_free); on failure *out is NULL and
 * nothing is leaked. Errors: PMX_EIO (cannot open/read), PMX_ECONFIG (err names file, line, key
 * and what was expected; err->source is the path, err->line the 1-based line or 0), PMX_EABI (a
 * [plugin.NAME] resolves to a plugin built for another ABI), PMX_EINVAL (NULL path/out),
 * PMX_ENOMEM. Thread-safe except that ${VAR} is read with getenv(): do not setenv() concurrently.
 * Since 0.1. */
PMX_EXTERN int pmx_config_load(const char *path, const pmx_plugin_t *const *known, size_t n_known,
                               pmx_config_file_t **out, pmx_error_t *err);

/* Same, from a NUL-terminated string; `name` (borrowed; NULL: "<string>") is used in messages and
 * err->source in place of a file name. PMX_EINVAL if text or out is NULL, or known is NULL with
 * n_known > 0. Since 0.1. */
PMX_EXTERN int pmx_config_parse(const char *text, const char *name,
                                const pmx_plugin_t *const *known, size_t n_known,
                                pmx_config_file_t **out, pmx_error_t *err);

/* The loaded configuration; owned by `cf`, valid until pmx_config_file_free(). Callers may copy
 * it into their own pmx_config_t and change fields (e.g. the log sink); the strings and arrays
 * the copy points to still belong to `cf`. NULL for a NULL `cf`. Since 0.1. */
PMX_EXTERN const pmx_config_t *pmx_config_file_config(const pmx_config_file_t *cf);

/* Frees a loaded configuration and every string and array it owns. NULL is a no-op. Since 0.1. */
PMX_EXTERN void pmx_config_file_free(pmx_config_file_t *cf);

/* Checks a configuration without starting anything. Zero/NULL fields mean "default" and pass.
 * The rules are those of the INI loader, from one table (the option tables of docs/config.md list
 * every limit): app non-empty, [a-z0-9_]+, at most 64 bytes; version UTF-8, at most 1024 bytes;
 * numeric options within their ranges; enum values in range; drop_metrics_groups entries
 * non-empty. metrics_server (only when enabled): path '/' then printable ASCII without space,
 * '?', '#' or '%'; bind_address an IP literal or "localhost"; pool_size 1-256 and at most
 * max_connections; auth_strategy bearer needs auth_token (at most 1024 bytes, no control
 * characters or leading/trailing spaces: a request could never carry it), basic needs auth_user
 * (no ':') and auth_password (base64 of "user:password" at most 1024 bytes); protocol https
 * needs cert_file and key_file that are readable regular files of 1 byte to 1 MiB. grafana
 * (only when enabled): host starts with http:// or https://, and auth_token or both username
 * (no ':') and password. plugins: non-NULL tables with abi_version == PMX_PLUGIN_ABI and NULL
 * reserved slots (else PMX_EABI), names [a-z0-9_]+ and not listed twice, option keys non-empty
 * and values non-NULL, poll_rate 1-4294967295 and metric_prefix [a-zA-Z_:][a-zA-Z0-9_:]*.
 * dashboards: non-empty name_or_path, assign keys non-empty. Any count > 0 with a NULL array
 * fails. Returns PMX_OK, PMX_ECONFIG or PMX_EABI with err->text naming the option
 * ("metrics_server.auth_token: required when auth_strategy is bearer"), PMX_EINVAL for a NULL
 * cfg. Reads nothing but `cfg` and the cert/key files; thread-safe. pmx_start() and
 * pmx_server_start() run the same checks. Since 0.1. */
PMX_EXTERN int pmx_config_validate(const pmx_config_t *cfg, pmx_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
