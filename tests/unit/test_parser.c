/*
 * test_parser.c - the parser stage (consumer/parser.c, view.c) against the real simulator
 * ($AASIM) over the embedded transport (q_mem).
 *
 * The group setup writes a deployment directory: provider 101 "S3 Prod" (buckets data and
 * logs, last full sync started 2026-11-29 06:00:00 with its task), provider 102 "S3 Old"
 * (bucket data2, task gone: the start is estimated from 7200 files at 2 files/s before
 * 08:00:00, i.e. 07:00:00), and gzip CloudTrail files below logs/AWSLogs/. Each test
 * publishes msg_logfile messages on Q_FILES itself, runs a parser and checks Q_EVENTS, the
 * dead-letter file, completions and counters. Faults are put back by the tests that set them.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <zlib.h>

#include "aa.h"
#include "buf.h"
#include "ct.h"
#include "filehash.h"
#include "log.h"
#include "msg.h"
#include "parser.h"
#include "q.h"
#include "sha256.h"
#include "status.h"
#include "tu.h"
#include "tu_sim.h"
#include "view.h"

#define T_TOKEN "PERMANENT-TOKEN-1"
#define T_KEY1 "AKIAAASELFKEY0000001"
#define T_KEY2 "AKIAAASELFKEY0000002"
#define T_CFG_ARN "arn:aws:iam::111122223333:role/aa-extra"
#define T_USER_KEY "AKIAUSERKEY000000001"
#define T_DIR "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/30/"
#define T_NAME(x) "111122223333_CloudTrail_us-east-1_20261130T1000Z_" x ".json.gz"
#define T_PATH(x) "S3 Prod/logs/" T_DIR T_NAME(x)
#define T_DIGEST_PATH                                                                                   \
        "S3 Prod/logs/AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/30/"                     \
        "111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20261130T1000Z.json.gz"
#define T_LISTED 1764496800123LL
#define T_NSLOW 600

static char *t_root;
static struct tu_sim t_sim = {-1, 0, ""};
static struct aa_client *t_aa;
static int t_ndead;

/* ---------------------------------------------------------------- fixtures */

/* Access Anywhere's own identities as a deployment configures them (no call reports them). */
static char *t_self_keys[] = {T_KEY1, T_KEY2};
static char *t_self_agents[] = {"SMEStorage"};
static char *t_self_arns[] = {T_CFG_ARN};

static void opts_self(struct view_opts *v)
{
        v->self_keys = t_self_keys;
        v->n_self_keys = 2;
        v->self_agents = t_self_agents;
        v->n_self_agents = 1;
}

/* One CloudTrail record; NULL fields are left out. */
static void rec(struct buf *b, const char *name, const char *bucket, const char *key, const char *time,
                const char *akid, const char *arn, const char *agent, const char *errcode,
                const char *id)
{
        int rc = buf_printf(b,
                            "%s{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"IAMUser\","
                            "\"accountId\":\"111122223333\",\"accessKeyId\":\"%s\"",
                            b->len > 12 ? "," : "", akid);

        if (!rc && arn)
                rc = buf_printf(b, ",\"arn\":\"%s\"", arn);
        if (!rc)
                rc = buf_printf(b,
                                "},\"eventTime\":\"%s\",\"eventSource\":\"s3.amazonaws.com\","
                                "\"eventName\":\"%s\",\"awsRegion\":\"us-east-1\","
                                "\"sourceIPAddress\":\"192.0.2.1\",\"userAgent\":\"%s\"",
                                time, name, agent ? agent : "aws-cli/2.15");
        if (!rc && errcode)
                rc = buf_printf(b, ",\"errorCode\":\"%s\"", errcode);
        if (!rc)
                rc = buf_printf(b, ",\"requestParameters\":{\"bucketName\":\"%s\"", bucket);
        if (!rc && key)
                rc = buf_printf(b, ",\"key\":\"%s\"", key);
        if (!rc)
                rc = buf_printf(b,
                                "},\"eventID\":\"%s\",\"recipientAccountId\":\"111122223333\","
                                "\"eventType\":\"AwsApiCall\"}",
                                id);
        assert_int_equal(rc, 0);
}

static void doc_begin(struct buf *b)
{
        buf_init(b, 64u << 20);
        assert_int_equal(buf_puts(b, "{\"Records\":["), 0); /* 12 bytes: rec() adds commas after */
}

static unsigned char *doc_gzip(struct buf *b, size_t *n)
{
        unsigned char *gz;

        assert_int_equal(buf_puts(b, "]}"), 0);
        gz = tu_gzip(b->p, b->len, n);
        assert_non_null(gz);
        buf_clear(b);
        return gz;
}

static void truth_put(const char *bucket, const char *key, const void *p, size_t n)
{
        char path[4096];

        snprintf(path, sizeof(path), "%s/truth/%s/%s", t_root, bucket, key);
        assert_int_equal(tu_write_atomic(path, p, n), 0);
}

static void put_log(const char *name, const void *p, size_t n)
{
        char key[1024];

        snprintf(key, sizeof(key), T_DIR "%s", name);
        truth_put("logs", key, p, n);
}

static void make_files(void)
{
        struct buf b;
        unsigned char *gz;
        size_t n;
        int i;

        /* main: one of each docs/EVENTS.md outcome that matters to the parser */
        doc_begin(&b);
        rec(&b, "PutObject", "data", "a.txt", "2026-11-30T10:00:00Z", T_USER_KEY, NULL, NULL, NULL,
            "ev-put"); /* 0 */
        rec(&b, "PutObject", "data", "self1.txt", "2026-11-30T10:00:01Z", T_KEY1, NULL, NULL, NULL,
            "s1"); /* 1 */
        rec(&b, "PutObject", "data", "self2.txt", "2026-11-30T10:00:01Z", T_KEY2, NULL, NULL, NULL,
            "s2"); /* 2 */
        rec(&b, "PutObject", "data", "agent.txt", "2026-11-30T10:00:01Z", T_USER_KEY, NULL,
            "aws-sdk-java/1.12 SMEStorage/3.1", NULL, "s3"); /* 3 */
        rec(&b, "PutObject", "data", "arn.txt", "2026-11-30T10:00:01Z", T_USER_KEY, T_CFG_ARN, NULL,
            NULL, "s4"); /* 4 */
        rec(&b, "PutObject", "other", "x.txt", "2026-11-30T10:00:02Z", T_USER_KEY, NULL, NULL, NULL,
            "u1"); /* 5 */
        rec(&b, "PutObject", "data", "old.txt", "2026-11-29T05:59:59Z", T_USER_KEY, NULL, NULL, NULL,
            "c1"); /* 6 */
        rec(&b, "GetObject", "data", "a.txt", "2026-11-30T10:00:03Z", T_USER_KEY, NULL, NULL, NULL,
            "g1"); /* 7 */
        rec(&b, "PutObject", "data", "denied.txt", "2026-11-30T10:00:03Z", T_USER_KEY, NULL, NULL,
            "AccessDenied", "f1"); /* 8 */
        rec(&b, "DeleteObject", "data", "b.txt", "2026-11-30T10:00:04Z", T_USER_KEY, NULL, NULL, NULL,
            "ev-del"); /* 9 */
        rec(&b, "DeleteObjects", "data", NULL, "2026-11-30T10:00:05Z", T_USER_KEY, NULL, NULL, NULL,
            "ev-bucket"); /* 10 */
        gz = doc_gzip(&b, &n);
        put_log(T_NAME("main"), gz, n);
        free(gz);

        /* est: provider 102, whose start is estimated (07:00:00) */
        doc_begin(&b);
        rec(&b, "PutObject", "data2", "before.txt", "2026-11-29T06:59:59Z", T_USER_KEY, NULL, NULL, NULL,
            "e0");
        rec(&b, "PutObject", "data2", "after.txt", "2026-11-29T07:00:01Z", T_USER_KEY, NULL, NULL, NULL,
            "e1");
        gz = doc_gzip(&b, &n);
        put_log(T_NAME("est"), gz, n);
        free(gz);

        /* corrupt: deflate data damaged in the middle; truncated: the first half */
        doc_begin(&b);
        for (i = 0; i < 200; i++) {
                char key[32];

                snprintf(key, sizeof(key), "k%03d.txt", i);
                rec(&b, "GetObject", "data", key, "2026-11-30T10:00:00Z", T_USER_KEY, NULL, NULL, NULL,
                    key);
        }
        gz = doc_gzip(&b, &n);
        put_log(T_NAME("trunc"), gz, n / 2);
        for (i = 0; i < 16; i++)
                gz[n / 2 + (size_t)i] ^= 0x5a;
        put_log(T_NAME("corrupt"), gz, n);
        free(gz);

        /* badjson: a sound gzip stream whose JSON breaks after two records */
        doc_begin(&b);
        rec(&b, "PutObject", "data", "bj1.txt", "2026-11-30T10:00:00Z", T_USER_KEY, NULL, NULL, NULL,
            "bj1");
        rec(&b, "PutObject", "data", "bj2.txt", "2026-11-30T10:00:00Z", T_USER_KEY, NULL, NULL, NULL,
            "bj2");
        assert_int_equal(buf_puts(&b, ",{\"eventName\": nope}"), 0);
        gz = doc_gzip(&b, &n);
        put_log(T_NAME("badjson"), gz, n);
        free(gz);

        /* three files of one put each, for the fault run */
        for (i = 0; i < 3; i++) {
                char key[32], name[128], id[32];

                doc_begin(&b);
                snprintf(key, sizeof(key), "fault%d.txt", i);
                snprintf(id, sizeof(id), "fault-%d", i);
                rec(&b, "GetObject", "data", key, "2026-11-30T11:00:00Z", T_USER_KEY, NULL, NULL, NULL,
                    "g");
                rec(&b, "PutObject", "data", key, "2026-11-30T11:00:00Z", T_USER_KEY, NULL, NULL, NULL,
                    id);
                gz = doc_gzip(&b, &n);
                snprintf(name, sizeof(name), T_NAME("fault%d"), i);
                put_log(name, gz, n);
                free(gz);
        }

        /* slow: big enough (random ids) to take many seconds at a few kB/s */
        doc_begin(&b);
        for (i = 0; i < T_NSLOW; i++) {
                char id[200];
                unsigned x = (unsigned)i * 2654435761u + 1;
                int j;

                for (j = 0; j < 160; j++) {
                        x ^= x << 13;
                        x ^= x >> 17;
                        x ^= x << 5;
                        id[j] = "0123456789abcdef"[x & 15];
                }
                id[160] = '\0';
                rec(&b, "GetObject", "data", "a.txt", "2026-11-30T10:00:00Z", T_USER_KEY, NULL, NULL,
                    NULL, id);
        }
        gz = doc_gzip(&b, &n);
        assert_true(n > 40000);
        put_log(T_NAME("slow"), gz, n);
        free(gz);

        /* a digest file (never downloaded) */
        truth_put("logs",
                  "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/30/"
                  "111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20261130T1000Z.json.gz",
                  "{}", 2);
}

static int t_setup(void **state)
{
        static const char simjson[] =
                "{\"sitetitle\":\"jibe parser unit\",\"token_lifetime_s\":3600,\n"
                " \"users\":[{\"login\":\"admin\",\"password\":\"s3cret\",\"userid\":\"1\","
                "\"authtokens\":[\"" T_TOKEN "\"]}],\n"
                " \"providers\":[\n"
                "  {\"id\":\"101\",\"name\":\"S3 Prod\",\"access_key\":\"" T_KEY1 "\","
                "\"user_agent\":\"SMEStorage\",\"buckets\":[\"data\",\"logs\"],"
                "\"last_sync\":{\"start\":\"2026-11-29 06:00:00\",\"completed\":\"2026-11-29 06:20:00\","
                "\"files\":12345,\"task\":true}},\n"
                "  {\"id\":\"102\",\"name\":\"S3 Old\",\"access_key\":\"" T_KEY2 "\","
                "\"buckets\":[\"data2\"],"
                "\"last_sync\":{\"start\":\"2026-11-29 05:00:00\",\"completed\":\"2026-11-29 08:00:00\","
                "\"files\":7200,\"task\":false}}]}\n";
        char path[4096], err[512];
        struct aa_opts o;

        (void)state;
        assert_int_equal(aa_global_init(), JB_OK);
        log_set_level(getenv("T_DEBUG") ? LL_DEBUG : LL_OFF);
        t_root = tu_tmpdir();
        assert_non_null(t_root);
        snprintf(path, sizeof(path), "%s/sim.json", t_root);
        assert_int_equal(tu_write_atomic(path, simjson, strlen(simjson)), 0);
        snprintf(path, sizeof(path), "%s/truth/data", t_root);
        assert_int_equal(tu_mkdirs(path), 0);
        snprintf(path, sizeof(path), "%s/truth/data2", t_root);
        assert_int_equal(tu_mkdirs(path), 0);
        make_files();
        if (tu_sim_start(&t_sim, t_root) != 0)
                return -1;
        aa_opts_init(&o);
        o.endpoint = t_sim.endpoint;
        o.authtoken = T_TOKEN;
        if (aa_client_new(&o, &t_aa, err, sizeof(err))) {
                fprintf(stderr, "aa_client_new: %s\n", err);
                return -1;
        }
        return 0;
}

static int t_teardown(void **state)
{
        int rc = 0;

        (void)state;
        aa_client_free(t_aa);
        t_aa = NULL;
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

struct t_env {
        struct parser_opts po;
        struct aa_opts opts;
        struct q *q;
        struct parser *p;
        char dead[4096];
};

static void env_init(struct t_env *e, int workers)
{
        struct q_mem_opts qo;
        char err[512];

        memset(e, 0, sizeof(*e));
        parser_opts_init(&e->po);
        e->po.workers = workers;
        e->po.view.indexing_rate = 2.0;
        e->po.view.self_arns = t_self_arns;
        e->po.view.n_self_arns = 1;
        opts_self(&e->po.view);
        aa_opts_init(&e->opts);
        e->opts.endpoint = t_sim.endpoint;
        e->opts.authtoken = T_TOKEN;
        e->opts.max_retries = 4;
        e->opts.backoff_base_ms = 5;
        e->opts.backoff_max_ms = 50;
        e->opts.timeout_ms = 20000;
        snprintf(e->dead, sizeof(e->dead), "%s/dead-%d.jsonl", t_root, ++t_ndead);
        qo.capacity = 1000;
        qo.dead_letter_path = e->dead;
        e->q = q_mem_new(&qo, err, sizeof(err));
        assert_non_null(e->q);
}

static void env_start(struct t_env *e)
{
        char err[512];

        if (parser_start(&e->po, &e->opts, e->q, &e->p, err, sizeof(err)))
                fail_msg("parser_start: %s", err);
}

static void env_free(struct t_env *e)
{
        parser_free(e->p);
        q_free(e->q);
}

static int t_never_done; /* q_free() reporting messages that never completed */

static void count_done(void *opaque, int ok)
{
        __atomic_add_fetch(ok ? (int *)opaque : &t_never_done, 1, __ATOMIC_SEQ_CST);
}

static int done_get(int *n)
{
        return __atomic_load_n(n, __ATOMIC_SEQ_CST);
}

static char *fi_id_of(const char *path)
{
        struct aa_item it;
        char err[512], *id;
        int rc = aa_check_path(t_aa, path, "0", &it, err, sizeof(err));

        if (rc)
                fail_msg("check_path %s: %s", path, err);
        id = strdup(it.fi_id);
        aa_item_clear(&it);
        return id;
}

/* Publish a msg_logfile for path (fi_id given, or looked up), with the digest fields a
 * digest sets (digest_hex NULL, reread 0: none). */
static void publish_msg(struct t_env *e, const char *path, const char *fi_id, const char *digest_hex,
                        int reread, int *done)
{
        struct msg_logfile m = {0};
        struct buf b, k;
        char *id = fi_id ? strdup(fi_id) : fi_id_of(path);

        m.provider = (char *)"101";
        m.bucket = (char *)"logs";
        m.path = (char *)path;
        m.fi_id = id;
        m.size = -1;
        m.listed_ms = T_LISTED;
        m.digest_sha256 = (char *)digest_hex;
        m.reread = reread;
        buf_init(&b, 1u << 20);
        buf_init(&k, 4096);
        assert_int_equal(msg_logfile_encode(&m, &b), 0);
        assert_int_equal(msg_logfile_key(&m, &k), 0);
        assert_int_equal(q_publish(e->q, Q_FILES, k.p, k.len, b.p, b.len, NULL, count_done, done, NULL,
                                   0),
                         0);
        buf_clear(&b);
        buf_clear(&k);
        free(id);
}

static void publish_file(struct t_env *e, const char *path, const char *fi_id, int *done)
{
        publish_msg(e, path, fi_id, NULL, 0, done);
}

/* Publish a msg_logfile for path with the fi_id and size it is listed with, the size
 * changed by dsize, or the fi_id replaced by fi_id when given. */
static void publish_listed(struct t_env *e, const char *path, const char *fi_id, int64_t dsize,
                           int *done)
{
        struct msg_logfile m = {0};
        struct aa_item it;
        struct buf b, k;
        char err[512];

        if (aa_check_path(t_aa, path, "0", &it, err, sizeof(err)))
                fail_msg("check_path %s: %s", path, err);
        m.provider = (char *)"101";
        m.bucket = (char *)"logs";
        m.path = (char *)path;
        m.fi_id = fi_id ? (char *)fi_id : it.fi_id;
        m.size = it.size + dsize;
        m.listed_ms = T_LISTED;
        buf_init(&b, 1u << 20);
        buf_init(&k, 4096);
        assert_int_equal(msg_logfile_encode(&m, &b), 0);
        assert_int_equal(msg_logfile_key(&m, &k), 0);
        assert_int_equal(q_publish(e->q, Q_FILES, k.p, k.len, b.p, b.len, NULL, count_done, done, NULL,
                                   0),
                         0);
        buf_clear(&b);
        buf_clear(&k);
        aa_item_clear(&it);
}

struct t_ev {
        struct q_msg *m;
        struct msg_objevent ev;
};

/* Poll Q_EVENTS until n events arrived (or the deadline): returns how many. */
static size_t collect(struct t_env *e, struct t_ev *out, size_t n, int timeout_ms)
{
        int64_t end = tu_now_ms() + timeout_ms;
        size_t got = 0;

        while (got < n && tu_now_ms() < end) {
                struct q_msg *m;
                char err[256];

                if (q_poll(e->q, Q_EVENTS, 50, &m) != JB_OK)
                        continue;
                out[got].m = m;
                if (msg_objevent_decode(m->payload, m->len, &out[got].ev, err, sizeof(err)))
                        fail_msg("bad event %s: %s", m->payload, err);
                got++;
        }
        return got;
}

static void ack_all(struct t_env *e, struct t_ev *ev, size_t n)
{
        size_t i;

        for (i = 0; i < n; i++) {
                q_ack(e->q, ev[i].m);
                msg_objevent_clear(&ev[i].ev);
        }
}

static void stats(struct t_env *e, struct parser_stats *st)
{
        parser_get_stats(e->p, st);
}

/* Wait until cond(stats) or fail after timeout_ms. */
#define WAIT_STATS(e, st, cond, timeout_ms)                                                             \
        do {                                                                                            \
                int64_t end_ = tu_now_ms() + (timeout_ms);                                              \
                for (;;) {                                                                              \
                        stats((e), &(st));                                                              \
                        if (cond)                                                                       \
                                break;                                                                  \
                        if (tu_now_ms() > end_)                                                         \
                                fail_msg("timed out waiting for %s", #cond);                            \
                        tu_sleep_ms(20);                                                                \
                }                                                                                       \
        } while (0)

static void wait_done(int *done, int want, int timeout_ms)
{
        int64_t end = tu_now_ms() + timeout_ms;

        while (done_get(done) < want) {
                if (tu_now_ms() > end)
                        fail_msg("timed out: %d of %d messages complete", done_get(done), want);
                tu_sleep_ms(20);
        }
}

/* Dead letters in e->dead: the first max decoded into out; returns how many there are. */
static size_t read_dead(struct t_env *e, struct msg_dead *out, size_t max)
{
        char *txt = tu_slurp(e->dead, NULL), *line, *save = NULL;
        size_t n = 0;

        if (!txt)
                return 0;
        for (line = strtok_r(txt, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char err[256];

                if (n >= max) { /* only counted */
                        n++;
                        continue;
                }
                if (msg_dead_decode(line, strlen(line), &out[n], err, sizeof(err)))
                        fail_msg("bad dead letter %s: %s", line, err);
                n++;
        }
        free(txt);
        return n;
}

static void expect_ev(const struct t_ev *e, const char *provider, const char *bucket, const char *key,
                      enum msg_op op, const char *id, int64_t recno, const char *src)
{
        char want[1024];

        assert_string_equal(e->ev.provider, provider);
        assert_string_equal(e->ev.bucket, bucket);
        if (key) {
                assert_non_null(e->ev.key);
                assert_string_equal(e->ev.key, key);
        } else {
                assert_null(e->ev.key);
        }
        /* every event is keyed by its bucket (msg.h), so that a bucket resync meets the
         * object events it absorbs in the same syncer */
        snprintf(want, sizeof(want), "%s/%s", provider, bucket);
        assert_int_equal(e->ev.op, op);
        assert_string_equal(e->ev.id, id);
        assert_int_equal(e->ev.rec, recno);
        assert_string_equal(e->ev.src, src);
        assert_int_equal(e->ev.listed_ms, T_LISTED);
        assert_string_equal(e->ev.account, "111122223333");
        assert_string_equal(e->ev.region, "us-east-1");
        assert_non_null(e->ev.time);
        assert_non_null(e->ev.event);
        assert_int_equal(e->m->keylen, strlen(want));
        assert_memory_equal(e->m->key, want, strlen(want));
}

/* ---------------------------------------------------------------- tests */

static void test_sync_start_rules(void **state)
{
        struct aa_lastsync ls = {(char *)"t", 1000, 5000, 400};
        enum view_start_src src;

        (void)state;
        assert_int_equal(view_sync_start(&ls, 900, 2.0, &src), 1000);
        assert_int_equal(src, VIEW_START_LASTSYNC);
        ls.started = 0;
        assert_int_equal(view_sync_start(&ls, 900, 2.0, &src), 900);
        assert_int_equal(src, VIEW_START_TASK);
        assert_int_equal(view_sync_start(&ls, 0, 2.0, &src), 4800);
        assert_int_equal(src, VIEW_START_ESTIMATE);
        assert_int_equal(view_sync_start(&ls, 0, 3.0, &src), 5000 - 134); /* rounds earlier */
        ls.files_indexed = -1;
        assert_int_equal(view_sync_start(&ls, 0, 2.0, &src), -1);
        assert_int_equal(src, VIEW_START_NONE);
        ls.files_indexed = 400;
        ls.completed = 0;
        assert_int_equal(view_sync_start(&ls, 0, 2.0, &src), -1);
        assert_int_equal(src, VIEW_START_NONE);
}

/* The view as built from the simulator: providers, buckets, identities, start sources. */
static void test_view_build(void **state)
{
        struct view_opts vo;
        struct ct_ctx *ctx = NULL;
        struct view_info vi;
        char err[512];

        (void)state;
        memset(&vo, 0, sizeof(vo));
        vo.indexing_rate = 2.0;
        opts_self(&vo);
        if (view_build(t_aa, &vo, &ctx, &vi, err, sizeof(err)))
                fail_msg("view_build: %s", err);
        assert_non_null(ctx);
        assert_int_equal(vi.providers, 2);
        assert_int_equal(vi.buckets, 3);
        assert_int_equal(vi.self_ids, 3);                    /* two keys, one agent */
        assert_int_equal(vi.starts[VIEW_START_LASTSYNC], 1); /* 101: its sync task */
        assert_int_equal(vi.starts[VIEW_START_NONE], 1);     /* 102: no sync task listed */
        ct_ctx_free(ctx);
}

/* The entry of array `name` of the status document whose provider and bucket are these. */
static const cJSON *status_entry(const cJSON *doc, const char *name, const char *provider,
                                 const char *bucket)
{
        const cJSON *it;

        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(doc, name))
        {
                const cJSON *p = cJSON_GetObjectItemCaseSensitive(it, "provider");
                const cJSON *b = cJSON_GetObjectItemCaseSensitive(it, "bucket");

                if (cJSON_IsString(p) && cJSON_IsString(b) && !strcmp(p->valuestring, provider) &&
                    !strcmp(b->valuestring, bucket))
                        return it;
        }
        fail_msg("no %s entry %s/%s in the status", name, provider, bucket);
        return NULL;
}

static int64_t jn(const cJSON *o, const char *a, const char *b)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);

        if (b)
                v = cJSON_GetObjectItemCaseSensitive(v, b);
        if (!cJSON_IsNumber(v))
                fail_msg("%s.%s is not a number", a, b ? b : "");
        return (int64_t)v->valuedouble;
}

/* What the parser recorded in the status (status.h) for the main file. */
static void expect_status_main(void)
{
        const cJSON *s, *b, *p;
        struct buf out;
        cJSON *doc;

        buf_init(&out, 1u << 20);
        assert_int_equal(status_snapshot(T_LISTED + 1000, &out), JB_OK);
        doc = cJSON_Parse(out.p);
        assert_non_null(doc);
        s = status_entry(doc, "sources", "101", "logs");
        assert_int_equal(jn(s, "files", "processed"), 1);
        assert_int_equal(jn(s, "files", "quarantined"), 0);
        assert_int_equal(jn(s, "classes", "put"), 1);
        assert_int_equal(jn(s, "classes", "self"), 4);
        assert_int_equal(jn(s, "classes", "covered"), 1);
        assert_int_equal(jn(s, "classes", "unmanaged"), 1);
        assert_int_equal(jn(s, "log_bucket_records", NULL), 0);
        /* no scanner in this process: the parser's newest file, its newest eventTime */
        assert_int_equal(jn(s, "newest", "visible_ms"), T_LISTED);
        assert_int_equal(jn(s, "newest", "event_ms"), ct_parse_time("2026-11-30T10:00:05Z") * 1000);
        b = status_entry(doc, "buckets", "101", "data");
        assert_int_equal(jn(b, "events", "put"), 1);
        assert_int_equal(jn(b, "events", "delete"), 1);
        assert_int_equal(jn(b, "events", "bucket"), 1);
        assert_int_equal(jn(b, "events", "covered"), 1);
        cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(doc, "providers"))
        {
                if (!strcmp(cJSON_GetObjectItemCaseSensitive(p, "id")->valuestring, "101"))
                        break;
        }
        assert_non_null(p);
        assert_true(jn(p, "last_sync", "end_ms") > 0);
        assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(p, "owned")));
        cJSON_Delete(doc);
        buf_clear(&out);
}

static void test_events(void **state)
{
        struct t_env e;
        struct t_ev ev[8];
        struct parser_stats st;
        int done = 0;
        size_t n;

        (void)state;
        status_init(&(struct status_ident){"t", "parse", "test", 60, 1200});
        env_init(&e, 2);
        publish_file(&e, T_PATH("main"), NULL, &done);
        env_start(&e);
        n = collect(&e, ev, 3, 15000);
        assert_int_equal(n, 3);
        WAIT_STATS(&e, st, st.files_ok == 1, 15000);
        expect_ev(&ev[0], "101", "data", "a.txt", MSG_OP_PUT, "ev-put", 0, T_PATH("main"));
        assert_string_equal(ev[0].ev.event, "PutObject");
        assert_string_equal(ev[0].ev.time, "2026-11-30T10:00:00Z");
        expect_ev(&ev[1], "101", "data", "b.txt", MSG_OP_DELETE, "ev-del", 9, T_PATH("main"));
        expect_ev(&ev[2], "101", "data", NULL, MSG_OP_BUCKET, "ev-bucket", 10, T_PATH("main"));
        assert_string_equal(ev[2].ev.event, "DeleteObjects");
        /* nothing else, and the file is not complete while its events are not */
        assert_int_equal(collect(&e, ev + 3, 1, 300), 0);
        assert_int_equal(done_get(&done), 0);
        q_ack(e.q, ev[1].m);
        msg_objevent_clear(&ev[1].ev);
        q_ack(e.q, ev[0].m);
        msg_objevent_clear(&ev[0].ev);
        assert_int_equal(done_get(&done), 0);
        q_ack(e.q, ev[2].m);
        msg_objevent_clear(&ev[2].ev);
        assert_int_equal(done_get(&done), 1);
        assert_int_equal(q_inflight(e.q), 0);

        stats(&e, &st);
        assert_int_equal(st.files_ok, 1);
        assert_int_equal(st.records, 11);
        assert_int_equal(st.events, 3);
        assert_int_equal(st.counts[CT_PUT], 1);
        assert_int_equal(st.counts[CT_DELETE], 1);
        assert_int_equal(st.counts[CT_BUCKET], 1);
        assert_int_equal(st.counts[CT_SELF], 4);
        assert_int_equal(st.counts[CT_UNMANAGED], 1);
        assert_int_equal(st.counts[CT_COVERED], 1);
        assert_int_equal(st.counts[CT_NOT_WRITE], 1);
        assert_int_equal(st.counts[CT_FAILED], 1);
        assert_int_equal(st.files_quarantined + st.files_missing + st.retries + st.poison, 0);
        assert_true(st.bytes_in > 0 && st.bytes_out > st.bytes_in);
        assert_false(parser_failed(e.p));
        assert_int_equal(read_dead(&e, NULL, 0), 0);
        expect_status_main();
        env_free(&e);
        status_reset();
}

/* The SHA-256 of a fixture's uncompressed content (gunzip, as the AWS CLI's validate-logs
 * does), from the file the simulator serves; *gz_sha gets that of its gzip bytes. */
static void fixture_sha(const char *name, uint8_t sha[SHA256_LEN], uint8_t gz_sha[SHA256_LEN])
{
        char path[4096];
        unsigned char out[16384];
        struct sha256_ctx c;
        z_stream z;
        size_t len;
        char *gz;
        int zrc;

        snprintf(path, sizeof(path), "%s/truth/logs/" T_DIR "%s", t_root, name);
        gz = tu_slurp(path, &len);
        assert_non_null(gz);
        sha256(gz, len, gz_sha);
        memset(&z, 0, sizeof(z));
        assert_int_equal(inflateInit2(&z, 16 + MAX_WBITS), Z_OK);
        z.next_in = (unsigned char *)gz;
        z.avail_in = (uInt)len;
        sha256_init(&c);
        do {
                z.next_out = out;
                z.avail_out = sizeof(out);
                zrc = inflate(&z, Z_NO_FLUSH);
                assert_true(zrc == Z_OK || zrc == Z_STREAM_END);
                sha256_update(&c, out, sizeof(out) - z.avail_out);
        } while (zrc != Z_STREAM_END);
        inflateEnd(&z);
        sha256_final(&c, sha);
        free(gz);
}

/* Publish a msg_logfile for path as a digest asks for it: digest_sha256 and reread set. */
static void publish_digest(struct t_env *e, const char *path, const char *digest_hex, int reread,
                           int *done)
{
        publish_msg(e, path, NULL, digest_hex, reread, done);
}

struct t_hashes {
        uint8_t sha[4][SHA256_LEN];
        unsigned reads[4];
        const char *paths[4];
        int seen[4];
};

static int t_hash_of(void *opaque, const char *path, const uint8_t sha[SHA256_LEN], unsigned reads,
                     int64_t at_ms)
{
        struct t_hashes *h = opaque;
        int i;

        (void)at_ms;
        for (i = 0; i < 4; i++)
                if (h->paths[i] && !strcmp(path, h->paths[i])) {
                        memcpy(h->sha[i], sha, SHA256_LEN);
                        h->reads[i] = reads;
                        h->seen[i]++;
                }
        return JB_OK;
}

/* Every file read to the end: the SHA-256 of its uncompressed content into the store
 * (reads 2 for a re-read), compared with the digest's value when the message has one. */
static void test_hashes(void **state)
{
        struct t_env e;
        struct t_ev ev[8];
        struct parser_stats st;
        struct t_hashes h;
        struct filehash *fh;
        uint8_t main_sha[SHA256_LEN], main_gz[SHA256_LEN], est_sha[SHA256_LEN], est_gz[SHA256_LEN];
        uint8_t bad_sha[SHA256_LEN], bad_gz[SHA256_LEN];
        char dir[4096], err[512], main_hex[SHA256_HEX_LEN + 1], gz_hex[SHA256_HEX_LEN + 1];
        int done = 0;
        size_t n;

        (void)state;
        fixture_sha(T_NAME("main"), main_sha, main_gz);
        fixture_sha(T_NAME("est"), est_sha, est_gz);
        fixture_sha(T_NAME("badjson"), bad_sha, bad_gz);
        assert_memory_not_equal(main_sha, main_gz, SHA256_LEN);
        sha256_hex(main_sha, main_hex);
        sha256_hex(est_gz, gz_hex); /* a digest listing the gzip bytes' hash: a mismatch */
        snprintf(dir, sizeof(dir), "%s/hashes", t_root);
        tu_rmrf(dir);
        fh = filehash_dir_new(dir, err, sizeof(err));
        if (!fh)
                fail_msg("filehash_dir_new: %s", err);
        status_init(&(struct status_ident){"t", "parse", "test", 60, 1200});
        env_init(&e, 2);
        e.po.hashes = fh;
        publish_digest(&e, T_PATH("main"), main_hex, 0, &done);
        publish_digest(&e, T_PATH("est"), gz_hex, 1, &done);
        publish_file(&e, T_PATH("fault0"), NULL, &done);  /* no digest value: stored only */
        publish_file(&e, T_PATH("badjson"), NULL, &done); /* quarantined, its content hashed */
        env_start(&e);
        n = collect(&e, ev, 7, 15000);
        WAIT_STATS(&e, st, st.files_ok == 3 && st.files_quarantined == 1, 15000);
        ack_all(&e, ev, n);
        assert_int_equal(st.digest_mismatches, 1);
        env_free(&e);
        status_reset();

        memset(&h, 0, sizeof(h));
        h.paths[0] = T_PATH("main");
        h.paths[1] = T_PATH("est");
        h.paths[2] = T_PATH("fault0");
        h.paths[3] = T_PATH("badjson");
        assert_int_equal(fh->ops->load(fh, t_hash_of, &h, err, sizeof(err)), JB_OK);
        assert_int_equal(h.seen[0], 1);
        assert_int_equal(h.seen[1], 1);
        assert_int_equal(h.seen[2], 1);
        assert_memory_equal(h.sha[0], main_sha, SHA256_LEN); /* the gunzipped content's */
        assert_memory_equal(h.sha[1], est_sha, SHA256_LEN);
        assert_int_equal(h.reads[0], 1);
        assert_int_equal(h.reads[1], 2); /* a re-read */
        assert_int_equal(h.reads[2], 1);
        assert_int_equal(h.seen[3], 1);
        assert_memory_equal(h.sha[3], bad_sha, SHA256_LEN);
        filehash_free(fh);
}

/* Provider 102's task is gone: its start is completed - files / rate = 07:00:00. */
/* A provider whose full sync is no longer listed (task gone): no cutoff, so a change made
 * before that sync is resynced too (harmless), none is lost. */
static void test_sync_start_unknown(void **state)
{
        struct t_env e;
        struct t_ev ev[3];
        struct parser_stats st;
        int done = 0;

        (void)state;
        env_init(&e, 1);
        publish_file(&e, T_PATH("est"), NULL, &done);
        env_start(&e);
        assert_int_equal(collect(&e, ev, 2, 15000), 2);
        WAIT_STATS(&e, st, st.files_ok == 1, 15000);
        expect_ev(&ev[0], "102", "data2", "before.txt", MSG_OP_PUT, "e0", 0, T_PATH("est"));
        expect_ev(&ev[1], "102", "data2", "after.txt", MSG_OP_PUT, "e1", 1, T_PATH("est"));
        assert_int_equal(collect(&e, ev + 2, 1, 200), 0);
        stats(&e, &st);
        assert_int_equal(st.counts[CT_COVERED], 0);
        ack_all(&e, ev, 2);
        assert_int_equal(done_get(&done), 1);
        env_free(&e);
}

static void test_quarantine(void **state)
{
        struct t_env e;
        struct t_ev ev[4];
        struct msg_dead d[4];
        struct parser_stats st;
        int done = 0;
        size_t n, i;
        char *fc = fi_id_of(T_PATH("corrupt")), *ft = fi_id_of(T_PATH("trunc"));

        (void)state;
        env_init(&e, 2);
        publish_file(&e, T_PATH("corrupt"), fc, &done);
        publish_file(&e, T_PATH("trunc"), ft, &done);
        env_start(&e);
        wait_done(&done, 2, 15000);
        assert_int_equal(collect(&e, ev, 1, 100), 0);
        stats(&e, &st);
        assert_int_equal(st.files_quarantined, 2);
        assert_int_equal(st.files_ok, 0);
        assert_false(parser_failed(e.p));
        n = read_dead(&e, d, 4);
        assert_int_equal(n, 2);
        for (i = 0; i < n; i++) {
                struct msg_logfile lf;
                char err[256];
                int corrupt = !strcmp(d[i].src, T_PATH("corrupt"));

                assert_string_equal(d[i].stage, "parse");
                assert_true(corrupt || !strcmp(d[i].src, T_PATH("trunc")));
                assert_non_null(d[i].error);
                assert_true(strlen(d[i].error) > 10);
                assert_null(strchr(d[i].error, '\n'));
                assert_int_equal(d[i].attempts, 1);
                assert_non_null(d[i].payload);
                assert_int_equal(msg_logfile_decode(d[i].payload, d[i].payload_len, &lf, err,
                                                    sizeof(err)),
                                 0);
                assert_string_equal(lf.path, d[i].src);
                assert_string_equal(lf.fi_id, corrupt ? fc : ft);
                msg_logfile_clear(&lf);
                msg_dead_clear(&d[i]);
        }
        free(fc);
        free(ft);
        env_free(&e);
}

static void test_poison_digest_missing(void **state)
{
        struct t_env e;
        struct t_ev ev[1];
        struct msg_dead d[4];
        struct parser_stats st;
        int done_poison = 0, done_digest = 0, done_missing = 0, stt = 0;
        char *r;

        (void)state;
        env_init(&e, 2);
        assert_int_equal(q_publish(e.q, Q_FILES, "p/b", 3, "not json", 8, NULL, count_done, &done_poison,
                                   NULL, 0),
                         0);
        publish_file(&e, T_DIGEST_PATH, "digest-id-never-used", &done_digest);
        publish_file(&e, T_PATH("gone"), "no-such-file-id", &done_missing);
        env_start(&e);
        wait_done(&done_poison, 1, 15000);
        wait_done(&done_digest, 1, 15000);
        wait_done(&done_missing, 1, 15000);
        assert_int_equal(collect(&e, ev, 1, 100), 0);
        stats(&e, &st);
        assert_int_equal(st.poison, 1);
        assert_int_equal(st.files_missing, 1);
        assert_int_equal(st.files_ok + st.files_quarantined, 0);
        assert_int_equal(read_dead(&e, d, 4), 1);
        assert_string_equal(d[0].stage, "parse");
        assert_null(d[0].src);
        assert_int_equal(d[0].payload_len, 8);
        assert_memory_equal(d[0].payload, "not json", 8);
        assert_non_null(d[0].error);
        msg_dead_clear(&d[0]);
        /* the digest was never asked for */
        r = tu_sim_http(&t_sim, "GET", "/sim/stats", NULL, &stt);
        assert_non_null(r);
        assert_null(strstr(r, "CloudTrail-Digest"));
        free(r);
        env_free(&e);
}

/* Half the requests fail with HTTP 500 and the client does not retry by itself: the parser
 * retries whole files (and the view) until every file gave its events. */
static void test_faults(void **state)
{
        struct t_env e;
        struct t_ev ev[32], wev[2];
        struct parser_stats st;
        int done = 0, wdone = 0;
        size_t i, n;
        char *ids[3];
        int seen[3] = {0, 0, 0};

        (void)state;
        for (i = 0; i < 3; i++) {
                char path[512];

                snprintf(path, sizeof(path), "S3 Prod/logs/" T_DIR T_NAME("fault%zu"), i);
                ids[i] = fi_id_of(path);
        }
        env_init(&e, 1);
        e.opts.max_retries = 0;
        /* one file read without faults first: the view is built, the faults hit downloads */
        publish_file(&e, T_PATH("est"), NULL, &wdone);
        env_start(&e);
        assert_int_equal(collect(&e, wev, 2, 15000), 2);
        ack_all(&e, wev, 2);
        wait_done(&wdone, 1, 5000);
        assert_int_equal(tu_sim_faults(&t_sim, "error500_rate=0.5&seed=11"), 0);
        for (i = 0; i < 3; i++) {
                char path[512];

                snprintf(path, sizeof(path), "S3 Prod/logs/" T_DIR T_NAME("fault%zu"), i);
                publish_file(&e, path, ids[i], &done);
                free(ids[i]);
        }
        WAIT_STATS(&e, st, st.files_ok == 4, 60000);
        assert_int_equal(tu_sim_faults(&t_sim, "error500_rate=0"), 0);
        /* every event was published before its file was acknowledged; a retried file
         * publishes its events again, so count distinct ones */
        n = collect(&e, ev, sizeof(ev) / sizeof(ev[0]), 300);
        assert_true(n >= 3);
        for (i = 0; i < n; i++) {
                int k = ev[i].ev.key[5] - '0';

                assert_true(k >= 0 && k < 3);
                seen[k] = 1;
                assert_int_equal(ev[i].ev.op, MSG_OP_PUT);
                assert_int_equal(ev[i].ev.rec, 1);
        }
        assert_true(seen[0] && seen[1] && seen[2]);
        assert_int_equal(done_get(&done), 0);
        ack_all(&e, ev, n);
        wait_done(&done, 3, 5000);
        assert_false(parser_failed(e.p));
        stats(&e, &st);
        assert_int_equal(st.events, n + 2);
        print_message("fault run: %llu whole-file retries\n", (unsigned long long)st.retries);
        env_free(&e);
}

/* One hostile kind on every getFile until the parser failed to fetch path three times
 * (and listed it again), then healed: the file is read, nothing is quarantined, and its nev
 * events (at least) arrive. */
static void t_hostile_run(const char *kind, const char *path, size_t nev)
{
        struct t_env e;
        struct t_ev ev[64];
        struct parser_stats st;
        char form[128];
        int done = 0;
        size_t n;

        env_init(&e, 1);
        env_start(&e);
        snprintf(form, sizeof(form), "download_hostile=%s&download_hostile_rate=1", kind);
        assert_int_equal(tu_sim_faults(&t_sim, form), 0);
        publish_listed(&e, path, NULL, 0, &done);
        WAIT_STATS(&e, st, st.fetch_errors >= 3 && st.relists >= 1, 30000);
        assert_int_equal(tu_sim_faults(&t_sim, "download_hostile=none&download_hostile_rate=0"), 0);
        WAIT_STATS(&e, st, st.files_ok == 1, 30000);
        n = collect(&e, ev, sizeof(ev) / sizeof(ev[0]), nev ? 5000 : 200);
        if (n < nev)
                fail_msg("%s: %zu events, want %zu", kind, n, nev);
        ack_all(&e, ev, n);
        wait_done(&done, 1, 5000);
        stats(&e, &st);
        if (st.files_quarantined || read_dead(&e, NULL, 0))
                fail_msg("%s: the file was quarantined", kind);
        assert_int_equal(st.files_missing, 0);
        assert_false(parser_failed(e.p));
        print_message("%s: %llu failed fetches, %llu relists, then read\n", kind,
                      (unsigned long long)st.fetch_errors, (unsigned long long)st.relists);
        env_free(&e);
}

/* Answers to getFile that are not the file (no failure header says so) are fetch errors:
 * retried, never a quarantine. "size" on the slow file (over 16 KiB) includes an answer
 * without Content-Length whose first bytes are not gzip: the reader's verdict on it must
 * not count, as the body turns out longer than the listed size. */
static void test_hostile_downloads(void **state)
{
        (void)state;
        t_hostile_run("html", T_PATH("main"), 3);
        t_hostile_run("redirect", T_PATH("main"), 3);
        t_hostile_run("json404", T_PATH("main"), 3);
        t_hostile_run("short", T_PATH("slow"), 0);
        t_hostile_run("size", T_PATH("slow"), 0);
}

/* A stale message (another fi_id, another size than listed now): getFile's not_found and
 * the refused sizes make the parser list the file again, and it reads it as listed now. */
static void test_relist(void **state)
{
        struct t_env e;
        struct t_ev ev[8];
        struct parser_stats st;
        int done = 0, done2 = 0;

        (void)state;
        env_init(&e, 1);
        publish_listed(&e, T_PATH("main"), "no-such-file-id", 0, &done);
        env_start(&e);
        WAIT_STATS(&e, st, st.files_ok == 1, 15000);
        assert_true(st.relists >= 1);
        assert_int_equal(collect(&e, ev, 3, 5000), 3);
        ack_all(&e, ev, 3);
        wait_done(&done, 1, 5000);
        publish_listed(&e, T_PATH("main"), NULL, 5, &done2);
        WAIT_STATS(&e, st, st.files_ok == 2, 30000);
        assert_true(st.fetch_errors >= 3);
        assert_int_equal(collect(&e, ev, 3, 5000), 3);
        ack_all(&e, ev, 3);
        wait_done(&done2, 1, 5000);
        stats(&e, &st);
        assert_int_equal(st.files_quarantined + st.files_missing, 0);
        assert_int_equal(read_dead(&e, NULL, 0), 0);
        env_free(&e);
}

/* No bucket map, no work: while the server cannot answer, no file is taken. */
static void test_waits_for_view(void **state)
{
        struct t_env e;
        struct t_ev ev[3];
        struct parser_stats st;
        int done = 0;

        (void)state;
        env_init(&e, 2);
        e.opts.max_retries = 0;
        publish_file(&e, T_PATH("main"), NULL, &done);
        assert_int_equal(tu_sim_faults(&t_sim, "error500_rate=1"), 0);
        env_start(&e);
        tu_sleep_ms(1200); /* at least two attempts at the view */
        assert_int_equal(q_depth(e.q, Q_FILES), 1);
        stats(&e, &st);
        assert_int_equal(st.records, 0);
        assert_false(parser_failed(e.p));
        assert_int_equal(tu_sim_faults(&t_sim, "error500_rate=0"), 0);
        assert_int_equal(collect(&e, ev, 3, 15000), 3);
        WAIT_STATS(&e, st, st.files_ok == 1, 15000);
        ack_all(&e, ev, 3);
        assert_int_equal(done_get(&done), 1);
        env_free(&e);
}

/* The view is read again every parser.provider_refresh_s seconds (each reading asks for the sync
 * tasks once per provider: two here). */
static void test_view_refresh(void **state)
{
        struct t_env e;
        int64_t end;
        int st = 0;

        (void)state;
        env_init(&e, 1);
        e.po.provider_refresh_s = 1;
        free(tu_sim_http(&t_sim, "POST", "/sim/reset", NULL, &st));
        env_start(&e);
        end = tu_now_ms() + 10000;
        for (;;) {
                char *r = tu_sim_http(&t_sim, "GET", "/sim/stats", NULL, &st);
                cJSON *j = r ? cJSON_Parse(r) : NULL;
                const cJSON *c =
                        cJSON_GetObjectItem(cJSON_GetObjectItem(j, "calls"), "getUserBackgroundTasks");
                int calls = cJSON_IsNumber(c) ? c->valueint / 2 : 0;

                cJSON_Delete(j);
                free(r);
                if (calls >= 3)
                        break;
                if (tu_now_ms() > end)
                        fail_msg("the view was read %d times in 10 s", calls);
                tu_sleep_ms(100);
        }
        env_free(&e);
}

/* Refused credentials: the parser reports failure and its threads end. */
static void test_fatal(void **state)
{
        struct t_env e;
        int64_t end;

        (void)state;
        env_init(&e, 2);
        e.opts.authtoken = "NOT-A-VALID-TOKEN";
        env_start(&e);
        end = tu_now_ms() + 10000;
        while (!parser_failed(e.p)) {
                if (tu_now_ms() > end)
                        fail_msg("no failure reported");
                tu_sleep_ms(20);
        }
        parser_stop(e.p, 1000);
        parser_stop(e.p, 1000); /* safe twice */
        env_free(&e);
}

/* A file still downloading when the grace period ends is abandoned, never completed. */
static void test_stop_abandons(void **state)
{
        struct t_env e;
        struct parser_stats st;
        int done = 0, never;
        int64_t t0;

        (void)state;
        env_init(&e, 1);
        publish_file(&e, T_PATH("slow"), NULL, &done);
        assert_int_equal(tu_sim_faults(&t_sim, "slow_body_bps=4000"), 0);
        env_start(&e);
        t0 = tu_now_ms();
        while (q_depth(e.q, Q_FILES) > 0) {
                if (tu_now_ms() - t0 > 10000)
                        fail_msg("the file was not taken");
                tu_sleep_ms(20);
        }
        tu_sleep_ms(500);
        t0 = tu_now_ms();
        parser_stop(e.p, 200);
        assert_true(tu_now_ms() - t0 < 5000);
        assert_int_equal(tu_sim_faults(&t_sim, "slow_body_bps=0"), 0);
        stats(&e, &st);
        assert_int_equal(st.files_ok + st.files_quarantined, 0);
        assert_int_equal(done_get(&done), 0);
        assert_int_equal(read_dead(&e, NULL, 0), 0);
        never = done_get(&t_never_done);
        env_free(&e);
        assert_int_equal(done_get(&done), 0);
        assert_int_equal(done_get(&t_never_done), never + 1); /* still pending at the end */
}

/* A grace period long enough lets the file being read finish. */
static void test_stop_graceful(void **state)
{
        struct t_env e;
        struct t_ev ev[3];
        struct parser_stats st;
        int done = 0;
        int64_t t0;

        (void)state;
        env_init(&e, 1);
        publish_file(&e, T_PATH("main"), NULL, &done);
        env_start(&e);
        t0 = tu_now_ms();
        while (q_depth(e.q, Q_FILES) > 0) {
                if (tu_now_ms() - t0 > 10000)
                        fail_msg("the file was not taken");
                tu_sleep_ms(5);
        }
        parser_stop(e.p, 15000);
        stats(&e, &st);
        assert_int_equal(st.files_ok, 1);
        assert_int_equal(collect(&e, ev, 3, 1000), 3);
        ack_all(&e, ev, 3);
        assert_int_equal(done_get(&done), 1);
        env_free(&e);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sync_start_rules),
                cmocka_unit_test(test_view_build),
                cmocka_unit_test(test_events),
                cmocka_unit_test(test_hashes),
                cmocka_unit_test(test_sync_start_unknown),
                cmocka_unit_test(test_quarantine),
                cmocka_unit_test(test_poison_digest_missing),
                cmocka_unit_test(test_faults),
                cmocka_unit_test(test_hostile_downloads),
                cmocka_unit_test(test_relist),
                cmocka_unit_test(test_waits_for_view),
                cmocka_unit_test(test_view_refresh),
                cmocka_unit_test(test_fatal),
                cmocka_unit_test(test_stop_abandons),
                cmocka_unit_test(test_stop_graceful),
        };

        signal(SIGPIPE, SIG_IGN);
        return cmocka_run_group_tests_name("parser", tests, t_setup, t_teardown);
}
