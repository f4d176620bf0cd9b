/*
 * ct_inflate_isal.c - the Intel ISA-L back end of ct_inflate.h (INFLATE=isal, the default
 * where libisal-dev is installed): isal_inflate() streaming, several times faster than zlib.
 *
 * Owns: one struct inflate_state, reset between members, and a small parser of the gzip
 * member header.
 * Does not: know about records or limits (ct_reader.c).
 *
 * The header is parsed here, not by isal_inflate(): ISA-L 2.30 rejects a sound header whose
 * optional CRC (FHCRC) arrives in several pieces, and it waits for a whole header before
 * judging it where zlib rejects a bad magic number after 2 bytes. Parsing it here, byte by
 * byte, with zlib's checks in zlib's order and zlib's words, makes both back ends accept and
 * reject the same inputs at the same point with the same reason, however the input is cut.
 * isal_inflate() then reads the deflate data and checks the trailer (ISAL_GZIP_NO_HDR_VER:
 * CRC-32 and length); it keeps at most those 8 bytes in its bit buffer, so the bytes after a
 * member stay in the caller's input, as with zlib.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <isa-l.h>

#include "ct_inflate.h"

#define STR_(x) #x
#define STR(x) STR_(x)

/* gzip header flags (RFC 1952) */
#define GZ_FHCRC 0x02
#define GZ_FEXTRA 0x04
#define GZ_FNAME 0x08
#define GZ_FCOMMENT 0x10

enum hdr_state {
        H_FIXED = 0, /* the 10 fixed bytes: magic, method, flags, time, xfl, os */
        H_XLEN,      /* FEXTRA: 2 bytes of length */
        H_EXTRA,     /* FEXTRA: the bytes */
        H_NAME,      /* FNAME: up to a NUL */
        H_COMMENT,   /* FCOMMENT: up to a NUL */
        H_HCRC,      /* FHCRC: 2 bytes, the low half of the CRC-32 of the header so far */
        H_DATA,      /* the header is done: deflate data and trailer (isal_inflate) */
};

struct ct_inflate {
        struct inflate_state st;
        uint8_t hs;    /* enum hdr_state */
        uint8_t flags; /* FLG of the current member */
        uint32_t n;    /* bytes read in the current header state */
        uint32_t xlen; /* FEXTRA length; then the FHCRC value being read */
        uint32_t hcrc; /* CRC-32 of the header bytes so far */
};

static void start_member(struct ct_inflate *inf)
{
        isal_inflate_reset(&inf->st);
        inf->st.crc_flag = ISAL_GZIP_NO_HDR_VER;
        inf->hs = H_FIXED;
        inf->flags = 0;
        inf->n = inf->xlen = inf->hcrc = 0;
}

struct ct_inflate *ct_inflate_new(void)
{
        struct ct_inflate *inf = calloc(1, sizeof(*inf));

        if (!inf)
                return NULL;
        isal_inflate_init(&inf->st);
        start_member(inf);
        return inf;
}

void ct_inflate_free(struct ct_inflate *inf)
{
        free(inf);
}

void ct_inflate_reset(struct ct_inflate *inf)
{
        start_member(inf);
}

void ct_inflate_next_member(struct ct_inflate *inf)
{
        start_member(inf);
}

/* The state after the optional header field `from` (or the fixed part). */
static uint8_t next_field(const struct ct_inflate *inf, int from)
{
        if (from < H_XLEN && (inf->flags & GZ_FEXTRA))
                return H_XLEN;
        if (from < H_NAME && (inf->flags & GZ_FNAME))
                return H_NAME;
        if (from < H_COMMENT && (inf->flags & GZ_FCOMMENT))
                return H_COMMENT;
        if (from < H_HCRC && (inf->flags & GZ_FHCRC))
                return H_HCRC;
        return H_DATA;
}

/* Read header bytes from *in until the header is done or the input runs out. Returns NULL,
 * or zlib's words for what is wrong. */
static const char *read_header(struct ct_inflate *inf, const uint8_t **in, size_t *in_len)
{
        while (*in_len > 0 && inf->hs != H_DATA) {
                uint8_t c = **in;

                (*in)++;
                (*in_len)--;
                if (inf->hs != H_HCRC)
                        inf->hcrc = crc32_gzip_refl(inf->hcrc, &c, 1);
                inf->n++;
                switch (inf->hs) {
                case H_FIXED:
                        if (inf->n == 2 && (inf->xlen != 0x1f || c != 0x8b))
                                return "incorrect header check";
                        if (inf->n == 1)
                                inf->xlen = c; /* the first magic byte, until byte 2 */
                        if (inf->n == 3)
                                inf->xlen = c; /* the method, judged with the flags */
                        if (inf->n == 4) {
                                if (inf->xlen != 8)
                                        return "unknown compression method";
                                if (c & 0xe0)
                                        return "unknown header flags set";
                                inf->flags = c;
                        }
                        if (inf->n == 10) {
                                inf->hs = next_field(inf, H_FIXED);
                                inf->n = inf->xlen = 0;
                        }
                        break;
                case H_XLEN:
                        inf->xlen |= (uint32_t)c << (8 * (inf->n - 1));
                        if (inf->n == 2) {
                                inf->hs = inf->xlen ? H_EXTRA : next_field(inf, H_EXTRA);
                                inf->n = 0;
                        }
                        break;
                case H_EXTRA:
                        if (inf->n == inf->xlen) {
                                inf->hs = next_field(inf, H_EXTRA);
                                inf->n = inf->xlen = 0;
                        }
                        break;
                case H_NAME:
                case H_COMMENT:
                        if (c == 0) {
                                inf->hs = next_field(inf, inf->hs);
                                inf->n = inf->xlen = 0;
                        }
                        break;
                default: /* H_HCRC */
                        inf->xlen |= (uint32_t)c << (8 * (inf->n - 1));
                        if (inf->n == 2) {
                                if (inf->xlen != (inf->hcrc & 0xffff))
                                        return "header crc mismatch";
                                inf->hs = H_DATA;
                                inf->n = inf->xlen = 0;
                        }
                }
        }
        return NULL;
}

/* What went wrong in the deflate data or the trailer, in zlib's words where it has them. */
static const char *isal_why(int ret)
{
        switch (ret) {
        case ISAL_INVALID_BLOCK:
                return "invalid block";
        case ISAL_INVALID_SYMBOL:
                return "invalid code";
        case ISAL_INVALID_LOOKBACK:
                return "invalid distance too far back";
        case ISAL_INCORRECT_CHECKSUM:
                return "incorrect data check";
        default:
                return "data error";
        }
}

int ct_inflate_run(struct ct_inflate *inf, const uint8_t **in, size_t *in_len, uint8_t *out,
                   size_t out_cap, size_t *produced, const char **why)
{
        uint32_t give, room, took;
        int ret;

        *produced = 0;
        *why = NULL;
        if (inf->hs != H_DATA) {
                *why = read_header(inf, in, in_len);
                if (*why)
                        return CT_INFLATE_BAD;
                if (inf->hs != H_DATA)
                        return CT_INFLATE_OK; /* the input ended inside the header */
        }
        give = *in_len > UINT32_MAX ? UINT32_MAX : (uint32_t)*in_len;
        room = out_cap > UINT32_MAX ? UINT32_MAX : (uint32_t)out_cap;
        inf->st.next_in = (uint8_t *)(uintptr_t)*in;
        inf->st.avail_in = give;
        inf->st.next_out = out;
        inf->st.avail_out = room;
        ret = isal_inflate(&inf->st);
        *produced = room - inf->st.avail_out;
        took = give - inf->st.avail_in;
        *in += took;
        *in_len -= took;
        if (ret < 0 || ret == ISAL_NEED_DICT) {
                *why = isal_why(ret);
                return CT_INFLATE_BAD;
        }
        if (inf->st.block_state == ISAL_BLOCK_FINISH)
                return CT_INFLATE_END;
        return CT_INFLATE_OK;
}

const char *ct_inflate_library(void)
{
        return "ISA-L " STR(ISAL_MAJOR_VERSION) "." STR(ISAL_MINOR_VERSION) "." STR(ISAL_PATCH_VERSION);
}
