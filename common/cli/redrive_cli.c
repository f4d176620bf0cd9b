/*
 * redrive_cli.c - `jibe redrive`: the command (its line, then the mode the configuration
 * names), the listing shared by both modes, and the embedded mode's redrive (list the
 * dead-letter file, request a redrive from `jibe run`, discard). The Kafka mode's loop is in
 * redrive_kafka.c.
 *
 * Owns: parsing redrive's options, the filters, the one-line description of a dead letter.
 * Does not: touch the dead-letter file's records (dead.c reads them and appends settlements)
 * or put messages back itself (the redriver thread of `jibe run` does, dead.c).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "cfg.h"
#include "cli.h"
#include "dead.h"
#include "q.h"
#include "redrive.h"

void redrive_usage(FILE *fp)
{
        fprintf(fp,
                "usage: jibe redrive -c FILE [filters] [--all] [--execute | --discard TEXT]\n"
                "\n"
                "Lists the dead letters: what a stage could not do (a log file the parser found\n"
                "damaged, a resync Access Anywhere refused), with time, stage, the log file or object\n"
                "and the reason. Once the cause is fixed, --execute puts them back where they came\n"
                "from: a log file to the parser, an event to the syncer.\n"
                "  Embedded mode (jibe run): the dead letters are in STATE_DIR/dead-letters.jsonl;\n"
                "  --execute leaves a request in STATE_DIR/redrive/ that the running jibe run takes\n"
                "  within a few seconds (or the next one at its start); an entry is marked redriven\n"
                "  once its work is done. --discard TEXT marks the selected entries discarded with\n"
                "  the reason TEXT. Redriven and discarded entries are hidden unless --all.\n"
                "  Kafka mode: reads <prefix>dead (consumer group <prefix>redrive) up to the end;\n"
                "  --execute puts back every dead letter not yet redriven (filters only narrow the\n"
                "  listing there).\n"
                "\n"
                "  -c, --config FILE      configuration file\n"
                "  --stage parser|syncer  only the dead letters of that stage\n"
                "  --reason SUBSTR        only those whose reason contains SUBSTR (any case)\n"
                "  --since T, --until T   only those written at or after / before T: ISO-8601 with a\n"
                "                         zone (2026-11-29T10:00:00Z) or a time ago (45s, 30m, 2h, 1d)\n"
                "  --id N                 only the entry #N (embedded mode)\n"
                "  --all                  also list those already redriven or discarded\n"
                "  --execute              put the selected dead letters back\n"
                "  --discard TEXT         mark the selected dead letters discarded, because TEXT\n"
                "  -h, --help             this help\n"
                "  --version              print jibe's version\n");
}

static int parse_when(const char *s, int64_t *ms)
{
        int64_t d;

        if (cli_parse_datetime(s, ms) == 0)
                return 0;
        if (cli_parse_duration(s, &d) == 0) {
                *ms = msg_now_ms() - d;
                return 0;
        }
        return -1;
}

enum { OPT_EXECUTE = 0x200, OPT_ALL, OPT_STAGE, OPT_REASON, OPT_SINCE, OPT_UNTIL, OPT_ID, OPT_DISCARD };

static const struct option redrive_opts_table[] = {{"config", required_argument, NULL, 'c'},
                                                   {"execute", no_argument, NULL, OPT_EXECUTE},
                                                   {"all", no_argument, NULL, OPT_ALL},
                                                   {"stage", required_argument, NULL, OPT_STAGE},
                                                   {"reason", required_argument, NULL, OPT_REASON},
                                                   {"since", required_argument, NULL, OPT_SINCE},
                                                   {"until", required_argument, NULL, OPT_UNTIL},
                                                   {"id", required_argument, NULL, OPT_ID},
                                                   {"discard", required_argument, NULL, OPT_DISCARD},
                                                   CLI_OPTS_END};

/* One option with its value into o: 0, or 2 (a bad value, said why). */
static int redrive_opt(struct cli *c, struct redrive_opts *o, int opt, const char *v)
{
        char *end;

        switch (opt) {
        case 'c':
                o->cfgpath = v;
                return 0;
        case OPT_EXECUTE:
                o->execute = 1;
                return 0;
        case OPT_ALL:
                o->all = 1;
                return 0;
        case OPT_REASON:
                o->reason = v;
                return 0;
        case OPT_STAGE:
                if (!strcmp(v, "parser") || !strcmp(v, "parse"))
                        o->stage = "parse";
                else if (!strcmp(v, "syncer") || !strcmp(v, "sync"))
                        o->stage = "sync";
                else
                        return cli_bad_value(c, "--stage is parser or syncer, not '%s'", v);
                return 0;
        case OPT_DISCARD:
                if (!*v)
                        return cli_bad_value(
                                c, "--discard needs the reason, e.g. --discard \"bucket removed\"");
                o->discard = v;
                return 0;
        case OPT_ID:
                errno = 0;
                o->id = strtoll(v[0] == '#' ? v + 1 : v, &end, 10);
                if (errno || *end || end == v || o->id < 0)
                        return cli_bad_value(c, "--id is an entry number as listed (#N), not '%s'", v);
                return 0;
        default: /* OPT_SINCE, OPT_UNTIL */
                if (parse_when(v, opt == OPT_SINCE ? &o->since_ms : &o->until_ms) != 0)
                        return cli_bad_value(
                                c,
                                "%s \"%s\" is not a time such as 2026-11-29T10:00:00Z or a time "
                                "ago such as 30m, 2h, 1d",
                                opt == OPT_SINCE ? "--since" : "--until", v);
                return 0;
        }
}

int redrive_args(int argc, char **argv, struct redrive_opts *o, int *exitcode)
{
        struct cli c = {"redrive", ":c:h", redrive_opts_table, redrive_usage, 0};
        int opt = 0, rc = 0;

        memset(o, 0, sizeof(*o));
        o->since_ms = o->until_ms = o->id = -1;
        while (!rc && (opt = cli_next(&c, argc, argv)) > 0)
                rc = redrive_opt(&c, o, opt, optarg);
        if (rc) {
                *exitcode = rc;
                return 1;
        }
        *exitcode = cli_finish(&c, opt, argc, argv);
        if (*exitcode < 0 && !o->cfgpath)
                *exitcode = cli_usage_error(&c, "give the configuration file with -c FILE");
        else if (*exitcode < 0 && o->execute && o->discard)
                *exitcode = cli_bad_value(&c, "give --execute or --discard, not both");
        return *exitcode >= 0;
}

int redrive_filtered(const struct redrive_opts *o)
{
        return o->stage || o->reason || o->since_ms >= 0 || o->until_ms >= 0 || o->id >= 0;
}

static int contains_nocase(const char *hay, const char *needle)
{
        size_t n = strlen(needle), i, k;

        if (!hay)
                return n == 0;
        for (i = 0; hay[i] || !n; i++) {
                for (k = 0; k < n && hay[i + k] &&
                            tolower((unsigned char)hay[i + k]) == tolower((unsigned char)needle[k]);
                     k++)
                        ;
                if (k == n)
                        return 1;
        }
        return 0;
}

int redrive_match(const struct redrive_opts *o, const struct msg_dead *d)
{
        if (o->stage && (!d->stage || strcmp(d->stage, o->stage)))
                return 0;
        if (o->reason && !contains_nocase(d->error, o->reason))
                return 0;
        if (o->since_ms >= 0 && d->at_ms < o->since_ms)
                return 0;
        if (o->until_ms >= 0 && d->at_ms >= o->until_ms)
                return 0;
        return 1;
}

/* Copy s into out as printable text: control bytes become '?', at most max bytes of s. */
static void printable(char *out, size_t outsz, const char *s, size_t len, size_t max)
{
        size_t i, o = 0;

        for (i = 0; i < len && i < max && o + 4 < outsz; i++)
                out[o++] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
        if (i < len && o + 4 < outsz) {
                memcpy(out + o, "...", 3);
                o += 3;
        }
        out[o] = '\0';
}

void redrive_what(const struct msg_dead *d, char *out, size_t outsz)
{
        struct msg_logfile lf;
        struct msg_objevent ev;
        char e[256], txt[1200];

        if (d->payload && d->stage && !strcmp(d->stage, "parse") &&
            msg_logfile_decode(d->payload, d->payload_len, &lf, e, sizeof(e)) == JB_OK) {
                printable(txt, sizeof(txt), lf.path, strlen(lf.path), 1100);
                snprintf(out, outsz, "log file: %s", txt);
                msg_logfile_clear(&lf);
                return;
        }
        if (d->payload && d->stage && !strcmp(d->stage, "sync") &&
            msg_objevent_decode(d->payload, d->payload_len, &ev, e, sizeof(e)) == JB_OK) {
                char k[1100];

                snprintf(k, sizeof(k), "%s/%s%s%s", ev.provider, ev.bucket, ev.key ? "/" : "",
                         ev.key ? ev.key : "");
                printable(txt, sizeof(txt), k, strlen(k), 1100);
                snprintf(out, outsz, "event: %s %s", msg_op_name(ev.op), txt);
                msg_objevent_clear(&ev);
                return;
        }
        printable(txt, sizeof(txt), d->payload ? d->payload : "", d->payload ? d->payload_len : 0, 80);
        snprintf(out, outsz, "unreadable message: %s", d->payload ? txt : "(none)");
}

void redrive_line(const struct msg_dead *d, char *out, size_t outsz)
{
        char when[32], what[1400], why[600];

        cli_fmt_utc(when, sizeof(when), d->at_ms);
        redrive_what(d, what, sizeof(what));
        printable(why, sizeof(why), d->error ? d->error : "-", d->error ? strlen(d->error) : 1, 500);
        snprintf(out, outsz, "%s %-5s %s: %s (attempts %" PRId64 ")", when, d->stage ? d->stage : "?",
                 what, why, d->attempts);
}

/* ---- embedded mode ---- */

/* 1 when a jibe process holds the state directory (jibe run is running). */
static int run_is_running(const char *state_dir)
{
        char path[PATH_MAX];
        int fd, busy = 0;

        snprintf(path, sizeof(path), "%s/.lock", state_dir);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        if (flock(fd, LOCK_SH | LOCK_NB) != 0)
                busy = errno == EWOULDBLOCK;
        close(fd);
        return busy;
}

static void print_entry(const struct dead_entry *e)
{
        char line[2400], st[700], when[32];

        if (e->readable)
                redrive_line(&e->d, line, sizeof(line));
        else
                snprintf(line, sizeof(line), "(a line that is not a dead letter)");
        if (e->state == DEAD_REDRIVEN || e->state == DEAD_DISCARDED) {
                cli_fmt_utc(when, sizeof(when), e->settled_ms);
                snprintf(st, sizeof(st), "%s %s%s%.500s%s", dead_state_name(e->state), when,
                         e->note ? " (" : "", e->note ? e->note : "", e->note ? ")" : "");
        } else {
                snprintf(st, sizeof(st), "%s", dead_state_name(e->state));
        }
        printf("#%" PRId64 " [%s] %s\n", e->off, st, line);
}

/* One embedded redrive: what was selected and the counts of the summary. */
struct emb_run {
        const struct cfg *cfg;
        const struct redrive_opts *o;
        const struct dead_entry **sel; /* entries to request, nsel of l.n */
        size_t nsel;
        unsigned long shown, by_state[4], files, events, skipped, discarded, busy;
};

/* Select entry e for the redrive request when its stage can read it again. */
static void emb_select(struct emb_run *r, const struct dead_entry *e)
{
        struct buf key;
        char err[1024];

        buf_init(&key, MSG_MAX_BYTES);
        switch (e->readable ? dead_target(&e->d, &key, err, sizeof(err))
                            : jb_seterr(-1, err, sizeof(err), "the line is not a dead letter")) {
        case Q_FILES:
                r->files++;
                r->sel[r->nsel++] = e;
                break;
        case Q_EVENTS:
                r->events++;
                r->sel[r->nsel++] = e;
                break;
        default:
                printf("  skip: its stage cannot read its message (%s): it stays a dead letter "
                       "(--discard TEXT to put it aside)\n",
                       err);
                r->skipped++;
                break;
        }
        buf_clear(&key);
}

/* One entry of the file: listed when the filters select it, then discarded or selected as
 * asked. 0, or 1 when discarding failed (said why). */
static int emb_entry(struct emb_run *r, const struct dead_entry *e)
{
        const struct redrive_opts *o = r->o;
        int settled = e->state == DEAD_REDRIVEN || e->state == DEAD_DISCARDED;
        char err[1024];

        if (o->id >= 0 && e->off != o->id)
                return 0;
        if (settled && !o->all)
                return 0;
        if (e->readable ? !redrive_match(o, &e->d) : (redrive_filtered(o) && o->id < 0))
                return 0;
        r->shown++;
        r->by_state[e->state]++;
        print_entry(e);
        if (settled)
                return 0;
        if (e->state == DEAD_REQUESTED && (o->execute || o->discard)) {
                printf("  already requested: jibe run puts it back (left as it is)\n");
                r->busy++;
                return 0;
        }
        if (o->discard) {
                if (dead_settle(r->cfg->state_dir, e->off, e->sum, DEAD_DISCARDED, o->discard, err,
                                sizeof(err)) != JB_OK) {
                        fprintf(stderr, "jibe redrive: %s\n", err);
                        return 1;
                }
                printf("  discarded: %s\n", o->discard);
                r->discarded++;
                return 0;
        }
        if (o->execute)
                emb_select(r, e);
        return 0;
}

/* Leave the request for jibe run. 0, or 1 (said why). */
static int emb_request(const struct emb_run *r)
{
        const char *dir = r->cfg->state_dir;
        char err[1024], name[128];

        if (dead_request(dir, r->sel, r->nsel, name, sizeof(name), err, sizeof(err)) != JB_OK) {
                fprintf(stderr, "jibe redrive: %s\n", err);
                return 1;
        }
        if (run_is_running(dir))
                printf("requested %s/%s/%s: the running jibe run puts them back within a few seconds\n",
                       dir, DEAD_REQ_DIR, name);
        else
                printf("requested %s/%s/%s: jibe run is not running; it puts them back when it starts\n",
                       dir, DEAD_REQ_DIR, name);
        return 0;
}

static void emb_summary(const struct emb_run *r, size_t total, int ret)
{
        const struct redrive_opts *o = r->o;

        printf("%lu dead letter(s) of %zu in %s/%s: %lu open, %lu requested, %lu redriven, %lu discarded\n",
               r->shown, total, r->cfg->state_dir, DEAD_FILE, r->by_state[DEAD_OPEN],
               r->by_state[DEAD_REQUESTED], r->by_state[DEAD_REDRIVEN], r->by_state[DEAD_DISCARDED]);
        if (o->execute && !ret)
                printf("redrive requested: %lu log file(s) and %lu event(s); %lu not usable, %lu already "
                       "requested\n",
                       r->files, r->events, r->skipped, r->busy);
        else if (o->discard && !ret)
                printf("discarded: %lu; %lu already requested\n", r->discarded, r->busy);
        else if (!o->execute && !o->discard && r->by_state[DEAD_OPEN])
                printf("run again with --execute to put them back, or --discard TEXT to put them aside\n");
}

int redrive_embedded(const struct cfg *cfg, const struct redrive_opts *o)
{
        struct emb_run r;
        struct dead_list l;
        char err[1024];
        size_t i;
        int ret = 0;

        memset(&r, 0, sizeof(r));
        r.cfg = cfg;
        r.o = o;
        if (dead_load(cfg->state_dir, &l, err, sizeof(err)) != JB_OK) {
                fprintf(stderr, "jibe redrive: %s\n", err);
                return 1;
        }
        if (l.n && !(r.sel = calloc(l.n, sizeof(*r.sel)))) {
                fprintf(stderr, "jibe redrive: out of memory\n");
                dead_list_clear(&l);
                return 1;
        }
        for (i = 0; i < l.n && !ret; i++)
                ret = emb_entry(&r, &l.v[i]);
        if (!ret && r.nsel)
                ret = emb_request(&r);
        emb_summary(&r, l.n, ret);
        free(r.sel);
        dead_list_clear(&l);
        return ret;
}

int redrive_main(int argc, char **argv)
{
        struct redrive_opts o;
        struct cfg cfg;
        char err[1024];
        int rc;

        if (redrive_args(argc, argv, &o, &rc))
                return rc;
        if (cfg_load(&cfg, o.cfgpath, err, sizeof(err)) != JB_OK) {
                fprintf(stderr, "jibe redrive: %s\n", err);
                return 1;
        }
        if (!cfg.kafka_brokers || !*cfg.kafka_brokers) {
                rc = redrive_embedded(&cfg, &o); /* the dead-letter file of jibe run */
        } else if (o.discard || o.id >= 0 || (o.execute && redrive_filtered(&o))) {
                fprintf(stderr,
                        "jibe redrive: in the Kafka mode, --execute puts back every dead letter not "
                        "yet redriven: --discard, --id and filters with --execute are for the "
                        "embedded mode (filters narrow the listing)\n");
                rc = 2;
        } else {
                rc = redrive_kafka(&cfg, &o);
        }
        cfg_clear(&cfg);
        return rc;
}
