/*
 * report.h - the merged status of a deployment (docs/STATUS.md, "report"): every
 * instance's latest "instance_status" merged into one document with a verdict per source and
 * provider, and that document rendered as report.html (self-contained: inline CSS and SVG,
 * no script, printable) and as the terminal table of `jibe status`.
 *
 * Owns: the merge rules and the verdicts (OK, LATE, FAILING), the advice drawn from the data
 * (read events share, a log bucket's own writes), the words of each. Does not: fetch the
 * documents or write files (status_pub.h, the command layer).
 * Ownership: report_merge() returns a cJSON tree the caller frees with cJSON_Delete(); the
 * renderers borrow it and append to a caller's buf. Pure functions: no I/O, no clock (now
 * is passed in), safe from any thread.
 */
#ifndef REPORT_H
#define REPORT_H

#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "buf.h"
#include "jb.h"

#define REPORT_MISSING_INTERVALS 3 /* an instance silent this many publish intervals is missing */

/* One instance's published document as found. where: for messages ("status folder file
 * east-1.json", "status topic key instance/east-1"). */
struct report_doc {
        const void *json;
        size_t len;
        const char *where;
};

struct report_opts {
        int64_t now_ms;
        const char *generated_by; /* the instance making the report, or NULL (jibe status) */
};

/*
 * Merge docs (several documents of one instance: the newest at_ms wins). A document that
 * cannot be read (not JSON, wrong type or version) is skipped and said in the report's
 * problems, never fatal. NULL only on out of memory (errstr says so).
 */
cJSON *report_merge(const struct report_doc *docs, size_t n, const struct report_opts *o, char *errstr,
                    size_t errsz);

/* 0 when the report's verdict is OK, 1 otherwise (LATE or FAILING): `jibe status`'s exit. */
int report_exit_code(const cJSON *report);

/* The renderers: JB_OK or JB_ENOMEM. */
int report_render_json(const cJSON *report, struct buf *out) JB_MUST_CHECK; /* pretty, ends in \n */
int report_render_html(const cJSON *report, struct buf *out) JB_MUST_CHECK;
int report_render_table(const cJSON *report, struct buf *out) JB_MUST_CHECK; /* verdicts first */

#endif
