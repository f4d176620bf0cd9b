/*
 * status_pub.c - the publisher thread (see status_pub.h): this instance's status to
 * state_dir/status.json and the status store every publish_s, the merged report every
 * report interval (state_dir/report.json and report.html, uploaded when asked), and the
 * alerts of the report's verdicts.
 *
 * Threads: one thread of its own does every I/O (the store, the upload client, the files);
 * status_pub_kick() and status_pub_stop() only set flags under the mutex and signal the
 * condition variable, so any wait ends at once. The store and the upload client are used by
 * that thread only (aa.h: a client is not thread-safe).
 * Failures: each kind (snapshot, status.json, store put, store list, report, upload) is
 * logged once when it starts failing and once when it works again; nothing is retried
 * before the next interval, and nothing here stops a stage.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>

#include "aa.h"
#include "alert.h"
#include "buf.h"
#include "log.h"
#include "report.h"
#include "state.h"
#include "status.h"
#include "status_pub.h"

#define PUB_MOD "status"
#define PUB_ALERT_KEYS_MAX 128 /* alerts this publisher raised and may have to clear */

enum pub_fail { PF_SNAPSHOT, PF_LOCAL, PF_PUT, PF_LIST, PF_REPORT, PF_UPLOAD, PF_N };

static const char *const pf_what[PF_N] = {
        [PF_SNAPSHOT] = "making this instance's status",
        [PF_LOCAL] = "writing this instance's status to the state directory",
        [PF_PUT] = "publishing this instance's status to the status store",
        [PF_LIST] = "reading the other instances' status from the status store",
        [PF_REPORT] = "writing the provider report to the state directory",
        [PF_UPLOAD] = "uploading the provider report to Access Anywhere",
};

/* One document of the last listing of the store (copied). */
struct pub_doc {
        char *instance, *where;
        char *json;
        size_t len;
};

/* One alert key raised from a report (strings owned). */
struct pub_key {
        char *provider, *source, *kind;
        int seen; /* in the latest report */
};

struct status_pub {
        pthread_t th;
        int started;
        pthread_mutex_t mu;
        pthread_cond_t cv;
        int stop, kick; /* under mu */

        char *instance, *state_dir, *upload_folder, *own_file;
        long publish_ms, report_ms; /* report_ms 0: no report */
        const struct aa_opts *aa;
        struct status_store *store;

        struct aa_client *up; /* upload client, made on first use */
        char *up_folder_id;   /* report.upload_folder's id once known */

        struct pub_doc *docs; /* the last listing, kept when a listing fails */
        size_t ndocs;
        struct pub_key keys[PUB_ALERT_KEYS_MAX];
        size_t nkeys;
        int failing[PF_N];
};

static int64_t wall_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A kind of failure: said once when it starts, again only after it recovered. */
static void pub_failed(struct status_pub *p, enum pub_fail k, const char *err)
{
        if (p->failing[k])
                return;
        p->failing[k] = 1;
        log_msg(LL_WARN, PUB_MOD,
                "%s failed: %s; jibe goes on and tries again at the next interval (said once until "
                "it works again)",
                pf_what[k], err);
}

static void pub_ok(struct status_pub *p, enum pub_fail k)
{
        if (!p->failing[k])
                return;
        p->failing[k] = 0;
        log_msg(LL_INFO, PUB_MOD, "%s works again", pf_what[k]);
}

static void docs_free(struct pub_doc *d, size_t n)
{
        size_t i;

        for (i = 0; i < n; i++) {
                free(d[i].instance);
                free(d[i].where);
                free(d[i].json);
        }
        free(d);
}

static int local_write(struct status_pub *p, const char *name, const void *data, size_t len, char *err,
                       size_t errsz)
{
        char path[4096];

        if ((size_t)snprintf(path, sizeof(path), "%s/%s", p->state_dir, name) >= sizeof(path))
                return jb_seterr(JB_EINPUT, err, errsz, "the state directory's path is too long");
        return state_replace_file(path, data, len, err, errsz);
}

/* ---- seeding ---- */

struct seed_find {
        const char *instance;
        int found;
};

static int seed_cb(void *opaque, const char *instance, const void *doc, size_t n, const char *where)
{
        struct seed_find *f = opaque;
        char err[512];

        if (!instance || strcmp(instance, f->instance))
                return JB_OK;
        if (status_seed(doc, n, err, sizeof(err)) == JB_OK) {
                f->found = 1;
                log_msg(LL_INFO, PUB_MOD, "carried over this instance's previous status from %s", where);
        } else {
                log_msg(LL_WARN, PUB_MOD, "this instance's previous status in %s is not used: %s", where,
                        err);
        }
        return JB_OK;
}

static void seed(struct status_pub *p)
{
        struct seed_find f = {p->instance, 0};
        char path[4096], err[1024];
        struct buf b;
        FILE *fp;
        size_t n;
        char chunk[8192];

        if (p->store && p->store->ops->list(p->store, seed_cb, &f, err, sizeof(err)) != JB_OK)
                log_msg(LL_WARN, PUB_MOD,
                        "cannot read this instance's previous status from the status store (%s); "
                        "using the copy in the state directory",
                        err);
        if (f.found)
                return;
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", p->state_dir, p->own_file) >= sizeof(path))
                return;
        fp = fopen(path, "rb");
        if (!fp)
                return; /* a first start */
        buf_init(&b, STATUS_DOC_MAX);
        while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
                if (buf_append(&b, chunk, n) != JB_OK)
                        break;
        fclose(fp);
        if (b.len && status_seed(b.p, b.len, err, sizeof(err)) == JB_OK)
                log_msg(LL_INFO, PUB_MOD, "carried over this instance's previous status from %s", path);
        else if (b.len)
                log_msg(LL_WARN, PUB_MOD, "this instance's previous status in %s is not used: %s", path,
                        err);
        buf_clear(&b);
}

/* ---- publication ---- */

/* This instance's document now into *out (reset first): status.json, then the store. */
static int publish(struct status_pub *p, struct buf *out)
{
        char err[1024];

        buf_reset(out);
        if (status_snapshot(wall_ms(), out) != JB_OK) {
                pub_failed(p, PF_SNAPSHOT, "out of memory");
                return JB_ENOMEM;
        }
        pub_ok(p, PF_SNAPSHOT);
        if (local_write(p, p->own_file, out->p, out->len, err, sizeof(err)) != JB_OK)
                pub_failed(p, PF_LOCAL, err);
        else
                pub_ok(p, PF_LOCAL);
        if (!p->store)
                return JB_OK;
        if (p->store->ops->put(p->store, p->instance, out->p, out->len, err, sizeof(err)) != JB_OK)
                pub_failed(p, PF_PUT, err);
        else
                pub_ok(p, PF_PUT);
        return JB_OK;
}

/* ---- report ---- */

struct list_acc {
        struct pub_doc *d;
        size_t n, cap;
        int nomem;
};

static int list_cb(void *opaque, const char *instance, const void *doc, size_t n, const char *where)
{
        struct list_acc *a = opaque;
        struct pub_doc *d;

        if (a->n == a->cap) {
                size_t cap = a->cap ? a->cap * 2 : 8;
                struct pub_doc *nd = realloc(a->d, cap * sizeof(*nd));

                if (!nd) {
                        a->nomem = 1;
                        return JB_ENOMEM;
                }
                a->d = nd;
                a->cap = cap;
        }
        d = &a->d[a->n];
        d->instance = strdup(instance ? instance : "");
        d->where = strdup(where ? where : "the status store");
        d->json = malloc(n + 1);
        if (!d->instance || !d->where || !d->json) {
                free(d->instance);
                free(d->where);
                free(d->json);
                a->nomem = 1;
                return JB_ENOMEM;
        }
        memcpy(d->json, doc, n);
        d->json[n] = '\0';
        d->len = n;
        a->n++;
        return JB_OK;
}

/* The store's documents: a new listing, or the last one when this one fails. */
static void list_store(struct status_pub *p)
{
        struct list_acc a = {NULL, 0, 0, 0};
        char err[1024];

        if (!p->store)
                return;
        if (p->store->ops->list(p->store, list_cb, &a, err, sizeof(err)) != JB_OK || a.nomem) {
                pub_failed(p, PF_LIST, a.nomem ? "out of memory" : err);
                docs_free(a.d, a.n);
                return;
        }
        pub_ok(p, PF_LIST);
        docs_free(p->docs, p->ndocs);
        p->docs = a.d;
        p->ndocs = a.n;
}

/* report.upload_folder's id, found (or made) once, again after the folder went away. */
static int upload_folder_id(struct status_pub *p, char *err, size_t errsz)
{
        struct aa_item it;
        int rc;

        if (p->up_folder_id)
                return JB_OK;
        if (!p->up && (rc = aa_client_new(p->aa, &p->up, err, errsz)) != JB_OK)
                return rc;
        memset(&it, 0, sizeof(it));
        if ((rc = status_folder_find(p->up, p->upload_folder, 1, &it, err, errsz)) != JB_OK)
                return rc;
        p->up_folder_id = it.fi_id ? strdup(it.fi_id) : NULL;
        aa_item_clear(&it);
        return p->up_folder_id ? JB_OK : jb_seterr(JB_ENOMEM, err, errsz, "out of memory");
}

/* Upload name over the previous one (the server replaces a file uploaded under a name that
 * exists: status_store.h). */
static int upload_one(struct status_pub *p, const char *name, const struct buf *data, char *err,
                      size_t errsz)
{
        int rc = aa_upload(p->up, p->up_folder_id, name, data->p, data->len, NULL, err, errsz);

        if (rc == JB_ENOTFOUND) { /* the folder went away: find or make it again */
                free(p->up_folder_id);
                p->up_folder_id = NULL;
                if ((rc = upload_folder_id(p, err, errsz)) == JB_OK)
                        rc = aa_upload(p->up, p->up_folder_id, name, data->p, data->len, NULL, err,
                                       errsz);
        }
        return rc;
}

static void upload(struct status_pub *p, const struct buf *json, const struct buf *html)
{
        char err[1024];
        int rc;

        if (!p->upload_folder || !p->aa)
                return;
        rc = upload_folder_id(p, err, sizeof(err));
        if (rc == JB_OK)
                rc = upload_one(p, "report.json", json, err, sizeof(err));
        if (rc == JB_OK)
                rc = upload_one(p, "report.html", html, err, sizeof(err));
        if (rc != JB_OK) {
                char msg[1400];

                snprintf(msg, sizeof(msg), "%s: %s", p->upload_folder, err);
                pub_failed(p, PF_UPLOAD, msg);
        } else {
                pub_ok(p, PF_UPLOAD);
        }
}

/* ---- alerts from the verdicts ---- */

static const char *jstr(const cJSON *o, const char *name)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

        return cJSON_IsString(v) && v->valuestring ? v->valuestring : NULL;
}

static struct pub_key *key_find(struct status_pub *p, const char *provider, const char *source,
                                const char *kind)
{
        size_t i;

        for (i = 0; i < p->nkeys; i++)
                if (!strcmp(p->keys[i].provider, provider) && !strcmp(p->keys[i].source, source) &&
                    !strcmp(p->keys[i].kind, kind))
                        return &p->keys[i];
        return NULL;
}

/* A problem of the report: raised (again: alert.h counts and repeats), remembered to clear. */
static void key_raise(struct status_pub *p, const char *provider, const char *source, const char *kind,
                      enum alert_level level, const char *text)
{
        struct pub_key *k = key_find(p, provider, source, kind);

        if (!k && p->nkeys < PUB_ALERT_KEYS_MAX) {
                k = &p->keys[p->nkeys];
                k->provider = strdup(provider);
                k->source = strdup(source);
                k->kind = strdup(kind);
                if (!k->provider || !k->source || !k->kind) {
                        free(k->provider);
                        free(k->source);
                        free(k->kind);
                        k = NULL;
                } else {
                        p->nkeys++;
                }
        }
        if (k)
                k->seen = 1;
        alert_raise(&(struct alert_key){provider, source, kind}, level, "%s", text);
}

static void key_drop(struct status_pub *p, size_t i)
{
        struct pub_key *k = &p->keys[i];

        alert_clear(&(struct alert_key){k->provider, k->source, k->kind});
        free(k->provider);
        free(k->source);
        free(k->kind);
        p->keys[i] = p->keys[--p->nkeys];
}

static void alerts(struct status_pub *p, const cJSON *report)
{
        const cJSON *prov, *src, *inst;
        char text[ALERT_TEXT_MAX];
        size_t i;

        for (i = 0; i < p->nkeys; i++)
                p->keys[i].seen = 0;
        cJSON_ArrayForEach(prov, cJSON_GetObjectItemCaseSensitive(report, "providers"))
        {
                const char *pname = jstr(prov, "name") ? jstr(prov, "name") : jstr(prov, "id");

                cJSON_ArrayForEach(src, cJSON_GetObjectItemCaseSensitive(prov, "sources"))
                {
                        const char *bucket = jstr(src, "bucket"), *verdict = jstr(src, "verdict");
                        const char *reason = jstr(src, "reason");

                        if (!pname || !bucket || !verdict || !strcmp(verdict, "OK"))
                                continue;
                        snprintf(text, sizeof(text), "log bucket %s of %s is %s: %s", bucket, pname,
                                 verdict, reason ? reason : "see the provider report");
                        if (!strcmp(verdict, "FAILING"))
                                key_raise(p, pname, bucket, "failing", ALERT_ERROR, text);
                        else
                                key_raise(p, pname, bucket, "late", ALERT_WARN, text);
                }
        }
        cJSON_ArrayForEach(inst, cJSON_GetObjectItemCaseSensitive(report, "instances"))
        {
                const char *name = jstr(inst, "instance");

                if (!name || !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(inst, "missing")))
                        continue;
                snprintf(text, sizeof(text),
                         "jibe instance %s has not published its status for 3 intervals: it stopped "
                         "or cannot reach the status store, and the providers it owns are not kept in "
                         "sync; check that it runs and read its log",
                         name);
                key_raise(p, "", name, "instance_missing", ALERT_ERROR, text);
        }
        for (i = p->nkeys; i-- > 0;)
                if (!p->keys[i].seen)
                        key_drop(p, i); /* OK again, or gone from the report */
}

/* Merge the store's documents (or only own, this instance's latest) into the report. */
static void report(struct status_pub *p, const struct buf *own)
{
        struct report_doc *docs;
        struct report_opts ro;
        struct buf json, html;
        char err[1024];
        cJSON *r;
        size_t i, n = 0;
        int rc;

        list_store(p);
        docs = calloc(p->ndocs + 1, sizeof(*docs));
        if (!docs) {
                pub_failed(p, PF_REPORT, "out of memory");
                return;
        }
        for (i = 0; i < p->ndocs; i++)
                if (strcmp(p->docs[i].instance, p->instance)) /* own: the fresher copy below */
                        docs[n++] =
                                (struct report_doc){p->docs[i].json, p->docs[i].len, p->docs[i].where};
        if (own->len)
                docs[n++] = (struct report_doc){own->p, own->len, "this instance"};
        ro.now_ms = wall_ms();
        ro.generated_by = p->instance;
        r = report_merge(docs, n, &ro, err, sizeof(err));
        free(docs);
        if (!r) {
                pub_failed(p, PF_REPORT, err);
                return;
        }
        buf_init(&json, 64U << 20);
        buf_init(&html, 64U << 20);
        rc = report_render_json(r, &json);
        if (rc == JB_OK)
                rc = report_render_html(r, &html);
        if (rc != JB_OK)
                snprintf(err, sizeof(err), "%s",
                         rc == JB_ELIMIT ? "the report is too large" : "out of memory");
        /* HTML first: a reader polling report.json then finds the matching page */
        if (rc == JB_OK &&
            (rc = local_write(p, "report.html", html.p, html.len, err, sizeof(err))) == JB_OK)
                rc = local_write(p, "report.json", json.p, json.len, err, sizeof(err));
        if (rc != JB_OK)
                pub_failed(p, PF_REPORT, err);
        else
                pub_ok(p, PF_REPORT);
        if (rc == JB_OK)
                upload(p, &json, &html);
        alerts(p, r);
        cJSON_Delete(r);
        buf_clear(&json);
        buf_clear(&html);
}

/* ---- the thread ---- */

static void *pub_thread(void *arg)
{
        struct status_pub *p = arg;
        struct buf own;
        struct timespec ts;
        int64_t now, next_pub, next_rep, due;
        int do_pub, do_rep;

        buf_init(&own, STATUS_DOC_MAX);
        seed(p);
        now = jb_mono_ms();
        next_pub = now; /* at once: the other instances see this one started */
        next_rep = now + (p->report_ms < p->publish_ms ? p->report_ms : p->publish_ms);
        pthread_mutex_lock(&p->mu);
        while (!p->stop) {
                now = jb_mono_ms();
                if (p->kick) {
                        p->kick = 0;
                        next_pub = now;
                        next_rep = now;
                }
                do_pub = now >= next_pub;
                do_rep = p->report_ms > 0 && now >= next_rep;
                if (do_pub || do_rep) {
                        pthread_mutex_unlock(&p->mu);
                        if (do_pub || !own.len)
                                (void)publish(p, &own);
                        if (do_rep)
                                report(p, &own);
                        pthread_mutex_lock(&p->mu);
                        now = jb_mono_ms();
                        if (do_pub)
                                next_pub = now + p->publish_ms;
                        if (do_rep)
                                next_rep = now + p->report_ms;
                        continue;
                }
                due = next_pub;
                if (p->report_ms > 0 && next_rep < due)
                        due = next_rep;
                jb_deadline(&ts, CLOCK_MONOTONIC, (long)(due - now));
                pthread_cond_timedwait(&p->cv, &p->mu, &ts);
        }
        pthread_mutex_unlock(&p->mu);
        (void)publish(p, &own); /* the last word: what this instance did until it stopped */
        buf_clear(&own);
        return NULL;
}

static void pub_free(struct status_pub *p)
{
        size_t i;

        if (!p)
                return;
        status_store_free(p->store);
        aa_client_free(p->up);
        free(p->up_folder_id);
        docs_free(p->docs, p->ndocs);
        for (i = 0; i < p->nkeys; i++) {
                free(p->keys[i].provider);
                free(p->keys[i].source);
                free(p->keys[i].kind);
        }
        free(p->instance);
        free(p->state_dir);
        free(p->upload_folder);
        free(p->own_file);
        pthread_cond_destroy(&p->cv);
        pthread_mutex_destroy(&p->mu);
        free(p);
}

int status_pub_start(const struct status_pub_opts *o, struct status_store *store,
                     struct status_pub **out, char *errstr, size_t errsz)
{
        struct status_pub *p;

        *out = NULL;
        if (!o->instance || !*o->instance || !o->state_dir || o->publish_s <= 0) {
                status_store_free(store);
                return jb_seterr(JB_EINPUT, errstr, errsz,
                                 "the status publisher needs an instance name, a state directory and "
                                 "a publication interval");
        }
        p = calloc(1, sizeof(*p));
        if (!p) {
                status_store_free(store);
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        }
        p->store = store;
        if (pthread_mutex_init(&p->mu, NULL) != 0) {
                status_store_free(store);
                free(p);
                return jb_seterr(JB_ENOMEM, errstr, errsz, "cannot make a mutex");
        }
        if (jb_cond_init_mono(&p->cv) != 0) {
                pthread_mutex_destroy(&p->mu);
                status_store_free(store);
                free(p);
                return jb_seterr(JB_ENOMEM, errstr, errsz, "cannot make a condition variable");
        }
        p->instance = strdup(o->instance);
        p->state_dir = strdup(o->state_dir);
        p->own_file = strdup(o->own_file && *o->own_file ? o->own_file : STATUS_PUB_FILE);
        p->upload_folder = o->upload_folder && *o->upload_folder ? strdup(o->upload_folder) : NULL;
        p->publish_ms = o->publish_s * 1000;
        p->report_ms = o->report_interval_min > 0 ? (long)(o->report_interval_min * 60000.0) : 0;
        if (p->report_ms > 0 && p->report_ms < 1000)
                p->report_ms = 1000;
        p->aa = o->aa;
        if (!p->instance || !p->state_dir || !p->own_file ||
            (o->upload_folder && *o->upload_folder && !p->upload_folder)) {
                pub_free(p);
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        }
        if (pthread_create(&p->th, NULL, pub_thread, p) != 0) {
                pub_free(p);
                return jb_seterr(JB_ENOMEM, errstr, errsz, "cannot start the status publisher's thread");
        }
        p->started = 1;
        *out = p;
        return JB_OK;
}

void status_pub_kick(struct status_pub *p)
{
        if (!p)
                return;
        pthread_mutex_lock(&p->mu);
        p->kick = 1;
        pthread_cond_signal(&p->cv);
        pthread_mutex_unlock(&p->mu);
}

void status_pub_stop(struct status_pub *p)
{
        if (!p)
                return;
        pthread_mutex_lock(&p->mu);
        p->stop = 1;
        pthread_cond_signal(&p->cv);
        pthread_mutex_unlock(&p->mu);
        if (p->started)
                pthread_join(p->th, NULL);
        pub_free(p);
}
