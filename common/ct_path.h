/*
 * ct_path.h - the layout of CloudTrail log paths, the one place that knows it:
 *
 *   <root>/AWSLogs/[o-<org>/]<account>/CloudTrail/<region>/YYYY/MM/DD/<file>.json.gz
 *
 * <root> is "Provider/bucket" or "Provider/bucket/<prefix>" (a trail writing under a prefix,
 * scanner.prefixes); o-<org> appears for an organization trail; <account> is 12 digits.
 * Beside CloudTrail/ an account may hold CloudTrail-Digest/ and CloudTrail-Insight/, whose
 * files are not event logs (ct_file_kind()).
 * Used by the scanner (walking the folders), msg.c (partition keys), cfg.c (checking
 * prefixes) and the readers of log files (skipping digests and insights).
 * Ownership: parse results point into the caller's string; ct_path_join() returns malloc'd
 * memory (free()). Nothing else allocates.
 */
#ifndef CT_PATH_H
#define CT_PATH_H

#include <stddef.h>
#include <stdint.h>

#define CT_PATH_LOGS "AWSLogs"     /* the folder under a root that holds the accounts */
#define CT_PATH_TRAIL "CloudTrail" /* the folder of an account that holds the regions */
#define CT_PATH_ACCOUNT_DIGITS 12

/* ---- folder names, one level at a time (the scanner's walk) ---- */

int ct_path_is_logs(const char *name);             /* "AWSLogs" */
int ct_path_is_org(const char *name);              /* "o-..." (an organization trail's folder) */
int ct_path_is_account(const char *name);          /* 12 digits */
int ct_path_is_trail(const char *name);            /* "CloudTrail" */
int ct_path_is_digits(const char *name, size_t n); /* exactly n digits: YYYY (4), MM, DD (2) */
/* A log file's name: "*.json.gz" on one line, an event log (not a digest or insight). */
int ct_path_is_log_file(const char *name);

/* ---- whole paths ---- */

/* The parts of a path at or below <root>/AWSLogs/[o-x/]<account>/CloudTrail/<region>/. Each
 * part is a span of the parsed string (len 0 when absent). */
struct ct_part {
        const char *p;
        size_t len;
};
struct ct_path {
        struct ct_part root; /* before "/AWSLogs/" (empty when the path starts there) */
        struct ct_part org;  /* "o-..." */
        struct ct_part account;
        struct ct_part region;
        struct ct_part stream; /* "[o-x/]<account>/CloudTrail/<region>": one delivery stream */
        int64_t day;           /* epoch of YYYY/MM/DD (00:00 UTC) when present, -1 otherwise */
        struct ct_part file;   /* the name after YYYY/MM/DD/ */
};

/* Parse path; 0 when it holds AWSLogs/<...>/CloudTrail/<region>/, -1 otherwise (out is then
 * zeroed, day -1). */
int ct_path_parse(const char *path, struct ct_path *out);

/* The epoch (00:00 UTC) of a folder path ending in YYYY/MM/DD, -1 if it does not. */
int64_t ct_path_day(const char *folder);

/* "a/b" (malloc'd); NULL on out of memory. */
char *ct_path_join(const char *a, const char *b);

/* A configured prefix (slashes trimmed) names the AWSLogs folder itself rather than the folder
 * holding it: its last component is AWSLogs. */
int ct_path_prefix_is_logs(const char *prefix);

enum ct_file_kind {
        CT_FILE_LOG = 0, /* an event log: read it */
        CT_FILE_DIGEST,  /* CloudTrail-Digest: integrity digest, not events */
        CT_FILE_INSIGHT, /* CloudTrail-Insight */
};

/* Classify a path by name only (works on local paths and Access Anywhere paths). */
enum ct_file_kind ct_file_kind(const char *path);

#endif
