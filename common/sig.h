/*
 * sig.h - signals of jibe's long-running commands, turned into flags the main loop polls.
 * SIGTERM/SIGINT: stop (finish in-flight work, save state, exit 0); SIGHUP: reopen the log
 * file; SIGUSR1: scan now. SIGPIPE is ignored. Async-signal-safe: handlers only set flags
 * (and read the monotonic clock).
 *
 * The stop clock: after SIGTERM every wait of every process ends in time for the process to
 * exit within SIG_GRACE_MS. Waits for a broker or a server that cannot be reached end at
 * once (sig_stop_requested()); calls to Access Anywhere in flight get SIG_ABORT_AFTER_MS to
 * finish, then their transfers and retries end (sig_abort_requested()); flushes on the way
 * out are bounded by sig_bound_ms(). Nothing is lost by ending a wait: what was not
 * completed is not acknowledged and comes again after a restart.
 */
#ifndef SIG_H
#define SIG_H

#define SIG_GRACE_MS 15000      /* a process exits within this long after SIGTERM */
#define SIG_ABORT_AFTER_MS 5000 /* Access Anywhere calls in flight may finish for this long */

void sig_install(void);
int sig_stop_requested(void);
int sig_take_hup(void);  /* returns and clears */
int sig_take_usr1(void); /* returns and clears */
/* Nonzero once a stop was requested SIG_ABORT_AFTER_MS ago or more. */
int sig_abort_requested(void);
/* ms, shortened when a stop was requested so that the wait ends SIG_GRACE_MS - 3 s after
 * it (never below 0). */
long sig_bound_ms(long ms);
/* Request a stop as SIGTERM does (programs and tests). */
void sig_request_stop(void);

#endif
