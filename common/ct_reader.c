/*
 * ct_reader.c - stream CloudTrail log files (gzip JSON) into single records.
 *
 * Owns: the inflate state (ct_inflate.h: ISA-L or zlib, chosen at build time; gzip members
 * read one after another, as gunzip does), the decompressed-size and record-size ceilings,
 * a validating JSON scanner, and splitting {"Records":[...]} into one element at a time.
 * Does not: decide whether a record matters (ct_classify.c) or fetch files (aa.c).
 *
 * How it works: inflate writes into a window buffer CT_INFLATE_CHUNK bytes at a time; a
 * resumable pushdown scanner walks the new bytes once, checking JSON syntax and UTF-8,
 * noting where each element of Records starts and ends and where the fields the classifier
 * needs sit (struct ct_hint: keys of the record, and of its userIdentity and
 * requestParameters objects). Once an element is complete it is handed to the
 * callback in place. Bytes before the current element are dropped when the window is
 * refilled, so memory is bounded by the window plus the largest record.
 * Two cores: once a file has fed thread_min compressed bytes (CT_THREAD_MIN_DEFAULT, counted
 * before the feed call, so a file under it never starts a thread), the inflate state moves
 * to a thread (pipe_main) that inflates each feed's bytes into a ring of CT_RING_SLOTS
 * buffers; the feeding thread copies each filled buffer into the window and scans it, and
 * returns from the feed once the thread is done with the caller's bytes. Inflate steps are
 * one CT_INFLATE_CHUNK on both paths (infl_step), so the faults of a file come in the same
 * order with the same words; a fault travels in the ring after the bytes before it. Any
 * fault, finish, reset and free join the thread (pipe_stop).
 * Ownership: see ct.h; everything here belongs to the reader.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct.h"
#include "ct_inflate.h"
#include "sha256.h"

/* The inflate side: the inflate thread's while it runs, else the feeding thread's. */
struct infl {
        struct ct_inflate *inf;
        int member_done;     /* the last gzip member ended cleanly */
        int members;         /* gzip members started */
        uint64_t member_out; /* bytes the current member produced */
        uint64_t in, out;    /* compressed bytes taken, decompressed bytes made */
        int hashing;         /* ct_reader_set_hash(): sha covers every byte made */
        struct sha256_ctx sha;
};

/* The two-core path: a bounded ring of inflated buffers between the threads. Slots
 * tail..head-1 (mod CT_RING_SLOTS) are filled and the scanner's; the others the inflater's.
 * One job (the caller's bytes of one feed) at a time; the inflater is done with its bytes
 * once done_seq == job_seq. Everything below mu is guarded by it. */
struct pipe {
        pthread_t tid;
        int running;    /* a thread exists (owned by the feeding thread) */
        int sync_ready; /* mu and the conds are initialised */
        uint8_t *buf[CT_RING_SLOTS];
        pthread_mutex_t mu;
        pthread_cond_t to_scan, to_inflate;
        size_t got[CT_RING_SLOTS];  /* bytes in each filled slot */
        int slot_rc[CT_RING_SLOTS]; /* a fault after the bytes before it: msg says why */
        unsigned head, tail;        /* head - tail filled slots */
        const uint8_t *job;
        size_t job_len;
        uint64_t job_seq, done_seq;
        int busy; /* inside a job (it may still drain output after done_seq) */
        int stop;
        char msg[256];
};

enum scan_state {
        S_VALUE = 0,      /* a value must come */
        S_VALUE_OR_CLOSE, /* just after '[': a value or ']' */
        S_KEY_OR_CLOSE,   /* just after '{': a key or '}' */
        S_KEY,            /* after ',' in an object: a key */
        S_COLON,
        S_AFTER, /* after a value: ',' or a closing bracket */
        S_STRING,
        S_ESCAPE,
        S_UHEX,
        S_UTF8, /* inside a multi-byte UTF-8 sequence in a string */
        S_NUMBER,
        S_LITERAL,
        S_DONE, /* the document is complete: only whitespace may follow */
};

enum num_state { N_MINUS, N_ZERO, N_INT, N_DOT, N_FRAC, N_E, N_ESIGN, N_EXP };

enum top_state { T_BEFORE = 0, T_IN_RECORDS, T_AFTER };

struct ct_reader {
        struct ct_limits lim;
        ct_record_fn fn;
        void *opaque;

        struct infl fl;
        struct pipe pp;
        uint64_t thread_min; /* ct_reader_set_thread_min() */
        int err;             /* sticky error, JB_OK while healthy */
        int hash_ready;      /* finish() succeeded with hashing on: digest holds the SHA-256 */
        int draining;        /* the content failed (JB_EINPUT, JB_ELIMIT) with hashing on: the
                              * rest of the gzip stream is inflated for the hash only */
        uint8_t digest[SHA256_LEN];

        char *win;            /* window of decompressed bytes */
        size_t cap, len, pos; /* capacity, bytes valid, bytes scanned */
        uint64_t base;        /* stream offset of win[0] */
        uint64_t in_total, out_total, nrec;

        /* scanner */
        uint8_t state, ret_state; /* ret_state: where S_STRING/S_LITERAL go back to */
        uint8_t num;
        uint8_t str_is_key;
        uint8_t str_esc;
        uint8_t uhex_left;
        uint16_t uhex_val; /* the \u escape's code unit so far */
        uint8_t want_low;  /* a high surrogate was just read: a low one must follow */
        uint8_t utf8_need, utf8_lo, utf8_hi;
        const char *lit;
        uint8_t lit_i;
        uint8_t stack[CT_MAX_DEPTH]; /* '{' or '[' */
        int depth;
        uint8_t top;            /* enum top_state */
        uint8_t key_is_records; /* the top-level key just read was "Records" */
        uint8_t saw_digest_key;
        uint64_t str_start; /* stream offset of the first char inside the quotes */
        int64_t rec_start;  /* stream offset of the current record, -1 if none */
        int pending_field;  /* record-level key just read: a hint field, or -1 */
        int value_field;    /* the string value being read is this hint field, or -1 */
        int sub_obj;        /* in the record's first userIdentity or requestParameters object
                             * (CT_F_USER_IDENTITY, CT_F_REQUEST_PARAMETERS), or -1 */
        struct ct_hint hint;
};

/* The keys the scan notes (enum ct_hint_field order). */
/* clang-format off */
#define HK(s) {s, sizeof(s) - 1}
/* clang-format on */
static const struct {
        const char *name;
        size_t len;
} hint_keys[CT_F_COUNT] = {
        HK("eventSource"),   HK("eventName"), HK("errorCode"),    HK("eventType"),
        HK("eventCategory"), HK("eventTime"), HK("eventID"),      HK("recipientAccountId"),
        HK("awsRegion"),     HK("userAgent"), HK("userIdentity"), HK("requestParameters"),
        HK("accessKeyId"),   HK("arn"),       HK("bucketName"),   HK("key"),
};
#undef HK

/* Character classes inside strings: 0 plain, 1 quote, 2 backslash, 3 control, 4 high. */
static uint8_t str_class[256];
static int str_class_ready;

static void str_class_init(void)
{
        int c;

        if (str_class_ready)
                return;
        for (c = 0; c < 256; c++)
                str_class[c] = c < 0x20 ? 3 : c >= 0x80 ? 4 : 0;
        str_class['"'] = 1;
        str_class['\\'] = 2;
        str_class_ready = 1;
}

struct ct_reader *ct_reader_new(const struct ct_limits *lim, ct_record_fn fn, void *opaque)
{
        struct ct_reader *rdr = calloc(1, sizeof(*rdr));

        if (!rdr)
                return NULL;
        str_class_init();
        if (lim)
                rdr->lim = *lim;
        if (!rdr->lim.max_decompressed)
                rdr->lim.max_decompressed = CT_MAX_DECOMPRESSED_DEFAULT;
        if (!rdr->lim.max_record)
                rdr->lim.max_record = CT_MAX_RECORD_DEFAULT;
        rdr->fn = fn;
        rdr->opaque = opaque;
        rdr->cap = CT_INFLATE_CHUNK * 2;
        rdr->win = malloc(rdr->cap + 1);
        rdr->fl.inf = ct_inflate_new();
        rdr->thread_min = CT_THREAD_MIN_DEFAULT;
        if (!rdr->win || !rdr->fl.inf) {
                ct_inflate_free(rdr->fl.inf);
                free(rdr->win);
                free(rdr);
                return NULL;
        }
        ct_reader_reset(rdr);
        return rdr;
}

static void pipe_stop(struct ct_reader *rdr);

void ct_reader_free(struct ct_reader *rdr)
{
        int i;

        if (!rdr)
                return;
        pipe_stop(rdr);
        if (rdr->pp.sync_ready) {
                pthread_mutex_destroy(&rdr->pp.mu);
                pthread_cond_destroy(&rdr->pp.to_scan);
                pthread_cond_destroy(&rdr->pp.to_inflate);
        }
        for (i = 0; i < CT_RING_SLOTS; i++)
                free(rdr->pp.buf[i]);
        ct_inflate_free(rdr->fl.inf);
        free(rdr->win);
        free(rdr);
}

void ct_reader_set_thread_min(struct ct_reader *rdr, uint64_t bytes)
{
        rdr->thread_min = bytes;
}

void ct_reader_set_hash(struct ct_reader *rdr, int on)
{
        rdr->fl.hashing = on != 0;
}

int ct_reader_sha256(const struct ct_reader *rdr, uint8_t out[32])
{
        if (!rdr->hash_ready)
                return -1;
        memcpy(out, rdr->digest, SHA256_LEN);
        return 0;
}

void ct_reader_reset(struct ct_reader *rdr)
{
        pipe_stop(rdr);
        ct_inflate_reset(rdr->fl.inf);
        rdr->fl.member_done = 0;
        rdr->fl.members = 0;
        rdr->fl.member_out = 0;
        rdr->fl.in = rdr->fl.out = 0;
        sha256_init(&rdr->fl.sha);
        rdr->hash_ready = 0;
        rdr->draining = 0;
        rdr->err = JB_OK;
        rdr->len = rdr->pos = 0;
        rdr->base = rdr->in_total = rdr->out_total = rdr->nrec = 0;
        rdr->state = S_VALUE;
        rdr->depth = 0;
        rdr->top = T_BEFORE;
        rdr->key_is_records = 0;
        rdr->saw_digest_key = 0;
        rdr->rec_start = -1;
        rdr->pending_field = -1;
        rdr->value_field = -1;
        rdr->sub_obj = -1;
}

uint64_t ct_reader_bytes_in(const struct ct_reader *rdr)
{
        return rdr->in_total;
}

uint64_t ct_reader_bytes_out(const struct ct_reader *rdr)
{
        return rdr->out_total;
}

uint64_t ct_reader_records(const struct ct_reader *rdr)
{
        return rdr->nrec;
}

const char *ct_reader_inflate_library(void)
{
        return ct_inflate_library();
}

static int fail(struct ct_reader *rdr, int rc, char *errstr, size_t errsz, const char *fmt, ...)
        JB_PRINTF(5, 6);

static int fail(struct ct_reader *rdr, int rc, char *errstr, size_t errsz, const char *fmt, ...)
{
        va_list ap;

        if (errstr && errsz) {
                va_start(ap, fmt);
                vsnprintf(errstr, errsz, fmt, ap);
                va_end(ap);
        }
        rdr->err = rc;
        return rc;
}

static int bad_json(struct ct_reader *rdr, uint64_t at, unsigned char c, const char *what, char *errstr,
                    size_t errsz)
{
        char shown[8];

        if (c >= 0x21 && c < 0x7f)
                snprintf(shown, sizeof(shown), "'%c'", c);
        else
                snprintf(shown, sizeof(shown), "0x%02x", c);
        return fail(rdr, JB_EINPUT, errstr, errsz,
                    "not valid JSON at byte %llu (after %llu records): %s %s; the file is damaged "
                    "or not a CloudTrail log",
                    (unsigned long long)at, (unsigned long long)rdr->nrec, what, shown);
}

/* A value starts at stream offset at with character c, at the current depth. */
static int value_begin(struct ct_reader *rdr, uint64_t at, unsigned char c, char *errstr, size_t errsz)
{
        int d = rdr->depth;

        if (d == 0 && c != '{')
                return fail(rdr, JB_EINPUT, errstr, errsz,
                            "not a CloudTrail log: the document is not a JSON object "
                            "{\"Records\":[...]}");
        if (d == 1 && rdr->key_is_records) {
                if (c != '[')
                        return fail(rdr, JB_EINPUT, errstr, errsz,
                                    "not a CloudTrail log: \"Records\" is not an array");
                rdr->top = T_IN_RECORDS;
        } else if (d == 2 && rdr->top == T_IN_RECORDS) {
                rdr->rec_start = (int64_t)at;
                memset(&rdr->hint, 0, sizeof(rdr->hint));
                rdr->hint.is_object = (c == '{');
                rdr->sub_obj = -1;
        } else if ((d == 3 || d == 4) && rdr->rec_start >= 0 && rdr->pending_field >= 0) {
                struct ct_span *sp = &rdr->hint.f[rdr->pending_field];

                if (c == '{' && (rdr->pending_field == CT_F_USER_IDENTITY ||
                                 rdr->pending_field == CT_F_REQUEST_PARAMETERS))
                        rdr->sub_obj = rdr->pending_field;

                sp->off = (uint32_t)(at - (uint64_t)rdr->rec_start);
                if (c == '"') {
                        sp->kind = CT_SPAN_STRING;
                        sp->off++;
                        rdr->value_field = rdr->pending_field;
                } else {
                        sp->kind = c == 'n' ? CT_SPAN_NULL : CT_SPAN_OTHER;
                }
        }
        rdr->pending_field = -1;
        return JB_OK;
}

/* A value ended just before stream offset end; depth is where the value lives. */
static int value_end(struct ct_reader *rdr, uint64_t end, char *errstr, size_t errsz)
{
        int d = rdr->depth;
        size_t off, n;
        int rc;

        if (d == 2 && rdr->top == T_IN_RECORDS && rdr->rec_start >= 0) {
                n = (size_t)(end - (uint64_t)rdr->rec_start);
                if (n > rdr->lim.max_record)
                        return fail(rdr, JB_ELIMIT, errstr, errsz,
                                    "record %llu is %zu bytes, over the limit of %zu bytes",
                                    (unsigned long long)rdr->nrec, n, rdr->lim.max_record);
                off = (size_t)((uint64_t)rdr->rec_start - rdr->base);
                {
                        char saved = rdr->win[off + n];

                        rdr->win[off + n] = '\0';
                        rc = rdr->fn(rdr->opaque, rdr->win + off, n, &rdr->hint, rdr->nrec);
                        rdr->win[off + n] = saved;
                }
                rdr->nrec++;
                rdr->rec_start = -1;
                if (rc) {
                        rdr->err = rc;
                        return rc;
                }
        } else if (d == 0) {
                rdr->state = S_DONE;
                if (rdr->top == T_BEFORE) {
                        if (rdr->saw_digest_key)
                                return fail(rdr, JB_EINPUT, errstr, errsz,
                                            "this is a CloudTrail digest file, not an event log");
                        return fail(rdr, JB_EINPUT, errstr, errsz,
                                    "not a CloudTrail event log: the JSON object has no "
                                    "\"Records\" array");
                }
        }
        return JB_OK;
}

/* A \u0000 or a lone surrogate: a record holding one is malformed (ct_hint.bad_string). */
static void bad_escape(struct ct_reader *rdr)
{
        rdr->want_low = 0;
        if (rdr->rec_start >= 0)
                rdr->hint.bad_string = 1;
}

/* One \uXXXX escape was read: check it against what came before (UTF-16 pairs). */
static void uhex_end(struct ct_reader *rdr)
{
        unsigned v = rdr->uhex_val;
        int low = v >= 0xdc00 && v <= 0xdfff;

        if (rdr->want_low) {
                rdr->want_low = 0;
                if (!low)
                        bad_escape(rdr);
                return;
        }
        if (v >= 0xd800 && v <= 0xdbff)
                rdr->want_low = 1;
        else if (low || v == 0)
                bad_escape(rdr);
}

/* Key s (n bytes, no escapes) names hint field from..to-1 not seen yet: its value is next. */
static void match_key(struct ct_reader *rdr, const char *s, size_t n, int from, int to)
{
        int i;

        for (i = from; i < to; i++) {
                if (hint_keys[i].len == n && !memcmp(s, hint_keys[i].name, n)) {
                        if (rdr->hint.f[i].kind == CT_SPAN_ABSENT)
                                rdr->pending_field = i;
                        return;
                }
        }
}

/* A string ended at stream offset end (the closing quote). */
static void string_end(struct ct_reader *rdr, uint64_t end)
{
        size_t n = (size_t)(end - rdr->str_start);
        const char *s = NULL;

        /* Only keys the reader looks at are kept in the window (make_room); the text of any
         * other string may already be gone, and no pointer is formed to it. */
        if (rdr->str_is_key && rdr->str_start >= rdr->base)
                s = rdr->win + (size_t)(rdr->str_start - rdr->base);
        if (rdr->want_low)
                bad_escape(rdr); /* a high surrogate ends the string */
        if (s && rdr->str_is_key) {
                if (rdr->depth == 1) {
                        rdr->key_is_records = (n == 7 && !memcmp(s, "Records", 7));
                        if (n >= 6 && !memcmp(s, "digest", 6))
                                rdr->saw_digest_key = 1;
                } else if (rdr->depth == 3 && rdr->rec_start >= 0) {
                        rdr->pending_field = -1;
                        if (rdr->str_esc) {
                                /* A key written with escapes could spell a field we
                                 * look at: the classifier must parse this record. */
                                rdr->hint.must_parse = 1;
                        } else {
                                match_key(rdr, s, n, 0, CT_F_RECORD_KEYS);
                        }
                } else if (rdr->depth == 4 && rdr->sub_obj >= 0 && rdr->rec_start >= 0) {
                        rdr->pending_field = -1;
                        if (rdr->str_esc)
                                rdr->hint.must_parse = 1;
                        else if (rdr->sub_obj == CT_F_USER_IDENTITY)
                                match_key(rdr, s, n, CT_F_ACCESS_KEY, CT_F_ARN + 1);
                        else
                                match_key(rdr, s, n, CT_F_BUCKET, CT_F_KEY + 1);
                }
        } else if (rdr->value_field >= 0) {
                struct ct_span *sp = &rdr->hint.f[rdr->value_field];

                sp->len = (uint32_t)n;
                sp->escaped = rdr->str_esc;
                rdr->value_field = -1;
        }
}

static inline int is_ws(unsigned char c)
{
        return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/*
 * Where the run of plain string bytes starting at p[i] ends: the first '"', '\\', control or
 * high byte, or n. Eight bytes at a time: each word test flags every such byte and, a borrow
 * running only upwards, nothing below the first, so on a little-endian machine the lowest
 * flag is the byte (elsewhere the byte loop finds it).
 */
static inline size_t plain_run(const unsigned char *p, size_t i, size_t n)
{
        const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
        uint64_t x, q, b, m;

        while (i + 8 <= n) {
                memcpy(&x, p + i, 8);
                q = x ^ (ones * '"');
                b = x ^ (ones * '\\');
                m = (((q - ones) & ~q) | ((b - ones) & ~b) | ((x - ones * 0x20) & ~x) | x) & high;
                if (m) {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
                        return i + (size_t)(__builtin_ctzll(m) >> 3);
#else
                        break;
#endif
                }
                i += 8;
        }
        while (i < n && !str_class[p[i]])
                i++;
        return i;
}

/* Walk win[pos..len). */
static int scan(struct ct_reader *rdr, char *errstr, size_t errsz)
{
        const unsigned char *p = (const unsigned char *)rdr->win;
        size_t i = rdr->pos, n = rdr->len;
        int rc;

        while (i < n) {
                unsigned char c = p[i];
                uint64_t at = rdr->base + i;

                switch (rdr->state) {
                case S_STRING:
                        if (rdr->want_low && str_class[c] != 2)
                                bad_escape(rdr); /* a high surrogate not followed by \u */
                        i = plain_run(p, i, n);
                        if (i >= n)
                                goto out;
                        c = p[i];
                        at = rdr->base + i;
                        switch (str_class[c]) {
                        case 1:
                                string_end(rdr, at);
                                if (rdr->str_is_key) {
                                        rdr->state = S_COLON;
                                } else {
                                        rdr->state = S_AFTER;
                                        rc = value_end(rdr, at + 1, errstr, errsz);
                                        if (rc)
                                                return rc;
                                }
                                break;
                        case 2:
                                rdr->str_esc = 1;
                                rdr->state = S_ESCAPE;
                                break;
                        case 3:
                                return bad_json(rdr, at, c, "control character in a string:", errstr,
                                                errsz);
                        default:
                                if (c >= 0xc2 && c <= 0xdf) {
                                        rdr->utf8_need = 1;
                                        rdr->utf8_lo = 0x80;
                                        rdr->utf8_hi = 0xbf;
                                } else if (c >= 0xe0 && c <= 0xef) {
                                        rdr->utf8_need = 2;
                                        rdr->utf8_lo = c == 0xe0 ? 0xa0 : 0x80;
                                        rdr->utf8_hi = c == 0xed ? 0x9f : 0xbf;
                                } else if (c >= 0xf0 && c <= 0xf4) {
                                        rdr->utf8_need = 3;
                                        rdr->utf8_lo = c == 0xf0 ? 0x90 : 0x80;
                                        rdr->utf8_hi = c == 0xf4 ? 0x8f : 0xbf;
                                } else {
                                        return bad_json(rdr, at, c, "invalid UTF-8 byte", errstr, errsz);
                                }
                                rdr->state = S_UTF8;
                        }
                        i++;
                        continue;
                case S_UTF8:
                        if (c < rdr->utf8_lo || c > rdr->utf8_hi)
                                return bad_json(rdr, at, c, "invalid UTF-8 sequence at byte", errstr,
                                                errsz);
                        rdr->utf8_lo = 0x80;
                        rdr->utf8_hi = 0xbf;
                        if (--rdr->utf8_need == 0)
                                rdr->state = S_STRING;
                        i++;
                        continue;
                case S_ESCAPE:
                        if (c == 'u') {
                                rdr->uhex_left = 4;
                                rdr->uhex_val = 0;
                                rdr->state = S_UHEX;
                        } else if (strchr("\"\\/bfnrt", c) && c) {
                                if (rdr->want_low)
                                        bad_escape(rdr);
                                rdr->state = S_STRING;
                        } else {
                                return bad_json(rdr, at, c, "invalid escape", errstr, errsz);
                        }
                        i++;
                        continue;
                case S_UHEX:
                        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
                              (c >= 'A' && c <= 'F')))
                                return bad_json(rdr, at, c, "invalid \\u escape", errstr, errsz);
                        rdr->uhex_val = (uint16_t)(rdr->uhex_val << 4 |
                                                   (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10));
                        if (--rdr->uhex_left == 0) {
                                uhex_end(rdr);
                                rdr->state = S_STRING;
                        }
                        i++;
                        continue;
                case S_NUMBER: {
                        int ok = 1, end = 0;

                        switch (rdr->num) {
                        case N_MINUS:
                                if (c == '0')
                                        rdr->num = N_ZERO;
                                else if (c >= '1' && c <= '9')
                                        rdr->num = N_INT;
                                else
                                        ok = 0;
                                break;
                        case N_ZERO:
                        case N_INT:
                                if (c >= '0' && c <= '9' && rdr->num == N_INT)
                                        ;
                                else if (c == '.')
                                        rdr->num = N_DOT;
                                else if (c == 'e' || c == 'E')
                                        rdr->num = N_E;
                                else
                                        end = 1;
                                break;
                        case N_DOT:
                                if (c >= '0' && c <= '9')
                                        rdr->num = N_FRAC;
                                else
                                        ok = 0;
                                break;
                        case N_FRAC:
                                if (c >= '0' && c <= '9')
                                        ;
                                else if (c == 'e' || c == 'E')
                                        rdr->num = N_E;
                                else
                                        end = 1;
                                break;
                        case N_E:
                                if (c == '+' || c == '-')
                                        rdr->num = N_ESIGN;
                                else if (c >= '0' && c <= '9')
                                        rdr->num = N_EXP;
                                else
                                        ok = 0;
                                break;
                        case N_ESIGN:
                                if (c >= '0' && c <= '9')
                                        rdr->num = N_EXP;
                                else
                                        ok = 0;
                                break;
                        default: /* N_EXP */
                                if (!(c >= '0' && c <= '9'))
                                        end = 1;
                        }
                        if (!ok)
                                return bad_json(rdr, at, c, "malformed number near", errstr, errsz);
                        if (end) {
                                rdr->state = S_AFTER;
                                rc = value_end(rdr, at, errstr, errsz);
                                if (rc)
                                        return rc;
                                continue; /* look at c again as what follows the value */
                        }
                        i++;
                        continue;
                }
                case S_LITERAL:
                        if (c != (unsigned char)rdr->lit[rdr->lit_i])
                                return bad_json(rdr, at, c, "unexpected character", errstr, errsz);
                        i++;
                        if (rdr->lit[++rdr->lit_i] == '\0') {
                                rdr->state = S_AFTER;
                                rc = value_end(rdr, at + 1, errstr, errsz);
                                if (rc)
                                        return rc;
                        }
                        continue;
                default:
                        break;
                }

                /* structural states */
                if (is_ws(c)) {
                        i++;
                        continue;
                }
                /* An empty array or object closes where a value or a key could start. */
                if ((rdr->state == S_VALUE_OR_CLOSE && c == ']') ||
                    (rdr->state == S_KEY_OR_CLOSE && c == '}'))
                        goto close;
                switch (rdr->state) {
                case S_VALUE_OR_CLOSE:
                case S_VALUE:
                        rc = value_begin(rdr, at, c, errstr, errsz);
                        if (rc)
                                return rc;
                        if (c == '{' || c == '[') {
                                if (rdr->depth >= CT_MAX_DEPTH)
                                        return fail(rdr, JB_EINPUT, errstr, errsz,
                                                    "JSON nested deeper than %d levels at byte %llu",
                                                    CT_MAX_DEPTH, (unsigned long long)at);
                                rdr->stack[rdr->depth++] = c;
                                rdr->state = c == '{' ? S_KEY_OR_CLOSE : S_VALUE_OR_CLOSE;
                        } else if (c == '"') {
                                rdr->str_is_key = 0;
                                rdr->str_esc = 0;
                                rdr->want_low = 0;
                                rdr->str_start = at + 1;
                                rdr->state = S_STRING;
                        } else if (c == '-' || (c >= '0' && c <= '9')) {
                                rdr->num = c == '-' ? N_MINUS : c == '0' ? N_ZERO : N_INT;
                                rdr->state = S_NUMBER;
                        } else if (c == 't' || c == 'f' || c == 'n') {
                                rdr->lit = c == 't' ? "true" : c == 'f' ? "false" : "null";
                                rdr->lit_i = 1;
                                rdr->state = S_LITERAL;
                        } else {
                                return bad_json(rdr, at, c, "unexpected character", errstr, errsz);
                        }
                        i++;
                        continue;
                case S_KEY_OR_CLOSE:
                case S_KEY:
                        if (c != '"')
                                return bad_json(rdr, at, c, "expected a quoted key, found", errstr,
                                                errsz);
                        rdr->str_is_key = 1;
                        rdr->str_esc = 0;
                        rdr->want_low = 0;
                        rdr->str_start = at + 1;
                        rdr->state = S_STRING;
                        i++;
                        continue;
                case S_COLON:
                        if (c != ':')
                                return bad_json(rdr, at, c, "expected ':', found", errstr, errsz);
                        rdr->state = S_VALUE;
                        i++;
                        continue;
                case S_AFTER:
                        if (c == ',') {
                                rdr->state = rdr->stack[rdr->depth - 1] == '{' ? S_KEY : S_VALUE;
                                i++;
                                continue;
                        }
                        if (c == '}' || c == ']')
                                goto close;
                        return bad_json(rdr, at, c, "expected ',' or a closing bracket, found", errstr,
                                        errsz);
                case S_DONE:
                        if (c == '{') {
                                /* Another whole document follows (log files joined as gzip
                                 * members): read it as one more log. */
                                rdr->top = T_BEFORE;
                                rdr->key_is_records = 0;
                                rdr->saw_digest_key = 0;
                                rdr->state = S_VALUE;
                                continue;
                        }
                        return fail(rdr, JB_EINPUT, errstr, errsz,
                                    "unexpected data after the end of the JSON document at byte "
                                    "%llu: the file is damaged",
                                    (unsigned long long)at);
                default:
                        return bad_json(rdr, at, c, "unexpected character", errstr, errsz);
                }
close:
                if ((c == '}') != (rdr->stack[rdr->depth - 1] == '{'))
                        return bad_json(rdr, at, c, "mismatched closing bracket", errstr, errsz);
                rdr->depth--;
                if (rdr->depth == 3)
                        rdr->sub_obj = -1; /* userIdentity or requestParameters closed */
                if (rdr->depth == 1 && rdr->top == T_IN_RECORDS)
                        rdr->top = T_AFTER;
                if (rdr->depth == 1)
                        rdr->key_is_records = 0;
                rdr->state = S_AFTER;
                i++;
                rc = value_end(rdr, at + 1, errstr, errsz);
                if (rc)
                        return rc;
        }
out:
        rdr->pos = i;
        return JB_OK;
}

/* Make room for at least CT_INFLATE_CHUNK more bytes after win[len]. */
static int make_room(struct ct_reader *rdr, char *errstr, size_t errsz)
{
        uint64_t keep = rdr->base + rdr->pos;
        size_t drop, need;
        char *nw;

        if (rdr->rec_start >= 0)
                keep = (uint64_t)rdr->rec_start;
        else if (rdr->str_is_key && (rdr->state == S_STRING || rdr->state == S_ESCAPE ||
                                     rdr->state == S_UHEX || rdr->state == S_UTF8))
                keep = rdr->str_start; /* a top-level key being read */
        drop = (size_t)(keep - rdr->base);
        if (rdr->cap - rdr->len >= CT_INFLATE_CHUNK && drop < rdr->cap / 2)
                return JB_OK;
        if (drop) {
                memmove(rdr->win, rdr->win + drop, rdr->len - drop);
                rdr->len -= drop;
                rdr->pos -= drop;
                rdr->base += drop;
        }
        if (rdr->cap - rdr->len >= CT_INFLATE_CHUNK)
                return JB_OK;
        if (rdr->len > rdr->lim.max_record)
                return fail(rdr, JB_ELIMIT, errstr, errsz, "record %llu is over the limit of %zu bytes",
                            (unsigned long long)rdr->nrec, rdr->lim.max_record);
        need = rdr->len + CT_INFLATE_CHUNK;
        nw = realloc(rdr->win, need + 1);
        if (!nw)
                return fail(rdr, JB_ENOMEM, errstr, errsz, "out of memory reading a record of %zu bytes",
                            rdr->len);
        rdr->win = nw;
        rdr->cap = need;
        return JB_OK;
}

/*
 * One inflate step of the file on fl: from *in (*left bytes; n is what the current feed
 * brought) into out (room bytes). Sets *produced; *ended when a gzip member ended (then
 * fl->member_done). Returns JB_OK or the fault with its reason in errstr. Touches only fl,
 * the limits and its arguments, so the inflate thread can run it.
 */
static int infl_step(struct infl *fl, const struct ct_limits *lim, const uint8_t **in, size_t *left,
                     size_t n, uint8_t *out, size_t room, size_t *produced, int *ended, char *errstr,
                     size_t errsz)
{
        size_t consumed;
        const char *why;
        int irc;

        *ended = 0;
        if (fl->member_done) {
                /* Another gzip member follows the one that ended. */
                ct_inflate_next_member(fl->inf);
                fl->member_done = 0;
                fl->members++;
                fl->member_out = 0;
        }
        consumed = *left;
        irc = ct_inflate_run(fl->inf, in, left, out, room, produced, &why);
        consumed -= *left;
        if (irc == CT_INFLATE_OK && !*produced && !consumed && *left) {
                /* Neither library does this on sound input; never spin on it. */
                irc = CT_INFLATE_BAD;
                why = "no progress";
        }
        if (irc == CT_INFLATE_BAD) {
                if (fl->members > 0 && fl->member_out == 0 && *produced == 0)
                        return jb_seterr(JB_EINPUT, errstr, errsz,
                                         "unexpected data after the end of the gzip stream (after "
                                         "%llu decompressed bytes): the file is damaged",
                                         (unsigned long long)fl->out);
                if (fl->out == 0 && fl->in <= n && *produced == 0)
                        return jb_seterr(JB_EINPUT, errstr, errsz,
                                         "not a gzip file (%s): CloudTrail log files are gzip JSON",
                                         why);
                return jb_seterr(JB_EINPUT, errstr, errsz,
                                 "corrupt gzip data after %llu decompressed bytes (%s): the file is "
                                 "damaged",
                                 (unsigned long long)(fl->out + *produced), why);
        }
        if (irc == CT_INFLATE_NOMEM)
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory in gzip inflate (%s)",
                                 ct_inflate_library());
        if (fl->hashing)
                sha256_update(&fl->sha, out, *produced); /* on the inflate thread when there is one */
        fl->out += *produced;
        fl->member_out += *produced;
        if (fl->out > lim->max_decompressed)
                return jb_seterr(JB_ELIMIT, errstr, errsz,
                                 "decompresses to more than %llu bytes (the configured limit): "
                                 "refused as a possible zip bomb",
                                 (unsigned long long)lim->max_decompressed);
        if (irc == CT_INFLATE_END) {
                fl->member_done = 1;
                *ended = 1;
        }
        return JB_OK;
}

/* Whether a fault of the content (not of the gzip stream) lets the hash go on. */
static int drain_ok(const struct ct_reader *rdr, int rc)
{
        return rdr->fl.hashing && (rc == JB_EINPUT || rc == JB_ELIMIT);
}

/* Draining on one thread: inflate the rest of in (left of its n bytes) for the hash only,
 * into the window (nothing is scanned). A fault of the stream ends the draining: no hash. */
static void drain_in(struct ct_reader *rdr, const uint8_t *in, size_t left, size_t n)
{
        char why[256];
        size_t produced;
        int ended;

        while (rdr->draining && (left > 0 || !rdr->fl.member_done)) {
                if (infl_step(&rdr->fl, &rdr->lim, &in, &left, n, (uint8_t *)rdr->win, CT_INFLATE_CHUNK,
                              &produced, &ended, why, sizeof(why)))
                        rdr->draining = 0;
                else if (!ended && left == 0 && produced < CT_INFLATE_CHUNK)
                        break;
        }
}

/* ---- the two-core path ---- */

/* The inflate thread's part of one job. JB_OK, a fault (pushed as a slot), or -1: stopped. */
static int pipe_job(struct ct_reader *rdr, const uint8_t *in, size_t left, uint64_t seq)
{
        struct pipe *pp = &rdr->pp;
        size_t n = left, produced;
        unsigned s;
        int ended, rc;

        while (left > 0 || !rdr->fl.member_done) {
                pthread_mutex_lock(&pp->mu);
                while (!pp->stop && pp->head - pp->tail == CT_RING_SLOTS)
                        pthread_cond_wait(&pp->to_inflate, &pp->mu);
                if (pp->stop) {
                        pthread_mutex_unlock(&pp->mu);
                        return -1;
                }
                s = pp->head % CT_RING_SLOTS;
                pthread_mutex_unlock(&pp->mu);
                rc = infl_step(&rdr->fl, &rdr->lim, &in, &left, n, pp->buf[s], CT_INFLATE_CHUNK,
                               &produced, &ended, pp->msg, sizeof(pp->msg));
                pthread_mutex_lock(&pp->mu);
                if (rc || produced) {
                        /* a fault keeps its place after the bytes before it; the bytes of
                         * the step that failed are dropped, as on one thread */
                        pp->got[s] = rc ? 0 : produced;
                        pp->slot_rc[s] = rc;
                        pp->head++;
                }
                if (left == 0 || rc)
                        pp->done_seq = seq; /* the caller's bytes are free again */
                pthread_cond_signal(&pp->to_scan);
                pthread_mutex_unlock(&pp->mu);
                if (rc)
                        return rc;
                if (ended)
                        continue;
                if (left == 0 && produced < CT_INFLATE_CHUNK)
                        break; /* all input consumed, nothing pending */
        }
        return JB_OK;
}

static void *pipe_main(void *arg)
{
        struct ct_reader *rdr = arg;
        struct pipe *pp = &rdr->pp;
        uint64_t seq = 0;
        const uint8_t *in;
        size_t len;
        int rc;

        pthread_mutex_lock(&pp->mu);
        for (;;) {
                while (!pp->stop && pp->job_seq == seq)
                        pthread_cond_wait(&pp->to_inflate, &pp->mu);
                if (pp->stop)
                        break;
                seq = pp->job_seq;
                in = pp->job;
                len = pp->job_len;
                rdr->fl.in += len;
                pp->busy = 1;
                pthread_mutex_unlock(&pp->mu);
                rc = pipe_job(rdr, in, len, seq);
                pthread_mutex_lock(&pp->mu);
                pp->busy = 0;
                pp->done_seq = seq;
                pthread_cond_signal(&pp->to_scan);
                if (rc) {
                        /* a fault or a stop: nothing more until the feeding thread joins */
                        while (!pp->stop)
                                pthread_cond_wait(&pp->to_inflate, &pp->mu);
                        break;
                }
        }
        pthread_mutex_unlock(&pp->mu);
        return NULL;
}

/* Start the inflate thread for the rest of the file. Nonzero: stay on one thread. */
static int pipe_start(struct ct_reader *rdr)
{
        struct pipe *pp = &rdr->pp;
        int i;

        if (!pp->sync_ready) {
                if (pthread_mutex_init(&pp->mu, NULL))
                        return -1;
                if (pthread_cond_init(&pp->to_scan, NULL)) {
                        pthread_mutex_destroy(&pp->mu);
                        return -1;
                }
                if (pthread_cond_init(&pp->to_inflate, NULL)) {
                        pthread_cond_destroy(&pp->to_scan);
                        pthread_mutex_destroy(&pp->mu);
                        return -1;
                }
                pp->sync_ready = 1;
        }
        for (i = 0; i < CT_RING_SLOTS; i++)
                if (!pp->buf[i] && !(pp->buf[i] = malloc(CT_INFLATE_CHUNK)))
                        return -1;
        pp->head = pp->tail = 0;
        pp->job_seq = pp->done_seq = 0;
        pp->busy = pp->stop = 0;
        pp->msg[0] = '\0';
        if (pthread_create(&pp->tid, NULL, pipe_main, rdr))
                return -1;
        pp->running = 1;
        return 0;
}

/* Stop and join the inflate thread, if any; the inflate state is the caller's again. */
static void pipe_stop(struct ct_reader *rdr)
{
        struct pipe *pp = &rdr->pp;

        if (!pp->running)
                return;
        pthread_mutex_lock(&pp->mu);
        pp->stop = 1;
        pthread_cond_broadcast(&pp->to_inflate);
        pthread_mutex_unlock(&pp->mu);
        pthread_join(pp->tid, NULL);
        pp->running = 0;
}

/* Append len inflated bytes to the window and scan them. */
static int take(struct ct_reader *rdr, const uint8_t *p, size_t len, char *errstr, size_t errsz)
{
        int rc = make_room(rdr, errstr, errsz);

        if (rc)
                return rc;
        memcpy(rdr->win + rdr->len, p, len);
        rdr->len += len;
        rdr->out_total += len;
        return scan(rdr, errstr, errsz);
}

/*
 * The scanning side: scan filled slots until the current job's bytes are free again
 * (all: also until the thread is idle and the ring empty). A fault of either side stops
 * the thread before it returns.
 */
static int pipe_drain(struct ct_reader *rdr, int all, char *errstr, size_t errsz)
{
        struct pipe *pp = &rdr->pp;
        unsigned s;
        int rc = JB_OK, first = JB_OK;

        pthread_mutex_lock(&pp->mu);
        for (;;) {
                if (pp->head != pp->tail) {
                        s = pp->tail % CT_RING_SLOTS;
                        pthread_mutex_unlock(&pp->mu);
                        if (pp->slot_rc[s]) {
                                rc = jb_seterr(pp->slot_rc[s], errstr, errsz, "%s", pp->msg);
                                if (!rdr->draining || !rdr->err)
                                        rdr->err = rc;
                                rdr->draining = 0;
                        } else if (!rdr->draining) {
                                rc = take(rdr, pp->buf[s], pp->got[s], errstr, errsz);
                                if (rc && drain_ok(rdr, rc)) {
                                        /* the content failed: the thread goes on, for the hash */
                                        rdr->draining = 1;
                                        first = rc;
                                        rc = JB_OK;
                                }
                        }
                        pthread_mutex_lock(&pp->mu);
                        pp->tail++;
                        pthread_cond_signal(&pp->to_inflate);
                        if (rc)
                                break;
                        continue;
                }
                if (pp->done_seq == pp->job_seq && (!all || !pp->busy))
                        break;
                pthread_cond_wait(&pp->to_scan, &pp->mu);
        }
        pthread_mutex_unlock(&pp->mu);
        if (rc)
                pipe_stop(rdr);
        return rc ? rc : first;
}

/* Hand n gzip bytes at in to the running inflate thread. */
static void pipe_hand(struct ct_reader *rdr, const uint8_t *in, size_t n)
{
        pthread_mutex_lock(&rdr->pp.mu);
        rdr->pp.job = in;
        rdr->pp.job_len = n;
        rdr->pp.job_seq++;
        pthread_cond_signal(&rdr->pp.to_inflate);
        pthread_mutex_unlock(&rdr->pp.mu);
}

int ct_reader_feed(struct ct_reader *rdr, const void *gz, size_t n, char *errstr, size_t errsz)
{
        const uint8_t *in = gz;
        size_t left = n, produced, room;
        int ended, rc;

        if (rdr->err && rdr->draining) {
                /* for the hash only; the answer stays the fault */
                rdr->in_total += n;
                if (rdr->pp.running) {
                        char scratch[256];

                        pipe_hand(rdr, in, n);
                        (void)!pipe_drain(rdr, 0, scratch, sizeof(scratch));
                } else {
                        rdr->fl.in += n;
                        drain_in(rdr, in, left, n);
                }
        }
        if (rdr->err)
                return jb_seterr(rdr->err, errstr, errsz, "reader already failed");
        if (!rdr->pp.running && rdr->in_total >= rdr->thread_min && n > 0)
                (void)pipe_start(rdr); /* on failure the file stays on this thread */
        rdr->in_total += n;
        if (rdr->pp.running) {
                pipe_hand(rdr, in, n);
                return pipe_drain(rdr, 0, errstr, errsz);
        }
        rdr->fl.in += n;
        while (left > 0 || !rdr->fl.member_done) {
                rc = make_room(rdr, errstr, errsz);
                if (rc) {
                        if ((rdr->draining = drain_ok(rdr, rc)) != 0)
                                drain_in(rdr, in, left, n);
                        return rc;
                }
                /* steps of at most one chunk, as on the threaded path, so both meet the
                 * faults of a file in the same order */
                room = rdr->cap - rdr->len;
                if (room > CT_INFLATE_CHUNK)
                        room = CT_INFLATE_CHUNK;
                rc = infl_step(&rdr->fl, &rdr->lim, &in, &left, n, (uint8_t *)rdr->win + rdr->len, room,
                               &produced, &ended, errstr, errsz);
                if (rc) {
                        rdr->err = rc;
                        return rc;
                }
                rdr->out_total += produced;
                rdr->len += produced;
                rc = scan(rdr, errstr, errsz);
                if (rc) {
                        if ((rdr->draining = drain_ok(rdr, rc)) != 0)
                                drain_in(rdr, in, left, n);
                        return rc;
                }
                if (ended)
                        continue;
                if (left == 0 && produced < room)
                        break; /* all input consumed, nothing pending */
        }
        return JB_OK;
}

int ct_reader_finish(struct ct_reader *rdr, char *errstr, size_t errsz)
{
        int rc;

        if (rdr->err && rdr->draining) {
                char scratch[256];

                if (rdr->pp.running) {
                        (void)!pipe_drain(rdr, 1, scratch, sizeof(scratch));
                        pipe_stop(rdr);
                }
                if (rdr->draining && rdr->fl.member_done) {
                        sha256_final(&rdr->fl.sha, rdr->digest);
                        rdr->hash_ready = 1; /* the content failed, but all of it was hashed */
                }
                rdr->draining = 0;
        }
        if (rdr->err)
                return rdr->err;
        if (rdr->pp.running) {
                rc = pipe_drain(rdr, 1, errstr, errsz);
                pipe_stop(rdr);
                if (rc)
                        return rc;
        }
        if (rdr->in_total == 0)
                return fail(rdr, JB_EINPUT, errstr, errsz, "the file is empty");
        if (!rdr->fl.member_done)
                return fail(rdr, JB_EINPUT, errstr, errsz,
                            "gzip stream ends early after %llu decompressed bytes: the file is "
                            "truncated",
                            (unsigned long long)rdr->out_total);
        if (rdr->state != S_DONE)
                return fail(rdr, JB_EINPUT, errstr, errsz,
                            "the JSON document ends early after %llu bytes and %llu records: the "
                            "file is truncated",
                            (unsigned long long)rdr->out_total, (unsigned long long)rdr->nrec);
        if (rdr->fl.hashing) {
                sha256_final(&rdr->fl.sha, rdr->digest);
                rdr->hash_ready = 1;
        }
        return JB_OK;
}
