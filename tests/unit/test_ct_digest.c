/*
 * test_ct_digest.c - ct_digest.c and ct_reconcile.c: digest paths (account, organization,
 * prefixed, backfill, refused shapes, the digest folder of a log folder); reading the
 * committed fixtures of tests/data/digest/ (made by make.py there) whole, byte by byte and as
 * concatenated members; the fixtures' hashes as CloudTrail means them (a listed file's
 * hashValue is the SHA-256 of its uncompressed content, previousDigestHashValue that of the
 * previous digest's uncompressed JSON; the gzip bytes' hash is neither); every refused input
 * (gzip, JSON, fields, hashes, algorithm, times, the ceiling); the reconcile verdicts; the
 * chain tracker's gaps (any order, grace, horizon, backfill) and coverage.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "ct_digest.h"
#include "ct_reconcile.h"
#include "tu.h"

#define T_20261129 1795910400LL /* 2026-11-29T00:00:00Z */
#define H 3600

#define ACCT "111122223333"
#define DFOLDER "AWSLogs/" ACCT "/CloudTrail-Digest/us-east-1/2026/11/29/"
#define DNAME(stamp) ACCT "_CloudTrail-Digest_us-east-1_main-trail_us-east-1_" stamp ".json.gz"

static void assert_part(struct ct_part p, const char *want)
{
        assert_int_equal(p.len, strlen(want));
        if (p.len)
                assert_memory_equal(p.p, want, p.len);
}

static char *fixture(const char *name, size_t *len)
{
        const char *top = getenv("JIBE_TOP");
        char path[1024];
        char *p;

        snprintf(path, sizeof(path), "%s/tests/data/digest/%s", top && *top ? top : ".", name);
        p = tu_slurp(path, len);
        if (!p)
                fail_msg("cannot read %s (run from the repository root or set JIBE_TOP)", path);
        return p;
}

/* gunzip n bytes (one or more members) into a malloc'd buffer; *outlen its size. */
static unsigned char *gunzip(const void *gz, size_t n, size_t *outlen)
{
        size_t cap = 4096, len = 0;
        unsigned char *out = malloc(cap);
        z_stream zs;
        int rc;

        assert_non_null(out);
        memset(&zs, 0, sizeof(zs));
        assert_int_equal(inflateInit2(&zs, 16 + MAX_WBITS), Z_OK);
        zs.next_in = (Bytef *)(uintptr_t)gz;
        zs.avail_in = (uInt)n;
        for (;;) {
                if (len == cap) {
                        cap *= 2;
                        out = realloc(out, cap);
                        assert_non_null(out);
                }
                zs.next_out = out + len;
                zs.avail_out = (uInt)(cap - len);
                rc = inflate(&zs, Z_NO_FLUSH);
                len = cap - zs.avail_out;
                if (rc == Z_STREAM_END) {
                        if (!zs.avail_in)
                                break;
                        assert_int_equal(inflateReset(&zs), Z_OK);
                        continue;
                }
                assert_int_equal(rc, Z_OK);
        }
        inflateEnd(&zs);
        *outlen = len;
        return out;
}

/* ---- paths ---- */

static void test_paths(void **state)
{
        struct ct_digest_path dp;
        const char *p;

        (void)state;
        p = "S3 Prod/trail-bucket/AWSLogs/" ACCT
            "/CloudTrail-Digest/us-east-1/2026/11/29/" DNAME("20261129T010000Z");
        assert_int_equal(ct_digest_path_parse(p, &dp), 0);
        assert_part(dp.root, "S3 Prod/trail-bucket");
        assert_part(dp.org, "");
        assert_part(dp.account, ACCT);
        assert_part(dp.region, "us-east-1");
        assert_part(dp.folder, "S3 Prod/trail-bucket/AWSLogs/" ACCT "/CloudTrail-Digest/us-east-1");
        assert_int_equal(dp.day, T_20261129);
        assert_part(dp.file, DNAME("20261129T010000Z"));
        assert_part(dp.trail, "main-trail");
        assert_part(dp.home, "us-east-1");
        assert_int_equal(dp.end, T_20261129 + H);
        assert_false(dp.backfill);
        assert_true(ct_digest_is_path(p));
        assert_false(ct_digest_is_backfill(p));

        /* organization trail, a trail name with underscores, another home region, backfill */
        p = "AWSLogs/o-exampleorg1/" ACCT "/CloudTrail-Digest/eu-west-1/2026/11/29/" ACCT
            "_CloudTrail-Digest_eu-west-1_org_trail_us-east-1_20261129T235959Z_backfill.json.gz";
        assert_int_equal(ct_digest_path_parse(p, &dp), 0);
        assert_part(dp.root, "");
        assert_part(dp.org, "o-exampleorg1");
        assert_part(dp.region, "eu-west-1");
        assert_part(dp.trail, "org_trail");
        assert_part(dp.home, "us-east-1");
        assert_int_equal(dp.end, T_20261129 + 24 * H - 1);
        assert_true(dp.backfill);
        assert_true(ct_digest_is_backfill(p));

        /* refused */
        assert_false(ct_digest_is_path("AWSLogs/" ACCT "/CloudTrail/us-east-1/2026/11/29/" ACCT
                                       "_CloudTrail_us-east-1_20261129T0005Z_A000000000000001.json.gz"));
        assert_false(ct_digest_is_path(
                "AWSLogs/" ACCT "/CloudTrail-Insight/us-east-1/2026/11/29/" DNAME("20261129T010000Z")));
        assert_false(ct_digest_is_path(DFOLDER "999999999999_CloudTrail-Digest_us-east-1_t_us-east-1_"
                                               "20261129T010000Z.json.gz")); /* another account */
        assert_false(ct_digest_is_path(DFOLDER DNAME("20261129T250000Z")));  /* hour 25 */
        assert_false(ct_digest_is_path(DFOLDER DNAME("20261131T010000Z")));  /* 31 Nov */
        assert_false(ct_digest_is_path(DFOLDER ACCT "_CloudTrail-Digest_us-east-1_us-east-1_"
                                                    "20261129T010000Z.json.gz")); /* no trail */
        assert_false(ct_digest_is_path(DFOLDER ACCT "_CloudTrail-Digest_us-east-1_main-trail_us-east-1_"
                                                    "20261129T010000Z.json"));
        assert_false(ct_digest_is_path(
                "AWSLogs/" ACCT "/CloudTrail-Digest/us-east-1/2026/11/" DNAME("20261129T010000Z")));
        assert_false(ct_digest_is_path(DFOLDER));
        assert_false(ct_digest_is_path(DFOLDER "sub/" DNAME("20261129T010000Z")));
        assert_false(ct_digest_is_path(
                "AWSLogs/12345/CloudTrail-Digest/us-east-1/2026/11/29/" DNAME("20261129T010000Z")));
        assert_false(ct_digest_is_path(""));
        assert_int_equal(ct_digest_path_parse("nothing", &dp), -1);
        assert_int_equal(dp.day, -1);
        assert_int_equal(dp.end, -1);
}

static void check_folder(const char *in, const char *want)
{
        char *out = ct_digest_folder_of(in);

        if (!want) {
                assert_null(out);
                return;
        }
        assert_non_null(out);
        assert_string_equal(out, want);
        free(out);
}

static void test_folder_of(void **state)
{
        (void)state;
        check_folder("S3/b/AWSLogs/" ACCT "/CloudTrail/us-east-1/2026/11/29",
                     "S3/b/AWSLogs/" ACCT "/CloudTrail-Digest/us-east-1/2026/11/29");
        check_folder("AWSLogs/" ACCT "/CloudTrail/us-east-1/2026/11/29/",
                     "AWSLogs/" ACCT "/CloudTrail-Digest/us-east-1/2026/11/29/");
        check_folder("S3/b/trails/AWSLogs/o-abc/" ACCT "/CloudTrail/ap-south-1",
                     "S3/b/trails/AWSLogs/o-abc/" ACCT "/CloudTrail-Digest/ap-south-1");
        check_folder("S3/b/AWSLogs/" ACCT "/CloudTrail-Digest/us-east-1/2026/11/29", NULL);
        check_folder("S3/b/AWSLogs/" ACCT, NULL);
        check_folder("S3/b/somewhere/else", NULL);
        check_folder("AWSLogs/" ACCT "/CloudTrail/us-east-1/2026/11/29/" ACCT
                     "_CloudTrail_us-east-1_20261129T0005Z_A000000000000001.json.gz",
                     NULL);
}

/* ---- reading ---- */

static void check_first(const struct ct_digest *d)
{
        uint8_t want[SHA256_LEN];
        const char *body = "{\"Records\":[{\"eventID\":\"A000000000000002\"}]}";

        assert_int_equal(d->start, T_20261129);
        assert_int_equal(d->end, T_20261129 + H);
        assert_string_equal(d->bucket, "trail-bucket");
        assert_string_equal(d->object, DFOLDER DNAME("20261129T010000Z"));
        assert_null(d->prev_bucket);
        assert_null(d->prev_object);
        assert_false(d->has_prev_hash);
        assert_int_equal(d->nfiles, 3);
        assert_string_equal(d->files[1].bucket, "trail-bucket");
        assert_string_equal(d->files[1].key,
                            "AWSLogs/" ACCT "/CloudTrail/us-east-1/2026/11/29/" ACCT
                            "_CloudTrail_us-east-1_20261129T0010Z_A000000000000002.json.gz");
        sha256(body, strlen(body), want);
        assert_memory_equal(d->files[1].sha256, want, SHA256_LEN);
}

static void test_read_fixtures(void **state)
{
        struct ct_digest d;
        struct ct_digest_reader *r;
        char err[256], *gz, *two;
        size_t n, i;
        uint8_t want[SHA256_LEN];

        (void)state;
        gz = fixture("first.json.gz", &n);
        assert_int_equal(ct_digest_read(gz, n, 0, &d, err, sizeof(err)), JB_OK);
        check_first(&d);
        ct_digest_clear(&d);
        ct_digest_clear(&d); /* safe twice */

        /* byte by byte, on one reader, twice (reset between) */
        r = ct_digest_reader_new(0);
        assert_non_null(r);
        for (int round = 0; round < 2; round++) {
                ct_digest_reader_reset(r);
                for (i = 0; i < n; i++)
                        assert_int_equal(ct_digest_reader_feed(r, gz + i, 1, err, sizeof(err)), JB_OK);
                assert_int_equal(ct_digest_reader_finish(r, &d, err, sizeof(err)), JB_OK);
                check_first(&d);
                ct_digest_clear(&d);
        }
        ct_digest_reader_free(r);

        /* two gzip members make one JSON text: split the JSON, gzip each half */
        {
                char *json;
                size_t jn, an, bn;
                unsigned char *a, *b;

                json = strdup(
                        "{\"digestStartTime\":\"2026-11-29T00:00:00Z\",\"digestEndTime\":"
                        "\"2026-11-29T01:00:00Z\",\"digestS3Bucket\":\"b\",\"digestS3Object\":\"o\","
                        "\"previousDigestS3Object\":null,\"logFiles\":[]}");
                assert_non_null(json);
                jn = strlen(json);
                a = tu_gzip(json, jn / 2, &an);
                b = tu_gzip(json + jn / 2, jn - jn / 2, &bn);
                assert_non_null(a);
                assert_non_null(b);
                two = malloc(an + bn);
                assert_non_null(two);
                memcpy(two, a, an);
                memcpy(two + an, b, bn);
                assert_int_equal(ct_digest_read(two, an + bn, 0, &d, err, sizeof(err)), JB_OK);
                assert_int_equal(d.nfiles, 0);
                assert_string_equal(d.object, "o");
                ct_digest_clear(&d);
                free(a);
                free(b);
                free(two);
                free(json);
        }
        free(gz);

        gz = fixture("second.json.gz", &n);
        assert_int_equal(ct_digest_read(gz, n, 0, &d, err, sizeof(err)), JB_OK);
        assert_string_equal(d.prev_bucket, "trail-bucket");
        assert_string_equal(d.prev_object, DFOLDER DNAME("20261129T010000Z"));
        assert_true(d.has_prev_hash);
        /* the SHA-256 of the previous digest's uncompressed JSON, not of its gzip bytes */
        {
                size_t fn, jn;
                char *fgz = fixture("first.json.gz", &fn);
                unsigned char *fjson = gunzip(fgz, fn, &jn);

                sha256(fjson, jn, want);
                assert_memory_equal(d.prev_sha256, want, SHA256_LEN);
                sha256(fgz, fn, want);
                assert_memory_not_equal(d.prev_sha256, want, SHA256_LEN);
                free(fjson);
                free(fgz);
        }
        assert_int_equal(d.nfiles, 2);
        ct_digest_clear(&d);
        free(gz);

        gz = fixture("empty_hour.json.gz", &n);
        assert_int_equal(ct_digest_read(gz, n, 0, &d, err, sizeof(err)), JB_OK);
        assert_int_equal(d.nfiles, 0);
        assert_null(d.files);
        ct_digest_clear(&d);
        free(gz);

        gz = fixture("org.json.gz", &n);
        assert_int_equal(ct_digest_read(gz, n, 0, &d, err, sizeof(err)), JB_OK);
        assert_true(ct_digest_is_path(d.object));
        ct_digest_clear(&d);
        free(gz);
}

/* Every file each fixture digest lists is in tests/data/digest/logs/ (gzip, as CloudTrail
 * stores it); its hashValue is the SHA-256 of what gunzip gives, which the gzip bytes' own
 * hash is not. */
static void test_fixture_hashes(void **state)
{
        static const char *const names[] = {"first.json.gz", "second.json.gz", "empty_hour.json.gz",
                                            "backfill.json.gz", "org.json.gz"};
        struct ct_digest d;
        uint8_t got[SHA256_LEN];
        char err[256], logname[300], *gz, *lgz;
        unsigned char *body;
        size_t i, j, n, ln, bn, nlisted = 0;
        const char *base;

        (void)state;
        for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                gz = fixture(names[i], &n);
                assert_int_equal(ct_digest_read(gz, n, 0, &d, err, sizeof(err)), JB_OK);
                for (j = 0; j < d.nfiles; j++) {
                        base = strrchr(d.files[j].key, '/');
                        snprintf(logname, sizeof(logname), "logs/%s", base ? base + 1 : d.files[j].key);
                        lgz = fixture(logname, &ln);
                        body = gunzip(lgz, ln, &bn);
                        sha256(body, bn, got);
                        if (memcmp(got, d.files[j].sha256, SHA256_LEN))
                                fail_msg("%s lists %s with a hash that is not the SHA-256 of its "
                                         "uncompressed content",
                                         names[i], logname);
                        sha256(lgz, ln, got);
                        assert_memory_not_equal(got, d.files[j].sha256, SHA256_LEN);
                        free(body);
                        free(lgz);
                        nlisted++;
                }
                ct_digest_clear(&d);
                free(gz);
        }
        assert_int_equal(nlisted, 7);
}

/* The JSON of a good digest with one listed file; fmt's %s pieces replace fields. */
#define GOOD_HASH "9ef30f9972878fbc56c2091578ed6372f3fa3adeb9f6f3073d577b0d0fc5bea1"

static int read_json(const char *json, size_t max, char *err, size_t errsz)
{
        struct ct_digest d;
        unsigned char *gz;
        size_t n;
        int rc;

        gz = tu_gzip(json, strlen(json), &n);
        assert_non_null(gz);
        rc = ct_digest_read(gz, n, max, &d, err, errsz);
        if (rc == JB_OK)
                ct_digest_clear(&d);
        else
                assert_null(d.files);
        free(gz);
        return rc;
}

static char *make_json(const char *start, const char *prev, const char *files)
{
        char *s = malloc(4096);

        assert_non_null(s);
        snprintf(s, 4096,
                 "{\"digestStartTime\":%s,\"digestEndTime\":\"2026-11-29T01:00:00Z\","
                 "\"digestS3Bucket\":\"trail-bucket\",\"digestS3Object\":\"" DFOLDER DNAME(
                         "20261129T010000Z") "\",%s\"logFiles\":%s}",
                 start, prev, files);
        return s;
}

static void expect_refused(const char *start, const char *prev, const char *files, int want_rc,
                           const char *want_reason)
{
        char err[256] = "", *json = make_json(start, prev, files);
        int rc = read_json(json, 0, err, sizeof(err));

        if (rc != want_rc || !strstr(err, want_reason))
                fail_msg("%s: rc %d (%s), wanted %d with \"%s\"", json, rc, err, want_rc, want_reason);
        free(json);
}

#define START "\"2026-11-29T00:00:00Z\""
#define NOPREV "\"previousDigestS3Object\":null,"
#define FILE1(hash, alg)                                                                                \
        "[{\"s3Bucket\":\"trail-bucket\",\"s3Object\":\"AWSLogs/x.json.gz\",\"hashValue\":\"" hash      \
        "\",\"hashAlgorithm\":\"" alg "\"}]"

static void test_refused(void **state)
{
        char err[256], *json;
        unsigned char *gz;
        size_t n;
        struct ct_digest d;

        (void)state;
        /* the baseline is accepted */
        json = make_json(START, NOPREV, FILE1(GOOD_HASH, "SHA-256"));
        assert_int_equal(read_json(json, 0, err, sizeof(err)), JB_OK);

        /* gzip faults */
        gz = tu_gzip(json, strlen(json), &n);
        assert_non_null(gz);
        assert_int_equal(ct_digest_read(json, strlen(json), 0, &d, err, sizeof(err)), JB_EINPUT);
        assert_non_null(strstr(err, "not a gzip file"));
        assert_int_equal(ct_digest_read(gz, n - 5, 0, &d, err, sizeof(err)), JB_EINPUT);
        assert_non_null(strstr(err, "truncated"));
        assert_int_equal(ct_digest_read(gz, 0, 0, &d, err, sizeof(err)), JB_EINPUT);
        assert_non_null(strstr(err, "empty"));
        gz[n - 6] ^= 0x40; /* the CRC-32 */
        assert_int_equal(ct_digest_read(gz, n, 0, &d, err, sizeof(err)), JB_EINPUT);
        assert_non_null(strstr(err, "corrupt"));
        gz[n - 6] ^= 0x40;
        {
                unsigned char *more = malloc(n + 4);

                assert_non_null(more);
                memcpy(more, gz, n);
                memcpy(more + n, "junk", 4);
                assert_int_equal(ct_digest_read(more, n + 4, 0, &d, err, sizeof(err)), JB_EINPUT);
                assert_non_null(strstr(err, "after the end"));
                free(more);
        }
        free(gz);

        /* the ceiling: the exact size passes, one byte less refuses */
        assert_int_equal(read_json(json, strlen(json), err, sizeof(err)), JB_OK);
        assert_int_equal(read_json(json, strlen(json) - 1, err, sizeof(err)), JB_ELIMIT);
        assert_non_null(strstr(err, "larger than"));
        free(json);

        /* JSON faults */
        assert_int_equal(read_json("{\"digestStartTime\":", 0, err, sizeof(err)), JB_EINPUT);
        assert_non_null(strstr(err, "not JSON"));
        assert_int_equal(read_json("[1,2]", 0, err, sizeof(err)), JB_EINPUT);
        assert_non_null(strstr(err, "not an object"));
        assert_int_equal(read_json("{} trailing", 0, err, sizeof(err)), JB_EINPUT);

        /* fields */
        expect_refused("null", NOPREV, "[]", JB_EINPUT, "digestStartTime is not");
        expect_refused("\"yesterday\"", NOPREV, "[]", JB_EINPUT, "not a UTC time");
        expect_refused("\"2026-11-29T02:00:00Z\"", NOPREV, "[]", JB_EINPUT, "ends");
        expect_refused("\"2026-11-29T00:00:00.5Z\"", NOPREV, "[]", JB_OK, "");
        expect_refused(START, "", "[]", JB_EINPUT, "has no previousDigestS3Object");
        expect_refused(START, "\"previousDigestS3Object\":7,", "[]", JB_EINPUT,
                       "previousDigestS3Object is not");
        expect_refused(START, "\"previousDigestS3Object\":\"p\",", "[]", JB_EINPUT,
                       "has no previousDigestHashValue");
        expect_refused(START, "\"previousDigestS3Object\":\"p\",\"previousDigestHashValue\":\"00\",",
                       "[]", JB_EINPUT, "previousDigestHashValue is not 64 hex digits");
        expect_refused(START,
                       "\"previousDigestS3Object\":\"p\",\"previousDigestHashValue\":\"" GOOD_HASH
                       "\",\"previousDigestHashAlgorithm\":\"MD5\",",
                       "[]", JB_EINPUT, "knows only SHA-256");
        expect_refused(START,
                       "\"previousDigestS3Object\":\"p\",\"previousDigestHashValue\":\"" GOOD_HASH "\",",
                       "[]", JB_OK, "");
        expect_refused(START, NOPREV, "{}", JB_EINPUT, "logFiles is not an array");
        expect_refused(START, NOPREV, "[7]", JB_EINPUT, "logFiles[0] is not an object");
        expect_refused(START, NOPREV, "[{\"s3Bucket\":\"b\"}]", JB_EINPUT,
                       "has no logFiles[0].s3Object");
        expect_refused(START, NOPREV, "[{\"s3Bucket\":\"\",\"s3Object\":\"k\"}]", JB_EINPUT,
                       "logFiles[0].s3Bucket is not a non-empty string");
        expect_refused(START, NOPREV,
                       FILE1("9ef30f9972878fbc56c2091578ed6372f3fa3adeb9f6f3073d577b0d0fc5bea",
                             "SHA-256"),
                       JB_EINPUT, "logFiles[0].hashValue is not 64 hex digits");
        expect_refused(START, NOPREV,
                       FILE1("9ef30f9972878fbc56c2091578ed6372f3fa3adeb9f6f3073d577b0d0fc5bea1a",
                             "SHA-256"),
                       JB_EINPUT, "hashValue is not 64 hex digits");
        expect_refused(START, NOPREV,
                       FILE1("zef30f9972878fbc56c2091578ed6372f3fa3adeb9f6f3073d577b0d0fc5bea1",
                             "SHA-256"),
                       JB_EINPUT, "hashValue is not 64 hex digits");
        expect_refused(START, NOPREV, FILE1(GOOD_HASH, "SHA-1"), JB_EINPUT,
                       "hashAlgorithm is \"SHA-1\"");
        {
                /* the second file is the bad one: the reason names it, nothing leaks */
                char files[600];

                snprintf(
                        files, sizeof(files),
                        "[{\"s3Bucket\":\"b\",\"s3Object\":\"k1\",\"hashValue\":\"%s\",\"hashAlgorithm\":"
                        "\"SHA-256\"},{\"s3Bucket\":\"b\",\"s3Object\":\"k2\"}]",
                        GOOD_HASH);
                expect_refused(START, NOPREV, files, JB_EINPUT, "has no logFiles[1].hashValue");
        }
        {
                char *nolf = strdup(
                        "{\"digestStartTime\":" START ",\"digestEndTime\":\"2026-11-29T01:00:00Z\","
                        "\"digestS3Bucket\":\"b\",\"digestS3Object\":\"o\"," NOPREV "\"x\":1}");

                assert_non_null(nolf);
                assert_int_equal(read_json(nolf, 0, err, sizeof(err)), JB_EINPUT);
                assert_non_null(strstr(err, "has no logFiles"));
                free(nolf);
        }
        /* a failed reader refuses more until reset */
        {
                struct ct_digest_reader *r = ct_digest_reader_new(0);

                assert_non_null(r);
                assert_int_equal(ct_digest_reader_feed(r, "nope", 4, err, sizeof(err)), JB_EINPUT);
                assert_int_equal(ct_digest_reader_feed(r, "\x1f", 1, err, sizeof(err)), JB_EINPUT);
                assert_int_equal(ct_digest_reader_finish(r, &d, err, sizeof(err)), JB_EINPUT);
                ct_digest_reader_reset(r);
                gz = tu_gzip("{}", 2, &n);
                assert_non_null(gz);
                assert_int_equal(ct_digest_reader_feed(r, gz, n, err, sizeof(err)), JB_OK);
                assert_int_equal(ct_digest_reader_finish(r, &d, err, sizeof(err)), JB_EINPUT);
                assert_non_null(strstr(err, "has no digestStartTime"));
                free(gz);
                ct_digest_reader_free(r);
        }
}

/* ---- reconcile ---- */

struct fake {
        struct ct_seen seen[8];
        size_t calls;
        int fail_at; /* 1-based call that fails; 0: none */
};

static int fake_lookup(void *opaque, const struct ct_digest_file *f, struct ct_seen *out)
{
        struct fake *fk = opaque;
        size_t i = fk->calls++;

        (void)f;
        if (fk->fail_at && fk->calls == (size_t)fk->fail_at)
                return JB_ETRANSIENT;
        *out = fk->seen[i];
        return JB_OK;
}

static void test_reconcile(void **state)
{
        struct ct_digest_file files[8];
        struct ct_digest d;
        struct fake fk;
        struct ct_recon_counts k;
        enum ct_verdict v[8];
        size_t i;
        static const enum ct_verdict want[8] = {CT_V_SKIP,    CT_V_OK,     CT_V_UNVERIFIED, CT_V_RECOVER,
                                                CT_V_MISSING, CT_V_REREAD, CT_V_TAMPERED,   CT_V_OK};

        (void)state;
        memset(&d, 0, sizeof(d));
        memset(files, 0, sizeof(files));
        memset(&fk, 0, sizeof(fk));
        for (i = 0; i < 8; i++) {
                sha256(&i, sizeof(i), files[i].sha256);
                memcpy(fk.seen[i].sha256, files[i].sha256, SHA256_LEN);
                fk.seen[i].managed = 1;
                fk.seen[i].done = 1;
                fk.seen[i].has_sha = 1;
                fk.seen[i].reads = 1;
        }
        fk.seen[0].managed = 0; /* another bucket */
        fk.seen[2].has_sha = 0; /* done before hashes were kept */
        fk.seen[3].done = 0;    /* never seen: recover it */
        fk.seen[4].done = 0;    /* fetched by path: not found */
        fk.seen[4].not_found = 1;
        fk.seen[5].sha256[0] ^= 1;  /* differs on the first read */
        fk.seen[6].sha256[31] ^= 1; /* differs again after the second */
        fk.seen[6].reads = 2;
        fk.seen[7].recovered = 1; /* recovered earlier through the digest, bytes right */
        d.files = files;
        d.nfiles = 8;
        d.start = T_20261129;
        d.end = T_20261129 + H;

        /* not due: 29 min 59 s after the end with a 30 min grace */
        assert_int_equal(ct_reconcile(&d, d.end + 1799, 1800, fake_lookup, &fk, v, &k),
                         CT_RECONCILE_NOT_DUE);
        assert_int_equal(fk.calls, 0);
        assert_int_equal(k.listed, 8);
        assert_int_equal(k.managed, 0);
        assert_false(ct_digest_due(&d, d.end + 1799, 1800));
        assert_true(ct_digest_due(&d, d.end + 1800, 1800));

        assert_int_equal(ct_reconcile(&d, d.end + 1800, 1800, fake_lookup, &fk, v, &k), JB_OK);
        assert_int_equal(fk.calls, 8);
        for (i = 0; i < 8; i++)
                if (v[i] != want[i])
                        fail_msg("file %zu: %s, wanted %s", i, ct_verdict_name(v[i]),
                                 ct_verdict_name(want[i]));
        assert_int_equal(k.listed, 8);
        assert_int_equal(k.managed, 7);
        assert_int_equal(k.ok, 2);
        assert_int_equal(k.unverified, 1);
        assert_int_equal(k.done, 4); /* ok, ok, unverified, tampered */
        assert_int_equal(k.recovered, 1);
        assert_int_equal(k.recover, 1);
        assert_int_equal(k.missing, 1);
        assert_int_equal(k.reread, 1);
        assert_int_equal(k.tampered, 1);

        /* a lookup error stops it; NULL verdicts and counts are fine */
        fk.calls = 0;
        fk.fail_at = 3;
        assert_int_equal(ct_reconcile(&d, d.end + H, 1800, fake_lookup, &fk, NULL, NULL), JB_ETRANSIENT);
        assert_int_equal(fk.calls, 3);
        assert_string_equal(ct_verdict_name(CT_V_TAMPERED), "tampered");
        assert_string_equal(ct_verdict_name((enum ct_verdict)99), "unknown");
}

/* ---- the chain ---- */

static void mk(struct ct_digest *d, const char *stamp, const char *prev_stamp, int64_t start,
               int backfill)
{
        char obj[300], prev[300];

        memset(d, 0, sizeof(*d));
        snprintf(obj, sizeof(obj), "%s%s_CloudTrail-Digest_us-east-1_main-trail_us-east-1_%s%s.json.gz",
                 DFOLDER, ACCT, stamp, backfill ? "_backfill" : "");
        d->bucket = strdup("trail-bucket");
        d->object = strdup(obj);
        if (prev_stamp) {
                snprintf(prev, sizeof(prev), "%s%s", DFOLDER, prev_stamp);
                d->prev_bucket = strdup("trail-bucket");
                d->prev_object = strdup(prev);
        }
        d->start = start;
        d->end = start + H;
}

struct gaps {
        size_t n;
        char objects[4][300];
};

static void on_gap(void *opaque, const struct ct_gap *g)
{
        struct gaps *gs = opaque;

        assert_string_equal(g->bucket, "trail-bucket");
        assert_string_equal(g->trail, "main-trail");
        assert_string_equal(g->chain, "trail-bucket/AWSLogs/" ACCT "/CloudTrail-Digest/us-east-1");
        if (gs->n < 4)
                snprintf(gs->objects[gs->n], sizeof(gs->objects[0]), "%s", g->object);
        gs->n++;
}

struct covs {
        size_t n;
        struct ct_coverage c[4];
};

static void on_cov(void *opaque, const struct ct_coverage *c)
{
        struct covs *cs = opaque;

        if (cs->n < 4)
                cs->c[cs->n] = *c;
        cs->n++;
}

static void test_chain(void **state)
{
        struct ct_digest d[6];
        struct ct_chain *c = ct_chain_new();
        struct ct_recon_counts k;
        struct gaps gs;
        struct covs cs;
        const int64_t t0 = T_20261129, seen = t0 + 10 * H;
        size_t i;

        (void)state;
        assert_non_null(c);
        /* hours 0-1 .. 4-5 of one trail; hour 2-3's digest (T030000Z) was deleted; a backfill
         * digest for hour 0-1 points back at hour 0-1's regular one */
        mk(&d[0], "20261129T010000Z", NULL, t0, 0);
        mk(&d[1], "20261129T020000Z", DNAME("20261129T010000Z"), t0 + H, 0);
        mk(&d[2], "20261129T040000Z", DNAME("20261129T030000Z"), t0 + 3 * H, 0);
        mk(&d[3], "20261129T050000Z", DNAME("20261129T040000Z"), t0 + 4 * H, 0);
        mk(&d[4], "20261129T013000Z", DNAME("20261129T010000Z"), t0 + 1800, 1);
        mk(&d[5], "20261129T060000Z", DNAME("20261129T050000Z"), t0 + 5 * H, 0);
        /* any order: the newest first */
        memset(&k, 0, sizeof(k));
        k.listed = 3;
        k.managed = 3;
        k.done = 2;
        k.ok = 2;
        k.missing = 1;
        assert_int_equal(ct_chain_add(c, &d[5], &k, seen), JB_OK);
        assert_int_equal(ct_chain_add(c, &d[3], NULL, seen), JB_OK);
        assert_int_equal(ct_chain_add(c, &d[2], &k, seen), JB_OK);
        /* T06 -> T05 and T05 -> T04 resolve; T04 -> T03 dangles */
        assert_int_equal(ct_chain_gaps(c, seen + H, 1800, 0, NULL, NULL), 1);
        assert_int_equal(ct_chain_add(c, &d[1], NULL, seen), JB_OK);
        assert_int_equal(ct_chain_add(c, &d[0], NULL, seen), JB_OK);
        assert_int_equal(ct_chain_add(c, &d[4], &k, seen), JB_OK);
        assert_true(ct_chain_has(c, "trail-bucket", d[4].object));
        assert_false(ct_chain_has(c, "trail-bucket", DFOLDER DNAME("20261129T030000Z")));
        assert_false(ct_chain_has(c, "other-bucket", d[4].object));

        /* within the grace: nothing yet; after: the deleted T03 digest, once */
        assert_int_equal(ct_chain_gaps(c, seen + 1799, 1800, 0, NULL, NULL), 0);
        memset(&gs, 0, sizeof(gs));
        assert_int_equal(ct_chain_gaps(c, seen + 1800, 1800, 0, on_gap, &gs), 1);
        assert_int_equal(gs.n, 1);
        assert_string_equal(gs.objects[0], DFOLDER DNAME("20261129T030000Z"));
        /* a horizon after 03:00: that digest was never expected */
        assert_int_equal(ct_chain_gaps(c, seen + H, 1800, t0 + 3 * H + 1, NULL, NULL), 0);
        assert_int_equal(ct_chain_gaps(c, seen + H, 1800, t0 + 3 * H, NULL, NULL), 1);

        /* re-added with new counts: replaces, not adds */
        k.missing = 0;
        k.recovered = 1;
        k.done = 3;
        assert_int_equal(ct_chain_add(c, &d[2], &k, seen + 5 * H), JB_OK);

        memset(&cs, 0, sizeof(cs));
        assert_int_equal(ct_chain_coverage(c, seen + H, 1800, 0, on_cov, &cs), JB_OK);
        assert_int_equal(cs.n, 1);
        assert_string_equal(cs.c[0].trail, "main-trail");
        assert_int_equal(cs.c[0].digests, 6);
        assert_int_equal(cs.c[0].backfill, 1);
        assert_int_equal(cs.c[0].first, t0);
        assert_int_equal(cs.c[0].last, t0 + 6 * H);
        assert_int_equal(cs.c[0].covered_s, 5 * H); /* 0-2, 3-6: hour 2-3 is the gap */
        assert_int_equal(cs.c[0].gaps, 1);
        assert_int_equal(cs.c[0].files.listed, 9);  /* d[5], d[2], d[4] */
        assert_int_equal(cs.c[0].files.missing, 2); /* d[5] and d[4]; d[2] replaced */
        assert_int_equal(cs.c[0].files.recovered, 1);
        assert_int_equal(cs.c[0].files.done, 7);

        /* another trail in another bucket is another chain, listed in key order */
        {
                struct ct_digest o;

                memset(&o, 0, sizeof(o));
                o.bucket = strdup("a-bucket");
                o.object = strdup("some/other/place.json.gz"); /* not a digest path: its folder */
                o.start = t0;
                o.end = t0 + H;
                assert_int_equal(ct_chain_add(c, &o, NULL, seen), JB_OK);
                ct_digest_clear(&o);
                memset(&o, 0, sizeof(o));
                assert_int_equal(ct_chain_add(c, &o, NULL, seen), JB_EINPUT);
                memset(&cs, 0, sizeof(cs));
                assert_int_equal(ct_chain_coverage(c, seen + H, 1800, 0, on_cov, &cs), JB_OK);
                assert_int_equal(cs.n, 2);
                assert_string_equal(cs.c[0].chain, "a-bucket/some/other");
                assert_string_equal(cs.c[0].trail, "");
                assert_int_equal(cs.c[0].covered_s, H);
                assert_int_equal(cs.c[1].digests, 6);
        }
        for (i = 0; i < 6; i++)
                ct_digest_clear(&d[i]);
        ct_chain_free(c);
        ct_chain_free(NULL);
}

/* A day of 24 hourly digests (from the fixtures' shape) fed in reverse: no gap, 24 h. */
static void test_chain_day(void **state)
{
        struct ct_chain *c = ct_chain_new();
        struct ct_digest d;
        struct covs cs;
        char stamp[20], prev[100];
        int h;

        (void)state;
        assert_non_null(c);
        for (h = 23; h >= 0; h--) {
                snprintf(stamp, sizeof(stamp), "20261129T%02d0000Z", h + 1 == 24 ? 23 : h + 1);
                if (h == 23)
                        snprintf(stamp, sizeof(stamp), "20261129T235959Z");
                snprintf(prev, sizeof(prev),
                         ACCT
                         "_CloudTrail-Digest_us-east-1_main-trail_us-east-1_20261129T%02d0000Z.json.gz",
                         h);
                mk(&d, stamp, h ? prev : NULL, T_20261129 + h * H, 0);
                assert_int_equal(ct_chain_add(c, &d, NULL, 0), JB_OK);
                ct_digest_clear(&d);
        }
        memset(&cs, 0, sizeof(cs));
        assert_int_equal(ct_chain_coverage(c, 10 * H, 1800, 0, on_cov, &cs), JB_OK);
        assert_int_equal(cs.n, 1);
        assert_int_equal(cs.c[0].digests, 24);
        assert_int_equal(cs.c[0].covered_s, 24 * H);
        assert_int_equal(cs.c[0].gaps, 0);
        ct_chain_free(c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_paths),         cmocka_unit_test(test_folder_of),
                cmocka_unit_test(test_read_fixtures), cmocka_unit_test(test_fixture_hashes),
                cmocka_unit_test(test_refused),       cmocka_unit_test(test_reconcile),
                cmocka_unit_test(test_chain),         cmocka_unit_test(test_chain_day),
        };

        return cmocka_run_group_tests_name("ct_digest", tests, NULL, NULL);
}
