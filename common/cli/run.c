/*
 * run.c - `jibe run`: the embedded default. Scanner, parser and syncer in one process over
 * the in-memory transport, state in a local directory.
 *
 * Owns: configuration and logging set-up, the credential check at start, the embedded
 * transport and the scanner's state store, the pipeline handed to the supervisor
 * (supervise.h: signals, start and stop order, progress line) with the fields of its
 * progress line, and the dead-letter redriver's stage adapter.
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
#include "filehash.h"
#include "log.h"
#include "msg.h"
#include "parser.h"
#include "q.h"
#include "scan_store.h"
#include "scanner.h"
#include "sig.h"
#include "stage_opts.h"
#include "state.h"
#include "supervise.h"
#include "syncer.h"

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
                "  -h, --help          this help\n"
                "  --version           print jibe's version\n");
}

/* The progress line of `jibe run` (tests/integration/0335 reads held_events, queued_*). */
static const struct supervise_field run_line[] = {
        {"scans", {"scan.scans"}},
        {"files_found", {"scan.files_found"}},
        {"files_done", {"scan.files_done"}},
        {"files_read", {"parse.files"}},
        {"files_quarantined", {"parse.files_quarantined"}},
        {"events", {"parse.events"}},
        {"syncs", {"sync.syncs"}},
        {"bucket_syncs", {"sync.bucket_syncs"}},
        {"dead_letters", {"sync.dead_letters", "sync.poison", "parse.poison"}},
        {"queued_files", {"queue.files"}},
        {"queued_events", {"queue.events"}},
        {"held_events", {"sync.held_events"}},
        {"outage_s", {"sync.outage_s"}},
        {"folder_refreshes", {"sync.folder_refreshes"}},
};

/* The dead-letter redriver (dead.h) as the pipeline's first stage: it publishes to the
 * scanner's and the parser's queues. */
struct redrive_stage {
        struct jb_stage st; /* first */
        const char *state_dir;
        struct q *q;
        struct dead_redriver *rd;
};

static int rdst_start(struct jb_stage *st, char *errstr, size_t errsz)
{
        struct redrive_stage *x = (struct redrive_stage *)st;

        return dead_redriver_start(x->state_dir, x->q, &x->rd, errstr, errsz);
}

static void rdst_stop(struct jb_stage *st, int grace_ms, int upstream_done)
{
        (void)grace_ms;
        (void)upstream_done;
        dead_redriver_stop(((struct redrive_stage *)st)->rd);
}

static void rdst_join(struct jb_stage *st)
{
        dead_redriver_join(((struct redrive_stage *)st)->rd); /* a redrive waiting for room gives up */
}

static void rdst_free(struct jb_stage *st)
{
        if (!st)
                return;
        dead_redriver_free(
                ((struct redrive_stage *)st)->rd); /* after q_free: unfinished redrives stay requested */
        free(st);
}

static const struct jb_stage_ops redrive_stage_ops = {
        .start = rdst_start,
        .stop = rdst_stop,
        .join = rdst_join,
        .free = rdst_free,
        .free_after_transport = 1,
};

static struct jb_stage *redrive_stage(const char *state_dir, struct q *q)
{
        struct redrive_stage *x = calloc(1, sizeof(*x));

        if (!x)
                return NULL;
        x->st.name = "redrive";
        x->st.ops = &redrive_stage_ops;
        x->state_dir = state_dir;
        x->q = q;
        return &x->st;
}

/* The embedded transport: queues in memory, dead letters in the state directory. */
static struct q *run_transport(const struct cfg *cfg)
{
        struct q_mem_opts qo;
        char err[1024], dead[4096];
        struct q *q;

        snprintf(dead, sizeof(dead), "%s/dead-letters.jsonl", cfg->state_dir);
        qo.capacity = (size_t)cfg->queue_capacity;
        qo.dead_letter_path = dead;
        q = q_mem_new(&qo, err, sizeof(err));
        if (!q)
                log_msg(LL_ERROR, "run", "%s", err);
        return q;
}

/* Redriver, scanner, parser, syncer (upstream first), then the status publisher, under one
 * supervisor; takes q. */
static int run_pipeline(const struct cfg *cfg, const struct aa_opts *ao, const struct stage_opts *so,
                        struct q *q, struct scan_store *store, const char *instance)
{
        struct jb_stage *st[5];
        struct supervise_opts sv;
        char running[256];
        size_t i;

        st[0] = redrive_stage(cfg->state_dir, q);
        st[1] = scanner_stage(&so->scan, ao, q, store);
        st[2] = parser_stage(&so->parse, ao, q);
        st[3] = syncer_stage(&so->sync, ao, q);
        st[4] = run_status_stage(cfg, ao, "run", instance, 1); /* last: starts first, stops last */
        if (!store || !st[0] || !st[1] || !st[2] || !st[3] || !st[4]) {
                for (i = 0; i < 5; i++)
                        if (st[i])
                                st[i]->ops->free(st[i]);
                q_shutdown(q);
                q_free(q);
                return supervise_not_started("run", "out of memory");
        }
        snprintf(running, sizeof(running), "running: scan every %ld s, lookback %ld h",
                 cfg->scan_interval_s, cfg->scan_lookback_h);
        memset(&sv, 0, sizeof(sv));
        sv.cmd = "run";
        sv.q = q;
        sv.stages = st;
        sv.nstages = 5;
        sv.pipeline = 1;
        sv.line = run_line;
        sv.nline = sizeof(run_line) / sizeof(run_line[0]);
        sv.running = running;
        sv.log_file = cfg->log_file;
        return supervise(&sv);
}

int run_main(int argc, char **argv)
{
        const char *cfgpath;
        struct cfg cfg;
        struct aa_opts ao;
        struct stage_opts so;
        struct state *st = NULL;
        struct scan_store *store = NULL;
        struct filehash *hashes = NULL;
        struct metrics_http *mh = NULL;
        struct q *q;
        char err[1024], instance[256];
        int rc, ret = 1;

        cfgpath = run_config_arg("run", argc, argv, usage, NULL, NULL, &rc);
        if (!cfgpath)
                return rc;
        if (run_setup("run", cfgpath, &cfg, &ao))
                return 1;
        memset(&so, 0, sizeof(so));
        if (stage_opts_from_cfg(&cfg, &so, err, sizeof(err))) {
                log_msg(LL_ERROR, "run", "%s", err);
                goto out;
        }
        if (cli_status_instance(&cfg, "run", NULL, instance, sizeof(instance), err, sizeof(err))) {
                log_msg(LL_ERROR, "run", "%s", err);
                goto out;
        }
        run_status_init(&cfg, "run", instance);
        if (state_open(cfg.state_dir, &st, err, sizeof(err))) {
                log_msg(LL_ERROR, "run", "cannot use the state directory: %s", err);
                goto out;
        }
        /* The parser's SHA-256 of each file, for the scanner's digest checks (none: digests off). */
        if (so.scan.digests && !(hashes = filehash_dir_new(cfg.state_dir, err, sizeof(err)))) {
                log_msg(LL_ERROR, "run", "cannot use the file hashes of the state directory: %s", err);
                goto out;
        }
        so.scan.hashes = hashes;
        so.parse.hashes = hashes;
        if (run_metrics_start("run", &cfg, 1, &mh) || run_check_login("run", &ao) ||
            !(q = run_transport(&cfg)))
                goto out;
        if (run_alerts_start("run", &cfg)) {
                q_shutdown(q);
                q_free(q);
                goto out;
        }
        store = scan_store_dir_new(st);
        ret = run_pipeline(&cfg, &ao, &so, q, store, instance); /* frees the stages and q */
        run_alerts_stop();                                      /* after the stages: their last alerts */
        scan_store_free(store);                                 /* after the scanner */
out:
        filehash_free(hashes); /* after the stages */
        run_metrics_stop(mh, ret);
        state_close(st);
        stage_opts_clear(&so);
        cfg_clear(&cfg);
        log_close();
        return ret;
}
