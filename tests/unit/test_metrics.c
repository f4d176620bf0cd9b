/*
 * test_metrics.c - the metrics registry and its text exposition (metrics.h), the listen
 * address parser and the endpoint's answers (metrics_http.h) on a port of 127.0.0.1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "buf.h"
#include "jb.h"
#include "metrics.h"
#include "metrics_http.h"
#include "stage.h"

static char *render(void)
{
        struct buf b;

        buf_init(&b, 1 << 24);
        assert_int_equal(metrics_render(&b), JB_OK);
        return buf_take(&b);
}

static int setup(void **state)
{
        (void)state;
        metrics_reset();
        metrics_enable();
        return 0;
}

static void off_records_nothing(void **state)
{
        char *out;

        (void)state;
        metrics_reset();
        metric_add(M_AA_CALLS, 1, "getFile", "ok");
        out = render();
        assert_non_null(strstr(out, "# TYPE jibe_aa_calls_total counter\n"));
        assert_null(strstr(out, "jibe_aa_calls_total{"));
        free(out);
}

static void counters_gauges_labels(void **state)
{
        char *out;

        (void)state;
        metric_add(M_AA_CALLS, 1, "getFile", "ok");
        metric_add(M_AA_CALLS, 2, "getFile", "ok");
        metric_add(M_AA_CALLS, 1, "getFile", "retry");
        metric_add(M_AA_CALLS, -5, "getFile", "retry"); /* a counter never goes down */
        metric_set(M_KAFKA_LAG, 7, "jibe.events", "2");
        metric_set(M_KAFKA_LAG, 3, "jibe.events", "2");
        metric_add(M_KAFKA_LAG, 100, "jibe.events", "2"); /* not a counter: ignored */
        metric_set(M_SCAN_NEWEST_FILE, 12.5, "bucket \"quoted\"\\x", NULL);
        out = render();
        assert_non_null(strstr(out, "# HELP jibe_aa_calls_total "));
        assert_non_null(strstr(out, "jibe_aa_calls_total{function=\"getFile\",result=\"ok\"} 3\n"));
        assert_non_null(strstr(out, "jibe_aa_calls_total{function=\"getFile\",result=\"retry\"} 1\n"));
        assert_non_null(
                strstr(out,
                       "jibe_kafka_consumer_lag_messages{topic=\"jibe.events\",partition=\"2\"} 3\n"));
        assert_non_null(strstr(
                out,
                "jibe_scan_newest_file_time_seconds{bucket=\"bucket \\\"quoted\\\"\\\\x\"} 12.5\n"));
        assert_non_null(strstr(out, "jibe_build_info{version=\"" JB_VERSION "\"} 1\n"));
        assert_non_null(strstr(out, "# TYPE jibe_process_start_time_seconds gauge\n"));
        free(out);
}

static void histogram_cumulative(void **state)
{
        char *out;

        (void)state;
        metric_observe(M_AA_CALL_SECONDS, 0.003, "getFile", NULL);
        metric_observe(M_AA_CALL_SECONDS, 0.2, "getFile", NULL);
        metric_observe(M_AA_CALL_SECONDS, 99, "getFile", NULL);
        metric_observe(M_PARSE_FILE_BYTES, 2000, NULL, NULL);
        out = render();
        assert_non_null(strstr(out, "# TYPE jibe_aa_call_duration_seconds histogram\n"));
        assert_non_null(
                strstr(out,
                       "jibe_aa_call_duration_seconds_bucket{function=\"getFile\",le=\"0.005\"} 1\n"));
        assert_non_null(
                strstr(out,
                       "jibe_aa_call_duration_seconds_bucket{function=\"getFile\",le=\"0.25\"} 2\n"));
        assert_non_null(
                strstr(out, "jibe_aa_call_duration_seconds_bucket{function=\"getFile\",le=\"30\"} 2\n"));
        assert_non_null(
                strstr(out,
                       "jibe_aa_call_duration_seconds_bucket{function=\"getFile\",le=\"+Inf\"} 3\n"));
        assert_non_null(strstr(out, "jibe_aa_call_duration_seconds_count{function=\"getFile\"} 3\n"));
        assert_non_null(strstr(out, "jibe_aa_call_duration_seconds_sum{function=\"getFile\"} 99.203"));
        assert_non_null(strstr(out, "jibe_parse_file_size_bytes_bucket{le=\"1024\"} 0\n"));
        assert_non_null(strstr(out, "jibe_parse_file_size_bytes_bucket{le=\"4096\"} 1\n"));
        assert_non_null(strstr(out, "jibe_parse_file_size_bytes_count 1\n"));
        free(out);
}

static void label_sets_bounded(void **state)
{
        char lv[32], *out;
        int i;

        (void)state;
        for (i = 0; i < METRICS_SERIES_MAX + 10; i++) {
                snprintf(lv, sizeof(lv), "fn%d", i);
                metric_add(M_AA_RETRIES, 1, lv, NULL);
        }
        out = render();
        assert_non_null(strstr(out, "jibe_aa_retries_total{function=\"fn63\"} 1\n"));
        assert_null(strstr(out, "function=\"fn64\""));
        assert_non_null(strstr(out, "jibe_metrics_dropped_updates_total 10\n"));
        free(out);
}

static void stage_counters_named_with_units(void **state)
{
        struct jb_counters c = {0};
        char *out;

        (void)state;
        jb_counters_add(&c, "files", JB_COUNTER, 12, "log files read");
        jb_counters_add(&c, "outage_s", JB_GAUGE, 30, "length of the outage");
        jb_counters_add(&c, "last_latency_ms", JB_GAUGE, 1500, "latency");
        metrics_stage_counters("parse", &c);
        c.c[0].value = 13; /* a later copy replaces the first */
        metrics_stage_counters("parse", &c);
        metrics_queue_depth("files", 4);
        out = render();
        assert_non_null(
                strstr(out, "# TYPE jibe_parse_files_total counter\njibe_parse_files_total 13\n"));
        assert_non_null(
                strstr(out, "# TYPE jibe_parse_outage_seconds gauge\njibe_parse_outage_seconds 30\n"));
        assert_non_null(strstr(out, "jibe_parse_last_latency_seconds 1.5\n"));
        assert_non_null(strstr(out, "jibe_queue_depth{queue=\"files\"} 4\n"));
        assert_null(strstr(out, "queue=\"events\""));
        free(out);
}

static void health_and_readiness(void **state)
{
        char why[256];

        (void)state;
        metrics_ready_setup(1, 0);
        assert_int_equal(metrics_alive(why, sizeof(why)), 1);
        assert_int_equal(metrics_ready(why, sizeof(why)), 0);
        assert_non_null(strstr(why, "not signed in"));
        metrics_aa_outcome(1, 1);
        assert_int_equal(metrics_ready(why, sizeof(why)), 1);
        assert_string_equal(why, "ready");
        metrics_aa_outcome(0, 0); /* failing since now: not yet 3 intervals */
        assert_int_equal(metrics_ready(why, sizeof(why)), 1);
        metrics_set_alive(0, "a stage stopped");
        assert_int_equal(metrics_alive(why, sizeof(why)), 0);
        assert_string_equal(why, "a stage stopped");
        assert_int_equal(metrics_ready(why, sizeof(why)), 0);
}

static void listen_parse(void **state)
{
        char host[64], err[256];
        unsigned port;

        (void)state;
        assert_int_equal(metrics_http_parse_listen("127.0.0.1:9464", host, sizeof(host), &port, err,
                                                   sizeof(err)),
                         JB_OK);
        assert_string_equal(host, "127.0.0.1");
        assert_int_equal(port, 9464);
        assert_int_equal(metrics_http_parse_listen("[::1]:80", host, sizeof(host), &port, err,
                                                   sizeof(err)),
                         JB_OK);
        assert_string_equal(host, "::1");
        assert_int_equal(metrics_http_parse_listen(":9464", host, sizeof(host), &port, err, sizeof(err)),
                         JB_OK);
        assert_string_equal(host, "");
        assert_int_equal(metrics_http_parse_listen("9464", host, sizeof(host), &port, err, sizeof(err)),
                         JB_EINPUT);
        assert_non_null(strstr(err, "no port"));
        assert_int_equal(metrics_http_parse_listen("h:70000", host, sizeof(host), &port, err,
                                                   sizeof(err)),
                         JB_EINPUT);
        assert_int_equal(metrics_http_parse_listen("h:", host, sizeof(host), &port, err, sizeof(err)),
                         JB_EINPUT);
        assert_int_equal(metrics_http_parse_listen("h:1x", host, sizeof(host), &port, err, sizeof(err)),
                         JB_EINPUT);
        assert_int_equal(metrics_http_parse_listen("::1:80", host, sizeof(host), &port, err,
                                                   sizeof(err)),
                         JB_EINPUT);
        assert_int_equal(metrics_http_parse_listen("", host, sizeof(host), &port, err, sizeof(err)),
                         JB_EINPUT);
}

/* One request on a new connection; the answer's first line and body into out. */
static void ask(unsigned port, const char *req, char *out, size_t outsz)
{
        struct sockaddr_in sa;
        size_t got = 0;
        ssize_t n;
        int fd = socket(AF_INET, SOCK_STREAM, 0);

        assert_true(fd >= 0);
        memset(&sa, 0, sizeof(sa));
        sa.sin_family = AF_INET;
        sa.sin_port = htons((uint16_t)port);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
        while (got + 1 < outsz && (n = read(fd, out + got, outsz - got - 1)) > 0)
                got += (size_t)n;
        out[got] = '\0';
        close(fd);
}

static void http_answers(void **state)
{
        struct metrics_http *h = NULL, *h2 = NULL;
        char err[256], listen[64], out[65536];
        unsigned port;

        (void)state;
        assert_int_equal(metrics_http_start("127.0.0.1:0", &h, err, sizeof(err)), JB_OK);
        port = metrics_http_port(h);
        assert_true(port > 0);
        metric_add(M_AA_CALLS, 1, "getFile", "ok");
        ask(port, "GET /metrics HTTP/1.0\r\n\r\n", out, sizeof(out));
        assert_non_null(strstr(out, " 200 "));
        assert_non_null(strstr(out, "text/plain; version=0.0.4"));
        assert_non_null(strstr(out, "jibe_aa_calls_total{function=\"getFile\",result=\"ok\"} 1"));
        ask(port, "GET /healthz HTTP/1.0\r\n\r\n", out, sizeof(out));
        assert_non_null(strstr(out, " 200 "));
        ask(port, "GET /readyz HTTP/1.0\r\n\r\n", out, sizeof(out));
        assert_non_null(strstr(out, " 503 "));
        assert_non_null(strstr(out, "not signed in"));
        ask(port, "GET /other HTTP/1.0\r\n\r\n", out, sizeof(out));
        assert_non_null(strstr(out, " 404 "));
        ask(port, "DELETE /metrics HTTP/1.0\r\n\r\n", out, sizeof(out));
        assert_non_null(strstr(out, " 405 "));
        ask(port, "\x01\x02 nonsense\r\n\r\n", out, sizeof(out));
        assert_null(strstr(out, " 200 "));
        /* the same address again: in use */
        snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
        assert_int_equal(metrics_http_start(listen, &h2, err, sizeof(err)), JB_EIO);
        assert_null(h2);
        assert_non_null(strstr(err, "in use"));
        ask(port, "GET /healthz HTTP/1.0\r\n\r\n", out, sizeof(out));
        assert_non_null(strstr(out, " 200 "));
        metrics_http_stop(h);
        metrics_http_stop(NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup(off_records_nothing, setup),
                cmocka_unit_test_setup(counters_gauges_labels, setup),
                cmocka_unit_test_setup(histogram_cumulative, setup),
                cmocka_unit_test_setup(label_sets_bounded, setup),
                cmocka_unit_test_setup(stage_counters_named_with_units, setup),
                cmocka_unit_test_setup(health_and_readiness, setup),
                cmocka_unit_test_setup(listen_parse, setup),
                cmocka_unit_test_setup(http_answers, setup),
        };

        return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
