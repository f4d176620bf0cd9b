/*
 * buf.h - a growable byte buffer with a ceiling set at init.
 *
 * A buf owns its memory: buf_init() allocates nothing, buf_clear() frees and may be called
 * twice. Appends that would pass the ceiling fail with JB_ELIMIT and leave the buffer as it
 * was; a failed allocation gives JB_ENOMEM. The data is always NUL-terminated (the NUL is
 * not counted in len), so a buf holding text can be used as a C string.
 */
#ifndef BUF_H
#define BUF_H

#include <stddef.h>

#include "jb.h"

struct buf {
        char *p;    /* data, NUL-terminated; NULL until the first append */
        size_t len; /* bytes used */
        size_t cap; /* bytes allocated */
        size_t max; /* ceiling for len */
};

void buf_init(struct buf *b, size_t max);
void buf_clear(struct buf *b);
void buf_reset(struct buf *b); /* len = 0, memory kept */
int buf_append(struct buf *b, const void *p, size_t n) JB_MUST_CHECK;
int buf_puts(struct buf *b, const char *s) JB_MUST_CHECK;
int buf_printf(struct buf *b, const char *fmt, ...) JB_PRINTF(2, 3) JB_MUST_CHECK;
int buf_reserve(struct buf *b, size_t n) JB_MUST_CHECK; /* room for n more bytes */
/* Append s as a JSON string literal (quotes included); s must be valid UTF-8. */
int buf_json_str(struct buf *b, const char *s, size_t n) JB_MUST_CHECK;
/* Append the standard base64 (RFC 4648, with padding) of n bytes of p. */
int buf_base64(struct buf *b, const void *p, size_t n) JB_MUST_CHECK;
/* Append the bytes that standard base64 text s (n chars; padding optional, whitespace
 * skipped) stands for. JB_EINPUT (buffer unchanged) when s is not base64. */
int buf_unbase64(struct buf *b, const char *s, size_t n) JB_MUST_CHECK;
/* Take the data: caller frees the returned pointer with free(); the buf is left empty. */
char *buf_take(struct buf *b);

#endif
