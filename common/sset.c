/*
 * sset.c - string set (see sset.h).
 */
#include <stdlib.h>
#include <string.h>

#include "sset.h"

static char sset_tomb_mark;
#define SSET_TOMB (&sset_tomb_mark)

uint64_t sset_hash(const char *s)
{
        uint64_t h = 1469598103934665603ULL;

        while (*s) {
                h ^= (unsigned char)*s++;
                h *= 1099511628211ULL;
        }
        return h;
}

void sset_init(struct sset *ss)
{
        memset(ss, 0, sizeof(*ss));
}

void sset_clear(struct sset *ss)
{
        size_t i;

        for (i = 0; i < ss->cap; i++)
                if (ss->e[i].s && ss->e[i].s != SSET_TOMB)
                        free(ss->e[i].s);
        free(ss->e);
        memset(ss, 0, sizeof(*ss));
}

static struct sset_ent *find(const struct sset *ss, const char *s)
{
        size_t i, mask;

        if (!ss->cap)
                return NULL;
        mask = ss->cap - 1;
        for (i = sset_hash(s) & mask;; i = (i + 1) & mask) {
                struct sset_ent *e = &ss->e[i];

                if (!e->s)
                        return NULL;
                if (e->s != SSET_TOMB && !strcmp(e->s, s))
                        return e;
        }
}

static int grow(struct sset *ss)
{
        struct sset_ent *old = ss->e;
        size_t oldcap = ss->cap, i, ncap = ss->cap ? ss->cap * 2 : 64;

        if (ss->n * 4 < ss->cap)
                ncap = ss->cap; /* mostly tombstones: rehash in place size */
        ss->e = calloc(ncap, sizeof(*ss->e));
        if (!ss->e) {
                ss->e = old;
                return JB_ENOMEM;
        }
        ss->cap = ncap;
        ss->used = ss->n;
        for (i = 0; i < oldcap; i++) {
                if (old[i].s && old[i].s != SSET_TOMB) {
                        size_t j = sset_hash(old[i].s) & (ncap - 1);

                        while (ss->e[j].s)
                                j = (j + 1) & (ncap - 1);
                        ss->e[j] = old[i];
                }
        }
        free(old);
        return JB_OK;
}

int sset_put(struct sset *ss, const char *s, void *v)
{
        struct sset_ent *e = find(ss, s);
        size_t i, mask;

        if (e) {
                e->v = v;
                return JB_OK;
        }
        if ((ss->used + 1) * 4 > ss->cap * 3 && grow(ss))
                return JB_ENOMEM;
        mask = ss->cap - 1;
        for (i = sset_hash(s) & mask; ss->e[i].s && ss->e[i].s != SSET_TOMB; i = (i + 1) & mask)
                ;
        if (!ss->e[i].s)
                ss->used++;
        ss->e[i].s = strdup(s);
        if (!ss->e[i].s) {
                ss->e[i].s = SSET_TOMB;
                return JB_ENOMEM;
        }
        ss->e[i].v = v;
        ss->n++;
        return JB_OK;
}

int sset_has(const struct sset *ss, const char *s)
{
        return find(ss, s) != NULL;
}

void *sset_get(const struct sset *ss, const char *s)
{
        struct sset_ent *e = find(ss, s);

        return e ? e->v : NULL;
}

int sset_del(struct sset *ss, const char *s)
{
        struct sset_ent *e = find(ss, s);

        if (!e)
                return 0;
        free(e->s);
        e->s = SSET_TOMB;
        e->v = NULL;
        ss->n--;
        return 1;
}

size_t sset_next(const struct sset *ss, size_t i, const struct sset_ent **ent)
{
        for (; i < ss->cap; i++) {
                if (ss->e[i].s && ss->e[i].s != SSET_TOMB) {
                        *ent = &ss->e[i];
                        return i + 1;
                }
        }
        return 0;
}
