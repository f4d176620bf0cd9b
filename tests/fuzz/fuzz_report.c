/*
 * fuzz_report.c - the reading of other instances' "instance_status" documents, which come
 * from the server (status folder) or the broker (status topic): report_merge(), the three
 * renderers (report.c) and status_seed() (status.c).
 *
 * Input: 1-4 documents separated by a line "\n====\n" (a fifth separator and what follows
 * stay in the fourth document). They are merged with a fixed now, the report is rendered as
 * JSON, HTML and table, and each document seeds a freshly initialised recorder whose
 * snapshot is taken. Properties besides the sanitizers: the merged document has "v":1,
 * "type":"report" and a verdict among OK, LATE, FAILING; the JSON render parses back and
 * ends in a newline; the HTML has one <html> before one </html> and no "<script" in any
 * case; the table ends in a newline; status_seed() says JB_OK or JB_EINPUT.
 */
#include <ctype.h>
#include <string.h>

#include <cJSON.h>

#include "fuzz.h"
#include "report.h"
#include "status.h"

#define FUZZ_NOW_MS 1796126460000LL /* 2026-12-01 12:01 UTC: the seeds' time */
#define FUZZ_DOCS_MAX 4

static const char sep[] = "\n====\n";

static size_t count_ci(const char *s, size_t n, const char *needle)
{
        size_t k = strlen(needle), i, j, c = 0;

        for (i = 0; i + k <= n; i++) {
                for (j = 0; j < k && tolower((unsigned char)s[i + j]) == needle[j]; j++)
                        ;
                if (j == k)
                        c++;
        }
        return c;
}

static const char *find_ci(const char *s, size_t n, const char *needle)
{
        size_t k = strlen(needle), i, j;

        for (i = 0; i + k <= n; i++) {
                for (j = 0; j < k && tolower((unsigned char)s[i + j]) == needle[j]; j++)
                        ;
                if (j == k)
                        return s + i;
        }
        return NULL;
}

static void check_report(const cJSON *r)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, "v");
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(r, "type");
        const cJSON *vd = cJSON_GetObjectItemCaseSensitive(r, "verdict");

        FUZZ_CHECK(cJSON_IsObject(r));
        FUZZ_CHECK(cJSON_IsNumber(v) && v->valuedouble == 1);
        FUZZ_CHECK(cJSON_IsString(t) && !strcmp(t->valuestring, "report"));
        FUZZ_CHECK(cJSON_IsString(vd));
        FUZZ_CHECK(!strcmp(vd->valuestring, "OK") || !strcmp(vd->valuestring, "LATE") ||
                   !strcmp(vd->valuestring, "FAILING"));
        FUZZ_CHECK(report_exit_code(r) == (strcmp(vd->valuestring, "OK") != 0));
}

static void render(const cJSON *r)
{
        struct buf b;
        const char *open, *close;
        cJSON *back;

        buf_init(&b, (size_t)64 << 20); /* what status_pub.c allows a report */
        FUZZ_CHECK(report_render_json(r, &b) == JB_OK);
        FUZZ_CHECK(b.len > 0 && b.p[b.len - 1] == '\n');
        back = cJSON_ParseWithLength(b.p, b.len);
        FUZZ_CHECK(back != NULL);
        check_report(back);
        cJSON_Delete(back);

        buf_reset(&b);
        FUZZ_CHECK(report_render_html(r, &b) == JB_OK);
        FUZZ_CHECK(b.len > 0);
        open = find_ci(b.p, b.len, "<html");
        close = find_ci(b.p, b.len, "</html>");
        FUZZ_CHECK(open && close && open < close);
        FUZZ_CHECK(count_ci(b.p, b.len, "<html") == 1 && count_ci(b.p, b.len, "</html>") == 1);
        FUZZ_CHECK(count_ci(b.p, b.len, "<script") == 0);
        FUZZ_CHECK(strlen(b.p) == b.len); /* no NUL from a document in the page */

        buf_reset(&b);
        FUZZ_CHECK(report_render_table(r, &b) == JB_OK);
        FUZZ_CHECK(b.len > 0 && b.p[b.len - 1] == '\n');
        buf_clear(&b);
}

static void seed(const struct report_doc *d)
{
        static const struct status_ident id = {"east-1", "run", "jibe fuzz", 60, 1200};
        char err[256];
        struct buf b;
        cJSON *snap;
        int rc;

        status_init(&id);
        err[0] = 0;
        rc = status_seed(d->json, d->len, err, sizeof(err));
        FUZZ_CHECK(rc == JB_OK || rc == JB_EINPUT);
        FUZZ_CHECK(rc == JB_OK || err[0]);
        buf_init(&b, (size_t)64 << 20); /* what status_pub.c allows a report */
        FUZZ_CHECK(status_snapshot(FUZZ_NOW_MS, &b) == JB_OK);
        snap = cJSON_ParseWithLength(b.p, b.len);
        FUZZ_CHECK(snap != NULL);
        cJSON_Delete(snap);
        buf_clear(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char *const where[FUZZ_DOCS_MAX] = {"fuzz doc 1", "fuzz doc 2", "fuzz doc 3",
                                                         "fuzz doc 4"};
        struct report_doc docs[FUZZ_DOCS_MAX];
        struct report_opts o = {FUZZ_NOW_MS, NULL};
        const char *p = (const char *)data, *end = p + size;
        char err[256];
        size_t n = 0, i;
        cJSON *r;

        while (n < FUZZ_DOCS_MAX) {
                const char *s = NULL;
                size_t k;

                if (n < FUZZ_DOCS_MAX - 1)
                        for (k = 0; k + sizeof(sep) - 1 <= (size_t)(end - p); k++)
                                if (!memcmp(p + k, sep, sizeof(sep) - 1)) {
                                        s = p + k;
                                        break;
                                }
                docs[n].json = p;
                docs[n].len = s ? (size_t)(s - p) : (size_t)(end - p);
                docs[n].where = where[n];
                n++;
                if (!s)
                        break;
                p = s + sizeof(sep) - 1;
        }

        /* every document, then the first as this instance's own (generated_by) */
        for (i = 0; i < 2; i++) {
                o.generated_by = i ? "east-1" : NULL;
                r = report_merge(docs, n, &o, err, sizeof(err));
                FUZZ_CHECK(r != NULL); /* NULL only on out of memory */
                check_report(r);
                render(r);
                cJSON_Delete(r);
        }
        for (i = 0; i < n; i++)
                seed(&docs[i]);
        status_reset();
        return 0;
}
