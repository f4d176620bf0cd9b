/*
 * backoff.c - jittered exponential retry pauses and the per-thread generator behind them (see
 * backoff.h).
 */
#include <errno.h>
#include <stdatomic.h>
#include <time.h>

#include "backoff.h"
#include "jb.h"

static _Thread_local uint64_t rng; /* 0: not seeded yet in this thread */
static atomic_uint_fast64_t seeds; /* makes each thread's seed differ */

uint64_t backoff_rand(void)
{
        uint64_t x = rng;

        if (!x) {
                struct timespec ts;

                clock_gettime(CLOCK_REALTIME, &ts);
                x = ((uint64_t)jb_mono_ms() << 20) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^
                    (uint64_t)(uintptr_t)&rng ^
                    (atomic_fetch_add(&seeds, 1) + 1) * 0x9e3779b97f4a7c15ULL;
                if (!x)
                        x = 0x2545f4914f6cdd1dULL;
        }
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        rng = x;
        return x * 2685821657736338717ULL;
}

long backoff_ms(long base_ms, long max_ms, enum backoff_jitter jitter, int attempt, long floor_ms,
                uint64_t r)
{
        long cap = base_ms > 0 ? base_ms : 1, ms;
        int i;

        if (max_ms < cap)
                max_ms = cap;
        for (i = 0; i < attempt && cap < max_ms; i++)
                cap = cap > max_ms / 2 ? max_ms : cap * 2;
        if (cap > max_ms)
                cap = max_ms;
        switch (jitter) {
        case BACKOFF_FULL:
                ms = (long)(r % ((uint64_t)cap + 1));
                break;
        case BACKOFF_EQUAL:
                ms = cap / 2 + (long)(r % ((uint64_t)(cap / 2) + 1));
                break;
        default:
                ms = cap;
                break;
        }
        return ms < floor_ms ? floor_ms : ms;
}

long backoff_next(struct backoff *b, long floor_ms)
{
        long ms = backoff_ms(b->base_ms, b->max_ms, b->jitter, b->attempt, floor_ms,
                             b->jitter == BACKOFF_NONE ? 0 : backoff_rand());

        if (b->attempt < 62)
                b->attempt++;
        return ms;
}

void backoff_reset(struct backoff *b)
{
        b->attempt = 0;
}

int backoff_sleep(long ms, int (*stopped)(void))
{
        while (ms > 0 && !(stopped && stopped())) {
                long slice = ms < 100 ? ms : 100;
                struct timespec ts = {0, slice * 1000000L};

                while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
                        ;
                ms -= slice;
        }
        return stopped ? stopped() : 0;
}
