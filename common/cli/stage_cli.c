/*
 * stage_cli.c - the distributed mode: `jibe scan`, `jibe parse`, `jibe sync` (each stage its
 * own process over Kafka).
 *
 * Owns: building the Kafka transport for a stage (topics under kafka.topic_prefix, consumer
 * groups "<prefix>parse" and "<prefix>sync", static membership from kafka.instance_id or
 * --instance-id; also used by `jibe topics` and `jibe redrive`), the stage process life cycle
 * (the same signals as `jibe run`).
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
#include "kadmin.h"
#include "kconf.h"
#include "log.h"
#include "msg.h"
#include "parser.h"
#include "q_kafka.h"
#include "scan_store.h"
#include "scanner.h"
#include "sig.h"
#include "syncer.h"

#define STAGE_GRACE_MS 30000
#define STAGE_PROGRESS_S 60

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

struct q *open_transport(const struct cfg *cfg, const char *cmd, int consume,
                                const char *group_suffix, const char *instance_id, char *err,
                                size_t errsz)
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

static int stage_main(enum stage which, int argc, char **argv)
{
        const char *cmd = stage_names[which];
        const char *extra_name = "--instance-id", *instance = NULL, *cfgpath;
        struct cfg cfg;
        struct aa_opts ao;
        struct q *q = NULL;
        struct scan_store *store = NULL;
        struct scanner *sc = NULL;
        struct parser *pa = NULL;
        struct syncer *sy = NULL;
        char err[1024], topic[512];
        int rc, ret = 1;
        int64_t last_progress;

        cfgpath = run_config_arg(cmd, argc, argv, usage_stage, &extra_name, &instance, &rc);
        if (!cfgpath)
                return rc;
        if (run_setup(cmd, cfgpath, &cfg, &ao))
                return 1;
        if (!instance)
                instance = cfg.kafka_instance_id;
        if (need_kafka(cmd, &cfg) || run_check_login(cmd, &ao))
                goto out;
        q = open_transport(&cfg, cmd, which == ST_SCAN ? -1 : which == ST_PARSE ? Q_FILES : Q_EVENTS,
                           which == ST_SCAN ? NULL : cmd, instance, err, sizeof(err));
        if (!q) {
                log_msg(LL_ERROR, cmd, "cannot connect to Kafka: %s", err);
                goto out;
        }
        switch (which) {
        case ST_SCAN: {
                const char **props = kafka_props(&cfg);

                store = props && !kconf_name(topic, sizeof(topic), cfg.kafka_topic_prefix, KN_STATUS)
                                ? scan_store_kafka_new(cfg.kafka_brokers, topic, props, err, sizeof(err))
                                : NULL;
                free(props);
                rc = store ? scanner_start(&cfg, &ao, q, store, &sc, err, sizeof(err)) : JB_EFATAL;
                break;
        }
        case ST_PARSE:
                rc = parser_start(&cfg, &ao, q, &pa, err, sizeof(err));
                break;
        default:
                rc = syncer_start(&cfg, &ao, q, &sy, err, sizeof(err));
                break;
        }
        if (rc && sig_stop_requested()) {
                log_msg(LL_INFO, cmd, "stopping on request before it was running (%s)", err);
                ret = 0;
                goto stop;
        }
        if (rc) {
                log_msg(LL_ERROR, cmd, "cannot start: %s", err);
                goto stop;
        }
        log_msg(LL_INFO, cmd, "running on Kafka %s, topics %s*", cfg.kafka_brokers, cfg.kafka_topic_prefix);
        ret = 0;
        last_progress = msg_now_ms();
        while (!sig_stop_requested()) {
                struct timespec ts = {0, 200 * 1000000L};

                nanosleep(&ts, NULL);
                if (sig_take_hup() && log_reopen() != JB_OK)
                        log_msg(LL_ERROR, cmd, "cannot reopen the log file");
                if (sig_take_usr1() && sc)
                        scanner_kick(sc);
                if ((sc && scanner_failed(sc)) || (pa && parser_failed(pa)) || (sy && syncer_failed(sy)) ||
                    q_failed(q)) {
                        log_msg(LL_ERROR, cmd, "stopped on a fatal error (see above): exiting");
                        ret = 1;
                        break;
                }
                if (msg_now_ms() - last_progress >= STAGE_PROGRESS_S * 1000) {
                        last_progress = msg_now_ms();
                        if (sc) {
                                struct scanner_stats s;

                                scanner_get_stats(sc, &s);
                                log_msg(LL_INFO, cmd, "progress: scans=%llu files_found=%llu files_done=%llu",
                                        (unsigned long long)s.scans, (unsigned long long)s.files_published,
                                        (unsigned long long)s.files_done);
                        } else if (pa) {
                                struct parser_stats s;

                                parser_get_stats(pa, &s);
                                log_msg(LL_INFO, cmd,
                                        "progress: files=%llu quarantined=%llu events=%llu poison=%llu",
                                        (unsigned long long)s.files_ok,
                                        (unsigned long long)s.files_quarantined,
                                        (unsigned long long)s.events, (unsigned long long)s.poison);
                        } else if (sy) {
                                struct syncer_stats s;

                                syncer_get_stats(sy, &s);
                                log_msg(LL_INFO, cmd,
                                        "progress: events=%llu syncs=%llu bucket_syncs=%llu dead=%llu poison=%llu "
                                        "folder_refreshes=%llu",
                                        (unsigned long long)s.events, (unsigned long long)s.syncs_ok,
                                        (unsigned long long)s.syncs_bucket, (unsigned long long)s.dead,
                                        (unsigned long long)s.poison, (unsigned long long)s.refreshes);
                        }
                }
        }
        if (sig_stop_requested())
                log_msg(LL_INFO, cmd, "stopping: finishing the work in flight");
stop:
        scanner_stop(sc);
        parser_stop(pa, STAGE_GRACE_MS);
        syncer_stop(sy, 0, STAGE_GRACE_MS);
        if (q)
                q_shutdown(q);
        parser_free(pa);
        syncer_free(sy);
        /* Flushes what was published (their reports reach the scanner), commits what is
         * complete, reports the rest as never completed. */
        q_free(q);
        scanner_free(sc); /* saves the scanner's memory last */
        scan_store_free(store);
        log_msg(LL_INFO, cmd, "stopped");
out:
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
