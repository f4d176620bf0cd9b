/*
 * syncer.c - the syncer stage (syncer.h): Q_EVENTS -> dedup window (batch.c) -> units ->
 * aa_sync() (event method) or a cloud refresh of the unit's folder or bucket (refresher.c).
 *
 * Threads: one poller gathers a batch (until sync_window_ms after its first event or
 * sync_batch_max events), turns its items into units (one per item, or in refresh mode one
 * per folder), hands them to sync_concurrency workers and waits until every unit is done
 * before it gathers the next one (one batch in flight). Each worker owns an aa_client
 * (max_retries 1: one quick retry of a failed call inside the client, whose sleeps obey a
 * stop, so that a whole-bucket walk of many calls survives scattered failures; every further
 * retry, its backoff with jitter and the server's Retry-After are done here, between
 * attempts, where a stop cuts them short) and a refresher over it. One mutex and one condition variable
 * (on the monotonic clock) guard the shared state: the batch in flight, the flags, the
 * statistics; the method switch of auto is an atomic flag (refresh_on) read without it.
 * After the switch, the rest of the batch in flight is refreshed unit by unit (one item
 * each); later batches are grouped per folder.
 * Message fate: every polled message is acknowledged exactly once (resynced, or written as a
 * dead letter first), or abandoned (credentials refused, stop past its grace, a stop during
 * an outage, a dead letter that could not be written): an abandoned one is offered again
 * after a restart.
 * Failures: a transient one (JB_ETRANSIENT: network, timeouts, 429, 5xx, error_background,
 * answers that are not the API's JSON; JB_ELIMIT: an answer over its ceiling) is retried for as long as it takes, and the batch in
 * flight with it, so nothing upstream is acknowledged and the transport's bounded queues
 * hold the parser and the scanner back; an outage (no resync succeeded since the first
 * transient failure) is reported by a WARN after OUTAGE_WARN_FIRST_MS and every
 * OUTAGE_WARN_EVERY_MS, and by an INFO once a resync succeeds again. Only answers that look
 * permanent count against max_attempts.
 * Ownership: the poller owns the per-message records (struct smsg) of the batch and frees
 * them once the batch is done; workers only read them and ack/abandon their q_msg.
 * Logging: only here, with provider/bucket/key and the reason; never a secret (aa.c keeps
 * them out of its error strings).
 */
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert.h"
#include "backoff.h"
#include "batch.h"
#include "buf.h"
#include "dead_pub.h"
#include "log.h"
#include "metrics.h"
#include "sig.h"
#include "msg.h"
#include "refresher.h"
#include "sset.h"
#include "status.h"
#include "syncer.h"

#define POLL_SLICE_MS 200    /* longest q_poll wait, so a stop is seen quickly */
#define COVER_MARGIN_MS 5000 /* clock skew allowed between the scanner's host and ours */
#define HIST_N 1024          /* latency histogram: bucket i >= 1 holds [R^(i-1), R^i) ms */
#define HIST_RATIO 1.02
#define OUTAGE_WARN_FIRST_MS 30000  /* first WARN of an outage of resyncs ... */
#define OUTAGE_WARN_EVERY_MS 300000 /* ... then one every 5 min while it lasts (defaults) */

/* One consumed, decoded message of the batch being gathered or synced. */
struct smsg {
        struct q_msg *m;
        struct msg_objevent ev;
};

enum method { M_AUTO, M_EVENT, M_REFRESH };

/* What one worker resyncs at once: one batch item (event method), or every item of one
 * folder of a bucket, or one whole-bucket item (refresh method). */
struct unit {
        const struct batch_item **items; /* into struct ubatch.uitems */
        size_t nitems;
        const char *provider, *bucket; /* of every item */
        char *dir;                     /* the folder that holds the item keys; NULL for a whole bucket */
        int deleted;                   /* some item is a delete */
};

struct worker {
        struct syncer *s;
        struct aa_client *aa;
        struct refresher *rf;
        pthread_t th;
        int started;
};

struct syncer {
        struct q *q;
        long window_ms, batch_max, max_attempts, base_ms, max_ms;
        long bucket_refresh_per_s;
        enum method method;
        atomic_int refresh_on;        /* method refresh, or auto after unknown_function */
        struct sset bucket_refreshed; /* "provider/bucket" -> start (epoch ms, as a pointer-
                                       * sized integer) of its last completed whole-bucket
                                       * refresh; under mu */
        struct sset bucket_running;   /* the same for the one running now, if any */
        size_t nworkers;
        struct worker *w;
        struct batch *batch;
        struct smsg **pend; /* poller only: records of the current batch */
        size_t npend, cappend;

        pthread_mutex_t mu;
        pthread_cond_t cv;
        pthread_t poller;
        int poller_started, poller_done;
        struct unit *units; /* the batch in flight */
        size_t nunits, next, ndone;
        int stop, drain, abort, quit, stopped;
        atomic_int failed;
        size_t batch_left;     /* events of the batch in flight not yet acked or given back */
        int64_t out_t0;        /* outage: monotonic ms of the first transient failure since the
                                last resync that succeeded; 0 while resyncs work */
        int64_t out_warned_at; /* when its last WARN was raised */
        long warn_first_ms, warn_every_ms;
        int out_warned, out_stop_logged;
        struct syncer_stats st;
        uint64_t hist[HIST_N];
        uint64_t nhist;
};

/* Wait on s->cv (mutex held) until the monotonic time at_ms, or a broadcast. */
static void wait_until(struct syncer *s, int64_t at_ms)
{
        struct timespec ts;

        ts.tv_sec = (time_t)(at_ms / 1000);
        ts.tv_nsec = (long)(at_ms % 1000) * 1000000L;
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
}

static void smsg_free(struct smsg *sm)
{
        if (!sm)
                return;
        msg_objevent_clear(&sm->ev);
        free(sm);
}

static int aborted(struct syncer *s)
{
        int a;

        pthread_mutex_lock(&s->mu);
        a = s->abort;
        pthread_mutex_unlock(&s->mu);
        return a;
}

/* Stop the stage for good: the remaining messages are abandoned. */
static void set_failed(struct syncer *s)
{
        pthread_mutex_lock(&s->mu);
        atomic_store(&s->failed, 1);
        s->abort = 1;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
}

/* Write the dead letter of message m (not yet acknowledged; dead_pub.h: its size policy). */
static int dead_letter(struct syncer *s, struct q_msg *m, const char *src, int64_t rec,
                       const char *reason, long attempts, char *errstr, size_t errsz)
{
        struct msg_dead d;
        struct buf b;
        int rc;

        memset(&d, 0, sizeof(d));
        d.stage = (char *)"sync";
        d.src = (char *)src;
        d.rec = rec;
        d.error = (char *)reason;
        d.attempts = attempts;
        d.payload = (char *)m->payload;
        d.payload_len = m->len;
        d.at_ms = msg_now_ms();
        buf_init(&b, DEAD_PUB_ENC_MAX);
        rc = dead_pub(s->q, &d, m->key, m->keylen, m, &b, errstr, errsz);
        buf_clear(&b);
        return rc;
}

/* ---------------------------------------------------------------- workers */

static size_t unit_nmsgs(const struct unit *u)
{
        size_t j, n = 0;

        for (j = 0; j < u->nitems; j++)
                n += u->items[j]->nmsgs;
        return n;
}

/* n events of the batch in flight are done with (mu held). */
static void batch_left_sub(struct syncer *s, size_t n)
{
        s->batch_left = s->batch_left > n ? s->batch_left - n : 0;
}

static void unit_abandon(struct syncer *s, const struct unit *u)
{
        size_t i, j;

        pthread_mutex_lock(&s->mu);
        batch_left_sub(s, unit_nmsgs(u));
        pthread_mutex_unlock(&s->mu);
        for (j = 0; j < u->nitems; j++)
                for (i = 0; i < u->items[j]->nmsgs; i++)
                        q_abandon(s->q, ((struct smsg *)u->items[j]->msgs[i])->m);
}

/* ---------------------------------------------------------------- outages */

/* The events held back: *held of the batch in flight, *queued on Q_EVENTS, *files log
 * files on Q_FILES (the embedded transport; 0 elsewhere). Takes mu. */
static void backlog(struct syncer *s, size_t *held, size_t *queued, size_t *files)
{
        *queued = q_depth(s->q, Q_EVENTS);
        *files = q_depth(s->q, Q_FILES);
        pthread_mutex_lock(&s->mu);
        *held = s->batch_left;
        pthread_mutex_unlock(&s->mu);
}

/* A resync failed for a passing reason (err): the outage begins or goes on; WARN when due. */
static void outage_fail(struct syncer *s, const char *err)
{
        int64_t now = jb_mono_ms(), len;
        size_t held, queued, files;
        char more[80] = "";
        int warn = 0;

        pthread_mutex_lock(&s->mu);
        s->st.transient++;
        if (!s->out_t0) {
                s->out_t0 = now;
                s->out_warned = 0;
        }
        if (now >=
            (s->out_warned ? s->out_warned_at + s->warn_every_ms : s->out_t0 + s->warn_first_ms)) {
                warn = 1;
                if (!s->out_warned)
                        s->st.outages++;
                s->out_warned = 1;
                s->out_warned_at = now;
        }
        len = now - s->out_t0;
        pthread_mutex_unlock(&s->mu);
        alert_raise(&(struct alert_key){NULL, NULL, "aa_outage"}, ALERT_ERROR,
                    "Access Anywhere does not answer as it should: no resync has succeeded for %lld s "
                    "(last: %s); jibe keeps trying and loses nothing; check the Access Anywhere server",
                    (long long)(len / 1000), err);
        if (!warn)
                return;
        backlog(s, &held, &queued, &files);
        if (files)
                snprintf(more, sizeof(more), ", %zu log file(s) queued behind them", files);
        log_msg(LL_WARN, "syncer",
                "no resync has succeeded for %lld s: Access Anywhere does not answer as it should "
                "(last: %s); jibe tries again at least once every %ld s and loses nothing: %zu "
                "event(s) wait (%zu in hand, %zu queued)%s; check the Access Anywhere server",
                (long long)(len / 1000), err, (s->max_ms + 999) / 1000, held + queued, held, queued,
                more);
}

/* A resync succeeded (mu held): the outage, if any, is over. Returns its length in ms when it
 * was reported by a WARN (then an INFO is due), else 0. */
static int64_t outage_heal_locked(struct syncer *s)
{
        int64_t len;

        if (!s->out_t0)
                return 0;
        alert_clear(&(struct alert_key){NULL, NULL, "aa_outage"});
        len = jb_mono_ms() - s->out_t0;
        if (len > s->st.longest_outage_ms)
                s->st.longest_outage_ms = len;
        s->out_t0 = 0;
        return s->out_warned ? (len > 0 ? len : 1) : 0;
}

/* A stop came during an outage: units are given back without a try (one INFO line). */
static int outage_stop(struct syncer *s)
{
        size_t held, queued, files;
        int give_up, tell;

        pthread_mutex_lock(&s->mu);
        give_up = s->stop && s->out_t0;
        tell = give_up && !s->out_stop_logged;
        if (tell)
                s->out_stop_logged = 1;
        pthread_mutex_unlock(&s->mu);
        if (tell) {
                backlog(s, &held, &queued, &files);
                log_msg(LL_INFO, "syncer",
                        "stopping during an outage of Access Anywhere: %zu event(s) are not "
                        "resynced now and are offered again at the next start",
                        held + queued);
        }
        return give_up;
}

static size_t hist_index(int64_t lat)
{
        double i;

        if (lat < 1)
                return 0;
        i = 1.0 + floor(log((double)lat) / log(HIST_RATIO));
        return i >= HIST_N - 1 ? HIST_N - 1 : (size_t)i;
}

/*
 * The audit line of a resync that succeeded: one INFO line per unit, with stable field names
 * an operator can grep for ("did jibe resync this key, and when?"):
 *   resync provider=P bucket=B key=K|folder=F|folder=* op=put|delete|bucket|mixed
 *          method=event|refresh|covered result=ok attempts=N latency_ms=L events=E
 * latency_ms runs from the moment the oldest of the unit's log files was listed (visible to
 * jibe) to now; -1 when unknown. The dead-letter line of a failed resync (item_dead) carries
 * the same fields with result=dead.
 */
static void log_resync(const struct unit *u, const char *method, long attempts, int64_t lat)
{
        const struct batch_item *it = u->items[0];
        const char *op = msg_op_name(it->op);
        size_t j;

        for (j = 1; j < u->nitems; j++)
                if (u->items[j]->op != it->op)
                        op = "mixed";
        if (u->nitems == 1 && it->key)
                log_msg(LL_INFO, "syncer",
                        "resync provider=%s bucket=%s key=%s op=%s method=%s result=ok attempts=%ld "
                        "latency_ms=%lld events=%zu",
                        u->provider, u->bucket, it->key, op, method, attempts, (long long)lat,
                        unit_nmsgs(u));
        else
                log_msg(LL_INFO, "syncer",
                        "resync provider=%s bucket=%s folder=%s op=%s method=%s result=ok "
                        "attempts=%ld latency_ms=%lld events=%zu objects=%zu",
                        u->provider, u->bucket, u->dir ? (*u->dir ? u->dir : "/") : "*", op, method,
                        attempts, (long long)lat, unit_nmsgs(u), u->nitems);
}

/* One resync's outcome for metrics.h: by method and result; a done one also its latency
 * (ms from the first of its log files becoming visible, -1: unknown) and the newest event
 * time it applied (ISO-8601 or NULL). */
static void sync_metrics(int by_refresh, const char *result, int64_t latency_ms, const char *newest)
{
        int y, mo, d, h, mi, sec;
        const char *method = by_refresh ? "refresh" : "event";

        if (!metrics_enabled())
                return;
        metric_add(M_SYNC_RESYNCS, 1, method, result);
        if (latency_ms >= 0)
                metric_observe(M_SYNC_LATENCY, (double)latency_ms / 1000.0, method, NULL);
        if (newest && sscanf(newest, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &sec) == 6)
                metric_set(M_SYNC_NEWEST_APPLIED, (double)jb_utc_time(y, mo, d, h, mi, sec), NULL, NULL);
}

/* Unit u is resynced (method: "event", "refresh" or "covered", after attempts tries):
 * statistics, the audit line, then ack every message. */
static void unit_ok(struct syncer *s, const struct unit *u, const char *method, long attempts)
{
        int64_t now = msg_now_ms(), healed, worst = -1, first_listed = 0;
        int by_refresh = strcmp(method, "event") != 0;
        size_t i, j, waited, queued = q_depth(s->q, Q_EVENTS);
        const char *newest = NULL;

        pthread_mutex_lock(&s->mu);
        /* a unit covered by an earlier whole-bucket refresh asked nothing of the server: it
         * says nothing about an outage, which goes on until a call succeeds */
        healed = strcmp(method, "covered") ? outage_heal_locked(s) : 0;
        waited = s->batch_left + queued;
        batch_left_sub(s, unit_nmsgs(u));
        s->st.syncs_ok++;
        if (!u->dir) {
                s->st.syncs_bucket++;
                if (by_refresh)
                        s->st.bucket_refreshes++;
        }
        for (j = 0; j < u->nitems; j++) {
                for (i = 0; i < u->items[j]->nmsgs; i++) {
                        const struct smsg *sm = u->items[j]->msgs[i];
                        int64_t lat;

                        if (sm->ev.time && (!newest || strcmp(sm->ev.time, newest) > 0))
                                newest = sm->ev.time;
                        if (sm->ev.listed_ms <= 0)
                                continue;
                        if (!first_listed || sm->ev.listed_ms < first_listed)
                                first_listed = sm->ev.listed_ms;
                        lat = now - sm->ev.listed_ms;
                        if (lat < 0)
                                lat = 0;
                        s->st.last_latency_ms = lat;
                        s->hist[hist_index(lat)]++;
                        s->nhist++;
                        if (lat > worst)
                                worst = lat;
                }
        }
        pthread_mutex_unlock(&s->mu);
        status_resync(u->provider, u->bucket, by_refresh ? STATUS_RESYNC_REFRESH : STATUS_RESYNC_EVENT,
                      1, first_listed ? now - first_listed : -1, NULL);
        log_resync(u, method, attempts, worst);
        sync_metrics(by_refresh, "ok", first_listed ? now - first_listed : -1, newest);
        if (healed)
                log_msg(LL_INFO, "syncer",
                        "resyncs work again after an outage of %lld s; %zu event(s) waited",
                        (long long)((healed + 999) / 1000), waited);
        for (j = 0; j < u->nitems; j++)
                for (i = 0; i < u->items[j]->nmsgs; i++)
                        q_ack(s->q, ((struct smsg *)u->items[j]->msgs[i])->m);
}

static void item_dead(struct syncer *s, const struct batch_item *it, const char *method,
                      const char *reason, long attempts)
{
        char err[512];
        size_t i, nfail = 0;
        int *rcs = calloc(it->nmsgs ? it->nmsgs : 1, sizeof(*rcs));

        for (i = 0; i < it->nmsgs; i++) {
                const struct smsg *sm = it->msgs[i];
                int rc = rcs ? dead_letter(s, sm->m, sm->ev.src, sm->ev.rec, reason, attempts, err,
                                           sizeof(err))
                             : jb_seterr(JB_ENOMEM, err, sizeof(err), "out of memory");

                if (rcs)
                        rcs[i] = rc;
                if (rc)
                        nfail++;
        }
        log_msg(LL_ERROR, "syncer",
                "resync provider=%s bucket=%s %s%s op=%s method=%s result=dead attempts=%ld "
                "events=%zu: resync failed, the event(s) were moved to the dead letters: %s",
                it->provider, it->bucket, it->key ? "key=" : "folder=", it->key ? it->key : "*",
                msg_op_name(it->op), method, attempts, it->nmsgs - nfail, reason);
        alert_event(&(struct alert_key){it->provider, it->bucket, "dead_letter"}, ALERT_ERROR,
                    "%zu change(s) could not be resynced after %ld attempt(s) and wait in the dead "
                    "letters: %s; fix the cause, then run 'jibe redrive'",
                    it->nmsgs - nfail, attempts, reason);
        status_dead(it->provider, it->bucket, it->nmsgs - nfail);
        pthread_mutex_lock(&s->mu);
        s->st.dead += it->nmsgs - nfail;
        batch_left_sub(s, it->nmsgs);
        pthread_mutex_unlock(&s->mu);
        for (i = 0; i < it->nmsgs; i++) {
                struct q_msg *m = ((struct smsg *)it->msgs[i])->m;

                if (rcs && rcs[i] == JB_OK)
                        q_ack(s->q, m);
                else
                        q_abandon(s->q, m);
        }
        free(rcs);
        if (nfail) {
                log_msg(LL_ERROR, "syncer",
                        "provider=%s bucket=%s%s%s: %zu event(s) could not be written to the dead "
                        "letters (%s); the syncer stops, they will be offered again after a restart",
                        it->provider, it->bucket, it->key ? " key=" : "", it->key ? it->key : "", nfail,
                        err);
                set_failed(s);
        }
}

static void unit_dead(struct syncer *s, const struct unit *u, int by_refresh, const char *reason,
                      long attempts)
{
        size_t j;

        for (j = 0; j < u->nitems; j++)
                item_dead(s, u->items[j], by_refresh ? "refresh" : "event", reason, attempts);
}

/* Sleep the backoff before attempt `attempts + 1` (full jitter, capped by max_ms), but at
 * least min_ms (the server's Retry-After); returns early when the stage aborts, or with
 * until_stop when it is asked to stop. */
static void backoff(struct worker *w, long attempts, int64_t min_ms, int until_stop)
{
        struct syncer *s = w->s;
        struct backoff b = {s->base_ms, s->max_ms, BACKOFF_FULL,
                            attempts > 1 ? (int)(attempts < 64 ? attempts - 1 : 63) : 0};
        int64_t until = jb_mono_ms() + backoff_next(&b, min_ms > LONG_MAX ? LONG_MAX : (long)min_ms);

        pthread_mutex_lock(&s->mu);
        while (!s->abort && !(until_stop && s->stop) && jb_mono_ms() < until)
                wait_until(s, until);
        pthread_mutex_unlock(&s->mu);
}

/* The stage stops with an error line (once); the unit's messages are abandoned. */
static void unit_fatal(struct syncer *s, const struct unit *u, const char *line)
{
        if (!atomic_exchange(&s->failed, 1)) /* one line, whichever worker comes first */
                log_msg(LL_ERROR, "syncer", "%s", line);
        set_failed(s);
        unit_abandon(s, u);
}

/* auto: the server does not know syncOnProviderEvent; refresh from now on (one WARN). */
static void switch_to_refresh(struct syncer *s)
{
        int expect = 0;

        if (!atomic_compare_exchange_strong(&s->refresh_on, &expect, 1))
                return; /* another worker switched first */
        pthread_mutex_lock(&s->mu);
        s->st.method_switched = 1;
        pthread_mutex_unlock(&s->mu);
        log_msg(LL_WARN, "syncer",
                "Access Anywhere does not know syncOnProviderEvent: resyncing by cloud refresh of "
                "the changed folders from now on (set syncer.method = refresh to skip the first "
                "try)");
}

/* refresher hooks: pauses that a stop past its grace cuts short, and bucket progress */
struct rhook {
        struct syncer *s;
        const struct unit *u;
};

static int rhook_wait(void *opaque, long ms)
{
        struct syncer *s = ((struct rhook *)opaque)->s;
        int64_t until = jb_mono_ms() + ms;
        int ab;

        pthread_mutex_lock(&s->mu);
        while (!s->abort && jb_mono_ms() < until)
                wait_until(s, until);
        ab = s->abort;
        pthread_mutex_unlock(&s->mu);
        return ab;
}

static void rhook_progress(void *opaque, uint64_t done, uint64_t known)
{
        const struct unit *u = ((struct rhook *)opaque)->u;

        log_msg(LL_INFO, "syncer",
                "provider=%s bucket=%s: whole-bucket resync by folder refresh: %llu of %llu folders",
                u->provider, u->bucket, (unsigned long long)done, (unsigned long long)known);
}

/* The log file of every event of u was listed (so the change was in S3) before epoch ms t,
 * by a margin. The file's listing time, not CloudTrail's eventTime: that one can be older
 * than what the file shows only in generated data, but the listing is jibe's own clock. */
static int unit_older_than(const struct unit *u, int64_t t)
{
        size_t i, j;

        if (t <= 0)
                return 0;
        for (j = 0; j < u->nitems; j++)
                for (i = 0; i < u->items[j]->nmsgs; i++) {
                        const struct smsg *sm = u->items[j]->msgs[i];

                        if (sm->ev.listed_ms <= 0 || sm->ev.listed_ms >= t - COVER_MARGIN_MS)
                                return 0;
                }
        return 1;
}

/*
 * Refresh method, called with mu held: is u covered by a whole-bucket refresh of its bucket
 * (key k) that began well after its log files were listed and has completed? While one that would cover
 * it runs in another worker, wait for it rather than refresh the same folders twice.
 */
static int unit_covered(struct syncer *s, const struct unit *u, const char *k)
{
        for (;;) {
                int64_t running = (int64_t)(intptr_t)sset_get(&s->bucket_running, k);

                if (unit_older_than(u, (int64_t)(intptr_t)sset_get(&s->bucket_refreshed, k)))
                        return 1;
                if (s->abort || !unit_older_than(u, running))
                        return 0;
                pthread_cond_wait(&s->cv, &s->mu);
        }
}

/* One resync of unit u by cloud refresh; *was_covered 1 when a whole-bucket refresh already
 * covered it (nothing was asked of the server). */
static int unit_refresh(struct worker *w, const struct unit *u, int *was_covered, char *err,
                        size_t errsz)
{
        struct rhook rh = {w->s, u};
        struct refresher_hooks h = {rhook_wait, rhook_progress, &rh};
        int64_t t0 = msg_now_ms();
        uint64_t n = 0;
        int rc;

        char k[1024];
        int keyed = snprintf(k, sizeof(k), "%s/%s", u->provider, u->bucket) < (int)sizeof(k);
        int covered = 0;

        if (keyed) {
                pthread_mutex_lock(&w->s->mu);
                covered = unit_covered(w->s, u, k);
                if (covered)
                        w->s->st.covered++;
                else if (!u->dir && !sset_get(&w->s->bucket_running, k))
                        (void)!sset_put(&w->s->bucket_running, k, (void *)(intptr_t)t0);
                pthread_mutex_unlock(&w->s->mu);
        }
        *was_covered = covered;
        if (covered)
                return JB_OK;
        if (!u->dir) {
                log_msg(LL_INFO, "syncer",
                        "provider=%s bucket=%s: whole-bucket resync by folder refresh begins "
                        "(at most %ld folders/s)",
                        u->provider, u->bucket, w->s->bucket_refresh_per_s);
                rc = refresher_bucket(w->rf, u->provider, u->bucket, &h, &n, err, errsz);
                if (keyed) {
                        pthread_mutex_lock(&w->s->mu);
                        if ((int64_t)(intptr_t)sset_get(&w->s->bucket_running, k) == t0)
                                sset_del(&w->s->bucket_running, k);
                        /* out of memory: only an optimisation is lost */
                        if (rc == JB_OK && (int64_t)(intptr_t)sset_get(&w->s->bucket_refreshed, k) < t0)
                                (void)!sset_put(&w->s->bucket_refreshed, k, (void *)(intptr_t)t0);
                        pthread_cond_broadcast(&w->s->cv);
                        pthread_mutex_unlock(&w->s->mu);
                }
        } else {
                rc = refresher_folder(w->rf, u->provider, u->bucket, u->dir, u->deleted, &h, &n, err,
                                      errsz);
        }
        pthread_mutex_lock(&w->s->mu);
        w->s->st.refreshes += n;
        pthread_mutex_unlock(&w->s->mu);
        return rc;
}

static void unit_run(struct worker *w, const struct unit *u)
{
        struct syncer *s = w->s;
        char err[512], reason[1024];
        long attempts = 0, refused = 0; /* refused: answers that look permanent */
        int rc, by_refresh, covered = 0;

        for (;;) {
                if (aborted(s) || outage_stop(s)) {
                        unit_abandon(s, u);
                        return;
                }
                attempts++;
                by_refresh = atomic_load(&s->refresh_on) || u->nitems != 1;
                if (by_refresh) {
                        rc = unit_refresh(w, u, &covered, err, sizeof(err));
                } else {
                        const struct batch_item *it = u->items[0];

                        rc = aa_sync(w->aa, it->provider, it->bucket, it->key, msg_op_name(it->op), NULL,
                                     err, sizeof(err));
                        if (rc == JB_ENOTSUP && s->method == M_AUTO) {
                                switch_to_refresh(s);
                                attempts--; /* the same unit, by refresh */
                                continue;
                        }
                        if (rc == JB_ENOTSUP) {
                                snprintf(reason, sizeof(reason),
                                         "Access Anywhere does not know syncOnProviderEvent (%s); "
                                         "the syncer stops: set syncer.method = refresh (or auto) "
                                         "in the configuration",
                                         err);
                                unit_fatal(s, u, reason);
                                return;
                        }
                }
                if (rc == JB_OK) {
                        unit_ok(s, u, covered ? "covered" : by_refresh ? "refresh" : "event", attempts);
                        return;
                }
                if (sig_abort_requested()) {
                        unit_abandon(s, u); /* the call was cut short by a stop: not its fault */
                        return;
                }
                if (by_refresh && aborted(s)) {
                        unit_abandon(s, u); /* stopped during the refresh */
                        return;
                }
                status_resync(u->provider, u->bucket,
                              by_refresh ? STATUS_RESYNC_REFRESH : STATUS_RESYNC_EVENT, 0, -1, err);
                if (rc == JB_EFATAL) {
                        snprintf(reason, sizeof(reason),
                                 "Access Anywhere refused the syncer's request (%s); the "
                                 "syncer stops: check access_anywhere in the configuration",
                                 err);
                        unit_fatal(s, u, reason);
                        return;
                }
                if (rc == JB_ENOTSUP) {
                        snprintf(reason, sizeof(reason),
                                 "Access Anywhere does not know a call of the cloud refresh (%s); "
                                 "the syncer stops",
                                 err);
                        unit_fatal(s, u, reason);
                        return;
                }
                if (rc == JB_ENOTFOUND) {
                        snprintf(reason, sizeof(reason),
                                 "Access Anywhere knows no provider %s with a bucket %s: %s",
                                 u->provider, u->bucket, err);
                        sync_metrics(by_refresh, "dead", -1, NULL);
                        unit_dead(s, u, by_refresh, reason, attempts);
                        return;
                }
                if (rc == JB_ETRANSIENT || rc == JB_ELIMIT) {
                        /* passing (an answer over its ceiling is a server or proxy fault
                         * too): retried for as long as it takes, the batch held back */
                        outage_fail(s, err);
                        sync_metrics(by_refresh, "retry", -1, NULL);
                        pthread_mutex_lock(&s->mu);
                        s->st.retries++;
                        pthread_mutex_unlock(&s->mu);
                        backoff(w, attempts, (int64_t)aa_retry_after_s(w->aa) * 1000, 1);
                        continue;
                }
                if (++refused >= s->max_attempts) {
                        snprintf(reason, sizeof(reason), "gave up after %ld attempts: %s", attempts,
                                 err);
                        sync_metrics(by_refresh, "dead", -1, NULL);
                        unit_dead(s, u, by_refresh, reason, attempts);
                        return;
                }
                sync_metrics(by_refresh, "retry", -1, NULL);
                pthread_mutex_lock(&s->mu);
                s->st.retries++;
                pthread_mutex_unlock(&s->mu);
                backoff(w, attempts, 0, 0);
        }
}

static void *worker_main(void *arg)
{
        struct worker *w = arg;
        struct syncer *s = w->s;

        pthread_mutex_lock(&s->mu);
        for (;;) {
                const struct unit *u;

                while (!s->quit && s->next >= s->nunits)
                        pthread_cond_wait(&s->cv, &s->mu);
                if (s->next >= s->nunits)
                        break; /* quit, and nothing left */
                u = &s->units[s->next++];
                pthread_mutex_unlock(&s->mu);
                unit_run(w, u);
                pthread_mutex_lock(&s->mu);
                if (++s->ndone == s->nunits)
                        pthread_cond_broadcast(&s->cv);
        }
        pthread_mutex_unlock(&s->mu);
        return NULL;
}

/* ---------------------------------------------------------------- poller */

/* An undecodable message: dead letter, then ack (or abandon if that cannot be written). */
static void poison(struct syncer *s, struct q_msg *m, const char *why)
{
        char reason[1024], err[512];
        int rc;

        snprintf(reason, sizeof(reason), "not a valid object event: %s", why);
        rc = dead_letter(s, m, NULL, -1, reason, 0, err, sizeof(err));
        if (rc) {
                log_msg(LL_ERROR, "syncer",
                        "an undecodable event could not be written to the dead letters (%s); the "
                        "syncer stops",
                        err);
                q_abandon(s->q, m);
                set_failed(s);
                return;
        }
        log_msg(LL_ERROR, "syncer", "an undecodable event was moved to the dead letters: %s", why);
        pthread_mutex_lock(&s->mu);
        s->st.poison++;
        pthread_mutex_unlock(&s->mu);
        q_ack(s->q, m);
}

/* One polled message into the batch. Returns 1 when it joined the batch. */
static int take(struct syncer *s, struct q_msg *m)
{
        char err[512];
        struct smsg *sm;
        int rc;

        pthread_mutex_lock(&s->mu);
        s->st.events++;
        pthread_mutex_unlock(&s->mu);
        sm = calloc(1, sizeof(*sm));
        if (!sm)
                goto nomem;
        sm->m = m;
        if (msg_objevent_decode(m->payload, m->len, &sm->ev, err, sizeof(err)) != JB_OK) {
                free(sm);
                poison(s, m, err);
                return 0;
        }
        if (s->npend == s->cappend) {
                size_t n = s->cappend ? 2 * s->cappend : 256;
                struct smsg **np = realloc(s->pend, n * sizeof(*np));

                if (!np)
                        goto nomem;
                s->pend = np;
                s->cappend = n;
        }
        rc = batch_add(s->batch, sm->ev.provider, sm->ev.bucket, sm->ev.key, sm->ev.op, sm);
        if (rc == JB_EINPUT) {
                smsg_free(sm);
                poison(s, m, "incomplete object event");
                return 0;
        }
        if (rc)
                goto nomem;
        s->pend[s->npend++] = sm;
        return 1;
nomem:
        smsg_free(sm);
        log_msg(LL_ERROR, "syncer", "out of memory; an event is left for the next start");
        q_abandon(s->q, m);
        return 0;
}

/* A batch's units, built by the poller before it hands them to the workers. */
struct ubatch {
        struct unit *units;
        const struct batch_item **uitems;
        size_t nunits;
};

static void units_free(struct ubatch *s)
{
        size_t i;

        for (i = 0; s->units && i < s->nunits; i++)
                free(s->units[i].dir);
        free(s->units);
        free(s->uitems);
        s->units = NULL;
        s->uitems = NULL;
        s->nunits = 0;
}

/* The folder part of an item's key (malloc'ed), NULL for a bucket item; *nomem on failure. */
static char *item_dir(const struct batch_item *it, int *nomem)
{
        char *d;

        if (!it->key)
                return NULL;
        d = strndup(it->key, refresher_parent_len(it->key));
        if (!d)
                *nomem = 1;
        return d;
}

/*
 * The batch's units: one per item, or with group set (refresh method) one per (provider,
 * bucket, folder of the key) and one per bucket item. JB_ENOMEM.
 */
static int units_build(struct ubatch *s, struct batch_item *items, size_t n, int group)
{
        struct sset map;
        size_t *uid = NULL, *fill = NULL, i, nu = 0;
        struct buf k;
        int nomem = 0, rc = JB_OK;

        s->nunits = 0;
        s->uitems = calloc(n ? n : 1, sizeof(*s->uitems));
        s->units = calloc(n ? n : 1, sizeof(*s->units));
        if (!s->uitems || !s->units) {
                units_free(s);
                return JB_ENOMEM;
        }
        if (!group) {
                for (i = 0; i < n; i++) {
                        s->uitems[i] = &items[i];
                        s->units[i].items = &s->uitems[i];
                        s->units[i].nitems = 1;
                        s->units[i].provider = items[i].provider;
                        s->units[i].bucket = items[i].bucket;
                        s->units[i].dir = item_dir(&items[i], &nomem);
                        s->units[i].deleted = items[i].op == MSG_OP_DELETE;
                        s->nunits++;
                }
                if (nomem)
                        units_free(s);
                return nomem ? JB_ENOMEM : JB_OK;
        }
        sset_init(&map);
        buf_init(&k, 3 * (size_t)MSG_MAX_BYTES);
        uid = calloc(n ? n : 1, sizeof(*uid));
        fill = calloc(n ? n : 1, sizeof(*fill));
        if (!uid || !fill)
                rc = JB_ENOMEM;
        for (i = 0; !rc && i < n; i++) {
                const struct batch_item *it = &items[i];
                size_t dl = it->key ? refresher_parent_len(it->key) : 0;
                void *v;

                buf_reset(&k);
                rc = buf_printf(&k, "%s\x1f%s\x1f%s%.*s", it->provider, it->bucket, it->key ? "k" : "b",
                                (int)dl, it->key ? it->key : "");
                if (rc)
                        break;
                v = sset_get(&map, k.p);
                if (v) {
                        uid[i] = (size_t)(uintptr_t)v - 1;
                } else {
                        uid[i] = nu++;
                        rc = sset_put(&map, k.p, (void *)(uintptr_t)nu);
                        if (rc)
                                break;
                        s->units[uid[i]].provider = it->provider;
                        s->units[uid[i]].bucket = it->bucket;
                        s->units[uid[i]].dir = item_dir(it, &nomem);
                }
                s->units[uid[i]].nitems++;
                if (it->op == MSG_OP_DELETE)
                        s->units[uid[i]].deleted = 1;
        }
        if (!rc && nomem)
                rc = JB_ENOMEM;
        if (!rc) {
                size_t at = 0;

                s->nunits = nu;
                for (i = 0; i < nu; i++) {
                        s->units[i].items = &s->uitems[at];
                        at += s->units[i].nitems;
                }
                for (i = 0; i < n; i++)
                        s->units[uid[i]].items[fill[uid[i]]++] = &items[i];
        } else {
                s->nunits = nu; /* so that units_free() frees their dirs */
                units_free(s);
        }
        free(uid);
        free(fill);
        buf_clear(&k);
        sset_clear(&map);
        return rc ? JB_ENOMEM : JB_OK;
}

/* Hand the gathered batch to the workers and wait until every unit is done. */
static void run_batch(struct syncer *s)
{
        struct batch_item *items;
        struct ubatch ub = {NULL, NULL, 0};
        size_t n, i, events = batch_events(s->batch);
        int rc = batch_finish(s->batch, &items, &n);

        if (!rc)
                rc = units_build(&ub, items, n, atomic_load(&s->refresh_on));
        if (rc != JB_OK) {
                log_msg(LL_ERROR, "syncer", "out of memory; %zu event(s) are left for the next start",
                        s->npend);
                for (i = 0; i < s->npend; i++)
                        q_abandon(s->q, s->pend[i]->m);
                set_failed(s);
        } else {
                int64_t t_run = jb_mono_ms();

                pthread_mutex_lock(&s->mu);
                s->st.batches++;
                s->st.deduped += events - n;
                s->units = ub.units;
                s->nunits = ub.nunits;
                s->next = 0;
                s->ndone = 0;
                s->batch_left = s->npend;
                pthread_cond_broadcast(&s->cv);
                while (s->ndone < s->nunits)
                        pthread_cond_wait(&s->cv, &s->mu);
                s->units = NULL;
                s->nunits = s->next = s->ndone = 0;
                s->batch_left = 0;
                pthread_mutex_unlock(&s->mu);
                /* one line a batch: where the time goes (gathering or resyncing) */
                log_msg(LL_DEBUG, "syncer", "batch: events=%zu units=%zu resync_ms=%lld", events,
                        ub.nunits, (long long)(jb_mono_ms() - t_run));
                units_free(&ub);
        }
        for (i = 0; i < s->npend; i++)
                smsg_free(s->pend[i]);
        s->npend = 0;
        batch_reset(s->batch);
}

/* Gather one batch. Returns 1 when the poller should exit after running it. */
static int gather(struct syncer *s)
{
        int64_t first = 0;
        size_t n = 0;

        for (;;) {
                struct q_msg *m;
                int stop, drain, ab, rc;
                int64_t now, wait;

                pthread_mutex_lock(&s->mu);
                stop = s->stop;
                drain = s->drain;
                ab = s->abort;
                pthread_mutex_unlock(&s->mu);
                if (ab || (stop && !drain))
                        return 1;
                now = jb_mono_ms();
                if (n && ((long)n >= s->batch_max || now - first >= s->window_ms))
                        return 0;
                if (stop && q_depth(s->q, Q_EVENTS) == 0)
                        return n == 0; /* draining: no window to wait for */
                wait = n ? s->window_ms - (now - first) : POLL_SLICE_MS;
                if (wait > POLL_SLICE_MS)
                        wait = POLL_SLICE_MS;
                rc = q_poll(s->q, Q_EVENTS, (int)wait, &m);
                if (rc == JB_EFATAL)
                        return 1; /* the transport shut down */
                if (rc != JB_OK)
                        continue;
                if (take(s, m) && n++ == 0)
                        first = jb_mono_ms();
        }
}

static void *poller_main(void *arg)
{
        struct syncer *s = arg;
        int done;

        do {
                done = gather(s);
                if (batch_events(s->batch))
                        run_batch(s);
        } while (!done);
        pthread_mutex_lock(&s->mu);
        s->poller_done = 1;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        return NULL;
}

/* ---------------------------------------------------------------- API */

static void destroy(struct syncer *s)
{
        size_t i;

        for (i = 0; s->w && i < s->nworkers; i++) {
                refresher_free(s->w[i].rf);
                aa_client_free(s->w[i].aa);
        }
        free(s->w);
        sset_clear(&s->bucket_refreshed); /* the values are integers */
        sset_clear(&s->bucket_running);
        batch_free(s->batch);
        for (i = 0; i < s->npend; i++)
                smsg_free(s->pend[i]);
        free(s->pend);
        pthread_cond_destroy(&s->cv);
        pthread_mutex_destroy(&s->mu);
        free(s);
}

void syncer_opts_init(struct syncer_opts *o)
{
        memset(o, 0, sizeof(*o));
        o->window_ms = 2000;
        o->batch_max = 500;
        o->concurrency = 4;
        o->max_attempts = 8;
        o->backoff_base_ms = 500;
        o->backoff_max_ms = 60000;
        o->method = "auto";
        o->bucket_refresh_per_s = 20;
}

int syncer_start(const struct syncer_opts *opts, const struct aa_opts *aa, struct q *q,
                 struct syncer **out, char *errstr, size_t errsz)
{
        struct syncer *s;
        struct aa_opts o;
        pthread_condattr_t ca;
        size_t i;
        int rc;

        *out = NULL;
        if (!opts || !aa || !q)
                return jb_seterr(JB_EFATAL, errstr, errsz, "syncer: missing configuration or transport");
        if (opts->method && strcmp(opts->method, "auto") && strcmp(opts->method, "event") &&
            strcmp(opts->method, "refresh"))
                return jb_seterr(JB_EFATAL, errstr, errsz,
                                 "syncer.method must be auto, event or refresh, not \"%s\"",
                                 opts->method);
        s = calloc(1, sizeof(*s));
        if (!s)
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        pthread_mutex_init(&s->mu, NULL);
        sset_init(&s->bucket_refreshed);
        sset_init(&s->bucket_running);
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&s->cv, &ca);
        pthread_condattr_destroy(&ca);
        atomic_init(&s->failed, 0);
        s->method = !opts->method || !strcmp(opts->method, "auto") ? M_AUTO
                    : !strcmp(opts->method, "event")               ? M_EVENT
                    : !strcmp(opts->method, "refresh")             ? M_REFRESH
                                                                   : (enum method) - 1;
        atomic_init(&s->refresh_on, s->method == M_REFRESH);
        s->bucket_refresh_per_s = opts->bucket_refresh_per_s;
        s->q = q;
        s->window_ms = opts->window_ms > 0 ? opts->window_ms : 0;
        s->batch_max = opts->batch_max > 0 ? opts->batch_max : 1;
        s->max_attempts = opts->max_attempts > 0 ? opts->max_attempts : 1;
        s->base_ms = opts->backoff_base_ms > 0 ? opts->backoff_base_ms : 1;
        s->max_ms = opts->backoff_max_ms > s->base_ms ? opts->backoff_max_ms : s->base_ms;
        s->nworkers = opts->concurrency > 0 ? (size_t)opts->concurrency : 1;
        s->warn_first_ms = OUTAGE_WARN_FIRST_MS;
        s->warn_every_ms = OUTAGE_WARN_EVERY_MS;
        s->batch = batch_new();
        s->w = calloc(s->nworkers, sizeof(*s->w));
        if (!s->batch || !s->w) {
                destroy(s);
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        }
        o = *aa;
        o.max_retries = 1; /* one in the client; the rest here (unit_run), see the top */
        for (i = 0; i < s->nworkers; i++) {
                s->w[i].s = s;
                rc = aa_client_new(&o, &s->w[i].aa, errstr, errsz);
                if (rc) {
                        destroy(s);
                        return rc;
                }
                s->w[i].rf = refresher_new(s->w[i].aa, (double)opts->bucket_refresh_per_s);
                if (!s->w[i].rf) {
                        destroy(s);
                        return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                }
        }
        for (i = 0; i < s->nworkers; i++) {
                if (pthread_create(&s->w[i].th, NULL, worker_main, &s->w[i]) != 0)
                        break;
                s->w[i].started = 1;
        }
        if (i == s->nworkers && pthread_create(&s->poller, NULL, poller_main, s) == 0)
                s->poller_started = 1;
        if (!s->poller_started) {
                pthread_mutex_lock(&s->mu);
                s->quit = 1;
                pthread_cond_broadcast(&s->cv);
                pthread_mutex_unlock(&s->mu);
                for (i = 0; i < s->nworkers; i++)
                        if (s->w[i].started)
                                pthread_join(s->w[i].th, NULL);
                destroy(s);
                return jb_seterr(JB_EFATAL, errstr, errsz, "syncer: cannot start a thread");
        }
        *out = s;
        return JB_OK;
}

void syncer_stop(struct syncer *s, int drain, int grace_ms)
{
        int64_t deadline;
        size_t i;

        if (!s || s->stopped)
                return;
        deadline = jb_mono_ms() + (grace_ms > 0 ? grace_ms : 0);
        pthread_mutex_lock(&s->mu);
        s->stop = 1;
        s->drain = drain;
        pthread_cond_broadcast(&s->cv);
        while (!s->poller_done) {
                if (jb_mono_ms() >= deadline) {
                        if (!s->abort) {
                                s->abort = 1; /* past grace: abandon what is left */
                                pthread_cond_broadcast(&s->cv);
                        }
                        pthread_cond_wait(&s->cv, &s->mu);
                } else {
                        wait_until(s, deadline);
                }
        }
        s->quit = 1;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->poller, NULL);
        for (i = 0; i < s->nworkers; i++)
                pthread_join(s->w[i].th, NULL);
        s->stopped = 1;
}

void syncer_outage_warn_ms(struct syncer *s, long first_ms, long every_ms)
{
        pthread_mutex_lock(&s->mu);
        s->warn_first_ms = first_ms > 0 ? first_ms : OUTAGE_WARN_FIRST_MS;
        s->warn_every_ms = every_ms > 0 ? every_ms : OUTAGE_WARN_EVERY_MS;
        pthread_mutex_unlock(&s->mu);
}

int syncer_failed(const struct syncer *s)
{
        return s ? atomic_load(&((struct syncer *)s)->failed) : 0;
}

void syncer_get_stats(struct syncer *s, struct syncer_stats *out)
{
        pthread_mutex_lock(&s->mu);
        *out = s->st;
        out->outage_ms = s->out_t0 ? jb_mono_ms() - s->out_t0 : 0;
        out->held = s->batch_left;
        pthread_mutex_unlock(&s->mu);
}

static double hist_value(size_t i)
{
        return i == 0 ? 0.0 : pow(HIST_RATIO, (double)i - 0.5);
}

int syncer_latency_percentiles(struct syncer *s, double *p50_ms, double *p99_ms)
{
        uint64_t r50, r99, cum = 0;
        size_t i;
        int got50 = 0;

        pthread_mutex_lock(&s->mu);
        if (!s->nhist) {
                pthread_mutex_unlock(&s->mu);
                return JB_ENOTFOUND;
        }
        r50 = (s->nhist * 50 + 99) / 100;
        r99 = (s->nhist * 99 + 99) / 100;
        for (i = 0; i < HIST_N; i++) {
                cum += s->hist[i];
                if (!got50 && cum >= r50) {
                        *p50_ms = hist_value(i);
                        got50 = 1;
                }
                if (cum >= r99) {
                        *p99_ms = hist_value(i);
                        break;
                }
        }
        pthread_mutex_unlock(&s->mu);
        return JB_OK;
}

void syncer_free(struct syncer *s)
{
        if (!s)
                return;
        syncer_stop(s, 0, 0);
        destroy(s);
}

/* ---- the stage interface (stage.h) ---- */

struct syncer_stage {
        struct jb_stage st; /* first: a struct jb_stage * is a struct syncer_stage * */
        struct syncer_opts o;
        const struct aa_opts *aa;
        struct q *q;
        struct syncer *s;
};

static int yst_start(struct jb_stage *st, char *errstr, size_t errsz)
{
        struct syncer_stage *x = (struct syncer_stage *)st;

        return syncer_start(&x->o, x->aa, x->q, &x->s, errstr, errsz);
}

static void yst_stop(struct jb_stage *st, int grace_ms, int upstream_done)
{
        /* upstream stopped in this process: what is queued is all there is, resync it first */
        syncer_stop(((struct syncer_stage *)st)->s, upstream_done, grace_ms);
}

static int yst_failed(struct jb_stage *st)
{
        return syncer_failed(((struct syncer_stage *)st)->s);
}

static void yst_counters(struct jb_stage *st, struct jb_counters *out)
{
        struct syncer_stage *x = (struct syncer_stage *)st;
        struct syncer_stats s;

        if (!x->s)
                return;
        syncer_get_stats(x->s, &s);
        jb_counters_add(out, "events", JB_COUNTER, (int64_t)s.events, "object events consumed");
        jb_counters_add(out, "deduped", JB_COUNTER, (int64_t)s.deduped, "events folded into another");
        jb_counters_add(out, "syncs", JB_COUNTER, (int64_t)s.syncs_ok,
                        "objects, folders or buckets resynced");
        jb_counters_add(out, "bucket_syncs", JB_COUNTER, (int64_t)s.syncs_bucket,
                        "whole-bucket resyncs");
        jb_counters_add(out, "folder_refreshes", JB_COUNTER, (int64_t)s.refreshes,
                        "folder refreshes done");
        jb_counters_add(out, "bucket_refreshes", JB_COUNTER, (int64_t)s.bucket_refreshes,
                        "whole-bucket resyncs done by folder refresh");
        jb_counters_add(out, "covered", JB_COUNTER, (int64_t)s.covered,
                        "changes covered by a whole-bucket refresh (no call)");
        jb_counters_add(out, "retries", JB_COUNTER, (int64_t)s.retries, "resync attempts retried");
        jb_counters_add(out, "transient", JB_COUNTER, (int64_t)s.transient,
                        "passing failures (retried)");
        jb_counters_add(out, "outages", JB_COUNTER, (int64_t)s.outages,
                        "outages long enough for a warning");
        jb_counters_add(out, "outage_s", JB_GAUGE, s.outage_ms / 1000, "length of the current outage");
        jb_counters_add(out, "longest_outage_s", JB_GAUGE, s.longest_outage_ms / 1000,
                        "the longest outage that ended");
        jb_counters_add(out, "held_events", JB_GAUGE, (int64_t)s.held,
                        "events of the batch in flight not yet done");
        jb_counters_add(out, "dead_letters", JB_COUNTER, (int64_t)s.dead, "events dead-lettered");
        jb_counters_add(out, "poison", JB_COUNTER, (int64_t)s.poison,
                        "unreadable messages dead-lettered");
        jb_counters_add(out, "batches", JB_COUNTER, (int64_t)s.batches, "batches handled");
        jb_counters_add(out, "method_refresh", JB_GAUGE, s.method_switched,
                        "1 once method auto switched to refresh");
        jb_counters_add(out, "last_latency_ms", JB_GAUGE, s.last_latency_ms,
                        "from the log file listed to the resync, of the last event");
}

static void yst_free(struct jb_stage *st)
{
        if (!st)
                return;
        syncer_free(((struct syncer_stage *)st)->s);
        free(st);
}

static const struct jb_stage_ops syncer_stage_ops = {
        .start = yst_start,
        .stop = yst_stop,
        .failed = yst_failed,
        .counters = yst_counters,
        .free = yst_free,
};

struct jb_stage *syncer_stage(const struct syncer_opts *opts, const struct aa_opts *aa, struct q *q)
{
        struct syncer_stage *x = calloc(1, sizeof(*x));

        if (!x)
                return NULL;
        x->st.name = "sync";
        x->st.ops = &syncer_stage_ops;
        x->o = *opts;
        x->aa = aa;
        x->q = q;
        return &x->st;
}
