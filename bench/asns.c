// SPDX-License-Identifier: GPL-2.0-only
/*
 * asns.c - `cfbench pick-asns [DB]`: write the bench policy.
 *
 * Ten denied countries and the 100 ASNs that matter most for them in the
 * given database (default: the packaged location.db): the 90 with the
 * most IPv4 addresses that lie mostly inside the denied countries, and
 * the 10 with the most addresses inside them that lie mostly (but not
 * over 95%) outside: networks with a foothold in a denied country whose
 * ranges abroad only the ASN rule catches.
 * The result is committed as bench/policy.conf, so a run is reproducible
 * without this tool.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "cfbench.h"

#define PACKAGED_DB "/usr/share/libloc-location/location.db"
#define N_IN 90
#define N_OUT 10

static const char *const denied_cc[] = { "CN", "RU", "BY", "KP", "IR",
					 "SY", "CU", "VE", "MM", "AF" };
/* Exceptions: public resolvers inside denied countries, and one ASN. */
static const char *const allow_nets =
	"77.88.8.8 77.88.8.1 114.114.114.114 223.5.5.5 2a02:6b8::feed:ff";
static const uint32_t allow_asn = 13238; /* Yandex */

struct asn_count {
	uint32_t asn;
	double total; /* IPv4 addresses */
	double denied; /* of which in a denied country */
};

static int cc_denied(const char cc[2])
{
	size_t i;

	for (i = 0; i < sizeof(denied_cc) / sizeof(denied_cc[0]); i++)
		if (!memcmp(cc, denied_cc[i], 2))
			return 1;
	return 0;
}

static int by_asn(const void *a, const void *b)
{
	const struct asn_count *x = a, *y = b;

	return x->asn < y->asn ? -1 : x->asn > y->asn;
}

/* Sort by the score in `total` (descending), then ASN for stability. */
static int by_score(const void *a, const void *b)
{
	const struct asn_count *x = a, *y = b;

	if (x->total != y->total)
		return x->total < y->total ? 1 : -1;
	return by_asn(a, b);
}

/* Per-ASN sums over the layered IPv4 records, one entry per ASN. */
static size_t count_asns(const struct cf_reclist *l, struct asn_count *v)
{
	size_t i, k, n = 0;

	for (i = 0; i < l->n; i++) {
		const struct cf_rec *r = &l->v[i];
		double size = (double)(r->last - r->first) + 1;

		if (!(r->has & CF_HAS_ASN) || r->asn == allow_asn)
			continue;
		v[n].asn = r->asn;
		v[n].total = size;
		v[n].denied = (r->has & CF_HAS_CC) && cc_denied(r->cc) ? size :
									 0;
		n++;
	}
	qsort(v, n, sizeof(*v), by_asn);
	for (i = 0, k = 0; i < n; i++) {
		if (k && v[k - 1].asn == v[i].asn) {
			v[k - 1].total += v[i].total;
			v[k - 1].denied += v[i].denied;
		} else {
			v[k++] = v[i];
		}
	}
	return k;
}

/* Keep the ASNs on one side of the 50% line, scored, best first. */
static size_t pick(const struct asn_count *all, size_t n, int inside,
		   struct asn_count *out)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		int in = all[i].denied * 2 > all[i].total;

		/* abroad: a real foothold in a denied country, not a stray
		 * network the database happens to place there */
		if (in != inside || !all[i].denied ||
		    all[i].denied * 20 < all[i].total)
			continue;
		out[k] = all[i];
		out[k].total = inside ? all[i].total : all[i].denied;
		k++;
	}
	qsort(out, k, sizeof(*out), by_score);
	return k;
}

static void print_policy(const char *db, const struct asn_count *in,
			 size_t n_in, const struct asn_count *out, size_t n_out)
{
	size_t i;

	printf("# bench/policy.conf - written by `cfbench pick-asns` (bench/asns.c)\n"
	       "# from %s:\n"
	       "# 10 denied countries; the %zu ASNs with the most IPv4 addresses\n"
	       "# that lie mostly inside them; the %zu with the most addresses\n"
	       "# inside them that lie mostly (not over 95%%) abroad; exceptions.\n",
	       db, n_in, n_out);
	printf("database libloc %s\ndefault allow\ndeny country", db);
	for (i = 0; i < sizeof(denied_cc) / sizeof(denied_cc[0]); i++)
		printf(" %s", denied_cc[i]);
	for (i = 0; i < n_in; i++)
		printf("%s%u", i % 10 ? " " : "\ndeny asn ", in[i].asn);
	for (i = 0; i < n_out; i++)
		printf("%s%u", i % 10 ? " " : "\ndeny asn ", out[i].asn);
	printf("\nallow asn %u\nallow net %s\n", allow_asn, allow_nets);
}

int cmd_pick_asns(int argc, char **argv)
{
	const char *db = argc > 1 ? argv[1] : PACKAGED_DB;
	struct cf_policy pol = { .n_dbs = 1 };
	struct cf_db_ref ref = { .format = CF_DB_AUTO, .path = (char *)db };
	struct asn_count *all = NULL, *in = NULL, *out = NULL;
	struct cf_dbset *dbs = NULL;
	struct cf_err e = {};
	size_t n, n_in, n_out;
	char msg[700];
	int err;

	pol.dbs = &ref;
	err = cf_dbset_load(&pol, &dbs, &e);
	if (err) {
		pr_err("%s", cf_err_str(&e, msg, sizeof(msg)));
		return err;
	}
	all = calloc(dbs->v4.n + 1, sizeof(*all));
	in = calloc(dbs->v4.n + 1, sizeof(*in));
	out = calloc(dbs->v4.n + 1, sizeof(*out));
	if (!all || !in || !out) {
		err = -ENOMEM;
		goto out;
	}
	n = count_asns(&dbs->v4, all);
	n_in = pick(all, n, 1, in);
	n_out = pick(all, n, 0, out);
	if (n_in < N_IN || n_out < N_OUT) {
		pr_err("%s: only %zu + %zu ASNs to pick from", db, n_in, n_out);
		err = -EINVAL;
		goto out;
	}
	print_policy(db, in, N_IN, out, N_OUT);
out:
	free(all);
	free(in);
	free(out);
	cf_dbset_free(dbs);
	return err;
}
