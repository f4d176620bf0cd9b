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

/* ---- bounds ---- */
#define STATUS_PROVIDERS_MAX 64
#define STATUS_SOURCES_MAX 128
#define STATUS_BUCKETS_MAX 256
#define STATUS_PROBLEMS_MAX 32
#define STATUS_PROVIDER_BUCKETS_MAX 64 /* buckets listed per provider */
#define STATUS_TEXT_MAX 512            /* a problem's or error's text, cut beyond */
#define STATUS_CLASSES 10              /* ct_class_names, in that order (CT_NCLASS) */
#define STATUS_LAT_BOUNDS 15           /* latency_window.le_s, the last one +Inf */

/* ---- recording (docs/STATUS.md names the fields each call feeds) ----
 * The clock of these calls is the wall clock (status_clock_set() replaces it in tests).
 * An entry past its table's bound is not created: the call is dropped and counted
 * (status_dropped()). NULL strings read as "". */

/* A provider this instance knows: name and buckets replace what was recorded (buckets may be
 * NULL with n 0: kept); owned true once makes it owned (this instance scans its log buckets). */
void status_provider(const char *id, const char *name, const char *const *buckets, size_t n, int owned);
/* The provider's last full sync, kept when newer (by end_ms) than the one recorded. */
struct status_sync {
        int64_t start_ms, end_ms, files; /* files -1: unknown */
        const char *from;                /* in words, e.g. "task 4711 (ReSync)" */
};
void status_last_sync(const char *provider, const struct status_sync *s);
/* A log bucket this instance scans (scanned true) or reads files of. */
void status_source(const char *provider, const char *bucket, int scanned);
/* One scan of a source: ok, or failed with error (text for an administrator). */
void status_scan(const char *provider, const char *bucket, int ok, const char *error);
/* The scanner listed a new log file first at visible_ms: found, and the source's newest
 * when it is the latest visible (ties: the greater path). */
void status_file_found(const char *provider, const char *bucket, const char *path, int64_t visible_ms);

/* A source's CloudTrail digest coverage as the scanner last reconciled it (docs/DIGESTS.md),
 * replacing the previous figures; kept and published as the source's "digests" object
 * (docs/STATUS.md). available 0: no CloudTrail-Digest folder under any account of the source
 * (log file validation off): a fact, not a problem. */
struct status_digest {
        int available;
        uint64_t chains;     /* trails x accounts x regions with digests */
        uint64_t digests;    /* digest files read (backfill ones too) */
        uint64_t backfill;   /* of them, "_backfill" digests */
        int64_t covered_s;   /* seconds in the union of their periods */
        uint64_t listed;     /* log files the digests list in the source's bucket(s) */
        uint64_t done;       /* of them, processed (ok + unverified + tampered) */
        uint64_t recovered;  /* of done, fetched by path because a digest listed them */
        uint64_t missing;    /* listed, and not found through the API */
        uint64_t tampered;   /* read twice, SHA-256 differs from the digest's both times */
        uint64_t unverified; /* processed, but no hash was kept for them */
        uint64_t gaps;       /* digests pointed at but never found */
        uint64_t pending;    /* listed in digests not yet past their grace, or being fetched */
        int64_t last_end_ms; /* newest digestEndTime, -1 none */
};
void status_digest(const char *provider, const char *bucket, const struct status_digest *d);

/* One log file read by the parser (processed or quarantined), with what it held. */
struct status_file {
        const char *provider, *bucket, *path;
        int quarantined;
        int64_t event_ms;   /* newest eventTime of the file, -1 none */
        int64_t visible_ms; /* when the scanner listed it, -1 unknown */
        uint64_t classes[STATUS_CLASSES];
        uint64_t log_bucket_records; /* S3 data records on the log file's own bucket */
};
void status_file_done(const struct status_file *f);

/* Events the parser produced for a managed bucket, accumulated per log file by the caller. */
enum status_ev {
        STATUS_EV_SELF,
        STATUS_EV_COVERED,
        STATUS_EV_PUT,
        STATUS_EV_DELETE,
        STATUS_EV_BUCKET,
        STATUS_EV_N
};
void status_events(const char *provider, const char *bucket, const uint64_t n[STATUS_EV_N]);

enum status_method { STATUS_RESYNC_EVENT, STATUS_RESYNC_REFRESH };
/* One resync of a managed bucket; latency_ms: file visible -> done, -1 unknown; error when
 * it failed (may be NULL). */
void status_resync(const char *provider, const char *bucket, enum status_method method, int ok,
                   int64_t latency_ms, const char *error);
/* n events of the bucket were dead-lettered. */
void status_dead(const char *provider, const char *bucket, uint64_t n);

/* A problem, keyed (provider, source, kind, module): counted, its text and last_ms updated,
 * active again. module: the logging module for kind "log", else NULL. */
enum status_level { STATUS_WARN, STATUS_ERROR };
void status_problem(enum status_level level, const char *provider, const char *source, const char *kind,
                    const char *module, const char *text);
/* The same for a one-off problem (a quarantined file, a dead letter, a WARN or ERROR log
 * line): counted like the others, never active. */
void status_problem_once(enum status_level level, const char *provider, const char *source,
                         const char *kind, const char *module, const char *text);
/* The lasting problem is over (kept in the list, inactive). */
void status_problem_clear(const char *provider, const char *source, const char *kind,
                          const char *module);

/* Calls dropped because a table was full, since status_init(). */
uint64_t status_dropped(void);
/* Tests: the recording calls' clock (NULL: the wall clock). */
void status_clock_set(int64_t (*now_ms)(void));

#endif
