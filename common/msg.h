/*
 * msg.h - the messages jibe's stages exchange, schema version 1. The one place that knows
 * their shape.
 *
 * Every payload is a JSON object with "v" (MSG_SCHEMA_VERSION) and "type". Decoders refuse
 * an unknown major version, a wrong type or a missing field with JB_EINPUT and a reason: the
 * stage dead-letters such a message, acknowledges it and goes on. Fields are only ever
 * added; a field never changes meaning.
 * Ownership: decode fills a struct whose strings are malloc'ed copies; free them with the
 * matching _clear(), which is safe on a zeroed or already-cleared struct. Encoders append to a
 * caller's struct buf.
 */
#ifndef MSG_H
#define MSG_H

#include <stdint.h>

#include "buf.h"
#include "jb.h"

#define MSG_SCHEMA_VERSION 1
#define MSG_MAX_BYTES (1U << 20) /* a message larger than this is refused */

enum msg_op { MSG_OP_PUT = 1, MSG_OP_DELETE, MSG_OP_BUCKET };

/* scanner -> parser: one CloudTrail log file to read. Key: provider/bucket, followed by the
 * delivery stream (account/CloudTrail/region) when the path shows it, so the files of one log
 * bucket spread over the partitions (order between files does not matter: a resync reads
 * the object's current state). */
struct msg_logfile {
        char *provider;    /* id of the provider the log bucket belongs to */
        char *bucket;      /* the log bucket */
        char *path;        /* Access Anywhere path, "Provider/bucket/AWSLogs/.../x.json.gz" */
        char *fi_id;       /* Access Anywhere id of the file */
        int64_t size;      /* bytes as listed, -1 if unknown */
        int64_t listed_ms; /* when the scanner first saw it (ms since the epoch) */
        /* Optional, set when a CloudTrail digest (ct_digest.h) asked for the file: the
         * hashValue it lists (64 hex digits: SHA-256 of the uncompressed content), NULL
         * otherwise; reread 1 when the file is read again because its hash differed once
         * (absent from the message when 0). Readers before 2026-12 ignore both. */
        char *digest_sha256;
        int64_t reread;
};

/* parser -> syncer: one object change. Key: provider/bucket, for every op: all the events of
 * a bucket meet in one partition, so in one syncer's dedup window, where a bucket op absorbs
 * the bucket's object ops and the refresh method groups a folder's changes (the folder lies
 * in the bucket). A partition's events are still resynced concurrently by that syncer's
 * workers. The key is routing only, not part of the schema: jibe before 2026-12 keyed object
 * ops provider/bucket/key, and a consumer reads both (nothing decodes the key). */
struct msg_objevent {
        char *provider, *bucket;
        char *key; /* NULL when op == MSG_OP_BUCKET */
        enum msg_op op;
        char *time, *event, *id, *account, *region; /* tracing; may be NULL */
        char *src;                                  /* path of the log file it came from; may be NULL */
        int64_t rec;                                /* record index in that file, -1 if unknown */
        int64_t listed_ms; /* when the scanner saw the log file: for latency figures */
};

/* any stage -> dead letters: what could not be done, with its context. */
struct msg_dead {
        char *stage; /* "parse", "sync", ... */
        char *src;   /* source log file, may be NULL */
        int64_t rec; /* record index, -1 if none */
        char *error; /* the reason, for an administrator */
        int64_t attempts;
        char *payload; /* the original message, verbatim (any bytes; NUL-terminated) */
        size_t payload_len;
        int64_t at_ms;
};

/*
 * scanner -> its status topic ("<prefix>status", compacted; producer/scan_store_kafka.c): one
 * processed log file. Key: the file's Access Anywhere path ("<date folder>/<name>"); a
 * tombstone (no value) forgets it. Value: {"v":1,"type":"status","state":"done","at_ms":N}.
 * The decoder also reads MSG_STATUS_LEGACY ("done" alone), what jibe wrote before the record had
 * a version, so existing status topics keep their meaning.
 */
#define MSG_STATUS_LEGACY "done"
enum msg_status_state { MSG_STATUS_DONE = 1 };

struct msg_status {
        enum msg_status_state state;
        int64_t at_ms; /* when it was saved (ms since the epoch); 0 when unknown (legacy) */
};

const char *msg_op_name(enum msg_op op); /* "put", "delete", "bucket" */
int msg_op_parse(const char *s, enum msg_op *op);

int msg_logfile_encode(const struct msg_logfile *m, struct buf *out) JB_MUST_CHECK;
int msg_logfile_decode(const void *p, size_t n, struct msg_logfile *m, char *errstr,
                       size_t errsz) JB_MUST_CHECK;
void msg_logfile_clear(struct msg_logfile *m);
int msg_logfile_key(const struct msg_logfile *m, struct buf *out) JB_MUST_CHECK;

int msg_objevent_encode(const struct msg_objevent *m, struct buf *out) JB_MUST_CHECK;
int msg_objevent_decode(const void *p, size_t n, struct msg_objevent *m, char *errstr,
                        size_t errsz) JB_MUST_CHECK;
void msg_objevent_clear(struct msg_objevent *m);
int msg_objevent_key(const struct msg_objevent *m, struct buf *out) JB_MUST_CHECK;

int msg_dead_encode(const struct msg_dead *m, struct buf *out) JB_MUST_CHECK;
int msg_dead_decode(const void *p, size_t n, struct msg_dead *m, char *errstr,
                    size_t errsz) JB_MUST_CHECK;
void msg_dead_clear(struct msg_dead *m);

/* No strings inside: there is no _clear(). */
int msg_status_encode(const struct msg_status *m, struct buf *out) JB_MUST_CHECK;
int msg_status_decode(const void *p, size_t n, struct msg_status *m, char *errstr,
                      size_t errsz) JB_MUST_CHECK;

int64_t msg_now_ms(void); /* wall clock, ms since the epoch */

#endif
