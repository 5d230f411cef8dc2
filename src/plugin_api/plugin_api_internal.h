/* Private to promex: the layout of a set of metric groups (what plugin callbacks fill through
 * pmx_groups_add_*, include/promex/plugin.h) and the functions the runtime uses to build, read
 * and free one (pmx__groups_ prefix). The plugin API area depends on the core only, so that
 * plugins (which call pmx_groups_add_*) do not depend on the runtime that runs them.
 *
 * Invariants:
 *  - A set owns deep copies of every metric definition added to it (strings, tag arrays,
 *    buckets); function pointers and their ctx are borrowed from the plugin.
 *  - Every group's ctx_free runs exactly once: in pmx__groups_free(), or in pmx__group_free()
 *    for a group taken out of its set with pmx__groups_take(). */
#ifndef PMX_PLUGIN_API_INTERNAL_H
#define PMX_PLUGIN_API_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "promex/plugin.h"

typedef enum pmx__group_kind { PMX__GROUP_EVENT = 0, PMX__GROUP_POLLING, PMX__GROUP_MANUAL } pmx__group_kind_t;

typedef struct pmx__group {
  char *name;
  char *plugin;                   /* name of the plugin that added it */
  pmx__group_kind_t kind;
  uint32_t poll_rate_ms;          /* polling: resolved (never 0) */
  uint32_t poll_timeout_ms;       /* polling: resolved (never 0), see pmx_plugin_ctx_t */
  pmx_measure_cb measure;         /* polling, manual */
  void *ctx;
  void (*ctx_free)(void *);
  pmx_metric_def_t *metrics;      /* deep copies */
  size_t n_metrics;
  bool dropped;                   /* named in drop_metrics_groups */
} pmx__group_t;

struct pmx_groups {
  pmx__group_t *items;
  size_t n, cap;
  /* The plugin whose callback is running, and its context (for prefix, poll rate, err). */
  const pmx_plugin_ctx_t *cur;
  /* Poll timeout of the plugin whose callback is running (0: each group's poll rate). */
  uint32_t cur_poll_timeout_ms;
  /* First error recorded by an add (kept even if the plugin ignores the return code). */
  int sticky_code;
  pmx_error_t sticky_err;
};

/* A new empty set (calloc'd), or NULL on ENOMEM. */
pmx_groups_t *pmx__groups_new(void);

/* Frees the set: runs every remaining group's ctx_free, frees the copies. NULL is a no-op. */
void pmx__groups_free(pmx_groups_t *g);

/* Moves group `i` out of the set into *out (the caller then owns it: pmx__group_free). The slot
 * stays, empty (no ctx, no ctx_free), so indices of the other groups do not change. */
void pmx__groups_take(pmx_groups_t *g, size_t i, pmx__group_t *out);

/* Runs the group's ctx_free (once) and frees its copies. */
void pmx__group_free(pmx__group_t *g);

/* The default metric prefix of a plugin: "<app>_prom_ex_<plugin>" (malloc'd, NULL on ENOMEM). */
char *pmx__default_prefix(const char *app, const char *plugin);

#endif
