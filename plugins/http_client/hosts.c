/* Host grouping for the http_client plugin (see hosts.h).
 *
 * Learned names live in a fixed array of atomically published pointers: readers scan the
 * published prefix without a lock; a writer (mutex) appends and then bumps the count with
 * release ordering, so a reader that sees the count sees the string. Strings are never freed
 * before the table, which outlives every metric that reads it (the plugin frees it after the
 * registry is destroyed). */
#include "http_client/hosts.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct pattern {
  char *text;     /* sanitised pattern, also the label for wildcards */
  bool any;       /* "*" */
  bool suffix;    /* "*.x": text + 1 is ".x" */
} pattern_t;

struct pmx__hc_hosts {
  pattern_t *pats;
  size_t n_pats;
  size_t max_hosts;
  _Atomic(char *) *learned;   /* max_hosts slots */
  atomic_size_t n_learned;
  pthread_mutex_t mu;
};

static bool host_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_' ||
         c == ':' || c == '[' || c == ']';
}

const char *pmx__hc_sanitize_host(const char *host, char *out, size_t cap) {
  size_t n = 0;
  if (host != NULL) {
    for (; host[n] != '\0' && n + 1 < cap && n < PMX_HC_HOST_MAX; n++) {
      unsigned char c = (unsigned char)host[n];
      if (c >= 'A' && c <= 'Z') c = (unsigned char)(c - 'A' + 'a');
      out[n] = host_char(c) ? (char)c : '_';
    }
  }
  if (n == 0) {
    strncpy(out, "unknown", cap - 1);
    out[cap - 1] = '\0';
    return out;
  }
  out[n] = '\0';
  return out;
}

void pmx__hc_hosts_free(pmx__hc_hosts_t *h) {
  if (h == NULL) return;
  for (size_t i = 0; i < h->n_pats; i++) pmx__free(h->pats[i].text);
  pmx__free(h->pats);
  size_t n = atomic_load(&h->n_learned);
  for (size_t i = 0; i < n; i++) pmx__free(atomic_load(&h->learned[i]));
  pmx__free((void *)h->learned);
  pthread_mutex_destroy(&h->mu);
  pmx__free(h);
}

/* Adds one pattern [s, s+len) after trimming blanks. */
static bool add_pattern(pmx__hc_hosts_t *h, const char *s, size_t len, const char **why) {
  while (len > 0 && (*s == ' ' || *s == '\t')) s++, len--;
  while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t')) len--;
  if (len == 0) {
    *why = "empty host pattern";
    return false;
  }
  if (len > PMX_HC_HOST_MAX) {
    *why = "host pattern longer than 128 bytes";
    return false;
  }
  char raw[PMX_HC_HOST_MAX + 1];
  memcpy(raw, s, len);
  raw[len] = '\0';
  pattern_t p = {0};
  if (strcmp(raw, "*") == 0) {
    p.any = true;
  } else if (raw[0] == '*') {
    if (len < 3 || raw[1] != '.' || strchr(raw + 1, '*') != NULL) {
      *why = "a wildcard pattern must look like *.example.com";
      return false;
    }
    p.suffix = true;
  } else if (strchr(raw, '*') != NULL) {
    *why = "'*' is only allowed as \"*\" or a leading \"*.\"";
    return false;
  }
  const char *name = p.suffix ? raw + 1 : raw;
  for (const char *c = name; !p.any && *c; c++)
    if (!host_char((unsigned char)*c) && !(*c >= 'A' && *c <= 'Z')) {
      *why = "host pattern has a character not allowed in a host name";
      return false;
    }
  /* The label of a suffix pattern keeps its '*'. */
  char clean[PMX_HC_HOST_MAX + 2] = "*";
  if (!p.any) pmx__hc_sanitize_host(name, clean + (p.suffix ? 1 : 0), sizeof clean - 1);
  p.text = pmx__strdup(p.any ? "*" : clean);
  if (p.text == NULL) {
    *why = "out of memory";
    return false;
  }
  h->pats[h->n_pats++] = p;
  return true;
}

pmx__hc_hosts_t *pmx__hc_hosts_new(const char *patterns, size_t max_hosts, const char **why) {
  static const char *ignored;
  if (why == NULL) why = &ignored;
  if (patterns == NULL) patterns = "*";
  if (max_hosts == 0 || max_hosts > PMX_HC_MAX_HOSTS_LIMIT) {
    *why = "max_hosts must be between 1 and 1000";
    return NULL;
  }
  pmx__hc_hosts_t *h = pmx__calloc(1, sizeof *h);
  if (h == NULL) {
    *why = "out of memory";
    return NULL;
  }
  pthread_mutex_init(&h->mu, NULL);
  size_t n = 1;
  for (const char *c = patterns; *c; c++) n += *c == ',';
  h->pats = pmx__calloc(n, sizeof *h->pats);
  h->max_hosts = max_hosts;
  h->learned = pmx__calloc(max_hosts, sizeof *h->learned);
  if (h->pats == NULL || h->learned == NULL) {
    *why = "out of memory";
    pmx__hc_hosts_free(h);
    return NULL;
  }
  const char *s = patterns;
  for (;;) {
    const char *e = strchr(s, ',');
    size_t len = e != NULL ? (size_t)(e - s) : strlen(s);
    if (!add_pattern(h, s, len, why)) {
      pmx__hc_hosts_free(h);
      return NULL;
    }
    if (e == NULL) break;
    s = e + 1;
  }
  return h;
}

static bool ends_with(const char *s, size_t n, const char *suffix) {
  size_t m = strlen(suffix);
  return n > m && memcmp(s + n - m, suffix, m) == 0;
}

/* The learned copy of `host`, learning it when there is room; NULL when the table is full. */
static const char *learn(pmx__hc_hosts_t *h, const char *host) {
  size_t n = atomic_load_explicit(&h->n_learned, memory_order_acquire);
  for (size_t i = 0; i < n; i++) {
    const char *s = atomic_load_explicit(&h->learned[i], memory_order_relaxed);
    if (strcmp(s, host) == 0) return s;
  }
  if (n >= h->max_hosts) return NULL;
  const char *found = NULL;
  pthread_mutex_lock(&h->mu);
  size_t m = atomic_load_explicit(&h->n_learned, memory_order_relaxed);
  for (size_t i = n; i < m && found == NULL; i++) {   /* added while we were unlocked */
    const char *s = atomic_load_explicit(&h->learned[i], memory_order_relaxed);
    if (strcmp(s, host) == 0) found = s;
  }
  if (found == NULL && m < h->max_hosts) {
    char *copy = pmx__strdup(host);
    if (copy != NULL) {
      atomic_store_explicit(&h->learned[m], copy, memory_order_relaxed);
      atomic_store_explicit(&h->n_learned, m + 1, memory_order_release);
      found = copy;
    }
  }
  pthread_mutex_unlock(&h->mu);
  return found;
}

const char *pmx__hc_hosts_group(pmx__hc_hosts_t *h, const char *host) {
  char clean[PMX_HC_HOST_MAX + 1];
  pmx__hc_sanitize_host(host, clean, sizeof clean);
  size_t n = strlen(clean);
  for (size_t i = 0; i < h->n_pats; i++) {
    const pattern_t *p = &h->pats[i];
    if (p->any) {
      const char *s = learn(h, clean);
      return s != NULL ? s : "other";
    }
    if (p->suffix ? ends_with(clean, n, p->text + 1) : strcmp(clean, p->text) == 0) return p->text;
  }
  return "other";
}
