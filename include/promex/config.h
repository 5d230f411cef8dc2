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
 *                                        timeout_s (10), max_connections (64)
 *
 * The INI file (read with inih; also read by the `promex` CLI):
 *
 *   [promex]
 *   app = my_app                      ; required: the otp_app counterpart, [a-z0-9_]+
 *   version = 1.4.2                   ; optional application version (annotations, app plugin)
 *   disabled = false
 *   manual_metrics_start_delay = no_delay   ; or a number of milliseconds
 *   drop_metrics_groups = process_limits_manual_metrics, os_network_polling_metrics
 *
 *   [metrics_server]
 *   port = 4021
 *   auth_strategy = bearer
 *   auth_token = ${METRICS_TOKEN}     ; ${VAR} is replaced by the environment variable VAR
 *
 *   [grafana]
 *   host = http://localhost:3000
 *   auth_token = ${GRAFANA_TOKEN}
 *   folder_name = My App Dashboards
 *
 *   [plugin.process]                  ; enables plugin "process"; keys are its options
 *   poll_rate = 5000
 *
 *   [dashboards]                      ; dashboards to upload/export: name = assigns or empty
 *   application.json =
 *   my_own = /path/to/dashboard.json
 *
 *   [dashboard_assigns]               ; assigns passed to every dashboard
 *   datasource_id = prometheus
 *
 * Booleans are true/false/yes/no/on/off/1/0. Unknown sections and keys are errors, as are bad
 * values, an unset ${VAR} and a missing required key: pmx_error_t names the file, line, key and
 * what was expected. */
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
  const char *app;                       /* required, [a-z0-9_]+ */
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
} pmx_config_t;

/* Fills `cfg` with the defaults above (everything zero/NULL except
 * grafana.upload_dashboards_on_start = true and log_level = PMX_LOG_INFO). */
PMX_EXTERN void pmx_config_defaults(pmx_config_t *cfg);

/* A configuration loaded from a file; owns every string and array of its pmx_config_t. */
typedef struct pmx_config_file pmx_config_file_t;

/* Loads an INI file. Plugin sections ([plugin.NAME]) are resolved against `known` (the plugins the
 * program links; pass pmx_first_party_plugins() and/or your own); an unknown plugin is an error.
 * On PMX_OK *out is owned by the caller (pmx_config_file_free). Errors: PMX_EIO (cannot read),
 * PMX_ECONFIG (err names file, line, key and what was expected), PMX_EINVAL, PMX_ENOMEM. */
PMX_EXTERN int pmx_config_load(const char *path, const pmx_plugin_t *const *known, size_t n_known,
                               pmx_config_file_t **out, pmx_error_t *err);

/* Same, from a string; `name` is used in messages in place of a file name. */
PMX_EXTERN int pmx_config_parse(const char *text, const char *name,
                                const pmx_plugin_t *const *known, size_t n_known,
                                pmx_config_file_t **out, pmx_error_t *err);

/* The loaded configuration; owned by `cf`, valid until pmx_config_file_free(). Callers may copy
 * it into their own pmx_config_t and change fields (e.g. the log sink). */
PMX_EXTERN const pmx_config_t *pmx_config_file_config(const pmx_config_file_t *cf);

/* Frees a loaded configuration. NULL is a no-op. */
PMX_EXTERN void pmx_config_file_free(pmx_config_file_t *cf);

/* Checks a configuration without starting anything: app name, option values, the server's
 * auth and TLS settings (files readable), Grafana settings, duplicate plugins. Returns PMX_OK or
 * PMX_ECONFIG with `err` filled. pmx_start() runs the same checks (and the plugins'). */
PMX_EXTERN int pmx_config_validate(const pmx_config_t *cfg, pmx_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
