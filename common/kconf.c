/*
 * kconf.c - the librdkafka configuration of every jibe client and the names of jibe's topics
 * and groups (see kconf.h).
 *
 * Owns nothing between calls: each configuration goes to its caller.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "kconf.h"
#include "log.h"

#define KCONF_MOD "kafka"
#define KCONF_NAME_MAX 256 /* longer property names are refused */

static const char *const role_prefix[] = {"producer.", "consumer.", NULL};

/* ---- callbacks ---- */

static enum log_level level_of(int syslog_level)
{
        return syslog_level <= 3   ? LL_ERROR
               : syslog_level == 4 ? LL_WARN
               : syslog_level <= 6 ? LL_INFO
                                   : LL_DEBUG;
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
        log_msg(level_of(level), KCONF_MOD, "client=%s facility=%s %s", rd_kafka_name(rk), fac, buf);
}

static void on_log_quiet(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
        JB_UNUSED(level);
        log_msg(LL_DEBUG, KCONF_MOD, "client=%s facility=%s %s", rd_kafka_name(rk), fac, buf);
}

int kconf_log_error(rd_kafka_t *rk, int err, const char *reason)
{
        char why[512];

        if (err != RD_KAFKA_RESP_ERR__FATAL) {
                log_msg(LL_WARN, KCONF_MOD, "client=%s error=%s %s (librdkafka keeps retrying)",
                        rd_kafka_name(rk), rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
                return 0;
        }
        err = rd_kafka_fatal_error(rk, why, sizeof(why));
        log_msg(LL_ERROR, KCONF_MOD, "client=%s fatal=%s %s: this Kafka client cannot go on",
                rd_kafka_name(rk), rd_kafka_err2name((rd_kafka_resp_err_t)err), why);
        return 1;
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
        JB_UNUSED(opaque);
        (void)kconf_log_error(rk, err, reason);
}

static void on_error_quiet(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
        JB_UNUSED(opaque);
        if (err == RD_KAFKA_RESP_ERR__FATAL)
                (void)kconf_log_error(rk, err, reason);
        else
                log_msg(LL_DEBUG, KCONF_MOD, "client=%s error=%s %s", rd_kafka_name(rk),
                        rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

/* ---- properties ---- */

/* Split "name=value": the name (without a role prefix) into name, the prefix's role into
 * *role (-1: none). JB_EINPUT when it is not name=value. */
static int split_prop(const char *prop, char *name, size_t namesz, int *role, const char **value)
{
        const char *eq = strchr(prop, '=');
        size_t len;
        int r;

        if (!eq || eq == prop || (size_t)(eq - prop) >= namesz)
                return JB_EINPUT;
        len = (size_t)(eq - prop);
        *role = -1;
        for (r = 0; role_prefix[r]; r++) {
                size_t pl = strlen(role_prefix[r]);

                if (len > pl && !strncmp(prop, role_prefix[r], pl)) {
                        *role = r;
                        prop += pl;
                        len -= pl;
                        break;
                }
        }
        memcpy(name, prop, len);
        name[len] = '\0';
        *value = eq + 1;
        return JB_OK;
}

static size_t count_props(const char *const *props, size_t n)
{
        size_t i = 0;

        if (!props)
                return 0;
        if (n != KCONF_NULL_ENDED)
                return n;
        while (props[i])
                i++;
        return i;
}

/* 1 when a property's value is a secret (the same rule as the configuration's warning). */
static int is_secret(const char *name)
{
        char low[KCONF_NAME_MAX];
        size_t i;

        for (i = 0; name[i] && i + 1 < sizeof(low); i++)
                low[i] = (char)tolower((unsigned char)name[i]);
        low[i] = '\0';
        return strstr(low, "password") || strstr(low, "secret") || strstr(low, "ssl.key.pem") ||
               strstr(low, "sasl.oauthbearer.config") || strstr(low, "sasl.jaas");
}

int kconf_prop_is_secret(const char *prop)
{
        char name[KCONF_NAME_MAX];
        size_t n = strcspn(prop, "=");

        if (n >= sizeof(name))
                return 1; /* too long to tell: keep it out of every output */
        memcpy(name, prop, n);
        name[n] = '\0';
        return is_secret(name);
}

void kconf_register_secrets(const char *const *props, size_t n)
{
        char name[KCONF_NAME_MAX];
        const char *value;
        size_t i;
        int role;

        n = count_props(props, n);
        for (i = 0; i < n; i++)
                if (split_prop(props[i], name, sizeof(name), &role, &value) == JB_OK && *value &&
                    is_secret(name))
                        log_add_secret(value);
}

int kconf_set(rd_kafka_conf_t *conf, const char *name, const char *value, const char *origin,
              char *errstr, size_t errsz)
{
        char e[512];

        if (rd_kafka_conf_set(conf, name, value, e, sizeof(e)) != RD_KAFKA_CONF_OK)
                return jb_seterr(JB_EINPUT, errstr, errsz, "Kafka property %s (%s): %s", name, origin,
                                 e);
        return JB_OK;
}

/* kconf_props() with the messages' first words: "kafka.rdkafka" by default, nothing for
 * check-config (whose messages name the setting already). */
static int props_apply(rd_kafka_conf_t *conf, enum kconf_role role, const char *const *props, size_t n,
                       const char *label, char *errstr, size_t errsz)
{
        char name[KCONF_NAME_MAX];
        const char *value;
        char e[512];
        size_t i;
        int r;

        n = count_props(props, n);
        kconf_register_secrets(props, n);
        for (i = 0; i < n; i++) {
                if (split_prop(props[i], name, sizeof(name), &r, &value) != JB_OK)
                        return jb_seterr(JB_EINPUT, errstr, errsz,
                                         "%sitem %zu is not name=value (a librdkafka property, "
                                         "e.g. \"linger.ms=5\")",
                                         label, i + 1);
                if (r >= 0 && r != (int)role)
                        continue; /* meant for the other kind of client (the admin role takes none) */
                if (rd_kafka_conf_set(conf, name, value, e, sizeof(e)) != RD_KAFKA_CONF_OK)
                        return jb_seterr(JB_EINPUT, errstr, errsz, "%s\"%.*s\": %s", label,
                                         (int)strcspn(props[i], "="), props[i], e);
        }
        return JB_OK;
}

int kconf_props(rd_kafka_conf_t *conf, enum kconf_role role, const char *const *props, size_t n,
                char *errstr, size_t errsz)
{
        return props_apply(conf, role, props, n, "kafka.rdkafka: ", errstr, errsz);
}

rd_kafka_conf_t *kconf_new(const struct kconf_opts *o, char *errstr, size_t errsz)
{
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        const char *def = "jibe default";

        if (!conf) {
                jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                return NULL;
        }
        rd_kafka_conf_set_opaque(conf, o->opaque);
        rd_kafka_conf_set_log_cb(conf, o->quiet ? on_log_quiet : on_log);
        rd_kafka_conf_set_error_cb(conf, o->quiet ? on_error_quiet : on_error);
        if (kconf_set(conf, "bootstrap.servers", o->brokers ? o->brokers : "", "kafka.brokers", errstr,
                      errsz) ||
            kconf_set(conf, "client.id", o->client_id && *o->client_id ? o->client_id : "jibe",
                      "client id", errstr, errsz) ||
            kconf_set(conf, "log.connection.close", "false", def, errstr, errsz)) {
                rd_kafka_conf_destroy(conf);
                return NULL;
        }
        return conf;
}

int kconf_check(const char *const *props, size_t n, char *errstr, size_t errsz)
{
        static const enum kconf_role roles[] = {KCONF_PRODUCER, KCONF_CONSUMER, KCONF_ADMIN};
        size_t i;
        int rc = JB_OK;

        for (i = 0; rc == JB_OK && i < sizeof(roles) / sizeof(roles[0]); i++) {
                rd_kafka_conf_t *conf = rd_kafka_conf_new();

                if (!conf)
                        return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                rc = props_apply(conf, roles[i], props, n, "", errstr, errsz);
                rd_kafka_conf_destroy(conf);
        }
        return rc;
}

/* ---- names ---- */

static const char *const base_names[KN_COUNT] = {
        [KN_FILES] = "files",           [KN_EVENTS] = "events",     [KN_DEAD] = "dead",
        [KN_STATUS] = "status",         [KN_GROUP_PARSE] = "parse", [KN_GROUP_SYNC] = "sync",
        [KN_GROUP_REDRIVE] = "redrive",
};

const char *kconf_base(enum kconf_name which)
{
        return (unsigned)which < KN_COUNT ? base_names[which] : "";
}

int kconf_name(char *out, size_t n, const char *prefix, enum kconf_name which)
{
        int w = snprintf(out, n, "%s%s", prefix ? prefix : "", kconf_base(which));

        if (w < 0 || (size_t)w >= n)
                return JB_EINPUT;
        return JB_OK;
}

enum kconf_name kconf_group_topic(enum kconf_name group)
{
        switch (group) {
        case KN_GROUP_PARSE:
                return KN_FILES;
        case KN_GROUP_SYNC:
                return KN_EVENTS;
        case KN_GROUP_REDRIVE:
                return KN_DEAD;
        default:
                return KN_COUNT;
        }
}

int kconf_wait_destroyed(int timeout_ms)
{
        return rd_kafka_wait_destroyed(timeout_ms) == 0 ? JB_OK : JB_ETRANSIENT;
}
