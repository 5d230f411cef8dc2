/* Pure parsers for per-process /proc files (stat, statm, status, io, schedstat) and for shared-library names.
 * See sysparse.h for the contract. Numbers are parsed by hand (not strtod/sscanf) so that the
 * host program's locale can never change how /proc text is read. */
#include <ctype.h>
#include <stddef.h>
#include <string.h>

#include "internal.h"
#include "sysparse.h"

/* Skips blanks, then reads an unsigned decimal. Returns the position after it, or NULL. */
static const char *read_u64(const char *p, uint64_t *out) {
  while (*p == ' ' || *p == '\t') p++;
  if (!isdigit((unsigned char)*p)) return NULL;
  uint64_t v = 0;
  while (isdigit((unsigned char)*p)) {
    unsigned d = (unsigned)(*p - '0');
    if (v > (UINT64_MAX - d) / 10) return NULL; /* overflow */
    v = v * 10 + d;
    p++;
  }
  *out = v;
  return p;
}

static const char *read_i64(const char *p, int64_t *out) {
  while (*p == ' ' || *p == '\t') p++;
  bool neg = false;
  if (*p == '-') {
    neg = true;
    p++;
  }
  uint64_t u;
  p = read_u64(p, &u);
  if (p == NULL || u > (uint64_t)INT64_MAX) return NULL;
  *out = neg ? -(int64_t)u : (int64_t)u;
  return p;
}

int pmx__parse_pid_stat(const char *text, pmx__pid_stat_t *out) {
  if (text == NULL || out == NULL) return PMX_EINVAL;
  memset(out, 0, sizeof *out);
  /* "pid (comm) state ...": comm is free text up to 16 bytes and may contain ") (", so the
   * fields resume after the last ')'. */
  const char *rp = strrchr(text, ')');
  if (rp == NULL || strchr(text, '(') == NULL) return PMX_EPARSE;
  const char *p = rp + 1;
  while (*p == ' ') p++;
  if (*p == '\0' || *p == '\n') return PMX_EPARSE;
  out->state = *p++;
  /* Field numbers below are those of proc(5); we are now after field 3. */
  uint64_t u;
  int64_t s;
  for (int field = 4; field <= 24; field++) {
    switch (field) {
      case 10: p = read_u64(p, &out->minflt); break;
      case 12: p = read_u64(p, &out->majflt); break;
      case 14: p = read_u64(p, &out->utime_ticks); break;
      case 15: p = read_u64(p, &out->stime_ticks); break;
      case 20: p = read_i64(p, &out->num_threads); break;
      case 22: p = read_u64(p, &out->starttime_ticks); break;
      case 23: p = read_u64(p, &out->vsize); break;
      case 24: p = read_i64(p, &out->rss_pages); break;
      case 5: case 6: case 7: case 8: case 16: case 17: case 18: case 19: case 21:
        p = read_i64(p, &s); /* signed fields (ppid, pgrp, ..., priority, nice, itrealvalue) */
        break;
      default: p = read_u64(p, &u); break;
    }
    if (p == NULL) return PMX_EPARSE;
  }
  return PMX_OK;
}

int pmx__parse_statm(const char *text, uint64_t *size_pages, uint64_t *resident_pages) {
  if (text == NULL || size_pages == NULL || resident_pages == NULL) return PMX_EINVAL;
  const char *p = read_u64(text, size_pages);
  if (p == NULL) return PMX_EPARSE;
  p = read_u64(p, resident_pages);
  return p ? PMX_OK : PMX_EPARSE;
}

int pmx__parse_u64(const char *text, uint64_t *out) {
  if (text == NULL || out == NULL) return PMX_EINVAL;
  return read_u64(text, out) ? PMX_OK : PMX_EPARSE;
}

int pmx__parse_kv_kb(const char *text, const char *key, uint64_t *out) {
  if (text == NULL || key == NULL || out == NULL) return PMX_EINVAL;
  size_t klen = strlen(key);
  const char *p = text;
  while (*p) {
    if (strncmp(p, key, klen) == 0 && p[klen] == ':') {
      uint64_t v;
      const char *q = read_u64(p + klen + 1, &v);
      if (q == NULL) return PMX_EPARSE;
      while (*q == ' ' || *q == '\t') q++;
      if (q[0] == 'k' && q[1] == 'B') {
        if (v > UINT64_MAX / 1024) return PMX_EPARSE;
        v *= 1024;
      }
      *out = v;
      return PMX_OK;
    }
    const char *nl = strchr(p, '\n');
    if (nl == NULL) break;
    p = nl + 1;
  }
  return PMX_ENOENT;
}

int pmx__parse_pid_io(const char *text, pmx__pid_io_t *out) {
  if (text == NULL || out == NULL) return PMX_EINVAL;
  memset(out, 0, sizeof *out);
  static const struct {
    const char *key;
    unsigned bit;
    size_t off;
  } keys[] = {{"rchar", PMX__IO_RCHAR, offsetof(pmx__pid_io_t, rchar)},
              {"wchar", PMX__IO_WCHAR, offsetof(pmx__pid_io_t, wchar)},
              {"syscr", PMX__IO_SYSCR, offsetof(pmx__pid_io_t, syscr)},
              {"syscw", PMX__IO_SYSCW, offsetof(pmx__pid_io_t, syscw)},
              {"read_bytes", PMX__IO_READ_BYTES, offsetof(pmx__pid_io_t, read_bytes)},
              {"write_bytes", PMX__IO_WRITE_BYTES, offsetof(pmx__pid_io_t, write_bytes)},
              {"cancelled_write_bytes", PMX__IO_CANCELLED,
               offsetof(pmx__pid_io_t, cancelled_write_bytes)}};
  for (const char *p = text; *p;) {
    const char *colon = strchr(p, ':'), *nl = strchr(p, '\n');
    if (colon != NULL && (nl == NULL || colon < nl)) {
      size_t klen = (size_t)(colon - p);
      for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (strlen(keys[i].key) != klen || memcmp(p, keys[i].key, klen) != 0) continue;
        uint64_t v;
        const char *q = read_u64(colon + 1, &v);
        /* the number must end the line: "rchar: 12x" is not a value */
        if (q == NULL || (*q != '\n' && *q != '\0' && *q != ' ')) return PMX_EPARSE;
        memcpy((char *)out + keys[i].off, &v, sizeof v);
        out->have |= keys[i].bit;
        break;
      }
    }
    if (nl == NULL) break;
    p = nl + 1;
  }
  const unsigned required = PMX__IO_RCHAR | PMX__IO_WCHAR | PMX__IO_SYSCR | PMX__IO_SYSCW;
  return (out->have & required) == required ? PMX_OK : PMX_EPARSE;
}

int pmx__parse_schedstat(const char *text, uint64_t *run_ns, uint64_t *wait_ns,
                         uint64_t *timeslices) {
  if (text == NULL || run_ns == NULL || wait_ns == NULL || timeslices == NULL) return PMX_EINVAL;
  const char *p = read_u64(text, run_ns);
  if (p == NULL || (p = read_u64(p, wait_ns)) == NULL) return PMX_EPARSE;
  *timeslices = 0;
  const char *q = read_u64(p, timeslices);
  if (q == NULL) {
    while (*p == ' ' || *p == '\t') p++;
    if (*p != '\0' && *p != '\n') return PMX_EPARSE; /* garbage, not an absent field */
  }
  return PMX_OK;
}

const char *const pmx__thread_state_names[PMX__TS_COUNT] = {
    "running", "sleeping", "disk_sleep", "stopped", "zombie", "idle", "other"};

int pmx__thread_state_index(char state) {
  switch (state) {
    case 'R': return PMX__TS_RUNNING;
    case 'S': return PMX__TS_SLEEPING;
    case 'D': return PMX__TS_DISK_SLEEP;
    case 'T': case 't': return PMX__TS_STOPPED;
    case 'Z': case 'X': case 'x': return PMX__TS_ZOMBIE;
    case 'I': return PMX__TS_IDLE;
    default: return PMX__TS_OTHER;
  }
}

/* Length of a dotted version ("4.8.0") at p: digits and dots, starting and ending with a digit. */
static size_t version_len(const char *p, size_t max) {
  size_t n = 0;
  while (n < max && (isdigit((unsigned char)p[n]) || p[n] == '.')) n++;
  while (n > 0 && p[n - 1] == '.') n--;
  if (n == 0 || !isdigit((unsigned char)p[0])) return 0;
  return n;
}

static const char *base_name(const char *path) {
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
}

/* The version after ".so." in a basename, or 0 length. */
static size_t so_suffix_version(const char *base, const char **ver) {
  const char *so = strstr(base, ".so.");
  if (so == NULL) return 0;
  *ver = so + 4;
  return version_len(*ver, strlen(*ver));
}

static void copy_out(char *dst, size_t cap, const char *src, size_t n) {
  if (cap == 0) return;
  if (n >= cap) n = cap - 1;
  memcpy(dst, src, n);
  dst[n] = '\0';
}

int pmx__parse_lib_name(const char *path, const char *real_path, char *name, size_t name_cap,
                        char *version, size_t version_cap) {
  if (path == NULL || name == NULL || version == NULL || name_cap == 0 || version_cap == 0)
    return PMX_EINVAL;
  const char *base = base_name(path);
  const char *so = strstr(base, ".so");
  if (so == NULL || (so[3] != '\0' && so[3] != '.')) return PMX_EPARSE;
  size_t stem = (size_t)(so - base);
  if (stem == 0) return PMX_EPARSE;
  /* "libLLVM-15" / "libpython3.11" style stems: a trailing "-<version>" is split off as the
   * version (only after a dash: "libpython3.11" keeps its name, since "python3" is the name). */
  const char *stem_ver = NULL;
  size_t stem_ver_len = 0;
  for (size_t i = stem; i > 0; i--) {
    if (base[i - 1] == '-') {
      /* "x86-64" in "ld-linux-x86-64" is part of the name: a version follows a non-digit. */
      if (i >= 2 && isdigit((unsigned char)base[i - 2])) break;
      size_t vl = version_len(base + i, stem - i);
      if (vl == stem - i && vl > 0) {
        stem_ver = base + i;
        stem_ver_len = vl;
        stem = i - 1;
      }
      break;
    }
    if (!isdigit((unsigned char)base[i - 1]) && base[i - 1] != '.') break;
  }
  copy_out(name, name_cap, base, stem);

  const char *ver = NULL;
  size_t vl = 0;
  if (real_path != NULL) vl = so_suffix_version(base_name(real_path), &ver);
  if (vl == 0) vl = so_suffix_version(base, &ver);
  if (vl == 0 && stem_ver != NULL) {
    ver = stem_ver;
    vl = stem_ver_len;
  }
  if (vl == 0) {
    ver = "undefined";
    vl = strlen(ver);
  }
  copy_out(version, version_cap, ver, vl);
  return PMX_OK;
}
