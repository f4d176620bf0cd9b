/*
 * scanner.c - the scanner stage (see scanner.h).
 *
 * Owns: the scanning thread and its pacing, the tree of log roots -> regions -> date
 * folders with their Access Anywhere ids, the per-folder sets of processed and in-flight
 * file names, and their files in the state directory (scan/<hash>: a header line
 * "jibe-scan 1<TAB><folder path>" then one processed name per line).
 * Does not: read log files (parser) or know the transport's backend.
 * Locking: s->mu guards the folder map and every folder's sets; it is never held across a
 * network call or a publish. Completion callbacks arrive on other threads and only move a
 * name from in-flight to processed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backoff.h"
#include "ct.h"
#include "digests.h"
#include "log.h"
#include "metrics.h"
#include "msg.h"
#include "scan_store.h"
#include "scanner.h"
#include "sset.h"
#include "status.h"

#define SCAN_FLUSH_MS 1000
#define SCAN_OUTSIDE_MAX 4096 /* folders kept for files fetched through a digest */
#define DAY_S 86400

struct root {
        char *provider_id;
        char *path; /* "Provider/bucket[/prefix]/AWSLogs" */
        char *bucket;
        char *fi_id;
};

struct region {
        char *path; /* ".../CloudTrail/<region>" */
        char *fi_id;
        struct root *root;
        struct sset ids; /* "YYYY" and "YYYY/MM" -> fi_id (char *, owned) */
};

struct folder {
        char *path;  /* ".../YYYY/MM/DD" */
        char *fi_id; /* NULL until seen in a listing */
        int64_t day; /* epoch of its UTC midnight */
        struct region *region;
        struct sset done;  /* processed names (persisted) */
        struct sset added; /* processed since the last save */
        struct sset inflight;
        struct sset ignored; /* not log files (memory only) */
        int dirty;
};

struct pub {
        struct scanner *s;
        struct folder *f;
        char name[];
};

struct scanner {
        struct scanner_opts o;
        struct q *q;
        struct scan_store *store;
        struct aa_client *aa;

        pthread_t th;
        int started;
        pthread_mutex_t mu;
        pthread_cond_t cv;
        int stop, kick, failed;

        struct root **roots;
        size_t nroots;
        struct sset regions; /* path -> struct region * */
        struct sset folders; /* path -> struct folder * */
        struct sset outside; /* path -> struct folder *: folders of files a digest made us fetch
                              * that the scan does not walk (memory only, never saved) */
        struct digests *dg;  /* the digest pass (NULL: digests off) */
        uint64_t scan_no;

        struct scanner_stats stats;
};

/* ---------- small helpers ---------- */

static char *xstrdup(const char *s)
{
        return s ? strdup(s) : NULL;
}

static int64_t day_of(int64_t epoch)
{
        return epoch - (epoch % DAY_S + DAY_S) % DAY_S;
}

/* Day folder path tail "YYYY/MM/DD" -> epoch of midnight, -1 if not such a path. */
static void folder_free(struct folder *f)
{
        if (!f)
                return;
        free(f->path);
        free(f->fi_id);
        sset_clear(&f->done);
        sset_clear(&f->added);
        sset_clear(&f->inflight);
        sset_clear(&f->ignored);
        free(f);
}

static struct folder *folder_new(const char *path, int64_t day)
{
        struct folder *f = calloc(1, sizeof(*f));

        if (!f || !(f->path = strdup(path))) {
                free(f);
                return NULL;
        }
        f->day = day;
        sset_init(&f->done);
        sset_init(&f->added);
        sset_init(&f->inflight);
        sset_init(&f->ignored);
        return f;
}

static void region_free(struct region *r)
{
        size_t i = 0;
        const struct sset_ent *e;

        if (!r)
                return;
        while ((i = sset_next(&r->ids, i, &e)) != 0)
                free(e->v);
        sset_clear(&r->ids);
        free(r->path);
        free(r->fi_id);
        free(r);
}

static void roots_free(struct scanner *s)
{
        size_t i;

        for (i = 0; i < s->nroots; i++) {
                free(s->roots[i]->provider_id);
                free(s->roots[i]->path);
                free(s->roots[i]->bucket);
                free(s->roots[i]->fi_id);
                free(s->roots[i]);
        }
        free(s->roots);
        s->roots = NULL;
        s->nroots = 0;
}

static int64_t now_s(void)
{
        return (int64_t)time(NULL);
}

static int stopping(struct scanner *s)
{
        int v;

        pthread_mutex_lock(&s->mu);
        v = s->stop;
        pthread_mutex_unlock(&s->mu);
        return v;
}

/* Sleep ms unless the scanner is told to stop (a kick does not cut it short). */
static void pause_ms(struct scanner *s, long ms)
{
        struct timespec ts;

        jb_deadline(&ts, CLOCK_MONOTONIC, ms);
        pthread_mutex_lock(&s->mu);
        if (!s->stop)
                pthread_cond_timedwait(&s->cv, &s->mu, &ts);
        pthread_mutex_unlock(&s->mu);
}

/* Free n strings and their array. */
static void strs_free(char **v, size_t n)
{
        size_t i;

        for (i = 0; v && i < n; i++)
                free(v[i]);
        free(v);
}

/* ---------- cloud refresh of many folders ---------- */

struct rslot {
        const char *id;
        char *token;
        int64_t t0, due; /* ms */
        int polls;
};

/*
 * Refresh the folders ids[0..n) on the server, at most scan_refresh_concurrency at once,
 * and wait until each is done: a listing made afterwards shows what the bucket holds. A
 * folder whose refresh fails or times out is logged and then listed as it is (the next
 * scan refreshes it again, so nothing is lost, only later). Returns JB_OK, JB_EFATAL
 * (credentials), or JB_ETRANSIENT when the scanner is stopping.
 */
static int refresh_many(struct scanner *s, char *const *ids, size_t n, char *errstr, size_t errsz)
{
        size_t k = (size_t)(s->o.refresh_concurrency > 0 ? s->o.refresh_concurrency : 1);
        struct rslot *sl = calloc(k, sizeof(*sl));
        size_t next = 0, active = 0, i;
        long timeout = aa_refresh_timeout_ms(s->aa);
        char err[512];
        int rc = JB_OK;

        if (!sl)
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        while (!rc) {
                int64_t now = jb_mono_ms(), soonest = -1;
                size_t pick = k;

                if (stopping(s)) {
                        rc = jb_seterr(JB_ETRANSIENT, errstr, errsz, "the scanner is stopping");
                        break;
                }
                for (i = 0; i < k && next < n; i++) {
                        if (sl[i].id)
                                continue;
                        rc = aa_refresh_start(s->aa, ids[next], &sl[i].token, err, sizeof(err));
                        if (rc == JB_EFATAL) {
                                jb_seterr(rc, errstr, errsz, "%s", err);
                                break;
                        }
                        if (rc)
                                log_msg(LL_WARN, "scanner",
                                        "folder %s: the cloud refresh could not start (%s); listing it "
                                        "as it is, the next scan tries again",
                                        ids[next], err);
                        rc = JB_OK;
                        if (sl[i].token) {
                                sl[i].id = ids[next];
                                sl[i].t0 = now;
                                sl[i].polls = 0;
                                sl[i].due = now + aa_refresh_pause_ms(s->aa, 0);
                                active++;
                        }
                        next++;
                }
                if (rc || (active == 0 && next >= n))
                        break;
                if (active == 0)
                        continue;
                for (i = 0; i < k; i++)
                        if (sl[i].id && (soonest < 0 || sl[i].due < soonest)) {
                                soonest = sl[i].due;
                                pick = i;
                        }
                if (soonest > now)
                        pause_ms(s, (long)(soonest - now));
                if (stopping(s))
                        continue;
                {
                        struct rslot *r = &sl[pick];
                        int running = 0, prc;

                        prc = aa_refresh_poll(s->aa, r->id, r->token, &running, err, sizeof(err));
                        now = jb_mono_ms();
                        r->polls++;
                        if (prc == JB_EFATAL) {
                                rc = jb_seterr(prc, errstr, errsz, "%s", err);
                                break;
                        }
                        if (prc)
                                log_msg(LL_WARN, "scanner",
                                        "folder %s: cannot follow its cloud refresh (%s); listing it as "
                                        "it is, the next scan tries again",
                                        r->id, err);
                        else if (running && now - r->t0 >= timeout)
                                log_msg(LL_WARN, "scanner",
                                        "folder %s: the cloud refresh did not finish within %ld s; listing "
                                        "it as it is, the next scan tries again",
                                        r->id, timeout / 1000);
                        if (!prc && running && now - r->t0 < timeout) {
                                r->due = now + aa_refresh_pause_ms(s->aa, r->polls);
                                continue;
                        }
                        free(r->token);
                        memset(r, 0, sizeof(*r));
                        active--;
                }
        }
        for (i = 0; i < k; i++)
                free(sl[i].token);
        free(sl);
        return rc;
}

/* ---------- persisted state ---------- */

struct load_ctx {
        struct scanner *s;
        int64_t oldest;
        uint64_t forgotten;
};

static int load_one(void *opaque, const char *folder, const char *name)
{
        struct load_ctx *lc = opaque;
        struct scanner *s = lc->s;
        struct folder *f = sset_get(&s->folders, folder);
        int64_t day;
        int rc;

        if (!f) {
                day = ct_path_day(folder);
                if (day < 0)
                        return JB_OK; /* not a date folder: nothing this scanner wrote */
                f = folder_new(folder, day);
                if (!f)
                        return JB_ENOMEM;
                rc = sset_put(&s->folders, f->path, f);
                if (rc) {
                        folder_free(f);
                        return rc;
                }
        }
        return name ? sset_put(&f->done, name, NULL) : JB_OK;
}

/* Save f's names; called with s->mu held, drops it during the write. */
static int write_folder(struct scanner *s, struct folder *f, char *errstr, size_t errsz)
{
        struct sset done, added;
        const struct sset_ent *e;
        size_t i = 0;
        int rc = JB_OK;

        /* Snapshot under the lock, write without it. */
        sset_init(&done);
        sset_init(&added);
        while (!rc && (i = sset_next(&f->done, i, &e)) != 0)
                rc = sset_put(&done, e->s, NULL);
        i = 0;
        while (!rc && (i = sset_next(&f->added, i, &e)) != 0)
                rc = sset_put(&added, e->s, NULL);
        if (!rc) {
                sset_clear(&f->added);
                sset_init(&f->added);
                f->dirty = 0;
        }
        pthread_mutex_unlock(&s->mu);
        if (!rc)
                rc = s->store->ops->save(s->store, f->path, &done, &added, errstr, errsz);
        pthread_mutex_lock(&s->mu);
        if (rc) {
                /* keep what was not saved for the next try */
                i = 0;
                while ((i = sset_next(&added, i, &e)) != 0)
                        if (sset_put(&f->added, e->s, NULL) != JB_OK)
                                break; /* saved again in full by the dir store anyway */
                f->dirty = 1;
        }
        sset_clear(&done);
        sset_clear(&added);
        return rc;
}

int scanner_flush(struct scanner *s, char *errstr, size_t errsz)
{
        size_t i = 0;
        const struct sset_ent *e;
        int rc = JB_OK, rc2;

        pthread_mutex_lock(&s->mu);
        while ((i = sset_next(&s->folders, i, &e)) != 0) {
                struct folder *f = e->v;

                if (!f->dirty)
                        continue;
                /* write_folder drops the lock while writing; the map is not changed by
                 * anyone but this thread and completions, which do not add or remove. */
                rc2 = write_folder(s, f, errstr, errsz);
                if (rc2 && !rc)
                        rc = rc2;
        }
        pthread_mutex_unlock(&s->mu);
        return rc;
}

/* ---------- completion ---------- */

static void on_done(void *opaque, int ok)
{
        struct pub *p = opaque;
        struct scanner *s = p->s;

        pthread_mutex_lock(&s->mu);
        sset_del(&p->f->inflight, p->name);
        if (ok) {
                if (sset_put(&p->f->done, p->name, NULL) == JB_OK &&
                    sset_put(&p->f->added, p->name, NULL) == JB_OK)
                        p->f->dirty = 1;
                s->stats.files_done++;
        }
        pthread_mutex_unlock(&s->mu);
        free(p);
}

/* ---------- listing ---------- */

struct find_ctx {
        const char *want; /* a folder name to find, or NULL to collect */
        char *found_id;
        int (*each)(void *opaque, const struct aa_item *it);
        void *opaque;
};

static int find_cb(void *opaque, const struct aa_item *it)
{
        struct find_ctx *fc = opaque;

        if (it->type != AA_FOLDER)
                return 1; /* folders come first: no folder after a file */
        if (fc->want) {
                if (!strcmp(it->name, fc->want)) {
                        fc->found_id = strdup(it->fi_id);
                        return fc->found_id ? 1 : JB_ENOMEM;
                }
                return 0;
        }
        return fc->each(fc->opaque, it);
}

/* List the subfolders of fi_id as the index has them (the caller refreshed it), calling
 * each for every one. */
static int list_folders(struct scanner *s, const char *fi_id,
                        int (*each)(void *, const struct aa_item *), void *opaque, char *errstr,
                        size_t errsz)
{
        struct find_ctx fc = {NULL, NULL, each, opaque};

        return aa_list(s->aa, fi_id, 0, find_cb, &fc, errstr, errsz);
}

static int add_region(struct scanner *s, struct root *root, const char *path, const char *fi_id)
{
        struct region *r;
        int rc;

        pthread_mutex_lock(&s->mu);
        r = sset_get(&s->regions, path);
        if (r) {
                if (strcmp(r->fi_id, fi_id) != 0) {
                        free(r->fi_id);
                        r->fi_id = strdup(fi_id);
                }
                r->root = root;
                pthread_mutex_unlock(&s->mu);
                return r->fi_id ? JB_OK : JB_ENOMEM;
        }
        r = calloc(1, sizeof(*r));
        if (!r || !(r->path = strdup(path)) || !(r->fi_id = strdup(fi_id))) {
                region_free(r);
                pthread_mutex_unlock(&s->mu);
                return JB_ENOMEM;
        }
        r->root = root;
        sset_init(&r->ids);
        rc = sset_put(&s->regions, path, r);
        if (rc)
                region_free(r);
        else
                s->stats.regions++;
        pthread_mutex_unlock(&s->mu);
        return rc;
}

static const char *prefix_for(const struct scanner_opts *o, const char *bucket)
{
        size_t i;

        for (i = 0; i < o->n_prefixes; i++)
                if (!strcmp(o->prefixes[i].bucket, bucket))
                        return o->prefixes[i].prefix;
        return NULL;
}

/* The status of a source provider (status.h): owned, with its buckets. */
static void status_provider_buckets(const struct aa_provider *p)
{
        const char *names[STATUS_PROVIDER_BUCKETS_MAX];
        size_t n = 0;

        for (size_t i = 0; i < p->nbuckets && n < STATUS_PROVIDER_BUCKETS_MAX; i++)
                names[n++] = p->buckets[i].name;
        status_provider(p->id, p->name, names, n, 1);
}

/* Every source known has the result of this scan (a scan succeeds or fails as a whole). */
static void status_scan_roots(struct scanner *s, int rc, const char *err)
{
        char text[STATUS_TEXT_MAX];

        /* cut at the status's bound (status.h), where the recorder would cut it anyway */
        if (rc &&
            snprintf(text, sizeof(text), "%s: %s", jb_strerror(rc), err && *err ? err : "no detail") < 0)
                text[0] = '\0';
        pthread_mutex_lock(&s->mu);
        for (size_t i = 0; i < s->nroots; i++)
                status_scan(s->roots[i]->provider_id, s->roots[i]->bucket, !rc, rc ? text : NULL);
        pthread_mutex_unlock(&s->mu);
}

static int is_source(const struct scanner_opts *o, const struct aa_provider *p)
{
        size_t i;

        if (!o->n_sources)
                return 1;
        for (i = 0; i < o->n_sources; i++)
                if (!strcmp(o->sources[i], p->id) || !strcmp(o->sources[i], p->name))
                        return 1;
        return 0;
}

/*
 * Discovery walks the tree one level at a time: every folder of a level is refreshed on the
 * server together (refresh_many), then each is listed, and what the listings hold makes the
 * next level. So a tree of depth d costs about d refresh times, not one per folder.
 */
enum dkind {
        DK_BASE,    /* a bucket, or a configured prefix: holds AWSLogs */
        DK_AWSLOGS, /* holds accounts and organization folders */
        DK_ORG,     /* o-...: holds accounts */
        DK_ACCOUNT, /* holds CloudTrail */
        DK_TRAIL,   /* CloudTrail: holds the regions */
};

struct dnode {
        enum dkind kind;
        char *id;
        char *path;
        struct root *root;                /* NULL at DK_BASE */
        const char *provider_id, *bucket; /* DK_BASE: borrowed from the provider list */
};

struct dlevel {
        struct dnode *v;
        size_t n, cap;
};

static void dlevel_clear(struct dlevel *l)
{
        size_t i;

        for (i = 0; i < l->n; i++) {
                free(l->v[i].id);
                free(l->v[i].path);
        }
        free(l->v);
        memset(l, 0, sizeof(*l));
}

/* Add a node (copies id; path as parent/name, or name when parent is NULL). */
static int dlevel_add(struct dlevel *l, enum dkind kind, const char *id, const char *parent,
                      const char *name, struct root *root)
{
        struct dnode *d;

        if (l->n == l->cap) {
                size_t nc = l->cap ? 2 * l->cap : 16;
                struct dnode *nv = realloc(l->v, nc * sizeof(*nv));

                if (!nv)
                        return JB_ENOMEM;
                l->v = nv;
                l->cap = nc;
        }
        d = &l->v[l->n];
        memset(d, 0, sizeof(*d));
        d->kind = kind;
        d->root = root;
        d->id = strdup(id);
        d->path = parent ? ct_path_join(parent, name) : strdup(name);
        if (!d->id || !d->path) {
                free(d->id);
                free(d->path);
                return JB_ENOMEM;
        }
        l->n++;
        return JB_OK;
}

struct dlist_ctx {
        struct scanner *s;
        struct dnode *node;
        struct dlevel *next;
};

static int new_root(struct scanner *s, const struct dnode *base, const char *logs_id, struct root **out)
{
        struct root *r = calloc(1, sizeof(*r)), **nr;

        *out = NULL;
        nr = realloc(s->roots, (s->nroots + 1) * sizeof(*nr));
        if (nr)
                s->roots = nr;
        if (!r || !nr) {
                free(r);
                return JB_ENOMEM;
        }
        r->provider_id = xstrdup(base->provider_id);
        r->bucket = xstrdup(base->bucket);
        r->path = ct_path_join(base->path, CT_PATH_LOGS);
        r->fi_id = xstrdup(logs_id);
        if (!r->provider_id || !r->bucket || !r->path || !r->fi_id) {
                free(r->provider_id);
                free(r->bucket);
                free(r->path);
                free(r->fi_id);
                free(r);
                return JB_ENOMEM;
        }
        s->roots[s->nroots++] = r;
        *out = r;
        status_source(r->provider_id, r->bucket, 1);
        return JB_OK;
}

/* One folder of a level's listing: what it is decides what the next level gets. */
static int dlist_cb(void *opaque, const struct aa_item *it)
{
        struct dlist_ctx *c = opaque;
        struct dnode *d = c->node;
        struct root *r;
        char *path;
        int rc;

        if (it->type != AA_FOLDER)
                return 1; /* folders come first */
        if (stopping(c->s))
                return JB_ETRANSIENT;
        switch (d->kind) {
        case DK_BASE:
                if (!ct_path_is_logs(it->name))
                        return 0;
                rc = new_root(c->s, d, it->fi_id, &r);
                return rc ? rc : dlevel_add(c->next, DK_AWSLOGS, it->fi_id, NULL, r->path, r);
        case DK_AWSLOGS:
        case DK_ORG:
                if (ct_path_is_account(it->name))
                        return dlevel_add(c->next, DK_ACCOUNT, it->fi_id, d->path, it->name, d->root);
                if (d->kind == DK_AWSLOGS && ct_path_is_org(it->name))
                        return dlevel_add(c->next, DK_ORG, it->fi_id, d->path, it->name, d->root);
                return 0;
        case DK_ACCOUNT:
                if (!ct_path_is_trail(it->name))
                        return 0;
                return dlevel_add(c->next, DK_TRAIL, it->fi_id, d->path, it->name, d->root);
        case DK_TRAIL:
                path = ct_path_join(d->path, it->name);
                if (!path)
                        return JB_ENOMEM;
                rc = add_region(c->s, d->root, path, it->fi_id);
                free(path);
                return rc;
        }
        return 0;
}

/* Refresh every folder of cur together, then list each into next (organization folders
 * and accounts may sit at the same level: both go on). */
static int dlevel_run(struct scanner *s, struct dlevel *cur, struct dlevel *next, char *errstr,
                      size_t errsz)
{
        char **ids = calloc(cur->n + 1, sizeof(*ids));
        size_t i;
        int rc = ids ? JB_OK : jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");

        for (i = 0; !rc && i < cur->n; i++)
                ids[i] = cur->v[i].id; /* borrowed */
        if (!rc)
                rc = refresh_many(s, ids, cur->n, errstr, errsz);
        free(ids);
        for (i = 0; !rc && i < cur->n; i++) {
                struct dlist_ctx c = {s, &cur->v[i], next};

                rc = list_folders(s, cur->v[i].id, dlist_cb, &c, errstr, errsz);
                if (rc == JB_ENOTFOUND) {
                        rc = JB_OK; /* went away since its parent was listed */
                } else if (rc == JB_ENOMEM) {
                        jb_seterr(rc, errstr, errsz, "out of memory");
                }
        }
        return rc;
}

/* Find the log roots and, below them, the account/region folders. */
static int discover(struct scanner *s, char *errstr, size_t errsz)
{
        struct aa_provider *pv = NULL;
        struct dlevel cur, next;
        size_t np = 0, i, j;
        int rc;

        memset(&cur, 0, sizeof(cur));
        memset(&next, 0, sizeof(next));
        rc = aa_providers(s->aa, &pv, &np, errstr, errsz);
        if (rc)
                return rc;
        roots_free(s);
        for (i = 0; i < np && !rc; i++) {
                if (!is_source(&s->o, &pv[i]))
                        continue;
                status_provider_buckets(&pv[i]);
                for (j = 0; j < pv[i].nbuckets && !rc; j++) {
                        const struct aa_bucket *b = &pv[i].buckets[j];
                        const char *prefix = prefix_for(&s->o, b->name);
                        char *base = ct_path_join(pv[i].name, b->name), *pp = NULL;
                        struct aa_item it;

                        memset(&it, 0, sizeof(it));
                        if (!base) {
                                rc = jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                                break;
                        }
                        if (!prefix) {
                                rc = dlevel_add(&cur, DK_BASE, b->fi_id, NULL, base, NULL);
                        } else if (!(pp = ct_path_join(base, prefix))) {
                                rc = JB_ENOMEM;
                        } else {
                                rc = aa_check_path(s->aa, pp, "0", &it, errstr, errsz);
                                if (rc == JB_ENOTFOUND) {
                                        log_msg(LL_WARN, "scanner",
                                                "bucket=%s prefix=%s: the configured log prefix does not "
                                                "exist (yet); check scanner.prefixes",
                                                b->name, prefix);
                                        rc = JB_OK;
                                } else if (!rc) {
                                        rc = dlevel_add(&cur, DK_BASE, it.fi_id, NULL, pp, NULL);
                                }
                                aa_item_clear(&it);
                        }
                        if (rc == JB_ENOMEM)
                                jb_seterr(rc, errstr, errsz, "out of memory");
                        if (!rc && cur.n && cur.v[cur.n - 1].kind == DK_BASE &&
                            !cur.v[cur.n - 1].provider_id) {
                                cur.v[cur.n - 1].provider_id = pv[i].id;
                                cur.v[cur.n - 1].bucket = b->name;
                        }
                        free(base);
                        free(pp);
                }
        }
        /* base -> AWSLogs -> (org ->) account -> CloudTrail -> regions */
        while (!rc && cur.n) {
                rc = dlevel_run(s, &cur, &next, errstr, errsz);
                dlevel_clear(&cur);
                cur = next;
                memset(&next, 0, sizeof(next));
        }
        dlevel_clear(&cur);
        dlevel_clear(&next);
        aa_providers_free(pv, np);
        return rc;
}

/* ---------- date folders ---------- */

struct ids_ctx {
        struct region *r;
        const char *prefix; /* "" for years, "YYYY" for months */
        size_t want_len;
        struct scanner *s;
};

static int ids_cb(void *opaque, const struct aa_item *it)
{
        struct ids_ctx *ic = opaque;
        char key[64];
        char *id;
        int rc;

        if (!ct_path_is_digits(it->name, ic->want_len))
                return 0;
        snprintf(key, sizeof(key), "%s%s%s", ic->prefix, *ic->prefix ? "/" : "", it->name);
        id = strdup(it->fi_id);
        if (!id)
                return JB_ENOMEM;
        pthread_mutex_lock(&ic->s->mu);
        free(sset_get(&ic->r->ids, key));
        rc = sset_put(&ic->r->ids, key, id);
        pthread_mutex_unlock(&ic->s->mu);
        if (rc)
                free(id);
        return rc;
}

struct days_ctx {
        struct scanner *s;
        struct region *r;
        const char *ym; /* "YYYY/MM" */
        int64_t oldest, newest;
};

static int days_cb(void *opaque, const struct aa_item *it)
{
        struct days_ctx *dc = opaque;
        struct scanner *s = dc->s;
        char path[4096];
        struct folder *f;
        int64_t day;
        int rc = JB_OK;

        if (!ct_path_is_digits(it->name, 2))
                return 0;
        snprintf(path, sizeof(path), "%s/%s/%s", dc->r->path, dc->ym, it->name);
        day = ct_path_day(path);
        if (day < dc->oldest || day > dc->newest)
                return 0;
        pthread_mutex_lock(&s->mu);
        f = sset_get(&s->folders, path);
        if (!f) {
                f = folder_new(path, day);
                rc = f ? sset_put(&s->folders, path, f) : JB_ENOMEM;
                if (rc) {
                        folder_free(f);
                        f = NULL;
                }
        }
        if (f) {
                f->region = dc->r;
                if (!f->fi_id || strcmp(f->fi_id, it->fi_id) != 0) {
                        free(f->fi_id);
                        f->fi_id = strdup(it->fi_id);
                }
        }
        pthread_mutex_unlock(&s->mu);
        return rc;
}

#define WIN_MONTHS 8 /* a lookback of at most 2160 h spans 4 months */

/* The distinct "YYYY/MM" of [oldest, newest]; returns how many. */
static size_t window_months(int64_t oldest, int64_t newest, char out[WIN_MONTHS][8])
{
        size_t n = 0;
        int64_t d;

        for (d = oldest; d <= newest && n < WIN_MONTHS; d += DAY_S) {
                time_t t = (time_t)d;
                struct tm tm;
                char ym[32];

                gmtime_r(&t, &tm);
                snprintf(ym, sizeof(ym), "%04d/%02d", tm.tm_year + 1900, tm.tm_mon + 1);
                if (n && !strcmp(out[n - 1], ym))
                        continue;
                snprintf(out[n++], 8, "%.7s", ym);
        }
        return n;
}

struct idlist {
        char **ids;
        struct region **regs;
        const char **pfx; /* "" (years of a region) or "YYYY" (months of a year) */
        size_t n, cap;
};

static int idlist_add(struct idlist *l, const char *id, struct region *r, const char *pfx)
{
        size_t i;

        for (i = 0; i < l->n; i++)
                if (!strcmp(l->ids[i], id))
                        return JB_OK;
        if (l->n == l->cap) {
                size_t nc = l->cap ? 2 * l->cap : 16;
                char **ni = realloc(l->ids, nc * sizeof(*ni));
                struct region **nr;
                const char **np;

                if (ni)
                        l->ids = ni;
                nr = ni ? realloc(l->regs, nc * sizeof(*nr)) : NULL;
                if (nr)
                        l->regs = nr;
                np = nr ? realloc(l->pfx, nc * sizeof(*np)) : NULL;
                if (!np)
                        return JB_ENOMEM;
                l->pfx = np;
                l->cap = nc;
        }
        if (!(l->ids[l->n] = strdup(id)))
                return JB_ENOMEM;
        l->regs[l->n] = r;
        l->pfx[l->n] = pfx;
        l->n++;
        return JB_OK;
}

static void idlist_clear(struct idlist *l)
{
        strs_free(l->ids, l->n);
        free(l->regs);
        free(l->pfx);
        memset(l, 0, sizeof(*l));
}

/* Refresh the folders of l together, then list each for the year or month ids it holds. */
static int idlist_learn(struct scanner *s, struct idlist *l, char *errstr, size_t errsz)
{
        size_t i;
        int rc = refresh_many(s, l->ids, l->n, errstr, errsz);

        for (i = 0; !rc && i < l->n; i++) {
                struct ids_ctx ic = {l->regs[i], l->pfx[i], *l->pfx[i] ? 2 : 4, s};

                rc = list_folders(s, l->ids[i], ids_cb, &ic, errstr, errsz);
                if (rc == JB_ENOTFOUND)
                        rc = JB_OK; /* gone: the next discovery relearns the region */
        }
        return rc;
}

/*
 * Learn the year and month folder ids the window needs and does not know yet (a new region,
 * a new month): the regions' year lists first, then the years' month lists, each level's
 * folders refreshed together.
 */
static int learn_months(struct scanner *s, struct region **regs, size_t nregs, int64_t oldest,
                        int64_t newest, char *errstr, size_t errsz)
{
        char yms[WIN_MONTHS][8];
        char yrs[WIN_MONTHS][5];
        size_t nym = window_months(oldest, newest, yms), k, m;
        struct idlist l;
        int pass, rc = JB_OK;

        for (m = 0; m < nym; m++)
                snprintf(yrs[m], sizeof(yrs[m]), "%.4s", yms[m]);
        for (pass = 0; pass < 2 && !rc; pass++) {
                memset(&l, 0, sizeof(l));
                for (k = 0; k < nregs && !rc; k++) {
                        for (m = 0; m < nym && !rc; m++) {
                                const char *mid, *yid;

                                pthread_mutex_lock(&s->mu);
                                mid = sset_get(&regs[k]->ids, yms[m]);
                                yid = sset_get(&regs[k]->ids, yrs[m]);
                                if (mid)
                                        ;
                                else if (pass == 0 && !yid)
                                        rc = idlist_add(&l, regs[k]->fi_id, regs[k], "");
                                else if (pass == 1 && yid)
                                        rc = idlist_add(&l, yid, regs[k], yrs[m]);
                                pthread_mutex_unlock(&s->mu);
                        }
                }
                if (rc)
                        jb_seterr(rc, errstr, errsz, "out of memory");
                else
                        rc = idlist_learn(s, &l, errstr, errsz);
                idlist_clear(&l);
        }
        return rc;
}

/* Learn the day folders of region r inside [oldest, newest] from its month folders, which
 * the caller refreshed (refresh_months). */
static int region_days(struct scanner *s, struct region *r, int64_t oldest, int64_t newest, char *errstr,
                       size_t errsz)
{
        char yms[WIN_MONTHS][8];
        size_t nym = window_months(oldest, newest, yms), m;
        int rc = JB_OK;

        for (m = 0; m < nym && !rc; m++) {
                struct days_ctx dc = {s, r, yms[m], oldest, newest};
                char *mid;

                pthread_mutex_lock(&s->mu);
                mid = xstrdup(sset_get(&r->ids, yms[m]));
                pthread_mutex_unlock(&s->mu);
                if (!mid)
                        continue; /* no such month folder (yet) */
                rc = list_folders(s, mid, days_cb, &dc, errstr, errsz);
                if (rc == JB_ENOTFOUND) {
                        /* the month folder went away: forget its id */
                        pthread_mutex_lock(&s->mu);
                        free(sset_get(&r->ids, yms[m]));
                        sset_del(&r->ids, yms[m]);
                        pthread_mutex_unlock(&s->mu);
                        rc = JB_OK;
                }
                free(mid);
        }
        return rc;
}

/* Publish file it of folder f (its name is in f->inflight already; taken out again on failure).
 * sha_hex, reread: set when a digest asked for the file (digests.c). */
static int publish_file(struct scanner *s, struct folder *f, const char *provider, const char *bucket,
                        const struct aa_item *it, const char *sha_hex, int reread, char *errstr,
                        size_t errsz)
{
        struct msg_logfile m = {0};
        struct buf payload, key;
        size_t nl = strlen(it->name);
        struct pub *p = malloc(sizeof(*p) + nl + 1);
        int rc;

        buf_init(&payload, MSG_MAX_BYTES);
        buf_init(&key, MSG_MAX_BYTES);
        m.provider = (char *)provider;
        m.bucket = (char *)bucket;
        m.path = ct_path_join(f->path, it->name);
        m.fi_id = it->fi_id;
        m.size = it->size;
        m.listed_ms = msg_now_ms();
        m.digest_sha256 = (char *)sha_hex;
        m.reread = reread;
        rc = p && m.path ? JB_OK : JB_ENOMEM;
        if (!rc) /* before the publish: the parser may finish the file before it returns */
                status_file_found(m.provider, m.bucket, m.path, m.listed_ms);
        if (!rc)
                rc = msg_logfile_encode(&m, &payload);
        if (!rc)
                rc = msg_logfile_key(&m, &key);
        if (!rc) {
                p->s = s;
                p->f = f;
                memcpy(p->name, it->name, nl + 1);
                rc = q_publish(s->q, Q_FILES, key.p, key.len, payload.p, payload.len, NULL, on_done, p,
                               errstr, errsz);
        }
        if (rc) {
                free(p);
                pthread_mutex_lock(&s->mu);
                sset_del(&f->inflight, it->name);
                pthread_mutex_unlock(&s->mu);
        }
        free(m.path);
        buf_clear(&payload);
        buf_clear(&key);
        return rc;
}

struct files_ctx {
        struct scanner *s;
        struct folder *f;
        int64_t total;
        int first;
        uint64_t published;
        char *errstr;
        size_t errsz;
};

static int files_cb(void *opaque, const struct aa_item *it)
{
        struct files_ctx *fc = opaque;
        struct scanner *s = fc->s;
        struct folder *f = fc->f;
        int rc;

        pthread_mutex_lock(&s->mu);
        if (fc->first) {
                size_t known = f->done.n + f->inflight.n + f->ignored.n;

                fc->first = 0;
                if (fc->total >= 0 && (size_t)fc->total == known) {
                        pthread_mutex_unlock(&s->mu);
                        return 1; /* nothing new: one call spent */
                }
        }
        if (it->type != AA_FILE || sset_has(&f->done, it->name) || sset_has(&f->inflight, it->name) ||
            sset_has(&f->ignored, it->name)) {
                pthread_mutex_unlock(&s->mu);
                return 0;
        }
        if (!ct_path_is_log_file(it->name)) {
                rc = sset_put(&f->ignored, it->name, NULL);
                pthread_mutex_unlock(&s->mu);
                return rc;
        }
        rc = sset_put(&f->inflight, it->name, NULL);
        pthread_mutex_unlock(&s->mu);
        if (rc)
                return rc;

        rc = publish_file(s, f, f->region->root->provider_id, f->region->root->bucket, it, NULL, 0,
                          fc->errstr, fc->errsz);
        if (!rc)
                fc->published++;
        return rc;
}

static int folder_scan(struct scanner *s, struct folder *f, uint64_t *published, char *errstr,
                       size_t errsz)
{
        struct files_ctx fc = {s, f, -1, 1, 0, errstr, errsz};
        char *id;
        int rc;

        pthread_mutex_lock(&s->mu);
        id = xstrdup(f->fi_id);
        pthread_mutex_unlock(&s->mu);
        if (!id)
                return JB_OK;
        rc = aa_list_ex(s->aa, id, 0, &fc.total, files_cb, &fc, errstr, errsz); /* refreshed */
        free(id);
        if (rc == JB_ENOTFOUND) {
                /* the folder id changed (folder recreated): relearn it next scan */
                pthread_mutex_lock(&s->mu);
                free(f->fi_id);
                f->fi_id = NULL;
                pthread_mutex_unlock(&s->mu);
                rc = JB_OK;
        }
        *published += fc.published;
        if (fc.published && f->region && f->region->root)
                metric_set(M_SCAN_NEWEST_FILE, metrics_now(), f->region->root->bucket, NULL);
        return rc;
}

/* Bound the folders of files fetched through a digest (memory only): past SCAN_OUTSIDE_MAX
 * of them, those with nothing in flight are forgotten (a digest still listing one of their
 * files has it fetched again). Called with s->mu held. */
static void forget_outside(struct scanner *s)
{
        const struct sset_ent *e;
        struct folder *gone[256];
        size_t i = 0, n = 0, k;

        if (s->outside.n <= SCAN_OUTSIDE_MAX)
                return;
        while ((i = sset_next(&s->outside, i, &e)) != 0 && n < 256)
                if (((struct folder *)e->v)->inflight.n == 0)
                        gone[n++] = e->v;
        for (k = 0; k < n; k++) {
                sset_del(&s->outside, gone[k]->path);
                folder_free(gone[k]);
        }
}

/* Forget folders older than the lookback that have nothing in flight. */
static void forget_old(struct scanner *s, int64_t oldest)
{
        size_t i = 0;
        const struct sset_ent *e;
        struct folder *gone[256];
        size_t ngone = 0, k;
        char err[256];

        pthread_mutex_lock(&s->mu);
        while ((i = sset_next(&s->folders, i, &e)) != 0 && ngone < 256) {
                struct folder *f = e->v;

                if (f->day < oldest && f->inflight.n == 0)
                        gone[ngone++] = f;
        }
        for (k = 0; k < ngone; k++)
                sset_del(&s->folders, gone[k]->path);
        forget_outside(s);
        pthread_mutex_unlock(&s->mu);
        for (k = 0; k < ngone; k++) {
                if (s->store->ops->forget(s->store, gone[k]->path, &gone[k]->done, err, sizeof(err)))
                        log_msg(LL_WARN, "scanner", "cannot forget %s: %s", gone[k]->path, err);
                folder_free(gone[k]);
        }
}

/* Refresh the n folders ids (built by the caller, rc: how that went) together; frees ids. */
static int refresh_ids(struct scanner *s, char **ids, size_t n, int rc, char *errstr, size_t errsz)
{
        if (!rc)
                rc = refresh_many(s, ids, n, errstr, errsz);
        else
                jb_seterr(rc, errstr, errsz, "out of memory");
        strs_free(ids, n);
        return rc;
}

/* Refresh together the month folders of the window (known ones: learn_months ran). */
static int refresh_months(struct scanner *s, struct region **regs, size_t nregs, int64_t oldest,
                          int64_t newest, char *errstr, size_t errsz)
{
        char yms[WIN_MONTHS][8];
        size_t nym = window_months(oldest, newest, yms), n = 0, k, m;
        char **ids = calloc(nregs * nym + 1, sizeof(*ids));
        int rc = ids ? JB_OK : JB_ENOMEM;

        pthread_mutex_lock(&s->mu);
        for (k = 0; !rc && k < nregs; k++)
                for (m = 0; !rc && m < nym; m++) {
                        const char *mid = sset_get(&regs[k]->ids, yms[m]);

                        if (mid && !(ids[n++] = strdup(mid)))
                                rc = JB_ENOMEM;
                }
        pthread_mutex_unlock(&s->mu);
        return refresh_ids(s, ids, n, rc, errstr, errsz);
}

/* Refresh together the date folders of this scan (those whose id is known). */
static int refresh_folders(struct scanner *s, struct folder **fols, size_t nfols, char *errstr,
                           size_t errsz)
{
        char **ids = calloc(nfols + 1, sizeof(*ids));
        size_t n = 0, k;
        int rc = ids ? JB_OK : JB_ENOMEM;

        pthread_mutex_lock(&s->mu);
        for (k = 0; !rc && k < nfols; k++)
                if (fols[k]->fi_id && !(ids[n++] = strdup(fols[k]->fi_id)))
                        rc = JB_ENOMEM;
        pthread_mutex_unlock(&s->mu);
        return refresh_ids(s, ids, n, rc, errstr, errsz);
}

/* ---------- the digest pass's view of the scanner (digests.h) ---------- */

static int dg_file_state(void *opaque, const char *folder, const char *name)
{
        struct scanner *s = opaque;
        struct folder *f, *o;
        int st = DIGESTS_UNSEEN;

        pthread_mutex_lock(&s->mu);
        f = sset_get(&s->folders, folder);
        o = sset_get(&s->outside, folder);
        if ((f && sset_has(&f->inflight, name)) || (o && sset_has(&o->inflight, name)))
                st = DIGESTS_INFLIGHT;
        else if ((f && sset_has(&f->done, name)) || (o && sset_has(&o->done, name)))
                st = DIGESTS_DONE;
        pthread_mutex_unlock(&s->mu);
        return st;
}

/* A file a digest lists: published like a listed one; its folder is the scanner's when the
 * scan walks it, else one kept in memory (outside the lookback, or not listed yet). */
static int dg_publish(void *opaque, const char *provider, const char *bucket, const char *folder,
                      const struct aa_item *it, const char *sha_hex, int reread, char *errstr,
                      size_t errsz)
{
        struct scanner *s = opaque;
        struct folder *f;
        int rc = JB_OK, already = 0;

        pthread_mutex_lock(&s->mu);
        f = sset_get(&s->folders, folder);
        if (!f || !f->region)
                f = sset_get(&s->outside, folder);
        if (!f) {
                f = folder_new(folder, ct_path_day(folder));
                if (!f || sset_put(&s->outside, f->path, f) != JB_OK) {
                        folder_free(f);
                        f = NULL;
                        rc = JB_ENOMEM;
                }
        }
        if (!rc && sset_has(&f->inflight, it->name))
                already = 1;
        else if (!rc)
                rc = sset_put(&f->inflight, it->name, NULL);
        pthread_mutex_unlock(&s->mu);
        if (already)
                return JB_OK; /* already on its way */
        if (rc)
                return jb_seterr(rc, errstr, errsz, "out of memory");
        rc = publish_file(s, f, provider, bucket, it, sha_hex, reread, errstr, errsz);
        if (!rc) {
                pthread_mutex_lock(&s->mu);
                s->stats.files_published++;
                pthread_mutex_unlock(&s->mu);
        }
        return rc;
}

/* A digest that cannot be read: saved in its date folder's set, like a processed file. */
static int dg_remember(void *opaque, const char *folder, const char *name)
{
        struct scanner *s = opaque;
        struct folder *f;
        int rc = JB_OK;

        pthread_mutex_lock(&s->mu);
        f = sset_get(&s->folders, folder);
        if (!f) {
                f = folder_new(folder, ct_path_day(folder));
                if (!f || sset_put(&s->folders, f->path, f) != JB_OK) {
                        folder_free(f);
                        f = NULL;
                        rc = JB_ENOMEM;
                }
        }
        if (!rc)
                rc = sset_put(&f->done, name, NULL);
        if (!rc)
                rc = sset_put(&f->added, name, NULL);
        if (!rc)
                f->dirty = 1;
        pthread_mutex_unlock(&s->mu);
        return rc;
}

static int dg_refresh(void *opaque, char *const *ids, size_t n, char *errstr, size_t errsz)
{
        return refresh_many(opaque, ids, n, errstr, errsz);
}

static int dg_stopping(void *opaque)
{
        return stopping(opaque);
}

/* The digest pass over every region known, after a scan that succeeded (the scan's figures
 * are the log folders' alone). Its failures do not fail the scan (the log files were
 * handled) and are retried at the next one, except lost credentials (JB_EFATAL). */
static int digest_pass(struct scanner *s, char *errstr, size_t errsz)
{
        int64_t now = now_s();
        int64_t oldest = day_of(now - s->o.lookback_h * 3600);
        struct digests_region *dr;
        const struct sset_ent *e;
        char err[512] = "";
        size_t n = 0, i = 0;
        int rc;

        pthread_mutex_lock(&s->mu);
        dr = calloc(s->regions.n + 1, sizeof(*dr));
        while (dr && (i = sset_next(&s->regions, i, &e)) != 0) {
                const struct region *r = e->v;

                dr[n].provider = r->root->provider_id;
                dr[n].bucket = r->root->bucket;
                dr[n].root = r->root->path;
                dr[n].path = r->path;
                n++;
        }
        pthread_mutex_unlock(&s->mu);
        if (!dr)
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        /* the regions and roots are changed by this thread only (discover): the borrowed
         * strings stay valid during the pass */
        rc = digests_pass(s->dg, dr, n, now, oldest, err, sizeof(err));
        free(dr);
        if (rc == JB_EFATAL)
                return jb_seterr(rc, errstr, errsz, "%s", err);
        if (rc && !stopping(s))
                log_msg(LL_WARN, "scanner",
                        "the CloudTrail digest check did not finish (%s): %s; the next scan tries again",
                        jb_strerror(rc), err[0] ? err : "no detail");
        return JB_OK;
}

static int scan_once(struct scanner *s, char *errstr, size_t errsz)
{
        int64_t now = now_s();
        int64_t newest = day_of(now);
        int64_t oldest = day_of(now - s->o.lookback_h * 3600);
        struct aa_counters c0, c1;
        struct region **regs = NULL;
        struct folder **fols = NULL;
        size_t nregs = 0, nfols = 0, i = 0, k;
        const struct sset_ent *e;
        uint64_t published = 0;
        int64_t t0 = jb_mono_ms();
        int rc = JB_OK;

        aa_counters_get(s->aa, &c0);
        if (s->nroots == 0 || s->scan_no % (uint64_t)s->o.parents_every == 0)
                rc = discover(s, errstr, errsz);
        if (rc)
                goto out;
        pthread_mutex_lock(&s->mu);
        regs = malloc((s->regions.n + 1) * sizeof(*regs));
        if (regs)
                while ((i = sset_next(&s->regions, i, &e)) != 0)
                        regs[nregs++] = e->v;
        pthread_mutex_unlock(&s->mu);
        if (!regs) {
                rc = JB_ENOMEM;
                goto out;
        }
        rc = learn_months(s, regs, nregs, oldest, newest, errstr, errsz);
        if (!rc)
                rc = refresh_months(s, regs, nregs, oldest, newest, errstr, errsz);
        for (k = 0; k < nregs && !rc && !stopping(s); k++)
                rc = region_days(s, regs[k], oldest, newest, errstr, errsz);
        if (rc)
                goto out;
        pthread_mutex_lock(&s->mu);
        fols = malloc((s->folders.n + 1) * sizeof(*fols));
        i = 0;
        if (fols)
                while ((i = sset_next(&s->folders, i, &e)) != 0)
                        if (((struct folder *)e->v)->day >= oldest && ((struct folder *)e->v)->region)
                                fols[nfols++] = e->v;
        pthread_mutex_unlock(&s->mu);
        if (!fols) {
                rc = JB_ENOMEM;
                goto out;
        }
        rc = refresh_folders(s, fols, nfols, errstr, errsz);
        for (k = 0; k < nfols && !rc && !stopping(s); k++)
                rc = folder_scan(s, fols[k], &published, errstr, errsz);
        forget_old(s, oldest);
out:
        aa_counters_get(s->aa, &c1);
        pthread_mutex_lock(&s->mu);
        s->stats.files_published += published;
        s->stats.api_calls_last = c1.requests - c0.requests;
        s->stats.last_scan_ms = jb_mono_ms() - t0;
        s->stats.folders = s->folders.n;
        if (!rc) {
                s->stats.scans++;
                metric_set(M_SCAN_LAST_SUCCESS, metrics_now(), NULL, NULL);
        } else {
                s->stats.errors++;
        }
        pthread_mutex_unlock(&s->mu);
        s->scan_no++;
        status_scan_roots(s, rc, errstr);
        if (!rc)
                log_msg(LL_INFO, "scanner",
                        "scan done: published=%llu regions=%zu folders=%zu refreshes=%llu api_calls=%llu "
                        "took_ms=%lld",
                        (unsigned long long)published, nregs, nfols,
                        (unsigned long long)(c1.refreshes - c0.refreshes),
                        (unsigned long long)(c1.requests - c0.requests), (long long)(jb_mono_ms() - t0));
        free(regs);
        free(fols);
        return rc;
}

/* ---------- thread ---------- */

static void wait_ms(struct scanner *s, int ms)
{
        struct timespec ts;

        jb_deadline(&ts, CLOCK_MONOTONIC, ms);
        pthread_mutex_lock(&s->mu);
        if (!s->stop && !s->kick)
                pthread_cond_timedwait(&s->cv, &s->mu, &ts);
        pthread_mutex_unlock(&s->mu);
}

static void *scanner_main(void *arg)
{
        struct scanner *s = arg;
        char err[512];
        /* after a failed scan: 1 s, doubling up to the scan interval (no jitter: one scanner) */
        struct backoff retry = {1000, (long)s->o.interval_s * 1000, BACKOFF_NONE, 0};
        int64_t next_scan = 0, last_flush = 0;
        int rc;

        while (!stopping(s)) {
                int64_t now = jb_mono_ms();
                int kicked;

                pthread_mutex_lock(&s->mu);
                kicked = s->kick;
                s->kick = 0;
                pthread_mutex_unlock(&s->mu);
                if (now >= next_scan || kicked) {
                        err[0] = '\0';
                        rc = scan_once(s, err, sizeof(err));
                        if (!rc && s->dg && !stopping(s))
                                rc = digest_pass(s, err, sizeof(err));
                        if (rc == JB_EFATAL) {
                                log_msg(LL_ERROR, "scanner",
                                        "stopped: %s; fix the Access Anywhere credentials or settings and "
                                        "restart",
                                        err);
                                pthread_mutex_lock(&s->mu);
                                s->failed = 1;
                                pthread_mutex_unlock(&s->mu);
                                break;
                        }
                        if (rc && !stopping(s)) {
                                long wait = backoff_next(&retry, 0);

                                log_msg(LL_WARN, "scanner", "scan failed (%s): %s; retrying in %lld s",
                                        jb_strerror(rc), err[0] ? err : "no detail",
                                        (long long)(wait / 1000));
                                next_scan = jb_mono_ms() + wait;
                        } else {
                                backoff_reset(&retry);
                                next_scan = jb_mono_ms() + s->o.interval_s * 1000;
                        }
                }
                if (jb_mono_ms() - last_flush >= SCAN_FLUSH_MS) {
                        if (scanner_flush(s, err, sizeof(err)) != JB_OK)
                                log_msg(LL_ERROR, "scanner",
                                        "cannot save the scanner state: %s; processed files will be "
                                        "read again after a restart",
                                        err);
                        last_flush = jb_mono_ms();
                }
                wait_ms(s, 250);
        }
        return NULL;
}

void scanner_opts_init(struct scanner_opts *o)
{
        memset(o, 0, sizeof(*o));
        o->interval_s = 180;
        o->lookback_h = 48;
        o->parents_every = 10;
        o->refresh_concurrency = 8;
        o->digests = 1;
        o->digest_grace_s = 1800;
        o->digest_max_bytes = 16u << 20; /* CT_DIGEST_MAX_DEFAULT */
}

int scanner_start(const struct scanner_opts *opts, const struct aa_opts *aa, struct q *q,
                  struct scan_store *store, struct scanner **out, char *errstr, size_t errsz)
{
        struct scanner *s = calloc(1, sizeof(*s));
        struct load_ctx lc;
        int rc;

        *out = NULL;
        if (!s)
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        s->o = *opts;
        s->q = q;
        s->store = store;
        pthread_mutex_init(&s->mu, NULL);
        jb_cond_init_mono(&s->cv);
        sset_init(&s->regions);
        sset_init(&s->folders);
        sset_init(&s->outside);
        if (opts->digests) {
                struct digests_opts dopts = {opts->digest_grace_s, (size_t)opts->digest_max_bytes,
                                             opts->hashes};
                struct digests_host host = {s,          dg_file_state, dg_publish,
                                            dg_refresh, dg_remember,   dg_stopping};

                s->dg = digests_new(&dopts, NULL, &host);
                if (!s->dg) {
                        scanner_free(s);
                        return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                }
        }
        lc.s = s;
        lc.oldest = day_of(now_s() - opts->lookback_h * 3600);
        lc.forgotten = 0;
        rc = store->ops->load(store, load_one, &lc, errstr, errsz);
        if (!rc)
                forget_old(s, lc.oldest);
        if (!rc)
                rc = aa_client_new(aa, &s->aa, errstr, errsz);
        if (!rc && s->dg)
                digests_set_aa(s->dg, s->aa);
        if (!rc && pthread_create(&s->th, NULL, scanner_main, s) != 0)
                rc = jb_seterr(JB_ENOMEM, errstr, errsz, "cannot start the scanner thread");
        if (rc) {
                scanner_free(s);
                return rc;
        }
        s->started = 1;
        *out = s;
        return JB_OK;
}

void scanner_kick(struct scanner *s)
{
        pthread_mutex_lock(&s->mu);
        s->kick = 1;
        pthread_cond_signal(&s->cv);
        pthread_mutex_unlock(&s->mu);
}

void scanner_stop(struct scanner *s)
{
        if (!s)
                return;
        pthread_mutex_lock(&s->mu);
        s->stop = 1;
        pthread_cond_signal(&s->cv);
        pthread_mutex_unlock(&s->mu);
        if (s->started) {
                pthread_join(s->th, NULL);
                s->started = 0;
        }
}

int scanner_failed(const struct scanner *s)
{
        return s->failed;
}

void scanner_get_stats(struct scanner *s, struct scanner_stats *out)
{
        pthread_mutex_lock(&s->mu);
        *out = s->stats;
        pthread_mutex_unlock(&s->mu);
}

void scanner_free(struct scanner *s)
{
        size_t i = 0;
        const struct sset_ent *e;
        char err[256];

        if (!s)
                return;
        scanner_stop(s);
        if (scanner_flush(s, err, sizeof(err)) != JB_OK)
                log_msg(LL_ERROR, "scanner", "cannot save the scanner state at exit: %s", err);
        while ((i = sset_next(&s->folders, i, &e)) != 0)
                folder_free(e->v);
        sset_clear(&s->folders);
        i = 0;
        while ((i = sset_next(&s->outside, i, &e)) != 0)
                folder_free(e->v);
        sset_clear(&s->outside);
        digests_free(s->dg);
        i = 0;
        while ((i = sset_next(&s->regions, i, &e)) != 0)
                region_free(e->v);
        sset_clear(&s->regions);
        roots_free(s);
        aa_client_free(s->aa);
        pthread_cond_destroy(&s->cv);
        pthread_mutex_destroy(&s->mu);
        free(s);
}

/* ---- the stage interface (stage.h) ---- */

struct scanner_stage {
        struct jb_stage st; /* first: a struct jb_stage * is a struct scanner_stage * */
        struct scanner_opts o;
        const struct aa_opts *aa;
        struct q *q;
        struct scan_store *store;
        struct scanner *s;
};

static int sst_start(struct jb_stage *st, char *errstr, size_t errsz)
{
        struct scanner_stage *x = (struct scanner_stage *)st;

        return scanner_start(&x->o, x->aa, x->q, x->store, &x->s, errstr, errsz);
}

static void sst_stop(struct jb_stage *st, int grace_ms, int upstream_done)
{
        (void)grace_ms; /* the listing in progress is cut short at once */
        (void)upstream_done;
        scanner_stop(((struct scanner_stage *)st)->s);
}

static int sst_finish(struct jb_stage *st, char *errstr, size_t errsz)
{
        struct scanner_stage *x = (struct scanner_stage *)st;
        char err[512];

        if (x->s && scanner_flush(x->s, err, sizeof(err)) != JB_OK)
                return jb_seterr(JB_EFATAL, errstr, errsz, "cannot save the scanner state: %s", err);
        return JB_OK;
}

static int sst_failed(struct jb_stage *st)
{
        struct scanner_stage *x = (struct scanner_stage *)st;

        return x->s && scanner_failed(x->s);
}

static void sst_kick(struct jb_stage *st)
{
        struct scanner_stage *x = (struct scanner_stage *)st;

        if (x->s)
                scanner_kick(x->s);
}

static void sst_counters(struct jb_stage *st, struct jb_counters *out)
{
        struct scanner_stage *x = (struct scanner_stage *)st;
        struct scanner_stats s;

        if (!x->s)
                return;
        scanner_get_stats(x->s, &s);
        jb_counters_add(out, "scans", JB_COUNTER, (int64_t)s.scans, "scan cycles completed");
        jb_counters_add(out, "files_found", JB_COUNTER, (int64_t)s.files_published,
                        "new log files found and published");
        jb_counters_add(out, "files_done", JB_COUNTER, (int64_t)s.files_done,
                        "log files whose every event was synced, recorded");
        jb_counters_add(out, "scan_errors", JB_COUNTER, (int64_t)s.errors,
                        "scans that hit an error (retried at the next interval)");
        jb_counters_add(out, "date_folders", JB_GAUGE, (int64_t)s.folders, "date folders known");
        jb_counters_add(out, "regions", JB_GAUGE, (int64_t)s.regions, "account/region folders known");
        jb_counters_add(out, "last_scan_calls", JB_GAUGE, (int64_t)s.api_calls_last,
                        "Access Anywhere calls spent by the last scan");
        jb_counters_add(out, "last_scan_ms", JB_GAUGE, s.last_scan_ms, "duration of the last scan");
}

static void sst_free(struct jb_stage *st)
{
        struct scanner_stage *x = (struct scanner_stage *)st;

        if (!x)
                return;
        scanner_free(x->s);
        free(x);
}

static const struct jb_stage_ops scanner_stage_ops = {
        .start = sst_start,
        .stop = sst_stop,
        .finish = sst_finish,
        .failed = sst_failed,
        .kick = sst_kick,
        .counters = sst_counters,
        .free = sst_free,
        .free_after_transport = 1,
};

struct jb_stage *scanner_stage(const struct scanner_opts *opts, const struct aa_opts *aa, struct q *q,
                               struct scan_store *store)
{
        struct scanner_stage *x = calloc(1, sizeof(*x));

        if (!x)
                return NULL;
        x->st.name = "scan";
        x->st.ops = &scanner_stage_ops;
        x->o = *opts;
        x->aa = aa;
        x->q = q;
        x->store = store;
        return &x->st;
}
