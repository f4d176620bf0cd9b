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
 * instances' status (keys STATUS_KAFKA_KEY_PREFIX..., status_store.h) and the parser's file
 * hashes (keys FILEHASH_KEY_PREFIX..., filehash.h); save() and forget() produce
 * idempotently with acks=all and return only when the broker confirmed every record. The
 * Kafka clients are ktopic.h's (shared with the status store), so this file, like every
 * other stage file, does not know librdkafka.
 * Ownership: the store owns its struct ktopic; strings passed in are copied.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "filehash.h"
#include "ktopic.h"
#include "log.h"
#include "msg.h"
#include "scan_store.h"
#include "sset.h"
#include "status_store.h"

#define KV_LOAD_PATIENCE_MS 60000 /* a topic just created needs a moment to get a leader */

struct scan_store_kafka {
        struct scan_store ss;
        struct ktopic *t; /* the status topic: its producer and loader (ktopic.h) */
};

static int kv_produce(struct scan_store_kafka *k, const char *folder, const char *name, int tomb,
                      char *errstr, size_t errsz)
{
        size_t fl = strlen(folder), nl = strlen(name);
        char *key = malloc(fl + nl + 2);
        struct msg_status st = {MSG_STATUS_DONE, msg_now_ms()};
        struct buf val;
        int rc;

        buf_init(&val, 256);
        if (!key || (!tomb && msg_status_encode(&st, &val))) {
                free(key);
                buf_clear(&val);
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        }
        memcpy(key, folder, fl);
        key[fl] = '/';
        memcpy(key + fl + 1, name, nl + 1);
        rc = ktopic_put(k->t, key, fl + nl + 1, tomb ? NULL : val.p, tomb ? 0 : val.len, errstr, errsz);
        free(key);
        buf_clear(&val);
        return rc;
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
                rc = ktopic_flush(k->t, errstr, errsz);
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
                rc = ktopic_flush(k->t, errstr, errsz);
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
 * instances' status (STATUS_KAFKA_KEY_PREFIX) and of the file hashes (FILEHASH_KEY_PREFIX)
 * are not files: skipped. */
static int kv_load_record(void *opaque, const void *k, size_t klen, const void *val, size_t vlen,
                          int32_t partition, int64_t offset)
{
        struct kv_loading *L = opaque;
        size_t plen = strlen(STATUS_KAFKA_KEY_PREFIX), hlen = strlen(FILEHASH_KEY_PREFIX);
        struct msg_status st;
        char *key;
        int rc = JB_OK;

        (void)partition;
        (void)offset;
        if (!k || !klen)
                return JB_OK;
        if ((klen >= plen && !memcmp(k, STATUS_KAFKA_KEY_PREFIX, plen)) ||
            (klen >= hlen && !memcmp(k, FILEHASH_KEY_PREFIX, hlen))) {
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
                        L->unreadable, ktopic_topic(L->k->t), L->e2);
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
        struct ktopic_opts ko = {NULL, "jibe-scan-state-loader", "scanner", "the status topic",
                                 KV_LOAD_PATIENCE_MS};
        int rc;

        sset_init(&L.seen);
        rc = ktopic_load(L.k->t, &ko, kv_load_record, &L, errstr, errsz);
        if (!rc)
                rc = kv_load_report(&L, fn, opaque);
        sset_clear(&L.seen);
        return rc;
}

static void kv_destroy(struct scan_store *ss)
{
        struct scan_store_kafka *k = (struct scan_store_kafka *)ss;

        ktopic_free(k->t);
        free(k);
}

static const struct scan_store_ops kv_ops = {kv_load, kv_save, kv_forget, kv_destroy};

struct scan_store *scan_store_kafka_new(const char *brokers, const char *topic, const char *const *props,
                                        char *errstr, size_t errsz)
{
        struct scan_store_kafka *k = calloc(1, sizeof(*k));

        if (!k) {
                jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                return NULL;
        }
        k->ss.ops = &kv_ops;
        if (!(k->t = ktopic_new(brokers, topic, props, "jibe-scan-status", errstr, errsz))) {
                free(k);
                return NULL;
        }
        return &k->ss;
}
