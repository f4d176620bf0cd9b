/*
 * test_q_kafka.c - the Kafka transport (q_kafka.c) against a real broker.
 *
 * Needs KAFKA_BOOTSTRAP (host:port): tests/integration/0410-q-kafka.sh starts a broker and
 * runs this program; run alone without it, it says so and exits 77 ("skipped": the unit pass
 * of tests/run.sh counts it as skipped, not passed).
 * Each test uses its own topic prefix and consumer group. Committed offsets are read back
 * with a separate librdkafka client (rd_kafka_committed), not through the transport.
 * Checks: topic creation (twice), keyed round trip, the completion chain (a file is committed
 * only after its own ack AND its event's delivery; a failed delivery keeps it uncommitted),
 * out-of-order acks commit only the contiguous prefix, abandon holds the offset and a new
 * member of the group gets exactly the uncommitted messages (static membership), pausing
 * keeps a slow consumer in its group past max.poll.interval.ms, a cooperative rebalance moves
 * a partition without loss, opaque bytes, shutdown, back-pressure on a full producer queue and
 * undelivered messages reported done(0) at q_free, property errors and secrets.
 * TEST_FILTER='test_pause*' runs a subset; TEST_SHOW_LOG=1 prints the transport's log.
 */
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>

#include "kadmin.h"
#include "log.h"
#include "q_kafka.h"
#include "tu.h"

static const char *B; /* bootstrap */
static char *tmpdir;
static char logpath[512];
static int seq;

struct dcount {
        int ok, failed;
};

static void on_done(void *opaque, int ok)
{
        struct dcount *d = opaque;

        __atomic_add_fetch(ok ? &d->ok : &d->failed, 1, __ATOMIC_SEQ_CST);
}

static int dget(int *p)
{
        return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void nap_ms(int ms)
{
        struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

        nanosleep(&ts, NULL);
}

/* Poll cond every 50 ms for up to secs seconds; fail the test with what when it never holds. */
#define WAIT_FOR(cond, secs, what)                                                                      \
        do {                                                                                            \
                double end_ = now_s() + (secs);                                                         \
                while (!(cond)) {                                                                       \
                        if (now_s() > end_)                                                             \
                                fail_msg("timed out after %d s waiting for %s", (int)(secs), (what));   \
                        nap_ms(50);                                                                     \
                }                                                                                       \
        } while (0)

/* A fresh topic prefix "jt<pid>-<n>-<name>." */
static void mkprefix(char *buf, size_t n, const char *name)
{
        snprintf(buf, n, "jt%d-%d-%s.", (int)getpid(), ++seq, name);
}

static void topic_of(char *buf, size_t n, const char *prefix, enum q_topic t)
{
        snprintf(buf, n, "%s%s", prefix, q_topic_name(t));
}

static void create_all(const char *prefix, int partitions)
{
        char err[512];
        int rc = kadmin_create_topics(&(struct kadmin_conn){B, NULL, 0, 0}, prefix, partitions, 1,
                                      3600000, err, sizeof(err));

        if (rc)
                fail_msg("kadmin_create_topics: %s", err);
}

/* One topic, created without the transport (to leave the others missing). */
static void create_one(const char *name, int partitions)
{
        char e[512];
        rd_kafka_conf_t *c = rd_kafka_conf_new();
        rd_kafka_t *rk;
        rd_kafka_NewTopic_t *nt;
        rd_kafka_queue_t *rq;
        rd_kafka_event_t *ev;
        const rd_kafka_topic_result_t **tr;
        size_t n;

        assert_int_equal(rd_kafka_conf_set(c, "bootstrap.servers", B, e, sizeof(e)), RD_KAFKA_CONF_OK);
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, e, sizeof(e));
        assert_non_null(rk);
        nt = rd_kafka_NewTopic_new(name, partitions, 1, e, sizeof(e));
        assert_non_null(nt);
        rq = rd_kafka_queue_new(rk);
        rd_kafka_CreateTopics(rk, &nt, 1, NULL, rq);
        ev = rd_kafka_queue_poll(rq, 30000);
        assert_non_null(ev);
        assert_int_equal(rd_kafka_event_error(ev), 0);
        tr = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
        assert_int_equal(n, 1);
        assert_int_equal(rd_kafka_topic_result_error(tr[0]), 0);
        rd_kafka_event_destroy(ev);
        rd_kafka_queue_destroy(rq);
        rd_kafka_NewTopic_destroy(nt);
        rd_kafka_destroy(rk);
}

/* The group's committed offset of topic/partition, read by a separate client; -1 if none. */
static int64_t committed(const char *group, const char *topic, int32_t part)
{
        char e[512];
        rd_kafka_conf_t *c = rd_kafka_conf_new();
        rd_kafka_topic_partition_list_t *l;
        rd_kafka_t *rk;
        int64_t off;

        assert_int_equal(rd_kafka_conf_set(c, "bootstrap.servers", B, e, sizeof(e)), RD_KAFKA_CONF_OK);
        assert_int_equal(rd_kafka_conf_set(c, "group.id", group, e, sizeof(e)), RD_KAFKA_CONF_OK);
        rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, e, sizeof(e));
        assert_non_null(rk);
        l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, topic, part);
        if (rd_kafka_committed(rk, l, 10000) || l->elems[0].err)
                off = -2;
        else
                off = l->elems[0].offset < 0 ? -1 : l->elems[0].offset;
        rd_kafka_topic_partition_list_destroy(l);
        rd_kafka_destroy(rk);
        return off;
}

static int64_t committed_sum(const char *group, const char *topic, int nparts)
{
        int64_t sum = 0;
        int i;

        for (i = 0; i < nparts; i++) {
                int64_t o = committed(group, topic, i);

                sum += o > 0 ? o : 0;
        }
        return sum;
}

/* For secs seconds, the committed offset never goes past most. */
static void committed_stays_p(const char *group, const char *topic, int32_t part, int64_t most,
                              double secs)
{
        double end = now_s() + secs;

        do {
                int64_t o = committed(group, topic, part);

                if (o > most)
                        fail_msg("committed offset %" PRId64 " of %s went past %" PRId64, o, topic,
                                 most);
                nap_ms(200);
        } while (now_s() < end);
}

static void committed_stays(const char *group, const char *topic, int64_t most, double secs)
{
        committed_stays_p(group, topic, 0, most, secs);
}

static struct q *newq_ex(const char *prefix, int consume, const char *group, const char *instance,
                         size_t max_inflight, const char *const *props)
{
        struct q_kafka_opts o = {0};
        char err[512];
        struct q *q;

        o.brokers = B;
        o.topic_prefix = prefix;
        o.client_id = "jibe-test";
        o.consume = consume;
        o.group_id = group;
        o.instance_id = instance;
        o.max_inflight = max_inflight;
        o.props = props;
        q = q_kafka_new(&o, err, sizeof(err));
        if (!q)
                fail_msg("q_kafka_new: %s", err);
        return q;
}

static struct q *newq(const char *prefix, int consume, const char *group)
{
        return newq_ex(prefix, consume, group, NULL, 0, NULL);
}

static void pub(struct q *q, enum q_topic t, const char *key, const char *payload, struct q_msg *parent,
                struct dcount *d)
{
        char err[256];
        int rc = q_publish(q, t, key, strlen(key), payload, strlen(payload), parent, d ? on_done : NULL,
                           d, err, sizeof(err));

        if (rc)
                fail_msg("q_publish: %s", err);
}

static struct q_msg *must_poll(struct q *q, enum q_topic t, int secs)
{
        struct q_msg *m = NULL;
        double end = now_s() + secs;
        int rc;

        do {
                rc = q_poll(q, t, 200, &m);
                if (rc == JB_OK)
                        return m;
                assert_int_equal(rc, JB_ETRANSIENT);
        } while (now_s() < end);
        fail_msg("no message within %d s", secs);
        return NULL;
}

/* Nothing more arrives within ms. */
static void poll_none(struct q *q, enum q_topic t, int ms)
{
        struct q_msg *m = NULL;

        assert_int_equal(q_poll(q, t, ms, &m), JB_ETRANSIENT);
        assert_null(m);
}

static int topic_partitions(const char *topic)
{
        char e[512];
        rd_kafka_conf_t *c = rd_kafka_conf_new();
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_topic_t *rkt;
        rd_kafka_t *rk;
        int n = -1;

        assert_int_equal(rd_kafka_conf_set(c, "bootstrap.servers", B, e, sizeof(e)), RD_KAFKA_CONF_OK);
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, e, sizeof(e));
        assert_non_null(rk);
        rkt = rd_kafka_topic_new(rk, topic, NULL);
        if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) == 0) {
                if (md->topic_cnt == 1 && !md->topics[0].err)
                        n = md->topics[0].partition_cnt;
                rd_kafka_metadata_destroy(md);
        }
        rd_kafka_topic_destroy(rkt);
        rd_kafka_destroy(rk);
        return n;
}

static void test_create_topics(void **state)
{
        char p[64], t[128], err[512];
        static const char *const names[] = {"files", "events", "dead", "status"};
        int i;

        (void)state;
        mkprefix(p, sizeof(p), "create");
        create_all(p, 3);
        create_all(p, 3); /* already there: fine */
        for (i = 0; i < 4; i++) {
                snprintf(t, sizeof(t), "%s%s", p, names[i]);
                assert_int_equal(topic_partitions(t), 3);
        }
        /* a bad replication factor for one broker is refused with the topic named */
        mkprefix(p, sizeof(p), "create-bad");
        assert_int_equal(kadmin_create_topics(&(struct kadmin_conn){B, NULL, 0, 0}, p, 1, 3, 0, err,
                                              sizeof(err)),
                         JB_EFATAL);
        assert_non_null(strstr(err, p));
}

static void test_roundtrip_keys(void **state)
{
        char p[64], g[96], t[128];
        struct dcount d = {0};
        struct q *prod, *cons;
        int last[5] = {-1, -1, -1, -1, -1}, i, n;
        struct q_msg *m;
        int64_t now = time(NULL) * 1000LL;

        (void)state;
        mkprefix(p, sizeof(p), "rt");
        snprintf(g, sizeof(g), "%sgroup", p);
        topic_of(t, sizeof(t), p, Q_FILES);
        create_all(p, 3);
        prod = newq(p, -1, NULL);
        cons = newq(p, Q_FILES, g);
        for (i = 0; i < 30; i++) {
                char key[16], val[32];

                snprintf(key, sizeof(key), "k%d", i % 5);
                snprintf(val, sizeof(val), "k%d-%d", i % 5, i);
                pub(prod, Q_FILES, key, val, NULL, &d);
        }
        WAIT_FOR(dget(&d.ok) == 30, 30, "30 delivery reports");
        assert_int_equal(dget(&d.failed), 0);
        assert_int_equal(q_inflight(prod), 0);
        WAIT_FOR(q_depth(cons, Q_FILES) > 0, 30, "messages in the internal queue");
        assert_int_equal(q_depth(cons, Q_EVENTS), 0);
        m = NULL;
        assert_int_equal(q_poll(cons, Q_EVENTS, 10, &m), JB_EFATAL); /* not the consumed topic */
        for (n = 0; n < 30; n++) {
                int k, s;

                m = must_poll(cons, Q_FILES, 30);
                assert_int_equal(m->topic, Q_FILES);
                assert_int_equal(sscanf(m->payload, "k%d-%d", &k, &s), 2);
                assert_int_equal(m->len, strlen(m->payload));
                assert_int_equal(m->keylen, 2);
                assert_memory_equal(m->key, m->payload, 2); /* the key it was published with */
                assert_true(s > last[k]);                   /* order kept per key */
                last[k] = s;
                assert_true(m->ts_ms > now - 60000 && m->ts_ms < now + 60000);
                assert_true(q_inflight(cons) >= 1);
                q_ack(cons, m);
        }
        poll_none(cons, Q_FILES, 500);
        WAIT_FOR(committed_sum(g, t, 3) == 30, 30, "30 committed over 3 partitions");
        assert_int_equal(q_inflight(cons), 0);
        q_free(cons);
        q_free(prod);
}

static void test_completion_chain(void **state)
{
        char p[64], g[96], tf[128], te[128];
        struct dcount fd = {0}, ed = {0}, ed2 = {0};
        struct q *prod, *cons;
        struct q_msg *f;
        static const char *const props[] = {"topic.metadata.refresh.interval.ms=1000", NULL};

        (void)state;
        mkprefix(p, sizeof(p), "chain");
        snprintf(g, sizeof(g), "%sgroup", p);
        topic_of(tf, sizeof(tf), p, Q_FILES);
        topic_of(te, sizeof(te), p, Q_EVENTS);
        create_one(tf, 1); /* the events topic does not exist yet: deliveries to it wait */
        prod = newq(p, -1, NULL);
        cons = newq_ex(p, Q_FILES, g, NULL, 0, props);
        pub(prod, Q_FILES, "b", "file-1", NULL, &fd);
        WAIT_FOR(dget(&fd.ok) == 1, 30, "the file's delivery");

        /* acked, its event not delivered: not committed */
        f = must_poll(cons, Q_FILES, 30);
        assert_string_equal(f->payload, "file-1");
        pub(cons, Q_EVENTS, "b/k1", "event-1", f, &ed);
        assert_int_equal(q_inflight(cons), 2); /* handed out + produced */
        q_ack(cons, f);
        committed_stays(g, tf, -1, 3);
        assert_int_equal(dget(&ed.ok) + dget(&ed.failed), 0);
        /* the topic appears, the event is delivered, then the file is committed */
        create_all(p, 1);
        WAIT_FOR(dget(&ed.ok) == 1, 30, "the event's delivery");
        WAIT_FOR(committed(g, tf, 0) == 1, 15, "offset 1 committed");

        /* the event delivered, the file not acked: not committed */
        pub(prod, Q_FILES, "b", "file-2", NULL, &fd);
        f = must_poll(cons, Q_FILES, 30);
        assert_string_equal(f->payload, "file-2");
        pub(cons, Q_EVENTS, "b/k2", "event-2", f, &ed2);
        WAIT_FOR(dget(&ed2.ok) == 1, 30, "the second event's delivery");
        committed_stays(g, tf, 1, 2.5);
        q_ack(cons, f);
        WAIT_FOR(committed(g, tf, 0) == 2, 15, "offset 2 committed");
        assert_int_equal(q_inflight(cons), 0);
        q_free(cons);
        q_free(prod);
}

static void test_failed_delivery(void **state)
{
        char p[64], g[96], tf[128];
        struct dcount fd = {0}, ed = {0};
        struct q *prod, *cons;
        struct q_msg *f;
        static const char *const props[] = {"producer.message.timeout.ms=2000", NULL};

        (void)state;
        mkprefix(p, sizeof(p), "fail");
        snprintf(g, sizeof(g), "%sgroup", p);
        topic_of(tf, sizeof(tf), p, Q_FILES);
        create_one(tf, 1); /* events never exists: its delivery fails */
        prod = newq(p, -1, NULL);
        cons = newq_ex(p, Q_FILES, g, NULL, 0, props);
        pub(prod, Q_FILES, "b", "file-1", NULL, &fd);
        pub(prod, Q_FILES, "b", "file-2", NULL, &fd);
        WAIT_FOR(dget(&fd.ok) == 2, 30, "the files' delivery");
        f = must_poll(cons, Q_FILES, 30);
        assert_string_equal(f->payload, "file-1");
        pub(cons, Q_EVENTS, "b/k1", "event-1", f, &ed);
        q_ack(cons, f);
        WAIT_FOR(dget(&ed.failed) == 1, 30, "the event's failed delivery");
        assert_int_equal(dget(&ed.ok), 0);
        /* file-2 completes, but file-1 holds the partition's commit point */
        f = must_poll(cons, Q_FILES, 30);
        assert_string_equal(f->payload, "file-2");
        q_ack(cons, f);
        committed_stays(g, tf, -1, 3);
        q_free(cons);
        /* nothing lost: the next member gets both again */
        cons = newq(p, Q_FILES, g);
        f = must_poll(cons, Q_FILES, 30);
        assert_string_equal(f->payload, "file-1");
        q_ack(cons, f);
        f = must_poll(cons, Q_FILES, 30);
        assert_string_equal(f->payload, "file-2");
        q_ack(cons, f);
        WAIT_FOR(committed(g, tf, 0) == 2, 15, "offset 2 committed");
        q_free(cons);
        q_free(prod);
}

static void test_out_of_order(void **state)
{
        char p[64], g[96], t[128];
        struct q *prod, *cons;
        struct q_msg *m[5];
        int i;

        (void)state;
        mkprefix(p, sizeof(p), "ooo");
        snprintf(g, sizeof(g), "%sgroup", p);
        topic_of(t, sizeof(t), p, Q_FILES);
        create_all(p, 1);
        prod = newq(p, -1, NULL);
        cons = newq(p, Q_FILES, g);
        for (i = 0; i < 5; i++) {
                char v[16];

                snprintf(v, sizeof(v), "m%d", i);
                pub(prod, Q_FILES, "b", v, NULL, NULL);
        }
        for (i = 0; i < 5; i++) {
                char v[16];

                m[i] = must_poll(cons, Q_FILES, 30);
                snprintf(v, sizeof(v), "m%d", i);
                assert_string_equal(m[i]->payload, v);
        }
        q_ack(cons, m[4]);
        q_ack(cons, m[1]);
        q_ack(cons, m[3]);
        q_ack(cons, m[0]);
        WAIT_FOR(committed(g, t, 0) == 2, 15, "offset 2 committed");
        committed_stays(g, t, 2, 2.5);
        q_ack(cons, m[2]);
        WAIT_FOR(committed(g, t, 0) == 5, 15, "offset 5 committed");
        q_free(cons);
        q_free(prod);
}

static void test_abandon_restart(void **state)
{
        char p[64], g[96], t[128];
        struct q *prod, *cons;
        struct q_msg *m[10];
        int i;

        (void)state;
        mkprefix(p, sizeof(p), "aband");
        snprintf(g, sizeof(g), "%sgroup", p);
        topic_of(t, sizeof(t), p, Q_FILES);
        create_all(p, 1);
        prod = newq(p, -1, NULL);
        cons = newq_ex(p, Q_FILES, g, "member-1", 0, NULL);
        for (i = 0; i < 10; i++) {
                char v[16];

                snprintf(v, sizeof(v), "m%d", i);
                pub(prod, Q_FILES, "b", v, NULL, NULL);
        }
        for (i = 0; i < 10; i++)
                m[i] = must_poll(cons, Q_FILES, 30);
        for (i = 0; i < 10; i++) {
                if (i == 4)
                        q_abandon(cons, m[i]);
                else if (i != 7) /* m7 is still in work when the process stops */
                        q_ack(cons, m[i]);
        }
        WAIT_FOR(committed(g, t, 0) == 4, 15, "offset 4 committed");
        committed_stays(g, t, 4, 2.5);
        q_free(cons);
        assert_int_equal(committed(g, t, 0), 4);

        /* a quick restart with the same instance id gets exactly the uncommitted ones */
        cons = newq_ex(p, Q_FILES, g, "member-1", 0, NULL);
        for (i = 4; i < 10; i++) {
                char v[16];
                struct q_msg *x = must_poll(cons, Q_FILES, 60);

                snprintf(v, sizeof(v), "m%d", i);
                assert_string_equal(x->payload, v);
                q_ack(cons, x);
        }
        poll_none(cons, Q_FILES, 1500);
        WAIT_FOR(committed(g, t, 0) == 10, 15, "offset 10 committed");
        q_free(cons);
        q_free(prod);
}

static int count_lines(const char *text, const char *what)
{
        const char *s = text;
        int n = 0;

        while ((s = strstr(s, what))) {
                n++;
                s += strlen(what);
        }
        return n;
}

static void test_pause_slow(void **state)
{
        char p[64], g[96], t[128], needle[256];
        struct q *prod, *cons;
        static const char *const props[] = {"consumer.max.poll.interval.ms=10000",
                                            "consumer.session.timeout.ms=6000", NULL};
        int seen[40] = {0}, next = 0, i;
        size_t maxdepth = 0;
        double end;
        char *logtext;

        (void)state;
        mkprefix(p, sizeof(p), "pause");
        snprintf(g, sizeof(g), "%sgroup", p);
        topic_of(t, sizeof(t), p, Q_FILES);
        create_all(p, 1);
        prod = newq(p, -1, NULL);
        cons = newq_ex(p, Q_FILES, g, NULL, 2, props);
        for (i = 0; i < 40; i++) {
                char v[16];

                snprintf(v, sizeof(v), "%d", i);
                pub(prod, Q_FILES, "b", v, NULL, NULL);
        }
        /* 22 s of slow work, two messages at a time, each pair held 11 s: longer than
         * max.poll.interval.ms, which a member that stopped polling would exceed */
        end = now_s() + 20;
        while (now_s() < end) {
                struct q_msg *a = must_poll(cons, Q_FILES, 30), *b = must_poll(cons, Q_FILES, 30);
                double round_end = now_s() + 11;

                while (now_s() < round_end) {
                        size_t d = q_depth(cons, Q_FILES);

                        if (d > maxdepth)
                                maxdepth = d;
                        nap_ms(100);
                }
                assert_int_equal(atoi(a->payload), next);
                assert_int_equal(atoi(b->payload), next + 1);
                seen[next]++;
                seen[next + 1]++;
                next += 2;
                q_ack(cons, a);
                q_ack(cons, b);
        }
        /* paused: the internal queue never held much more than max_inflight */
        assert_true(maxdepth <= 3);
        while (next < 40) {
                struct q_msg *m = must_poll(cons, Q_FILES, 30);

                assert_int_equal(atoi(m->payload), next); /* no redelivery: never left the group */
                seen[next++]++;
                q_ack(cons, m);
        }
        poll_none(cons, Q_FILES, 1000);
        for (i = 0; i < 40; i++)
                assert_int_equal(seen[i], 1);
        WAIT_FOR(committed(g, t, 0) == 40, 15, "offset 40 committed");
        logtext = tu_slurp(logpath, NULL);
        assert_non_null(logtext);
        snprintf(needle, sizeof(needle), "topic=%s group_event=assign", t);
        assert_int_equal(count_lines(logtext, needle), 1);
        snprintf(needle, sizeof(needle), "topic=%s group_event=revoke", t);
        assert_int_equal(count_lines(logtext, needle), 0);
        snprintf(needle, sizeof(needle), "topic=%s group_event=lost", t);
        assert_int_equal(count_lines(logtext, needle), 0);
        assert_null(strstr(logtext, "maximum poll interval"));
        free(logtext);
        q_free(cons);
        q_free(prod);
}

static int log_count(const char *what)
{
        char *text = tu_slurp(logpath, NULL);
        int n;

        assert_non_null(text);
        n = count_lines(text, what);
        free(text);
        return n;
}

/*
 * A second member joins: one of two partitions moves (cooperative-sticky). The first member
 * has, per partition, an acked prefix, then messages in work, then queued ones. At the
 * revoke exactly the acked prefix of the moved partition is committed; its queued messages
 * are dropped, its held ones become orphans whose later acks change nothing, and the new
 * owner gets exactly the rest of that partition. (Partitions are computed with librdkafka's
 * default partitioner, consistent_random.)
 */
static void test_rebalance(void **state)
{
        enum { N = 40 };
        char p[64], g[96], t[128], needle[256], key[N][16];
        struct q *prod, *a, *b;
        struct q_msg *held[N], *m;
        int part[N], polled[2] = {0, 0}, acked[2] = {0, 0}, total[2] = {0, 0}, first3[2] = {0, 0};
        struct q_msg *bset[N] = {NULL};
        int acked_idx[N] = {0}, i, j, nheld = 0, nb = 0, moved, kept, rc;

        (void)state;
        mkprefix(p, sizeof(p), "rebal");
        snprintf(g, sizeof(g), "%sgroup", p);
        topic_of(t, sizeof(t), p, Q_FILES);
        create_all(p, 2);
        prod = newq(p, -1, NULL);
        a = newq(p, Q_FILES, g);
        /* four waves of ten, each fetched before the next: the queue mixes both partitions */
        for (i = 0; i < N; i++) {
                char v[16];

                snprintf(key[i], sizeof(key[i]), "key-%d", i);
                snprintf(v, sizeof(v), "%d", i);
                part[i] = rd_kafka_msg_partitioner_consistent_random(NULL, key[i], strlen(key[i]), 2,
                                                                     NULL, NULL);
                total[part[i]]++;
                if (i < 30)
                        first3[part[i]]++;
                pub(prod, Q_FILES, key[i], v, NULL, NULL);
                if (i % 10 == 9)
                        WAIT_FOR(q_depth(a, Q_FILES) == (size_t)i + 1, 30, "a wave queued");
        }
        assert_true(first3[0] >= 6 && first3[1] >= 6 && total[0] - first3[0] >= 1 &&
                    total[1] - first3[1] >= 1);
        /* the first three waves: ack the first half of each partition's, hold the rest */
        for (i = 0; i < 30; i++) {
                m = must_poll(a, Q_FILES, 30);
                j = atoi(m->payload);
                assert_true(j < 30);
                if (polled[part[j]]++ < first3[part[j]] / 2) {
                        acked[part[j]]++;
                        acked_idx[j] = 1;
                        q_ack(a, m);
                } else {
                        held[nheld++] = m;
                }
        }
        WAIT_FOR(committed(g, t, 0) == acked[0] && committed(g, t, 1) == acked[1], 15,
                 "the acked prefixes committed");
        snprintf(needle, sizeof(needle), "topic=%s group_event=revoke", t);
        b = newq(p, Q_FILES, g);
        WAIT_FOR(log_count(needle) == 1, 60, "a partition revoked from the first member");
        /* b gets exactly the moved partition's messages after its acked prefix */
        m = must_poll(b, Q_FILES, 60);
        moved = part[atoi(m->payload)];
        kept = !moved;
        assert_int_equal(committed(g, t, moved), acked[moved]);
        for (rc = JB_OK; rc == JB_OK; rc = q_poll(b, Q_FILES, 3000, &m)) {
                i = atoi(m->payload);
                assert_int_equal(part[i], moved);
                assert_false(acked_idx[i]);
                assert_null(bset[i]);
                bset[i] = m;
                nb++;
        }
        assert_int_equal(rc, JB_ETRANSIENT);
        assert_int_equal(nb, total[moved] - acked[moved]);
        printf("rebalance: partition %d moved, %d of its %d messages went to the new member\n", moved,
               nb, total[moved]);
        /* a: late acks of the moved partition change nothing (b still holds its messages);
         * the kept one completes */
        for (i = 0; i < nheld; i++)
                q_ack(a, held[i]);
        while ((rc = q_poll(a, Q_FILES, 1000, &m)) == JB_OK) {
                assert_int_equal(part[atoi(m->payload)], kept); /* the moved ones were dropped */
                q_ack(a, m);
        }
        assert_int_equal(rc, JB_ETRANSIENT);
        WAIT_FOR(committed(g, t, kept) == total[kept], 15, "the kept partition fully committed");
        committed_stays_p(g, t, moved, acked[moved], 2.5);
        for (i = 0; i < N; i++)
                if (bset[i])
                        q_ack(b, bset[i]);
        WAIT_FOR(committed(g, t, moved) == total[moved], 15,
                 "the moved partition committed by its new owner");
        q_free(b);
        q_free(a);
        q_free(prod);
}

static void test_opaque_bytes_dead(void **state)
{
        char p[64], g[96];
        static const char poison[] = "{\"v\":1,\0\xff\xfe not json";
        struct dcount d = {0};
        struct q *prod, *cons;
        struct q_msg *m;
        char err[256];

        (void)state;
        mkprefix(p, sizeof(p), "dead");
        snprintf(g, sizeof(g), "%sgroup", p);
        create_all(p, 1);
        prod = newq(p, -1, NULL);
        cons = newq(p, Q_DEAD, g);
        assert_int_equal(q_publish(prod, Q_DEAD, "", 0, poison, sizeof(poison) - 1, NULL, on_done, &d,
                                   err, sizeof(err)),
                         0);
        WAIT_FOR(dget(&d.ok) == 1, 30, "the dead letter's delivery");
        m = must_poll(cons, Q_DEAD, 30);
        assert_int_equal(m->topic, Q_DEAD);
        assert_int_equal(m->len, sizeof(poison) - 1);
        assert_memory_equal(m->payload, poison, sizeof(poison) - 1);
        assert_int_equal(m->payload[m->len], '\0');
        assert_int_equal(m->keylen, 0);
        q_ack(cons, m);
        q_free(cons);
        q_free(prod);
}

struct waiter {
        struct q *q;
        int rc;
};

static void *poll_thread(void *arg)
{
        struct waiter *w = arg;
        struct q_msg *m = NULL;

        w->rc = q_poll(w->q, Q_FILES, 60000, &m);
        return NULL;
}

static void test_shutdown(void **state)
{
        char p[64], g[96], err[256];
        struct waiter w = {NULL, 99};
        pthread_t th;
        double t0;

        (void)state;
        mkprefix(p, sizeof(p), "down");
        snprintf(g, sizeof(g), "%sgroup", p);
        create_all(p, 1);
        w.q = newq(p, Q_FILES, g);
        assert_int_equal(pthread_create(&th, NULL, poll_thread, &w), 0);
        nap_ms(300);
        t0 = now_s();
        q_shutdown(w.q);
        pthread_join(th, NULL);
        assert_int_equal(w.rc, JB_EFATAL);
        assert_true(now_s() - t0 < 5);
        assert_int_equal(q_publish(w.q, Q_EVENTS, "k", 1, "x", 1, NULL, NULL, NULL, err, sizeof(err)),
                         JB_ETRANSIENT);
        assert_int_equal(q_failed(w.q), 0);
        q_free(w.q);
}

struct blocked_pub {
        struct q *q;
        int rc, done;
};

static void *pub_thread(void *arg)
{
        struct blocked_pub *w = arg;
        char err[128];

        w->rc = q_publish(w->q, Q_EVENTS, "k", 1, "blocked", 7, NULL, NULL, NULL, err, sizeof(err));
        __atomic_store_n(&w->done, 1, __ATOMIC_SEQ_CST);
        return NULL;
}

/* A full local queue blocks the publisher until shutdown; q_free reports what never went. */
static void test_backpressure_undelivered(void **state)
{
        static const char *const props[] = {"queue.buffering.max.messages=3", NULL};
        char p[64];
        struct dcount d = {0};
        struct blocked_pub w = {NULL, 99, 0};
        pthread_t th;
        int i;

        (void)state;
        mkprefix(p, sizeof(p), "undeliv"); /* no topics at all: nothing can be delivered */
        w.q = newq_ex(p, -1, NULL, NULL, 0, props);
        for (i = 0; i < 3; i++)
                pub(w.q, Q_EVENTS, "k", "never", NULL, &d);
        assert_int_equal(q_inflight(w.q), 3);
        assert_int_equal(pthread_create(&th, NULL, pub_thread, &w), 0);
        nap_ms(1500);
        assert_int_equal(__atomic_load_n(&w.done, __ATOMIC_SEQ_CST), 0); /* waiting for room */
        q_shutdown(w.q);
        pthread_join(th, NULL);
        assert_int_equal(w.rc, JB_ETRANSIENT);
        assert_int_equal(q_inflight(w.q), 3);
        q_free(w.q); /* waits for the flush bound, then reports */
        assert_int_equal(dget(&d.ok), 0);
        assert_int_equal(dget(&d.failed), 3);
}

static void test_props(void **state)
{
        static const char *const unknown[] = {"sasl.password=Hunter2Secret", "no.such.property=1", NULL};
        static const char *const garbage[] = {"linger.ms", NULL};
        static const char *const badval[] = {"consumer.session.timeout.ms=abc", NULL};
        struct q_kafka_opts o = {0};
        char err[512], *logtext;

        (void)state;
        o.brokers = B;
        o.topic_prefix = "x.";
        o.consume = -1;
        o.props = unknown;
        assert_null(q_kafka_new(&o, err, sizeof(err)));
        assert_non_null(strstr(err, "no.such.property"));
        o.props = garbage;
        assert_null(q_kafka_new(&o, err, sizeof(err)));
        assert_non_null(strstr(err, "not name=value"));
        o.consume = Q_FILES;
        o.group_id = "g";
        o.props = badval;
        assert_null(q_kafka_new(&o, err, sizeof(err)));
        assert_non_null(strstr(err, "session.timeout.ms"));
        o.group_id = NULL;
        o.props = NULL;
        assert_null(q_kafka_new(&o, err, sizeof(err))); /* a consumer needs a group */
        /* the password was registered as a secret */
        log_msg(LL_WARN, "test", "the password is Hunter2Secret");
        logtext = tu_slurp(logpath, NULL);
        assert_non_null(logtext);
        assert_null(strstr(logtext, "Hunter2Secret"));
        assert_non_null(strstr(logtext, "the password is ***"));
        free(logtext);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_props),           cmocka_unit_test(test_create_topics),
                cmocka_unit_test(test_roundtrip_keys),  cmocka_unit_test(test_completion_chain),
                cmocka_unit_test(test_failed_delivery), cmocka_unit_test(test_out_of_order),
                cmocka_unit_test(test_abandon_restart), cmocka_unit_test(test_pause_slow),
                cmocka_unit_test(test_rebalance),       cmocka_unit_test(test_opaque_bytes_dead),
                cmocka_unit_test(test_shutdown),        cmocka_unit_test(test_backpressure_undelivered),
        };
        char err[256];
        int rc;

        B = getenv("KAFKA_BOOTSTRAP");
        if (!B || !*B) {
                printf("test_q_kafka: KAFKA_BOOTSTRAP is not set: nothing tested here; "
                       "tests/integration/0410-q-kafka.sh runs it against a real broker\n");
                return 77;
        }
        tmpdir = tu_tmpdir();
        assert_non_null(tmpdir);
        snprintf(logpath, sizeof(logpath), "%s/log", tmpdir);
        if (log_open(logpath, LL_INFO, err, sizeof(err))) {
                fprintf(stderr, "%s\n", err);
                return 1;
        }
        if (getenv("TEST_FILTER")) /* e.g. TEST_FILTER='test_pause*' */
                cmocka_set_test_filter(getenv("TEST_FILTER"));
        rc = cmocka_run_group_tests(tests, NULL, NULL);
        log_close();
        if (rc || getenv("TEST_SHOW_LOG")) {
                char *text = tu_slurp(logpath, NULL);

                fprintf(stderr, "--- transport log:\n%s", text ? text : "(none)\n");
                free(text);
        }
        tu_rmrf(tmpdir);
        free(tmpdir);
        rd_kafka_wait_destroyed(5000);
        return rc ? 1 : 0;
}
