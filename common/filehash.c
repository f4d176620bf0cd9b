/*
 * filehash.c - the per-file SHA-256 store of filehash.h: the state directory backend (a map in
 * memory over an append-only file) and the Kafka backend (records in the status topic).
 *
 * Owns: the file <state_dir>/file-hashes ("jibe-filehash 1", then one line per put:
 * "path<TAB>sha256hex<TAB>reads<TAB>at_ms"), its loading (the latest line of a path wins; a
 * torn last line, the trace of a crash in the middle of an append, is dropped and cut off;
 * any other line that does not read refuses the file), its compaction (a rewrite of the map,
 * atomic through state_replace_file(), once the lines outnumber twice the entries plus
 * FH_COMPACT_SLACK); and the status topic's "sha256/<path>" records with their JSON value.
 * Does not: decide what a hash means (ct_reconcile.c) or when files are forgotten (scanner).
 * A path that holds a tab, a newline or a carriage return cannot be written in the file: the
 * dir backend refuses its put (the file's digest verdict is then "unverified").
 * Threads: every operation takes the backend's mutex, so parser workers put at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "filehash.h"
#include "ktopic.h"
#include "log.h"
#include "msg.h"
#include "sset.h"
#include "state.h"

#define FH_FILE "file-hashes"
#define FH_MAGIC "jibe-filehash 1"
#define FH_COMPACT_SLACK 1000     /* lines beyond 2 x entries before a rewrite */
#define FH_LINE_MAX (64 * 1024)   /* a longer line is damage, not a path */
#define FH_VALUE_MAX 512          /* a longer status-topic value is not one of ours */
#define FH_LOAD_PATIENCE_MS 60000 /* a topic just created needs a moment to get a leader */

/* One remembered file (the value of the map's entry for its path). */
struct fh_ent {
        uint8_t sha[SHA256_LEN];
        unsigned reads;
        int64_t at_ms;
};

/* ---- the map: path -> struct fh_ent (malloc'ed), shared by both backends ---- */

static int map_set(struct sset *m, const char *path, const uint8_t sha[SHA256_LEN], unsigned reads,
                   int64_t at_ms)
{
        struct fh_ent *e = sset_get(m, path);

        if (!e) {
                if (!(e = malloc(sizeof(*e))))
                        return JB_ENOMEM;
                if (sset_put(m, path, e)) {
                        free(e);
                        return JB_ENOMEM;
                }
        }
        memcpy(e->sha, sha, SHA256_LEN);
        e->reads = reads;
        e->at_ms = at_ms;
        return JB_OK;
}

static void map_del(struct sset *m, const char *path)
{
        struct fh_ent *e = sset_get(m, path);

        if (e) {
                sset_del(m, path);
                free(e);
        }
}

static void map_clear(struct sset *m)
{
        const struct sset_ent *se;
        size_t i = 0;

        while ((i = sset_next(m, i, &se)) != 0)
                free(se->v);
        sset_clear(m);
        sset_init(m);
}

static int map_each(const struct sset *m, filehash_fn fn, void *opaque)
{
        const struct sset_ent *se;
        size_t i = 0;
        int rc = JB_OK;

        while (!rc && (i = sset_next(m, i, &se)) != 0) {
                const struct fh_ent *e = se->v;

                rc = fn(opaque, se->s, e->sha, e->reads, e->at_ms);
        }
        return rc;
}

static int path_ok(const char *path)
{
        return path && *path && !strpbrk(path, "\t\n\r");
}

/* ---- the state directory backend ---- */

struct fh_dir {
        struct filehash fh;
        pthread_mutex_t mu;
        char *file; /* <dir>/file-hashes */
        int fd;     /* open for appending; -1 after a failed compaction (reopened at the next put) */
        struct sset map; /* path -> struct fh_ent */
        size_t lines;    /* entry lines in the file */
};

/* One line of the file ("path\tsha\treads\tat_ms", no newline) into its fields; -1 if it
 * does not read. line is modified. */
static int dir_parse_line(char *line, const char **path, uint8_t sha[SHA256_LEN], unsigned *reads,
                          int64_t *at_ms)
{
        char *f[4], *end, *p = line;
        unsigned long r;
        long long t;
        int i;

        for (i = 0; i < 4; i++) {
                f[i] = p;
                p = strchr(p, '\t');
                if (i < 3) {
                        if (!p)
                                return -1;
                        *p++ = '\0';
                } else if (p) {
                        return -1;
                }
        }
        if (!*f[0] || sha256_from_hex(f[1], sha))
                return -1;
        errno = 0;
        r = strtoul(f[2], &end, 10);
        if (errno || end == f[2] || *end || f[2][0] == '-' || r == 0 || r > 1000000)
                return -1;
        t = strtoll(f[3], &end, 10);
        if (errno || end == f[3] || *end || t < 0)
                return -1;
        *path = f[0];
        *reads = (unsigned)r;
        *at_ms = (int64_t)t;
        return 0;
}

/* Appends the line of one entry to b. */
static int dir_format(struct buf *b, const char *path, const struct fh_ent *e)
{
        char hex[SHA256_HEX_LEN + 1], tail[128];
        int n;

        sha256_hex(e->sha, hex);
        n = snprintf(tail, sizeof(tail), "\t%s\t%u\t%" PRId64 "\n", hex, e->reads, e->at_ms);
        if (buf_append(b, path, strlen(path)) || buf_append(b, tail, (size_t)n))
                return JB_ENOMEM;
        return JB_OK;
}

/* Reads the file into the map; a missing or empty file is a new store. Cuts a torn last line
 * off (its bytes would otherwise be glued to the next append). */
static int dir_load_file(struct fh_dir *d, char *errstr, size_t errsz)
{
        FILE *fp = fopen(d->file, "r");
        char *line = NULL;
        size_t cap = 0, lineno = 0;
        off_t good = 0;
        ssize_t n;
        int rc = JB_OK, torn = 0;

        if (!fp) {
                if (errno == ENOENT)
                        return JB_OK;
                return jb_seterr(JB_EIO, errstr, errsz, "cannot read %s: %s", d->file, strerror(errno));
        }
        while ((n = getline(&line, &cap, fp)) > 0) {
                const char *path;
                uint8_t sha[SHA256_LEN];
                unsigned reads;
                int64_t at_ms;

                lineno++;
                if (line[n - 1] != '\n') { /* torn: the last line, cut below */
                        if (lineno == 1 &&
                            ((size_t)n > strlen(FH_MAGIC) || memcmp(line, FH_MAGIC, (size_t)n)))
                                rc = jb_seterr(
                                        JB_EINPUT, errstr, errsz,
                                        "%s is not a jibe file-hash list (it does not start with \"%s\"): "
                                        "move it aside and start jibe again (the digest checks of files "
                                        "read before then show as unverified)",
                                        d->file, FH_MAGIC);
                        torn = 1;
                        break;
                }
                line[n - 1] = '\0';
                if (lineno == 1) {
                        if (strcmp(line, FH_MAGIC) != 0) {
                                rc = jb_seterr(
                                        JB_EINPUT, errstr, errsz,
                                        "%s is not a jibe file-hash list (its first line is not \"%s\"): "
                                        "move it aside and start jibe again (the digest checks of files "
                                        "read before then show as unverified)",
                                        d->file, FH_MAGIC);
                                break;
                        }
                } else if ((size_t)n > FH_LINE_MAX ||
                           dir_parse_line(line, &path, sha, &reads, &at_ms) != 0) {
                        rc = jb_seterr(
                                JB_EINPUT, errstr, errsz,
                                "%s:%zu: damaged line (not path, SHA-256, reads, time): move the file "
                                "aside and start jibe again (the digest checks of files read before "
                                "then show as unverified)",
                                d->file, lineno);
                        break;
                } else if (map_set(&d->map, path, sha, reads, at_ms)) {
                        rc = jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                        break;
                } else {
                        d->lines++;
                }
                good += (off_t)n;
        }
        if (!rc && ferror(fp))
                rc = jb_seterr(JB_EIO, errstr, errsz, "cannot read %s: %s", d->file, strerror(errno));
        free(line);
        fclose(fp);
        if (rc)
                return rc;
        if (!torn) /* a torn first line is cut to an empty file: a new store */
                return JB_OK;
        if (truncate(d->file, good) != 0)
                return jb_seterr(JB_EIO, errstr, errsz, "cannot cut the torn last line of %s: %s",
                                 d->file, strerror(errno));
        return JB_OK;
}

static int dir_open_append(struct fh_dir *d, char *errstr, size_t errsz)
{
        d->fd = open(d->file, O_WRONLY | O_APPEND | O_CLOEXEC);
        if (d->fd < 0)
                return jb_seterr(JB_EIO, errstr, errsz, "cannot open %s: %s", d->file, strerror(errno));
        return JB_OK;
}

/* Rewrites the file from the map (atomically) and reopens it for appending. Caller locks. */
static int dir_compact(struct fh_dir *d, char *errstr, size_t errsz)
{
        const struct sset_ent *se;
        struct buf b;
        size_t i = 0;
        int rc = JB_OK;

        buf_init(&b, SIZE_MAX / 2); /* the map is in memory already: this is its text */
        if (buf_append(&b, FH_MAGIC "\n", strlen(FH_MAGIC) + 1))
                rc = JB_ENOMEM;
        while (!rc && (i = sset_next(&d->map, i, &se)) != 0)
                rc = dir_format(&b, se->s, se->v);
        if (rc) {
                buf_clear(&b);
                return jb_seterr(rc, errstr, errsz, "out of memory");
        }
        rc = state_replace_file(d->file, b.p, b.len, errstr, errsz);
        buf_clear(&b);
        if (rc)
                return rc;
        if (d->fd >= 0)
                close(d->fd);
        d->fd = -1;
        d->lines = d->map.n;
        return dir_open_append(d, errstr, errsz);
}

static int dir_maybe_compact(struct fh_dir *d, char *errstr, size_t errsz)
{
        if (d->fd >= 0 && d->lines <= 2 * d->map.n + FH_COMPACT_SLACK)
                return JB_OK;
        return dir_compact(d, errstr, errsz);
}

static int dir_put(struct filehash *fh, const char *path, const uint8_t sha[SHA256_LEN], unsigned reads,
                   char *errstr, size_t errsz)
{
        struct fh_dir *d = (struct fh_dir *)fh;
        struct fh_ent e;
        struct buf b;
        int rc;

        if (!path_ok(path))
                return jb_seterr(
                        JB_EINPUT, errstr, errsz,
                        "a path that is empty or holds a tab or a line break cannot be kept in %s",
                        d->file);
        memcpy(e.sha, sha, SHA256_LEN);
        e.reads = reads ? reads : 1;
        e.at_ms = msg_now_ms();
        buf_init(&b, strlen(path) + 128);
        if (dir_format(&b, path, &e)) {
                buf_clear(&b);
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        }
        pthread_mutex_lock(&d->mu);
        rc = map_set(&d->map, path, e.sha, e.reads, e.at_ms);
        if (rc)
                jb_seterr(rc, errstr, errsz, "out of memory");
        else if (d->fd < 0)
                rc = dir_compact(d, errstr, errsz); /* writes this entry too */
        else if (state_write_all(d->fd, b.p, b.len) != 0)
                rc = jb_seterr(JB_EIO, errstr, errsz, "cannot write %s: %s", d->file, strerror(errno));
        else {
                d->lines++;
                rc = dir_maybe_compact(d, errstr, errsz);
        }
        pthread_mutex_unlock(&d->mu);
        buf_clear(&b);
        return rc;
}

static int dir_load(struct filehash *fh, filehash_fn fn, void *opaque, char *errstr, size_t errsz)
{
        struct fh_dir *d = (struct fh_dir *)fh;
        int rc;

        (void)errstr;
        (void)errsz;
        pthread_mutex_lock(&d->mu);
        rc = map_each(&d->map, fn, opaque);
        pthread_mutex_unlock(&d->mu);
        return rc;
}

static int dir_forget_before(struct filehash *fh, int64_t at_ms, char *errstr, size_t errsz)
{
        struct fh_dir *d = (struct fh_dir *)fh;
        const struct sset_ent *se;
        struct sset old;
        size_t i = 0;
        int rc = JB_OK;

        pthread_mutex_lock(&d->mu);
        /* Forgotten entries leave the map; their lines stay in the file until the next
         * compaction (a reload before then brings them back for the next forget). */
        old = d->map;
        sset_init(&d->map);
        while ((i = sset_next(&old, i, &se)) != 0) {
                struct fh_ent *e = se->v;

                if (e->at_ms < at_ms || rc) {
                        free(e);
                } else if (sset_put(&d->map, se->s, e)) {
                        free(e);
                        rc = JB_ENOMEM;
                }
        }
        sset_clear(&old);
        if (rc)
                jb_seterr(rc, errstr, errsz, "out of memory");
        else
                rc = dir_maybe_compact(d, errstr, errsz);
        pthread_mutex_unlock(&d->mu);
        return rc;
}

static void dir_destroy(struct filehash *fh)
{
        struct fh_dir *d = (struct fh_dir *)fh;

        if (d->fd >= 0)
                close(d->fd);
        map_clear(&d->map);
        sset_clear(&d->map);
        pthread_mutex_destroy(&d->mu);
        free(d->file);
        free(d);
}

static const struct filehash_ops dir_ops = {dir_put, dir_load, dir_forget_before, dir_destroy};

struct filehash *filehash_dir_new(const char *dir, char *errstr, size_t errsz)
{
        struct fh_dir *d = calloc(1, sizeof(*d));
        size_t n;
        int rc;

        if (!d || !dir) {
                free(d);
                jb_seterr(d ? JB_EINPUT : JB_ENOMEM, errstr, errsz,
                          d ? "no state directory" : "out of memory");
                return NULL;
        }
        d->fh.ops = &dir_ops;
        d->fd = -1;
        sset_init(&d->map);
        pthread_mutex_init(&d->mu, NULL);
        n = strlen(dir) + sizeof(FH_FILE) + 1;
        if (!(d->file = malloc(n))) {
                jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                dir_destroy(&d->fh);
                return NULL;
        }
        snprintf(d->file, n, "%s/%s", dir, FH_FILE);
        if (state_mkdirs(dir) != 0) {
                jb_seterr(JB_EIO, errstr, errsz, "cannot create %s: %s", dir, strerror(errno));
                dir_destroy(&d->fh);
                return NULL;
        }
        rc = dir_load_file(d, errstr, errsz);
        if (!rc) { /* a new file gets its first line; an old one grows (or is compacted now) */
                struct stat sb;

                if (stat(d->file, &sb) != 0 || sb.st_size == 0 ||
                    d->lines > 2 * d->map.n + FH_COMPACT_SLACK)
                        rc = dir_compact(d, errstr, errsz);
                else
                        rc = dir_open_append(d, errstr, errsz);
        }
        if (rc) {
                dir_destroy(&d->fh);
                return NULL;
        }
        return &d->fh;
}

/* ---- the Kafka backend ---- */

struct fh_kafka {
        struct filehash fh;
        pthread_mutex_t mu;
        struct ktopic *t;
        struct sset map; /* what the last load() read (forget_before() tombstones from it) */
        int loaded;
};

/* The value of one record: {"v":1,"type":"filehash","sha256":"<hex>","reads":N,"at_ms":N}. */
static int kf_encode(char *out, size_t outsz, const uint8_t sha[SHA256_LEN], unsigned reads,
                     int64_t at_ms)
{
        char hex[SHA256_HEX_LEN + 1];
        int n;

        sha256_hex(sha, hex);
        n = snprintf(out, outsz,
                     "{\"v\":1,\"type\":\"filehash\",\"sha256\":\"%s\",\"reads\":%u,\"at_ms\":%" PRId64
                     "}",
                     hex, reads, at_ms);
        return n > 0 && (size_t)n < outsz ? n : -1;
}

/* Reads a record's value (untrusted: anyone who can write the topic wrote it). 0, or -1. */
static int kf_decode(const void *val, size_t vlen, uint8_t sha[SHA256_LEN], unsigned *reads,
                     int64_t *at_ms)
{
        cJSON *j, *v, *ty, *h, *r, *t;
        int ok;

        if (!val || vlen == 0 || vlen > FH_VALUE_MAX)
                return -1;
        if (!(j = cJSON_ParseWithLength(val, vlen)))
                return -1;
        v = cJSON_GetObjectItemCaseSensitive(j, "v");
        ty = cJSON_GetObjectItemCaseSensitive(j, "type");
        h = cJSON_GetObjectItemCaseSensitive(j, "sha256");
        r = cJSON_GetObjectItemCaseSensitive(j, "reads");
        t = cJSON_GetObjectItemCaseSensitive(j, "at_ms");
        ok = cJSON_IsObject(j) && cJSON_IsNumber(v) && v->valuedouble == 1 && cJSON_IsString(ty) &&
             strcmp(ty->valuestring, "filehash") == 0 && cJSON_IsString(h) &&
             sha256_from_hex(h->valuestring, sha) == 0 && cJSON_IsNumber(r) && r->valuedouble >= 1 &&
             r->valuedouble <= 1000000 && cJSON_IsNumber(t) && t->valuedouble >= 0 &&
             t->valuedouble < 9.0e15;
        if (ok) {
                *reads = (unsigned)r->valuedouble;
                *at_ms = (int64_t)t->valuedouble;
        }
        cJSON_Delete(j);
        return ok ? 0 : -1;
}

static int kf_put_locked(struct fh_kafka *k, const char *path, const char *val, size_t vlen,
                         char *errstr, size_t errsz)
{
        size_t pl = strlen(FILEHASH_KEY_PREFIX), n = strlen(path);
        char *key = malloc(pl + n + 1);
        int rc;

        if (!key)
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        memcpy(key, FILEHASH_KEY_PREFIX, pl);
        memcpy(key + pl, path, n + 1);
        rc = ktopic_put(k->t, key, pl + n, val, vlen, errstr, errsz);
        free(key);
        return rc;
}

static int kf_put(struct filehash *fh, const char *path, const uint8_t sha[SHA256_LEN], unsigned reads,
                  char *errstr, size_t errsz)
{
        struct fh_kafka *k = (struct fh_kafka *)fh;
        char val[FH_VALUE_MAX];
        int n, rc;

        if (!path || !*path)
                return jb_seterr(JB_EINPUT, errstr, errsz, "a file without a path cannot be kept");
        n = kf_encode(val, sizeof(val), sha, reads ? reads : 1, msg_now_ms());
        if (n < 0)
                return jb_seterr(JB_EINPUT, errstr, errsz, "cannot encode a file hash");
        pthread_mutex_lock(&k->mu);
        rc = kf_put_locked(k, path, val, (size_t)n, errstr, errsz);
        pthread_mutex_unlock(&k->mu);
        return rc;
}

/* One load() in progress. */
struct kf_loading {
        struct sset map;
        size_t bad;
        int oom;
};

static int kf_load_record(void *opaque, const void *key, size_t klen, const void *val, size_t vlen,
                          int32_t partition, int64_t offset)
{
        struct kf_loading *L = opaque;
        size_t pl = strlen(FILEHASH_KEY_PREFIX);
        uint8_t sha[SHA256_LEN];
        unsigned reads;
        int64_t at_ms;
        char *path;

        (void)partition;
        (void)offset;
        if (!key || klen <= pl || memcmp(key, FILEHASH_KEY_PREFIX, pl) != 0)
                return JB_OK; /* the scanner's memory, the instances' status: not ours */
        if (memchr((const char *)key + pl, '\0', klen - pl)) {
                L->bad++;
                return JB_OK;
        }
        if (!(path = strndup((const char *)key + pl, klen - pl)))
                return JB_ENOMEM;
        if (!val) {
                map_del(&L->map, path); /* forgotten */
        } else if (kf_decode(val, vlen, sha, &reads, &at_ms) != 0) {
                L->bad++;
                map_del(&L->map, path); /* an unreadable latest value: nothing known */
        } else if (map_set(&L->map, path, sha, reads, at_ms)) {
                free(path);
                return JB_ENOMEM;
        }
        free(path);
        return JB_OK;
}

static int kf_reload(struct fh_kafka *k, char *errstr, size_t errsz)
{
        struct ktopic_opts ko = {NULL, "jibe-filehash-loader", "scanner", "the status topic",
                                 FH_LOAD_PATIENCE_MS};
        struct kf_loading L;
        int rc;

        memset(&L, 0, sizeof(L));
        sset_init(&L.map);
        rc = ktopic_load(k->t, &ko, kf_load_record, &L, errstr, errsz);
        if (rc) {
                if (rc == JB_ENOMEM)
                        jb_seterr(rc, errstr, errsz, "out of memory");
                map_clear(&L.map);
                sset_clear(&L.map);
                return rc;
        }
        if (L.bad)
                log_msg(LL_WARN, "scanner",
                        "%zu file-hash records of the status topic %s do not read and were skipped: "
                        "those files' digest checks show as unverified",
                        L.bad, ktopic_topic(k->t));
        map_clear(&k->map);
        sset_clear(&k->map);
        k->map = L.map;
        k->loaded = 1;
        return JB_OK;
}

static int kf_load(struct filehash *fh, filehash_fn fn, void *opaque, char *errstr, size_t errsz)
{
        struct fh_kafka *k = (struct fh_kafka *)fh;
        int rc;

        pthread_mutex_lock(&k->mu);
        rc = kf_reload(k, errstr, errsz);
        if (!rc)
                rc = map_each(&k->map, fn, opaque);
        pthread_mutex_unlock(&k->mu);
        return rc;
}

static int kf_forget_before(struct filehash *fh, int64_t at_ms, char *errstr, size_t errsz)
{
        struct fh_kafka *k = (struct fh_kafka *)fh;
        const struct sset_ent *se;
        struct sset keep;
        size_t i = 0;
        int rc = JB_OK;

        pthread_mutex_lock(&k->mu);
        if (!k->loaded)
                rc = kf_reload(k, errstr, errsz);
        sset_init(&keep);
        while (!rc && (i = sset_next(&k->map, i, &se)) != 0) {
                const struct fh_ent *e = se->v;

                if (e->at_ms < at_ms)
                        rc = kf_put_locked(k, se->s, NULL, 0, errstr, errsz);
                else if (map_set(&keep, se->s, e->sha, e->reads, e->at_ms))
                        rc = jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        }
        if (!rc)
                rc = ktopic_flush(k->t, errstr, errsz);
        if (!rc) {
                map_clear(&k->map);
                sset_clear(&k->map);
                k->map = keep;
        } else {
                map_clear(&keep);
                sset_clear(&keep);
        }
        pthread_mutex_unlock(&k->mu);
        return rc;
}

static void kf_destroy(struct filehash *fh)
{
        struct fh_kafka *k = (struct fh_kafka *)fh;

        ktopic_free(k->t); /* waits (bounded) for what is queued */
        map_clear(&k->map);
        sset_clear(&k->map);
        pthread_mutex_destroy(&k->mu);
        free(k);
}

static const struct filehash_ops kf_ops = {kf_put, kf_load, kf_forget_before, kf_destroy};

struct filehash *filehash_kafka_new(const char *brokers, const char *topic, const char *const *props,
                                    char *errstr, size_t errsz)
{
        struct fh_kafka *k = calloc(1, sizeof(*k));

        if (!k) {
                jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                return NULL;
        }
        k->fh.ops = &kf_ops;
        sset_init(&k->map);
        if (!(k->t = ktopic_new(brokers, topic, props, "jibe-filehash", errstr, errsz))) {
                sset_clear(&k->map);
                free(k);
                return NULL;
        }
        pthread_mutex_init(&k->mu, NULL);
        return &k->fh;
}

void filehash_free(struct filehash *fh)
{
        if (fh)
                fh->ops->destroy(fh);
}
