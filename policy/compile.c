// SPDX-License-Identifier: GPL-2.0-only
/*
 * compile.c - database records + rules -> merged class ranges.
 *
 * Per family, in three linear passes:
 *  1. every layered database record gets the class of its ASN rule, else
 *     its country rule, else the default; gaps get the default;
 *  2. net rules and the built-in local ranges are flattened into a short
 *     disjoint "overlay" (longest prefix wins; at equal length the
 *     operator's rule beats the built-in local range);
 *  3. the overlay is laid over the base and equal neighbours merged.
 * The result covers the whole address space, so the image builder never
 * meets a hole.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "classes.h"
#include "sha256.h"

int cf_crange_push(struct cf_crangelist *l, cf_u128 first, cf_u128 last,
		   uint32_t class)
{
	struct cf_crange *prev = l->n ? &l->v[l->n - 1] : NULL;

	if (prev && prev->class == class && prev->last + 1 == first) {
		prev->last = last;
		return 0;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 1024;
		struct cf_crange *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = (struct cf_crange){ first, last, class };
	return 0;
}

static void crange_free(struct cf_crangelist *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/*
 * Pass 1: records -> classes, holes -> default.  A million records fold
 * into some ten thousand runs, so the run being built stays in registers
 * and only a change of class writes to the list.
 */
struct run {
	cf_u128 first, last;
	uint32_t class;
};

static int run_add(struct run *run, struct cf_crangelist *out, cf_u128 first,
		   cf_u128 last, uint32_t class)
{
	int err;

	if (class == run->class && run->last + 1 == first) {
		run->last = last;
		return 0;
	}
	err = first ? cf_crange_push(out, run->first, run->last, run->class) : 0;
	*run = (struct run){ first, last, class };
	return err;
}

static int base_ranges(const struct cf_classes *cl, const struct cf_reclist *recs,
		       cf_u128 max, struct cf_crangelist *out)
{
	struct run run = { 0, max, CF_CLASS_MAX }; /* no class: never joined */
	cf_u128 next = 0; /* first address not yet covered */
	size_t i;
	int err = 0;

	for (i = 0; i < recs->n && !err; i++) {
		const struct cf_rec *r = &recs->v[i];

		if (r->first > next)
			err = run_add(&run, out, next, r->first - 1,
				      CF_CLASS_DEFAULT);
		if (!err)
			err = run_add(&run, out, r->first, r->last,
				      cf_classes_of_rec(cl, r));
		if (r->last == max)
			break;
		next = r->last + 1;
	}
	if (!err && (!recs->n || recs->v[recs->n - 1].last != max))
		err = run_add(&run, out, next, max, CF_CLASS_DEFAULT);
	return err ?: cf_crange_push(out, run.first, run.last, run.class);
}

struct paint {
	cf_u128 first;
	cf_u128 last;
	uint32_t class;
	uint8_t len;
	uint8_t operator; /* 1: a net rule, 0: a built-in local range */
};

static int cmp_paint(const void *a, const void *b)
{
	const struct paint *x = a, *y = b;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return (int)x->operator - (int)y->operator;
}

/*
 * Paint [p->first, p->last] over a sorted disjoint list, replacing what it
 * covers.  Prefixes are nested or disjoint, so a paint splits at most one
 * range on each side.  Quadratic in the number of net items at worst,
 * which stays small next to the database passes.
 */
static int paint_one(struct cf_crangelist *l, const struct paint *p)
{
	struct cf_crangelist out = { 0 };
	size_t i;
	int err = 0, done = 0;

	for (i = 0; i < l->n && !err; i++) {
		struct cf_crange r = l->v[i];

		if (r.last < p->first || r.first > p->last) {
			if (r.first > p->last && !done) {
				err = cf_crange_push(&out, p->first, p->last, p->class);
				done = 1;
			}
			if (!err)
				err = cf_crange_push(&out, r.first, r.last, r.class);
			continue;
		}
		if (r.first < p->first)
			err = err ?: cf_crange_push(&out, r.first, p->first - 1, r.class);
		if (!done) {
			err = err ?: cf_crange_push(&out, p->first, p->last, p->class);
			done = 1;
		}
		if (r.last > p->last)
			err = err ?: cf_crange_push(&out, p->last + 1, r.last, r.class);
	}
	if (!done && !err)
		err = cf_crange_push(&out, p->first, p->last, p->class);
	crange_free(l);
	*l = out;
	return err;
}

static int collect_paints(const struct cf_policy *p, const struct cf_classes *cl,
			  int family, struct paint **out, size_t *n)
{
	const struct cf_prefix *loc;
	size_t i, k, nloc, cap = 0;
	struct paint *v;

	cf_local_prefixes(family, &loc, &nloc);
	for (i = 0; i < p->n_rules; i++)
		if (p->rules[i].match == CF_MATCH_NET)
			cap += p->rules[i].n_items;
	v = calloc(cap + nloc, sizeof(*v));
	if (!v)
		return -ENOMEM;
	*n = 0;
	for (k = 0; k < nloc; k++)
		v[(*n)++] = (struct paint){ cf_prefix_first(&loc[k]),
					    cf_prefix_last(&loc[k]),
					    CF_CLASS_LOCAL, loc[k].len, 0 };
	for (i = 0; i < p->n_rules; i++) {
		const struct cf_rule *r = &p->rules[i];

		for (k = 0; r->match == CF_MATCH_NET && k < r->n_items; k++) {
			const struct cf_prefix *pf = &r->items[k].net;

			if (pf->family != family)
				continue;
			v[(*n)++] = (struct paint){ cf_prefix_first(pf),
						    cf_prefix_last(pf),
						    cl->rule_class[i], pf->len, 1 };
		}
	}
	qsort(v, *n, sizeof(*v), cmp_paint);
	*out = v;
	return 0;
}

/* Pass 3: base with the overlay on top; both sorted, base covers all. */
static int lay_over(const struct cf_crangelist *base,
		    const struct cf_crangelist *ov, struct cf_crangelist *out)
{
	size_t i, j = 0;
	int err = 0;

	for (i = 0; i < base->n && !err; i++) {
		cf_u128 x = base->v[i].first, last = base->v[i].last;

		while (j < ov->n && ov->v[j].last < x)
			j++;
		while (!err && x <= last) {
			const struct cf_crange *o = j < ov->n ? &ov->v[j] : NULL;
			cf_u128 end;

			if (!o || o->first > last) {
				err = cf_crange_push(out, x, last, base->v[i].class);
				break;
			}
			if (o->first > x) {
				err = cf_crange_push(out, x, o->first - 1,
						  base->v[i].class);
				x = o->first;
				continue;
			}
			end = o->last < last ? o->last : last;
			err = cf_crange_push(out, x, end, o->class);
			if (end == last)
				break;
			x = end + 1;
			j++;
		}
	}
	return err;
}

/* The first record of l (sorted, disjoint) that ends at or after x. */
static size_t recs_from(const struct cf_reclist *l, cf_u128 x)
{
	size_t a = 0, b = l->n;

	while (a < b) {
		size_t mid = a + (b - a) / 2;

		if (l->v[mid].last < x)
			a = mid + 1;
		else
			b = mid;
	}
	return a;
}

/*
 * The datapath never asks its IPv6 table about an address in an embedded
 * range (addr.h): it judges the IPv4 address inside.  So IPv6 database
 * records there are left out, as if the database had none (clipped where
 * they straddle an edge), and the IPv4 data decides those addresses here
 * as in the kernel; records that lost addresses are counted for the
 * operator.  One place for every reader, after layering.  Painting the
 * default over base does it without copying the records: the base is a
 * few thousand class runs, the records up to a million.
 */
static int leave_out_embedded(const struct cf_reclist *recs,
			      struct cf_crangelist *base, size_t *n_clipped)
{
	size_t k, from, to, done = 0;
	int err = 0;

	for (k = 0; k < CF_N_EMBEDDED && !err; k++) {
		struct paint p = { cf_prefix_first(&cf_embedded[k].pfx),
				   cf_prefix_last(&cf_embedded[k].pfx),
				   CF_CLASS_DEFAULT };

		from = recs_from(recs, p.first);
		to = from;
		while (to < recs->n && recs->v[to].first <= p.last)
			to++;
		if (from == to)
			continue;
		/* a record across two ranges counts once */
		*n_clipped += to - (from > done ? from : done);
		done = to;
		err = paint_one(base, &p);
	}
	return err;
}

static int compile_family(const struct cf_policy *p,
			  const struct cf_classes *cl,
			  const struct cf_reclist *recs, int family,
			  struct cf_crangelist *out, size_t *n_embedded)
{
	static const struct cf_reclist none;
	struct cf_crangelist base = { 0 }, ov = { 0 };
	struct paint *paints = NULL;
	size_t i, n = 0;
	int err;

	if (!recs)
		recs = &none;
	err = base_ranges(cl, recs, cf_af_max(family), &base);
	if (!err && family == CF_AF_V6)
		err = leave_out_embedded(recs, &base, n_embedded);
	if (!err)
		err = collect_paints(p, cl, family, &paints, &n);
	for (i = 0; !err && i < n; i++)
		err = paint_one(&ov, &paints[i]);
	if (!err)
		err = lay_over(&base, &ov, out);
	free(paints);
	crange_free(&base);
	crange_free(&ov);
	return err;
}

/*
 * The ranges go in packed: bounds in the family's width (4 or 16 bytes,
 * little-endian as every target stores them), then the class; a buffer
 * of them at a time, so hashing costs what the bytes cost.
 */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "digest_ranges takes an IPv4 bound as the low bytes of a cf_u128");

static void digest_ranges(struct cf_sha256 *s, const struct cf_crangelist *l,
			  size_t width)
{
	uint8_t buf[4096];
	size_t i, n = 0, step = 2 * width + sizeof(uint32_t);

	for (i = 0; i < l->n; i++) {
		if (n + step > sizeof(buf)) {
			cf_sha256_update(s, buf, n);
			n = 0;
		}
		memcpy(buf + n, &l->v[i].first, width);
		memcpy(buf + n + width, &l->v[i].last, width);
		memcpy(buf + n + 2 * width, &l->v[i].class, sizeof(uint32_t));
		n += step;
	}
	cf_sha256_update(s, buf, n);
}

void cf_compiled_digest(const struct cf_compiled *c, uint8_t out[32])
{
	struct cf_sha256 s;
	uint32_t settings[3] = { c->malformed, c->event_rate, c->event_burst };
	size_t i;

	cf_sha256_init(&s);
	cf_sha256_update(&s, settings, sizeof(settings));
	for (i = 0; i < c->n_classes; i++) {
		struct cf_class_meta m = c->classes[i];

		m.line = m.rule = 0; /* moving a comment is not a new policy */
		cf_sha256_update(&s, &m, sizeof(m));
	}
	digest_ranges(&s, &c->v4, 4);
	digest_ranges(&s, &c->v6, 16);
	cf_sha256_final(&s, out);
}

static void settings(struct cf_compiled *c, const struct cf_policy *p,
		     const struct cf_dbset *dbs)
{
	c->malformed = p->malformed == CF_ALLOW ? CF_VERDICT_PASS : CF_VERDICT_DROP;
	c->event_rate = p->event_rate;
	c->event_burst = p->event_burst;
	c->db_built_at = dbs ? dbs->built_at : 0;
	if (p->path)
		snprintf(c->policy_path, sizeof(c->policy_path), "%s", p->path);
}

int cf_compile(const struct cf_policy *p, const struct cf_dbset *dbs,
	       struct cf_compiled **out, struct cf_err *e)
{
	struct cf_compiled *c = calloc(1, sizeof(*c));
	struct cf_classes cl;
	int err;

	if (!c)
		return cf_err_set(e, ENOMEM, NULL, 0, 0, "out of memory");
	err = cf_classes_build(p, &cl);
	if (err) {
		free(c);
		if (err == -E2BIG)
			return cf_err_set(e, E2BIG, p->path, 0, 0,
					  "policy has more than %u classes (countries, ASNs and net rules)",
					  CF_CLASS_MAX - CF_CLASS_FIXED);
		return cf_err_set(e, -err, NULL, 0, 0, "out of memory");
	}
	err = compile_family(p, &cl, dbs ? &dbs->v4 : NULL, CF_AF_V4, &c->v4,
			     NULL);
	if (!err)
		err = compile_family(p, &cl, dbs ? &dbs->v6 : NULL, CF_AF_V6,
				     &c->v6, &c->n_embedded_v6);
	c->n_classes = cl.n;
	c->classes = cl.v;
	cl.v = NULL;
	cf_classes_free(&cl);
	if (err) {
		cf_compiled_free(c);
		return cf_err_set(e, -err, NULL, 0, 0, "out of memory compiling");
	}
	settings(c, p, dbs);
	cf_compiled_digest(c, c->digest);
	*out = c;
	return 0;
}

void cf_compiled_free(struct cf_compiled *c)
{
	if (!c)
		return;
	free(c->classes);
	crange_free(&c->v4);
	crange_free(&c->v6);
	free(c);
}

uint32_t cf_compiled_class(const struct cf_compiled *c, cf_u128 addr, int family)
{
	const struct cf_crangelist *l = family == CF_AF_V4 ? &c->v4 : &c->v6;
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (l->v[mid].last < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < l->n ? l->v[lo].class : CF_CLASS_DEFAULT;
}
