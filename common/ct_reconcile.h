/*
 * ct_reconcile.h - what a CloudTrail digest says about the log files jibe has (or has not)
 * processed, and which digests of a chain are missing. Pure: no I/O, no clock; the caller
 * passes the time and answers lookups.
 *
 * Reconcile: once a digest is older than a grace period (its digestEndTime + grace <= now),
 * each listed file of a managed bucket gets one verdict from what the lookup says about it:
 *
 *   managed? done?  hash kept   reads  not found  -> verdict
 *   no                                            -> SKIP        (not a bucket jibe manages)
 *   yes      yes    equal                         -> OK
 *   yes      yes    none                          -> UNVERIFIED  (done before hashes were kept)
 *   yes      yes    differs     1                 -> REREAD      (download again once)
 *   yes      yes    differs     >= 2              -> TAMPERED    (report and alert)
 *   yes      no                        no         -> RECOVER     (fetch it by path, process it)
 *   yes      no                        yes        -> MISSING     (report and alert)
 *
 * Chain: struct ct_chain takes digests in any order, keyed by their own bucket/object; a
 * digest whose previousDigestS3Object was never added is a gap once grace has passed since
 * the referring digest was added, unless the previous digest ended before the horizon the
 * caller read from (it was never expected). Coverage is kept per chain (one trail's digests
 * for one account and region in one bucket): digests, backfill digests, seconds covered (the
 * union of their periods), and the sums of each digest's latest reconcile counts.
 * Ownership: the chain copies what it keeps; callback arguments are valid during the call.
 * Not thread-safe.
 */
#ifndef CT_RECONCILE_H
#define CT_RECONCILE_H

#include <stddef.h>
#include <stdint.h>

#include "ct_digest.h"
#include "jb.h"

#define CT_RECONCILE_GRACE_DEFAULT (30 * 60) /* seconds after digestEndTime */
#define CT_RECONCILE_NOT_DUE 1               /* ct_reconcile(): the grace has not passed */

enum ct_verdict {
        CT_V_SKIP = 0,
        CT_V_OK,
        CT_V_UNVERIFIED,
        CT_V_RECOVER,
        CT_V_MISSING,
        CT_V_REREAD,
        CT_V_TAMPERED,
};

/* Stable lower-case name of a verdict ("ok", "recover", ...). Never NULL. */
const char *ct_verdict_name(enum ct_verdict v);

/* What the caller knows of one listed file (all zero: a managed bucket would be set by it). */
struct ct_seen {
        int managed;    /* its bucket is one jibe manages */
        int done;       /* processed (the parser finished it) */
        int recovered;  /* done through a fetch by path after a digest listed it */
        int not_found;  /* a fetch by path answered "not found" */
        unsigned reads; /* downloads whose SHA-256 was kept (the last is in sha256) */
        int has_sha;
        uint8_t sha256[SHA256_LEN];
};

/* Fill *out for f (zeroed before the call). 0, or a negative jb_err that stops the reconcile
 * (ct_reconcile() returns it). */
typedef int (*ct_lookup_fn)(void *opaque, const struct ct_digest_file *f, struct ct_seen *out);

struct ct_recon_counts {
        uint64_t listed;  /* files in the digest */
        uint64_t managed; /* of them, in a managed bucket */
        uint64_t done;    /* ok + unverified + tampered (processed, whatever their bytes) */
        uint64_t ok, unverified;
        uint64_t recovered; /* of done, recovered through the digest */
        uint64_t recover;   /* to fetch by path now */
        uint64_t missing;
        uint64_t reread; /* hash differed once: to download again */
        uint64_t tampered;
};

/* Whether d is past its grace: d->end + grace <= now (seconds). */
int ct_digest_due(const struct ct_digest *d, int64_t now, int64_t grace);

/*
 * Verdicts for every file of d: verdicts[i] for d->files[i] when verdicts is not NULL (an
 * array of d->nfiles), and *counts (zeroed first; may be NULL). Returns JB_OK,
 * CT_RECONCILE_NOT_DUE (nothing looked up, counts zero but listed) or the lookup's error.
 */
int ct_reconcile(const struct ct_digest *d, int64_t now, int64_t grace, ct_lookup_fn lookup,
                 void *opaque, enum ct_verdict *verdicts, struct ct_recon_counts *counts);

/* ---- the chain tracker ---- */

struct ct_chain;

struct ct_gap {
        const char *chain;    /* the chain's key: "<bucket>/<digest folder>" */
        const char *trail;    /* the trail's name ("" when the path does not say) */
        const char *bucket;   /* where the missing digest should be */
        const char *object;   /* previousDigestS3Object of the referring digest */
        const char *referrer; /* the referring digest's object */
        int64_t noted;        /* when the referring digest was first added */
};

struct ct_coverage {
        const char *chain, *trail; /* as in struct ct_gap */
        uint64_t digests;          /* distinct digests added (backfill ones too) */
        uint64_t backfill;
        int64_t first, last;          /* earliest digestStartTime, latest digestEndTime */
        int64_t covered_s;            /* seconds in the union of their periods */
        uint64_t gaps;                /* as ct_chain_gaps() counts them with the same arguments */
        struct ct_recon_counts files; /* sums of each digest's latest counts */
};

typedef void (*ct_gap_fn)(void *opaque, const struct ct_gap *g);
typedef void (*ct_coverage_fn)(void *opaque, const struct ct_coverage *c);

/* An empty tracker, or NULL when out of memory. */
struct ct_chain *ct_chain_new(void);
void ct_chain_free(struct ct_chain *c);

/*
 * Add digest d (its bucket/object is its identity) seen at now; counts is its latest reconcile
 * (NULL: not reconciled yet). Added again, a digest keeps its first `now` and takes the new
 * counts. JB_OK, JB_EINPUT (d has no object), JB_ENOMEM.
 */
int ct_chain_add(struct ct_chain *c, const struct ct_digest *d, const struct ct_recon_counts *counts,
                 int64_t now) JB_MUST_CHECK;
/* Whether bucket/object was added. */
int ct_chain_has(const struct ct_chain *c, const char *bucket, const char *object);
/*
 * Call fn for each previous digest referred to but never added, when now >= noted + grace and
 * the previous digest's end (from its name; the referrer's start when the name does not say)
 * is at or after horizon. Returns the number of gaps. fn may be NULL (count only).
 */
size_t ct_chain_gaps(const struct ct_chain *c, int64_t now, int64_t grace, int64_t horizon, ct_gap_fn fn,
                     void *opaque);
/* Call fn once per chain, in the order of their keys (then trails). JB_OK or JB_ENOMEM. */
int ct_chain_coverage(const struct ct_chain *c, int64_t now, int64_t grace, int64_t horizon,
                      ct_coverage_fn fn, void *opaque) JB_MUST_CHECK;

#endif
