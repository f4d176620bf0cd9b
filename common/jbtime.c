/*
 * jbtime.c - the one place that turns "ms from now" into a struct timespec for a
 * condition-variable wait, the monotonic clock, condition variables that wait on it, and a
 * UTC civil time as a time_t (see jb.h).
 */
#include <pthread.h>
#include <string.h>
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

time_t jb_utc_time(int year, int mon, int day, int hour, int min, int sec)
{
        struct tm tm;

        memset(&tm, 0, sizeof(tm));
        tm.tm_year = year - 1900;
        tm.tm_mon = mon - 1;
        tm.tm_mday = day;
        tm.tm_hour = hour;
        tm.tm_min = min;
        tm.tm_sec = sec;
        return timegm(&tm);
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
