/*
 * scan_store.h - where the scanner remembers processed log files, behind one small
 * interface with two backends:
 *   - dir (producer/scan_store_dir.c): one file per date folder in the local state directory
 *     (scan/<hash>: "jibe-scan 1<TAB><folder path>" then one name per line), replaced
 *     atomically; for `jibe run`.
 *   - kafka (producer/scan_store_kafka.c): one record per processed file in the compacted
 *     status topic (key: the file's path, value a struct msg_status of msg.h; a tombstone
 *     forgets it); for `jibe scan`, so a scanner moved to another host carries on where it
 *     stopped.
 * Every call is made by the scanner's thread; save() returns only once the names are
 * durable. Ownership: the store borrows what it is given during a call.
 */
#ifndef SCAN_STORE_H
#define SCAN_STORE_H

#include <stddef.h>

#include "jb.h"
#include "sset.h"
#include "state.h"

struct scan_store;

/* Called by load() for every remembered (folder, name); returns JB_OK to go on. */
typedef int (*scan_store_fn)(void *opaque, const char *folder, const char *name);

struct scan_store_ops {
        int (*load)(struct scan_store *ss, scan_store_fn fn, void *opaque, char *errstr, size_t errsz);
        /* done: every processed name of the folder; added: those not saved before. */
        int (*save)(struct scan_store *ss, const char *folder, const struct sset *done,
                    const struct sset *added, char *errstr, size_t errsz);
        int (*forget)(struct scan_store *ss, const char *folder, const struct sset *done, char *errstr,
                      size_t errsz);
        void (*destroy)(struct scan_store *ss);
};

struct scan_store {
        const struct scan_store_ops *ops;
};

/* The local state directory backend (st is borrowed). */
struct scan_store *scan_store_dir_new(struct state *st);
/* The Kafka backend: topic is the status topic; props "name=value" for librdkafka. */
struct scan_store *scan_store_kafka_new(const char *brokers, const char *topic, const char *const *props,
                                        char *errstr, size_t errsz);
void scan_store_free(struct scan_store *ss);

#endif
