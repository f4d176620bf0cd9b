/*
 * alert.h - Slack alerts: problems keyed (provider, source, kind), said once when they start,
 * repeated with a count at most every repeat interval, and once when they clear.
 *
 * Two parts:
 *  - the alert table (struct alert_table): the pure dedup/repeat/clear state machine, with
 *    the clock passed in (unit-tested in tests/unit/test_alert.c); it emits message texts
 *    through a callback and does no I/O;
 *  - the alerter (alert_start ... alert_stop): one process-wide table, a bounded queue of
 *    posts and one thread that sends them to a Slack incoming webhook (JSON {"text": ...})
 *    with libcurl, TLS verified, 429 (Retry-After) and 5xx retried with backoff.
 * alert_raise(), alert_event() and alert_clear() are what stages call: they never block on
 * the network (a short mutex around the table and the queue only), are no-ops until
 * alert_start() ran with a webhook, and a full queue drops the post (counted, logged once).
 * Texts are scrubbed of registered secrets (log_scrub()) before they are queued.
 *
 * Ownership: every string passed in is copied. Threads: all calls are thread-safe;
 * alert_start() and alert_stop() are called by the command layer's main thread only.
 */
#ifndef ALERT_H
#define ALERT_H

#include <stddef.h>
#include <stdint.h>

#include "jb.h"

#define ALERT_QUEUE_MAX 64              /* posts waiting for the sender thread */
#define ALERT_KEYS_MAX 256              /* problems tracked at once; more are not alerted (counted) */
#define ALERT_TEXT_MAX 1024             /* one message, cut beyond */
#define ALERT_TRIES 5                   /* attempts of one post (429, 5xx, network) */
#define ALERT_RETRY_AFTER_MAX_MS 300000 /* a longer Retry-After is read as this */
#define ALERT_BACKOFF_BASE_MS 1000
#define ALERT_BACKOFF_MAX_MS 30000
#define ALERT_CONNECT_TIMEOUT_MS 5000
#define ALERT_TIMEOUT_MS_DEFAULT 10000
#define ALERT_STOP_GRACE_MS 3000 /* alert_stop(): posts still queued after this are given up */

enum alert_level { ALERT_WARN = 0, ALERT_ERROR = 1 };

/* What a problem is about: NULL or "" where it is not specific to one provider or source.
 * kind is a short word ("aa_outage", "quarantine", "dead_letter", "stage_failed"). */
struct alert_key {
        const char *provider, *source, *kind;
};

/* ---- the table (pure) ---- */

struct alert_table;
typedef void (*alert_emit_fn)(void *arg, enum alert_level level, const char *text);

/* repeat_ms: least time between two messages of one key; after_ms: how long a lasting
 * problem (alert_table_raise) must last before its first message (0: at once). NULL on out
 * of memory. */
struct alert_table *alert_table_new(int64_t repeat_ms, int64_t after_ms);
void alert_table_free(struct alert_table *t);
/*
 * A lasting problem is present now (it clears with alert_table_clear()). The first raise of
 * a key starts it; it is said once it has lasted after_ms, later raises are counted and said
 * ("N more times") at most every repeat_ms. Returns how many texts were emitted.
 */
int alert_table_raise(struct alert_table *t, const struct alert_key *k, enum alert_level level,
                      const char *text, int64_t now_ms, alert_emit_fn emit, void *arg);
/* A one-off problem (a quarantined file, a dead letter): said at once, further ones of the
 * same key counted and said at most every repeat_ms; a key not seen for repeat_ms is
 * forgotten (its pending count said first), so the next one is said again. */
int alert_table_event(struct alert_table *t, const struct alert_key *k, enum alert_level level,
                      const char *text, int64_t now_ms, alert_emit_fn emit, void *arg);
/* The lasting problem k is over: "resolved" when it had been said, nothing otherwise. */
int alert_table_clear(struct alert_table *t, const struct alert_key *k, int64_t now_ms,
                      alert_emit_fn emit, void *arg);
/* Time passes: counted repeats that are due are said, idle one-off keys forgotten, lasting
 * problems that have lasted after_ms said. */
int alert_table_tick(struct alert_table *t, int64_t now_ms, alert_emit_fn emit, void *arg);
/* Keys tracked now; raises refused because ALERT_KEYS_MAX keys were tracked. */
size_t alert_table_active(const struct alert_table *t);
uint64_t alert_table_refused(const struct alert_table *t);

/* ---- the alerter (process-wide) ---- */

struct alert_opts {
        const char *webhook;    /* https:// Slack incoming webhook (a secret); NULL: alerts off */
        const char *ca_file;    /* PEM authorities; NULL: the system's */
        enum alert_level level; /* least level sent */
        int64_t repeat_ms;      /* see alert_table_new() */
        int64_t after_ms;
        long timeout_ms;      /* one HTTP attempt */
        const char *instance; /* said in every message ("jibe on HOST"); NULL: the host name */
};

struct alert_stats {
        uint64_t sent;    /* posts Slack accepted */
        uint64_t retried; /* attempts retried (429, 5xx, network) */
        uint64_t failed;  /* posts given up after their attempts, or refused (4xx) */
        uint64_t dropped; /* posts not queued (queue full) or left queued at stop */
};

/* Start the sender thread (o is copied). o->webhook NULL: alerts stay off, JB_OK. */
int alert_start(const struct alert_opts *o, char *errstr, size_t errsz) JB_MUST_CHECK;
/* Send what is queued for up to grace_ms, give up the rest (counted and logged), join. */
void alert_stop(long grace_ms);
/* printf-style texts; see alert_table_raise/event/clear. Never block on the network. */
void alert_raise(const struct alert_key *k, enum alert_level level, const char *fmt, ...)
        JB_PRINTF(3, 4);
void alert_event(const struct alert_key *k, enum alert_level level, const char *fmt, ...)
        JB_PRINTF(3, 4);
void alert_clear(const struct alert_key *k);
void alert_stats_get(struct alert_stats *out);

/*
 * One post now, on the caller's thread, with the same retries (for `jibe alert --test`).
 * JB_OK when Slack accepted it; else an error with the reason in errstr (never the URL).
 */
int alert_send_now(const struct alert_opts *o, const char *text, char *errstr,
                   size_t errsz) JB_MUST_CHECK;

#endif
