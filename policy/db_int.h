/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * db_int.h - helpers shared by the database readers (db*.c only).
 */
#ifndef CF_DB_INT_H
#define CF_DB_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "db.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

static inline bool cf_rec_same_attrs(const struct cf_rec *a,
				     const struct cf_rec *b)
{
	if (a->has != b->has)
		return false;
	if ((a->has & CF_HAS_CC) && memcmp(a->cc, b->cc, 2))
		return false;
	return !(a->has & CF_HAS_ASN) || a->asn == b->asn;
}

/*
 * Append r to l, or extend l's last record when r continues it with the
 * same attributes.  Records below index base belong to an earlier call
 * and are never touched.  A record stating nothing is dropped: it only
 * means "no data here", which is what a gap says too.
 */
int cf_db_emit(struct cf_reclist *l, size_t base, const struct cf_rec *r);

/* Big-endian bytes to a number: n bytes, n <= 16. */
static inline cf_u128 cf_db_be(const uint8_t *p, unsigned n)
{
	cf_u128 v = 0;

	while (n--)
		v = v << 8 | *p++;
	return v;
}

/* Keep a country code if it is two ASCII letters; store it upper case. */
static inline bool cf_db_set_cc(struct cf_rec *r, const char *s, size_t len)
{
	unsigned i;

	if (len != 2)
		return false;
	for (i = 0; i < 2; i++) {
		char c = s[i] & ~0x20;

		if (c < 'A' || c > 'Z')
			return false;
		r->cc[i] = c;
	}
	r->has |= CF_HAS_CC;
	return true;
}

/* asn -> name, for the readers that keep names (CSV, mmdb, libloc). */
struct cf_asmap {
	struct cf_asname *slot;
	size_t n;
	size_t cap; /* power of two, or 0 */
};

struct cf_asname {
	uint32_t asn;
	char *name; /* NULL: free slot */
};

/* Set asn's name (a copy of len bytes); a later call replaces it. */
int cf_asmap_put(struct cf_asmap *m, uint32_t asn, const char *name,
		 size_t len);
const char *cf_asmap_get(const struct cf_asmap *m, uint32_t asn);
void cf_asmap_free(struct cf_asmap *m);

/* The libloc signing key used when CAMFENCE_LOCATION_KEY is unset (tests
 * point it elsewhere). */
extern const char *cf_libloc_key_default;

/*
 * A refusal on trust (the format, the key, the signature): "PATH: why",
 * after the database line of the policy when the database has one.
 * Returns -EINVAL.
 */
int cf_db_distrust(const struct cf_db *db, struct cf_err *e, const char *fmt,
		   ...) __attribute__((format(printf, 3, 4)));

#endif /* CF_DB_INT_H */
