/*
 * ktopic.h - read a Kafka topic once, from the start of every partition to the end offsets
 * seen when the reading began: how jibe loads what a compacted topic remembers (the
 * scanner's processed files, every instance's status; both live in the status topic).
 *
 * Records reach the callback partition by partition in offset order (partitions may
 * interleave), so "the latest value of a key" is the last one the callback saw for it
 * (a key always lands in one partition). A tombstone arrives with val NULL.
 * Errors: JB_ETRANSIENT (the topic has no leader within patience_ms, the brokers stopped
 * answering, a stop was requested), JB_EFATAL (the client could not be made), or what the
 * callback returned (non-zero stops the reading).
 * Ownership: ktopic_read() takes conf in every case; key and val are valid during the
 * callback only. Logs (module `who`) while it waits for a topic that is not ready yet.
 * This header does not include rdkafka.h: struct rd_kafka_conf_s is rd_kafka_conf_t.
 *
 * Also the other half, struct ktopic: a topic jibe keeps keyed records in (the status topic:
 * the scanner's processed files, every instance's status), with the caller's librdkafka
 * properties, a producer made at the first put (idempotent, acks=all, so a record is
 * confirmed only once every in-sync replica has it) and the loader of the same properties.
 * One thread uses a struct ktopic at a time. It copies what it is given.
 */
#ifndef KTOPIC_H
#define KTOPIC_H

#include <stddef.h>
#include <stdint.h>

#include "jb.h"

struct rd_kafka_conf_s;

typedef int (*ktopic_fn)(void *opaque, const void *key, size_t klen, const void *val, size_t vlen,
                         int32_t partition, int64_t offset);

struct ktopic_opts {
        const char *topic;
        const char *group; /* group.id of the reader (it never commits) */
        const char *who;   /* log module, e.g. "scanner" */
        const char *what;  /* the topic in messages, e.g. "the status topic" (NULL: "the topic") */
        long patience_ms;  /* how long to wait for a topic that has no leader yet */
};

/* conf: a consumer configuration from kconf_new(KCONF_CONSUMER) with the caller's properties;
 * ktopic_read() adds group.id, enable.auto.commit=false and enable.partition.eof=false. */
int ktopic_read(struct rd_kafka_conf_s *conf, const struct ktopic_opts *o, ktopic_fn fn, void *opaque,
                char *errstr, size_t errsz) JB_MUST_CHECK;

#define KTOPIC_FLUSH_MS 30000 /* the longest ktopic_flush() waits (shorter after a stop request) */

struct ktopic;

/* client_id names the producer ("jibe-status"); the loader is "<client_id>-reader". The
 * properties are checked now (no connection is made), so a mistake shows at start. NULL
 * with errstr set on failure. */
struct ktopic *ktopic_new(const char *brokers, const char *topic, const char *const *props,
                          const char *client_id, char *errstr, size_t errsz);
const char *ktopic_topic(const struct ktopic *t);
/* Queue one record; val NULL writes a tombstone. JB_OK, JB_EFATAL (the producer could not
 * be made), JB_ETRANSIENT (refused at once). */
int ktopic_put(struct ktopic *t, const void *key, size_t klen, const void *val, size_t vlen,
               char *errstr, size_t errsz) JB_MUST_CHECK;
/* Wait until every queued record is confirmed: JB_OK, or JB_ETRANSIENT saying why (not
 * confirmed within KTOPIC_FLUSH_MS, or refused). JB_OK at once when nothing was put. */
int ktopic_flush(struct ktopic *t, char *errstr, size_t errsz) JB_MUST_CHECK;
/* ktopic_read() of this topic (o->topic is ignored) by a consumer of the same properties. */
int ktopic_load(struct ktopic *t, const struct ktopic_opts *o, ktopic_fn fn, void *opaque, char *errstr,
                size_t errsz) JB_MUST_CHECK;
/* Wait for what is queued (bounded as ktopic_flush()), then free. Safe with NULL. */
void ktopic_free(struct ktopic *t);

#endif
