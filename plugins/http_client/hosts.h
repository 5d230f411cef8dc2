/* Private to the http_client plugin: how a request's host becomes a bounded, valid label value.
 *
 * A program may call arbitrary URLs (user-supplied webhooks, redirects to CDNs), so the host
 * label must not grow without bound. The plugin's `hosts` option is a comma list of patterns:
 *   api.example.com     that host, by name (case-insensitive)
 *   *.example.com       any host ending in ".example.com"; the label is the pattern itself
 *   *                   any host, by name, up to `max_hosts` distinct names
 * A host that matches no pattern is labelled "other". Without the option the list is "*".
 * Patterns are tried in order; the first match wins.
 *
 * Names are sanitised before matching: lower-cased, only [a-z0-9.-_:[]] kept (anything else
 * becomes '_'), at most PMX_HC_HOST_MAX bytes, so a label is always short, valid UTF-8 ASCII.
 *
 * Threading: pmx__hc_hosts_group() is safe from any thread and lock-free for a host already
 * seen (a fixed array of atomically published strings); learning a new host under "*" takes a
 * mutex once per distinct host. */
#ifndef PMX_PLUGINS_HTTP_CLIENT_HOSTS_H
#define PMX_PLUGINS_HTTP_CLIENT_HOSTS_H

#include <stdbool.h>
#include <stddef.h>

#define PMX_HC_HOST_MAX 128       /* bytes of a host label */
#define PMX_HC_MAX_HOSTS_LIMIT 1000
#define PMX_HC_DEFAULT_MAX_HOSTS 50

typedef struct pmx__hc_hosts pmx__hc_hosts_t;

/* Parses `patterns` (NULL: "*") and `max_hosts` (distinct names learned through "*").
 * Returns NULL and a message in `why` (static string) when a pattern is empty or invalid. */
pmx__hc_hosts_t *pmx__hc_hosts_new(const char *patterns, size_t max_hosts, const char **why);
void pmx__hc_hosts_free(pmx__hc_hosts_t *h);

/* Sanitises `host` (any bytes, may be NULL) into `out` (cap >= 2). Returns `out`. An empty or
 * NULL host gives "unknown". */
const char *pmx__hc_sanitize_host(const char *host, char *out, size_t cap);

/* The label for `host`: a pattern, a learned name or "other". The result is owned by `h` (or
 * static) and valid until pmx__hc_hosts_free(). */
const char *pmx__hc_hosts_group(pmx__hc_hosts_t *h, const char *host);

#endif
