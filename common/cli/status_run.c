/*
 * status_run.c - the shared status of a long-running command (`jibe run`, `scan`, `parse`,
 * `sync`): the recorder's identity (status.h), the status store of the mode, and the
 * publisher (status_pub.h) as one more stage of the supervisor (stage.h), so that it starts
 * before the stages' first scan, is kicked by SIGUSR1 with them, and publishes its last word
 * after they stopped, before the transport shuts down.
 *
 * Owns: the instance name's fallbacks, the publisher stage. Does not: publish, merge or
 * store anything itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aa.h"
#include "cfg.h"
#include "cli.h"
#include "kconf.h"
#include "log.h"
#include "stage.h"
#include "status.h"
#include "status_pub.h"
#include "status_store.h"

const char *run_status_instance(const struct cfg *cfg, const char *role, const char *instance_id,
                                char *out, size_t n)
{
        char host[256];

        if (cfg->status_instance && *cfg->status_instance) {
                snprintf(out, n, "%s", cfg->status_instance);
                return out;
        }
        if (!instance_id || !*instance_id)
                instance_id = cfg->kafka_instance_id;
        if (!instance_id || !*instance_id) {
                if (gethostname(host, sizeof(host) - 1) != 0 || !*host)
                        snprintf(host, sizeof(host), "jibe");
                host[sizeof(host) - 1] = '\0';
                instance_id = host;
        }
        /* `jibe run` is the host's one instance; the stage processes of one host each need
         * their own name (their status records would replace each other's) */
        if (!strcmp(role, "run"))
                snprintf(out, n, "%s", instance_id);
        else
                snprintf(out, n, "%s-%s", instance_id, role);
        return out;
}

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

/* The store of the mode: the Kafka status topic, or the status.folder of `jibe run` (NULL:
 * none, then the report shows this instance only). *ok 0 when the store could not be made. */
static struct status_store *mode_store(const struct cfg *cfg, const struct aa_opts *ao, int kafka,
                                       char *err, size_t errsz, int *ok)
{
        struct status_store *ss = NULL;
        char topic[512];
        const char **props;

        *ok = 1;
        if (kafka) {
                if (kconf_name(topic, sizeof(topic), cfg->kafka_topic_prefix, KN_STATUS)) {
                        *ok = 0;
                        jb_seterr(JB_EINPUT, err, errsz, "kafka.topic_prefix is too long");
                        return NULL;
                }
                if (!(props = kafka_props(cfg))) {
                        *ok = 0;
                        jb_seterr(JB_ENOMEM, err, errsz, "out of memory");
                        return NULL;
                }
                ss = status_store_kafka_new(cfg->kafka_brokers, topic, props, err, errsz);
                free(props);
        } else if (cfg->status_folder && *cfg->status_folder) {
                ss = status_store_aa_new(ao, cfg->status_folder, err, errsz);
        } else {
                return NULL;
        }
        if (!ss)
                *ok = 0;
        return ss;
}

/* The publisher as a stage: no counters, never failing (its failures are logged and retried). */
struct pub_stage {
        struct jb_stage st; /* first */
        struct status_pub_opts o;
        char instance[256];
        const struct cfg *cfg;
        int kafka;
        struct status_pub *pub;
};

static int pst_start(struct jb_stage *st, char *errstr, size_t errsz)
{
        struct pub_stage *x = (struct pub_stage *)st;
        struct status_store *ss;
        int ok;

        if (status_instance_check(x->instance, errstr, errsz) != JB_OK)
                return JB_EINPUT; /* status.instance (or the name it fell back to) */
        if (x->o.upload_folder &&
            status_folder_check("report.upload_folder", x->o.upload_folder, errstr, errsz) != JB_OK)
                return JB_EINPUT;
        ss = mode_store(x->cfg, x->o.aa, x->kafka, errstr, errsz, &ok);
        if (!ok) {
                /* the pipeline goes on without a shared status: the report shows this instance */
                log_msg(LL_WARN, "status",
                        "cannot use the %s (%s): this instance's status stays in its state directory "
                        "and its report shows only itself",
                        x->kafka ? "status topic" : "status folder", errstr);
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

struct jb_stage *run_status_stage(const struct cfg *cfg, const struct aa_opts *ao, const char *instance,
                                  int kafka, int reports)
{
        struct pub_stage *x = calloc(1, sizeof(*x));

        if (!x)
                return NULL;
        snprintf(x->instance, sizeof(x->instance), "%s", instance);
        x->st.name = "status";
        x->st.ops = &pub_stage_ops;
        x->cfg = cfg;
        x->kafka = kafka;
        x->o.instance = x->instance;
        x->o.publish_s = cfg->status_publish_s;
        x->o.report_interval_min = reports ? cfg->report_interval_min : 0;
        x->o.state_dir = cfg->state_dir;
        x->o.upload_folder = reports ? cfg->report_upload_folder : NULL;
        x->o.aa = ao;
        return &x->st;
}
