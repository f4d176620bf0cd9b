/*
 * gz.h - for the harnesses: gzip a buffer as one or more concatenated members (zlib).
 * Header-only (static functions), shared by fuzz_ct_reader.c and fuzz_ct_classify.c.
 * Ownership: *out is malloc'ed, the caller frees it.
 */
#ifndef FUZZ_GZ_H
#define FUZZ_GZ_H

#include <stdlib.h>
#include <string.h>

#include <zlib.h>

/* Append the gzip member of in[0..n) to *out (cap grows). Returns 0, or -1 on failure. */
static int gz_member(const uint8_t *in, size_t n, uint8_t **out, size_t *len, size_t *cap)
{
        z_stream zs;
        size_t need = n + n / 8 + 128;
        int zrc;

        if (*cap - *len < need) {
                uint8_t *nb = realloc(*out, *len + need);

                if (!nb)
                        return -1;
                *out = nb;
                *cap = *len + need;
        }
        memset(&zs, 0, sizeof(zs));
        if (deflateInit2(&zs, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
                return -1;
        zs.next_in = (Bytef *)(uintptr_t)in;
        zs.avail_in = (uInt)n;
        zs.next_out = *out + *len;
        zs.avail_out = (uInt)(*cap - *len);
        zrc = deflate(&zs, Z_FINISH);
        *len = *cap - zs.avail_out;
        deflateEnd(&zs);
        return zrc == Z_STREAM_END ? 0 : -1;
}

/* gzip in[0..n) as `members` members cut at even points. Returns 0, or -1. */
static int gz_members(const uint8_t *in, size_t n, int members, uint8_t **out, size_t *len)
{
        size_t cap = 0, at = 0, next;
        int i;

        *out = NULL;
        *len = 0;
        if (members < 1)
                members = 1;
        for (i = 1; i <= members; i++) {
                next = n * (size_t)i / (size_t)members;
                if (gz_member(in + at, next - at, out, len, &cap)) {
                        free(*out);
                        *out = NULL;
                        return -1;
                }
                at = next;
        }
        return 0;
}

#endif
