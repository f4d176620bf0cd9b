/*
 * test_sdnotify.c - the service manager's notify protocol (common/sdnotify.c) against a
 * datagram socket of the test's own, at a path and at an abstract name; $WATCHDOG_USEC and
 * $WATCHDOG_PID; and the supervisor's messages (common/supervise.c): no READY=1 before the
 * first scan has ended, READY=1 after it, WATCHDOG=1 while it runs, STOPPING=1 at the stop.
 * The stop request of sig.h cannot be taken back: the supervisor's test runs last.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "q.h"
#include "sdnotify.h"
#include "sig.h"
#include "stage.h"
#include "supervise.h"
#include "tu.h"

static char *t_dir;

/* A datagram socket bound to name ('@' first: abstract); its receive timeout is 100 ms. */
static int t_listen(const char *name)
{
        struct sockaddr_un sa;
        struct timeval tv = {0, 100000};
        size_t n = strlen(name);
        int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

        assert_true(fd >= 0);
        memset(&sa, 0, sizeof(sa));
        sa.sun_family = AF_UNIX;
        memcpy(sa.sun_path, name, n);
        if (name[0] == '@')
                sa.sun_path[0] = '\0';
        assert_int_equal(bind(fd, (struct sockaddr *)&sa,
                              (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
                                          (name[0] == '/'))),
                         0);
        assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
        return fd;
}

/* One datagram into buf, or "" after the 100 ms timeout. */
static void t_recv(int fd, char *buf, size_t sz)
{
        ssize_t n = recv(fd, buf, sz - 1, 0);

        buf[n > 0 ? n : 0] = '\0';
}

static void test_path_socket(void **state)
{
        char path[4096], buf[256], err[256];
        int fd;

        (void)state;
        snprintf(path, sizeof(path), "%s/notify", t_dir);
        fd = t_listen(path);
        setenv("NOTIFY_SOCKET", path, 1);
        assert_int_equal(sdnotify("READY=1\nSTATUS=up", err, sizeof(err)), JB_OK);
        t_recv(fd, buf, sizeof(buf));
        assert_string_equal(buf, "READY=1\nSTATUS=up");
        close(fd);
        unsetenv("NOTIFY_SOCKET");
}

static void test_abstract_socket(void **state)
{
        char name[64], buf[256], err[256];
        int fd;

        (void)state;
        snprintf(name, sizeof(name), "@jibe-test-notify-%ld", (long)getpid());
        fd = t_listen(name);
        setenv("NOTIFY_SOCKET", name, 1);
        assert_int_equal(sdnotify("WATCHDOG=1", err, sizeof(err)), JB_OK);
        t_recv(fd, buf, sizeof(buf));
        assert_string_equal(buf, "WATCHDOG=1");
        close(fd);
        unsetenv("NOTIFY_SOCKET");
}

/* No socket: nothing to do, no error. A relative name or a path nobody listens at: errors. */
static void test_no_or_bad_socket(void **state)
{
        char path[4096], err[256];

        (void)state;
        unsetenv("NOTIFY_SOCKET");
        assert_int_equal(sdnotify("READY=1", err, sizeof(err)), JB_OK);
        setenv("NOTIFY_SOCKET", "relative/notify", 1);
        assert_int_equal(sdnotify("READY=1", err, sizeof(err)), JB_EINPUT);
        assert_non_null(strstr(err, "relative/notify"));
        snprintf(path, sizeof(path), "%s/nobody", t_dir);
        setenv("NOTIFY_SOCKET", path, 1);
        assert_int_equal(sdnotify("READY=1", err, sizeof(err)), JB_EIO);
        unsetenv("NOTIFY_SOCKET");
}

static void test_watchdog_env(void **state)
{
        char pid[32];

        (void)state;
        unsetenv("WATCHDOG_USEC");
        unsetenv("WATCHDOG_PID");
        assert_int_equal(sdnotify_watchdog_usec(), 0);
        setenv("WATCHDOG_USEC", "30000000", 1);
        assert_int_equal(sdnotify_watchdog_usec(), 30000000);
        snprintf(pid, sizeof(pid), "%ld", (long)getpid());
        setenv("WATCHDOG_PID", pid, 1);
        assert_int_equal(sdnotify_watchdog_usec(), 30000000);
        setenv("WATCHDOG_PID", "1", 1); /* another process's */
        assert_int_equal(sdnotify_watchdog_usec(), 0);
        unsetenv("WATCHDOG_PID");
        setenv("WATCHDOG_USEC", "soon", 1);
        assert_int_equal(sdnotify_watchdog_usec(), 0);
        unsetenv("WATCHDOG_USEC");
}

/* A stage that counts scans, as the scanner does. */
static atomic_int t_scans;

static int f_start(struct jb_stage *st, char *errstr, size_t errsz)
{
        (void)st;
        (void)errstr;
        (void)errsz;
        return JB_OK;
}

static void f_stop(struct jb_stage *st, int grace_ms, int upstream_done)
{
        (void)st;
        (void)grace_ms;
        (void)upstream_done;
}

static void f_counters(struct jb_stage *st, struct jb_counters *out)
{
        (void)st;
        jb_counters_add(out, "scans", JB_COUNTER, atomic_load(&t_scans), "scan cycles completed");
        jb_counters_add(out, "scan_errors", JB_COUNTER, 0, "failed scans");
}

static void f_free(struct jb_stage *st)
{
        (void)st;
}

static const struct jb_stage_ops scan_ops = {.start = f_start,
                                             .stop = f_stop,
                                             .counters = f_counters,
                                             .free = f_free};

static int t_rc = -1;

static void *t_supervise(void *arg)
{
        struct jb_stage *st = arg;
        struct supervise_opts o;

        struct q_mem_opts qo;
        char path[4096], err[256];

        snprintf(path, sizeof(path), "%s/dead.jsonl", t_dir);
        memset(&qo, 0, sizeof(qo));
        qo.capacity = 10;
        qo.dead_letter_path = path;
        memset(&o, 0, sizeof(o));
        o.q = q_mem_new(&qo, err, sizeof(err));
        if (!o.q)
                return NULL; /* t_rc stays -1 */
        o.cmd = "test";
        o.stages = &st;
        o.nstages = 1;
        o.running = "running";
        t_rc = supervise(&o);
        return NULL;
}

/* Read datagrams for at most ms; 1 as soon as one contains what, else 0. "ready" is set to
 * 1 when a READY=1 went by. */
static int t_wait_for(int fd, const char *what, int ms, int *ready)
{
        int64_t end = jb_mono_ms() + ms;
        char buf[1024];

        while (jb_mono_ms() < end) {
                t_recv(fd, buf, sizeof(buf));
                if (strstr(buf, "READY=1"))
                        *ready = 1;
                if (what && strstr(buf, what))
                        return 1;
        }
        return 0;
}

static void test_supervise_notifies(void **state)
{
        struct jb_stage st = {.name = "scan", .ops = &scan_ops};
        char path[4096];
        pthread_t th;
        int fd, ready = 0;

        (void)state;
        snprintf(path, sizeof(path), "%s/sv-notify", t_dir);
        fd = t_listen(path);
        setenv("NOTIFY_SOCKET", path, 1);
        setenv("WATCHDOG_USEC", "400000", 1); /* WATCHDOG=1 every 200 ms */
        atomic_store(&t_scans, 0);
        assert_int_equal(pthread_create(&th, NULL, t_supervise, &st), 0);
        /* running, but no scan has ended: the watchdog is fed, READY=1 is not sent */
        assert_true(t_wait_for(fd, "WATCHDOG=1", 5000, &ready));
        (void)t_wait_for(fd, NULL, 600, &ready);
        assert_int_equal(ready, 0);
        atomic_store(&t_scans, 1);
        assert_true(t_wait_for(fd, "READY=1", 5000, &ready));
        assert_true(t_wait_for(fd, "WATCHDOG=1", 5000, &ready));
        sig_request_stop();
        assert_true(t_wait_for(fd, "STOPPING=1", 5000, &ready));
        assert_int_equal(pthread_join(th, NULL), 0);
        assert_int_equal(t_rc, 0);
        close(fd);
        unsetenv("NOTIFY_SOCKET");
        unsetenv("WATCHDOG_USEC");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_path_socket),        cmocka_unit_test(test_abstract_socket),
                cmocka_unit_test(test_no_or_bad_socket),   cmocka_unit_test(test_watchdog_env),
                cmocka_unit_test(test_supervise_notifies), /* last: requests the stop */
        };
        char err[256];
        int rc;

        t_dir = tu_tmpdir();
        assert_int_equal(log_open("-", LL_ERROR, err, sizeof(err)), JB_OK);
        rc = cmocka_run_group_tests(tests, NULL, NULL);
        tu_rmrf(t_dir);
        free(t_dir);
        return rc;
}
