/*
 * aa.h - the Access Anywhere (File Fabric) client: the calls jibe makes, as written in
 * tests/sim/aasim/PROTOCOL.md, over one libcurl easy handle per client.
 *
 * Threads: a struct aa_client is NOT thread-safe and must not be shared between threads;
 * give each thread its own client (each has its own connection). aa_global_init() must run
 * once, before any thread starts (main.c does it through curl_global_init()).
 *
 * Errors: every call returns an enum jb_err and fills (errstr, errsz) on failure:
 *   JB_ETRANSIENT  network trouble, timeouts, HTTP 429/5xx, error_background, after the
 *                  client's own retries (max_retries, exponential backoff with full jitter,
 *                  never shorter than a Retry-After, both capped by backoff_max_ms);
 *                  also a download that broke after its first byte reached the caller,
 *                  a getFile answer that is not the file (aa_download_ex), and an RPC
 *                  answer that is not the API's JSON at all (an HTML page, empty, not
 *                  an object, no status: a maintenance page or a proxy).
 *   JB_EFATAL      login refused (login_failed), HTTP 401/403, TLS verification failure,
 *                  bad options: stop and fix the configuration.
 *   JB_ENOTFOUND   the item, provider or bucket does not exist (not_found, trashed).
 *   JB_ENOTSUP     the server does not know the call (unknown_function).
 *   JB_EINPUT      the server's answer could not be understood (a JSON answer of the wrong
 *                  shape), or the server rejected the request (bad_request, other codes).
 *   JB_ELIMIT      an answer over the call's ceiling (AA_ANSWER_*), still so after the
 *                  client's retries: a fault of the server (or of a proxy before it); callers
 *                  treat it as transient (the scanner warns and scans again later).
 *   JB_ENOMEM      allocation failure.
 * Session tokens are obtained lazily on the first call that needs one (getToken with a login
 * and password, getTokenByAuthToken with a permanent token), renewed before they are
 * AA_TOKEN_RENEW_S old (a session dies about an hour after its last use), and when the
 * server answers login_token_expired the client logs in again and repeats the call once.
 * Lists that hold one element may arrive as that element; numbers may arrive as strings:
 * both are accepted everywhere.
 * No errstr ever contains the password, the permanent token or the session token.
 *
 * Ownership: the client copies every string of struct aa_opts; the opts need not outlive it.
 * Structures filled by a call (struct aa_item, aa_appliance, aa_task, aa_provider arrays)
 * belong to the caller and are released with their _clear()/_free() function, which accept
 * NULL and already-cleared structures. Items passed to an aa_list() callback are borrowed:
 * valid only during the callback (copy with aa_item_copy() to keep one).
 */
#ifndef AA_H
#define AA_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "jb.h"

/* Ceilings and defaults of this module. */
#define AA_MAX_RESPONSE_BYTES (64u * 1024 * 1024) /* an RPC answer (JSON), whatever the call */
/* Each call's answer has its own ceiling, set when the call is made (never above
 * max_response_bytes): a listing page of N items (getFolderContents count, background tasks
 * limit) AA_ANSWER_BASE_BYTES + N x AA_ANSWER_ITEM_BYTES, any other call
 * AA_ANSWER_SMALL_BYTES. It is enforced while the answer arrives (the transfer stops once
 * past it) and on the parsed tree: at most one JSON value per AA_ANSWER_BYTES_PER_VALUE
 * bytes of the ceiling, counted before parsing. Downloads stream and are not bounded so. */
#define AA_ANSWER_SMALL_BYTES (1024u * 1024)
#define AA_ANSWER_BASE_BYTES (64u * 1024)
#define AA_ANSWER_ITEM_BYTES 4096u
#define AA_ANSWER_BYTES_PER_VALUE 16u
#define AA_MAX_ERROR_BYTES (1024u * 1024) /* a non-file answer to getFile */
#define AA_LIST_PAGE 1000                 /* getFolderContents count */
#define AA_CONNECT_TIMEOUT_MS_DEFAULT 10000
#define AA_TIMEOUT_MS_DEFAULT 120000
#define AA_LOW_SPEED_LIMIT_DEFAULT 1024 /* bytes/s ... */
#define AA_LOW_SPEED_TIME_DEFAULT 60    /* ... during this many seconds ends a download */
#define AA_MAX_RETRIES_DEFAULT 5
#define AA_BACKOFF_BASE_MS_DEFAULT 250
#define AA_BACKOFF_MAX_MS_DEFAULT 30000
#define AA_TOKEN_RENEW_S 3300                /* log in again after 55 min (as rclone) */
#define AA_REFRESH_TIMEOUT_MS_DEFAULT 300000 /* one cloud refresh, start to done */
#define AA_REFRESH_POLL_MS_DEFAULT 250       /* first pause between refresh polls ... */
#define AA_REFRESH_POLL_MAX_MS 2000          /* ... doubling up to this */

/* Debug hook: one line (no newline) per event; secrets are already masked by the client
 * (form fields token/password/authtoken, JSON "token" values, registered secrets). */
typedef void (*aa_debug_fn)(void *opaque, const char *line);

struct aa_opts {
        const char *endpoint; /* "https://fabric.example.com" (no /api/rpc.php) */
        const char *login;    /* with password, when authtoken is not set */
        const char *password;
        const char *authtoken;     /* permanent token: preferred when set */
        const char *ca_file;       /* optional PEM bundle for TLS verification */
        int insecure;              /* 1: do not verify TLS (only when explicitly asked; the
                                      caller should warn at every start) */
        long connect_timeout_ms;   /* 0: default */
        long timeout_ms;           /* total time of one RPC attempt; 0: default */
        long low_speed_limit;      /* downloads: bytes/s ...; 0: default */
        long low_speed_time;       /* ... under which during this many s aborts; 0: default */
        int max_retries;           /* retries after the first attempt (0: none) */
        long backoff_base_ms;      /* 0: default */
        long backoff_max_ms;       /* 0: default */
        size_t max_response_bytes; /* 0: AA_MAX_RESPONSE_BYTES */
        long refresh_timeout_ms;   /* aa_refresh(): give up after this; 0: default */
        long refresh_poll_ms;      /* aa_refresh(): first pause between polls; 0: default */
        long token_renew_s;        /* log in again once the session is this old; 0: default */
        const char *user_agent;    /* NULL: "jibe/<version>" */
        aa_debug_fn debug;         /* optional; aa_debug_to_log sends lines to log.c */
        void *debug_opaque;
};

/* Counters since aa_client_new(), for logs and benchmarks. */
struct aa_counters {
        uint64_t calls;      /* public calls made (aa_list counts once, whatever the pages) */
        uint64_t requests;   /* HTTP requests sent, retries and logins included */
        uint64_t retries;    /* attempts repeated after a transient failure */
        uint64_t relogins;   /* logins after login_token_expired */
        uint64_t logins;     /* all successful logins */
        uint64_t bytes_down; /* file bytes handed to download callbacks */
        uint64_t bytes_up;   /* file bytes uploaded */
        uint64_t refreshes;  /* cloud refreshes started (a token was given) */
        uint64_t refresh_polls;
};

enum aa_type { AA_FILE = 0, AA_FOLDER = 1 };

struct aa_item {
        char *fi_id;  /* opaque id, never built by the client */
        char *fi_pid; /* parent id ("" or "0" for the root) */
        char *name;
        enum aa_type type;
        int64_t size;    /* bytes (files) */
        time_t modified; /* epoch seconds (UTC); 0 when unknown */
        char *provider;  /* fi_provider: the provider id, "" when not sent */
        int is_bucket;   /* isbucket: 1 yes, 0 no, -1 not sent */
};

struct aa_appliance {
        char *sitetitle;
        char *version;       /* softwareversion */
        char *version_label; /* softwareversionlabel, e.g. "2106.01" */
        int is_appliance;
};

struct aa_bucket {
        char *name;
        char *fi_id; /* the bucket's folder */
};

/* A provider as the listings show it: a folder of the root, its buckets the folders in it. */
struct aa_provider {
        char *id;    /* fi_provider of its folder, or the folder's name when not sent */
        char *name;  /* the provider folder's name */
        char *fi_id; /* the provider folder */
        struct aa_bucket *buckets;
        size_t nbuckets;
};

/* A provider's last full sync (its latest completed ReSync/InitialSync background task). */
struct aa_lastsync {
        char *taskid;          /* "" when unknown */
        time_t started;        /* bt_added; 0 when unknown */
        time_t completed;      /* bt_completed; 0 when unknown */
        int64_t files_indexed; /* bt_statusdata; -1 when unknown */
};

enum aa_task_status {
        AA_TASK_UNKNOWN = 0,
        AA_TASK_QUEUED,  /* a */
        AA_TASK_RUNNING, /* w (r in older answers) */
        AA_TASK_PAUSED,  /* p */
        AA_TASK_DONE,    /* completed, c */
        AA_TASK_FAILED,  /* error, canceled, cancelled */
};

struct aa_task {
        char *id;       /* bt_id */
        char *type;     /* bt_type: sync, email, custom */
        char *title;    /* bt_title */
        char *callback; /* callback or bt_data.callback: ReSync, InitialSync, FolderRefresh ... */
        char *provider; /* bt_data.pi_id or pi_id (not public); "" when not sent */
        enum aa_task_status status;
        time_t added;     /* 0 when unknown */
        time_t completed; /* 0 when not completed */
        int64_t files;    /* bt_statusdata as a number; -1 when not a number */
};

enum aa_sync_result { AA_SYNC_UPDATED, AA_SYNC_REMOVED, AA_SYNC_UNCHANGED, AA_SYNC_BUCKET };

struct aa_sync_out {
        enum aa_sync_result result;
        int64_t synced; /* objects examined; -1 when not sent */
};

struct aa_client;

/* Process-wide libcurl setup, once before threads (main.c may call curl directly instead). */
int aa_global_init(void);
void aa_global_cleanup(void);

/* Fill opts with the defaults (endpoint and credentials NULL). */
void aa_opts_init(struct aa_opts *opts);

/* New client: copies opts, registers password/authtoken with log_add_secret(). Logs in
 * only when a call needs it. Caller frees with aa_client_free(). JB_EFATAL on bad opts. */
int aa_client_new(const struct aa_opts *opts, struct aa_client **out, char *errstr,
                  size_t errsz) JB_MUST_CHECK;
void aa_client_free(struct aa_client *aa);
void aa_counters_get(const struct aa_client *aa, struct aa_counters *out);
/* The Retry-After (seconds, at most 3600) of the last answer the client received, 0 when it
 * sent none: a caller that retries a JB_ETRANSIENT itself waits at least this long. */
long aa_retry_after_s(const struct aa_client *aa);

/* Log in now (getTokenByAuthToken or getToken), replacing any session token. */
int aa_login(struct aa_client *aa, char *errstr, size_t errsz) JB_MUST_CHECK;

int aa_appliance_info(struct aa_client *aa, struct aa_appliance *out, char *errstr,
                      size_t errsz) JB_MUST_CHECK;
void aa_appliance_clear(struct aa_appliance *ai);

/* path relative to pid ("" or "0": root), '/'-separated, no leading '/'. JB_ENOTFOUND when
 * it does not exist; else *out (optional) is filled, caller clears. */
int aa_check_path(struct aa_client *aa, const char *path, const char *pid, struct aa_item *out,
                  char *errstr, size_t errsz) JB_MUST_CHECK;

/* List a folder, page by page, calling cb once per item (folders first, then files).
 * refresh: first aa_refresh() the folder (and wait for it), then list. cb returns 0 to go on,
 * >0 to stop (aa_list returns JB_OK), <0 to stop with that code. */
typedef int (*aa_item_fn)(void *opaque, const struct aa_item *it);
int aa_list(struct aa_client *aa, const char *fi_pid, int refresh, aa_item_fn cb, void *opaque,
            char *errstr, size_t errsz) JB_MUST_CHECK;
/* The same; *total_out (optional) is set to the folder's item count as soon as each page
 * arrives, before that page's callbacks run, so a callback can stop after the first page
 * when the count tells it nothing changed. */
int aa_list_ex(struct aa_client *aa, const char *fi_pid, int refresh, int64_t *total_out, aa_item_fn cb,
               void *opaque, char *errstr, size_t errsz) JB_MUST_CHECK;

int aa_mkdir(struct aa_client *aa, const char *fi_pid, const char *name, struct aa_item *out,
             char *errstr, size_t errsz) JB_MUST_CHECK;
/* Delete a file (doDeleteFile) or a folder with what it holds (doDeleteFolder). */
int aa_delete(struct aa_client *aa, const char *fi_id, char *errstr, size_t errsz) JB_MUST_CHECK;
int aa_rmdir(struct aa_client *aa, const char *fi_id, char *errstr, size_t errsz) JB_MUST_CHECK;

/* Stream a file: cb gets the bytes as they arrive and returns 0, or a jb_err to abort
 * (aa_download then returns it). Before the first byte reaches cb, failures are retried
 * here; after it, a failure returns JB_ETRANSIENT and the caller must start again. */
typedef int (*aa_write_fn)(void *opaque, const void *p, size_t n);
int aa_download(struct aa_client *aa, const char *fi_id, aa_write_fn cb, void *opaque, char *errstr,
                size_t errsz) JB_MUST_CHECK;

/* What an answer to getFile must be to count as the file. */
struct aa_dl_want {
        int64_t size; /* bytes the file is listed with (fi_size); -1: unknown */
        int no_pages; /* 1: a 2xx HTML answer (text/html, xhtml) is a page, never the file */
};
/*
 * aa_download() with expectations (want may be NULL: none). JB_OK only when the answer was
 * the whole file: HTTP 2xx, no download-error header, not a page (no_pages), and as many
 * bytes as Content-Length (when sent) and want->size (when >= 0) say; an answer announcing
 * another size is refused before its body, one going past want->size is stopped there.
 * Anything else (a redirect, an HTML page, an error page or JSON that is not the API's, a
 * body too short or too long) is JB_ETRANSIENT with a message naming the status, the
 * content type and the byte counts: a fetch error, never a verdict on the file. So bytes
 * handed to cb are the file's only once JB_OK is returned; JB_ENOTFOUND comes only from the
 * API's own not_found/trashed answer.
 */
int aa_download_ex(struct aa_client *aa, const char *fi_id, const struct aa_dl_want *want,
                   aa_write_fn cb, void *opaque, char *errstr, size_t errsz) JB_MUST_CHECK;

/* Upload len bytes as file name into folder fi_pid; *out (optional) gets the new item.
 * When the upload fails after doInitUpload, the client asks doAbortUpload (best effort). */
int aa_upload(struct aa_client *aa, const char *fi_pid, const char *name, const void *data, size_t len,
              struct aa_item *out, char *errstr, size_t errsz) JB_MUST_CHECK;

/*
 * Cloud refresh of one folder's direct children (asynchronous on the server):
 * aa_refresh_start() asks for it; *token (caller frees) is the refresh token, or NULL when
 * the server started nothing (the folder was refreshed recently: its listing is as fresh
 * as the server will make it). aa_refresh_poll() sets *running while the refresh goes on.
 * aa_refresh() does both, polling with growing pauses, and returns once the refresh is done
 * (JB_OK), or JB_ETRANSIENT when it did not finish within refresh_timeout_ms. A listing made
 * after JB_OK shows the refreshed folder.
 */
int aa_refresh_start(struct aa_client *aa, const char *fi_id, char **token, char *errstr,
                     size_t errsz) JB_MUST_CHECK;
int aa_refresh_poll(struct aa_client *aa, const char *fi_id, const char *token, int *running,
                    char *errstr, size_t errsz) JB_MUST_CHECK;
int aa_refresh(struct aa_client *aa, const char *fi_id, char *errstr, size_t errsz) JB_MUST_CHECK;
/* The pause before poll number `poll` (0-based) of a refresh, in ms. */
long aa_refresh_pause_ms(const struct aa_client *aa, int poll);
long aa_refresh_timeout_ms(const struct aa_client *aa);

/* The providers and their buckets, from the listings: the root's folders are providers (id
 * from fi_provider, else the name), a provider folder's folders are buckets (isbucket when
 * sent, else every folder). Caller frees with aa_providers_free(*out, *n). */
int aa_providers(struct aa_client *aa, struct aa_provider **out, size_t *n, char *errstr,
                 size_t errsz) JB_MUST_CHECK;
void aa_providers_free(struct aa_provider *p, size_t n);

/* One background task (rclone's form: taskid); JB_ENOTFOUND when it is no longer listed
 * (the server forgets finished tasks). */
int aa_task_get(struct aa_client *aa, const char *taskid, struct aa_task *out, char *errstr,
                size_t errsz) JB_MUST_CHECK;
void aa_task_clear(struct aa_task *t);
/* Background tasks by filter (the Python client's form): typefilter "sync", "email",
 * "custom" or NULL; statusfilter e.g. "a,w,p" or NULL; at most limit (0: 1000). cb gets
 * borrowed tasks; returns 0 to go on, >0 to stop, <0 to stop with that code. */
typedef int (*aa_task_fn)(void *opaque, const struct aa_task *t);
int aa_tasks(struct aa_client *aa, const char *typefilter, const char *statusfilter, int limit,
             aa_task_fn cb, void *opaque, char *errstr, size_t errsz) JB_MUST_CHECK;
/* p's last full sync: the completed sync task with callback ReSync or InitialSync added last
 * whose provider is p (bt_data.pi_id, else p's name in the title). JB_ENOTFOUND: none. */
int aa_last_sync(struct aa_client *aa, const struct aa_provider *p, struct aa_lastsync *out,
                 char *errstr, size_t errsz) JB_MUST_CHECK;
void aa_lastsync_clear(struct aa_lastsync *ls);

/* syncOnProviderEvent (not public: fields are jibe's guess, kept here only): ask the server
 * to re-read one object (key) or a whole bucket (key NULL) from S3. event: "put", "delete"
 * or "bucket" (informational). out is optional. JB_ENOTSUP when the server does not know
 * the call: use the folder refresh instead. */
int aa_sync(struct aa_client *aa, const char *pi_id, const char *bucket, const char *key,
            const char *event, struct aa_sync_out *out, char *errstr, size_t errsz) JB_MUST_CHECK;

void aa_item_clear(struct aa_item *it);
int aa_item_copy(struct aa_item *dst, const struct aa_item *src) JB_MUST_CHECK; /* JB_ENOMEM */

/* Parse "YYYY-MM-DD HH:MM:SS" (UTC). 0 on success; "" and all-zero dates give *out = 0. */
int aa_time_parse(const char *s, time_t *out);

/* Fuzzing only: read an answer body (HTTP status http) as aa_rpc() does in mode 0 RPC,
 * 1 login, 2 download (listed with n bytes), 3 uploader, then parse it as folder page, tasks
 * and sync result. Returns JB_OK, a jb_err code or an attempt's outcome (1 retry, 2 expired,
 * 3 not the file). */
int aa_answer_probe(const void *body, size_t n, long http, int mode);

/* A debug hook that writes through log_msg(LL_DEBUG, "aa", ...) (log.c masks secrets). */
void aa_debug_to_log(void *opaque, const char *line);

#endif
