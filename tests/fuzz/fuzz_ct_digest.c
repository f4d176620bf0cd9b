/*
 * fuzz_ct_digest.c - the digest reader (ct_digest.c) and the reconcile and chain code
 * (ct_reconcile.c) on any input; the digest path helpers on the same bytes as a string.
 *
 * Input: byte 0 = flags (bit 0: the rest is gzip as is; else it is JSON text that the harness
 * gzips, bits 1-2 + 1 = members), byte 1 = seed of the chunk sizes, byte 2 = decompressed
 * ceiling (0: default, else n * 64 bytes), then the data. Properties: one feed and chunked
 * feeds (on a reader that is then reset and reused) succeed or fail alike with the same
 * result code and the same digest; a digest read is sound (strings set, start <= end, a hash
 * only with a previous digest); reconcile counts add up; a path that parses has its parts
 * inside the string and agrees with ct_digest_is_backfill().
 */
#include <string.h>

#include "ct_digest.h"
#include "ct_reconcile.h"
#include "fuzz.h"
#include "gz.h"

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
        const unsigned char *s = p;
        size_t i;

        for (i = 0; i < n; i++)
                h = (h ^ s[i]) * 1099511628211ULL; /* FNV-1a */
        return h;
}

static uint64_t mix_str(uint64_t h, const char *s)
{
        return s ? mix(h, s, strlen(s) + 1) : mix(h, "\xff", 1);
}

static uint64_t digest_hash(const struct ct_digest *d)
{
        uint64_t h = 1469598103934665603ULL;
        size_t i;

        h = mix(h, &d->start, sizeof(d->start));
        h = mix(h, &d->end, sizeof(d->end));
        h = mix_str(h, d->bucket);
        h = mix_str(h, d->object);
        h = mix_str(h, d->prev_bucket);
        h = mix_str(h, d->prev_object);
        h = mix(h, &d->has_prev_hash, sizeof(d->has_prev_hash));
        h = mix(h, d->prev_sha256, sizeof(d->prev_sha256));
        h = mix(h, &d->nfiles, sizeof(d->nfiles));
        for (i = 0; i < d->nfiles; i++) {
                h = mix_str(h, d->files[i].bucket);
                h = mix_str(h, d->files[i].key);
                h = mix(h, d->files[i].sha256, SHA256_LEN);
        }
        return h;
}

static uint32_t rnd(uint32_t *s)
{
        *s ^= *s << 13;
        *s ^= *s >> 17;
        *s ^= *s << 5;
        return *s;
}

/* Feed gz in chunks drawn from seed (0: one feed). Returns the result code; *h the digest's
 * hash on success. */
static int read_chunked(struct ct_digest_reader *r, const uint8_t *gz, size_t n, uint32_t seed,
                        uint64_t *h)
{
        struct ct_digest d;
        char err[256];
        size_t at = 0, k;
        uint32_t s = seed | 1;
        int rc = JB_OK;

        ct_digest_reader_reset(r);
        while (at < n) {
                k = seed ? 1 + rnd(&s) % (1U << (rnd(&s) % 12)) : n - at;
                if (k > n - at)
                        k = n - at;
                rc = ct_digest_reader_feed(r, gz + at, k, err, sizeof(err));
                at += k;
                if (rc) {
                        FUZZ_CHECK(ct_digest_reader_feed(r, "x", 1, err, sizeof(err)) != JB_OK);
                        return rc;
                }
        }
        rc = ct_digest_reader_finish(r, &d, err, sizeof(err));
        if (rc) {
                FUZZ_CHECK(d.nfiles == 0 && !d.files && !d.object);
                return rc;
        }
        *h = digest_hash(&d);
        ct_digest_clear(&d);
        return JB_OK;
}

static int lookup(void *opaque, const struct ct_digest_file *f, struct ct_seen *out)
{
        (void)opaque;
        out->managed = f->sha256[0] & 1;
        out->done = f->sha256[0] & 2;
        out->not_found = f->sha256[0] & 4;
        out->recovered = f->sha256[0] & 8;
        out->has_sha = f->sha256[0] & 16;
        out->reads = f->sha256[1] & 3;
        memcpy(out->sha256, f->sha256, SHA256_LEN);
        if (f->sha256[0] & 32)
                out->sha256[5] ^= 1;
        return JB_OK;
}

static void on_cov(void *opaque, const struct ct_coverage *c)
{
        (void)opaque;
        FUZZ_CHECK(c->digests > 0 && c->backfill <= c->digests);
        FUZZ_CHECK(c->covered_s >= 0 && c->covered_s <= c->last - c->first);
}

static void check_digest(const uint8_t *gz, size_t n, size_t max)
{
        struct ct_recon_counts k;
        struct ct_chain *c;
        struct ct_digest d;
        enum ct_verdict *v;
        char err[256];
        size_t i;

        if (ct_digest_read(gz, n, max, &d, err, sizeof(err)))
                return;
        FUZZ_CHECK(d.bucket && d.object && d.start <= d.end);
        FUZZ_CHECK(!d.has_prev_hash || d.prev_object);
        FUZZ_CHECK(!d.prev_object || d.prev_bucket);
        FUZZ_CHECK(!d.nfiles == !d.files);
        for (i = 0; i < d.nfiles; i++)
                FUZZ_CHECK(d.files[i].bucket && *d.files[i].bucket && d.files[i].key && *d.files[i].key);
        v = malloc((d.nfiles ? d.nfiles : 1) * sizeof(*v));
        if (v && ct_reconcile(&d, d.end + 1800, 1800, lookup, NULL, v, &k) == JB_OK) {
                FUZZ_CHECK(k.listed == d.nfiles && k.managed <= k.listed);
                FUZZ_CHECK(k.ok + k.unverified + k.recover + k.missing + k.reread + k.tampered ==
                           k.managed);
                FUZZ_CHECK(k.done == k.ok + k.unverified + k.tampered && k.recovered <= k.done);
                c = ct_chain_new();
                if (c) {
                        if (ct_chain_add(c, &d, &k, 0) == JB_OK) {
                                FUZZ_CHECK(ct_chain_has(c, d.bucket, d.object));
                                FUZZ_CHECK(ct_chain_gaps(c, 3600, 0, 0, NULL, NULL) <= 1);
                                FUZZ_CHECK(ct_chain_coverage(c, 3600, 0, 0, on_cov, NULL) != JB_EINPUT);
                        }
                        ct_chain_free(c);
                }
        }
        free(v);
        ct_digest_clear(&d);
}

static void check_path(const uint8_t *data, size_t size)
{
        struct ct_digest_path dp;
        char *s = malloc(size + 1), *f;

        if (!s)
                return;
        memcpy(s, data, size);
        s[size] = '\0';
        if (ct_digest_path_parse(s, &dp) == 0) {
                size_t len = strlen(s);

                FUZZ_CHECK(dp.account.len == CT_PATH_ACCOUNT_DIGITS && dp.region.len && dp.trail.len);
                FUZZ_CHECK(dp.file.p >= s && dp.file.p + dp.file.len == s + len);
                FUZZ_CHECK(dp.folder.p == s && dp.folder.len < len);
                FUZZ_CHECK(dp.day >= 0 && dp.end >= 0);
                FUZZ_CHECK(ct_digest_is_backfill(s) == dp.backfill);
        } else {
                FUZZ_CHECK(dp.day == -1 && dp.end == -1 && !dp.file.len);
        }
        f = ct_digest_folder_of(s);
        if (f) {
                FUZZ_CHECK(strstr(f, "/" CT_DIGEST_TRAIL) || !strncmp(f, CT_PATH_LOGS "/", 8));
                free(f);
        }
        free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct ct_digest_reader *r;
        uint64_t h1 = 0, h2 = 0, h3 = 0;
        uint8_t *gz = NULL;
        size_t n, max;
        int rc1, rc2, rc3;

        if (size < 3)
                return 0;
        check_path(data + 3, size - 3);
        max = data[2] ? (size_t)data[2] * 64 : 0;
        if (data[0] & 1) {
                gz = malloc(size - 3 + 1);
                if (!gz)
                        return 0;
                memcpy(gz, data + 3, size - 3);
                n = size - 3;
        } else if (gz_members(data + 3, size - 3, 1 + ((data[0] >> 1) & 3), &gz, &n)) {
                return 0;
        }
        r = ct_digest_reader_new(max);
        FUZZ_CHECK(r != NULL);
        rc1 = read_chunked(r, gz, n, 0, &h1);
        rc2 = read_chunked(r, gz, n, data[1] * 2654435761U + 1, &h2);
        rc3 = read_chunked(r, gz, n, 0, &h3);
        ct_digest_reader_free(r);
        FUZZ_CHECK(rc1 == rc3 && h1 == h3);
        FUZZ_CHECK((rc1 == JB_OK) == (rc2 == JB_OK));
        if (rc1 == JB_OK)
                FUZZ_CHECK(h1 == h2);
        check_digest(gz, n, max);
        free(gz);
        return 0;
}
