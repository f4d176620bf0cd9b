/*
 * ct_digest.h - CloudTrail digest files (log file validation): their paths and their content.
 *
 * A trail with log file validation on writes, every hour per account and region, a digest
 * (gzip JSON) listing the log files it delivered in that hour with the SHA-256 of each file's
 * UNCOMPRESSED content (what gunzip gives, as the AWS CLI's validate-logs hashes it: never the
 * stored gzip bytes), and a pointer to the digest before it (a chain; null in the first) with
 * the SHA-256 of that digest's uncompressed JSON. Late deliveries get a "_backfill" digest.
 * Paths:
 *
 *   <root>/AWSLogs/[o-<org>/]<account>/CloudTrail-Digest/<region>/YYYY/MM/DD/
 *       <account>_CloudTrail-Digest_<region>_<trail>_<home region>_YYYYMMDDTHHmmssZ[_backfill].json.gz
 *
 * Owns: the digest path layout (next to ct_path.h's log layout), inflating a digest (ct_inflate.h)
 * under a ceiling, and turning its JSON into struct ct_digest. Does not: fetch (aa.c), decide
 * what a listed file's state means (ct_reconcile.h), verify the RSA signature (that needs AWS's
 * public keys; see docs/DIGESTS.md).
 * Errors: JB_EINPUT with a reason for corrupt gzip, non-JSON, a missing or mistyped field, a
 * hash that is not 64 hex digits or an unknown hash algorithm; JB_ELIMIT when the decompressed
 * digest passes the ceiling; JB_ENOMEM.
 * Ownership: a struct ct_digest owns its strings and files[] (ct_digest_clear() frees them and
 * may be called twice); path parse results point into the caller's string; ct_digest_folder_of()
 * returns malloc'd memory.
 */
#ifndef CT_DIGEST_H
#define CT_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "ct_path.h"
#include "jb.h"
#include "sha256.h"

#define CT_DIGEST_TRAIL "CloudTrail-Digest" /* the folder of an account that holds digests */
#define CT_DIGEST_MAX_DEFAULT (16u << 20)   /* decompressed ceiling when none is given */
#define CT_DIGEST_HASH_ALGORITHM "SHA-256"  /* the only hashAlgorithm CloudTrail uses */

/* ---- paths ---- */

struct ct_digest_path {
        struct ct_part root;    /* before "/AWSLogs/" (empty when the path starts there) */
        struct ct_part org;     /* "o-..." for an organization trail */
        struct ct_part account; /* 12 digits */
        struct ct_part region;  /* the folder's region: the region the digest covers */
        struct ct_part folder;  /* "<root>/AWSLogs/[o-x/]<account>/CloudTrail-Digest/<region>" */
        int64_t day;            /* epoch of the YYYY/MM/DD folder (00:00 UTC) */
        struct ct_part file;    /* the name */
        struct ct_part trail;   /* the trail's name, from the file name */
        struct ct_part home;    /* the trail's home region, from the file name */
        int64_t end;            /* the digest's end time from its name (epoch seconds) */
        int backfill;           /* the name ends in "_backfill.json.gz" */
};

/* Parse a digest's path (an Access Anywhere path, an S3 key or a local path). 0, or -1 when
 * it is not a digest path (out is then zeroed, day and end -1). */
int ct_digest_path_parse(const char *path, struct ct_digest_path *out);
/* A digest's path (ct_digest_path_parse() accepts it). */
int ct_digest_is_path(const char *path);
/* A digest's path with the "_backfill" name. */
int ct_digest_is_backfill(const char *path);
/* The digest folder of a log folder: ".../AWSLogs/[o-x/]<acct>/CloudTrail/<region>[/Y/M/D]"
 * -> ".../CloudTrail-Digest/<region>[/Y/M/D]" (a trailing slash is kept). malloc'd; NULL when
 * folder is not a log folder (EINVAL-free: the caller knows) or out of memory. */
char *ct_digest_folder_of(const char *log_folder);

/* ---- content ---- */

struct ct_digest_file {
        char *bucket;               /* s3Bucket */
        char *key;                  /* s3Object: the log file's key in that bucket */
        uint8_t sha256[SHA256_LEN]; /* hashValue: SHA-256 of the file's uncompressed content */
};

struct ct_digest {
        int64_t start, end;              /* digestStartTime, digestEndTime (epoch seconds) */
        char *bucket, *object;           /* digestS3Bucket, digestS3Object: this digest */
        char *prev_bucket, *prev_object; /* previousDigestS3*: NULL in a chain's first digest */
        int has_prev_hash;               /* previousDigestHashValue was given */
        uint8_t prev_sha256[SHA256_LEN]; /* it: SHA-256 of the previous digest's uncompressed JSON */
        size_t nfiles;
        struct ct_digest_file *files; /* logFiles[], in the digest's order */
};

/* A streaming reader: feed the gzip bytes as they arrive, then finish. */
struct ct_digest_reader;

/* max: ceiling of the decompressed JSON in bytes (0: CT_DIGEST_MAX_DEFAULT). NULL on out of
 * memory. */
struct ct_digest_reader *ct_digest_reader_new(size_t max);
void ct_digest_reader_free(struct ct_digest_reader *r);
/* Forget everything fed; the next bytes start a new digest. */
void ct_digest_reader_reset(struct ct_digest_reader *r);
/* Feed n gzip bytes. JB_EINPUT (corrupt gzip), JB_ELIMIT (over the ceiling), JB_ENOMEM; once
 * failed, the reader refuses more until reset. */
int ct_digest_reader_feed(struct ct_digest_reader *r, const void *p, size_t n, char *errstr,
                          size_t errsz) JB_MUST_CHECK;
/* End of input: the gzip stream must be complete; the JSON is parsed into *d (cleared first;
 * left empty on failure). */
int ct_digest_reader_finish(struct ct_digest_reader *r, struct ct_digest *d, char *errstr,
                            size_t errsz) JB_MUST_CHECK;

/* One call: inflate len bytes of gzip (ceiling max, 0: default) and parse them into *d. */
int ct_digest_read(const void *gz, size_t len, size_t max, struct ct_digest *d, char *errstr,
                   size_t errsz) JB_MUST_CHECK;
/* Parse len bytes of digest JSON (not gzip) into *d (cleared first; left empty on failure). */
int ct_digest_parse(const char *json, size_t len, struct ct_digest *d, char *errstr,
                    size_t errsz) JB_MUST_CHECK;
/* Free d's members; d is left empty. Safe twice. */
void ct_digest_clear(struct ct_digest *d);

#endif
