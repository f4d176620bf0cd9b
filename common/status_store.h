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
#define STATUS_INSTANCE_MAX 128   /* bytes of an instance name */

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
 * made when missing; aa options borrowed (the store makes its own client). The folder is
 * found (or made) at the first put() or list(), not here. put() uploads <instance>.json over
 * the previous one (the server replaces a file uploaded under a name that exists, as rclone
 * and the Python client expect). list() hands over every *.json file of the folder as it is
 * (the caller reports one that is not a status document); a file over STATUS_DOC_MAX is
 * skipped with a warning in the log. NULL with errstr set (bad folder, bad options). */
struct status_store *status_store_aa_new(const struct aa_opts *aa, const char *folder, char *errstr,
                                         size_t errsz);
/* The Kafka backend: topic is the status topic; props "name=value" for librdkafka (copied).
 * put() produces key STATUS_KAFKA_KEY_PREFIX<instance> idempotently with acks=all and returns
 * once the brokers confirmed it; list() reads every partition from its start to the end seen
 * at start and hands over the latest value of each instance key (other keys, the scanner's
 * file records, are skipped; a tombstone forgets the instance). where: "topic [p] @offset". */
struct status_store *status_store_kafka_new(const char *brokers, const char *topic,
                                            const char *const *props, char *errstr, size_t errsz);
void status_store_free(struct status_store *ss); /* NULL: nothing */

/* An instance name becomes a file name and a Kafka key: 1 to STATUS_INSTANCE_MAX bytes, no
 * '/', no control character. JB_OK, or JB_EINPUT with errstr saying what to change. */
int status_instance_check(const char *instance, char *errstr, size_t errsz) JB_MUST_CHECK;
/* An Access Anywhere folder inside a bucket: "/<provider>/<bucket>[/<folder>...]". JB_OK, or
 * JB_EINPUT with errstr saying what is wrong (`what` names the setting, e.g. "status.folder"). */
int status_folder_check(const char *what, const char *folder, char *errstr, size_t errsz) JB_MUST_CHECK;
/* Find the folder (checked as above) by path; when make, make the missing folders below the
 * bucket. *out (optional; caller clears) is the folder. JB_ENOTFOUND when the provider or
 * the bucket does not exist, or (make == 0) the folder does not; else aa.h's errors. */
int status_folder_find(struct aa_client *aa, const char *folder, int make, struct aa_item *out,
                       char *errstr, size_t errsz) JB_MUST_CHECK;

#endif
