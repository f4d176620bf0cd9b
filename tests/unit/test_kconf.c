/*
 * test_kconf.c - the librdkafka configuration builder and jibe's Kafka names (no broker: a
 * configuration is only built, never connected).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>

#include "kconf.h"
#include "log.h"
#include "tu.h"

static char logpath[512];

static const char *get(rd_kafka_conf_t *conf, const char *name, char *buf, size_t n)
{
        size_t sz = n;

        if (rd_kafka_conf_get(conf, name, buf, &sz) != RD_KAFKA_CONF_OK)
                return "(unknown)";
        return buf;
}

/* producer./consumer. entries go to their role only, unprefixed ones to every role. */
static void test_roles(void **state)
{
        static const char *const props[] = {"producer.linger.ms=7", "consumer.fetch.wait.max.ms=55",
                                            "socket.keepalive.enable=true", NULL};
        static const struct {
                enum kconf_role role;
                const char *linger, *fetch;
        } want[] = {
                {KCONF_PRODUCER, "7", "500"},
                {KCONF_CONSUMER, "5", "55"},
                {KCONF_ADMIN, "5", "500"},
        };
        char err[512], b[64];
        size_t i;

        (void)state;
        for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
                struct kconf_opts o = {"127.0.0.1:1", "jibe-test", want[i].role, 0, NULL};
                rd_kafka_conf_t *conf = kconf_new(&o, err, sizeof(err));

                assert_non_null(conf);
                assert_int_equal(kconf_props(conf, want[i].role, props, KCONF_NULL_ENDED, err,
                                             sizeof(err)),
                                 JB_OK);
                assert_string_equal(get(conf, "linger.ms", b, sizeof(b)), want[i].linger);
                assert_string_equal(get(conf, "fetch.wait.max.ms", b, sizeof(b)), want[i].fetch);
                assert_string_equal(get(conf, "socket.keepalive.enable", b, sizeof(b)), "true");
                assert_string_equal(get(conf, "client.id", b, sizeof(b)), "jibe-test");
                assert_string_equal(get(conf, "bootstrap.servers", b, sizeof(b)), "127.0.0.1:1");
                rd_kafka_conf_destroy(conf);
        }
        /* a counted array (the configuration's kafka.rdkafka) works the same */
        assert_int_equal(kconf_check(props, 3, err, sizeof(err)), JB_OK);
}

static void test_refusals(void **state)
{
        static const char *const unknown[] = {"consumer.no.such.property=1"};
        static const char *const garbage[] = {"linger.ms"};
        static const char *const badval[] = {"producer.linger.ms=abc"};
        rd_kafka_conf_t *conf;
        char err[512];

        (void)state;
        assert_int_equal(kconf_check(unknown, 1, err, sizeof(err)), JB_EINPUT);
        assert_non_null(strstr(err, "consumer.no.such.property"));
        assert_int_equal(kconf_check(garbage, 1, err, sizeof(err)), JB_EINPUT);
        assert_non_null(strstr(err, "not name=value"));
        assert_int_equal(kconf_check(badval, 1, err, sizeof(err)), JB_EINPUT);
        assert_non_null(strstr(err, "producer.linger.ms"));
        /* the clients' messages name the setting */
        conf = rd_kafka_conf_new();
        assert_int_equal(kconf_props(conf, KCONF_CONSUMER, unknown, 1, err, sizeof(err)), JB_EINPUT);
        assert_non_null(strstr(err, "kafka.rdkafka"));
        /* a producer does not even look at a consumer. entry */
        assert_int_equal(kconf_props(conf, KCONF_PRODUCER, unknown, 1, err, sizeof(err)), JB_OK);
        rd_kafka_conf_destroy(conf);
        assert_int_equal(kconf_check(NULL, 0, err, sizeof(err)), JB_OK);
}

static void test_secrets(void **state)
{
        static const char *const props[] = {"consumer.sasl.password=Hunter2Consumer",
                                            "ssl.key.password=Hunter2Key", "sasl.username=alice", NULL};
        char *text;

        (void)state;
        kconf_register_secrets(props, KCONF_NULL_ENDED);
        log_msg(LL_WARN, "test", "Hunter2Consumer Hunter2Key alice");
        text = tu_slurp(logpath, NULL);
        assert_non_null(text);
        assert_null(strstr(text, "Hunter2"));
        assert_non_null(strstr(text, "*** *** alice"));
        free(text);
}

static void test_names(void **state)
{
        static const struct {
                enum kconf_name n;
                const char *want;
        } cases[] = {
                {KN_FILES, "jibe.files"},
                {KN_EVENTS, "jibe.events"},
                {KN_DEAD, "jibe.dead"},
                {KN_STATUS, "jibe.status"},
                {KN_GROUP_PARSE, "jibe.parse"},
                {KN_GROUP_SYNC, "jibe.sync"},
                {KN_GROUP_REDRIVE, "jibe.redrive"},
        };
        char b[32];
        size_t i;

        (void)state;
        for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                assert_int_equal(kconf_name(b, sizeof(b), "jibe.", cases[i].n), JB_OK);
                assert_string_equal(b, cases[i].want);
        }
        assert_int_equal(kconf_name(b, sizeof(b), NULL, KN_FILES), JB_OK);
        assert_string_equal(b, "files");
        assert_int_equal(kconf_name(b, 8, "jibe.", KN_EVENTS), JB_EINPUT); /* does not fit */
        assert_int_equal(kconf_group_topic(KN_GROUP_PARSE), KN_FILES);
        assert_int_equal(kconf_group_topic(KN_GROUP_SYNC), KN_EVENTS);
        assert_int_equal(kconf_group_topic(KN_GROUP_REDRIVE), KN_DEAD);
        assert_int_equal(kconf_group_topic(KN_FILES), KN_COUNT);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_roles),
                cmocka_unit_test(test_refusals),
                cmocka_unit_test(test_secrets),
                cmocka_unit_test(test_names),
        };
        char err[256], *tmpdir = tu_tmpdir();
        int rc;

        assert_non_null(tmpdir);
        snprintf(logpath, sizeof(logpath), "%s/log", tmpdir);
        if (log_open(logpath, LL_INFO, err, sizeof(err))) {
                fprintf(stderr, "%s\n", err);
                free(tmpdir);
                return 1;
        }
        rc = cmocka_run_group_tests(tests, NULL, NULL);
        log_close();
        tu_rmrf(tmpdir);
        free(tmpdir);
        return rc;
}
