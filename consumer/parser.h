/*
 * parser.h - the parser stage: reads the CloudTrail log files the scanner found and
 * publishes one event per object change.
 *
 * Polls Q_FILES (struct msg_logfile), streams each file from Access Anywhere (aa_download)
 * into ct_reader, classifies records with a ct_ctx built from the server's view (bucket ->
 * provider map, Access Anywhere's own identities from provider information plus the
 * configuration, each provider's last full sync start), publishes struct msg_objevent on
 * Q_EVENTS with the file's message as parent, then acknowledges the file.
 * A file that cannot be read (corrupt, truncated, over a limit, not a log) is quarantined:
 * a dead letter with the reason, an error in the log, and the file is acknowledged (never
 * retried forever) - but only when the bytes were the whole file: HTTP 2xx, no download
 * error, no HTML page, as many bytes as Content-Length and the listed size
 * (aa_download_ex). Anything else is a fetch error, like a transient failure (server,
 * network): the whole file is retried with backoff for as long as it takes, and after every
 * PARSER_RELIST_EVERY failed fetches (or a not_found answer) the file is looked up again by
 * its path: gone there too, it counts as missing; listed with another id or size, that is
 * used from then on. Events already published are published again (resyncs are
 * idempotent); a WARN per failing file at most every few minutes.
 * Hashes (docs/DIGESTS.md): with opts.hashes, or for a file whose message carries a digest's
 * digest_sha256, the decompressed content is hashed (SHA-256) as it is read; a file read to
 * the end is put into opts.hashes (reads 2 for a re-read), and compared with digest_sha256
 * (a mismatch: a WARN and the counter digest_mismatches). A failed put is a WARN once per
 * kind of failure and never fails the file.
 * Threads: `workers` threads, each with its own aa_client and ct_reader.
 */
#ifndef PARSER_H
#define PARSER_H

#include <stdint.h>

#include "aa.h"
#include "filehash.h"
#include "q.h"
#include "stage.h"
#include "view.h"

/* The parser's options (configuration sections parser and self, and
 * scanner.provider_refresh_s). parser_opts_init() sets the configuration's defaults. */
struct parser_opts {
        long workers;              /* log files read at the same time, default 2 */
        uint64_t max_decompressed; /* per file, default CT_MAX_DECOMPRESSED_DEFAULT */
        uint64_t max_record;       /* per record, default CT_MAX_RECORD_DEFAULT */
        long provider_refresh_s;   /* re-read providers and their last syncs, default 300 */
        struct view_opts view;     /* self identities, indexing rate (default 100 files/s) */
        struct filehash *hashes;   /* where each file's SHA-256 goes (borrowed); NULL: nowhere */
};

void parser_opts_init(struct parser_opts *o);

struct parser_stats {
        uint64_t files_ok; /* files read to the end */
        uint64_t files_quarantined;
        uint64_t files_missing; /* gone from the server before they were read */
        uint64_t retries;       /* whole-file retries after transient failures */
        uint64_t records;
        uint64_t events;     /* published on Q_EVENTS */
        uint64_t counts[10]; /* per ct_class (docs/EVENTS.md stats buckets) */
        uint64_t bytes_in, bytes_out;
        uint64_t poison;            /* undecodable Q_FILES messages dead-lettered */
        uint64_t fetch_errors;      /* downloads that did not bring the file (retried) */
        uint64_t relists;           /* files looked up again after failed fetches */
        uint64_t digest_mismatches; /* files whose SHA-256 is not the one their digest lists */
};

struct parser;

/* opts is copied; the arrays it points to and aa are borrowed and must outlive the parser.
 * Starts the worker threads. */
int parser_start(const struct parser_opts *opts, const struct aa_opts *aa, struct q *q,
                 struct parser **out, char *errstr, size_t errsz) JB_MUST_CHECK;
/* Stop taking files; a file being read gets grace_ms to finish, then it is abandoned
 * (q_abandon: offered again after a restart). Joins the threads. Safe twice. */
void parser_stop(struct parser *p, int grace_ms);
/* Non-zero once a worker met a fatal error (e.g. credentials refused); the reason is in
 * the log. */
int parser_failed(const struct parser *p);
void parser_get_stats(struct parser *p, struct parser_stats *out);
void parser_free(struct parser *p); /* stops first if needed */

/* The parser as a stage (stage.h), "parse", not started: start is parser_start(), stop
 * parser_stop(). opts is copied, the rest borrowed as by parser_start(). NULL on out of
 * memory. */
struct jb_stage *parser_stage(const struct parser_opts *opts, const struct aa_opts *aa, struct q *q);

#endif
