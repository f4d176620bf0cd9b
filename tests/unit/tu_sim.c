/*
 * tu_sim.c - simulator helpers for unit tests (see tu_sim.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "state.h"
#include "tu.h"
#include "tu_sim.h"

int64_t tu_now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void tu_sleep_ms(long ms)
{
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
                ;
}

int tu_mkdirs(const char *path)
{
        return state_mkdirs(path);
}

int tu_write_atomic(const char *path, const void *p, size_t n)
{
        char dir[4096], tmp[4200];
        const char *slash = strrchr(path, '/');
        FILE *fp;
        int ok;

        if (!slash || (size_t)(slash - path) >= sizeof(dir))
                return -1;
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
        if (tu_mkdirs(dir) != 0)
                return -1;
        snprintf(tmp, sizeof(tmp), "%s/.tmp-%d", dir, (int)getpid());
        fp = fopen(tmp, "wb");
        if (!fp)
                return -1;
        ok = fwrite(p, 1, n, fp) == n;
        ok = (fclose(fp) == 0) && ok;
        if (!ok || rename(tmp, path) != 0) {
                unlink(tmp);
                return -1;
        }
        return 0;
}

int tu_sim_start(struct tu_sim *s, const char *root)
{
        const char *sim = getenv("AASIM");
        char portfile[4096], logfile[4096];
        int64_t deadline;

        s->pid = -1;
        s->port = 0;
        s->endpoint[0] = '\0';
        if (!sim || !*sim)
                sim = "build/release/jibe-aa-sim";
        if (access(sim, X_OK) != 0) {
                fprintf(stderr, "simulator %s not found (set AASIM)\n", sim);
                return -1;
        }
        snprintf(portfile, sizeof(portfile), "%s/port", root);
        snprintf(logfile, sizeof(logfile), "%s/sim.log", root);
        unlink(portfile);
        s->pid = fork();
        if (s->pid < 0) {
                perror("fork");
                return -1;
        }
        if (s->pid == 0) {
                int fd = open(logfile, O_WRONLY | O_CREAT | O_APPEND, 0644);

                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (fd >= 0) {
                        dup2(fd, 1);
                        dup2(fd, 2);
                        close(fd);
                }
                execl(sim, sim, "--root", root, "--port", "0", "--port-file", portfile, "--quiet",
                      (char *)NULL);
                _exit(127);
        }
        deadline = tu_now_ms() + 20000;
        for (;;) {
                char *txt = tu_slurp(portfile, NULL);
                int st;

                if (txt && strchr(txt, '\n') && sscanf(txt, "%d", &s->port) == 1 && s->port > 0) {
                        free(txt);
                        break;
                }
                free(txt);
                if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
                        char *log = tu_slurp(logfile, NULL);

                        fprintf(stderr, "simulator exited early: %s\n", log ? log : "");
                        free(log);
                        s->pid = -1;
                        return -1;
                }
                if (tu_now_ms() > deadline) {
                        fprintf(stderr, "simulator did not write its port file in time\n");
                        tu_sim_stop(s);
                        return -1;
                }
                tu_sleep_ms(20);
        }
        snprintf(s->endpoint, sizeof(s->endpoint), "http://127.0.0.1:%d", s->port);
        return 0;
}

int tu_sim_stop(struct tu_sim *s)
{
        int64_t deadline = tu_now_ms() + 5000;
        int st = 0;

        if (s->pid <= 0)
                return 0;
        kill(s->pid, SIGTERM);
        while (waitpid(s->pid, &st, WNOHANG) != s->pid) {
                if (tu_now_ms() > deadline) {
                        kill(s->pid, SIGKILL);
                        waitpid(s->pid, &st, 0);
                        break;
                }
                tu_sleep_ms(10);
        }
        s->pid = -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

char *tu_sim_http(const struct tu_sim *s, const char *method, const char *path, const char *form,
                  int *status)
{
        struct sockaddr_in sa;
        struct buf b;
        char req[2048], chunk[4096], *body, *res;
        int fd, n;

        memset(&sa, 0, sizeof(sa));
        sa.sin_family = AF_INET;
        sa.sin_port = htons((uint16_t)s->port);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
                if (fd >= 0)
                        close(fd);
                return NULL;
        }
        n = snprintf(req, sizeof(req),
                     "%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\n"
                     "Content-Type: application/x-www-form-urlencoded\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     method, path, form ? strlen(form) : 0, form ? form : "");
        if (n < 0 || (size_t)n >= sizeof(req) || write(fd, req, (size_t)n) != n) {
                close(fd);
                return NULL;
        }
        buf_init(&b, 64u * 1024 * 1024);
        while ((n = (int)read(fd, chunk, sizeof(chunk))) > 0)
                if (buf_append(&b, chunk, (size_t)n)) {
                        buf_clear(&b);
                        close(fd);
                        return NULL;
                }
        close(fd);
        if (!b.p || sscanf(b.p, "HTTP/%*s %d", status) != 1 || !(body = strstr(b.p, "\r\n\r\n"))) {
                buf_clear(&b);
                return NULL;
        }
        res = strdup(body + 4);
        buf_clear(&b);
        return res;
}

int tu_sim_faults(const struct tu_sim *s, const char *form)
{
        int st = 0;
        char *r = tu_sim_http(s, "POST", "/sim/faults", form, &st);

        if (!r || st != 200) {
                fprintf(stderr, "POST /sim/faults %s: HTTP %d %s\n", form, st, r ? r : "(no answer)");
                free(r);
                return -1;
        }
        free(r);
        return 0;
}
