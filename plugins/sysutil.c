/* Shared helpers of the first-party plugins: reading a /proc file into a reusable buffer, line
 * iteration and comma-list matching for plugin options. See sysparse.h.
 *
 * /proc files report a size of 0 (or 4096) whatever their content, so pmx__slurp reads until EOF
 * and grows the buffer by doubling; the buffer lives in the group's ctx, so after the first polls
 * a steady-state read costs open + read(s) + close and no allocation. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "sysparse.h"

void pmx__text_free(pmx__text_t *t) {
  if (t == NULL) return;
  pmx__free(t->data);
  memset(t, 0, sizeof *t);
}

int pmx__slurp(const char *path, pmx__text_t *t, size_t max) {
  if (path == NULL || t == NULL || max < 2) return PMX_EINVAL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return PMX_ESYS;
  t->len = 0;
  int rc = PMX_OK;
  for (;;) {
    if (t->cap - t->len < 2) { /* room for at least one byte and the NUL */
      if (t->cap >= max) break; /* truncated */
      size_t ncap = t->cap ? t->cap * 2 : 4096;
      if (ncap > max) ncap = max;
      char *d = pmx__realloc(t->data, ncap);
      if (d == NULL) {
        rc = PMX_ENOMEM;
        break;
      }
      t->data = d;
      t->cap = ncap;
    }
    ssize_t n = read(fd, t->data + t->len, t->cap - t->len - 1);
    if (n < 0) {
      if (errno == EINTR) continue;
      rc = PMX_ESYS;
      break;
    }
    if (n == 0) break;
    t->len += (size_t)n;
  }
  int saved = errno;
  close(fd);
  errno = saved;
  if (rc != PMX_OK) {
    t->len = 0;
    if (t->data) t->data[0] = '\0';
    return rc;
  }
  if (t->data == NULL) { /* empty file and nothing allocated yet */
    t->data = pmx__malloc(1);
    if (t->data == NULL) return PMX_ENOMEM;
    t->cap = 1;
  }
  if (t->len + 1 >= max && t->len > 0) {
    /* Truncated: drop the partial last line so that parsers never see half a record. */
    char *nl = memrchr(t->data, '\n', t->len);
    if (nl != NULL) t->len = (size_t)(nl - t->data) + 1;
  }
  t->data[t->len] = '\0';
  return PMX_OK;
}

bool pmx__next_line(const char *text, size_t text_len, size_t *pos, const char **line,
                    size_t *len) {
  if (*pos >= text_len) return false;
  const char *start = text + *pos;
  const char *nl = memchr(start, '\n', text_len - *pos);
  size_t n = nl ? (size_t)(nl - start) : text_len - *pos;
  *line = start;
  *len = n;
  *pos += n + (nl ? 1 : 0);
  return true;
}

/* Calls back for each trimmed, non-empty entry of a comma list; stops when fn returns true. */
typedef bool (*entry_fn)(const char *e, size_t n, const void *arg);

static bool for_each_entry(const char *list, entry_fn fn, const void *arg) {
  if (list == NULL) return false;
  const char *p = list;
  while (*p) {
    const char *end = strchr(p, ',');
    if (end == NULL) end = p + strlen(p);
    const char *a = p, *b = end;
    while (a < b && (*a == ' ' || *a == '\t')) a++;
    while (b > a && (b[-1] == ' ' || b[-1] == '\t')) b--;
    if (b > a && fn(a, (size_t)(b - a), arg)) return true;
    p = *end ? end + 1 : end;
  }
  return false;
}

typedef struct {
  const char *s;
  size_t n;
} span_t;

static bool eq_entry(const char *e, size_t n, const void *arg) {
  const span_t *item = arg;
  return n == item->n && memcmp(e, item->s, n) == 0;
}

bool pmx__list_has(const char *list, const char *item, size_t item_len) {
  if (item == NULL) return false;
  span_t s = {item, item_len};
  return for_each_entry(list, eq_entry, &s);
}

static bool mount_entry(const char *e, size_t n, const void *arg) {
  const char *mp = arg;
  size_t mlen = strlen(mp);
  if (n > 1 && e[n - 1] == '/') /* "dir/": strictly below dir */
    return mlen > n && memcmp(mp, e, n) == 0;
  return n == mlen && memcmp(e, mp, n) == 0;
}

bool pmx__mount_list_match(const char *list, const char *mountpoint) {
  if (mountpoint == NULL) return false;
  return for_each_entry(list, mount_entry, mountpoint);
}

bool pmx__os_fs_selected(const char *include_mounts, const char *exclude_mounts,
                         const char *include_types, const char *exclude_types,
                         const pmx__mount_t *m) {
  size_t tl = strlen(m->fstype);
  if (include_types && !pmx__list_has(include_types, m->fstype, tl)) return false;
  if (exclude_types && pmx__list_has(exclude_types, m->fstype, tl)) return false;
  if (include_mounts && !pmx__mount_list_match(include_mounts, m->mountpoint)) return false;
  if (exclude_mounts && pmx__mount_list_match(exclude_mounts, m->mountpoint)) return false;
  return true;
}

void pmx__task_sum_begin(pmx__task_sum_t *s) { s->n_cur = 0; }

int pmx__task_sum_add(pmx__task_sum_t *s, int64_t tid, uint64_t value) {
  if (s->n_cur == PMX__TASKS_MAX) return PMX_ELIMIT;
  if (s->n_cur == s->cap_cur) {
    size_t cap = s->cap_cur ? s->cap_cur * 2 : 64;
    if (cap > PMX__TASKS_MAX) cap = PMX__TASKS_MAX;
    pmx__tid_value_t *c = pmx__realloc(s->cur, cap * sizeof *c);
    if (c == NULL) return PMX_ENOMEM;
    s->cur = c;
    s->cap_cur = cap;
  }
  s->cur[s->n_cur++] = (pmx__tid_value_t){tid, value};
  return PMX_OK;
}

static int by_tid(const void *a, const void *b) {
  int64_t x = ((const pmx__tid_value_t *)a)->tid, y = ((const pmx__tid_value_t *)b)->tid;
  return (x > y) - (x < y);
}

uint64_t pmx__task_sum_end(pmx__task_sum_t *s) {
  /* readdir of /proc/<pid>/task lists ids in ascending order in practice, but nothing promises
   * it: sort, then merge with the previous poll (also sorted). */
  qsort(s->cur, s->n_cur, sizeof *s->cur, by_tid);
  uint64_t inc = 0;
  size_t j = 0;
  for (size_t i = 0; i < s->n_cur; i++) {
    while (j < s->n_prev && s->prev[j].tid < s->cur[i].tid) j++;
    uint64_t v = s->cur[i].value;
    if (j < s->n_prev && s->prev[j].tid == s->cur[i].tid && v >= s->prev[j].value)
      inc += v - s->prev[j].value;
    else
      inc += v; /* a thread not seen before (or a reused id) */
  }
  pmx__tid_value_t *t = s->prev;
  size_t cap = s->cap_prev;
  s->prev = s->cur;
  s->cap_prev = s->cap_cur;
  s->n_prev = s->n_cur;
  s->cur = t;
  s->cap_cur = cap;
  s->n_cur = 0;
  return inc;
}

void pmx__task_sum_abort(pmx__task_sum_t *s) { s->n_cur = 0; }

void pmx__task_sum_free(pmx__task_sum_t *s) {
  if (s == NULL) return;
  pmx__free(s->prev);
  pmx__free(s->cur);
  memset(s, 0, sizeof *s);
}
