/*
 * stage_opts.h - the configuration -> stage options adapters of the command layer: the only
 * place that knows which configuration option feeds which stage option.
 *
 * Ownership: every string and array of the options is borrowed from the cfg, which must
 * outlive the options and the stages started with them; the one array built here (the
 * scanner's prefixes) is owned by struct stage_opts and freed by stage_opts_clear().
 */
#ifndef STAGE_OPTS_H
#define STAGE_OPTS_H

#include "cfg.h"
#include "parser.h"
#include "scanner.h"
#include "syncer.h"

struct stage_opts {
        struct scanner_opts scan;
        struct parser_opts parse;
        struct syncer_opts sync;
        struct scanner_prefix *prefixes; /* owned: scan.prefixes */
};

/* Fill all three from cfg. JB_ENOMEM (with errstr) on out of memory. */
int stage_opts_from_cfg(const struct cfg *cfg, struct stage_opts *o, char *errstr,
                        size_t errsz) JB_MUST_CHECK;
void stage_opts_clear(struct stage_opts *o); /* safe on a zeroed struct, and twice */

#endif
