/* SPDX-License-Identifier: GPL-2.0-only */
/* sha256.h - SHA-256 (FIPS 180-4) for policy digests. */
#ifndef CF_SHA256_H
#define CF_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cf_sha256 {
	uint32_t h[8];
	uint64_t len; /* bytes hashed so far */
	uint8_t buf[64];
	size_t fill;
};

void cf_sha256_init(struct cf_sha256 *s);
void cf_sha256_update(struct cf_sha256 *s, const void *data, size_t len);
void cf_sha256_final(struct cf_sha256 *s, uint8_t out[32]);

/* The portable C (0) or the x86 SHA extensions when the CPU has them (1):
 * for tests, which check one against the other. */
void cf_sha256_use_x86(bool on);

/* sha256_x86.c: n 64-byte blocks into h; only when usable. */
bool cf_sha256_x86_usable(void);
void cf_sha256_x86_blocks(uint32_t h[8], const uint8_t *p, size_t n,
			  const uint32_t k[64]);

/* Lower-case hex of a digest into out (65 bytes). */
char *cf_sha256_hex(const uint8_t d[32], char out[65]);

#endif /* CF_SHA256_H */
