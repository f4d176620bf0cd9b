/*
 * test_q_mem.c - the embedded transport: completion travels up the chain only when every
 * derived message is acknowledged, abandoned work never completes, back-pressure blocks a
 * publisher until a consumer makes room, dead letters land in their file, shutdown wakes
 * everyone.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "q.h"
#include "tu.h"

static void count_done(void *opaque, int ok)
{
        int *n = opaque;

        assert_int_equal(ok, 1);
        __atomic_add_fetch(n, 1, __ATOMIC_SEQ_CST);
}

static void count_failed(void *opaque, int ok)
{
        int *n = opaque;

        *n += ok ? 1000 : 1;
}

static struct q *newq(size_t cap, const char *dead)
{
        struct q_mem_opts o = {cap, dead};
        char err[256];
        struct q *q = q_mem_new(&o, err, sizeof(err));

        assert_non_null(q);
        return q;
}

static void test_completion_chain(void **state)
{
        struct q *q = newq(100, NULL);
        struct q_msg *f, *e1, *e2;
        int file_done = 0, ev_done = 0;

        (void)state;
        assert_int_equal(q_publish(q, Q_FILES, "b", 1, "file", 4, NULL, count_done, &file_done, NULL, 0),
                         0);
        assert_int_equal(q_poll(q, Q_FILES, 100, &f), 0);
        assert_string_equal(f->payload, "file");
        assert_int_equal(q_publish(q, Q_EVENTS, "k1", 2, "e1", 2, f, count_done, &ev_done, NULL, 0), 0);
        assert_int_equal(q_publish(q, Q_EVENTS, "k2", 2, "e2", 2, f, count_done, &ev_done, NULL, 0), 0);
        q_ack(q, f);
        assert_int_equal(file_done, 0); /* its events are not synced yet */
        assert_int_equal(q_poll(q, Q_EVENTS, 100, &e1), 0);
        assert_int_equal(q_poll(q, Q_EVENTS, 100, &e2), 0);
        assert_string_equal(e1->payload, "e1");
        assert_string_equal(e2->key, "k2");
        q_ack(q, e2);
        assert_int_equal(ev_done, 1);
        assert_int_equal(file_done, 0);
        q_ack(q, e1);
        assert_int_equal(ev_done, 2);
        assert_int_equal(file_done, 1);
        assert_int_equal(q_inflight(q), 0);
        /* a file without events completes on its ack */
        assert_int_equal(q_publish(q, Q_FILES, "b", 1, "f2", 2, NULL, count_done, &file_done, NULL, 0),
                         0);
        assert_int_equal(q_poll(q, Q_FILES, 100, &f), 0);
        q_ack(q, f);
        assert_int_equal(file_done, 2);
        q_free(q);
}

static void test_abandon_never_completes(void **state)
{
        struct q *q = newq(100, NULL);
        struct q_msg *f, *e;
        int file_done = 0;

        (void)state;
        assert_int_equal(q_publish(q, Q_FILES, "b", 1, "file", 4, NULL, count_failed, &file_done, NULL,
                                   0),
                         0);
        assert_int_equal(q_poll(q, Q_FILES, 100, &f), 0);
        assert_int_equal(q_publish(q, Q_EVENTS, "k", 1, "e", 1, f, NULL, NULL, NULL, 0), 0);
        q_ack(q, f);
        assert_int_equal(q_poll(q, Q_EVENTS, 100, &e), 0);
        q_abandon(q, e);
        assert_int_equal(file_done, 0);
        assert_int_equal(q_poll(q, Q_EVENTS, 10, &e), JB_ETRANSIENT);
        /* freeing reports the file as never completed (ok=0), once */
        q_free(q);
        assert_int_equal(file_done, 1);
}

struct pub_arg {
        struct q *q;
        int n;
        int rc;
};

static void *publisher(void *p)
{
        struct pub_arg *a = p;
        int i;

        for (i = 0; i < a->n; i++) {
                char v[16];
                int n = snprintf(v, sizeof(v), "%d", i);

                a->rc = q_publish(a->q, Q_EVENTS, "k", 1, v, (size_t)n, NULL, NULL, NULL, NULL, 0);
                if (a->rc)
                        break;
        }
        return NULL;
}

static void test_back_pressure_and_order(void **state)
{
        struct q *q = newq(4, NULL);
        struct pub_arg a = {q, 200, 0};
        pthread_t th;
        struct q_msg *m;
        int i;

        (void)state;
        assert_int_equal(pthread_create(&th, NULL, publisher, &a), 0);
        for (i = 0; i < 200; i++) {
                char want[16];

                assert_int_equal(q_poll(q, Q_EVENTS, 5000, &m), 0);
                assert_true(q_depth(q, Q_EVENTS) <= 4);
                snprintf(want, sizeof(want), "%d", i);
                assert_string_equal(m->payload, want);
                q_ack(q, m);
        }
        pthread_join(th, NULL);
        assert_int_equal(a.rc, 0);
        q_free(q);
}

static void test_shutdown_wakes_blocked_publisher(void **state)
{
        struct q *q = newq(1, NULL);
        struct pub_arg a = {q, 3, 0};
        pthread_t th;
        struct q_msg *m;

        (void)state;
        assert_int_equal(pthread_create(&th, NULL, publisher, &a), 0);
        /* wait until the publisher filled the queue and blocks */
        while (q_depth(q, Q_EVENTS) < 1)
                ;
        q_shutdown(q);
        pthread_join(th, NULL);
        assert_int_equal(a.rc, JB_ETRANSIENT);
        assert_int_equal(q_poll(q, Q_EVENTS, 10, &m), JB_EFATAL);
        q_free(q);
}

static void test_dead_letters_file(void **state)
{
        char *dir = tu_tmpdir(), path[512], *text;
        struct q *q;
        int done = 0;

        (void)state;
        snprintf(path, sizeof(path), "%s/dead-letters.jsonl", dir);
        q = newq(10, path);
        assert_int_equal(q_publish(q, Q_DEAD, "k", 1, "{\"a\":1}", 7, NULL, count_done, &done, NULL, 0),
                         0);
        assert_int_equal(q_publish(q, Q_DEAD, "k", 1, "{\"b\":2}", 7, NULL, count_done, &done, NULL, 0),
                         0);
        assert_int_equal(done, 2);
        text = tu_slurp(path, NULL);
        assert_string_equal(text, "{\"a\":1}\n{\"b\":2}\n");
        free(text);
        q_free(q);
        q = newq(10, NULL);
        assert_int_equal(q_publish(q, Q_DEAD, "k", 1, "x", 1, NULL, NULL, NULL, NULL, 0), JB_EFATAL);
        q_free(q);
        tu_rmrf(dir);
        free(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_completion_chain),
                cmocka_unit_test(test_abandon_never_completes),
                cmocka_unit_test(test_back_pressure_and_order),
                cmocka_unit_test(test_shutdown_wakes_blocked_publisher),
                cmocka_unit_test(test_dead_letters_file),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
