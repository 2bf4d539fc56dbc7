// SPDX-License-Identifier: GPL-2.0-only
/*
 * classify.c - the policy's meaning for one address, straight from the
 * rules.  Deliberately naive (linear scans, no shared code with the range
 * passes of compile.c) so that `lookup` can explain a verdict and tests can
 * hold the compiled tables against it.
 */
#include "compile.h"

static int contains(const struct cf_prefix *p, cf_u128 addr, int family)
{
	return p->family == family && addr >= cf_prefix_first(p) &&
	       addr <= cf_prefix_last(p);
}

static uint32_t class_where(const struct cf_compiled *c, uint8_t kind,
			    uint32_t rule, uint32_t asn, const char *cc)
{
	size_t i;

	for (i = CF_CLASS_FIXED; i < c->n_classes; i++) {
		const struct cf_class_meta *m = &c->classes[i];

		if (m->kind != kind)
			continue;
		if (kind == CF_KIND_NET && m->rule == rule)
			return i;
		if (kind == CF_KIND_ASN && m->asn == asn)
			return i;
		if (kind == CF_KIND_COUNTRY && m->cc[0] == cc[0] && m->cc[1] == cc[1])
			return i;
	}
	return CF_CLASS_DEFAULT;
}

/* Longest matching net rule or local range; -1 when none matches. */
static int net_match(const struct cf_compiled *c, const struct cf_policy *p,
		     cf_u128 addr, int family, uint32_t *class)
{
	const struct cf_prefix *loc;
	size_t i, k, nloc;
	int best = -1;

	cf_local_prefixes(family, &loc, &nloc);
	for (k = 0; k < nloc; k++)
		if (contains(&loc[k], addr, family) && loc[k].len > best) {
			best = loc[k].len;
			*class = CF_CLASS_LOCAL;
		}
	for (i = 0; i < p->n_rules; i++) {
		const struct cf_rule *r = &p->rules[i];

		if (r->match != CF_MATCH_NET)
			continue;
		for (k = 0; k < r->n_items; k++)
			if (contains(&r->items[k].net, addr, family) &&
			    r->items[k].net.len >= best) {
				best = r->items[k].net.len;
				*class = class_where(c, CF_KIND_NET, i, 0, NULL);
			}
	}
	return best;
}

uint32_t cf_policy_classify(const struct cf_compiled *c,
			    const struct cf_policy *p, const struct cf_rec *rec,
			    cf_u128 addr, int family)
{
	uint32_t class = CF_CLASS_DEFAULT, v4;

	if (net_match(c, p, addr, family, &class) >= 0)
		return class;
	/* as cf_compile: records in an embedded range are left out */
	if (family == CF_AF_V6 && cf_addr_embedded_v4(addr, &v4))
		rec = NULL;
	if (rec && (rec->has & CF_HAS_ASN)) {
		class = class_where(c, CF_KIND_ASN, 0, rec->asn, NULL);
		if (class != CF_CLASS_DEFAULT)
			return class;
	}
	if (rec && (rec->has & CF_HAS_CC))
		return class_where(c, CF_KIND_COUNTRY, 0, 0, rec->cc);
	return CF_CLASS_DEFAULT;
}
