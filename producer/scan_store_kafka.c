/*
 * scan_store_kafka.c - the scanner's memory in Kafka's compacted status topic (a scan_store
 * backend, see common/scan_store.h).
 *
 * Owns: one record per processed log file, key = the file's Access Anywhere path
 * ("<date folder>/<name>"), value a struct msg_status (msg.h; the bare "done" of older
 * versions still reads); forgetting a folder writes a tombstone per file, which compaction
 * removes. A value it cannot read counts as not processed (the file is published again:
 * a duplicate, never a loss). load() reads every partition from its start to the end offset
 * seen at start (ktopic.h; tombstones cancel earlier records) and skips the records of the
 * instances' status (keys STATUS_KAFKA_KEY_PREFIX..., status_store.h); save() and forget() produce
 * idempotently with acks=all and return only when the broker confirmed every record.
 * Ownership: the store owns its rd_kafka_t; strings passed in are copied by librdkafka.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "buf.h"
#include "kconf.h"
#include "ktopic.h"
#include "log.h"
#include "msg.h"
#include "sig.h"
#include "scan_store.h"
#include "sset.h"
#include "status_store.h"

#define KV_FLUSH_MS 30000
#define KV_LOAD_PATIENCE_MS 60000 /* a topic just created needs a moment to get a leader */

struct scan_store_kafka {
        struct scan_store ss;
        rd_kafka_t *rk; /* producer */
        char *brokers;
        char *topic;
        char **props;
        size_t nprops;
        int failed; /* deliveries that failed since the last flush */
        char last_err[256];
};

static void kv_dr(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
        struct scan_store_kafka *k = opaque;

        (void)rk;
        if (rkm->err) {
                k->failed++;
                snprintf(k->last_err, sizeof(k->last_err), "%s", rd_kafka_err2str(rkm->err));
        }
}

/*
 * The configuration of one of the store's clients (kconf.h): role KCONF_PRODUCER for the
 * writer, KCONF_CONSUMER for the loader; the properties first, then what the store relies on
 * (so those win). NULL with errstr set on failure.
 */
static rd_kafka_conf_t *kv_conf(struct scan_store_kafka *k, enum kconf_role role, char *errstr,
                                size_t errsz)
{
        struct kconf_opts ko = {k->brokers,
                                role == KCONF_PRODUCER ? "jibe-scan-status" : "jibe-scan-status-loader",
                                role, 0, k};
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
                rd_kafka_conf_set_dr_msg_cb(conf, kv_dr);
        return conf;
}

static int kv_produce(struct scan_store_kafka *k, const char *folder, const char *name, int tomb,
                      char *errstr, size_t errsz)
{
        size_t fl = strlen(folder), nl = strlen(name);
        char *key = malloc(fl + nl + 2);
        struct msg_status st = {MSG_STATUS_DONE, msg_now_ms()};
        struct buf val;
        rd_kafka_resp_err_t err;

        buf_init(&val, 256);
        if (!key || (!tomb && msg_status_encode(&st, &val))) {
                free(key);
                buf_clear(&val);
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        }
        memcpy(key, folder, fl);
        key[fl] = '/';
        memcpy(key + fl + 1, name, nl + 1);
        for (;;) {
                err = rd_kafka_producev(k->rk, RD_KAFKA_V_TOPIC(k->topic),
                                        RD_KAFKA_V_KEY(key, fl + nl + 1),
                                        RD_KAFKA_V_VALUE((tomb ? NULL : val.p), (tomb ? 0 : val.len)),
                                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
                if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                        break;
                rd_kafka_poll(k->rk, 100);
        }
        free(key);
        buf_clear(&val);
        if (err)
                return jb_seterr(JB_ETRANSIENT, errstr, errsz, "cannot write to %s: %s", k->topic,
                                 rd_kafka_err2str(err));
        rd_kafka_poll(k->rk, 0);
        return JB_OK;
}

static int kv_flush(struct scan_store_kafka *k, char *errstr, size_t errsz)
{
        long ms = sig_bound_ms(KV_FLUSH_MS); /* shorter after SIGTERM */
        rd_kafka_resp_err_t err = rd_kafka_flush(k->rk, (int)ms);

        if (err)
                return jb_seterr(JB_ETRANSIENT, errstr, errsz,
                                 "the broker did not confirm the scanner state in %ld s (%s)", ms / 1000,
                                 rd_kafka_err2str(err));
        if (k->failed) {
                k->failed = 0;
                return jb_seterr(JB_ETRANSIENT, errstr, errsz, "cannot save the scanner state in %s: %s",
                                 k->topic, k->last_err);
        }
        return JB_OK;
}

static int kv_save(struct scan_store *ss, const char *folder, const struct sset *done,
                   const struct sset *added, char *errstr, size_t errsz)
{
        struct scan_store_kafka *k = (struct scan_store_kafka *)ss;
        const struct sset_ent *e;
        size_t i = 0;
        int rc = JB_OK;

        (void)done;
        while (!rc && (i = sset_next(added, i, &e)) != 0)
                rc = kv_produce(k, folder, e->s, 0, errstr, errsz);
        if (!rc)
                rc = kv_flush(k, errstr, errsz);
        return rc;
}

static int kv_forget(struct scan_store *ss, const char *folder, const struct sset *done, char *errstr,
                     size_t errsz)
{
        struct scan_store_kafka *k = (struct scan_store_kafka *)ss;
        const struct sset_ent *e;
        size_t i = 0;
        int rc = JB_OK;

        while (!rc && (i = sset_next(done, i, &e)) != 0)
                rc = kv_produce(k, folder, e->s, 1, errstr, errsz);
        if (!rc)
                rc = kv_flush(k, errstr, errsz);
        return rc;
}

/* One load() in progress: what it has read. */
struct kv_loading {
        struct scan_store_kafka *k;
        struct sset seen; /* the keys marked done */
        size_t unreadable, others;
        char e2[512]; /* the last record that did not read */
};

/* One record of the status topic (ktopic_fn): marks its key done or not done. Keys of the
 * instances' status (STATUS_KAFKA_KEY_PREFIX) are not files: skipped. */
static int kv_load_record(void *opaque, const void *k, size_t klen, const void *val, size_t vlen,
                          int32_t partition, int64_t offset)
{
        struct kv_loading *L = opaque;
        size_t plen = strlen(STATUS_KAFKA_KEY_PREFIX);
        struct msg_status st;
        char *key;
        int rc = JB_OK;

        (void)partition;
        (void)offset;
        if (!k || !klen)
                return JB_OK;
        if (klen >= plen && !memcmp(k, STATUS_KAFKA_KEY_PREFIX, plen)) {
                L->others++;
                return JB_OK;
        }
        if (!(key = strndup(k, klen)))
                return JB_ENOMEM;
        memset(&st, 0, sizeof(st));
        if (val && msg_status_decode(val, vlen, &st, L->e2, sizeof(L->e2)) == JB_OK)
                rc = sset_put(&L->seen, key, NULL);
        else
                sset_del(&L->seen, key); /* forgotten, or unreadable: offered again */
        if (val && !st.state)
                L->unreadable++;
        free(key);
        return rc;
}

/* Says what did not read, then hands every file marked done to fn. */
static int kv_load_report(struct kv_loading *L, scan_store_fn fn, void *opaque)
{
        const struct sset_ent *e;
        size_t i = 0;
        int rc = JB_OK;

        if (L->unreadable)
                log_msg(LL_WARN, "scanner",
                        "%zu records of the status topic %s are not status records jibe can read (%s): "
                        "those files count as not processed and are published again",
                        L->unreadable, L->k->topic, L->e2);
        while (!rc && (i = sset_next(&L->seen, i, &e)) != 0) {
                char *slash = strrchr(e->s, '/');

                if (!slash)
                        continue;
                *slash = '\0';
                rc = fn(opaque, e->s, slash + 1);
                *slash = '/';
        }
        return rc;
}

static int kv_load(struct scan_store *ss, scan_store_fn fn, void *opaque, char *errstr, size_t errsz)
{
        struct kv_loading L = {.k = (struct scan_store_kafka *)ss};
        struct ktopic_opts ko = {L.k->topic, "jibe-scan-state-loader", "scanner", "the status topic",
                                 KV_LOAD_PATIENCE_MS};
        rd_kafka_conf_t *conf = kv_conf(L.k, KCONF_CONSUMER, errstr, errsz);
        int rc;

        if (!conf)
                return JB_EFATAL;
        sset_init(&L.seen);
        rc = ktopic_read(conf, &ko, kv_load_record, &L, errstr, errsz);
        if (!rc)
                rc = kv_load_report(&L, fn, opaque);
        sset_clear(&L.seen);
        return rc;
}

static void kv_destroy(struct scan_store *ss)
{
        struct scan_store_kafka *k = (struct scan_store_kafka *)ss;
        size_t i;

        if (k->rk) {
                rd_kafka_flush(k->rk, (int)sig_bound_ms(KV_FLUSH_MS));
                rd_kafka_destroy(k->rk);
        }
        for (i = 0; i < k->nprops; i++)
                free(k->props[i]);
        free(k->props);
        free(k->brokers);
        free(k->topic);
        free(k);
}

static const struct scan_store_ops kv_ops = {kv_load, kv_save, kv_forget, kv_destroy};

struct scan_store *scan_store_kafka_new(const char *brokers, const char *topic, const char *const *props,
                                        char *errstr, size_t errsz)
{
        struct scan_store_kafka *k = calloc(1, sizeof(*k));
        rd_kafka_conf_t *conf;
        char e[512];
        size_t n = 0, i;

        if (!k) {
                jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                return NULL;
        }
        k->ss.ops = &kv_ops;
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
        if (!(conf = kv_conf(k, KCONF_PRODUCER, errstr, errsz))) {
                kv_destroy(&k->ss);
                return NULL;
        }
        k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof(e));
        if (!k->rk) {
                rd_kafka_conf_destroy(conf);
                jb_seterr(JB_EFATAL, errstr, errsz, "kafka: %s", e);
                kv_destroy(&k->ss);
                return NULL;
        }
        return &k->ss;
oom:
        jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        kv_destroy(&k->ss);
        return NULL;
}
