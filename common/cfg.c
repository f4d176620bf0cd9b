/*
 * cfg.c - jibe's configuration (see cfg.h): the option table, loading and validation.
 *
 * Owns: cfg_opts[], the one list of options (name, type, default, range, offset into struct
 * cfg, one-line description, example value). Loading walks the libconfig tree once, in file
 * order: every setting must match a table entry (else "file:line: unknown setting"), and each
 * value is type- and range-checked and copied into struct cfg before config_destroy(). Then
 * the credentials are resolved (cfg_secret.c: exactly one way per secret; credentials_json
 * fills the gaps) and the cross-option rules checked. cfg_dump() and cfg_example() (cfg_print.c) print from
 * the same table; cfg_impl.h is what the cfg*.c files share.
 *
 * Ownership: every string and list in struct cfg is malloc'ed here and freed by cfg_clear();
 * secrets are wiped (explicit_bzero) before they are freed. aa_*_from point at static text.
 * libconfig 1.5 silently truncates integer literals beyond 32 bits that lack an L suffix, so
 * integer settings are checked against their source text (check_int_literal()).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h>

#include "aa.h"
#include "alert.h"
#include "cfg.h"
#include "cfg_impl.h"
#include "ct.h"
#include "ct_digest.h"
#include "kconf.h"
#include "log.h"

#define CFG_SOURCE_MAX (4u * 1024 * 1024) /* a configuration file read for literal checks */
#define CFG_KIB 1024ULL
#define CFG_MIB (1024ULL * 1024)
#define CFG_GIB (1024ULL * 1024 * 1024)

/* The option table is laid out by hand, one option to a few lines: clang-format leaves it. */
/* clang-format off */
#define O_STR(n, f, d, fl, ex, ds) \
        {.name = n, .type = CFGT_STR, .flags = fl, .off = OFF(f), .def_s = d, .example = ex, .desc = ds}
#define O_LONG(n, f, d, lo, hi, ds) \
        {.name = n, .type = CFGT_LONG, .off = OFF(f), .def_i = d, .min_i = lo, .max_i = hi, .desc = ds}
#define O_INT(n, f, d, lo, hi, ds) \
        {.name = n, .type = CFGT_INT, .off = OFF(f), .def_i = d, .min_i = lo, .max_i = hi, .desc = ds}
#define O_SIZE(n, f, d, lo, hi, ds) \
        {.name = n, .type = CFGT_SIZE, .off = OFF(f), .def_i = (long long)(d), .min_i = (long long)(lo), \
         .max_i = (long long)(hi), .desc = ds}
#define O_BOOL(n, f, d, ds) {.name = n, .type = CFGT_BOOL, .off = OFF(f), .def_i = d, .desc = ds}
#define O_FLOAT(n, f, d, lo, hi, ds) \
        {.name = n, .type = CFGT_FLOAT, .off = OFF(f), .def_f = d, .min_f = lo, .max_f = hi, .desc = ds}
#define O_LIST(n, f, fn, fl, ex, ds) \
        {.name = n, .type = CFGT_STRLIST, .flags = fl, .off = OFF(f), .off_n = OFF(fn), .example = ex, \
         .desc = ds}

static const char *const cfg_log_levels[] = {"debug", "info", "warn", "error", NULL};
static const char *const cfg_alert_levels[] = {"warn", "error", NULL};
static const char *const cfg_log_formats[] = {"text", "json", NULL};
static const char *const cfg_sync_methods[] = {"auto", "event", "refresh", NULL};
static const char *const cfg_digest_modes[] = {"auto", "off", NULL};

const struct cfg_opt cfg_opts[] = {
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
        {.name = "scanner.prefixes", .type = CFGT_PREFIXES, .flags = CO_EX_ACTIVE, .off = OFF(scan_prefixes),
         .off_n = OFF(n_scan_prefixes), .example = "( { bucket = \"ct-logs\"; prefix = \"trails/org\"; } )",
         .desc = "Trails that write under a prefix: the bucket and the folder that holds AWSLogs/."},
        O_LONG("scanner.refresh_concurrency", scan_refresh_concurrency, 8, 1, 256,
               "Cloud refreshes of folders one scan keeps running on the server at the same time."),

        /* parser */
        O_SIZE("parser.max_decompressed", parse_max_decompressed, CT_MAX_DECOMPRESSED_DEFAULT, CFG_MIB,
               64 * CFG_GIB, "Largest log file jibe reads, once decompressed; a larger one is set aside."),
        O_SIZE("parser.max_record", parse_max_record, CT_MAX_RECORD_DEFAULT, 64 * CFG_KIB, CFG_GIB,
               "Largest single CloudTrail record; a log file with a larger one is set aside."),
        O_FLOAT("parser.indexing_rate", parse_indexing_rate, 100.0, 0.01, 1e7,
                "Files per second a full provider sync indexes, to estimate when one started if unknown."),
        O_LONG("parser.workers", parse_workers, 2, 1, 64, "Log files read at the same time."),
        O_LONG("parser.provider_refresh_s", parse_provider_refresh_s, 300, 10, 86400,
               "Seconds between two readings of the providers' information (buckets, keys, full syncs)."),

        /* digest */
        {.name = "digest.enabled", .type = CFGT_STR, .off = OFF(digest_enabled), .def_s = "auto",
         .choices = cfg_digest_modes,
         .desc = "auto: where a trail has log file validation on, read CloudTrail's hourly digest files, fetch "
                 "the log files a listing missed, report the ones that cannot be found and the ones whose "
                 "SHA-256 is not what CloudTrail wrote; trails without digests are shown as not available. "
                 "off: digests are not read and nothing is verified."},
        O_LONG("digest.grace_min", digest_grace_min, 30, 0, 1440,
               "Minutes after the end of a digest's hour before every log file it lists must have been read; "
               "a file still not seen then is fetched by its path or reported missing (0: at once, for tests)."),
        O_SIZE("digest.max_bytes", digest_max_bytes, CT_DIGEST_MAX_DEFAULT, 64 * CFG_KIB, CFG_GIB,
               "Largest digest file jibe reads, once decompressed; a larger one is not read: it is reported "
               "once as unreadable (WARN, digest_unreadable) and the log files of its hour are not checked."),

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

        {.name = "syncer.method", .type = CFGT_STR, .off = OFF(sync_method), .def_s = "auto",
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
               "Copies of each partition 'jibe topics --create' asks for (at most the number of brokers). With 3 or "
               "more the topics get min.insync.replicas=2: a write is acknowledged once two brokers have it, "
               "and one broker may be down without stopping jibe."),
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

        /* alerts */
        O_STR("alerts.slack_webhook", alert_webhook, NULL, CO_SECRET, "\"do-not-write-it-here\"",
              "Slack incoming-webhook address written in this file: discouraged (anyone who has it can post "
              "to the channel), use slack_webhook_file or slack_webhook_env."),
        O_STR("alerts.slack_webhook_file", alert_webhook_file, NULL, CO_PATH, "\"/etc/jibe/slack-webhook\"",
              "File whose first line is the Slack incoming-webhook address (https://hooks.slack.com/...; "
              "mode 0600). Unset, and no slack_webhook_env: no alerts."),
        O_STR("alerts.slack_webhook_env", alert_webhook_env, NULL, 0, "\"JIBE_SLACK_WEBHOOK\"",
              "Name of an environment variable that holds the Slack incoming-webhook address."),
        {.name = "alerts.level", .type = CFGT_STR, .off = OFF(alert_level), .def_s = "warn",
         .choices = cfg_alert_levels,
         .desc = "Least important problems sent to Slack: warn (also quarantined log files) or error "
                 "(outages of Access Anywhere, dead letters, a stage that stopped)."},
        O_FLOAT("alerts.repeat_min", alert_repeat_min, 60.0, 0.01, 10080.0,
                "Least minutes between two messages about one problem: while it goes on, one message "
                "per interval says how many more times it happened."),
        O_LONG("alerts.after_s", alert_after_s, 30, 0, 86400,
               "Seconds a lasting problem (Access Anywhere not answering) must last before it is sent, so "
               "that a passing hiccup does not alert."),
        O_LONG("alerts.timeout_ms", alert_timeout_ms, ALERT_TIMEOUT_MS_DEFAULT, 500, 120000,
               "Milliseconds one post to Slack may take; a slow Slack never holds up jibe's work."),
        /* metrics */
        O_STR("metrics.listen", metrics_listen, NULL, 0, "\"127.0.0.1:9464\"",
              "Address:port where jibe run, scan, parse and sync serve Prometheus metrics (/metrics) and "
              "health checks (/healthz, /readyz); \"[::1]:9464\" for IPv6, \":9464\" every address. Unset: off."),

        /* status */
        O_STR("status.instance", status_instance, NULL, 0, "\"east-1\"",
              "Name of this instance in the shared status and the report, unique per process and kept "
              "across restarts. Unset: kafka.instance_id, else the host name (give two instances on one "
              "host their own names). jibe scan, parse and sync add -scan, -parse or -sync to it, so one "
              "file serves the three stages of a host."),
        O_STR("status.folder", status_folder, NULL, CO_PATH, "\"/S3 Prod/ops-bucket/jibe/status\"",
              "Access Anywhere folder (inside a bucket) where each jibe run instance writes its status "
              "as <instance>.json and reads the others', so that every report shows the whole "
              "deployment. Kafka mode uses the status topic instead. Unset: each report shows only "
              "its own instance."),
        O_LONG("status.publish_s", status_publish_s, 60, 5, 3600,
               "Seconds between two publications of this instance's status; an instance silent for three "
               "of them is shown as missing."),
        O_FLOAT("status.late_after_min", status_late_after_min, 20.0, 0.05, 10080.0,
                "Minutes without a new log file after which a source that delivered before is LATE."),

        /* report */
        O_FLOAT("report.interval_min", report_interval_min, 15.0, 0.05, 1440.0,
                "Minutes between two provider reports (report.json and report.html in state_dir)."),
        O_STR("report.upload_folder", report_upload_folder, NULL, CO_PATH, "\"/S3 Prod/ops-bucket/jibe\"",
              "Access Anywhere folder (inside a bucket) the report is uploaded to, replacing the previous "
              "one. Unset: the report stays in state_dir."),

        /* top level */
        O_STR("state_dir", state_dir, "/var/lib/jibe", CO_PATH, NULL,
              "Directory where jibe keeps its progress and the files it set aside; keep it across restarts."),
        O_STR("log_file", log_file, NULL, CO_PATH, "\"/var/log/jibe/jibe.log\"",
              "Log file; unset or \"-\": standard error (the systemd journal)."),
        {.name = "log_level", .type = CFGT_STR, .off = OFF(log_level), .def_s = "info",
         .choices = cfg_log_levels, .desc = "Least important messages logged: debug, info, warn or error."},
        {.name = "log_format", .type = CFGT_STR, .off = OFF(log_format), .def_s = "text",
         .choices = cfg_log_formats,
         .desc = "text: one line per message, \"time LEVEL module: fields and sentence\"; json: one JSON "
                 "object per line (time, level, module, msg and each name=value field of the message) "
                 "for a log collector."},
};
/* clang-format on */

#define CFG_NOPTS (sizeof(cfg_opts) / sizeof(cfg_opts[0]))
_Static_assert(CFG_NOPTS <= CFG_OPTS_MAX, "raise CFG_OPTS_MAX in cfg_impl.h");
const size_t cfg_nopts = CFG_NOPTS;

/* Renamed options: old name -> the option it now is (see struct cfg_alias). */
const struct cfg_alias cfg_aliases[] = {
        {"scanner.provider_refresh_s", "parser.provider_refresh_s"}, /* read by the parser only */
};
const size_t cfg_naliases = sizeof(cfg_aliases) / sizeof(cfg_aliases[0]);

/* Groups in the order they are printed; "" is the top level. */
const char *const cfg_groups[] = {"access_anywhere", "self",   "scanner", "parser", "digest",
                                  "syncer",          "queue",  "kafka",   "alerts", "metrics",
                                  "status",          "report", ""};
const char *const cfg_group_desc[] = {
        "How jibe reaches Access Anywhere and signs in. Give the password one way only: password_file "
        "(recommended), password_env, password or credentials_json; or a permanent token instead. "
        "Create the password file so that only jibe can read it, e.g. "
        "'install -m 600 -o jibe /dev/null /etc/jibe/aa-password', then write the password on its "
        "first line with an editor.",
        "Access Anywhere's own S3 identities. Changes Access Anywhere made itself are already in its index, "
        "so jibe skips them; the identities its S3 providers report are always included.",
        "Where jibe looks for CloudTrail log files and how often.",
        "Reading CloudTrail log files.",
        "CloudTrail's digest files: the hourly list, with SHA-256 values, of every log file a trail "
        "delivered (written when the trail's log file validation is on). jibe checks that it read each "
        "of them (see README: CloudTrail digests). The digests' signatures are not checked: that needs "
        "AWS's public keys, which jibe cannot fetch without AWS access.",
        "Sending changes to Access Anywhere, which then re-reads the changed folders.",
        "jibe's internal queues between its stages.",
        "Apache Kafka, for the distributed mode (jibe scan, jibe parse, jibe sync on any hosts) and for "
        "'jibe lag' and 'jibe replay'. The embedded mode (jibe run) does not use it.",
        "Slack alerts: a problem is sent once when it starts, then at most every repeat_min with a "
        "count, and once when it is over. Create a Slack incoming webhook for the channel and give "
        "its address one way: slack_webhook_file (recommended) or slack_webhook_env. "
        "'jibe alert --test -c FILE' sends a test message.",
        "Prometheus metrics and health checks of the long-running commands (see README: Monitoring).",
        "The status each instance publishes about once a minute, which 'jibe status' and every "
        "report merge (see README: The provider report).",
        "The provider report: every interval_min, report.json and a self-contained report.html.",
        "Files and logging.",
};
#define CFG_NGROUPS (sizeof(cfg_groups) / sizeof(cfg_groups[0]))
const size_t cfg_ngroups = CFG_NGROUPS;

int cfg_find_opt(const char *name)
{
        size_t i;

        for (i = 0; i < CFG_NOPTS; i++)
                if (strcmp(cfg_opts[i].name, name) == 0)
                        return (int)i;
        return -1;
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
        case CFGT_STR: {
                char **p = cfg_fld(c, o->off);

                if (o->flags & CO_SECRET)
                        wipe_free(*p);
                else
                        free(*p);
                *p = NULL;
                break;
        }
        case CFGT_STRLIST: {
                char ***p = cfg_fld(c, o->off);

                n = cfg_fld_n(c, o);
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
        case CFGT_PREFIXES: {
                struct cfg_prefix **p = cfg_fld(c, o->off);

                n = cfg_fld_n(c, o);
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
                case CFGT_STR:
                        if (o->def_s)
                                *(char **)cfg_fld(cfg, o->off) = strdup(o->def_s);
                        break;
                case CFGT_LONG:
                        *(long *)cfg_fld(cfg, o->off) = (long)o->def_i;
                        break;
                case CFGT_INT:
                case CFGT_BOOL:
                        *(int *)cfg_fld(cfg, o->off) = (int)o->def_i;
                        break;
                case CFGT_SIZE:
                        *(uint64_t *)cfg_fld(cfg, o->off) = (uint64_t)o->def_i;
                        break;
                case CFGT_FLOAT:
                        *(double *)cfg_fld(cfg, o->off) = o->def_f;
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

size_t cfg_alias_count(void)
{
        return cfg_naliases;
}

const char *cfg_alias_name(size_t i, const char **current)
{
        if (i >= cfg_naliases)
                return NULL;
        if (current)
                *current = cfg_aliases[i].name;
        return cfg_aliases[i].old;
}

/* ---- sizes ---- */

/* "4G" when v is an exact multiple of a unit, else the number. */
void cfg_fmt_size(char *out, size_t n, uint64_t v)
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
        case 'K':
                mul = CFG_KIB;
                p++;
                break;
        case 'M':
                mul = CFG_MIB;
                p++;
                break;
        case 'G':
                mul = CFG_GIB;
                p++;
                break;
        case 'T':
                mul = CFG_GIB * 1024;
                p++;
                break;
        case 'B':
                break;
        case '\0':
                break;
        default:
                return -1;
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

static const char *where_file(const struct cfg_ctx *x, const config_setting_t *s)
{
        const char *f = s ? config_setting_source_file(s) : NULL;

        return f ? f : x->path;
}

int cfg_ctx_err(struct cfg_ctx *x, int rc, const config_setting_t *s, const char *name, const char *fmt,
                ...)
{
        va_list ap;
        unsigned line = s ? config_setting_source_line(s) : 0;
        char msg[1024];
        int n;

        if (line)
                n = snprintf(msg, sizeof(msg), "%s:%u: %s: ", where_file(x, s), line, name);
        else
                n = snprintf(msg, sizeof(msg), "%s: %s: ", where_file(x, s), name);
        if (n < 0 || (size_t)n >= sizeof(msg))
                return rc;
        va_start(ap, fmt);
        vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
        va_end(ap);
        if (x->errstr && x->errsz && (!x->nerr || !x->on_err)) /* the first one */
                snprintf(x->errstr, x->errsz, "%s", msg);
        if (x->on_err) {
                x->nerr++;
                x->on_err(x->on_err_opaque, msg);
        }
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

int cfg_add(struct cfg *c, enum cfg_said list, const char *fmt, ...)
{
        va_list ap;
        int rc;

        va_start(ap, fmt);
        if (list == CFG_WARN)
                rc = add_line(&c->warnings, &c->n_warnings, fmt, ap);
        else
                rc = add_line(&c->notes, &c->n_notes, fmt, ap);
        va_end(ap);
        return rc;
}

static const char *type_name(int t)
{
        switch (t) {
        case CONFIG_TYPE_GROUP:
                return "a group { ... }";
        case CONFIG_TYPE_INT:
        case CONFIG_TYPE_INT64:
                return "a whole number";
        case CONFIG_TYPE_FLOAT:
                return "a decimal number";
        case CONFIG_TYPE_STRING:
                return "a string";
        case CONFIG_TYPE_BOOL:
                return "true/false";
        case CONFIG_TYPE_ARRAY:
                return "a list [ ... ]";
        case CONFIG_TYPE_LIST:
                return "a list ( ... )";
        default:
                return "something else";
        }
}

/* What the option accepts, for type errors. */
static void expect_text(const struct cfg_opt *o, char *out, size_t n)
{
        char lo[32], hi[32];

        switch (o->type) {
        case CFGT_STR:
                snprintf(out, n, "a string in double quotes");
                break;
        case CFGT_LONG:
        case CFGT_INT:
                snprintf(out, n, "a whole number from %lld to %lld", o->min_i, o->max_i);
                break;
        case CFGT_SIZE:
                cfg_fmt_size(lo, sizeof(lo), (uint64_t)o->min_i);
                cfg_fmt_size(hi, sizeof(hi), (uint64_t)o->max_i);
                snprintf(
                        out, n,
                        "a size from %s to %s: a number of bytes or a string such as \"512M\" or \"4G\"",
                        lo, hi);
                break;
        case CFGT_BOOL:
                snprintf(out, n, "true or false");
                break;
        case CFGT_FLOAT:
                snprintf(out, n, "a number from %g to %g", o->min_f, o->max_f);
                break;
        case CFGT_STRLIST:
                snprintf(out, n, "a list of strings such as [ \"a\", \"b\" ]");
                break;
        case CFGT_PREFIXES:
                snprintf(
                        out, n,
                        "a list of groups such as ( { bucket = \"ct-logs\"; prefix = \"trails/org\"; } )");
                break;
        }
}

static int type_err(struct cfg_ctx *x, const config_setting_t *s, const struct cfg_opt *o)
{
        char want[160];

        expect_text(o, want, sizeof(want));
        return cfg_ctx_err(x, JB_EINPUT, s, o->name, "must be %s, not %s", want,
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
                for (digits = q;
                     q < end && (hex ? isxdigit((unsigned char)*q) : isdigit((unsigned char)*q)); q++) {
                        unsigned d = isdigit((unsigned char)*q)
                                             ? (unsigned)(*q - '0')
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
                return cfg_ctx_err(x, JB_ENOMEM, s, o->name, "out of memory");
        return JB_OK;
}

static int load_strlist(struct cfg_ctx *x, const config_setting_t *s, const struct cfg_opt *o)
{
        int n = config_setting_length(s), i;
        char **v, ***dst = cfg_fld(x->cfg, o->off);
        size_t j;

        if (config_setting_type(s) != CONFIG_TYPE_ARRAY && config_setting_type(s) != CONFIG_TYPE_LIST)
                return type_err(x, s, o);
        free_opt(x->cfg, o);
        v = calloc((size_t)n + 1, sizeof(*v));
        if (!v)
                return cfg_ctx_err(x, JB_ENOMEM, s, o->name, "out of memory");
        *dst = v;
        for (i = 0; i < n; i++) {
                const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
                const char *str = config_setting_get_string(e);

                if (config_setting_type(e) != CONFIG_TYPE_STRING)
                        return cfg_ctx_err(x, JB_EINPUT, e, o->name,
                                           "item %d must be a string in double quotes, not %s", i + 1,
                                           type_name(config_setting_type(e)));
                if (!*str)
                        return cfg_ctx_err(x, JB_EINPUT, e, o->name, "item %d is empty", i + 1);
                if ((o->flags & CO_PROPS) &&
                    (!strchr(str, '=') || *str == '=' || strcspn(str, " \t\r\n") < strcspn(str, "=")))
                        return cfg_ctx_err(
                                x, JB_EINPUT, e, o->name,
                                "item %d must look like \"name=value\" (a librdkafka property), "
                                "e.g. \"security.protocol=ssl\"",
                                i + 1);
                for (j = 0; j < (size_t)i; j++)
                        if (strcmp(v[j], str) == 0)
                                return cfg_ctx_err(x, JB_EINPUT, e, o->name, "\"%s\" is listed twice",
                                                   str);
                if (copy_str(x, e, o, &v[i]) != JB_OK)
                        return JB_ENOMEM;
                *cfg_fld_n(x->cfg, o) = (size_t)i + 1;
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
        struct cfg_prefix *v, **dst = cfg_fld(x->cfg, o->off);

        if (config_setting_type(s) != CONFIG_TYPE_LIST &&
            !(config_setting_type(s) == CONFIG_TYPE_ARRAY && n == 0))
                return type_err(x, s, o);
        free_opt(x->cfg, o);
        v = calloc((size_t)n + 1, sizeof(*v));
        if (!v)
                return cfg_ctx_err(x, JB_ENOMEM, s, o->name, "out of memory");
        *dst = v;
        for (i = 0; i < n; i++) {
                const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
                const config_setting_t *b = NULL, *p = NULL;

                if (config_setting_type(e) != CONFIG_TYPE_GROUP)
                        return cfg_ctx_err(
                                x, JB_EINPUT, e, o->name,
                                "item %d must be a group { bucket = \"...\"; prefix = \"...\"; }, not %s",
                                i + 1, type_name(config_setting_type(e)));
                *cfg_fld_n(x->cfg, o) = (size_t)i + 1;
                for (k = 0; k < config_setting_length(e); k++) {
                        const config_setting_t *f = config_setting_get_elem(e, (unsigned)k);
                        const char *fn = config_setting_name(f);

                        if (strcmp(fn, "bucket") == 0)
                                b = f;
                        else if (strcmp(fn, "prefix") == 0)
                                p = f;
                        else
                                return cfg_ctx_err(
                                        x, JB_EINPUT, f, o->name,
                                        "unknown setting '%s' in item %d (only bucket and prefix)", fn,
                                        i + 1);
                        if (config_setting_type(f) != CONFIG_TYPE_STRING)
                                return cfg_ctx_err(x, JB_EINPUT, f, o->name,
                                                   "item %d: %s must be a string, not %s", i + 1, fn,
                                                   type_name(config_setting_type(f)));
                }
                if (!b || !p)
                        return cfg_ctx_err(x, JB_EINPUT, e, o->name,
                                           "item %d needs both bucket and prefix", i + 1);
                if (copy_str(x, b, o, &v[i].bucket) || copy_str(x, p, o, &v[i].prefix))
                        return JB_ENOMEM;
                if (!*v[i].bucket || strchr(v[i].bucket, '/'))
                        return cfg_ctx_err(x, JB_EINPUT, b, o->name,
                                           "item %d: bucket \"%s\" is not a bucket name", i + 1,
                                           v[i].bucket);
                trim_slashes(v[i].prefix);
                if (ct_path_prefix_is_logs(v[i].prefix))
                        return cfg_ctx_err(
                                x, JB_EINPUT, p, o->name,
                                "item %d: give the folder that holds AWSLogs/, not AWSLogs itself",
                                i + 1);
                for (k = 0; k < i; k++)
                        if (!strcmp(v[k].bucket, v[i].bucket) && !strcmp(v[k].prefix, v[i].prefix))
                                return cfg_ctx_err(x, JB_EINPUT, e, o->name, "item %d repeats item %d",
                                                   i + 1, k + 1);
        }
        return JB_OK;
}

static int load_value(struct cfg_ctx *x, const config_setting_t *s, const struct cfg_opt *o)
{
        int t = config_setting_type(s);
        char want[160], lo[32], hi[32], got[32];

        switch (o->type) {
        case CFGT_STR: {
                const char *v = config_setting_get_string(s);
                char **dst = cfg_fld(x->cfg, o->off);
                size_t i;

                if (t != CONFIG_TYPE_STRING)
                        return type_err(x, s, o);
                if (!*v && (o->flags & (CO_PATH | CO_SECRET)))
                        return cfg_ctx_err(x, JB_EINPUT, s, o->name,
                                           "is empty: remove the setting or give a value");
                if (o->choices) {
                        for (i = 0; o->choices[i] && strcmp(o->choices[i], v) != 0; i++)
                                ;
                        if (!o->choices[i]) {
                                size_t k, at = 0;

                                for (k = 0; o->choices[k] && at < sizeof(want); k++)
                                        at += (size_t)snprintf(want + at, sizeof(want) - at, "%s%s",
                                                               k ? ", " : "", o->choices[k]);
                                return cfg_ctx_err(x, JB_EINPUT, s, o->name, "\"%s\" is not one of: %s",
                                                   v, want);
                        }
                }
                free_opt(x->cfg, o);
                return copy_str(x, s, o, dst);
        }
        case CFGT_LONG:
        case CFGT_INT: {
                long long v;

                if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
                        return type_err(x, s, o);
                if (t == CONFIG_TYPE_INT && !int_literal_fits(x, s)) {
                        expect_text(o, want, sizeof(want));
                        return cfg_ctx_err(x, JB_EINPUT, s, o->name,
                                           "the number is far too large: must be %s", want);
                }
                v = config_setting_get_int64(s);
                if (v < o->min_i || v > o->max_i)
                        return cfg_ctx_err(x, JB_EINPUT, s, o->name,
                                           "must be between %lld and %lld, not %lld", o->min_i, o->max_i,
                                           v);
                if (o->type == CFGT_LONG)
                        *(long *)cfg_fld(x->cfg, o->off) = (long)v;
                else
                        *(int *)cfg_fld(x->cfg, o->off) = (int)v;
                return JB_OK;
        }
        case CFGT_SIZE: {
                uint64_t v;

                cfg_fmt_size(lo, sizeof(lo), (uint64_t)o->min_i);
                cfg_fmt_size(hi, sizeof(hi), (uint64_t)o->max_i);
                if (t == CONFIG_TYPE_STRING) {
                        if (parse_size(config_setting_get_string(s), &v) != 0)
                                return cfg_ctx_err(
                                        x, JB_EINPUT, s, o->name,
                                        "\"%s\" is not a size: write a number of bytes or a number "
                                        "followed by K, M, G or T, such as \"512M\" or \"4G\"",
                                        config_setting_get_string(s));
                } else if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64) {
                        long long iv = config_setting_get_int64(s);

                        if (t == CONFIG_TYPE_INT && !int_literal_fits(x, s))
                                return cfg_ctx_err(
                                        x, JB_EINPUT, s, o->name,
                                        "numbers above 2147483647 must be written as a string such as "
                                        "\"8G\" (or with an L suffix)");
                        if (iv < 0)
                                return cfg_ctx_err(x, JB_EINPUT, s, o->name,
                                                   "must be between %s and %s, not %lld", lo, hi, iv);
                        v = (uint64_t)iv;
                } else {
                        return type_err(x, s, o);
                }
                if (v < (uint64_t)o->min_i || v > (uint64_t)o->max_i) {
                        cfg_fmt_size(got, sizeof(got), v);
                        return cfg_ctx_err(x, JB_EINPUT, s, o->name, "must be between %s and %s, not %s",
                                           lo, hi, got);
                }
                *(uint64_t *)cfg_fld(x->cfg, o->off) = v;
                return JB_OK;
        }
        case CFGT_BOOL:
                if (t != CONFIG_TYPE_BOOL)
                        return type_err(x, s, o);
                *(int *)cfg_fld(x->cfg, o->off) = config_setting_get_bool(s) ? 1 : 0;
                return JB_OK;
        case CFGT_FLOAT: {
                double v;

                if (t == CONFIG_TYPE_FLOAT)
                        v = config_setting_get_float(s);
                else if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64)
                        v = (double)config_setting_get_int64(s);
                else
                        return type_err(x, s, o);
                if (!(v >= o->min_f && v <= o->max_f))
                        return cfg_ctx_err(x, JB_EINPUT, s, o->name, "must be between %g and %g, not %g",
                                           o->min_f, o->max_f, v);
                *(double *)cfg_fld(x->cfg, o->off) = v;
                return JB_OK;
        }
        case CFGT_STRLIST:
                return load_strlist(x, s, o);
        case CFGT_PREFIXES:
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
                        if (strcmp(cfg_leaf(full), cfg_leaf(cfg_opts[i].name)) == 0) {
                                bn = cfg_opts[i].name;
                                best = 0;
                                break;
                        }
        if (bn && best <= 3)
                return cfg_ctx_err(x, JB_EINPUT, s, full, "unknown setting (did you mean %s?)", bn);
        return cfg_ctx_err(x, JB_EINPUT, s, full,
                           "unknown setting ('jibe check-config --example' lists them all)");
}

static int is_group_name(const char *n)
{
        size_t i;

        for (i = 0; i + 1 < CFG_NGROUPS; i++)
                if (strcmp(cfg_groups[i], n) == 0)
                        return 1;
        return 0;
}

static const struct cfg_alias *find_alias(const char *old)
{
        size_t k;

        for (k = 0; k < cfg_naliases; k++)
                if (strcmp(cfg_aliases[k].old, old) == 0)
                        return &cfg_aliases[k];
        return NULL;
}

/* An option given twice, under two of its names (libconfig refuses one name twice). */
static int twice_err(struct cfg_ctx *x, const config_setting_t *s, const char *full, int i)
{
        const char *cur = cfg_opts[i].name, *before = x->set_as[i];
        unsigned line = config_setting_source_line(x->set[i]);

        if (strcmp(before, cur) == 0)
                return cfg_ctx_err(x, JB_EINPUT, s, full,
                                   "is the deprecated name of %s (line %u): give it once, as %s", cur,
                                   line, cur);
        return cfg_ctx_err(x, JB_EINPUT, s, full,
                           "is the same option as %s (line %u), its deprecated name: "
                           "give it once, as %s",
                           before, line, cur);
}

/* The note that tells an administrator what to write instead of a deprecated name. */
static int deprecated_note(struct cfg_ctx *x, const config_setting_t *s, const struct cfg_alias *a)
{
        const char *d = strchr(a->name, '.');
        unsigned line = config_setting_source_line(s);

        if (!d)
                return cfg_add(x->cfg, CFG_NOTE,
                               "%s:%u: %s is deprecated (an old name, still accepted for now): "
                               "write %s instead, at the top level of the file",
                               where_file(x, s), line, a->old, a->name);
        return cfg_add(x->cfg, CFG_NOTE,
                       "%s:%u: %s is deprecated (an old name, still accepted for now): write %s "
                       "instead, that is %s inside %.*s = { ... }",
                       where_file(x, s), line, a->old, a->name, d + 1, (int)(d - a->name), a->name);
}

static int load_setting(struct cfg_ctx *x, const config_setting_t *s, const char *full)
{
        const struct cfg_alias *a = NULL;
        struct cfg_opt as;
        int i = cfg_find_opt(full), rc;

        if (i < 0 && (a = find_alias(full)) != NULL)
                i = cfg_find_opt(a->name);
        if (i < 0)
                return unknown_err(x, s, full);
        if (x->set[i])
                return twice_err(x, s, full, i);
        x->set[i] = (config_setting_t *)(uintptr_t)s;
        x->set_as[i] = a ? a->old : cfg_opts[i].name;
        if (!a)
                return load_value(x, s, &cfg_opts[i]);
        as = cfg_opts[i];
        as.name = a->old; /* its errors name the setting as the file writes it */
        rc = load_value(x, s, &as);
        return rc ? rc : deprecated_note(x, s, a);
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
                        if (rc && !CFG_GO_ON(x, rc))
                                return rc;
                        continue;
                }
                if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
                        rc = cfg_ctx_err(x, JB_EINPUT, s, n, "must be a group: %s = { ... };", n);
                        if (CFG_GO_ON(x, rc))
                                continue;
                        return rc;
                }
                for (k = 0; k < config_setting_length(s); k++) {
                        const config_setting_t *c = config_setting_get_elem(s, (unsigned)k);

                        snprintf(full, sizeof(full), "%s.%s", n, config_setting_name(c));
                        rc = load_setting(x, c, full);
                        if (rc && !CFG_GO_ON(x, rc))
                                return rc;
                }
        }
        return JB_OK;
}

/* ---- cross-option rules ---- */

/* The setting to blame for a missing value: the group, when there is one. */
static const config_setting_t *group_setting(struct cfg_ctx *x, config_t *lc, const char *opt)
{
        int i = cfg_find_opt(opt);
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

/* The endpoint's rules. */
static int validate_endpoint(struct cfg_ctx *x, config_t *lc)
{
        struct cfg *c = x->cfg;
        const char *ep = "access_anywhere.endpoint";
        const config_setting_t *es = group_setting(x, lc, ep);
        const config_setting_t *cj = x->set[cfg_find_opt("access_anywhere.credentials_json")];
        const char *host, *ui;
        size_t n, uin;
        int rc;

        if (!c->aa_endpoint)
                return cfg_ctx_err(
                        x, JB_EINPUT, es, ep,
                        "not set: give Access Anywhere's address, e.g. endpoint = \"https://fabric.example.com\";");
        if (!x->set[cfg_find_opt(ep)] && cj)
                es = cj;
        if (endpoint_userinfo(c->aa_endpoint, &ui, &uin)) {
                /* never print what stands before the '@': it is a user name and password */
                return cfg_ctx_err(
                        x, JB_EINPUT, es, ep,
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
                        return cfg_ctx_err(
                                x, JB_EINPUT, es, ep,
                                "\"%s\" is http://: the password and tokens would cross the network "
                                "unencrypted; use https://, or set access_anywhere.allow_http = true "
                                "for a test simulator",
                                c->aa_endpoint);
                rc = cfg_add(c, CFG_WARN,
                             "%s is http:// (allow_http = true): the password and tokens cross the "
                             "network unencrypted, so anyone on the path can read them; meant for a "
                             "test simulator only, use https:// in production",
                             ep);
                if (rc)
                        return rc;
        } else {
                return cfg_ctx_err(x, JB_EINPUT, es, ep,
                                   "\"%s\" must start with https:// (or http:// for a test simulator)",
                                   c->aa_endpoint);
        }
        if (!*host || *host == '/' || strpbrk(c->aa_endpoint, " \t\r\n"))
                return cfg_ctx_err(x, JB_EINPUT, es, ep, "\"%s\" is not an address", c->aa_endpoint);
        n = strlen(c->aa_endpoint);
        while (n && c->aa_endpoint[n - 1] == '/')
                c->aa_endpoint[--n] = '\0';
        if (strstr(host, "/api/"))
                return cfg_ctx_err(x, JB_EINPUT, es, ep, "give the address without /api/...: \"%.*s\"",
                                   (int)(strstr(host, "/api/") - c->aa_endpoint), c->aa_endpoint);
        return JB_OK;
}

/* The other rules of the access_anywhere, syncer and self groups. */
static int validate_rest(struct cfg_ctx *x, config_t *lc)
{
        struct cfg *c = x->cfg;
        int rc;

        if (!c->aa_authtoken) {
                const char *pw = "access_anywhere.password", *lg = "access_anywhere.login";

                if (!c->aa_login && !c->aa_password)
                        return cfg_ctx_err(
                                x, JB_EINPUT, group_setting(x, lc, lg), "access_anywhere",
                                "no credentials: give login and password_file (or password_env), "
                                "or an authtoken_file");
                if (!c->aa_login)
                        return cfg_ctx_err(x, JB_EINPUT, group_setting(x, lc, lg), lg,
                                           "not set: a password needs the login it belongs to");
                if (!c->aa_password)
                        return cfg_ctx_err(
                                x, JB_EINPUT, group_setting(x, lc, pw), pw,
                                "not set: give password_file or password_env for login \"%s\"",
                                c->aa_login);
        }
        if (c->aa_insecure) {
                rc = cfg_add(c, CFG_WARN,
                             "access_anywhere.insecure is true: Access Anywhere's certificate is not "
                             "checked, so anyone on the network path could read the credentials; turn "
                             "it off, or set ca_file for a private authority");
                if (rc)
                        return rc;
        }
        if (c->aa_ca_file && access(c->aa_ca_file, R_OK) != 0)
                return cfg_ctx_err(x, JB_EINPUT, x->set[cfg_find_opt("access_anywhere.ca_file")],
                                   "access_anywhere.ca_file", "cannot read %s: %s", c->aa_ca_file,
                                   strerror(errno));
        if (c->aa_backoff_base_ms > c->aa_backoff_max_ms)
                return cfg_ctx_err(x, JB_EINPUT, group_setting(x, lc, "access_anywhere.backoff_base_ms"),
                                   "access_anywhere.backoff_base_ms",
                                   "%ld is larger than backoff_max_ms (%ld)", c->aa_backoff_base_ms,
                                   c->aa_backoff_max_ms);
        if (c->sync_backoff_base_ms > c->sync_backoff_max_ms)
                return cfg_ctx_err(x, JB_EINPUT, group_setting(x, lc, "syncer.backoff_base_ms"),
                                   "syncer.backoff_base_ms", "%ld is larger than backoff_max_ms (%ld)",
                                   c->sync_backoff_base_ms, c->sync_backoff_max_ms);
        if (!c->n_self_keys && !c->n_self_arns && !c->n_self_agents) {
                rc = cfg_add(
                        c, CFG_NOTE,
                        "self: no access key, ARN or user agent of Access Anywhere itself is set, so "
                        "jibe cannot tell Access Anywhere's own S3 writes from others' and resyncs "
                        "them too (harmless, but extra load): set self.keys, self.arns or "
                        "self.agents (the provider's access key is on its settings page)");
                if (rc)
                        return rc;
        }
        if (c->alert_webhook) {
                const char *wn = c->alert_webhook_from ? c->alert_webhook_from : "slack_webhook";
                char wfull[64];

                snprintf(wfull, sizeof(wfull), "alerts.%s", wn);
                /* the message never quotes the address: it is a secret */
                if (strncasecmp(c->alert_webhook, "https://", 8) != 0 || !c->alert_webhook[8] ||
                    c->alert_webhook[8] == '/' || strpbrk(c->alert_webhook, " \t\r\n"))
                        return cfg_ctx_err(x, JB_EINPUT, x->set[cfg_find_opt(wfull)], wfull,
                                           "the Slack webhook must be an https:// address "
                                           "(https://hooks.slack.com/services/...)");
        }
        return JB_OK;
}

/* The kafka group's rules: names Kafka accepts. */
static int validate_kafka(struct cfg_ctx *x, config_t *lc)
{
        struct cfg *c = x->cfg;
        const char *p = c->kafka_topic_prefix, *pn = "kafka.topic_prefix", *bn = "kafka.brokers";
        char kerr[512];
        size_t i;

        if (strlen(p) > 200)
                return cfg_ctx_err(x, JB_EINPUT, group_setting(x, lc, pn), pn,
                                   "is longer than 200 characters");
        for (i = 0; p[i]; i++)
                if (!isalnum((unsigned char)p[i]) && !strchr("._-", p[i]))
                        return cfg_ctx_err(
                                x, JB_EINPUT, group_setting(x, lc, pn), pn,
                                "\"%s\": Kafka topic names allow only letters, digits, '.', '_' and '-'",
                                p);
        if (c->kafka_brokers && strpbrk(c->kafka_brokers, " \t\r\n"))
                return cfg_ctx_err(x, JB_EINPUT, group_setting(x, lc, bn), bn,
                                   "\"%s\": write host:port pairs separated by commas, without spaces",
                                   c->kafka_brokers);
        for (i = 0; i < c->n_kafka_rdkafka; i++) {
                const char *pr = c->kafka_rdkafka[i];
                int rc;

                if (!kconf_prop_is_secret(pr))
                        continue;
                rc = cfg_add(c, CFG_WARN,
                             "kafka.rdkafka: the secret %.*s is written in %s, which is often readable "
                             "by others and copied around: make this file readable only by jibe "
                             "(chmod 600)",
                             (int)strcspn(pr, "="), pr, x->path);
                if (rc)
                        return rc;
        }
        /* the entries as every Kafka client will take them (kconf.h); check-config sets each
         * on its own, so that every entry librdkafka rejects is named */
        if (!x->on_err) {
                if (kconf_check((const char *const *)c->kafka_rdkafka, c->n_kafka_rdkafka, kerr,
                                sizeof(kerr)))
                        return cfg_ctx_err(x, JB_EINPUT, group_setting(x, lc, "kafka.rdkafka"),
                                           "kafka.rdkafka", "%s", kerr);
                return JB_OK;
        }
        for (i = 0; i < c->n_kafka_rdkafka; i++) {
                const char *one[1] = {c->kafka_rdkafka[i]};

                if (kconf_check(one, 1, kerr, sizeof(kerr)))
                        (void)cfg_ctx_err(x, JB_EINPUT, group_setting(x, lc, "kafka.rdkafka"),
                                          "kafka.rdkafka", "%s", kerr);
        }
        return x->nerr ? JB_EINPUT : JB_OK;
}

/* cfg_load() and cfg_check_all(): x is set up by the caller (cfg, errstr, on_err). */
static int load_x(struct cfg_ctx *x, struct cfg *cfg, const char *path)
{
        config_t lc;
        FILE *fp;
        int rc, r;

        cfg_init(cfg);
        x->cfg = cfg;
        x->path = path;
        cfg->path = strdup(path);
        if (!cfg->path || !cfg->state_dir || !cfg->log_level)
                return jb_seterr(JB_ENOMEM, x->errstr, x->errsz, "%s: out of memory", path);
        fp = fopen(path, "r");
        if (!fp) {
                rc = jb_seterr(JB_EIO, x->errstr, x->errsz, "cannot read configuration file %s: %s",
                               path, strerror(errno));
                if (x->on_err)
                        x->on_err(x->on_err_opaque, x->errstr);
                return rc;
        }
        fclose(fp);

        config_init(&lc);
        if (!config_read_file(&lc, path)) {
                if (config_error_type(&lc) == CONFIG_ERR_FILE_IO)
                        rc = jb_seterr(JB_EIO, x->errstr, x->errsz, "cannot read configuration file %s",
                                       path);
                else
                        rc = jb_seterr(JB_EINPUT, x->errstr, x->errsz, "%s:%d: %s",
                                       config_error_file(&lc) ? config_error_file(&lc) : path,
                                       config_error_line(&lc), config_error_text(&lc));
                if (x->on_err)
                        x->on_err(x->on_err_opaque, x->errstr);
        } else {
                /* With on_err, the walk reports every bad setting; the rules across settings
                 * (credentials, endpoint) run only on a clean walk, since a bad setting left
                 * at its default would make them report it a second time. The kafka group's
                 * rules depend on nothing else and always run. */
                rc = walk(x, config_root_setting(&lc));
                if (!rc)
                        rc = cfg_secrets_resolve(x);
                if (!rc) {
                        rc = validate_endpoint(x, &lc);
                        if (!rc || CFG_GO_ON(x, rc)) {
                                r = validate_rest(x, &lc);
                                rc = rc ? rc : r;
                        }
                }
                if (!rc || CFG_GO_ON(x, rc)) {
                        r = validate_kafka(x, &lc);
                        rc = rc ? rc : r;
                }
        }
        config_destroy(&lc);
        free(x->src_path);
        free(x->src);
        x->src_path = x->src = NULL;
        return rc;
}

int cfg_load(struct cfg *cfg, const char *path, char *errstr, size_t errsz)
{
        struct cfg_ctx x;
        int rc;

        if (errstr && errsz)
                errstr[0] = '\0';
        memset(&x, 0, sizeof(x));
        x.errstr = errstr;
        x.errsz = errsz;
        rc = load_x(&x, cfg, path);
        if (rc) {
                cfg_clear(cfg);
                return rc;
        }
        cfg_secrets_register(cfg);
        return JB_OK;
}

int cfg_check_all(struct cfg *cfg, const char *path, void (*on_err)(void *opaque, const char *msg),
                  void *opaque)
{
        struct cfg_ctx x;
        char err[1024];
        int rc;

        memset(&x, 0, sizeof(x));
        err[0] = '\0';
        x.errstr = err;
        x.errsz = sizeof(err);
        x.on_err = on_err;
        x.on_err_opaque = opaque;
        rc = load_x(&x, cfg, path);
        if (rc && !x.nerr && rc != JB_EIO && rc != JB_EINPUT) /* out of memory */
                on_err(opaque, err[0] ? err : "out of memory");
        if (!rc)
                cfg_secrets_register(cfg);
        return rc;
}
