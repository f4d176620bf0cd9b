/*
 * stage_cli.c - the distributed mode: `jibe scan`, `jibe parse`, `jibe sync` (each stage its
 * own process over Kafka), `jibe topics --create` and `jibe redrive`.
 *
 * Owns: building the Kafka transport for a stage (topics under kafka.topic_prefix, consumer
 * groups "<prefix>parse" and "<prefix>sync", static membership from kafka.instance_id or
 * --instance-id), the one stage of each process handed to the supervisor (supervise.h: the
 * same signals as `jibe run`) with its progress line, and the dead-letter redrive.
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
#include "log.h"
#include "msg.h"
#include "parser.h"
#include "q.h"
#include "redrive.h"
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
                "                         group; default kafka.instance_id)\n");
}

/* "name=value" props of the configuration, NULL-terminated, borrowed from cfg. */
static const char **kafka_props(const struct cfg *cfg)
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

static struct q *open_transport(const struct cfg *cfg, const char *cmd, int consume,
                                const char *group_suffix, const char *instance_id, char *err,
                                size_t errsz)
{
        struct q_kafka_opts ko;
        char group[512], client[128], inst[512];
        const char **props = kafka_props(cfg);
        struct q *q;

        memset(&ko, 0, sizeof(ko));
        snprintf(group, sizeof(group), "%s%s", cfg->kafka_topic_prefix, group_suffix ? group_suffix : "");
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
static const struct supervise_field parse_line[] = {
        {"files", {"parse.files"}},
        {"quarantined", {"parse.files_quarantined"}},
        {"events", {"parse.events"}},
        {"poison", {"parse.poison"}},
};
static const struct supervise_field sync_line[] = {
        {"events", {"sync.events"}},
        {"syncs", {"sync.syncs"}},
        {"bucket_syncs", {"sync.bucket_syncs"}},
        {"dead", {"sync.dead_letters"}},
        {"poison", {"sync.poison"}},
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

/* The scanner's memory: the compacted status topic. NULL with err. */
static struct scan_store *status_store(const struct cfg *cfg, char *err, size_t errsz)
{
        const char **props = kafka_props(cfg);
        struct scan_store *store;
        char topic[512];

        snprintf(topic, sizeof(topic), "%sstatus", cfg->kafka_topic_prefix);
        store = props ? scan_store_kafka_new(cfg->kafka_brokers, topic, props, err, errsz) : NULL;
        if (!props)
                jb_seterr(JB_ENOMEM, err, errsz, "out of memory");
        free(props);
        return store;
}

/* The one stage of this process on q, under the supervisor; takes q. */
static int stage_supervise(enum stage which, const struct cfg *cfg, const struct aa_opts *ao,
                           const struct stage_opts *so, struct q *q, struct scan_store *store)
{
        struct jb_stage *st = which == ST_SCAN    ? scanner_stage(&so->scan, ao, q, store)
                              : which == ST_PARSE ? parser_stage(&so->parse, ao, q)
                                                  : syncer_stage(&so->sync, ao, q);
        struct supervise_opts sv;
        char running[1024];

        if (!st) {
                q_shutdown(q);
                q_free(q);
                return supervise_not_started(stage_names[which], "out of memory");
        }
        snprintf(running, sizeof(running), "running on Kafka %s, topics %s*", cfg->kafka_brokers,
                 cfg->kafka_topic_prefix);
        memset(&sv, 0, sizeof(sv));
        sv.cmd = stage_names[which];
        sv.q = q;
        sv.stages = &st;
        sv.nstages = 1;
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
        char err[1024];
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
        if (!instance)
                instance = cfg.kafka_instance_id;
        if (need_kafka(cmd, &cfg) || run_check_login(cmd, &ao))
                goto out;
        q = open_transport(&cfg, cmd, stage_kinds[which].consume, which == ST_SCAN ? NULL : cmd, instance,
                           err, sizeof(err));
        if (!q) {
                log_msg(LL_ERROR, cmd, "cannot connect to Kafka: %s", err);
                goto out;
        }
        if (which == ST_SCAN && !(store = status_store(&cfg, err, sizeof(err)))) {
                ret = supervise_not_started(cmd, err);
                q_shutdown(q);
                q_free(q);
                goto out;
        }
        /* Frees the stage and q: q_free() flushes what was published (their reports reach the
         * scanner), commits what is complete, reports the rest as never completed; the
         * scanner saves its memory last. */
        ret = stage_supervise(which, &cfg, &ao, &so, q, store);
        scan_store_free(store);
out:
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

/* ---- jibe topics ---- */

static void usage_topics(FILE *fp)
{
        fprintf(fp, "usage: jibe topics --create -c FILE\n"
                    "\n"
                    "Creates jibe's Kafka topics under kafka.topic_prefix: files and events (with\n"
                    "kafka.partitions partitions, kafka.replication replicas and kafka.retention_h\n"
                    "hours of retention: the history replay can go back to), dead (dead letters, kept\n"
                    "longer) and status (compacted: the scanners' memory). Topics that exist are left\n"
                    "as they are.\n");
}

/* Remove a flag from argv; returns whether it was there. */
static int take_flag(int *argc, char **argv, const char *flag)
{
        int i, found = 0;

        for (i = 1; i < *argc; i++) {
                if (!strcmp(argv[i], flag)) {
                        memmove(argv + i, argv + i + 1, (size_t)(*argc - i - 1) * sizeof(*argv));
                        (*argc)--;
                        i--;
                        found = 1;
                }
        }
        return found;
}

int topics_main(int argc, char **argv)
{
        const char *cfgpath;
        const char **props;
        struct cfg cfg;
        char err[1024];
        int rc, want_create = take_flag(&argc, argv, "--create");

        cfgpath = run_config_arg("topics", argc, argv, usage_topics, NULL, NULL, &rc);
        if (!cfgpath)
                return rc;
        if (!want_create) {
                usage_topics(stderr);
                return 2;
        }
        if (cfg_load(&cfg, cfgpath, err, sizeof(err)) != JB_OK) {
                fprintf(stderr, "jibe topics: %s\n", err);
                return 1;
        }
        if (!cfg.kafka_brokers || !*cfg.kafka_brokers) {
                fprintf(stderr, "jibe topics: kafka.brokers is not set in %s\n", cfgpath);
                cfg_clear(&cfg);
                return 1;
        }
        props = kafka_props(&cfg);
        rc = q_kafka_create_topics(cfg.kafka_brokers, cfg.kafka_topic_prefix, (int)cfg.kafka_partitions,
                                   (int)cfg.kafka_replication, (int64_t)cfg.kafka_retention_h * 3600000,
                                   props, err, sizeof(err));
        free(props);
        if (rc)
                fprintf(stderr, "jibe topics: %s\n", err);
        else
                printf("topics %sfiles, %sevents, %sdead, %sstatus are ready\n", cfg.kafka_topic_prefix,
                       cfg.kafka_topic_prefix, cfg.kafka_topic_prefix, cfg.kafka_topic_prefix);
        cfg_clear(&cfg);
        return rc ? 1 : 0;
}

/* ---- jibe redrive ---- */

struct redrive_counts {
        unsigned long files, events, unusable;
};

static int redrivable(int target, const struct msg_dead *d)
{
        struct msg_logfile lf;
        struct msg_objevent ev;
        char e[256];

        if (target == Q_FILES && msg_logfile_decode(d->payload, d->payload_len, &lf, e, sizeof(e)) == JB_OK) {
                msg_logfile_clear(&lf);
                return 1;
        }
        if (target == Q_EVENTS &&
            msg_objevent_decode(d->payload, d->payload_len, &ev, e, sizeof(e)) == JB_OK) {
                msg_objevent_clear(&ev);
                return 1;
        }
        return 0;
}

int redrive_main(int argc, char **argv)
{
        struct redrive_opts o;
        struct cfg cfg;
        struct q *q = NULL;
        struct redrive_counts n = {0, 0, 0};
        char err[1024], what[1400], line[2400];
        int rc, ret = 1, execute;
        int64_t started_ms = msg_now_ms();

        if (redrive_args(argc, argv, &o, &rc))
                return rc;
        execute = o.execute;
        if (cfg_load(&cfg, o.cfgpath, err, sizeof(err)) != JB_OK) {
                fprintf(stderr, "jibe redrive: %s\n", err);
                return 1;
        }
        if (!cfg.kafka_brokers || !*cfg.kafka_brokers) {
                ret = redrive_embedded(&cfg, &o); /* the dead-letter file of jibe run */
                goto out;
        }
        if (o.discard || o.id >= 0 || (execute && redrive_filtered(&o))) {
                fprintf(stderr, "jibe redrive: in the Kafka mode, --execute puts back every dead letter not "
                                "yet redriven: --discard, --id and filters with --execute are for the "
                                "embedded mode (filters narrow the listing)\n");
                ret = 2;
                goto out;
        }
        q = open_transport(&cfg, "redrive", Q_DEAD, "redrive", NULL, err, sizeof(err));
        if (!q) {
                fprintf(stderr, "jibe redrive: %s\n", err);
                goto out;
        }
        for (;;) {
                struct q_msg *m = NULL;
                struct msg_dead d;
                int target = -1;

                rc = q_poll(q, Q_DEAD, 5000, &m);
                if (rc == JB_ETRANSIENT)
                        break; /* nothing more within 5 s: the end */
                if (rc)
                        break;
                if (msg_dead_decode(m->payload, m->len, &d, err, sizeof(err)) == JB_OK && d.payload) {
                        if (d.at_ms > started_ms || !redrive_match(&o, &d)) {
                                /* written after this redrive began (maybe by it): next time */
                                q_abandon(q, m);
                                msg_dead_clear(&d);
                                continue;
                        }
                        /* only what its stage can read again goes back; a message that never
                         * decoded would only come back as a dead letter */
                        if (!strcmp(d.stage, "parse") && redrivable(Q_FILES, &d))
                                target = Q_FILES;
                        else if (!strcmp(d.stage, "sync") && redrivable(Q_EVENTS, &d))
                                target = Q_EVENTS;
                }
                if (target < 0) {
                        n.unusable++;
                        printf("skip: %s (%.80s)\n",
                               d.stage ? "its message cannot be read by any stage: it stays a dead letter"
                                       : "not a dead letter jibe can put back",
                               d.error ? d.error : m->payload);
                        if (execute)
                                q_ack(q, m);
                        else
                                q_abandon(q, m);
                        msg_dead_clear(&d);
                        continue;
                }
                redrive_what(&d, what, sizeof(what));
                redrive_line(&d, line, sizeof(line));
                printf("%s %s\n  %s\n", execute ? "redrive" : "would redrive", what, line);
                if (target == Q_FILES)
                        n.files++;
                else
                        n.events++;
                if (execute) {
                        /* the message goes back with its original key when it decodes */
                        struct buf key;
                        struct msg_logfile lf;
                        struct msg_objevent ev;
                        char e2[256];

                        buf_init(&key, MSG_MAX_BYTES);
                        if (target == Q_FILES &&
                            msg_logfile_decode(d.payload, d.payload_len, &lf, e2, sizeof(e2)) == JB_OK) {
                                rc = msg_logfile_key(&lf, &key);
                                msg_logfile_clear(&lf);
                        } else if (target == Q_EVENTS &&
                                   msg_objevent_decode(d.payload, d.payload_len, &ev, e2, sizeof(e2)) ==
                                           JB_OK) {
                                rc = msg_objevent_key(&ev, &key);
                                msg_objevent_clear(&ev);
                        } else {
                                rc = buf_puts(&key, "redriven");
                        }
                        if (!rc)
                                rc = q_publish(q, (enum q_topic)target, key.p, key.len, d.payload,
                                               d.payload_len, m, NULL, NULL, err, sizeof(err));
                        buf_clear(&key);
                        if (rc) {
                                fprintf(stderr, "jibe redrive: %s\n", err);
                                q_abandon(q, m);
                                msg_dead_clear(&d);
                                break;
                        }
                        q_ack(q, m);
                } else {
                        q_abandon(q, m);
                }
                msg_dead_clear(&d);
        }
        q_shutdown(q);
        printf("%s %lu log file(s) and %lu event(s); %lu dead letter(s) not usable\n",
               execute ? "redriven:" : "would redrive (run again with --execute):", n.files, n.events,
               n.unusable);
        ret = 0;
out:
        q_free(q); /* waits for the deliveries, then commits the consumed dead letters */
        cfg_clear(&cfg);
        return ret;
}
