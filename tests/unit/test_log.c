/*
 * test_log.c - the logger's two line formats: a JSON line (log_format = "json") is valid JSON
 * with time, level, module, msg and each name=value field of the message as a member (quotes,
 * backslashes and control characters escaped, a repeated name kept once), secrets blanked in
 * it as in a text line, and the log file created 0640 whatever the umask.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "log.h"
#include "status.h"
#include "tu.h"

/* The lines the log file got, read back whole. Caller frees. */
static char *log_text(const char *path)
{
        size_t n;

        return tu_slurp(path, &n);
}

static void test_json_line(void **state)
{
        char *dir = tu_tmpdir(), path[512], err[256], *text, *nl;
        cJSON *j;
        mode_t old;
        struct stat st;

        (void)state;
        snprintf(path, sizeof(path), "%s/jibe.log", dir);
        old = umask(0);
        assert_int_equal(log_open(path, LL_INFO, err, sizeof(err)), JB_OK);
        umask(old);
        log_set_format(LOG_FMT_JSON);
        log_add_secret("hunter2-secret");
        log_msg(LL_INFO, "syncer",
                "resync provider=101 bucket=b key=a\"q\\z op=put result=ok: pw hunter2-secret key=again "
                "tab\there");
        log_msg(LL_DEBUG, "syncer", "not logged at info");
        log_set_format(LOG_FMT_TEXT);
        log_close();
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0640);

        text = log_text(path);
        assert_non_null(text);
        nl = strchr(text, '\n');
        assert_non_null(nl);
        assert_int_equal(nl[1], '\0'); /* one line: the debug one is below the level */
        *nl = '\0';
        j = cJSON_Parse(text);
        assert_non_null(j);
        assert_string_equal(cJSON_GetObjectItem(j, "level")->valuestring, "info");
        assert_string_equal(cJSON_GetObjectItem(j, "module")->valuestring, "syncer");
        assert_non_null(cJSON_GetObjectItem(j, "time"));
        assert_int_equal(cJSON_GetObjectItem(j, "v")->valueint, LOG_JSON_VERSION);
        assert_string_equal(cJSON_GetObjectItem(j, "provider")->valuestring, "101");
        assert_string_equal(cJSON_GetObjectItem(j, "key")->valuestring, "a\"q\\z"); /* the first */
        assert_string_equal(cJSON_GetObjectItem(j, "result")->valuestring, "ok");
        assert_non_null(strstr(cJSON_GetObjectItem(j, "msg")->valuestring, "pw ***"));
        assert_null(strstr(text, "hunter2"));
        cJSON_Delete(j);
        free(text);
        tu_rmrf(dir);
        free(dir);
}

static void test_format_names(void **state)
{
        enum log_format f = LOG_FMT_TEXT;

        (void)state;
        assert_int_equal(log_format_parse("json", &f), JB_OK);
        assert_int_equal(f, LOG_FMT_JSON);
        assert_int_equal(log_format_parse("TEXT", &f), JB_OK);
        assert_int_equal(f, LOG_FMT_TEXT);
        assert_int_equal(log_format_parse("xml", &f), JB_EINPUT);
}

/* WARN and ERROR lines are problems of the status, by module, counted, secrets scrubbed. */
static void test_status_problems(void **state)
{
        struct buf b;

        (void)state;
        status_init(&(struct status_ident){"t", "run", "test", 60, 1200});
        log_set_level(LL_INFO);
        log_add_secret("s3cr3t-in-a-warning");
        log_msg(LL_INFO, "parser", "not a problem");
        log_msg(LL_WARN, "parser", "first warning");
        log_msg(LL_WARN, "parser", "second warning with s3cr3t-in-a-warning");
        log_msg(LL_ERROR, "syncer", "an error");
        buf_init(&b, 1u << 20);
        assert_int_equal(status_snapshot(0, &b), JB_OK);
        assert_null(strstr(b.p, "not a problem"));
        assert_null(strstr(b.p, "s3cr3t-in-a-warning"));
        assert_non_null(strstr(b.p, "\"module\":\"parser\",\"text\":\"second warning with ***\","
                                    "\"count\":2"));
        assert_non_null(strstr(b.p, "\"level\":\"error\",\"kind\":\"log\""));
        assert_non_null(strstr(b.p, "\"module\":\"syncer\",\"text\":\"an error\""));
        buf_clear(&b);
        status_reset();
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_json_line),
                cmocka_unit_test(test_status_problems),
                cmocka_unit_test(test_format_names),
        };
        return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
