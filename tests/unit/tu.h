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

#endif
