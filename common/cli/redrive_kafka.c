/*
 * redrive_kafka.c - `jibe redrive` in the Kafka mode: reads <prefix>dead (consumer group
 * <prefix>redrive) up to its end, lists the dead letters the filters select, and with
 * --execute puts every one a stage can read again back on its topic, with its original key.
 *
 * Owns: the loop over the dead-letter topic and what is acked (put back, or unusable with
 * --execute) or left for the next redrive (abandoned).
 * Does not: parse the command line or describe a dead letter (redrive_cli.c), or speak
 * librdkafka (q_kafka*.c; the transport comes from open_transport() in stage_cli.c).
 */
#include <stdio.h>
#include <string.h>

#include "cfg.h"
#include "cli.h"
#include "msg.h"
#include "q.h"
#include "redrive.h"

#define REDRIVE_IDLE_MS 5000 /* nothing more within this: the end of the topic */

struct redrive_counts {
        unsigned long files, events, unusable;
};

static int redrivable(int target, const struct msg_dead *d)
{
        struct msg_logfile lf;
        struct msg_objevent ev;
        char e[256];

        if (target == Q_FILES &&
            msg_logfile_decode(d->payload, d->payload_len, &lf, e, sizeof(e)) == JB_OK) {
                msg_logfile_clear(&lf);
                return 1;
        }
        if (target == Q_EVENTS &&
            msg_objevent_decode(d->payload, d->payload_len, &ev, e, sizeof(e)) == JB_OK) {
                msg_objevent_clear(&ev);
                return 1;
        }
        return 0;
}

/* Where d goes back: Q_FILES, Q_EVENTS, or -1 when no stage can read its message (one that
 * never decoded would only come back as a dead letter). */
static int redrive_target(const struct msg_dead *d)
{
        if (!d->stage || !d->payload)
                return -1;
        if (!strcmp(d->stage, "parse") && redrivable(Q_FILES, d))
                return Q_FILES;
        if (!strcmp(d->stage, "sync") && redrivable(Q_EVENTS, d))
                return Q_EVENTS;
        return -1;
}

/* Publish d's message to target with its original key (m completes with the delivery). */
static int redrive_put_back(struct q *q, int target, const struct msg_dead *d, struct q_msg *m,
                            char *err, size_t errsz)
{
        struct buf key;
        struct msg_logfile lf;
        struct msg_objevent ev;
        char e2[256];
        int rc;

        buf_init(&key, MSG_MAX_BYTES);
        if (target == Q_FILES &&
            msg_logfile_decode(d->payload, d->payload_len, &lf, e2, sizeof(e2)) == JB_OK) {
                rc = msg_logfile_key(&lf, &key);
                msg_logfile_clear(&lf);
        } else if (target == Q_EVENTS &&
                   msg_objevent_decode(d->payload, d->payload_len, &ev, e2, sizeof(e2)) == JB_OK) {
                rc = msg_objevent_key(&ev, &key);
                msg_objevent_clear(&ev);
        } else {
                rc = buf_puts(&key, "redriven");
        }
        if (!rc)
                rc = q_publish(q, (enum q_topic)target, key.p, key.len, d->payload, d->payload_len, m,
                               NULL, NULL, err, errsz);
        buf_clear(&key);
        return rc;
}

/* One consumed dead letter: listed, and with --execute put back (or acked when unusable).
 * 0 to go on, 1 when putting it back failed (said why). */
static int redrive_one(struct q *q, struct q_msg *m, const struct redrive_opts *o, int64_t started_ms,
                       struct redrive_counts *n)
{
        struct msg_dead d;
        char err[1024], what[1400], line[2400];
        int target = -1, decoded;

        decoded = msg_dead_decode(m->payload, m->len, &d, err, sizeof(err)) == JB_OK && d.payload;
        if (decoded && (d.at_ms > started_ms || !redrive_match(o, &d))) {
                /* written after this redrive began (maybe by it): next time */
                q_abandon(q, m);
                msg_dead_clear(&d);
                return 0;
        }
        if (decoded)
                target = redrive_target(&d);
        if (target < 0) {
                n->unusable++;
                printf("skip: %s (%.80s)\n",
                       d.stage ? "its message cannot be read by any stage: it stays a dead letter"
                               : "not a dead letter jibe can put back",
                       d.error ? d.error : m->payload);
                if (o->execute)
                        q_ack(q, m);
                else
                        q_abandon(q, m);
                msg_dead_clear(&d);
                return 0;
        }
        redrive_what(&d, what, sizeof(what));
        redrive_line(&d, line, sizeof(line));
        printf("%s %s\n  %s\n", o->execute ? "redrive" : "would redrive", what, line);
        if (target == Q_FILES)
                n->files++;
        else
                n->events++;
        if (!o->execute) {
                q_abandon(q, m);
        } else if (redrive_put_back(q, target, &d, m, err, sizeof(err))) {
                fprintf(stderr, "jibe redrive: %s\n", err);
                q_abandon(q, m);
                msg_dead_clear(&d);
                return 1;
        } else {
                q_ack(q, m);
        }
        msg_dead_clear(&d);
        return 0;
}

int redrive_kafka(const struct cfg *cfg, const struct redrive_opts *o)
{
        struct redrive_counts n = {0, 0, 0};
        struct q_msg *m = NULL;
        struct q *q;
        char err[1024];
        int64_t started_ms = msg_now_ms();

        q = open_transport(cfg, "redrive", Q_DEAD, "redrive", NULL, err, sizeof(err));
        if (!q) {
                fprintf(stderr, "jibe redrive: %s\n", err);
                return 1;
        }
        /* to the end: nothing more within REDRIVE_IDLE_MS (or an error) */
        while (q_poll(q, Q_DEAD, REDRIVE_IDLE_MS, &m) == JB_OK && !redrive_one(q, m, o, started_ms, &n))
                m = NULL;
        q_shutdown(q);
        printf("%s %lu log file(s) and %lu event(s); %lu dead letter(s) not usable\n",
               o->execute ? "redriven:" : "would redrive (run again with --execute):", n.files, n.events,
               n.unusable);
        q_free(q); /* waits for the deliveries, then commits the consumed dead letters */
        return 0;
}
