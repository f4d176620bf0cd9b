/*
 * cli_common.c - what the commands of common/cli/ share: the set-up of the long-running
 * commands (configuration, log, signals, the Access Anywhere options, the credential check
 * at start), their command line, and reading and printing times.
 *
 * Owns nothing between calls. Does not: contain stage logic or a command of its own.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <librdkafka/rdkafka.h>
#include <zlib.h>

#include "aa.h"
#include "cfg.h"
#include "cli.h"
#include "ct.h"
#include "log.h"
#include "metrics.h"
#include "metrics_http.h"
#include "sig.h"

/* ---- the long-running commands (run, scan, parse, sync) ---- */

void run_aa_opts(const struct cfg *cfg, struct aa_opts *o)
{
        aa_opts_init(o);
        o->endpoint = cfg->aa_endpoint;
        o->login = cfg->aa_login;
        o->password = cfg->aa_password;
        o->authtoken = cfg->aa_authtoken;
        o->ca_file = cfg->aa_ca_file;
        o->insecure = cfg->aa_insecure;
        if (cfg->aa_connect_timeout_ms)
                o->connect_timeout_ms = cfg->aa_connect_timeout_ms;
        if (cfg->aa_timeout_ms)
                o->timeout_ms = cfg->aa_timeout_ms;
        o->max_retries = cfg->aa_max_retries;
        if (cfg->aa_refresh_timeout_s > 0)
                o->refresh_timeout_ms = cfg->aa_refresh_timeout_s * 1000;
        if (cfg->aa_backoff_base_ms)
                o->backoff_base_ms = cfg->aa_backoff_base_ms;
        if (cfg->aa_backoff_max_ms)
                o->backoff_max_ms = cfg->aa_backoff_max_ms;
}

int run_setup(const char *cmd, const char *cfgpath, struct cfg *cfg, struct aa_opts *ao)
{
        enum log_level lvl = LL_INFO;
        enum log_format fmt = LOG_FMT_TEXT;
        char err[1024];
        size_t i;

        if (cfg_load(cfg, cfgpath, err, sizeof(err)) != JB_OK) {
                fprintf(stderr, "jibe %s: %s\n", cmd, err);
                return 1;
        }
        if (cfg->log_level && log_level_parse(cfg->log_level, &lvl) != JB_OK)
                lvl = LL_INFO;
        if (cfg->log_format && log_format_parse(cfg->log_format, &fmt) == JB_OK)
                log_set_format(fmt);
        if (log_open(cfg->log_file, lvl, err, sizeof(err)) != JB_OK) {
                fprintf(stderr, "jibe %s: %s\n", cmd, err);
                cfg_clear(cfg);
                return 1;
        }
        sig_install();
        log_msg(LL_INFO, cmd, "jibe %s starting: config=%s endpoint=%s", JB_VERSION, cfgpath,
                cfg->aa_endpoint);
        for (i = 0; i < cfg->n_warnings; i++) /* insecure settings: at every start */
                log_msg(LL_WARN, cmd, "insecure setting: %s", cfg->warnings[i]);
        for (i = 0; i < cfg->n_notes; i++) /* advice, e.g. a deprecated option name */
                log_msg(LL_INFO, cmd, "configuration note: %s", cfg->notes[i]);
        run_aa_opts(cfg, ao);
        return 0;
}

int run_check_login(const char *cmd, const struct aa_opts *ao)
{
        struct aa_client *probe = NULL;
        char err[1024];
        int rc;

        /* Wrong credentials are a configuration error: say so now, not from a stage. */
        rc = aa_client_new(ao, &probe, err, sizeof(err));
        if (!rc)
                rc = aa_login(probe, err, sizeof(err));
        aa_client_free(probe);
        if (rc == JB_EFATAL || rc == JB_EINPUT) {
                log_msg(LL_ERROR, cmd, "cannot sign in to Access Anywhere: %s", err);
                return 1;
        }
        if (rc)
                log_msg(LL_WARN, cmd, "Access Anywhere is not reachable yet (%s); jibe keeps trying",
                        err);
        return 0;
}

int run_metrics_start(const char *cmd, const struct cfg *cfg, int scanner, struct metrics_http **out)
{
        char err[1024];

        *out = NULL;
        if (!cfg->metrics_listen)
                return 0;
        metrics_ready_setup(cfg->scan_interval_s, scanner);
        if (metrics_http_start(cfg->metrics_listen, out, err, sizeof(err)) != JB_OK) {
                log_msg(LL_ERROR, cmd, "cannot start: %s", err);
                return 1;
        }
        log_msg(LL_INFO, cmd, "metrics: serving http://%s/metrics, /healthz and /readyz",
                cfg->metrics_listen);
        return 0;
}

void run_metrics_stop(struct metrics_http *h, int exit_code)
{
        int64_t end = jb_mono_ms() + RUN_METRICS_LINGER_MS;
        struct timespec ts = {0, 100 * 1000000L};

        if (!h)
                return;
        while (exit_code && !sig_stop_requested() && jb_mono_ms() < end)
                nanosleep(&ts, NULL);
        metrics_http_stop(h);
}

const char *run_config_arg(const char *cmd, int argc, char **argv, void (*usage_fn)(FILE *),
                           const char **extra_name, const char **extra_val, int *exitcode)
{
        /* opts[1] is extra_name's; without one, the end moves up over it */
        struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                {"", required_argument, NULL, 'x'},
                                CLI_OPTS_END};
        struct cli c = {cmd, ":c:h", opts, usage_fn, 0};
        const char *cfgpath = NULL;
        int opt;

        if (extra_name && *extra_name && !strncmp(*extra_name, "--", 2))
                opts[1].name = *extra_name + 2;
        else
                memmove(&opts[1], &opts[2], 3 * sizeof(opts[0]));
        while ((opt = cli_next(&c, argc, argv)) > 0) {
                if (opt == 'c')
                        cfgpath = optarg;
                else
                        *extra_val = optarg;
        }
        *exitcode = cli_finish(&c, opt, argc, argv);
        if (*exitcode >= 0)
                return NULL;
        if (!cfgpath)
                *exitcode = cli_usage_error(&c, "give the configuration file with -c FILE");
        return cfgpath;
}

/* ---- the command line ---- */

#ifndef JB_GIT_REV
#define JB_GIT_REV "unknown" /* the Makefile passes the git revision */
#endif

int cli_version(void)
{
        const curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);

        printf("jibe %s (git %s)\n", JB_VERSION, JB_GIT_REV);
        printf("librdkafka %s, libcurl %s, zlib %s, gzip inflate: %s\n", rd_kafka_version_str(),
               cv && cv->version ? cv->version : "?", zlibVersion(), ct_reader_inflate_library());
        return 0;
}

const char *cli_version_line(void)
{
        return "jibe " JB_VERSION " (git " JB_GIT_REV ")";
}

static void cli_vsay(const struct cli *c, const char *fmt, va_list ap) JB_PRINTF(2, 0);

static void cli_vsay(const struct cli *c, const char *fmt, va_list ap)
{
        fprintf(stderr, "jibe%s%s: ", c->cmd ? " " : "", c->cmd ? c->cmd : "");
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
}

int cli_usage_error(struct cli *c, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        cli_vsay(c, fmt, ap);
        va_end(ap);
        c->usage(stderr);
        return c->exitcode = 2;
}

int cli_bad_value(struct cli *c, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        cli_vsay(c, fmt, ap);
        va_end(ap);
        return c->exitcode = 2;
}

int cli_finish(struct cli *c, int opt, int argc, char **argv)
{
        if (opt == CLI_EXIT)
                return c->exitcode;
        if (optind < argc)
                return cli_usage_error(c, "unexpected argument '%s'", argv[optind]);
        return -1;
}

int cli_next(struct cli *c, int argc, char **argv)
{
        int opt;

        if (c->exitcode == 0)
                optind = 0; /* a new command line: getopt starts afresh (main read its own) */
        opterr = 0;         /* the messages below say "jibe CMD:" */
        c->exitcode = -1;
        opt = getopt_long(argc, argv, c->shortopts, c->longopts, NULL);
        switch (opt) {
        case -1:
                return CLI_END;
        case 'h':
                c->usage(stdout);
                c->exitcode = fflush(stdout) == 0 ? 0 : 1;
                return CLI_EXIT;
        case CLI_OPT_VERSION:
                c->exitcode = cli_version();
                return CLI_EXIT;
        case ':':
                cli_usage_error(c, "%s needs a value", argv[optind - 1]);
                return CLI_EXIT;
        case '?':
                if (optopt > 0 && optopt < 0x80 && isprint(optopt))
                        cli_usage_error(c, "unknown option '-%c'", optopt);
                else
                        cli_usage_error(c, "unknown option '%s'", argv[optind - 1]);
                return CLI_EXIT;
        default:
                return opt;
        }
}

/* ---- times ---- */

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
        *ms = ((days * 86400 + h * 3600 + mi * 60 + sec) - (int64_t)sign * (zh * 3600 + zm * 60)) *
                      1000 +
              frac;
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
                case 's':
                        unit = 1;
                        break;
                case 'm':
                        unit = 60;
                        break;
                case 'h':
                        unit = 3600;
                        break;
                case 'd':
                        unit = 86400;
                        break;
                case 'w':
                        unit = 7 * 86400;
                        break;
                default:
                        return -1;
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
