/*
 * aa.c - the Access Anywhere client (see aa.h): builds the calls of PROTOCOL.md as form
 * bodies, reads their JSON answers into jibe structures, and owns the policy around them:
 * lazy login, one transparent re-login on login_token_expired, retries with exponential
 * backoff and full jitter, and the mapping of server answers to jibe error classes.
 *
 * Ownership: struct aa_client owns copies of every option string, its session token and its
 * aa_http. Parsed JSON (cJSON) lives only inside one call; everything handed to the caller
 * is copied into malloc'd strings the caller releases with the matching _clear()/_free().
 * Every call and field follows a public client (rclone's filefabric backend, the public
 * Python client of the Access Anywhere API), see PROTOCOL.md; what is not public (the fields
 * of syncOnProviderEvent, which provider a background task belongs to) is guessed only here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "aa.h"
#include "aa_http.h"
#include "backoff.h"
#include "buf.h"
#include "log.h"
#include "metrics.h"
#include "sig.h"

/* Internal outcomes of one attempt, besides the jb_err codes (all negative). */
#define AA_RETRY 1   /* worth another attempt after a backoff */
#define AA_EXPIRED 2 /* session token expired: log in again */
#define AA_NOTFILE 3 /* a download's answer is not the file: as AA_RETRY, message kept */

#define AA_FORM_MAX (1024u * 1024) /* one request body */
#define AA_MSG 512

#define AA_FN_LOGIN_PASSWORD "getToken"
#define AA_FN_LOGIN_TOKEN "getTokenByAuthToken"
/* Not public: syncOnProviderEvent's name is in the Jibe docs, its fields are jibe's guess. */
#define AA_FN_SYNC "syncOnProviderEvent"
#define AA_SYNC_F_PROVIDER "pi_id"
#define AA_SYNC_F_BUCKET "bucket"
#define AA_SYNC_F_KEY "key"
#define AA_SYNC_F_EVENT "event"
#define AA_LIST_OPTIONS                                                                                 \
        "filelist|fi_id|fi_pid|fi_name|fi_type|fi_size|fi_contenttype|fi_modified|fi_localtime|trash|subfolders"

struct aa_client {
        struct aa_http *http;
        char *endpoint; /* without trailing '/' */
        char *rpc_url;
        char *login;
        char *password;
        char *authtoken;
        char *token;     /* session token; NULL until logged in */
        time_t token_at; /* monotonic second it was issued */
        long token_renew_s;
        long refresh_timeout_ms;
        long refresh_poll_ms;
        int max_retries;
        long backoff_base_ms;
        long backoff_max_ms;
        size_t max_resp;
        long retry_after_s; /* Retry-After of the last attempt's answer, 0: none */
        struct aa_counters ctr;
};

struct aa_kv {
        const char *k;
        const char *v; /* NULL: field left out */
};

/* Modes of answer checking. LOGIN: an RPC whose refusals are all fatal. */
enum aa_mode { AA_MODE_RPC, AA_MODE_LOGIN, AA_MODE_DOWNLOAD, AA_MODE_UPLOADER };

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

/* Full jitter (backoff.h): a uniform pause in [0, min(max, base * 2^attempt)], but not
 * shorter than the server's Retry-After (itself capped by max: a call does not block longer). */
static void aa_backoff(struct aa_client *aa, int attempt, long retry_after_s)
{
        struct backoff b = {aa->backoff_base_ms, aa->backoff_max_ms, BACKOFF_FULL, attempt};
        long floor_ms = retry_after_s > 0 ? retry_after_s * 1000 : 0;

        if (floor_ms > aa->backoff_max_ms)
                floor_ms = aa->backoff_max_ms;
        backoff_sleep(backoff_next(&b, floor_ms), sig_abort_requested);
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
        int y, mo, d, h, mi, se, n = 0;
        time_t t;

        *out = 0;
        if (!s || !*s)
                return 0;
        if (sscanf(s, "%4d-%2d-%2d %2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &n) != 6 || s[n] != '\0')
                return -1;
        if (y == 0 && mo == 0 && d == 0)
                return 0;
        if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60 || h < 0 ||
            mi < 0 || se < 0)
                return -1;
        t = jb_utc_time(y, mo, d, h, mi, se);
        if (t == (time_t)-1)
                return -1;
        *out = t;
        return 0;
}

static time_t aa_mono_s(void)
{
        return (time_t)(jb_mono_ms() / 1000);
}

/* ---- JSON fields (numbers may arrive as strings) ------------------------------------ */

/*
 * Walk a list that may arrive as a JSON array or, when it holds one element, as that
 * element (an object): the first element when prev is NULL, else the one after prev.
 * Absent, null, "" and false are empty lists. *bad is set for anything else.
 */
static const cJSON *aa_jnext(const cJSON *list, const cJSON *prev, int *bad)
{
        if (!list || cJSON_IsNull(list) || cJSON_IsFalse(list) ||
            (cJSON_IsString(list) && list->valuestring && !*list->valuestring))
                return NULL;
        if (cJSON_IsArray(list))
                return prev ? prev->next : list->child;
        if (cJSON_IsObject(list))
                return prev ? NULL : (list->child ? list : NULL); /* {} is an empty list */
        if (bad)
                *bad = 1;
        return NULL;
}

/* True for y, yes, true, 1 (as strings, numbers or booleans). */
static int aa_jtrue(const cJSON *v)
{
        if (cJSON_IsBool(v))
                return cJSON_IsTrue(v);
        if (cJSON_IsNumber(v))
                return v->valuedouble != 0;
        if (cJSON_IsString(v) && v->valuestring) {
                const char *s = v->valuestring;

                return !strcasecmp(s, "y") || !strcasecmp(s, "yes") || !strcasecmp(s, "true") ||
                       !strcmp(s, "1");
        }
        return 0;
}

/* Copy field key as a string (a number is printed). Missing or null: "" unless required. */
static int aa_jstr(const cJSON *o, const char *key, int required, char **out, char *errstr, size_t errsz)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
        char num[64];

        *out = NULL;
        if (cJSON_IsString(v) && v->valuestring) {
                *out = strdup(v->valuestring);
        } else if (cJSON_IsNumber(v)) {
                double d = v->valuedouble;

                if (d > -9.2e18 && d < 9.2e18 && d == (double)(long long)d) /* cast in range */
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
        if (cJSON_IsNumber(v) && v->valuedouble > -9.2e18 && v->valuedouble < 9.2e18) {
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
        free(it->provider);
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
        dst->provider = aa_strdup(src->provider);
        dst->is_bucket = src->is_bucket;
        if (!dst->fi_id || !dst->fi_pid || !dst->name || !dst->provider) {
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
        if (!rc)
                rc = aa_jstr(o, "fi_provider", 0, &it->provider, errstr, errsz);
        if (rc) {
                aa_item_clear(it);
                return rc;
        }
        it->type = type ? AA_FOLDER : AA_FILE;
        {
                const cJSON *ib = cJSON_GetObjectItemCaseSensitive(o, "isbucket");

                it->is_bucket = (!ib || cJSON_IsNull(ib)) ? -1 : aa_jtrue(ib);
        }
        return JB_OK;
}

/* The item in an answer's "file" field: to *out when the caller wants it, else parsed and
 * dropped (a bad one is still an error). */
static int aa_answer_file(const cJSON *root, struct aa_item *out, char *errstr, size_t errsz)
{
        struct aa_item it;
        int rc = aa_parse_item(cJSON_GetObjectItemCaseSensitive(root, "file"), &it, errstr, errsz);

        if (!rc && out)
                *out = it;
        else if (!rc)
                aa_item_clear(&it);
        return rc;
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
        free(t->callback);
        free(t->provider);
        memset(t, 0, sizeof(*t));
}

void aa_lastsync_clear(struct aa_lastsync *ls)
{
        if (!ls)
                return;
        free(ls->taskid);
        memset(ls, 0, sizeof(*ls));
        ls->files_indexed = -1;
}

static void aa_provider_clear(struct aa_provider *p)
{
        size_t i;

        free(p->id);
        free(p->name);
        free(p->fi_id);
        for (i = 0; i < p->nbuckets; i++) {
                free(p->buckets[i].name);
                free(p->buckets[i].fi_id);
        }
        free(p->buckets);
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
static int aa_status_class(const char *what, enum aa_mode mode, const char *status, const char *msg,
                           long http, char *errstr, size_t errsz)
{
        if (!strcmp(status, "login_token_expired") && mode != AA_MODE_LOGIN)
                return AA_EXPIRED;
        if (!strcmp(status, "error_background"))
                return jb_seterr(AA_RETRY, errstr, errsz, "%s: server busy (error_background: %s)", what,
                                 msg);
        if (!strcmp(status, "unknown_function"))
                return jb_seterr(JB_ENOTSUP, errstr, errsz,
                                 "%s: this Access Anywhere server does not know the call (%s)", what,
                                 msg);
        if (mode == AA_MODE_LOGIN) /* the code of a refused login is not public: any refusal */
                return jb_seterr(JB_EFATAL, errstr, errsz,
                                 "%s: Access Anywhere refused the login (%s: %s); check the login and "
                                 "password or the permanent token in the configuration",
                                 what, status, msg);
        if (!strcmp(status, "not_found") || !strcmp(status, "trashed"))
                return jb_seterr(JB_ENOTFOUND, errstr, errsz, "%s: not found (%s: %s)", what, status,
                                 msg);
        if (http == 401 || http == 403)
                return jb_seterr(JB_EFATAL, errstr, errsz,
                                 "%s: access denied (HTTP %ld, %s: %s); check the account's rights",
                                 what, http, status, msg);
        return jb_seterr(JB_EINPUT, errstr, errsz, "%s: Access Anywhere answered %s: %s", what, status,
                         msg);
}

/* Decode a base64 failure header into out (printable, cut to outsz); as sent if not base64. */
static void aa_header_text(const char *v, char *out, size_t outsz)
{
        struct buf b;
        size_t i, k = 0;
        const char *src = v;
        size_t n = strlen(v);

        buf_init(&b, AA_HTTP_HDR_MAX);
        if (buf_unbase64(&b, v, n) == JB_OK && b.len) {
                src = b.p;
                n = b.len;
        }
        for (i = 0; i < n && k + 1 < outsz; i++) {
                unsigned char c = (unsigned char)src[i];

                out[k++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
        }
        out[k] = '\0';
        buf_clear(&b);
}

/* getFile's failure headers as one sentence (AA_RETRY: the server may serve it later). */
static int aa_download_failed(const char *what, const struct aa_http_resp *rs, char *errstr,
                              size_t errsz)
{
        char naa[256] = "", prov[256] = "";

        if (rs->dl_error[0])
                aa_header_text(rs->dl_error, naa, sizeof(naa));
        if (rs->prov_error[0])
                aa_header_text(rs->prov_error, prov, sizeof(prov));
        return jb_seterr(AA_RETRY, errstr, errsz,
                         "%s: Access Anywhere could not serve the file (HTTP %ld): %s%s%s%s%s%s%s%s",
                         what, rs->status, naa[0] ? naa : "no message",
                         rs->dl_error_status[0] ? " (status " : "", rs->dl_error_status,
                         rs->dl_error_status[0] ? ")" : "", prov[0] ? "; the storage said: " : "", prov,
                         rs->prov_error_code[0] ? " code " : "", rs->prov_error_code);
}

/* The text between <tag> and </tag> in an XML answer, as a new cJSON string in o. */
static int aa_xml_field(cJSON *o, const char *xml, const char *tag)
{
        char open[32], close[32];
        const char *a, *b;
        char *v;
        cJSON *s;

        snprintf(open, sizeof(open), "<%s>", tag);
        snprintf(close, sizeof(close), "</%s>", tag);
        a = strstr(xml, open);
        if (!a)
                return 0;
        a += strlen(open);
        b = strstr(a, close);
        if (!b || b - a > 256)
                return 0;
        v = strndup(a, (size_t)(b - a));
        s = v ? cJSON_CreateString(v) : NULL;
        free(v);
        if (!s)
                return -1;
        cJSON_AddItemToObject(o, tag, s);
        return 0;
}

/* The uploader's XML answer (rclone reads it too) as the JSON object it stands for. */
static cJSON *aa_uploader_xml(const struct buf *body)
{
        cJSON *o;

        if (!body->len || !strstr(body->p, "<success>"))
                return NULL;
        o = cJSON_CreateObject();
        if (o && (aa_xml_field(o, body->p, "success") || aa_xml_field(o, body->p, "filesize") ||
                  aa_xml_field(o, body->p, "md5"))) {
                cJSON_Delete(o);
                o = NULL;
        }
        return o;
}

/* ---- answer ceilings (see AA_ANSWER_* in aa.h) ----------------------------------- */

/* The ceiling of fn's answer, from the page size the request asks for. */
static size_t aa_answer_max(const struct aa_client *aa, const char *fn, const struct aa_kv *kv,
                            size_t nkv)
{
        static const struct {
                const char *fn, *count; /* the call, and its field that sets the page size */
                long dflt;              /* the server's page when the field is left out */
        } lists[] = {
                {"getFolderContents", "count", AA_LIST_PAGE},
                {"getUserBackgroundTasks", "limit", 1000},
        };
        size_t max = AA_ANSWER_SMALL_BYTES, i, k;

        for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
                long n = lists[i].dflt;

                if (strcmp(fn, lists[i].fn) != 0)
                        continue;
                for (k = 0; k < nkv; k++)
                        if (kv[k].v && strcmp(kv[k].k, lists[i].count) == 0)
                                n = strtol(kv[k].v, NULL, 10);
                if (n < 1)
                        n = 1;
                if (n > 100000)
                        n = 100000;
                max = AA_ANSWER_BASE_BYTES + (size_t)n * AA_ANSWER_ITEM_BYTES;
        }
        return max < aa->max_resp ? max : aa->max_resp;
}

/* JSON values in text (an upper bound: 1 + commas + opening brackets outside strings), counted
 * without building the tree; stops once past limit. */
static size_t aa_json_values(const char *p, size_t n, size_t limit)
{
        size_t v = 1, i;
        int in_str = 0;

        for (i = 0; i < n && v <= limit; i++) {
                char c = p[i];

                if (in_str) {
                        if (c == '\\')
                                i++;
                        else if (c == '"')
                                in_str = 0;
                } else if (c == '"') {
                        in_str = 1;
                } else if (c == ',' || c == '[' || c == '{') {
                        v++;
                }
        }
        return v;
}

/* The message of an answer over its call's ceiling (limit: "the N-byte limit" ...). */
static int aa_answer_too_big(const char *what, const struct aa_http_resp *rs, const char *limit,
                             char *errstr, size_t errsz)
{
        char size[48];

        if (rs->toobig && rs->content_length > 0)
                snprintf(size, sizeof(size), "a %lld-byte answer", (long long)rs->content_length);
        else if (rs->toobig)
                snprintf(size, sizeof(size), "an answer of more than %zu bytes", rs->body.max);
        else
                snprintf(size, sizeof(size), "a %zu-byte answer", rs->body.len);
        return jb_seterr(JB_ELIMIT, errstr, errsz,
                         "Access Anywhere sent %s to %s, more than %s for this call; it was not "
                         "read (a fault of the server or of a proxy before it: the call is tried "
                         "again later)",
                         size, what, limit);
}

/* The host part of a redirect's Location (never its path or query: they may carry
 * signatures), or "another address". */
static void aa_location_host(const char *loc, char *out, size_t outsz)
{
        const char *h = strstr(loc, "://");
        size_t n;

        if (!h) {
                snprintf(out, outsz, "another address");
                return;
        }
        h += 3;
        n = strcspn(h, "/?#");
        if (memchr(h, '@', n)) { /* user:password@host: keep the host only */
                const char *at = memchr(h, '@', n);

                n -= (size_t)(at + 1 - h);
                h = at + 1;
        }
        snprintf(out, outsz, "%.*s", (int)(n < 120 ? n : 120), h);
}

/* What an answer to getFile said it was, for messages: "HTTP 200, text/html". */
static void aa_dl_what(const struct aa_http_resp *rs, char *out, size_t outsz)
{
        snprintf(out, outsz, "HTTP %ld, %s%s", rs->status,
                 rs->ctype[0] ? "Content-Type " : "no Content-Type", rs->ctype);
}

/* A 2xx getFile answer held in rs->body (typed as JSON, or empty) that is really the file:
 * check its length against the listing, then hand it to the sink. */
static int aa_dl_deliver(const char *what, const struct aa_http_req *rq, struct aa_http_resp *rs,
                         char *errstr, size_t errsz)
{
        char desc[192], snip[48];
        int rc;

        if (rq->want_size >= 0 && (int64_t)rs->body.len != rq->want_size) {
                aa_dl_what(rs, desc, sizeof(desc));
                aa_snippet(&rs->body, snip, sizeof(snip));
                return jb_seterr(AA_NOTFILE, errstr, errsz,
                                 "%s: the answer is not the file: %zu bytes received, the file is "
                                 "listed with %lld (%s, starting \"%s\")",
                                 what, rs->body.len, (long long)rq->want_size, desc, snip);
        }
        if (rs->body.len) {
                rc = rq->sink(rq->opaque, rs->body.p, rs->body.len);
                if (rc)
                        return jb_seterr(rc, errstr, errsz, "%s: stopped by its receiver", what);
                rs->delivered += rs->body.len;
        }
        return JB_OK;
}

/*
 * Classify one getFile exchange. The answer is the file only when the status is 2xx, no
 * failure header came, it is no HTML page (rq->no_pages), and its byte count equals
 * Content-Length (when sent) and rq->want_size (when known). Everything else is AA_RETRY or
 * AA_NOTFILE with a message naming the status, the type and the byte counts; only the
 * API's own answers give other codes (not_found: JB_ENOTFOUND, refusals, expired session).
 */
static int aa_classify_download(const char *what, int hrc, const struct aa_http_req *rq,
                                struct aa_http_resp *rs, char *errstr, size_t errsz)
{
        const cJSON *st, *sm;
        cJSON *root;
        long http = rs->status;
        char desc[192], snip[48], host[128];
        int rc;

        if (hrc == JB_ETRANSIENT)
                return AA_RETRY; /* message already in errstr */
        if (hrc)
                return hrc;
        if (rs->dl_error[0] || rs->prov_error[0])
                return aa_download_failed(what, rs, errstr, errsz);
        if (http == 429 || http / 100 == 5)
                return jb_seterr(AA_RETRY, errstr, errsz, "%s: HTTP %ld from Access Anywhere", what,
                                 http);
        aa_dl_what(rs, desc, sizeof(desc));
        if (rs->size_refused)
                return jb_seterr(AA_NOTFILE, errstr, errsz,
                                 "%s: the answer is not the file: it announces %lld bytes "
                                 "(Content-Length), the file is listed with %lld (%s)",
                                 what, (long long)rs->content_length, (long long)rq->want_size, desc);
        if (rs->oversize)
                return jb_seterr(AA_NOTFILE, errstr, errsz,
                                 "%s: the answer is not the file: more than the %lld bytes the file "
                                 "is listed with (%s)",
                                 what, (long long)rq->want_size, desc);
        if (rs->toobig)
                return jb_seterr(AA_NOTFILE, errstr, errsz,
                                 "%s: the answer is not the file: an answer of more than %u bytes "
                                 "that is no file (%s)",
                                 what, AA_MAX_ERROR_BYTES, desc);
        if (http / 100 == 2 && rs->streamed) {
                if (rs->content_length >= 0 && (uint64_t)rs->content_length != rs->delivered)
                        return jb_seterr(AA_NOTFILE, errstr, errsz,
                                         "%s: the file ended after %llu of the %lld bytes "
                                         "announced (%s)",
                                         what, (unsigned long long)rs->delivered,
                                         (long long)rs->content_length, desc);
                if (rq->want_size >= 0 && (int64_t)rs->delivered != rq->want_size)
                        return jb_seterr(AA_NOTFILE, errstr, errsz,
                                         "%s: the answer is not the whole file: %llu bytes received, "
                                         "the file is listed with %lld (%s, Content-Length %s)",
                                         what, (unsigned long long)rs->delivered,
                                         (long long)rq->want_size, desc,
                                         rs->content_length >= 0 ? "matching" : "not sent");
                return JB_OK;
        }
        aa_snippet(&rs->body, snip, sizeof(snip));
        if (http / 100 == 2 && rs->page)
                return jb_seterr(AA_RETRY, errstr, errsz,
                                 "%s: the answer is not the file but an HTML page (%s, %zu bytes, "
                                 "starting \"%s\"); a portal or proxy may stand in front of "
                                 "Access Anywhere",
                                 what, desc, rs->body.len, snip);
        root = rs->body.len ? cJSON_ParseWithLength(rs->body.p, rs->body.len) : NULL;
        st = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "status") : NULL;
        sm = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "statusmessage") : NULL;
        if (cJSON_IsString(st) && st->valuestring && strcmp(st->valuestring, "ok") != 0) {
                /* the API's own error answer */
                rc = aa_status_class(what, AA_MODE_DOWNLOAD, st->valuestring,
                                     cJSON_IsString(sm) && sm->valuestring ? sm->valuestring : "", http,
                                     errstr, errsz);
                cJSON_Delete(root);
                return rc;
        }
        cJSON_Delete(root);
        if (http / 100 == 2)
                return aa_dl_deliver(what, rq, rs, errstr, errsz); /* a JSON or empty file */
        if (http == 401 || http == 403)
                return jb_seterr(JB_EFATAL, errstr, errsz,
                                 "%s: access denied (HTTP %ld); check the credentials and the "
                                 "account's rights",
                                 what, http);
        if (http / 100 == 3) {
                aa_location_host(rs->location, host, sizeof(host));
                return jb_seterr(AA_RETRY, errstr, errsz,
                                 "%s: the answer is not the file but a redirect to %s (%s, %zu "
                                 "bytes); a portal or proxy may stand in front of Access Anywhere",
                                 what, host, desc, rs->body.len);
        }
        return jb_seterr(AA_RETRY, errstr, errsz,
                         "%s: the answer is not the file and not an Access Anywhere answer (%s, %zu "
                         "bytes, starting \"%s\")",
                         what, desc, rs->body.len, snip);
}

/*
 * Classify one HTTP exchange. On JB_OK with mode RPC/UPLOADER, *out holds the parsed
 * answer (caller deletes). Returns AA_RETRY/AA_EXPIRED or a jb_err; errstr says why.
 */
static int aa_classify(const char *what, enum aa_mode mode, int hrc, const struct aa_http_req *rq,
                       struct aa_http_resp *rs, cJSON **out, char *errstr, size_t errsz)
{
        const cJSON *st, *sm;
        cJSON *root;
        long http = rs->status;
        char snip[48];
        int rc;

        *out = NULL;
        if (mode == AA_MODE_DOWNLOAD)
                return aa_classify_download(what, hrc, rq, rs, errstr, errsz);
        if (hrc == JB_ETRANSIENT)
                return AA_RETRY; /* message already in errstr */
        if (hrc == JB_ELIMIT && rs->toobig && mode != AA_MODE_DOWNLOAD) {
                char lim[64];

                snprintf(lim, sizeof(lim), "the %zu-byte limit", rs->body.max);
                return aa_answer_too_big(what, rs, lim, errstr, errsz);
        }
        if (hrc)
                return hrc;
        if (http == 429 || http / 100 == 5)
                return jb_seterr(AA_RETRY, errstr, errsz, "%s: HTTP %ld from Access Anywhere", what,
                                 http);
        if (mode != AA_MODE_DOWNLOAD &&
            aa_json_values(rs->body.p, rs->body.len, rs->body.max / AA_ANSWER_BYTES_PER_VALUE) >
                    rs->body.max / AA_ANSWER_BYTES_PER_VALUE) {
                char lim[64];

                snprintf(lim, sizeof(lim), "the limit of %zu JSON values",
                         rs->body.max / AA_ANSWER_BYTES_PER_VALUE);
                return aa_answer_too_big(what, rs, lim, errstr, errsz);
        }
        root = rs->body.len ? cJSON_ParseWithLength(rs->body.p, rs->body.len) : NULL;
        if (!root && mode == AA_MODE_UPLOADER)
                root = aa_uploader_xml(&rs->body);
        if (!cJSON_IsObject(root)) {
                cJSON_Delete(root);
                if (http == 401 || http == 403)
                        return jb_seterr(JB_EFATAL, errstr, errsz,
                                         "%s: access denied (HTTP %ld); check the credentials and "
                                         "the account's rights",
                                         what, http);
                if (http == 404)
                        return jb_seterr(JB_ENOTFOUND, errstr, errsz, "%s: not found (HTTP 404)", what);
                /* not the API's answer: a maintenance page or a proxy in front of it, which
                 * passes (AA_RETRY); a wrong endpoint shows as the same, so say it */
                aa_snippet(&rs->body, snip, sizeof(snip));
                return jb_seterr(AA_RETRY, errstr, errsz,
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
                return jb_seterr(AA_RETRY, errstr, errsz,
                                 "%s: the answer from Access Anywhere has no status (HTTP %ld)", what,
                                 http);
        }
        if (!strcmp(st->valuestring, "ok")) {
                if (http == 401 || http == 403) {
                        cJSON_Delete(root);
                        return jb_seterr(JB_EFATAL, errstr, errsz, "%s: access denied (HTTP %ld)", what,
                                         http);
                }
                if (http / 100 != 2) {
                        cJSON_Delete(root);
                        return jb_seterr(JB_EINPUT, errstr, errsz,
                                         "%s: status ok with HTTP %ld makes no sense", what, http);
                }
                *out = root;
                return JB_OK;
        }
        rc = aa_status_class(what, mode, st->valuestring,
                             cJSON_IsString(sm) && sm->valuestring ? sm->valuestring : "", http, errstr,
                             errsz);
        cJSON_Delete(root);
        return rc;
}

/* One HTTP exchange for metrics.h: its function, result and duration; an answer (even a
 * refusal) tells readiness that Access Anywhere responds, a passing failure that it does not. */
static void aa_metrics(const char *what, enum aa_mode mode, int rc, int64_t ms)
{
        const char *res = rc == JB_OK ? "ok"
                          : rc == AA_RETRY || rc == AA_NOTFILE || rc == JB_ETRANSIENT || rc == JB_ELIMIT
                                  ? "retry"
                          : rc == AA_EXPIRED ? "expired"
                                             : "error";

        metric_add(M_AA_CALLS, 1, what, res);
        metric_observe(M_AA_CALL_SECONDS, (double)ms / 1000.0, what, NULL);
        metrics_aa_outcome(strcmp(res, "retry") != 0, mode == AA_MODE_LOGIN && rc == JB_OK);
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
        int64_t t0;
        int attempt, hrc, rc, limit;

        for (attempt = 0;; attempt++) {
                msg[0] = '\0';
                aa_http_resp_init(&rs, rq->answer_max ? rq->answer_max : aa->max_resp);
                aa->ctr.requests++;
                t0 = metrics_enabled() ? jb_mono_ms() : 0;
                hrc = aa_http_do(aa->http, rq, &rs, msg, sizeof(msg));
                rc = aa_classify(what, mode, hrc, rq, &rs, out, msg, sizeof(msg));
                if (t0)
                        aa_metrics(what, mode, rc, jb_mono_ms() - t0);
                delivered = rs.delivered;
                retry_after = rs.retry_after_s;
                aa->retry_after_s = retry_after;
                aa->ctr.bytes_down += delivered;
                aa_http_resp_clear(&rs);
                limit = rc == JB_ELIMIT && mode != AA_MODE_DOWNLOAD; /* a server fault: retried */
                if (rc != AA_RETRY && rc != AA_NOTFILE && !limit) {
                        if (rc)
                                jb_seterr(rc, errstr, errsz, "%s", msg);
                        return rc;
                }
                if (delivered && rc == AA_NOTFILE)
                        return jb_seterr(JB_ETRANSIENT, errstr, errsz,
                                         "%s; the download must start again", msg);
                if (delivered)
                        return jb_seterr(JB_ETRANSIENT, errstr, errsz,
                                         "%s broke after %llu bytes (%s); the download must start "
                                         "again",
                                         what, (unsigned long long)delivered, msg);
                if (sig_abort_requested())
                        return jb_seterr(JB_ETRANSIENT, errstr, errsz,
                                         "%s not retried: jibe is stopping (%s)", what, msg);
                if (attempt >= aa->max_retries)
                        return jb_seterr(limit ? JB_ELIMIT : JB_ETRANSIENT, errstr, errsz,
                                         "%s failed after %d attempts; last: %s", what, attempt + 1,
                                         msg);
                aa->ctr.retries++;
                metric_add(M_AA_RETRIES, 1, what, NULL);
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
                return jb_seterr(rc, errstr, errsz, "%s: request larger than %u bytes", fn, AA_FORM_MAX);
        if (rc)
                return jb_seterr(rc, errstr, errsz, "%s: out of memory building the request", fn);
        return JB_OK;
}

static int aa_login_now(struct aa_client *aa, char *errstr, size_t errsz);

/* auth of aa_rpc(): */
#define AA_NOAUTH 0 /* token "*" */
#define AA_AUTH 1   /* the session token (logging in first when needed) */
#define AA_LOGIN 2  /* token "*", and every refusal is fatal */

/* One call: lazy login, retries, one re-login on an expired token. dl: getFile only (its
 * sink, opaque, want_size and no_pages are used). */
static int aa_rpc(struct aa_client *aa, const char *fn, const struct aa_kv *kv, size_t nkv, int auth,
                  const struct aa_http_req *dl, cJSON **out, char *errstr, size_t errsz)
{
        struct aa_http_req rq;
        struct buf form;
        int pass, rc;

        *out = NULL;
        for (pass = 0;; pass++) {
                if (auth == AA_AUTH && aa->token && aa_mono_s() - aa->token_at >= aa->token_renew_s) {
                        /* renew before the server's hour is up rather than fail a call */
                        free(aa->token);
                        aa->token = NULL;
                        aa_update_secrets(aa);
                }
                if (auth == AA_AUTH && !aa->token) {
                        rc = aa_login_now(aa, errstr, errsz);
                        if (rc)
                                return rc;
                }
                buf_init(&form, AA_FORM_MAX);
                rc = aa_form(aa, &form, fn, auth == AA_AUTH ? aa->token : "*", kv, nkv, errstr, errsz);
                if (rc) {
                        buf_clear(&form);
                        return rc;
                }
                memset(&rq, 0, sizeof(rq));
                rq.method = AA_HTTP_POST_FORM;
                rq.url = aa->rpc_url;
                rq.body = form.p;
                rq.len = form.len;
                rq.download = dl != NULL;
                rq.sink = dl ? dl->sink : NULL;
                rq.opaque = dl ? dl->opaque : NULL;
                rq.want_size = dl ? dl->want_size : -1;
                rq.no_pages = dl ? dl->no_pages : 0;
                rq.answer_max = dl ? 0 : aa_answer_max(aa, fn, kv, nkv);
                rc = aa_send(aa, fn,
                             dl                 ? AA_MODE_DOWNLOAD
                             : auth == AA_LOGIN ? AA_MODE_LOGIN
                                                : AA_MODE_RPC,
                             &rq, out, errstr, errsz);
                buf_clear(&form);
                if (rc != AA_EXPIRED)
                        return rc;
                if (auth != AA_AUTH)
                        return jb_seterr(JB_EFATAL, errstr, errsz,
                                         "%s: Access Anywhere says the login expired while "
                                         "logging in; check the appliance",
                                         fn);
                if (pass > 0)
                        return jb_seterr(JB_ETRANSIENT, errstr, errsz,
                                         "%s: the session expired again right after a new login; "
                                         "check the appliance's clock and token lifetime",
                                         fn);
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
                kv[0].k = "us_login";
                kv[0].v = aa->login;
                kv[1].k = "us_pwd";
                kv[1].v = aa->password;
        }
        rc = aa_rpc(aa, fn, kv, 2, AA_LOGIN, NULL, &root, errstr, errsz);
        if (!rc)
                rc = aa_jstr(root, "token", 1, &tok, errstr, errsz);
        if (!rc && !*tok)
                rc = jb_seterr(JB_EINPUT, errstr, errsz, "%s: Access Anywhere sent an empty token", fn);
        cJSON_Delete(root);
        if (rc) {
                free(tok);
                return rc;
        }
        free(aa->token);
        aa->token = tok;
        aa->token_at = aa_mono_s();
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
        o->refresh_timeout_ms = AA_REFRESH_TIMEOUT_MS_DEFAULT;
        o->refresh_poll_ms = AA_REFRESH_POLL_MS_DEFAULT;
        o->token_renew_s = AA_TOKEN_RENEW_S;
}

int aa_client_new(const struct aa_opts *opts, struct aa_client **out, char *errstr, size_t errsz)
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
                                 "Access Anywhere endpoint %s must start with https://", o.endpoint);
        if (!(o.authtoken && *o.authtoken) && !(o.login && *o.login && o.password && *o.password))
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
        aa->refresh_timeout_ms =
                o.refresh_timeout_ms > 0 ? o.refresh_timeout_ms : AA_REFRESH_TIMEOUT_MS_DEFAULT;
        aa->refresh_poll_ms = o.refresh_poll_ms > 0 ? o.refresh_poll_ms : AA_REFRESH_POLL_MS_DEFAULT;
        aa->token_renew_s = o.token_renew_s > 0 ? o.token_renew_s : AA_TOKEN_RENEW_S;
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

long aa_retry_after_s(const struct aa_client *aa)
{
        return aa->retry_after_s;
}

int aa_login(struct aa_client *aa, char *errstr, size_t errsz)
{
        aa->ctr.calls++;
        return aa_done(aa, aa_login_now(aa, errstr, errsz), errstr, errsz);
}

/* ---- calls ----------------------------------------------------------------------------- */

int aa_appliance_info(struct aa_client *aa, struct aa_appliance *out, char *errstr, size_t errsz)
{
        cJSON *root;
        int64_t isapp = 0;
        const cJSON *v;
        int rc;

        memset(out, 0, sizeof(*out));
        aa->ctr.calls++;
        rc = aa_rpc(aa, "getApplianceInfo", NULL, 0, AA_NOAUTH, NULL, &root, errstr, errsz);
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

int aa_check_path(struct aa_client *aa, const char *path, const char *pid, struct aa_item *out,
                  char *errstr, size_t errsz)
{
        struct aa_kv kv[] = {{"path", path}, {"pid", pid ? pid : "0"}};
        const cJSON *ex;
        cJSON *root;
        int rc;

        if (out)
                memset(out, 0, sizeof(*out));
        aa->ctr.calls++;
        rc = aa_rpc(aa, "checkPathExists", kv, 2, AA_AUTH, NULL, &root, errstr, errsz);
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
                rc = aa_answer_file(root, out, errstr, errsz);
        }
        cJSON_Delete(root);
        return aa_done(aa, rc, errstr, errsz);
}

int aa_list(struct aa_client *aa, const char *fi_pid, int refresh, aa_item_fn cb, void *opaque,
            char *errstr, size_t errsz)
{
        return aa_list_ex(aa, fi_pid, refresh, NULL, cb, opaque, errstr, errsz);
}

/* getFolderContents of one page; refresh_kv: the refresh fields, or none. */
static int aa_folder_page(struct aa_client *aa, const char *fi_pid, int64_t from, int count,
                          const struct aa_kv *extra, size_t nextra, cJSON **root, char *errstr,
                          size_t errsz)
{
        char from_s[32], count_s[16];
        struct aa_kv kv[8] = {{"fi_pid", fi_pid ? fi_pid : ""},
                              {"count", count_s},
                              {"from", from_s},
                              {"subfolders", "y"},
                              {"options", AA_LIST_OPTIONS}};
        size_t n = 5, i;

        snprintf(from_s, sizeof(from_s), "%lld", (long long)from);
        snprintf(count_s, sizeof(count_s), "%d", count);
        for (i = 0; i < nextra && n < sizeof(kv) / sizeof(kv[0]); i++)
                kv[n++] = extra[i];
        return aa_rpc(aa, "getFolderContents", kv, n, AA_AUTH, NULL, root, errstr, errsz);
}

int aa_list_ex(struct aa_client *aa, const char *fi_pid, int refresh, int64_t *total_out, aa_item_fn cb,
               void *opaque, char *errstr, size_t errsz)
{
        int64_t from = 0, total = 0;
        int rc = JB_OK;

        if (refresh) {
                rc = aa_refresh(aa, fi_pid, errstr, errsz);
                if (rc)
                        return rc; /* aa_done() already ran */
        }
        aa->ctr.calls++;
        do {
                const cJSON *fl, *e = NULL;
                cJSON *root;
                int64_t n = 0;
                int bad = 0;

                rc = aa_folder_page(aa, fi_pid, from, AA_LIST_PAGE, NULL, 0, &root, errstr, errsz);
                if (rc)
                        break;
                rc = aa_jint(root, "total", 1, 0, &total, errstr, errsz);
                if (!rc && total_out)
                        *total_out = total;
                fl = cJSON_GetObjectItemCaseSensitive(root, "filelist");
                if (!rc) {
                        e = aa_jnext(fl, NULL, &bad);
                        if (bad || (!fl && total > from))
                                rc = jb_seterr(JB_EINPUT, errstr, errsz,
                                               "getFolderContents of folder %s: the answer has no "
                                               "usable file list",
                                               fi_pid ? fi_pid : "0");
                }
                for (; !rc && e; e = aa_jnext(fl, e, NULL)) {
                        const cJSON *tr = cJSON_GetObjectItemCaseSensitive(e, "trash");
                        struct aa_item it;
                        int crc;

                        rc = aa_parse_item(e, &it, errstr, errsz);
                        if (rc)
                                break;
                        n++;
                        if (aa_jtrue(tr)) { /* in the trash: gone for jibe, as for rclone */
                                aa_item_clear(&it);
                                continue;
                        }
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

/* ---- cloud refresh (asynchronous) ------------------------------------------------------- */

long aa_refresh_timeout_ms(const struct aa_client *aa)
{
        return aa->refresh_timeout_ms;
}

long aa_refresh_pause_ms(const struct aa_client *aa, int poll)
{
        long ms = aa->refresh_poll_ms;
        int i;

        for (i = 0; i < poll && ms < AA_REFRESH_POLL_MAX_MS; i++)
                ms *= 2;
        return ms < AA_REFRESH_POLL_MAX_MS ? ms : AA_REFRESH_POLL_MAX_MS;
}

int aa_refresh_start(struct aa_client *aa, const char *fi_id, char **token, char *errstr, size_t errsz)
{
        static const struct aa_kv kv[] = {{"refresh", "y"}, {"refreshtype", "a"}};
        const cJSON *rr;
        cJSON *root;
        int rc;

        *token = NULL;
        aa->ctr.calls++;
        /* one item is enough: the answer's point is the refresh token (as the public client) */
        rc = aa_folder_page(aa, fi_id, 0, 1, kv, 2, &root, errstr, errsz);
        if (rc)
                return aa_done(aa, rc, errstr, errsz);
        rr = cJSON_GetObjectItemCaseSensitive(root, "refreshresult");
        if (rr && !cJSON_IsObject(rr) && !cJSON_IsNull(rr) && !cJSON_IsString(rr))
                rc = jb_seterr(JB_EINPUT, errstr, errsz,
                               "getFolderContents (refresh of folder %s): refreshresult is not an "
                               "object",
                               fi_id ? fi_id : "0");
        else if (cJSON_IsObject(rr))
                rc = aa_jstr(rr, "token", 0, token, errstr, errsz);
        if (!rc && *token && !**token) {
                free(*token); /* no token: nothing was started (refreshed recently) */
                *token = NULL;
        }
        if (!rc && *token)
                aa->ctr.refreshes++;
        cJSON_Delete(root);
        return aa_done(aa, rc, errstr, errsz);
}

int aa_refresh_poll(struct aa_client *aa, const char *fi_id, const char *token, int *running,
                    char *errstr, size_t errsz)
{
        struct aa_kv kv[] = {{"refreshtoken", token}};
        cJSON *root;
        int rc;

        *running = 0;
        aa->ctr.calls++;
        aa->ctr.refresh_polls++;
        rc = aa_folder_page(aa, fi_id, 0, 1, kv, 1, &root, errstr, errsz);
        if (!rc)
                *running = aa_jtrue(cJSON_GetObjectItemCaseSensitive(root, "stillsyncing"));
        cJSON_Delete(root);
        return aa_done(aa, rc, errstr, errsz);
}

int aa_refresh(struct aa_client *aa, const char *fi_id, char *errstr, size_t errsz)
{
        int64_t t0;
        char *token = NULL;
        int rc, running = 1, poll;

        rc = aa_refresh_start(aa, fi_id, &token, errstr, errsz);
        if (rc || !token)
                return rc;
        t0 = jb_mono_ms();
        for (poll = 0; !rc && running; poll++) {
                long ms = aa_refresh_pause_ms(aa, poll), waited;

                waited = (long)(jb_mono_ms() - t0);
                if (waited >= aa->refresh_timeout_ms) {
                        rc = jb_seterr(JB_ETRANSIENT, errstr, errsz,
                                       "the cloud refresh of folder %s did not finish within %ld s "
                                       "(%d polls); Access Anywhere may be overloaded",
                                       fi_id ? fi_id : "0", aa->refresh_timeout_ms / 1000, poll);
                        break;
                }
                if (ms > aa->refresh_timeout_ms - waited)
                        ms = aa->refresh_timeout_ms - waited;
                if (backoff_sleep(ms, sig_abort_requested)) {
                        rc = jb_seterr(JB_ETRANSIENT, errstr, errsz,
                                       "the wait for the cloud refresh of folder %s was cut short: jibe "
                                       "is stopping",
                                       fi_id ? fi_id : "0");
                        break;
                }
                rc = aa_refresh_poll(aa, fi_id, token, &running, errstr, errsz);
        }
        free(token);
        return rc;
}

int aa_mkdir(struct aa_client *aa, const char *fi_pid, const char *name, struct aa_item *out,
             char *errstr, size_t errsz)
{
        struct aa_kv kv[] = {{"fi_pid", fi_pid ? fi_pid : ""}, {"fi_name", name}};
        cJSON *root;
        int rc;

        if (out)
                memset(out, 0, sizeof(*out));
        aa->ctr.calls++;
        rc = aa_rpc(aa, "doCreateNewFolder", kv, 2, AA_AUTH, NULL, &root, errstr, errsz);
        if (!rc)
                rc = aa_answer_file(root, out, errstr, errsz);
        cJSON_Delete(root);
        return aa_done(aa, rc, errstr, errsz);
}

/* One authenticated call fn(fi_id) whose JSON answer carries nothing jibe keeps (sink: the
 * body of getFile). */
static int aa_call_fi_id(struct aa_client *aa, const char *fn, const char *fi_id,
                         const struct aa_http_req *dl, char *errstr, size_t errsz)
{
        struct aa_kv kv[] = {{"fi_id", fi_id}};
        cJSON *root;
        int rc;

        aa->ctr.calls++;
        rc = aa_rpc(aa, fn, kv, 1, AA_AUTH, dl, &root, errstr, errsz);
        cJSON_Delete(root);
        return aa_done(aa, rc, errstr, errsz);
}

int aa_delete(struct aa_client *aa, const char *fi_id, char *errstr, size_t errsz)
{
        return aa_call_fi_id(aa, "doDeleteFile", fi_id, NULL, errstr, errsz);
}

int aa_rmdir(struct aa_client *aa, const char *fi_id, char *errstr, size_t errsz)
{
        return aa_call_fi_id(aa, "doDeleteFolder", fi_id, NULL, errstr, errsz);
}

int aa_download(struct aa_client *aa, const char *fi_id, aa_write_fn cb, void *opaque, char *errstr,
                size_t errsz)
{
        return aa_download_ex(aa, fi_id, NULL, cb, opaque, errstr, errsz);
}

int aa_download_ex(struct aa_client *aa, const char *fi_id, const struct aa_dl_want *want,
                   aa_write_fn cb, void *opaque, char *errstr, size_t errsz)
{
        struct aa_http_req dl;

        memset(&dl, 0, sizeof(dl));
        dl.sink = cb;
        dl.opaque = opaque;
        dl.want_size = want && want->size >= 0 ? want->size : -1;
        dl.no_pages = want ? want->no_pages : 0;
        return aa_call_fi_id(aa, "getFile", fi_id, &dl, errstr, errsz);
}

int aa_upload(struct aa_client *aa, const char *fi_pid, const char *name, const void *data, size_t len,
              struct aa_item *out, char *errstr, size_t errsz)
{
        char size_s[32], now_s[24];
        struct aa_kv init_kv[] = {{"fi_name", name},
                                  {"fi_filename", name},
                                  {"fi_pid", fi_pid ? fi_pid : ""},
                                  {"fi_size", size_s},
                                  {"fi_localtime", now_s},
                                  {"fi_modified", now_s},
                                  {"fi_contenttype", "application/octet-stream"},
                                  {"responsetype", "json"},
                                  {"directuploadsupport", "n"}};
        struct aa_kv done_kv[] = {{"uploadcode", NULL}, {"fi_size", size_s}, {"remotetime", now_s}};
        struct aa_http_req rq;
        struct buf url;
        cJSON *root = NULL, *put = NULL;
        char *code = NULL, *b64 = NULL, *eb64 = NULL, *ecode = NULL;
        int64_t got = -1;
        int rc;

        if (out)
                memset(out, 0, sizeof(*out));
        buf_init(&url, AA_FORM_MAX);
        snprintf(size_s, sizeof(size_s), "%zu", len);
        {
                time_t t = time(NULL);
                struct tm tm;

                gmtime_r(&t, &tm);
                strftime(now_s, sizeof(now_s), "%Y-%m-%d %H:%M:%S", &tm);
        }
        aa->ctr.calls++;
        rc = aa_rpc(aa, "doInitUpload", init_kv, sizeof(init_kv) / sizeof(init_kv[0]), AA_AUTH, NULL,
                    &root, errstr, errsz);
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
        if (!eb64 || !ecode ||
            buf_printf(&url, "%s/cgi-bin/uploader/uploader1.cgi/%s?%s", aa->endpoint, eb64, ecode)) {
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
        rc = aa_rpc(aa, "doCompleteUpload", done_kv, 3, AA_AUTH, NULL, &root, errstr, errsz);
        if (!rc)
                rc = aa_answer_file(root, out, errstr, errsz);
        cJSON_Delete(root);
abort:
        if (rc && rc != JB_EFATAL) {
                /* best effort: tell the server to forget the half-done upload */
                struct aa_kv ab_kv[] = {{"uploadcode", code}};
                char ignore[64];

                if (aa_rpc(aa, "doAbortUpload", ab_kv, 1, AA_AUTH, NULL, &root, ignore,
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

/* ---- providers and buckets, from the listings ------------------------------------------ */

struct aa_plist {
        struct aa_provider *p;
        size_t n, cap;
        int rc;
};

static int aa_prov_cb(void *opaque, const struct aa_item *it)
{
        struct aa_plist *pl = opaque;
        struct aa_provider *p;

        if (it->type != AA_FOLDER)
                return 0;
        if (pl->n == pl->cap) {
                size_t nc = pl->cap ? 2 * pl->cap : 8;
                struct aa_provider *np = realloc(pl->p, nc * sizeof(*np));

                if (!np)
                        return JB_ENOMEM;
                pl->p = np;
                pl->cap = nc;
        }
        p = &pl->p[pl->n];
        memset(p, 0, sizeof(*p));
        p->id = strdup(it->provider && *it->provider ? it->provider : it->name);
        p->name = strdup(it->name);
        p->fi_id = strdup(it->fi_id);
        pl->n++;
        return p->id && p->name && p->fi_id ? 0 : JB_ENOMEM;
}

struct aa_blist {
        struct aa_provider *p;
        size_t cap;
};

static int aa_bucket_cb(void *opaque, const struct aa_item *it)
{
        struct aa_blist *bl = opaque;
        struct aa_provider *p = bl->p;
        struct aa_bucket *b;

        if (it->type != AA_FOLDER || it->is_bucket == 0)
                return 0; /* isbucket "n": some other folder of the provider */
        if (p->nbuckets == bl->cap) {
                size_t nc = bl->cap ? 2 * bl->cap : 8;
                struct aa_bucket *nb = realloc(p->buckets, nc * sizeof(*nb));

                if (!nb)
                        return JB_ENOMEM;
                p->buckets = nb;
                bl->cap = nc;
        }
        b = &p->buckets[p->nbuckets++];
        b->name = strdup(it->name);
        b->fi_id = strdup(it->fi_id);
        return b->name && b->fi_id ? 0 : JB_ENOMEM;
}

int aa_providers(struct aa_client *aa, struct aa_provider **out, size_t *n, char *errstr, size_t errsz)
{
        struct aa_plist pl = {NULL, 0, 0, 0};
        size_t i;
        int rc;

        *out = NULL;
        *n = 0;
        rc = aa_list(aa, "0", 0, aa_prov_cb, &pl, errstr, errsz);
        if (rc == JB_ENOMEM)
                jb_seterr(rc, errstr, errsz, "out of memory listing the providers");
        for (i = 0; !rc && i < pl.n; i++) {
                struct aa_blist bl = {&pl.p[i], 0};

                rc = aa_list(aa, pl.p[i].fi_id, 0, aa_bucket_cb, &bl, errstr, errsz);
                if (rc == JB_ENOMEM)
                        jb_seterr(rc, errstr, errsz, "out of memory listing the buckets");
        }
        if (rc) {
                aa_providers_free(pl.p, pl.n);
                return rc;
        }
        *out = pl.p;
        *n = pl.n;
        return JB_OK;
}

/* ---- background tasks ------------------------------------------------------------------- */

static enum aa_task_status aa_task_status_of(const char *st)
{
        if (!strcmp(st, "c") || !strcasecmp(st, "completed") || !strcasecmp(st, "complete"))
                return AA_TASK_DONE;
        if (!strcasecmp(st, "error") || !strcasecmp(st, "canceled") || !strcasecmp(st, "cancelled"))
                return AA_TASK_FAILED;
        if (!strcmp(st, "a"))
                return AA_TASK_QUEUED;
        if (!strcmp(st, "w") || !strcmp(st, "r"))
                return AA_TASK_RUNNING;
        if (!strcmp(st, "p"))
                return AA_TASK_PAUSED;
        return AA_TASK_UNKNOWN;
}

static int aa_parse_task(const cJSON *o, struct aa_task *t, char *errstr, size_t errsz)
{
        const cJSON *data = cJSON_GetObjectItemCaseSensitive(o, "bt_data");
        char *st = NULL, *files = NULL;
        int rc;

        memset(t, 0, sizeof(*t));
        t->files = -1;
        if (!cJSON_IsObject(o))
                return jb_seterr(JB_EINPUT, errstr, errsz,
                                 "getUserBackgroundTasks: a task is not an object");
        if (!cJSON_IsObject(data))
                data = NULL;
        rc = aa_jstr(o, "bt_id", 1, &t->id, errstr, errsz);
        if (!rc)
                rc = aa_jstr(o, "bt_type", 0, &t->type, errstr, errsz);
        if (!rc)
                rc = aa_jstr(o, "bt_title", 0, &t->title, errstr, errsz);
        if (!rc)
                rc = aa_jstr(o, "callback", 0, &t->callback, errstr, errsz);
        if (!rc && !*t->callback && data) {
                free(t->callback);
                rc = aa_jstr(data, "callback", 0, &t->callback, errstr, errsz);
        }
        /* not public: which provider a sync task is for; jibe looks for a pi_id */
        if (!rc)
                rc = aa_jstr(data ? data : o, "pi_id", 0, &t->provider, errstr, errsz);
        if (!rc && !*t->provider && data) {
                free(t->provider);
                rc = aa_jstr(o, "pi_id", 0, &t->provider, errstr, errsz);
        }
        if (!rc)
                rc = aa_jtime(o, "bt_added", &t->added, errstr, errsz);
        if (!rc)
                rc = aa_jtime(o, "bt_completed", &t->completed, errstr, errsz);
        if (!rc)
                rc = aa_jstr(o, "bt_status", 0, &st, errstr, errsz);
        if (!rc)
                t->status = aa_task_status_of(st);
        if (!rc && aa_jstr(o, "bt_statusdata", 0, &files, NULL, 0) == JB_OK) {
                char *end;
                long long v;

                errno = 0;
                v = strtoll(files, &end, 10);
                if (*files && !*end && !errno && v >= 0)
                        t->files = v;
        }
        free(st);
        free(files);
        if (rc)
                aa_task_clear(t);
        return rc;
}

/* The task list of an answer: top level (rclone's shape) or inside "response" (the Python
 * client's). */
static const cJSON *aa_task_list(const cJSON *root)
{
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(root, "response");
        const cJSON *tl = cJSON_GetObjectItemCaseSensitive(root, "tasks");

        if (!tl && cJSON_IsObject(r))
                tl = cJSON_GetObjectItemCaseSensitive(r, "tasks");
        return tl;
}

/* Call cb for every task of one getUserBackgroundTasks answer. */
static int aa_task_each(const cJSON *root, aa_task_fn cb, void *opaque, char *errstr, size_t errsz)
{
        const cJSON *tl = aa_task_list(root), *e;
        int bad = 0, rc = JB_OK;

        e = aa_jnext(tl, NULL, &bad);
        if (bad)
                return jb_seterr(JB_EINPUT, errstr, errsz,
                                 "getUserBackgroundTasks: the task list is not a list");
        for (; !rc && e; e = aa_jnext(tl, e, NULL)) {
                struct aa_task t;

                rc = aa_parse_task(e, &t, errstr, errsz);
                if (!rc)
                        rc = cb(opaque, &t);
                aa_task_clear(&t);
        }
        return rc;
}

struct aa_find_task {
        const char *id;
        struct aa_task *out;
        int found;
};

static int aa_find_task_cb(void *opaque, const struct aa_task *t)
{
        struct aa_find_task *f = opaque;
        struct aa_task *o = f->out;

        if (strcmp(t->id, f->id) != 0)
                return 0;
        o->id = strdup(t->id);
        o->type = strdup(t->type);
        o->title = strdup(t->title);
        o->callback = strdup(t->callback);
        o->provider = strdup(t->provider);
        o->status = t->status;
        o->added = t->added;
        o->completed = t->completed;
        o->files = t->files;
        f->found = 1;
        return o->id && o->type && o->title && o->callback && o->provider ? 1 : JB_ENOMEM;
}

int aa_task_get(struct aa_client *aa, const char *taskid, struct aa_task *out, char *errstr,
                size_t errsz)
{
        struct aa_kv kv[] = {{"taskid", taskid}};
        struct aa_find_task f = {taskid, out, 0};
        cJSON *root;
        int rc;

        memset(out, 0, sizeof(*out));
        aa->ctr.calls++;
        rc = aa_rpc(aa, "getUserBackgroundTasks", kv, 1, AA_AUTH, NULL, &root, errstr, errsz);
        if (rc)
                return aa_done(aa, rc, errstr, errsz);
        rc = aa_task_each(root, aa_find_task_cb, &f, errstr, errsz);
        if (rc == 1)
                rc = JB_OK;
        else if (rc == JB_ENOMEM)
                jb_seterr(rc, errstr, errsz, "out of memory reading a task");
        if (!rc && !f.found)
                rc = jb_seterr(JB_ENOTFOUND, errstr, errsz,
                               "background task %s is not known to Access Anywhere", taskid);
        if (rc)
                aa_task_clear(out);
        cJSON_Delete(root);
        return aa_done(aa, rc, errstr, errsz);
}

int aa_tasks(struct aa_client *aa, const char *typefilter, const char *statusfilter, int limit,
             aa_task_fn cb, void *opaque, char *errstr, size_t errsz)
{
        char limit_s[16];
        struct aa_kv kv[] = {{"typefilter", typefilter},
                             {"statusfilter", statusfilter},
                             {"limit", limit_s}};
        cJSON *root;
        int rc;

        snprintf(limit_s, sizeof(limit_s), "%d", limit > 0 ? limit : 1000);
        aa->ctr.calls++;
        rc = aa_rpc(aa, "getUserBackgroundTasks", kv, 3, AA_AUTH, NULL, &root, errstr, errsz);
        if (rc)
                return aa_done(aa, rc, errstr, errsz);
        rc = aa_task_each(root, cb, opaque, errstr, errsz);
        if (rc > 0)
                rc = JB_OK;
        cJSON_Delete(root);
        return aa_done(aa, rc, errstr, errsz);
}

struct aa_sync_find {
        const struct aa_provider *p;
        struct aa_lastsync *ls;
        int rc;
};

/* Not public: which provider a task is for. bt_data.pi_id when sent, else the provider's
 * name as a word of the title ("Resync of provider S3 Prod"). */
static int aa_task_is_for(const struct aa_task *t, const struct aa_provider *p)
{
        const char *hit;
        size_t nl = strlen(p->name);

        if (*t->provider)
                return !strcmp(t->provider, p->id);
        for (hit = strstr(t->title, p->name); hit; hit = strstr(hit + 1, p->name))
                if ((hit == t->title || hit[-1] == ' ' || hit[-1] == '"' || hit[-1] == '\'') &&
                    (hit[nl] == '\0' || hit[nl] == ' ' || hit[nl] == '"' || hit[nl] == '\'' ||
                     hit[nl] == ')' || hit[nl] == '.' || hit[nl] == ','))
                        return 1;
        return 0;
}

static int aa_sync_task_cb(void *opaque, const struct aa_task *t)
{
        struct aa_sync_find *f = opaque;
        char *id;

        if (t->status != AA_TASK_DONE ||
            (strcasecmp(t->callback, "ReSync") && strcasecmp(t->callback, "InitialSync")) ||
            !aa_task_is_for(t, f->p))
                return 0;
        if (f->ls->taskid && t->added <= f->ls->started)
                return 0; /* an older sync */
        id = strdup(t->id);
        if (!id)
                return JB_ENOMEM;
        free(f->ls->taskid);
        f->ls->taskid = id;
        f->ls->started = t->added;
        f->ls->completed = t->completed;
        f->ls->files_indexed = t->files;
        return 0;
}

int aa_last_sync(struct aa_client *aa, const struct aa_provider *p, struct aa_lastsync *out,
                 char *errstr, size_t errsz)
{
        struct aa_sync_find f = {p, out, 0};
        int rc;

        memset(out, 0, sizeof(*out));
        out->files_indexed = -1;
        rc = aa_tasks(aa, "sync", NULL, 1000, aa_sync_task_cb, &f, errstr, errsz);
        if (rc == JB_ENOMEM)
                jb_seterr(rc, errstr, errsz, "out of memory reading the sync tasks");
        if (!rc && !out->taskid)
                rc = jb_seterr(JB_ENOTFOUND, errstr, errsz,
                               "Access Anywhere lists no completed full sync of provider %s", p->name);
        if (rc)
                aa_lastsync_clear(out);
        return rc;
}

int aa_sync(struct aa_client *aa, const char *pi_id, const char *bucket, const char *key,
            const char *event, struct aa_sync_out *out, char *errstr, size_t errsz)
{
        struct aa_kv kv[] = {{AA_SYNC_F_PROVIDER, pi_id},
                             {AA_SYNC_F_BUCKET, bucket},
                             {AA_SYNC_F_KEY, key},
                             {AA_SYNC_F_EVENT, event ? event : (key ? "put" : "bucket")}};
        struct aa_sync_out so = {AA_SYNC_UNCHANGED, -1};
        const cJSON *r;
        cJSON *root;
        int rc;

        aa->ctr.calls++;
        rc = aa_rpc(aa, AA_FN_SYNC, kv, 4, AA_AUTH, NULL, &root, errstr, errsz);
        if (rc)
                return aa_done(aa, rc, errstr, errsz);
        r = cJSON_GetObjectItemCaseSensitive(root, "result");
        if (!cJSON_IsString(r) || !r->valuestring)
                rc = jb_seterr(JB_EINPUT, errstr, errsz, AA_FN_SYNC ": the answer has no result");
        else if (!strcmp(r->valuestring, "updated"))
                so.result = AA_SYNC_UPDATED;
        else if (!strcmp(r->valuestring, "removed"))
                so.result = AA_SYNC_REMOVED;
        else if (!strcmp(r->valuestring, "unchanged"))
                so.result = AA_SYNC_UNCHANGED;
        else if (!strcmp(r->valuestring, "bucket"))
                so.result = AA_SYNC_BUCKET;
        else
                rc = jb_seterr(JB_EINPUT, errstr, errsz, AA_FN_SYNC ": unknown result \"%.40s\"",
                               r->valuestring);
        if (!rc)
                rc = aa_jint(root, "synced", 0, -1, &so.synced, errstr, errsz);
        if (!rc && out)
                *out = so;
        cJSON_Delete(root);
        return aa_done(aa, rc, errstr, errsz);
}

/* ---- answer probe: aa_rpc()'s reading of an answer, without a server (fuzzing) -------- */

static int aa_probe_sink(void *opaque, const void *p, size_t n)
{
        (void)opaque;
        (void)p;
        (void)n;
        return 0;
}

static int aa_probe_task_cb(void *opaque, const struct aa_task *t)
{
        static const struct aa_provider p = {.id = "p1", .name = "S3 Prod", .fi_id = "9"};
        struct aa_lastsync *ls = opaque;
        struct aa_sync_find f = {&p, ls, 0};

        (void)aa_task_is_for(t, &p);
        return aa_sync_task_cb(&f, t) == JB_ENOMEM ? JB_ENOMEM : 0;
}

int aa_answer_probe(const void *body, size_t n, long http, int mode)
{
        struct aa_http_req rq;
        struct aa_http_resp rs;
        struct aa_lastsync ls;
        struct aa_item it, copy;
        const cJSON *fl, *e;
        cJSON *root = NULL;
        char err[AA_MSG], *s;
        int64_t v;
        time_t t;
        int rc, bad = 0;

        memset(&rq, 0, sizeof(rq));
        rq.sink = aa_probe_sink;
        rq.want_size = (int64_t)n; /* a download: the body is listed with its own size */
        rq.no_pages = 1;
        aa_http_resp_init(&rs, AA_FORM_MAX * 64);
        rs.status = http;
        if (buf_append(&rs.body, body, n)) {
                aa_http_resp_clear(&rs);
                return JB_ENOMEM;
        }
        mode = mode < 0 ? -mode % 4 : mode % 4;
        rc = aa_classify("probe", (enum aa_mode)mode, JB_OK, &rq, &rs, &root, err, sizeof(err));
        aa_http_resp_clear(&rs);
        if (rc || !root)
                return rc;
        /* what the calls read from an answer: a folder page, tasks, a sync result, a token */
        if (aa_jint(root, "total", 1, 0, &v, err, sizeof(err)) == JB_OK) {
                fl = cJSON_GetObjectItemCaseSensitive(root, "filelist");
                for (e = aa_jnext(fl, NULL, &bad); e; e = aa_jnext(fl, e, NULL)) {
                        (void)aa_jtrue(cJSON_GetObjectItemCaseSensitive(e, "trash"));
                        if (aa_parse_item(e, &it, err, sizeof(err)))
                                break;
                        if (aa_item_copy(&copy, &it) == JB_OK)
                                aa_item_clear(&copy);
                        aa_item_clear(&it);
                }
        }
        memset(&ls, 0, sizeof(ls));
        (void)aa_task_each(root, aa_probe_task_cb, &ls, err, sizeof(err));
        aa_lastsync_clear(&ls);
        if (aa_jstr(root, "result", 0, &s, err, sizeof(err)) == JB_OK)
                free(s);
        (void)aa_jint(root, "synced", 0, -1, &v, err, sizeof(err));
        if (aa_jstr(root, "token", 0, &s, err, sizeof(err)) == JB_OK)
                free(s);
        (void)aa_jtime(root, "fi_modified", &t, err, sizeof(err));
        cJSON_Delete(root);
        return rc;
}
