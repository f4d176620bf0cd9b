/*
 * aa_http.h - internal to the Access Anywhere client: the HTTP exchange of one request over
 * libcurl (aa_http.c). Used by aa.c only; no curl type leaks out of aa_http.c.
 *
 * Ownership: struct aa_http owns its CURL easy handle; aa_http_new() copies what it keeps
 * from the opts. A struct aa_http_resp owns its body buf: the caller inits it with
 * aa_http_resp_init() and releases it with aa_http_resp_clear().
 */
#ifndef AA_HTTP_H
#define AA_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "aa.h"
#include "buf.h"

struct aa_http;

enum aa_http_method { AA_HTTP_POST_FORM, AA_HTTP_PUT };

#define AA_HTTP_HDR_MAX 1024 /* a failure header kept (longer ones are cut) */

struct aa_http_req {
        enum aa_http_method method;
        const char *url;
        const char *body; /* form body (POST) or raw bytes (PUT) */
        size_t len;
        int download;     /* low-speed limit instead of a total timeout; file bytes to sink */
        aa_write_fn sink; /* download only */
        void *opaque;
        size_t answer_max; /* the ceiling of this call's answer (aa.c); 0: the client's */
        int64_t want_size; /* download: bytes the file is listed with; -1 unknown (0 in a
                              zeroed request means an empty file: set it) */
        int no_pages;      /* download: a 2xx HTML answer is a page, never the file */
};

struct aa_http_resp {
        long status;            /* HTTP status, 0 if none was received */
        struct buf body;        /* the answer (RPC), or a non-file answer to a download */
        int streamed;           /* download: the answer went to the sink as a file */
        uint64_t delivered;     /* download: bytes handed to the sink */
        int sink_rc;            /* download: the sink's error code, 0 if none */
        int toobig;             /* the answer passed the body ceiling */
        long retry_after_s;     /* Retry-After of a 429/503 answer, 0 if none */
        int64_t content_length; /* download: Content-Length, -1 when not sent */
        /* download: the failure headers of getFile, as sent (base64 messages), "" if none;
         * X-SME-* (legacy names) fill the same fields when X-NAA-* are absent */
        char dl_error[AA_HTTP_HDR_MAX];   /* X-NAA-DOWNLOAD-ERROR */
        char dl_error_status[64];         /* X-NAA-DOWNLOAD-ERROR-STATUS */
        char prov_error[AA_HTTP_HDR_MAX]; /* X-PROVIDER-DOWNLOAD-ERROR */
        char prov_error_code[64];         /* X-PROVIDER-DOWNLOAD-ERROR-CODE */
        /* download: what the answer said it was, for fetch-error messages */
        char ctype[128];    /* Content-Type, "" if none */
        char location[256]; /* Location of a redirect, "" if none */
        int page;           /* a 2xx HTML answer kept in body (no_pages) */
        int size_refused;   /* stopped before the body: Content-Length != want_size */
        int oversize;       /* stopped: the body went past want_size */
};

void aa_http_resp_init(struct aa_http_resp *rs, size_t max);
void aa_http_resp_clear(struct aa_http_resp *rs);

/* TLS and timeouts come from opts; url_is_http allows plain http (a simulator). */
int aa_http_new(const struct aa_opts *opts, int url_is_http, struct aa_http **out, char *errstr,
                size_t errsz);
void aa_http_free(struct aa_http *h);

/* Secrets to mask in debug lines, besides form fields and JSON "token" values. */
void aa_http_set_secrets(struct aa_http *h, const char *const *secrets, size_t n);

/* Replace every registered secret in s (in place) by "***". */
void aa_http_mask(const struct aa_http *h, char *s);

/* Send one request. JB_OK when an HTTP answer arrived (any status: look at rs->status; a
 * download stopped because the answer is not the file also gives JB_OK, with page,
 * size_refused, oversize or toobig set);
 * JB_ETRANSIENT for connection trouble and timeouts (worth a retry), JB_EFATAL for TLS
 * verification failures and unusable options, JB_ELIMIT when the answer passed the ceiling,
 * rs->sink_rc when the sink stopped the download, JB_ENOMEM. */
int aa_http_do(struct aa_http *h, const struct aa_http_req *rq, struct aa_http_resp *rs, char *errstr,
               size_t errsz);

/* URL-encode n bytes (form fields, URL parts). Caller frees with free(); NULL: no memory. */
char *aa_http_escape(struct aa_http *h, const char *s, size_t n);

int aa_http_global_init(void);
void aa_http_global_cleanup(void);

#endif
