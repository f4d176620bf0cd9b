/*
 * status_store_kafka.c - the status store in Kafka's compacted status topic (a status_store
 * backend, see common/status_store.h): one record per instance, key
 * STATUS_KAFKA_KEY_PREFIX<instance>, value the instance's status document.
 *
 * Owns: a producer made at the first put() (so `jibe status`, which only lists, makes none),
 * idempotent with acks=all; put() returns once the brokers confirmed the record. list()
 * reads every partition from its start to the end offsets seen at start (ktopic.h) and keeps
 * the latest value per instance key: the scanner's file records (keys are Access Anywhere
 * paths, "/...") and anything else without the prefix are skipped, a tombstone forgets the
 * instance, a value over STATUS_DOC_MAX is skipped with a warning in the log. Both clients' librdkafka configuration comes from kconf.h only.
 * Ownership: the store copies brokers, topic and props; values handed to the list callback
 * are the store's, valid during the call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "buf.h"
#include "kconf.h"
#include "ktopic.h"
#include "log.h"
#include "sig.h"
#include "sset.h"
#include "status_store.h"

#define SK_FLUSH_MS 30000
#define SK_PATIENCE_MS                                                                                  \
        5000 /* a topic just created needs a moment to get a leader; a missing
                                * one is said soon (jibe status; the publisher tries again) */

struct status_store_kafka {
        struct status_store ss;
        rd_kafka_t *rk; /* the producer, once made */
        char *brokers, *topic;
        char **props;
        size_t nprops;
        int failed; /* deliveries that failed since the last put */
        char last_err[256];
};

/* The latest record of one instance while list() reads. */
struct sk_doc {
        struct buf val;
        int32_t partition;
        int64_t offset;
};

struct sk_listing {
        struct sset latest; /* instance -> struct sk_doc * */
        size_t oversized;
        int rc;
};

static void sk_dr(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
        struct status_store_kafka *k = opaque;

        (void)rk;
        if (rkm->err) {
                k->failed++;
                snprintf(k->last_err, sizeof(k->last_err), "%s", rd_kafka_err2str(rkm->err));
        }
}

/* The configuration of one of the store's clients (kconf.h): the properties first, then
 * what the store relies on (so those win). NULL with errstr set on failure. */
static rd_kafka_conf_t *sk_conf(struct status_store_kafka *k, enum kconf_role role, char *errstr,
                                size_t errsz)
{
        struct kconf_opts ko = {k->brokers,
                                role == KCONF_PRODUCER ? "jibe-status" : "jibe-status-reader", role, 0,
                                k};
        rd_kafka_conf_t *conf = kconf_new(&ko, errstr, errsz);
        const char *def = "status store";

        if (!conf)
                return NULL;
        if (kconf_props(conf, role, (const char *const *)k->props, k->nprops, errstr, errsz) ||
            (role == KCONF_PRODUCER &&
             (kconf_set(conf, "enable.idempotence", "true", def, errstr, errsz) ||
              kconf_set(conf, "acks", "all", def, errstr, errsz)))) {
                rd_kafka_conf_destroy(conf);
                return NULL;
        }
        if (role == KCONF_PRODUCER)
                rd_kafka_conf_set_dr_msg_cb(conf, sk_dr);
        return conf;
}

static int sk_producer(struct status_store_kafka *k, char *errstr, size_t errsz)
{
        rd_kafka_conf_t *conf;
        char e[512];

        if (k->rk)
                return JB_OK;
        if (!(conf = sk_conf(k, KCONF_PRODUCER, errstr, errsz)))
                return JB_EFATAL;
        k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof(e));
        if (!k->rk) {
                rd_kafka_conf_destroy(conf);
                return jb_seterr(JB_EFATAL, errstr, errsz, "kafka: %s", e);
        }
        return JB_OK;
}

static int sk_put(struct status_store *ss, const char *instance, const void *doc, size_t n, char *errstr,
                  size_t errsz)
{
        struct status_store_kafka *k = (struct status_store_kafka *)ss;
        char key[sizeof(STATUS_KAFKA_KEY_PREFIX) + STATUS_INSTANCE_MAX];
        rd_kafka_resp_err_t err;
        long ms;
        int rc;

        if ((rc = status_instance_check(instance, errstr, errsz)) != JB_OK)
                return rc;
        if (n > STATUS_DOC_MAX)
                return jb_seterr(JB_ELIMIT, errstr, errsz,
                                 "the status of %s is %zu bytes, over the %u the store accepts",
                                 instance, n, STATUS_DOC_MAX);
        if ((rc = sk_producer(k, errstr, errsz)) != JB_OK)
                return rc;
        snprintf(key, sizeof(key), STATUS_KAFKA_KEY_PREFIX "%s", instance);
        k->failed = 0;
        for (;;) {
                err = rd_kafka_producev(k->rk, RD_KAFKA_V_TOPIC(k->topic),
                                        RD_KAFKA_V_KEY(key, strlen(key)),
                                        RD_KAFKA_V_VALUE((void *)(uintptr_t)doc, n),
                                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
                if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                        break;
                rd_kafka_poll(k->rk, 100);
        }
        if (err)
                return jb_seterr(JB_ETRANSIENT, errstr, errsz, "cannot write the status of %s to %s: %s",
                                 instance, k->topic, rd_kafka_err2str(err));
        ms = sig_bound_ms(SK_FLUSH_MS); /* shorter after SIGTERM */
        err = rd_kafka_flush(k->rk, (int)ms);
        if (err)
                return jb_seterr(JB_ETRANSIENT, errstr, errsz,
                                 "the brokers did not confirm the status of %s in %s within %ld s (%s)",
                                 instance, k->topic, ms / 1000, rd_kafka_err2str(err));
        if (k->failed)
                return jb_seterr(JB_ETRANSIENT, errstr, errsz, "cannot write the status of %s to %s: %s",
                                 instance, k->topic, k->last_err);
        return JB_OK;
}

static void sk_doc_free(struct sk_doc *d)
{
        if (d) {
                buf_clear(&d->val);
                free(d);
        }
}

/* One record of the status topic (ktopic_fn): the latest value per instance key. */
static int sk_record(void *opaque, const void *key, size_t klen, const void *val, size_t vlen,
                     int32_t partition, int64_t offset)
{
        struct sk_listing *L = opaque;
        size_t plen = strlen(STATUS_KAFKA_KEY_PREFIX);
        struct sk_doc *d;
        char *inst;
        int rc = JB_OK;

        if (!key || klen <= plen || memcmp(key, STATUS_KAFKA_KEY_PREFIX, plen) != 0)
                return JB_OK; /* a file record of the scanner's store, or not jibe's */
        if (!(inst = strndup((const char *)key + plen, klen - plen)))
                return JB_ENOMEM;
        d = sset_get(&L->latest, inst);
        if (!val || vlen > STATUS_DOC_MAX) { /* a tombstone forgets; too large: not read */
                if (val)
                        L->oversized++;
                if (d) {
                        sk_doc_free(d);
                        sset_del(&L->latest, inst);
                }
                free(inst);
                return JB_OK;
        }
        if (!d) {
                d = calloc(1, sizeof(*d));
                if (!d || sset_put(&L->latest, inst, d) != JB_OK) {
                        free(d);
                        free(inst);
                        return JB_ENOMEM;
                }
                buf_init(&d->val, STATUS_DOC_MAX);
        }
        buf_reset(&d->val);
        if (vlen && buf_append(&d->val, val, vlen) != JB_OK)
                rc = JB_ENOMEM;
        d->partition = partition;
        d->offset = offset;
        free(inst);
        return rc;
}

static int sk_list(struct status_store *ss, status_store_fn fn, void *opaque, char *errstr, size_t errsz)
{
        struct status_store_kafka *k = (struct status_store_kafka *)ss;
        struct ktopic_opts ko = {k->topic, "jibe-status-reader", "status", "the status topic",
                                 SK_PATIENCE_MS};
        rd_kafka_conf_t *conf = sk_conf(k, KCONF_CONSUMER, errstr, errsz);
        struct sk_listing L;
        const struct sset_ent *e;
        char where[512];
        size_t i = 0;
        int rc;

        if (!conf)
                return JB_EFATAL;
        memset(&L, 0, sizeof(L));
        sset_init(&L.latest);
        rc = ktopic_read(conf, &ko, sk_record, &L, errstr, errsz);
        while (!rc && (i = sset_next(&L.latest, i, &e)) != 0) {
                struct sk_doc *d = e->v;

                snprintf(where, sizeof(where), "Kafka %s [%d] @%lld", k->topic, (int)d->partition,
                         (long long)d->offset);
                rc = fn(opaque, e->s, d->val.len ? d->val.p : "", d->val.len, where);
        }
        for (i = 0; (i = sset_next(&L.latest, i, &e)) != 0;)
                sk_doc_free(e->v);
        sset_clear(&L.latest);
        if (L.oversized)
                log_msg(LL_WARN, "status",
                        "%zu status record(s) of %s are larger than a status document can be (%u bytes) and "
                        "were not read",
                        L.oversized, k->topic, STATUS_DOC_MAX);
        return rc;
}

static void sk_destroy(struct status_store *ss)
{
        struct status_store_kafka *k = (struct status_store_kafka *)ss;
        size_t i;

        if (k->rk) {
                rd_kafka_flush(k->rk, (int)sig_bound_ms(SK_FLUSH_MS));
                rd_kafka_destroy(k->rk);
        }
        for (i = 0; i < k->nprops; i++)
                free(k->props[i]);
        free(k->props);
        free(k->brokers);
        free(k->topic);
        free(k);
}

static const struct status_store_ops sk_ops = {sk_put, sk_list, sk_destroy};

struct status_store *status_store_kafka_new(const char *brokers, const char *topic,
                                            const char *const *props, char *errstr, size_t errsz)
{
        struct status_store_kafka *k;
        rd_kafka_conf_t *conf;
        size_t n = 0, i;

        if (!brokers || !*brokers || !topic || !*topic) {
                jb_seterr(JB_EFATAL, errstr, errsz, "the status store needs kafka.brokers and a topic");
                return NULL;
        }
        if (!(k = calloc(1, sizeof(*k)))) {
                jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                return NULL;
        }
        k->ss.ops = &sk_ops;
        while (props && props[n])
                n++;
        k->props = calloc(n + 1, sizeof(*k->props));
        k->brokers = strdup(brokers);
        k->topic = strdup(topic);
        if (!k->props || !k->brokers || !k->topic)
                goto oom;
        for (i = 0; i < n; i++)
                if (!(k->props[k->nprops++] = strdup(props[i])))
                        goto oom;
        /* Check the properties now (no connection is made): a mistake shows at start. */
        if (!(conf = sk_conf(k, KCONF_CONSUMER, errstr, errsz))) {
                sk_destroy(&k->ss);
                return NULL;
        }
        rd_kafka_conf_destroy(conf);
        return &k->ss;
oom:
        jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        sk_destroy(&k->ss);
        return NULL;
}
