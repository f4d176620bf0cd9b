/*
 * status_pub.h - the publisher: one thread per long-running process that, every
 * status.publish_s, puts this instance's status (status.h) into the status store, and every
 * report.interval_min (when the process makes reports) lists every instance's status, merges
 * them (report.h), writes report.json and report.html atomically to the state directory,
 * uploads them to report.upload_folder when set, and raises or clears the Slack alerts of
 * sources that are LATE or FAILING and of instances that went missing (alert.h).
 *
 * A failure (store unreachable, upload refused) is logged once per kind and retried at the
 * next interval; it never stops or slows a stage. At start it seeds the recorder from this
 * instance's previous document (status_seed()). At stop it publishes once more.
 * Ownership: the publisher owns its thread and the store it is given; options are copied.
 */
#ifndef STATUS_PUB_H
#define STATUS_PUB_H

#include <stddef.h>

#include "aa.h"
#include "jb.h"
#include "status_store.h"

/* This instance's own document, rewritten in state_dir at every publication (and read back
 * at start when the store has none): `jibe run` writes STATUS_PUB_FILE, so that `jibe status`
 * without a store shows it; a stage process, which shares its host's state_dir with the
 * other stages, writes "status-<instance>.json" (own_file). */
#define STATUS_PUB_FILE "status.json"

struct status_pub_opts {
        const char *instance;
        const char *own_file; /* file name in state_dir; NULL: STATUS_PUB_FILE */
        long publish_s;
        double report_interval_min; /* <= 0: this process writes no report */
        const char *state_dir;      /* report.json, report.html are written here */
        const char *upload_folder;  /* report.upload_folder, or NULL */
        const struct aa_opts *aa;   /* for the upload (borrowed until status_pub_stop) */
};

struct status_pub;

/* store may be NULL (no status.folder in the embedded mode): then only this instance's own
 * status goes into its report. store is taken. */
int status_pub_start(const struct status_pub_opts *o, struct status_store *store,
                     struct status_pub **out, char *errstr, size_t errsz) JB_MUST_CHECK;
/* Publish and report now (tests, SIGUSR1). */
void status_pub_kick(struct status_pub *p);
/* Publish once more, stop the thread, free everything. Safe with NULL. */
void status_pub_stop(struct status_pub *p);

#endif
