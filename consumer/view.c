/*
 * view.c - the parser's server view (see view.h): building a ct_ctx from the listings
 * (providers and their buckets), each provider's last full sync (its background task) and
 * the configured self identities,
 * and the reference-counted holder that swaps views without stopping readers.
 *
 * Ownership: view_build() frees everything it asked the server for before it returns; the
 * ctx it returns is the caller's. Each struct view_ref owns one ctx and is freed (with it)
 * by whoever drops its last reference: view_release() or view_set() (the holder's own
 * reference) or view_free().
 */
#include <math.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "status.h"
#include "view.h"

/* ---- sync start ---- */

int64_t view_sync_start(const struct aa_lastsync *ls, time_t task_added, double rate,
                        enum view_start_src *src)
{
        enum view_start_src s = VIEW_START_NONE;
        int64_t start = -1;

        if (ls->started > 0) {
                s = VIEW_START_LASTSYNC;
                start = (int64_t)ls->started;
        } else if (task_added > 0) {
                s = VIEW_START_TASK;
                start = (int64_t)task_added;
        } else if (ls->completed > 0 && ls->files_indexed >= 0 && rate > 0 && isfinite(rate)) {
                double secs = (double)ls->files_indexed / rate;

                if (secs < (double)ls->completed) {
                        s = VIEW_START_ESTIMATE;
                        start = (int64_t)ls->completed - (int64_t)ceil(secs);
                }
        }
        if (src)
                *src = s;
        return start;
}

/* ---- building ---- */

static int add_self(struct ct_ctx *ctx, const struct view_opts *o, size_t *n)
{
        size_t i;
        int rc = JB_OK;

        for (i = 0; !rc && i < o->n_self_keys; i++)
                if (o->self_keys[i] && o->self_keys[i][0] &&
                    !(rc = ct_ctx_add_self_key(ctx, o->self_keys[i])))
                        (*n)++;
        for (i = 0; !rc && i < o->n_self_arns; i++)
                if (o->self_arns[i] && o->self_arns[i][0] &&
                    !(rc = ct_ctx_add_self_arn(ctx, o->self_arns[i])))
                        (*n)++;
        for (i = 0; !rc && i < o->n_self_agents; i++)
                if (o->self_agents[i] && o->self_agents[i][0] &&
                    !(rc = ct_ctx_add_self_agent(ctx, o->self_agents[i])))
                        (*n)++;
        return rc;
}

/* The provider and its last full sync, as the status (status.h) shows them. */
static void status_view(const struct aa_provider *p, const struct aa_lastsync *ls)
{
        const char *names[STATUS_PROVIDER_BUCKETS_MAX];
        size_t n = 0;

        for (size_t i = 0; i < p->nbuckets && n < STATUS_PROVIDER_BUCKETS_MAX; i++)
                names[n++] = p->buckets[i].name;
        status_provider(p->id, p->name, names, n, 0);
        if (ls && ls->completed > 0) {
                char from[128];

                snprintf(from, sizeof(from), "Access Anywhere task %s (last full sync)",
                         ls->taskid && *ls->taskid ? ls->taskid : "?");
                status_last_sync(p->id, &(struct status_sync){(int64_t)ls->started * 1000,
                                                              (int64_t)ls->completed * 1000,
                                                              ls->files_indexed, from});
        }
}

static int add_provider(struct aa_client *aa, const struct view_opts *o, struct ct_ctx *ctx,
                        const struct aa_provider *p, struct view_info *info, char *errstr, size_t errsz)
{
        struct aa_lastsync ls;
        enum view_start_src src;
        int64_t start;
        size_t i;
        int rc = JB_OK;

        for (i = 0; !rc && i < p->nbuckets; i++)
                rc = ct_ctx_map_bucket(ctx, p->buckets[i].name, p->id);
        info->buckets += p->nbuckets;
        if (rc)
                return jb_seterr(rc, errstr, errsz, "out of memory");
        rc = aa_last_sync(aa, p, &ls, errstr, errsz);
        if (rc == JB_ENOTFOUND) {
                aa_lastsync_clear(&ls); /* no full sync listed: no cutoff, every change counts */
                rc = JB_OK;
        }
        if (rc)
                return rc;
        status_view(p, &ls);
        start = view_sync_start(&ls, 0, o->indexing_rate, &src);
        aa_lastsync_clear(&ls);
        info->starts[src]++;
        if (start >= 0 && ct_ctx_set_sync_start(ctx, p->id, start))
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        return JB_OK;
}

int view_build(struct aa_client *aa, const struct view_opts *o, struct ct_ctx **out,
               struct view_info *info, char *errstr, size_t errsz)
{
        struct aa_provider *pv = NULL;
        struct view_info vi;
        struct ct_ctx *ctx;
        size_t np = 0, i;
        int rc;

        *out = NULL;
        memset(&vi, 0, sizeof(vi));
        rc = aa_providers(aa, &pv, &np, errstr, errsz);
        if (rc)
                return rc;
        ctx = ct_ctx_new();
        if (!ctx) {
                aa_providers_free(pv, np);
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        }
        ct_ctx_use_map(ctx); /* the providers' buckets, all of them: no bucket, no provider */
        if (add_self(ctx, o, &vi.self_ids))
                rc = jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        for (i = 0; !rc && i < np; i++)
                rc = add_provider(aa, o, ctx, &pv[i], &vi, errstr, errsz);
        vi.providers = np;
        aa_providers_free(pv, np);
        if (rc) {
                ct_ctx_free(ctx);
                return rc;
        }
        if (info)
                *info = vi;
        *out = ctx;
        return JB_OK;
}

/* ---- the holder ---- */

struct view_ref {
        struct ct_ctx *ctx;
        unsigned refs;
};

struct view {
        pthread_mutex_t mu;
        struct view_ref *cur; /* holds one reference of its own */
};

static void ref_drop(struct view *v, struct view_ref *r)
{
        unsigned left;

        if (!r)
                return;
        pthread_mutex_lock(&v->mu);
        left = --r->refs;
        pthread_mutex_unlock(&v->mu);
        if (left == 0) {
                ct_ctx_free(r->ctx);
                free(r);
        }
}

struct view *view_new(void)
{
        struct view *v = calloc(1, sizeof(*v));

        if (v)
                pthread_mutex_init(&v->mu, NULL);
        return v;
}

void view_free(struct view *v)
{
        if (!v)
                return;
        ref_drop(v, v->cur);
        pthread_mutex_destroy(&v->mu);
        free(v);
}

int view_set(struct view *v, struct ct_ctx *ctx)
{
        struct view_ref *r = calloc(1, sizeof(*r)), *old;

        if (!r) {
                ct_ctx_free(ctx);
                return JB_ENOMEM;
        }
        r->ctx = ctx;
        r->refs = 1;
        pthread_mutex_lock(&v->mu);
        old = v->cur;
        v->cur = r;
        pthread_mutex_unlock(&v->mu);
        ref_drop(v, old);
        return JB_OK;
}

int view_ready(struct view *v)
{
        int ready;

        pthread_mutex_lock(&v->mu);
        ready = v->cur != NULL;
        pthread_mutex_unlock(&v->mu);
        return ready;
}

const struct ct_ctx *view_acquire(struct view *v, struct view_ref **ref)
{
        struct view_ref *r;

        pthread_mutex_lock(&v->mu);
        r = v->cur;
        if (r)
                r->refs++;
        pthread_mutex_unlock(&v->mu);
        *ref = r;
        return r ? r->ctx : NULL;
}

void view_release(struct view *v, struct view_ref *ref)
{
        ref_drop(v, ref);
}
