/*
 * fuzz_msg.c - decoding of the stage messages (msg.c) on any bytes.
 *
 * Input: byte 0 picks the message type (logfile, objevent, dead letter), the rest is the
 * payload. Property: what decodes re-encodes, and the encoding decodes to the same struct
 * (decode, encode, decode gives the same fields); sanitizers watch the decoder itself.
 */
#include <string.h>

#include "fuzz.h"
#include "msg.h"

static int same_str(const char *a, const char *b)
{
        return (!a && !b) || (a && b && !strcmp(a, b));
}

static void logfile(const uint8_t *p, size_t n)
{
        struct msg_logfile a, b;
        struct buf out;
        char err[256];

        if (msg_logfile_decode(p, n, &a, err, sizeof(err)) != JB_OK)
                return;
        buf_init(&out, 4 * MSG_MAX_BYTES);
        if (msg_logfile_encode(&a, &out) == JB_OK) {
                FUZZ_CHECK(msg_logfile_decode(out.p, out.len, &b, err, sizeof(err)) == JB_OK);
                FUZZ_CHECK(same_str(a.provider, b.provider) && same_str(a.bucket, b.bucket));
                FUZZ_CHECK(same_str(a.path, b.path) && same_str(a.fi_id, b.fi_id));
                FUZZ_CHECK(a.size == b.size && a.listed_ms == b.listed_ms);
                buf_reset(&out);
                FUZZ_CHECK(msg_logfile_key(&b, &out) == JB_OK);
                msg_logfile_clear(&b);
        }
        buf_clear(&out);
        msg_logfile_clear(&a);
        msg_logfile_clear(&a); /* safe twice */
}

static void objevent(const uint8_t *p, size_t n)
{
        struct msg_objevent a, b;
        struct buf out;
        char err[256];

        if (msg_objevent_decode(p, n, &a, err, sizeof(err)) != JB_OK)
                return;
        FUZZ_CHECK(a.op == MSG_OP_BUCKET ? a.key == NULL : a.key != NULL);
        buf_init(&out, 4 * MSG_MAX_BYTES);
        if (msg_objevent_encode(&a, &out) == JB_OK) {
                FUZZ_CHECK(msg_objevent_decode(out.p, out.len, &b, err, sizeof(err)) == JB_OK);
                FUZZ_CHECK(same_str(a.provider, b.provider) && same_str(a.bucket, b.bucket));
                FUZZ_CHECK(same_str(a.key, b.key) && a.op == b.op);
                FUZZ_CHECK(same_str(a.time, b.time) && same_str(a.event, b.event));
                FUZZ_CHECK(same_str(a.id, b.id) && same_str(a.account, b.account));
                FUZZ_CHECK(same_str(a.region, b.region) && same_str(a.src, b.src));
                FUZZ_CHECK(a.rec == b.rec && a.listed_ms == b.listed_ms);
                buf_reset(&out);
                FUZZ_CHECK(msg_objevent_key(&b, &out) == JB_OK);
                msg_objevent_clear(&b);
        }
        buf_clear(&out);
        msg_objevent_clear(&a);
}

static void dead(const uint8_t *p, size_t n)
{
        struct msg_dead a, b;
        struct buf out;
        char err[256];

        if (msg_dead_decode(p, n, &a, err, sizeof(err)) != JB_OK)
                return;
        buf_init(&out, 8 * MSG_MAX_BYTES);
        if (msg_dead_encode(&a, &out) == JB_OK) {
                FUZZ_CHECK(msg_dead_decode(out.p, out.len, &b, err, sizeof(err)) == JB_OK);
                FUZZ_CHECK(same_str(a.stage, b.stage) && same_str(a.src, b.src));
                FUZZ_CHECK(same_str(a.error, b.error) && a.rec == b.rec);
                FUZZ_CHECK(a.attempts == b.attempts && a.at_ms == b.at_ms);
                FUZZ_CHECK((a.payload == NULL) == (b.payload == NULL));
                if (a.payload) {
                        FUZZ_CHECK(a.payload_len == b.payload_len);
                        FUZZ_CHECK(!memcmp(a.payload, b.payload, a.payload_len));
                }
                msg_dead_clear(&b);
        }
        buf_clear(&out);
        msg_dead_clear(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1)
                return 0;
        switch (data[0] % 3) {
        case 0:
                logfile(data + 1, size - 1);
                break;
        case 1:
                objevent(data + 1, size - 1);
                break;
        default:
                dead(data + 1, size - 1);
                break;
        }
        return 0;
}
