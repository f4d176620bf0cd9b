/*
 * fuzz_ct_classify.c - the classifier (ct_classify.c): its fast path, which settles most
 * records from the reader's hint, must agree with its full path (cJSON) on every record.
 *
 * Input: the text between {"Records":[ and ]} (the harness adds them and gzips the whole).
 * Each record the reader delivers is classified with the reader's hint and again with a
 * hint that forces the full path and tells it nothing (no spans, no bad_string), under an
 * empty context and under one with a bucket map, self identities and a sync start.
 * Property: same class and the same fields (the fast path settles S3 writes too).
 */
#include <string.h>

#include "ct.h"
#include "fuzz.h"
#include "gz.h"

static struct ct_ctx *ctx_empty, *ctx_map;

static void setup(void)
{
        if (ctx_empty)
                return;
        ctx_empty = ct_ctx_new();
        ctx_map = ct_ctx_new();
        FUZZ_CHECK(ctx_empty && ctx_map);
        FUZZ_CHECK(ct_ctx_add_self_key(ctx_map, "AKIASELF") == JB_OK);
        FUZZ_CHECK(ct_ctx_add_self_arn(ctx_map, "arn:aws:iam::1:user/jibe") == JB_OK);
        FUZZ_CHECK(ct_ctx_add_self_agent(ctx_map, "jibe/") == JB_OK);
        FUZZ_CHECK(ct_ctx_map_bucket(ctx_map, "b", "p1") == JB_OK);
        FUZZ_CHECK(ct_ctx_map_bucket(ctx_map, "bk", "p2") == JB_OK);
        FUZZ_CHECK(ct_ctx_set_sync_start(ctx_map, "p1", 1700000000) == JB_OK);
}

static int same_str(const char *a, const char *b)
{
        return (!a && !b) || (a && b && !strcmp(a, b));
}

static void compare(const struct ct_ctx *ctx, const char *rec, size_t len, const struct ct_hint *hint)
{
        struct ct_hint full;
        struct ct_event fast, slow;
        int a, b;

        memset(&full, 0, sizeof(full));
        full.is_object = hint->is_object;
        full.must_parse = 1;
        a = ct_classify(ctx, rec, len, hint, &fast);
        b = ct_classify(ctx, rec, len, &full, &slow);
        if (a != b)
                fprintf(stderr, "fast path says %d, full path %d, for: %.*s\n", a, b,
                        (int)(len > 2000 ? 2000 : len), rec);
        FUZZ_CHECK(a == b);
        FUZZ_CHECK(a == fast.cls && b == slow.cls);
        if (a == CT_PUT || a == CT_DELETE || a == CT_BUCKET) {
                FUZZ_CHECK(fast.bucket && *fast.bucket);
                FUZZ_CHECK(a == CT_BUCKET || (fast.key && *fast.key));
        }
        /* every class: self, unmanaged, covered and a write without a bucket keep the
         * event's name, time and ids; the others have none on either path */
        FUZZ_CHECK(same_str(fast.bucket, slow.bucket) && same_str(fast.key, slow.key));
        FUZZ_CHECK(same_str(fast.provider, slow.provider));
        FUZZ_CHECK(same_str(fast.name, slow.name) && same_str(fast.time, slow.time));
        FUZZ_CHECK(same_str(fast.id, slow.id) && same_str(fast.account, slow.account));
        FUZZ_CHECK(same_str(fast.region, slow.region));
        FUZZ_CHECK(fast.event_epoch == slow.event_epoch);
        ct_event_clear(&fast);
        ct_event_clear(&slow);
}

static int on_rec(void *opaque, const char *rec, size_t len, const struct ct_hint *hint, uint64_t idx)
{
        (void)opaque;
        (void)idx;
        compare(ctx_empty, rec, len, hint);
        compare(ctx_map, rec, len, hint);
        return JB_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char head[] = "{\"Records\":[", tail[] = "]}";
        struct ct_reader *rdr;
        uint8_t *doc, *gz = NULL;
        size_t n, gzn;
        char err[256];
        int rc;

        setup();
        n = sizeof(head) - 1 + size + sizeof(tail) - 1;
        doc = malloc(n);
        if (!doc)
                return 0;
        memcpy(doc, head, sizeof(head) - 1);
        if (size)
                memcpy(doc + sizeof(head) - 1, data, size);
        memcpy(doc + sizeof(head) - 1 + size, tail, sizeof(tail) - 1);
        if (gz_members(doc, n, 1, &gz, &gzn) == 0) {
                rdr = ct_reader_new(NULL, on_rec, NULL);
                FUZZ_CHECK(rdr != NULL);
                rc = ct_reader_feed(rdr, gz, gzn, err, sizeof(err));
                if (rc == JB_OK)
                        rc = ct_reader_finish(rdr, err, sizeof(err));
                FUZZ_CHECK(rc <= 0); /* the callback never stops it */
                ct_reader_free(rdr);
        }
        free(gz);
        free(doc);
        return 0;
}
