/*
 * ct_classify.c - the ordered rules of docs/EVENTS.md: one CloudTrail record in, one
 * actionable event or one stats bucket out.
 *
 * Owns: the write set, self-identity matching, the bucket -> provider map, the per-provider
 * full-sync cutoffs, and the bucket/key extraction (requestParameters, then resources[]).
 * Does not: read files (ct_reader.c) or talk to anything.
 * Cost: the reader's scan already located the fields the rules look at (ct_hint), so most
 * records are settled here without building a cJSON tree: reads and other services from
 * eventSource, eventName and errorCode, successful S3 writes from the other fields (decoded
 * into one buffer, ct_event.store). Only a record with an escaped key, or an S3 write whose
 * bucket or key is only in resources[], is parsed; both paths give the same event. A string
 * holding \u0000 or a lone surrogate makes the record malformed on both paths (the reader
 * flags it in the hint; the full path looks at the text itself).
 * Ownership: a ct_ctx owns copies of everything added to it; see ct.h for ct_event.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ct.h"

const char *const ct_class_names[CT_NCLASS] = {
        "malformed", "not_s3",  "failed", "not_write", "self",
        "unmanaged", "covered", "put",    "delete",    "bucket",
};

struct strlist {
        char **v;
        size_t n, cap;
};

struct bucket_ent {
        char *bucket;
        char *provider;
};

struct start_ent {
        char *provider;
        int64_t epoch;
};

struct ct_ctx {
        struct strlist keys, arns, agents;
        struct bucket_ent *map; /* sorted by bucket */
        size_t nmap, capmap;
        int map_used; /* a map is in force (even empty): unmapped means unmanaged */
        struct start_ent *starts;
        size_t nstarts;
        int64_t default_start; /* -1: none */
};

static const struct {
        const char *name;
        int cls;
} write_set[] = {
        {"PutObject", CT_PUT},  {"CopyObject", CT_PUT},      {"CompleteMultipartUpload", CT_PUT},
        {"PostObject", CT_PUT}, {"DeleteObject", CT_DELETE}, {"DeleteObjects", CT_BUCKET},
};

#define S3_SOURCE "s3.amazonaws.com"

const char *ct_op_name(int cls)
{
        switch (cls) {
        case CT_PUT:
                return "put";
        case CT_DELETE:
                return "delete";
        case CT_BUCKET:
                return "bucket";
        default:
                return NULL;
        }
}

struct ct_ctx *ct_ctx_new(void)
{
        struct ct_ctx *ctx = calloc(1, sizeof(*ctx));

        if (ctx)
                ctx->default_start = -1;
        return ctx;
}

static void strlist_clear(struct strlist *l)
{
        size_t i;

        for (i = 0; i < l->n; i++)
                free(l->v[i]);
        free(l->v);
        l->v = NULL;
        l->n = l->cap = 0;
}

void ct_ctx_clear_map(struct ct_ctx *ctx)
{
        size_t i;

        for (i = 0; i < ctx->nmap; i++) {
                free(ctx->map[i].bucket);
                free(ctx->map[i].provider);
        }
        free(ctx->map);
        ctx->map = NULL;
        ctx->nmap = ctx->capmap = 0;
        ctx->map_used = 0;
        for (i = 0; i < ctx->nstarts; i++)
                free(ctx->starts[i].provider);
        free(ctx->starts);
        ctx->starts = NULL;
        ctx->nstarts = 0;
        ctx->default_start = -1;
}

void ct_ctx_free(struct ct_ctx *ctx)
{
        if (!ctx)
                return;
        strlist_clear(&ctx->keys);
        strlist_clear(&ctx->arns);
        strlist_clear(&ctx->agents);
        ct_ctx_clear_map(ctx);
        free(ctx);
}

static int strlist_add(struct strlist *l, const char *s)
{
        char *c;

        if (l->n == l->cap) {
                size_t ncap = l->cap ? l->cap * 2 : 4;
                char **nv = realloc(l->v, ncap * sizeof(*nv));

                if (!nv)
                        return JB_ENOMEM;
                l->v = nv;
                l->cap = ncap;
        }
        c = strdup(s);
        if (!c)
                return JB_ENOMEM;
        l->v[l->n++] = c;
        return JB_OK;
}

int ct_ctx_add_self_key(struct ct_ctx *ctx, const char *access_key_id)
{
        return strlist_add(&ctx->keys, access_key_id);
}

int ct_ctx_add_self_arn(struct ct_ctx *ctx, const char *arn)
{
        return strlist_add(&ctx->arns, arn);
}

int ct_ctx_add_self_agent(struct ct_ctx *ctx, const char *agent_substring)
{
        if (!*agent_substring)
                return JB_EINPUT; /* an empty substring would match every record */
        return strlist_add(&ctx->agents, agent_substring);
}

static struct bucket_ent *map_find(const struct ct_ctx *ctx, const char *bucket, size_t *ins)
{
        size_t lo = 0, hi = ctx->nmap;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(bucket, ctx->map[mid].bucket);

                if (c == 0)
                        return &ctx->map[mid];
                if (c < 0)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        if (ins)
                *ins = lo;
        return NULL;
}

void ct_ctx_use_map(struct ct_ctx *ctx)
{
        ctx->map_used = 1;
}

int ct_ctx_map_bucket(struct ct_ctx *ctx, const char *bucket, const char *provider)
{
        struct bucket_ent *e;
        size_t at = 0;
        char *p;

        p = strdup(provider);
        if (!p)
                return JB_ENOMEM;
        e = map_find(ctx, bucket, &at);
        if (e) {
                free(e->provider);
                e->provider = p;
                return JB_OK;
        }
        if (ctx->nmap == ctx->capmap) {
                size_t ncap = ctx->capmap ? ctx->capmap * 2 : 16;
                struct bucket_ent *nm = realloc(ctx->map, ncap * sizeof(*nm));

                if (!nm) {
                        free(p);
                        return JB_ENOMEM;
                }
                ctx->map = nm;
                ctx->capmap = ncap;
        }
        memmove(ctx->map + at + 1, ctx->map + at, (ctx->nmap - at) * sizeof(*ctx->map));
        ctx->map[at].bucket = strdup(bucket);
        ctx->map[at].provider = p;
        ctx->nmap++;
        if (!ctx->map[at].bucket)
                return JB_ENOMEM;
        return JB_OK;
}

int ct_ctx_set_sync_start(struct ct_ctx *ctx, const char *provider, int64_t epoch)
{
        struct start_ent *ns;
        size_t i;

        if (!provider) {
                ctx->default_start = epoch;
                return JB_OK;
        }
        for (i = 0; i < ctx->nstarts; i++) {
                if (!strcmp(ctx->starts[i].provider, provider)) {
                        ctx->starts[i].epoch = epoch;
                        return JB_OK;
                }
        }
        ns = realloc(ctx->starts, (ctx->nstarts + 1) * sizeof(*ns));
        if (!ns)
                return JB_ENOMEM;
        ctx->starts = ns;
        ns[ctx->nstarts].provider = strdup(provider);
        if (!ns[ctx->nstarts].provider)
                return JB_ENOMEM;
        ns[ctx->nstarts].epoch = epoch;
        ctx->nstarts++;
        return JB_OK;
}

static int64_t start_for(const struct ct_ctx *ctx, const char *provider)
{
        size_t i;

        if (!provider)
                return ctx->default_start;
        for (i = 0; i < ctx->nstarts; i++)
                if (!strcmp(ctx->starts[i].provider, provider))
                        return ctx->starts[i].epoch;
        return -1;
}

static int num2(const char *s)
{
        if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
                return -1;
        return (s[0] - '0') * 10 + (s[1] - '0');
}

int64_t ct_parse_time(const char *s)
{
        int y1, y2, mo, d, h, mi, se;
        const char *t;

        if (!s || strlen(s) < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') ||
            s[13] != ':' || s[16] != ':')
                return -1;
        y1 = num2(s);
        y2 = num2(s + 2);
        mo = num2(s + 5);
        d = num2(s + 8);
        h = num2(s + 11);
        mi = num2(s + 14);
        se = num2(s + 17);
        if (y1 < 0 || y2 < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 ||
            mi > 59 || se < 0 || se > 60)
                return -1;
        t = s + 19;
        if (*t == '.') {
                t++;
                while (*t >= '0' && *t <= '9')
                        t++;
        }
        if (*t == 'Z')
                t++;
        if (*t != '\0')
                return -1;
        return (int64_t)jb_utc_time(y1 * 100 + y2, mo, d, h, mi, se);
}

static int span_is(const char *rec, const struct ct_span *sp, const char *lit)
{
        size_t n = strlen(lit);

        return sp->kind == CT_SPAN_STRING && sp->len == n && !memcmp(rec + sp->off, lit, n);
}

static int write_class(const char *name, size_t n)
{
        size_t i;

        for (i = 0; i < sizeof(write_set) / sizeof(write_set[0]); i++)
                if (strlen(write_set[i].name) == n && !memcmp(write_set[i].name, name, n))
                        return write_set[i].cls;
        return CT_NOT_WRITE;
}

/*
 * Rules 1-4 from the scan alone. Returns the class when it is settled, -1 when the
 * record passed rules 1-4 (it is a successful S3 write: parse it), -2 when an escape
 * hides something (parse it).
 */
static int classify_fast(const char *rec, const struct ct_hint *h)
{
        const struct ct_span *src = &h->f[CT_F_EVENT_SOURCE];
        const struct ct_span *err = &h->f[CT_F_ERROR_CODE];
        const struct ct_span *name = &h->f[CT_F_EVENT_NAME];
        int cls;

        if (h->must_parse || h->f[CT_F_EVENT_TYPE].escaped || h->f[CT_F_EVENT_CATEGORY].escaped)
                return -2;
        if (span_is(rec, &h->f[CT_F_EVENT_TYPE], "AwsCloudTrailInsight") ||
            span_is(rec, &h->f[CT_F_EVENT_CATEGORY], "Insight"))
                return CT_INSIGHT;
        if (src->kind != CT_SPAN_STRING)
                return CT_NOT_S3;
        if (src->escaped)
                return -2;
        if (!span_is(rec, src, S3_SOURCE))
                return CT_NOT_S3;
        if (err->kind == CT_SPAN_OTHER || (err->kind == CT_SPAN_STRING && err->len > 0))
                return CT_FAILED;
        if (name->kind != CT_SPAN_STRING)
                return CT_NOT_WRITE;
        if (name->escaped)
                return -2;
        cls = write_class(rec + name->off, name->len);
        return cls == CT_NOT_WRITE ? CT_NOT_WRITE : -1;
}

static const char *jstr(const cJSON *o, const char *k)
{
        const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, k);

        return cJSON_IsString(it) ? it->valuestring : NULL;
}

static const char *jstr_nonempty(const cJSON *o, const char *k)
{
        const char *s = jstr(o, k);

        return s && *s ? s : NULL;
}

/* "arn:PARTITION:s3:::REST" -> REST, or NULL. */
static const char *s3_arn_rest(const char *arn)
{
        const char *p;

        if (!arn || strncmp(arn, "arn:", 4) != 0)
                return NULL;
        p = strchr(arn + 4, ':');
        if (!p || strncmp(p, ":s3:::", 6) != 0)
                return NULL;
        return p + 6;
}

static const char *resource_bucket(const cJSON *root)
{
        const cJSON *res = cJSON_GetObjectItemCaseSensitive(root, "resources"), *r;

        if (!cJSON_IsArray(res))
                return NULL;
        cJSON_ArrayForEach(r, res)
        {
                const char *type = jstr(r, "type");
                const char *rest;

                if (!type || strcmp(type, "AWS::S3::Bucket") != 0)
                        continue;
                rest = s3_arn_rest(jstr(r, "ARN"));
                if (rest && *rest && !strchr(rest, '/'))
                        return rest;
        }
        return NULL;
}

static const char *resource_key(const cJSON *root, const char *bucket)
{
        const cJSON *res = cJSON_GetObjectItemCaseSensitive(root, "resources"), *r;
        size_t bl = strlen(bucket);

        if (!cJSON_IsArray(res))
                return NULL;
        cJSON_ArrayForEach(r, res)
        {
                const char *type = jstr(r, "type");
                const char *rest;

                if (!type || strcmp(type, "AWS::S3::Object") != 0)
                        continue;
                rest = s3_arn_rest(jstr(r, "ARN")); /* an ARNPrefix names no key */
                if (rest && !strncmp(rest, bucket, bl) && rest[bl] == '/' && rest[bl + 1])
                        return rest + bl + 1;
        }
        return NULL;
}

/* Rule 5 on the record's userIdentity.accessKeyId, userIdentity.arn and userAgent (each
 * NULL when absent or not a string). */
static int is_self_ids(const struct ct_ctx *ctx, const char *key, const char *arn, const char *agent)
{
        size_t i;

        for (i = 0; key && i < ctx->keys.n; i++)
                if (!strcmp(key, ctx->keys.v[i]))
                        return 1;
        for (i = 0; arn && i < ctx->arns.n; i++)
                if (!strcmp(arn, ctx->arns.v[i]))
                        return 1;
        for (i = 0; agent && i < ctx->agents.n; i++)
                if (strstr(agent, ctx->agents.v[i]))
                        return 1;
        return 0;
}

static int is_self(const struct ct_ctx *ctx, const cJSON *root)
{
        const cJSON *uid = cJSON_GetObjectItemCaseSensitive(root, "userIdentity");

        return is_self_ids(ctx, jstr(uid, "accessKeyId"), jstr(uid, "arn"), jstr(root, "userAgent"));
}

static int classify_tree(const struct ct_ctx *ctx, struct ct_event *ev)
{
        const cJSON *root = ev->root, *err, *rp;
        const char *s;
        int op;

        if (!cJSON_IsObject(root))
                return CT_MALFORMED;
        s = jstr(root, "eventType");
        if (s && !strcmp(s, "AwsCloudTrailInsight"))
                return CT_INSIGHT;
        s = jstr(root, "eventCategory");
        if (s && !strcmp(s, "Insight"))
                return CT_INSIGHT;
        s = jstr(root, "eventSource");
        if (!s || strcmp(s, S3_SOURCE) != 0)
                return CT_NOT_S3;
        err = cJSON_GetObjectItemCaseSensitive(root, "errorCode");
        if (err && !cJSON_IsNull(err) && !(cJSON_IsString(err) && err->valuestring[0] == '\0'))
                return CT_FAILED;
        s = jstr(root, "eventName");
        op = s ? write_class(s, strlen(s)) : CT_NOT_WRITE;
        if (op == CT_NOT_WRITE)
                return CT_NOT_WRITE;
        ev->name = s;
        ev->time = jstr(root, "eventTime");
        ev->id = jstr(root, "eventID");
        ev->account = jstr(root, "recipientAccountId");
        ev->region = jstr(root, "awsRegion");
        ev->event_epoch = ev->time ? ct_parse_time(ev->time) : -1;
        if (is_self(ctx, root))
                return CT_SELF;

        rp = cJSON_GetObjectItemCaseSensitive(root, "requestParameters");
        ev->bucket = jstr_nonempty(rp, "bucketName");
        if (!ev->bucket)
                ev->bucket = resource_bucket(root);
        /* With a map in force (any bucket mapped, or ct_ctx_use_map()), a bucket not in it is
         * managed by no provider: even when the map is empty (Access Anywhere lists none). */
        if (ev->bucket && (ctx->nmap || ctx->map_used)) {
                const struct bucket_ent *be = map_find(ctx, ev->bucket, NULL);

                if (!be)
                        return CT_UNMANAGED;
                ev->provider = be->provider;
        }
        if (ev->bucket) {
                int64_t start = start_for(ctx, ev->provider);

                if (start >= 0 && ev->event_epoch >= 0 && ev->event_epoch < start)
                        return CT_COVERED;
        }
        if (!ev->bucket)
                return CT_MALFORMED;
        if (op == CT_BUCKET)
                return CT_BUCKET;
        ev->key = jstr_nonempty(rp, "key");
        if (!ev->key)
                ev->key = resource_key(root, ev->bucket);
        if (!ev->key)
                return CT_MALFORMED;
        return op;
}

static int hex4(const char *p, unsigned *v)
{
        int i;

        *v = 0;
        for (i = 0; i < 4; i++) {
                char c = p[i];

                if (c >= '0' && c <= '9')
                        *v = *v << 4 | (unsigned)(c - '0');
                else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
                        *v = *v << 4 | (unsigned)((c | 0x20) - 'a' + 10);
                else
                        return -1;
        }
        return 0;
}

/*
 * The full path's own look at escapes (it does not trust the hint): 1 when a string of the
 * record holds \u0000 (cJSON would cut the string there: "a.pdf\u0000../x" read as "a.pdf")
 * or a UTF-16 surrogate that is not part of a pair. rec is valid JSON (the reader checked
 * it), so every backslash starts an escape inside a string.
 */
static int has_bad_escape(const char *rec, size_t len)
{
        size_t i = 0;
        unsigned v, lo;
        const char *p;

        while (i < len && (p = memchr(rec + i, '\\', len - i)) != NULL) {
                i = (size_t)(p - rec);
                if (len - i < 2)
                        return 0;
                if (rec[i + 1] != 'u' || len - i < 6 || hex4(rec + i + 2, &v)) {
                        i += 2;
                        continue;
                }
                i += 6;
                if (v == 0 || (v >= 0xdc00 && v <= 0xdfff))
                        return 1;
                if (v >= 0xd800 && v <= 0xdbff) {
                        if (len - i < 6 || rec[i] != '\\' || rec[i + 1] != 'u' ||
                            hex4(rec + i + 2, &lo) || lo < 0xdc00 || lo > 0xdfff)
                                return 1;
                        i += 6;
                }
        }
        return 0;
}

/* Append to *w the UTF-8 of code point v (<= 0x10ffff), as cJSON writes it. */
static void put_utf8(char **w, unsigned long v)
{
        unsigned char *o = (unsigned char *)*w;

        if (v < 0x80) {
                *o++ = (unsigned char)v;
        } else if (v < 0x800) {
                *o++ = (unsigned char)(0xc0 | (v >> 6));
                *o++ = (unsigned char)(0x80 | (v & 0x3f));
        } else if (v < 0x10000) {
                *o++ = (unsigned char)(0xe0 | (v >> 12));
                *o++ = (unsigned char)(0x80 | ((v >> 6) & 0x3f));
                *o++ = (unsigned char)(0x80 | (v & 0x3f));
        } else {
                *o++ = (unsigned char)(0xf0 | (v >> 18));
                *o++ = (unsigned char)(0x80 | ((v >> 12) & 0x3f));
                *o++ = (unsigned char)(0x80 | ((v >> 6) & 0x3f));
                *o++ = (unsigned char)(0x80 | (v & 0x3f));
        }
        *w = (char *)o;
}

/*
 * The string field sp of rec as a C string in *w (advanced past it), decoded as cJSON
 * decodes it: \b \f \n \r \t \" \\ \/ and \uXXXX (UTF-16 pairs joined) to UTF-8. NULL when
 * the field is absent or not a string. The reader validated the text and the caller checked
 * hint->bad_string (no \u0000, no lone surrogate), so every escape is sound; the result is
 * never longer than the text.
 */
static const char *take_str(char **w, const char *rec, const struct ct_span *sp)
{
        const char *p = rec + sp->off, *end = p + sp->len;
        char *s = *w, *o = s;
        unsigned v, lo;

        if (sp->kind != CT_SPAN_STRING)
                return NULL;
        if (!sp->escaped) {
                memcpy(o, p, sp->len);
                o += sp->len;
        }
        while (sp->escaped && p < end) {
                const char *bs = memchr(p, '\\', (size_t)(end - p));
                size_t run = (size_t)((bs ? bs : end) - p);

                memcpy(o, p, run);
                o += run;
                p += run;
                if (!bs)
                        break;
                switch (p[1]) {
                case 'b':
                        *o++ = '\b';
                        break;
                case 'f':
                        *o++ = '\f';
                        break;
                case 'n':
                        *o++ = '\n';
                        break;
                case 'r':
                        *o++ = '\r';
                        break;
                case 't':
                        *o++ = '\t';
                        break;
                case 'u':
                        hex4(p + 2, &v);
                        if (v >= 0xd800 && v <= 0xdbff) {
                                hex4(p + 8, &lo);
                                put_utf8(&o,
                                         0x10000UL + (((unsigned long)v & 0x3ff) << 10) + (lo & 0x3ff));
                                p += 6;
                        } else {
                                put_utf8(&o, v);
                        }
                        p += 4;
                        break;
                default: /* " \ / */
                        *o++ = p[1];
                }
                p += 2;
        }
        *o++ = '\0';
        *w = o;
        return s;
}

/*
 * Rules 5-9 for a successful S3 write (classify_fast() returned -1) from the hint's spans,
 * as classify_tree() does from the tree; the strings are decoded into one buffer
 * (ev->store). Returns the class, or -2 when only the full path can tell: no bucket or key
 * in requestParameters (it looks in resources[]), or out of memory (where the full path
 * decides as it always did).
 */
static int classify_write(const struct ct_ctx *ctx, const char *rec, const struct ct_hint *h,
                          struct ct_event *ev)
{
        static const uint8_t fld[] = {CT_F_EVENT_NAME, CT_F_EVENT_TIME, CT_F_EVENT_ID, CT_F_ACCOUNT,
                                      CT_F_REGION,     CT_F_USER_AGENT, CT_F_BUCKET,   CT_F_KEY,
                                      CT_F_ACCESS_KEY, CT_F_ARN};
        const char *agent, *akey, *arn;
        size_t total = 0, i;
        char *w;
        int op;

        for (i = 0; i < sizeof(fld); i++)
                if (h->f[fld[i]].kind == CT_SPAN_STRING)
                        total += h->f[fld[i]].len + 1;
        ev->store = w = malloc(total);
        if (!w)
                return -2;
        ev->name = take_str(&w, rec, &h->f[CT_F_EVENT_NAME]);
        ev->time = take_str(&w, rec, &h->f[CT_F_EVENT_TIME]);
        ev->id = take_str(&w, rec, &h->f[CT_F_EVENT_ID]);
        ev->account = take_str(&w, rec, &h->f[CT_F_ACCOUNT]);
        ev->region = take_str(&w, rec, &h->f[CT_F_REGION]);
        agent = take_str(&w, rec, &h->f[CT_F_USER_AGENT]);
        ev->bucket = take_str(&w, rec, &h->f[CT_F_BUCKET]);
        ev->key = take_str(&w, rec, &h->f[CT_F_KEY]);
        akey = take_str(&w, rec, &h->f[CT_F_ACCESS_KEY]);
        arn = take_str(&w, rec, &h->f[CT_F_ARN]);
        op = write_class(ev->name, strlen(ev->name));
        if (!ev->bucket || !*ev->bucket || (op != CT_BUCKET && (!ev->key || !*ev->key)))
                return -2; /* absent or empty: the full path looks in resources[] */
        ev->event_epoch = ev->time ? ct_parse_time(ev->time) : -1;
        if (is_self_ids(ctx, akey, arn, agent))
                return CT_SELF;
        if (ctx->nmap || ctx->map_used) {
                const struct bucket_ent *be = map_find(ctx, ev->bucket, NULL);

                if (!be)
                        return CT_UNMANAGED;
                ev->provider = be->provider;
        }
        {
                int64_t start = start_for(ctx, ev->provider);

                if (start >= 0 && ev->event_epoch >= 0 && ev->event_epoch < start)
                        return CT_COVERED;
        }
        if (op == CT_BUCKET)
                ev->key = NULL;
        return op;
}

int ct_classify(const struct ct_ctx *ctx, const char *rec, size_t len, const struct ct_hint *hint,
                struct ct_event *ev)
{
        int cls;

        memset(ev, 0, sizeof(*ev));
        ev->event_epoch = -1;
        /* A string with \u0000 or a lone surrogate makes the whole record malformed, on
         * both paths: what it would name is not what the JSON text says. */
        if (!hint->is_object || hint->bad_string)
                return ev->cls = CT_MALFORMED;
        cls = classify_fast(rec, hint);
        if (cls >= 0)
                return ev->cls = cls;
        if (cls == -1) {
                cls = classify_write(ctx, rec, hint, ev);
                if (cls >= 0)
                        goto out;
                ct_event_clear(ev); /* the full path starts afresh */
        }
        if (has_bad_escape(rec, len))
                return ev->cls = CT_MALFORMED;
        ev->root = cJSON_ParseWithLength(rec, len);
        if (!ev->root)
                return ev->cls = CT_MALFORMED; /* the scan accepted it: only on out of memory */
        cls = classify_tree(ctx, ev);
out:
        if (cls == CT_COVERED) {
                ev->key = NULL; /* covered keeps its bucket and provider: the status counts them */
        } else if (cls != CT_PUT && cls != CT_DELETE && cls != CT_BUCKET) {
                /* Only actionable events keep their fields. */
                ev->bucket = ev->key = NULL;
                ev->provider = NULL;
        }
        return ev->cls = cls;
}

void ct_event_clear(struct ct_event *ev)
{
        if (ev->root)
                cJSON_Delete(ev->root);
        free(ev->store);
        memset(ev, 0, sizeof(*ev));
        ev->event_epoch = -1;
}
