/*
 * status_run.c - the shared status of a long-running command (`jibe run`, `scan`, `parse`,
 * `sync`): the recorder's identity (status.h), the status store of the mode, and the
 * publisher (status_pub.h) as one more stage of the supervisor (stage.h), so that it starts
 * before the stages' first scan, is kicked by SIGUSR1 with them, and publishes its last word
 * after they stopped, before the transport shuts down.
 *
 * Owns: the publisher stage. Does not: publish, merge or store anything itself, nor choose
 * the store or the instance name (status_open.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aa.h"
#include "cfg.h"
#include "cli.h"
#include "log.h"
#include "stage.h"
#include "status.h"
#include "status_pub.h"
#include "status_store.h"

void run_status_init(const struct cfg *cfg, const char *role, const char *instance)
{
        struct status_ident id;

        memset(&id, 0, sizeof(id));
        id.instance = instance;
        id.role = role;
        id.version = cli_version_line();
        id.publish_s = cfg->status_publish_s;
        id.late_after_s = (long)(cfg->status_late_after_min * 60.0 + 0.5);
        status_init(&id);
}

/* The publisher as a stage: no counters, never failing (its failures are logged and retried). */
struct pub_stage {
        struct jb_stage st; /* first */
        struct status_pub_opts o;
        char instance[256], own_file[300];
        const struct cfg *cfg;
        const char *cmd; /* "run", "scan", ... (static) */
        struct status_pub *pub;
};

static int pst_start(struct jb_stage *st, char *errstr, size_t errsz)
{
        struct pub_stage *x = (struct pub_stage *)st;
        struct status_store *ss;

        if (x->o.upload_folder &&
            status_folder_check("report.upload_folder", x->o.upload_folder, errstr, errsz) != JB_OK)
                return JB_EINPUT;
        ss = NULL;
        if (cli_status_store(x->cfg, x->cmd, STATUS_FROM_AUTO, &ss, errstr, errsz) != JB_OK) {
                /* the pipeline goes on without a shared status: the report shows this instance */
                log_msg(LL_WARN, "status",
                        "cannot use the shared status (%s): this instance's status stays in its state "
                        "directory and its report shows only itself",
                        errstr);
                ss = NULL;
        }
        return status_pub_start(&x->o, ss, &x->pub, errstr, errsz);
}

static void pst_stop(struct jb_stage *st, int grace_ms, int upstream_done)
{
        struct pub_stage *x = (struct pub_stage *)st;

        (void)grace_ms;
        (void)upstream_done;
        status_pub_stop(x->pub); /* publishes once more */
        x->pub = NULL;
}

static void pst_kick(struct jb_stage *st)
{
        status_pub_kick(((struct pub_stage *)st)->pub);
}

static void pst_free(struct jb_stage *st)
{
        if (!st)
                return;
        pst_stop(st, 0, 0);
        free(st);
}

static const struct jb_stage_ops pub_stage_ops = {
        .start = pst_start,
        .stop = pst_stop,
        .kick = pst_kick,
        .free = pst_free,
};

struct jb_stage *run_status_stage(const struct cfg *cfg, const struct aa_opts *ao, const char *cmd,
                                  const char *instance, int reports)
{
        struct pub_stage *x = calloc(1, sizeof(*x));

        if (!x)
                return NULL;
        snprintf(x->instance, sizeof(x->instance), "%s", instance);
        x->st.name = "status";
        x->st.ops = &pub_stage_ops;
        x->cfg = cfg;
        x->cmd = cmd;
        x->o.instance = x->instance;
        if (strcmp(cmd, "run")) { /* the stages of one host share its state_dir */
                snprintf(x->own_file, sizeof(x->own_file), "status-%s.json", x->instance);
                x->o.own_file = x->own_file;
        }
        x->o.publish_s = cfg->status_publish_s;
        x->o.report_interval_min = reports ? cfg->report_interval_min : 0;
        x->o.state_dir = cfg->state_dir;
        x->o.upload_folder = reports ? cfg->report_upload_folder : NULL;
        x->o.aa = ao;
        return &x->st;
}
