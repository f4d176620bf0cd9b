/*
 * test_scanner.c - the scanner stage (producer/scanner.c) against the real simulator
 * ($AASIM, started with tests/unit/tu_sim.h) over the embedded transport (q_mem), with the
 * state directory store (producer/scan_store_dir.c) in a temporary directory.
 *
 * The group setup writes a deployment: provider 101 "S3 Logs" with bucket ct-logs, whose
 * AWSLogs/111122223333/CloudTrail/eu-west-1/ holds log files in the date folders of today and
 * yesterday (UTC, inside the 48 h lookback) and of ten days ago (outside it), plus a digest
 * file and a text file beside the logs, and a CloudTrail-Digest and a CloudTrail-Insight tree
 * that must never be entered. Each test runs scanners on Q_FILES, takes the published
 * msg_logfile messages itself (acknowledging them completes them, which the scanner records),
 * and checks what was published and what the store remembers. The scan interval is an hour:
 * only the first scan and kicks scan. Tests wait only for conditions, with deadlines.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "aa.h"
#include "filehash.h"
#include "log.h"
#include "msg.h"
#include "q.h"
#include "scan_store.h"
#include "scanner.h"
#include "sset.h"
#include "status.h"
#include "state.h"
#include "tu.h"
#include "tu_sim.h"

#define T_TOKEN "PERMANENT-TOKEN-SCAN"
#define T_REGION "AWSLogs/111122223333/CloudTrail/eu-west-1/"
#define T_TOP "S3 Logs/ct-logs/"
#define T_DEADLINE_MS 20000
#define T_MAXFILES 16

static char *t_root;
static struct tu_sim t_sim = {-1, 0, ""};
static int t_nstate;

/* The date folders "YYYY/MM/DD" of today, yesterday and ten days ago (UTC), set up once. */
static char t_today[32], t_yesterday[32], t_old[32];
/* Access Anywhere paths of the log files inside the lookback: what a scan must publish. */
static char t_want[T_MAXFILES][1200];
static int t_nwant;

/* ---------------------------------------------------------------- fixtures */

static void day_folder(char *out, size_t outsz, int days_ago)
{
        time_t t = time(NULL) - (time_t)days_ago * 86400;
        struct tm tm;

        assert_non_null(gmtime_r(&t, &tm));
        snprintf(out, outsz, "%04d/%02d/%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

/* Put a file into the bucket's truth (key below ct-logs/). */
static void truth_put(const char *key)
{
        char path[4096];

        snprintf(path, sizeof(path), "%s/truth/ct-logs/%s", t_root, key);
        assert_int_equal(tu_write_atomic(path, "{}", 2), 0);
}

/* A log file of the region in date folder day; want: a scan must publish it. */
static void put_log(const char *day, const char *tag, int want)
{
        char key[1024];

        snprintf(key, sizeof(key),
                 T_REGION "%s/111122223333_CloudTrail_eu-west-1_20261201T1000Z_%s.json.gz", day, tag);
        truth_put(key);
        if (want) {
                assert_true(t_nwant < T_MAXFILES);
                snprintf(t_want[t_nwant++], sizeof(t_want[0]), T_TOP "%s", key);
        }
}

/* The digest of test_digests, in today's digest folder (an hour that ended a minute ago):
 * it lists a1 (listed, processed), a hidden file (hidden.txt: served by path, never listed)
 * and a file that does not exist. Other tests run with digests off, and neither extra file
 * is in a listing, so they see nothing of it. */
#define T_DG_HIDDEN "111122223333_CloudTrail_eu-west-1_20261201T1000Z_hid.json.gz"
#define T_DG_GONE "111122223333_CloudTrail_eu-west-1_20261201T1000Z_gone.json.gz"
static char t_hidden[1200];

static void put_digest(void)
{
        time_t end = time(NULL) - 60, start = end - 3600;
        char path[4096], key[1024], dkey[1024], json[8192], ts0[32], ts1[32], stamp[32];
        const char *hash = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        unsigned char *gz;
        size_t gzlen;
        struct tm tm;
        char day[32];

        gmtime_r(&start, &tm);
        strftime(ts0, sizeof(ts0), "%Y-%m-%dT%H:%M:%SZ", &tm);
        gmtime_r(&end, &tm);
        strftime(ts1, sizeof(ts1), "%Y-%m-%dT%H:%M:%SZ", &tm);
        strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
        strftime(day, sizeof(day), "%Y/%m/%d", &tm);
        snprintf(key, sizeof(key), T_REGION "%s/" T_DG_HIDDEN, t_today);
        truth_put(key);
        snprintf(t_hidden, sizeof(t_hidden), T_TOP "%s", key);
        snprintf(path, sizeof(path), "%s/hidden.txt", t_root);
        snprintf(json, sizeof(json), "ct-logs/%s\n", key);
        assert_int_equal(tu_write_atomic(path, json, strlen(json)), 0);
        snprintf(dkey, sizeof(dkey),
                 "AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/%s/"
                 "111122223333_CloudTrail-Digest_eu-west-1_t_eu-west-1_%s.json.gz",
                 day, stamp);
        snprintf(
                json, sizeof(json),
                "{\"digestStartTime\":\"%s\",\"digestEndTime\":\"%s\",\"digestS3Bucket\":\"ct-logs\","
                "\"digestS3Object\":\"%s\",\"previousDigestS3Object\":null,\"logFiles\":["
                "{\"s3Bucket\":\"ct-logs\",\"s3Object\":\"" T_REGION
                "%s/111122223333_CloudTrail_eu-west-1_20261201T1000Z_a1.json.gz\",\"hashValue\":\"%s\","
                "\"hashAlgorithm\":\"SHA-256\"},"
                "{\"s3Bucket\":\"ct-logs\",\"s3Object\":\"%s\",\"hashValue\":\"%s\",\"hashAlgorithm\":\"SHA-256\"},"
                "{\"s3Bucket\":\"ct-logs\",\"s3Object\":\"" T_REGION "%s/" T_DG_GONE
                "\",\"hashValue\":\"%s\",\"hashAlgorithm\":\"SHA-256\"},"
                "{\"s3Bucket\":\"other-bucket\",\"s3Object\":\"AWSLogs/x.json.gz\",\"hashValue\":\"%s\","
                "\"hashAlgorithm\":\"SHA-256\"}]}",
                ts0, ts1, dkey, t_today, hash, key, hash, t_today, hash, hash);
        gz = tu_gzip(json, strlen(json), &gzlen);
        assert_non_null(gz);
        snprintf(path, sizeof(path), "%s/truth/ct-logs/%s", t_root, dkey);
        assert_int_equal(tu_write_atomic(path, gz, gzlen), 0);
        free(gz);
}

static int t_setup(void **state)
{
        static const char simjson[] =
                "{\"sitetitle\":\"jibe scanner unit\",\"token_lifetime_s\":3600,\"refresh_ms\":20,\n"
                " \"users\":[{\"login\":\"admin\",\"password\":\"s3cret\",\"userid\":\"1\","
                "\"authtokens\":[\"" T_TOKEN "\"]}],\n"
                " \"providers\":[{\"id\":\"101\",\"name\":\"S3 Logs\",\"access_key\":\"AKIAAASELFKEY0000009\","
                "\"buckets\":[\"ct-logs\"]}]}\n";
        char path[4096], key[1024];

        (void)state;
        assert_int_equal(aa_global_init(), JB_OK);
        log_set_level(getenv("T_DEBUG") ? LL_DEBUG : LL_OFF);
        t_root = tu_tmpdir();
        assert_non_null(t_root);
        snprintf(path, sizeof(path), "%s/sim.json", t_root);
        assert_int_equal(tu_write_atomic(path, simjson, strlen(simjson)), 0);
        day_folder(t_today, sizeof(t_today), 0);
        day_folder(t_yesterday, sizeof(t_yesterday), 1);
        day_folder(t_old, sizeof(t_old), 10);

        put_log(t_today, "a1", 1);
        put_log(t_today, "a2", 1);
        put_log(t_today, "a3", 1);
        put_log(t_yesterday, "b1", 1);
        put_log(t_yesterday, "b2", 1);
        put_log(t_old, "old", 0); /* outside the lookback */
        /* beside the logs: neither is a log file */
        snprintf(key, sizeof(key), T_REGION "%s/notes.txt", t_today);
        truth_put(key);
        snprintf(key, sizeof(key),
                 T_REGION
                 "%s/111122223333_CloudTrail-Digest_eu-west-1_t_eu-west-1_20261201T1000Z.json.gz",
                 t_today);
        truth_put(key);
        /* the trees of digests and insights are never entered: the files in them have the
         * name of a log file, so only the folder tells them apart */
        snprintf(key, sizeof(key),
                 "AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/%s/"
                 "111122223333_CloudTrail_eu-west-1_20261201T1000Z_d1.json.gz",
                 t_today);
        truth_put(key);
        snprintf(key, sizeof(key),
                 "AWSLogs/111122223333/CloudTrail-Insight/eu-west-1/%s/"
                 "111122223333_CloudTrail_eu-west-1_20261201T1000Z_i1.json.gz",
                 t_today);
        truth_put(key);
        put_digest();
        if (tu_sim_start(&t_sim, t_root) != 0)
                return -1;
        return 0;
}

static int t_teardown(void **state)
{
        int rc = 0;

        (void)state;
        if (tu_sim_stop(&t_sim) != 0) {
                fprintf(stderr, "the simulator did not stop cleanly\n");
                rc = -1;
        }
        if (t_root) {
                tu_rmrf(t_root);
                free(t_root);
                t_root = NULL;
        }
        aa_global_cleanup();
        return rc;
}

/* ---------------------------------------------------------------- harness */

/* One test's world: configuration, client options, transport, state directory and store, the
 * scanner, and the messages taken from Q_FILES (held, i.e. in flight, until acknowledged). */
struct t_env {
        struct scanner_opts so;
        struct aa_opts ao;
        struct q *q;
        char statedir[4096];
        struct state *st;
        struct scan_store *store;
        struct scanner *s;
        struct q_msg *held[T_MAXFILES * 2];
        char paths[T_MAXFILES * 2][1200];
        int nheld;
};

static void env_init(struct t_env *e, const char *statedir)
{
        struct q_mem_opts qo;
        char err[512];

        memset(e, 0, sizeof(*e));
        scanner_opts_init(&e->so);
        e->so.interval_s = 3600;
        e->so.lookback_h = 48;
        e->so.digests = 0; /* test_digests turns them on */
        aa_opts_init(&e->ao);
        e->ao.endpoint = t_sim.endpoint;
        e->ao.authtoken = T_TOKEN;
        e->ao.max_retries = 2;
        e->ao.backoff_base_ms = 5;
        e->ao.backoff_max_ms = 50;
        e->ao.refresh_poll_ms = 10;
        e->ao.timeout_ms = 20000;
        if (statedir)
                snprintf(e->statedir, sizeof(e->statedir), "%s", statedir);
        else
                snprintf(e->statedir, sizeof(e->statedir), "%s/state-%d", t_root, ++t_nstate);
        memset(&qo, 0, sizeof(qo));
        qo.capacity = 1000;
        e->q = q_mem_new(&qo, err, sizeof(err));
        assert_non_null(e->q);
        if (state_open(e->statedir, &e->st, err, sizeof(err)) != JB_OK)
                fail_msg("state_open: %s", err);
        e->store = scan_store_dir_new(e->st);
        assert_non_null(e->store);
}

/* The one place that starts a scanner (its options may change shape). */
static int scanner_begin(struct t_env *e, char *err, size_t errsz)
{
        return scanner_start(&e->so, &e->ao, e->q, e->store, &e->s, err, errsz);
}

static void env_start(struct t_env *e)
{
        char err[512];

        if (scanner_begin(e, err, sizeof(err)) != JB_OK)
                fail_msg("scanner_start: %s", err);
}

static void ack_all(struct t_env *e)
{
        int i;

        for (i = 0; i < e->nheld; i++)
                if (e->held[i]) {
                        q_ack(e->q, e->held[i]);
                        e->held[i] = NULL;
                }
}

/* Stop the scanner, give back what is still in flight and free the transport (which reports
 * those messages to the scanner as not done: q.h's order, publishers after the transport),
 * then free the scanner (it saves what completed); the state directory stays for a restart. */
static void env_free(struct t_env *e)
{
        int i;

        scanner_stop(e->s);
        for (i = 0; i < e->nheld; i++)
                if (e->held[i])
                        q_abandon(e->q, e->held[i]);
        q_free(e->q);
        scanner_free(e->s);
        e->s = NULL;
        scan_store_free(e->store);
        state_close(e->st);
}

static struct scanner_stats stats(struct t_env *e)
{
        struct scanner_stats st;

        scanner_get_stats(e->s, &st);
        return st;
}

/* Wait until the scanner completed at least n scans (errors fail the test). */
static void wait_scans(struct t_env *e, uint64_t n)
{
        int64_t end = tu_now_ms() + T_DEADLINE_MS;
        struct scanner_stats st;

        for (;;) {
                st = stats(e);
                if (st.scans >= n)
                        break;
                assert_false(scanner_failed(e->s));
                if (tu_now_ms() > end)
                        fail_msg("%llu scans after %d ms (wanted %llu; %llu errors)",
                                 (unsigned long long)st.scans, T_DEADLINE_MS, (unsigned long long)n,
                                 (unsigned long long)st.errors);
                tu_sleep_ms(10);
        }
        assert_int_equal(st.errors, 0);
}

/* Take every message waiting on Q_FILES (they were published before the scan ended), keep
 * them in flight; returns how many were taken. */
static int take(struct t_env *e)
{
        struct q_msg *m;
        struct msg_logfile lf;
        char err[256];
        int n = 0;

        while (q_poll(e->q, Q_FILES, 0, &m) == JB_OK) {
                assert_true(e->nheld < T_MAXFILES * 2);
                memset(&lf, 0, sizeof(lf));
                if (msg_logfile_decode(m->payload, m->len, &lf, err, sizeof(err)) != JB_OK)
                        fail_msg("a published message does not decode: %s", err);
                assert_string_equal(lf.provider, "101");
                assert_string_equal(lf.bucket, "ct-logs");
                assert_non_null(lf.fi_id);
                snprintf(e->paths[e->nheld], sizeof(e->paths[0]), "%s", lf.path);
                msg_logfile_clear(&lf);
                e->held[e->nheld++] = m;
                n++;
        }
        return n;
}

static int taken(const struct t_env *e, const char *path)
{
        int i, n = 0;

        for (i = 0; i < e->nheld; i++)
                n += !strcmp(e->paths[i], path);
        return n;
}

/* Every wanted path but skip (or NULL) was taken exactly once, and nothing else. */
static void expect_taken(const struct t_env *e, const char *skip)
{
        int i, want = 0;

        for (i = 0; i < t_nwant; i++) {
                if (skip && !strcmp(t_want[i], skip)) {
                        if (taken(e, t_want[i]) != 0)
                                fail_msg("published although already done: %s", t_want[i]);
                        continue;
                }
                if (taken(e, t_want[i]) != 1)
                        fail_msg("published %d times (wanted once): %s", taken(e, t_want[i]), t_want[i]);
                want++;
        }
        if (e->nheld != want) {
                for (i = 0; i < e->nheld; i++)
                        fprintf(stderr, "published: %s\n", e->paths[i]);
                fail_msg("%d messages published, %d expected", e->nheld, want);
        }
}

static void wait_done(struct t_env *e, uint64_t n)
{
        int64_t end = tu_now_ms() + T_DEADLINE_MS;

        while (stats(e).files_done < n) {
                if (tu_now_ms() > end)
                        fail_msg("%llu files completed after %d ms (wanted %llu)",
                                 (unsigned long long)stats(e).files_done, T_DEADLINE_MS,
                                 (unsigned long long)n);
                tu_sleep_ms(10);
        }
}

struct has_ctx {
        const char *name;
        int found;
};

static int has_cb(void *opaque, const char *folder, const char *name)
{
        struct has_ctx *hc = opaque;

        (void)folder;
        if (name && !strcmp(name, hc->name))
                hc->found = 1;
        return JB_OK;
}

/* What a store on the state directory statedir remembers holds the file name. */
static int state_has(const char *statedir, const char *name)
{
        struct state *st;
        struct scan_store *ss;
        struct has_ctx hc = {name, 0};
        char err[512];

        if (state_open(statedir, &st, err, sizeof(err)) != JB_OK)
                fail_msg("state_open: %s", err);
        ss = scan_store_dir_new(st);
        assert_non_null(ss);
        if (ss->ops->load(ss, has_cb, &hc, err, sizeof(err)) != JB_OK)
                fail_msg("load: %s", err);
        scan_store_free(ss);
        state_close(st);
        return hc.found;
}

static const char *base_name(const char *path)
{
        const char *b = strrchr(path, '/');

        return b ? b + 1 : path;
}

/* ---------------------------------------------------------------- tests */

/*
 * A first scan publishes every log file of the date folders inside the lookback, once; not the
 * old folder's, not the digest or text file beside them, nothing from the digest and insight
 * trees. While they are in flight a kicked scan publishes none again; once acknowledged they
 * are recorded in the state directory.
 */
/* What the scanner recorded in the status (status.h): its one source, scanned and not
 * failing, every file found, the newest with its visible time; its provider, owned. */
static void expect_status_scanned(int64_t found)
{
        struct buf out;
        cJSON *doc;
        const cJSON *src, *scan, *files, *newest, *prov;

        buf_init(&out, 1u << 20);
        assert_int_equal(status_snapshot(msg_now_ms(), &out), JB_OK);
        doc = cJSON_Parse(out.p);
        buf_clear(&out);
        assert_non_null(doc);
        assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "sources")), 1);
        src = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "sources"), 0);
        assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(src, "scanned")));
        scan = cJSON_GetObjectItemCaseSensitive(src, "scan");
        assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(scan, "failing")));
        assert_true(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(scan, "last_ok_ms")) > 0);
        files = cJSON_GetObjectItemCaseSensitive(src, "files");
        assert_int_equal((int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(files, "found")),
                         found);
        newest = cJSON_GetObjectItemCaseSensitive(src, "newest");
        assert_non_null(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(newest, "path")));
        assert_true(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(newest, "visible_ms")) > 0);
        prov = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "providers"), 0);
        assert_non_null(prov);
        assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(prov, "owned")));
        assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(prov, "id")),
                            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(src, "provider")));
        cJSON_Delete(doc);
}

static void test_first_scan(void **state)
{
        struct t_env e;
        char *body;
        int i, status;

        (void)state;
        status_init(&(struct status_ident){"t", "scan", "test", 60, 1200});
        env_init(&e, NULL);
        env_start(&e);
        wait_scans(&e, 1);
        take(&e);
        expect_taken(&e, NULL);
        assert_int_equal(stats(&e).files_published, t_nwant);
        assert_int_equal(stats(&e).regions, 1);
        /* nothing below CloudTrail-Insight/ was even refreshed (CloudTrail-Digest/ is the digest
         * pass's: test_digests) */
        body = tu_sim_http(&t_sim, "GET", "/sim/stats", NULL, &status);
        assert_non_null(body);
        assert_int_equal(status, 200);
        assert_null(strstr(body, "CloudTrail-Insight"));
        free(body);

        /* in flight: a kick scans again (the interval is an hour) and publishes nothing */
        scanner_kick(e.s);
        wait_scans(&e, 2);
        assert_int_equal(take(&e), 0);
        assert_int_equal(q_depth(e.q, Q_FILES), 0);
        assert_int_equal(stats(&e).files_published, t_nwant);
        assert_int_equal(stats(&e).files_done, 0);
        /* a new file changes the folder's count, so the next scan reads every name: only the
         * new one is published, the others are still in flight */
        put_log(t_today, "a4", 1);
        scanner_kick(e.s);
        wait_scans(&e, 3);
        take(&e);
        expect_taken(&e, NULL);

        ack_all(&e);
        wait_done(&e, (uint64_t)t_nwant);
        /* completed: the next scan publishes nothing either */
        scanner_kick(e.s);
        wait_scans(&e, 4);
        assert_int_equal(take(&e), 0);
        expect_status_scanned(t_nwant);
        env_free(&e);
        status_reset();
        for (i = 0; i < t_nwant; i++)
                if (!state_has(e.statedir, base_name(t_want[i])))
                        fail_msg("not recorded in %s/scan: %s", e.statedir, t_want[i]);
}

/* A file the store already has as done is not published; the others are. */
static void test_skips_done(void **state)
{
        struct t_env e;
        struct sset done, added;
        char folder[1024], err[512];
        const char *name = base_name(t_want[0]);

        (void)state;
        env_init(&e, NULL);
        snprintf(folder, sizeof(folder), "%.*s", (int)(name - 1 - t_want[0]), t_want[0]);
        sset_init(&done);
        sset_init(&added);
        assert_int_equal(sset_put(&done, name, NULL), JB_OK);
        assert_int_equal(sset_put(&added, name, NULL), JB_OK);
        if (e.store->ops->save(e.store, folder, &done, &added, err, sizeof(err)) != JB_OK)
                fail_msg("save: %s", err);
        sset_clear(&done);
        sset_clear(&added);

        env_start(&e);
        wait_scans(&e, 1);
        take(&e);
        expect_taken(&e, t_want[0]);
        env_free(&e);
}

/*
 * Completed files are remembered across a restart: a new scanner on the same state directory
 * publishes nothing, then only a file that appeared since. Files left in flight at a stop are
 * published again by the next scanner (nothing lost).
 */
static void test_restart(void **state)
{
        struct t_env e;
        char dir[4096], key[1200];
        int i;

        (void)state;
        env_init(&e, NULL);
        snprintf(dir, sizeof(dir), "%s", e.statedir);
        env_start(&e);
        wait_scans(&e, 1);
        take(&e);
        expect_taken(&e, NULL);
        /* complete all but the last; the last stays in flight through the stop */
        for (i = 0; i < e.nheld - 1; i++) {
                q_ack(e.q, e.held[i]);
                e.held[i] = NULL;
        }
        wait_done(&e, (uint64_t)e.nheld - 1);
        snprintf(key, sizeof(key), "%s", e.paths[e.nheld - 1]);
        env_free(&e);

        env_init(&e, dir);
        env_start(&e);
        wait_scans(&e, 1);
        assert_int_equal(take(&e), 1);
        assert_string_equal(e.paths[0], key);
        ack_all(&e);
        wait_done(&e, 1);

        /* a new file in today's folder: the next (kicked) scan publishes it alone */
        put_log(t_today, "late", 1);
        scanner_kick(e.s);
        wait_scans(&e, 2);
        assert_int_equal(take(&e), 1);
        assert_string_equal(e.paths[1], t_want[t_nwant - 1]);
        ack_all(&e);
        wait_done(&e, 2);
        env_free(&e);
        assert_true(state_has(dir, base_name(t_want[t_nwant - 1])));
}

struct stopper {
        struct scanner *s;
        atomic_int done;
};

static void *stopper_main(void *arg)
{
        struct stopper *sp = arg;

        scanner_stop(sp->s);
        atomic_store(&sp->done, 1);
        return NULL;
}

/* Stop is prompt even while a scan waits for cloud refreshes that never finish. */
static void test_stop_prompt(void **state)
{
        static struct stopper sp; /* outlives a failed test: its thread may still run */
        struct t_env e;
        int64_t end;
        pthread_t th;
        cJSON *js;
        char *body;
        int status;

        (void)state;
        assert_int_equal(tu_sim_faults(&t_sim, "refresh_stuck=1"), 0);
        env_init(&e, NULL);
        env_start(&e);
        /* wait until the scanner waits for a refresh */
        end = tu_now_ms() + T_DEADLINE_MS;
        for (;;) {
                double pending;

                body = tu_sim_http(&t_sim, "GET", "/sim/stats", NULL, &status);
                assert_non_null(body);
                js = cJSON_Parse(body);
                free(body);
                assert_non_null(js);
                pending = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(js, "refresh_pending"));
                cJSON_Delete(js);
                if (pending > 0)
                        break;
                if (tu_now_ms() > end)
                        fail_msg("the scanner started no refresh in %d ms", T_DEADLINE_MS);
                tu_sleep_ms(10);
        }
        /* stop from another thread, so a stop that never returns fails here */
        sp.s = e.s;
        atomic_store(&sp.done, 0);
        assert_int_equal(pthread_create(&th, NULL, stopper_main, &sp), 0);
        end = tu_now_ms() + 2000;
        while (!atomic_load(&sp.done)) {
                if (tu_now_ms() > end)
                        fail_msg("scanner_stop did not return within 2 s while refreshes hang");
                tu_sleep_ms(5);
        }
        pthread_join(th, NULL);
        assert_int_equal(stats(&e).scans, 0);
        assert_int_equal(take(&e), 0);
        env_free(&e);
        assert_int_equal(tu_sim_faults(&t_sim, "clear=1"), 0);
}

/* Digests on, no hash store: the hidden file a digest lists is fetched by path and published
 * with the digest's hash, done once acknowledged (recovered); the file that does not exist is
 * missing after a refresh; the other bucket's file is skipped; every processed file is
 * unverified; the source's "digests" figures say so. */
struct trim_ctx {
        int old, fresh;
};

static int trim_cb(void *opaque, const char *path, const uint8_t sha[SHA256_LEN], unsigned reads,
                   int64_t at_ms)
{
        struct trim_ctx *c = opaque;

        (void)sha;
        (void)reads;
        (void)at_ms;
        if (!strcmp(path, "P/b/AWSLogs/old.json.gz"))
                c->old = 1;
        if (!strcmp(path, "P/b/AWSLogs/fresh.json.gz"))
                c->fresh = 1;
        return 0;
}

/* The digest pass trims the hash store: a file hashed long before the window is forgotten
 * (else the store grows by a file per file for ever), one hashed now is kept. */
static void test_digests_trim_hashes(void **state)
{
        char dir[] = "/tmp/jibe-trim.XXXXXX", path[64], err[256];
        struct trim_ctx c = {0, 0};
        struct t_env e;
        struct filehash *fh;
        int64_t end;
        FILE *f;

        (void)state;
        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/file-hashes", dir);
        f = fopen(path, "w");
        assert_non_null(f);
        fprintf(f,
                "jibe-filehash 1\nP/b/AWSLogs/old.json.gz\t%064d\t1\t1000\n"
                "P/b/AWSLogs/fresh.json.gz\t%064d\t1\t%lld\n",
                0, 0, (long long)msg_now_ms());
        assert_int_equal(fclose(f), 0);
        fh = filehash_dir_new(dir, err, sizeof(err));
        if (!fh)
                fail_msg("%s", err);
        assert_int_equal(fh->ops->load(fh, trim_cb, &c, err, sizeof(err)), JB_OK);
        assert_true(c.old && c.fresh);
        status_init(&(struct status_ident){"t", "scan", "test", 60, 1200});
        env_init(&e, NULL);
        e.so.digests = 1;
        e.so.digest_grace_s = 0;
        e.so.hashes = fh;
        env_start(&e);
        end = tu_now_ms() + T_DEADLINE_MS;
        do {
                if (tu_now_ms() > end)
                        fail_msg("the old file hash was never forgotten");
                take(&e);
                ack_all(&e);
                tu_sleep_ms(20);
                c.old = c.fresh = 0;
                assert_int_equal(fh->ops->load(fh, trim_cb, &c, err, sizeof(err)), JB_OK);
        } while (c.old);
        assert_true(c.fresh);
        env_free(&e);
        status_reset();
        filehash_free(fh);
        unlink(path);
        rmdir(dir);
}

static void test_digests(void **state)
{
        struct t_env e;
        struct buf out;
        const cJSON *d = NULL, *it;
        cJSON *doc = NULL;
        int64_t end;
        int found = 0;

        (void)state;
        status_init(&(struct status_ident){"t", "scan", "test", 60, 1200});
        env_init(&e, NULL);
        e.so.digests = 1;
        e.so.digest_grace_s = 0;
        env_start(&e);
        wait_scans(&e, 1);
        end = tu_now_ms() + T_DEADLINE_MS;
        while (!taken(&e, t_hidden)) { /* the digest pass follows the scan */
                take(&e);
                if (tu_now_ms() > end)
                        fail_msg("the hidden file was never published");
                tu_sleep_ms(10);
        }
        take(&e);
        assert_int_equal(e.nheld, t_nwant + 1); /* the listed files and the hidden one */
        ack_all(&e);
        wait_done(&e, (uint64_t)t_nwant + 1);
        end = tu_now_ms() + T_DEADLINE_MS;
        for (;;) {
                scanner_kick(e.s);
                wait_scans(&e, stats(&e).scans + 1);
                tu_sleep_ms(50); /* the pass after that scan: polled below with the deadline */
                buf_init(&out, 1u << 20);
                assert_int_equal(status_snapshot(msg_now_ms(), &out), JB_OK);
                cJSON_Delete(doc);
                doc = cJSON_Parse(out.p);
                buf_clear(&out);
                assert_non_null(doc);
                it = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "sources"), 0);
                d = cJSON_GetObjectItemCaseSensitive(it, "digests");
                if (d && cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(d, "recovered")) == 1)
                        break;
                if (tu_now_ms() > end)
                        fail_msg("no recovered file in the source's digests");
        }
        assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "available")));
        assert_int_equal((int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(d, "digests")), 1);
        assert_int_equal((int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(d, "chains")), 1);
        assert_int_equal((int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(d, "listed")), 3);
        assert_int_equal((int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(d, "done")), 2);
        assert_int_equal((int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(d, "missing")), 1);
        assert_int_equal((int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(d, "unverified")),
                         2);
        assert_int_equal((int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(d, "tampered")), 0);
        assert_int_equal((int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(d, "gaps")), 0);
        assert_int_equal((int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(d, "pending")), 0);
        assert_true(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(d, "covered_s")) == 3600);
        cJSON_Delete(doc);
        /* nothing more is published: the missing file is not looked for on every pass */
        found = take(&e);
        assert_int_equal(found, 0);
        env_free(&e);
        status_reset();
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_first_scan), cmocka_unit_test(test_skips_done),
                cmocka_unit_test(test_restart),    cmocka_unit_test(test_stop_prompt),
                cmocka_unit_test(test_digests),    cmocka_unit_test(test_digests_trim_hashes),
        };

        return cmocka_run_group_tests_name("scanner", tests, t_setup, t_teardown);
}
