/*
 * parser.c - the parser stage (see parser.h): worker threads that turn Q_FILES messages
 * into Q_EVENTS messages, and one thread that keeps the server view (view.c) fresh.
 *
 * Owns: the threads, each worker's aa_client, ct_reader and encode buffers, the stop and
 * failure flags, the counters, and the outcome of every file (ack, quarantine, retry,
 * abandon). Logging happens here only: one debug line per file, a warning per retry, an
 * error per quarantined file or fatal failure.
 * Ownership: the options are copied (their arrays borrowed), the aa_opts and the transport are borrowed. A polled message belongs to
 * the worker until it acks or abandons it; a decoded msg_logfile lives for one file; the
 * ct_ctx a file is classified with is a view reference held for that file.
 * Locks: p->mu guards the stop/abort state, busy count and first-view flag (and the cond
 * workers and the view thread sleep on); p->st_mu the counters. Neither is held across a
 * server call or a publish.
 * Stopping: the abort flag is seen by the download callback, i.e. when the next bytes
 * arrive; a download stalled before its first byte ends within the aa_opts timeouts, and a
 * publish blocked by back-pressure ends only when the transport is shut down (q_shutdown),
 * which the owner of the transport does after parser_stop()'s grace if it must.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert.h"
#include "backoff.h"
#include "buf.h"
#include "ct.h"
#include "dead_pub.h"
#include "filehash.h"
#include "log.h"
#include "metrics.h"
#include "msg.h"
#include "parser.h"
#include "sha256.h"
#include "status.h"
#include "view.h"

#define PARSER_POLL_MS 200          /* how long a worker waits for a file before looking up */
#define PARSER_BACKOFF_BASE_MS 500L /* first wait before a file (or the view) is tried again */
#define PARSER_BACKOFF_MAX_MS 60000L
#define PARSER_ENC_MAX (4U * MSG_MAX_BYTES)
#define PARSER_ERR 512
#define PARSER_RELIST_EVERY 3        /* failed fetches of a file before it is listed again */
#define PARSER_WARN_EVERY_MS 180000L /* a file failing to fetch: one WARN per this much time */
#define PARSER_STATUS_BUCKETS 16     /* managed buckets of one file counted before a flush */

_Static_assert(STATUS_CLASSES == CT_NCLASS, "status.h counts the classes of ct.h");

struct parser;

struct worker {
        struct parser *p;
        size_t idx;
        pthread_t th;
        int started;
        struct aa_client *aa;
        struct ct_reader *rdr;
        struct buf enc, key;
        /* the file being read */
        const struct ct_ctx *ctx;
        struct q_msg *m;
        const struct msg_logfile *lf;
        int stage_rc; /* first error stopping the download (transport, memory) */
        char stage_err[PARSER_ERR];
        int verdict_rc; /* first "damaged" verdict on the content (JB_EINPUT or
                                      JB_ELIMIT): it counts only if the bytes were the file */
        char verdict_err[PARSER_ERR];
        uint64_t got; /* bytes received in this attempt */
        int q_down;   /* a publish found the transport shutting down */
        int aborted;  /* parser_stop's grace ran out during this download */
        uint64_t events, counts[CT_NCLASS];
        char newest[32]; /* metrics on: the newest eventTime published from this file */
        /* status.h figures of the attempt, given to the recorder once per file */
        struct status_acc {
                const char *provider; /* borrowed from ctx */
                char bucket[64];
                uint64_t n[STATUS_EV_N];
        } sacc[PARSER_STATUS_BUCKETS];
        size_t nsacc;
        int64_t st_newest; /* newest eventTime (epoch s), -1 none */
        uint64_t st_logb;  /* write records on the log file's own bucket */
};

struct parser {
        struct parser_opts o;
        const struct aa_opts *aa_opts;
        struct q *q;
        struct view *view;

        pthread_mutex_t mu;
        pthread_cond_t cv;
        atomic_int stopping; /* no more polling; retry sleeps end */
        atomic_int aborting; /* downloads in progress give up */
        atomic_int failed;
        int have_view;
        int busy; /* files being handled */
        int joined;

        pthread_mutex_t st_mu;
        struct parser_stats st;
        unsigned put_warned; /* under st_mu: bit per jb_err of the hash puts already warned about */

        pthread_t view_th;
        int view_started;
        struct worker *w;
        size_t nw;
};

/* ---- small helpers ---- */

static int flag_get(const atomic_int *f)
{
        return atomic_load(f);
}

static void flag_set(atomic_int *f)
{
        atomic_store(f, 1);
}

static void deadline_after(struct timespec *ts, long ms)
{
        jb_deadline(ts, CLOCK_MONOTONIC, ms);
}

/* Sleep up to ms unless the parser is stopping; returns non-zero if it is. */
static int p_sleep(struct parser *p, long ms)
{
        struct timespec dl;
        int stop;

        deadline_after(&dl, ms);
        pthread_mutex_lock(&p->mu);
        while (!flag_get(&p->stopping) && pthread_cond_timedwait(&p->cv, &p->mu, &dl) == 0)
                ;
        stop = flag_get(&p->stopping);
        pthread_mutex_unlock(&p->mu);
        return stop;
}

/* Exponential backoff with equal jitter (backoff.h): a wait in [cur/2, cur], cur doubling
 * from PARSER_BACKOFF_BASE_MS up to PARSER_BACKOFF_MAX_MS. */
#define PARSER_BACKOFF_INIT                                                                             \
        {                                                                                               \
                PARSER_BACKOFF_BASE_MS, PARSER_BACKOFF_MAX_MS, BACKOFF_EQUAL, 0                         \
        }

static void set_failed(struct parser *p)
{
        pthread_mutex_lock(&p->mu);
        flag_set(&p->failed);
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
}

/* ---- the server view thread ---- */

static void log_view(const struct view_info *vi, int first)
{
        log_msg(first ? LL_INFO : LL_DEBUG, "parser",
                "server view %s: %zu providers, %zu buckets, %zu own identities; last full sync start "
                "known for %zu providers (%zu from a task, %zu estimated), unknown for %zu",
                first ? "ready" : "refreshed", vi->providers, vi->buckets, vi->self_ids,
                vi->starts[VIEW_START_LASTSYNC] + vi->starts[VIEW_START_TASK] +
                        vi->starts[VIEW_START_ESTIMATE],
                vi->starts[VIEW_START_TASK], vi->starts[VIEW_START_ESTIMATE],
                vi->starts[VIEW_START_NONE]);
}

static void *view_main(void *arg)
{
        struct parser *p = arg;
        struct aa_client *aa = NULL;
        char err[PARSER_ERR];
        struct backoff backoff = PARSER_BACKOFF_INIT;
        long refresh_ms = p->o.provider_refresh_s > 0 ? p->o.provider_refresh_s * 1000 : 300000;
        int rc, first = 1;

        rc = aa_client_new(p->aa_opts, &aa, err, sizeof(err));
        if (rc) {
                log_msg(LL_ERROR, "parser", "cannot set up the Access Anywhere client: %s", err);
                set_failed(p);
                return NULL;
        }
        while (!flag_get(&p->stopping)) {
                struct ct_ctx *ctx = NULL;
                struct view_info vi;
                long wait;

                rc = view_build(aa, &p->o.view, &ctx, &vi, err, sizeof(err));
                if (!rc)
                        rc = view_set(p->view, ctx)
                                     ? jb_seterr(JB_ENOMEM, err, sizeof(err), "out of memory")
                                     : JB_OK;
                if (!rc) {
                        log_view(&vi, first);
                        if (first) {
                                pthread_mutex_lock(&p->mu);
                                p->have_view = 1;
                                pthread_cond_broadcast(&p->cv);
                                pthread_mutex_unlock(&p->mu);
                        }
                        first = 0;
                        backoff_reset(&backoff);
                        wait = refresh_ms;
                } else if (rc == JB_EFATAL) {
                        log_msg(LL_ERROR, "parser",
                                "cannot read the providers' information from Access Anywhere: %s; "
                                "the parser stops",
                                err);
                        set_failed(p);
                        break;
                } else {
                        wait = backoff_next(&backoff, 0);
                        if (wait > refresh_ms && !first)
                                wait = refresh_ms;
                        log_msg(LL_WARN, "parser",
                                "cannot read the providers' information from Access Anywhere (%s): %s; "
                                "%s, trying again in %ld ms",
                                jb_strerror(rc), err,
                                first ? "no log file is read until it can"
                                      : "the previous view stays in use",
                                wait);
                }
                if (p_sleep(p, wait))
                        break;
        }
        aa_client_free(aa);
        return NULL;
}

/* ---- counters ---- */

static void stats_add(struct parser *p, uint64_t *field, uint64_t n)
{
        pthread_mutex_lock(&p->st_mu);
        *field += n;
        pthread_mutex_unlock(&p->st_mu);
}

/* Fold one attempt's reader figures and class counts into the stage's counters. */
static void stats_attempt(struct worker *w)
{
        struct parser *p = w->p;
        size_t i;

        pthread_mutex_lock(&p->st_mu);
        p->st.records += ct_reader_records(w->rdr);
        p->st.bytes_in += ct_reader_bytes_in(w->rdr);
        p->st.bytes_out += ct_reader_bytes_out(w->rdr);
        p->st.events += w->events;
        for (i = 0; i < CT_NCLASS; i++)
                p->st.counts[i] += w->counts[i];
        pthread_mutex_unlock(&p->st_mu);
}

/* ---- dead letters ---- */

/* Publish a dead letter carrying m's payload (dead_pub.h: its size policy); returns the
 * transport's code (errstr set). */
static int dead_letter(struct worker *w, struct q_msg *m, const char *key, const char *src,
                       const char *reason, char *errstr, size_t errsz)
{
        struct msg_dead d;

        memset(&d, 0, sizeof(d));
        d.stage = (char *)"parse";
        d.src = (char *)src;
        d.rec = -1;
        d.error = (char *)reason;
        d.attempts = 1;
        d.payload = (char *)m->payload;
        d.payload_len = m->len;
        d.at_ms = msg_now_ms();
        return dead_pub(w->p->q, &d, key, strlen(key), m, &w->enc, errstr, errsz);
}

/*
 * After a dead letter was attempted for m: ack on success, abandon otherwise. Returns 1 when
 * the worker must stop (the dead letter could not be written).
 */
static int dead_outcome(struct worker *w, struct q_msg *m, int rc, const char *what, const char *err)
{
        struct parser *p = w->p;

        if (rc == JB_OK) {
                q_ack(p->q, m);
                return 0;
        }
        q_abandon(p->q, m);
        if (rc == JB_ETRANSIENT)
                return 0; /* shutting down: offered again after a restart */
        log_msg(LL_ERROR, "parser", "%s could not be set aside: %s; the parser stops", what, err);
        set_failed(p);
        return 1;
}

static int poison(struct worker *w, struct q_msg *m, const char *reason)
{
        char err[PARSER_ERR];
        char key[256];
        int rc;

        snprintf(key, sizeof(key), "%.*s", (int)(m->keylen < 255 ? m->keylen : 255),
                 m->key ? m->key : "");
        rc = dead_letter(w, m, key, NULL, reason, err, sizeof(err));
        if (rc == JB_OK) {
                stats_add(w->p, &w->p->st.poison, 1);
                log_msg(LL_ERROR, "parser", "a message on %s could not be read and was set aside: %s",
                        q_topic_name(m->topic), reason);
        }
        return dead_outcome(w, m, rc, "an unreadable message", err);
}

static int quarantine(struct worker *w, struct q_msg *m, const struct msg_logfile *lf,
                      const char *reason)
{
        char err[PARSER_ERR];
        int rc;

        buf_reset(&w->key);
        rc = msg_logfile_key(lf, &w->key);
        if (rc)
                rc = jb_seterr(rc, err, sizeof(err), "out of memory");
        else
                rc = dead_letter(w, m, w->key.p, lf->path, reason, err, sizeof(err));
        if (rc == JB_OK) {
                stats_add(w->p, &w->p->st.files_quarantined, 1);
                /* the audit line of a set-aside file: the same field names as the syncer's
                 * resync lines (provider, bucket), then the file and why */
                log_msg(LL_ERROR, "parser",
                        "quarantine provider=%s bucket=%s file=%s size=%lld result=quarantined "
                        "latency_ms=%lld: the file was set aside, quarantined: %s; 'jibe redrive' "
                        "puts it back once the cause is fixed",
                        lf->provider ? lf->provider : "-", lf->bucket ? lf->bucket : "-", lf->path,
                        (long long)lf->size,
                        (long long)(lf->listed_ms > 0 ? msg_now_ms() - lf->listed_ms : -1), reason);
                alert_event(&(struct alert_key){lf->provider, lf->bucket, "quarantine"}, ALERT_WARN,
                            "log file %s was set aside: %s; its changes wait until it is redriven",
                            lf->path, reason);
        }
        return dead_outcome(w, m, rc, "a damaged log file", err);
}

/* ---- reading one file ---- */

static enum msg_op op_of(int cls)
{
        return cls == CT_PUT ? MSG_OP_PUT : cls == CT_DELETE ? MSG_OP_DELETE : MSG_OP_BUCKET;
}

static void keep_err(int *slot, char *buf, size_t bufsz, int rc, const char *msg)
{
        size_t n;

        if (*slot)
                return;
        n = strnlen(msg, bufsz - 1);
        *slot = rc;
        memcpy(buf, msg, n);
        buf[n] = '\0';
}

/* Remember the first error met inside the download callback. JB_EINPUT and JB_ELIMIT are
 * verdicts on the content (it looks damaged); the rest stop the download. */
static int stage_fail(struct worker *w, int rc, const char *msg)
{
        if (rc == JB_EINPUT || rc == JB_ELIMIT)
                keep_err(&w->verdict_rc, w->verdict_err, sizeof(w->verdict_err), rc, msg);
        else
                keep_err(&w->stage_rc, w->stage_err, sizeof(w->stage_err), rc, msg);
        return rc;
}

static int publish_event(struct worker *w, const struct ct_event *ev, int cls, uint64_t idx)
{
        struct msg_objevent oe;
        char err[PARSER_ERR];
        int rc;

        memset(&oe, 0, sizeof(oe));
        oe.provider = (char *)ev->provider;
        oe.bucket = (char *)ev->bucket;
        oe.key = cls == CT_BUCKET ? NULL : (char *)ev->key;
        oe.op = op_of(cls);
        oe.time = (char *)ev->time;
        oe.event = (char *)ev->name;
        oe.id = (char *)ev->id;
        oe.account = (char *)ev->account;
        oe.region = (char *)ev->region;
        oe.src = w->lf->path;
        oe.rec = (int64_t)idx;
        oe.listed_ms = w->lf->listed_ms;
        if (ev->time && metrics_enabled() && strcmp(ev->time, w->newest) > 0)
                snprintf(w->newest, sizeof(w->newest), "%s", ev->time);
        buf_reset(&w->enc);
        buf_reset(&w->key);
        rc = msg_objevent_encode(&oe, &w->enc);
        if (rc == JB_ELIMIT) {
                snprintf(err, sizeof(err),
                         "record %llu describes a change too large to pass on (over the message "
                         "size limit)",
                         (unsigned long long)idx);
                return stage_fail(w, JB_ELIMIT, err);
        }
        if (!rc)
                rc = msg_objevent_key(&oe, &w->key);
        if (rc)
                return stage_fail(w, rc, "out of memory");
        rc = q_publish(w->p->q, Q_EVENTS, w->key.p, w->key.len, w->enc.p, w->enc.len, w->m, NULL, NULL,
                       err, sizeof(err));
        if (rc == JB_ETRANSIENT) {
                w->q_down = 1;
                return stage_fail(w, rc, "the transport is shutting down");
        }
        if (rc) {
                char why[PARSER_ERR + 32];

                snprintf(why, sizeof(why), "cannot publish an event: %s", err);
                return stage_fail(w, rc, why);
        }
        w->events++;
        return JB_OK;
}

static void status_flush_events(struct worker *w)
{
        for (size_t i = 0; i < w->nsacc; i++)
                status_events(w->sacc[i].provider, w->sacc[i].bucket, w->sacc[i].n);
        w->nsacc = 0;
}

/* One record's share of the status (status.h): in the worker, no lock. */
static void status_note(struct worker *w, const struct ct_event *ev, int cls)
{
        size_t i;

        if (ev->event_epoch > w->st_newest)
                w->st_newest = ev->event_epoch;
        if ((!ct_op_name(cls) && cls != CT_COVERED) || !ev->bucket)
                return;
        if (cls != CT_COVERED && w->lf->bucket && !strcmp(ev->bucket, w->lf->bucket))
                w->st_logb++;
        if (!ev->provider || strlen(ev->bucket) >= sizeof(w->sacc[0].bucket))
                return;
        for (i = 0; i < w->nsacc; i++)
                if (!strcmp(w->sacc[i].provider, ev->provider) && !strcmp(w->sacc[i].bucket, ev->bucket))
                        break;
        if (i == w->nsacc) {
                if (w->nsacc == PARSER_STATUS_BUCKETS)
                        status_flush_events(w);
                i = w->nsacc++;
                memset(&w->sacc[i], 0, sizeof(w->sacc[i]));
                w->sacc[i].provider = ev->provider;
                snprintf(w->sacc[i].bucket, sizeof(w->sacc[i].bucket), "%s", ev->bucket);
        }
        w->sacc[i].n[cls == CT_PUT       ? STATUS_EV_PUT
                     : cls == CT_DELETE  ? STATUS_EV_DELETE
                     : cls == CT_COVERED ? STATUS_EV_COVERED
                                         : STATUS_EV_BUCKET]++;
}

/* The file is done (read or quarantined): its figures to the recorder. */
static void status_file_end(struct worker *w, const struct msg_logfile *lf, int quarantined)
{
        struct status_file f;

        memset(&f, 0, sizeof(f));
        f.provider = lf->provider;
        f.bucket = lf->bucket;
        f.path = lf->path;
        f.quarantined = quarantined;
        f.event_ms = w->st_newest >= 0 ? w->st_newest * 1000 : -1;
        f.visible_ms = lf->listed_ms > 0 ? lf->listed_ms : -1;
        memcpy(f.classes, w->counts, sizeof(f.classes));
        f.log_bucket_records = w->st_logb;
        status_flush_events(w);
        status_file_done(&f);
}

static int on_record(void *opaque, const char *rec, size_t len, const struct ct_hint *hint, uint64_t idx)
{
        struct worker *w = opaque;
        struct ct_event ev;
        int cls, rc = JB_OK;

        cls = ct_classify(w->ctx, rec, len, hint, &ev);
        if (cls == CT_INSIGHT) {
                ct_event_clear(&ev);
                return stage_fail(w, JB_EINPUT, "this is a CloudTrail Insights file, not an event log");
        }
        if (cls < 0 || cls >= CT_NCLASS) {
                ct_event_clear(&ev);
                return stage_fail(w, JB_ENOMEM, "out of memory classifying a record");
        }
        w->counts[cls]++;
        status_note(w, &ev, cls);
        if (ct_op_name(cls))
                rc = publish_event(w, &ev, cls, idx);
        ct_event_clear(&ev);
        return rc;
}

static int on_bytes(void *opaque, const void *p, size_t n)
{
        struct worker *w = opaque;
        char err[PARSER_ERR];
        int rc;

        if (flag_get(&w->p->aborting)) {
                w->aborted = 1;
                return stage_fail(w, JB_ETRANSIENT, "the parser is stopping");
        }
        w->got += n;
        if (w->verdict_rc) {
                /* looks damaged: counted, to learn whether it was the file, and inflated
                 * (when hashing) so that the hash covers the whole content */
                int ignored = ct_reader_feed(w->rdr, p, n, err, sizeof(err));

                (void)ignored;
                return JB_OK;
        }
        err[0] = '\0';
        rc = ct_reader_feed(w->rdr, p, n, err, sizeof(err));
        if (!rc)
                return JB_OK;
        if (w->stage_rc)
                return w->stage_rc; /* a publish failed: stop */
        stage_fail(w, rc, err[0] ? err : w->verdict_err);
        /* A damaged-looking body may just not be the file (a page, a short body): go on
         * receiving; read_file() decides once the download is over. */
        return w->verdict_rc ? JB_OK : rc;
}

/*
 * The file's entry as Access Anywhere lists it now (checkPathExists on its path). JB_OK:
 * *fi_id and *size follow the listing (*fi_id replaced, the old one freed) and *changed
 * says whether they moved; JB_ENOTFOUND: the file is gone; other codes: errstr says why.
 */
static int relist(struct worker *w, const char *path, char **fi_id, int64_t *size, int *changed,
                  char *errstr, size_t errsz)
{
        struct aa_item it;
        int rc;

        *changed = 0;
        stats_add(w->p, &w->p->st.relists, 1);
        rc = aa_check_path(w->aa, path, "0", &it, errstr, errsz);
        if (rc)
                return rc;
        if (it.type != AA_FILE) {
                aa_item_clear(&it);
                return jb_seterr(JB_ENOTFOUND, errstr, errsz, "%s is now a folder", path);
        }
        if (it.fi_id && strcmp(it.fi_id, *fi_id) != 0) {
                char *id = strdup(it.fi_id);

                if (!id) {
                        aa_item_clear(&it);
                        return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                }
                free(*fi_id);
                *fi_id = id;
                *changed = 1;
        }
        if (it.size > 0 && it.size != *size) {
                *size = it.size;
                *changed = 1;
        }
        aa_item_clear(&it);
        return JB_OK;
}

/* Outcome of one attempt at a file, as read_file() acts on it. */
enum attempt_out {
        A_OK,      /* the whole file, read */
        A_DAMAGED, /* the whole file (status ok, sizes match), and it does not parse */
        A_FETCH,   /* what came was not the file, or the download failed: try again */
        A_GONE,    /* the API says the file does not exist */
        A_FATAL,
        A_OTHER, /* stopped by the stage (transport, memory, stopping) */
};

/* One download and read of the file (id fi_id, listed with size bytes, <= 0 unknown). */
static enum attempt_out attempt_read(struct worker *w, const char *fi_id, int64_t size, int *rcp,
                                     char *err, size_t errsz)
{
        struct aa_dl_want want;
        int rc;

        ct_reader_reset(w->rdr);
        ct_reader_set_hash(w->rdr, w->p->o.hashes || (w->lf && w->lf->digest_sha256));
        w->stage_rc = w->verdict_rc = 0;
        w->stage_err[0] = w->verdict_err[0] = '\0';
        w->q_down = w->aborted = 0;
        w->events = 0;
        w->got = 0;
        memset(w->counts, 0, sizeof(w->counts));
        w->nsacc = 0;
        w->st_newest = -1;
        w->st_logb = 0;
        err[0] = '\0';
        want.size = size > 0 ? size : -1; /* a CloudTrail log file is never empty */
        want.no_pages = 1;
        rc = aa_download_ex(w->aa, fi_id, &want, on_bytes, w, err, errsz);
        if (w->stage_rc) {
                *rcp = w->stage_rc;
                snprintf(err, errsz, "%s", w->stage_err);
                return A_OTHER;
        }
        *rcp = rc;
        if (rc == JB_EFATAL)
                return A_FATAL;
        if (rc == JB_ENOTFOUND)
                return A_GONE;
        if (rc == JB_ENOMEM)
                return A_OTHER;
        if (rc)
                return A_FETCH; /* whatever the reader made of the bytes: they were not the file */
        if (want.size >= 0 && w->got != (uint64_t)want.size) {
                *rcp = jb_seterr(JB_ETRANSIENT, err, errsz,
                                 "getFile: %llu bytes received, the file is listed with %lld",
                                 (unsigned long long)w->got, (long long)want.size);
                return A_FETCH;
        }
        /* the whole file arrived: now the reader's verdict counts */
        if (w->verdict_rc) {
                char scratch[PARSER_ERR];
                int ignored = ct_reader_finish(w->rdr, scratch, sizeof(scratch)); /* the hash */

                (void)ignored;
                *rcp = w->verdict_rc;
                snprintf(err, errsz, "%s", w->verdict_err);
                return A_DAMAGED;
        }
        rc = ct_reader_finish(w->rdr, err, errsz);
        if (rc && w->stage_rc) {
                *rcp = w->stage_rc;
                snprintf(err, errsz, "%s", w->stage_err);
                return A_OTHER;
        }
        if (rc && w->verdict_rc) {
                *rcp = w->verdict_rc;
                snprintf(err, errsz, "%s", w->verdict_err);
                return A_DAMAGED;
        }
        *rcp = rc;
        if (rc == JB_EINPUT || rc == JB_ELIMIT)
                return A_DAMAGED;
        return rc ? A_OTHER : A_OK;
}

/* attempt_read(), then its figures into the stage's counters. */
static enum attempt_out attempt_file(struct worker *w, const char *fi_id, int64_t size, int *rcp,
                                     char *err, size_t errsz)
{
        enum attempt_out out = attempt_read(w, fi_id, size, rcp, err, errsz);

        stats_attempt(w);
        return out;
}

/* One log file's figures for metrics.h (per file, never per record): its size, how long it
 * took, and the newest event it carried with CloudTrail's delivery delay. */
static void file_metrics(struct worker *w, const struct msg_logfile *lf, int64_t t0, const char *result)
{
        int y, mo, d, h, mi, sec;
        double t;

        if (!metrics_enabled())
                return;
        metric_observe(M_PARSE_FILE_SECONDS, (double)(jb_mono_ms() - t0) / 1000.0, result, NULL);
        if (strcmp(result, "ok"))
                return;
        metric_observe(M_PARSE_FILE_BYTES, (double)ct_reader_bytes_in(w->rdr), NULL, NULL);
        if (sscanf(w->newest, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &sec) != 6)
                return;
        t = (double)jb_utc_time(y, mo, d, h, mi, sec);
        metric_set(M_PARSE_NEWEST_EVENT, t, NULL, NULL);
        if (lf->listed_ms > 0)
                metric_set(M_PARSE_DELIVERY_DELAY, (double)lf->listed_ms / 1000.0 - t, NULL, NULL);
}

/*
 * A file read to the end: its SHA-256 (of the decompressed content, as CloudTrail's digest
 * hashes it) against the digest's, when the message carries one, and into the hash store.
 */
static void file_hash(struct worker *w, const struct msg_logfile *lf)
{
        struct parser *p = w->p;
        uint8_t sha[SHA256_LEN], want[SHA256_LEN];
        char hex[SHA256_HEX_LEN + 1], err[PARSER_ERR];
        unsigned bit;
        int rc, warn;

        if (ct_reader_sha256(w->rdr, sha) != 0)
                return; /* not hashed: no store, no digest value */
        if (lf->digest_sha256 && sha256_from_hex(lf->digest_sha256, want) == 0 &&
            memcmp(sha, want, SHA256_LEN) != 0) {
                sha256_hex(sha, hex);
                stats_add(p, &p->st.digest_mismatches, 1);
                log_msg(LL_WARN, "parser",
                        "file=%s sha256=%s digest_sha256=%s%s: its content does not hash to the SHA-256 "
                        "CloudTrail's digest lists for it: the object was changed after CloudTrail "
                        "delivered it, or the download was bad. %s",
                        lf->path, hex, lf->digest_sha256, lf->reread ? " (read twice)" : "",
                        lf->reread ? "It differed when read again too: it is reported as tampered."
                                   : "jibe reads it once more and reports it as tampered if it differs "
                                     "again.");
        }
        if (!p->o.hashes)
                return;
        err[0] = '\0';
        rc = p->o.hashes->ops->put(p->o.hashes, lf->path, sha, lf->reread ? 2 : 1, err, sizeof(err));
        if (!rc)
                return;
        bit = 1u << ((unsigned)-rc & 15u);
        pthread_mutex_lock(&p->st_mu);
        warn = !(p->put_warned & bit);
        p->put_warned |= bit;
        pthread_mutex_unlock(&p->st_mu);
        if (warn)
                log_msg(LL_WARN, "parser",
                        "file=%s: its SHA-256 could not be kept for the digest checks (%s: %s); the file "
                        "was read all the same, and files this happens to show as unverified against "
                        "CloudTrail's digests (said once for this kind of failure)",
                        lf->path, jb_strerror(rc), err);
}

/* Returns 1 when the worker must stop. m is acked or abandoned on return. */
static int read_file(struct worker *w, struct q_msg *m, const struct msg_logfile *lf)
{
        struct parser *p = w->p;
        struct view_ref *ref = NULL;
        char err[PARSER_ERR], lerr[PARSER_ERR];
        struct backoff backoff = PARSER_BACKOFF_INIT;
        int64_t size = lf->size, first_fail_ms = 0, warned_ms = 0;
        char *fi_id = strdup(lf->fi_id ? lf->fi_id : "");
        int rc, attempt = 0, fails = 0, ret = 0;
        enum attempt_out out;
        const char *result = "other";
        int64_t t0 = jb_mono_ms();

        if (!fi_id) {
                log_msg(LL_ERROR, "parser", "out of memory reading file=%s; it is left for a restart",
                        lf->path);
                q_abandon(p->q, m);
                return 0;
        }
        w->ctx = view_acquire(p->view, &ref);
        w->m = m;
        w->lf = lf;
        w->newest[0] = '\0';
        for (;;) {
                int changed = 0;

                attempt++;
                out = attempt_file(w, fi_id, size, &rc, err, sizeof(err));
                if (out == A_OK) {
                        log_msg(fails ? LL_INFO : LL_DEBUG, "parser",
                                "file=%s read: %llu records, %llu events, %llu bytes%s", lf->path,
                                (unsigned long long)ct_reader_records(w->rdr),
                                (unsigned long long)w->events,
                                (unsigned long long)ct_reader_bytes_in(w->rdr),
                                fails ? " (after failed fetches)" : "");
                        stats_add(p, &p->st.files_ok, 1);
                        file_hash(w, lf);
                        status_file_end(w, lf, 0);
                        result = "ok";
                        q_ack(p->q, m);
                        break;
                }
                if (w->q_down || w->aborted) {
                        log_msg(LL_INFO, "parser",
                                "file=%s left unfinished: %s; it is read again after a restart",
                                lf->path, err);
                        q_abandon(p->q, m);
                        break;
                }
                if (out == A_DAMAGED) {
                        result = "quarantined";
                        file_hash(w, lf); /* a damaged content is still the file CloudTrail wrote */
                        status_file_end(w, lf, 1);
                        ret = quarantine(w, m, lf, err);
                        break;
                }
                if (out == A_FATAL) {
                        log_msg(LL_ERROR, "parser", "file=%s cannot be read: %s; the parser stops",
                                lf->path, err);
                        set_failed(p);
                        q_abandon(p->q, m);
                        ret = 1;
                        break;
                }
                if (out == A_FETCH)
                        stats_add(p, &p->st.fetch_errors, 1);
                if (out == A_FETCH || out == A_GONE)
                        fails++;
                /* The API says it is gone, or fetches keep failing: what does the listing say?
                 * Gone there too: the file went before it was read. */
                if (out == A_GONE || (out == A_FETCH && fails % PARSER_RELIST_EVERY == 0)) {
                        int64_t old_size = size;
                        char *old_id = strdup(fi_id);
                        int lrc = relist(w, lf->path, &fi_id, &size, &changed, lerr, sizeof(lerr));

                        if (lrc == JB_ENOTFOUND) {
                                log_msg(LL_WARN, "parser",
                                        "file=%s is gone from Access Anywhere before it was read: %s",
                                        lf->path, out == A_GONE ? err : lerr);
                                stats_add(p, &p->st.files_missing, 1);
                                result = "missing";
                                q_ack(p->q, m);
                                free(old_id);
                                break;
                        }
                        if (lrc == JB_EFATAL) {
                                log_msg(LL_ERROR, "parser",
                                        "file=%s cannot be listed: %s; the parser stops", lf->path,
                                        lerr);
                                set_failed(p);
                                q_abandon(p->q, m);
                                free(old_id);
                                ret = 1;
                                break;
                        }
                        if (lrc == JB_OK && changed)
                                log_msg(LL_INFO, "parser",
                                        "file=%s is listed differently now (id %s, %lld bytes; was id %s, "
                                        "%lld bytes): reading it as listed now",
                                        lf->path, fi_id, (long long)size, old_id ? old_id : "?",
                                        (long long)old_size);
                        else if (lrc)
                                snprintf(err + strnlen(err, sizeof(err)),
                                         sizeof(err) - strnlen(err, sizeof(err)),
                                         "; listing it again failed too: %s", lerr);
                        else if (out == A_GONE)
                                snprintf(err + strnlen(err, sizeof(err)),
                                         sizeof(err) - strnlen(err, sizeof(err)),
                                         "; it is still listed");
                        free(old_id);
                }
                if (flag_get(&p->stopping)) {
                        log_msg(LL_INFO, "parser",
                                "file=%s left unfinished (%s): the parser is stopping; it "
                                "is read again after a restart",
                                lf->path, err);
                        q_abandon(p->q, m);
                        break;
                }
                {
                        long wait = changed ? 0 : backoff_next(&backoff, 0);
                        int64_t now = jb_mono_ms();

                        if (!first_fail_ms)
                                first_fail_ms = now;
                        if (out != A_FETCH && out != A_GONE) {
                                log_msg(LL_WARN, "parser",
                                        "file=%s attempt %d failed (%s): %s; trying again in %ld ms",
                                        lf->path, attempt, jb_strerror(rc), err, wait);
                        } else if (!warned_ms || now - warned_ms >= PARSER_WARN_EVERY_MS) {
                                /* one WARN per file every few minutes, however fast it fails */
                                warned_ms = now;
                                log_msg(LL_WARN, "parser",
                                        "file=%s could not be fetched (%d failed fetches in %lld s): %s; "
                                        "what came was not the log file, which stays to be read: "
                                        "trying again with backoff (next in %ld ms)",
                                        lf->path, fails, (long long)((now - first_fail_ms) / 1000), err,
                                        wait);
                        } else {
                                log_msg(LL_DEBUG, "parser",
                                        "file=%s fetch %d failed: %s; next in %ld ms", lf->path, fails,
                                        err, wait);
                        }
                        stats_add(p, &p->st.retries, 1);
                        if (p_sleep(p, wait)) {
                                log_msg(LL_INFO, "parser",
                                        "file=%s left unfinished: the parser is stopping; "
                                        "it is read again after a restart",
                                        lf->path);
                                q_abandon(p->q, m);
                                break;
                        }
                }
        }
        file_metrics(w, lf, t0, result);
        free(fi_id);
        w->ctx = NULL;
        w->m = NULL;
        w->lf = NULL;
        view_release(p->view, ref);
        return ret;
}

/* Returns 1 when the worker must stop. m is acked or abandoned on return. */
static int handle(struct worker *w, struct q_msg *m)
{
        struct msg_logfile lf;
        char err[PARSER_ERR];
        int rc, ret;

        rc = msg_logfile_decode(m->payload, m->len, &lf, err, sizeof(err));
        if (rc == JB_ENOMEM) {
                log_msg(LL_ERROR, "parser", "out of memory reading a message; it is left for a restart");
                q_abandon(w->p->q, m);
                return 0;
        }
        if (rc)
                return poison(w, m, err);
        if (ct_file_kind(lf.path) != CT_FILE_LOG) {
                log_msg(LL_DEBUG, "parser", "file=%s skipped: not an event log", lf.path);
                q_ack(w->p->q, m);
                msg_logfile_clear(&lf);
                return 0;
        }
        ret = read_file(w, m, &lf);
        msg_logfile_clear(&lf);
        return ret;
}

static void *worker_main(void *arg)
{
        struct worker *w = arg;
        struct parser *p = w->p;

        pthread_mutex_lock(&p->mu);
        while (!p->have_view && !p->stopping && !p->failed)
                pthread_cond_wait(&p->cv, &p->mu);
        if (!p->have_view) {
                pthread_mutex_unlock(&p->mu);
                return NULL;
        }
        /* busy covers the poll too: a file taken while parser_stop() starts still gets the
         * grace period. */
        while (!p->stopping) {
                struct q_msg *m = NULL;
                int rc;

                p->busy++;
                pthread_mutex_unlock(&p->mu);
                rc = q_poll(p->q, Q_FILES, PARSER_POLL_MS, &m);
                if (rc == JB_OK)
                        rc = handle(w, m) ? JB_EFATAL : JB_OK;
                else if (rc == JB_ETRANSIENT)
                        rc = JB_OK;
                pthread_mutex_lock(&p->mu);
                p->busy--;
                pthread_cond_broadcast(&p->cv);
                if (rc)
                        break; /* the transport is shut down, or a fatal error */
        }
        pthread_mutex_unlock(&p->mu);
        return NULL;
}

/* ---- public ---- */

static void workers_free(struct parser *p)
{
        size_t i;

        for (i = 0; p->w && i < p->nw; i++) {
                aa_client_free(p->w[i].aa);
                ct_reader_free(p->w[i].rdr);
                buf_clear(&p->w[i].enc);
                buf_clear(&p->w[i].key);
        }
        free(p->w);
        p->w = NULL;
}

static void join_all(struct parser *p)
{
        size_t i;

        if (p->view_started)
                pthread_join(p->view_th, NULL);
        p->view_started = 0;
        for (i = 0; p->w && i < p->nw; i++) {
                if (p->w[i].started)
                        pthread_join(p->w[i].th, NULL);
                p->w[i].started = 0;
        }
        p->joined = 1;
}

/* Free what parser_start() made; every thread is joined. */
static void parser_destroy(struct parser *p)
{
        workers_free(p);
        view_free(p->view);
        pthread_cond_destroy(&p->cv);
        pthread_mutex_destroy(&p->mu);
        pthread_mutex_destroy(&p->st_mu);
        free(p);
}

void parser_opts_init(struct parser_opts *o)
{
        memset(o, 0, sizeof(*o));
        o->workers = 2;
        o->max_decompressed = CT_MAX_DECOMPRESSED_DEFAULT;
        o->max_record = CT_MAX_RECORD_DEFAULT;
        o->provider_refresh_s = 300;
        o->view.indexing_rate = 100.0;
}

int parser_start(const struct parser_opts *opts, const struct aa_opts *aa, struct q *q,
                 struct parser **out, char *errstr, size_t errsz)
{
        struct ct_limits lim;
        pthread_condattr_t ca;
        struct parser *p;
        size_t i;
        int rc = JB_OK;

        *out = NULL;
        p = calloc(1, sizeof(*p));
        if (!p)
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        p->o = *opts;
        p->aa_opts = aa;
        p->q = q;
        pthread_mutex_init(&p->mu, NULL);
        pthread_mutex_init(&p->st_mu, NULL);
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&p->cv, &ca);
        pthread_condattr_destroy(&ca);
        p->view = view_new();
        p->nw = opts->workers > 0 ? (size_t)opts->workers : 1;
        p->w = calloc(p->nw, sizeof(*p->w));
        if (!p->view || !p->w) {
                rc = jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                goto fail;
        }
        lim.max_decompressed = opts->max_decompressed;
        lim.max_record = (size_t)opts->max_record;
        for (i = 0; i < p->nw; i++) {
                struct worker *w = &p->w[i];

                w->p = p;
                w->idx = i;
                buf_init(&w->enc, PARSER_ENC_MAX);
                buf_init(&w->key, PARSER_ENC_MAX);
                rc = aa_client_new(aa, &w->aa, errstr, errsz);
                if (rc)
                        goto fail;
                w->rdr = ct_reader_new(&lim, on_record, w);
                if (!w->rdr) {
                        rc = jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                        goto fail;
                }
        }
        if (pthread_create(&p->view_th, NULL, view_main, p) != 0) {
                rc = jb_seterr(JB_ENOMEM, errstr, errsz, "cannot start a parser thread");
                goto fail;
        }
        p->view_started = 1;
        for (i = 0; i < p->nw; i++) {
                if (pthread_create(&p->w[i].th, NULL, worker_main, &p->w[i]) != 0) {
                        rc = jb_seterr(JB_ENOMEM, errstr, errsz, "cannot start a parser thread");
                        goto fail;
                }
                p->w[i].started = 1;
        }
        *out = p;
        return JB_OK;
fail:
        pthread_mutex_lock(&p->mu);
        flag_set(&p->stopping);
        flag_set(&p->aborting);
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
        join_all(p);
        parser_destroy(p);
        return rc;
}

void parser_stop(struct parser *p, int grace_ms)
{
        struct timespec dl;

        if (!p || p->joined)
                return;
        deadline_after(&dl, grace_ms > 0 ? grace_ms : 0);
        pthread_mutex_lock(&p->mu);
        flag_set(&p->stopping);
        pthread_cond_broadcast(&p->cv);
        while (p->busy > 0 && pthread_cond_timedwait(&p->cv, &p->mu, &dl) == 0)
                ;
        flag_set(&p->aborting);
        pthread_mutex_unlock(&p->mu);
        join_all(p);
}

int parser_failed(const struct parser *p)
{
        return p ? flag_get(&p->failed) : 0;
}

void parser_get_stats(struct parser *p, struct parser_stats *out)
{
        pthread_mutex_lock(&p->st_mu);
        *out = p->st;
        pthread_mutex_unlock(&p->st_mu);
}

void parser_free(struct parser *p)
{
        if (!p)
                return;
        parser_stop(p, 0);
        parser_destroy(p);
}

/* ---- the stage interface (stage.h) ---- */

struct parser_stage {
        struct jb_stage st; /* first: a struct jb_stage * is a struct parser_stage * */
        struct parser_opts o;
        const struct aa_opts *aa;
        struct q *q;
        struct parser *p;
};

static int pst_start(struct jb_stage *st, char *errstr, size_t errsz)
{
        struct parser_stage *x = (struct parser_stage *)st;

        return parser_start(&x->o, x->aa, x->q, &x->p, errstr, errsz);
}

static void pst_stop(struct jb_stage *st, int grace_ms, int upstream_done)
{
        (void)upstream_done;
        parser_stop(((struct parser_stage *)st)->p, grace_ms);
}

static int pst_failed(struct jb_stage *st)
{
        return parser_failed(((struct parser_stage *)st)->p);
}

static void pst_counters(struct jb_stage *st, struct jb_counters *out)
{
        struct parser_stage *x = (struct parser_stage *)st;
        struct parser_stats s;

        if (!x->p)
                return;
        parser_get_stats(x->p, &s);
        jb_counters_add(out, "files", JB_COUNTER, (int64_t)s.files_ok, "log files read to the end");
        jb_counters_add(out, "files_quarantined", JB_COUNTER, (int64_t)s.files_quarantined,
                        "log files that cannot be read, dead-lettered");
        jb_counters_add(out, "files_missing", JB_COUNTER, (int64_t)s.files_missing,
                        "log files gone from the server before they were read");
        jb_counters_add(out, "retries", JB_COUNTER, (int64_t)s.retries, "whole-file retries");
        jb_counters_add(out, "fetch_errors", JB_COUNTER, (int64_t)s.fetch_errors,
                        "downloads that did not bring the whole file (retried)");
        jb_counters_add(out, "relists", JB_COUNTER, (int64_t)s.relists,
                        "log files looked up again after failed downloads");
        jb_counters_add(out, "records", JB_COUNTER, (int64_t)s.records, "CloudTrail records read");
        jb_counters_add(out, "events", JB_COUNTER, (int64_t)s.events, "object events published");
        jb_counters_add(out, "bytes_in", JB_COUNTER, (int64_t)s.bytes_in, "compressed bytes downloaded");
        jb_counters_add(out, "bytes_out", JB_COUNTER, (int64_t)s.bytes_out, "bytes decompressed");
        jb_counters_add(out, "poison", JB_COUNTER, (int64_t)s.poison,
                        "unreadable messages from the scanner, dead-lettered");
        jb_counters_add(out, "digest_mismatches", JB_COUNTER, (int64_t)s.digest_mismatches,
                        "log files whose SHA-256 differs from the one CloudTrail's digest lists");
}

static void pst_free(struct jb_stage *st)
{
        if (!st)
                return;
        parser_free(((struct parser_stage *)st)->p);
        free(st);
}

static const struct jb_stage_ops parser_stage_ops = {
        .start = pst_start,
        .stop = pst_stop,
        .failed = pst_failed,
        .counters = pst_counters,
        .free = pst_free,
};

struct jb_stage *parser_stage(const struct parser_opts *opts, const struct aa_opts *aa, struct q *q)
{
        struct parser_stage *x = calloc(1, sizeof(*x));

        if (!x)
                return NULL;
        x->st.name = "parse";
        x->st.ops = &parser_stage_ops;
        x->o = *opts;
        x->aa = aa;
        x->q = q;
        return &x->st;
}
