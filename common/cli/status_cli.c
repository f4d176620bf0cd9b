/*
 * status_cli.c - `jibe status`: the merged status of the deployment now (report.h), as a
 * terminal table (verdicts first), as JSON (--json), or as report.html written to a file
 * (--html FILE), without stopping anything.
 *
 * Where the documents come from: --files DOC... (instance documents copied by hand, or
 * fixtures; no network), else the configured status store (status.folder in the embedded
 * mode, the status topic in the Kafka mode): collect_store() below is the one call point.
 * Owns: the command line, reading the files, the exit code. Does not: merge or render
 * (report.c), talk to a store (status_store*.c).
 * Exit codes: 0 every source OK, 1 any LATE or FAILING (a monitoring check), 2 a usage or
 * configuration error (said which), 3 the documents could not be collected (said why).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cfg.h"
#include "cli.h"
#include "kconf.h"
#include "report.h"
#include "state.h"
#include "status_pub.h"
#include "status_store.h"

static void usage(FILE *fp)
{
        fprintf(fp,
                "usage: jibe status -c FILE [--json | --html OUT] [--now TIME] [--from kafka|folder]\n"
                "       jibe status [-c FILE] [--json | --html OUT] [--now TIME] --files DOC...\n"
                "\n"
                "Shows the merged status of every jibe instance now: one line per provider, then its\n"
                "log buckets, the verdict first (FAILING, LATE, OK) with its reason, and under a log\n"
                "bucket what CloudTrail's digests prove (hours covered, files done of those listed,\n"
                "recovered, missing, tampered, gaps; or \"not available\"); then the advice\n"
                "drawn from the logs, the instances (which scans which provider, when each last\n"
                "reported, which are missing) and the active problems with what to do.\n"
                "It reads the status every instance publishes (status.folder in the embedded mode,\n"
                "the status topic in the Kafka mode); it stops nothing.\n"
                "\n"
                "  -c, --config FILE   configuration file\n"
                "  --json              print the report as JSON (docs/STATUS.md, \"report\")\n"
                "  --html OUT          write the report as a self-contained HTML page to OUT\n"
                "  --files             the operands are instance status documents (<instance>.json)\n"
                "                      to merge instead of the store's: no network is used\n"
                "  --from WHERE        kafka: the status topic; folder: status.folder (default: the\n"
                "                      topic when kafka.brokers is set, else status.folder)\n"
                "  --now TIME          merge as if now were TIME (ISO-8601, e.g. 2026-12-01T10:00Z),\n"
                "                      to look at copied documents as they were\n"
                "  -h, --help          this help\n"
                "  --version           print jibe's version\n"
                "\n"
                "exit codes: 0 every source is OK, 1 a source is LATE or FAILING (the table says\n"
                "why), 2 usage or configuration error, 3 the status could not be read\n");
}

/* The documents to merge; each owns its bytes and where. */
struct docs {
        struct report_doc *d;
        size_t n, cap;
};

static void docs_free(struct docs *ds)
{
        size_t i;

        for (i = 0; i < ds->n; i++) {
                free((void *)ds->d[i].json);
                free((void *)ds->d[i].where);
        }
        free(ds->d);
        ds->d = NULL;
        ds->n = ds->cap = 0;
}

/* Take json (malloc'ed, len bytes) and a copy of where. JB_OK or JB_ENOMEM (json freed). */
static int docs_add(struct docs *ds, char *json, size_t len, const char *where)
{
        struct report_doc *nd;
        char *w;

        if (ds->n == ds->cap) {
                size_t cap = ds->cap ? ds->cap * 2 : 8;

                if (!(nd = realloc(ds->d, cap * sizeof(*nd)))) {
                        free(json);
                        return JB_ENOMEM;
                }
                ds->d = nd;
                ds->cap = cap;
        }
        if (!(w = strdup(where))) {
                free(json);
                return JB_ENOMEM;
        }
        ds->d[ds->n].json = json;
        ds->d[ds->n].len = len;
        ds->d[ds->n].where = w;
        ds->n++;
        return JB_OK;
}

/* --files: read each file whole (at most STATUS_DOC_MAX bytes). A file that cannot be read
 * is the administrator's mistake (JB_EINPUT, said which); one that is not a status document
 * is read and left to the merge, which skips it and says so in the report. */
static int collect_files(char **paths, int n, struct docs *ds, char *err, size_t errsz)
{
        char where[1200];
        struct buf b;
        FILE *fp;
        size_t got;
        int i, rc;

        for (i = 0; i < n; i++) {
                buf_init(&b, STATUS_DOC_MAX);
                if (!(fp = fopen(paths[i], "rb")))
                        return jb_seterr(JB_EINPUT, err, errsz, "cannot read the status document %s: %s",
                                         paths[i], strerror(errno));
                rc = JB_OK;
                do {
                        if ((rc = buf_reserve(&b, 65536)) != JB_OK)
                                break;
                        got = fread(b.p + b.len, 1,
                                    b.cap - b.len - 1 < 65536 ? b.cap - b.len - 1 : 65536, fp);
                        if (b.len + got > STATUS_DOC_MAX) {
                                rc = JB_ELIMIT;
                                break;
                        }
                        b.len += got;
                        b.p[b.len] = '\0';
                } while (got > 0);
                if (rc == JB_OK && ferror(fp))
                        rc = JB_EIO;
                fclose(fp);
                if (rc != JB_OK) {
                        buf_clear(&b);
                        if (rc == JB_ENOMEM)
                                return jb_seterr(rc, err, errsz, "out of memory reading %s", paths[i]);
                        return jb_seterr(JB_EINPUT, err, errsz, "cannot read the status document %s: %s",
                                         paths[i],
                                         rc == JB_ELIMIT ? "it is larger than 4 MiB" : "read error");
                }
                snprintf(where, sizeof(where), "status file %s", paths[i]);
                got = b.len;
                if ((rc = docs_add(ds, b.p ? buf_take(&b) : calloc(1, 1), got, where)) != JB_OK)
                        return jb_seterr(rc, err, errsz, "out of memory reading %s", paths[i]);
        }
        return JB_OK;
}

/*
 * The configured status store's documents, every instance's latest, into ds. The seam of
 * helper "store": open the store cfg names (status.folder with the Access Anywhere client,
 * or the Kafka status topic), list() it into docs_add(), free it. Returns JB_OK, JB_EFATAL
 * when the configuration names no store (exit 2), any other code when the store cannot be
 * read (exit 3); err says which in words.
 */
struct collect {
        struct docs *ds;
        size_t n;
};

/* status_store_fn: copy one instance's document into the list to merge. */
static int collect_one(void *opaque, const char *instance, const void *doc, size_t n, const char *where)
{
        struct collect *c = opaque;
        char *copy = malloc(n + 1);

        (void)instance;
        if (!copy)
                return JB_ENOMEM;
        if (n)
                memcpy(copy, doc, n);
        copy[n] = '\0';
        c->n++;
        return docs_add(c->ds, copy, n, where);
}

static int collect_store(const struct cfg *cfg, enum status_from from, struct docs *ds, char *err,
                         size_t errsz)
{
        struct status_store *ss = NULL;
        struct collect c = {ds, 0};
        char e2[1024];
        int rc;

        rc = cli_status_store(cfg, "status", from, &ss, err, errsz);
        if (rc != JB_OK)
                return rc == JB_ENOMEM ? rc : JB_EFATAL;
        if (!ss) { /* no store: the own document of this host's `jibe run` (status_pub.h) */
                char own[4096], *paths[1] = {own};
                FILE *fp;

                snprintf(own, sizeof(own), "%s/%s", cfg->state_dir, STATUS_PUB_FILE);
                if ((fp = fopen(own, "rb")) != NULL) {
                        fclose(fp);
                        return collect_files(paths, 1, ds, err, errsz);
                }
                return jb_seterr(
                        JB_EFATAL, err, errsz,
                        "the configuration names no status store and %s does not exist (no jibe run "
                        "has published here yet): set status.folder (embedded mode) or kafka.brokers "
                        "(Kafka mode), or give the documents with --files",
                        own);
        }
        rc = ss->ops->list(ss, collect_one, &c, e2, sizeof(e2));
        status_store_free(ss);
        if (from == STATUS_FROM_KAFKA ||
            (from == STATUS_FROM_AUTO && cfg->kafka_brokers && *cfg->kafka_brokers))
                (void)kconf_wait_destroyed(5000);
        if (rc == JB_OK)
                return JB_OK;
        rc = rc == JB_EFATAL || rc == JB_EINPUT ? JB_ETRANSIENT : rc; /* exit 3: could not be read */
        return jb_seterr(rc, err, errsz, "cannot read the status store (%s%s): %s",
                         cfg->kafka_brokers && from != STATUS_FROM_FOLDER ? "the Kafka status topic at "
                                                                          : "status.folder ",
                         cfg->kafka_brokers && from != STATUS_FROM_FOLDER ? cfg->kafka_brokers
                                                                          : cfg->status_folder,
                         e2);
}

static int64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

enum { OPT_JSON = 0x200, OPT_HTML, OPT_FILES, OPT_NOW, OPT_FROM };

int status_main(int argc, char **argv)
{
        static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                             {"json", no_argument, NULL, OPT_JSON},
                                             {"html", required_argument, NULL, OPT_HTML},
                                             {"files", no_argument, NULL, OPT_FILES},
                                             {"now", required_argument, NULL, OPT_NOW},
                                             {"from", required_argument, NULL, OPT_FROM},
                                             CLI_OPTS_END};
        struct cli c = {"status", ":c:h", opts, usage, 0};
        const char *path = NULL, *html = NULL;
        struct report_opts ro = {0, NULL};
        struct docs ds = {NULL, 0, 0};
        struct cfg cfg;
        enum status_from from = STATUS_FROM_AUTO;
        int json = 0, files = 0, have_cfg = 0, opt, rc, exitcode = 2;
        cJSON *rep = NULL;
        struct buf out;
        char err[1024];

        ro.now_ms = now_ms();
        while ((opt = cli_next(&c, argc, argv)) > 0) {
                switch (opt) {
                case 'c':
                        path = optarg;
                        break;
                case OPT_JSON:
                        json = 1;
                        break;
                case OPT_HTML:
                        html = optarg;
                        break;
                case OPT_FILES:
                        files = 1;
                        break;
                case OPT_FROM:
                        if (cli_status_from_parse(optarg, &from) != 0)
                                return cli_bad_value(&c, "--from wants kafka or folder, not '%s'",
                                                     optarg);
                        break;
                default:
                        if (cli_parse_datetime(optarg, &ro.now_ms) != 0)
                                return cli_bad_value(&c,
                                                     "--now wants a time such as 2026-12-01T10:00Z, not "
                                                     "'%s'",
                                                     optarg);
                        break;
                }
        }
        if (opt == CLI_EXIT)
                return c.exitcode;
        if (json && html)
                return cli_usage_error(&c, "give --json or --html OUT, not both");
        if (files && optind >= argc)
                return cli_usage_error(&c, "--files wants at least one status document");
        if (!files && optind < argc)
                return cli_usage_error(&c, "unexpected '%s' (documents to merge follow --files)",
                                       argv[optind]);
        if (!files && !path)
                return cli_usage_error(&c, "give the configuration file with -c FILE (or documents with "
                                           "--files)");
        buf_init(&out, (size_t)64 << 20);
        if (path) {
                if (cfg_load(&cfg, path, err, sizeof(err)) != JB_OK) {
                        fprintf(stderr, "jibe status: configuration error: %s\n", err);
                        return 2;
                }
                have_cfg = 1;
        }
        if (files)
                rc = collect_files(argv + optind, argc - optind, &ds, err, sizeof(err));
        else
                rc = collect_store(&cfg, from, &ds, err, sizeof(err));
        if (rc != JB_OK) {
                exitcode = rc == JB_EFATAL || rc == JB_EINPUT ? 2 : 3;
                fprintf(stderr, "jibe status: %s%s\n",
                        exitcode == 2 && !files ? "configuration error: " : "", err);
                goto out;
        }
        if (!(rep = report_merge(ds.d, ds.n, &ro, err, sizeof(err)))) {
                fprintf(stderr, "jibe status: %s\n", err);
                exitcode = 3;
                goto out;
        }
        if (json)
                rc = report_render_json(rep, &out);
        else if (html)
                rc = report_render_html(rep, &out);
        else
                rc = report_render_table(rep, &out);
        if (rc != JB_OK) {
                fprintf(stderr, "jibe status: out of memory rendering the report\n");
                exitcode = 3;
                goto out;
        }
        if (html) {
                if (state_replace_file(html, out.p, out.len, err, sizeof(err)) != JB_OK) {
                        fprintf(stderr, "jibe status: cannot write %s: %s\n", html, err);
                        exitcode = 3;
                        goto out;
                }
                printf("%s  %s (report written to %s)\n",
                       cJSON_GetStringValue(cJSON_GetObjectItem(rep, "verdict")),
                       cJSON_GetStringValue(cJSON_GetObjectItem(rep, "summary")), html);
        } else {
                fwrite(out.p, 1, out.len, stdout);
        }
        exitcode = fflush(stdout) == 0 ? report_exit_code(rep) : 3;
out:
        cJSON_Delete(rep);
        buf_clear(&out);
        docs_free(&ds);
        if (have_cfg)
                cfg_clear(&cfg);
        return exitcode;
}
