// SPDX-License-Identifier: GPL-2.0-only
/*
 * dbset.c - the policy's databases, opened and layered.
 *
 * "Later databases override earlier ones for the ranges they cover" is
 * applied per attribute: an overlay CSV of countries changes the country
 * of its ranges and keeps the ASN the base database gives them, so a
 * country mmdb and an ASN CSV combine into one view.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "compile.h"
#include "dbcache.h"

static int same_attrs(const struct cf_rec *a, const struct cf_rec *b)
{
	if (a->has != b->has)
		return 0;
	if ((a->has & CF_HAS_CC) && memcmp(a->cc, b->cc, 2))
		return 0;
	if ((a->has & CF_HAS_ASN) && a->asn != b->asn)
		return 0;
	return 1;
}

/* Append [first, last] with r's attributes, merging with a same neighbour. */
static int emit(struct cf_reclist *out, const struct cf_rec *r, cf_u128 first,
		cf_u128 last)
{
	struct cf_rec *prev = out->n ? &out->v[out->n - 1] : NULL;
	struct cf_rec n = *r;

	if (prev && prev->last + 1 == first && same_attrs(prev, r)) {
		prev->last = last;
		return 0;
	}
	n.first = first;
	n.last = last;
	return cf_reclist_push(out, &n);
}

/* The attributes of base overridden by those over states. */
static struct cf_rec combine(const struct cf_rec *base, const struct cf_rec *over)
{
	struct cf_rec r = { 0 };

	if (base)
		r = *base;
	if (!over)
		return r;
	r.family = over->family;
	if (over->has & CF_HAS_CC) {
		memcpy(r.cc, over->cc, 2);
		r.has |= CF_HAS_CC;
	}
	if (over->has & CF_HAS_ASN) {
		r.asn = over->asn;
		r.has |= CF_HAS_ASN;
	}
	return r;
}

/* Where the segment starting at x ends: the first edge of a or b after x. */
static cf_u128 seg_end(const struct cf_rec *a, int acov, const struct cf_rec *b,
		       int bcov, cf_u128 max)
{
	cf_u128 end = max;

	if (a)
		end = acov ? a->last : a->first - 1;
	if (b) {
		cf_u128 e = bcov ? b->last : b->first - 1;

		if (e < end)
			end = e;
	}
	return end;
}

/*
 * Sweep two sorted, disjoint lists into one where over's attributes win.
 * Linear in the sum of their lengths: the full location.db is 1M ranges.
 */
static int layer(const struct cf_reclist *base, const struct cf_reclist *over,
		 cf_u128 max, struct cf_reclist *out)
{
	size_t i = 0, j = 0;
	cf_u128 x = 0;
	int err;

	for (;;) {
		const struct cf_rec *a, *b;
		struct cf_rec r;
		int acov, bcov;
		cf_u128 end;

		while (i < base->n && base->v[i].last < x)
			i++;
		while (j < over->n && over->v[j].last < x)
			j++;
		a = i < base->n ? &base->v[i] : NULL;
		b = j < over->n ? &over->v[j] : NULL;
		if (!a && !b)
			return 0;
		acov = a && a->first <= x;
		bcov = b && b->first <= x;
		if (!acov && !bcov) {
			x = a && (!b || a->first < b->first) ? a->first : b->first;
			continue;
		}
		end = seg_end(a, acov, b, bcov, max);
		r = combine(acov ? a : NULL, bcov ? b : NULL);
		err = emit(out, &r, x, end);
		if (err)
			return err;
		if (end == max)
			return 0;
		x = end + 1;
	}
}

static int load_family(struct cf_dbset *s, int family, struct cf_reclist *acc,
		       struct cf_err *e)
{
	size_t k;
	int err;

	for (k = 0; k < s->n; k++) {
		struct cf_reclist recs = { 0 }, merged = { 0 };

		err = cf_db_records(s->db[k], family, &recs, e);
		if (!err)
			err = layer(acc, &recs, cf_af_max(family), &merged);
		cf_reclist_free(&recs);
		if (err) {
			cf_reclist_free(&merged);
			if (err == -ENOMEM)
				cf_err_set(e, ENOMEM, cf_db_path(s->db[k]), 0, 0,
					   "out of memory layering the database");
			return err;
		}
		cf_reclist_free(acc);
		*acc = merged;
	}
	return 0;
}

static int open_all(struct cf_dbset *s, const struct cf_policy *p,
		    struct cf_err *e)
{
	size_t k;
	int err;

	s->db = calloc(p->n_dbs ? p->n_dbs : 1, sizeof(*s->db));
	if (!s->db)
		return cf_err_set(e, ENOMEM, NULL, 0, 0, "out of memory");
	for (k = 0; k < p->n_dbs; k++) {
		err = cf_db_open_ref(&p->dbs[k], p->path, &s->db[k], e);
		if (err)
			return err;
		s->n++;
		if (!s->built_at || cf_db_built_at(s->db[k]) < s->built_at)
			s->built_at = cf_db_built_at(s->db[k]);
	}
	return 0;
}

int cf_dbset_load(const struct cf_policy *p, struct cf_dbset **out,
		  struct cf_err *e)
{
	struct cf_dbset *s = calloc(1, sizeof(*s));
	struct dbc_key *keys;
	int err;

	if (!s)
		return cf_err_set(e, ENOMEM, NULL, 0, 0, "out of memory");
	keys = cf_dbcache_keys(p);
	err = open_all(s, p, e);
	if (err || !cf_dbcache_map(p, keys, s))
		goto out;
	err = load_family(s, CF_AF_V4, &s->v4, e);
	if (!err)
		err = load_family(s, CF_AF_V6, &s->v6, e);
	if (!err)
		cf_dbcache_save(p, keys, s); /* a cache, not the load */
out:
	free(keys);
	if (err) {
		cf_dbset_free(s);
		return err;
	}
	*out = s;
	return 0;
}

void cf_dbset_free(struct cf_dbset *s)
{
	size_t k;

	if (!s)
		return;
	for (k = 0; k < s->n; k++)
		cf_db_close(s->db[k]);
	free(s->db);
	if (s->map) {
		munmap(s->map, s->map_len);
	} else {
		cf_reclist_free(&s->v4);
		cf_reclist_free(&s->v6);
	}
	free(s);
}

const struct cf_rec *cf_dbset_find(const struct cf_dbset *s, cf_u128 addr,
				   int family)
{
	const struct cf_reclist *l = family == CF_AF_V4 ? &s->v4 : &s->v6;
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (l->v[mid].last < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < l->n && l->v[lo].first <= addr)
		return &l->v[lo];
	return NULL;
}

const char *cf_dbset_as_name(const struct cf_dbset *s, uint32_t asn)
{
	size_t k;

	for (k = s->n; k-- > 0;) {
		const char *name = cf_db_as_name(s->db[k], asn);

		if (name && *name)
			return name;
	}
	return NULL;
}
