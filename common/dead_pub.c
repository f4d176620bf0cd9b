/*
 * dead_pub.c - encode a dead letter under the one size policy and publish it on Q_DEAD (see
 * dead_pub.h). Reading dead letters back and redriving them is dead.c's job.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dead_pub.h"
#include "q.h"

/* s cut to DEAD_PUB_TEXT_MAX bytes (ending in "...") into tmp, or s itself when short enough. */
static const char *cut_text(const char *s, char *tmp)
{
        size_t n;

        if (!s || strlen(s) <= DEAD_PUB_TEXT_MAX)
                return s;
        n = DEAD_PUB_TEXT_MAX - 3;
        memcpy(tmp, s, n);
        memcpy(tmp + n, "...", 4);
        return tmp;
}

int dead_pub_encode(const struct msg_dead *d, struct buf *out)
{
        struct msg_dead c = *d;
        char *err_cut = malloc(DEAD_PUB_TEXT_MAX + 1);
        char *src_cut = malloc(DEAD_PUB_TEXT_MAX + 1);
        char *why = NULL;
        size_t plen = d->payload ? (d->payload_len ? d->payload_len : strlen(d->payload)) : 0;
        int rc = JB_ENOMEM;

        if (!err_cut || !src_cut)
                goto out;
        c.error = (char *)cut_text(d->error, err_cut);
        c.src = (char *)cut_text(d->src, src_cut);
        if (plen > MSG_MAX_BYTES) {
                size_t wsz = DEAD_PUB_TEXT_MAX + 128;

                why = malloc(wsz);
                if (!why)
                        goto out;
                snprintf(why, wsz, "%s (message of %zu bytes, only the first %u kept)",
                         c.error ? c.error : "", plen, MSG_MAX_BYTES);
                c.error = why;
                c.payload_len = MSG_MAX_BYTES;
        }
        buf_reset(out);
        rc = msg_dead_encode(&c, out);
out:
        free(why);
        free(src_cut);
        free(err_cut);
        return rc;
}

int dead_pub(struct q *q, const struct msg_dead *d, const char *key, size_t keylen, struct q_msg *parent,
             struct buf *scratch, char *errstr, size_t errsz)
{
        int rc = dead_pub_encode(d, scratch);

        if (rc)
                return jb_seterr(rc, errstr, errsz, "cannot encode a dead letter (%s)", jb_strerror(rc));
        return q_publish(q, Q_DEAD, key, keylen, scratch->p, scratch->len, parent, NULL, NULL, errstr,
                         errsz);
}
