/*
 * sha256.h - SHA-256 (FIPS 180-4), incremental, so a file can be hashed
 * while it is streamed through a parser instead of read twice.
 */
#ifndef PIQPLAN_SHA256_H
#define PIQPLAN_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t state[8];
	uint64_t bytes;		/* message length so far */
	uint8_t block[64];	/* pending partial block, bytes % 64 of it used */
};

void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *data, size_t len);
/* Finish: 32 bytes of digest. The context must be re-initialised to reuse. */
void sha256_final(struct sha256 *c, uint8_t digest[32]);
/* Finish into 64 lowercase hex digits and a NUL. */
void sha256_final_hex(struct sha256 *c, char hex[65]);

#endif
