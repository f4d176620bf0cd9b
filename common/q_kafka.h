/*
 * q_kafka.h - the Kafka backend of the transport (q_kafka.c): the q.h interface over
 * librdkafka. Topic names are "<topic_prefix>files", "...events", "...dead" (kconf_name()); the
 * topics are created beforehand by `jibe topics --create` (kadmin_create_topics()). The
 * librdkafka configuration of both clients is built by kconf.h (props: pass-through, with the
 * producer./consumer. prefixes).
 * Ownership: q_kafka_new() copies what it keeps of opts; free the transport with q_free().
 */
#ifndef Q_KAFKA_H
#define Q_KAFKA_H

#include <stddef.h>

#include "q.h"

struct q_kafka_opts {
        const char *brokers;      /* bootstrap.servers */
        const char *topic_prefix; /* e.g. "jibe." */
        const char *client_id;    /* e.g. "jibe-parse" */
        int consume;              /* the one topic this process consumes, or -1 */
        const char *group_id;     /* consumer group of that topic, e.g. "jibe.parse" */
        const char *instance_id;  /* group.instance.id (static membership), or NULL */
        size_t max_inflight;      /* consumed messages handed out and not yet acked before
                                     * the backend pauses its partitions (default 1000) */
        const char *const *props; /* extra librdkafka properties "name=value", NULL-ended */
};

/* NULL on failure with errstr set. */
struct q *q_kafka_new(const struct q_kafka_opts *opts, char *errstr, size_t errsz);

#endif
