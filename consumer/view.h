/*
 * view.h - the parser's view of the Access Anywhere server: which provider manages each
 * bucket, Access Anywhere's own identities and each provider's last full sync start, as a
 * struct ct_ctx for ct_classify(); and the holder that lets readers keep the view they
 * started with while a newer one is swapped in.
 *
 * Ownership: view_build() returns a new ct_ctx the caller owns (or hands to view_set()).
 * A struct view owns every ctx set into it; a ctx obtained with view_acquire() stays valid
 * until the matching view_release(), even when a newer one was set meanwhile (reference
 * count; the lock is held only to move a pointer and a counter).
 * Threads: view_build() uses the given aa_client (not thread-safe: one caller at a time);
 * view_acquire/release/set/ready are thread-safe.
 */
#ifndef VIEW_H
#define VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "aa.h"
#include "ct.h"

/* What the server cannot tell: Access Anywhere's own identities (no public call reports
 * them) and the indexing rate used to estimate a full sync's start. The arrays are
 * borrowed; empty strings in them are skipped. */
struct view_opts {
        char *const *self_keys; /* access key ids */
        size_t n_self_keys;
        char *const *self_arns; /* principal ARNs */
        size_t n_self_arns;
        char *const *self_agents; /* user agents */
        size_t n_self_agents;
        double indexing_rate; /* files/s; see view_sync_start() */
};

/* Where a provider's sync start came from. */
enum view_start_src {
        VIEW_START_NONE = 0, /* unknown: no cutoff */
        VIEW_START_LASTSYNC, /* lastsync.started: the sync task's start (bt_added) */
        VIEW_START_TASK,     /* a start given apart from lastsync (task_added) */
        VIEW_START_ESTIMATE, /* completed - files indexed / indexing rate */
};

/* What a build found, for the caller's log line. */
struct view_info {
        size_t providers, buckets, self_ids;
        size_t starts[4]; /* providers per enum view_start_src */
};

/*
 * A provider's last full sync start from its last sync task and, when the caller has one
 * from elsewhere, task_added (0: unknown). Returns
 * the epoch, or -1 for no cutoff; *src (optional) says which rule gave it.
 */
int64_t view_sync_start(const struct aa_lastsync *ls, time_t task_added, double rate,
                        enum view_start_src *src);

/*
 * Ask the server (aa_providers, aa_last_sync) and build a ct_ctx: every bucket mapped to
 * its provider id, the self identities of o->self_*, each provider's sync start (none when no completed full sync is listed). Returns JB_OK
 * with *out set, or the aa_* error (JB_ETRANSIENT, JB_EFATAL, ...) with errstr; *info is
 * optional.
 */
int view_build(struct aa_client *aa, const struct view_opts *o, struct ct_ctx **out,
               struct view_info *info, char *errstr, size_t errsz) JB_MUST_CHECK;

struct view;
struct view_ref;

struct view *view_new(void); /* NULL on out of memory */
/* Frees the current ctx; every reference must have been released. */
void view_free(struct view *v);
/* Take ownership of ctx and make it the current one; JB_ENOMEM (ctx freed) on failure. */
int view_set(struct view *v, struct ct_ctx *ctx) JB_MUST_CHECK;
/* Non-zero once a ctx was set. */
int view_ready(struct view *v);
/* The current ctx (NULL if none yet) and a reference to hand back to view_release(). */
const struct ct_ctx *view_acquire(struct view *v, struct view_ref **ref);
void view_release(struct view *v, struct view_ref *ref);

#endif
