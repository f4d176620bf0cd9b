/*
 * aa.c - the Access Anywhere client (see aa.h): builds the calls of PROTOCOL.md as form
 * bodies, reads their JSON answers into jibe structures, and owns the policy around them:
 * lazy login, one transparent re-login on login_token_expired, retries with exponential
 * backoff and full jitter, and the mapping of server answers to jibe error classes.
 *
 * Ownership: struct aa_client owns copies of every option string, its session token and its
 * aa_http. Parsed JSON (cJSON) lives only inside one call; everything handed to the caller
 * is copied into malloc'd strings the caller releases with the matching _clear()/_free().
 * The names of jibe's own calls that the public product does not document (loginUser,
 * getProviderInfo, syncOnProviderEvent) appear only here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "aa.h"
#include "aa_http.h"
#include "buf.h"
#include "log.h"

/* Internal outcomes of one attempt, besides the jb_err codes (all negative). */
#define AA_RETRY 1   /* worth another attempt after a backoff */
#define AA_EXPIRED 2 /* session token expired: log in again */

#define AA_FORM_MAX (1024u * 1024) /* one request body */
#define AA_MSG 512

#define AA_FN_LOGIN_PASSWORD "loginUser"
#define AA_FN_LOGIN_TOKEN "getTokenByAuthToken"
#define AA_LIST_OPTIONS \
        "filelist|fi_id|fi_pid|fi_name|fi_type|fi_size|fi_contenttype|fi_modified|fi_localtime|trash|subfolders"

struct aa_client {
        struct aa_http *http;
        char *endpoint; /* without trailing '/' */
        char *rpc_url;
        char *login;
        char *password;
        char *authtoken;
        char *token; /* session token; NULL until logged in */
        int max_retries;
        long backoff_base_ms;
        long backoff_max_ms;
        size_t max_resp;
        uint64_t rng;
        struct aa_counters ctr;
};

struct aa_kv {
        const char *k;
        const char *v; /* NULL: field left out */
};

/* Modes of answer checking. */
enum aa_mode { AA_MODE_RPC, AA_MODE_DOWNLOAD, AA_MODE_UPLOADER };

/* ---- small helpers ----------------------------------------------------------------- */

int aa_global_init(void)
{
        return aa_http_global_init();
}

void aa_global_cleanup(void)
{
        aa_http_global_cleanup();
}

void aa_debug_to_log(void *opaque, const char *line)
{
        (void)opaque;
        log_msg(LL_DEBUG, "aa", "%s", line);
}

static char *aa_strdup(const char *s)
{
        return strdup(s ? s : "");
}

static void aa_update_secrets(struct aa_client *aa)
{
        const char *s[3] = {aa->password, aa->authtoken, aa->token};

        aa_http_set_secrets(aa->http, s, 3);
}

/* Every public call ends here: secrets never leave in errstr. */
static int aa_done(struct aa_client *aa, int rc, char *errstr, size_t errsz)
{
        if (rc && errstr && errsz)
                aa_http_mask(aa->http, errstr);
        return rc;
}

static uint64_t aa_rand(struct aa_client *aa)
{
        uint64_t x = aa->rng; /* xorshift64* */

        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        aa->rng = x;
        return x * 2685821657736338717ULL;
}

/* Full jitter: a uniform pause in [0, min(max, base * 2^attempt)], but not shorter than
 * the server's Retry-After (itself capped by max). */
static void aa_backoff(struct aa_client *aa, int attempt, long retry_after_s)
{
        long cap = aa->backoff_base_ms;
        long ms;
        struct timespec ts;
        int i;

        for (i = 0; i < attempt && cap < aa->backoff_max_ms; i++)
                cap *= 2;
        if (cap > aa->backoff_max_ms)
                cap = aa->backoff_max_ms;
        ms = (long)(aa_rand(aa) % ((uint64_t)cap + 1));
        if (retry_after_s > 0 && retry_after_s * 1000 > ms)
                ms = retry_after_s * 1000 < aa->backoff_max_ms ? retry_after_s * 1000 :
                                                                 aa->backoff_max_ms;
        ts.tv_sec = ms / 1000;
        ts.tv_nsec = (ms % 1000) * 1000000L;
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
                ;
}

/* Printable start of a body, for messages about garbage. */
static void aa_snippet(const struct buf *b, char *out, size_t outsz)
{
        size_t i, n = b->len < 40 ? b->len : 40;

        for (i = 0; i < n && i + 1 < outsz; i++) {
                unsigned char c = (unsigned char)b->p[i];

                out[i] = (c < 0x20 || c >= 0x7f) ? '.' : (char)c;
        }
        out[i] = '\0';
}

int aa_time_parse(const char *s, time_t *out)
{
        struct tm tm;
        int y, mo, d, h, mi, se, n = 0;
        time_t t;

        *out = 0;
        if (!s || !*s)
                return 0;
        if (sscanf(s, "%4d-%2d-%2d %2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &n) != 6 ||
            s[n] != '\0')
                return -1;
        if (y == 0 && mo == 0 && d == 0)
                return 0;
        if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60 ||
            h < 0 || mi < 0 || se < 0)
                return -1;
        memset(&tm, 0, sizeof(tm));
        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = d;
        tm.tm_hour = h;
        tm.tm_min = mi;
        tm.tm_sec = se;
        t = timegm(&tm);
        if (t == (time_t)-1)
                return -1;
        *out = t;
        return 0;
}

/* ---- JSON fields (numbers may arrive as strings) ------------------------------------ */

/* Copy field key as a string (a number is printed). Missing or null: "" unless required. */
static int aa_jstr(const cJSON *o, const char *key, int required, char **out, char *errstr,
                   size_t errsz)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
        char num[64];

        *out = NULL;
        if (cJSON_IsString(v) && v->valuestring) {
                *out = strdup(v->valuestring);
        } else if (cJSON_IsNumber(v)) {
                double d = v->valuedouble;

                if (d == (double)(long long)d)
                        snprintf(num, sizeof(num), "%lld", (long long)d);
                else
                        snprintf(num, sizeof(num), "%.17g", d);
                *out = strdup(num);
        } else if ((!v || cJSON_IsNull(v)) && !required) {
                *out = strdup("");
        } else {
                return jb_seterr(JB_EINPUT, errstr, errsz,
                                 "answer from Access Anywhere lacks a usable \"%s\" field", key);
        }
        if (!*out)
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory reading an answer");
        return JB_OK;
}

/* Integer field, number or decimal string. Missing, null or "": dflt unless required. */
static int aa_jint(const cJSON *o, const char *key, int required, int64_t dflt, int64_t *out,
                   char *errstr, size_t errsz)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

        *out = dflt;
        if (cJSON_IsNumber(v)) {
                if (v->valuedouble < -9.2e18 || v->valuedouble > 9.2e18)
                        goto bad;
                *out = (int64_t)v->valuedouble;
                return JB_OK;
        }
        if (cJSON_IsString(v) && v->valuestring) {
                const char *s = v->valuestring;
                char *end;
                long long n;

                if (!*s && !required)
                        return JB_OK;
                errno = 0;
                n = strtoll(s, &end, 10);
                if (end == s || *end || errno)
                        goto bad;
                *out = n;
                return JB_OK;
        }
        if ((!v || cJSON_IsNull(v)) && !required)
                return JB_OK;
bad:
        return jb_seterr(JB_EINPUT, errstr, errsz,
                         "answer from Access Anywhere has no usable number in \"%s\"", key);
}

static int aa_jtime(const cJSON *o, const char *key, time_t *out, char *errstr, size_t errsz)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

        *out = 0;
        if (!v || cJSON_IsNull(v))
                return JB_OK;
        if (cJSON_IsNumber(v)) {
                *out = (time_t)v->valuedouble;
                return JB_OK;
        }
        if (cJSON_IsString(v) && aa_time_parse(v->valuestring, out) == 0)
                return JB_OK;
        return jb_seterr(JB_EINPUT, errstr, errsz,
                         "answer from Access Anywhere has an unreadable time in \"%s\"", key);
}

/* ---- items and other structures ---------------------------------------------------- */

void aa_item_clear(struct aa_item *it)
{
        if (!it)
                return;
        free(it->fi_id);
        free(it->fi_pid);
        free(it->name);
        memset(it, 0, sizeof(*it));
}

int aa_item_copy(struct aa_item *dst, const struct aa_item *src)
{
        memset(dst, 0, sizeof(*dst));
        dst->fi_id = aa_strdup(src->fi_id);
        dst->fi_pid = aa_strdup(src->fi_pid);
        dst->name = aa_strdup(src->name);
        dst->type = src->type;
        dst->size = src->size;
        dst->modified = src->modified;
        if (!dst->fi_id || !dst->fi_pid || !dst->name) {
                aa_item_clear(dst);
                return JB_ENOMEM;
        }
        return JB_OK;
}

static int aa_parse_item(const cJSON *o, struct aa_item *it, char *errstr, size_t errsz)
{
        int64_t type = 0;
        int rc;

        memset(it, 0, sizeof(*it));
        if (!cJSON_IsObject(o))
                return jb_seterr(JB_EINPUT, errstr, errsz,
                                 "answer from Access Anywhere has an item that is not an object");
        rc = aa_jstr(o, "fi_id", 1, &it->fi_id, errstr, errsz);
        if (!rc)
                rc = aa_jstr(o, "fi_pid", 0, &it->fi_pid, errstr, errsz);
        if (!rc)
                rc = aa_jstr(o, "fi_name", 1, &it->name, errstr, errsz);
        if (!rc)
                rc = aa_jint(o, "fi_type", 1, 0, &type, errstr, errsz);
        if (!rc && type != 0 && type != 1)
                rc = jb_seterr(JB_EINPUT, errstr, errsz,
                               "answer from Access Anywhere has an item of unknown type %lld",
                               (long long)type);
        if (!rc)
                rc = aa_jint(o, "fi_size", 0, 0, &it->size, errstr, errsz);
        if (!rc)
                rc = aa_jtime(o, "fi_modified", &it->modified, errstr, errsz);
        if (rc) {
                aa_item_clear(it);
                return rc;
        }
        it->type = type ? AA_FOLDER : AA_FILE;
        return JB_OK;
}

void aa_appliance_clear(struct aa_appliance *ai)
{
        if (!ai)
                return;
        free(ai->sitetitle);
        free(ai->version);
        free(ai->version_label);
        memset(ai, 0, sizeof(*ai));
}

void aa_task_clear(struct aa_task *t)
{
        if (!t)
                return;
        free(t->id);
        free(t->type);
        free(t->title);
        free(t->statusdata);
        memset(t, 0, sizeof(*t));
}

static void aa_provider_clear(struct aa_provider *p)
{
        size_t i;

        free(p->id);
        free(p->name);
        free(p->fi_id);
        free(p->access_key);
        free(p->arn);
        free(p->user_agent);
        for (i = 0; i < p->nbuckets; i++) {
                free(p->buckets[i].name);
                free(p->buckets[i].fi_id);
        }
        free(p->buckets);
        free(p->lastsync.taskid);
        memset(p, 0, sizeof(*p));
}

void aa_providers_free(struct aa_provider *p, size_t n)
{
        size_t i;

        if (!p)
                return;
        for (i = 0; i < n; i++)
                aa_provider_clear(&p[i]);
        free(p);
}

/* ---- one attempt: classify the answer ------------------------------------------------ */

/* What a status code in a JSON answer means. */
static int aa_status_class(const char *what, const char *status, const char *msg, long http,
                           char *errstr, size_t errsz)
{
        if (!strcmp(status, "login_token_expired"))
                return AA_EXPIRED;
        if (!strcmp(status, "error_background"))
                return jb_seterr(AA_RETRY, errstr, errsz, "%s: server busy (error_background: %s)",
                                 what, msg);
        if (!strcmp(status, "login_failed"))
                return jb_seterr(JB_EFATAL, errstr, errsz,
                                 "%s: Access Anywhere refused the login (%s); check the login and "
                                 "password or the permanent token in the configuration", what, msg);
        if (!strcmp(status, "not_found"))
                return jb_seterr(JB_ENOTFOUND, errstr, errsz, "%s: not found (%s)", what, msg);
        if (http == 401 || http == 403)
                return jb_seterr(JB_EFATAL, errstr, errsz,
                                 "%s: access denied (HTTP %ld, %s: %s); check the account's rights",
                                 what, http, status, msg);
        return jb_seterr(JB_EINPUT, errstr, errsz, "%s: Access Anywhere answered %s: %s", what,
                         status, msg);
}

/*
 * Classify one HTTP exchange. On JB_OK with mode RPC/UPLOADER, *out holds the parsed
 * answer (caller deletes). Returns AA_RETRY/AA_EXPIRED or a jb_err; errstr says why.
 */
static int aa_classify(const char *what, enum aa_mode mode, int hrc,
                       const struct aa_http_req *rq, struct aa_http_resp *rs, cJSON **out,
                       char *errstr, size_t errsz)
{
        const cJSON *st, *sm;
        cJSON *root;
        long http = rs->status;
        char snip[48];
        int rc;

        *out = NULL;
        if (hrc == JB_ETRANSIENT)
                return AA_RETRY; /* message already in errstr */
        if (hrc)
                return hrc;
        if (http == 429 || http / 100 == 5)
                return jb_seterr(AA_RETRY, errstr, errsz, "%s: HTTP %ld from Access Anywhere", what,
                                 http);
        if (mode == AA_MODE_DOWNLOAD && http / 100 == 2 && rs->streamed)
                return JB_OK;
        root = rs->body.len ? cJSON_ParseWithLength(rs->body.p, rs->body.len) : NULL;
        if (!cJSON_IsObject(root)) {
                cJSON_Delete(root);
                if (mode == AA_MODE_DOWNLOAD && http / 100 == 2)
                        goto deliver; /* a file typed as JSON, or an empty file */
                if (http == 401 || http == 403)
                        return jb_seterr(JB_EFATAL, errstr, errsz,
                                         "%s: access denied (HTTP %ld); check the credentials and "
                                         "the account's rights", what, http);
                if (http == 404)
                        return jb_seterr(JB_ENOTFOUND, errstr, errsz, "%s: not found (HTTP 404)",
                                         what);
                aa_snippet(&rs->body, snip, sizeof(snip));
                return jb_seterr(JB_EINPUT, errstr, errsz,
                                 "%s: the answer from Access Anywhere is not a JSON object "
                                 "(HTTP %ld, %zu bytes, starting \"%s\"); is the endpoint right?",
                                 what, http, rs->body.len, snip);
        }
        st = cJSON_GetObjectItemCaseSensitive(root, "status");
        sm = cJSON_GetObjectItemCaseSensitive(root, "statusmessage");
        if (mode == AA_MODE_UPLOADER && !st) {
                const cJSON *ok = cJSON_GetObjectItemCaseSensitive(root, "success");

                if (http / 100 == 2 && cJSON_IsString(ok) && !strcmp(ok->valuestring, "y")) {
                        *out = root;
                        return JB_OK;
                }
                cJSON_Delete(root);
                return jb_seterr(JB_EINPUT, errstr, errsz,
                                 "%s: the uploader did not report success (HTTP %ld)", what, http);
        }
        if (!cJSON_IsString(st) || !st->valuestring) {
                cJSON_Delete(root);
                if (mode == AA_MODE_DOWNLOAD && http / 100 == 2)
                        goto deliver;
                return jb_seterr(JB_EINPUT, errstr, errsz,
                                 "%s: the answer from Access Anywhere has no status (HTTP %ld)",
                                 what, http);
        }
        if (!strcmp(st->valuestring, "ok")) {
                if (http == 401 || http == 403) {
                        cJSON_Delete(root);
                        return jb_seterr(JB_EFATAL, errstr, errsz, "%s: access denied (HTTP %ld)",
                                         what, http);
                }
                if (http / 100 != 2) {
                        cJSON_Delete(root);
                        return jb_seterr(JB_EINPUT, errstr, errsz,
                                         "%s: status ok with HTTP %ld makes no sense", what, http);
                }
                if (mode == AA_MODE_DOWNLOAD) {
                        cJSON_Delete(root);
                        goto deliver;
                }
                *out = root;
                return JB_OK;
        }
        rc = aa_status_class(what, st->valuestring,
                             cJSON_IsString(sm) && sm->valuestring ? sm->valuestring : "",
                             http, errstr, errsz);
        cJSON_Delete(root);
        return rc;
deliver:
        /* a 2xx answer held back because it looked like JSON: it is the file */
        if (rs->body.len) {
                rc = rq->sink(rq->opaque, rs->body.p, rs->body.len);
                if (rc)
                        return jb_seterr(rc, errstr, errsz, "%s: stopped by its receiver", what);
                rs->delivered += rs->body.len;
        }
        return JB_OK;
}

/* One exchange with retries. Returns JB_OK, AA_EXPIRED or a jb_err (retries exhausted:
 * JB_ETRANSIENT). A download that delivered bytes is never retried here. */
static int aa_send(struct aa_client *aa, const char *what, enum aa_mode mode,
                   const struct aa_http_req *rq, cJSON **out, char *errstr, size_t errsz)
{
        struct aa_http_resp rs;
        char msg[AA_MSG];
        uint64_t delivered;
        long retry_after;
        int attempt, hrc, rc;

        for (attempt = 0;; attempt++) {
                msg[0] = '\0';
                aa_http_resp_init(&rs, aa->max_resp);
                aa->ctr.requests++;
                hrc = aa_http_do(aa->http, rq, &rs, msg, sizeof(msg));
                rc = aa_classify(what, mode, hrc, rq, &rs, out, msg, sizeof(msg));
                delivered = rs.delivered;
                retry_after = rs.retry_after_s;
                aa->ctr.bytes_down += delivered;
                aa_http_resp_clear(&rs);
                if (rc != AA_RETRY) {
                        if (rc)
                                jb_seterr(rc, errstr, errsz, "%s", msg);
                        return rc;
                }
                if (delivered)
                        return jb_seterr(JB_ETRANSIENT, errstr, errsz,
                                         "%s broke after %llu bytes (%s); the download must start "
                                         "again", what, (unsigned long long)delivered, msg);
                if (attempt >= aa->max_retries)
                        return jb_seterr(JB_ETRANSIENT, errstr, errsz,
                                         "%s failed after %d attempts; last: %s", what, attempt + 1,
                                         msg);
                aa->ctr.retries++;
                aa_backoff(aa, attempt, retry_after);
        }
}

/* ---- RPC ----------------------------------------------------------------------------- */

static int aa_form_add(struct aa_client *aa, struct buf *b, const char *k, const char *v)
{
        char *ek, *ev;
        int rc;

        ek = aa_http_escape(aa->http, k, strlen(k));
        ev = aa_http_escape(aa->http, v, strlen(v));
        if (!ek || !ev)
                rc = JB_ENOMEM;
        else
                rc = buf_printf(b, "%s%s=%s", b->len ? "&" : "", ek, ev);
        free(ek);
        free(ev);
        return rc;
}

static int aa_form(struct aa_client *aa, struct buf *b, const char *fn, const char *token,
                   const struct aa_kv *kv, size_t nkv, char *errstr, size_t errsz)
{
        size_t i;
        int rc;

        rc = aa_form_add(aa, b, "function", fn);
        if (!rc)
                rc = aa_form_add(aa, b, "token", token);
        if (!rc)
                rc = aa_form_add(aa, b, "apiformat", "json");
        for (i = 0; !rc && i < nkv; i++)
                if (kv[i].v)
                        rc = aa_form_add(aa, b, kv[i].k, kv[i].v);
        if (rc == JB_ELIMIT)
                return jb_seterr(rc, errstr, errsz, "%s: request larger than %u bytes", fn,
                                 AA_FORM_MAX);
        if (rc)
                return jb_seterr(rc, errstr, errsz, "%s: out of memory building the request", fn);
        return JB_OK;
}

static int aa_login_now(struct aa_client *aa, char *errstr, size_t errsz);

/* One call: lazy login, retries, one re-login on an expired token. sink: getFile only. */
static int aa_rpc(struct aa_client *aa, const char *fn, const struct aa_kv *kv, size_t nkv,
                  int auth, aa_write_fn sink, void *opaque, cJSON **out, char *errstr,
                  size_t errsz)
{
        struct aa_http_req rq;
        struct buf form;
        int pass, rc;

        *out = NULL;
        for (pass = 0;; pass++) {
                if (auth && !aa->token) {
                        rc = aa_login_now(aa, errstr, errsz);
                        if (rc)
                                return rc;
                }
                buf_init(&form, AA_FORM_MAX);
                rc = aa_form(aa, &form, fn, auth ? aa->token : "*", kv, nkv, errstr, errsz);
                if (rc) {
                        buf_clear(&form);
                        return rc;
                }
                memset(&rq, 0, sizeof(rq));
                rq.method = AA_HTTP_POST_FORM;
                rq.url = aa->rpc_url;
                rq.body = form.p;
                rq.len = form.len;
                rq.download = sink != NULL;
                rq.sink = sink;
                rq.opaque = opaque;
                rc = aa_send(aa, fn, sink ? AA_MODE_DOWNLOAD : AA_MODE_RPC, &rq, out, errstr,
                             errsz);
                buf_clear(&form);
                if (rc != AA_EXPIRED)
                        return rc;
                if (!auth)
                        return jb_seterr(JB_EFATAL, errstr, errsz,
                                         "%s: Access Anywhere says the login expired while "
                                         "logging in; check the appliance", fn);
                if (pass > 0)
                        return jb_seterr(JB_ETRANSIENT, errstr, errsz,
                                         "%s: the session expired again right after a new login; "
                                         "check the appliance's clock and token lifetime", fn);
                free(aa->token);
                aa->token = NULL;
                aa_update_secrets(aa);
                aa->ctr.relogins++;
        }
}

static int aa_login_now(struct aa_client *aa, char *errstr, size_t errsz)
{
        struct aa_kv kv[2];
        const char *fn;
        cJSON *root = NULL;
        char *tok = NULL;
        int rc;

        if (aa->authtoken) {
                fn = AA_FN_LOGIN_TOKEN;
                kv[0].k = "authtoken";
                kv[0].v = aa->authtoken;
                kv[1].k = "unused";
                kv[1].v = NULL;
        } else {
                fn = AA_FN_LOGIN_PASSWORD;
                kv[0].k = "login";
                kv[0].v = aa->login;
                kv[1].k = "password";
                kv[1].v = aa->password;
        }
        rc = aa_rpc(aa, fn, kv, 2, 0, NULL, NULL, &root, errstr, errsz);
        if (!rc)
                rc = aa_jstr(root, "token", 1, &tok, errstr, errsz);
        if (!rc && !*tok)
                rc = jb_seterr(JB_EINPUT, errstr, errsz, "%s: Access Anywhere sent an empty token",
                               fn);
        cJSON_Delete(root);
        if (rc) {
                free(tok);
                return rc;
        }
        free(aa->token);
        aa->token = tok;
        log_add_secret(tok);
        aa_update_secrets(aa);
        aa->ctr.logins++;
        return JB_OK;
}

/* ---- client ---------------------------------------------------------------------------- */

void aa_opts_init(struct aa_opts *o)
{
        memset(o, 0, sizeof(*o));
        o->connect_timeout_ms = AA_CONNECT_TIMEOUT_MS_DEFAULT;
        o->timeout_ms = AA_TIMEOUT_MS_DEFAULT;
        o->low_speed_limit = AA_LOW_SPEED_LIMIT_DEFAULT;
        o->low_speed_time = AA_LOW_SPEED_TIME_DEFAULT;
        o->max_retries = AA_MAX_RETRIES_DEFAULT;
        o->backoff_base_ms = AA_BACKOFF_BASE_MS_DEFAULT;
        o->backoff_max_ms = AA_BACKOFF_MAX_MS_DEFAULT;
        o->max_response_bytes = AA_MAX_RESPONSE_BYTES;
}

int aa_client_new(const struct aa_opts *opts, struct aa_client **out, char *errstr,
                  size_t errsz)
{
        struct aa_client *aa;
        struct aa_opts o = *opts;
        size_t el;
        int is_http, rc;

        *out = NULL;
        if (!o.endpoint || !*o.endpoint)
                return jb_seterr(JB_EFATAL, errstr, errsz,
                                 "no Access Anywhere endpoint configured (https://...)");
        is_http = strncmp(o.endpoint, "http://", 7) == 0;
        if (!is_http && strncmp(o.endpoint, "https://", 8) != 0)
                return jb_seterr(JB_EFATAL, errstr, errsz,
                                 "Access Anywhere endpoint %s must start with https://",
                                 o.endpoint);
        if (!(o.authtoken && *o.authtoken) &&
            !(o.login && *o.login && o.password && *o.password))
                return jb_seterr(JB_EFATAL, errstr, errsz,
                                 "no Access Anywhere credentials configured: set a permanent "
                                 "token, or a login and a password");
        if (o.max_retries < 0)
                o.max_retries = AA_MAX_RETRIES_DEFAULT;
        if (o.connect_timeout_ms <= 0)
                o.connect_timeout_ms = AA_CONNECT_TIMEOUT_MS_DEFAULT;
        if (o.timeout_ms <= 0)
                o.timeout_ms = AA_TIMEOUT_MS_DEFAULT;
        if (o.low_speed_limit <= 0)
                o.low_speed_limit = AA_LOW_SPEED_LIMIT_DEFAULT;
        if (o.low_speed_time <= 0)
                o.low_speed_time = AA_LOW_SPEED_TIME_DEFAULT;
        if (o.backoff_base_ms <= 0)
                o.backoff_base_ms = AA_BACKOFF_BASE_MS_DEFAULT;
        if (o.backoff_max_ms <= 0)
                o.backoff_max_ms = AA_BACKOFF_MAX_MS_DEFAULT;
        if (o.backoff_max_ms < o.backoff_base_ms)
                o.backoff_max_ms = o.backoff_base_ms;
        if (o.max_response_bytes == 0)
                o.max_response_bytes = AA_MAX_RESPONSE_BYTES;

        aa = calloc(1, sizeof(*aa));
        if (!aa)
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory creating the client");
        rc = aa_http_new(&o, is_http, &aa->http, errstr, errsz);
        if (rc) {
                free(aa);
                return rc;
        }
        el = strlen(o.endpoint);
        while (el > 0 && o.endpoint[el - 1] == '/')
                el--;
        aa->endpoint = strndup(o.endpoint, el);
        aa->rpc_url = malloc(el + sizeof("/api/rpc.php"));
        if (o.authtoken && *o.authtoken) {
                aa->authtoken = strdup(o.authtoken);
        } else {
                aa->login = strdup(o.login);
                aa->password = strdup(o.password);
        }
        if (!aa->endpoint || !aa->rpc_url || (!aa->authtoken && (!aa->login || !aa->password))) {
                aa_client_free(aa);
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory creating the client");
        }
        memcpy(aa->rpc_url, aa->endpoint, el);
        memcpy(aa->rpc_url + el, "/api/rpc.php", sizeof("/api/rpc.php"));
        aa->max_retries = o.max_retries;
        aa->backoff_base_ms = o.backoff_base_ms;
        aa->backoff_max_ms = o.backoff_max_ms;
        aa->max_resp = o.max_response_bytes;
        aa->rng = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^ (uint64_t)(uintptr_t)aa;
        if (!aa->rng)
                aa->rng = 0x9e3779b97f4a7c15ULL;
        log_add_secret(aa->password);
        log_add_secret(aa->authtoken);
        aa_update_secrets(aa);
        *out = aa;
        return JB_OK;
}

void aa_client_free(struct aa_client *aa)
{
        if (!aa)
                return;
        aa_http_free(aa->http);
        free(aa->endpoint);
        free(aa->rpc_url);
        free(aa->login);
        free(aa->password);
        free(aa->authtoken);
        free(aa->token);
        free(aa);
}

void aa_counters_get(const struct aa_client *aa, struct aa_counters *out)
{
        *out = aa->ctr;
}

int aa_login(struct aa_client *aa, char *errstr, size_t errsz)
{
        aa->ctr.calls++;
        return aa_done(aa, aa_login_now(aa, errstr, errsz), errstr, errsz);
}

/* ---- calls ----------------------------------------------------------------------------- */

int aa_appliance_info(struct aa_client *aa, struct aa_appliance *out, char *errstr,
                      size_t errsz)
{
        cJSON *root;
        int64_t isapp = 0;
        const cJSON *v;
        int rc;

        memset(out, 0, sizeof(*out));
        aa->ctr.calls++;
        rc = aa_rpc(aa, "getApplianceInfo", NULL, 0, 0, NULL, NULL, &root, errstr, errsz);
        if (!rc)
                rc = aa_jstr(root, "sitetitle", 0, &out->sitetitle, errstr, errsz);
        if (!rc)
                rc = aa_jstr(root, "softwareversion", 0, &out->version, errstr, errsz);
        if (!rc)
                rc = aa_jstr(root, "softwareversionlabel", 0, &out->version_label, errstr, errsz);
        if (!rc) {
                v = cJSON_GetObjectItemCaseSensitive(root, "isappliance");
                if (cJSON_IsBool(v))
                        isapp = cJSON_IsTrue(v);
                else if (cJSON_IsString(v) && v->valuestring)
                        isapp = (!strcmp(v->valuestring, "y") || !strcmp(v->valuestring, "1") ||
                                 !strcmp(v->valuestring, "true"));
                else if (cJSON_IsNumber(v))
                        isapp = v->valuedouble != 0;
                out->is_appliance = isapp ? 1 : 0;
        }
        cJSON_Delete(root);
        if (rc)
                aa_appliance_clear(out);
        return aa_done(aa, rc, errstr, errsz);
}

int aa_check_path(struct aa_client *aa, const char *path, const char *pid,
                  struct aa_item *out, char *errstr, size_t errsz)
{
        struct aa_kv kv[] = {{"path", path}, {"pid", pid ? pid : "0"}};
        const cJSON *ex;
        cJSON *root;
        struct aa_item it;
        int rc;

        if (out)
                memset(out, 0, sizeof(*out));
        aa->ctr.calls++;
        rc = aa_rpc(aa, "checkPathExists", kv, 2, 1, NULL, NULL, &root, errstr, errsz);
        if (rc)
                return aa_done(aa, rc, errstr, errsz);
        ex = cJSON_GetObjectItemCaseSensitive(root, "exists");
        if (!cJSON_IsString(ex) || !ex->valuestring ||
            (strcmp(ex->valuestring, "y") && strcmp(ex->valuestring, "n"))) {
                rc = jb_seterr(JB_EINPUT, errstr, errsz,
                               "checkPathExists: the answer has no usable \"exists\" field");
        } else if (!strcmp(ex->valuestring, "n")) {
                rc = jb_seterr(JB_ENOTFOUND, errstr, errsz, "%s does not exist in Access Anywhere",
                               path);
        } else {
                rc = aa_parse_item(cJSON_GetObjectItemCaseSensitive(root, "file"), &it, errstr,
                                   errsz);
                if (!rc && out)
                        *out = it;
                else if (!rc)
                        aa_item_clear(&it);
        }
        cJSON_Delete(root);
        return aa_done(aa, rc, errstr, errsz);
}

int aa_list(struct aa_client *aa, const char *fi_pid, int refresh, aa_item_fn cb,
            void *opaque, char *errstr, size_t errsz)
{
        return aa_list_ex(aa, fi_pid, refresh, NULL, cb, opaque, errstr, errsz);
}

int aa_list_ex(struct aa_client *aa, const char *fi_pid, int refresh, int64_t *total_out,
               aa_item_fn cb, void *opaque, char *errstr, size_t errsz)
{
        char from_s[32], count_s[16];
        int64_t from = 0, total = 0;
        int first = 1, rc = JB_OK;

        snprintf(count_s, sizeof(count_s), "%d", AA_LIST_PAGE);
        aa->ctr.calls++;
        do {
                struct aa_kv kv[] = {{"fi_pid", fi_pid ? fi_pid : ""},
                                     {"count", count_s},
                                     {"from", from_s},
                                     {"subfolders", "y"},
                                     {"options", AA_LIST_OPTIONS},
                                     {"refresh", (refresh && first) ? "y" : "n"}};
                const cJSON *fl, *e;
                cJSON *root;
                int64_t n = 0;

                snprintf(from_s, sizeof(from_s), "%lld", (long long)from);
                rc = aa_rpc(aa, "getFolderContents", kv, 6, 1, NULL, NULL, &root, errstr, errsz);
                if (rc)
                        break;
                first = 0;
                rc = aa_jint(root, "total", 1, 0, &total, errstr, errsz);
                if (!rc && total_out)
                        *total_out = total;
                fl = cJSON_GetObjectItemCaseSensitive(root, "filelist");
                if (!rc && !cJSON_IsArray(fl) && !(total <= from && (!fl || cJSON_IsNull(fl))))
                        rc = jb_seterr(JB_EINPUT, errstr, errsz,
                                       "getFolderContents: the answer has no file list");
                if (rc || !cJSON_IsArray(fl))
                        fl = NULL;
                cJSON_ArrayForEach(e, fl) {
                        struct aa_item it;
                        int crc;

                        rc = aa_parse_item(e, &it, errstr, errsz);
                        if (rc)
                                break;
                        n++;
                        crc = cb(opaque, &it);
                        aa_item_clear(&it);
                        if (crc) {
                                rc = crc < 0 ? crc : 1;
                                break;
                        }
                }
                cJSON_Delete(root);
                if (rc)
                        break;
                if (n == 0)
                        break; /* the folder shrank while we were listing it */
                from += n;
        } while (from < total);
        if (rc == 1)
                rc = JB_OK; /* stopped by the callback */
        return aa_done(aa, rc, errstr, errsz);
}

int aa_mkdir(struct aa_client *aa, const char *fi_pid, const char *name, struct aa_item *out,
             char *errstr, size_t errsz)
{
        struct aa_kv kv[] = {{"fi_pid", fi_pid ? fi_pid : ""}, {"fi_name", name}};
        struct aa_item it;
        cJSON *root;
        int rc;

        if (out)
                memset(out, 0, sizeof(*out));
        aa->ctr.calls++;
        rc = aa_rpc(aa, "doCreateNewFolder", kv, 2, 1, NULL, NULL, &root, errstr, errsz);
        if (!rc) {
                rc = aa_parse_item(cJSON_GetObjectItemCaseSensitive(root, "file"), &it, errstr,
                                   errsz);
                if (!rc && out)
                        *out = it;
                else if (!rc)
                        aa_item_clear(&it);
        }
        cJSON_Delete(root);
        return aa_done(aa, rc, errstr, errsz);
}

/* One authenticated call fn(fi_id) whose JSON answer carries nothing jibe keeps (sink: the
 * body of getFile). */
static int aa_call_fi_id(struct aa_client *aa, const char *fn, const char *fi_id, aa_write_fn sink,
                         void *opaque, char *errstr, size_t errsz)
{
        struct aa_kv kv[] = {{"fi_id", fi_id}};
        cJSON *root;
        int rc;

        aa->ctr.calls++;
        rc = aa_rpc(aa, fn, kv, 1, 1, sink, opaque, &root, errstr, errsz);
        cJSON_Delete(root);
        return aa_done(aa, rc, errstr, errsz);
}

int aa_delete(struct aa_client *aa, const char *fi_id, char *errstr, size_t errsz)
{
        return aa_call_fi_id(aa, "doDeleteFile", fi_id, NULL, NULL, errstr, errsz);
}

int aa_rmdir(struct aa_client *aa, const char *fi_id, char *errstr, size_t errsz)
{
        return aa_call_fi_id(aa, "doDeleteFolder", fi_id, NULL, NULL, errstr, errsz);
}

int aa_download(struct aa_client *aa, const char *fi_id, aa_write_fn cb, void *opaque,
                char *errstr, size_t errsz)
{
        return aa_call_fi_id(aa, "getFile", fi_id, cb, opaque, errstr, errsz);
}

int aa_upload(struct aa_client *aa, const char *fi_pid, const char *name, const void *data,
              size_t len, struct aa_item *out, char *errstr, size_t errsz)
{
        char size_s[32];
        struct aa_kv init_kv[] = {{"fi_name", name},
                                  {"fi_pid", fi_pid ? fi_pid : ""},
                                  {"fi_size", size_s},
                                  {"fi_structtype", "g"},
                                  {"fi_contenttype", "application/octet-stream"}};
        struct aa_kv done_kv[] = {{"uploadcode", NULL}, {"remotefilesize", size_s}};
        struct aa_http_req rq;
        struct aa_item it;
        struct buf url;
        cJSON *root = NULL, *put = NULL;
        char *code = NULL, *b64 = NULL, *eb64 = NULL, *ecode = NULL;
        int64_t got = -1;
        int rc;

        if (out)
                memset(out, 0, sizeof(*out));
        buf_init(&url, AA_FORM_MAX);
        snprintf(size_s, sizeof(size_s), "%zu", len);
        aa->ctr.calls++;
        rc = aa_rpc(aa, "doInitUpload", init_kv, 5, 1, NULL, NULL, &root, errstr, errsz);
        if (!rc)
                rc = aa_jstr(root, "uploadcode", 1, &code, errstr, errsz);
        cJSON_Delete(root);
        root = NULL;
        if (rc)
                goto out;

        {
                struct buf enc;

                buf_init(&enc, AA_MAX_RESPONSE_BYTES);
                b64 = buf_base64(&enc, name, strlen(name)) ? NULL : buf_take(&enc);
                buf_clear(&enc);
        }
        eb64 = b64 ? aa_http_escape(aa->http, b64, strlen(b64)) : NULL;
        ecode = aa_http_escape(aa->http, code, strlen(code));
        if (!eb64 || !ecode || buf_printf(&url, "%s/cgi-bin/uploader/uploader1.cgi/%s?%s",
                                          aa->endpoint, eb64, ecode)) {
                rc = jb_seterr(JB_ENOMEM, errstr, errsz, "upload of %s: out of memory", name);
                goto out;
        }
        memset(&rq, 0, sizeof(rq));
        rq.method = AA_HTTP_PUT;
        rq.url = url.p;
        rq.body = data;
        rq.len = len;
        rc = aa_send(aa, "uploader", AA_MODE_UPLOADER, &rq, &put, errstr, errsz);
        if (rc == AA_EXPIRED)
                rc = jb_seterr(JB_ETRANSIENT, errstr, errsz,
                               "upload of %s: the session expired during the upload", name);
        if (!rc)
                rc = aa_jint(put, "filesize", 0, -1, &got, errstr, errsz);
        if (!rc && got >= 0 && (uint64_t)got != (uint64_t)len)
                rc = jb_seterr(JB_ETRANSIENT, errstr, errsz,
                               "upload of %s: the server received %lld of %zu bytes", name,
                               (long long)got, len);
        cJSON_Delete(put);
        if (rc)
                goto abort;
        aa->ctr.bytes_up += len;

        done_kv[0].v = code;
        rc = aa_rpc(aa, "doCompleteUpload", done_kv, 2, 1, NULL, NULL, &root, errstr, errsz);
        if (!rc) {
                rc = aa_parse_item(cJSON_GetObjectItemCaseSensitive(root, "file"), &it, errstr,
                                   errsz);
                if (!rc && out)
                        *out = it;
                else if (!rc)
                        aa_item_clear(&it);
        }
        cJSON_Delete(root);
abort:
        if (rc && rc != JB_EFATAL) {
                /* best effort: tell the server to forget the half-done upload */
                struct aa_kv ab_kv[] = {{"uploadcode", code}};
                char ignore[64];

                if (aa_rpc(aa, "doAbortUpload", ab_kv, 1, 1, NULL, NULL, &root, ignore,
                           sizeof(ignore)) == JB_OK)
                        cJSON_Delete(root);
        }
out:
        free(code);
        free(b64);
        free(eb64);
        free(ecode);
        buf_clear(&url);
        return aa_done(aa, rc, errstr, errsz);
}

static int aa_parse_provider(const cJSON *o, struct aa_provider *p, char *errstr, size_t errsz)
{
        const cJSON *bl, *b, *ls;
        size_t nb, i = 0;
        int rc;

        if (!cJSON_IsObject(o))
                return jb_seterr(JB_EINPUT, errstr, errsz,
                                 "getProviderInfo: a provider is not an object");
        rc = aa_jstr(o, "pi_id", 1, &p->id, errstr, errsz);
        if (!rc)
                rc = aa_jstr(o, "pi_name", 1, &p->name, errstr, errsz);
        if (!rc)
                rc = aa_jstr(o, "fi_id", 0, &p->fi_id, errstr, errsz);
        if (!rc)
                rc = aa_jstr(o, "accesskey", 0, &p->access_key, errstr, errsz);
        if (!rc)
                rc = aa_jstr(o, "arn", 0, &p->arn, errstr, errsz);
        if (!rc)
                rc = aa_jstr(o, "useragent", 0, &p->user_agent, errstr, errsz);
        if (rc)
                return rc;
        bl = cJSON_GetObjectItemCaseSensitive(o, "buckets");
        if (bl && !cJSON_IsArray(bl) && !cJSON_IsNull(bl))
                return jb_seterr(JB_EINPUT, errstr, errsz,
                                 "getProviderInfo: provider %s has a bucket list that is not a list",
                                 p->id);
        nb = (size_t)cJSON_GetArraySize(bl);
        if (nb) {
                p->buckets = calloc(nb, sizeof(*p->buckets));
                if (!p->buckets)
                        return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        }
        if (!cJSON_IsArray(bl))
                bl = NULL;
        cJSON_ArrayForEach(b, bl) {
                if (cJSON_IsString(b)) { /* tolerate a plain list of names */
                        p->buckets[i].name = strdup(b->valuestring);
                        p->buckets[i].fi_id = strdup("");
                        if (!p->buckets[i].name || !p->buckets[i].fi_id)
                                rc = JB_ENOMEM;
                } else if (cJSON_IsObject(b)) {
                        rc = aa_jstr(b, "name", 1, &p->buckets[i].name, errstr, errsz);
                        if (!rc)
                                rc = aa_jstr(b, "fi_id", 0, &p->buckets[i].fi_id, errstr, errsz);
                } else {
                        rc = jb_seterr(JB_EINPUT, errstr, errsz,
                                       "getProviderInfo: provider %s has an unreadable bucket",
                                       p->id);
                }
                p->nbuckets = ++i;
                if (rc)
                        return rc == JB_ENOMEM ? jb_seterr(rc, errstr, errsz, "out of memory") : rc;
        }
        p->lastsync.files_indexed = -1;
        ls = cJSON_GetObjectItemCaseSensitive(o, "lastsync");
        if (cJSON_IsObject(ls)) {
                rc = aa_jstr(ls, "taskid", 0, &p->lastsync.taskid, errstr, errsz);
                if (!rc)
                        rc = aa_jtime(ls, "started", &p->lastsync.started, errstr, errsz);
                if (!rc)
                        rc = aa_jtime(ls, "completed", &p->lastsync.completed, errstr, errsz);
                if (!rc)
                        rc = aa_jint(ls, "filesindexed", 0, -1, &p->lastsync.files_indexed, errstr,
                                     errsz);
        } else {
                p->lastsync.taskid = strdup("");
                if (!p->lastsync.taskid)
                        rc = jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        }
        return rc;
}

int aa_providers(struct aa_client *aa, struct aa_provider **out, size_t *n, char *errstr,
                 size_t errsz)
{
        const cJSON *pl, *e;
        struct aa_provider *p = NULL;
        cJSON *root;
        size_t np, i = 0;
        int rc;

        *out = NULL;
        *n = 0;
        aa->ctr.calls++;
        rc = aa_rpc(aa, "getProviderInfo", NULL, 0, 1, NULL, NULL, &root, errstr, errsz);
        if (rc)
                return aa_done(aa, rc, errstr, errsz);
        pl = cJSON_GetObjectItemCaseSensitive(root, "providers");
        if (!cJSON_IsArray(pl)) {
                rc = jb_seterr(JB_EINPUT, errstr, errsz,
                               "getProviderInfo: the answer has no provider list");
                goto out;
        }
        np = (size_t)cJSON_GetArraySize(pl);
        if (np) {
                p = calloc(np, sizeof(*p));
                if (!p) {
                        rc = jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                        goto out;
                }
        }
        cJSON_ArrayForEach(e, pl) {
                rc = aa_parse_provider(e, &p[i++], errstr, errsz);
                if (rc)
                        break;
        }
        if (rc) {
                aa_providers_free(p, i);
                goto out;
        }
        *out = p;
        *n = np;
out:
        cJSON_Delete(root);
        return aa_done(aa, rc, errstr, errsz);
}

int aa_task_get(struct aa_client *aa, const char *taskid, struct aa_task *out, char *errstr,
                size_t errsz)
{
        struct aa_kv kv[] = {{"taskid", taskid}};
        const cJSON *tl, *e, *found = NULL;
        cJSON *root;
        char *st = NULL;
        int rc;

        memset(out, 0, sizeof(*out));
        aa->ctr.calls++;
        rc = aa_rpc(aa, "getUserBackgroundTasks", kv, 1, 1, NULL, NULL, &root, errstr, errsz);
        if (rc)
                return aa_done(aa, rc, errstr, errsz);
        tl = cJSON_GetObjectItemCaseSensitive(root, "tasks");
        if (tl && !cJSON_IsArray(tl) && !cJSON_IsNull(tl)) {
                rc = jb_seterr(JB_EINPUT, errstr, errsz,
                               "getUserBackgroundTasks: the task list is not a list");
                goto out;
        }
        if (!cJSON_IsArray(tl))
                tl = NULL;
        cJSON_ArrayForEach(e, tl) {
                char *id = NULL;

                if (!cJSON_IsObject(e))
                        continue;
                rc = aa_jstr(e, "bt_id", 0, &id, errstr, errsz);
                if (rc)
                        goto out;
                if (!strcmp(id, taskid))
                        found = e;
                free(id);
                if (found)
                        break;
        }
        if (!found) {
                rc = jb_seterr(JB_ENOTFOUND, errstr, errsz,
                               "background task %s is not known to Access Anywhere", taskid);
                goto out;
        }
        rc = aa_jstr(found, "bt_id", 1, &out->id, errstr, errsz);
        if (!rc)
                rc = aa_jstr(found, "bt_type", 0, &out->type, errstr, errsz);
        if (!rc)
                rc = aa_jstr(found, "bt_title", 0, &out->title, errstr, errsz);
        if (!rc)
                rc = aa_jstr(found, "bt_statusdata", 0, &out->statusdata, errstr, errsz);
        if (!rc)
                rc = aa_jtime(found, "bt_added", &out->added, errstr, errsz);
        if (!rc)
                rc = aa_jtime(found, "bt_completed", &out->completed, errstr, errsz);
        if (!rc)
                rc = aa_jstr(found, "bt_status", 0, &st, errstr, errsz);
        if (!rc)
                out->status = (!strcmp(st, "c") || !strcmp(st, "r")) ? st[0] : '?';
        free(st);
out:
        if (rc)
                aa_task_clear(out);
        cJSON_Delete(root);
        return aa_done(aa, rc, errstr, errsz);
}

int aa_sync(struct aa_client *aa, const char *pi_id, const char *bucket, const char *key,
            const char *event, struct aa_sync_out *out, char *errstr, size_t errsz)
{
        struct aa_kv kv[] = {{"pi_id", pi_id}, {"bucket", bucket}, {"key", key},
                             {"event", event ? event : (key ? "put" : "bucket")}};
        struct aa_sync_out so = {AA_SYNC_UNCHANGED, -1};
        const cJSON *r;
        cJSON *root;
        int rc;

        aa->ctr.calls++;
        rc = aa_rpc(aa, "syncOnProviderEvent", kv, 4, 1, NULL, NULL, &root, errstr, errsz);
        if (rc)
                return aa_done(aa, rc, errstr, errsz);
        r = cJSON_GetObjectItemCaseSensitive(root, "result");
        if (!cJSON_IsString(r) || !r->valuestring)
                rc = jb_seterr(JB_EINPUT, errstr, errsz,
                               "syncOnProviderEvent: the answer has no result");
        else if (!strcmp(r->valuestring, "updated"))
                so.result = AA_SYNC_UPDATED;
        else if (!strcmp(r->valuestring, "removed"))
                so.result = AA_SYNC_REMOVED;
        else if (!strcmp(r->valuestring, "unchanged"))
                so.result = AA_SYNC_UNCHANGED;
        else if (!strcmp(r->valuestring, "bucket"))
                so.result = AA_SYNC_BUCKET;
        else
                rc = jb_seterr(JB_EINPUT, errstr, errsz,
                               "syncOnProviderEvent: unknown result \"%.40s\"", r->valuestring);
        if (!rc)
                rc = aa_jint(root, "synced", 0, -1, &so.synced, errstr, errsz);
        if (!rc && out)
                *out = so;
        cJSON_Delete(root);
        return aa_done(aa, rc, errstr, errsz);
}
