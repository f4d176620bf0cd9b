/*
 * tu_sim.h - unit-test helpers for tests that talk to the Access Anywhere simulator
 * (jibe-aa-sim): start it on a deployment directory, reach its /sim/ endpoints, write S3
 * truth files. Linked into every unit test (tests/unit/tu*.c); no cmocka here: functions
 * return 0 / NULL on failure and print why on stderr.
 * Ownership: tu_sim_http() results are malloc'ed (caller frees); struct tu_sim holds no
 * memory of its own.
 */
#ifndef TU_SIM_H
#define TU_SIM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct tu_sim {
        pid_t pid; /* -1 when not running */
        int port;
        char endpoint[64]; /* "http://127.0.0.1:PORT" */
};

/*
 * Start $AASIM (default build/release/jibe-aa-sim) with --root root on a free port, its
 * output in root/sim.log, and wait (20 s at most) for its port file. The child dies with
 * the test process. Returns 0, or -1 (message on stderr).
 */
int tu_sim_start(struct tu_sim *s, const char *root);
/* SIGTERM, wait (SIGKILL after 5 s). Returns the exit status (0 for a clean stop), safe twice. */
int tu_sim_stop(struct tu_sim *s);
/* One HTTP/1.0 request to the simulator (form: urlencoded body or NULL). Returns the body
 * (caller frees) or NULL; *status gets the HTTP status. */
char *tu_sim_http(const struct tu_sim *s, const char *method, const char *path, const char *form,
                  int *status);
/* POST /sim/faults with form; 0 when the simulator answered 200. */
int tu_sim_faults(const struct tu_sim *s, const char *form);

/* mkdir -p (state_mkdirs() in common/state.h) */
int tu_mkdirs(const char *path);
/* Write n bytes to path atomically (".tmp-" name in the same folder, then rename),
 * creating the folders. 0 on success. */
int tu_write_atomic(const char *path, const void *p, size_t n);
/* Milliseconds of CLOCK_MONOTONIC, and a sleep. */
int64_t tu_now_ms(void);
void tu_sleep_ms(long ms);

#endif
