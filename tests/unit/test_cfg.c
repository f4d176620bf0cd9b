/*
 * test_cfg.c - the configuration module (common/cfg.c): defaults, a full file, every kind of
 * error with the setting and line it must name, the ways of giving secrets, credentials_json,
 * notes, cfg_dump() (never a secret, and loadable again) and deploy/jibe.cfg.example (the
 * generator's output, loadable, listing every option).
 *
 * Each test writes its files into a private directory made by the group setup and removed by
 * the teardown. Everything allocated is freed (valgrind).
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

#include <cmocka.h>

#include "cfg.h"
#include "ct.h"
#include "log.h"
#include "tu.h"

#define T_PW "Pa55-w0rd-from-env"
#define T_FILE_PW "file-Secret-9"
#define T_TOKEN "PERMANENT-TOKEN-xyz"

static char *t_dir;

/* Head of a valid file: 4 lines, so a setting written after it is on line 5. */
#define HEAD                                                                                            \
        "access_anywhere = {\n"                                                                         \
        "  endpoint = \"https://aa.example.com\";\n"                                                    \
        "  login = \"admin\"; password_env = \"JIBE_TEST_PW\";\n"                                       \
        "};\n"

static char *t_path(const char *name)
{
        size_t n = strlen(t_dir) + strlen(name) + 2;
        char *p = malloc(n);

        assert_non_null(p);
        snprintf(p, n, "%s/%s", t_dir, name);
        return p;
}

/* Write text into t_dir/name with mode; returns the path (free it). */
static char *t_write(const char *name, const char *text, mode_t mode)
{
        char *p = t_path(name);
        FILE *fp = fopen(p, "w");

        assert_non_null(fp);
        assert_int_equal(fputs(text, fp) >= 0, 1);
        assert_int_equal(fclose(fp), 0);
        assert_int_equal(chmod(p, mode), 0);
        return p;
}

/* printf-style text into a fresh buffer. */
static char *t_fmt(const char *fmt, ...) JB_PRINTF(1, 2);
static char *t_fmt(const char *fmt, ...)
{
        va_list ap;
        char *s = NULL;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        assert_true(n >= 0);
        s = malloc((size_t)n + 1);
        assert_non_null(s);
        va_start(ap, fmt);
        vsnprintf(s, (size_t)n + 1, fmt, ap);
        va_end(ap);
        return s;
}

/* Load text written as t_dir/jibe.cfg; returns cfg_load's code, errstr in err. */
static int t_load(const char *text, struct cfg *c, char *err, size_t errsz)
{
        char *p = t_write("jibe.cfg", text, 0600);
        int rc = cfg_load(c, p, err, errsz);

        free(p);
        return rc;
}

static char *t_dump(const struct cfg *c)
{
        char *s = NULL;
        size_t n = 0;
        FILE *fp = open_memstream(&s, &n);

        assert_non_null(fp);
        cfg_dump(c, fp);
        assert_int_equal(fclose(fp), 0);
        return s;
}

static int has_note(const struct cfg *c, const char *a, const char *b)
{
        size_t i;

        for (i = 0; i < c->n_notes; i++)
                if (strstr(c->notes[i], a) && (!b || strstr(c->notes[i], b)))
                        return 1;
        return 0;
}

static int has_warn(const struct cfg *c, const char *a, const char *b)
{
        size_t i;

        for (i = 0; i < c->n_warnings; i++)
                if (strstr(c->warnings[i], a) && (!b || strstr(c->warnings[i], b)))
                        return 1;
        return 0;
}

/* Notes other than the one about unset self identities. */
static size_t other_notes(const struct cfg *c)
{
        size_t i, n = 0;

        for (i = 0; i < c->n_notes; i++)
                if (!strstr(c->notes[i], "self: no access key"))
                        n++;
        return n;
}

static int setup(void **state)
{
        (void)state;
        t_dir = tu_tmpdir();
        setenv("JIBE_TEST_PW", T_PW, 1);
        return t_dir ? 0 : -1;
}

static int teardown(void **state)
{
        (void)state;
        tu_rmrf(t_dir);
        free(t_dir);
        log_close();
        return 0;
}

static void test_defaults(void **state)
{
        struct cfg c;

        (void)state;
        cfg_init(&c);
        assert_null(c.aa_endpoint);
        assert_null(c.aa_login);
        assert_null(c.aa_password);
        assert_null(c.aa_authtoken);
        assert_null(c.aa_ca_file);
        assert_int_equal(c.aa_insecure, 0);
        assert_int_equal(c.aa_connect_timeout_ms, 10000);
        assert_int_equal(c.aa_timeout_ms, 120000);
        assert_int_equal(c.aa_max_retries, 5);
        assert_int_equal(c.aa_backoff_base_ms, 250);
        assert_int_equal(c.aa_backoff_max_ms, 30000);
        assert_int_equal(c.n_self_keys, 0);
        assert_int_equal(c.n_scan_sources, 0);
        assert_int_equal(c.n_scan_prefixes, 0);
        assert_int_equal(c.scan_interval_s, 180);
        assert_int_equal(c.scan_lookback_h, 48);
        assert_int_equal(c.scan_parents_every, 10);
        assert_int_equal(c.parse_provider_refresh_s, 300);
        assert_true(c.parse_max_decompressed == CT_MAX_DECOMPRESSED_DEFAULT);
        assert_true(c.parse_max_record == CT_MAX_RECORD_DEFAULT);
        assert_true(c.parse_indexing_rate > 99.9 && c.parse_indexing_rate < 100.1);
        assert_int_equal(c.parse_workers, 2);
        assert_int_equal(c.sync_window_ms, 2000);
        assert_int_equal(c.sync_batch_max, 500);
        assert_int_equal(c.sync_concurrency, 4);
        assert_int_equal(c.sync_max_attempts, 8);
        assert_int_equal(c.sync_backoff_base_ms, 500);
        assert_int_equal(c.sync_backoff_max_ms, 60000);
        assert_int_equal(c.queue_capacity, 10000);
        assert_string_equal(c.state_dir, "/var/lib/jibe");
        assert_string_equal(c.log_level, "info");
        assert_null(c.log_file);
        cfg_clear(&c);
        cfg_clear(&c);
        assert_null(c.state_dir);
}

static void test_full_file(void **state)
{
        struct cfg c;
        char err[512];
        char *ca = t_write("ca.pem", "-----BEGIN CERTIFICATE-----\n", 0644);
        char *text =
                t_fmt("# every option, none at its default\n"
                      "access_anywhere = {\n"
                      "  endpoint = \"https://aa.example.com/\";\n"
                      "  login = \"admin\";\n"
                      "  password_env = \"JIBE_TEST_PW\";\n"
                      "  ca_file = \"%s\";\n"
                      "  insecure = false;\n"
                      "  connect_timeout_ms = 5000; timeout_ms = 60000; max_retries = 0;\n"
                      "  backoff_base_ms = 100; backoff_max_ms = 1000;\n"
                      "};\n"
                      "self = {\n"
                      "  keys = [ \"AKIA1\", \"AKIA2\" ];\n"
                      "  arns = ( \"arn:aws:iam::1:user/aa\" );\n"
                      "  agents = [ \"SMEStorage\" ];\n"
                      "};\n"
                      "scanner = {\n"
                      "  interval_s = 60; lookback_h = 12; parents_every = 3;\n"
                      "  sources = [ \"S3 Prod\", \"102\" ];\n"
                      "  prefixes = ( { bucket = \"ct-logs\"; prefix = \"/trails/org/\"; },\n"
                      "               { prefix = \"\"; bucket = \"other\"; } );\n"
                      "};\n"
                      "parser = { max_decompressed = 5000000000L; max_record = \"512 KiB\";\n"
                      "           indexing_rate = 250; workers = 8; provider_refresh_s = 600; };\n"
                      "syncer = { window_ms = 100; batch_max = 50; concurrency = 2; max_attempts = 3;\n"
                      "           backoff_base_ms = 10; backoff_max_ms = 20; };\n"
                      "queue = { capacity = 42; };\n"
                      "state_dir = \"/srv/jibe\";\n"
                      "log_file = \"-\";\n"
                      "log_level = \"debug\";\n",
                      ca);

        (void)state;
        assert_int_equal(t_load(text, &c, err, sizeof(err)), JB_OK);
        assert_string_equal(c.aa_endpoint, "https://aa.example.com"); /* trailing / dropped */
        assert_string_equal(c.aa_login, "admin");
        assert_string_equal(c.aa_password, T_PW);
        assert_string_equal(c.aa_password_from, "password_env");
        assert_null(c.aa_authtoken);
        assert_string_equal(c.aa_ca_file, ca);
        assert_int_equal(c.aa_connect_timeout_ms, 5000);
        assert_int_equal(c.aa_timeout_ms, 60000);
        assert_int_equal(c.aa_max_retries, 0);
        assert_int_equal(c.aa_backoff_base_ms, 100);
        assert_int_equal(c.aa_backoff_max_ms, 1000);
        assert_int_equal(c.n_self_keys, 2);
        assert_string_equal(c.self_keys[1], "AKIA2");
        assert_int_equal(c.n_self_arns, 1);
        assert_string_equal(c.self_arns[0], "arn:aws:iam::1:user/aa");
        assert_int_equal(c.n_self_agents, 1);
        assert_int_equal(c.scan_interval_s, 60);
        assert_int_equal(c.scan_lookback_h, 12);
        assert_int_equal(c.scan_parents_every, 3);
        assert_int_equal(c.parse_provider_refresh_s, 600);
        assert_int_equal(c.n_scan_sources, 2);
        assert_string_equal(c.scan_sources[0], "S3 Prod");
        assert_string_equal(c.scan_sources[1], "102");
        assert_int_equal(c.n_scan_prefixes, 2);
        assert_string_equal(c.scan_prefixes[0].bucket, "ct-logs");
        assert_string_equal(c.scan_prefixes[0].prefix, "trails/org");
        assert_string_equal(c.scan_prefixes[1].bucket, "other");
        assert_string_equal(c.scan_prefixes[1].prefix, "");
        assert_true(c.parse_max_decompressed == 5000000000ULL);
        assert_true(c.parse_max_record == 512 * 1024);
        assert_true(c.parse_indexing_rate == 250.0);
        assert_int_equal(c.parse_workers, 8);
        assert_int_equal(c.sync_window_ms, 100);
        assert_int_equal(c.sync_batch_max, 50);
        assert_int_equal(c.sync_concurrency, 2);
        assert_int_equal(c.sync_max_attempts, 3);
        assert_int_equal(c.sync_backoff_base_ms, 10);
        assert_int_equal(c.sync_backoff_max_ms, 20);
        assert_int_equal(c.queue_capacity, 42);
        assert_string_equal(c.state_dir, "/srv/jibe");
        assert_string_equal(c.log_file, "-");
        assert_string_equal(c.log_level, "debug");
        assert_int_equal(other_notes(&c), 0);
        assert_non_null(c.path);
        cfg_clear(&c);
        cfg_clear(&c);
        free(text);
        free(ca);
}

static void test_sizes(void **state)
{
        static const struct {
                const char *v;
                uint64_t want;
        } ok[] = {
                {"1048576", 1048576},
                {"\"1M\"", 1 << 20},
                {"\"4G\"", 4ULL << 30},
                {"\"4g\"", 4ULL << 30},
                {"\"2 GiB\"", 2ULL << 30},
                {"\"3GB\"", 3ULL << 30},
                {"\"1T\"", 0},
                {"\"64G\"", 64ULL << 30},
                {"\"2097152\"", 2 << 20},
                {"2147483647", 2147483647},
                {"17179869184L", 16ULL << 30},
        };
        struct cfg c;
        char err[512], *text;
        size_t i;

        (void)state;
        for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
                int rc;

                text = t_fmt(HEAD "parser = { max_decompressed = %s; };\n", ok[i].v);
                rc = t_load(text, &c, err, sizeof(err));
                if (ok[i].want == 0) { /* 1T is above the 64G ceiling */
                        assert_int_equal(rc, JB_EINPUT);
                        assert_non_null(strstr(err, "between 1M and 64G, not 1T"));
                } else {
                        if (rc)
                                fail_msg("%s: %s", ok[i].v, err);
                        assert_true(c.parse_max_decompressed == ok[i].want);
                }
                cfg_clear(&c);
                free(text);
        }
}

struct bad {
        const char *text; /* after HEAD unless it starts with '!' */
        int line;         /* 0: no line expected */
        const char *setting;
        const char *msg;
};

static void test_errors(void **state)
{
        static const struct bad bad[] = {
                {"syncer = {\n  window_ms = 2000;\n  windw_ms = 3000;\n};\n", 7, "syncer.windw_ms",
                 "unknown setting (did you mean syncer.window_ms?)"},
                {"\n\nfrobnicate = 1;\n", 7, "frobnicate", "unknown setting"},
                {"scaner = { interval_s = 5; };\n", 5, "scaner", "did you mean scanner?"},
                {"syncer = { interval_s = 5; };\n", 5, "syncer.interval_s",
                 "did you mean scanner.interval_s?"},
                {"syncer = 5;\n", 5, "syncer", "must be a group"},
                {"syncer = {\n window_ms = \"2000\";\n};\n", 6, "syncer.window_ms",
                 "must be a whole number from 100 to 600000, not a string"},
                {"syncer = { window_ms = 2000.0; };\n", 5, "syncer.window_ms", "not a decimal number"},
                {"syncer = {\n\n window_ms = 50;\n};\n", 7, "syncer.window_ms",
                 "between 100 and 600000, not 50"},
                {"syncer = { window_ms = 4294969296; };\n", 5, "syncer.window_ms", "far too large"},
                {"queue = { capacity = -1; };\n", 5, "queue.capacity",
                 "between 10 and 10000000, not -1"},
                {"parser = {\n  max_record = \"12Q\";\n};\n", 6, "parser.max_record",
                 "\"12Q\" is not a size"},
                {"parser = { max_record = \"1.5M\"; };\n", 5, "parser.max_record", "is not a size"},
                {"parser = { max_record = \"2G\"; };\n", 5, "parser.max_record",
                 "between 64K and 1G, not 2G"},
                {"parser = { max_record = true; };\n", 5, "parser.max_record", "such as \"512M\""},
                {"parser = { max_decompressed = 5000000000; };\n", 5, "parser.max_decompressed",
                 "must be written as a string"},
                {"parser = { indexing_rate = 0.0; };\n", 5, "parser.indexing_rate", "between 0.01 and"},
                {"!access_anywhere = {\n endpoint = \"https://x\"; login = \"a\"; password_env = \"JIBE_TEST_PW\";\n"
                 " insecure = \"yes\";\n};\n",
                 3, "access_anywhere.insecure", "must be true or false, not a string"},
                {"state_dir = \"\";\n", 5, "state_dir", "is empty"},
                {"log_level = \"verbose\";\n", 5, "log_level",
                 "\"verbose\" is not one of: debug, info, warn, error"},
                {"log_level = 3;\n", 5, "log_level", "must be a string"},
                {"self = { keys = [ \"A\", \"\" ]; };\n", 5, "self.keys", "item 2 is empty"},
                {"self = { keys = ( \"A\",\n 7 ); };\n", 6, "self.keys", "item 2 must be a string"},
                {"self = { keys = \"AKIA\"; };\n", 5, "self.keys", "must be a list of strings"},
                {"scanner = { sources = [ \"a\", \"a\" ]; };\n", 5, "scanner.sources", "listed twice"},
                {"scanner = { prefixes = ( { bucket = \"b\"; } ); };\n", 5, "scanner.prefixes",
                 "needs both bucket and prefix"},
                {"scanner = { prefixes = ( { bucket = \"b\"; prefix = \"t/AWSLogs/\"; } ); };\n", 5,
                 "scanner.prefixes", "not AWSLogs itself"},
                {"scanner = {\n prefixes = ( { bucket = \"b\";\n prefx = \"t\"; } ); };\n", 7,
                 "scanner.prefixes", "unknown setting 'prefx'"},
                {"scanner = { prefixes = [ \"b/t\" ]; };\n", 5, "scanner.prefixes",
                 "must be a list of groups"},
                {"syncer = { backoff_base_ms = 5000; backoff_max_ms = 1000; };\n", 5,
                 "syncer.backoff_base_ms", "larger than backoff_max_ms"},
                {"!access_anywhere = {\n  login = \"a\";\n  password_env = \"JIBE_TEST_PW\";\n};\n", 1,
                 "access_anywhere.endpoint", "not set"},
                {"!login = \"x\";\n", 1, "login",
                 "unknown setting (did you mean access_anywhere.login?)"},
                {"!access_anywhere = {\n endpoint = \"ftp://x\"; login = \"a\"; password_env = \"JIBE_TEST_PW\";\n};\n",
                 2, "access_anywhere.endpoint", "must start with https://"},
                {"!access_anywhere = {\n endpoint = \"https://x/api/rpc.php\"; login = \"a\";\n"
                 " password_env = \"JIBE_TEST_PW\";\n};\n",
                 2, "access_anywhere.endpoint", "without /api/"},
                {"!access_anywhere = {\n endpoint = \"https:///\"; login = \"a\"; password_env = \"JIBE_TEST_PW\";\n};\n",
                 2, "access_anywhere.endpoint", "\"https:///\" is not an address"},
                {"!access_anywhere = {\n endpoint = \"https://x\";\n};\n", 1, "access_anywhere",
                 "no credentials"},
                {"!access_anywhere = {\n endpoint = \"https://x\"; login = \"a\";\n};\n", 1,
                 "access_anywhere.password", "not set"},
                {"!access_anywhere = {\n endpoint = \"https://x\"; password_env = \"JIBE_TEST_PW\";\n};\n",
                 1, "access_anywhere.login", "not set"},
                {"!access_anywhere = {\n endpoint = \"https://x\"; login = \"a\";\n password = \"p\";\n"
                 " password_env = \"JIBE_TEST_PW\";\n};\n",
                 4, "access_anywhere.password_env",
                 "password_env is also given by password (line 3): give the password one way only"},
                {"!access_anywhere = {\n endpoint = \"https://x\"; login = \"a\";\n password_file = \"/nonexistent/pw\";\n"
                 " password = \"p\";\n};\n",
                 4, "access_anywhere.password", "password is also given by password_file (line 3)"},
                {"!access_anywhere = {\n endpoint = \"https://x\"; login = \"a\";\n authtoken_env = \"JIBE_TEST_PW\";\n"
                 " authtoken_file = \"/x\";\n};\n",
                 4, "access_anywhere.authtoken_file", "also given by authtoken_env (line 3)"},
                {"!access_anywhere = {\n endpoint = \"https://x\"; login = \"a\";\n\n password_file = \"/nonexistent/pw\";\n};\n",
                 4, "access_anywhere.password_file",
                 "cannot read /nonexistent/pw: No such file or directory"},
                {"!access_anywhere = {\n endpoint = \"https://x\"; login = \"a\";\n password_file = \"/\";\n};\n",
                 3, "access_anywhere.password_file", "/ is not a regular file"},
                {"!access_anywhere = {\n endpoint = \"https://x\"; login = \"a\";\n password_env = \"JIBE_UNSET_VAR_1\";\n};\n",
                 3, "access_anywhere.password_env",
                 "the environment variable JIBE_UNSET_VAR_1 is not set"},
                {"!access_anywhere = {\n endpoint = \"https://x\"; login = \"a\";\n password_env = \"A B\";\n};\n",
                 3, "access_anywhere.password_env", "not an environment variable name"},
                {"!access_anywhere = {\n endpoint = \"https://x\"; login = \"a\";\n password = \"\";\n};\n",
                 3, "access_anywhere.password", "is empty"},
                {"!access_anywhere = {\n endpoint = \"https://x\"; login = \"a\"; password_env = \"JIBE_TEST_PW\";\n"
                 " ca_file = \"/nonexistent/ca.pem\";\n};\n",
                 3, "access_anywhere.ca_file", "cannot read /nonexistent/ca.pem"},
                {"!access_anywhere = {\n endpoint = \"https://x\"; login = \"a\";\n"
                 " credentials_json = \"/nonexistent/c.json\";\n};\n",
                 3, "access_anywhere.credentials_json", "cannot read /nonexistent/c.json"},
        };
        struct cfg c;
        char err[1024], *text, *path = t_path("jibe.cfg"), *want;
        size_t i;

        (void)state;
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                const char *b = bad[i].text;
                int rc;

                text = b[0] == '!' ? t_fmt("%s", b + 1) : t_fmt(HEAD "%s", b);
                err[0] = '\0';
                rc = t_load(text, &c, err, sizeof(err));
                if (rc != JB_EINPUT)
                        fail_msg("case %zu: rc %d (%s) for:\n%s", i, rc, err, text);
                if (bad[i].line)
                        want = t_fmt("%s:%d: %s: ", path, bad[i].line, bad[i].setting);
                else
                        want = t_fmt("%s: %s: ", path, bad[i].setting);
                if (strncmp(err, want, strlen(want)) != 0 || (bad[i].msg && !strstr(err, bad[i].msg)))
                        fail_msg("case %zu: got '%s', want '%s...%s'", i, err, want,
                                 bad[i].msg ? bad[i].msg : "");
                /* a failed load leaves nothing behind and may be cleared again */
                assert_null(c.path);
                assert_null(c.state_dir);
                cfg_clear(&c);
                free(want);
                free(text);
        }
        free(path);
}

static void test_parse_and_io_errors(void **state)
{
        struct cfg c;
        char err[512], *p, *want;

        (void)state;
        /* libconfig's own message, with its file and line */
        assert_int_equal(t_load(HEAD "syncer = {\n  window_ms = ;\n};\n", &c, err, sizeof(err)),
                         JB_EINPUT);
        p = t_path("jibe.cfg");
        want = t_fmt("%s:6: syntax error", p);
        assert_string_equal(err, want);
        free(want);
        free(p);
        cfg_clear(&c);

        /* an included file's errors name the included file */
        p = t_write("inc.cfg", "queue = { capacity = 1; };\n", 0600);
        want = t_fmt(HEAD "@include \"%s\"\n", p);
        assert_int_equal(t_load(want, &c, err, sizeof(err)), JB_EINPUT);
        free(want);
        want = t_fmt("%s:1: queue.capacity: must be between", p);
        assert_non_null(strstr(err, want));
        free(want);
        free(p);

        p = t_path("missing.cfg");
        assert_int_equal(cfg_load(&c, p, err, sizeof(err)), JB_EIO);
        assert_non_null(strstr(err, "cannot read configuration file"));
        assert_non_null(strstr(err, "No such file"));
        free(p);
        cfg_clear(&c);
        cfg_clear(&c);
}

static void test_password_file(void **state)
{
        struct cfg c;
        char err[512], *pw, *text;

        (void)state;
        pw = t_write("pw", T_FILE_PW "\nsecond line ignored\n", 0600);
        text = t_fmt(
                "access_anywhere = { endpoint = \"https://x\"; login = \"a\"; password_file = \"%s\"; };\n",
                pw);
        assert_int_equal(t_load(text, &c, err, sizeof(err)), JB_OK);
        assert_string_equal(c.aa_password, T_FILE_PW);
        assert_string_equal(c.aa_password_from, "password_file");
        assert_string_equal(c.aa_password_file, pw);
        assert_int_equal(other_notes(&c), 0);
        assert_int_equal(c.n_warnings, 0);
        cfg_clear(&c);
        free(pw);

        /* CRLF, no final newline needed; a group-readable file is a warning, not an error */
        pw = t_write("pw", T_FILE_PW "\r\n", 0640);
        assert_int_equal(t_load(text, &c, err, sizeof(err)), JB_OK);
        assert_string_equal(c.aa_password, T_FILE_PW);
        assert_true(has_warn(&c, "its group (mode 0640)", "chmod 600"));
        assert_int_equal(c.n_warnings, 1);
        assert_int_equal(other_notes(&c), 0);
        cfg_clear(&c);
        free(pw);
        pw = t_write("pw", T_FILE_PW, 0604);
        assert_int_equal(t_load(text, &c, err, sizeof(err)), JB_OK);
        assert_string_equal(c.aa_password, T_FILE_PW);
        assert_true(has_warn(&c, "every user (mode 0604)", pw));
        cfg_clear(&c);
        free(pw);

        /* an empty first line is an error */
        pw = t_write("pw", "\n" T_FILE_PW "\n", 0600);
        assert_int_equal(t_load(text, &c, err, sizeof(err)), JB_EINPUT);
        assert_non_null(strstr(err, ":1: access_anywhere.password_file: the first line of"));
        cfg_clear(&c);
        /* a file jibe may not read (only meaningful when not running as root) */
        if (geteuid() != 0) {
                assert_int_equal(chmod(pw, 0), 0);
                assert_int_equal(t_load(text, &c, err, sizeof(err)), JB_EINPUT);
                assert_non_null(strstr(err, "Permission denied"));
                cfg_clear(&c);
        }
        free(pw);
        free(text);

        /* the token the same way */
        pw = t_write("tok", T_TOKEN "\n", 0600);
        text = t_fmt("access_anywhere = { endpoint = \"https://x\"; authtoken_file = \"%s\"; };\n", pw);
        assert_int_equal(t_load(text, &c, err, sizeof(err)), JB_OK);
        assert_string_equal(c.aa_authtoken, T_TOKEN);
        assert_string_equal(c.aa_authtoken_from, "authtoken_file");
        assert_null(c.aa_login);
        assert_null(c.aa_password);
        cfg_clear(&c);
        free(pw);
        free(text);
}

static void test_password_env_and_inline(void **state)
{
        struct cfg c;
        char err[512];

        (void)state;
        assert_int_equal(t_load(HEAD, &c, err, sizeof(err)), JB_OK);
        assert_string_equal(c.aa_password, T_PW);
        assert_string_equal(c.aa_password_env, "JIBE_TEST_PW");
        assert_int_equal(other_notes(&c), 0);
        cfg_clear(&c);

        setenv("JIBE_TEST_TOKEN", T_TOKEN, 1);
        assert_int_equal(
                t_load("access_anywhere = { endpoint = \"http://127.0.0.1:8080\";\n"
                       " authtoken_env = \"JIBE_TEST_TOKEN\"; insecure = true; allow_http = true; };\n",
                       &c, err, sizeof(err)),
                JB_OK);
        assert_string_equal(c.aa_authtoken, T_TOKEN);
        assert_string_equal(c.aa_authtoken_from, "authtoken_env");
        assert_int_equal(c.aa_insecure, 1);
        assert_true(has_warn(&c, "access_anywhere.endpoint is http://", "test simulator"));
        assert_true(has_warn(&c, "access_anywhere.insecure is true", NULL));
        assert_int_equal(other_notes(&c), 0);
        cfg_clear(&c);
        unsetenv("JIBE_TEST_TOKEN");

        /* written in the file: accepted, with a warning */
        assert_int_equal(t_load("access_anywhere = { endpoint = \"https://x\"; login = \"a\";\n"
                                " password = \"inline-Secret\"; };\n",
                                &c, err, sizeof(err)),
                         JB_OK);
        assert_string_equal(c.aa_password, "inline-Secret");
        assert_string_equal(c.aa_password_from, "password");
        assert_true(has_warn(&c, "access_anywhere.password is written in", "password_file"));
        assert_int_equal(c.n_warnings, 1);
        assert_int_equal(other_notes(&c), 0);
        cfg_clear(&c);
}

static void test_credentials_json(void **state)
{
        struct cfg c;
        char err[512], *js, *text;

        (void)state;
        js = t_write(
                "jibe-config.json",
                "{\"endpoint\": \"https://json.example.com\", \"login\": \"jlogin\", \"password\": \"json-Secret\","
                " \"other\": 1}",
                0600);
        text = t_fmt("access_anywhere = { credentials_json = \"%s\"; };\n", js);
        assert_int_equal(t_load(text, &c, err, sizeof(err)), JB_OK);
        assert_string_equal(c.aa_endpoint, "https://json.example.com");
        assert_string_equal(c.aa_login, "jlogin");
        assert_string_equal(c.aa_password, "json-Secret");
        assert_string_equal(c.aa_password_from, "credentials_json");
        assert_int_equal(other_notes(&c), 0);
        cfg_clear(&c);
        free(text);

        /* the cfg file wins over the JSON file */
        text = t_fmt(
                "access_anywhere = { credentials_json = \"%s\";\n endpoint = \"https://cfg.example.com\";\n"
                " login = \"clogin\"; password_env = \"JIBE_TEST_PW\"; };\n",
                js);
        assert_int_equal(t_load(text, &c, err, sizeof(err)), JB_OK);
        assert_string_equal(c.aa_endpoint, "https://cfg.example.com");
        assert_string_equal(c.aa_login, "clogin");
        assert_string_equal(c.aa_password, T_PW);
        assert_string_equal(c.aa_password_from, "password_env");
        cfg_clear(&c);
        free(text);

        /* only some values: the others come from the JSON file */
        text = t_fmt("access_anywhere = { login = \"clogin\";\n credentials_json = \"%s\"; };\n", js);
        assert_int_equal(t_load(text, &c, err, sizeof(err)), JB_OK);
        assert_string_equal(c.aa_endpoint, "https://json.example.com");
        assert_string_equal(c.aa_login, "clogin");
        assert_string_equal(c.aa_password, "json-Secret");
        cfg_clear(&c);
        free(js);

        /* a readable-by-others JSON file that supplied the password is a warning */
        js = t_write("jibe-config.json",
                     "{\"endpoint\": \"https://j\", \"login\": \"l\", \"password\": \"pp-1\"}", 0644);
        assert_int_equal(t_load(text, &c, err, sizeof(err)), JB_OK);
        assert_true(has_warn(&c, "credentials_json", "chmod 600"));
        cfg_clear(&c);
        free(js);

        js = t_write("jibe-config.json", "{\"endpoint\": \"https://j\", \"login\": 5}", 0600);
        assert_int_equal(t_load(text, &c, err, sizeof(err)), JB_EINPUT);
        assert_non_null(strstr(err, ":2: access_anywhere.credentials_json: "));
        assert_non_null(strstr(err, "\"login\" must be a string"));
        cfg_clear(&c);
        free(js);
        js = t_write("jibe-config.json", "[1, 2]", 0600);
        assert_int_equal(t_load(text, &c, err, sizeof(err)), JB_EINPUT);
        assert_non_null(strstr(err, "is not a JSON object"));
        cfg_clear(&c);
        free(js);
        js = t_write("jibe-config.json", "{\"endpoint\": ", 0600);
        assert_int_equal(t_load(text, &c, err, sizeof(err)), JB_EINPUT);
        assert_non_null(strstr(err, "is not a JSON object"));
        cfg_clear(&c);
        free(js);
        /* no endpoint anywhere: the error names the endpoint */
        js = t_write("jibe-config.json", "{\"password\": \"pp-2\"}", 0600);
        assert_int_equal(t_load(text, &c, err, sizeof(err)), JB_EINPUT);
        assert_non_null(strstr(err, ":1: access_anywhere.endpoint: not set"));
        cfg_clear(&c);
        free(js);
        free(text);
}

static void test_dump_hides_secrets(void **state)
{
        struct cfg c, c2;
        char err[512], *pw, *text, *d1, *d2, *p2, *body1, *body2;
        char *log = t_path("log");
        size_t n;

        (void)state;
        setenv("JIBE_TEST_TOKEN", T_TOKEN, 1);
        pw = t_write("pw", T_FILE_PW "\n", 0600);
        text = t_fmt(
                "access_anywhere = { endpoint = \"https://x\"; login = \"a\"; password_file = \"%s\";\n"
                " authtoken_env = \"JIBE_TEST_TOKEN\"; };\n"
                "self = { agents = [ \"quote\\\"and\\\\slash\" ]; };\n"
                "parser = { max_record = 1000000; max_decompressed = 5000000001L; indexing_rate = 0.5; };\n",
                pw);
        assert_int_equal(t_load(text, &c, err, sizeof(err)), JB_OK);
        d1 = t_dump(&c);
        assert_null(strstr(d1, T_FILE_PW));
        assert_null(strstr(d1, T_TOKEN));
        assert_non_null(strstr(d1, "# password = \"***\";  (from password_file)"));
        assert_non_null(strstr(d1, "# authtoken = \"***\";  (from authtoken_env)"));
        assert_non_null(strstr(d1, "max_record = 1000000;"));
        assert_non_null(strstr(d1, "max_decompressed = 5000000001L;"));

        /* the dump is a configuration file that loads to the same values */
        p2 = t_write("dump.cfg", d1, 0600);
        assert_int_equal(cfg_load(&c2, p2, err, sizeof(err)), JB_OK);
        d2 = t_dump(&c2);
        body1 = strchr(d1, '\n');
        body2 = strchr(d2, '\n');
        assert_non_null(body1);
        assert_non_null(body2);
        assert_string_equal(body1, body2);
        assert_string_equal(c2.self_agents[0], "quote\"and\\slash");
        assert_true(c2.parse_indexing_rate == 0.5);
        cfg_clear(&c2);
        free(d2);
        free(p2);
        free(d1);
        cfg_clear(&c);
        free(text);

        /* a password written in the file is dumped as *** too (log_close() empties the
         * logger's list of secrets, which earlier tests have filled) */
        log_close();
        assert_int_equal(t_load("access_anywhere = { endpoint = \"https://x\"; login = \"a\";\n"
                                " password = \"inline-Secret\"; };\n",
                                &c, err, sizeof(err)),
                         JB_OK);
        d1 = t_dump(&c);
        assert_null(strstr(d1, "inline-Secret"));
        assert_non_null(strstr(d1, "        password = \"***\";\n"));

        /* and loading registered the secrets with the logger */
        assert_int_equal(log_open(log, LL_INFO, err, sizeof(err)), JB_OK);
        log_msg(LL_ERROR, "test", "pw=%s.", c.aa_password);
        log_close();
        d2 = tu_slurp(log, &n);
        assert_non_null(d2);
        assert_null(strstr(d2, "inline-Secret"));
        assert_non_null(strstr(d2, "pw=***."));
        free(d2);
        free(d1);
        cfg_clear(&c);
        cfg_clear(&c);
        free(pw);
        free(log);
        unsetenv("JIBE_TEST_TOKEN");
}

/* deploy/jibe.cfg.example is cfg_example()'s output, loads, and shows every option. */
static void test_example_file(void **state)
{
        const char *top = getenv("JIBE_TOP");
        char *path, *text, *gen = NULL, *fixed, *at, err[512];
        const char *pwpath = "password_file = \"/etc/jibe/aa-password\"";
        size_t n = 0, i;
        FILE *fp;
        struct cfg c;
        char *pw = t_write("pw", T_FILE_PW "\n", 0600);

        (void)state;
        path = t_fmt("%s/deploy/jibe.cfg.example", top && *top ? top : ".");
        text = tu_slurp(path, NULL);
        if (!text)
                fail_msg("cannot read %s (run from the repository root or set JIBE_TOP)", path);
        fp = open_memstream(&gen, &n);
        assert_non_null(fp);
        cfg_example(fp);
        assert_int_equal(fclose(fp), 0);
        if (strcmp(text, gen) != 0)
                fail_msg("%s differs from 'jibe check-config --example': regenerate it", path);

        /* every option appears, set or commented, inside its group */
        for (i = 0; i < cfg_option_count(); i++) {
                const char *name = cfg_option_name(i), *dot = strchr(name, '.');
                char *set, *com, *grp;
                const char *g0 = text, *g1;

                if (dot) {
                        grp = t_fmt("\n%.*s = {\n", (int)(dot - name), name);
                        g0 = strstr(text, grp);
                        assert_non_null(g0);
                        free(grp);
                        set = t_fmt("\n        %s = ", dot + 1);
                        com = t_fmt("\n        # %s = ", dot + 1);
                } else {
                        g0 = strrchr(text, '}');
                        set = t_fmt("\n%s = ", name);
                        com = t_fmt("\n# %s = ", name);
                }
                g1 = strstr(g0 + 1, "\n}");
                at = strstr(g0, set);
                if (!at)
                        at = strstr(g0, com);
                if (!at || (dot && at > g1))
                        fail_msg("%s is not in the example file", name);
                free(set);
                free(com);
        }
        assert_null(cfg_option_name(cfg_option_count()));

        /* it loads, once the password file exists */
        at = strstr(text, pwpath);
        assert_non_null(at);
        fixed = t_fmt("%.*spassword_file = \"%s\"%s", (int)(at - text), text, pw, at + strlen(pwpath));
        if (t_load(fixed, &c, err, sizeof(err)) != JB_OK)
                fail_msg("the example does not load: %s", err);
        assert_string_equal(c.aa_password, T_FILE_PW);
        assert_int_equal(c.n_scan_sources, 1);
        assert_int_equal(c.n_scan_prefixes, 1);
        assert_int_equal(c.n_notes, 0);
        assert_int_equal(c.n_warnings, 0);
        cfg_clear(&c);
        /* and as shipped, it fails only on the missing password file */
        assert_int_equal(cfg_load(&c, path, err, sizeof(err)), JB_EINPUT);
        assert_non_null(strstr(err, "access_anywhere.password_file: cannot read /etc/jibe/aa-password"));
        cfg_clear(&c);
        free(fixed);
        free(gen);
        free(text);
        free(path);
        free(pw);
}

/* The kafka group: defaults, limits, "name=value" passthrough, secrets never dumped or logged. */
static void test_kafka(void **state)
{
        struct cfg c;
        char err[512], *d, *log = t_path("klog");
        size_t n;

        (void)state;
        cfg_init(&c);
        assert_null(c.kafka_brokers);
        assert_string_equal(c.kafka_topic_prefix, "jibe.");
        assert_int_equal(c.kafka_partitions, 6);
        assert_int_equal(c.kafka_replication, 3);
        assert_int_equal(c.kafka_retention_h, 168);
        assert_null(c.kafka_instance_id);
        assert_int_equal(c.kafka_max_inflight, 1000);
        assert_int_equal(c.n_kafka_rdkafka, 0);
        cfg_clear(&c);

        log_close();
        assert_int_equal(
                t_load(HEAD
                       "kafka = { brokers = \"k1:9092,k2:9092\"; topic_prefix = \"prod_jibe-\";\n"
                       " partitions = 12; replication = 1; retention_h = 24; instance_id = \"parse-a\";\n"
                       " max_inflight = 50;\n"
                       " rdkafka = [ \"security.protocol=sasl_ssl\", \"sasl.password=kafka-Secret\",\n"
                       "             \"ssl.key.password=key-Secret\" ]; };\n",
                       &c, err, sizeof(err)),
                JB_OK);
        assert_string_equal(c.kafka_brokers, "k1:9092,k2:9092");
        assert_string_equal(c.kafka_topic_prefix, "prod_jibe-");
        assert_int_equal(c.kafka_partitions, 12);
        assert_int_equal(c.kafka_replication, 1);
        assert_int_equal(c.kafka_retention_h, 24);
        assert_string_equal(c.kafka_instance_id, "parse-a");
        assert_int_equal(c.kafka_max_inflight, 50);
        assert_int_equal(c.n_kafka_rdkafka, 3);
        assert_string_equal(c.kafka_rdkafka[1], "sasl.password=kafka-Secret");
        d = t_dump(&c);
        assert_null(strstr(d, "kafka-Secret"));
        assert_null(strstr(d, "key-Secret"));
        assert_non_null(strstr(d, "rdkafka = [ \"security.protocol=sasl_ssl\", \"sasl.password=***\", "
                                  "\"ssl.key.password=***\" ];"));
        free(d);
        assert_int_equal(log_open(log, LL_INFO, err, sizeof(err)), JB_OK);
        log_msg(LL_ERROR, "test", "conf %s", c.kafka_rdkafka[1]);
        log_close();
        d = tu_slurp(log, &n);
        assert_non_null(d);
        assert_null(strstr(d, "kafka-Secret"));
        free(d);
        cfg_clear(&c);

        /* errors name the setting and the line */
        assert_int_equal(t_load(HEAD "kafka = { rdkafka = [ \"security.protocol\" ]; };\n", &c, err,
                                sizeof(err)),
                         JB_EINPUT);
        assert_non_null(strstr(err, ":5: kafka.rdkafka: item 1 must look like \"name=value\""));
        assert_int_equal(t_load(HEAD "kafka = { rdkafka = [ \"=x\" ]; };\n", &c, err, sizeof(err)),
                         JB_EINPUT);
        assert_int_equal(t_load(HEAD "kafka = { topic_prefix = \"jibe/\"; };\n", &c, err, sizeof(err)),
                         JB_EINPUT);
        assert_non_null(strstr(err, ":5: kafka.topic_prefix: \"jibe/\""));
        assert_int_equal(t_load(HEAD "kafka = { brokers = \"a:1, b:2\"; };\n", &c, err, sizeof(err)),
                         JB_EINPUT);
        assert_non_null(strstr(err, "kafka.brokers"));
        assert_int_equal(t_load(HEAD "kafka = { partitions = 0; };\n", &c, err, sizeof(err)), JB_EINPUT);
        assert_non_null(strstr(err, ":5: kafka.partitions: must be between 1 and 1000, not 0"));
        assert_int_equal(t_load(HEAD "kafka = { brokers = \"\"; };\n", &c, err, sizeof(err)), JB_EINPUT);
        assert_int_equal(t_load(HEAD "kafka = { partition = 3; };\n", &c, err, sizeof(err)), JB_EINPUT);
        assert_non_null(strstr(err, "did you mean kafka.partitions?"));
        cfg_clear(&c);
        free(log);
}

/* No self identity: a note saying what jibe cannot do; syncer.method and its choices. */
static void test_self_note_and_method(void **state)
{
        struct cfg c;
        char err[512];

        (void)state;
        assert_int_equal(t_load(HEAD, &c, err, sizeof(err)), JB_OK);
        assert_true(has_note(&c, "self: no access key", "self.keys"));
        assert_string_equal(c.sync_method, "auto");
        assert_int_equal(c.sync_bucket_refresh_per_s, 20);
        assert_int_equal(c.scan_refresh_concurrency, 8);
        assert_int_equal(c.aa_refresh_timeout_s, 300);
        cfg_clear(&c);
        assert_int_equal(t_load(HEAD "self = { agents = [ \"SMEStorage\" ]; };\n"
                                     "syncer = { method = \"refresh\"; };\n",
                                &c, err, sizeof(err)),
                         JB_OK);
        assert_false(has_note(&c, "self: no access key", NULL));
        assert_string_equal(c.sync_method, "refresh");
        cfg_clear(&c);
        assert_int_equal(t_load(HEAD "syncer = { method = \"sometimes\"; };\n", &c, err, sizeof(err)),
                         JB_EINPUT);
        assert_non_null(strstr(err, "syncer.method"));
        assert_non_null(strstr(err, "refresh"));
        cfg_clear(&c);
}

/* A renamed option: the old name is still accepted (with a note naming the new one), gives
 * the same value, and its errors name what the file says; giving both names is an error
 * naming both. The dump and the example file show only the new name. */
static void test_deprecated_names(void **state)
{
        struct cfg c;
        char err[512], *dump;
        const char *pg, *sg;
        size_t i;

        (void)state;
        /* the new name: no note */
        assert_int_equal(t_load(HEAD "parser = { provider_refresh_s = 600; };\n", &c, err, sizeof(err)),
                         JB_OK);
        assert_int_equal(c.parse_provider_refresh_s, 600);
        assert_int_equal(other_notes(&c), 0);
        cfg_clear(&c);

        /* the old name: same value, one note with the file, line, both names */
        assert_int_equal(t_load(HEAD "scanner = { interval_s = 60;\n  provider_refresh_s = 700; };\n",
                                &c, err, sizeof(err)),
                         JB_OK);
        assert_int_equal(c.parse_provider_refresh_s, 700);
        assert_int_equal(c.scan_interval_s, 60);
        assert_int_equal(other_notes(&c), 1);
        assert_true(has_note(&c, "jibe.cfg:6: scanner.provider_refresh_s is deprecated",
                             "write parser.provider_refresh_s instead"));
        assert_int_equal(c.n_warnings, 0);
        dump = t_dump(&c);
        pg = strstr(dump, "\nparser = {\n");
        sg = strstr(dump, "\nsyncer = {\n");
        assert_non_null(pg);
        assert_non_null(sg);
        assert_non_null(strstr(pg, "        provider_refresh_s = 700;\n"));
        assert_true(strstr(pg, "        provider_refresh_s = 700;\n") < sg);
        assert_non_null(strstr(dump, "\nscanner = {\n"));
        assert_true(strstr(dump, "provider_refresh_s") >
                    pg); /* not in the scanner group (printed first) */
        free(dump);
        cfg_clear(&c);

        /* errors name the old name as written */
        assert_int_equal(t_load(HEAD "scanner = { provider_refresh_s = 5; };\n", &c, err, sizeof(err)),
                         JB_EINPUT);
        assert_non_null(
                strstr(err,
                       "jibe.cfg:5: scanner.provider_refresh_s: must be between 10 and 86400, not 5"));
        cfg_clear(&c);

        /* both names, in either order: an error at the second naming both */
        assert_int_equal(t_load(HEAD "scanner = { provider_refresh_s = 600; };\n"
                                     "parser = { provider_refresh_s = 700; };\n",
                                &c, err, sizeof(err)),
                         JB_EINPUT);
        assert_non_null(strstr(err, "jibe.cfg:6: parser.provider_refresh_s: "));
        assert_non_null(strstr(err, "scanner.provider_refresh_s (line 5)"));
        cfg_clear(&c);
        assert_int_equal(t_load(HEAD "parser = { provider_refresh_s = 700; };\n"
                                     "scanner = {\n  provider_refresh_s = 600; };\n",
                                &c, err, sizeof(err)),
                         JB_EINPUT);
        assert_non_null(strstr(err, "jibe.cfg:7: scanner.provider_refresh_s: "));
        assert_non_null(strstr(err, "parser.provider_refresh_s (line 5)"));
        cfg_clear(&c);

        /* the alias table: every old name is no option of its own, every new one is */
        assert_true(cfg_alias_count() >= 1);
        for (i = 0; i < cfg_alias_count(); i++) {
                const char *cur = NULL, *old = cfg_alias_name(i, &cur);
                size_t k, found = 0;

                assert_non_null(old);
                assert_non_null(cur);
                for (k = 0; k < cfg_option_count(); k++) {
                        assert_string_not_equal(cfg_option_name(k), old);
                        found += strcmp(cfg_option_name(k), cur) == 0;
                }
                assert_int_equal(found, 1);
        }
        assert_null(cfg_alias_name(cfg_alias_count(), NULL));
        assert_string_equal(cfg_alias_name(0, NULL), "scanner.provider_refresh_s");
}

/* Insecure settings: http:// refused unless allowed (then a warning), credentials in the
 * address refused without ever printing them, librdkafka secrets in the file warned about,
 * the log file created 0640 under any umask, and the userinfo of a URL never logged. */
static void test_insecure_settings(void **state)
{
        struct cfg c;
        char err[512], *path, *text, line[4096];
        struct stat st;
        mode_t old;
        FILE *fp;

        (void)state;
        /* http:// without allow_http: refused, saying how to allow it */
        assert_int_equal(t_load("access_anywhere = { endpoint = \"http://127.0.0.1:8080\";\n"
                                " login = \"a\"; password_env = \"JIBE_TEST_PW\"; };\n",
                                &c, err, sizeof(err)),
                         JB_EINPUT);
        assert_non_null(
                strstr(err, ":1: access_anywhere.endpoint: \"http://127.0.0.1:8080\" is http://"));
        assert_non_null(strstr(err, "allow_http = true"));
        cfg_clear(&c);
        /* allowed: a warning, not a note */
        assert_int_equal(
                t_load("access_anywhere = { endpoint = \"http://127.0.0.1:8080\"; allow_http = true;\n"
                       " login = \"a\"; password_env = \"JIBE_TEST_PW\"; };\n",
                       &c, err, sizeof(err)),
                JB_OK);
        assert_int_equal(c.aa_allow_http, 1);
        assert_int_equal(c.n_warnings, 1);
        assert_true(has_warn(&c, "is http:// (allow_http = true)", "unencrypted"));
        assert_int_equal(other_notes(&c), 0);
        cfg_clear(&c);
        /* allow_http changes nothing for https:// */
        assert_int_equal(t_load("access_anywhere = { endpoint = \"https://x\"; allow_http = true;\n"
                                " login = \"a\"; password_env = \"JIBE_TEST_PW\"; };\n",
                                &c, err, sizeof(err)),
                         JB_OK);
        assert_int_equal(c.n_warnings, 0);
        cfg_clear(&c);

        /* credentials in the address: refused, the secret never in the message */
        assert_int_equal(
                t_load("access_anywhere = { endpoint = \"https://admin:Url-S3cret@aa.example.com/x\";\n"
                       " login = \"a\"; password_env = \"JIBE_TEST_PW\"; };\n",
                       &c, err, sizeof(err)),
                JB_EINPUT);
        assert_non_null(strstr(err, "\"https://***@aa.example.com/x\" has a user name or password"));
        assert_null(strstr(err, "Url-S3cret"));
        assert_null(strstr(err, "admin"));
        cfg_clear(&c);
        /* ... whatever the scheme, with an '@' in the password, from credentials_json too */
        assert_int_equal(t_load("access_anywhere = { endpoint = \"ftp://u:p@ss@h\";\n"
                                " login = \"a\"; password_env = \"JIBE_TEST_PW\"; };\n",
                                &c, err, sizeof(err)),
                         JB_EINPUT);
        assert_non_null(strstr(err, "\"ftp://***@h\""));
        assert_null(strstr(err, "ss@"));
        cfg_clear(&c);
        path = t_write("creds.json",
                       "{\"endpoint\": \"http://u:Json-S3cret@127.0.0.1:9\", \"login\": \"l\", "
                       "\"password\": \"pp-3\"}",
                       0600);
        text = t_fmt("access_anywhere = { credentials_json = \"%s\"; allow_http = true; };\n", path);
        assert_int_equal(t_load(text, &c, err, sizeof(err)), JB_EINPUT);
        assert_non_null(strstr(err, "has a user name or password"));
        assert_null(strstr(err, "Json-S3cret"));
        cfg_clear(&c);
        free(text);
        free(path);
        /* an '@' in the path is not user information */
        assert_int_equal(t_load("access_anywhere = { endpoint = \"https://aa.example.com/p@th\";\n"
                                " login = \"a\"; password_env = \"JIBE_TEST_PW\"; };\n",
                                &c, err, sizeof(err)),
                         JB_OK);
        cfg_clear(&c);

        /* a librdkafka secret written in the file: a warning naming the property, not its value */
        assert_int_equal(t_load(HEAD "kafka = { rdkafka = [ \"sasl.password=Kafka-S3cret\" ]; };\n", &c,
                                err, sizeof(err)),
                         JB_OK);
        assert_true(has_warn(&c, "kafka.rdkafka: the secret sasl.password is written in", "chmod 600"));
        assert_false(has_warn(&c, "Kafka-S3cret", NULL));
        cfg_clear(&c);

        /* the log file: 0640 even under umask 000, an old 0666 one brought down to 0640 */
        path = t_fmt("%s/new.log", t_dir);
        old = umask(0);
        assert_int_equal(log_open(path, LL_INFO, err, sizeof(err)), JB_OK);
        umask(old);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0640);
        /* and a URL's user information never reaches it */
        log_msg(LL_WARN, "t", "cannot reach https://usr:Log-S3cret@h.example.com/api and ftp://a@b/");
        log_close();
        fp = fopen(path, "r");
        assert_non_null(fp);
        assert_non_null(fgets(line, sizeof(line), fp));
        fclose(fp);
        assert_null(strstr(line, "Log-S3cret"));
        assert_non_null(strstr(line, "https://***@h.example.com/api and ftp://*@b/"));
        free(path);
        path = t_write("old.log", "", 0666);
        assert_int_equal(chmod(path, 0666), 0);
        assert_int_equal(log_open(path, LL_INFO, err, sizeof(err)), JB_OK);
        log_close();
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0640);
        free(path);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_full_file),
                cmocka_unit_test(test_sizes),
                cmocka_unit_test(test_errors),
                cmocka_unit_test(test_parse_and_io_errors),
                cmocka_unit_test(test_password_file),
                cmocka_unit_test(test_password_env_and_inline),
                cmocka_unit_test(test_credentials_json),
                cmocka_unit_test(test_dump_hides_secrets),
                cmocka_unit_test(test_example_file),
                cmocka_unit_test(test_kafka),
                cmocka_unit_test(test_self_note_and_method),
                cmocka_unit_test(test_insecure_settings),
                cmocka_unit_test(test_deprecated_names),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
