/*
 * digests.h - the scanner's CloudTrail digest pass (docs/DIGESTS.md): reads the digests of the
 * regions the scanner knows, reconciles each one past its grace against what the scanner has
 * processed and the parser's hashes (filehash.h), fetches listed files the listings missed,
 * and reports coverage (status_digest), alerts (digest_missing, digest_tampered, digest_gap)
 * and metrics.
 *
 * The scanner calls digests_pass() once per scan, after its log folders, from its thread.
 * What the pass needs of the scanner (the state of a file, publishing one, a cloud refresh)
 * comes through struct digests_host, so this module knows nothing of the scanner's tables.
 * Kept in memory only: the digests of the lookback window (older ones are dropped), the
 * names of the digest files read, and the files fetched by path, not found, or read again;
 * after a restart the digests of the window are read again. A digest that cannot be read is
 * remembered in the scanner's store (host->remember), so it is not downloaded again.
 * Ownership: digests_new() copies opts; aa, host and the hash store are borrowed. The
 * region list given to digests_pass() is borrowed during the call.
 * Threads: one (the scanner's).
 */
#ifndef DIGESTS_H
#define DIGESTS_H

#include <stddef.h>
#include <stdint.h>

#include "aa.h"
#include "filehash.h"
#include "jb.h"

/* What the scanner answers and does for the pass. */
struct digests_host {
        void *opaque;
        /* The state of file name in date folder (an Access Anywhere path): DIGESTS_UNSEEN,
         * DIGESTS_INFLIGHT (published, not complete yet) or DIGESTS_DONE. */
        int (*file_state)(void *opaque, const char *folder, const char *name);
        /* Publish the file as a listed one (done when the transport reports it complete).
         * sha_hex: the digest's hashValue; reread: 1 to have it downloaded once more. */
        int (*publish)(void *opaque, const char *provider, const char *bucket, const char *folder,
                       const struct aa_item *it, const char *sha_hex, int reread, char *errstr,
                       size_t errsz);
        /* Cloud refresh of the folders ids[0..n), waiting for them (see the scanner). */
        int (*refresh)(void *opaque, char *const *ids, size_t n, char *errstr, size_t errsz);
        /* Remember for good (the scanner's store, across restarts) that file name of date
         * folder is done with: a digest that cannot be read is not downloaded again. The
         * state is then DIGESTS_DONE. */
        int (*remember)(void *opaque, const char *folder, const char *name);
        /* The scanner is stopping: cut the pass short. */
        int (*stopping)(void *opaque);
};

enum { DIGESTS_UNSEEN = 0, DIGESTS_INFLIGHT = 1, DIGESTS_DONE = 2 };

struct digests_opts {
        int64_t grace_s;         /* after a digest's end before its files must be done */
        size_t max_bytes;        /* decompressed ceiling of one digest (0: CT_DIGEST_MAX_DEFAULT) */
        struct filehash *hashes; /* the parser's hashes (borrowed); NULL: every file unverified */
};

/* One region folder the scanner knows: ".../AWSLogs/[o-x/]<account>/CloudTrail/<region>". */
struct digests_region {
        const char *provider; /* the source's provider id */
        const char *bucket;   /* the source bucket */
        const char *root;     /* its log root: "Provider/bucket[/prefix]/AWSLogs" */
        const char *path;     /* the region folder */
};

struct digests;

/* NULL on out of memory. */
struct digests *digests_new(const struct digests_opts *o, struct aa_client *aa,
                            const struct digests_host *host);
void digests_free(struct digests *d); /* NULL-safe */
/* The client the pass calls with (borrowed), when it was not known at digests_new(). */
void digests_set_aa(struct digests *d, struct aa_client *aa);

/*
 * One pass over regs at now (epoch seconds); oldest: the UTC midnight that starts the
 * lookback window (older digests are dropped, their predecessors never expected). A digest
 * folder or file that cannot be read is reported and the pass goes on; JB_OK, JB_EFATAL
 * (credentials: the scanner stops), JB_ETRANSIENT (stopping, or Access Anywhere failing: the
 * next pass tries again) or JB_ENOMEM, with errstr.
 */
int digests_pass(struct digests *d, const struct digests_region *regs, size_t nregs, int64_t now,
                 int64_t oldest, char *errstr, size_t errsz) JB_MUST_CHECK;

#endif
