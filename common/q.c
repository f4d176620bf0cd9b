/*
 * q.c - the transport interface (q.h): dispatch to the backend's operations.
 */
#include "q_impl.h"

static const char *const q_topic_names[Q_NTOPICS] = {"files", "events", "dead"};

const char *q_topic_name(enum q_topic t)
{
        return t < Q_NTOPICS ? q_topic_names[t] : "?";
}

int q_publish(struct q *q, enum q_topic t, const char *key, size_t keylen, const void *payload,
              size_t len, struct q_msg *parent, q_done_fn done, void *opaque, char *errstr, size_t errsz)
{
        return q->ops->publish(q, t, key, keylen, payload, len, parent, done, opaque, errstr, errsz);
}

int q_poll(struct q *q, enum q_topic t, int timeout_ms, struct q_msg **out)
{
        return q->ops->poll(q, t, timeout_ms, out);
}

void q_ack(struct q *q, struct q_msg *m)
{
        q->ops->ack(q, m);
}

void q_abandon(struct q *q, struct q_msg *m)
{
        q->ops->abandon(q, m);
}

void q_shutdown(struct q *q)
{
        q->ops->shutdown(q);
}

size_t q_depth(struct q *q, enum q_topic t)
{
        return q->ops->depth(q, t);
}

size_t q_inflight(struct q *q)
{
        return q->ops->inflight(q);
}

int64_t q_lag(struct q *q)
{
        return q->ops->lag ? q->ops->lag(q) : -1;
}

int q_failed(struct q *q)
{
        return q->ops->failed ? q->ops->failed(q) : 0;
}

void q_free(struct q *q)
{
        if (q)
                q->ops->destroy(q);
}
