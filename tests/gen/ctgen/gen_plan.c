/*
 * gen_plan.c - S3 activity over a time window, turned into CloudTrail log files.
 *
 * gen_window_run() draws actions in time order (reads, writes, multipart uploads, copies,
 * failed calls, other services, Access Anywhere's own writes, buckets no provider manages),
 * applies each change to the in-memory truth (and to the index when Access Anywhere would
 * know it: before the provider's last full sync, or written by Access Anywhere itself), and
 * appends the records and the log files that carry them to a struct gen_plan. Nothing touches
 * the disk until gen_plan_write(), which applies the truth changes, writes the log files
 * (atomically, with their delivery time as mtime) and appends the expected results under
 * DIR/ctgen/. With log file validation on (w->dg, history --digests) it also writes the
 * hourly CloudTrail digest files of those log files (real SHA-256, chained, backfills), the
 * scenarios that break them, and their manifest (README.md). A later "live" mode can execute
 * the same plan against the clock instead.
 *
 * A gen_plan owns its records (and their strings); gen_plan_free() releases them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ctgen.h"
#include "state.h"

enum action {
        A_GET,
        A_HEAD,
        A_LIST,
        A_GETACL,
        A_PUT,
        A_POST,
        A_COPY,
        A_DELETE,
        A_DELETEMANY,
        A_MPU,
        A_MPU_ABORT,
        A_ACL_TAG,
        A_FAIL_WRITE,
        A_FAIL_GET,
        A_NOT_S3,
        A_SELF,
        A_UNMANAGED,
        A_DELETE_MISSING,
        A_MALFORMED,
        A_N
};
/* permille weights; they add up to 1000 */
static const unsigned action_pm[A_N] = {
        [A_GET] = 260,       [A_HEAD] = 90,          [A_LIST] = 50,     [A_GETACL] = 15,
        [A_PUT] = 183,       [A_POST] = 10,          [A_COPY] = 30,     [A_DELETE] = 50,
        [A_DELETEMANY] = 8,  [A_MPU] = 25,           [A_MPU_ABORT] = 5, [A_ACL_TAG] = 30,
        [A_FAIL_WRITE] = 30, [A_FAIL_GET] = 25,      [A_NOT_S3] = 80,   [A_SELF] = 60,
        [A_UNMANAGED] = 40,  [A_DELETE_MISSING] = 5, [A_MALFORMED] = 4,
};

struct actx { /* one call of gen_window_run */
        struct gen_world *w;
        struct gen_rng *rng;
        const struct gen_window *win;
        struct gen_plan *plan;
};

static struct gen_rec *new_rec(struct actx *a, int64_t t, int src, int ev, int bucket, int ident)
{
        struct gen_plan *p = a->plan;
        struct gen_rec *r;

        if (p->nr == p->capr) {
                p->capr = p->capr ? p->capr * 2 : 1024;
                p->r = gen_xrealloc(p->r, p->capr * sizeof(*p->r));
        }
        r = &p->r[p->nr++];
        memset(r, 0, sizeof(*r));
        r->t = t;
        r->rnd = gen_rng_next(a->rng);
        r->src = (uint8_t)src;
        r->ev = (uint8_t)ev;
        r->bucket = (int16_t)bucket;
        r->src_bucket = -1;
        r->ident = (int16_t)ident;
        r->stream = bucket >= 0 ? (int16_t)a->w->bucket[bucket].stream : 0;
        return r;
}

/* a data bucket some provider manages (not the log bucket) */
static int pick_managed(struct actx *a, int prov)
{
        int cand[GEN_MAX_BUCKETS], n = 0, b;

        for (b = 0; b < a->w->nbucket; b++)
                if (a->w->bucket[b].prov >= 0 && !a->w->bucket[b].log &&
                    (prov < 0 || a->w->bucket[b].prov == prov))
                        cand[n++] = b;
        return cand[gen_rng_below(a->rng, (uint64_t)n)];
}

static int pick_unmanaged(struct actx *a)
{
        int cand[GEN_MAX_BUCKETS], n = 0, b;

        for (b = 0; b < a->w->nbucket; b++)
                if (a->w->bucket[b].prov < 0)
                        cand[n++] = b;
        return cand[gen_rng_below(a->rng, (uint64_t)n)];
}

/* someone (not Access Anywhere) of the account that owns the bucket */
static int pick_person(struct actx *a, int bucket, int console)
{
        int acct = a->w->stream[a->w->bucket[bucket].stream].acct, i, cand[GEN_MAX_IDENTS], n = 0;

        for (i = 0; i < a->w->nident; i++) {
                const struct gen_ident *id = &a->w->ident[i];

                if (id->self < 0 && id->acct == acct && (!console || id->kind == GEN_ID_CONSOLE))
                        cand[n++] = i;
        }
        return cand[gen_rng_below(a->rng, (uint64_t)n)];
}

static int pick_self(struct actx *a, int prov)
{
        int i, cand[GEN_MAX_IDENTS], n = 0;

        for (i = 0; i < a->w->nident; i++)
                if (a->w->ident[i].self == prov)
                        cand[n++] = i;
        return cand[gen_rng_below(a->rng, (uint64_t)n)];
}

static const struct gen_obj *pick_obj(struct actx *a, int bucket)
{
        struct gen_keyset *ks = &a->w->bucket[bucket].truth;

        if (!ks->n)
                return NULL;
        return &ks->v[gen_rng_below(a->rng, ks->n)];
}

static uint64_t pick_size(struct actx *a)
{
        uint64_t x = gen_rng_below(a->rng, 1000);

        if (a->win->batch == GEN_BATCH_TINY) /* a flood writes many small objects */
                return gen_rng_below(a->rng, 2048);
        if (x < 30)
                return 0;
        if (x < 780)
                return 1 + gen_rng_below(a->rng, 4096);
        if (x < 980)
                return 4096 + gen_rng_below(a->rng, 60000);
        return 65536 + gen_rng_below(a->rng, 400000);
}

static void key_modes(struct actx *a, struct gen_rec *r, int allow)
{
        uint64_t x = gen_rng_below(a->rng, 1000);

        r->km = KM_PARAM;
        if (allow && x < 50)
                r->km = KM_RES;
        else if (allow && x < 70)
                r->km = KM_NULLRES;
        if (allow && r->km == KM_PARAM && gen_rng_pm(a->rng, 20))
                r->bm = BM_RES;
}

static void success_mode(struct actx *a, struct gen_rec *r)
{
        uint64_t x = gen_rng_below(a->rng, 1000);

        r->err = x < 25 ? ERR_NULL : x < 40 ? ERR_EMPTY : ERR_NONE;
}

/* the index learns a change made before the provider's last full sync, or by itself */
static int index_knows(struct actx *a, int bucket, int64_t t, int ident)
{
        const struct gen_bucket *b = &a->w->bucket[bucket];

        return b->prov >= 0 && (t < a->w->prov[b->prov].sync_start || a->w->ident[ident].self >= 0);
}

static void eff_put(struct actx *a, struct gen_rec *r, int bucket, const char *key)
{
        struct gen_world *w = a->w;

        if (w->bucket[bucket].prov < 0)
                return; /* no truth kept for buckets no provider manages */
        r->eff = EFF_PUT;
        r->ver = ++w->ver;
        gen_ks_put(&w->bucket[bucket].truth, key, r->size, r->t, r->ver);
        if (index_knows(a, bucket, r->t, r->ident))
                gen_ks_put(&w->bucket[bucket].index, key, r->size, r->t, r->ver);
}

static void eff_del(struct actx *a, struct gen_rec *r, int bucket, const char *key)
{
        struct gen_world *w = a->w;

        if (w->bucket[bucket].prov < 0)
                return;
        r->eff = EFF_DEL;
        gen_ks_del(&w->bucket[bucket].truth, key);
        if (index_knows(a, bucket, r->t, r->ident))
                gen_ks_del(&w->bucket[bucket].index, key);
}

static void act_put(struct actx *a, int64_t t, int bucket, int ident, int ev)
{
        const struct gen_obj *o = gen_rng_pm(a->rng, 400) ? pick_obj(a, bucket) : NULL;
        struct gen_rec *r = new_rec(a, t, GEN_SRC_S3, ev, bucket, ident);

        r->key = o ? gen_xstrdup(o->key) : gen_new_key(a->rng);
        r->size = pick_size(a);
        key_modes(a, r, 1);
        success_mode(a, r);
        eff_put(a, r, bucket, r->key);
}

static void act_delete(struct actx *a, int64_t t, int bucket, int ident)
{
        const struct gen_obj *o = pick_obj(a, bucket);
        struct gen_rec *r;

        if (!o) {
                act_put(a, t, bucket, ident, EV_PUT);
                return;
        }
        r = new_rec(a, t, GEN_SRC_S3, EV_DELETE, bucket, ident);
        r->key = gen_xstrdup(o->key);
        key_modes(a, r, 1);
        success_mode(a, r);
        eff_del(a, r, bucket, r->key);
}

static void act_copy(struct actx *a, int64_t t, int bucket, int ident)
{
        int sb = pick_managed(a, -1);
        const struct gen_obj *o = pick_obj(a, sb);
        struct gen_rec *r;

        if (!o) {
                act_put(a, t, bucket, ident, EV_PUT);
                return;
        }
        r = new_rec(a, t, GEN_SRC_S3, EV_COPY, bucket, ident);
        r->src_bucket = (int16_t)sb;
        r->src_key = gen_xstrdup(o->key);
        r->size = o->size;
        if (gen_rng_pm(a->rng, 500) && strlen(o->key) < 900) {
                size_t n = strlen(o->key) + 8;

                r->key = gen_xmalloc(n);
                snprintf(r->key, n, "%s%s", gen_rng_pm(a->rng, 500) ? "copy/" : "old/", o->key);
        } else {
                r->key = gen_new_key(a->rng);
        }
        success_mode(a, r);
        eff_put(a, r, bucket, r->key);
}

static void act_deletemany(struct actx *a, int64_t t, int bucket, int ident)
{
        struct gen_rec *r = new_rec(a, t, GEN_SRC_S3, EV_DELETEMANY, bucket, ident);
        struct gen_world *w = a->w;
        uint32_t n = 1 + (uint32_t)gen_rng_below(a->rng, 5), i;

        success_mode(a, r);
        if (w->bucket[bucket].prov < 0)
                return;
        r->eff = EFF_DELMANY;
        r->dkeys = gen_xcalloc(n, sizeof(*r->dkeys));
        for (i = 0; i < n; i++) {
                const struct gen_obj *o = pick_obj(a, bucket);

                if (!o)
                        break;
                r->dkeys[r->ndkeys++] = gen_xstrdup(o->key);
                if (index_knows(a, bucket, t, ident))
                        gen_ks_del(&w->bucket[bucket].index, o->key);
                gen_ks_del(&w->bucket[bucket].truth, r->dkeys[r->ndkeys - 1]);
        }
}

static void act_mpu(struct actx *a, int64_t t, int bucket, int ident, int abort_it)
{
        uint64_t upload = gen_rng_next(a->rng);
        char *key = gen_new_key(a->rng);
        uint32_t parts = 1 + (uint32_t)gen_rng_below(a->rng, abort_it ? 2 : 4), i;
        uint64_t size = 0;
        struct gen_rec *r;

        r = new_rec(a, t, GEN_SRC_S3, EV_CREATEMPU, bucket, ident);
        r->key = gen_xstrdup(key);
        r->upload = upload;
        for (i = 1; i <= parts; i++) {
                r = new_rec(a, t + i, GEN_SRC_S3, EV_UPLOADPART, bucket, ident);
                r->key = gen_xstrdup(key);
                r->upload = upload;
                r->part = i;
                r->size = a->win->batch == GEN_BATCH_TINY ? 1024 + gen_rng_below(a->rng, 1024)
                                                          : 65536 + gen_rng_below(a->rng, 65536);
                size += r->size;
        }
        r = new_rec(a, t + parts + 1, GEN_SRC_S3, abort_it ? EV_ABORTMPU : EV_COMPLETEMPU, bucket,
                    ident);
        r->key = key;
        r->upload = upload;
        r->size = size;
        if (!abort_it) {
                key_modes(a, r, 1);
                eff_put(a, r, bucket, key);
        }
}

static void act_read(struct actx *a, int64_t t, int bucket, int ident, int ev)
{
        const struct gen_obj *o = pick_obj(a, bucket);
        struct gen_rec *r = new_rec(a, t, GEN_SRC_S3, ev, bucket, ident);

        if (ev == EV_LIST) {
                const char *k = o ? o->key : "reports/";
                const char *s = strchr(k, '/');
                size_t n = s ? (size_t)(s - k) + 1 : 0;

                r->key = gen_xmalloc(n + 1);
                memcpy(r->key, k, n);
                r->key[n] = '\0';
                return;
        }
        if (ev == EV_GETBUCKETACL)
                return;
        r->key = o ? gen_xstrdup(o->key) : gen_new_key(a->rng);
        r->size = o ? o->size : 0;
        if (!o)
                r->err = ERR_NOSUCHKEY;
        if (ev == EV_PUTACL || ev == EV_PUTTAGGING)
                key_modes(a, r, 1);
}

static void act_not_s3(struct actx *a, int64_t t)
{
        static const int evs[] = {EV_EC2_DESCRIBE,  EV_EC2_DESCRIBE,     EV_EC2_RUN,
                                  EV_IAM_CREATEKEY, EV_IAM_LISTUSERS,    EV_STS_ASSUME,
                                  EV_KMS_DECRYPT,   EV_KMS_DECRYPT,      EV_S3X_PUT,
                                  EV_S3X_PUT,       EV_S3X_CREATESESSION};
        int ev = evs[gen_rng_below(a->rng, sizeof(evs) / sizeof(evs[0]))];
        int stream, src, b, ident;
        struct gen_rec *r;

        if (ev == EV_IAM_CREATEKEY || ev == EV_IAM_LISTUSERS || ev == EV_STS_ASSUME)
                stream = gen_rng_pm(a->rng, 500) ? 0 : 3; /* the us-east-1 streams */
        else
                stream = (int)gen_rng_below(a->rng, (uint64_t)a->w->nstream);
        src = ev == EV_EC2_DESCRIBE || ev == EV_EC2_RUN          ? GEN_SRC_EC2
              : ev == EV_IAM_CREATEKEY || ev == EV_IAM_LISTUSERS ? GEN_SRC_IAM
              : ev == EV_STS_ASSUME                              ? GEN_SRC_STS
              : ev == EV_KMS_DECRYPT                             ? GEN_SRC_KMS
                                                                 : GEN_SRC_S3EXPRESS;
        /* a person of the stream's account: borrow a bucket of that account for the pick */
        for (b = 0; b < a->w->nbucket; b++)
                if (a->w->stream[a->w->bucket[b].stream].acct == a->w->stream[stream].acct)
                        break;
        ident = pick_person(a, b, 0);
        if (ev == EV_S3X_PUT && gen_rng_pm(a->rng, 300))
                ident = pick_self(a, 0); /* even Access Anywhere's key does not make it S3 */
        r = new_rec(a, t, src, ev, -1, ident);
        r->stream = (int16_t)stream;
        if (ev == EV_S3X_PUT)
                r->key = gen_new_key(a->rng);
        if (ev == EV_EC2_RUN && gen_rng_pm(a->rng, 500))
                r->err = ERR_DENIED;
}

static void act_self(struct actx *a, int64_t t)
{
        int tiny = a->win->batch == GEN_BATCH_TINY;
        int prov = (int)gen_rng_below(a->rng, (uint64_t)a->w->nprov);
        /* a flood only lets Access Anywhere write where no index is kept (see README) */
        int bucket = tiny ? pick_unmanaged(a) : pick_managed(a, prov);
        int ident = pick_self(a, prov);
        uint64_t x = gen_rng_below(a->rng, 100);

        if (x < 60)
                act_put(a, t, bucket, ident, EV_PUT);
        else if (x < 80)
                act_delete(a, t, bucket, ident);
        else if (x < 88)
                act_copy(a, t, bucket, ident);
        else if (x < 95)
                act_mpu(a, t, bucket, ident, 0);
        else
                act_deletemany(a, t, bucket, ident);
}

/* one action at time t: one record or a short sequence */
static void gen_action(struct actx *a, int64_t t)
{
        uint64_t x = gen_rng_below(a->rng, 1000), acc = 0;
        int act, bucket, ident;
        struct gen_rec *r;

        for (act = 0; act < A_N - 1; act++) {
                acc += action_pm[act];
                if (x < acc)
                        break;
        }
        bucket = pick_managed(a, -1);
        ident = pick_person(a, bucket, 0);
        switch (act) {
        case A_GET:
                act_read(a, t, bucket, ident, EV_GET);
                break;
        case A_HEAD:
                act_read(a, t, bucket, ident, EV_HEAD);
                break;
        case A_LIST:
                act_read(a, t, bucket, ident, EV_LIST);
                break;
        case A_GETACL:
                act_read(a, t, bucket, ident, EV_GETBUCKETACL);
                break;
        case A_PUT:
                act_put(a, t, bucket, ident, EV_PUT);
                break;
        case A_POST:
                act_put(a, t, bucket, ident, EV_POST);
                break;
        case A_COPY:
                act_copy(a, t, bucket, ident);
                break;
        case A_DELETE:
                act_delete(a, t, bucket, ident);
                break;
        case A_DELETEMANY:
                act_deletemany(a, t, bucket, pick_person(a, bucket, 1));
                break;
        case A_MPU:
                act_mpu(a, t, bucket, ident, 0);
                break;
        case A_MPU_ABORT:
                act_mpu(a, t, bucket, ident, 1);
                break;
        case A_ACL_TAG:
                act_read(a, t, bucket, ident, gen_rng_pm(a->rng, 500) ? EV_PUTACL : EV_PUTTAGGING);
                break;
        case A_FAIL_WRITE: {
                int other = pick_person(a, pick_managed(a, -1), 0); /* often another account */
                const struct gen_obj *o = pick_obj(a, bucket);

                r = new_rec(a, t, GEN_SRC_S3, gen_rng_pm(a->rng, 600) ? EV_PUT : EV_DELETE, bucket,
                            other);
                r->key = o && gen_rng_pm(a->rng, 500) ? gen_xstrdup(o->key) : gen_new_key(a->rng);
                r->err = ERR_DENIED;
                break;
        }
        case A_FAIL_GET:
                r = new_rec(a, t, GEN_SRC_S3, EV_GET, bucket, ident);
                r->key = gen_new_key(a->rng);
                r->err = ERR_NOSUCHKEY;
                break;
        case A_NOT_S3:
                act_not_s3(a, t);
                break;
        case A_SELF:
                act_self(a, t);
                break;
        case A_UNMANAGED: {
                int ub = pick_unmanaged(a), ui = pick_person(a, ub, 0);
                uint64_t y = gen_rng_below(a->rng, 10);

                if (y < 5) {
                        act_put(a, t, ub, ui, EV_PUT);
                } else if (y < 7) {
                        r = new_rec(a, t, GEN_SRC_S3, EV_DELETE, ub, ui);
                        r->key = gen_new_key(a->rng);
                } else if (y < 8) {
                        act_deletemany(a, t, ub, ui);
                } else {
                        act_read(a, t, ub, ui, EV_GET);
                }
                break;
        }
        case A_DELETE_MISSING:
                /* S3 answers 204 for a key that is not there: logged as a success */
                r = new_rec(a, t, GEN_SRC_S3, EV_DELETE, bucket, ident);
                r->key = gen_new_key(a->rng);
                if (gen_ks_find(&a->w->bucket[bucket].truth, r->key) >= 0)
                        eff_del(a, r, bucket, r->key);
                break;
        default: /* A_MALFORMED: a write whose key is nowhere in the record */
                r = new_rec(a, t, GEN_SRC_S3, EV_PUT, bucket, ident);
                r->key = gen_new_key(a->rng);
                r->km = KM_NONE;
                break;
        }
}

/* ---------- records -> files ---------- */

static struct gen_plan *sort_plan; /* qsort has no context argument */

static int cmp_batch(const void *pa, const void *pb)
{
        const struct gen_rec *a = &sort_plan->r[*(const uint32_t *)pa];
        const struct gen_rec *b = &sort_plan->r[*(const uint32_t *)pb];

        if (a->stream != b->stream)
                return a->stream < b->stream ? -1 : 1;
        if (a->t / 300 != b->t / 300)
                return a->t / 300 < b->t / 300 ? -1 : 1;
        if (a->t != b->t)
                return a->t < b->t ? -1 : 1;
        return *(const uint32_t *)pa < *(const uint32_t *)pb ? -1 : 1;
}

static struct gen_file *new_file(struct gen_plan *p)
{
        if (p->nf == p->capf) {
                p->capf = p->capf ? p->capf * 2 : 256;
                p->f = gen_xrealloc(p->f, p->capf * sizeof(*p->f));
        }
        memset(&p->f[p->nf], 0, sizeof(p->f[0]));
        return &p->f[p->nf++];
}

static void order_reserve(struct gen_plan *p)
{
        p->order = gen_xrealloc(p->order, (p->nr ? p->nr : 1) * sizeof(*p->order));
}

static void set_visible(struct actx *a, struct gen_file *f)
{
        const struct gen_window *win = a->win;

        f->rnd = gen_rng_next(a->rng);
        if (f->w > win->now)
                f->w = win->now;
        f->v = f->w + (int64_t)(f->rnd % 45);
        if (win->late_hi > win->late_lo)
                f->v = win->late_lo + (int64_t)((f->rnd >> 8) % (uint64_t)(win->late_hi - win->late_lo));
        else if (gen_rng_pm(a->rng, win->delay_pm))
                f->v = f->w + 3600 + (int64_t)((f->rnd >> 8) % (7 * 3600)); /* hours late */
        if (f->v > win->now)
                f->v = win->now;
        if (f->v < f->w)
                f->v = f->w;
}

static void batch_5min(struct actx *a, size_t r0)
{
        struct gen_plan *p = a->plan;
        size_t i, j, n = p->nr - r0;
        uint32_t *ord;

        order_reserve(p);
        ord = p->order + r0;
        for (i = 0; i < n; i++)
                ord[i] = (uint32_t)(r0 + i);
        sort_plan = p;
        if (n)
                qsort(ord, n, sizeof(*ord), cmp_batch);
        for (i = 0; i < n; i = j) {
                const struct gen_rec *first = &p->r[ord[i]];
                struct gen_file *f;
                int64_t batch = first->t / 300;

                for (j = i + 1; j < n && j - i < 400; j++) { /* busy: more than one file */
                        const struct gen_rec *r = &p->r[ord[j]];

                        if (r->stream != first->stream || r->t / 300 != batch)
                                break;
                }
                f = new_file(p);
                f->stream = first->stream;
                f->first = (uint32_t)(r0 + i);
                f->n = (uint32_t)(j - i);
                f->w = (batch + 1) * 300 + 30 + (int64_t)gen_rng_below(a->rng, 200);
                set_visible(a, f);
        }
}

void gen_window_run(struct gen_world *w, struct gen_rng *rng, const struct gen_window *win,
                    struct gen_plan *plan)
{
        struct actx a = {w, rng, win, plan};
        size_t r0 = plan->nr;

        if (win->batch == GEN_BATCH_TINY) {
                long made = 0;
                int64_t span = win->t1 - win->t0 - 20;

                if (span < 1)
                        span = 1;
                while (made < win->files) {
                        int64_t t = win->t0 + (int64_t)((span * (int64_t)made) / win->files);
                        size_t q = plan->nr, k, i;
                        long left = win->files - made;

                        gen_action(&a, t);
                        k = plan->nr - q;
                        if (!k)
                                continue;
                        order_reserve(plan);
                        for (i = q; i < plan->nr; i++)
                                plan->order[i] = (uint32_t)i;
                        for (i = 0; i < k;) {
                                struct gen_file *f = new_file(plan);
                                size_t m = 1 + gen_rng_below(rng, 3), e;

                                if (left <= 1 || m > k - i)
                                        m = k - i;
                                f->stream = plan->r[q + i].stream;
                                f->first = (uint32_t)(q + i);
                                f->n = (uint32_t)m;
                                for (e = 0; e < m; e++)
                                        if (plan->r[q + i + e].t > f->w)
                                                f->w = plan->r[q + i + e].t;
                                f->w += 5 + (int64_t)gen_rng_below(rng, 90);
                                set_visible(&a, f);
                                i += m;
                                left--;
                                made++;
                        }
                }
                return;
        }
        {
                uint64_t mean_ms = 60000 / (win->per_min ? win->per_min : 1);
                int64_t tms = win->t0 * 1000;

                for (;;) {
                        tms += 1 + (int64_t)gen_rng_below(rng, 2 * mean_ms);
                        if (tms / 1000 >= win->t1 - 10)
                                break;
                        gen_action(&a, tms / 1000);
                }
        }
        batch_5min(&a, r0);
}

void gen_plan_free(struct gen_plan *plan)
{
        size_t i;

        for (i = 0; i < plan->nr; i++)
                gen_rec_free(&plan->r[i]);
        free(plan->r);
        free(plan->order);
        free(plan->f);
        memset(plan, 0, sizeof(*plan));
}

/* ---------- writing ---------- */

static void fname_rand(char out[17], uint64_t seed)
{
        static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        uint64_t x = 0;
        int i;

        for (i = 0; i < 16; i++) {
                if (i % 8 == 0)
                        x = gen_mix64(seed + (uint64_t)i);
                out[i] = al[(x & 0xff) % 62];
                x >>= 8;
        }
        out[16] = '\0';
}

/* AWSLogs/[o-org/]ACCT/ */
static void log_prefix(const struct gen_world *w, int acct, struct gen_ob *o)
{
        GEN_LIT(o, "AWSLogs/");
        if (w->acct[acct].org) {
                gen_ob_str(o, w->org);
                gen_ob_ch(o, '/');
        }
        gen_ob_str(o, w->acct[acct].id);
        gen_ob_ch(o, '/');
}

static void date_folder(int64_t t, struct gen_ob *o)
{
        char ts[32];

        gen_fmt_iso(t, ts); /* YYYY-MM-DDTHH:MM:SSZ */
        gen_ob_put(o, ts, 4);
        gen_ob_ch(o, '/');
        gen_ob_put(o, ts + 5, 2);
        gen_ob_ch(o, '/');
        gen_ob_put(o, ts + 8, 2);
        gen_ob_ch(o, '/');
}

static void stamp(int64_t t, struct gen_ob *o, int secs)
{
        char ts[32];

        gen_fmt_iso(t, ts);
        gen_ob_put(o, ts, 4);
        gen_ob_put(o, ts + 5, 2);
        gen_ob_put(o, ts + 8, 2);
        gen_ob_ch(o, 'T');
        gen_ob_put(o, ts + 11, 2);
        gen_ob_put(o, ts + 14, 2);
        if (secs)
                gen_ob_put(o, ts + 17, 2);
        gen_ob_ch(o, 'Z');
}

static void ct_path(const struct gen_world *w, const struct gen_file *f, struct gen_ob *o)
{
        const struct gen_stream *st = &w->stream[f->stream];
        const char *acct = w->acct[st->acct].id;
        char rnd[17];

        log_prefix(w, st->acct, o);
        GEN_LIT(o, "CloudTrail/");
        gen_ob_str(o, st->region);
        gen_ob_ch(o, '/');
        date_folder(f->w, o);
        gen_ob_str(o, acct);
        GEN_LIT(o, "_CloudTrail_");
        gen_ob_str(o, st->region);
        gen_ob_ch(o, '_');
        stamp(f->w, o, 0);
        gen_ob_ch(o, '_');
        fname_rand(rnd, f->rnd);
        gen_ob_str(o, rnd);
        GEN_LIT(o, ".json.gz");
        gen_ob_ch(o, '\0');
        o->len--;
}

struct expect {
        struct gen_ob files, events, logidx;
        long stats[CL_N];
        char **sync;
        size_t nsync, capsync;
};

static void add_sync(struct expect *e, struct gen_ob *line)
{
        if (e->nsync == e->capsync) {
                e->capsync = e->capsync ? e->capsync * 2 : 256;
                e->sync = gen_xrealloc(e->sync, e->capsync * sizeof(*e->sync));
        }
        gen_ob_ch(line, '\0');
        e->sync[e->nsync++] = gen_xstrdup(line->p);
        line->len = 0;
}

static void expect_record(struct gen_world *w, struct expect *e, const struct gen_rec *r,
                          const char *file)
{
        const struct gen_bucket *b;
        struct gen_ob line = {0};
        char ts[32];
        int cls = gen_classify(w, r, 1);

        e->stats[cls]++;
        if (cls != CL_PUT && cls != CL_DELETE && cls != CL_BUCKET)
                return;
        b = &w->bucket[r->bucket];
        GEN_LIT(&e->events, "{\"file\":");
        gen_ob_jstr(&e->events, file);
        GEN_LIT(&e->events, ",\"bucket\":");
        gen_ob_jstr(&e->events, b->name);
        if (cls != CL_BUCKET) {
                GEN_LIT(&e->events, ",\"key\":");
                gen_ob_jstr(&e->events, r->key);
        }
        GEN_LIT(&e->events, ",\"op\":\"");
        gen_ob_str(&e->events, gen_class_name[cls]);
        GEN_LIT(&e->events, "\",\"time\":\"");
        gen_fmt_iso(r->t, ts);
        gen_ob_str(&e->events, ts);
        GEN_LIT(&e->events, "\",\"event\":\"");
        gen_ob_str(&e->events, gen_ev_name(r->ev));
        GEN_LIT(&e->events, "\",\"id\":\"");
        gen_rec_event_id(r, &e->events);
        GEN_LIT(&e->events, "\",\"account\":\"");
        gen_ob_str(&e->events, w->acct[w->stream[r->stream].acct].id);
        GEN_LIT(&e->events, "\",\"region\":\"");
        gen_ob_str(&e->events, w->stream[r->stream].region);
        GEN_LIT(&e->events, "\"}\n");

        GEN_LIT(&line, "{\"provider\":\"");
        gen_ob_str(&line, w->prov[b->prov].id);
        GEN_LIT(&line, "\",\"bucket\":");
        gen_ob_jstr(&line, b->name);
        if (cls != CL_BUCKET) {
                GEN_LIT(&line, ",\"key\":");
                gen_ob_jstr(&line, r->key);
        }
        gen_ob_ch(&line, '}');
        add_sync(e, &line);
        gen_ob_free(&line);
}

static int append_file(const char *path, const struct gen_ob *o, char *errstr, size_t errsz)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        const char *p = o->p;
        size_t n = o->len;

        if (fd < 0) {
                snprintf(errstr, errsz, "cannot open %s: %s", path, strerror(errno));
                return -1;
        }
        while (n) {
                ssize_t k = write(fd, p, n);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        snprintf(errstr, errsz, "cannot write %s: %s", path, strerror(errno));
                        close(fd);
                        return -1;
                }
                p += k;
                n -= (size_t)k;
        }
        if (close(fd)) {
                snprintf(errstr, errsz, "cannot write %s: %s", path, strerror(errno));
                return -1;
        }
        return 0;
}

static int cmp_cstr(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* events-args, the stats total, the merged sync set; called by init too (empty e) */
static int write_expect(struct gen_world *w, struct expect *e, char *errstr, size_t errsz)
{
        char path[4300], dir[4200];
        struct gen_ob o = {0};
        cJSON *old;
        size_t i, n;
        int p, b, c, rc = -1;

        snprintf(dir, sizeof(dir), "%s/ctgen", w->root);
        if (state_mkdirs(dir)) {
                snprintf(errstr, errsz, "cannot create %s: %s", dir, strerror(errno));
                return -1;
        }
        snprintf(path, sizeof(path), "%s/files.txt", dir);
        if (append_file(path, &e->files, errstr, errsz))
                return -1;
        snprintf(path, sizeof(path), "%s/expected-events.jsonl", dir);
        if (append_file(path, &e->events, errstr, errsz))
                return -1;

        /* stats: previous totals + this run */
        snprintf(path, sizeof(path), "%s/expected-stats.json", dir);
        {
                FILE *fp = fopen(path, "rb");
                char buf[4096];
                size_t k = fp ? fread(buf, 1, sizeof(buf) - 1, fp) : 0;

                if (fp)
                        fclose(fp);
                buf[k] = '\0';
                old = cJSON_Parse(buf);
        }
        GEN_LIT(&o, "{");
        for (c = 0; c < CL_N; c++) {
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(old, gen_class_name[c]);
                long prev = cJSON_IsNumber(v) ? (long)v->valuedouble : 0;

                gen_ob_printf(&o, "%s\"%s\":%ld", c ? "," : "", gen_class_name[c], prev + e->stats[c]);
        }
        GEN_LIT(&o, "}\n");
        cJSON_Delete(old);
        if (gen_write_file(dir, "expected-stats.json", o.p, o.len, -1, NULL, errstr, errsz))
                goto out;
        o.len = 0;

        /* sync set: union with what is there, sorted, unique */
        snprintf(path, sizeof(path), "%s/expected-sync.jsonl", dir);
        {
                FILE *fp = fopen(path, "rb");
                char *line = NULL;
                size_t cap = 0;
                ssize_t k;

                while (fp && (k = getline(&line, &cap, fp)) > 0) {
                        struct gen_ob l = {0};

                        while (k > 0 && (line[k - 1] == '\n' || line[k - 1] == '\r'))
                                line[--k] = '\0';
                        if (!k)
                                continue;
                        gen_ob_put(&l, line, (size_t)k);
                        add_sync(e, &l);
                        gen_ob_free(&l);
                }
                free(line);
                if (fp)
                        fclose(fp);
        }
        if (e->nsync)
                qsort(e->sync, e->nsync, sizeof(*e->sync), cmp_cstr);
        for (i = 0, n = 0; i < e->nsync; i++) {
                if (n && strcmp(e->sync[i], e->sync[n - 1]) == 0)
                        continue;
                gen_ob_str(&o, e->sync[i]);
                gen_ob_ch(&o, '\n');
                n++;
        }
        if (gen_write_file(dir, "expected-sync.jsonl", o.p ? o.p : "", o.len, -1, NULL, errstr, errsz))
                goto out;
        o.len = 0;

        /* events-args: one line of options for `jibe events` (no value contains a space) */
        for (p = 0; p < w->nprov; p++)
                gen_ob_printf(&o, "%s--self-key %s --self-arn %s --self-agent %s", p ? " " : "",
                              w->prov[p].access_key, w->prov[p].arn, w->prov[p].agent);
        for (b = 0; b < w->nbucket; b++)
                if (w->bucket[b].prov >= 0)
                        gen_ob_printf(&o, " --bucket %s=%s", w->bucket[b].name,
                                      w->prov[w->bucket[b].prov].id);
        for (p = 0; p < w->nprov; p++) {
                char ts[32];

                gen_fmt_iso(w->prov[p].sync_start, ts);
                gen_ob_printf(&o, " --sync-start %s=%s", w->prov[p].id, ts);
        }
        gen_ob_ch(&o, '\n');
        if (gen_write_file(dir, "events-args", o.p, o.len, -1, NULL, errstr, errsz))
                goto out;
        o.len = 0;

        /* jibe-self.cfg: Access Anywhere's own identities as a jibe configuration group (no
         * public call reports them, so a deployment's configuration must carry them) */
        gen_ob_printf(&o, "self = {\n  keys = [");
        for (p = 0; p < w->nprov; p++)
                gen_ob_printf(&o, "%s \"%s\"", p ? "," : "", w->prov[p].access_key);
        gen_ob_printf(&o, " ];\n  arns = [");
        for (p = 0; p < w->nprov; p++)
                gen_ob_printf(&o, "%s \"%s\"", p ? "," : "", w->prov[p].arn);
        gen_ob_printf(&o, " ];\n  agents = [");
        for (p = 0; p < w->nprov; p++)
                gen_ob_printf(&o, "%s \"%s\"", p ? "," : "", w->prov[p].agent);
        gen_ob_printf(&o, " ];\n};\n");
        if (gen_write_file(dir, "jibe-self.cfg", o.p, o.len, -1, NULL, errstr, errsz))
                goto out;
        rc = 0;
out:
        gen_ob_free(&o);
        return rc;
}

static void expect_free(struct expect *e)
{
        size_t i;

        gen_ob_free(&e->files);
        gen_ob_free(&e->events);
        gen_ob_free(&e->logidx);
        for (i = 0; i < e->nsync; i++)
                free(e->sync[i]);
        free(e->sync);
}

int gen_expect_init(struct gen_world *w, char *errstr, size_t errsz)
{
        struct expect e;
        int rc;

        memset(&e, 0, sizeof(e));
        rc = write_expect(w, &e, errstr, errsz);
        expect_free(&e);
        return rc;
}

static int cmp_visible(const void *pa, const void *pb)
{
        const struct gen_file *a = &sort_plan->f[*(const uint32_t *)pa];
        const struct gen_file *b = &sort_plan->f[*(const uint32_t *)pb];

        if (a->v != b->v)
                return a->v < b->v ? -1 : 1;
        if (a->w != b->w)
                return a->w < b->w ? -1 : 1;
        if (a->stream != b->stream)
                return a->stream < b->stream ? -1 : 1;
        return a->rnd < b->rnd ? -1 : a->rnd > b->rnd;
}

static void logidx_add(struct gen_world *w, struct expect *e, const char *rel, uint64_t size,
                       int64_t mtime)
{
        int prov = w->bucket[w->logbucket].prov;

        if (mtime >= w->prov[prov].sync_start)
                return; /* visible only after the last full sync: not in its index */
        GEN_LIT(&e->logidx, "{\"b\":");
        gen_ob_jstr(&e->logidx, w->bucket[w->logbucket].name);
        GEN_LIT(&e->logidx, ",\"k\":");
        gen_ob_jstr(&e->logidx, rel);
        GEN_LIT(&e->logidx, ",\"s\":");
        gen_ob_u64(&e->logidx, size);
        GEN_LIT(&e->logidx, ",\"m\":");
        gen_ob_u64(&e->logidx, (uint64_t)mtime);
        GEN_LIT(&e->logidx, "}\n");
}

/* digests: one per stream and hour that received log files, listing them */
static int write_digests(struct gen_world *w, struct gen_plan *plan, uint32_t *fo, struct gen_gz *gz,
                         struct expect *e, int64_t now, char *errstr, size_t errsz)
{
        struct gen_ob path = {0}, body = {0};
        size_t i, j;
        int rc = 0;

        for (i = 0; i < plan->nf && !rc; i = j) {
                const struct gen_file *f0 = &plan->f[fo[i]];
                const struct gen_stream *st = &w->stream[f0->stream];
                const char *acct = w->acct[st->acct].id;
                int64_t hour = f0->w / 3600, dt;
                char ts[32];

                for (j = i + 1; j < plan->nf; j++)
                        if (plan->f[fo[j]].stream != f0->stream || plan->f[fo[j]].w / 3600 != hour)
                                break;
                dt = (hour + 1) * 3600 + 120 + (int64_t)(f0->rnd % 600);
                if (dt > now)
                        continue; /* that hour's digest is not written yet */
                path.len = body.len = 0;
                log_prefix(w, st->acct, &path);
                GEN_LIT(&path, "CloudTrail-Digest/");
                gen_ob_str(&path, st->region);
                gen_ob_ch(&path, '/');
                date_folder(dt, &path);
                gen_ob_printf(&path, "%s_CloudTrail-Digest_%s_%s_%s_", acct, st->region,
                              w->acct[st->acct].org ? "org-trail" : "management-events", st->region);
                stamp(dt, &path, 1);
                GEN_LIT(&path, ".json.gz");
                gen_ob_ch(&path, '\0');
                GEN_LIT(&body, "{\"awsAccountId\":\"");
                gen_ob_str(&body, acct);
                gen_fmt_iso(hour * 3600, ts);
                gen_ob_printf(&body, "\",\"digestStartTime\":\"%s\"", ts);
                gen_fmt_iso((hour + 1) * 3600, ts);
                gen_ob_printf(&body,
                              ",\"digestEndTime\":\"%s\",\"digestS3Bucket\":\"%s\","
                              "\"digestS3Object\":",
                              ts, w->bucket[w->logbucket].name);
                gen_ob_jstr(&body, path.p);
                gen_ob_printf(&body,
                              ",\"digestPublicKeyFingerprint\":\"%016llx%016llx\","
                              "\"digestSignatureAlgorithm\":\"SHA256withRSA\","
                              "\"previousDigestHashAlgorithm\":\"SHA-256\",\"logFiles\":[",
                              (unsigned long long)gen_mix64((uint64_t)st->acct),
                              (unsigned long long)gen_mix64((uint64_t)f0->stream));
                for (; i < j; i++) {
                        struct gen_ob p2 = {0};

                        ct_path(w, &plan->f[fo[i]], &p2);
                        GEN_LIT(&body, "{\"s3Bucket\":");
                        gen_ob_jstr(&body, w->bucket[w->logbucket].name);
                        GEN_LIT(&body, ",\"s3Object\":");
                        gen_ob_jstr(&body, p2.p);
                        gen_ob_printf(&body,
                                      ",\"hashValue\":\"%016llx%016llx\","
                                      "\"hashAlgorithm\":\"SHA-256\"}%s",
                                      (unsigned long long)gen_mix64(plan->f[fo[i]].rnd),
                                      (unsigned long long)plan->f[fo[i]].rnd, i + 1 < j ? "," : "");
                        gen_ob_free(&p2);
                }
                GEN_LIT(&body, "]}");
                rc = gen_write_file(w->logdir, path.p, body.p, body.len, dt, gz, errstr, errsz);
                if (!rc)
                        logidx_add(w, e, path.p, gz->out_bytes, dt);
        }
        gen_ob_free(&path);
        gen_ob_free(&body);
        return rc;
}

/* files of other services and a CloudTrail Insight file: all to be ignored by jibe */
static int write_others(struct gen_world *w, int64_t t0, int64_t t1, struct gen_rng *rng,
                        struct gen_gz *gz, struct expect *e, char *errstr, size_t errsz)
{
        struct gen_ob path = {0}, body = {0};
        int64_t t;
        int rc = 0, i;

        for (t = t0 + 1800; t < t1 && !rc; t += 7200) {
                const char *acct = w->acct[0].id;
                char rnd[17];

                path.len = body.len = 0;
                fname_rand(rnd, gen_rng_next(rng));
                gen_ob_printf(&path, "AWSLogs/%s/vpcflowlogs/us-east-1/", acct);
                date_folder(t, &path);
                gen_ob_printf(&path, "%s_vpcflowlogs_us-east-1_fl-0a1b2c3d4e5f6a7b8_", acct);
                stamp(t, &path, 0);
                gen_ob_printf(&path, "_%.8s.log.gz", rnd);
                gen_ob_ch(&path, '\0');
                GEN_LIT(&body, "version account-id interface-id srcaddr dstaddr srcport dstport "
                               "protocol packets bytes start end action log-status\n");
                for (i = 0; i < 20; i++)
                        gen_ob_printf(&body,
                                      "2 %s eni-0f1e2d3c4b5a69788 10.0.%d.%d 10.0.9.%d 443 %d 6 "
                                      "%d %d %lld %lld ACCEPT OK\n",
                                      acct, i % 4, 10 + i, 20 + i, 40000 + i * 7, 3 + i, 900 + i * 31,
                                      (long long)t - 60, (long long)t);
                rc = gen_write_file(w->logdir, path.p, body.p, body.len, t, gz, errstr, errsz);
                if (!rc)
                        logidx_add(w, e, path.p, gz->out_bytes, t);
        }
        if (!rc && t1 - t0 > 3600) {
                /* an Insight file: it holds Records, but they are not API calls */
                const char *acct = w->acct[1].id;
                char rnd[17], ts[32];

                t = t0 + (t1 - t0) / 2;
                path.len = body.len = 0;
                fname_rand(rnd, gen_rng_next(rng));
                gen_ob_printf(&path, "AWSLogs/%s/%s/CloudTrail-Insight/us-west-2/", w->org, acct);
                date_folder(t, &path);
                gen_ob_printf(&path, "%s_CloudTrail-Insight_us-west-2_", acct);
                stamp(t, &path, 0);
                gen_ob_printf(&path, "_%s.json.gz", rnd);
                gen_ob_ch(&path, '\0');
                gen_fmt_iso(t - 600, ts);
                gen_ob_printf(&body,
                              "{\"Records\":[{\"eventVersion\":\"1.08\",\"eventTime\":\"%s\","
                              "\"awsRegion\":\"us-west-2\",\"eventID\":\"%016llx\","
                              "\"eventType\":\"AwsCloudTrailInsight\","
                              "\"recipientAccountId\":\"%s\",\"sharedEventID\":\"%016llx\","
                              "\"insightDetails\":{\"state\":\"Start\",\"eventSource\":"
                              "\"s3.amazonaws.com\",\"eventName\":\"PutObject\","
                              "\"insightType\":\"ApiCallRateInsight\"},"
                              "\"eventCategory\":\"Insight\"}]}",
                              ts, (unsigned long long)gen_rng_next(rng), acct,
                              (unsigned long long)gen_rng_next(rng));
                rc = gen_write_file(w->logdir, path.p, body.p, body.len, t, gz, errstr, errsz);
                if (!rc)
                        logidx_add(w, e, path.p, gz->out_bytes, t);
        }
        if (!rc) {
                /* a load balancer log in the organization's folder of account 3 */
                const char *acct = w->acct[2].id;

                t = t0 + (t1 - t0) / 3;
                path.len = body.len = 0;
                gen_ob_printf(&path, "AWSLogs/%s/elasticloadbalancing/eu-west-1/", acct);
                date_folder(t, &path);
                gen_ob_printf(&path, "%s_elasticloadbalancing_eu-west-1_app.web-alb.4f2d1c9e8b7a6350_",
                              acct);
                stamp(t, &path, 0);
                GEN_LIT(&path, "_10.0.1.23_2k9d8f7s.log.gz");
                gen_ob_ch(&path, '\0');
                GEN_LIT(&body, "https 2026-01-01T00:00:00.000000Z app/web-alb/4f2d1c9e8b7a6350 "
                               "203.0.113.9:50123 10.0.1.23:443 0.001 0.020 0.000 200 200 120 512 "
                               "\"GET https://www.example.com:443/ HTTP/1.1\" \"curl/8.0\"\n");
                rc = gen_write_file(w->logdir, path.p, body.p, body.len, t, gz, errstr, errsz);
                if (!rc)
                        logidx_add(w, e, path.p, gz->out_bytes, t);
        }
        gen_ob_free(&path);
        gen_ob_free(&body);
        return rc;
}

/* ---------- log file validation (--digests) ---------- */

enum { DG_NONE, DG_HIDDEN, DG_DELETED, DG_FLIPPED };
static const char *const dg_scn_name[] = {"none", "hidden", "deleted", "flipped"};

/* what the digests need to know of one log file (index: plan file index) */
struct dgfile {
        unsigned char sha[32];    /* SHA-256 of the uncompressed content as written (listed) */
        unsigned char stored[32]; /* of the content left on disk (differs when flipped) */
        int64_t tmin, tmax;       /* oldest and newest record */
        int scn;                  /* DG_* */
        int listed;               /* 0 none yet, 1 regular digest, 2 backfill */
        int actionable;           /* records jibe acts on */
        char *digest;             /* path of the digest that lists it, or NULL */
};

struct dgctx {
        struct gen_world *w;
        struct gen_plan *plan;
        struct dgfile *df;
        int64_t h0, now;
        struct gen_ob manifest, files, hidden, removed, deleted, flipped, hiddenlist, undigested;
        long ndigests, nbackfill, nlisted;
        int gap_s[32], gap_k[32], ngaps;
};

/* end time of stream s's k-th digest (k >= 0): one an hour, 1-11 min past the hour */
static int64_t dg_end(const struct dgctx *c, int s, int64_t k)
{
        uint64_t h = (uint64_t)(c->h0 + k);

        return (c->h0 + k + 1) * 3600 + 60 +
               (int64_t)(gen_mix64(c->w->seed * 131 + (uint64_t)s * 1000003 + h) % 600);
}

static int64_t dg_start(const struct dgctx *c, int s, int64_t k)
{
        return k ? dg_end(c, s, k - 1) : dg_end(c, s, 0) - 3600;
}

/* the digest (k) whose interval holds t */
static int64_t dg_index(const struct dgctx *c, int s, int64_t t)
{
        int64_t k = t / 3600 - c->h0;

        if (k < 0)
                k = 0;
        while (k > 0 && t < dg_start(c, s, k))
                k--;
        while (t >= dg_end(c, s, k))
                k++;
        return k;
}

/* a log file its regular digest lists: that digest is due by now and the file was delivered
 * before it */
static int dg_on_time(const struct dgctx *c, const struct gen_file *f)
{
        int64_t e = dg_end(c, f->stream, dg_index(c, f->stream, f->w));

        return e <= c->now && f->v <= e;
}

static int dg_pick(struct dgctx *c, struct gen_rng *rng, int scn, unsigned n, char *errstr, size_t errsz)
{
        size_t i, cnt, pick;

        for (; n; n--) {
                for (i = 0, cnt = 0; i < c->plan->nf; i++) {
                        const struct dgfile *d = &c->df[i];

                        if (d->scn == DG_NONE && dg_on_time(c, &c->plan->f[i]) &&
                            (scn == DG_DELETED ? d->actionable == 0 : d->actionable > 0))
                                cnt++;
                }
                if (!cnt) {
                        snprintf(errstr, errsz,
                                 "no log file is left for the %s scenario (it needs a file in a "
                                 "digest that %s events jibe acts on): ask for fewer, or for more "
                                 "--hours",
                                 dg_scn_name[scn], scn == DG_DELETED ? "has no" : "has");
                        return -1;
                }
                pick = (size_t)gen_rng_below(rng, cnt);
                for (i = 0; i < c->plan->nf; i++) {
                        struct dgfile *d = &c->df[i];

                        if (d->scn == DG_NONE && dg_on_time(c, &c->plan->f[i]) &&
                            (scn == DG_DELETED ? d->actionable == 0 : d->actionable > 0) &&
                            pick-- == 0) {
                                d->scn = scn;
                                break;
                        }
                }
        }
        return 0;
}

/* Before any file is written: record times, actionable counts, scenario choices, gaps. */
static int dg_prepare(struct dgctx *c, struct gen_rng *rng, int64_t tmin, char *errstr, size_t errsz)
{
        struct gen_world *w = c->w;
        struct gen_plan *plan = c->plan;
        unsigned g;
        size_t i;
        int s;

        c->h0 = tmin / 3600 - 1;
        c->df = gen_xcalloc(plan->nf ? plan->nf : 1, sizeof(*c->df));
        for (i = 0; i < plan->nf; i++) {
                const struct gen_file *f = &plan->f[i];
                struct dgfile *d = &c->df[i];
                uint32_t k;

                d->tmin = INT64_MAX;
                d->tmax = INT64_MIN;
                for (k = 0; k < f->n; k++) {
                        const struct gen_rec *r = &plan->r[plan->order[f->first + k]];
                        int cls = gen_classify(w, r, 1);

                        if (r->t < d->tmin)
                                d->tmin = r->t;
                        if (r->t > d->tmax)
                                d->tmax = r->t;
                        d->actionable += cls == CL_PUT || cls == CL_DELETE || cls == CL_BUCKET;
                }
        }
        if (dg_pick(c, rng, DG_HIDDEN, w->dg.hidden, errstr, errsz) ||
            dg_pick(c, rng, DG_FLIPPED, w->dg.flipped, errstr, errsz) ||
            dg_pick(c, rng, DG_DELETED, w->dg.deleted, errstr, errsz))
                return -1;
        /* removed digests: a regular digest with one before and one after it in its chain */
        for (g = 0; g < w->dg.gaps; g++) {
                int tries;

                for (tries = 0; tries < 1000; tries++) {
                        int64_t kmax = 0, k;
                        int j, dup = 0;

                        s = (int)gen_rng_below(rng, (uint64_t)w->nstream);
                        while (dg_end(c, s, kmax) <= c->now)
                                kmax++; /* digests 0 .. kmax-1 are due */
                        if (kmax < 3)
                                continue;
                        k = 1 + (int64_t)gen_rng_below(rng, (uint64_t)(kmax - 2));
                        for (j = 0; j < c->ngaps; j++)
                                dup |= c->gap_s[j] == s && (c->gap_k[j] == k || c->gap_k[j] == k - 1 ||
                                                            c->gap_k[j] == k + 1);
                        if (dup)
                                continue;
                        c->gap_s[c->ngaps] = s;
                        c->gap_k[c->ngaps++] = (int)k;
                        break;
                }
                if (tries == 1000 || c->ngaps >= 32) {
                        snprintf(errstr, errsz,
                                 "cannot remove %u digests: the chains are too short (at most "
                                 "one in three, never the first or the last)",
                                 w->dg.gaps);
                        return -1;
                }
        }
        return 0;
}

/* The byte flip: the file is written again with one byte of its content changed (a space
 * after the opening brace, so it still inflates and parses to the same records) and
 * re-compressed: its uncompressed content, which the digest's hashValue is over, differs from
 * what was hashed. sha gets the SHA-256 of the content left on disk. */
static int dg_flip(const struct gen_world *w, const char *rel, const struct gen_ob *body, int64_t mtime,
                   struct gen_gz *gz, unsigned char sha[32], char *errstr, size_t errsz)
{
        struct gen_ob alt = {0};
        int hash = gz->hash, rc;

        GEN_LIT(&alt, "{ ");
        gen_ob_put(&alt, body->p + 1, body->len - 1);
        sha256(alt.p, alt.len, sha);
        gz->hash = 0;
        rc = gen_write_file(w->logdir, rel, alt.p, alt.len, mtime, gz, errstr, errsz);
        gz->hash = hash;
        gen_ob_free(&alt);
        return rc;
}

static void dg_jtime(struct gen_ob *o, const char *name, int64_t t, int have)
{
        char ts[32];

        if (!have) {
                gen_ob_printf(o, ",\"%s\":null", name);
                return;
        }
        gen_fmt_iso(t, ts);
        gen_ob_printf(o, ",\"%s\":\"%s\"", name, ts);
}

static void dg_sig(const char *path, const char *salt, char hex[65])
{
        struct sha256_ctx h;
        unsigned char md[32];

        sha256_init(&h);
        sha256_update(&h, salt, strlen(salt));
        sha256_update(&h, path, strlen(path));
        sha256_final(&h, md);
        sha256_hex(md, hex);
}

/* One digest file: regular (prev: the chain's previous digest) or backfill (prev: the regular
 * digest it complements). files: plan file indexes. Writes *sha (of its uncompressed content). */
static int dg_write_one(struct dgctx *c, int s, int64_t start, int64_t end, int64_t mtime, int backfill,
                        const uint32_t *files, size_t nfiles, const char *prev,
                        const unsigned char *prevsha, int removed, struct gen_gz *gz,
                        struct gen_ob *path, unsigned char sha[32], char *errstr, size_t errsz)
{
        struct gen_world *w = c->w;
        const struct gen_stream *st = &w->stream[s];
        const char *acct = w->acct[st->acct].id, *bucket = w->bucket[w->logbucket].name;
        const char *trail = w->acct[st->acct].org ? "org-trail" : "management-events";
        struct gen_ob body = {0}, fp = {0};
        int64_t tmin = INT64_MAX, tmax = INT64_MIN;
        char hex[65], sig[65];
        size_t i;
        int rc;

        path->len = 0;
        log_prefix(w, st->acct, path);
        GEN_LIT(path, "CloudTrail-Digest/");
        gen_ob_str(path, st->region);
        gen_ob_ch(path, '/');
        date_folder(end, path);
        gen_ob_printf(path, "%s_CloudTrail-Digest_%s_%s_%s_", acct, st->region, trail, st->region);
        stamp(end, path, 1);
        if (backfill)
                GEN_LIT(path, "_backfill");
        GEN_LIT(path, ".json.gz");
        gen_ob_ch(path, '\0');
        path->len--;
        for (i = 0; i < nfiles; i++) {
                const struct dgfile *d = &c->df[files[i]];

                if (d->tmin < tmin)
                        tmin = d->tmin;
                if (d->tmax > tmax)
                        tmax = d->tmax;
        }
        GEN_LIT(&body, "{\"awsAccountId\":");
        gen_ob_jstr(&body, acct);
        dg_jtime(&body, "digestStartTime", start, 1);
        dg_jtime(&body, "digestEndTime", end, 1);
        GEN_LIT(&body, ",\"digestS3Bucket\":");
        gen_ob_jstr(&body, bucket);
        GEN_LIT(&body, ",\"digestS3Object\":");
        gen_ob_jstr(&body, path->p);
        /* no private key here: the fingerprint and signatures are placeholders */
        gen_ob_printf(&body,
                      ",\"digestPublicKeyFingerprint\":\"%016llx%016llx\","
                      "\"digestSignatureAlgorithm\":\"SHA256withRSA\"",
                      (unsigned long long)gen_mix64((uint64_t)st->acct),
                      (unsigned long long)gen_mix64((uint64_t)s));
        dg_jtime(&body, "newestEventTime", tmax, nfiles > 0);
        dg_jtime(&body, "oldestEventTime", tmin, nfiles > 0);
        if (prev) {
                sha256_hex(prevsha, hex);
                dg_sig(prev, "jibe-ctgen unsigned ", sig);
                GEN_LIT(&body, ",\"previousDigestS3Bucket\":");
                gen_ob_jstr(&body, bucket);
                GEN_LIT(&body, ",\"previousDigestS3Object\":");
                gen_ob_jstr(&body, prev);
                gen_ob_printf(&body,
                              ",\"previousDigestHashValue\":\"%s\","
                              "\"previousDigestHashAlgorithm\":\"SHA-256\","
                              "\"previousDigestSignature\":\"%s\"",
                              hex, sig);
        } else {
                GEN_LIT(&body, ",\"previousDigestS3Bucket\":null,\"previousDigestS3Object\":null,"
                               "\"previousDigestHashValue\":null,"
                               "\"previousDigestHashAlgorithm\":null,"
                               "\"previousDigestSignature\":null");
        }
        GEN_LIT(&body, ",\"logFiles\":[");
        for (i = 0; i < nfiles; i++) {
                struct dgfile *d = &c->df[files[i]];

                fp.len = 0;
                ct_path(w, &c->plan->f[files[i]], &fp);
                sha256_hex(d->sha, hex);
                GEN_LIT(&body, "{\"s3Bucket\":");
                gen_ob_jstr(&body, bucket);
                GEN_LIT(&body, ",\"s3Object\":");
                gen_ob_jstr(&body, fp.p);
                gen_ob_printf(&body, ",\"hashValue\":\"%s\",\"hashAlgorithm\":\"SHA-256\"", hex);
                dg_jtime(&body, "newestEventTime", d->tmax, 1);
                dg_jtime(&body, "oldestEventTime", d->tmin, 1);
                gen_ob_printf(&body, "}%s", i + 1 < nfiles ? "," : "");
                d->listed = backfill ? 2 : 1;
                d->digest = gen_xstrdup(path->p);
        }
        GEN_LIT(&body, "]}");
        gz->hash = 1;
        rc = gen_write_file(w->logdir, path->p, body.p, body.len, mtime, gz, errstr, errsz);
        gz->hash = 0;
        if (!rc) {
                char full[4400];

                sha256_final(&gz->sha, sha);
                if (removed) {
                        snprintf(full, sizeof(full), "%s/%s", w->logdir, path->p);
                        if (unlink(full)) {
                                snprintf(errstr, errsz, "cannot remove %s: %s", full, strerror(errno));
                                rc = -1;
                        }
                        if (c->removed.len)
                                gen_ob_ch(&c->removed, ',');
                        gen_ob_jstr(&c->removed, path->p);
                }
                sha256_hex(sha, hex);
                GEN_LIT(&c->manifest, "{\"path\":");
                gen_ob_jstr(&c->manifest, path->p);
                gen_ob_printf(&c->manifest, ",\"account\":\"%s\",\"region\":\"%s\"", acct, st->region);
                dg_jtime(&c->manifest, "start", start, 1);
                dg_jtime(&c->manifest, "end", end, 1);
                dg_jtime(&c->manifest, "delivered", mtime, 1);
                gen_ob_printf(&c->manifest, ",\"backfill\":%s,\"sha256\":\"%s\",\"previous\":",
                              backfill ? "true" : "false", hex);
                if (prev)
                        gen_ob_jstr(&c->manifest, prev);
                else
                        GEN_LIT(&c->manifest, "null");
                gen_ob_printf(&c->manifest, ",\"files\":%zu,\"removed\":%s}\n", nfiles,
                              removed ? "true" : "false");
                c->ndigests++;
                c->nbackfill += backfill;
                c->nlisted += (long)nfiles;
        }
        gen_ob_free(&body);
        gen_ob_free(&fp);
        return rc;
}

/* fo: the plan's files sorted by stream, then write time */
static int dg_write_all(struct dgctx *c, const uint32_t *fo, struct gen_gz *gz, char *errstr,
                        size_t errsz)
{
        struct gen_world *w = c->w;
        struct gen_plan *plan = c->plan;
        struct gen_ob path = {0}, prev = {0};
        uint32_t *on = gen_xmalloc((plan->nf ? plan->nf : 1) * sizeof(*on));
        uint32_t *late = gen_xmalloc((plan->nf ? plan->nf : 1) * sizeof(*late));
        unsigned char prevsha[32], sha[32];
        size_t i = 0;
        int s, rc = 0;

        for (s = 0; s < w->nstream && !rc; s++) {
                int64_t k;
                int have_prev = 0;

                while (i < plan->nf && plan->f[fo[i]].stream < s)
                        i++;
                for (k = 0; !rc; k++) {
                        int64_t end = dg_end(c, s, k), start = dg_start(c, s, k), lastv = 0;
                        size_t non = 0, nlate = 0;
                        int removed = 0, j;

                        if (end > c->now)
                                break;
                        for (; i < plan->nf && plan->f[fo[i]].stream == s && plan->f[fo[i]].w < end;
                             i++) {
                                const struct gen_file *f = &plan->f[fo[i]];

                                if (f->w < start)
                                        continue; /* cannot happen: the chain starts before */
                                if (f->v <= end) {
                                        on[non++] = fo[i];
                                } else {
                                        late[nlate++] = fo[i];
                                        if (f->v > lastv)
                                                lastv = f->v;
                                }
                        }
                        for (j = 0; j < c->ngaps; j++)
                                removed |= c->gap_s[j] == s && c->gap_k[j] == k;
                        rc = dg_write_one(c, s, start, end, end, 0, on, non, have_prev ? prev.p : NULL,
                                          prevsha, removed, gz, &path, sha, errstr, errsz);
                        if (rc)
                                break;
                        prev.len = 0;
                        gen_ob_put(&prev, path.p, path.len);
                        gen_ob_ch(&prev, '\0');
                        memcpy(prevsha, sha, 32);
                        have_prev = 1;
                        if (nlate) {
                                /* the late files' backfill, a few minutes after the last one */
                                int64_t bt = lastv + 60 + (int64_t)(gen_mix64((uint64_t)end) % 240);

                                if (bt > c->now)
                                        bt = c->now;
                                rc = dg_write_one(c, s, start, end, bt, 1, late, nlate, prev.p, prevsha,
                                                  0, gz, &path, sha, errstr, errsz);
                        }
                }
        }
        free(on);
        free(late);
        gen_ob_free(&path);
        gen_ob_free(&prev);
        return rc;
}

static void dg_list_add(struct gen_ob *o, const char *s)
{
        if (o->len)
                gen_ob_ch(o, ',');
        gen_ob_jstr(o, s);
}

/* DIR/ctgen/digests.jsonl, digest-files.jsonl, digests.json and DIR/hidden.txt */
static int dg_write_manifest(struct dgctx *c, char *errstr, size_t errsz)
{
        struct gen_world *w = c->w;
        struct gen_ob o = {0}, p = {0};
        char dir[4200], hex[65], hex2[65];
        size_t i;
        int rc = -1;

        snprintf(dir, sizeof(dir), "%s/ctgen", w->root);
        for (i = 0; i < c->plan->nf; i++) {
                const struct dgfile *d = &c->df[i];

                p.len = 0;
                ct_path(w, &c->plan->f[i], &p);
                sha256_hex(d->sha, hex);
                sha256_hex(d->stored, hex2);
                GEN_LIT(&c->files, "{\"file\":");
                gen_ob_jstr(&c->files, p.p);
                gen_ob_printf(&c->files, ",\"sha256\":\"%s\",\"stored_sha256\":", hex);
                if (d->scn == DG_DELETED)
                        GEN_LIT(&c->files, "null");
                else
                        gen_ob_printf(&c->files, "\"%s\"", hex2);
                GEN_LIT(&c->files, ",\"digest\":");
                if (d->digest)
                        gen_ob_jstr(&c->files, d->digest);
                else
                        GEN_LIT(&c->files, "null");
                gen_ob_printf(&c->files, ",\"backfill\":%s,\"scenario\":\"%s\",\"actionable\":%d}\n",
                              d->listed == 2 ? "true" : "false", dg_scn_name[d->scn], d->actionable);
                if (d->scn == DG_HIDDEN) {
                        dg_list_add(&c->hiddenlist, p.p);
                        gen_ob_printf(&c->hidden, "%s/%s\n", w->bucket[w->logbucket].name, p.p);
                }
                if (d->scn == DG_DELETED)
                        dg_list_add(&c->deleted, p.p);
                if (d->scn == DG_FLIPPED)
                        dg_list_add(&c->flipped, p.p);
                if (!d->digest)
                        dg_list_add(&c->undigested, p.p);
        }
        if (gen_write_file(dir, "digests.jsonl", c->manifest.p ? c->manifest.p : "", c->manifest.len, -1,
                           NULL, errstr, errsz) ||
            gen_write_file(dir, "digest-files.jsonl", c->files.p ? c->files.p : "", c->files.len, -1,
                           NULL, errstr, errsz) ||
            gen_write_file(w->root, "hidden.txt", c->hidden.p ? c->hidden.p : "", c->hidden.len, -1,
                           NULL, errstr, errsz))
                goto out;
        gen_ob_printf(&o,
                      "{\"validation\":\"on\",\"hash\":\"SHA-256 of the uncompressed content\","
                      "\"signature\":\"placeholder: jibe-ctgen has no private key\","
                      "\"digests\":%ld,\"backfill\":%ld,\"listed\":%ld,\"log_files\":%zu",
                      c->ndigests, c->nbackfill, c->nlisted, c->plan->nf);
#define DG_LIST(name, ob)                                                                               \
        do {                                                                                            \
                gen_ob_printf(&o, ",\"%s\":[", name);                                                   \
                gen_ob_put(&o, (ob)->p ? (ob)->p : "", (ob)->len);                                      \
                gen_ob_ch(&o, ']');                                                                     \
        } while (0)
        DG_LIST("hidden", &c->hiddenlist);
        DG_LIST("deleted", &c->deleted);
        DG_LIST("flipped", &c->flipped);
        DG_LIST("removed_digests", &c->removed);
        DG_LIST("undigested", &c->undigested);
#undef DG_LIST
        GEN_LIT(&o, "}\n");
        if (gen_write_file(dir, "digests.json", o.p, o.len, -1, NULL, errstr, errsz))
                goto out;
        rc = 0;
out:
        gen_ob_free(&o);
        gen_ob_free(&p);
        return rc;
}

static void dg_free(struct dgctx *c)
{
        size_t i;

        for (i = 0; c->df && i < c->plan->nf; i++)
                free(c->df[i].digest);
        free(c->df);
        gen_ob_free(&c->manifest);
        gen_ob_free(&c->files);
        gen_ob_free(&c->hidden);
        gen_ob_free(&c->removed);
        gen_ob_free(&c->deleted);
        gen_ob_free(&c->flipped);
        gen_ob_free(&c->hiddenlist);
        gen_ob_free(&c->undigested);
}

/* validation off: say so, so a test knows no digest was meant */
static int dg_write_off(struct gen_world *w, char *errstr, size_t errsz)
{
        static const char txt[] = "{\"validation\":\"off\",\"digests\":0}\n";
        char dir[4200];

        snprintf(dir, sizeof(dir), "%s/ctgen", w->root);
        return gen_write_file(dir, "digests.json", txt, sizeof(txt) - 1, -1, NULL, errstr, errsz);
}

static int cmp_stream_w(const void *pa, const void *pb)
{
        const struct gen_file *a = &sort_plan->f[*(const uint32_t *)pa];
        const struct gen_file *b = &sort_plan->f[*(const uint32_t *)pb];

        if (a->stream != b->stream)
                return a->stream < b->stream ? -1 : 1;
        if (a->w != b->w)
                return a->w < b->w ? -1 : 1;
        return a->rnd < b->rnd ? -1 : a->rnd > b->rnd;
}

int gen_plan_write(struct gen_world *w, struct gen_plan *plan, struct gen_rng *rng, int extras,
                   struct gen_ob *logindex, char *errstr, size_t errsz)
{
        struct gen_gz gz;
        struct gen_ob path = {0}, body = {0};
        struct expect e;
        struct dgctx dg;
        uint32_t *fo = NULL;
        size_t i;
        int rc = -1, dgon = extras && w->dg.mode == GEN_DG_ON;
        int64_t now = 0, tmin = INT64_MAX;

        memset(&e, 0, sizeof(e));
        memset(&dg, 0, sizeof(dg));
        dg.w = w;
        dg.plan = plan;
        if (gen_gz_init(&gz, 6)) {
                snprintf(errstr, errsz, "zlib: cannot initialise deflate");
                return -1;
        }
        /* 1. the truth, in the order the changes were made */
        for (i = 0; i < plan->nr; i++) {
                struct gen_rec *r = &plan->r[i];
                uint32_t k;

                if (r->eff == EFF_PUT &&
                    gen_truth_put(w, r->bucket, r->key, r->ver, r->size, r->t, errstr, errsz))
                        goto out;
                if (r->eff == EFF_DEL && gen_truth_del(w, r->bucket, r->key, errstr, errsz))
                        goto out;
                for (k = 0; r->eff == EFF_DELMANY && k < r->ndkeys; k++)
                        if (gen_truth_del(w, r->bucket, r->dkeys[k], errstr, errsz))
                                goto out;
        }
        /* 2. the log files, in the order they become visible */
        fo = gen_xmalloc((plan->nf ? plan->nf : 1) * sizeof(*fo));
        for (i = 0; i < plan->nf; i++) {
                fo[i] = (uint32_t)i;
                if (plan->f[i].v > now)
                        now = plan->f[i].v;
                if (plan->f[i].w < tmin)
                        tmin = plan->f[i].w;
        }
        sort_plan = plan;
        if (plan->nf)
                qsort(fo, plan->nf, sizeof(*fo), cmp_visible);
        if (dgon) {
                dg.now = w->dg.now > now ? w->dg.now : now;
                if (dg_prepare(&dg, rng, tmin, errstr, errsz))
                        goto out;
        }
        gz.hash = dgon;
        for (i = 0; i < plan->nf; i++) {
                const struct gen_file *f = &plan->f[fo[i]];
                int scn = dgon ? dg.df[fo[i]].scn : DG_NONE;
                uint32_t k;

                path.len = body.len = 0;
                ct_path(w, f, &path);
                GEN_LIT(&body, "{\"Records\":[");
                for (k = 0; k < f->n; k++) {
                        const struct gen_rec *r = &plan->r[plan->order[f->first + k]];

                        if (k)
                                gen_ob_ch(&body, ',');
                        gen_rec_json(w, r, &body);
                        if (scn != DG_DELETED)
                                expect_record(w, &e, r, path.p);
                }
                GEN_LIT(&body, "]}");
                if (gen_write_file(w->logdir, path.p, body.p, body.len, f->v, &gz, errstr, errsz))
                        goto out;
                if (dgon) {
                        struct dgfile *d = &dg.df[fo[i]];

                        sha256_final(&gz.sha, d->sha);
                        memcpy(d->stored, d->sha, 32);
                        if (scn == DG_FLIPPED &&
                            dg_flip(w, path.p, &body, f->v, &gz, d->stored, errstr, errsz))
                                goto out;
                        if (scn == DG_DELETED) {
                                /* listed by its digest, then gone from the bucket: not in
                                 * files.txt nor in any expectation */
                                char full[4400];

                                snprintf(full, sizeof(full), "%s/%s", w->logdir, path.p);
                                if (unlink(full)) {
                                        snprintf(errstr, errsz, "cannot remove %s: %s", full,
                                                 strerror(errno));
                                        goto out;
                                }
                                continue;
                        }
                }
                gen_ob_put(&e.files, path.p, path.len);
                gen_ob_ch(&e.files, '\n');
                logidx_add(w, &e, path.p, gz.out_bytes, f->v);
        }
        /* 3. what jibe must skip */
        if (extras && plan->nf) {
                if (plan->nf)
                        qsort(fo, plan->nf, sizeof(*fo), cmp_stream_w);
                gz.hash = 0;
                if (w->dg.mode == GEN_DG_LEGACY &&
                    write_digests(w, plan, fo, &gz, &e, now, errstr, errsz))
                        goto out;
                if (dgon &&
                    (dg_write_all(&dg, fo, &gz, errstr, errsz) || dg_write_manifest(&dg, errstr, errsz)))
                        goto out;
                if (w->dg.mode == GEN_DG_OFF && dg_write_off(w, errstr, errsz))
                        goto out;
                if (write_others(w, tmin, now, rng, &gz, &e, errstr, errsz))
                        goto out;
        }
        if (logindex)
                gen_ob_put(logindex, e.logidx.p ? e.logidx.p : "", e.logidx.len);
        rc = write_expect(w, &e, errstr, errsz);
out:
        free(fo);
        gen_ob_free(&path);
        gen_ob_free(&body);
        gen_gz_free(&gz);
        expect_free(&e);
        dg_free(&dg);
        return rc;
}

/* ---------- commands ---------- */

int gen_history_cmd(struct gen_world *w, int64_t now, double hours, unsigned per_min, char *errstr,
                    size_t errsz)
{
        struct gen_plan plan;
        struct gen_window win;
        struct gen_rng rng;
        struct gen_ob logindex = {0};
        int64_t t0, t1 = now, span, m;
        int b, p, rc;

        if (gen_world_load(w, errstr, errsz))
                return -1;
        if (w->history_done) {
                snprintf(errstr, errsz,
                         "history was already generated in %s; it sets the provider sync time "
                         "and the index, so it runs once per directory (start again with init)",
                         w->root);
                return -1;
        }
        span = (int64_t)(hours * 3600);
        if (span < 3600) {
                snprintf(errstr, errsz, "--hours must be at least 1");
                return -1;
        }
        t0 = t1 - span;
        gen_rng_seed(&rng, w->seed, 1000 + w->runs);
        /* the last full sync of each provider started inside the window */
        w->prov[0].sync_start = t0 + span / 4 + (int64_t)gen_rng_below(&rng, (uint64_t)span / 4);
        for (p = 1; p < w->nprov; p++) {
                int64_t s = w->prov[p - 1].sync_start + 300 + (int64_t)gen_rng_below(&rng, 2100);

                w->prov[p].sync_start = s < t1 - 600 ? s : t1 - 600;
        }
        for (p = 0; p < w->nprov; p++) {
                int64_t d = w->prov[p].sync_start + 600 + (int64_t)gen_rng_below(&rng, 1200);

                w->prov[p].sync_done = d < t1 ? d : t1;
        }
        for (b = 0; b < w->nbucket; b++)
                gen_ks_copy(&w->bucket[b].index, &w->bucket[b].truth);

        memset(&plan, 0, sizeof(plan));
        /* files delivered hours late into the folder of the day before the window */
        m = gen_day_start(t0);
        memset(&win, 0, sizeof(win));
        win.t0 = m - 1800; /* batches end by m - 600: written before midnight */
        win.t1 = m - 600;
        win.now = now;
        win.per_min = per_min;
        win.batch = GEN_BATCH_5MIN;
        win.late_lo = t0 + 600;
        win.late_hi = t1 - 60;
        gen_window_run(w, &rng, &win, &plan);
        /* the window itself */
        memset(&win, 0, sizeof(win));
        win.t0 = t0;
        win.t1 = t1;
        win.now = now;
        win.per_min = per_min;
        win.batch = GEN_BATCH_5MIN;
        win.delay_pm = 25;
        gen_window_run(w, &rng, &win, &plan);

        for (p = 0; p < w->nprov; p++) {
                w->prov[p].sync_files = 0;
                for (b = 0; b < w->nbucket; b++)
                        if (w->bucket[b].prov == p && !w->bucket[b].log)
                                w->prov[p].sync_files += (long)w->bucket[b].index.n;
        }
        w->dg.now = now;
        rc = gen_plan_write(w, &plan, &rng, 1, &logindex, errstr, errsz);
        if (!rc)
                rc = gen_world_write_index(w, &logindex, errstr, errsz);
        w->history_done = 1;
        w->hist_t0 = t0;
        w->hist_t1 = t1;
        w->runs++;
        if (!rc)
                rc = gen_world_write_simjson(w, errstr, errsz);
        if (!rc)
                rc = gen_world_save_state(w, errstr, errsz);
        if (!rc)
                printf("history: %zu records in %zu log files\n", plan.nr, plan.nf);
        gen_plan_free(&plan);
        gen_ob_free(&logindex);
        return rc;
}

int gen_flood_cmd(struct gen_world *w, int64_t now, long files, char *errstr, size_t errsz)
{
        struct gen_plan plan;
        struct gen_window win;
        struct gen_rng rng;
        int rc;

        if (gen_world_load(w, errstr, errsz))
                return -1;
        if (files < 1) {
                snprintf(errstr, errsz, "--files must be at least 1");
                return -1;
        }
        gen_rng_seed(&rng, w->seed, 5000 + w->runs);
        memset(&win, 0, sizeof(win));
        win.t1 = now;
        win.t0 = now - 3600 > gen_day_start(now) ? now - 3600 : gen_day_start(now);
        if (win.t1 - win.t0 < 120)
                win.t0 = win.t1 - 120;
        win.now = now;
        win.batch = GEN_BATCH_TINY;
        win.files = files;
        memset(&plan, 0, sizeof(plan));
        gen_window_run(w, &rng, &win, &plan);
        rc = gen_plan_write(w, &plan, &rng, 0, NULL, errstr, errsz);
        w->runs++;
        if (!rc)
                rc = gen_world_save_state(w, errstr, errsz);
        if (!rc)
                printf("flood: %zu records in %zu log files\n", plan.nr, plan.nf);
        gen_plan_free(&plan);
        return rc;
}
