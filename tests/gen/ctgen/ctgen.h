/*
 * ctgen.h - internal API of jibe-ctgen, the deterministic CloudTrail log generator used by
 * jibe's tests and benchmarks.
 *
 * Modules:
 *   gen_util.c   allocation, random numbers, time formatting, output buffer, gzip writer,
 *                atomic file writes
 *   gen_world.c  the simulated estate: accounts, regions, providers, buckets, identities,
 *                the S3 truth (in memory and on disk), sim.json, state, index.jsonl
 *   gen_rec.c    one CloudTrail record: its JSON text and its docs/EVENTS.md classification
 *   gen_plan.c   activity over a time window -> records -> log files (a "plan"), and the
 *                execution of a plan into a deployment directory with its expected results
 *   gen_huge.c   one huge log file written as a stream (benchmarks)
 *   gen_main.c   command line
 *
 * Ownership: structures own what their pointers point to unless a field is marked
 * "borrowed"; each has a *_free() that releases it. This is a test tool: small allocations go
 * through gen_xmalloc() and friends, which abort with a message when memory runs out.
 * Determinism: every random choice comes from a struct gen_rng seeded from --seed (and the
 * number of generator runs already done in the directory); nothing reads the clock except
 * the default of --now.
 */
#ifndef CTGEN_H
#define CTGEN_H

#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include <zlib.h>

#include "sha256.h"

/* ---------- gen_util.c ---------- */

void *gen_xmalloc(size_t n);
void *gen_xcalloc(size_t n, size_t sz);
void *gen_xrealloc(void *p, size_t n);
char *gen_xstrdup(const char *s);

/* xoshiro256** seeded through splitmix64; identical output on every platform. */
struct gen_rng {
        uint64_t s[4];
};
void gen_rng_seed(struct gen_rng *r, uint64_t seed, uint64_t stream);
uint64_t gen_rng_next(struct gen_rng *r);
uint64_t gen_rng_below(struct gen_rng *r, uint64_t n);  /* 0 <= x < n; n > 0 */
int gen_rng_pm(struct gen_rng *r, unsigned permille);   /* true with probability p/1000 */
uint64_t gen_mix64(uint64_t x);                         /* splitmix64 finaliser */
uint64_t gen_hash(const void *p, size_t n, uint64_t h); /* FNV-1a 64, chained */

void gen_fmt_iso(int64_t t, char out[32]);    /* 2026-11-29T06:01:02Z */
void gen_fmt_sim(int64_t t, char out[32]);    /* 2026-11-29 06:01:02 */
int gen_parse_iso(const char *s, int64_t *t); /* 0 on success */
int64_t gen_day_start(int64_t t);

/* Growable output buffer; abort on OOM. */
struct gen_ob {
        char *p;
        size_t len, cap;
};
void gen_ob_grow(struct gen_ob *o, size_t n);
void gen_ob_free(struct gen_ob *o);
void gen_ob_u64(struct gen_ob *o, uint64_t v);
void gen_ob_jstr(struct gen_ob *o, const char *s);     /* JSON string literal, quotes included */
void gen_ob_jstr_raw(struct gen_ob *o, const char *s); /* the same without the quotes */
void gen_ob_printf(struct gen_ob *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static inline void gen_ob_put(struct gen_ob *o, const void *s, size_t n)
{
        if (o->cap - o->len < n + 1)
                gen_ob_grow(o, n + 1);
        memcpy(o->p + o->len, s, n);
        o->len += n;
}
static inline void gen_ob_str(struct gen_ob *o, const char *s)
{
        gen_ob_put(o, s, strlen(s));
}
static inline void gen_ob_ch(struct gen_ob *o, char c)
{
        if (o->cap - o->len < 2)
                gen_ob_grow(o, 2);
        o->p[o->len++] = c;
}
#define GEN_LIT(o, s) gen_ob_put((o), (s), sizeof(s) - 1)

/* gzip writer on a file descriptor; one z_stream reused across files. */
struct gen_gz {
        z_stream z;
        int fd;
        int level;
        unsigned char *out;
        size_t outsz;
        uint64_t in_bytes;     /* uncompressed bytes of the current file */
        uint64_t out_bytes;    /* compressed bytes of the current file */
        int hash;              /* set by the caller: keep the SHA-256 of the uncompressed bytes */
        struct sha256_ctx sha; /* of the current file's content (what CloudTrail's hashValue is
                                * over), when hash (finish it yourself) */
};
int gen_gz_init(struct gen_gz *g, int level);
void gen_gz_begin(struct gen_gz *g, int fd);
int gen_gz_write(struct gen_gz *g, const void *p, size_t n); /* 0 or -1 (errno) */
int gen_gz_finish(struct gen_gz *g);
void gen_gz_free(struct gen_gz *g);

/*
 * Write a file atomically: DIR/.tmp-ctgen-<pid> then rename to DIR/REL (parents created).
 * gz: NULL writes the bytes as they are, else gzip-compressed. mtime: seconds, < 0 = now.
 * Returns 0, or -1 with errstr set.
 */
int gen_write_file(const char *dir, const char *rel, const void *p, size_t n, int64_t mtime,
                   struct gen_gz *gz, char *errstr, size_t errsz);
/* Percent-encode everything but unreserved characters and '/'. */
void gen_ob_urlenc(struct gen_ob *o, const char *s);

/* ---------- gen_world.c ---------- */

enum { GEN_MAX_BUCKETS = 16, GEN_MAX_PROVIDERS = 4, GEN_MAX_STREAMS = 8, GEN_MAX_IDENTS = 40 };

struct gen_obj {
        char *key;
        uint64_t size;
        int64_t mtime;
        uint32_t ver;
};

/* A set of objects: dense array (for random picks) + open-addressing hash of indexes. */
struct gen_keyset {
        struct gen_obj *v;
        size_t n, cap;
        int32_t *h;
        size_t hcap, used; /* used = live + tombstones */
};
int gen_ks_find(const struct gen_keyset *ks, const char *key); /* index or -1 */
void gen_ks_put(struct gen_keyset *ks, const char *key, uint64_t size, int64_t mtime, uint32_t ver);
int gen_ks_del(struct gen_keyset *ks, const char *key); /* 1 removed, 0 absent */
void gen_ks_copy(struct gen_keyset *dst, const struct gen_keyset *src);
void gen_ks_free(struct gen_keyset *ks);

struct gen_account {
        const char *id;
        int org; /* 1: logged by the organization trail */
};
struct gen_stream { /* one (account, region) pair: one series of log files */
        int acct;
        const char *region;
};
struct gen_provider {
        const char *id, *name, *access_key, *arn, *agent;
        const char *agent_full; /* a user agent string that contains agent */
        int64_t sync_start, sync_done;
        long sync_files;
};
struct gen_bucket {
        const char *name;
        int prov;   /* index in providers, -1: no provider manages it */
        int stream; /* where its data events are logged */
        int log;    /* the CloudTrail log bucket */
        struct gen_keyset truth, index;
};
enum gen_id_kind { GEN_ID_USER, GEN_ID_ROLE, GEN_ID_CONSOLE, GEN_ID_SELF };
struct gen_ident {
        int kind;
        int acct;
        int self; /* provider index when this is Access Anywhere itself, else -1 */
        char type[16], principal[64], arn[160], akid[24], user[48], role_arn[160];
        const char *agent;
};

/* Log file validation (history): digest files and the scenarios that break them. */
enum gen_dg_mode {
        GEN_DG_LEGACY, /* default: hourly digest-shaped files with placeholder hashes */
        GEN_DG_ON,     /* --digests: real, chained digests with SHA-256 values, backfills */
        GEN_DG_OFF     /* --no-digests: validation off, no digest files at all */
};
struct gen_dgopts {
        int mode;                                /* enum gen_dg_mode */
        unsigned hidden, deleted, flipped, gaps; /* scenario counts (GEN_DG_ON only) */
        int64_t now;                             /* the command's --now (set by history) */
};

struct gen_world {
        char *root;   /* deployment directory */
        char *logdir; /* root/truth/<log bucket> */
        uint64_t seed;
        unsigned runs; /* generator runs already done in root (from state) */
        int64_t init_now;
        int history_done;
        int64_t hist_t0, hist_t1;
        uint32_t ver; /* object version counter */
        const char *org;
        int nacct, nstream, nprov, nbucket, nident;
        struct gen_account acct[4];
        struct gen_stream stream[GEN_MAX_STREAMS];
        struct gen_provider prov[GEN_MAX_PROVIDERS];
        struct gen_bucket bucket[GEN_MAX_BUCKETS];
        struct gen_ident ident[GEN_MAX_IDENTS];
        int logbucket;
        struct gen_dgopts dg; /* set by the command line before history */
};

/* Fill the fixed estate (no disk access). root may be NULL (huge). */
void gen_world_setup(struct gen_world *w, const char *root, uint64_t seed);
void gen_world_free(struct gen_world *w);
/* Load state.json and the truth from w->root. 0 or -1 with errstr. */
int gen_world_load(struct gen_world *w, char *errstr, size_t errsz);
int gen_world_save_state(struct gen_world *w, char *errstr, size_t errsz);
int gen_world_write_simjson(struct gen_world *w, char *errstr, size_t errsz);
int gen_world_write_index(struct gen_world *w, const struct gen_ob *logindex, char *errstr,
                          size_t errsz);
/* Object content: deterministic bytes for (bucket, key, version). Caller frees. */
char *gen_content(const struct gen_world *w, int bucket, const char *key, uint32_t ver, uint64_t size);
/* Write / remove one truth object on disk. */
int gen_truth_put(struct gen_world *w, int bucket, const char *key, uint32_t ver, uint64_t size,
                  int64_t mtime, char *errstr, size_t errsz);
int gen_truth_del(struct gen_world *w, int bucket, const char *key, char *errstr, size_t errsz);
/* A fresh object key (may exist already); never conflicts with a folder of another key. */
char *gen_new_key(struct gen_rng *r);
int gen_world_init_cmd(struct gen_world *w, int64_t now, char *errstr, size_t errsz);

/* ---------- gen_rec.c ---------- */

enum gen_src { GEN_SRC_S3, GEN_SRC_EC2, GEN_SRC_IAM, GEN_SRC_STS, GEN_SRC_KMS, GEN_SRC_S3EXPRESS };
enum gen_ev {
        EV_GET,
        EV_HEAD,
        EV_LIST,
        EV_PUT,
        EV_COPY,
        EV_POST,
        EV_DELETE,
        EV_DELETEMANY,
        EV_CREATEMPU,
        EV_UPLOADPART,
        EV_COMPLETEMPU,
        EV_ABORTMPU,
        EV_PUTACL,
        EV_PUTTAGGING,
        EV_GETBUCKETACL,
        EV_EC2_DESCRIBE,
        EV_EC2_RUN,
        EV_IAM_CREATEKEY,
        EV_IAM_LISTUSERS,
        EV_STS_ASSUME,
        EV_KMS_DECRYPT,
        EV_S3X_PUT,
        EV_S3X_CREATESESSION,
        EV_N
};
enum gen_err { ERR_NONE, ERR_NULL, ERR_EMPTY, ERR_DENIED, ERR_NOSUCHKEY };
enum gen_km {
        KM_PARAM,   /* requestParameters.key */
        KM_RES,     /* no key field; the AWS::S3::Object resource names it */
        KM_NULLRES, /* "key": null; the resource names it */
        KM_NONE     /* no key anywhere (only an ARNPrefix): malformed for an object write */
};
enum gen_bm { BM_PARAM, BM_RES };
enum gen_eff { EFF_NONE, EFF_PUT, EFF_DEL, EFF_DELMANY };
enum gen_class {
        CL_MALFORMED,
        CL_NOT_S3,
        CL_FAILED,
        CL_NOT_WRITE,
        CL_SELF,
        CL_UNMANAGED,
        CL_COVERED,
        CL_PUT,
        CL_DELETE,
        CL_BUCKET,
        CL_N
};
extern const char *const gen_class_name[CL_N];

struct gen_rec {
        int64_t t;
        uint64_t rnd; /* seeds eventID, requestID, source address... */
        uint8_t src, ev, err, km, bm, eff, cls;
        int16_t bucket, src_bucket, ident, stream;
        char *key, *src_key;
        uint64_t size;
        uint32_t part, ver;
        uint64_t upload; /* multipart upload: seeds the uploadId */
        char **dkeys;    /* EFF_DELMANY: the keys removed */
        uint32_t ndkeys;
};
void gen_rec_free(struct gen_rec *r);
/* Append r as one JSON object. */
void gen_rec_json(const struct gen_world *w, const struct gen_rec *r, struct gen_ob *o);
/* docs/EVENTS.md classification; full: with bucket map, self identities and sync starts. */
int gen_classify(const struct gen_world *w, const struct gen_rec *r, int full);
const char *gen_ev_name(int ev);
void gen_rec_event_id(const struct gen_rec *r, struct gen_ob *o); /* appends the eventID */

/* ---------- gen_plan.c ---------- */

enum gen_batch { GEN_BATCH_5MIN, GEN_BATCH_TINY };
struct gen_window {
        int64_t t0, t1;           /* activity in [t0, t1) */
        int64_t now;              /* nothing is written after now */
        unsigned per_min;         /* mean actions per minute */
        int batch;                /* enum gen_batch */
        long files;               /* GEN_BATCH_TINY: exact number of files */
        int64_t late_lo, late_hi; /* if late_hi > 0: every file becomes visible in this range */
        unsigned delay_pm;        /* permille of files delivered hours late */
};
struct gen_file {
        int stream;
        int64_t w, v; /* written (name, folder) and visible (mtime) */
        uint32_t first, n;
        uint64_t rnd;
};
struct gen_plan {
        struct gen_rec *r;
        size_t nr, capr;
        uint32_t *order; /* records in file order */
        struct gen_file *f;
        size_t nf, capf;
};
/* Generate activity over the window: updates w's in-memory truth and index, appends records
 * and files to plan. */
void gen_window_run(struct gen_world *w, struct gen_rng *rng, const struct gen_window *win,
                    struct gen_plan *plan);
void gen_plan_free(struct gen_plan *plan);
/* Execute plan: truth changes, log files, expected results. extras: digests + other services. */
int gen_plan_write(struct gen_world *w, struct gen_plan *plan, struct gen_rng *rng, int extras,
                   struct gen_ob *logindex, char *errstr, size_t errsz);
/* Empty expected results and events-args (init). */
int gen_expect_init(struct gen_world *w, char *errstr, size_t errsz);
int gen_history_cmd(struct gen_world *w, int64_t now, double hours, unsigned per_min, char *errstr,
                    size_t errsz);
int gen_flood_cmd(struct gen_world *w, int64_t now, long files, char *errstr, size_t errsz);

/* ---------- gen_huge.c ---------- */
/* writes: per cent of records that are S3 object writes jibe acts on (PutObject, CopyObject,
 * CompleteMultipartUpload, DeleteObject(s)), or -1 for the default mix (about 19 %). */
int gen_huge_cmd(const char *out, uint64_t bytes, uint64_t seed, int level, int writes, char *errstr,
                 size_t errsz);

#endif
