/* Loading dashboard templates: first-party ones from the table compiled into the library
 * (generated from the dashboards/ templates by cmake/dashboards.cmake, so the library works without the
 * source tree), anything else from a file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dashboard/dashboard_internal.h"
#include "internal.h"
#include "promex/dashboard.h"

const char *const *pmx_dashboard_builtins(size_t *n) {
  if (n != NULL) *n = pmx__n_builtin_dashboards;
  return pmx__builtin_dashboard_names;
}

const char *pmx_dashboard_builtin(const char *name, size_t *len) {
  if (name == NULL) return NULL;
  size_t nl = strlen(name);
  for (size_t i = 0; i < pmx__n_builtin_dashboards; i++) {
    const pmx__builtin_dashboard_t *b = &pmx__builtin_dashboards[i];
    size_t bl = strlen(b->name);
    /* "os.json" or "os": the table names all end in ".json". */
    if (strcmp(b->name, name) == 0 || (bl == nl + 5 && memcmp(b->name, name, nl) == 0)) {
      if (len != NULL) *len = b->len;
      return b->text;
    }
  }
  return NULL;
}

static int read_file(const char *path, char **text, size_t *len, pmx_error_t *err) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    int e = errno;
    return pmx__fail(err, e == ENOENT ? PMX_ENOENT : PMX_EIO, path,
                     "dashboard \"%s\": not a first-party dashboard, and the file cannot be "
                     "opened: %s",
                     path, strerror(e));
  }
  pmx_buf_t b = {0};
  char chunk[8192];
  size_t got;
  int rc = PMX_OK;
  while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
    /* Bounded, as config files are: a mistaken path (/dev/zero, a log file) must not be read
     * until memory runs out. */
    if (b.len + got > PMX_DASHBOARD_MAX_BYTES) {
      rc = pmx__fail(err, PMX_EIO, path, "dashboard \"%s\" is larger than %u bytes; not a dashboard template?",
                     path, PMX_DASHBOARD_MAX_BYTES);
      break;
    }
    if (pmx__buf_append(&b, chunk, got) != PMX_OK) {
      rc = pmx__fail(err, PMX_ENOMEM, path, "out of memory reading \"%s\"", path);
      break;
    }
  }
  if (rc == PMX_OK && ferror(f))
    rc = pmx__fail(err, PMX_EIO, path, "error reading dashboard \"%s\"", path);
  fclose(f);
  if (rc == PMX_OK && pmx__buf_append(&b, "", 1) != PMX_OK)
    rc = pmx__fail(err, PMX_ENOMEM, path, "out of memory reading \"%s\"", path);
  if (rc != PMX_OK) {
    pmx_buf_free(&b);
    return rc;
  }
  *text = b.data;
  *len = b.len - 1;
  return PMX_OK;
}

int pmx_dashboard_load(const char *name_or_path, char **text, size_t *len, pmx_error_t *err) {
  if (text != NULL) *text = NULL;
  if (name_or_path == NULL || text == NULL || len == NULL)
    return pmx__fail(err, PMX_EINVAL, NULL, "pmx_dashboard_load: NULL argument");
  size_t blen;
  /* A name with a slash is always a path, so "./os.json" reads the user's file. */
  const char *b = strchr(name_or_path, '/') ? NULL : pmx_dashboard_builtin(name_or_path, &blen);
  if (b != NULL) {
    char *copy = pmx__malloc(blen + 1);
    if (copy == NULL) return pmx__fail(err, PMX_ENOMEM, name_or_path, "out of memory");
    memcpy(copy, b, blen + 1);
    *text = copy;
    *len = blen;
    return PMX_OK;
  }
  return read_file(name_or_path, text, len, err);
}
