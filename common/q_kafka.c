/*
 * q_kafka.c - the Kafka transport (q.h over librdkafka 2.0): one idempotent producer per q
 * and, when the process consumes a topic, one consumer-group member.
 *
 * Owns: both rd_kafka_t handles, their configuration (defaults, then the pass-through
 * properties), a thread that serves the producer's delivery reports, a thread that polls the
 * consumer without pause, the internal queue between that thread and q_poll() callers,
 * per-partition completion tracking, and offset commits.
 *
 * Producing: rd_kafka_produce() with a copy of key and payload to "<prefix><topic>"
 * (Q_DEAD is an ordinary topic here). A message counts only on its delivery report: done(1)
 * on success; a failure after librdkafka's own retries gives done(0) and its parent never
 * completes, so the consumed input is never committed and comes back after a restart or a
 * rebalance. A full local queue (__QUEUE_FULL) is back-pressure: publish waits and retries
 * until there is room or the transport shuts down (JB_ETRANSIENT, nothing published).
 *
 * Consuming and committing: enable.auto.commit=false and enable.auto.offset.store=false;
 * this file commits explicit offsets itself (async every second, synchronously for revoked
 * partitions and at q_free). Chosen over auto-commit of stored offsets because the commit
 * of revoked partitions must happen before they are released, for exactly those partitions,
 * and because librdkafka 2.0 refuses offsets_store() for partitions it no longer owns,
 * which would make "stored" and "committed" drift apart at a rebalance.
 * A consumed message is complete when the stage q_ack()ed it and every message published
 * with it as parent was delivered. Each partition keeps its messages in offset order; the
 * complete ones at the front are dropped and the offset after the last of them becomes the
 * partition's commit point, so a message still in work (or abandoned, or whose derived
 * message failed) holds its partition's commit point until a rebalance moves the partition
 * (the new owner gets it again) or the process restarts.
 * The consumer thread keeps polling while stages spend minutes on a message, so
 * max.poll.interval.ms is honoured; when max_inflight messages are handed out and not
 * released, or the internal queue stays at max_inflight messages for KQ_ROOM_WAIT_MS, it
 * pauses every assigned partition and resumes when there is room again. A pause costs a
 * refetch (librdkafka drops what it had fetched ahead; measured: about a second before the
 * next messages came), so a queue that is full only until the stage takes its next batch is
 * waited out without one; paused rounds are short (KQ_PAUSED_POLL_MS) and so is
 * fetch.wait.max.ms (KQ_FETCH_WAIT_MS).
 * With opts->instance_id (static membership, session.timeout.ms 30 s) a restart under the
 * same id gets its partitions back at once; q_free() does not leave the group then, so a
 * member with another id takes them over only after the session timeout.
 * Rebalances (cooperative-sticky; eager too if a property selects it): on revoke, commit
 * what is complete for those partitions (unless the assignment was lost), then forget them:
 * their messages still queued are dropped, those a stage holds become orphans whose later
 * ack, abandon or delivery reports change nothing.
 *
 * Properties: built by kconf.h (pass-through after the defaults, producer./consumer. prefixes,
 * secrets, librdkafka's log lines into log.h); librdkafka's errors are logged there and, only
 * for __FATAL (from the error callback or as a consumed message's error), mark the transport
 * failed (q_failed) and shut it down.
 *
 * Ownership: payloads are copied both ways. A polled q_msg is borrowed until q_ack() or
 * q_abandon() (its key and payload are freed then; the record itself lives until its
 * partition no longer needs it and no derived message awaits a report). q_free() finishes
 * in this order: flush the producer (bounded, the undelivered count is logged), the final
 * commit, rd_kafka_consumer_close(), done(opaque, 0) for every produced message that never
 * got a report, destroy both handles, free everything.
 * Threads: one mutex (mu) guards all tracking state; callbacks from librdkafka take it and
 * never call librdkafka while holding it; q_done_fn runs without it, on the producer thread.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "kconf.h"
#include "log.h"
#include "metrics.h"
#include "sig.h"
#include "msg.h"
#include "q_impl.h"
#include "q_kafka.h"

#define KQ_POLL_MS 100          /* one round of each client thread */
#define KQ_PAUSED_POLL_MS 10    /* a round while paused: resume soon after the stage made room */
#define KQ_COMMIT_EVERY_MS 1000 /* async commit of what completed */
#define KQ_FLUSH_MS 10000       /* q_free waits this long for deliveries */
#define KQ_PURGE_MS 5000        /* then this long for the purged messages' reports */
#define KQ_DEFAULT_INFLIGHT 1000
#define KQ_FETCH_WAIT_MS "100"       /* fetch.wait.max.ms (librdkafka's 500 stalled each resume) */
#define KQ_ROOM_WAIT_MS 500          /* a full internal queue is waited on this long before a pause */
#define KQ_STATIC_SESSION_MS "30000" /* session.timeout.ms with a group.instance.id */
#define KQ_MOD "kafka"

struct kpart;

/* A consumed message. */
struct kmsg {
        struct q_msg pub;   /* first: a struct q_msg * is a struct kmsg * */
        struct kpart *part; /* NULL once its partition was revoked (an orphan) */
        struct kmsg *pnext; /* the partition's list, in offset order */
        struct kmsg *qnext; /* internal queue */
        struct kmsg *all_prev, *all_next;
        int64_t offset;
        int children; /* published with it as parent, no report yet */
        char queued;  /* in the internal queue */
        char held;    /* handed out, not yet acked or abandoned */
        char acked;
        char blocked; /* abandoned, or a derived message failed: never complete */
        char listed;  /* in its partition's list */
        char *key, *payload;
};

/* An assigned partition of the consumed topic. */
struct kpart {
        int32_t id;
        struct kmsg *head, *tail;
        int64_t done_to;   /* every message below it is complete; -1: nothing yet */
        int64_t committed; /* last offset sent to the coordinator; -1: none */
        struct kpart *next;
};

/* A produced message awaiting its delivery report. */
struct pmsg {
        struct kmsg *parent;
        q_done_fn done;
        void *opaque;
        struct pmsg *prev, *next;
};

struct q_kafka {
        struct q q;
        pthread_mutex_t mu;
        pthread_cond_t nonempty; /* internal queue got a message, or shutdown */
        pthread_cond_t room;     /* a delivery report came, or shutdown */
        pthread_cond_t taken;    /* a stage took a message from the internal queue, or shutdown */
        rd_kafka_t *prod, *cons;
        rd_kafka_topic_t *rkt[Q_NTOPICS];
        char *topic[Q_NTOPICS];
        int consume; /* enum q_topic, or -1 */
        size_t max_inflight, qcap;
        /* guarded by mu */
        struct kpart *parts;
        struct kmsg *qhead, *qtail;
        struct kmsg *all;
        struct pmsg *pending;
        size_t nqueued, nheld, nprod;
        int down, failed, assign_changed;
        /* thread control */
        atomic_int stop_prod, stop_cons;
        _Atomic int64_t lag; /* q_lag(): -1 until the first commit round that saw a partition */
        pthread_t prod_thr, cons_thr;
        int prod_started, cons_started;
        int paused; /* consumer thread (and the close in q_free) only */
};

static void deadline_in(struct timespec *ts, int ms)
{
        jb_deadline(ts, CLOCK_MONOTONIC, ms);
}

/* ---- librdkafka callbacks ---- */

static void kq_set_down_locked(struct q_kafka *k)
{
        k->down = 1;
        pthread_cond_broadcast(&k->nonempty);
        pthread_cond_broadcast(&k->room);
        pthread_cond_broadcast(&k->taken);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
        struct q_kafka *k = opaque;

        if (!kconf_log_error(rk, err, reason) || !k)
                return;
        log_msg(LL_ERROR, KQ_MOD,
                "client=%s: the stage stops and unfinished work is offered again after a restart",
                rd_kafka_name(rk));
        pthread_mutex_lock(&k->mu);
        k->failed = 1;
        kq_set_down_locked(k);
        pthread_mutex_unlock(&k->mu);
}

/* ---- configuration ---- */

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque);
static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts,
                         void *opaque);
static void on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *offsets,
                      void *opaque);

/*
 * A client's configuration (kconf.h): what every client gets, the transport's defaults for
 * role, then props (so they can override the defaults). k may be NULL (admin client). *out is
 * owned by the caller until rd_kafka_new() succeeds.
 */
static int build_conf(struct q_kafka *k, const char *brokers, const char *client_id,
                      const struct q_kafka_opts *o, const char *const *props, enum kconf_role role,
                      rd_kafka_conf_t **out, char *errstr, size_t errsz)
{
        struct kconf_opts ko = {brokers, client_id, role, 0, k};
        rd_kafka_conf_t *conf = kconf_new(&ko, errstr, errsz);
        const char *def = "jibe default";
        int rc;

        *out = NULL;
        if (!conf)
                return JB_EINPUT;
        rd_kafka_conf_set_error_cb(conf, on_error);
        if (role == KCONF_PRODUCER) {
                rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
                /* topics are made by `jibe topics --create`, with their settings */
                if ((rc = kconf_set(conf, "enable.idempotence", "true", def, errstr, errsz)) ||
                    (rc = kconf_set(conf, "acks", "all", def, errstr, errsz)) ||
                    (rc = kconf_set(conf, "allow.auto.create.topics", "false", def, errstr, errsz)))
                        goto fail;
        } else if (role == KCONF_CONSUMER) {
                rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
                rd_kafka_conf_set_offset_commit_cb(conf, on_commit);
                if ((rc = kconf_set(conf, "group.id", o->group_id, "consumer group", errstr, errsz)) ||
                    (rc = kconf_set(conf, "enable.auto.commit", "false", def, errstr, errsz)) ||
                    (rc = kconf_set(conf, "enable.auto.offset.store", "false", def, errstr, errsz)) ||
                    (rc = kconf_set(conf, "auto.offset.reset", "earliest", def, errstr, errsz)) ||
                    (rc = kconf_set(conf, "fetch.wait.max.ms", KQ_FETCH_WAIT_MS, def, errstr, errsz)) ||
                    (rc = kconf_set(conf, "allow.auto.create.topics", "false", def, errstr, errsz)) ||
                    (rc = kconf_set(conf, "partition.assignment.strategy", "cooperative-sticky", def,
                                    errstr, errsz)))
                        goto fail;
                if (o->instance_id && *o->instance_id &&
                    ((rc = kconf_set(conf, "group.instance.id", o->instance_id, "instance id", errstr,
                                     errsz)) ||
                     (rc = kconf_set(conf, "session.timeout.ms", KQ_STATIC_SESSION_MS, def, errstr,
                                     errsz))))
                        goto fail;
        }
        if ((rc = kconf_props(conf, role, props, KCONF_NULL_ENDED, errstr, errsz)))
                goto fail;
        *out = conf;
        return JB_OK;
fail:
        rd_kafka_conf_destroy(conf);
        return rc;
}

/* ---- completion tracking (all under mu) ---- */

static struct kpart *part_find(struct q_kafka *k, int32_t id)
{
        struct kpart *p;

        for (p = k->parts; p; p = p->next)
                if (p->id == id)
                        return p;
        return NULL;
}

static void kmsg_release_data(struct kmsg *m)
{
        free(m->key);
        free(m->payload);
        m->key = m->payload = NULL;
        m->pub.key = m->pub.payload = NULL;
}

static void maybe_free_locked(struct q_kafka *k, struct kmsg *m)
{
        if (m->queued || m->held || m->listed || m->children)
                return;
        if (m->all_prev)
                m->all_prev->all_next = m->all_next;
        else
                k->all = m->all_next;
        if (m->all_next)
                m->all_next->all_prev = m->all_prev;
        kmsg_release_data(m);
        free(m);
}

static int complete(const struct kmsg *m)
{
        return m->acked && !m->blocked && !m->children;
}

/* Drop the complete messages at the front of p; the commit point follows them. */
static void advance_locked(struct q_kafka *k, struct kpart *p)
{
        size_t n = 0;

        while (p->head && complete(p->head)) {
                struct kmsg *m = p->head;

                p->head = m->pnext;
                if (!p->head)
                        p->tail = NULL;
                m->pnext = NULL;
                m->listed = 0;
                p->done_to = m->offset + 1;
                maybe_free_locked(k, m);
                n++;
        }
        if (n && k->consume >= 0)
                metric_add(M_KAFKA_COMMITTED, (double)n, k->topic[k->consume], NULL);
}

/* m changed state (ack, report): move its partition on, or free an orphan. */
static void settle_locked(struct q_kafka *k, struct kmsg *m)
{
        if (m->part)
                advance_locked(k, m->part);
        else
                maybe_free_locked(k, m);
}

/* Forget a revoked partition: drop its queued messages, orphan the ones a stage holds. */
static void forget_locked(struct q_kafka *k, struct kpart *p)
{
        struct kmsg *m, *next, **pp;
        struct kpart **kp;
        char id[16];

        snprintf(id, sizeof(id), "%" PRId32, p->id);
        metric_set(M_KAFKA_LAG, 0, k->topic[k->consume], id); /* another consumer has it now */

        for (m = p->head; m; m = next) {
                next = m->pnext;
                m->pnext = NULL;
                m->listed = 0;
                m->part = NULL;
                maybe_free_locked(k, m);
        }
        p->head = p->tail = NULL;
        k->qtail = NULL;
        for (pp = &k->qhead; *pp;) {
                m = *pp;
                if (m->part) {
                        k->qtail = m;
                        pp = &m->qnext;
                        continue;
                }
                *pp = m->qnext;
                m->qnext = NULL;
                m->queued = 0;
                k->nqueued--;
                maybe_free_locked(k, m);
        }
        for (kp = &k->parts; *kp; kp = &(*kp)->next) {
                if (*kp == p) {
                        *kp = p->next;
                        break;
                }
        }
        free(p);
}

/* Offsets to commit: of the partitions in filter (all when NULL) whose commit point moved. */
static rd_kafka_topic_partition_list_t *collect_locked(struct q_kafka *k,
                                                       const rd_kafka_topic_partition_list_t *filter)
{
        rd_kafka_topic_partition_list_t *l = NULL;
        struct kpart *p;
        int i;

        for (p = k->parts; p; p = p->next) {
                if (p->done_to < 0 || p->done_to == p->committed)
                        continue;
                if (filter) {
                        for (i = 0; i < filter->cnt; i++)
                                if (filter->elems[i].partition == p->id &&
                                    !strcmp(filter->elems[i].topic, k->topic[k->consume]))
                                        break;
                        if (i == filter->cnt)
                                continue;
                }
                if (!l && !(l = rd_kafka_topic_partition_list_new(4)))
                        return NULL;
                rd_kafka_topic_partition_list_add(l, k->topic[k->consume], p->id)->offset = p->done_to;
                p->committed = p->done_to;
        }
        return l;
}

/* A commit of l failed: offer those offsets again at the next round. */
static void uncommit(struct q_kafka *k, const rd_kafka_topic_partition_list_t *l, int all)
{
        int i;

        pthread_mutex_lock(&k->mu);
        for (i = 0; i < l->cnt; i++) {
                struct kpart *p = part_find(k, l->elems[i].partition);

                if (p && (all || l->elems[i].err) && p->committed == l->elems[i].offset)
                        p->committed = -1;
        }
        pthread_mutex_unlock(&k->mu);
}

static void commit_complete(struct q_kafka *k, const rd_kafka_topic_partition_list_t *filter, int async)
{
        rd_kafka_topic_partition_list_t *l;
        rd_kafka_resp_err_t err;

        pthread_mutex_lock(&k->mu);
        l = collect_locked(k, filter);
        pthread_mutex_unlock(&k->mu);
        if (!l)
                return;
        err = rd_kafka_commit(k->cons, l, async);
        if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
                log_msg(LL_WARN, KQ_MOD,
                        "topic=%s error=%s could not commit offsets: %s (tried again later)",
                        k->topic[k->consume], rd_kafka_err2name(err), rd_kafka_err2str(err));
                uncommit(k, l, 1);
        }
        rd_kafka_topic_partition_list_destroy(l);
}

static void on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *offsets,
                      void *opaque)
{
        struct q_kafka *k = opaque;
        int i, bad = err != RD_KAFKA_RESP_ERR_NO_ERROR;

        (void)rk;
        if (err == RD_KAFKA_RESP_ERR__NO_OFFSET || !offsets)
                return;
        for (i = 0; i < offsets->cnt; i++)
                bad |= offsets->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR;
        if (!bad)
                return;
        log_msg(LL_WARN, KQ_MOD,
                "topic=%s error=%s an offset commit failed (tried again at the next round)",
                k->topic[k->consume], rd_kafka_err2name(err ? err : offsets->elems[0].err));
        uncommit(k, offsets, err != RD_KAFKA_RESP_ERR_NO_ERROR);
}

static void pause_list(struct q_kafka *k, rd_kafka_topic_partition_list_t *l, int pause)
{
        rd_kafka_resp_err_t err;

        if (!l || !l->cnt)
                return;
        err = pause ? rd_kafka_pause_partitions(k->cons, l) : rd_kafka_resume_partitions(k->cons, l);
        if (err)
                log_msg(LL_WARN, KQ_MOD, "topic=%s error=%s could not %s fetching", k->topic[k->consume],
                        rd_kafka_err2name(err), pause ? "pause" : "resume");
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts,
                         void *opaque)
{
        struct q_kafka *k = opaque;
        int coop = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");
        rd_kafka_error_t *e = NULL;
        rd_kafka_resp_err_t ae = RD_KAFKA_RESP_ERR_NO_ERROR;
        char ids[256];
        size_t off = 0;
        int i;

        ids[0] = '\0';
        for (i = 0; parts && i < parts->cnt && off < sizeof(ids) - 12; i++)
                off += (size_t)snprintf(ids + off, sizeof(ids) - off, "%s%" PRId32, i ? "," : "",
                                        parts->elems[i].partition);
        if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
                pthread_mutex_lock(&k->mu);
                for (i = 0; i < parts->cnt; i++) {
                        struct kpart *p;

                        if (strcmp(parts->elems[i].topic, k->topic[k->consume]) ||
                            part_find(k, parts->elems[i].partition))
                                continue;
                        p = calloc(1, sizeof(*p));
                        if (!p) {
                                /* its messages are dropped, never committed: offered again later */
                                log_msg(LL_ERROR, KQ_MOD, "out of memory tracking partition %" PRId32,
                                        parts->elems[i].partition);
                                continue;
                        }
                        p->id = parts->elems[i].partition;
                        p->done_to = p->committed = -1;
                        p->next = k->parts;
                        k->parts = p;
                }
                k->assign_changed = 1;
                pthread_mutex_unlock(&k->mu);
                if (coop)
                        e = rd_kafka_incremental_assign(rk, parts);
                else
                        ae = rd_kafka_assign(rk, parts);
                if (k->paused)
                        pause_list(k, parts, 1);
                if (parts->cnt) /* cooperative rounds often add nothing */
                        log_msg(LL_INFO, KQ_MOD,
                                "topic=%s group_event=assign partitions=%s member=%s now consuming them",
                                k->topic[k->consume], ids, rd_kafka_name(rk));
        } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
                int lost = rd_kafka_assignment_lost(rk);

                if (!lost)
                        commit_complete(k, parts, 0);
                pthread_mutex_lock(&k->mu);
                for (i = 0; i < parts->cnt; i++) {
                        struct kpart *p = part_find(k, parts->elems[i].partition);

                        if (p && !strcmp(parts->elems[i].topic, k->topic[k->consume]))
                                forget_locked(k, p);
                }
                pthread_mutex_unlock(&k->mu);
                if (coop)
                        e = rd_kafka_incremental_unassign(rk, parts);
                else
                        ae = rd_kafka_assign(rk, NULL);
                if (parts->cnt)
                        log_msg(lost ? LL_WARN : LL_INFO, KQ_MOD,
                                "topic=%s group_event=%s partitions=%s member=%s %s",
                                k->topic[k->consume], lost ? "lost" : "revoke", ids, rd_kafka_name(rk),
                                lost ? "partitions lost (session expired?): their unfinished messages go "
                                       "to the next owner"
                                     : "finished messages committed, the rest goes to the next owner");
        } else {
                log_msg(LL_ERROR, KQ_MOD, "topic=%s error=%s rebalance failed; giving up the assignment",
                        k->topic[k->consume], rd_kafka_err2name(err));
                pthread_mutex_lock(&k->mu);
                while (k->parts)
                        forget_locked(k, k->parts);
                pthread_mutex_unlock(&k->mu);
                ae = rd_kafka_assign(rk, NULL);
        }
        if (e) {
                log_msg(LL_ERROR, KQ_MOD, "topic=%s rebalance: %s", k->topic[k->consume],
                        rd_kafka_error_string(e));
                rd_kafka_error_destroy(e);
        }
        if (ae)
                log_msg(LL_ERROR, KQ_MOD, "topic=%s rebalance: %s", k->topic[k->consume],
                        rd_kafka_err2str(ae));
}

/* ---- the consumer thread ---- */

static void take_message(struct q_kafka *k, const rd_kafka_message_t *rkm)
{
        struct kmsg *m;
        struct kpart *p;
        rd_kafka_timestamp_type_t tstype;
        int64_t ts;

        if (rkm->err == RD_KAFKA_RESP_ERR__FATAL) {
                /* A fatal consumer error (e.g. this static member fenced after a coordinator
                 * failover, librdkafka 2.0) arrives here, not at the error callback: the
                 * consumer takes nothing more, so the stage must stop rather than idle. */
                log_msg(LL_ERROR, KQ_MOD,
                        "topic=%s fatal Kafka consumer error: %s: the stage stops and unfinished "
                        "work is offered again after a restart",
                        k->topic[k->consume], rd_kafka_message_errstr(rkm));
                pthread_mutex_lock(&k->mu);
                k->failed = 1;
                kq_set_down_locked(k);
                pthread_mutex_unlock(&k->mu);
                return;
        }
        if (rkm->err) {
                if (rkm->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                        log_msg(LL_WARN, KQ_MOD, "topic=%s error=%s %s", k->topic[k->consume],
                                rd_kafka_err2name(rkm->err), rd_kafka_message_errstr(rkm));
                return;
        }
        m = calloc(1, sizeof(*m));
        metric_add(M_KAFKA_CONSUMED, 1, k->topic[k->consume], NULL);
        if (m) {
                m->key = malloc(rkm->key_len + 1);
                m->payload = malloc(rkm->len + 1);
        }
        if (!m || !m->key || !m->payload) {
                /* not tracked: its offset is never committed, it comes back later */
                log_msg(LL_ERROR, KQ_MOD,
                        "topic=%s partition=%" PRId32 " offset=%" PRId64
                        " out of memory: message left for later",
                        k->topic[k->consume], rkm->partition, rkm->offset);
                if (m)
                        kmsg_release_data(m);
                free(m);
                return;
        }
        if (rkm->key_len)
                memcpy(m->key, rkm->key, rkm->key_len);
        m->key[rkm->key_len] = '\0';
        if (rkm->len)
                memcpy(m->payload, rkm->payload, rkm->len);
        m->payload[rkm->len] = '\0';
        ts = rd_kafka_message_timestamp(rkm, &tstype);
        if (ts < 0)
                ts = msg_now_ms();
        m->pub.topic = (enum q_topic)k->consume;
        m->pub.key = m->key;
        m->pub.keylen = rkm->key_len;
        m->pub.payload = m->payload;
        m->pub.len = rkm->len;
        m->pub.ts_ms = ts;
        m->offset = rkm->offset;

        pthread_mutex_lock(&k->mu);
        p = part_find(k, rkm->partition);
        if (!p || (p->tail && rkm->offset <= p->tail->offset)) {
                /* not ours (any more), or already tracked */
                pthread_mutex_unlock(&k->mu);
                kmsg_release_data(m);
                free(m);
                return;
        }
        m->part = p;
        m->listed = 1;
        if (p->tail)
                p->tail->pnext = m;
        else
                p->head = m;
        p->tail = m;
        m->queued = 1;
        if (k->qtail)
                k->qtail->qnext = m;
        else
                k->qhead = m;
        k->qtail = m;
        k->nqueued++;
        m->all_next = k->all;
        if (k->all)
                k->all->all_prev = m;
        k->all = m;
        pthread_cond_signal(&k->nonempty);
        pthread_mutex_unlock(&k->mu);
}

/* Pause every assigned partition while the stages have enough, resume when there is room. */
static void update_pause(struct q_kafka *k)
{
        rd_kafka_topic_partition_list_t *l = NULL;
        int want, changed;

        pthread_mutex_lock(&k->mu);
        if (k->paused)
                want = k->down || k->nheld >= k->max_inflight || k->nqueued > k->qcap / 2;
        else
                want = k->down || k->nheld >= k->max_inflight || k->nqueued >= k->qcap;
        changed = k->assign_changed;
        k->assign_changed = 0;
        pthread_mutex_unlock(&k->mu);
        if (want == k->paused && !(want && changed))
                return;
        if (rd_kafka_assignment(k->cons, &l) == RD_KAFKA_RESP_ERR_NO_ERROR) {
                pause_list(k, l, want);
                rd_kafka_topic_partition_list_destroy(l);
        }
        if (want != k->paused)
                log_msg(LL_DEBUG, KQ_MOD, "topic=%s %s fetching", k->topic[k->consume],
                        want ? "paused" : "resumed");
        k->paused = want;
}

/* The lag of every partition of this consumer's own assignment (the high watermark
 * librdkafka last saw, minus the commit point): its sum for q_lag() (the status, always),
 * each partition's and the messages handed out for metrics.h (when they are on). */
static void lag_metrics(struct q_kafka *k)
{
        int32_t ids[256];
        int64_t done[256], lo, hi, total = 0;
        size_t n = 0, i, held;
        struct kpart *p;
        char id[16];
        int known = 0;

        if (k->consume < 0)
                return;
        pthread_mutex_lock(&k->mu);
        for (p = k->parts; p && n < 256; p = p->next) {
                ids[n] = p->id;
                done[n++] = p->done_to >= 0 ? p->done_to : p->committed;
        }
        held = k->nheld;
        pthread_mutex_unlock(&k->mu);
        metric_set(M_KAFKA_INFLIGHT, (double)held, k->topic[k->consume], NULL);
        for (i = 0; i < n; i++) {
                if (rd_kafka_get_watermark_offsets(k->cons, k->topic[k->consume], ids[i], &lo, &hi) ||
                    hi < 0)
                        continue;
                if (done[i] < 0)
                        done[i] = lo; /* nothing done or committed yet: all of it waits */
                known = 1;
                total += hi > done[i] ? hi - done[i] : 0;
                if (metrics_enabled()) {
                        snprintf(id, sizeof(id), "%" PRId32, ids[i]);
                        metric_set(M_KAFKA_LAG, (double)(hi > done[i] ? hi - done[i] : 0),
                                   k->topic[k->consume], id);
                }
        }
        atomic_store(&k->lag, known ? total : -1);
}

/* The internal queue is full but the stage is taking from it: wait (KQ_ROOM_WAIT_MS at
 * most) for room rather than pause, which would throw away what librdkafka fetched ahead. */
static void wait_room(struct q_kafka *k)
{
        struct timespec ts;

        if (k->paused)
                return;
        deadline_in(&ts, KQ_ROOM_WAIT_MS);
        pthread_mutex_lock(&k->mu);
        while (!k->down && k->nqueued >= k->qcap && k->nheld < k->max_inflight &&
               !atomic_load(&k->stop_cons))
                if (pthread_cond_timedwait(&k->taken, &k->mu, &ts) == ETIMEDOUT)
                        break;
        pthread_mutex_unlock(&k->mu);
}

static void *cons_main(void *arg)
{
        struct q_kafka *k = arg;
        int64_t next_commit = jb_mono_ms() + KQ_COMMIT_EVERY_MS;

        while (!atomic_load(&k->stop_cons)) {
                rd_kafka_message_t *rkm;

                wait_room(k);
                update_pause(k);
                /* paused, a poll returns nothing: a short one notices room sooner */
                rkm = rd_kafka_consumer_poll(k->cons, k->paused ? KQ_PAUSED_POLL_MS : KQ_POLL_MS);
                if (rkm) {
                        take_message(k, rkm);
                        rd_kafka_message_destroy(rkm);
                }
                if (jb_mono_ms() >= next_commit) {
                        commit_complete(k, NULL, 1);
                        lag_metrics(k);
                        next_commit = jb_mono_ms() + KQ_COMMIT_EVERY_MS;
                }
        }
        return NULL;
}

/* ---- producing ---- */

static void *prod_main(void *arg)
{
        struct q_kafka *k = arg;

        while (!atomic_load(&k->stop_prod))
                rd_kafka_poll(k->prod, KQ_POLL_MS);
        return NULL;
}

static void pmsg_unlink_locked(struct q_kafka *k, struct pmsg *pm)
{
        if (pm->prev)
                pm->prev->next = pm->next;
        else
                k->pending = pm->next;
        if (pm->next)
                pm->next->prev = pm->prev;
        pm->prev = pm->next = NULL;
        k->nprod--;
}

/* A message derived from m got its report (ok) or failed for good. */
static void child_done_locked(struct q_kafka *k, struct kmsg *m, int ok)
{
        m->children--;
        if (!ok)
                m->blocked = 1;
        settle_locked(k, m);
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
        struct q_kafka *k = opaque;
        struct pmsg *pm = rkm->_private;
        int ok = rkm->err == RD_KAFKA_RESP_ERR_NO_ERROR;

        (void)rk;
        if (!pm)
                return;
        if (!ok && rkm->err != RD_KAFKA_RESP_ERR__PURGE_QUEUE &&
            rkm->err != RD_KAFKA_RESP_ERR__PURGE_INFLIGHT)
                log_msg(LL_WARN, KQ_MOD,
                        "topic=%s error=%s a message could not be delivered: %s; the input it came from "
                        "stays uncommitted and is offered again after a restart",
                        rkm->rkt ? rd_kafka_topic_name(rkm->rkt) : "?", rd_kafka_err2name(rkm->err),
                        rd_kafka_err2str(rkm->err));
        if (ok && rkm->rkt)
                metric_add(M_KAFKA_PRODUCED, 1, rd_kafka_topic_name(rkm->rkt), NULL);
        pthread_mutex_lock(&k->mu);
        pmsg_unlink_locked(k, pm);
        if (pm->parent)
                child_done_locked(k, pm->parent, ok);
        pthread_cond_broadcast(&k->room);
        pthread_mutex_unlock(&k->mu);
        if (pm->done)
                pm->done(pm->opaque, ok);
        free(pm);
}

static int produce_rc(rd_kafka_resp_err_t err)
{
        switch (err) {
        case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
                return JB_ELIMIT;
        case RD_KAFKA_RESP_ERR__FATAL:
        case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
        case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
        case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
                return JB_EFATAL;
        default:
                return JB_ETRANSIENT;
        }
}

static int kq_publish(struct q *q, enum q_topic t, const char *key, size_t keylen, const void *payload,
                      size_t len, struct q_msg *parent, q_done_fn done, void *opaque, char *errstr,
                      size_t errsz)
{
        struct q_kafka *k = (struct q_kafka *)q;
        struct pmsg *pm;
        rd_kafka_resp_err_t err;

        if ((unsigned)t >= Q_NTOPICS)
                return jb_seterr(JB_EFATAL, errstr, errsz, "no such topic (%d)", (int)t);
        pm = calloc(1, sizeof(*pm));
        if (!pm)
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        pm->parent = (struct kmsg *)parent;
        pm->done = done;
        pm->opaque = opaque;
        pthread_mutex_lock(&k->mu);
        if (k->down) {
                pthread_mutex_unlock(&k->mu);
                free(pm);
                return jb_seterr(JB_ETRANSIENT, errstr, errsz, "shutting down");
        }
        pm->next = k->pending;
        if (k->pending)
                k->pending->prev = pm;
        k->pending = pm;
        k->nprod++;
        if (pm->parent)
                pm->parent->children++;
        pthread_mutex_unlock(&k->mu);

        for (;;) {
                int down;

                if (rd_kafka_produce(k->rkt[t], RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                                     (void *)payload, len, key, keylen, pm) == 0)
                        return JB_OK;
                err = rd_kafka_last_error();
                if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                        break;
                /* back-pressure: wait for delivery reports to make room */
                pthread_mutex_lock(&k->mu);
                if (!k->down) {
                        struct timespec ts;

                        deadline_in(&ts, KQ_POLL_MS);
                        pthread_cond_timedwait(&k->room, &k->mu, &ts);
                }
                down = k->down;
                pthread_mutex_unlock(&k->mu);
                if (down)
                        break;
        }
        pthread_mutex_lock(&k->mu);
        pmsg_unlink_locked(k, pm);
        if (pm->parent) {
                pm->parent->children--;
                settle_locked(k, pm->parent);
        }
        pthread_mutex_unlock(&k->mu);
        free(pm);
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                return jb_seterr(JB_ETRANSIENT, errstr, errsz, "shutting down");
        return jb_seterr(produce_rc(err), errstr, errsz, "cannot publish to Kafka topic %s: %s",
                         k->topic[t], rd_kafka_err2str(err));
}

/* ---- consuming ---- */

static int kq_poll(struct q *q, enum q_topic t, int timeout_ms, struct q_msg **out)
{
        struct q_kafka *k = (struct q_kafka *)q;
        struct timespec ts;
        struct kmsg *m;

        *out = NULL;
        if (!k->cons || (int)t != k->consume)
                return JB_EFATAL;
        deadline_in(&ts, timeout_ms < 0 ? 0 : timeout_ms);
        pthread_mutex_lock(&k->mu);
        while (!k->down && !k->qhead) {
                if (pthread_cond_timedwait(&k->nonempty, &k->mu, &ts) == ETIMEDOUT)
                        break;
        }
        if (k->down) {
                pthread_mutex_unlock(&k->mu);
                return JB_EFATAL;
        }
        m = k->qhead;
        if (!m) {
                pthread_mutex_unlock(&k->mu);
                return JB_ETRANSIENT;
        }
        k->qhead = m->qnext;
        if (!k->qhead)
                k->qtail = NULL;
        m->qnext = NULL;
        m->queued = 0;
        k->nqueued--;
        m->held = 1;
        k->nheld++;
        if (k->nqueued < k->qcap) /* room for the consumer thread (wait_room) */
                pthread_cond_signal(&k->taken);
        pthread_mutex_unlock(&k->mu);
        *out = &m->pub;
        return JB_OK;
}

static void release(struct q_kafka *k, struct kmsg *m, int ack)
{
        pthread_mutex_lock(&k->mu);
        if (m->held) {
                m->held = 0;
                k->nheld--;
                if (ack)
                        m->acked = 1;
                else
                        m->blocked = 1;
                kmsg_release_data(m);
                settle_locked(k, m);
        }
        pthread_mutex_unlock(&k->mu);
}

static void kq_ack(struct q *q, struct q_msg *m)
{
        release((struct q_kafka *)q, (struct kmsg *)m, 1);
}

static void kq_abandon(struct q *q, struct q_msg *m)
{
        release((struct q_kafka *)q, (struct kmsg *)m, 0);
}

static void kq_shutdown(struct q *q)
{
        struct q_kafka *k = (struct q_kafka *)q;

        pthread_mutex_lock(&k->mu);
        kq_set_down_locked(k);
        pthread_mutex_unlock(&k->mu);
}

static size_t kq_depth(struct q *q, enum q_topic t)
{
        struct q_kafka *k = (struct q_kafka *)q;
        size_t n;

        pthread_mutex_lock(&k->mu);
        n = k->cons && (int)t == k->consume ? k->nqueued : 0;
        pthread_mutex_unlock(&k->mu);
        return n;
}

static int64_t kq_lag(struct q *q)
{
        return atomic_load(&((struct q_kafka *)q)->lag);
}

static size_t kq_inflight(struct q *q)
{
        struct q_kafka *k = (struct q_kafka *)q;
        size_t n;

        pthread_mutex_lock(&k->mu);
        n = k->nheld + k->nprod;
        pthread_mutex_unlock(&k->mu);
        return n;
}

static int kq_failed(struct q *q)
{
        struct q_kafka *k = (struct q_kafka *)q;
        int f;

        pthread_mutex_lock(&k->mu);
        f = k->failed;
        pthread_mutex_unlock(&k->mu);
        return f;
}

/* ---- end ---- */

static void stop_thread(atomic_int *flag, pthread_t thr, int *started)
{
        if (!*started)
                return;
        atomic_store(flag, 1);
        pthread_join(thr, NULL);
        *started = 0;
}

static void kq_destroy(struct q *q)
{
        struct q_kafka *k = (struct q_kafka *)q;
        struct pmsg *pm;
        struct kmsg *m;
        size_t left;
        int t;

        kq_shutdown(q);
        if (k->prod) {
                /* deliveries first: their reports complete consumed messages, committed below */
                rd_kafka_flush(k->prod, (int)sig_bound_ms(KQ_FLUSH_MS)); /* shorter after SIGTERM */
                stop_thread(&k->stop_prod, k->prod_thr, &k->prod_started);
                pthread_mutex_lock(&k->mu);
                left = k->nprod;
                pthread_mutex_unlock(&k->mu);
                if (left) {
                        int64_t end = jb_mono_ms() + KQ_PURGE_MS;

                        log_msg(LL_WARN, KQ_MOD,
                                "undelivered=%zu messages were still not delivered at stop; "
                                "their inputs stay uncommitted and are offered again after a restart",
                                left);
                        rd_kafka_purge(k->prod, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
                        while (left && jb_mono_ms() < end) {
                                rd_kafka_poll(k->prod, KQ_POLL_MS);
                                pthread_mutex_lock(&k->mu);
                                left = k->nprod;
                                pthread_mutex_unlock(&k->mu);
                        }
                }
        }
        if (k->cons) {
                rd_kafka_resp_err_t err;

                stop_thread(&k->stop_cons, k->cons_thr, &k->cons_started);
                commit_complete(k, NULL, 0);
                err = rd_kafka_consumer_close(k->cons);
                if (err)
                        log_msg(LL_WARN, KQ_MOD, "topic=%s error=%s leaving the consumer group: %s",
                                k->topic[k->consume], rd_kafka_err2name(err), rd_kafka_err2str(err));
        }
        /* reports that never came (a purge that timed out): never completed */
        while ((pm = k->pending)) {
                pmsg_unlink_locked(k, pm);
                if (pm->done)
                        pm->done(pm->opaque, 0);
                free(pm);
        }
        for (t = 0; t < Q_NTOPICS; t++) {
                if (k->rkt[t])
                        rd_kafka_topic_destroy(k->rkt[t]);
                free(k->topic[t]);
        }
        if (k->cons)
                rd_kafka_destroy(k->cons);
        if (k->prod)
                rd_kafka_destroy(k->prod);
        while (k->parts) {
                struct kpart *p = k->parts;

                k->parts = p->next;
                free(p);
        }
        while ((m = k->all)) {
                k->all = m->all_next;
                kmsg_release_data(m);
                free(m);
        }
        pthread_cond_destroy(&k->nonempty);
        pthread_cond_destroy(&k->room);
        pthread_cond_destroy(&k->taken);
        pthread_mutex_destroy(&k->mu);
        free(k);
}

static const struct q_ops kafka_ops = {
        kq_publish, kq_poll,     kq_ack,     kq_abandon, kq_shutdown,
        kq_depth,   kq_inflight, kq_destroy, kq_failed,  kq_lag,
};

/* "<prefix><name of t>" (kconf_name()), malloc'ed; NULL when out of memory. */
static char *topic_full(const char *prefix, enum q_topic t)
{
        static const enum kconf_name names[Q_NTOPICS] =
                {[Q_FILES] = KN_FILES, [Q_EVENTS] = KN_EVENTS, [Q_DEAD] = KN_DEAD};
        size_t n = strlen(prefix) + strlen(kconf_base(names[t])) + 1;
        char *s = malloc(n);

        if (s && kconf_name(s, n, prefix, names[t]) != JB_OK) {
                free(s);
                s = NULL;
        }
        return s;
}

struct q *q_kafka_new(const struct q_kafka_opts *opts, char *errstr, size_t errsz)
{
        struct q_kafka *k;
        rd_kafka_conf_t *conf = NULL;
        const char *prefix, *cid;
        char e[512];
        int t;

        if (!opts || !opts->brokers || !*opts->brokers) {
                jb_seterr(JB_EFATAL, errstr, errsz, "no Kafka brokers configured");
                return NULL;
        }
        if (opts->consume >= Q_NTOPICS || opts->consume < -1 ||
            (opts->consume >= 0 && (!opts->group_id || !*opts->group_id))) {
                jb_seterr(JB_EFATAL, errstr, errsz,
                          "a Kafka consumer needs a topic and a consumer group");
                return NULL;
        }
        kconf_register_secrets(opts->props, KCONF_NULL_ENDED);
        k = calloc(1, sizeof(*k));
        if (!k) {
                jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                return NULL;
        }
        k->q.ops = &kafka_ops;
        k->consume = opts->consume;
        k->max_inflight = opts->max_inflight ? opts->max_inflight : KQ_DEFAULT_INFLIGHT;
        k->qcap = k->max_inflight;
        atomic_init(&k->lag, -1);
        pthread_mutex_init(&k->mu, NULL);
        jb_cond_init_mono(&k->nonempty);
        jb_cond_init_mono(&k->room);
        jb_cond_init_mono(&k->taken);
        prefix = opts->topic_prefix ? opts->topic_prefix : "";
        cid = opts->client_id && *opts->client_id ? opts->client_id : "jibe";
        for (t = 0; t < Q_NTOPICS; t++) {
                if (!(k->topic[t] = topic_full(prefix, (enum q_topic)t))) {
                        jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                        goto fail;
                }
        }

        if (build_conf(k, opts->brokers, cid, opts, opts->props, KCONF_PRODUCER, &conf, errstr, errsz))
                goto fail;
        if (!(k->prod = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof(e)))) {
                rd_kafka_conf_destroy(conf);
                jb_seterr(JB_EFATAL, errstr, errsz, "cannot create the Kafka producer: %s", e);
                goto fail;
        }
        for (t = 0; t < Q_NTOPICS; t++) {
                if (!(k->rkt[t] = rd_kafka_topic_new(k->prod, k->topic[t], NULL))) {
                        jb_seterr(JB_EFATAL, errstr, errsz, "Kafka topic %s: %s", k->topic[t],
                                  rd_kafka_err2str(rd_kafka_last_error()));
                        goto fail;
                }
        }
        if (opts->consume >= 0) {
                rd_kafka_topic_partition_list_t *sub;
                rd_kafka_resp_err_t err;

                if (build_conf(k, opts->brokers, cid, opts, opts->props, KCONF_CONSUMER, &conf, errstr,
                               errsz))
                        goto fail;
                if (!(k->cons = rd_kafka_new(RD_KAFKA_CONSUMER, conf, e, sizeof(e)))) {
                        rd_kafka_conf_destroy(conf);
                        jb_seterr(JB_EFATAL, errstr, errsz, "cannot create the Kafka consumer: %s", e);
                        goto fail;
                }
                rd_kafka_poll_set_consumer(k->cons);
                sub = rd_kafka_topic_partition_list_new(1);
                rd_kafka_topic_partition_list_add(sub, k->topic[k->consume], RD_KAFKA_PARTITION_UA);
                err = rd_kafka_subscribe(k->cons, sub);
                rd_kafka_topic_partition_list_destroy(sub);
                if (err) {
                        jb_seterr(JB_EFATAL, errstr, errsz, "cannot subscribe to Kafka topic %s: %s",
                                  k->topic[k->consume], rd_kafka_err2str(err));
                        goto fail;
                }
        }
        if (pthread_create(&k->prod_thr, NULL, prod_main, k)) {
                jb_seterr(JB_EFATAL, errstr, errsz, "cannot start the Kafka producer thread");
                goto fail;
        }
        k->prod_started = 1;
        if (k->cons) {
                if (pthread_create(&k->cons_thr, NULL, cons_main, k)) {
                        jb_seterr(JB_EFATAL, errstr, errsz, "cannot start the Kafka consumer thread");
                        goto fail;
                }
                k->cons_started = 1;
        }
        return &k->q;
fail:
        kq_destroy(&k->q);
        return NULL;
}
