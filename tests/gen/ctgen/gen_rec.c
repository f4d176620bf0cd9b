/*
 * gen_rec.c - one CloudTrail record of jibe-ctgen: its JSON text, shaped like the records
 * CloudTrail writes for S3 data events and a few management events of other services, and its
 * classification by the ordered rules of docs/EVENTS.md (the expected answer of `jibe events`).
 *
 * A struct gen_rec owns key, src_key and dkeys; gen_rec_free() releases them. Identifiers
 * that only have to look real (eventID, requestID, x-amz-id-2, addresses) are derived from
 * the record's rnd field, so a record is fully described by its struct.
 */
#include <stdio.h>
#include <stdlib.h>

#include "ctgen.h"

const char *const gen_class_name[CL_N] = {
        "malformed", "not_s3",  "failed", "not_write", "self",
        "unmanaged", "covered", "put",    "delete",    "bucket",
};

static const char *const ev_names[EV_N] = {
        [EV_GET] = "GetObject",
        [EV_HEAD] = "HeadObject",
        [EV_LIST] = "ListObjects",
        [EV_PUT] = "PutObject",
        [EV_COPY] = "CopyObject",
        [EV_POST] = "PostObject",
        [EV_DELETE] = "DeleteObject",
        [EV_DELETEMANY] = "DeleteObjects",
        [EV_CREATEMPU] = "CreateMultipartUpload",
        [EV_UPLOADPART] = "UploadPart",
        [EV_COMPLETEMPU] = "CompleteMultipartUpload",
        [EV_ABORTMPU] = "AbortMultipartUpload",
        [EV_PUTACL] = "PutObjectAcl",
        [EV_PUTTAGGING] = "PutObjectTagging",
        [EV_GETBUCKETACL] = "GetBucketAcl",
        [EV_EC2_DESCRIBE] = "DescribeInstances",
        [EV_EC2_RUN] = "RunInstances",
        [EV_IAM_CREATEKEY] = "CreateAccessKey",
        [EV_IAM_LISTUSERS] = "ListUsers",
        [EV_STS_ASSUME] = "AssumeRole",
        [EV_KMS_DECRYPT] = "Decrypt",
        [EV_S3X_PUT] = "PutObject",
        [EV_S3X_CREATESESSION] = "CreateSession",
};

const char *gen_ev_name(int ev)
{
        return ev_names[ev];
}

void gen_rec_free(struct gen_rec *r)
{
        uint32_t i;

        free(r->key);
        free(r->src_key);
        for (i = 0; i < r->ndkeys; i++)
                free(r->dkeys[i]);
        free(r->dkeys);
        r->key = r->src_key = NULL;
        r->dkeys = NULL;
        r->ndkeys = 0;
}

/* ---------- classification ---------- */

static int write_class(int ev)
{
        switch (ev) {
        case EV_PUT:
        case EV_COPY:
        case EV_COMPLETEMPU:
        case EV_POST:
                return CL_PUT;
        case EV_DELETE:
                return CL_DELETE;
        case EV_DELETEMANY:
                return CL_BUCKET;
        default:
                return -1;
        }
}

static int is_self(const struct gen_world *w, const struct gen_ident *id)
{
        int p;

        for (p = 0; p < w->nprov; p++) {
                const struct gen_provider *pr = &w->prov[p];

                if (strcmp(id->akid, pr->access_key) == 0 || strcmp(id->arn, pr->arn) == 0 ||
                    strstr(id->agent, pr->agent) != NULL)
                        return 1;
        }
        return 0;
}

int gen_classify(const struct gen_world *w, const struct gen_rec *r, int full)
{
        int op;

        if (r->src != GEN_SRC_S3)
                return CL_NOT_S3;
        if (r->err == ERR_DENIED || r->err == ERR_NOSUCHKEY)
                return CL_FAILED;
        op = write_class(r->ev);
        if (op < 0)
                return CL_NOT_WRITE;
        if (full) {
                const struct gen_bucket *b = &w->bucket[r->bucket];

                if (is_self(w, &w->ident[r->ident]))
                        return CL_SELF;
                if (b->prov < 0)
                        return CL_UNMANAGED;
                if (r->t < w->prov[b->prov].sync_start)
                        return CL_COVERED;
        }
        if (op != CL_BUCKET && r->km == KM_NONE)
                return CL_MALFORMED;
        return op;
}

/* ---------- JSON ---------- */

static void put_hex(struct gen_ob *o, uint64_t x, int n)
{
        static const char hex[] = "0123456789abcdef";
        char tmp[16];
        int i;

        for (i = n - 1; i >= 0; i--) {
                tmp[i] = hex[x & 15];
                x >>= 4;
        }
        gen_ob_put(o, tmp, (size_t)n);
}

static void put_alnum(struct gen_ob *o, uint64_t seed, int n, const char *al, unsigned m)
{
        char tmp[128];
        uint64_t x = 0;
        int i;

        for (i = 0; i < n; i++) {
                if ((i % 8) == 0)
                        x = gen_mix64(seed + (uint64_t)i);
                tmp[i] = al[(x & 0xff) % m];
                x >>= 8;
        }
        gen_ob_put(o, tmp, (size_t)n);
}

static void put_uuid(struct gen_ob *o, uint64_t seed)
{
        uint64_t a = gen_mix64(seed), b = gen_mix64(seed ^ 0xabcdef);

        put_hex(o, a >> 32, 8);
        gen_ob_ch(o, '-');
        put_hex(o, a >> 16, 4);
        GEN_LIT(o, "-4");
        put_hex(o, a, 3);
        gen_ob_ch(o, '-');
        put_hex(o, 0x8000 | (b >> 48 & 0x3fff), 4);
        gen_ob_ch(o, '-');
        put_hex(o, b, 12);
}

void gen_rec_event_id(const struct gen_rec *r, struct gen_ob *o)
{
        put_uuid(o, r->rnd);
}

static void put_time(struct gen_ob *o, int64_t t)
{
        char ts[32];

        gen_fmt_iso(t, ts);
        gen_ob_put(o, ts, 20);
}

static void put_kv(struct gen_ob *o, const char *k, const char *v)
{
        gen_ob_ch(o, '"');
        gen_ob_str(o, k);
        GEN_LIT(o, "\":");
        gen_ob_jstr(o, v);
}

static void put_identity(const struct gen_world *w, const struct gen_rec *r, struct gen_ob *o)
{
        const struct gen_ident *id = &w->ident[r->ident];
        const char *acct = w->acct[id->acct].id;

        GEN_LIT(o, "\"userIdentity\":{");
        put_kv(o, "type", id->type);
        gen_ob_ch(o, ',');
        put_kv(o, "principalId", id->principal);
        gen_ob_ch(o, ',');
        put_kv(o, "arn", id->arn);
        gen_ob_ch(o, ',');
        put_kv(o, "accountId", acct);
        gen_ob_ch(o, ',');
        put_kv(o, "accessKeyId", id->akid);
        if (strcmp(id->type, "AssumedRole") == 0) {
                char pid[32];
                size_t n = strcspn(id->principal, ":");

                snprintf(pid, sizeof(pid), "%.*s", (int)n, id->principal);
                GEN_LIT(o, ",\"sessionContext\":{\"sessionIssuer\":{\"type\":\"Role\",");
                put_kv(o, "principalId", pid);
                gen_ob_ch(o, ',');
                put_kv(o, "arn", id->role_arn);
                gen_ob_ch(o, ',');
                put_kv(o, "accountId", acct);
                gen_ob_ch(o, ',');
                put_kv(o, "userName", id->user);
                GEN_LIT(o, "},\"attributes\":{\"creationDate\":\"");
                put_time(o, r->t - 600 - (int64_t)(r->rnd % 3000));
                GEN_LIT(o, "\",\"mfaAuthenticated\":\"false\"}}}");
                return;
        }
        gen_ob_ch(o, ',');
        put_kv(o, "userName", id->user);
        if (id->akid[1] == 'S') { /* ASIA: session credentials */
                GEN_LIT(o, ",\"sessionContext\":{\"attributes\":{\"creationDate\":\"");
                put_time(o, r->t - 900 - (int64_t)(r->rnd % 5000));
                GEN_LIT(o, "\",\"mfaAuthenticated\":\"");
                gen_ob_str(o, id->kind == GEN_ID_CONSOLE ? "true" : "false");
                GEN_LIT(o, "\"}}");
        }
        gen_ob_ch(o, '}');
}

static const char *src_host(int src)
{
        switch (src) {
        case GEN_SRC_S3:
                return "s3.amazonaws.com";
        case GEN_SRC_EC2:
                return "ec2.amazonaws.com";
        case GEN_SRC_IAM:
                return "iam.amazonaws.com";
        case GEN_SRC_STS:
                return "sts.amazonaws.com";
        case GEN_SRC_KMS:
                return "kms.amazonaws.com";
        default:
                return "s3express.amazonaws.com";
        }
}

static void put_host(const struct gen_rec *r, const char *bucket, const char *region, struct gen_ob *o)
{
        /* path-style for dotted names (TLS) and for a fifth of the others */
        if (strchr(bucket, '.') || (r->rnd >> 40) % 5 == 0) {
                GEN_LIT(o, "s3.");
        } else {
                gen_ob_str(o, bucket);
                GEN_LIT(o, ".s3.");
        }
        gen_ob_str(o, region);
        GEN_LIT(o, ".amazonaws.com");
}

static void put_arn_obj(struct gen_ob *o, const char *bucket, const char *key, int prefix)
{
        GEN_LIT(o, "{\"type\":\"AWS::S3::Object\",\"");
        gen_ob_str(o, prefix ? "ARNPrefix" : "ARN");
        GEN_LIT(o, "\":\"arn:aws:s3:::");
        gen_ob_jstr_raw(o, bucket);
        gen_ob_ch(o, '/');
        if (key)
                gen_ob_jstr_raw(o, key);
        GEN_LIT(o, "\"}");
}

static void put_arn_bucket(struct gen_ob *o, const char *acct, const char *bucket)
{
        GEN_LIT(o, "{\"accountId\":\"");
        gen_ob_str(o, acct);
        GEN_LIT(o, "\",\"type\":\"AWS::S3::Bucket\",\"ARN\":\"arn:aws:s3:::");
        gen_ob_jstr_raw(o, bucket);
        GEN_LIT(o, "\"}");
}

static const char *s3x_az(const char *region)
{
        if (strcmp(region, "us-west-2") == 0)
                return "usw2-az1";
        if (strcmp(region, "eu-west-1") == 0)
                return "euw1-az1";
        if (strcmp(region, "ap-southeast-2") == 0)
                return "apse2-az1";
        return "use1-az4";
}

static void put_s3_params(const struct gen_world *w, const struct gen_rec *r, const char *region,
                          struct gen_ob *o)
{
        const struct gen_bucket *b = &w->bucket[r->bucket];

        GEN_LIT(o, "\"requestParameters\":{");
        if (r->ev == EV_LIST)
                GEN_LIT(o, "\"list-type\":\"2\",");
        if (r->bm == BM_PARAM) {
                put_kv(o, "bucketName", b->name);
                gen_ob_ch(o, ',');
        }
        GEN_LIT(o, "\"Host\":\"");
        put_host(r, b->name, region, o);
        gen_ob_ch(o, '"');
        switch (r->ev) {
        case EV_LIST:
                GEN_LIT(o, ",\"encoding-type\":\"url\",\"prefix\":");
                gen_ob_jstr(o, r->key ? r->key : "");
                GEN_LIT(o, ",\"delimiter\":\"/\"}");
                return;
        case EV_DELETEMANY:
                GEN_LIT(o, ",\"delete\":\"\"}");
                return;
        case EV_GETBUCKETACL:
                GEN_LIT(o, ",\"acl\":\"\"}");
                return;
        case EV_COPY:
                GEN_LIT(o, ",\"x-amz-copy-source\":\"");
                {
                        struct gen_ob tmp = {0};

                        gen_ob_str(&tmp, w->bucket[r->src_bucket].name);
                        gen_ob_ch(&tmp, '/');
                        gen_ob_urlenc(&tmp, r->src_key);
                        gen_ob_ch(&tmp, '\0');
                        gen_ob_jstr_raw(o, tmp.p);
                        gen_ob_free(&tmp);
                }
                gen_ob_ch(o, '"');
                break;
        default:
                break;
        }
        if (r->km == KM_PARAM) {
                GEN_LIT(o, ",\"key\":");
                gen_ob_jstr(o, r->key);
        } else if (r->km == KM_NULLRES) {
                GEN_LIT(o, ",\"key\":null");
        }
        switch (r->ev) {
        case EV_CREATEMPU:
                GEN_LIT(o, ",\"uploads\":\"\"");
                break;
        case EV_UPLOADPART:
                GEN_LIT(o, ",\"partNumber\":\"");
                gen_ob_u64(o, r->part);
                GEN_LIT(o, "\",\"uploadId\":\"");
                put_alnum(o, r->upload, 64,
                          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-", 65);
                gen_ob_ch(o, '"');
                break;
        case EV_COMPLETEMPU:
        case EV_ABORTMPU:
                GEN_LIT(o, ",\"uploadId\":\"");
                put_alnum(o, r->upload, 64,
                          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-", 65);
                gen_ob_ch(o, '"');
                break;
        case EV_PUTACL:
                GEN_LIT(o, ",\"acl\":\"\"");
                break;
        case EV_PUTTAGGING:
                GEN_LIT(o, ",\"tagging\":\"\"");
                break;
        case EV_GET:
                if (r->rnd % 7 == 0)
                        GEN_LIT(o, ",\"response-content-disposition\":\"attachment\"");
                break;
        default:
                break;
        }
        gen_ob_ch(o, '}');
}

static void put_s3_resources(const struct gen_world *w, const struct gen_rec *r, struct gen_ob *o)
{
        const struct gen_bucket *b = &w->bucket[r->bucket];
        const char *owner = w->acct[w->stream[b->stream].acct].id;

        GEN_LIT(o, ",\"resources\":[");
        switch (r->ev) {
        case EV_GETBUCKETACL:
                break;
        case EV_LIST:
                put_arn_obj(o, b->name, r->key, 1);
                gen_ob_ch(o, ',');
                break;
        case EV_DELETEMANY:
                put_arn_obj(o, b->name, NULL, 1);
                gen_ob_ch(o, ',');
                break;
        default:
                put_arn_obj(o, b->name, r->km == KM_NONE ? NULL : r->key, r->km == KM_NONE);
                gen_ob_ch(o, ',');
                break;
        }
        put_arn_bucket(o, owner, b->name);
        if (r->ev == EV_COPY) {
                const struct gen_bucket *sb = &w->bucket[r->src_bucket];

                gen_ob_ch(o, ',');
                put_arn_obj(o, sb->name, r->src_key, 0);
                gen_ob_ch(o, ',');
                put_arn_bucket(o, w->acct[w->stream[sb->stream].acct].id, sb->name);
        }
        gen_ob_ch(o, ']');
}

static int ev_readonly(int ev)
{
        return ev == EV_GET || ev == EV_HEAD || ev == EV_LIST || ev == EV_GETBUCKETACL ||
               ev == EV_EC2_DESCRIBE || ev == EV_IAM_LISTUSERS || ev == EV_KMS_DECRYPT;
}

static void put_other_params(const struct gen_world *w, const struct gen_rec *r, const char *region,
                             struct gen_ob *o)
{
        const char *acct = w->acct[w->stream[r->stream].acct].id;

        switch (r->ev) {
        case EV_EC2_DESCRIBE:
                GEN_LIT(o, "\"requestParameters\":{\"instancesSet\":{},\"filterSet\":{},"
                           "\"includeAllInstances\":false},\"responseElements\":null");
                break;
        case EV_EC2_RUN:
                GEN_LIT(o, "\"requestParameters\":{\"instancesSet\":{\"items\":[{\"imageId\":"
                           "\"ami-0c7217cdde317cfec\",\"minCount\":1,\"maxCount\":1}]},"
                           "\"instanceType\":\"t3.micro\"},\"responseElements\":null");
                break;
        case EV_IAM_CREATEKEY:
                GEN_LIT(o, "\"requestParameters\":{\"userName\":\"backup-bot\"},"
                           "\"responseElements\":{\"accessKey\":{\"accessKeyId\":\"");
                put_alnum(o, r->rnd, 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 32);
                GEN_LIT(o, "\",\"status\":\"Active\",\"userName\":\"backup-bot\","
                           "\"createDate\":\"");
                put_time(o, r->t);
                GEN_LIT(o, "\"}}");
                break;
        case EV_IAM_LISTUSERS:
                GEN_LIT(o, "\"requestParameters\":null,\"responseElements\":null");
                break;
        case EV_STS_ASSUME:
                GEN_LIT(o, "\"requestParameters\":{\"roleArn\":\"arn:aws:iam::");
                gen_ob_str(o, acct);
                GEN_LIT(o, ":role/etl-writer\",\"roleSessionName\":\"i-0");
                put_hex(o, r->rnd, 14);
                GEN_LIT(o, "\",\"durationSeconds\":3600},\"responseElements\":{\"credentials\":"
                           "{\"accessKeyId\":\"ASIA");
                put_alnum(o, r->rnd ^ 7, 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 32);
                GEN_LIT(o, "\",\"expiration\":\"");
                put_time(o, r->t + 3600);
                GEN_LIT(o, "\"}}");
                break;
        case EV_KMS_DECRYPT:
                GEN_LIT(o, "\"requestParameters\":{\"encryptionAlgorithm\":\"SYMMETRIC_DEFAULT\"},"
                           "\"responseElements\":null");
                break;
        case EV_S3X_PUT:
        case EV_S3X_CREATESESSION:
                GEN_LIT(o, "\"requestParameters\":{\"bucketName\":\"fastlane--");
                gen_ob_str(o, s3x_az(region));
                GEN_LIT(o, "--x-s3\",\"Host\":\"fastlane--");
                gen_ob_str(o, s3x_az(region));
                GEN_LIT(o, "--x-s3.s3express-");
                gen_ob_str(o, s3x_az(region));
                gen_ob_ch(o, '.');
                gen_ob_str(o, region);
                GEN_LIT(o, ".amazonaws.com\"");
                if (r->ev == EV_S3X_PUT) {
                        GEN_LIT(o, ",\"key\":");
                        gen_ob_jstr(o, r->key ? r->key : "x.bin");
                } else {
                        GEN_LIT(o, ",\"x-amz-create-session-mode\":\"ReadWrite\"");
                }
                GEN_LIT(o, "},\"responseElements\":null");
                break;
        default:
                GEN_LIT(o, "\"requestParameters\":null,\"responseElements\":null");
                break;
        }
}

void gen_rec_json(const struct gen_world *w, const struct gen_rec *r, struct gen_ob *o)
{
        const struct gen_stream *st = &w->stream[r->stream];
        const char *region = st->region;
        const struct gen_ident *id = &w->ident[r->ident];
        int s3 = r->src == GEN_SRC_S3;
        int data = (s3 && r->ev != EV_GETBUCKETACL) || r->src == GEN_SRC_S3EXPRESS;
        uint64_t x = r->rnd;

        if (r->src == GEN_SRC_IAM || r->src == GEN_SRC_STS)
                region = "us-east-1";
        GEN_LIT(o, "{\"eventVersion\":\"");
        gen_ob_str(o, data ? "1.10" : "1.09");
        GEN_LIT(o, "\",");
        put_identity(w, r, o);
        GEN_LIT(o, ",\"eventTime\":\"");
        put_time(o, r->t);
        GEN_LIT(o, "\",\"eventSource\":\"");
        gen_ob_str(o, src_host(r->src));
        GEN_LIT(o, "\",\"eventName\":\"");
        gen_ob_str(o, ev_names[r->ev]);
        GEN_LIT(o, "\",\"awsRegion\":\"");
        gen_ob_str(o, region);
        GEN_LIT(o, "\",\"sourceIPAddress\":\"");
        if (id->kind == GEN_ID_ROLE) {
                GEN_LIT(o, "10.20.");
                gen_ob_u64(o, (x >> 8) % 250);
                gen_ob_ch(o, '.');
                gen_ob_u64(o, (x >> 16) % 250 + 1);
        } else {
                gen_ob_str(o, id->self >= 0    ? "192.0.2."
                              : ((x >> 3) & 1) ? "203.0.113."
                                               : "198.51.100.");
                gen_ob_u64(o, id->self >= 0 ? 10 + (uint64_t)id->self : (x >> 24) % 250 + 1);
        }
        GEN_LIT(o, "\",\"userAgent\":");
        gen_ob_jstr(o, id->agent);
        switch (r->err) {
        case ERR_NULL:
                GEN_LIT(o, ",\"errorCode\":null");
                break;
        case ERR_EMPTY:
                GEN_LIT(o, ",\"errorCode\":\"\",\"errorMessage\":\"\"");
                break;
        case ERR_DENIED:
                if (s3)
                        GEN_LIT(o, ",\"errorCode\":\"AccessDenied\",\"errorMessage\":\"Access Denied\"");
                else
                        GEN_LIT(o,
                                ",\"errorCode\":\"Client.UnauthorizedOperation\","
                                "\"errorMessage\":\"You are not authorized to perform this operation.\"");
                break;
        case ERR_NOSUCHKEY:
                GEN_LIT(o,
                        ",\"errorCode\":\"NoSuchKey\",\"errorMessage\":\"The specified key does not exist.\"");
                break;
        default:
                break;
        }
        gen_ob_ch(o, ',');
        if (s3) {
                put_s3_params(w, r, region, o);
                GEN_LIT(o, ",\"responseElements\":");
                if (r->err == ERR_DENIED || r->err == ERR_NOSUCHKEY) {
                        GEN_LIT(o, "null");
                } else if (r->ev == EV_PUT || r->ev == EV_POST || r->ev == EV_COPY ||
                           r->ev == EV_COMPLETEMPU || r->ev == EV_UPLOADPART) {
                        GEN_LIT(o, "{\"x-amz-server-side-encryption\":\"AES256\"");
                        if (r->ev == EV_COPY)
                                GEN_LIT(o, ",\"x-amz-version-id\":\"null\"");
                        gen_ob_ch(o, '}');
                } else if (r->ev == EV_CREATEMPU) {
                        GEN_LIT(o, "{\"x-amz-server-side-encryption\":\"AES256\",\"bucket\":");
                        gen_ob_jstr(o, w->bucket[r->bucket].name);
                        GEN_LIT(o, ",\"uploadId\":\"");
                        put_alnum(o, r->upload, 64,
                                  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-",
                                  65);
                        GEN_LIT(o, "\"}");
                } else {
                        GEN_LIT(o, "null");
                }
                GEN_LIT(o, ",\"additionalEventData\":{\"SignatureVersion\":\"SigV4\","
                           "\"CipherSuite\":\"TLS_AES_128_GCM_SHA256\",\"bytesTransferredIn\":");
                gen_ob_u64(o, (r->ev == EV_PUT || r->ev == EV_POST || r->ev == EV_UPLOADPART) &&
                                              r->err != ERR_DENIED
                                      ? r->size
                                      : 0);
                GEN_LIT(o, ",\"AuthenticationMethod\":\"AuthHeader\",\"x-amz-id-2\":\"");
                put_alnum(o, x ^ 0x1d2, 76,
                          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 64);
                GEN_LIT(o, "\",\"bytesTransferredOut\":");
                gen_ob_u64(o, r->ev == EV_GET && !r->err ? r->size : 0);
                gen_ob_ch(o, '}');
        } else {
                put_other_params(w, r, region, o);
        }
        GEN_LIT(o, ",\"requestID\":\"");
        put_alnum(o, x ^ 0x77, 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 36);
        GEN_LIT(o, "\",\"eventID\":\"");
        put_uuid(o, x);
        GEN_LIT(o, "\",\"readOnly\":");
        gen_ob_str(o, ev_readonly(r->ev) ? "true" : "false");
        if (s3) {
                put_s3_resources(w, r, o);
        } else if (r->src == GEN_SRC_KMS) {
                GEN_LIT(o, ",\"resources\":[{\"accountId\":\"");
                gen_ob_str(o, w->acct[st->acct].id);
                GEN_LIT(o, "\",\"type\":\"AWS::KMS::Key\",\"ARN\":\"arn:aws:kms:");
                gen_ob_str(o, region);
                gen_ob_ch(o, ':');
                gen_ob_str(o, w->acct[st->acct].id);
                GEN_LIT(o, ":key/");
                put_uuid(o, gen_hash(region, strlen(region), 99));
                GEN_LIT(o, "\"}]");
        } else if (r->src == GEN_SRC_S3EXPRESS) {
                GEN_LIT(o, ",\"resources\":[{\"type\":\"AWS::S3Express::Object\",\"ARN\":"
                           "\"arn:aws:s3express:");
                gen_ob_str(o, region);
                gen_ob_ch(o, ':');
                gen_ob_str(o, w->acct[st->acct].id);
                GEN_LIT(o, ":bucket/fastlane--");
                gen_ob_str(o, s3x_az(region));
                GEN_LIT(o, "--x-s3/");
                if (r->ev == EV_S3X_PUT)
                        gen_ob_jstr_raw(o, r->key ? r->key : "x.bin");
                GEN_LIT(o, "\"}]");
        }
        GEN_LIT(o, ",\"eventType\":\"AwsApiCall\",\"managementEvent\":");
        gen_ob_str(o, data ? "false" : "true");
        GEN_LIT(o, ",\"recipientAccountId\":\"");
        gen_ob_str(o, w->acct[st->acct].id);
        GEN_LIT(o, "\",\"eventCategory\":\"");
        gen_ob_str(o, data ? "Data" : "Management");
        if (s3 || r->src == GEN_SRC_S3EXPRESS) {
                GEN_LIT(o, "\",\"tlsDetails\":{\"tlsVersion\":\"TLSv1.3\",\"cipherSuite\":"
                           "\"TLS_AES_128_GCM_SHA256\",\"clientProvidedHostHeader\":\"");
                if (s3)
                        put_host(r, w->bucket[r->bucket].name, region, o);
                else
                        GEN_LIT(o, "s3express-control.amazonaws.com");
                GEN_LIT(o, "\"}}");
        } else {
                GEN_LIT(o, "\",\"tlsDetails\":{\"tlsVersion\":\"TLSv1.3\",\"cipherSuite\":"
                           "\"TLS_AES_128_GCM_SHA256\",\"clientProvidedHostHeader\":\"");
                gen_ob_str(o, src_host(r->src));
                GEN_LIT(o, "\"}}");
        }
}
