/* The groups builder that plugin callbacks fill (PromEx.MetricTypes.Event/Polling/Manual.build).
 *
 * Every metric definition is deep-copied when added, so plugins may build definitions on the
 * stack. A definition whose prefix is NULL gets the plugin's metric prefix. Group names are unique
 * across the whole set (all plugins of one configuration); the first add error is also kept in the
 * set ("sticky") so that a plugin ignoring a return code cannot make start succeed. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "plugin_api/plugin_api_internal.h"

#define GROUP_NAME_MAX 128

char *pmx__default_prefix(const char *app, const char *plugin) {
  size_t n = strlen(app) + strlen(plugin) + sizeof "_prom_ex_";
  char *s = pmx__malloc(n);
  if (s != NULL) snprintf(s, n, "%s_prom_ex_%s", app, plugin);
  return s;
}

static void free_def(pmx_metric_def_t *d) {
  pmx__free((char *)d->prefix);
  pmx__free((char *)d->name);
  pmx__free((char *)d->description);
  pmx__free((char *)d->event_name);
  pmx__free((char *)d->measurement);
  if (d->tags != NULL) {
    for (size_t i = 0; i < d->n_tags; i++) pmx__free((char *)d->tags[i]);
    pmx__free((void *)d->tags);
  }
  pmx__free((void *)d->buckets);
  memset(d, 0, sizeof *d);
}

static int dup_str(const char *src, const char **dst) {
  *dst = NULL;
  if (src == NULL) return PMX_OK;
  char *c = pmx__strdup(src);
  if (c == NULL) return PMX_ENOMEM;
  *dst = c;
  return PMX_OK;
}

/* Copies `s` into `d` (zeroed on entry); `prefix` replaces a NULL s->prefix. */
static int copy_def(const pmx_metric_def_t *s, const char *prefix, pmx_metric_def_t *d) {
  *d = *s;
  d->prefix = d->name = d->description = d->event_name = d->measurement = NULL;
  d->tags = NULL;
  d->buckets = NULL;
  int rc = PMX_OK;
  if (dup_str(s->prefix != NULL ? s->prefix : prefix, &d->prefix) ||
      dup_str(s->name, &d->name) || dup_str(s->description, &d->description) ||
      dup_str(s->event_name, &d->event_name) || dup_str(s->measurement, &d->measurement))
    rc = PMX_ENOMEM;
  if (rc == PMX_OK && s->n_tags > 0) {
    const char **tags = pmx__calloc(s->n_tags, sizeof *tags);
    if (tags == NULL) {
      rc = PMX_ENOMEM;
    } else {
      d->tags = tags;
      for (size_t i = 0; i < s->n_tags && rc == PMX_OK; i++) rc = dup_str(s->tags[i], &tags[i]);
    }
  }
  if (rc == PMX_OK && s->n_buckets > 0) {
    double *b = pmx__malloc(s->n_buckets * sizeof *b);
    if (b == NULL) {
      rc = PMX_ENOMEM;
    } else {
      memcpy(b, s->buckets, s->n_buckets * sizeof *b);
      d->buckets = b;
    }
  }
  if (rc != PMX_OK) free_def(d);
  return rc;
}

void pmx__group_free(pmx__group_t *g) {
  if (g->ctx_free != NULL) g->ctx_free(g->ctx);
  g->ctx_free = NULL;
  for (size_t i = 0; i < g->n_metrics; i++) free_def(&g->metrics[i]);
  pmx__free(g->metrics);
  pmx__free(g->name);
  pmx__free(g->plugin);
}

pmx_groups_t *pmx__groups_new(void) { return pmx__calloc(1, sizeof(pmx_groups_t)); }

void pmx__groups_take(pmx_groups_t *g, size_t i, pmx__group_t *out) {
  *out = g->items[i];
  pmx__group_t *slot = &g->items[i];
  slot->ctx = NULL;
  slot->ctx_free = NULL;
  slot->metrics = NULL;
  slot->n_metrics = 0;
  slot->name = NULL;
  slot->plugin = NULL;
}

void pmx__groups_free(pmx_groups_t *g) {
  if (g == NULL) return;
  for (size_t i = 0; i < g->n; i++) pmx__group_free(&g->items[i]);
  pmx__free(g->items);
  pmx__free(g);
}

static bool valid_group_name(const char *s) {
  size_t n = 0;
  for (; s[n] != '\0'; n++) {
    char c = s[n];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  }
  return n > 0 && n <= GROUP_NAME_MAX;
}

/* Records the error in the plugin's ctx->err and in the set's sticky slot. */
static int group_fail(pmx_groups_t *out, int code, const char *group, const char *fmt, ...)
    PMX_PRINTF(4, 5);
static int group_fail(pmx_groups_t *out, int code, const char *group, const char *fmt, ...) {
  pmx_error_t e;
  memset(&e, 0, sizeof e);
  va_list ap;
  va_start(ap, fmt);
  pmx__vfail(&e, code, group != NULL ? group : "", fmt, ap);
  va_end(ap);
  if (out->cur != NULL && out->cur->err != NULL) *out->cur->err = e;
  if (out->sticky_code == PMX_OK) {
    out->sticky_code = code;
    out->sticky_err = e;
  }
  return code;
}

static int check_defs(pmx_groups_t *out, const char *group, const pmx_metric_def_t *m, size_t n) {
  const char *plugin = out->cur->plugin_name;
  if (m == NULL || n == 0)
    return group_fail(out, PMX_EINVAL, group, "plugin \"%s\" group \"%s\": no metrics given", plugin,
                      group);
  for (size_t i = 0; i < n; i++) {
    const pmx_metric_def_t *d = &m[i];
    const char *why = NULL;
    if (d->name == NULL || d->name[0] == '\0') why = "metric has no name";
    else if (d->n_tags > PMX_MAX_TAGS) why = "too many tags";
    else if (d->n_tags > 0 && d->tags == NULL) why = "n_tags > 0 but tags is NULL";
    else if (d->n_buckets > PMX_MAX_BUCKETS) why = "too many buckets";
    else if (d->n_buckets > 0 && d->buckets == NULL) why = "n_buckets > 0 but buckets is NULL";
    for (size_t t = 0; why == NULL && t < d->n_tags; t++)
      if (d->tags[t] == NULL) why = "a tag name is NULL";
    if (why != NULL)
      return group_fail(out, PMX_EINVAL, group, "plugin \"%s\" group \"%s\" metric #%zu (%s): %s",
                        plugin, group, i, d->name != NULL ? d->name : "?", why);
  }
  return PMX_OK;
}

static int add_group(pmx_groups_t *out, pmx__group_kind_t kind, const char *group_name,
                     uint32_t poll_rate_ms, pmx_measure_cb measure, void *ctx,
                     void (*ctx_free)(void *), const pmx_metric_def_t *metrics, size_t n) {
  int rc;
  if (out == NULL || out->cur == NULL) {
    /* Not called from a plugin callback: nothing to record the error in. */
    if (ctx_free != NULL) ctx_free(ctx);
    return PMX_EINVAL;
  }
  const char *plugin = out->cur->plugin_name;
  if (group_name == NULL || !valid_group_name(group_name)) {
    rc = group_fail(out, PMX_EINVAL, group_name, "plugin \"%s\": group name \"%s\" must match "
                    "[A-Za-z0-9_]{1,128}", plugin, group_name != NULL ? group_name : "(null)");
    goto fail;
  }
  if (kind != PMX__GROUP_EVENT && measure == NULL) {
    rc = group_fail(out, PMX_EINVAL, group_name,
                    "plugin \"%s\" group \"%s\": a measurement callback is required", plugin,
                    group_name);
    goto fail;
  }
  for (size_t i = 0; i < out->n; i++) {
    if (strcmp(out->items[i].name, group_name) == 0) {
      rc = group_fail(out, PMX_EEXIST, group_name,
                      "group \"%s\" of plugin \"%s\" is already defined by plugin \"%s\"",
                      group_name, plugin, out->items[i].plugin);
      goto fail;
    }
  }
  if ((rc = check_defs(out, group_name, metrics, n)) != PMX_OK) goto fail;
  if (out->n == out->cap) {
    size_t cap = out->cap ? out->cap * 2 : 8;
    pmx__group_t *items = pmx__realloc(out->items, cap * sizeof *items);
    if (items == NULL) goto nomem;
    out->items = items;
    out->cap = cap;
  }
  pmx__group_t g;
  memset(&g, 0, sizeof g);
  g.kind = kind;
  g.poll_rate_ms = poll_rate_ms != 0 ? poll_rate_ms : out->cur->poll_rate_ms;
  g.poll_timeout_ms = out->cur_poll_timeout_ms != 0 ? out->cur_poll_timeout_ms : g.poll_rate_ms;
  g.measure = measure;
  g.name = pmx__strdup(group_name);
  g.plugin = pmx__strdup(plugin);
  g.metrics = pmx__calloc(n, sizeof *g.metrics);
  if (g.name == NULL || g.plugin == NULL || g.metrics == NULL) goto nomem_g;
  for (; g.n_metrics < n; g.n_metrics++)
    if (copy_def(&metrics[g.n_metrics], out->cur->metric_prefix, &g.metrics[g.n_metrics]) != PMX_OK)
      goto nomem_g;
  g.ctx = ctx;
  g.ctx_free = ctx_free;
  out->items[out->n++] = g;
  return PMX_OK;

nomem_g:
  pmx__group_free(&g);
nomem:
  rc = group_fail(out, PMX_ENOMEM, group_name, "plugin \"%s\" group \"%s\": out of memory", plugin,
                  group_name);
fail:
  /* The group's ctx was handed over with this call: free it now, as start will fail. */
  if (ctx_free != NULL) ctx_free(ctx);
  return rc;
}

int pmx_groups_add_event(pmx_groups_t *out, const char *group_name,
                         const pmx_metric_def_t *metrics, size_t n) {
  return add_group(out, PMX__GROUP_EVENT, group_name, 0, NULL, NULL, NULL, metrics, n);
}

int pmx_groups_add_polling(pmx_groups_t *out, const char *group_name, uint32_t poll_rate_ms,
                           pmx_measure_cb measure, void *ctx, void (*ctx_free)(void *),
                           const pmx_metric_def_t *metrics, size_t n) {
  return add_group(out, PMX__GROUP_POLLING, group_name, poll_rate_ms, measure, ctx, ctx_free,
                   metrics, n);
}

int pmx_groups_add_manual(pmx_groups_t *out, const char *group_name, pmx_measure_cb measure,
                          void *ctx, void (*ctx_free)(void *), const pmx_metric_def_t *metrics,
                          size_t n) {
  return add_group(out, PMX__GROUP_MANUAL, group_name, 0, measure, ctx, ctx_free, metrics, n);
}
