// SPDX-License-Identifier: GPL-2.0-only
/*
 * classes.c - verdict classes: one per country or ASN a rule lists, one per
 * net rule, plus the fixed default and local classes.
 *
 * Counters are kept per class, so "how much did we drop to CN" is a read
 * of one counter, and the mapping from a class back to the rule that made
 * it is what stats and events print.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classes.h"

enum cf_verdict cf_action_verdict(enum cf_action a)
{
	switch (a) {
	case CF_DENY:
		return CF_VERDICT_DROP;
	case CF_MONITOR:
		return CF_VERDICT_MONITOR;
	default:
		return CF_VERDICT_PASS;
	}
}

const char *cf_verdict_str(enum cf_verdict v)
{
	switch (v) {
	case CF_VERDICT_PASS:
		return "pass";
	case CF_VERDICT_DROP:
		return "drop";
	case CF_VERDICT_MONITOR:
		return "monitor";
	}
	return "?";
}

static const char *verdict_action(uint8_t v)
{
	return v == CF_VERDICT_DROP ? "deny" :
	       v == CF_VERDICT_MONITOR ? "monitor" : "allow";
}

const char *cf_class_str(const struct cf_class_meta *m, char *buf, size_t len)
{
	const char *act = verdict_action(m->verdict);

	switch (m->kind) {
	case CF_KIND_DEFAULT:
		snprintf(buf, len, "default %s", act);
		break;
	case CF_KIND_LOCAL:
		snprintf(buf, len, "local ranges");
		break;
	case CF_KIND_COUNTRY:
		snprintf(buf, len, "%s country %.2s", act, (const char *)m->cc);
		break;
	case CF_KIND_ASN:
		snprintf(buf, len, "%s asn AS%u", act, m->asn);
		break;
	case CF_KIND_NET:
		snprintf(buf, len, "%s net (line %u)", act, m->line);
		break;
	default:
		snprintf(buf, len, "class kind %u", m->kind);
	}
	return buf;
}

static int add_class(struct cf_classes *cl, const struct cf_class_meta *m)
{
	if (cl->n == CF_CLASS_MAX)
		return -E2BIG;
	cl->v[cl->n++] = *m;
	return 0;
}

static int cmp_asn(const void *a, const void *b)
{
	const struct cf_asn_class *x = a, *y = b;

	return x->asn < y->asn ? -1 : x->asn > y->asn;
}

static int add_rule(struct cf_classes *cl, const struct cf_rule *r, uint32_t ri)
{
	struct cf_class_meta m = {
		.verdict = cf_action_verdict(r->action),
		.line = r->line,
		.rule = ri,
	};
	size_t k;
	int err;

	if (r->match == CF_MATCH_NET) {
		m.kind = CF_KIND_NET;
		return add_class(cl, &m);
	}
	for (k = 0; k < r->n_items; k++) {
		if (r->match == CF_MATCH_COUNTRY) {
			m.kind = CF_KIND_COUNTRY;
			memcpy(m.cc, r->items[k].cc, 2);
			cl->by_cc[cf_cc_index(m.cc)] = cl->n;
		} else {
			m.kind = CF_KIND_ASN;
			m.asn = r->items[k].asn;
			cl->by_asn[cl->n_asn].asn = m.asn;
			cl->by_asn[cl->n_asn++].class = cl->n;
		}
		err = add_class(cl, &m);
		if (err)
			return err;
	}
	return 0;
}

static size_t count_asns(const struct cf_policy *p)
{
	size_t i, n = 0;

	for (i = 0; i < p->n_rules; i++)
		if (p->rules[i].match == CF_MATCH_ASN)
			n += p->rules[i].n_items;
	return n;
}

int cf_classes_build(const struct cf_policy *p, struct cf_classes *cl)
{
	struct cf_class_meta def = {
		.kind = CF_KIND_DEFAULT,
		.verdict = cf_action_verdict(p->default_action),
	};
	struct cf_class_meta local = { .kind = CF_KIND_LOCAL };
	size_t i;
	int err;

	memset(cl, 0, sizeof(*cl));
	cl->v = calloc(CF_CLASS_MAX, sizeof(*cl->v));
	cl->by_asn = calloc(count_asns(p) + 1, sizeof(*cl->by_asn));
	if (!cl->v || !cl->by_asn) {
		cf_classes_free(cl);
		return -ENOMEM;
	}
	cl->rule_class = calloc(p->n_rules + 1, sizeof(*cl->rule_class));
	if (!cl->rule_class) {
		cf_classes_free(cl);
		return -ENOMEM;
	}
	add_class(cl, &def);
	add_class(cl, &local);
	for (i = 0; i < p->n_rules; i++) {
		cl->rule_class[i] = cl->n;
		err = add_rule(cl, &p->rules[i], i);
		if (err) {
			cf_classes_free(cl);
			return err;
		}
	}
	qsort(cl->by_asn, cl->n_asn, sizeof(*cl->by_asn), cmp_asn);
	for (size_t i = 0; i < cl->n_asn; i++) {
		uint32_t b = cl->by_asn[i].asn % CF_ASN_FILTER_BITS;

		cl->asn_filter[b / 64] |= 1ull << (b % 64);
	}
	return 0;
}

void cf_classes_free(struct cf_classes *cl)
{
	free(cl->v);
	free(cl->by_asn);
	free(cl->rule_class);
	memset(cl, 0, sizeof(*cl));
}

uint32_t cf_classes_of_asn(const struct cf_classes *cl, uint32_t asn)
{
	size_t lo = 0, hi = cl->n_asn;

	if (!cf_classes_asn_maybe(cl, asn))
		return 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cl->by_asn[mid].asn < asn)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < cl->n_asn && cl->by_asn[lo].asn == asn)
		return cl->by_asn[lo].class;
	return 0;
}
