/*
 * supervise.c - start, watch and stop a set of stages (see supervise.h).
 *
 * Threads: supervise() runs on the caller's thread (the process's main thread) and is the
 * only caller of the stages' callbacks.
 * Service manager (sdnotify.h, a no-op outside systemd's Type=notify): READY=1 once every
 * stage runs and, when a stage counts scans, its first scan has ended (the login was checked
 * before supervise()); WATCHDOG=1 from the watch loop at half of $WATCHDOG_USEC; STATUS= with
 * each progress line; STOPPING=1 when the stop begins.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "alert.h"
#include "jb.h"
#include "log.h"
#include "sdnotify.h"
#include "metrics.h"
#include "sig.h"
#include "status.h"
#include "supervise.h"

#define SUPERVISE_TICK_MS 200
#define SUPERVISE_LINE 2048

struct sv {
        const struct supervise_opts *o;
        struct jb_counters c[SUPERVISE_MAX_STAGES]; /* per stage, for one progress line */
        int started[SUPERVISE_MAX_STAGES];
        size_t n;
        int ready;          /* READY=1 sent */
        uint64_t wd_usec;   /* $WATCHDOG_USEC, 0: no watchdog */
        int64_t wd_last_ms; /* last WATCHDOG=1 */
};

/* Tell the service manager; a failure is logged once, then the process goes on without it. */
static void notify(const char *cmd, const char *state)
{
        static int warned;
        char err[256];

        if (sdnotify(state, err, sizeof(err)) != JB_OK && !warned) {
                warned = 1;
                log_msg(LL_WARN, cmd, "%s; the service manager will not hear how jibe is doing", err);
        }
}

static void collect(struct sv *s)
{
        size_t i;

        for (i = 0; i < s->n; i++) {
                s->c[i].n = 0;
                if (s->o->stages[i]->ops->counters)
                        s->o->stages[i]->ops->counters(s->o->stages[i], &s->c[i]);
        }
}

/* Every stage that scans has ended its first scan, well or not (a failed scan is retried
 * and said in the log; the service is up). */
static int first_scans_done(struct sv *s)
{
        int64_t scans, errors;
        size_t i;

        collect(s);
        for (i = 0; i < s->n; i++)
                if (jb_counters_get(&s->c[i], "scans", &scans) == JB_OK &&
                    (jb_counters_get(&s->c[i], "scan_errors", &errors) != JB_OK ? 0 : errors) + scans <
                            1)
                        return 0;
        return 1;
}

static void notify_tick(struct sv *s)
{
        char st[512];

        if (!s->ready && first_scans_done(s)) {
                s->ready = 1;
                snprintf(st, sizeof(st), "READY=1\nSTATUS=%s", s->o->running);
                notify(s->o->cmd, st);
        }
        if (s->wd_usec && (jb_mono_ms() - s->wd_last_ms) * 2000 >= (int64_t)s->wd_usec) {
                notify(s->o->cmd, "WATCHDOG=1");
                s->wd_last_ms = jb_mono_ms();
        }
}

static int64_t field_value(struct sv *s, const char *src)
{
        const char *dot = strchr(src, '.');
        int64_t v = 0;
        size_t i, len = dot ? (size_t)(dot - src) : 0;

        if (!dot)
                return 0;
        if (!strcmp(src, "queue.files"))
                return (int64_t)q_depth(s->o->q, Q_FILES);
        if (!strcmp(src, "queue.events"))
                return (int64_t)q_depth(s->o->q, Q_EVENTS);
        for (i = 0; i < s->n; i++)
                if (strlen(s->o->stages[i]->name) == len && !strncmp(s->o->stages[i]->name, src, len) &&
                    jb_counters_get(&s->c[i], dot + 1, &v) == JB_OK)
                        return v;
        return 0;
}

/* The metrics endpoint's copy of the counters, depths and health (metrics.h), taken on this
 * thread as stage.h wants: every tick while metrics are on. */
static void publish(struct sv *s)
{
        struct jb_counters c;
        size_t i;

        if (s->o->q) /* the status (status.h) is always on */
                status_backlog((int64_t)q_depth(s->o->q, Q_FILES), (int64_t)q_depth(s->o->q, Q_EVENTS),
                               q_lag(s->o->q));
        if (!metrics_enabled())
                return;
        for (i = 0; i < s->n; i++) {
                c.n = 0;
                if (s->started[i] && s->o->stages[i]->ops->counters) {
                        s->o->stages[i]->ops->counters(s->o->stages[i], &c);
                        metrics_stage_counters(s->o->stages[i]->name, &c);
                }
        }
        if (s->o->q) {
                metrics_queue_depth("files", (int64_t)q_depth(s->o->q, Q_FILES));
                metrics_queue_depth("events", (int64_t)q_depth(s->o->q, Q_EVENTS));
        }
}

static void progress(struct sv *s)
{
        char line[SUPERVISE_LINE], st[SUPERVISE_LINE + 32];
        size_t i, j, off = 0;

        collect(s);
        line[0] = '\0';
        for (i = 0; i < s->o->nline && off < sizeof(line); i++) {
                const struct supervise_field *f = &s->o->line[i];
                int64_t v = 0;
                int k;

                for (j = 0; j < 4 && f->sum[j]; j++)
                        v += field_value(s, f->sum[j]);
                k = snprintf(line + off, sizeof(line) - off, "%s%s=%lld", i ? " " : "", f->key,
                             (long long)v);
                off += k > 0 ? (size_t)k : 0;
        }
        log_msg(LL_INFO, s->o->cmd, "progress: %s", line);
        snprintf(st, sizeof(st), "STATUS=progress: %s", line);
        notify(s->o->cmd, st);
}

int supervise_not_started(const char *cmd, const char *err)
{
        if (sig_stop_requested()) {
                log_msg(LL_INFO, cmd, "stopping on request before it was running (%s)", err);
                return 0;
        }
        log_msg(LL_ERROR, cmd, "cannot start: %s", err);
        return 1;
}

/* Downstream first, so that nothing is published before its consumer runs. */
static int start_all(struct sv *s)
{
        char err[1024];
        size_t i;

        for (i = s->n; i-- > 0;) {
                struct jb_stage *st = s->o->stages[i];

                if (st->ops->start(st, err, sizeof(err)) != JB_OK)
                        return supervise_not_started(s->o->cmd, err) ? 1 : -1;
                s->started[i] = 1;
        }
        return 0;
}

/* The failed stage's name, the transport's, or NULL. */
static const char *any_failed(struct sv *s)
{
        size_t i;

        for (i = 0; i < s->n; i++)
                if (s->o->stages[i]->ops->failed && s->o->stages[i]->ops->failed(s->o->stages[i]))
                        return s->o->stages[i]->name;
        return q_failed(s->o->q) ? "transport" : NULL;
}

static void on_signals(struct sv *s)
{
        size_t i;

        if (sig_take_hup()) {
                if (log_reopen() != JB_OK)
                        log_msg(LL_ERROR, s->o->cmd, "cannot reopen the log file %s",
                                s->o->log_file ? s->o->log_file : "-");
                else
                        log_msg(LL_INFO, s->o->cmd, "log file reopened");
        }
        if (sig_take_usr1()) {
                int kicked = 0;

                for (i = 0; i < s->n; i++)
                        if (s->o->stages[i]->ops->kick) {
                                s->o->stages[i]->ops->kick(s->o->stages[i]);
                                kicked |= strcmp(s->o->stages[i]->name, "status") ? 1 : 2;
                        }
                log_msg(LL_INFO, s->o->cmd, "%s",
                        kicked & 1   ? "SIGUSR1 received: a scan for new log files starts now"
                        : kicked & 2 ? "SIGUSR1 received: this process has no scanner; its status is "
                                       "published now"
                                     : "SIGUSR1 received: this process has no scanner; nothing to do");
        }
}

/* Until a stop (0) or a failure (1). */
static int watch(struct sv *s)
{
        int64_t last = jb_mono_ms();
        const char *failed;

        s->wd_usec = sdnotify_watchdog_usec();
        s->wd_last_ms = 0;
        notify_tick(s);
        while (!sig_stop_requested()) {
                struct timespec ts = {0, SUPERVISE_TICK_MS * 1000000L};

                nanosleep(&ts, NULL);
                notify_tick(s);
                on_signals(s);
                publish(s);
                if ((failed = any_failed(s)) != NULL) {
                        metrics_set_alive(0,
                                          s->n > 1 ? "a stage stopped on a fatal error (see the log)"
                                                   : "the stage stopped on a fatal error (see the log)");
                        notify(s->o->cmd, "STOPPING=1\nSTATUS=a fatal error: exiting (see the log)");
                        log_msg(LL_ERROR, s->o->cmd, "%s on a fatal error (see above): exiting",
                                s->n > 1 ? "a stage stopped" : "stopped");
                        alert_event(&(struct alert_key){NULL, failed, "stage_failed"}, ALERT_ERROR,
                                    "'jibe %s' stopped: its %s stage met a fatal error, so nothing is "
                                    "kept in sync until it runs again; its log says why",
                                    s->o->cmd, failed);
                        return 1;
                }
                if (jb_mono_ms() - last >= SUPERVISE_PROGRESS_S * 1000) {
                        progress(s);
                        last = jb_mono_ms();
                }
        }
        notify(s->o->cmd, "STOPPING=1\nSTATUS=stopping: finishing the work in flight");
        log_msg(LL_INFO, s->o->cmd, "stopping: finishing the work in flight");
        return 0;
}

/* Every stage that counts has started: the progress line is complete. */
static int counting(struct sv *s)
{
        size_t i;

        for (i = 0; i < s->n; i++)
                if (s->o->stages[i]->ops->counters && !s->started[i])
                        return 0;
        return 1;
}

static int stop_all(struct sv *s)
{
        char err[1024];
        size_t i;
        int ret = 0;

        for (i = 0; i < s->n; i++)
                s->o->stages[i]->ops->stop(s->o->stages[i], SUPERVISE_GRACE_MS, s->o->pipeline && i > 0);
        for (i = 0; s->o->pipeline && i < s->n; i++)
                if (s->started[i] && s->o->stages[i]->ops->finish &&
                    s->o->stages[i]->ops->finish(s->o->stages[i], err, sizeof(err)) != JB_OK) {
                        log_msg(LL_ERROR, s->o->cmd, "%s", err);
                        ret = 1;
                }
        if (counting(s))
                progress(s);
        publish(s); /* the final counts */
        return ret;
}

static void free_all(struct sv *s)
{
        int late[SUPERVISE_MAX_STAGES];
        size_t i;

        if (s->o->q)
                q_shutdown(s->o->q);
        for (i = 0; i < s->n; i++) {
                late[i] = s->o->stages[i]->ops->free_after_transport; /* read before any free */
                if (s->o->stages[i]->ops->join)
                        s->o->stages[i]->ops->join(s->o->stages[i]);
        }
        for (i = 0; i < s->n; i++)
                if (!late[i])
                        s->o->stages[i]->ops->free(s->o->stages[i]);
        q_free(s->o->q); /* reports what never completed to its publisher: still there */
        for (i = 0; i < s->n; i++)
                if (late[i])
                        s->o->stages[i]->ops->free(s->o->stages[i]);
}

int supervise(const struct supervise_opts *o)
{
        struct sv s;
        int rc, ret;

        memset(&s, 0, sizeof(s));
        s.o = o;
        s.n = o->nstages < SUPERVISE_MAX_STAGES ? o->nstages : SUPERVISE_MAX_STAGES;
        rc = start_all(&s);
        if (!rc) {
                log_msg(LL_INFO, o->cmd, "%s", o->running);
                ret = watch(&s);
        } else {
                ret = rc > 0 ? 1 : 0;
        }
        if (stop_all(&s))
                ret = 1;
        free_all(&s);
        log_msg(LL_INFO, o->cmd, "stopped");
        return ret;
}
