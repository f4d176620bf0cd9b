/*
 * tu.h - helpers shared by jibe's unit tests (linked into every tests/unit/test_*.c).
 * Everything returned is malloc'ed and belongs to the caller (free()).
 */
#ifndef TU_H
#define TU_H

#include <stddef.h>

/* gzip n bytes of p as one member; *outlen gets the size. NULL on failure. */
unsigned char *tu_gzip(const void *p, size_t n, size_t *outlen);
/* Read a whole file; NULL if it cannot be read. */
char *tu_slurp(const char *path, size_t *len);
/* A fresh private directory under $TMPDIR or /tmp. */
char *tu_tmpdir(void);
/* rm -rf dir (for tu_tmpdir results). */
void tu_rmrf(const char *dir);

/* A status store listing (status_store.h's status_store_fn) gathered for checks: at most
 * TU_SEEN_MAX documents, each cut at 255 bytes; tu_collect() refuses a further one (-1). */
#define TU_SEEN_MAX 8
struct tu_seen {
        size_t n;
        char inst[TU_SEEN_MAX][64];
        char doc[TU_SEEN_MAX][256];
        char where[TU_SEEN_MAX][256];
};
int tu_collect(void *opaque, const char *instance, const void *doc, size_t n, const char *where);
/* The document listed for instance, or NULL. */
const char *tu_doc_of(const struct tu_seen *s, const char *instance);

#endif
