/*
 * test_msg.c - the stage message schema: round trips, keys, and poison messages refused
 * with a reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "msg.h"

static void test_logfile_roundtrip(void **state)
{
        struct msg_logfile a = {.provider = "101",
                                .bucket = "ct-logs",
                                .path = "S3 Prod/ct-logs/AWSLogs/1/x \"q\".json.gz",
                                .fi_id = "77",
                                .size = 1234,
                                .listed_ms = 99};
        struct msg_logfile b;
        struct buf out, key;
        char err[128];

        (void)state;
        buf_init(&out, 1 << 20);
        buf_init(&key, 1 << 20);
        assert_int_equal(msg_logfile_encode(&a, &out), 0);
        assert_int_equal(msg_logfile_decode(out.p, out.len, &b, err, sizeof(err)), 0);
        assert_string_equal(b.path, a.path);
        assert_string_equal(b.fi_id, "77");
        assert_int_equal(b.size, 1234);
        assert_int_equal(b.listed_ms, 99);
        assert_int_equal(msg_logfile_key(&b, &key), 0);
        assert_string_equal(key.p, "101/ct-logs");
        msg_logfile_clear(&b);
        buf_reset(&key);
        a.path = "S3 Prod/ct-logs/trails/AWSLogs/o-abc/111/CloudTrail/eu-west-1/2026/11/29/f.json.gz";
        assert_int_equal(msg_logfile_key(&a, &key), 0);
        assert_string_equal(key.p, "101/ct-logs/o-abc/111/CloudTrail/eu-west-1");
        msg_logfile_clear(&b);
        buf_clear(&out);
        buf_clear(&key);
}

/* The digest fields are optional: absent unless set, and kept through a roundtrip. */
static void test_logfile_digest_fields(void **state)
{
        char sha[65];
        struct msg_logfile a = {.provider = "101",
                                .bucket = "b",
                                .path = "P/b/AWSLogs/x.json.gz",
                                .fi_id = "7",
                                .size = -1,
                                .listed_ms = 5};
        struct msg_logfile b;
        struct buf out;
        char err[128];

        (void)state;
        memset(sha, 'a', 64);
        sha[64] = '\0';
        buf_init(&out, 1 << 20);
        assert_int_equal(msg_logfile_encode(&a, &out), 0);
        assert_null(strstr(out.p, "digest_sha256"));
        assert_null(strstr(out.p, "reread"));
        assert_int_equal(msg_logfile_decode(out.p, out.len, &b, err, sizeof(err)), 0);
        assert_null(b.digest_sha256);
        assert_int_equal(b.reread, 0);
        msg_logfile_clear(&b);
        buf_reset(&out);
        a.digest_sha256 = sha;
        a.reread = 1;
        assert_int_equal(msg_logfile_encode(&a, &out), 0);
        assert_int_equal(msg_logfile_decode(out.p, out.len, &b, err, sizeof(err)), 0);
        assert_string_equal(b.digest_sha256, sha);
        assert_int_equal(b.reread, 1);
        msg_logfile_clear(&b);
        buf_clear(&out);
}

static void test_objevent_roundtrip(void **state)
{
        struct msg_objevent a, b;
        struct buf out, key;
        char err[128];

        (void)state;
        memset(&a, 0, sizeof(a));
        a.provider = "101";
        a.bucket = "data";
        a.key = "dir/caf\xc3\xa9 +%.txt";
        a.op = MSG_OP_DELETE;
        a.time = "2026-11-29T10:00:00Z";
        a.rec = 5;
        buf_init(&out, 1 << 20);
        buf_init(&key, 1 << 20);
        assert_int_equal(msg_objevent_encode(&a, &out), 0);
        assert_int_equal(msg_objevent_decode(out.p, out.len, &b, err, sizeof(err)), 0);
        assert_string_equal(b.key, a.key);
        assert_int_equal(b.op, MSG_OP_DELETE);
        assert_int_equal(b.rec, 5);
        assert_null(b.id);
        assert_int_equal(msg_objevent_key(&b, &key), 0);
        /* keyed by bucket, like the bucket op: they meet in one syncer */
        assert_string_equal(key.p, "101/data");
        msg_objevent_clear(&b);
        /* bucket ops carry no key */
        a.op = MSG_OP_BUCKET;
        buf_reset(&out);
        buf_reset(&key);
        assert_int_equal(msg_objevent_encode(&a, &out), 0);
        assert_null(strstr(out.p, "\"key\""));
        assert_int_equal(msg_objevent_decode(out.p, out.len, &b, err, sizeof(err)), 0);
        assert_null(b.key);
        assert_int_equal(msg_objevent_key(&b, &key), 0);
        assert_string_equal(key.p, "101/data");
        msg_objevent_clear(&b);
        buf_clear(&out);
        buf_clear(&key);
}

static void test_poison_messages(void **state)
{
        static const char *const bad[] = {
                "",
                "garbage",
                "[1]",
                "{\"v\":2,\"type\":\"objevent\",\"provider\":\"1\",\"bucket\":\"b\",\"op\":\"put\",\"key\":\"k\"}",
                "{\"type\":\"objevent\"}",
                "{\"v\":1,\"type\":\"logfile\"}",
                "{\"v\":1,\"type\":\"objevent\",\"provider\":\"1\",\"bucket\":\"b\",\"op\":\"zap\",\"key\":\"k\"}",
                "{\"v\":1,\"type\":\"objevent\",\"provider\":\"1\",\"bucket\":\"b\",\"op\":\"put\"}",
                "{\"v\":1,\"type\":\"objevent\",\"provider\":1,\"bucket\":\"b\",\"op\":\"put\",\"key\":\"k\"}",
                "{\"v\":1,\"type\":\"objevent\",\"provider\":\"1\",\"bucket\":\"\",\"op\":\"put\",\"key\":\"k\"}",
                "{\"v\":1,\"type\":\"objevent\",\"provider\":\"1\",\"bucket\":\"b\",\"op\":\"put\",\"key\":\"k\",\"rec\":\"x\"}",
                /* numbers outside int64_t: refused, never converted (undefined behaviour) */
                "{\"v\":1,\"type\":\"objevent\",\"provider\":\"1\",\"bucket\":\"b\",\"op\":\"put\",\"key\":\"k\",\"rec\":1e300}",
                "{\"v\":1,\"type\":\"objevent\",\"provider\":\"1\",\"bucket\":\"b\",\"op\":\"put\",\"key\":\"k\",\"listed_ms\":-1e19}",
                "{\"v\":1,\"type\":\"objevent\",\"provider\":\"1\",\"bucket\":\"b\",\"op\":\"put\",\"key\":\"k\",\"rec\":9223372036854775808}",
        };
        struct msg_objevent m;
        char err[256];
        size_t i;

        (void)state;
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                err[0] = '\0';
                assert_int_equal(msg_objevent_decode(bad[i], strlen(bad[i]), &m, err, sizeof(err)),
                                 JB_EINPUT);
                assert_true(strlen(err) > 5);
                msg_objevent_clear(&m);
        }
}

static void test_dead_letter_keeps_bytes(void **state)
{
        char payload[] = {'a', '\0', '\xff', '"', '\n', 'z'};
        struct msg_dead a, b;
        struct buf out;
        char err[128];

        (void)state;
        memset(&a, 0, sizeof(a));
        a.stage = "sync";
        a.error = "HTTP 500 after 8 attempts";
        a.attempts = 8;
        a.rec = -1;
        a.payload = payload;
        a.payload_len = sizeof(payload);
        buf_init(&out, 1 << 22);
        assert_int_equal(msg_dead_encode(&a, &out), 0);
        assert_int_equal(msg_dead_decode(out.p, out.len, &b, err, sizeof(err)), 0);
        assert_int_equal(b.payload_len, sizeof(payload));
        assert_memory_equal(b.payload, payload, sizeof(payload));
        assert_string_equal(b.error, a.error);
        msg_dead_clear(&b);
        buf_clear(&out);
}

/* The status-topic record: versioned, and the bare "done" of older scanners still reads. */
static void test_status_record(void **state)
{
        static const char *const bad[] = {
                "",
                "don",
                "done\n",
                "{\"v\":2,\"type\":\"status\",\"state\":\"done\"}",
                "{\"v\":1,\"type\":\"logfile\",\"state\":\"done\"}",
                "{\"v\":1,\"type\":\"status\"}",
                "{\"v\":1,\"type\":\"status\",\"state\":\"forgotten\"}",
                "{\"v\":1,\"type\":\"status\",\"state\":\"done\",\"at_ms\":\"soon\"}",
                NULL,
        };
        struct msg_status a = {MSG_STATUS_DONE, 1764590000123}, b;
        struct buf out;
        char err[128];
        size_t i;

        (void)state;
        buf_init(&out, 4096);
        assert_int_equal(msg_status_encode(&a, &out), 0);
        assert_non_null(strstr(out.p, "\"v\":1"));
        assert_non_null(strstr(out.p, "\"type\":\"status\""));
        assert_int_equal(msg_status_decode(out.p, out.len, &b, err, sizeof(err)), 0);
        assert_int_equal(b.state, MSG_STATUS_DONE);
        assert_true(b.at_ms == a.at_ms);
        /* what scanners wrote before the record had a version */
        assert_int_equal(msg_status_decode("done", 4, &b, err, sizeof(err)), 0);
        assert_int_equal(b.state, MSG_STATUS_DONE);
        assert_true(b.at_ms == 0);
        for (i = 0; bad[i]; i++) {
                err[0] = '\0';
                assert_int_equal(msg_status_decode(bad[i], strlen(bad[i]), &b, err, sizeof(err)),
                                 JB_EINPUT);
                assert_true(err[0] != '\0' || !bad[i][0] || bad[i][0] == 'd');
        }
        a.state = 0;
        assert_int_equal(msg_status_encode(&a, &out), JB_EINPUT);
        buf_clear(&out);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_logfile_roundtrip),
                cmocka_unit_test(test_logfile_digest_fields),
                cmocka_unit_test(test_objevent_roundtrip),
                cmocka_unit_test(test_poison_messages),
                cmocka_unit_test(test_dead_letter_keeps_bytes),
                cmocka_unit_test(test_status_record),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
