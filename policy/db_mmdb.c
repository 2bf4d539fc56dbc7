// SPDX-License-Identifier: GPL-2.0-only
/*
 * db_mmdb.c - read MaxMind DB (.mmdb) files through libmaxminddb.
 *
 * libmaxminddb answers lookups; we need every network, so we walk the
 * search tree depth first, a prefix per level.  In an IPv6 tree the IPv4
 * networks live under ::/96, and MaxMind's writers alias that subtree at
 * ::ffff:0:0/96 and 2002::/16: the IPv6 walk skips all three so nothing is
 * reported twice or as the wrong family.
 *
 * Two schemas are understood: GeoLite2/GeoIP2 (country.iso_code, else
 * registered_country.iso_code; autonomous_system_number) and the flat one
 * of ip-location-db (country_code; autonomous_system_number or asn).
 * Thousands of networks share one data entry, so each entry is decoded
 * once and cached by its offset.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <maxminddb.h>

#include "db.h"
#include "db_int.h"

/* A decoded data entry; key is the data offset + 1 (0: free slot). */
struct mm_attr {
	uint32_t key;
	uint32_t asn;
	char cc[2];
	uint8_t has;
};

struct mm_priv {
	MMDB_s mmdb;
	bool opened;
	struct mm_attr *cache;
	size_t n, cap;
	struct cf_asmap names;
	bool named; /* every entry decoded, so names is complete */
};

struct mm_walk {
	struct cf_db *db;
	struct mm_priv *p;
	struct cf_err *e;
	struct cf_reclist *out; /* NULL: decode only */
	size_t base;
	int family;
	unsigned bits; /* tree depth: 32 or 128 */
	bool probe; /* stop at the first entry that states something */
	uint64_t visits, max_visits;
};

enum { MM_OUT, MM_IN, MM_PARTIAL };

static const struct {
	cf_u128 addr;
	unsigned len;
} v6_skip[] = {
	{ 0, 96 }, /* the IPv4 subtree */
	{ (cf_u128)0xffff << 32, 96 }, /* IPv4-mapped alias */
	{ (cf_u128)0x2002 << 112, 16 }, /* 6to4 alias */
};

static int mm_corrupt(struct cf_db *db, struct cf_err *e, const char *why)
{
	return cf_err_set(e, EINVAL, db->path, 0, 0, "corrupt mmdb: %s", why);
}

static cf_u128 mask128(unsigned len)
{
	return len ? ~(cf_u128)0 << (128 - len) : 0;
}

/* Does prefix (a, alen) contain prefix (b, blen)?  128-bit tree only. */
static bool contains(cf_u128 a, unsigned alen, cf_u128 b, unsigned blen)
{
	return alen <= blen && !((a ^ b) & mask128(alen));
}

/* Where does the tree prefix (addr, len) lie relative to w's family? */
static int classify(const struct mm_walk *w, cf_u128 addr, unsigned len)
{
	unsigned i;

	if (w->bits == 32)
		return w->family == CF_AF_V4 ? MM_IN : MM_OUT;
	if (w->family == CF_AF_V4) {
		if (contains(0, 96, addr, len))
			return MM_IN;
		return contains(addr, len, 0, 96) ? MM_PARTIAL : MM_OUT;
	}
	for (i = 0; i < ARRAY_SIZE(v6_skip); i++) {
		if (contains(v6_skip[i].addr, v6_skip[i].len, addr, len))
			return MM_OUT;
		if (contains(addr, len, v6_skip[i].addr, v6_skip[i].len))
			return MM_PARTIAL;
	}
	return MM_IN;
}

static size_t cache_find(const struct mm_priv *p, uint32_t key)
{
	size_t i = (key * 2654435761u) & (p->cap - 1);

	while (p->cache[i].key && p->cache[i].key != key)
		i = (i + 1) & (p->cap - 1);
	return i;
}

static int cache_add(struct mm_priv *p, const struct mm_attr *a)
{
	if ((p->n + 1) * 2 > p->cap) {
		struct mm_priv grown = { .cap = p->cap ? p->cap * 2 : 1024 };
		size_t i;

		grown.cache = calloc(grown.cap, sizeof(*grown.cache));
		if (!grown.cache)
			return -ENOMEM;
		for (i = 0; i < p->cap; i++)
			if (p->cache[i].key)
				grown.cache[cache_find(&grown, p->cache[i].key)] =
					p->cache[i];
		free(p->cache);
		p->cache = grown.cache;
		p->cap = grown.cap;
	}
	p->cache[cache_find(p, a->key)] = *a;
	p->n++;
	return 0;
}

/*
 * Look a path up in an entry.  Returns 1 with *d set, 0 when the entry
 * does not have it, or -EINVAL when the data is corrupt.
 */
static int get(MMDB_entry_s *ent, const char *const *path, MMDB_entry_data_s *d)
{
	int rc = MMDB_aget_value(ent, d, path);

	if (rc == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR)
		return 0;
	if (rc != MMDB_SUCCESS)
		return -EINVAL;
	return d->has_data;
}

/* An ASN as a number, or as a string with or without "AS". */
static bool get_asn(const MMDB_entry_data_s *d, uint32_t *asn)
{
	uint64_t v = 0;
	unsigned i = 0;

	switch (d->type) {
	case MMDB_DATA_TYPE_UINT16:
		v = d->uint16;
		break;
	case MMDB_DATA_TYPE_UINT32:
		v = d->uint32;
		break;
	case MMDB_DATA_TYPE_UINT64:
		v = d->uint64;
		break;
	case MMDB_DATA_TYPE_INT32:
		v = d->int32 < 0 ? UINT64_MAX : (uint64_t)d->int32;
		break;
	case MMDB_DATA_TYPE_UTF8_STRING:
		if (d->data_size > 2 && !strncasecmp(d->utf8_string, "AS", 2))
			i = 2;
		if (i == d->data_size)
			return false;
		for (; i < d->data_size && v <= UINT32_MAX; i++) {
			if (d->utf8_string[i] < '0' || d->utf8_string[i] > '9')
				return false;
			v = v * 10 + d->utf8_string[i] - '0';
		}
		break;
	default:
		return false;
	}
	if (v > UINT32_MAX)
		return false;
	*asn = v;
	return true;
}

static const char *const cc_paths[][3] = {
	{ "country_code", NULL },
	{ "country", "iso_code", NULL },
	{ "registered_country", "iso_code", NULL },
};

static const char *const asn_paths[][2] = {
	{ "autonomous_system_number", NULL },
	{ "asn", NULL },
};

static const char *const org_path[] = { "autonomous_system_organization",
					NULL };

/* Decode the attributes we use from the data entry at offset. */
static int decode(struct mm_priv *p, uint32_t offset, struct cf_rec *r)
{
	MMDB_entry_s ent = { .mmdb = &p->mmdb, .offset = offset };
	MMDB_entry_data_s d;
	unsigned i;
	int found;

	for (i = 0; i < ARRAY_SIZE(cc_paths) && !(r->has & CF_HAS_CC); i++) {
		found = get(&ent, cc_paths[i], &d);
		if (found < 0)
			return found;
		if (found && d.type == MMDB_DATA_TYPE_UTF8_STRING)
			cf_db_set_cc(r, d.utf8_string, d.data_size);
	}
	for (i = 0; i < ARRAY_SIZE(asn_paths) && !(r->has & CF_HAS_ASN); i++) {
		found = get(&ent, asn_paths[i], &d);
		if (found < 0)
			return found;
		if (found && get_asn(&d, &r->asn) && r->asn)
			r->has |= CF_HAS_ASN;
	}
	if (!(r->has & CF_HAS_ASN))
		return 0;
	found = get(&ent, org_path, &d);
	if (found <= 0 || d.type != MMDB_DATA_TYPE_UTF8_STRING || !d.data_size)
		return found < 0 ? found : 0;
	return cf_asmap_put(&p->names, r->asn, d.utf8_string, d.data_size);
}

/* r's attributes from the entry at offset, decoded once. */
static int attrs(struct mm_walk *w, uint32_t offset, struct cf_rec *r)
{
	struct mm_priv *p = w->p;
	struct mm_attr a = { .key = offset + 1 };
	int err;

	if (p->cap && p->cache[cache_find(p, a.key)].key) {
		a = p->cache[cache_find(p, a.key)];
		r->has = a.has;
		r->asn = a.asn;
		memcpy(r->cc, a.cc, 2);
		return 0;
	}
	err = decode(p, offset, r);
	if (err == -EINVAL)
		return mm_corrupt(w->db, w->e, "bad data entry");
	a.has = r->has;
	a.asn = r->asn;
	memcpy(a.cc, r->cc, 2);
	if (err || cache_add(p, &a))
		return cf_err_set(w->e, ENOMEM, w->db->path, 0, 0,
				  "out of memory");
	return 0;
}

/* A data entry covers the tree prefix (addr, len), wholly in w's family. */
static int walk_data(struct mm_walk *w, uint32_t offset, cf_u128 addr,
		     unsigned len)
{
	struct cf_rec r = { .family = w->family };
	unsigned host = w->bits - len;
	int err;

	err = attrs(w, offset, &r);
	if (err || !r.has)
		return err;
	if (w->probe)
		return 1;
	if (!w->out)
		return 0;
	r.first = addr;
	r.last = addr | (host == 128 ? ~(cf_u128)0 : ((cf_u128)1 << host) - 1);
	if (cf_db_emit(w->out, w->base, &r))
		return cf_err_set(w->e, ENOMEM, w->db->path, 0, 0,
				  "out of memory");
	return 0;
}

static uint64_t child(const MMDB_search_node_s *n, int right)
{
	if (right)
		return n->right_record_type == MMDB_RECORD_TYPE_DATA ?
			       n->right_record_entry.offset :
			       n->right_record;
	return n->left_record_type == MMDB_RECORD_TYPE_DATA ?
		       n->left_record_entry.offset :
		       n->left_record;
}

/*
 * Visit the record of type type and value rec (a node number or a data
 * offset) found at the tree prefix (addr, len).  A data record whose prefix
 * straddles a skipped range is split until its halves lie on one side.
 * Returns 0, 1 (probe satisfied) or a negative errno.
 */
static int walk(struct mm_walk *w, uint8_t type, uint64_t rec, cf_u128 addr,
		unsigned len)
{
	int where = classify(w, addr, len);
	MMDB_search_node_s n;
	int err;

	if (where == MM_OUT || type == MMDB_RECORD_TYPE_EMPTY)
		return 0;
	if (type == MMDB_RECORD_TYPE_DATA && where == MM_IN)
		return walk_data(w, rec, addr, len);
	if (type == MMDB_RECORD_TYPE_DATA) {
		n.left_record_type = n.right_record_type = type;
		n.left_record_entry.offset = n.right_record_entry.offset = rec;
	} else if (type != MMDB_RECORD_TYPE_SEARCH_NODE) {
		return mm_corrupt(w->db, w->e, "invalid search tree record");
	} else if (len >= w->bits) {
		return mm_corrupt(w->db, w->e, "search tree too deep");
	} else if (++w->visits > w->max_visits) {
		return mm_corrupt(w->db, w->e,
				  "search tree has loops or shared nodes");
	} else if (MMDB_read_node(&w->p->mmdb, rec, &n) != MMDB_SUCCESS) {
		return mm_corrupt(w->db, w->e, "bad search tree node");
	}
	err = walk(w, n.left_record_type, child(&n, 0), addr, len + 1);
	if (!err)
		err = walk(w, n.right_record_type, child(&n, 1),
			   addr | (cf_u128)1 << (w->bits - 1 - len), len + 1);
	return err;
}

static int walk_family(struct cf_db *db, int family, struct cf_reclist *out,
		       bool probe, struct cf_err *e)
{
	struct mm_priv *p = db->priv;
	struct mm_walk w = {
		.db = db,
		.p = p,
		.e = e,
		.out = out,
		.family = family,
		.base = out ? out->n : 0,
		.probe = probe,
		.bits = p->mmdb.metadata.ip_version == 4 ? 32 : 128,
		/* A tree visits each node once; aliases are skipped. */
		.max_visits = 2 * (uint64_t)p->mmdb.metadata.node_count + 64,
	};

	return walk(&w, MMDB_RECORD_TYPE_SEARCH_NODE, 0, 0, 0);
}

static void mm_close(struct cf_db *db)
{
	struct mm_priv *p = db->priv;

	if (!p)
		return;
	if (p->opened)
		MMDB_close(&p->mmdb);
	free(p->cache);
	cf_asmap_free(&p->names);
	free(p);
	db->priv = NULL;
}

/* Does any entry state a country or an ASN we know how to read? */
static int mm_check_schema(struct cf_db *db, struct cf_err *e)
{
	struct mm_priv *p = db->priv;
	const char *type = p->mmdb.metadata.database_type;
	int err;

	err = walk_family(db, CF_AF_V4, NULL, true, e);
	if (!err && p->mmdb.metadata.ip_version == 6)
		err = walk_family(db, CF_AF_V6, NULL, true, e);
	if (err)
		return err < 0 ? err : 0;
	return cf_err_set(e, EINVAL, db->path, 0, 0,
			  "mmdb (type '%s') has no country (country_code, country.iso_code, registered_country.iso_code) or ASN (autonomous_system_number, asn) data",
			  type ? type : "");
}

static int mm_open(struct cf_db *db, struct cf_err *e)
{
	struct mm_priv *p;
	int rc, err;

	p = calloc(1, sizeof(*p));
	if (!p)
		return cf_err_set(e, ENOMEM, db->path, 0, 0, "out of memory");
	db->priv = p;
	rc = MMDB_open(db->path, MMDB_MODE_MMAP, &p->mmdb);
	if (rc == MMDB_FILE_OPEN_ERROR || rc == MMDB_IO_ERROR) {
		err = cf_err_set(e, errno ? errno : EIO, db->path, 0, 0,
				 "cannot read: %s", MMDB_strerror(rc));
		goto out;
	}
	if (rc != MMDB_SUCCESS) {
		err = mm_corrupt(db, e, MMDB_strerror(rc));
		goto out;
	}
	p->opened = true;
	if (p->mmdb.metadata.ip_version != 4 &&
	    p->mmdb.metadata.ip_version != 6) {
		err = mm_corrupt(db, e, "ip_version is neither 4 nor 6");
		goto out;
	}
	db->built_at = p->mmdb.metadata.build_epoch;
	err = mm_check_schema(db, e);
out:
	if (err)
		mm_close(db);
	return err;
}

static int mm_records(struct cf_db *db, int family, struct cf_reclist *out,
		      struct cf_err *e)
{
	struct mm_priv *p = db->priv;

	if (family == CF_AF_V6 && p->mmdb.metadata.ip_version == 4)
		return 0;
	return walk_family(db, family, out, false, e);
}

/*
 * Names come with the entries (autonomous_system_organization), so decode
 * every entry the first time a name is asked for.
 */
static const char *mm_as_name(struct cf_db *db, uint32_t asn)
{
	struct mm_priv *p = db->priv;
	struct cf_err ignored;

	if (!p->named) {
		p->named = true;
		if (!walk_family(db, CF_AF_V4, NULL, false, &ignored) &&
		    p->mmdb.metadata.ip_version == 6)
			walk_family(db, CF_AF_V6, NULL, false, &ignored);
	}
	return cf_asmap_get(&p->names, asn);
}

const struct cf_db_ops cf_db_mmdb_ops = {
	.open = mm_open,
	.close = mm_close,
	.records = mm_records,
	.as_name = mm_as_name,
};
