/*
 * state.h - jibe's local state directory: crash-safe files, one owner at a time.
 *
 * Owns: creating and locking the directory (an flock on .lock, so two jibe processes never
 * share one), its format marker (FORMAT, "jibe-state 1"), and atomic file replacement
 * (write a temporary file, fsync it, rename it over the old one, fsync the directory): after
 * a crash a file holds either its old or its new content, never a mix.
 * Does not: decide what the files mean (the scanner's cursor, quarantine, ...).
 * Names passed in are relative to the directory and may contain one level of subfolder
 * ("scan/abc.seen"); subfolders are created on first write. state_mkdirs() (mkdir -p) is also
 * used on its own by the tests and jibe-ctgen.
 */
#ifndef STATE_H
#define STATE_H

#include <stddef.h>

#include "buf.h"
#include "jb.h"

struct state;

/* Open (creating if needed) and lock dir. Errors say what is wrong with the directory and
 * what to do: JB_EIO (cannot create, read or write), JB_EINPUT (not a jibe state directory
 * or of another format), JB_EFATAL (locked by another process). */
int state_open(const char *dir, struct state **out, char *errstr, size_t errsz) JB_MUST_CHECK;
void state_close(struct state *st);
const char *state_path(const struct state *st);
/* Atomically replace name with len bytes of data. */
int state_write(struct state *st, const char *name, const void *data, size_t len, char *errstr,
                size_t errsz) JB_MUST_CHECK;
/* Read name into out (appended). JB_ENOTFOUND when it does not exist. */
int state_read(struct state *st, const char *name, struct buf *out, char *errstr,
               size_t errsz) JB_MUST_CHECK;
int state_remove(struct state *st, const char *name, char *errstr, size_t errsz);
/* Call fn for each regular file in subdir (not starting with '.'); stops on non-zero. */
int state_list(struct state *st, const char *subdir, int (*fn)(void *opaque, const char *name),
               void *opaque, char *errstr, size_t errsz);

/* Atomically replace the file at path (any path, no lock taken): a temporary file beside it,
 * fsync, rename, fsync of the folder, which is created (state_mkdirs) when missing. */
int state_replace_file(const char *path, const void *data, size_t len, char *errstr,
                       size_t errsz) JB_MUST_CHECK;
/* write(2) all of len bytes (retrying EINTR): 0, or -1 with errno set. */
int state_write_all(int fd, const void *data, size_t len);

/* mkdir -p: create path and its missing parents (mode 0750, less the umask); folders that
 * already exist are fine. 0, or -1 with errno set (ENAMETOOLONG past PATH_MAX). */
int state_mkdirs(const char *path);

#endif
