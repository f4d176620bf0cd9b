/*
 * gen_huge.c - one huge CloudTrail log file for benchmarks, written as a stream: records are
 * formatted into a small buffer that is compressed and written out whenever it passes 1 MiB,
 * so memory stays constant whatever --bytes is. Keys come from a fixed pool per bucket; there
 * is no truth. The expected counts (docs/EVENTS.md, as `jibe events --stats FILE` reports them with
 * no other option) are printed and written to FILE.stats.json.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ctgen.h"

/* The kinds of record are bands of x in [0, 1000) below. The writes jibe acts on: PutObject,
 * CopyObject, CompleteMultipartUpload [680, 825), DeleteObject(s) [845, 887). */
enum { POOL = 1024, W1_LO = 680, W1_N = 145, W2_LO = 845, W2_N = 42 };

int gen_huge_cmd(const char *out, uint64_t bytes, uint64_t seed, int level, int writes, char *errstr,
                 size_t errsz)
{
        struct gen_world w;
        struct gen_rng rng;
        struct gen_gz gz;
        struct gen_ob o = {0};
        char **pool;
        char tmp[4200], spath[4200];
        long stats[CL_N] = {0};
        uint64_t nrec = 0, total = 0;
        int64_t t = 1795996800; /* 2026-11-29T00:00:00Z */
        int fd, c, rc = -1, i;
        FILE *sf;

        gen_world_setup(&w, NULL, seed);
        gen_rng_seed(&rng, seed, 77);
        pool = gen_xmalloc(POOL * sizeof(*pool));
        for (i = 0; i < POOL; i++)
                pool[i] = gen_new_key(&rng);
        if (gen_gz_init(&gz, level)) {
                snprintf(errstr, errsz, "zlib: cannot initialise deflate at level %d", level);
                goto out_pool;
        }
        snprintf(tmp, sizeof(tmp), "%s.tmp-ctgen", out);
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
                snprintf(errstr, errsz, "cannot create %s: %s", tmp, strerror(errno));
                goto out_gz;
        }
        gen_gz_begin(&gz, fd);
        GEN_LIT(&o, "{\"Records\":[");
        while (total + o.len + 2 < bytes) {
                struct gen_rec r;
                uint64_t x = gen_rng_below(&rng, 1000);
                int b;

                /* --writes: x drawn among the writes with that probability, else among the
                 * other kinds (the default mix draws nothing more, so its files stay as
                 * they were). */
                if (writes >= 0 && gen_rng_below(&rng, 100) < (uint64_t)writes) {
                        x = gen_rng_below(&rng, W1_N + W2_N);
                        x = x < W1_N ? W1_LO + x : W2_LO + (x - W1_N);
                } else if (writes >= 0) {
                        x = gen_rng_below(&rng, 1000 - W1_N - W2_N);
                        if (x >= W1_LO)
                                x += W1_N;
                        if (x >= W2_LO)
                                x += W2_N;
                }

                memset(&r, 0, sizeof(r));
                t += (int64_t)(gen_rng_below(&rng, 100) == 0);
                r.t = t;
                r.rnd = gen_rng_next(&rng);
                r.src = GEN_SRC_S3;
                r.src_bucket = -1;
                do
                        b = (int)gen_rng_below(&rng, (uint64_t)w.nbucket);
                while (w.bucket[b].log);
                r.bucket = (int16_t)b;
                r.stream = (int16_t)w.bucket[b].stream;
                r.ident = (int16_t)gen_rng_below(&rng, 12); /* the people, never Access Anywhere */
                r.key = pool[gen_rng_below(&rng, POOL)];
                r.size = 1 + gen_rng_below(&rng, 200000);
                if (x < 520) {
                        r.ev = EV_GET;
                } else if (x < 640) {
                        r.ev = EV_HEAD;
                } else if (x < 680) {
                        r.ev = EV_LIST;
                        r.key = "reports/";
                } else if (x < 800) {
                        r.ev = EV_PUT;
                        r.err = x % 40 == 0 ? ERR_NULL : ERR_NONE;
                } else if (x < 815) {
                        r.ev = EV_COPY;
                        r.src_bucket = r.bucket;
                        r.src_key = pool[gen_rng_below(&rng, POOL)];
                } else if (x < 825) {
                        r.ev = EV_COMPLETEMPU;
                        r.upload = r.rnd;
                } else if (x < 845) {
                        r.ev = EV_UPLOADPART;
                        r.upload = r.rnd;
                        r.part = 1 + (uint32_t)(x % 5);
                } else if (x < 885) {
                        r.ev = EV_DELETE;
                } else if (x < 887) {
                        r.ev = EV_DELETEMANY;
                } else if (x < 910) {
                        r.ev = EV_PUTTAGGING;
                } else if (x < 950) {
                        r.ev = x < 930 ? EV_PUT : EV_GET;
                        r.err = x < 930 ? ERR_DENIED : ERR_NOSUCHKEY;
                } else if (x < 951) {
                        r.ev = EV_PUT;
                        r.km = KM_NONE;
                } else if (x < 955) {
                        r.ev = EV_DELETE;
                        r.km = KM_RES;
                } else {
                        static const int evs[] = {EV_EC2_DESCRIBE, EV_KMS_DECRYPT, EV_S3X_PUT,
                                                  EV_STS_ASSUME};
                        static const int srcs[] = {GEN_SRC_EC2, GEN_SRC_KMS, GEN_SRC_S3EXPRESS,
                                                   GEN_SRC_STS};
                        int k = (int)(x % 4);

                        r.ev = (uint8_t)evs[k];
                        r.src = (uint8_t)srcs[k];
                        r.bucket = -1;
                }
                if (nrec)
                        gen_ob_ch(&o, ',');
                gen_rec_json(&w, &r, &o);
                stats[gen_classify(&w, &r, 0)]++;
                nrec++;
                if (o.len >= (1u << 20)) {
                        if (gen_gz_write(&gz, o.p, o.len))
                                goto out_io;
                        total += o.len;
                        o.len = 0;
                }
        }
        GEN_LIT(&o, "]}");
        if (gen_gz_write(&gz, o.p, o.len) || gen_gz_finish(&gz))
                goto out_io;
        total += o.len;
        if (close(fd)) {
                fd = -1;
                goto out_io;
        }
        fd = -1;
        if (rename(tmp, out)) {
                snprintf(errstr, errsz, "cannot rename %s to %s: %s", tmp, out, strerror(errno));
                goto out_gz;
        }
        snprintf(spath, sizeof(spath), "%s.stats.json", out);
        sf = fopen(spath, "w");
        if (!sf) {
                snprintf(errstr, errsz, "cannot create %s: %s", spath, strerror(errno));
                goto out_gz;
        }
        for (i = 0; i < 2; i++) {
                FILE *fp = i ? stdout : sf;

                fprintf(fp, "{\"records\":%llu,\"bytes\":%llu,\"compressed\":%llu",
                        (unsigned long long)nrec, (unsigned long long)total,
                        (unsigned long long)gz.out_bytes);
                for (c = 0; c < CL_N; c++)
                        fprintf(fp, ",\"%s\":%ld", gen_class_name[c], stats[c]);
                fprintf(fp, "}\n");
        }
        if (fclose(sf)) {
                snprintf(errstr, errsz, "cannot write %s: %s", spath, strerror(errno));
                goto out_gz;
        }
        rc = 0;
        goto out_gz;
out_io:
        snprintf(errstr, errsz, "cannot write %s: %s", tmp, strerror(errno));
        if (fd >= 0)
                close(fd);
        unlink(tmp);
out_gz:
        gen_gz_free(&gz);
out_pool:
        for (i = 0; i < POOL; i++)
                free(pool[i]);
        free(pool);
        gen_ob_free(&o);
        gen_world_free(&w);
        return rc;
}
