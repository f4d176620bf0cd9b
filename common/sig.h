/*
 * sig.h - signals of jibe's long-running commands, turned into flags the main loop polls.
 * SIGTERM/SIGINT: stop (finish in-flight work, save state, exit 0); SIGHUP: reopen the log
 * file; SIGUSR1: scan now. SIGPIPE is ignored. Async-signal-safe: handlers only set flags.
 */
#ifndef SIG_H
#define SIG_H

void sig_install(void);
int sig_stop_requested(void);
int sig_take_hup(void);  /* returns and clears */
int sig_take_usr1(void); /* returns and clears */

#endif
