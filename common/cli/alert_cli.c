/*
 * alert_cli.c - `jibe alert --test`: send a test message to the configured Slack webhook; and
 * the alerter's start and stop around the supervisor of the long-running commands.
 *
 * Owns: the configuration -> alert_opts mapping (the only place that knows which option
 * feeds which alert setting). Does not: send anything itself (alert.c).
 * Exit codes of `jibe alert`: 0 delivered, 1 not (said why), 2 usage error.
 */
#include <stdio.h>
#include <string.h>

#include "alert.h"
#include "cfg.h"
#include "cli.h"
#include "log.h"

static void usage(FILE *fp)
{
        fprintf(fp,
                "usage: jibe alert --test -c FILE\n"
                "\n"
                "Sends a test message to the Slack channel of the configuration's alerts settings\n"
                "(alerts.slack_webhook_file or alerts.slack_webhook_env), with the same TLS checks,\n"
                "timeouts and retries as the alerts of a running jibe.\n"
                "\n"
                "  -c, --config FILE   configuration file\n"
                "  --test              send the test message\n"
                "  -h, --help          this help\n"
                "  --version           print jibe's version\n"
                "\n"
                "exit codes: 0 Slack accepted the message, 1 it did not (the reason is printed),\n"
                "2 usage error\n");
}

/* The alert settings of cfg (strings borrowed from cfg). */
static void alert_opts_from_cfg(const struct cfg *cfg, struct alert_opts *o)
{
        memset(o, 0, sizeof(*o));
        o->webhook = cfg->alert_webhook;
        o->ca_file = cfg->aa_ca_file;
        o->level = cfg->alert_level && !strcmp(cfg->alert_level, "error") ? ALERT_ERROR : ALERT_WARN;
        o->repeat_ms = (int64_t)(cfg->alert_repeat_min * 60000.0);
        o->after_ms = (int64_t)cfg->alert_after_s * 1000;
        o->timeout_ms = cfg->alert_timeout_ms;
}

int run_alerts_start(const char *cmd, const struct cfg *cfg)
{
        struct alert_opts o;
        char err[512];

        alert_opts_from_cfg(cfg, &o);
        if (!o.webhook) {
                log_msg(LL_INFO, cmd, "Slack alerts off (no alerts.slack_webhook_file or _env)");
                return 0;
        }
        if (alert_start(&o, err, sizeof(err)) != JB_OK) {
                log_msg(LL_ERROR, cmd, "cannot start the Slack alerts: %s", err);
                return 1;
        }
        return 0;
}

void run_alerts_stop(void)
{
        alert_stop(ALERT_STOP_GRACE_MS);
}

enum { OPT_TEST = 0x200 };

int alert_main(int argc, char **argv)
{
        static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                             {"test", no_argument, NULL, OPT_TEST},
                                             CLI_OPTS_END};
        struct cli c = {"alert", ":c:h", opts, usage, 0};
        const char *path = NULL;
        struct alert_opts o;
        struct cfg cfg;
        char err[1024], text[512];
        int test = 0, opt, rc;

        while ((opt = cli_next(&c, argc, argv)) > 0) {
                if (opt == 'c')
                        path = optarg;
                else
                        test = 1;
        }
        if ((rc = cli_finish(&c, opt, argc, argv)) >= 0)
                return rc;
        if (!test)
                return cli_usage_error(&c, "say --test: it is the only action for now");
        if (!path)
                return cli_usage_error(&c, "give the configuration file with -c FILE");
        if (cfg_load(&cfg, path, err, sizeof(err)) != JB_OK) {
                fprintf(stderr, "jibe alert: %s\n", err);
                return 1;
        }
        alert_opts_from_cfg(&cfg, &o);
        if (!o.webhook) {
                fprintf(stderr,
                        "jibe alert: %s sets no Slack webhook: give alerts.slack_webhook_file "
                        "or alerts.slack_webhook_env\n",
                        path);
                cfg_clear(&cfg);
                return 1;
        }
        snprintf(text, sizeof(text),
                 "test message from 'jibe alert --test': alerts reach this channel (level %s and "
                 "above, a problem repeated at most every %g min)",
                 o.level == ALERT_ERROR ? "error" : "warn", cfg.alert_repeat_min);
        rc = alert_send_now(&o, text, err, sizeof(err));
        if (rc == JB_OK)
                printf("delivered: Slack accepted the test message\n");
        else
                fprintf(stderr, "jibe alert: the test message was not delivered: %s\n", err);
        cfg_clear(&cfg);
        log_close();
        return rc == JB_OK ? 0 : 1;
}
