// SPDX-License-Identifier: GPL-2.0-only
/*
 * prep.c - `cfbench prep POLICY DIR`: compile once, derive every
 * competitor's tables from the same compiled ranges (cfbench.h lists the
 * files), draw the address sets and say how deep each set walks.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "compile.h"
#include "table.h"
#include "cfbench.h"
#include "proto_table.h"

struct prep {
	const char *dir;
	const char *dev; /* device of the nftables ingress chain */
	uint32_t n; /* addresses per set */
	uint64_t seed;
	struct stride_sched s4, s6; /* prototype layout ... */
	bool proto; /* ... used instead of table.c's */
	struct stride_sched ps4, ps6; /* a second, prototype image ... */
	bool second; /* ... built beside table.c's */
	struct cf_image img2;
	struct cf_policy *pol;
	struct cf_dbset *dbs;
	struct cf_compiled *comp;
	struct cf_image img;
	double ms_db, ms_compile, ms_build;
	FILE *json; /* prep.json */
};

/* ---- prefixes of a range ----------------------------------------------- */

typedef int (*prefix_fn)(void *ctx, cf_u128 first, unsigned len);

static cf_u128 low_mask(unsigned k)
{
	return k >= 128 ? ~(cf_u128)0 : (((cf_u128)1) << k) - 1;
}

/* The fewest aligned prefixes that cover [first, last] exactly. */
static int range_prefixes(cf_u128 first, cf_u128 last, unsigned bits,
			  prefix_fn fn, void *ctx)
{
	for (;;) {
		unsigned k = 0;
		int err;

		while (k < bits && !(first & low_mask(k + 1)) &&
		       last - first >= low_mask(k + 1))
			k++;
		err = fn(ctx, first, bits - k);
		if (err)
			return err;
		if (last - first == low_mask(k))
			return 0;
		first += low_mask(k) + 1;
	}
}

/* ---- LPM trie entries -------------------------------------------------- */

struct lpm_acc {
	int family;
	uint32_t class;
	void *v;
	size_t n, cap;
};

static int lpm_add(void *ctx, cf_u128 first, unsigned len)
{
	struct lpm_acc *a = ctx;
	size_t esz = a->family == CF_AF_V4 ? sizeof(struct lpm_ent4) :
					     sizeof(struct lpm_ent6);
	uint8_t b[16];

	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 4096;
		void *v = realloc(a->v, cap * esz);

		if (!v)
			return -ENOMEM;
		a->v = v;
		a->cap = cap;
	}
	cf_addr_to_bytes(first, a->family, b);
	if (a->family == CF_AF_V4) {
		struct lpm_ent4 *e = (struct lpm_ent4 *)a->v + a->n;

		e->key.prefixlen = len;
		memcpy(&e->key.addr, b, 4);
		e->class = a->class;
	} else {
		struct lpm_ent6 *e = (struct lpm_ent6 *)a->v + a->n;

		e->key.prefixlen = len;
		memcpy(e->key.addr, b, 16);
		e->class = a->class;
	}
	a->n++;
	return 0;
}

/* Every range that is not the default class: a miss is the default. */
static int write_lpm(struct prep *p, int family, const char *name)
{
	const struct cf_crangelist *l = family == CF_AF_V4 ? &p->comp->v4 :
							     &p->comp->v6;
	struct lpm_acc a = { .family = family };
	size_t i, esz;
	int err = 0;

	for (i = 0; i < l->n && !err; i++) {
		if (l->v[i].class == CF_CLASS_DEFAULT)
			continue;
		a.class = l->v[i].class;
		err = range_prefixes(l->v[i].first, l->v[i].last,
				     cf_af_bits(family), lpm_add, &a);
	}
	esz = family == CF_AF_V4 ? sizeof(struct lpm_ent4) :
				   sizeof(struct lpm_ent6);
	err = err ?: file_write(p->dir, name, a.v, a.n * esz);
	fprintf(p->json, "\"lpm%d_prefixes\": %zu, ", family, a.n);
	free(a.v);
	return err;
}

/* ---- nftables and ipset ------------------------------------------------- */

struct span {
	cf_u128 first, last;
};

/* The DROP ranges, neighbours merged: what an interval set must hold. */
static size_t drop_spans(const struct prep *p, int family, struct span *out)
{
	const struct cf_crangelist *l = family == CF_AF_V4 ? &p->comp->v4 :
							     &p->comp->v6;
	size_t i, n = 0;

	for (i = 0; i < l->n; i++) {
		const struct cf_crange *r = &l->v[i];

		if (p->comp->classes[r->class].verdict != CF_VERDICT_DROP)
			continue;
		if (n && out[n - 1].last + 1 == r->first)
			out[n - 1].last = r->last;
		else
			out[n++] = (struct span){ r->first, r->last };
	}
	return n;
}

static void nft_set(FILE *f, const char *name, const char *type,
		    const struct span *s, size_t n, int family)
{
	char a[CF_ADDR_STRLEN], b[CF_ADDR_STRLEN];
	size_t i;

	fprintf(f, "\tset %s {\n\t\ttype %s\n\t\tflags interval\n", name, type);
	if (n)
		fprintf(f, "\t\telements = {\n");
	for (i = 0; i < n; i++) {
		cf_addr_format(s[i].first, family, a);
		if (s[i].first == s[i].last)
			fprintf(f, "\t\t\t%s,\n", a);
		else
			fprintf(f, "\t\t\t%s-%s,\n", a,
				cf_addr_format(s[i].last, family, b));
	}
	if (n)
		fprintf(f, "\t\t}\n");
	fprintf(f, "\t}\n");
}

/*
 * One transaction that replaces the table whole: `add` makes the
 * `delete` safe when the table does not exist yet.
 */
static int write_nft(struct prep *p, struct span *s4, size_t n4,
		     struct span *s6, size_t n6)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/nft.conf", p->dir);
	f = fopen(path, "we");
	if (!f)
		return -errno;
	fprintf(f, "add table netdev cfbench\ndelete table netdev cfbench\n");
	fprintf(f, "table netdev cfbench {\n");
	nft_set(f, "deny4", "ipv4_addr", s4, n4, CF_AF_V4);
	nft_set(f, "deny6", "ipv6_addr", s6, n6, CF_AF_V6);
	fprintf(f,
		"\tchain ingress {\n"
		"\t\ttype filter hook ingress device \"%s\" priority filter; policy accept;\n"
		"\t\tip daddr @deny4 counter drop\n"
		"\t\tip6 daddr @deny6 counter drop\n"
		"\t}\n}\n",
		p->dev);
	return fclose(f) ? -errno : 0;
}

struct ipset_acc {
	FILE *f;
	const char *set;
	int family;
	size_t n;
};

static int ipset_add(void *ctx, cf_u128 first, unsigned len)
{
	struct ipset_acc *a = ctx;
	char buf[CF_ADDR_STRLEN];

	fprintf(a->f, "add %s %s/%u\n", a->set,
		cf_addr_format(first, a->family, buf), len);
	a->n++;
	return 0;
}

static int ipset_family(FILE *f, const char *set, int family,
			const struct span *s, size_t n, size_t *count)
{
	struct ipset_acc a = { f, set, family, 0 };
	size_t i;
	int err = 0;

	fprintf(f,
		"create %s hash:net family %s hashsize 65536 maxelem 4194304\n",
		set, family == CF_AF_V4 ? "inet" : "inet6");
	for (i = 0; i < n && !err; i++)
		err = range_prefixes(s[i].first, s[i].last, cf_af_bits(family),
				     ipset_add, &a);
	*count = a.n;
	return err;
}

/* Sets named *-new: restore, then swap with the live ones. */
static int write_ipset(struct prep *p, struct span *s4, size_t n4,
		       struct span *s6, size_t n6)
{
	char path[4096];
	size_t c4 = 0, c6 = 0;
	FILE *f;
	int err;

	snprintf(path, sizeof(path), "%s/ipset.restore", p->dir);
	f = fopen(path, "we");
	if (!f)
		return -errno;
	err = ipset_family(f, "cfb4-new", CF_AF_V4, s4, n4, &c4);
	err = err ?: ipset_family(f, "cfb6-new", CF_AF_V6, s6, n6, &c6);
	if (fclose(f) && !err)
		err = -errno;
	fprintf(p->json, "\"ipset4_cidrs\": %zu, \"ipset6_cidrs\": %zu, ", c4,
		c6);
	return err;
}

static int write_filters(struct prep *p)
{
	struct span *s4 = calloc(p->comp->v4.n, sizeof(*s4));
	struct span *s6 = calloc(p->comp->v6.n, sizeof(*s6));
	size_t n4, n6;
	int err = -ENOMEM;

	if (!s4 || !s6)
		goto out;
	n4 = drop_spans(p, CF_AF_V4, s4);
	n6 = drop_spans(p, CF_AF_V6, s6);
	fprintf(p->json, "\"drop4_intervals\": %zu, \"drop6_intervals\": %zu, ",
		n4, n6);
	err = write_nft(p, s4, n4, s6, n6) ?: write_ipset(p, s4, n4, s6, n6);
out:
	free(s4);
	free(s6);
	return err;
}

/* ---- address sets ------------------------------------------------------- */

enum dist { D_UNIFORM, D_DBNET };

/* A uniform address in [first, last]. */
static cf_u128 in_range(uint64_t *rs, cf_u128 first, cf_u128 last)
{
	cf_u128 r = (cf_u128)rnd_next(rs) << 64 | rnd_next(rs);
	cf_u128 span = last - first;

	return span == ~(cf_u128)0 ? r : first + r % (span + 1);
}

/*
 * Uniform: all of IPv4, or 2000::/3 for IPv6 (elsewhere is unallocated).
 * Dbnet: a database network drawn uniformly, then an address in it: the
 * addresses that exist, weighted towards small networks, where tables are
 * deepest.  IPv4 embedded in IPv6 is left out: the datapath judges it by
 * the IPv4 table, the LPM trie and nftables by the IPv6 one.
 */
static cf_u128 draw(struct prep *p, uint64_t *rs, int family, enum dist d)
{
	const struct cf_reclist *l = family == CF_AF_V4 ? &p->dbs->v4 :
							  &p->dbs->v6;
	const struct cf_rec *r;
	uint32_t v4;
	cf_u128 a;

	do {
		if (d == D_DBNET) {
			r = &l->v[rnd_next(rs) % l->n];
			a = in_range(rs, r->first, r->last);
		} else if (family == CF_AF_V4) {
			a = (uint32_t)rnd_next(rs);
		} else {
			a = in_range(rs, (cf_u128)0x2000 << 112,
				     ((cf_u128)0x4000 << 112) - 1);
		}
	} while (family == CF_AF_V6 && cf_addr_embedded_v4(a, &v4));
	return a;
}

/* Levels below the root the image walk takes for addr (0: root leaf). */
static unsigned depth_of(const uint32_t *w, cf_u128 addr, int family)
{
	unsigned bits = cf_af_bits(family), used = CF_ROOT_BITS, lvl = 0;
	uint32_t e = w[(family == CF_AF_V4 ? CF_V4_ROOT : CF_V6_ROOT) +
		       (uint32_t)(addr >> (bits - CF_ROOT_BITS))];

	while ((e & CF_ENT_NODE) && used < bits) {
		unsigned s =
			((e >> CF_ENT_STRIDE_SHIFT) & CF_ENT_STRIDE_MASK) + 1;
		uint32_t idx =
			(uint32_t)((addr >> (bits - used - s)) & low_mask(s));

		e = w[(e & CF_ENT_BASE_MASK) + idx];
		used += s;
		lvl++;
	}
	return lvl;
}

#define DEPTH_MAX 32

struct set_def {
	const char *name;
	int family;
	enum dist d;
	bool deny_only; /* keep only addresses the policy drops */
};

static int write_set(struct prep *p, const struct set_def *sd, uint32_t n,
		     uint64_t seed)
{
	size_t alen = sd->family == CF_AF_V4 ? 4 : 16;
	size_t len = sizeof(struct set_hdr) + (size_t)n * (alen + 4);
	struct set_hdr *h = calloc(1, len);
	uint64_t hist[DEPTH_MAX + 1] = { 0 }, hist2[DEPTH_MAX + 1] = { 0 };
	uint64_t drops = 0, rs = seed;
	uint8_t *addr = (uint8_t *)(h + 1);
	uint32_t *class = (uint32_t *)(addr + (size_t)n * alen);
	uint8_t b[16];
	char file[64];
	int err, k, deepest = 0, deepest2 = 0;

	if (!h)
		return -ENOMEM;
	*h = (struct set_hdr){ SET_MAGIC, sd->family, n, 0 };
	for (uint32_t i = 0; i < n;) {
		cf_u128 a = draw(p, &rs, sd->family, sd->d);
		uint32_t c = cf_compiled_class(p->comp, a, sd->family);
		bool drop = p->comp->classes[c].verdict == CF_VERDICT_DROP;
		unsigned dep;

		if (sd->deny_only && !drop)
			continue;
		dep = depth_of(p->img.w, a, sd->family);
		cf_addr_to_bytes(a, sd->family, b);
		memcpy(addr + i * alen, b, alen);
		class[i++] = c;
		drops += drop;
		dep = dep < DEPTH_MAX ? dep : DEPTH_MAX;
		hist[dep]++;
		deepest = (int)dep > deepest ? (int)dep : deepest;
		if (!p->second)
			continue;
		dep = depth_of(p->img2.w, a, sd->family);
		dep = dep < DEPTH_MAX ? dep : DEPTH_MAX;
		hist2[dep]++;
		deepest2 = (int)dep > deepest2 ? (int)dep : deepest2;
	}
	snprintf(file, sizeof(file), "set-%s.bin", sd->name);
	err = file_write(p->dir, file, h, len);
	/* depth[k]: share of addresses whose walk reads k nodes below the root */
	fprintf(p->json,
		"\"%s\": {\"n\": %u, \"drop_share\": %.4f, \"depth\": [",
		sd->name, n, (double)drops / n);
	for (k = 0; k <= deepest; k++)
		fprintf(p->json, "%s%.5f", k ? ", " : "", (double)hist[k] / n);
	fprintf(p->json, "], \"depth_proto\": [");
	for (k = 0; p->second && k <= deepest2; k++)
		fprintf(p->json, "%s%.5f", k ? ", " : "", (double)hist2[k] / n);
	fprintf(p->json, "]}, ");
	free(h);
	return err;
}

/*
 * The lookup sets, and for the traffic generator the destinations of a
 * flood of denied traffic (DENY_SET addresses, drawn like the mixed ones).
 */
#define DENY_SET 65536u

static int write_sets(struct prep *p)
{
	static const struct set_def sets[] = {
		{ "v4-uniform", CF_AF_V4, D_UNIFORM, false },
		{ "v4-dbnet", CF_AF_V4, D_DBNET, false },
		{ "v6-dbnet", CF_AF_V6, D_DBNET, false },
		{ "v6-uniform", CF_AF_V6, D_UNIFORM, false },
		{ "v4-deny", CF_AF_V4, D_UNIFORM, true },
		{ "v6-deny", CF_AF_V6, D_DBNET, true },
	};
	size_t i;
	int err = 0;

	fprintf(p->json, "\"sets\": {");
	for (i = 0; i < sizeof(sets) / sizeof(sets[0]) && !err; i++)
		err = write_set(p, &sets[i],
				sets[i].deny_only ? DENY_SET : p->n,
				p->seed + i);
	fprintf(p->json, "\"end\": null}, ");
	return err;
}

/* ---- the pipeline ------------------------------------------------------- */

static int compile(struct prep *p, const char *policy)
{
	struct cf_err e = {};
	char msg[700];
	double t0;
	int err;

	err = cf_policy_load(policy, &p->pol, &e);
	if (!err && !p->pol->n_dbs)
		err = cf_err_set(&e, EINVAL, policy, 0, 0,
				 "the bench policy must name its database");
	t0 = now_ms();
	err = err ?: cf_dbset_load(p->pol, &p->dbs, &e);
	p->ms_db = now_ms() - t0;
	t0 = now_ms();
	err = err ?: cf_compile(p->pol, p->dbs, &p->comp, &e);
	p->ms_compile = now_ms() - t0;
	t0 = now_ms();
	if (p->proto)
		err = err   ?:
			      proto_image_build(p->comp, &p->s4, &p->s6,
						&p->img, &e);
	else
		err = err ?: cf_image_build(p->comp, 1, 0, &p->img, &e);
	p->ms_build = now_ms() - t0;
	if (p->second)
		err = err   ?:
			      proto_image_build(p->comp, &p->ps4, &p->ps6,
						&p->img2, &e);
	if (err)
		pr_err("%s", cf_err_str(&e, msg, sizeof(msg)));
	return err;
}

static int write_image(struct prep *p)
{
	if (p->second) {
		int err = file_write(p->dir, "image-proto.bin", p->img2.w,
				     p->img2.n_words * 4);

		if (err)
			return err;
		fprintf(p->json, "\"proto_image_words\": %zu, ",
			p->img2.n_words);
	}
	fprintf(p->json,
		"\"classes\": %zu, \"v4_ranges\": %zu, \"v6_ranges\": %zu, "
		"\"db_v4_records\": %zu, \"db_v6_records\": %zu, "
		"\"image_words\": %zu, \"image_capacity_words\": %zu, "
		"\"image_nodes\": %zu, \"ms_databases\": %.1f, "
		"\"ms_compile\": %.1f, \"ms_build\": %.1f, ",
		p->comp->n_classes, p->comp->v4.n, p->comp->v6.n, p->dbs->v4.n,
		p->dbs->v6.n, p->img.n_words, p->img.capacity, p->img.n_nodes,
		p->ms_db, p->ms_compile, p->ms_build);
	return file_write(p->dir, "image.bin", p->img.w, p->img.n_words * 4) ?:
		       file_write(p->dir, "classes.bin",
				  p->img.w + CF_CLASS_OFF,
				  p->comp->n_classes * 4);
}

static int prep_args(int argc, char **argv, struct prep *p)
{
	static const struct option opts[] = {
		{ "n", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 's' },
		{ "dev", required_argument, NULL, 'd' },
		{ "v4-strides", required_argument, NULL, '4' },
		{ "v6-strides", required_argument, NULL, '6' },
		{ "proto-v4-strides", required_argument, NULL, 'p' },
		{ "proto-v6-strides", required_argument, NULL, 'P' },
		{},
	};
	uint32_t v;
	int c;

	p->s4 = p->s6 = (struct stride_sched){ { CF_TABLE_STRIDE }, 1 };
	p->ps4 = p->ps6 = p->s4;
	p->n = 1u << 20;
	p->seed = 20240601;
	p->dev = "cfb1";
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'd')
			p->dev = optarg;
		else if (c == '4' || c == '6') {
			if (stride_sched_parse(optarg,
					       c == '4' ? &p->s4 : &p->s6)) {
				pr_err("--v%c-strides '%s': strides 1-24, comma-separated",
				       c, optarg);
				return -EINVAL;
			}
			p->proto = true;
		} else if (c == 'p' || c == 'P') {
			if (stride_sched_parse(optarg,
					       c == 'p' ? &p->ps4 : &p->ps6)) {
				pr_err("--proto-v%c-strides '%s': strides 1-24, comma-separated",
				       c == 'p' ? '4' : '6', optarg);
				return -EINVAL;
			}
			p->second = true;
		} else if (c == 'n' || c == 's') {
			if (parse_u32(c == 'n' ? "--n" : "--seed", optarg, &v))
				return -EINVAL;
			if (c == 's')
				p->seed = v;
			else
				p->n = v;
		} else
			return -EINVAL;
	}
	if (argc - optind != 2 || !p->n || (p->n & (p->n - 1)) ||
	    p->n < DENY_SET) {
		pr_err("usage: cfbench prep POLICY DIR [--n POW2>=%u] [--seed S] [--dev IFACE]\n"
		       "  [--v4-strides S,S...] [--v6-strides S,S...]  (prototype layout instead)\n"
		       "  [--proto-v4-strides S,...] [--proto-v6-strides S,...]  (and image-proto.bin)",
		       DENY_SET);
		return -EINVAL;
	}
	p->dir = argv[optind + 1];
	return 0;
}

int cmd_prep(int argc, char **argv)
{
	struct prep p = {};
	char path[4096];
	int err;

	err = prep_args(argc, argv, &p);
	if (err)
		return err;
	mkdir(p.dir, 0755);
	snprintf(path, sizeof(path), "%s/prep.json", p.dir);
	p.json = fopen(path, "we");
	if (!p.json) {
		pr_err("%s: %s", path, strerror(errno));
		return -errno;
	}
	fprintf(p.json, "{");
	err = compile(&p, argv[optind]);
	err = err ?: write_image(&p);
	err = err ?: write_lpm(&p, CF_AF_V4, "lpm4.bin");
	err = err ?: write_lpm(&p, CF_AF_V6, "lpm6.bin");
	err = err ?: write_filters(&p);
	err = err ?: write_sets(&p);
	fprintf(p.json, "\"ok\": %s}\n", err ? "false" : "true");
	fclose(p.json);
	cf_image_free(&p.img);
	cf_image_free(&p.img2);
	cf_compiled_free(p.comp);
	cf_dbset_free(p.dbs);
	cf_policy_free(p.pol);
	return err;
}
