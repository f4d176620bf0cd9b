/*
 * sim_util.c - small helpers for jibe-aa-sim: string map, JSON writer, form decoding,
 * times, base64, MD5, random hex, content types.
 *
 * Ownership: smap entries, form pairs and the JSON writer's buffer belong to their
 * container and are freed by smap_clear(), form_free() and jw_free().
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "sim.h"

/* ---------------------------------------------------------------- hashing and smap */

uint64_t sim_hash(const void *p, size_t n, uint64_t seed)
{
        const unsigned char *s = p;
        uint64_t h = 1469598103934665603ULL ^ seed;
        size_t i;

        for (i = 0; i < n; i++) {
                h ^= s[i];
                h *= 1099511628211ULL;
        }
        h ^= h >> 29;
        h *= 0xbf58476d1ce4e5b9ULL;
        h ^= h >> 32;
        return h;
}

void smap_init(struct smap *m)
{
        m->tab = NULL;
        m->nbuckets = m->count = 0;
}

void smap_clear(struct smap *m, void (*freep)(void *))
{
        size_t i;
        struct smap_ent *e, *nx;

        for (i = 0; i < m->nbuckets; i++) {
                for (e = m->tab[i]; e; e = nx) {
                        nx = e->next;
                        if (freep && e->p)
                                freep(e->p);
                        free(e);
                }
        }
        free(m->tab);
        smap_init(m);
}

struct smap_ent *smap_get(const struct smap *m, const char *key)
{
        uint64_t h;
        struct smap_ent *e;

        if (!m->nbuckets)
                return NULL;
        h = sim_hash(key, strlen(key), 0);
        for (e = m->tab[h & (m->nbuckets - 1)]; e; e = e->next)
                if (e->hash == h && strcmp(e->key, key) == 0)
                        return e;
        return NULL;
}

static int smap_grow(struct smap *m)
{
        size_t nb = m->nbuckets ? m->nbuckets * 2 : 64, i;
        struct smap_ent **nt = calloc(nb, sizeof(*nt)), *e, *nx;

        if (!nt)
                return JB_ENOMEM;
        for (i = 0; i < m->nbuckets; i++) {
                for (e = m->tab[i]; e; e = nx) {
                        nx = e->next;
                        e->next = nt[e->hash & (nb - 1)];
                        nt[e->hash & (nb - 1)] = e;
                }
        }
        free(m->tab);
        m->tab = nt;
        m->nbuckets = nb;
        return JB_OK;
}

struct smap_ent *smap_put(struct smap *m, const char *key)
{
        struct smap_ent *e = smap_get(m, key);
        size_t len;

        if (e)
                return e;
        if (m->count >= m->nbuckets && smap_grow(m) != JB_OK)
                return NULL;
        len = strlen(key);
        e = calloc(1, sizeof(*e) + len + 1);
        if (!e)
                return NULL;
        memcpy(e->key, key, len + 1);
        e->hash = sim_hash(key, len, 0);
        e->next = m->tab[e->hash & (m->nbuckets - 1)];
        m->tab[e->hash & (m->nbuckets - 1)] = e;
        m->count++;
        return e;
}

void *smap_del(struct smap *m, const char *key)
{
        uint64_t h;
        struct smap_ent **pp, *e;
        void *p;

        if (!m->nbuckets)
                return NULL;
        h = sim_hash(key, strlen(key), 0);
        for (pp = &m->tab[h & (m->nbuckets - 1)]; (e = *pp); pp = &e->next) {
                if (e->hash == h && strcmp(e->key, key) == 0) {
                        *pp = e->next;
                        p = e->p;
                        free(e);
                        m->count--;
                        return p;
                }
        }
        return NULL;
}

void smap_incr(struct smap *m, const char *key)
{
        struct smap_ent *e = smap_put(m, key);

        if (e)
                e->n++;
}

/* ---------------------------------------------------------------- JSON writer */

void jw_init(struct jw *w, size_t max)
{
        buf_init(&w->b, max);
        w->err = 0;
        w->depth = 0;
        w->first[0] = true;
        w->after_key = false;
}

void jw_free(struct jw *w)
{
        buf_clear(&w->b);
}

static void jw_put(struct jw *w, const char *s, size_t n)
{
        if (!w->err)
                w->err = buf_append(&w->b, s, n);
}

/* Separator before a value or a key. */
static void jw_sep(struct jw *w)
{
        if (w->after_key) {
                w->after_key = false;
                return;
        }
        if (!w->first[w->depth])
                jw_put(w, ",", 1);
        w->first[w->depth] = false;
}

static void jw_open(struct jw *w, const char *c)
{
        jw_sep(w);
        jw_put(w, c, 1);
        if (w->depth + 1 >= (int)(sizeof(w->first) / sizeof(w->first[0]))) {
                w->err = JB_ELIMIT;
                return;
        }
        w->first[++w->depth] = true;
}

static void jw_close(struct jw *w, const char *c)
{
        jw_put(w, c, 1);
        if (w->depth > 0)
                w->depth--;
}

void jw_obj(struct jw *w)
{
        jw_open(w, "{");
}
void jw_end_obj(struct jw *w)
{
        jw_close(w, "}");
}
void jw_arr(struct jw *w)
{
        jw_open(w, "[");
}
void jw_end_arr(struct jw *w)
{
        jw_close(w, "]");
}

void jw_strn(struct jw *w, const char *s, size_t n)
{
        jw_sep(w);
        if (!w->err)
                w->err = buf_json_str(&w->b, s ? s : "", s ? n : 0);
}

void jw_str(struct jw *w, const char *s)
{
        jw_strn(w, s, s ? strlen(s) : 0);
}

void jw_key(struct jw *w, const char *k)
{
        jw_str(w, k);
        jw_put(w, ":", 1);
        w->after_key = true;
}

void jw_int(struct jw *w, int64_t v)
{
        char t[32];

        jw_sep(w);
        snprintf(t, sizeof(t), "%lld", (long long)v);
        jw_put(w, t, strlen(t));
}

void jw_num(struct jw *w, double v)
{
        char t[64];

        jw_sep(w);
        if (!isfinite(v))
                v = 0;
        snprintf(t, sizeof(t), "%.17g", v);
        jw_put(w, t, strlen(t));
}

void jw_bool(struct jw *w, bool v)
{
        jw_sep(w);
        jw_put(w, v ? "true" : "false", v ? 4 : 5);
}

void jw_raw(struct jw *w, const char *s)
{
        jw_sep(w);
        jw_put(w, s, strlen(s));
}

void jw_kstr(struct jw *w, const char *k, const char *s)
{
        jw_key(w, k);
        jw_str(w, s);
}

void jw_kint(struct jw *w, const char *k, int64_t v)
{
        jw_key(w, k);
        jw_int(w, v);
}

void jw_kistr(struct jw *w, const char *k, int64_t v)
{
        char t[32];

        snprintf(t, sizeof(t), "%lld", (long long)v);
        jw_kstr(w, k, t);
}

void jw_kbool(struct jw *w, const char *k, bool v)
{
        jw_key(w, k);
        jw_bool(w, v);
}

/* ---------------------------------------------------------------- forms */

void form_init(struct form *f)
{
        memset(f, 0, sizeof(*f));
}

void form_free(struct form *f)
{
        size_t i;

        for (i = 0; i < f->n; i++) {
                free(f->k[i]);
                free(f->v[i]);
        }
        free(f->k);
        free(f->v);
        form_init(f);
}

static int form_addn(struct form *f, char *k, char *v)
{
        char **nk, **nv;
        size_t nc;

        if (f->n == f->cap) {
                nc = f->cap ? f->cap * 2 : 16;
                nk = realloc(f->k, nc * sizeof(*nk));
                if (!nk)
                        goto fail;
                f->k = nk;
                nv = realloc(f->v, nc * sizeof(*nv));
                if (!nv)
                        goto fail;
                f->v = nv;
                f->cap = nc;
        }
        f->k[f->n] = k;
        f->v[f->n] = v;
        f->n++;
        return JB_OK;
fail:
        free(k);
        free(v);
        return JB_ENOMEM;
}

int form_add(struct form *f, const char *k, const char *v)
{
        char *kk = strdup(k), *vv = strdup(v ? v : "");

        if (!kk || !vv) {
                free(kk);
                free(vv);
                return JB_ENOMEM;
        }
        return form_addn(f, kk, vv);
}

static int hexval(int c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Decode one urlencoded component into a new string. */
static char *url_decode(const char *s, size_t n)
{
        char *o = malloc(n + 1), *q = o;
        size_t i;
        int a, b;

        if (!o)
                return NULL;
        for (i = 0; i < n; i++) {
                if (s[i] == '+') {
                        *q++ = ' ';
                } else if (s[i] == '%' && i + 2 < n && (a = hexval((unsigned char)s[i + 1])) >= 0 &&
                           (b = hexval((unsigned char)s[i + 2])) >= 0) {
                        *q++ = (char)(a * 16 + b);
                        i += 2;
                } else {
                        *q++ = s[i];
                }
        }
        *q = '\0';
        return o;
}

int form_parse(struct form *f, const char *s, size_t n)
{
        size_t i = 0, j, eq;
        char *k, *v;
        int rc;

        while (i < n) {
                for (j = i; j < n && s[j] != '&'; j++)
                        ;
                if (j > i) {
                        for (eq = i; eq < j && s[eq] != '='; eq++)
                                ;
                        k = url_decode(s + i, eq - i);
                        v = eq < j ? url_decode(s + eq + 1, j - eq - 1) : strdup("");
                        if (!k || !v) {
                                free(k);
                                free(v);
                                return JB_ENOMEM;
                        }
                        rc = form_addn(f, k, v);
                        if (rc)
                                return rc;
                }
                i = j + 1;
        }
        return JB_OK;
}

const char *form_get(const struct form *f, const char *k)
{
        size_t i;

        for (i = 0; i < f->n; i++)
                if (strcmp(f->k[i], k) == 0)
                        return f->v[i];
        return NULL;
}

/* ---------------------------------------------------------------- times and numbers */

int64_t sim_now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sim_sleep_ms(int64_t ms)
{
        struct timespec ts;

        if (ms <= 0)
                return;
        ts.tv_sec = (time_t)(ms / 1000);
        ts.tv_nsec = (long)(ms % 1000) * 1000000L;
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
                ;
}

void sim_fmt_time(int64_t epoch, char out[20])
{
        time_t t = (time_t)epoch;
        struct tm tm;

        if (!gmtime_r(&t, &tm) || strftime(out, 20, "%Y-%m-%d %H:%M:%S", &tm) == 0)
                memcpy(out, "0000-00-00 00:00:00", 20);
}

int sim_parse_time(const char *s, int64_t *epoch)
{
        struct tm tm;
        int y, mo, d, h, mi, se, used = -1;

        if (!s || sscanf(s, "%4d-%2d-%2d %2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &used) != 6 ||
            used < 0 || s[used] || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
            se > 60 || h < 0 || mi < 0 || se < 0)
                return JB_EINPUT;
        memset(&tm, 0, sizeof(tm));
        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = d;
        tm.tm_hour = h;
        tm.tm_min = mi;
        tm.tm_sec = se;
        *epoch = (int64_t)timegm(&tm);
        return JB_OK;
}

int sim_parse_i64(const char *s, int64_t *v)
{
        char *end;
        long long x;

        if (!s || !*s)
                return JB_EINPUT;
        errno = 0;
        x = strtoll(s, &end, 10);
        if (errno || *end)
                return JB_EINPUT;
        *v = x;
        return JB_OK;
}

void sim_random_hex(char *out, size_t nhex)
{
        static const char hx[] = "0123456789abcdef";
        unsigned char r[64];
        size_t i, got = 0;
        ssize_t k;

        if (nhex > 2 * sizeof(r))
                nhex = 2 * sizeof(r);
        while (got < (nhex + 1) / 2) {
                k = getrandom(r + got, (nhex + 1) / 2 - got, 0);
                if (k <= 0) {
                        /* getrandom on Linux does not fail for small sizes; keep going */
                        if (k < 0 && errno != EINTR)
                                break;
                        continue;
                }
                got += (size_t)k;
        }
        for (i = 0; i < nhex; i++)
                out[i] = hx[(r[i / 2] >> ((i & 1) ? 0 : 4)) & 15];
        out[nhex] = '\0';
}

/* ---------------------------------------------------------------- base64 */

char *sim_b64_decode(const char *s, size_t *outlen)
{
        struct buf b;
        size_t n;
        char *out;

        buf_init(&b, strlen(s) + 4);
        if (buf_unbase64(&b, s, strlen(s)) != JB_OK) {
                buf_clear(&b);
                return NULL;
        }
        n = b.len;
        out = buf_take(&b); /* NUL-terminated, "" for nothing */
        if (out && outlen)
                *outlen = n;
        return out;
}

/* ---------------------------------------------------------------- MD5 (RFC 1321) */

static const uint8_t md5_shift[64] = {
        7,  12, 17, 22, 7,  12, 17, 22, 7,  12, 17, 22, 7,  12, 17, 22, 5,  9,  14, 20, 5,  9,
        14, 20, 5,  9,  14, 20, 5,  9,  14, 20, 4,  11, 16, 23, 4,  11, 16, 23, 4,  11, 16, 23,
        4,  11, 16, 23, 6,  10, 15, 21, 6,  10, 15, 21, 6,  10, 15, 21, 6,  10, 15, 21,
};
static uint32_t md5_k[64];
static pthread_once_t md5_once = PTHREAD_ONCE_INIT;

static void md5_table(void)
{
        int i;

        for (i = 0; i < 64; i++)
                md5_k[i] = (uint32_t)(fabs(sin((double)i + 1.0)) * 4294967296.0);
}

static void md5_block(uint32_t h[4], const unsigned char *p)
{
        uint32_t m[16], a = h[0], b = h[1], c = h[2], d = h[3], f, t;
        int i, g;

        for (i = 0; i < 16; i++)
                m[i] = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 | (uint32_t)p[4 * i + 2] << 16 |
                       (uint32_t)p[4 * i + 3] << 24;
        for (i = 0; i < 64; i++) {
                if (i < 16) {
                        f = (b & c) | (~b & d);
                        g = i;
                } else if (i < 32) {
                        f = (d & b) | (~d & c);
                        g = (5 * i + 1) % 16;
                } else if (i < 48) {
                        f = b ^ c ^ d;
                        g = (3 * i + 5) % 16;
                } else {
                        f = c ^ (b | ~d);
                        g = (7 * i) % 16;
                }
                t = f + a + md5_k[i] + m[g];
                a = d;
                d = c;
                c = b;
                b = b + ((t << md5_shift[i]) | (t >> (32 - md5_shift[i])));
        }
        h[0] += a;
        h[1] += b;
        h[2] += c;
        h[3] += d;
}

void sim_md5_init(struct sim_md5 *c)
{
        pthread_once(&md5_once, md5_table);
        c->h[0] = 0x67452301;
        c->h[1] = 0xefcdab89;
        c->h[2] = 0x98badcfe;
        c->h[3] = 0x10325476;
        c->len = 0;
}

void sim_md5_update(struct sim_md5 *c, const void *data, size_t n)
{
        const unsigned char *p = data;
        size_t fill = (size_t)(c->len % 64), k;

        c->len += n;
        while (n) {
                k = 64 - fill < n ? 64 - fill : n;
                memcpy(c->blk + fill, p, k);
                fill += k;
                p += k;
                n -= k;
                if (fill == 64) {
                        md5_block(c->h, c->blk);
                        fill = 0;
                }
        }
}

void sim_md5_hex(struct sim_md5 *c, char out[33])
{
        static const char hx[] = "0123456789abcdef";
        unsigned char pad[72];
        uint64_t bits = c->len * 8;
        size_t fill = (size_t)(c->len % 64), np = fill < 56 ? 56 - fill : 120 - fill;
        int i;

        memset(pad, 0, sizeof(pad));
        pad[0] = 0x80;
        for (i = 0; i < 8; i++)
                pad[np + (size_t)i] = (unsigned char)(bits >> (8 * i));
        sim_md5_update(c, pad, np + 8);
        for (i = 0; i < 16; i++) {
                unsigned char byte = (unsigned char)(c->h[i / 4] >> (8 * (i % 4)));

                out[2 * i] = hx[byte >> 4];
                out[2 * i + 1] = hx[byte & 15];
        }
        out[32] = '\0';
}

/* ---------------------------------------------------------------- content types */

const char *sim_content_type(const char *name)
{
        static const struct {
                const char *ext, *type;
        } types[] = {
                {"txt", "text/plain"},      {"csv", "text/csv"},    {"json", "application/json"},
                {"gz", "application/gzip"}, {"html", "text/html"},  {"xml", "application/xml"},
                {"jpg", "image/jpeg"},      {"jpeg", "image/jpeg"}, {"png", "image/png"},
                {"pdf", "application/pdf"}, {"mp4", "video/mp4"},   {"zip", "application/zip"},
                {"log", "text/plain"},
        };
        const char *dot = strrchr(name, '.');
        size_t i;

        if (dot && dot != name)
                for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
                        if (strcasecmp(dot + 1, types[i].ext) == 0)
                                return types[i].type;
        return "application/octet-stream";
}
