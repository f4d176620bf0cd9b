/*
 * status_store.h - where instances publish their status and find each other's
 * (docs/STATUS.md), behind one small interface with two backends:
 *   - aa: the Access Anywhere folder status.folder, one file <instance>.json per instance,
 *     replaced at each publication (embedded mode, `jibe run`);
 *   - kafka: the compacted status topic, key "instance/<instance>" (Kafka mode).
 * put() returns once the document is stored (uploaded; acknowledged by the brokers); list()
 * hands every instance's latest document to a callback. Ownership: the store borrows what a
 * call is given; list()'s callback gets bytes valid during the call only.
 * Threads: one thread uses a store at a time (the publisher's, or `jibe status`).
 */
#ifndef STATUS_STORE_H
#define STATUS_STORE_H

#include <stddef.h>

#include "aa.h"
#include "jb.h"

#define STATUS_KAFKA_KEY_PREFIX "instance/"
#define STATUS_DOC_MAX (4U << 20) /* a status document larger than this is refused */

struct status_store;

/* One instance's document: where says where it was found, for messages. Return JB_OK to go on. */
typedef int (*status_store_fn)(void *opaque, const char *instance, const void *doc, size_t n,
                               const char *where);

struct status_store_ops {
        int (*put)(struct status_store *ss, const char *instance, const void *doc, size_t n,
                   char *errstr, size_t errsz);
        int (*list)(struct status_store *ss, status_store_fn fn, void *opaque, char *errstr,
                    size_t errsz);
        void (*destroy)(struct status_store *ss);
};

struct status_store {
        const struct status_store_ops *ops;
};

/* The Access Anywhere folder backend: folder is an Access Anywhere path inside a bucket,
 * made when missing; aa options borrowed (the store makes its own client). */
struct status_store *status_store_aa_new(const struct aa_opts *aa, const char *folder, char *errstr,
                                         size_t errsz);
/* The Kafka backend: topic is the status topic; props "name=value" for librdkafka. */
struct status_store *status_store_kafka_new(const char *brokers, const char *topic,
                                            const char *const *props, char *errstr, size_t errsz);
void status_store_free(struct status_store *ss);

#endif
