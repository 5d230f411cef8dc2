/* A small protobuf (proto2/proto3 wire format) writer into a pmx_buf_t: varints, zigzag, doubles,
 * length-delimited strings, and nested messages whose length is patched in when they close. The
 * first error sticks in `rc`; later calls do nothing. */
#ifndef PMX_PB_WRITER_H
#define PMX_PB_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "promex/expo.h"

typedef struct pmx__pb {
  pmx_buf_t *buf; /* library-owned (growable) */
  int rc;
} pmx__pb_t;

void pmx__pb_uint(pmx__pb_t *w, unsigned field, uint64_t v);   /* varint field */
void pmx__pb_sint(pmx__pb_t *w, unsigned field, int64_t v);    /* zigzag (sint32/sint64) */
void pmx__pb_double(pmx__pb_t *w, unsigned field, double v);   /* fixed64 */
void pmx__pb_bytes(pmx__pb_t *w, unsigned field, const void *data, size_t len);
/* Packed repeated sint64 (one length-delimited field). */
void pmx__pb_packed_sint(pmx__pb_t *w, unsigned field, const int64_t *v, size_t n);
/* Opens a nested message as `field` (0: a top-level length-delimited record without tag, as the
 * delimited exposition frames each MetricFamily). Returns the mark to close it with. */
size_t pmx__pb_open(pmx__pb_t *w, unsigned field);
void pmx__pb_close(pmx__pb_t *w, size_t mark);

#endif
