/*
 * replay.c - main() of the test_fuzz_NAME unit tests: feeds every file of
 * tests/fuzz/regress/NAME/ and tests/fuzz/corpus/NAME/ to the harness fuzz_NAME.c, once
 * each, so the inputs the fuzzers found (and the seeds) stay fixed on gcc and clang builds
 * alike. With arguments, replays those files instead (to look at one crash under gdb).
 * The source tree is $JIBE_TOP (tests/run.sh sets it), else where the build ran.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#ifndef JB_REPLAY_TOP
#define JB_REPLAY_TOP "."
#endif

static int replay_file(const char *path)
{
        FILE *f = fopen(path, "rb");
        uint8_t *data = NULL;
        size_t n = 0, cap = 0, got;

        if (!f) {
                fprintf(stderr, "replay: cannot open %s: %s\n", path, strerror(errno));
                return -1;
        }
        for (;;) {
                if (n == cap) {
                        uint8_t *nd = realloc(data, cap ? cap * 2 : 65536);

                        if (!nd) {
                                fclose(f);
                                free(data);
                                return -1;
                        }
                        data = nd;
                        cap = cap ? cap * 2 : 65536;
                }
                got = fread(data + n, 1, cap - n, f);
                n += got;
                if (got == 0)
                        break;
        }
        fclose(f);
        LLVMFuzzerTestOneInput(data, n); /* the harness aborts on a broken property */
        free(data);
        return 0;
}

static int cmp_names(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replay every regular file of dir in name order; a missing dir counts 0. */
static int replay_dir(const char *dir, int *count)
{
        DIR *d = opendir(dir);
        struct dirent *de;
        char **names = NULL, path[4096];
        size_t n = 0, i;
        int rc = 0;

        if (!d)
                return errno == ENOENT ? 0 : -1;
        while ((de = readdir(d)) != NULL) {
                char **nn;

                if (de->d_name[0] == '.')
                        continue;
                nn = realloc(names, (n + 1) * sizeof(*names));
                if (!nn) {
                        rc = -1;
                        break;
                }
                names = nn;
                names[n] = strdup(de->d_name);
                if (!names[n]) {
                        rc = -1;
                        break;
                }
                n++;
        }
        closedir(d);
        qsort(names, n, sizeof(*names), cmp_names);
        for (i = 0; i < n; i++) {
                snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
                printf("replay %s\n", path);
                fflush(stdout);
                if (!rc && replay_file(path) == 0)
                        (*count)++;
                else
                        rc = -1;
                free(names[i]);
        }
        free(names);
        return rc;
}

int main(int argc, char **argv)
{
        const char *top = getenv("JIBE_TOP");
        const char *name = strrchr(argv[0], '/');
        char dir[4096];
        int count = 0, i;

        if (argc > 1) {
                for (i = 1; i < argc; i++)
                        if (replay_file(argv[i]))
                                return 1;
                return 0;
        }
        name = name ? name + 1 : argv[0];
        if (strncmp(name, "test_fuzz_", 10) != 0) {
                fprintf(stderr, "replay: run me as test_fuzz_NAME (I am %s)\n", name);
                return 1;
        }
        name += 10;
        if (!top || !*top)
                top = JB_REPLAY_TOP;
        snprintf(dir, sizeof(dir), "%s/tests/fuzz/regress/%s", top, name);
        if (replay_dir(dir, &count))
                return 1;
        snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/%s", top, name);
        if (replay_dir(dir, &count))
                return 1;
        if (count == 0) {
                fprintf(stderr, "replay: no input found under %s/tests/fuzz/{regress,corpus}/%s\n", top,
                        name);
                return 1;
        }
        printf("%d inputs replayed through fuzz_%s\n", count, name);
        return 0;
}
