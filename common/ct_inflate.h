/*
 * ct_inflate.h - gzip inflate for the CloudTrail reader, one interface over two libraries.
 *
 * Back ends (one is linked, chosen at build time by the Makefile's INFLATE switch):
 * ct_inflate_isal.c (Intel ISA-L's isal_inflate, the default where libisal-dev is installed)
 * and ct_inflate_zlib.c (zlib, the fallback). Both read gzip only (no raw deflate, no zlib
 * wrapper), check each member's CRC-32 and length, and stop at the end of a member without
 * consuming the bytes that follow it, so the caller decides what comes next (another member,
 * or trailing data to reject). Only ct_reader.c and ct_digest.c use this header.
 * Ownership: ct_inflate_new() returns a state that ct_inflate_free() frees (NULL is fine);
 * the input and output buffers stay the caller's.
 */
#ifndef CT_INFLATE_H
#define CT_INFLATE_H

#include <stddef.h>
#include <stdint.h>

enum ct_inflate_rc {
        CT_INFLATE_OK = 0, /* progress made; more input or output room wanted */
        CT_INFLATE_END,    /* the current gzip member ended (trailer checked) */
        CT_INFLATE_BAD,    /* not gzip, or corrupt data: *why says what the library saw */
        CT_INFLATE_NOMEM,
};

struct ct_inflate;

/* A state ready for the first member of a stream, or NULL when out of memory. */
struct ct_inflate *ct_inflate_new(void);
void ct_inflate_free(struct ct_inflate *inf);

/* Start over: the next bytes are the first gzip member of a stream. */
void ct_inflate_reset(struct ct_inflate *inf);

/* After CT_INFLATE_END: the next bytes are read as another gzip member. */
void ct_inflate_next_member(struct ct_inflate *inf);

/*
 * Inflate from *in (*in_len bytes) into out (out_cap bytes, > 0). Advances *in and *in_len
 * past what was consumed and sets *produced. Returns an enum ct_inflate_rc; on
 * CT_INFLATE_BAD *why is a short lower-case phrase owned by the library ("incorrect data
 * check"). Output already produced before an error is counted in *produced.
 * When *in_len is 0 on return and *produced < out_cap, nothing is pending inside.
 */
int ct_inflate_run(struct ct_inflate *inf, const uint8_t **in, size_t *in_len, uint8_t *out,
                   size_t out_cap, size_t *produced, const char **why);

/* The library and its version, for `jibe version` ("ISA-L 2.30.0", "zlib 1.2.13"). */
const char *ct_inflate_library(void);

#endif
