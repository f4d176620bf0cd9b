/*
 * msg.c - encode and decode the stage messages of msg.h (JSON via cJSON).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "ct_path.h"
#include "msg.h"

static const char *const op_names[] = {NULL, "put", "delete", "bucket"};

const char *msg_op_name(enum msg_op op)
{
        return op >= MSG_OP_PUT && op <= MSG_OP_BUCKET ? op_names[op] : "?";
}

int msg_op_parse(const char *s, enum msg_op *op)
{
        int i;

        for (i = MSG_OP_PUT; i <= MSG_OP_BUCKET; i++) {
                if (s && !strcmp(s, op_names[i])) {
                        *op = (enum msg_op)i;
                        return JB_OK;
                }
        }
        return JB_EINPUT;
}

int64_t msg_now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- encoding helpers: append "name":value pairs ---- */

static int put_str(struct buf *b, const char *name, const char *v)
{
        int rc;

        if (!v)
                return JB_OK;
        rc = buf_printf(b, ",\"%s\":", name);
        return rc ? rc : buf_json_str(b, v, strlen(v));
}

static int put_int(struct buf *b, const char *name, int64_t v)
{
        return buf_printf(b, ",\"%s\":%lld", name, (long long)v);
}

static int finish(struct buf *b, size_t start, int rc)
{
        if (!rc)
                rc = buf_puts(b, "}");
        if (!rc && b->len - start > MSG_MAX_BYTES)
                rc = JB_ELIMIT;
        return rc;
}

/* ---- decoding helpers ---- */

static cJSON *open_msg(const void *p, size_t n, const char *type, char *errstr, size_t errsz)
{
        cJSON *root, *v, *t;

        if (n > MSG_MAX_BYTES) {
                jb_seterr(JB_EINPUT, errstr, errsz, "message of %zu bytes is over the %u byte limit", n,
                          MSG_MAX_BYTES);
                return NULL;
        }
        root = cJSON_ParseWithLength(p, n);
        if (!cJSON_IsObject(root)) {
                jb_seterr(JB_EINPUT, errstr, errsz, "message is not a JSON object");
                cJSON_Delete(root);
                return NULL;
        }
        v = cJSON_GetObjectItemCaseSensitive(root, "v");
        if (!cJSON_IsNumber(v) || v->valuedouble != MSG_SCHEMA_VERSION) {
                jb_seterr(JB_EINPUT, errstr, errsz,
                          "message schema version %g is not %d: written by another jibe version?",
                          cJSON_IsNumber(v) ? v->valuedouble : -1.0, MSG_SCHEMA_VERSION);
                cJSON_Delete(root);
                return NULL;
        }
        t = cJSON_GetObjectItemCaseSensitive(root, "type");
        if (!cJSON_IsString(t) || strcmp(t->valuestring, type) != 0) {
                jb_seterr(JB_EINPUT, errstr, errsz, "message is not of type %s", type);
                cJSON_Delete(root);
                return NULL;
        }
        return root;
}

/* Copy a string field. required: missing is an error. Returns JB_OK, JB_EINPUT, JB_ENOMEM. */
static int get_str(const cJSON *root, const char *name, int required, char **out, char *errstr,
                   size_t errsz)
{
        const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, name);

        *out = NULL;
        if (!it || cJSON_IsNull(it)) {
                if (required)
                        return jb_seterr(JB_EINPUT, errstr, errsz, "message lacks \"%s\"", name);
                return JB_OK;
        }
        if (!cJSON_IsString(it) || (required && !it->valuestring[0]))
                return jb_seterr(JB_EINPUT, errstr, errsz,
                                 "message field \"%s\" is not a non-empty string", name);
        *out = strdup(it->valuestring);
        return *out ? JB_OK : JB_ENOMEM;
}

static int get_int(const cJSON *root, const char *name, int64_t dflt, int64_t *out, char *errstr,
                   size_t errsz)
{
        const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, name);

        *out = dflt;
        if (!it || cJSON_IsNull(it))
                return JB_OK;
        /* Range first: converting a double outside int64_t's range is undefined (1e300). */
        if (!cJSON_IsNumber(it) ||
            !(it->valuedouble >= -9223372036854775808.0 && it->valuedouble < 9223372036854775808.0))
                return jb_seterr(JB_EINPUT, errstr, errsz,
                                 "message field \"%s\" is not a number in the 64-bit range", name);
        *out = (int64_t)it->valuedouble;
        return JB_OK;
}

/* ---- field tables: one message kind's plain fields, written and read in table order ---- */

enum field_kind { F_STR, F_INT };

struct field {
        const char *name;
        enum field_kind kind;
        size_t off;  /* of the char * or int64_t member */
        int64_t arg; /* F_STR: required (1) or not; F_INT: the value when absent */
};

#define FSTR(type, member, required)                                                                    \
        {                                                                                               \
#member, F_STR, offsetof(type, member), required                                        \
        }
#define FINT(type, member, dflt)                                                                        \
        {                                                                                               \
#member, F_INT, offsetof(type, member), dflt                                            \
        }
#define NFIELDS(t) (sizeof(t) / sizeof((t)[0]))

static char **field_str(void *m, const struct field *f)
{
        return (char **)(void *)((char *)m + f->off);
}

static int64_t *field_int(void *m, const struct field *f)
{
        return (int64_t *)(void *)((char *)m + f->off);
}

static int put_fields(struct buf *b, const void *m, const struct field *f, size_t n)
{
        int rc = JB_OK;
        size_t i;

        for (i = 0; !rc && i < n; i++)
                rc = f[i].kind == F_STR ? put_str(b, f[i].name, *field_str((void *)m, &f[i]))
                                        : put_int(b, f[i].name, *field_int((void *)m, &f[i]));
        return rc;
}

static int get_fields(const cJSON *root, void *m, const struct field *f, size_t n, char *errstr,
                      size_t errsz)
{
        int rc = JB_OK;
        size_t i;

        for (i = 0; !rc && i < n; i++)
                rc = f[i].kind == F_STR
                             ? get_str(root, f[i].name, (int)f[i].arg, field_str(m, &f[i]), errstr,
                                       errsz)
                             : get_int(root, f[i].name, f[i].arg, field_int(m, &f[i]), errstr, errsz);
        return rc;
}

static void free_fields(void *m, const struct field *f, size_t n)
{
        size_t i;

        for (i = 0; i < n; i++)
                if (f[i].kind == F_STR)
                        free(*field_str(m, &f[i]));
}

/* ---- logfile ---- */

static const struct field logfile_fields[] = {
        FSTR(struct msg_logfile, provider, 1),      FSTR(struct msg_logfile, bucket, 1),
        FSTR(struct msg_logfile, path, 1),          FSTR(struct msg_logfile, fi_id, 1),
        FINT(struct msg_logfile, size, -1),         FINT(struct msg_logfile, listed_ms, 0),
        FSTR(struct msg_logfile, digest_sha256, 0),
};

int msg_logfile_encode(const struct msg_logfile *m, struct buf *out)
{
        size_t start = out->len;
        int rc = buf_printf(out, "{\"v\":%d,\"type\":\"logfile\"", MSG_SCHEMA_VERSION);

        if (!rc)
                rc = put_fields(out, m, logfile_fields, NFIELDS(logfile_fields));
        if (!rc && m->reread)
                rc = put_int(out, "reread", m->reread);
        return finish(out, start, rc);
}

int msg_logfile_decode(const void *p, size_t n, struct msg_logfile *m, char *errstr, size_t errsz)
{
        cJSON *root = open_msg(p, n, "logfile", errstr, errsz);
        int rc;

        memset(m, 0, sizeof(*m));
        if (!root)
                return JB_EINPUT;
        rc = get_fields(root, m, logfile_fields, NFIELDS(logfile_fields), errstr, errsz);
        if (!rc)
                rc = get_int(root, "reread", 0, &m->reread, errstr, errsz);
        cJSON_Delete(root);
        if (rc)
                msg_logfile_clear(m);
        return rc;
}

void msg_logfile_clear(struct msg_logfile *m)
{
        free_fields(m, logfile_fields, NFIELDS(logfile_fields));
        memset(m, 0, sizeof(*m));
}

int msg_logfile_key(const struct msg_logfile *m, struct buf *out)
{
        struct ct_path cp;

        /* provider/bucket/<[org/]account>/CloudTrail/<region>: one CloudTrail delivery
         * stream; a bucket's streams spread over the partitions. */
        if (!ct_path_parse(m->path, &cp))
                return buf_printf(out, "%s/%s/%.*s", m->provider, m->bucket, (int)cp.stream.len,
                                  cp.stream.p);
        return buf_printf(out, "%s/%s", m->provider, m->bucket);
}

/* ---- objevent ---- */

/* Around "key" and "op" (special: key is absent for a bucket op, op is a name): */
static const struct field objevent_head[] = {
        FSTR(struct msg_objevent, provider, 1),
        FSTR(struct msg_objevent, bucket, 1),
};
static const struct field objevent_tail[] = {
        FSTR(struct msg_objevent, time, 0),   FSTR(struct msg_objevent, event, 0),
        FSTR(struct msg_objevent, id, 0),     FSTR(struct msg_objevent, account, 0),
        FSTR(struct msg_objevent, region, 0), FSTR(struct msg_objevent, src, 0),
        FINT(struct msg_objevent, rec, -1),
};

int msg_objevent_encode(const struct msg_objevent *m, struct buf *out)
{
        size_t start = out->len;
        int rc = buf_printf(out, "{\"v\":%d,\"type\":\"objevent\"", MSG_SCHEMA_VERSION);

        if (!rc)
                rc = put_fields(out, m, objevent_head, NFIELDS(objevent_head));
        if (!rc && m->op != MSG_OP_BUCKET)
                rc = put_str(out, "key", m->key);
        if (!rc)
                rc = put_str(out, "op", msg_op_name(m->op));
        if (!rc)
                rc = put_fields(out, m, objevent_tail, NFIELDS(objevent_tail));
        if (!rc && m->listed_ms)
                rc = put_int(out, "listed_ms", m->listed_ms);
        return finish(out, start, rc);
}

int msg_objevent_decode(const void *p, size_t n, struct msg_objevent *m, char *errstr, size_t errsz)
{
        cJSON *root = open_msg(p, n, "objevent", errstr, errsz);
        char *op = NULL;
        int rc;

        memset(m, 0, sizeof(*m));
        if (!root)
                return JB_EINPUT;
        rc = get_fields(root, m, objevent_head, NFIELDS(objevent_head), errstr, errsz);
        if (!rc)
                rc = get_str(root, "op", 1, &op, errstr, errsz);
        if (!rc && msg_op_parse(op, &m->op))
                rc = jb_seterr(JB_EINPUT, errstr, errsz,
                               "message op \"%s\" is not put, delete or bucket", op);
        if (!rc)
                rc = get_str(root, "key", m->op != MSG_OP_BUCKET, &m->key, errstr, errsz);
        if (!rc && m->op == MSG_OP_BUCKET) {
                free(m->key);
                m->key = NULL;
        }
        if (!rc)
                rc = get_fields(root, m, objevent_tail, NFIELDS(objevent_tail), errstr, errsz);
        if (!rc)
                rc = get_int(root, "listed_ms", 0, &m->listed_ms, errstr, errsz);
        free(op);
        cJSON_Delete(root);
        if (rc)
                msg_objevent_clear(m);
        return rc;
}

void msg_objevent_clear(struct msg_objevent *m)
{
        free_fields(m, objevent_head, NFIELDS(objevent_head));
        free(m->key);
        free_fields(m, objevent_tail, NFIELDS(objevent_tail));
        memset(m, 0, sizeof(*m));
}

/* provider/bucket for every op (msg.h): the events that can absorb each other meet in one
 * syncer. */
int msg_objevent_key(const struct msg_objevent *m, struct buf *out)
{
        return buf_printf(out, "%s/%s", m->provider, m->bucket);
}

/* ---- dead letters: the original payload travels base64-encoded, byte-exact ---- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_decode(const char *s, char **out, size_t *outlen)
{
        size_t n = strlen(s), i, o = 0;
        unsigned char *d;

        if (n % 4)
                return JB_EINPUT;
        d = malloc(n / 4 * 3 + 1);
        if (!d)
                return JB_ENOMEM;
        for (i = 0; i < n; i += 4) {
                unsigned v = 0;
                int k, pad = 0;

                for (k = 0; k < 4; k++) {
                        const char *c = s[i + k] == '=' ? NULL : strchr(b64, s[i + k]);

                        if (s[i + k] == '=') {
                                pad++;
                        } else if (!c || !s[i + k] || pad) {
                                free(d);
                                return JB_EINPUT;
                        }
                        v = (v << 6) | (c ? (unsigned)(c - b64) : 0);
                }
                d[o++] = (unsigned char)(v >> 16);
                if (pad < 2)
                        d[o++] = (unsigned char)(v >> 8);
                if (pad < 1)
                        d[o++] = (unsigned char)v;
        }
        d[o] = '\0';
        *out = (char *)d;
        *outlen = o;
        return JB_OK;
}

/* All but the payload: */
static const struct field dead_fields[] = {
        FSTR(struct msg_dead, stage, 1),    FSTR(struct msg_dead, src, 0),
        FINT(struct msg_dead, rec, -1),     FSTR(struct msg_dead, error, 0),
        FINT(struct msg_dead, attempts, 0), FINT(struct msg_dead, at_ms, 0),
};

int msg_dead_encode(const struct msg_dead *m, struct buf *out)
{
        size_t start = out->len;
        int rc = buf_printf(out, "{\"v\":%d,\"type\":\"dead\"", MSG_SCHEMA_VERSION);

        if (!rc)
                rc = put_fields(out, m, dead_fields, NFIELDS(dead_fields));
        if (!rc && m->payload) {
                rc = buf_puts(out, ",\"payload_b64\":\"");
                if (!rc)
                        rc = buf_base64(out, m->payload,
                                        m->payload_len ? m->payload_len : strlen(m->payload));
                if (!rc)
                        rc = buf_puts(out, "\"");
        }
        if (!rc)
                rc = buf_puts(out, "}");
        /* A dead letter carries a message that may itself be near the limit. */
        if (!rc && out->len - start > 2 * MSG_MAX_BYTES)
                rc = JB_ELIMIT;
        return rc;
}

int msg_dead_decode(const void *p, size_t n, struct msg_dead *m, char *errstr, size_t errsz)
{
        cJSON *root;
        char *b = NULL;
        size_t bl = 0;
        int rc;

        memset(m, 0, sizeof(*m));
        if (n > 3 * MSG_MAX_BYTES)
                return jb_seterr(JB_EINPUT, errstr, errsz, "dead letter too large");
        root = cJSON_ParseWithLength(p, n);
        if (!cJSON_IsObject(root) || !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(root, "v")) ||
            cJSON_GetObjectItemCaseSensitive(root, "v")->valuedouble != MSG_SCHEMA_VERSION) {
                cJSON_Delete(root);
                return jb_seterr(JB_EINPUT, errstr, errsz, "not a dead letter of schema version %d",
                                 MSG_SCHEMA_VERSION);
        }
        rc = get_fields(root, m, dead_fields, NFIELDS(dead_fields), errstr, errsz);
        if (!rc)
                rc = get_str(root, "payload_b64", 0, &b, errstr, errsz);
        if (!rc && b) {
                rc = b64_decode(b, &m->payload, &bl);
                m->payload_len = bl;
                if (rc == JB_EINPUT)
                        jb_seterr(rc, errstr, errsz, "dead letter payload is not base64");
        }
        free(b);
        cJSON_Delete(root);
        if (rc)
                msg_dead_clear(m);
        return rc;
}

void msg_dead_clear(struct msg_dead *m)
{
        free_fields(m, dead_fields, NFIELDS(dead_fields));
        free(m->payload);
        memset(m, 0, sizeof(*m));
}

/* ---- status ---- */

static const char *const status_names[] = {NULL, "done"};

int msg_status_encode(const struct msg_status *m, struct buf *out)
{
        size_t start = out->len;
        int rc;

        if (m->state != MSG_STATUS_DONE)
                return JB_EINPUT;
        rc = buf_printf(out, "{\"v\":%d,\"type\":\"status\"", MSG_SCHEMA_VERSION);
        if (!rc)
                rc = put_str(out, "state", status_names[m->state]);
        if (!rc)
                rc = put_int(out, "at_ms", m->at_ms);
        return finish(out, start, rc);
}

int msg_status_decode(const void *p, size_t n, struct msg_status *m, char *errstr, size_t errsz)
{
        cJSON *root;
        char *state = NULL;
        int rc;

        memset(m, 0, sizeof(*m));
        if (n == strlen(MSG_STATUS_LEGACY) && !memcmp(p, MSG_STATUS_LEGACY, n)) {
                m->state = MSG_STATUS_DONE; /* written before the record had a version */
                return JB_OK;
        }
        if (!(root = open_msg(p, n, "status", errstr, errsz)))
                return JB_EINPUT;
        rc = get_str(root, "state", 1, &state, errstr, errsz);
        if (!rc && strcmp(state, status_names[MSG_STATUS_DONE]) != 0)
                rc = jb_seterr(JB_EINPUT, errstr, errsz, "status record state \"%.40s\" is not \"done\"",
                               state);
        if (!rc)
                rc = get_int(root, "at_ms", 0, &m->at_ms, errstr, errsz);
        if (!rc)
                m->state = MSG_STATUS_DONE;
        free(state);
        cJSON_Delete(root);
        return rc;
}
