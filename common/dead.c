/*
 * dead.c - the embedded mode's dead letters read back, their settlements, redrive requests and
 * the redriver thread of `jibe run` (see dead.h for the files and the crash-safety argument).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "dead.h"
#include "log.h"
#include "q.h"
#include "state.h"

#define DEAD_MAX_LINE (4U * MSG_MAX_BYTES) /* a longer line is not a dead letter jibe wrote */

static const char *const state_names[] = {"open", "requested", "redriven", "discarded"};

const char *dead_state_name(enum dead_state st)
{
        return (unsigned)st < sizeof(state_names) / sizeof(state_names[0]) ? state_names[st] : "?";
}

static uint64_t fnv1a(const char *p, size_t n)
{
        uint64_t h = 0xcbf29ce484222325ULL;
        size_t i;

        for (i = 0; i < n; i++) {
                h ^= (unsigned char)p[i];
                h *= 0x100000001b3ULL;
        }
        return h;
}

void dead_list_clear(struct dead_list *l)
{
        size_t i;

        if (!l)
                return;
        for (i = 0; i < l->n; i++) {
                msg_dead_clear(&l->v[i].d);
                free(l->v[i].note);
        }
        free(l->v);
        l->v = NULL;
        l->n = 0;
}

static struct dead_entry *find_entry(struct dead_list *l, int64_t off)
{
        size_t lo = 0, hi = l->n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (l->v[mid].off == off)
                        return &l->v[mid];
                if (l->v[mid].off < off)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return NULL;
}

static int parse_sum(const cJSON *o, uint64_t *sum)
{
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "sum");
        char *end;

        if (!cJSON_IsString(s) || !*s->valuestring)
                return -1;
        errno = 0;
        *sum = strtoull(s->valuestring, &end, 16);
        return *end || errno ? -1 : 0;
}

static int parse_off(const cJSON *o, int64_t *off)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "off");

        if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9e15)
                return -1;
        *off = (int64_t)v->valuedouble;
        return 0;
}

/* Call fn for each complete line of path (offset, bytes without the newline). A missing file
 * has no lines. */
static int each_line(const char *path, int (*fn)(void *opaque, int64_t off, const char *p, size_t n),
                     void *opaque, char *errstr, size_t errsz)
{
        FILE *fp = fopen(path, "re");
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        int64_t off = 0;
        int rc = JB_OK;

        if (!fp) {
                if (errno == ENOENT)
                        return JB_OK;
                return jb_seterr(JB_EIO, errstr, errsz, "cannot read %s: %s", path, strerror(errno));
        }
        while ((n = getline(&line, &cap, fp)) > 0) {
                if (line[n - 1] != '\n')
                        break; /* being written (or cut by a crash): not a record yet */
                rc = fn(opaque, off, line, (size_t)n - 1);
                if (rc)
                        break;
                off += n;
        }
        if (!rc && ferror(fp))
                rc = jb_seterr(JB_EIO, errstr, errsz, "cannot read %s: %s", path, strerror(errno));
        free(line);
        fclose(fp);
        return rc;
}

static int add_entry(void *opaque, int64_t off, const char *p, size_t n)
{
        struct dead_list *l = opaque;
        struct dead_entry *e, *v;
        char err[256];

        if (n == 0)
                return JB_OK;
        v = realloc(l->v, (l->n + 1) * sizeof(*l->v));
        if (!v)
                return JB_ENOMEM;
        l->v = v;
        e = &l->v[l->n++];
        memset(e, 0, sizeof(*e));
        e->off = off;
        e->sum = fnv1a(p, n);
        if (n <= DEAD_MAX_LINE && msg_dead_decode(p, n, &e->d, err, sizeof(err)) == JB_OK)
                e->readable = 1;
        return JB_OK;
}

/* A done-list line or a request of this format (its "v" is DEAD_FORMAT_VERSION). */
static int dead_version_ok(const cJSON *o)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "v");

        return cJSON_IsNumber(v) && v->valuedouble == DEAD_FORMAT_VERSION;
}

struct settle_ctx {
        struct dead_list *l;
};

static int add_settlement(void *opaque, int64_t off, const char *p, size_t n)
{
        struct settle_ctx *c = opaque;
        cJSON *o = cJSON_ParseWithLength(p, n);
        const cJSON *st, *at, *note;
        struct dead_entry *e;
        uint64_t sum;

        JB_UNUSED(off);
        if (!o || !dead_version_ok(o) || parse_off(o, &off) || parse_sum(o, &sum) ||
            !(e = find_entry(c->l, off)) || e->sum != sum) {
                cJSON_Delete(o); /* cut by a crash, or about another file: not ours */
                return JB_OK;
        }
        st = cJSON_GetObjectItemCaseSensitive(o, "state");
        at = cJSON_GetObjectItemCaseSensitive(o, "at_ms");
        note = cJSON_GetObjectItemCaseSensitive(o, "note");
        if (cJSON_IsString(st) &&
            (!strcmp(st->valuestring, "redriven") || !strcmp(st->valuestring, "discarded"))) {
                e->state = !strcmp(st->valuestring, "redriven") ? DEAD_REDRIVEN : DEAD_DISCARDED;
                e->settled_ms = cJSON_IsNumber(at) ? (int64_t)at->valuedouble : 0;
                free(e->note);
                e->note = cJSON_IsString(note) && *note->valuestring ? strdup(note->valuestring) : NULL;
        }
        cJSON_Delete(o);
        return JB_OK;
}

/* Parse a request file's entries; calls fn for each (off, sum). */
static int request_each(const char *path, int (*fn)(void *opaque, int64_t off, uint64_t sum),
                        void *opaque)
{
        struct stat sb;
        FILE *fp = NULL;
        char *text = NULL;
        cJSON *root = NULL;
        const cJSON *arr, *it;
        int rc = JB_EIO;

        if (stat(path, &sb) != 0 || sb.st_size > (off_t)64 * 1024 * 1024 || !(fp = fopen(path, "re")))
                goto out;
        text = malloc((size_t)sb.st_size + 1);
        if (!text || fread(text, 1, (size_t)sb.st_size, fp) != (size_t)sb.st_size)
                goto out;
        root = cJSON_ParseWithLength(text, (size_t)sb.st_size);
        arr = cJSON_GetObjectItemCaseSensitive(root, "entries");
        if (!dead_version_ok(root) || !cJSON_IsArray(arr)) {
                rc = JB_EINPUT;
                goto out;
        }
        rc = JB_OK;
        cJSON_ArrayForEach(it, arr)
        {
                int64_t off;
                uint64_t sum;

                if (parse_off(it, &off) || parse_sum(it, &sum))
                        continue;
                rc = fn(opaque, off, sum);
                if (rc)
                        break;
        }
out:
        cJSON_Delete(root);
        free(text);
        if (fp)
                fclose(fp);
        return rc;
}

static int is_request_name(const char *name)
{
        size_t n = strlen(name);

        return !strncmp(name, "req-", 4) && n > 9 && !strcmp(name + n - 5, ".json");
}

/* Call fn(opaque, path) for each request file of state_dir. */
static int each_request(const char *state_dir, int (*fn)(void *opaque, const char *path), void *opaque)
{
        char dirpath[PATH_MAX], path[PATH_MAX];
        DIR *d;
        struct dirent *de;
        int rc = JB_OK;

        snprintf(dirpath, sizeof(dirpath), "%s/%s", state_dir, DEAD_REQ_DIR);
        d = opendir(dirpath);
        if (!d)
                return JB_OK;
        while ((de = readdir(d))) {
                if (!is_request_name(de->d_name))
                        continue;
                if ((size_t)snprintf(path, sizeof(path), "%s/%s", dirpath, de->d_name) >= sizeof(path))
                        continue;
                rc = fn(opaque, path);
                if (rc)
                        break;
        }
        closedir(d);
        return rc;
}

static int mark_requested(void *opaque, int64_t off, uint64_t sum)
{
        struct dead_entry *e = find_entry(opaque, off);

        if (e && e->sum == sum && e->state == DEAD_OPEN)
                e->state = DEAD_REQUESTED;
        return JB_OK;
}

static int load_request(void *opaque, const char *path)
{
        request_each(path, mark_requested, opaque); /* an unreadable request marks nothing */
        return JB_OK;
}

int dead_load(const char *state_dir, struct dead_list *out, char *errstr, size_t errsz)
{
        char path[PATH_MAX];
        struct settle_ctx c;
        int rc;

        memset(out, 0, sizeof(*out));
        snprintf(path, sizeof(path), "%s/%s", state_dir, DEAD_FILE);
        rc = each_line(path, add_entry, out, errstr, errsz);
        if (rc == JB_ENOMEM)
                jb_seterr(rc, errstr, errsz, "out of memory reading %s", path);
        if (!rc) {
                c.l = out;
                snprintf(path, sizeof(path), "%s/%s", state_dir, DEAD_DONE_FILE);
                rc = each_line(path, add_settlement, &c, errstr, errsz);
        }
        if (!rc)
                rc = each_request(state_dir, load_request, out);
        if (rc)
                dead_list_clear(out);
        return rc;
}

int dead_settle(const char *state_dir, int64_t off, uint64_t sum, enum dead_state st, const char *note,
                char *errstr, size_t errsz)
{
        char path[PATH_MAX];
        struct buf b;
        int fd, rc;

        buf_init(&b, 64 * 1024);
        rc = buf_printf(&b,
                        "{\"v\":%d,\"off\":%" PRId64 ",\"sum\":\"%016" PRIx64
                        "\",\"state\":\"%s\",\"at_ms\":%" PRId64 ",\"note\":",
                        DEAD_FORMAT_VERSION, off, sum, dead_state_name(st), msg_now_ms());
        if (!rc)
                rc = buf_json_str(&b, note ? note : "", note ? strlen(note) : 0);
        if (!rc)
                rc = buf_puts(&b, "}\n");
        if (rc) {
                buf_clear(&b);
                return jb_seterr(rc, errstr, errsz, "the note is too long");
        }
        snprintf(path, sizeof(path), "%s/%s", state_dir, DEAD_DONE_FILE);
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
        if (fd < 0) {
                buf_clear(&b);
                return jb_seterr(JB_EIO, errstr, errsz, "cannot open %s: %s", path, strerror(errno));
        }
        /* one write: appends of whole lines from two processes do not interleave */
        if (state_write_all(fd, b.p, b.len) != 0 || fsync(fd) != 0)
                rc = jb_seterr(JB_EIO, errstr, errsz, "cannot write %s: %s", path, strerror(errno));
        close(fd);
        buf_clear(&b);
        return rc;
}

int dead_request(const char *state_dir, const struct dead_entry *const *e, size_t n, char *name,
                 size_t namesz, char *errstr, size_t errsz)
{
        char path[PATH_MAX + 128], nm[96];
        struct buf b;
        size_t i;
        int rc;

        /* written beside as NAME.tmpPID, which the readers' name filter skips */
        snprintf(nm, sizeof(nm), "req-%" PRId64 "-%ld.json", msg_now_ms(), (long)getpid());
        if ((size_t)snprintf(path, sizeof(path), "%s/%s/%s", state_dir, DEAD_REQ_DIR, nm) >=
            sizeof(path))
                return jb_seterr(JB_EIO, errstr, errsz, "the state directory's path is too long");
        buf_init(&b, 256 * 1024 * 1024);
        rc = buf_printf(&b, "{\"v\":%d,\"entries\":[", DEAD_FORMAT_VERSION);
        for (i = 0; !rc && i < n; i++)
                rc = buf_printf(&b, "%s{\"off\":%" PRId64 ",\"sum\":\"%016" PRIx64 "\"}", i ? "," : "",
                                e[i]->off, e[i]->sum);
        if (!rc)
                rc = buf_puts(&b, "]}\n");
        if (rc) {
                buf_clear(&b);
                return jb_seterr(rc, errstr, errsz, "out of memory");
        }
        rc = state_replace_file(path, b.p, b.len, errstr, errsz);
        buf_clear(&b);
        if (rc)
                return rc;
        if (name)
                snprintf(name, namesz, "%s", nm);
        return JB_OK;
}

int dead_target(const struct msg_dead *d, struct buf *key, char *errstr, size_t errsz)
{
        struct msg_logfile lf;
        struct msg_objevent ev;
        int rc;

        if (!d->stage || !d->payload)
                return jb_seterr(-1, errstr, errsz, "the dead letter carries no message");
        if (!strcmp(d->stage, "parse")) {
                if (msg_logfile_decode(d->payload, d->payload_len, &lf, errstr, errsz) != JB_OK)
                        return -1;
                rc = msg_logfile_key(&lf, key);
                msg_logfile_clear(&lf);
                return rc ? jb_seterr(-1, errstr, errsz, "out of memory") : Q_FILES;
        }
        if (!strcmp(d->stage, "sync")) {
                if (msg_objevent_decode(d->payload, d->payload_len, &ev, errstr, errsz) != JB_OK)
                        return -1;
                rc = msg_objevent_key(&ev, key);
                msg_objevent_clear(&ev);
                return rc ? jb_seterr(-1, errstr, errsz, "out of memory") : Q_EVENTS;
        }
        return jb_seterr(-1, errstr, errsz, "no stage named %s takes messages back", d->stage);
}

/* ---- the redriver of `jibe run` ---- */

struct inflight {
        int64_t off;
        uint64_t sum;
        struct inflight *next;
};

struct dead_redriver {
        char *dir;
        struct q *q;
        pthread_t th;
        int started;
        pthread_mutex_t mu;
        pthread_cond_t cv;
        int quit;
        struct inflight *inflight; /* published, not yet complete */
};

struct redrive_call {
        struct dead_redriver *rd;
        int64_t off;
        uint64_t sum;
};

static int inflight_has(struct dead_redriver *rd, int64_t off)
{
        struct inflight *f;

        for (f = rd->inflight; f; f = f->next)
                if (f->off == off)
                        return 1;
        return 0;
}

static void inflight_remove(struct dead_redriver *rd, int64_t off)
{
        struct inflight **pp, *f;

        for (pp = &rd->inflight; (f = *pp); pp = &f->next) {
                if (f->off == off) {
                        *pp = f->next;
                        free(f);
                        return;
                }
        }
}

static void on_redriven(void *opaque, int ok)
{
        struct redrive_call *c = opaque;
        struct dead_redriver *rd = c->rd;
        char err[512];

        if (ok) {
                if (dead_settle(rd->dir, c->off, c->sum, DEAD_REDRIVEN, NULL, err, sizeof(err)) == JB_OK)
                        log_msg(LL_INFO, "redrive",
                                "dead letter #%" PRId64 " redriven: its work is done", c->off);
                else
                        log_msg(LL_ERROR, "redrive",
                                "dead letter #%" PRId64 " was redriven but cannot be marked so (%s): it "
                                "will be redriven again",
                                c->off, err);
        }
        pthread_mutex_lock(&rd->mu);
        inflight_remove(rd, c->off);
        pthread_mutex_unlock(&rd->mu);
        free(c);
}

struct scan_ctx {
        struct dead_redriver *rd;
        struct dead_list *l;
        size_t pending;
        int stop;
};

/* Put one requested entry back (or account for it). */
static int redrive_one(void *opaque, int64_t off, uint64_t sum)
{
        struct scan_ctx *c = opaque;
        struct dead_redriver *rd = c->rd;
        struct dead_entry *e = find_entry(c->l, off);
        struct redrive_call *call;
        struct inflight *f;
        struct buf key;
        char err[512];
        int t, busy, rc;

        if (!e || e->sum != sum) {
                log_msg(LL_WARN, "redrive",
                        "dead letter #%" PRId64 " of a redrive request is not in %s/%s any more (the "
                        "file was replaced?): left out",
                        off, rd->dir, DEAD_FILE);
                if (dead_settle(rd->dir, off, sum, DEAD_DISCARDED,
                                "not in the dead-letter file any more", err, sizeof(err)) != JB_OK)
                        log_msg(LL_ERROR, "redrive", "%s", err);
                return JB_OK;
        }
        if (e->state == DEAD_REDRIVEN || e->state == DEAD_DISCARDED)
                return JB_OK;
        pthread_mutex_lock(&rd->mu);
        busy = inflight_has(rd, off);
        c->stop = rd->quit;
        pthread_mutex_unlock(&rd->mu);
        if (c->stop)
                return 1;
        c->pending++;
        if (busy)
                return JB_OK;
        buf_init(&key, MSG_MAX_BYTES);
        t = e->readable ? dead_target(&e->d, &key, err, sizeof(err))
                        : jb_seterr(-1, err, sizeof(err), "the line is not a dead letter");
        if (t < 0) {
                buf_clear(&key);
                c->pending--;
                log_msg(LL_WARN, "redrive",
                        "dead letter #%" PRId64 " cannot be redriven: %s; marked discarded", off, err);
                if (dead_settle(rd->dir, off, sum, DEAD_DISCARDED, err, err, sizeof(err)) != JB_OK)
                        log_msg(LL_ERROR, "redrive", "%s", err);
                return JB_OK;
        }
        call = malloc(sizeof(*call));
        f = malloc(sizeof(*f));
        if (!call || !f) {
                free(call);
                free(f);
                buf_clear(&key);
                return JB_ENOMEM;
        }
        call->rd = rd;
        call->off = off;
        call->sum = sum;
        f->off = off;
        f->sum = sum;
        pthread_mutex_lock(&rd->mu);
        f->next = rd->inflight;
        rd->inflight = f;
        pthread_mutex_unlock(&rd->mu);
        rc = q_publish(rd->q, (enum q_topic)t, key.p, key.len, e->d.payload, e->d.payload_len, NULL,
                       on_redriven, call, err, sizeof(err));
        buf_clear(&key);
        if (rc) {
                pthread_mutex_lock(&rd->mu);
                inflight_remove(rd, off);
                pthread_mutex_unlock(&rd->mu);
                free(call);
                c->stop = 1;
                return 1; /* shutting down: the request stays for the next start */
        }
        log_msg(LL_INFO, "redrive", "dead letter #%" PRId64 " (%s) put back to the %s", off, e->d.stage,
                t == Q_FILES ? "parser" : "syncer");
        return JB_OK;
}

static int scan_request(void *opaque, const char *path)
{
        struct scan_ctx *c = opaque;
        int rc;

        c->pending = 0;
        rc = request_each(path, redrive_one, c);
        if (c->stop)
                return 1;
        if (rc == JB_EINPUT) {
                log_msg(LL_WARN, "redrive", "%s is not a redrive request: removed", path);
        } else if (rc) {
                log_msg(LL_WARN, "redrive", "cannot read the redrive request %s; trying again later",
                        path);
                return JB_OK;
        }
        if (c->pending == 0) {
                if (unlink(path) == 0)
                        log_msg(LL_INFO, "redrive", "redrive request %s is complete",
                                strrchr(path, '/') + 1);
                else
                        log_msg(LL_WARN, "redrive", "cannot remove %s: %s", path, strerror(errno));
        }
        return JB_OK;
}

static int any_request(void *opaque, const char *path)
{
        JB_UNUSED(path);
        *(int *)opaque = 1;
        return 1;
}

static void redriver_scan(struct dead_redriver *rd)
{
        struct dead_list l;
        struct scan_ctx c;
        char err[512];
        int found = 0;

        each_request(rd->dir, any_request, &found);
        if (!found)
                return;
        if (dead_load(rd->dir, &l, err, sizeof(err)) != JB_OK) {
                log_msg(LL_ERROR, "redrive", "cannot read the dead letters: %s; trying again later",
                        err);
                return;
        }
        memset(&c, 0, sizeof(c));
        c.rd = rd;
        c.l = &l;
        each_request(rd->dir, scan_request, &c);
        dead_list_clear(&l);
}

static void *redriver_main(void *arg)
{
        struct dead_redriver *rd = arg;
        struct timespec ts;

        for (;;) {
                pthread_mutex_lock(&rd->mu);
                if (rd->quit) {
                        pthread_mutex_unlock(&rd->mu);
                        break;
                }
                pthread_mutex_unlock(&rd->mu);
                redriver_scan(rd);
                pthread_mutex_lock(&rd->mu);
                jb_deadline(&ts, CLOCK_MONOTONIC, DEAD_POLL_MS);
                while (!rd->quit && pthread_cond_timedwait(&rd->cv, &rd->mu, &ts) != ETIMEDOUT)
                        ;
                pthread_mutex_unlock(&rd->mu);
        }
        return NULL;
}

int dead_redriver_start(const char *state_dir, struct q *q, struct dead_redriver **out, char *errstr,
                        size_t errsz)
{
        struct dead_redriver *rd = calloc(1, sizeof(*rd));

        *out = NULL;
        if (!rd || !(rd->dir = strdup(state_dir))) {
                free(rd);
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        }
        rd->q = q;
        pthread_mutex_init(&rd->mu, NULL);
        jb_cond_init_mono(&rd->cv);
        if (pthread_create(&rd->th, NULL, redriver_main, rd) != 0) {
                dead_redriver_free(rd);
                return jb_seterr(JB_ENOMEM, errstr, errsz, "cannot start the redrive thread");
        }
        rd->started = 1;
        *out = rd;
        return JB_OK;
}

void dead_redriver_stop(struct dead_redriver *rd)
{
        if (!rd)
                return;
        pthread_mutex_lock(&rd->mu);
        rd->quit = 1;
        pthread_cond_broadcast(&rd->cv);
        pthread_mutex_unlock(&rd->mu);
}

void dead_redriver_join(struct dead_redriver *rd)
{
        if (!rd || !rd->started)
                return;
        dead_redriver_stop(rd);
        pthread_join(rd->th, NULL);
        rd->started = 0;
}

void dead_redriver_free(struct dead_redriver *rd)
{
        struct inflight *f, *next;

        if (!rd)
                return;
        dead_redriver_join(rd);
        for (f = rd->inflight; f; f = next) {
                next = f->next;
                free(f);
        }
        pthread_cond_destroy(&rd->cv);
        pthread_mutex_destroy(&rd->mu);
        free(rd->dir);
        free(rd);
}
