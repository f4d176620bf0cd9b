/*
 * test_report.c - report.c: the merge of instance documents (tests/data/status/) into the
 * report of docs/STATUS.md: owners, a missing instance, LATE, FAILING by scan, by resync and
 * by a missing owner, the advice and its thresholds, series aligned across instances whose
 * slot_end_ms differ, latency quantiles, sums, the newest document of an instance winning,
 * unreadable documents skipped and reported, the renderers (HTML escaping, table order),
 * the exit code, and a source's CloudTrail digest coverage (the carrier chosen, the verdict
 * rules, "not available", hostile values, its renderings).
 *
 * The fixtures' clock: "now" is 2026-12-01T12:00:20Z (T_NOW); east-1 published at 12:00:05
 * (its slot ends 12:15), west-2 at 11:59:40 and sync-1 at 11:59:50 (their slots end 12:00),
 * gone-3 at 11:50:20 (publish_s 60: missing after 180 s).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "report.h"
#include "tu.h"

#define T_NOW 1796126420000LL /* 2026-12-01T12:00:20Z */
#define T_MAXDOCS 16

struct t_set {
        struct report_doc d[T_MAXDOCS];
        char *bytes[T_MAXDOCS];
        size_t n;
};

static void t_add(struct t_set *s, const char *name)
{
        const char *top = getenv("JIBE_TOP");
        char path[1024];
        size_t len;

        snprintf(path, sizeof(path), "%s/tests/data/status/%s", top && *top ? top : ".", name);
        s->bytes[s->n] = tu_slurp(path, &len);
        if (!s->bytes[s->n])
                fail_msg("cannot read %s (run from the repository root or set JIBE_TOP)", path);
        s->d[s->n].json = s->bytes[s->n];
        s->d[s->n].len = len;
        s->d[s->n].where = name;
        s->n++;
}

static void t_free(struct t_set *s)
{
        size_t i;

        for (i = 0; i < s->n; i++)
                free(s->bytes[i]);
        s->n = 0;
}

/* Merge the named fixtures (NULL-terminated) at now. */
static cJSON *t_merge_at(int64_t now, ...)
{
        struct report_opts o = {now, NULL};
        struct t_set s = {.n = 0};
        const char *name;
        char err[256];
        cJSON *r;
        va_list ap;

        va_start(ap, now);
        while ((name = va_arg(ap, const char *)))
                t_add(&s, name);
        va_end(ap);
        r = report_merge(s.d, s.n, &o, err, sizeof(err));
        t_free(&s);
        assert_non_null(r);
        return r;
}

#define t_all()                                                                                         \
        t_merge_at(T_NOW, "east-1.json", "west-2.json", "sync-1.json", "gone-3.json",                   \
                   "bad-notjson.json", "bad-version.json", (char *)NULL)

static const cJSON *t_get(const cJSON *o, const char *k)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

        if (!v)
                fail_msg("no \"%s\" in %s", k, o && o->string ? o->string : "(object)");
        return v;
}

static const char *t_str(const cJSON *o, const char *k)
{
        const cJSON *v = t_get(o, k);

        assert_true(cJSON_IsString(v));
        return v->valuestring;
}

static int64_t t_num(const cJSON *o, const char *k)
{
        const cJSON *v = t_get(o, k);

        assert_true(cJSON_IsNumber(v));
        return (int64_t)v->valuedouble;
}

/* The element of array a whose field k is v. */
static const cJSON *t_find(const cJSON *a, const char *k, const char *v)
{
        const cJSON *e;

        cJSON_ArrayForEach(e, a)
        {
                const cJSON *x = cJSON_GetObjectItemCaseSensitive(e, k);

                if (cJSON_IsString(x) && !strcmp(x->valuestring, v))
                        return e;
        }
        fail_msg("no element with %s = %s", k, v);
        return NULL;
}

static const cJSON *t_prov(const cJSON *r, const char *id)
{
        return t_find(t_get(r, "providers"), "id", id);
}

static const cJSON *t_src(const cJSON *r, const char *id, const char *bucket)
{
        return t_find(t_get(t_prov(r, id), "sources"), "bucket", bucket);
}

static void assert_contains(const char *hay, const char *needle)
{
        if (!strstr(hay, needle))
                fail_msg("\"%s\" not in \"%.400s\"", needle, hay);
}

static void test_owners_and_instances(void **state)
{
        cJSON *r = t_all();
        const cJSON *in, *owns;

        (void)state;
        assert_string_equal(t_str(r, "type"), "report");
        assert_int_equal(t_num(r, "v"), 1);
        assert_int_equal(t_num(r, "generated_ms"), T_NOW);
        assert_null(cJSON_GetObjectItem(r, "generated_by"));
        assert_int_equal(cJSON_GetArraySize(t_get(r, "instances")), 4);
        assert_string_equal(t_str(t_prov(r, "101"), "owner"), "east-1");
        assert_string_equal(t_str(t_prov(r, "505"), "owner"), "east-1");
        assert_string_equal(t_str(t_prov(r, "202"), "owner"), "west-2");
        assert_string_equal(t_str(t_prov(r, "303"), "owner"), "west-2");
        assert_string_equal(t_str(t_prov(r, "404"), "owner"), "gone-3");
        assert_string_equal(t_str(t_src(r, "101", "ct-logs"), "owner"), "east-1");
        in = t_find(t_get(r, "instances"), "instance", "east-1");
        owns = t_get(in, "owns");
        assert_int_equal(cJSON_GetArraySize(owns), 2);
        assert_string_equal(cJSON_GetArrayItem(owns, 0)->valuestring, "101");
        assert_string_equal(cJSON_GetArrayItem(owns, 1)->valuestring, "505");
        assert_true(cJSON_IsFalse(t_get(in, "missing")));
        in = t_find(t_get(r, "instances"), "instance", "sync-1");
        assert_int_equal(cJSON_GetArraySize(t_get(in, "owns")), 0);
        /* the provider's name and buckets come from its owner */
        assert_string_equal(t_str(t_prov(r, "101"), "name"), "S3 Prod");
        assert_int_equal(cJSON_GetArraySize(t_get(t_prov(r, "101"), "bucket_names")), 3);
        assert_int_equal(t_num(t_get(t_prov(r, "101"), "last_sync"), "files"), 120000);
        cJSON_Delete(r);
}

static void test_missing_instance(void **state)
{
        const int64_t at = T_NOW - 600000; /* gone-3 at 11:50:20 */
        cJSON *r = t_all();
        const cJSON *s, *p;

        (void)state;
        assert_true(cJSON_IsTrue(t_get(t_find(t_get(r, "instances"), "instance", "gone-3"), "missing")));
        s = t_src(r, "404", "backup-logs");
        assert_string_equal(t_str(s, "verdict"), "FAILING");
        assert_contains(t_str(s, "reason"), "instance gone-3, which scans it, last reported 10 min ago");
        p = t_find(t_get(r, "problems"), "kind", "instance_missing");
        assert_string_equal(t_str(p, "instance"), "gone-3");
        assert_contains(t_str(p, "advice"), "systemctl status");
        /* its backlog is not counted: files 3 + 1, events 40, lag 12 + 5 */
        assert_int_equal(t_num(t_get(r, "backlog"), "files"), 4);
        assert_int_equal(t_num(t_get(r, "backlog"), "events"), 40);
        assert_int_equal(t_num(t_get(r, "backlog"), "lag"), 17);
        assert_contains(t_str(r, "summary"), "1 instance missing");
        cJSON_Delete(r);

        /* exactly 3 x publish_s of silence is not missing yet; a millisecond more is */
        r = t_merge_at(at + 180000, "gone-3.json", (char *)NULL);
        assert_true(cJSON_IsFalse(t_get(cJSON_GetArrayItem(t_get(r, "instances"), 0), "missing")));
        assert_string_equal(t_str(r, "verdict"), "OK");
        cJSON_Delete(r);
        r = t_merge_at(at + 180001, "gone-3.json", (char *)NULL);
        assert_true(cJSON_IsTrue(t_get(cJSON_GetArrayItem(t_get(r, "instances"), 0), "missing")));
        assert_string_equal(t_str(r, "verdict"), "FAILING");
        assert_int_equal(t_num(r, "missing_after_s"), 180);
        cJSON_Delete(r);
}

static void test_late(void **state)
{
        const int64_t vis = T_NOW - 47 * 60000; /* archive-logs' newest: 11:13:20 */
        cJSON *r = t_all();
        const cJSON *s;

        (void)state;
        s = t_src(r, "202", "archive-logs");
        assert_string_equal(t_str(s, "verdict"), "LATE");
        assert_string_equal(
                t_str(s, "reason"),
                "no new log file for 47 min (LATE after 20 min); the newest is /S3 Archive/"
                "archive-logs/AWSLogs/777788889999/CloudTrail/us-west-2/2026/12/01/late.json.gz");
        assert_string_equal(t_str(t_prov(r, "202"), "verdict"), "LATE");
        cJSON_Delete(r);
        /* 20 min exactly is not late yet (west-2 is still fresh at that time: 33 min earlier its
         * document would be from the future, which the merge takes as it is) */
        r = t_merge_at(vis + 1200000, "west-2.json", (char *)NULL);
        assert_string_equal(t_str(t_src(r, "202", "archive-logs"), "verdict"), "OK");
        assert_contains(t_str(t_src(r, "202", "archive-logs"), "reason"), "newest log file 20 min ago");
        cJSON_Delete(r);
        r = t_merge_at(vis + 1200001, "west-2.json", (char *)NULL);
        assert_string_equal(t_str(t_src(r, "202", "archive-logs"), "verdict"), "LATE");
        cJSON_Delete(r);
}

static void test_failing_by_scan(void **state)
{
        cJSON *r = t_all();
        const cJSON *s;

        (void)state;
        s = t_src(r, "303", "media-logs");
        assert_string_equal(t_str(s, "verdict"), "FAILING");
        assert_string_equal(t_str(s, "reason"),
                            "scans fail since 10:42 UTC (the last good scan): Access "
                            "Anywhere does not answer: connection refused");
        assert_true(cJSON_IsTrue(t_get(t_get(s, "scan"), "failing")));
        assert_string_equal(t_str(t_prov(r, "303"), "verdict"), "FAILING");
        cJSON_Delete(r);
}

static void test_failing_by_resync(void **state)
{
        cJSON *r = t_all();
        const cJSON *b;

        (void)state;
        assert_string_equal(t_str(t_prov(r, "505"), "verdict"), "FAILING");
        assert_string_equal(t_str(t_src(r, "505", "shared-logs"), "verdict"), "FAILING");
        assert_contains(
                t_str(t_prov(r, "505"), "reason"),
                "resyncs of bucket shared-data fail (3 in the last hour, the latest at 11:59 UTC): "
                "Access Anywhere refused the resync: provider credentials rejected (403)");
        b = t_find(t_get(t_prov(r, "505"), "buckets"), "bucket", "shared-data");
        assert_int_equal(t_num(b, "dead"), 3);
        assert_int_equal(t_num(t_get(b, "resyncs_window"), "failed"), 3);
        assert_null(cJSON_GetObjectItem(b, "latency_p50_s")); /* no resync in the window */
        cJSON_Delete(r);
        /* without the syncer's document the provider is OK */
        r = t_merge_at(T_NOW, "east-1.json", (char *)NULL);
        assert_string_equal(t_str(t_prov(r, "505"), "verdict"), "OK");
        cJSON_Delete(r);
}

static void test_verdict_order_and_summary(void **state)
{
        static const char *const want[] = {"505", "404", "303", "202", "101"};
        cJSON *r = t_all();
        const cJSON *p;
        size_t i = 0;

        (void)state;
        cJSON_ArrayForEach(p, t_get(r, "providers"))
        {
                assert_true(i < 5);
                assert_string_equal(t_str(p, "id"), want[i]);
                i++;
        }
        assert_int_equal(i, 5);
        assert_string_equal(t_str(r, "verdict"), "FAILING");
        assert_string_equal(t_str(r, "summary"),
                            "5 providers, 5 sources: 3 FAILING, 1 LATE, 1 OK; 1 instance missing");
        assert_string_equal(t_str(t_src(r, "101", "ct-logs"), "reason"),
                            "newest log file 3 min ago, delivered 5 min after its events");
        cJSON_Delete(r);
}

static const cJSON *t_advice(const cJSON *s, const char *kind)
{
        const cJSON *a;

        cJSON_ArrayForEach(a, t_get(s, "advice"))
        {
                if (!strcmp(t_str(a, "kind"), kind))
                        return a;
        }
        return NULL;
}

static void test_advice(void **state)
{
        cJSON *r = t_all();
        const cJSON *a, *s;

        (void)state;
        s = t_src(r, "101", "ct-logs");
        assert_int_equal(cJSON_GetArraySize(t_get(s, "advice")), 2);
        a = t_advice(s, "read_events");
        assert_non_null(a);
        assert_int_equal(t_num(a, "reads"), 9300);
        assert_int_equal(t_num(a, "s3"), 10000);
        assert_true(t_get(a, "share")->valuedouble == 0.93);
        assert_contains(t_str(a, "text"), "93 % of this trail's S3 records are reads (9300 of 10000)");
        assert_contains(t_str(a, "text"), "write-only");
        a = t_advice(s, "log_bucket_writes");
        assert_non_null(a);
        assert_int_equal(t_num(a, "records"), 812);
        assert_contains(t_str(a, "text"), "own log bucket ct-logs (812 records)");
        assert_contains(t_str(a, "text"), "Exclude ct-logs");
        /* at the thresholds: 1000 S3 records, half of them reads */
        a = t_advice(t_src(r, "303", "media-logs"), "read_events");
        assert_non_null(a);
        assert_true(t_get(a, "share")->valuedouble == 0.5);
        /* below: 999 reads of 2000 records; 999 records all reads (5000 not S3) */
        assert_int_equal(cJSON_GetArraySize(t_get(t_src(r, "202", "archive-logs"), "advice")), 0);
        assert_int_equal(cJSON_GetArraySize(t_get(t_src(r, "505", "shared-logs"), "advice")), 0);
        cJSON_Delete(r);
}

static void test_series_alignment(void **state)
{
        cJSON *r = t_all();
        const cJSON *ser;

        (void)state;
        ser = t_get(t_prov(r, "101"), "series");
        assert_int_equal(t_num(ser, "slot_s"), 900);
        assert_int_equal(t_num(ser, "slot_end_ms"), 1796126400000LL + 900000); /* 12:15 */
        assert_int_equal(cJSON_GetArraySize(t_get(ser, "resyncs")), 96);
        /* east-1 (slot ends 12:15) gave [95]=1 [94]=2; sync-1 (ends 12:00) [95]=6 [94]=4 */
        assert_int_equal(cJSON_GetArrayItem(t_get(ser, "resyncs"), 95)->valueint, 1);
        assert_int_equal(cJSON_GetArrayItem(t_get(ser, "resyncs"), 94)->valueint, 8);
        assert_int_equal(cJSON_GetArrayItem(t_get(ser, "resyncs"), 93)->valueint, 4);
        assert_int_equal(cJSON_GetArrayItem(t_get(ser, "resyncs"), 92)->valueint, 0);
        assert_int_equal(cJSON_GetArrayItem(t_get(ser, "events"), 95)->valueint, 7);
        assert_int_equal(cJSON_GetArrayItem(t_get(ser, "events"), 94)->valueint, 5);
        assert_int_equal(cJSON_GetArrayItem(t_get(ser, "events"), 0)->valueint, 3);
        assert_int_equal(cJSON_GetArrayItem(t_get(ser, "files"), 95)->valueint, 2);
        /* west-2's files [95]=4 [94]=2 land one slot earlier; its [0]=9 falls out of the 24 h */
        ser = t_get(t_prov(r, "202"), "series");
        assert_int_equal(cJSON_GetArrayItem(t_get(ser, "files"), 95)->valueint, 0);
        assert_int_equal(cJSON_GetArrayItem(t_get(ser, "files"), 94)->valueint, 4);
        assert_int_equal(cJSON_GetArrayItem(t_get(ser, "files"), 93)->valueint, 2);
        assert_int_equal(cJSON_GetArrayItem(t_get(ser, "files"), 0)->valueint, 0);
        cJSON_Delete(r);
}

static void test_sums_and_latency(void **state)
{
        cJSON *r = t_all();
        const cJSON *b, *s;

        (void)state;
        b = t_find(t_get(t_prov(r, "101"), "buckets"), "bucket", "prod-data");
        assert_int_equal(t_num(t_get(t_get(b, "resyncs"), "event"), "ok"), 120);
        assert_int_equal(t_num(t_get(b, "resyncs_window"), "ok"), 120);
        assert_int_equal(t_num(t_get(b, "events"), "put"), 560);
        /* east-1: 10 <= 5 s, 80 <= 10 s, 9 <= 60 s, 1 over; sync-1: 20 <= 10 s */
        assert_int_equal(t_num(b, "latency_p50_s"), 10);
        assert_int_equal(t_num(b, "latency_p99_s"), 60);
        assert_int_equal(t_num(b, "last_resync_ok_ms"), 1796126380000LL); /* sync-1's 11:59:40 */
        s = t_src(r, "101", "ct-logs");
        assert_int_equal(t_num(t_get(s, "files"), "found"), 120);
        assert_int_equal(t_num(t_get(s, "files"), "quarantined"), 2);
        assert_int_equal(t_num(t_get(s, "classes"), "not_write"), 9300);
        assert_int_equal(t_num(t_get(s, "newest"), "delay_ms"), 300000);
        cJSON_Delete(r);
}

static void test_newest_document_wins(void **state)
{
        cJSON *r;

        (void)state;
        r = t_merge_at(T_NOW, "east-1-old.json", "east-1.json", (char *)NULL);
        assert_string_equal(t_str(r, "verdict"), "OK");
        assert_int_equal(cJSON_GetArraySize(t_get(r, "instances")), 1);
        cJSON_Delete(r);
        r = t_merge_at(T_NOW, "east-1.json", "east-1-old.json", (char *)NULL);
        assert_string_equal(t_str(r, "verdict"), "OK");
        assert_int_equal(t_num(cJSON_GetArrayItem(t_get(r, "instances"), 0), "at_ms"), T_NOW - 15000);
        cJSON_Delete(r);
        /* alone, the old one's failing scan shows */
        r = t_merge_at(T_NOW - 10 * 60000, "east-1-old.json", (char *)NULL);
        assert_string_equal(t_str(t_src(r, "101", "ct-logs"), "verdict"), "FAILING");
        cJSON_Delete(r);
}

static void test_bad_documents(void **state)
{
        struct report_opts o = {T_NOW, "east-1"};
        struct report_doc d[3] = {{"[1, 2]", 6, "status topic key instance/x"},
                                  {"{\"v\":1,\"type\":\"report\"}", 24, "status file r.json"},
                                  {"", 0, "status file empty.json"}};
        cJSON *r = t_all();
        const cJSON *p;
        char err[128];
        int n = 0;

        (void)state;
        cJSON_ArrayForEach(p, t_get(r, "problems"))
        {
                if (strcmp(t_str(p, "kind"), "bad_status") != 0)
                        continue;
                n++;
                assert_string_equal(t_str(p, "level"), "warn");
        }
        assert_int_equal(n, 2);
        cJSON_Delete(r);

        r = report_merge(d, 3, &o, err, sizeof(err));
        assert_non_null(r);
        assert_string_equal(t_str(r, "generated_by"), "east-1");
        assert_string_equal(t_str(r, "verdict"), "OK"); /* none: OK with no source */
        assert_string_equal(t_str(r, "summary"), "0 providers, 0 sources: none");
        assert_int_equal(cJSON_GetArraySize(t_get(r, "problems")), 3);
        assert_string_equal(t_str(cJSON_GetArrayItem(t_get(r, "problems"), 0), "text"),
                            "status topic key instance/x was skipped: it is not a JSON object");
        assert_string_equal(
                t_str(cJSON_GetArrayItem(t_get(r, "problems"), 1), "text"),
                "status file r.json was skipped: its type is \"report\", not \"instance_status\"");
        assert_string_equal(t_str(cJSON_GetArrayItem(t_get(r, "problems"), 2), "text"),
                            "status file empty.json was skipped: it is not JSON");
        assert_int_equal(report_exit_code(r), 0);
        cJSON_Delete(r);
}

static void test_bad_document_names(void **state)
{
        cJSON *r = t_all();
        char *s = cJSON_PrintUnformatted(t_get(r, "problems"));

        (void)state;
        assert_non_null(s);
        assert_contains(s, "bad-notjson.json was skipped: it is not JSON");
        assert_contains(
                s, "bad-version.json was skipped: its schema version is 2, this jibe reads version 1");
        cJSON_free(s);
        cJSON_Delete(r);
}

static void test_html_escaped(void **state)
{
        cJSON *r = t_all();
        struct buf b;
        const char *h;

        (void)state;
        buf_init(&b, 8 << 20);
        assert_int_equal(report_render_html(r, &b), JB_OK);
        h = b.p;
        assert_true(!strncmp(h, "<!DOCTYPE html>", 15));
        assert_contains(h, "<body data-verdict=\"FAILING\"");
        /* the data's markup is text, never markup */
        assert_null(strstr(h, "<img"));
        assert_null(strstr(h, "<Shared>"));
        assert_contains(
                h, "&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quoted&quot; &#39;name&#39;.json.gz");
        assert_contains(h, "R&amp;D &lt;Shared&gt; &quot;west&#39;s&quot;");
        /* self-contained: no script, no external asset */
        assert_null(strstr(h, "<script"));
        assert_null(strstr(h, "<link"));
        assert_null(strstr(h, " src=\""));
        assert_null(strstr(h, "href=\"http"));
        assert_null(strstr(h, "url("));
        assert_contains(h, "@media print");
        /* the marks of the header comment */
        assert_contains(h, "<section class=\"provider\" id=\"provider-1\" data-provider=\"505\" "
                           "data-verdict=\"FAILING\">");
        assert_contains(h, "<tr class=\"provider-row\" data-provider=\"101\" data-verdict=\"OK\">");
        assert_contains(h, "<tr class=\"source\" data-bucket=\"archive-logs\" data-verdict=\"LATE\">");
        assert_contains(h, "<td class=\"n\" data-figure=\"latency_p99_s\">60</td>");
        assert_contains(h, "<svg class=\"chart\" data-series=\"resyncs\" data-total=\"13\"");
        assert_contains(h,
                        "<li class=\"advice\" data-kind=\"log_bucket_writes\" data-bucket=\"ct-logs\">");
        assert_contains(h, "<tr class=\"instance\" data-instance=\"gone-3\" data-missing=\"true\">");
        buf_clear(&b);
        cJSON_Delete(r);
}

static void test_table_and_json(void **state)
{
        cJSON *r = t_all(), *back;
        struct buf b;
        const char *f, *l, *o;

        (void)state;
        buf_init(&b, 8 << 20);
        assert_int_equal(report_render_table(r, &b), JB_OK);
        assert_true(!strncmp(b.p, "FAILING  5 providers, 5 sources", 31));
        f = strstr(b.p, "\nFAILING  R&D <Shared>");
        l = strstr(b.p, "\nLATE     S3 Archive (202)");
        o = strstr(b.p, "\nOK       S3 Prod (101)");
        assert_non_null(f);
        assert_non_null(l);
        assert_non_null(o);
        assert_true(f < l && l < o);
        assert_contains(b.p, "gone-3    run    ip-10-2-0-3  MISSING");
        assert_contains(b.p, "what to do: ");
        buf_reset(&b);
        assert_int_equal(report_render_json(r, &b), JB_OK);
        assert_true(b.len > 0 && b.p[b.len - 1] == '\n');
        back = cJSON_Parse(b.p);
        assert_non_null(back);
        assert_true(cJSON_Compare(back, r, 1));
        cJSON_Delete(back);
        buf_clear(&b);
        cJSON_Delete(r);
}

/* Numbers from another instance's document that are no period or count (found by
 * fuzz_report: 3 * publish_s * 1000 and the backlog's sums overflowed int64_t). */
static void test_hostile_numbers(void **state)
{
        static const char a[] = "{\"v\":1,\"type\":\"instance_status\",\"instance\":\"a\","
                                "\"at_ms\":1796125820000,\"publish_s\":1e15,\"late_after_s\":-9e18,"
                                "\"backlog\":{\"files\":9e18,\"events\":9007199254740992,\"lag\":9e18}}";
        static const char b[] = "{\"v\":1,\"type\":\"instance_status\",\"instance\":\"b\","
                                "\"at_ms\":1796126410000,\"publish_s\":60,"
                                "\"backlog\":{\"files\":9e18,\"events\":9007199254740992,\"lag\":9e18}}";
        struct report_opts o = {T_NOW, NULL};
        struct report_doc d[3] = {{a, sizeof(a) - 1, "status file a.json"},
                                  {b, sizeof(b) - 1, "status file b.json"},
                                  {b, sizeof(b) - 1, "status file b2.json"}};
        const cJSON *bl, *in;
        char err[128];
        cJSON *r;

        (void)state;
        d[2].where = "status file b2.json";
        r = report_merge(d, 3, &o, err, sizeof(err));
        assert_non_null(r);
        /* a publish period of 1e15 s is no period: the default (60 s), so a, 10 min old, is
         * missing after 3 minutes */
        assert_int_equal(t_num(r, "missing_after_s"), 180);
        assert_int_equal(t_num(r, "late_after_s"), 1200);
        in = t_find(t_get(r, "instances"), "instance", "a");
        assert_non_null(in);
        assert_true(cJSON_IsTrue(t_get(in, "missing")));
        /* 9e18 is no count (ignored); b's 2^53 events counted once (b2 is b again) */
        bl = t_get(r, "backlog");
        assert_int_equal(t_num(bl, "files"), 0);
        assert_true(t_num(bl, "events") >= 0);
        assert_int_equal(t_num(bl, "lag"), -1);
        cJSON_Delete(r);
}

/* A document with more providers than a report shows: the merge keeps REPORT_PROVIDERS_MAX
 * (1024) and says what it left out (there was no bound: 100k providers made a huge page). */
static void test_providers_bounded(void **state)
{
        struct report_opts o = {T_NOW, NULL};
        struct report_doc d;
        const cJSON *p;
        size_t cap = 64 * 2000, len = 0;
        char *doc = malloc(cap), err[128];
        int i, truncated = 0;
        cJSON *r;

        (void)state;
        assert_non_null(doc);
        len += (size_t)snprintf(doc + len, cap - len,
                                "{\"v\":1,\"type\":\"instance_status\",\"instance\":\"a\","
                                "\"at_ms\":1796126410000,\"providers\":[");
        for (i = 0; i < 1500; i++)
                len += (size_t)snprintf(doc + len, cap - len, "%s{\"id\":\"p%d\",\"owned\":true}",
                                        i ? "," : "", i);
        len += (size_t)snprintf(doc + len, cap - len, "]}");
        d.json = doc;
        d.len = len;
        d.where = "status file a.json";
        r = report_merge(&d, 1, &o, err, sizeof(err));
        free(doc);
        assert_non_null(r);
        assert_int_equal(cJSON_GetArraySize(t_get(r, "providers")), 1024);
        cJSON_ArrayForEach(p, t_get(r, "problems")) truncated +=
                !strcmp(t_str(p, "kind"), "report_truncated");
        assert_int_equal(truncated, 1);
        cJSON_Delete(r);
}

/* ---- CloudTrail digests: a source's "digests" object ---- */

#define T_DIG_OK                                                                                        \
        "{\"available\":true,\"chains\":1,\"digests\":24,\"backfill\":1,\"covered_s\":86400,"           \
        "\"listed\":288,\"done\":288,\"recovered\":1,\"missing\":0,\"tampered\":0,\"unverified\":0,"    \
        "\"gaps\":0,\"pending\":0,\"last_end_ms\":1796122800000}"

/* An instance document (at T_NOW - 10 s) with provider 101 and its source ct-logs, scanned or
 * not, whose newest file is 3 min old, with digests (a JSON text) or without (NULL). */
static size_t t_dig_doc(char *out, size_t n, const char *inst, int scanned, const char *digests)
{
        return (size_t)snprintf(
                out, n,
                "{\"v\":1,\"type\":\"instance_status\",\"instance\":\"%s\",\"role\":\"run\","
                "\"at_ms\":%lld,\"publish_s\":60,\"late_after_s\":1200,"
                "\"providers\":[{\"id\":\"101\",\"name\":\"S3 Prod\",\"owned\":%s}],"
                "\"sources\":[{\"provider\":\"101\",\"bucket\":\"ct-logs\",\"scanned\":%s,"
                "\"newest\":{\"path\":\"/S3 Prod/ct-logs/x.json.gz\",\"visible_ms\":%lld}%s%s}]}",
                inst, (long long)(T_NOW - 10000), scanned ? "true" : "false", scanned ? "true" : "false",
                (long long)(T_NOW - 180000), digests ? ",\"digests\":" : "", digests ? digests : "");
}

/* Merge up to four (instance, scanned, digests) documents. */
static cJSON *t_dig_merge(size_t n, const char *const *inst, const int *scanned,
                          const char *const *digests)
{
        static char bytes[4][4096];
        struct report_opts o = {T_NOW, NULL};
        struct report_doc d[4];
        char err[128];
        cJSON *r;
        size_t i;

        assert_true(n <= 4);
        for (i = 0; i < n; i++) {
                d[i].len = t_dig_doc(bytes[i], sizeof(bytes[i]), inst[i], scanned[i], digests[i]);
                assert_true(d[i].len < sizeof(bytes[i]));
                d[i].json = bytes[i];
                d[i].where = inst[i];
        }
        r = report_merge(d, n, &o, err, sizeof(err));
        assert_non_null(r);
        return r;
}

static cJSON *t_dig1(const char *digests)
{
        static const char *const inst[] = {"east-1"};
        static const int scanned[] = {1};
        const char *dg[] = {digests};

        return t_dig_merge(1, inst, scanned, dg);
}

static const cJSON *t_dig_of(const cJSON *r)
{
        return cJSON_GetObjectItemCaseSensitive(t_src(r, "101", "ct-logs"), "digests");
}

static void test_digests_coverage(void **state)
{
        cJSON *r = t_dig1(T_DIG_OK);
        const cJSON *d = t_dig_of(r), *s = t_src(r, "101", "ct-logs");

        (void)state;
        assert_non_null(d);
        assert_true(cJSON_IsTrue(t_get(d, "available")));
        assert_string_equal(t_str(d, "instance"), "east-1");
        assert_int_equal(t_num(d, "chains"), 1);
        assert_int_equal(t_num(d, "digests"), 24);
        assert_int_equal(t_num(d, "backfill"), 1);
        assert_int_equal(t_num(d, "covered_s"), 86400);
        assert_int_equal(t_num(d, "listed"), 288);
        assert_int_equal(t_num(d, "done"), 288);
        assert_int_equal(t_num(d, "recovered"), 1);
        assert_int_equal(t_num(d, "missing"), 0);
        assert_int_equal(t_num(d, "tampered"), 0);
        assert_int_equal(t_num(d, "unverified"), 0);
        assert_int_equal(t_num(d, "gaps"), 0);
        assert_int_equal(t_num(d, "pending"), 0);
        assert_int_equal(t_num(d, "last_end_ms"), 1796122800000LL);
        assert_true(t_get(d, "hours_covered")->valuedouble == 24.0);
        assert_string_equal(
                t_str(d, "summary"),
                "CloudTrail's digests cover 24 h (24 digests in 1 chain): 288 of the 288 log "
                "files they list are done, 1 of them fetched by path because a digest listed "
                "it");
        /* all accounted for: the verdict is the newest file's */
        assert_string_equal(t_str(s, "verdict"), "OK");
        assert_string_equal(t_str(s, "reason"), "newest log file 3 min ago");
        assert_int_equal(cJSON_GetArraySize(t_get(s, "advice")), 0);
        cJSON_Delete(r);

        /* one decimal: 84600 s is 23.5 h, 3601 s 1.0 h; pending and unverified said, not failing */
        r = t_dig1("{\"available\":true,\"chains\":2,\"digests\":1,\"covered_s\":84600,\"listed\":10,"
                   "\"done\":7,\"pending\":3,\"unverified\":2,\"last_end_ms\":-1}");
        d = t_dig_of(r);
        assert_true(t_get(d, "hours_covered")->valuedouble == 23.5);
        assert_int_equal(t_num(d, "last_end_ms"), -1);
        assert_int_equal(t_num(d, "recovered"), 0); /* absent: 0 */
        assert_string_equal(
                t_str(d, "summary"),
                "CloudTrail's digests cover 23.5 h (1 digest in 2 chains): 7 of the 10 log "
                "files they list are done; 3 files are checked once their digest is past its "
                "grace period; 2 files were read before jibe kept hashes (not verified)");
        assert_string_equal(t_str(t_src(r, "101", "ct-logs"), "verdict"), "OK");
        cJSON_Delete(r);
        r = t_dig1("{\"available\":true,\"covered_s\":3601}");
        assert_true(t_get(t_dig_of(r), "hours_covered")->valuedouble == 1.0);
        assert_string_equal(t_str(t_dig_of(r), "summary"),
                            "CloudTrail writes digests for this log bucket; none has been read yet");
        cJSON_Delete(r);

        /* no instance sent one: no digests object */
        r = t_dig1(NULL);
        assert_null(t_dig_of(r));
        cJSON_Delete(r);
        r = t_all();
        assert_null(t_dig_of(r));
        cJSON_Delete(r);
}

/* The owner's object; among several carriers the greatest last_end_ms of those that scan. */
static void test_digests_merge(void **state)
{
        static const char *const inst[] = {"a-scan", "b-scan", "c-parse"};
        static const int scanned[] = {1, 1, 0};
        const char *dg[3];
        cJSON *r;

        (void)state;
        dg[0] = "{\"available\":true,\"listed\":100,\"done\":100,\"last_end_ms\":1796115600000}";
        dg[1] = "{\"available\":true,\"listed\":200,\"done\":200,\"last_end_ms\":1796119200000}";
        dg[2] = "{\"available\":true,\"listed\":300,\"missing\":5,\"last_end_ms\":1796122800000}";
        r = t_dig_merge(3, inst, scanned, dg);
        assert_string_equal(t_str(t_src(r, "101", "ct-logs"), "owner"), "a-scan");
        /* b-scan's is newer than the owner's; c-parse does not scan the source */
        assert_string_equal(t_str(t_dig_of(r), "instance"), "b-scan");
        assert_int_equal(t_num(t_dig_of(r), "listed"), 200);
        assert_string_equal(t_str(t_src(r, "101", "ct-logs"), "verdict"), "OK");
        cJSON_Delete(r);
        /* equal last_end_ms: the owner's (the first in name order) */
        dg[1] = "{\"available\":true,\"listed\":200,\"done\":200,\"last_end_ms\":1796115600000}";
        r = t_dig_merge(3, inst, scanned, dg);
        assert_string_equal(t_str(t_dig_of(r), "instance"), "a-scan");
        cJSON_Delete(r);
        /* only the owner carries one */
        r = t_dig_merge(2, inst, scanned, (const char *const[]){NULL, dg[1]});
        assert_string_equal(t_str(t_dig_of(r), "instance"), "b-scan");
        cJSON_Delete(r);
        r = t_dig_merge(2, inst, scanned, (const char *const[]){dg[0], NULL});
        assert_string_equal(t_str(t_dig_of(r), "instance"), "a-scan");
        assert_int_equal(t_num(t_dig_of(r), "listed"), 100);
        cJSON_Delete(r);
        /* no scanner carries one: the other carrier's is shown, and judged */
        r = t_dig_merge(3, inst, scanned, (const char *const[]){NULL, NULL, dg[2]});
        assert_string_equal(t_str(t_dig_of(r), "instance"), "c-parse");
        assert_string_equal(t_str(t_src(r, "101", "ct-logs"), "verdict"), "FAILING");
        cJSON_Delete(r);
        /* a scanner's "not available" beats a newer object of an instance that does not scan */
        r = t_dig_merge(3, inst, scanned, (const char *const[]){"{\"available\":false}", NULL, dg[2]});
        assert_string_equal(t_str(t_dig_of(r), "instance"), "a-scan");
        assert_true(cJSON_IsFalse(t_get(t_dig_of(r), "available")));
        cJSON_Delete(r);
}

static void test_digests_failing(void **state)
{
        cJSON *r;
        const cJSON *s, *a, *d;

        (void)state;
        r = t_dig1("{\"available\":true,\"chains\":1,\"digests\":24,\"covered_s\":86400,\"listed\":288,"
                   "\"done\":286,\"missing\":1,\"last_end_ms\":1796122800000}");
        s = t_src(r, "101", "ct-logs");
        assert_string_equal(t_str(s, "verdict"), "FAILING");
        assert_string_equal(t_str(s, "reason"),
                            "1 log file CloudTrail delivered cannot be found through Access Anywhere");
        assert_string_equal(t_str(t_prov(r, "101"), "verdict"), "FAILING");
        assert_string_equal(t_str(r, "verdict"), "FAILING");
        assert_int_equal(report_exit_code(r), 1);
        a = t_advice(s, "digest_missing");
        assert_non_null(a);
        assert_int_equal(t_num(a, "files"), 1);
        assert_contains(t_str(a, "text"), "1 log file that CloudTrail's digests list cannot be found");
        assert_contains(t_str(a, "text"), "registered in Access Anywhere");
        assert_null(t_advice(s, "digest_tampered"));
        assert_null(t_advice(s, "digest_gap"));
        assert_contains(t_str(t_dig_of(r), "summary"),
                        "; 1 log file CloudTrail delivered cannot be found through Access Anywhere");
        cJSON_Delete(r);

        r = t_dig1("{\"available\":true,\"listed\":288,\"done\":288,\"tampered\":1}");
        s = t_src(r, "101", "ct-logs");
        assert_string_equal(t_str(s, "verdict"), "FAILING");
        assert_string_equal(t_str(s, "reason"), "1 log file differs from its digest");
        a = t_advice(s, "digest_tampered");
        assert_non_null(a);
        assert_int_equal(t_num(a, "files"), 1);
        assert_contains(t_str(a, "text"), "Object Lock");
        cJSON_Delete(r);

        r = t_dig1("{\"available\":true,\"listed\":288,\"done\":288,\"gaps\":1}");
        s = t_src(r, "101", "ct-logs");
        assert_string_equal(t_str(s, "verdict"), "FAILING");
        assert_string_equal(t_str(s, "reason"), "1 digest is missing from the chain");
        a = t_advice(s, "digest_gap");
        assert_non_null(a);
        assert_int_equal(t_num(a, "digests"), 1);
        assert_contains(t_str(a, "text"), "lifecycle rules");
        cJSON_Delete(r);

        /* all three, in the plural, after a failing scan's reason */
        r = t_dig1("{\"available\":true,\"listed\":288,\"done\":280,\"missing\":2,\"tampered\":3,"
                   "\"gaps\":4}");
        s = t_src(r, "101", "ct-logs");
        assert_string_equal(
                t_str(s, "reason"),
                "2 log files CloudTrail delivered cannot be found through Access Anywhere; 3 "
                "log files differ from their digests; 4 digests are missing from the chain");
        assert_int_equal(cJSON_GetArraySize(t_get(s, "advice")), 3);
        assert_int_equal(t_num(t_advice(s, "digest_missing"), "files"), 2);
        assert_int_equal(t_num(t_advice(s, "digest_tampered"), "files"), 3);
        assert_int_equal(t_num(t_advice(s, "digest_gap"), "digests"), 4);
        d = t_dig_of(r);
        assert_int_equal(t_num(d, "missing"), 2);
        cJSON_Delete(r);

        /* figures that do not add up (no digest read, one file missing) still say why */
        r = t_dig1("{\"available\":true,\"missing\":1}");
        assert_string_equal(t_str(t_dig_of(r), "summary"),
                            "CloudTrail writes digests for this log bucket; none has been read yet; 1 "
                            "log file CloudTrail delivered cannot be found through Access Anywhere");
        assert_string_equal(t_str(t_src(r, "101", "ct-logs"), "verdict"), "FAILING");
        cJSON_Delete(r);

        /* pending, unverified, recovered never fail */
        r = t_dig1("{\"available\":true,\"listed\":288,\"done\":200,\"recovered\":50,\"unverified\":9,"
                   "\"pending\":88}");
        assert_string_equal(t_str(t_src(r, "101", "ct-logs"), "verdict"), "OK");
        cJSON_Delete(r);
}

static void test_digests_not_available(void **state)
{
        cJSON *r = t_dig1("{\"available\":false,\"missing\":7,\"gaps\":3}");
        const cJSON *s = t_src(r, "101", "ct-logs"), *d = t_dig_of(r), *p;
        struct buf b;

        (void)state;
        assert_non_null(d);
        assert_true(cJSON_IsFalse(t_get(d, "available")));
        assert_string_equal(t_str(d, "summary"),
                            "CloudTrail digests not available: log file validation is off for this "
                            "trail, so jibe cannot prove it saw every log file (turn it on in the "
                            "trail's settings)");
        /* no figures: they mean nothing without digests */
        assert_null(cJSON_GetObjectItemCaseSensitive(d, "missing"));
        assert_null(cJSON_GetObjectItemCaseSensitive(d, "hours_covered"));
        /* a fact, not a failure nor a problem */
        assert_string_equal(t_str(s, "verdict"), "OK");
        assert_string_equal(t_str(r, "verdict"), "OK");
        assert_int_equal(cJSON_GetArraySize(t_get(s, "advice")), 0);
        cJSON_ArrayForEach(p, t_get(r, "problems")) fail_msg("a problem: %s", t_str(p, "text"));
        buf_init(&b, 1 << 20);
        assert_int_equal(report_render_table(r, &b), JB_OK);
        assert_contains(b.p, "    CloudTrail digests  ");
        assert_contains(b.p, "not available (log file validation is off for this trail)\n");
        buf_reset(&b);
        assert_int_equal(report_render_html(r, &b), JB_OK);
        assert_contains(b.p, "<tr class=\"digests\" data-bucket=\"ct-logs\" data-available=\"false\">"
                             "<td>ct-logs</td><td colspan=\"9\">not available</td>");
        assert_null(strstr(b.p, "data-figure=\"digest_"));
        buf_clear(&b);
        cJSON_Delete(r);
}

/* Another instance's document is untrusted: wrong types and numbers that are no counts. */
static void test_digests_hostile(void **state)
{
        static const char *const ignored[] = {"[1,2]",
                                              "\"yes\"",
                                              "{\"available\":\"true\",\"missing\":1}",
                                              "{\"missing\":1}",
                                              "{\"available\":1,\"gaps\":1}",
                                              "null"};
        static const char *const inst[] = {"a-scan", "b-scan"};
        static const int scanned[] = {1, 1};
        const cJSON *d;
        size_t i;
        cJSON *r;

        (void)state;
        for (i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++) {
                r = t_dig1(ignored[i]);
                if (t_dig_of(r))
                        fail_msg("digests %s was taken", ignored[i]);
                assert_string_equal(t_str(t_src(r, "101", "ct-logs"), "verdict"), "OK");
                cJSON_Delete(r);
        }
        /* past 2^53, negative, not a number, not finite: read as 0 (-1 for last_end_ms) */
        r = t_dig1("{\"available\":true,\"missing\":1e16,\"tampered\":-3,\"gaps\":\"2\","
                   "\"listed\":1e300,\"done\":true,\"covered_s\":-86400,\"pending\":[1],"
                   "\"chains\":{\"n\":1},\"last_end_ms\":9e18,\"digests\":2.5}");
        d = t_dig_of(r);
        assert_non_null(d);
        assert_int_equal(t_num(d, "missing"), 0);
        assert_int_equal(t_num(d, "tampered"), 0);
        assert_int_equal(t_num(d, "gaps"), 0);
        assert_int_equal(t_num(d, "listed"), 0);
        assert_int_equal(t_num(d, "done"), 0);
        assert_int_equal(t_num(d, "covered_s"), 0);
        assert_int_equal(t_num(d, "pending"), 0);
        assert_int_equal(t_num(d, "chains"), 0);
        assert_int_equal(t_num(d, "last_end_ms"), -1);
        assert_int_equal(t_num(d, "digests"), 2);
        assert_true(t_get(d, "hours_covered")->valuedouble == 0.0);
        assert_string_equal(t_str(t_src(r, "101", "ct-logs"), "verdict"), "OK");
        cJSON_Delete(r);
        /* 2^53 exactly is a count */
        r = t_dig1("{\"available\":true,\"missing\":9007199254740992}");
        assert_string_equal(t_str(t_src(r, "101", "ct-logs"), "verdict"), "FAILING");
        cJSON_Delete(r);
        /* a last_end_ms past 2^53 does not win the choice between carriers */
        r = t_dig_merge(2, inst, scanned,
                        (const char *const[]){"{\"available\":true,\"listed\":1,\"last_end_ms\":5}",
                                              "{\"available\":true,\"listed\":2,\"last_end_ms\":1e17}"});
        assert_string_equal(t_str(t_dig_of(r), "instance"), "a-scan");
        cJSON_Delete(r);
}

static void test_digests_rendered(void **state)
{
        cJSON *r = t_dig1("{\"available\":true,\"chains\":1,\"digests\":24,\"covered_s\":86400,"
                          "\"listed\":288,\"done\":287,\"recovered\":1,\"missing\":1,\"gaps\":2,"
                          "\"pending\":12,\"last_end_ms\":1796122800000}"),
              *back;
        struct buf b;

        (void)state;
        buf_init(&b, 1 << 20);
        assert_int_equal(report_render_table(r, &b), JB_OK);
        assert_contains(b.p, "\nFAILING  S3 Prod (101)");
        assert_contains(b.p, "\n             CloudTrail digests          24 h,");
        assert_contains(b.p, "  24 h, 287/288 done, 1 recovered, 1 missing, 2 gaps, 12 pending\n");
        assert_contains(b.p,
                        "\nadvice:\n  S3 Prod / ct-logs: 1 log file that CloudTrail's digests list");
        buf_reset(&b);
        assert_int_equal(report_render_html(r, &b), JB_OK);
        assert_contains(b.p, "<table class=\"digests\">");
        assert_contains(b.p,
                        "<tr class=\"digests\" data-bucket=\"ct-logs\" data-available=\"true\">"
                        "<td>ct-logs</td><td class=\"n\" data-figure=\"digest_hours\">24</td>"
                        "<td class=\"n\" data-figure=\"digest_digests\">24</td>"
                        "<td class=\"n\" data-figure=\"digest_listed\">288</td>"
                        "<td class=\"n\" data-figure=\"digest_done\">287</td>"
                        "<td class=\"n\" data-figure=\"digest_recovered\">1</td>"
                        "<td class=\"n bad\" data-figure=\"digest_missing\">1</td>"
                        "<td class=\"n\" data-figure=\"digest_tampered\">0</td>"
                        "<td class=\"n bad\" data-figure=\"digest_gaps\">2</td>"
                        "<td class=\"n\" data-figure=\"digest_pending\">12</td><td>CloudTrail&#39;s "
                        "digests cover 24 h");
        assert_contains(b.p,
                        "<li class=\"advice\" data-kind=\"digest_missing\" data-bucket=\"ct-logs\">");
        assert_contains(b.p, "<li class=\"advice\" data-kind=\"digest_gap\" data-bucket=\"ct-logs\">");
        assert_null(strstr(b.p, "<script"));
        buf_reset(&b);
        assert_int_equal(report_render_json(r, &b), JB_OK);
        back = cJSON_Parse(b.p);
        assert_non_null(back);
        assert_true(cJSON_Compare(back, r, 1));
        cJSON_Delete(back);
        buf_clear(&b);
        cJSON_Delete(r);
}

/* The alerts' problems (kinds digest_missing, digest_tampered, digest_gap) say what to do. */
static void test_digests_problem_advice(void **state)
{
        static const char doc[] =
                "{\"v\":1,\"type\":\"instance_status\",\"instance\":\"a\",\"at_ms\":1796126410000,"
                "\"problems\":[{\"level\":\"error\",\"kind\":\"digest_missing\",\"text\":\"m\","
                "\"last_ms\":3},{\"level\":\"error\",\"kind\":\"digest_tampered\",\"text\":\"t\","
                "\"last_ms\":2},{\"level\":\"warn\",\"kind\":\"digest_gap\",\"text\":\"g\","
                "\"last_ms\":1}]}";
        struct report_opts o = {T_NOW, NULL};
        struct report_doc d = {doc, sizeof(doc) - 1, "a.json"};
        char err[128];
        cJSON *r = report_merge(&d, 1, &o, err, sizeof(err));
        const cJSON *pr = t_get(r, "problems");

        (void)state;
        assert_int_equal(cJSON_GetArraySize(pr), 3);
        assert_contains(t_str(t_find(pr, "kind", "digest_missing"), "advice"),
                        "registered in Access Anywhere");
        assert_contains(t_str(t_find(pr, "kind", "digest_tampered"), "advice"), "Object Lock");
        assert_contains(t_str(t_find(pr, "kind", "digest_gap"), "advice"), "lifecycle rules");
        cJSON_Delete(r);
}

static void test_exit_code(void **state)
{
        cJSON *r;

        (void)state;
        r = t_all();
        assert_int_equal(report_exit_code(r), 1);
        cJSON_Delete(r);
        r = t_merge_at(T_NOW, "east-1.json", (char *)NULL);
        assert_string_equal(t_str(r, "verdict"), "OK");
        assert_int_equal(report_exit_code(r), 0);
        cJSON_Delete(r);
        r = t_merge_at(T_NOW, "west-2.json", (char *)NULL); /* LATE and FAILING */
        assert_int_equal(report_exit_code(r), 1);
        cJSON_Delete(r);
        r = t_merge_at(T_NOW, (char *)NULL);
        assert_string_equal(t_str(r, "verdict"), "OK");
        assert_int_equal(report_exit_code(r), 0);
        cJSON_Delete(r);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_owners_and_instances),
                cmocka_unit_test(test_missing_instance),
                cmocka_unit_test(test_late),
                cmocka_unit_test(test_failing_by_scan),
                cmocka_unit_test(test_failing_by_resync),
                cmocka_unit_test(test_verdict_order_and_summary),
                cmocka_unit_test(test_advice),
                cmocka_unit_test(test_series_alignment),
                cmocka_unit_test(test_sums_and_latency),
                cmocka_unit_test(test_newest_document_wins),
                cmocka_unit_test(test_bad_documents),
                cmocka_unit_test(test_bad_document_names),
                cmocka_unit_test(test_html_escaped),
                cmocka_unit_test(test_table_and_json),
                cmocka_unit_test(test_hostile_numbers),
                cmocka_unit_test(test_providers_bounded),
                cmocka_unit_test(test_exit_code),
                cmocka_unit_test(test_digests_coverage),
                cmocka_unit_test(test_digests_merge),
                cmocka_unit_test(test_digests_failing),
                cmocka_unit_test(test_digests_not_available),
                cmocka_unit_test(test_digests_hostile),
                cmocka_unit_test(test_digests_rendered),
                cmocka_unit_test(test_digests_problem_advice),
        };
        return cmocka_run_group_tests_name("report", tests, NULL, NULL);
}
