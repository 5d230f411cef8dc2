/* A bump allocator for series and series tables: they are never freed individually (readers hold
 * them without locks), so per-object malloc headers would be pure overhead. Chunks start small
 * and double up to 1 MiB, keeping tiny metrics tiny. Not thread-safe: callers hold the metric
 * mutex. */
#include <stdlib.h>

#include "core/shared_store.h"

#define FIRST_CHUNK 1024
#define MAX_CHUNK (1024 * 1024)

void *pmx__arena_alloc(pmx__arena_t *a, size_t size) {
  size = (size + 7) & ~(size_t)7; /* 8: every field is at most 8-aligned */
  pmx__arena_chunk_t *c = a->head;
  if (c == NULL || c->cap - c->used < size) {
    size_t cap = a->next_cap ? a->next_cap : FIRST_CHUNK;
    if (a->next_cap < MAX_CHUNK) a->next_cap = cap * 2;
    if (cap < size) cap = size;
    /* An arena inside the shared mapping (a shared metric's) takes its chunks from there too. */
    c = pmx__shm_owns(a) ? pmx__shm_alloc(sizeof *c + cap) : pmx__malloc(sizeof *c + cap);
    if (c == NULL) return NULL;
    c->used = 0;
    c->cap = cap;
    c->next = a->head;
    a->head = c;
  }
  void *p = c->data + c->used;
  c->used += size;
  return p;
}

void pmx__arena_free(pmx__arena_t *a) {
  if (pmx__shm_owns(a)) return; /* freed with the mapping */
  pmx__arena_chunk_t *c = a->head;
  while (c != NULL) {
    pmx__arena_chunk_t *next = c->next;
    pmx__free(c);
    c = next;
  }
  a->head = NULL;
  a->next_cap = 0;
}
