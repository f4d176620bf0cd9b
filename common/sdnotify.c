/*
 * sdnotify.c - the service manager's notify protocol (see sdnotify.h).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "jb.h"
#include "sdnotify.h"

int sdnotify(const char *state, char *errstr, size_t errsz)
{
        const char *path = getenv("NOTIFY_SOCKET");
        struct sockaddr_un sa;
        size_t n, len;
        socklen_t salen;
        ssize_t sent;
        int fd, e;

        if (!path || !*path)
                return JB_OK;
        n = strlen(path);
        if ((path[0] != '/' && path[0] != '@') || n < 2 || n >= sizeof(sa.sun_path))
                return jb_seterr(JB_EINPUT, errstr, errsz,
                                 "NOTIFY_SOCKET=%s is neither an absolute path nor an abstract "
                                 "socket name (@name) that fits in a socket address",
                                 path);
        memset(&sa, 0, sizeof(sa));
        sa.sun_family = AF_UNIX;
        memcpy(sa.sun_path, path, n);
        if (path[0] == '@')
                sa.sun_path[0] = '\0'; /* abstract namespace: no terminating NUL counted */
        salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '/'));
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return jb_seterr(JB_EIO, errstr, errsz,
                                 "cannot make a socket to notify the "
                                 "service manager: %s",
                                 strerror(errno));
        len = strlen(state);
        sent = sendto(fd, state, len, MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
        e = errno;
        close(fd);
        if (sent < 0 || (size_t)sent != len)
                return jb_seterr(JB_EIO, errstr, errsz, "cannot notify the service manager at %s: %s",
                                 path, sent < 0 ? strerror(e) : "short send");
        return JB_OK;
}

uint64_t sdnotify_watchdog_usec(void)
{
        const char *us = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
        unsigned long long v;
        char *end;

        if (!us || !*us)
                return 0;
        if (pid && *pid) {
                errno = 0;
                v = strtoull(pid, &end, 10);
                if (errno || *end || v != (unsigned long long)getpid())
                        return 0; /* meant for another process (our parent, say) */
        }
        errno = 0;
        v = strtoull(us, &end, 10);
        if (errno || *end || !v)
                return 0;
        return (uint64_t)v;
}
