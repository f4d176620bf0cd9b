/*
 * alert.c - Slack alerts (see alert.h): the dedup/repeat/clear table, the bounded queue of
 * posts and the thread that sends them to an incoming webhook with libcurl.
 *
 * Owns: the process-wide alerter (one mutex around the table, the queue and the counters),
 * the sender thread and its curl handle, the webhook URL (wiped when stopped).
 * Does not: decide what a problem is (the stages and the supervisor call alert_raise/...),
 * or log the webhook (registered with log_add_secret() by cfg_secret.c; never formatted here).
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "alert.h"
#include "backoff.h"
#include "curl_tls.h"
#include "log.h"
#include "status.h"

/* ---------------------------------------------------------------- the table */

struct alert_ent {
        char *provider, *source, *kind;
        char *text; /* the first text: said again when it clears */
        enum alert_level level;
        int event;            /* one-off (alert_table_event) rather than lasting */
        int said;             /* the start message went out */
        int64_t first_ms;     /* when it started */
        int64_t last_said_ms; /* when a message of it went out last */
        int64_t last_seen_ms; /* when it was raised last */
        uint64_t pending;     /* raises since the last message */
        uint64_t total;       /* raises since it started */
};

struct alert_table {
        int64_t repeat_ms, after_ms;
        struct alert_ent *ents[ALERT_KEYS_MAX];
        size_t n;
        uint64_t refused;
};

static const char *nz(const char *s)
{
        return s ? s : "";
}

struct alert_table *alert_table_new(int64_t repeat_ms, int64_t after_ms)
{
        struct alert_table *t = calloc(1, sizeof(*t));

        if (!t)
                return NULL;
        t->repeat_ms = repeat_ms > 0 ? repeat_ms : 1;
        t->after_ms = after_ms > 0 ? after_ms : 0;
        return t;
}

static void ent_free(struct alert_ent *e)
{
        if (!e)
                return;
        free(e->provider);
        free(e->source);
        free(e->kind);
        free(e->text);
        free(e);
}

void alert_table_free(struct alert_table *t)
{
        size_t i;

        if (!t)
                return;
        for (i = 0; i < t->n; i++)
                ent_free(t->ents[i]);
        free(t);
}

size_t alert_table_active(const struct alert_table *t)
{
        return t ? t->n : 0;
}

uint64_t alert_table_refused(const struct alert_table *t)
{
        return t ? t->refused : 0;
}

static int key_eq(const struct alert_ent *e, const struct alert_key *k)
{
        return !strcmp(e->provider, nz(k->provider)) && !strcmp(e->source, nz(k->source)) &&
               !strcmp(e->kind, nz(k->kind));
}

static size_t find(const struct alert_table *t, const struct alert_key *k)
{
        size_t i;

        for (i = 0; i < t->n; i++)
                if (key_eq(t->ents[i], k))
                        return i;
        return (size_t)-1;
}

static void drop_at(struct alert_table *t, size_t i)
{
        ent_free(t->ents[i]);
        t->ents[i] = t->ents[--t->n];
}

/* " (provider P, source S)" or "". */
static void where(char *out, size_t n, const struct alert_ent *e)
{
        if (*e->provider && *e->source)
                snprintf(out, n, " (provider %s, source %s)", e->provider, e->source);
        else if (*e->provider)
                snprintf(out, n, " (provider %s)", e->provider);
        else if (*e->source)
                snprintf(out, n, " (source %s)", e->source);
        else
                out[0] = '\0';
}

static const char *level_name(enum alert_level l)
{
        return l == ALERT_ERROR ? "ERROR" : "WARNING";
}

/* "1 min", "95 s", "2 h 5 min". */
static void span(char *out, size_t n, int64_t ms)
{
        int64_t s = ms / 1000;

        if (s < 120)
                snprintf(out, n, "%lld s", (long long)s);
        else if (s < 7200)
                snprintf(out, n, "%lld min", (long long)(s / 60));
        else
                snprintf(out, n, "%lld h %lld min", (long long)(s / 3600), (long long)(s % 3600 / 60));
}

static void say_start(struct alert_ent *e, int64_t now, alert_emit_fn emit, void *arg)
{
        char text[ALERT_TEXT_MAX], w[512];

        where(w, sizeof(w), e);
        snprintf(text, sizeof(text), "%s%s: %s", level_name(e->level), w, e->text);
        e->said = 1;
        e->last_said_ms = now;
        e->pending = 0;
        emit(arg, e->level, text);
}

static void say_repeat(struct alert_ent *e, int64_t now, const char *last, alert_emit_fn emit, void *arg)
{
        char text[ALERT_TEXT_MAX], w[512], d[64];

        where(w, sizeof(w), e);
        span(d, sizeof(d), now - e->last_said_ms);
        snprintf(text, sizeof(text),
                 "still %s%s: %llu more time(s) in the last %s (%llu since it began); last: %s",
                 level_name(e->level), w, (unsigned long long)e->pending, d,
                 (unsigned long long)e->total, last);
        e->last_said_ms = now;
        e->pending = 0;
        emit(arg, e->level, text);
}

/* The text of the last raise is only needed for a repeat said now. */
static int raise_common(struct alert_table *t, const struct alert_key *k, enum alert_level level,
                        const char *text, int event, int64_t now, alert_emit_fn emit, void *arg)
{
        size_t i = find(t, k);
        struct alert_ent *e;

        if (i == (size_t)-1) {
                if (t->n >= ALERT_KEYS_MAX) {
                        t->refused++;
                        return 0;
                }
                e = calloc(1, sizeof(*e));
                if (!e || !(e->provider = strdup(nz(k->provider))) ||
                    !(e->source = strdup(nz(k->source))) || !(e->kind = strdup(nz(k->kind))) ||
                    !(e->text = strdup(nz(text)))) {
                        ent_free(e);
                        t->refused++;
                        return 0;
                }
                e->level = level;
                e->event = event;
                e->first_ms = e->last_seen_ms = now;
                e->total = 1;
                t->ents[t->n++] = e;
                if (event || t->after_ms == 0) {
                        say_start(e, now, emit, arg);
                        return 1;
                }
                return 0;
        }
        e = t->ents[i];
        e->last_seen_ms = now;
        if (level > e->level)
                e->level = level;
        if (!e->said) { /* a lasting problem not yet said: has it lasted long enough? */
                char *nt = strdup(nz(text));

                if (nt) { /* its start message says how it stands when said */
                        free(e->text);
                        e->text = nt;
                }
                e->total++;
                if (now - e->first_ms >= t->after_ms) {
                        say_start(e, now, emit, arg);
                        return 1;
                }
                return 0;
        }
        e->total++;
        e->pending++;
        if (now - e->last_said_ms >= t->repeat_ms) {
                say_repeat(e, now, nz(text), emit, arg);
                return 1;
        }
        return 0;
}

int alert_table_raise(struct alert_table *t, const struct alert_key *k, enum alert_level level,
                      const char *text, int64_t now_ms, alert_emit_fn emit, void *arg)
{
        return t ? raise_common(t, k, level, text, 0, now_ms, emit, arg) : 0;
}

int alert_table_event(struct alert_table *t, const struct alert_key *k, enum alert_level level,
                      const char *text, int64_t now_ms, alert_emit_fn emit, void *arg)
{
        return t ? raise_common(t, k, level, text, 1, now_ms, emit, arg) : 0;
}

int alert_table_clear(struct alert_table *t, const struct alert_key *k, int64_t now_ms,
                      alert_emit_fn emit, void *arg)
{
        char text[ALERT_TEXT_MAX], w[512], d[64], more[96] = "";
        struct alert_ent *e;
        size_t i;

        if (!t || (i = find(t, k)) == (size_t)-1)
                return 0;
        e = t->ents[i];
        if (e->event) /* a one-off has nothing to clear: it is forgotten when idle */
                return 0;
        if (!e->said) {
                drop_at(t, i);
                return 0;
        }
        where(w, sizeof(w), e);
        span(d, sizeof(d), now_ms - e->first_ms);
        if (e->pending)
                snprintf(more, sizeof(more), "; %llu more time(s) since the last message",
                         (unsigned long long)e->pending);
        snprintf(text, sizeof(text), "RESOLVED%s after %s%s: %s", w, d, more, e->text);
        emit(arg, e->level, text);
        drop_at(t, i);
        return 1;
}

int alert_table_tick(struct alert_table *t, int64_t now_ms, alert_emit_fn emit, void *arg)
{
        size_t i = 0;
        int n = 0;

        if (!t)
                return 0;
        while (i < t->n) {
                struct alert_ent *e = t->ents[i];

                if (!e->said) {
                        if (now_ms - e->first_ms >= t->after_ms) {
                                say_start(e, now_ms, emit, arg);
                                n++;
                        }
                } else if (e->pending && now_ms - e->last_said_ms >= t->repeat_ms) {
                        say_repeat(e, now_ms, e->text, emit, arg);
                        n++;
                } else if (e->event && !e->pending && now_ms - e->last_seen_ms >= t->repeat_ms &&
                           now_ms - e->last_said_ms >= t->repeat_ms) {
                        drop_at(t, i);
                        continue;
                }
                i++;
        }
        return n;
}

/* ---------------------------------------------------------------- the alerter */

struct alerter {
        pthread_mutex_t mu;
        pthread_cond_t cv; /* the sender waits for posts or a stop; alert_stop() for idle */
        int running;       /* the thread runs: raises are taken */
        int stopping;      /* no more posts are taken; send what is queued */
        atomic_int abort;  /* give up the post in flight now */
        int busy;          /* the sender is sending one post */
        struct alert_table *t;
        char *q[ALERT_QUEUE_MAX];
        size_t qh, qn;
        int full_logged;
        int refused_logged;
        struct alert_stats st;
        struct alert_opts o; /* strings owned: webhook, ca_file, instance */
        pthread_t th;
};

static struct alerter A = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static char *xstrdup(const char *s)
{
        return s ? strdup(s) : NULL;
}

static void wipe_free(char *s)
{
        if (s) {
                explicit_bzero(s, strlen(s));
                free(s);
        }
}

/* emit callback: mu held. Queues one post; a full queue drops it (logged once per fill). */
static void enqueue_locked(void *arg, enum alert_level level, const char *text)
{
        char *p;

        (void)arg;
        (void)level;
        if (A.qn >= ALERT_QUEUE_MAX) {
                A.st.dropped++;
                if (!A.full_logged) {
                        A.full_logged = 1;
                        log_msg(LL_WARN, "alert",
                                "%d Slack messages are waiting to be sent (Slack is slow or does not "
                                "answer): further ones are dropped until it catches up; the log has "
                                "every problem",
                                ALERT_QUEUE_MAX);
                }
                return;
        }
        p = strdup(text);
        if (!p) {
                A.st.dropped++;
                return;
        }
        log_scrub(p);
        A.q[(A.qh + A.qn) % ALERT_QUEUE_MAX] = p;
        A.qn++;
        pthread_cond_broadcast(&A.cv);
}

/* Messages carry who speaks: the table's texts are prefixed when queued. */
static void enqueue_prefixed_locked(void *arg, enum alert_level level, const char *text)
{
        char full[ALERT_TEXT_MAX + 300];

        snprintf(full, sizeof(full), "%s: %s", A.o.instance, text);
        enqueue_locked(arg, level, full);
}

static void note_refused_locked(void)
{
        if (alert_table_refused(A.t) && !A.refused_logged) {
                A.refused_logged = 1;
                log_msg(LL_WARN, "alert",
                        "more than %d different problems at once: the newer ones are not sent to "
                        "Slack (the log has them)",
                        ALERT_KEYS_MAX);
        }
}

static void raise_v(int event, const struct alert_key *k, enum alert_level level, const char *fmt,
                    va_list ap) JB_PRINTF(4, 0);
static void raise_v(int event, const struct alert_key *k, enum alert_level level, const char *fmt,
                    va_list ap)
{
        char text[ALERT_TEXT_MAX];

        /* every problem is in the status (status.h), webhook or not; a one-off is not lasting */
        vsnprintf(text, sizeof(text), fmt, ap); /* outside the lock */
        (event ? status_problem_once : status_problem)(level == ALERT_ERROR ? STATUS_ERROR : STATUS_WARN,
                                                       k->provider, k->source, k->kind, NULL, text);
        pthread_mutex_lock(&A.mu);
        if (!A.running || A.stopping || level < A.o.level) {
                pthread_mutex_unlock(&A.mu);
                return;
        }
        {
                if (event)
                        alert_table_event(A.t, k, level, text, jb_mono_ms(), enqueue_prefixed_locked,
                                          NULL);
                else
                        alert_table_raise(A.t, k, level, text, jb_mono_ms(), enqueue_prefixed_locked,
                                          NULL);
                note_refused_locked();
        }
        pthread_mutex_unlock(&A.mu);
}

void alert_raise(const struct alert_key *k, enum alert_level level, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        raise_v(0, k, level, fmt, ap);
        va_end(ap);
}

void alert_event(const struct alert_key *k, enum alert_level level, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        raise_v(1, k, level, fmt, ap);
        va_end(ap);
}

void alert_clear(const struct alert_key *k)
{
        status_problem_clear(k->provider, k->source, k->kind, NULL);
        pthread_mutex_lock(&A.mu);
        if (A.running && !A.stopping)
                alert_table_clear(A.t, k, jb_mono_ms(), enqueue_prefixed_locked, NULL);
        pthread_mutex_unlock(&A.mu);
}

void alert_stats_get(struct alert_stats *out)
{
        pthread_mutex_lock(&A.mu);
        *out = A.st;
        pthread_mutex_unlock(&A.mu);
}

/* ---- one post ---- */

struct post_ctx {
        const atomic_int *abort; /* NULL: never */
};

static size_t discard(char *p, size_t sz, size_t n, void *arg)
{
        (void)p;
        (void)arg;
        return sz * n;
}

static int xfer_abort(void *arg, curl_off_t dlt, curl_off_t dln, curl_off_t ult, curl_off_t uln)
{
        const struct post_ctx *c = arg;

        (void)dlt;
        (void)dln;
        (void)ult;
        (void)uln;
        return c->abort && atomic_load(c->abort) ? 1 : 0;
}

static _Thread_local const atomic_int *stop_flag;
static int stopped_cb(void)
{
        return stop_flag && atomic_load(stop_flag);
}

/* One attempt. JB_OK (2xx), JB_ETRANSIENT (*retry_ms: Retry-After, or -1), or JB_EFATAL. */
static int post_once(CURL *h, const struct alert_opts *o, const char *body, const atomic_int *abortf,
                     long *retry_ms, char *errstr, size_t errsz)
{
        char ebuf[CURL_ERROR_SIZE] = "";
        struct curl_slist *hdr = NULL;
        struct post_ctx pc = {abortf};
        long code = 0;
        curl_off_t ra = -1;
        CURLcode cc;

        *retry_ms = -1;
        curl_easy_reset(h);
        hdr = curl_slist_append(hdr, "Content-Type: application/json");
        if (!hdr)
                return jb_seterr(JB_ETRANSIENT, errstr, errsz, "out of memory");
        cc = curl_tls_set(h, &(struct curl_tls){"https", 0, o->ca_file,
                                                o->timeout_ms < ALERT_CONNECT_TIMEOUT_MS
                                                        ? o->timeout_ms
                                                        : (long)ALERT_CONNECT_TIMEOUT_MS,
                                                NULL});
        if (cc != CURLE_OK) {
                curl_slist_free_all(hdr);
                return jb_seterr(JB_EFATAL, errstr, errsz, "libcurl refused a TLS setting: %s",
                                 curl_easy_strerror(cc));
        }
        curl_easy_setopt(h, CURLOPT_URL, o->webhook);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, o->timeout_ms);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, xfer_abort);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, &pc);
        cc = curl_easy_perform(h);
        curl_slist_free_all(hdr);
        if (cc != CURLE_OK) {
                int perm = cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE ||
                           cc == CURLE_UNSUPPORTED_PROTOCOL || cc == CURLE_URL_MALFORMAT;

                /* curl's own words name the host at most, never the path that holds the secret */
                return jb_seterr(perm ? JB_EFATAL : JB_ETRANSIENT, errstr, errsz, "%s",
                                 *ebuf ? ebuf : curl_easy_strerror(cc));
        }
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        if (code >= 200 && code < 300)
                return JB_OK;
        if (code == 429 || code >= 500) {
                if (curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra >= 0)
                        *retry_ms = ra * 1000 > ALERT_RETRY_AFTER_MAX_MS ? ALERT_RETRY_AFTER_MAX_MS
                                                                         : (long)ra * 1000;
                return jb_seterr(JB_ETRANSIENT, errstr, errsz, "Slack answered HTTP %ld%s", code,
                                 code == 429 ? " (too many messages)" : "");
        }
        return jb_seterr(JB_EFATAL, errstr, errsz,
                         "Slack refused the message with HTTP %ld (%s): check the webhook address", code,
                         code == 404 || code == 403 || code == 410 ? "no such webhook, or revoked"
                                                                   : "see Slack's answer");
}

/* Up to ALERT_TRIES attempts with backoff; *retries counts the attempts retried. */
static int post_text(CURL *h, const struct alert_opts *o, const char *text, const atomic_int *abortf,
                     uint64_t *retries, char *errstr, size_t errsz)
{
        struct backoff b = {ALERT_BACKOFF_BASE_MS, ALERT_BACKOFF_MAX_MS, BACKOFF_EQUAL, 0};
        cJSON *j = cJSON_CreateObject();
        char *body;
        int rc = JB_ENOMEM, i;

        if (!j || !cJSON_AddStringToObject(j, "text", text) || !(body = cJSON_PrintUnformatted(j))) {
                cJSON_Delete(j);
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        }
        cJSON_Delete(j);
        for (i = 0; i < ALERT_TRIES; i++) {
                long ra;

                rc = post_once(h, o, body, abortf, &ra, errstr, errsz);
                if (rc != JB_ETRANSIENT || i + 1 == ALERT_TRIES || (abortf && atomic_load(abortf)))
                        break;
                (*retries)++;
                stop_flag = abortf;
                if (backoff_sleep(backoff_next(&b, ra > 0 ? ra : 0), stopped_cb))
                        break;
        }
        free(body);
        return rc;
}

static void *sender(void *arg)
{
        CURL *h = curl_easy_init();
        char err[512];

        (void)arg;
        pthread_mutex_lock(&A.mu);
        for (;;) {
                char *text;
                uint64_t retries = 0;
                int rc;

                while (!A.qn && !A.stopping) {
                        struct timespec ts;

                        clock_gettime(CLOCK_REALTIME, &ts);
                        ts.tv_sec += 1;
                        pthread_cond_timedwait(&A.cv, &A.mu, &ts);
                        if (!A.stopping) {
                                alert_table_tick(A.t, jb_mono_ms(), enqueue_prefixed_locked, NULL);
                                note_refused_locked();
                        }
                }
                if (!A.qn || atomic_load(&A.abort))
                        break;
                text = A.q[A.qh];
                A.qh = (A.qh + 1) % ALERT_QUEUE_MAX;
                A.qn--;
                A.busy = 1;
                pthread_mutex_unlock(&A.mu);
                rc = h ? post_text(h, &A.o, text, &A.abort, &retries, err, sizeof(err))
                       : jb_seterr(JB_ENOMEM, err, sizeof(err), "out of memory");
                free(text);
                if (rc != JB_OK && atomic_load(&A.abort))
                        log_msg(LL_WARN, "alert", "a Slack message was given up at the stop (%s)", err);
                else if (rc != JB_OK)
                        log_msg(LL_WARN, "alert", "a Slack message could not be sent: %s", err);
                pthread_mutex_lock(&A.mu);
                A.busy = 0;
                A.st.retried += retries;
                if (rc == JB_OK) {
                        A.st.sent++;
                        A.full_logged = 0;
                } else {
                        A.st.failed++;
                }
                pthread_cond_broadcast(&A.cv);
        }
        A.busy = 0;
        pthread_cond_broadcast(&A.cv);
        pthread_mutex_unlock(&A.mu);
        curl_easy_cleanup(h);
        return NULL;
}

static void opts_free(struct alert_opts *o)
{
        wipe_free((char *)(uintptr_t)o->webhook);
        free((char *)(uintptr_t)o->ca_file);
        free((char *)(uintptr_t)o->instance);
        memset(o, 0, sizeof(*o));
}

/* o copied into *d, instance filled with the host name. */
static int opts_copy(struct alert_opts *d, const struct alert_opts *o)
{
        char host[256] = "";
        char inst[300];

        *d = *o;
        if (!o->instance) {
                if (gethostname(host, sizeof(host) - 1) != 0 || !*host)
                        snprintf(host, sizeof(host), "this host");
                snprintf(inst, sizeof(inst), "jibe on %s", host);
        } else {
                snprintf(inst, sizeof(inst), "%s", o->instance);
        }
        d->webhook = xstrdup(o->webhook);
        d->ca_file = xstrdup(o->ca_file);
        d->instance = strdup(inst);
        if (d->timeout_ms <= 0)
                d->timeout_ms = ALERT_TIMEOUT_MS_DEFAULT;
        if (!d->webhook || (o->ca_file && !d->ca_file) || !d->instance) {
                opts_free(d);
                return JB_ENOMEM;
        }
        return JB_OK;
}

int alert_start(const struct alert_opts *o, char *errstr, size_t errsz)
{
        int rc;

        if (!o || !o->webhook)
                return JB_OK;
        pthread_mutex_lock(&A.mu);
        if (A.running) {
                pthread_mutex_unlock(&A.mu);
                return jb_seterr(JB_EINPUT, errstr, errsz, "alerts are already started");
        }
        memset(&A.st, 0, sizeof(A.st));
        A.qh = A.qn = 0;
        A.full_logged = A.refused_logged = 0;
        A.stopping = 0;
        atomic_store(&A.abort, 0);
        rc = opts_copy(&A.o, o);
        if (rc == JB_OK && !(A.t = alert_table_new(o->repeat_ms, o->after_ms))) {
                opts_free(&A.o);
                rc = JB_ENOMEM;
        }
        if (rc != JB_OK) {
                pthread_mutex_unlock(&A.mu);
                return jb_seterr(rc, errstr, errsz, "alerts: out of memory");
        }
        if (pthread_create(&A.th, NULL, sender, NULL) != 0) {
                alert_table_free(A.t);
                A.t = NULL;
                opts_free(&A.o);
                pthread_mutex_unlock(&A.mu);
                return jb_seterr(JB_ENOMEM, errstr, errsz, "alerts: cannot start a thread");
        }
        A.running = 1;
        pthread_mutex_unlock(&A.mu);
        log_msg(LL_INFO, "alert", "Slack alerts on: level %s and above, repeats at most every %lld s",
                o->level == ALERT_ERROR ? "error" : "warn", (long long)(A.o.repeat_ms / 1000));
        return JB_OK;
}

void alert_stop(long grace_ms)
{
        struct timespec ts;
        int64_t end = jb_mono_ms() + (grace_ms > 0 ? grace_ms : 0);
        size_t left;

        pthread_mutex_lock(&A.mu);
        if (!A.running) {
                pthread_mutex_unlock(&A.mu);
                return;
        }
        A.stopping = 1;
        pthread_cond_broadcast(&A.cv);
        while ((A.qn || A.busy) && jb_mono_ms() < end) {
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_nsec += 100 * 1000000L;
                if (ts.tv_nsec >= 1000000000L) {
                        ts.tv_sec++;
                        ts.tv_nsec -= 1000000000L;
                }
                pthread_cond_timedwait(&A.cv, &A.mu, &ts);
        }
        atomic_store(&A.abort, 1);
        pthread_cond_broadcast(&A.cv);
        pthread_mutex_unlock(&A.mu);
        pthread_join(A.th, NULL);
        pthread_mutex_lock(&A.mu);
        left = A.qn;
        A.st.dropped += left;
        while (A.qn) {
                free(A.q[A.qh]);
                A.qh = (A.qh + 1) % ALERT_QUEUE_MAX;
                A.qn--;
        }
        A.running = 0;
        alert_table_free(A.t);
        A.t = NULL;
        if (left || A.st.failed || A.st.dropped)
                log_msg(LL_WARN, "alert",
                        "Slack alerts: %llu sent, %llu could not be sent, %llu dropped (%zu still "
                        "waiting at the stop); the log has every problem",
                        (unsigned long long)A.st.sent, (unsigned long long)A.st.failed,
                        (unsigned long long)A.st.dropped, left);
        else
                log_msg(LL_INFO, "alert", "Slack alerts: %llu sent", (unsigned long long)A.st.sent);
        opts_free(&A.o);
        pthread_mutex_unlock(&A.mu);
}

int alert_send_now(const struct alert_opts *o, const char *text, char *errstr, size_t errsz)
{
        struct alert_opts c;
        char full[ALERT_TEXT_MAX + 300];
        uint64_t retries = 0;
        CURL *h;
        int rc;

        if (!o || !o->webhook)
                return jb_seterr(JB_EINPUT, errstr, errsz, "no Slack webhook is configured");
        if (opts_copy(&c, o) != JB_OK)
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        snprintf(full, sizeof(full), "%s: %s", c.instance, text);
        log_scrub(full);
        h = curl_easy_init();
        rc = h ? post_text(h, &c, full, NULL, &retries, errstr, errsz)
               : jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        curl_easy_cleanup(h);
        opts_free(&c);
        return rc;
}
