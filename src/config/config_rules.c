/* The table of configuration rules (config_rules.h) and the checks of single values against it.
 * Every limit of an option is written here once; see config_rules.h for who reads the table. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config_internal.h"
#include "config/config_rules.h"
#include "internal.h"
#include "promex/metric.h"

static const char *const LOG_LEVELS[] = {"debug", "info", "warn", "error", NULL};
static const char *const PROTOCOLS[] = {"http", "https", NULL};
static const char *const AUTH_STRATEGIES[] = {"none", "bearer", "basic", NULL};

#define FIELD(member) offsetof(pmx_config_t, member), sizeof(((pmx_config_t *)0)->member)
#define STR(sec, key, member, max, flags, def, doc) \
  {sec, key, PMX__OPT_STR, FIELD(member), 0, max, flags, NULL, def, doc}
#define UINT(sec, key, member, min, max, def, doc) \
  {sec, key, PMX__OPT_UINT, FIELD(member), min, max, 0, NULL, def, doc}
#define BOOL(sec, key, member, def, doc) {sec, key, PMX__OPT_BOOL, FIELD(member), 0, 0, 0, NULL, def, doc}
#define ENUM(sec, key, member, words, def, doc) \
  {sec, key, PMX__OPT_ENUM, FIELD(member), 0, 0, 0, words, def, doc}

#define SRV "metrics_server"
#define GF "grafana"
#define PLUGIN "plugin.NAME"

const pmx__config_rule_t pmx__config_rules[] = {
    STR("promex", "app", app, PMX__CONFIG_APP_MAX, PMX__STR_NONEMPTY | PMX__STR_IDENT, "required",
        "application name (PromEx's `otp_app`); metric names start with it"),
    STR("promex", "version", app_version, PMX_MAX_LABEL_VALUE, PMX__STR_UTF8, "none",
        "application version, a label value of the status metric and shown in annotations"),
    BOOL("promex", "disabled", disabled, "`false`", "start nothing (for tests)"),
    /* A year: the runtime adds it in nanoseconds to a monotonic clock, which must not overflow. */
    {"promex", "manual_metrics_start_delay", PMX__OPT_DELAY, FIELD(manual_metrics_start_delay_ms), 0,
     31536000000u, 0, NULL, "`no_delay`", "wait before manual metrics groups first run"},
    {"promex", "drop_metrics_groups", PMX__OPT_LIST, FIELD(drop_metrics_groups), 0, 0, 0, NULL, "empty",
     "metrics group names to skip; spaces around names are trimmed; empty items are errors"},
    ENUM("promex", "log_level", log_level, LOG_LEVELS, "`info`", "the lowest level passed to the log sink"),

    BOOL(SRV, "enabled", metrics_server.enabled, "`true`", "`false` keeps the section but turns the server off"),
    UINT(SRV, "port", metrics_server.port, 0, 65535, "required", "0 picks a free port (tests)"),
    STR(SRV, "path", metrics_server.path, PMX__CONFIG_PATH_MAX, PMX__STR_NONEMPTY | PMX__STR_URL_PATH,
        "`/metrics`", "the path that answers scrapes"),
    ENUM(SRV, "protocol", metrics_server.protocol, PROTOCOLS, "`http`", "`https` needs `cert_file` and `key_file`"),
    STR(SRV, "cert_file", metrics_server.cert_file, PMX__CONFIG_FILE_NAME_MAX, PMX__STR_PEM_FILE, "none",
        "PEM certificate chain; with `https`: a readable regular file of 1-1048576 bytes"),
    STR(SRV, "key_file", metrics_server.key_file, PMX__CONFIG_FILE_NAME_MAX, PMX__STR_PEM_FILE, "none",
        "PEM private key; with `https`: a readable regular file of 1-1048576 bytes"),
    UINT(SRV, "pool_size", metrics_server.pool_size, 1, PMX__CONFIG_POOL_MAX, "5",
         "worker threads; at most `max_connections`"),
    ENUM(SRV, "auth_strategy", metrics_server.auth_strategy, AUTH_STRATEGIES, "`none`",
         "`bearer` needs `auth_token`, `basic` needs `auth_user` and `auth_password`"),
    STR(SRV, "auth_token", metrics_server.auth_token, PMX__CONFIG_SECRET_MAX, PMX__STR_HEADER, "none",
        "bearer token; use `${VAR}`"),
    STR(SRV, "auth_user", metrics_server.auth_user, 0, PMX__STR_NO_COLON | PMX__STR_NO_CTL,
        "none", "basic auth user name"),
    STR(SRV, "auth_password", metrics_server.auth_password, 0, 0, "none",
        "basic auth password; use `${VAR}`; base64 of `user:password` is at most 1024 bytes "
        "(user and password together at most 767 bytes)"),
    STR(SRV, "bind_address", metrics_server.bind_address, 64, PMX__STR_NONEMPTY | PMX__STR_ADDRESS,
        "all interfaces", "address to listen on: an IPv4 or IPv6 literal, or `localhost` (127.0.0.1)"),
    UINT(SRV, "timeout_s", metrics_server.timeout_s, 1, 86400, "10", "seconds a connection may stay idle"),
    UINT(SRV, "header_timeout_s", metrics_server.header_timeout_s, 1, 3600, "5",
         "seconds to receive a whole request header; a slow client cannot extend it"),
    UINT(SRV, "max_connections", metrics_server.max_connections, 1, 100000, "64", "open connections"),

    BOOL(GF, "enabled", grafana.enabled, "`true`", "`false` keeps the section but turns Grafana off"),
    STR(GF, "host", grafana.host, 2048, PMX__STR_NONEMPTY | PMX__STR_HTTP_URL, "required",
        "Grafana URL, e.g. `http://localhost:3000`"),
    STR(GF, "username", grafana.username, 0, PMX__STR_NO_COLON | PMX__STR_NO_CTL, "none",
        "basic auth; needs `password` unless `auth_token` is set"),
    STR(GF, "password", grafana.password, 0, 0, "none", "basic auth; needs `username`"),
    STR(GF, "auth_token", grafana.auth_token, 0, PMX__STR_HEADER, "none",
        "API token; used instead of username/password when both are set"),
    BOOL(GF, "upload_dashboards_on_start", grafana.upload_dashboards_on_start, "`true`",
         "upload the dashboards when promex starts"),
    STR(GF, "folder_name", grafana.folder_name, 0, PMX__STR_NO_CTL, "General folder",
        "Grafana folder for the dashboards; its uid is derived from `app`"),
    BOOL(GF, "annotate_app_lifecycle", grafana.annotate_app_lifecycle, "`false`", "post start/stop annotations"),
    UINT(GF, "timeout_ms", grafana.timeout_ms, 1, 3600000, "10000", "milliseconds per request"),
    /* [remote_write] and [push] (docs/push.md): on when url is set. */
    STR("remote_write", "url", remote_write.url, 2048, PMX__STR_NONEMPTY | PMX__STR_HTTP_URL,
        "required", "receiver endpoint, e.g. `http://127.0.0.1:9090/api/v1/write`"),
    STR("remote_write", "username", remote_write.username, 0, PMX__STR_NO_COLON | PMX__STR_NO_CTL,
        "none", "basic auth user; needs `password`"),
    STR("remote_write", "password", remote_write.password, 0, 0, "none",
        "basic auth password; use `${VAR}`"),
    STR("remote_write", "bearer_token", remote_write.bearer_token, PMX__CONFIG_SECRET_MAX,
        PMX__STR_HEADER, "none", "bearer token, wins over basic auth; use `${VAR}`"),
    UINT("remote_write", "interval_ms", remote_write.interval_ms, 100, 86400000, "15000",
         "milliseconds between rounds of samples"),
    UINT("remote_write", "queue_samples", remote_write.queue_samples, 1, 100000000, "100000",
         "queue bound; the oldest samples are dropped (and counted) beyond it"),
    UINT("remote_write", "timeout_ms", remote_write.timeout_ms, 1, 3600000, "10000",
         "milliseconds per request"),
    STR("push", "url", push.url, 2048, PMX__STR_NONEMPTY | PMX__STR_HTTP_URL, "required",
        "Pushgateway base URL; `pmx_stop` pushes there (PUT)"),
    STR("push", "job", push.job, 256, PMX__STR_NONEMPTY | PMX__STR_NO_CTL, "the app name",
        "grouping key job"),
    STR("push", "username", push.username, 0, PMX__STR_NO_COLON | PMX__STR_NO_CTL, "none",
        "basic auth user; needs `password`"),
    STR("push", "password", push.password, 0, 0, "none", "basic auth password; use `${VAR}`"),
    STR("push", "bearer_token", push.bearer_token, PMX__CONFIG_SECRET_MAX, PMX__STR_HEADER, "none",
        "bearer token, wins over basic auth; use `${VAR}`"),
    UINT("push", "timeout_ms", push.timeout_ms, 1, 3600000, "10000", "milliseconds for the push"),

    /* Options every plugin accepts (runtime/collect.c reads them); off/size are unused. */
    {PLUGIN, "poll_rate", PMX__OPT_UINT, 0, 0, 1, UINT32_MAX, 0, NULL, "5000",
     "milliseconds between polls of the plugin's polling groups"},
    {PLUGIN, "metric_prefix", PMX__OPT_STR, 0, 0, 0, 128, PMX__STR_NONEMPTY | PMX__STR_METRIC, NULL,
     "`<app>_prom_ex_<plugin>`", "prefix of the plugin's metric names"},
    {PLUGIN, "native_histograms", PMX__OPT_BOOL, 0, 0, 0, 0, 0, NULL, "`false`",
     "also keep the plugin's distributions as native histograms (schema 3, classic buckets kept); "
     "Prometheus gets them over protobuf"},
    {PLUGIN, "native_max_buckets", PMX__OPT_UINT, 0, 0, 1, PMX_NATIVE_MAX_BUCKETS, 0, NULL, "160",
     "bucket limit per sign of those native histograms (schema reduction beyond it)"},
};
const size_t pmx__n_config_rules = sizeof pmx__config_rules / sizeof pmx__config_rules[0];

const pmx__config_rule_t *pmx__config_rule_find(const char *section, const char *key) {
  bool plugin = strncmp(section, "plugin.", 7) == 0;
  for (size_t i = 0; i < pmx__n_config_rules; i++) {
    const pmx__config_rule_t *r = &pmx__config_rules[i];
    bool match = plugin ? strncmp(r->section, "plugin.", 7) == 0 : strcmp(r->section, section) == 0;
    if (match && strcmp(r->key, key) == 0) return r;
  }
  return NULL;
}

/* ---- string shapes ---- */

static bool is_ctl(unsigned char c) { return c < 0x20 || c == 0x7f; }

static bool has_ctl(const char *s) {
  for (; *s; s++)
    if (is_ctl((unsigned char)*s)) return true;
  return false;
}

static bool valid_utf8(const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    unsigned c = *p;
    size_t n;
    unsigned min;
    if (c < 0x80) {
      p++;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1, min = 0x80, c &= 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2, min = 0x800, c &= 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3, min = 0x10000, c &= 0x07;
    } else {
      return false;
    }
    for (size_t i = 1; i <= n; i++) {
      if ((p[i] & 0xC0) != 0x80) return false;
      c = (c << 6) | (p[i] & 0x3F);
    }
    /* Overlong forms, surrogates and values past U+10FFFF are not UTF-8. */
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return false;
    p += n + 1;
  }
  return true;
}

static bool is_address(const char *s) {
  if (strcasecmp(s, "localhost") == 0) return true;
  char lit[64];
  size_t n = strlen(s);
  if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
    if (n - 2 >= sizeof lit) return false;
    memcpy(lit, s + 1, n - 2);
    lit[n - 2] = '\0';
    unsigned char a6[16];
    return inet_pton(AF_INET6, lit, a6) == 1;
  }
  unsigned char a[16];
  return inet_pton(AF_INET6, s, a) == 1 || inet_pton(AF_INET, s, a) == 1;
}

static bool is_metric_prefix(const char *s) {
  if (strncmp(s, "__", 2) == 0) return false; /* reserved for Prometheus */
  for (const char *c = s; *c; c++) {
    bool alpha = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || *c == '_' || *c == ':';
    if (!alpha && !(c != s && *c >= '0' && *c <= '9')) return false;
  }
  return true;
}

bool pmx__config_rule_check_str(const pmx__config_rule_t *r, const char *s, char *msg, size_t cap) {
  unsigned f = r->flags;
  size_t len = strlen(s);
  if (len == 0) {
    if (f & PMX__STR_NONEMPTY) {
      snprintf(msg, cap, "expected a value, got an empty string");
      return false;
    }
    return true;
  }
  if (r->max > 0 && len > r->max) {
    snprintf(msg, cap, "expected at most %llu bytes, got %zu", (unsigned long long)r->max, len);
    return false;
  }
  if ((f & PMX__STR_IDENT) && !pmx__config_is_ident(s)) {
    snprintf(msg, cap, "expected a name matching [a-z0-9_]+, got \"%s\"", s);
    return false;
  }
  if (f & PMX__STR_URL_PATH) {
    if (s[0] != '/') {
      snprintf(msg, cap, "expected a path starting with '/', got \"%s\"", s);
      return false;
    }
    for (const char *c = s; *c; c++) {
      unsigned char u = (unsigned char)*c;
      if (u <= 0x20 || u >= 0x7f || u == '?' || u == '#' || u == '%') {
        snprintf(msg, cap,
                 "\"%s\" has %s at byte %zu; a request path never matches it (use printable ASCII "
                 "without spaces, '?', '#' or '%%')",
                 s, u == '?' ? "'?' (it starts the query)" : u == '#' ? "'#' (it starts the fragment)"
                    : u == '%' ? "'%' (requests are matched decoded)" : "a space or non-ASCII character",
                 (size_t)(c - s));
        return false;
      }
    }
  }
  if (f & PMX__STR_HTTP_URL) {
    bool ok = strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
    for (const char *c = s; ok && *c; c++) ok = (unsigned char)*c > 0x20 && (unsigned char)*c != 0x7f;
    if (!ok) {
      snprintf(msg, cap, "expected protocol://host:port starting with http:// or https://, got \"%s\" (spaces and "
               "control characters are not allowed)", s);
      return false;
    }
  }
  if ((f & PMX__STR_HEADER) && (has_ctl(s) || s[0] == ' ' || s[len - 1] == ' ')) {
    /* Secrets are not echoed. */
    snprintf(msg, cap, "%s; it is sent in an HTTP header, which loses them, so it could never match",
             has_ctl(s) ? "contains a control character" : "has leading or trailing spaces");
    return false;
  }
  if ((f & PMX__STR_NO_COLON) && strchr(s, ':') != NULL) {
    snprintf(msg, cap, "must not contain ':' (basic auth separates user and password with it, RFC 7617)");
    return false;
  }
  if ((f & PMX__STR_NO_CTL) && has_ctl(s)) {
    snprintf(msg, cap, "contains a control character");
    return false;
  }
  if ((f & PMX__STR_ADDRESS) && !is_address(s)) {
    snprintf(msg, cap,
             "expected an IPv4 or IPv6 address literal (e.g. 127.0.0.1, ::1, [::1]) or localhost; host "
             "names are not resolved, got \"%s\"", s);
    return false;
  }
  if ((f & PMX__STR_UTF8) && (!valid_utf8(s) || has_ctl(s))) {
    snprintf(msg, cap, "expected UTF-8 text without control characters");
    return false;
  }
  if ((f & PMX__STR_METRIC) && !is_metric_prefix(s)) {
    snprintf(msg, cap, "expected a metric name prefix matching [a-zA-Z_:][a-zA-Z0-9_:]*, not starting with \"__\", got \"%s\"", s);
    return false;
  }
  return true;
}

bool pmx__config_rule_check_uint(const pmx__config_rule_t *r, uint64_t v, bool allow_zero, char *msg,
                                 size_t cap) {
  if ((v == 0 && allow_zero) || (v >= r->min && v <= r->max)) return true;
  if (allow_zero && r->min > 0)
    snprintf(msg, cap, "expected %llu-%llu (0: default %s), got %llu", (unsigned long long)r->min,
             (unsigned long long)r->max, r->def, (unsigned long long)v);
  else
    snprintf(msg, cap, "expected %llu-%llu, got %llu", (unsigned long long)r->min,
             (unsigned long long)r->max, (unsigned long long)v);
  return false;
}

void pmx__config_rule_words(const pmx__config_rule_t *r, char *buf, size_t cap) {
  size_t n = 0, w = 0;
  while (r->words[n] != NULL) n++;
  buf[0] = '\0';
  for (size_t j = 0; j < n && w < cap; j++)
    w += (size_t)snprintf(buf + w, cap - w, "%s%s", j == 0 ? "" : j + 1 == n ? " or " : ", ", r->words[j]);
}

bool pmx__config_rule_check_enum(const pmx__config_rule_t *r, uint64_t v, char *msg, size_t cap) {
  size_t n = 0;
  while (r->words[n] != NULL) n++;
  if (v < n) return true;
  char list[128];
  pmx__config_rule_words(r, list, sizeof list);
  snprintf(msg, cap, "expected %s, got %lld", list, v == UINT64_MAX ? -1LL : (long long)v);
  return false;
}

uint64_t pmx__config_rule_get_uint(const pmx__config_rule_t *r, const pmx_config_t *cfg) {
  const char *field = (const char *)cfg + r->off;
  switch (r->type) {
    case PMX__OPT_BOOL:
      return *(const bool *)(const void *)field;
    case PMX__OPT_ENUM: {
      int v;
      memcpy(&v, field, sizeof v); /* every enum of config.h has int's size */
      return v < 0 ? UINT64_MAX : (uint64_t)v;
    }
    case PMX__OPT_UINT:
      if (r->size == sizeof(uint16_t)) return *(const uint16_t *)(const void *)field;
      return *(const unsigned *)(const void *)field;
    default:
      return 0;
  }
}

const char *pmx__config_rule_get_str(const pmx__config_rule_t *r, const pmx_config_t *cfg) {
  return *(const char *const *)(const void *)((const char *)cfg + r->off);
}

/* ---- the metrics server ---- */

static int bad(const char **key, const char *k, char *msg, size_t cap, const char *fmt, ...) PMX_PRINTF(5, 6);
static int bad(const char **key, const char *k, char *msg, size_t cap, const char *fmt, ...) {
  *key = k;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, cap, fmt, ap);
  va_end(ap);
  return PMX_ECONFIG;
}

static bool empty(const char *s) { return s == NULL || *s == '\0'; }

/* For problems whose message a check already wrote. */
static int found(const char **key, const char *k) {
  *key = k;
  return PMX_ECONFIG;
}

/* A PEM file the server will read: a readable regular file, not empty, within the size limit. */
static int check_pem(const char *key, const char *path, const char **kout, char *msg, size_t cap) {
  if (empty(path)) return bad(kout, key, msg, cap, "required when protocol is https");
  struct stat st;
  if (stat(path, &st) != 0 || access(path, R_OK) != 0)
    return bad(kout, key, msg, cap, "cannot read \"%s\": %s", path, strerror(errno));
  if (!S_ISREG(st.st_mode))
    return bad(kout, key, msg, cap, "\"%s\" is not a regular file", path);
  if (st.st_size == 0 || (uint64_t)st.st_size > PMX__CONFIG_PEM_MAX)
    return bad(kout, key, msg, cap, "\"%s\" has %lld bytes, expected 1-%zu", path, (long long)st.st_size,
               PMX__CONFIG_PEM_MAX);
  return PMX_OK;
}

/* Reads a file already checked by check_pem (regular, at most PMX__CONFIG_PEM_MAX bytes). Sets
 * *oom when it failed for want of memory (PMX_ENOMEM, not a configuration error). */
static char *read_small(const char *path, size_t *len, bool *oom) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return NULL;
  char *buf = pmx__malloc(PMX__CONFIG_PEM_MAX + 1);
  if (buf == NULL) *oom = true;
  size_t n = buf != NULL ? fread(buf, 1, PMX__CONFIG_PEM_MAX, f) : 0;
  bool ok = buf != NULL && !ferror(f);
  fclose(f);
  if (!ok) {
    pmx__free(buf);
    return NULL;
  }
  buf[n] = '\0';
  *len = n;
  return buf;
}

/* The certificate and key must be a PEM pair GnuTLS (which the server uses) accepts: a garbage
 * file or a key of another certificate fails here, with the file named, not at start. */
static int check_pem_pair(const char *cert_file, const char *key_file, const char **kout, char *msg,
                          size_t cap) {
  size_t cl = 0, kl = 0;
  bool oom = false;
  char *cert = read_small(cert_file, &cl, &oom);
  char *key = cert != NULL ? read_small(key_file, &kl, &oom) : NULL;
  int rc = PMX_OK;
  gnutls_certificate_credentials_t cred;
  if (oom) {
    /* Out of memory is not the file's fault: PMX_ENOMEM, as every other allocation failure. */
    bad(kout, cert == NULL ? "cert_file" : "key_file", msg, cap, "out of memory reading \"%s\"",
        cert == NULL ? cert_file : key_file);
    rc = PMX_ENOMEM;
  } else if (cert == NULL || key == NULL) {
    rc = bad(kout, cert == NULL ? "cert_file" : "key_file", msg, cap, "cannot read \"%s\": %s",
             cert == NULL ? cert_file : key_file, strerror(errno));
  } else if (gnutls_certificate_allocate_credentials(&cred) != GNUTLS_E_SUCCESS) {
    bad(kout, "cert_file", msg, cap, "out of memory checking the certificate");
    rc = PMX_ENOMEM;
  } else {
    gnutls_datum_t c = {(unsigned char *)cert, (unsigned)cl};
    gnutls_datum_t k = {(unsigned char *)key, (unsigned)kl};
    int grc = gnutls_certificate_set_x509_key_mem2(cred, &c, &k, GNUTLS_X509_FMT_PEM, NULL, 0);
    gnutls_certificate_free_credentials(cred);
    if (grc < 0)
      rc = bad(kout, "cert_file", msg, cap, "\"%s\" and key_file \"%s\" are not a usable PEM certificate and key: %s",
               cert_file, key_file, gnutls_strerror(grc));
  }
  if (key != NULL) explicit_bzero(key, kl); /* do not leave the private key in freed memory */
  pmx__free(key);
  pmx__free(cert);
  return rc;
}

int pmx__config_check_server(const pmx_server_config_t *s, const char **key, char *msg, size_t cap) {
  pmx_config_t whole;
  memset(&whole, 0, sizeof whole);
  whole.metrics_server = *s;
  for (size_t i = 0; i < pmx__n_config_rules; i++) {
    const pmx__config_rule_t *r = &pmx__config_rules[i];
    if (strcmp(r->section, SRV) != 0) continue;
    if (r->type == PMX__OPT_STR) {
      const char *v = pmx__config_rule_get_str(r, &whole);
      if (v != NULL && !pmx__config_rule_check_str(r, v, msg, cap)) return found(key, r->key);
    } else if (r->type == PMX__OPT_UINT) {
      if (!pmx__config_rule_check_uint(r, pmx__config_rule_get_uint(r, &whole), true, msg, cap))
        return found(key, r->key);
    } else if (r->type == PMX__OPT_ENUM) {
      if (!pmx__config_rule_check_enum(r, pmx__config_rule_get_uint(r, &whole), msg, cap))
        return found(key, r->key);
    }
  }
  switch (s->auth_strategy) {
    case PMX_AUTH_BEARER:
      if (empty(s->auth_token)) return bad(key, "auth_token", msg, cap, "required when auth_strategy is bearer");
      break;
    case PMX_AUTH_BASIC: {
      if (empty(s->auth_user)) return bad(key, "auth_user", msg, cap, "required when auth_strategy is basic");
      if (empty(s->auth_password))
        return bad(key, "auth_password", msg, cap, "required when auth_strategy is basic");
      /* The request carries base64(user ":" password), and the server looks at no more than
       * PMX__CONFIG_SECRET_MAX bytes of it. */
      size_t plain = strlen(s->auth_user) + 1 + strlen(s->auth_password);
      size_t encoded = (plain + 2) / 3 * 4;
      if (encoded > PMX__CONFIG_SECRET_MAX)
        return bad(key, "auth_password", msg, cap,
                   "user and password are %zu bytes together, so the Authorization header would carry "
                   "%zu bytes of base64, above the limit of %u; it could never match",
                   plain - 1, encoded, PMX__CONFIG_SECRET_MAX);
      break;
    }
    default:
      break;
  }
  if (s->protocol == PMX_PROTO_HTTPS) {
    int rc = check_pem("cert_file", s->cert_file, key, msg, cap);
    if (rc == PMX_OK) rc = check_pem("key_file", s->key_file, key, msg, cap);
    if (rc == PMX_OK) rc = check_pem_pair(s->cert_file, s->key_file, key, msg, cap);
    if (rc != PMX_OK) return rc;
  }
  unsigned pool = s->pool_size ? s->pool_size : PMX__CONFIG_DEFAULT_POOL_SIZE;
  unsigned maxc = s->max_connections ? s->max_connections : PMX__CONFIG_DEFAULT_MAX_CONNECTIONS;
  /* libmicrohttpd splits the connection limit between the pool's threads. */
  if (pool > maxc)
    return bad(key, "pool_size", msg, cap, "%u threads exceed max_connections (%u); each thread needs a connection",
               pool, maxc);
  return PMX_OK;
}
