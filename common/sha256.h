/*
 * sha256.h - SHA-256 (FIPS 180-4), streaming: init, update any number of times, final.
 *
 * Used to hash the uncompressed content of every CloudTrail log file the parser reads, as the
 * inflate produces it, so the result can be compared with the hashValue a CloudTrail digest
 * lists for it (ct_digest.h). On x86-64 CPUs with the SHA extensions the blocks go through
 * them (several times faster), elsewhere through portable C: same digests either way.
 * Ownership: the context is the caller's (on the stack is fine); nothing allocates.
 * Not thread-safe per context; separate contexts are independent.
 */
#ifndef SHA256_H
#define SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32     /* bytes of a digest */
#define SHA256_HEX_LEN 64 /* hex digits of a digest (the string needs one more byte) */

struct sha256_ctx {
        uint32_t h[8];
        uint64_t nbytes; /* message length so far */
        uint8_t blk[64]; /* a partial block */
        size_t nblk;
};

/* Start a new message. */
void sha256_init(struct sha256_ctx *c);
/* Add n bytes of p (n may be 0; p may then be NULL). */
void sha256_update(struct sha256_ctx *c, const void *p, size_t n);
/* Finish: out gets the 32-byte digest. The context must be initialised again before reuse. */
void sha256_final(struct sha256_ctx *c, uint8_t out[SHA256_LEN]);
/* One call for a whole buffer. */
void sha256(const void *p, size_t n, uint8_t out[SHA256_LEN]);

/* Which compression function hashes: "SHA-NI" (x86-64 CPUs with the SHA extensions) or
 * "portable" (other CPUs, or JIBE_SHA256_PORTABLE=1 in the environment at the first use).
 * A static string. */
const char *sha256_impl(void);
/* Tests and benchmarks: 1 makes every later block use the portable function, 0 goes back to
 * the one chosen above. Both give the same digests, so a context may see both. */
void sha256_force_portable(int on);

/* Lower-case hex of a digest into hex (65 bytes: 64 digits and a NUL). */
void sha256_hex(const uint8_t d[SHA256_LEN], char hex[SHA256_HEX_LEN + 1]);
/* Parse exactly 64 hex digits (either case, nothing after them) into d. 0, or -1 when s is
 * anything else (d is then untouched). */
int sha256_from_hex(const char *s, uint8_t d[SHA256_LEN]);

#endif
