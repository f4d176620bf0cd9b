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
 *                  also a download that broke after its first byte reached the caller.
 *   JB_EFATAL      login refused (login_failed), HTTP 401/403, TLS verification failure,
 *                  bad options: stop and fix the configuration.
 *   JB_ENOTFOUND   the item, provider or bucket does not exist (not_found).
 *   JB_EINPUT      the server's answer could not be understood (not JSON, wrong shape),
 *                  or the server rejected the request (bad_request, other error codes).
 *   JB_ELIMIT      an answer larger than max_response_bytes.
 *   JB_ENOMEM      allocation failure.
 * Session tokens are obtained lazily on the first call that needs one; when the server
 * answers login_token_expired the client logs in again and repeats the call once.
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
#define AA_MAX_RESPONSE_BYTES (64u * 1024 * 1024) /* an RPC answer (JSON) */
#define AA_MAX_ERROR_BYTES (1024u * 1024)         /* a non-file answer to getFile */
#define AA_LIST_PAGE 1000                         /* getFolderContents count */
#define AA_CONNECT_TIMEOUT_MS_DEFAULT 10000
#define AA_TIMEOUT_MS_DEFAULT 120000
#define AA_LOW_SPEED_LIMIT_DEFAULT 1024 /* bytes/s ... */
#define AA_LOW_SPEED_TIME_DEFAULT 60    /* ... during this many seconds ends a download */
#define AA_MAX_RETRIES_DEFAULT 5
#define AA_BACKOFF_BASE_MS_DEFAULT 250
#define AA_BACKOFF_MAX_MS_DEFAULT 30000

/* Debug hook: one line (no newline) per event; secrets are already masked by the client
 * (form fields token/password/authtoken, JSON "token" values, registered secrets). */
typedef void (*aa_debug_fn)(void *opaque, const char *line);

struct aa_opts {
        const char *endpoint;      /* "https://fabric.example.com" (no /api/rpc.php) */
        const char *login;         /* with password, when authtoken is not set */
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
};

enum aa_type { AA_FILE = 0, AA_FOLDER = 1 };

struct aa_item {
        char *fi_id;       /* opaque id, never built by the client */
        char *fi_pid;      /* parent id ("" or "0" for the root) */
        char *name;
        enum aa_type type;
        int64_t size;      /* bytes (files) */
        time_t modified;   /* epoch seconds (UTC); 0 when unknown */
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

struct aa_lastsync {
        char *taskid;          /* "" when unknown */
        time_t started;        /* 0 when unknown */
        time_t completed;      /* 0 when not completed */
        int64_t files_indexed; /* -1 when unknown */
};

struct aa_provider {
        char *id;         /* pi_id */
        char *name;       /* pi_name, also the provider folder's name */
        char *fi_id;      /* provider folder */
        char *access_key; /* the key Access Anywhere itself uses on S3 */
        char *arn;        /* "" when not given */
        char *user_agent; /* "" when not given */
        struct aa_bucket *buckets;
        size_t nbuckets;
        struct aa_lastsync lastsync;
};

struct aa_task {
        char *id;
        char *type;
        char *title;
        char status;        /* 'c' complete, 'r' running, '?' other */
        time_t added;       /* 0 when unknown */
        time_t completed;   /* 0 when not completed */
        char *statusdata;   /* as sent (files indexed) */
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

/* Log in now (getTokenByAuthToken or loginUser), replacing any session token. */
int aa_login(struct aa_client *aa, char *errstr, size_t errsz) JB_MUST_CHECK;

int aa_appliance_info(struct aa_client *aa, struct aa_appliance *out, char *errstr,
                      size_t errsz) JB_MUST_CHECK;
void aa_appliance_clear(struct aa_appliance *ai);

/* path relative to pid ("" or "0": root), '/'-separated, no leading '/'. JB_ENOTFOUND when
 * it does not exist; else *out (optional) is filled, caller clears. */
int aa_check_path(struct aa_client *aa, const char *path, const char *pid,
                  struct aa_item *out, char *errstr, size_t errsz) JB_MUST_CHECK;

/* List a folder, page by page, calling cb once per item (folders first, then files).
 * refresh: ask the server to re-read the folder from the cloud first. cb returns 0 to go on,
 * >0 to stop (aa_list returns JB_OK), <0 to stop with that code. */
typedef int (*aa_item_fn)(void *opaque, const struct aa_item *it);
int aa_list(struct aa_client *aa, const char *fi_pid, int refresh, aa_item_fn cb,
            void *opaque, char *errstr, size_t errsz) JB_MUST_CHECK;
/* The same; *total_out (optional) is set to the folder's item count as soon as each page
 * arrives, before that page's callbacks run, so a callback can stop after the first page
 * when the count tells it nothing changed. */
int aa_list_ex(struct aa_client *aa, const char *fi_pid, int refresh, int64_t *total_out,
               aa_item_fn cb, void *opaque, char *errstr, size_t errsz) JB_MUST_CHECK;

int aa_mkdir(struct aa_client *aa, const char *fi_pid, const char *name, struct aa_item *out,
             char *errstr, size_t errsz) JB_MUST_CHECK;
/* Delete a file (doDeleteFile) or a folder with what it holds (doDeleteFolder). */
int aa_delete(struct aa_client *aa, const char *fi_id, char *errstr, size_t errsz) JB_MUST_CHECK;
int aa_rmdir(struct aa_client *aa, const char *fi_id, char *errstr, size_t errsz) JB_MUST_CHECK;

/* Stream a file: cb gets the bytes as they arrive and returns 0, or a jb_err to abort
 * (aa_download then returns it). Before the first byte reaches cb, failures are retried
 * here; after it, a failure returns JB_ETRANSIENT and the caller must start again. */
typedef int (*aa_write_fn)(void *opaque, const void *p, size_t n);
int aa_download(struct aa_client *aa, const char *fi_id, aa_write_fn cb, void *opaque,
                char *errstr, size_t errsz) JB_MUST_CHECK;

/* Upload len bytes as file name into folder fi_pid; *out (optional) gets the new item.
 * When the upload fails after doInitUpload, the client asks doAbortUpload (best effort). */
int aa_upload(struct aa_client *aa, const char *fi_pid, const char *name, const void *data,
              size_t len, struct aa_item *out, char *errstr, size_t errsz) JB_MUST_CHECK;

/* All providers of the user. Caller frees with aa_providers_free(*out, *n). */
int aa_providers(struct aa_client *aa, struct aa_provider **out, size_t *n, char *errstr,
                 size_t errsz) JB_MUST_CHECK;
void aa_providers_free(struct aa_provider *p, size_t n);

/* One background task; JB_ENOTFOUND when the server no longer lists it. */
int aa_task_get(struct aa_client *aa, const char *taskid, struct aa_task *out, char *errstr,
                size_t errsz) JB_MUST_CHECK;
void aa_task_clear(struct aa_task *t);

/* Ask the server to re-read one object (key) or a whole bucket (key NULL) from S3.
 * event: "put", "delete" or "bucket" (informational). out is optional. */
int aa_sync(struct aa_client *aa, const char *pi_id, const char *bucket, const char *key,
            const char *event, struct aa_sync_out *out, char *errstr, size_t errsz) JB_MUST_CHECK;

void aa_item_clear(struct aa_item *it);
int aa_item_copy(struct aa_item *dst, const struct aa_item *src) JB_MUST_CHECK; /* JB_ENOMEM */

/* Parse "YYYY-MM-DD HH:MM:SS" (UTC). 0 on success; "" and all-zero dates give *out = 0. */
int aa_time_parse(const char *s, time_t *out);

/* A debug hook that writes through log_msg(LL_DEBUG, "aa", ...) (log.c masks secrets). */
void aa_debug_to_log(void *opaque, const char *line);

#endif
