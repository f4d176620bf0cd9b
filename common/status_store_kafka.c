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
 * instance, a value over STATUS_DOC_MAX is skipped with a warning in the log. The topic's
 * clients (producer, loader) are ktopic.h's, shared with the scanner's store.
 * Ownership: the store copies brokers, topic and props; values handed to the list callback
 * are the store's, valid during the call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ktopic.h"
#include "log.h"
#include "sset.h"
#include "status_store.h"

#define SK_PATIENCE_MS                                                                                  \
        5000 /* a topic just created needs a moment to get a leader; a missing
                                * one is said soon (jibe status; the publisher tries again) */

struct status_store_kafka {
        struct status_store ss;
        struct ktopic *t; /* the topic, its producer once made, its loader (ktopic.h) */
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

static int sk_put(struct status_store *ss, const char *instance, const void *doc, size_t n, char *errstr,
                  size_t errsz)
{
        struct status_store_kafka *k = (struct status_store_kafka *)ss;
        char key[sizeof(STATUS_KAFKA_KEY_PREFIX) + STATUS_INSTANCE_MAX];
        int rc;

        if ((rc = status_instance_check(instance, errstr, errsz)) != JB_OK)
                return rc;
        if (n > STATUS_DOC_MAX)
                return jb_seterr(JB_ELIMIT, errstr, errsz,
                                 "the status of %s is %zu bytes, over the %u the store accepts",
                                 instance, n, STATUS_DOC_MAX);
        snprintf(key, sizeof(key), STATUS_KAFKA_KEY_PREFIX "%s", instance);
        if ((rc = ktopic_put(k->t, key, strlen(key), doc, n, errstr, errsz)) == JB_OK)
                rc = ktopic_flush(k->t, errstr, errsz);
        return rc;
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
        struct ktopic_opts ko = {NULL, "jibe-status-reader", "status", "the status topic",
                                 SK_PATIENCE_MS};
        struct sk_listing L;
        const struct sset_ent *e;
        char where[512];
        size_t i = 0;
        int rc;

        memset(&L, 0, sizeof(L));
        sset_init(&L.latest);
        rc = ktopic_load(k->t, &ko, sk_record, &L, errstr, errsz);
        while (!rc && (i = sset_next(&L.latest, i, &e)) != 0) {
                struct sk_doc *d = e->v;

                snprintf(where, sizeof(where), "Kafka %s [%d] @%lld", ktopic_topic(k->t),
                         (int)d->partition, (long long)d->offset);
                rc = fn(opaque, e->s, d->val.len ? d->val.p : "", d->val.len, where);
        }
        for (i = 0; (i = sset_next(&L.latest, i, &e)) != 0;)
                sk_doc_free(e->v);
        sset_clear(&L.latest);
        if (L.oversized)
                log_msg(LL_WARN, "status",
                        "%zu status record(s) of %s are larger than a status document can be (%u bytes) and "
                        "were not read",
                        L.oversized, ktopic_topic(k->t), STATUS_DOC_MAX);
        return rc;
}

static void sk_destroy(struct status_store *ss)
{
        struct status_store_kafka *k = (struct status_store_kafka *)ss;

        ktopic_free(k->t);
        free(k);
}

static const struct status_store_ops sk_ops = {sk_put, sk_list, sk_destroy};

struct status_store *status_store_kafka_new(const char *brokers, const char *topic,
                                            const char *const *props, char *errstr, size_t errsz)
{
        struct status_store_kafka *k;

        if (!brokers || !*brokers || !topic || !*topic) {
                jb_seterr(JB_EFATAL, errstr, errsz, "the status store needs kafka.brokers and a topic");
                return NULL;
        }
        if (!(k = calloc(1, sizeof(*k)))) {
                jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                return NULL;
        }
        k->ss.ops = &sk_ops;
        if (!(k->t = ktopic_new(brokers, topic, props, "jibe-status", errstr, errsz))) {
                free(k);
                return NULL;
        }
        return &k->ss;
}
