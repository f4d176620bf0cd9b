/*
 * test_supervise.c - the supervisor (common/supervise.c) over fake stages on the embedded
 * transport: start downstream first, the order of the shutdown ("nothing lost": a late
 * stage hears of its unfinished message from q_free() before it is freed, the others are
 * freed before q_free()), the upstream_done flag, finish only for a pipeline, a failed
 * stage or start ends with exit 1, a stop before running exits 0, the progress line built
 * from named counters.
 * The stop request of sig.h cannot be taken back: the test that requests it runs last.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"
#include "q.h"
#include "sig.h"
#include "stage.h"
#include "status.h"
#include "supervise.h"
#include "tu.h"

static char t_trace[4096]; /* "event;event;..." in call order */
static char *t_dir;

static void trace(const char *name, const char *what)
{
        size_t n = strlen(t_trace);

        snprintf(t_trace + n, sizeof(t_trace) - n, "%s.%s;", name, what);
}

struct fake {
        struct jb_stage st; /* first */
        struct q *q;
        int fail_start; /* start returns JB_EFATAL */
        int fail_after; /* failed() once it was asked this many times */
        int asked;
        int publish; /* publish one message at start, never consumed */
};

static void on_done(void *opaque, int ok)
{
        struct fake *f = opaque;

        trace(f->st.name, ok ? "done" : "report");
}

static int f_start(struct jb_stage *st, char *errstr, size_t errsz)
{
        struct fake *f = (struct fake *)st;

        trace(st->name, "start");
        if (f->fail_start)
                return jb_seterr(JB_EFATAL, errstr, errsz, "%s cannot start", st->name);
        if (f->publish)
                return q_publish(f->q, Q_FILES, "k", 1, "x", 1, NULL, on_done, f, errstr, errsz);
        return JB_OK;
}

static void f_stop(struct jb_stage *st, int grace_ms, int upstream_done)
{
        assert_int_equal(grace_ms, SUPERVISE_GRACE_MS);
        trace(st->name, upstream_done ? "stop-drain" : "stop");
}

static int f_finish(struct jb_stage *st, char *errstr, size_t errsz)
{
        (void)errstr;
        (void)errsz;
        trace(st->name, "finish");
        return JB_OK;
}

static void f_join(struct jb_stage *st)
{
        trace(st->name, "join");
}

static int f_failed(struct jb_stage *st)
{
        struct fake *f = (struct fake *)st;

        return f->fail_after && ++f->asked >= f->fail_after;
}

static void f_counters(struct jb_stage *st, struct jb_counters *out)
{
        jb_counters_add(out, "things", JB_COUNTER, 7, "things done");
        jb_counters_add(out, "level", JB_GAUGE, !strcmp(st->name, "a") ? 2 : 3, "a level");
}

static void f_free(struct jb_stage *st)
{
        trace(st->name, "free");
        free(st);
}

static const struct jb_stage_ops fake_ops = {
        .start = f_start,
        .stop = f_stop,
        .failed = f_failed,
        .counters = f_counters,
        .free = f_free,
};
/* a stage with the late callbacks, freed after the transport (as the scanner is) */
static const struct jb_stage_ops fake_late_ops = {
        .start = f_start,
        .stop = f_stop,
        .finish = f_finish,
        .join = f_join,
        .failed = f_failed,
        .counters = f_counters,
        .free = f_free,
        .free_after_transport = 1,
};

static struct jb_stage *fake(const char *name, struct q *q, int late)
{
        struct fake *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        f->st.name = name;
        f->st.ops = late ? &fake_late_ops : &fake_ops;
        f->q = q;
        f->publish = late;
        return &f->st;
}

static struct q *t_q(void)
{
        struct q_mem_opts qo;
        char path[4096], err[256];
        struct q *q;

        snprintf(path, sizeof(path), "%s/dead.jsonl", t_dir);
        qo.capacity = 10;
        qo.dead_letter_path = path;
        q = q_mem_new(&qo, err, sizeof(err));
        assert_non_null(q);
        return q;
}

static const struct supervise_field t_line[] = {
        {"things", {"a.things"}},
        {"level_sum", {"a.level", "b.level", "queue.files"}},
};

static int t_supervise(struct jb_stage **st, size_t n, int pipeline, struct q *q)
{
        struct supervise_opts o;

        memset(&o, 0, sizeof(o));
        o.cmd = "test";
        o.q = q;
        o.stages = st;
        o.nstages = n;
        o.pipeline = pipeline;
        o.line = t_line;
        o.nline = 2;
        o.running = "running";
        t_trace[0] = '\0';
        return supervise(&o);
}

static char *t_log(void)
{
        char path[4096];
        char *s;

        snprintf(path, sizeof(path), "%s/test.log", t_dir);
        s = tu_slurp(path, NULL);
        assert_non_null(s);
        return s;
}

/* A stage that fails: exit 1; the whole shutdown in order; the progress line at the end. */
static void test_failed_stage(void **state)
{
        struct q *q = t_q();
        struct jb_stage *st[2] = {fake("a", q, 1), fake("b", q, 0)};
        char *log;

        (void)state;
        status_init(&(struct status_ident){"t", "run", "test", 60, 1200});
        ((struct fake *)st[1])->fail_after = 2;
        assert_int_equal(t_supervise(st, 2, 1, q), 1);
        assert_string_equal(t_trace, "b.start;a.start;"                 /* downstream first */
                                     "a.stop;b.stop-drain;a.finish;"    /* upstream first */
                                     "a.join;b.free;a.report;a.free;"); /* q_free between */
        log = t_log();
        assert_non_null(strstr(log, "a stage stopped on a fatal error"));
        /* queue.files: a's message waits, never polled */
        assert_non_null(strstr(log, "test: progress: things=7 level_sum=6\n"));
        free(log);
        {
                /* the status's backlog: the queue depths the supervisor read */
                struct buf b;

                buf_init(&b, 1u << 20);
                assert_int_equal(status_snapshot(0, &b), JB_OK);
                assert_non_null(strstr(b.p, "\"backlog\":{\"files\":1,\"events\":0,\"lag\":-1}"));
                buf_clear(&b);
                status_reset();
        }
}

/* One stage alone (jibe parse): no drain, no finish; a start failure exits 1. */
static void test_start_fails(void **state)
{
        struct q *q = t_q();
        struct jb_stage *st[2] = {fake("a", q, 1), fake("b", q, 0)};
        char *log;

        (void)state;
        ((struct fake *)st[1])->fail_start = 1;
        assert_int_equal(t_supervise(st, 2, 0, q), 1);
        assert_string_equal(t_trace, "b.start;a.stop;b.stop;a.join;b.free;a.free;");
        log = t_log();
        assert_non_null(strstr(log, "cannot start: b cannot start"));
        free(log);
}

/* SIGTERM: exit 0; during a start: "before it was running", exit 0. Runs last. */
static void test_stop(void **state)
{
        struct q *q = t_q();
        struct jb_stage *st[1] = {fake("a", q, 0)};
        char *log;

        (void)state;
        sig_request_stop();
        assert_int_equal(t_supervise(st, 1, 0, q), 0);
        assert_string_equal(t_trace, "a.start;a.stop;a.free;");
        assert_int_equal(supervise_not_started("test", "why"), 0);
        q = t_q();
        st[0] = fake("b", q, 0);
        ((struct fake *)st[0])->fail_start = 1;
        assert_int_equal(t_supervise(st, 1, 0, q), 0);
        log = t_log();
        assert_non_null(strstr(log, "stopping: finishing the work in flight"));
        assert_non_null(strstr(log, "stopping on request before it was running (b cannot start)"));
        free(log);
}

static int setup(void **state)
{
        char path[4096], err[256];

        (void)state;
        t_dir = tu_tmpdir();
        assert_non_null(t_dir);
        snprintf(path, sizeof(path), "%s/test.log", t_dir);
        return log_open(path, LL_INFO, err, sizeof(err));
}

static int teardown(void **state)
{
        (void)state;
        log_close();
        tu_rmrf(t_dir);
        free(t_dir);
        return 0;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_failed_stage),
                cmocka_unit_test(test_start_fails),
                cmocka_unit_test(test_stop),
        };

        return cmocka_run_group_tests_name("supervise", tests, setup, teardown);
}
