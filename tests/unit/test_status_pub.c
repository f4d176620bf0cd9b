/*
 * test_status_pub.c - the publisher thread over an in-memory status store: it publishes at
 * start (status.json in the state directory and the store), a kick publishes and reports
 * at once (report.json and report.html with every instance of the store), a store that
 * fails does not stop it and it publishes again once the store works, stop is prompt even
 * with an hour-long interval and publishes once more, and at start it seeds the recorder
 * from this instance's previous document in the store.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>
#include <cmocka.h>

#include "jb.h"
#include "status.h"
#include "status_pub.h"
#include "status_store.h"
#include "tu.h"

/* ---- an in-memory store: one document per instance ---- */

#define FAKE_MAX 4

struct fake {
        struct status_store ss; /* first */
        pthread_mutex_t mu;
        char *inst[FAKE_MAX], *doc[FAKE_MAX];
        size_t len[FAKE_MAX], n;
        int puts, lists, fail;
        int *freed;
};

static int fake_put(struct status_store *ss, const char *instance, const void *doc, size_t n,
                    char *errstr, size_t errsz)
{
        struct fake *f = (struct fake *)ss;
        size_t i;

        pthread_mutex_lock(&f->mu);
        if (f->fail) {
                pthread_mutex_unlock(&f->mu);
                return jb_seterr(JB_ETRANSIENT, errstr, errsz, "the store does not answer");
        }
        for (i = 0; i < f->n && strcmp(f->inst[i], instance); i++)
                ;
        if (i == f->n && f->n < FAKE_MAX)
                f->inst[f->n++] = strdup(instance);
        if (i < f->n) {
                free(f->doc[i]);
                f->doc[i] = malloc(n + 1);
                memcpy(f->doc[i], doc, n);
                f->doc[i][n] = '\0';
                f->len[i] = n;
        }
        f->puts++;
        pthread_mutex_unlock(&f->mu);
        return JB_OK;
}

static int fake_list(struct status_store *ss, status_store_fn fn, void *opaque, char *errstr,
                     size_t errsz)
{
        struct fake *f = (struct fake *)ss;
        size_t i;

        pthread_mutex_lock(&f->mu);
        f->lists++;
        if (f->fail) {
                pthread_mutex_unlock(&f->mu);
                return jb_seterr(JB_ETRANSIENT, errstr, errsz, "the store does not answer");
        }
        for (i = 0; i < f->n; i++)
                if (f->doc[i])
                        (void)fn(opaque, f->inst[i], f->doc[i], f->len[i], "the fake store");
        pthread_mutex_unlock(&f->mu);
        return JB_OK;
}

static void fake_destroy(struct status_store *ss)
{
        struct fake *f = (struct fake *)ss;

        (*f->freed)++; /* the fake itself stays for the test to read */
}

static const struct status_store_ops fake_ops = {fake_put, fake_list, fake_destroy};

static struct fake *fake_new(int *freed)
{
        struct fake *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        f->ss.ops = &fake_ops;
        f->freed = freed;
        pthread_mutex_init(&f->mu, NULL);
        return f;
}

static void fake_free(struct fake *f)
{
        size_t i;

        for (i = 0; i < f->n; i++) {
                free(f->inst[i]);
                free(f->doc[i]);
        }
        pthread_mutex_destroy(&f->mu);
        free(f);
}

static int fake_puts(struct fake *f)
{
        int n;

        pthread_mutex_lock(&f->mu);
        n = f->puts;
        pthread_mutex_unlock(&f->mu);
        return n;
}

static void fake_set_fail(struct fake *f, int fail)
{
        pthread_mutex_lock(&f->mu);
        f->fail = fail;
        pthread_mutex_unlock(&f->mu);
}

/* ---- helpers ---- */

static void nap_ms(long ms)
{
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

        nanosleep(&ts, NULL);
}

/* Poll cond(arg) every 10 ms for up to ms. */
static int poll_until(int (*cond)(void *), void *arg, long ms)
{
        int64_t end = jb_mono_ms() + ms;

        while (!cond(arg)) {
                if (jb_mono_ms() >= end)
                        return 0;
                nap_ms(10);
        }
        return 1;
}

struct want_puts {
        struct fake *f;
        int n;
};

static int puts_reached(void *arg)
{
        struct want_puts *w = arg;

        return fake_puts(w->f) >= w->n;
}

static char *path_in(const char *dir, const char *name)
{
        char *p = malloc(strlen(dir) + strlen(name) + 2);

        assert_non_null(p);
        sprintf(p, "%s/%s", dir, name);
        return p;
}

static int file_exists(void *arg)
{
        FILE *fp = fopen(arg, "rb");

        if (fp)
                fclose(fp);
        return fp != NULL;
}

static void ident(const char *instance)
{
        struct status_ident id = {instance, "run", "jibe test", 3600, 1200};

        status_init(&id);
}

static void opts(struct status_pub_opts *o, const char *dir, long publish_s, double report_min)
{
        memset(o, 0, sizeof(*o));
        o->instance = "east-1";
        o->publish_s = publish_s;
        o->report_interval_min = report_min;
        o->state_dir = dir;
}

/* ---- tests ---- */

/* At start: status.json and the store; a kick: publication and report at once, with the other
 * instance of the store; stop: once more, promptly, and the store freed. */
static void test_publish_kick_report_stop(void **state)
{
        char *dir = tu_tmpdir(), *sj = path_in(dir, "status.json"), *rj = path_in(dir, "report.json");
        char *rh = path_in(dir, "report.html");
        struct status_pub_opts o;
        struct status_pub *p;
        struct fake *f;
        struct want_puts w;
        char err[256], *other, *txt;
        struct buf b;
        cJSON *j, *insts;
        int freed = 0, n, found = 0;
        int64_t t;
        size_t len;

        (void)state;
        /* another instance's document already in the store */
        ident("west-1");
        buf_init(&b, STATUS_DOC_MAX);
        assert_int_equal(status_snapshot((int64_t)time(NULL) * 1000, &b), JB_OK);
        len = b.len;
        other = buf_take(&b);
        f = fake_new(&freed);
        assert_int_equal(fake_put(&f->ss, "west-1", other, len, err, sizeof(err)), JB_OK);

        ident("east-1");
        opts(&o, dir, 3600, 60.0); /* nothing is due again within the test but by a kick */
        assert_int_equal(status_pub_start(&o, &f->ss, &p, err, sizeof(err)), JB_OK);
        w = (struct want_puts){f, 2};
        assert_true(poll_until(puts_reached, &w, 5000)); /* west-1's + east-1's first */
        assert_true(poll_until(file_exists, sj, 5000));
        txt = tu_slurp(sj, &len);
        assert_non_null(txt);
        j = cJSON_Parse(txt);
        assert_non_null(j);
        assert_string_equal(cJSON_GetObjectItem(j, "instance")->valuestring, "east-1");
        assert_string_equal(cJSON_GetObjectItem(j, "type")->valuestring, "instance_status");
        cJSON_Delete(j);
        free(txt);
        assert_false(file_exists(rj)); /* the first report comes after the first interval */

        status_pub_kick(p);
        w.n = 3;
        assert_true(poll_until(puts_reached, &w, 5000));
        assert_true(poll_until(file_exists, rj, 5000));
        assert_true(file_exists(rh));
        txt = tu_slurp(rj, &len);
        j = cJSON_Parse(txt);
        assert_non_null(j);
        assert_string_equal(cJSON_GetObjectItem(j, "type")->valuestring, "report");
        assert_string_equal(cJSON_GetObjectItem(j, "generated_by")->valuestring, "east-1");
        insts = cJSON_GetObjectItem(j, "instances");
        for (n = 0; n < cJSON_GetArraySize(insts); n++) {
                const char *name =
                        cJSON_GetObjectItem(cJSON_GetArrayItem(insts, n), "instance")->valuestring;

                found |= !strcmp(name, "east-1") ? 1 : !strcmp(name, "west-1") ? 2 : 0;
        }
        assert_int_equal(found, 3);
        cJSON_Delete(j);
        free(txt);

        n = fake_puts(f);
        t = jb_mono_ms();
        status_pub_stop(p);
        assert_true(jb_mono_ms() - t < 2000); /* the hour-long wait ended at once */
        assert_int_equal(fake_puts(f), n + 1);
        assert_int_equal(freed, 1);
        fake_free(f);
        free(other);
        tu_rmrf(dir);
        free(dir);
        free(sj);
        free(rj);
        free(rh);
        status_reset();
}

/* A store that fails: the thread goes on, status.json is still written, the next kick after
 * the store recovered publishes. */
static void test_store_failure_retried(void **state)
{
        char *dir = tu_tmpdir(), *sj = path_in(dir, "status.json"), *rj = path_in(dir, "report.json");
        struct status_pub_opts o;
        struct status_pub *p;
        struct want_puts w;
        struct fake *f;
        char err[256];
        int freed = 0;

        (void)state;
        ident("east-1");
        f = fake_new(&freed);
        fake_set_fail(f, 1);
        opts(&o, dir, 3600, 0); /* no report */
        assert_int_equal(status_pub_start(&o, &f->ss, &p, err, sizeof(err)), JB_OK);
        assert_true(poll_until(file_exists, sj, 5000));
        assert_int_equal(fake_puts(f), 0);
        status_pub_kick(p); /* fails again: said once only */
        nap_ms(100);
        fake_set_fail(f, 0);
        status_pub_kick(p);
        w = (struct want_puts){f, 1};
        assert_true(poll_until(puts_reached, &w, 5000));
        status_pub_stop(p);
        assert_int_equal(fake_puts(f), 2);
        assert_false(file_exists(rj)); /* this process writes no report */
        fake_free(f);
        tu_rmrf(dir);
        free(dir);
        free(sj);
        free(rj);
        status_reset();
}

/* Without a store: status.json only; bad options are refused (and the store freed). */
static void test_no_store_and_bad_opts(void **state)
{
        char *dir = tu_tmpdir(), *sj = path_in(dir, "status.json");
        struct status_pub_opts o;
        struct status_pub *p;
        struct fake *f;
        char err[256];
        int freed = 0;

        (void)state;
        ident("east-1");
        opts(&o, dir, 3600, 60.0);
        assert_int_equal(status_pub_start(&o, NULL, &p, err, sizeof(err)), JB_OK);
        assert_true(poll_until(file_exists, sj, 5000));
        status_pub_stop(p);
        status_pub_stop(NULL);
        status_pub_kick(NULL);

        f = fake_new(&freed);
        opts(&o, dir, 0, 1.0);
        assert_int_not_equal(status_pub_start(&o, &f->ss, &p, err, sizeof(err)), JB_OK);
        assert_null(p);
        assert_int_equal(freed, 1);
        assert_non_null(strstr(err, "interval"));
        fake_free(f);
        tu_rmrf(dir);
        free(dir);
        free(sj);
        status_reset();
}

/* At start the recorder is seeded from this instance's previous document in the store: the
 * newest log file of a source survives the restart. */
static void test_seed_from_store(void **state)
{
        char *dir = tu_tmpdir(), *prev, *doc;
        struct status_pub_opts o;
        struct status_pub *p;
        struct want_puts w;
        struct fake *f;
        struct buf b;
        cJSON *j, *src, *newest;
        char err[256];
        int freed = 0;
        size_t len;

        (void)state;
        ident("east-1");
        status_source("101", "ct-logs", 1);
        status_file_found("101", "ct-logs", "/S3 Prod/ct-logs/AWSLogs/1/x.json.gz",
                          (int64_t)time(NULL) * 1000 - 60000);
        buf_init(&b, STATUS_DOC_MAX);
        assert_int_equal(status_snapshot((int64_t)time(NULL) * 1000, &b), JB_OK);
        len = b.len;
        prev = buf_take(&b);
        f = fake_new(&freed);
        assert_int_equal(fake_put(&f->ss, "east-1", prev, len, err, sizeof(err)), JB_OK);
        free(prev);

        ident("east-1"); /* a restart: the recorder forgot everything */
        opts(&o, dir, 3600, 0);
        assert_int_equal(status_pub_start(&o, &f->ss, &p, err, sizeof(err)), JB_OK);
        w = (struct want_puts){f, 2};
        assert_true(poll_until(puts_reached, &w, 5000));
        status_pub_stop(p);
        pthread_mutex_lock(&f->mu);
        doc = strdup(f->doc[0]);
        pthread_mutex_unlock(&f->mu);
        j = cJSON_Parse(doc);
        assert_non_null(j);
        src = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "sources"), 0);
        assert_non_null(src);
        newest = cJSON_GetObjectItem(src, "newest");
        assert_non_null(newest);
        assert_string_equal(cJSON_GetObjectItem(newest, "path")->valuestring,
                            "/S3 Prod/ct-logs/AWSLogs/1/x.json.gz");
        cJSON_Delete(j);
        free(doc);
        fake_free(f);
        tu_rmrf(dir);
        free(dir);
        status_reset();
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_publish_kick_report_stop),
                cmocka_unit_test(test_store_failure_retried),
                cmocka_unit_test(test_no_store_and_bad_opts),
                cmocka_unit_test(test_seed_from_store),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
