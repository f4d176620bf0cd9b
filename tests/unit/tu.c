/*
 * tu.c - unit test helpers (see tu.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "tu.h"

unsigned char *tu_gzip(const void *p, size_t n, size_t *outlen)
{
        z_stream zs;
        unsigned char *out;
        size_t cap = n + n / 100 + 1024;

        memset(&zs, 0, sizeof(zs));
        if (deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
                return NULL;
        out = malloc(cap);
        if (!out) {
                deflateEnd(&zs);
                return NULL;
        }
        zs.next_in = (Bytef *)(uintptr_t)p;
        zs.avail_in = (uInt)n;
        zs.next_out = out;
        zs.avail_out = (uInt)cap;
        if (deflate(&zs, Z_FINISH) != Z_STREAM_END) {
                deflateEnd(&zs);
                free(out);
                return NULL;
        }
        *outlen = zs.total_out;
        deflateEnd(&zs);
        return out;
}

char *tu_slurp(const char *path, size_t *len)
{
        FILE *fp = fopen(path, "rb");
        char *p = NULL;
        long n;

        if (!fp)
                return NULL;
        if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 && fseek(fp, 0, SEEK_SET) == 0) {
                p = malloc((size_t)n + 1);
                if (p && fread(p, 1, (size_t)n, fp) != (size_t)n) {
                        free(p);
                        p = NULL;
                }
                if (p) {
                        p[n] = '\0';
                        if (len)
                                *len = (size_t)n;
                }
        }
        fclose(fp);
        return p;
}

char *tu_tmpdir(void)
{
        const char *t = getenv("TMPDIR");
        char *d;
        size_t n;

        if (!t || !*t)
                t = "/tmp";
        n = strlen(t) + 32;
        d = malloc(n);
        if (!d)
                return NULL;
        snprintf(d, n, "%s/jibe-unit.XXXXXX", t);
        if (!mkdtemp(d)) {
                free(d);
                return NULL;
        }
        return d;
}

void tu_rmrf(const char *dir)
{
        char cmd[4200];

        if (!dir || strlen(dir) > 4000 || strncmp(dir, "/", 1) != 0)
                return;
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
                fprintf(stderr, "tu_rmrf: could not remove %s\n", dir);
}

int tu_collect(void *opaque, const char *instance, const void *doc, size_t n, const char *where)
{
        struct tu_seen *s = opaque;

        if (s->n >= TU_SEEN_MAX)
                return -1;
        snprintf(s->inst[s->n], sizeof(s->inst[0]), "%s", instance);
        snprintf(s->doc[s->n], sizeof(s->doc[0]), "%.*s", (int)n, (const char *)doc);
        snprintf(s->where[s->n], sizeof(s->where[0]), "%s", where);
        s->n++;
        return 0;
}

const char *tu_doc_of(const struct tu_seen *s, const char *instance)
{
        size_t i;

        for (i = 0; i < s->n; i++)
                if (!strcmp(s->inst[i], instance))
                        return s->doc[i];
        return NULL;
}
