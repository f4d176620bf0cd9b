/*
 * status.c - the recorder of status.h: this process's providers, sources, managed buckets,
 * backlog and problems, in bounded tables behind one mutex, and the "instance_status"
 * document of docs/STATUS.md built from them.
 *
 * Time series are rings of STATUS_SLOTS counters, each stamped with its slot number
 * (floor(ms / 900000)): a counter whose stamp is not the slot asked for reads 0, so a ring
 * needs no rolling and merging by slot number stays exact. The latency histogram keeps its
 * counts per slot for the window's slots only.
 */
#include "status.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>

#include "log.h"

#define SLOT_MS ((int64_t)STATUS_SLOT_S * 1000)

static const int lat_le_s[STATUS_LAT_BOUNDS] = {1,   2,   5,    10,   20,   30,   60, 120,
                                                300, 600, 1200, 1800, 3600, 7200, -1};
static const char *const class_names[STATUS_CLASSES] = {"malformed", "not_s3",    "failed",  "not_write",
                                                        "self",      "unmanaged", "covered", "put",
                                                        "delete",    "bucket"};
static const char *const ev_names[STATUS_EV_N] = {"self", "covered", "put", "delete", "bucket"};

struct ring {
        int64_t stamp[STATUS_SLOTS];
        uint64_t v[STATUS_SLOTS];
};

struct provider {
        char *id, *name;
        char **buckets;
        size_t nbuckets;
        int owned;
        int has_sync;
        int64_t sync_start, sync_end, sync_files;
        char *sync_from;
};

struct source {
        char *provider, *bucket;
        int scanned;
        int has_scan;
        int64_t last_ok, last_error;
        char *last_error_text;
        uint64_t errors;
        int failing;
        uint64_t found, processed, quarantined;
        struct ring r_found, r_processed, r_quarantined;
        char *newest_path;
        int64_t newest_visible, newest_event; /* -1 unknown */
        uint64_t classes[STATUS_CLASSES];
        uint64_t log_bucket_records;
        int has_classes;
        int has_digest; /* status_digest() was called */
        struct status_digest digest;
};

struct lat_slot {
        int64_t stamp;
        uint64_t counts[STATUS_LAT_BOUNDS];
};

struct bucket {
        char *provider, *bucket;
        uint64_t events[STATUS_EV_N];
        int has_events;
        uint64_t resyncs[2][2]; /* [method][ok] */
        int has_resyncs;
        int64_t last_ok, last_error;
        char *last_error_text;
        uint64_t dead;
        struct ring r_events, r_resyncs, r_ok, r_failed;
        struct lat_slot lat[STATUS_WINDOW_SLOTS];
};

struct problem {
        int level;
        char *provider, *source, *kind, *module, *text;
        uint64_t count;
        int64_t first, last;
        int active;
};

static struct {
        pthread_mutex_t mu;
        char *instance, *role, *version;
        long publish_s, late_after_s;
        int64_t started_ms;
        struct provider *prov[STATUS_PROVIDERS_MAX];
        size_t nprov;
        struct source *src[STATUS_SOURCES_MAX];
        size_t nsrc;
        struct bucket *bkt[STATUS_BUCKETS_MAX];
        size_t nbkt;
        struct problem *prob[STATUS_PROBLEMS_MAX];
        size_t nprob;
        int64_t backlog_files, backlog_events, backlog_lag;
        uint64_t dropped;
        int64_t (*clock)(void);
} S = {.mu = PTHREAD_MUTEX_INITIALIZER, .backlog_lag = -1};

static int64_t wall_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t now_locked(void)
{
        return S.clock ? S.clock() : wall_ms();
}

static int64_t slot_of(int64_t ms)
{
        return ms >= 0 ? ms / SLOT_MS : (ms - SLOT_MS + 1) / SLOT_MS;
}

static const char *nz(const char *s)
{
        return s ? s : "";
}

/* A copy, or NULL when out of memory (the field then reads ""). */
static char *dup_cut(const char *s, size_t max)
{
        size_t n = strlen(nz(s));
        char *d;

        if (n > max)
                n = max;
        d = malloc(n + 1);
        if (d) {
                memcpy(d, nz(s), n);
                d[n] = '\0';
        }
        return d;
}

static char *sdup(const char *s)
{
        return dup_cut(s, 4096);
}

static void set_str(char **dst, const char *s, size_t max)
{
        char *d = dup_cut(s, max);

        if (d) {
                free(*dst);
                *dst = d;
        }
}

/* A text that leaves the process (the document): cut and scrubbed of secrets, before the
 * recorder's lock is taken. */
static const char *scrubbed(char out[STATUS_TEXT_MAX + 1], const char *in)
{
        if (!in)
                return NULL;
        snprintf(out, STATUS_TEXT_MAX + 1, "%s", in);
        log_scrub(out);
        return out;
}

static void ring_init(struct ring *r)
{
        for (size_t i = 0; i < STATUS_SLOTS; i++)
                r->stamp[i] = INT64_MIN;
}

static void ring_add(struct ring *r, int64_t slot, uint64_t n)
{
        size_t i = (size_t)(((slot % STATUS_SLOTS) + STATUS_SLOTS) % STATUS_SLOTS);

        if (r->stamp[i] != slot) {
                r->stamp[i] = slot;
                r->v[i] = 0;
        }
        r->v[i] += n;
}

static uint64_t ring_get(const struct ring *r, int64_t slot)
{
        size_t i = (size_t)(((slot % STATUS_SLOTS) + STATUS_SLOTS) % STATUS_SLOTS);

        return r->stamp[i] == slot ? r->v[i] : 0;
}

/* Sum over the window ending with slot cur. */
static uint64_t ring_window(const struct ring *r, int64_t cur)
{
        uint64_t n = 0;

        for (int64_t s = cur - STATUS_WINDOW_SLOTS + 1; s <= cur; s++)
                n += ring_get(r, s);
        return n;
}

/* ---- tables ---- */

static void provider_free(struct provider *p)
{
        if (!p)
                return;
        free(p->id);
        free(p->name);
        for (size_t i = 0; i < p->nbuckets; i++)
                free(p->buckets[i]);
        free(p->buckets);
        free(p->sync_from);
        free(p);
}

static void source_free(struct source *s)
{
        if (!s)
                return;
        free(s->provider);
        free(s->bucket);
        free(s->last_error_text);
        free(s->newest_path);
        free(s);
}

static void bucket_free(struct bucket *b)
{
        if (!b)
                return;
        free(b->provider);
        free(b->bucket);
        free(b->last_error_text);
        free(b);
}

static void problem_free(struct problem *p)
{
        if (!p)
                return;
        free(p->provider);
        free(p->source);
        free(p->kind);
        free(p->module);
        free(p->text);
        free(p);
}

static struct provider *provider_get(const char *id)
{
        struct provider *p;

        for (size_t i = 0; i < S.nprov; i++)
                if (!strcmp(S.prov[i]->id, nz(id)))
                        return S.prov[i];
        if (S.nprov == STATUS_PROVIDERS_MAX) {
                S.dropped++;
                return NULL;
        }
        p = calloc(1, sizeof(*p));
        if (!p || !(p->id = sdup(id)) || !(p->name = sdup(""))) {
                provider_free(p);
                S.dropped++;
                return NULL;
        }
        S.prov[S.nprov++] = p;
        return p;
}

static struct source *source_get(const char *provider, const char *bucket)
{
        struct source *s;

        for (size_t i = 0; i < S.nsrc; i++)
                if (!strcmp(S.src[i]->provider, nz(provider)) && !strcmp(S.src[i]->bucket, nz(bucket)))
                        return S.src[i];
        if (S.nsrc == STATUS_SOURCES_MAX) {
                S.dropped++;
                return NULL;
        }
        s = calloc(1, sizeof(*s));
        if (!s || !(s->provider = sdup(provider)) || !(s->bucket = sdup(bucket))) {
                source_free(s);
                S.dropped++;
                return NULL;
        }
        ring_init(&s->r_found);
        ring_init(&s->r_processed);
        ring_init(&s->r_quarantined);
        s->newest_visible = -1;
        s->newest_event = -1;
        S.src[S.nsrc++] = s;
        return s;
}

static struct bucket *bucket_get(const char *provider, const char *bucket)
{
        struct bucket *b;

        for (size_t i = 0; i < S.nbkt; i++)
                if (!strcmp(S.bkt[i]->provider, nz(provider)) && !strcmp(S.bkt[i]->bucket, nz(bucket)))
                        return S.bkt[i];
        if (S.nbkt == STATUS_BUCKETS_MAX) {
                S.dropped++;
                return NULL;
        }
        b = calloc(1, sizeof(*b));
        if (!b || !(b->provider = sdup(provider)) || !(b->bucket = sdup(bucket))) {
                bucket_free(b);
                S.dropped++;
                return NULL;
        }
        ring_init(&b->r_events);
        ring_init(&b->r_resyncs);
        ring_init(&b->r_ok);
        ring_init(&b->r_failed);
        for (size_t i = 0; i < STATUS_WINDOW_SLOTS; i++)
                b->lat[i].stamp = INT64_MIN;
        S.bkt[S.nbkt++] = b;
        return b;
}

static void forget_locked(void)
{
        for (size_t i = 0; i < S.nprov; i++)
                provider_free(S.prov[i]);
        for (size_t i = 0; i < S.nsrc; i++)
                source_free(S.src[i]);
        for (size_t i = 0; i < S.nbkt; i++)
                bucket_free(S.bkt[i]);
        for (size_t i = 0; i < S.nprob; i++)
                problem_free(S.prob[i]);
        S.nprov = S.nsrc = S.nbkt = S.nprob = 0;
        free(S.instance);
        free(S.role);
        free(S.version);
        S.instance = S.role = S.version = NULL;
        S.publish_s = S.late_after_s = 0;
        S.backlog_files = S.backlog_events = 0;
        S.backlog_lag = -1;
        S.dropped = 0;
}

void status_init(const struct status_ident *id)
{
        pthread_mutex_lock(&S.mu);
        forget_locked();
        if (id) {
                S.instance = sdup(id->instance);
                S.role = sdup(id->role);
                S.version = sdup(id->version);
                S.publish_s = id->publish_s;
                S.late_after_s = id->late_after_s;
        }
        S.started_ms = now_locked();
        pthread_mutex_unlock(&S.mu);
}

void status_reset(void)
{
        pthread_mutex_lock(&S.mu);
        forget_locked();
        pthread_mutex_unlock(&S.mu);
}

void status_clock_set(int64_t (*now_ms)(void))
{
        pthread_mutex_lock(&S.mu);
        S.clock = now_ms;
        pthread_mutex_unlock(&S.mu);
}

uint64_t status_dropped(void)
{
        uint64_t n;

        pthread_mutex_lock(&S.mu);
        n = S.dropped;
        pthread_mutex_unlock(&S.mu);
        return n;
}

void status_backlog(int64_t files, int64_t events, int64_t lag)
{
        pthread_mutex_lock(&S.mu);
        S.backlog_files = files;
        S.backlog_events = events;
        S.backlog_lag = lag < 0 ? -1 : lag;
        pthread_mutex_unlock(&S.mu);
}

/* ---- recording ---- */

void status_provider(const char *id, const char *name, const char *const *buckets, size_t n, int owned)
{
        struct provider *p;

        pthread_mutex_lock(&S.mu);
        p = provider_get(id);
        if (!p)
                goto out;
        if (name && *name)
                set_str(&p->name, name, 256);
        if (owned)
                p->owned = 1;
        if (buckets && n) {
                char **nb;
                size_t k = 0;

                if (n > STATUS_PROVIDER_BUCKETS_MAX) {
                        S.dropped++;
                        n = STATUS_PROVIDER_BUCKETS_MAX;
                }
                nb = calloc(n, sizeof(*nb));
                if (!nb) {
                        S.dropped++;
                        goto out;
                }
                for (size_t i = 0; i < n; i++)
                        if ((nb[k] = sdup(buckets[i])))
                                k++;
                for (size_t i = 0; i < p->nbuckets; i++)
                        free(p->buckets[i]);
                free(p->buckets);
                p->buckets = nb;
                p->nbuckets = k;
        }
out:
        pthread_mutex_unlock(&S.mu);
}

void status_last_sync(const char *provider, const struct status_sync *s)
{
        struct provider *p;

        if (!s)
                return;
        pthread_mutex_lock(&S.mu);
        p = provider_get(provider);
        if (p && (!p->has_sync || s->end_ms > p->sync_end)) {
                p->has_sync = 1;
                p->sync_start = s->start_ms;
                p->sync_end = s->end_ms;
                p->sync_files = s->files;
                set_str(&p->sync_from, s->from, 256);
        }
        pthread_mutex_unlock(&S.mu);
}

void status_source(const char *provider, const char *bucket, int scanned)
{
        struct source *s;

        pthread_mutex_lock(&S.mu);
        s = source_get(provider, bucket);
        if (s && scanned)
                s->scanned = 1;
        pthread_mutex_unlock(&S.mu);
}

void status_digest(const char *provider, const char *bucket, const struct status_digest *d)
{
        struct source *s;

        pthread_mutex_lock(&S.mu);
        s = source_get(provider, bucket);
        if (s && d) {
                s->digest = *d;
                s->has_digest = 1;
        }
        pthread_mutex_unlock(&S.mu);
}

void status_scan(const char *provider, const char *bucket, int ok, const char *error)
{
        char tbuf[STATUS_TEXT_MAX + 1];
        struct source *s;

        error = scrubbed(tbuf, error);

        pthread_mutex_lock(&S.mu);
        s = source_get(provider, bucket);
        if (s) {
                int64_t now = now_locked();

                s->has_scan = 1;
                s->scanned = 1;
                if (ok) {
                        s->last_ok = now;
                        s->failing = 0;
                } else {
                        s->last_error = now;
                        s->errors++;
                        s->failing = 1;
                        set_str(&s->last_error_text, error && *error ? error : "scan failed",
                                STATUS_TEXT_MAX);
                }
        }
        pthread_mutex_unlock(&S.mu);
}

void status_file_found(const char *provider, const char *bucket, const char *path, int64_t visible_ms)
{
        struct source *s;

        pthread_mutex_lock(&S.mu);
        s = source_get(provider, bucket);
        if (s) {
                int64_t now = now_locked();

                if (visible_ms <= 0)
                        visible_ms = now;
                s->found++;
                ring_add(&s->r_found, slot_of(now), 1);
                if (s->newest_visible < 0 || visible_ms > s->newest_visible ||
                    (visible_ms == s->newest_visible && strcmp(nz(path), nz(s->newest_path)) > 0)) {
                        char *d = sdup(path);

                        if (d) {
                                free(s->newest_path);
                                s->newest_path = d;
                                s->newest_visible = visible_ms;
                                s->newest_event = -1;
                        }
                }
        }
        pthread_mutex_unlock(&S.mu);
}

void status_file_done(const struct status_file *f)
{
        struct source *s;

        if (!f)
                return;
        pthread_mutex_lock(&S.mu);
        s = source_get(f->provider, f->bucket);
        if (s) {
                int64_t slot = slot_of(now_locked());

                if (f->quarantined) {
                        s->quarantined++;
                        ring_add(&s->r_quarantined, slot, 1);
                } else {
                        s->processed++;
                        ring_add(&s->r_processed, slot, 1);
                }
                for (size_t i = 0; i < STATUS_CLASSES; i++)
                        s->classes[i] += f->classes[i];
                s->log_bucket_records += f->log_bucket_records;
                s->has_classes = 1;
                /* The newest file's eventTime: the scanner's newest when this is that file
                 * (embedded mode, or a seeded path), else the parser's own newest by
                 * visibility when it has no scanner in the process. */
                if (f->event_ms >= 0 && f->path && s->newest_path && !strcmp(f->path, s->newest_path)) {
                        if (f->event_ms > s->newest_event)
                                s->newest_event = f->event_ms;
                } else if (f->event_ms >= 0 && !s->scanned && f->visible_ms > 0 &&
                           (s->newest_visible < 0 || f->visible_ms > s->newest_visible)) {
                        char *d = sdup(f->path);

                        if (d) {
                                free(s->newest_path);
                                s->newest_path = d;
                                s->newest_visible = f->visible_ms;
                                s->newest_event = f->event_ms;
                        }
                }
        }
        pthread_mutex_unlock(&S.mu);
}

void status_events(const char *provider, const char *bucket, const uint64_t n[STATUS_EV_N])
{
        struct bucket *b;

        pthread_mutex_lock(&S.mu);
        b = bucket_get(provider, bucket);
        if (b) {
                uint64_t actionable = n[STATUS_EV_PUT] + n[STATUS_EV_DELETE] + n[STATUS_EV_BUCKET];

                for (size_t i = 0; i < STATUS_EV_N; i++)
                        b->events[i] += n[i];
                b->has_events = 1;
                if (actionable)
                        ring_add(&b->r_events, slot_of(now_locked()), actionable);
        }
        pthread_mutex_unlock(&S.mu);
}

static size_t lat_bin(int64_t ms)
{
        for (size_t i = 0; i + 1 < STATUS_LAT_BOUNDS; i++)
                if (ms <= (int64_t)lat_le_s[i] * 1000)
                        return i;
        return STATUS_LAT_BOUNDS - 1;
}

void status_resync(const char *provider, const char *bucket, enum status_method method, int ok,
                   int64_t latency_ms, const char *error)
{
        char tbuf[STATUS_TEXT_MAX + 1];
        struct bucket *b;

        error = ok ? NULL : scrubbed(tbuf, error);

        pthread_mutex_lock(&S.mu);
        b = bucket_get(provider, bucket);
        if (b) {
                int64_t now = now_locked(), slot = slot_of(now);
                int m = method == STATUS_RESYNC_REFRESH ? 1 : 0;

                b->resyncs[m][ok ? 1 : 0]++;
                b->has_resyncs = 1;
                ring_add(&b->r_resyncs, slot, 1);
                ring_add(ok ? &b->r_ok : &b->r_failed, slot, 1);
                if (ok) {
                        b->last_ok = now;
                        if (latency_ms >= 0) {
                                struct lat_slot *l = &b->lat[(size_t)(slot % STATUS_WINDOW_SLOTS)];

                                if (l->stamp != slot) {
                                        l->stamp = slot;
                                        memset(l->counts, 0, sizeof(l->counts));
                                }
                                l->counts[lat_bin(latency_ms)]++;
                        }
                } else {
                        b->last_error = now;
                        set_str(&b->last_error_text, error && *error ? error : "resync failed",
                                STATUS_TEXT_MAX);
                }
        }
        pthread_mutex_unlock(&S.mu);
}

void status_dead(const char *provider, const char *bucket, uint64_t n)
{
        struct bucket *b;

        pthread_mutex_lock(&S.mu);
        b = bucket_get(provider, bucket);
        if (b)
                b->dead += n;
        pthread_mutex_unlock(&S.mu);
}

static int problem_is(const struct problem *p, const char *provider, const char *source,
                      const char *kind, const char *module)
{
        return !strcmp(p->provider, nz(provider)) && !strcmp(p->source, nz(source)) &&
               !strcmp(p->kind, nz(kind)) && !strcmp(p->module, nz(module));
}

static void problem_rec(enum status_level level, const char *provider, const char *source,
                        const char *kind, const char *module, const char *text, int lasting)
{
        char tbuf[STATUS_TEXT_MAX + 1];
        struct problem *p = NULL;
        size_t i;
        int64_t now;

        text = scrubbed(tbuf, text);
        pthread_mutex_lock(&S.mu);
        now = now_locked();
        for (i = 0; i < S.nprob; i++)
                if (problem_is(S.prob[i], provider, source, kind, module)) {
                        p = S.prob[i];
                        break;
                }
        if (!p) {
                p = calloc(1, sizeof(*p));
                if (!p || !(p->provider = sdup(provider)) || !(p->source = sdup(source)) ||
                    !(p->kind = sdup(kind)) || !(p->module = sdup(module)) ||
                    !(p->text = dup_cut(text, STATUS_TEXT_MAX))) {
                        problem_free(p);
                        S.dropped++;
                        goto out;
                }
                p->first = now;
                if (S.nprob == STATUS_PROBLEMS_MAX) {
                        /* the table keeps the newest: the problem seen longest ago goes */
                        size_t old = 0;

                        for (size_t k = 1; k < S.nprob; k++)
                                if (S.prob[k]->last < S.prob[old]->last)
                                        old = k;
                        problem_free(S.prob[old]);
                        S.prob[old] = S.prob[--S.nprob];
                        S.dropped++;
                }
                S.prob[S.nprob++] = p;
        } else {
                set_str(&p->text, text, STATUS_TEXT_MAX);
        }
        p->level = level == STATUS_ERROR ? STATUS_ERROR : STATUS_WARN;
        p->count++;
        p->last = now;
        p->active = lasting;
out:
        pthread_mutex_unlock(&S.mu);
}

void status_problem(enum status_level level, const char *provider, const char *source, const char *kind,
                    const char *module, const char *text)
{
        problem_rec(level, provider, source, kind, module, text, 1);
}

void status_problem_once(enum status_level level, const char *provider, const char *source,
                         const char *kind, const char *module, const char *text)
{
        problem_rec(level, provider, source, kind, module, text, 0);
}

void status_problem_clear(const char *provider, const char *source, const char *kind, const char *module)
{
        pthread_mutex_lock(&S.mu);
        for (size_t i = 0; i < S.nprob; i++)
                if (problem_is(S.prob[i], provider, source, kind, module))
                        S.prob[i]->active = 0;
        pthread_mutex_unlock(&S.mu);
}

/* ---- the document ---- */

static int add_num(cJSON *o, const char *k, double v)
{
        return cJSON_AddNumberToObject(o, k, v) != NULL;
}

static int add_str(cJSON *o, const char *k, const char *v)
{
        return cJSON_AddStringToObject(o, k, nz(v)) != NULL;
}

static int add_bool(cJSON *o, const char *k, int v)
{
        return cJSON_AddBoolToObject(o, k, v ? 1 : 0) != NULL;
}

static cJSON *add_obj(cJSON *o, const char *k)
{
        return cJSON_AddObjectToObject(o, k);
}

static int add_series(cJSON *o, const char *k, const struct ring *r, int64_t cur)
{
        cJSON *a = cJSON_AddArrayToObject(o, k);

        if (!a)
                return 0;
        for (int64_t s = cur - STATUS_SLOTS + 1; s <= cur; s++) {
                cJSON *n = cJSON_CreateNumber((double)ring_get(r, s));

                if (!n || !cJSON_AddItemToArray(a, n)) {
                        cJSON_Delete(n);
                        return 0;
                }
        }
        return 1;
}

static int put_provider(cJSON *arr, const struct provider *p)
{
        cJSON *o = cJSON_CreateObject(), *b;

        if (!o || !cJSON_AddItemToArray(arr, o)) {
                cJSON_Delete(o);
                return 0;
        }
        if (!add_str(o, "id", p->id) || !add_str(o, "name", p->name) ||
            !(b = cJSON_AddArrayToObject(o, "buckets")))
                return 0;
        for (size_t i = 0; i < p->nbuckets; i++) {
                cJSON *s = cJSON_CreateString(p->buckets[i]);

                if (!s || !cJSON_AddItemToArray(b, s)) {
                        cJSON_Delete(s);
                        return 0;
                }
        }
        if (!add_bool(o, "owned", p->owned))
                return 0;
        if (p->has_sync) {
                cJSON *ls = add_obj(o, "last_sync");

                if (!ls || !add_num(ls, "start_ms", (double)p->sync_start) ||
                    !add_num(ls, "end_ms", (double)p->sync_end))
                        return 0;
                if (p->sync_files >= 0 && !add_num(ls, "files", (double)p->sync_files))
                        return 0;
                if (p->sync_from && *p->sync_from && !add_str(ls, "from", p->sync_from))
                        return 0;
        }
        return 1;
}

/* A source's "digests" object (docs/STATUS.md): the figures of status_digest(). */
static int put_digest(cJSON *o, const struct status_digest *d)
{
        cJSON *g = add_obj(o, "digests");

        return g && add_bool(g, "available", d->available) && add_num(g, "chains", (double)d->chains) &&
               add_num(g, "digests", (double)d->digests) &&
               add_num(g, "backfill", (double)d->backfill) &&
               add_num(g, "covered_s", (double)d->covered_s) &&
               add_num(g, "listed", (double)d->listed) && add_num(g, "done", (double)d->done) &&
               add_num(g, "recovered", (double)d->recovered) &&
               add_num(g, "missing", (double)d->missing) &&
               add_num(g, "tampered", (double)d->tampered) &&
               add_num(g, "unverified", (double)d->unverified) && add_num(g, "gaps", (double)d->gaps) &&
               add_num(g, "pending", (double)d->pending) &&
               add_num(g, "last_end_ms", (double)d->last_end_ms);
}

static int put_source(cJSON *arr, const struct source *s, int64_t cur)
{
        cJSON *o = cJSON_CreateObject(), *f, *ser;

        if (!o || !cJSON_AddItemToArray(arr, o)) {
                cJSON_Delete(o);
                return 0;
        }
        if (!add_str(o, "provider", s->provider) || !add_str(o, "bucket", s->bucket) ||
            !add_bool(o, "scanned", s->scanned))
                return 0;
        if (s->has_scan) {
                cJSON *sc = add_obj(o, "scan");

                if (!sc)
                        return 0;
                if (s->last_ok && !add_num(sc, "last_ok_ms", (double)s->last_ok))
                        return 0;
                if (s->last_error && (!add_num(sc, "last_error_ms", (double)s->last_error) ||
                                      !add_str(sc, "last_error", s->last_error_text)))
                        return 0;
                if (!add_num(sc, "errors", (double)s->errors) || !add_bool(sc, "failing", s->failing))
                        return 0;
        }
        if (!(f = add_obj(o, "files")) || !add_num(f, "found", (double)s->found) ||
            !add_num(f, "processed", (double)s->processed) ||
            !add_num(f, "quarantined", (double)s->quarantined) ||
            !add_num(f, "found_window", (double)ring_window(&s->r_found, cur)) ||
            !add_num(f, "processed_window", (double)ring_window(&s->r_processed, cur)) ||
            !add_num(f, "quarantined_window", (double)ring_window(&s->r_quarantined, cur)))
                return 0;
        if (s->newest_path && s->newest_visible >= 0) {
                cJSON *n = add_obj(o, "newest");

                if (!n || !add_str(n, "path", s->newest_path) ||
                    !add_num(n, "visible_ms", (double)s->newest_visible))
                        return 0;
                if (s->newest_event >= 0 &&
                    (!add_num(n, "event_ms", (double)s->newest_event) ||
                     !add_num(n, "delay_ms", (double)(s->newest_visible - s->newest_event))))
                        return 0;
        }
        if (s->has_classes) {
                cJSON *c = add_obj(o, "classes");

                if (!c)
                        return 0;
                for (size_t i = 0; i < STATUS_CLASSES; i++)
                        if (!add_num(c, class_names[i], (double)s->classes[i]))
                                return 0;
                if (!add_num(o, "log_bucket_records", (double)s->log_bucket_records))
                        return 0;
        }
        if (s->has_digest && !put_digest(o, &s->digest))
                return 0;
        if (!(ser = add_obj(o, "series")) || !add_series(ser, "files", &s->r_processed, cur))
                return 0;
        return 1;
}

static int put_resync_pair(cJSON *o, const char *k, uint64_t ok, uint64_t failed)
{
        cJSON *r = add_obj(o, k);

        return r && add_num(r, "ok", (double)ok) && add_num(r, "failed", (double)failed);
}

static int put_bucket(cJSON *arr, const struct bucket *b, int64_t cur)
{
        cJSON *o = cJSON_CreateObject(), *r, *lw, *le, *cn, *ser;
        uint64_t counts[STATUS_LAT_BOUNDS] = {0};

        if (!o || !cJSON_AddItemToArray(arr, o)) {
                cJSON_Delete(o);
                return 0;
        }
        if (!add_str(o, "provider", b->provider) || !add_str(o, "bucket", b->bucket))
                return 0;
        if (b->has_events) {
                cJSON *e = add_obj(o, "events");

                if (!e)
                        return 0;
                for (size_t i = 0; i < STATUS_EV_N; i++)
                        if (!add_num(e, ev_names[i], (double)b->events[i]))
                                return 0;
        }
        if (!(r = add_obj(o, "resyncs")) ||
            !put_resync_pair(r, "event", b->resyncs[0][1], b->resyncs[0][0]) ||
            !put_resync_pair(r, "refresh", b->resyncs[1][1], b->resyncs[1][0]) ||
            !put_resync_pair(o, "resyncs_window", ring_window(&b->r_ok, cur),
                             ring_window(&b->r_failed, cur)))
                return 0;
        if (b->last_ok && !add_num(o, "last_resync_ok_ms", (double)b->last_ok))
                return 0;
        if (b->last_error && (!add_num(o, "last_resync_error_ms", (double)b->last_error) ||
                              !add_str(o, "last_resync_error", b->last_error_text)))
                return 0;
        if (!add_num(o, "dead", (double)b->dead))
                return 0;
        for (size_t i = 0; i < STATUS_WINDOW_SLOTS; i++) {
                const struct lat_slot *l = &b->lat[i];

                if (l->stamp > cur - STATUS_WINDOW_SLOTS && l->stamp <= cur)
                        for (size_t k = 0; k < STATUS_LAT_BOUNDS; k++)
                                counts[k] += l->counts[k];
        }
        if (!(lw = add_obj(o, "latency_window")) || !(le = cJSON_AddArrayToObject(lw, "le_s")) ||
            !(cn = cJSON_AddArrayToObject(lw, "counts")))
                return 0;
        for (size_t k = 0; k < STATUS_LAT_BOUNDS; k++) {
                cJSON *a = cJSON_CreateNumber(lat_le_s[k]), *c = cJSON_CreateNumber((double)counts[k]);

                if (!a || !c || !cJSON_AddItemToArray(le, a)) {
                        cJSON_Delete(a);
                        cJSON_Delete(c);
                        return 0;
                }
                if (!cJSON_AddItemToArray(cn, c)) {
                        cJSON_Delete(c);
                        return 0;
                }
        }
        if (!(ser = add_obj(o, "series")) || !add_series(ser, "events", &b->r_events, cur) ||
            !add_series(ser, "resyncs", &b->r_resyncs, cur))
                return 0;
        return 1;
}

static int put_problems(cJSON *arr)
{
        const struct problem *order[STATUS_PROBLEMS_MAX];
        size_t n = S.nprob;

        memcpy(order, S.prob, n * sizeof(order[0]));
        /* newest first (insertion sort: at most STATUS_PROBLEMS_MAX) */
        for (size_t i = 1; i < n; i++) {
                const struct problem *p = order[i];
                size_t j = i;

                for (; j > 0 && order[j - 1]->last < p->last; j--)
                        order[j] = order[j - 1];
                order[j] = p;
        }
        for (size_t i = 0; i < n; i++) {
                const struct problem *p = order[i];
                cJSON *o = cJSON_CreateObject();

                if (!o || !cJSON_AddItemToArray(arr, o)) {
                        cJSON_Delete(o);
                        return 0;
                }
                if (!add_str(o, "level", p->level == STATUS_ERROR ? "error" : "warn") ||
                    !add_str(o, "kind", p->kind) || !add_str(o, "provider", p->provider) ||
                    !add_str(o, "source", p->source) ||
                    (*p->module && !add_str(o, "module", p->module)) || !add_str(o, "text", p->text) ||
                    !add_num(o, "count", (double)p->count) ||
                    !add_num(o, "first_ms", (double)p->first) ||
                    !add_num(o, "last_ms", (double)p->last) || !add_bool(o, "active", p->active))
                        return 0;
        }
        return 1;
}

static int build_locked(cJSON *d, int64_t now_ms)
{
        int64_t cur = slot_of(now_ms);
        char host[256];
        cJSON *a, *bl;

        if (gethostname(host, sizeof(host)) != 0)
                snprintf(host, sizeof(host), "unknown");
        host[sizeof(host) - 1] = '\0';
        if (!add_num(d, "v", STATUS_SCHEMA_VERSION) || !add_str(d, "type", "instance_status") ||
            !add_str(d, "instance", S.instance) || !add_str(d, "role", S.role) ||
            !add_str(d, "host", host) || !add_str(d, "version", S.version) ||
            !add_num(d, "pid", (double)getpid()) || !add_num(d, "started_ms", (double)S.started_ms) ||
            !add_num(d, "at_ms", (double)now_ms) || !add_num(d, "publish_s", (double)S.publish_s) ||
            !add_num(d, "late_after_s", (double)S.late_after_s) ||
            !add_num(d, "slot_s", STATUS_SLOT_S) ||
            !add_num(d, "slot_end_ms", (double)((cur + 1) * SLOT_MS)))
                return 0;
        if (!(a = cJSON_AddArrayToObject(d, "providers")))
                return 0;
        for (size_t i = 0; i < S.nprov; i++)
                if (!put_provider(a, S.prov[i]))
                        return 0;
        if (!(a = cJSON_AddArrayToObject(d, "sources")))
                return 0;
        for (size_t i = 0; i < S.nsrc; i++)
                if (!put_source(a, S.src[i], cur))
                        return 0;
        if (!(a = cJSON_AddArrayToObject(d, "buckets")))
                return 0;
        for (size_t i = 0; i < S.nbkt; i++)
                if (!put_bucket(a, S.bkt[i], cur))
                        return 0;
        if (!(bl = add_obj(d, "backlog")) || !add_num(bl, "files", (double)S.backlog_files) ||
            !add_num(bl, "events", (double)S.backlog_events) ||
            !add_num(bl, "lag", (double)S.backlog_lag))
                return 0;
        if (!(a = cJSON_AddArrayToObject(d, "problems")) || !put_problems(a))
                return 0;
        if (S.dropped && !add_num(d, "dropped", (double)S.dropped))
                return 0;
        return 1;
}

int status_snapshot(int64_t now_ms, struct buf *out)
{
        cJSON *d = cJSON_CreateObject();
        char *txt = NULL;
        int ok, rc;

        if (!d)
                return JB_ENOMEM;
        pthread_mutex_lock(&S.mu);
        ok = build_locked(d, now_ms);
        pthread_mutex_unlock(&S.mu);
        if (ok)
                txt = cJSON_PrintUnformatted(d);
        cJSON_Delete(d);
        if (!txt)
                return JB_ENOMEM;
        rc = buf_puts(out, txt);
        free(txt);
        return rc;
}

/* ---- seed ---- */

static const char *jstr(const cJSON *o, const char *k)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

        return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int64_t jnum(const cJSON *o, const char *k, int64_t dflt)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

        return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : dflt;
}

static void seed_locked(const cJSON *root)
{
        const cJSON *it;

        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(root, "sources"))
        {
                const cJSON *n = cJSON_GetObjectItemCaseSensitive(it, "newest");
                const char *path = jstr(n, "path");
                int64_t vis = jnum(n, "visible_ms", -1);
                struct source *s;

                if (!cJSON_IsObject(n) || !path || vis < 0 || !jstr(it, "provider") ||
                    !jstr(it, "bucket"))
                        continue;
                s = source_get(jstr(it, "provider"), jstr(it, "bucket"));
                if (!s || s->newest_visible >= 0)
                        continue;
                if ((s->newest_path = sdup(path))) {
                        s->newest_visible = vis;
                        s->newest_event = jnum(n, "event_ms", -1);
                }
        }
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(root, "providers"))
        {
                const cJSON *ls = cJSON_GetObjectItemCaseSensitive(it, "last_sync");
                struct provider *p;

                if (!cJSON_IsObject(ls) || !jstr(it, "id") || jnum(ls, "end_ms", -1) < 0)
                        continue;
                p = provider_get(jstr(it, "id"));
                if (!p || p->has_sync)
                        continue;
                if (!*p->name && jstr(it, "name"))
                        set_str(&p->name, jstr(it, "name"), 256);
                p->has_sync = 1;
                p->sync_start = jnum(ls, "start_ms", 0);
                p->sync_end = jnum(ls, "end_ms", 0);
                p->sync_files = jnum(ls, "files", -1);
                set_str(&p->sync_from, jstr(ls, "from"), 256);
        }
}

int status_seed(const void *doc, size_t n, char *errstr, size_t errsz)
{
        cJSON *root = cJSON_ParseWithLength(doc, n);
        const char *type, *inst;
        int rc = JB_EINPUT;

        if (!root || !cJSON_IsObject(root)) {
                snprintf(errstr, errsz, "the previous status is not a JSON object");
                goto out;
        }
        if (jnum(root, "v", -1) != STATUS_SCHEMA_VERSION) {
                snprintf(errstr, errsz, "the previous status has schema version %lld, not %d",
                         (long long)jnum(root, "v", -1), STATUS_SCHEMA_VERSION);
                goto out;
        }
        type = jstr(root, "type");
        if (!type || strcmp(type, "instance_status")) {
                snprintf(errstr, errsz, "the previous status is of type \"%s\", not instance_status",
                         nz(type));
                goto out;
        }
        inst = jstr(root, "instance");
        pthread_mutex_lock(&S.mu);
        if (!inst || strcmp(inst, nz(S.instance))) {
                pthread_mutex_unlock(&S.mu);
                snprintf(errstr, errsz, "the previous status is of instance \"%s\", not \"%s\"",
                         nz(inst), nz(S.instance));
                goto out;
        }
        seed_locked(root);
        pthread_mutex_unlock(&S.mu);
        rc = JB_OK;
out:
        cJSON_Delete(root);
        return rc;
}
