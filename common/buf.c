/*
 * buf.c - bounded growable byte buffer (see buf.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void buf_init(struct buf *b, size_t max)
{
        b->p = NULL;
        b->len = b->cap = 0;
        b->max = max;
}

void buf_clear(struct buf *b)
{
        free(b->p);
        b->p = NULL;
        b->len = b->cap = 0;
}

void buf_reset(struct buf *b)
{
        b->len = 0;
        if (b->p)
                b->p[0] = '\0';
}

int buf_reserve(struct buf *b, size_t n)
{
        size_t need, ncap;
        char *np;

        if (n > b->max || b->len > b->max - n)
                return JB_ELIMIT;
        need = b->len + n + 1;
        if (need <= b->cap)
                return JB_OK;
        ncap = b->cap ? b->cap : 256;
        while (ncap < need)
                ncap *= 2;
        if (ncap > b->max + 1)
                ncap = b->max + 1;
        np = realloc(b->p, ncap);
        if (!np)
                return JB_ENOMEM;
        b->p = np;
        b->cap = ncap;
        b->p[b->len] = '\0'; /* the data stays a C string, also when nothing is appended */
        return JB_OK;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
        int rc = buf_reserve(b, n);

        if (rc)
                return rc;
        if (n)
                memcpy(b->p + b->len, p, n);
        b->len += n;
        b->p[b->len] = '\0';
        return JB_OK;
}

int buf_puts(struct buf *b, const char *s)
{
        return buf_append(b, s, strlen(s));
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
        va_list ap;
        int n, rc;

        va_start(ap, fmt);
        n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n < 0)
                return JB_EINPUT;
        rc = buf_reserve(b, (size_t)n);
        if (rc)
                return rc;
        va_start(ap, fmt);
        vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
        b->len += (size_t)n;
        return JB_OK;
}

int buf_json_str(struct buf *b, const char *s, size_t n)
{
        static const char hex[] = "0123456789abcdef";
        size_t i, run = 0;
        int rc;

        rc = buf_append(b, "\"", 1);
        for (i = 0; !rc && i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                char esc[7];
                size_t elen = 0;

                if (c == '"' || c == '\\') {
                        esc[0] = '\\';
                        esc[1] = (char)c;
                        elen = 2;
                } else if (c < 0x20) {
                        esc[0] = '\\';
                        switch (c) {
                        case '\n':
                                esc[1] = 'n';
                                elen = 2;
                                break;
                        case '\r':
                                esc[1] = 'r';
                                elen = 2;
                                break;
                        case '\t':
                                esc[1] = 't';
                                elen = 2;
                                break;
                        case '\b':
                                esc[1] = 'b';
                                elen = 2;
                                break;
                        case '\f':
                                esc[1] = 'f';
                                elen = 2;
                                break;
                        default:
                                memcpy(esc + 1, "u00", 3);
                                esc[4] = hex[c >> 4];
                                esc[5] = hex[c & 15];
                                elen = 6;
                        }
                } else {
                        run++;
                        continue;
                }
                if (run)
                        rc = buf_append(b, s + i - run, run);
                run = 0;
                if (!rc)
                        rc = buf_append(b, esc, elen);
        }
        if (!rc && run)
                rc = buf_append(b, s + n - run, run);
        if (!rc)
                rc = buf_append(b, "\"", 1);
        return rc;
}

int buf_base64(struct buf *b, const void *p, size_t n)
{
        static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const unsigned char *u = p;
        size_t i;
        int rc = buf_reserve(b, (n + 2) / 3 * 4);

        for (i = 0; !rc && i < n; i += 3) {
                unsigned v = (unsigned)u[i] << 16;
                char q[4];

                if (i + 1 < n)
                        v |= (unsigned)u[i + 1] << 8;
                if (i + 2 < n)
                        v |= u[i + 2];
                q[0] = tab[(v >> 18) & 63];
                q[1] = tab[(v >> 12) & 63];
                q[2] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
                q[3] = i + 2 < n ? tab[v & 63] : '=';
                rc = buf_append(b, q, 4);
        }
        return rc;
}

static int b64_val(unsigned char c)
{
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+' || c == '-')
                return 62;
        if (c == '/' || c == '_')
                return 63;
        return -1;
}

int buf_unbase64(struct buf *b, const char *s, size_t n)
{
        size_t i, len0 = b->len;
        unsigned v = 0;
        int bits = 0, pad = 0, rc = buf_reserve(b, n / 4 * 3 + 3);

        for (i = 0; !rc && i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                int d;

                if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
                        continue;
                if (c == '=') {
                        pad++;
                        continue;
                }
                d = b64_val(c);
                if (d < 0 || pad) {
                        rc = JB_EINPUT;
                        break;
                }
                v = (v << 6) | (unsigned)d;
                bits += 6;
                if (bits >= 8) {
                        char ch = (char)((v >> (bits - 8)) & 0xff);

                        bits -= 8;
                        rc = buf_append(b, &ch, 1);
                }
        }
        if (!rc && (pad > 2 || bits >= 6))
                rc = JB_EINPUT;
        if (rc) {
                b->len = len0;
                if (b->p)
                        b->p[len0] = '\0';
        }
        return rc;
}

char *buf_take(struct buf *b)
{
        char *p = b->p;

        if (!p) {
                p = calloc(1, 1);
        }
        b->p = NULL;
        b->len = b->cap = 0;
        return p;
}
