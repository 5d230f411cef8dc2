/* The `application` plugin: PromEx.Plugins.Application for C programs.
 *
 * What it reports: the application's name and version, one info series per loaded shared library
 * (the C counterpart of OTP application dependencies, found at run time with dl_iterate_phdr(),
 * not from a typed list), the git SHA and author of the deployed build, and uptime.
 *
 * Enabling it (see docs/plugins.md):
 *
 *   static const pmx_kv_t app_opts[] = {{"version", "1.4.2"}, {"deps", "all"}};
 *   pmx_plugin_use_t uses[] = {{&pmx_plugin_application, app_opts, 2, NULL}};
 *   cfg.plugins = uses; cfg.n_plugins = 1;
 *
 * or in the INI file: [plugin.application] / version = 1.4.2.
 *
 * Options (all optional):
 *   version        the application version (label `version` of primary_info); default the
 *                  configuration's app_version ([promex] version in the INI file), else
 *                  "undefined" (PromEx's value for an unknown version).
 *   deps           "all" (default) or a comma list of library names as reported in the `name`
 *                  label ("libcurl, libssl"): only those get dependency_info series.
 *   git_sha        the SHA to report; overrides the callback and GIT_SHA.
 *   git_author     the author to report; overrides the callback and GIT_AUTHOR.
 *   metric_prefix  default "<app>_prom_ex_application" (dashboard assign
 *                  application_metric_prefix must match).
 *   poll_rate      ms between uptime polls (default 5000).
 * Callbacks (PromEx's git_sha_mfa / git_author_mfa): set pmx_plugin_use_t.user_data to a
 * pmx_application_opts_t. Order of precedence: option string, callback, environment variable
 * (GIT_SHA / GIT_AUTHOR), then "Git SHA not available" / "Git author not available".
 *
 * Metrics (prefix P = <app>_prom_ex_application). All are gauges:
 *
 *   P_primary_info{name,version,modules}      1. name = the app name, version = option `version`,
 *       group application_versions_manual_metrics. modules = number of ELF objects loaded in the
 *       process (main program + shared libraries; plays the role of PromEx's module count),
 *       counted at the first run and kept on refresh so the series stays unique.
 *       PromEx: <app>_prom_ex_application_primary_info (same labels).
 *   P_dependency_info{name,version,path}      1 per loaded shared library (dl_iterate_phdr), group
 *       application_versions_manual_metrics. name and version from the soname or file name
 *       ("/lib/x86_64-linux-gnu/libcurl.so.4" -> libcurl, 4.8.0 from its real file
 *       libcurl.so.4.8.0; "undefined" if the name has no version). path = the path the loader
 *       used. The vDSO and the main program are not listed. PromEx: ..._dependency_info, whose
 *       `modules` label has no meaning for a shared library and is replaced by `path`.
 *   P_git_sha_info{sha}                       1, group application_versions_manual_metrics.
 *       PromEx: ..._git_sha_info.
 *   P_git_author_info{author}                 1, group application_versions_manual_metrics.
 *       PromEx: ..._git_author_info.
 *   P_uptime_seconds                          seconds since the process started (start time from
 *       /proc/self/stat, clock CLOCK_BOOTTIME), group application_time_polling_metrics.
 *       PromEx: ..._uptime_milliseconds_count (a gauge in milliseconds); here in base units and
 *       without the misleading _count suffix. client_golang: time() - process_start_time_seconds.
 *
 * Manual metrics run at start and on pmx_refresh_manual_metrics(); a library loaded later shows
 * up after a refresh; one dlclose()d (unloaded, not merely closed while still referenced) has
 * its dependency_info series removed at the next refresh (PromEx kept it; a frozen "1" would
 * claim the library is still loaded).
 *
 * Poll cost (tests/unit/plugins/plugin_poll_cost, 1000 runs, 2 vCPU VM under load, Debian 12,
 * glibc 2.36, gcc -O2; see docs/plugins.md): application_time_polling_metrics 45 ns per poll
 * (one clock_gettime and one emit); application_versions_manual_metrics about 80 us per run with
 * 14 libraries loaded (one realpath() per library). */
#ifndef PROMEX_PLUGINS_APPLICATION_H
#define PROMEX_PLUGINS_APPLICATION_H

#include <stddef.h>

#include "promex/export.h"
#include "promex/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Callbacks for the git SHA and author (PromEx's git_sha_mfa / git_author_mfa). Each writes a
 * NUL-terminated value of at most cap - 1 bytes into `buf` and returns 0, or returns non-zero
 * when it has no value (the environment variable and the default are then used). Called on the
 * thread running manual metrics (the promex thread, or the caller of
 * pmx_refresh_manual_metrics()); `ctx` is this struct's ctx. The struct is borrowed: it must
 * outlive the running instance. Either pointer may be NULL. */
typedef struct pmx_application_opts {
  int (*git_sha)(char *buf, size_t cap, void *ctx);
  int (*git_author)(char *buf, size_t cap, void *ctx);
  void *ctx;
} pmx_application_opts_t;

/* The plugin table. Name "application". */
PMX_EXTERN extern const pmx_plugin_t pmx_plugin_application;

#ifdef __cplusplus
}
#endif
#endif
