/*
 * q.h - the transport between jibe's stages: publish with a key, poll, acknowledge.
 *
 * Stages see only this interface; which backend runs (embedded in-memory queues, q_mem.c,
 * or Kafka) is chosen once when the transport is created.
 *
 * Delivery contract ("nothing lost"):
 * - A consumer acknowledges a message with q_ack() once it has done its part: published
 *   every message derived from it (passing it as @parent) or made its effect durable.
 * - A published message is *complete* when its effect is durable downstream. The publisher
 *   learns it through its q_done_fn. Embedded: when its consumer acknowledged it and every
 *   message derived from it is complete (queues in memory are not durable, so completion
 *   travels back up the chain: a log file is done when all its events were synced).
 *   Kafka: when the broker confirmed the write (and a consumed message's offset is committed
 *   only when it is acknowledged and all messages derived from it are delivered).
 * - A message that is never completed (crash, shutdown) is never reported done: upstream
 *   keeps it and offers it again after a restart. Duplicates are possible, losses are not.
 * Keys: messages with the same key keep their order per consumer where the backend
 * partitions (Kafka); the embedded backend is one FIFO per topic.
 * Threads: every call is thread-safe; q_done_fn may run on any thread.
 */
#ifndef Q_H
#define Q_H

#include <stddef.h>
#include <stdint.h>

#include "jb.h"

enum q_topic {
        Q_FILES = 0, /* scanner -> parser: struct msg_logfile */
        Q_EVENTS,    /* parser -> syncer: struct msg_objevent */
        Q_DEAD,      /* dead letters: struct msg_dead (embedded: a file in the state directory) */
        Q_NTOPICS
};

/* A consumed message. Borrowed from the transport until q_ack(). */
struct q_msg {
        enum q_topic topic;
        const char *key;
        size_t keylen;
        const char *payload; /* NUL-terminated for convenience; len excludes the NUL */
        size_t len;
        int64_t ts_ms; /* when it was published */
};

/* Completion of a published message: ok=1 durable downstream. Called at most once. */
typedef void (*q_done_fn)(void *opaque, int ok);

struct q;

struct q_mem_opts {
        size_t capacity;              /* messages per topic before publishers wait (back-pressure) */
        const char *dead_letter_path; /* file that receives Q_DEAD messages (appended, fsync'ed) */
};

/* Embedded backend. NULL on failure with errstr set. Free with q_free(). */
struct q *q_mem_new(const struct q_mem_opts *opts, char *errstr, size_t errsz);

/* The Kafka backend is declared in q_kafka.h. */

/*
 * Publish a copy of payload. parent: the consumed message this one derives from (or NULL).
 * done/opaque: completion callback (may be NULL). Blocks while the topic is full, until
 * there is room or the transport shuts down (then JB_ETRANSIENT: nothing was published, and
 * done is not called).
 */
int q_publish(struct q *q, enum q_topic t, const char *key, size_t keylen, const void *payload,
              size_t len, struct q_msg *parent, q_done_fn done, void *opaque, char *errstr,
              size_t errsz) JB_MUST_CHECK;
/*
 * Wait up to timeout_ms for a message of topic t. JB_OK with *out set, JB_ETRANSIENT on
 * timeout, JB_EFATAL once the transport was shut down.
 */
int q_poll(struct q *q, enum q_topic t, int timeout_ms, struct q_msg **out) JB_MUST_CHECK;
/* The consumer is done with m (see the contract above). m is invalid afterwards. */
void q_ack(struct q *q, struct q_msg *m);
/*
 * Give m back without completing it: the embedded backend forgets it (upstream will offer
 * it again after a restart), Kafka leaves its offset uncommitted. m is invalid afterwards.
 */
void q_abandon(struct q *q, struct q_msg *m);
/* Wake every waiter; publish fails and poll returns JB_EFATAL from now on. */
void q_shutdown(struct q *q);
/* Messages waiting in topic t (not yet polled). */
size_t q_depth(struct q *q, enum q_topic t);
/* Messages published but not yet complete, all topics. */
size_t q_inflight(struct q *q);
/* Kafka: messages of this consumer's partitions not yet done (high watermark minus what
 * completed), as of the last commit round (about once a second); -1 when unknown: the
 * embedded backend, a process that only produces, nothing assigned yet. */
int64_t q_lag(struct q *q);
/* Nonzero once the backend hit an unrecoverable error (Kafka: librdkafka's fatal error, e.g.
 * the idempotent producer was fenced); the transport has then shut itself down (as
 * q_shutdown). The embedded backend never fails this way. */
int q_failed(struct q *q);
/* Free the transport. Every message that never completed is reported to its publisher with
 * ok=0 (so it can release what it attached to the message): free the publishers after. */
void q_free(struct q *q);

const char *q_topic_name(enum q_topic t);

#endif
