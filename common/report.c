/*
 * report.c - the merged status of a deployment (report.h, docs/STATUS.md "report"): every
 * instance's latest "instance_status" merged into one "report" document, with verdicts,
 * reasons, advice and what to do about each problem, and its three renderings (pretty JSON,
 * the terminal table of `jibe status`, and the self-contained report.html).
 *
 * Owns: the merge rules, the verdicts and their words, the advice thresholds
 * (REPORT_READS_*), the HTML layout. Does not: fetch, write or upload anything.
 *
 * report.html's stable marks (tests and scripts may rely on them; they only grow):
 *   <body data-verdict="V" data-generated-ms="N">           the report's verdict
 *   <table id="summary">, rows <tr class="provider-row" data-provider="ID" data-verdict="V">
 *   <section class="provider" id="provider-N" data-provider="ID" data-verdict="V">, N = 1, 2,
 *     ... in the report's order (FAILING, LATE, OK; by name)
 *   <tr class="source" data-bucket="B" data-verdict="V">, <tr class="bucket" data-bucket="B">
 *   <td data-figure="NAME">: a figure (integer) of its row, NAME one of files_found,
 *     files_processed, files_quarantined, newest_age_s, events, resyncs_ok, resyncs_failed,
 *     dead, latency_p50_s, latency_p99_s
 *   <svg class="chart" data-series="events|resyncs" data-total="N">, one <rect> per slot
 *   <li class="advice" data-kind="read_events|log_bucket_writes|digest_missing|digest_tampered|
 *     digest_gap">
 *   <tr class="digests" data-bucket="B" data-available="true|false">: a source's CloudTrail
 *     digest coverage, figures digest_hours (one decimal), digest_digests, digest_listed,
 *     digest_done, digest_recovered, digest_missing, digest_tampered, digest_gaps,
 *     digest_pending (absent when not available)
 *   <li class="problem" data-kind="K" data-level="L" data-instance="I">, its <p class="todo">
 *   <tr class="instance" data-instance="I" data-missing="true|false">
 * Every string of the data is escaped (&, <, >, ", ').
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report.h"
#include "status.h"

#define REPORT_READS_SHARE 0.5        /* advise a write-only trail from this share of reads on */
#define REPORT_READS_MIN_RECORDS 1000 /* ... when the source has at least this many S3 records */
#define REPORT_PROBLEMS_MAX 100       /* problems kept in the report, newest first */
#define REPORT_LAT_MAX 32             /* latency bounds merged per bucket (documents have 15) */
#define SLOT_MS ((int64_t)STATUS_SLOT_S * 1000)
/* A number a document may hold as a count or time: past 2^53 a double is no longer an integer,
 * and bounded so the merge's differences and sums of them cannot overflow int64_t. */
#define REPORT_INT_MAX 9007199254740992.0
/* What one report shows at most (a deployment has far fewer): past these, the rest of the
 * documents' providers, sources and buckets are left out and said in one problem, so hostile
 * documents cannot make the merge quadratic or the HTML huge. */
#define REPORT_PROVIDERS_MAX 1024
#define REPORT_SOURCES_MAX 2048
#define REPORT_BUCKETS_MAX 8192
#define REPORT_PERIOD_MAX_S (30LL * 86400) /* publish_s, late_after_s: past this, the default */

enum { V_OK, V_LATE, V_FAILING };
static const char *const verdict_names[] = {"OK", "LATE", "FAILING"};

/* ---------------------------------------------------------------- JSON helpers */

static const cJSON *jget(const cJSON *o, const char *k)
{
        return o ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
}

static const char *jstr(const cJSON *o, const char *k, const char *def)
{
        const cJSON *v = jget(o, k);

        return cJSON_IsString(v) && v->valuestring ? v->valuestring : def;
}

static int jhas_num(const cJSON *o, const char *k)
{
        const cJSON *v = jget(o, k);

        return cJSON_IsNumber(v) && isfinite(v->valuedouble);
}

static int64_t jint(const cJSON *o, const char *k, int64_t def)
{
        const cJSON *v = jget(o, k);

        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || fabs(v->valuedouble) > REPORT_INT_MAX)
                return def;
        return (int64_t)v->valuedouble;
}

/* a + b, held at the int64_t bounds (sums of counts from many documents) */
static int64_t sat_add(int64_t a, int64_t b)
{
        if (b > 0 && a > INT64_MAX - b)
                return INT64_MAX;
        if (b < 0 && a < INT64_MIN - b)
                return INT64_MIN;
        return a + b;
}

/* The merge's context: oom set by the first failed allocation, checked at the end. */
struct mctx {
        int oom;
};

static cJSON *add_num(struct mctx *m, cJSON *o, const char *k, double v)
{
        cJSON *n = cJSON_AddNumberToObject(o, k, v);

        if (!n)
                m->oom = 1;
        return n;
}

static cJSON *add_str(struct mctx *m, cJSON *o, const char *k, const char *s)
{
        cJSON *n = cJSON_AddStringToObject(o, k, s ? s : "");

        if (!n)
                m->oom = 1;
        return n;
}

static cJSON *add_obj(struct mctx *m, cJSON *o, const char *k)
{
        cJSON *n = cJSON_AddObjectToObject(o, k);

        if (!n)
                m->oom = 1;
        return n;
}

static cJSON *add_arr(struct mctx *m, cJSON *o, const char *k)
{
        cJSON *n = cJSON_AddArrayToObject(o, k);

        if (!n)
                m->oom = 1;
        return n;
}

static void add_bool(struct mctx *m, cJSON *o, const char *k, int b)
{
        if (!cJSON_AddBoolToObject(o, k, b))
                m->oom = 1;
}

/* Add a copy of src (may be NULL: nothing) as o[k]. */
static void add_dup(struct mctx *m, cJSON *o, const char *k, const cJSON *src)
{
        cJSON *d;

        if (!src)
                return;
        d = cJSON_Duplicate(src, 1);
        if (!d || !cJSON_AddItemToObject(o, k, d)) {
                cJSON_Delete(d);
                m->oom = 1;
        }
}

static void arr_push(struct mctx *m, cJSON *a, cJSON *item)
{
        if (!item || !cJSON_AddItemToArray(a, item)) {
                cJSON_Delete(item);
                m->oom = 1;
        }
}

/* dst[k] += v (dst[k] made when absent). */
static void sum_num(struct mctx *m, cJSON *dst, const char *k, double v)
{
        cJSON *d = cJSON_GetObjectItemCaseSensitive(dst, k);

        if (cJSON_IsNumber(d))
                cJSON_SetNumberValue(d, d->valuedouble + v);
        else if (!d)
                add_num(m, dst, k, v);
}

/* Every number of src added into dst, nested objects recursively (the summed figures). */
static void sum_obj(struct mctx *m, cJSON *dst, const cJSON *src)
{
        const cJSON *c;
        cJSON *d;

        cJSON_ArrayForEach(c, src)
        {
                if (!c->string)
                        continue;
                if (cJSON_IsNumber(c) && isfinite(c->valuedouble)) {
                        sum_num(m, dst, c->string, c->valuedouble);
                } else if (cJSON_IsObject(c)) {
                        d = cJSON_GetObjectItemCaseSensitive(dst, c->string);
                        if (!d)
                                d = add_obj(m, dst, c->string);
                        if (cJSON_IsObject(d))
                                sum_obj(m, d, c);
                }
        }
}

/* ---------------------------------------------------------------- words */

/* dst += "; " s (no "; " when dst is empty), cut at n. */
static void cat(char *dst, size_t n, const char *s)
{
        size_t l = strlen(dst);

        if (l + 1 < n)
                snprintf(dst + l, n - l, "%s%s", l ? "; " : "", s);
}

/* "47 min", "3 h 5 min", "2 d 4 h", "12 s". */
static void fmt_age(char *out, size_t n, int64_t ms)
{
        int64_t s = ms < 0 ? 0 : ms / 1000;

        if (s < 120)
                snprintf(out, n, "%lld s", (long long)s);
        else if (s < 2 * 3600)
                snprintf(out, n, "%lld min", (long long)(s / 60));
        else if (s < 2 * 86400)
                snprintf(out, n, "%lld h %lld min", (long long)(s / 3600), (long long)(s % 3600 / 60));
        else
                snprintf(out, n, "%lld d %lld h", (long long)(s / 86400), (long long)(s % 86400 / 3600));
}

/* "10:42 UTC" when ms is on now's UTC day, else "2026-11-30 10:42 UTC". */
static void fmt_when(char *out, size_t n, int64_t ms, int64_t now_ms)
{
        time_t t = (time_t)(ms / 1000), tn = (time_t)(now_ms / 1000);
        struct tm a, b;

        gmtime_r(&t, &a);
        gmtime_r(&tn, &b);
        if (a.tm_year == b.tm_year && a.tm_yday == b.tm_yday)
                strftime(out, n, "%H:%M UTC", &a);
        else
                strftime(out, n, "%Y-%m-%d %H:%M UTC", &a);
}

static void fmt_utc(char *out, size_t n, int64_t ms)
{
        time_t t = (time_t)(ms / 1000);
        struct tm a;

        gmtime_r(&t, &a);
        strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &a);
}

/* What an administrator does about a problem of this kind. */
static const char *problem_advice(const char *kind, const char *level)
{
        static const struct {
                const char *kind, *advice;
        } t[] = {
                {"aa_outage",
                 "Check that Access Anywhere answers at aa.url and that the network lets jibe "
                 "reach it; jibe retries by itself and catches up once it answers."},
                {"scan", "Check that the log bucket's folder still exists in Access Anywhere and that "
                         "jibe's user may list it; every scan is retried."},
                {"scan_failed", "Check that the log bucket's folder still exists in Access Anywhere and "
                                "that jibe's user may list it; every scan is retried."},
                {"resync", "Check the provider and the bucket in Access Anywhere (credentials, bucket "
                           "still there); failed resyncs are retried, then dead-lettered."},
                {"resync_failed",
                 "Check the provider and the bucket in Access Anywhere (credentials, "
                 "bucket still there); failed resyncs are retried, then dead-lettered."},
                {"quarantine",
                 "Look at the quarantined log file named here (state_dir/quarantine): a "
                 "damaged or foreign file is safe to leave there; jibe does not retry it."},
                {"dead_letter",
                 "Fix the cause named here, then put the events back with 'jibe redrive'."},
                {"stage_failed", "Read this instance's log around the time shown for the cause; the "
                                 "supervisor restarts the stage."},
                {"instance_missing",
                 "Check that this instance's jibe service runs (systemctl status) and "
                 "reaches Access Anywhere or Kafka; until it reports again, the log "
                 "buckets it scans are not followed."},
                {"digest_missing",
                 "Check that the log bucket is registered in Access Anywhere and that the folder of "
                 "the file named here is indexed (refresh it); if the file was deleted from the "
                 "bucket, run a full sync of the provider: its events were not synced."},
                {"digest_tampered",
                 "Find out who rewrote the log file named here (S3 server access logs, the bucket's "
                 "CloudTrail data events) and protect the log bucket (S3 Object Lock, or a bucket "
                 "policy that lets only CloudTrail write); no wrong change was synced."},
                {"digest_gap",
                 "Check the log bucket's lifecycle rules and who may delete in it; the digest named "
                 "here cannot be made again, so run a full sync of the provider if its hour "
                 "matters."},
                {"bad_status", "Remove or replace this status document: its instance rewrites it every "
                               "status.publish_s; a copy from another jibe version cannot be merged."},
        };
        size_t i;

        for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
                if (!strcmp(kind, t[i].kind))
                        return t[i].advice;
        if (!strcmp(level, "error"))
                return "Read this instance's log around the time shown for the cause, fix it, and watch "
                       "that the problem clears in the next report.";
        return "Nothing is lost yet; if it keeps coming back, read this instance's log around the time "
               "shown.";
}

/* ---------------------------------------------------------------- the merge's tables */

struct inst {
        cJSON *doc;
        const char *name, *where;
        int64_t at_ms, publish_s, late_after_s;
        int missing;
};

struct psrc {
        size_t pv;
        cJSON *out;
        int owner; /* index in insts, -1: none */
        const cJSON *newest;
        int64_t newest_vis;
        int verdict;
        const cJSON *dig; /* the digests object taken (dig_take()), NULL: none sent */
        int dig_inst, dig_scanned, dig_fresh;
        int64_t dig_end;
};

struct pbkt {
        size_t pv;
        cJSON *out;
        int64_t ok_ms, err_ms, fail_window;
        const char *err;
        double le[REPORT_LAT_MAX];
        double cnt[REPORT_LAT_MAX];
        size_t nle;
};

struct pprov {
        cJSON *out;
        const char *id;
        int owner;
        int name_from_owner;
        int64_t sync_end;
        const cJSON *last_sync;
        double ev[STATUS_SLOTS], rs[STATUS_SLOTS], fl[STATUS_SLOTS];
        int verdict;
        char reason[1024];
};

struct merge {
        struct mctx m;
        const struct report_opts *o;
        struct inst *in;
        size_t nin;
        struct pprov *pv;
        size_t npv, cappv;
        struct psrc *src;
        size_t nsrc, capsrc;
        struct pbkt *bk;
        size_t nbk, capbk;
        int64_t slot_end_ms;
        cJSON *problems; /* the report's own, before the instances' */
        size_t dropped;  /* providers, sources, buckets left out past the REPORT_*_MAX */
};

static int grow(void **p, size_t *cap, size_t n, size_t sz)
{
        void *q;
        size_t c;

        if (n < *cap)
                return 0;
        c = *cap ? *cap * 2 : 16;
        q = realloc(*p, c * sz);
        if (!q)
                return -1;
        memset((char *)q + *cap * sz, 0, (c - *cap) * sz);
        *p = q;
        *cap = c;
        return 0;
}

/* A problem of the report itself (a document skipped, an instance missing). */
static void report_problem(struct merge *g, const char *level, const char *kind, const char *instance,
                           const char *text, int64_t last_ms)
{
        cJSON *p = cJSON_CreateObject();

        if (!p) {
                g->m.oom = 1;
                return;
        }
        add_str(&g->m, p, "level", level);
        add_str(&g->m, p, "kind", kind);
        add_str(&g->m, p, "provider", "");
        add_str(&g->m, p, "source", "");
        add_str(&g->m, p, "text", text);
        add_num(&g->m, p, "count", 1);
        add_num(&g->m, p, "first_ms", (double)last_ms);
        add_num(&g->m, p, "last_ms", (double)last_ms);
        add_bool(&g->m, p, "active", 1);
        add_str(&g->m, p, "instance", instance);
        add_str(&g->m, p, "advice", problem_advice(kind, level));
        arr_push(&g->m, g->problems, p);
}

/* Read one document into g->in (or say why not in the problems). */
static void take_doc(struct merge *g, const struct report_doc *d)
{
        const char *where = d->where ? d->where : "a status document";
        char why[512], text[768];
        cJSON *doc;
        const char *type, *name = "";
        size_t i;
        struct inst *it;

        doc = cJSON_ParseWithLength(d->json, d->len);
        why[0] = '\0';
        if (!doc)
                snprintf(why, sizeof(why), "it is not JSON");
        else if (!cJSON_IsObject(doc))
                snprintf(why, sizeof(why), "it is not a JSON object");
        else if (!jhas_num(doc, "v"))
                snprintf(why, sizeof(why), "it has no schema version \"v\"");
        else if (jint(doc, "v", 0) != STATUS_SCHEMA_VERSION)
                snprintf(why, sizeof(why), "its schema version is %lld, this jibe reads version %d",
                         (long long)jint(doc, "v", 0), STATUS_SCHEMA_VERSION);
        else if (strcmp((type = jstr(doc, "type", "")), "instance_status") != 0)
                snprintf(why, sizeof(why), "its type is \"%.64s\", not \"instance_status\"", type);
        else if (!*(name = jstr(doc, "instance", "")))
                snprintf(why, sizeof(why), "it names no instance");
        else if (!jhas_num(doc, "at_ms"))
                snprintf(why, sizeof(why), "it has no time \"at_ms\"");
        if (why[0]) {
                snprintf(text, sizeof(text), "%s was skipped: %s", where, why);
                report_problem(g, "warn", "bad_status", "", text, g->o->now_ms);
                cJSON_Delete(doc);
                return;
        }
        for (i = 0; i < g->nin; i++) {
                if (strcmp(g->in[i].name, name) != 0)
                        continue;
                if (jint(doc, "at_ms", 0) >= g->in[i].at_ms) {
                        cJSON_Delete(g->in[i].doc);
                        g->in[i].doc = doc;
                        g->in[i].name = name; /* the old one was the old document's */
                        g->in[i].where = where;
                        g->in[i].at_ms = jint(doc, "at_ms", 0);
                } else {
                        cJSON_Delete(doc);
                }
                return;
        }
        it = &g->in[g->nin++];
        it->doc = doc;
        it->name = name;
        it->where = where;
        it->at_ms = jint(doc, "at_ms", 0);
}

static int inst_cmp(const void *a, const void *b)
{
        return strcmp(((const struct inst *)a)->name, ((const struct inst *)b)->name);
}

/* Prefer b over the owner a so far: none yet, or a is missing and b is not. */
static int better_owner(const struct merge *g, int a, int b)
{
        return a < 0 || (g->in[a].missing && !g->in[b].missing);
}

static struct pprov *find_prov(struct merge *g, const char *id)
{
        struct pprov *p;
        size_t i;

        for (i = 0; i < g->npv; i++)
                if (!strcmp(g->pv[i].id, id))
                        return &g->pv[i];
        if (g->npv >= REPORT_PROVIDERS_MAX) {
                g->dropped++;
                return NULL;
        }
        if (grow((void **)&g->pv, &g->cappv, g->npv, sizeof(*g->pv)) != 0) {
                g->m.oom = 1;
                return NULL;
        }
        p = &g->pv[g->npv++];
        memset(p, 0, sizeof(*p));
        p->id = id;
        p->owner = -1;
        p->sync_end = INT64_MIN;
        p->out = cJSON_CreateObject();
        if (!p->out) {
                g->m.oom = 1;
                g->npv--;
                return NULL;
        }
        add_str(&g->m, p->out, "id", id);
        add_str(&g->m, p->out, "name", id);
        if (!cJSON_AddItemToObject(p->out, "bucket_names", cJSON_CreateArray()))
                g->m.oom = 1;
        return p;
}

static void set_item(struct mctx *m, cJSON *o, const char *k, cJSON *v)
{
        if (!v) {
                m->oom = 1;
                return;
        }
        if (cJSON_GetObjectItemCaseSensitive(o, k)) {
                if (!cJSON_ReplaceItemInObjectCaseSensitive(o, k, v)) {
                        cJSON_Delete(v);
                        m->oom = 1;
                }
        } else if (!cJSON_AddItemToObject(o, k, v)) {
                cJSON_Delete(v);
                m->oom = 1;
        }
}

/* Add the 96 numbers of arr (a series ending at slot_end) into acc aligned by slot number. */
static void add_series(const struct merge *g, double *acc, const cJSON *arr, int64_t slot_end_ms)
{
        int64_t shift;
        const cJSON *c;
        int i = 0, n = cJSON_GetArraySize(arr);
        int64_t j;

        if (!cJSON_IsArray(arr) || slot_end_ms % SLOT_MS != 0)
                return;
        /* index i covers slot number slot_end/SLOT - n + i; the report's j slot_end'/SLOT - 96 + j */
        shift = (slot_end_ms - g->slot_end_ms) / SLOT_MS + (STATUS_SLOTS - n);
        cJSON_ArrayForEach(c, arr)
        {
                j = i + shift;
                if (j >= 0 && j < STATUS_SLOTS && cJSON_IsNumber(c) && isfinite(c->valuedouble))
                        acc[j] += c->valuedouble;
                i++;
        }
}

static int64_t doc_slot_end(const cJSON *doc)
{
        if (jint(doc, "slot_s", STATUS_SLOT_S) != STATUS_SLOT_S)
                return -1; /* not our slots: its series are left out */
        return jint(doc, "slot_end_ms", -1);
}

static void merge_providers(struct merge *g)
{
        const cJSON *p, *b;
        struct pprov *pv;
        size_t i;
        int owned;

        for (i = 0; i < g->nin; i++) {
                cJSON_ArrayForEach(p, jget(g->in[i].doc, "providers"))
                {
                        const char *id = jstr(p, "id", "");

                        if (!*id || !(pv = find_prov(g, id)))
                                continue;
                        owned = cJSON_IsTrue(jget(p, "owned"));
                        if (owned && better_owner(g, pv->owner, (int)i))
                                pv->owner = (int)i;
                        if ((owned && !pv->name_from_owner) || !jstr(pv->out, "name", NULL) ||
                            !strcmp(jstr(pv->out, "name", ""), id)) {
                                if (jstr(p, "name", NULL))
                                        set_item(&g->m, pv->out, "name",
                                                 cJSON_CreateString(jstr(p, "name", id)));
                                b = jget(p, "buckets");
                                if (cJSON_IsArray(b) && cJSON_GetArraySize(b) > 0)
                                        set_item(&g->m, pv->out, "bucket_names", cJSON_Duplicate(b, 1));
                                pv->name_from_owner = owned;
                        }
                        b = jget(p, "last_sync");
                        if (cJSON_IsObject(b) && jint(b, "end_ms", INT64_MIN) > pv->sync_end) {
                                pv->sync_end = jint(b, "end_ms", INT64_MIN);
                                pv->last_sync = b;
                        }
                }
        }
}

/* ---------------------------------------------------------------- CloudTrail digests */

/* The fields of struct status_digest a source's "digests" object carries (docs/STATUS.md),
 * last_end_ms apart. */
static const char *const dig_counts[] = {"chains",   "digests",    "backfill",  "covered_s",
                                         "listed",   "done",       "recovered", "missing",
                                         "tampered", "unverified", "gaps",      "pending"};
#define DIG_NCOUNTS (sizeof(dig_counts) / sizeof(dig_counts[0]))

/* A count of a digests object: 0 when absent, not a number, negative or past 2^53. */
static int64_t dig_num(const cJSON *d, const char *k)
{
        int64_t v = jint(d, k, 0);

        return v < 0 ? 0 : v;
}

/* Its newest digest end: -1 when none or unreadable. */
static int64_t dig_end(const cJSON *d)
{
        int64_t v = jint(d, "last_end_ms", -1);

        return v < 0 ? -1 : v;
}

/* Instance i's entry s of the source ps: take its "digests" object when it is one (an object
 * whose "available" is a boolean) and better than the one taken so far: from an instance
 * that scans the source over one that does not, then the greatest last_end_ms, then from an
 * instance not missing; on a tie the first in name order (which is the owner when the owner
 * is among them). */
static void dig_take(struct merge *g, struct psrc *ps, const cJSON *s, int i)
{
        const cJSON *d = jget(s, "digests");
        int scanned = cJSON_IsTrue(jget(s, "scanned")), fresh = !g->in[i].missing;
        int64_t end;

        if (!cJSON_IsObject(d) || !cJSON_IsBool(jget(d, "available")))
                return;
        end = dig_end(d);
        if (ps->dig) {
                if (scanned != ps->dig_scanned) {
                        if (!scanned)
                                return;
                } else if (end != ps->dig_end) {
                        if (end < ps->dig_end)
                                return;
                } else if (fresh <= ps->dig_fresh) {
                        return;
                }
        }
        ps->dig = d;
        ps->dig_inst = i;
        ps->dig_scanned = scanned;
        ps->dig_fresh = fresh;
        ps->dig_end = end;
}

/* "24", "23.5": hours with one decimal, without ".0". */
static void fmt_hours(char *out, size_t n, int64_t covered_s)
{
        double h = floor((double)covered_s / 360.0 + 0.5) / 10.0;
        size_t l;

        snprintf(out, n, "%.1f", h);
        l = strlen(out);
        if (l > 2 && !strcmp(out + l - 2, ".0"))
                out[l - 2] = '\0';
}

static const char *plural(int64_t n, const char *one, const char *many)
{
        return n == 1 ? one : many;
}

/* The digest figures in words, the source's reason when they fail: appended to out with
 * cat(); 1 when any of missing, tampered, gaps is not 0. */
static int dig_failing(const cJSON *d, char *out, size_t n)
{
        int64_t missing = jint(d, "missing", 0), tampered = jint(d, "tampered", 0),
                gaps = jint(d, "gaps", 0);
        char r[256];

        if (!cJSON_IsTrue(jget(d, "available")))
                return 0;
        if (missing > 0) {
                snprintf(r, sizeof(r),
                         "%lld log %s CloudTrail delivered cannot be found through Access Anywhere",
                         (long long)missing, plural(missing, "file", "files"));
                cat(out, n, r);
        }
        if (tampered > 0) {
                snprintf(r, sizeof(r), "%lld log %s from %s", (long long)tampered,
                         plural(tampered, "file differs", "files differ"),
                         plural(tampered, "its digest", "their digests"));
                cat(out, n, r);
        }
        if (gaps > 0) {
                snprintf(r, sizeof(r), "%lld %s missing from the chain", (long long)gaps,
                         plural(gaps, "digest is", "digests are"));
                cat(out, n, r);
        }
        return missing > 0 || tampered > 0 || gaps > 0;
}

/* The report's "digests" object of the source, from the one taken (none: nothing). */
static void dig_out(struct merge *g, struct psrc *ps)
{
        const cJSON *d = ps->dig;
        cJSON *o;
        char sum[1024], r[256], hours[32];
        size_t k;

        if (!d || !(o = add_obj(&g->m, ps->out, "digests")))
                return;
        add_str(&g->m, o, "instance", g->in[ps->dig_inst].name);
        if (!cJSON_IsTrue(jget(d, "available"))) {
                add_bool(&g->m, o, "available", 0);
                add_str(&g->m, o, "summary",
                        "CloudTrail digests not available: log file validation is off for this "
                        "trail, so jibe cannot prove it saw every log file (turn it on in the "
                        "trail's settings)");
                return;
        }
        add_bool(&g->m, o, "available", 1);
        for (k = 0; k < DIG_NCOUNTS; k++)
                add_num(&g->m, o, dig_counts[k], (double)dig_num(d, dig_counts[k]));
        add_num(&g->m, o, "last_end_ms", (double)dig_end(d));
        add_num(&g->m, o, "hours_covered", floor((double)dig_num(d, "covered_s") / 360.0 + 0.5) / 10.0);
        fmt_hours(hours, sizeof(hours), dig_num(d, "covered_s"));
        if (!dig_num(d, "digests")) {
                snprintf(sum, sizeof(sum),
                         "CloudTrail writes digests for this log bucket; none has been read yet");
        } else {
                snprintf(sum, sizeof(sum),
                         "CloudTrail's digests cover %s h (%lld %s in %lld %s): %lld of the %lld log "
                         "%s they list %s done",
                         hours, (long long)dig_num(d, "digests"),
                         plural(dig_num(d, "digests"), "digest", "digests"),
                         (long long)dig_num(d, "chains"),
                         plural(dig_num(d, "chains"), "chain", "chains"), (long long)dig_num(d, "done"),
                         (long long)dig_num(d, "listed"), plural(dig_num(d, "listed"), "file", "files"),
                         plural(dig_num(d, "done"), "is", "are"));
                if (dig_num(d, "recovered")) {
                        snprintf(r, sizeof(r),
                                 ", %lld of them fetched by path because a digest listed %s",
                                 (long long)dig_num(d, "recovered"),
                                 plural(dig_num(d, "recovered"), "it", "them"));
                        strncat(sum, r, sizeof(sum) - strlen(sum) - 1);
                }
        }
        r[0] = '\0';
        if (dig_failing(d, r, sizeof(r))) {
                strncat(sum, "; ", sizeof(sum) - strlen(sum) - 1);
                strncat(sum, r, sizeof(sum) - strlen(sum) - 1);
        }
        if (dig_num(d, "digests")) {
                if (dig_num(d, "pending")) {
                        snprintf(r, sizeof(r),
                                 "; %lld %s checked once %s digest is past its grace period",
                                 (long long)dig_num(d, "pending"),
                                 plural(dig_num(d, "pending"), "file is", "files are"),
                                 plural(dig_num(d, "pending"), "its", "their"));
                        strncat(sum, r, sizeof(sum) - strlen(sum) - 1);
                }
                if (dig_num(d, "unverified")) {
                        snprintf(r, sizeof(r), "; %lld %s read before jibe kept hashes (not verified)",
                                 (long long)dig_num(d, "unverified"),
                                 plural(dig_num(d, "unverified"), "file was", "files were"));
                        strncat(sum, r, sizeof(sum) - strlen(sum) - 1);
                }
        }
        add_str(&g->m, o, "summary", sum);
}

static struct psrc *find_src(struct merge *g, size_t pvi, const char *bucket)
{
        struct psrc *s;
        size_t i;

        for (i = 0; i < g->nsrc; i++)
                if (g->src[i].pv == pvi && !strcmp(jstr(g->src[i].out, "bucket", ""), bucket))
                        return &g->src[i];
        if (g->nsrc >= REPORT_SOURCES_MAX) {
                g->dropped++;
                return NULL;
        }
        if (grow((void **)&g->src, &g->capsrc, g->nsrc, sizeof(*g->src)) != 0 ||
            !(g->src[g->nsrc].out = cJSON_CreateObject())) {
                g->m.oom = 1;
                return NULL;
        }
        s = &g->src[g->nsrc++];
        s->pv = pvi;
        s->owner = -1;
        s->newest_vis = INT64_MIN;
        add_str(&g->m, s->out, "bucket", bucket);
        add_obj(&g->m, s->out, "files");
        add_obj(&g->m, s->out, "classes");
        add_num(&g->m, s->out, "log_bucket_records", 0);
        return s;
}

static void merge_sources(struct merge *g)
{
        const cJSON *s, *nw, *c;
        struct pprov *pv;
        struct psrc *ps;
        size_t i, k;

        for (i = 0; i < g->nin; i++) {
                cJSON_ArrayForEach(s, jget(g->in[i].doc, "sources"))
                {
                        const char *prov = jstr(s, "provider", ""), *bucket = jstr(s, "bucket", "");

                        if (!*prov || !*bucket || !(pv = find_prov(g, prov)))
                                continue;
                        if (!(ps = find_src(g, (size_t)(pv - g->pv), bucket)))
                                continue;
                        if (cJSON_IsTrue(jget(s, "scanned")) && better_owner(g, ps->owner, (int)i))
                                ps->owner = (int)i;
                        if (cJSON_IsObject(jget(s, "files")))
                                sum_obj(&g->m, (cJSON *)jget(ps->out, "files"), jget(s, "files"));
                        if (cJSON_IsObject(jget(s, "classes")))
                                sum_obj(&g->m, (cJSON *)jget(ps->out, "classes"), jget(s, "classes"));
                        dig_take(g, ps, s, (int)i);
                        sum_num(&g->m, ps->out, "log_bucket_records",
                                (double)jint(s, "log_bucket_records", 0));
                        nw = jget(s, "newest");
                        if (cJSON_IsObject(nw) && jint(nw, "visible_ms", INT64_MIN) > ps->newest_vis) {
                                ps->newest_vis = jint(nw, "visible_ms", INT64_MIN);
                                ps->newest = nw;
                        }
                        add_series(g, pv->fl, jget(jget(s, "series"), "files"),
                                   doc_slot_end(g->in[i].doc));
                }
        }
        for (k = 0; k < g->nsrc; k++) {
                cJSON *n;

                ps = &g->src[k];
                if (ps->owner >= 0)
                        add_str(&g->m, ps->out, "owner", g->in[ps->owner].name);
                dig_out(g, ps);
                if (!ps->newest)
                        continue;
                n = cJSON_Duplicate(ps->newest, 1);
                if (!n) {
                        g->m.oom = 1;
                        continue;
                }
                /* The parser knows the file's events, the scanner when it appeared: join them
                 * by path when the newest's own instance has not read it. */
                if (!jhas_num(n, "event_ms")) {
                        for (i = 0; i < g->nin; i++) {
                                cJSON_ArrayForEach(s, jget(g->in[i].doc, "sources"))
                                {
                                        c = jget(s, "newest");
                                        if (strcmp(jstr(s, "provider", ""), g->pv[ps->pv].id) != 0 ||
                                            strcmp(jstr(s, "bucket", ""), jstr(ps->out, "bucket", "")) !=
                                                    0 ||
                                            strcmp(jstr(c, "path", ""), jstr(n, "path", "-")) != 0 ||
                                            !jhas_num(c, "event_ms") || jhas_num(n, "event_ms"))
                                                continue;
                                        add_num(&g->m, n, "event_ms", (double)jint(c, "event_ms", 0));
                                        cJSON_DeleteItemFromObjectCaseSensitive(n, "delay_ms");
                                        if (jhas_num(n, "visible_ms"))
                                                sum_num(&g->m, n, "delay_ms",
                                                        (double)(jint(n, "visible_ms", 0) -
                                                                 jint(c, "event_ms", 0)));
                                }
                        }
                }
                set_item(&g->m, ps->out, "newest", n);
        }
}

static struct pbkt *find_bkt(struct merge *g, size_t pvi, const char *bucket)
{
        struct pbkt *b;
        size_t i;

        for (i = 0; i < g->nbk; i++)
                if (g->bk[i].pv == pvi && !strcmp(jstr(g->bk[i].out, "bucket", ""), bucket))
                        return &g->bk[i];
        if (g->nbk >= REPORT_BUCKETS_MAX) {
                g->dropped++;
                return NULL;
        }
        if (grow((void **)&g->bk, &g->capbk, g->nbk, sizeof(*g->bk)) != 0 ||
            !(g->bk[g->nbk].out = cJSON_CreateObject())) {
                g->m.oom = 1;
                return NULL;
        }
        b = &g->bk[g->nbk++];
        b->pv = pvi;
        b->ok_ms = b->err_ms = INT64_MIN;
        add_str(&g->m, b->out, "bucket", bucket);
        add_obj(&g->m, b->out, "events");
        add_obj(&g->m, b->out, "resyncs");
        add_obj(&g->m, b->out, "resyncs_window");
        add_num(&g->m, b->out, "dead", 0);
        return b;
}

/* The smallest bound whose cumulative count reaches q of the total; a quantile in the +Inf
 * bucket is given as the largest finite bound. -1: no resync. */
static double quantile(const struct pbkt *b, double q)
{
        double total = 0, acc = 0, last = -1;
        size_t i, k, order[REPORT_LAT_MAX];

        for (i = 0; i < b->nle; i++) {
                total += b->cnt[i];
                order[i] = i;
        }
        if (total <= 0)
                return -1;
        /* sort the bounds ascending, +Inf (-1) last */
        for (i = 1; i < b->nle; i++)
                for (k = i; k > 0; k--) {
                        double x = b->le[order[k - 1]], y = b->le[order[k]];

                        if ((x < 0 && y >= 0) || (x >= 0 && y >= 0 && y < x)) {
                                size_t t = order[k];

                                order[k] = order[k - 1];
                                order[k - 1] = t;
                        }
                }
        for (i = 0; i < b->nle; i++) {
                double le = b->le[order[i]];

                acc += b->cnt[order[i]];
                if (le >= 0)
                        last = le;
                if (acc >= q * total)
                        return le >= 0 ? le : last;
        }
        return last;
}

static void merge_buckets(struct merge *g)
{
        const cJSON *bk, *lat, *le, *cn;
        struct pprov *pv;
        struct pbkt *pb;
        size_t i, k;

        for (i = 0; i < g->nin; i++) {
                cJSON_ArrayForEach(bk, jget(g->in[i].doc, "buckets"))
                {
                        const char *prov = jstr(bk, "provider", ""), *bucket = jstr(bk, "bucket", "");
                        int64_t t;

                        if (!*prov || !*bucket || !(pv = find_prov(g, prov)))
                                continue;
                        if (!(pb = find_bkt(g, (size_t)(pv - g->pv), bucket)))
                                continue;
                        if (cJSON_IsObject(jget(bk, "events")))
                                sum_obj(&g->m, (cJSON *)jget(pb->out, "events"), jget(bk, "events"));
                        if (cJSON_IsObject(jget(bk, "resyncs")))
                                sum_obj(&g->m, (cJSON *)jget(pb->out, "resyncs"), jget(bk, "resyncs"));
                        if (cJSON_IsObject(jget(bk, "resyncs_window")))
                                sum_obj(&g->m, (cJSON *)jget(pb->out, "resyncs_window"),
                                        jget(bk, "resyncs_window"));
                        sum_num(&g->m, pb->out, "dead", (double)jint(bk, "dead", 0));
                        pb->fail_window =
                                sat_add(pb->fail_window, jint(jget(bk, "resyncs_window"), "failed", 0));
                        if ((t = jint(bk, "last_resync_ok_ms", INT64_MIN)) > pb->ok_ms)
                                pb->ok_ms = t;
                        if ((t = jint(bk, "last_resync_error_ms", INT64_MIN)) > pb->err_ms) {
                                pb->err_ms = t;
                                pb->err = jstr(bk, "last_resync_error", NULL);
                        }
                        lat = jget(bk, "latency_window");
                        le = jget(lat, "le_s");
                        cn = jget(lat, "counts");
                        if (cJSON_IsArray(le) && cJSON_IsArray(cn) &&
                            cJSON_GetArraySize(le) == cJSON_GetArraySize(cn)) {
                                int n = cJSON_GetArraySize(le), j;

                                for (j = 0; j < n; j++) {
                                        const cJSON *a = cJSON_GetArrayItem(le, j),
                                                    *c = cJSON_GetArrayItem(cn, j);

                                        if (!cJSON_IsNumber(a) || !cJSON_IsNumber(c))
                                                continue;
                                        for (k = 0; k < pb->nle; k++)
                                                if (pb->le[k] == a->valuedouble)
                                                        break;
                                        if (k == pb->nle) {
                                                if (pb->nle == sizeof(pb->le) / sizeof(pb->le[0]))
                                                        continue;
                                                pb->le[pb->nle++] = a->valuedouble;
                                        }
                                        pb->cnt[k] += c->valuedouble;
                                }
                        }
                        add_series(g, pv->ev, jget(jget(bk, "series"), "events"),
                                   doc_slot_end(g->in[i].doc));
                        add_series(g, pv->rs, jget(jget(bk, "series"), "resyncs"),
                                   doc_slot_end(g->in[i].doc));
                }
        }
        for (k = 0; k < g->nbk; k++) {
                double q;

                pb = &g->bk[k];
                if (pb->ok_ms != INT64_MIN)
                        add_num(&g->m, pb->out, "last_resync_ok_ms", (double)pb->ok_ms);
                if (pb->err_ms != INT64_MIN)
                        add_num(&g->m, pb->out, "last_resync_error_ms", (double)pb->err_ms);
                if (pb->err)
                        add_str(&g->m, pb->out, "last_resync_error", pb->err);
                if ((q = quantile(pb, 0.5)) >= 0)
                        add_num(&g->m, pb->out, "latency_p50_s", q);
                if ((q = quantile(pb, 0.99)) >= 0)
                        add_num(&g->m, pb->out, "latency_p99_s", q);
        }
}

/* A bucket's resyncs fail: failures in the window and the latest resync failed. */
static int bucket_failing(const struct pbkt *b)
{
        return b->fail_window > 0 && b->err_ms != INT64_MIN && b->err_ms > b->ok_ms;
}

/* The reasons a provider's resyncs fail, appended to out; 1 when any does. */
static int provider_resyncs_fail(const struct merge *g, size_t pvi, char *out, size_t n)
{
        char when[64], r[768];
        size_t k;
        int any = 0;

        for (k = 0; k < g->nbk; k++) {
                const struct pbkt *b = &g->bk[k];

                if (b->pv != pvi || !bucket_failing(b))
                        continue;
                fmt_when(when, sizeof(when), b->err_ms, g->o->now_ms);
                snprintf(r, sizeof(r),
                         "resyncs of bucket %s fail (%lld in the last hour, the latest at %s)%s%s",
                         jstr(b->out, "bucket", ""), (long long)b->fail_window, when, b->err ? ": " : "",
                         b->err ? b->err : "");
                cat(out, n, r);
                any = 1;
        }
        return any;
}

static void source_verdict(struct merge *g, struct psrc *ps, int64_t dflt_late_s)
{
        char reason[1024] = "", r[768], age[32], age2[32], when[64];
        const cJSON *scan = NULL, *nw = jget(ps->out, "newest");
        const struct inst *own = ps->owner >= 0 ? &g->in[ps->owner] : NULL;
        int64_t late_s = own ? own->late_after_s : dflt_late_s, now = g->o->now_ms;
        int v = V_OK;

        if (own) {
                cJSON_ArrayForEach(scan, jget(own->doc, "sources"))
                {
                        if (!strcmp(jstr(scan, "provider", ""), g->pv[ps->pv].id) &&
                            !strcmp(jstr(scan, "bucket", ""), jstr(ps->out, "bucket", "")))
                                break;
                }
                scan = jget(scan, "scan");
                if (cJSON_IsObject(scan))
                        add_dup(&g->m, ps->out, "scan", scan);
        }
        if (cJSON_IsTrue(jget(scan, "failing"))) {
                if (jhas_num(scan, "last_ok_ms")) {
                        fmt_when(when, sizeof(when), jint(scan, "last_ok_ms", 0), now);
                        snprintf(r, sizeof(r), "scans fail since %s (the last good scan)", when);
                } else {
                        snprintf(r, sizeof(r), "scans fail and none has succeeded yet");
                }
                if (jstr(scan, "last_error", NULL)) {
                        size_t l = strlen(r);

                        snprintf(r + l, sizeof(r) - l, ": %s", jstr(scan, "last_error", ""));
                }
                cat(reason, sizeof(reason), r);
                v = V_FAILING;
        }
        if (provider_resyncs_fail(g, ps->pv, reason, sizeof(reason)))
                v = V_FAILING;
        if (own && own->missing) {
                fmt_age(age, sizeof(age), now - own->at_ms);
                fmt_age(age2, sizeof(age2), REPORT_MISSING_INTERVALS * own->publish_s * 1000);
                snprintf(r, sizeof(r),
                         "instance %s, which scans it, last reported %s ago (missing after %s)",
                         own->name, age, age2);
                cat(reason, sizeof(reason), r);
                v = V_FAILING;
        }
        /* CloudTrail's own list of what it delivered says something is wrong ("not
         * available" is a fact, never a failure) */
        if (ps->dig && dig_failing(ps->dig, reason, sizeof(reason)))
                v = V_FAILING;
        if (v == V_OK && nw && now - jint(nw, "visible_ms", now) > late_s * 1000) {
                fmt_age(age, sizeof(age), now - jint(nw, "visible_ms", now));
                fmt_age(age2, sizeof(age2), late_s * 1000);
                snprintf(reason, sizeof(reason),
                         "no new log file for %s (LATE after %s); the newest is %s", age, age2,
                         jstr(nw, "path", "(unnamed)"));
                v = V_LATE;
        }
        if (v == V_OK) {
                if (!nw) {
                        snprintf(reason, sizeof(reason), "no log file yet");
                } else {
                        fmt_age(age, sizeof(age), now - jint(nw, "visible_ms", now));
                        if (jhas_num(nw, "delay_ms")) {
                                fmt_age(age2, sizeof(age2), jint(nw, "delay_ms", 0));
                                snprintf(reason, sizeof(reason),
                                         "newest log file %s ago, delivered %s after its events", age,
                                         age2);
                        } else {
                                snprintf(reason, sizeof(reason), "newest log file %s ago", age);
                        }
                }
        }
        ps->verdict = v;
        add_str(&g->m, ps->out, "verdict", verdict_names[v]);
        add_str(&g->m, ps->out, "reason", reason);
}

/* What to do about each failing digest figure of the source: advice of kinds digest_missing,
 * digest_tampered and digest_gap, with the figure. */
static void dig_advice(struct merge *g, struct psrc *ps, cJSON *adv)
{
        const cJSON *d = ps->dig;
        int64_t n;
        char text[768];
        cJSON *a;

        if (!d || !cJSON_IsTrue(jget(d, "available")))
                return;
        if ((n = dig_num(d, "missing")) > 0) {
                snprintf(text, sizeof(text),
                         "%lld log %s that CloudTrail's digests list cannot be found through Access "
                         "Anywhere, so %s events were not synced. Check that the log bucket is "
                         "registered in Access Anywhere and that its index is current (refresh the "
                         "folders the digest_missing problems name); if the %s deleted from the "
                         "bucket, run a full sync of the provider to catch up with what %s.",
                         (long long)n, plural(n, "file", "files"), plural(n, "its", "their"),
                         plural(n, "file was", "files were"), plural(n, "it held", "they held"));
                if ((a = cJSON_CreateObject())) {
                        add_str(&g->m, a, "kind", "digest_missing");
                        add_str(&g->m, a, "text", text);
                        add_num(&g->m, a, "files", (double)n);
                }
                arr_push(&g->m, adv, a);
        }
        if ((n = dig_num(d, "tampered")) > 0) {
                snprintf(text, sizeof(text),
                         "%lld log %s not have the bytes CloudTrail wrote (the SHA-256 differs from the "
                         "digest's, read twice): %s changed after delivery. Find out who wrote %s "
                         "(S3 server access logs, the bucket's CloudTrail data events) and protect "
                         "the log bucket (S3 Object Lock, or a bucket policy that lets only CloudTrail "
                         "write). jibe synced %s events anyway: a resync reads each object's current "
                         "state, so no wrong change was written.",
                         (long long)n, plural(n, "file does", "files do"),
                         plural(n, "it was", "they were"), plural(n, "it", "them"),
                         plural(n, "its", "their"));
                if ((a = cJSON_CreateObject())) {
                        add_str(&g->m, a, "kind", "digest_tampered");
                        add_str(&g->m, a, "text", text);
                        add_num(&g->m, a, "files", (double)n);
                }
                arr_push(&g->m, adv, a);
        }
        if ((n = dig_num(d, "gaps")) > 0) {
                snprintf(text, sizeof(text),
                         "%lld %s that later digests point at cannot be found: deleted or never "
                         "delivered, so the %s %s covered cannot be proven complete. Check the log "
                         "bucket's lifecycle rules and who may delete in it (the digest_gap problems "
                         "name the digest); a lost digest cannot be made again, so run a full sync of "
                         "the provider if those hours matter.",
                         (long long)n, plural(n, "digest", "digests"), plural(n, "hour", "hours"),
                         plural(n, "it", "they"));
                if ((a = cJSON_CreateObject())) {
                        add_str(&g->m, a, "kind", "digest_gap");
                        add_str(&g->m, a, "text", text);
                        add_num(&g->m, a, "digests", (double)n);
                }
                arr_push(&g->m, adv, a);
        }
}

static void source_advice(struct merge *g, struct psrc *ps)
{
        const cJSON *cl = jget(ps->out, "classes"), *c;
        double s3 = 0, reads = jint(cl, "not_write", 0);
        int64_t lbr = jint(ps->out, "log_bucket_records", 0);
        cJSON *adv, *a;
        char text[768];

        cJSON_ArrayForEach(c, cl)
        {
                if (cJSON_IsNumber(c) && strcmp(c->string, "malformed") && strcmp(c->string, "not_s3"))
                        s3 += c->valuedouble;
        }
        if (!(adv = add_arr(&g->m, ps->out, "advice")))
                return;
        if (s3 >= REPORT_READS_MIN_RECORDS && reads >= REPORT_READS_SHARE * s3) {
                snprintf(
                        text, sizeof(text),
                        "%.0f %% of this trail's S3 records are reads (%.0f of %.0f): jibe downloads and "
                        "skips them. Set the trail's S3 data events to write-only (read/write type "
                        "WriteOnly) to cut CloudTrail's cost and jibe's work; writes are all jibe needs.",
                        floor(100.0 * reads / s3), reads, s3);
                if ((a = cJSON_CreateObject())) {
                        add_str(&g->m, a, "kind", "read_events");
                        add_str(&g->m, a, "text", text);
                        add_num(&g->m, a, "reads", reads);
                        add_num(&g->m, a, "s3", s3);
                        add_num(&g->m, a, "share", floor(1000.0 * reads / s3 + 0.5) / 1000.0);
                }
                arr_push(&g->m, adv, a);
        }
        dig_advice(g, ps, adv);
        if (lbr > 0) {
                const char *b = jstr(ps->out, "bucket", "");

                snprintf(
                        text, sizeof(text),
                        "this trail logs writes to its own log bucket %s (%lld records): each log file "
                        "CloudTrail delivers is itself logged in later ones. Exclude %s from the trail's S3 "
                        "data events (an advanced event selector on its ARN).",
                        b, (long long)lbr, b);
                if ((a = cJSON_CreateObject())) {
                        add_str(&g->m, a, "kind", "log_bucket_writes");
                        add_str(&g->m, a, "text", text);
                        add_num(&g->m, a, "records", (double)lbr);
                }
                arr_push(&g->m, adv, a);
        }
}

static int prov_cmp(const void *a, const void *b)
{
        const struct pprov *x = a, *y = b;
        int c;

        if (x->verdict != y->verdict)
                return y->verdict - x->verdict;
        c = strcmp(jstr(x->out, "name", ""), jstr(y->out, "name", ""));
        return c ? c : strcmp(x->id, y->id);
}

static cJSON *series_arr(const double *v)
{
        cJSON *a = cJSON_CreateArray(), *n;
        int i;

        for (i = 0; a && i < STATUS_SLOTS; i++) {
                n = cJSON_CreateNumber(v[i]);
                if (!n || !cJSON_AddItemToArray(a, n)) {
                        cJSON_Delete(n);
                        cJSON_Delete(a);
                        return NULL;
                }
        }
        return a;
}

static int prob_cmp(const void *a, const void *b)
{
        const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
        int64_t p = jint(x, "last_ms", 0), q = jint(y, "last_ms", 0);

        return p < q ? 1 : p > q ? -1 : 0;
}

/* The report's own problems and every instance's, newest first, each with what to do. */
static void merge_problems(struct merge *g, cJSON *root)
{
        const cJSON *p;
        cJSON **all = NULL, *out, *c;
        size_t n = 0, cap = 0, i;

        while (cJSON_GetArraySize(g->problems) > 0) {
                c = cJSON_DetachItemFromArray(g->problems, 0);
                if (grow((void **)&all, &cap, n, sizeof(*all)) != 0) {
                        cJSON_Delete(c);
                        g->m.oom = 1;
                        continue;
                }
                all[n++] = c;
        }
        for (i = 0; i < g->nin; i++) {
                cJSON_ArrayForEach(p, jget(g->in[i].doc, "problems"))
                {
                        if (!cJSON_IsObject(p))
                                continue;
                        c = cJSON_Duplicate(p, 1);
                        if (!c || grow((void **)&all, &cap, n, sizeof(*all)) != 0) {
                                cJSON_Delete(c);
                                g->m.oom = 1;
                                break;
                        }
                        set_item(&g->m, c, "instance", cJSON_CreateString(g->in[i].name));
                        set_item(&g->m, c, "advice",
                                 cJSON_CreateString(
                                         problem_advice(jstr(c, "kind", ""), jstr(c, "level", ""))));
                        all[n++] = c;
                }
        }
        if (n)
                qsort(all, n, sizeof(*all), prob_cmp);
        out = add_arr(&g->m, root, "problems");
        for (i = 0; i < n; i++) {
                if (out && i < REPORT_PROBLEMS_MAX)
                        arr_push(&g->m, out, all[i]);
                else
                        cJSON_Delete(all[i]);
        }
        free(all);
}

static void merge_free(struct merge *g)
{
        size_t i;

        for (i = 0; i < g->nin; i++)
                cJSON_Delete(g->in[i].doc);
        for (i = 0; i < g->npv; i++)
                cJSON_Delete(g->pv[i].out);
        for (i = 0; i < g->nsrc; i++)
                cJSON_Delete(g->src[i].out);
        for (i = 0; i < g->nbk; i++)
                cJSON_Delete(g->bk[i].out);
        cJSON_Delete(g->problems);
        free(g->in);
        free(g->pv);
        free(g->src);
        free(g->bk);
}

/* Move *item into array a; the merge's tables forget it. */
static void move_into(struct mctx *m, cJSON *a, cJSON **item)
{
        if (!a || !cJSON_AddItemToArray(a, *item))
                m->oom = 1;
        else
                *item = NULL;
}

/* A provider's verdict and reason from its sources (verdicts made) and buckets. */
static void provider_verdict(struct merge *g, size_t i)
{
        struct pprov *pv = &g->pv[i];
        const char *wreason = NULL, *wbucket = NULL;
        int nsrc = 0, worst = V_OK;
        size_t k;

        for (k = 0; k < g->nsrc; k++) {
                if (g->src[k].pv != i)
                        continue;
                nsrc++;
                if (!wreason || g->src[k].verdict > worst) {
                        worst = g->src[k].verdict;
                        wreason = jstr(g->src[k].out, "reason", "");
                        wbucket = jstr(g->src[k].out, "bucket", "");
                }
        }
        if (nsrc == 0) {
                pv->reason[0] = '\0';
                if (provider_resyncs_fail(g, i, pv->reason, sizeof(pv->reason)))
                        worst = V_FAILING;
                else
                        snprintf(pv->reason, sizeof(pv->reason),
                                 "no instance reads a log bucket of this provider; its resyncs work");
        } else if (nsrc == 1) {
                snprintf(pv->reason, sizeof(pv->reason), "%s", wreason);
        } else {
                snprintf(pv->reason, sizeof(pv->reason), "%s: %s", wbucket, wreason);
        }
        pv->verdict = worst;
}

/* order[] (indexes of g->pv) sorted as the report lists providers (insertion sort: qsort has
 * no context argument, and a static one would not be thread-safe). */
static void sort_providers(const struct merge *g, size_t *order)
{
        size_t i, k, t;

        for (i = 1; i < g->npv; i++)
                for (k = i; k > 0 && prov_cmp(&g->pv[order[k - 1]], &g->pv[order[k]]) > 0; k--) {
                        t = order[k];
                        order[k] = order[k - 1];
                        order[k - 1] = t;
                }
}

/* The instances array of the report; the backlog summed over the instances not missing. */
static void report_instances(struct merge *g, cJSON *root)
{
        int64_t bfiles = 0, bevents = 0, blag = -1;
        cJSON *arr, *x, *owns, *bl;
        const cJSON *p, *b;
        size_t i;

        if (!(arr = add_arr(&g->m, root, "instances")))
                return;
        for (i = 0; i < g->nin; i++) {
                struct inst *it = &g->in[i];

                if (!(x = cJSON_CreateObject())) {
                        g->m.oom = 1;
                        break;
                }
                add_str(&g->m, x, "instance", it->name);
                add_str(&g->m, x, "role", jstr(it->doc, "role", ""));
                add_str(&g->m, x, "host", jstr(it->doc, "host", ""));
                add_str(&g->m, x, "version", jstr(it->doc, "version", ""));
                if (jhas_num(it->doc, "started_ms"))
                        add_num(&g->m, x, "started_ms", (double)jint(it->doc, "started_ms", 0));
                add_num(&g->m, x, "at_ms", (double)it->at_ms);
                add_num(&g->m, x, "publish_s", (double)it->publish_s);
                add_bool(&g->m, x, "missing", it->missing);
                add_str(&g->m, x, "where", it->where);
                if ((owns = add_arr(&g->m, x, "owns")))
                        cJSON_ArrayForEach(p, jget(it->doc, "providers"))
                        {
                                if (cJSON_IsTrue(jget(p, "owned")) && *jstr(p, "id", ""))
                                        arr_push(&g->m, owns, cJSON_CreateString(jstr(p, "id", "")));
                        }
                arr_push(&g->m, arr, x);
                if (it->missing)
                        continue;
                b = jget(it->doc, "backlog");
                bfiles = sat_add(bfiles, jint(b, "files", 0));
                bevents = sat_add(bevents, jint(b, "events", 0));
                if (jint(b, "lag", -1) >= 0)
                        blag = sat_add(blag < 0 ? 0 : blag, jint(b, "lag", -1));
        }
        if ((bl = add_obj(&g->m, root, "backlog"))) {
                add_num(&g->m, bl, "files", (double)bfiles);
                add_num(&g->m, bl, "events", (double)bevents);
                add_num(&g->m, bl, "lag", (double)blag);
        }
}

cJSON *report_merge(const struct report_doc *docs, size_t n, const struct report_opts *o, char *errstr,
                    size_t errsz)
{
        struct merge g;
        cJSON *root = NULL, *arr, *srcs, *bks, *ser;
        int64_t late_s = 0, miss_s = 0, now = o->now_ms;
        size_t i, j, k, *order = NULL, cnt[3] = {0, 0, 0}, nmissing = 0;
        int verdict = V_OK, mine = 0;
        char summary[256], text[512], age[32];

        memset(&g, 0, sizeof(g));
        g.o = o;
        g.slot_end_ms = (now / SLOT_MS + 1) * SLOT_MS;
        if (!(g.problems = cJSON_CreateArray()) || (n && !(g.in = calloc(n, sizeof(*g.in)))))
                goto oom;
        for (i = 0; i < n; i++)
                take_doc(&g, &docs[i]);
        if (g.nin)
                qsort(g.in, g.nin, sizeof(*g.in), inst_cmp);
        for (i = 0; i < g.nin; i++) {
                struct inst *it = &g.in[i];

                it->publish_s = jint(it->doc, "publish_s", 60);
                if (it->publish_s <= 0 || it->publish_s > REPORT_PERIOD_MAX_S)
                        it->publish_s = 60;
                it->late_after_s = jint(it->doc, "late_after_s", 1200);
                if (it->late_after_s <= 0 || it->late_after_s > REPORT_PERIOD_MAX_S)
                        it->late_after_s = 1200;
                it->missing = now - it->at_ms > (int64_t)REPORT_MISSING_INTERVALS * it->publish_s * 1000;
                /* the report's thresholds: the generating instance's, else the largest */
                if (o->generated_by && !strcmp(o->generated_by, it->name)) {
                        late_s = it->late_after_s;
                        miss_s = REPORT_MISSING_INTERVALS * it->publish_s;
                        mine = 1;
                } else if (!mine) {
                        if (it->late_after_s > late_s)
                                late_s = it->late_after_s;
                        if (REPORT_MISSING_INTERVALS * it->publish_s > miss_s)
                                miss_s = REPORT_MISSING_INTERVALS * it->publish_s;
                }
                if (it->missing) {
                        nmissing++;
                        fmt_age(age, sizeof(age), now - it->at_ms);
                        snprintf(text, sizeof(text),
                                 "instance %s (%s on %s) has not reported for %s (missing after %lld s)",
                                 it->name, jstr(it->doc, "role", "?"), jstr(it->doc, "host", "?"), age,
                                 (long long)(REPORT_MISSING_INTERVALS * it->publish_s));
                        report_problem(&g, "error", "instance_missing", it->name, text, it->at_ms);
                }
        }
        if (late_s <= 0)
                late_s = 1200;
        if (miss_s <= 0)
                miss_s = REPORT_MISSING_INTERVALS * 60;

        merge_providers(&g);
        merge_sources(&g);
        merge_buckets(&g);
        if (g.m.oom)
                goto oom;
        if (g.dropped) {
                snprintf(
                        text, sizeof(text),
                        "%zu providers, sources or buckets of the status documents were left out of this "
                        "report (it shows at most %d providers, %d sources, %d buckets): check what "
                        "publishes into the status folder or topic",
                        g.dropped, REPORT_PROVIDERS_MAX, REPORT_SOURCES_MAX, REPORT_BUCKETS_MAX);
                report_problem(&g, "warn", "report_truncated", "", text, now);
        }
        for (k = 0; k < g.nsrc; k++) {
                source_verdict(&g, &g.src[k], late_s);
                source_advice(&g, &g.src[k]);
        }
        for (i = 0; i < g.npv; i++)
                provider_verdict(&g, i);
        if (g.npv && !(order = malloc(g.npv * sizeof(*order))))
                goto oom;
        for (i = 0; i < g.npv; i++)
                order[i] = i;
        sort_providers(&g, order);

        if (!(root = cJSON_CreateObject()))
                goto oom;
        add_num(&g.m, root, "v", STATUS_SCHEMA_VERSION);
        add_str(&g.m, root, "type", "report");
        add_num(&g.m, root, "generated_ms", (double)now);
        if (o->generated_by)
                add_str(&g.m, root, "generated_by", o->generated_by);
        add_str(&g.m, root, "verdict", "OK");
        add_str(&g.m, root, "summary", "");
        add_num(&g.m, root, "late_after_s", (double)late_s);
        add_num(&g.m, root, "missing_after_s", (double)miss_s);
        report_instances(&g, root);

        arr = add_arr(&g.m, root, "providers");
        for (j = 0; arr && j < g.npv; j++) {
                struct pprov *pv = &g.pv[order[j]];

                i = order[j];
                if (pv->owner >= 0)
                        add_str(&g.m, pv->out, "owner", g.in[pv->owner].name);
                add_str(&g.m, pv->out, "verdict", verdict_names[pv->verdict]);
                add_str(&g.m, pv->out, "reason", pv->reason);
                if (pv->last_sync)
                        add_dup(&g.m, pv->out, "last_sync", pv->last_sync);
                srcs = add_arr(&g.m, pv->out, "sources");
                for (k = 0; srcs && k < g.nsrc; k++)
                        if (g.src[k].pv == i)
                                move_into(&g.m, srcs, &g.src[k].out);
                bks = add_arr(&g.m, pv->out, "buckets");
                for (k = 0; bks && k < g.nbk; k++)
                        if (g.bk[k].pv == i)
                                move_into(&g.m, bks, &g.bk[k].out);
                if ((ser = add_obj(&g.m, pv->out, "series"))) {
                        add_num(&g.m, ser, "slot_s", STATUS_SLOT_S);
                        add_num(&g.m, ser, "slot_end_ms", (double)g.slot_end_ms);
                        set_item(&g.m, ser, "events", series_arr(pv->ev));
                        set_item(&g.m, ser, "resyncs", series_arr(pv->rs));
                        set_item(&g.m, ser, "files", series_arr(pv->fl));
                }
                if (pv->verdict > verdict)
                        verdict = pv->verdict;
                move_into(&g.m, arr, &pv->out);
        }
        merge_problems(&g, root);

        for (k = 0; k < g.nsrc; k++)
                cnt[g.src[k].verdict]++;
        snprintf(summary, sizeof(summary), "%zu provider%s, %zu source%s:", g.npv, g.npv == 1 ? "" : "s",
                 g.nsrc, g.nsrc == 1 ? "" : "s");
        for (i = 3; i-- > 0;) {
                size_t l = strlen(summary);

                if (cnt[i])
                        snprintf(summary + l, sizeof(summary) - l, "%s %zu %s",
                                 summary[l - 1] == ':' ? "" : ",", cnt[i], verdict_names[i]);
        }
        if (!g.nsrc) {
                size_t l = strlen(summary);

                snprintf(summary + l, sizeof(summary) - l, " none");
        }
        if (nmissing) {
                size_t l = strlen(summary);

                snprintf(summary + l, sizeof(summary) - l, "; %zu instance%s missing", nmissing,
                         nmissing == 1 ? "" : "s");
        }
        set_item(&g.m, root, "verdict", cJSON_CreateString(verdict_names[verdict]));
        set_item(&g.m, root, "summary", cJSON_CreateString(summary));
        if (g.m.oom)
                goto oom;
        free(order);
        merge_free(&g);
        return root;
oom:
        jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory while merging the status documents");
        cJSON_Delete(root);
        free(order);
        merge_free(&g);
        return NULL;
}

int report_exit_code(const cJSON *report)
{
        return strcmp(jstr(report, "verdict", ""), "OK") == 0 ? 0 : 1;
}

/* ---------------------------------------------------------------- renderers */

/* A renderer's output: err set by the first failed append (later ones do nothing). */
struct out {
        struct buf *b;
        int err;
};

static void op(struct out *o, const char *fmt, ...) JB_PRINTF(2, 3);
static void op(struct out *o, const char *fmt, ...)
{
        va_list ap;
        char small[512];
        int n;

        if (o->err)
                return;
        va_start(ap, fmt);
        n = vsnprintf(small, sizeof(small), fmt, ap);
        va_end(ap);
        if (n < 0) {
                o->err = JB_ENOMEM;
                return;
        }
        if ((size_t)n < sizeof(small)) {
                if (buf_append(o->b, small, (size_t)n) != JB_OK)
                        o->err = JB_ENOMEM;
                return;
        }
        if (buf_reserve(o->b, (size_t)n + 1) != JB_OK) {
                o->err = JB_ENOMEM;
                return;
        }
        va_start(ap, fmt);
        vsnprintf(o->b->p + o->b->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
        o->b->len += (size_t)n;
}

static void oput(struct out *o, const char *s)
{
        if (!o->err && buf_puts(o->b, s) != JB_OK)
                o->err = JB_ENOMEM;
}

/* s escaped for HTML text and attribute values. */
static void oesc(struct out *o, const char *s)
{
        const char *p, *r;
        size_t run;

        for (p = s ? s : ""; *p;) {
                run = strcspn(p, "&<>\"'");
                if (run && !o->err && buf_append(o->b, p, run) != JB_OK)
                        o->err = JB_ENOMEM;
                p += run;
                if (!*p)
                        break;
                switch (*p) {
                case '&':
                        r = "&amp;";
                        break;
                case '<':
                        r = "&lt;";
                        break;
                case '>':
                        r = "&gt;";
                        break;
                case '"':
                        r = "&quot;";
                        break;
                default:
                        r = "&#39;";
                        break;
                }
                oput(o, r);
                p++;
        }
}

int report_render_json(const cJSON *report, struct buf *out)
{
        char *s = cJSON_Print(report);
        int rc;

        if (!s)
                return JB_ENOMEM;
        rc = buf_puts(out, s);
        cJSON_free(s);
        if (rc == JB_OK)
                rc = buf_puts(out, "\n");
        return rc == JB_OK ? JB_OK : JB_ENOMEM;
}

/* ---- the terminal table ---- */

struct trow {
        const char *verdict, *owner, *reason; /* reason NULL: line */
        char name[256];
        char line[256];
};

/* A source's digest coverage in a few words: "24 h, 288/288 done, 1 recovered" (the figures
 * that are not 0 after done), or "not available ...". */
static void dig_line(const cJSON *d, char *out, size_t n)
{
        static const char *const extra[][3] = {{"recovered", "recovered", "recovered"},
                                               {"missing", "missing", "missing"},
                                               {"tampered", "tampered", "tampered"},
                                               {"gaps", "gap", "gaps"},
                                               {"pending", "pending", "pending"}};
        char hours[32], r[64];
        size_t k;

        if (!cJSON_IsTrue(jget(d, "available"))) {
                snprintf(out, n, "not available (log file validation is off for this trail)");
                return;
        }
        fmt_hours(hours, sizeof(hours), dig_num(d, "covered_s"));
        snprintf(out, n, "%s h, %lld/%lld done", hours, (long long)dig_num(d, "done"),
                 (long long)dig_num(d, "listed"));
        for (k = 0; k < sizeof(extra) / sizeof(extra[0]); k++) {
                int64_t v = dig_num(d, extra[k][0]);

                if (!v)
                        continue;
                snprintf(r, sizeof(r), ", %lld %s", (long long)v, v == 1 ? extra[k][1] : extra[k][2]);
                strncat(out, r, n - strlen(out) - 1);
        }
}

static int64_t inst_at(const cJSON *report, const char *name, int *missing)
{
        const cJSON *i;

        cJSON_ArrayForEach(i, jget(report, "instances"))
        {
                if (!strcmp(jstr(i, "instance", ""), name)) {
                        *missing = cJSON_IsTrue(jget(i, "missing"));
                        return jint(i, "at_ms", 0);
                }
        }
        *missing = 0;
        return 0;
}

int report_render_table(const cJSON *report, struct buf *b)
{
        struct out o = {b, 0};
        const cJSON *p, *s, *pr, *a, *in;
        struct trow *rows = NULL;
        size_t n = 0, cap = 0, i, wv = 7, wn = 8, wo = 5, wi = 8, wh = 4;
        int64_t now = jint(report, "generated_ms", 0);
        char when[64], age[32];
        int missing;

        fmt_utc(when, sizeof(when), now);
        op(&o, "%s  %s  (at %s)\n\n", jstr(report, "verdict", "?"), jstr(report, "summary", ""), when);
        cJSON_ArrayForEach(p, jget(report, "providers"))
        {
                if (grow((void **)&rows, &cap, n + 1 + (size_t)cJSON_GetArraySize(jget(p, "sources")),
                         sizeof(*rows)) != 0) {
                        free(rows);
                        return JB_ENOMEM;
                }
                rows[n].verdict = jstr(p, "verdict", "?");
                rows[n].owner = jstr(p, "owner", "-");
                rows[n].reason = jstr(p, "reason", "");
                snprintf(rows[n].name, sizeof(rows[n].name), "%s (%s)", jstr(p, "name", ""),
                         jstr(p, "id", ""));
                n++;
                cJSON_ArrayForEach(s, jget(p, "sources"))
                {
                        if (grow((void **)&rows, &cap, n, sizeof(*rows)) != 0) {
                                free(rows);
                                return JB_ENOMEM;
                        }
                        rows[n].verdict = jstr(s, "verdict", "?");
                        rows[n].owner = jstr(s, "owner", "-");
                        rows[n].reason = jstr(s, "reason", "");
                        snprintf(rows[n].name, sizeof(rows[n].name), "  log bucket %s",
                                 jstr(s, "bucket", ""));
                        n++;
                        if (!cJSON_IsObject(jget(s, "digests")))
                                continue;
                        if (grow((void **)&rows, &cap, n, sizeof(*rows)) != 0) {
                                free(rows);
                                return JB_ENOMEM;
                        }
                        rows[n].verdict = "";
                        rows[n].owner = "";
                        rows[n].reason = NULL;
                        snprintf(rows[n].name, sizeof(rows[n].name), "    CloudTrail digests");
                        dig_line(jget(s, "digests"), rows[n].line, sizeof(rows[n].line));
                        n++;
                }
        }
        for (i = 0; i < n; i++) {
                if (strlen(rows[i].verdict) > wv)
                        wv = strlen(rows[i].verdict);
                if (strlen(rows[i].name) > wn)
                        wn = strlen(rows[i].name);
                if (strlen(rows[i].owner) > wo)
                        wo = strlen(rows[i].owner);
        }
        op(&o, "%-*s  %-*s  %-*s  %s\n", (int)wv, "VERDICT", (int)wn, "PROVIDER", (int)wo, "OWNER",
           "REASON");
        for (i = 0; i < n; i++)
                op(&o, "%-*s  %-*s  %-*s  %s\n", (int)wv, rows[i].verdict, (int)wn, rows[i].name,
                   (int)wo, rows[i].owner, rows[i].reason ? rows[i].reason : rows[i].line);
        if (!n)
                op(&o, "(no provider: no instance reported one)\n");
        free(rows);

        /* advice, once per source */
        i = 0;
        cJSON_ArrayForEach(p, jget(report, "providers"))
        {
                cJSON_ArrayForEach(s, jget(p, "sources"))
                {
                        cJSON_ArrayForEach(a, jget(s, "advice"))
                        {
                                if (!i++)
                                        op(&o, "\nadvice:\n");
                                op(&o, "  %s / %s: %s\n", jstr(p, "name", ""), jstr(s, "bucket", ""),
                                   jstr(a, "text", ""));
                        }
                }
        }

        /* instances */
        cJSON_ArrayForEach(in, jget(report, "instances"))
        {
                if (strlen(jstr(in, "instance", "")) > wi)
                        wi = strlen(jstr(in, "instance", ""));
                if (strlen(jstr(in, "host", "")) > wh)
                        wh = strlen(jstr(in, "host", ""));
        }
        op(&o, "\n%-*s  %-5s  %-*s  %-8s  %-14s  %s\n", (int)wi, "INSTANCE", "ROLE", (int)wh, "HOST",
           "STATE", "LAST REPORT", "OWNS");
        cJSON_ArrayForEach(in, jget(report, "instances"))
        {
                const cJSON *ow;
                char owns[512] = "";

                cJSON_ArrayForEach(ow, jget(in, "owns"))
                {
                        if (cJSON_IsString(ow))
                                cat(owns, sizeof(owns), ow->valuestring);
                }
                for (i = 0; owns[i]; i++)
                        if (owns[i] == ';')
                                owns[i] = ',';
                (void)inst_at(report, jstr(in, "instance", ""), &missing);
                fmt_age(age, sizeof(age), now - jint(in, "at_ms", now));
                strncat(age, " ago", sizeof(age) - strlen(age) - 1);
                op(&o, "%-*s  %-5s  %-*s  %-8s  %-14s  %s\n", (int)wi, jstr(in, "instance", ""),
                   jstr(in, "role", ""), (int)wh, jstr(in, "host", ""), missing ? "MISSING" : "reports",
                   age, owns[0] ? owns : "-");
        }
        if (!cJSON_GetArraySize(jget(report, "instances")))
                op(&o, "(no instance has published its status)\n");

        /* active problems */
        i = 0;
        cJSON_ArrayForEach(pr, jget(report, "problems"))
        {
                if (!cJSON_IsTrue(jget(pr, "active")))
                        continue;
                if (!i++)
                        op(&o, "\nproblems (active, newest first):\n");
                fmt_when(when, sizeof(when), jint(pr, "last_ms", now), now);
                op(&o, "  %s %s [%s] %s x%lld: %s\n    what to do: %s\n", when, jstr(pr, "level", ""),
                   *jstr(pr, "instance", "") ? jstr(pr, "instance", "") : "report", jstr(pr, "kind", ""),
                   (long long)jint(pr, "count", 1), jstr(pr, "text", ""), jstr(pr, "advice", ""));
        }
        return o.err ? JB_ENOMEM : JB_OK;
}

/* ---- report.html ---- */

static const char html_css[] =
        "body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',sans-serif;margin:1.5em;color:#222}"
        "h1{font-size:1.4em;margin:0 0 .3em}h2{font-size:1.15em;margin:1.4em 0 .4em}"
        "h3{font-size:1em;margin:1em 0 .3em}"
        "table{border-collapse:collapse;margin:.3em 0 1em}"
        "th,td{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}"
        "th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}"
        ".verdict{font-weight:bold;padding:.1em .4em;border-radius:3px;white-space:nowrap}"
        ".v-OK{background:#d8f0d8;color:#185818}.v-LATE{background:#fbe8c0;color:#6b4a00}"
        ".v-FAILING{background:#f8d0d0;color:#8a1010}"
        ".meta{color:#555}.chart{display:block;margin:.2em 0}.chart rect.ev{fill:#3b78c2}"
        ".chart rect.rs{fill:#4a9a4a}.chart text{font-size:10px;fill:#555}"
        "td.bad{background:#f8d0d0;color:#8a1010;font-weight:bold}"
        "li.problem{margin-bottom:.5em}p.todo{margin:.1em 0 0;color:#333}"
        "section.provider{border-top:2px solid #ddd;margin-top:1.5em}"
        "@media print{body{margin:0;font-size:11px}section.provider{break-inside:avoid}"
        ".verdict{border:1px solid #000}a{color:inherit;text-decoration:none}}";

static void hverdict(struct out *o, const char *v)
{
        op(o, "<span class=\"verdict v-%s\">", strcmp(v, "OK") && strcmp(v, "LATE") ? "FAILING" : v);
        oesc(o, v);
        oput(o, "</span>");
}

static void hfig(struct out *o, const char *name, const cJSON *obj, const char *key)
{
        if (jhas_num(obj, key))
                op(o, "<td class=\"n\" data-figure=\"%s\">%lld</td>", name,
                   (long long)jint(obj, key, 0));
        else
                op(o, "<td class=\"n\" data-figure=\"%s\"></td>", name);
}

/* A small bar chart of one 96-slot series (cls: ev or rs). */
static void hchart(struct out *o, const cJSON *series, const char *key, const char *cls,
                   const char *label)
{
        const cJSON *a = jget(series, key), *c;
        double max = 0, total = 0, v;
        int i = 0, w = 5, h = 48, top = 12;

        cJSON_ArrayForEach(c, a)
        {
                v = cJSON_IsNumber(c) ? c->valuedouble : 0;
                if (v > max)
                        max = v;
                total += v;
        }
        op(o,
           "<svg class=\"chart\" data-series=\"%s\" data-total=\"%.0f\" width=\"%d\" height=\"%d\" "
           "viewBox=\"0 0 %d %d\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">"
           "<title>%s per 15 minutes, last 24 h: %.0f in all, at most %.0f in a slot</title>"
           "<text x=\"0\" y=\"10\">%s: %.0f in 24 h (max %.0f per 15 min)</text>",
           key, total, STATUS_SLOTS * w, h + top + 12, STATUS_SLOTS * w, h + top + 12, label, total, max,
           label, total, max);
        cJSON_ArrayForEach(c, a)
        {
                v = cJSON_IsNumber(c) ? c->valuedouble : 0;
                if (v > 0 && max > 0) {
                        int bh = (int)ceil(v / max * h);

                        op(o, "<rect class=\"%s\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>", cls,
                           i * w, top + h - bh, w - 1, bh);
                }
                i++;
        }
        op(o,
           "<line x1=\"0\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>"
           "<text x=\"0\" y=\"%d\">24 h ago</text><text x=\"%d\" y=\"%d\" text-anchor=\"end\">now</text></svg>",
           top + h, STATUS_SLOTS * w, top + h, top + h + 11, STATUS_SLOTS * w, top + h + 11);
}

static void hproblem(struct out *o, const cJSON *pr, int64_t now)
{
        char when[64];

        fmt_when(when, sizeof(when), jint(pr, "last_ms", now), now);
        oput(o, "<li class=\"problem\" data-kind=\"");
        oesc(o, jstr(pr, "kind", ""));
        oput(o, "\" data-level=\"");
        oesc(o, jstr(pr, "level", ""));
        oput(o, "\" data-instance=\"");
        oesc(o, jstr(pr, "instance", ""));
        op(o, "\" data-active=\"%s\"><b>", cJSON_IsTrue(jget(pr, "active")) ? "true" : "false");
        oesc(o, jstr(pr, "level", ""));
        oput(o, "</b> ");
        oesc(o, when);
        op(o, " (%lld times", (long long)jint(pr, "count", 1));
        oput(o, cJSON_IsTrue(jget(pr, "active")) ? ", still active" : ", cleared");
        oput(o, ", instance ");
        oesc(o, jstr(pr, "instance", "-"));
        if (*jstr(pr, "provider", "")) {
                oput(o, ", provider ");
                oesc(o, jstr(pr, "provider", ""));
        }
        if (*jstr(pr, "source", "")) {
                oput(o, ", ");
                oesc(o, jstr(pr, "source", ""));
        }
        oput(o, "): ");
        oesc(o, jstr(pr, "text", ""));
        oput(o, "<p class=\"todo\">What to do: ");
        oesc(o, jstr(pr, "advice", ""));
        oput(o, "</p></li>");
}

/* The problems of the report whose provider is this one's id (id NULL: those of no provider
 * the report lists), under a heading; nothing when there are none. */
static void hproblems(struct out *o, const cJSON *report, const char *id, int64_t now)
{
        const cJSON *pr, *p;
        int any = 0, known;

        cJSON_ArrayForEach(pr, jget(report, "problems"))
        {
                const char *pid = jstr(pr, "provider", "");

                if (id) {
                        if (strcmp(pid, id) != 0)
                                continue;
                } else {
                        known = 0;
                        cJSON_ArrayForEach(p, jget(report, "providers"))
                        {
                                if (*pid && !strcmp(jstr(p, "id", ""), pid))
                                        known = 1;
                        }
                        if (known)
                                continue;
                }
                if (!any++)
                        oput(o, id ? "<h3>Recent problems, newest first</h3><ul class=\"problems\">"
                                   : "<section id=\"problems\"><h2>Recent problems of the deployment, "
                                     "newest first</h2><ul class=\"problems\">");
                hproblem(o, pr, now);
        }
        if (any)
                oput(o, id ? "</ul>" : "</ul></section>\n");
}

/* The provider's sources' CloudTrail digest coverage, one row per source that has it; nothing
 * when none has. */
static void hdigests(struct out *o, const cJSON *p)
{
        static const char *const figs[][2] = {{"digest_digests", "digests"},
                                              {"digest_listed", "listed"},
                                              {"digest_done", "done"},
                                              {"digest_recovered", "recovered"},
                                              {"digest_missing", "missing"},
                                              {"digest_tampered", "tampered"},
                                              {"digest_gaps", "gaps"},
                                              {"digest_pending", "pending"}};
        const cJSON *s, *d;
        char hours[32];
        size_t k;
        int any = 0;

        cJSON_ArrayForEach(s, jget(p, "sources"))
        {
                if (!cJSON_IsObject(d = jget(s, "digests")))
                        continue;
                if (!any++)
                        oput(o, "<h3>CloudTrail digests (what CloudTrail says it delivered)</h3>"
                                "<table class=\"digests\"><tr><th>log bucket</th><th>hours covered</th>"
                                "<th>digests</th><th>files listed</th><th>done</th><th>recovered</th>"
                                "<th>missing</th><th>tampered</th><th>gaps</th><th>pending</th>"
                                "<th>in words</th></tr>");
                oput(o, "<tr class=\"digests\" data-bucket=\"");
                oesc(o, jstr(s, "bucket", ""));
                op(o, "\" data-available=\"%s\"><td>",
                   cJSON_IsTrue(jget(d, "available")) ? "true" : "false");
                oesc(o, jstr(s, "bucket", ""));
                oput(o, "</td>");
                if (cJSON_IsTrue(jget(d, "available"))) {
                        fmt_hours(hours, sizeof(hours), dig_num(d, "covered_s"));
                        op(o, "<td class=\"n\" data-figure=\"digest_hours\">%s</td>", hours);
                        for (k = 0; k < sizeof(figs) / sizeof(figs[0]); k++)
                                op(o, "<td class=\"n%s\" data-figure=\"%s\">%lld</td>",
                                   k >= 4 && k <= 6 && dig_num(d, figs[k][1]) > 0 ? " bad" : "",
                                   figs[k][0], (long long)dig_num(d, figs[k][1]));
                } else {
                        oput(o, "<td colspan=\"9\">not available</td>");
                }
                oput(o, "<td>");
                oesc(o, jstr(d, "summary", ""));
                oput(o, "</td></tr>");
        }
        if (any)
                oput(o, "</table>");
}

static void hprovider(struct out *o, const cJSON *report, const cJSON *p, int n, int64_t now)
{
        const cJSON *s, *b, *a, *ls = jget(p, "last_sync"), *nw;
        char when[64], age[32];

        op(o, "<section class=\"provider\" id=\"provider-%d\" data-provider=\"", n);
        oesc(o, jstr(p, "id", ""));
        oput(o, "\" data-verdict=\"");
        oesc(o, jstr(p, "verdict", ""));
        oput(o, "\"><h2>");
        hverdict(o, jstr(p, "verdict", ""));
        oput(o, " ");
        oesc(o, jstr(p, "name", ""));
        oput(o, " <span class=\"meta\">(provider ");
        oesc(o, jstr(p, "id", ""));
        oput(o, ")</span></h2><p class=\"reason\">");
        oesc(o, jstr(p, "reason", ""));
        oput(o, "</p><p class=\"meta\">scanned by ");
        oesc(o, jstr(p, "owner", "no instance"));
        if (cJSON_IsObject(ls) && jhas_num(ls, "end_ms")) {
                fmt_when(when, sizeof(when), jint(ls, "end_ms", 0), now);
                oput(o, "; last full sync ended ");
                oesc(o, when);
                if (jint(ls, "files", -1) >= 0)
                        op(o, " (%lld files", (long long)jint(ls, "files", 0));
                else
                        oput(o, " (");
                if (jstr(ls, "from", NULL)) {
                        oput(o, jint(ls, "files", -1) >= 0 ? ", " : "");
                        oesc(o, jstr(ls, "from", ""));
                }
                oput(o, ")");
        }
        oput(o, "</p>");

        oput(o, "<h3>Log buckets</h3><table class=\"sources\"><tr><th>verdict</th><th>log bucket</th>"
                "<th>owner</th><th>files found</th><th>processed</th><th>quarantined</th>"
                "<th>newest log file (age)</th><th>reason</th></tr>");
        cJSON_ArrayForEach(s, jget(p, "sources"))
        {
                nw = jget(s, "newest");
                oput(o, "<tr class=\"source\" data-bucket=\"");
                oesc(o, jstr(s, "bucket", ""));
                oput(o, "\" data-verdict=\"");
                oesc(o, jstr(s, "verdict", ""));
                oput(o, "\"><td>");
                hverdict(o, jstr(s, "verdict", ""));
                oput(o, "</td><td>");
                oesc(o, jstr(s, "bucket", ""));
                oput(o, "</td><td>");
                oesc(o, jstr(s, "owner", "-"));
                oput(o, "</td>");
                hfig(o, "files_found", jget(s, "files"), "found");
                hfig(o, "files_processed", jget(s, "files"), "processed");
                hfig(o, "files_quarantined", jget(s, "files"), "quarantined");
                if (jhas_num(nw, "visible_ms")) {
                        fmt_age(age, sizeof(age), now - jint(nw, "visible_ms", now));
                        op(o,
                           "<td class=\"n\" data-figure=\"newest_age_s\" data-value=\"%lld\" title=\"",
                           (long long)((now - jint(nw, "visible_ms", now)) / 1000));
                        oesc(o, jstr(nw, "path", ""));
                        op(o, "\">%s</td>", age);
                } else {
                        oput(o, "<td class=\"n\" data-figure=\"newest_age_s\">none yet</td>");
                }
                oput(o, "<td>");
                oesc(o, jstr(s, "reason", ""));
                oput(o, "</td></tr>");
        }
        oput(o, "</table>");
        if (!cJSON_GetArraySize(jget(p, "sources")))
                oput(o, "<p class=\"meta\">No instance reads a log bucket of this provider.</p>");
        hdigests(o, p);

        oput(o, "<h3>Buckets</h3>");
        if (!cJSON_GetArraySize(jget(p, "buckets")))
                oput(o, "<p class=\"meta\">No instance has reported events or resyncs of its buckets "
                        "yet.</p>");
        else
                oput(o, "<table class=\"buckets\"><tr><th>bucket</th><th>events</th>"
                        "<th>resyncs ok</th><th>resyncs failed</th><th>dead letters</th>"
                        "<th>latency p50 (s)</th><th>latency p99 (s)</th></tr>");
        cJSON_ArrayForEach(b, jget(p, "buckets"))
        {
                const cJSON *ev = jget(b, "events"), *rs = jget(b, "resyncs");
                int64_t evn = jint(ev, "put", 0) + jint(ev, "delete", 0) + jint(ev, "bucket", 0);
                int64_t ok = jint(jget(rs, "event"), "ok", 0) + jint(jget(rs, "refresh"), "ok", 0);
                int64_t bad =
                        jint(jget(rs, "event"), "failed", 0) + jint(jget(rs, "refresh"), "failed", 0);

                oput(o, "<tr class=\"bucket\" data-bucket=\"");
                oesc(o, jstr(b, "bucket", ""));
                oput(o, "\"><td>");
                oesc(o, jstr(b, "bucket", ""));
                op(o,
                   "</td><td class=\"n\" data-figure=\"events\">%lld</td>"
                   "<td class=\"n\" data-figure=\"resyncs_ok\">%lld</td>"
                   "<td class=\"n\" data-figure=\"resyncs_failed\">%lld</td>",
                   (long long)evn, (long long)ok, (long long)bad);
                hfig(o, "dead", b, "dead");
                hfig(o, "latency_p50_s", b, "latency_p50_s");
                hfig(o, "latency_p99_s", b, "latency_p99_s");
                oput(o, "</tr>");
        }
        if (cJSON_GetArraySize(jget(p, "buckets")))
                oput(o, "</table>");

        oput(o, "<h3>Last 24 hours</h3>");
        hchart(o, jget(p, "series"), "events", "ev", "events");
        hchart(o, jget(p, "series"), "resyncs", "rs", "resyncs");

        a = NULL;
        cJSON_ArrayForEach(s, jget(p, "sources"))
        {
                cJSON_ArrayForEach(b, jget(s, "advice"))
                {
                        if (!a) {
                                oput(o, "<h3>Advice</h3><ul class=\"advices\">");
                                a = b;
                        }
                        oput(o, "<li class=\"advice\" data-kind=\"");
                        oesc(o, jstr(b, "kind", ""));
                        oput(o, "\" data-bucket=\"");
                        oesc(o, jstr(s, "bucket", ""));
                        oput(o, "\">");
                        oesc(o, jstr(b, "text", ""));
                        oput(o, "</li>");
                }
        }
        if (a)
                oput(o, "</ul>");
        hproblems(o, report, jstr(p, "id", ""), now);
        oput(o, "</section>\n");
}

int report_render_html(const cJSON *report, struct buf *b)
{
        struct out o = {b, 0};
        const cJSON *p, *in, *bl = jget(report, "backlog");
        int64_t now = jint(report, "generated_ms", 0);
        char when[64], age[32];
        int n = 0;

        fmt_utc(when, sizeof(when), now);
        oput(&o, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                 "<title>jibe report: ");
        oesc(&o, jstr(report, "verdict", ""));
        oput(&o, " at ");
        oesc(&o, when);
        op(&o, "</title><style>%s</style></head>\n<body data-verdict=\"", html_css);
        oesc(&o, jstr(report, "verdict", ""));
        op(&o, "\" data-generated-ms=\"%lld\"><h1>", (long long)now);
        hverdict(&o, jstr(report, "verdict", ""));
        oput(&o, " jibe provider report</h1><p class=\"summary\">");
        oesc(&o, jstr(report, "summary", ""));
        oput(&o, "</p><p class=\"meta\">generated ");
        oesc(&o, when);
        if (jstr(report, "generated_by", NULL)) {
                oput(&o, " by instance ");
                oesc(&o, jstr(report, "generated_by", ""));
        }
        op(&o, "; backlog %lld files, %lld events", (long long)jint(bl, "files", 0),
           (long long)jint(bl, "events", 0));
        if (jint(bl, "lag", -1) >= 0)
                op(&o, ", Kafka lag %lld messages", (long long)jint(bl, "lag", 0));
        op(&o, "; a source is LATE after %lld min without a new log file</p>\n",
           (long long)(jint(report, "late_after_s", 0) / 60));

        oput(&o,
             "<table id=\"summary\"><tr><th>verdict</th><th>provider</th><th>owner</th><th>reason</th></tr>");
        cJSON_ArrayForEach(p, jget(report, "providers"))
        {
                n++;
                oput(&o, "<tr class=\"provider-row\" data-provider=\"");
                oesc(&o, jstr(p, "id", ""));
                oput(&o, "\" data-verdict=\"");
                oesc(&o, jstr(p, "verdict", ""));
                oput(&o, "\"><td>");
                hverdict(&o, jstr(p, "verdict", ""));
                op(&o, "</td><td><a href=\"#provider-%d\">", n);
                oesc(&o, jstr(p, "name", ""));
                oput(&o, "</a></td><td>");
                oesc(&o, jstr(p, "owner", "-"));
                oput(&o, "</td><td>");
                oesc(&o, jstr(p, "reason", ""));
                oput(&o, "</td></tr>");
        }
        oput(&o, "</table>\n");
        if (!n)
                oput(&o, "<p>No provider: no instance has reported one.</p>");
        n = 0;
        cJSON_ArrayForEach(p, jget(report, "providers")) hprovider(&o, report, p, ++n, now);

        hproblems(&o, report, NULL, now);

        oput(&o,
             "<section id=\"instances\"><h2>Instances</h2><table><tr><th>instance</th><th>role</th>"
             "<th>host</th><th>version</th><th>last report</th><th>state</th><th>scans providers</th></tr>");
        cJSON_ArrayForEach(in, jget(report, "instances"))
        {
                const cJSON *ow;
                int first = 1, missing = cJSON_IsTrue(jget(in, "missing"));

                oput(&o, "<tr class=\"instance\" data-instance=\"");
                oesc(&o, jstr(in, "instance", ""));
                op(&o, "\" data-missing=\"%s\"><td>", missing ? "true" : "false");
                oesc(&o, jstr(in, "instance", ""));
                oput(&o, "</td><td>");
                oesc(&o, jstr(in, "role", ""));
                oput(&o, "</td><td>");
                oesc(&o, jstr(in, "host", ""));
                oput(&o, "</td><td>");
                oesc(&o, jstr(in, "version", ""));
                fmt_age(age, sizeof(age), now - jint(in, "at_ms", now));
                op(&o, "</td><td>%s ago</td><td>%s</td><td>", age,
                   missing ? "<span class=\"verdict v-FAILING\">MISSING</span>" : "reports");
                cJSON_ArrayForEach(ow, jget(in, "owns"))
                {
                        if (!cJSON_IsString(ow))
                                continue;
                        oput(&o, first ? "" : ", ");
                        oesc(&o, ow->valuestring);
                        first = 0;
                }
                oput(&o, "</td></tr>");
        }
        oput(&o, "</table></section>\n</body></html>\n");
        return o.err ? JB_ENOMEM : JB_OK;
}
