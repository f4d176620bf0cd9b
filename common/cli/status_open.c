/*
 * status_open.c - the seam between a configuration and the shared status (docs/STATUS.md):
 * which status store a command uses and under which instance name this process publishes.
 *
 *   jibe run               status.folder when set (the Access Anywhere folder), else none
 *   jibe scan/parse/sync   the Kafka status topic "<kafka.topic_prefix>status"
 *   jibe status            --from kafka: the topic; --from folder: status.folder; default:
 *                          the topic when kafka.brokers is set, else status.folder, else none
 *
 * Owns nothing: the store it opens belongs to the caller (status_store_free()).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aa.h"
#include "cfg.h"
#include "cli.h"
#include "kconf.h"
#include "status_store.h"

static int is_stage(const char *cmd)
{
        return cmd && (!strcmp(cmd, "scan") || !strcmp(cmd, "parse") || !strcmp(cmd, "sync"));
}

int cli_status_instance(const struct cfg *cfg, const char *cmd, const char *instance_id, char *out,
                        size_t n, char *err, size_t errsz)
{
        char host[256];
        const char *base = cfg->status_instance;
        int len;

        if (!base || !*base)
                base = instance_id && *instance_id ? instance_id : cfg->kafka_instance_id;
        if (!base || !*base) {
                if (gethostname(host, sizeof(host)) != 0 || !host[0])
                        return jb_seterr(
                                JB_EFATAL, err, errsz,
                                "this host has no name: set status.instance to this instance's name");
                host[sizeof(host) - 1] = '\0';
                base = host;
        }
        len = is_stage(cmd) ? snprintf(out, n, "%s-%s", base, cmd) : snprintf(out, n, "%s", base);
        if (len < 0 || (size_t)len >= n)
                return jb_seterr(JB_EINPUT, err, errsz, "the instance name \"%.40s...\" is too long",
                                 base);
        return status_instance_check(out, err, errsz);
}

static int open_kafka(const struct cfg *cfg, struct status_store **out, char *err, size_t errsz)
{
        char topic[256];
        const char **props;

        if (!cfg->kafka_brokers || !*cfg->kafka_brokers)
                return jb_seterr(JB_EFATAL, err, errsz,
                                 "kafka.brokers is not set: the status topic is in the Kafka cluster");
        if (kconf_name(topic, sizeof(topic), cfg->kafka_topic_prefix, KN_STATUS) != JB_OK)
                return jb_seterr(JB_EINPUT, err, errsz, "kafka.topic_prefix is too long");
        props = kafka_props(cfg);
        if (!props)
                return jb_seterr(JB_ENOMEM, err, errsz, "out of memory");
        *out = status_store_kafka_new(cfg->kafka_brokers, topic, props, err, errsz);
        free(props);
        return *out ? JB_OK : JB_EFATAL;
}

static int open_folder(const struct cfg *cfg, struct status_store **out, char *err, size_t errsz)
{
        struct aa_opts ao;

        if (!cfg->status_folder || !*cfg->status_folder)
                return jb_seterr(
                        JB_EFATAL, err, errsz,
                        "status.folder is not set: no Access Anywhere folder holds the instances' status");
        run_aa_opts(cfg, &ao);
        *out = status_store_aa_new(&ao, cfg->status_folder, err, errsz);
        return *out ? JB_OK : JB_EFATAL;
}

int cli_status_store(const struct cfg *cfg, const char *cmd, enum status_from from,
                     struct status_store **out, char *err, size_t errsz)
{
        *out = NULL;
        if (is_stage(cmd))
                return open_kafka(cfg, out, err, errsz);
        if (cmd && !strcmp(cmd, "run"))
                return cfg->status_folder && *cfg->status_folder ? open_folder(cfg, out, err, errsz)
                                                                 : JB_OK;
        switch (from) {
        case STATUS_FROM_KAFKA:
                return open_kafka(cfg, out, err, errsz);
        case STATUS_FROM_FOLDER:
                return open_folder(cfg, out, err, errsz);
        case STATUS_FROM_AUTO:
        default:
                if (cfg->kafka_brokers && *cfg->kafka_brokers)
                        return open_kafka(cfg, out, err, errsz);
                if (cfg->status_folder && *cfg->status_folder)
                        return open_folder(cfg, out, err, errsz);
                return JB_OK;
        }
}

const char *cli_status_from_name(enum status_from from)
{
        return from == STATUS_FROM_KAFKA ? "kafka" : from == STATUS_FROM_FOLDER ? "folder" : "auto";
}

int cli_status_from_parse(const char *s, enum status_from *out)
{
        if (!strcmp(s, "kafka"))
                *out = STATUS_FROM_KAFKA;
        else if (!strcmp(s, "folder"))
                *out = STATUS_FROM_FOLDER;
        else if (!strcmp(s, "auto"))
                *out = STATUS_FROM_AUTO;
        else
                return -1;
        return 0;
}
