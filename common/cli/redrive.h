/*
 * redrive.h - `jibe redrive`, shared by both modes: its command line, which dead letters a
 * filter selects, and how one is shown to an administrator. The Kafka mode's loop is in
 * redrive_kafka.c; the embedded mode's (the dead-letter file, dead.h) in redrive_cli.c.
 */
#ifndef REDRIVE_H
#define REDRIVE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "msg.h"

struct cfg;

struct redrive_opts {
        const char *cfgpath;
        int execute;                /* --execute */
        const char *discard;        /* --discard TEXT: the reason, or NULL */
        int all;                    /* --all: also those already redriven or discarded */
        const char *stage;          /* "parse" or "sync" (--stage parser|syncer), or NULL */
        const char *reason;         /* --reason SUBSTR (case-insensitive), or NULL */
        int64_t since_ms, until_ms; /* --since/--until, -1 when not given */
        int64_t id;                 /* --id N (embedded mode), -1 when not given */
};

void redrive_usage(FILE *fp);
/* Parse argv (argv[0] = "redrive"). 0 with o filled, or 1 with *exitcode set (help: 0,
 * usage error: 2, said why on stderr). */
int redrive_args(int argc, char **argv, struct redrive_opts *o, int *exitcode);
/* Nonzero when a filter is given (stage, reason, times, id). */
int redrive_filtered(const struct redrive_opts *o);
/* Whether d passes the filters (stage, reason, times; not id). */
int redrive_match(const struct redrive_opts *o, const struct msg_dead *d);
/* What d carried, decoded: "log file: PATH", "event: put PROVIDER/BUCKET/KEY", or
 * "unreadable message: ..." (printable, bounded). */
void redrive_what(const struct msg_dead *d, char *out, size_t outsz);
/* One listing line (no newline): "TIME STAGE what: reason (attempts N)"; the caller puts the
 * entry's id and state in front. */
void redrive_line(const struct msg_dead *d, char *out, size_t outsz);

/* The embedded mode (no kafka.brokers): list, request a redrive, discard. Exit code. */
int redrive_embedded(const struct cfg *cfg, const struct redrive_opts *o);
/* The Kafka mode (redrive_kafka.c): list <prefix>dead to its end, put back with --execute.
 * Exit code. */
int redrive_kafka(const struct cfg *cfg, const struct redrive_opts *o);

#endif
