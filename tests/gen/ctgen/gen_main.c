/*
 * gen_main.c - command line of jibe-ctgen: one function per subcommand, picked in main().
 * Options are parsed here and handed to the gen_* modules; nothing else reads argv.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ctgen.h"

static const char usage_text[] =
        "usage: jibe-ctgen COMMAND [OPTIONS]\n"
        "\n"
        "Deterministic CloudTrail log generator for jibe's tests: writes an Access Anywhere\n"
        "simulator deployment directory (sim.json, truth/, index.jsonl), CloudTrail log files in\n"
        "its log bucket, and what jibe is expected to find in them (DIR/ctgen/).\n"
        "\n"
        "commands:\n"
        "  init    --root DIR --seed N [--now T]\n"
        "          sim.json (2 providers, their buckets, user admin/s3cret, token\n"
        "          PERMANENT-TOKEN-1), baseline objects under DIR/truth/, empty expectations\n"
        "  history --root DIR --seed N --hours H [--now T] [--rate ACTIONS_PER_MIN]\n"
        "          H hours of S3 activity ending at T, with a full provider sync inside the\n"
        "          window (sim.json last_sync, DIR/index.jsonl); once per directory\n"
        "          log file validation: --digests writes hourly digest files with real\n"
        "          SHA-256 values, chained, with _backfill digests for late files, and\n"
        "          DIR/ctgen/digests.json, digests.jsonl, digest-files.jsonl; scenarios\n"
        "          (counts): --hidden N (listings skip it: DIR/hidden.txt), --deleted N\n"
        "          (gone after its digest), --flipped N (a byte changed after hashing),\n"
        "          --gaps N (digests removed); --no-digests: validation off, none at all.\n"
        "          Without either: placeholder digests (hashes not real), as always\n"
        "  flood   --root DIR --seed N --files COUNT [--now T]\n"
        "          COUNT tiny log files (1-3 records) in today's folders\n"
        "          check the SHA-256 implementation against the FIPS 180-2 vectors\n"
        "  huge    --out FILE --bytes N --seed N [--level 1-9] [--writes PCT]\n"
        "          one log file of at least N decompressed bytes, written as a stream;\n"
        "          expected counts on stdout and in FILE.stats.json; --writes: that per cent\n"
        "          of the records are S3 object writes (default mix: about 19)\n"
        "\n"
        "T is YYYY-MM-DDTHH:MM:SSZ (default: now). Expected results, appended by history and\n"
        "flood: DIR/ctgen/files.txt, expected-events.jsonl, expected-stats.json,\n"
        "expected-sync.jsonl, events-args. See tests/gen/ctgen/README.md.\n";

struct opts {
        const char *root, *out, *now;
        uint64_t seed, bytes;
        double hours;
        long files;
        unsigned rate;
        int level, have_seed;
        int writes; /* huge --writes PCT, -1: the default mix */
        struct gen_dgopts dg;
};

static int parse_u64(const char *s, uint64_t *v)
{
        char *end;
        unsigned long long x;

        if (!s || !*s || *s == '-')
                return -1;
        x = strtoull(s, &end, 10);
        if (*end)
                return -1;
        *v = x;
        return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
        int i;

        memset(o, 0, sizeof(*o));
        o->rate = 12;
        o->level = 6;
        o->writes = -1;
        for (i = 2; i < argc; i++) {
                const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
                uint64_t n;

                if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
                        fputs(usage_text, stdout);
                        exit(0);
                }
                if (strcmp(a, "--digests") == 0 || strcmp(a, "--no-digests") == 0) {
                        int m = a[2] == 'd' ? GEN_DG_ON : GEN_DG_OFF;

                        if (o->dg.mode != GEN_DG_LEGACY && o->dg.mode != m) {
                                fprintf(stderr, "jibe-ctgen: --digests and --no-digests exclude "
                                                "each other\n");
                                return -1;
                        }
                        o->dg.mode = m;
                        continue;
                }
                if (!v) {
                        fprintf(stderr, "jibe-ctgen: option %s needs a value\n", a);
                        return -1;
                }
                i++;
                if (strcmp(a, "--root") == 0) {
                        o->root = v;
                } else if (strcmp(a, "--out") == 0) {
                        o->out = v;
                } else if (strcmp(a, "--now") == 0) {
                        o->now = v;
                } else if (strcmp(a, "--seed") == 0 && !parse_u64(v, &n)) {
                        o->seed = n;
                        o->have_seed = 1;
                } else if (strcmp(a, "--bytes") == 0 && !parse_u64(v, &n) && n > 0) {
                        o->bytes = n;
                } else if (strcmp(a, "--files") == 0 && !parse_u64(v, &n) && n > 0 && n < 100000000) {
                        o->files = (long)n;
                } else if (strcmp(a, "--rate") == 0 && !parse_u64(v, &n) && n > 0 && n <= 6000) {
                        o->rate = (unsigned)n;
                } else if (strcmp(a, "--writes") == 0 && !parse_u64(v, &n) && n <= 100) {
                        o->writes = (int)n;
                } else if (strcmp(a, "--level") == 0 && !parse_u64(v, &n) && n >= 1 && n <= 9) {
                        o->level = (int)n;
                } else if (strcmp(a, "--hidden") == 0 && !parse_u64(v, &n) && n <= 50) {
                        o->dg.hidden = (unsigned)n;
                } else if (strcmp(a, "--deleted") == 0 && !parse_u64(v, &n) && n <= 50) {
                        o->dg.deleted = (unsigned)n;
                } else if (strcmp(a, "--flipped") == 0 && !parse_u64(v, &n) && n <= 50) {
                        o->dg.flipped = (unsigned)n;
                } else if (strcmp(a, "--gaps") == 0 && !parse_u64(v, &n) && n <= 30) {
                        o->dg.gaps = (unsigned)n;
                } else if (strcmp(a, "--hours") == 0) {
                        char *end;

                        o->hours = strtod(v, &end);
                        if (*end || o->hours < 1 || o->hours > 24 * 30) {
                                fprintf(stderr, "jibe-ctgen: --hours wants a number from 1 to 720\n");
                                return -1;
                        }
                } else {
                        fprintf(stderr, "jibe-ctgen: bad option or value: %s %s\n", a, v);
                        return -1;
                }
        }
        return 0;
}

static int need(const char *cmd, int ok, const char *what)
{
        if (!ok)
                fprintf(stderr, "jibe-ctgen %s: %s is required (see --help)\n", cmd, what);
        return ok;
}

static int get_now(const struct opts *o, int64_t *now)
{
        if (!o->now) {
                *now = (int64_t)time(NULL);
                return 0;
        }
        if (gen_parse_iso(o->now, now)) {
                fprintf(stderr, "jibe-ctgen: --now wants YYYY-MM-DDTHH:MM:SSZ, not '%s'\n", o->now);
                return -1;
        }
        return 0;
}

int main(int argc, char **argv)
{
        struct opts o;
        struct gen_world w;
        char err[4400] = "";
        const char *cmd;
        int64_t now;
        int rc;

        if (argc < 2) {
                fputs(usage_text, stderr);
                return 2;
        }
        cmd = argv[1];
        if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
                fputs(usage_text, stdout);
                return 0;
        }
        if (parse_opts(argc, argv, &o))
                return 2;
        if ((o.dg.hidden || o.dg.deleted || o.dg.flipped || o.dg.gaps) && o.dg.mode != GEN_DG_ON) {
                fprintf(stderr, "jibe-ctgen: --hidden, --deleted, --flipped and --gaps need "
                                "--digests\n");
                return 2;
        }
        if (o.dg.mode != GEN_DG_LEGACY && strcmp(cmd, "history") != 0) {
                fprintf(stderr, "jibe-ctgen %s: digest options belong to history only\n", cmd);
                return 2;
        }
        if (!need(cmd, o.have_seed, "--seed"))
                return 2;
        if (strcmp(cmd, "huge") == 0) {
                if (!need(cmd, o.out != NULL, "--out") || !need(cmd, o.bytes > 0, "--bytes"))
                        return 2;
                rc = gen_huge_cmd(o.out, o.bytes, o.seed, o.level, o.writes, err, sizeof(err));
                if (rc)
                        fprintf(stderr, "jibe-ctgen huge: %s\n", err);
                return rc ? 1 : 0;
        }
        if (strcmp(cmd, "init") && strcmp(cmd, "history") && strcmp(cmd, "flood")) {
                fprintf(stderr, "jibe-ctgen: unknown command '%s'\n", cmd);
                fputs(usage_text, stderr);
                return 2;
        }
        if (!need(cmd, o.root != NULL, "--root") || get_now(&o, &now))
                return 2;
        gen_world_setup(&w, o.root, o.seed);
        w.dg = o.dg;
        if (strcmp(cmd, "init") == 0) {
                rc = gen_world_init_cmd(&w, now, err, sizeof(err));
                if (!rc)
                        rc = gen_expect_init(&w, err, sizeof(err));
        } else if (strcmp(cmd, "history") == 0) {
                if (!need(cmd, o.hours > 0, "--hours")) {
                        gen_world_free(&w);
                        return 2;
                }
                rc = gen_history_cmd(&w, now, o.hours, o.rate, err, sizeof(err));
        } else {
                if (!need(cmd, o.files > 0, "--files")) {
                        gen_world_free(&w);
                        return 2;
                }
                rc = gen_flood_cmd(&w, now, o.files, err, sizeof(err));
        }
        if (rc)
                fprintf(stderr, "jibe-ctgen %s: %s\n", cmd, err);
        gen_world_free(&w);
        return rc ? 1 : 0;
}
