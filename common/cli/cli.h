/*
 * cli.h - the command layer (common/cli/): entry points of jibe's subcommands, called by
 * main.c with argv[0] = the command, and what the commands share. Each command returns the
 * process exit code: 0 done, 1 failed (said why), 2 a usage error (said why, with the usage).
 */
#ifndef CLI_H
#define CLI_H

int run_main(int argc, char **argv);          /* run.c */
int scan_main(int argc, char **argv);         /* stage_cli.c */
int parse_main(int argc, char **argv);        /* stage_cli.c */
int sync_main(int argc, char **argv);         /* stage_cli.c */
int topics_main(int argc, char **argv);       /* kafka_cli.c */
int lag_main(int argc, char **argv);          /* kafka_cli.c */
int replay_main(int argc, char **argv);       /* kafka_cli.c */
int redrive_main(int argc, char **argv);      /* redrive_cli.c (Kafka mode: redrive_kafka.c) */
int events_main(int argc, char **argv);       /* events_cli.c */
int check_config_main(int argc, char **argv); /* cfg_cli.c */
int alert_main(int argc, char **argv);        /* alert_cli.c */
int status_main(int argc, char **argv);       /* status_cli.c */

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include "jb.h"

/* ---- cli_common.c: the one way every command reads its command line ----
 *
 * A command lists its options for getopt_long, ending the table with CLI_OPTS_END (which
 * adds -h/--help and --version), and loops:
 *
 *     struct cli c = {"run", ":c:h", opts, usage, 0};
 *     while ((opt = cli_next(&c, argc, argv)) > 0)
 *             switch (opt) { case 'c': path = optarg; break; ... }
 *     if ((rc = cli_finish(&c, opt, argc, argv)) >= 0)
 *             return rc;
 *
 * shortopts starts with ':' ("+:" for a command whose operands end the options) and lists
 * 'h'. argv[0] is the command's name. Usage errors go to stderr with the usage and exit 2;
 * --help prints the usage on stdout and exits 0; --version prints the version, exits 0.
 */
#define CLI_OPT_VERSION 0x100 /* getopt value of --version */
#define CLI_OPTS_END                                                                                    \
        {"help", no_argument, NULL, 'h'}, {"version", no_argument, NULL, CLI_OPT_VERSION},              \
        {                                                                                               \
                NULL, 0, NULL, 0                                                                        \
        }
#define CLI_END (-1)  /* cli_next: no more options; operands from optind */
#define CLI_EXIT (-2) /* cli_next: the command ends now with c->exitcode */

struct cli {
        const char *cmd;               /* "run": messages say "jibe run: ..." (NULL: "jibe: ") */
        const char *shortopts;         /* getopt_long's */
        const struct option *longopts; /* ends with CLI_OPTS_END */
        void (*usage)(FILE *fp);
        int exitcode; /* 0 before the first cli_next; set when it returns CLI_EXIT */
};

/* The next option (its value in optarg), CLI_END, or CLI_EXIT (help, version, usage error:
 * printed). */
int cli_next(struct cli *c, int argc, char **argv);
/* After the loop of a command without operands: -1 to go on, else the exit code (the loop
 * ended with CLI_EXIT, or an operand is left: a usage error). */
int cli_finish(struct cli *c, int opt, int argc, char **argv);
/* "jibe CMD: MSG" and the usage on stderr; sets and returns c->exitcode = 2. */
int cli_usage_error(struct cli *c, const char *fmt, ...) JB_PRINTF(2, 3);
/* "jibe CMD: MSG" on stderr (a bad option value: the message says what is wanted); 2. */
int cli_bad_value(struct cli *c, const char *fmt, ...) JB_PRINTF(2, 3);
/* The version line of `jibe --version`, on stdout. 0. */
int cli_version(void);
/* Its first line without the newline ("jibe 0.1.0 (git abc)"): a static string. */
const char *cli_version_line(void);

struct cfg;
struct aa_opts;
struct q;
/* ---- stage_cli.c: the Kafka transport of a stage, also for topics and redrive ---- */
/* "name=value" props of kafka.rdkafka, NULL-terminated, borrowed from cfg; free() the array. */
const char **kafka_props(const struct cfg *cfg);
/* The Kafka transport of command cmd: consume topic `consume` (-1: produce only) in the group
 * <prefix><group_suffix> (NULL: none), static membership "<instance_id>-<cmd>" when given.
 * NULL with err set. */
struct q *open_transport(const struct cfg *cfg, const char *cmd, int consume, const char *group_suffix,
                         const char *instance_id, char *err, size_t errsz);

/* ---- cli_common.c: shared by the long-running commands ---- */
/* The Access Anywhere client options a configuration gives (strings borrowed from cfg). */
void run_aa_opts(const struct cfg *cfg, struct aa_opts *o);
/* -c FILE and, when *extra_name is a long option such as "--instance-id", its value into
 * *extra_val, through cli_next(). NULL with *exitcode set when the command must end (--help,
 * --version: 0; usage error, no -c FILE: 2). */
const char *run_config_arg(const char *cmd, int argc, char **argv, void (*usage_fn)(FILE *),
                           const char **extra_name, const char **extra_val, int *exitcode);
/* Load the configuration, open the log, install signal handlers, fill ao. 0 or 1 (said why). */
int run_setup(const char *cmd, const char *cfgpath, struct cfg *cfg, struct aa_opts *ao);
/* Sign in once: 1 (logged) when the credentials are refused; 0 otherwise. */
int run_check_login(const char *cmd, const struct aa_opts *ao);
struct metrics_http;
/* metrics.listen: serve /metrics, /healthz, /readyz (metrics_http.h) from now on; scanner:
 * this process scans (readiness wants a recent scan). 0 with *out (NULL when the option is
 * unset), or 1 (logged: the address is unparseable or cannot be bound). */
int run_metrics_start(const char *cmd, const struct cfg *cfg, int scanner, struct metrics_http **out);
/* Stop serving. After a failure (exit_code non-zero) /healthz keeps answering 503 for
 * RUN_METRICS_LINGER_MS first (unless a stop is requested), so a probe sees why. */
#define RUN_METRICS_LINGER_MS 2000
void run_metrics_stop(struct metrics_http *h, int exit_code);

/* ---- status_open.c: the shared status (docs/STATUS.md) a command reads or publishes ---- */
struct status_store;
enum status_from {
        STATUS_FROM_AUTO = 0, /* the Kafka topic when kafka.brokers is set, else status.folder */
        STATUS_FROM_KAFKA,    /* the compacted status topic <kafka.topic_prefix>status */
        STATUS_FROM_FOLDER    /* the Access Anywhere folder status.folder */
};
/* This process's instance name into out: status.instance, else instance_id (a stage's
 * --instance-id; NULL: kafka.instance_id), else the host name. The stage commands (cmd
 * "scan", "parse", "sync") add "-<cmd>", so the three stages on one host with one
 * configuration file publish three records. 0, or a jb_err with err saying what to set
 * (status_instance_check(): no '/', no control character). */
int cli_status_instance(const struct cfg *cfg, const char *cmd, const char *instance_id, char *out,
                        size_t n, char *err, size_t errsz) JB_MUST_CHECK;
/* The status store command cmd uses: "scan", "parse", "sync": the Kafka topic; "run":
 * status.folder when set, else none; any other ("status"): as from says (AUTO: the topic when
 * kafka.brokers is set, else status.folder, else none). 0 with *out (NULL: none; the caller
 * frees it with status_store_free()), or a jb_err with err (e.g. --from folder without
 * status.folder, a status.folder outside a bucket). Makes no connection. */
int cli_status_store(const struct cfg *cfg, const char *cmd, enum status_from from,
                     struct status_store **out, char *err, size_t errsz) JB_MUST_CHECK;
/* "kafka", "folder", "auto" <-> enum status_from; parse: 0, or -1 for another word. */
const char *cli_status_from_name(enum status_from from);
int cli_status_from_parse(const char *s, enum status_from *out);

/* ---- alert_cli.c: the Slack alerts around a supervisor ---- */
/* Start the alerter when cfg gives a webhook (else say alerts are off): 0, or 1 (logged). */
int run_alerts_start(const char *cmd, const struct cfg *cfg);
/* Send what is queued for a few seconds, then stop the alerter (a no-op when off). */
void run_alerts_stop(void);

/* ---- status_run.c: the shared status of the long-running commands (status.h) ---- */
struct jb_stage;
/* status_init() with this process's identity (before the stages are built). */
void run_status_init(const struct cfg *cfg, const char *role, const char *instance);
/* The publisher (status_pub.h) as a stage of command cmd (static), to hand to the supervisor
 * last (it starts first and stops after the others), on cli_status_store()'s store; reports:
 * this process writes the report (jibe run, jibe scan). cfg and ao borrowed until the stage
 * is freed, instance copied. NULL on out of memory. */
struct jb_stage *run_status_stage(const struct cfg *cfg, const struct aa_opts *ao, const char *cmd,
                                  const char *instance, int reports);

/* ---- cli_common.c: shared by the commands that take times ---- */
/* ISO-8601 with a zone
 * (YYYY-MM-DDTHH:MM[:SS[.fff]](Z|+HH:MM)) -> ms since the epoch; a duration such as 45s, 30m,
 * 2h, 1d, 1w, 1h30m -> ms. 0, or -1 when s is not one. */
int cli_parse_datetime(const char *s, int64_t *ms);
int cli_parse_duration(const char *s, int64_t *ms);
/* ms since the epoch -> "YYYY-MM-DDTHH:MM:SSZ". */
void cli_fmt_utc(char *out, size_t n, int64_t ms);

#endif
