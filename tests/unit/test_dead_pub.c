/*
 * test_dead_pub.c - the one size policy of dead letters: a readable message is kept whole
 * (redrivable), a longer reason is cut, an oversized message keeps its beginning and says so;
 * every result decodes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dead_pub.h"

/* Encode d under the policy, decode it back into *back (caller clears). */
static void roundtrip(const struct msg_dead *d, struct msg_dead *back)
{
        struct buf out;
        char err[256];

        buf_init(&out, DEAD_PUB_ENC_MAX);
        assert_int_equal(dead_pub_encode(d, &out), JB_OK);
        assert_true(out.len <= DEAD_PUB_ENC_MAX);
        assert_int_equal(msg_dead_decode(out.p, out.len, back, err, sizeof(err)), JB_OK);
        buf_clear(&out);
}

static struct msg_dead dead_of(char *payload, size_t len, char *error)
{
        struct msg_dead d;

        memset(&d, 0, sizeof(d));
        d.stage = (char *)"sync";
        d.src = (char *)"P/b/AWSLogs/1/CloudTrail/r/2026/11/29/f.json.gz";
        d.rec = 3;
        d.error = error;
        d.attempts = 2;
        d.payload = payload;
        d.payload_len = len;
        d.at_ms = 1;
        return d;
}

/* The largest message a stage reads is kept byte for byte, with its reason unchanged. */
static void test_max_message_kept_whole(void **state)
{
        char *p = malloc(MSG_MAX_BYTES);
        struct msg_dead d, b;

        (void)state;
        assert_non_null(p);
        memset(p, 'x', MSG_MAX_BYTES);
        d = dead_of(p, MSG_MAX_BYTES, (char *)"refused");
        roundtrip(&d, &b);
        assert_int_equal(b.payload_len, MSG_MAX_BYTES);
        assert_memory_equal(b.payload, p, MSG_MAX_BYTES);
        assert_string_equal(b.error, "refused");
        assert_string_equal(b.src, d.src);
        msg_dead_clear(&b);
        free(p);
}

/* A message over twice the limit (no stage could read it): its beginning is kept, the reason
 * says how large it was, and the dead letter is still written. */
static void test_oversized_message_cut(void **state)
{
        size_t n = 2 * (size_t)MSG_MAX_BYTES + 5;
        char *p = malloc(n);
        struct msg_dead d, b;

        (void)state;
        assert_non_null(p);
        memset(p, 'y', n);
        d = dead_of(p, n, (char *)"not a valid object event");
        roundtrip(&d, &b);
        assert_int_equal(b.payload_len, MSG_MAX_BYTES);
        assert_memory_equal(b.payload, p, MSG_MAX_BYTES);
        assert_non_null(strstr(b.error, "not a valid object event ("));
        assert_non_null(strstr(b.error, "only the first 1048576 kept"));
        msg_dead_clear(&b);
        free(p);
}

/* A huge reason is cut to DEAD_PUB_TEXT_MAX; the payload beside it stays whole. */
static void test_long_reason_cut(void **state)
{
        size_t n = 3 * (size_t)MSG_MAX_BYTES;
        char *why = malloc(n + 1);
        struct msg_dead d, b;

        (void)state;
        assert_non_null(why);
        memset(why, 'r', n);
        why[n] = '\0';
        d = dead_of((char *)"{\"v\":1}", 7, why);
        roundtrip(&d, &b);
        assert_int_equal(strlen(b.error), DEAD_PUB_TEXT_MAX);
        assert_memory_equal(b.error + DEAD_PUB_TEXT_MAX - 3, "...", 3);
        assert_int_equal(b.payload_len, 7);
        assert_memory_equal(b.payload, "{\"v\":1}", 7);
        msg_dead_clear(&b);
        free(why);
}

/* Both at once, with src too: still under the ceiling and decodable. */
static void test_everything_oversized(void **state)
{
        size_t n = 3 * (size_t)MSG_MAX_BYTES;
        char *big = malloc(n + 1);
        struct msg_dead d, b;

        (void)state;
        assert_non_null(big);
        memset(big, 'z', n);
        big[n] = '\0';
        d = dead_of(big, n, big);
        d.src = big;
        roundtrip(&d, &b);
        assert_int_equal(b.payload_len, MSG_MAX_BYTES);
        assert_int_equal(strlen(b.src), DEAD_PUB_TEXT_MAX);
        assert_non_null(strstr(b.error, "only the first"));
        msg_dead_clear(&b);
        free(big);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_max_message_kept_whole),
                cmocka_unit_test(test_oversized_message_cut),
                cmocka_unit_test(test_long_reason_cut),
                cmocka_unit_test(test_everything_oversized),
        };

        return cmocka_run_group_tests_name("dead_pub", tests, NULL, NULL);
}
