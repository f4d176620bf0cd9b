/*
 * kadmin.h - what jibe's admin commands (jibe lag, jibe replay, jibe topics) ask Kafka: a
 * group's state and members, its committed offsets, the partitions' watermarks, the age of the
 * oldest message a group has not consumed, offsets by time, a commit that moves a stopped
 * group's offsets, and the creation of jibe's topics.
 *
 * Every handle is a librdkafka consumer that never subscribes, so it never joins (or upsets)
 * the group it reads: committed offsets are fetched by group id, offsets are committed through
 * an explicit assignment, and messages are read by a separate throwaway-group reader.
 * Being consumers, the handles take the plain and the "consumer." kafka.rdkafka entries
 * (kconf.h); jibe's own settings (no auto commit, no topic creation) are set after and win.
 *
 * Ownership: kadmin_new() returns a handle freed by kadmin_free() (NULL allowed). Partition
 * arrays (struct kadmin_part *) are allocated here and freed with kadmin_parts_free(), which
 * frees their topic strings too. Strings passed in are copied when kept.
 * Errors: JB_ETRANSIENT when a broker does not answer or reports an error (errstr says which
 * and what to check), JB_ENOTFOUND for a topic that does not exist, JB_EINPUT for a bad
 * librdkafka property, JB_ENOMEM.
 * Threads: a handle is used by one thread at a time.
 */
#ifndef KADMIN_H
#define KADMIN_H

#include <stddef.h>
#include <stdint.h>

#include "jb.h"

#define KADMIN_NO_OFFSET (-1) /* no committed offset / no timestamp */
#define KADMIN_TIMEOUT_MS_DEFAULT 10000

/* How to reach the cluster (strings borrowed for the call). */
struct kadmin_conn {
        const char *brokers;      /* bootstrap.servers */
        const char *const *props; /* extra librdkafka properties "name=value", or NULL */
        size_t n_props;
        int timeout_ms; /* per request; 0: KADMIN_TIMEOUT_MS_DEFAULT */
};

/* One partition as a group sees it. */
struct kadmin_part {
        char *topic;
        int32_t partition;
        int64_t committed;    /* the group's next offset to read, KADMIN_NO_OFFSET when none */
        int64_t low, end;     /* log start offset, high watermark */
        int64_t lag;          /* end - committed; without a commit end - low; never < 0 */
        int64_t oldest_ts_ms; /* timestamp of the oldest unconsumed message (kadmin_oldest());
                               * KADMIN_NO_OFFSET when lag is 0 or it could not be read */
        int64_t target;       /* replay: the offset to move to (kadmin_targets_*()) */
};

struct kadmin_group {
        char state[32]; /* "Stable", "Empty", "PreparingRebalance", "Dead" (unknown group)... */
        int members;
        char who[256]; /* "client-id@host, ..." of the members (cut when long) */
};

struct kadmin;

/*
 * A handle for one group (group may be NULL for metadata and watermarks only). Creating it
 * does not contact the brokers. NULL on failure with errstr set.
 */
struct kadmin *kadmin_new(const struct kadmin_conn *conn, const char *group, char *errstr, size_t errsz);
void kadmin_free(struct kadmin *ka);

/* State and member count of the handle's group (rd_kafka_list_groups). */
int kadmin_group_info(struct kadmin *ka, struct kadmin_group *out, char *errstr,
                      size_t errsz) JB_MUST_CHECK;

/*
 * The partitions of topic, in order, with committed offsets (of the handle's group, if any),
 * watermarks and lag. JB_ENOTFOUND when the topic does not exist.
 */
int kadmin_topic_parts(struct kadmin *ka, const char *topic, struct kadmin_part **out, size_t *n,
                       char *errstr, size_t errsz) JB_MUST_CHECK;
/* The number of partitions of topic, from the metadata only (no offsets: works while the
 * partitions of a new topic still elect their leaders). JB_ENOTFOUND when it does not exist. */
int kadmin_topic_count(struct kadmin *ka, const char *topic, size_t *n, char *errstr,
                       size_t errsz) JB_MUST_CHECK;

/*
 * Every partition the handle's group has committed offsets for, plus every partition of
 * topic (may be NULL; a topic that does not exist is skipped), sorted by topic and partition,
 * with committed offsets, watermarks and lag.
 */
int kadmin_group_parts(struct kadmin *ka, const char *topic, struct kadmin_part **out, size_t *n,
                       char *errstr, size_t errsz) JB_MUST_CHECK;

/*
 * Fill oldest_ts_ms of each part with lag > 0: the timestamp of the message at the committed
 * offset (or at the low watermark when there is none or it was deleted), read by a
 * short-lived consumer that assigns the partitions. Parts it could not read in time keep
 * KADMIN_NO_OFFSET (not an error).
 */
int kadmin_oldest(const struct kadmin_conn *conn, struct kadmin_part *parts, size_t n, char *errstr,
                  size_t errsz) JB_MUST_CHECK;

/* target := low watermark. */
void kadmin_targets_earliest(struct kadmin_part *parts, size_t n);
/*
 * target := the first offset whose message timestamp is >= ts_ms (rd_kafka_offsets_for_times);
 * the end offset when every message is older.
 */
int kadmin_targets_time(struct kadmin *ka, struct kadmin_part *parts, size_t n, int64_t ts_ms,
                        char *errstr, size_t errsz) JB_MUST_CHECK;

/*
 * Commit every part's target as the handle's group's offset, through an explicit assignment
 * (the handle never joins the group). The broker refuses it while the group has members; the
 * caller checks kadmin_group_info() first.
 */
int kadmin_commit_targets(struct kadmin *ka, const struct kadmin_part *parts, size_t n, char *errstr,
                          size_t errsz) JB_MUST_CHECK;

void kadmin_parts_free(struct kadmin_part *parts, size_t n);

/*
 * Create jibe's topics (kconf_name()) "<prefix>files", "<prefix>events" (cleanup.policy=delete,
 * retention_ms; 0 keeps the broker's default, -1 keeps messages for ever), "<prefix>dead"
 * (dead letters: at least 30 days, or retention_ms when longer) and "<prefix>status"
 * (cleanup.policy=compact) through the Admin API. partitions/replication <= 0: the broker's
 * defaults; replication >= 3 also sets min.insync.replicas=2 on each topic. A topic that already exists counts as created (its settings are left as they
 * are). The client takes the plain kafka.rdkafka entries only (kconf.h, KCONF_ADMIN).
 * JB_ETRANSIENT when the brokers do not answer, JB_EFATAL when they refuse.
 */
int kadmin_create_topics(const struct kadmin_conn *conn, const char *prefix, int partitions,
                         int replication, int64_t retention_ms, char *errstr,
                         size_t errsz) JB_MUST_CHECK;

#endif
