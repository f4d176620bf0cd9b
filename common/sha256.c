/*
 * sha256.c - SHA-256 as FIPS 180-4 defines it, one 64-byte block at a time (see sha256.h).
 *
 * Portable C, no table beyond the 64 round constants. tests/unit/test_sha256.c prints its
 * throughput beside sha256sum's (2 Dec 2026, shared 2-core machine, -O2: 137 MB/s against 207
 * when quiet; 51-79 against 48-81 under a load of 6).
 */
#include <string.h>

#include "sha256.h"

static const uint32_t K[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror(uint32_t x, unsigned n)
{
        return (x >> n) | (x << (32 - n));
}

static void compress(uint32_t h[8], const uint8_t *p)
{
        uint32_t w[64], a, b, c, d, e, f, g, k, t1, t2;
        int i;

        for (i = 0; i < 16; i++)
                w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
                       (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
        for (i = 16; i < 64; i++) {
                uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
                uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);

                w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
        for (i = 0; i < 64; i++) {
                t1 = k + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
                t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
                k = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
        }
        h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += k;
}

void sha256_init(struct sha256_ctx *c)
{
        static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

        memcpy(c->h, iv, sizeof(iv));
        c->nbytes = 0;
        c->nblk = 0;
}

void sha256_update(struct sha256_ctx *c, const void *p, size_t n)
{
        const uint8_t *s = p;

        if (!n)
                return;
        c->nbytes += n;
        if (c->nblk) {
                size_t k = 64 - c->nblk < n ? 64 - c->nblk : n;

                memcpy(c->blk + c->nblk, s, k);
                c->nblk += k, s += k, n -= k;
                if (c->nblk < 64)
                        return;
                compress(c->h, c->blk);
                c->nblk = 0;
        }
        for (; n >= 64; s += 64, n -= 64)
                compress(c->h, s);
        if (n) {
                memcpy(c->blk, s, n);
                c->nblk = n;
        }
}

void sha256_final(struct sha256_ctx *c, uint8_t out[SHA256_LEN])
{
        uint64_t bits = c->nbytes * 8;
        int i;

        c->blk[c->nblk++] = 0x80;
        if (c->nblk > 56) {
                memset(c->blk + c->nblk, 0, 64 - c->nblk);
                compress(c->h, c->blk);
                c->nblk = 0;
        }
        memset(c->blk + c->nblk, 0, 56 - c->nblk);
        for (i = 0; i < 8; i++)
                c->blk[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
        compress(c->h, c->blk);
        for (i = 0; i < 8; i++) {
                out[4 * i] = (uint8_t)(c->h[i] >> 24);
                out[4 * i + 1] = (uint8_t)(c->h[i] >> 16);
                out[4 * i + 2] = (uint8_t)(c->h[i] >> 8);
                out[4 * i + 3] = (uint8_t)c->h[i];
        }
        memset(c, 0, sizeof(*c));
}

void sha256(const void *p, size_t n, uint8_t out[SHA256_LEN])
{
        struct sha256_ctx c;

        sha256_init(&c);
        sha256_update(&c, p, n);
        sha256_final(&c, out);
}

void sha256_hex(const uint8_t d[SHA256_LEN], char hex[SHA256_HEX_LEN + 1])
{
        static const char dig[] = "0123456789abcdef";
        int i;

        for (i = 0; i < SHA256_LEN; i++) {
                hex[2 * i] = dig[d[i] >> 4];
                hex[2 * i + 1] = dig[d[i] & 15];
        }
        hex[SHA256_HEX_LEN] = '\0';
}

static int nib(char ch)
{
        if (ch >= '0' && ch <= '9')
                return ch - '0';
        if (ch >= 'a' && ch <= 'f')
                return ch - 'a' + 10;
        if (ch >= 'A' && ch <= 'F')
                return ch - 'A' + 10;
        return -1;
}

int sha256_from_hex(const char *s, uint8_t d[SHA256_LEN])
{
        uint8_t t[SHA256_LEN];
        int i, hi, lo;

        for (i = 0; i < SHA256_LEN; i++) {
                hi = nib(s[2 * i]);
                if (hi < 0)
                        return -1;
                lo = nib(s[2 * i + 1]);
                if (lo < 0)
                        return -1;
                t[i] = (uint8_t)(hi << 4 | lo);
        }
        if (s[SHA256_HEX_LEN] != '\0')
                return -1;
        memcpy(d, t, sizeof(t));
        return 0;
}
