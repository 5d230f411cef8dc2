/* The replay driver shared by the fuzz harnesses when they are built without libFuzzer: runs
 * LLVMFuzzerTestOneInput on every file named on the command line (directories are walked), or on
 * the directory in PMX_FUZZ_CORPUS, each input in an exact-size buffer so that ASan catches a read
 * past its end. Exit status 0 when every input ran and there was at least one (an empty corpus
 * glob must not pass silently). Include it once, after the harness, under #ifndef PMX_LIBFUZZER. */
#ifndef PMX_FUZZ_REPLAY_MAIN_H
#define PMX_FUZZ_REPLAY_MAIN_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return -1;
  char *buf = NULL;
  size_t len = 0, cap = 0;
  char chunk[4096];
  size_t got;
  while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
    if (len + got > cap) {
      cap = (len + got) * 2;
      char *nb = realloc(buf, cap);
      if (nb == NULL) {
        free(buf);
        fclose(f);
        return -1;
      }
      buf = nb;
    }
    memcpy(buf + len, chunk, got);
    len += got;
  }
  fclose(f);
  /* Exact-size copy so ASan catches reads past the input. */
  uint8_t *exact = malloc(len ? len : 1);
  if (exact == NULL) {
    free(buf);
    return -1;
  }
  if (len) memcpy(exact, buf, len);
  free(buf);
  LLVMFuzzerTestOneInput(exact, len);
  free(exact);
  return 0;
}

static int run_path(const char *path, int *count) {
  struct stat st;
  if (stat(path, &st) != 0) {
    fprintf(stderr, "cannot stat %s\n", path);
    return 1;
  }
  if (!S_ISDIR(st.st_mode)) {
    if (run_file(path) != 0) return 1;
    (*count)++;
    return 0;
  }
  DIR *d = opendir(path);
  if (d == NULL) return 1;
  struct dirent *e;
  int rc = 0;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", path, e->d_name);
    rc |= run_path(p, count);
  }
  closedir(d);
  return rc;
}

int main(int argc, char **argv) {
  int count = 0, rc = 0;
  if (argc > 1) {
    for (int i = 1; i < argc; i++) rc |= run_path(argv[i], &count);
  } else {
    const char *dir = getenv("PMX_FUZZ_CORPUS");
    if (dir == NULL) {
      fprintf(stderr, "usage: %s <corpus dir or files> (or set PMX_FUZZ_CORPUS)\n", argv[0]);
      return 2;
    }
    rc = run_path(dir, &count);
  }
  printf("replayed %d inputs\n", count);
  return rc != 0 || count == 0;
}

#endif
