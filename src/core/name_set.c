/* The names a registry's families occupy once rendered (see pmx__family_names): an open-addressing
 * hash set, so a definition checks its handful of names in O(1) each instead of comparing with
 * every family. Written under the registry mutex only; never read by renders or updates. */
#include <stdlib.h>
#include <string.h>

#include "core/core_internal.h"

static uint64_t fnv1a(const char *s, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
  return h;
}

const pmx__name_entry_t *pmx__names_find(const pmx__name_set_t *set, const char *name, size_t len) {
  if (set->cap == 0) return NULL;
  for (size_t i = fnv1a(name, len) & (set->cap - 1);; i = (i + 1) & (set->cap - 1)) {
    const pmx__name_entry_t *e = &set->slots[i];
    if (e->name == NULL) return NULL;
    if (strncmp(e->name, name, len) == 0 && e->name[len] == '\0') return e;
  }
}

static void put(pmx__name_entry_t *slots, size_t cap, pmx__name_entry_t e) {
  size_t i = fnv1a(e.name, strlen(e.name)) & (cap - 1);
  while (slots[i].name != NULL) i = (i + 1) & (cap - 1);
  slots[i] = e;
}

int pmx__names_add(pmx__name_set_t *set, const char *name, size_t len, const char *owner,
                   const char *owner_type) {
  if ((set->n + 1) * 2 > set->cap) { /* keep the load under 1/2 */
    size_t cap = set->cap ? set->cap * 2 : 64;
    pmx__name_entry_t *slots = pmx__calloc(cap, sizeof *slots);
    if (slots == NULL) return PMX_ENOMEM;
    for (size_t i = 0; i < set->cap; i++) {
      if (set->slots[i].name != NULL) put(slots, cap, set->slots[i]);
    }
    pmx__free(set->slots);
    set->slots = slots;
    set->cap = cap;
  }
  char *copy = pmx__strndup(name, len);
  if (copy == NULL) return PMX_ENOMEM;
  pmx__name_entry_t e = {copy, owner, owner_type};
  put(set->slots, set->cap, e);
  set->n++;
  return PMX_OK;
}

void pmx__names_free(pmx__name_set_t *set) {
  for (size_t i = 0; i < set->cap; i++) pmx__free(set->slots[i].name);
  pmx__free(set->slots);
  memset(set, 0, sizeof *set);
}
