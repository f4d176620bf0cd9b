/*
 * test_syncer.c - the syncer stage (consumer/syncer.c) against the real simulator
 * (jibe-aa-sim via $AASIM, started with tests/unit/tu_sim.h) over the embedded transport.
 *
 * Each test changes the simulator's S3 truth behind the index's back, publishes the object
 * events itself on Q_EVENTS (with a completion callback that counts), runs a syncer and
 * checks: the index equals the truth (GET /sim/diff), each dedup key was synced once per
 * window and a bucket op replaced its bucket's object calls (GET /sim/stats), every message
 * completed, failures went to the dead-letter file with their reason. The group setup
 * starts the simulator, the teardown stops it; tests that set faults clear them. Tests
 * only wait for conditions with deadlines.
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
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <curl/curl.h>

#include "aa.h"
#include "buf.h"
#include "log.h"
#include "msg.h"
#include "q.h"
#include "status.h"
#include "syncer.h"
#include "tu.h"
#include "tu_sim.h"

#define T_USER "admin"
#define T_PASS "s3cret-Sync+&pass"
#define T_SRC "S3 Logs/ct-logs/AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/29/f.json.gz"

static char *t_root;
static char t_log[4096];
static struct tu_sim t_sim = {-1, 0, ""};
static int t_seq;

/* One test's world: transport, configuration, client options, syncer, completions. */
struct t_run {
        struct q *q;
        struct syncer_opts so;
        struct aa_opts ao;
        struct syncer *s;
        char dead[4096];
        atomic_int done_ok;
        atomic_int done_fail;
        int published;
};

/* ---------------------------------------------------------------- helpers */

static void t_done(void *opaque, int ok)
{
        struct t_run *r = opaque;

        if (ok)
                atomic_fetch_add(&r->done_ok, 1);
        else
                atomic_fetch_add(&r->done_fail, 1);
}

static void t_truth_put(const char *bucket, const char *key, const char *text)
{
        char path[4096];

        snprintf(path, sizeof(path), "%s/truth/%s/%s", t_root, bucket, key);
        assert_int_equal(tu_write_atomic(path, text, strlen(text)), 0);
}

static void t_truth_del(const char *bucket, const char *key)
{
        char path[4096];

        snprintf(path, sizeof(path), "%s/truth/%s/%s", t_root, bucket, key);
        assert_int_equal(unlink(path), 0);
}

static char *t_get(const char *method, const char *path)
{
        int st = 0;
        char *body = tu_sim_http(&t_sim, method, path, NULL, &st);

        assert_non_null(body);
        if (st != 200)
                fail_msg("%s %s: HTTP %d %s", method, path, st, body);
        return body;
}

static cJSON *t_json(const char *method, const char *path)
{
        char *body = t_get(method, path);
        cJSON *j = cJSON_Parse(body);

        if (!j)
                fail_msg("%s %s: not JSON: %s", method, path, body);
        free(body);
        return j;
}

static void t_reset_stats(void)
{
        free(t_get("POST", "/sim/reset"));
}

static int t_diff_equal(const char *bucket)
{
        char path[256];
        cJSON *j;
        int eq;

        snprintf(path, sizeof(path), "/sim/diff?bucket=%s", bucket);
        j = t_json("GET", path);
        eq = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "equal"));
        cJSON_Delete(j);
        return eq;
}

static void t_truth_rmdir(const char *bucket, const char *dir)
{
        char path[4096];

        snprintf(path, sizeof(path), "%s/truth/%s/%s", t_root, bucket, dir);
        assert_int_equal(rmdir(path), 0);
}

/* The truth of a scenario bucket before its test. */
static void t_seed_scenario(const char *bucket)
{
        int i;

        t_truth_put(bucket, "old.txt", "old\n");
        t_truth_put(bucket, "keep/k.txt", "keep\n");
        t_truth_put(bucket, "sub/x.txt", "x\n");
        for (i = 0; i < 5; i++) {
                char key[64];

                snprintf(key, sizeof(key), "gone/%d.txt", i);
                t_truth_put(bucket, key, key);
        }
}

static void t_assert_equal_bucket(const char *bucket)
{
        if (!t_diff_equal(bucket)) {
                char path[256], *body;

                snprintf(path, sizeof(path), "/sim/diff?bucket=%s", bucket);
                body = t_get("GET", path);
                fail_msg("index differs from the truth in %s: %s", bucket, body);
        }
}

/* A count from /sim/stats: section "sync", "sync_buckets" or "calls"; 0 when absent. */
static int t_stat(const cJSON *stats, const char *section, const char *name)
{
        const cJSON *v =
                cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(stats, section), name);

        return cJSON_IsNumber(v) ? v->valueint : 0;
}

/* Sync calls of /sim/stats whose name starts with prefix. */
static int t_stat_prefix(const cJSON *stats, const char *section, const char *prefix)
{
        const cJSON *v;
        int n = 0;

        cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(stats,
                                                               section)) if (!strncmp(v->string, prefix,
                                                                                      strlen(prefix)))
                n += v->valueint;
        return n;
}

static void t_run_init(struct t_run *r)
{
        struct q_mem_opts qo;
        char err[512];

        memset(r, 0, sizeof(*r));
        atomic_init(&r->done_ok, 0);
        atomic_init(&r->done_fail, 0);
        snprintf(r->dead, sizeof(r->dead), "%s/dead-%d.jsonl", t_root, ++t_seq);
        memset(&qo, 0, sizeof(qo));
        qo.capacity = 1000;
        qo.dead_letter_path = r->dead;
        r->q = q_mem_new(&qo, err, sizeof(err));
        if (!r->q)
                fail_msg("q_mem_new: %s", err);
        syncer_opts_init(&r->so);
        r->so.window_ms = 400;
        r->so.batch_max = 500;
        r->so.concurrency = 4;
        r->so.max_attempts = 10;
        r->so.backoff_base_ms = 20;
        r->so.backoff_max_ms = 200;
        aa_opts_init(&r->ao);
        r->ao.endpoint = t_sim.endpoint;
        r->ao.login = T_USER;
        r->ao.password = T_PASS;
        r->ao.backoff_base_ms = 10;
        r->ao.backoff_max_ms = 50;
        r->ao.timeout_ms = 20000;
        r->ao.refresh_poll_ms = 50;
}

static void t_run_start(struct t_run *r)
{
        char err[512];
        int rc = syncer_start(&r->so, &r->ao, r->q, &r->s, err, sizeof(err));

        if (rc)
                fail_msg("syncer_start: %s", err);
}

static void t_run_end(struct t_run *r)
{
        if (r->s) {
                syncer_stop(r->s, 0, 1000);
                syncer_free(r->s);
        }
        q_shutdown(r->q);
        q_free(r->q);
}

static void t_publish_raw(struct t_run *r, const char *key, const void *p, size_t n)
{
        char err[512];
        int rc = q_publish(r->q, Q_EVENTS, key, strlen(key), p, n, NULL, t_done, r, err, sizeof(err));

        if (rc)
                fail_msg("q_publish: %s", err);
        r->published++;
}

/* Publish one object event with CloudTrail's eventTime (NULL: none); returns its payload
 * (caller frees) for later comparison. */
static char *t_publish_at(struct t_run *r, const char *provider, const char *bucket, const char *key,
                          enum msg_op op, int64_t listed_ms, int64_t rec, const char *time)
{
        struct msg_objevent ev;
        struct buf p, k;
        char *payload;

        memset(&ev, 0, sizeof(ev));
        ev.provider = (char *)provider;
        ev.bucket = (char *)bucket;
        ev.key = op == MSG_OP_BUCKET ? NULL : (char *)key;
        ev.op = op;
        ev.event = (char *)(op == MSG_OP_PUT      ? "PutObject"
                            : op == MSG_OP_DELETE ? "DeleteObject"
                                                  : "DeleteObjects");
        ev.src = (char *)T_SRC;
        ev.rec = rec;
        ev.listed_ms = listed_ms;
        ev.time = (char *)time;
        buf_init(&p, MSG_MAX_BYTES);
        buf_init(&k, 4096);
        assert_int_equal(msg_objevent_encode(&ev, &p), JB_OK);
        assert_int_equal(msg_objevent_key(&ev, &k), JB_OK);
        t_publish_raw(r, k.p, p.p, p.len);
        payload = buf_take(&p);
        buf_clear(&k);
        return payload;
}

static char *t_publish(struct t_run *r, const char *provider, const char *bucket, const char *key,
                       enum msg_op op, int64_t listed_ms, int64_t rec)
{
        return t_publish_at(r, provider, bucket, key, op, listed_ms, rec, NULL);
}

/* Wait (deadline) until n messages completed. */
static void t_wait_done(struct t_run *r, int n, long timeout_ms)
{
        int64_t deadline = tu_now_ms() + timeout_ms;

        while (atomic_load(&r->done_ok) < n) {
                if (tu_now_ms() > deadline)
                        fail_msg("only %d of %d messages completed in %ld ms", atomic_load(&r->done_ok),
                                 n, timeout_ms);
                tu_sleep_ms(10);
        }
}

/* The dead letters written so far (caller frees with msg_dead_clear + free). */
static size_t t_dead_read(const struct t_run *r, struct msg_dead **out)
{
        char *txt = tu_slurp(r->dead, NULL), *line, *save = NULL;
        struct msg_dead *d = NULL;
        size_t n = 0;

        *out = NULL;
        if (!txt)
                return 0;
        for (line = strtok_r(txt, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char err[256];
                struct msg_dead *nd = realloc(d, (n + 1) * sizeof(*d));

                assert_non_null(nd);
                d = nd;
                if (msg_dead_decode(line, strlen(line), &d[n], err, sizeof(err)) != JB_OK)
                        fail_msg("dead letter %zu: %s: %s", n, err, line);
                n++;
        }
        free(txt);
        *out = d;
        return n;
}

static void t_dead_free(struct msg_dead *d, size_t n)
{
        size_t i;

        for (i = 0; i < n; i++)
                msg_dead_clear(&d[i]);
        free(d);
}

/* Lines of the log that contain every one of the given strings (NULL-terminated list). */
static int t_log_lines(const char *s1, ...)
{
        char *txt = tu_slurp(t_log, NULL), *line, *save = NULL;
        int n = 0;

        if (!txt)
                return 0;
        for (line = strtok_r(txt, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                va_list ap;
                const char *w;
                int all = 1;

                va_start(ap, s1);
                for (w = s1; w && all; w = va_arg(ap, const char *))
                        all = strstr(line, w) != NULL;
                va_end(ap);
                n += all;
        }
        free(txt);
        return n;
}

/* The syncer's statistics once cond(st) holds (deadline). */
static void t_wait_stats(struct t_run *r, int (*cond)(const struct syncer_stats *, long), long arg,
                         long timeout_ms, struct syncer_stats *st)
{
        int64_t deadline = tu_now_ms() + timeout_ms;

        for (;;) {
                syncer_get_stats(r->s, st);
                if (cond(st, arg))
                        return;
                if (tu_now_ms() > deadline)
                        fail_msg("syncer: %llu transient failures, %llu dead, %llu ok after %ld ms",
                                 (unsigned long long)st->transient, (unsigned long long)st->dead,
                                 (unsigned long long)st->syncs_ok, timeout_ms);
                tu_sleep_ms(10);
        }
}

static int t_transient_at_least(const struct syncer_stats *st, long n)
{
        return st->transient >= (uint64_t)n;
}

/* ---------------------------------------------------------------- setup */

static void t_write(const char *path, const char *text)
{
        FILE *fp = fopen(path, "w");

        assert_non_null(fp);
        fputs(text, fp);
        assert_int_equal(fclose(fp), 0);
}

static int t_setup(void **state)
{
        char path[4096];
        int i;

        (void)state;
        assert_int_equal(aa_global_init(), JB_OK);
        t_root = tu_tmpdir();
        assert_non_null(t_root);
        /* the syncer's log lines go to a file the tests read */
        snprintf(t_log, sizeof(t_log), "%s/syncer.log", t_root);
        assert_int_equal(log_open(t_log, LL_INFO, path, sizeof(path)), JB_OK);
        snprintf(path, sizeof(path), "%s/sim.json", t_root);
        t_write(path, "{\"sitetitle\":\"jibe syncer unit\",\"token_lifetime_s\":3600,\n"
                      " \"users\":[{\"login\":\"" T_USER "\",\"password\":\"" T_PASS "\","
                      "\"userid\":\"1\",\"authtokens\":[\"PERMANENT-TOKEN-1\"]}],\n"
                      " \"providers\":[\n"
                      "  {\"id\":\"101\",\"name\":\"S3 Prod\",\"access_key\":\"AKIAAASELFKEY0000001\","
                      "\"buckets\":[\"dd\",\"bk\",\"ft\",\"dr\",\"ev\",\"rf\",\"rx\",\"rb\",\"ra\","
                      "\"re\",\"rs\",\"rc\",\"ou\"]},\n"
                      "  {\"id\":\"202\",\"name\":\"S3 Other\",\"access_key\":\"AKIAAASELFKEY0000002\","
                      "\"buckets\":[\"ot\"]}]}\n");
        t_truth_put("dd", "old1.txt", "old one\n");
        t_truth_put("dd", "keep.txt", "keep\n");
        t_truth_put("dd", "hot.txt", "hot 0\n");
        t_truth_put("bk", "a/old.txt", "old\n");
        t_truth_put("bk", "b.txt", "b\n");
        t_truth_put("ot", "x.txt", "x\n");
        t_truth_put("ft", "seed.txt", "seed\n");
        t_truth_put("dr", "seed.txt", "seed\n");
        t_seed_scenario("ev");
        t_seed_scenario("rf");
        t_truth_put("rx", "d/seed.txt", "seed\n");
        t_truth_put("rx", "top.txt", "top\n");
        for (i = 0; i < 30; i++) {
                char key[64];

                snprintf(key, sizeof(key), "l%d/m%d/f.txt", i % 3, i);
                t_truth_put("rb", key, key);
        }
        t_truth_put("rb", "root.txt", "root\n");
        t_truth_put("ra", "a.txt", "a\n");
        t_truth_put("ra", "x/b.txt", "b\n");
        t_truth_put("re", "a.txt", "a\n");
        t_truth_put("rs", "a.txt", "a\n");
        t_truth_put("rc", "s/a.txt", "a\n");
        for (i = 0; i < 5; i++) {
                char key[64];

                snprintf(key, sizeof(key), "gone/%d.txt", i);
                t_truth_put("bk", key, key);
        }
        if (tu_sim_start(&t_sim, t_root) != 0)
                return -1;
        return 0;
}

static int t_teardown(void **state)
{
        (void)state;
        tu_sim_stop(&t_sim);
        log_close();
        if (t_root) {
                tu_rmrf(t_root);
                free(t_root);
                t_root = NULL;
        }
        aa_global_cleanup();
        return 0;
}

/* ---------------------------------------------------------------- tests */

/* 5 events on one key -> one sync call; other keys once each; index converges; latency. */
/* The status (status.h) entry of a managed bucket, from a snapshot (caller deletes doc). */
static const cJSON *status_bucket(cJSON **doc, const char *provider, const char *bucket)
{
        const cJSON *it;
        struct buf out;

        buf_init(&out, 1u << 20);
        assert_int_equal(status_snapshot(msg_now_ms(), &out), JB_OK);
        *doc = cJSON_Parse(out.p);
        buf_clear(&out);
        assert_non_null(*doc);
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(*doc, "buckets"))
        {
                if (!strcmp(cJSON_GetObjectItemCaseSensitive(it, "provider")->valuestring, provider) &&
                    !strcmp(cJSON_GetObjectItemCaseSensitive(it, "bucket")->valuestring, bucket))
                        return it;
        }
        fail_msg("no bucket %s/%s in the status", provider, bucket);
        return NULL;
}

static int64_t sn(const cJSON *o, const char *a, const char *b)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);

        if (b)
                v = cJSON_GetObjectItemCaseSensitive(v, b);
        if (!cJSON_IsNumber(v))
                fail_msg("%s.%s is not a number", a, b ? b : "");
        return (int64_t)v->valuedouble;
}

static void test_dedup_converges(void **state)
{
        static const char *const keys[] = {"hot.txt", "new1.txt", "sub/new2.txt", "old1.txt",
                                           "keep.txt"};
        struct t_run r;
        struct syncer_stats st;
        cJSON *stats;
        double p50 = 0, p99 = 0;
        int64_t listed = msg_now_ms() - 1500;
        size_t i;

        (void)state;
        status_init(&(struct status_ident){"t", "sync", "test", 60, 1200});
        t_run_init(&r);
        t_reset_stats();
        t_truth_put("dd", "hot.txt", "hot 5, a longer body\n");
        t_truth_put("dd", "new1.txt", "new one\n");
        t_truth_put("dd", "sub/new2.txt", "new two\n");
        t_truth_del("dd", "old1.txt");
        t_truth_put("dd", "keep.txt", "keep, but changed\n");
        assert_false(t_diff_equal("dd"));

        for (i = 0; i < 5; i++)
                free(t_publish(&r, "101", "dd", "hot.txt", i % 2 ? MSG_OP_DELETE : MSG_OP_PUT, listed,
                               (int64_t)i));
        free(t_publish(&r, "101", "dd", "new1.txt", MSG_OP_PUT, listed, 5));
        free(t_publish(&r, "101", "dd", "sub/new2.txt", MSG_OP_PUT, listed, 6));
        free(t_publish(&r, "101", "dd", "old1.txt", MSG_OP_DELETE, listed, 7));
        free(t_publish(&r, "101", "dd", "keep.txt", MSG_OP_PUT, 0, 8)); /* no latency figure */
        t_run_start(&r);
        t_wait_done(&r, r.published, 20000);

        t_assert_equal_bucket("dd");
        stats = t_json("GET", "/sim/stats");
        for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
                char name[128];

                snprintf(name, sizeof(name), "dd/%s", keys[i]);
                assert_int_equal(t_stat(stats, "sync", name), 1);
        }
        assert_int_equal(t_stat_prefix(stats, "sync", ""), 5);
        assert_int_equal(t_stat(stats, "sync_buckets", "dd"), 0);
        cJSON_Delete(stats);

        syncer_get_stats(r.s, &st);
        assert_int_equal(st.events, 9);
        assert_int_equal(st.deduped, 4);
        assert_int_equal(st.syncs_ok, 5);
        assert_int_equal(st.syncs_bucket, 0);
        assert_int_equal(st.dead, 0);
        assert_int_equal(st.poison, 0);
        assert_true(st.batches >= 1);
        assert_true(st.last_latency_ms >= 1500);
        assert_int_equal(syncer_latency_percentiles(r.s, &p50, &p99), JB_OK);
        assert_true(p50 >= 1500 * 0.98 && p50 < 60000);
        assert_true(p99 >= p50 && p99 < 60000);
        assert_false(syncer_failed(r.s));
        assert_int_equal(atomic_load(&r.done_fail), 0);
        assert_int_equal(q_inflight(r.q), 0);
        {
                /* the status: 5 resyncs done, 4 with a latency (>= 1.5 s), nothing failed */
                cJSON *doc;
                const cJSON *b = status_bucket(&doc, "101", "dd"), *cn, *c;
                const cJSON *rs = cJSON_GetObjectItemCaseSensitive(b, "resyncs");
                int64_t lat = 0;

                assert_int_equal(sn(rs, "event", "ok") + sn(rs, "refresh", "ok"), 5);
                assert_int_equal(sn(rs, "event", "failed") + sn(rs, "refresh", "failed"), 0);
                assert_int_equal(sn(b, "resyncs_window", "ok"), 5);
                assert_int_equal(sn(b, "dead", NULL), 0);
                assert_true(sn(b, "last_resync_ok_ms", NULL) > 0);
                cn = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(b,
                                                                                       "latency_window"),
                                                      "counts");
                cJSON_ArrayForEach(c, cn) lat += (int64_t)c->valuedouble;
                assert_int_equal(lat, 4);
                assert_int_equal(cJSON_GetArrayItem(cn, 0)->valueint, 0); /* none under 1 s */
                cJSON_Delete(doc);
        }
        t_run_end(&r);
        status_reset();
}

/* A bucket op (between object events of its bucket) gives one bucket resync and no object
 * calls for that bucket; another provider's bucket in the same window is untouched by it. */
static void test_bucket_op(void **state)
{
        struct t_run r;
        struct syncer_stats st;
        double p50, p99;
        cJSON *stats;
        int i;

        (void)state;
        t_run_init(&r);
        t_reset_stats();
        t_truth_put("bk", "a/new.txt", "new\n");
        t_truth_put("bk", "c.txt", "c\n");
        t_truth_put("bk", "deep/er/d.txt", "d\n");
        t_truth_del("bk", "a/old.txt");
        for (i = 0; i < 5; i++) {
                char key[64];

                snprintf(key, sizeof(key), "gone/%d.txt", i);
                t_truth_del("bk", key);
        }
        t_truth_put("ot", "x.txt", "x changed\n");
        assert_false(t_diff_equal("bk"));
        assert_false(t_diff_equal("ot"));

        free(t_publish(&r, "101", "bk", "a/new.txt", MSG_OP_PUT, 0, 0));
        free(t_publish(&r, "101", "bk", "a/old.txt", MSG_OP_DELETE, 0, 1));
        free(t_publish(&r, "202", "ot", "x.txt", MSG_OP_PUT, 0, 2));
        free(t_publish(&r, "101", "bk", NULL, MSG_OP_BUCKET, 0, 3));
        free(t_publish(&r, "101", "bk", "c.txt", MSG_OP_PUT, 0, 4));
        free(t_publish(&r, "101", "bk", "deep/er/d.txt", MSG_OP_PUT, 0, 5));
        t_run_start(&r);
        t_wait_done(&r, r.published, 20000);

        t_assert_equal_bucket("bk");
        t_assert_equal_bucket("ot");
        stats = t_json("GET", "/sim/stats");
        assert_int_equal(t_stat(stats, "sync_buckets", "bk"), 1);
        assert_int_equal(t_stat_prefix(stats, "sync", "bk/"), 0);
        assert_int_equal(t_stat(stats, "sync", "ot/x.txt"), 1);
        assert_int_equal(t_stat(stats, "sync_buckets", "ot"), 0);
        cJSON_Delete(stats);
        syncer_get_stats(r.s, &st);
        assert_int_equal(st.syncs_ok, 2);
        assert_int_equal(st.syncs_bucket, 1);
        assert_int_equal(st.deduped, 4);
        /* no listed_ms on these events: no latency sample */
        assert_int_equal(syncer_latency_percentiles(r.s, &p50, &p99), JB_ENOTFOUND);
        assert_int_equal(q_inflight(r.q), 0);
        t_run_end(&r);
}

/* 30 % HTTP 500: everything still converges, with retries, nothing dead. */
static void test_faults_converge(void **state)
{
        struct t_run r;
        struct syncer_stats st;
        cJSON *stats, *inj;
        int i;

        (void)state;
        t_run_init(&r);
        t_reset_stats();
        for (i = 0; i < 100; i++) {
                char key[64];

                snprintf(key, sizeof(key), "f/%03d.txt", i);
                t_truth_put("ft", key, key);
                free(t_publish(&r, "101", "ft", key, MSG_OP_PUT, msg_now_ms(), i));
        }
        assert_false(t_diff_equal("ft"));
        assert_int_equal(tu_sim_faults(&t_sim, "error500_rate=0.3&seed=11"), 0);
        t_run_start(&r);
        t_wait_done(&r, r.published, 60000);
        assert_int_equal(tu_sim_faults(&t_sim, "clear=1"), 0);

        t_assert_equal_bucket("ft");
        syncer_get_stats(r.s, &st);
        assert_true(st.retries > 0);
        assert_int_equal(st.dead, 0);
        assert_int_equal(st.syncs_ok, 100);
        assert_false(syncer_failed(r.s));
        stats = t_json("GET", "/sim/stats");
        inj = cJSON_GetObjectItemCaseSensitive(stats, "http_errors_injected");
        assert_true(cJSON_IsNumber(inj) && inj->valueint > 0);
        cJSON_Delete(stats);
        t_run_end(&r);
}

/* Unknown provider, and a bucket of another provider: dead letters at once, with reason. */
static void test_unknown_provider(void **state)
{
        struct t_run r;
        struct syncer_stats st;
        struct msg_dead *d;
        char *pay[2];
        size_t n, i;

        (void)state;
        status_init(&(struct status_ident){"t", "sync", "test", 60, 1200});
        t_run_init(&r);
        pay[0] = t_publish(&r, "999", "dd", "x.txt", MSG_OP_PUT, 0, 41);
        pay[1] = t_publish(&r, "101", "ot", "x.txt", MSG_OP_DELETE, 0, 42);
        t_run_start(&r);
        t_wait_done(&r, r.published, 20000);

        n = t_dead_read(&r, &d);
        assert_int_equal(n, 2);
        for (i = 0; i < n; i++) {
                size_t j = d[i].rec == 41 ? 0 : 1;

                assert_string_equal(d[i].stage, "sync");
                assert_non_null(d[i].src);
                assert_string_equal(d[i].src, T_SRC);
                assert_int_equal(d[i].attempts, 1); /* not worth retrying */
                assert_non_null(d[i].error);
                assert_non_null(strstr(d[i].error, j == 0 ? "provider 999" : "bucket ot"));
                assert_int_equal(d[i].payload_len, strlen(pay[j]));
                assert_memory_equal(d[i].payload, pay[j], d[i].payload_len);
                assert_true(d[i].at_ms > 0);
        }
        assert_true(d[0].rec != d[1].rec);
        t_dead_free(d, n);
        /* one error line per item, naming what failed and why */
        assert_int_equal(t_log_lines("ERROR", "syncer:", "provider=999 bucket=dd key=x.txt",
                                     "provider 999", (char *)NULL),
                         1);
        assert_int_equal(t_log_lines("ERROR", "syncer:", "provider=101 bucket=ot key=x.txt", "bucket ot",
                                     (char *)NULL),
                         1);
        syncer_get_stats(r.s, &st);
        assert_int_equal(st.dead, 2);
        assert_int_equal(st.retries, 0);
        assert_int_equal(st.syncs_ok, 0);
        assert_false(syncer_failed(r.s));
        assert_int_equal(q_inflight(r.q), 0);
        for (i = 0; i < 2; i++) {
                /* the status: one failed resync and one dead letter each, with the error */
                cJSON *doc;
                const cJSON *b = status_bucket(&doc, i ? "101" : "999", i ? "ot" : "dd");

                assert_int_equal(sn(b, "dead", NULL), 1);
                assert_int_equal(sn(cJSON_GetObjectItemCaseSensitive(b, "resyncs"), "event", "failed"),
                                 1);
                assert_int_equal(sn(b, "resyncs_window", "failed"), 1);
                assert_true(sn(b, "last_resync_error_ms", NULL) > 0);
                assert_non_null(
                        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b, "last_resync_error")));
                cJSON_Delete(doc);
        }
        free(pay[0]);
        free(pay[1]);
        t_run_end(&r);
        status_reset();
}

/* Undecodable messages are dead letters (attempts 0, payload verbatim) and do not stop the
 * stage: a valid event after them is still synced. */
static void test_poison(void **state)
{
        static const char junk[] = "this is not json";
        static const char wrong[] = "{\"v\":1,\"type\":\"logfile\",\"provider\":\"101\"}";
        static const char bin[] = {'\0', '\xff', 'a', 'b', '\n'};
        struct t_run r;
        struct syncer_stats st;
        struct msg_dead *d;
        size_t n, i;
        int seen = 0;

        (void)state;
        t_run_init(&r);
        t_reset_stats();
        t_publish_raw(&r, "k1", junk, strlen(junk));
        t_publish_raw(&r, "k2", wrong, strlen(wrong));
        t_publish_raw(&r, "k3", bin, sizeof(bin));
        free(t_publish(&r, "101", "dd", "keep.txt", MSG_OP_PUT, 0, 0));
        t_run_start(&r);
        t_wait_done(&r, r.published, 20000);

        n = t_dead_read(&r, &d);
        assert_int_equal(n, 3);
        for (i = 0; i < n; i++) {
                assert_string_equal(d[i].stage, "sync");
                assert_int_equal(d[i].attempts, 0);
                assert_null(d[i].src);
                assert_int_equal(d[i].rec, -1);
                assert_non_null(d[i].error);
                assert_true(strlen(d[i].error) > 0);
                if (d[i].payload_len == strlen(junk) && !memcmp(d[i].payload, junk, strlen(junk)))
                        seen |= 1;
                if (d[i].payload_len == strlen(wrong) && !memcmp(d[i].payload, wrong, strlen(wrong)))
                        seen |= 2;
                if (d[i].payload_len == sizeof(bin) && !memcmp(d[i].payload, bin, sizeof(bin)))
                        seen |= 4;
        }
        assert_int_equal(seen, 7);
        t_dead_free(d, n);
        syncer_get_stats(r.s, &st);
        assert_int_equal(st.poison, 3);
        assert_int_equal(st.events, 4);
        assert_int_equal(st.dead, 0);
        assert_int_equal(st.syncs_ok, 1);
        assert_int_equal(q_inflight(r.q), 0);
        t_run_end(&r);
}

/* Stop with drain: queued events are synced without waiting for a (long) window. */
static void test_stop_drain(void **state)
{
        struct t_run r;
        struct syncer_stats st;
        int64_t t0;
        int i;

        (void)state;
        t_run_init(&r);
        r.so.window_ms = 60000;
        r.so.batch_max = 10;
        for (i = 0; i < 35; i++) {
                char key[64];

                snprintf(key, sizeof(key), "d%02d.txt", i);
                t_truth_put("dr", key, key);
        }
        assert_false(t_diff_equal("dr"));
        t_run_start(&r);
        for (i = 0; i < 35; i++) {
                char key[64];

                snprintf(key, sizeof(key), "d%02d.txt", i);
                free(t_publish(&r, "101", "dr", key, MSG_OP_PUT, 0, i));
        }
        t0 = tu_now_ms();
        syncer_stop(r.s, 1, 30000);
        assert_true(tu_now_ms() - t0 < 20000);
        assert_int_equal(atomic_load(&r.done_ok), 35);
        assert_int_equal(q_depth(r.q, Q_EVENTS), 0);
        assert_int_equal(q_inflight(r.q), 0);
        syncer_get_stats(r.s, &st);
        assert_int_equal(st.syncs_ok, 35);
        assert_true(st.batches >= 4); /* batch_max 10 */
        t_assert_equal_bucket("dr");
        syncer_stop(r.s, 1, 0); /* twice is fine */
        t_run_end(&r);
}

/* Credentials refused: the stage fails, abandons its messages (never completed, no dead
 * letters), and a stop returns promptly. */
static void test_fatal_credentials(void **state)
{
        struct t_run r;
        int64_t deadline;
        char *body;

        (void)state;
        t_run_init(&r);
        r.ao.password = "wrong-password";
        free(t_publish(&r, "101", "dd", "keep.txt", MSG_OP_PUT, 0, 0));
        free(t_publish(&r, "101", "dd", "hot.txt", MSG_OP_PUT, 0, 1));
        free(t_publish(&r, "101", "bk", NULL, MSG_OP_BUCKET, 0, 2));
        t_run_start(&r);
        deadline = tu_now_ms() + 20000;
        while (!syncer_failed(r.s)) {
                if (tu_now_ms() > deadline)
                        fail_msg("the syncer did not fail on refused credentials");
                tu_sleep_ms(10);
        }
        deadline = tu_now_ms();
        syncer_stop(r.s, 1, 10000);
        assert_true(tu_now_ms() - deadline < 5000);
        assert_int_equal(atomic_load(&r.done_ok), 0);
        assert_int_equal(atomic_load(&r.done_fail), 0);
        assert_int_equal(q_inflight(r.q), 3); /* left for a restart */
        body = tu_slurp(r.dead, NULL);
        assert_true(!body || !*body);
        free(body);
        assert_true(t_log_lines("ERROR", "syncer:", "refused", (char *)NULL) >= 1);
        /* no password in any line of any test */
        assert_int_equal(t_log_lines("wrong-password", (char *)NULL), 0);
        assert_int_equal(t_log_lines(T_PASS, (char *)NULL), 0);
        t_run_end(&r);
}

/* ---------------------------------------------------------------- resync methods */

/* Index entries (GET /sim/index) of bucket whose key starts with prefix. */
static int t_index_count(const char *bucket, const char *prefix)
{
        char *txt = t_get("GET", "/sim/index"), *line, *save = NULL;
        int n = 0;

        for (line = strtok_r(txt, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                cJSON *j = cJSON_Parse(line);
                const cJSON *b = cJSON_GetObjectItemCaseSensitive(j, "b");
                const cJSON *k = cJSON_GetObjectItemCaseSensitive(j, "k");

                if (cJSON_IsString(b) && cJSON_IsString(k) && !strcmp(b->valuestring, bucket) &&
                    !strncmp(k->valuestring, prefix, strlen(prefix)))
                        n++;
                cJSON_Delete(j);
        }
        free(txt);
        return n;
}

/*
 * The scenario of t_seed_scenario(bucket), changed behind the index's back: a new file and a
 * changed one at the top, a new file three folders deep where no folder exists yet, a folder
 * whose files were all deleted (and the folder with them), a deleted and a new file in one
 * folder. Runs a syncer with method and checks that the index equals the truth. Returns the
 * syncer's statistics.
 */
static void t_scenario(const char *bucket, const char *method, struct syncer_stats *st)
{
        struct t_run r;
        char gone[64];
        int i;

        t_run_init(&r);
        r.so.method = method;
        t_truth_put(bucket, "new.txt", "new\n");
        t_truth_put(bucket, "old.txt", "old, changed\n");
        t_truth_put(bucket, "a/b/c/x.txt", "deep\n");
        for (i = 0; i < 5; i++) {
                snprintf(gone, sizeof(gone), "gone/%d.txt", i);
                t_truth_del(bucket, gone);
        }
        t_truth_rmdir(bucket, "gone");
        t_truth_del(bucket, "sub/x.txt");
        t_truth_put(bucket, "sub/y.txt", "y\n");
        assert_false(t_diff_equal(bucket));
        assert_int_equal(t_index_count(bucket, "a/"), 0);

        free(t_publish(&r, "101", bucket, "new.txt", MSG_OP_PUT, 0, 0));
        free(t_publish(&r, "101", bucket, "old.txt", MSG_OP_PUT, 0, 1));
        free(t_publish(&r, "101", bucket, "a/b/c/x.txt", MSG_OP_PUT, 0, 2));
        for (i = 0; i < 5; i++) {
                snprintf(gone, sizeof(gone), "gone/%d.txt", i);
                free(t_publish(&r, "101", bucket, gone, MSG_OP_DELETE, 0, 3 + i));
        }
        free(t_publish(&r, "101", bucket, "sub/x.txt", MSG_OP_DELETE, 0, 8));
        free(t_publish(&r, "101", bucket, "sub/y.txt", MSG_OP_PUT, 0, 9));
        t_run_start(&r);
        t_wait_done(&r, r.published, 30000);

        t_assert_equal_bucket(bucket);
        assert_int_equal(t_index_count(bucket, "gone/"), 0); /* the folder too */
        assert_int_equal(t_index_count(bucket, "a/b/c/x.txt"), 1);
        syncer_get_stats(r.s, st);
        assert_int_equal(st->dead, 0);
        assert_false(syncer_failed(r.s));
        assert_int_equal(atomic_load(&r.done_fail), 0);
        assert_int_equal(q_inflight(r.q), 0);
        t_run_end(&r);
}

/* Both methods converge on the same changes; refresh groups per folder and calls no
 * syncOnProviderEvent. */
static void test_methods_converge(void **state)
{
        struct syncer_stats st;
        cJSON *stats;

        (void)state;
        t_reset_stats();
        t_scenario("ev", "event", &st);
        assert_int_equal(st.syncs_ok, 10);
        assert_int_equal(st.refreshes, 0);
        assert_int_equal(st.method_switched, 0);
        stats = t_json("GET", "/sim/stats");
        assert_int_equal(t_stat_prefix(stats, "sync", "ev/"), 10);
        assert_int_equal(t_stat_prefix(stats, "refreshes", "ev/"), 0);
        cJSON_Delete(stats);

        t_reset_stats();
        t_scenario("rf", "refresh", &st);
        /* units: "" (new, old), a/b/c, gone, sub */
        assert_int_equal(st.syncs_ok, 4);
        assert_int_equal(st.syncs_bucket, 0);
        assert_true(st.refreshes >= 6); /* "", a, a/b, a/b/c, gone, sub (+ "" for gone) */
        assert_int_equal(st.method_switched, 0);
        stats = t_json("GET", "/sim/stats");
        assert_int_equal(t_stat(stats, "calls", "syncOnProviderEvent"), 0);
        assert_int_equal(t_stat(stats, "refreshes", "rf/a/"), 1);
        assert_int_equal(t_stat(stats, "refreshes", "rf/a/b/"), 1);
        assert_int_equal(t_stat(stats, "refreshes", "rf/a/b/c/"), 1);
        assert_int_equal(t_stat(stats, "refreshes", "rf/sub/"), 1);
        assert_int_equal(t_stat(stats, "refreshes", "rf/keep/"), 0); /* untouched folder */
        cJSON_Delete(stats);
}

/* refresh: 20 events in one folder and 1 at the top -> one refresh each, 2 units. */
static void test_refresh_dedup_folder(void **state)
{
        struct t_run r;
        struct syncer_stats st;
        cJSON *stats;
        int i;

        (void)state;
        t_run_init(&r);
        r.so.method = "refresh";
        t_reset_stats();
        for (i = 0; i < 20; i++) {
                char key[64];

                snprintf(key, sizeof(key), "d/%02d.txt", i);
                t_truth_put("rx", key, key);
                free(t_publish(&r, "101", "rx", key, MSG_OP_PUT, msg_now_ms(), i));
        }
        t_truth_put("rx", "top.txt", "top, changed\n");
        free(t_publish(&r, "101", "rx", "top.txt", MSG_OP_PUT, msg_now_ms(), 20));
        t_run_start(&r);
        t_wait_done(&r, r.published, 20000);

        t_assert_equal_bucket("rx");
        stats = t_json("GET", "/sim/stats");
        assert_int_equal(t_stat(stats, "refreshes", "rx/d/"), 1);
        assert_int_equal(t_stat(stats, "refreshes", "rx/"), 1);
        assert_int_equal(t_stat(stats, "calls", "syncOnProviderEvent"), 0);
        cJSON_Delete(stats);
        syncer_get_stats(r.s, &st);
        assert_int_equal(st.events, 21);
        assert_int_equal(st.syncs_ok, 2);
        assert_int_equal(st.refreshes, 2);
        assert_true(st.last_latency_ms >= 0);
        assert_int_equal(q_inflight(r.q), 0);
        t_run_end(&r);
}

/* refresh: a DeleteObjects (bucket op) refreshes every folder of the bucket, paced, with
 * progress lines; new and deleted folders at any depth converge. */
static void test_refresh_bucket(void **state)
{
        struct t_run r;
        struct syncer_stats st;
        cJSON *stats;
        int64_t t0, ms;

        (void)state;
        t_run_init(&r);
        r.so.method = "refresh";
        r.so.bucket_refresh_per_s = 40;
        t_reset_stats();
        /* 1 bucket + 3 l* + 30 m* folders before; now: m0 emptied and gone, new n/o/p */
        t_truth_del("rb", "l0/m0/f.txt");
        t_truth_rmdir("rb", "l0/m0");
        t_truth_put("rb", "l1/m1/f.txt", "changed\n");
        t_truth_put("rb", "l2/m2/new.txt", "new\n");
        t_truth_put("rb", "n/o/p/q.txt", "deep new\n");
        t_truth_del("rb", "root.txt");
        assert_false(t_diff_equal("rb"));
        free(t_publish(&r, "101", "rb", "l1/m1/f.txt", MSG_OP_PUT, 0, 0));
        free(t_publish(&r, "101", "rb", NULL, MSG_OP_BUCKET, 0, 1));
        free(t_publish(&r, "101", "rb", "l0/m0/f.txt", MSG_OP_DELETE, 0, 2));
        t0 = tu_now_ms();
        t_run_start(&r);
        t_wait_done(&r, r.published, 60000);
        ms = tu_now_ms() - t0;

        t_assert_equal_bucket("rb");
        assert_int_equal(t_index_count("rb", "l0/m0/"), 0);
        syncer_get_stats(r.s, &st);
        /* folders now: bucket, l0 l1 l2, m1..m29, n, n/o, n/o/p = 1 + 3 + 29 + 3 = 36 */
        assert_int_equal(st.refreshes, 36);
        assert_int_equal(st.bucket_refreshes, 1);
        assert_int_equal(st.syncs_bucket, 1);
        assert_int_equal(st.syncs_ok, 1);
        assert_int_equal(st.deduped, 2);
        /* paced: 36 starts at 40/s take at least 35 gaps of 25 ms */
        assert_true(ms >= 35 * 25);
        stats = t_json("GET", "/sim/stats");
        assert_int_equal(t_stat(stats, "refreshes", "rb/"), 1);
        assert_int_equal(t_stat(stats, "refreshes", "rb/l1/m1/"), 1);
        assert_int_equal(t_stat(stats, "refreshes", "rb/n/o/p/"), 1);
        assert_int_equal(t_stat(stats, "calls", "syncOnProviderEvent"), 0);
        cJSON_Delete(stats);
        assert_int_equal(t_log_lines("INFO", "syncer:", "provider=101 bucket=rb",
                                     "whole-bucket resync by folder refresh: 36 of 36 folders",
                                     (char *)NULL),
                         1);
        assert_int_equal(q_inflight(r.q), 0);
        t_run_end(&r);
}

/* Refresh method: once a whole-bucket refresh completed, events of that bucket whose log
 * files were listed well before it began cost nothing (acked as covered); later ones are
 * refreshed. */
static void test_refresh_covered(void **state)
{
        struct t_run r;
        struct syncer_stats st;
        uint64_t after_bucket;
        cJSON *stats;
        int m1;

        (void)state;
        t_run_init(&r);
        r.so.method = "refresh";
        r.so.bucket_refresh_per_s = 1000;
        t_run_start(&r);
        t_reset_stats();
        free(t_publish_at(&r, "101", "rb", NULL, MSG_OP_BUCKET, msg_now_ms() - 60000, 0,
                          "2026-01-01T00:00:00Z"));
        t_wait_done(&r, 1, 60000);
        syncer_get_stats(r.s, &st);
        assert_int_equal(st.bucket_refreshes, 1);
        after_bucket = st.refreshes;
        stats = t_json("GET", "/sim/stats");
        m1 = t_stat(stats, "refreshes", "rb/l1/m1/");
        cJSON_Delete(stats);
        /* older than the bucket refresh: covered, no call */
        t_truth_put("rb", "l1/m1/g.txt", "old change\n");
        free(t_publish_at(&r, "101", "rb", "l1/m1/f.txt", MSG_OP_PUT, msg_now_ms() - 60000, 1,
                          "2026-01-01T00:00:05Z"));
        t_wait_done(&r, 2, 60000);
        syncer_get_stats(r.s, &st);
        assert_int_equal(st.covered, 1);
        assert_int_equal(st.refreshes, after_bucket);
        stats = t_json("GET", "/sim/stats");
        assert_int_equal(t_stat(stats, "refreshes", "rb/l1/m1/"), m1);
        cJSON_Delete(stats);
        /* a log file listed just now, whatever its event time says: refreshed */
        free(t_publish_at(&r, "101", "rb", "l1/m1/g.txt", MSG_OP_PUT, msg_now_ms(), 2,
                          "2026-01-01T00:00:06Z"));
        t_wait_done(&r, 3, 60000);
        syncer_get_stats(r.s, &st);
        assert_int_equal(st.covered, 1);
        assert_true(st.refreshes > after_bucket);
        t_assert_equal_bucket("rb");
        t_run_end(&r);
}

/* auto: unknown_function switches to refresh once (one WARN), everything converges, and a
 * later batch calls syncOnProviderEvent no more. */
static void test_auto_switch(void **state)
{
        struct t_run r;
        struct syncer_stats st;
        cJSON *stats;
        int calls;

        (void)state;
        t_run_init(&r);
        assert_string_equal(r.so.method, "auto");
        t_reset_stats();
        assert_int_equal(tu_sim_faults(&t_sim, "sync_event_off=1"), 0);
        t_truth_put("ra", "a.txt", "a, changed\n");
        t_truth_put("ra", "x/c.txt", "c\n");
        t_truth_del("ra", "x/b.txt");
        t_truth_put("ra", "y/z/new.txt", "new\n");
        free(t_publish(&r, "101", "ra", "a.txt", MSG_OP_PUT, 0, 0));
        free(t_publish(&r, "101", "ra", "x/c.txt", MSG_OP_PUT, 0, 1));
        free(t_publish(&r, "101", "ra", "x/b.txt", MSG_OP_DELETE, 0, 2));
        free(t_publish(&r, "101", "ra", "y/z/new.txt", MSG_OP_PUT, 0, 3));
        t_run_start(&r);
        t_wait_done(&r, r.published, 30000);
        t_assert_equal_bucket("ra");
        stats = t_json("GET", "/sim/stats");
        calls = t_stat(stats, "calls", "syncOnProviderEvent");
        assert_true(calls >= 1 && calls <= 4); /* the first try of each worker at most */
        cJSON_Delete(stats);

        /* a second batch: grouped per folder, no event call */
        t_truth_put("ra", "x/d.txt", "d\n");
        t_truth_put("ra", "x/e.txt", "e\n");
        free(t_publish(&r, "101", "ra", "x/d.txt", MSG_OP_PUT, 0, 4));
        free(t_publish(&r, "101", "ra", "x/e.txt", MSG_OP_PUT, 0, 5));
        t_wait_done(&r, r.published, 30000);
        t_assert_equal_bucket("ra");
        stats = t_json("GET", "/sim/stats");
        assert_int_equal(t_stat(stats, "calls", "syncOnProviderEvent"), calls);
        cJSON_Delete(stats);
        assert_int_equal(tu_sim_faults(&t_sim, "clear=1"), 0);

        syncer_get_stats(r.s, &st);
        assert_int_equal(st.method_switched, 1);
        assert_int_equal(st.syncs_ok, 4 + 1);
        assert_int_equal(st.dead, 0);
        assert_int_equal(st.retries, 0);
        assert_false(syncer_failed(r.s));
        assert_int_equal(t_log_lines("WARN", "syncer:", "does not know syncOnProviderEvent",
                                     "syncer.method = refresh", (char *)NULL),
                         1);
        assert_int_equal(q_inflight(r.q), 0);
        t_run_end(&r);
}

/* event: unknown_function stops the stage; nothing acked, nothing dead, an ERROR says what
 * to set. */
static void test_event_unknown_function(void **state)
{
        struct t_run r;
        int64_t deadline;
        char *body;

        (void)state;
        t_run_init(&r);
        r.so.method = "event";
        assert_int_equal(tu_sim_faults(&t_sim, "sync_event_off=1"), 0);
        free(t_publish(&r, "101", "re", "a.txt", MSG_OP_PUT, 0, 0));
        free(t_publish(&r, "101", "re", "b.txt", MSG_OP_PUT, 0, 1));
        t_run_start(&r);
        deadline = tu_now_ms() + 20000;
        while (!syncer_failed(r.s)) {
                if (tu_now_ms() > deadline)
                        fail_msg("the syncer did not stop on unknown_function");
                tu_sleep_ms(10);
        }
        syncer_stop(r.s, 1, 5000);
        assert_int_equal(tu_sim_faults(&t_sim, "clear=1"), 0);
        assert_int_equal(atomic_load(&r.done_ok), 0);
        assert_int_equal(atomic_load(&r.done_fail), 0);
        assert_int_equal(q_inflight(r.q), 2);
        body = tu_slurp(r.dead, NULL);
        assert_true(!body || !*body);
        free(body);
        assert_int_equal(t_log_lines("ERROR", "syncer:", "does not know syncOnProviderEvent",
                                     "syncer.method = refresh (or auto)", (char *)NULL),
                         1);
        t_run_end(&r);
}

/* refresh: unknown provider / bucket -> dead letters at once, as in the event method. */
static void test_refresh_unknown_provider(void **state)
{
        struct t_run r;
        struct syncer_stats st;
        struct msg_dead *d;
        size_t n, i;

        (void)state;
        t_run_init(&r);
        r.so.method = "refresh";
        free(t_publish(&r, "998", "dd", "x.txt", MSG_OP_PUT, 0, 51));
        free(t_publish(&r, "202", "dd", NULL, MSG_OP_BUCKET, 0, 52));
        t_run_start(&r);
        t_wait_done(&r, r.published, 20000);
        n = t_dead_read(&r, &d);
        assert_int_equal(n, 2);
        for (i = 0; i < n; i++) {
                assert_int_equal(d[i].attempts, 1);
                assert_non_null(strstr(d[i].error, d[i].rec == 51 ? "provider 998" : "bucket dd"));
        }
        t_dead_free(d, n);
        syncer_get_stats(r.s, &st);
        assert_int_equal(st.dead, 2);
        assert_int_equal(st.syncs_ok, 0);
        assert_int_equal(q_inflight(r.q), 0);
        t_run_end(&r);
}

/* refresh: a refresh that never finishes is transient (retried past max_attempts, never a
 * dead letter, done once the server finishes refreshes again); a stop cuts a stuck
 * whole-bucket refresh short and leaves its message for a restart. */
static void test_refresh_stuck(void **state)
{
        struct t_run r;
        struct syncer_stats st;
        struct msg_dead *d;
        int64_t t0;
        size_t n;

        (void)state;
        t_run_init(&r);
        r.so.method = "refresh";
        r.so.max_attempts = 2;
        r.ao.refresh_timeout_ms = 400;
        assert_int_equal(tu_sim_faults(&t_sim, "refresh_stuck=1"), 0);
        free(t_publish(&r, "101", "rs", "a.txt", MSG_OP_PUT, 0, 61));
        t_run_start(&r);
        t_wait_stats(&r, t_transient_at_least, 4, 20000, &st);
        assert_int_equal(atomic_load(&r.done_ok), 0);
        assert_int_equal(tu_sim_faults(&t_sim, "refresh_stuck=0"), 0);
        t_wait_done(&r, r.published, 20000);
        n = t_dead_read(&r, &d);
        assert_int_equal(n, 0);
        t_dead_free(d, n);
        syncer_get_stats(r.s, &st);
        assert_true(st.retries >= 4);
        assert_int_equal(st.dead, 0);
        assert_int_equal(tu_sim_faults(&t_sim, "refresh_stuck=1"), 0);
        syncer_stop(r.s, 0, 0);
        syncer_free(r.s);
        r.s = NULL;

        r.ao.refresh_timeout_ms = 60000;
        free(t_publish(&r, "101", "rs", NULL, MSG_OP_BUCKET, 0, 62));
        t_run_start(&r);
        tu_sleep_ms(500);
        t0 = tu_now_ms();
        syncer_stop(r.s, 1, 300);
        assert_true(tu_now_ms() - t0 < 3000);
        assert_int_equal(tu_sim_faults(&t_sim, "clear=1"), 0);
        assert_int_equal(atomic_load(&r.done_ok), 1); /* the first message only */
        assert_int_equal(q_inflight(r.q), 1);
        t_run_end(&r);
}

static size_t t_discard(char *p, size_t sz, size_t n, void *opaque)
{
        (void)p;
        (void)opaque;
        return sz * n;
}

/* refresh: a cached folder id that went stale (the index was rebuilt with new ids) is
 * dropped and resolved again inside the same attempt. */
static void test_refresh_stale_cache(void **state)
{
        struct t_run r;
        struct syncer_stats st;
        char *idx, url[128];
        long code = 0;
        CURL *c;

        (void)state;
        t_run_init(&r);
        r.so.method = "refresh";
        r.so.concurrency = 1; /* one refresher: its cache is the one that goes stale */
        t_truth_put("rc", "s/a.txt", "a, changed\n");
        free(t_publish(&r, "101", "rc", "s/a.txt", MSG_OP_PUT, 0, 0));
        t_run_start(&r);
        t_wait_done(&r, 1, 20000);
        t_assert_equal_bucket("rc");

        /* snapshot and restore the index: same content, new ids below the buckets */
        idx = t_get("GET", "/sim/index"); /* larger than tu_sim_http() sends: use curl */
        snprintf(url, sizeof(url), "%s/sim/index", t_sim.endpoint);
        c = curl_easy_init();
        assert_non_null(c);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, idx);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, t_discard);
        assert_int_equal(curl_easy_perform(c), CURLE_OK);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        curl_easy_cleanup(c);
        free(idx);
        assert_int_equal(code, 200);
        t_reset_stats();
        t_truth_put("rc", "s/b.txt", "b\n");
        free(t_publish(&r, "101", "rc", "s/b.txt", MSG_OP_PUT, 0, 1));
        t_wait_done(&r, 2, 20000);
        t_assert_equal_bucket("rc");
        syncer_get_stats(r.s, &st);
        assert_int_equal(st.syncs_ok, 2);
        assert_int_equal(st.retries, 0);
        assert_int_equal(st.dead, 0);
        t_run_end(&r);
}

/* ---------------------------------------------------------------- outages */

/*
 * Every transient answer of the resync call (reset, HTML 200, empty 200, 429, 500, and a
 * whole-server 500 on every call), by both methods: however many attempts (far more than
 * max_attempts), no dead letter, nothing acknowledged; once the server heals, every event
 * is resynced and the index equals the truth. One case shortens the outage report's timing
 * and checks the WARN (length, backlog) and the INFO at the end.
 */
static void test_transient_never_dead(void **state)
{
        static const struct {
                const char *fault, *method;
        } cases[] = {
                {"sync_fault=reset", "event"},  {"sync_fault=html", "event"},
                {"sync_fault=empty", "event"},  {"sync_fault=e429&sync_retry_after_s=0", "event"},
                {"sync_fault=e500", "event"},   {"error500_rate=1", "event"},
                {"sync_fault=html", "refresh"}, {"sync_fault=e500", "refresh"},
                {"error500_rate=1", "refresh"},
        };
        size_t c;

        (void)state;
        for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
                struct t_run r;
                struct syncer_stats st;
                char key[64];
                int i, warn = c == 5;
                char *body;

                t_run_init(&r);
                r.so.method = cases[c].method;
                r.so.max_attempts = 2;
                r.so.concurrency = 2;
                r.so.backoff_base_ms = 5;
                r.so.backoff_max_ms = 40;
                t_reset_stats();
                for (i = 0; i < 6; i++) {
                        snprintf(key, sizeof(key), "c%zu/%d.txt", c, i);
                        t_truth_put("ou", key, key);
                        free(t_publish(&r, "101", "ou", key, MSG_OP_PUT, msg_now_ms(), i));
                }
                assert_int_equal(tu_sim_faults(&t_sim, cases[c].fault), 0);
                t_run_start(&r);
                if (warn)
                        syncer_outage_warn_ms(r.s, 300, 200);
                /* many more failed attempts than max_attempts allows, per event */
                t_wait_stats(&r, t_transient_at_least, 40, 20000, &st);
                if (warn)
                        tu_sleep_ms(600); /* past the first report and one more */
                syncer_get_stats(r.s, &st);
                if (st.dead || atomic_load(&r.done_ok) || atomic_load(&r.done_fail))
                        fail_msg("%s, %s: %llu dead letters, %d acknowledged during the outage",
                                 cases[c].fault, cases[c].method, (unsigned long long)st.dead,
                                 atomic_load(&r.done_ok));
                assert_true(st.outage_ms > 0);
                assert_int_equal(q_inflight(r.q), 6);
                assert_int_equal(st.held, 6);
                assert_false(syncer_failed(r.s));

                assert_int_equal(tu_sim_faults(&t_sim, "clear=1"), 0);
                t_wait_done(&r, r.published, 20000);
                syncer_get_stats(r.s, &st);
                assert_int_equal(st.dead, 0);
                assert_int_equal(st.outage_ms, 0);
                assert_true(st.longest_outage_ms > 0);
                t_assert_equal_bucket("ou");
                body = tu_slurp(r.dead, NULL);
                assert_true(!body || !*body);
                free(body);
                if (warn) {
                        assert_true(st.outages >= 1);
                        assert_true(t_log_lines("WARN", "syncer:", "no resync has succeeded for",
                                                "6 event(s) wait (6 in hand, 0 queued)",
                                                (char *)NULL) >= 2);
                        assert_int_equal(t_log_lines("INFO",
                                                     "syncer:", "resyncs work again after an outage of",
                                                     "6 event(s) waited", (char *)NULL),
                                         1);
                }
                t_run_end(&r);
        }
}

/* A 429 with Retry-After: the next attempt waits at least that long, even when the
 * syncer's own backoff is much shorter. */
static void test_retry_after(void **state)
{
        struct t_run r;
        struct syncer_stats st;
        cJSON *stats;
        int64_t t0;

        (void)state;
        t_run_init(&r);
        r.so.backoff_base_ms = 5;
        r.so.backoff_max_ms = 20;
        t_reset_stats();
        t_truth_put("ou", "ra/1.txt", "1\n");
        free(t_publish(&r, "101", "ou", "ra/1.txt", MSG_OP_PUT, msg_now_ms(), 0));
        assert_int_equal(tu_sim_faults(&t_sim, "sync_fault=e429&sync_retry_after_s=1"), 0);
        t0 = tu_now_ms();
        t_run_start(&r);
        t_wait_stats(&r, t_transient_at_least, 1, 20000, &st);
        tu_sleep_ms(2500 - (tu_now_ms() - t0) > 0 ? 2500 - (tu_now_ms() - t0) : 0);
        stats = t_json("GET", "/sim/stats");
        /* 20 ms of backoff would allow about a hundred; Retry-After: 1 allows three attempts,
         * each at most two calls (the client's one quick retry waits Retry-After too) */
        {
                const cJSON *n = cJSON_GetObjectItemCaseSensitive(stats, "sync_faults_injected");

                assert_true(cJSON_IsNumber(n));
                if (n->valueint < 1 || n->valueint > 6)
                        fail_msg("%d resync calls in 2.5 s with Retry-After: 1", n->valueint);
        }
        cJSON_Delete(stats);
        assert_int_equal(tu_sim_faults(&t_sim, "clear=1"), 0);
        t_wait_done(&r, r.published, 20000);
        t_run_end(&r);
}

/* Answers that look permanent (the server refuses the request) become dead letters after
 * max_attempts of them, with the reason; transient failures in between do not count. */
static void test_permanent_dead(void **state)
{
        struct t_run r;
        struct syncer_stats st;
        struct msg_dead *d;
        size_t n;

        (void)state;
        t_run_init(&r);
        r.so.max_attempts = 3;
        t_reset_stats();
        t_truth_put("ou", "pm/1.txt", "1\n");
        free(t_publish(&r, "101", "ou", "pm/1.txt", MSG_OP_PUT, msg_now_ms(), 71));
        assert_int_equal(tu_sim_faults(&t_sim, "sync_fault=refuse"), 0);
        t_run_start(&r);
        t_wait_done(&r, r.published, 20000);
        assert_int_equal(tu_sim_faults(&t_sim, "clear=1"), 0);
        n = t_dead_read(&r, &d);
        assert_int_equal(n, 1);
        assert_int_equal(d[0].rec, 71);
        assert_int_equal(d[0].attempts, 3);
        assert_non_null(strstr(d[0].error, "refused"));
        t_dead_free(d, n);
        syncer_get_stats(r.s, &st);
        assert_int_equal(st.dead, 1);
        assert_int_equal(st.transient, 0);
        assert_int_equal(st.retries, 2);
        t_run_end(&r);
}

/* A stop during a long outage (backoff up to a minute, drain asked) returns at once: the
 * events are given back for the next start, none is acknowledged or dead-lettered. */
static void test_stop_during_outage(void **state)
{
        struct t_run r;
        struct syncer_stats st;
        int64_t t0;
        char *body;
        int i;

        (void)state;
        t_run_init(&r);
        r.so.backoff_base_ms = 20000;
        r.so.backoff_max_ms = 60000;
        r.so.batch_max = 5;
        for (i = 0; i < 20; i++) {
                char key[64];

                snprintf(key, sizeof(key), "st/%d.txt", i);
                t_truth_put("ou", key, key);
                free(t_publish(&r, "101", "ou", key, MSG_OP_PUT, msg_now_ms(), i));
        }
        assert_int_equal(tu_sim_faults(&t_sim, "error500_rate=1"), 0);
        t_run_start(&r);
        t_wait_stats(&r, t_transient_at_least, 4, 20000, &st); /* every worker waits */
        t0 = tu_now_ms();
        syncer_stop(r.s, 1, 30000);
        if (tu_now_ms() - t0 > 2000)
                fail_msg("stop took %lld ms during an outage", (long long)(tu_now_ms() - t0));
        assert_int_equal(tu_sim_faults(&t_sim, "clear=1"), 0);
        assert_int_equal(atomic_load(&r.done_ok), 0);
        assert_int_equal(q_inflight(r.q), 20); /* left for a restart */
        body = tu_slurp(r.dead, NULL);
        assert_true(!body || !*body);
        free(body);
        syncer_get_stats(r.s, &st);
        assert_int_equal(st.dead, 0);
        assert_true(t_log_lines("INFO", "syncer:", "stopping during an outage", (char *)NULL) >= 1);
        t_run_end(&r);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_dedup_converges),
                cmocka_unit_test(test_bucket_op),
                cmocka_unit_test(test_faults_converge),
                cmocka_unit_test(test_unknown_provider),
                cmocka_unit_test(test_poison),
                cmocka_unit_test(test_stop_drain),
                cmocka_unit_test(test_fatal_credentials),
                cmocka_unit_test(test_methods_converge),
                cmocka_unit_test(test_refresh_dedup_folder),
                cmocka_unit_test(test_refresh_bucket),
                cmocka_unit_test(test_refresh_covered),
                cmocka_unit_test(test_auto_switch),
                cmocka_unit_test(test_event_unknown_function),
                cmocka_unit_test(test_refresh_unknown_provider),
                cmocka_unit_test(test_refresh_stuck),
                cmocka_unit_test(test_refresh_stale_cache),
                cmocka_unit_test(test_transient_never_dead),
                cmocka_unit_test(test_retry_after),
                cmocka_unit_test(test_permanent_dead),
                cmocka_unit_test(test_stop_during_outage),
        };

        return cmocka_run_group_tests_name("syncer", tests, t_setup, t_teardown);
}
