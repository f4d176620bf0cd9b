/*
 * supervise.h - the life cycle of a long-running jibe process over a set of stages
 * (stage.h): `jibe run` supervises the whole pipeline on the embedded transport, `jibe scan`,
 * `parse` and `sync` one stage each on Kafka.
 *
 * supervise() starts the stages downstream first, then polls every 200 ms: SIGTERM/SIGINT
 * (sig.h) stop the process (exit 0), SIGHUP reopens the log file, SIGUSR1 kicks the stages
 * that have a kick; a failed stage or a failed transport ends the process (exit 1); a
 * progress line every SUPERVISE_PROGRESS_S and one at the end. A stop requested while the
 * stages were starting exits 0 ("before it was running").
 * Under systemd (Type=notify, sdnotify.h) it says READY=1 once the stages run and every
 * stage that counts scans has ended its first scan, WATCHDOG=1 at half of $WATCHDOG_USEC,
 * STATUS= with each progress line, and STOPPING=1 when the stop begins.
 * Shutdown, in this order ("nothing lost": unfinished messages are reported to their
 * publisher, which must still exist): stop every stage, upstream first; the stages'
 * finish (pipeline only); the last progress line (when every stage with counters started);
 * q_shutdown(); the stages' join; free the stages that are not free_after_transport;
 * q_free(); free the others.
 * Ownership: supervise() takes the stages and the transport and frees them all, whatever
 * happens; the options and their tables are borrowed.
 */
#ifndef SUPERVISE_H
#define SUPERVISE_H

#include <stddef.h>

#include "q.h"
#include "stage.h"

#define SUPERVISE_GRACE_MS 30000 /* work in flight gets this long at a stop */
#define SUPERVISE_PROGRESS_S 60
#define SUPERVISE_MAX_STAGES 8 /* more are ignored (a programming error) */

/* One key=value of the progress line: the sum of up to four counters, each named
 * "<stage>.<counter>"; "queue.files" and "queue.events" are the transport's waiting
 * messages (q_depth). */
struct supervise_field {
        const char *key;
        const char *sum[4];
};

struct supervise_opts {
        const char *cmd;          /* the log lines' tag: "run", "scan", ... */
        struct q *q;              /* taken */
        struct jb_stage **stages; /* taken; upstream first */
        size_t nstages;
        /* The stages are the whole pipeline, upstream first (jibe run): at a stop each
         * stage consumes what its upstream left, and the finish callbacks run. */
        int pipeline;
        const struct supervise_field *line; /* the progress line */
        size_t nline;
        const char *running;  /* INFO line once every stage runs */
        const char *log_file; /* named when it cannot be reopened (NULL: stderr) */
};

/* Run until a stop or a failure; the process's exit code (0 or 1). */
int supervise(const struct supervise_opts *o);

/* The command could not build what its stages need (err says what): the log line a
 * failed start gives, and the exit code (0 when a stop was requested meanwhile, else 1). */
int supervise_not_started(const char *cmd, const char *err);

#endif
