/*
 * sdnotify.h - tell the service manager (systemd, Type=notify) how the process is doing,
 * with the documented notify protocol: one datagram of "KEY=VALUE\n..." lines sent to the
 * AF_UNIX socket named in $NOTIFY_SOCKET (a path, or an abstract name when it starts with
 * '@'). No libsystemd. Without $NOTIFY_SOCKET every call does nothing and returns JB_OK, so
 * a process started by hand or by a test behaves as before.
 *
 * Thread-safe (no shared state; each call opens and closes its own socket). Owns nothing.
 */
#ifndef SDNOTIFY_H
#define SDNOTIFY_H

#include <stddef.h>
#include <stdint.h>

/* Send state (e.g. "READY=1\nSTATUS=running") to $NOTIFY_SOCKET. JB_OK when sent or when
 * there is no socket to send to; JB_EINPUT when $NOTIFY_SOCKET is not a usable address,
 * JB_EIO when the send failed (errstr says why). */
int sdnotify(const char *state, char *errstr, size_t errsz);

/* The watchdog interval the service manager asked for ($WATCHDOG_USEC, for this process
 * when $WATCHDOG_PID is set), in microseconds; 0 when none. */
uint64_t sdnotify_watchdog_usec(void);

#endif
