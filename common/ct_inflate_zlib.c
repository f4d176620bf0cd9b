/*
 * ct_inflate_zlib.c - the zlib back end of ct_inflate.h (INFLATE=zlib, or where ISA-L is
 * missing).
 *
 * Owns: one z_stream in gzip-only mode (16 + MAX_WBITS), reset between members.
 * Does not: know about records or limits (ct_reader.c).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "ct_inflate.h"

struct ct_inflate {
        z_stream zs;
        int ready; /* inflateInit2 done */
};

struct ct_inflate *ct_inflate_new(void)
{
        return calloc(1, sizeof(struct ct_inflate));
}

void ct_inflate_free(struct ct_inflate *inf)
{
        if (!inf)
                return;
        if (inf->ready)
                inflateEnd(&inf->zs);
        free(inf);
}

/* Forget the stream: inflateReset keeps the window size, the gzip-only mode and the memory
 * of inflateInit2 (a flood of small files costs no allocation each); if it fails, the next
 * ct_inflate_run() sets the stream up again. */
static void restart(struct ct_inflate *inf)
{
        if (inf->ready && inflateReset(&inf->zs) != Z_OK) {
                inflateEnd(&inf->zs);
                memset(&inf->zs, 0, sizeof(inf->zs));
                inf->ready = 0;
        }
}

void ct_inflate_reset(struct ct_inflate *inf)
{
        restart(inf);
}

void ct_inflate_next_member(struct ct_inflate *inf)
{
        restart(inf);
}

int ct_inflate_run(struct ct_inflate *inf, const uint8_t **in, size_t *in_len, uint8_t *out,
                   size_t out_cap, size_t *produced, const char **why)
{
        uInt give = *in_len > UINT_MAX ? UINT_MAX : (uInt)*in_len;
        uInt room = out_cap > UINT_MAX ? UINT_MAX : (uInt)out_cap;
        int zrc;

        *produced = 0;
        *why = NULL;
        if (!inf->ready) {
                memset(&inf->zs, 0, sizeof(inf->zs));
                if (inflateInit2(&inf->zs, 16 + MAX_WBITS) != Z_OK)
                        return CT_INFLATE_NOMEM;
                inf->ready = 1;
        }
        inf->zs.next_in = (Bytef *)(uintptr_t)*in;
        inf->zs.avail_in = give;
        inf->zs.next_out = out;
        inf->zs.avail_out = room;
        zrc = inflate(&inf->zs, Z_NO_FLUSH);
        *produced = room - inf->zs.avail_out;
        *in += give - inf->zs.avail_in;
        *in_len -= give - inf->zs.avail_in;
        switch (zrc) {
        case Z_OK:
        case Z_BUF_ERROR: /* no progress possible: no input left */
                return CT_INFLATE_OK;
        case Z_STREAM_END:
                return CT_INFLATE_END;
        case Z_MEM_ERROR:
                return CT_INFLATE_NOMEM;
        case Z_NEED_DICT:
                *why = "a preset dictionary is required";
                return CT_INFLATE_BAD;
        default: /* Z_DATA_ERROR, Z_STREAM_ERROR */
                *why = inf->zs.msg ? inf->zs.msg : "data error";
                return CT_INFLATE_BAD;
        }
}

const char *ct_inflate_library(void)
{
        return "zlib " ZLIB_VERSION;
}
