/*
 * digests.c - the scanner's CloudTrail digest pass (see digests.h and docs/DIGESTS.md).
 *
 * Owns: the digest folders of the known regions (looked up by path, their ids cached), the
 * date folders of the lookback window inside them, the digests read from them (struct dent,
 * dropped when their day leaves the window), the files a digest made the scanner fetch by
 * path, not find, or read again, and what the pass reports: status_digest() per source, the
 * digest_missing / digest_tampered / digest_gap alerts, log lines and metrics.
 * Does not: parse digests or decide verdicts (ct_digest.c, ct_reconcile.c), know the
 * scanner's tables or the transport (struct digests_host), hash files (the parser).
 * Every call is made from the scanner's thread; nothing here locks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert.h"
#include "ct.h"
#include "ct_digest.h"
#include "ct_reconcile.h"
#include "digests.h"
#include "log.h"
#include "metrics.h"
#include "sset.h"
#include "status.h"

#define DAY_S 86400
#define DG_RECHECK_PASSES 10    /* a region without a digest folder is looked at again after this */
#define DG_SET_MAX (64u * 1024) /* the remembered-path sets are emptied past this (bounded memory) */
#define DG_DAYS_MAX                                                                                     \
        92 /* date folders per region and pass: scanner.lookback_h (at most 2160 h) spans 91 */

struct dfolder {
        char *fi_id;   /* NULL: no digest folder (yet) */
        uint64_t pass; /* when it was last looked up */
};

struct dday {
        char *path;
        char *fi_id;
        int64_t day;
        uint64_t pass;    /* when it was last looked up while not found */
        struct sset seen; /* digest names read, or refused (not read again) */
};

struct dent {
        struct ct_digest d;
        char *path; /* the digest's Access Anywhere path */
        char *provider, *bucket, *root;
        int64_t day, seen_at;
        int final, has_counts;
        struct ct_recon_counts counts;
        uint64_t pending;
};

struct hent {
        uint8_t sha[SHA256_LEN];
        unsigned reads;
};

struct digests {
        struct digests_opts o;
        struct aa_client *aa;
        struct digests_host h;
        struct sset dfolders; /* digest folder path -> struct dfolder * */
        struct sset days;     /* date folder path -> struct dday * */
        struct dent **ents;
        size_t nents;
        struct sset fetched;    /* log file paths published because a digest listed them */
        struct sset notfound;   /* not found by path after a refresh of their folder */
        struct sset unreadable; /* names of digests that exist but cannot be read: no gap */
        struct sset rereads;    /* published again after a hash mismatch */
        struct sset warned;     /* "<kind> <path>": said once in the log */
        struct sset ids;        /* folder path -> its fi_id (char *, owned), once found */
        int64_t trimmed_at;     /* when the hash store was last trimmed (epoch s), 0 never */
        struct sset hashes;     /* this pass: path -> struct hent * (NULL when not loaded) */
        int hashes_loaded;
        uint64_t pass;
        /* this pass's unreadable digests, said once per region at its end */
        uint64_t bad;
        char bad_first[STATUS_TEXT_MAX];
};

static int64_t day_of(int64_t t)
{
        return t - (t % DAY_S + DAY_S) % DAY_S;
}

static void dday_free(struct dday *y)
{
        if (!y)
                return;
        free(y->path);
        free(y->fi_id);
        sset_clear(&y->seen);
        free(y);
}

static void dent_free(struct dent *e)
{
        if (!e)
                return;
        ct_digest_clear(&e->d);
        free(e->path);
        free(e->provider);
        free(e->bucket);
        free(e->root);
        free(e);
}

static void hashes_clear(struct digests *d)
{
        const struct sset_ent *e;
        size_t i = 0;

        while ((i = sset_next(&d->hashes, i, &e)) != 0)
                free(e->v);
        sset_clear(&d->hashes);
        sset_init(&d->hashes);
        d->hashes_loaded = 0;
}

struct digests *digests_new(const struct digests_opts *o, struct aa_client *aa,
                            const struct digests_host *host)
{
        struct digests *d = calloc(1, sizeof(*d));

        if (!d)
                return NULL;
        d->o = *o;
        if (d->o.grace_s < 0)
                d->o.grace_s = 0;
        d->aa = aa;
        d->h = *host;
        sset_init(&d->dfolders);
        sset_init(&d->days);
        sset_init(&d->fetched);
        sset_init(&d->notfound);
        sset_init(&d->unreadable);
        sset_init(&d->rereads);
        sset_init(&d->warned);
        sset_init(&d->hashes);
        sset_init(&d->ids);
        return d;
}

void digests_set_aa(struct digests *d, struct aa_client *aa)
{
        d->aa = aa;
}

void digests_free(struct digests *d)
{
        const struct sset_ent *e;
        size_t i = 0;

        if (!d)
                return;
        while ((i = sset_next(&d->dfolders, i, &e)) != 0) {
                struct dfolder *f = e->v;

                free(f->fi_id);
                free(f);
        }
        i = 0;
        while ((i = sset_next(&d->days, i, &e)) != 0)
                dday_free(e->v);
        for (i = 0; i < d->nents; i++)
                dent_free(d->ents[i]);
        free(d->ents);
        hashes_clear(d);
        i = 0;
        while ((i = sset_next(&d->ids, i, &e)) != 0)
                free(e->v);
        sset_clear(&d->ids);
        sset_clear(&d->dfolders);
        sset_clear(&d->days);
        sset_clear(&d->fetched);
        sset_clear(&d->notfound);
        sset_clear(&d->unreadable);
        sset_clear(&d->rereads);
        sset_clear(&d->warned);
        sset_clear(&d->hashes);
        free(d);
}

/* Say something once per (kind, path) in the log. */
static int first_time(struct digests *d, const char *kind, const char *path)
{
        char key[4200];

        snprintf(key, sizeof(key), "%s %s", kind, path);
        if (sset_has(&d->warned, key))
                return 0;
        return sset_put(&d->warned, key, NULL) == JB_OK;
}

/* The Access Anywhere path of a listed file: the log root of its source joined with what
 * follows "AWSLogs/" in its key (the root already holds the bucket and any prefix). NULL
 * when the key has no AWSLogs part, or out of memory. */
static char *file_path(const char *root, const char *key)
{
        const char *p = strncmp(key, "AWSLogs/", 8) == 0 ? key : strstr(key, "/AWSLogs/");
        size_t rl = strlen(root);
        char *out;

        if (!p)
                return NULL;
        p += *p == '/' ? 9 : 8;
        out = malloc(rl + strlen(p) + 2);
        if (out)
                sprintf(out, "%s/%s", root, p);
        return out;
}

/* ---------- reading digests ---------- */

/*
 * The id of folder path into *id (owned by the cache). The index may not have it yet (a
 * folder CloudTrail created since the last refresh of its parent): then its parent is found
 * the same way (up to levels above), refreshed, and path looked up again. JB_ENOTFOUND when
 * it does not exist.
 */
static int find_folder(struct digests *d, const char *path, int levels, const char **id, char *errstr,
                       size_t errsz)
{
        struct aa_item it = {0};
        char *parent, *slash, *copy;
        const char *pid = NULL;
        int rc;

        *id = sset_get(&d->ids, path);
        if (*id)
                return JB_OK;
        rc = aa_check_path(d->aa, path, "0", &it, errstr, errsz);
        if (rc == JB_ENOTFOUND && levels > 0 && (slash = strrchr(path, '/')) != NULL) {
                if (!(parent = strndup(path, (size_t)(slash - path))))
                        return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                rc = find_folder(d, parent, levels - 1, &pid, errstr, errsz);
                free(parent);
                if (!rc) {
                        char *ids[1] = {(char *)pid};

                        rc = d->h.refresh(d->h.opaque, ids, 1, errstr, errsz);
                        if (!rc)
                                rc = aa_check_path(d->aa, path, "0", &it, errstr, errsz);
                }
        }
        if (rc)
                return rc;
        copy = strdup(it.fi_id);
        aa_item_clear(&it);
        if (!copy || sset_put(&d->ids, path, copy)) {
                free(copy);
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        }
        *id = copy;
        return JB_OK;
}

/* Forget a folder id that an answer said is gone. */
static void forget_id(struct digests *d, const char *path)
{
        free(sset_get(&d->ids, path));
        sset_del(&d->ids, path);
}

static int region_folder(struct digests *d, const char *path, const struct dfolder **out, char *errstr,
                         size_t errsz)
{
        struct dfolder *f = sset_get(&d->dfolders, path);
        const char *id = NULL;
        int rc;

        *out = NULL;
        if (f && (f->fi_id || d->pass - f->pass < DG_RECHECK_PASSES)) {
                *out = f;
                return JB_OK;
        }
        if (!f) {
                if (!(f = calloc(1, sizeof(*f))))
                        return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                if (sset_put(&d->dfolders, path, f)) {
                        free(f);
                        return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                }
        }
        f->pass = d->pass;
        /* ".../<account>/CloudTrail-Digest/<region>": the account folder is known to exist */
        rc = find_folder(d, path, 2, &id, errstr, errsz);
        if (rc == JB_ENOTFOUND) {
                *out = f;
                return JB_OK; /* no digests for this region: log file validation is off */
        }
        if (rc)
                return rc;
        free(f->fi_id);
        if (!(f->fi_id = strdup(id)))
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        log_msg(LL_INFO, "digests",
                "found CloudTrail digests in %s: reconciling its log files against them", path);
        *out = f;
        return JB_OK;
}

struct newfile {
        char *name, *fi_id;
};

struct list_ctx {
        struct dday *y;
        struct newfile *v;
        size_t n, cap;
};

static int list_cb(void *opaque, const struct aa_item *it)
{
        struct list_ctx *c = opaque;
        struct newfile *nv;

        if (it->type != AA_FILE || sset_has(&c->y->seen, it->name))
                return 0;
        if (c->n == c->cap) {
                size_t cap = c->cap ? c->cap * 2 : 16;

                if (!(nv = realloc(c->v, cap * sizeof(*nv))))
                        return JB_ENOMEM;
                c->v = nv;
                c->cap = cap;
        }
        c->v[c->n].name = strdup(it->name);
        c->v[c->n].fi_id = strdup(it->fi_id);
        if (!c->v[c->n].name || !c->v[c->n].fi_id) {
                free(c->v[c->n].name);
                free(c->v[c->n].fi_id);
                return JB_ENOMEM;
        }
        c->n++;
        return 0;
}

struct feed_ctx {
        struct ct_digest_reader *r;
        char *errstr;
        size_t errsz;
};

static int feed_cb(void *opaque, const void *p, size_t n)
{
        struct feed_ctx *f = opaque;

        return ct_digest_reader_feed(f->r, p, n, f->errstr, f->errsz);
}

static int add_dent(struct digests *d, const struct digests_region *r, const char *path,
                    struct ct_digest *dg, int64_t day, int64_t now)
{
        struct dent *e = calloc(1, sizeof(*e)), **nv;

        if (!e)
                return JB_ENOMEM;
        e->path = strdup(path);
        e->provider = strdup(r->provider);
        e->bucket = strdup(r->bucket);
        e->root = strdup(r->root);
        nv = realloc(d->ents, (d->nents + 1) * sizeof(*nv));
        if (nv)
                d->ents = nv;
        if (!e->path || !e->provider || !e->bucket || !e->root || !nv) {
                dent_free(e);
                return JB_ENOMEM;
        }
        e->d = *dg; /* takes its members */
        memset(dg, 0, sizeof(*dg));
        e->day = day;
        e->seen_at = now;
        d->ents[d->nents++] = e;
        return JB_OK;
}

/* Download and read one digest; a digest that cannot be read is reported once and not read
 * again (it joins y->seen either way, unless the download failed for a passing reason). */
static int read_one(struct digests *d, const struct digests_region *r, struct dday *y,
                    struct ct_digest_reader *rd, const struct newfile *nf, int64_t now, char *errstr,
                    size_t errsz)
{
        char err[512] = "", *path = ct_path_join(y->path, nf->name);
        struct feed_ctx fc = {rd, err, sizeof(err)};
        struct ct_digest dg = {0};
        int rc;

        if (!path)
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        if (!ct_digest_is_path(path) ||
            d->h.file_state(d->h.opaque, y->path, nf->name) == DIGESTS_DONE) {
                /* not a digest, or one found unreadable before: never looked at again */
                rc = ct_digest_is_path(path) ? sset_put(&d->unreadable, nf->name, NULL) : JB_OK;
                free(path);
                return rc ? rc : sset_put(&y->seen, nf->name, NULL);
        }
        ct_digest_reader_reset(rd);
        rc = aa_download(d->aa, nf->fi_id, feed_cb, &fc, err, sizeof(err));
        if (!rc)
                rc = ct_digest_reader_finish(rd, &dg, err, sizeof(err));
        if (rc == JB_EFATAL) {
                jb_seterr(rc, errstr, errsz, "%s", err);
        } else if (rc == JB_EINPUT || rc == JB_ELIMIT) {
                /* cut at the status's bound, where the recorder would cut it anyway */
                if (!d->bad++ && snprintf(d->bad_first, sizeof(d->bad_first), "%s (%s)", path, err) < 0)
                        d->bad_first[0] = '\0';
                log_msg(LL_DEBUG, "digests", "the CloudTrail digest %s cannot be read: %s", path, err);
                rc = sset_put(&y->seen, nf->name, NULL);
                if (!rc)
                        rc = sset_put(&d->unreadable, nf->name, NULL);
                if (!rc)
                        rc = d->h.remember(d->h.opaque, y->path, nf->name);
        } else if (rc) {
                log_msg(LL_WARN, "digests",
                        "cannot download the CloudTrail digest %s (%s); the next scan tries again", path,
                        err);
                rc = JB_OK;
        } else {
                struct ct_digest_path dp;
                int64_t day = ct_digest_path_parse(path, &dp) == 0 ? dp.day : day_of(dg.end);

                rc = add_dent(d, r, path, &dg, day, now);
                if (!rc)
                        rc = sset_put(&y->seen, nf->name, NULL);
                if (rc)
                        jb_seterr(rc, errstr, errsz, "out of memory");
        }
        ct_digest_clear(&dg);
        free(path);
        return rc;
}

/* The date folders of region folder f's window, looked up by path when not known yet. */
static int region_days(struct digests *d, const char *dpath, int64_t oldest, int64_t newest,
                       struct dday **out, size_t *nout, char *errstr, size_t errsz)
{
        int64_t day;
        int rc = JB_OK;

        for (day = oldest; day <= newest && *nout < DG_DAYS_MAX && !rc; day += DAY_S) {
                char tail[48], *path;
                struct dday *y;
                time_t t = (time_t)day;
                struct tm tm;

                gmtime_r(&t, &tm);
                snprintf(tail, sizeof(tail), "%04d/%02d/%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                         tm.tm_mday);
                if (!(path = ct_path_join(dpath, tail)))
                        return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                y = sset_get(&d->days, path);
                if (!y) {
                        y = calloc(1, sizeof(*y));
                        if (!y || !(y->path = strdup(path)) || sset_put(&d->days, path, y)) {
                                dday_free(y);
                                free(path);
                                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                        }
                        y->day = day;
                        sset_init(&y->seen);
                }
                if (!y->fi_id &&
                    (y->pass == 0 || day >= newest || d->pass - y->pass >= DG_RECHECK_PASSES)) {
                        const char *id = NULL;

                        y->pass = d->pass;
                        /* day -> month -> year -> the region's digest folder (known) */
                        rc = find_folder(d, path, 3, &id, errstr, errsz);
                        if (rc == JB_ENOTFOUND)
                                rc = JB_OK; /* no digest that day (yet) */
                        else if (!rc && !(y->fi_id = strdup(id)))
                                rc = jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                }
                if (!rc && y->fi_id)
                        out[(*nout)++] = y;
                free(path);
        }
        return rc;
}

/* Read the new digests of every region of the window. *avail[i]: region i has digests. */
static int read_digests(struct digests *d, const struct digests_region *regs, size_t nregs, int64_t now,
                        int64_t oldest, int *avail, char *errstr, size_t errsz)
{
        struct ct_digest_reader *rd = ct_digest_reader_new(d->o.max_bytes);
        int rc = rd ? JB_OK : jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");

        for (size_t i = 0; i < nregs && !rc; i++) {
                struct dday *ys[DG_DAYS_MAX];
                char *dpath = ct_digest_folder_of(regs[i].path), **ids = NULL;
                const struct dfolder *f = NULL;
                size_t ny = 0, k, nid = 0;

                if (!dpath) {
                        avail[i] = 0;
                        continue; /* not a CloudTrail region folder */
                }
                rc = region_folder(d, dpath, &f, errstr, errsz);
                avail[i] = f && f->fi_id;
                if (!rc && avail[i])
                        rc = region_days(d, dpath, oldest, day_of(now), ys, &ny, errstr, errsz);
                free(dpath);
                if (rc || !ny)
                        continue;
                /* cloud refresh first, as for log folders: a listing then shows what the bucket
                 * holds, backfill digests delivered late included */
                ids = calloc(ny, sizeof(*ids));
                for (k = 0; ids && k < ny; k++)
                        ids[nid++] = ys[k]->fi_id;
                if (!ids)
                        rc = jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                else
                        rc = d->h.refresh(d->h.opaque, ids, nid, errstr, errsz);
                free(ids);
                d->bad = 0;
                for (k = 0; k < ny && !rc && !d->h.stopping(d->h.opaque); k++) {
                        struct list_ctx lc = {ys[k], NULL, 0, 0};
                        size_t m;

                        rc = aa_list_ex(d->aa, ys[k]->fi_id, 0, NULL, list_cb, &lc, errstr, errsz);
                        if (rc == JB_ENOTFOUND) {
                                free(ys[k]->fi_id); /* the folder went away: look it up again */
                                ys[k]->fi_id = NULL;
                                forget_id(d, ys[k]->path);
                                rc = JB_OK;
                        }
                        for (m = 0; m < lc.n && !rc && !d->h.stopping(d->h.opaque); m++)
                                rc = read_one(d, &regs[i], ys[k], rd, &lc.v[m], now, errstr, errsz);
                        for (m = 0; m < lc.n; m++) {
                                free(lc.v[m].name);
                                free(lc.v[m].fi_id);
                        }
                        free(lc.v);
                }
                if (d->bad) {
                        char text[2 * STATUS_TEXT_MAX + 256]; /* status.c cuts it at its bound */

                        snprintf(text, sizeof(text),
                                 "%llu CloudTrail digest(s) of %s cannot be read (first: %s): their log "
                                 "files are not checked against them; look at the objects in the bucket",
                                 (unsigned long long)d->bad, regs[i].path, d->bad_first);
                        log_msg(LL_WARN, "digests", "%s", text);
                        status_problem_once(STATUS_WARN, regs[i].provider, regs[i].bucket,
                                            "digest_unreadable", NULL, text);
                        d->bad = 0;
                }
        }
        ct_digest_reader_free(rd);
        return rc;
}

/* ---------- reconciling ---------- */

static int hash_cb(void *opaque, const char *path, const uint8_t sha[SHA256_LEN], unsigned reads,
                   int64_t at_ms)
{
        struct digests *d = opaque;
        struct hent *h = sset_get(&d->hashes, path);

        (void)at_ms;
        if (!h) {
                if (!(h = malloc(sizeof(*h))))
                        return JB_ENOMEM;
                if (sset_put(&d->hashes, path, h)) {
                        free(h);
                        return JB_ENOMEM;
                }
        }
        memcpy(h->sha, sha, SHA256_LEN);
        h->reads = reads;
        return JB_OK;
}

static void load_hashes(struct digests *d)
{
        char err[512] = "";

        if (d->hashes_loaded || !d->o.hashes)
                return;
        d->hashes_loaded = 1;
        if (d->o.hashes->ops->load(d->o.hashes, hash_cb, d, err, sizeof(err)) != JB_OK)
                log_msg(LL_WARN, "digests",
                        "cannot read the log files' hashes (%s): files are counted unverified this scan",
                        err);
}

struct lctx {
        struct digests *d;
        const struct dent *e;
};

/* Split path into its folder (written into folder) and name (returned, inside path). */
static const char *split(const char *path, char *folder, size_t fsz)
{
        const char *slash = strrchr(path, '/');
        size_t n = slash ? (size_t)(slash - path) : 0;

        if (n >= fsz)
                n = fsz - 1;
        memcpy(folder, path, n);
        folder[n] = '\0';
        return slash ? slash + 1 : path;
}

static int lookup(void *opaque, const struct ct_digest_file *f, struct ct_seen *out)
{
        struct lctx *c = opaque;
        struct digests *d = c->d;
        char folder[4096], *path;
        const struct hent *h;
        int st;

        if (strcmp(f->bucket, c->e->bucket) != 0)
                return JB_OK; /* another bucket: not a source of this one */
        if (!(path = file_path(c->e->root, f->key)))
                return JB_OK; /* not below this source's log root */
        out->managed = 1;
        st = d->h.file_state(d->h.opaque, folder, split(path, folder, sizeof(folder)));
        out->done = st == DIGESTS_DONE;
        out->recovered = sset_has(&d->fetched, path);
        out->not_found = !out->done && st != DIGESTS_INFLIGHT && sset_has(&d->notfound, path);
        h = sset_get(&d->hashes, path);
        if (h) {
                out->has_sha = 1;
                out->reads = h->reads;
                memcpy(out->sha256, h->sha, SHA256_LEN);
        }
        free(path);
        return JB_OK;
}

/* Fetch path by path: found -> published (with the digest's hash; reread as asked). A file
 * not found is looked for once more after a cloud refresh of its folder; then it is missing. */
static int fetch(struct digests *d, const struct dent *e, const char *path,
                 const uint8_t sha[SHA256_LEN], int reread, char *errstr, size_t errsz)
{
        char folder[4096], hex[SHA256_HEX_LEN + 1], err[512] = "";
        struct aa_item it = {0};
        int rc;

        split(path, folder, sizeof(folder));
        sha256_hex(sha, hex);
        rc = aa_check_path(d->aa, path, "0", &it, err, sizeof(err));
        if (rc == JB_ENOTFOUND && !reread) {
                const char *fid = NULL;

                /* its date folder (day -> month -> year -> region, refreshed down as needed) */
                rc = find_folder(d, folder, 3, &fid, err, sizeof(err));
                if (!rc) {
                        char *ids[1] = {(char *)fid};

                        rc = d->h.refresh(d->h.opaque, ids, 1, err, sizeof(err));
                }
                if (rc == JB_EFATAL)
                        return jb_seterr(rc, errstr, errsz, "%s", err);
                if (!rc || rc == JB_ENOTFOUND)
                        rc = aa_check_path(d->aa, path, "0", &it, err, sizeof(err));
        }
        if (rc == JB_ENOTFOUND) {
                if (first_time(d, "missing", path))
                        log_msg(LL_WARN, "digests",
                                "CloudTrail delivered %s (listed by the digest %s) but Access Anywhere cannot "
                                "find it, even after a refresh of its folder: check the bucket's registration "
                                "and index; its events were not synced",
                                path, e->path);
                return sset_put(&d->notfound, path, NULL);
        }
        if (rc == JB_EFATAL)
                return jb_seterr(rc, errstr, errsz, "%s", err);
        if (rc) {
                log_msg(LL_WARN, "digests", "cannot look up %s (%s); the next scan tries again", path,
                        err);
                return JB_OK;
        }
        rc = d->h.publish(d->h.opaque, e->provider, e->bucket, folder, &it, hex, reread, err,
                          sizeof(err));
        aa_item_clear(&it);
        if (rc) {
                log_msg(LL_WARN, "digests",
                        "cannot hand %s to the parser (%s); the next scan tries again", path, err);
                return rc == JB_EFATAL ? jb_seterr(rc, errstr, errsz, "%s", err) : JB_OK;
        }
        if (reread) {
                log_msg(LL_WARN, "digests",
                        "%s does not have the SHA-256 its digest %s lists: reading it once more in case the "
                        "download was bad",
                        path, e->path);
                return sset_put(&d->rereads, path, NULL);
        }
        log_msg(LL_INFO, "digests",
                "the digest %s lists %s, which no listing showed: fetched it by path", e->path, path);
        return sset_put(&d->fetched, path, NULL);
}

/* Act on the verdicts of e: fetch what must be recovered or read again. */
static int act(struct digests *d, const struct dent *e, const enum ct_verdict *v, char *errstr,
               size_t errsz)
{
        int rc = JB_OK;

        for (size_t i = 0; i < e->d.nfiles && !rc && !d->h.stopping(d->h.opaque); i++) {
                const struct ct_digest_file *f = &e->d.files[i];
                char folder[4096], *path;
                int st, reread_before;

                if (v[i] != CT_V_RECOVER && v[i] != CT_V_REREAD)
                        continue;
                if (!(path = file_path(e->root, f->key)))
                        continue;
                st = d->h.file_state(d->h.opaque, folder, split(path, folder, sizeof(folder)));
                reread_before = sset_has(&d->rereads, path);
                if (st == DIGESTS_INFLIGHT)
                        ; /* being read: its verdict comes once it is done */
                else if (v[i] == CT_V_RECOVER)
                        rc = fetch(d, e, path, f->sha256, 0, errstr, errsz);
                else if (!reread_before)
                        rc = fetch(d, e, path, f->sha256, 1, errstr, errsz);
                if (!rc && v[i] == CT_V_REREAD && reread_before && st == DIGESTS_DONE &&
                    first_time(d, "reread", path))
                        log_msg(LL_WARN, "digests",
                                "%s was read again but no second hash of it came back: its digest verdict "
                                "stays open",
                                path);
                free(path);
        }
        return rc;
}

/* Reconcile e (if due): act, then count again. */
static int reconcile(struct digests *d, struct dent *e, int64_t now, char *errstr, size_t errsz)
{
        struct lctx lc = {d, e};
        enum ct_verdict *v;
        struct ct_recon_counts c;
        int rc;

        if (e->final)
                return JB_OK;
        if (!ct_digest_due(&e->d, now, d->o.grace_s)) {
                e->pending = e->d.nfiles;
                e->has_counts = 0;
                return JB_OK;
        }
        load_hashes(d);
        v = calloc(e->d.nfiles + 1, sizeof(*v));
        if (!v)
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        rc = ct_reconcile(&e->d, now, d->o.grace_s, lookup, &lc, v, &c);
        if (!rc && (c.recover || c.reread))
                rc = act(d, e, v, errstr, errsz);
        if (!rc)
                rc = ct_reconcile(&e->d, now, d->o.grace_s, lookup, &lc, v, &c);
        if (!rc) {
                for (size_t i = 0; i < e->d.nfiles; i++)
                        if (v[i] == CT_V_TAMPERED) {
                                char *path = file_path(e->root, e->d.files[i].key);

                                if (path && first_time(d, "tampered", path))
                                        log_msg(LL_WARN, "digests",
                                                "%s does not have the bytes CloudTrail wrote (its SHA-256 differs "
                                                "from the digest %s, read twice): the object was changed after "
                                                "delivery",
                                                path, e->path);
                                free(path);
                        }
                e->counts = c;
                e->has_counts = 1;
                e->pending = c.recover + c.reread;
                e->final = e->pending == 0;
        }
        free(v);
        return rc;
}

/* ---------- reporting ---------- */

struct gap_ctx {
        struct digests *d;
        const char *first, *referrer;
        uint64_t n;
};

static void gap_cb(void *opaque, const struct ct_gap *g)
{
        struct gap_ctx *c = opaque;
        const char *name = strrchr(g->object, '/');

        /* a digest that is there but cannot be read (too big, damaged) is reported as such
         * (digest_unreadable), not as one deleted from the chain */
        if (sset_has(&c->d->unreadable, name ? name + 1 : g->object))
                return;
        c->n++;
        if (!c->first) {
                c->first = g->object;
                c->referrer = g->referrer;
        }
        if (first_time(c->d, "gap", g->object))
                log_msg(LL_WARN, "digests",
                        "the CloudTrail digest %s/%s that %s points at is gone: a digest was deleted or never "
                        "delivered",
                        g->bucket, g->object, g->referrer);
}

struct cov_ctx {
        uint64_t chains, digests, backfill;
};

static void cov_cb(void *opaque, const struct ct_coverage *cv)
{
        struct cov_ctx *c = opaque;

        c->chains++;
        c->digests += cv->digests;
        c->backfill += cv->backfill;
}

static void alert_set(const char *provider, const char *bucket, const char *kind, uint64_t n,
                      const char *text)
{
        struct alert_key k = {provider, bucket, kind};

        if (n)
                alert_raise(&k, ALERT_ERROR, "%s", text);
        else
                alert_clear(&k);
}

struct span {
        int64_t a, b;
};

static int span_cmp(const void *x, const void *y)
{
        const struct span *p = x, *q = y;

        return p->a < q->a ? -1 : p->a > q->a;
}

/* Seconds in the union of the periods of the source's digests, over every chain: the hours
 * for which some digest of the source vouches (summing the chains' own figures would count an
 * hour once per account and region). */
static int64_t union_s(const struct digests *d, const char *provider, const char *bucket)
{
        struct span *v = malloc((d->nents ? d->nents : 1) * sizeof(*v));
        size_t n = 0;
        int64_t total = 0, a = 0, b = 0;

        if (!v)
                return 0;
        for (size_t i = 0; i < d->nents; i++) {
                const struct dent *e = d->ents[i];

                if (strcmp(e->provider, provider) || strcmp(e->bucket, bucket) || e->d.end <= e->d.start)
                        continue;
                v[n].a = e->d.start;
                v[n].b = e->d.end;
                n++;
        }
        qsort(v, n, sizeof(*v), span_cmp);
        for (size_t i = 0; i < n; i++) {
                if (i && v[i].a <= b) {
                        if (v[i].b > b)
                                b = v[i].b;
                        continue;
                }
                total += b - a;
                a = v[i].a;
                b = v[i].b;
        }
        total += b - a;
        free(v);
        return total;
}

/* The figures of one source (provider, bucket): status, alerts, metrics. */
static int report_source(struct digests *d, const char *provider, const char *bucket, int available,
                         int64_t now, int64_t oldest)
{
        struct status_digest sd = {0};
        struct ct_chain *ch = ct_chain_new();
        struct cov_ctx cov = {0, 0, 0};
        struct gap_ctx gc = {d, NULL, NULL, 0};
        const char *first_missing = NULL, *first_tampered = NULL;
        char text[ALERT_TEXT_MAX];
        int rc = ch ? JB_OK : JB_ENOMEM;

        sd.available = available;
        sd.last_end_ms = -1;
        for (size_t i = 0; i < d->nents && !rc; i++) {
                struct dent *e = d->ents[i];

                if (strcmp(e->provider, provider) != 0 || strcmp(e->bucket, bucket) != 0)
                        continue;
                sd.available = 1;
                rc = ct_chain_add(ch, &e->d, e->has_counts ? &e->counts : NULL, e->seen_at);
                if (e->d.end * 1000 > sd.last_end_ms)
                        sd.last_end_ms = e->d.end * 1000;
                sd.pending += e->pending;
                if (!e->has_counts)
                        continue;
                sd.listed += e->counts.managed;
                sd.done += e->counts.done;
                sd.recovered += e->counts.recovered;
                sd.missing += e->counts.missing;
                sd.tampered += e->counts.tampered;
                sd.unverified += e->counts.unverified;
                for (size_t k = 0; k < e->d.nfiles && (e->counts.missing || e->counts.tampered); k++) {
                        char *path = file_path(e->root, e->d.files[k].key);

                        if (path && !first_missing && sset_has(&d->notfound, path))
                                first_missing = e->d.files[k].key;
                        free(path);
                }
                if (e->counts.tampered && !first_tampered)
                        first_tampered = e->path;
        }
        if (!rc)
                rc = ct_chain_coverage(ch, now, d->o.grace_s, oldest, cov_cb, &cov);
        if (!rc) {
                (void)ct_chain_gaps(ch, now, d->o.grace_s, oldest, gap_cb, &gc);
                sd.gaps = gc.n;
        }
        sd.chains = cov.chains;
        sd.digests = cov.digests;
        sd.backfill = cov.backfill;
        sd.covered_s = union_s(d, provider, bucket);
        if (!rc) {
                status_digest(provider, bucket, &sd);
                snprintf(
                        text, sizeof(text),
                        "%llu log file(s) that CloudTrail delivered to %s cannot be found through Access "
                        "Anywhere (first: %s): check the bucket's registration and index; their events were "
                        "not synced",
                        (unsigned long long)sd.missing, bucket,
                        first_missing ? first_missing : "see the log");
                alert_set(provider, bucket, "digest_missing", sd.missing, text);
                snprintf(
                        text, sizeof(text),
                        "%llu log file(s) in %s do not have the bytes CloudTrail wrote (SHA-256 differs from "
                        "their digest, read twice; one is listed by %s): the objects were changed after "
                        "delivery",
                        (unsigned long long)sd.tampered, bucket,
                        first_tampered ? first_tampered : "a digest");
                alert_set(provider, bucket, "digest_tampered", sd.tampered, text);
                snprintf(
                        text, sizeof(text),
                        "%llu CloudTrail digest(s) of %s are gone (first: %s, that %s points at): a digest was "
                        "deleted or never delivered",
                        (unsigned long long)sd.gaps, bucket, gc.first ? gc.first : "?",
                        gc.referrer ? gc.referrer : "?");
                alert_set(provider, bucket, "digest_gap", sd.gaps, text);
                metric_set(M_DIGEST_FILES, (double)(sd.done - sd.tampered - sd.unverified), bucket,
                           "ok");
                metric_set(M_DIGEST_FILES, (double)sd.unverified, bucket, "unverified");
                metric_set(M_DIGEST_FILES, (double)sd.recovered, bucket, "recovered");
                metric_set(M_DIGEST_FILES, (double)sd.missing, bucket, "missing");
                metric_set(M_DIGEST_FILES, (double)sd.tampered, bucket, "tampered");
                metric_set(M_DIGEST_FILES, (double)sd.pending, bucket, "pending");
                metric_set(M_DIGEST_GAPS, (double)sd.gaps, bucket, NULL);
        }
        ct_chain_free(ch);
        return rc;
}

/* Drop the digests and date folders older than the window; keep the path sets bounded. */
static void forget_old(struct digests *d, int64_t oldest)
{
        struct sset *sets[] = {&d->fetched, &d->notfound, &d->rereads, &d->warned};
        const struct sset_ent *e;
        size_t i, n = 0;

        for (i = 0; i < d->nents; i++) {
                if (d->ents[i]->day < oldest)
                        dent_free(d->ents[i]);
                else
                        d->ents[n++] = d->ents[i];
        }
        d->nents = n;
        for (;;) {
                struct dday *gone = NULL;

                i = 0;
                while ((i = sset_next(&d->days, i, &e)) != 0)
                        if (((struct dday *)e->v)->day < oldest) {
                                gone = e->v;
                                break;
                        }
                if (!gone)
                        break;
                sset_del(&d->days, gone->path);
                dday_free(gone);
        }
        for (i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
                if (sets[i]->n > DG_SET_MAX) {
                        sset_clear(sets[i]);
                        sset_init(sets[i]);
                }
}

/*
 * Once an hour, the hash store forgets the files put a day before the window began: the
 * parser reads a file after CloudTrail delivered it, so a file hashed before then is in no
 * digest of the window (the store would otherwise grow by one entry per file for ever, and
 * every reconciling pass loads it whole). A failure only waits for the next hour.
 */
static void trim_hashes(struct digests *d, int64_t now, int64_t oldest)
{
        char err[256];

        if (!d->o.hashes || (d->trimmed_at && now - d->trimmed_at < 3600))
                return;
        d->trimmed_at = now;
        if (d->o.hashes->ops->forget_before(d->o.hashes, (oldest - DAY_S) * 1000, err, sizeof(err)))
                log_msg(LL_WARN, "digests",
                        "could not forget old log file hashes (%s); trying again in an hour", err);
}

int digests_pass(struct digests *d, const struct digests_region *regs, size_t nregs, int64_t now,
                 int64_t oldest, char *errstr, size_t errsz)
{
        int *avail = calloc(nregs + 1, sizeof(*avail));
        int rc = avail ? JB_OK : jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        size_t i, k;

        d->pass++;
        if (!rc)
                forget_old(d, oldest);
        if (!rc)
                trim_hashes(d, now, oldest);
        if (!rc)
                rc = read_digests(d, regs, nregs, now, oldest, avail, errstr, errsz);
        for (i = 0; i < d->nents && !rc && !d->h.stopping(d->h.opaque); i++)
                rc = reconcile(d, d->ents[i], now, errstr, errsz);
        hashes_clear(d);
        /* each source once, with whether any of its regions has digests */
        for (i = 0; i < nregs && !rc; i++) {
                int seen = 0, any = avail[i];

                for (k = 0; k < i && !seen; k++)
                        seen = !strcmp(regs[k].provider, regs[i].provider) &&
                               !strcmp(regs[k].bucket, regs[i].bucket);
                if (seen)
                        continue;
                for (k = i + 1; k < nregs; k++)
                        if (!strcmp(regs[k].provider, regs[i].provider) &&
                            !strcmp(regs[k].bucket, regs[i].bucket))
                                any |= avail[k];
                rc = report_source(d, regs[i].provider, regs[i].bucket, any, now, oldest);
                if (rc)
                        jb_seterr(rc, errstr, errsz, "out of memory");
        }
        free(avail);
        return rc;
}
