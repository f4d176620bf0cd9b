/*
 * test_sha256.c - sha256.c: the FIPS 180-2 example vectors, Python's hashlib on random inputs
 * fed in random pieces, the hex form, both compression functions against each other (every
 * length to 1000 at every alignment, in pieces), JIBE_SHA256_PORTABLE=1, and the throughput of
 * both beside sha256sum's on the same bytes (printed, so CI's log keeps the figure; not
 * asserted, the machine is shared).
 *
 * The vector tests run twice: once on the function the CPU gets (SHA-NI where it has the SHA
 * extensions), once forced to the portable one (sha256_force_portable()); on a CPU without
 * SHA-NI, or with JIBE_SHA256_PORTABLE=1, once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sha256.h"
#include "tu.h"

static void hex_of(const void *p, size_t n, char hex[SHA256_HEX_LEN + 1])
{
        uint8_t d[SHA256_LEN];

        sha256(p, n, d);
        sha256_hex(d, hex);
}

static void test_fips_vectors(void **state)
{
        char hex[SHA256_HEX_LEN + 1];
        struct sha256_ctx c;
        uint8_t d[SHA256_LEN], blk[1000];
        int i;

        (void)state;
        hex_of("abc", 3, hex);
        assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        hex_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
        assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
        hex_of("", 0, hex);
        assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        hex_of("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqr"
               "lmnopqrsmnopqrstnopqrstu",
               112, hex);
        assert_string_equal(hex, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
        /* one million 'a', 1000 bytes at a time */
        memset(blk, 'a', sizeof(blk));
        sha256_init(&c);
        for (i = 0; i < 1000; i++)
                sha256_update(&c, blk, sizeof(blk));
        sha256_final(&c, d);
        sha256_hex(d, hex);
        assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static uint32_t rnd(uint32_t *s)
{
        *s ^= *s << 13;
        *s ^= *s >> 17;
        *s ^= *s << 5;
        return *s;
}

/* Random lengths around the block and padding boundaries, and larger ones; each input is
 * hashed here in random pieces, written to a file, and hashed by Python's hashlib (one call
 * for all the files, one line each). */
#define NCASE 40
static void test_against_hashlib(void **state)
{
        static const size_t lens[] = {1,   55,  56,  57,  63,   64,   65,   119,
                                      120, 127, 128, 129, 1000, 4096, 65537};
        const size_t nlens = sizeof(lens) / sizeof(lens[0]);
        char *dir = tu_tmpdir(), path[512], cmd[1200], line[200], hex[NCASE][SHA256_HEX_LEN + 1];
        uint32_t s = 0x9e3779b9u;
        struct sha256_ctx c;
        uint8_t d[SHA256_LEN], *buf;
        size_t i, j, n, at, k;
        FILE *f, *py;

        (void)state;
        assert_non_null(dir);
        for (i = 0; i < NCASE; i++) {
                n = i < nlens ? lens[i] : rnd(&s) % 300000;
                buf = malloc(n + 1);
                assert_non_null(buf);
                for (j = 0; j < n; j++)
                        buf[j] = (uint8_t)rnd(&s);
                snprintf(path, sizeof(path), "%s/in%02zu", dir, i);
                f = fopen(path, "wb");
                assert_non_null(f);
                assert_int_equal(fwrite(buf, 1, n, f), n);
                assert_int_equal(fclose(f), 0);
                sha256_init(&c);
                for (at = 0; at < n; at += k) {
                        k = 1 + rnd(&s) % 200;
                        if (k > n - at)
                                k = n - at;
                        sha256_update(&c, buf + at, k);
                }
                sha256_final(&c, d);
                sha256_hex(d, hex[i]);
                free(buf);
        }
        snprintf(
                cmd, sizeof(cmd),
                "python3 -c 'import hashlib,sys\nfor i in range(%d): "
                "print(hashlib.sha256(open(\"%%s/in%%02d\" %% (sys.argv[1], i),\"rb\").read()).hexdigest())' '%s'",
                NCASE, dir);
        py = popen(cmd, "r");
        assert_non_null(py);
        for (i = 0; i < NCASE; i++) {
                assert_non_null(fgets(line, sizeof(line), py));
                line[strcspn(line, "\n")] = '\0';
                if (strcmp(hex[i], line))
                        fail_msg("input %zu: sha256.c says %s, hashlib %s", i, hex[i], line);
        }
        assert_int_equal(pclose(py), 0);
        print_message("sha256: %d random inputs agree with Python's hashlib\n", NCASE);
        tu_rmrf(dir);
        free(dir);
}

static void test_hex(void **state)
{
        uint8_t d[SHA256_LEN], e[SHA256_LEN];
        char hex[SHA256_HEX_LEN + 1], up[SHA256_HEX_LEN + 2];
        size_t i;

        (void)state;
        sha256("abc", 3, d);
        sha256_hex(d, hex);
        assert_int_equal(sha256_from_hex(hex, e), 0);
        assert_memory_equal(d, e, SHA256_LEN);
        for (i = 0; i < SHA256_HEX_LEN; i++)
                up[i] = (char)(hex[i] >= 'a' ? hex[i] - 32 : hex[i]);
        up[SHA256_HEX_LEN] = '\0';
        memset(e, 0, sizeof(e));
        assert_int_equal(sha256_from_hex(up, e), 0);
        assert_memory_equal(d, e, SHA256_LEN);
        /* refused: short, long, a non-hex digit; e stays as it was */
        memset(e, 7, sizeof(e));
        assert_int_equal(sha256_from_hex("abc", e), -1);
        up[SHA256_HEX_LEN] = '0';
        up[SHA256_HEX_LEN + 1] = '\0';
        assert_int_equal(sha256_from_hex(up, e), -1);
        up[SHA256_HEX_LEN] = '\0';
        up[10] = 'g';
        assert_int_equal(sha256_from_hex(up, e), -1);
        assert_int_equal(sha256_from_hex("", e), -1);
        for (i = 0; i < SHA256_LEN; i++)
                assert_int_equal(e[i], 7);
}

/* The two functions on the same inputs: lengths 0..1000 from offsets 0..15 (unaligned loads),
 * one call each, and a 300 KB input in random pieces. On a CPU without SHA-NI both runs are
 * the portable one and this proves nothing more (it says so). */
static void test_paths_agree(void **state)
{
        uint8_t *buf = malloc(300000 + 16), a[SHA256_LEN], b[SHA256_LEN];
        uint32_t s = 0xdeadbeefu;
        struct sha256_ctx c;
        size_t n, off, at, k;

        (void)state;
        assert_non_null(buf);
        for (n = 0; n < 300000 + 16; n++)
                buf[n] = (uint8_t)(rnd(&s) >> 3);
        sha256_force_portable(0);
        if (strcmp(sha256_impl(), "SHA-NI"))
                print_message("sha256: the portable function only (no SHA extensions, or "
                              "JIBE_SHA256_PORTABLE=1): the paths are one\n");
        for (n = 0; n <= 1000; n++) {
                off = n % 16;
                sha256_force_portable(0);
                sha256(buf + off, n, a);
                sha256_force_portable(1);
                sha256(buf + off, n, b);
                if (memcmp(a, b, SHA256_LEN))
                        fail_msg("%zu bytes at offset %zu: the two functions differ", n, off);
        }
        for (int round = 0; round < 2; round++) {
                sha256_force_portable(round);
                sha256_init(&c);
                for (at = 0; at < 300000; at += k) {
                        k = 1 + rnd(&s) % 5000;
                        if (k > 300000 - at)
                                k = 300000 - at;
                        sha256_update(&c, buf + 1 + at, k);
                }
                sha256_final(&c, round ? b : a);
        }
        assert_memory_equal(a, b, SHA256_LEN);
        sha256_force_portable(0);
        free(buf);
}

static const char *self; /* argv[0] */

/* JIBE_SHA256_PORTABLE=1 makes a new process use the portable function. */
static void test_env_portable(void **state)
{
        char cmd[1200], line[64];
        FILE *p;

        (void)state;
        snprintf(cmd, sizeof(cmd), "JIBE_SHA256_PORTABLE=1 '%s' --impl", self);
        p = popen(cmd, "r");
        assert_non_null(p);
        assert_non_null(fgets(line, sizeof(line), p));
        assert_int_equal(pclose(p), 0);
        assert_string_equal(line, "portable\n");
}

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One timed hash of buf in 64 KiB pieces (as a download arrives); its digest in hex. */
static double time_hash(const uint8_t *buf, size_t n, char hex[SHA256_HEX_LEN + 1])
{
        const size_t piece = 64u << 10;
        struct sha256_ctx c;
        uint8_t d[SHA256_LEN];
        double t0 = now_s();
        size_t i;

        sha256_init(&c);
        for (i = 0; i < n; i += piece)
                sha256_update(&c, buf + i, n - i < piece ? n - i : piece);
        sha256_final(&c, d);
        t0 = now_s() - t0;
        sha256_hex(d, hex);
        return t0;
}

/* 64 MiB (8 under valgrind) hashed by each function, then sha256sum on the same bytes. */
static void test_throughput(void **state)
{
        const size_t n = getenv("JIBE_VALGRIND") ? 8u << 20 : 64u << 20;
        char *dir = tu_tmpdir(), path[512], cmd[700], line[160], hex[SHA256_HEX_LEN + 1],
             hex2[SHA256_HEX_LEN + 1], name[64];
        uint8_t *buf = malloc(n);
        uint32_t s = 12345;
        double t0, ours, portable, theirs = 0;
        size_t i;
        FILE *f, *p;

        (void)state;
        assert_non_null(buf);
        assert_non_null(dir);
        for (i = 0; i < n; i++)
                buf[i] = (uint8_t)(rnd(&s) >> 7);
        sha256_force_portable(0);
        snprintf(name, sizeof(name), "%s", sha256_impl());
        ours = time_hash(buf, n, hex);
        portable = ours;
        if (strcmp(name, "portable")) {
                sha256_force_portable(1);
                portable = time_hash(buf, n, hex2);
                sha256_force_portable(0);
                assert_string_equal(hex, hex2);
        }
        snprintf(path, sizeof(path), "%s/bytes", dir);
        f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(buf, 1, n, f), n);
        assert_int_equal(fclose(f), 0);
        snprintf(cmd, sizeof(cmd), "sha256sum '%s'", path);
        /* warm the page cache, then time it */
        p = popen(cmd, "r");
        assert_non_null(p);
        while (fgets(line, sizeof(line), p))
                ;
        pclose(p);
        t0 = now_s();
        p = popen(cmd, "r");
        assert_non_null(p);
        assert_non_null(fgets(line, sizeof(line), p));
        assert_int_equal(pclose(p), 0);
        theirs = now_s() - t0;
        assert_memory_equal(line, hex, SHA256_HEX_LEN);
        if (portable != ours)
                snprintf(name + strlen(name), sizeof(name) - strlen(name), " %.0f MB/s (%.3f s), ",
                         n / ours / 1e6, ours);
        else
                name[0] = '\0';
        print_message("sha256 (%zu MiB): %sportable %.0f MB/s (%.3f s); sha256sum on the same bytes: "
                      "%.0f MB/s (%.3f s, with its process start)\n",
                      n >> 20, name, n / portable / 1e6, portable, n / theirs / 1e6, theirs);
        tu_rmrf(dir);
        free(dir);
        free(buf);
}

/* The vector tests, with the function the group's setup chose. */
static int use_default(void **state)
{
        (void)state;
        sha256_force_portable(0);
        return 0;
}

static int use_portable(void **state)
{
        (void)state;
        sha256_force_portable(1);
        return 0;
}

int main(int argc, char **argv)
{
        const struct CMUnitTest vectors[] = {
                cmocka_unit_test(test_fips_vectors),
                cmocka_unit_test(test_against_hashlib),
                cmocka_unit_test(test_hex),
        };
        const struct CMUnitTest rest[] = {
                cmocka_unit_test(test_paths_agree),
                cmocka_unit_test(test_env_portable),
                cmocka_unit_test(test_throughput),
        };
        char group[40];
        int rc;

        if (argc == 2 && !strcmp(argv[1], "--impl")) { /* for test_env_portable */
                printf("%s\n", sha256_impl());
                return 0;
        }
        self = argv[0];
        snprintf(group, sizeof(group), "sha256 %s", sha256_impl());
        rc = cmocka_run_group_tests_name(group, vectors, use_default, use_default);
        if (strcmp(sha256_impl(), "portable"))
                rc |= cmocka_run_group_tests_name("sha256 portable", vectors, use_portable, use_default);
        rc |= cmocka_run_group_tests_name("sha256 both", rest, use_default, use_default);
        return rc;
}
