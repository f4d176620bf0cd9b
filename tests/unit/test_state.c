/*
 * test_state.c - the state directory: atomic writes, one owner, clear errors for a
 * directory that is not ours or cannot be used.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "state.h"
#include "tu.h"

static int count_files(void *opaque, const char *name)
{
        (void)name;
        (*(int *)opaque)++;
        return 0;
}

static void test_write_read_list(void **state)
{
        char *dir = tu_tmpdir(), err[512], sub[600];
        struct state *st, *st2;
        struct buf b;
        int n = 0;

        (void)state;
        snprintf(sub, sizeof(sub), "%s/a/b", dir);
        assert_int_equal(state_open(sub, &st, err, sizeof(err)), 0);
        buf_init(&b, 1 << 20);
        assert_int_equal(state_read(st, "scan/x", &b, err, sizeof(err)), JB_ENOTFOUND);
        assert_int_equal(state_write(st, "scan/x", "hello", 5, err, sizeof(err)), 0);
        assert_int_equal(state_write(st, "scan/x", "world!", 6, err, sizeof(err)), 0);
        assert_int_equal(state_write(st, "scan/y", "", 0, err, sizeof(err)), 0);
        assert_int_equal(state_read(st, "scan/x", &b, err, sizeof(err)), 0);
        assert_string_equal(b.p, "world!");
        assert_int_equal(state_list(st, "scan", count_files, &n, err, sizeof(err)), 0);
        assert_int_equal(n, 2);
        assert_int_equal(state_write(st, "../escape", "x", 1, err, sizeof(err)), JB_EINPUT);
        /* a second owner is refused with a reason */
        assert_int_equal(state_open(sub, &st2, err, sizeof(err)), JB_EFATAL);
        assert_non_null(strstr(err, "in use by another jibe"));
        assert_int_equal(state_remove(st, "scan/y", err, sizeof(err)), 0);
        state_close(st);
        /* and reopened after the owner closed it */
        assert_int_equal(state_open(sub, &st, err, sizeof(err)), 0);
        state_close(st);
        buf_clear(&b);
        tu_rmrf(dir);
        free(dir);
}

static void test_not_ours_or_unusable(void **state)
{
        char *dir = tu_tmpdir(), err[512], path[600];
        struct state *st;
        FILE *fp;

        (void)state;
        snprintf(path, sizeof(path), "%s/FORMAT", dir);
        fp = fopen(path, "w");
        fputs("something else\n", fp);
        fclose(fp);
        assert_int_equal(state_open(dir, &st, err, sizeof(err)), JB_EINPUT);
        assert_non_null(strstr(err, "not a jibe state directory"));
        snprintf(path, sizeof(path), "%s/file", dir);
        fp = fopen(path, "w");
        fclose(fp);
        assert_int_not_equal(state_open(path, &st, err, sizeof(err)), 0);
        assert_int_equal(state_open("", &st, err, sizeof(err)), JB_EINPUT);
        if (geteuid() != 0) { /* root ignores permissions */
                snprintf(path, sizeof(path), "%s/ro", dir);
                mkdir(path, 0500);
                assert_int_equal(state_open(path, &st, err, sizeof(err)), JB_EIO);
        }
        tu_rmrf(dir);
        free(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_write_read_list),
                cmocka_unit_test(test_not_ours_or_unusable),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
