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

static int cmd_version(int argc, char **argv)
{
        JB_UNUSED(argc);
        JB_UNUSED(argv);
        printf("jibe %s\n", JB_VERSION);
        return 0;
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
        {"check-config", check_config_main, "check a configuration file and show the values jibe will use", 0},
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
        fprintf(fp, "\n'jibe COMMAND --help' describes each command.\n");
}

int main(int argc, char **argv)
{
        size_t i;
        int rc;

        if (argc < 2) {
                usage(stderr);
                return 2;
        }
        if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
                usage(stdout);
                return 0;
        }
        if (!strcmp(argv[1], "--version"))
                return cmd_version(0, NULL);
        for (i = 0; i < sizeof(jb_cmds) / sizeof(jb_cmds[0]); i++) {
                if (strcmp(argv[1], jb_cmds[i].name) == 0) {
                        curl_global_init(CURL_GLOBAL_DEFAULT);
                        rc = jb_cmds[i].run(argc - 1, argv + 1);
                        if (jb_cmds[i].kafka)
                                (void)kconf_wait_destroyed(KAFKA_EXIT_WAIT_MS);
                        curl_global_cleanup();
                        return rc;
                }
        }
        fprintf(stderr, "jibe: unknown command '%s'\n", argv[1]);
        usage(stderr);
        return 2;
}
