/*
 * test_backoff.c - the one retry pause: the exponential steps and their cap, full and equal
 * jitter bounds, the Retry-After floor, reset, and distinct per-thread generators.
 */
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "backoff.h"

/* The steps each caller relies on: base doubling up to the cap, whatever the draw. */
static void test_steps_and_cap(void **state)
{
        (void)state;
        /* the scanner: 1 s doubling to its interval (60 s), no jitter */
        assert_int_equal(backoff_ms(1000, 60000, BACKOFF_NONE, 0, 0, 0), 1000);
        assert_int_equal(backoff_ms(1000, 60000, BACKOFF_NONE, 1, 0, 0), 2000);
        assert_int_equal(backoff_ms(1000, 60000, BACKOFF_NONE, 5, 0, 0), 32000);
        assert_int_equal(backoff_ms(1000, 60000, BACKOFF_NONE, 6, 0, 0), 60000);
        assert_int_equal(backoff_ms(1000, 60000, BACKOFF_NONE, 1000, 0, 0), 60000);
        /* the parser: 500 ms .. 60 s, equal jitter: the top of the range with the top draw */
        assert_int_equal(backoff_ms(500, 60000, BACKOFF_EQUAL, 6, 0, 16000), 32000);
        assert_int_equal(backoff_ms(500, 60000, BACKOFF_EQUAL, 7, 0, 30000), 60000);
        /* a cap below the base is the base; a base below 1 is 1 */
        assert_int_equal(backoff_ms(500, 100, BACKOFF_NONE, 3, 0, 0), 500);
        assert_int_equal(backoff_ms(0, 0, BACKOFF_NONE, 3, 0, 0), 1);
        /* attempts far beyond the cap do not overflow */
        assert_int_equal(backoff_ms(LONG_MAX / 2 + 1, LONG_MAX, BACKOFF_NONE, 60, 0, 0), LONG_MAX);
}

/* Full jitter stays in [0, cap], equal jitter in [cap/2, cap], over many draws. */
static void test_jitter_bounds(void **state)
{
        long lo_full = LONG_MAX, hi_full = -1, lo_eq = LONG_MAX, hi_eq = -1;
        int i;

        (void)state;
        for (i = 0; i < 20000; i++) {
                long f = backoff_ms(100, 30000, BACKOFF_FULL, 3, 0, backoff_rand());
                long e = backoff_ms(100, 30000, BACKOFF_EQUAL, 3, 0, backoff_rand());

                lo_full = f < lo_full ? f : lo_full;
                hi_full = f > hi_full ? f : hi_full;
                lo_eq = e < lo_eq ? e : lo_eq;
                hi_eq = e > hi_eq ? e : hi_eq;
        }
        assert_true(lo_full >= 0 && hi_full <= 800);
        assert_true(lo_full < 50 && hi_full > 750); /* it does spread */
        assert_true(lo_eq >= 400 && hi_eq <= 800);
        assert_true(lo_eq < 420 && hi_eq > 780);
}

/* Never sooner than the floor (Retry-After), even above the cap; a floor below the draw is
 * no change. */
static void test_floor(void **state)
{
        (void)state;
        assert_int_equal(backoff_ms(100, 1000, BACKOFF_FULL, 0, 5000, 7), 5000);
        assert_int_equal(backoff_ms(100, 1000, BACKOFF_NONE, 9, 10, 0), 1000);
        assert_int_equal(backoff_ms(100, 1000, BACKOFF_EQUAL, 0, 0, 0), 50);
}

/* backoff_next() walks the steps; backoff_reset() starts over. */
static void test_next_and_reset(void **state)
{
        struct backoff b = {1000, 8000, BACKOFF_NONE, 0};

        (void)state;
        assert_int_equal(backoff_next(&b, 0), 1000);
        assert_int_equal(backoff_next(&b, 0), 2000);
        assert_int_equal(backoff_next(&b, 0), 4000);
        assert_int_equal(backoff_next(&b, 0), 8000);
        assert_int_equal(backoff_next(&b, 0), 8000);
        assert_int_equal(backoff_next(&b, 9000), 9000);
        backoff_reset(&b);
        assert_int_equal(backoff_next(&b, 0), 1000);
}

static void *draw(void *arg)
{
        *(uint64_t *)arg = backoff_rand();
        return NULL;
}

/* Threads started together draw different numbers (each has its own generator). */
static void test_per_thread_generators(void **state)
{
        enum { N = 8 };
        pthread_t t[N];
        uint64_t v[N];
        int i, j;

        (void)state;
        for (i = 0; i < N; i++)
                assert_int_equal(pthread_create(&t[i], NULL, draw, &v[i]), 0);
        for (i = 0; i < N; i++)
                pthread_join(t[i], NULL);
        for (i = 0; i < N; i++)
                for (j = i + 1; j < N; j++)
                        assert_true(v[i] != v[j]);
}

static int stop_now(void)
{
        return 1;
}

/* A stopped sleep returns at once with the stop. */
static void test_sleep_stops(void **state)
{
        (void)state;
        assert_int_equal(backoff_sleep(60000, stop_now), 1);
        assert_int_equal(backoff_sleep(1, NULL), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_steps_and_cap),
                cmocka_unit_test(test_jitter_bounds),
                cmocka_unit_test(test_floor),
                cmocka_unit_test(test_next_and_reset),
                cmocka_unit_test(test_per_thread_generators),
                cmocka_unit_test(test_sleep_stops),
        };

        return cmocka_run_group_tests_name("backoff", tests, NULL, NULL);
}
