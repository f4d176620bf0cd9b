/*
 * dead.h - the embedded mode's dead letters read back: what became of each entry of the
 * dead-letter file, and the redrive requests `jibe redrive` leaves for `jibe run`.
 *
 * Files in the state directory (DEAD_* names below):
 *   dead-letters.jsonl        one msg_dead per line, appended and fsync'ed by q_mem.c; this
 *                             module never writes it, so its records are never lost or
 *                             doubled by a redrive.
 *   dead-letters.done.jsonl   one line per settled entry, appended and fsync'ed:
 *                             {"v":1,"off":N,"sum":"HEX","state":"redriven"|"discarded",
 *                             "at_ms":N,"note":"..."}. The last line of an entry wins.
 *   redrive/req-MS-PID.json   a request {"v":1,"entries":[{"off":N,"sum":"HEX"},...]}, written
 *                             atomically (temporary file, fsync, rename, fsync of the folder)
 *                             by `jibe redrive --execute`; `jibe run` removes it once every
 *                             entry in it is settled.
 * "v" is DEAD_FORMAT_VERSION; lines and requests of another version are not read.
 * An entry is named by its byte offset in dead-letters.jsonl ("#OFF" for an administrator) and
 * the FNV-1a 64 checksum of its line, so a request never applies to another line if the file
 * was replaced.
 * Crash safety of a redrive: an entry is marked redriven only after its message completed
 * (embedded transport: its consumer acknowledged it and everything derived from it is done).
 * A crash before that leaves the request in place and the entry unmarked: the next `jibe run`
 * puts it back again (a resync may be repeated; nothing is lost).
 * Errors: JB_EIO with a message naming the file; JB_ENOMEM.
 * Ownership: a dead_list owns its entries (free with dead_list_clear()).
 */
#ifndef DEAD_H
#define DEAD_H

#include <stddef.h>
#include <stdint.h>

#define DEAD_FORMAT_VERSION 1 /* of dead-letters.done.jsonl lines and redrive requests */

#include "jb.h"
#include "msg.h"

#define DEAD_FILE "dead-letters.jsonl"
#define DEAD_DONE_FILE "dead-letters.done.jsonl"
#define DEAD_REQ_DIR "redrive"
#define DEAD_POLL_MS 2000 /* how often `jibe run` looks for requests */

struct q;

enum dead_state {
        DEAD_OPEN = 0,  /* nothing done with it yet */
        DEAD_REQUESTED, /* in a request `jibe run` has not finished */
        DEAD_REDRIVEN,
        DEAD_DISCARDED,
};

struct dead_entry {
        int64_t off;  /* byte offset of its line in dead-letters.jsonl */
        uint64_t sum; /* FNV-1a 64 of the line */
        int readable; /* d was decoded; otherwise d is zeroed */
        struct msg_dead d;
        enum dead_state state;
        int64_t settled_ms; /* when redriven/discarded, 0 otherwise */
        char *note;         /* discard reason (or why it could not be redriven); may be NULL */
};

struct dead_list {
        struct dead_entry *v;
        size_t n;
};

const char *dead_state_name(enum dead_state st); /* "open", "requested", ... */

/* Read every complete line of state_dir's dead-letter file with its state. A missing file is
 * an empty list. A line that is not a dead letter is an entry with readable = 0. */
int dead_load(const char *state_dir, struct dead_list *out, char *errstr, size_t errsz) JB_MUST_CHECK;
void dead_list_clear(struct dead_list *l);

/* Append a settlement (DEAD_REDRIVEN or DEAD_DISCARDED) for one entry, fsync'ed. */
int dead_settle(const char *state_dir, int64_t off, uint64_t sum, enum dead_state st, const char *note,
                char *errstr, size_t errsz) JB_MUST_CHECK;

/* Write a redrive request for n entries (atomically). *name gets its file name (may be NULL). */
int dead_request(const char *state_dir, const struct dead_entry *const *e, size_t n, char *name,
                 size_t namesz, char *errstr, size_t errsz) JB_MUST_CHECK;

/* The queue a dead letter's message goes back to (Q_FILES for the parser's, Q_EVENTS for the
 * syncer's) and its partition key, when its message is one that stage can read; -1 (why in
 * errstr) otherwise. */
int dead_target(const struct msg_dead *d, struct buf *key, char *errstr, size_t errsz);

/*
 * The redriver of `jibe run`: a thread that looks for requests at start and every
 * DEAD_POLL_MS, and publishes each requested entry's message to q (its own completion marks it
 * redriven). Lifecycle: _start after the stages; _stop (only a flag) when the process stops;
 * _join after q_shutdown() (a publish waiting for room returns then); q_free(); _free.
 */
struct dead_redriver;
int dead_redriver_start(const char *state_dir, struct q *q, struct dead_redriver **out, char *errstr,
                        size_t errsz) JB_MUST_CHECK;
void dead_redriver_stop(struct dead_redriver *rd);
void dead_redriver_join(struct dead_redriver *rd);
void dead_redriver_free(struct dead_redriver *rd);

#endif
