/*
 * ct.h - CloudTrail for the rest of jibe: the streaming log-file reader, the classifier
 * that applies the rules of docs/EVENTS.md; the facts about log-file paths are in ct_path.h
 * (included).
 *
 * Reader (ct_reader.c): feed it the compressed bytes of one log file in chunks of any size;
 * it inflates them in fixed-size pieces (gzip members one after the other), validates the
 * JSON as it goes and calls back once per element of the "Records" array with that
 * element's raw text. Memory stays bounded by the largest record, never the file.
 * Two cores: once a file has fed CT_THREAD_MIN_DEFAULT compressed bytes, the rest of it is
 * inflated on a thread of the reader's own while the caller's thread scans, the two handing
 * over CT_RING_SLOTS buffers of CT_INFLATE_CHUNK bytes; smaller files (most CloudTrail
 * files, and every file of a flood) stay on the caller's thread. The callback always runs
 * on the thread that calls ct_reader_feed()/ct_reader_finish(); the inflate thread lives
 * for one file at most and is gone when feed or finish returns an error, when finish
 * returns, and after ct_reader_reset() or ct_reader_free().
 * Classifier (ct_classify.c): turns one record into an actionable event or a stats bucket
 * from the fields the reader's scan located; it parses a record with cJSON only when those
 * cannot settle it (escapes, a bucket or key only in resources[]).
 *
 * Ownership: the reader owns its buffers; record text passed to the callback is borrowed
 * and valid only during the call. A struct ct_event filled by ct_classify() owns what its
 * string fields point into (a cJSON tree, or copies of the strings): free it with
 * ct_event_clear().
 */
#ifndef CT_H
#define CT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "ct_path.h"
#include "jb.h"

/* Ceilings (docs/EVENTS.md: the decompressed-size limit defaults to at least 2 GiB). */
#define CT_MAX_DECOMPRESSED_DEFAULT (4ULL << 30) /* bytes of JSON in one log file */
#define CT_MAX_RECORD_DEFAULT (16U << 20)        /* bytes of one record */
#define CT_MAX_DEPTH 256                         /* JSON nesting */
#define CT_INFLATE_CHUNK (256U << 10)            /* inflate output per step */
#define CT_RING_SLOTS 4                          /* two-core path: inflated buffers in flight */
#define CT_THREAD_MIN_DEFAULT                                                                           \
        (256U << 10) /* compressed bytes before inflate moves to its
                                                  * own thread (ct_reader_set_thread_min) */

struct ct_limits {
        uint64_t max_decompressed; /* 0: CT_MAX_DECOMPRESSED_DEFAULT */
        size_t max_record;         /* 0: CT_MAX_RECORD_DEFAULT */
};

/* A top-level field of a record as found by the reader's scan, without parsing. */
enum ct_span_kind {
        CT_SPAN_ABSENT = 0,
        CT_SPAN_STRING, /* off/len: the characters between the quotes */
        CT_SPAN_NULL,
        CT_SPAN_OTHER, /* number, true/false, object or array */
};

struct ct_span {
        uint32_t off, len; /* relative to the record's first byte */
        uint8_t kind;      /* enum ct_span_kind */
        uint8_t escaped;   /* the string contains a backslash escape */
};

enum ct_hint_field {
        /* keys of the record */
        CT_F_EVENT_SOURCE = 0,
        CT_F_EVENT_NAME,
        CT_F_ERROR_CODE,
        CT_F_EVENT_TYPE,
        CT_F_EVENT_CATEGORY,
        CT_F_EVENT_TIME, /* these and below: what an S3 write needs (ct_classify) */
        CT_F_EVENT_ID,
        CT_F_ACCOUNT, /* recipientAccountId */
        CT_F_REGION,  /* awsRegion */
        CT_F_USER_AGENT,
        CT_F_USER_IDENTITY,      /* an object (CT_SPAN_OTHER): its fields below */
        CT_F_REQUEST_PARAMETERS, /* likewise */
        CT_F_RECORD_KEYS,        /* how many of the above */
        /* keys of the record's first userIdentity and requestParameters objects */
        CT_F_ACCESS_KEY = CT_F_RECORD_KEYS, /* userIdentity.accessKeyId */
        CT_F_ARN,                           /* userIdentity.arn */
        CT_F_BUCKET,                        /* requestParameters.bucketName */
        CT_F_KEY,                           /* requestParameters.key */
        CT_F_COUNT
};

/* What the scan saw of a record, handed to the callback with its text. */
struct ct_hint {
        int is_object;  /* 0: the element is not a JSON object */
        int must_parse; /* a key had escapes: the spans may miss fields */
        /* f[]: the first occurrence of each field; the keys of userIdentity and
         * requestParameters only in the first of each, when it is an object */
        int bad_string;               /* a string holds \u0000 or a lone surrogate */
        struct ct_span f[CT_F_COUNT]; /* first occurrence of each field */
};

/*
 * Called for each element of Records, in order. rec is the element's JSON text, len bytes,
 * followed by a NUL (so it can be parsed in place). idx counts elements from 0.
 * Return JB_OK to go on; anything else stops the reader, and ct_reader_feed() or
 * ct_reader_finish() returns that value (the errstr is the callback's to fill).
 */
typedef int (*ct_record_fn)(void *opaque, const char *rec, size_t len, const struct ct_hint *hint,
                            uint64_t idx);

struct ct_reader;

/* NULL limits: defaults. Returns NULL only when out of memory. Free with ct_reader_free(). */
struct ct_reader *ct_reader_new(const struct ct_limits *lim, ct_record_fn fn, void *opaque);
void ct_reader_free(struct ct_reader *rdr);
/* Forget the current file, keep the buffers: ready for the next file. */
void ct_reader_reset(struct ct_reader *rdr);
/*
 * Compressed bytes a file must have fed (before the current ct_reader_feed() call) for the
 * rest of it to be inflated on a second thread: 0 from the first byte (the tests force the
 * threaded path with it), UINT64_MAX never. Default CT_THREAD_MIN_DEFAULT. Takes effect at
 * the next file's start (or the next feed while the file is still on one thread).
 */
void ct_reader_set_thread_min(struct ct_reader *rdr, uint64_t bytes);
/*
 * Feed n compressed bytes. Returns JB_OK, JB_EINPUT (corrupt gzip, bad JSON, not a
 * CloudTrail log), JB_ELIMIT (decompressed size or a record over its ceiling), JB_ENOMEM,
 * or what the callback returned. After an error the reader refuses input until reset.
 * The bytes are the caller's again when it returns. On the threaded path a fault the
 * inflate thread found may be returned by a later feed or by finish (same code, same
 * reason); the records before it are delivered first, as on one thread.
 */
int ct_reader_feed(struct ct_reader *rdr, const void *gz, size_t n, char *errstr,
                   size_t errsz) JB_MUST_CHECK;
/* End of file: JB_OK only if the gzip stream and the JSON document were complete. */
int ct_reader_finish(struct ct_reader *rdr, char *errstr, size_t errsz) JB_MUST_CHECK;
/*
 * Hashing: with on, every decompressed byte of a file (all its gzip members, as gunzip
 * writes them: what a CloudTrail digest's hashValue covers) goes through SHA-256, on the
 * inflate thread when the file has one. Call between files (before the first feed, after
 * ct_reader_new() or ct_reader_reset()); it stays set. Off by default.
 * ct_reader_sha256(): 0 with out set once ct_reader_finish() has been called for a file read
 * with hashing on whose whole gzip stream inflated: finish returned JB_OK, or the content
 * failed (JB_EINPUT or JB_ELIMIT from the JSON scan, a record's ceiling or the callback;
 * after such a fault the reader goes on inflating what it is fed, for the hash only, still
 * answering with the fault). -1 otherwise (a damaged or truncated gzip stream, the
 * decompressed ceiling, hashing off), and after the next reset.
 */
void ct_reader_set_hash(struct ct_reader *rdr, int on);
int ct_reader_sha256(const struct ct_reader *rdr, uint8_t out[32]);
uint64_t ct_reader_bytes_in(const struct ct_reader *rdr);
uint64_t ct_reader_bytes_out(const struct ct_reader *rdr);
uint64_t ct_reader_records(const struct ct_reader *rdr);
/* The gzip library the reader was built with, e.g. "ISA-L 2.30.0" or "zlib 1.2.13". */
const char *ct_reader_inflate_library(void);

/* ---- classification (docs/EVENTS.md) ---- */

enum ct_class {
        CT_MALFORMED = 0,
        CT_NOT_S3,
        CT_FAILED,
        CT_NOT_WRITE,
        CT_SELF,
        CT_UNMANAGED,
        CT_COVERED,
        CT_PUT,
        CT_DELETE,
        CT_BUCKET,
        CT_NCLASS,
        CT_INSIGHT = 100, /* not a bucket: the record is a CloudTrail Insights event */
};

/* Stats bucket names in docs/EVENTS.md order ("malformed", "not_s3", ..., "bucket"). */
extern const char *const ct_class_names[CT_NCLASS];
/* "put", "delete" or "bucket" for the three actionable classes, else NULL. */
const char *ct_op_name(int cls);

/* What jibe knows about Access Anywhere when it classifies. Built once, read-only after. */
struct ct_ctx;

struct ct_ctx *ct_ctx_new(void); /* NULL only on out of memory; free with ct_ctx_free() */
void ct_ctx_free(struct ct_ctx *ctx);
/* Strings are copied. Self identities may be added several times each. */
int ct_ctx_add_self_key(struct ct_ctx *ctx, const char *access_key_id) JB_MUST_CHECK;
int ct_ctx_add_self_arn(struct ct_ctx *ctx, const char *arn) JB_MUST_CHECK;
int ct_ctx_add_self_agent(struct ct_ctx *ctx, const char *agent_substring) JB_MUST_CHECK;
/* Once any bucket is mapped, unmapped buckets are "unmanaged". */
int ct_ctx_map_bucket(struct ct_ctx *ctx, const char *bucket, const char *provider) JB_MUST_CHECK;
/* The map is in force even if it stays empty: every bucket not mapped is "unmanaged" (the
 * parser's server view, where no bucket means no provider manages any). Without it (and no
 * bucket mapped: `jibe events` without --bucket) every bucket counts. */
void ct_ctx_use_map(struct ct_ctx *ctx);
/* Provider NULL: the cutoff for buckets with no provider (when no bucket map is given). */
int ct_ctx_set_sync_start(struct ct_ctx *ctx, const char *provider, int64_t epoch) JB_MUST_CHECK;
/* Forget the bucket map, ct_ctx_use_map() and cutoffs (self identities stay): for a refreshed
 * server view. */
void ct_ctx_clear_map(struct ct_ctx *ctx);

struct ct_event {
        int cls;              /* enum ct_class */
        const char *provider; /* owning provider (borrowed from ctx), NULL without a map */
        const char *bucket;   /* borrowed from root; key is NULL for CT_BUCKET; only the
                               * actionable classes and CT_COVERED (bucket, provider) keep them */
        const char *key;
        const char *time, *name, *id, *account, *region; /* NULL when absent */
        int64_t event_epoch;                             /* eventTime, -1 when absent or unreadable */
        cJSON *root; /* owned: the parsed record, NULL on the fast paths */
        char *store; /* owned: copies of the strings above on the fast path for writes */
};

/*
 * Classify one record (the reader's callback arguments). Fills ev (the caller clears it
 * with ct_event_clear() afterwards, whatever the result) and returns ev->cls: one of enum
 * ct_class, CT_INSIGHT for an Insights record (the file is not an event log), or JB_ENOMEM.
 */
int ct_classify(const struct ct_ctx *ctx, const char *rec, size_t len, const struct ct_hint *hint,
                struct ct_event *ev);
void ct_event_clear(struct ct_event *ev);

/* "2026-11-29T08:05:12Z", "...12.345Z", "2026-11-29 08:05:12" (UTC) -> epoch; -1 if not. */
int64_t ct_parse_time(const char *s);

/* log-file names and folder layout: ct_path.h */

#endif
