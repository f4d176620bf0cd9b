/*
 * cfg_cli.c - `jibe check-config`: load and validate a configuration file, print the warnings
 * (settings that weaken security) and notes an administrator should read, and on request the
 * effective values (--dump, secrets as "***") or a commented example file (--example).
 * It reports every mistake of the file in one run (cfg_check_all()), then checks what only
 * the machine can tell: that state_dir and log_file are writable by the user running it (a
 * probe file is created and removed; nothing else is written). With --connect it also signs
 * in to Access Anywhere, looks for the sources' log roots and, when kafka.brokers is set,
 * reads the topics' metadata; every check prints one line "ok: ..." or "FAILED: ...".
 * Owns nothing beyond one struct cfg per run.
 *
 * Exit codes: 0 the file is valid (and every --connect check passed, or --example), 1 it is
 * not (or a check failed), 2 usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aa.h"
#include "cfg.h"
#include "cli.h"
#include "kadmin.h"
#include "kconf.h"
#include "log.h"
#include "status_store.h"

static void usage(FILE *fp)
{
        fprintf(fp,
                "usage: jibe check-config [-c FILE] [--dump] [--connect]\n"
                "       jibe check-config --example | --man\n\n"
                "Checks a jibe configuration file: every mistake is reported with its file, line and\n"
                "setting, all of them in one run. Then it checks that state_dir and log_file can be\n"
                "written by the user running it (run it as the user jibe runs as): a probe file is\n"
                "created and removed. Settings that work but weaken security (a password written in\n"
                "the file, a password file others can read, http:// allowed, TLS checks turned off)\n"
                "are printed as warnings, and every start of jibe logs them again; other advice (such\n"
                "as an old setting name that still works, and what to write instead) is printed as\n"
                "notes.\n\n"
                "  -c, --config FILE  the file to check (default %s)\n"
                "  --connect          also sign in to Access Anywhere, find the sources' CloudTrail\n"
                "                     log roots and status.folder (or the bucket it will be made\n"
                "                     in) and, with kafka.brokers set, read the topics' metadata;\n"
                "                     one line 'ok: ...' or 'FAILED: ...' per check\n"
                "  --dump             also print the values jibe will use; secrets show as \"***\"\n"
                "  --example          print a commented configuration with every setting and its default\n"
                "  --man              print the manual page jibe.cfg(5), made from the same settings\n"
                "  -h, --help         this text\n"
                "  --version          print jibe's version\n\n"
                "exit codes: 0 valid (and every check passed), 1 not valid or a check failed,\n"
                "2 usage error\n",
                CFG_DEFAULT_PATH);
}

enum { OPT_DUMP = 0x200, OPT_EXAMPLE, OPT_MAN, OPT_CONNECT };

static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                     {"dump", no_argument, NULL, OPT_DUMP},
                                     {"example", no_argument, NULL, OPT_EXAMPLE},
                                     {"man", no_argument, NULL, OPT_MAN},
                                     {"connect", no_argument, NULL, OPT_CONNECT},
                                     CLI_OPTS_END};

/* Each mistake: one line on stderr, "jibe check-config: file:line: setting: what". */
static void on_mistake(void *opaque, const char *msg)
{
        (*(int *)opaque)++;
        fprintf(stderr, "jibe check-config: %s\n", msg);
}

/* Under /proc or /sys: a kernel file system, never a place for jibe's files. */
static int kernel_fs(const char *path)
{
        static const char *const roots[] = {"/proc", "/sys"};
        size_t i, n;

        for (i = 0; i < 2; i++) {
                n = strlen(roots[i]);
                if (!strncmp(path, roots[i], n) && (path[n] == '\0' || path[n] == '/'))
                        return 1;
        }
        return 0;
}

/* Create and remove a probe file in dir. 0, or -1 with errno. */
static int probe_dir(const char *dir)
{
        char p[4096];
        int fd;

        if (snprintf(p, sizeof(p), "%s/.jibe-check-XXXXXX", dir) >= (int)sizeof(p)) {
                errno = ENAMETOOLONG;
                return -1;
        }
        fd = mkstemp(p);
        if (fd < 0)
                return -1;
        close(fd);
        return unlink(p);
}

/* The nearest existing entry at or above path (which may not exist yet: jibe creates it);
 * 0 when it is a folder, -1 when it is something else (out names it). */
static int existing_parent(const char *path, char *out, size_t n)
{
        struct stat st;
        char *slash;

        snprintf(out, n, "%s", path);
        while (stat(out, &st) != 0) {
                slash = strrchr(out, '/');
                if (!slash || slash == out) {
                        snprintf(out, n, "%s", slash == out ? "/" : ".");
                        return 0;
                }
                *slash = '\0';
        }
        return S_ISDIR(st.st_mode) ? 0 : -1;
}

/* state_dir: writable (or creatable) by this user. 1 when it fails (said why). */
static int check_state_dir(const char *dir)
{
        char at[4096];

        if (kernel_fs(dir)) {
                fprintf(stderr,
                        "jibe check-config: state_dir: %s is in a kernel file system (/proc, /sys): choose a folder "
                        "on a disk, e.g. /var/lib/jibe\n",
                        dir);
                return 1;
        }
        if (existing_parent(dir, at, sizeof(at)) != 0) {
                fprintf(stderr, "jibe check-config: state_dir: %s cannot be a folder: %s is not one\n",
                        dir, at);
                return 1;
        }
        if (probe_dir(at) != 0) {
                fprintf(stderr,
                        "jibe check-config: state_dir: %s cannot be written by this user (%s in %s): create it "
                        "and give it to the user jibe runs as (under systemd, StateDirectory=jibe "
                        "makes /var/lib/jibe)\n",
                        dir, strerror(errno), at);
                return 1;
        }
        return 0;
}

/* log_file: appendable, or creatable in its folder. 1 when it fails (said why). */
static int check_log_file(const char *path)
{
        char dir[4096], *slash;
        struct stat st;
        int fd;

        if (!path || !*path || !strcmp(path, "-"))
                return 0;
        if (kernel_fs(path)) {
                fprintf(stderr,
                        "jibe check-config: log_file: %s is in a kernel file system (/proc, /sys): choose a file "
                        "such as /var/log/jibe/jibe.log\n",
                        path);
                return 1;
        }
        if (stat(path, &st) == 0) {
                if (!S_ISREG(st.st_mode)) {
                        fprintf(stderr,
                                "jibe check-config: log_file: %s exists and is not a regular file\n",
                                path);
                        return 1;
                }
                fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY);
                if (fd < 0) {
                        fprintf(stderr,
                                "jibe check-config: log_file: %s cannot be written by this user: %s\n",
                                path, strerror(errno));
                        return 1;
                }
                close(fd);
                return 0;
        }
        snprintf(dir, sizeof(dir), "%s", path);
        slash = strrchr(dir, '/');
        if (slash)
                *(slash == dir ? slash + 1 : slash) = '\0';
        else
                snprintf(dir, sizeof(dir), ".");
        if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
                fprintf(stderr,
                        "jibe check-config: log_file: the folder %s does not exist: create it for the user jibe "
                        "runs as (under systemd, LogsDirectory=jibe makes /var/log/jibe)\n",
                        dir);
                return 1;
        }
        if (probe_dir(dir) != 0) {
                fprintf(stderr,
                        "jibe check-config: log_file: %s cannot be created by this user (%s in %s)\n",
                        path, strerror(errno), dir);
                return 1;
        }
        return 0;
}

/* One source named in scanner.sources matches provider p (by name or id). */
static int is_source(const struct cfg *cfg, const struct aa_provider *p)
{
        size_t i;

        if (!cfg->n_scan_sources)
                return 1;
        for (i = 0; i < cfg->n_scan_sources; i++)
                if (!strcmp(cfg->scan_sources[i], p->name) || !strcmp(cfg->scan_sources[i], p->id))
                        return 1;
        return 0;
}

/* The log root under the bucket's folder: "AWSLogs", or "<prefix>/AWSLogs" when configured. */
static void log_root(const struct cfg *cfg, const char *bucket, char *out, size_t n)
{
        size_t i;

        for (i = 0; i < cfg->n_scan_prefixes; i++)
                if (!strcmp(cfg->scan_prefixes[i].bucket, bucket) && *cfg->scan_prefixes[i].prefix) {
                        snprintf(out, n, "%s/AWSLogs", cfg->scan_prefixes[i].prefix);
                        return;
                }
        snprintf(out, n, "AWSLogs");
}

/* status.folder and report.upload_folder: inside a bucket's path. Mistakes found (said why). */
static int check_folders(const struct cfg *cfg)
{
        char err[1024];
        int bad = 0;

        if (cfg->status_folder &&
            status_folder_check("status.folder", cfg->status_folder, err, sizeof(err))) {
                fprintf(stderr, "jibe check-config: %s\n", err);
                bad++;
        }
        if (cfg->report_upload_folder &&
            status_folder_check("report.upload_folder", cfg->report_upload_folder, err, sizeof(err))) {
                fprintf(stderr, "jibe check-config: %s\n", err);
                bad++;
        }
        return bad;
}

/* --connect: status.folder exists, or its bucket does so jibe run can make it (nothing is
 * made here). Failed checks. */
static int connect_status_folder(const struct cfg *cfg, struct aa_client *aa)
{
        char err[1024], bucket[2048];
        const char *p = cfg->status_folder;
        size_t n, names = 0, len = 0;
        int rc;

        rc = status_folder_find(aa, cfg->status_folder, 0, NULL, err, sizeof(err));
        if (rc == JB_OK) {
                printf("ok: status.folder %s exists\n", cfg->status_folder);
                return 0;
        }
        if (rc != JB_ENOTFOUND) {
                printf("FAILED: status.folder %s: %s\n", cfg->status_folder, err);
                return 1;
        }
        /* "/<provider>/<bucket>" of the folder: is the bucket there? */
        while (names < 2 && *p) {
                while (*p == '/')
                        p++;
                n = strcspn(p, "/");
                if (len + n + 2 > sizeof(bucket))
                        break;
                bucket[len++] = '/';
                memcpy(bucket + len, p, n);
                len += n;
                p += n;
                names++;
        }
        bucket[len] = '\0';
        rc = status_folder_find(aa, bucket, 0, NULL, err, sizeof(err));
        if (rc == JB_OK) {
                printf("ok: status.folder %s does not exist yet; jibe run makes it in the bucket %s at "
                       "its first publication\n",
                       cfg->status_folder, bucket);
                return 0;
        }
        printf("FAILED: status.folder %s cannot be made: %s\n", cfg->status_folder, err);
        return 1;
}

/* --connect, Access Anywhere part. Number of failed checks. */
static int connect_aa(const struct cfg *cfg)
{
        struct aa_opts ao;
        struct aa_client *aa = NULL;
        struct aa_provider *pv = NULL;
        size_t np = 0, i, j, roots = 0;
        char err[1024], root[1024];
        int rc, failed = 0;

        run_aa_opts(cfg, &ao);
        rc = aa_client_new(&ao, &aa, err, sizeof(err));
        if (!rc)
                rc = aa_login(aa, err, sizeof(err));
        if (rc) {
                printf("FAILED: sign in to Access Anywhere at %s: %s\n", cfg->aa_endpoint, err);
                aa_client_free(aa);
                return 1;
        }
        printf("ok: signed in to Access Anywhere at %s as %s\n", cfg->aa_endpoint,
               cfg->aa_login ? cfg->aa_login : "(token)");
        rc = aa_providers(aa, &pv, &np, err, sizeof(err));
        if (rc) {
                printf("FAILED: list the providers: %s\n", err);
                aa_client_free(aa);
                return 1;
        }
        for (i = 0; i < np; i++) {
                if (!is_source(cfg, &pv[i]))
                        continue;
                for (j = 0; j < pv[i].nbuckets; j++) {
                        log_root(cfg, pv[i].buckets[j].name, root, sizeof(root));
                        rc = aa_check_path(aa, root, pv[i].buckets[j].fi_id, NULL, err, sizeof(err));
                        if (rc == JB_OK) {
                                printf("ok: log root %s/%s/%s\n", pv[i].name, pv[i].buckets[j].name,
                                       root);
                                roots++;
                        } else if (rc != JB_ENOTFOUND) {
                                printf("FAILED: look for %s/%s/%s: %s\n", pv[i].name,
                                       pv[i].buckets[j].name, root, err);
                                aa_providers_free(pv, np);
                                aa_client_free(aa);
                                return 1;
                        }
                }
        }
        for (i = 0; i < cfg->n_scan_sources; i++) {
                for (j = 0; j < np && strcmp(cfg->scan_sources[i], pv[j].name) &&
                            strcmp(cfg->scan_sources[i], pv[j].id);
                     j++)
                        ;
                if (j == np) {
                        printf("FAILED: scanner.sources: Access Anywhere shows no provider \"%s\" to "
                               "%s\n",
                               cfg->scan_sources[i], cfg->aa_login ? cfg->aa_login : "this token");
                        roots = 0;
                }
        }
        aa_providers_free(pv, np);
        if (cfg->status_folder)
                failed += connect_status_folder(cfg, aa);
        aa_client_free(aa);
        if (!roots) {
                printf("FAILED: no CloudTrail log root (a bucket folder with AWSLogs) found among "
                       "the sources: check scanner.sources and scanner.prefixes\n");
                return 1 + failed;
        }
        printf("ok: %zu log root(s) found\n", roots);
        return failed;
}

/* --connect, Kafka part. Number of failed checks. */
static int connect_kafka(const struct cfg *cfg)
{
        static const enum kconf_name topics[] = {KN_FILES, KN_EVENTS, KN_DEAD, KN_STATUS};
        const char **props = kafka_props(cfg);
        struct kadmin_conn conn = {cfg->kafka_brokers, props, cfg->n_kafka_rdkafka, 10000};
        struct kadmin *ka;
        size_t i, n;
        char err[1024], name[256];
        int rc, failed = 0;

        ka = kadmin_new(&conn, NULL, err, sizeof(err));
        if (!ka) {
                printf("FAILED: Kafka client for %s: %s\n", cfg->kafka_brokers, err);
                free(props);
                return 1;
        }
        for (i = 0; i < sizeof(topics) / sizeof(topics[0]); i++) {
                if (kconf_name(name, sizeof(name), cfg->kafka_topic_prefix, topics[i]) != JB_OK)
                        continue;
                rc = kadmin_topic_count(ka, name, &n, err, sizeof(err));
                if (rc == JB_ENOTFOUND) {
                        printf("FAILED: Kafka topic %s does not exist: 'jibe topics --create -c "
                               "%s' makes it\n",
                               name, cfg->path);
                        failed++;
                } else if (rc) {
                        printf("FAILED: Kafka metadata of %s from %s: %s\n", name, cfg->kafka_brokers,
                               err);
                        failed++;
                } else if ((long)n != cfg->kafka_partitions) {
                        printf("FAILED: Kafka topic %s has %zu partition(s), kafka.partitions says "
                               "%ld: set kafka.partitions = %zu (or add partitions to the topic)\n",
                               name, n, cfg->kafka_partitions, n);
                        failed++;
                } else {
                        printf("ok: Kafka topic %s has %zu partition(s)\n", name, n);
                }
                if (rc && rc != JB_ENOTFOUND)
                        break; /* the brokers do not answer: one line is enough */
        }
        kadmin_free(ka);
        free(props);
        return failed;
}

/* Print what the loaded configuration says; 0 or 1 (stdout failed). */
static int report(const struct cfg *cfg, const char *path, int dump)
{
        size_t k;

        printf("configuration OK: %s\n", path);
        for (k = 0; k < cfg->n_warnings; k++)
                printf("warning: %s\n", cfg->warnings[k]);
        for (k = 0; k < cfg->n_notes; k++)
                printf("note: %s\n", cfg->notes[k]);
        if (dump) {
                printf("\n");
                cfg_dump(cfg, stdout);
        }
        return fflush(stdout) == 0 ? 0 : 1;
}

int check_config_main(int argc, char **argv)
{
        struct cli c = {"check-config", ":c:h", opts, usage, 0};
        const char *path = CFG_DEFAULT_PATH;
        struct cfg cfg;
        int dump = 0, example = 0, connect = 0, opt, rc, mistakes = 0;

        while ((opt = cli_next(&c, argc, argv)) > 0) {
                if (opt == 'c')
                        path = optarg;
                else if (opt == OPT_DUMP)
                        dump = 1;
                else if (opt == OPT_CONNECT)
                        connect = 1;
                else
                        example = opt == OPT_MAN ? 2 : 1;
        }
        if ((rc = cli_finish(&c, opt, argc, argv)) >= 0)
                return rc;
        if (example) {
                if (example == 2)
                        cfg_man(stdout);
                else
                        cfg_example(stdout);
                return fflush(stdout) == 0 ? 0 : 1;
        }
        rc = cfg_check_all(&cfg, path, on_mistake, &mistakes);
        if (rc == JB_ENOMEM) {
                cfg_clear(&cfg);
                fprintf(stderr, "jibe check-config: out of memory\n");
                return 1;
        }
        if (rc != JB_EIO && cfg.state_dir)
                mistakes += check_state_dir(cfg.state_dir);
        if (rc != JB_EIO)
                mistakes += check_log_file(cfg.log_file);
        if (rc != JB_EIO)
                mistakes += check_folders(&cfg);
        if (mistakes) {
                printf("%s: %d mistake(s), each on standard error; jibe would not start with this "
                       "configuration\n",
                       path, mistakes);
                cfg_clear(&cfg);
                log_close();
                return 1;
        }
        rc = report(&cfg, path, dump);
        if (!rc && connect) {
                int failed = connect_aa(&cfg);

                if (cfg.kafka_brokers)
                        failed += connect_kafka(&cfg);
                printf("%s\n", failed ? "connect: some check FAILED (see above)"
                                      : "connect: every check passed");
                rc = failed ? 1 : 0;
                if (fflush(stdout) != 0)
                        rc = 1;
        }
        cfg_clear(&cfg);
        log_close();
        return rc;
}
