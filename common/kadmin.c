/*
 * kadmin.c - Kafka metadata and offset helpers for jibe's admin commands (see kadmin.h).
 *
 * Owns: one librdkafka consumer handle per struct kadmin, configured never to commit on its
 * own (enable.auto.commit=false) and never subscribed, so reading a group's offsets or moving
 * them does not make it a member of that group. The message reader of kadmin_oldest() uses a
 * separate handle whose group id is not a jibe group, so nothing it does can touch the
 * offsets of the group it measures.
 * Ownership: partition arrays and their topic strings are malloc'ed here and freed by
 * kadmin_parts_free(); librdkafka objects go back to their own destructors before return.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "kadmin.h"
#include "kconf.h"
#include "log.h"

#define KADMIN_READER_GROUP "jibe-admin-reader" /* never joined, never committed */
#define KADMIN_DEAD_MIN_RETENTION_MS (30LL * 24 * 3600 * 1000)

struct kadmin {
        rd_kafka_t *rk;
        char *group;   /* NULL: metadata and watermarks only */
        char *brokers; /* for messages */
        int timeout_ms;
};

/*
 * A consumer handle that never subscribes (kconf.h role KCONF_CONSUMER: the plain and the
 * "consumer." properties). librdkafka's own lines (connection attempts ...) go to the debug
 * level only: the commands report what failed in one sentence of their own. The properties
 * come first, so that jibe's safety settings win.
 */
static rd_kafka_t *new_consumer(const struct kadmin_conn *c, const char *group, char *errstr,
                                size_t errsz)
{
        struct kconf_opts ko = {c->brokers, "jibe-admin", KCONF_CONSUMER, 1, NULL};
        rd_kafka_conf_t *conf = kconf_new(&ko, errstr, errsz);
        const char *def = "jibe admin default";
        char es[512];
        rd_kafka_t *rk;

        if (!conf)
                return NULL;
        if (kconf_props(conf, KCONF_CONSUMER, c->props, c->props ? c->n_props : 0, errstr, errsz) ||
            kconf_set(conf, "bootstrap.servers", c->brokers, "kafka.brokers", errstr, errsz) ||
            kconf_set(conf, "client.id", "jibe-admin", def, errstr, errsz) ||
            kconf_set(conf, "group.id", group, "group", errstr, errsz) ||
            kconf_set(conf, "enable.auto.commit", "false", def, errstr, errsz) ||
            kconf_set(conf, "enable.auto.offset.store", "false", def, errstr, errsz) ||
            kconf_set(conf, "auto.offset.reset", "earliest", def, errstr, errsz) ||
            kconf_set(conf, "allow.auto.create.topics", "false", def, errstr, errsz)) {
                rd_kafka_conf_destroy(conf);
                return NULL;
        }
        rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, es, sizeof(es));
        if (!rk) {
                rd_kafka_conf_destroy(conf);
                jb_seterr(JB_EINPUT, errstr, errsz, "cannot create a Kafka client: %s", es);
                return NULL;
        }
        return rk;
}

struct kadmin *kadmin_new(const struct kadmin_conn *conn, const char *group, char *errstr, size_t errsz)
{
        struct kadmin *ka = calloc(1, sizeof(*ka));

        if (!ka) {
                jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                return NULL;
        }
        ka->timeout_ms = conn->timeout_ms > 0 ? conn->timeout_ms : KADMIN_TIMEOUT_MS_DEFAULT;
        ka->brokers = strdup(conn->brokers);
        ka->group = group ? strdup(group) : NULL;
        if (!ka->brokers || (group && !ka->group)) {
                jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                kadmin_free(ka);
                return NULL;
        }
        ka->rk = new_consumer(conn, group ? group : KADMIN_READER_GROUP, errstr, errsz);
        if (!ka->rk) {
                kadmin_free(ka);
                return NULL;
        }
        return ka;
}

void kadmin_free(struct kadmin *ka)
{
        if (!ka)
                return;
        if (ka->rk) {
                rd_kafka_consumer_close(ka->rk);
                rd_kafka_destroy(ka->rk);
        }
        free(ka->group);
        free(ka->brokers);
        free(ka);
}

/* "cannot reach Kafka at HOSTS (what): librdkafka's reason; check ..." */
static int broker_err(const struct kadmin *ka, rd_kafka_resp_err_t err, const char *what, char *errstr,
                      size_t errsz)
{
        if (err == RD_KAFKA_RESP_ERR__TRANSPORT || err == RD_KAFKA_RESP_ERR__TIMED_OUT ||
            err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || err == RD_KAFKA_RESP_ERR__RESOLVE)
                return jb_seterr(
                        JB_ETRANSIENT, errstr, errsz,
                        "no answer from Kafka at %s while %s (%s): check kafka.brokers and that the "
                        "brokers run",
                        ka->brokers, what, rd_kafka_err2str(err));
        return jb_seterr(JB_ETRANSIENT, errstr, errsz, "Kafka at %s refused %s: %s", ka->brokers, what,
                         rd_kafka_err2str(err));
}

void kadmin_parts_free(struct kadmin_part *parts, size_t n)
{
        size_t i;

        for (i = 0; parts && i < n; i++)
                free(parts[i].topic);
        free(parts);
}

/* ---- group state ---- */

int kadmin_group_info(struct kadmin *ka, struct kadmin_group *out, char *errstr, size_t errsz)
{
        const struct rd_kafka_group_list *gl = NULL;
        rd_kafka_resp_err_t err;
        size_t at;
        int i, k, rc = JB_OK;

        memset(out, 0, sizeof(*out));
        snprintf(out->state, sizeof(out->state), "Dead");
        err = rd_kafka_list_groups(ka->rk, ka->group, &gl, ka->timeout_ms);
        if (err && err != RD_KAFKA_RESP_ERR__PARTIAL)
                return broker_err(ka, err, "describing the consumer group", errstr, errsz);
        for (i = 0; gl && i < gl->group_cnt; i++) {
                const struct rd_kafka_group_info *g = &gl->groups[i];

                if (strcmp(g->group, ka->group) != 0 || g->err == RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND)
                        continue;
                if (g->err) {
                        rc = broker_err(ka, g->err, "describing the consumer group", errstr, errsz);
                        break;
                }
                if (g->state && *g->state)
                        snprintf(out->state, sizeof(out->state), "%s", g->state);
                out->members = g->member_cnt;
                for (k = 0, at = 0; k < g->member_cnt && at < sizeof(out->who); k++) {
                        const struct rd_kafka_group_member_info *m = &g->members[k];
                        int w = snprintf(out->who + at, sizeof(out->who) - at, "%s%s@%s", k ? ", " : "",
                                         m->client_id ? m->client_id : "?",
                                         m->client_host ? m->client_host : "?");

                        if (w < 0)
                                break;
                        at += (size_t)w;
                }
                break;
        }
        if (gl)
                rd_kafka_group_list_destroy(gl);
        return rc;
}

/* ---- partitions, offsets, watermarks ---- */

static int part_cmp(const void *a, const void *b)
{
        const struct kadmin_part *x = a, *y = b;
        int c = strcmp(x->topic, y->topic);

        if (c)
                return c;
        return (x->partition > y->partition) - (x->partition < y->partition);
}

/* Append (topic, partition) unless present. */
static int parts_add(struct kadmin_part **parts, size_t *n, size_t *cap, const char *topic,
                     int32_t partition)
{
        size_t i;

        for (i = 0; i < *n; i++)
                if ((*parts)[i].partition == partition && strcmp((*parts)[i].topic, topic) == 0)
                        return JB_OK;
        if (*n == *cap) {
                size_t nc = *cap ? *cap * 2 : 16;
                struct kadmin_part *np = realloc(*parts, nc * sizeof(*np));

                if (!np)
                        return JB_ENOMEM;
                *parts = np;
                *cap = nc;
        }
        memset(&(*parts)[*n], 0, sizeof(**parts));
        (*parts)[*n].topic = strdup(topic);
        if (!(*parts)[*n].topic)
                return JB_ENOMEM;
        (*parts)[*n].partition = partition;
        (*parts)[*n].committed = KADMIN_NO_OFFSET;
        (*parts)[*n].oldest_ts_ms = KADMIN_NO_OFFSET;
        (*parts)[*n].target = KADMIN_NO_OFFSET;
        (*n)++;
        return JB_OK;
}

/* Add every partition of topic; JB_ENOTFOUND when the cluster does not know it. */
static int add_topic(struct kadmin *ka, const char *topic, struct kadmin_part **parts, size_t *n,
                     size_t *cap, char *errstr, size_t errsz)
{
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t err;
        int i, k, rc = JB_ENOTFOUND;

        err = rd_kafka_metadata(ka->rk, 1, NULL, &md, ka->timeout_ms);
        if (err)
                return broker_err(ka, err, "reading the list of topics", errstr, errsz);
        for (i = 0; i < md->topic_cnt; i++) {
                const struct rd_kafka_metadata_topic *t = &md->topics[i];

                if (strcmp(t->topic, topic) != 0)
                        continue;
                if (t->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
                        break;
                if (t->err) {
                        rc = broker_err(ka, t->err, "describing the topic", errstr, errsz);
                        goto out;
                }
                rc = JB_OK;
                for (k = 0; rc == JB_OK && k < t->partition_cnt; k++)
                        rc = parts_add(parts, n, cap, topic, t->partitions[k].id);
                if (rc)
                        jb_seterr(rc, errstr, errsz, "out of memory");
                goto out;
        }
        jb_seterr(JB_ENOTFOUND, errstr, errsz, "topic %s does not exist in Kafka at %s", topic,
                  ka->brokers);
out:
        rd_kafka_metadata_destroy(md);
        return rc;
}

/* The partitions the group has committed offsets for (ListConsumerGroupOffsets, all topics). */
/* Frees what one admin request left (each may be NULL). */
static void admin_free(rd_kafka_event_t *ev, rd_kafka_AdminOptions_t *opt, rd_kafka_queue_t *q)
{
        if (ev)
                rd_kafka_event_destroy(ev);
        if (opt)
                rd_kafka_AdminOptions_destroy(opt);
        if (q)
                rd_kafka_queue_destroy(q);
}

static int add_committed_topics(struct kadmin *ka, struct kadmin_part **parts, size_t *n, size_t *cap,
                                char *errstr, size_t errsz)
{
        rd_kafka_ListConsumerGroupOffsets_t *req;
        rd_kafka_AdminOptions_t *opt;
        rd_kafka_queue_t *q;
        rd_kafka_event_t *ev = NULL;
        const rd_kafka_ListConsumerGroupOffsets_result_t *res;
        const rd_kafka_group_result_t **groups;
        size_t cnt, g;
        char es[256];
        int rc = JB_OK, i;

        q = rd_kafka_queue_new(ka->rk);
        opt = rd_kafka_AdminOptions_new(ka->rk, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS);
        req = rd_kafka_ListConsumerGroupOffsets_new(ka->group, NULL);
        if (!q || !opt || !req) {
                rc = jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                goto out;
        }
        if (rd_kafka_AdminOptions_set_request_timeout(opt, ka->timeout_ms, es, sizeof(es)) !=
            RD_KAFKA_RESP_ERR_NO_ERROR) {
                rc = jb_seterr(JB_EINPUT, errstr, errsz, "%s", es);
                goto out;
        }
        rd_kafka_ListConsumerGroupOffsets(ka->rk, &req, 1, opt, q);
        ev = rd_kafka_queue_poll(q, ka->timeout_ms + 2000);
        if (!ev) {
                rc = broker_err(ka, RD_KAFKA_RESP_ERR__TIMED_OUT, "listing the group's offsets", errstr,
                                errsz);
                goto out;
        }
        if (rd_kafka_event_error(ev)) {
                rc = broker_err(ka, rd_kafka_event_error(ev), "listing the group's offsets", errstr,
                                errsz);
                goto out;
        }
        res = rd_kafka_event_ListConsumerGroupOffsets_result(ev);
        groups = res ? rd_kafka_ListConsumerGroupOffsets_result_groups(res, &cnt) : NULL;
        for (g = 0; groups && g < cnt && rc == JB_OK; g++) {
                const rd_kafka_error_t *e = rd_kafka_group_result_error(groups[g]);
                const rd_kafka_topic_partition_list_t *pl = rd_kafka_group_result_partitions(groups[g]);

                if (e && rd_kafka_error_code(e) != RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND) {
                        rc = broker_err(ka, rd_kafka_error_code(e), "listing the group's offsets",
                                        errstr, errsz);
                        break;
                }
                for (i = 0; pl && i < pl->cnt && rc == JB_OK; i++)
                        if (pl->elems[i].offset >= 0 && !pl->elems[i].err)
                                rc = parts_add(parts, n, cap, pl->elems[i].topic,
                                               pl->elems[i].partition);
                if (rc == JB_ENOMEM)
                        jb_seterr(rc, errstr, errsz, "out of memory");
        }
out:
        if (req)
                rd_kafka_ListConsumerGroupOffsets_destroy(req);
        admin_free(ev, opt, q);
        return rc;
}

/* Committed offsets (when the handle has a group), watermarks and lag of every part. */
static int fill_offsets(struct kadmin *ka, struct kadmin_part *parts, size_t n, char *errstr,
                        size_t errsz)
{
        rd_kafka_topic_partition_list_t *pl;
        rd_kafka_resp_err_t err;
        size_t i;
        int rc = JB_OK;

        if (ka->group && n) {
                pl = rd_kafka_topic_partition_list_new((int)n);
                if (!pl)
                        return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                for (i = 0; i < n; i++)
                        rd_kafka_topic_partition_list_add(pl, parts[i].topic, parts[i].partition);
                err = rd_kafka_committed(ka->rk, pl, ka->timeout_ms);
                if (err) {
                        rd_kafka_topic_partition_list_destroy(pl);
                        return broker_err(ka, err, "reading the group's committed offsets", errstr,
                                          errsz);
                }
                for (i = 0; i < n && rc == JB_OK; i++) {
                        const rd_kafka_topic_partition_t *e = &pl->elems[i];

                        if (e->err)
                                rc = broker_err(ka, e->err, "reading a committed offset", errstr, errsz);
                        else
                                parts[i].committed = e->offset >= 0 ? e->offset : KADMIN_NO_OFFSET;
                }
                rd_kafka_topic_partition_list_destroy(pl);
                if (rc)
                        return rc;
        }
        for (i = 0; i < n; i++) {
                struct kadmin_part *p = &parts[i];

                err = rd_kafka_query_watermark_offsets(ka->rk, p->topic, p->partition, &p->low, &p->end,
                                                       ka->timeout_ms);
                if (err) {
                        char what[300];

                        snprintf(what, sizeof(what), "reading the offsets of %s partition %" PRId32,
                                 p->topic, p->partition);
                        return broker_err(ka, err, what, errstr, errsz);
                }
                if (p->committed != KADMIN_NO_OFFSET)
                        p->lag = p->end - p->committed;
                else
                        p->lag = p->end - p->low;
                if (p->lag < 0)
                        p->lag = 0;
        }
        return JB_OK;
}

/* Unless rc is already an error: sort parts, read their offsets and hand them to *out, *n.
 * On any error parts are freed and the error returned. */
static int parts_done(struct kadmin *ka, int rc, struct kadmin_part *parts, size_t np,
                      struct kadmin_part **out, size_t *n, char *errstr, size_t errsz)
{
        if (!rc) {
                if (np)
                        qsort(parts, np, sizeof(*parts), part_cmp);
                rc = fill_offsets(ka, parts, np, errstr, errsz);
        }
        if (rc) {
                kadmin_parts_free(parts, np);
                return rc;
        }
        *out = parts;
        *n = np;
        return JB_OK;
}

int kadmin_topic_parts(struct kadmin *ka, const char *topic, struct kadmin_part **out, size_t *n,
                       char *errstr, size_t errsz)
{
        struct kadmin_part *parts = NULL;
        size_t np = 0, cap = 0;
        int rc;

        *out = NULL;
        *n = 0;
        rc = add_topic(ka, topic, &parts, &np, &cap, errstr, errsz);
        return parts_done(ka, rc, parts, np, out, n, errstr, errsz);
}

int kadmin_topic_count(struct kadmin *ka, const char *topic, size_t *n, char *errstr, size_t errsz)
{
        struct kadmin_part *parts = NULL;
        size_t np = 0, cap = 0;
        int rc;

        *n = 0;
        rc = add_topic(ka, topic, &parts, &np, &cap, errstr, errsz);
        if (rc == JB_OK)
                *n = np;
        kadmin_parts_free(parts, np);
        return rc;
}

int kadmin_group_parts(struct kadmin *ka, const char *topic, struct kadmin_part **out, size_t *n,
                       char *errstr, size_t errsz)
{
        struct kadmin_part *parts = NULL;
        size_t np = 0, cap = 0;
        int rc = JB_OK;

        *out = NULL;
        *n = 0;
        if (topic) {
                rc = add_topic(ka, topic, &parts, &np, &cap, errstr, errsz);
                if (rc == JB_ENOTFOUND)
                        rc = JB_OK;
        }
        if (!rc && ka->group)
                rc = add_committed_topics(ka, &parts, &np, &cap, errstr, errsz);
        return parts_done(ka, rc, parts, np, out, n, errstr, errsz);
}

/* ---- the oldest unconsumed message ---- */

int kadmin_oldest(const struct kadmin_conn *conn, struct kadmin_part *parts, size_t n, char *errstr,
                  size_t errsz)
{
        rd_kafka_topic_partition_list_t *pl;
        rd_kafka_resp_err_t err;
        rd_kafka_t *rk;
        int64_t deadline;
        size_t i, want = 0;
        int timeout_ms = conn->timeout_ms > 0 ? conn->timeout_ms : KADMIN_TIMEOUT_MS_DEFAULT;
        int rc = JB_OK;

        for (i = 0; i < n; i++) {
                parts[i].oldest_ts_ms = KADMIN_NO_OFFSET;
                if (parts[i].lag > 0)
                        want++;
        }
        if (!want)
                return JB_OK;
        pl = rd_kafka_topic_partition_list_new((int)want);
        if (!pl)
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        for (i = 0; i < n; i++) {
                const struct kadmin_part *p = &parts[i];

                if (p->lag <= 0)
                        continue;
                rd_kafka_topic_partition_list_add(pl, p->topic, p->partition)->offset =
                        p->committed != KADMIN_NO_OFFSET && p->committed >= p->low ? p->committed
                                                                                   : p->low;
        }
        rk = new_consumer(conn, KADMIN_READER_GROUP, errstr, errsz);
        if (!rk) {
                rd_kafka_topic_partition_list_destroy(pl);
                return JB_EINPUT;
        }
        err = rd_kafka_assign(rk, pl);
        if (err) {
                rc = jb_seterr(JB_ETRANSIENT, errstr, errsz, "cannot read messages from Kafka at %s: %s",
                               conn->brokers, rd_kafka_err2str(err));
                goto out;
        }
        deadline = jb_mono_ms() + timeout_ms;
        while (want > 0 && jb_mono_ms() < deadline) {
                rd_kafka_message_t *rkm = rd_kafka_consumer_poll(rk, 200);
                const char *topic;

                if (!rkm)
                        continue;
                if (rkm->err) {
                        log_msg(LL_DEBUG, "kafka", "reading oldest messages: %s",
                                rd_kafka_message_errstr(rkm));
                        rd_kafka_message_destroy(rkm);
                        continue;
                }
                topic = rd_kafka_topic_name(rkm->rkt);
                for (i = 0; i < n; i++) {
                        struct kadmin_part *p = &parts[i];
                        rd_kafka_timestamp_type_t tt;

                        if (p->lag <= 0 || p->partition != rkm->partition ||
                            strcmp(p->topic, topic) != 0 || p->oldest_ts_ms != KADMIN_NO_OFFSET)
                                continue;
                        p->oldest_ts_ms = rd_kafka_message_timestamp(rkm, &tt);
                        if (p->oldest_ts_ms < 0)
                                p->oldest_ts_ms = KADMIN_NO_OFFSET;
                        want--; /* read once: the first message is the oldest */
                        break;
                }
                rd_kafka_message_destroy(rkm);
        }
        rd_kafka_assign(rk, NULL);
out:
        rd_kafka_topic_partition_list_destroy(pl);
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        return rc;
}

/* ---- replay targets and commit ---- */

void kadmin_targets_earliest(struct kadmin_part *parts, size_t n)
{
        size_t i;

        for (i = 0; i < n; i++)
                parts[i].target = parts[i].low;
}

int kadmin_targets_time(struct kadmin *ka, struct kadmin_part *parts, size_t n, int64_t ts_ms,
                        char *errstr, size_t errsz)
{
        rd_kafka_topic_partition_list_t *pl;
        rd_kafka_resp_err_t err;
        size_t i;
        int rc = JB_OK;

        if (!n)
                return JB_OK;
        pl = rd_kafka_topic_partition_list_new((int)n);
        if (!pl)
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        for (i = 0; i < n; i++)
                rd_kafka_topic_partition_list_add(pl, parts[i].topic, parts[i].partition)->offset =
                        ts_ms;
        err = rd_kafka_offsets_for_times(ka->rk, pl, ka->timeout_ms);
        if (err) {
                rd_kafka_topic_partition_list_destroy(pl);
                return broker_err(ka, err, "looking up offsets by time", errstr, errsz);
        }
        for (i = 0; i < n && rc == JB_OK; i++) {
                const rd_kafka_topic_partition_t *e =
                        rd_kafka_topic_partition_list_find(pl, parts[i].topic, parts[i].partition);

                if (!e || e->err) {
                        rc = broker_err(ka, e ? e->err : RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION,
                                        "looking up offsets by time", errstr, errsz);
                        break;
                }
                /* no message at or after ts_ms: the end (an offset before low cannot be) */
                if (e->offset < 0)
                        parts[i].target = parts[i].end;
                else
                        parts[i].target = e->offset < parts[i].low ? parts[i].low : e->offset;
        }
        rd_kafka_topic_partition_list_destroy(pl);
        return rc;
}

int kadmin_commit_targets(struct kadmin *ka, const struct kadmin_part *parts, size_t n, char *errstr,
                          size_t errsz)
{
        rd_kafka_topic_partition_list_t *pl, *check = NULL;
        rd_kafka_resp_err_t err;
        size_t i;
        int rc = JB_OK;

        if (!n)
                return JB_OK;
        pl = rd_kafka_topic_partition_list_new((int)n);
        check = rd_kafka_topic_partition_list_new((int)n);
        if (!pl || !check) {
                rc = jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                goto out;
        }
        for (i = 0; i < n; i++) {
                rd_kafka_topic_partition_list_add(pl, parts[i].topic, parts[i].partition)->offset =
                        parts[i].target;
                rd_kafka_topic_partition_list_add(check, parts[i].topic, parts[i].partition);
        }
        err = rd_kafka_assign(ka->rk, pl);
        if (!err)
                err = rd_kafka_commit(ka->rk, pl, 0);
        rd_kafka_assign(ka->rk, NULL);
        if (err) {
                rc = broker_err(ka, err, "committing the new offsets", errstr, errsz);
                goto out;
        }
        /* read them back: the commit is done only if the broker holds it */
        err = rd_kafka_committed(ka->rk, check, ka->timeout_ms);
        if (err) {
                rc = broker_err(ka, err, "reading back the committed offsets", errstr, errsz);
                goto out;
        }
        for (i = 0; i < n; i++) {
                const rd_kafka_topic_partition_t *e = &check->elems[i];

                if (e->err || e->offset != parts[i].target) {
                        rc = jb_seterr(JB_ETRANSIENT, errstr, errsz,
                                       "%s partition %" PRId32 " holds offset %" PRId64
                                       " after the commit of %" PRId64
                                       "%s%s: was the group started meanwhile?",
                                       e->topic, e->partition, e->offset, parts[i].target,
                                       e->err ? ": " : "", e->err ? rd_kafka_err2str(e->err) : "");
                        goto out;
                }
        }
out:
        if (pl)
                rd_kafka_topic_partition_list_destroy(pl);
        if (check)
                rd_kafka_topic_partition_list_destroy(check);
        return rc;
}

/* ---- topic creation ---- */

static int create_rc(rd_kafka_resp_err_t err)
{
        switch (err) {
        case RD_KAFKA_RESP_ERR__TIMED_OUT:
        case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
        case RD_KAFKA_RESP_ERR__TRANSPORT:
        case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
        case RD_KAFKA_RESP_ERR_NOT_CONTROLLER:
        case RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE:
                return JB_ETRANSIENT;
        default:
                return JB_EFATAL;
        }
}

static int topic_cfg(rd_kafka_NewTopic_t *nt, const char *name, const char *value, char *errstr,
                     size_t errsz)
{
        rd_kafka_resp_err_t err = rd_kafka_NewTopic_set_config(nt, name, value);

        if (err)
                return jb_seterr(JB_EFATAL, errstr, errsz, "topic setting %s=%s: %s", name, value,
                                 rd_kafka_err2str(err));
        return JB_OK;
}

enum { KADMIN_NT = 4 };    /* the topics jibe creates: files, events, dead letters, status */
#define KADMIN_MIN_ISR "2" /* min.insync.replicas of topics with 3 or more copies */

/* The KADMIN_NT topics' names and settings: names[i] (malloc'd) and nt[i], both freed by the caller. */
static int new_topics(const char *prefix, int partitions, int replication, int64_t retention_ms,
                      char *names[KADMIN_NT], rd_kafka_NewTopic_t *nt[KADMIN_NT], char *errstr,
                      size_t errsz)
{
        static const enum kconf_name base[KADMIN_NT] = {KN_FILES, KN_EVENTS, KN_DEAD, KN_STATUS};
        char e[512], ret[32], dret[32];
        int rc = JB_OK, i;

        snprintf(ret, sizeof(ret), "%" PRId64, retention_ms < 0 ? (int64_t)-1 : retention_ms);
        snprintf(dret, sizeof(dret), "%" PRId64,
                 retention_ms < 0                              ? (int64_t)-1
                 : retention_ms > KADMIN_DEAD_MIN_RETENTION_MS ? retention_ms
                                                               : (int64_t)KADMIN_DEAD_MIN_RETENTION_MS);
        for (i = 0; i < KADMIN_NT; i++) {
                size_t len = strlen(prefix) + strlen(kconf_base(base[i])) + 1;

                if (!(names[i] = malloc(len)) || kconf_name(names[i], len, prefix, base[i]))
                        return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                nt[i] = rd_kafka_NewTopic_new(names[i], partitions > 0 ? partitions : -1,
                                              replication > 0 ? replication : -1, e, sizeof(e));
                if (!nt[i])
                        return jb_seterr(JB_EFATAL, errstr, errsz, "topic %s: %s", names[i], e);
                if (base[i] == KN_STATUS)
                        rc = topic_cfg(nt[i], "cleanup.policy", "compact", errstr, errsz);
                else if ((rc = topic_cfg(nt[i], "cleanup.policy", "delete", errstr, errsz)) == JB_OK &&
                         (retention_ms != 0 || base[i] == KN_DEAD))
                        rc = topic_cfg(nt[i], "retention.ms", base[i] == KN_DEAD ? dret : ret, errstr,
                                       errsz);
                /* acks=all then waits for two copies, and one broker may be down without
                 * stopping the producers (replication 3 is the usual cluster) */
                if (!rc && replication >= 3)
                        rc = topic_cfg(nt[i], "min.insync.replicas", KADMIN_MIN_ISR, errstr, errsz);
                if (rc)
                        return rc;
        }
        return JB_OK;
}

/* The admin client that creates them; NULL with errstr set (JB_EINPUT or JB_EFATAL in *rc). */
static rd_kafka_t *topics_client(const struct kadmin_conn *conn, int *rc, char *errstr, size_t errsz)
{
        struct kconf_opts ko = {conn->brokers, "jibe-topics", KCONF_ADMIN, 0, NULL};
        rd_kafka_conf_t *conf;
        rd_kafka_t *rk;
        char e[512];

        if (!(conf = kconf_new(&ko, errstr, errsz))) {
                *rc = JB_EINPUT;
                return NULL;
        }
        if ((*rc = kconf_props(conf, KCONF_ADMIN, conn->props, conn->props ? conn->n_props : 0, errstr,
                               errsz))) {
                rd_kafka_conf_destroy(conf);
                return NULL;
        }
        if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof(e)))) {
                rd_kafka_conf_destroy(conf);
                *rc = jb_seterr(JB_EFATAL, errstr, errsz, "cannot create a Kafka admin client: %s", e);
        }
        return rk;
}

/* What the brokers said to CreateTopics: a topic that exists already is no error. */
static int created(rd_kafka_event_t *ev, char *errstr, size_t errsz)
{
        const rd_kafka_CreateTopics_result_t *res;
        const rd_kafka_topic_result_t **tr;
        size_t n, j;

        if (rd_kafka_event_error(ev))
                return jb_seterr(create_rc(rd_kafka_event_error(ev)), errstr, errsz,
                                 "cannot create topics: %s", rd_kafka_event_error_string(ev));
        if (!(res = rd_kafka_event_CreateTopics_result(ev)))
                return jb_seterr(JB_EFATAL, errstr, errsz, "unexpected answer to CreateTopics");
        tr = rd_kafka_CreateTopics_result_topics(res, &n);
        for (j = 0; j < n; j++) {
                rd_kafka_resp_err_t err = rd_kafka_topic_result_error(tr[j]);

                if (!err || err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
                        continue;
                return jb_seterr(create_rc(err), errstr, errsz, "cannot create topic %s: %s",
                                 rd_kafka_topic_result_name(tr[j]),
                                 rd_kafka_topic_result_error_string(tr[j])
                                         ? rd_kafka_topic_result_error_string(tr[j])
                                         : rd_kafka_err2str(err));
        }
        return JB_OK;
}

/* One CreateTopics call for nt, waited for (60 s at the most). */
static int create_and_wait(rd_kafka_t *rk, rd_kafka_NewTopic_t *nt[KADMIN_NT], const char *brokers,
                           char *errstr, size_t errsz)
{
        rd_kafka_AdminOptions_t *ao;
        rd_kafka_queue_t *rq = NULL;
        rd_kafka_event_t *ev = NULL;
        char e[512];
        int rc;

        ao = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
        if (!ao || rd_kafka_AdminOptions_set_request_timeout(ao, 30000, e, sizeof(e)) ||
            rd_kafka_AdminOptions_set_operation_timeout(ao, 30000, e, sizeof(e))) {
                rc = jb_seterr(JB_EFATAL, errstr, errsz, "Kafka admin options: %s",
                               ao ? e : "out of memory");
                goto out;
        }
        rq = rd_kafka_queue_new(rk);
        rd_kafka_CreateTopics(rk, nt, KADMIN_NT, ao, rq);
        ev = rd_kafka_queue_poll(rq, 60000);
        if (!ev)
                rc = jb_seterr(JB_ETRANSIENT, errstr, errsz,
                               "no answer from the Kafka brokers %s in 60 s", brokers);
        else
                rc = created(ev, errstr, errsz);
out:
        admin_free(ev, ao, rq);
        return rc;
}

int kadmin_create_topics(const struct kadmin_conn *conn, const char *prefix, int partitions,
                         int replication, int64_t retention_ms, char *errstr, size_t errsz)
{
        char *names[KADMIN_NT] = {NULL};
        rd_kafka_NewTopic_t *nt[KADMIN_NT] = {NULL};
        rd_kafka_t *rk = NULL;
        int rc, i;

        if (!conn->brokers || !*conn->brokers)
                return jb_seterr(JB_EFATAL, errstr, errsz, "no Kafka brokers configured");
        kconf_register_secrets(conn->props, conn->props ? conn->n_props : 0);
        rc = new_topics(prefix ? prefix : "", partitions, replication, retention_ms, names, nt, errstr,
                        errsz);
        if (!rc)
                rk = topics_client(conn, &rc, errstr, errsz);
        if (!rc)
                rc = create_and_wait(rk, nt, conn->brokers, errstr, errsz);
        for (i = 0; i < KADMIN_NT; i++) {
                if (nt[i])
                        rd_kafka_NewTopic_destroy(nt[i]);
                free(names[i]);
        }
        if (rk)
                rd_kafka_destroy(rk);
        return rc;
}
