/*
 * ct_reconcile.c - a digest's listed files against what jibe processed (verdicts and counts),
 * and the chain tracker (gaps, coverage per chain); see ct_reconcile.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct_reconcile.h"
#include "sset.h"

const char *ct_verdict_name(enum ct_verdict v)
{
        switch (v) {
        case CT_V_SKIP:
                return "skip";
        case CT_V_OK:
                return "ok";
        case CT_V_UNVERIFIED:
                return "unverified";
        case CT_V_RECOVER:
                return "recover";
        case CT_V_MISSING:
                return "missing";
        case CT_V_REREAD:
                return "reread";
        case CT_V_TAMPERED:
                return "tampered";
        }
        return "unknown";
}

int ct_digest_due(const struct ct_digest *d, int64_t now, int64_t grace)
{
        return d->end + grace <= now;
}

static enum ct_verdict verdict(const struct ct_digest_file *f, const struct ct_seen *s)
{
        if (!s->managed)
                return CT_V_SKIP;
        if (s->done) {
                if (!s->has_sha)
                        return CT_V_UNVERIFIED;
                if (!memcmp(s->sha256, f->sha256, SHA256_LEN))
                        return CT_V_OK;
                return s->reads >= 2 ? CT_V_TAMPERED : CT_V_REREAD;
        }
        return s->not_found ? CT_V_MISSING : CT_V_RECOVER;
}

int ct_reconcile(const struct ct_digest *d, int64_t now, int64_t grace, ct_lookup_fn lookup,
                 void *opaque, enum ct_verdict *verdicts, struct ct_recon_counts *counts)
{
        struct ct_recon_counts k;
        struct ct_seen s;
        enum ct_verdict v;
        size_t i;
        int rc;

        memset(&k, 0, sizeof(k));
        k.listed = d->nfiles;
        if (!ct_digest_due(d, now, grace)) {
                if (counts)
                        *counts = k;
                return CT_RECONCILE_NOT_DUE;
        }
        for (i = 0; i < d->nfiles; i++) {
                memset(&s, 0, sizeof(s));
                rc = lookup(opaque, &d->files[i], &s);
                if (rc < 0)
                        return rc;
                v = verdict(&d->files[i], &s);
                if (verdicts)
                        verdicts[i] = v;
                if (v != CT_V_SKIP)
                        k.managed++;
                switch (v) {
                case CT_V_SKIP:
                        break;
                case CT_V_OK:
                        k.ok++;
                        break;
                case CT_V_UNVERIFIED:
                        k.unverified++;
                        break;
                case CT_V_RECOVER:
                        k.recover++;
                        break;
                case CT_V_MISSING:
                        k.missing++;
                        break;
                case CT_V_REREAD:
                        k.reread++;
                        break;
                case CT_V_TAMPERED:
                        k.tampered++;
                        break;
                }
                if (v == CT_V_OK || v == CT_V_UNVERIFIED || v == CT_V_TAMPERED) {
                        k.done++;
                        if (s.recovered)
                                k.recovered++;
                }
        }
        if (counts)
                *counts = k;
        return JB_OK;
}

/* ---- the chain tracker ---- */

struct ent {
        char *bucket, *object;           /* identity */
        char *chain, *trail;             /* chain key and trail name */
        char *prev_bucket, *prev_object; /* NULL at a chain's start */
        int64_t start, end, noted, prev_end;
        int backfill, has_counts;
        struct ct_recon_counts counts;
};

struct ct_chain {
        struct ent *e;
        size_t n, cap;
        struct sset ids; /* "bucket\n object" -> index + 1 */
};

static char *ident(const char *bucket, const char *object)
{
        size_t n = strlen(bucket) + strlen(object) + 2;
        char *s = malloc(n);

        if (s)
                snprintf(s, n, "%s\n%s", bucket, object);
        return s;
}

struct ct_chain *ct_chain_new(void)
{
        struct ct_chain *c = calloc(1, sizeof(*c));

        if (c)
                sset_init(&c->ids);
        return c;
}

static void ent_free(struct ent *e)
{
        free(e->bucket);
        free(e->object);
        free(e->chain);
        free(e->trail);
        free(e->prev_bucket);
        free(e->prev_object);
}

void ct_chain_free(struct ct_chain *c)
{
        size_t i;

        if (!c)
                return;
        for (i = 0; i < c->n; i++)
                ent_free(&c->e[i]);
        free(c->e);
        sset_clear(&c->ids);
        free(c);
}

static size_t find(const struct ct_chain *c, const char *bucket, const char *object)
{
        char *id = ident(bucket, object);
        size_t at = 0;

        if (id) {
                at = (size_t)(uintptr_t)sset_get(&c->ids, id);
                free(id);
        }
        return at; /* index + 1, 0 when absent */
}

int ct_chain_has(const struct ct_chain *c, const char *bucket, const char *object)
{
        return find(c, bucket, object) != 0;
}

static char *dupn(const char *s, size_t n)
{
        char *d = malloc(n + 1);

        if (d) {
                memcpy(d, s, n);
                d[n] = '\0';
        }
        return d;
}

/* The chain key and trail of a digest: "<bucket>/<digest folder>" from its path, or the
 * object's own folder when the path is not a digest path. */
static int chain_of(const struct ct_digest *d, struct ent *e)
{
        struct ct_digest_path dp;
        const char *slash;
        size_t fl, n;

        if (!ct_digest_path_parse(d->object, &dp)) {
                fl = dp.folder.len;
                e->trail = dupn(dp.trail.p, dp.trail.len);
                e->backfill = dp.backfill;
        } else {
                slash = strrchr(d->object, '/');
                fl = slash ? (size_t)(slash - d->object) : strlen(d->object);
                e->trail = strdup("");
        }
        n = strlen(d->bucket) + 1 + fl + 1;
        e->chain = malloc(n);
        if (!e->chain || !e->trail)
                return JB_ENOMEM;
        snprintf(e->chain, n, "%s/%.*s", d->bucket, (int)fl, d->object);
        return JB_OK;
}

int ct_chain_add(struct ct_chain *c, const struct ct_digest *d, const struct ct_recon_counts *counts,
                 int64_t now)
{
        struct ct_digest_path pp;
        struct ent e, *ne;
        size_t at;
        char *id;
        int rc;

        if (!d->bucket || !d->object || !*d->object)
                return JB_EINPUT;
        at = find(c, d->bucket, d->object);
        if (at) {
                if (counts) {
                        c->e[at - 1].counts = *counts;
                        c->e[at - 1].has_counts = 1;
                }
                return JB_OK;
        }
        memset(&e, 0, sizeof(e));
        e.start = d->start;
        e.end = d->end;
        e.noted = now;
        e.bucket = strdup(d->bucket);
        e.object = strdup(d->object);
        rc = e.bucket && e.object ? chain_of(d, &e) : JB_ENOMEM;
        if (!rc && d->prev_object) {
                e.prev_bucket = strdup(d->prev_bucket ? d->prev_bucket : d->bucket);
                e.prev_object = strdup(d->prev_object);
                if (!e.prev_bucket || !e.prev_object)
                        rc = JB_ENOMEM;
                e.prev_end = !ct_digest_path_parse(d->prev_object, &pp) ? pp.end : d->start;
        }
        if (counts) {
                e.counts = *counts;
                e.has_counts = 1;
        }
        if (!rc && c->n == c->cap) {
                size_t ncap = c->cap ? c->cap * 2 : 16;

                ne = realloc(c->e, ncap * sizeof(*ne));
                if (!ne)
                        rc = JB_ENOMEM;
                else
                        c->e = ne, c->cap = ncap;
        }
        id = rc ? NULL : ident(d->bucket, d->object);
        if (!rc && (!id || sset_put(&c->ids, id, (void *)(uintptr_t)(c->n + 1))))
                rc = JB_ENOMEM;
        free(id);
        if (rc) {
                ent_free(&e);
                return rc;
        }
        c->e[c->n++] = e;
        return JB_OK;
}

/* Whether entry e's previous digest is a gap. */
static int is_gap(const struct ct_chain *c, const struct ent *e, int64_t now, int64_t grace,
                  int64_t horizon)
{
        return e->prev_object && now >= e->noted + grace && e->prev_end >= horizon &&
               !find(c, e->prev_bucket, e->prev_object);
}

/* Whether an earlier entry of v[from..k) names the same previous digest as e (counted once). */
static int seen_before(const struct ent *const *v, size_t from, size_t k, const struct ent *e)
{
        size_t j;

        for (j = from; j < k; j++)
                if (v[j]->prev_object && !strcmp(v[j]->prev_object, e->prev_object) &&
                    !strcmp(v[j]->prev_bucket, e->prev_bucket))
                        return 1;
        return 0;
}

static int by_chain(const void *a, const void *b)
{
        const struct ent *x = *(const struct ent *const *)a, *y = *(const struct ent *const *)b;
        int r = strcmp(x->chain, y->chain);

        if (!r)
                r = strcmp(x->trail, y->trail);
        if (!r)
                r = x->start < y->start ? -1 : x->start > y->start;
        if (!r)
                r = strcmp(x->object, y->object);
        return r;
}

/* The entries sorted by chain, trail, start (an array of c->n pointers, malloc'd); NULL when
 * out of memory. */
static const struct ent **sorted(const struct ct_chain *c)
{
        const struct ent **v = malloc((c->n ? c->n : 1) * sizeof(*v));
        size_t i;

        if (!v)
                return NULL;
        for (i = 0; i < c->n; i++)
                v[i] = &c->e[i];
        qsort(v, c->n, sizeof(*v), by_chain);
        return v;
}

static int same_chain(const struct ent *a, const struct ent *b)
{
        return !strcmp(a->chain, b->chain) && !strcmp(a->trail, b->trail);
}

size_t ct_chain_gaps(const struct ct_chain *c, int64_t now, int64_t grace, int64_t horizon, ct_gap_fn fn,
                     void *opaque)
{
        const struct ent **v = sorted(c);
        size_t i, from = 0, n = 0;
        struct ct_gap g;

        if (!v)
                return 0;
        for (i = 0; i < c->n; i++) {
                const struct ent *e = v[i];

                if (i && !same_chain(v[i - 1], e))
                        from = i;
                if (!is_gap(c, e, now, grace, horizon) || seen_before(v, from, i, e))
                        continue;
                n++;
                if (fn) {
                        g.chain = e->chain;
                        g.trail = e->trail;
                        g.bucket = e->prev_bucket;
                        g.object = e->prev_object;
                        g.referrer = e->object;
                        g.noted = e->noted;
                        fn(opaque, &g);
                }
        }
        free(v);
        return n;
}

static void add_counts(struct ct_recon_counts *s, const struct ct_recon_counts *k)
{
        s->listed += k->listed;
        s->managed += k->managed;
        s->done += k->done;
        s->ok += k->ok;
        s->unverified += k->unverified;
        s->recovered += k->recovered;
        s->recover += k->recover;
        s->missing += k->missing;
        s->reread += k->reread;
        s->tampered += k->tampered;
}

int ct_chain_coverage(const struct ct_chain *c, int64_t now, int64_t grace, int64_t horizon,
                      ct_coverage_fn fn, void *opaque)
{
        const struct ent **v;
        size_t i, from;
        struct ct_coverage cv;
        int64_t run_s = 0, run_e = 0;

        if (!c->n)
                return JB_OK;
        v = sorted(c);
        if (!v)
                return JB_ENOMEM;
        for (from = 0; from < c->n; from = i) {
                const struct ent *f = v[from];

                memset(&cv, 0, sizeof(cv));
                cv.chain = f->chain;
                cv.trail = f->trail;
                cv.first = f->start;
                cv.last = f->end;
                run_s = f->start;
                run_e = f->end;
                for (i = from; i < c->n && same_chain(f, v[i]); i++) {
                        const struct ent *e = v[i];

                        cv.digests++;
                        cv.backfill += (uint64_t)e->backfill;
                        if (e->end > cv.last)
                                cv.last = e->end;
                        /* sorted by start: merge the periods into runs */
                        if (e->start > run_e) {
                                cv.covered_s += run_e - run_s;
                                run_s = e->start;
                                run_e = e->end;
                        } else if (e->end > run_e) {
                                run_e = e->end;
                        }
                        if (e->has_counts)
                                add_counts(&cv.files, &e->counts);
                        if (is_gap(c, e, now, grace, horizon) && !seen_before(v, from, i, e))
                                cv.gaps++;
                }
                cv.covered_s += run_e - run_s;
                fn(opaque, &cv);
        }
        free(v);
        return JB_OK;
}
