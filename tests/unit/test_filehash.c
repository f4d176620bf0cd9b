/*
 * test_filehash.c - the per-file SHA-256 store (common/filehash.c): the state directory
 * backend fully (put and load, reopen, a torn last line, a file that is not one, compaction,
 * forget, puts from several threads), and the Kafka backend against a real broker when
 * KAFKA_BOOTSTRAP is set (tests/integration/0750-status-store-kafka.sh runs it so; alone,
 * that group says so and is skipped), with the scanner's store in the same topic skipping
 * the hash records.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "filehash.h"
#include "kadmin.h"
#include "kconf.h"
#include "ktopic.h"
#include "log.h"
#include "msg.h"
#include "scan_store.h"
#include "sset.h"
#include "state.h"
#include "tu.h"

#define T_PATH "/S3 Prod/ct-logs/AWSLogs/111122223333/CloudTrail/eu-west-1/2026/12/01/a.json.gz"

static char *tmpdir;
static char logpath[512];

/* Everything load() handed over. */
struct t_got {
        struct sset paths; /* path -> 1 + index into ents */
        struct {
                uint8_t sha[SHA256_LEN];
                unsigned reads;
                int64_t at_ms;
        } ents[4096];
        size_t n;
};

static int t_collect(void *opaque, const char *path, const uint8_t sha[SHA256_LEN], unsigned reads,
                     int64_t at_ms)
{
        struct t_got *g = opaque;

        if (g->n == sizeof(g->ents) / sizeof(g->ents[0]) || sset_has(&g->paths, path))
                return JB_EINPUT; /* too many, or a path twice: the test fails */
        memcpy(g->ents[g->n].sha, sha, SHA256_LEN);
        g->ents[g->n].reads = reads;
        g->ents[g->n].at_ms = at_ms;
        g->n++;
        return sset_put(&g->paths, path, (void *)(uintptr_t)g->n);
}

static struct t_got *t_load(struct filehash *fh)
{
        struct t_got *g = calloc(1, sizeof(*g));
        char err[512];

        assert_non_null(g);
        sset_init(&g->paths);
        if (fh->ops->load(fh, t_collect, g, err, sizeof(err)))
                fail_msg("load: %s", err);
        return g;
}

static void t_got_free(struct t_got *g)
{
        sset_clear(&g->paths);
        free(g);
}

/* The entry of path in g, or NULL. */
static const uint8_t *t_sha_of(const struct t_got *g, const char *path, unsigned *reads)
{
        uintptr_t i = (uintptr_t)sset_get(&g->paths, path);

        if (!i)
                return NULL;
        if (reads)
                *reads = g->ents[i - 1].reads;
        return g->ents[i - 1].sha;
}

static void t_sha(const char *seed, uint8_t out[SHA256_LEN])
{
        sha256(seed, strlen(seed), out);
}

/* g holds path with the SHA-256 of seed, put with reads. */
static void t_expect(const struct t_got *g, const char *path, const char *seed, unsigned reads)
{
        uint8_t want[SHA256_LEN];
        const uint8_t *got;
        unsigned r = 0;

        t_sha(seed, want);
        got = t_sha_of(g, path, &r);
        assert_non_null(got);
        assert_memory_equal(got, want, SHA256_LEN);
        assert_int_equal(r, reads);
}

static void t_put(struct filehash *fh, const char *path, const char *seed, unsigned reads)
{
        uint8_t sha[SHA256_LEN];
        char err[512];

        t_sha(seed, sha);
        if (fh->ops->put(fh, path, sha, reads, err, sizeof(err)))
                fail_msg("put %s: %s", path, err);
}

/* A fresh state directory of its own for one test. */
static void t_dir(char *out, size_t n, const char *name)
{
        snprintf(out, n, "%s/%s", tmpdir, name);
        tu_rmrf(out);
        assert_int_equal(state_mkdirs(out), 0);
}

static struct filehash *t_open(const char *dir)
{
        char err[512];
        struct filehash *fh = filehash_dir_new(dir, err, sizeof(err));

        if (!fh)
                fail_msg("filehash_dir_new %s: %s", dir, err);
        return fh;
}

static size_t t_lines(const char *dir)
{
        char path[1024], *text;
        size_t len, i, n = 0;

        snprintf(path, sizeof(path), "%s/file-hashes", dir);
        text = tu_slurp(path, &len);
        assert_non_null(text);
        for (i = 0; i < len; i++)
                n += text[i] == '\n';
        free(text);
        return n;
}

static void t_write(const char *dir, const char *content)
{
        char path[1024];
        FILE *fp;

        snprintf(path, sizeof(path), "%s/file-hashes", dir);
        fp = fopen(path, "w");
        assert_non_null(fp);
        fputs(content, fp);
        fclose(fp);
}

/* ---- the state directory backend ---- */

static void test_dir_put_load_reopen(void **state)
{
        char dir[1024];
        struct filehash *fh;
        struct t_got *g;

        (void)state;
        t_dir(dir, sizeof(dir), "putload");
        fh = t_open(dir);
        g = t_load(fh);
        assert_int_equal(g->n, 0);
        t_got_free(g);
        t_put(fh, T_PATH, "one", 1);
        t_put(fh, "/S3 Prod/b/c with spaces.json.gz", "two", 1);
        t_put(fh, T_PATH, "one again", 2); /* the latest wins */
        g = t_load(fh);
        assert_int_equal(g->n, 2);
        t_expect(g, T_PATH, "one again", 2);
        assert_true(g->ents[0].at_ms > 0);
        t_got_free(g);
        filehash_free(fh);

        fh = t_open(dir); /* what the file kept */
        g = t_load(fh);
        assert_int_equal(g->n, 2);
        t_expect(g, T_PATH, "one again", 2);
        t_expect(g, "/S3 Prod/b/c with spaces.json.gz", "two", 1);
        t_got_free(g);
        filehash_free(fh);
}

static void test_dir_bad_path(void **state)
{
        char dir[1024], err[512];
        uint8_t sha[SHA256_LEN] = {0};
        struct filehash *fh;

        (void)state;
        t_dir(dir, sizeof(dir), "badpath");
        fh = t_open(dir);
        assert_int_equal(fh->ops->put(fh, "a\tb", sha, 1, err, sizeof(err)), JB_EINPUT);
        assert_int_equal(fh->ops->put(fh, "a\nb", sha, 1, err, sizeof(err)), JB_EINPUT);
        assert_int_equal(fh->ops->put(fh, "", sha, 1, err, sizeof(err)), JB_EINPUT);
        filehash_free(fh);
}

static void test_dir_torn_line(void **state)
{
        char dir[1024], content[1024], hex[SHA256_HEX_LEN + 1];
        uint8_t sha[SHA256_LEN];
        struct filehash *fh;
        struct t_got *g;

        (void)state;
        t_dir(dir, sizeof(dir), "torn");
        t_sha("one", sha);
        sha256_hex(sha, hex);
        snprintf(content, sizeof(content), "jibe-filehash 1\n/a/one\t%s\t1\t1000\n/a/two\t%.20s", hex,
                 hex);
        t_write(dir, content);
        fh = t_open(dir);
        g = t_load(fh);
        assert_int_equal(g->n, 1); /* the torn line is dropped */
        assert_non_null(t_sha_of(g, "/a/one", NULL));
        t_got_free(g);
        t_put(fh, "/a/three", "three", 1); /* appended after the cut, not glued to it */
        filehash_free(fh);
        fh = t_open(dir);
        g = t_load(fh);
        assert_int_equal(g->n, 2);
        assert_non_null(t_sha_of(g, "/a/three", NULL));
        t_got_free(g);
        filehash_free(fh);

        t_write(dir, "jibe-file"); /* only a torn first line: a new store */
        fh = t_open(dir);
        g = t_load(fh);
        assert_int_equal(g->n, 0);
        t_got_free(g);
        t_put(fh, "/a/four", "four", 1);
        filehash_free(fh);
        fh = t_open(dir);
        g = t_load(fh);
        assert_int_equal(g->n, 1);
        t_got_free(g);
        filehash_free(fh);
}

static void test_dir_garbage_refused(void **state)
{
        char dir[1024], err[512];

        (void)state;
        t_dir(dir, sizeof(dir), "garbage");
        t_write(dir, "PK\x03\x04 this is a zip file\n\x01\x02\n");
        assert_null(filehash_dir_new(dir, err, sizeof(err)));
        assert_non_null(strstr(err, "file-hashes"));
        assert_non_null(strstr(err, "not a jibe file-hash list"));
        assert_non_null(strstr(err, "move it aside"));

        t_write(dir, "binary without a line break");
        assert_null(filehash_dir_new(dir, err, sizeof(err)));
        assert_non_null(strstr(err, "not a jibe file-hash list"));

        t_write(dir, "jibe-filehash 1\n/a/one\tnot-hex\t1\t1000\n");
        assert_null(filehash_dir_new(dir, err, sizeof(err)));
        assert_non_null(strstr(err, "file-hashes:2: damaged line"));
}

static void test_dir_compaction(void **state)
{
        char dir[1024];
        struct filehash *fh;
        struct t_got *g;
        unsigned reads;
        size_t i;

        (void)state;
        t_dir(dir, sizeof(dir), "compact");
        fh = t_open(dir);
        /* 10 paths put 150 times each: 1500 lines for 10 entries pass 2 x 10 + 1000 */
        for (i = 0; i < 1500; i++) {
                char path[64];

                snprintf(path, sizeof(path), "/a/f%zu", i % 10);
                t_put(fh, path, path, i >= 1490 ? 2 : 1);
        }
        assert_true(t_lines(dir) <= 2 * 10 + 1000 + 1);
        assert_true(t_lines(dir) < 1500);
        filehash_free(fh);
        fh = t_open(dir);
        g = t_load(fh);
        assert_int_equal(g->n, 10);
        for (i = 0; i < 10; i++) {
                char path[64];

                snprintf(path, sizeof(path), "/a/f%zu", i);
                assert_non_null(t_sha_of(g, path, &reads));
                assert_int_equal(reads, 2); /* the last put of each */
        }
        t_got_free(g);
        filehash_free(fh);
}

static void test_dir_forget(void **state)
{
        char dir[1024], err[512], content[2048], hex[SHA256_HEX_LEN + 1];
        uint8_t sha[SHA256_LEN];
        struct filehash *fh;
        struct t_got *g;
        int64_t now = msg_now_ms();

        (void)state;
        t_dir(dir, sizeof(dir), "forget");
        t_sha("old", sha);
        sha256_hex(sha, hex);
        snprintf(content, sizeof(content),
                 "jibe-filehash 1\n/a/old1\t%s\t1\t1000\n/a/old2\t%s\t1\t2000\n", hex, hex);
        t_write(dir, content);
        fh = t_open(dir);
        t_put(fh, "/a/new", "new", 1);
        assert_int_equal(fh->ops->forget_before(fh, 1500, err, sizeof(err)), JB_OK);
        g = t_load(fh);
        assert_int_equal(g->n, 2);
        assert_null(t_sha_of(g, "/a/old1", NULL));
        assert_non_null(t_sha_of(g, "/a/old2", NULL));
        t_got_free(g);
        assert_int_equal(fh->ops->forget_before(fh, now - 60000, err, sizeof(err)), JB_OK);
        g = t_load(fh);
        assert_int_equal(g->n, 1);
        assert_non_null(t_sha_of(g, "/a/new", NULL));
        t_got_free(g);
        filehash_free(fh);
}

struct t_thread {
        struct filehash *fh;
        int id;
        int rc;
};

static void *t_putter(void *arg)
{
        struct t_thread *t = arg;
        char path[64], err[512];
        uint8_t sha[SHA256_LEN];
        int i;

        for (i = 0; i < 500 && !t->rc; i++) {
                snprintf(path, sizeof(path), "/t%d/f%d", t->id, i);
                sha256(path, strlen(path), sha);
                t->rc = t->fh->ops->put(t->fh, path, sha, 1, err, sizeof(err));
        }
        return NULL;
}

static void test_dir_concurrent(void **state)
{
        char dir[1024];
        struct t_thread th[4];
        pthread_t tid[4];
        struct filehash *fh;
        struct t_got *g;
        int i, j;

        (void)state;
        t_dir(dir, sizeof(dir), "threads");
        fh = t_open(dir);
        for (i = 0; i < 4; i++) {
                th[i].fh = fh;
                th[i].id = i;
                th[i].rc = 0;
                assert_int_equal(pthread_create(&tid[i], NULL, t_putter, &th[i]), 0);
        }
        for (i = 0; i < 4; i++) {
                pthread_join(tid[i], NULL);
                assert_int_equal(th[i].rc, JB_OK);
        }
        filehash_free(fh);
        fh = t_open(dir); /* every line whole: the file reads back */
        g = t_load(fh);
        assert_int_equal(g->n, 2000);
        for (i = 0; i < 4; i++)
                for (j = 0; j < 500; j += 99) {
                        char path[64];
                        uint8_t want[SHA256_LEN];
                        const uint8_t *got;

                        snprintf(path, sizeof(path), "/t%d/f%d", i, j);
                        sha256(path, strlen(path), want);
                        got = t_sha_of(g, path, NULL);
                        assert_non_null(got);
                        assert_memory_equal(got, want, SHA256_LEN);
                }
        t_got_free(g);
        filehash_free(fh);
        assert_int_equal(t_lines(dir), 2001);
}

/* ---- the Kafka backend ---- */

static const char *B; /* bootstrap */
static char topic[128];

static struct filehash *t_kopen(void)
{
        char err[512];
        struct filehash *fh = filehash_kafka_new(B, topic, NULL, err, sizeof(err));

        if (!fh)
                fail_msg("filehash_kafka_new: %s", err);
        return fh;
}

static int t_file(void *opaque, const char *folder, const char *name)
{
        (void)folder;
        (void)name;
        ++*(size_t *)opaque;
        return JB_OK;
}

static int t_log_has(const char *text)
{
        FILE *fp = fopen(logpath, "r");
        char line[2048];
        int found = 0;

        while (fp && !found && fgets(line, sizeof(line), fp))
                found = strstr(line, text) != NULL;
        if (fp)
                fclose(fp);
        return found;
}

static void test_kafka(void **state)
{
        struct kadmin_conn conn = {NULL, NULL, 0, 10000};
        char err[512], prefix[64];
        struct filehash *fh;
        struct scan_store *st;
        struct t_got *g;
        size_t files = 0;

        (void)state;
        if (!B)
                skip();
        conn.brokers = B;
        snprintf(prefix, sizeof(prefix), "fh%ld.", (long)getpid());
        if (kadmin_create_topics(&conn, prefix, 3, 1, 3600000, err, sizeof(err)))
                fail_msg("create topics: %s", err);
        assert_int_equal(kconf_name(topic, sizeof(topic), prefix, KN_STATUS), JB_OK);

        fh = t_kopen(); /* the parser's side */
        t_put(fh, T_PATH, "one", 1);
        t_put(fh, "/S3 Prod/ct-logs/AWSLogs/x/b.json.gz", "two", 1);
        t_put(fh, T_PATH, "one again", 2);
        filehash_free(fh); /* waits for what is queued */

        fh = t_kopen(); /* the scanner's side, another process */
        g = t_load(fh);
        assert_int_equal(g->n, 2);
        t_expect(g, T_PATH, "one again", 2);
        t_got_free(g);
        /* forget everything put before now: tombstones, then nothing loads */
        assert_int_equal(fh->ops->forget_before(fh, msg_now_ms() + 1, err, sizeof(err)), JB_OK);
        filehash_free(fh);
        fh = t_kopen();
        g = t_load(fh);
        assert_int_equal(g->n, 0);
        t_got_free(g);
        t_put(fh, T_PATH, "three", 1); /* and one more, for the scanner's store below */
        filehash_free(fh);

        /* the scanner's memory in the same topic reads none of them as a processed file */
        st = scan_store_kafka_new(B, topic, NULL, err, sizeof(err));
        assert_non_null(st);
        assert_int_equal(st->ops->load(st, t_file, &files, err, sizeof(err)), JB_OK);
        scan_store_free(st);
        assert_int_equal(files, 0);
        assert_false(t_log_has("not status records jibe can read"));
}

static void t_raw(struct ktopic *t, const char *key, const char *val)
{
        char err[512];

        if (ktopic_put(t, key, strlen(key), val, val ? strlen(val) : 0, err, sizeof(err)))
                fail_msg("raw put %s: %s", key, err);
}

static void test_kafka_bad_values(void **state)
{
        struct filehash *fh;
        struct ktopic *t;
        struct t_got *g;
        char err[512], good[256], hex[SHA256_HEX_LEN + 1];
        uint8_t sha[SHA256_LEN];

        (void)state;
        if (!B)
                skip();
        /* records anyone who can write the topic may have written: skipped and counted */
        t = ktopic_new(B, topic, NULL, "test-filehash-raw", err, sizeof(err));
        assert_non_null(t);
        t_sha("good", sha);
        sha256_hex(sha, hex);
        snprintf(good, sizeof(good),
                 "{\"v\":1,\"type\":\"filehash\",\"sha256\":\"%s\",\"reads\":1,\"at_ms\":5}", hex);
        t_raw(t, "sha256/bad/not-json", "not json at all");
        t_raw(t, "sha256/bad/short-hex",
              "{\"v\":1,\"type\":\"filehash\",\"sha256\":\"abc\",\"reads\":1,\"at_ms\":5}");
        t_raw(t, "sha256/bad/no-reads", "{\"v\":1,\"type\":\"filehash\",\"sha256\":\"00\"}");
        t_raw(t, "sha256/bad/array", "[1,2,3]");
        t_raw(t, "sha256/good", good);
        assert_int_equal(ktopic_flush(t, err, sizeof(err)), JB_OK);
        ktopic_free(t);
        fh = t_kopen();
        g = t_load(fh);
        assert_int_equal(g->n, 2); /* "good" and the one left by test_kafka */
        assert_non_null(t_sha_of(g, "good", NULL));
        assert_null(t_sha_of(g, "bad/not-json", NULL));
        t_got_free(g);
        filehash_free(fh);
        assert_true(t_log_has("4 file-hash records of the status topic"));
        assert_null(filehash_kafka_new(B, topic, (const char *const[]){"no.such.property=1", NULL}, err,
                                       sizeof(err)));
        assert_non_null(strstr(err, "no.such.property"));
}

int main(void)
{
        const struct CMUnitTest dir_tests[] = {
                cmocka_unit_test(test_dir_put_load_reopen), cmocka_unit_test(test_dir_bad_path),
                cmocka_unit_test(test_dir_torn_line),       cmocka_unit_test(test_dir_garbage_refused),
                cmocka_unit_test(test_dir_compaction),      cmocka_unit_test(test_dir_forget),
                cmocka_unit_test(test_dir_concurrent),
        };
        const struct CMUnitTest kafka_tests[] = {
                cmocka_unit_test(test_kafka),
                cmocka_unit_test(test_kafka_bad_values),
        };
        char err[256];
        int rc;

        B = getenv("KAFKA_BOOTSTRAP");
        if (B && !*B)
                B = NULL;
        tmpdir = tu_tmpdir();
        assert_non_null(tmpdir);
        snprintf(logpath, sizeof(logpath), "%s/log", tmpdir);
        if (log_open(logpath, LL_INFO, err, sizeof(err))) {
                fprintf(stderr, "%s\n", err);
                return 1;
        }
        rc = cmocka_run_group_tests_name("filehash_dir", dir_tests, NULL, NULL);
        if (B)
                rc |= cmocka_run_group_tests_name("filehash_kafka", kafka_tests, NULL, NULL);
        else
                printf("test_filehash: KAFKA_BOOTSTRAP is not set: the Kafka backend is not tested here; "
                       "tests/integration/0750-status-store-kafka.sh runs it against a real broker\n");
        log_close();
        if (rc || getenv("TEST_SHOW_LOG")) {
                FILE *fp = fopen(logpath, "r");
                char line[2048];

                while (fp && fgets(line, sizeof(line), fp))
                        fputs(line, stderr);
                if (fp)
                        fclose(fp);
        }
        if (B)
                kconf_wait_destroyed(5000);
        tu_rmrf(tmpdir);
        free(tmpdir);
        return rc;
}
