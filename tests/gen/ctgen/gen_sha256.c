/*
 * gen_sha256.c - SHA-256 (FIPS 180-4) for jibe-ctgen's digest files: the hash of every log
 * file and digest it writes. Self-contained (the Makefile links no crypto library); checked
 * against the FIPS 180-2 example vectors by `jibe-ctgen selftest` and against Python's hashlib
 * by tests/integration/0205-ctgen-digests.sh.
 * Owns nothing: the context is the caller's, on its stack or in a struct.
 */
#include "ctgen.h"

static const uint32_t sha_k[64] =
        {0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
         0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
         0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
         0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
         0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
         0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
         0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
         0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static uint32_t ror(uint32_t x, unsigned n)
{
        return (x >> n) | (x << (32 - n));
}

static void sha_block(struct gen_sha256 *c, const unsigned char *p)
{
        uint32_t w[64], a, b, d, e, f, g, h, cc, t1, t2;
        int i;

        for (i = 0; i < 16; i++)
                w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
                       (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
        for (i = 16; i < 64; i++) {
                uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
                uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);

                w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        a = c->h[0], b = c->h[1], cc = c->h[2], d = c->h[3];
        e = c->h[4], f = c->h[5], g = c->h[6], h = c->h[7];
        for (i = 0; i < 64; i++) {
                t1 = h + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + sha_k[i] + w[i];
                t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & cc) ^ (b & cc));
                h = g, g = f, f = e, e = d + t1;
                d = cc, cc = b, b = a, a = t1 + t2;
        }
        c->h[0] += a, c->h[1] += b, c->h[2] += cc, c->h[3] += d;
        c->h[4] += e, c->h[5] += f, c->h[6] += g, c->h[7] += h;
}

void gen_sha256_init(struct gen_sha256 *c)
{
        static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

        memcpy(c->h, h0, sizeof(h0));
        c->bytes = 0;
        c->nbuf = 0;
}

void gen_sha256_update(struct gen_sha256 *c, const void *data, size_t n)
{
        const unsigned char *p = data;

        c->bytes += n;
        if (c->nbuf) {
                size_t k = 64 - c->nbuf < n ? 64 - c->nbuf : n;

                memcpy(c->buf + c->nbuf, p, k);
                c->nbuf += k;
                p += k;
                n -= k;
                if (c->nbuf < 64)
                        return;
                sha_block(c, c->buf);
                c->nbuf = 0;
        }
        for (; n >= 64; p += 64, n -= 64)
                sha_block(c, p);
        memcpy(c->buf, p, n);
        c->nbuf = n;
}

void gen_sha256_final(struct gen_sha256 *c, unsigned char out[32])
{
        uint64_t bits = c->bytes * 8;
        unsigned char pad[72];
        size_t padn = (c->nbuf < 56 ? 56 : 120) - c->nbuf;
        int i;

        memset(pad, 0, sizeof(pad));
        pad[0] = 0x80;
        for (i = 0; i < 8; i++)
                pad[padn + (size_t)i] = (unsigned char)(bits >> (56 - 8 * i));
        gen_sha256_update(c, pad, padn + 8);
        for (i = 0; i < 8; i++) {
                out[4 * i] = (unsigned char)(c->h[i] >> 24);
                out[4 * i + 1] = (unsigned char)(c->h[i] >> 16);
                out[4 * i + 2] = (unsigned char)(c->h[i] >> 8);
                out[4 * i + 3] = (unsigned char)c->h[i];
        }
}

void gen_sha256_hex(const unsigned char md[32], char out[65])
{
        static const char hx[] = "0123456789abcdef";
        int i;

        for (i = 0; i < 32; i++) {
                out[2 * i] = hx[md[i] >> 4];
                out[2 * i + 1] = hx[md[i] & 15];
        }
        out[64] = '\0';
}

/* FIPS 180-2 appendix B: "abc", the 448-bit two-block message, one million 'a' (fed in
 * uneven pieces so the buffering is exercised). 0 when all match. */
int gen_sha256_selftest(void)
{
        static const char *const want[3] =
                {"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
                 "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"};
        struct gen_sha256 c;
        unsigned char md[32], a[1000];
        char hex[65];
        int bad = 0, i;

        gen_sha256_init(&c);
        gen_sha256_update(&c, "abc", 3);
        gen_sha256_final(&c, md);
        gen_sha256_hex(md, hex);
        bad |= strcmp(hex, want[0]) != 0;
        gen_sha256_init(&c);
        gen_sha256_update(&c, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56);
        gen_sha256_final(&c, md);
        gen_sha256_hex(md, hex);
        bad |= strcmp(hex, want[1]) != 0;
        memset(a, 'a', sizeof(a));
        gen_sha256_init(&c);
        for (i = 0; i < 2000; i++) /* 1000 x (999 + 1) bytes */
                gen_sha256_update(&c, a, (size_t)(i % 2 ? 1 : 999));
        gen_sha256_final(&c, md);
        gen_sha256_hex(md, hex);
        bad |= strcmp(hex, want[2]) != 0;
        return bad;
}
