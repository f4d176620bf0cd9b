/*
 * test_alert.c - the alert table's state machine with an injected clock: a problem said once
 * when it starts, repeats counted and said at most every repeat interval, one message when it
 * clears, the start delay of lasting problems, one-off problems forgotten when idle, keys
 * kept apart, and the table's bound.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "alert.h"
#include "status.h"

#define MIN 60000

struct got {
        int n;
        char last[ALERT_TEXT_MAX];
        enum alert_level level;
};

static void emit(void *arg, enum alert_level level, const char *text)
{
        struct got *g = arg;

        g->n++;
        g->level = level;
        snprintf(g->last, sizeof(g->last), "%s", text);
}

static const struct alert_key outage = {NULL, NULL, "aa_outage"};

/* Start once, repeats counted, at most one message per interval, one clear. */
static void test_start_repeat_clear(void **state)
{
        struct alert_table *t = alert_table_new(10 * MIN, 0);
        struct got g = {0};
        int64_t now = 1000;
        int i;

        (void)state;
        assert_non_null(t);
        assert_int_equal(alert_table_raise(t, &outage, ALERT_ERROR, "down", now, emit, &g), 1);
        assert_int_equal(g.n, 1);
        assert_int_equal(g.level, ALERT_ERROR);
        assert_non_null(strstr(g.last, "ERROR"));
        assert_non_null(strstr(g.last, "down"));
        /* 50 more within the interval: nothing said, all counted */
        for (i = 0; i < 50; i++)
                assert_int_equal(alert_table_raise(t, &outage, ALERT_ERROR, "down", now + i * 1000, emit,
                                                   &g),
                                 0);
        assert_int_equal(alert_table_tick(t, now + 9 * MIN, emit, &g), 0);
        assert_int_equal(g.n, 1);
        /* the interval passed: the tick says the count once */
        assert_int_equal(alert_table_tick(t, now + 10 * MIN, emit, &g), 1);
        assert_int_equal(g.n, 2);
        assert_non_null(strstr(g.last, "50 more time(s)"));
        assert_non_null(strstr(g.last, "51 since it began"));
        assert_int_equal(alert_table_tick(t, now + 30 * MIN, emit, &g), 0); /* nothing new */
        /* one more raise later than the interval is said at once with its count */
        assert_int_equal(alert_table_raise(t, &outage, ALERT_ERROR, "still down", now + 31 * MIN, emit,
                                           &g),
                         1);
        assert_non_null(strstr(g.last, "1 more time(s)"));
        assert_non_null(strstr(g.last, "still down"));
        /* cleared: one message, then nothing */
        assert_int_equal(alert_table_raise(t, &outage, ALERT_ERROR, "x", now + 32 * MIN, emit, &g), 0);
        assert_int_equal(alert_table_clear(t, &outage, now + 33 * MIN, emit, &g), 1);
        assert_non_null(strstr(g.last, "RESOLVED"));
        assert_non_null(strstr(g.last, "33 min"));
        assert_non_null(strstr(g.last, "1 more time(s) since the last message"));
        assert_int_equal(alert_table_clear(t, &outage, now + 34 * MIN, emit, &g), 0);
        assert_int_equal(alert_table_active(t), 0);
        /* the next raise is a new start */
        assert_int_equal(alert_table_raise(t, &outage, ALERT_ERROR, "again", now + 35 * MIN, emit, &g),
                         1);
        assert_null(strstr(g.last, "still"));
        assert_int_equal(g.n, 5);
        alert_table_free(t);
}

/* A lasting problem is said only once it lasted after_ms; one that clears sooner never is. */
static void test_start_delay(void **state)
{
        struct alert_table *t = alert_table_new(MIN, 30000);
        struct got g = {0};

        (void)state;
        assert_int_equal(alert_table_raise(t, &outage, ALERT_ERROR, "for 0 s", 0, emit, &g), 0);
        assert_int_equal(alert_table_raise(t, &outage, ALERT_ERROR, "for 10 s", 10000, emit, &g), 0);
        assert_int_equal(alert_table_clear(t, &outage, 20000, emit, &g), 0); /* a hiccup: silent */
        assert_int_equal(g.n, 0);
        assert_int_equal(alert_table_active(t), 0);

        assert_int_equal(alert_table_raise(t, &outage, ALERT_ERROR, "for 0 s", 100000, emit, &g), 0);
        assert_int_equal(alert_table_raise(t, &outage, ALERT_ERROR, "for 20 s", 120000, emit, &g), 0);
        assert_int_equal(alert_table_tick(t, 129999, emit, &g), 0);
        assert_int_equal(alert_table_tick(t, 130000, emit, &g), 1); /* lasted 30 s */
        assert_non_null(strstr(g.last, "for 20 s"));                /* the latest text */
        assert_int_equal(alert_table_tick(t, 131000, emit, &g), 0);
        assert_int_equal(alert_table_clear(t, &outage, 140000, emit, &g), 1);
        assert_non_null(strstr(g.last, "RESOLVED"));
        assert_non_null(strstr(g.last, "after 40 s"));
        assert_int_equal(g.n, 2);
        alert_table_free(t);
}

/* One-off problems: said at once, counted, never cleared, forgotten when idle. */
static void test_events(void **state)
{
        struct alert_table *t = alert_table_new(MIN, 30000); /* the delay is for lasting ones */
        struct alert_key q = {"S3 Prod", "ct-logs", "quarantine"};
        struct got g = {0};

        (void)state;
        assert_int_equal(alert_table_event(t, &q, ALERT_WARN, "file a set aside", 0, emit, &g), 1);
        assert_non_null(strstr(g.last, "WARNING (provider S3 Prod, source ct-logs): file a"));
        assert_int_equal(alert_table_event(t, &q, ALERT_WARN, "file b set aside", 1000, emit, &g), 0);
        assert_int_equal(alert_table_event(t, &q, ALERT_WARN, "file c set aside", 2000, emit, &g), 0);
        assert_int_equal(alert_table_clear(t, &q, 3000, emit, &g), 0); /* nothing to clear */
        assert_int_equal(alert_table_tick(t, MIN, emit, &g), 1);       /* the count */
        assert_non_null(strstr(g.last, "2 more time(s)"));
        assert_int_equal(alert_table_active(t), 1);
        assert_int_equal(alert_table_tick(t, 2 * MIN - 1, emit, &g), 0);
        assert_int_equal(alert_table_tick(t, 2 * MIN + 2000, emit, &g), 0); /* idle: forgotten */
        assert_int_equal(alert_table_active(t), 0);
        assert_int_equal(alert_table_event(t, &q, ALERT_WARN, "file d set aside", 3 * MIN, emit, &g), 1);
        assert_non_null(strstr(g.last, "file d"));
        assert_int_equal(g.n, 3);
        alert_table_free(t);
}

/* Keys differ by provider, source and kind; the table is bounded and says how many it refused. */
static void test_keys_and_bound(void **state)
{
        struct alert_table *t = alert_table_new(MIN, 0);
        struct alert_key a = {"p1", "b1", "dead_letter"}, b = {"p1", "b2", "dead_letter"},
                         c = {"p2", "b1", "dead_letter"}, d = {"p1", "b1", "quarantine"};
        struct got g = {0};
        char src[32];
        int i;

        (void)state;
        assert_int_equal(alert_table_event(t, &a, ALERT_ERROR, "x", 0, emit, &g), 1);
        assert_int_equal(alert_table_event(t, &b, ALERT_ERROR, "x", 0, emit, &g), 1);
        assert_int_equal(alert_table_event(t, &c, ALERT_ERROR, "x", 0, emit, &g), 1);
        assert_int_equal(alert_table_event(t, &d, ALERT_WARN, "x", 0, emit, &g), 1);
        assert_int_equal(alert_table_event(t, &a, ALERT_ERROR, "x", 0, emit, &g), 0);
        assert_int_equal(alert_table_active(t), 4);
        for (i = 0; i < ALERT_KEYS_MAX + 10; i++) {
                struct alert_key k = {"p", src, "quarantine"};

                snprintf(src, sizeof(src), "bucket-%d", i);
                alert_table_event(t, &k, ALERT_WARN, "x", 0, emit, &g);
        }
        assert_int_equal(alert_table_active(t), ALERT_KEYS_MAX);
        assert_int_equal(alert_table_refused(t), 14);
        alert_table_free(t);
}

/* The alerter without a webhook is off: raises are no-ops and nothing is counted. */
static void test_alerter_off(void **state)
{
        struct alert_opts o = {0};
        struct alert_stats st;
        char err[128];

        (void)state;
        status_init(&(struct status_ident){"t", "run", "test", 60, 1200});
        assert_int_equal(alert_start(&o, err, sizeof(err)), JB_OK);
        alert_raise(&outage, ALERT_ERROR, "down %d", 1);
        {
                /* no webhook: the problem is in the status all the same, active until cleared */
                struct buf b;

                buf_init(&b, 1u << 20);
                assert_int_equal(status_snapshot(0, &b), JB_OK);
                assert_non_null(strstr(b.p, "\"kind\":\"aa_outage\""));
                assert_non_null(strstr(b.p, "\"text\":\"down 1\""));
                assert_non_null(strstr(b.p, "\"active\":true"));
                buf_clear(&b);
        }
        alert_event(&outage, ALERT_ERROR, "down");
        alert_clear(&outage);
        {
                struct buf b;

                buf_init(&b, 1u << 20);
                assert_int_equal(status_snapshot(0, &b), JB_OK);
                assert_non_null(strstr(b.p, "\"count\":2"));
                assert_non_null(strstr(b.p, "\"active\":false"));
                buf_clear(&b);
        }
        status_reset();
        alert_stop(0);
        alert_stats_get(&st);
        assert_int_equal(st.sent + st.dropped + st.failed, 0);
        assert_int_equal(alert_send_now(&o, "x", err, sizeof(err)), JB_EINPUT);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_start_repeat_clear),
                cmocka_unit_test(test_start_delay),
                cmocka_unit_test(test_events),
                cmocka_unit_test(test_keys_and_bound),
                cmocka_unit_test(test_alerter_off),
        };
        return cmocka_run_group_tests_name("alert", tests, NULL, NULL);
}
