/*
 * aa_http.c - libcurl plumbing of the Access Anywhere client (see aa_http.h): one easy handle
 * per client, reset and configured before each request so the connection is reused, answers
 * read into a bounded buf, file bodies streamed to the caller's sink, curl results mapped to
 * jibe error classes in one place, and a debug bridge that masks secrets.
 *
 * Ownership: struct aa_http owns its CURL handle and copies of ca_file and user_agent; the
 * secret pointers given to aa_http_set_secrets() are borrowed (the client owns them and calls
 * it again whenever they change). Each request's header list is freed before returning.
 * This is the only library file that includes curl/curl.h.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "aa_http.h"
#include "curl_tls.h"
#include "sig.h"

#define AA_HTTP_MAX_SECRETS 4
#define AA_HTTP_JSON_HOLD (64u * 1024) /* a JSON-typed 2xx download is held this far */
#define AA_HTTP_DEBUG_MAX 1024         /* bytes of a body shown in one debug line */

struct aa_http {
        CURL *curl;
        char errbuf[CURL_ERROR_SIZE];
        int allow_http;
        int insecure;
        long connect_timeout_ms;
        long timeout_ms;
        long low_speed_limit;
        long low_speed_time;
        char *ca_file;
        char *user_agent;
        aa_debug_fn debug;
        void *debug_opaque;
        const char *secrets[AA_HTTP_MAX_SECRETS];
        size_t nsecrets;
};

/* State of one transfer, shared by the callbacks. */
struct aa_http_xfer {
        struct aa_http *h;
        const struct aa_http_req *rq;
        struct aa_http_resp *rs;
        int decided; /* download: the answer's kind is known */
        int held;    /* download: a 2xx JSON-typed answer kept in rs->body for now */
        int nomem;
        const char *put_p;
        size_t put_left;
};

int aa_http_global_init(void)
{
        return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? JB_OK : JB_ENOMEM;
}

void aa_http_global_cleanup(void)
{
        curl_global_cleanup();
}

void aa_http_resp_init(struct aa_http_resp *rs, size_t max)
{
        memset(rs, 0, sizeof(*rs));
        rs->content_length = -1;
        buf_init(&rs->body, max);
}

void aa_http_resp_clear(struct aa_http_resp *rs)
{
        buf_clear(&rs->body);
}

static char *aa_http_strdup(const char *s)
{
        return s ? strdup(s) : NULL;
}

int aa_http_new(const struct aa_opts *opts, int url_is_http, struct aa_http **out, char *errstr,
                size_t errsz)
{
        struct aa_http *h;

        *out = NULL;
        h = calloc(1, sizeof(*h));
        if (!h)
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory creating the HTTP client");
        h->curl = curl_easy_init();
        if (!h->curl) {
                free(h);
                return jb_seterr(JB_ENOMEM, errstr, errsz, "libcurl could not create a handle");
        }
        h->allow_http = url_is_http;
        h->insecure = opts->insecure ? 1 : 0;
        h->connect_timeout_ms = opts->connect_timeout_ms;
        h->timeout_ms = opts->timeout_ms;
        h->low_speed_limit = opts->low_speed_limit;
        h->low_speed_time = opts->low_speed_time;
        h->ca_file = aa_http_strdup(opts->ca_file && *opts->ca_file ? opts->ca_file : NULL);
        h->user_agent = aa_http_strdup(opts->user_agent);
        h->debug = opts->debug;
        h->debug_opaque = opts->debug_opaque;
        if ((opts->ca_file && *opts->ca_file && !h->ca_file) || (opts->user_agent && !h->user_agent)) {
                aa_http_free(h);
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory creating the HTTP client");
        }
        *out = h;
        return JB_OK;
}

void aa_http_free(struct aa_http *h)
{
        if (!h)
                return;
        if (h->curl)
                curl_easy_cleanup(h->curl);
        free(h->ca_file);
        free(h->user_agent);
        free(h);
}

void aa_http_set_secrets(struct aa_http *h, const char *const *secrets, size_t n)
{
        size_t i;

        h->nsecrets = 0;
        for (i = 0; i < n && h->nsecrets < AA_HTTP_MAX_SECRETS; i++)
                if (secrets[i] && strlen(secrets[i]) >= 3)
                        h->secrets[h->nsecrets++] = secrets[i];
}

char *aa_http_escape(struct aa_http *h, const char *s, size_t n)
{
        char *e, *r;

        if (n == 0)
                return strdup("");
        e = curl_easy_escape(h->curl, s, (int)n);
        if (!e)
                return NULL;
        r = strdup(e); /* callers free() it, curl wants curl_free() */
        curl_free(e);
        return r;
}

/* ---- debug bridge ------------------------------------------------------------------ */

/* Replace each secret in s (NUL-terminated, in place) by "***". */
void aa_http_mask(const struct aa_http *h, char *s)
{
        size_t i;

        for (i = 0; i < h->nsecrets; i++) {
                size_t sl = strlen(h->secrets[i]);
                char *hit;

                while ((hit = strstr(s, h->secrets[i])) != NULL) {
                        memcpy(hit, "***", 3);
                        memmove(hit + 3, hit + sl, strlen(hit + sl) + 1);
                }
        }
}

/* Form body: blank the values of token, us_pwd (getToken's password), password, authtoken
 * and refreshtoken. */
static void aa_http_mask_form(char *s)
{
        static const char *const keys[] = {"token=", "us_pwd=", "password=", "authtoken="};
        char *p = s;

        while (*p) {
                size_t i;
                char *amp = strchr(p, '&');
                char *end = amp ? amp : p + strlen(p);

                for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
                        size_t kl = strlen(keys[i]);

                        if ((size_t)(end - p) >= kl && strncmp(p, keys[i], kl) == 0) {
                                char *v = p + kl;

                                if (end - v > 3) {
                                        memcpy(v, "***", 3);
                                        memmove(v + 3, end, strlen(end) + 1);
                                        end = v + 3;
                                }
                                break;
                        }
                }
                if (!*end)
                        break;
                p = end + 1;
        }
}

/* JSON text: blank the string value that follows every "token" key. */
static void aa_http_mask_json_token(char *s)
{
        char *p = s;

        while ((p = strstr(p, "\"token\"")) != NULL) {
                char *q = p + 7, *v, *e;

                while (*q == ' ' || *q == ':')
                        q++;
                if (*q != '"') {
                        p = q;
                        continue;
                }
                v = q + 1;
                e = v;
                while (*e && *e != '"')
                        e += (*e == '\\' && e[1]) ? 2 : 1;
                if (e - v > 3) {
                        memcpy(v, "***", 3);
                        memmove(v + 3, e, strlen(e) + 1);
                }
                p = v;
        }
}

static void aa_http_debug_line(struct aa_http *h, const char *prefix, const char *p, size_t n, int kind)
{
        char line[AA_HTTP_DEBUG_MAX + 64];
        size_t i, k = strlen(prefix);

        memcpy(line, prefix, k);
        if (n > AA_HTTP_DEBUG_MAX)
                n = AA_HTTP_DEBUG_MAX;
        for (i = 0; i < n; i++) {
                unsigned char c = (unsigned char)p[i];

                line[k++] = (c < 0x20 || c == 0x7f) ? '.' : (char)c;
        }
        while (k > strlen(prefix) && line[k - 1] == '.')
                k--; /* trailing CR LF */
        line[k] = '\0';
        if (kind == 1)
                aa_http_mask_form(line);
        else if (kind == 2)
                aa_http_mask_json_token(line);
        aa_http_mask(h, line);
        h->debug(h->debug_opaque, line);
}

static int aa_http_on_debug(CURL *c, curl_infotype type, char *p, size_t n, void *ud)
{
        struct aa_http_xfer *x = ud;
        struct aa_http *h = x->h;
        char note[96];

        (void)c;
        switch (type) {
        case CURLINFO_TEXT:
                aa_http_debug_line(h, "* ", p, n, 0);
                break;
        case CURLINFO_HEADER_OUT:
                aa_http_debug_line(h, "> ", p, n, 0);
                break;
        case CURLINFO_HEADER_IN:
                aa_http_debug_line(h, "< ", p, n, 0);
                break;
        case CURLINFO_DATA_OUT:
                if (x->rq->method == AA_HTTP_PUT) {
                        snprintf(note, sizeof(note), "> [%zu bytes of file data]", n);
                        h->debug(h->debug_opaque, note);
                } else {
                        aa_http_debug_line(h, "> ", p, n, 1);
                }
                break;
        case CURLINFO_DATA_IN:
                if (x->rq->download && !(x->decided && (x->held || x->rs->status / 100 != 2))) {
                        snprintf(note, sizeof(note), "< [%zu bytes of file data]", n);
                        h->debug(h->debug_opaque, note);
                } else {
                        aa_http_debug_line(h, "< ", p, n, 2);
                }
                break;
        default:
                break;
        }
        return 0;
}

/* ---- transfer callbacks ------------------------------------------------------------ */

static size_t aa_http_to_buf(struct aa_http_xfer *x, const char *p, size_t n)
{
        int rc = buf_append(&x->rs->body, p, n);

        if (rc == JB_ELIMIT)
                x->rs->toobig = 1;
        else if (rc)
                x->nomem = 1;
        return rc ? 0 : n;
}

static size_t aa_http_to_sink(struct aa_http_xfer *x, const char *p, size_t n)
{
        int rc;

        if (n == 0)
                return 0;
        if (x->rq->want_size >= 0 && x->rs->delivered + n > (uint64_t)x->rq->want_size) {
                x->rs->oversize = 1; /* more bytes than the file has: not the file */
                return 0;
        }
        rc = x->rq->sink(x->rq->opaque, p, n);
        if (rc) {
                x->rs->sink_rc = rc;
                return 0;
        }
        x->rs->delivered += n;
        return n;
}

static int aa_http_is_html_type(const char *ct)
{
        return ct &&
               (strncasecmp(ct, "text/html", 9) == 0 || strncasecmp(ct, "application/xhtml", 17) == 0);
}

static int aa_http_is_json_type(const char *ct)
{
        return ct &&
               (strncasecmp(ct, "application/json", 16) == 0 || strncasecmp(ct, "text/json", 9) == 0 ||
                strncasecmp(ct, "text/javascript", 15) == 0);
}

static size_t aa_http_on_write(char *p, size_t sz, size_t nm, void *ud)
{
        struct aa_http_xfer *x = ud;
        size_t n = sz * nm;

        if (!x->rq->download)
                return aa_http_to_buf(x, p, n);
        if (!x->decided) {
                long code = 0;
                char *ct = NULL;

                curl_off_t cl = -1;

                curl_easy_getinfo(x->h->curl, CURLINFO_RESPONSE_CODE, &code);
                curl_easy_getinfo(x->h->curl, CURLINFO_CONTENT_TYPE, &ct);
                if (curl_easy_getinfo(x->h->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) != CURLE_OK)
                        cl = -1;
                x->rs->status = code;
                x->decided = 1;
                if (code / 100 == 2 && !x->rs->dl_error[0] && !x->rs->prov_error[0] &&
                    !(x->rq->no_pages && aa_http_is_html_type(ct)) && x->rq->want_size >= 0 && cl >= 0 &&
                    (int64_t)cl != x->rq->want_size) {
                        /* announced as another size than the file's: not the file */
                        x->rs->content_length = (int64_t)cl;
                        x->rs->size_refused = 1;
                        return 0;
                }
                if (code / 100 == 2 && !x->rs->dl_error[0] && !x->rs->prov_error[0] &&
                    !(x->rq->no_pages && aa_http_is_html_type(ct))) {
                        if (aa_http_is_json_type(ct))
                                x->held = 1;
                        else
                                x->rs->streamed = 1;
                } else {
                        x->rs->page = code / 100 == 2 && !x->rs->dl_error[0] && !x->rs->prov_error[0];
                        /* an error answer (a failure status or failure headers): small,
                         * kept for the caller to read, never handed over as the file */
                        x->rs->body.max = x->rs->body.max < AA_MAX_ERROR_BYTES ? x->rs->body.max
                                                                               : AA_MAX_ERROR_BYTES;
                }
        }
        if (x->rs->streamed)
                return aa_http_to_sink(x, p, n);
        if (x->held && x->rs->body.len + n > AA_HTTP_JSON_HOLD) {
                /* too long for an error answer: it is the file after all */
                x->held = 0;
                x->rs->streamed = 1;
                if (x->rs->body.len &&
                    aa_http_to_sink(x, x->rs->body.p, x->rs->body.len) != x->rs->body.len)
                        return 0;
                buf_reset(&x->rs->body);
                return aa_http_to_sink(x, p, n);
        }
        return aa_http_to_buf(x, p, n);
}

/* Keep value (n bytes, CR LF trimmed) in out unless a stronger name already filled it. */
static void aa_http_keep(char *out, size_t outsz, const char *v, size_t n, int legacy)
{
        if (legacy && out[0])
                return; /* the X-NAA-* name wins over its legacy X-SME-* alias */
        while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
                n--;
        while (n && (*v == ' ' || *v == '\t')) {
                v++;
                n--;
        }
        if (n >= outsz)
                n = outsz - 1;
        memcpy(out, v, n);
        out[n] = '\0';
}

static size_t aa_http_on_header(char *p, size_t sz, size_t nm, void *ud)
{
        static const struct {
                const char *name;
                size_t off, size;
                int legacy;
        } hs[] = {
#define AA_HDR(n, f, l) {n, offsetof(struct aa_http_resp, f), sizeof(((struct aa_http_resp *)0)->f), l}
                AA_HDR("x-naa-download-error", dl_error, 0),
                AA_HDR("x-naa-download-error-status", dl_error_status, 0),
                AA_HDR("x-sme-download-error", dl_error, 1),
                AA_HDR("x-sme-download-error-status", dl_error_status, 1),
                AA_HDR("x-provider-download-error", prov_error, 0),
                AA_HDR("x-provider-download-error-code", prov_error_code, 0),
                AA_HDR("x-sme-provider-download-error", prov_error, 1),
                AA_HDR("x-sme-provider-download-error-code", prov_error_code, 1),
#undef AA_HDR
        };
        struct aa_http_xfer *x = ud;
        size_t n = sz * nm, i;
        const char *colon = memchr(p, ':', n);

        if (!x->rq->download)
                return n;
        if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
                /* a new answer (after a 100 Continue): forget what the last one said */
                x->rs->dl_error[0] = x->rs->dl_error_status[0] = '\0';
                x->rs->prov_error[0] = x->rs->prov_error_code[0] = '\0';
                x->rs->location[0] = '\0';
                return n;
        }
        if (!colon)
                return n;
        if ((size_t)(colon - p) == 8 && strncasecmp(p, "location", 8) == 0) {
                aa_http_keep(x->rs->location, sizeof(x->rs->location), colon + 1, n - 9, 0);
                return n;
        }
        for (i = 0; i < sizeof(hs) / sizeof(hs[0]); i++) {
                size_t nl = strlen(hs[i].name);

                if ((size_t)(colon - p) == nl && strncasecmp(p, hs[i].name, nl) == 0) {
                        aa_http_keep((char *)x->rs + hs[i].off, hs[i].size, colon + 1, n - nl - 1,
                                     hs[i].legacy);
                        break;
                }
        }
        return n;
}

static size_t aa_http_on_read(char *p, size_t sz, size_t nm, void *ud)
{
        struct aa_http_xfer *x = ud;
        size_t n = sz * nm;

        if (n > x->put_left)
                n = x->put_left;
        memcpy(p, x->put_p, n);
        x->put_p += n;
        x->put_left -= n;
        return n;
}

/* ---- one request ------------------------------------------------------------------- */

/* Map a curl failure to a jibe class, with a message for an administrator. */
static int aa_http_fail(struct aa_http *h, struct aa_http_xfer *x, CURLcode cc, char *errstr,
                        size_t errsz)
{
        const char *why = h->errbuf[0] ? h->errbuf : curl_easy_strerror(cc);
        const char *url = x->rq->url;

        if (cc == CURLE_WRITE_ERROR || cc == CURLE_ABORTED_BY_CALLBACK) {
                if (x->rs->toobig) {
                        curl_off_t cl = -1;

                        /* rs->content_length: the announced size, when there was one, tells
                         * how far past the ceiling the answer was */
                        if (curl_easy_getinfo(h->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) ==
                                    CURLE_OK &&
                            cl >= 0)
                                x->rs->content_length = (int64_t)cl;
                        return jb_seterr(JB_ELIMIT, errstr, errsz,
                                         "answer from %s is larger than %zu bytes; refusing it", url,
                                         x->rs->body.max);
                }
                if (x->rs->sink_rc)
                        return jb_seterr(x->rs->sink_rc, errstr, errsz,
                                         "download from %s stopped by its receiver after %llu bytes",
                                         url, (unsigned long long)x->rs->delivered);
                if (x->nomem)
                        return jb_seterr(JB_ENOMEM, errstr, errsz,
                                         "out of memory reading the answer from %s", url);
        }
        if (cc == CURLE_ABORTED_BY_CALLBACK && sig_abort_requested())
                return jb_seterr(JB_ETRANSIENT, errstr, errsz,
                                 "the call to %s was cut short: jibe is stopping", url);
        switch (cc) {
        case CURLE_OUT_OF_MEMORY:
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory talking to %s", url);
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CRL_BADFILE:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
                return jb_seterr(JB_EFATAL, errstr, errsz,
                                 "TLS verification of %s failed: %s; check the server certificate "
                                 "or the CA file in the configuration",
                                 url, why);
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT:
        case CURLE_NOT_BUILT_IN:
        case CURLE_SSL_ENGINE_NOTFOUND:
        case CURLE_SSL_CIPHER:
        case CURLE_BAD_FUNCTION_ARGUMENT:
        case CURLE_UNKNOWN_OPTION:
                return jb_seterr(JB_EFATAL, errstr, errsz,
                                 "cannot talk to %s: %s; check the Access Anywhere endpoint in the "
                                 "configuration",
                                 url, why);
        case CURLE_SSL_CONNECT_ERROR:
                return jb_seterr(JB_ETRANSIENT, errstr, errsz,
                                 "TLS handshake with %s failed: %s (does the endpoint really speak "
                                 "https?)",
                                 url, why);
        case CURLE_OPERATION_TIMEDOUT:
                return jb_seterr(JB_ETRANSIENT, errstr, errsz, "%s did not answer in time: %s", url,
                                 why);
        default:
                return jb_seterr(JB_ETRANSIENT, errstr, errsz, "cannot reach %s: %s", url, why);
        }
}

/* Ends a transfer (a server that hangs, a slow body) once a stop has waited long enough. */
static int aa_http_on_progress(void *opaque, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                               curl_off_t ulnow)
{
        (void)opaque;
        (void)dltotal;
        (void)dlnow;
        (void)ultotal;
        (void)ulnow;
        return sig_abort_requested();
}

static int aa_http_setup(struct aa_http *h, struct aa_http_xfer *x, struct curl_slist **hdrs)
{
        CURL *c = h->curl;
        const struct aa_http_req *rq = x->rq;
        CURLcode cc = CURLE_OK;
        struct curl_slist *l = NULL, *t;

        curl_easy_reset(c); /* options only: live connections are kept */
        h->errbuf[0] = '\0';
#define AA_SET(opt, val)                                                                                \
        do {                                                                                            \
                if (cc == CURLE_OK)                                                                     \
                        cc = curl_easy_setopt(c, opt, val);                                             \
        } while (0)
        AA_SET(CURLOPT_ERRORBUFFER, h->errbuf);
        AA_SET(CURLOPT_URL, rq->url);
        if (cc == CURLE_OK)
                cc = curl_tls_set(c,
                                  &(struct curl_tls){h->allow_http ? "http,https" : "https", h->insecure,
                                                     h->ca_file, h->connect_timeout_ms, h->user_agent});
        if (rq->download) {
                AA_SET(CURLOPT_LOW_SPEED_LIMIT, h->low_speed_limit);
                AA_SET(CURLOPT_LOW_SPEED_TIME, h->low_speed_time);
        } else {
                AA_SET(CURLOPT_TIMEOUT_MS, h->timeout_ms);
        }
        if (!rq->download) /* files come as they are, so Content-Length counts their bytes */
                AA_SET(CURLOPT_ACCEPT_ENCODING, ""); /* whatever libcurl can decode */
        AA_SET(CURLOPT_HEADERFUNCTION, aa_http_on_header);
        AA_SET(CURLOPT_HEADERDATA, x);
        AA_SET(CURLOPT_WRITEFUNCTION, aa_http_on_write);
        AA_SET(CURLOPT_WRITEDATA, x);
        AA_SET(CURLOPT_XFERINFOFUNCTION, aa_http_on_progress); /* called about once a second */
        AA_SET(CURLOPT_NOPROGRESS, 0L);
        if (h->debug) {
                AA_SET(CURLOPT_DEBUGFUNCTION, aa_http_on_debug);
                AA_SET(CURLOPT_DEBUGDATA, x);
                AA_SET(CURLOPT_VERBOSE, 1L);
        }
        t = curl_slist_append(l, "Expect:"); /* no 100-continue round trip */
        if (t)
                l = t;
        if (rq->method == AA_HTTP_PUT) {
                t = curl_slist_append(l, "Content-Type: application/octet-stream");
                x->put_p = rq->body;
                x->put_left = rq->len;
                AA_SET(CURLOPT_UPLOAD, 1L);
                AA_SET(CURLOPT_READFUNCTION, aa_http_on_read);
                AA_SET(CURLOPT_READDATA, x);
                AA_SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t)rq->len);
        } else {
                t = curl_slist_append(l, "Content-Type: application/x-www-form-urlencoded");
                AA_SET(CURLOPT_POST, 1L);
                AA_SET(CURLOPT_POSTFIELDS, rq->body);
                AA_SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->len);
        }
        if (!t) {
                curl_slist_free_all(l);
                return JB_ENOMEM;
        }
        l = t;
        AA_SET(CURLOPT_HTTPHEADER, l);
#undef AA_SET
        *hdrs = l;
        return cc == CURLE_OK ? JB_OK : (int)cc;
}

int aa_http_do(struct aa_http *h, const struct aa_http_req *rq, struct aa_http_resp *rs, char *errstr,
               size_t errsz)
{
        struct aa_http_xfer x;
        struct curl_slist *hdrs = NULL;
        CURLcode cc;
        long code = 0;
        int rc;

        memset(&x, 0, sizeof(x));
        x.h = h;
        x.rq = rq;
        x.rs = rs;
        rc = aa_http_setup(h, &x, &hdrs);
        if (rc == JB_ENOMEM)
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory preparing a request");
        if (rc) {
                curl_slist_free_all(hdrs);
                return jb_seterr(JB_EFATAL, errstr, errsz,
                                 "libcurl refused an option (%s); it may be too old for jibe",
                                 curl_easy_strerror((CURLcode)rc));
        }
        cc = curl_easy_perform(h->curl);
        curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
        curl_slist_free_all(hdrs);
        curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &code);
        rs->status = code;
        if (rq->download) {
                curl_off_t cl = -1;
                char *ct = NULL;

                if (curl_easy_getinfo(h->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) == CURLE_OK &&
                    cl >= 0)
                        rs->content_length = (int64_t)cl;
                if (curl_easy_getinfo(h->curl, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
                        aa_http_keep(rs->ctype, sizeof(rs->ctype), ct, strlen(ct), 0);
                if (!x.decided && code / 100 == 2 && rq->no_pages && aa_http_is_html_type(ct))
                        rs->page = 1; /* an empty HTML answer */
                if (cc == CURLE_WRITE_ERROR &&
                    (rs->size_refused || rs->oversize || (rs->toobig && !rs->streamed)))
                        return JB_OK; /* an answer that is not the file: aa.c says why */
        }
        if (code == 429 || code == 503) {
                curl_off_t ra = 0;

                if (curl_easy_getinfo(h->curl, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
                        rs->retry_after_s = ra > 3600 ? 3600 : (long)ra;
        }
        if (cc != CURLE_OK)
                return aa_http_fail(h, &x, cc, errstr, errsz);
        return JB_OK;
}
