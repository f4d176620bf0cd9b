/*
 * stage.h - the interface every stage of jibe implements (scanner, parser, syncer; in
 * `jibe run` also the dead-letter redriver), so that one supervisor (supervise.h) starts,
 * watches and stops any set of them, and so that progress lines, the report and metrics
 * read one list of named counters.
 *
 * A stage is built by its module's constructor (scanner_stage(), parser_stage(),
 * syncer_stage(): not started, nothing running) and then driven only through these
 * callbacks, by one thread. Ownership: the supervisor owns a struct jb_stage from the
 * moment it is handed over and ends it with free(), which also releases the stage itself;
 * what the constructor borrowed (options' arrays, aa_opts, transport, store) must outlive
 * free().
 */
#ifndef STAGE_H
#define STAGE_H

#include <stddef.h>
#include <stdint.h>

/* A counter only grows (restarts at 0 with the process); a gauge is a level now. */
enum jb_metric_kind { JB_COUNTER, JB_GAUGE };

/* One named value. name: lower_snake_case, unique within its stage and stable across
 * releases (progress lines, the report and metrics are keyed by "<stage>.<name>");
 * help: one line for an administrator. Both static strings. */
struct jb_counter {
        const char *name;
        enum jb_metric_kind kind;
        int64_t value;
        const char *help;
};

#define JB_COUNTERS_MAX 32

struct jb_counters {
        size_t n;
        struct jb_counter c[JB_COUNTERS_MAX];
};

/* Append one (dropped silently past JB_COUNTERS_MAX: a programming error the unit tests see). */
void jb_counters_add(struct jb_counters *l, const char *name, enum jb_metric_kind kind, int64_t value,
                     const char *help);
/* JB_OK with *value, or JB_ENOTFOUND when the list has no counter of that name. */
int jb_counters_get(const struct jb_counters *l, const char *name, int64_t *value);

struct jb_stage;

/* What a kind of stage does: one static const table per kind (scanner.c, parser.c, ...). */
struct jb_stage_ops {
        /* Start the stage's threads. 0 or a jb_err with errstr. */
        int (*start)(struct jb_stage *st, char *errstr, size_t errsz);
        /* Stop taking work and join; work in flight gets grace_ms. upstream_done: every
         * stage that feeds this one runs in this process and has stopped, so what is queued
         * for this stage is all there will be (the syncer drains it first). Safe when the
         * stage never started, and twice. */
        void (*stop)(struct jb_stage *st, int grace_ms, int upstream_done);
        /* Optional (NULL): after every stage of the pipeline stopped, record what completed
         * (the scanner's state). 0 or a jb_err with errstr (a full sentence). */
        int (*finish)(struct jb_stage *st, char *errstr, size_t errsz);
        /* Optional: after the transport was shut down, wait for threads blocked on it. */
        void (*join)(struct jb_stage *st);
        /* Non-zero once the stage stopped on a fatal error (said in the log). */
        int (*failed)(struct jb_stage *st);
        /* Optional: do the periodic work now (SIGUSR1: the scanner scans). */
        void (*kick)(struct jb_stage *st);
        /* Optional: the current counters, appended to *out. */
        void (*counters)(struct jb_stage *st, struct jb_counters *out);
        /* Release everything, st included. Stops first if needed. */
        void (*free)(struct jb_stage *st);
        /* Freed after the transport (q_free() reports unfinished messages to it). */
        int free_after_transport;
};

/* One stage: a module's own struct starts with this. */
struct jb_stage {
        const char *name;               /* "scan", "parse", "sync", ...: the prefix of its counters */
        const struct jb_stage_ops *ops; /* static */
};

#endif
