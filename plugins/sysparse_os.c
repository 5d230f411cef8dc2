/* Pure parsers for system-wide /proc files: loadavg, stat, meminfo, mounts, net/dev. See
 * sysparse.h for the contract. Numbers are parsed by hand, not with strtod/sscanf, because a
 * host program may call setlocale(LC_NUMERIC, ...) and /proc always prints "0.50". */
#include <ctype.h>
#include <string.h>

#include "internal.h"
#include "sysparse.h"

const char *const pmx__cpu_mode_names[PMX__CPU_MODES] = {
    "user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal", "guest", "guest_nice"};

static const char *skip_blank(const char *p, const char *end) {
  while (p < end && (*p == ' ' || *p == '\t')) p++;
  return p;
}

/* Unsigned decimal in [p, end). NULL if none or on overflow. */
static const char *u64_at(const char *p, const char *end, uint64_t *out) {
  p = skip_blank(p, end);
  if (p >= end || !isdigit((unsigned char)*p)) return NULL;
  uint64_t v = 0;
  while (p < end && isdigit((unsigned char)*p)) {
    unsigned d = (unsigned)(*p - '0');
    if (v > (UINT64_MAX - d) / 10) return NULL;
    v = v * 10 + d;
    p++;
  }
  *out = v;
  return p;
}

/* Non-negative decimal with an optional fraction ("0.52"). */
static const char *udouble_at(const char *p, const char *end, double *out) {
  uint64_t ip;
  p = u64_at(p, end, &ip);
  if (p == NULL) return NULL;
  /* (integer digits and fraction digits as one integer) / 10^k: one correctly rounded division,
   * so "0.71" becomes the double nearest 0.71 (summing digit * 0.1^i would not). */
  uint64_t num = ip, den = 1;
  if (p < end && *p == '.') {
    p++;
    while (p < end && isdigit((unsigned char)*p)) {
      if (den < 1000000000000ull && num < 1000000ull) { /* stay exact below 2^53 */
        num = num * 10 + (uint64_t)(*p - '0');
        den *= 10;
      }
      p++;
    }
  }
  *out = (double)num / (double)den;
  return p;
}

int pmx__parse_loadavg(const char *text, pmx__loadavg_t *out) {
  if (text == NULL || out == NULL) return PMX_EINVAL;
  memset(out, 0, sizeof *out);
  const char *end = text + strlen(text);
  const char *p = udouble_at(text, end, &out->load1);
  if (p) p = udouble_at(p, end, &out->load5);
  if (p) p = udouble_at(p, end, &out->load15);
  if (p == NULL) return PMX_EPARSE;
  /* "1/92": running/total. Absent on nothing we know of, but tolerate its absence. */
  uint64_t r, t;
  const char *q = u64_at(p, end, &r);
  if (q && q < end && *q == '/' && u64_at(q + 1, end, &t)) {
    out->running = (int64_t)r;
    out->total = (int64_t)t;
  } else {
    out->running = out->total = -1;
  }
  return PMX_OK;
}

int pmx__parse_proc_stat(const char *text, pmx__proc_stat_t *out) {
  if (text == NULL || out == NULL) return PMX_EINVAL;
  memset(out, 0, sizeof *out);
  size_t len = strlen(text), pos = 0, ln;
  const char *line;
  bool have_cpu = false;
  while (pmx__next_line(text, len, &pos, &line, &ln)) {
    const char *end = line + ln;
    if (ln > 4 && memcmp(line, "cpu ", 4) == 0) {
      const char *p = line + 4;
      unsigned n = 0;
      while (n < PMX__CPU_MODES) {
        const char *q = u64_at(p, end, &out->ticks[n]);
        if (q == NULL) break;
        p = q;
        n++;
      }
      if (n < 4) return PMX_EPARSE; /* user nice system idle exist on every kernel */
      out->n_modes = n;
      have_cpu = true;
    } else if (ln > 3 && memcmp(line, "cpu", 3) == 0 && isdigit((unsigned char)line[3])) {
      out->n_cpus++;
    } else if (ln > 6 && memcmp(line, "btime ", 6) == 0) {
      if (u64_at(line + 6, end, &out->btime)) out->have_btime = true;
    }
  }
  return have_cpu ? PMX_OK : PMX_EPARSE;
}

int pmx__parse_meminfo(const char *text, pmx__meminfo_t *out) {
  if (text == NULL || out == NULL) return PMX_EINVAL;
  memset(out, 0, sizeof *out);
  static const struct {
    const char *key;
    unsigned bit;
    size_t off;
  } keys[] = {
      {"MemTotal", PMX__MEM_TOTAL, offsetof(pmx__meminfo_t, total)},
      {"MemFree", PMX__MEM_FREE, offsetof(pmx__meminfo_t, free)},
      {"MemAvailable", PMX__MEM_AVAILABLE, offsetof(pmx__meminfo_t, available)},
      {"Buffers", PMX__MEM_BUFFERS, offsetof(pmx__meminfo_t, buffers)},
      {"Cached", PMX__MEM_CACHED, offsetof(pmx__meminfo_t, cached)},
      {"SwapTotal", PMX__MEM_SWAP_TOTAL, offsetof(pmx__meminfo_t, swap_total)},
      {"SwapFree", PMX__MEM_SWAP_FREE, offsetof(pmx__meminfo_t, swap_free)},
  };
  size_t len = strlen(text), pos = 0, ln;
  const char *line;
  while (pmx__next_line(text, len, &pos, &line, &ln)) {
    const char *colon = memchr(line, ':', ln);
    if (colon == NULL) continue;
    size_t klen = (size_t)(colon - line);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
      if (strlen(keys[i].key) != klen || memcmp(line, keys[i].key, klen) != 0) continue;
      uint64_t v;
      const char *end = line + ln;
      const char *q = u64_at(colon + 1, end, &v);
      if (q == NULL) return PMX_EPARSE;
      q = skip_blank(q, end);
      if (end - q >= 2 && q[0] == 'k' && q[1] == 'B') v *= 1024;
      memcpy((char *)out + keys[i].off, &v, sizeof v);
      out->have |= keys[i].bit;
      break;
    }
  }
  unsigned need = PMX__MEM_TOTAL | PMX__MEM_FREE;
  return (out->have & need) == need ? PMX_OK : PMX_EPARSE;
}

static bool odigit(char c) { return c >= '0' && c <= '7'; }

/* True if src[i] starts a "\ooo" escape within len bytes. */
static bool is_escape(const char *src, size_t len, size_t i) {
  return src[i] == '\\' && i + 3 < len && odigit(src[i + 1]) && odigit(src[i + 2]) &&
         odigit(src[i + 3]);
}

/* Decoded length of an escaped field (what pmx__unescape_octal would write without a cap). */
static size_t decoded_len(const char *src, size_t len) {
  size_t o = 0;
  for (size_t i = 0; i < len; i++, o++)
    if (is_escape(src, len, i)) i += 3;
  return o;
}

size_t pmx__unescape_octal(const char *src, size_t len, char *dst, size_t cap) {
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    char c = src[i];
    if (is_escape(src, len, i)) {
      int v = (src[i + 1] - '0') * 64 + (src[i + 2] - '0') * 8 + (src[i + 3] - '0');
      c = (char)(unsigned char)(v & 0xff);
      i += 3;
    }
    if (o + 1 < cap) dst[o] = c;
    o++;
  }
  if (cap == 0) return 0;
  if (o >= cap) o = cap - 1;
  dst[o] = '\0';
  return o;
}

/* Next space-separated field of [*p, end): returns its start and length, advances *p. */
static bool next_field(const char **p, const char *end, const char **f, size_t *n) {
  const char *s = *p;
  while (s < end && (*s == ' ' || *s == '\t')) s++;
  if (s >= end) return false;
  const char *e = s;
  while (e < end && *e != ' ' && *e != '\t') e++;
  *f = s;
  *n = (size_t)(e - s);
  *p = e;
  return true;
}

/* Decodes one field into dst. A field that would not fit is refused rather than truncated: a
 * truncated mount point names a directory that does not exist. */
static bool field_into(const char *f, size_t n, char *dst, size_t cap) {
  if (decoded_len(f, n) >= cap) return false;
  pmx__unescape_octal(f, n, dst, cap);
  return true;
}

int pmx__parse_mount_line(const char *line, size_t len, pmx__mount_t *out) {
  if (line == NULL || out == NULL) return PMX_EINVAL;
  memset(out, 0, sizeof *out);
  const char *p = line, *end = line + len, *f;
  size_t n;
  if (!next_field(&p, end, &f, &n) || !field_into(f, n, out->device, sizeof out->device))
    return PMX_EPARSE;
  if (!next_field(&p, end, &f, &n) || !field_into(f, n, out->mountpoint, sizeof out->mountpoint))
    return PMX_EPARSE;
  if (!next_field(&p, end, &f, &n) || !field_into(f, n, out->fstype, sizeof out->fstype))
    return PMX_EPARSE;
  return PMX_OK;
}

int pmx__parse_netdev_line(const char *line, size_t len, pmx__netdev_t *out) {
  if (line == NULL || out == NULL) return PMX_EINVAL;
  memset(out, 0, sizeof *out);
  const char *end = line + len;
  const char *colon = memchr(line, ':', len);
  /* Header lines have '|' and no ':' ("Inter-|", " face |"). */
  if (colon == NULL) return PMX_ENOENT;
  const char *s = skip_blank(line, colon);
  size_t nlen = (size_t)(colon - s);
  if (nlen == 0 || memchr(s, '|', nlen) != NULL) return PMX_ENOENT;
  if (nlen >= sizeof out->name) return PMX_EPARSE;
  memcpy(out->name, s, nlen);
  out->name[nlen] = '\0';
  uint64_t v[16];
  size_t n = 0;
  const char *p = colon + 1;
  while (n < 16) {
    const char *q = u64_at(p, end, &v[n]);
    if (q == NULL) break;
    p = q;
    n++;
  }
  /* receive: bytes packets errs drop fifo frame compressed multicast; transmit: bytes packets errs */
  if (n < 11) return PMX_EPARSE;
  out->rx_bytes = v[0];
  out->rx_packets = v[1];
  out->rx_errs = v[2];
  out->tx_bytes = v[8];
  out->tx_packets = v[9];
  out->tx_errs = v[10];
  return PMX_OK;
}
