/*
 * backoff.h - the one retry pause of jibe: exponential, jittered, capped, never sooner than a
 * floor (the server's Retry-After), drawn from a per-thread random generator.
 *
 * The wait before retry number `attempt` (0 for the first retry) is drawn from
 *   cap = min(max_ms, base_ms * 2^attempt)
 *   BACKOFF_FULL:  uniform in [0, cap]          (AWS's "full jitter": clients spread out most)
 *   BACKOFF_EQUAL: uniform in [cap / 2, cap]    (never much sooner than the exponential step)
 *   BACKOFF_NONE:  cap                          (one caller only, no herd to spread)
 * and then raised to floor_ms when shorter (a Retry-After is honoured as given: a caller that
 * wants it capped passes it capped).
 * The generator is xorshift64*, one state per thread (C11 _Thread_local), seeded on first use
 * from the monotonic and wall clocks, the thread's address space and a process-wide counter, so
 * two threads or two processes started together do not pause in step. Not for cryptography.
 * Nothing here allocates; nothing fails.
 */
#ifndef BACKOFF_H
#define BACKOFF_H

#include <stdint.h>

enum backoff_jitter { BACKOFF_FULL, BACKOFF_EQUAL, BACKOFF_NONE };

/* A caller's policy (values) and where it stands (attempt: retries so far). */
struct backoff {
        long base_ms, max_ms; /* max_ms < base_ms is read as base_ms; base_ms < 1 as 1 */
        enum backoff_jitter jitter;
        int attempt;
};

/* The pause before retry `attempt` with the random draw r (pure: for tests). */
long backoff_ms(long base_ms, long max_ms, enum backoff_jitter jitter, int attempt, long floor_ms,
                uint64_t r);

/* The next pause of b (at least floor_ms), with this thread's generator; b->attempt++. */
long backoff_next(struct backoff *b, long floor_ms);

/* Start again from base_ms (after a success). */
void backoff_reset(struct backoff *b);

/* This thread's next random number (xorshift64*). */
uint64_t backoff_rand(void);

/* Sleep ms in slices of at most 100 ms, returning early once stopped() (may be NULL) is
 * nonzero; returns stopped()'s last answer (0 when NULL). For callers without a condition
 * variable to wait on (the Access Anywhere client). */
int backoff_sleep(long ms, int (*stopped)(void));

#endif
