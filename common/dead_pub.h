/*
 * dead_pub.h - publishing a dead letter: the one code path by which a stage (parser, syncer)
 * sets a message aside on Q_DEAD, with one size policy.
 *
 * Size policy (dead_pub_encode()):
 *   - the reason (error) and the source (src) are kept up to DEAD_PUB_TEXT_MAX bytes each; a
 *     longer one is cut and ends with "...";
 *   - a payload of at most MSG_MAX_BYTES is kept whole, so the dead letter stays redrivable
 *     (no stage reads a message larger than MSG_MAX_BYTES, see msg.h);
 *   - a larger payload could never be read back by any stage: its first MSG_MAX_BYTES are kept
 *     and the reason says how large it was. The stage goes on (nothing readable was lost),
 *     rather than stopping on a message it can neither read nor set aside.
 * An encoded dead letter is therefore always under the 2 * MSG_MAX_BYTES that
 * msg_dead_encode() accepts and msg_dead_decode() reads back.
 * Errors: JB_ENOMEM, JB_ELIMIT (out's ceiling is under DEAD_PUB_ENC_MAX), or the transport's
 * code from q_publish() (JB_ETRANSIENT when it shuts down), with errstr set.
 * Ownership: d is only read; out is the caller's (reset here, not freed).
 */
#ifndef DEAD_PUB_H
#define DEAD_PUB_H

#include <stddef.h>

#include "buf.h"
#include "jb.h"
#include "msg.h"

struct q;
struct q_msg;

#define DEAD_PUB_TEXT_MAX 4096U               /* bytes kept of the reason and of src */
#define DEAD_PUB_ENC_MAX (2U * MSG_MAX_BYTES) /* a ceiling for out that always suffices */

/* Encode d into out (reset first) under the size policy above. */
int dead_pub_encode(const struct msg_dead *d, struct buf *out) JB_MUST_CHECK;

/* Encode d (dead_pub_encode(), into scratch) and publish it on Q_DEAD under key, derived from
 * the consumed message parent (may be NULL). */
int dead_pub(struct q *q, const struct msg_dead *d, const char *key, size_t keylen, struct q_msg *parent,
             struct buf *scratch, char *errstr, size_t errsz) JB_MUST_CHECK;

#endif
