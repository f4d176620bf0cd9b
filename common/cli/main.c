/*
 * main.c - jibe's entry point: picks the subcommand and runs it. No stage logic here.
 */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "jb.h"
#include "cli.h"
#include "kconf.h"

#define KAFKA_EXIT_WAIT_MS 5000 /* librdkafka's threads end within this after the last client */

struct jb_cmd {
        const char *name;
        int (*run)(int argc, char **argv);
        const char *help;
        int kafka; /* may use Kafka: wait for librdkafka's threads at exit */
};

static void version_usage(FILE *fp)
{
        fprintf(fp, "usage: jibe version\n\nPrints jibe's version, as 'jibe --version' does.\n");
}

static int cmd_version(int argc, char **argv)
{
        static const struct option opts[] = {CLI_OPTS_END};
        struct cli c = {"version", ":h", opts, version_usage, 0};
        int opt, rc;

        while ((opt = cli_next(&c, argc, argv)) > 0)
                ;
        if ((rc = cli_finish(&c, opt, argc, argv)) >= 0)
                return rc;
        return cli_version();
}

static const struct jb_cmd jb_cmds[] = {
        {"run", run_main, "keep Access Anywhere in sync: scanner, parser and syncer in one process", 0},
        {"scan", scan_main, "distributed mode: find new log files, publish them to Kafka", 1},
        {"parse", parse_main, "distributed mode: read log files from Kafka, publish object events", 1},
        {"sync", sync_main, "distributed mode: resync the objects of the events in Kafka", 1},
        {"topics", topics_main, "distributed mode: create the Kafka topics", 1},
        {"redrive", redrive_main, "list the dead letters, put them back once their cause is fixed", 1},
        {"events", events_main, "show what jibe would do with CloudTrail log files", 0},
        {"lag", lag_main, "show how far the Kafka consumer groups of the stages are behind", 1},
        {"replay", replay_main, "move a stopped stage's Kafka consumer group back in time", 1},
        {"status", status_main, "show the merged status of every instance: verdicts, owners, problems",
         0},
        {"alert", alert_main, "send a test message to the Slack channel of the alerts", 0},
        {"check-config", check_config_main,
         "check a configuration file and show the values jibe will use", 0},
        {"version", cmd_version, "print the version", 0},
};

static void usage(FILE *fp)
{
        size_t i;

        fprintf(fp, "usage: jibe COMMAND [OPTIONS]\n\n"
                    "jibe keeps Access Anywhere's index of Amazon S3 buckets in step with changes\n"
                    "made directly through the S3 API, by following the buckets' CloudTrail logs.\n\n"
                    "commands:\n");
        for (i = 0; i < sizeof(jb_cmds) / sizeof(jb_cmds[0]); i++)
                fprintf(fp, "  %-14s %s\n", jb_cmds[i].name, jb_cmds[i].help);
        fprintf(fp, "\n'jibe COMMAND --help' describes each command; 'jibe --version' (or\n"
                    "'jibe COMMAND --version') prints the version.\n");
}

/* The command named name, or NULL. */
static const struct jb_cmd *find_cmd(const char *name)
{
        size_t i;

        for (i = 0; i < sizeof(jb_cmds) / sizeof(jb_cmds[0]); i++)
                if (strcmp(name, jb_cmds[i].name) == 0)
                        return &jb_cmds[i];
        return NULL;
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {CLI_OPTS_END};
        /* '+': the command ends jibe's own options; its options are its own */
        struct cli c = {NULL, "+:h", opts, usage, 0};
        const struct jb_cmd *cmd;
        int opt, rc;

        while ((opt = cli_next(&c, argc, argv)) > 0)
                ;
        if (opt == CLI_EXIT)
                return c.exitcode;
        if (optind >= argc)
                return cli_usage_error(&c, "give a command");
        if (!strcmp(argv[optind], "help")) {
                usage(stdout);
                return 0;
        }
        cmd = find_cmd(argv[optind]);
        if (!cmd)
                return cli_usage_error(&c, "unknown command '%s'", argv[optind]);
        curl_global_init(CURL_GLOBAL_DEFAULT);
        rc = cmd->run(argc - optind, argv + optind);
        if (cmd->kafka)
                (void)kconf_wait_destroyed(KAFKA_EXIT_WAIT_MS);
        curl_global_cleanup();
        return rc;
}
