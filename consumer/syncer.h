/*
 * syncer.h - the syncer stage: batches and deduplicates object events and makes Access
 * Anywhere resync them.
 *
 * Polls Q_EVENTS (struct msg_objevent). Events are gathered for a dedup window (window_ms
 * after the first event of a batch, or batch_max events), deduplicated by (provider, bucket,
 * key) with the last op winning and a bucket op subsuming the bucket's object ops
 * (batch.c), then resynced by `concurrency` worker threads, each with its own aa_client, by
 * one of two methods (option syncer.method):
 * - event: aa_sync() (syncOnProviderEvent; its fields are not public) once per item;
 * - refresh: the batch's items are grouped per (provider, bucket, folder of the key); one
 *   cloud refresh of that folder (refresher.h: the new folders above it too) resyncs every
 *   item of the group; a bucket item refreshes every folder of the bucket, paced at
 *   bucket_refresh_per_s, with INFO progress lines;
 * - auto (default): event until the server answers unknown_function, then refresh for the
 *   life of the process (one WARN line; the unit that met it is redone by refresh). In
 *   method event, unknown_function stops the stage (ERROR) without acknowledging.
 * A message is acknowledged only once the resync covering it succeeded (for refresh: the
 * refresh completed). Retries with exponential backoff and jitter (never sooner than the
 * server's Retry-After). A transient failure (network, timeouts, 429, 5xx, error_background,
 * an answer that is not the API's JSON) is retried for as long as it takes: nothing is
 * acknowledged meanwhile, so the transport holds the earlier stages back; a WARN after 30 s
 * and every 5 min gives the outage's length and the backlog, an INFO its end. Only answers
 * that look permanent count against max_attempts: after max_attempts of them (or at once for
 * errors that cannot heal, e.g. an unknown provider) the event becomes a dead letter (Q_DEAD)
 * with the reason and attempts, an error is logged, and the message is acknowledged. A stop
 * during an outage gives the remaining events back at once (offered again after a restart).
 */
#ifndef SYNCER_H
#define SYNCER_H

#include <stdint.h>

#include "aa.h"
#include "q.h"
#include "stage.h"

/* The syncer's options (configuration section syncer). syncer_opts_init() sets the
 * configuration's defaults. */
struct syncer_opts {
        long window_ms;            /* dedup window, default 2000 */
        long batch_max;            /* events per batch, default 500 */
        long concurrency;          /* worker threads (resyncs at once), default 4 */
        long max_attempts;         /* permanent-looking failures before a dead letter, default 8 */
        long backoff_base_ms;      /* default 500 */
        long backoff_max_ms;       /* default 60000 */
        const char *method;        /* "auto" (default, also NULL), "event" or "refresh" */
        long bucket_refresh_per_s; /* refresh method: folders/s of a bucket resync, default 20 */
};

void syncer_opts_init(struct syncer_opts *o);

struct syncer_stats {
        uint64_t events;           /* messages consumed */
        uint64_t deduped;          /* events folded into another in their window */
        uint64_t syncs_ok;         /* units resynced (an item by aa_sync, a folder or a bucket by
                                  cloud refresh) */
        uint64_t syncs_bucket;     /* of which whole-bucket resyncs */
        uint64_t refreshes;        /* folder refreshes done (refresh method) */
        uint64_t bucket_refreshes; /* whole-bucket resyncs done by folder refresh */
        uint64_t covered;          /* refresh method: units whose log files were listed before a
                                  whole-bucket refresh of their bucket began that completed
                                  since: acked, no call */
        int method_switched;       /* 1: auto switched to refresh (unknown_function) */
        uint64_t retries;
        uint64_t transient;        /* failed attempts that were passing (retried without limit) */
        uint64_t outages;          /* outages of resyncs long enough for a WARN */
        int64_t outage_ms;         /* length of the current outage so far, 0 while resyncs work */
        int64_t longest_outage_ms; /* the longest that ended (a resync succeeded after it) */
        uint64_t held;             /* events of the batch in flight not yet done (acked or given
                                  up): held back by the resync of their batch */
        uint64_t dead;             /* events dead-lettered */
        uint64_t poison;           /* undecodable messages dead-lettered */
        uint64_t batches;
        int64_t last_latency_ms; /* listed_ms -> synced, of the last event */
};

struct syncer;

/* opts is copied (method is read at start only); aa is borrowed and must outlive the
 * syncer. An unknown method is JB_EFATAL. Starts its threads. */
int syncer_start(const struct syncer_opts *opts, const struct aa_opts *aa, struct q *q,
                 struct syncer **out, char *errstr, size_t errsz) JB_MUST_CHECK;
/* Stop: when drain is set, first consume and resync everything already queued on Q_EVENTS
 * (up to grace_ms); the batch in flight is finished or, past grace_ms, abandoned. Joins. */
void syncer_stop(struct syncer *s, int drain, int grace_ms);
int syncer_failed(const struct syncer *s);
void syncer_get_stats(struct syncer *s, struct syncer_stats *out);
/* When an outage of resyncs is reported: first after first_ms (default 30 s), then every
 * every_ms (default 5 min). For tests; call right after syncer_start(). */
void syncer_outage_warn_ms(struct syncer *s, long first_ms, long every_ms);
/* Latency (listed_ms -> synced) percentiles over every event synced so far, from a
 * log-scale histogram (about 1 % resolution). JB_ENOTFOUND while there is no sample. */
int syncer_latency_percentiles(struct syncer *s, double *p50_ms, double *p99_ms) JB_MUST_CHECK;
void syncer_free(struct syncer *s);

/* The syncer as a stage (stage.h), "sync", not started: start is syncer_start(), stop
 * syncer_stop() draining when its upstream stopped in this process (jibe run). opts is
 * copied, the rest borrowed as by syncer_start(). NULL on out of memory. */
struct jb_stage *syncer_stage(const struct syncer_opts *opts, const struct aa_opts *aa, struct q *q);

#endif
