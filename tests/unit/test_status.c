/*
 * test_status.c - the status recorder (status.h) with an injected clock: the instance_status
 * document's fields and totals after a scripted sequence of calls, the 15-minute slots
 * rolling over 24 h, window figures, the latency histogram's buckets, the tables' bounds
 * (the drop counter), seeding from a previous document (newest and last_sync only, the
 * right instance only), and a snapshot taken while four threads record.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cJSON.h>
#include <cmocka.h>

#include "status.h"

#define SLOT 900000LL
#define T0 (1796000000000LL / SLOT * SLOT) /* the start of a slot */

static int64_t fake_now;

static int64_t clk(void)
{
        return fake_now;
}

static const struct status_ident ident = {"east-1", "run", "jibe test", 60, 1200};

static int setup(void **state)
{
        (void)state;
        fake_now = T0 + 1000;
        status_clock_set(clk);
        status_init(&ident);
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        status_reset();
        status_clock_set(NULL);
        return 0;
}

static cJSON *snap(int64_t now)
{
        struct buf b;
        cJSON *d;

        buf_init(&b, 16u << 20);
        assert_int_equal(status_snapshot(now, &b), JB_OK);
        d = cJSON_Parse(b.p);
        assert_non_null(d);
        buf_clear(&b);
        return d;
}

static const cJSON *get(const cJSON *o, const char *path)
{
        char k[64];
        const char *dot;

        while (o && (dot = strchr(path, '.'))) {
                snprintf(k, sizeof(k), "%.*s", (int)(dot - path), path);
                o = cJSON_GetObjectItemCaseSensitive(o, k);
                path = dot + 1;
        }
        return o ? cJSON_GetObjectItemCaseSensitive(o, path) : NULL;
}

static int64_t num(const cJSON *o, const char *path)
{
        const cJSON *v = get(o, path);

        if (!cJSON_IsNumber(v))
                fail_msg("%s is not a number", path);
        return (int64_t)v->valuedouble;
}

static const char *str(const cJSON *o, const char *path)
{
        const cJSON *v = get(o, path);

        if (!cJSON_IsString(v))
                fail_msg("%s is not a string", path);
        return v->valuestring;
}

static const cJSON *nth(const cJSON *o, const char *path, int i)
{
        const cJSON *a = get(o, path);

        assert_true(cJSON_IsArray(a));
        return cJSON_GetArrayItem(a, i);
}

static int64_t series_at(const cJSON *o, const char *path, int i)
{
        const cJSON *a = get(o, path);

        assert_true(cJSON_IsArray(a));
        assert_int_equal(cJSON_GetArraySize(a), STATUS_SLOTS);
        return (int64_t)cJSON_GetArrayItem(a, i)->valuedouble;
}

static void test_document(void **state)
{
        const char *bk[] = {"data", "ct-logs"};
        struct status_file f;
        const uint64_t ev[STATUS_EV_N] = {1, 2, 3, 4, 5};
        const cJSON *p, *s, *b, *pr;
        cJSON *d;

        (void)state;
        status_provider("p1", "S3 Prod", bk, 2, 0);
        status_provider("p1", NULL, NULL, 0, 1); /* owned sticks, name and buckets kept */
        status_last_sync("p1", &(struct status_sync){10, 20, 120000, "task 4711 (ReSync)"});
        status_last_sync("p1", &(struct status_sync){5, 15, 1, "older"}); /* older: ignored */
        status_source("p1", "ct-logs", 1);
        status_scan("p1", "ct-logs", 0, "Access Anywhere does not answer");
        fake_now += 1000;
        status_scan("p1", "ct-logs", 1, NULL);
        status_file_found("p1", "ct-logs", "/S3 Prod/ct-logs/a.json.gz", T0 + 2000);
        status_file_found("p1", "ct-logs", "/S3 Prod/ct-logs/b.json.gz", T0 + 3000);
        status_file_found("p1", "ct-logs", "/S3 Prod/ct-logs/0.json.gz", T0 + 2500); /* older */
        memset(&f, 0, sizeof(f));
        f.provider = "p1";
        f.bucket = "ct-logs";
        f.path = "/S3 Prod/ct-logs/b.json.gz";
        f.event_ms = T0 - 60000;
        f.visible_ms = T0 + 3000;
        for (int i = 0; i < STATUS_CLASSES; i++)
                f.classes[i] = (uint64_t)i + 1;
        f.log_bucket_records = 7;
        status_file_done(&f);
        f.path = "/S3 Prod/ct-logs/a.json.gz";
        f.quarantined = 1;
        f.event_ms = T0; /* not the newest file: its time does not count */
        status_file_done(&f);
        status_events("p1", "data", ev);
        status_events("p1", "data", ev);
        status_resync("p1", "data", STATUS_RESYNC_EVENT, 1, 1500, NULL);
        status_resync("p1", "data", STATUS_RESYNC_REFRESH, 1, 40000, NULL);
        fake_now += 1000;
        status_resync("p1", "data", STATUS_RESYNC_EVENT, 0, -1, "HTTP 503");
        status_dead("p1", "data", 3);
        status_backlog(4, 5, -7);
        status_problem(STATUS_ERROR, NULL, NULL, "aa_outage", NULL, "down");
        fake_now += 1000;
        status_problem(STATUS_ERROR, NULL, NULL, "aa_outage", NULL, "still down");
        fake_now += 1000;
        status_problem_once(STATUS_WARN, "p1", "ct-logs", "quarantine", NULL, "a file");
        fake_now += 1000;
        status_problem_once(STATUS_WARN, NULL, NULL, "log", "parser", "a warning");
        status_problem_clear(NULL, NULL, "aa_outage", NULL);

        d = snap(T0 + 10000);
        assert_int_equal(num(d, "v"), STATUS_SCHEMA_VERSION);
        assert_string_equal(str(d, "type"), "instance_status");
        assert_string_equal(str(d, "instance"), "east-1");
        assert_string_equal(str(d, "role"), "run");
        assert_string_equal(str(d, "version"), "jibe test");
        assert_int_equal(num(d, "started_ms"), T0 + 1000);
        assert_int_equal(num(d, "at_ms"), T0 + 10000);
        assert_int_equal(num(d, "publish_s"), 60);
        assert_int_equal(num(d, "late_after_s"), 1200);
        assert_int_equal(num(d, "slot_s"), 900);
        assert_int_equal(num(d, "slot_end_ms"), T0 + SLOT);
        assert_true(num(d, "pid") > 0);
        assert_non_null(str(d, "host"));
        assert_null(get(d, "dropped"));

        assert_int_equal(cJSON_GetArraySize(get(d, "providers")), 1);
        p = nth(d, "providers", 0);
        assert_string_equal(str(p, "id"), "p1");
        assert_string_equal(str(p, "name"), "S3 Prod");
        assert_int_equal(cJSON_GetArraySize(get(p, "buckets")), 2);
        assert_string_equal(cJSON_GetArrayItem(get(p, "buckets"), 1)->valuestring, "ct-logs");
        assert_true(cJSON_IsTrue(get(p, "owned")));
        assert_int_equal(num(p, "last_sync.start_ms"), 10);
        assert_int_equal(num(p, "last_sync.end_ms"), 20);
        assert_int_equal(num(p, "last_sync.files"), 120000);
        assert_string_equal(str(p, "last_sync.from"), "task 4711 (ReSync)");

        assert_int_equal(cJSON_GetArraySize(get(d, "sources")), 1);
        s = nth(d, "sources", 0);
        assert_string_equal(str(s, "provider"), "p1");
        assert_string_equal(str(s, "bucket"), "ct-logs");
        assert_true(cJSON_IsTrue(get(s, "scanned")));
        assert_int_equal(num(s, "scan.last_ok_ms"), T0 + 2000);
        assert_int_equal(num(s, "scan.last_error_ms"), T0 + 1000);
        assert_string_equal(str(s, "scan.last_error"), "Access Anywhere does not answer");
        assert_int_equal(num(s, "scan.errors"), 1);
        assert_true(cJSON_IsFalse(get(s, "scan.failing")));
        assert_int_equal(num(s, "files.found"), 3);
        assert_int_equal(num(s, "files.processed"), 1);
        assert_int_equal(num(s, "files.quarantined"), 1);
        assert_int_equal(num(s, "files.found_window"), 3);
        assert_int_equal(num(s, "files.processed_window"), 1);
        assert_int_equal(num(s, "files.quarantined_window"), 1);
        assert_string_equal(str(s, "newest.path"), "/S3 Prod/ct-logs/b.json.gz");
        assert_int_equal(num(s, "newest.visible_ms"), T0 + 3000);
        assert_int_equal(num(s, "newest.event_ms"), T0 - 60000);
        assert_int_equal(num(s, "newest.delay_ms"), 63000);
        assert_int_equal(num(s, "classes.malformed"), 2);
        assert_int_equal(num(s, "classes.not_write"), 8);
        assert_int_equal(num(s, "classes.bucket"), 20);
        assert_int_equal(num(s, "log_bucket_records"), 14);
        assert_int_equal(series_at(s, "series.files", 95), 1);
        assert_int_equal(series_at(s, "series.files", 94), 0);

        assert_int_equal(cJSON_GetArraySize(get(d, "buckets")), 1);
        b = nth(d, "buckets", 0);
        assert_string_equal(str(b, "bucket"), "data");
        assert_int_equal(num(b, "events.self"), 2);
        assert_int_equal(num(b, "events.covered"), 4);
        assert_int_equal(num(b, "events.put"), 6);
        assert_int_equal(num(b, "events.delete"), 8);
        assert_int_equal(num(b, "events.bucket"), 10);
        assert_int_equal(num(b, "resyncs.event.ok"), 1);
        assert_int_equal(num(b, "resyncs.event.failed"), 1);
        assert_int_equal(num(b, "resyncs.refresh.ok"), 1);
        assert_int_equal(num(b, "resyncs.refresh.failed"), 0);
        assert_int_equal(num(b, "resyncs_window.ok"), 2);
        assert_int_equal(num(b, "resyncs_window.failed"), 1);
        assert_int_equal(num(b, "last_resync_ok_ms"), T0 + 2000);
        assert_int_equal(num(b, "last_resync_error_ms"), T0 + 3000);
        assert_string_equal(str(b, "last_resync_error"), "HTTP 503");
        assert_int_equal(num(b, "dead"), 3);
        assert_int_equal(series_at(b, "series.events", 95), 24); /* put + delete + bucket */
        assert_int_equal(series_at(b, "series.resyncs", 95), 3);

        assert_int_equal(num(d, "backlog.files"), 4);
        assert_int_equal(num(d, "backlog.events"), 5);
        assert_int_equal(num(d, "backlog.lag"), -1);

        assert_int_equal(cJSON_GetArraySize(get(d, "problems")), 3);
        pr = nth(d, "problems", 0); /* newest first */
        assert_string_equal(str(pr, "kind"), "log");
        assert_string_equal(str(pr, "module"), "parser");
        assert_string_equal(str(pr, "level"), "warn");
        assert_true(cJSON_IsFalse(get(pr, "active")));
        pr = nth(d, "problems", 1);
        assert_string_equal(str(pr, "kind"), "quarantine");
        assert_string_equal(str(pr, "provider"), "p1");
        assert_string_equal(str(pr, "source"), "ct-logs");
        assert_null(get(pr, "module"));
        pr = nth(d, "problems", 2);
        assert_string_equal(str(pr, "kind"), "aa_outage");
        assert_string_equal(str(pr, "level"), "error");
        assert_string_equal(str(pr, "text"), "still down");
        assert_int_equal(num(pr, "count"), 2);
        assert_int_equal(num(pr, "first_ms"), T0 + 3000);
        assert_int_equal(num(pr, "last_ms"), T0 + 4000);
        assert_true(cJSON_IsFalse(get(pr, "active"))); /* cleared */
        cJSON_Delete(d);
}

static void test_failing_and_absent(void **state)
{
        const cJSON *s;
        cJSON *d;

        (void)state;
        status_scan("p1", "ct-logs", 0, NULL);
        d = snap(fake_now);
        s = nth(d, "sources", 0);
        assert_true(cJSON_IsTrue(get(s, "scan.failing")));
        assert_string_equal(str(s, "scan.last_error"), "scan failed");
        assert_null(get(s, "scan.last_ok_ms"));
        assert_null(get(s, "newest")); /* no file yet */
        assert_null(get(s, "classes"));
        assert_null(nth(d, "providers", 0)); /* a source does not make a provider */
        cJSON_Delete(d);
}

/* A source's digest coverage: absent until status_digest(), then the latest figures (replacing). */
static void test_digest(void **state)
{
        struct status_digest g = {1, 2, 48, 1, 47 * 3600, 1123, 1120, 2, 1, 3, 4, 5, 6, T0 - 1000};
        const cJSON *s;
        cJSON *d;

        (void)state;
        status_scan("p1", "ct-logs", 1, NULL);
        d = snap(fake_now);
        assert_null(get(nth(d, "sources", 0), "digests"));
        cJSON_Delete(d);
        status_digest("p1", "ct-logs", &(struct status_digest){.available = 0, .last_end_ms = -1});
        status_digest("p1", "ct-logs", &g);
        status_digest("p1", "other", &(struct status_digest){.available = 0, .last_end_ms = -1});
        d = snap(fake_now);
        s = nth(d, "sources", 0);
        assert_string_equal(str(s, "bucket"), "ct-logs");
        assert_true(cJSON_IsTrue(get(s, "digests.available")));
        assert_int_equal(num(s, "digests.chains"), 2);
        assert_int_equal(num(s, "digests.digests"), 48);
        assert_int_equal(num(s, "digests.backfill"), 1);
        assert_int_equal(num(s, "digests.covered_s"), 47 * 3600);
        assert_int_equal(num(s, "digests.listed"), 1123);
        assert_int_equal(num(s, "digests.done"), 1120);
        assert_int_equal(num(s, "digests.recovered"), 2);
        assert_int_equal(num(s, "digests.missing"), 1);
        assert_int_equal(num(s, "digests.tampered"), 3);
        assert_int_equal(num(s, "digests.unverified"), 4);
        assert_int_equal(num(s, "digests.gaps"), 5);
        assert_int_equal(num(s, "digests.pending"), 6);
        assert_int_equal(num(s, "digests.last_end_ms"), T0 - 1000);
        s = nth(d, "sources", 1);
        assert_string_equal(str(s, "bucket"), "other");
        assert_true(cJSON_IsFalse(get(s, "digests.available")));
        assert_int_equal(num(s, "digests.last_end_ms"), -1);
        cJSON_Delete(d);
}

/* Slots: aligned to the epoch, the newest four are the window, 96 of them the series; an
 * entry older than 24 h reads 0 when its ring cell comes round again. */
static void test_slots(void **state)
{
        struct status_file f;
        const cJSON *s;
        cJSON *d;

        (void)state;
        memset(&f, 0, sizeof(f));
        f.provider = "p1";
        f.bucket = "ct-logs";
        f.event_ms = -1;
        fake_now = T0 + 5;
        status_file_done(&f); /* slot 0 */
        fake_now = T0 + SLOT - 1;
        status_file_done(&f); /* slot 0 */
        fake_now = T0 + SLOT;
        status_file_done(&f); /* slot 1 */
        fake_now = T0 + 4 * SLOT;
        status_file_done(&f);                        /* slot 4 */
        status_file_found("p1", "ct-logs", "/x", 0); /* 0: now */

        d = snap(T0 + 4 * SLOT + 10);
        s = nth(d, "sources", 0);
        assert_int_equal(num(d, "slot_end_ms"), T0 + 5 * SLOT);
        assert_int_equal(series_at(s, "series.files", 95), 1);
        assert_int_equal(series_at(s, "series.files", 94), 0);
        assert_int_equal(series_at(s, "series.files", 93), 0);
        assert_int_equal(series_at(s, "series.files", 92), 1);
        assert_int_equal(series_at(s, "series.files", 91), 2);
        assert_int_equal(num(s, "files.processed"), 4);
        assert_int_equal(num(s, "files.processed_window"), 2); /* slots 1..4 */
        assert_int_equal(num(s, "files.found_window"), 1);
        assert_int_equal(num(s, "newest.visible_ms"), T0 + 4 * SLOT);
        cJSON_Delete(d);

        /* 24 h on: slot 0 has left the series (index 95 - 96), slot 4 is at index 0 ... */
        d = snap(T0 + 99 * SLOT);
        s = nth(d, "sources", 0);
        assert_int_equal(series_at(s, "series.files", 0), 1); /* slot 4 */
        for (int i = 1; i < STATUS_SLOTS; i++)
                assert_int_equal(series_at(s, "series.files", i), 0);
        assert_int_equal(num(s, "files.processed_window"), 0);
        cJSON_Delete(d);

        /* ... and a new count in slot 96 (the ring cell of slot 0) starts from 0 */
        fake_now = T0 + 96 * SLOT + 7;
        status_file_done(&f);
        d = snap(fake_now);
        s = nth(d, "sources", 0);
        assert_int_equal(series_at(s, "series.files", 95), 1);
        assert_int_equal(num(s, "files.processed_window"), 1);
        assert_int_equal(num(s, "files.processed"), 5);
        cJSON_Delete(d);
}

static void test_histogram(void **state)
{
        static const int64_t lat_ms[] = {0,       1000,    1001,    2000,    4999,   59000,
                                         7200000, 7200001, 9999999, 3600000, 600000, -1};
        static const int expect[STATUS_LAT_BOUNDS] = {2, 2, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 1, 2};
        const cJSON *b, *le, *cn;
        cJSON *d;

        (void)state;
        fake_now = T0 - 4 * SLOT; /* outside the window of the snapshot below */
        status_resync("p1", "data", STATUS_RESYNC_EVENT, 1, 1000, NULL);
        for (size_t i = 0; i < sizeof(lat_ms) / sizeof(lat_ms[0]); i++) {
                fake_now = T0 + (int64_t)(i % 4) * SLOT; /* spread over the window's slots */
                status_resync("p1", "data", STATUS_RESYNC_EVENT, 1, lat_ms[i], NULL);
        }
        status_resync("p1", "data", STATUS_RESYNC_EVENT, 0, 5, "failed: not in the histogram");
        d = snap(T0 + 3 * SLOT + 1);
        b = nth(d, "buckets", 0);
        le = get(b, "latency_window.le_s");
        cn = get(b, "latency_window.counts");
        assert_int_equal(cJSON_GetArraySize(le), STATUS_LAT_BOUNDS);
        assert_int_equal(cJSON_GetArraySize(cn), STATUS_LAT_BOUNDS);
        assert_int_equal(cJSON_GetArrayItem(le, 0)->valueint, 1);
        assert_int_equal(cJSON_GetArrayItem(le, 13)->valueint, 7200);
        assert_int_equal(cJSON_GetArrayItem(le, 14)->valueint, -1);
        for (int i = 0; i < STATUS_LAT_BOUNDS; i++)
                assert_int_equal(cJSON_GetArrayItem(cn, i)->valueint, expect[i]);
        assert_int_equal(num(b, "resyncs.event.ok"), 13);
        assert_int_equal(num(b, "resyncs_window.ok"), 12);
        assert_int_equal(num(b, "resyncs_window.failed"), 1);
        cJSON_Delete(d);

        /* one slot later the oldest slot of the window (T0) has left it */
        d = snap(T0 + 4 * SLOT);
        cn = get(nth(d, "buckets", 0), "latency_window.counts");
        assert_int_equal(cJSON_GetArrayItem(cn, 0)->valueint, 1); /* 0, 4999 and 9999999 were at T0 */
        assert_int_equal(cJSON_GetArrayItem(cn, 14)->valueint, 1);
        cJSON_Delete(d);
}

static void test_bounds(void **state)
{
        char id[32];
        cJSON *d;

        (void)state;
        for (int i = 0; i < STATUS_PROVIDERS_MAX + 3; i++) {
                snprintf(id, sizeof(id), "p%d", i);
                status_provider(id, id, NULL, 0, 0);
        }
        for (int i = 0; i < STATUS_SOURCES_MAX + 2; i++) {
                snprintf(id, sizeof(id), "b%d", i);
                status_source("p0", id, 1);
        }
        for (int i = 0; i < STATUS_BUCKETS_MAX + 1; i++) {
                snprintf(id, sizeof(id), "b%d", i);
                status_dead("p0", id, 1);
        }
        assert_int_equal(status_dropped(), 3 + 2 + 1);
        /* problems: the table keeps the newest, the oldest goes (counted too) */
        for (int i = 0; i < STATUS_PROBLEMS_MAX + 4; i++) {
                snprintf(id, sizeof(id), "k%d", i);
                fake_now++;
                status_problem(STATUS_WARN, NULL, NULL, id, NULL, "x");
        }
        assert_int_equal(status_dropped(), 3 + 2 + 1 + 4);
        d = snap(fake_now);
        assert_int_equal(num(d, "dropped"), 10);
        assert_int_equal(cJSON_GetArraySize(get(d, "providers")), STATUS_PROVIDERS_MAX);
        assert_int_equal(cJSON_GetArraySize(get(d, "sources")), STATUS_SOURCES_MAX);
        assert_int_equal(cJSON_GetArraySize(get(d, "buckets")), STATUS_BUCKETS_MAX);
        assert_int_equal(cJSON_GetArraySize(get(d, "problems")), STATUS_PROBLEMS_MAX);
        snprintf(id, sizeof(id), "k%d", STATUS_PROBLEMS_MAX + 3);
        assert_string_equal(str(nth(d, "problems", 0), "kind"), id);
        assert_string_equal(str(nth(d, "problems", STATUS_PROBLEMS_MAX - 1), "kind"), "k4");
        cJSON_Delete(d);

        /* a text is cut */
        {
                char big[STATUS_TEXT_MAX * 2];

                memset(big, 'a', sizeof(big) - 1);
                big[sizeof(big) - 1] = '\0';
                fake_now++;
                status_problem(STATUS_WARN, NULL, NULL, "big", NULL, big);
                d = snap(fake_now);
                assert_int_equal(strlen(str(nth(d, "problems", 0), "text")), STATUS_TEXT_MAX);
                cJSON_Delete(d);
        }
}

static void test_seed(void **state)
{
        static const char v2[] = "{\"v\":2,\"type\":\"instance_status\",\"instance\":\"east-1\"}";
        static const char rep[] = "{\"v\":1,\"type\":\"report\",\"instance\":\"east-1\"}";
        struct status_file f;
        struct buf prev;
        const cJSON *s, *p;
        char err[256];
        cJSON *d;

        (void)state;
        status_provider("p1", "S3 Prod", NULL, 0, 1);
        status_last_sync("p1", &(struct status_sync){10, 20, 5, "task 1"});
        status_file_found("p1", "ct-logs", "/S3 Prod/ct-logs/n.json.gz", T0 + 50);
        memset(&f, 0, sizeof(f));
        f.provider = "p1";
        f.bucket = "ct-logs";
        f.path = "/S3 Prod/ct-logs/n.json.gz";
        f.event_ms = T0 - 1000;
        status_file_done(&f);
        status_problem(STATUS_ERROR, NULL, NULL, "aa_outage", NULL, "down");
        buf_init(&prev, 1u << 20);
        assert_int_equal(status_snapshot(fake_now, &prev), JB_OK);

        /* a restart: only newest and last_sync come back */
        status_init(&ident);
        status_source("p1", "other", 1);
        status_file_found("p1", "other", "/S3 Prod/other/new.json.gz", T0 + 99);
        assert_int_equal(status_seed(prev.p, prev.len, err, sizeof(err)), JB_OK);
        d = snap(fake_now);
        s = nth(d, "sources", 0); /* "other": recorded before the seed, kept as it was */
        assert_string_equal(str(s, "bucket"), "other");
        assert_string_equal(str(s, "newest.path"), "/S3 Prod/other/new.json.gz");
        s = nth(d, "sources", 1);
        assert_string_equal(str(s, "bucket"), "ct-logs");
        assert_string_equal(str(s, "newest.path"), "/S3 Prod/ct-logs/n.json.gz");
        assert_int_equal(num(s, "newest.visible_ms"), T0 + 50);
        assert_int_equal(num(s, "newest.event_ms"), T0 - 1000);
        assert_int_equal(num(s, "files.found"), 0);
        assert_int_equal(num(s, "files.processed"), 0);
        assert_true(cJSON_IsFalse(get(s, "scanned")));
        p = nth(d, "providers", 0);
        assert_int_equal(num(p, "last_sync.end_ms"), 20);
        assert_string_equal(str(p, "last_sync.from"), "task 1");
        assert_string_equal(str(p, "name"), "S3 Prod");
        assert_true(cJSON_IsFalse(get(p, "owned")));
        assert_int_equal(cJSON_GetArraySize(get(d, "problems")), 0);
        cJSON_Delete(d);

        /* newer facts win over the seed */
        status_init(&ident);
        status_last_sync("p1", &(struct status_sync){30, 40, 6, "task 2"});
        status_file_found("p1", "ct-logs", "/S3 Prod/ct-logs/z.json.gz", T0 + 60);
        assert_int_equal(status_seed(prev.p, prev.len, err, sizeof(err)), JB_OK);
        d = snap(fake_now);
        assert_string_equal(str(nth(d, "sources", 0), "newest.path"), "/S3 Prod/ct-logs/z.json.gz");
        assert_int_equal(num(nth(d, "providers", 0), "last_sync.end_ms"), 40);
        cJSON_Delete(d);

        /* another instance's, another version's or an unreadable document: refused */
        status_init(&(struct status_ident){"west-2", "run", "jibe test", 60, 1200});
        assert_int_equal(status_seed(prev.p, prev.len, err, sizeof(err)), JB_EINPUT);
        assert_non_null(strstr(err, "east-1"));
        assert_int_equal(status_seed(v2, strlen(v2), err, sizeof(err)), JB_EINPUT);
        assert_non_null(strstr(err, "version"));
        assert_int_equal(status_seed(rep, strlen(rep), err, sizeof(err)), JB_EINPUT);
        assert_int_equal(status_seed("nope", 4, err, sizeof(err)), JB_EINPUT);
        d = snap(fake_now);
        assert_int_equal(cJSON_GetArraySize(get(d, "sources")), 0);
        cJSON_Delete(d);
        buf_clear(&prev);
}

#define THREADS 4
#define PER_THREAD 20000

static void *recorder(void *arg)
{
        int t = (int)(intptr_t)arg;
        const uint64_t ev[STATUS_EV_N] = {0, 0, 1, 0, 0};
        struct status_file f;
        char bucket[16];

        snprintf(bucket, sizeof(bucket), "b%d", t % 2);
        memset(&f, 0, sizeof(f));
        f.provider = "p1";
        f.bucket = "ct-logs";
        f.event_ms = -1;
        f.classes[7] = 1;
        for (int i = 0; i < PER_THREAD; i++) {
                status_file_found("p1", "ct-logs", "/p", (int64_t)i);
                status_file_done(&f);
                status_events("p1", bucket, ev);
                status_resync("p1", bucket, STATUS_RESYNC_EVENT, i % 10 != 0, i, "x");
                if (i % 1000 == 0)
                        status_problem(STATUS_WARN, NULL, NULL, "log", bucket, "w");
        }
        return NULL;
}

static void test_threads(void **state)
{
        pthread_t th[THREADS];
        int64_t ok = 0, failed = 0, put = 0;
        const cJSON *s;
        cJSON *d;

        (void)state;
        status_clock_set(NULL); /* the wall clock: the fake one is not thread-safe to move */
        for (int i = 0; i < THREADS; i++)
                assert_int_equal(pthread_create(&th[i], NULL, recorder, (void *)(intptr_t)i), 0);
        for (int i = 0; i < 50; i++) {
                d = snap(T0);
                cJSON_Delete(d);
        }
        for (int i = 0; i < THREADS; i++)
                pthread_join(th[i], NULL);
        d = snap(T0);
        s = nth(d, "sources", 0);
        assert_int_equal(num(s, "files.found"), THREADS * PER_THREAD);
        assert_int_equal(num(s, "files.processed"), THREADS * PER_THREAD);
        assert_int_equal(num(s, "classes.put"), THREADS * PER_THREAD);
        for (int i = 0; i < 2; i++) {
                const cJSON *b = nth(d, "buckets", i);

                ok += num(b, "resyncs.event.ok");
                failed += num(b, "resyncs.event.failed");
                put += num(b, "events.put");
        }
        assert_int_equal(ok, THREADS * PER_THREAD * 9 / 10);
        assert_int_equal(failed, THREADS * PER_THREAD / 10);
        assert_int_equal(put, THREADS * PER_THREAD);
        assert_int_equal(num(nth(d, "problems", 0), "count") + num(nth(d, "problems", 1), "count"),
                         THREADS * PER_THREAD / 1000);
        cJSON_Delete(d);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_document, setup, teardown),
                cmocka_unit_test_setup_teardown(test_failing_and_absent, setup, teardown),
                cmocka_unit_test_setup_teardown(test_digest, setup, teardown),
                cmocka_unit_test_setup_teardown(test_slots, setup, teardown),
                cmocka_unit_test_setup_teardown(test_histogram, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bounds, setup, teardown),
                cmocka_unit_test_setup_teardown(test_seed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
        };
        return cmocka_run_group_tests_name("status", tests, NULL, NULL);
}
