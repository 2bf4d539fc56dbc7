/* SPDX-License-Identifier: GPL-2.0-only */
/* classes.h - building verdict classes from rules (private to policy/). */
#ifndef CF_CLASSES_H
#define CF_CLASSES_H

#include <stdint.h>

#include "compile.h"

/*
 * Index of a two-character code.  Letters and digits get their own slots
 * (databases use A1-A3 next to ISO codes); anything else shares slot 36,
 * which no rule can name.
 */
#define CF_CC_SLOTS (37 * 37)

static inline unsigned cf_cc_char(uint8_t ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= '0' && ch <= '9')
		return 26 + ch - '0';
	return 36;
}

static inline unsigned cf_cc_index(const uint8_t cc[2])
{
	return cf_cc_char(cc[0]) * 37 + cf_cc_char(cc[1]);
}

struct cf_asn_class {
	uint32_t asn;
	uint32_t class;
};

/* A bit for each low 16 bits of a ruled ASN: most records' ASNs have none. */
#define CF_ASN_FILTER_BITS 65536

struct cf_classes {
	struct cf_class_meta *v; /* CF_CLASS_MAX slots */
	size_t n;
	uint32_t by_cc[CF_CC_SLOTS]; /* class of a country code, 0 = none */
	struct cf_asn_class *by_asn; /* sorted by asn */
	size_t n_asn;
	uint64_t asn_filter[CF_ASN_FILTER_BITS / 64];
	uint32_t *rule_class; /* first class of each rule */
};


/* -E2BIG past CF_CLASS_MAX classes, -ENOMEM. */
int cf_classes_build(const struct cf_policy *p, struct cf_classes *cl);
void cf_classes_free(struct cf_classes *cl);

uint32_t cf_classes_of_asn(const struct cf_classes *cl, uint32_t asn);

/* Whether a rule may name asn: false for most records' ASNs. */
static inline int cf_classes_asn_maybe(const struct cf_classes *cl,
				       uint32_t asn)
{
	uint32_t b = asn % CF_ASN_FILTER_BITS;

	return (cl->asn_filter[b / 64] >> (b % 64)) & 1;
}

/*
 * The class a database record earns: asn rule, else country rule, else
 * the default.  Inline: the compiler calls it for every record.
 */
static inline uint32_t cf_classes_of_rec(const struct cf_classes *cl,
					 const struct cf_rec *r)
{
	uint32_t c;

	if (!r)
		return CF_CLASS_DEFAULT;
	if ((r->has & CF_HAS_ASN) && cf_classes_asn_maybe(cl, r->asn)) {
		c = cf_classes_of_asn(cl, r->asn);
		if (c)
			return c;
	}
	if (r->has & CF_HAS_CC) {
		c = cl->by_cc[cf_cc_index((const uint8_t *)r->cc)];
		if (c)
			return c;
	}
	return CF_CLASS_DEFAULT;
}

#endif /* CF_CLASSES_H */
