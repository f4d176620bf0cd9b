/*
 * scanner.h - the scanner stage: finds new CloudTrail log files through Access Anywhere
 * folder listings and publishes them (Q_FILES, struct msg_logfile).
 *
 * What it lists: the log roots (an AWSLogs folder at the top of a source bucket, or below a
 * configured prefix), their accounts (also inside organization folders o-...) and regions
 * (CloudTrail/<region>) every `scan_parents_every` scans, and at every scan only the date
 * folders inside the lookback window, each with cloud refresh. A date folder whose item
 * count equals what the scanner already knows costs one call, however many files it holds.
 * Digest, Insight and other services' folders are never entered as log folders; after each
 * scan that succeeded, the digest pass (digests.h) reads the regions' CloudTrail-Digest
 * folders and fetches by path the files a digest lists that no listing showed.
 * What it remembers: per date folder, the names of the files whose every event was synced
 * (the transport reports a published file complete), in a scan_store (the state directory
 * for `jibe run`, the status topic for `jibe scan`); folders older than the lookback are
 * forgotten. Files published but not
 * yet complete are kept in memory, so a slow pipeline never gets a file twice; after a crash
 * they are published again.
 */
#ifndef SCANNER_H
#define SCANNER_H

#include <stdint.h>

#include "aa.h"
#include "filehash.h"
#include "q.h"
#include "scan_store.h"
#include "stage.h"

/* A source bucket whose CloudTrail log root is below a prefix (AWSLogs/ lies below it). */
struct scanner_prefix {
        const char *bucket;
        const char *prefix; /* e.g. "trails/org" */
};

/* The scanner's options (configuration section scanner). scanner_opts_init() sets the
 * configuration's defaults. The arrays are borrowed. */
struct scanner_opts {
        long interval_s;          /* between scans, default 180 */
        long lookback_h;          /* date folders scanned and remembered, default 48 */
        long parents_every;       /* list account/region parents every N scans, default 10 */
        long refresh_concurrency; /* cloud refreshes at once, default 8 */
        char *const *sources;     /* provider names or ids; none: every managed bucket */
        size_t n_sources;
        const struct scanner_prefix *prefixes;
        size_t n_prefixes;
        /* CloudTrail digests (docs/DIGESTS.md), configuration section digest: */
        int digests;               /* read and reconcile digests where they exist, default 1 */
        long digest_grace_s;       /* after a digest's end before its files must be done, 1800 */
        uint64_t digest_max_bytes; /* decompressed ceiling of one digest, CT_DIGEST_MAX_DEFAULT */
        struct filehash *hashes;   /* what the parser read (borrowed); NULL: nothing verified */
};

void scanner_opts_init(struct scanner_opts *o);

struct scanner_stats {
        uint64_t scans; /* completed scan cycles */
        uint64_t files_published;
        uint64_t files_done;     /* completed downstream and recorded */
        uint64_t folders;        /* date folders known */
        uint64_t regions;        /* account/region folders known */
        uint64_t api_calls_last; /* Access Anywhere calls spent by the last scan */
        uint64_t errors;         /* scans that hit an error (retried next interval) */
        int64_t last_scan_ms;    /* duration of the last scan */
};

struct scanner;

/* Loads what the store remembers (a damaged state file is an error naming it), then starts
 * the scanning thread; the first scan begins at once. opts is copied; its arrays, aa, q and
 * store are borrowed. */
int scanner_start(const struct scanner_opts *opts, const struct aa_opts *aa, struct q *q,
                  struct scan_store *store, struct scanner **out, char *errstr,
                  size_t errsz) JB_MUST_CHECK;
/* Ask for a scan now (e.g. on SIGUSR1). */
void scanner_kick(struct scanner *s);
/* Stop scanning (the current listing is cut short) and join the thread. Safe twice. */
void scanner_stop(struct scanner *s);
/* Write what completed since the last write. Called by the thread every second and by the
 * owner after the downstream stages stopped. */
int scanner_flush(struct scanner *s, char *errstr, size_t errsz);
int scanner_failed(const struct scanner *s);
void scanner_get_stats(struct scanner *s, struct scanner_stats *out);
void scanner_free(struct scanner *s); /* stops and flushes first */

/* The scanner as a stage (stage.h), "scan", not started: start is scanner_start(), finish
 * scanner_flush(), kick scanner_kick(); freed after the transport. opts is copied, the rest
 * borrowed as by scanner_start(). NULL on out of memory. */
struct jb_stage *scanner_stage(const struct scanner_opts *opts, const struct aa_opts *aa, struct q *q,
                               struct scan_store *store);

#endif
