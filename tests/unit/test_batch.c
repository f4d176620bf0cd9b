/*
 * test_batch.c - the syncer's dedup window (consumer/batch.c): last op wins per (provider,
 * bucket, key), a bucket op subsumes the bucket's object ops before and after it, providers
 * and buckets stay apart, every message is covered by exactly one item, 100k adds.
 * Messages are small integers cast to pointers (the batch never dereferences them).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "batch.h"

#define M(i) ((void *)(uintptr_t)(i))
#define ID(p) ((size_t)(uintptr_t)(p))

static const struct batch_item *find(const struct batch_item *it, size_t n, const char *provider,
                                     const char *bucket, const char *key)
{
        size_t i;

        for (i = 0; i < n; i++)
                if (!strcmp(it[i].provider, provider) && !strcmp(it[i].bucket, bucket) &&
                    (key ? it[i].key && !strcmp(it[i].key, key) : !it[i].key))
                        return &it[i];
        return NULL;
}

static int covers(const struct batch_item *it, size_t id)
{
        size_t i;

        for (i = 0; i < it->nmsgs; i++)
                if (ID(it->msgs[i]) == id)
                        return 1;
        return 0;
}

/* Every id in 1..nmsgs appears in exactly one item, nothing else appears. */
static void check_exactly_once(const struct batch_item *it, size_t n, size_t nmsgs)
{
        unsigned char *seen = calloc(nmsgs + 1, 1);
        size_t i, j;

        assert_non_null(seen);
        for (i = 0; i < n; i++)
                for (j = 0; j < it[i].nmsgs; j++) {
                        size_t id = ID(it[i].msgs[j]);

                        assert_true(id >= 1 && id <= nmsgs);
                        assert_int_equal(seen[id], 0);
                        seen[id] = 1;
                }
        for (i = 1; i <= nmsgs; i++)
                assert_int_equal(seen[i], 1);
        free(seen);
}

static void test_last_op_wins(void **state)
{
        struct batch *b = batch_new();
        struct batch_item *it;
        const struct batch_item *x;
        size_t n;

        (void)state;
        assert_non_null(b);
        assert_int_equal(batch_add(b, "101", "data", "a.txt", MSG_OP_PUT, M(1)), JB_OK);
        assert_int_equal(batch_add(b, "101", "data", "b.txt", MSG_OP_DELETE, M(2)), JB_OK);
        assert_int_equal(batch_add(b, "101", "data", "a.txt", MSG_OP_DELETE, M(3)), JB_OK);
        assert_int_equal(batch_add(b, "101", "data", "b.txt", MSG_OP_PUT, M(4)), JB_OK);
        assert_int_equal(batch_add(b, "101", "data", "a.txt", MSG_OP_PUT, M(5)), JB_OK);
        assert_int_equal(batch_add(b, "101", "data", "a.txt", MSG_OP_DELETE, M(6)), JB_OK);
        assert_int_equal(batch_events(b), 6);
        assert_int_equal(batch_finish(b, &it, &n), JB_OK);
        assert_int_equal(n, 2);
        /* first appearance order */
        assert_string_equal(it[0].key, "a.txt");
        assert_string_equal(it[1].key, "b.txt");
        x = find(it, n, "101", "data", "a.txt");
        assert_non_null(x);
        assert_int_equal(x->op, MSG_OP_DELETE);
        assert_int_equal(x->nmsgs, 4);
        assert_true(covers(x, 1) && covers(x, 3) && covers(x, 5) && covers(x, 6));
        x = find(it, n, "101", "data", "b.txt");
        assert_non_null(x);
        assert_int_equal(x->op, MSG_OP_PUT);
        assert_int_equal(x->nmsgs, 2);
        check_exactly_once(it, n, 6);

        /* reset forgets everything; the batch is reusable */
        batch_reset(b);
        assert_int_equal(batch_events(b), 0);
        assert_int_equal(batch_finish(b, &it, &n), JB_OK);
        assert_int_equal(n, 0);
        assert_int_equal(batch_add(b, "101", "data", "a.txt", MSG_OP_PUT, M(1)), JB_OK);
        assert_int_equal(batch_finish(b, &it, &n), JB_OK);
        assert_int_equal(n, 1);
        assert_int_equal(it[0].op, MSG_OP_PUT);
        assert_int_equal(it[0].nmsgs, 1);
        batch_free(b);
}

static void test_bucket_subsumes(void **state)
{
        struct batch *b = batch_new();
        struct batch_item *it;
        const struct batch_item *x;
        size_t n, i;

        (void)state;
        assert_non_null(b);
        assert_int_equal(batch_add(b, "101", "data", "a", MSG_OP_PUT, M(1)), JB_OK);
        assert_int_equal(batch_add(b, "101", "data", "b", MSG_OP_DELETE, M(2)), JB_OK);
        assert_int_equal(batch_add(b, "101", "other", "a", MSG_OP_PUT, M(3)), JB_OK);
        /* key is ignored for a bucket op */
        assert_int_equal(batch_add(b, "101", "data", "ignored", MSG_OP_BUCKET, M(4)), JB_OK);
        assert_int_equal(batch_add(b, "101", "data", "c", MSG_OP_PUT, M(5)), JB_OK);
        assert_int_equal(batch_add(b, "101", "data", "a", MSG_OP_DELETE, M(6)), JB_OK);
        assert_int_equal(batch_add(b, "101", "data", NULL, MSG_OP_BUCKET, M(7)), JB_OK);
        assert_int_equal(batch_add(b, "101", "other", "b", MSG_OP_PUT, M(8)), JB_OK);
        assert_int_equal(batch_finish(b, &it, &n), JB_OK);
        assert_int_equal(n, 3);
        for (i = 0; i < n; i++)
                if (!strcmp(it[i].bucket, "data"))
                        assert_null(it[i].key);
        x = find(it, n, "101", "data", NULL);
        assert_non_null(x);
        assert_int_equal(x->op, MSG_OP_BUCKET);
        assert_int_equal(x->nmsgs, 6);
        for (i = 1; i <= 7; i++)
                if (i != 3)
                        assert_true(covers(x, i));
        /* the bucket item sits where the bucket first appeared */
        assert_ptr_equal(x, &it[0]);
        assert_non_null(find(it, n, "101", "other", "a"));
        assert_non_null(find(it, n, "101", "other", "b"));
        assert_null(find(it, n, "101", "other", NULL));
        check_exactly_once(it, n, 8);
        batch_free(b);
}

static void test_providers_independent(void **state)
{
        struct batch *b = batch_new();
        struct batch_item *it;
        const struct batch_item *x;
        size_t n;

        (void)state;
        assert_non_null(b);
        assert_int_equal(batch_add(b, "101", "data", "k", MSG_OP_PUT, M(1)), JB_OK);
        assert_int_equal(batch_add(b, "202", "data", "k", MSG_OP_DELETE, M(2)), JB_OK);
        assert_int_equal(batch_add(b, "202", "data", NULL, MSG_OP_BUCKET, M(3)), JB_OK);
        assert_int_equal(batch_add(b, "101", "data", "k", MSG_OP_PUT, M(4)), JB_OK);
        /* separators are part of the key: ("1","01/x") is not ("10","1/x") */
        assert_int_equal(batch_add(b, "1", "01", "x", MSG_OP_PUT, M(5)), JB_OK);
        assert_int_equal(batch_add(b, "10", "1", "x", MSG_OP_PUT, M(6)), JB_OK);
        assert_int_equal(batch_add(b, "101", "dat", "ak", MSG_OP_PUT, M(7)), JB_OK);
        /* empty key string is an object key, not a bucket */
        assert_int_equal(batch_add(b, "101", "data", "", MSG_OP_PUT, M(8)), JB_OK);
        assert_int_equal(batch_finish(b, &it, &n), JB_OK);
        assert_int_equal(n, 6);
        x = find(it, n, "101", "data", "k");
        assert_non_null(x);
        assert_int_equal(x->op, MSG_OP_PUT);
        assert_int_equal(x->nmsgs, 2);
        x = find(it, n, "202", "data", NULL);
        assert_non_null(x);
        assert_int_equal(x->nmsgs, 2);
        assert_null(find(it, n, "202", "data", "k"));
        assert_null(find(it, n, "101", "data", NULL));
        assert_non_null(find(it, n, "1", "01", "x"));
        assert_non_null(find(it, n, "10", "1", "x"));
        assert_non_null(find(it, n, "101", "dat", "ak"));
        assert_non_null(find(it, n, "101", "data", ""));
        check_exactly_once(it, n, 8);
        batch_free(b);
}

static void test_bad_input(void **state)
{
        struct batch *b = batch_new();
        struct batch_item *it;
        size_t n;

        (void)state;
        assert_non_null(b);
        assert_int_equal(batch_add(b, NULL, "data", "k", MSG_OP_PUT, M(1)), JB_EINPUT);
        assert_int_equal(batch_add(b, "101", NULL, "k", MSG_OP_PUT, M(1)), JB_EINPUT);
        assert_int_equal(batch_add(b, "101", "data", NULL, MSG_OP_PUT, M(1)), JB_EINPUT);
        assert_int_equal(batch_add(b, "101", "data", NULL, MSG_OP_DELETE, M(1)), JB_EINPUT);
        assert_int_equal(batch_add(b, "101", "data", "k", (enum msg_op)0, M(1)), JB_EINPUT);
        assert_int_equal(batch_events(b), 0);
        assert_int_equal(batch_finish(b, &it, &n), JB_OK);
        assert_int_equal(n, 0);
        batch_free(b);
        batch_free(NULL);
}

static double secs(const struct timespec *a, const struct timespec *z)
{
        return (double)(z->tv_sec - a->tv_sec) + (double)(z->tv_nsec - a->tv_nsec) / 1e9;
}

/* 100k adds: 60k distinct keys over 20 buckets of 2 providers, repeats, and bucket ops on
 * two buckets in the middle; then a second round on the reset batch. */
static void test_100k(void **state)
{
        struct batch *b = batch_new();
        struct batch_item *it;
        struct timespec t0, t1;
        size_t n, i, round, nbucket_items, total;
        char prov[16], bucket[16], key[64];

        (void)state;
        assert_non_null(b);
        for (round = 0; round < 2; round++) {
                batch_reset(b);
                clock_gettime(CLOCK_MONOTONIC, &t0);
                for (i = 1; i <= 100000; i++) {
                        size_t k = i % 60000;
                        enum msg_op op = (i % 3) ? MSG_OP_PUT : MSG_OP_DELETE;

                        snprintf(prov, sizeof(prov), "%zu", 101 + (k % 2));
                        snprintf(bucket, sizeof(bucket), "bkt%zu", k % 20);
                        snprintf(key, sizeof(key), "dir%zu/file-%zu.txt", k % 97, k);
                        if (i == 50000)
                                assert_int_equal(batch_add(b, "101", "bkt4", NULL, MSG_OP_BUCKET, M(i)),
                                                 JB_OK);
                        else if (i == 50001)
                                assert_int_equal(batch_add(b, "102", "bkt7", NULL, MSG_OP_BUCKET, M(i)),
                                                 JB_OK);
                        else
                                assert_int_equal(batch_add(b, prov, bucket, key, op, M(i)), JB_OK);
                }
                assert_int_equal(batch_events(b), 100000);
                assert_int_equal(batch_finish(b, &it, &n), JB_OK);
                clock_gettime(CLOCK_MONOTONIC, &t1);
                check_exactly_once(it, n, 100000);
                nbucket_items = 0;
                total = 0;
                for (i = 0; i < n; i++) {
                        total += it[i].nmsgs;
                        if (!it[i].key) {
                                nbucket_items++;
                                assert_true(!strcmp(it[i].bucket, "bkt4") ||
                                            !strcmp(it[i].bucket, "bkt7"));
                        } else {
                                assert_false(!strcmp(it[i].provider, "101") &&
                                             !strcmp(it[i].bucket, "bkt4"));
                                assert_false(!strcmp(it[i].provider, "102") &&
                                             !strcmp(it[i].bucket, "bkt7"));
                        }
                }
                assert_int_equal(nbucket_items, 2);
                assert_int_equal(total, 100000);
                /* 60000 keys less the two whose adds became bucket ops, 3000 in each bucket;
                 * two buckets folded into one item each */
                assert_int_equal(n, 60000 - 2 - 2 * 3000 + 2);
                /* O(1) per add: generous bound that a quadratic structure would blow */
                assert_true(secs(&t0, &t1) < 5.0);
        }
        batch_free(b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_last_op_wins),
                cmocka_unit_test(test_bucket_subsumes),
                cmocka_unit_test(test_providers_independent),
                cmocka_unit_test(test_bad_input),
                cmocka_unit_test(test_100k),
        };

        return cmocka_run_group_tests_name("batch", tests, NULL, NULL);
}
