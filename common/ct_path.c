/*
 * ct_path.c - CloudTrail log paths: recognise each folder level, parse a whole path into its
 * parts, build paths, tell event logs from digests and insights (see ct_path.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct.h"
#include "ct_path.h"

int ct_path_is_logs(const char *name)
{
        return !strcmp(name, CT_PATH_LOGS);
}

int ct_path_is_org(const char *name)
{
        return !strncmp(name, "o-", 2);
}

int ct_path_is_digits(const char *name, size_t n)
{
        size_t i;

        if (strlen(name) != n)
                return 0;
        for (i = 0; i < n; i++)
                if (!isdigit((unsigned char)name[i]))
                        return 0;
        return 1;
}

int ct_path_is_account(const char *name)
{
        return ct_path_is_digits(name, CT_PATH_ACCOUNT_DIGITS);
}

int ct_path_is_trail(const char *name)
{
        return !strcmp(name, CT_PATH_TRAIL);
}

int ct_path_is_log_file(const char *name)
{
        size_t n = strlen(name);

        return n > 8 && !strcmp(name + n - 8, ".json.gz") && !strchr(name, '\n') &&
               ct_file_kind(name) == CT_FILE_LOG;
}

/* The first "AWSLogs/" that is a whole component of path; NULL if none. */
static const char *find_logs(const char *path)
{
        const char *p = path;
        size_t n = strlen(CT_PATH_LOGS);

        while ((p = strstr(p, CT_PATH_LOGS "/")) != NULL) {
                if (p == path || p[-1] == '/')
                        return p;
                p += n;
        }
        return NULL;
}

/* n digits at s, then '/' (or, with last, the end of the string); -1 if not. */
static int digits_then(const char *s, size_t n, int last)
{
        size_t i;

        for (i = 0; i < n; i++)
                if (!isdigit((unsigned char)s[i]))
                        return -1;
        return s[n] == '/' || (last && s[n] == '\0') ? 0 : -1;
}

int ct_path_parse(const char *path, struct ct_path *out)
{
        const char *logs = find_logs(path), *s, *ct, *reg_end, *d;

        memset(out, 0, sizeof(*out));
        out->day = -1;
        if (!logs)
                return -1;
        s = logs + strlen(CT_PATH_LOGS) + 1;
        ct = strstr(s, "/" CT_PATH_TRAIL "/");
        if (!ct)
                return -1;
        reg_end = strchr(ct + strlen(CT_PATH_TRAIL) + 2, '/');
        if (!reg_end)
                return -1;
        out->root.p = path;
        out->root.len = logs > path ? (size_t)(logs - path) - 1 : 0;
        out->stream.p = s;
        out->stream.len = (size_t)(reg_end - s);
        if (!strncmp(s, "o-", 2) && memchr(s, '/', (size_t)(ct - s))) {
                const char *sl = memchr(s, '/', (size_t)(ct - s));

                out->org.p = s;
                out->org.len = (size_t)(sl - s);
                s = sl + 1;
        }
        out->account.p = s;
        out->account.len = (size_t)(ct - s);
        out->region.p = ct + strlen(CT_PATH_TRAIL) + 2;
        out->region.len = (size_t)(reg_end - out->region.p);
        d = reg_end + 1;
        if (!digits_then(d, 4, 0) && !digits_then(d + 5, 2, 0) && !digits_then(d + 8, 2, 1)) {
                char iso[32];

                snprintf(iso, sizeof(iso), "%.4s-%.2s-%.2sT00:00:00Z", d, d + 5, d + 8);
                out->day = ct_parse_time(iso);
                if (out->day >= 0 && d[10] == '/') {
                        out->file.p = d + 11;
                        out->file.len = strlen(d + 11);
                }
        }
        return 0;
}

int64_t ct_path_day(const char *folder)
{
        size_t n = strlen(folder);
        char iso[32];

        if (n < 10 || folder[n - 3] != '/' || folder[n - 6] != '/')
                return -1;
        snprintf(iso, sizeof(iso), "%.4s-%.2s-%.2sT00:00:00Z", folder + n - 10, folder + n - 5,
                 folder + n - 2);
        return ct_parse_time(iso);
}

char *ct_path_join(const char *a, const char *b)
{
        size_t la = strlen(a), lb = strlen(b);
        char *p = malloc(la + lb + 2);

        if (!p)
                return NULL;
        memcpy(p, a, la);
        p[la] = '/';
        memcpy(p + la + 1, b, lb + 1);
        return p;
}

int ct_path_prefix_is_logs(const char *prefix)
{
        const char *slash = strrchr(prefix, '/');

        return ct_path_is_logs(slash ? slash + 1 : prefix);
}

enum ct_file_kind ct_file_kind(const char *path)
{
        const char *base = strrchr(path, '/');

        base = base ? base + 1 : path;
        if (strstr(path, "CloudTrail-Digest/") || strstr(base, "_CloudTrail-Digest_"))
                return CT_FILE_DIGEST;
        if (strstr(path, "CloudTrail-Insight/") || strstr(base, "_CloudTrail-Insight_") ||
            strstr(base, "_CloudTrailInsight_"))
                return CT_FILE_INSIGHT;
        return CT_FILE_LOG;
}
