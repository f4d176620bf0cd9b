/*
 * state.c - the local state directory (see state.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state.h"

#define STATE_FORMAT "jibe-state 1\n"
#define STATE_MAX_FILE (512U << 20)

struct state {
        char *dir;
        int lock_fd;
};

const char *state_path(const struct state *st)
{
        return st->dir;
}

int state_mkdirs(const char *path)
{
        char tmp[PATH_MAX];
        size_t i, n = strlen(path);

        if (n >= sizeof(tmp)) {
                errno = ENAMETOOLONG;
                return -1;
        }
        memcpy(tmp, path, n + 1);
        for (i = 1; i <= n; i++) {
                if (tmp[i] == '/' || tmp[i] == '\0') {
                        char c = tmp[i];

                        tmp[i] = '\0';
                        if (mkdir(tmp, 0750) != 0 && errno != EEXIST)
                                return -1;
                        tmp[i] = c;
                }
        }
        return 0;
}

static int fsync_dir(const char *dir)
{
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int rc;

        if (fd < 0)
                return -1;
        rc = fsync(fd);
        close(fd);
        return rc;
}

int state_write_all(int fd, const void *data, size_t len)
{
        const char *p = data;

        while (len) {
                ssize_t w = write(fd, p, len);

                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return -1;
                }
                p += w;
                len -= (size_t)w;
        }
        return 0;
}

int state_open(const char *dir, struct state **out, char *errstr, size_t errsz)
{
        struct state *st;
        char path[PATH_MAX];
        struct buf fmt;
        struct stat sb;
        int rc;

        *out = NULL;
        if (!dir || !*dir)
                return jb_seterr(JB_EINPUT, errstr, errsz, "no state directory configured (state_dir)");
        if (state_mkdirs(dir) != 0)
                return jb_seterr(JB_EIO, errstr, errsz,
                                 "cannot create the state directory %s: %s; create it and give the jibe "
                                 "user write access",
                                 dir, strerror(errno));
        if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
                return jb_seterr(JB_EIO, errstr, errsz, "state directory %s is not a directory", dir);
        if (access(dir, R_OK | W_OK | X_OK) != 0)
                return jb_seterr(JB_EIO, errstr, errsz,
                                 "state directory %s is not readable and writable by this user: %s", dir,
                                 strerror(errno));
        st = calloc(1, sizeof(*st));
        if (!st || !(st->dir = strdup(dir))) {
                free(st);
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        }
        snprintf(path, sizeof(path), "%s/.lock", dir);
        st->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
        if (st->lock_fd < 0) {
                rc = jb_seterr(JB_EIO, errstr, errsz, "cannot create %s: %s", path, strerror(errno));
                goto fail;
        }
        if (flock(st->lock_fd, LOCK_EX | LOCK_NB) != 0) {
                rc = jb_seterr(JB_EFATAL, errstr, errsz,
                               "state directory %s is in use by another jibe process; stop it first or "
                               "give this one its own state_dir",
                               dir);
                goto fail;
        }
        buf_init(&fmt, 4096);
        rc = state_read(st, "FORMAT", &fmt, errstr, errsz);
        if (rc == JB_ENOTFOUND) {
                rc = state_write(st, "FORMAT", STATE_FORMAT, strlen(STATE_FORMAT), errstr, errsz);
        } else if (rc == JB_OK && strcmp(fmt.p ? fmt.p : "", STATE_FORMAT) != 0) {
                rc = jb_seterr(JB_EINPUT, errstr, errsz,
                               "%s/FORMAT does not say \"jibe-state 1\": this is not a jibe state "
                               "directory, or it is damaged; point state_dir elsewhere or move it aside",
                               dir);
        }
        buf_clear(&fmt);
        if (rc)
                goto fail;
        *out = st;
        return JB_OK;
fail:
        state_close(st);
        return rc;
}

void state_close(struct state *st)
{
        if (!st)
                return;
        if (st->lock_fd >= 0)
                close(st->lock_fd);
        free(st->dir);
        free(st);
}

static int full_path(struct state *st, const char *name, char *out, size_t outsz, char *errstr,
                     size_t errsz)
{
        if (!*name || name[0] == '/' || strstr(name, ".."))
                return jb_seterr(JB_EINPUT, errstr, errsz, "bad state file name %s", name);
        if ((size_t)snprintf(out, outsz, "%s/%s", st->dir, name) >= outsz)
                return jb_seterr(JB_EINPUT, errstr, errsz, "state file name too long");
        return JB_OK;
}

int state_replace_file(const char *path, const void *data, size_t len, char *errstr, size_t errsz)
{
        char tmp[PATH_MAX + 16], dir[PATH_MAX];
        char *slash;
        int fd, rc;

        if ((size_t)snprintf(dir, sizeof(dir), "%s", path) >= sizeof(dir) ||
            !(slash = strrchr(dir, '/')))
                return jb_seterr(JB_EIO, errstr, errsz, "unusable file path %s", path);
        *slash = '\0';
        if (dir[0] && state_mkdirs(dir) != 0)
                return jb_seterr(JB_EIO, errstr, errsz, "cannot create %s: %s", dir, strerror(errno));
        snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid());
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
        if (fd < 0)
                return jb_seterr(JB_EIO, errstr, errsz, "cannot write %s: %s", tmp, strerror(errno));
        if (state_write_all(fd, data, len) != 0 || fsync(fd) != 0) {
                rc = jb_seterr(JB_EIO, errstr, errsz, "cannot write %s: %s (disk full?)", tmp,
                               strerror(errno));
                close(fd);
                unlink(tmp);
                return rc;
        }
        close(fd);
        if (rename(tmp, path) != 0) {
                rc = jb_seterr(JB_EIO, errstr, errsz, "cannot rename %s: %s", tmp, strerror(errno));
                unlink(tmp);
                return rc;
        }
        if (fsync_dir(dir[0] ? dir : "/") != 0)
                return jb_seterr(JB_EIO, errstr, errsz, "cannot fsync %s: %s", dir, strerror(errno));
        return JB_OK;
}

int state_write(struct state *st, const char *name, const void *data, size_t len, char *errstr,
                size_t errsz)
{
        char path[PATH_MAX];
        int rc;

        rc = full_path(st, name, path, sizeof(path), errstr, errsz);
        if (rc)
                return rc;
        return state_replace_file(path, data, len, errstr, errsz);
}

int state_read(struct state *st, const char *name, struct buf *out, char *errstr, size_t errsz)
{
        char path[PATH_MAX], chunk[65536];
        int fd, rc;
        ssize_t n;

        rc = full_path(st, name, path, sizeof(path), errstr, errsz);
        if (rc)
                return rc;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT)
                        return JB_ENOTFOUND;
                return jb_seterr(JB_EIO, errstr, errsz, "cannot read %s: %s", path, strerror(errno));
        }
        for (;;) {
                n = read(fd, chunk, sizeof(chunk));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        rc = jb_seterr(JB_EIO, errstr, errsz, "cannot read %s: %s", path,
                                       strerror(errno));
                        break;
                }
                if (n == 0)
                        break;
                rc = buf_append(out, chunk, (size_t)n);
                if (rc) {
                        jb_seterr(rc, errstr, errsz, "%s is too large to be a jibe state file", path);
                        break;
                }
        }
        close(fd);
        if (!rc && !out->p)
                rc = buf_append(out, "", 0);
        return rc;
}

int state_remove(struct state *st, const char *name, char *errstr, size_t errsz)
{
        char path[PATH_MAX];
        int rc = full_path(st, name, path, sizeof(path), errstr, errsz);

        if (rc)
                return rc;
        if (unlink(path) != 0 && errno != ENOENT)
                return jb_seterr(JB_EIO, errstr, errsz, "cannot remove %s: %s", path, strerror(errno));
        return JB_OK;
}

int state_list(struct state *st, const char *subdir, int (*fn)(void *opaque, const char *name),
               void *opaque, char *errstr, size_t errsz)
{
        char path[PATH_MAX];
        struct dirent *de;
        DIR *d;
        int rc;

        rc = full_path(st, subdir, path, sizeof(path), errstr, errsz);
        if (rc)
                return rc;
        d = opendir(path);
        if (!d) {
                if (errno == ENOENT)
                        return JB_OK;
                return jb_seterr(JB_EIO, errstr, errsz, "cannot list %s: %s", path, strerror(errno));
        }
        while ((de = readdir(d)) != NULL) {
                if (de->d_name[0] == '.' || strstr(de->d_name, ".tmp"))
                        continue;
                rc = fn(opaque, de->d_name);
                if (rc)
                        break;
        }
        closedir(d);
        return rc;
}
