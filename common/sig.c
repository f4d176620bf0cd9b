/*
 * sig.c - signal flags and the stop clock (see sig.h).
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "jb.h"
#include "sig.h"

/* set in the handler, read by any thread: lock-free atomics (ATOMIC_INT_LOCK_FREE == 2 on
 * jibe's platforms), which C11 allows in a signal handler, unlike a plain volatile int */
static atomic_int sig_stop, sig_hup, sig_usr1;
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "a signal handler needs lock-free int atomics");
/* CLOCK_MONOTONIC ms of the first stop request, 0 before; lock-free on jibe's platforms, so
 * safe in a handler */
static _Atomic int_least64_t stop_at_ms;

static void note_stop(void)
{
        int_least64_t zero = 0;

        atomic_compare_exchange_strong(&stop_at_ms, &zero, (int_least64_t)jb_mono_ms() | 1);
        atomic_store(&sig_stop, 1);
}

static void on_signal(int sig)
{
        if (sig == SIGHUP)
                atomic_store(&sig_hup, 1);
        else if (sig == SIGUSR1)
                atomic_store(&sig_usr1, 1);
        else
                note_stop();
}

void sig_install(void)
{
        struct sigaction sa;

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
        sigaction(SIGUSR1, &sa, NULL);
        sa.sa_handler = SIG_IGN;
        sigaction(SIGPIPE, &sa, NULL);
}

void sig_request_stop(void)
{
        note_stop();
}

int sig_stop_requested(void)
{
        return atomic_load(&sig_stop);
}

int sig_abort_requested(void)
{
        int_least64_t at = atomic_load(&stop_at_ms);

        return at && jb_mono_ms() - at >= SIG_ABORT_AFTER_MS;
}

long sig_bound_ms(long ms)
{
        int_least64_t at = atomic_load(&stop_at_ms);
        int64_t left;

        if (!at)
                return ms;
        left = at + SIG_GRACE_MS - 3000 - jb_mono_ms();
        if (left < 0)
                left = 0;
        return left < ms ? (long)left : ms;
}

int sig_take_hup(void)
{
        return atomic_exchange(&sig_hup, 0);
}

int sig_take_usr1(void)
{
        return atomic_exchange(&sig_usr1, 0);
}
