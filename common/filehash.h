/*
 * filehash.h - the SHA-256 of each log file as the parser read it, kept where the scanner
 * can find it when a CloudTrail digest (ct_digest.h) lists the file: CloudTrail's hashValue
 * is the SHA-256 of the file's uncompressed content (the AWS CLI's validate-logs inflates and
 * hashes), so the parser, which inflates every file anyway, hashes what it inflates.
 *
 * Two backends behind one small interface:
 *   - dir (filehash_dir_new): a memory map plus an append-only file in the state directory
 *     (file-hashes: "jibe-filehash 1" then "path<TAB>sha256hex<TAB>reads<TAB>at_ms" lines),
 *     loaded at open, rewritten compactly when it has grown to twice its entries; for
 *     `jibe run`, where the parser and the scanner share one object.
 *   - kafka (filehash_kafka_new): one record per file in the compacted status topic, key
 *     "sha256/<path>", value {"v":1,"type":"filehash","sha256":"<64 hex>","reads":N,"at_ms":N};
 *     put() queues it (struct ktopic), load() reads the whole topic and keeps those keys; for
 *     `jibe parse` (writer) and `jibe scan` (reader) on any host.
 * A hash is an integrity check, not progress: a put that is lost (crash, broker gone) only
 * turns that file's digest verdict into "unverified". put() never blocks a stage for long.
 * Thread safety: put() may be called from any parser worker at once (the backend locks);
 * load() and forget_before() by one thread (the scanner).
 * Ownership: the store copies what it is given; load()'s callback arguments are valid during
 * the call only.
 */
#ifndef FILEHASH_H
#define FILEHASH_H

#include <stddef.h>
#include <stdint.h>

#include "jb.h"
#include "sha256.h"

struct filehash;

/* One remembered file: reads counts the downloads whose hash was put (1 the first time; a
 * re-read after a digest mismatch makes it 2). */
typedef int (*filehash_fn)(void *opaque, const char *path, const uint8_t sha[SHA256_LEN], unsigned reads,
                           int64_t at_ms);

struct filehash_ops {
        int (*put)(struct filehash *fh, const char *path, const uint8_t sha[SHA256_LEN], unsigned reads,
                   char *errstr, size_t errsz);
        /* Every remembered file (the latest put of each path). */
        int (*load)(struct filehash *fh, filehash_fn fn, void *opaque, char *errstr, size_t errsz);
        /* Forget files put before at_ms (epoch ms): the scanner's lookback keeps it bounded. */
        int (*forget_before)(struct filehash *fh, int64_t at_ms, char *errstr, size_t errsz);
        void (*destroy)(struct filehash *fh);
};

struct filehash {
        const struct filehash_ops *ops;
};

/* The state directory backend: dir is the state directory (copied). NULL with errstr set when
 * its file is damaged beyond its last complete line (a torn last line is dropped) or unreadable. */
struct filehash *filehash_dir_new(const char *dir, char *errstr, size_t errsz);
/* The Kafka backend: topic is the status topic; props "name=value" for librdkafka. */
struct filehash *filehash_kafka_new(const char *brokers, const char *topic, const char *const *props,
                                    char *errstr, size_t errsz);
/* NULL-safe. */
void filehash_free(struct filehash *fh);

#define FILEHASH_KEY_PREFIX "sha256/" /* the status topic's keys of this store */

#endif
