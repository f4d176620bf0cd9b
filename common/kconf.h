/*
 * kconf.h - how jibe talks to Kafka, in one place: the librdkafka configuration of every client
 * (transport, scanner status store, admin commands) and the names of jibe's topics and groups.
 *
 * Properties ("name=value", kafka.rdkafka in the configuration) are passed to librdkafka as
 * they are, after the caller's defaults, so they can override them. A name prefixed
 * "producer." or "consumer." goes to that kind of client only, without the prefix:
 *   KCONF_PRODUCER  the transport's producer, the status store's writer: plain + producer.
 *   KCONF_CONSUMER  the transport's group member, the status store's loader, and the admin
 *                   commands' handles (jibe lag, replay: consumers that never subscribe, and
 *                   read messages to measure time lag): plain + consumer.
 *   KCONF_ADMIN     the topic creator of `jibe topics --create` (an Admin API client, neither
 *                   producer nor consumer): plain only.
 * Every client gets bootstrap.servers, client.id, log.connection.close=false, a log callback
 * that sends librdkafka's lines to log.h (module "kafka": client, facility and text) and an
 * error callback that logs its errors. Values of secret properties (names containing
 * "password" or "secret", ssl.key.pem, sasl.oauthbearer.config, sasl.jaas...) are registered
 * with log_add_secret() before anything is set, so no log line shows them.
 *
 * Errors: JB_EINPUT for a property librdkafka refuses (the message names kafka.rdkafka, the
 * property and librdkafka's reason; never the value), JB_ENOMEM.
 * Ownership: kconf_new() returns a configuration the caller owns until rd_kafka_new() takes it
 * (rd_kafka_conf_destroy() otherwise); strings are copied by librdkafka.
 * Threads: the callbacks may run on librdkafka's threads; they only call log.h.
 * This header does not include rdkafka.h: struct rd_kafka_conf_s is rd_kafka_conf_t.
 */
#ifndef KCONF_H
#define KCONF_H

#include <stddef.h>

#include "jb.h"

struct rd_kafka_conf_s;
struct rd_kafka_s;

enum kconf_role { KCONF_PRODUCER, KCONF_CONSUMER, KCONF_ADMIN };

struct kconf_opts {
        const char *brokers;   /* bootstrap.servers (required) */
        const char *client_id; /* client.id, e.g. "jibe-parse" (NULL: "jibe") */
        enum kconf_role role;
        int quiet;    /* librdkafka's lines at debug level only: for commands that
                                   * report what failed in a sentence of their own */
        void *opaque; /* rd_kafka_conf_set_opaque() */
};

/*
 * A new configuration with what every client gets (see above). The caller then sets its
 * defaults with kconf_set(), and the pass-through properties with kconf_props().
 * NULL on failure with errstr set.
 */
struct rd_kafka_conf_s *kconf_new(const struct kconf_opts *o, char *errstr, size_t errsz);

/* One checked rd_kafka_conf_set(); origin names where the value comes from ("jibe default",
 * "consumer group"...) for the error message. */
int kconf_set(struct rd_kafka_conf_s *conf, const char *name, const char *value, const char *origin,
              char *errstr, size_t errsz) JB_MUST_CHECK;

/*
 * Set the properties meant for role (n entries, or NULL-terminated when n is KCONF_NULL_ENDED).
 * Registers their secrets first.
 */
#define KCONF_NULL_ENDED ((size_t)-1)
int kconf_props(struct rd_kafka_conf_s *conf, enum kconf_role role, const char *const *props, size_t n,
                char *errstr, size_t errsz) JB_MUST_CHECK;

/* Register the secret values among props with log_add_secret() (also when no client is built). */
void kconf_register_secrets(const char *const *props, size_t n);
/* Whether the property "name=value" (a producer./consumer. prefix allowed) holds a secret. */
int kconf_prop_is_secret(const char *prop);

/*
 * What `jibe check-config` asks: would every client accept these properties? Builds a producer,
 * a consumer and an admin configuration (no connection) and applies props to each.
 */
int kconf_check(const char *const *props, size_t n, char *errstr, size_t errsz) JB_MUST_CHECK;

/* Log a librdkafka error as every client does (warning; fatal ones as errors, with librdkafka's
 * fatal reason). Returns 1 when err was fatal. For clients that install their own error callback. */
int kconf_log_error(struct rd_kafka_s *rk, int err, const char *reason);

/* ---- names ---- */

enum kconf_name {
        KN_FILES,         /* "<prefix>files": scanner -> parser */
        KN_EVENTS,        /* "<prefix>events": parser -> syncer */
        KN_DEAD,          /* "<prefix>dead": dead letters */
        KN_STATUS,        /* "<prefix>status": the scanner's processed files (compacted) */
        KN_GROUP_PARSE,   /* "<prefix>parse": the parsers' group, reads KN_FILES */
        KN_GROUP_SYNC,    /* "<prefix>sync": the syncers' group, reads KN_EVENTS */
        KN_GROUP_REDRIVE, /* "<prefix>redrive": `jibe redrive`'s group, reads KN_DEAD */
        KN_COUNT
};

/* "<prefix><name>" into out (prefix NULL: none). JB_EINPUT when it does not fit. */
int kconf_name(char *out, size_t n, const char *prefix, enum kconf_name which) JB_MUST_CHECK;
/* The name without the prefix ("files", "parse" ...). */
const char *kconf_base(enum kconf_name which);
/* The topic a group reads (KN_GROUP_PARSE -> KN_FILES ...), or KN_COUNT for a topic. */
enum kconf_name kconf_group_topic(enum kconf_name group);

/* rd_kafka_wait_destroyed(): call once at exit of a process that used Kafka, after every
 * client was destroyed (the log may be closed already: it logs nothing). JB_ETRANSIENT when
 * librdkafka still had threads or handles after timeout_ms. */
int kconf_wait_destroyed(int timeout_ms);

#endif
