/* The seen set (pmx_seen_*, include/promex/plugin.h): which things a poll found, so that the
 * ones a later poll no longer finds can be retired. A poll usually lists the same things in the
 * same order (mounts, interfaces, libraries), so a lookup first tries the entry after the one
 * found last: a steady poll costs one comparison per key, and only a reordered list pays a
 * linear scan. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"
#include "promex/plugin.h"

typedef struct seen_entry {
  char *key;
  uint32_t poll; /* the last poll that marked it */
} seen_entry_t;

struct pmx_seen {
  seen_entry_t *entries;
  size_t n, cap;
  size_t hint;   /* where the next key probably is */
  uint32_t poll; /* the poll in progress */
  bool lost;     /* a mark failed in this poll: its key must not be taken for gone */
};

int pmx_seen_new(pmx_seen_t **out) {
  if (out == NULL) return PMX_EINVAL;
  *out = pmx__calloc(1, sizeof **out);
  return *out == NULL ? PMX_ENOMEM : PMX_OK;
}

void pmx_seen_free(pmx_seen_t *s) {
  if (s == NULL) return;
  for (size_t i = 0; i < s->n; i++) pmx__free(s->entries[i].key);
  pmx__free(s->entries);
  pmx__free(s);
}

static seen_entry_t *find(pmx_seen_t *s, const char *key) {
  if (s->hint < s->n && strcmp(s->entries[s->hint].key, key) == 0) return &s->entries[s->hint++];
  for (size_t i = 0; i < s->n; i++) {
    if (strcmp(s->entries[i].key, key) == 0) {
      s->hint = i + 1;
      return &s->entries[i];
    }
  }
  return NULL;
}

int pmx_seen_mark(pmx_seen_t *s, const char *key) {
  if (s == NULL || key == NULL) return PMX_EINVAL;
  seen_entry_t *e = find(s, key);
  if (e != NULL) {
    e->poll = s->poll;
    return PMX_OK;
  }
  if (s->n == s->cap) {
    size_t ncap = s->cap ? s->cap * 2 : 8;
    seen_entry_t *ne = pmx__realloc(s->entries, ncap * sizeof *ne);
    if (ne == NULL) {
      s->lost = true;
      return PMX_ENOMEM;
    }
    s->entries = ne;
    s->cap = ncap;
  }
  char *copy = pmx__strdup(key);
  if (copy == NULL) {
    s->lost = true;
    return PMX_ENOMEM;
  }
  s->entries[s->n++] = (seen_entry_t){copy, s->poll};
  s->hint = s->n;
  return PMX_OK;
}

int pmx_seen_sweep(pmx_seen_t *s, void (*gone)(const char *key, void *arg), void *arg) {
  if (s == NULL) return PMX_EINVAL;
  size_t kept = 0;
  int n_gone = 0;
  for (size_t i = 0; i < s->n; i++) {
    seen_entry_t e = s->entries[i];
    if (e.poll != s->poll && !s->lost) {
      if (gone != NULL) gone(e.key, arg);
      pmx__free(e.key);
      n_gone++;
      continue;
    }
    e.poll = s->poll; /* after a failed mark, the unmarked count as seen: gone only next time */
    s->entries[kept++] = e;
  }
  s->n = kept;
  s->hint = 0;
  s->lost = false;
  s->poll++;
  return n_gone;
}
