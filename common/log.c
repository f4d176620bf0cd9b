/*
 * log.c - the logger (see log.h). Owns the log destination, level and the secret list.
 * The log file is created mode 0640 whatever the umask (it may name buckets, keys and
 * users); one found with more rights (written under a loose umask) is brought down to it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "status.h"

#define LOG_MAX_SECRETS 64
#define LOG_PINNED_SECRETS 8 /* the first ones (password, tokens from the config) stay */
#define LOG_LINE_MAX 4096

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *log_fp; /* NULL: stderr */
static char *log_path;
static enum log_level log_lvl = LL_INFO;
static enum log_format log_fmt = LOG_FMT_TEXT;
static char *log_secrets[LOG_MAX_SECRETS];
static int log_nsecrets;
static int log_next_rotating = LOG_PINNED_SECRETS;

static const char *const log_names[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};
static const char *const log_json_names[] = {"debug", "info", "warn", "error"};

#define LOG_FILE_MODE 0640

/* Open path for appending, mode at most LOG_FILE_MODE; NULL with errno set on failure. */
static FILE *log_fopen(const char *path)
{
        struct stat st;
        FILE *fp;
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, LOG_FILE_MODE);

        if (fd < 0)
                return NULL;
        /* open() honours the umask only to take rights away; an older file may have more */
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777 & ~LOG_FILE_MODE))
                (void)fchmod(fd, st.st_mode & LOG_FILE_MODE);
        fp = fdopen(fd, "a");
        if (!fp) {
                int e = errno;

                close(fd);
                errno = e;
        }
        return fp;
}

int log_open(const char *path, enum log_level level, char *errstr, size_t errsz)
{
        FILE *fp = NULL;

        if (path && *path && strcmp(path, "-") != 0) {
                fp = log_fopen(path);
                if (!fp)
                        return jb_seterr(
                                JB_EIO, errstr, errsz,
                                "cannot open log file %s: check the directory exists and is writable",
                                path);
                setvbuf(fp, NULL, _IOLBF, 0);
        }
        pthread_mutex_lock(&log_lock);
        if (log_fp)
                fclose(log_fp);
        free(log_path);
        log_fp = fp;
        log_path = fp ? strdup(path) : NULL;
        log_lvl = level;
        pthread_mutex_unlock(&log_lock);
        return JB_OK;
}

int log_reopen(void)
{
        FILE *fp;
        int rc = JB_OK;

        pthread_mutex_lock(&log_lock);
        if (log_path) {
                fp = log_fopen(log_path);
                if (fp) {
                        setvbuf(fp, NULL, _IOLBF, 0);
                        fclose(log_fp);
                        log_fp = fp;
                } else {
                        rc = JB_EIO;
                }
        }
        pthread_mutex_unlock(&log_lock);
        return rc;
}

void log_close(void)
{
        int i;

        pthread_mutex_lock(&log_lock);
        if (log_fp)
                fclose(log_fp);
        log_fp = NULL;
        free(log_path);
        log_path = NULL;
        for (i = 0; i < log_nsecrets; i++)
                free(log_secrets[i]);
        log_nsecrets = 0;
        pthread_mutex_unlock(&log_lock);
}

void log_set_level(enum log_level level)
{
        log_lvl = level;
}

enum log_level log_get_level(void)
{
        return log_lvl;
}

int log_level_parse(const char *s, enum log_level *out)
{
        static const char *const names[] = {"debug", "info", "warn", "error", "off"};
        int i;

        for (i = 0; i < 5; i++) {
                if (strcasecmp(s, names[i]) == 0) {
                        *out = (enum log_level)i;
                        return JB_OK;
                }
        }
        if (strcasecmp(s, "warning") == 0) {
                *out = LL_WARN;
                return JB_OK;
        }
        return JB_EINPUT;
}

void log_set_format(enum log_format fmt)
{
        log_fmt = fmt;
}

int log_format_parse(const char *s, enum log_format *out)
{
        if (strcasecmp(s, "text") == 0)
                *out = LOG_FMT_TEXT;
        else if (strcasecmp(s, "json") == 0)
                *out = LOG_FMT_JSON;
        else
                return JB_EINPUT;
        return JB_OK;
}

void log_add_secret(const char *secret)
{
        if (!secret || strlen(secret) < 3)
                return;
        pthread_mutex_lock(&log_lock);
        if (log_nsecrets < LOG_MAX_SECRETS) {
                log_secrets[log_nsecrets++] = strdup(secret);
        } else {
                /* Session tokens come and go: the oldest non-pinned one makes room. */
                free(log_secrets[log_next_rotating]);
                log_secrets[log_next_rotating] = strdup(secret);
                if (++log_next_rotating >= LOG_MAX_SECRETS)
                        log_next_rotating = LOG_PINNED_SECRETS;
        }
        pthread_mutex_unlock(&log_lock);
}

/* Replace every registered secret in line (in place, the line only shrinks or keeps size). */
static void log_redact(char *line)
{
        int i;

        for (i = 0; i < log_nsecrets; i++) {
                const char *s = log_secrets[i];
                size_t sl;
                char *hit;

                if (!s)
                        continue;
                sl = strlen(s);
                while ((hit = strstr(line, s)) != NULL) {
                        memcpy(hit, "***", 3);
                        memmove(hit + 3, hit + sl, strlen(hit + sl) + 1);
                }
        }
}

/* Blank the user information of every address in line (the "user:pw" of
 * "scheme://user:pw@host" becomes three stars): a password in a URL never reaches the log. */
static void log_redact_userinfo(char *line)
{
        char *p = line;

        while ((p = strstr(p, "://")) != NULL) {
                char *auth = p + 3, *at = NULL, *q;

                for (q = auth; *q && !strchr("/?# \t\"'<>", *q); q++)
                        if (*q == '@')
                                at = q;
                if (at && at - auth >= 3) {
                        memcpy(auth, "***", 3);
                        memmove(auth + 3, at, strlen(at) + 1);
                } else if (at) {
                        memset(auth, '*', (size_t)(at - auth)); /* too short to shrink */
                }
                p = auth;
        }
}

void log_scrub(char *text)
{
        pthread_mutex_lock(&log_lock);
        log_redact(text);
        log_redact_userinfo(text);
        pthread_mutex_unlock(&log_lock);
}

/* Append the JSON string of the n bytes at s to out (size cap, length *len); quietly cut at the
 * cap (the closing quote and brace always fit: the caller keeps 8 bytes spare). */
static void json_put(char *out, size_t cap, size_t *len, const char *s, size_t n)
{
        static const char hex[] = "0123456789abcdef";
        size_t i;

        out[(*len)++] = '"';
        for (i = 0; i < n && *len + 8 < cap; i++) {
                unsigned char c = (unsigned char)s[i];

                if (c == '"' || c == '\\') {
                        out[(*len)++] = '\\';
                        out[(*len)++] = (char)c;
                } else if (c < 0x20) {
                        memcpy(out + *len, "\\u00", 4);
                        out[*len + 4] = hex[c >> 4];
                        out[*len + 5] = hex[c & 15];
                        *len += 6;
                } else {
                        out[(*len)++] = (char)c;
                }
        }
        out[(*len)++] = '"';
}

static void json_lit(char *out, size_t cap, size_t *len, const char *lit)
{
        size_t n = strlen(lit);

        if (*len + n + 8 < cap) {
                memcpy(out + *len, lit, n);
                *len += n;
        }
}

/* Was the member name (n bytes) already written into out? */
static int json_has(const char *out, size_t len, const char *name, size_t n)
{
        const char *p = out;

        while ((p = memchr(p, '"', len - (size_t)(p - out))) != NULL) {
                if ((size_t)(out + len - p) > n + 2 && !memcmp(p + 1, name, n) && p[n + 1] == '"' &&
                    p[n + 2] == ':')
                        return 1;
                p++;
        }
        return 0;
}

/* The JSON line of one record: stamp, level, module, the whole message, then its
 * "name=value" words as members. */
static void json_line(char *out, size_t cap, const char *stamp, enum log_level level, const char *module,
                      const char *msg)
{
        size_t len = 0;
        const char *p = msg;
        char v[32];

        snprintf(v, sizeof(v), "{\"v\":%d,\"time\":", LOG_JSON_VERSION);
        json_lit(out, cap, &len, v);
        json_put(out, cap, &len, stamp, strlen(stamp));
        json_lit(out, cap, &len, ",\"level\":");
        json_put(out, cap, &len, log_json_names[level], strlen(log_json_names[level]));
        json_lit(out, cap, &len, ",\"module\":");
        json_put(out, cap, &len, module, strlen(module));
        json_lit(out, cap, &len, ",\"msg\":");
        json_put(out, cap, &len, msg, strlen(msg));
        while (*p) {
                const char *name = p, *val, *end;
                size_t nn, vn;

                while (*p && ((*p >= 'a' && *p <= 'z') || *p == '_'))
                        p++;
                nn = (size_t)(p - name);
                if (*p != '=' || !nn || (name > msg && name[-1] != ' ')) {
                        p += *p ? 1 : 0;
                        continue;
                }
                val = ++p;
                while (*p && *p != ' ')
                        p++;
                end = p;
                while (end > val && strchr(":;,", end[-1]))
                        end--; /* "file=x: it failed" */
                vn = (size_t)(end - val);
                if (json_has(out, len, name, nn) || len + nn + vn + 16 >= cap)
                        continue;
                json_lit(out, cap, &len, ",");
                json_put(out, cap, &len, name, nn);
                json_lit(out, cap, &len, ":");
                json_put(out, cap, &len, val, vn);
        }
        out[len++] = '}';
        out[len] = '\0';
}

void log_msg(enum log_level level, const char *module, const char *fmt, ...)
{
        char line[LOG_LINE_MAX], json[LOG_LINE_MAX * 2];
        char stamp[80];
        struct timespec ts;
        struct tm tm;
        va_list ap;
        int n, m;

        if (level < log_lvl || level >= LL_OFF)
                return;
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L);
        n = snprintf(line, sizeof(line), "%s %s %s: ", stamp, log_names[level], module);
        if (n < 0 || (size_t)n >= sizeof(line))
                return;
        va_start(ap, fmt);
        m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
        va_end(ap);
        if (m < 0)
                return;
        for (char *c = line; *c; c++)
                if (*c == '\n' || *c == '\r')
                        *c = ' ';
        pthread_mutex_lock(&log_lock);
        log_redact(line);
        log_redact_userinfo(line);
        if (log_fmt == LOG_FMT_JSON) {
                /* the message starts after "stamp LEVEL module: " (redaction only shrinks it) */
                const char *msg = strstr(line + strlen(stamp), ": ");

                json_line(json, sizeof(json), stamp, level, module, msg ? msg + 2 : line);
                fprintf(log_fp ? log_fp : stderr, "%s\n", json);
        } else {
                fprintf(log_fp ? log_fp : stderr, "%s\n", line);
        }
        if (log_fp && level >= LL_ERROR)
                fprintf(stderr, "%s\n", line); /* a fatal error reaches whoever started jibe */
        pthread_mutex_unlock(&log_lock);
        if (level >= LL_WARN) { /* the status's problems, by module (redacted above) */
                const char *msg = strstr(line + strlen(stamp), ": ");

                status_problem_once(level >= LL_ERROR ? STATUS_ERROR : STATUS_WARN, NULL, NULL, "log",
                                    module, msg ? msg + 2 : line);
        }
}
