/*
 * sim.h - internal API of jibe-aa-sim, the Access Anywhere (File Fabric) simulator.
 *
 * Files and what they own:
 *   sim_main.c     command line, sim.json, signals, port file, daemon start/stop
 *   sim_http.c     libmicrohttpd plumbing: request contexts, bodies, routing, getFile
 *                  streaming (download error headers, cut bodies), the uploader (raw PUT and
 *                  multipart POST), request log lines
 *   sim_rpc.c      the /api/rpc.php calls (one function per call, one dispatch table),
 *                  asynchronous folder refreshes, background tasks
 *   sim_model.c    the index (folder tree, hash maps) and the S3 truth (reconcile, diff,
 *                  index.jsonl load/dump)
 *   sim_faults.c   faults (latency, 500/429, token lifetime, slow bodies, refresh timing,
 *                  download errors and cuts, hostile getFile answers, uploader XML,
 *                  one-element lists, sync switch),
 *                  counters, stats
 *   sim_inspect.c  the /sim/... inspection and control endpoints
 *   sim_util.c     string map, JSON writer, form decoding, times, base64, MD5, random
 *
 * Locking: one mutex (sim.lock) protects everything in struct sim except the immutable
 * configuration (users' logins and secrets, providers' names and keys) and the
 * request-local data; a user's lastlogin, the refreshes and the tasks are under the lock. Handlers
 * take it around model access and release it before sleeping or streaming.
 * Ownership: struct sim owns the model, maps and configuration; sim_free() frees all.
 */
#ifndef SIM_H
#define SIM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "jb.h"

/* ---------------------------------------------------------------- string map (sim_util.c) */
struct smap_ent {
        struct smap_ent *next;
        uint64_t hash;
        int64_t n; /* counter or number (user data) */
        void *p;   /* user data */
        char key[];
};

struct smap {
        struct smap_ent **tab;
        size_t nbuckets, count;
};

void smap_init(struct smap *m);
/* Free every entry; freep (optional) is called on each non-NULL p. */
void smap_clear(struct smap *m, void (*freep)(void *));
struct smap_ent *smap_get(const struct smap *m, const char *key);
/* Get or create (n = 0, p = NULL). NULL only on allocation failure. */
struct smap_ent *smap_put(struct smap *m, const char *key);
/* Remove an entry; returns its p (caller frees) or NULL. */
void *smap_del(struct smap *m, const char *key);
/* Add one to a counter; allocation failures are ignored (a counter is lost). */
void smap_incr(struct smap *m, const char *key);
uint64_t sim_hash(const void *p, size_t n, uint64_t seed);

/* ---------------------------------------------------------------- JSON writer (sim_util.c) */
/* Writes JSON into a buf; the first failure sticks in err and later calls do nothing. */
struct jw {
        struct buf b;
        int err;
        int depth;
        bool first[32];
        bool after_key;
};

void jw_init(struct jw *w, size_t max);
void jw_free(struct jw *w);
void jw_obj(struct jw *w);
void jw_end_obj(struct jw *w);
void jw_arr(struct jw *w);
void jw_end_arr(struct jw *w);
void jw_key(struct jw *w, const char *k);
void jw_str(struct jw *w, const char *s);
void jw_strn(struct jw *w, const char *s, size_t n);
void jw_int(struct jw *w, int64_t v);
void jw_num(struct jw *w, double v);
void jw_bool(struct jw *w, bool v);
void jw_raw(struct jw *w, const char *s); /* a complete JSON value */
void jw_kstr(struct jw *w, const char *k, const char *s);
void jw_kint(struct jw *w, const char *k, int64_t v);
void jw_kistr(struct jw *w, const char *k, int64_t v); /* number as a JSON string */
void jw_kbool(struct jw *w, const char *k, bool v);

/* ---------------------------------------------------------------- forms (sim_util.c) */
struct form {
        char **k, **v;
        size_t n, cap;
};

void form_init(struct form *f);
void form_free(struct form *f);
/* Decode application/x-www-form-urlencoded text and add its pairs. */
int form_parse(struct form *f, const char *s, size_t n) JB_MUST_CHECK;
int form_add(struct form *f, const char *k, const char *v) JB_MUST_CHECK; /* copies */
const char *form_get(const struct form *f, const char *k);                /* first value or NULL */

/* ---------------------------------------------------------------- misc (sim_util.c) */
int64_t sim_now_ms(void);                          /* monotonic milliseconds */
void sim_fmt_time(int64_t epoch, char out[20]);    /* "YYYY-MM-DD HH:MM:SS" UTC */
int sim_parse_time(const char *s, int64_t *epoch); /* inverse; JB_EINPUT if malformed */
int sim_parse_i64(const char *s, int64_t *v);      /* whole string, decimal */
void sim_random_hex(char *out, size_t nhex);       /* nhex hex digits + NUL */
/* Decode standard or URL-safe base64; returns malloc'd NUL-terminated bytes or NULL. */
char *sim_b64_decode(const char *s, size_t *outlen);
struct sim_md5 {
        uint32_t h[4];
        uint64_t len;
        unsigned char blk[64];
};
void sim_md5_init(struct sim_md5 *c);
void sim_md5_update(struct sim_md5 *c, const void *p, size_t n);
void sim_md5_hex(struct sim_md5 *c, char out[33]);
void sim_sleep_ms(int64_t ms);
const char *sim_content_type(const char *name); /* from the extension */

/* ---------------------------------------------------------------- model (sim_model.c) */
enum node_type { N_ROOT, N_PROV, N_BUCKET, N_DIR, N_FILE };

struct prov;
struct bucket;

struct node {
        struct node *parent;
        struct node *cnext; /* chain in the (parent, name) map */
        struct node *inext; /* chain in the id map */
        uint64_t id;
        uint64_t chash;
        enum node_type type;
        char *name;
        char *ctype;                /* content type given at upload, or NULL */
        int64_t size, mtime, ltime; /* ltime: client's local time (upload), 0 = mtime */
        struct prov *prov;
        struct bucket *bkt; /* the bucket this node is in (or is), NULL above */
        uint32_t mark;
        /* folders */
        struct node **kids;
        uint32_t nkids, capkids, nsub, kidx;
        bool sorted;
};

struct bucket {
        char *name;
        struct prov *prov;
        struct node *node;
};

/* access_key, arn, user_agent: read from sim.json (jibe-ctgen writes them), served by no call. */
struct prov {
        char *id, *name, *access_key, *arn, *user_agent;
        struct bucket *buckets;
        size_t nbuckets;
        int taskseq; /* last number used in a task id sync-<id>-<n> */
        struct node *node;
};

/* A provider sync background task (getUserBackgroundTasks). */
struct task {
        char id[96];
        struct prov *prov;
        char callback[16]; /* "ReSync" or "InitialSync" */
        bool running;      /* status w; else finished (c / completed) */
        char added[20], completed[20];
        int64_t files;
};

struct model {
        char *dir; /* --root */
        struct node *root;
        struct node **ctab; /* (parent, name) -> node */
        size_t cbuckets, ccount;
        struct node **itab; /* id -> node */
        size_t ibuckets, icount;
        uint64_t next_id;
        uint32_t gen;
        struct prov *provs;
        size_t nprovs;
        int64_t t0; /* start time (epoch) */
};

struct recon_stats {
        int64_t files, added, changed, removed;
};

int model_init(struct model *m, const char *dir) JB_MUST_CHECK;
void model_free(struct model *m);
/* After providers are set: create their folders and bucket folders (stable ids). */
int model_add_providers(struct model *m) JB_MUST_CHECK;
struct node *model_by_id(const struct model *m, uint64_t id);
struct node *model_by_sid(const struct model *m, const char *sid); /* "" = root */
struct node *model_child(const struct model *m, const struct node *dir, const char *name);
struct node *model_add(struct model *m, struct node *dir, const char *name, enum node_type t);
void model_remove(struct model *m, struct node *n);
void model_sort_kids(struct node *dir);
struct bucket *model_bucket(const struct model *m, const char *name);
struct prov *model_prov(const struct model *m, const char *id);
/* DIR/truth/<bucket>/<key of n>; n must be a bucket, folder or file. */
int model_truth_path(const struct model *m, const struct node *n, struct buf *out) JB_MUST_CHECK;
/* The key of n inside its bucket ("" for the bucket itself). */
int model_key(const struct node *n, struct buf *out) JB_MUST_CHECK;
/* Re-read dir's children from the truth (recursively if asked). */
int model_reconcile(struct model *m, struct node *dir, bool recursive, struct recon_stats *st);
/* syncOnProviderEvent with a key: result is "updated", "removed" or "unchanged". */
int model_sync_key(struct model *m, struct bucket *b, const char *key, const char **result, char *errstr,
                   size_t errsz);
/* Replace the index of every bucket with JSONL text; on error nothing changes. */
int model_load_index(struct model *m, const char *text, size_t len, char *errstr, size_t errsz);
int model_dump_index(struct model *m, struct buf *out) JB_MUST_CHECK;
/* Truth vs index diff as JSON (see README). only: one bucket or NULL; excl: names. */
int model_diff(struct model *m, const char *only, const char *const *excl, size_t nexcl, struct jw *out);
/* Prune empty folders upward from n that the truth does not have. */
void model_prune(struct model *m, struct node *n);
/* Write an item (fi_* fields) for n. */
void model_item_json(const struct model *m, struct node *n, struct jw *w);
int64_t model_count_files(const struct node *n);

/* ---------------------------------------------------------------- simulator state */
struct user {
        char *login, *password, *userid;
        char **authtokens;
        size_t nauth;
        int64_t lastlogin; /* epoch of the previous login, 0 = never */
};

/* Fault settings; -1 in an int64_t field means "sim.json's value". */
struct faults {
        int64_t latency_ms;
        double e500, e429;
        int64_t slow_bps;
        int64_t refresh_ms, refresh_quiet_ms;
        bool refresh_stuck;
        bool single_object;
        double dl_err_rate, dl_cut_rate;
        int64_t dl_err_http;
        bool dl_err_legacy;
        bool uploader_xml;
        bool sync_event_off;
        int64_t answer_pad;           /* bytes of padding added to each JSON answer of rpc.php */
        char answer_pad_fn[64];       /* ... of this function only; "": of every function */
        char sync_refuse_prefix[256]; /* "": off */
        /* hostile getFile answers (test faults, see PROTOCOL.md): kinds is a bit set of
         * enum dl_hostile, served in turn at hostile_rate */
        double hostile_rate;
        unsigned hostile_kinds;
        /* resync faults: syncOnProviderEvent and cloud refreshes only (see sim_faults.c) */
        int sync_fault; /* enum sync_fault */
        double sync_fault_rate;
        int64_t sync_retry_after_s;
        uint64_t rng;
};

/* A hostile getFile answer: something that is not the file, with no failure header. */
enum dl_hostile {
        DLH_NONE = 0,
        DLH_HTML,     /* 200 text/html maintenance page */
        DLH_REDIRECT, /* 301 to another address, small HTML body */
        DLH_JSON404,  /* 404 with a JSON body that is not the API's (no "status") */
        DLH_SHORT,    /* the first half of the file, Content-Length lying or absent */
        DLH_SIZE,     /* the file and 16 extra bytes after it, Content-Length matching the
                         body (alt: the bytes before it, no Content-Length) */
        DLH_NKINDS
};
extern const char *const dl_hostile_names[DLH_NKINDS];

/* What an injected resync fault answers. */
enum sync_fault {
        SYNC_FAULT_NONE = 0,
        SYNC_FAULT_RESET,  /* the connection is closed without an answer */
        SYNC_FAULT_HTML,   /* HTTP 200 with an HTML maintenance page */
        SYNC_FAULT_EMPTY,  /* HTTP 200 with an empty body */
        SYNC_FAULT_E429,   /* HTTP 429 with Retry-After: sync_retry_after_s */
        SYNC_FAULT_E500,   /* HTTP 500 with an HTML body */
        SYNC_FAULT_REFUSE, /* HTTP 400, JSON status bad_request: a permanent refusal */
};

/* An asynchronous folder refresh (getFolderContents refresh=y refreshtype=a). */
struct refresh {
        uint64_t folder; /* fi_id of the folder */
        int64_t due_ms;  /* sim_now_ms() when it is applied */
};

struct upload {
        char *code;
        uint64_t folder; /* fi_id of the target folder */
        char *name;
        char *ctype;
        char *tmppath;
        int64_t want_size; /* -1: unknown */
        int64_t ltime;
        int64_t received;
        char md5[33];
        bool busy, done;
        bool json; /* doInitUpload had responsetype=json */
};

struct sim {
        pthread_mutex_t lock;
        struct model m;
        char *sitetitle;
        struct user *users;
        size_t nusers;
        double token_lifetime_s;
        struct smap tokens;  /* session token -> n = issue time (ms), p = user */
        struct smap uploads; /* upload code -> struct upload */
        struct smap calls, syncs, sync_buckets, downloads;
        int64_t http_errors_injected;
        struct faults f;
        bool quiet;
        /* sim.json settings the faults can override */
        int64_t cfg_refresh_ms, cfg_refresh_quiet_ms;
        bool cfg_single_object, cfg_sync_event;
        /* asynchronous refreshes */
        struct smap refreshes;    /* refresh token -> p = struct refresh */
        struct smap refreshed;    /* folder id -> n = sim_now_ms() of the last applied refresh */
        struct smap refresh_done; /* stats: "<bucket>/<key>/" -> applied refreshes */
        int64_t refresh_started, dl_errors_injected, dl_cuts_injected;
        int64_t hostile_injected[DLH_NKINDS]; /* per kind; [DLH_NONE] unused */
        unsigned hostile_next;                /* the kind served next, in turn */
        int64_t sync_faults_injected;
        /* test device, not a server behaviour: "<bucket>/<key>" of files every listing
         * leaves out while checkPathExists and getFile still serve them (DIR/hidden.txt) */
        struct smap hidden;
        /* provider sync tasks, oldest first */
        struct task *tasks;
        size_t ntasks, captasks;
};

void sim_free(struct sim *s);
int sim_load_config(struct sim *s, const char *dir, char *errstr, size_t errsz);
void sim_upload_free(void *p);
/* Append a task for p (id: sync-<pid>-<n>, or the given one); NULL on allocation failure. */
struct task *sim_add_task(struct sim *s, struct prov *p, const char *id);

/* sim_faults.c (call with the lock held unless said otherwise) */
void faults_reset(struct faults *f);
/* Decide an injected HTTP error for one rpc/uploader request: 0, 500 or 429. */
int faults_pick(struct sim *s);
/* true with probability rate (0..1); draws from the fault generator only when 0 < rate < 1 */
bool faults_roll(struct sim *s, double rate);
/* The hostile answer (enum dl_hostile) the next getFile gets, DLH_NONE when none; counts it.
 * *alt: serve its second form (every second one of a kind; see enum dl_hostile). */
int faults_hostile_pick(struct sim *s, bool *alt);
int64_t sim_refresh_ms(const struct sim *s);
int64_t sim_refresh_quiet_ms(const struct sim *s);
bool sim_single_object(const struct sim *s);
bool sim_sync_event_on(const struct sim *s);
int faults_set(struct sim *s, const struct form *f, char *errstr, size_t errsz);
/* The resync fault (enum sync_fault) for one rpc request with form f, counted; NONE unless
 * it is a resync call (syncOnProviderEvent, getFolderContents with refresh=y or a
 * refreshtoken) and the fault's rate rolls. */
int faults_sync_pick(struct sim *s, const struct form *f);
void faults_json(const struct sim *s, struct jw *w);
void stats_json(const struct sim *s, struct jw *w);
void stats_reset(struct sim *s);

/* sim_rpc.c: one call. The result is JSON in out (http 200 unless set), or a file. */
struct rpc_result {
        struct jw out;
        int http;
        const char *status;   /* api status for the log (static string) */
        const char *function; /* for the log (points into the form) */
        const char *ctype;    /* content type of out; NULL: application/json */
        int fd;               /* getFile: open truth file, or -1 */
        int64_t fsize;
        int dl_error;        /* getFile: 0, or the HTTP status of an injected failure */
        bool dl_legacy;      /* ... sent with the X-SME-* headers only */
        bool dl_cut;         /* getFile: end the body after half its bytes */
        int dl_hostile;      /* getFile: enum dl_hostile to serve instead of the file */
        bool dl_hostile_alt; /* ... its second form (see enum dl_hostile) */
};

void sim_rpc(struct sim *s, const struct form *f, struct rpc_result *r);
/* Apply the refreshes that are due (call with the lock held). */
void sim_apply_refreshes(struct sim *s);
/* The uploader: claim the upload (its temporary file path, malloc'd, in *tmppath; *json:
 * answer in JSON), then release it with the outcome. b64name NULL: no name to check (the
 * multipart form). JB_ENOTFOUND: unknown code; JB_EINPUT: name mismatch or busy. */
int sim_upload_claim(struct sim *s, const char *code, const char *b64name, char **tmppath, bool *json,
                     char *errstr, size_t errsz);
void sim_upload_release(struct sim *s, const char *code, bool ok, int64_t received, const char *md5);

/* sim_inspect.c: a /sim/... request. body may be NULL. */
void sim_inspect(struct sim *s, const char *method, const char *url, const struct form *args,
                 const char *body, size_t bodylen, struct rpc_result *r);

/* sim_http.c */
struct MHD_Daemon;
/* Listens on the IPv4 address addr (numeric, e.g. "127.0.0.1") and port (0: a free one, put
 * in *bound); NULL with errstr set when addr is not an IPv4 address or the port is unusable. */
struct MHD_Daemon *sim_http_start(struct sim *s, const char *addr, uint16_t port, uint16_t *bound,
                                  char *errstr, size_t errsz);
void sim_http_stop(struct MHD_Daemon *d);

#endif
