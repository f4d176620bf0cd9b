/*
 * jb.h - project-wide definitions for jibe: version, error codes, attributes.
 *
 * Error policy: module functions return an enum jb_err (0 on success) and, where they can
 * fail for a reason worth telling a storage administrator, fill a caller-provided
 * (errstr, errsz) buffer with one line. Modules never log and never exit; the stage loops
 * and main.c decide what to log and whether to go on.
 * Allocation policy: sizes that come from input (decompressed bytes, a record, an HTTP
 * response) go through bounded buffers with named ceilings and checked allocation; a
 * failed allocation returns JB_ENOMEM.
 */
#ifndef JB_H
#define JB_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define JB_VERSION "0.1.0"

enum jb_err {
        JB_OK = 0,
        JB_EINPUT = -1,     /* bad input: quarantine it, keep running */
        JB_ELIMIT = -2,     /* input over a configured ceiling (zip bomb, huge record) */
        JB_ETRANSIENT = -3, /* try again later: network, 5xx, 429, busy server */
        JB_EFATAL = -4,     /* configuration, authentication: stop this stage */
        JB_ENOMEM = -5,
        JB_EIO = -6,       /* local file system error */
        JB_ENOTFOUND = -7, /* the thing asked for does not exist */
        JB_ENOTSUP = -8,   /* the server does not know the call (unknown_function) */
};

/* Short stable name of an error code ("input", "limit", ...). Never NULL. */
const char *jb_strerror(int rc);

#define JB_MUST_CHECK __attribute__((warn_unused_result))
#define JB_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define JB_UNUSED(x) ((void)(x))

/* *ts = now on clock (CLOCK_REALTIME, or CLOCK_MONOTONIC for a condvar set up with it) plus
 * ms: the deadline of a pthread_cond_timedwait(). */
void jb_deadline(struct timespec *ts, clockid_t clock, long ms);
/* Milliseconds on CLOCK_MONOTONIC (async-signal-safe: clock_gettime only). */
int64_t jb_mono_ms(void);
/* The time_t of a UTC civil time (year 1970.., month 1-12, day 1-31, ...), by timegm();
 * (time_t)-1 when it has none. The caller checks the ranges. */
time_t jb_utc_time(int year, int mon, int day, int hour, int min, int sec);
/* pthread_cond_init() with CLOCK_MONOTONIC deadlines (jb_deadline(&ts, CLOCK_MONOTONIC, ms)),
 * so a wall-clock step never stretches or cuts a wait. Returns pthread_cond_init()'s code. */
int jb_cond_init_mono(pthread_cond_t *cv);

/* snprintf into errstr when there is one; returns rc so "return jb_seterr(...)" reads well. */
int jb_seterr(int rc, char *errstr, size_t errsz, const char *fmt, ...) JB_PRINTF(4, 5);

#endif
