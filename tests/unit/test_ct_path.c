/*
 * test_ct_path.c - the CloudTrail path layout: folder names level by level, whole paths
 * parsed into root, organization, account, region, day and file, date folders, joins,
 * prefixes, and digest/insight files told from event logs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ct_path.h"

#define DAY_20261129 1795910400LL /* 2026-11-29T00:00:00Z */

static void assert_part(struct ct_part p, const char *want)
{
        assert_int_equal(p.len, strlen(want));
        if (p.len)
                assert_memory_equal(p.p, want, p.len);
}

static void test_folder_names(void **state)
{
        (void)state;
        assert_true(ct_path_is_logs("AWSLogs"));
        assert_false(ct_path_is_logs("awslogs"));
        assert_false(ct_path_is_logs("AWSLogs2"));
        assert_true(ct_path_is_org("o-abc123def4"));
        assert_false(ct_path_is_org("111122223333"));
        assert_true(ct_path_is_account("111122223333"));
        assert_false(ct_path_is_account("11112222333"));
        assert_false(ct_path_is_account("11112222333x"));
        assert_true(ct_path_is_trail("CloudTrail"));
        assert_false(ct_path_is_trail("CloudTrail-Digest"));
        assert_true(ct_path_is_digits("2026", 4));
        assert_true(ct_path_is_digits("09", 2));
        assert_false(ct_path_is_digits("9", 2));
        assert_false(ct_path_is_digits("2a", 2));
}

static void test_log_files(void **state)
{
        (void)state;
        assert_true(ct_path_is_log_file("111122223333_CloudTrail_eu-west-1_20261129T0805Z_abc.json.gz"));
        assert_false(ct_path_is_log_file("111122223333_CloudTrail-Digest_eu-west-1_x.json.gz"));
        assert_false(ct_path_is_log_file("111122223333_CloudTrailInsight_eu-west-1_x.json.gz"));
        assert_false(ct_path_is_log_file("x.json"));
        assert_false(ct_path_is_log_file(".json.gz"));
        assert_false(ct_path_is_log_file("a\nb.json.gz"));
        assert_int_equal(ct_file_kind("P/b/AWSLogs/1/CloudTrail-Digest/r/2026/11/29/x.json.gz"),
                         CT_FILE_DIGEST);
        assert_int_equal(ct_file_kind("P/b/AWSLogs/1/CloudTrail-Insight/r/2026/11/29/x.json.gz"),
                         CT_FILE_INSIGHT);
        assert_int_equal(ct_file_kind("P/b/AWSLogs/1/CloudTrail/r/2026/11/29/x.json.gz"), CT_FILE_LOG);
}

/* A plain trail at the top of a bucket, down to the file. */
static void test_parse_plain(void **state)
{
        const char *p = "S3 Prod/ct-logs/AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/29/"
                        "111122223333_CloudTrail_eu-west-1_20261129T0805Z_abc.json.gz";
        struct ct_path cp;

        (void)state;
        assert_int_equal(ct_path_parse(p, &cp), 0);
        assert_part(cp.root, "S3 Prod/ct-logs");
        assert_part(cp.org, "");
        assert_part(cp.account, "111122223333");
        assert_part(cp.region, "eu-west-1");
        assert_part(cp.stream, "111122223333/CloudTrail/eu-west-1");
        assert_int_equal(cp.day, DAY_20261129);
        assert_part(cp.file, "111122223333_CloudTrail_eu-west-1_20261129T0805Z_abc.json.gz");
}

/* An organization trail under a prefix; a region folder without a date. */
static void test_parse_org_prefix(void **state)
{
        struct ct_path cp;

        (void)state;
        assert_int_equal(
                ct_path_parse("P/b/trails/x/AWSLogs/o-abc/111/CloudTrail/us-east-1/2026/11/29/f.json.gz",
                              &cp),
                0);
        assert_part(cp.root, "P/b/trails/x");
        assert_part(cp.org, "o-abc");
        assert_part(cp.account, "111");
        assert_part(cp.stream, "o-abc/111/CloudTrail/us-east-1");
        assert_part(cp.file, "f.json.gz");
        assert_int_equal(ct_path_parse("AWSLogs/111/CloudTrail/us-east-1/", &cp), 0);
        assert_part(cp.root, "");
        assert_part(cp.region, "us-east-1");
        assert_int_equal(cp.day, -1);
        assert_part(cp.file, "");
        /* a date folder itself: the day, no file */
        assert_int_equal(ct_path_parse("P/b/AWSLogs/111/CloudTrail/r/2026/11/29", &cp), 0);
        assert_int_equal(cp.day, DAY_20261129);
        assert_part(cp.file, "");
}

/* What is not the layout: no AWSLogs component, no CloudTrail/<region>/, AWSLogs only as the
 * end of another name, a digest folder. */
static void test_parse_refused(void **state)
{
        struct ct_path cp;

        (void)state;
        assert_int_equal(ct_path_parse("P/b/other/111/CloudTrail/r/x.json.gz", &cp), -1);
        assert_int_equal(cp.day, -1);
        assert_int_equal(ct_path_parse("P/b/AWSLogs/111/CloudTrail/r", &cp), -1);
        assert_int_equal(ct_path_parse("P/b/AWSLogs/111/CloudTrail-Digest/r/2026/11/29/x", &cp), -1);
        assert_int_equal(ct_path_parse("P/myAWSLogs/111/CloudTrail/r/x", &cp), -1);
        assert_int_equal(ct_path_parse("P/myAWSLogs/AWSLogs/111/CloudTrail/r/x", &cp), 0);
        assert_part(cp.root, "P/myAWSLogs");
        /* a bad date is no day */
        assert_int_equal(ct_path_parse("P/b/AWSLogs/1/CloudTrail/r/2026/13/45/x", &cp), 0);
        assert_int_equal(cp.day, -1);
}

static void test_day_folders(void **state)
{
        (void)state;
        assert_int_equal(ct_path_day("P/b/AWSLogs/1/CloudTrail/r/2026/11/29"), DAY_20261129);
        assert_int_equal(ct_path_day("2026/11/29"), DAY_20261129);
        assert_int_equal(ct_path_day("P/b/AWSLogs/1/CloudTrail/r/2026/11"), -1);
        assert_int_equal(ct_path_day("P/b/AWSLogs/1/CloudTrail/r"), -1);
}

static void test_join_and_prefix(void **state)
{
        char *p = ct_path_join("S3 Prod/bucket", "AWSLogs");

        (void)state;
        assert_non_null(p);
        assert_string_equal(p, "S3 Prod/bucket/AWSLogs");
        free(p);
        assert_true(ct_path_prefix_is_logs("AWSLogs"));
        assert_true(ct_path_prefix_is_logs("trails/AWSLogs"));
        assert_false(ct_path_prefix_is_logs("trails"));
        assert_false(ct_path_prefix_is_logs("trails/AWSLogs-old"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_folder_names),    cmocka_unit_test(test_log_files),
                cmocka_unit_test(test_parse_plain),     cmocka_unit_test(test_parse_org_prefix),
                cmocka_unit_test(test_parse_refused),   cmocka_unit_test(test_day_folders),
                cmocka_unit_test(test_join_and_prefix),
        };

        return cmocka_run_group_tests_name("ct_path", tests, NULL, NULL);
}
