/*
 * stage_cli.c - the distributed mode: `jibe scan`, `jibe parse`, `jibe sync` (each stage its
 * own process over Kafka).
 *
 * Owns: building the Kafka transport for a stage (topics under kafka.topic_prefix, consumer
 * groups "<prefix>parse" and "<prefix>sync", static membership from kafka.instance_id or
 * --instance-id), the one stage of each process handed to the supervisor (supervise.h: the
 * same signals as `jibe run`) with its progress line.
 * Does not: contain stage logic (producer/, consumer/) or speak librdkafka (q_kafka*.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aa.h"
#include "cfg.h"
#include "cli.h"
#include "filehash.h"
#include "kadmin.h"
#include "kconf.h"
#include "log.h"
#include "msg.h"
#include "parser.h"
#include "q_kafka.h"
#include "scan_store.h"
#include "scanner.h"
#include "sig.h"
#include "stage_opts.h"
#include "supervise.h"
#include "syncer.h"

enum stage { ST_SCAN, ST_PARSE, ST_SYNC };

static const char *const stage_names[] = {"scan", "parse", "sync"};

static void usage_stage(FILE *fp)
{
        fprintf(fp,
                "usage: jibe scan|parse|sync -c FILE [--instance-id ID]\n"
                "\n"
                "Runs one stage of jibe as its own process, talking to the others through Kafka\n"
                "(kafka.brokers in the configuration; create the topics first with\n"
                "'jibe topics --create -c FILE'):\n"
                "  scan    finds new CloudTrail log files and publishes them (<prefix>files); it\n"
                "          remembers processed files in the compacted <prefix>status topic, so it can\n"
                "          move to another host. Give each scanner its own scanner.sources.\n"
                "  parse   reads log files, publishes object events (<prefix>events); any number of\n"
                "          parsers share the work in the consumer group <prefix>parse.\n"
                "  sync    resyncs objects in Access Anywhere; any number share <prefix>events in the\n"
                "          group <prefix>sync.\n"
                "SIGTERM/SIGINT finish the work in flight, commit and exit 0; SIGHUP reopens the log.\n"
                "\n"
                "  -c, --config FILE      configuration file\n"
                "  --instance-id ID       static group membership id of this process (unique per\n"
                "                         group; default kafka.instance_id)\n"
                "  -h, --help             this help\n"
                "  --version              print jibe's version\n");
}

const char **kafka_props(const struct cfg *cfg)
{
        const char **p = calloc(cfg->n_kafka_rdkafka + 1, sizeof(*p));
        size_t i;

        for (i = 0; p && i < cfg->n_kafka_rdkafka; i++)
                p[i] = cfg->kafka_rdkafka[i];
        return p;
}

static int need_kafka(const char *cmd, const struct cfg *cfg)
{
        if (cfg->kafka_brokers && *cfg->kafka_brokers)
                return 0;
        log_msg(LL_ERROR, cmd,
                "kafka.brokers is not set: the distributed stages need a Kafka cluster (on a single "
                "machine, use 'jibe run')");
        return 1;
}

struct q *open_transport(const struct cfg *cfg, const char *cmd, int consume, const char *group_suffix,
                         const char *instance_id, char *err, size_t errsz)
{
        struct q_kafka_opts ko;
        char group[512], client[128], inst[512];
        const char **props = kafka_props(cfg);
        struct q *q;

        memset(&ko, 0, sizeof(ko));
        /* the group of the consumed topic (kconf_name): "<prefix>parse", "<prefix>sync", "<prefix>redrive" */
        if (group_suffix && kconf_name(group, sizeof(group), cfg->kafka_topic_prefix,
                                       consume == Q_FILES    ? KN_GROUP_PARSE
                                       : consume == Q_EVENTS ? KN_GROUP_SYNC
                                                             : KN_GROUP_REDRIVE)) {
                free(props);
                jb_seterr(JB_EINPUT, err, errsz, "kafka.topic_prefix is too long");
                return NULL;
        }
        snprintf(client, sizeof(client), "jibe-%s", cmd);
        ko.brokers = cfg->kafka_brokers;
        ko.topic_prefix = cfg->kafka_topic_prefix;
        ko.client_id = client;
        ko.consume = consume;
        ko.group_id = group_suffix ? group : NULL;
        if (instance_id && *instance_id) {
                /* one id per group: the same host runs a parser and a syncer */
                snprintf(inst, sizeof(inst), "%s-%s", instance_id, cmd);
                ko.instance_id = inst;
        }
        ko.max_inflight = (size_t)cfg->kafka_max_inflight;
        ko.props = props;
        q = q_kafka_new(&ko, err, errsz);
        free(props);
        return q;
}

/* The progress lines of the stage processes. */
static const struct supervise_field scan_line[] = {
        {"scans", {"scan.scans"}},
        {"files_found", {"scan.files_found"}},
        {"files_done", {"scan.files_done"}},
};
/* The progress lines name each field as `jibe run`'s does (run.c's run_line), so one
 * search finds it whatever the mode. */
static const struct supervise_field parse_line[] = {
        {"files_read", {"parse.files"}},
        {"files_quarantined", {"parse.files_quarantined"}},
        {"events", {"parse.events"}},
        {"dead_letters", {"parse.poison"}},
};
static const struct supervise_field sync_line[] = {
        {"events", {"sync.events"}},
        {"syncs", {"sync.syncs"}},
        {"bucket_syncs", {"sync.bucket_syncs"}},
        {"dead_letters", {"sync.dead_letters", "sync.poison"}},
        {"held_events", {"sync.held_events"}},
        {"outage_s", {"sync.outage_s"}},
        {"folder_refreshes", {"sync.folder_refreshes"}},
};

#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
        int consume; /* the topic it polls, -1: none */
        const struct supervise_field *line;
        size_t nline;
} stage_kinds[] = {
        [ST_SCAN] = {-1, scan_line, NFIELDS(scan_line)},
        [ST_PARSE] = {Q_FILES, parse_line, NFIELDS(parse_line)},
        [ST_SYNC] = {Q_EVENTS, sync_line, NFIELDS(sync_line)},
};

/* The status topic's name and the Kafka properties (freed by the caller); NULL with err. */
static const char **status_topic(const struct cfg *cfg, char *topic, size_t topicsz, char *err,
                                 size_t errsz)
{
        const char **props = kafka_props(cfg);

        if (!props) {
                jb_seterr(JB_ENOMEM, err, errsz, "out of memory");
        } else if (kconf_name(topic, topicsz, cfg->kafka_topic_prefix, KN_STATUS)) {
                jb_seterr(JB_EINPUT, err, errsz, "kafka.topic_prefix is too long");
                free(props);
                props = NULL;
        }
        return props;
}

/* The scanner's memory: the compacted status topic. NULL with err. */
static struct scan_store *status_store(const struct cfg *cfg, char *err, size_t errsz)
{
        const char **props;
        struct scan_store *store = NULL;
        char topic[512];

        if ((props = status_topic(cfg, topic, sizeof(topic), err, errsz)))
                store = scan_store_kafka_new(cfg->kafka_brokers, topic, props, err, errsz);
        free(props);
        return store;
}

/* The parser's SHA-256 of each file, for the scanner's digest checks: also in the status
 * topic. *out NULL when digests are off; JB_OK, or an error with err. */
static int hash_store(const struct cfg *cfg, const struct stage_opts *so, struct filehash **out,
                      char *err, size_t errsz)
{
        const char **props;
        char topic[512];

        *out = NULL;
        if (!so->scan.digests)
                return JB_OK;
        if (!(props = status_topic(cfg, topic, sizeof(topic), err, errsz)))
                return JB_EINPUT;
        *out = filehash_kafka_new(cfg->kafka_brokers, topic, props, err, errsz);
        free(props);
        return *out ? JB_OK : JB_EFATAL;
}

/* The one stage of this process on q, under the supervisor; takes q. */
static int stage_supervise(enum stage which, const struct cfg *cfg, const struct aa_opts *ao,
                           const struct stage_opts *so, struct q *q, struct scan_store *store,
                           const char *instance)
{
        struct jb_stage *st[2] = {
                which == ST_SCAN    ? scanner_stage(&so->scan, ao, q, store)
                : which == ST_PARSE ? parser_stage(&so->parse, ao, q)
                                    : syncer_stage(&so->sync, ao, q),
                run_status_stage(cfg, ao, stage_names[which], instance,
                                 which == ST_SCAN), /* starts first, stops last */
        };
        struct supervise_opts sv;
        char running[1024];

        if (!st[0] || !st[1]) {
                if (st[0])
                        st[0]->ops->free(st[0]);
                if (st[1])
                        st[1]->ops->free(st[1]);
                q_shutdown(q);
                q_free(q);
                return supervise_not_started(stage_names[which], "out of memory");
        }
        snprintf(running, sizeof(running), "running on Kafka %s, topics %s*", cfg->kafka_brokers,
                 cfg->kafka_topic_prefix);
        memset(&sv, 0, sizeof(sv));
        sv.cmd = stage_names[which];
        sv.q = q;
        sv.stages = st;
        sv.nstages = 2;
        sv.line = stage_kinds[which].line;
        sv.nline = stage_kinds[which].nline;
        sv.running = running;
        sv.log_file = cfg->log_file;
        return supervise(&sv);
}

static int stage_main(enum stage which, int argc, char **argv)
{
        const char *cmd = stage_names[which];
        const char *extra_name = "--instance-id", *instance = NULL, *cfgpath;
        struct cfg cfg;
        struct aa_opts ao;
        struct stage_opts so;
        struct q *q = NULL;
        struct scan_store *store = NULL;
        struct filehash *hashes = NULL;
        struct metrics_http *mh = NULL;
        char err[1024], status_name[256];
        int rc, ret = 1;

        cfgpath = run_config_arg(cmd, argc, argv, usage_stage, &extra_name, &instance, &rc);
        if (!cfgpath)
                return rc;
        if (run_setup(cmd, cfgpath, &cfg, &ao))
                return 1;
        memset(&so, 0, sizeof(so));
        if (stage_opts_from_cfg(&cfg, &so, err, sizeof(err))) {
                log_msg(LL_ERROR, cmd, "%s", err);
                goto out;
        }
        if (cli_status_instance(&cfg, cmd, instance, status_name, sizeof(status_name), err,
                                sizeof(err))) {
                log_msg(LL_ERROR, cmd, "%s", err);
                goto out;
        }
        run_status_init(&cfg, cmd, status_name);
        if (!instance)
                instance = cfg.kafka_instance_id;
        if (need_kafka(cmd, &cfg) || run_metrics_start(cmd, &cfg, which == ST_SCAN, &mh) ||
            run_check_login(cmd, &ao))
                goto out;
        q = open_transport(&cfg, cmd, stage_kinds[which].consume, which == ST_SCAN ? NULL : cmd,
                           instance, err, sizeof(err));
        if (!q) {
                log_msg(LL_ERROR, cmd, "cannot connect to Kafka: %s", err);
                goto out;
        }
        if ((which == ST_SCAN && !(store = status_store(&cfg, err, sizeof(err)))) ||
            (which != ST_SYNC && hash_store(&cfg, &so, &hashes, err, sizeof(err)))) {
                ret = supervise_not_started(cmd, err);
                q_shutdown(q);
                q_free(q);
                scan_store_free(store);
                goto out;
        }
        so.scan.hashes = which == ST_SCAN ? hashes : NULL;
        so.parse.hashes = which == ST_PARSE ? hashes : NULL;
        /* Frees the stage and q: q_free() flushes what was published (their reports reach the
         * scanner), commits what is complete, reports the rest as never completed; the
         * scanner saves its memory last. */
        if (run_alerts_start(cmd, &cfg)) {
                q_shutdown(q);
                q_free(q);
                scan_store_free(store);
                goto out;
        }
        ret = stage_supervise(which, &cfg, &ao, &so, q, store, status_name);
        run_alerts_stop(); /* after the stage: its last alerts */
        scan_store_free(store);
out:
        filehash_free(hashes); /* after the stage */
        run_metrics_stop(mh, ret);
        stage_opts_clear(&so);
        cfg_clear(&cfg);
        log_close();
        return ret;
}

int scan_main(int argc, char **argv)
{
        return stage_main(ST_SCAN, argc, argv);
}

int parse_main(int argc, char **argv)
{
        return stage_main(ST_PARSE, argc, argv);
}

int sync_main(int argc, char **argv)
{
        return stage_main(ST_SYNC, argc, argv);
}
