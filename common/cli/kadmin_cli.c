/*
 * kadmin_cli.c - `jibe lag` and `jibe replay`: how far the Kafka consumer groups of jibe's
 * stages are behind, and moving a stopped stage's group back in time to process messages again.
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

#define KC_MAX_GROUPS 64

/* Options both commands share. */
struct kc_opts {
        const char *cmd;        /* "lag" or "replay", for messages */
        const char *cfg_path;   /* NULL: none given */
        const char *brokers;    /* --brokers */
        const char *prefix;     /* --prefix */
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

/*
 * 1 when argv[*i] is a shared option (consumed, with its value), 0 when not, -1 on a usage
 * error (printed).
 */
static int kc_common_opt(struct kc_opts *o, int argc, char **argv, int *i)
{
        const char *a = argv[*i];
        const char **dst = NULL;
        char *end;
        long v;

        if (!strcmp(a, "--json")) {
                o->json = 1;
                return 1;
        }
        if (!strcmp(a, "-c") || !strcmp(a, "--config"))
                dst = &o->cfg_path;
        else if (!strcmp(a, "--brokers") || !strcmp(a, "-b"))
                dst = &o->brokers;
        else if (!strcmp(a, "--prefix"))
                dst = &o->prefix;
        else if (!strcmp(a, "--timeout")) {
                if (*i + 1 >= argc) {
                        fprintf(stderr, "jibe %s: %s needs a number of seconds\n", o->cmd, a);
                        return -1;
                }
                v = strtol(argv[++*i], &end, 10);
                if (*end || end == argv[*i] || v < 1 || v > 600) {
                        fprintf(stderr, "jibe %s: --timeout: \"%s\" is not a number of seconds from 1 to 600\n",
                                o->cmd, argv[*i]);
                        return -1;
                }
                o->timeout_ms = (int)v * 1000;
                return 1;
        } else
                return 0;
        if (*i + 1 >= argc || !*argv[*i + 1]) {
                fprintf(stderr, "jibe %s: %s needs a value\n", o->cmd, a);
                return -1;
        }
        *dst = argv[++*i];
        return 1;
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
                fprintf(stderr, "jibe %s: kafka.brokers is not set in %s: set it, or give --brokers HOST:PORT\n",
                        o->cmd, path);
                kc_env_clear(e);
                return 2;
        }
        e->prefix = o->prefix ? o->prefix : (e->have_cfg ? e->cfg.kafka_topic_prefix : "jibe.");
        for (i = 0; e->prefix[i]; i++)
                if (!isalnum((unsigned char)e->prefix[i]) && !strchr("._-", e->prefix[i])) {
                        fprintf(stderr, "jibe %s: --prefix \"%s\": Kafka names allow only letters, digits, "
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
                "  -h, --help            this text\n\n"
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
                        printf("%sgroup %s: no such group in Kafka yet (no member, nothing committed)\n", i ? "\n" : "",
                               lg->name);
                else
                        printf("%sgroup %s: %s, %d member%s\n", i ? "\n" : "", lg->name, lg->info.state,
                               lg->info.members, lg->info.members == 1 ? "" : "s");
                if (!lg->n) {
                        if (lg->has_topic)
                                printf("  no committed offsets, and topic %s does not exist\n", lg->topic);
                        else
                                printf("  no committed offsets\n");
                        continue;
                }
                printf("  %-24s %9s %12s %12s %10s %9s\n", "TOPIC", "PARTITION", "COMMITTED", "END", "LAG",
                       "TIME-LAG");
                for (k = 0; k < lg->n; k++) {
                        const struct kadmin_part *p = &lg->parts[k];
                        double age = 0;

                        fmt_offset(c, sizeof(c), p->committed);
                        if (p->lag == 0) {
                                snprintf(t, sizeof(t), "0");
                        } else if (p->oldest_ts_ms == KADMIN_NO_OFFSET) {
                                snprintf(t, sizeof(t), "?");
                        } else {
                                age = p->oldest_ts_ms < now ? (double)(now - p->oldest_ts_ms) / 1000.0 : 0;
                                fmt_age(t, sizeof(t), age);
                        }
                        if (age > oldest)
                                oldest = age;
                        total += p->lag;
                        printf("  %-24s %9" PRId32 " %12s %12" PRId64 " %10" PRId64 " %9s\n", p->topic, p->partition,
                               c, p->end, p->lag, t);
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

                        o = cJSON_CreateObject();
                        if (!o) {
                                cJSON_Delete(arr);
                                arr = NULL;
                                break;
                        }
                        cJSON_AddItemToArray(arr, o);
                        cJSON_AddStringToObject(o, "group", g[i].name);
                        cJSON_AddStringToObject(o, "topic", p->topic);
                        cJSON_AddNumberToObject(o, "partition", p->partition);
                        cJSON_AddItemToObject(o, "committed", json_offset(p->committed));
                        cJSON_AddNumberToObject(o, "end", (double)p->end);
                        cJSON_AddNumberToObject(o, "lag", (double)p->lag);
                        if (p->lag == 0)
                                cJSON_AddNumberToObject(o, "time_lag_s", 0);
                        else if (p->oldest_ts_ms == KADMIN_NO_OFFSET)
                                cJSON_AddNullToObject(o, "time_lag_s");
                        else
                                cJSON_AddNumberToObject(
                                        o, "time_lag_s",
                                        p->oldest_ts_ms < now ? (double)(now - p->oldest_ts_ms) / 1000.0 : 0.0);
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

int lag_main(int argc, char **argv)
{
        struct kc_opts o = {.cmd = "lag"};
        struct lag_group groups[KC_MAX_GROUPS];
        char defg[2][256], err[1024];
        struct kc_env env;
        size_t ng = 0, i;
        int k, r, rc = 0;
        int64_t now;

        memset(groups, 0, sizeof(groups));
        for (k = 1; k < argc; k++) {
                const char *a = argv[k];

                if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
                        lag_usage(stdout);
                        return 0;
                }
                r = kc_common_opt(&o, argc, argv, &k);
                if (r < 0)
                        return 2;
                if (r)
                        continue;
                if (!strcmp(a, "--group") || !strcmp(a, "-g")) {
                        if (k + 1 >= argc || !*argv[k + 1]) {
                                fprintf(stderr, "jibe lag: %s needs a group name\n", a);
                                return 2;
                        }
                        if (ng == KC_MAX_GROUPS) {
                                fprintf(stderr, "jibe lag: at most %d groups at once\n", KC_MAX_GROUPS);
                                return 2;
                        }
                        groups[ng++].name = argv[++k];
                        continue;
                }
                fprintf(stderr, "jibe lag: unknown option '%s'\n", a);
                lag_usage(stderr);
                return 2;
        }
        r = kc_env_init(&env, &o);
        if (r)
                return r;
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
        for (i = 0; i < ng && !rc; i++) {
                struct lag_group *g = &groups[i];
                struct kadmin *ka = kadmin_new(&env.conn, g->name, err, sizeof(err));

                g->has_topic = group_topic(env.prefix, g->name, g->topic, sizeof(g->topic));
                if (!ka || kadmin_group_info(ka, &g->info, err, sizeof(err)) ||
                    kadmin_group_parts(ka, g->has_topic ? g->topic : NULL, &g->parts, &g->n, err, sizeof(err)) ||
                    kadmin_oldest(&env.conn, g->parts, g->n, err, sizeof(err))) {
                        fprintf(stderr, "jibe lag: group %s: %s\n", g->name, err);
                        rc = 1;
                }
                kadmin_free(ka);
        }
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
                "  -h, --help            this text\n\n"
                "exit codes: 0 plan shown or executed, 1 Kafka or configuration error, or the group is\n"
                "running, 2 usage error\n",
                CFG_DEFAULT_PATH);
}

static int days_from_civil(int y, int m, int d, int64_t *out)
{
        static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        int64_t yy, era, yoe, doy, doe;

        if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1] + (m == 2 && leap))
                return -1;
        yy = y - (m <= 2);
        era = (yy >= 0 ? yy : yy - 399) / 400;
        yoe = yy - era * 400;
        doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        *out = era * 146097 + doe - 719468;
        return 0;
}

/* n digits at *p into *v; advances p. */
static int digits(const char **p, int n, int *v)
{
        int i;

        *v = 0;
        for (i = 0; i < n; i++) {
                if (!isdigit((unsigned char)(*p)[i]))
                        return -1;
                *v = *v * 10 + ((*p)[i] - '0');
        }
        *p += n;
        return 0;
}

/*
 * ISO-8601 date and time with a zone: YYYY-MM-DDTHH:MM[:SS[.fff]](Z|+HH:MM|-HH:MM); a space
 * may replace the T. Milliseconds since the epoch in *ms; -1 when it is not such a time.
 */
int cli_parse_datetime(const char *s, int64_t *ms)
{
        const char *p = s;
        int y, mo, d, h, mi, sec = 0, frac = 0, fd = 0, zh = 0, zm = 0, sign = 0;
        int64_t days;

        if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' || digits(&p, 2, &d))
                return -1;
        if (*p != 'T' && *p != 't' && *p != ' ')
                return -1;
        p++;
        if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
                return -1;
        if (*p == ':') {
                p++;
                if (digits(&p, 2, &sec))
                        return -1;
                if (*p == '.' || *p == ',') {
                        p++;
                        if (!isdigit((unsigned char)*p))
                                return -1;
                        for (; isdigit((unsigned char)*p); p++, fd++)
                                if (fd < 3)
                                        frac = frac * 10 + (*p - '0');
                        for (; fd < 3; fd++)
                                frac *= 10;
                }
        }
        if (*p == 'Z' || *p == 'z') {
                p++;
        } else if (*p == '+' || *p == '-') {
                sign = *p++ == '-' ? -1 : 1;
                if (digits(&p, 2, &zh))
                        return -1;
                if (*p == ':')
                        p++;
                if (digits(&p, 2, &zm) || zh > 23 || zm > 59)
                        return -1;
        } else {
                return -1;
        }
        if (*p || h > 23 || mi > 59 || sec > 60 || days_from_civil(y, mo, d, &days) != 0)
                return -1;
        *ms = ((days * 86400 + h * 3600 + mi * 60 + sec) - (int64_t)sign * (zh * 3600 + zm * 60)) * 1000 + frac;
        return 0;
}

/* "45s", "30m", "2h", "1d", "1w", "1h30m" -> milliseconds; -1 when not a duration. */
int cli_parse_duration(const char *s, int64_t *ms)
{
        const char *p = s;
        int64_t total = 0;

        if (!*p)
                return -1;
        while (*p) {
                int64_t v = 0, unit;

                if (!isdigit((unsigned char)*p))
                        return -1;
                for (; isdigit((unsigned char)*p); p++) {
                        v = v * 10 + (*p - '0');
                        if (v > 100LL * 366 * 86400)
                                return -1;
                }
                switch (*p++) {
                case 's': unit = 1; break;
                case 'm': unit = 60; break;
                case 'h': unit = 3600; break;
                case 'd': unit = 86400; break;
                case 'w': unit = 7 * 86400; break;
                default: return -1;
                }
                total += v * unit;
                if (total > 100LL * 366 * 86400)
                        return -1;
        }
        if (total <= 0)
                return -1;
        *ms = total * 1000;
        return 0;
}

void cli_fmt_utc(char *out, size_t n, int64_t ms)
{
        time_t t = (time_t)(ms / 1000);
        struct tm tm;

        gmtime_r(&t, &tm);
        strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void replay_print_table(const char *group, const char *topic, const char *what,
                               const struct kadmin_group *info, const struct kadmin_part *parts, size_t n)
{
        char c[32], chg[64];
        size_t i;

        printf("replay of group %s (%s, %d member%s) on topic %s %s\n", group, info->state, info->members,
               info->members == 1 ? "" : "s", topic, what);
        printf("  %9s %12s %12s  %s\n", "PARTITION", "COMMITTED", "NEW", "CHANGE");
        for (i = 0; i < n; i++) {
                const struct kadmin_part *p = &parts[i];

                fmt_offset(c, sizeof(c), p->committed);
                if (p->committed == KADMIN_NO_OFFSET)
                        snprintf(chg, sizeof(chg), "no offset committed yet");
                else if (p->target < p->committed)
                        snprintf(chg, sizeof(chg), "back %" PRId64 " message%s", p->committed - p->target,
                                 p->committed - p->target == 1 ? "" : "s");
                else if (p->target > p->committed)
                        snprintf(chg, sizeof(chg), "FORWARD %" PRId64 " message%s", p->target - p->committed,
                                 p->target - p->committed == 1 ? "" : "s");
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

                o = cJSON_CreateObject();
                if (!o) {
                        cJSON_Delete(arr);
                        arr = NULL;
                        break;
                }
                cJSON_AddItemToArray(arr, o);
                cJSON_AddStringToObject(o, "group", group);
                cJSON_AddStringToObject(o, "topic", p->topic);
                cJSON_AddNumberToObject(o, "partition", p->partition);
                cJSON_AddItemToObject(o, "committed", json_offset(p->committed));
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

int replay_main(int argc, char **argv)
{
        struct kc_opts o = {.cmd = "replay"};
        const char *stage = NULL, *dt = NULL, *dur = NULL;
        int earliest = 0, execute = 0, k, r, rc = 0, nmodes;
        char group[256], topic[256], what[128], when[64], err[1024];
        struct kadmin_part *parts = NULL;
        struct kadmin_group info;
        struct kadmin *ka = NULL;
        struct kc_env env;
        int64_t ts_ms = 0;
        size_t n = 0, i, forward = 0;

        for (k = 1; k < argc; k++) {
                const char *a = argv[k];

                if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
                        replay_usage(stdout);
                        return 0;
                }
                r = kc_common_opt(&o, argc, argv, &k);
                if (r < 0)
                        return 2;
                if (r)
                        continue;
                if (!strcmp(a, "--to-earliest")) {
                        earliest = 1;
                } else if (!strcmp(a, "--execute")) {
                        execute = 1;
                } else if (!strcmp(a, "--stage") || !strcmp(a, "--to-datetime") || !strcmp(a, "--by-duration")) {
                        if (k + 1 >= argc || !*argv[k + 1]) {
                                fprintf(stderr, "jibe replay: %s needs a value\n", a);
                                return 2;
                        }
                        if (!strcmp(a, "--stage"))
                                stage = argv[++k];
                        else if (!strcmp(a, "--to-datetime"))
                                dt = argv[++k];
                        else
                                dur = argv[++k];
                } else {
                        fprintf(stderr, "jibe replay: unknown option '%s'\n", a);
                        replay_usage(stderr);
                        return 2;
                }
        }
        if (!stage || (strcmp(stage, "parse") != 0 && strcmp(stage, "sync") != 0)) {
                fprintf(stderr, "jibe replay: give --stage parse or --stage sync%s%s%s\n", stage ? " (not \"" : "",
                        stage ? stage : "", stage ? "\")" : "");
                return 2;
        }
        nmodes = !!dt + !!dur + earliest;
        if (nmodes != 1) {
                fprintf(stderr, "jibe replay: give exactly one of --to-datetime T, --to-earliest, --by-duration D\n");
                return 2;
        }
        if (dt && cli_parse_datetime(dt, &ts_ms) != 0) {
                fprintf(stderr, "jibe replay: --to-datetime \"%s\" is not a date and time such as "
                                "2026-11-29T10:00:00Z (the zone, Z for UTC, is required)\n",
                        dt);
                return 2;
        }
        if (dur) {
                if (cli_parse_duration(dur, &ts_ms) != 0) {
                        fprintf(stderr, "jibe replay: --by-duration \"%s\" is not a duration such as 45s, 30m, 2h, "
                                        "1d, 1w or 1h30m\n",
                                dur);
                        return 2;
                }
                ts_ms = wall_ms() - ts_ms;
        }
        r = kc_env_init(&env, &o);
        if (r)
                return r;
        {
                enum kconf_name g = strcmp(stage, "parse") == 0 ? KN_GROUP_PARSE : KN_GROUP_SYNC;

                if (kconf_name(group, sizeof(group), env.prefix, g) ||
                    kconf_name(topic, sizeof(topic), env.prefix, kconf_group_topic(g))) {
                        fprintf(stderr, "jibe replay: the topic prefix is too long\n");
                        rc = 1;
                        goto out;
                }
        }

        ka = kadmin_new(&env.conn, group, err, sizeof(err));
        if (!ka || kadmin_group_info(ka, &info, err, sizeof(err)) ||
            kadmin_topic_parts(ka, topic, &parts, &n, err, sizeof(err))) {
                fprintf(stderr, "jibe replay: %s\n", err);
                rc = 1;
                goto out;
        }
        if (earliest) {
                kadmin_targets_earliest(parts, n);
                snprintf(what, sizeof(what), "to the oldest message kept");
        } else {
                if (kadmin_targets_time(ka, parts, n, ts_ms, err, sizeof(err))) {
                        fprintf(stderr, "jibe replay: %s\n", err);
                        rc = 1;
                        goto out;
                }
                cli_fmt_utc(when, sizeof(when), ts_ms);
                snprintf(what, sizeof(what), "to the first message at or after %s", when);
                if (ts_ms > wall_ms())
                        fprintf(stderr, "jibe replay: warning: %s is in the future\n", when);
        }
        for (i = 0; i < n; i++)
                if (parts[i].committed != KADMIN_NO_OFFSET && parts[i].target > parts[i].committed)
                        forward++;
        if (!o.json) {
                replay_print_table(group, topic, what, &info, parts, n);
                fflush(stdout); /* before any warning on stderr */
        }
        if (forward)
                fprintf(stderr,
                        "jibe replay: warning: %zu partition%s would move FORWARD: the messages skipped would "
                        "never be processed by the %s stage\n",
                        forward, forward == 1 ? "" : "s", stage);
        if (!execute) {
                if (o.json)
                        rc = replay_print_json(group, parts, n, 0);
                else
                        printf("\nnothing changed (a plan only). To apply it, stop every 'jibe %s' process, run "
                               "this again with --execute, then start them.\n",
                               stage);
                goto out;
        }
        /* again, right before the commit: the plan may have been shown a while ago */
        if (kadmin_group_info(ka, &info, err, sizeof(err))) {
                fprintf(stderr, "jibe replay: %s\n", err);
                rc = 1;
                goto out;
        }
        if (info.members > 0 || (strcmp(info.state, "Empty") != 0 && strcmp(info.state, "Dead") != 0)) {
                fprintf(stderr,
                        "jibe replay: refused: group %s is in use (%s, %d member%s%s%s%s): stop every 'jibe %s' "
                        "process first (e.g. systemctl stop jibe-%s on each host), then run this again; nothing "
                        "changed. (A process stopped with kafka.instance_id set stays a member until its session "
                        "times out, 45 s by default.)\n",
                        group, info.state, info.members, info.members == 1 ? "" : "s", *info.who ? ": " : "",
                        info.who, "", stage, stage);
                rc = 1;
                goto out;
        }
        if (kadmin_commit_targets(ka, parts, n, err, sizeof(err))) {
                fprintf(stderr, "jibe replay: group %s: %s\n", group, err);
                rc = 1;
                goto out;
        }
        if (o.json)
                rc = replay_print_json(group, parts, n, 1);
        else
                printf("\ndone: group %s now starts from the offsets above on %zu partition%s; start the 'jibe %s' "
                       "processes again.\n",
                       group, n, n == 1 ? "" : "s", stage);
out:
        kadmin_free(ka);
        kadmin_parts_free(parts, n);
        kc_env_clear(&env);
        log_close();
        if (fflush(stdout) != 0)
                rc = 1;
        return rc;
}
