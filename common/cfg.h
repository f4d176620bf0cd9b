/*
 * cfg.h - jibe's configuration: one struct cfg loaded from a libconfig file.
 *
 * Every option is declared once in cfg.c's option table (name, type, default, range, one-line
 * description); the table drives loading, validation (unknown or bad settings are errors that
 * name the setting, the file and the line), `jibe check-config` and the comments of
 * deploy/jibe.cfg.example. A renamed option keeps its old name as an alias (cfg.c's
 * cfg_aliases[]): still loaded, with a note in cfg->notes saying what to write instead.
 * Files: cfg.c (table, loading, validation), cfg_secret.c (passwords and tokens),
 * cfg_print.c (cfg_dump, cfg_example, cfg_man); cfg_impl.h is private to them.
 * Ownership: cfg_load() fills a struct cfg whose strings it owns (copied out of libconfig);
 * cfg_clear() frees them and may be called twice. Secrets (password, token) are held in
 * memory only and shown as "***" by cfg_dump().
 * Threads: cfg_load() uses no global state except log_add_secret(); a loaded struct cfg is
 * read-only and may be shared by every thread.
 */
#ifndef CFG_H
#define CFG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "jb.h"

#define CFG_DEFAULT_PATH "/etc/jibe/jibe.cfg"

struct cfg_prefix {
        char *bucket; /* a source bucket */
        char *prefix; /* its log root, e.g. "trails/org" (CloudTrail's AWSLogs/ lies below) */
};

struct cfg {
        /* access_anywhere { ... } */
        char *aa_endpoint; /* https://... (http:// only for a test simulator) */
        char *aa_login;
        char *aa_password;      /* from password, password_file or password_env */
        char *aa_authtoken;     /* permanent token, from authtoken_file or authtoken_env */
        char *aa_password_file; /* where the secrets came from (NULL: not used) */
        char *aa_password_env;
        char *aa_authtoken_file;
        char *aa_authtoken_env;
        char *aa_credentials_json;
        const char *aa_password_from;  /* static: "password", "password_file", "password_env", */
        const char *aa_authtoken_from; /* "credentials_json" (password only) or NULL */
        char *aa_ca_file;              /* NULL: system CAs */
        int aa_insecure;               /* skip TLS verification: off unless set explicitly */
        int aa_allow_http;             /* accept an http:// endpoint (a test simulator): off */
        long aa_connect_timeout_ms;
        long aa_timeout_ms;
        int aa_max_retries;
        long aa_backoff_base_ms;
        long aa_backoff_max_ms;
        long aa_refresh_timeout_s; /* one cloud refresh, default 300 */

        /* self { ... }: Access Anywhere's own identities on S3 (no public call reports them) */
        char **self_keys;
        size_t n_self_keys;
        char **self_arns;
        size_t n_self_arns;
        char **self_agents;
        size_t n_self_agents;

        /* scanner { ... } */
        long scan_interval_s;    /* default 180 */
        long scan_lookback_h;    /* default 48 */
        long scan_parents_every; /* list account/region parents every N scans, default 10 */
        char **scan_sources;     /* provider names or ids; none: every managed bucket
                                       * that holds an AWSLogs folder at its top */
        size_t n_scan_sources;
        struct cfg_prefix *scan_prefixes;
        size_t n_scan_prefixes;
        long scan_refresh_concurrency; /* cloud refreshes running at once, default 8 */

        /* parser { ... } */
        uint64_t parse_max_decompressed; /* default CT_MAX_DECOMPRESSED_DEFAULT */
        uint64_t parse_max_record;       /* default CT_MAX_RECORD_DEFAULT */
        double parse_indexing_rate;      /* files/s, to estimate a full sync's start */
        long parse_workers;              /* default 2 */
        long parse_provider_refresh_s;   /* re-read providers and their last syncs, default 300 */

        /* digest { ... }: CloudTrail digests (docs/DIGESTS.md) */
        char *digest_enabled;  /* "auto" (default: read digests where they exist) or "off" */
        long digest_grace_min; /* after a digest's end before its files must be done, default 30 */
        uint64_t
                digest_max_bytes; /* decompressed ceiling of one digest, default CT_DIGEST_MAX_DEFAULT */

        /* syncer { ... } */
        long sync_window_ms;            /* dedup window, default 2000 */
        long sync_batch_max;            /* default 500 */
        long sync_concurrency;          /* parallel resync calls, default 4 */
        long sync_max_attempts;         /* then dead-letter, default 8 */
        long sync_backoff_base_ms;      /* default 500 */
        long sync_backoff_max_ms;       /* default 60000 */
        char *sync_method;              /* "auto" (default), "event" or "refresh" */
        long sync_bucket_refresh_per_s; /* refresh method: folders/s of a bucket resync, default 20 */

        /* queue { ... }: embedded transport */
        long queue_capacity; /* messages per queue, default 10000 */

        /* kafka { ... }: the Kafka transport (jibe scan/parse/sync, lag, replay) */
        char *kafka_brokers;      /* bootstrap.servers; NULL: not configured */
        char *kafka_topic_prefix; /* default "jibe." */
        long kafka_partitions;    /* for jibe topics --create, default 6 */
        long kafka_replication;   /* default 3 */
        long kafka_retention_h;   /* default 168 */
        char *kafka_instance_id;  /* group.instance.id (static membership), or NULL */
        long kafka_max_inflight;  /* default 1000 */
        char **kafka_rdkafka;     /* "name=value" librdkafka properties, passed verbatim */
        size_t n_kafka_rdkafka;

        /* alerts { ... }: Slack alerts (alert.h) */
        char *alert_webhook; /* the webhook URL (a secret), from slack_webhook_file or _env */
        char *alert_webhook_file;
        char *alert_webhook_env;
        const char *alert_webhook_from; /* static: which of the three gave it, or NULL */
        char *alert_level;              /* "warn" (default) or "error" */
        double alert_repeat_min;        /* least minutes between two messages of a problem */
        long alert_after_s;             /* a lasting problem is alerted once it lasted this */
        long alert_timeout_ms;          /* one post to Slack */
        /* metrics { ... } */
        char *metrics_listen; /* "host:port" of /metrics, /healthz, /readyz; NULL: off */

        /* status { ... }: the status every instance shares (docs/STATUS.md) */
        char *status_instance; /* this instance's name; NULL: kafka.instance_id, else the host name */
        char *status_folder; /* Access Anywhere folder of the embedded mode's status files; NULL: none */
        long status_publish_s;        /* between two publications, default 60 */
        double status_late_after_min; /* a source with no new log file this long is LATE, default 20 */

        /* report { ... }: the provider report (report.json, report.html) */
        double report_interval_min; /* default 15 */
        char *report_upload_folder; /* Access Anywhere folder the report is uploaded to; NULL: not uploaded */

        /* top level */
        char *state_dir;  /* default /var/lib/jibe */
        char *log_file;   /* NULL or "-": stderr */
        char *log_level;  /* debug, info, warn, error; default info */
        char *log_format; /* text (default) or json */

        char *path; /* the file this was loaded from */

        /* Things cfg_load() accepted but an administrator should hear about: one sentence
         * each. warnings weaken security (a password written in this file, a secret file
         * others can read, http:// allowed, insecure = true): check-config prints them and
         * every start logs them at WARN (run_setup()). notes are advice, for check-config. */
        char **warnings;
        size_t n_warnings;
        char **notes;
        size_t n_notes;
};

/* Defaults only (no file): for tests and for `jibe events`. (cfg_load() starts with it.) */
void cfg_init(struct cfg *cfg);
/*
 * Load and validate path. On error returns JB_EINPUT (or JB_EIO/JB_ENOMEM) and errstr names
 * the file, line and setting, e.g. "jibe.cfg:12: syncer.window_ms: must be 100..600000".
 * Also accepts, in access_anywhere.credentials_json, the path of a jibe-config.json file
 * {"endpoint":..,"login":..,"password":..} whose values fill what the file leaves unset.
 * On error cfg is left cleared (cfg_clear() is still allowed). On success the password and
 * token are registered with log_add_secret().
 */
int cfg_load(struct cfg *cfg, const char *path, char *errstr, size_t errsz) JB_MUST_CHECK;
void cfg_clear(struct cfg *cfg);
/*
 * `jibe check-config`: cfg_load() that goes on past a mistake, calling on_err(opaque, msg)
 * once for each ("file:line: setting: what is wrong"; also for a file that cannot be read or
 * parsed). Returns JB_OK when there was none, else the first one's code. Either way cfg holds
 * what did load (the rest at its default): cfg_clear() it.
 */
int cfg_check_all(struct cfg *cfg, const char *path, void (*on_err)(void *opaque, const char *msg),
                  void *opaque);
/* Effective configuration, secrets as "***", in libconfig syntax. */
void cfg_dump(const struct cfg *cfg, FILE *fp);
/* A commented configuration file for a deployment, generated from the option table
 * (deploy/jibe.cfg.example is this output). */
void cfg_example(FILE *fp);
/* The manual page jibe.cfg(5) in roff, from the same table as cfg_example(). */
void cfg_man(FILE *fp);
/* The option table's names ("syncer.window_ms"), for tests and help. */
size_t cfg_option_count(void);
const char *cfg_option_name(size_t i);
/* Old names still accepted (deprecated): the i-th old name, and in *current (optional) the
 * option it now is; NULL past the end. */
size_t cfg_alias_count(void);
const char *cfg_alias_name(size_t i, const char **current);

#endif
