/*
 * test_ct_reader.c - the streaming CloudTrail reader: splitting Records across inflate
 * chunks and feed boundaries, JSON corner cases, gzip members, and every kind of bad input
 * (which must give an error code and a one-line reason, never a crash).
 * Every test runs twice: on one thread, then with the inflate thread forced from the first
 * byte (ct_reader_set_thread_min(0)), where each read is also done on one thread and the
 * two must agree on the code, the reason and the records, and no thread may outlive an
 * error or the end of the file.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <zlib.h>

#include "buf.h"
#include "ct.h"
#include "sha256.h"
#include "tu.h"

struct got {
        size_t n;       /* records seen */
        struct buf all; /* records joined with '\n' */
        struct ct_hint last;
        int stop_at; /* return an error at this record index (-1: never) */
};

static int collect(void *opaque, const char *rec, size_t len, const struct ct_hint *hint, uint64_t idx)
{
        struct got *g = opaque;

        assert_int_equal(idx, g->n);
        assert_int_equal(rec[len], '\0');
        g->n++;
        g->last = *hint;
        if (g->stop_at >= 0 && (size_t)g->stop_at == idx)
                return JB_EFATAL;
        assert_int_equal(buf_append(&g->all, rec, len), 0);
        assert_int_equal(buf_append(&g->all, "\n", 1), 0);
        return JB_OK;
}

/* The pass (main): 0 on one thread, 1 the inflate thread from the first byte. */
static int threaded;

/* Threads of this process now (/proc/self/status), -1 if unknown. */
static int threads_now(void)
{
        FILE *f = fopen("/proc/self/status", "r");
        char line[256];
        int n = -1;

        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f))
                if (!strncmp(line, "Threads:", 8))
                        n = atoi(line + 8);
        fclose(f);
        return n;
}

static void *noop_thread(void *arg)
{
        return arg;
}

/* Threads before any reader (1, or more under a sanitizer that runs its own). */
static int base_threads = 1;

/* No inflate thread is left (only the test's own threads run). A joined thread can still be
 * counted in /proc for a moment (the kernel wakes pthread_join before it has reaped the
 * thread), so the count gets up to 2 s to come down; a thread left behind never does. */
static void assert_one_thread(void)
{
        struct timespec ms = {0, 1000000L};
        int n = threads_now(), i;

        for (i = 0; i < 2000 && n != -1 && n != base_threads; i++) {
                nanosleep(&ms, NULL);
                n = threads_now();
        }
        if (n != -1 && n != base_threads)
                fail_msg("%d threads, want %d: an inflate thread was left behind", n, base_threads);
}

static struct ct_reader *new_reader(const struct ct_limits *lim, struct got *g)
{
        struct ct_reader *rdr = ct_reader_new(lim, collect, g);

        assert_non_null(rdr);
        ct_reader_set_thread_min(rdr, threaded ? 0 : UINT64_MAX);
        return rdr;
}

static int read_all(const struct ct_limits *lim, const unsigned char *gz, size_t n, size_t step,
                    uint64_t thread_min, struct got *g, char *err, size_t errsz)
{
        struct ct_reader *rdr = ct_reader_new(lim, collect, g);
        size_t off;
        int rc = JB_OK;

        assert_non_null(rdr);
        ct_reader_set_thread_min(rdr, thread_min);
        if (errsz)
                err[0] = '\0'; /* the callback's stop leaves it as it is */
        for (off = 0; off < n && !rc; off += step) {
                rc = ct_reader_feed(rdr, gz + off, n - off < step ? n - off : step, err, errsz);
                if (rc)
                        assert_one_thread(); /* an error stops the inflate thread */
        }
        if (!rc) {
                rc = ct_reader_finish(rdr, err, errsz);
                assert_one_thread(); /* so does the end of the file */
        }
        ct_reader_free(rdr);
        return rc;
}

/* Feed gz in pieces of step bytes; returns the first error (or finish's result). On the
 * threaded pass the same read on one thread must give the same code, reason and records. */
static int run_reader(const struct ct_limits *lim, const unsigned char *gz, size_t n, size_t step,
                      struct got *g, char *err, size_t errsz)
{
        struct got one;
        char err1[256] = "";
        int rc, rc1;

        if (!threaded)
                return read_all(lim, gz, n, step, UINT64_MAX, g, err, errsz);
        memset(&one, 0, sizeof(one));
        buf_init(&one.all, 1U << 30);
        one.stop_at = g->stop_at;
        rc1 = read_all(lim, gz, n, step, UINT64_MAX, &one, err1, sizeof(err1));
        rc = read_all(lim, gz, n, step, 0, g, err, errsz);
        if (rc != rc1 || (rc && strcmp(err, err1)) || g->n != one.n || g->all.len != one.all.len ||
            (one.all.len && memcmp(g->all.p, one.all.p, one.all.len)))
                fail_msg("threaded read: %d '%s' (%zu records), on one thread: %d '%s' (%zu records)",
                         rc, rc ? err : "", g->n, rc1, rc1 ? err1 : "", one.n);
        buf_clear(&one.all);
        return rc;
}

static void got_init(struct got *g)
{
        memset(g, 0, sizeof(*g));
        buf_init(&g->all, 1U << 30);
        g->stop_at = -1;
}

/* Run a JSON text through gzip and the reader in one piece. */
static int run_json(const char *json, struct got *g, char *err, size_t errsz)
{
        size_t gzn;
        unsigned char *gz = tu_gzip(json, strlen(json), &gzn);
        int rc;

        assert_non_null(gz);
        rc = run_reader(NULL, gz, gzn, gzn, g, err, errsz);
        free(gz);
        return rc;
}

/* Build {"Records":[r0,r1,...]} with n records of varied sizes; records joined by '\n' in
 * *expect. */
static char *make_doc(size_t n, struct buf *expect)
{
        struct buf doc;
        size_t i, j;

        buf_init(&doc, 1U << 30);
        buf_init(expect, 1U << 30);
        assert_int_equal(buf_puts(&doc, "{\"Records\":["), 0);
        for (i = 0; i < n; i++) {
                struct buf r;

                buf_init(&r, 1U << 20);
                assert_int_equal(buf_printf(&r,
                                            "{\"eventSource\":\"s3.amazonaws.com\",\"eventName\":"
                                            "\"PutObject\",\"n\":%zu,\"pad\":\"",
                                            i),
                                 0);
                for (j = 0; j < (i * 7919) % 3000; j++)
                        assert_int_equal(buf_append(&r, &"abc\\\"[]{}xyz"[j % 12 == 3 ? 3 : j % 3],
                                                    j % 12 == 3 ? 2 : 1),
                                         0);
                assert_int_equal(buf_puts(&r, "\",\"nested\":{\"a\":[1,2.5e3,-0.1,true,false,null]}}"),
                                 0);
                if (i)
                        assert_int_equal(buf_puts(&doc, ","), 0);
                assert_int_equal(buf_append(&doc, r.p, r.len), 0);
                assert_int_equal(buf_append(expect, r.p, r.len), 0);
                assert_int_equal(buf_append(expect, "\n", 1), 0);
                buf_clear(&r);
        }
        assert_int_equal(buf_puts(&doc, "]}"), 0);
        return buf_take(&doc);
}

static void test_split_across_chunks(void **state)
{
        static const size_t steps[] = {1, 7, 4096, 100000, SIZE_MAX};
        struct buf expect;
        char *doc, err[256];
        unsigned char *gz;
        size_t gzn, s;

        (void)state;
        /* ~1.5 MB decompressed: many records straddle CT_INFLATE_CHUNK boundaries. */
        doc = make_doc(1000, &expect);
        assert_true(strlen(doc) > 4 * CT_INFLATE_CHUNK);
        gz = tu_gzip(doc, strlen(doc), &gzn);
        assert_non_null(gz);
        for (s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
                struct got g;

                if (steps[s] == 1 && gzn > 200000)
                        continue;
                got_init(&g);
                assert_int_equal(run_reader(NULL, gz, gzn, steps[s] == SIZE_MAX ? gzn : steps[s], &g,
                                            err, sizeof(err)),
                                 JB_OK);
                assert_int_equal(g.n, 1000);
                assert_int_equal(g.all.len, expect.len);
                assert_memory_equal(g.all.p, expect.p, expect.len);
                buf_clear(&g.all);
        }
        free(gz);
        free(doc);
        buf_clear(&expect);
}

static void test_one_byte_feeds(void **state)
{
        struct buf expect;
        char *doc, err[256];
        unsigned char *gz;
        size_t gzn;
        struct got g;

        (void)state;
        doc = make_doc(40, &expect);
        gz = tu_gzip(doc, strlen(doc), &gzn);
        got_init(&g);
        assert_int_equal(run_reader(NULL, gz, gzn, 1, &g, err, sizeof(err)), JB_OK);
        assert_int_equal(g.n, 40);
        assert_memory_equal(g.all.p, expect.p, expect.len);
        buf_clear(&g.all);
        free(gz);
        free(doc);
        buf_clear(&expect);
}

static void test_escapes_and_brackets_in_strings(void **state)
{
        const char *json =
                "{\"Records\":[{\"k\":\"a\\\"]}[{\\\\\",\"u\":\"\\u005d\\u0022\\u00e9\\ud83d\\ude00\"},"
                "{\"k\":\"}\"}]}";
        struct got g;
        char err[256];

        (void)state;
        got_init(&g);
        assert_int_equal(run_json(json, &g, err, sizeof(err)), JB_OK);
        assert_int_equal(g.n, 2);
        assert_string_equal(g.all.p,
                            "{\"k\":\"a\\\"]}[{\\\\\",\"u\":\"\\u005d\\u0022\\u00e9\\ud83d\\ude00\"}\n"
                            "{\"k\":\"}\"}\n");
        buf_clear(&g.all);
}

static void test_whitespace_variants(void **state)
{
        const char *json = " \r\n\t{ \"Records\" \n:\t[ \n{ \"eventName\" : \"PutObject\" ,\n"
                           "  \"eventSource\"\t:\"s3.amazonaws.com\" } ,\r\n{}\n ] \n} \n\n";
        struct got g;
        char err[256];

        (void)state;
        got_init(&g);
        assert_int_equal(run_json(json, &g, err, sizeof(err)), JB_OK);
        assert_int_equal(g.n, 2);
        assert_string_equal(
                g.all.p,
                "{ \"eventName\" : \"PutObject\" ,\n  \"eventSource\"\t:\"s3.amazonaws.com\" }\n{}\n");
        buf_clear(&g.all);
}

static void test_empty_records_and_other_keys(void **state)
{
        struct got g;
        char err[256];

        (void)state;
        got_init(&g);
        assert_int_equal(run_json("{\"Records\":[]}", &g, err, sizeof(err)), JB_OK);
        assert_int_equal(g.n, 0);
        got_init(&g);
        assert_int_equal(run_json("{\"x\":{\"Records\":[1]},\"Records\":[ ],\"y\":[[{}]]}", &g, err,
                                  sizeof(err)),
                         JB_OK);
        assert_int_equal(g.n, 0);
        buf_clear(&g.all);
}

static void test_hint_spans(void **state)
{
        const char *json = "{\"Records\":[{\"eventSource\":\"s3.amazonaws.com\",\"x\":{\"eventName\":"
                           "\"no\"},\"eventName\":\"Put\\u004fbject\",\"errorCode\":null,"
                           "\"eventType\":7,\"eventName\":\"second\"}]}";
        struct got g;
        char err[256];
        const char *rec;

        (void)state;
        got_init(&g);
        assert_int_equal(run_json(json, &g, err, sizeof(err)), JB_OK);
        rec = g.all.p;
        assert_int_equal(g.last.is_object, 1);
        assert_int_equal(g.last.f[CT_F_EVENT_SOURCE].kind, CT_SPAN_STRING);
        assert_memory_equal(rec + g.last.f[CT_F_EVENT_SOURCE].off, "s3.amazonaws.com", 16);
        assert_int_equal(g.last.f[CT_F_EVENT_SOURCE].len, 16);
        /* the nested eventName is not the record's; the first record-level one wins */
        assert_int_equal(g.last.f[CT_F_EVENT_NAME].kind, CT_SPAN_STRING);
        assert_int_equal(g.last.f[CT_F_EVENT_NAME].escaped, 1);
        assert_memory_equal(rec + g.last.f[CT_F_EVENT_NAME].off, "Put\\u004fbject", 14);
        assert_int_equal(g.last.f[CT_F_ERROR_CODE].kind, CT_SPAN_NULL);
        assert_int_equal(g.last.f[CT_F_EVENT_TYPE].kind, CT_SPAN_OTHER);
        assert_int_equal(g.last.f[CT_F_EVENT_CATEGORY].kind, CT_SPAN_ABSENT);
        buf_clear(&g.all);

        got_init(&g);
        assert_int_equal(run_json("{\"Records\":[{\"event\\u0053ource\":\"x\"},[1],\"s\"]}", &g, err,
                                  sizeof(err)),
                         JB_OK);
        assert_int_equal(g.n, 3);
        assert_int_equal(g.last.is_object, 0);
        buf_clear(&g.all);
}

/* Strings outside Records are not kept in the window: long ones must not matter (the
 * reader once formed a pointer before its window for a 700,000-byte one). */
static void test_long_strings_outside_records(void **state)
{
        struct buf doc;
        struct got g;
        char err[256];
        size_t i;

        (void)state;
        buf_init(&doc, 1U << 24);
        assert_int_equal(buf_puts(&doc, "{\"x\":\""), 0);
        for (i = 0; i < 700000; i++)
                assert_int_equal(buf_append(&doc, "a", 1), 0);
        assert_int_equal(buf_puts(&doc, "\",\"y\":{\""), 0);
        for (i = 0; i < 600000; i++)
                assert_int_equal(buf_append(&doc, "k", 1), 0);
        assert_int_equal(buf_puts(&doc, "\":1},\"Records\":[{\"eventName\":\"PutObject\"}]}"), 0);
        got_init(&g);
        assert_int_equal(run_json(doc.p, &g, err, sizeof(err)), JB_OK);
        assert_int_equal(g.n, 1);
        assert_string_equal(g.all.p, "{\"eventName\":\"PutObject\"}\n");
        buf_clear(&g.all);
        buf_clear(&doc);
}

/* \u0000 and lone surrogates anywhere in a record are flagged; pairs and an escaped
 * backslash before "u0000" are not. */
static void test_bad_string_escapes(void **state)
{
        static const struct {
                const char *rec;
                int bad;
        } cases[] = {
                {"{\"k\":\"reports/ok.pdf\\u0000../../evil\"}", 1},
                {"{\"eventName\\u0000\":\"PutObject\"}", 1},
                {"{\"a\":{\"b\":[\"\\u0000\"]}}", 1},
                {"{\"k\":\"\\ud800\"}", 1},
                {"{\"k\":\"\\ud800x\"}", 1},
                {"{\"k\":\"\\ud800\\n\"}", 1},
                {"{\"k\":\"\\ud800\\u0041\"}", 1},
                {"{\"k\":\"\\udc00\"}", 1},
                {"{\"k\":\"\\ud83d\\ude00\"}", 0},
                {"{\"k\":\"\\\\u0000\"}", 0},
                {"{\"k\":\"\\u0001\\u00e9\"}", 0},
        };
        struct buf doc;
        struct got g;
        char err[256];
        size_t i;

        (void)state;
        for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                buf_init(&doc, 1U << 20);
                /* a bad string outside the record does not mark the next record */
                assert_int_equal(buf_printf(&doc, "{\"top\\u0000\":\"\\ud800\",\"Records\":[%s]}",
                                            cases[i].rec),
                                 0);
                got_init(&g);
                assert_int_equal(run_json(doc.p, &g, err, sizeof(err)), JB_OK);
                assert_int_equal(g.n, 1);
                if (g.last.bad_string != cases[i].bad)
                        fail_msg("%s: bad_string %d, want %d", cases[i].rec, g.last.bad_string,
                                 cases[i].bad);
                buf_clear(&g.all);
                buf_clear(&doc);
        }
        /* the flag is per record */
        got_init(&g);
        assert_int_equal(run_json("{\"Records\":[{\"k\":\"\\u0000\"},{\"k\":\"x\"}]}", &g, err,
                                  sizeof(err)),
                         JB_OK);
        assert_int_equal(g.n, 2);
        assert_int_equal(g.last.bad_string, 0);
        buf_clear(&g.all);
}

static void test_multi_member_gzip(void **state)
{
        struct buf expect, file;
        char *doc, err[256];
        size_t n, cuts[4], i;
        struct got g;

        (void)state;
        doc = make_doc(200, &expect);
        n = strlen(doc);
        cuts[0] = 0;
        cuts[1] = 5;         /* inside "Records" */
        cuts[2] = n / 2 + 3; /* somewhere inside a record */
        cuts[3] = n;
        buf_init(&file, 1U << 30);
        for (i = 0; i < 3; i++) {
                size_t gzn;
                unsigned char *gz = tu_gzip(doc + cuts[i], cuts[i + 1] - cuts[i], &gzn);

                assert_int_equal(buf_append(&file, gz, gzn), 0);
                free(gz);
        }
        got_init(&g);
        assert_int_equal(run_reader(NULL, (unsigned char *)file.p, file.len, 3000, &g, err, sizeof(err)),
                         JB_OK);
        assert_int_equal(g.n, 200);
        assert_memory_equal(g.all.p, expect.p, expect.len);
        buf_clear(&g.all);
        buf_clear(&file);
        free(doc);
        buf_clear(&expect);
}

static void test_truncated_at_every_length(void **state)
{
        struct buf expect;
        char *doc, err[256];
        unsigned char *gz;
        size_t gzn, cut;

        (void)state;
        doc = make_doc(30, &expect);
        gz = tu_gzip(doc, strlen(doc), &gzn);
        for (cut = 0; cut < gzn; cut += (cut < 64 ? 1 : 97)) {
                struct got g;
                int rc;

                got_init(&g);
                err[0] = '\0';
                rc = run_reader(NULL, gz, cut, 1000, &g, err, sizeof(err));
                assert_int_equal(rc, JB_EINPUT);
                assert_true(strlen(err) > 10);
                assert_null(strchr(err, '\n'));
                assert_true(g.n < 30);
                buf_clear(&g.all);
        }
        free(gz);
        free(doc);
        buf_clear(&expect);
}

static void test_corrupt_bytes_never_crash(void **state)
{
        struct buf expect;
        char *doc, err[256];
        unsigned char *gz;
        size_t gzn, i;
        int bad = 0;

        (void)state;
        doc = make_doc(30, &expect);
        gz = tu_gzip(doc, strlen(doc), &gzn);
        for (i = 10; i < gzn; i += 13) {
                struct got g;
                unsigned char save = gz[i];

                gz[i] ^= 0x5a;
                got_init(&g);
                if (run_reader(NULL, gz, gzn, 512, &g, err, sizeof(err)) != JB_OK)
                        bad++;
                gz[i] = save;
                buf_clear(&g.all);
        }
        /* CRC-32 and the JSON checks catch every flipped byte */
        assert_int_equal(bad, (gzn - 10 + 12) / 13);
        free(gz);
        free(doc);
        buf_clear(&expect);
}

static void expect_reject(const char *json, int want, const char *needle)
{
        struct got g;
        char err[256] = "";
        int rc;

        got_init(&g);
        rc = run_json(json, &g, err, sizeof(err));
        if (rc != want || !strstr(err, needle))
                fail_msg("input %s: got %d '%s', want %d with '%s'", json, rc, err, want, needle);
        buf_clear(&g.all);
}

static void test_bad_json(void **state)
{
        (void)state;
        expect_reject("", JB_EINPUT, "truncated");
        expect_reject("hello world", JB_EINPUT, "not a JSON object");
        expect_reject("[{\"Records\":[]}]", JB_EINPUT, "not a JSON object");
        expect_reject("{\"foo\":1}", JB_EINPUT, "no \"Records\"");
        expect_reject("{\"Records\":{}}", JB_EINPUT, "not an array");
        expect_reject("{\"Records\":\"x\"}", JB_EINPUT, "not an array");
        expect_reject("{\"Records\":[{}]", JB_EINPUT, "truncated");
        expect_reject("{\"Records\":[{}]}x", JB_EINPUT, "after the end");
        expect_reject("{\"Records\":[{}]}}", JB_EINPUT, "after the end");
        expect_reject("{\"Records\":[{},]}", JB_EINPUT, "not valid JSON");
        expect_reject("{\"Records\":[{\"a\" 1}]}", JB_EINPUT, "expected ':'");
        expect_reject("{\"Records\":[{\"a\":01}]}", JB_EINPUT, "not valid JSON");
        expect_reject("{\"Records\":[{\"a\":tru}]}", JB_EINPUT, "not valid JSON");
        expect_reject("{\"Records\":[{\"a\":\"\\x\"}]}", JB_EINPUT, "invalid escape");
        expect_reject("{\"Records\":[{\"a\":\"\\u12g4\"}]}", JB_EINPUT, "\\u");
        expect_reject("{\"Records\":[{\"a\":\"tab\there\"}]}", JB_EINPUT, "control character");
        expect_reject("{\"Records\":[{\"a\":\"\xc0\x80\"}]}", JB_EINPUT, "UTF-8");
        expect_reject("{\"Records\":[{\"a\":\"\xed\xa0\x80\"}]}", JB_EINPUT, "UTF-8");
        expect_reject("{\"Records\":[{\"a\":\"\xe2\x82\"}]}", JB_EINPUT, "UTF-8");
        expect_reject("{\"Records\":[{\"a\":\"\xff\"}]}", JB_EINPUT, "UTF-8");
        expect_reject("{\"Records\":[{\"a\":[1}]}", JB_EINPUT, "mismatched");
        expect_reject("{\"digestStartTime\":\"x\",\"logFiles\":[]}", JB_EINPUT, "digest");
}

static void test_concatenated_documents(void **state)
{
        struct got g;
        char err[256];

        (void)state;
        got_init(&g);
        assert_int_equal(run_json("{\"Records\":[{\"a\":1}]}\n{\"Records\":[{\"b\":2}]}", &g, err,
                                  sizeof(err)),
                         JB_OK);
        assert_int_equal(g.n, 2);
        buf_clear(&g.all);
}

static void test_records_before_damage_are_delivered(void **state)
{
        struct got g;
        char err[256];

        (void)state;
        got_init(&g);
        assert_int_equal(run_json("{\"Records\":[{\"a\":1},{\"b\":2},{\"c\":\xff}]}", &g, err,
                                  sizeof(err)),
                         JB_EINPUT);
        assert_int_equal(g.n, 2);
        buf_clear(&g.all);
}

static void test_gzip_trailing_garbage_and_not_gzip(void **state)
{
        const char *json = "{\"Records\":[{\"a\":1}]}";
        unsigned char *gz, *bad;
        size_t gzn;
        struct got g;
        char err[256];

        (void)state;
        gz = tu_gzip(json, strlen(json), &gzn);
        bad = malloc(gzn + 16);
        memcpy(bad, gz, gzn);
        memcpy(bad + gzn, "GARBAGE-GARBAGE!", 16);
        got_init(&g);
        assert_int_equal(run_reader(NULL, bad, gzn + 16, 4096, &g, err, sizeof(err)), JB_EINPUT);
        assert_non_null(strstr(err, "after the end of the gzip stream"));
        buf_clear(&g.all);
        got_init(&g);
        assert_int_equal(run_reader(NULL, (const unsigned char *)json, strlen(json), 4096, &g, err,
                                    sizeof(err)),
                         JB_EINPUT);
        assert_non_null(strstr(err, "not a gzip file"));
        buf_clear(&g.all);
        free(bad);
        free(gz);
}

static void test_zip_bomb_limit(void **state)
{
        size_t n = 64U << 20, gzn;
        char *doc = malloc(n);
        unsigned char *gz;
        struct ct_limits lim = {8U << 20, 0};
        struct got g;
        char err[256];

        (void)state;
        memset(doc, ' ', n);
        memcpy(doc, "{\"Records\":[", 12);
        memcpy(doc + n - 2, "]}", 2);
        gz = tu_gzip(doc, n, &gzn);
        assert_true(gzn < n / 500);
        got_init(&g);
        assert_int_equal(run_reader(&lim, gz, gzn, gzn, &g, err, sizeof(err)), JB_ELIMIT);
        assert_non_null(strstr(err, "limit"));
        /* the default limit (>= 2 GiB) reads the same file */
        got_init(&g);
        assert_int_equal(run_reader(NULL, gz, gzn, gzn, &g, err, sizeof(err)), JB_OK);
        assert_true(CT_MAX_DECOMPRESSED_DEFAULT >= (2ULL << 30));
        buf_clear(&g.all);
        free(gz);
        free(doc);
}

static void test_record_limit(void **state)
{
        struct buf doc;
        struct ct_limits lim = {0, 1000};
        unsigned char *gz;
        size_t gzn, i;
        struct got g;
        char err[256];

        (void)state;
        buf_init(&doc, 1U << 30);
        assert_int_equal(buf_puts(&doc, "{\"Records\":[{\"a\":1},{\"pad\":\""), 0);
        for (i = 0; i < 3U * CT_INFLATE_CHUNK; i++)
                assert_int_equal(buf_append(&doc, "x", 1), 0);
        assert_int_equal(buf_puts(&doc, "\"}]}"), 0);
        gz = tu_gzip(doc.p, doc.len, &gzn);
        got_init(&g);
        assert_int_equal(run_reader(&lim, gz, gzn, 4096, &g, err, sizeof(err)), JB_ELIMIT);
        assert_int_equal(g.n, 1);
        assert_non_null(strstr(err, "record 1"));
        buf_clear(&g.all);
        /* the default limit accepts it */
        got_init(&g);
        assert_int_equal(run_reader(NULL, gz, gzn, 4096, &g, err, sizeof(err)), JB_OK);
        assert_int_equal(g.n, 2);
        buf_clear(&g.all);
        free(gz);
        buf_clear(&doc);
}

static void test_callback_stops_reader(void **state)
{
        struct buf expect;
        char *doc, err[256];
        unsigned char *gz;
        size_t gzn;
        struct got g;
        struct ct_reader *rdr;

        (void)state;
        doc = make_doc(50, &expect);
        gz = tu_gzip(doc, strlen(doc), &gzn);
        got_init(&g);
        g.stop_at = 10;
        assert_int_equal(run_reader(NULL, gz, gzn, 1024, &g, err, sizeof(err)), JB_EFATAL);
        assert_int_equal(g.n, 11);
        buf_clear(&g.all);
        /* reset makes the reader usable again */
        got_init(&g);
        rdr = new_reader(NULL, &g);
        if (threaded) {
                /* the feed's bytes are taken; the fault comes back by finish at the latest */
                int rc = ct_reader_feed(rdr, "garbage", 7, err, sizeof(err));

                if (!rc)
                        rc = ct_reader_finish(rdr, err, sizeof(err));
                assert_int_equal(rc, JB_EINPUT);
        } else {
                assert_int_equal(ct_reader_feed(rdr, "garbage", 7, err, sizeof(err)), JB_EINPUT);
        }
        assert_non_null(strstr(err, "not a gzip file"));
        assert_one_thread();
        ct_reader_reset(rdr);
        assert_int_equal(ct_reader_feed(rdr, gz, gzn, err, sizeof(err)), JB_OK);
        assert_int_equal(ct_reader_finish(rdr, err, sizeof(err)), JB_OK);
        assert_one_thread();
        assert_int_equal(g.n, 50);
        assert_int_equal(ct_reader_bytes_out(rdr), strlen(doc));
        assert_int_equal(ct_reader_records(rdr), 50);
        ct_reader_free(rdr);
        buf_clear(&g.all);
        free(gz);
        free(doc);
        buf_clear(&expect);
}

/* Append to out a gzip member of p[0..n) written by hand: a header with every optional field
 * (FEXTRA, FNAME, FCOMMENT, FHCRC) when full, raw deflate, then CRC-32 and length. */
static void gz_member(struct buf *out, const void *p, size_t n, int full)
{
        static const unsigned char extra[] = {6, 0, 'J', 'B', 2, 0, 'h', 'i'};
        size_t start = out->len, cap = n + n / 100 + 64;
        unsigned char hdr[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
        unsigned char tail[8], *def = malloc(cap);
        uLong crc = crc32(0L, Z_NULL, 0), hcrc;
        z_stream zs;

        assert_non_null(def);
        if (full)
                hdr[3] = 0x02 | 0x04 | 0x08 | 0x10; /* FHCRC FEXTRA FNAME FCOMMENT */
        assert_int_equal(buf_append(out, hdr, 10), 0);
        if (full) {
                assert_int_equal(buf_append(out, extra, sizeof(extra)), 0);
                assert_int_equal(buf_append(out, "cloudtrail.json", 16), 0);
                assert_int_equal(buf_append(out, "a comment", 10), 0);
                hcrc = crc32(0L, (const Bytef *)out->p + start, (uInt)(out->len - start));
                tail[0] = (unsigned char)(hcrc & 0xff);
                tail[1] = (unsigned char)((hcrc >> 8) & 0xff);
                assert_int_equal(buf_append(out, tail, 2), 0);
        }
        memset(&zs, 0, sizeof(zs));
        assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
        zs.next_in = (Bytef *)(uintptr_t)p;
        zs.avail_in = (uInt)n;
        zs.next_out = def;
        zs.avail_out = (uInt)cap;
        assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
        assert_int_equal(buf_append(out, def, zs.total_out), 0);
        deflateEnd(&zs);
        free(def);
        crc = crc32(crc, (const Bytef *)p, (uInt)n);
        tail[0] = (unsigned char)(crc & 0xff);
        tail[1] = (unsigned char)((crc >> 8) & 0xff);
        tail[2] = (unsigned char)((crc >> 16) & 0xff);
        tail[3] = (unsigned char)((crc >> 24) & 0xff);
        tail[4] = (unsigned char)(n & 0xff);
        tail[5] = (unsigned char)((n >> 8) & 0xff);
        tail[6] = (unsigned char)((n >> 16) & 0xff);
        tail[7] = (unsigned char)((n >> 24) & 0xff);
        assert_int_equal(buf_append(out, tail, 8), 0);
}

/* Read f whole and one byte at a time: both must give rc, the whole read the reason needle
 * (NULL: any) and nrec records. */
static void expect_gz(const char *what, const struct buf *f, int rc, const char *needle, size_t nrec)
{
        static const size_t steps[] = {SIZE_MAX, 1, 5};
        size_t i;

        for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
                char err[256] = "";
                struct got g;
                int got;

                got_init(&g);
                got = run_reader(NULL, (const unsigned char *)f->p, f->len,
                                 steps[i] == SIZE_MAX ? f->len + 1 : steps[i], &g, err, sizeof(err));
                if (got != rc || (i == 0 && needle && !strstr(err, needle)) || (!rc && g.n != nrec))
                        fail_msg(
                                "%s, feeds of %zu: got %d '%s' (%zu records), want %d with '%s' (%zu records)",
                                what, steps[i], got, err, g.n, rc, needle ? needle : "", nrec);
                if (rc)
                        assert_null(strchr(err, '\n'));
                buf_clear(&g.all);
        }
}

/* The faults of the gzip layer, each with the reason the reader gives: the same on the ISA-L
 * and the zlib back end (the Makefile's INFLATE; CI runs this test on both). */
static void test_gzip_faults_same_on_every_back_end(void **state)
{
        const char *json = "{\"Records\":[{\"eventName\":\"PutObject\",\"n\":1},{\"n\":2}]}";
        size_t n = strlen(json), one;
        struct buf f;

        (void)state;
        buf_init(&f, 1U << 20);
        /* sound: optional header fields, an empty member, a member boundary inside a record */
        gz_member(&f, json, n, 1);
        expect_gz("full header", &f, JB_OK, NULL, 2);
        one = f.len;
        gz_member(&f, "", 0, 0);
        expect_gz("then an empty member", &f, JB_OK, NULL, 2);
        f.len = 0;
        gz_member(&f, json, 20, 1);
        gz_member(&f, json + 20, n - 20, 0);
        expect_gz("a record across two members", &f, JB_OK, NULL, 2);

        /* header faults */
        f.len = 0;
        gz_member(&f, json, n, 0);
        f.p[2] = 7;
        expect_gz("compression method 7", &f, JB_EINPUT, "not a gzip file", 0);
        f.p[2] = 8;
        f.p[3] = 0x20;
        expect_gz("a reserved flag", &f, JB_EINPUT, "not a gzip file", 0);
        f.p[3] = 0;
        f.p[1] = 0x8c;
        expect_gz("bad magic", &f, JB_EINPUT, "not a gzip file", 0);
        f.len = 0;
        gz_member(&f, json, n, 1);
        f.p[10 + 8 + 16 + 10] ^= 1; /* the header CRC */
        expect_gz("header CRC", &f, JB_EINPUT, "gzip", 0);

        /* trailer faults: the CRC-32, then the length */
        f.len = 0;
        gz_member(&f, json, n, 0);
        f.p[f.len - 8] ^= 0x40;
        expect_gz("data CRC", &f, JB_EINPUT, "corrupt gzip data", 0);
        f.p[f.len - 8] ^= 0x40;
        f.p[f.len - 4] ^= 0x01;
        expect_gz("length", &f, JB_EINPUT, "corrupt gzip data", 0);
        f.p[f.len - 4] ^= 0x01;

        /* truncation: in the header, in the data, in the trailer */
        one = f.len;
        f.len = 6;
        expect_gz("cut in the header", &f, JB_EINPUT, "truncated", 0);
        f.len = one / 2;
        expect_gz("cut in the data", &f, JB_EINPUT, "truncated", 0);
        f.len = one - 3;
        expect_gz("cut in the trailer", &f, JB_EINPUT, "truncated", 0);
        f.len = one;

        /* what follows a member: one byte could start a member (truncated); two that do not
         * are trailing data; a second header alone is a truncated member */
        assert_int_equal(buf_append(&f, "\x1f", 1), 0);
        expect_gz("a lone 0x1f after a member", &f, JB_EINPUT, "truncated", 0);
        f.len = one;
        assert_int_equal(buf_append(&f, "\x1f\x8c", 2), 0);
        expect_gz("two bytes after a member", &f, JB_EINPUT, "after the end of the gzip stream", 0);
        f.len = one;
        assert_int_equal(buf_append(&f, "\0\0\0\0", 4), 0);
        expect_gz("zero padding after a member", &f, JB_EINPUT, "after the end of the gzip stream", 0);
        f.len = one;
        assert_int_equal(buf_append(&f, "\x1f\x8b\x08\0\0\0\0\0\0\x03", 10), 0);
        expect_gz("a second header alone", &f, JB_EINPUT, "truncated", 0);
        buf_clear(&f);
}

/* A file of n records with pad bytes of pseudo-random hex each (about half as big in gzip). */
static char *make_big_doc(size_t n, size_t pad, struct buf *expect)
{
        struct buf doc;
        uint32_t x = 12345;
        size_t i, j;

        buf_init(&doc, 1U << 30);
        buf_init(expect, 1U << 30);
        assert_int_equal(buf_puts(&doc, "{\"Records\":["), 0);
        for (i = 0; i < n; i++) {
                size_t start;

                if (i)
                        assert_int_equal(buf_puts(&doc, ","), 0);
                start = doc.len;
                assert_int_equal(buf_printf(&doc, "{\"eventName\":\"PutObject\",\"n\":%zu,\"pad\":\"",
                                            i),
                                 0);
                for (j = 0; j < pad; j++) {
                        x = x * 1103515245U + 12345U;
                        assert_int_equal(buf_append(&doc, &"0123456789abcdef"[(x >> 16) & 15], 1), 0);
                }
                assert_int_equal(buf_puts(&doc, "\"}"), 0);
                assert_int_equal(buf_append(expect, doc.p + start, doc.len - start), 0);
                assert_int_equal(buf_append(expect, "\n", 1), 0);
        }
        assert_int_equal(buf_puts(&doc, "]}"), 0);
        return buf_take(&doc);
}

/* Feed gz in steps with hashing on; the codes of the first fault and of finish. */
static void hash_read(const unsigned char *gz, size_t n, int *feed_rc, int *finish_rc,
                      uint8_t sha[SHA256_LEN], int *have)
{
        struct got g;
        struct ct_reader *rdr;
        char err[256];
        size_t off, step = 65536;

        got_init(&g);
        rdr = new_reader(NULL, &g);
        ct_reader_set_hash(rdr, 1);
        *feed_rc = JB_OK;
        for (off = 0; off < n; off += step) {
                int rc =
                        ct_reader_feed(rdr, gz + off, n - off < step ? n - off : step, err, sizeof(err));

                if (rc && !*feed_rc)
                        *feed_rc = rc; /* and feeding goes on, as the parser does, for the hash */
        }
        *finish_rc = ct_reader_finish(rdr, err, sizeof(err));
        *have = ct_reader_sha256(rdr, sha) == 0;
        ct_reader_reset(rdr);
        assert_int_equal(ct_reader_sha256(rdr, sha + 0), -1); /* gone with the reset */
        ct_reader_free(rdr);
        buf_clear(&g.all);
        assert_one_thread();
}

/* With hashing on, the SHA-256 of the decompressed content: of a file read to the end, and of
 * one whose JSON fails early (the rest is inflated for the hash only); none for a truncated
 * gzip stream or with hashing off. */
static void test_sha256_of_content(void **state)
{
        struct buf expect;
        char *doc = make_big_doc(3000, 300, &expect), *bad;
        size_t dlen = strlen(doc), gzn, i;
        unsigned char *gz;
        uint8_t want[SHA256_LEN], got[SHA256_LEN];
        int frc, rc, have;

        (void)state;
        buf_clear(&expect);
        sha256(doc, dlen, want);
        gz = tu_gzip(doc, dlen, &gzn);
        assert_non_null(gz);
        hash_read(gz, gzn, &frc, &rc, got, &have);
        assert_int_equal(frc, JB_OK);
        assert_int_equal(rc, JB_OK);
        assert_true(have);
        assert_memory_equal(got, want, SHA256_LEN);
        hash_read(gz, gzn / 2, &frc, &rc, got, &have); /* truncated: no hash */
        assert_int_equal(rc, JB_EINPUT);
        assert_false(have);
        free(gz);

        /* bad JSON after a few records: the first fault is the answer, the hash covers all */
        bad = strdup(doc);
        assert_non_null(bad);
        for (i = 2000; i < dlen && strncmp(bad + i, "},{", 3); i++)
                ;
        assert_true(i < dlen);
        bad[i + 1] = 'x';
        sha256(bad, dlen, want);
        gz = tu_gzip(bad, dlen, &gzn);
        assert_non_null(gz);
        hash_read(gz, gzn, &frc, &rc, got, &have);
        assert_int_equal(frc, JB_EINPUT);
        assert_int_equal(rc, JB_EINPUT);
        assert_true(have);
        assert_memory_equal(got, want, SHA256_LEN);
        free(gz);
        free(bad);

        /* hashing off (the default): nothing */
        {
                struct got g;
                struct ct_reader *rdr;
                char err[256];

                got_init(&g);
                rdr = new_reader(NULL, &g);
                gz = tu_gzip(doc, dlen, &gzn);
                assert_non_null(gz);
                assert_int_equal(ct_reader_feed(rdr, gz, gzn, err, sizeof(err)), JB_OK);
                assert_int_equal(ct_reader_finish(rdr, err, sizeof(err)), JB_OK);
                assert_int_equal(ct_reader_sha256(rdr, got), -1);
                ct_reader_free(rdr);
                buf_clear(&g.all);
                free(gz);
        }
        free(doc);
}

/* The default threshold: a small file never starts a thread, a big one moves to two once
 * CT_THREAD_MIN_DEFAULT compressed bytes are in; a stop, a reset and a free mid-file each
 * end the thread. */
static void test_thread_threshold(void **state)
{
        struct buf expect;
        char *doc, err[256];
        unsigned char *gz;
        size_t gzn, off, step = 64U << 10;
        struct got g;
        struct ct_reader *rdr;
        int saw_two = 0, rc = JB_OK;

        (void)state;
        /* small: one thread all along */
        doc = make_doc(30, &expect);
        gz = tu_gzip(doc, strlen(doc), &gzn);
        assert_true(gzn < CT_THREAD_MIN_DEFAULT);
        got_init(&g);
        rdr = ct_reader_new(NULL, collect, &g);
        assert_non_null(rdr);
        for (off = 0; off < gzn; off += 512) {
                assert_int_equal(ct_reader_feed(rdr, gz + off, gzn - off < 512 ? gzn - off : 512, err,
                                                sizeof(err)),
                                 JB_OK);
                assert_one_thread();
        }
        assert_int_equal(ct_reader_finish(rdr, err, sizeof(err)), JB_OK);
        assert_int_equal(g.n, 30);
        buf_clear(&g.all);
        free(gz);
        free(doc);
        buf_clear(&expect);

        /* big: the thread runs between feeds once past the threshold, and is gone at the end */
        doc = make_big_doc(3000, 1000, &expect);
        gz = tu_gzip(doc, strlen(doc), &gzn);
        assert_true(gzn > 4 * (size_t)CT_THREAD_MIN_DEFAULT);
        got_init(&g);
        ct_reader_reset(rdr);
        for (off = 0; off < gzn && !rc; off += step) {
                rc = ct_reader_feed(rdr, gz + off, gzn - off < step ? gzn - off : step, err,
                                    sizeof(err));
                if (off + step >= CT_THREAD_MIN_DEFAULT + step && threads_now() == base_threads + 1)
                        saw_two = 1;
                if (off + step < CT_THREAD_MIN_DEFAULT)
                        assert_one_thread();
        }
        assert_int_equal(rc, JB_OK);
        assert_int_equal(ct_reader_finish(rdr, err, sizeof(err)), JB_OK);
        assert_one_thread();
        assert_true(saw_two || threads_now() == -1);
        assert_int_equal(g.n, 3000);
        assert_int_equal(g.all.len, expect.len);
        assert_memory_equal(g.all.p, expect.p, expect.len);
        assert_int_equal(ct_reader_bytes_out(rdr), strlen(doc));
        buf_clear(&g.all);

        /* the callback stops deep in the file, with the ring full */
        got_init(&g);
        g.stop_at = 2000;
        ct_reader_reset(rdr);
        rc = JB_OK;
        for (off = 0; off < gzn && !rc; off += step)
                rc = ct_reader_feed(rdr, gz + off, gzn - off < step ? gzn - off : step, err,
                                    sizeof(err));
        if (!rc)
                rc = ct_reader_finish(rdr, err, sizeof(err));
        assert_int_equal(rc, JB_EFATAL);
        assert_int_equal(g.n, 2001);
        assert_one_thread();
        assert_int_equal(ct_reader_feed(rdr, gz, 1, err, sizeof(err)), JB_EFATAL);
        buf_clear(&g.all);

        /* reset, then free, in the middle of a threaded file */
        got_init(&g);
        ct_reader_reset(rdr);
        for (off = 0; off < 6 * step; off += step)
                assert_int_equal(ct_reader_feed(rdr, gz + off, step, err, sizeof(err)), JB_OK);
        ct_reader_reset(rdr);
        assert_one_thread();
        buf_clear(&g.all);
        got_init(&g);
        for (off = 0; off < 6 * step; off += step)
                assert_int_equal(ct_reader_feed(rdr, gz + off, step, err, sizeof(err)), JB_OK);
        ct_reader_free(rdr);
        assert_one_thread();
        buf_clear(&g.all);
        free(gz);
        free(doc);
        buf_clear(&expect);
}

/* A big file on both paths, in pieces of several sizes: the same records, the same counts. */
static void test_threaded_big_file(void **state)
{
        static const size_t steps[] = {1000, 65536, 1U << 20, SIZE_MAX};
        struct buf expect;
        char *doc, err[256];
        unsigned char *gz;
        size_t gzn, i;

        (void)state;
        doc = make_big_doc(1500, 1500, &expect);
        gz = tu_gzip(doc, strlen(doc), &gzn);
        for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
                struct got g;

                got_init(&g);
                assert_int_equal(run_reader(NULL, gz, gzn, steps[i] == SIZE_MAX ? gzn : steps[i], &g,
                                            err, sizeof(err)),
                                 JB_OK);
                assert_int_equal(g.n, 1500);
                assert_int_equal(g.all.len, expect.len);
                assert_memory_equal(g.all.p, expect.p, expect.len);
                buf_clear(&g.all);
        }
        /* cut in the middle, and a byte flipped late in the file */
        {
                struct got g;

                got_init(&g);
                assert_int_equal(run_reader(NULL, gz, gzn / 2, 4096, &g, err, sizeof(err)), JB_EINPUT);
                assert_non_null(strstr(err, "truncated"));
                buf_clear(&g.all);
                gz[gzn * 3 / 4] ^= 0x21;
                got_init(&g);
                assert_int_equal(run_reader(NULL, gz, gzn, 4096, &g, err, sizeof(err)), JB_EINPUT);
                assert_true(g.n < 1500);
                buf_clear(&g.all);
        }
        free(gz);
        free(doc);
        buf_clear(&expect);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_split_across_chunks),
                cmocka_unit_test(test_one_byte_feeds),
                cmocka_unit_test(test_escapes_and_brackets_in_strings),
                cmocka_unit_test(test_whitespace_variants),
                cmocka_unit_test(test_empty_records_and_other_keys),
                cmocka_unit_test(test_hint_spans),
                cmocka_unit_test(test_multi_member_gzip),
                cmocka_unit_test(test_truncated_at_every_length),
                cmocka_unit_test(test_corrupt_bytes_never_crash),
                cmocka_unit_test(test_bad_json),
                cmocka_unit_test(test_concatenated_documents),
                cmocka_unit_test(test_records_before_damage_are_delivered),
                cmocka_unit_test(test_gzip_trailing_garbage_and_not_gzip),
                cmocka_unit_test(test_zip_bomb_limit),
                cmocka_unit_test(test_record_limit),
                cmocka_unit_test(test_callback_stops_reader),
                cmocka_unit_test(test_long_strings_outside_records),
                cmocka_unit_test(test_bad_string_escapes),
                cmocka_unit_test(test_gzip_faults_same_on_every_back_end),
                cmocka_unit_test(test_threaded_big_file),
                cmocka_unit_test(test_sha256_of_content),
        };
        const struct CMUnitTest once[] = {
                cmocka_unit_test(test_thread_threshold),
        };
        int failed;

        /* a sanitizer's own thread (TSan's starts with the first thread) counts as base */
        {
                pthread_t t;

                if (!pthread_create(&t, NULL, noop_thread, NULL))
                        pthread_join(t, NULL);
        }
        base_threads = threads_now();
        threaded = 0;
        failed = cmocka_run_group_tests_name("one thread", tests, NULL, NULL);
        threaded = 1;
        failed += cmocka_run_group_tests_name("inflate thread", tests, NULL, NULL);
        failed += cmocka_run_group_tests_name("thread threshold", once, NULL, NULL);
        return failed;
}
