/*
 * ktopic.c - read a Kafka topic once, from the start of every partition to the end offsets
 * seen at start (see ktopic.h). Moved here from producer/scan_store_kafka.c so that the
 * scanner's store and the status store read the status topic the same way.
 *
 * Owns: one consumer that never subscribes (it assigns every partition that holds records),
 * the metadata and watermarks asked at start, and the waits: a topic just created needs a
 * moment to get a leader (patience_ms), and waits are cut into slices so that a stop
 * request ends them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "kconf.h"
#include "ktopic.h"
#include "log.h"
#include "sig.h"

#define KT_META_MS 2000  /* one metadata or offsets request; the wait retries them */
#define KT_SLICE_MS 1000 /* waits are cut into slices so that a stop request ends them */
#define KT_IDLE_MS 5000  /* no record for this long while some are due: the brokers went away */

struct kt_read {
        const char *topic, *who, *what;
        rd_kafka_t *rk;
        rd_kafka_topic_t *rkt;
        const struct rd_kafka_metadata *md;
        rd_kafka_topic_partition_list_t *parts; /* the partitions with records to read */
        int64_t *ends;                          /* end offset of each partition, -1 once read */
        int np, remaining;
        char e2[512];
};

static void kt_forget_positions(struct kt_read *R)
{
        if (R->md)
                rd_kafka_metadata_destroy(R->md);
        R->md = NULL;
        free(R->ends);
        R->ends = NULL;
        if (R->parts)
                rd_kafka_topic_partition_list_destroy(R->parts);
        R->parts = NULL;
        R->remaining = 0;
        R->np = 0;
}

/* The topic's partitions and where each ends now. JB_ETRANSIENT: try again. */
static int kt_positions(struct kt_read *R, char *errstr, size_t errsz)
{
        const struct rd_kafka_metadata *md = NULL;
        int p;

        kt_forget_positions(R);
        if (rd_kafka_metadata(R->rk, 0, R->rkt, &md, KT_META_MS) != RD_KAFKA_RESP_ERR_NO_ERROR || !md ||
            md->topic_cnt != 1 || md->topics[0].err) {
                if (md)
                        rd_kafka_metadata_destroy(md);
                return jb_seterr(JB_ETRANSIENT, errstr, errsz,
                                 "cannot read %s %s (does it exist? create it with "
                                 "'jibe topics --create')",
                                 R->what, R->topic);
        }
        R->md = md;
        R->np = md->topics[0].partition_cnt;
        R->ends = calloc((size_t)R->np + 1, sizeof(*R->ends));
        R->parts = rd_kafka_topic_partition_list_new(R->np);
        if (!R->ends || !R->parts)
                return JB_ENOMEM;
        for (p = 0; p < R->np; p++) {
                int64_t lo = 0, hi = 0;
                int32_t id = md->topics[0].partitions[p].id;

                if (md->topics[0].partitions[p].err ||
                    rd_kafka_query_watermark_offsets(R->rk, R->topic, id, &lo, &hi, KT_META_MS))
                        return jb_seterr(JB_ETRANSIENT, errstr, errsz,
                                         "cannot read offsets of %s [%d] yet", R->topic, id);
                R->ends[p] = hi;
                if (hi > lo) {
                        rd_kafka_topic_partition_list_add(R->parts, R->topic, id)->offset = lo;
                        R->remaining++;
                }
        }
        return JB_OK;
}

/* kt_positions(), again while the topic is not ready, for patience_ms at the most. */
static int kt_wait(struct kt_read *R, long patience_ms, char *errstr, size_t errsz)
{
        int rc, waited = 0, pause = 50, slices = 0; /* a new topic gets its leader within ms: ask soon */

        R->e2[0] = '\0';
        for (;;) {
                rc = kt_positions(R, errstr, errsz);
                if (rc == JB_ETRANSIENT && sig_stop_requested())
                        return jb_seterr(JB_ETRANSIENT, errstr, errsz,
                                         "stopped while waiting for %s %s (%s)", R->what, R->topic,
                                         R->e2[0] ? R->e2 : "no answer");
                if (rc != JB_ETRANSIENT || waited >= patience_ms)
                        return rc;
                if (!waited || (pause == KT_SLICE_MS && ++slices % 10 == 0)) /* first, then every 10 s */
                        log_msg(LL_INFO, R->who, "waiting for %s %s: %s", R->what, R->topic, errstr);
                snprintf(R->e2, sizeof(R->e2), "%s", errstr);
                rd_kafka_poll(R->rk, pause);
                waited += pause;
                pause = pause * 2 < KT_SLICE_MS ? pause * 2 : KT_SLICE_MS;
        }
}

/* One record: handed to fn when it lies before its partition's end seen at start. */
static int kt_record(struct kt_read *R, const rd_kafka_message_t *rkm, ktopic_fn fn, void *opaque)
{
        int p, idx = -1, rc = JB_OK;

        for (p = 0; p < R->np; p++)
                if (R->md->topics[0].partitions[p].id == rkm->partition)
                        idx = p;
        if (idx < 0 || R->ends[idx] < 0)
                return JB_OK;
        if (rkm->offset < R->ends[idx])
                rc = fn(opaque, rkm->key, rkm->key ? rkm->key_len : 0, rkm->payload,
                        rkm->payload ? rkm->len : 0, rkm->partition, rkm->offset);
        if (rkm->offset + 1 >= R->ends[idx]) {
                R->ends[idx] = -1; /* done with this partition */
                R->remaining--;
        }
        return rc;
}

static int kt_read_all(struct kt_read *R, ktopic_fn fn, void *opaque, char *errstr, size_t errsz)
{
        int rc = JB_OK, idle = 0;

        if (R->remaining && rd_kafka_assign(R->rk, R->parts))
                return jb_seterr(JB_ETRANSIENT, errstr, errsz, "cannot read %s", R->topic);
        while (R->remaining > 0) {
                rd_kafka_message_t *rkm = rd_kafka_consumer_poll(R->rk, KT_SLICE_MS);

                if (sig_stop_requested()) {
                        if (rkm)
                                rd_kafka_message_destroy(rkm);
                        return jb_seterr(JB_ETRANSIENT, errstr, errsz, "stopped while reading %s %s",
                                         R->what, R->topic);
                }
                /* Only a record is progress: error events (a broker that went away is said
                 * again and again) must not keep the reading alive past KT_IDLE_MS. */
                if (!rkm || rkm->err) {
                        if (rkm && rkm->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                                log_msg(LL_WARN, R->who, "reading %s: %s", R->topic,
                                        rd_kafka_message_errstr(rkm));
                        if (rkm)
                                rd_kafka_message_destroy(rkm);
                        if ((idle += KT_SLICE_MS) < KT_IDLE_MS)
                                continue;
                        return jb_seterr(JB_ETRANSIENT, errstr, errsz,
                                         "%s %s stopped answering while it was read", R->what, R->topic);
                }
                idle = 0;
                rc = kt_record(R, rkm, fn, opaque);
                rd_kafka_message_destroy(rkm);
                if (rc)
                        return rc;
        }
        return JB_OK;
}

int ktopic_read(struct rd_kafka_conf_s *conf, const struct ktopic_opts *o, ktopic_fn fn, void *opaque,
                char *errstr, size_t errsz)
{
        struct kt_read R;
        const char *def = "topic reader";
        int rc;

        memset(&R, 0, sizeof(R));
        R.topic = o->topic;
        R.who = o->who ? o->who : "kafka";
        R.what = o->what ? o->what : "the topic";
        if (kconf_set(conf, "enable.auto.commit", "false", def, errstr, errsz) ||
            kconf_set(conf, "group.id", o->group, def, errstr, errsz) ||
            kconf_set(conf, "enable.partition.eof", "false", def, errstr, errsz)) {
                rd_kafka_conf_destroy(conf);
                return JB_EFATAL;
        }
        R.rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, R.e2, sizeof(R.e2));
        if (!R.rk) {
                rd_kafka_conf_destroy(conf);
                return jb_seterr(JB_EFATAL, errstr, errsz, "kafka: %s", R.e2);
        }
        R.rkt = rd_kafka_topic_new(R.rk, o->topic, NULL);
        rc = R.rkt ? kt_wait(&R, o->patience_ms, errstr, errsz)
                   : jb_seterr(JB_EFATAL, errstr, errsz, "kafka: cannot use the topic %s", o->topic);
        if (!rc)
                rc = kt_read_all(&R, fn, opaque, errstr, errsz);
        kt_forget_positions(&R);
        if (R.rkt)
                rd_kafka_topic_destroy(R.rkt);
        rd_kafka_consumer_close(R.rk);
        rd_kafka_destroy(R.rk);
        return rc;
}

/* ---- keyed records written (struct ktopic) ---- */

struct ktopic {
        rd_kafka_t *rk; /* the producer, once made */
        char *brokers, *topic, *client_id, *reader_id;
        char **props; /* NULL-terminated copies */
        int failed;   /* deliveries refused since the last flush */
        char last_err[256];
};

static void kt_dr(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
        struct ktopic *t = opaque;

        (void)rk;
        if (rkm->err) {
                t->failed++;
                snprintf(t->last_err, sizeof(t->last_err), "%s", rd_kafka_err2str(rkm->err));
        }
}

/* The configuration of one of t's clients (kconf.h): the properties first, then what the
 * records rely on (so those win). NULL with errstr set on failure. */
static rd_kafka_conf_t *kt_conf(struct ktopic *t, enum kconf_role role, char *errstr, size_t errsz)
{
        struct kconf_opts ko = {t->brokers, role == KCONF_PRODUCER ? t->client_id : t->reader_id, role,
                                0, t};
        rd_kafka_conf_t *conf = kconf_new(&ko, errstr, errsz);
        const char *def = "status topic";

        if (!conf)
                return NULL;
        if (kconf_props(conf, role, (const char *const *)t->props, KCONF_NULL_ENDED, errstr, errsz) ||
            (role == KCONF_PRODUCER &&
             (kconf_set(conf, "enable.idempotence", "true", def, errstr, errsz) ||
              kconf_set(conf, "acks", "all", def, errstr, errsz)))) {
                rd_kafka_conf_destroy(conf);
                return NULL;
        }
        if (role == KCONF_PRODUCER)
                rd_kafka_conf_set_dr_msg_cb(conf, kt_dr);
        return conf;
}

struct ktopic *ktopic_new(const char *brokers, const char *topic, const char *const *props,
                          const char *client_id, char *errstr, size_t errsz)
{
        struct ktopic *t = calloc(1, sizeof(*t));
        rd_kafka_conf_t *conf;
        size_t n = 0, i;

        if (!t)
                goto oom;
        while (props && props[n])
                n++;
        t->props = calloc(n + 1, sizeof(*t->props));
        t->brokers = strdup(brokers ? brokers : "");
        t->topic = strdup(topic ? topic : "");
        t->client_id = strdup(client_id ? client_id : "jibe");
        if (!t->props || !t->brokers || !t->topic || !t->client_id ||
            !(t->reader_id = malloc(strlen(t->client_id) + sizeof("-reader"))))
                goto oom;
        sprintf(t->reader_id, "%s-reader", t->client_id);
        for (i = 0; i < n; i++)
                if (!(t->props[i] = strdup(props[i])))
                        goto oom;
        if (!(conf = kt_conf(t, KCONF_CONSUMER, errstr, errsz))) {
                ktopic_free(t);
                return NULL;
        }
        rd_kafka_conf_destroy(conf);
        return t;
oom:
        jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        ktopic_free(t);
        return NULL;
}

const char *ktopic_topic(const struct ktopic *t)
{
        return t->topic;
}

int ktopic_put(struct ktopic *t, const void *key, size_t klen, const void *val, size_t vlen,
               char *errstr, size_t errsz)
{
        rd_kafka_resp_err_t err;
        rd_kafka_conf_t *conf;
        char e[512];

        if (!t->rk) {
                if (!(conf = kt_conf(t, KCONF_PRODUCER, errstr, errsz)))
                        return JB_EFATAL;
                if (!(t->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof(e)))) {
                        rd_kafka_conf_destroy(conf);
                        return jb_seterr(JB_EFATAL, errstr, errsz, "kafka: %s", e);
                }
        }
        for (;;) {
                err = rd_kafka_producev(t->rk, RD_KAFKA_V_TOPIC(t->topic),
                                        RD_KAFKA_V_KEY((void *)(uintptr_t)key, klen),
                                        RD_KAFKA_V_VALUE((void *)(uintptr_t)val, val ? vlen : 0),
                                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
                if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                        break;
                rd_kafka_poll(t->rk, 100);
        }
        if (err)
                return jb_seterr(JB_ETRANSIENT, errstr, errsz, "cannot write to %s: %s", t->topic,
                                 rd_kafka_err2str(err));
        rd_kafka_poll(t->rk, 0);
        return JB_OK;
}

int ktopic_flush(struct ktopic *t, char *errstr, size_t errsz)
{
        long ms;
        rd_kafka_resp_err_t err;

        if (!t->rk)
                return JB_OK;
        ms = sig_bound_ms(KTOPIC_FLUSH_MS);
        if ((err = rd_kafka_flush(t->rk, (int)ms)) != RD_KAFKA_RESP_ERR_NO_ERROR)
                return jb_seterr(JB_ETRANSIENT, errstr, errsz,
                                 "the brokers did not confirm what was written to %s within %ld s (%s)",
                                 t->topic, ms / 1000, rd_kafka_err2str(err));
        if (t->failed) {
                t->failed = 0;
                return jb_seterr(JB_ETRANSIENT, errstr, errsz, "the brokers refused a record of %s: %s",
                                 t->topic, t->last_err);
        }
        return JB_OK;
}

int ktopic_load(struct ktopic *t, const struct ktopic_opts *o, ktopic_fn fn, void *opaque, char *errstr,
                size_t errsz)
{
        struct ktopic_opts ko = *o;
        rd_kafka_conf_t *conf = kt_conf(t, KCONF_CONSUMER, errstr, errsz);

        if (!conf)
                return JB_EFATAL;
        ko.topic = t->topic;
        return ktopic_read(conf, &ko, fn, opaque, errstr, errsz);
}

void ktopic_free(struct ktopic *t)
{
        size_t i;

        if (!t)
                return;
        if (t->rk) {
                rd_kafka_flush(t->rk, (int)sig_bound_ms(KTOPIC_FLUSH_MS));
                rd_kafka_destroy(t->rk);
        }
        for (i = 0; t->props && t->props[i]; i++)
                free(t->props[i]);
        free(t->props);
        free(t->brokers);
        free(t->topic);
        free(t->client_id);
        free(t->reader_id);
        free(t);
}
