/* The http_client plugin (metric list and event contract in promex/plugins/http_client.h).
 *
 * The event group's metrics turn raw event metadata into bounded labels through one tag_values
 * callback (labels()), whose context is the host grouping table (hosts.h). Event groups have no
 * context of their own, so the table is owned by the plugin's manual group
 * (http_client_library_manual_metrics), whose ctx_free runs after the registry, and with it
 * every metric reading the table, is gone (runtime teardown order). */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_client/hosts.h"
#include "promex/plugins/http_client.h"

#define EV_LIBRARY "promex.plugin.http_client.library"

/* The metadata value of `key` as a string: strings as they are, integers formatted into buf. */
static const char *meta_text(const pmx_event_data_t *ev, const char *key, char *buf, size_t cap) {
  const pmx_meta_t *m = pmx_event_meta(ev, key);
  if (m == NULL) return NULL;
  if (m->type == PMX_META_STR) return m->v.s;
  if (m->type == PMX_META_INT) {
    snprintf(buf, cap, "%lld", (long long)m->v.i);
    return buf;
  }
  return NULL;
}

static const char *method_label(const char *m) {
  static const char *const known[] = {"GET",     "HEAD",    "POST",  "PUT",  "PATCH",
                                      "DELETE",  "OPTIONS", "CONNECT", "TRACE"};
  for (size_t i = 0; m != NULL && i < sizeof known / sizeof known[0]; i++)
    if (strcmp(m, known[i]) == 0) return known[i];
  return "other";
}

static const char *scheme_label(const char *s) {
  if (s == NULL) return "unknown";
  if (strcmp(s, "http") == 0) return "http";
  if (strcmp(s, "https") == 0) return "https";
  return "other";
}

/* Copies a token made of [A-Za-z0-9_] (at most max bytes) into buf; anything else becomes '_'.
 * Used for reason and phase, which the contract keeps short and ASCII; a foreign emitter cannot
 * widen the label set with odd bytes. */
static const char *token(const char *s, char *buf, size_t max) {
  size_t n = 0;
  for (; s != NULL && s[n] != '\0' && n < max; n++) {
    char c = s[n];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    buf[n] = ok ? c : '_';
  }
  if (n == 0) return "unknown";
  buf[n] = '\0';
  return buf;
}

static void put(pmx_tag_source_t *out, const char *key, const char *value) {
  out->items[out->n++] = PMX_META_S(key, value);
}

static bool labels(const pmx_event_data_t *ev, pmx_tag_source_t *out, void *ctx) {
  pmx__hc_hosts_t *hosts = ctx;
  char *scratch = out->scratch;  /* 512 bytes: port 24, status 24, reason 65, phase 33 */
  char num[24];
  put(out, "method", method_label(meta_text(ev, "method", num, sizeof num)));
  put(out, "scheme", scheme_label(meta_text(ev, "scheme", num, sizeof num)));
  const char *host = pmx__hc_hosts_group(hosts, meta_text(ev, "host", num, sizeof num));
  put(out, "host", host);
  const char *port = meta_text(ev, "port", scratch, 24);
  long p = port != NULL ? strtol(port, NULL, 10) : 0;
  /* A port per "other" host would let arbitrary servers add series. */
  if (strcmp(host, "other") == 0) put(out, "port", "other");
  else {
    snprintf(scratch, 24, "%ld", p > 0 && p <= 65535 ? p : 0);
    put(out, "port", scratch);
  }
  const char *status = meta_text(ev, "status", num, sizeof num);
  if (status != NULL) {
    long s = strtol(status, NULL, 10);
    snprintf(scratch + 24, 24, "%ld", s >= 100 && s <= 999 ? s : 0);
    put(out, "status", scratch + 24);
  }
  const pmx_meta_t *m = pmx_event_meta(ev, "reason");
  if (m != NULL && m->type == PMX_META_STR) put(out, "reason", token(m->v.s, scratch + 48, 64));
  m = pmx_event_meta(ev, "phase");
  if (m != NULL && m->type == PMX_META_STR) put(out, "phase", token(m->v.s, scratch + 120, 32));
  m = pmx_event_meta(ev, "connection");
  if (m != NULL && m->type == PMX_META_STR)
    put(out, "connection", strcmp(m->v.s, "reused") == 0 ? "reused" : "new");
  return true;
}

static const double k_duration_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                            1,     2.5,  5,     10,   30};
static const double k_phase_buckets[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                         0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5,
                                         10};
static const double k_size_buckets[] = {64,     512,     4096,     65536,
                                        262144, 1048576, 4194304,  16777216};

static int library_measure(pmx_bus_t *bus, void *ctx) {
  (void)ctx;
  const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
  const pmx_meta_t md[] = {
      PMX_META_S("curl_version", v != NULL && v->version != NULL ? v->version : "unknown"),
      PMX_META_S("ssl_version", v != NULL && v->ssl_version != NULL ? v->ssl_version : "none")};
  const pmx_measurement_t m[] = {PMX_M("info", 1)};
  return pmx_emit_name(bus, EV_LIBRARY, m, 1, md, 2) < 0 ? PMX_EINVAL : PMX_OK;
}

static void hosts_free(void *p) { pmx__hc_hosts_free(p); }

static int http_client_events(const pmx_plugin_ctx_t *ctx, pmx_groups_t *out) {
  static const char *const k_allowed[] = {"hosts", "max_hosts"};
  int rc = pmx_plugin_check_opts(ctx, k_allowed, 2);
  if (rc != PMX_OK) return rc;
  size_t max_hosts = PMX_HC_DEFAULT_MAX_HOSTS;
  const char *mh = pmx_plugin_opt(ctx, "max_hosts");
  if (mh != NULL) {
    char *end = NULL;
    long v = strtol(mh, &end, 10);
    if (end == mh || *end != '\0' || v < 1 || v > PMX_HC_MAX_HOSTS_LIMIT)
      return pmx_plugin_fail(ctx, PMX_ECONFIG,
                             "plugin \"http_client\": max_hosts \"%s\" is not a number in 1..%d",
                             mh, PMX_HC_MAX_HOSTS_LIMIT);
    max_hosts = (size_t)v;
  }
  const char *why = NULL;
  pmx__hc_hosts_t *hosts = pmx__hc_hosts_new(pmx_plugin_opt(ctx, "hosts"), max_hosts, &why);
  if (hosts == NULL)
    return pmx_plugin_fail(ctx, why != NULL && strcmp(why, "out of memory") == 0 ? PMX_ENOMEM
                                                                                 : PMX_ECONFIG,
                           "plugin \"http_client\": option hosts: %s", why);

  static const char *const k_lib_tags[] = {"curl_version", "ssl_version"};
  const pmx_metric_def_t lib[] = {{.kind = PMX_LAST_VALUE, .name = "library.info",
                                   .event_name = EV_LIBRARY, .measurement = "info",
                                   .tags = k_lib_tags, .n_tags = 2,
                                   .description = "The libcurl in use (value 1)."}};
  /* The manual group owns `hosts` from here on, also when this call fails. */
  rc = pmx_groups_add_manual(out, "http_client_library_manual_metrics", library_measure, hosts,
                             hosts_free, lib, 1);
  if (rc != PMX_OK) return rc;

  static const char *const t_req[] = {"method", "scheme", "host", "port", "status"};
  static const char *const t_exc[] = {"method", "scheme", "host", "port", "reason"};
  static const char *const t_phase[] = {"scheme", "host", "port", "phase"};
  static const char *const t_size[] = {"method", "scheme", "host", "port"};
  static const char *const t_conn[] = {"scheme", "host", "port", "connection"};
  static const char *const t_redir[] = {"scheme", "host", "port"};
#define TAGS(t) .tags = t, .n_tags = sizeof t / sizeof t[0], .tag_values = labels, \
                .tag_values_ctx = hosts
#define BUCKETS(b) .buckets = b, .n_buckets = sizeof b / sizeof b[0]
  const pmx_metric_def_t m[] = {
      {.kind = PMX_DISTRIBUTION, .name = "request.duration.seconds",
       .event_name = PMX_HTTP_CLIENT_EVENT_STOP, .measurement = "duration",
       .unit_from = PMX_UNIT_NATIVE, .unit_to = PMX_UNIT_SECOND, TAGS(t_req),
       BUCKETS(k_duration_buckets),
       .description = "Outbound HTTP requests that got a response: whole transfer time."},
      {.kind = PMX_COUNTER, .name = "request.exceptions.total",
       .event_name = PMX_HTTP_CLIENT_EVENT_EXCEPTION, TAGS(t_exc),
       .description = "Outbound HTTP requests that failed without a response, by CURLcode."},
      {.kind = PMX_DISTRIBUTION, .name = "request.phase.duration.seconds",
       .event_name = PMX_HTTP_CLIENT_EVENT_PHASE, .measurement = "duration",
       .unit_from = PMX_UNIT_NATIVE, .unit_to = PMX_UNIT_SECOND, TAGS(t_phase),
       BUCKETS(k_phase_buckets),
       .description = "Time per phase of a request: dns, connect, tls, wait, receive, redirect."},
      {.kind = PMX_DISTRIBUTION, .name = "request.size.bytes",
       .event_name = PMX_HTTP_CLIENT_EVENT_STOP, .measurement = "request_size", TAGS(t_size),
       BUCKETS(k_size_buckets), .description = "Bytes sent per request (headers and body)."},
      {.kind = PMX_DISTRIBUTION, .name = "response.size.bytes",
       .event_name = PMX_HTTP_CLIENT_EVENT_STOP, .measurement = "response_size", TAGS(t_req),
       BUCKETS(k_size_buckets),
       .description = "Bytes received per response (headers and body)."},
      {.kind = PMX_COUNTER, .name = "request.connections.total",
       .event_name = PMX_HTTP_CLIENT_EVENT_STOP, TAGS(t_conn),
       .description = "Requests by connection: a new one or a reused (kept-alive) one."},
      {.kind = PMX_SUM, .name = "request.redirects.total",
       .event_name = PMX_HTTP_CLIENT_EVENT_STOP, .measurement = "redirects", TAGS(t_redir),
       .description = "Redirects followed."},
  };
#undef TAGS
#undef BUCKETS
  return pmx_groups_add_event(out, "http_client_request_event_metrics", m,
                              sizeof m / sizeof m[0]);
}

const pmx_plugin_t pmx_plugin_http_client = {PMX_PLUGIN_ABI, "http_client", http_client_events,
                                             NULL, NULL, {0}};
