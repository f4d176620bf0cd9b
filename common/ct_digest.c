/*
 * ct_digest.c - CloudTrail digest files: the digest path layout, a bounded streaming inflate
 * (ct_inflate.h) of the gzip JSON, and its fields into struct ct_digest (see ct_digest.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "ct_digest.h"
#include "ct_inflate.h"

/* ---- paths ---- */

/* The value of n (at most 4) decimal digits at p, or -1 if any is not a digit. */
static int digits(const char *p, size_t n)
{
        int v = 0;
        size_t i;

        for (i = 0; i < n; i++) {
                if (p[i] < '0' || p[i] > '9')
                        return -1;
                v = v * 10 + (p[i] - '0');
        }
        return v;
}

/* A UTC civil time checked for range; -1 when out of range or impossible (31 Feb). */
static int64_t civil(int y, int mo, int d, int h, int mi, int s)
{
        time_t t;
        struct tm tm;

        if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
            s < 0 || s > 60)
                return -1;
        t = jb_utc_time(y, mo, d, h, mi, s);
        if (t == (time_t)-1 || !gmtime_r(&t, &tm) || tm.tm_mday != d)
                return -1;
        return (int64_t)t;
}

/* "YYYYMMDDTHHmmssZ" (16 chars at p) -> epoch seconds, or -1. */
static int64_t name_stamp(const char *p)
{
        if (p[8] != 'T' || p[15] != 'Z')
                return -1;
        return civil(digits(p, 4), digits(p + 4, 2), digits(p + 6, 2), digits(p + 9, 2),
                     digits(p + 11, 2), digits(p + 13, 2));
}

/* The next '/'-separated component from *p (advanced past it and its slash). */
static struct ct_part next_comp(const char **p)
{
        struct ct_part c = {*p, 0};
        const char *s = strchr(*p, '/');

        c.len = s ? (size_t)(s - *p) : strlen(*p);
        *p += c.len + (s ? 1 : 0);
        return c;
}

static int part_is(struct ct_part c, const char *s)
{
        return c.len == strlen(s) && !memcmp(c.p, s, c.len);
}

static int part_digits(struct ct_part c, size_t n)
{
        size_t i;

        if (c.len != n)
                return 0;
        for (i = 0; i < n; i++)
                if (c.p[i] < '0' || c.p[i] > '9')
                        return 0;
        return 1;
}

/* The file name of a digest: <acct>_CloudTrail-Digest_<region>_<trail>_<home>_<stamp>[_backfill].json.gz */
static int parse_name(struct ct_part f, struct ct_part acct, struct ct_digest_path *o)
{
        static const char ext[] = ".json.gz", bf[] = "_backfill", mid[] = "_" CT_DIGEST_TRAIL "_";
        const char *p = f.p, *e = f.p + f.len, *u;
        size_t i;

        if (f.len < sizeof(ext) - 1 || memcmp(e - (sizeof(ext) - 1), ext, sizeof(ext) - 1))
                return -1;
        e -= sizeof(ext) - 1;
        if ((size_t)(e - p) >= sizeof(bf) - 1 && !memcmp(e - (sizeof(bf) - 1), bf, sizeof(bf) - 1)) {
                o->backfill = 1;
                e -= sizeof(bf) - 1;
        }
        if ((size_t)(e - p) < acct.len + sizeof(mid) - 1 || memcmp(p, acct.p, acct.len) ||
            memcmp(p + acct.len, mid, sizeof(mid) - 1))
                return -1;
        p += acct.len + sizeof(mid) - 1;
        /* <region>_ (a region has no underscore) */
        u = memchr(p, '_', (size_t)(e - p));
        if (!u || u == p)
                return -1;
        p = u + 1;
        /* _<stamp> at the end */
        if (e - p < 17 || e[-17] != '_')
                return -1;
        o->end = name_stamp(e - 16);
        if (o->end < 0)
                return -1;
        e -= 17;
        /* <trail>_<home>: the home region is after the last underscore */
        for (i = (size_t)(e - p); i > 0 && p[i - 1] != '_'; i--)
                ;
        if (i < 2 || (size_t)(e - p) == i)
                return -1;
        o->trail.p = p;
        o->trail.len = i - 1;
        o->home.p = p + i;
        o->home.len = (size_t)(e - p) - i;
        return 0;
}

int ct_digest_path_parse(const char *path, struct ct_digest_path *out)
{
        static const char logs[] = CT_PATH_LOGS "/";
        const char *p = path, *at;
        struct ct_part c, y, m, d;

        memset(out, 0, sizeof(*out));
        out->day = out->end = -1;
        if (!strncmp(path, logs, sizeof(logs) - 1)) {
                at = path;
        } else {
                at = strstr(path, "/" CT_PATH_LOGS "/");
                if (!at)
                        goto no;
                out->root.p = path;
                out->root.len = (size_t)(at - path);
                at++;
        }
        p = at + sizeof(logs) - 1;
        c = next_comp(&p);
        if (c.len > 2 && !memcmp(c.p, "o-", 2)) {
                out->org = c;
                c = next_comp(&p);
        }
        if (!part_digits(c, CT_PATH_ACCOUNT_DIGITS))
                goto no;
        out->account = c;
        if (!part_is(next_comp(&p), CT_DIGEST_TRAIL))
                goto no;
        out->region = next_comp(&p);
        if (!out->region.len)
                goto no;
        out->folder.p = path;
        out->folder.len = (size_t)(out->region.p + out->region.len - path);
        y = next_comp(&p);
        m = next_comp(&p);
        d = next_comp(&p);
        if (!part_digits(y, 4) || !part_digits(m, 2) || !part_digits(d, 2))
                goto no;
        out->day = civil(digits(y.p, 4), digits(m.p, 2), digits(d.p, 2), 0, 0, 0);
        if (out->day < 0)
                goto no;
        out->file.p = p;
        out->file.len = strlen(p);
        if (!out->file.len || memchr(p, '/', out->file.len) || parse_name(out->file, out->account, out))
                goto no;
        return 0;
no:
        memset(out, 0, sizeof(*out));
        out->day = out->end = -1;
        return -1;
}

int ct_digest_is_path(const char *path)
{
        struct ct_digest_path dp;

        return ct_digest_path_parse(path, &dp) == 0;
}

int ct_digest_is_backfill(const char *path)
{
        struct ct_digest_path dp;

        return ct_digest_path_parse(path, &dp) == 0 && dp.backfill;
}

char *ct_digest_folder_of(const char *log_folder)
{
        static const char logs[] = CT_PATH_LOGS "/";
        const char *p, *at;
        struct ct_part c, trail, y, m, d;
        size_t n, pre;
        char *out;

        if (!strncmp(log_folder, logs, sizeof(logs) - 1))
                at = log_folder;
        else if ((at = strstr(log_folder, "/" CT_PATH_LOGS "/")) != NULL)
                at++;
        else
                return NULL;
        p = at + sizeof(logs) - 1;
        c = next_comp(&p);
        if (c.len > 2 && !memcmp(c.p, "o-", 2))
                c = next_comp(&p);
        if (!part_digits(c, CT_PATH_ACCOUNT_DIGITS))
                return NULL;
        trail = next_comp(&p);
        if (!part_is(trail, CT_PATH_TRAIL) || !next_comp(&p).len)
                return NULL;
        /* nothing more, or YYYY/MM/DD and at most a trailing slash */
        if (*p) {
                y = next_comp(&p);
                m = next_comp(&p);
                d = next_comp(&p);
                if (!part_digits(y, 4) || !part_digits(m, 2) || !part_digits(d, 2) || *p)
                        return NULL;
        }
        pre = (size_t)(trail.p - log_folder);
        n = strlen(log_folder) + sizeof(CT_DIGEST_TRAIL) - sizeof(CT_PATH_TRAIL) + 1;
        out = malloc(n);
        if (!out)
                return NULL;
        snprintf(out, n, "%.*s%s%s", (int)pre, log_folder, CT_DIGEST_TRAIL, trail.p + trail.len);
        return out;
}

/* ---- content ---- */

void ct_digest_clear(struct ct_digest *d)
{
        size_t i;

        for (i = 0; i < d->nfiles; i++) {
                free(d->files[i].bucket);
                free(d->files[i].key);
        }
        free(d->files);
        free(d->bucket);
        free(d->object);
        free(d->prev_bucket);
        free(d->prev_object);
        memset(d, 0, sizeof(*d));
}

/* "YYYY-MM-DDTHH:MM:SSZ", with an optional fraction of a second before the Z. */
static int64_t json_time(const char *s)
{
        size_t n = strlen(s), i;

        if (n < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
            s[n - 1] != 'Z')
                return -1;
        if (n > 20) {
                if (s[19] != '.' || n == 21)
                        return -1;
                for (i = 20; i < n - 1; i++)
                        if (s[i] < '0' || s[i] > '9')
                                return -1;
        }
        return civil(digits(s, 4), digits(s + 5, 2), digits(s + 8, 2), digits(s + 11, 2),
                     digits(s + 14, 2), digits(s + 17, 2));
}

/* The string member name of o: 0 and *out (NULL when null and nullable), or JB_EINPUT. */
static int get_str(const cJSON *o, const char *where, const char *name, int nullable, const char **out,
                   char *errstr, size_t errsz)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

        *out = NULL;
        if (!v)
                return jb_seterr(JB_EINPUT, errstr, errsz, "the digest has no %s%s", where, name);
        if (nullable && cJSON_IsNull(v))
                return JB_OK;
        if (!cJSON_IsString(v) || !v->valuestring || (!nullable && !*v->valuestring))
                return jb_seterr(JB_EINPUT, errstr, errsz, "the digest's %s%s is not %s", where, name,
                                 nullable ? "null or a string" : "a non-empty string");
        *out = v->valuestring;
        return JB_OK;
}

static int dup_into(char **dst, const char *s)
{
        if (!s)
                return JB_OK;
        *dst = strdup(s);
        return *dst ? JB_OK : JB_ENOMEM;
}

static int parse_file(const cJSON *o, size_t i, struct ct_digest_file *f, char *errstr, size_t errsz)
{
        const char *bucket, *key, *hash, *alg;
        char where[48];
        int rc;

        snprintf(where, sizeof(where), "logFiles[%zu].", i);
        if (!cJSON_IsObject(o))
                return jb_seterr(JB_EINPUT, errstr, errsz, "the digest's logFiles[%zu] is not an object",
                                 i);
        if ((rc = get_str(o, where, "s3Bucket", 0, &bucket, errstr, errsz)) ||
            (rc = get_str(o, where, "s3Object", 0, &key, errstr, errsz)) ||
            (rc = get_str(o, where, "hashValue", 0, &hash, errstr, errsz)) ||
            (rc = get_str(o, where, "hashAlgorithm", 0, &alg, errstr, errsz)))
                return rc;
        if (strcmp(alg, CT_DIGEST_HASH_ALGORITHM))
                return jb_seterr(JB_EINPUT, errstr, errsz,
                                 "the digest's %shashAlgorithm is \"%.40s\": jibe knows only %s", where,
                                 alg, CT_DIGEST_HASH_ALGORITHM);
        /* the SHA-256 of the log file's uncompressed content (not of its gzip bytes) */
        if (sha256_from_hex(hash, f->sha256))
                return jb_seterr(JB_EINPUT, errstr, errsz,
                                 "the digest's %shashValue is not 64 hex digits (a SHA-256)", where);
        if (dup_into(&f->bucket, bucket) || dup_into(&f->key, key))
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory reading a digest");
        return JB_OK;
}

static int parse_obj(const cJSON *root, struct ct_digest *d, char *errstr, size_t errsz)
{
        const char *start, *end, *bucket, *object, *pbucket, *pobject, *phash = NULL, *palg = NULL;
        const cJSON *files, *it;
        size_t i, n;
        int rc;

        if (!cJSON_IsObject(root))
                return jb_seterr(JB_EINPUT, errstr, errsz, "the digest is JSON but not an object");
        if ((rc = get_str(root, "", "digestStartTime", 0, &start, errstr, errsz)) ||
            (rc = get_str(root, "", "digestEndTime", 0, &end, errstr, errsz)) ||
            (rc = get_str(root, "", "digestS3Bucket", 0, &bucket, errstr, errsz)) ||
            (rc = get_str(root, "", "digestS3Object", 0, &object, errstr, errsz)) ||
            (rc = get_str(root, "", "previousDigestS3Object", 1, &pobject, errstr, errsz)))
                return rc;
        d->start = json_time(start);
        d->end = json_time(end);
        if (d->start < 0 || d->end < 0)
                return jb_seterr(JB_EINPUT, errstr, errsz,
                                 "the digest's digest%sTime \"%.40s\" is not a UTC time "
                                 "(YYYY-MM-DDTHH:MM:SSZ)",
                                 d->start < 0 ? "Start" : "End", d->start < 0 ? start : end);
        if (d->end < d->start)
                return jb_seterr(JB_EINPUT, errstr, errsz, "the digest ends (%s) before it starts (%s)",
                                 end, start);
        if (cJSON_GetObjectItemCaseSensitive(root, "previousDigestS3Bucket")) {
                if ((rc = get_str(root, "", "previousDigestS3Bucket", 1, &pbucket, errstr, errsz)))
                        return rc;
        } else {
                pbucket = NULL;
        }
        if (pobject) {
                /* a link to the previous digest: its hash must be there and sound */
                if ((rc = get_str(root, "", "previousDigestHashValue", 0, &phash, errstr, errsz)))
                        return rc;
                if (cJSON_GetObjectItemCaseSensitive(root, "previousDigestHashAlgorithm") &&
                    (rc = get_str(root, "", "previousDigestHashAlgorithm", 1, &palg, errstr, errsz)))
                        return rc;
                if (palg && strcmp(palg, CT_DIGEST_HASH_ALGORITHM))
                        return jb_seterr(JB_EINPUT, errstr, errsz,
                                         "the digest's previousDigestHashAlgorithm is \"%.40s\": jibe "
                                         "knows only %s",
                                         palg, CT_DIGEST_HASH_ALGORITHM);
                if (sha256_from_hex(phash, d->prev_sha256))
                        return jb_seterr(JB_EINPUT, errstr, errsz,
                                         "the digest's previousDigestHashValue is not 64 hex digits");
                d->has_prev_hash = 1;
                if (!pbucket)
                        pbucket = bucket; /* a chain stays in one bucket */
        }
        if (dup_into(&d->bucket, bucket) || dup_into(&d->object, object) ||
            dup_into(&d->prev_object, pobject) || (pobject && dup_into(&d->prev_bucket, pbucket)))
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory reading a digest");
        files = cJSON_GetObjectItemCaseSensitive(root, "logFiles");
        if (!files)
                return jb_seterr(JB_EINPUT, errstr, errsz, "the digest has no logFiles");
        if (!cJSON_IsArray(files))
                return jb_seterr(JB_EINPUT, errstr, errsz, "the digest's logFiles is not an array");
        n = (size_t)cJSON_GetArraySize(files);
        if (n) {
                d->files = calloc(n, sizeof(*d->files));
                if (!d->files)
                        return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory reading a digest");
        }
        i = 0;
        cJSON_ArrayForEach(it, files)
        {
                if (i == n)
                        break;
                d->nfiles = i + 1; /* so a failure frees what this file got */
                if ((rc = parse_file(it, i, &d->files[i], errstr, errsz)))
                        return rc;
                i++;
        }
        return JB_OK;
}

int ct_digest_parse(const char *json, size_t len, struct ct_digest *d, char *errstr, size_t errsz)
{
        const char *endp = NULL;
        cJSON *root;
        int rc;

        memset(d, 0, sizeof(*d));
        root = cJSON_ParseWithLengthOpts(json, len, &endp, 0);
        if (!root) {
                if (!endp)
                        return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory parsing a digest");
                return jb_seterr(JB_EINPUT, errstr, errsz,
                                 "the digest is not JSON (near byte %zu of %zu)", (size_t)(endp - json),
                                 len);
        }
        rc = parse_obj(root, d, errstr, errsz);
        cJSON_Delete(root);
        if (rc)
                ct_digest_clear(d);
        return rc;
}

/* ---- the streaming reader ---- */

struct ct_digest_reader {
        struct ct_inflate *inf;
        struct buf json; /* the decompressed bytes, up to the ceiling */
        size_t max;
        uint64_t in;     /* gzip bytes fed */
        int member_done; /* the last gzip member ended */
        int members;     /* members ended */
        uint64_t member_out;
        int failed; /* an error: refuse more until reset */
};

struct ct_digest_reader *ct_digest_reader_new(size_t max)
{
        struct ct_digest_reader *r = calloc(1, sizeof(*r));

        if (!r)
                return NULL;
        r->inf = ct_inflate_new();
        if (!r->inf) {
                free(r);
                return NULL;
        }
        r->max = max ? max : CT_DIGEST_MAX_DEFAULT;
        buf_init(&r->json, r->max);
        return r;
}

void ct_digest_reader_free(struct ct_digest_reader *r)
{
        if (!r)
                return;
        ct_inflate_free(r->inf);
        buf_clear(&r->json);
        free(r);
}

void ct_digest_reader_reset(struct ct_digest_reader *r)
{
        ct_inflate_reset(r->inf);
        buf_reset(&r->json);
        r->in = 0;
        r->member_done = 0;
        r->members = 0;
        r->member_out = 0;
        r->failed = 0;
}

static int fail(struct ct_digest_reader *r, int rc)
{
        r->failed = 1;
        return rc;
}

int ct_digest_reader_feed(struct ct_digest_reader *r, const void *p, size_t n, char *errstr,
                          size_t errsz)
{
        const uint8_t *in = p;
        uint8_t out[16384];
        size_t left = n, produced, before;
        const char *why = "";
        int irc;

        if (r->failed)
                return jb_seterr(JB_EINPUT, errstr, errsz, "the digest reader already failed");
        while (left > 0) {
                if (r->member_done) {
                        ct_inflate_next_member(r->inf);
                        r->member_done = 0;
                        r->member_out = 0;
                }
                before = left;
                irc = ct_inflate_run(r->inf, &in, &left, out, sizeof(out), &produced, &why);
                r->in += before - left;
                if (irc == CT_INFLATE_OK && !produced && before == left)
                        irc = CT_INFLATE_BAD, why = "no progress";
                if (irc == CT_INFLATE_NOMEM)
                        return fail(r, jb_seterr(JB_ENOMEM, errstr, errsz,
                                                 "out of memory in gzip inflate"));
                if (irc == CT_INFLATE_BAD) {
                        if (r->members == 0 && r->json.len == 0 && produced == 0)
                                return fail(r, jb_seterr(JB_EINPUT, errstr, errsz,
                                                         "the digest is not a gzip file (%s)", why));
                        if (r->member_out == 0 && produced == 0)
                                return fail(r, jb_seterr(JB_EINPUT, errstr, errsz,
                                                         "unexpected data after the end of the "
                                                         "digest's gzip stream (%s)",
                                                         why));
                        return fail(r, jb_seterr(JB_EINPUT, errstr, errsz,
                                                 "the digest's gzip data is corrupt after %zu "
                                                 "decompressed bytes (%s)",
                                                 r->json.len + produced, why));
                }
                if (produced) {
                        if (buf_append(&r->json, out, produced))
                                return fail(r, r->json.len + produced > r->max
                                                       ? jb_seterr(JB_ELIMIT, errstr, errsz,
                                                                   "the digest is larger than %zu bytes "
                                                                   "once decompressed (the ceiling): "
                                                                   "refused",
                                                                   r->max)
                                                       : jb_seterr(JB_ENOMEM, errstr, errsz,
                                                                   "out of memory reading a digest"));
                        r->member_out += produced;
                }
                if (irc == CT_INFLATE_END) {
                        r->member_done = 1;
                        r->members++;
                }
        }
        return JB_OK;
}

int ct_digest_reader_finish(struct ct_digest_reader *r, struct ct_digest *d, char *errstr, size_t errsz)
{
        memset(d, 0, sizeof(*d));
        if (r->failed)
                return jb_seterr(JB_EINPUT, errstr, errsz, "the digest reader already failed");
        if (r->in == 0)
                return fail(r, jb_seterr(JB_EINPUT, errstr, errsz, "the digest file is empty"));
        if (!r->member_done)
                return fail(r, jb_seterr(JB_EINPUT, errstr, errsz,
                                         "the digest's gzip data ends early (after %zu decompressed "
                                         "bytes): the file is truncated",
                                         r->json.len));
        return ct_digest_parse(r->json.p ? r->json.p : "", r->json.len, d, errstr, errsz);
}

int ct_digest_read(const void *gz, size_t len, size_t max, struct ct_digest *d, char *errstr,
                   size_t errsz)
{
        struct ct_digest_reader *r = ct_digest_reader_new(max);
        int rc;

        memset(d, 0, sizeof(*d));
        if (!r)
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory reading a digest");
        rc = ct_digest_reader_feed(r, gz, len, errstr, errsz);
        if (!rc)
                rc = ct_digest_reader_finish(r, d, errstr, errsz);
        ct_digest_reader_free(r);
        return rc;
}
