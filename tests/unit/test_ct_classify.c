/*
 * test_ct_classify.c - every row of docs/EVENTS.md's classification table, the "easy to get
 * wrong" details, and agreement between the fast path (no parse) and the full parse.
 * Each record goes through the real reader, so the hints are the ones production sees.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "ct.h"
#include "tu.h"

struct one {
        const struct ct_ctx *ctx;
        int cls;
        char bucket[512], key[512], provider[64], time[64], name[64], id[64];
        int has_key;
};

static int on_rec(void *opaque, const char *rec, size_t len, const struct ct_hint *hint, uint64_t idx)
{
        struct one *o = opaque;
        struct ct_event ev;

        (void)idx;
        o->cls = ct_classify(o->ctx, rec, len, hint, &ev);
        snprintf(o->bucket, sizeof(o->bucket), "%s", ev.bucket ? ev.bucket : "");
        snprintf(o->key, sizeof(o->key), "%s", ev.key ? ev.key : "");
        snprintf(o->provider, sizeof(o->provider), "%s", ev.provider ? ev.provider : "");
        snprintf(o->time, sizeof(o->time), "%s", ev.time ? ev.time : "");
        snprintf(o->name, sizeof(o->name), "%s", ev.name ? ev.name : "");
        snprintf(o->id, sizeof(o->id), "%s", ev.id ? ev.id : "");
        o->has_key = ev.key != NULL;
        ct_event_clear(&ev);
        return JB_OK;
}

static struct one classify(const struct ct_ctx *ctx, const char *record)
{
        struct one o;
        struct buf doc;
        unsigned char *gz;
        size_t gzn;
        struct ct_reader *rdr;
        char err[256];

        memset(&o, 0, sizeof(o));
        o.ctx = ctx;
        o.cls = -1;
        buf_init(&doc, 1U << 20);
        assert_int_equal(buf_printf(&doc, "{\"Records\":[%s]}", record), 0);
        gz = tu_gzip(doc.p, doc.len, &gzn);
        rdr = ct_reader_new(NULL, on_rec, &o);
        assert_int_equal(ct_reader_feed(rdr, gz, gzn, err, sizeof(err)), JB_OK);
        assert_int_equal(ct_reader_finish(rdr, err, sizeof(err)), JB_OK);
        ct_reader_free(rdr);
        free(gz);
        buf_clear(&doc);
        return o;
}

#define S3 "\"eventSource\":\"s3.amazonaws.com\""
#define RP(b, k) "\"requestParameters\":{\"bucketName\":\"" b "\",\"key\":\"" k "\"}"

static void expect_cls(const struct ct_ctx *ctx, const char *record, int want)
{
        struct one o = classify(ctx, record);

        if (o.cls != want)
                fail_msg("record %s: class %s, want %s", record,
                         o.cls >= 0 && o.cls < CT_NCLASS ? ct_class_names[o.cls] : "?",
                         want >= 0 && want < CT_NCLASS ? ct_class_names[want] : "insight");
}

static void test_rule1_malformed_not_object(void **state)
{
        struct ct_ctx *ctx = ct_ctx_new();

        (void)state;
        expect_cls(ctx, "1", CT_MALFORMED);
        expect_cls(ctx, "\"PutObject\"", CT_MALFORMED);
        expect_cls(ctx, "[{" S3 "}]", CT_MALFORMED);
        expect_cls(ctx, "null", CT_MALFORMED);
        ct_ctx_free(ctx);
}

static void test_rule2_not_s3(void **state)
{
        struct ct_ctx *ctx = ct_ctx_new();

        (void)state;
        expect_cls(ctx, "{\"eventSource\":\"ec2.amazonaws.com\",\"eventName\":\"PutObject\"}",
                   CT_NOT_S3);
        expect_cls(ctx,
                   "{\"eventSource\":\"s3express.amazonaws.com\",\"eventName\":\"PutObject\"," RP(
                           "b", "k") "}",
                   CT_NOT_S3);
        expect_cls(ctx, "{\"eventSource\":\"s3tables.amazonaws.com\",\"eventName\":\"PutObject\"}",
                   CT_NOT_S3);
        expect_cls(ctx, "{\"eventSource\":\"S3.amazonaws.com\",\"eventName\":\"PutObject\"}", CT_NOT_S3);
        expect_cls(ctx, "{\"eventSource\":\"s3.amazonaws.com.evil\",\"eventName\":\"PutObject\"}",
                   CT_NOT_S3);
        expect_cls(ctx, "{\"eventName\":\"PutObject\"," RP("b", "k") "}", CT_NOT_S3);
        expect_cls(ctx, "{\"eventSource\":null,\"eventName\":\"PutObject\"}", CT_NOT_S3);
        expect_cls(ctx, "{\"eventSource\":5,\"eventName\":\"PutObject\"}", CT_NOT_S3);
        expect_cls(ctx, "{}", CT_NOT_S3);
        /* not_s3 comes before failed */
        expect_cls(ctx, "{\"eventSource\":\"iam.amazonaws.com\",\"errorCode\":\"X\"}", CT_NOT_S3);
        ct_ctx_free(ctx);
}

static void test_rule3_failed(void **state)
{
        struct ct_ctx *ctx = ct_ctx_new();

        (void)state;
        expect_cls(ctx,
                   "{" S3
                   ",\"eventName\":\"PutObject\",\"errorCode\":\"AccessDenied\"," RP("b", "k") "}",
                   CT_FAILED);
        expect_cls(ctx, "{" S3 ",\"eventName\":\"GetObject\",\"errorCode\":\"NoSuchKey\"}", CT_FAILED);
        /* null or "" means the call succeeded */
        expect_cls(ctx, "{" S3 ",\"eventName\":\"PutObject\",\"errorCode\":null," RP("b", "k") "}",
                   CT_PUT);
        expect_cls(ctx, "{" S3 ",\"eventName\":\"PutObject\",\"errorCode\":\"\"," RP("b", "k") "}",
                   CT_PUT);
        expect_cls(ctx,
                   "{" S3 ",\"eventName\":\"DeleteObject\",\"errorMessage\":\"x\"," RP("b", "k") "}",
                   CT_DELETE);
        ct_ctx_free(ctx);
}

static void test_rule4_not_write(void **state)
{
        static const char *const reads[] = {
                "CreateMultipartUpload",
                "UploadPart",
                "UploadPartCopy",
                "AbortMultipartUpload",
                "GetObject",
                "HeadObject",
                "ListObjects",
                "ListObjectsV2",
                "GetObjectAcl",
                "PutObjectAcl",
                "PutObjectTagging",
                "PutObjectRetention",
                "PutObjectLegalHold",
                "RestoreObject",
                "SelectObjectContent",
                "PutBucketPolicy",
                "PutBucketVersioning",
                "DeleteBucket",
                "DeleteBucketPolicy",
                "CreateBucket",
                "putobject",
                "PutObject ",
                "DeleteObjectTagging",
                "",
        };
        struct ct_ctx *ctx = ct_ctx_new();
        size_t i;

        (void)state;
        for (i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
                char rec[512];

                snprintf(rec, sizeof(rec), "{" S3 ",\"eventName\":\"%s\"," RP("b", "k") "}", reads[i]);
                expect_cls(ctx, rec, CT_NOT_WRITE);
        }
        expect_cls(ctx, "{" S3 "," RP("b", "k") "}", CT_NOT_WRITE);
        expect_cls(ctx, "{" S3 ",\"eventName\":7}", CT_NOT_WRITE);
        ct_ctx_free(ctx);
}

static void test_rule5_self(void **state)
{
        struct ct_ctx *ctx = ct_ctx_new();

        (void)state;
        assert_int_equal(ct_ctx_add_self_key(ctx, "AKIASELF1"), 0);
        assert_int_equal(ct_ctx_add_self_key(ctx, "AKIASELF2"), 0);
        assert_int_equal(ct_ctx_add_self_arn(ctx, "arn:aws:iam::1:user/aa"), 0);
        assert_int_equal(ct_ctx_add_self_agent(ctx, "SMEStorage"), 0);
        assert_int_equal(ct_ctx_add_self_agent(ctx, "FileFabric/2"), 0);
        assert_int_equal(ct_ctx_add_self_agent(ctx, ""), JB_EINPUT);
#define W "{" S3 ",\"eventName\":\"PutObject\"," RP("b", "k")
        expect_cls(ctx, W ",\"userIdentity\":{\"accessKeyId\":\"AKIASELF1\"}}", CT_SELF);
        expect_cls(ctx, W ",\"userIdentity\":{\"accessKeyId\":\"AKIASELF2\"}}", CT_SELF);
        expect_cls(ctx, W ",\"userIdentity\":{\"accessKeyId\":\"AKIASELF\"}}", CT_PUT);
        expect_cls(ctx, W ",\"userIdentity\":{\"accessKeyId\":\"AKIASELF12\"}}", CT_PUT);
        expect_cls(ctx, W ",\"userIdentity\":{\"arn\":\"arn:aws:iam::1:user/aa\"}}", CT_SELF);
        expect_cls(ctx, W ",\"userIdentity\":{\"arn\":\"arn:aws:iam::1:user/aab\"}}", CT_PUT);
        expect_cls(ctx, W ",\"userAgent\":\"[aws-sdk] SMEStorage v1\"}", CT_SELF);
        expect_cls(ctx, W ",\"userAgent\":\"x FileFabric/2.1\"}", CT_SELF);
        expect_cls(ctx, W ",\"userAgent\":\"smestorage\"}", CT_PUT); /* case-sensitive */
        /* the accessKeyId must be the identity's, not some other field */
        expect_cls(ctx, W ",\"accessKeyId\":\"AKIASELF1\"}", CT_PUT);
        /* self only applies to writes: a failed self write is "failed" */
        expect_cls(ctx,
                   "{" S3
                   ",\"eventName\":\"PutObject\",\"errorCode\":\"X\",\"userAgent\":\"SMEStorage\"}",
                   CT_FAILED);
#undef W
        ct_ctx_free(ctx);
}

static void test_rule6_unmanaged(void **state)
{
        struct ct_ctx *ctx = ct_ctx_new();
        struct one o;

        (void)state;
        /* no map: nothing is unmanaged */
        expect_cls(ctx, "{" S3 ",\"eventName\":\"PutObject\"," RP("other", "k") "}", CT_PUT);
        assert_int_equal(ct_ctx_map_bucket(ctx, "data", "101"), 0);
        assert_int_equal(ct_ctx_map_bucket(ctx, "media", "202"), 0);
        expect_cls(ctx, "{" S3 ",\"eventName\":\"PutObject\"," RP("other", "k") "}", CT_UNMANAGED);
        expect_cls(ctx,
                   "{" S3
                   ",\"eventName\":\"DeleteObjects\",\"requestParameters\":{\"bucketName\":\"other\"}}",
                   CT_UNMANAGED);
        o = classify(ctx, "{" S3 ",\"eventName\":\"PutObject\"," RP("media", "k") "}");
        assert_int_equal(o.cls, CT_PUT);
        assert_string_equal(o.provider, "202");
        /* self comes before unmanaged */
        assert_int_equal(ct_ctx_add_self_agent(ctx, "SME"), 0);
        expect_cls(ctx,
                   "{" S3 ",\"eventName\":\"PutObject\",\"userAgent\":\"SME\"," RP("other", "k") "}",
                   CT_SELF);
        ct_ctx_free(ctx);
}

/* A map in force but empty (Access Anywhere lists no bucket): nothing is managed, the rule
 * the parser applies; ct_ctx_clear_map() lifts it. */
static void test_rule6_empty_map_in_force(void **state)
{
        struct ct_ctx *ctx = ct_ctx_new();

        (void)state;
        ct_ctx_use_map(ctx);
        expect_cls(ctx, "{" S3 ",\"eventName\":\"PutObject\"," RP("other", "k") "}", CT_UNMANAGED);
        expect_cls(ctx, "{" S3 ",\"eventName\":\"DeleteObject\"," RP("other", "k") "}", CT_UNMANAGED);
        expect_cls(ctx,
                   "{" S3
                   ",\"eventName\":\"DeleteObjects\",\"requestParameters\":{\"bucketName\":\"b\"}}",
                   CT_UNMANAGED);
        /* rules before it still win */
        expect_cls(ctx, "{" S3 ",\"eventName\":\"GetObject\"," RP("other", "k") "}", CT_NOT_WRITE);
        assert_int_equal(ct_ctx_map_bucket(ctx, "data", "101"), 0);
        expect_cls(ctx, "{" S3 ",\"eventName\":\"PutObject\"," RP("data", "k") "}", CT_PUT);
        ct_ctx_clear_map(ctx);
        expect_cls(ctx, "{" S3 ",\"eventName\":\"PutObject\"," RP("other", "k") "}", CT_PUT);
        ct_ctx_free(ctx);
}

static void test_rule7_covered(void **state)
{
        struct ct_ctx *ctx = ct_ctx_new();

        (void)state;
        assert_int_equal(ct_ctx_map_bucket(ctx, "data", "101"), 0);
        assert_int_equal(ct_ctx_map_bucket(ctx, "media", "202"), 0);
        assert_int_equal(ct_ctx_set_sync_start(ctx, "101", ct_parse_time("2026-11-29T08:00:00Z")), 0);
#define T(t, b) "{" S3 ",\"eventName\":\"PutObject\",\"eventTime\":\"" t "\"," RP(b, "k") "}"
        expect_cls(ctx, T("2026-11-29T07:59:59Z", "data"), CT_COVERED);
        expect_cls(ctx, T("2026-11-28T23:00:00Z", "data"), CT_COVERED);
        {
                /* covered keeps its bucket and provider (the status counts it per bucket) */
                struct one o = classify(ctx, T("2026-11-28T23:00:00Z", "data"));

                assert_string_equal(o.bucket, "data");
                assert_string_equal(o.provider, "101");
                assert_false(o.has_key);
        }
        expect_cls(ctx, T("2026-11-29T08:00:00Z", "data"), CT_PUT); /* not earlier */
        expect_cls(ctx, T("2026-11-29T08:00:01Z", "data"), CT_PUT);
        /* provider 202 has no known sync: nothing is covered */
        expect_cls(ctx, T("2020-01-01T00:00:00Z", "media"), CT_PUT);
        /* unmanaged comes before covered */
        expect_cls(ctx, T("2020-01-01T00:00:00Z", "zzz"), CT_UNMANAGED);
        /* an unreadable time is not "earlier": the event is kept */
        expect_cls(ctx, T("yesterday", "data"), CT_PUT);
        /* covered comes before malformed */
        expect_cls(
                ctx,
                "{" S3
                ",\"eventName\":\"PutObject\",\"eventTime\":\"2020-01-01T00:00:00Z\",\"requestParameters\":{\"bucketName\":\"data\"}}",
                CT_COVERED);
        ct_ctx_free(ctx);

        /* without a bucket map, a default cutoff applies to every bucket */
        ctx = ct_ctx_new();
        assert_int_equal(ct_ctx_set_sync_start(ctx, NULL, ct_parse_time("2026-11-29 08:00:00")), 0);
        expect_cls(ctx, T("2026-11-29T07:00:00Z", "any"), CT_COVERED);
        expect_cls(ctx, T("2026-11-29T09:00:00Z", "any"), CT_PUT);
#undef T
        ct_ctx_free(ctx);
}

static void test_rule8_malformed_write(void **state)
{
        struct ct_ctx *ctx = ct_ctx_new();

        (void)state;
        expect_cls(ctx, "{" S3 ",\"eventName\":\"PutObject\"}", CT_MALFORMED);
        expect_cls(ctx, "{" S3 ",\"eventName\":\"PutObject\",\"requestParameters\":{\"key\":\"k\"}}",
                   CT_MALFORMED);
        expect_cls(ctx,
                   "{" S3 ",\"eventName\":\"PutObject\",\"requestParameters\":{\"bucketName\":\"b\"}}",
                   CT_MALFORMED);
        expect_cls(
                ctx,
                "{" S3
                ",\"eventName\":\"DeleteObject\",\"requestParameters\":{\"bucketName\":\"b\",\"key\":\"\"}}",
                CT_MALFORMED);
        expect_cls(
                ctx,
                "{" S3
                ",\"eventName\":\"DeleteObject\",\"requestParameters\":{\"bucketName\":\"b\",\"key\":null}}",
                CT_MALFORMED);
        expect_cls(ctx,
                   "{" S3
                   ",\"eventName\":\"DeleteObjects\",\"requestParameters\":{\"bucketName\":null}}",
                   CT_MALFORMED);
        expect_cls(ctx,
                   "{" S3
                   ",\"eventName\":\"DeleteObjects\",\"requestParameters\":{\"bucketName\":\"\"}}",
                   CT_MALFORMED);
        /* an ARNPrefix names no key */
        expect_cls(ctx,
                   "{" S3 ",\"eventName\":\"DeleteObject\",\"requestParameters\":{\"bucketName\":\"b\"},"
                   "\"resources\":[{\"type\":\"AWS::S3::Object\",\"ARNPrefix\":\"arn:aws:s3:::b/\"}]}",
                   CT_MALFORMED);
        /* an object ARN of another bucket does not give the key */
        expect_cls(ctx,
                   "{" S3 ",\"eventName\":\"PutObject\",\"requestParameters\":{\"bucketName\":\"b\"},"
                   "\"resources\":[{\"type\":\"AWS::S3::Object\",\"ARN\":\"arn:aws:s3:::c/k\"}]}",
                   CT_MALFORMED);
        ct_ctx_free(ctx);
}

static void test_rule9_actionable(void **state)
{
        struct ct_ctx *ctx = ct_ctx_new();
        struct one o;

        (void)state;
        o = classify(ctx,
                     "{\"eventVersion\":\"1.09\"," S3 ",\"eventName\":\"PutObject\",\"eventTime\":"
                     "\"2026-11-29T10:11:12Z\",\"eventID\":\"id-1\"," RP("b", "dir/a b+c%20d.txt") "}");
        assert_int_equal(o.cls, CT_PUT);
        assert_string_equal(o.bucket, "b");
        assert_string_equal(o.key, "dir/a b+c%20d.txt");
        assert_string_equal(o.time, "2026-11-29T10:11:12Z");
        assert_string_equal(o.name, "PutObject");
        assert_string_equal(o.id, "id-1");
        expect_cls(
                ctx,
                "{" S3
                ",\"eventName\":\"CopyObject\",\"requestParameters\":{\"bucketName\":\"dst\",\"key\":\"new\",\"x-amz-copy-source\":\"src/old\"}}",
                CT_PUT);
        o = classify(
                ctx,
                "{" S3
                ",\"eventName\":\"CopyObject\",\"requestParameters\":{\"bucketName\":\"dst\",\"key\":\"new\",\"x-amz-copy-source\":\"src/old\"}}");
        assert_string_equal(o.bucket, "dst");
        assert_string_equal(o.key, "new");
        expect_cls(ctx, "{" S3 ",\"eventName\":\"CompleteMultipartUpload\"," RP("b", "k") "}", CT_PUT);
        expect_cls(ctx, "{" S3 ",\"eventName\":\"PostObject\"," RP("b", "k") "}", CT_PUT);
        expect_cls(ctx, "{" S3 ",\"eventName\":\"DeleteObject\"," RP("b", "k") "}", CT_DELETE);
        o = classify(
                ctx,
                "{" S3
                ",\"eventName\":\"DeleteObjects\",\"requestParameters\":{\"bucketName\":\"b\",\"delete\":{\"Object\":[{\"Key\":\"x\"}]}}}");
        assert_int_equal(o.cls, CT_BUCKET);
        assert_string_equal(o.bucket, "b");
        assert_int_equal(o.has_key, 0);
        ct_ctx_free(ctx);
}

static void test_resource_fallbacks(void **state)
{
        struct ct_ctx *ctx = ct_ctx_new();
        struct one o;

        (void)state;
        o = classify(
                ctx,
                "{" S3
                ",\"eventName\":\"PutObject\",\"requestParameters\":{\"bucketName\":null,\"key\":null},"
                "\"resources\":[{\"type\":\"AWS::S3::Object\",\"ARN\":\"arn:aws:s3:::bk/p/q r\\u00e9\"},"
                "{\"accountId\":\"1\",\"type\":\"AWS::S3::Bucket\",\"ARN\":\"arn:aws:s3:::bk\"}]}");
        assert_int_equal(o.cls, CT_PUT);
        assert_string_equal(o.bucket, "bk");
        assert_string_equal(o.key, "p/q r\xc3\xa9");
        o = classify(
                ctx,
                "{" S3
                ",\"eventName\":\"DeleteObjects\",\"resources\":[{\"type\":\"AWS::S3::Bucket\",\"ARN\":\"arn:aws-cn:s3:::cnb\"}]}");
        assert_int_equal(o.cls, CT_BUCKET);
        assert_string_equal(o.bucket, "cnb");
        /* key taken verbatim: a key with slashes, unicode, quotes */
        o = classify(
                ctx,
                "{" S3
                ",\"eventName\":\"PutObject\",\"requestParameters\":{\"bucketName\":\"b\",\"key\":\"a/\\\"q\\\"/\xe2\x82\xac/\"}}");
        assert_int_equal(o.cls, CT_PUT);
        assert_string_equal(o.key, "a/\"q\"/\xe2\x82\xac/");
        ct_ctx_free(ctx);
}

static void test_insight_records(void **state)
{
        struct ct_ctx *ctx = ct_ctx_new();

        (void)state;
        expect_cls(ctx,
                   "{\"eventType\":\"AwsCloudTrailInsight\"," S3
                   ",\"eventName\":\"PutObject\"," RP("b", "k") "}",
                   CT_INSIGHT);
        expect_cls(ctx, "{\"eventCategory\":\"Insight\",\"eventSource\":\"s3.amazonaws.com\"}",
                   CT_INSIGHT);
        expect_cls(ctx,
                   "{\"eventType\":\"AwsApiCall\",\"eventCategory\":\"Data\"," S3
                   ",\"eventName\":\"PutObject\"," RP("b", "k") "}",
                   CT_PUT);
        ct_ctx_free(ctx);
}

/* Escapes force the parse path; it must agree with the fast path. */
static void test_escaped_fields_agree(void **state)
{
        struct ct_ctx *ctx = ct_ctx_new();

        (void)state;
        expect_cls(ctx,
                   "{\"eventSource\":\"s3.amazonaws.co\\u006d\",\"eventName\":\"PutObject\"," RP(
                           "b", "k") "}",
                   CT_PUT);
        expect_cls(ctx, "{" S3 ",\"eventName\":\"Put\\u004fbject\"," RP("b", "k") "}", CT_PUT);
        expect_cls(ctx, "{" S3 ",\"eventName\":\"Get\\u004fbject\"," RP("b", "k") "}", CT_NOT_WRITE);
        expect_cls(ctx, "{\"event\\u0053ource\":\"ec2.amazonaws.com\",\"eventName\":\"PutObject\"}",
                   CT_NOT_S3);
        expect_cls(ctx,
                   "{\"event\\u0053ource\":\"s3.amazonaws.com\",\"eventName\":\"PutObject\"," RP(
                           "b", "k") "}",
                   CT_PUT);
        expect_cls(ctx,
                   "{" S3 ",\"eventName\":\"PutObject\",\"errorCode\":\"\\u0041\"," RP("b", "k") "}",
                   CT_FAILED);
        expect_cls(ctx, "{" S3 ",\"eventName\":\"PutObject\",\"errorCode\":{}}", CT_FAILED);
        ct_ctx_free(ctx);
}

/* A \u0000 anywhere makes the record malformed: cJSON would cut the string there, so the
 * event would name another object ("reports/ok.pdf") or take "eventName\u0000" for
 * eventName. Lone surrogates are malformed too, on the fast path as on the full one. */
static void test_nul_and_lone_surrogates_malformed(void **state)
{
        struct ct_ctx *ctx = ct_ctx_new();
        struct ct_hint full;
        struct ct_event ev;
        struct one o;
        const char *nul_key =
                "{" S3 ",\"eventName\":\"PutObject\"," RP("b", "reports/ok.pdf\\u0000../../evil") "}";

        (void)state;
        expect_cls(ctx, nul_key, CT_MALFORMED);
        expect_cls(ctx, "{" S3 ",\"eventName\\u0000\":\"PutObject\"," RP("b", "k") "}", CT_MALFORMED);
        expect_cls(ctx, "{" S3 ",\"eventName\":\"PutObject\\u0000\"," RP("b", "k") "}", CT_MALFORMED);
        expect_cls(ctx, "{\"eventSource\":\"ec2.amazonaws.com\",\"x\":\"\\u0000\"}", CT_MALFORMED);
        expect_cls(ctx, "{\"eventSource\":\"ec2.amazonaws.com\",\"x\":\"\\ud800\"}", CT_MALFORMED);
        expect_cls(ctx, "{" S3 ",\"eventName\":\"GetObject\",\"x\":\"\\udfff\"}", CT_MALFORMED);
        expect_cls(ctx, "{" S3 ",\"eventName\":\"PutObject\"," RP("b", "k\\ud800") "}", CT_MALFORMED);
        /* what stays valid */
        o = classify(ctx,
                     "{" S3 ",\"eventName\":\"PutObject\"," RP("b", "a\\\\u0000\\ud83d\\ude00") "}");
        assert_int_equal(o.cls, CT_PUT);
        assert_string_equal(o.key, "a\\u0000\xf0\x9f\x98\x80");
        /* the full path checks by itself, whatever the hint says */
        memset(&full, 0, sizeof(full));
        full.is_object = 1;
        full.must_parse = 1;
        nul_key = "{\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"PutObject\","
                  "\"requestParameters\":{\"bucketName\":\"b\",\"key\":\"ok.pdf\\u0000x\"}}";
        assert_int_equal(ct_classify(ctx, nul_key, strlen(nul_key), &full, &ev), CT_MALFORMED);
        ct_event_clear(&ev);
        ct_ctx_free(ctx);
}

static void test_parse_time(void **state)
{
        (void)state;
        assert_int_equal(ct_parse_time("1970-01-01T00:00:00Z"), 0);
        assert_int_equal(ct_parse_time("2026-11-29T08:00:00Z"), 1795939200);
        assert_int_equal(ct_parse_time("2026-11-29 08:00:00"), 1795939200);
        assert_int_equal(ct_parse_time("2026-11-29T08:00:00.123Z"), 1795939200);
        assert_int_equal(ct_parse_time("2026-11-29T08:00"), -1);
        assert_int_equal(ct_parse_time("2026-13-29T08:00:00Z"), -1);
        assert_int_equal(ct_parse_time("2026-11-29T08:00:00+01"), -1);
        assert_int_equal(ct_parse_time(NULL), -1);
}

static void test_file_kinds(void **state)
{
        (void)state;
        assert_int_equal(
                ct_file_kind(
                        "AWSLogs/1/CloudTrail/us-east-1/2026/11/29/1_CloudTrail_us-east-1_20261129T0805Z_abcdefghijklmnop.json.gz"),
                CT_FILE_LOG);
        assert_int_equal(
                ct_file_kind(
                        "AWSLogs/1/CloudTrail-Digest/us-east-1/2026/11/29/1_CloudTrail-Digest_us-east-1_x_20261129T080500Z.json.gz"),
                CT_FILE_DIGEST);
        assert_int_equal(ct_file_kind("/tmp/1_CloudTrail-Digest_us-east-1.json.gz"), CT_FILE_DIGEST);
        assert_int_equal(ct_file_kind("AWSLogs/1/CloudTrail-Insight/us-east-1/2026/11/29/x.json.gz"),
                         CT_FILE_INSIGHT);
}

struct pair {
        const struct ct_ctx *ctx;
        int n, fast_writes; /* records seen; of them settled without a tree */
};

static int same(const char *a, const char *b)
{
        return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Classify with the reader's hint and again with one that forces the full parse: the same
 * class, and every field the same (for every class, since self, unmanaged and covered keep
 * the event's name and time). */
static int on_pair(void *opaque, const char *rec, size_t len, const struct ct_hint *hint, uint64_t idx)
{
        struct pair *pr = opaque;
        struct ct_hint full;
        struct ct_event a, b;

        (void)idx;
        memset(&full, 0, sizeof(full));
        full.is_object = hint->is_object;
        full.must_parse = 1;
        ct_classify(pr->ctx, rec, len, hint, &a);
        ct_classify(pr->ctx, rec, len, &full, &b);
        if (a.cls != b.cls || !same(a.bucket, b.bucket) || !same(a.key, b.key) ||
            !same(a.provider, b.provider) || !same(a.name, b.name) || !same(a.time, b.time) ||
            !same(a.id, b.id) || !same(a.account, b.account) || !same(a.region, b.region) ||
            a.event_epoch != b.event_epoch)
                fail_msg("fast and full paths differ (class %d/%d, bucket %s/%s, key %s/%s) on %s",
                         a.cls, b.cls, a.bucket ? a.bucket : "-", b.bucket ? b.bucket : "-",
                         a.key ? a.key : "-", b.key ? b.key : "-", rec);
        assert_null(b.store);
        if (a.store)
                pr->fast_writes++;
        pr->n++;
        ct_event_clear(&a);
        ct_event_clear(&b);
        return JB_OK;
}

/* S3 writes are classified from the scan's spans (no tree) when requestParameters holds the
 * bucket and key, escapes in the values decoded; an escaped key or a bucket or key only in
 * resources[] goes to the full parse. Both agree. */
static void test_write_fast_path_agrees(void **state)
{
        static const char *const recs[] = {
                /* settled without a tree */
                "{" S3 ",\"eventName\":\"PutObject\",\"eventTime\":\"2026-11-29T08:00:00Z\","
                "\"eventID\":\"e1\",\"recipientAccountId\":\"111\",\"awsRegion\":\"eu-west-1\","
                "\"userIdentity\":{\"type\":\"IAMUser\",\"arn\":\"arn:aws:iam::1:user/bob\","
                "\"accessKeyId\":\"AKIABOB\",\"sessionContext\":{\"arn\":\"x\"}}," RP("b",
                                                                                      "a/b c.txt") "}",
                "{" RP("bk", "k\xc3\xa9") ",\"eventName\":\"DeleteObject\"," S3 ",\"eventTime\":\"\"}",
                "{" S3 ",\"eventName\":\"DeleteObjects\"," RP("b", "") "}",
                "{" S3
                ",\"eventName\":\"CopyObject\",\"userAgent\":\"[aws-cli/2 jibe/1.0]\"," RP("b", "k") "}",
                "{" S3
                ",\"eventName\":\"PutObject\",\"userIdentity\":{\"accessKeyId\":\"AKIASELF\"}," RP(
                        "b", "k") "}",
                "{" S3
                ",\"eventName\":\"PutObject\",\"userIdentity\":{\"arn\":\"arn:aws:iam::1:user/jibe\"}," RP(
                        "b", "k") "}",
                "{" S3
                ",\"eventName\":\"PutObject\",\"eventTime\":\"2020-01-01T00:00:00Z\"," RP("b", "k") "}",
                "{" S3 ",\"eventName\":\"PutObject\"," RP("other", "k") "}",
                "{" S3 ",\"eventName\":\"PutObject\",\"eventTime\":7,\"eventID\":null," RP("b", "k") "}",
                /* the first userIdentity / requestParameters counts, the nested arn does not */
                "{" S3 ",\"eventName\":\"PutObject\",\"userIdentity\":\"AKIASELF\","
                "\"userIdentity\":{\"accessKeyId\":\"AKIASELF\"}," RP("b", "k") "}",
                "{" S3 ",\"eventName\":\"PutObject\",\"userIdentity\":{\"x\":{\"arn\":"
                "\"arn:aws:iam::1:user/jibe\"}}," RP("b", "k") "," RP("bk", "k2") "}",
                "{" S3 ",\"eventName\":\"PutObject\",\"requestParameters\":{\"bucketName\":\"b\","
                "\"bucketName\":\"bk\",\"key\":\"k\",\"key\":\"k2\",\"x\":{\"key\":\"z\"}}}",
                /* escapes in the values are decoded as cJSON does */
                "{" S3 ",\"eventName\":\"PutObject\"," RP("b", "a\\/b\\u00e9") "}",
                "{" S3 ",\"eventName\":\"PutObject\",\"userAgent\":\"jibe\\/1\"," RP("b", "k") "}",
                "{" S3
                ",\"eventName\":\"PutObject\",\"userIdentity\":{\"arn\":\"arn:aws:iam::1:user\\/jibe\"}," RP(
                        "b\\u0062", "\\ud83d\\ude00\\n\\t\\\"\\\\\\b\\f\\r\\u00e9\\u20ac") "}",
                "{" S3
                ",\"eventName\":\"PutObject\",\"userAgent\":\"x \\u006aibe/2\",\"eventTime\":\"2026-11-29T08:00:00\\u005a\"," RP(
                        "bk", "k") "}",
                /* the full parse: an escaped key, or the bucket or key only in resources[] */
                "{" S3 ",\"eventName\":\"PutObject\",\"userIdentity\":{\"access\\u004beyId\":"
                "\"AKIASELF\"}," RP("b", "k") "}",
                "{" S3 ",\"eventName\":\"PutObject\",\"requestParameters\":{\"bucketName\":\"\"},"
                "\"resources\":[{\"type\":\"AWS::S3::Object\",\"ARN\":\"arn:aws:s3:::b/r\"},"
                "{\"type\":\"AWS::S3::Bucket\",\"ARN\":\"arn:aws:s3:::b\"}]}",
                "{" S3 ",\"eventName\":\"PutObject\",\"requestParameters\":{\"bucketName\":\"b\"},"
                "\"resources\":[{\"type\":\"AWS::S3::Object\",\"ARN\":\"arn:aws:s3:::b/r\"}]}",
                "{" S3
                ",\"eventName\":\"PutObject\",\"requestParameters\":[{\"bucketName\":\"b\",\"key\":\"k\"}]}",
                "{" S3 ",\"eventName\":\"PutObject\"}",
        };
        struct ct_ctx *empty = ct_ctx_new(), *map = ct_ctx_new();
        const struct ct_ctx *ctxs[2];
        struct buf doc;
        size_t i, c;

        (void)state;
        assert_int_equal(ct_ctx_add_self_key(map, "AKIASELF"), JB_OK);
        assert_int_equal(ct_ctx_add_self_arn(map, "arn:aws:iam::1:user/jibe"), JB_OK);
        assert_int_equal(ct_ctx_add_self_agent(map, "jibe/"), JB_OK);
        assert_int_equal(ct_ctx_map_bucket(map, "b", "p1"), JB_OK);
        assert_int_equal(ct_ctx_map_bucket(map, "bk", "p2"), JB_OK);
        assert_int_equal(ct_ctx_set_sync_start(map, "p1", 1700000000), JB_OK);
        ctxs[0] = empty;
        ctxs[1] = map;
        for (c = 0; c < 2; c++) {
                struct pair pr = {ctxs[c], 0, 0};
                struct ct_reader *rdr = ct_reader_new(NULL, on_pair, &pr);
                unsigned char *gz;
                size_t gzn;
                char err[256];

                buf_init(&doc, 1U << 20);
                assert_int_equal(buf_puts(&doc, "{\"Records\":["), 0);
                for (i = 0; i < sizeof(recs) / sizeof(recs[0]); i++)
                        assert_int_equal(buf_printf(&doc, "%s%s", i ? "," : "", recs[i]), 0);
                assert_int_equal(buf_puts(&doc, "]}"), 0);
                gz = tu_gzip(doc.p, doc.len, &gzn);
                if (ct_reader_feed(rdr, gz, gzn, err, sizeof(err)) != JB_OK)
                        fail_msg("%s", err);
                assert_int_equal(ct_reader_finish(rdr, err, sizeof(err)), JB_OK);
                assert_int_equal(pr.n, (int)(sizeof(recs) / sizeof(recs[0])));
                /* the first 16 are settled from the spans under either context (some of them
                 * as self, unmanaged or covered), the others need the tree */
                assert_int_equal(pr.fast_writes, 16);
                ct_reader_free(rdr);
                free(gz);
                buf_clear(&doc);
        }
        ct_ctx_free(empty);
        ct_ctx_free(map);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_rule1_malformed_not_object),
                cmocka_unit_test(test_rule2_not_s3),
                cmocka_unit_test(test_rule3_failed),
                cmocka_unit_test(test_rule4_not_write),
                cmocka_unit_test(test_rule5_self),
                cmocka_unit_test(test_rule6_unmanaged),
                cmocka_unit_test(test_rule6_empty_map_in_force),
                cmocka_unit_test(test_rule7_covered),
                cmocka_unit_test(test_rule8_malformed_write),
                cmocka_unit_test(test_rule9_actionable),
                cmocka_unit_test(test_resource_fallbacks),
                cmocka_unit_test(test_insight_records),
                cmocka_unit_test(test_escaped_fields_agree),
                cmocka_unit_test(test_nul_and_lone_surrogates_malformed),
                cmocka_unit_test(test_parse_time),
                cmocka_unit_test(test_file_kinds),
                cmocka_unit_test(test_write_fast_path_agrees),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
