/*
 * jbtime.c - the one place that turns "ms from now" into a struct timespec for a
 * condition-variable wait, the monotonic clock, and condition variables that wait on it (see
 * jb.h).
 */
#include <pthread.h>
#include <time.h>

#include "jb.h"

void jb_deadline(struct timespec *ts, clockid_t clock, long ms)
{
        clock_gettime(clock, ts);
        ts->tv_sec += ms / 1000;
        ts->tv_nsec += (ms % 1000) * 1000000L;
        if (ts->tv_nsec >= 1000000000L) {
                ts->tv_sec++;
                ts->tv_nsec -= 1000000000L;
        }
}

int64_t jb_mono_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int jb_cond_init_mono(pthread_cond_t *cv)
{
        pthread_condattr_t ca;
        int rc;

        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        rc = pthread_cond_init(cv, &ca);
        pthread_condattr_destroy(&ca);
        return rc;
}
