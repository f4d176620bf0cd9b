/*
 * test_buf.c - the bounded buffer: ceilings, JSON string escaping, base64 (RFC 4648 vectors).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"

static void test_base64_vectors(void **state)
{
        static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
        static const char *const out[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                          "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
        struct buf b;
        size_t i;

        (void)state;
        buf_init(&b, 1024);
        for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
                buf_reset(&b);
                assert_int_equal(buf_base64(&b, in[i], strlen(in[i])), 0);
                assert_string_equal(b.p, out[i]);
        }
        buf_reset(&b);
        assert_int_equal(buf_base64(&b, "\xff\x00\xfe", 3), 0);
        assert_string_equal(b.p, "/wD+");
        buf_clear(&b);
}

static void test_unbase64(void **state)
{
        static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
        static const char *const enc[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                          "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
        static const char *const bad[] = {"Z", "Zm9v!", "Zg==Zg", "Zm9vY", "Zg==="};
        struct buf b;
        size_t i;

        (void)state;
        buf_init(&b, 1024);
        for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
                buf_reset(&b);
                assert_int_equal(buf_unbase64(&b, enc[i], strlen(enc[i])), 0);
                assert_int_equal(b.len, strlen(in[i]));
                assert_memory_equal(b.p ? b.p : "", in[i], b.len);
        }
        buf_reset(&b);
        assert_int_equal(buf_unbase64(&b, "/wD+", 4), 0); /* binary, with a NUL */
        assert_int_equal(b.len, 3);
        assert_memory_equal(b.p, "\xff\x00\xfe", 3);
        buf_reset(&b);
        assert_int_equal(buf_unbase64(&b, "Zm9v\nYmFy", 9), 0); /* whitespace, no padding */
        assert_string_equal(b.p, "foobar");
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                buf_reset(&b);
                assert_int_equal(buf_puts(&b, "kept"), 0);
                assert_int_equal(buf_unbase64(&b, bad[i], strlen(bad[i])), JB_EINPUT);
                assert_string_equal(b.p, "kept");
        }
        buf_clear(&b);
}

static void test_ceiling(void **state)
{
        struct buf b;

        (void)state;
        buf_init(&b, 8);
        assert_int_equal(buf_puts(&b, "12345678"), 0);
        assert_int_equal(buf_puts(&b, "9"), JB_ELIMIT);
        assert_int_equal(b.len, 8);
        assert_string_equal(b.p, "12345678");
        assert_int_equal(buf_base64(&b, "x", 1), JB_ELIMIT);
        buf_clear(&b);
        buf_clear(&b);
}

static void test_json_str(void **state)
{
        struct buf b;

        (void)state;
        buf_init(&b, 1024);
        assert_int_equal(buf_json_str(&b, "a\"b\\c\n\x01\xc3\xa9", 9), 0);
        assert_string_equal(b.p, "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\"");
        buf_clear(&b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_base64_vectors),
                cmocka_unit_test(test_unbase64),
                cmocka_unit_test(test_ceiling),
                cmocka_unit_test(test_json_str),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
