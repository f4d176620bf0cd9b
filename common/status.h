/*
 * status.h - what this process knows about its own work (the status model of
 * docs/STATUS.md, schema STATUS_SCHEMA_VERSION): providers, sources, managed buckets,
 * backlog and recent problems, recorded by the stages and turned into this instance's
 * "instance_status" document for the report, `jibe status` and the other instances.
 *
 * Owns: one process-wide recorder, always on (the report needs it whether or not metrics
 * are), behind one mutex. Call sites record per log file, per scan, per batch or per
 * resync, never per CloudTrail record. Bounded: at most STATUS_PROVIDERS_MAX providers,
 * STATUS_SOURCES_MAX sources, STATUS_BUCKETS_MAX buckets and STATUS_PROBLEMS_MAX problems;
 * what goes past them is dropped and counted.
 * Does not: publish or merge (status_pub.h, report.h), decide verdicts (report.h).
 * Threads: every function is safe from any thread; strings passed are copied.
 *
 * The recording calls (status_file_found(), status_file_done(), status_resync(), ...) are
 * declared below with the model; this block is the part the publisher relies on.
 */
#ifndef STATUS_H
#define STATUS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "jb.h"

#define STATUS_SCHEMA_VERSION 1
#define STATUS_SLOT_S 900     /* one slot of the time series: 15 minutes */
#define STATUS_SLOTS 96       /* the series' length: 24 h */
#define STATUS_WINDOW_SLOTS 4 /* window figures: the newest four slots (the last hour) */

/* Who this process is. Strings copied. */
struct status_ident {
        const char *instance; /* status.instance (resolved: never NULL) */
        const char *role;     /* "run", "scan", "parse", "sync" */
        const char *version;  /* jibe's version line */
        long publish_s;       /* status.publish_s */
        long late_after_s;    /* status.late_after_min in seconds */
};

/* Start (or restart, for tests) the recorder: forgets everything, notes the start time. */
void status_init(const struct status_ident *id);
/* Forget everything (tests). */
void status_reset(void);

/* This instance's document at now_ms (docs/STATUS.md, "instance_status"), appended to out.
 * JB_OK, JB_ENOMEM. */
int status_snapshot(int64_t now_ms, struct buf *out) JB_MUST_CHECK;

/* At start, with this instance's previously published document (found in the status folder
 * or topic): carry over what must survive a restart (each source's newest log file, the
 * providers' last full sync) where nothing newer was recorded yet. A document of another
 * instance, another version or unreadable is ignored (JB_EINPUT with a reason). */
int status_seed(const void *doc, size_t n, char *errstr, size_t errsz);

/* The transport's backlog now: queued files and events; lag: Kafka messages behind (-1 none). */
void status_backlog(int64_t files, int64_t events, int64_t lag);

#endif
