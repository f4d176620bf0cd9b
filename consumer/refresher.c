/*
 * refresher.c - resync by cloud refresh (refresher.h): resolve a changed object's folder,
 * refresh it (and the new folders above it), or refresh a whole bucket top-down, paced.
 *
 * Caches: r->prov (aa_providers() answer) for provider and bucket folders; r->paths
 * ("<bucket fi_id>\x1f<path>" -> malloc'ed fi_id) for folders inside a bucket.
 * Refreshes are driven here with aa_refresh_start()/aa_refresh_poll() (not aa_refresh())
 * so that the caller's wait hook can cut a pause short, and so that a bucket resync keeps
 * several refreshes in flight.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "refresher.h"
#include "sset.h"

#define BUCKET_TRIES 8 /* a folder of a bucket resync: attempts after transient failures */
#define BUCKET_STREAK                                                                                   \
        16 /* transient failures in a row (no folder refreshed in between) that
                            end a whole-bucket walk: the server is down, not just flaky */

struct refresher {
        struct aa_client *aa;
        double per_s;
        struct aa_provider *prov;
        size_t nprov;
        int64_t prov_read_ms; /* 0: never read */
        struct sset paths;
        struct refresher_counters ctr;
};

/* Pause ms through the hook (or nanosleep); nonzero when the caller wants to stop. */
static int pause_ms(const struct refresher_hooks *h, long ms)
{
        struct timespec ts;

        if (ms < 0)
                ms = 0;
        if (h && h->wait)
                return h->wait(h->opaque, ms);
        ts.tv_sec = ms / 1000;
        ts.tv_nsec = (ms % 1000) * 1000000L;
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
                ;
        return 0;
}

static int stopped(char *errstr, size_t errsz)
{
        return jb_seterr(JB_ETRANSIENT, errstr, errsz, "stopped before the cloud refresh finished");
}

static void paths_clear(struct refresher *r)
{
        const struct sset_ent *e;
        size_t i;

        for (i = 0; (i = sset_next(&r->paths, i, &e)) != 0;)
                free(e->v);
        sset_clear(&r->paths);
        sset_init(&r->paths);
}

struct refresher *refresher_new(struct aa_client *aa, double per_s)
{
        struct refresher *r = calloc(1, sizeof(*r));

        if (!r)
                return NULL;
        r->aa = aa;
        r->per_s = per_s;
        sset_init(&r->paths);
        return r;
}

void refresher_free(struct refresher *r)
{
        if (!r)
                return;
        paths_clear(r);
        aa_providers_free(r->prov, r->nprov);
        free(r);
}

void refresher_counters_get(const struct refresher *r, struct refresher_counters *out)
{
        *out = r->ctr;
}

/* ---------------------------------------------------------------- providers and buckets */

/* Read the providers again, unless that was done less than REFRESHER_PROVIDERS_MIN_S ago.
 * Returns JB_OK when read, 1 when not allowed yet, or an error. */
static int providers_read(struct refresher *r, char *errstr, size_t errsz)
{
        struct aa_provider *p;
        size_t n;
        int64_t now = jb_mono_ms();
        int rc;

        if (r->prov_read_ms && now - r->prov_read_ms < REFRESHER_PROVIDERS_MIN_S * 1000LL)
                return 1;
        r->ctr.provider_reads++;
        rc = aa_providers(r->aa, &p, &n, errstr, errsz);
        if (rc)
                return rc;
        aa_providers_free(r->prov, r->nprov);
        r->prov = p;
        r->nprov = n;
        r->prov_read_ms = now;
        paths_clear(r); /* ids below a re-read bucket may have changed as well */
        return JB_OK;
}

/* The cached bucket folder, or NULL; *pknown tells whether the provider is known. */
static const char *bucket_find(const struct refresher *r, const char *provider, const char *bucket,
                               int *pknown)
{
        size_t i, j;

        *pknown = 0;
        for (i = 0; i < r->nprov; i++) {
                if (strcmp(r->prov[i].id, provider))
                        continue;
                *pknown = 1;
                for (j = 0; j < r->prov[i].nbuckets; j++)
                        if (!strcmp(r->prov[i].buckets[j].name, bucket))
                                return r->prov[i].buckets[j].fi_id;
        }
        return NULL;
}

/* The bucket folder's fi_id (borrowed from the cache: valid until the next providers_read). */
static int bucket_id(struct refresher *r, const char *provider, const char *bucket, const char **out,
                     char *errstr, size_t errsz)
{
        int known, rc;

        *out = bucket_find(r, provider, bucket, &known);
        if (*out)
                return JB_OK;
        rc = providers_read(r, errstr, errsz);
        if (rc < 0)
                return rc;
        *out = bucket_find(r, provider, bucket, &known);
        if (*out)
                return JB_OK;
        if (rc == 1) /* not read again (read moments ago): a new bucket may appear, try later */
                return jb_seterr(JB_ETRANSIENT, errstr, errsz,
                                 "Access Anywhere listed no bucket %s under provider %s %d s ago or "
                                 "less; trying again later",
                                 bucket, provider, REFRESHER_PROVIDERS_MIN_S);
        if (!known)
                return jb_seterr(JB_ENOTFOUND, errstr, errsz,
                                 "Access Anywhere lists no provider with id %s", provider);
        return jb_seterr(JB_ENOTFOUND, errstr, errsz,
                         "Access Anywhere lists no bucket %s under provider %s", bucket, provider);
}

/* The bucket folder turned out stale (JB_ENOTFOUND): re-read the providers when allowed.
 * JB_OK: read again (resolve once more); else an error to return. */
static int bucket_stale(struct refresher *r, const char *bucket, char *errstr, size_t errsz)
{
        int rc;

        r->ctr.stale++;
        rc = providers_read(r, errstr, errsz);
        if (rc == 1)
                return jb_seterr(JB_ETRANSIENT, errstr, errsz,
                                 "the folder of bucket %s is gone from Access Anywhere and the "
                                 "providers were read less than %d s ago; trying later",
                                 bucket, REFRESHER_PROVIDERS_MIN_S);
        return rc;
}

/* ---------------------------------------------------------------- folder paths */

/* The cache key of folder path[0..len) of bucket folder bid (malloc'ed), NULL: no memory. */
static char *path_key(const char *bid, const char *path, size_t len)
{
        size_t bl = strlen(bid);
        char *k = malloc(bl + 1 + len + 1);

        if (!k)
                return NULL;
        memcpy(k, bid, bl);
        k[bl] = '\x1f';
        memcpy(k + bl + 1, path, len);
        k[bl + 1 + len] = '\0';
        return k;
}

static void path_forget(struct refresher *r, const char *bid, const char *path, size_t len)
{
        char *k = path_key(bid, path, len);
        void *v;

        if (!k)
                return;
        v = sset_get(&r->paths, k);
        if (v && sset_del(&r->paths, k))
                free(v);
        free(k);
}

static void path_remember(struct refresher *r, const char *bid, const char *path, size_t len,
                          const char *fi_id)
{
        char *k = path_key(bid, path, len), *v;
        void *old;

        if (!k)
                return;
        if (r->paths.n >= REFRESHER_CACHE_MAX)
                paths_clear(r);
        v = strdup(fi_id);
        old = sset_get(&r->paths, k);
        if (v && sset_put(&r->paths, k, v) == JB_OK)
                free(old);
        else
                free(v); /* out of memory: only the cache suffers */
        free(k);
}

/*
 * The fi_id of folder path[0..len) of the bucket (*id: malloc'ed, caller frees): from the
 * cache when use_cache, else (and on a miss) from checkPathExists. JB_ENOTFOUND when the
 * index holds no such folder (or holds a file there).
 */
static int path_id(struct refresher *r, const char *bid, const char *path, size_t len, int use_cache,
                   char **id, char *errstr, size_t errsz)
{
        struct aa_item it;
        char *p;
        int rc;

        *id = NULL;
        if (use_cache) {
                char *k = path_key(bid, path, len);
                const char *v;

                if (!k)
                        return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                v = sset_get(&r->paths, k);
                free(k);
                if (v) {
                        r->ctr.cache_hits++;
                        *id = strdup(v);
                        return *id ? JB_OK : jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                }
        }
        p = strndup(path, len);
        if (!p)
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        r->ctr.path_checks++;
        rc = aa_check_path(r->aa, p, bid, &it, errstr, errsz);
        if (!rc && it.type != AA_FOLDER)
                rc = jb_seterr(JB_ENOTFOUND, errstr, errsz, "%s is a file, not a folder", p);
        if (!rc) {
                *id = strdup(it.fi_id);
                if (!*id)
                        rc = jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                else
                        path_remember(r, bid, path, len, it.fi_id);
        } else if (rc == JB_ENOTFOUND) {
                path_forget(r, bid, path, len);
        }
        aa_item_clear(&it);
        free(p);
        return rc;
}

/* ---------------------------------------------------------------- one refresh */

/* Refresh folder id and wait until it is done (polling with the client's pauses, through
 * the wait hook). */
static int refresh_one(struct refresher *r, const char *id, const struct refresher_hooks *h,
                       char *errstr, size_t errsz)
{
        int64_t t0 = jb_mono_ms(), timeout = aa_refresh_timeout_ms(r->aa);
        char *tok = NULL;
        int rc, running = 1, poll;

        rc = aa_refresh_start(r->aa, id, &tok, errstr, errsz);
        if (rc)
                return rc;
        for (poll = 0; tok && running; poll++) {
                int64_t waited = jb_mono_ms() - t0;
                long ms = aa_refresh_pause_ms(r->aa, poll);

                if (waited >= timeout) {
                        rc = jb_seterr(JB_ETRANSIENT, errstr, errsz,
                                       "the cloud refresh of folder %s did not finish within %lld s "
                                       "(%d polls); Access Anywhere may be overloaded",
                                       id, (long long)(timeout / 1000), poll);
                        break;
                }
                if (ms > timeout - waited)
                        ms = (long)(timeout - waited);
                if (pause_ms(h, ms)) {
                        rc = stopped(errstr, errsz);
                        break;
                }
                rc = aa_refresh_poll(r->aa, id, tok, &running, errstr, errsz);
                if (rc)
                        break;
        }
        free(tok);
        if (!rc)
                r->ctr.refreshes++;
        return rc;
}

/* ---------------------------------------------------------------- one folder */

size_t refresher_parent_len(const char *key)
{
        size_t n = strlen(key);

        while (n && key[n - 1] == '/')
                n--; /* a folder marker "a/b/" is the object b of folder a */
        while (n && key[n - 1] != '/')
                n--;
        while (n && key[n - 1] == '/')
                n--;
        return n;
}

/* dir without leading, trailing and doubled '/' (malloc'ed). */
static char *dir_norm(const char *dir, size_t len)
{
        char *o = malloc(len + 1);
        size_t i, n = 0;

        if (!o)
                return NULL;
        for (i = 0; i < len; i++) {
                if (dir[i] == '/' && (n == 0 || o[n - 1] == '/'))
                        continue;
                o[n++] = dir[i];
        }
        while (n && o[n - 1] == '/')
                n--;
        o[n] = '\0';
        return o;
}

/* Has folder id no items (after its refresh)? 1 yes, 0 no, or an error. */
static int stop_at_first(void *opaque, const struct aa_item *it)
{
        (void)it;
        *(int *)opaque = 1;
        return 1;
}

static int folder_empty(struct refresher *r, const char *id, char *errstr, size_t errsz)
{
        int any = 0, rc = aa_list(r->aa, id, 0, stop_at_first, &any, errstr, errsz);

        return rc ? rc : !any;
}

/* A refresh of the cached folder dir[0..k) (k 0: the bucket folder) said JB_ENOTFOUND:
 * forget it. Returns JB_ENOTFOUND with *stale set when another try may succeed, else the
 * error to return. */
static int on_stale(struct refresher *r, const char *bid, const char *bucket, const char *dir, size_t k,
                    int *stale, char *errstr, size_t errsz)
{
        int rc;

        if (k) {
                r->ctr.stale++;
                path_forget(r, bid, dir, k);
                *stale = 1;
                return JB_ENOTFOUND;
        }
        rc = bucket_stale(r, bucket, errstr, errsz);
        if (rc)
                return rc;
        *stale = 1;
        return JB_ENOTFOUND;
}

/* Refreshes folder id (the bucket bid when NULL), dir's first k bytes, and counts it; a folder
 * the server no longer knows goes to on_stale() (never JB_OK then). */
static int refresh_at(struct refresher *r, const char *id, const char *bid, const char *bucket,
                      const char *dir, size_t k, const struct refresher_hooks *h, uint64_t *count,
                      int *stale, char *errstr, size_t errsz)
{
        int rc = refresh_one(r, id ? id : bid, h, errstr, errsz);

        if (rc == JB_ENOTFOUND)
                return on_stale(r, bid, bucket, dir, k, stale, errstr, errsz);
        if (!rc)
                (*count)++;
        return rc;
}

/* The length of the parent of dir's first k bytes (its last component and '/' dropped). */
static size_t parent_len(const char *dir, size_t k)
{
        while (k && dir[k - 1] != '/')
                k--;
        return k ? k - 1 : 0;
}

/* One try of refresher_folder(); *stale set when a cached id turned out stale. */
static int folder_try(struct refresher *r, const char *provider, const char *bucket, const char *dir,
                      int deleted, const struct refresher_hooks *h, uint64_t *count, int *stale,
                      char *errstr, size_t errsz)
{
        const char *bid0;
        char *bid = NULL, *id = NULL;
        size_t len = strlen(dir), k;
        int rc;

        *stale = 0;
        rc = bucket_id(r, provider, bucket, &bid0, errstr, errsz);
        if (rc)
                return rc;
        bid = strdup(bid0); /* the provider cache may be re-read below */
        if (!bid)
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        /* the deepest folder of dir that the index holds: k = length of its path */
        for (k = len; k > 0;) {
                rc = path_id(r, bid, dir, k, 1, &id, errstr, errsz);
                if (rc != JB_ENOTFOUND)
                        break;
                k = parent_len(dir, k);
        }
        if (rc && rc != JB_ENOTFOUND)
                goto out;
        rc = JB_OK;
        /* refresh it, then each next component that exists after its parent's refresh */
        for (;;) {
                size_t next;

                rc = refresh_at(r, id, bid, bucket, dir, k, h, count, stale, errstr, errsz);
                if (rc)
                        goto out;
                if (k == len)
                        break;
                next = k ? k + 1 : 0;
                while (next < len && dir[next] != '/')
                        next++;
                free(id);
                id = NULL;
                rc = path_id(r, bid, dir, next, 0, &id, errstr, errsz);
                if (rc == JB_ENOTFOUND) {
                        rc = JB_OK; /* gone from S3 meanwhile: its parent is up to date */
                        deleted = 0;
                        break;
                }
                if (rc)
                        goto out;
                k = next;
        }
        /* a folder that lists empty after deletes may be gone on S3: refresh upwards */
        while (deleted && k > 0) {
                rc = folder_empty(r, id, errstr, errsz);
                if (rc == 0 || rc == JB_ENOTFOUND) {
                        rc = JB_OK;
                        break;
                }
                if (rc < 0)
                        goto out;
                k = parent_len(dir, k);
                free(id);
                id = NULL;
                if (k) {
                        rc = path_id(r, bid, dir, k, 1, &id, errstr, errsz);
                        if (rc)
                                goto out;
                }
                rc = refresh_at(r, id, bid, bucket, dir, k, h, count, stale, errstr, errsz);
                if (rc)
                        goto out;
        }
out:
        free(id);
        free(bid);
        return rc;
}

int refresher_folder(struct refresher *r, const char *provider, const char *bucket, const char *dir,
                     int deleted, const struct refresher_hooks *hooks, uint64_t *refreshed, char *errstr,
                     size_t errsz)
{
        uint64_t n = 0;
        char *d;
        int rc, stale, tries;

        if (refreshed)
                *refreshed = 0;
        if (!r || !provider || !bucket || !dir)
                return jb_seterr(JB_EINPUT, errstr, errsz, "refresher: missing argument");
        d = dir_norm(dir, strlen(dir));
        if (!d)
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        for (tries = 0;; tries++) {
                rc = folder_try(r, provider, bucket, d, deleted, hooks, &n, &stale, errstr, errsz);
                if (rc != JB_ENOTFOUND || !stale || tries >= 1)
                        break;
        }
        if (rc == JB_ENOTFOUND && stale)
                rc = jb_seterr(JB_ETRANSIENT, errstr, errsz,
                               "folder %s of bucket %s vanished twice while being refreshed",
                               *d ? d : "(bucket)", bucket);
        free(d);
        if (refreshed)
                *refreshed = n;
        return rc;
}

int refresher_object(struct refresher *r, const char *provider, const char *bucket, const char *key,
                     int deleted, const struct refresher_hooks *hooks, uint64_t *refreshed, char *errstr,
                     size_t errsz)
{
        char *dir;
        int rc;

        if (refreshed)
                *refreshed = 0;
        if (!key)
                return jb_seterr(JB_EINPUT, errstr, errsz, "refresher: missing key");
        dir = strndup(key, refresher_parent_len(key));
        if (!dir)
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        rc = refresher_folder(r, provider, bucket, dir, deleted, hooks, refreshed, errstr, errsz);
        free(dir);
        return rc;
}

/* ---------------------------------------------------------------- a whole bucket */

struct bent {
        char *id;
        int tries; /* attempts that failed transiently */
};

struct bslot {
        struct bent e;
        char *tok;
        int64_t t0, next_ms;
        int poll;
};

struct bwalk {
        struct refresher *r;
        const struct refresher_hooks *h;
        struct bent *q; /* queue: q[head..n) */
        size_t head, n, cap;
        struct bslot slot[REFRESHER_INFLIGHT];
        size_t nslot;
        uint64_t done;
        int streak; /* transient failures since the last folder refreshed */
        int rc;     /* of a listing callback */
};

static int bw_push(struct bwalk *w, const char *id, int tries)
{
        if (w->n == w->cap) {
                size_t nc;
                struct bent *nq;

                if (w->head > 0 && w->head * 2 >= w->n) { /* reuse the consumed front */
                        memmove(w->q, w->q + w->head, (w->n - w->head) * sizeof(*w->q));
                        w->n -= w->head;
                        w->head = 0;
                } else {
                        nc = w->cap ? 2 * w->cap : 64;
                        nq = realloc(w->q, nc * sizeof(*nq));
                        if (!nq)
                                return JB_ENOMEM;
                        w->q = nq;
                        w->cap = nc;
                }
        }
        w->q[w->n].id = strdup(id);
        if (!w->q[w->n].id)
                return JB_ENOMEM;
        w->q[w->n].tries = tries;
        w->n++;
        return JB_OK;
}

static int bw_subfolder(void *opaque, const struct aa_item *it)
{
        struct bwalk *w = opaque;

        if (it->type != AA_FOLDER)
                return 1; /* folders come first: the rest are files */
        if (bw_push(w, it->fi_id, 0)) {
                w->rc = JB_ENOMEM;
                return JB_ENOMEM;
        }
        return 0;
}

/* Entry e failed with rc: queue it again (transient, tries left), drop it (the folder is
 * gone, except the bucket folder itself), or return the error. e->id is consumed. */
static int bw_failed(struct bwalk *w, struct bent *e, int rc, int is_bucket)
{
        if (rc == JB_ENOTFOUND && !is_bucket) {
                free(e->id);
                return JB_OK;
        }
        if (rc == JB_ETRANSIENT && e->tries + 1 < BUCKET_TRIES && ++w->streak < BUCKET_STREAK) {
                rc = bw_push(w, e->id, e->tries + 1);
                free(e->id);
                return rc;
        }
        free(e->id);
        return rc;
}

/* Folder e was refreshed: count it, queue its subfolders. e->id is consumed. */
static int bw_refreshed(struct bwalk *w, struct bent *e, int is_bucket, char *errstr, size_t errsz)
{
        size_t n0 = w->n;
        int rc;

        w->r->ctr.refreshes++;
        w->rc = JB_OK;
        rc = aa_list(w->r->aa, e->id, 0, bw_subfolder, w, errstr, errsz);
        if (rc == JB_ENOMEM || w->rc == JB_ENOMEM) {
                free(e->id);
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        }
        if (rc) {
                while (w->n > n0) /* the listing broke: queue none of its folders */
                        free(w->q[--w->n].id);
                return bw_failed(w, e, rc, is_bucket);
        }
        w->done++;
        w->streak = 0;
        free(e->id);
        return JB_OK;
}

static void bw_clear(struct bwalk *w)
{
        size_t i;

        for (i = w->head; i < w->n; i++)
                free(w->q[i].id);
        free(w->q);
        for (i = 0; i < w->nslot; i++) {
                free(w->slot[i].e.id);
                free(w->slot[i].tok);
        }
}

static uint64_t bw_known(const struct bwalk *w)
{
        return w->done + (w->n - w->head) + w->nslot;
}

/* One pass over the bucket from folder bid. */
static int bucket_walk(struct bwalk *w, const char *bid, char *errstr, size_t errsz)
{
        struct refresher *r = w->r;
        const struct refresher_hooks *h = w->h;
        int64_t gap = r->per_s > 0 ? (int64_t)(1000.0 / r->per_s) : 0;
        int64_t next_start = jb_mono_ms(), last_report = jb_mono_ms(),
                timeout = aa_refresh_timeout_ms(r->aa);
        uint64_t last_done = 0, last_known = 0;
        int rc = bw_push(w, bid, 0);

        if (rc)
                return jb_seterr(rc, errstr, errsz, "out of memory");
        while (w->head < w->n || w->nslot) {
                int64_t now = jb_mono_ms(), wake;
                size_t i;

                /* start refreshes: paced, at most REFRESHER_INFLIGHT at once */
                while (w->nslot < REFRESHER_INFLIGHT && w->head < w->n && now >= next_start) {
                        struct bent e = w->q[w->head++];
                        int is_bucket = !strcmp(e.id, bid);
                        char *tok = NULL;

                        next_start = (next_start > now - gap ? next_start : now) + gap;
                        rc = aa_refresh_start(r->aa, e.id, &tok, errstr, errsz);
                        if (rc)
                                rc = bw_failed(w, &e, rc, is_bucket);
                        else if (!tok)
                                rc = bw_refreshed(w, &e, is_bucket, errstr, errsz);
                        else {
                                struct bslot *sl = &w->slot[w->nslot++];

                                sl->e = e;
                                sl->tok = tok;
                                sl->t0 = now;
                                sl->poll = 0;
                                sl->next_ms = now + aa_refresh_pause_ms(r->aa, 0);
                        }
                        if (rc)
                                return rc;
                        now = jb_mono_ms();
                }
                /* poll the due ones */
                for (i = 0; i < w->nslot;) {
                        struct bslot *sl = &w->slot[i];
                        int running = 1;

                        if (sl->next_ms > now) {
                                i++;
                                continue;
                        }
                        rc = aa_refresh_poll(r->aa, sl->e.id, sl->tok, &running, errstr, errsz);
                        if (!rc && running && now - sl->t0 >= timeout)
                                rc = jb_seterr(JB_ETRANSIENT, errstr, errsz,
                                               "the cloud refresh of folder %s did not finish "
                                               "within %lld s; Access Anywhere may be overloaded",
                                               sl->e.id, (long long)(timeout / 1000));
                        if (!rc && running) {
                                sl->next_ms = now + aa_refresh_pause_ms(r->aa, ++sl->poll);
                                i++;
                                continue;
                        }
                        {
                                struct bent e = sl->e;
                                int is_bucket = !strcmp(e.id, bid);

                                free(sl->tok);
                                w->slot[i] = w->slot[--w->nslot];
                                rc = rc ? bw_failed(w, &e, rc, is_bucket)
                                        : bw_refreshed(w, &e, is_bucket, errstr, errsz);
                        }
                        if (rc)
                                return rc;
                        now = jb_mono_ms();
                }
                if (h && h->progress &&
                    (w->done - last_done >= REFRESHER_PROGRESS_N ||
                     now - last_report >= REFRESHER_PROGRESS_MS)) {
                        last_known = bw_known(w);
                        h->progress(h->opaque, w->done, last_known);
                        last_done = w->done;
                        last_report = now;
                }
                if (w->head >= w->n && !w->nslot)
                        break;
                /* sleep until the next start or poll is due */
                wake = now + 1000;
                if (w->head < w->n && w->nslot < REFRESHER_INFLIGHT && next_start < wake)
                        wake = next_start;
                for (i = 0; i < w->nslot; i++)
                        if (w->slot[i].next_ms < wake)
                                wake = w->slot[i].next_ms;
                if (wake > now && pause_ms(h, (long)(wake - now)))
                        return stopped(errstr, errsz);
        }
        if (h && h->progress && (last_done != w->done || last_known != w->done))
                h->progress(h->opaque, w->done, w->done); /* the end, unless just said */
        return JB_OK;
}

int refresher_bucket(struct refresher *r, const char *provider, const char *bucket,
                     const struct refresher_hooks *hooks, uint64_t *refreshed, char *errstr,
                     size_t errsz)
{
        struct bwalk w;
        const char *bid0;
        char *bid;
        uint64_t total = 0;
        int rc, tries;

        if (refreshed)
                *refreshed = 0;
        if (!r || !provider || !bucket)
                return jb_seterr(JB_EINPUT, errstr, errsz, "refresher: missing argument");
        for (tries = 0;; tries++) {
                rc = bucket_id(r, provider, bucket, &bid0, errstr, errsz);
                if (rc)
                        break;
                bid = strdup(bid0);
                if (!bid) {
                        rc = jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                        break;
                }
                memset(&w, 0, sizeof(w));
                w.r = r;
                w.h = hooks;
                rc = bucket_walk(&w, bid, errstr, errsz);
                total += w.done;
                bw_clear(&w);
                free(bid);
                if (rc != JB_ENOTFOUND || tries >= 1)
                        break;
                /* the bucket folder itself is gone: read the providers again, once */
                rc = bucket_stale(r, bucket, errstr, errsz);
                if (rc)
                        break;
        }
        if (refreshed)
                *refreshed = total;
        return rc;
}
