/*
 * run.c - `jibe run`: the embedded default. Scanner, parser and syncer in one process over
 * the in-memory transport, state in a local directory.
 *
 * Owns: the process life cycle of the embedded mode: configuration and logging set-up,
 * the credential check at start, signals (SIGTERM/SIGINT: finish in-flight work, save
 * state, exit 0; SIGHUP: reopen the log file; SIGUSR1: scan now), the order in which stages
 * start and stop, and the periodic progress line.
 * Does not: contain stage logic.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aa.h"
#include "cfg.h"
#include "cli.h"
#include "dead.h"
#include "log.h"
#include "msg.h"
#include "parser.h"
#include "q.h"
#include "scan_store.h"
#include "scanner.h"
#include "sig.h"
#include "stage_opts.h"
#include "state.h"
#include "syncer.h"

#define RUN_GRACE_MS 30000
#define RUN_PROGRESS_S 60

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

static void usage(FILE *fp)
{
        fprintf(fp,
                "usage: jibe run -c FILE\n"
                "\n"
                "Runs jibe on this machine: finds new CloudTrail log files of the source buckets\n"
                "through Access Anywhere, reads them, and asks Access Anywhere to resync every object\n"
                "created or deleted by anyone but itself. Runs until SIGTERM or SIGINT, which finish\n"
                "the work in flight, save the state and exit 0. SIGHUP reopens the log file; SIGUSR1\n"
                "starts a scan at once.\n"
                "\n"
                "  -c, --config FILE   configuration file (see deploy/jibe.cfg.example)\n"
                "  -h, --help          this help\n");
}

static void progress(struct scanner *sc, struct parser *pa, struct syncer *sy, struct q *q,
                     enum log_level lvl)
{
        struct scanner_stats ss;
        struct parser_stats ps;
        struct syncer_stats ys;

        scanner_get_stats(sc, &ss);
        parser_get_stats(pa, &ps);
        syncer_get_stats(sy, &ys);
        log_msg(lvl, "run",
                "progress: scans=%llu files_found=%llu files_done=%llu files_quarantined=%llu "
                "events=%llu syncs=%llu bucket_syncs=%llu dead_letters=%llu queued_files=%zu "
                "queued_events=%zu held_events=%llu outage_s=%lld folder_refreshes=%llu",
                (unsigned long long)ss.scans, (unsigned long long)ss.files_published,
                (unsigned long long)ss.files_done, (unsigned long long)ps.files_quarantined,
                (unsigned long long)ps.events, (unsigned long long)ys.syncs_ok,
                (unsigned long long)ys.syncs_bucket, (unsigned long long)(ys.dead + ys.poison + ps.poison),
                q_depth(q, Q_FILES), q_depth(q, Q_EVENTS), (unsigned long long)ys.held,
                (long long)(ys.outage_ms / 1000), (unsigned long long)ys.refreshes);
}

int run_setup(const char *cmd, const char *cfgpath, struct cfg *cfg, struct aa_opts *ao)
{
        enum log_level lvl = LL_INFO;
        char err[1024];
        size_t i;

        if (cfg_load(cfg, cfgpath, err, sizeof(err)) != JB_OK) {
                fprintf(stderr, "jibe %s: %s\n", cmd, err);
                return 1;
        }
        if (cfg->log_level && log_level_parse(cfg->log_level, &lvl) != JB_OK)
                lvl = LL_INFO;
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
                log_msg(LL_WARN, cmd, "Access Anywhere is not reachable yet (%s); jibe keeps trying", err);
        return 0;
}

const char *run_config_arg(const char *cmd, int argc, char **argv, void (*usage_fn)(FILE *),
                           const char **extra_name, const char **extra_val, int *exitcode)
{
        const char *cfgpath = NULL;
        int i;

        *exitcode = -1;
        for (i = 1; i < argc; i++) {
                if ((!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) && i + 1 < argc) {
                        cfgpath = argv[++i];
                } else if (extra_name && *extra_name && !strcmp(argv[i], *extra_name) && i + 1 < argc) {
                        *extra_val = argv[++i];
                } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
                        usage_fn(stdout);
                        *exitcode = 0;
                        return NULL;
                } else {
                        fprintf(stderr, "jibe %s: unexpected argument '%s'\n", cmd, argv[i]);
                        usage_fn(stderr);
                        *exitcode = 2;
                        return NULL;
                }
        }
        if (!cfgpath) {
                fprintf(stderr, "jibe %s: give the configuration file with -c FILE\n", cmd);
                *exitcode = 2;
        }
        return cfgpath;
}

int run_main(int argc, char **argv)
{
        const char *cfgpath;
        struct cfg cfg;
        struct aa_opts ao;
        struct stage_opts so;
        struct state *st = NULL;
        struct q *q = NULL;
        struct scanner *sc = NULL;
        struct scan_store *store = NULL;
        struct parser *pa = NULL;
        struct syncer *sy = NULL;
        struct dead_redriver *rd = NULL;
        struct q_mem_opts qo;
        char err[1024], dead[4096];
        int rc, ret = 1;
        int64_t last_progress;

        cfgpath = run_config_arg("run", argc, argv, usage, NULL, NULL, &rc);
        if (!cfgpath)
                return rc;
        if (run_setup("run", cfgpath, &cfg, &ao))
                return 1;
        memset(&so, 0, sizeof(so));
        rc = stage_opts_from_cfg(&cfg, &so, err, sizeof(err));
        if (rc) {
                log_msg(LL_ERROR, "run", "%s", err);
                goto out;
        }
        rc = state_open(cfg.state_dir, &st, err, sizeof(err));
        if (rc) {
                log_msg(LL_ERROR, "run", "cannot use the state directory: %s", err);
                goto out;
        }
        if (run_check_login("run", &ao))
                goto out;

        snprintf(dead, sizeof(dead), "%s/dead-letters.jsonl", cfg.state_dir);
        qo.capacity = (size_t)cfg.queue_capacity;
        qo.dead_letter_path = dead;
        q = q_mem_new(&qo, err, sizeof(err));
        if (!q) {
                log_msg(LL_ERROR, "run", "%s", err);
                goto out;
        }
        rc = syncer_start(&so.sync, &ao, q, &sy, err, sizeof(err));
        if (!rc)
                rc = parser_start(&so.parse, &ao, q, &pa, err, sizeof(err));
        if (!rc) {
                store = scan_store_dir_new(st);
                rc = store ? scanner_start(&so.scan, &ao, q, store, &sc, err, sizeof(err))
                           : jb_seterr(JB_ENOMEM, err, sizeof(err), "out of memory");
        }
        if (!rc)
                rc = dead_redriver_start(cfg.state_dir, q, &rd, err, sizeof(err));
        if (rc && sig_stop_requested()) {
                log_msg(LL_INFO, "run", "stopping on request before it was running (%s)", err);
                ret = 0;
                goto stop;
        }
        if (rc) {
                log_msg(LL_ERROR, "run", "cannot start: %s", err);
                goto stop;
        }
        log_msg(LL_INFO, "run", "running: scan every %ld s, lookback %ld h", cfg.scan_interval_s,
                cfg.scan_lookback_h);
        ret = 0;
        last_progress = msg_now_ms();
        while (!sig_stop_requested()) {
                struct timespec ts = {0, 200 * 1000000L};

                nanosleep(&ts, NULL);
                if (sig_take_hup()) {
                        if (log_reopen() != JB_OK)
                                log_msg(LL_ERROR, "run", "cannot reopen the log file %s",
                                        cfg.log_file ? cfg.log_file : "-");
                        else
                                log_msg(LL_INFO, "run", "log file reopened");
                }
                if (sig_take_usr1())
                        scanner_kick(sc);
                if (scanner_failed(sc) || parser_failed(pa) || syncer_failed(sy)) {
                        log_msg(LL_ERROR, "run", "a stage stopped on a fatal error (see above): exiting");
                        ret = 1;
                        break;
                }
                if (msg_now_ms() - last_progress >= RUN_PROGRESS_S * 1000) {
                        progress(sc, pa, sy, q, LL_INFO);
                        last_progress = msg_now_ms();
                }
        }
        if (sig_stop_requested())
                log_msg(LL_INFO, "run", "stopping: finishing the work in flight");
stop:
        /* Upstream first: no new files, then let parsers finish, then drain the syncer, then
         * record what completed. */
        dead_redriver_stop(rd);
        scanner_stop(sc);
        parser_stop(pa, RUN_GRACE_MS);
        syncer_stop(sy, 1, RUN_GRACE_MS);
        if (sc && scanner_flush(sc, err, sizeof(err)) != JB_OK) {
                log_msg(LL_ERROR, "run", "cannot save the scanner state: %s", err);
                ret = 1;
        }
        if (sc && pa && sy)
                progress(sc, pa, sy, q, LL_INFO);
        if (q)
                q_shutdown(q);
        dead_redriver_join(rd); /* a redrive waiting for room in a queue gives up now */
        parser_free(pa);
        syncer_free(sy);
        q_free(q); /* reports unfinished files to the scanner, which forgets them */
        dead_redriver_free(rd); /* after q_free: unfinished redrives stay requested */
        scanner_free(sc);
        scan_store_free(store);
        log_msg(LL_INFO, "run", "stopped");
out:
        state_close(st);
        stage_opts_clear(&so);
        cfg_clear(&cfg);
        log_close();
        return ret;
}
