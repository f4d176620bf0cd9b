/*
 * sim_http.c - the HTTP side of jibe-aa-sim (libmicrohttpd, one thread per connection,
 * keep-alive): request contexts, body collection, routing to rpc.php (GET query or POST
 * form), the uploader (raw PUT/POST with the base64 name in the path, or multipart POST
 * with the field "datafile", streamed to the temporary file through MHD's post processor;
 * answered in JSON or XML) and /sim/..., fault application (latency, injected 500/429),
 * getFile streaming (from the file descriptor, with Range, an optional rate limit and an
 * optional cut after half the bytes), injected download errors (X-NAA-/X-SME-/X-PROVIDER-
 * DOWNLOAD-ERROR headers), hostile getFile answers (pages, short and padded bodies) and one
 * log line per request.
 *
 * Ownership: a struct req lives from the first access callback of a request to the
 * completion callback, which frees it (and its post processor). Streaming state (struct
 * dl) belongs to the MHD response and is freed by its free callback (which closes the file).
 */
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "log.h"
#include "sim.h"

#define RPC_BODY_MAX (16u << 20)
#define SIM_BODY_MAX (1024u << 20)
#define UPLOAD_PATH "/cgi-bin/uploader/uploader1.cgi"
#define UPLOAD_PREFIX UPLOAD_PATH "/"
#define DL_ERROR_BODY "<html><body>Download failed</body></html>"

enum rkind { RK_RPC, RK_UPLOAD, RK_SIM, RK_OTHER };

struct req {
        enum rkind kind;
        char *method, *url;
        struct buf body;
        bool too_big, started;
        int inject;
        /* uploads */
        char *code, *tmppath;
        int fd;
        int64_t received;
        struct sim_md5 md5;
        int up_http;
        char up_err[200];
        bool up_json;                 /* answer in JSON (else XML) */
        struct MHD_PostProcessor *pp; /* multipart form, or NULL for a raw body */
        bool datafile;                /* the form had a "datafile" field */
        bool extra_part;              /* a later "datafile" part began: it is ignored */
        /* for the log line */
        int64_t t0, bytes;
        int http;
        char fn[64];
        char api[32];
};

struct dl {
        int fd;
        int64_t start, len, bps, t0;
        int64_t cut;       /* end the body with an error at this offset; -1 never */
        int64_t flen;      /* bytes from the file; the others are padding (DLH_SIZE) */
        int64_t pad_front; /* DLH_SIZE: padding bytes before the file (else after it) */
};

#define DLH_PAD_BYTES 16 /* DLH_SIZE: bytes added after the file */

/* ---------------------------------------------------------------- responses */

static enum MHD_Result send_buf(struct MHD_Connection *con, struct req *r, int http, struct buf *b,
                                const char *ctype)
{
        size_t len = b->len;
        char *p = buf_take(b);
        struct MHD_Response *resp;
        enum MHD_Result ret;

        if (!p)
                return MHD_NO;
        resp = MHD_create_response_from_buffer(len, p, MHD_RESPMEM_MUST_FREE);
        if (!resp) {
                free(p);
                return MHD_NO;
        }
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
        if (http == 429)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
        ret = MHD_queue_response(con, (unsigned)http, resp);
        MHD_destroy_response(resp);
        r->http = http;
        r->bytes = (int64_t)len;
        return ret;
}

static enum MHD_Result send_status(struct MHD_Connection *con, struct req *r, int http,
                                   const char *status, const char *msg)
{
        struct jw w;
        enum MHD_Result ret;

        jw_init(&w, 1u << 16);
        jw_obj(&w);
        jw_kstr(&w, "status", status);
        jw_kstr(&w, "statusmessage", msg);
        jw_end_obj(&w);
        snprintf(r->api, sizeof(r->api), "%s", status);
        ret = send_buf(con, r, http, &w.b, "application/json");
        jw_free(&w);
        return ret;
}

static ssize_t dl_read(void *cls, uint64_t pos, char *out, size_t max)
{
        struct dl *d = cls;
        int64_t left = d->len - (int64_t)pos, want, due;
        ssize_t n;

        if (left <= 0)
                return MHD_CONTENT_READER_END_OF_STREAM;
        if (d->cut >= 0 && (int64_t)pos >= d->cut)
                return MHD_CONTENT_READER_END_WITH_ERROR; /* injected: connection ends early */
        if (d->cut >= 0 && left > d->cut - (int64_t)pos)
                left = d->cut - (int64_t)pos;
        want = (int64_t)max < left ? (int64_t)max : left;
        if (d->bps > 0) {
                int64_t chunk = d->bps / 20 > 0 ? d->bps / 20 : 1;

                if (want > chunk)
                        want = chunk;
                /* when the bytes sent so far plus this chunk are due, at bps */
                due = ((int64_t)pos + want) * 1000 / d->bps;
                sim_sleep_ms(due - (sim_now_ms() - d->t0));
        }
        if ((int64_t)pos < d->pad_front || (int64_t)pos >= d->pad_front + d->flen) {
                /* injected padding before or after the file */
                if ((int64_t)pos < d->pad_front && want > d->pad_front - (int64_t)pos)
                        want = d->pad_front - (int64_t)pos;
                memset(out, 'x', (size_t)want);
                return (ssize_t)want;
        }
        if (want > d->pad_front + d->flen - (int64_t)pos)
                want = d->pad_front + d->flen - (int64_t)pos;
        do {
                n = pread(d->fd, out, (size_t)want, (off_t)(d->start + (int64_t)pos - d->pad_front));
        } while (n < 0 && errno == EINTR);
        if (n <= 0)
                return MHD_CONTENT_READER_END_WITH_ERROR; /* the file shrank or failed */
        return n;
}

static void dl_free(void *cls)
{
        struct dl *d = cls;

        close(d->fd);
        free(d);
}

/* "bytes=a-b", "bytes=a-", "bytes=-n": 1 and [*a, *b] when usable, 0 ignore, -1 bad. */
static int parse_range(const char *h, int64_t size, int64_t *a, int64_t *b)
{
        char *end;
        long long x, y;

        if (!h || strncmp(h, "bytes=", 6) != 0 || strchr(h, ','))
                return 0;
        h += 6;
        if (*h == '-') {
                y = strtoll(h + 1, &end, 10);
                if (*end || end == h + 1 || y <= 0)
                        return 0;
                if (size == 0)
                        return -1;
                *a = y >= size ? 0 : size - y;
                *b = size - 1;
                return 1;
        }
        x = strtoll(h, &end, 10);
        if (end == h || *end != '-' || x < 0)
                return 0;
        h = end + 1;
        if (!*h) {
                y = size - 1;
        } else {
                y = strtoll(h, &end, 10);
                if (*end || y < x)
                        return 0;
                if (y >= size)
                        y = size - 1;
        }
        if (x >= size)
                return -1;
        *a = x;
        *b = y;
        return 1;
}

/* hostile: DLH_SHORT (half the bytes; alt: without Content-Length) or DLH_SIZE (padded
 * after the file; alt: before it, without Content-Length). */
static enum MHD_Result send_file(struct sim *s, struct MHD_Connection *con, struct req *r, int fd,
                                 int64_t size, bool cut, int hostile, bool alt)
{
        struct MHD_Response *resp;
        struct dl *d;
        enum MHD_Result ret;
        int64_t a = 0, b = size - 1;
        int rg, http = 200;
        char cr[96];

        rg = parse_range(MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Range"), size, &a, &b);
        if (rg < 0) {
                close(fd);
                return send_status(con, r, 416, "bad_request", "range not satisfiable");
        }
        if (size == 0) {
                close(fd);
                resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        } else {
                d = calloc(1, sizeof(*d));
                if (!d) {
                        close(fd);
                        return MHD_NO;
                }
                d->fd = fd;
                d->start = a;
                d->len = b - a + 1;
                d->cut = cut ? d->len / 2 : -1;
                d->flen = d->len;
                if (hostile == DLH_SHORT)
                        d->flen = d->len = d->len / 2;
                else if (hostile == DLH_SIZE)
                        d->len += DLH_PAD_BYTES;
                if (hostile == DLH_SIZE && alt)
                        d->pad_front = DLH_PAD_BYTES;
                pthread_mutex_lock(&s->lock);
                d->bps = s->f.slow_bps;
                pthread_mutex_unlock(&s->lock);
                d->t0 = sim_now_ms();
                resp = MHD_create_response_from_callback((hostile == DLH_SHORT || hostile == DLH_SIZE) &&
                                                                         alt
                                                                 ? MHD_SIZE_UNKNOWN
                                                                 : (uint64_t)d->len,
                                                         64 * 1024, dl_read, d, dl_free);
                if (!resp) {
                        dl_free(d);
                        return MHD_NO;
                }
                if (rg > 0) {
                        http = 206;
                        snprintf(cr, sizeof(cr), "bytes %lld-%lld/%lld", (long long)a, (long long)b,
                                 (long long)size);
                        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
                }
        }
        if (!resp)
                return MHD_NO;
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
        ret = MHD_queue_response(con, (unsigned)http, resp);
        MHD_destroy_response(resp);
        r->http = http;
        r->bytes = rg > 0 ? b - a + 1 : size;
        if (cut || hostile == DLH_SHORT)
                r->bytes /= 2;
        if (hostile == DLH_SIZE && size > 0)
                r->bytes += DLH_PAD_BYTES;
        snprintf(r->api, sizeof(r->api), "%s", hostile ? dl_hostile_names[hostile] : cut ? "cut" : "ok");
        return ret;
}

static int add_b64_header(struct MHD_Response *resp, const char *name, const char *text)
{
        struct buf b;
        int rc;

        buf_init(&b, 4096);
        rc = buf_base64(&b, text, strlen(text));
        if (!rc && MHD_add_response_header(resp, name, b.p) != MHD_YES)
                rc = JB_ENOMEM;
        buf_clear(&b);
        return rc;
}

/* An injected download failure: status http, the error headers, a small HTML body. */
static enum MHD_Result send_dl_error(struct MHD_Connection *con, struct req *r, int http, bool legacy)
{
        static const char msg[] =
                "Download failed: the file could not be read from the storage provider (injected by jibe-aa-sim)";
        struct MHD_Response *resp;
        enum MHD_Result ret;
        int rc;

        resp = MHD_create_response_from_buffer(strlen(DL_ERROR_BODY), (void *)DL_ERROR_BODY,
                                               MHD_RESPMEM_PERSISTENT);
        if (!resp)
                return MHD_NO;
        rc = MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html") == MHD_YES
                     ? JB_OK
                     : JB_ENOMEM;
        if (!rc)
                rc = add_b64_header(resp, "X-SME-DOWNLOAD-ERROR", msg);
        if (!rc &&
            MHD_add_response_header(resp, "X-SME-DOWNLOAD-ERROR-STATUS", "download_failed") != MHD_YES)
                rc = JB_ENOMEM;
        if (!rc && !legacy) {
                rc = add_b64_header(resp, "X-NAA-DOWNLOAD-ERROR", msg);
                if (!rc && MHD_add_response_header(resp, "X-NAA-DOWNLOAD-ERROR-STATUS",
                                                   "download_failed") != MHD_YES)
                        rc = JB_ENOMEM;
                if (!rc)
                        rc = add_b64_header(
                                resp, "X-PROVIDER-DOWNLOAD-ERROR",
                                "InternalError: We encountered an internal error. Please try again.");
                if (!rc &&
                    MHD_add_response_header(resp, "X-PROVIDER-DOWNLOAD-ERROR-CODE", "500") != MHD_YES)
                        rc = JB_ENOMEM;
        }
        if (rc) {
                MHD_destroy_response(resp);
                return MHD_NO;
        }
        ret = MHD_queue_response(con, (unsigned)http, resp);
        MHD_destroy_response(resp);
        r->http = http;
        r->bytes = (int64_t)strlen(DL_ERROR_BODY);
        snprintf(r->api, sizeof(r->api), "download_error");
        return ret;
}

/* ---------------------------------------------------------------- arguments */

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
        (void)kind;
        if (key && form_add(cls, key, value ? value : "") != JB_OK)
                return MHD_NO;
        return MHD_YES;
}

static enum MHD_Result find_code(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
        char **code = cls;

        (void)kind;
        if (key && *key && !*code && (!value || !*value)) {
                *code = strdup(key);
                return MHD_NO;
        }
        return MHD_YES;
}

/* ---------------------------------------------------------------- handlers */

static void apply_latency_and_pick(struct sim *s, struct req *r)
{
        int64_t lat, slept = 0;

        /* in slices, so that lowering latency_ms releases the requests already held */
        for (;;) {
                pthread_mutex_lock(&s->lock);
                lat = s->f.latency_ms;
                pthread_mutex_unlock(&s->lock);
                if (slept >= lat)
                        break;
                sim_sleep_ms(lat - slept < 100 ? lat - slept : 100);
                slept += 100;
        }
        pthread_mutex_lock(&s->lock);
        r->inject = faults_pick(s);
        pthread_mutex_unlock(&s->lock);
}

static void upload_chunk(struct req *r, const char *p, size_t n);

/* The multipart form: only the (first) field "datafile" is kept (streamed to the file). */
static enum MHD_Result form_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *filename, const char *content_type,
                                  const char *transfer_encoding, const char *data, uint64_t off,
                                  size_t size)
{
        struct req *r = cls;

        (void)kind;
        (void)filename;
        (void)content_type;
        (void)transfer_encoding;
        if (!key || strcmp(key, "datafile") != 0)
                return MHD_YES;
        if (r->datafile && off == 0 && r->received > 0)
                r->extra_part = true;
        r->datafile = true;
        if (size && r->fd >= 0 && !r->extra_part)
                upload_chunk(r, data, size);
        return r->up_http ? MHD_NO : MHD_YES;
}

static void upload_start(struct sim *s, struct MHD_Connection *con, struct req *r, const char *url)
{
        const char *ct = MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        const char *name = strncmp(url, UPLOAD_PREFIX, strlen(UPLOAD_PREFIX)) == 0
                                   ? url + strlen(UPLOAD_PREFIX)
                                   : NULL;
        int rc;

        MHD_get_connection_values(con, MHD_GET_ARGUMENT_KIND, find_code, &r->code);
        rc = sim_upload_claim(s, r->code, name, &r->tmppath, &r->up_json, r->up_err, sizeof(r->up_err));
        if (!rc && !name && (!ct || strncasecmp(ct, "multipart/form-data", 19) != 0)) {
                sim_upload_release(s, r->code, false, 0, NULL);
                rc = jb_seterr(
                        JB_EINPUT, r->up_err, sizeof(r->up_err),
                        "POST the file as multipart/form-data field datafile, or PUT it to uploader1.cgi/<base64 name>");
        }
        if (!rc && ct && strncasecmp(ct, "multipart/form-data", 19) == 0) {
                r->pp = MHD_create_post_processor(con, 64 * 1024, form_field, r);
                if (!r->pp) {
                        sim_upload_release(s, r->code, false, 0, NULL);
                        rc = jb_seterr(JB_EINPUT, r->up_err, sizeof(r->up_err),
                                       "the multipart form cannot be parsed (no boundary?)");
                }
        }
        if (rc) {
                r->up_http = rc == JB_ENOTFOUND ? 404 : rc == JB_ENOMEM ? 500 : 400;
                return;
        }
        r->fd = open(r->tmppath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        if (r->fd < 0) {
                r->up_http = 500;
                snprintf(r->up_err, sizeof(r->up_err), "cannot write the upload: %s", strerror(errno));
                sim_upload_release(s, r->code, false, 0, NULL);
                return;
        }
        sim_md5_init(&r->md5);
}

static void upload_chunk(struct req *r, const char *p, size_t n)
{
        ssize_t k;

        sim_md5_update(&r->md5, p, n);
        r->received += (int64_t)n;
        while (n && !r->up_http) {
                k = write(r->fd, p, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0) {
                        r->up_http = 500;
                        snprintf(r->up_err, sizeof(r->up_err), "cannot write the upload: %s",
                                 strerror(errno));
                        break;
                }
                p += k;
                n -= (size_t)k;
        }
}

/* XML text with <, > and & escaped (the uploader's XML answer). */
static int xml_text(struct buf *b, const char *s)
{
        int rc = JB_OK;

        for (; !rc && *s; s++)
                rc = *s == '<'   ? buf_puts(b, "&lt;")
                     : *s == '>' ? buf_puts(b, "&gt;")
                     : *s == '&' ? buf_puts(b, "&amp;")
                                 : buf_append(b, s, 1);
        return rc;
}

static enum MHD_Result upload_finish(struct sim *s, struct MHD_Connection *con, struct req *r)
{
        struct jw w;
        struct buf x;
        char md5[33] = "";
        enum MHD_Result ret;
        bool ok;
        int rc;

        snprintf(r->fn, sizeof(r->fn), "uploader");
        if (r->pp) {
                if (MHD_destroy_post_processor(r->pp) != MHD_YES && !r->up_http) {
                        r->up_http = 400;
                        snprintf(r->up_err, sizeof(r->up_err), "the multipart form is incomplete");
                }
                r->pp = NULL;
                if (!r->datafile && !r->up_http) {
                        r->up_http = 400;
                        snprintf(r->up_err, sizeof(r->up_err),
                                 "the multipart form has no field named datafile");
                }
        }
        if (r->fd >= 0) {
                if (close(r->fd) != 0 && !r->up_http) {
                        r->up_http = 500;
                        snprintf(r->up_err, sizeof(r->up_err), "cannot write the upload");
                }
                r->fd = -1;
                sim_md5_hex(&r->md5, md5);
                ok = !r->up_http;
                sim_upload_release(s, r->code, ok, r->received, md5);
        }
        snprintf(r->api, sizeof(r->api), "%s", r->up_http ? "failed" : "ok");
        if (!r->up_json) {
                buf_init(&x, 1u << 16);
                rc = buf_puts(&x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><response>");
                if (!rc && !r->up_http)
                        rc = buf_printf(&x, "<success>y</success><filesize>%lld</filesize><md5>%s</md5>",
                                        (long long)r->received, md5);
                else if (!rc)
                        rc = buf_puts(&x, "<success>n</success><error>");
                if (!rc && r->up_http)
                        rc = xml_text(&x, r->up_err);
                if (!rc && r->up_http)
                        rc = buf_puts(&x, "</error>");
                if (!rc)
                        rc = buf_puts(&x, "</response>");
                ret = rc ? MHD_NO : send_buf(con, r, r->up_http ? r->up_http : 200, &x, "text/xml");
                buf_clear(&x);
                return ret;
        }
        jw_init(&w, 1u << 16);
        jw_obj(&w);
        if (!r->up_http) {
                jw_kstr(&w, "success", "y");
                jw_kistr(&w, "filesize", r->received);
                jw_kstr(&w, "md5", md5);
        } else {
                jw_kstr(&w, "success", "n");
                jw_kstr(&w, "error", r->up_err);
        }
        jw_end_obj(&w);
        ret = send_buf(con, r, r->up_http ? r->up_http : 200, &w.b, "application/json");
        jw_free(&w);
        return ret;
}

/* A hostile page instead of the file (DLH_HTML, DLH_REDIRECT, DLH_JSON404): no failure
 * header, nothing that says it is not the file but its status and type. */
static enum MHD_Result send_hostile_page(struct MHD_Connection *con, struct req *r, int kind)
{
        static const char html[] =
                "<!DOCTYPE html><html><head><title>Maintenance</title></head><body><h1>Access "
                "Anywhere is down for maintenance</h1><p>Please come back later.</p></body></html>";
        static const char moved[] = "<html><body>Moved to <a href=\"https://maintenance.example."
                                    "invalid/\">the maintenance page</a></body></html>";
        static const char json404[] = "{\"error\":\"Not Found\",\"message\":\"no route for this "
                                      "request\",\"code\":404}";
        const char *body = kind == DLH_HTML ? html : kind == DLH_REDIRECT ? moved : json404;
        int http = kind == DLH_HTML ? 200 : kind == DLH_REDIRECT ? 301 : 404;
        struct MHD_Response *resp;
        enum MHD_Result ret;
        int ok;

        resp = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
        if (!resp)
                return MHD_NO;
        ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                                     kind == DLH_JSON404 ? "application/json" : "text/html") == MHD_YES;
        if (ok && kind == DLH_REDIRECT)
                ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION,
                                             "https://maintenance.example.invalid/") == MHD_YES;
        if (!ok) {
                MHD_destroy_response(resp);
                return MHD_NO;
        }
        ret = MHD_queue_response(con, (unsigned)http, resp);
        MHD_destroy_response(resp);
        r->http = http;
        r->bytes = (int64_t)strlen(body);
        snprintf(r->api, sizeof(r->api), "%s", dl_hostile_names[kind]);
        return ret;
}

/* An injected resync fault (enum sync_fault): no answer, a 200 that is not the API's JSON,
 * or a 429/500; MHD_NO closes the connection without an answer. */
static enum MHD_Result send_sync_fault(struct sim *s, struct MHD_Connection *con, struct req *r,
                                       int fault)
{
        static const char html[] = "<html><head><title>Down for maintenance</title></head><body>"
                                   "Access Anywhere is down for maintenance (injected by "
                                   "jibe-aa-sim)</body></html>";
        struct MHD_Response *resp;
        enum MHD_Result ret;
        char ra[32];
        int http;

        snprintf(r->api, sizeof(r->api), "sync_fault");
        if (fault == SYNC_FAULT_RESET)
                return MHD_NO;
        if (fault == SYNC_FAULT_REFUSE)
                return send_status(con, r, 400, "bad_request",
                                   "the server refused the request's fields (injected)");
        http = fault == SYNC_FAULT_E429 ? 429 : fault == SYNC_FAULT_E500 ? 500 : 200;
        resp = MHD_create_response_from_buffer(fault == SYNC_FAULT_EMPTY ? 0 : strlen(html),
                                               (void *)html, MHD_RESPMEM_PERSISTENT);
        if (!resp)
                return MHD_NO;
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html");
        if (http == 429) {
                pthread_mutex_lock(&s->lock);
                snprintf(ra, sizeof(ra), "%lld", (long long)s->f.sync_retry_after_s);
                pthread_mutex_unlock(&s->lock);
                MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
        }
        ret = MHD_queue_response(con, (unsigned)http, resp);
        MHD_destroy_response(resp);
        r->http = http;
        r->bytes = fault == SYNC_FAULT_EMPTY ? 0 : (int64_t)strlen(html);
        return ret;
}

static enum MHD_Result rpc_finish(struct sim *s, struct MHD_Connection *con, struct req *r)
{
        struct form f;
        struct rpc_result res;
        enum MHD_Result ret;
        const char *ct;
        int fault;

        form_init(&f);
        if (MHD_get_connection_values(con, MHD_GET_ARGUMENT_KIND, add_arg, &f) < 0) {
                form_free(&f);
                return MHD_NO;
        }
        ct = MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        if (r->body.len && (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0) &&
            form_parse(&f, r->body.p, r->body.len) != JB_OK) {
                form_free(&f);
                return send_status(con, r, 500, "error_background", "out of memory");
        }
        pthread_mutex_lock(&s->lock);
        fault = faults_sync_pick(s, &f);
        pthread_mutex_unlock(&s->lock);
        if (fault) {
                const char *fn = form_get(&f, "function");

                snprintf(r->fn, sizeof(r->fn), "%s", fn ? fn : "");
                form_free(&f);
                return send_sync_fault(s, con, r, fault);
        }
        memset(&res, 0, sizeof(res));
        jw_init(&res.out, 256u << 20);
        sim_rpc(s, &f, &res);
        snprintf(r->fn, sizeof(r->fn), "%s", res.function);
        snprintf(r->api, sizeof(r->api), "%s", res.status ? res.status : "?");
        form_free(&f);
        if (res.dl_error)
                ret = send_dl_error(con, r, res.dl_error, res.dl_legacy);
        else if (res.dl_hostile && res.fd < 0)
                ret = send_hostile_page(con, r, res.dl_hostile);
        else if (res.fd >= 0)
                ret = send_file(s, con, r, res.fd, res.fsize, res.dl_cut, res.dl_hostile,
                                res.dl_hostile_alt);
        else
                ret = send_buf(con, r, res.http, &res.out.b, "application/json");
        jw_free(&res.out);
        return ret;
}

static enum MHD_Result sim_finish(struct sim *s, struct MHD_Connection *con, struct req *r)
{
        struct form f;
        struct rpc_result res;
        enum MHD_Result ret;

        form_init(&f);
        if (MHD_get_connection_values(con, MHD_GET_ARGUMENT_KIND, add_arg, &f) < 0) {
                form_free(&f);
                return MHD_NO;
        }
        memset(&res, 0, sizeof(res));
        jw_init(&res.out, SIM_BODY_MAX);
        res.http = 200;
        res.fd = -1;
        sim_inspect(s, r->method, r->url, &f, r->body.p, r->body.len, &res);
        snprintf(r->api, sizeof(r->api), "%s", res.status ? res.status : "");
        ret = send_buf(con, r, res.http, &res.out.b, res.ctype ? res.ctype : "application/json");
        jw_free(&res.out);
        form_free(&f);
        return ret;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *con, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
        struct sim *s = cls;
        struct req *r = *con_cls;

        (void)version;
        if (!r) {
                r = calloc(1, sizeof(*r));
                if (!r)
                        return MHD_NO;
                r->fd = -1;
                r->t0 = sim_now_ms();
                r->method = strdup(method);
                r->url = strdup(url);
                *con_cls = r;
                if (!r->method || !r->url)
                        return MHD_NO;
                if (strcmp(url, "/api/rpc.php") == 0)
                        r->kind = RK_RPC;
                else if ((strncmp(url, UPLOAD_PREFIX, strlen(UPLOAD_PREFIX)) == 0 ||
                          strcmp(url, UPLOAD_PATH) == 0) &&
                         (strcmp(method, "PUT") == 0 || strcmp(method, "POST") == 0))
                        r->kind = RK_UPLOAD;
                else if (strncmp(url, "/sim/", 5) == 0)
                        r->kind = RK_SIM;
                else
                        r->kind = RK_OTHER;
                buf_init(&r->body, r->kind == RK_SIM ? SIM_BODY_MAX : RPC_BODY_MAX);
                if (r->kind == RK_RPC || r->kind == RK_UPLOAD)
                        apply_latency_and_pick(s, r);
                if (r->kind == RK_UPLOAD && !r->inject)
                        upload_start(s, con, r, url);
                return MHD_YES;
        }
        if (*upload_data_size) {
                if (r->inject || r->kind == RK_OTHER) {
                        /* discard */
                } else if (r->kind == RK_UPLOAD) {
                        if (r->pp && !r->up_http) {
                                if (MHD_post_process(r->pp, upload_data, *upload_data_size) != MHD_YES &&
                                    !r->up_http) {
                                        r->up_http = 400;
                                        snprintf(r->up_err, sizeof(r->up_err),
                                                 "the multipart form cannot be parsed");
                                }
                        } else if (r->fd >= 0 && !r->pp) {
                                upload_chunk(r, upload_data, *upload_data_size);
                        }
                } else if (!r->too_big &&
                           buf_append(&r->body, upload_data, *upload_data_size) != JB_OK) {
                        r->too_big = true;
                        buf_clear(&r->body);
                }
                *upload_data_size = 0;
                return MHD_YES;
        }
        if (r->started)
                return MHD_YES;
        r->started = true;
        if (r->inject) {
                if (r->kind == RK_UPLOAD && r->fd >= 0) {
                        close(r->fd);
                        r->fd = -1;
                        sim_upload_release(s, r->code, false, 0, NULL);
                }
                return send_status(con, r, r->inject, "error_http",
                                   r->inject == 429 ? "too many requests (injected)"
                                                    : "internal server error (injected)");
        }
        if (r->too_big)
                return send_status(con, r, 413, "bad_request", "request body too large");
        switch (r->kind) {
        case RK_RPC:
                return rpc_finish(s, con, r);
        case RK_UPLOAD:
                return upload_finish(s, con, r);
        case RK_SIM:
                return sim_finish(s, con, r);
        case RK_OTHER:
        default:
                return send_status(con, r, 404, "not_found", "no such endpoint");
        }
}

static void on_done(void *cls, struct MHD_Connection *con, void **con_cls,
                    enum MHD_RequestTerminationCode toe)
{
        struct sim *s = cls;
        struct req *r = *con_cls;

        (void)con;
        if (!r)
                return;
        if (r->pp)
                MHD_destroy_post_processor(r->pp);
        if (r->fd >= 0) {
                /* the client went away in the middle of an upload */
                close(r->fd);
                sim_upload_release(s, r->code, false, 0, NULL);
        }
        if (!s->quiet)
                log_msg(LL_INFO, "aasim", "%s %s%s%s%s http=%d status=%s bytes=%lld ms=%lld%s",
                        r->method ? r->method : "?", r->url ? r->url : "?",
                        r->kind == RK_UPLOAD ? "?***" : "", r->fn[0] ? " fn=" : "", r->fn, r->http,
                        r->api[0] ? r->api : "-", (long long)r->bytes, (long long)(sim_now_ms() - r->t0),
                        toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (aborted)");
        free(r->method);
        free(r->url);
        free(r->code);
        free(r->tmppath);
        buf_clear(&r->body);
        free(r);
        *con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap) JB_PRINTF(2, 0);

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
        char line[512];
        size_t n;

        (void)cls;
        vsnprintf(line, sizeof(line), fmt, ap);
        n = strlen(line);
        while (n && line[n - 1] == '\n')
                line[--n] = '\0';
        log_msg(LL_WARN, "aasim", "libmicrohttpd: %s", line);
}

struct MHD_Daemon *sim_http_start(struct sim *s, const char *addr, uint16_t port, uint16_t *bound,
                                  char *errstr, size_t errsz)
{
        struct sockaddr_in sa;
        struct MHD_Daemon *d;
        const union MHD_DaemonInfo *info;

        memset(&sa, 0, sizeof(sa));
        sa.sin_family = AF_INET;
        sa.sin_port = htons(port);
        if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
                jb_seterr(JB_EINPUT, errstr, errsz, "--listen %s: not an IPv4 address (e.g. 10.77.1.2)",
                          addr);
                return NULL;
        }
        d = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                                     MHD_USE_ERROR_LOG,
                             port, NULL, NULL, on_access, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
                             MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED,
                             on_done, s, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)300,
                             MHD_OPTION_CONNECTION_LIMIT, (unsigned int)1000, MHD_OPTION_END);
        if (!d) {
                jb_seterr(JB_EIO, errstr, errsz,
                          "cannot listen on %s:%u: port in use, address not on this host, or not "
                          "permitted",
                          addr, (unsigned)port);
                return NULL;
        }
        info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
        *bound = info ? info->port : port;
        return d;
}

void sim_http_stop(struct MHD_Daemon *d)
{
        if (d)
                MHD_stop_daemon(d);
}
