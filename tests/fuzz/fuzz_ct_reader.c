/*
 * fuzz_ct_reader.c - the CloudTrail reader (ct_reader.c) on any input, fed in chunks of
 * varying size, over several gzip members, with resets.
 *
 * Input: byte 0 = flags (bit 0: the rest is gzip as is; else it is JSON text that the harness
 * gzips, bits 1-2 + 1 = members; bit 3: abandon a first read half way and reset; bit 4: the
 * chunked reads inflate on the reader's second thread from the first byte), byte 1 =
 * seed of the chunk sizes, byte 2 = record ceiling (0: default, else n * 64 bytes), then the
 * data. Properties: the same input read in one feed and in chunks (after a reset, on the same
 * reader) succeeds or fails alike and delivers the same records with the same hints; when the
 * bytes are a whole gzip stream (the text mode) that holds also for the records before an
 * error; a failed reader stays failed. With bit 4 that compares the two-core path with the
 * one-thread path (the whole read), reasons aside.
 */
#include <string.h>

#include "ct.h"
#include "fuzz.h"
#include "gz.h"

struct outcome {
        int rc;
        uint64_t nrec;
        uint64_t hash;
};

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
        const unsigned char *s = p;
        size_t i;

        for (i = 0; i < n; i++)
                h = (h ^ s[i]) * 1099511628211ULL; /* FNV-1a */
        return h;
}

static int on_rec(void *opaque, const char *rec, size_t len, const struct ct_hint *hint, uint64_t idx)
{
        struct outcome *o = opaque;
        int i;

        FUZZ_CHECK(idx == o->nrec);
        FUZZ_CHECK(rec[len] == '\0');
        FUZZ_CHECK(len > 0);
        o->hash = mix(o->hash, rec, len);
        o->hash = mix(o->hash, &hint->is_object, sizeof(hint->is_object));
        o->hash = mix(o->hash, &hint->must_parse, sizeof(hint->must_parse));
        o->hash = mix(o->hash, &hint->bad_string, sizeof(hint->bad_string));
        for (i = 0; i < CT_F_COUNT; i++) {
                const struct ct_span *sp = &hint->f[i];

                if (sp->kind != CT_SPAN_ABSENT) {
                        FUZZ_CHECK(sp->off <= len);
                        if (sp->kind == CT_SPAN_STRING)
                                FUZZ_CHECK(sp->len <= len - sp->off);
                }
                o->hash = mix(o->hash, &sp->off, sizeof(sp->off));
                o->hash = mix(o->hash, &sp->len, sizeof(sp->len));
                o->hash = mix(o->hash, &sp->kind, sizeof(sp->kind));
                o->hash = mix(o->hash, &sp->escaped, sizeof(sp->escaped));
        }
        o->nrec++;
        return JB_OK;
}

static uint32_t rnd(uint32_t *s)
{
        *s ^= *s << 13;
        *s ^= *s >> 17;
        *s ^= *s << 5;
        return *s;
}

/* Read gz[0..n) in chunks drawn from seed (seed 0: one feed); stop after `upto` bytes. */
static void read_all(struct ct_reader *rdr, struct outcome *o, const uint8_t *gz, size_t n,
                     uint32_t seed, size_t upto)
{
        char err[256];
        size_t at = 0, k;
        uint32_t s = seed | 1;
        int rc = JB_OK;

        memset(o, 0, sizeof(*o));
        ct_reader_reset(rdr);
        while (at < n && at < upto) {
                k = seed ? 1 + rnd(&s) % (1U << (rnd(&s) % 13)) : n;
                if (k > n - at)
                        k = n - at;
                rc = ct_reader_feed(rdr, gz + at, k, err, sizeof(err));
                at += k;
                if (rc)
                        break;
        }
        if (at < upto) {
                if (!rc)
                        rc = ct_reader_finish(rdr, err, sizeof(err));
                if (rc) /* a failed reader refuses more input */
                        FUZZ_CHECK(ct_reader_feed(rdr, "x", 1, err, sizeof(err)) != JB_OK);
        }
        o->rc = rc;
        FUZZ_CHECK(ct_reader_records(rdr) == o->nrec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct ct_limits lim = {0, 0};
        struct outcome whole, chunked, again;
        struct ct_reader *rdr;
        uint8_t *gz = NULL;
        size_t n;
        int raw;

        if (size < 3)
                return 0;
        raw = data[0] & 1;
        if (data[2])
                lim.max_record = (size_t)data[2] * 64;
        if (raw) {
                gz = malloc(size - 3 + 1);
                if (!gz)
                        return 0;
                memcpy(gz, data + 3, size - 3);
                n = size - 3;
        } else if (gz_members(data + 3, size - 3, 1 + ((data[0] >> 1) & 3), &gz, &n)) {
                return 0;
        }
        /* The callback's opaque is the outcome being filled: one per reader. */
        rdr = ct_reader_new(&lim, on_rec, &whole);
        FUZZ_CHECK(rdr != NULL);
        ct_reader_set_thread_min(rdr, UINT64_MAX);
        read_all(rdr, &whole, gz, n, 0, (size_t)-1);
        ct_reader_free(rdr);

        rdr = ct_reader_new(&lim, on_rec, &chunked);
        FUZZ_CHECK(rdr != NULL);
        if (data[0] & 16)
                ct_reader_set_thread_min(rdr, 0);
        if (data[0] & 8) /* a first read abandoned half way: reset must forget it */
                read_all(rdr, &chunked, gz, n, data[1] * 7919U + 1, n / 2);
        read_all(rdr, &chunked, gz, n, data[1] * 2654435761U + 1, (size_t)-1);
        /* the same reader once more, after a reset, in one feed */
        {
                struct outcome tmp;

                read_all(rdr, &chunked, gz, n, data[1] * 2654435761U + 1, (size_t)-1);
                tmp = chunked;
                read_all(rdr, &chunked, gz, n, 0, (size_t)-1);
                again = chunked;
                chunked = tmp;
        }
        ct_reader_free(rdr);

        FUZZ_CHECK((whole.rc == JB_OK) == (chunked.rc == JB_OK));
        FUZZ_CHECK(again.rc == whole.rc && again.nrec == whole.nrec && again.hash == whole.hash);
        if (whole.rc == JB_OK || !raw) {
                FUZZ_CHECK(whole.nrec == chunked.nrec);
                FUZZ_CHECK(whole.hash == chunked.hash);
        }
        free(gz);
        return 0;
}
