/*
 * cfg.c - jibe's configuration (see cfg.h): the option table and everything it drives.
 *
 * Owns: cfg_opts[], the one list of options (name, type, default, range, offset into struct
 * cfg, one-line description, example value). Loading walks the libconfig tree once, in file
 * order: every setting must match a table entry (else "file:line: unknown setting"), and each
 * value is type- and range-checked and copied into struct cfg before config_destroy(). Then
 * the credentials are resolved (exactly one way per secret; credentials_json fills the gaps)
 * and the cross-option rules checked. cfg_dump() and cfg_example() print from the same table.
 *
 * Ownership: every string and list in struct cfg is malloc'ed here and freed by cfg_clear();
 * secrets are wiped (explicit_bzero) before they are freed. aa_*_from point at static text.
 * libconfig 1.5 silently truncates integer literals beyond 32 bits that lack an L suffix, so
 * integer settings are checked against their source text (check_int_literal()).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <libconfig.h>

#include "aa.h"
#include "cfg.h"
#include "ct.h"
#include "log.h"

#define CFG_SECRET_FILE_MAX (64u * 1024)   /* a password file or credentials_json */
#define CFG_SOURCE_MAX (4u * 1024 * 1024)  /* a configuration file read for literal checks */
#define CFG_KIB 1024ULL
#define CFG_MIB (1024ULL * 1024)
#define CFG_GIB (1024ULL * 1024 * 1024)

enum cfg_type {
        CT_STR,      /* char * */
        CT_LONG,     /* long */
        CT_INT,      /* int */
        CT_SIZE,     /* uint64_t: integer or "512M" */
        CT_BOOL,     /* int 0/1 */
        CT_FLOAT,    /* double */
        CT_STRLIST,  /* char ** + size_t */
        CT_PREFIXES, /* struct cfg_prefix * + size_t */
};

#define CO_SECRET 0x1     /* shown as "***" */
#define CO_EX_ACTIVE 0x2  /* the example file sets the example value (else it is commented) */
#define CO_PATH 0x4       /* a file name: must not be empty */
#define CO_PROPS 0x8      /* list of "name=value" librdkafka properties; secret values as "***" */

struct cfg_opt {
        const char *name;
        enum cfg_type type;
        unsigned flags;
        size_t off;   /* offsetof(struct cfg, field) */
        size_t off_n; /* lists: the count field */
        const char *def_s;
        long long def_i, min_i, max_i;
        double def_f, min_f, max_f;
        const char *const *choices; /* CT_STR: allowed values, NULL-terminated */
        const char *example;        /* libconfig text for the example file (NULL: default) */
        const char *desc;
};

#define OFF(f) offsetof(struct cfg, f)
#define O_STR(n, f, d, fl, ex, ds) \
        {.name = n, .type = CT_STR, .flags = fl, .off = OFF(f), .def_s = d, .example = ex, .desc = ds}
#define O_LONG(n, f, d, lo, hi, ds) \
        {.name = n, .type = CT_LONG, .off = OFF(f), .def_i = d, .min_i = lo, .max_i = hi, .desc = ds}
#define O_INT(n, f, d, lo, hi, ds) \
        {.name = n, .type = CT_INT, .off = OFF(f), .def_i = d, .min_i = lo, .max_i = hi, .desc = ds}
#define O_SIZE(n, f, d, lo, hi, ds) \
        {.name = n, .type = CT_SIZE, .off = OFF(f), .def_i = (long long)(d), .min_i = (long long)(lo), \
         .max_i = (long long)(hi), .desc = ds}
#define O_BOOL(n, f, d, ds) {.name = n, .type = CT_BOOL, .off = OFF(f), .def_i = d, .desc = ds}
#define O_FLOAT(n, f, d, lo, hi, ds) \
        {.name = n, .type = CT_FLOAT, .off = OFF(f), .def_f = d, .min_f = lo, .max_f = hi, .desc = ds}
#define O_LIST(n, f, fn, fl, ex, ds) \
        {.name = n, .type = CT_STRLIST, .flags = fl, .off = OFF(f), .off_n = OFF(fn), .example = ex, \
         .desc = ds}

static const char *const cfg_log_levels[] = {"debug", "info", "warn", "error", NULL};
static const char *const cfg_sync_methods[] = {"auto", "event", "refresh", NULL};

static const struct cfg_opt cfg_opts[] = {
        /* access_anywhere */
        O_STR("access_anywhere.endpoint", aa_endpoint, NULL, CO_EX_ACTIVE, "\"https://fabric.example.com\"",
              "Address of Access Anywhere, without /api/rpc.php (http:// only for a test simulator)."),
        O_STR("access_anywhere.login", aa_login, NULL, CO_EX_ACTIVE, "\"jibe-sync\"",
              "Access Anywhere user jibe signs in as (an administrator who sees every S3 provider)."),
        O_STR("access_anywhere.password", aa_password, NULL, CO_SECRET, "\"do-not-write-it-here\"",
              "That user's password written in this file: discouraged, use password_file or password_env."),
        O_STR("access_anywhere.password_file", aa_password_file, NULL, CO_EX_ACTIVE | CO_PATH,
              "\"/etc/jibe/aa-password\"",
              "File whose first line is the password; make it mode 0600, owned by the user jibe runs as."),
        O_STR("access_anywhere.password_env", aa_password_env, NULL, 0, "\"JIBE_AA_PASSWORD\"",
              "Name of an environment variable that holds the password (e.g. set by systemd)."),
        O_STR("access_anywhere.authtoken", aa_authtoken, NULL, CO_SECRET, "\"do-not-write-it-here\"",
              "Permanent API token instead of login+password, written in this file: discouraged."),
        O_STR("access_anywhere.authtoken_file", aa_authtoken_file, NULL, CO_PATH, "\"/etc/jibe/aa-token\"",
              "File whose first line is a permanent API token (mode 0600); used instead of the password."),
        O_STR("access_anywhere.authtoken_env", aa_authtoken_env, NULL, 0, "\"JIBE_AA_TOKEN\"",
              "Name of an environment variable that holds a permanent API token."),
        O_STR("access_anywhere.credentials_json", aa_credentials_json, NULL, CO_PATH,
              "\"/etc/jibe/jibe-config.json\"",
              "JSON file {\"endpoint\", \"login\", \"password\"} whose values fill what this file leaves unset."),
        O_STR("access_anywhere.ca_file", aa_ca_file, NULL, CO_PATH, "\"/etc/jibe/fabric-ca.pem\"",
              "PEM file of the authorities that sign Access Anywhere's certificate; unset: the system's."),
        O_BOOL("access_anywhere.insecure", aa_insecure, 0,
               "true skips TLS certificate checks (anyone on the path could read the password): tests only."),
        O_BOOL("access_anywhere.allow_http", aa_allow_http, 0,
               "true accepts an http:// endpoint, so the password and tokens cross the network unencrypted: "
               "for a test simulator only; jibe then warns at every start. false: https:// only."),
        O_LONG("access_anywhere.connect_timeout_ms", aa_connect_timeout_ms, AA_CONNECT_TIMEOUT_MS_DEFAULT, 100,
               600000, "Milliseconds to wait for a connection to Access Anywhere."),
        O_LONG("access_anywhere.timeout_ms", aa_timeout_ms, AA_TIMEOUT_MS_DEFAULT, 1000, 3600000,
               "Milliseconds one call to Access Anywhere may take before it is retried."),
        O_INT("access_anywhere.max_retries", aa_max_retries, AA_MAX_RETRIES_DEFAULT, 0, 100,
              "Retries of a call that failed for a passing reason (network, busy server) before giving up."),
        O_LONG("access_anywhere.backoff_base_ms", aa_backoff_base_ms, AA_BACKOFF_BASE_MS_DEFAULT, 1, 600000,
               "First wait before a retry, in milliseconds; it doubles with each retry."),
        O_LONG("access_anywhere.backoff_max_ms", aa_backoff_max_ms, AA_BACKOFF_MAX_MS_DEFAULT, 1, 3600000,
               "Longest wait between two retries, in milliseconds."),

        O_LONG("access_anywhere.refresh_timeout_s", aa_refresh_timeout_s, AA_REFRESH_TIMEOUT_MS_DEFAULT / 1000, 5,
               86400, "Seconds a cloud refresh of one folder may take on the server before jibe tries it again later."),

        /* self */
        O_LIST("self.keys", self_keys, n_self_keys, CO_EX_ACTIVE, "[ \"AKIAIOSFODNN7EXAMPLE\" ]",
               "Access key ids Access Anywhere itself uses on S3 (every provider's): their changes are already in "
               "its index and are ignored. No public call reports them: set them here."),
        O_LIST("self.arns", self_arns, n_self_arns, 0, "[ \"arn:aws:iam::111122223333:user/access-anywhere\" ]",
               "IAM user or role ARNs of Access Anywhere itself: changes they make are ignored."),
        O_LIST("self.agents", self_agents, n_self_agents, 0, "[ \"SMEStorage\" ]",
               "User agents of Access Anywhere itself: changes made with them are ignored."),

        /* scanner */
        O_LONG("scanner.interval_s", scan_interval_s, 180, 1, 86400,
               "Seconds between two looks for new CloudTrail log files."),
        O_LONG("scanner.lookback_h", scan_lookback_h, 48, 1, 2160,
               "On a first start, hours of CloudTrail logs to read back."),
        O_LONG("scanner.parents_every", scan_parents_every, 10, 1, 1000,
               "List the account and region folders again every this many scans, to find new ones."),
        O_LIST("scanner.sources", scan_sources, n_scan_sources, CO_EX_ACTIVE, "[ \"S3 Prod\" ]",
               "S3 providers (names or ids) whose buckets hold CloudTrail logs; empty: every bucket with AWSLogs/ at its top."),
        {.name = "scanner.prefixes", .type = CT_PREFIXES, .flags = CO_EX_ACTIVE, .off = OFF(scan_prefixes),
         .off_n = OFF(n_scan_prefixes), .example = "( { bucket = \"ct-logs\"; prefix = \"trails/org\"; } )",
         .desc = "Trails that write under a prefix: the bucket and the folder that holds AWSLogs/."},
        O_LONG("scanner.refresh_concurrency", scan_refresh_concurrency, 8, 1, 256,
               "Cloud refreshes of folders one scan keeps running on the server at the same time."),
        O_LONG("scanner.provider_refresh_s", scan_provider_refresh_s, 300, 10, 86400,
               "Seconds between two readings of the providers' information (buckets, keys, full syncs)."),

        /* parser */
        O_SIZE("parser.max_decompressed", parse_max_decompressed, CT_MAX_DECOMPRESSED_DEFAULT, CFG_MIB,
               64 * CFG_GIB, "Largest log file jibe reads, once decompressed; a larger one is set aside."),
        O_SIZE("parser.max_record", parse_max_record, CT_MAX_RECORD_DEFAULT, 64 * CFG_KIB, CFG_GIB,
               "Largest single CloudTrail record; a log file with a larger one is set aside."),
        O_FLOAT("parser.indexing_rate", parse_indexing_rate, 100.0, 0.01, 1e7,
                "Files per second a full provider sync indexes, to estimate when one started if unknown."),
        O_LONG("parser.workers", parse_workers, 2, 1, 64, "Log files read at the same time."),

        /* syncer */
        O_LONG("syncer.window_ms", sync_window_ms, 2000, 100, 600000,
               "Milliseconds during which changes to one folder are gathered into one update."),
        O_LONG("syncer.batch_max", sync_batch_max, 500, 1, 100000, "Most changes handled in one batch."),
        O_LONG("syncer.concurrency", sync_concurrency, 4, 1, 64,
               "Updates sent to Access Anywhere at the same time."),
        O_LONG("syncer.max_attempts", sync_max_attempts, 8, 1, 1000,
               "Attempts of one update that Access Anywhere refuses (an answer that looks permanent) before it is "
               "set aside in the dead-letter queue. Passing failures (no connection, timeouts, HTTP 429 or 5xx, a "
               "busy or maintenance answer) never count: they are retried until the server answers again."),
        O_LONG("syncer.backoff_base_ms", sync_backoff_base_ms, 500, 1, 600000,
               "First wait before a failed update is tried again, in milliseconds; it doubles each time."),
        O_LONG("syncer.backoff_max_ms", sync_backoff_max_ms, 60000, 1, 3600000,
               "Longest wait before a failed update is tried again, in milliseconds (longer only when the server "
               "asks for it with Retry-After)."),

        {.name = "syncer.method", .type = CT_STR, .off = OFF(sync_method), .def_s = "auto",
         .choices = cfg_sync_methods,
         .desc = "How a change is applied: event (syncOnProviderEvent, the Jibe call whose fields are not "
                 "public), refresh (a cloud refresh of the changed object's folder, public and slower), or auto "
                 "(event, and refresh from the first time the server says it does not know the call)."},
        O_LONG("syncer.bucket_refresh_per_s", sync_bucket_refresh_per_s, 20, 1, 100000,
               "With the refresh method: folders refreshed per second when a DeleteObjects asks for a whole bucket."),

        /* queue */
        O_LONG("queue.capacity", queue_capacity, 10000, 10, 10000000,
               "Messages each internal queue holds before the stage that feeds it waits."),

        /* kafka */
        O_STR("kafka.brokers", kafka_brokers, NULL, CO_PATH, "\"kafka1.example.com:9092,kafka2.example.com:9092\"",
              "Kafka brokers (host:port, comma-separated) for the distributed mode: jibe scan, parse and sync "
              "as separate processes. Unset: only the embedded mode (jibe run)."),
        O_STR("kafka.topic_prefix", kafka_topic_prefix, "jibe.", 0, NULL,
              "Start of the names of jibe's topics (<prefix>files, events, dead, status) and consumer groups "
              "(<prefix>parse, <prefix>sync)."),
        O_LONG("kafka.partitions", kafka_partitions, 6, 1, 1000,
               "Partitions of each topic 'jibe topics --create' makes: the most parsers or syncers that share work."),
        O_LONG("kafka.replication", kafka_replication, 3, 1, 100,
               "Copies of each partition 'jibe topics --create' asks for (at most the number of brokers)."),
        O_LONG("kafka.retention_h", kafka_retention_h, 168, 1, 876000,
               "Hours the topics keep messages: how far back 'jibe replay' can go."),
        O_STR("kafka.instance_id", kafka_instance_id, NULL, CO_PATH, "\"parse-host1\"",
              "Name of this process in its consumer group, unique per process and kept across restarts "
              "(static membership: a quick restart does not move partitions). Unset: dynamic membership."),
        O_LONG("kafka.max_inflight", kafka_max_inflight, 1000, 1, 1000000,
               "Messages a stage takes from Kafka and has not finished before it stops fetching more."),
        O_LIST("kafka.rdkafka", kafka_rdkafka, n_kafka_rdkafka, CO_PROPS,
               "[ \"security.protocol=ssl\", \"ssl.ca.location=/etc/jibe/kafka-ca.pem\" ]",
               "Further librdkafka properties, each \"name=value\", passed as they are (TLS, SASL, timeouts); "
               "values of passwords and secrets are never printed."),

        /* top level */
        O_STR("state_dir", state_dir, "/var/lib/jibe", CO_PATH, NULL,
              "Directory where jibe keeps its progress and the files it set aside; keep it across restarts."),
        O_STR("log_file", log_file, NULL, CO_PATH, "\"/var/log/jibe/jibe.log\"",
              "Log file; unset or \"-\": standard error (the systemd journal)."),
        {.name = "log_level", .type = CT_STR, .off = OFF(log_level), .def_s = "info",
         .choices = cfg_log_levels, .desc = "Least important messages logged: debug, info, warn or error."},
};

#define CFG_NOPTS (sizeof(cfg_opts) / sizeof(cfg_opts[0]))

/* Groups in the order they are printed; "" is the top level. */
static const char *const cfg_groups[] = {"access_anywhere", "self", "scanner", "parser", "syncer", "queue",
                                         "kafka", ""};
static const char *const cfg_group_desc[] = {
        "How jibe reaches Access Anywhere and signs in. Give the password one way only: password_file "
        "(recommended), password_env, password or credentials_json; or a permanent token instead. "
        "Create the password file so that only jibe can read it, e.g. "
        "'install -m 600 -o jibe /dev/null /etc/jibe/aa-password', then write the password on its "
        "first line with an editor.",
        "Access Anywhere's own S3 identities. Changes Access Anywhere made itself are already in its index, "
        "so jibe skips them; the identities its S3 providers report are always included.",
        "Where jibe looks for CloudTrail log files and how often.",
        "Reading CloudTrail log files.",
        "Sending changes to Access Anywhere, which then re-reads the changed folders.",
        "jibe's internal queues between its stages.",
        "Apache Kafka, for the distributed mode (jibe scan, jibe parse, jibe sync on any hosts) and for "
        "'jibe lag' and 'jibe replay'. The embedded mode (jibe run) does not use it.",
        "Files and logging.",
};
#define CFG_NGROUPS (sizeof(cfg_groups) / sizeof(cfg_groups[0]))

/* ---- field access ---- */

static void *fld(const struct cfg *c, size_t off)
{
        return (char *)(uintptr_t)c + off;
}

static size_t *fld_n(const struct cfg *c, const struct cfg_opt *o)
{
        return (size_t *)fld(c, o->off_n);
}

static const char *leaf(const char *name)
{
        const char *d = strchr(name, '.');

        return d ? d + 1 : name;
}

/* 1 when option o belongs to group g ("" = top level). */
static int in_group(const struct cfg_opt *o, const char *g)
{
        size_t n = strlen(g);

        if (!n)
                return strchr(o->name, '.') == NULL;
        return strncmp(o->name, g, n) == 0 && o->name[n] == '.';
}

static int find_opt(const char *name)
{
        size_t i;

        for (i = 0; i < CFG_NOPTS; i++)
                if (strcmp(cfg_opts[i].name, name) == 0)
                        return (int)i;
        return -1;
}

/*
 * 1 when a "name=value" librdkafka property carries a secret (sasl.password,
 * ssl.key.password, ssl.keystore.password, sasl.oauthbearer.client.secret, ssl.key.pem ...).
 */
static int prop_is_secret(const char *prop)
{
        size_t n = strcspn(prop, "=");
        char name[128];
        size_t i;

        if (n >= sizeof(name))
                return 1;
        for (i = 0; i < n; i++)
                name[i] = (char)tolower((unsigned char)prop[i]);
        name[n] = '\0';
        return strstr(name, "password") || strstr(name, "secret") || strstr(name, "ssl.key.pem") ||
               strstr(name, "sasl.oauthbearer.config") || strstr(name, "sasl.jaas");
}

static void wipe_free(char *s)
{
        if (s) {
                explicit_bzero(s, strlen(s));
                free(s);
        }
}

static void free_opt(struct cfg *c, const struct cfg_opt *o)
{
        size_t i, *n;

        switch (o->type) {
        case CT_STR: {
                char **p = fld(c, o->off);

                if (o->flags & CO_SECRET)
                        wipe_free(*p);
                else
                        free(*p);
                *p = NULL;
                break;
        }
        case CT_STRLIST: {
                char ***p = fld(c, o->off);

                n = fld_n(c, o);
                for (i = 0; *p && i < *n; i++) {
                        if (o->flags & CO_PROPS)
                                wipe_free((*p)[i]);
                        else
                                free((*p)[i]);
                }
                free(*p);
                *p = NULL;
                *n = 0;
                break;
        }
        case CT_PREFIXES: {
                struct cfg_prefix **p = fld(c, o->off);

                n = fld_n(c, o);
                for (i = 0; *p && i < *n; i++) {
                        free((*p)[i].bucket);
                        free((*p)[i].prefix);
                }
                free(*p);
                *p = NULL;
                *n = 0;
                break;
        }
        default:
                break;
        }
}

void cfg_init(struct cfg *cfg)
{
        size_t i;

        memset(cfg, 0, sizeof(*cfg));
        for (i = 0; i < CFG_NOPTS; i++) {
                const struct cfg_opt *o = &cfg_opts[i];

                switch (o->type) {
                case CT_STR:
                        if (o->def_s)
                                *(char **)fld(cfg, o->off) = strdup(o->def_s);
                        break;
                case CT_LONG:
                        *(long *)fld(cfg, o->off) = (long)o->def_i;
                        break;
                case CT_INT:
                case CT_BOOL:
                        *(int *)fld(cfg, o->off) = (int)o->def_i;
                        break;
                case CT_SIZE:
                        *(uint64_t *)fld(cfg, o->off) = (uint64_t)o->def_i;
                        break;
                case CT_FLOAT:
                        *(double *)fld(cfg, o->off) = o->def_f;
                        break;
                default:
                        break;
                }
        }
}

void cfg_clear(struct cfg *cfg)
{
        size_t i;

        if (!cfg)
                return;
        for (i = 0; i < CFG_NOPTS; i++)
                free_opt(cfg, &cfg_opts[i]);
        for (i = 0; cfg->notes && i < cfg->n_notes; i++)
                free(cfg->notes[i]);
        free(cfg->notes);
        for (i = 0; cfg->warnings && i < cfg->n_warnings; i++)
                free(cfg->warnings[i]);
        free(cfg->warnings);
        free(cfg->path);
        memset(cfg, 0, sizeof(*cfg));
}

size_t cfg_option_count(void)
{
        return CFG_NOPTS;
}

const char *cfg_option_name(size_t i)
{
        return i < CFG_NOPTS ? cfg_opts[i].name : NULL;
}

/* ---- sizes ---- */

/* "4G" when v is an exact multiple of a unit, else the number. */
static void fmt_size(char *out, size_t n, uint64_t v)
{
        static const char units[] = "KMGT";
        int u = -1;

        while (v && u < 3 && v % 1024 == 0) {
                v /= 1024;
                u++;
        }
        if (u >= 0)
                snprintf(out, n, "%llu%c", (unsigned long long)v, units[u]);
        else
                snprintf(out, n, "%llu", (unsigned long long)v);
}

/* "512M", "4 GiB", "1048576" -> bytes; -1 when it is not a size (or overflows). */
static int parse_size(const char *s, uint64_t *out)
{
        unsigned long long v = 0, mul = 1;
        const char *p = s;

        while (isspace((unsigned char)*p))
                p++;
        if (!isdigit((unsigned char)*p))
                return -1;
        for (; isdigit((unsigned char)*p); p++) {
                if (v > (ULLONG_MAX - 9) / 10)
                        return -1;
                v = v * 10 + (unsigned long long)(*p - '0');
        }
        while (isspace((unsigned char)*p))
                p++;
        switch (toupper((unsigned char)*p)) {
        case 'K': mul = CFG_KIB; p++; break;
        case 'M': mul = CFG_MIB; p++; break;
        case 'G': mul = CFG_GIB; p++; break;
        case 'T': mul = CFG_GIB * 1024; p++; break;
        case 'B': break;
        case '\0': break;
        default: return -1;
        }
        if (mul > 1 && (*p == 'i' || *p == 'I'))
                p++;
        if (*p == 'b' || *p == 'B')
                p++;
        while (isspace((unsigned char)*p))
                p++;
        if (*p || v > ULLONG_MAX / mul)
                return -1;
        *out = v * mul;
        return 0;
}

/* ---- loading context and errors ---- */

struct cfg_ctx {
        struct cfg *cfg;
        const char *path;
        char *errstr;
        size_t errsz;
        config_setting_t *set[CFG_NOPTS]; /* where each option was set; NULL: default */
        char *src_path;                   /* cached source text for check_int_literal() */
        char *src;
};

static const char *where_file(const struct cfg_ctx *x, const config_setting_t *s)
{
        const char *f = s ? config_setting_source_file(s) : NULL;

        return f ? f : x->path;
}

/* "file:line: setting: message" (no line when s is NULL or has none). */
static int ctx_err(struct cfg_ctx *x, int rc, const config_setting_t *s, const char *name, const char *fmt,
                   ...) JB_PRINTF(5, 6);
static int ctx_err(struct cfg_ctx *x, int rc, const config_setting_t *s, const char *name, const char *fmt,
                   ...)
{
        va_list ap;
        unsigned line = s ? config_setting_source_line(s) : 0;
        int n;

        if (!x->errstr || !x->errsz)
                return rc;
        if (line)
                n = snprintf(x->errstr, x->errsz, "%s:%u: %s: ", where_file(x, s), line, name);
        else
                n = snprintf(x->errstr, x->errsz, "%s: %s: ", where_file(x, s), name);
        if (n < 0 || (size_t)n >= x->errsz)
                return rc;
        va_start(ap, fmt);
        vsnprintf(x->errstr + n, x->errsz - (size_t)n, fmt, ap);
        va_end(ap);
        return rc;
}

/* Append one formatted sentence to a list of strings (notes or warnings). */
static int add_line(char ***list, size_t *n, const char *fmt, va_list ap) JB_PRINTF(3, 0);
static int add_line(char ***list, size_t *n, const char *fmt, va_list ap)
{
        char line[1024];
        char **l;

        vsnprintf(line, sizeof(line), fmt, ap);
        l = realloc(*list, (*n + 1) * sizeof(*l));
        if (!l)
                return JB_ENOMEM;
        *list = l;
        l[*n] = strdup(line);
        if (!l[*n])
                return JB_ENOMEM;
        (*n)++;
        return JB_OK;
}

static int add_note(struct cfg *c, const char *fmt, ...) JB_PRINTF(2, 3);
static int add_note(struct cfg *c, const char *fmt, ...)
{
        va_list ap;
        int rc;

        va_start(ap, fmt);
        rc = add_line(&c->notes, &c->n_notes, fmt, ap);
        va_end(ap);
        return rc;
}

/* A setting that weakens security: printed by check-config, logged at WARN at every start. */
static int add_warn(struct cfg *c, const char *fmt, ...) JB_PRINTF(2, 3);
static int add_warn(struct cfg *c, const char *fmt, ...)
{
        va_list ap;
        int rc;

        va_start(ap, fmt);
        rc = add_line(&c->warnings, &c->n_warnings, fmt, ap);
        va_end(ap);
        return rc;
}

static const char *type_name(int t)
{
        switch (t) {
        case CONFIG_TYPE_GROUP: return "a group { ... }";
        case CONFIG_TYPE_INT:
        case CONFIG_TYPE_INT64: return "a whole number";
        case CONFIG_TYPE_FLOAT: return "a decimal number";
        case CONFIG_TYPE_STRING: return "a string";
        case CONFIG_TYPE_BOOL: return "true/false";
        case CONFIG_TYPE_ARRAY: return "a list [ ... ]";
        case CONFIG_TYPE_LIST: return "a list ( ... )";
        default: return "something else";
        }
}

/* What the option accepts, for type errors. */
static void expect_text(const struct cfg_opt *o, char *out, size_t n)
{
        char lo[32], hi[32];

        switch (o->type) {
        case CT_STR:
                snprintf(out, n, "a string in double quotes");
                break;
        case CT_LONG:
        case CT_INT:
                snprintf(out, n, "a whole number from %lld to %lld", o->min_i, o->max_i);
                break;
        case CT_SIZE:
                fmt_size(lo, sizeof(lo), (uint64_t)o->min_i);
                fmt_size(hi, sizeof(hi), (uint64_t)o->max_i);
                snprintf(out, n, "a size from %s to %s: a number of bytes or a string such as \"512M\" or \"4G\"",
                         lo, hi);
                break;
        case CT_BOOL:
                snprintf(out, n, "true or false");
                break;
        case CT_FLOAT:
                snprintf(out, n, "a number from %g to %g", o->min_f, o->max_f);
                break;
        case CT_STRLIST:
                snprintf(out, n, "a list of strings such as [ \"a\", \"b\" ]");
                break;
        case CT_PREFIXES:
                snprintf(out, n, "a list of groups such as ( { bucket = \"ct-logs\"; prefix = \"trails/org\"; } )");
                break;
        }
}

static int type_err(struct cfg_ctx *x, const config_setting_t *s, const struct cfg_opt *o)
{
        char want[160];

        expect_text(o, want, sizeof(want));
        return ctx_err(x, JB_EINPUT, s, o->name, "must be %s, not %s", want,
                       type_name(config_setting_type(s)));
}

/* ---- integer literals beyond 32 bits (libconfig 1.5 truncates them) ---- */

static int load_source(struct cfg_ctx *x, const char *file)
{
        struct stat st;
        FILE *fp;
        size_t n, cap = 0;

        if (x->src_path && strcmp(x->src_path, file) == 0)
                return x->src ? 0 : -1;
        free(x->src_path);
        free(x->src);
        x->src = NULL;
        x->src_path = strdup(file);
        if (!x->src_path)
                return -1;
        fp = fopen(file, "rb");
        if (!fp)
                return -1;
        if (fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode)) {
                cap = st.st_size < (off_t)CFG_SOURCE_MAX ? (size_t)st.st_size : CFG_SOURCE_MAX;
                x->src = malloc(cap + 1);
        }
        if (x->src) {
                n = fread(x->src, 1, cap, fp);
                x->src[n] = '\0';
        }
        fclose(fp);
        return x->src ? 0 : -1;
}

static int ident_char(char c)
{
        return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '*';
}

/*
 * 1 when the literal of integer setting s, found on its source line, fits in 32 bits (or
 * cannot be found: best effort), 0 when libconfig has truncated it.
 */
static int int_literal_fits(struct cfg_ctx *x, const config_setting_t *s)
{
        const char *name = config_setting_name(s), *p, *end;
        unsigned line = config_setting_source_line(s), l;
        size_t nl;

        if (!name || !line || load_source(x, where_file(x, s)) != 0)
                return 1;
        for (p = x->src, l = 1; *p && l < line; p++)
                if (*p == '\n')
                        l++;
        end = strchr(p, '\n');
        if (!end)
                end = p + strlen(p);
        nl = strlen(name);
        for (; p + nl <= end; p++) {
                const char *q = p + nl, *digits;
                unsigned long long v = 0;
                int hex = 0, over = 0;

                if (strncmp(p, name, nl) != 0 || (p > x->src && ident_char(p[-1])) || ident_char(*q))
                        continue;
                while (q < end && (*q == ' ' || *q == '\t'))
                        q++;
                if (q >= end || (*q != '=' && *q != ':'))
                        continue;
                q++;
                while (q < end && (*q == ' ' || *q == '\t'))
                        q++;
                if (q < end && (*q == '-' || *q == '+'))
                        q++;
                if (q + 1 < end && q[0] == '0' && (q[1] == 'x' || q[1] == 'X')) {
                        hex = 1;
                        q += 2;
                }
                for (digits = q; q < end && (hex ? isxdigit((unsigned char)*q) : isdigit((unsigned char)*q));
                     q++) {
                        unsigned d = isdigit((unsigned char)*q) ? (unsigned)(*q - '0')
                                                                : (unsigned)(toupper((unsigned char)*q) - 'A' + 10);

                        if (v > (1ULL << 40))
                                over = 1;
                        else
                                v = v * (hex ? 16 : 10) + d;
                }
                if (q == digits)
                        return 1;
                if (q < end && (*q == 'L' || *q == '.' || *q == 'e' || *q == 'E'))
                        return 1;
                return !over && v <= (unsigned long long)INT32_MAX + 1;
        }
        return 1;
}

/* ---- one setting ---- */

static int copy_str(struct cfg_ctx *x, const config_setting_t *s, const struct cfg_opt *o, char **out)
{
        const char *v = config_setting_get_string(s);

        if (!v)
                return JB_EINPUT;
        *out = strdup(v);
        if (!*out)
                return ctx_err(x, JB_ENOMEM, s, o->name, "out of memory");
        return JB_OK;
}

static int load_strlist(struct cfg_ctx *x, const config_setting_t *s, const struct cfg_opt *o)
{
        int n = config_setting_length(s), i;
        char **v, ***dst = fld(x->cfg, o->off);
        size_t j;

        if (config_setting_type(s) != CONFIG_TYPE_ARRAY && config_setting_type(s) != CONFIG_TYPE_LIST)
                return type_err(x, s, o);
        free_opt(x->cfg, o);
        v = calloc((size_t)n + 1, sizeof(*v));
        if (!v)
                return ctx_err(x, JB_ENOMEM, s, o->name, "out of memory");
        *dst = v;
        for (i = 0; i < n; i++) {
                const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
                const char *str = config_setting_get_string(e);

                if (config_setting_type(e) != CONFIG_TYPE_STRING)
                        return ctx_err(x, JB_EINPUT, e, o->name, "item %d must be a string in double quotes, not %s",
                                       i + 1, type_name(config_setting_type(e)));
                if (!*str)
                        return ctx_err(x, JB_EINPUT, e, o->name, "item %d is empty", i + 1);
                if ((o->flags & CO_PROPS) && (!strchr(str, '=') || *str == '=' ||
                                              strcspn(str, " \t\r\n") < strcspn(str, "=")))
                        return ctx_err(x, JB_EINPUT, e, o->name,
                                       "item %d must look like \"name=value\" (a librdkafka property), "
                                       "e.g. \"security.protocol=ssl\"",
                                       i + 1);
                for (j = 0; j < (size_t)i; j++)
                        if (strcmp(v[j], str) == 0)
                                return ctx_err(x, JB_EINPUT, e, o->name, "\"%s\" is listed twice", str);
                if (copy_str(x, e, o, &v[i]) != JB_OK)
                        return JB_ENOMEM;
                *fld_n(x->cfg, o) = (size_t)i + 1;
        }
        return JB_OK;
}

/* Strip the slashes around a prefix, in place. */
static void trim_slashes(char *p)
{
        size_t n, k = strspn(p, "/");

        memmove(p, p + k, strlen(p + k) + 1);
        n = strlen(p);
        while (n && p[n - 1] == '/')
                p[--n] = '\0';
}

static int load_prefixes(struct cfg_ctx *x, const config_setting_t *s, const struct cfg_opt *o)
{
        int n = config_setting_length(s), i, k;
        struct cfg_prefix *v, **dst = fld(x->cfg, o->off);

        if (config_setting_type(s) != CONFIG_TYPE_LIST &&
            !(config_setting_type(s) == CONFIG_TYPE_ARRAY && n == 0))
                return type_err(x, s, o);
        free_opt(x->cfg, o);
        v = calloc((size_t)n + 1, sizeof(*v));
        if (!v)
                return ctx_err(x, JB_ENOMEM, s, o->name, "out of memory");
        *dst = v;
        for (i = 0; i < n; i++) {
                const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
                const config_setting_t *b = NULL, *p = NULL;

                if (config_setting_type(e) != CONFIG_TYPE_GROUP)
                        return ctx_err(x, JB_EINPUT, e, o->name,
                                       "item %d must be a group { bucket = \"...\"; prefix = \"...\"; }, not %s",
                                       i + 1, type_name(config_setting_type(e)));
                *fld_n(x->cfg, o) = (size_t)i + 1;
                for (k = 0; k < config_setting_length(e); k++) {
                        const config_setting_t *f = config_setting_get_elem(e, (unsigned)k);
                        const char *fn = config_setting_name(f);

                        if (strcmp(fn, "bucket") == 0)
                                b = f;
                        else if (strcmp(fn, "prefix") == 0)
                                p = f;
                        else
                                return ctx_err(x, JB_EINPUT, f, o->name,
                                               "unknown setting '%s' in item %d (only bucket and prefix)", fn,
                                               i + 1);
                        if (config_setting_type(f) != CONFIG_TYPE_STRING)
                                return ctx_err(x, JB_EINPUT, f, o->name, "item %d: %s must be a string, not %s",
                                               i + 1, fn, type_name(config_setting_type(f)));
                }
                if (!b || !p)
                        return ctx_err(x, JB_EINPUT, e, o->name, "item %d needs both bucket and prefix", i + 1);
                if (copy_str(x, b, o, &v[i].bucket) || copy_str(x, p, o, &v[i].prefix))
                        return JB_ENOMEM;
                if (!*v[i].bucket || strchr(v[i].bucket, '/'))
                        return ctx_err(x, JB_EINPUT, b, o->name, "item %d: bucket \"%s\" is not a bucket name",
                                       i + 1, v[i].bucket);
                trim_slashes(v[i].prefix);
                if (ct_path_prefix_is_logs(v[i].prefix))
                        return ctx_err(x, JB_EINPUT, p, o->name,
                                       "item %d: give the folder that holds AWSLogs/, not AWSLogs itself", i + 1);
                for (k = 0; k < i; k++)
                        if (!strcmp(v[k].bucket, v[i].bucket) && !strcmp(v[k].prefix, v[i].prefix))
                                return ctx_err(x, JB_EINPUT, e, o->name, "item %d repeats item %d", i + 1, k + 1);
        }
        return JB_OK;
}

static int load_value(struct cfg_ctx *x, const config_setting_t *s, const struct cfg_opt *o)
{
        int t = config_setting_type(s);
        char want[160], lo[32], hi[32], got[32];

        switch (o->type) {
        case CT_STR: {
                const char *v = config_setting_get_string(s);
                char **dst = fld(x->cfg, o->off);
                size_t i;

                if (t != CONFIG_TYPE_STRING)
                        return type_err(x, s, o);
                if (!*v && (o->flags & (CO_PATH | CO_SECRET)))
                        return ctx_err(x, JB_EINPUT, s, o->name, "is empty: remove the setting or give a value");
                if (o->choices) {
                        for (i = 0; o->choices[i] && strcmp(o->choices[i], v) != 0; i++)
                                ;
                        if (!o->choices[i]) {
                                size_t k, at = 0;

                                for (k = 0; o->choices[k] && at < sizeof(want); k++)
                                        at += (size_t)snprintf(want + at, sizeof(want) - at, "%s%s",
                                                               k ? ", " : "", o->choices[k]);
                                return ctx_err(x, JB_EINPUT, s, o->name, "\"%s\" is not one of: %s", v, want);
                        }
                }
                free_opt(x->cfg, o);
                return copy_str(x, s, o, dst);
        }
        case CT_LONG:
        case CT_INT: {
                long long v;

                if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
                        return type_err(x, s, o);
                if (t == CONFIG_TYPE_INT && !int_literal_fits(x, s)) {
                        expect_text(o, want, sizeof(want));
                        return ctx_err(x, JB_EINPUT, s, o->name, "the number is far too large: must be %s", want);
                }
                v = config_setting_get_int64(s);
                if (v < o->min_i || v > o->max_i)
                        return ctx_err(x, JB_EINPUT, s, o->name, "must be between %lld and %lld, not %lld",
                                       o->min_i, o->max_i, v);
                if (o->type == CT_LONG)
                        *(long *)fld(x->cfg, o->off) = (long)v;
                else
                        *(int *)fld(x->cfg, o->off) = (int)v;
                return JB_OK;
        }
        case CT_SIZE: {
                uint64_t v;

                fmt_size(lo, sizeof(lo), (uint64_t)o->min_i);
                fmt_size(hi, sizeof(hi), (uint64_t)o->max_i);
                if (t == CONFIG_TYPE_STRING) {
                        if (parse_size(config_setting_get_string(s), &v) != 0)
                                return ctx_err(x, JB_EINPUT, s, o->name,
                                               "\"%s\" is not a size: write a number of bytes or a number "
                                               "followed by K, M, G or T, such as \"512M\" or \"4G\"",
                                               config_setting_get_string(s));
                } else if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64) {
                        long long iv = config_setting_get_int64(s);

                        if (t == CONFIG_TYPE_INT && !int_literal_fits(x, s))
                                return ctx_err(x, JB_EINPUT, s, o->name,
                                               "numbers above 2147483647 must be written as a string such as "
                                               "\"8G\" (or with an L suffix)");
                        if (iv < 0)
                                return ctx_err(x, JB_EINPUT, s, o->name, "must be between %s and %s, not %lld",
                                               lo, hi, iv);
                        v = (uint64_t)iv;
                } else {
                        return type_err(x, s, o);
                }
                if (v < (uint64_t)o->min_i || v > (uint64_t)o->max_i) {
                        fmt_size(got, sizeof(got), v);
                        return ctx_err(x, JB_EINPUT, s, o->name, "must be between %s and %s, not %s", lo, hi, got);
                }
                *(uint64_t *)fld(x->cfg, o->off) = v;
                return JB_OK;
        }
        case CT_BOOL:
                if (t != CONFIG_TYPE_BOOL)
                        return type_err(x, s, o);
                *(int *)fld(x->cfg, o->off) = config_setting_get_bool(s) ? 1 : 0;
                return JB_OK;
        case CT_FLOAT: {
                double v;

                if (t == CONFIG_TYPE_FLOAT)
                        v = config_setting_get_float(s);
                else if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64)
                        v = (double)config_setting_get_int64(s);
                else
                        return type_err(x, s, o);
                if (!(v >= o->min_f && v <= o->max_f))
                        return ctx_err(x, JB_EINPUT, s, o->name, "must be between %g and %g, not %g", o->min_f,
                                       o->max_f, v);
                *(double *)fld(x->cfg, o->off) = v;
                return JB_OK;
        }
        case CT_STRLIST:
                return load_strlist(x, s, o);
        case CT_PREFIXES:
                return load_prefixes(x, s, o);
        }
        return JB_EINPUT;
}

/* Edit distance, for "did you mean"; large when the names are too long to bother. */
static size_t distance(const char *a, const char *b)
{
        size_t la = strlen(a), lb = strlen(b), i, j, prev[64], cur[64];

        if (la >= 64 || lb >= 64)
                return 99;
        for (j = 0; j <= lb; j++)
                prev[j] = j;
        for (i = 1; i <= la; i++) {
                cur[0] = i;
                for (j = 1; j <= lb; j++) {
                        size_t d = prev[j - 1] + (a[i - 1] != b[j - 1]);

                        if (prev[j] + 1 < d)
                                d = prev[j] + 1;
                        if (cur[j - 1] + 1 < d)
                                d = cur[j - 1] + 1;
                        cur[j] = d;
                }
                memcpy(prev, cur, sizeof(prev));
        }
        return prev[lb];
}

static int unknown_err(struct cfg_ctx *x, const config_setting_t *s, const char *full)
{
        size_t i, best = 99, d;
        const char *bn = NULL;

        for (i = 0; i < CFG_NOPTS; i++) {
                d = distance(full, cfg_opts[i].name);
                if (d < best) {
                        best = d;
                        bn = cfg_opts[i].name;
                }
        }
        for (i = 0; i + 1 < CFG_NGROUPS; i++) {
                d = distance(full, cfg_groups[i]);
                if (d < best) {
                        best = d;
                        bn = cfg_groups[i];
                }
        }
        if (!bn || best > 3) /* the right name in the wrong group? */
                for (i = 0; i < CFG_NOPTS; i++)
                        if (strcmp(leaf(full), leaf(cfg_opts[i].name)) == 0) {
                                bn = cfg_opts[i].name;
                                best = 0;
                                break;
                        }
        if (bn && best <= 3)
                return ctx_err(x, JB_EINPUT, s, full, "unknown setting (did you mean %s?)", bn);
        return ctx_err(x, JB_EINPUT, s, full, "unknown setting ('jibe check-config --example' lists them all)");
}

static int is_group_name(const char *n)
{
        size_t i;

        for (i = 0; i + 1 < CFG_NGROUPS; i++)
                if (strcmp(cfg_groups[i], n) == 0)
                        return 1;
        return 0;
}

static int load_setting(struct cfg_ctx *x, const config_setting_t *s, const char *full)
{
        int i = find_opt(full);

        if (i < 0)
                return unknown_err(x, s, full);
        x->set[i] = (config_setting_t *)(uintptr_t)s;
        return load_value(x, s, &cfg_opts[i]);
}

static int walk(struct cfg_ctx *x, const config_setting_t *root)
{
        int i, k, rc;
        char full[256];

        for (i = 0; i < config_setting_length(root); i++) {
                const config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
                const char *n = config_setting_name(s);

                if (!is_group_name(n)) {
                        rc = load_setting(x, s, n);
                        if (rc)
                                return rc;
                        continue;
                }
                if (config_setting_type(s) != CONFIG_TYPE_GROUP)
                        return ctx_err(x, JB_EINPUT, s, n, "must be a group: %s = { ... };", n);
                for (k = 0; k < config_setting_length(s); k++) {
                        const config_setting_t *c = config_setting_get_elem(s, (unsigned)k);

                        snprintf(full, sizeof(full), "%s.%s", n, config_setting_name(c));
                        rc = load_setting(x, c, full);
                        if (rc)
                                return rc;
                }
        }
        return JB_OK;
}

/* ---- credentials ---- */

/* Read a small file whole; the size limit keeps a wrong path (a device, a log) harmless. */
static int read_small(struct cfg_ctx *x, const config_setting_t *s, const char *name, const char *path,
                      char **out, size_t *len, mode_t *mode)
{
        struct stat st;
        ssize_t n;
        size_t got = 0;
        char *p;
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return ctx_err(x, JB_EINPUT, s, name, "cannot read %s: %s", path, strerror(errno));
        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
                close(fd);
                return ctx_err(x, JB_EINPUT, s, name, "%s is not a regular file", path);
        }
        if (st.st_size > (off_t)CFG_SECRET_FILE_MAX) {
                close(fd);
                return ctx_err(x, JB_EINPUT, s, name, "%s is larger than %u bytes: is it the right file?", path,
                               CFG_SECRET_FILE_MAX);
        }
        p = malloc((size_t)st.st_size + 1);
        if (!p) {
                close(fd);
                return ctx_err(x, JB_ENOMEM, s, name, "out of memory");
        }
        while (got < (size_t)st.st_size && (n = read(fd, p + got, (size_t)st.st_size - got)) != 0) {
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        explicit_bzero(p, got);
                        free(p);
                        close(fd);
                        return ctx_err(x, JB_EINPUT, s, name, "cannot read %s: %s", path, strerror(errno));
                }
                got += (size_t)n;
        }
        close(fd);
        p[got] = '\0';
        *out = p;
        *len = got;
        *mode = st.st_mode;
        return JB_OK;
}

static int note_mode(struct cfg_ctx *x, const char *name, const char *path, mode_t mode)
{
        if (!(mode & (S_IRGRP | S_IROTH)))
                return JB_OK;
        return add_warn(x->cfg, "%s: %s holds a secret and can be read by %s (mode %04o): run 'chmod 600 %s'",
                        name, path, (mode & S_IROTH) ? "every user" : "its group", (unsigned)(mode & 07777),
                        path);
}

/* First line of a secret file, without its line end. */
static int read_secret_file(struct cfg_ctx *x, const config_setting_t *s, const char *name, const char *path,
                            char **out)
{
        char *p;
        size_t len, n;
        mode_t mode;
        int rc = read_small(x, s, name, path, &p, &len, &mode);

        if (rc)
                return rc;
        n = strcspn(p, "\n");
        if (n && p[n - 1] == '\r')
                n--;
        if (n == 0 || memchr(p, '\0', n)) {
                explicit_bzero(p, len);
                free(p);
                return ctx_err(x, JB_EINPUT, s, name, "the first line of %s is empty", path);
        }
        *out = strndup(p, n);
        explicit_bzero(p, len);
        free(p);
        if (!*out)
                return ctx_err(x, JB_ENOMEM, s, name, "out of memory");
        return note_mode(x, name, path, mode);
}

static int read_secret_env(struct cfg_ctx *x, const config_setting_t *s, const char *name, const char *var,
                           char **out)
{
        const char *v;
        size_t i;

        for (i = 0; var[i]; i++)
                if (!(isalpha((unsigned char)var[i]) || var[i] == '_' || (i && isdigit((unsigned char)var[i]))))
                        return ctx_err(x, JB_EINPUT, s, name, "\"%s\" is not an environment variable name", var);
        if (!i)
                return ctx_err(x, JB_EINPUT, s, name, "is empty: give the name of an environment variable");
        v = getenv(var);
        if (!v || !*v)
                return ctx_err(x, JB_EINPUT, s, name, "the environment variable %s is %s", var,
                               v ? "empty" : "not set");
        *out = strdup(v);
        if (!*out)
                return ctx_err(x, JB_ENOMEM, s, name, "out of memory");
        return JB_OK;
}

/*
 * One secret given exactly one way: base ("access_anywhere.password") in the file, base_file
 * or base_env. Fills *dst (already holding the inline value) and *from.
 */
static int resolve_secret(struct cfg_ctx *x, const char *base, char **dst, const char **from)
{
        char nfile[64], nenv[64];
        int io = find_opt(base), ifl, ie, count;
        const config_setting_t *si, *sf, *se;

        snprintf(nfile, sizeof(nfile), "%s_file", base);
        snprintf(nenv, sizeof(nenv), "%s_env", base);
        ifl = find_opt(nfile);
        ie = find_opt(nenv);
        si = x->set[io];
        sf = x->set[ifl];
        se = x->set[ie];
        count = !!si + !!sf + !!se;
        if (count > 1) {
                const config_setting_t *ss[3] = {si, sf, se}, *a = NULL, *b = NULL;
                const char *nn[3] = {base, nfile, nenv}, *an = NULL, *bn = NULL;
                int k;

                for (k = 0; k < 3; k++) { /* a, b: the two that come first in the file */
                        if (!ss[k])
                                continue;
                        if (!a || config_setting_source_line(ss[k]) < config_setting_source_line(a)) {
                                b = a;
                                bn = an;
                                a = ss[k];
                                an = nn[k];
                        } else if (!b || config_setting_source_line(ss[k]) < config_setting_source_line(b)) {
                                b = ss[k];
                                bn = nn[k];
                        }
                }
                return ctx_err(x, JB_EINPUT, b, bn, "%s is also given by %s (line %u): give the %s one way only",
                               leaf(bn), leaf(an), config_setting_source_line(a), leaf(base));
        }
        if (si) {
                *from = leaf(cfg_opts[io].name);
                return add_warn(x->cfg,
                                "%s is written in %s, which is often readable by others and copied around: "
                                "prefer %s_file (a file of mode 0600) or %s_env", base, x->path, leaf(base),
                                leaf(base));
        }
        if (sf) {
                *from = leaf(cfg_opts[ifl].name);
                return read_secret_file(x, sf, nfile, *(char **)fld(x->cfg, cfg_opts[ifl].off), dst);
        }
        if (se) {
                *from = leaf(cfg_opts[ie].name);
                return read_secret_env(x, se, nenv, *(char **)fld(x->cfg, cfg_opts[ie].off), dst);
        }
        return JB_OK;
}

/* A string member of the credentials JSON: NULL when absent or empty; -1 when not a string. */
static int json_str(const cJSON *o, const char *k, const char **out)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

        *out = NULL;
        if (!v || cJSON_IsNull(v))
                return 0;
        if (!cJSON_IsString(v))
                return -1;
        if (v->valuestring && *v->valuestring)
                *out = v->valuestring;
        return 0;
}

static int load_credentials_json(struct cfg_ctx *x)
{
        static const char *const keys[] = {"endpoint", "login", "password"};
        const char *name = "access_anywhere.credentials_json";
        const config_setting_t *s = x->set[find_opt(name)];
        const char *path = x->cfg->aa_credentials_json, *val[3];
        struct cfg *c = x->cfg;
        char *text, **dst[3];
        size_t len, i;
        mode_t mode;
        cJSON *j;
        int rc;

        if (!s)
                return JB_OK;
        rc = read_small(x, s, name, path, &text, &len, &mode);
        if (rc)
                return rc;
        j = cJSON_ParseWithLength(text, len);
        explicit_bzero(text, len);
        free(text);
        if (!j || !cJSON_IsObject(j)) {
                cJSON_Delete(j);
                return ctx_err(x, JB_EINPUT, s, name,
                               "%s is not a JSON object like {\"endpoint\": \"https://...\", \"login\": \"...\", "
                               "\"password\": \"...\"}",
                               path);
        }
        for (i = 0; i < 3; i++) {
                if (json_str(j, keys[i], &val[i]) != 0) {
                        cJSON_Delete(j);
                        return ctx_err(x, JB_EINPUT, s, name, "%s: \"%s\" must be a string", path, keys[i]);
                }
        }
        dst[0] = c->aa_endpoint ? NULL : &c->aa_endpoint;
        dst[1] = c->aa_login ? NULL : &c->aa_login;
        dst[2] = c->aa_password_from ? NULL : &c->aa_password;
        rc = JB_OK;
        for (i = 0; i < 3 && rc == JB_OK; i++) {
                if (!dst[i] || !val[i])
                        continue;
                *dst[i] = strdup(val[i]);
                if (!*dst[i])
                        rc = ctx_err(x, JB_ENOMEM, s, name, "out of memory");
                else if (i == 2)
                        c->aa_password_from = "credentials_json";
        }
        if (val[2]) {
                explicit_bzero(cJSON_GetObjectItemCaseSensitive(j, "password")->valuestring, strlen(val[2]));
                if (rc == JB_OK && dst[2])
                        rc = note_mode(x, name, path, mode);
        }
        cJSON_Delete(j);
        return rc;
}

/* ---- cross-option rules ---- */

/* The setting to blame for a missing value: the group, when there is one. */
static const config_setting_t *group_setting(struct cfg_ctx *x, config_t *lc, const char *opt)
{
        int i = find_opt(opt);
        char g[64];
        const char *d = strchr(opt, '.');

        if (x->set[i])
                return x->set[i];
        if (!d || (size_t)(d - opt) >= sizeof(g))
                return NULL;
        memcpy(g, opt, (size_t)(d - opt));
        g[d - opt] = '\0';
        return config_lookup(lc, g);
}

/*
 * 1 when the address has user information ("https://user:secret@host"): *at is where it
 * starts (after "://"), *n its length (up to the '@'). Only the authority part counts:
 * an '@' after the first '/', '?' or '#' belongs to the path.
 */
static int endpoint_userinfo(const char *url, const char **at, size_t *n)
{
        const char *p = strstr(url, "://"), *auth, *q;
        size_t an;

        if (!p)
                return 0;
        auth = p + 3;
        an = strcspn(auth, "/?#");
        for (p = NULL, q = auth; q < auth + an; q++)
                if (*q == '@')
                        p = q; /* the last '@' ends it: a password may hold one */
        if (!p)
                return 0;
        *at = auth;
        *n = (size_t)(p - auth);
        return 1;
}

static int validate(struct cfg_ctx *x, config_t *lc)
{
        struct cfg *c = x->cfg;
        const char *ep = "access_anywhere.endpoint";
        const config_setting_t *es = group_setting(x, lc, ep);
        const config_setting_t *cj = x->set[find_opt("access_anywhere.credentials_json")];
        const char *host, *ui;
        size_t n, uin;
        int rc;

        if (!c->aa_endpoint)
                return ctx_err(x, JB_EINPUT, es, ep,
                               "not set: give Access Anywhere's address, e.g. endpoint = \"https://fabric.example.com\";");
        if (!x->set[find_opt(ep)] && cj)
                es = cj;
        if (endpoint_userinfo(c->aa_endpoint, &ui, &uin)) {
                /* never print what stands before the '@': it is a user name and password */
                return ctx_err(x, JB_EINPUT, es, ep,
                               "\"%.*s***@%s\" has a user name or password written in the address: "
                               "remove them from the address (it is printed in logs) and give the login "
                               "and a password_file instead",
                               (int)(ui - c->aa_endpoint), c->aa_endpoint, ui + uin + 1);
        }
        if (strncasecmp(c->aa_endpoint, "https://", 8) == 0) {
                host = c->aa_endpoint + 8;
        } else if (strncasecmp(c->aa_endpoint, "http://", 7) == 0) {
                host = c->aa_endpoint + 7;
                if (!c->aa_allow_http)
                        return ctx_err(x, JB_EINPUT, es, ep,
                                       "\"%s\" is http://: the password and tokens would cross the network "
                                       "unencrypted; use https://, or set access_anywhere.allow_http = true "
                                       "for a test simulator",
                                       c->aa_endpoint);
                rc = add_warn(c, "%s is http:// (allow_http = true): the password and tokens cross the "
                                 "network unencrypted, so anyone on the path can read them; meant for a "
                                 "test simulator only, use https:// in production", ep);
                if (rc)
                        return rc;
        } else {
                return ctx_err(x, JB_EINPUT, es, ep, "\"%s\" must start with https:// (or http:// for a test simulator)",
                               c->aa_endpoint);
        }
        if (!*host || *host == '/' || strpbrk(c->aa_endpoint, " \t\r\n"))
                return ctx_err(x, JB_EINPUT, es, ep, "\"%s\" is not an address", c->aa_endpoint);
        n = strlen(c->aa_endpoint);
        while (n && c->aa_endpoint[n - 1] == '/')
                c->aa_endpoint[--n] = '\0';
        if (strstr(host, "/api/"))
                return ctx_err(x, JB_EINPUT, es, ep, "give the address without /api/...: \"%.*s\"",
                               (int)(strstr(host, "/api/") - c->aa_endpoint), c->aa_endpoint);

        if (!c->aa_authtoken) {
                const char *pw = "access_anywhere.password", *lg = "access_anywhere.login";

                if (!c->aa_login && !c->aa_password)
                        return ctx_err(x, JB_EINPUT, group_setting(x, lc, lg), "access_anywhere",
                                       "no credentials: give login and password_file (or password_env), "
                                       "or an authtoken_file");
                if (!c->aa_login)
                        return ctx_err(x, JB_EINPUT, group_setting(x, lc, lg), lg,
                                       "not set: a password needs the login it belongs to");
                if (!c->aa_password)
                        return ctx_err(x, JB_EINPUT, group_setting(x, lc, pw), pw,
                                       "not set: give password_file or password_env for login \"%s\"", c->aa_login);
        }
        if (c->aa_insecure) {
                rc = add_warn(c, "access_anywhere.insecure is true: Access Anywhere's certificate is not "
                                 "checked, so anyone on the network path could read the credentials; turn "
                                 "it off, or set ca_file for a private authority");
                if (rc)
                        return rc;
        }
        if (c->aa_ca_file && access(c->aa_ca_file, R_OK) != 0)
                return ctx_err(x, JB_EINPUT, x->set[find_opt("access_anywhere.ca_file")], "access_anywhere.ca_file",
                               "cannot read %s: %s", c->aa_ca_file, strerror(errno));
        if (c->aa_backoff_base_ms > c->aa_backoff_max_ms)
                return ctx_err(x, JB_EINPUT, group_setting(x, lc, "access_anywhere.backoff_base_ms"),
                               "access_anywhere.backoff_base_ms", "%ld is larger than backoff_max_ms (%ld)",
                               c->aa_backoff_base_ms, c->aa_backoff_max_ms);
        if (c->sync_backoff_base_ms > c->sync_backoff_max_ms)
                return ctx_err(x, JB_EINPUT, group_setting(x, lc, "syncer.backoff_base_ms"), "syncer.backoff_base_ms",
                               "%ld is larger than backoff_max_ms (%ld)", c->sync_backoff_base_ms,
                               c->sync_backoff_max_ms);
        if (!c->n_self_keys && !c->n_self_arns && !c->n_self_agents) {
                rc = add_note(c, "self: no access key, ARN or user agent of Access Anywhere itself is set, so "
                                 "jibe cannot tell Access Anywhere's own S3 writes from others' and resyncs "
                                 "them too (harmless, but extra load): set self.keys, self.arns or "
                                 "self.agents (the provider's access key is on its settings page)");
                if (rc)
                        return rc;
        }
        return JB_OK;
}

/* The kafka group's rules: names Kafka accepts. */
static int validate_kafka(struct cfg_ctx *x, config_t *lc)
{
        struct cfg *c = x->cfg;
        const char *p = c->kafka_topic_prefix, *pn = "kafka.topic_prefix", *bn = "kafka.brokers";
        size_t i;

        if (strlen(p) > 200)
                return ctx_err(x, JB_EINPUT, group_setting(x, lc, pn), pn, "is longer than 200 characters");
        for (i = 0; p[i]; i++)
                if (!isalnum((unsigned char)p[i]) && !strchr("._-", p[i]))
                        return ctx_err(x, JB_EINPUT, group_setting(x, lc, pn), pn,
                                       "\"%s\": Kafka topic names allow only letters, digits, '.', '_' and '-'", p);
        if (c->kafka_brokers && strpbrk(c->kafka_brokers, " \t\r\n"))
                return ctx_err(x, JB_EINPUT, group_setting(x, lc, bn), bn,
                               "\"%s\": write host:port pairs separated by commas, without spaces",
                               c->kafka_brokers);
        for (i = 0; i < c->n_kafka_rdkafka; i++) {
                const char *pr = c->kafka_rdkafka[i];
                int rc;

                if (!prop_is_secret(pr))
                        continue;
                rc = add_warn(c, "kafka.rdkafka: the secret %.*s is written in %s, which is often readable "
                                 "by others and copied around: make this file readable only by jibe "
                                 "(chmod 600)",
                              (int)strcspn(pr, "="), pr, x->path);
                if (rc)
                        return rc;
        }
        return JB_OK;
}

int cfg_load(struct cfg *cfg, const char *path, char *errstr, size_t errsz)
{
        struct cfg_ctx x;
        config_t lc;
        FILE *fp;
        size_t i;
        int rc;

        if (errstr && errsz)
                errstr[0] = '\0';
        cfg_init(cfg);
        memset(&x, 0, sizeof(x));
        x.cfg = cfg;
        x.path = path;
        x.errstr = errstr;
        x.errsz = errsz;
        cfg->path = strdup(path);
        if (!cfg->path || !cfg->state_dir || !cfg->log_level) {
                cfg_clear(cfg);
                return jb_seterr(JB_ENOMEM, errstr, errsz, "%s: out of memory", path);
        }
        fp = fopen(path, "r");
        if (!fp) {
                rc = jb_seterr(JB_EIO, errstr, errsz, "cannot read configuration file %s: %s", path,
                               strerror(errno));
                cfg_clear(cfg);
                return rc;
        }
        fclose(fp);

        config_init(&lc);
        if (!config_read_file(&lc, path)) {
                if (config_error_type(&lc) == CONFIG_ERR_FILE_IO)
                        rc = jb_seterr(JB_EIO, errstr, errsz, "cannot read configuration file %s", path);
                else
                        rc = jb_seterr(JB_EINPUT, errstr, errsz, "%s:%d: %s",
                                       config_error_file(&lc) ? config_error_file(&lc) : path,
                                       config_error_line(&lc), config_error_text(&lc));
        } else {
                rc = walk(&x, config_root_setting(&lc));
                if (!rc)
                        rc = resolve_secret(&x, "access_anywhere.password", &cfg->aa_password,
                                            &cfg->aa_password_from);
                if (!rc)
                        rc = resolve_secret(&x, "access_anywhere.authtoken", &cfg->aa_authtoken,
                                            &cfg->aa_authtoken_from);
                if (!rc)
                        rc = load_credentials_json(&x);
                if (!rc)
                        rc = validate(&x, &lc);
                if (!rc)
                        rc = validate_kafka(&x, &lc);
        }
        config_destroy(&lc);
        free(x.src_path);
        free(x.src);
        if (rc) {
                cfg_clear(cfg);
                return rc;
        }
        log_add_secret(cfg->aa_password);
        log_add_secret(cfg->aa_authtoken);
        for (i = 0; i < cfg->n_kafka_rdkafka; i++)
                if (prop_is_secret(cfg->kafka_rdkafka[i]))
                        log_add_secret(strchr(cfg->kafka_rdkafka[i], '=') + 1);
        return JB_OK;
}

/* ---- printing ---- */

static void put_string(FILE *fp, const char *s)
{
        fputc('"', fp);
        for (; *s; s++) {
                unsigned char ch = (unsigned char)*s;

                if (ch == '"' || ch == '\\')
                        fprintf(fp, "\\%c", ch);
                else if (ch == '\n')
                        fputs("\\n", fp);
                else if (ch == '\t')
                        fputs("\\t", fp);
                else if (ch == '\r')
                        fputs("\\r", fp);
                else if (ch < 0x20 || ch == 0x7f)
                        fprintf(fp, "\\x%02x", ch);
                else
                        fputc(ch, fp);
        }
        fputc('"', fp);
}

static void put_size(FILE *fp, uint64_t v)
{
        char b[32];

        fmt_size(b, sizeof(b), v);
        if (strchr("KMGT", b[strlen(b) - 1]))
                fprintf(fp, "\"%s\"", b);
        else
                fprintf(fp, "%llu%s", (unsigned long long)v, v > INT32_MAX ? "L" : "");
}

static void put_float(FILE *fp, double v)
{
        char b[64];

        snprintf(b, sizeof(b), "%.10g", v);
        fputs(b, fp);
        if (!strpbrk(b, ".eEn"))
                fputs(".0", fp);
}

/* The value of o in c, in libconfig syntax; 0 when it is not set (nothing printed). */
static int put_value(FILE *fp, const struct cfg *c, const struct cfg_opt *o)
{
        size_t i, n;

        switch (o->type) {
        case CT_STR: {
                const char *s = *(char **)fld(c, o->off);

                if (!s)
                        return 0;
                if (o->flags & CO_SECRET)
                        fputs("\"***\"", fp);
                else
                        put_string(fp, s);
                return 1;
        }
        case CT_LONG:
                fprintf(fp, "%ld", *(long *)fld(c, o->off));
                return 1;
        case CT_INT:
                fprintf(fp, "%d", *(int *)fld(c, o->off));
                return 1;
        case CT_BOOL:
                fputs(*(int *)fld(c, o->off) ? "true" : "false", fp);
                return 1;
        case CT_SIZE:
                put_size(fp, *(uint64_t *)fld(c, o->off));
                return 1;
        case CT_FLOAT:
                put_float(fp, *(double *)fld(c, o->off));
                return 1;
        case CT_STRLIST: {
                char **v = *(char ***)fld(c, o->off);

                n = *fld_n(c, o);
                fputs("[", fp);
                for (i = 0; i < n; i++) {
                        fputs(i ? ", " : " ", fp);
                        if ((o->flags & CO_PROPS) && prop_is_secret(v[i]))
                                fprintf(fp, "\"%.*s=***\"", (int)strcspn(v[i], "="), v[i]);
                        else
                                put_string(fp, v[i]);
                }
                fputs(" ]", fp);
                return 1;
        }
        case CT_PREFIXES: {
                struct cfg_prefix *v = *(struct cfg_prefix **)fld(c, o->off);

                n = *fld_n(c, o);
                fputs("(", fp);
                for (i = 0; i < n; i++) {
                        fputs(i ? ", { bucket = " : " { bucket = ", fp);
                        put_string(fp, v[i].bucket);
                        fputs("; prefix = ", fp);
                        put_string(fp, v[i].prefix);
                        fputs("; }", fp);
                }
                fputs(" )", fp);
                return 1;
        }
        }
        return 0;
}

static void group_open(FILE *fp, const char *g, const char **indent)
{
        *indent = *g ? "        " : "";
        if (*g)
                fprintf(fp, "%s = {\n", g);
}

static void group_close(FILE *fp, const char *g)
{
        if (*g)
                fputs("};\n", fp);
}

void cfg_dump(const struct cfg *cfg, FILE *fp)
{
        size_t g, i;
        const char *ind;

        fprintf(fp, "# effective configuration%s%s (secrets shown as \"***\")\n", cfg->path ? " of " : "",
                cfg->path ? cfg->path : "");
        for (g = 0; g < CFG_NGROUPS; g++) {
                group_open(fp, cfg_groups[g], &ind);
                for (i = 0; i < CFG_NOPTS; i++) {
                        const struct cfg_opt *o = &cfg_opts[i];
                        const char *from = NULL;

                        if (!in_group(o, cfg_groups[g]))
                                continue;
                        if (o->off == OFF(aa_password))
                                from = cfg->aa_password_from;
                        else if (o->off == OFF(aa_authtoken))
                                from = cfg->aa_authtoken_from;
                        if (from && strcmp(from, leaf(o->name)) != 0) {
                                /* read from a file or the environment: shown, not settable twice */
                                fprintf(fp, "%s# %s = \"***\";  (from %s)\n", ind, leaf(o->name), from);
                                continue;
                        }
                        if (o->type == CT_STR && !*(char **)fld(cfg, o->off)) {
                                fprintf(fp, "%s# %s: not set\n", ind, leaf(o->name));
                                continue;
                        }
                        fprintf(fp, "%s%s = ", ind, leaf(o->name));
                        put_value(fp, cfg, o);
                        fputs(";\n", fp);
                }
                group_close(fp, cfg_groups[g]);
        }
}

/* "# " lines of at most width columns. */
static void put_comment(FILE *fp, const char *ind, const char *text, size_t width)
{
        const char *p = text;

        while (*p) {
                size_t n = strlen(p), cut = n;

                if (n > width) {
                        for (cut = width; cut > 0 && p[cut] != ' '; cut--)
                                ;
                        if (!cut)
                                cut = strcspn(p, " ");
                }
                fprintf(fp, "%s# %.*s\n", ind, (int)cut, p);
                p += cut;
                while (*p == ' ')
                        p++;
        }
}

static void put_default(FILE *fp, const char *ind, const struct cfg *def, const struct cfg_opt *o)
{
        char lo[32], hi[32];

        fprintf(fp, "%s# Default: ", ind);
        switch (o->type) {
        case CT_STR:
                if (*(char **)fld(def, o->off))
                        put_value(fp, def, o);
                else
                        fputs("not set", fp);
                fputs(".\n", fp);
                return;
        case CT_LONG:
        case CT_INT:
                put_value(fp, def, o);
                fprintf(fp, " (%lld to %lld).\n", o->min_i, o->max_i);
                return;
        case CT_SIZE:
                fmt_size(lo, sizeof(lo), (uint64_t)o->min_i);
                fmt_size(hi, sizeof(hi), (uint64_t)o->max_i);
                put_value(fp, def, o);
                fprintf(fp, " (%s to %s; K, M, G, T are powers of 1024).\n", lo, hi);
                return;
        case CT_FLOAT:
                put_value(fp, def, o);
                fprintf(fp, " (%g to %g).\n", o->min_f, o->max_f);
                return;
        case CT_BOOL:
                put_value(fp, def, o);
                fputs(".\n", fp);
                return;
        case CT_STRLIST:
        case CT_PREFIXES:
                fputs("empty.\n", fp);
                return;
        }
}

void cfg_example(FILE *fp)
{
        struct cfg def;
        size_t g, i;
        const char *ind;

        cfg_init(&def);
        fputs("# jibe.cfg - configuration of jibe, which keeps Access Anywhere's index of Amazon S3\n"
              "# buckets in step with changes made directly through the S3 API, as found in CloudTrail logs.\n"
              "#\n"
              "# Syntax (libconfig): name = value; groups in { }, lists in [ ] or ( ), text in double\n"
              "# quotes, comments after #. Every setting below shows its default; the values that are not\n"
              "# defaults are examples to replace. A setting jibe does not know is an error, so that a typo\n"
              "# never goes unnoticed. Check this file, and see the values jibe will use, with\n"
              "#     jibe check-config -c /etc/jibe/jibe.cfg --dump\n"
              "# It names the file, line and setting of any mistake. Passwords are never printed.\n"
              "#\n"
              "# This file was generated by 'jibe check-config --example'.\n",
              fp);
        for (g = 0; g < CFG_NGROUPS; g++) {
                fputs("\n", fp);
                put_comment(fp, "", cfg_group_desc[g], 92);
                group_open(fp, cfg_groups[g], &ind);
                for (i = 0; i < CFG_NOPTS; i++) {
                        const struct cfg_opt *o = &cfg_opts[i];
                        int first = 1;

                        if (!in_group(o, cfg_groups[g]))
                                continue;
                        if (i && in_group(&cfg_opts[i - 1], cfg_groups[g]))
                                first = 0;
                        if (!first)
                                fputs("\n", fp);
                        put_comment(fp, ind, o->desc, 92);
                        put_default(fp, ind, &def, o);
                        if (o->example && (o->flags & CO_EX_ACTIVE)) {
                                fprintf(fp, "%s%s = %s;\n", ind, leaf(o->name), o->example);
                        } else if (o->example) {
                                fprintf(fp, "%s# %s = %s;\n", ind, leaf(o->name), o->example);
                        } else {
                                fprintf(fp, "%s%s = ", ind, leaf(o->name));
                                put_value(fp, &def, o);
                                fputs(";\n", fp);
                        }
                }
                group_close(fp, cfg_groups[g]);
        }
        cfg_clear(&def);
}
