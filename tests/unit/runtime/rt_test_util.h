/* Helpers shared by the runtime tests: a capturing log sink, reading one series' value from the
 * rendered exposition, and loopback port probes. */
#ifndef PMX_RT_TEST_UTIL_H
#define PMX_RT_TEST_UTIL_H

#include <stdbool.h>
#include <stdint.h>

#include "promex/promex.h"

/* Thread-safe log capture: counts messages, keeps the last one. */
typedef struct rt_log {
  int n;
  int n_warn;
  char last[1024];
  char all[8192];
} rt_log_t;
void rt_log_sink(void *ctx, pmx_log_level_t level, const char *msg);
/* Number of captured messages containing `needle`. */
int rt_log_count(rt_log_t *log, const char *needle);

/* Config with app "t", the given plugins and log capture; everything else default. */
void rt_config(pmx_config_t *cfg, const pmx_plugin_use_t *uses, size_t n, rt_log_t *log);

/* Value of the series whose text up to the value is exactly `series` (e.g. `x_total{a="b"}`), in
 * the text exposition of `p`; NAN when absent or when p is not running. */
double rt_value(pmx_t *p, const char *series);
/* True if the exposition contains `needle`. */
bool rt_contains(pmx_t *p, const char *needle);

/* A loopback TCP port nothing listens on right now. */
uint16_t rt_free_port(void);
/* True if something accepts TCP connections on 127.0.0.1:port. */
bool rt_port_open(uint16_t port);
/* HTTP GET http://127.0.0.1:port/path; returns the status code (or -1) and copies the response
 * body into body (NUL-terminated, truncated to cap). */
int rt_http_get(uint16_t port, const char *path, char *body, size_t cap);

void rt_sleep_ms(int ms);

#endif
