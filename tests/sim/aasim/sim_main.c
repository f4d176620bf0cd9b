/*
 * sim_main.c - jibe-aa-sim's entry point: command line, DIR/sim.json, the initial index
 * (DIR/index.jsonl, else built from DIR/truth), the HTTP daemon, the port file and a clean
 * stop on SIGTERM/SIGINT.
 *
 * Ownership: main() owns the one struct sim; sim_free() releases everything it holds.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "log.h"
#include "sim.h"

#define CONFIG_MAX (16u << 20)
#define INDEX_MAX (2048u << 20)

static const char usage[] =
        "usage: jibe-aa-sim --root DIR [--listen ADDR] [--port N] [--port-file F] [--quiet] [--help]\n"
        "\n"
        "Simulates Access Anywhere's /api/rpc.php (see tests/sim/aasim/PROTOCOL.md) on\n"
        "127.0.0.1 (or --listen ADDR) for jibe's tests, with an index kept apart from the S3 truth.\n"
        "\n"
        "  --root DIR      deployment directory: DIR/sim.json (required), DIR/truth/<bucket>/,\n"
        "                  DIR/index.jsonl (optional; else the index is built from the truth)\n"
        "  --listen ADDR   IPv4 address to listen on (default 127.0.0.1), e.g. a test host's\n"
        "                  address in a network namespace\n"
        "  --port N        TCP port (default 0: a free port is chosen)\n"
        "  --port-file F   write the port to F (atomically) once listening\n"
        "  --quiet         no log line per request (errors are still logged)\n"
        "  --help          this text\n"
        "\n"
        "Inspection: GET /sim/stats, GET /sim/diff[?bucket=B][&exclude=B], GET|POST /sim/faults,\n"
        "POST /sim/reset, POST /sim/fullsync?provider=ID, GET|POST /sim/index (tests/sim/aasim/README.md).\n"
        "Stops cleanly on SIGTERM or SIGINT.\n";

/* ---------------------------------------------------------------- files */

static int read_file(const char *path, size_t max, struct buf *out, char *errstr, size_t errsz)
{
        FILE *fp = fopen(path, "rb");
        char chunk[65536];
        size_t n;
        int rc = JB_OK;

        if (!fp)
                return jb_seterr(errno == ENOENT ? JB_ENOTFOUND : JB_EIO, errstr, errsz,
                                 "cannot open %s: %s", path, strerror(errno));
        buf_init(out, max);
        while (!rc && (n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
                rc = buf_append(out, chunk, n);
        if (!rc && ferror(fp))
                rc = JB_EIO;
        fclose(fp);
        if (!rc && !out->p)
                rc = buf_puts(out, "");
        if (rc)
                return jb_seterr(rc, errstr, errsz, "cannot read %s (%s)", path, jb_strerror(rc));
        return JB_OK;
}

static int write_port_file(const char *path, unsigned port, char *errstr, size_t errsz)
{
        char tmp[4096];
        FILE *fp;

        snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
        fp = fopen(tmp, "w");
        if (!fp)
                return jb_seterr(JB_EIO, errstr, errsz, "cannot write %s: %s", tmp, strerror(errno));
        fprintf(fp, "%u\n", port);
        if (fclose(fp) != 0 || rename(tmp, path) != 0) {
                unlink(tmp);
                return jb_seterr(JB_EIO, errstr, errsz, "cannot write %s: %s", path, strerror(errno));
        }
        return JB_OK;
}

/* ---------------------------------------------------------------- sim.json */

/* A string field, or a number turned into a string; NULL when absent. */
static char *jstr(const cJSON *o, const char *k, bool *bad)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
        char t[64];
        char *s;

        if (!v || cJSON_IsNull(v))
                return NULL;
        if (cJSON_IsString(v))
                s = strdup(v->valuestring);
        else if (cJSON_IsNumber(v)) {
                snprintf(t, sizeof(t), "%.0f", v->valuedouble);
                s = strdup(t);
        } else {
                *bad = true;
                return NULL;
        }
        if (!s)
                *bad = true;
        return s;
}

static bool plain_name(const char *s)
{
        return s && *s && !strchr(s, '/') && strcmp(s, ".") != 0 && strcmp(s, "..") != 0 &&
               strncmp(s, ".tmp-", 5) != 0 && strlen(s) <= 255;
}

static int load_users(struct sim *s, const cJSON *arr, char *errstr, size_t errsz)
{
        const cJSON *u, *t;
        size_t i = 0, j;
        bool bad = false;
        char num[32];

        if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0)
                return jb_seterr(JB_EINPUT, errstr, errsz,
                                 "sim.json: \"users\" must be a non-empty list");
        s->users = calloc((size_t)cJSON_GetArraySize(arr), sizeof(*s->users));
        if (!s->users)
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        cJSON_ArrayForEach(u, arr)
        {
                struct user *x = &s->users[i];
                const cJSON *toks = cJSON_GetObjectItemCaseSensitive(u, "authtokens");

                s->nusers = ++i;
                x->login = jstr(u, "login", &bad);
                x->password = jstr(u, "password", &bad);
                x->userid = jstr(u, "userid", &bad);
                if (!x->userid && !bad) {
                        snprintf(num, sizeof(num), "%zu", i);
                        x->userid = strdup(num);
                }
                if (bad || !x->login || !x->password || !x->userid)
                        return jb_seterr(JB_EINPUT, errstr, errsz,
                                         "sim.json: user %zu needs \"login\" and \"password\" strings",
                                         i);
                log_add_secret(x->password);
                if (toks && !cJSON_IsArray(toks))
                        return jb_seterr(JB_EINPUT, errstr, errsz,
                                         "sim.json: user %s: \"authtokens\" must be a list", x->login);
                x->authtokens = calloc((size_t)cJSON_GetArraySize(toks) + 1, sizeof(char *));
                if (!x->authtokens)
                        return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                j = 0;
                cJSON_ArrayForEach(t, toks)
                {
                        if (!cJSON_IsString(t) || !*t->valuestring)
                                return jb_seterr(JB_EINPUT, errstr, errsz,
                                                 "sim.json: user %s: authtokens must be strings",
                                                 x->login);
                        x->authtokens[j] = strdup(t->valuestring);
                        if (!x->authtokens[j])
                                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                        log_add_secret(x->authtokens[j]);
                        x->nauth = ++j;
                }
        }
        return JB_OK;
}

/* last_sync -> a completed task (unless task=false) and, with running=true, a running one. */
static int load_last_sync(struct sim *s, struct prov *p, const cJSON *ls, char *errstr, size_t errsz)
{
        const cJSON *v;
        bool bad = false, task, running;
        char *st = NULL, *co = NULL, *tid = NULL, *cb = NULL;
        char start[20] = "0000-00-00 00:00:00", done[20] = "0000-00-00 00:00:00";
        int64_t t, tstart = 0, tdone = 0, files = 0;
        struct task *tk;
        int rc = JB_OK;

        if (!ls)
                return JB_OK;
        if (!cJSON_IsObject(ls))
                return jb_seterr(JB_EINPUT, errstr, errsz,
                                 "sim.json: provider %s: \"last_sync\" must be an object", p->id);
        st = jstr(ls, "start", &bad);
        co = jstr(ls, "completed", &bad);
        tid = jstr(ls, "taskid", &bad);
        cb = jstr(ls, "callback", &bad);
        if (!bad && st && sim_parse_time(st, &t) == JB_OK) {
                snprintf(start, sizeof(start), "%s", st);
                tstart = t;
        } else if (st) {
                bad = true;
        }
        if (!bad && co && sim_parse_time(co, &t) == JB_OK) {
                snprintf(done, sizeof(done), "%s", co);
                tdone = t;
        } else if (co) {
                bad = true;
        }
        v = cJSON_GetObjectItemCaseSensitive(ls, "files");
        if (cJSON_IsNumber(v))
                files = (int64_t)v->valuedouble;
        else if (v)
                bad = true;
        v = cJSON_GetObjectItemCaseSensitive(ls, "task");
        task = v ? cJSON_IsTrue(v) : true;
        if (v && !cJSON_IsBool(v))
                bad = true;
        v = cJSON_GetObjectItemCaseSensitive(ls, "running");
        running = v && cJSON_IsTrue(v);
        if (v && !cJSON_IsBool(v))
                bad = true;
        if (bad || (cb && strcmp(cb, "ReSync") != 0 && strcmp(cb, "InitialSync") != 0) ||
            (tid && (!*tid || strlen(tid) >= sizeof(tk->id)))) {
                rc = jb_seterr(
                        JB_EINPUT, errstr, errsz,
                        "sim.json: provider %s: last_sync needs times like \"2026-11-29 06:00:00\", a number of files, booleans task and running, a callback ReSync or InitialSync and a short taskid",
                        p->id);
                goto out;
        }
        if (task) {
                tk = sim_add_task(s, p, tid);
                if (!tk) {
                        rc = jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                        goto out;
                }
                snprintf(tk->callback, sizeof(tk->callback), "%s", cb ? cb : "ReSync");
                memcpy(tk->added, start, sizeof(tk->added));
                memcpy(tk->completed, done, sizeof(tk->completed));
                tk->files = files;
        }
        if (running) {
                tk = sim_add_task(s, p, NULL);
                if (!tk) {
                        rc = jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                        goto out;
                }
                snprintf(tk->callback, sizeof(tk->callback), "ReSync");
                sim_fmt_time((tdone > tstart ? tdone : tstart > 0 ? tstart : s->m.t0) + 60, tk->added);
                tk->running = true;
        }
out:
        free(st);
        free(co);
        free(tid);
        free(cb);
        return rc;
}

static int load_providers(struct sim *s, const cJSON *arr, char *errstr, size_t errsz)
{
        const cJSON *pj, *bj;
        struct model *m = &s->m;
        size_t i = 0, j, k;
        bool bad = false;
        int rc;

        if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0)
                return jb_seterr(JB_EINPUT, errstr, errsz,
                                 "sim.json: \"providers\" must be a non-empty list");
        m->provs = calloc((size_t)cJSON_GetArraySize(arr), sizeof(*m->provs));
        if (!m->provs)
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        cJSON_ArrayForEach(pj, arr)
        {
                struct prov *p = &m->provs[i];
                const cJSON *bl = cJSON_GetObjectItemCaseSensitive(pj, "buckets");

                m->nprovs = ++i;
                p->id = jstr(pj, "id", &bad);
                p->name = jstr(pj, "name", &bad);
                p->access_key = jstr(pj, "access_key", &bad);
                p->arn = jstr(pj, "arn", &bad);
                p->user_agent = jstr(pj, "user_agent", &bad);
                if (!p->access_key && !bad)
                        p->access_key = strdup("");
                if (bad || !p->id || !*p->id || !plain_name(p->name) || !p->access_key)
                        return jb_seterr(
                                JB_EINPUT, errstr, errsz,
                                "sim.json: provider %zu needs an \"id\" and a \"name\" without '/'", i);
                for (k = 0; k + 1 < i; k++)
                        if (strcmp(m->provs[k].id, p->id) == 0 || strcmp(m->provs[k].name, p->name) == 0)
                                return jb_seterr(JB_EINPUT, errstr, errsz,
                                                 "sim.json: provider id %s or name %s used twice", p->id,
                                                 p->name);
                if (!cJSON_IsArray(bl))
                        return jb_seterr(JB_EINPUT, errstr, errsz,
                                         "sim.json: provider %s: \"buckets\" must be a list of names",
                                         p->id);
                p->buckets = calloc((size_t)cJSON_GetArraySize(bl) + 1, sizeof(*p->buckets));
                if (!p->buckets)
                        return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                j = 0;
                cJSON_ArrayForEach(bj, bl)
                {
                        if (!cJSON_IsString(bj) || !plain_name(bj->valuestring))
                                return jb_seterr(
                                        JB_EINPUT, errstr, errsz,
                                        "sim.json: provider %s: bucket names must be strings without '/'",
                                        p->id);
                        if (model_bucket(m, bj->valuestring))
                                return jb_seterr(JB_EINPUT, errstr, errsz,
                                                 "sim.json: bucket %s is listed twice", bj->valuestring);
                        p->buckets[j].name = strdup(bj->valuestring);
                        if (!p->buckets[j].name)
                                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                        p->buckets[j].prov = p;
                        p->nbuckets = ++j;
                }
                rc = load_last_sync(s, p, cJSON_GetObjectItemCaseSensitive(pj, "last_sync"), errstr,
                                    errsz);
                if (rc)
                        return rc;
        }
        return JB_OK;
}

/* DIR/hidden.txt (optional, a simulator-only test device): one "<bucket>/<key>" a line, files
 * that listings leave out but checkPathExists and getFile still serve. Each is put in the
 * index from the truth now, so it can be found by path at once. */
static int load_hidden(struct sim *s, const char *dir, char *errstr, size_t errsz)
{
        struct buf path, text;
        char *p, *nl;
        int rc, line = 0;

        buf_init(&path, 1u << 16);
        if (buf_printf(&path, "%s/hidden.txt", dir)) {
                buf_clear(&path);
                return jb_seterr(JB_EINPUT, errstr, errsz, "--root path too long");
        }
        rc = read_file(path.p, INDEX_MAX, &text, errstr, errsz);
        buf_clear(&path);
        if (rc == JB_ENOTFOUND)
                return JB_OK;
        if (rc)
                return rc;
        if (buf_append(&text, "", 1)) {
                buf_clear(&text);
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        }
        for (p = text.p; !rc && p && *p; p = nl) {
                struct bucket *b;
                const char *result, *slash;
                char name[256];

                line++;
                nl = strchr(p, '\n');
                if (nl)
                        *nl++ = '\0';
                if (!*p)
                        continue;
                slash = strchr(p, '/');
                if (!slash || !slash[1] || (size_t)(slash - p) >= sizeof(name)) {
                        rc = jb_seterr(JB_EINPUT, errstr, errsz,
                                       "hidden.txt line %d: want <bucket>/<key>, not '%s'", line, p);
                        break;
                }
                memcpy(name, p, (size_t)(slash - p));
                name[slash - p] = '\0';
                b = model_bucket(&s->m, name);
                if (!b) {
                        rc = jb_seterr(JB_EINPUT, errstr, errsz,
                                       "hidden.txt line %d: no provider has bucket '%s'", line, name);
                        break;
                }
                if (!smap_put(&s->hidden, p)) {
                        rc = jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                        break;
                }
                rc = model_sync_key(&s->m, b, slash + 1, &result, errstr, errsz);
        }
        buf_clear(&text);
        return rc;
}

int sim_load_config(struct sim *s, const char *dir, char *errstr, size_t errsz)
{
        struct buf text, path;
        cJSON *root = NULL;
        const cJSON *v;
        struct recon_stats st;
        size_t i, j;
        int rc;

        buf_init(&path, 1u << 16);
        rc = model_init(&s->m, dir);
        if (rc)
                return jb_seterr(rc, errstr, errsz, "out of memory");
        if (buf_printf(&path, "%s/sim.json", dir))
                return jb_seterr(JB_EINPUT, errstr, errsz, "--root path too long");
        rc = read_file(path.p, CONFIG_MAX, &text, errstr, errsz);
        if (rc)
                goto out;
        root = cJSON_ParseWithLength(text.p, text.len);
        buf_clear(&text);
        if (!cJSON_IsObject(root)) {
                rc = jb_seterr(JB_EINPUT, errstr, errsz, "%s is not a JSON object", path.p);
                goto out;
        }
        v = cJSON_GetObjectItemCaseSensitive(root, "sitetitle");
        s->sitetitle = strdup(cJSON_IsString(v) ? v->valuestring : "jibe simulator");
        v = cJSON_GetObjectItemCaseSensitive(root, "token_lifetime_s");
        s->token_lifetime_s = 3600;
        if (cJSON_IsNumber(v) && v->valuedouble >= 0)
                s->token_lifetime_s = v->valuedouble;
        else if (v) {
                rc = jb_seterr(JB_EINPUT, errstr, errsz,
                               "sim.json: token_lifetime_s must be a number >= 0");
                goto out;
        }
        if (!s->sitetitle) {
                rc = jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                goto out;
        }
        s->cfg_refresh_ms = 150;
        s->cfg_refresh_quiet_ms = 0;
        s->cfg_single_object = false;
        s->cfg_sync_event = true;
        v = cJSON_GetObjectItemCaseSensitive(root, "refresh_ms");
        if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e12)
                s->cfg_refresh_ms = (int64_t)v->valuedouble;
        else if (v)
                rc = jb_seterr(JB_EINPUT, errstr, errsz, "sim.json: refresh_ms must be a number >= 0");
        v = cJSON_GetObjectItemCaseSensitive(root, "refresh_quiet_ms");
        if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e12)
                s->cfg_refresh_quiet_ms = (int64_t)v->valuedouble;
        else if (v)
                rc = jb_seterr(JB_EINPUT, errstr, errsz,
                               "sim.json: refresh_quiet_ms must be a number >= 0");
        v = cJSON_GetObjectItemCaseSensitive(root, "single_as_object");
        if (cJSON_IsBool(v))
                s->cfg_single_object = cJSON_IsTrue(v);
        else if (v)
                rc = jb_seterr(JB_EINPUT, errstr, errsz,
                               "sim.json: single_as_object must be true or false");
        v = cJSON_GetObjectItemCaseSensitive(root, "sync_on_provider_event");
        if (cJSON_IsBool(v))
                s->cfg_sync_event = cJSON_IsTrue(v);
        else if (v)
                rc = jb_seterr(JB_EINPUT, errstr, errsz,
                               "sim.json: sync_on_provider_event must be true or false");
        if (rc)
                goto out;
        rc = load_users(s, cJSON_GetObjectItemCaseSensitive(root, "users"), errstr, errsz);
        if (!rc)
                rc = load_providers(s, cJSON_GetObjectItemCaseSensitive(root, "providers"), errstr,
                                    errsz);
        if (!rc && model_add_providers(&s->m))
                rc = jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        if (rc)
                goto out;
        buf_reset(&path);
        if (buf_printf(&path, "%s/index.jsonl", dir)) {
                rc = jb_seterr(JB_EINPUT, errstr, errsz, "--root path too long");
                goto out;
        }
        rc = read_file(path.p, INDEX_MAX, &text, errstr, errsz);
        if (rc == JB_OK) {
                rc = model_load_index(&s->m, text.p, text.len, errstr, errsz);
                buf_clear(&text);
        } else if (rc == JB_ENOTFOUND) {
                rc = JB_OK;
                for (i = 0; !rc && i < s->m.nprovs; i++)
                        for (j = 0; !rc && j < s->m.provs[i].nbuckets; j++) {
                                memset(&st, 0, sizeof(st));
                                rc = model_reconcile(&s->m, s->m.provs[i].buckets[j].node, true, &st);
                        }
                if (rc)
                        jb_seterr(rc, errstr, errsz, "cannot build the index from %s/truth", dir);
        }
        if (!rc)
                rc = load_hidden(s, dir, errstr, errsz);
out:
        cJSON_Delete(root);
        buf_clear(&path);
        return rc;
}

void sim_free(struct sim *s)
{
        size_t i, j;

        for (i = 0; i < s->nusers; i++) {
                free(s->users[i].login);
                free(s->users[i].password);
                free(s->users[i].userid);
                for (j = 0; j < s->users[i].nauth; j++)
                        free(s->users[i].authtokens[j]);
                free(s->users[i].authtokens);
        }
        free(s->users);
        free(s->sitetitle);
        model_free(&s->m);
        smap_clear(&s->tokens, NULL);
        smap_clear(&s->uploads, sim_upload_free);
        smap_clear(&s->refreshes, free);
        smap_clear(&s->refreshed, NULL);
        smap_clear(&s->hidden, NULL);
        free(s->tasks);
        stats_reset(s);
        pthread_mutex_destroy(&s->lock);
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                {"root", required_argument, NULL, 'r'},
                {"listen", required_argument, NULL, 'l'},
                {"port", required_argument, NULL, 'p'},
                {"port-file", required_argument, NULL, 'f'},
                {"quiet", no_argument, NULL, 'q'},
                {"help", no_argument, NULL, 'h'},
                {NULL, 0, NULL, 0},
        };
        const char *root = NULL, *port_file = NULL, *listen = "127.0.0.1";
        struct sim s;
        struct MHD_Daemon *d;
        sigset_t set;
        int64_t port = 0;
        uint16_t bound = 0;
        char err[512];
        int c, sig, rc;
        bool quiet = false;

        while ((c = getopt_long(argc, argv, "r:l:p:f:qh", opts, NULL)) != -1) {
                switch (c) {
                case 'r':
                        root = optarg;
                        break;
                case 'l':
                        listen = optarg;
                        break;
                case 'p':
                        if (sim_parse_i64(optarg, &port) || port < 0 || port > 65535) {
                                fprintf(stderr, "jibe-aa-sim: --port must be 0..65535\n");
                                return 2;
                        }
                        break;
                case 'f':
                        port_file = optarg;
                        break;
                case 'q':
                        quiet = true;
                        break;
                case 'h':
                        fputs(usage, stdout);
                        return 0;
                default:
                        fputs(usage, stderr);
                        return 2;
                }
        }
        if (!root || optind != argc) {
                fputs(usage, stderr);
                return 2;
        }
        memset(&s, 0, sizeof(s));
        s.quiet = quiet;
        pthread_mutex_init(&s.lock, NULL);
        faults_reset(&s.f);
        log_open(NULL, LL_INFO, NULL, 0);

        /* every thread (libmicrohttpd's included) inherits this mask; main waits for them */
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &set, NULL);
        signal(SIGPIPE, SIG_IGN);

        rc = sim_load_config(&s, root, err, sizeof(err));
        if (rc) {
                log_msg(LL_ERROR, "aasim", "%s", err);
                sim_free(&s);
                log_close();
                return 1;
        }
        d = sim_http_start(&s, listen, (uint16_t)port, &bound, err, sizeof(err));
        if (!d) {
                log_msg(LL_ERROR, "aasim", "%s", err);
                sim_free(&s);
                log_close();
                return 1;
        }
        if (port_file && write_port_file(port_file, bound, err, sizeof(err))) {
                log_msg(LL_ERROR, "aasim", "%s", err);
                sim_http_stop(d);
                sim_free(&s);
                log_close();
                return 1;
        }
        log_msg(LL_INFO, "aasim", "listening on http://%s:%u root=%s objects=%zu", listen,
                (unsigned)bound, root, s.m.icount);
        sig = 0;
        while (sigwait(&set, &sig) != 0)
                ;
        log_msg(LL_INFO, "aasim", "signal %d: stopping", sig);
        sim_http_stop(d);
        sim_free(&s);
        log_close();
        return 0;
}
