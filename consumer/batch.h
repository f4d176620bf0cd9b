/*
 * batch.h - the syncer's dedup window: object events in, one sync item per distinct
 * target out, each with every message it covers. Pure data structure: no I/O, no clock.
 *
 * Rules (docs/EVENTS.md, "Dedup and batching"):
 * - dedup key (provider, bucket, key): within one batch the last op wins;
 * - a bucket op for (provider, bucket) subsumes every object op of that bucket in the batch,
 *   those added before it and those added after it;
 * - every message added is covered by exactly one item (so it is acknowledged once).
 * Cost: O(1) expected per batch_add (hash map); batch_finish is O(items + messages).
 * Ownership: the batch copies provider, bucket and key; messages are opaque pointers the
 * batch never dereferences (the syncer passes its own per-message records). The items and
 * their message arrays returned by batch_finish() belong to the batch and stay valid until
 * the next batch_add(), batch_reset() or batch_free().
 * Threads: none; one owner at a time.
 */
#ifndef BATCH_H
#define BATCH_H

#include <stddef.h>

#include "jb.h"
#include "msg.h"

struct batch_item {
        const char *provider;
        const char *bucket;
        const char *key; /* NULL for a whole-bucket resync */
        enum msg_op op;  /* MSG_OP_BUCKET when key is NULL, else the last object op */
        void **msgs;     /* the messages this item covers (no particular order) */
        size_t nmsgs;
};

struct batch;

/* NULL when out of memory. */
struct batch *batch_new(void);
void batch_free(struct batch *b);
/* Forget every entry (memory kept for the next batch). */
void batch_reset(struct batch *b);
/*
 * Add one event. key is ignored for MSG_OP_BUCKET and required otherwise. JB_EINPUT for a
 * missing provider/bucket/key or an unknown op, JB_ENOMEM; on error the batch is unchanged.
 */
int batch_add(struct batch *b, const char *provider, const char *bucket, const char *key, enum msg_op op,
              void *msg) JB_MUST_CHECK;
/* Events added since the last reset. */
size_t batch_events(const struct batch *b);
/* The sync items, in the order their targets first appeared. JB_ENOMEM. */
int batch_finish(struct batch *b, struct batch_item **items, size_t *n) JB_MUST_CHECK;

#endif
