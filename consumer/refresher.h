/*
 * refresher.h - resync by cloud refresh: bring Access Anywhere's index of a changed object's
 * folder, or of a whole bucket, up to date with S3 using only public calls
 * (checkPathExists, getFolderContents with refresh, aa.h), for servers without
 * syncOnProviderEvent.
 *
 * A refresh is per folder and never recursive, so:
 * - refresher_folder() refreshes the deepest folder of the path that the index already
 *   holds (the bucket folder at worst), then walks down: each next path component that
 *   exists after its parent's refresh is refreshed in turn, until the folder itself was
 *   refreshed or the next component does not exist (deleted on S3 meanwhile: done). With
 *   `deleted` set, a folder that lists empty after its refresh may be gone on S3: its
 *   parent is refreshed too (and so on up to the bucket).
 * - refresher_bucket() refreshes every folder of the bucket, top-down, breadth-first
 *   (refresh a folder, list its subfolders, queue them), at most `per_s` refresh starts a
 *   second and up to REFRESHER_INFLIGHT refreshes at once.
 *
 * Caches (per refresher): provider id -> provider folder, (provider, bucket) -> bucket
 * folder, from aa_providers(), read on first use and again when a provider or bucket is
 * unknown or its folder vanished, at most once per REFRESHER_PROVIDERS_MIN_S; folder path
 * (inside a bucket) -> fi_id from aa_check_path(), at most REFRESHER_CACHE_MAX entries
 * (cleared when full). A cached id that turns out stale (JB_ENOTFOUND) is dropped and the
 * path resolved once more.
 *
 * Errors: jb_err codes with (errstr, errsz) filled: JB_ENOTFOUND for an unknown provider,
 * or a bucket that provider does not have; JB_ETRANSIENT for network trouble, a refresh
 * that did not finish within the client's refresh timeout, or a stop (the wait hook said
 * so); JB_EFATAL, JB_EINPUT, JB_ENOMEM as aa.h says. No logging here: progress goes through
 * the hooks.
 * Ownership: the refresher borrows aa (which must outlive it) and copies what it caches;
 * strings passed in are borrowed for the call only.
 * Threads: none; like its aa_client, one refresher belongs to one thread.
 */
#ifndef REFRESHER_H
#define REFRESHER_H

#include <stdint.h>

#include "aa.h"

#define REFRESHER_CACHE_MAX 10000    /* cached folder paths */
#define REFRESHER_PROVIDERS_MIN_S 30 /* at most one re-read of the providers in this time */
#define REFRESHER_INFLIGHT 8         /* refreshes at once in a bucket resync */
#define REFRESHER_PROGRESS_MS 10000  /* bucket progress at least this often ... */
#define REFRESHER_PROGRESS_N 100     /* ... or every this many folders */

/* Counters since refresher_new() (only this refresher's work). */
struct refresher_counters {
        uint64_t refreshes;      /* folder refreshes completed (with or without a token) */
        uint64_t path_checks;    /* checkPathExists calls */
        uint64_t cache_hits;     /* folder paths answered by the cache */
        uint64_t provider_reads; /* aa_providers() calls */
        uint64_t stale;          /* cached ids dropped as stale */
};

/* Hooks of refresher_bucket(), all optional (NULL).
 * wait: sleep up to ms (the refresher's pacing and polling pauses); return nonzero to stop
 *   the walk at once (JB_ETRANSIENT "stopped"). NULL: nanosleep, never stops.
 * progress: (folders refreshed so far, folders known so far), at least every
 *   REFRESHER_PROGRESS_MS or REFRESHER_PROGRESS_N folders, and once at the end. */
struct refresher_hooks {
        int (*wait)(void *opaque, long ms);
        void (*progress)(void *opaque, uint64_t done, uint64_t known);
        void *opaque;
};

struct refresher;

/* per_s: folder refresh starts per second in refresher_bucket() (<= 0: unpaced).
 * Returns NULL when out of memory. Free with refresher_free() (accepts NULL). */
struct refresher *refresher_new(struct aa_client *aa, double per_s);
void refresher_free(struct refresher *r);

/* Refresh the folder `dir` of (provider, bucket): "" is the bucket folder, "a/b" a folder
 * below it (leading, trailing and doubled '/' ignored). *refreshed (optional) gets the
 * number of folder refreshes this call made. hooks (optional): only wait is used. */
int refresher_folder(struct refresher *r, const char *provider, const char *bucket, const char *dir,
                     int deleted, const struct refresher_hooks *hooks, uint64_t *refreshed, char *errstr,
                     size_t errsz) JB_MUST_CHECK;
/* The same for the folder that holds object key ("a/b/x.txt" -> "a/b"; a folder marker
 * "a/b/" -> "a"). */
int refresher_object(struct refresher *r, const char *provider, const char *bucket, const char *key,
                     int deleted, const struct refresher_hooks *hooks, uint64_t *refreshed, char *errstr,
                     size_t errsz) JB_MUST_CHECK;
/* Length of the parent folder part of key (what refresher_object() refreshes): "a/b/x" -> 3,
 * "x" -> 0, "a/b/" -> 1. Lets a caller group keys per folder. */
size_t refresher_parent_len(const char *key);

/* Refresh every folder of the bucket (see above). *refreshed (optional) gets the folders
 * refreshed, also on failure. */
int refresher_bucket(struct refresher *r, const char *provider, const char *bucket,
                     const struct refresher_hooks *hooks, uint64_t *refreshed, char *errstr,
                     size_t errsz) JB_MUST_CHECK;

void refresher_counters_get(const struct refresher *r, struct refresher_counters *out);

#endif
