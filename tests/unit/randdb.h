/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * randdb.h - reproducible random databases for the compiler's tests
 * (test_compile, test_readback).  Header-only: each test is one file.
 */
#ifndef CF_TEST_RANDDB_H
#define CF_TEST_RANDDB_H

#include <stdint.h>
#include <string.h>

#include "addr.h"
#include "db.h"

/* xorshift: reproducible without touching the libc generator. */
static inline uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* A random number of `bits` bits (0 for none). */
static inline cf_u128 rnd128(uint64_t *s, unsigned bits)
{
	cf_u128 v = (cf_u128)rnd(s) << 64 | rnd(s);

	return bits ? v >> (128 - bits) : 0;
}

/*
 * n records spread over the whole family, sizes from a single address to
 * 1/4096 of the space, so edges land at every depth of the trie.  0, or
 * cf_reclist_push's error.
 */
static inline int random_db(struct cf_dbset *dbs, uint64_t *seed, int fam,
			    int n)
{
	static const char *ccs[] = { "RU", "CN", "DE", "FR", "HK", "US" };
	cf_u128 x = 0, max = cf_af_max(fam);
	unsigned bits = cf_af_bits(fam);
	int err = 0;

	for (int i = 0; !err && i < n && x < max; i++) {
		cf_u128 gap = rnd128(seed, bits - 13);
		cf_u128 len = rnd128(seed, rnd(seed) % (bits - 12)) + 1;
		struct cf_rec r = { .family = fam };

		if (max - x < gap + len)
			break;
		r.first = x + gap;
		r.last = r.first + len - 1;
		memcpy(r.cc, ccs[rnd(seed) % 6], 2);
		r.has = CF_HAS_CC | (rnd(seed) % 3 ? CF_HAS_ASN : 0);
		r.asn = 64500 + rnd(seed) % 8;
		err = cf_reclist_push(fam == CF_AF_V4 ? &dbs->v4 : &dbs->v6,
				      &r);
		x = r.last + 1;
	}
	return err;
}

#endif /* CF_TEST_RANDDB_H */
