/*
 * sset.h - a set of strings (open addressing, FNV-1a), with an optional pointer value per
 * string. The set owns copies of its strings; values are the caller's.
 * Not thread-safe.
 */
#ifndef SSET_H
#define SSET_H

#include <stddef.h>
#include <stdint.h>

#include "jb.h"

struct sset_ent {
        char *s; /* NULL: empty slot; SSET_TOMB: removed */
        void *v;
};

struct sset {
        struct sset_ent *e;
        size_t cap, n, used; /* used counts tombstones too */
};

void sset_init(struct sset *ss);
void sset_clear(struct sset *ss); /* frees the strings, not the values */
/* Add s (copied) with value v; if present, only the value is replaced. JB_ENOMEM. */
int sset_put(struct sset *ss, const char *s, void *v) JB_MUST_CHECK;
int sset_has(const struct sset *ss, const char *s);
void *sset_get(const struct sset *ss, const char *s);
int sset_del(struct sset *ss, const char *s); /* 1 if it was there */
/* Iterate: for (i = 0; (i = sset_next(ss, i, &ent)) != 0;) ... */
size_t sset_next(const struct sset *ss, size_t i, const struct sset_ent **ent);
uint64_t sset_hash(const char *s);

#endif
