/*
 * test_status_store_kafka.c - the status store in the compacted status topic
 * (common/status_store_kafka.c, ktopic.c) and its neighbour in that topic, the scanner's
 * store (producer/scan_store_kafka.c), against a real broker.
 *
 * Needs KAFKA_BOOTSTRAP (host:port): tests/integration/0750-status-store-kafka.sh starts a
 * broker and runs this program; run alone without it, it says so and exits 77 (skipped).
 * It prints the status topic's name on a line "status topic: NAME" for the script's checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "kadmin.h"
#include "kconf.h"
#include "log.h"
#include "scan_store.h"
#include "sset.h"
#include "status_store.h"
#include "tu.h"

#define T_FOLDER "/S3 Prod/ct-logs/AWSLogs/111122223333/CloudTrail/eu-west-1/2026/12/01"
#define T_EAST1 "{\"v\":1,\"type\":\"instance_status\",\"instance\":\"east-1\",\"at_ms\":1}"
#define T_EAST2 "{\"v\":1,\"type\":\"instance_status\",\"instance\":\"east-1\",\"at_ms\":2}"
#define T_WEST1 "{\"v\":1,\"type\":\"instance_status\",\"instance\":\"west-2\",\"at_ms\":1}"

static const char *B; /* bootstrap */
static char *tmpdir;
static char logpath[512];
static char topic[128];

static struct status_store *t_status(void)
{
        char err[512];
        struct status_store *ss = status_store_kafka_new(B, topic, NULL, err, sizeof(err));

        if (!ss)
                fail_msg("status_store_kafka_new: %s", err);
        return ss;
}

static void t_put(struct status_store *ss, const char *instance, const char *doc)
{
        char err[512];
        int rc = ss->ops->put(ss, instance, doc, strlen(doc), err, sizeof(err));

        if (rc)
                fail_msg("put %s: %s (%s)", instance, err, jb_strerror(rc));
}

/* The scanner's store: save the names given into T_FOLDER. */
static void t_scan_save(const char *const *names)
{
        char err[512];
        struct scan_store *st = scan_store_kafka_new(B, topic, NULL, err, sizeof(err));
        struct sset done, added;
        size_t i;

        if (!st)
                fail_msg("scan_store_kafka_new: %s", err);
        sset_init(&done);
        sset_init(&added);
        for (i = 0; names[i]; i++) {
                assert_int_equal(sset_put(&done, names[i], NULL), JB_OK);
                assert_int_equal(sset_put(&added, names[i], NULL), JB_OK);
        }
        if (st->ops->save(st, T_FOLDER, &done, &added, err, sizeof(err)))
                fail_msg("scan store save: %s", err);
        sset_clear(&done);
        sset_clear(&added);
        scan_store_free(st);
}

struct t_files {
        size_t n, others;
};

static int t_file(void *opaque, const char *folder, const char *name)
{
        struct t_files *f = opaque;

        if (!strcmp(folder, T_FOLDER) && (!strcmp(name, "a.json.gz") || !strcmp(name, "b.json.gz")))
                f->n++;
        else
                f->others++;
        return JB_OK;
}

/* Whether the test's log holds text. */
static int t_log_has(const char *text)
{
        FILE *fp;
        char line[2048];
        int found = 0;

        fp = fopen(logpath, "r");
        if (!fp)
                return 0;
        while (!found && fgets(line, sizeof(line), fp))
                found = strstr(line, text) != NULL;
        fclose(fp);
        return found;
}

static void test_create_topics(void **state)
{
        struct kadmin_conn conn = {B, NULL, 0, 10000};
        char err[512], prefix[64];

        (void)state;
        snprintf(prefix, sizeof(prefix), "sst%ld.", (long)getpid());
        if (kadmin_create_topics(&conn, prefix, 3, 1, 3600000, err, sizeof(err)))
                fail_msg("create topics: %s", err);
        assert_int_equal(kconf_name(topic, sizeof(topic), prefix, KN_STATUS), JB_OK);
        printf("status topic: %s\n", topic);
}

static void test_empty_topic(void **state)
{
        struct status_store *ss = t_status();
        struct tu_seen seen;
        char err[512];

        (void)state;
        memset(&seen, 0, sizeof(seen));
        assert_int_equal(ss->ops->list(ss, tu_collect, &seen, err, sizeof(err)), JB_OK);
        assert_int_equal(seen.n, 0);
        status_store_free(ss);
}

static void test_put_list_latest(void **state)
{
        static const char *const files1[] = {"a.json.gz", NULL};
        static const char *const files2[] = {"b.json.gz", NULL};
        struct status_store *ss = t_status(), *other;
        struct tu_seen seen;
        char err[512];

        (void)state;
        t_scan_save(files1); /* the scanner's file records share the topic */
        t_put(ss, "east-1", T_EAST1);
        other = t_status(); /* another instance, its own producer */
        t_put(other, "west-2", T_WEST1);
        status_store_free(other);
        t_scan_save(files2);
        t_put(ss, "east-1", T_EAST2);

        memset(&seen, 0, sizeof(seen));
        assert_int_equal(ss->ops->list(ss, tu_collect, &seen, err, sizeof(err)), JB_OK);
        assert_int_equal(seen.n, 2);
        assert_non_null(tu_doc_of(&seen, "east-1"));
        assert_string_equal(tu_doc_of(&seen, "east-1"), T_EAST2);
        assert_non_null(tu_doc_of(&seen, "west-2"));
        assert_string_equal(tu_doc_of(&seen, "west-2"), T_WEST1);
        assert_non_null(strstr(seen.where[0], topic));
        status_store_free(ss);
}

static void test_scan_store_skips_status(void **state)
{
        char err[512];
        struct scan_store *st = scan_store_kafka_new(B, topic, NULL, err, sizeof(err));
        struct t_files f = {0, 0};

        (void)state;
        assert_non_null(st);
        assert_int_equal(st->ops->load(st, t_file, &f, err, sizeof(err)), JB_OK);
        scan_store_free(st);
        assert_int_equal(f.n, 2);      /* both file records */
        assert_int_equal(f.others, 0); /* no instance/... taken for a file */
        /* and no warning that the instances' records are unreadable file records */
        assert_false(t_log_has("not status records jibe can read"));
}

static void test_bad_names(void **state)
{
        struct status_store *ss = t_status();
        char err[512];

        (void)state;
        assert_int_equal(ss->ops->put(ss, "a/b", "{}", 2, err, sizeof(err)), JB_EINPUT);
        assert_int_equal(ss->ops->put(ss, "a\x01", "{}", 2, err, sizeof(err)), JB_EINPUT);
        status_store_free(ss);
        assert_null(status_store_kafka_new(B, topic, (const char *const[]){"no.such.property=1", NULL},
                                           err, sizeof(err)));
        assert_non_null(strstr(err, "no.such.property"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_create_topics),   cmocka_unit_test(test_empty_topic),
                cmocka_unit_test(test_put_list_latest), cmocka_unit_test(test_scan_store_skips_status),
                cmocka_unit_test(test_bad_names),
        };
        char err[256];
        int rc;

        B = getenv("KAFKA_BOOTSTRAP");
        if (!B || !*B) {
                printf("test_status_store_kafka: KAFKA_BOOTSTRAP is not set: nothing tested here; "
                       "tests/integration/0750-status-store-kafka.sh runs it against a real broker\n");
                return 77;
        }
        tmpdir = tu_tmpdir();
        assert_non_null(tmpdir);
        snprintf(logpath, sizeof(logpath), "%s/log", tmpdir);
        if (log_open(logpath, LL_INFO, err, sizeof(err))) {
                fprintf(stderr, "%s\n", err);
                return 1;
        }
        rc = cmocka_run_group_tests_name("status_store_kafka", tests, NULL, NULL);
        log_close();
        if (rc || getenv("TEST_SHOW_LOG")) {
                FILE *fp = fopen(logpath, "r");
                char line[2048];

                while (fp && fgets(line, sizeof(line), fp))
                        fputs(line, stderr);
                if (fp)
                        fclose(fp);
        }
        kconf_wait_destroyed(5000);
        tu_rmrf(tmpdir);
        free(tmpdir);
        return rc;
}
