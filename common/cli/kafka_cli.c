/*
 * kafka_cli.c - the Kafka admin commands: `jibe topics --create` (jibe's topics), `jibe lag`
 * (how far the Kafka consumer groups of jibe's stages are behind) and `jibe replay` (moving a
 * stopped stage's group back in time to process messages again).
 *
 * Owns the arguments, the output (a table or --json) and the exit codes; every Kafka question
 * goes through kadmin.h. Groups and topics follow the transport's names: the parser group
 * "<prefix>parse" reads "<prefix>files", the syncer group "<prefix>sync" reads "<prefix>events".
 * Exit codes: 0 done (or plan shown), 1 Kafka or configuration error, or replay refused while
 * the group has live members, 2 usage error.
 * Ownership: one struct cfg per run (when a file is read), kadmin handles and partition arrays
 * freed before return.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cfg.h"
#include "cli.h"
#include "kadmin.h"
#include "kconf.h"
#include "log.h"
#include "q.h"

#define KC_MAX_GROUPS 64

/* Options both commands share. */
struct kc_opts {
        const char *cmd;      /* "lag" or "replay", for messages */
        const char *cfg_path; /* NULL: none given */
        const char *brokers;  /* --brokers */
        const char *prefix;   /* --prefix */
        int json;
        int timeout_ms;
};

/* The connection the options and the configuration give; cfg stays loaded while it is used. */
struct kc_env {
        struct cfg cfg;
        int have_cfg;
        struct kadmin_conn conn;
        const char *prefix;
};

static void kc_env_clear(struct kc_env *e)
{
        if (e->have_cfg)
                cfg_clear(&e->cfg);
        e->have_cfg = 0;
}

enum {
        OPT_PREFIX = 0x200,
        OPT_JSON,
        OPT_TIMEOUT,
        OPT_GROUP,
        OPT_STAGE,
        OPT_TO_DATETIME,
        OPT_BY_DURATION,
        OPT_TO_EARLIEST,
        OPT_EXECUTE
};

/* The options both commands share, first in each table. */
#define KC_COMMON_OPTS                                                                                  \
        {"config", required_argument, NULL, 'c'}, {"brokers", required_argument, NULL, 'b'},            \
                {"prefix", required_argument, NULL, OPT_PREFIX}, {"json", no_argument, NULL, OPT_JSON}, \
        {                                                                                               \
                "timeout", required_argument, NULL, OPT_TIMEOUT                                         \
        }
#define KC_SHORT ":c:b:h"

/*
 * A shared option into o: 1 when opt is one (consumed), 0 when not, 2 on a bad value (said).
 */
static int kc_common_opt(struct cli *c, struct kc_opts *o, int opt, const char *v)
{
        char *end;
        long n;

        switch (opt) {
        case OPT_JSON:
                o->json = 1;
                return 1;
        case OPT_TIMEOUT:
                n = strtol(v, &end, 10);
                if (*end || end == v || n < 1 || n > 600)
                        return cli_bad_value(
                                c, "--timeout: \"%s\" is not a number of seconds from 1 to 600", v);
                o->timeout_ms = (int)n * 1000;
                return 1;
        case 'c':
        case 'b':
        case OPT_PREFIX:
                if (!*v)
                        return cli_bad_value(c, "%s needs a value",
                                             opt == 'c'   ? "--config"
                                             : opt == 'b' ? "--brokers"
                                                          : "--prefix");
                *(opt == 'c' ? &o->cfg_path : opt == 'b' ? &o->brokers : &o->prefix) = v;
                return 1;
        default:
                return 0;
        }
}

/* 0 ok, else the exit code (message printed). */
static int kc_env_init(struct kc_env *e, const struct kc_opts *o)
{
        char err[1024];
        const char *path = o->cfg_path;
        size_t i;

        memset(e, 0, sizeof(*e));
        if (!path && !o->brokers)
                path = CFG_DEFAULT_PATH;
        if (path) {
                if (cfg_load(&e->cfg, path, err, sizeof(err)) != JB_OK) {
                        fprintf(stderr, "jibe %s: %s%s\n", o->cmd, err,
                                o->cfg_path ? "" : " (give -c FILE, or --brokers HOST:PORT)");
                        return 1;
                }
                e->have_cfg = 1;
        }
        e->conn.brokers = o->brokers ? o->brokers : (e->have_cfg ? e->cfg.kafka_brokers : NULL);
        if (!e->conn.brokers) {
                fprintf(stderr,
                        "jibe %s: kafka.brokers is not set in %s: set it, or give --brokers HOST:PORT\n",
                        o->cmd, path);
                kc_env_clear(e);
                return 2;
        }
        e->prefix = o->prefix ? o->prefix : (e->have_cfg ? e->cfg.kafka_topic_prefix : "jibe.");
        for (i = 0; e->prefix[i]; i++)
                if (!isalnum((unsigned char)e->prefix[i]) && !strchr("._-", e->prefix[i])) {
                        fprintf(stderr,
                                "jibe %s: --prefix \"%s\": Kafka names allow only letters, digits, "
                                "'.', '_' and '-'\n",
                                o->cmd, e->prefix);
                        kc_env_clear(e);
                        return 2;
                }
        if (e->have_cfg) {
                e->conn.props = (const char *const *)e->cfg.kafka_rdkafka;
                e->conn.n_props = e->cfg.n_kafka_rdkafka;
        }
        e->conn.timeout_ms = o->timeout_ms;
        return 0;
}

static int64_t wall_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "45.2s", "12m05s", "3h07m", "2d05h". */
static void fmt_age(char *out, size_t n, double s)
{
        long v = (long)s;

        if (s < 60)
                snprintf(out, n, "%.1fs", s);
        else if (v < 3600)
                snprintf(out, n, "%ldm%02lds", v / 60, v % 60);
        else if (v < 86400)
                snprintf(out, n, "%ldh%02ldm", v / 3600, (v % 3600) / 60);
        else
                snprintf(out, n, "%ldd%02ldh", v / 86400, (v % 86400) / 3600);
}

static void fmt_offset(char *out, size_t n, int64_t v)
{
        if (v == KADMIN_NO_OFFSET)
                snprintf(out, n, "-");
        else
                snprintf(out, n, "%" PRId64, v);
}

static cJSON *json_offset(int64_t v)
{
        return v == KADMIN_NO_OFFSET ? cJSON_CreateNull() : cJSON_CreateNumber((double)v);
}

/* A new object in *arr for part p of group, with its group, topic, partition and committed
 * offset; NULL when out of memory, and then *arr is deleted and NULL. */
static cJSON *part_json(cJSON **arr, const char *group, const struct kadmin_part *p)
{
        cJSON *o = cJSON_CreateObject();

        if (!o) {
                cJSON_Delete(*arr);
                *arr = NULL;
                return NULL;
        }
        cJSON_AddItemToArray(*arr, o);
        cJSON_AddStringToObject(o, "group", group);
        cJSON_AddStringToObject(o, "topic", p->topic);
        cJSON_AddNumberToObject(o, "partition", p->partition);
        cJSON_AddItemToObject(o, "committed", json_offset(p->committed));
        return o;
}

static int print_json(cJSON *arr)
{
        char *s = cJSON_Print(arr);
        int rc = 0;

        if (!s) {
                fprintf(stderr, "jibe: out of memory\n");
                rc = 1;
        } else {
                printf("%s\n", s);
                cJSON_free(s);
        }
        cJSON_Delete(arr);
        return rc;
}

/* The topic a jibe stage's group reads ("<prefix>files" for "<prefix>parse"): 1 with out set, or 0. */
static int group_topic(const char *prefix, const char *group, char *out, size_t n)
{
        static const enum kconf_name stages[] = {KN_GROUP_PARSE, KN_GROUP_SYNC};
        char g[512];
        size_t i;

        for (i = 0; i < sizeof(stages) / sizeof(stages[0]); i++)
                if (!kconf_name(g, sizeof(g), prefix, stages[i]) && !strcmp(g, group))
                        return !kconf_name(out, n, prefix, kconf_group_topic(stages[i]));
        return 0;
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
                    "as they are.\n"
                    "\n"
                    "  -c, --config FILE   configuration file\n"
                    "  --create            create the topics that do not exist\n"
                    "  -h, --help          this help\n"
                    "  --version           print jibe's version\n");
}

/* -c FILE --create: 0 with *cfgpath set, or 1 with the exit code in *exitcode. */
static int topics_args(int argc, char **argv, const char **cfgpath, int *exitcode)
{
        static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                             {"create", no_argument, NULL, 'C'},
                                             CLI_OPTS_END};
        struct cli c = {"topics", ":c:h", opts, usage_topics, 0};
        int opt, create = 0;

        *cfgpath = NULL;
        while ((opt = cli_next(&c, argc, argv)) > 0) {
                if (opt == 'c')
                        *cfgpath = optarg;
                else
                        create = 1;
        }
        *exitcode = cli_finish(&c, opt, argc, argv);
        if (*exitcode < 0 && !*cfgpath)
                *exitcode = cli_usage_error(&c, "give the configuration file with -c FILE");
        else if (*exitcode < 0 && !create)
                *exitcode = cli_usage_error(&c, "say --create: it is the only action");
        return *exitcode >= 0;
}

/* "topics jibe.files, jibe.events, jibe.dead, jibe.status are ready" (kconf_name()). */
static void topics_ready(const char *prefix)
{
        static const enum kconf_name topics[] = {KN_FILES, KN_EVENTS, KN_DEAD, KN_STATUS};
        char name[512];
        size_t i;

        printf("topics");
        for (i = 0; i < sizeof(topics) / sizeof(topics[0]); i++)
                printf("%s %s", i ? "," : "",
                       kconf_name(name, sizeof(name), prefix, topics[i]) ? "?" : name);
        printf(" are ready\n");
}

int topics_main(int argc, char **argv)
{
        const char *cfgpath;
        struct cfg cfg;
        char err[1024];
        int rc;

        if (topics_args(argc, argv, &cfgpath, &rc))
                return rc;
        if (cfg_load(&cfg, cfgpath, err, sizeof(err)) != JB_OK) {
                fprintf(stderr, "jibe topics: %s\n", err);
                return 1;
        }
        if (!cfg.kafka_brokers || !*cfg.kafka_brokers) {
                fprintf(stderr, "jibe topics: kafka.brokers is not set in %s\n", cfgpath);
                cfg_clear(&cfg);
                return 1;
        }
        rc = kadmin_create_topics(&(struct kadmin_conn){cfg.kafka_brokers,
                                                        (const char *const *)cfg.kafka_rdkafka,
                                                        cfg.n_kafka_rdkafka, 0},
                                  cfg.kafka_topic_prefix, (int)cfg.kafka_partitions,
                                  (int)cfg.kafka_replication, (int64_t)cfg.kafka_retention_h * 3600000,
                                  err, sizeof(err));
        if (rc)
                fprintf(stderr, "jibe topics: %s\n", err);
        else
                topics_ready(cfg.kafka_topic_prefix);
        cfg_clear(&cfg);
        return rc ? 1 : 0;
}

/* ---- jibe lag ---- */

static void lag_usage(FILE *fp)
{
        fprintf(fp,
                "usage: jibe lag [-c FILE | --brokers HOST:PORT [--prefix P]] [--group G]... [--json]\n\n"
                "Shows how far jibe's Kafka consumer groups are behind: for each group, topic and partition\n"
                "the committed offset (\"-\": none yet), the end offset, the lag in messages (end - committed;\n"
                "without a commit end - the oldest offset kept), and the time lag: the age of the oldest\n"
                "message the group has not consumed yet.\n\n"
                "  -c, --config FILE     read kafka.brokers, kafka.topic_prefix, kafka.rdkafka from FILE\n"
                "                        (default %s unless --brokers is given)\n"
                "  -b, --brokers LIST    Kafka brokers, host:port[,host:port...] (overrides the file)\n"
                "  --prefix P            topic and group prefix (default kafka.topic_prefix, \"jibe.\")\n"
                "  --group G             a group to show (repeatable); default: <prefix>parse and <prefix>sync\n"
                "  --json                a JSON array of {group, topic, partition, committed, end, lag,\n"
                "                        time_lag_s, state, members} instead of a table\n"
                "  --timeout S           seconds to wait for each answer from Kafka (default 10)\n"
                "  -h, --help            this text\n"
                "  --version             print jibe's version\n\n"
                "exit codes: 0 shown, 1 Kafka or configuration error, 2 usage error\n",
                CFG_DEFAULT_PATH);
}

struct lag_group {
        const char *name;
        char topic[300];
        int has_topic;
        struct kadmin_group info;
        struct kadmin_part *parts;
        size_t n;
};

static void lag_print_table(const struct lag_group *g, size_t ng, int64_t now)
{
        size_t i, k;
        char c[32], t[32];

        for (i = 0; i < ng; i++) {
                const struct lag_group *lg = &g[i];
                int64_t total = 0;
                double oldest = 0;

                if (!strcmp(lg->info.state, "Dead") && !lg->info.members)
                        printf("%sgroup %s: no such group in Kafka yet (no member, nothing committed)\n",
                               i ? "\n" : "", lg->name);
                else
                        printf("%sgroup %s: %s, %d member%s\n", i ? "\n" : "", lg->name, lg->info.state,
                               lg->info.members, lg->info.members == 1 ? "" : "s");
                if (!lg->n) {
                        if (lg->has_topic)
                                printf("  no committed offsets, and topic %s does not exist\n",
                                       lg->topic);
                        else
                                printf("  no committed offsets\n");
                        continue;
                }
                printf("  %-24s %9s %12s %12s %10s %9s\n", "TOPIC", "PARTITION", "COMMITTED", "END",
                       "LAG", "TIME-LAG");
                for (k = 0; k < lg->n; k++) {
                        const struct kadmin_part *p = &lg->parts[k];
                        double age = 0;

                        fmt_offset(c, sizeof(c), p->committed);
                        if (p->lag == 0) {
                                snprintf(t, sizeof(t), "0");
                        } else if (p->oldest_ts_ms == KADMIN_NO_OFFSET) {
                                snprintf(t, sizeof(t), "?");
                        } else {
                                age = p->oldest_ts_ms < now ? (double)(now - p->oldest_ts_ms) / 1000.0
                                                            : 0;
                                fmt_age(t, sizeof(t), age);
                        }
                        if (age > oldest)
                                oldest = age;
                        total += p->lag;
                        printf("  %-24s %9" PRId32 " %12s %12" PRId64 " %10" PRId64 " %9s\n", p->topic,
                               p->partition, c, p->end, p->lag, t);
                }
                fmt_age(t, sizeof(t), oldest);
                printf("  total lag %" PRId64 " message%s%s%s\n", total, total == 1 ? "" : "s",
                       total ? ", oldest unconsumed " : "", total ? t : "");
        }
}

static int lag_print_json(const struct lag_group *g, size_t ng, int64_t now)
{
        cJSON *arr = cJSON_CreateArray(), *o;
        size_t i, k;

        for (i = 0; arr && i < ng; i++) {
                for (k = 0; k < g[i].n; k++) {
                        const struct kadmin_part *p = &g[i].parts[k];

                        if (!(o = part_json(&arr, g[i].name, p)))
                                break;
                        cJSON_AddNumberToObject(o, "end", (double)p->end);
                        cJSON_AddNumberToObject(o, "lag", (double)p->lag);
                        if (p->lag == 0)
                                cJSON_AddNumberToObject(o, "time_lag_s", 0);
                        else if (p->oldest_ts_ms == KADMIN_NO_OFFSET)
                                cJSON_AddNullToObject(o, "time_lag_s");
                        else
                                cJSON_AddNumberToObject(o, "time_lag_s",
                                                        p->oldest_ts_ms < now
                                                                ? (double)(now - p->oldest_ts_ms) /
                                                                          1000.0
                                                                : 0.0);
                        cJSON_AddStringToObject(o, "state", g[i].info.state);
                        cJSON_AddNumberToObject(o, "members", g[i].info.members);
                }
        }
        if (!arr) {
                fprintf(stderr, "jibe lag: out of memory\n");
                return 1;
        }
        return print_json(arr);
}

static const struct option lag_opts[] = {KC_COMMON_OPTS,
                                         {"group", required_argument, NULL, 'g'},
                                         CLI_OPTS_END};

/* The command line into o and groups: -1 to go on, else the exit code (said why). */
static int lag_args(int argc, char **argv, struct kc_opts *o, struct lag_group *groups, size_t *ng)
{
        struct cli c = {"lag", KC_SHORT "g:", lag_opts, lag_usage, 0};
        int opt, r = 0;

        while (!r && (opt = cli_next(&c, argc, argv)) > 0) {
                r = kc_common_opt(&c, o, opt, optarg);
                if (r)
                        r = r == 1 ? 0 : r;
                else if (!*optarg)
                        r = cli_bad_value(&c, "--group needs a group name");
                else if (*ng == KC_MAX_GROUPS)
                        r = cli_bad_value(&c, "at most %d groups at once", KC_MAX_GROUPS);
                else
                        groups[(*ng)++].name = optarg;
        }
        return r ? r : cli_finish(&c, opt, argc, argv);
}

/* Ask Kafka about each group. 0, or 1 (said why). */
static int lag_fetch(const struct kc_env *env, struct lag_group *groups, size_t ng)
{
        char err[1024];
        size_t i;

        for (i = 0; i < ng; i++) {
                struct lag_group *g = &groups[i];
                struct kadmin *ka = kadmin_new(&env->conn, g->name, err, sizeof(err));
                int failed;

                g->has_topic = group_topic(env->prefix, g->name, g->topic, sizeof(g->topic));
                failed = !ka || kadmin_group_info(ka, &g->info, err, sizeof(err)) ||
                         kadmin_group_parts(ka, g->has_topic ? g->topic : NULL, &g->parts, &g->n, err,
                                            sizeof(err)) ||
                         kadmin_oldest(&env->conn, g->parts, g->n, err, sizeof(err));
                kadmin_free(ka);
                if (failed) {
                        fprintf(stderr, "jibe lag: group %s: %s\n", g->name, err);
                        return 1;
                }
        }
        return 0;
}

int lag_main(int argc, char **argv)
{
        struct kc_opts o = {.cmd = "lag"};
        struct lag_group groups[KC_MAX_GROUPS];
        char defg[2][256];
        struct kc_env env;
        size_t ng = 0, i;
        int rc;
        int64_t now;

        memset(groups, 0, sizeof(groups));
        if ((rc = lag_args(argc, argv, &o, groups, &ng)) >= 0)
                return rc;
        rc = kc_env_init(&env, &o);
        if (rc)
                return rc;
        if (!ng) {
                if (kconf_name(defg[0], sizeof(defg[0]), env.prefix, KN_GROUP_PARSE) ||
                    kconf_name(defg[1], sizeof(defg[1]), env.prefix, KN_GROUP_SYNC)) {
                        fprintf(stderr, "jibe lag: the topic prefix is too long\n");
                        kc_env_clear(&env);
                        return 1;
                }
                groups[0].name = defg[0];
                groups[1].name = defg[1];
                ng = 2;
        }
        rc = lag_fetch(&env, groups, ng);
        now = wall_ms();
        if (!rc) {
                if (o.json)
                        rc = lag_print_json(groups, ng, now);
                else
                        lag_print_table(groups, ng, now);
        }
        for (i = 0; i < ng; i++)
                kadmin_parts_free(groups[i].parts, groups[i].n);
        kc_env_clear(&env);
        log_close();
        if (fflush(stdout) != 0)
                rc = 1;
        return rc;
}

/* ---- jibe replay ---- */

static void replay_usage(FILE *fp)
{
        fprintf(fp,
                "usage: jibe replay --stage parse|sync [-c FILE | --brokers HOST:PORT [--prefix P]]\n"
                "                   (--to-datetime T | --to-earliest | --by-duration D) [--execute] [--json]\n\n"
                "Moves a stage's Kafka consumer group back, so that the stage processes the messages since\n"
                "then again (Access Anywhere restored from a backup, a bug fixed ...). Shows the plan per\n"
                "partition: the committed offset now and the offset it would move to. Nothing changes\n"
                "without --execute, and --execute is refused while the group has live members: stop every\n"
                "'jibe parse' (or 'jibe sync') process first, replay, then start them again.\n\n"
                "  --stage parse|sync    parse: group <prefix>parse on <prefix>files (log files to read again);\n"
                "                        sync: group <prefix>sync on <prefix>events (changes to send again)\n"
                "  --to-datetime T       the first message at or after T, ISO-8601 with a zone, e.g.\n"
                "                        2026-11-29T10:00:00Z (the end when every message is older)\n"
                "  --to-earliest         the oldest message Kafka still keeps\n"
                "  --by-duration D       now minus D: 45s, 30m, 2h, 1d, 1w, or combined: 1h30m\n"
                "  --execute             commit the new offsets (default: only show the plan)\n"
                "  -c, --config FILE     read kafka.brokers, kafka.topic_prefix, kafka.rdkafka from FILE\n"
                "                        (default %s unless --brokers is given)\n"
                "  -b, --brokers LIST    Kafka brokers, host:port[,host:port...] (overrides the file)\n"
                "  --prefix P            topic and group prefix (default kafka.topic_prefix, \"jibe.\")\n"
                "  --json                the plan as a JSON array of {group, topic, partition, committed,\n"
                "                        low, end, new, executed}\n"
                "  --timeout S           seconds to wait for each answer from Kafka (default 10)\n"
                "  -h, --help            this text\n"
                "  --version             print jibe's version\n\n"
                "exit codes: 0 plan shown or executed, 1 Kafka or configuration error, or the group is\n"
                "running, 2 usage error\n",
                CFG_DEFAULT_PATH);
}

static void replay_print_table(const char *group, const char *topic, const char *what,
                               const struct kadmin_group *info, const struct kadmin_part *parts,
                               size_t n)
{
        char c[32], chg[64];
        size_t i;

        printf("replay of group %s (%s, %d member%s) on topic %s %s\n", group, info->state,
               info->members, info->members == 1 ? "" : "s", topic, what);
        printf("  %9s %12s %12s  %s\n", "PARTITION", "COMMITTED", "NEW", "CHANGE");
        for (i = 0; i < n; i++) {
                const struct kadmin_part *p = &parts[i];

                fmt_offset(c, sizeof(c), p->committed);
                if (p->committed == KADMIN_NO_OFFSET)
                        snprintf(chg, sizeof(chg), "no offset committed yet");
                else if (p->target < p->committed)
                        snprintf(chg, sizeof(chg), "back %" PRId64 " message%s",
                                 p->committed - p->target, p->committed - p->target == 1 ? "" : "s");
                else if (p->target > p->committed)
                        snprintf(chg, sizeof(chg), "FORWARD %" PRId64 " message%s",
                                 p->target - p->committed, p->target - p->committed == 1 ? "" : "s");
                else
                        snprintf(chg, sizeof(chg), "unchanged");
                printf("  %9" PRId32 " %12s %12" PRId64 "  %s\n", p->partition, c, p->target, chg);
        }
}

static int replay_print_json(const char *group, const struct kadmin_part *parts, size_t n, int executed)
{
        cJSON *arr = cJSON_CreateArray(), *o;
        size_t i;

        for (i = 0; arr && i < n; i++) {
                const struct kadmin_part *p = &parts[i];

                if (!(o = part_json(&arr, group, p)))
                        break;
                cJSON_AddNumberToObject(o, "low", (double)p->low);
                cJSON_AddNumberToObject(o, "end", (double)p->end);
                cJSON_AddNumberToObject(o, "new", (double)p->target);
                cJSON_AddBoolToObject(o, "executed", executed);
        }
        if (!arr) {
                fprintf(stderr, "jibe replay: out of memory\n");
                return 1;
        }
        return print_json(arr);
}

/* One replay: its command line, then the plan. */
struct replay {
        struct kc_opts o;
        const char *stage, *dt, *dur; /* --stage, --to-datetime, --by-duration */
        int earliest, execute;        /* --to-earliest, --execute */
        int64_t ts_ms;                /* the time to go back to (not --to-earliest) */
        char group[256], topic[256], what[128];
        struct kadmin *ka;
        struct kadmin_group info;
        struct kadmin_part *parts;
        size_t n;
};

static const struct option replay_opts[] = {KC_COMMON_OPTS,
                                            {"stage", required_argument, NULL, OPT_STAGE},
                                            {"to-datetime", required_argument, NULL, OPT_TO_DATETIME},
                                            {"by-duration", required_argument, NULL, OPT_BY_DURATION},
                                            {"to-earliest", no_argument, NULL, OPT_TO_EARLIEST},
                                            {"execute", no_argument, NULL, OPT_EXECUTE},
                                            CLI_OPTS_END};

/* One option of replay's own: 0, or 2 (said why). */
static int replay_opt(struct cli *c, struct replay *r, int opt, const char *v)
{
        if (opt == OPT_TO_EARLIEST) {
                r->earliest = 1;
                return 0;
        }
        if (opt == OPT_EXECUTE) {
                r->execute = 1;
                return 0;
        }
        if (!*v)
                return cli_bad_value(c, "%s needs a value",
                                     opt == OPT_STAGE         ? "--stage"
                                     : opt == OPT_TO_DATETIME ? "--to-datetime"
                                                              : "--by-duration");
        *(opt == OPT_STAGE ? &r->stage : opt == OPT_TO_DATETIME ? &r->dt : &r->dur) = v;
        return 0;
}

/* What the options ask for is one thing replay can do: -1, or 2 (said why). */
static int replay_check(struct cli *c, struct replay *r)
{
        const char *st = r->stage;

        if (!st || (strcmp(st, "parse") != 0 && strcmp(st, "sync") != 0))
                return cli_bad_value(c, "give --stage parse or --stage sync%s%s%s", st ? " (not \"" : "",
                                     st ? st : "", st ? "\")" : "");
        if (!!r->dt + !!r->dur + r->earliest != 1)
                return cli_bad_value(
                        c, "give exactly one of --to-datetime T, --to-earliest, --by-duration D");
        if (r->dt && cli_parse_datetime(r->dt, &r->ts_ms) != 0)
                return cli_bad_value(c,
                                     "--to-datetime \"%s\" is not a date and time such as "
                                     "2026-11-29T10:00:00Z (the zone, Z for UTC, is required)",
                                     r->dt);
        if (r->dur) {
                if (cli_parse_duration(r->dur, &r->ts_ms) != 0)
                        return cli_bad_value(
                                c,
                                "--by-duration \"%s\" is not a duration such as 45s, 30m, 2h, "
                                "1d, 1w or 1h30m",
                                r->dur);
                r->ts_ms = wall_ms() - r->ts_ms;
        }
        return -1;
}

/* The command line into r: -1 to go on, else the exit code (said why). */
static int replay_args(int argc, char **argv, struct replay *r)
{
        struct cli c = {"replay", KC_SHORT, replay_opts, replay_usage, 0};
        int opt = 0, rc = 0;

        while (!rc && (opt = cli_next(&c, argc, argv)) > 0) {
                rc = kc_common_opt(&c, &r->o, opt, optarg);
                rc = rc == 1 ? 0 : rc ? rc : replay_opt(&c, r, opt, optarg);
        }
        if (rc)
                return rc;
        rc = cli_finish(&c, opt, argc, argv);
        return rc >= 0 ? rc : replay_check(&c, r);
}

/* Ask Kafka where the group is and where it would go. 0, or 1 (said why). */
static int replay_plan(struct replay *r, const struct kc_env *env)
{
        char when[64], err[1024];
        enum kconf_name g = strcmp(r->stage, "parse") == 0 ? KN_GROUP_PARSE : KN_GROUP_SYNC;

        if (kconf_name(r->group, sizeof(r->group), env->prefix, g) ||
            kconf_name(r->topic, sizeof(r->topic), env->prefix, kconf_group_topic(g))) {
                fprintf(stderr, "jibe replay: the topic prefix is too long\n");
                return 1;
        }
        r->ka = kadmin_new(&env->conn, r->group, err, sizeof(err));
        if (!r->ka || kadmin_group_info(r->ka, &r->info, err, sizeof(err)) ||
            kadmin_topic_parts(r->ka, r->topic, &r->parts, &r->n, err, sizeof(err))) {
                fprintf(stderr, "jibe replay: %s\n", err);
                return 1;
        }
        if (r->earliest) {
                kadmin_targets_earliest(r->parts, r->n);
                snprintf(r->what, sizeof(r->what), "to the oldest message kept");
                return 0;
        }
        if (kadmin_targets_time(r->ka, r->parts, r->n, r->ts_ms, err, sizeof(err))) {
                fprintf(stderr, "jibe replay: %s\n", err);
                return 1;
        }
        cli_fmt_utc(when, sizeof(when), r->ts_ms);
        snprintf(r->what, sizeof(r->what), "to the first message at or after %s", when);
        if (r->ts_ms > wall_ms())
                fprintf(stderr, "jibe replay: warning: %s is in the future\n", when);
        return 0;
}

/* The plan as a table (unless --json), and a warning for partitions that would move forward. */
static void replay_show(const struct replay *r)
{
        size_t i, forward = 0;

        for (i = 0; i < r->n; i++)
                if (r->parts[i].committed != KADMIN_NO_OFFSET &&
                    r->parts[i].target > r->parts[i].committed)
                        forward++;
        if (!r->o.json) {
                replay_print_table(r->group, r->topic, r->what, &r->info, r->parts, r->n);
                fflush(stdout); /* before any warning on stderr */
        }
        if (forward)
                fprintf(stderr,
                        "jibe replay: warning: %zu partition%s would move FORWARD: the messages skipped would "
                        "never be processed by the %s stage\n",
                        forward, forward == 1 ? "" : "s", r->stage);
}

/* Commit the plan unless the group is in use. 0, or 1 (said why). */
static int replay_commit(struct replay *r)
{
        struct kadmin_group *info = &r->info;
        char err[1024];

        /* again, right before the commit: the plan may have been shown a while ago */
        if (kadmin_group_info(r->ka, info, err, sizeof(err))) {
                fprintf(stderr, "jibe replay: %s\n", err);
                return 1;
        }
        if (info->members > 0 ||
            (strcmp(info->state, "Empty") != 0 && strcmp(info->state, "Dead") != 0)) {
                fprintf(stderr,
                        "jibe replay: refused: group %s is in use (%s, %d member%s%s%s%s): stop every 'jibe %s' "
                        "process first (e.g. systemctl stop jibe-%s on each host), then run this again; nothing "
                        "changed. (A process stopped with kafka.instance_id set stays a member until its session "
                        "times out, 45 s by default.)\n",
                        r->group, info->state, info->members, info->members == 1 ? "" : "s",
                        *info->who ? ": " : "", info->who, "", r->stage, r->stage);
                return 1;
        }
        if (kadmin_commit_targets(r->ka, r->parts, r->n, err, sizeof(err))) {
                fprintf(stderr, "jibe replay: group %s: %s\n", r->group, err);
                return 1;
        }
        if (r->o.json)
                return replay_print_json(r->group, r->parts, r->n, 1);
        printf("\ndone: group %s now starts from the offsets above on %zu partition%s; start the 'jibe %s' "
               "processes again.\n",
               r->group, r->n, r->n == 1 ? "" : "s", r->stage);
        return 0;
}

int replay_main(int argc, char **argv)
{
        struct replay r;
        struct kc_env env;
        int rc;

        memset(&r, 0, sizeof(r));
        r.o.cmd = "replay";
        if ((rc = replay_args(argc, argv, &r)) >= 0)
                return rc;
        rc = kc_env_init(&env, &r.o);
        if (rc)
                return rc;
        rc = replay_plan(&r, &env);
        if (!rc)
                replay_show(&r);
        if (!rc && !r.execute) {
                if (r.o.json)
                        rc = replay_print_json(r.group, r.parts, r.n, 0);
                else
                        printf("\nnothing changed (a plan only). To apply it, stop every 'jibe %s' process, run "
                               "this again with --execute, then start them.\n",
                               r.stage);
        } else if (!rc) {
                rc = replay_commit(&r);
        }
        kadmin_free(r.ka);
        kadmin_parts_free(r.parts, r.n);
        kc_env_clear(&env);
        log_close();
        if (fflush(stdout) != 0)
                rc = 1;
        return rc;
}
