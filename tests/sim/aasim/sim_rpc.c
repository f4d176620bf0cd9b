/*
 * sim_rpc.c - the /api/rpc.php calls of jibe-aa-sim (PROTOCOL.md), one function each,
 * picked from one table by the form field "function" (case-insensitive), plus the
 * asynchronous folder refreshes and the provider sync background tasks.
 *
 * Each handler validates its fields, then either calls fail() (an error answer) or
 * begin_ok() and writes its fields; the dispatcher closes the JSON object. sim_rpc() takes
 * sim.lock for the whole call and first applies the refreshes that are due (no handler
 * sleeps or streams under it: getFile only opens the file and hands the descriptor to
 * sim_http.c).
 * Ownership: the rpc_result's JSON buffer and file descriptor belong to the caller; struct
 * sim owns the pending refreshes (s->refreshes) and the tasks (s->tasks).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sim.h"

#define RPC_MAX_ANSWER (256u << 20)
#define PATH_CAP (1u << 16)

struct rctx {
        struct sim *s;
        const struct form *f;
        struct rpc_result *r;
        struct jw *w;
        const struct user *u;
        int state; /* 0 nothing written, 1 ok object open, 2 error written */
};

static void fail(struct rctx *c, const char *status, const char *fmt, ...) JB_PRINTF(3, 4);

static void fail(struct rctx *c, const char *status, const char *fmt, ...)
{
        char msg[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        jw_free(c->w);
        jw_init(c->w, RPC_MAX_ANSWER);
        jw_obj(c->w);
        jw_kstr(c->w, "status", status);
        jw_kstr(c->w, "statusmessage", msg);
        jw_end_obj(c->w);
        c->r->status = status;
        c->state = 2;
}

static void begin_ok(struct rctx *c)
{
        jw_obj(c->w);
        jw_kstr(c->w, "status", "ok");
        jw_kstr(c->w, "statusmessage", "Success");
        c->r->status = "ok";
        c->state = 1;
}

static const char *arg(const struct rctx *c, const char *k)
{
        return form_get(c->f, k);
}

/* A node given by a field holding an fi_id; fails (not_found) when unknown. */
static struct node *node_arg(struct rctx *c, const char *k, bool empty_is_root)
{
        const char *v = arg(c, k);
        struct node *n;

        if (!v && empty_is_root)
                v = "";
        if (!v || (!*v && !empty_is_root)) {
                fail(c, "bad_request", "field %s is required", k);
                return NULL;
        }
        n = model_by_sid(&c->s->m, v);
        if (!n)
                fail(c, "not_found", "no file or folder with id '%.64s'", v);
        return n;
}

static bool name_valid(const char *name)
{
        size_t n = strlen(name);

        return n > 0 && n <= 255 && !strchr(name, '/') && strcmp(name, ".") != 0 &&
               strcmp(name, "..") != 0 && strncmp(name, ".tmp-", 5) != 0;
}

static int mkdir_p(char *path)
{
        char *p;
        struct stat sb;

        if (stat(path, &sb) == 0)
                return S_ISDIR(sb.st_mode) ? 0 : -1;
        for (p = path + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = '\0';
                if (mkdir(path, 0777) != 0 && errno != EEXIST) {
                        *p = '/';
                        return -1;
                }
                *p = '/';
        }
        return mkdir(path, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

static void rm_rf(struct buf *path)
{
        size_t plen = path->len;
        DIR *d = opendir(path->p);
        struct dirent *de;
        struct stat sb;

        while (d && (de = readdir(d)) != NULL) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                path->len = plen;
                path->p[plen] = '\0';
                if (buf_printf(path, "/%s", de->d_name))
                        continue;
                if (lstat(path->p, &sb) == 0 && S_ISDIR(sb.st_mode))
                        rm_rf(path);
                else
                        unlink(path->p);
        }
        if (d)
                closedir(d);
        path->len = plen;
        path->p[plen] = '\0';
        rmdir(path->p);
}

static bool in_bucket(const struct node *n)
{
        return n->type == N_BUCKET || n->type == N_DIR;
}

static void item(struct rctx *c, const char *key, struct node *n)
{
        jw_key(c->w, key);
        model_item_json(&c->s->m, n, c->w);
}

/* ---------------------------------------------------------------- sessions */

/* A new session for u. by_auth: getTokenByAuthToken's answer (userid, allowloginremember). */
static void issue_token(struct rctx *c, struct user *u, bool by_auth)
{
        char tok[33], code[33], last[20];
        int64_t wall = (int64_t)time(NULL);
        struct smap_ent *e;
        size_t i;

        /* forget expired sessions now and then */
        if (c->s->tokens.count > 10000) {
                int64_t now = sim_now_ms();

                for (i = 0; i < c->s->tokens.nbuckets; i++) {
                        struct smap_ent *x = c->s->tokens.tab[i], *nx;

                        for (; x; x = nx) {
                                nx = x->next;
                                if ((double)(now - x->n) >= c->s->token_lifetime_s * 1000.0)
                                        smap_del(&c->s->tokens, x->key);
                        }
                }
        }
        sim_random_hex(tok, 32);
        e = smap_put(&c->s->tokens, tok);
        if (!e) {
                fail(c, "error_background", "out of memory");
                return;
        }
        e->n = sim_now_ms();
        e->p = u;
        sim_fmt_time(u->lastlogin ? u->lastlogin : wall, last);
        u->lastlogin = wall;
        sim_random_hex(code, 32);
        begin_ok(c);
        jw_kstr(c->w, "token", tok);
        if (by_auth) {
                jw_kstr(c->w, "userid", u->userid);
                jw_kstr(c->w, "allowloginremember", "y");
        }
        jw_kstr(c->w, "lastlogin", last);
        jw_kstr(c->w, "autologincode", code);
}

static const struct user *check_token(struct rctx *c)
{
        const char *tok = arg(c, "token");
        struct smap_ent *e;

        if (!tok || !*tok || strcmp(tok, "*") == 0) {
                fail(c, "login_token_expired", "this call needs a session token: log in first");
                return NULL;
        }
        e = smap_get(&c->s->tokens, tok);
        if (!e) {
                fail(c, "login_token_expired", "session token unknown or expired: log in again");
                return NULL;
        }
        if ((double)(sim_now_ms() - e->n) >= c->s->token_lifetime_s * 1000.0) {
                smap_del(&c->s->tokens, tok);
                fail(c, "login_token_expired", "session token expired: log in again");
                return NULL;
        }
        return e->p;
}

/* ---------------------------------------------------------------- calls */

static void f_appliance(struct rctx *c)
{
        begin_ok(c);
        jw_kstr(c->w, "sitetitle", c->s->sitetitle);
        jw_kstr(c->w, "oauthloginsupport", "n");
        jw_kstr(c->w, "isappliance", "y");
        jw_kstr(c->w, "softwareversion", "2106.01.0");
        jw_kstr(c->w, "softwareversionlabel", "2106.01");
}

static void f_token_by_auth(struct rctx *c)
{
        const char *at = arg(c, "authtoken");
        size_t i, j;

        for (i = 0; at && *at && i < c->s->nusers; i++)
                for (j = 0; j < c->s->users[i].nauth; j++)
                        if (strcmp(c->s->users[i].authtokens[j], at) == 0) {
                                issue_token(c, &c->s->users[i], true);
                                return;
                        }
        fail(c, "login_failed", "the authentication token is not valid");
}

static void f_get_token(struct rctx *c)
{
        const char *l = arg(c, "us_login"), *p = arg(c, "us_pwd");
        size_t i;

        for (i = 0; l && p && i < c->s->nusers; i++)
                if (strcmp(c->s->users[i].login, l) == 0 && strcmp(c->s->users[i].password, p) == 0) {
                        issue_token(c, &c->s->users[i], false);
                        return;
                }
        fail(c, "login_failed", "wrong login or password");
}

static void f_check_path(struct rctx *c)
{
        const char *path = arg(c, "path");
        struct node *n = node_arg(c, "pid", true);
        char *p, *s, *e;

        if (!n)
                return;
        if (!path) {
                fail(c, "bad_request", "field path is required");
                return;
        }
        p = strdup(path);
        if (!p) {
                fail(c, "error_background", "out of memory");
                return;
        }
        for (s = p; n && *s; s = e) {
                while (*s == '/')
                        s++;
                if (!*s)
                        break;
                e = strchr(s, '/');
                if (e)
                        *e++ = '\0';
                else
                        e = s + strlen(s);
                n = n->type == N_FILE ? NULL : model_child(&c->s->m, n, s);
        }
        free(p);
        begin_ok(c);
        jw_kstr(c->w, "exists", n ? "y" : "n");
        if (n)
                item(c, "file", n);
}

/* ---------------------------------------------------------------- asynchronous refresh */

static void refresh_apply(struct sim *s, const struct refresh *rf, int64_t now)
{
        struct node *n = model_by_id(&s->m, rf->folder);
        struct recon_stats st;
        struct smap_ent *e;
        struct buf key;
        char id[24], sk[4400];

        if (!n || !in_bucket(n))
                return; /* the folder went away meanwhile */
        memset(&st, 0, sizeof(st));
        if (model_reconcile(&s->m, n, false, &st) != JB_OK)
                log_msg(LL_WARN, "aasim", "refresh of folder %llu failed: out of memory",
                        (unsigned long long)n->id);
        buf_init(&key, PATH_CAP);
        if (model_key(n, &key) == JB_OK) {
                snprintf(sk, sizeof(sk), "%s/%s%s", n->bkt->name, key.p, key.len ? "/" : "");
                smap_incr(&s->refresh_done, sk);
        }
        buf_clear(&key);
        snprintf(id, sizeof(id), "%llu", (unsigned long long)n->id);
        e = smap_put(&s->refreshed, id);
        if (e)
                e->n = now;
}

void sim_apply_refreshes(struct sim *s)
{
        struct smap_ent *e, *nx;
        struct refresh *rf;
        int64_t now;
        size_t i;

        if (!s->refreshes.count || s->f.refresh_stuck)
                return;
        now = sim_now_ms();
        for (i = 0; i < s->refreshes.nbuckets; i++) {
                for (e = s->refreshes.tab[i]; e; e = nx) {
                        nx = e->next;
                        rf = e->p;
                        if (rf->due_ms > now)
                                continue;
                        refresh_apply(s, rf, now);
                        free(smap_del(&s->refreshes, e->key));
                }
        }
}

/* refresh=y without a refreshtoken: start a refresh of n (token set) or say why not. */
static void refresh_start(struct rctx *c, struct node *n, char token[33], const char **msg)
{
        struct sim *s = c->s;
        struct smap_ent *e;
        struct refresh *rf;
        int64_t now = sim_now_ms();
        size_t i;
        char id[24];

        token[0] = '\0';
        if (!in_bucket(n)) {
                *msg = "nothing to refresh above a bucket";
                return;
        }
        for (i = 0; i < s->refreshes.nbuckets; i++)
                for (e = s->refreshes.tab[i]; e; e = e->next)
                        if (((struct refresh *)e->p)->folder == n->id) {
                                snprintf(token, 33, "%s", e->key);
                                *msg = "a refresh of this folder is already running";
                                return;
                        }
        snprintf(id, sizeof(id), "%llu", (unsigned long long)n->id);
        e = smap_get(&s->refreshed, id);
        if (e && now - e->n < sim_refresh_quiet_ms(s)) {
                *msg = "the folder was refreshed recently";
                return;
        }
        rf = calloc(1, sizeof(*rf));
        sim_random_hex(token, 32);
        e = rf ? smap_put(&s->refreshes, token) : NULL;
        if (!e) {
                free(rf);
                token[0] = '\0';
                *msg = "cannot start a refresh: out of memory";
                return;
        }
        rf->folder = n->id;
        rf->due_ms = now + sim_refresh_ms(s);
        e->p = rf;
        s->refresh_started++;
        *msg = "refresh started in the background";
}

/* A file DIR/hidden.txt names (test device): listings leave it out. */
static bool node_hidden(struct sim *s, const struct node *n)
{
        struct buf key;
        char sk[4400];
        bool hid = false;

        if (!s->hidden.count || n->type != N_FILE || !n->bkt)
                return false;
        buf_init(&key, PATH_CAP);
        if (model_key(n, &key) == JB_OK &&
            (size_t)snprintf(sk, sizeof(sk), "%s/%s", n->bkt->name, key.p) < sizeof(sk))
                hid = smap_get(&s->hidden, sk) != NULL;
        buf_clear(&key);
        return hid;
}

static void f_folder_contents(struct rctx *c)
{
        struct node *n = node_arg(c, "fi_pid", true);
        const char *cs = arg(c, "count"), *fs = arg(c, "from"), *rf = arg(c, "refresh");
        const char *rt = arg(c, "refreshtoken"), *msg = NULL;
        int64_t count = 1000, from = 0, i, k;
        char token[33] = "";
        bool still = false, want;
        struct node **kids, **shown = NULL;
        uint32_t nkids;

        if (!n)
                return;
        if (n->type == N_FILE) {
                fail(c, "bad_request", "id %llu is a file, not a folder", (unsigned long long)n->id);
                return;
        }
        if ((cs && *cs && (sim_parse_i64(cs, &count) || count < 0)) ||
            (fs && *fs && (sim_parse_i64(fs, &from) || from < 0))) {
                fail(c, "bad_request", "count and from must be whole numbers >= 0");
                return;
        }
        if (count == 0 || count > 1000)
                count = 1000;
        want = rf && (strcmp(rf, "y") == 0 || strcmp(rf, "1") == 0);
        if (rt && *rt)
                still = smap_get(&c->s->refreshes, rt) != NULL; /* never starts another */
        else if (want)
                refresh_start(c, n, token, &msg);
        model_sort_kids(n);
        /* the listed children: all of them, or (test device) all but the hidden files */
        kids = n->kids;
        nkids = n->nkids;
        if (c->s->hidden.count && nkids) {
                shown = malloc(nkids * sizeof(*shown));
                if (!shown) {
                        fail(c, "error_background", "out of memory");
                        return;
                }
                for (i = 0, nkids = 0; i < (int64_t)n->nkids; i++)
                        if (!node_hidden(c->s, n->kids[i]))
                                shown[nkids++] = n->kids[i];
                kids = shown;
        }
        begin_ok(c);
        jw_kistr(c->w, "total", nkids);
        jw_kint(c->w, "from", from);
        jw_kistr(c->w, "pid", (int64_t)n->id);
        k = from < (int64_t)nkids ? (int64_t)nkids - from : 0;
        if (k > count)
                k = count;
        jw_key(c->w, "filelist");
        if (k == 1 && sim_single_object(c->s)) {
                model_item_json(&c->s->m, kids[from], c->w);
        } else {
                jw_arr(c->w);
                for (i = from; i < from + k; i++)
                        model_item_json(&c->s->m, kids[i], c->w);
                jw_end_arr(c->w);
        }
        free(shown);
        item(c, "folder", n);
        if (msg) {
                jw_key(c->w, "refreshresult");
                jw_obj(c->w);
                jw_kstr(c->w, "status", "ok");
                jw_kstr(c->w, "statusmessage", msg);
                if (token[0])
                        jw_kstr(c->w, "token", token);
                jw_end_obj(c->w);
        }
        if (still)
                jw_kbool(c->w, "stillsyncing", true);
}

static void f_get_file(struct rctx *c)
{
        struct node *n = node_arg(c, "fi_id", false);
        struct buf path;
        struct stat sb;
        char dl[1024];
        int fd;

        if (!n)
                return;
        if (n->type != N_FILE) {
                fail(c, "not_found", "id %llu is not a file", (unsigned long long)n->id);
                return;
        }
        buf_init(&path, PATH_CAP);
        if (model_truth_path(&c->s->m, n, &path) != JB_OK) {
                buf_clear(&path);
                fail(c, "not_found", "file path too long");
                return;
        }
        fd = open(path.p, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
                if (fd >= 0)
                        close(fd);
                buf_clear(&path);
                fail(c, "not_found", "the file is listed but the object is gone from the bucket");
                return;
        }
        snprintf(dl, sizeof(dl), "%s", path.p + strlen(c->s->m.dir) + 7); /* skip DIR/truth/ */
        buf_clear(&path);
        if (faults_roll(c->s, c->s->f.dl_err_rate)) {
                close(fd);
                c->s->dl_errors_injected++;
                c->r->dl_error = (int)c->s->f.dl_err_http;
                c->r->dl_legacy = c->s->f.dl_err_legacy;
                c->r->status = "download_error";
                c->state = 2;
                return;
        }
        c->r->dl_hostile = faults_hostile_pick(c->s, &c->r->dl_hostile_alt);
        if (c->r->dl_hostile == DLH_HTML || c->r->dl_hostile == DLH_REDIRECT ||
            c->r->dl_hostile == DLH_JSON404) {
                /* a page instead of the file, without any failure header */
                close(fd);
                c->r->status = dl_hostile_names[c->r->dl_hostile];
                c->state = 2;
                return;
        }
        if (sb.st_size > 0 && !c->r->dl_hostile && faults_roll(c->s, c->s->f.dl_cut_rate)) {
                c->s->dl_cuts_injected++;
                c->r->dl_cut = true;
        }
        smap_incr(&c->s->downloads, dl);
        c->r->fd = fd;
        c->r->fsize = (int64_t)sb.st_size;
        c->r->status = "ok";
}

static void f_create_folder(struct rctx *c)
{
        struct node *p = node_arg(c, "fi_pid", true), *n;
        const char *name = arg(c, "fi_name");
        struct buf path;
        int rc;

        if (!p)
                return;
        if (!in_bucket(p)) {
                fail(c, "bad_request", "folders can only be created inside a bucket");
                return;
        }
        if (!name || !name_valid(name)) {
                fail(c, "bad_request", "fi_name is missing or not a valid folder name");
                return;
        }
        n = model_child(&c->s->m, p, name);
        if (n && n->type == N_FILE) {
                fail(c, "bad_request", "a file named '%.200s' already exists there", name);
                return;
        }
        if (!n) {
                buf_init(&path, PATH_CAP);
                rc = model_truth_path(&c->s->m, p, &path);
                if (!rc)
                        rc = buf_printf(&path, "/%s", name);
                if (rc || mkdir_p(path.p) != 0) {
                        buf_clear(&path);
                        fail(c, "bad_request", "cannot create the folder in the bucket");
                        return;
                }
                buf_clear(&path);
                n = model_add(&c->s->m, p, name, N_DIR);
                if (!n) {
                        fail(c, "error_background", "out of memory");
                        return;
                }
                n->mtime = (int64_t)time(NULL);
        }
        begin_ok(c);
        item(c, "file", n);
}

static void f_init_upload(struct rctx *c)
{
        struct node *p = node_arg(c, "fi_pid", true), *x;
        const char *name = arg(c, "fi_name"), *sz = arg(c, "fi_size");
        const char *lt = arg(c, "fi_localtime"), *ct = arg(c, "fi_contenttype");
        const char *rt = arg(c, "responsetype");
        struct upload *u;
        struct smap_ent *e;
        struct buf path;
        char code[25];
        int64_t size = -1, ltime = 0;

        if (!p)
                return;
        if (!in_bucket(p)) {
                fail(c, "bad_request", "files can only be uploaded inside a bucket");
                return;
        }
        if (!name || !*name)
                name = arg(c, "fi_filename");
        if (!name || !name_valid(name)) {
                fail(c, "bad_request", "fi_name is missing or not a valid file name");
                return;
        }
        if (sz && *sz && (sim_parse_i64(sz, &size) || size < 0)) {
                fail(c, "bad_request", "fi_size must be a whole number >= 0");
                return;
        }
        if (!lt || !*lt)
                lt = arg(c, "fi_modified");
        if (lt && *lt && sim_parse_time(lt, &ltime)) {
                fail(c, "bad_request", "fi_localtime must look like 2020-08-11 10:10:04");
                return;
        }
        x = model_child(&c->s->m, p, name);
        if (x && x->type != N_FILE) {
                fail(c, "bad_request", "a folder named '%.200s' already exists there", name);
                return;
        }
        buf_init(&path, PATH_CAP);
        if (buf_printf(&path, "%s/truth/%s", c->s->m.dir, p->bkt->name) || mkdir_p(path.p)) {
                buf_clear(&path);
                fail(c, "error_background", "cannot write to the bucket");
                return;
        }
        sim_random_hex(code, 24);
        u = calloc(1, sizeof(*u));
        if (u) {
                u->code = strdup(code);
                u->name = strdup(name);
                u->ctype = ct && *ct ? strdup(ct) : NULL;
                if (buf_printf(&path, "/.tmp-upload-%s", code) == JB_OK)
                        u->tmppath = buf_take(&path);
        }
        buf_clear(&path);
        e = u ? smap_put(&c->s->uploads, code) : NULL;
        if (!e || !u->code || !u->name || !u->tmppath || (ct && *ct && !u->ctype)) {
                sim_upload_free(u);
                fail(c, "error_background", "out of memory");
                return;
        }
        u->folder = p->id;
        u->want_size = size;
        u->ltime = ltime;
        u->json = rt && strcasecmp(rt, "json") == 0;
        e->p = u;
        begin_ok(c);
        jw_kstr(c->w, "uploadcode", code);
        jw_kstr(c->w, "providerid", p->prov->id);
        jw_kstr(c->w, "filetype", "");
        jw_kstr(c->w, "directuploadsupport", "n");
        jw_kstr(c->w, "resumeallowed", "n");
}

static void f_complete_upload(struct rctx *c)
{
        const char *code = arg(c, "uploadcode"), *sz = arg(c, "fi_size");
        const char *rt = arg(c, "remotetime");
        struct smap_ent *e = code ? smap_get(&c->s->uploads, code) : NULL;
        struct upload *u = e ? e->p : NULL;
        struct node *dir, *n;
        struct buf path;
        struct stat sb;
        int64_t size = -1, rtime = 0;
        int fd;

        if (!u) {
                fail(c, "not_found", "unknown upload code");
                return;
        }
        if ((sz && *sz && (sim_parse_i64(sz, &size) || size < 0)) ||
            (rt && *rt && sim_parse_time(rt, &rtime))) {
                fail(c, "bad_request", "fi_size or remotetime is malformed");
                return;
        }
        if (u->busy) {
                fail(c, "error_background", "the upload is still receiving data");
                return;
        }
        if (!u->done) {
                if (u->want_size > 0) {
                        fail(c, "bad_request", "no data was uploaded for this upload code");
                        return;
                }
                fd = open(u->tmppath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
                if (fd < 0) {
                        fail(c, "error_background", "cannot write to the bucket");
                        return;
                }
                close(fd);
                u->received = 0;
        }
        if (size >= 0 && size != u->received) {
                fail(c, "bad_request", "size %lld does not match the %lld bytes received",
                     (long long)size, (long long)u->received);
                return;
        }
        dir = model_by_id(&c->s->m, u->folder);
        if (!dir || !in_bucket(dir)) {
                fail(c, "not_found", "the target folder is gone");
                return;
        }
        n = model_child(&c->s->m, dir, u->name);
        if (n && n->type != N_FILE) {
                fail(c, "bad_request", "a folder named '%.200s' already exists there", u->name);
                return;
        }
        buf_init(&path, PATH_CAP);
        if (model_truth_path(&c->s->m, dir, &path) || mkdir_p(path.p) ||
            buf_printf(&path, "/%s", u->name) || rename(u->tmppath, path.p) != 0 ||
            stat(path.p, &sb) != 0) {
                buf_clear(&path);
                fail(c, "error_background", "cannot store the file in the bucket");
                return;
        }
        buf_clear(&path);
        if (!n)
                n = model_add(&c->s->m, dir, u->name, N_FILE);
        if (!n) {
                fail(c, "error_background", "out of memory");
                return;
        }
        n->size = (int64_t)sb.st_size;
        n->mtime = (int64_t)sb.st_mtime;
        n->ltime = rtime ? rtime : u->ltime;
        free(n->ctype);
        n->ctype = u->ctype;
        u->ctype = NULL;
        begin_ok(c);
        item(c, "file", n);
        jw_kistr(c->w, "uploadedsize", n->size);
        jw_kstr(c->w, "uploadedname", n->name);
        jw_kstr(c->w, "storageip", "");
        sim_upload_free(smap_del(&c->s->uploads, code));
}

static void f_abort_upload(struct rctx *c)
{
        const char *code = arg(c, "uploadcode");
        struct smap_ent *e = code ? smap_get(&c->s->uploads, code) : NULL;
        struct upload *u = e ? e->p : NULL;

        if (!u) {
                fail(c, "not_found", "unknown upload code");
                return;
        }
        if (u->busy) {
                fail(c, "error_background", "the upload is still receiving data");
                return;
        }
        unlink(u->tmppath);
        sim_upload_free(smap_del(&c->s->uploads, code));
        begin_ok(c);
}

static void delete_node(struct rctx *c, struct node *n)
{
        struct buf path;
        char id[24];

        buf_init(&path, PATH_CAP);
        if (model_truth_path(&c->s->m, n, &path) == JB_OK) {
                if (n->type == N_FILE)
                        unlink(path.p);
                else
                        rm_rf(&path);
        }
        buf_clear(&path);
        snprintf(id, sizeof(id), "%llu", (unsigned long long)n->id);
        model_remove(&c->s->m, n);
        begin_ok(c);
        jw_key(c->w, "deleted");
        jw_arr(c->w);
        jw_str(c->w, id);
        jw_end_arr(c->w);
        jw_key(c->w, "errors");
        jw_arr(c->w);
        jw_end_arr(c->w);
        jw_kstr(c->w, "fi_id", id);
        jw_kint(c->w, "backgroundtask", 0);
}

static void f_delete_file(struct rctx *c)
{
        struct node *n = node_arg(c, "fi_id", false);

        if (!n)
                return;
        if (n->type != N_FILE) {
                fail(c, "bad_request", "id %llu is a folder: use doDeleteFolder",
                     (unsigned long long)n->id);
                return;
        }
        delete_node(c, n);
}

static void f_delete_folder(struct rctx *c)
{
        struct node *n = node_arg(c, "fi_id", false);

        if (!n)
                return;
        if (n->type != N_DIR) {
                fail(c, "bad_request", "id %llu is not a folder inside a bucket",
                     (unsigned long long)n->id);
                return;
        }
        delete_node(c, n);
}

static void f_modify_file(struct rctx *c)
{
        struct node *n = node_arg(c, "fi_id", false);
        const char *data = arg(c, "data"), *s, *e, *eq;
        int64_t t;
        char *v;

        if (!n)
                return;
        if (n->type != N_FILE) {
                fail(c, "bad_request", "id %llu is not a file", (unsigned long long)n->id);
                return;
        }
        for (s = data ? data : ""; *s; s = *e ? e + 1 : e) {
                e = strchr(s, '\n');
                if (!e)
                        e = s + strlen(s);
                eq = memchr(s, '=', (size_t)(e - s));
                if (!eq)
                        continue;
                v = strndup(eq + 1, (size_t)(e - eq - 1));
                if (!v)
                        continue;
                if ((size_t)(eq - s) == 12 && strncmp(s, "fi_localtime", 12) == 0) {
                        if (sim_parse_time(v, &t) == JB_OK)
                                n->ltime = t;
                        free(v);
                } else if ((size_t)(eq - s) == 14 && strncmp(s, "fi_contenttype", 14) == 0) {
                        free(n->ctype);
                        n->ctype = v;
                } else {
                        free(v);
                }
        }
        begin_ok(c);
        item(c, "file", n);
}

/* ---------------------------------------------------------------- background tasks */

struct task *sim_add_task(struct sim *s, struct prov *p, const char *id)
{
        struct task *t, *nt;
        size_t nc;

        if (s->ntasks == s->captasks) {
                nc = s->captasks ? s->captasks * 2 : 16;
                nt = realloc(s->tasks, nc * sizeof(*nt));
                if (!nt)
                        return NULL;
                s->tasks = nt;
                s->captasks = nc;
        }
        t = &s->tasks[s->ntasks++];
        memset(t, 0, sizeof(*t));
        t->prov = p;
        p->taskseq++;
        if (id)
                snprintf(t->id, sizeof(t->id), "%s", id);
        else
                snprintf(t->id, sizeof(t->id), "sync-%.40s-%d", p->id, p->taskseq);
        memcpy(t->added, "0000-00-00 00:00:00", 20);
        memcpy(t->completed, "0000-00-00 00:00:00", 20);
        return t;
}

/* One task; rclone: the shape of a taskid request (status "c" once finished). */
static void task_json(struct rctx *c, const struct task *t, bool rclone)
{
        char title[300];
        bool init = strcmp(t->callback, "InitialSync") == 0;

        snprintf(title, sizeof(title), "%s of provider %s", init ? "Initial sync" : "Resync",
                 t->prov->name);
        jw_obj(c->w);
        jw_kstr(c->w, "bt_id", t->id);
        jw_kstr(c->w, "us_id", c->u ? c->u->userid : "");
        jw_kstr(c->w, "bt_type", "sync");
        jw_kstr(c->w, "bt_subtype", "");
        jw_kstr(c->w, "bt_status", t->running ? "w" : rclone ? "c" : "completed");
        jw_kstr(c->w, "bt_statustext", t->running ? "Running" : "Completed");
        jw_kistr(c->w, "bt_statusdata", t->files);
        jw_kstr(c->w, "bt_procent", t->running ? "0" : "100");
        jw_kstr(c->w, "bt_added", t->added);
        jw_kstr(c->w, "bt_completed", t->completed);
        jw_kstr(c->w, "bt_title", title);
        jw_kstr(c->w, "bt_message", "");
        jw_key(c->w, "bt_data");
        jw_obj(c->w);
        jw_kstr(c->w, "callback", t->callback);
        jw_kstr(c->w, "pi_id", t->prov->id);
        jw_end_obj(c->w);
        jw_kstr(c->w, "callback", t->callback);
        jw_kbool(c->w, "canbecanceled", false);
        jw_end_obj(c->w);
}

/* statusfilter: a comma list; "c" is taken as "completed" and "cancelled" as "canceled". */
static bool status_wanted(const char *filter, const struct task *t)
{
        const char *s = filter, *e;
        size_t n;

        if (!filter || !*filter)
                return true;
        while (*s) {
                while (*s == ' ' || *s == ',')
                        s++;
                e = s;
                while (*e && *e != ',' && *e != ' ')
                        e++;
                n = (size_t)(e - s);
                if (t->running
                            ? (n == 1 && *s == 'w')
                            : ((n == 9 && strncasecmp(s, "completed", 9) == 0) || (n == 1 && *s == 'c')))
                        return true;
                s = e;
        }
        return false;
}

/* A task list: an array, or the element itself when it is alone and the fault says so. */
static void tasks_list(struct rctx *c, const size_t *sel, size_t n, bool rclone)
{
        size_t i;

        jw_key(c->w, "tasks");
        if (n == 1 && sim_single_object(c->s)) {
                task_json(c, &c->s->tasks[sel[0]], rclone);
                return;
        }
        jw_arr(c->w);
        for (i = 0; i < n; i++)
                task_json(c, &c->s->tasks[sel[i]], rclone);
        jw_end_arr(c->w);
}

static void f_tasks(struct rctx *c)
{
        const char *tid = arg(c, "taskid"), *bid = arg(c, "bt_id");
        const char *sf = arg(c, "statusfilter"), *tf = arg(c, "typefilter"), *ls = arg(c, "limit");
        size_t i, n = 0, total = 0, *sel;
        int64_t limit = 0;
        bool rclone = tid && *tid;

        if (!rclone && ls && *ls && (sim_parse_i64(ls, &limit) || limit < 0)) {
                fail(c, "bad_request", "limit must be a whole number >= 0");
                return;
        }
        sel = calloc(c->s->ntasks + 1, sizeof(*sel));
        if (!sel) {
                fail(c, "error_background", "out of memory");
                return;
        }
        for (i = 0; i < c->s->ntasks; i++) {
                const struct task *t = &c->s->tasks[i];

                if (rclone) {
                        if (strcmp(tid, t->id) != 0)
                                continue;
                } else if ((bid && *bid && strcmp(bid, t->id) != 0) || !status_wanted(sf, t) ||
                           (tf && *tf && strcasecmp(tf, "sync") != 0)) {
                        continue;
                }
                total++;
                if (rclone || limit == 0 || (int64_t)n < limit)
                        sel[n++] = i;
        }
        begin_ok(c);
        if (rclone) {
                tasks_list(c, sel, n, true);
                jw_kistr(c->w, "total", (int64_t)total);
        } else {
                jw_key(c->w, "response");
                jw_obj(c->w);
                tasks_list(c, sel, n, false);
                jw_kistr(c->w, "total", (int64_t)total);
                jw_end_obj(c->w);
        }
        free(sel);
}

static void f_sync_event(struct rctx *c)
{
        const char *pid = arg(c, "pi_id"), *bname = arg(c, "bucket"), *key = arg(c, "key");
        struct prov *p = model_prov(&c->s->m, pid);
        struct bucket *b = NULL;
        struct recon_stats st;
        const char *result;
        char err[300], ck[4400];
        size_t i;

        if (!p) {
                fail(c, "not_found", "no provider with id '%.64s'", pid ? pid : "");
                return;
        }
        for (i = 0; bname && i < p->nbuckets; i++)
                if (strcmp(p->buckets[i].name, bname) == 0)
                        b = &p->buckets[i];
        if (!b) {
                fail(c, "not_found", "provider %s has no bucket '%.200s'", p->id, bname ? bname : "");
                return;
        }
        if (!key || !*key) {
                memset(&st, 0, sizeof(st));
                if (model_reconcile(&c->s->m, b->node, true, &st) != JB_OK) {
                        fail(c, "error_background", "bucket sync failed: out of memory");
                        return;
                }
                smap_incr(&c->s->sync_buckets, b->name);
                begin_ok(c);
                jw_kstr(c->w, "result", "bucket");
                jw_kistr(c->w, "synced", st.files);
                return;
        }
        if (c->s->f.sync_refuse_prefix[0] &&
            !strncmp(key, c->s->f.sync_refuse_prefix, strlen(c->s->f.sync_refuse_prefix))) {
                /* fault sync_refuse_prefix: a permanent refusal, as for an object AA cannot see */
                fail(c, "not_found", "no object '%.200s' in bucket %s (fault sync_refuse_prefix)", key,
                     b->name);
                return;
        }
        if (model_sync_key(&c->s->m, b, key, &result, err, sizeof(err)) != JB_OK) {
                fail(c, "bad_request", "%s", err);
                return;
        }
        snprintf(ck, sizeof(ck), "%s/%s", b->name, key);
        smap_incr(&c->s->syncs, ck);
        begin_ok(c);
        jw_kstr(c->w, "result", result);
        jw_kstr(c->w, "synced", "1");
}

static const struct call {
        const char *name;
        void (*fn)(struct rctx *);
        bool auth;
} calls[] = {
        {"getApplianceInfo", f_appliance, false},        {"getToken", f_get_token, false},
        {"getTokenByAuthToken", f_token_by_auth, false}, {"checkPathExists", f_check_path, true},
        {"getFolderContents", f_folder_contents, true},  {"getFile", f_get_file, true},
        {"doCreateNewFolder", f_create_folder, true},    {"doInitUpload", f_init_upload, true},
        {"doCompleteUpload", f_complete_upload, true},   {"doAbortUpload", f_abort_upload, true},
        {"doDeleteFile", f_delete_file, true},           {"doDeleteFolder", f_delete_folder, true},
        {"doModifyFile", f_modify_file, true},           {"getUserBackgroundTasks", f_tasks, true},
        {"syncOnProviderEvent", f_sync_event, true},
};

/* Fault answer_pad_bytes: a field "sim_pad" of n spaces, so the answer stays valid JSON
 * that a client must read whole to find out it is not what it needs. */
static void pad_answer(struct jw *w, size_t n)
{
        char *pad = malloc(n);

        if (!pad) {
                w->err = JB_ENOMEM;
                return;
        }
        memset(pad, ' ', n);
        jw_key(w, "sim_pad");
        jw_strn(w, pad, n);
        free(pad);
}

void sim_rpc(struct sim *s, const struct form *f, struct rpc_result *r)
{
        struct rctx c;
        const char *fn = form_get(f, "function");
        size_t i;
        bool getfile = false;

        memset(&c, 0, sizeof(c));
        c.s = s;
        c.f = f;
        c.r = r;
        c.w = &r->out;
        r->function = fn ? fn : "";
        r->http = 200;
        r->fd = -1;
        pthread_mutex_lock(&s->lock);
        sim_apply_refreshes(s);
        for (i = 0; fn && i < sizeof(calls) / sizeof(calls[0]); i++)
                if (strcasecmp(calls[i].name, fn) == 0)
                        break;
        if (!fn || i == sizeof(calls) / sizeof(calls[0])) {
                smap_incr(&s->calls, "(unknown)");
                fail(&c, "unknown_function", "unknown function '%.64s'", fn ? fn : "");
        } else if (calls[i].fn == f_sync_event && !sim_sync_event_on(s)) {
                smap_incr(&s->calls, calls[i].name);
                fail(&c, "unknown_function", "unknown function '%.64s'", fn);
        } else {
                smap_incr(&s->calls, calls[i].name);
                getfile = calls[i].fn == f_get_file;
                if (calls[i].auth)
                        c.u = check_token(&c);
                if (!calls[i].auth || c.u)
                        calls[i].fn(&c);
        }
        if (c.state == 1 && !getfile && s->f.answer_pad > 0 &&
            (!s->f.answer_pad_fn[0] || strcasecmp(s->f.answer_pad_fn, r->function) == 0))
                pad_answer(c.w, (size_t)s->f.answer_pad);
        if (c.state == 1)
                jw_end_obj(c.w);
        pthread_mutex_unlock(&s->lock);
        if (c.w->err) {
                jw_free(c.w);
                jw_init(c.w, RPC_MAX_ANSWER);
                c.state = 0;
                fail(&c, "error_background", "answer too large or out of memory");
        }
        if (getfile && c.state == 2 && !r->dl_error && !r->dl_hostile) {
                if (strcmp(r->status, "not_found") == 0)
                        r->http = 404;
                else if (strncmp(r->status, "login_", 6) == 0)
                        r->http = 401;
                else
                        r->http = 400;
        }
}

/* ---------------------------------------------------------------- uploads */

void sim_upload_free(void *p)
{
        struct upload *u = p;

        if (!u)
                return;
        free(u->code);
        free(u->name);
        free(u->ctype);
        free(u->tmppath);
        free(u);
}

int sim_upload_claim(struct sim *s, const char *code, const char *b64name, char **tmppath, bool *json,
                     char *errstr, size_t errsz)
{
        struct smap_ent *e;
        struct upload *u;
        char *name;
        int rc = JB_OK;

        pthread_mutex_lock(&s->lock);
        smap_incr(&s->calls, "uploader");
        e = code ? smap_get(&s->uploads, code) : NULL;
        u = e ? e->p : NULL;
        name = b64name ? sim_b64_decode(b64name, NULL) : NULL;
        *json = !s->f.uploader_xml && (!u || u->json);
        if (!u)
                rc = jb_seterr(JB_ENOTFOUND, errstr, errsz, "unknown upload code");
        else if (u->busy)
                rc = jb_seterr(JB_EINPUT, errstr, errsz, "upload already in progress");
        else if (b64name && (!name || strcmp(name, u->name) != 0))
                rc = jb_seterr(JB_EINPUT, errstr, errsz,
                               "the file name in the URL does not match doInitUpload's");
        else if (!(*tmppath = strdup(u->tmppath)))
                rc = jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        else
                u->busy = true;
        free(name);
        pthread_mutex_unlock(&s->lock);
        return rc;
}

void sim_upload_release(struct sim *s, const char *code, bool ok, int64_t received, const char *md5)
{
        struct smap_ent *e;
        struct upload *u;

        pthread_mutex_lock(&s->lock);
        e = smap_get(&s->uploads, code);
        u = e ? e->p : NULL;
        if (u) {
                u->busy = false;
                u->done = ok;
                u->received = received;
                snprintf(u->md5, sizeof(u->md5), "%s", md5 ? md5 : "");
        }
        pthread_mutex_unlock(&s->lock);
}
