/*
 * sig.c - signal flags (see sig.h).
 */
#include <signal.h>
#include <string.h>

#include "sig.h"

static volatile sig_atomic_t sig_stop, sig_hup, sig_usr1;

static void on_signal(int sig)
{
        if (sig == SIGHUP)
                sig_hup = 1;
        else if (sig == SIGUSR1)
                sig_usr1 = 1;
        else
                sig_stop = 1;
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

int sig_stop_requested(void)
{
        return sig_stop;
}

int sig_take_hup(void)
{
        int v = sig_hup;

        sig_hup = 0;
        return v;
}

int sig_take_usr1(void)
{
        int v = sig_usr1;

        sig_usr1 = 0;
        return v;
}
