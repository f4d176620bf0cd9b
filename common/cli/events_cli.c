/*
 * events_cli.c - `jibe events`: what jibe would do with CloudTrail log files, local ones or
 * (--fetch) ones read through Access Anywhere.
 *
 * Owns: the command's options, reading files in chunks into ct_reader, printing one JSON
 * line per actionable event (the rules of docs/EVENTS.md) and the --stats object, and the
 * exit code. With -c FILE the classification context is the deployment's, built as the
 * parser builds it (consumer/view.c: self identities from the configuration, bucket map and
 * sync starts from the server); options given on the command line add to it.
 * Does not: classify (ct_classify.c) or parse (ct_reader.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aa.h"
#include "buf.h"
#include "cfg.h"
#include "cli.h"
#include "ct.h"
#include "sha256.h"
#include "view.h"

#define EV_READ_CHUNK (256U << 10)
#define EV_LINE_MAX (64U << 20)

struct ev_run {
        struct ct_ctx *ctx;
        struct buf line;
        uint64_t counts[CT_NCLASS];
        int insight; /* the current file turned out to be an Insights log */
        int sha256;  /* --sha256 */
        char err[512];
};

static void usage(FILE *fp)
{
        fprintf(fp,
                "usage: jibe events [OPTIONS] FILE...\n"
                "       jibe events -c jibe.cfg [OPTIONS] [--fetch PATH]... [FILE...]\n"
                "\n"
                "Reads CloudTrail log files (.json.gz) and prints, one JSON object per line, each\n"
                "object change jibe would ask Access Anywhere to resync:\n"
                "  {\"bucket\":..,\"key\":..,\"op\":\"put|delete|bucket\",\"time\":..,\"event\":..,\n"
                "   \"id\":..,\"account\":..,\"region\":..}\n"
                "Without -c nothing is contacted; no file is ever changed. A file that cannot be read\n"
                "is reported on stderr with the reason, the other files are still read, and the exit\n"
                "code is 1. The rules are described in docs/EVENTS.md.\n"
                "\n"
                "options:\n"
                "  -c, --config FILE      decide as the deployment of FILE does: its self identities,\n"
                "                         and the bucket map and full-sync starts read from its\n"
                "                         Access Anywhere (signs in; reads only); the options below\n"
                "                         add to them\n"
                "  --fetch PATH           also read the log file at Access Anywhere path PATH\n"
                "                         (Provider/bucket/AWSLogs/.../x.json.gz; needs -c; repeatable);\n"
                "                         one not in the index yet is found by a cloud refresh of\n"
                "                         its folders, as the scanner does\n"
                "  --self-key AKIA...     an access key Access Anywhere itself uses (repeatable)\n"
                "  --self-arn ARN         an IAM identity ARN of Access Anywhere (repeatable)\n"
                "  --self-agent TEXT      a user-agent substring of Access Anywhere (repeatable)\n"
                "  --bucket BUCKET=PROV   BUCKET is managed by provider PROV (repeatable); once given,\n"
                "                         other buckets count as unmanaged\n"
                "  --sync-start [PROV=]T  the last full sync of PROV (or of all buckets) started at\n"
                "                         T (UTC, 2026-11-29T08:00:00Z); older events are covered\n"
                "  --max-bytes N[K|M|G]   refuse files that decompress to more (default 4G)\n"
                "  --max-record-bytes N   refuse files with a larger record (default 16M)\n"
                "  --stats                print the counts per category as JSON on stderr\n"
                "  --sha256               print on stderr the SHA-256 of each file's decompressed\n"
                "                         content, as 'sha256 HEX FILE': the value a CloudTrail\n"
                "                         digest lists for it (hashValue)\n"
                "  -h, --help             this help\n"
                "  --version              print jibe's version\n"
                "\n"
                "exit codes: 0 every file was read, 1 some file was rejected, 2 usage error\n");
}

static int parse_size(const char *s, uint64_t *out)
{
        char *end;
        unsigned long long v;

        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno || end == s)
                return -1;
        switch (*end) {
        case '\0':
                break;
        case 'k':
        case 'K':
                v <<= 10;
                end++;
                break;
        case 'm':
        case 'M':
                v <<= 20;
                end++;
                break;
        case 'g':
        case 'G':
                v <<= 30;
                end++;
                break;
        default:
                return -1;
        }
        if (*end || v == 0)
                return -1;
        *out = v;
        return 0;
}

static int put_field(struct buf *b, const char *name, const char *val)
{
        int rc;

        if (!val)
                return JB_OK;
        rc = buf_printf(b, ",\"%s\":", name);
        if (!rc)
                rc = buf_json_str(b, val, strlen(val));
        return rc;
}

static int on_record(void *opaque, const char *rec, size_t len, const struct ct_hint *hint, uint64_t idx)
{
        struct ev_run *run = opaque;
        struct ct_event ev;
        int cls, rc = JB_OK;

        JB_UNUSED(idx);
        cls = ct_classify(run->ctx, rec, len, hint, &ev);
        if (cls == CT_INSIGHT) {
                run->insight = 1;
                ct_event_clear(&ev);
                return jb_seterr(JB_EINPUT, run->err, sizeof(run->err),
                                 "this is a CloudTrail Insights file, not an event log");
        }
        if (cls < 0) {
                ct_event_clear(&ev);
                return jb_seterr(cls, run->err, sizeof(run->err), "out of memory");
        }
        run->counts[cls]++;
        if (ct_op_name(cls)) {
                struct buf *b = &run->line;

                buf_reset(b);
                rc = buf_puts(b, "{\"bucket\":");
                if (!rc)
                        rc = buf_json_str(b, ev.bucket, strlen(ev.bucket));
                if (!rc)
                        rc = put_field(b, "key", ev.key);
                if (!rc)
                        rc = buf_printf(b, ",\"op\":\"%s\"", ct_op_name(cls));
                if (!rc)
                        rc = put_field(b, "time", ev.time);
                if (!rc)
                        rc = put_field(b, "event", ev.name);
                if (!rc)
                        rc = put_field(b, "id", ev.id);
                if (!rc)
                        rc = put_field(b, "account", ev.account);
                if (!rc)
                        rc = put_field(b, "region", ev.region);
                if (!rc)
                        rc = buf_puts(b, "}\n");
                if (!rc)
                        fwrite(b->p, 1, b->len, stdout);
                else
                        jb_seterr(rc, run->err, sizeof(run->err), "event line too long");
        }
        ct_event_clear(&ev);
        return rc;
}

/* A digest or Insights file is not an event log: JB_EINPUT with run->err set, else JB_OK. */
static int not_an_event_log(struct ev_run *run, const char *path)
{
        switch (ct_file_kind(path)) {
        case CT_FILE_DIGEST:
                return jb_seterr(JB_EINPUT, run->err, sizeof(run->err),
                                 "this is a CloudTrail digest file, not an event log");
        case CT_FILE_INSIGHT:
                return jb_seterr(JB_EINPUT, run->err, sizeof(run->err),
                                 "this is a CloudTrail Insights file, not an event log");
        default:
                return JB_OK;
        }
}

/* Read one file through the reader. Returns JB_OK or an error with run->err set. */
static int read_file(struct ev_run *run, struct ct_reader *rdr, const char *path, char *chunk)
{
        int fd, rc = JB_OK;
        ssize_t n;

        if ((rc = not_an_event_log(run, path)) != JB_OK)
                return rc;
        fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : 0;
        if (fd < 0)
                return jb_seterr(JB_EIO, run->err, sizeof(run->err), "cannot open: %s", strerror(errno));
        ct_reader_reset(rdr);
        run->insight = 0;
        for (;;) {
                n = read(fd, chunk, EV_READ_CHUNK);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        rc = jb_seterr(JB_EIO, run->err, sizeof(run->err), "read error: %s",
                                       strerror(errno));
                        break;
                }
                if (n == 0) {
                        rc = ct_reader_finish(rdr, run->err, sizeof(run->err));
                        break;
                }
                rc = ct_reader_feed(rdr, chunk, (size_t)n, run->err, sizeof(run->err));
                if (rc)
                        break;
        }
        if (fd > 0)
                close(fd);
        return rc;
}

struct ev_feed {
        struct ct_reader *rdr;
        struct ev_run *run;
};

static int feed_cb(void *opaque, const void *p, size_t n)
{
        struct ev_feed *f = opaque;

        return ct_reader_feed(f->rdr, p, n, f->run->err, sizeof(f->run->err));
}

/*
 * A file not in Access Anywhere's index yet (CloudTrail wrote it after the last listing):
 * walk path from the root one folder at a time and, where the next name is missing, cloud
 * refresh that folder once and look again, as the scanner does before it lists. *out as
 * aa_check_path() fills it; JB_ENOTFOUND when even a refresh does not show it.
 */
static int find_refreshing(struct aa_client *aa, const char *path, struct aa_item *out, char *err,
                           size_t errsz)
{
        char pid[512] = "0", name[1024];
        const char *p = path;
        int rc = JB_ENOTFOUND;

        while (*p) {
                size_t n = strcspn(p, "/");

                if (n >= sizeof(name))
                        return jb_seterr(JB_EINPUT, err, errsz, "a name in the path is too long");
                memcpy(name, p, n);
                name[n] = '\0';
                p += n;
                while (*p == '/')
                        p++;
                aa_item_clear(out);
                rc = aa_check_path(aa, name, pid, out, err, errsz);
                if (rc == JB_ENOTFOUND && strcmp(pid, "0") != 0) {
                        rc = aa_refresh(aa, pid, err, errsz);
                        if (!rc)
                                rc = aa_check_path(aa, name, pid, out, err, errsz);
                }
                if (rc)
                        return rc;
                if (*p && snprintf(pid, sizeof(pid), "%s", out->fi_id) >= (int)sizeof(pid))
                        return jb_seterr(JB_EINPUT, err, errsz, "a folder id is too long");
        }
        return rc;
}

/* Read the log file at Access Anywhere path through aa (the listing's size is checked).
 * JB_OK or an error with run->err set. */
static int fetch_file(struct ev_run *run, struct ct_reader *rdr, struct aa_client *aa, const char *path)
{
        struct aa_item it;
        struct aa_dl_want want = {-1, 1};
        struct ev_feed f = {rdr, run};
        char err[512];
        int rc;

        while (*path == '/')
                path++;
        if ((rc = not_an_event_log(run, path)) != JB_OK)
                return rc;
        memset(&it, 0, sizeof(it));
        rc = aa_check_path(aa, path, "0", &it, err, sizeof(err));
        if (rc == JB_ENOTFOUND)
                rc = find_refreshing(aa, path, &it, err, sizeof(err));
        if (rc == JB_ENOTFOUND)
                return jb_seterr(rc, run->err, sizeof(run->err), "Access Anywhere has no file %s", path);
        if (rc)
                return jb_seterr(rc, run->err, sizeof(run->err), "cannot look it up: %s", err);
        if (it.type != AA_FILE) {
                aa_item_clear(&it);
                return jb_seterr(JB_EINPUT, run->err, sizeof(run->err), "this is a folder, not a file");
        }
        want.size = it.size;
        ct_reader_reset(rdr);
        run->insight = 0;
        run->err[0] = '\0';
        rc = aa_download_ex(aa, it.fi_id, &want, feed_cb, &f, err, sizeof(err));
        aa_item_clear(&it);
        if (rc && !run->err[0])
                return jb_seterr(rc, run->err, sizeof(run->err), "cannot download it: %s", err);
        if (rc)
                return rc;
        return ct_reader_finish(rdr, run->err, sizeof(run->err));
}

/* -c FILE: the classification context of the deployment (view.c, as the parser builds it),
 * and a signed-in client in *aa for --fetch. 0, or 1 (said why on stderr). */
static int deployment_ctx(const char *path, struct ct_ctx **ctx, struct aa_client **aa)
{
        struct cfg cfg;
        struct aa_opts ao;
        struct view_opts vo;
        struct view_info vi;
        char err[1024];
        int rc;

        if (cfg_load(&cfg, path, err, sizeof(err)) != JB_OK) {
                fprintf(stderr, "jibe events: %s\n", err);
                return 1;
        }
        run_aa_opts(&cfg, &ao);
        memset(&vo, 0, sizeof(vo));
        vo.self_keys = cfg.self_keys;
        vo.n_self_keys = cfg.n_self_keys;
        vo.self_arns = cfg.self_arns;
        vo.n_self_arns = cfg.n_self_arns;
        vo.self_agents = cfg.self_agents;
        vo.n_self_agents = cfg.n_self_agents;
        vo.indexing_rate = cfg.parse_indexing_rate;
        rc = aa_client_new(&ao, aa, err, sizeof(err));
        if (!rc)
                rc = aa_login(*aa, err, sizeof(err));
        if (!rc)
                rc = view_build(*aa, &vo, ctx, &vi, err, sizeof(err));
        if (rc)
                fprintf(stderr,
                        "jibe events: cannot read the deployment's view from Access Anywhere at %s: %s\n",
                        cfg.aa_endpoint, err);
        cfg_clear(&cfg);
        return rc ? 1 : 0;
}

enum {
        OPT_SELF_KEY = 0x200,
        OPT_SELF_ARN,
        OPT_SELF_AGENT,
        OPT_BUCKET,
        OPT_SYNC_START,
        OPT_MAX_BYTES,
        OPT_MAX_RECORD,
        OPT_STATS,
        OPT_FETCH,
        OPT_SHA256
};

static const struct option opts[] = {{"self-key", required_argument, NULL, OPT_SELF_KEY},
                                     {"self-arn", required_argument, NULL, OPT_SELF_ARN},
                                     {"self-agent", required_argument, NULL, OPT_SELF_AGENT},
                                     {"bucket", required_argument, NULL, OPT_BUCKET},
                                     {"sync-start", required_argument, NULL, OPT_SYNC_START},
                                     {"max-bytes", required_argument, NULL, OPT_MAX_BYTES},
                                     {"max-record-bytes", required_argument, NULL, OPT_MAX_RECORD},
                                     {"stats", no_argument, NULL, OPT_STATS},
                                     {"sha256", no_argument, NULL, OPT_SHA256},
                                     {"config", required_argument, NULL, 'c'},
                                     {"fetch", required_argument, NULL, OPT_FETCH},
                                     CLI_OPTS_END};

/* --bucket BUCKET=PROVIDER. JB_OK, JB_ENOMEM, or 2 (said why). */
static int opt_bucket(struct cli *c, struct ct_ctx *ctx, const char *val)
{
        const char *eq = strchr(val, '=');
        char *b;
        int rc;

        if (!eq || eq == val || !eq[1])
                return cli_bad_value(c, "--bucket wants BUCKET=PROVIDER, got '%s'", val);
        b = strndup(val, (size_t)(eq - val));
        if (!b)
                return JB_ENOMEM;
        rc = ct_ctx_map_bucket(ctx, b, eq + 1);
        free(b);
        return rc;
}

/* --sync-start [PROV=]T. JB_OK, JB_ENOMEM, or 2 (said why). */
static int opt_sync_start(struct cli *c, struct ct_ctx *ctx, const char *val)
{
        const char *eq = strrchr(val, '=');
        const char *t = eq ? eq + 1 : val;
        int64_t when = ct_parse_time(t);
        char *p = NULL;
        int rc;

        if (when < 0)
                return cli_bad_value(c, "--sync-start: '%s' is not a UTC time like 2026-11-29T08:00:00Z",
                                     t);
        if (eq) {
                p = strndup(val, (size_t)(eq - val));
                if (!p)
                        return JB_ENOMEM;
        }
        rc = ct_ctx_set_sync_start(ctx, p, when);
        free(p);
        return rc;
}

/* One option with its value. JB_OK, JB_ENOMEM (or another error of ct_ctx), or 2 (said why). */
static int apply_opt(struct cli *c, struct ev_run *run, struct ct_limits *lim, int *stats, int opt,
                     const char *val)
{
        uint64_t v;
        int rc;

        switch (opt) {
        case OPT_SELF_KEY:
                return ct_ctx_add_self_key(run->ctx, val);
        case OPT_SELF_ARN:
                return ct_ctx_add_self_arn(run->ctx, val);
        case OPT_SELF_AGENT:
                rc = ct_ctx_add_self_agent(run->ctx, val);
                return rc == JB_EINPUT ? cli_bad_value(c, "--self-agent needs a non-empty text") : rc;
        case OPT_BUCKET:
                return opt_bucket(c, run->ctx, val);
        case OPT_SYNC_START:
                return opt_sync_start(c, run->ctx, val);
        case OPT_MAX_BYTES:
        case OPT_MAX_RECORD:
                if (parse_size(val, &v))
                        return cli_bad_value(c, "%s: '%s' is not a size like 512M",
                                             opt == OPT_MAX_BYTES ? "--max-bytes" : "--max-record-bytes",
                                             val);
                if (opt == OPT_MAX_BYTES)
                        lim->max_decompressed = v;
                else
                        lim->max_record = (size_t)v;
                return JB_OK;
        case OPT_SHA256:
                run->sha256 = 1;
                return JB_OK;
        default: /* OPT_STATS */
                *stats = 1;
                return JB_OK;
        }
}

/* --sha256: the SHA-256 of the file just read (its decompressed content), on stderr. */
static void print_sha256(const struct ev_run *run, const struct ct_reader *rdr, const char *name)
{
        uint8_t d[SHA256_LEN];
        char hex[SHA256_HEX_LEN + 1];

        if (!run->sha256 || ct_reader_sha256(rdr, d) != 0)
                return;
        sha256_hex(d, hex);
        fflush(stdout);
        fprintf(stderr, "sha256 %s %s\n", hex, name);
}

/* Read every file; returns how many were rejected (each said why on stderr). */
static int read_files(struct ev_run *run, struct ct_reader *rdr, char *chunk, int n, char **paths)
{
        int i, rc, rejected = 0;

        for (i = 0; i < n; i++) {
                run->err[0] = '\0';
                rc = read_file(run, rdr, paths[i], chunk);
                if (!rc)
                        print_sha256(run, rdr, paths[i]);
                if (rc) {
                        rejected++;
                        run->counts[CT_MALFORMED]++;
                        fflush(stdout);
                        fprintf(stderr, "jibe events: %s: rejected: %s\n", paths[i],
                                run->err[0] ? run->err : jb_strerror(rc));
                }
        }
        return rejected;
}

static void print_stats(const struct ev_run *run)
{
        int c;

        fputc('{', stderr);
        for (c = 0; c < CT_NCLASS; c++)
                fprintf(stderr, "%s\"%s\":%llu", c ? "," : "", ct_class_names[c],
                        (unsigned long long)run->counts[c]);
        fputs("}\n", stderr);
}

int events_main(int argc, char **argv)
{
        /* '+': the first file ends the options, as before ("-" is standard input) */
        struct cli c = {"events", "+:c:h", opts, usage, 0};
        struct ct_limits lim = {0, 0};
        struct ev_run run;
        struct ct_reader *rdr = NULL;
        struct aa_client *aa = NULL;
        const char *cfgpath = NULL;
        char *chunk = NULL;
        /* the options, kept until the context exists (it may come from the deployment) */
        int *ko = calloc((size_t)argc + 1, sizeof(*ko));
        const char **kv = calloc((size_t)argc + 1, sizeof(*kv));
        const char **fetch = calloc((size_t)argc + 1, sizeof(*fetch));
        int nk = 0, nfetch = 0, i;
        int stats = 0, rejected = 0, opt = 0, rc = JB_OK;
        int ret = 2;

        memset(&run, 0, sizeof(run));
        buf_init(&run.line, EV_LINE_MAX);
        if (!ko || !kv || !fetch)
                goto oom;
        while ((opt = cli_next(&c, argc, argv)) > 0) {
                if (opt == 'c') {
                        cfgpath = optarg;
                } else if (opt == OPT_FETCH) {
                        fetch[nfetch++] = optarg;
                } else {
                        ko[nk] = opt;
                        kv[nk++] = optarg;
                }
        }
        if (opt == CLI_EXIT) {
                ret = c.exitcode;
                goto out;
        }
        if (nfetch && !cfgpath) {
                ret = cli_usage_error(&c, "--fetch reads through Access Anywhere: give -c FILE too");
                goto out;
        }
        if (optind >= argc && !nfetch) {
                ret = cli_usage_error(&c, "no file given");
                goto out;
        }
        if (cfgpath) {
                if (deployment_ctx(cfgpath, &run.ctx, &aa)) {
                        ret = 1;
                        goto out;
                }
        } else {
                run.ctx = ct_ctx_new();
                if (!run.ctx)
                        goto oom;
        }
        for (i = 0; rc == JB_OK && i < nk; i++)
                rc = apply_opt(&c, &run, &lim, &stats, ko[i], kv[i]);
        if (rc == 2) {
                ret = 2;
                goto out;
        }
        if (rc)
                goto oom;
        rdr = ct_reader_new(&lim, on_record, &run);
        chunk = malloc(EV_READ_CHUNK);
        if (!rdr || !chunk)
                goto oom;
        ct_reader_set_hash(rdr, run.sha256);
        for (i = 0; i < nfetch; i++) {
                run.err[0] = '\0';
                rc = fetch_file(&run, rdr, aa, fetch[i]);
                if (!rc)
                        print_sha256(&run, rdr, fetch[i]);
                if (rc) {
                        rejected++;
                        run.counts[CT_MALFORMED]++;
                        fflush(stdout);
                        fprintf(stderr, "jibe events: %s: rejected: %s\n", fetch[i],
                                run.err[0] ? run.err : jb_strerror(rc));
                }
        }
        rejected += read_files(&run, rdr, chunk, argc - optind, argv + optind);
        fflush(stdout);
        if (stats)
                print_stats(&run);
        ret = rejected ? 1 : 0;
        goto out;
oom:
        fprintf(stderr, "jibe events: out of memory\n");
        ret = 2;
out:
        free(chunk);
        free(ko);
        free(kv);
        free(fetch);
        ct_reader_free(rdr);
        ct_ctx_free(run.ctx);
        aa_client_free(aa);
        buf_clear(&run.line);
        return ret;
}
