/* A bump allocator for series and series tables: they are never freed individually (readers hold
 * them without locks), so per-object malloc headers would be pure overhead. Chunks start small
 * and double up to 1 MiB, keeping tiny metrics tiny. Chunks are numbered in a directory so that
 * a series can name the next one in its chain with 32 bits (core_internal.h: pmx__arena_handle).
 * Not thread-safe: callers hold the metric mutex; only pmx__arena_at is for lock-free readers. */
#include <stdlib.h>
#include <string.h>

#include "core/shared_store.h"

#define FIRST_CHUNK 1024
#define MAX_CHUNK (1024 * 1024)
#define FIRST_DIR 8

_Static_assert(MAX_CHUNK + 2 * PMX_CACHELINE <= ((size_t)8 << PMX__HANDLE_OFFSET_BITS),
               "every series that starts in the first MAX_CHUNK bytes of a chunk has a handle");

/* Memory for the arena's own structures: from the shared mapping when the arena lives there (a
 * shared metric's), so that every process can follow them. */
static void *arena_mem(const pmx__arena_t *a, size_t size) {
  return pmx__shm_owns(a) ? pmx__shm_alloc(size) : pmx__malloc(size);
}

/* A directory with room for one more chunk: the current one, or a copy twice its size that
 * replaces it (the old one stays readable for readers that loaded it). NULL without memory or
 * past PMX__HANDLE_MAX_CHUNKS. */
static pmx__chunk_dir_t *dir_with_room(pmx__arena_t *a) {
  pmx__chunk_dir_t *d = atomic_load_explicit(&a->dir, memory_order_relaxed);
  if (d != NULL && d->n + 1 < d->cap) return d;
  size_t cap = d ? d->cap * 2 : FIRST_DIR;
  if (cap > PMX__HANDLE_MAX_CHUNKS + 1) cap = PMX__HANDLE_MAX_CHUNKS + 1;
  if (d != NULL && d->n + 1 >= cap) return NULL;
  pmx__chunk_dir_t *nd = arena_mem(a, sizeof *nd + cap * sizeof nd->base[0]);
  if (nd == NULL) return NULL;
  nd->retired_next = NULL;
  nd->n = d ? d->n : 0;
  nd->cap = cap;
  for (size_t i = 0; i < cap; i++) nd->base[i] = d && i <= d->n ? d->base[i] : NULL;
  atomic_store_explicit(&a->dir, nd, memory_order_release);
  if (d != NULL) {
    d->retired_next = a->retired_dirs;
    a->retired_dirs = d;
  }
  return nd;
}

void *pmx__arena_alloc(pmx__arena_t *a, size_t size) {
  size = (size + 7) & ~(size_t)7; /* 8: every field is at most 8-aligned */
  pmx__arena_chunk_t *c = a->head;
  /* No allocation starts past MAX_CHUNK (only an oversized chunk goes further), so that every
   * series has a handle. */
  if (c == NULL || c->cap - c->used < size || c->used >= MAX_CHUNK) {
    pmx__chunk_dir_t *d = dir_with_room(a);
    if (d == NULL) return NULL;
    size_t cap = a->next_cap ? a->next_cap : FIRST_CHUNK;
    if (a->next_cap < MAX_CHUNK) a->next_cap = cap * 2;
    if (cap < size) cap = size;
    c = arena_mem(a, sizeof *c + cap + PMX__ARENA_TAIL);
    if (c == NULL) return NULL;
    memset(c->data + cap, 0, PMX__ARENA_TAIL);
    c->used = 0;
    c->cap = cap;
    c->id = (uint32_t)++d->n;
    /* Numbered before any handle into it can be published (release stores of table slots). */
    d->base[c->id] = c->data;
    c->next = a->head;
    a->head = c;
  }
  void *p = c->data + c->used;
  c->used += size;
  return p;
}

static uint32_t handle_in(const pmx__arena_chunk_t *c, const unsigned char *p) {
  size_t off = (size_t)(p - c->data);
  return (c->id << PMX__HANDLE_OFFSET_BITS) | (uint32_t)(off >> 3);
}

uint32_t pmx__arena_handle(const pmx__arena_t *a, const void *ptr) {
  const unsigned char *p = ptr;
  /* Pointers are compared as integers: p need not be inside the chunk being tested. */
  const pmx__arena_chunk_t *c = a->head;
  uintptr_t u = (uintptr_t)p;
  for (; c != NULL; c = c->next) { /* newest first: a new series is mostly in the head */
    if (u >= (uintptr_t)c->data && u < (uintptr_t)c->data + c->cap) return handle_in(c, p);
  }
  return 0;
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
  pmx__free(atomic_load_explicit(&a->dir, memory_order_relaxed));
  atomic_store_explicit(&a->dir, NULL, memory_order_relaxed);
  while (a->retired_dirs != NULL) {
    pmx__chunk_dir_t *d = a->retired_dirs;
    a->retired_dirs = d->retired_next;
    pmx__free(d);
  }
}
