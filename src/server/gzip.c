/* pmx_gzip(): one gzip member (RFC 1952) of a rendered exposition, with zlib.
 *
 * Output goes straight into the caller's pmx_buf_t. A library-owned buffer grows as deflate needs
 * room. A fixed buffer is filled as far as it goes; if the member does not fit, deflate keeps
 * running into a scratch area only to count the bytes, the buffer's contents past the old length
 * are unspecified, `len` reports the total that would be needed (the pmx_buf_t contract) and the
 * result is PMX_ELIMIT. Input and output are fed to zlib in chunks of at most UINT_MAX bytes
 * because zlib counts with uInt. */
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include "internal.h"
#include "promex/negotiate.h"

/* Level 6 (zlib's default) gives most of the ratio on repetitive exposition text; higher levels
 * cost CPU on every scrape for a few percent. */
#define PMX_GZIP_LEVEL 6
/* windowBits 15 plus 16 asks zlib for a gzip header and trailer instead of zlib's own. */
#define PMX_GZIP_WINDOW (15 + 16)

/* zlib's state goes through the allocator hook too (promex/alloc.h). */
static voidpf zalloc_hook(voidpf opaque, uInt items, uInt size) {
  (void)opaque;
  if (size != 0 && items > SIZE_MAX / size) return Z_NULL;
  return pmx__malloc((size_t)items * size);
}
static void zfree_hook(voidpf opaque, voidpf p) {
  (void)opaque;
  pmx__free(p);
}

int pmx_gzip(const char *in, size_t len, pmx_buf_t *out) {
  if (out == NULL || (in == NULL && len > 0)) return PMX_EINVAL;
  z_stream zs;
  memset(&zs, 0, sizeof zs);
  zs.zalloc = zalloc_hook;
  zs.zfree = zfree_hook;
  int zrc = deflateInit2(&zs, PMX_GZIP_LEVEL, Z_DEFLATED, PMX_GZIP_WINDOW, 8, Z_DEFAULT_STRATEGY);
  if (zrc == Z_MEM_ERROR) return PMX_ENOMEM;
  if (zrc != Z_OK) return PMX_EIO;

  size_t start = out->len;
  size_t written = 0;     /* bytes of the member produced so far */
  bool overflow = false;  /* fixed buffer full: counting only */
  unsigned char scratch[4096];
  const unsigned char *src = (const unsigned char *)in;
  size_t left = len;
  int rc = PMX_OK;

  if (!out->fixed) {
    /* One reservation usually suffices: deflateBound is an upper bound for a single call. */
    uLong bound = deflateBound(&zs, (uLong)(len > ULONG_MAX ? ULONG_MAX : len));
    rc = pmx__buf_reserve(out, bound);
    if (rc != PMX_OK) goto done;
  }
  for (;;) {
    if (zs.avail_in == 0 && left > 0) {
      size_t n = left > UINT_MAX ? UINT_MAX : left;
      zs.next_in = (Bytef *)(uintptr_t)src; /* zlib's API is not const-correct; it only reads */
      zs.avail_in = (uInt)n;
      src += n;
      left -= n;
    }
    unsigned char *dst;
    size_t room;
    if (!overflow) {
      room = out->cap > start + written ? out->cap - (start + written) : 0;
      if (room == 0) {
        if (out->fixed) {
          overflow = true;
        } else {
          /* pmx__buf_reserve measures from out->len, which stays at `start` while compressing. */
          rc = pmx__buf_reserve(out, written + 65536);
          if (rc != PMX_OK) goto done;
          room = out->cap - (start + written);
        }
      }
    }
    if (overflow) {
      dst = scratch;
      room = sizeof scratch;
    } else {
      dst = (unsigned char *)out->data + start + written;
    }
    if (room > UINT_MAX) room = UINT_MAX;
    zs.next_out = dst;
    zs.avail_out = (uInt)room;
    int flush = (left == 0) ? Z_FINISH : Z_NO_FLUSH;
    zrc = deflate(&zs, flush);
    if (zrc == Z_STREAM_ERROR) {
      rc = PMX_EIO;
      goto done;
    }
    written += room - zs.avail_out;
    if (zrc == Z_STREAM_END) break;
    /* Z_BUF_ERROR only means "no progress possible with this room"; the next round gives more. */
  }
  out->len = start + written;
  rc = overflow ? PMX_ELIMIT : PMX_OK;
done:
  if (rc != PMX_OK && rc != PMX_ELIMIT) out->len = start;
  deflateEnd(&zs);
  return rc;
}
