/*
 * q_mem.c - the embedded transport: bounded in-memory FIFOs, one per topic, in one process.
 *
 * Owns: the queues, back-pressure (publishers wait while a topic holds `capacity`
 * messages), completion tracking (a message is complete when its consumer acknowledged it
 * and every message derived from it is complete; then its publisher's q_done_fn runs), and
 * the dead-letter file (Q_DEAD messages are appended to it and fsync'ed: complete at once).
 * Ownership: published payloads are copied; a polled q_msg is borrowed until q_ack() or
 * q_abandon(). Every message stays on the `all` list until it is freed, so q_free()
 * releases whatever a crash-like stop left behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "msg.h"
#include "q_impl.h"

struct mem_msg {
        struct q_msg pub;     /* first: a struct q_msg * is a struct mem_msg * */
        struct mem_msg *next; /* FIFO */
        struct mem_msg *all_prev, *all_next;
        struct mem_msg *parent;
        int pending; /* own ack + children not complete */
        int polled;
        q_done_fn done;
        void *opaque;
        char *key;
        char *payload;
};

struct q_mem {
        struct q q;
        pthread_mutex_t mu;
        pthread_cond_t nonempty[Q_NTOPICS];
        pthread_cond_t nonfull[Q_NTOPICS];
        struct mem_msg *head[Q_NTOPICS], *tail[Q_NTOPICS];
        size_t depth[Q_NTOPICS];
        struct mem_msg *all;
        size_t inflight;
        size_t cap;
        int down;
        pthread_mutex_t dead_mu;
        int dead_fd;
};

struct done_call {
        q_done_fn fn;
        void *opaque;
};

static void all_unlink(struct q_mem *qm, struct mem_msg *m)
{
        if (m->all_prev)
                m->all_prev->all_next = m->all_next;
        else
                qm->all = m->all_next;
        if (m->all_next)
                m->all_next->all_prev = m->all_prev;
}

static void msg_free(struct mem_msg *m)
{
        free(m->key);
        free(m->payload);
        free(m);
}

/*
 * One less thing pending on m; when nothing is, m is complete: its done call is
 * collected into calls[] (run by the caller without the lock) and its parent moves on.
 */
static size_t release_locked(struct q_mem *qm, struct mem_msg *m, struct done_call *calls, size_t ncalls,
                             size_t max)
{
        while (m && --m->pending == 0) {
                struct mem_msg *parent = m->parent;

                if (m->done && ncalls < max) {
                        calls[ncalls].fn = m->done;
                        calls[ncalls].opaque = m->opaque;
                        ncalls++;
                }
                all_unlink(qm, m);
                qm->inflight--;
                msg_free(m);
                m = parent;
        }
        return ncalls;
}

static void run_calls(struct done_call *calls, size_t n)
{
        size_t i;

        for (i = 0; i < n; i++)
                calls[i].fn(calls[i].opaque, 1);
}

static int dead_append(struct q_mem *qm, const void *payload, size_t len, char *errstr, size_t errsz)
{
        const char *p = payload;
        size_t off = 0;
        int rc = JB_OK;

        if (qm->dead_fd < 0)
                return jb_seterr(JB_EFATAL, errstr, errsz, "no dead-letter file configured");
        pthread_mutex_lock(&qm->dead_mu);
        while (off < len + 1) {
                ssize_t w =
                        off < len ? write(qm->dead_fd, p + off, len - off) : write(qm->dead_fd, "\n", 1);

                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        rc = jb_seterr(JB_EIO, errstr, errsz, "cannot write the dead-letter file: %s",
                                       strerror(errno));
                        break;
                }
                off += (size_t)w;
        }
        if (!rc && fsync(qm->dead_fd) != 0)
                rc = jb_seterr(JB_EIO, errstr, errsz, "cannot fsync the dead-letter file: %s",
                               strerror(errno));
        pthread_mutex_unlock(&qm->dead_mu);
        return rc;
}

static int mem_publish(struct q *q, enum q_topic t, const char *key, size_t keylen, const void *payload,
                       size_t len, struct q_msg *parent, q_done_fn done, void *opaque, char *errstr,
                       size_t errsz)
{
        struct q_mem *qm = (struct q_mem *)q;
        struct mem_msg *m;
        int rc;

        if (t == Q_DEAD) {
                rc = dead_append(qm, payload, len, errstr, errsz);
                if (!rc && done)
                        done(opaque, 1);
                return rc;
        }
        m = calloc(1, sizeof(*m));
        if (!m)
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        m->key = malloc(keylen + 1);
        m->payload = malloc(len + 1);
        if (!m->key || !m->payload) {
                msg_free(m);
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        }
        memcpy(m->key, key, keylen);
        m->key[keylen] = '\0';
        memcpy(m->payload, payload, len);
        m->payload[len] = '\0';
        m->pub.topic = t;
        m->pub.key = m->key;
        m->pub.keylen = keylen;
        m->pub.payload = m->payload;
        m->pub.len = len;
        m->pub.ts_ms = msg_now_ms();
        m->pending = 1;
        m->done = done;
        m->opaque = opaque;
        m->parent = (struct mem_msg *)parent;

        pthread_mutex_lock(&qm->mu);
        while (!qm->down && qm->depth[t] >= qm->cap)
                pthread_cond_wait(&qm->nonfull[t], &qm->mu);
        if (qm->down) {
                pthread_mutex_unlock(&qm->mu);
                msg_free(m);
                return jb_seterr(JB_ETRANSIENT, errstr, errsz, "shutting down");
        }
        if (m->parent)
                m->parent->pending++;
        m->all_next = qm->all;
        if (qm->all)
                qm->all->all_prev = m;
        qm->all = m;
        qm->inflight++;
        if (qm->tail[t])
                qm->tail[t]->next = m;
        else
                qm->head[t] = m;
        qm->tail[t] = m;
        qm->depth[t]++;
        pthread_cond_signal(&qm->nonempty[t]);
        pthread_mutex_unlock(&qm->mu);
        return JB_OK;
}

static void deadline_in(struct timespec *ts, int ms)
{
        jb_deadline(ts, CLOCK_MONOTONIC, ms);
}

static int mem_poll(struct q *q, enum q_topic t, int timeout_ms, struct q_msg **out)
{
        struct q_mem *qm = (struct q_mem *)q;
        struct timespec ts;
        struct mem_msg *m;

        *out = NULL;
        if (t >= Q_NTOPICS || t == Q_DEAD)
                return JB_EFATAL;
        deadline_in(&ts, timeout_ms < 0 ? 0 : timeout_ms);
        pthread_mutex_lock(&qm->mu);
        while (!qm->down && !qm->head[t]) {
                if (pthread_cond_timedwait(&qm->nonempty[t], &qm->mu, &ts) == ETIMEDOUT)
                        break;
        }
        if (qm->down) {
                pthread_mutex_unlock(&qm->mu);
                return JB_EFATAL;
        }
        m = qm->head[t];
        if (!m) {
                pthread_mutex_unlock(&qm->mu);
                return JB_ETRANSIENT;
        }
        qm->head[t] = m->next;
        if (!qm->head[t])
                qm->tail[t] = NULL;
        m->next = NULL;
        m->polled = 1;
        qm->depth[t]--;
        pthread_cond_signal(&qm->nonfull[t]);
        pthread_mutex_unlock(&qm->mu);
        *out = &m->pub;
        return JB_OK;
}

static void mem_ack(struct q *q, struct q_msg *pm)
{
        struct q_mem *qm = (struct q_mem *)q;
        struct done_call calls[64];
        size_t n;

        pthread_mutex_lock(&qm->mu);
        n = release_locked(qm, (struct mem_msg *)pm, calls, 0, 64);
        pthread_mutex_unlock(&qm->mu);
        run_calls(calls, n);
}

static void mem_abandon(struct q *q, struct q_msg *pm)
{
        struct q_mem *qm = (struct q_mem *)q;
        struct mem_msg *m = (struct mem_msg *)pm;

        /* Never complete: the chain above it stays pending until the process ends, so
         * upstream does not record it and offers it again after a restart. */
        pthread_mutex_lock(&qm->mu);
        m->pending = 1 << 30;
        pthread_mutex_unlock(&qm->mu);
}

static void mem_shutdown(struct q *q)
{
        struct q_mem *qm = (struct q_mem *)q;
        int t;

        pthread_mutex_lock(&qm->mu);
        qm->down = 1;
        for (t = 0; t < Q_NTOPICS; t++) {
                pthread_cond_broadcast(&qm->nonempty[t]);
                pthread_cond_broadcast(&qm->nonfull[t]);
        }
        pthread_mutex_unlock(&qm->mu);
}

static size_t mem_depth(struct q *q, enum q_topic t)
{
        struct q_mem *qm = (struct q_mem *)q;
        size_t n;

        pthread_mutex_lock(&qm->mu);
        n = t < Q_NTOPICS ? qm->depth[t] : 0;
        pthread_mutex_unlock(&qm->mu);
        return n;
}

static size_t mem_inflight(struct q *q)
{
        struct q_mem *qm = (struct q_mem *)q;
        size_t n;

        pthread_mutex_lock(&qm->mu);
        n = qm->inflight;
        pthread_mutex_unlock(&qm->mu);
        return n;
}

static void mem_destroy(struct q *q)
{
        struct q_mem *qm = (struct q_mem *)q;
        struct mem_msg *m, *next;
        int t;

        for (m = qm->all; m; m = next) {
                next = m->all_next;
                if (m->done)
                        m->done(m->opaque, 0); /* never completed: let the publisher free */
                msg_free(m);
        }
        for (t = 0; t < Q_NTOPICS; t++) {
                pthread_cond_destroy(&qm->nonempty[t]);
                pthread_cond_destroy(&qm->nonfull[t]);
        }
        pthread_mutex_destroy(&qm->mu);
        pthread_mutex_destroy(&qm->dead_mu);
        if (qm->dead_fd >= 0)
                close(qm->dead_fd);
        free(qm);
}

static int mem_failed(struct q *q)
{
        (void)q;
        return 0; /* nothing in memory fails for good */
}

static const struct q_ops mem_ops = {
        mem_publish, mem_poll,     mem_ack,     mem_abandon, mem_shutdown,
        mem_depth,   mem_inflight, mem_destroy, mem_failed,  NULL, /* lag: none */
};

struct q *q_mem_new(const struct q_mem_opts *opts, char *errstr, size_t errsz)
{
        struct q_mem *qm = calloc(1, sizeof(*qm));
        int t;

        if (!qm) {
                jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                return NULL;
        }
        qm->q.ops = &mem_ops;
        qm->cap = opts && opts->capacity ? opts->capacity : 10000;
        qm->dead_fd = -1;
        if (opts && opts->dead_letter_path) {
                qm->dead_fd =
                        open(opts->dead_letter_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
                if (qm->dead_fd < 0) {
                        jb_seterr(JB_EIO, errstr, errsz, "cannot open the dead-letter file %s: %s",
                                  opts->dead_letter_path, strerror(errno));
                        free(qm);
                        return NULL;
                }
        }
        pthread_mutex_init(&qm->mu, NULL);
        pthread_mutex_init(&qm->dead_mu, NULL);
        for (t = 0; t < Q_NTOPICS; t++) {
                jb_cond_init_mono(&qm->nonempty[t]);
                jb_cond_init_mono(&qm->nonfull[t]);
        }
        return &qm->q;
}
