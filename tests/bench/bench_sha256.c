/*
 * bench_sha256.c - `make bench`: common/sha256.c's two compression functions (SHA-NI where the
 * CPU has the SHA extensions, portable C) beside `sha256sum` on the same bytes, in one run.
 *
 *   build/release/bench/bench_sha256 [MiB] [rounds]      (default 128 MiB, 5 rounds)
 *
 * The bytes are hashed in 64 KiB pieces (as a download is fed to the parser), the rounds
 * interleave the three commands in a rotating order (paired: they see the same machine
 * state), and each line gives the median MB/s and its speed over each other (x NAME: above 1 is
 * faster). sha256sum reads a file from the page cache (warmed first) and includes its process
 * start. Not a test: it fails only when the three disagree on the digest or a command fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sha256.h"

#define PIECE (64u << 10)
#define MAX_ROUNDS 21

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double ours(const unsigned char *buf, size_t n, int portable, char hex[SHA256_HEX_LEN + 1])
{
        struct sha256_ctx c;
        uint8_t d[SHA256_LEN];
        double t0;
        size_t i;

        sha256_force_portable(portable);
        t0 = now_s();
        sha256_init(&c);
        for (i = 0; i < n; i += PIECE)
                sha256_update(&c, buf + i, n - i < PIECE ? n - i : PIECE);
        sha256_final(&c, d);
        t0 = now_s() - t0;
        sha256_force_portable(0);
        sha256_hex(d, hex);
        return t0;
}

/* sha256sum PATH; -1 when it fails. */
static double theirs(const char *path, char hex[SHA256_HEX_LEN + 1])
{
        char cmd[600], line[200];
        double t0 = now_s();
        FILE *p;

        snprintf(cmd, sizeof(cmd), "sha256sum '%s'", path);
        p = popen(cmd, "r");
        if (!p)
                return -1;
        if (!fgets(line, sizeof(line), p) || strlen(line) < SHA256_HEX_LEN) {
                pclose(p);
                return -1;
        }
        if (pclose(p) != 0)
                return -1;
        t0 = now_s() - t0;
        memcpy(hex, line, SHA256_HEX_LEN);
        hex[SHA256_HEX_LEN] = '\0';
        return t0;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

static double median(double *t, int n)
{
        qsort(t, (size_t)n, sizeof(*t), cmp_double);
        return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

int main(int argc, char **argv)
{
        const char *names[3] = {"SHA-NI", "portable", "sha256sum"};
        long mib = argc > 1 ? strtol(argv[1], NULL, 10) : 128;
        int rounds = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 5;
        int have_ni = !strcmp(sha256_impl(), "SHA-NI"), k, i, j, rc = 1;
        char path[] = "/tmp/jibe-bench-sha256.XXXXXX", hex[3][SHA256_HEX_LEN + 1];
        double t[3][MAX_ROUNDS], med[3];
        unsigned char *buf = NULL;
        uint32_t s = 12345;
        size_t n, at;
        FILE *f = NULL;
        int fd = -1;

        if (mib < 1 || mib > 4096 || rounds < 1 || rounds > MAX_ROUNDS) {
                fprintf(stderr, "usage: bench_sha256 [MiB 1-4096] [rounds 1-%d]\n", MAX_ROUNDS);
                return 2;
        }
        n = (size_t)mib << 20;
        buf = malloc(n);
        if (!buf) {
                fprintf(stderr, "bench_sha256: out of memory for %ld MiB\n", mib);
                goto out;
        }
        for (at = 0; at < n; at++) {
                s ^= s << 13, s ^= s >> 17, s ^= s << 5;
                buf[at] = (unsigned char)(s >> 7);
        }
        fd = mkstemp(path);
        if (fd < 0 || !(f = fdopen(fd, "wb"))) {
                fprintf(stderr, "bench_sha256: cannot create %s\n", path);
                if (fd >= 0)
                        close(fd);
                goto out;
        }
        at = fwrite(buf, 1, n, f);
        if (fclose(f) || at != n) {
                fprintf(stderr, "bench_sha256: cannot write %s (disk full?)\n", path);
                goto out;
        }
        if (theirs(path, hex[2]) < 0) { /* warms the page cache */
                fprintf(stderr, "bench_sha256: sha256sum failed (coreutils)\n");
                goto out;
        }
        for (k = 0; k < rounds; k++)
                for (j = 0; j < 3; j++) {
                        i = (j + k) % 3;
                        if (i == 0 && !have_ni)
                                t[0][k] = 0;
                        else if (i < 2)
                                t[i][k] = ours(buf, n, i, hex[i]);
                        else if ((t[2][k] = theirs(path, hex[2])) < 0) {
                                fprintf(stderr, "bench_sha256: sha256sum failed\n");
                                goto out;
                        }
                }
        if (strcmp(hex[1], hex[2]) || (have_ni && strcmp(hex[0], hex[1]))) {
                fprintf(stderr,
                        "bench_sha256: THE DIGESTS DIFFER: SHA-NI %s, portable %s, sha256sum %s\n",
                        have_ni ? hex[0] : "-", hex[1], hex[2]);
                goto out;
        }
        for (i = 0; i < 3; i++)
                med[i] = median(t[i], rounds);
        printf("\nsha256: %ld MiB in 64 KiB pieces, median of %d rounds, commands interleaved; "
               "x NAME = speed over NAME (above 1: faster)%s\n",
               mib, rounds, have_ni ? "" : "; this CPU has no SHA extensions: portable only");
        printf("  %-34s %7s %7s %10s %10s %11s\n", "command", "wall s", "MB/s", "x SHA-NI", "x portable",
               "x sha256sum");
        for (i = 0; i < 3; i++) {
                if (i == 0 && !have_ni)
                        continue;
                printf("  %-34s %7.3f %7.0f", i == 2 ? "sha256sum (with its process start)" : names[i],
                       med[i], n / med[i] / 1e6);
                for (j = 0; j < 3; j++) {
                        if (j == 0 && !have_ni)
                                printf(" %10s", "-");
                        else
                                printf(" %*.2f", j == 2 ? 11 : 10, med[j] / med[i]);
                }
                printf("\n");
        }
        rc = 0;
out:
        if (fd >= 0)
                unlink(path);
        free(buf);
        return rc;
}
