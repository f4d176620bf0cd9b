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
        static const char *const out[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
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
                cmocka_unit_test(test_ceiling),
                cmocka_unit_test(test_json_str),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
