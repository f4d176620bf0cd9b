/*
 * test_aa.c - the Access Anywhere client (common/aa.c, aa_http.c) against the real simulator
 * (jibe-aa-sim, found through $AASIM) and against a tiny local server that answers garbage.
 *
 * The group setup builds a deployment directory (sim.json and an S3 truth), starts the
 * simulator (tests/unit/tu_sim.h) on a random port; the teardown stops it. Tests that
 * set faults put them back before they end. Everything allocated is freed (valgrind).
 * test_tls_verify needs openssl and python3 (a self-signed TLS server) and skips without them.
 * AA_LOCAL_ONLY=1 runs only the tests that need no simulator.
 */
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "aa.h"
#include "buf.h"
#include "tu.h"
#include "tu_sim.h"

#define T_USER "admin"
#define T_PASS "s3cret-Pa55+&word"
#define T_TOKEN "PERMANENT-TOKEN-1"
#define T_PROV "101"
#define T_PROVNAME "S3 Prod"
#define T_BUCKET "prod-data"
#define T_MANY "many"
#define T_NMANY 2500
#define T_BIG (5u * 1024 * 1024 + 123)
#define T_SPECIAL "dir with space/a+b%20c \xc3\xbc =&?.txt"

static char *t_root;
static struct tu_sim t_sim = {-1, 0, ""};

/* ---------------------------------------------------------------- helpers */

/* Write an object into the truth atomically (see tu_write_atomic). */
static void t_truth_put(const char *bucket, const char *key, const void *p, size_t n)
{
        char path[4096];

        snprintf(path, sizeof(path), "%s/truth/%s/%s", t_root, bucket, key);
        assert_int_equal(tu_write_atomic(path, p, n), 0);
}

static void t_fill(unsigned char *p, size_t n, uint32_t seed)
{
        size_t i;
        uint32_t x = seed | 1;

        for (i = 0; i < n; i++) {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                p[i] = (unsigned char)x;
        }
}

static void t_faults(const char *form)
{
        assert_int_equal(tu_sim_faults(&t_sim, form), 0);
}

static void t_faults_off(void)
{
        t_faults("latency_ms=0&error500_rate=0&error429_rate=0&token_lifetime_s=3600"
                 "&slow_body_bps=0");
}

static struct aa_client *t_client_opts(struct aa_opts *o)
{
        struct aa_client *aa = NULL;
        char err[512];
        int rc = aa_client_new(o, &aa, err, sizeof(err));

        if (rc)
                fail_msg("aa_client_new: %s", err);
        return aa;
}

static void t_opts(struct aa_opts *o, int by_token)
{
        aa_opts_init(o);
        o->endpoint = t_sim.endpoint;
        if (by_token) {
                o->authtoken = T_TOKEN;
        } else {
                o->login = T_USER;
                o->password = T_PASS;
        }
        o->max_retries = 8;
        o->backoff_base_ms = 5;
        o->backoff_max_ms = 50;
        o->timeout_ms = 20000;
}

static struct aa_client *t_client(int by_token)
{
        struct aa_opts o;

        t_opts(&o, by_token);
        return t_client_opts(&o);
}

/* fi_id of a path below the root; caller frees. */
static char *t_id(struct aa_client *aa, const char *path)
{
        struct aa_item it;
        char err[512], *id;
        int rc = aa_check_path(aa, path, "0", &it, err, sizeof(err));

        if (rc)
                fail_msg("check_path %s: %s (%s)", path, err, jb_strerror(rc));
        id = strdup(it.fi_id);
        aa_item_clear(&it);
        return id;
}

struct t_names {
        size_t n;
        size_t files;
        int stop_after; /* 0: never */
        const char *want;
        int found;
        struct aa_item got;
        char last[1024];
        int sorted;
};

static int t_collect(void *opaque, const struct aa_item *it)
{
        struct t_names *tn = opaque;

        if (tn->n && it->type == AA_FILE && tn->files && strcmp(tn->last, it->name) >= 0)
                tn->sorted = 0;
        if (it->type == AA_FILE) {
                tn->files++;
                snprintf(tn->last, sizeof(tn->last), "%s", it->name);
        }
        tn->n++;
        if (tn->want && !strcmp(tn->want, it->name) && !tn->found) {
                tn->found = 1;
                assert_int_equal(aa_item_copy(&tn->got, it), JB_OK);
        }
        if (tn->stop_after && (int)tn->n >= tn->stop_after)
                return 1;
        return 0;
}

static int t_list(struct aa_client *aa, const char *pid, int refresh, struct t_names *tn)
{
        char err[512];
        int rc;

        tn->sorted = 1;
        rc = aa_list(aa, pid, refresh, t_collect, tn, err, sizeof(err));
        if (rc)
                print_message("aa_list: %s\n", err);
        return rc;
}

/* ---------------------------------------------------------------- simulator life */

static void t_write_file(const char *path, const char *text)
{
        assert_int_equal(tu_write_atomic(path, text, strlen(text)), 0);
}

static int t_sim_stop(void **state)
{
        (void)state;
        tu_sim_stop(&t_sim);
        if (t_root) {
                tu_rmrf(t_root);
                free(t_root);
                t_root = NULL;
        }
        aa_global_cleanup();
        return 0;
}

static int t_sim_start(void **state)
{
        char path[4096];
        unsigned char *big;
        int i;

        (void)state;
        assert_int_equal(aa_global_init(), JB_OK);
        t_root = tu_tmpdir();
        assert_non_null(t_root);
        snprintf(path, sizeof(path), "%s/sim.json", t_root);
        t_write_file(path, "{\"sitetitle\":\"jibe unit\",\"token_lifetime_s\":3600,\n"
                           " \"users\":[{\"login\":\"" T_USER "\",\"password\":\"s3cret-Pa55+&word\","
                           "\"userid\":\"1\",\"authtokens\":[\"" T_TOKEN "\"]}],\n"
                           " \"providers\":[{\"id\":\"" T_PROV "\",\"name\":\"" T_PROVNAME "\","
                           "\"access_key\":\"AKIAAASELFKEY0000001\","
                           "\"arn\":\"arn:aws:iam::111122223333:user/access-anywhere\","
                           "\"user_agent\":\"SMEStorage\",\"buckets\":[\"" T_BUCKET "\",\"" T_MANY "\"],"
                           "\"last_sync\":{\"start\":\"2026-11-29 06:00:00\","
                           "\"completed\":\"2026-11-29 06:20:00\",\"files\":12345,\"task\":true}}]}\n");
        t_truth_put(T_BUCKET, "hello.txt", "hello world\n", 12);
        t_truth_put(T_BUCKET, "docs/readme.md", "# readme\n", 9);
        t_truth_put(T_BUCKET, T_SPECIAL, "special\n", 8);
        big = malloc(T_BIG);
        assert_non_null(big);
        t_fill(big, T_BIG, 7);
        t_truth_put(T_BUCKET, "big.bin", big, T_BIG);
        free(big);
        for (i = 0; i < T_NMANY; i++) {
                char key[64];

                snprintf(key, sizeof(key), "f%05d.txt", i);
                t_truth_put(T_MANY, key, key, strlen(key));
        }

        if (tu_sim_start(&t_sim, t_root) != 0) {
                t_sim_stop(state);
                return -1;
        }
        return 0;
}

/* ---------------------------------------------------------------- tests against the sim */

static void test_time_parse(void **state)
{
        time_t t;

        (void)state;
        assert_int_equal(aa_time_parse("2020-08-11 10:10:04", &t), 0);
        assert_int_equal((long long)t, 1597140604LL);
        assert_int_equal(aa_time_parse("1970-01-01 00:00:00", &t), 0);
        assert_int_equal((long long)t, 0);
        assert_int_equal(aa_time_parse("", &t), 0);
        assert_int_equal((long long)t, 0);
        assert_int_equal(aa_time_parse("0000-00-00 00:00:00", &t), 0);
        assert_int_equal(aa_time_parse("2020-13-11 10:10:04", &t), -1);
        assert_int_equal(aa_time_parse("2020-08-11T10:10:04Z", &t), -1);
        assert_int_equal(aa_time_parse("yesterday", &t), -1);
}

static void test_bad_options(void **state)
{
        struct aa_client *aa = NULL;
        struct aa_opts o;
        char err[256];

        (void)state;
        t_opts(&o, 0);
        o.endpoint = "ftp://example.com";
        assert_int_equal(aa_client_new(&o, &aa, err, sizeof(err)), JB_EFATAL);
        assert_null(aa);
        t_opts(&o, 0);
        o.password = NULL;
        assert_int_equal(aa_client_new(&o, &aa, err, sizeof(err)), JB_EFATAL);
        assert_null(strstr(err, T_PASS));
        aa_client_free(NULL);
}

static void test_login_password(void **state)
{
        struct aa_client *aa = t_client(0);
        struct aa_appliance ai;
        struct aa_counters c;
        char err[512];

        (void)state;
        assert_int_equal(aa_appliance_info(aa, &ai, err, sizeof(err)), JB_OK);
        assert_string_equal(ai.sitetitle, "jibe unit");
        assert_true(strlen(ai.version_label) > 0);
        aa_appliance_clear(&ai);
        aa_appliance_clear(&ai); /* twice is fine */
        if (aa_login(aa, err, sizeof(err)))
                fail_msg("login: %s", err);
        aa_counters_get(aa, &c);
        assert_int_equal(c.logins, 1);
        aa_client_free(aa);
}

static void test_login_token_providers(void **state)
{
        struct aa_client *aa = t_client(1);
        struct aa_provider *p = NULL;
        struct aa_lastsync ls;
        struct aa_counters c;
        struct aa_task task;
        size_t n = 0, i;
        char err[512];
        int rc;

        (void)state;
        rc = aa_providers(aa, &p, &n, err, sizeof(err)); /* logs in lazily */
        if (rc)
                fail_msg("providers: %s", err);
        assert_int_equal(n, 1);
        assert_string_equal(p[0].id, T_PROV); /* fi_provider of the provider folder */
        assert_string_equal(p[0].name, T_PROVNAME);
        assert_true(*p[0].fi_id);
        assert_int_equal(p[0].nbuckets, 2);
        for (i = 0; i < p[0].nbuckets; i++)
                assert_true(*p[0].buckets[i].fi_id);
        assert_string_equal(p[0].buckets[0].name, T_MANY);
        assert_string_equal(p[0].buckets[1].name, T_BUCKET);

        /* the last full sync from the sync tasks (Python client's form and shape) */
        rc = aa_last_sync(aa, &p[0], &ls, err, sizeof(err));
        if (rc)
                fail_msg("last sync: %s", err);
        assert_int_equal((long long)ls.completed, 1795933200LL); /* 2026-11-29 06:20 */
        assert_int_equal((long long)ls.started, 1795932000LL);
        assert_int_equal(ls.files_indexed, 12345);
        assert_true(*ls.taskid);

        /* the same task by id (rclone's form and shape) */
        rc = aa_task_get(aa, ls.taskid, &task, err, sizeof(err));
        if (rc)
                fail_msg("task: %s", err);
        assert_int_equal(task.status, AA_TASK_DONE);
        assert_int_equal((long long)task.completed, 1795933200LL);
        assert_int_equal(task.files, 12345);
        assert_string_equal(task.type, "sync");
        assert_true(!strcmp(task.callback, "ReSync") || !strcmp(task.callback, "InitialSync"));
        aa_task_clear(&task);
        aa_lastsync_clear(&ls);
        assert_int_equal(aa_task_get(aa, "no-such-task-999", &task, err, sizeof(err)), JB_ENOTFOUND);
        aa_providers_free(p, n);

        aa_counters_get(aa, &c);
        assert_int_equal(c.logins, 1);
        assert_int_equal(c.relogins, 0);
        aa_client_free(aa);
}

/* One-element lists arrive as the element itself: listings and tasks still read. */
static void test_single_as_object(void **state)
{
        struct aa_client *aa = t_client(0);
        struct aa_provider *p = NULL;
        struct aa_lastsync ls;
        struct t_names tn;
        size_t n = 0;
        char err[512], *id;

        (void)state;
        t_faults("single_object=1");
        assert_int_equal(aa_providers(aa, &p, &n, err, sizeof(err)), JB_OK); /* root: one provider */
        assert_int_equal(n, 1);
        assert_string_equal(p[0].id, T_PROV);
        assert_int_equal(aa_last_sync(aa, &p[0], &ls, err, sizeof(err)), JB_OK); /* one task */
        assert_int_equal(ls.files_indexed, 12345);
        aa_lastsync_clear(&ls);
        id = t_id(aa, T_PROVNAME "/" T_BUCKET "/docs"); /* holds one file */
        memset(&tn, 0, sizeof(tn));
        tn.want = "readme.md";
        assert_int_equal(t_list(aa, id, 0, &tn), JB_OK);
        assert_int_equal(tn.n, 1);
        assert_true(tn.found);
        aa_item_clear(&tn.got);
        free(id);
        aa_providers_free(p, n);
        t_faults("single_object=0");
        aa_client_free(aa);
}

/* A session older than token_renew_s is renewed before the call, not after a refusal. */
static void test_token_renewal(void **state)
{
        struct aa_client *aa;
        struct aa_opts o;
        struct aa_counters c;
        struct t_names tn;
        char *id;

        (void)state;
        t_opts(&o, 0);
        o.token_renew_s = 1;
        aa = t_client_opts(&o);
        id = t_id(aa, T_PROVNAME);
        tu_sleep_ms(1100);
        memset(&tn, 0, sizeof(tn));
        assert_int_equal(t_list(aa, id, 0, &tn), JB_OK);
        aa_counters_get(aa, &c);
        assert_int_equal(c.logins, 2);
        assert_int_equal(c.relogins, 0); /* never refused */
        free(id);
        aa_client_free(aa);
}

static void test_wrong_password(void **state)
{
        struct aa_client *aa;
        struct aa_opts o;
        struct aa_provider *p;
        size_t n;
        char err[512];

        (void)state;
        t_opts(&o, 0);
        o.password = "wrong-Pa55word";
        aa = t_client_opts(&o);
        assert_int_equal(aa_providers(aa, &p, &n, err, sizeof(err)), JB_EFATAL);
        assert_null(strstr(err, "wrong-Pa55word"));
        assert_non_null(strstr(err, "login"));
        aa_client_free(aa);

        t_opts(&o, 1);
        o.authtoken = "NOT-A-TOKEN-42";
        aa = t_client_opts(&o);
        assert_int_equal(aa_login(aa, err, sizeof(err)), JB_EFATAL);
        assert_null(strstr(err, "NOT-A-TOKEN-42"));
        aa_client_free(aa);
}

static void test_paging(void **state)
{
        struct aa_client *aa = t_client(1);
        struct t_names tn;
        struct aa_counters c0, c1;
        char *id = t_id(aa, T_PROVNAME "/" T_MANY);

        (void)state;
        memset(&tn, 0, sizeof(tn));
        tn.want = "f02499.txt";
        aa_counters_get(aa, &c0);
        assert_int_equal(t_list(aa, id, 0, &tn), JB_OK);
        aa_counters_get(aa, &c1);
        assert_int_equal(tn.n, T_NMANY);
        assert_int_equal(tn.files, T_NMANY);
        assert_true(tn.sorted);
        assert_true(tn.found);
        assert_int_equal(tn.got.size, 10);
        assert_int_equal(tn.got.type, AA_FILE);
        assert_true(tn.got.modified > 1600000000);
        assert_string_equal(tn.got.fi_pid, id);
        aa_item_clear(&tn.got);
        assert_int_equal(c1.requests - c0.requests, 3); /* 1000 + 1000 + 500 */

        memset(&tn, 0, sizeof(tn));
        tn.stop_after = 10;
        assert_int_equal(t_list(aa, id, 0, &tn), JB_OK);
        assert_int_equal(tn.n, 10);
        free(id);
        aa_client_free(aa);
}

/* Per-call answer ceilings: a listing page may be big (64 KiB + 4 KiB per item asked for),
 * any other answer at most 1 MiB; past that the transfer stops, the call is retried, and
 * JB_ELIMIT names the call and its limit. Checked with the simulator's padded answers. */
static int t_count_cb(void *opaque, const struct aa_item *it)
{
        (void)it;
        (*(size_t *)opaque)++;
        return 0;
}

static void test_answer_ceilings(void **state)
{
        struct aa_opts o;
        struct aa_client *aa;
        struct aa_counters c0, c1;
        char err[512], *id;
        size_t n = 0;

        (void)state;
        t_opts(&o, 1);
        o.max_retries = 1;
        aa = t_client_opts(&o);
        id = t_id(aa, T_PROVNAME "/" T_MANY);
        /* 2 MB more in each page of 1000 items: within the listing's ceiling */
        t_faults("answer_pad_bytes=2000000&answer_pad_function=getFolderContents");
        assert_int_equal(aa_list(aa, id, 0, t_count_cb, &n, err, sizeof(err)), JB_OK);
        assert_int_equal(n, T_NMANY);
        /* 5 MB more: refused while it arrives, retried, then JB_ELIMIT */
        aa_counters_get(aa, &c0);
        t_faults("answer_pad_bytes=5000000");
        assert_int_equal(aa_list(aa, id, 0, t_count_cb, &n, err, sizeof(err)), JB_ELIMIT);
        aa_counters_get(aa, &c1);
        assert_non_null(
                strstr(err,
                       "answer to getFolderContents, more than the 4161536-byte limit for this call"));
        assert_int_equal(c1.requests - c0.requests, 2);
        /* a small call: 1 MiB */
        t_faults("answer_pad_bytes=2000000&answer_pad_function=checkPathExists");
        assert_int_equal(aa_check_path(aa, T_PROVNAME, "0", NULL, err, sizeof(err)), JB_ELIMIT);
        assert_non_null(
                strstr(err,
                       "answer to checkPathExists, more than the 1048576-byte limit for this call"));
        t_faults("answer_pad_bytes=200000");
        assert_int_equal(aa_check_path(aa, T_PROVNAME, "0", NULL, err, sizeof(err)), JB_OK);
        t_faults("answer_pad_bytes=0&answer_pad_function=");
        free(id);
        aa_client_free(aa);
}

static void test_refresh(void **state)
{
        struct aa_client *aa = t_client(0);
        struct t_names tn;
        char *id = t_id(aa, T_PROVNAME "/" T_BUCKET);

        (void)state;
        t_truth_put(T_BUCKET, "added-later.txt", "new\n", 4);
        memset(&tn, 0, sizeof(tn));
        tn.want = "added-later.txt";
        assert_int_equal(t_list(aa, id, 0, &tn), JB_OK);
        assert_false(tn.found); /* the index does not know it yet */
        memset(&tn, 0, sizeof(tn));
        tn.want = "added-later.txt";
        assert_int_equal(t_list(aa, id, 1, &tn), JB_OK);
        assert_true(tn.found);
        assert_int_equal(tn.got.size, 4);
        aa_item_clear(&tn.got);
        free(id);
        aa_client_free(aa);
}

/* The refresh is asynchronous: a listing during it shows the old index; aa_refresh waits. */
static void test_refresh_async(void **state)
{
        struct aa_client *aa = t_client(0);
        struct aa_counters c0, c1;
        struct t_names tn;
        char err[512], *tok = NULL, *id = t_id(aa, T_PROVNAME "/" T_BUCKET);
        int running = 0;

        (void)state;
        t_faults("refresh_ms=400");
        t_truth_put(T_BUCKET, "async-later.txt", "new\n", 4);
        assert_int_equal(aa_refresh_start(aa, id, &tok, err, sizeof(err)), JB_OK);
        assert_non_null(tok);
        memset(&tn, 0, sizeof(tn));
        tn.want = "async-later.txt";
        assert_int_equal(t_list(aa, id, 0, &tn), JB_OK);
        assert_false(tn.found); /* still refreshing */
        assert_int_equal(aa_refresh_poll(aa, id, tok, &running, err, sizeof(err)), JB_OK);
        assert_true(running);
        free(tok);
        /* aa_refresh: start, polls until done; afterwards the listing has it */
        t_truth_put(T_BUCKET, "async-later2.txt", "new2\n", 5);
        aa_counters_get(aa, &c0);
        assert_int_equal(aa_refresh(aa, id, err, sizeof(err)), JB_OK);
        aa_counters_get(aa, &c1);
        assert_true(c1.refresh_polls - c0.refresh_polls >= 1);
        memset(&tn, 0, sizeof(tn));
        tn.want = "async-later2.txt";
        assert_int_equal(t_list(aa, id, 0, &tn), JB_OK);
        assert_true(tn.found);
        aa_item_clear(&tn.got);
        /* refreshed recently: no token, nothing started, listing as is */
        t_faults("refresh_ms=0&refresh_quiet_ms=60000");
        assert_int_equal(aa_refresh_start(aa, id, &tok, err, sizeof(err)), JB_OK);
        assert_null(tok);
        assert_int_equal(aa_refresh(aa, id, err, sizeof(err)), JB_OK);
        t_faults("refresh_quiet_ms=0&refresh_ms=150");
        free(id);
        aa_client_free(aa);
}

/* A refresh that never finishes ends in JB_ETRANSIENT after refresh_timeout_ms. */
static void test_refresh_stuck(void **state)
{
        struct aa_client *aa;
        struct aa_opts o;
        char err[512], *id;
        int64_t t0;

        (void)state;
        t_opts(&o, 0);
        o.refresh_timeout_ms = 800;
        o.refresh_poll_ms = 50;
        aa = t_client_opts(&o);
        id = t_id(aa, T_PROVNAME "/" T_BUCKET);
        t_faults("refresh_stuck=1");
        t0 = tu_now_ms();
        assert_int_equal(aa_refresh(aa, id, err, sizeof(err)), JB_ETRANSIENT);
        assert_true(tu_now_ms() - t0 >= 700 && tu_now_ms() - t0 < 5000);
        assert_non_null(strstr(err, "did not finish"));
        assert_int_equal(aa_list(aa, id, 1, t_collect, &(struct t_names){0}, err, sizeof(err)),
                         JB_ETRANSIENT);
        t_faults("refresh_stuck=0");
        free(id);
        aa_client_free(aa);
}

static int t_count_write(void *opaque, const void *p, size_t n)
{
        (void)p;
        *(size_t *)opaque += n;
        return 0;
}

/* getFile failure headers (X-NAA-*, legacy X-SME-*) and a cut body: a retryable fetch
 * error naming the server's message, never bytes handed over as the file. */
static void test_download_errors(void **state)
{
        struct aa_client *aa = t_client(0);
        struct aa_item it;
        char err[512];
        size_t got = 0;

        (void)state;
        assert_int_equal(aa_check_path(aa, T_PROVNAME "/" T_BUCKET "/hello.txt", "0", &it, err,
                                       sizeof(err)),
                         JB_OK);
        t_faults("download_error_rate=1");
        assert_int_equal(aa_download(aa, it.fi_id, t_count_write, &got, err, sizeof(err)),
                         JB_ETRANSIENT);
        assert_int_equal(got, 0);
        assert_non_null(strstr(err, "could not serve the file"));
        assert_null(strstr(err, "<html>"));
        print_message("download error: %s\n", err);
        t_faults("download_error_legacy=1");
        assert_int_equal(aa_download(aa, it.fi_id, t_count_write, &got, err, sizeof(err)),
                         JB_ETRANSIENT);
        assert_int_equal(got, 0);
        assert_non_null(strstr(err, "could not serve the file"));
        t_faults("download_error_rate=0&download_error_legacy=0&download_cut_rate=1");
        aa_item_clear(&it);
        assert_int_equal(aa_check_path(aa, T_PROVNAME "/" T_BUCKET "/big.bin", "0", &it, err,
                                       sizeof(err)),
                         JB_OK);
        got = 0;
        assert_int_equal(aa_download(aa, it.fi_id, t_count_write, &got, err, sizeof(err)),
                         JB_ETRANSIENT);
        assert_true(got < T_BIG);
        t_faults("download_cut_rate=0");
        got = 0;
        assert_int_equal(aa_download(aa, it.fi_id, t_count_write, &got, err, sizeof(err)), JB_OK);
        assert_int_equal(got, T_BIG);
        aa_item_clear(&it);
        aa_client_free(aa);
}

/* One hostile kind at rate 1: aa_download_ex() refuses the answer as a fetch error
 * (JB_ETRANSIENT) whose message contains want_msg; *got: bytes handed over. */
static void t_hostile(struct aa_client *aa, const struct aa_item *it, const char *kind, char *err,
                      size_t errsz, size_t *got)
{
        struct aa_dl_want want = {it->size, 1};
        char form[128];
        int rc;

        snprintf(form, sizeof(form), "download_hostile=%s&download_hostile_rate=1", kind);
        t_faults(form);
        *got = 0;
        err[0] = '\0';
        rc = aa_download_ex(aa, it->fi_id, &want, t_count_write, got, err, errsz);
        t_faults("download_hostile=none&download_hostile_rate=0");
        if (rc != JB_ETRANSIENT)
                fail_msg("%s: got %s (%s), want a fetch error", kind, jb_strerror(rc), err);
        print_message("%s: %s\n", kind, err);
}

/* Two answers of one hostile kind come in either order: put the one refused before any
 * byte (got 0) first. err and err2 are 512-byte buffers. */
static void t_refused_first(char *err, size_t *got, char *err2, size_t *got2)
{
        char tmp[512];
        size_t g = *got;

        if (!*got)
                return;
        memcpy(tmp, err, sizeof(tmp));
        memcpy(err, err2, sizeof(tmp));
        memcpy(err2, tmp, sizeof(tmp));
        *got = *got2;
        *got2 = g;
}

/* Answers that are not the file, with no failure header: a 200 HTML page, a redirect, a
 * 404 JSON body that is not the API's, half the file (Content-Length lying or absent), the
 * file padded (Content-Length matching the body, or absent and the bytes in front): each
 * a fetch error naming what was wrong; the same answers without faults are the file. */
static void test_download_hostile(void **state)
{
        struct aa_client *aa;
        struct aa_opts o;
        struct aa_dl_want want;
        struct aa_item small, big;
        char err[512], err2[512];
        size_t got = 0, got2 = 0;

        (void)state;
        t_opts(&o, 0);
        o.max_retries = 0; /* one answer per call: the forms of a kind alternate */
        o.backoff_base_ms = 1;
        o.backoff_max_ms = 5;
        aa = t_client_opts(&o);
        assert_int_equal(aa_check_path(aa, T_PROVNAME "/" T_BUCKET "/hello.txt", "0", &small, err,
                                       sizeof(err)),
                         JB_OK);
        assert_int_equal(aa_check_path(aa, T_PROVNAME "/" T_BUCKET "/big.bin", "0", &big, err,
                                       sizeof(err)),
                         JB_OK);
        assert_int_equal(small.size, 12);
        assert_int_equal(big.size, T_BIG);

        t_hostile(aa, &small, "html", err, sizeof(err), &got);
        assert_int_equal(got, 0);
        assert_non_null(strstr(err, "HTML page"));
        assert_non_null(strstr(err, "HTTP 200"));
        assert_non_null(strstr(err, "text/html"));

        t_hostile(aa, &small, "redirect", err, sizeof(err), &got);
        assert_int_equal(got, 0);
        assert_non_null(strstr(err, "HTTP 301"));
        assert_non_null(strstr(err, "redirect to maintenance.example.invalid"));
        assert_null(strstr(err, "https://")); /* the host only, never the whole address */

        t_hostile(aa, &small, "json404", err, sizeof(err), &got);
        assert_int_equal(got, 0);
        assert_non_null(strstr(err, "HTTP 404"));
        assert_non_null(strstr(err, "application/json"));
        assert_non_null(strstr(err, "not an Access Anywhere answer"));

        /* short: one with a lying Content-Length (refused before the body), one without
         * (half handed over, then refused); the order depends on earlier counts */
        t_hostile(aa, &big, "short", err, sizeof(err), &got);
        t_hostile(aa, &big, "short", err2, sizeof(err2), &got2);
        t_refused_first(err, &got, err2, &got2);
        assert_int_equal(got, 0);
        assert_non_null(strstr(err, "announces 2621501 bytes"));
        assert_non_null(strstr(err, "listed with 5243003"));
        assert_int_equal(got2, T_BIG / 2);
        assert_non_null(strstr(err2, "2621501 bytes received, the file is listed with 5243003"));
        assert_non_null(strstr(err2, "Content-Length not sent"));
        assert_non_null(strstr(err2, "start again"));

        /* size: padded with a matching Content-Length (refused before the body), or padded in
         * front without one (stopped where it passes the listed size) */
        t_hostile(aa, &big, "size", err, sizeof(err), &got);
        t_hostile(aa, &big, "size", err2, sizeof(err2), &got2);
        t_refused_first(err, &got, err2, &got2);
        assert_int_equal(got, 0);
        assert_non_null(strstr(err, "announces 5243019 bytes"));
        assert_true(got2 > 0 && got2 <= T_BIG);
        assert_non_null(strstr(err2, "more than the 5243003 bytes"));

        /* a listed size that is wrong refuses the right bytes too; the right one takes them */
        want.size = small.size + 1;
        want.no_pages = 1;
        got = 0;
        assert_int_equal(aa_download_ex(aa, small.fi_id, &want, t_count_write, &got, err, sizeof(err)),
                         JB_ETRANSIENT);
        assert_non_null(strstr(err, "listed with 13"));
        want.size = small.size;
        got = 0;
        assert_int_equal(aa_download_ex(aa, small.fi_id, &want, t_count_write, &got, err, sizeof(err)),
                         JB_OK);
        assert_int_equal(got, 12);
        want.size = big.size;
        got = 0;
        assert_int_equal(aa_download_ex(aa, big.fi_id, &want, t_count_write, &got, err, sizeof(err)),
                         JB_OK);
        assert_int_equal(got, T_BIG);
        /* the simulator counted every kind */
        {
                int st = 0;
                char *r = tu_sim_http(&t_sim, "GET", "/sim/stats", NULL, &st);

                assert_non_null(r);
                assert_non_null(strstr(r, "\"download_hostile\":{\"html\":"));
                free(r);
        }
        aa_item_clear(&small);
        aa_item_clear(&big);
        aa_client_free(aa);
}

/* The uploader may answer in XML (rclone reads both). */
static void test_upload_xml(void **state)
{
        struct aa_client *aa = t_client(0);
        struct aa_item it;
        char err[512], *id = t_id(aa, T_PROVNAME "/" T_BUCKET);

        (void)state;
        t_faults("uploader_xml=1");
        assert_int_equal(aa_upload(aa, id, "xml-answer.txt", "via xml", 7, &it, err, sizeof(err)),
                         JB_OK);
        assert_int_equal(it.size, 7);
        aa_item_clear(&it);
        t_faults("uploader_xml=0");
        free(id);
        aa_client_free(aa);
}

/* A server without syncOnProviderEvent: JB_ENOTSUP, not a retryable or input error. */
static void test_sync_unknown(void **state)
{
        struct aa_client *aa = t_client(0);
        char err[512];

        (void)state;
        t_faults("sync_event_off=1");
        assert_int_equal(aa_sync(aa, T_PROV, T_BUCKET, "x.txt", "put", NULL, err, sizeof(err)),
                         JB_ENOTSUP);
        assert_non_null(strstr(err, "does not know"));
        t_faults("sync_event_off=0");
        aa_client_free(aa);
}

struct t_cmp {
        const unsigned char *want;
        size_t len, off;
        size_t chunks;
        int mismatch;
        int stop_at; /* return JB_EIO after this many bytes (0: never) */
};

static int t_cmp_write(void *opaque, const void *p, size_t n)
{
        struct t_cmp *c = opaque;

        c->chunks++;
        if (c->off + n > c->len || memcmp(c->want + c->off, p, n) != 0)
                c->mismatch = 1;
        c->off += n;
        if (c->stop_at && c->off >= (size_t)c->stop_at)
                return JB_EIO;
        return 0;
}

static void test_download(void **state)
{
        struct aa_client *aa = t_client(1);
        unsigned char *big = malloc(T_BIG);
        struct aa_item it;
        struct t_cmp c;
        char err[512];
        int rc;

        (void)state;
        assert_non_null(big);
        t_fill(big, T_BIG, 7);
        rc = aa_check_path(aa, T_PROVNAME "/" T_BUCKET "/big.bin", "0", &it, err, sizeof(err));
        if (rc)
                fail_msg("check_path: %s", err);
        assert_int_equal(it.size, T_BIG);
        memset(&c, 0, sizeof(c));
        c.want = big;
        c.len = T_BIG;
        rc = aa_download(aa, it.fi_id, t_cmp_write, &c, err, sizeof(err));
        if (rc)
                fail_msg("download: %s", err);
        assert_int_equal(c.off, T_BIG);
        assert_false(c.mismatch);
        assert_true(c.chunks > 1); /* streamed, not one buffer */

        /* the receiver can stop a download; its code comes back */
        memset(&c, 0, sizeof(c));
        c.want = big;
        c.len = T_BIG;
        c.stop_at = 100000;
        assert_int_equal(aa_download(aa, it.fi_id, t_cmp_write, &c, err, sizeof(err)), JB_EIO);
        assert_false(c.mismatch);
        aa_item_clear(&it);

        memset(&c, 0, sizeof(c));
        assert_int_equal(aa_download(aa, "999999999", t_cmp_write, &c, err, sizeof(err)), JB_ENOTFOUND);
        assert_int_equal(c.off, 0);
        assert_int_equal(aa_check_path(aa, T_PROVNAME "/" T_BUCKET "/nope.bin", "0", &it, err,
                                       sizeof(err)),
                         JB_ENOTFOUND);
        free(big);
        aa_client_free(aa);
}

/* A body slower than the low-speed limit ends the download; bytes were already delivered,
 * so the client must not retry by itself and says the download must start again. */
static void test_slow_download(void **state)
{
        struct aa_client *aa;
        struct aa_opts o;
        struct aa_item it;
        struct aa_counters c;
        struct t_cmp cmp;
        unsigned char *big = malloc(T_BIG);
        char err[512];
        int rc;

        (void)state;
        assert_non_null(big);
        t_fill(big, T_BIG, 7);
        t_opts(&o, 1);
        o.low_speed_limit = 1000000; /* 1 MB/s during 1 s */
        o.low_speed_time = 1;
        aa = t_client_opts(&o);
        rc = aa_check_path(aa, T_PROVNAME "/" T_BUCKET "/big.bin", "0", &it, err, sizeof(err));
        if (rc)
                fail_msg("check_path: %s", err);
        t_faults("slow_body_bps=50000");
        memset(&cmp, 0, sizeof(cmp));
        cmp.want = big;
        cmp.len = T_BIG;
        rc = aa_download(aa, it.fi_id, t_cmp_write, &cmp, err, sizeof(err));
        t_faults_off();
        aa_counters_get(aa, &c);
        if (rc != JB_ETRANSIENT)
                fail_msg("slow download: %s (%s)", jb_strerror(rc), err);
        assert_true(cmp.off > 0 && cmp.off < T_BIG);
        assert_false(cmp.mismatch);
        assert_non_null(strstr(err, "start again"));
        assert_int_equal(c.retries, 0);
        aa_item_clear(&it);
        free(big);
        aa_client_free(aa);
}

static void test_upload_mkdir_delete(void **state)
{
        struct aa_client *aa = t_client(0);
        char *id = t_id(aa, T_PROVNAME "/" T_BUCKET);
        static const char data[] = "uploaded by the unit test\n";
        const char *name = "up load+%41 \xc3\xa9.txt";
        struct aa_item it, dir;
        struct t_names tn;
        struct t_cmp c;
        char err[512], path[4096], *truth;
        size_t tl = 0;
        int rc;

        (void)state;
        rc = aa_upload(aa, id, name, data, sizeof(data) - 1, &it, err, sizeof(err));
        if (rc)
                fail_msg("upload: %s", err);
        assert_string_equal(it.name, name);
        assert_int_equal(it.size, sizeof(data) - 1);
        memset(&tn, 0, sizeof(tn));
        tn.want = name;
        assert_int_equal(t_list(aa, id, 0, &tn), JB_OK);
        assert_true(tn.found);
        assert_string_equal(tn.got.fi_id, it.fi_id);
        aa_item_clear(&tn.got);
        snprintf(path, sizeof(path), "%s/truth/%s/%s", t_root, T_BUCKET, name);
        truth = tu_slurp(path, &tl);
        assert_non_null(truth);
        assert_int_equal(tl, sizeof(data) - 1);
        assert_memory_equal(truth, data, tl);
        free(truth);
        memset(&c, 0, sizeof(c));
        c.want = (const unsigned char *)data;
        c.len = sizeof(data) - 1;
        assert_int_equal(aa_download(aa, it.fi_id, t_cmp_write, &c, err, sizeof(err)), JB_OK);
        assert_int_equal(c.off, sizeof(data) - 1);
        assert_false(c.mismatch);

        /* an empty file */
        aa_item_clear(&it);
        rc = aa_upload(aa, id, "empty.txt", "", 0, &it, err, sizeof(err));
        if (rc)
                fail_msg("upload empty: %s", err);
        assert_int_equal(it.size, 0);
        memset(&c, 0, sizeof(c));
        assert_int_equal(aa_download(aa, it.fi_id, t_cmp_write, &c, err, sizeof(err)), JB_OK);
        assert_int_equal(c.off, 0);

        rc = aa_mkdir(aa, id, "new folder", &dir, err, sizeof(err));
        if (rc)
                fail_msg("mkdir: %s", err);
        assert_int_equal(dir.type, AA_FOLDER);
        assert_string_equal(dir.name, "new folder");
        assert_int_equal(aa_delete(aa, dir.fi_id, err, sizeof(err)), JB_EINPUT); /* a folder */
        rc = aa_rmdir(aa, dir.fi_id, err, sizeof(err));
        if (rc)
                fail_msg("delete folder: %s", err);
        rc = aa_delete(aa, it.fi_id, err, sizeof(err));
        if (rc)
                fail_msg("delete file: %s", err);
        assert_int_equal(aa_delete(aa, it.fi_id, err, sizeof(err)), JB_ENOTFOUND);
        memset(&tn, 0, sizeof(tn));
        tn.want = "new folder";
        assert_int_equal(t_list(aa, id, 0, &tn), JB_OK);
        assert_false(tn.found);
        aa_item_clear(&it);
        aa_item_clear(&dir);
        free(id);
        aa_client_free(aa);
}

static int t_diff_has(const char *key)
{
        int st = 0, has;
        char *d = tu_sim_http(&t_sim, "GET", "/sim/diff", NULL, &st);

        assert_non_null(d);
        assert_int_equal(st, 200);
        has = strstr(d, key) != NULL;
        free(d);
        return has;
}

static void test_sync_diff(void **state)
{
        struct aa_client *aa = t_client(1);
        struct aa_sync_out so;
        struct aa_item it;
        char err[512], path[4096];
        int rc;

        (void)state;
        t_truth_put(T_BUCKET, "synced/obj-1.txt", "sync me\n", 8);
        assert_true(t_diff_has("synced/obj-1.txt"));
        rc = aa_sync(aa, T_PROV, T_BUCKET, "synced/obj-1.txt", "put", &so, err, sizeof(err));
        if (rc)
                fail_msg("sync: %s", err);
        assert_int_equal(so.result, AA_SYNC_UPDATED);
        assert_false(t_diff_has("synced/obj-1.txt"));
        assert_int_equal(aa_check_path(aa, T_PROVNAME "/" T_BUCKET "/synced/obj-1.txt", "0", &it, err,
                                       sizeof(err)),
                         JB_OK);
        assert_int_equal(it.size, 8);
        aa_item_clear(&it);

        rc = aa_sync(aa, T_PROV, T_BUCKET, "synced/obj-1.txt", "put", &so, err, sizeof(err));
        assert_int_equal(rc, JB_OK);
        assert_int_equal(so.result, AA_SYNC_UNCHANGED);

        snprintf(path, sizeof(path), "%s/truth/%s/synced/obj-1.txt", t_root, T_BUCKET);
        assert_int_equal(unlink(path), 0);
        rc = aa_sync(aa, T_PROV, T_BUCKET, "synced/obj-1.txt", "delete", &so, err, sizeof(err));
        assert_int_equal(rc, JB_OK);
        assert_int_equal(so.result, AA_SYNC_REMOVED);
        assert_int_equal(aa_check_path(aa, T_PROVNAME "/" T_BUCKET "/synced/obj-1.txt", "0", &it, err,
                                       sizeof(err)),
                         JB_ENOTFOUND);

        rc = aa_sync(aa, T_PROV, T_BUCKET, NULL, "bucket", &so, err, sizeof(err));
        assert_int_equal(rc, JB_OK);
        assert_int_equal(so.result, AA_SYNC_BUCKET);

        assert_int_equal(aa_sync(aa, "999", T_BUCKET, "x", "put", &so, err, sizeof(err)), JB_ENOTFOUND);
        assert_int_equal(aa_sync(aa, T_PROV, "not-my-bucket", "x", "put", &so, err, sizeof(err)),
                         JB_ENOTFOUND);
        aa_client_free(aa);
}

static void test_special_keys(void **state)
{
        struct aa_client *aa = t_client(0);
        char longkey[1100], path[1400], err[512];
        struct aa_sync_out so;
        struct aa_item it;
        struct t_names tn;
        char *dirid;
        size_t i;
        int rc;

        (void)state;
        /* present from the start: check_path and the listing give the exact name */
        rc = aa_check_path(aa, T_PROVNAME "/" T_BUCKET "/" T_SPECIAL, "0", &it, err, sizeof(err));
        if (rc)
                fail_msg("check_path special: %s", err);
        assert_int_equal(it.size, 8);
        aa_item_clear(&it);
        dirid = t_id(aa, T_PROVNAME "/" T_BUCKET "/dir with space");
        memset(&tn, 0, sizeof(tn));
        tn.want = strchr(T_SPECIAL, '/') + 1;
        assert_int_equal(t_list(aa, dirid, 0, &tn), JB_OK);
        assert_true(tn.found);
        aa_item_clear(&tn.got);
        free(dirid);

        /* a new key synced by name: plus, percent, spaces, unicode, a long last part */
        snprintf(longkey, sizeof(longkey), "x y/p+q%%41 \xc3\xa9\xe2\x82\xac/");
        for (i = strlen(longkey); i < 900; i++) /* parts of 200 bytes: NAME_MAX is 255 */
                longkey[i] = (i % 200 == 199) ? '/' : (char)('a' + i % 26);
        longkey[i] = '\0';
        t_truth_put(T_BUCKET, longkey, "long\n", 5);
        rc = aa_sync(aa, T_PROV, T_BUCKET, longkey, "put", &so, err, sizeof(err));
        if (rc)
                fail_msg("sync special: %s", err);
        assert_int_equal(so.result, AA_SYNC_UPDATED);
        snprintf(path, sizeof(path), T_PROVNAME "/" T_BUCKET "/%s", longkey);
        rc = aa_check_path(aa, path, "0", &it, err, sizeof(err));
        if (rc)
                fail_msg("check_path long: %s", err);
        assert_string_equal(it.name, strrchr(longkey, '/') + 1);
        assert_int_equal(it.size, 5);
        aa_item_clear(&it);
        aa_client_free(aa);
}

static void test_relogin(void **state)
{
        struct aa_client *aa = t_client(1);
        struct aa_counters c;
        struct aa_provider *p;
        size_t n;
        char err[512];
        int64_t deadline;
        int rc;

        (void)state;
        rc = aa_providers(aa, &p, &n, err, sizeof(err));
        assert_int_equal(rc, JB_OK);
        aa_providers_free(p, n);
        t_faults("token_lifetime_s=1");
        deadline = tu_now_ms() + 15000;
        for (;;) {
                rc = aa_providers(aa, &p, &n, err, sizeof(err));
                if (rc)
                        fail_msg("providers during expiry: %s", err);
                aa_providers_free(p, n);
                aa_counters_get(aa, &c);
                if (c.relogins > 0 || tu_now_ms() > deadline)
                        break;
                tu_sleep_ms(100);
        }
        t_faults_off();
        assert_true(c.relogins > 0);
        assert_int_equal(c.logins, 1 + c.relogins);
        aa_client_free(aa);
}

static void t_many_calls(const char *faults, int by_token)
{
        struct aa_client *aa = t_client(by_token);
        struct aa_counters c;
        struct t_names tn;
        char *id;
        int i;

        id = t_id(aa, T_PROVNAME "/" T_BUCKET);
        t_faults(faults);
        for (i = 0; i < 30; i++) {
                memset(&tn, 0, sizeof(tn));
                if (t_list(aa, id, 0, &tn) != JB_OK) {
                        t_faults_off();
                        fail_msg("list %d failed under %s", i, faults);
                }
                assert_true(tn.n >= 3);
        }
        t_faults_off();
        aa_counters_get(aa, &c);
        assert_true(c.retries > 0);
        assert_int_equal(c.requests, c.retries + c.logins + 31);
        free(id);
        aa_client_free(aa);
}

static void test_retry_500(void **state)
{
        (void)state;
        t_many_calls("error500_rate=0.3&seed=42", 1);
}

static void test_retry_429(void **state)
{
        (void)state;
        t_many_calls("error429_rate=0.3&seed=7", 0);
}

static void test_tls_to_plain_port(void **state)
{
        struct aa_client *aa;
        struct aa_opts o;
        struct aa_appliance ai;
        char ep[64], err[512];
        int rc;

        (void)state;
        snprintf(ep, sizeof(ep), "https://127.0.0.1:%d", t_sim.port);
        t_opts(&o, 1);
        o.endpoint = ep;
        o.max_retries = 1;
        aa = t_client_opts(&o);
        rc = aa_appliance_info(aa, &ai, err, sizeof(err));
        assert_true(rc == JB_ETRANSIENT || rc == JB_EFATAL);
        assert_non_null(strstr(err, "TLS"));
        aa_client_free(aa);

        /* an http endpoint is refused unless the URL says http:// */
        t_opts(&o, 1);
        o.endpoint = "HTTP://127.0.0.1:1";
        assert_int_equal(aa_client_new(&o, &aa, err, sizeof(err)), JB_EFATAL);
}

struct t_dbg {
        struct buf b;
};

static void t_debug(void *opaque, const char *line)
{
        struct t_dbg *d = opaque;

        assert_int_equal(buf_puts(&d->b, line), JB_OK);
        assert_int_equal(buf_puts(&d->b, "\n"), JB_OK);
}

static void test_debug_hook_masks(void **state)
{
        struct aa_client *aa;
        struct aa_opts o;
        struct aa_provider *p;
        struct t_dbg d;
        size_t n;
        char err[512];

        (void)state;
        buf_init(&d.b, 16u * 1024 * 1024);
        t_opts(&o, 0);
        o.debug = t_debug;
        o.debug_opaque = &d;
        aa = t_client_opts(&o);
        assert_int_equal(aa_providers(aa, &p, &n, err, sizeof(err)), JB_OK);
        aa_providers_free(p, n);
        aa_client_free(aa);
        assert_non_null(d.b.p);
        assert_non_null(strstr(d.b.p, "function=getToken"));
        assert_non_null(strstr(d.b.p, "us_login=admin"));
        assert_non_null(strstr(d.b.p, "us_pwd=***"));
        assert_non_null(strstr(d.b.p, "\"token\":\"***\""));
        assert_null(strstr(d.b.p, "s3cret"));
        assert_null(strstr(d.b.p, "Pa55"));
        buf_clear(&d.b);
}

/* ---------------------------------------------------------------- a server that misbehaves */

enum t_gmode {
        G_HTML,
        G_TRUNC_JSON,
        G_ARRAY,
        G_NOSTATUS,
        G_EMPTY,
        G_SHORT,
        G_BIG,
        G_401,
        G_503,
        G_BADLIST,
        G_BADITEM,
        G_BADTIME,
        G_EXPIRED,
        G_UNKNOWN_STATUS,
        G_FILE_JSON_ERR,
        G_FILE_BREAK,
        G_FILE_JSON_OK,
        G_REFRESH_BAD,
        G_REFRESH_FOREVER,
        G_TASKS_BAD,
        G_FILE_HDR_ERR,
        G_ITEM_LIST,
};

struct t_gsrv {
        int lfd, port;
        volatile int stop;
        volatile int mode;
        volatile int nreq;
        pthread_t th;
};

static void t_gsend_h(int fd, int code, const char *ctype, const char *extra, const char *body,
                      long clen)
{
        char hdr[1024];
        size_t bl = strlen(body);
        int n = snprintf(hdr, sizeof(hdr),
                         "HTTP/1.1 %d X\r\nContent-Type: %s\r\nContent-Length: %ld\r\n%s"
                         "Connection: close\r\n\r\n",
                         code, ctype, clen >= 0 ? clen : (long)bl, extra);

        if (write(fd, hdr, (size_t)n) != n)
                return;
        if (bl && write(fd, body, bl) != (ssize_t)bl)
                return;
}

static void t_gsend(int fd, int code, const char *ctype, const char *body, long clen)
{
        t_gsend_h(fd, code, ctype, "", body, clen);
}

static void t_gserve(struct t_gsrv *g, int fd)
{
        char req[65536];
        size_t len = 0;
        char *hend = NULL, *cl;
        long want = 0;

        /* read the whole request: headers, then Content-Length bytes */
        while (len < sizeof(req) - 1) {
                ssize_t r = read(fd, req + len, sizeof(req) - 1 - len);

                if (r <= 0)
                        break;
                len += (size_t)r;
                req[len] = '\0';
                if (!hend && (hend = strstr(req, "\r\n\r\n")) != NULL) {
                        cl = strstr(req, "Content-Length:");
                        want = cl ? strtol(cl + 15, NULL, 10) : 0;
                }
                if (hend && (long)(len - (size_t)(hend + 4 - req)) >= want)
                        break;
        }
        req[len] = '\0';
        g->nreq++;
        if (strstr(req, "function=getTokenByAuthToken") || strstr(req, "function=getToken&")) {
                t_gsend(fd, 200, "application/json",
                        "{\"status\":\"ok\",\"statusmessage\":\"\",\"token\":\"SESSION-TOK-XYZ\"}", -1);
                return;
        }
        switch (g->mode) {
        case G_HTML:
                t_gsend(fd, 200, "text/html", "<html><body>Service maintenance</body></html>", -1);
                break;
        case G_TRUNC_JSON:
                t_gsend(fd, 200, "application/json", "{\"status\":\"ok\",\"providers\":[{\"pi_id\":\"1",
                        -1);
                break;
        case G_ARRAY:
                t_gsend(fd, 200, "application/json", "[1,2,3]", -1);
                break;
        case G_NOSTATUS:
                t_gsend(fd, 200, "application/json", "{\"foo\":1}", -1);
                break;
        case G_EMPTY:
                t_gsend(fd, 200, "application/json", "", -1);
                break;
        case G_SHORT:
                t_gsend(fd, 200, "application/json", "{\"status\":\"ok\",", 500);
                break;
        case G_BIG: {
                static char big[4097];

                memset(big, ' ', 4096);
                memcpy(big, "{\"status\":\"ok\",\"x\":1}", 21);
                t_gsend(fd, 200, "application/json", big, -1);
                break;
        }
        case G_401:
                t_gsend(fd, 401, "text/plain", "unauthorized", -1);
                break;
        case G_503:
                t_gsend(fd, 503, "text/plain", "busy", -1);
                break;
        case G_BADLIST:
                t_gsend(fd, 200, "application/json",
                        "{\"status\":\"ok\",\"total\":\"3\",\"filelist\":\"nope\"}", -1);
                break;
        case G_BADITEM:
                t_gsend(fd, 200, "application/json",
                        "{\"status\":\"ok\",\"total\":1,\"filelist\":[{\"fi_name\":\"a\",\"fi_type\":\"0\"}]}",
                        -1);
                break;
        case G_BADTIME:
                t_gsend(fd, 200, "application/json",
                        "{\"status\":\"ok\",\"total\":\"1\",\"filelist\":[{\"fi_id\":7,\"fi_pid\":\"1\","
                        "\"fi_name\":\"a\",\"fi_type\":0,\"fi_size\":\"3\",\"fi_modified\":\"yesterday\"}]}",
                        -1);
                break;
        case G_EXPIRED:
                t_gsend(fd, 200, "application/json",
                        "{\"status\":\"login_token_expired\",\"statusmessage\":\"expired\"}", -1);
                break;
        case G_UNKNOWN_STATUS:
                t_gsend(fd, 200, "application/json",
                        "{\"status\":\"weird_error\",\"statusmessage\":\"something odd\"}", -1);
                break;
        case G_FILE_JSON_ERR:
                t_gsend(fd, 200, "application/json",
                        "{\"status\":\"not_found\",\"statusmessage\":\"no such file\"}", -1);
                break;
        case G_FILE_BREAK:
                t_gsend(fd, 200, "application/octet-stream", "first bytes of a file", 100000);
                break;
        case G_FILE_JSON_OK:
                t_gsend(fd, 200, "application/json", "{\"a\":\"file that is JSON\"}", -1);
                break;
        case G_REFRESH_BAD:
                t_gsend(fd, 200, "application/json",
                        "{\"status\":\"ok\",\"total\":\"0\",\"filelist\":[],\"refreshresult\":42}", -1);
                break;
        case G_REFRESH_FOREVER:
                t_gsend(fd, 200, "application/json",
                        "{\"status\":\"ok\",\"total\":\"0\",\"filelist\":[],\"stillsyncing\":\"y\","
                        "\"refreshresult\":{\"status\":\"ok\",\"token\":\"RTOK\"}}",
                        -1);
                break;
        case G_TASKS_BAD:
                t_gsend(fd, 200, "application/json", "{\"status\":\"ok\",\"tasks\":5,\"total\":\"1\"}",
                        -1);
                break;
        case G_FILE_HDR_ERR: /* base64 of "provider said no" */
                t_gsend_h(fd, 200, "text/html",
                          "X-NAA-DOWNLOAD-ERROR: cHJvdmlkZXIgc2FpZCBubw==\r\n"
                          "X-NAA-DOWNLOAD-ERROR-STATUS: download_failed\r\n",
                          "<html><body>Download failed</body></html>", -1);
                break;
        case G_ITEM_LIST:
                t_gsend(fd, 200, "application/json",
                        "{\"status\":\"ok\",\"exists\":\"y\",\"file\":[{\"fi_id\":\"1\"}]}", -1);
                break;
        default:
                break;
        }
}

static void *t_gmain(void *arg)
{
        struct t_gsrv *g = arg;

        while (!g->stop) {
                struct pollfd pfd = {g->lfd, POLLIN, 0};
                int fd;

                if (poll(&pfd, 1, 50) <= 0)
                        continue;
                fd = accept(g->lfd, NULL, NULL);
                if (fd < 0)
                        continue;
                t_gserve(g, fd);
                shutdown(fd, SHUT_WR);
                close(fd);
        }
        return NULL;
}

static void t_gstart(struct t_gsrv *g)
{
        struct sockaddr_in sa;
        socklen_t sl = sizeof(sa);

        memset(g, 0, sizeof(*g));
        g->lfd = socket(AF_INET, SOCK_STREAM, 0);
        assert_true(g->lfd >= 0);
        memset(&sa, 0, sizeof(sa));
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(bind(g->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(listen(g->lfd, 16), 0);
        assert_int_equal(getsockname(g->lfd, (struct sockaddr *)&sa, &sl), 0);
        g->port = ntohs(sa.sin_port);
        assert_int_equal(pthread_create(&g->th, NULL, t_gmain, g), 0);
}

static void t_gstop(struct t_gsrv *g)
{
        g->stop = 1;
        pthread_join(g->th, NULL);
        close(g->lfd);
}

static int t_gcall_providers(struct aa_client *aa, char *err, size_t errsz)
{
        struct aa_provider *p = NULL;
        size_t n = 0;
        int rc = aa_providers(aa, &p, &n, err, errsz);

        assert_true(rc != JB_OK || p != NULL || n == 0);
        aa_providers_free(p, n);
        return rc;
}

static void test_garbage(void **state)
{
        static const struct {
                int mode;
                int want;
                const char *in_msg;
        } cases[] = {
                /* not the API's JSON (a maintenance page, a proxy): transient */
                {G_HTML, JB_ETRANSIENT, "not a JSON object"},
                {G_TRUNC_JSON, JB_ETRANSIENT, "not a JSON object"},
                {G_ARRAY, JB_ETRANSIENT, "not a JSON object"},
                {G_NOSTATUS, JB_ETRANSIENT, "no status"},
                {G_EMPTY, JB_ETRANSIENT, "0 bytes"},
                {G_SHORT, JB_ETRANSIENT, "attempts"},
                {G_BIG, JB_ELIMIT, "more than the 1024-byte limit for this call"},
                {G_401, JB_EFATAL, "401"},
                {G_503, JB_ETRANSIENT, "503"},
                {G_EXPIRED, JB_ETRANSIENT, "expired again"},
                {G_UNKNOWN_STATUS, JB_EINPUT, "weird_error"},
        };
        struct t_gsrv g;
        struct aa_client *aa;
        struct aa_opts o;
        struct aa_counters c;
        struct t_names tn;
        struct t_cmp cmp;
        char ep[64], err[512];
        size_t i;
        int rc, before;

        (void)state;
        t_gstart(&g);
        snprintf(ep, sizeof(ep), "http://127.0.0.1:%d/", g.port);
        t_opts(&o, 1);
        o.endpoint = ep;
        o.max_retries = 2;
        o.backoff_base_ms = 1;
        o.backoff_max_ms = 5;
        o.max_response_bytes = 1024;
        for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                aa = t_client_opts(&o);
                g.mode = cases[i].mode;
                err[0] = '\0';
                rc = t_gcall_providers(aa, err, sizeof(err));
                if (rc != cases[i].want || !strstr(err, cases[i].in_msg))
                        fail_msg("mode %d: got %s (%s), want %s with \"%s\"", cases[i].mode,
                                 jb_strerror(rc), err, jb_strerror(cases[i].want), cases[i].in_msg);
                aa_counters_get(aa, &c);
                if (cases[i].want == JB_ETRANSIENT && cases[i].mode != G_EXPIRED)
                        assert_int_equal(c.retries, 2);
                if (cases[i].mode == G_EXPIRED)
                        assert_int_equal(c.relogins, 1);
                assert_null(strstr(err, "SESSION-TOK-XYZ"));
                aa_client_free(aa);
        }

        aa = t_client_opts(&o);
        g.mode = G_BADLIST;
        memset(&tn, 0, sizeof(tn));
        assert_int_equal(t_list(aa, "1", 0, &tn), JB_EINPUT);
        g.mode = G_BADITEM;
        assert_int_equal(t_list(aa, "1", 0, &tn), JB_EINPUT);
        g.mode = G_BADTIME;
        assert_int_equal(t_list(aa, "1", 0, &tn), JB_EINPUT);
        assert_int_equal(tn.n, 0);

        /* getFile: a JSON error with HTTP 200 is an error, not file content */
        memset(&cmp, 0, sizeof(cmp));
        g.mode = G_FILE_JSON_ERR;
        assert_int_equal(aa_download(aa, "5", t_cmp_write, &cmp, err, sizeof(err)), JB_ENOTFOUND);
        assert_int_equal(cmp.off, 0);
        /* a file whose bytes happen to be JSON is delivered */
        g.mode = G_FILE_JSON_OK;
        cmp.want = (const unsigned char *)"{\"a\":\"file that is JSON\"}";
        cmp.len = strlen((const char *)cmp.want);
        assert_int_equal(aa_download(aa, "5", t_cmp_write, &cmp, err, sizeof(err)), JB_OK);
        assert_int_equal(cmp.off, cmp.len);
        assert_false(cmp.mismatch);
        /* broken after the first bytes: transient at once, no retry inside */
        memset(&cmp, 0, sizeof(cmp));
        cmp.want = (const unsigned char *)"first bytes of a file";
        cmp.len = 21;
        g.mode = G_FILE_BREAK;
        before = g.nreq;
        rc = aa_download(aa, "5", t_cmp_write, &cmp, err, sizeof(err));
        assert_int_equal(rc, JB_ETRANSIENT);
        assert_int_equal(cmp.off, 21);
        assert_int_equal(g.nreq - before, 1);
        assert_non_null(strstr(err, "start"));

        /* refresh: a refreshresult that is no object; a refresh that never finishes */
        {
                char *tok = NULL;

                g.mode = G_REFRESH_BAD;
                assert_int_equal(aa_refresh_start(aa, "1", &tok, err, sizeof(err)), JB_EINPUT);
                assert_non_null(strstr(err, "refreshresult"));
                assert_null(tok);
        }
        aa_client_free(aa);
        o.refresh_timeout_ms = 300;
        o.refresh_poll_ms = 20;
        aa = t_client_opts(&o);
        g.mode = G_REFRESH_FOREVER;
        assert_int_equal(aa_refresh(aa, "1", err, sizeof(err)), JB_ETRANSIENT);
        assert_non_null(strstr(err, "did not finish"));
        /* a task list that is a number */
        {
                struct aa_task t;

                g.mode = G_TASKS_BAD;
                assert_int_equal(aa_task_get(aa, "7", &t, err, sizeof(err)), JB_EINPUT);
                assert_non_null(strstr(err, "getUserBackgroundTasks"));
        }
        /* a list where an item (object) belongs */
        {
                struct aa_item it;

                g.mode = G_ITEM_LIST;
                assert_int_equal(aa_check_path(aa, "a/b", "0", &it, err, sizeof(err)), JB_EINPUT);
                assert_non_null(strstr(err, "not an object"));
        }
        /* getFile with failure headers and an HTML body: retried, no byte is the file */
        memset(&cmp, 0, sizeof(cmp));
        g.mode = G_FILE_HDR_ERR;
        before = g.nreq;
        assert_int_equal(aa_download(aa, "5", t_cmp_write, &cmp, err, sizeof(err)), JB_ETRANSIENT);
        assert_int_equal(cmp.off, 0);
        assert_int_equal(g.nreq - before, 3); /* the first try and max_retries = 2 */
        assert_non_null(strstr(err, "provider said no"));
        assert_non_null(strstr(err, "download_failed"));
        aa_client_free(aa);
        t_gstop(&g);
}

/* ---------------------------------------------------------------- TLS verification */

static const char t_tls_py[] =
        "import http.server, ssl, sys, os\n"
        "class H(http.server.BaseHTTPRequestHandler):\n"
        "    def do_POST(self):\n"
        "        n = int(self.headers.get('Content-Length') or 0); self.rfile.read(n)\n"
        "        b = b'{\"status\":\"ok\",\"statusmessage\":\"\",\"sitetitle\":\"tls ok\"}'\n"
        "        self.send_response(200); self.send_header('Content-Type', 'application/json')\n"
        "        self.send_header('Content-Length', str(len(b))); self.end_headers()\n"
        "        self.wfile.write(b)\n"
        "    def log_message(self, *a): pass\n"
        "s = http.server.HTTPServer(('127.0.0.1', 0), H)\n"
        "c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); c.load_cert_chain(sys.argv[1], sys.argv[2])\n"
        "s.socket = c.wrap_socket(s.socket, server_side=True)\n"
        "open(sys.argv[3] + '.tmp', 'w').write('%d\\n' % s.server_address[1])\n"
        "os.rename(sys.argv[3] + '.tmp', sys.argv[3])\n"
        "s.serve_forever()\n";

/* A TLS server with a self-signed certificate (python3 + openssl): verification is on by
 * default, the CA file makes it pass, insecure=1 skips it. Skipped without the tools. */
static void test_tls_verify(void **state)
{
        char *dir, cmd[10240], cert[4096], key[4096], py[4096], pf[4096], ep[64], err[512];
        struct aa_appliance ai;
        struct aa_client *aa;
        struct aa_opts o;
        int64_t deadline;
        pid_t pid;
        int port = 0, st, rc;

        (void)state;
        if (system("command -v openssl >/dev/null 2>&1 && command -v python3 >/dev/null 2>&1")) {
                print_message("openssl or python3 missing: TLS verification test skipped\n");
                skip();
        }
        dir = tu_tmpdir();
        assert_non_null(dir);
        snprintf(cert, sizeof(cert), "%s/c.pem", dir);
        snprintf(key, sizeof(key), "%s/k.pem", dir);
        snprintf(py, sizeof(py), "%s/srv.py", dir);
        snprintf(pf, sizeof(pf), "%s/port", dir);
        snprintf(cmd, sizeof(cmd),
                 "openssl req -x509 -newkey rsa:2048 -nodes -keyout '%s' -out '%s' -days 2 "
                 "-subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1",
                 key, cert);
        assert_int_equal(system(cmd), 0);
        t_write_file(py, t_tls_py);
        pid = fork();
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                execlp("python3", "python3", py, cert, key, pf, (char *)NULL);
                _exit(127);
        }
        assert_true(pid > 0);
        deadline = tu_now_ms() + 20000;
        while (tu_now_ms() < deadline) {
                char *txt = tu_slurp(pf, NULL);

                if (txt && sscanf(txt, "%d", &port) == 1 && port > 0) {
                        free(txt);
                        break;
                }
                free(txt);
                if (waitpid(pid, &st, WNOHANG) == pid)
                        break;
                tu_sleep_ms(20);
        }
        if (port <= 0) {
                kill(pid, SIGKILL);
                waitpid(pid, &st, 0);
                tu_rmrf(dir);
                free(dir);
                fail_msg("the TLS test server did not start");
        }
        snprintf(ep, sizeof(ep), "https://127.0.0.1:%d", port);
        t_opts(&o, 1);
        o.endpoint = ep;
        o.max_retries = 0;

        aa = t_client_opts(&o); /* default: verification on, the self-signed cert fails */
        rc = aa_appliance_info(aa, &ai, err, sizeof(err));
        aa_client_free(aa);
        if (rc != JB_EFATAL || !strstr(err, "TLS verification"))
                print_message("default: %s (%s)\n", jb_strerror(rc), err);
        assert_int_equal(rc, JB_EFATAL);

        o.ca_file = cert; /* trusting the certificate */
        aa = t_client_opts(&o);
        rc = aa_appliance_info(aa, &ai, err, sizeof(err));
        aa_client_free(aa);
        if (rc)
                print_message("ca_file: %s\n", err);
        assert_int_equal(rc, JB_OK);
        assert_string_equal(ai.sitetitle, "tls ok");
        aa_appliance_clear(&ai);

        o.ca_file = "/nonexistent/ca.pem"; /* a CA file that is not there */
        aa = t_client_opts(&o);
        rc = aa_appliance_info(aa, &ai, err, sizeof(err));
        aa_client_free(aa);
        assert_int_equal(rc, JB_EFATAL);

        o.ca_file = NULL; /* explicitly insecure */
        o.insecure = 1;
        aa = t_client_opts(&o);
        rc = aa_appliance_info(aa, &ai, err, sizeof(err));
        aa_client_free(aa);
        assert_int_equal(rc, JB_OK);
        aa_appliance_clear(&ai);

        kill(pid, SIGTERM);
        waitpid(pid, &st, 0);
        tu_rmrf(dir);
        free(dir);
}

static int t_local_setup(void **state)
{
        (void)state;
        return aa_global_init() == JB_OK ? 0 : -1;
}

static int t_local_teardown(void **state)
{
        (void)state;
        aa_global_cleanup();
        return 0;
}

int main(void)
{
        const struct CMUnitTest local[] = {
                cmocka_unit_test(test_time_parse),
                cmocka_unit_test(test_bad_options),
                cmocka_unit_test(test_garbage),
                cmocka_unit_test(test_tls_verify),
        };
        const struct CMUnitTest sim[] = {
                cmocka_unit_test(test_login_password),   cmocka_unit_test(test_login_token_providers),
                cmocka_unit_test(test_single_as_object), cmocka_unit_test(test_token_renewal),
                cmocka_unit_test(test_refresh_async),    cmocka_unit_test(test_refresh_stuck),
                cmocka_unit_test(test_download_errors),  cmocka_unit_test(test_download_hostile),
                cmocka_unit_test(test_upload_xml),       cmocka_unit_test(test_sync_unknown),
                cmocka_unit_test(test_wrong_password),   cmocka_unit_test(test_paging),
                cmocka_unit_test(test_refresh),          cmocka_unit_test(test_download),
                cmocka_unit_test(test_slow_download),    cmocka_unit_test(test_upload_mkdir_delete),
                cmocka_unit_test(test_sync_diff),        cmocka_unit_test(test_special_keys),
                cmocka_unit_test(test_relogin),          cmocka_unit_test(test_retry_500),
                cmocka_unit_test(test_retry_429),        cmocka_unit_test(test_tls_to_plain_port),
                cmocka_unit_test(test_debug_hook_masks), cmocka_unit_test(test_answer_ceilings),
        };
        int rc;

        signal(SIGPIPE, SIG_IGN);
        rc = cmocka_run_group_tests_name("aa_local", local, t_local_setup, t_local_teardown);
        if (getenv("AA_LOCAL_ONLY"))
                return rc;
        return rc | cmocka_run_group_tests_name("aa_sim", sim, t_sim_start, t_sim_stop);
}
