/*
 * test_stage_opts.c - each stage's own defaults (scanner_opts_init(), parser_opts_init(),
 * syncer_opts_init(): what a stage runs with when nobody sets an option) equal the
 * configuration's defaults (cfg_init(): the option table), so the two never drift apart.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cfg.h"
#include "parser.h"
#include "scanner.h"
#include "syncer.h"

static void test_scanner_defaults(void **state)
{
        struct scanner_opts o;
        struct cfg c;

        (void)state;
        cfg_init(&c);
        scanner_opts_init(&o);
        assert_int_equal(o.interval_s, c.scan_interval_s);
        assert_int_equal(o.lookback_h, c.scan_lookback_h);
        assert_int_equal(o.parents_every, c.scan_parents_every);
        assert_int_equal(o.refresh_concurrency, c.scan_refresh_concurrency);
        assert_int_equal(o.n_sources, c.n_scan_sources);
        assert_int_equal(o.n_prefixes, c.n_scan_prefixes);
        /* digest.*: enabled auto, grace_min in minutes, max_bytes */
        assert_string_equal(c.digest_enabled, "auto");
        assert_int_equal(o.digests, 1);
        assert_int_equal(o.digest_grace_s, c.digest_grace_min * 60);
        assert_int_equal(o.digest_max_bytes, c.digest_max_bytes);
        cfg_clear(&c);
}

static void test_parser_defaults(void **state)
{
        struct parser_opts o;
        struct cfg c;

        (void)state;
        cfg_init(&c);
        parser_opts_init(&o);
        assert_int_equal(o.workers, c.parse_workers);
        assert_true(o.max_decompressed == c.parse_max_decompressed);
        assert_true(o.max_record == c.parse_max_record);
        assert_int_equal(o.provider_refresh_s, c.parse_provider_refresh_s);
        assert_true(o.view.indexing_rate == c.parse_indexing_rate);
        assert_int_equal(o.view.n_self_keys, c.n_self_keys);
        assert_int_equal(o.view.n_self_arns, c.n_self_arns);
        assert_int_equal(o.view.n_self_agents, c.n_self_agents);
        cfg_clear(&c);
}

static void test_syncer_defaults(void **state)
{
        struct syncer_opts o;
        struct cfg c;

        (void)state;
        cfg_init(&c);
        syncer_opts_init(&o);
        assert_int_equal(o.window_ms, c.sync_window_ms);
        assert_int_equal(o.batch_max, c.sync_batch_max);
        assert_int_equal(o.concurrency, c.sync_concurrency);
        assert_int_equal(o.max_attempts, c.sync_max_attempts);
        assert_int_equal(o.backoff_base_ms, c.sync_backoff_base_ms);
        assert_int_equal(o.backoff_max_ms, c.sync_backoff_max_ms);
        assert_string_equal(o.method, c.sync_method);
        assert_int_equal(o.bucket_refresh_per_s, c.sync_bucket_refresh_per_s);
        cfg_clear(&c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_scanner_defaults),
                cmocka_unit_test(test_parser_defaults),
                cmocka_unit_test(test_syncer_defaults),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
