/*
 * q_impl.h - private to the transport: the operations table every backend fills.
 * Included only by q*.c. A backend's struct starts with a struct q.
 */
#ifndef Q_IMPL_H
#define Q_IMPL_H

#include "q.h"

struct q_ops {
        int (*publish)(struct q *q, enum q_topic t, const char *key, size_t keylen, const void *payload,
                       size_t len, struct q_msg *parent, q_done_fn done, void *opaque, char *errstr,
                       size_t errsz);
        int (*poll)(struct q *q, enum q_topic t, int timeout_ms, struct q_msg **out);
        void (*ack)(struct q *q, struct q_msg *m);
        void (*abandon)(struct q *q, struct q_msg *m);
        void (*shutdown)(struct q *q);
        size_t (*depth)(struct q *q, enum q_topic t);
        size_t (*inflight)(struct q *q);
        void (*destroy)(struct q *q);
        int (*failed)(struct q *q);
        int64_t (*lag)(struct q *q); /* optional: NULL gives -1 */
};

struct q {
        const struct q_ops *ops;
};

#endif
