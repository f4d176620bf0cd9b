/*
 * gen_util.c - jibe-ctgen helpers: allocation that aborts on OOM, the random generator, UTC
 * time formatting, the output buffer, the gzip writer and atomic file writes.
 * Nothing here keeps global state except the mkdir cache in gen_write_file().
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctgen.h"
#include "state.h"

void *gen_xmalloc(size_t n)
{
        void *p = malloc(n ? n : 1);

        if (!p) {
                fprintf(stderr, "jibe-ctgen: out of memory (%zu bytes)\n", n);
                abort();
        }
        return p;
}

void *gen_xcalloc(size_t n, size_t sz)
{
        void *p = calloc(n ? n : 1, sz ? sz : 1);

        if (!p) {
                fprintf(stderr, "jibe-ctgen: out of memory\n");
                abort();
        }
        return p;
}

void *gen_xrealloc(void *p, size_t n)
{
        void *q = realloc(p, n ? n : 1);

        if (!q) {
                fprintf(stderr, "jibe-ctgen: out of memory (%zu bytes)\n", n);
                abort();
        }
        return q;
}

char *gen_xstrdup(const char *s)
{
        size_t n = strlen(s) + 1;
        char *p = gen_xmalloc(n);

        memcpy(p, s, n);
        return p;
}

/* ---- random numbers ---- */

uint64_t gen_mix64(uint64_t x)
{
        x += 0x9e3779b97f4a7c15ULL;
        x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
        x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
        return x ^ (x >> 31);
}

void gen_rng_seed(struct gen_rng *r, uint64_t seed, uint64_t stream)
{
        uint64_t x = gen_mix64(seed) ^ gen_mix64(stream * 0x632be59bd9b4e019ULL + 1);
        int i;

        for (i = 0; i < 4; i++) {
                x = gen_mix64(x + (uint64_t)i);
                r->s[i] = x;
        }
        if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
                r->s[0] = 1;
}

static uint64_t rotl(uint64_t x, int k)
{
        return (x << k) | (x >> (64 - k));
}

uint64_t gen_rng_next(struct gen_rng *r)
{
        uint64_t *s = r->s;
        uint64_t res = rotl(s[1] * 5, 7) * 9;
        uint64_t t = s[1] << 17;

        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = rotl(s[3], 45);
        return res;
}

uint64_t gen_rng_below(struct gen_rng *r, uint64_t n)
{
        /* the modulo bias is irrelevant for test data; results stay deterministic */
        return gen_rng_next(r) % n;
}

int gen_rng_pm(struct gen_rng *r, unsigned permille)
{
        return gen_rng_below(r, 1000) < permille;
}

uint64_t gen_hash(const void *p, size_t n, uint64_t h)
{
        const unsigned char *s = p;
        size_t i;

        if (!h)
                h = 0xcbf29ce484222325ULL;
        for (i = 0; i < n; i++) {
                h ^= s[i];
                h *= 0x100000001b3ULL;
        }
        return h;
}

/* ---- time ---- */

void gen_fmt_iso(int64_t t, char out[32])
{
        struct tm tm;
        time_t tt = (time_t)t;
        char tmp[96];

        gmtime_r(&tt, &tm);
        if (snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec) >= 32)
                tmp[31] = '\0';
        memcpy(out, tmp, 32);
}

void gen_fmt_sim(int64_t t, char out[32])
{
        struct tm tm;
        time_t tt = (time_t)t;
        char tmp[96];

        gmtime_r(&tt, &tm);
        if (snprintf(tmp, sizeof(tmp), "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec) >= 32)
                tmp[31] = '\0';
        memcpy(out, tmp, 32);
}

int gen_parse_iso(const char *s, int64_t *t)
{
        struct tm tm;
        int n = 0;

        memset(&tm, 0, sizeof(tm));
        if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                   &tm.tm_min, &tm.tm_sec, &n) != 6 ||
            s[n] != '\0')
                return -1;
        if (tm.tm_year < 1970 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
            tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
                return -1;
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        *t = (int64_t)timegm(&tm);
        return 0;
}

int64_t gen_day_start(int64_t t)
{
        return t - (t % 86400);
}

/* ---- output buffer ---- */

void gen_ob_grow(struct gen_ob *o, size_t n)
{
        size_t cap = o->cap ? o->cap : 256;

        while (cap - o->len < n)
                cap *= 2;
        o->p = gen_xrealloc(o->p, cap);
        o->cap = cap;
}

void gen_ob_free(struct gen_ob *o)
{
        free(o->p);
        o->p = NULL;
        o->len = o->cap = 0;
}

void gen_ob_u64(struct gen_ob *o, uint64_t v)
{
        char tmp[24];
        int i = 24;

        do {
                tmp[--i] = (char)('0' + v % 10);
                v /= 10;
        } while (v);
        gen_ob_put(o, tmp + i, (size_t)(24 - i));
}

void gen_ob_jstr_raw(struct gen_ob *o, const char *s)
{
        static const char hex[] = "0123456789abcdef";
        const unsigned char *p = (const unsigned char *)s;
        const unsigned char *run = p;

        for (;; p++) {
                unsigned char c = *p;

                if (c >= 0x20 && c != '"' && c != '\\')
                        continue;
                gen_ob_put(o, run, (size_t)(p - run));
                if (!c)
                        return;
                run = p + 1;
                if (c == '"' || c == '\\') {
                        char e[2] = {'\\', (char)c};
                        gen_ob_put(o, e, 2);
                } else {
                        char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                        gen_ob_put(o, e, 6);
                }
        }
}

void gen_ob_jstr(struct gen_ob *o, const char *s)
{
        gen_ob_ch(o, '"');
        gen_ob_jstr_raw(o, s);
        gen_ob_ch(o, '"');
}

void gen_ob_printf(struct gen_ob *o, const char *fmt, ...)
{
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(o->p ? o->p + o->len : NULL, o->p ? o->cap - o->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        if (!o->p || (size_t)n + 1 > o->cap - o->len) {
                gen_ob_grow(o, (size_t)n + 1);
                va_start(ap, fmt);
                vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
                va_end(ap);
        }
        o->len += (size_t)n;
}

void gen_ob_urlenc(struct gen_ob *o, const char *s)
{
        static const char hex[] = "0123456789ABCDEF";
        const unsigned char *p;

        for (p = (const unsigned char *)s; *p; p++) {
                unsigned char c = *p;

                if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
                        gen_ob_ch(o, (char)c);
                } else {
                        char e[3] = {'%', hex[c >> 4], hex[c & 15]};
                        gen_ob_put(o, e, 3);
                }
        }
}

/* ---- gzip ---- */

int gen_gz_init(struct gen_gz *g, int level)
{
        memset(g, 0, sizeof(*g));
        g->level = level;
        g->outsz = 1 << 18;
        g->out = gen_xmalloc(g->outsz);
        g->fd = -1;
        /* windowBits 15 + 16: gzip header and trailer */
        if (deflateInit2(&g->z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
                free(g->out);
                g->out = NULL;
                return -1;
        }
        return 0;
}

void gen_gz_begin(struct gen_gz *g, int fd)
{
        deflateReset(&g->z);
        g->fd = fd;
        g->in_bytes = g->out_bytes = 0;
        if (g->hash)
                sha256_init(&g->sha);
}

static int write_all(int fd, const void *p, size_t n)
{
        const char *s = p;

        while (n) {
                ssize_t k = write(fd, s, n);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -1;
                }
                s += k;
                n -= (size_t)k;
        }
        return 0;
}

static int gz_run(struct gen_gz *g, int flush)
{
        int zr;

        do {
                g->z.next_out = g->out;
                g->z.avail_out = (uInt)g->outsz;
                zr = deflate(&g->z, flush);
                if (zr == Z_STREAM_ERROR) {
                        errno = EINVAL;
                        return -1;
                }
                if (g->outsz - g->z.avail_out) {
                        if (write_all(g->fd, g->out, g->outsz - g->z.avail_out))
                                return -1;
                        g->out_bytes += g->outsz - g->z.avail_out;
                }
        } while (g->z.avail_out == 0 || (flush == Z_FINISH && zr != Z_STREAM_END));
        return 0;
}

int gen_gz_write(struct gen_gz *g, const void *p, size_t n)
{
        const unsigned char *s = p;

        g->in_bytes += n;
        if (g->hash)
                sha256_update(&g->sha, p, n);
        while (n) {
                size_t k = n > (1u << 30) ? (1u << 30) : n;

                g->z.next_in = (unsigned char *)(uintptr_t)s;
                g->z.avail_in = (uInt)k;
                if (gz_run(g, Z_NO_FLUSH))
                        return -1;
                s += k;
                n -= k;
        }
        return 0;
}

int gen_gz_finish(struct gen_gz *g)
{
        g->z.next_in = NULL;
        g->z.avail_in = 0;
        return gz_run(g, Z_FINISH);
}

void gen_gz_free(struct gen_gz *g)
{
        if (g->out)
                deflateEnd(&g->z);
        free(g->out);
        g->out = NULL;
}

/* ---- files ---- */

int gen_write_file(const char *dir, const char *rel, const void *p, size_t n, int64_t mtime,
                   struct gen_gz *gz, char *errstr, size_t errsz)
{
        static char lastdir[4096]; /* parent most recently created: skips mkdir calls */
        char tmp[4200], dst[4200];
        struct timespec ts[2];
        const char *slash;
        int fd, rc = 0;

        snprintf(tmp, sizeof(tmp), "%s/.tmp-ctgen-%ld", dir, (long)getpid());
        if ((size_t)snprintf(dst, sizeof(dst), "%s/%s", dir, rel) >= sizeof(dst)) {
                snprintf(errstr, errsz, "path too long: %s/%s", dir, rel);
                return -1;
        }
        slash = strrchr(dst, '/');
        if (slash) {
                size_t dn = (size_t)(slash - dst);

                if (dn < sizeof(lastdir) && (strncmp(lastdir, dst, dn) != 0 || lastdir[dn])) {
                        memcpy(lastdir, dst, dn);
                        lastdir[dn] = '\0';
                        if (state_mkdirs(lastdir)) {
                                snprintf(errstr, errsz, "cannot create folder %s: %s", lastdir,
                                         strerror(errno));
                                lastdir[0] = '\0';
                                return -1;
                        }
                }
        }
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 && errno == ENOENT && !state_mkdirs(dir))
                fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
                snprintf(errstr, errsz, "cannot create %s: %s", tmp, strerror(errno));
                return -1;
        }
        if (gz) {
                gen_gz_begin(gz, fd);
                if (gen_gz_write(gz, p, n) || gen_gz_finish(gz))
                        rc = -1;
        } else if (write_all(fd, p, n)) {
                rc = -1;
        }
        if (!rc && mtime >= 0) {
                ts[0].tv_sec = ts[1].tv_sec = (time_t)mtime;
                ts[0].tv_nsec = ts[1].tv_nsec = 0;
                if (futimens(fd, ts))
                        rc = -1;
        }
        if (rc) {
                snprintf(errstr, errsz, "cannot write %s: %s", tmp, strerror(errno));
                close(fd);
                unlink(tmp);
                return -1;
        }
        if (close(fd)) {
                snprintf(errstr, errsz, "cannot write %s: %s", tmp, strerror(errno));
                unlink(tmp);
                return -1;
        }
        if (rename(tmp, dst) != 0) {
                int ok = 0;

                if (errno == ENOENT && slash) {
                        /* the cached parent was removed since (a delete emptied it) */
                        char parent[4200];

                        memcpy(parent, dst, (size_t)(slash - dst));
                        parent[slash - dst] = '\0';
                        ok = state_mkdirs(parent) == 0 && rename(tmp, dst) == 0;
                }
                if (!ok) {
                        snprintf(errstr, errsz, "cannot write %s: %s", dst, strerror(errno));
                        unlink(tmp);
                        return -1;
                }
        }
        return 0;
}
